#include "config.h"

#include <glib/gstdio.h>

#include "server/location.h"
#include "server/server-models.h"
#include "ua/phone-models.h"
#include "tablemodel.h"

/* Removes the test's state directory. */
static void
rm_rf (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        rm_rf (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

/* What the last items-changed said. */
typedef struct
{
  guint calls;
  guint position, removed, added;
  guint batches; /* runs of emissions 10 ms or more apart: updates */
  gint64 last_time;
} Change;

static void
on_items_changed (GListModel *model, guint position, guint removed, guint added, Change *change)
{
  gint64 now = g_get_monotonic_time ();

  if (now - change->last_time >= 10000)
    change->batches++;
  change->last_time = now;
  change->calls++;
  change->position = position;
  change->removed = removed;
  change->added = added;
}

/* Applies what the model has pending (it waits for the main loop). */
static void
settle (GListModel *model)
{
  sp_table_model_flush (SP_TABLE_MODEL (model));
}

static const char *
user_at (GListModel *model, guint i)
{
  g_autoptr (SpTableItem) item = g_list_model_get_item (model, i);

  return item != NULL ? sp_user_get_name (sp_table_item_get_value (item)) : NULL;
}

/* The users' model follows the db: one add or remove is one splice of
 * one row; the rows around it keep their items (and so their widgets). */
static void
test_users_splice (void)
{
  g_autoptr (SpServer) server = sp_server_new (NULL, NULL, NULL);
  SpUserDb *db = sp_server_get_users (server);
  GListModel *model;
  g_autoptr (SpTableItem) first = NULL;
  g_autoptr (SpTableItem) still_first = NULL;
  Change change = { 0 };

  g_assert_true (sp_user_db_add (db, "alice", "1", "pw-a", NULL));
  g_assert_true (sp_user_db_add (db, "carol", "3", "pw-c", NULL));
  model = sp_server_get_users_model (server);
  g_assert_true (model == sp_server_get_users_model (server));
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 2);
  g_assert_true (g_list_model_get_item_type (model) == SP_TYPE_TABLE_ITEM);
  first = g_list_model_get_item (model, 0);
  g_signal_connect (model, "items-changed", G_CALLBACK (on_items_changed), &change);

  g_assert_true (sp_user_db_add (db, "bob", "2", "pw-b", NULL));
  settle (model);
  g_assert_cmpuint (change.calls, ==, 1);
  g_assert_cmpuint (change.position, ==, 1);
  g_assert_cmpuint (change.removed, ==, 0);
  g_assert_cmpuint (change.added, ==, 1);
  g_assert_cmpstr (user_at (model, 0), ==, "alice");
  g_assert_cmpstr (user_at (model, 1), ==, "bob");
  g_assert_cmpstr (user_at (model, 2), ==, "carol");
  still_first = g_list_model_get_item (model, 0);
  g_assert_true (first == still_first);

  /* A new number changes what the row shows: that row only. */
  g_assert_true (sp_user_db_set_number (db, "carol", "33", NULL));
  settle (model);
  g_assert_cmpuint (change.calls, ==, 2);
  g_assert_cmpuint (change.position, ==, 2);
  g_assert_cmpuint (change.removed, ==, 1);
  g_assert_cmpuint (change.added, ==, 1);

  /* A new password is invisible: no change at all. */
  g_assert_true (sp_user_db_set_password (db, "bob", "other", NULL));
  settle (model);
  g_assert_cmpuint (change.calls, ==, 2);

  g_assert_true (sp_user_db_remove (db, "alice", NULL));
  settle (model);
  g_assert_cmpuint (change.calls, ==, 3);
  g_assert_cmpuint (change.position, ==, 0);
  g_assert_cmpuint (change.removed, ==, 1);
  g_assert_cmpuint (change.added, ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 2);
  g_assert_null (g_list_model_get_item (model, 2));
}

static const char *
rule_at (GListModel *model, guint i)
{
  g_autoptr (SpTableItem) item = g_list_model_get_item (model, i);

  return sp_table_item_get_value (item);
}

/* Rules move; the model shows the router's order. */
static void
test_routes_move (void)
{
  g_autoptr (SpServer) server = sp_server_new (NULL, NULL, NULL);
  SpRouter *router = sp_server_get_router (server);
  GListModel *model = sp_server_get_routes_model (server);
  Change change = { 0 };

  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 0);
  g_signal_connect (model, "items-changed", G_CALLBACK (on_items_changed), &change);
  g_assert_true (sp_router_insert_rule (router, -1, "^1$=return;called=a", NULL));
  settle (model);
  g_assert_true (sp_router_insert_rule (router, -1, "^2$=return;called=b", NULL));
  settle (model);
  g_assert_true (sp_router_insert_rule (router, -1, "^3$=return;called=c", NULL));
  settle (model);
  g_assert_cmpuint (change.calls, ==, 3);
  g_assert_true (sp_router_move_rule (router, 2, 0, NULL));
  settle (model);
  g_assert_cmpstr (rule_at (model, 0), ==, "^3$=return;called=c");
  g_assert_cmpstr (rule_at (model, 1), ==, "^1$=return;called=a");
  g_assert_cmpstr (rule_at (model, 2), ==, "^2$=return;called=b");
  g_assert_cmpuint (change.position, ==, 0);
  g_assert_cmpuint (change.removed, ==, 3);
  g_assert_cmpuint (change.added, ==, 3);
  sp_router_clear (router);
  settle (model);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 0);
}

