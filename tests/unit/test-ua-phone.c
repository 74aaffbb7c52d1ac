/* SpPhone on loopback: what its SIP log records. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "ua/phone.h"

/* Runs the default main context until @log holds @n entries or 5 s pass. */
static gboolean
wait_for_entries (SpSipLog *log, guint n)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (g_list_model_get_n_items (G_LIST_MODEL (log)) < n)
    {
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  return TRUE;
}

static void
test_sip_log_records_the_wire (void)
{
  g_autofree char *dir = g_dir_make_tmp ("sp-test-phone-XXXXXX", NULL);
  g_autoptr (SpPhone) phone = sp_phone_new (dir, dir);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) sock = NULL;
  g_autoptr (GInetAddress) lo = g_inet_address_new_from_string ("127.0.0.1");
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GSocketAddress) dest = NULL;
  g_autoptr (SpSipLogEntry) in = NULL;
  g_autoptr (SpSipLogEntry) out = NULL;
  g_autofree char *phone_addr = NULL;
  g_autofree char *our_addr = NULL;
  g_autofree char *options = NULL;
  SpSipLog *log;
  const char *host = NULL;
  guint16 port = 0;
  char reply[4096];
  gssize n;

  g_assert_true (sp_phone_start (phone, "127.0.0.1", 0, &error));
  g_assert_no_error (error);
  g_assert_true (sp_phone_get_local_address (phone, &host, &port));
  phone_addr = g_strdup_printf ("127.0.0.1:%u", port);
  log = sp_phone_get_sip_log (phone);
  g_assert_nonnull (log);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (log)), ==, 0);

  sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (sock, any, FALSE, &error));
  bound = g_socket_get_local_address (sock, &error);
  our_addr = g_strdup_printf ("127.0.0.1:%u",
                              g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  options = g_strdup_printf ("OPTIONS sip:%s SIP/2.0\r\n"
                             "Via: SIP/2.0/UDP %s;branch=z9hG4bKlogtest1\r\n"
                             "From: <sip:t@%s>;tag=lt\r\nTo: <sip:%s>\r\n"
                             "Call-ID: log-test@127.0.0.1\r\nCSeq: 7 OPTIONS\r\n"
                             "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
                             phone_addr, our_addr, our_addr, phone_addr);
  dest = g_inet_socket_address_new (lo, port);
  g_assert_cmpint (g_socket_send_to (sock, dest, options, strlen (options), NULL, &error), ==,
                   (gssize) strlen (options));

  /* The request in, the stack's own 200 out: both in the log. */
  g_assert_true (wait_for_entries (log, 2));
  in = g_list_model_get_item (G_LIST_MODEL (log), 0);
  out = g_list_model_get_item (G_LIST_MODEL (log), 1);
  g_assert_cmpint (sp_sip_log_entry_get_direction (in), ==, SP_SIP_LOG_DIRECTION_RECEIVED);
  g_assert_cmpstr (sp_sip_log_entry_get_method (in), ==, "OPTIONS");
  g_assert_cmpstr (sp_sip_log_entry_get_src (in), ==, our_addr);
  g_assert_cmpstr (sp_sip_log_entry_get_dst (in), ==, phone_addr);
  g_assert_cmpstr (sp_sip_log_entry_get_call_id (in), ==, "log-test@127.0.0.1");
  g_assert_cmpint (sp_sip_log_entry_get_direction (out), ==, SP_SIP_LOG_DIRECTION_SENT);
  g_assert_cmpuint (sp_sip_log_entry_get_status_code (out), ==, 200);
  g_assert_cmpstr (sp_sip_log_entry_get_cseq (out), ==, "7 OPTIONS");
  g_assert_cmpstr (sp_sip_log_entry_get_src (out), ==, phone_addr);
  g_assert_cmpstr (sp_sip_log_entry_get_dst (out), ==, our_addr);

  g_socket_set_timeout (sock, 5);
  n = g_socket_receive (sock, reply, sizeof reply - 1, NULL, &error);
  g_assert_no_error (error);
  reply[MAX (n, 0)] = '\0';
  g_assert_true (g_str_has_prefix (reply, "SIP/2.0 200"));
  /* What went out is what the log holds, byte for byte. */
  g_assert_cmpstr (sp_sip_log_entry_get_raw (out), ==, reply);

  g_clear_object (&phone);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ua/phone/sip-log-records-the-wire", test_sip_log_records_the_wire);
  return g_test_run ();
}
