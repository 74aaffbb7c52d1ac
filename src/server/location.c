#include "server/location.h"

#include "sip/uri.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#define STATE_FILE     "registrations.json"
#define FORMAT_VERSION 1

/* A binding and its parsed contact, for RFC 3261 19.1.4 comparison. */
typedef struct
{
  SpBinding b;
  SpSipUri *uri;
} Entry;

struct _SpLocationStore
{
  GObject parent_instance;
  GHashTable *aors; /* aor -> GPtrArray of Entry */
  guint n_bindings;
  guint min_expires;
  guint max_expires;
  guint default_expires;
  guint max_per_aor;
  guint max_total;
  gboolean dirty;
  char *autosave_dir;
  guint autosave_delay;
  GSource *autosave_source;
};

enum
{
  SIGNAL_CHANGED,
  SIGNAL_BINDING_ADDED,
  SIGNAL_BINDING_REMOVED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

G_DEFINE_TYPE (SpLocationStore, sp_location_store, G_TYPE_OBJECT)
G_DEFINE_QUARK (sp - location - error - quark, sp_location_error)
G_DEFINE_BOXED_TYPE (SpBinding, sp_binding, sp_binding_copy, sp_binding_free)

/* --- bindings ------------------------------------------------------------ */

static void
binding_copy_into (SpBinding *dst, const SpBinding *src)
{
  *dst = *src;
  dst->aor = g_strdup (src->aor);
  dst->contact = g_strdup (src->contact);
  dst->call_id = g_strdup (src->call_id);
  dst->source = g_strdup (src->source);
  dst->transport = g_strdup (src->transport);
  dst->user_agent = g_strdup (src->user_agent);
}

static void
binding_clear (SpBinding *binding)
{
  g_free (binding->aor);
  g_free (binding->contact);
  g_free (binding->call_id);
  g_free (binding->source);
  g_free (binding->transport);
  g_free (binding->user_agent);
}

SpBinding *
sp_binding_copy (const SpBinding *binding)
{
  SpBinding *copy = g_new (SpBinding, 1);

  binding_copy_into (copy, binding);
  return copy;
}

void
sp_binding_free (SpBinding *binding)
{
  if (binding == NULL)
    return;
  binding_clear (binding);
  g_free (binding);
}

static void
entry_free (Entry *entry)
{
  binding_clear (&entry->b);
  g_clear_pointer (&entry->uri, sp_sip_uri_free);
  g_free (entry);
}

static Entry *
entry_copy (const Entry *entry)
{
  Entry *copy = g_new0 (Entry, 1);

  binding_copy_into (&copy->b, &entry->b);
  copy->uri = sp_sip_uri_copy (entry->uri);
  return copy;
}

static GPtrArray *
entries_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) entry_free);
}

void
sp_register_result_free (SpRegisterResult *result)
{
  if (result == NULL)
    return;
  g_clear_pointer (&result->bindings, g_ptr_array_unref);
  g_free (result);
}

/* Text from the network, cut to a bound and made valid UTF-8 (it goes
 * into JSON and HTML). NULL stays NULL. */
static char *
bounded_text (const char *text, gsize max)
{
  gsize len;

  if (text == NULL)
    return NULL;
  len = strnlen (text, max);
  return g_utf8_make_valid (text, len);
}

/* --- the object ---------------------------------------------------------- */

static void
autosave_cancel (SpLocationStore *store)
{
  if (store->autosave_source != NULL)
    {
      g_source_destroy (store->autosave_source);
      g_clear_pointer (&store->autosave_source, g_source_unref);
    }
}

static void
sp_location_store_dispose (GObject *object)
{
  SpLocationStore *store = SP_LOCATION_STORE (object);

  if (store->autosave_source != NULL && store->autosave_dir != NULL)
    {
      g_autoptr (GError) error = NULL;

      autosave_cancel (store);
      if (!sp_location_store_save (store, store->autosave_dir, &error))
        g_warning ("Cannot save registrations: %s", error->message);
    }
  G_OBJECT_CLASS (sp_location_store_parent_class)->dispose (object);
}