/* The model outlives its source without reading freed memory. */
static void
test_source_gone (void)
{
  SpServer *server = sp_server_new (NULL, NULL, NULL);
  g_autoptr (GListModel) model = g_object_ref (sp_server_get_users_model (server));
  g_autoptr (SpUserDb) db = g_object_ref (sp_server_get_users (server));

  g_assert_true (sp_user_db_add (db, "alice", NULL, "pw", NULL));
  settle (model);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 1);
  g_object_unref (server);
  g_assert_true (sp_user_db_add (db, "bob", NULL, "pw", NULL));
  settle (model);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 2);
  g_clear_object (&db);
  sp_table_model_refresh (SP_TABLE_MODEL (model));
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 0);
}

static void
append_record (SpHistory *history, const char *peer, gint64 start)
{
  SpCallRecord *record = sp_call_record_new ();

  record->peer = g_strdup (peer);
  record->direction = SP_CALL_DIRECTION_OUTGOING;
  record->outcome = SP_CALL_OUTCOME_ANSWERED;
  record->start_time = start;
  g_assert_true (sp_history_append (history, record, NULL));
  sp_call_record_free (record);
}

static const char *
peer_at (GListModel *model, guint i)
{
  g_autoptr (SpTableItem) item = g_list_model_get_item (model, i);
  const SpCallRecord *record = sp_table_item_get_value (item);

  return record->peer;
}

/* The history as the History page shows it: newest first, at most
 * SP_PHONE_HISTORY_MODEL_MAX rows; a call's end adds one row on top. */
static void
test_history_newest_first (void)
{
  g_autofree char *dir = g_dir_make_tmp ("sp-tablemodel-XXXXXX", NULL);
  g_autoptr (SpPhone) phone = sp_phone_new (dir, dir);
  SpHistory *history = sp_phone_get_history (phone);
  GListModel *model;
  Change change = { 0 };

  append_record (history, "sip:1@127.0.0.1", 1000);
  append_record (history, "sip:2@127.0.0.1", 2000);
  model = sp_phone_get_history_model (phone);
  g_assert_true (model == sp_phone_get_history_model (phone));
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 2);
  g_assert_cmpstr (peer_at (model, 0), ==, "sip:2@127.0.0.1");
  g_assert_cmpstr (peer_at (model, 1), ==, "sip:1@127.0.0.1");
  g_signal_connect (model, "items-changed", G_CALLBACK (on_items_changed), &change);

  /* The phone appends, then says the call ended. */
  append_record (history, "sip:3@127.0.0.1", 3000);
  g_signal_emit_by_name (phone, "call-ended", NULL);
  settle (model);
  g_assert_cmpuint (change.calls, ==, 1);
  g_assert_cmpuint (change.position, ==, 0);
  g_assert_cmpuint (change.removed, ==, 0);
  g_assert_cmpuint (change.added, ==, 1);
  g_assert_cmpstr (peer_at (model, 0), ==, "sip:3@127.0.0.1");

  for (guint i = 0; i < SP_PHONE_HISTORY_MODEL_MAX + 10; i++)
    append_record (history, "sip:4@127.0.0.1", 4000 + i);
  g_signal_emit_by_name (phone, "call-ended", NULL);
  settle (model);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, SP_PHONE_HISTORY_MODEL_MAX);
  g_assert_cmpstr (peer_at (model, 0), ==, "sip:4@127.0.0.1");
  g_clear_object (&phone);
  rm_rf (dir);
}

