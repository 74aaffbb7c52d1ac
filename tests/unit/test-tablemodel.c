#include "config.h"

#include <glib/gstdio.h>

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
} Change;

static void
on_items_changed (GListModel *model, guint position, guint removed, guint added, Change *change)
{
  change->calls++;
  change->position = position;
  change->removed = removed;
  change->added = added;
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
  g_assert_cmpuint (change.calls, ==, 2);
  g_assert_cmpuint (change.position, ==, 2);
  g_assert_cmpuint (change.removed, ==, 1);
  g_assert_cmpuint (change.added, ==, 1);

  /* A new password is invisible: no change at all. */
  g_assert_true (sp_user_db_set_password (db, "bob", "other", NULL));
  g_assert_cmpuint (change.calls, ==, 2);

  g_assert_true (sp_user_db_remove (db, "alice", NULL));
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
  g_assert_true (sp_router_insert_rule (router, -1, "^2$=return;called=b", NULL));
  g_assert_true (sp_router_insert_rule (router, -1, "^3$=return;called=c", NULL));
  g_assert_cmpuint (change.calls, ==, 3);
  g_assert_true (sp_router_move_rule (router, 2, 0, NULL));
  g_assert_cmpstr (rule_at (model, 0), ==, "^3$=return;called=c");
  g_assert_cmpstr (rule_at (model, 1), ==, "^1$=return;called=a");
  g_assert_cmpstr (rule_at (model, 2), ==, "^2$=return;called=b");
  g_assert_cmpuint (change.position, ==, 0);
  g_assert_cmpuint (change.removed, ==, 3);
  g_assert_cmpuint (change.added, ==, 3);
  sp_router_clear (router);
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
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 1);
  g_object_unref (server);
  g_assert_true (sp_user_db_add (db, "bob", NULL, "pw", NULL));
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
  g_assert_cmpuint (change.calls, ==, 1);
  g_assert_cmpuint (change.position, ==, 0);
  g_assert_cmpuint (change.removed, ==, 0);
  g_assert_cmpuint (change.added, ==, 1);
  g_assert_cmpstr (peer_at (model, 0), ==, "sip:3@127.0.0.1");

  for (guint i = 0; i < SP_PHONE_HISTORY_MODEL_MAX + 10; i++)
    append_record (history, "sip:4@127.0.0.1", 4000 + i);
  g_signal_emit_by_name (phone, "call-ended", NULL);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, SP_PHONE_HISTORY_MODEL_MAX);
  g_assert_cmpstr (peer_at (model, 0), ==, "sip:4@127.0.0.1");
  g_clear_object (&phone);
  rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tablemodel/users-splice", test_users_splice);
  g_test_add_func ("/tablemodel/routes-move", test_routes_move);
  g_test_add_func ("/tablemodel/source-gone", test_source_gone);
  g_test_add_func ("/tablemodel/history-newest-first", test_history_newest_first);
  return g_test_run ();
}
