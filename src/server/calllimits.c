#include "server/calllimits.h"

#include "sip/source-key.h"

#include <gio/gio.h>

struct _SpCallLimits
{
  SpCallLimitsSettings settings;
  guint n_calls;
  guint64 n_refused;
  GHashTable *per_source; /* source key -> count (GUINT_TO_POINTER) */
  GHashTable *per_user;   /* user name -> count */
};

void
sp_call_limits_settings_init (SpCallLimitsSettings *settings)
{
  settings->max_calls = SP_CALL_LIMITS_DEFAULT_TOTAL;
  settings->max_calls_per_source = SP_CALL_LIMITS_DEFAULT_PER_SOURCE;
  settings->max_calls_per_user = SP_CALL_LIMITS_DEFAULT_PER_USER;
}

SpCallLimits *
sp_call_limits_new (const SpCallLimitsSettings *settings)
{
  SpCallLimits *limits = g_new0 (SpCallLimits, 1);

  if (settings != NULL)
    limits->settings = *settings;
  else
    sp_call_limits_settings_init (&limits->settings);
  limits->per_source = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  limits->per_user = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return limits;
}

void
sp_call_limits_free (SpCallLimits *limits)
{
  if (limits == NULL)
    return;
  g_hash_table_unref (limits->per_source);
  g_hash_table_unref (limits->per_user);
  g_free (limits);
}

void
sp_call_limits_set (SpCallLimits *limits, const SpCallLimitsSettings *settings)
{
  limits->settings = *settings;
}

const SpCallLimitsSettings *
sp_call_limits_get (SpCallLimits *limits)
{
  return &limits->settings;
}

static guint
count_of (GHashTable *table, const char *key)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (table, key));
}

static void
add_count (GHashTable *table, const char *key, int delta)
{
  guint n = count_of (table, key);

  if (delta < 0 && n <= 1)
    g_hash_table_remove (table, key);
  else
    g_hash_table_replace (table, g_strdup (key), GUINT_TO_POINTER (n + delta));
}

static gboolean
over (guint cap, guint count)
{
  return cap > 0 && count >= cap;
}

SpCallLimit
sp_call_limits_admit (SpCallLimits *limits, const char *source_host, const char *user)
{
  g_autofree char *source = sp_sip_source_key (source_host);
  SpCallLimit refused = SP_CALL_LIMIT_NONE;

  if (over (limits->settings.max_calls, limits->n_calls))
    refused = SP_CALL_LIMIT_TOTAL;
  else if (over (limits->settings.max_calls_per_source, count_of (limits->per_source, source)))
    refused = SP_CALL_LIMIT_SOURCE;
  else if (user != NULL &&
           over (limits->settings.max_calls_per_user, count_of (limits->per_user, user)))
    refused = SP_CALL_LIMIT_USER;
  if (refused != SP_CALL_LIMIT_NONE)
    {
      limits->n_refused++;
      return refused;
    }
  limits->n_calls++;
  add_count (limits->per_source, source, 1);
  if (user != NULL)
    add_count (limits->per_user, user, 1);
  return SP_CALL_LIMIT_NONE;
}

void
sp_call_limits_release (SpCallLimits *limits, const char *source_host, const char *user)
{
  g_autofree char *source = sp_sip_source_key (source_host);

  g_return_if_fail (limits->n_calls > 0);
  limits->n_calls--;
  add_count (limits->per_source, source, -1);
  if (user != NULL)
    add_count (limits->per_user, user, -1);
}

guint
sp_call_limits_get_n_calls (SpCallLimits *limits)
{
  return limits->n_calls;
}

guint64
sp_call_limits_get_n_refused (SpCallLimits *limits)
{
  return limits->n_refused;
}

const char *
sp_call_limit_to_string (SpCallLimit limit)
{
  switch (limit)
    {
      case SP_CALL_LIMIT_TOTAL:
        return "calls in total";
      case SP_CALL_LIMIT_SOURCE:
        return "calls from this address";
      case SP_CALL_LIMIT_USER:
        return "calls of this user";
      case SP_CALL_LIMIT_NONE:
      default:
        return "none";
    }
}
