#include "server/server-models.h"

/* The models hang on the server object itself (object data) rather than
 * in SpServer's struct: they are a view of its public tables, made only
 * when a front end asks for one. */

static GListModel *
get_model (SpServer *server, const char *key, GObject *source, const char *signal,
           SpTableSnapshotFunc snapshot, GEqualFunc same, GDestroyNotify free_value)
{
  SpTableModel *model = g_object_get_data (G_OBJECT (server), key);

  if (model == NULL)
    {
      model = sp_table_model_new (source, signal, snapshot, same, free_value);
      g_object_set_data_full (G_OBJECT (server), key, model, g_object_unref);
    }
  return G_LIST_MODEL (model);
}

/* Users. */

static GPtrArray *
snapshot_users (gpointer source)
{
  return sp_user_db_list (SP_USER_DB (source));
}

static gboolean
same_user (gconstpointer a, gconstpointer b)
{
  return g_str_equal (sp_user_get_name (a), sp_user_get_name (b)) &&
         g_strcmp0 (sp_user_get_number (a), sp_user_get_number (b)) == 0;
}

GListModel *
sp_server_get_users_model (SpServer *server)
{
  g_return_val_if_fail (SP_IS_SERVER (server), NULL);
  return get_model (server, "sp-users-model", G_OBJECT (sp_server_get_users (server)), "changed",
                    snapshot_users, same_user, (GDestroyNotify) sp_user_unref);
}

/* Routes. */

static GPtrArray *
snapshot_routes (gpointer source)
{
  SpRouter *router = SP_ROUTER (source);
  guint n = sp_router_get_n_rules (router);
  GPtrArray *rules = g_ptr_array_new_full (n, g_free);

  for (guint i = 0; i < n; i++)
    {
      char *rule = sp_router_dup_rule (router, i);

      g_ptr_array_add (rules, rule != NULL ? rule : g_strdup (""));
    }
  return rules;
}

GListModel *
sp_server_get_routes_model (SpServer *server)
{
  g_return_val_if_fail (SP_IS_SERVER (server), NULL);
  return get_model (server, "sp-routes-model", G_OBJECT (sp_server_get_router (server)), "changed",
                    snapshot_routes, g_str_equal, g_free);
}

/* Registrations. */

static int
compare_bindings (gconstpointer a, gconstpointer b)
{
  const SpBinding *x = *(const SpBinding *const *) a;
  const SpBinding *y = *(const SpBinding *const *) b;
  int by_aor = g_strcmp0 (x->aor, y->aor);

  return by_aor != 0 ? by_aor : g_strcmp0 (x->contact, y->contact);
}

static GPtrArray *
snapshot_registrations (gpointer source)
{
  GPtrArray *bindings =
      sp_location_store_list (SP_LOCATION_STORE (source), g_get_real_time () / G_USEC_PER_SEC);

  g_ptr_array_sort (bindings, compare_bindings);
  return bindings;
}

/* A refresh moves the expiry on; the row shows who and where only. */
static gboolean
same_binding (gconstpointer a, gconstpointer b)
{
  const SpBinding *x = a, *y = b;

  return g_strcmp0 (x->aor, y->aor) == 0 && g_strcmp0 (x->contact, y->contact) == 0;
}

/* One AOR's rows, for a REGISTER: the store says which AOR changed, so
 * an update reads that AOR's bindings, not all of them. */
static GPtrArray *
snapshot_registrations_of (gpointer source, const char *aor)
{
  GPtrArray *bindings = sp_location_store_lookup (SP_LOCATION_STORE (source), aor,
                                                  g_get_real_time () / G_USEC_PER_SEC);

  g_ptr_array_sort (bindings, compare_bindings);
  return bindings;
}

static int
compare_binding_aor (gconstpointer value, const char *aor)
{
  return g_strcmp0 (((const SpBinding *) value)->aor, aor);
}

GListModel *
sp_server_get_registrations_model (SpServer *server)
{
  GListModel *model;

  g_return_val_if_fail (SP_IS_SERVER (server), NULL);
  model =
      get_model (server, "sp-registrations-model", G_OBJECT (sp_server_get_locations (server)),
                 "changed", snapshot_registrations, same_binding, (GDestroyNotify) sp_binding_free);
  sp_table_model_set_keyed (SP_TABLE_MODEL (model), snapshot_registrations_of, compare_binding_aor);
  return model;
}

/* Calls. */

static GPtrArray *
snapshot_calls (gpointer source)
{
  return sp_server_call_list_get_calls (SP_SERVER_CALL_LIST (source));
}

static gboolean
same_call (gconstpointer a, gconstpointer b)
{
  const SpServerCall *x = a, *y = b;

  return g_strcmp0 (x->id, y->id) == 0 && g_strcmp0 (x->state, y->state) == 0 &&
         g_strcmp0 (x->callee, y->callee) == 0 && x->answered == y->answered;
}

GListModel *
sp_server_get_calls_model (SpServer *server)
{
  g_return_val_if_fail (SP_IS_SERVER (server), NULL);
  return get_model (server, "sp-calls-model", G_OBJECT (sp_server_get_calls (server)), "changed",
                    snapshot_calls, same_call, (GDestroyNotify) sp_server_call_free);
}