static void
sp_location_store_finalize (GObject *object)
{
  SpLocationStore *store = SP_LOCATION_STORE (object);

  autosave_cancel (store);
  g_hash_table_unref (store->aors);
  g_free (store->autosave_dir);
  G_OBJECT_CLASS (sp_location_store_parent_class)->finalize (object);
}

static void
sp_location_store_class_init (SpLocationStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sp_location_store_dispose;
  object_class->finalize = sp_location_store_finalize;
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_BINDING_ADDED] =
      g_signal_new ("binding-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, SP_TYPE_BINDING | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[SIGNAL_BINDING_REMOVED] = g_signal_new (
      "binding-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 2, SP_TYPE_BINDING | G_SIGNAL_TYPE_STATIC_SCOPE, G_TYPE_BOOLEAN);
}

static void
sp_location_store_init (SpLocationStore *store)
{
  store->aors =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  store->min_expires = 60;
  store->max_expires = 3600;
  store->default_expires = 3600;
  store->max_per_aor = 10;
  store->max_total = 100000;
}

SpLocationStore *
sp_location_store_new (void)
{
  return g_object_new (SP_TYPE_LOCATION_STORE, NULL);
}

void
sp_location_store_set_expires (SpLocationStore *store, guint min_expires, guint max_expires,
                               guint default_expires)
{
  g_return_if_fail (SP_IS_LOCATION_STORE (store));
  g_return_if_fail (min_expires <= max_expires);
  store->min_expires = min_expires;
  store->max_expires = max_expires;
  store->default_expires = CLAMP (default_expires, MAX (min_expires, 1), max_expires);
}

guint
sp_location_store_get_min_expires (SpLocationStore *store)
{
  return store->min_expires;
}

void
sp_location_store_set_limits (SpLocationStore *store, guint max_per_aor, guint max_total)
{
  g_return_if_fail (SP_IS_LOCATION_STORE (store));
  store->max_per_aor = MAX (max_per_aor, 1);
  store->max_total = MAX (max_total, 1);
}

guint
sp_location_store_get_n_bindings (SpLocationStore *store)
{
  return store->n_bindings;
}

gboolean
sp_location_store_is_dirty (SpLocationStore *store)
{
  return store->dirty;
}

static gboolean
autosave_cb (gpointer data)
{
  SpLocationStore *store = data;
  g_autoptr (GError) error = NULL;

  g_clear_pointer (&store->autosave_source, g_source_unref);
  if (store->autosave_dir != NULL && !sp_location_store_save (store, store->autosave_dir, &error))
    g_warning ("Cannot save registrations: %s", error->message);
  return G_SOURCE_REMOVE;
}

static void
mark_dirty (SpLocationStore *store)
{
  store->dirty = TRUE;
  if (store->autosave_dir == NULL)
    return;
  autosave_cancel (store);
  store->autosave_source = g_timeout_source_new (store->autosave_delay);
  g_source_set_callback (store->autosave_source, autosave_cb, store, NULL);
  g_source_attach (store->autosave_source, g_main_context_get_thread_default ());
}

void
sp_location_store_set_autosave (SpLocationStore *store, const char *state_dir, guint delay_ms)
{
  g_return_if_fail (SP_IS_LOCATION_STORE (store));
  autosave_cancel (store);
  g_free (store->autosave_dir);
  store->autosave_dir = g_strdup (state_dir);
  store->autosave_delay = delay_ms;
}

/* --- helpers on one AOR --------------------------------------------------- */

static void
emit_removed (SpLocationStore *store, GPtrArray *removed, gboolean expired)
{
  for (guint i = 0; i < removed->len; i++)
    {
      Entry *entry = removed->pdata[i];

      g_signal_emit (store, signals[SIGNAL_BINDING_REMOVED], 0, &entry->b, expired);
    }
}

/* Moves the entries of @list expired at @now into @removed. */
static void
take_expired (GPtrArray *list, gint64 now, GPtrArray *removed)
{
  for (guint i = 0; i < list->len;)
    {
      Entry *entry = list->pdata[i];

      if (entry->b.expires <= now)
        g_ptr_array_add (removed, g_ptr_array_steal_index (list, i));
      else
        i++;
    }
}

