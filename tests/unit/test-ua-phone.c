/* SpPhone on loopback: what its SIP log records. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "ua/phone.h"
#include "ua/phone-private.h"

/* The phone makes its TLS certificate in its config directory on start
 * (ua/phone-tls.h): removed with the directory. */
static int
remove_config_dir (const char *dir)
{
  static const char *const files[] = { "tls-certificate.pem", "tls-key.pem", "tls-pins" };

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (dir, files[i], NULL);
      g_unlink (path);
    }
  return g_rmdir (dir);
}

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
  g_assert_cmpint (remove_config_dir (dir), ==, 0);
}

/* Sends an OPTIONS with @branch (and the header lines @extra) from @sock
 * to the phone on @port and waits (running the main context) for its 200. */
static void
options_round_trip_extra (GSocket *sock, guint16 port, const char *branch, const char *extra)
{
  g_autoptr (GInetAddress) lo = g_inet_address_new_from_string ("127.0.0.1");
  g_autoptr (GSocketAddress) dest = g_inet_socket_address_new (lo, port);
  g_autoptr (GSocketAddress) bound = g_socket_get_local_address (sock, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *options = NULL;
  guint16 our_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  char reply[4096];
  gssize n = -1;

  options = g_strdup_printf ("OPTIONS sip:127.0.0.1:%u SIP/2.0\r\n"
                             "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=%s\r\n"
                             "From: <sip:t@127.0.0.1>;tag=rs\r\nTo: <sip:127.0.0.1:%u>\r\n"
                             "Call-ID: %s@127.0.0.1\r\nCSeq: 1 OPTIONS\r\n%s"
                             "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
                             port, our_port, branch, port, branch, extra);
  g_assert_cmpint (g_socket_send_to (sock, dest, options, strlen (options), NULL, &error), ==,
                   (gssize) strlen (options));
  g_socket_set_blocking (sock, FALSE);
  while (n < 0 && g_get_monotonic_time () < deadline)
    {
      g_main_context_iteration (NULL, FALSE);
      n = g_socket_receive (sock, reply, sizeof reply - 1, NULL, NULL);
      if (n < 0)
        g_usleep (1000);
    }
  g_assert_cmpint (n, >, 0);
  reply[n] = '\0';
  g_assert_true (g_str_has_prefix (reply, "SIP/2.0 200"));
}

static void
options_round_trip (GSocket *sock, guint16 port, const char *branch)
{
  options_round_trip_extra (sock, port, branch, "");
}

/* The raw text of the last received entry of @log. */
static char *
last_received_raw (SpSipLog *log)
{
  for (guint i = g_list_model_get_n_items (G_LIST_MODEL (log)); i > 0; i--)
    {
      g_autoptr (SpSipLogEntry) e = g_list_model_get_item (G_LIST_MODEL (log), i - 1);
      if (sp_sip_log_entry_get_direction (e) == SP_SIP_LOG_DIRECTION_RECEIVED)
        return g_strdup (sp_sip_log_entry_get_raw (e));
    }
  return NULL;
}

/* A digest response that arrives (or leaves) is masked in the SIP log,
 * unless "log-sip-raw" asks for the wire as it was. */
static void
test_sip_log_masks_credentials (void)
{
  static const char credentials[] =
      "Authorization: Digest username=\"u1\", realm=\"r\", nonce=\"abc\", "
      "uri=\"sip:127.0.0.1\", response=\"7e1b0c2d3a4f5e6d7c8b9a0f1e2d3c4b\"\r\n";
  g_autofree char *dir = g_dir_make_tmp ("sp-test-phone-XXXXXX", NULL);
  g_autoptr (SpPhone) phone = sp_phone_new (dir, dir);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) sock = NULL;
  g_autoptr (GInetAddress) lo = g_inet_address_new_from_string ("127.0.0.1");
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autofree char *masked = NULL;
  g_autofree char *raw = NULL;
  gboolean raw_prop = TRUE;
  SpSipLog *log;
  const char *host = NULL;
  guint16 port = 0;

  g_object_get (phone, "log-sip-raw", &raw_prop, NULL);
  g_assert_false (raw_prop);
  g_assert_true (sp_phone_start (phone, "127.0.0.1", 0, &error));
  g_assert_no_error (error);
  g_assert_true (sp_phone_get_local_address (phone, &host, &port));
  log = sp_phone_get_sip_log (phone);
  sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (sock, any, FALSE, &error));

  options_round_trip_extra (sock, port, "z9hG4bKmask1", credentials);
  g_assert_true (wait_for_entries (log, 2));
  masked = last_received_raw (log);
  g_assert_null (strstr (masked, "7e1b0c2d"));
  g_assert_nonnull (strstr (masked, "nonce=\"abc\", uri=\"sip:127.0.0.1\", response=\"***\"\r\n"));

  g_object_set (phone, "log-sip-raw", TRUE, NULL);
  options_round_trip_extra (sock, port, "z9hG4bKmask2", credentials);
  g_assert_true (wait_for_entries (log, 4));
  raw = last_received_raw (log);
  g_assert_nonnull (strstr (raw, credentials));

  g_clear_object (&phone);
  g_assert_cmpint (remove_config_dir (dir), ==, 0);
}

