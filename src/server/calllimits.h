#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Caps on the calls the B2BUA carries at once: in total, per source
 * address (IPv6 counted by /64, as one host usually owns one) and per
 * authenticated user. Unauthenticated callers are counted only by
 * source: a From user they made up is no identity. A call past a cap is
 * refused (the B2BUA answers 503 with Retry-After) and costs nothing.
 * 0 means no cap. Main loop only. */

typedef struct
{
  guint max_calls;
  guint max_calls_per_source;
  guint max_calls_per_user;
} SpCallLimitsSettings;

/* Defaults for a small office: 100 calls, 20 per address, 10 per user. */
#define SP_CALL_LIMITS_DEFAULT_TOTAL      100
#define SP_CALL_LIMITS_DEFAULT_PER_SOURCE 20
#define SP_CALL_LIMITS_DEFAULT_PER_USER   10

typedef enum
{
  SP_CALL_LIMIT_NONE, /* admitted */
  SP_CALL_LIMIT_TOTAL,
  SP_CALL_LIMIT_SOURCE,
  SP_CALL_LIMIT_USER,
} SpCallLimit;

typedef struct _SpCallLimits SpCallLimits;

void sp_call_limits_settings_init (SpCallLimitsSettings *settings);

SpCallLimits *sp_call_limits_new (const SpCallLimitsSettings *settings);
void sp_call_limits_free (SpCallLimits *limits);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpCallLimits, sp_call_limits_free)

/* New caps apply to calls admitted from now on. */
void sp_call_limits_set (SpCallLimits *limits, const SpCallLimitsSettings *settings);
const SpCallLimitsSettings *sp_call_limits_get (SpCallLimits *limits);

/* Counts a call from @source_host (numeric) by @user (authenticated
 * user name, or NULL) when every cap allows it; else counts nothing and
 * says which cap refused it. Each admitted call is released once. */
SpCallLimit sp_call_limits_admit (SpCallLimits *limits, const char *source_host, const char *user);
void sp_call_limits_release (SpCallLimits *limits, const char *source_host, const char *user);

guint sp_call_limits_get_n_calls (SpCallLimits *limits);
/* Calls refused so far, per cap. */
guint64 sp_call_limits_get_n_refused (SpCallLimits *limits);

const char *sp_call_limit_to_string (SpCallLimit limit);

G_END_DECLS