static int
find_contact (GPtrArray *list, const SpSipUri *uri)
{
  for (guint i = 0; i < list->len; i++)
    if (sp_sip_uri_equal (((Entry *) list->pdata[i])->uri, uri))
      return i;
  return -1;
}

/* Replaces @aor's list with @list (NULL or empty: removes it) and keeps
 * the binding count. */
static void
set_list (SpLocationStore *store, const char *aor, GPtrArray *list)
{
  GPtrArray *old = g_hash_table_lookup (store->aors, aor);

  if (old != NULL)
    store->n_bindings -= old->len;
  if (list == NULL || list->len == 0)
    {
      g_hash_table_remove (store->aors, aor);
      if (list != NULL)
        g_ptr_array_unref (list);
      return;
    }
  store->n_bindings += list->len;
  g_hash_table_replace (store->aors, g_strdup (aor), list);
}

static GPtrArray *
copy_bindings (GPtrArray *list)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) sp_binding_free);

  for (guint i = 0; list != NULL && i < list->len; i++)
    g_ptr_array_add (out, sp_binding_copy (&((Entry *) list->pdata[i])->b));
  return out;
}

static int
compare_by_q (gconstpointer a, gconstpointer b)
{
  const SpBinding *ba = *(SpBinding *const *) a;
  const SpBinding *bb = *(SpBinding *const *) b;

  if (ba->q != bb->q)
    return ba->q > bb->q ? -1 : 1;
  return ba->registered > bb->registered ? -1 : ba->registered < bb->registered;
}

/* --- REGISTER ------------------------------------------------------------- */

static SpRegisterResult *
result_new (guint status, const char *reason)
{
  SpRegisterResult *result = g_new0 (SpRegisterResult, 1);

  result->status = status;
  result->reason = reason;
  return result;
}

/* RFC 3261 10.3 step 7: an update with the same Call-ID must carry a
 * higher CSeq than the binding has. */
static gboolean
out_of_order (const Entry *entry, const SpRegisterRequest *request)
{
  return g_strcmp0 (entry->b.call_id, request->call_id) == 0 && request->cseq <= entry->b.cseq;
}

static SpRegisterResult *
register_wildcard (SpLocationStore *store, const SpRegisterRequest *request, GPtrArray *list)
{
  g_autoptr (GPtrArray) removed = entries_new ();

  if (request->n_contacts != 1 || request->expires_header != 0)
    return result_new (400, "Wildcard Contact needs Expires: 0 and no other Contact");
  for (guint i = 0; list != NULL && i < list->len; i++)
    if (out_of_order (list->pdata[i], request))
      return result_new (500, "Request Out Of Order");
  if (list != NULL)
    {
      GPtrArray *taken = g_ptr_array_ref (list);

      set_list (store, request->aor, NULL);
      g_ptr_array_extend_and_steal (removed, taken);
      emit_removed (store, removed, FALSE);
      mark_dirty (store);
      g_signal_emit (store, signals[SIGNAL_CHANGED], 0, request->aor);
    }
  return result_new (200, "OK");
}

static gint64
contact_expires (SpLocationStore *store, const SpRegisterRequest *request,
                 const SpContactUpdate *contact)
{
  gint64 expires = contact->expires >= 0          ? contact->expires
                   : request->expires_header >= 0 ? request->expires_header
                                                  : store->default_expires;

  return MIN (expires, (gint64) store->max_expires);
}

/* Parses and checks every contact before anything changes (step 6);
 * returns NULL when all are fine, else the failure. */
static SpRegisterResult *
check_contacts (SpLocationStore *store, const SpRegisterRequest *request, GPtrArray *uris)
{
  for (guint i = 0; i < request->n_contacts; i++)
    {
      const SpContactUpdate *contact = &request->contacts[i];
      gint64 expires = contact_expires (store, request, contact);
      SpSipUri *uri;

      if (contact->contact == NULL || strcmp (contact->contact, "*") == 0)
        return result_new (400, "Wildcard Contact needs Expires: 0 and no other Contact");
      if (strlen (contact->contact) > SP_LOCATION_MAX_CONTACT ||
          (uri = sp_sip_uri_parse (contact->contact, -1, NULL)) == NULL)
        return result_new (400, "Bad Contact");
      g_ptr_array_add (uris, uri);
      if (expires > 0 && expires < store->min_expires)
        {
          SpRegisterResult *result = result_new (423, "Interval Too Brief");

          result->min_expires = store->min_expires;
          return result;
        }
    }
  return NULL;
}

