#include "config.h"

#include <string.h>

#include "ua/siplog.h"

/* From the seed's capture: u1's authenticated INVITE to the server. */
static const char invite[] = "INVITE sip:2@127.0.0.50 SIP/2.0\r\n"
                             "Via: SIP/2.0/UDP 127.0.0.183:5060;branch=z9hG4bK1\r\n"
                             "From: <sip:u1@127.0.0.50>;tag=1542144666\r\n"
                             "To: <sip:2@127.0.0.50>\r\n"
                             "Call-ID: 2126492930@127.0.0.50\r\n"
                             "CSeq: 2 INVITE\r\n"
                             "Max-Forwards: 20\r\n"
                             "Content-Type: application/sdp\r\n"
                             "Content-Length: 4\r\n"
                             "\r\n"
                             "v=0\n";

static const char trying[] = "SIP/2.0 100 Trying\r\n"
                             "i:  2126492930@127.0.0.50 \r\n"
                             "CSeq: 2 INVITE\r\n"
                             "Content-Length: 0\r\n"
                             "\r\n";

static void
test_request (void)
{
  g_autoptr (SpSipLogEntry) e =
      sp_sip_log_entry_new (1000, SP_SIP_LOG_DIRECTION_SENT, "127.0.0.183:5060", "127.0.0.50:5060",
                            invite, strlen (invite));

  g_assert_cmpint (sp_sip_log_entry_get_time (e), ==, 1000);
  g_assert_cmpint (sp_sip_log_entry_get_direction (e), ==, SP_SIP_LOG_DIRECTION_SENT);
  g_assert_cmpstr (sp_sip_log_entry_get_src (e), ==, "127.0.0.183:5060");
  g_assert_cmpstr (sp_sip_log_entry_get_dst (e), ==, "127.0.0.50:5060");
  g_assert_cmpstr (sp_sip_log_entry_get_first_line (e), ==, "INVITE sip:2@127.0.0.50 SIP/2.0");
  g_assert_true (sp_sip_log_entry_is_request (e));
  g_assert_cmpstr (sp_sip_log_entry_get_method (e), ==, "INVITE");
  g_assert_cmpuint (sp_sip_log_entry_get_status_code (e), ==, 0);
  g_assert_cmpstr (sp_sip_log_entry_get_call_id (e), ==, "2126492930@127.0.0.50");
  g_assert_cmpstr (sp_sip_log_entry_get_cseq (e), ==, "2 INVITE");
  g_assert_true (sp_sip_log_entry_has_sdp (e));
  g_assert_cmpstr (sp_sip_log_entry_get_summary (e), ==, "INVITE SDP");
  g_assert_cmpstr (sp_sip_log_entry_get_raw (e), ==, invite);
}

static void
test_response_compact_header (void)
{
  g_autoptr (SpSipLogEntry) e =
      sp_sip_log_entry_new (2, SP_SIP_LOG_DIRECTION_RECEIVED, "127.0.0.50:5060", "127.0.0.183:5060",
                            trying, strlen (trying));

  g_assert_false (sp_sip_log_entry_is_request (e));
  g_assert_null (sp_sip_log_entry_get_method (e));
  g_assert_cmpuint (sp_sip_log_entry_get_status_code (e), ==, 100);
  g_assert_cmpstr (sp_sip_log_entry_get_call_id (e), ==, "2126492930@127.0.0.50");
  g_assert_false (sp_sip_log_entry_has_sdp (e));
  g_assert_cmpstr (sp_sip_log_entry_get_summary (e), ==, "100 Trying");
}

static void
test_sdp_type_without_body (void)
{
  const char *msg = "SIP/2.0 200 OK\r\nContent-Type: application/sdp\r\n\r\n";
  g_autoptr (SpSipLogEntry) e =
      sp_sip_log_entry_new (0, SP_SIP_LOG_DIRECTION_RECEIVED, "a", "b", msg, strlen (msg));

  g_assert_cmpuint (sp_sip_log_entry_get_status_code (e), ==, 200);
  g_assert_false (sp_sip_log_entry_has_sdp (e));
  g_assert_cmpstr (sp_sip_log_entry_get_summary (e), ==, "200 OK");
}