/* ---- Registrations: coalesced and keyed -------------------------------- */

#define N_AORS 500

/* A REGISTER of @contact for @aor (a Call-ID of its own each time). */
static void
register_contact (SpLocationStore *store, const char *aor, const char *contact, gint64 expires)
{
  static guint serial;
  g_autofree char *call_id = g_strdup_printf ("reg-%u", ++serial);
  SpContactUpdate update = { contact, expires, -1 };
  SpRegisterRequest request = {
    .aor = aor,
    .call_id = call_id,
    .cseq = 1,
    .expires_header = -1,
    .source = "127.0.0.1:5060",
    .transport = "udp",
    .user_agent = "test",
    .contacts = &update,
    .n_contacts = 1,
  };
  g_autoptr (SpRegisterResult) result =
      sp_location_store_register (store, &request, g_get_real_time () / G_USEC_PER_SEC);

  g_assert_cmpuint (result->status, ==, 200);
}

static void
fill_store (SpLocationStore *store, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *aor = g_strdup_printf ("u%04u", i);
      g_autofree char *contact = g_strdup_printf ("sip:%s@127.0.0.2:5060", aor);

      register_contact (store, aor, contact, 3600);
    }
}

/* The model holds exactly what the store lists, in its order. */
static void
assert_same_as_store (GListModel *model, SpLocationStore *store)
{
  g_autoptr (GPtrArray) list = sp_location_store_list (store, g_get_real_time () / G_USEC_PER_SEC);

  g_assert_cmpuint (g_list_model_get_n_items (model), ==, list->len);
  for (guint i = 0; i < list->len; i++)
    {
      g_autoptr (SpTableItem) item = g_list_model_get_item (model, i);
      const SpBinding *have = sp_table_item_get_value (item);
      const SpBinding *want = list->pdata[i];

      g_assert_cmpstr (have->aor, ==, want->aor);
      g_assert_cmpstr (have->contact, ==, want->contact);
    }
}

/* Runs the main loop until the model has nothing pending (1 s at most). */
static void
run_until_settled (void)
{
  gint64 end = g_get_monotonic_time () + 3 * SP_TABLE_MODEL_INTERVAL_MS * 1000;

  while (g_get_monotonic_time () < end)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (1000);
}

/* One change of the burst: a refresh (nothing to see), a second contact,
 * an unregistration of a whole AOR, or a new AOR. */
static void
change_store (SpLocationStore *store, guint i)
{
  g_autofree char *aor = g_strdup_printf ("u%04u", (i * 7) % N_AORS);
  g_autofree char *contact = NULL;

  switch (i % 4)
    {
      case 0:
        contact = g_strdup_printf ("sip:%s@127.0.0.2:5060", aor);
        register_contact (store, aor, contact, 3600);
        break;
      case 1:
        contact = g_strdup_printf ("sip:%s@127.0.0.3:%u", aor, 5000 + i);
        register_contact (store, aor, contact, 3600);
        break;
      case 2:
        sp_location_store_remove_aor (store, aor);
        break;
      default:
        g_free (aor);
        aor = g_strdup_printf ("new%04u", i);
        contact = g_strdup_printf ("sip:%s@127.0.0.4:5060", aor);
        register_contact (store, aor, contact, 3600);
        break;
    }
}

/* 1000 REGISTER-driven changes in one burst (the main loop busy all the
 * while, as with a queue of datagrams): nothing is emitted meanwhile, and
 * then one update, whose contents are exact. */
static void
test_registrations_burst (void)
{
  g_autoptr (SpServer) server = sp_server_new (NULL, NULL, NULL);
  SpLocationStore *store = sp_server_get_locations (server);
  GListModel *model;
  Change change = { 0 };

  fill_store (store, N_AORS);
  model = sp_server_get_registrations_model (server);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, N_AORS);
  g_signal_connect (model, "items-changed", G_CALLBACK (on_items_changed), &change);
  for (guint i = 0; i < 1000; i++)
    change_store (store, i);
  g_assert_cmpuint (change.calls, ==, 0);
  run_until_settled ();
  g_test_message ("items-changed after a burst of 1000 changes: %u", change.calls);
  g_assert_cmpuint (change.calls, >=, 1);
  g_assert_cmpuint (change.calls, <=, 2);
  assert_same_as_store (model, store);
}