/* record-sip off (headless): requests are still answered, the log stays
 * empty; switched back on, the wire is recorded again. */
static void
test_record_sip_off (void)
{
  g_autofree char *dir = g_dir_make_tmp ("sp-test-phone-XXXXXX", NULL);
  g_autoptr (SpPhone) phone = sp_phone_new (dir, dir);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) sock = NULL;
  g_autoptr (GInetAddress) lo = g_inet_address_new_from_string ("127.0.0.1");
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  SpSipLog *log;
  const char *host = NULL;
  guint16 port = 0;
  gboolean record = TRUE;

  g_object_get (phone, "record-sip", &record, NULL);
  g_assert_true (record);
  g_object_set (phone, "record-sip", FALSE, NULL);
  g_assert_true (sp_phone_start (phone, "127.0.0.1", 0, &error));
  g_assert_no_error (error);
  g_assert_true (sp_phone_get_local_address (phone, &host, &port));
  log = sp_phone_get_sip_log (phone);
  sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (sock, any, FALSE, &error));

  options_round_trip (sock, port, "z9hG4bKrecoff");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (log)), ==, 0);

  g_object_set (phone, "record-sip", TRUE, NULL);
  options_round_trip (sock, port, "z9hG4bKrecon");
  g_assert_true (wait_for_entries (log, 2));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (log)), ==, 2);

  g_clear_object (&phone);
  g_assert_cmpint (remove_config_dir (dir), ==, 0);
}

/* Echo cancellation is on unless switched off (Preferences, headless
 * --no-echo-cancellation), and what calls' media is started with follows
 * the property. */
static void
test_echo_cancellation_default (void)
{
  g_autofree char *dir = g_dir_make_tmp ("sp-test-phone-XXXXXX", NULL);
  g_autoptr (SpPhone) phone = sp_phone_new (dir, dir);
  gboolean on = FALSE;

  g_object_get (phone, "echo-cancellation", &on, NULL);
  g_assert_true (on);
  g_assert_true (sp_phone_get_echo_cancellation (phone));
  g_object_set (phone, "echo-cancellation", FALSE, NULL);
  g_assert_false (sp_phone_get_echo_cancellation (phone));
  g_clear_object (&phone);
  g_assert_cmpint (remove_config_dir (dir), ==, 0);
}

/* Waits (running the main context) for a datagram on @sock; NUL-terminated
 * into @buf. */
static gssize
receive (GSocket *sock, char *buf, gsize size)
{
  gint64 deadline = g_get_monotonic_time () + 6 * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < deadline)
    {
      gssize n = g_socket_receive (sock, buf, size - 1, NULL, NULL);
      if (n > 0)
        {
          buf[n] = '\0';
          return n;
        }
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
  return -1;
}

/* The value of header @name in @msg (first occurrence), newly allocated. */
static char *
header (const char *msg, const char *name)
{
  g_auto (GStrv) lines = g_strsplit (msg, "\r\n", -1);
  gsize len = strlen (name);

  for (guint i = 1; lines[i] != NULL && lines[i][0] != '\0'; i++)
    if (g_ascii_strncasecmp (lines[i], name, len) == 0 && lines[i][len] == ':')
      return g_strstrip (g_strdup (lines[i] + len + 1));
  return NULL;
}