/* Garbage must still become a readable entry, never a crash or overread. */
static void
test_garbage (void)
{
  const char bytes[] = { 'S',    'I',  'P',  '/', '2', '.', '0', ' ', '9', '9', '\0', '\xff',
                         '\xfe', '\r', '\n', 'C', 'a', 'l', 'l', '-', 'I', 'D', ':' };
  g_autoptr (SpSipLogEntry) e =
      sp_sip_log_entry_new (0, SP_SIP_LOG_DIRECTION_RECEIVED, NULL, NULL, bytes, sizeof bytes);

  g_assert_true (g_utf8_validate (sp_sip_log_entry_get_raw (e), -1, NULL));
  g_assert_true (g_utf8_validate (sp_sip_log_entry_get_first_line (e), -1, NULL));
  g_assert_cmpuint (sp_sip_log_entry_get_status_code (e), ==, 0);
  g_assert_null (sp_sip_log_entry_get_method (e));
  g_assert_null (sp_sip_log_entry_get_call_id (e)); /* empty value: none */
  g_assert_cmpstr (sp_sip_log_entry_get_src (e), ==, "");
  g_assert_true (g_str_has_prefix (sp_sip_log_entry_get_summary (e), "SIP/2.0 99"));

  g_autoptr (SpSipLogEntry) empty =
      sp_sip_log_entry_new (0, SP_SIP_LOG_DIRECTION_SENT, "a", "b", NULL, 0);
  g_assert_cmpstr (sp_sip_log_entry_get_first_line (empty), ==, "");
  g_assert_cmpstr (sp_sip_log_entry_get_summary (empty), ==, "");
}

static void
test_long_input_bounded (void)
{
  gsize len = SP_SIP_LOG_MAX_RAW * 2;
  g_autofree char *big = g_malloc (len);

  memset (big, 'A', len);
  g_autoptr (SpSipLogEntry) e =
      sp_sip_log_entry_new (0, SP_SIP_LOG_DIRECTION_SENT, "a", "b", big, len);
  g_assert_cmpuint (strlen (sp_sip_log_entry_get_raw (e)), ==, SP_SIP_LOG_MAX_RAW);
  g_assert_cmpuint (strlen (sp_sip_log_entry_get_first_line (e)), ==, 1024);
  g_assert_cmpuint (strlen (sp_sip_log_entry_get_summary (e)), ==, 48);
}

typedef struct
{
  guint calls;
  guint last_position, last_removed, last_added;
  guint n_at_signal;
} Changes;

static void
on_items_changed (GListModel *model, guint position, guint removed, guint added, Changes *c)
{
  c->calls++;
  c->last_position = position;
  c->last_removed = removed;
  c->last_added = added;
  c->n_at_signal = g_list_model_get_n_items (model);
}

static SpSipLogEntry *
numbered_entry (int n)
{
  g_autofree char *msg = g_strdup_printf ("OPTIONS sip:%d@127.0.0.1 SIP/2.0\r\n\r\n", n);
  return sp_sip_log_entry_new (n, SP_SIP_LOG_DIRECTION_SENT, "a", "b", msg, strlen (msg));
}

static void
test_log_model_bounded (void)
{
  g_autoptr (SpSipLog) log = sp_sip_log_new (3);
  Changes c = { 0 };

  g_signal_connect (log, "items-changed", G_CALLBACK (on_items_changed), &c);
  g_assert_true (g_list_model_get_item_type (G_LIST_MODEL (log)) == SP_TYPE_SIP_LOG_ENTRY);
  for (int i = 1; i <= 3; i++)
    {
      g_autoptr (SpSipLogEntry) e = numbered_entry (i);
      sp_sip_log_append (log, e);
    }
  g_assert_cmpuint (c.calls, ==, 3);
  g_assert_cmpuint (c.last_position, ==, 2);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (log)), ==, 3);

  /* The fourth drops the first: a removal at 0, then an append at 2. */
  g_autoptr (SpSipLogEntry) e4 = numbered_entry (4);
  sp_sip_log_append (log, e4);
  g_assert_cmpuint (c.calls, ==, 5);
  g_assert_cmpuint (c.last_position, ==, 2);
  g_assert_cmpuint (c.last_added, ==, 1);
  g_assert_cmpuint (c.n_at_signal, ==, 3);

  g_autoptr (SpSipLogEntry) first = g_list_model_get_item (G_LIST_MODEL (log), 0);
  g_assert_cmpint (sp_sip_log_entry_get_time (first), ==, 2);
  g_autoptr (SpSipLogEntry) last = g_list_model_get_item (G_LIST_MODEL (log), 2);
  g_assert_true (last == e4);
  g_assert_cmpstr (sp_sip_log_entry_get_method (last), ==, "OPTIONS");
  g_assert_null (g_list_model_get_item (G_LIST_MODEL (log), 3));

  sp_sip_log_clear (log);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (log)), ==, 0);
  g_assert_cmpuint (c.last_removed, ==, 3);
  g_assert_cmpuint (c.n_at_signal, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/siplog/request", test_request);
  g_test_add_func ("/siplog/response-compact-header", test_response_compact_header);
  g_test_add_func ("/siplog/sdp-type-without-body", test_sdp_type_without_body);
  g_test_add_func ("/siplog/garbage", test_garbage);
  g_test_add_func ("/siplog/long-input-bounded", test_long_input_bounded);
  g_test_add_func ("/siplog/model-bounded", test_log_model_bounded);
  return g_test_run ();
}