static Entry *
entry_new (const SpRegisterRequest *request, const SpContactUpdate *contact, SpSipUri *uri,
           gint64 expires, gint64 now)
{
  Entry *entry = g_new0 (Entry, 1);

  entry->uri = sp_sip_uri_copy (uri);
  entry->b.aor = g_strdup (request->aor);
  entry->b.contact = g_strdup (contact->contact);
  entry->b.expires = now + expires;
  entry->b.call_id = bounded_text (request->call_id, SP_LOCATION_MAX_TEXT);
  entry->b.cseq = request->cseq;
  entry->b.q = contact->q >= 0 ? (guint) MIN (contact->q, 1000) : 1000;
  entry->b.source = bounded_text (request->source, SP_LOCATION_MAX_TEXT);
  entry->b.transport = bounded_text (request->transport, SP_LOCATION_MAX_TEXT);
  entry->b.user_agent = bounded_text (request->user_agent, SP_LOCATION_MAX_TEXT);
  entry->b.registered = now;
  return entry;
}

SpRegisterResult *
sp_location_store_register (SpLocationStore *store, const SpRegisterRequest *request, gint64 now)
{
  g_autoptr (GPtrArray) uris = g_ptr_array_new_with_free_func ((GDestroyNotify) sp_sip_uri_free);
  g_autoptr (GPtrArray) work = entries_new ();
  g_autoptr (GPtrArray) removed = entries_new ();
  g_autoptr (GPtrArray) expired = entries_new ();
  g_autoptr (GPtrArray) added = g_ptr_array_new ();
  GPtrArray *list;
  SpRegisterResult *result;
  gboolean refreshed = FALSE;
  guint old_len;

  g_return_val_if_fail (SP_IS_LOCATION_STORE (store), NULL);
  g_return_val_if_fail (request != NULL && request->aor != NULL, NULL);

  list = g_hash_table_lookup (store->aors, request->aor);
  for (guint i = 0; i < request->n_contacts; i++)
    if (g_strcmp0 (request->contacts[i].contact, "*") == 0)
      return register_wildcard (store, request, list);

  if (request->n_contacts == 0)
    {
      result = result_new (200, "OK");
      result->bindings = sp_location_store_lookup (store, request->aor, now);
      return result;
    }
  result = check_contacts (store, request, uris);
  if (result != NULL)
    return result;

  /* Work on a copy so that a failure half way changes nothing. */
  for (guint i = 0; list != NULL && i < list->len; i++)
    g_ptr_array_add (work, entry_copy (list->pdata[i]));
  take_expired (work, now, expired);
  old_len = work->len;

  for (guint i = 0; i < request->n_contacts; i++)
    {
      const SpContactUpdate *contact = &request->contacts[i];
      gint64 expires = contact_expires (store, request, contact);
      int found = find_contact (work, uris->pdata[i]);

      if (found >= 0 && out_of_order (work->pdata[found], request))
        return result_new (500, "Request Out Of Order");
      if (found >= 0 && expires == 0)
        g_ptr_array_add (removed, g_ptr_array_steal_index (work, found));
      else if (found >= 0)
        {
          Entry *fresh = entry_new (request, contact, uris->pdata[i], expires, now);

          fresh->b.registered = ((Entry *) work->pdata[found])->b.registered;
          entry_free (g_ptr_array_steal_index (work, found));
          g_ptr_array_insert (work, found, fresh);
          refreshed = TRUE;
        }
      else if (expires > 0)
        {
          Entry *fresh = entry_new (request, contact, uris->pdata[i], expires, now);

          g_ptr_array_add (work, fresh);
          g_ptr_array_add (added, fresh);
        }
    }

  if (work->len > store->max_per_aor ||
      (work->len > old_len &&
       store->n_bindings - (list != NULL ? list->len : 0) + work->len > store->max_total))
    return result_new (503, "Too Many Contacts");

  if (refreshed || expired->len > 0 || removed->len > 0 || added->len > 0)
    {
      set_list (store, request->aor, g_ptr_array_ref (work));
      emit_removed (store, expired, TRUE);
      emit_removed (store, removed, FALSE);
      for (guint i = 0; i < added->len; i++)
        g_signal_emit (store, signals[SIGNAL_BINDING_ADDED], 0, &((Entry *) added->pdata[i])->b);
      mark_dirty (store);
      g_signal_emit (store, signals[SIGNAL_CHANGED], 0, request->aor);
    }
  result = result_new (200, "OK");
  result->bindings = copy_bindings (work);
  return result;
}