static void
reply_200 (GSocket *sock, const char *request, GSocketAddress *to)
{
  g_autofree char *via = header (request, "Via");
  g_autofree char *from = header (request, "From");
  g_autofree char *to_hdr = header (request, "To");
  g_autofree char *call_id = header (request, "Call-ID");
  g_autofree char *cseq = header (request, "CSeq");
  g_autofree char *text =
      g_strdup_printf ("SIP/2.0 200 OK\r\nVia: %s\r\nFrom: %s\r\nTo: %s;tag=reg\r\nCall-ID: %s\r\n"
                       "CSeq: %s\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n",
                       via, from, to_hdr, call_id, cseq);

  g_assert_cmpint (g_socket_send_to (sock, to, text, strlen (text), NULL, NULL), ==,
                   (gssize) strlen (text));
}

static void
on_registration_changed (SpPhone *phone, SpAccount *account, guint code, gpointer data)
{
  guint *count = data;
  if (sp_account_get_status (account) == SP_ACCOUNT_STATUS_REGISTERED)
    (*count)++;
}

/* GNetworkMonitor's "network-changed": registered accounts register again
 * (same Call-ID, next CSeq) once the burst of changes settles. */
static void
test_network_change_registers_again (void)
{
  g_autofree char *dir = g_dir_make_tmp ("sp-test-phone-XXXXXX", NULL);
  g_autoptr (SpPhone) phone = sp_phone_new (dir, dir);
  g_autoptr (GError) error = NULL;
  g_autoptr (GInetAddress) lo = g_inet_address_new_from_string ("127.0.0.1");
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GSocket) registrar = NULL;
  g_autoptr (SpAccount) account = sp_account_new ("net");
  g_autoptr (GSocketAddress) phone_addr = NULL;
  g_autofree char *server = NULL;
  g_autofree char *call_id1 = NULL;
  g_autofree char *call_id2 = NULL;
  g_autofree char *cseq1 = NULL;
  g_autofree char *cseq2 = NULL;
  const char *host = NULL;
  guint16 port = 0;
  guint registered = 0;
  char buf[8192];
  gint64 changed_at;
  gint64 deadline;

  registrar =
      g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (registrar, any, FALSE, &error));
  g_socket_set_blocking (registrar, FALSE);
  bound = g_socket_get_local_address (registrar, &error);
  server = g_strdup_printf ("127.0.0.1:%u",
                            g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  g_object_set (account, "username", "u9", "password", "secret", "server", server, NULL);

  g_assert_true (sp_phone_start (phone, "127.0.0.1", 0, &error));
  g_assert_true (sp_phone_get_local_address (phone, &host, &port));
  phone_addr = g_inet_socket_address_new (lo, port);
  g_signal_connect (phone, "registration-changed", G_CALLBACK (on_registration_changed),
                    &registered);
  sp_phone_add_account (phone, account);
  sp_phone_register (phone, NULL);

  g_assert_cmpint (receive (registrar, buf, sizeof buf), >, 0);
  g_assert_true (g_str_has_prefix (buf, "REGISTER "));
  call_id1 = header (buf, "Call-ID");
  cseq1 = header (buf, "CSeq");
  reply_200 (registrar, buf, phone_addr);
  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (registered == 0 && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE);
  g_assert_cmpuint (registered, ==, 1);

  /* A burst of three: one REGISTER after it settles, not three. */
  changed_at = g_get_monotonic_time ();
  for (guint i = 0; i < 3; i++)
    g_signal_emit_by_name (g_network_monitor_get_default (), "network-changed", TRUE);
  g_assert_cmpint (receive (registrar, buf, sizeof buf), >, 0);
  g_assert_true (g_str_has_prefix (buf, "REGISTER "));
  g_assert_cmpint (g_get_monotonic_time () - changed_at, >=, G_USEC_PER_SEC);
  call_id2 = header (buf, "Call-ID");
  cseq2 = header (buf, "CSeq");
  g_assert_cmpstr (call_id1, ==, call_id2);
  g_assert_cmpuint (g_ascii_strtoull (cseq2, NULL, 10), ==, g_ascii_strtoull (cseq1, NULL, 10) + 1);
  reply_200 (registrar, buf, phone_addr);
  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (registered < 2 && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE);
  g_assert_cmpuint (registered, ==, 2);
  /* Nothing more came for the other two signals. */
  g_assert_cmpint (g_socket_receive (registrar, buf, sizeof buf, NULL, NULL), <, 0);

  g_signal_handlers_disconnect_by_data (phone, &registered);
  g_clear_object (&phone);
  g_assert_cmpint (remove_config_dir (dir), ==, 0);
}