/* The same 1000 changes spread over the main loop (one per iteration, a
 * datagram at a time): updates at most every SP_TABLE_MODEL_INTERVAL_MS,
 * each reading only the AORs named; the contents end exact. */
static void
test_registrations_paced (void)
{
  g_autoptr (SpServer) server = sp_server_new (NULL, NULL, NULL);
  SpLocationStore *store = sp_server_get_locations (server);
  GListModel *model;
  Change change = { 0 };
  gint64 start, elapsed_ms;

  fill_store (store, N_AORS);
  model = sp_server_get_registrations_model (server);
  g_signal_connect (model, "items-changed", G_CALLBACK (on_items_changed), &change);
  start = g_get_monotonic_time ();
  for (guint i = 0; i < 1000; i++)
    {
      change_store (store, i);
      g_usleep (300);
      while (g_main_context_iteration (NULL, FALSE))
        ;
    }
  elapsed_ms = (g_get_monotonic_time () - start) / 1000;
  run_until_settled ();
  g_test_message ("%u updates (%u items-changed) over %" G_GINT64_FORMAT " ms", change.batches,
                  change.calls, elapsed_ms);
  /* One update per interval at most (and a last one); each splices the
   * rows of the AORs named in its interval. */
  g_assert_cmpuint (change.batches, <=, elapsed_ms / SP_TABLE_MODEL_INTERVAL_MS + 2);
  g_assert_cmpuint (change.calls, <, 1000);
  assert_same_as_store (model, store);
}

/* A few AORs change: only their rows are spliced, rows around them keep
 * their items (and so their widgets). */
static void
test_registrations_keyed (void)
{
  g_autoptr (SpServer) server = sp_server_new (NULL, NULL, NULL);
  SpLocationStore *store = sp_server_get_locations (server);
  GListModel *model;
  g_autoptr (SpTableItem) first = NULL;
  g_autoptr (SpTableItem) last = NULL;
  g_autoptr (SpTableItem) first_after = NULL;
  g_autoptr (SpTableItem) last_after = NULL;
  Change change = { 0 };

  fill_store (store, 10);
  model = sp_server_get_registrations_model (server);
  first = g_list_model_get_item (model, 0);
  last = g_list_model_get_item (model, 9);
  g_signal_connect (model, "items-changed", G_CALLBACK (on_items_changed), &change);

  register_contact (store, "u0005", "sip:u0005@127.0.0.9:5070", 3600);
  settle (model);
  g_assert_cmpuint (change.calls, ==, 1);
  g_assert_cmpuint (change.removed, ==, 0);
  g_assert_cmpuint (change.added, ==, 1);
  g_assert_cmpuint (change.position, >=, 5);
  g_assert_cmpuint (change.position, <=, 6);
  /* A refresh of the same contact: nothing to show. */
  register_contact (store, "u0005", "sip:u0005@127.0.0.9:5070", 3600);
  settle (model);
  g_assert_cmpuint (change.calls, ==, 1);
  /* A new AOR lands in order; one that goes takes its rows. */
  register_contact (store, "u0003a", "sip:u0003a@127.0.0.9:5070", 3600);
  sp_location_store_remove_aor (store, "u0007");
  settle (model);
  g_assert_cmpuint (change.calls, ==, 3);
  first_after = g_list_model_get_item (model, 0);
  last_after = g_list_model_get_item (model, g_list_model_get_n_items (model) - 1);
  g_assert_true (first == first_after);
  g_assert_true (last == last_after);
  assert_same_as_store (model, store);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tablemodel/users-splice", test_users_splice);
  g_test_add_func ("/tablemodel/routes-move", test_routes_move);
  g_test_add_func ("/tablemodel/source-gone", test_source_gone);
  g_test_add_func ("/tablemodel/history-newest-first", test_history_newest_first);
  g_test_add_func ("/tablemodel/registrations-burst", test_registrations_burst);
  g_test_add_func ("/tablemodel/registrations-paced", test_registrations_paced);
  g_test_add_func ("/tablemodel/registrations-keyed", test_registrations_keyed);
  return g_test_run ();
}