/* --- queries and maintenance ---------------------------------------------- */

GPtrArray *
sp_location_store_lookup (SpLocationStore *store, const char *aor, gint64 now)
{
  GPtrArray *list;
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) sp_binding_free);

  g_return_val_if_fail (SP_IS_LOCATION_STORE (store), out);
  list = aor != NULL ? g_hash_table_lookup (store->aors, aor) : NULL;
  for (guint i = 0; list != NULL && i < list->len; i++)
    {
      Entry *entry = list->pdata[i];

      if (entry->b.expires > now)
        g_ptr_array_add (out, sp_binding_copy (&entry->b));
    }
  g_ptr_array_sort (out, compare_by_q);
  return out;
}

static int
compare_by_aor (gconstpointer a, gconstpointer b)
{
  const SpBinding *ba = *(SpBinding *const *) a;
  const SpBinding *bb = *(SpBinding *const *) b;
  int c = strcmp (ba->aor, bb->aor);

  return c != 0 ? c : strcmp (ba->contact, bb->contact);
}

GPtrArray *
sp_location_store_list (SpLocationStore *store, gint64 now)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) sp_binding_free);
  GHashTableIter iter;
  gpointer value;

  g_return_val_if_fail (SP_IS_LOCATION_STORE (store), out);
  g_hash_table_iter_init (&iter, store->aors);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      GPtrArray *list = value;

      for (guint i = 0; i < list->len; i++)
        {
          Entry *entry = list->pdata[i];

          if (entry->b.expires > now)
            g_ptr_array_add (out, sp_binding_copy (&entry->b));
        }
    }
  g_ptr_array_sort (out, compare_by_aor);
  return out;
}

guint
sp_location_store_remove_aor (SpLocationStore *store, const char *aor)
{
  g_autoptr (GPtrArray) removed = entries_new ();
  g_autofree char *key = g_strdup (aor);
  GPtrArray *list;

  g_return_val_if_fail (SP_IS_LOCATION_STORE (store), 0);
  list = aor != NULL ? g_hash_table_lookup (store->aors, aor) : NULL;
  if (list == NULL)
    return 0;
  list = g_ptr_array_ref (list);
  set_list (store, key, NULL);
  g_ptr_array_extend_and_steal (removed, list);
  emit_removed (store, removed, FALSE);
  mark_dirty (store);
  g_signal_emit (store, signals[SIGNAL_CHANGED], 0, key);
  return removed->len;
}

guint
sp_location_store_purge (SpLocationStore *store, gint64 now)
{
  g_autoptr (GPtrArray) changed = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) expired = entries_new ();
  GHashTableIter iter;
  gpointer key, value;

  g_return_val_if_fail (SP_IS_LOCATION_STORE (store), 0);
  g_hash_table_iter_init (&iter, store->aors);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      GPtrArray *list = value;
      guint before = expired->len;

      take_expired (list, now, expired);
      if (expired->len == before)
        continue;
      store->n_bindings -= expired->len - before;
      g_ptr_array_add (changed, g_strdup (key));
      if (list->len == 0)
        g_hash_table_iter_remove (&iter);
    }
  if (expired->len == 0)
    return 0;
  /* Signals only once the table is consistent again. */
  emit_removed (store, expired, TRUE);
  mark_dirty (store);
  for (guint i = 0; i < changed->len; i++)
    g_signal_emit (store, signals[SIGNAL_CHANGED], 0, changed->pdata[i]);
  return expired->len;
}