/* Another program on 127.0.0.1:@port, UDP and/or TCP. */
static GSocket *
hold (GSocketType type, guint16 port)
{
  g_autoptr (GInetAddress) loopback = g_inet_address_new_from_string ("127.0.0.1");
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, port);
  GSocket *sock = g_socket_new (G_SOCKET_FAMILY_IPV4, type, G_SOCKET_PROTOCOL_DEFAULT, NULL);

  if (!g_socket_bind (sock, address, FALSE, NULL) ||
      (type == G_SOCKET_TYPE_STREAM && !g_socket_listen (sock, NULL)))
    g_clear_object (&sock);
  return sock;
}

/* A port free for both UDP and TCP now, held by *udp and *tcp. */
static guint16
hold_a_port (GSocket **udp, GSocket **tcp)
{
  for (int tries = 0; tries < 20; tries++)
    {
      g_autoptr (GSocket) u = hold (G_SOCKET_TYPE_DATAGRAM, 0);
      g_autoptr (GSocketAddress) local = g_socket_get_local_address (u, NULL);
      guint16 port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));

      *tcp = hold (G_SOCKET_TYPE_STREAM, port);
      if (*tcp != NULL && port < G_MAXUINT16 - 20)
        {
          *udp = g_steal_pointer (&u);
          return port;
        }
      g_clear_object (tcp);
    }
  g_assert_not_reached ();
}

static void
check_moves (gboolean hold_udp, gboolean hold_tcp)
{
  g_autofree char *dir = g_dir_make_tmp ("sp-test-phone-XXXXXX", NULL);
  g_autoptr (SpPhone) phone = sp_phone_new (dir, dir);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) udp = NULL;
  g_autoptr (GSocket) tcp = NULL;
  guint16 wanted = hold_a_port (&udp, &tcp);
  const char *host = NULL;
  guint16 port = 0;

  if (!hold_udp)
    g_clear_object (&udp);
  if (!hold_tcp)
    g_clear_object (&tcp);
  /* sp_phone_start alone fails: the port is taken... */
  {
    g_autoptr (SpPhone) plain = sp_phone_new (dir, dir);
    g_assert_false (sp_phone_start (plain, "127.0.0.1", wanted, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
    g_clear_error (&error);
  }
  /* ...sp_phone_start_any_port takes another one, the same for both. */
  g_assert_true (sp_phone_start_any_port (phone, "127.0.0.1", wanted, &error));
  g_assert_no_error (error);
  g_assert_true (sp_phone_get_local_address (phone, &host, &port));
  g_assert_cmpstr (host, ==, "127.0.0.1");
  g_assert_cmpuint (port, !=, wanted);
  g_assert_cmpuint (port, !=, 0);
  /* It listens there: both sockets are ours now. */
  {
    g_autoptr (GSocket) u = hold (G_SOCKET_TYPE_DATAGRAM, port);
    g_autoptr (GSocket) t = hold (G_SOCKET_TYPE_STREAM, port);
    g_assert_null (u);
    g_assert_null (t);
  }
  g_clear_object (&phone);
  remove_config_dir (dir);
}

static void
test_port_taken_moves (void)
{
  check_moves (TRUE, TRUE);
  check_moves (TRUE, FALSE);
  check_moves (FALSE, TRUE);
}

static void
test_other_bind_errors_stay (void)
{
  g_autofree char *dir = g_dir_make_tmp ("sp-test-phone-XXXXXX", NULL);
  g_autoptr (SpPhone) phone = sp_phone_new (dir, dir);
  g_autoptr (GError) error = NULL;

  /* TEST-NET-1 is no address of this machine: nothing to fall back to. */
  g_assert_false (sp_phone_start_any_port (phone, "192.0.2.1", 5060, &error));
  g_assert_nonnull (error);
  g_assert_false (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE));
  g_clear_object (&phone);
  remove_config_dir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ua/phone/sip-log-records-the-wire", test_sip_log_records_the_wire);
  g_test_add_func ("/ua/phone/record-sip-off", test_record_sip_off);
  g_test_add_func ("/ua/phone/echo-cancellation-default", test_echo_cancellation_default);
  g_test_add_func ("/ua/phone/sip-log-masks-credentials", test_sip_log_masks_credentials);
  g_test_add_func ("/ua/phone/network-change-registers-again", test_network_change_registers_again);
  g_test_add_func ("/ua/phone/port-taken-moves", test_port_taken_moves);
  g_test_add_func ("/ua/phone/other-bind-errors-stay", test_other_bind_errors_stay);
  return g_test_run ();
}
