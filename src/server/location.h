#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* The registrar's location service (RFC 3261 section 10.3): for each
 * address of record (the user name) the contacts it registered, with
 * absolute expiry times. Every function that depends on time takes "now"
 * (UNIX seconds), so the store never reads a clock itself and tests do
 * not sleep. Bindings survive restarts in a JSON file. */

#define SP_LOCATION_ERROR (sp_location_error_quark ())

typedef enum
{
  SP_LOCATION_ERROR_PARSE = 1,
} SpLocationError;

GQuark sp_location_error_quark (void);

/* Longest contact URI, Call-ID, source, transport and User-Agent kept. */
#define SP_LOCATION_MAX_CONTACT 1024
#define SP_LOCATION_MAX_TEXT    256

typedef struct
{
  char *aor;      /* the user name */
  char *contact;  /* contact URI as registered */
  gint64 expires; /* absolute, UNIX seconds */
  char *call_id;
  guint32 cseq;
  guint q;           /* q value times 1000: 0..1000 */
  char *source;      /* "ip:port" the REGISTER came from (NAT) */
  char *transport;   /* "udp", "tcp", ... or NULL */
  char *user_agent;  /* or NULL */
  gint64 registered; /* when this contact was first bound */
} SpBinding;

#define SP_TYPE_BINDING (sp_binding_get_type ())
GType sp_binding_get_type (void);
SpBinding *sp_binding_copy (const SpBinding *binding);
void sp_binding_free (SpBinding *binding);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpBinding, sp_binding_free)

/* One Contact of a REGISTER: its URI text ("*" for the wildcard), its
 * "expires" parameter (-1: none) and its q (-1: none, else 0..1000). */
typedef struct
{
  const char *contact;
  gint64 expires;
  int q;
} SpContactUpdate;

typedef struct
{
  const char *aor;
  const char *call_id;
  guint32 cseq;
  gint64 expires_header; /* the Expires header, -1 when absent */
  const char *source;
  const char *transport;
  const char *user_agent;
  const SpContactUpdate *contacts;
  guint n_contacts; /* 0: a query, nothing changes */
} SpRegisterRequest;

typedef struct
{
  /* 200; 400 (bad wildcard or contact); 423 Interval Too Brief (see
   * min_expires, for the Min-Expires header); 500 (Call-ID/CSeq out of
   * order, RFC 3261 10.3 step 7); 503 (too many contacts). */
  guint status;
  const char *reason; /* reason phrase for the response */
  guint min_expires;  /* with 423 */
  /* With 200: the AOR's bindings after the update (SpBinding copies),
   * for the Contact headers of the response. */
  GPtrArray *bindings;
} SpRegisterResult;

void sp_register_result_free (SpRegisterResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpRegisterResult, sp_register_result_free)

#define SP_TYPE_LOCATION_STORE (sp_location_store_get_type ())
G_DECLARE_FINAL_TYPE (SpLocationStore, sp_location_store, SP, LOCATION_STORE, GObject)

/* Signals, emitted after a change is complete:
 *  "changed" (const char *aor): any change of that AOR's bindings;
 *  "binding-added" (SpBinding *): a contact newly bound;
 *  "binding-removed" (SpBinding *, gboolean expired): unregistered
 *    (Expires 0, "*", remove_aor) or, with expired TRUE, purged. */
SpLocationStore *sp_location_store_new (void);

/* Defaults: min 60, max 3600, default (no Expires at all) 3600 s. */
void sp_location_store_set_expires (SpLocationStore *store, guint min_expires, guint max_expires,
                                    guint default_expires);
guint sp_location_store_get_min_expires (SpLocationStore *store);
/* Per AOR (default 10) and in all (default 100000). */
void sp_location_store_set_limits (SpLocationStore *store, guint max_per_aor, guint max_total);

/* Applies a REGISTER, all or nothing (RFC 3261 10.3 steps 6 to 8). */
SpRegisterResult *sp_location_store_register (SpLocationStore *store,
                                              const SpRegisterRequest *request, gint64 now);
/* The AOR's unexpired bindings, highest q first (then newest): the
 * targets to fork to. SpBinding copies; never NULL. */
GPtrArray *sp_location_store_lookup (SpLocationStore *store, const char *aor, gint64 now);
/* All unexpired bindings, by AOR then contact. */
GPtrArray *sp_location_store_list (SpLocationStore *store, gint64 now);
guint sp_location_store_get_n_bindings (SpLocationStore *store);
/* Removes every binding of @aor (e.g. the user was deleted). */
guint sp_location_store_remove_aor (SpLocationStore *store, const char *aor);
/* Drops bindings with expires <= @now; returns how many. */
guint sp_location_store_purge (SpLocationStore *store, gint64 now);
/* The earliest expiry, or G_MAXINT64 when there is no binding: when to
 * call purge next. */
gint64 sp_location_store_get_next_expiry (SpLocationStore *store);

/* @state_dir/registrations.json, atomically, mode 0600. */
gboolean sp_location_store_save (SpLocationStore *store, const char *state_dir, GError **error);
/* Replaces the bindings with the file's, dropping those expired at @now.
 * A missing file is an empty store; on error nothing changes. */
gboolean sp_location_store_load (SpLocationStore *store, const char *state_dir, gint64 now,
                                 GError **error);
/* After each change, save to @state_dir once @delay_ms have passed
 * without another change (a GLib timeout in the thread-default main
 * context), and on dispose if still pending. NULL turns it off. */
void sp_location_store_set_autosave (SpLocationStore *store, const char *state_dir, guint delay_ms);
gboolean sp_location_store_is_dirty (SpLocationStore *store);

G_END_DECLS