gint64
sp_location_store_get_next_expiry (SpLocationStore *store)
{
  gint64 next = G_MAXINT64;
  GHashTableIter iter;
  gpointer value;

  g_return_val_if_fail (SP_IS_LOCATION_STORE (store), next);
  g_hash_table_iter_init (&iter, store->aors);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      GPtrArray *list = value;

      for (guint i = 0; i < list->len; i++)
        next = MIN (next, ((Entry *) list->pdata[i])->b.expires);
    }
  return next;
}

/* --- persistence ---------------------------------------------------------- */

static void
add_string_member (JsonBuilder *builder, const char *name, const char *value)
{
  if (value == NULL)
    return;
  json_builder_set_member_name (builder, name);
  json_builder_add_string_value (builder, value);
}

static void
add_int_member (JsonBuilder *builder, const char *name, gint64 value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

gboolean
sp_location_store_save (SpLocationStore *store, const char *state_dir, GError **error)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GPtrArray) all = NULL;
  g_autofree char *path = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;

  g_return_val_if_fail (SP_IS_LOCATION_STORE (store), FALSE);
  if (g_mkdir_with_parents (state_dir, 0700) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "Cannot create %s: %s",
                   state_dir, g_strerror (saved));
      return FALSE;
    }
  all = sp_location_store_list (store, G_MININT64);
  json_builder_begin_object (builder);
  add_int_member (builder, "version", FORMAT_VERSION);
  json_builder_set_member_name (builder, "bindings");
  json_builder_begin_array (builder);
  for (guint i = 0; i < all->len; i++)
    {
      SpBinding *b = all->pdata[i];

      json_builder_begin_object (builder);
      add_string_member (builder, "aor", b->aor);
      add_string_member (builder, "contact", b->contact);
      add_int_member (builder, "expires", b->expires);
      add_string_member (builder, "call_id", b->call_id);
      add_int_member (builder, "cseq", b->cseq);
      add_int_member (builder, "q", b->q);
      add_string_member (builder, "source", b->source);
      add_string_member (builder, "transport", b->transport);
      add_string_member (builder, "user_agent", b->user_agent);
      add_int_member (builder, "registered", b->registered);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  data = json_generator_to_data (generator, &len);
  path = g_build_filename (state_dir, STATE_FILE, NULL);
  if (!g_file_set_contents_full (path, data, len, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error))
    return FALSE;
  store->dirty = FALSE;
  return TRUE;
}

static const char *
get_string (JsonObject *object, const char *name, gboolean required, GError **error)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_STRING)
    {
      const char *value = json_node_get_string (node);

      if (strlen (value) <= SP_LOCATION_MAX_CONTACT)
        return value;
    }
  else if (node == NULL && !required)
    return NULL;
  else if (node != NULL && JSON_NODE_HOLDS_NULL (node) && !required)
    return NULL;
  g_set_error (error, SP_LOCATION_ERROR, SP_LOCATION_ERROR_PARSE, "binding has no valid \"%s\"",
               name);
  return NULL;
}

static gboolean
get_int (JsonObject *object, const char *name, gint64 min, gint64 max, gint64 *out, GError **error)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_INT64)
    {
      *out = json_node_get_int (node);
      if (*out >= min && *out <= max)
        return TRUE;
    }
  g_set_error (error, SP_LOCATION_ERROR, SP_LOCATION_ERROR_PARSE, "binding has no valid \"%s\"",
               name);
  return FALSE;
}

