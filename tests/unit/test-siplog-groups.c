#include "config.h"

#include <string.h>

#include "ua/siplog-groups.h"

#define ME   "127.0.0.183:5060"
#define PEER "127.0.0.101:5060"

/* Appends one message: a request when first is a method, else a
 * response to cseq_method with that status line. */
static void
add (SpSipLog *log, SpSipLogDirection direction, const char *first, const char *call_id, guint cseq,
     const char *cseq_method)
{
  gboolean request = !g_str_has_prefix (first, "SIP/2.0");
  g_autofree char *raw =
      g_strdup_printf ("%s%s\r\nCall-ID: %s\r\nCSeq: %u %s\r\nContent-Length: 0\r\n\r\n", first,
                       request ? " sip:x@127.0.0.101 SIP/2.0" : "", call_id, cseq, cseq_method);
  gboolean sent = direction == SP_SIP_LOG_DIRECTION_SENT;
  g_autoptr (SpSipLogEntry) entry = sp_sip_log_entry_new (
      g_get_real_time (), direction, sent ? ME : PEER, sent ? PEER : ME, raw, strlen (raw));

  sp_sip_log_append (log, entry);
}

static void
add_call (SpSipLog *log, const char *call_id)
{
  add (log, SP_SIP_LOG_DIRECTION_SENT, "INVITE", call_id, 1, "INVITE");
  add (log, SP_SIP_LOG_DIRECTION_RECEIVED, "SIP/2.0 100 Trying", call_id, 1, "INVITE");
  add (log, SP_SIP_LOG_DIRECTION_RECEIVED, "SIP/2.0 200 OK", call_id, 1, "INVITE");
  add (log, SP_SIP_LOG_DIRECTION_SENT, "ACK", call_id, 1, "ACK");
}

/* A keep-alive as a peer sends it: a new Call-ID every time. */
static void
add_keepalive (SpSipLog *log, guint i)
{
  g_autofree char *call_id = g_strdup_printf ("ka-%u@127.0.0.101", i);

  add (log, SP_SIP_LOG_DIRECTION_RECEIVED, "OPTIONS", call_id, 1, "OPTIONS");
  add (log, SP_SIP_LOG_DIRECTION_SENT, "SIP/2.0 200 OK", call_id, 1, "OPTIONS");
}

static SpSipLogGroup *
group_at (SpSipLogGroups *groups, guint position)
{
  /* The model keeps its own reference while listed. */
  SpSipLogGroup *group = g_list_model_get_item (G_LIST_MODEL (groups), position);

  g_object_unref (group);
  return group;
}

static SpSipLogEntry *
entry_at (SpSipLog *log, guint position)
{
  SpSipLogEntry *entry = g_list_model_get_item (G_LIST_MODEL (log), position);

  g_object_unref (entry);
  return entry;
}

/* A call, a registration refreshed under one Call-ID and a flood of
 * keep-alives, each with its own Call-ID: three groups besides "all",
 * however many keep-alives; they go when the log drops their messages. */
static void
test_keepalives_grouped (void)
{
  g_autoptr (SpSipLog) log = sp_sip_log_new (100);
  g_autoptr (SpSipLogGroups) groups = sp_sip_log_groups_new (log, 50);
  GListModel *model = G_LIST_MODEL (groups);
  SpSipLogGroup *call, *reg, *options;

  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 1);
  g_assert_cmpint (sp_sip_log_group_get_kind (group_at (groups, 0)), ==, SP_SIP_LOG_GROUP_ALL);

  add_call (log, "call-1@127.0.0.183");
  for (guint i = 0; i < 2; i++)
    {
      add (log, SP_SIP_LOG_DIRECTION_SENT, "REGISTER", "reg-1@127.0.0.183", 2 * i + 1, "REGISTER");
      add (log, SP_SIP_LOG_DIRECTION_RECEIVED, "SIP/2.0 200 OK", "reg-1@127.0.0.183", 2 * i + 1,
           "REGISTER");
    }
  for (guint i = 0; i < 30; i++)
    add_keepalive (log, i);

  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 4);
  /* Held as the window holds the group it shows. */
  call = g_object_ref (group_at (groups, 1));
  reg = group_at (groups, 2);
  options = group_at (groups, 3);
  g_assert_true (sp_sip_log_group_is_listed (call));
  g_assert_cmpint (sp_sip_log_group_get_kind (call), ==, SP_SIP_LOG_GROUP_CALL);
  g_assert_cmpstr (sp_sip_log_group_get_method (call), ==, "INVITE");
  g_assert_cmpstr (sp_sip_log_group_get_peer (call), ==, PEER);
  g_assert_cmpstr (sp_sip_log_group_get_call_id (call), ==, "call-1@127.0.0.183");
  g_assert_cmpuint (sp_sip_log_group_get_n_messages (call), ==, 4);
  g_assert_cmpint (sp_sip_log_group_get_kind (reg), ==, SP_SIP_LOG_GROUP_REGISTRATION);
  g_assert_cmpuint (sp_sip_log_group_get_n_messages (reg), ==, 4);
  g_assert_cmpint (sp_sip_log_group_get_kind (options), ==, SP_SIP_LOG_GROUP_OTHER);
  g_assert_cmpstr (sp_sip_log_group_get_method (options), ==, "OPTIONS");
  g_assert_null (sp_sip_log_group_get_peer (options));
  g_assert_cmpuint (sp_sip_log_group_get_n_messages (options), ==, 60);
  g_assert_cmpuint (sp_sip_log_group_get_n_messages (group_at (groups, 0)), ==, 68);

  /* The filter: the call's ACK, a keep-alive's 200 and the registration. */
  g_assert_true (sp_sip_log_groups_match (groups, call, entry_at (log, 3)));
  g_assert_false (sp_sip_log_groups_match (groups, call, entry_at (log, 8)));
  g_assert_true (sp_sip_log_groups_match (groups, options, entry_at (log, 9)));
  g_assert_true (sp_sip_log_groups_match (groups, reg, entry_at (log, 6)));
  g_assert_true (sp_sip_log_groups_match (groups, group_at (groups, 0), entry_at (log, 9)));
  g_assert_true (sp_sip_log_groups_lookup (groups, entry_at (log, 0)) == call);

  /* 80 more messages: the log (100) drops the call, the registration and
   * some keep-alives; their groups go with them. */
  for (guint i = 30; i < 70; i++)
    add_keepalive (log, i);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 2);
  g_assert_false (sp_sip_log_group_is_listed (call));
  g_assert_false (sp_sip_log_groups_match (groups, call, entry_at (log, 0)));
  options = group_at (groups, 1);
  g_assert_cmpstr (sp_sip_log_group_get_method (options), ==, "OPTIONS");
  g_assert_cmpuint (sp_sip_log_group_get_n_messages (options), ==, 100);

  /* A new call after the flood has its own entry again. */
  add_call (log, "call-2@127.0.0.183");
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 3);
  g_assert_cmpstr (sp_sip_log_group_get_call_id (group_at (groups, 2)), ==, "call-2@127.0.0.183");

  sp_sip_log_clear (log);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 1);
  g_assert_cmpuint (sp_sip_log_group_get_n_messages (group_at (groups, 0)), ==, 0);
  g_object_unref (call);
}