static Entry *
load_entry (JsonNode *node, GError **error)
{
  g_autoptr (GError) local = NULL;
  JsonObject *object;
  Entry *entry;
  const char *aor, *contact, *call_id;
  gint64 expires, cseq, q, registered;
  SpSipUri *uri;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error_literal (error, SP_LOCATION_ERROR, SP_LOCATION_ERROR_PARSE,
                           "binding is not an object");
      return NULL;
    }
  object = json_node_get_object (node);
  if ((aor = get_string (object, "aor", TRUE, error)) == NULL ||
      (contact = get_string (object, "contact", TRUE, error)) == NULL ||
      (call_id = get_string (object, "call_id", TRUE, error)) == NULL ||
      !get_int (object, "expires", 0, G_MAXINT64, &expires, error) ||
      !get_int (object, "cseq", 0, G_MAXUINT32, &cseq, error) ||
      !get_int (object, "q", 0, 1000, &q, error) ||
      !get_int (object, "registered", 0, G_MAXINT64, &registered, error))
    return NULL;
  uri = sp_sip_uri_parse (contact, -1, &local);
  if (uri == NULL)
    {
      g_set_error (error, SP_LOCATION_ERROR, SP_LOCATION_ERROR_PARSE, "bad contact %s: %s", contact,
                   local->message);
      return NULL;
    }
  entry = g_new0 (Entry, 1);
  entry->uri = uri;
  entry->b.aor = bounded_text (aor, SP_LOCATION_MAX_TEXT);
  entry->b.contact = g_strdup (contact);
  entry->b.expires = expires;
  entry->b.call_id = bounded_text (call_id, SP_LOCATION_MAX_TEXT);
  entry->b.cseq = cseq;
  entry->b.q = q;
  entry->b.source = bounded_text (get_string (object, "source", FALSE, NULL), SP_LOCATION_MAX_TEXT);
  entry->b.transport =
      bounded_text (get_string (object, "transport", FALSE, NULL), SP_LOCATION_MAX_TEXT);
  entry->b.user_agent =
      bounded_text (get_string (object, "user_agent", FALSE, NULL), SP_LOCATION_MAX_TEXT);
  entry->b.registered = registered;
  return entry;
}

static gboolean
load_bindings (JsonNode *root, gint64 now, GHashTable *aors, guint *count, guint max_total,
               GError **error)
{
  JsonObject *object = JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  JsonNode *array_node = object != NULL ? json_object_get_member (object, "bindings") : NULL;
  JsonArray *array;

  if (array_node == NULL || !JSON_NODE_HOLDS_ARRAY (array_node))
    {
      g_set_error_literal (error, SP_LOCATION_ERROR, SP_LOCATION_ERROR_PARSE,
                           "no \"bindings\" array");
      return FALSE;
    }
  array = json_node_get_array (array_node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      Entry *entry = load_entry (json_array_get_element (array, i), error);
      GPtrArray *list;

      if (entry == NULL)
        {
          g_prefix_error (error, "binding %u: ", i);
          return FALSE;
        }
      if (entry->b.expires <= now || *count >= max_total)
        {
          entry_free (entry);
          continue;
        }
      list = g_hash_table_lookup (aors, entry->b.aor);
      if (list == NULL)
        {
          list = entries_new ();
          g_hash_table_insert (aors, g_strdup (entry->b.aor), list);
        }
      g_ptr_array_add (list, entry);
      (*count)++;
    }
  return TRUE;
}

gboolean
sp_location_store_load (SpLocationStore *store, const char *state_dir, gint64 now, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GHashTable) aors = NULL;
  g_autoptr (GHashTable) old = NULL;
  g_autoptr (GError) local = NULL;
  g_autofree char *path = NULL;
  GHashTableIter iter;
  gpointer key;
  guint count = 0;

  g_return_val_if_fail (SP_IS_LOCATION_STORE (store), FALSE);
  aors =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  path = g_build_filename (state_dir, STATE_FILE, NULL);
  if (!json_parser_load_from_mapped_file (parser, path, &local))
    {
      if (!g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local), "%s: ", path);
          return FALSE;
        }
    }
  else if (!load_bindings (json_parser_get_root (parser), now, aors, &count, store->max_total,
                           error))
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }

  old = g_steal_pointer (&store->aors);
  store->aors = g_steal_pointer (&aors);
  store->n_bindings = count;
  store->dirty = FALSE;
  g_hash_table_iter_init (&iter, old);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (store->aors, key))
      g_signal_emit (store, signals[SIGNAL_CHANGED], 0, key);
  g_hash_table_iter_init (&iter, store->aors);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_signal_emit (store, signals[SIGNAL_CHANGED], 0, key);
  return TRUE;
}