/* An OPTIONS inside a call (a session timer's probe) stays with the call. */
static void
test_in_dialog_options (void)
{
  g_autoptr (SpSipLog) log = sp_sip_log_new (100);
  g_autoptr (SpSipLogGroups) groups = sp_sip_log_groups_new (log, 50);

  add_call (log, "call-1@127.0.0.183");
  add (log, SP_SIP_LOG_DIRECTION_RECEIVED, "OPTIONS", "call-1@127.0.0.183", 2, "OPTIONS");
  add (log, SP_SIP_LOG_DIRECTION_SENT, "BYE", "call-1@127.0.0.183", 3, "BYE");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (groups)), ==, 2);
  g_assert_cmpuint (sp_sip_log_group_get_n_messages (group_at (groups, 1)), ==, 6);
  g_assert_true (sp_sip_log_groups_match (groups, group_at (groups, 1), entry_at (log, 4)));
}

/* More calls than max_groups: the one idle longest leaves the list, its
 * messages stay in the log. */
static void
test_max_groups (void)
{
  g_autoptr (SpSipLog) log = sp_sip_log_new (1000);
  g_autoptr (SpSipLogGroups) groups = sp_sip_log_groups_new (log, 5);
  GListModel *model = G_LIST_MODEL (groups);
  const char *expected[] = { "c0", "c2", "c3", "c4", "c5" };

  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *call_id = g_strdup_printf ("c%u", i);
      add_call (log, call_id);
    }
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 6);
  /* c0 hangs up: now c1 is the one idle longest. */
  add (log, SP_SIP_LOG_DIRECTION_SENT, "BYE", "c0", 2, "BYE");
  add_call (log, "c5");
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 6);
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_cmpstr (sp_sip_log_group_get_call_id (group_at (groups, i + 1)), ==, expected[i]);
  /* c1's INVITE is still in the log, now only under "all". */
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (log)), ==, 25);
  g_assert_cmpint (sp_sip_log_group_get_kind (sp_sip_log_groups_lookup (groups, entry_at (log, 4))),
                   ==, SP_SIP_LOG_GROUP_ALL);

  /* 1000 more calls: never more than 5 groups. */
  for (guint i = 6; i < 1006; i++)
    {
      g_autofree char *call_id = g_strdup_printf ("c%u", i);
      add_call (log, call_id);
      g_assert_cmpuint (g_list_model_get_n_items (model), <=, 6);
    }
  g_assert_cmpstr (sp_sip_log_group_get_call_id (group_at (groups, 5)), ==, "c1005");
}

/* Messages without Call-ID or CSeq (garbage from the wire) join no group. */
static void
test_unparsable (void)
{
  g_autoptr (SpSipLog) log = sp_sip_log_new (10);
  g_autoptr (SpSipLogGroups) groups = sp_sip_log_groups_new (log, 5);
  const char junk[] = "\x01\x02 not SIP\r\n\r\n";
  g_autoptr (SpSipLogEntry) entry =
      sp_sip_log_entry_new (0, SP_SIP_LOG_DIRECTION_RECEIVED, PEER, ME, junk, sizeof junk - 1);

  for (guint i = 0; i < 20; i++)
    sp_sip_log_append (log, entry);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (groups)), ==, 1);
  g_assert_cmpuint (sp_sip_log_group_get_n_messages (group_at (groups, 0)), ==, 10);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/siplog-groups/keepalives-grouped", test_keepalives_grouped);
  g_test_add_func ("/siplog-groups/in-dialog-options", test_in_dialog_options);
  g_test_add_func ("/siplog-groups/max-groups", test_max_groups);
  g_test_add_func ("/siplog-groups/unparsable", test_unparsable);
  return g_test_run ();
}
