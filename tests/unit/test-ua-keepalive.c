/* RFC 5626 4.4.1 over TCP: a registered account pings its registrar with
 * CRLFCRLF; a pong keeps the flow, a missing pong (10 s, shortened here)
 * fails it: the phone closes the connection and registers again on a new
 * one (same Call-ID, next CSeq). The registrar is a raw TCP socket. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "ua/phone.h"

#define PHONE_ADDR     "127.0.55.43"
#define REGISTRAR_ADDR "127.0.55.42"

typedef struct
{
  GSocket *sock;
  GString *in; /* what arrived, not yet consumed */
  gboolean eof;
} Conn;

static void
conn_free (Conn *c)
{
  g_object_unref (c->sock);
  g_string_free (c->in, TRUE);
  g_free (c);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Conn, conn_free)

static void
spin (void)
{
  g_main_context_iteration (NULL, FALSE);
  g_usleep (2000);
}

/* Accepts the phone's next connection, running the main loop. */
static Conn *
accept_conn (GSocket *listener, guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      GSocket *s = g_socket_accept (listener, NULL, NULL);
      if (s != NULL)
        {
          Conn *c = g_new0 (Conn, 1);
          g_socket_set_blocking (s, FALSE);
          c->sock = s;
          c->in = g_string_new (NULL);
          return c;
        }
      spin ();
    }
  return NULL;
}

/* Reads until @needle is in the buffer (TRUE; the buffer is consumed up
 * to its end), the peer closes (eof) or @ms pass. */
static gboolean
conn_read_until (Conn *c, const char *needle, guint ms, char **before)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < end && !c->eof)
    {
      char buf[4096];
      gssize n;
      const char *hit = strstr (c->in->str, needle);

      if (hit != NULL)
        {
          gsize upto = (gsize) (hit - c->in->str) + strlen (needle);
          if (before != NULL)
            *before = g_strndup (c->in->str, upto);
          g_string_erase (c->in, 0, (gssize) upto);
          return TRUE;
        }
      n = g_socket_receive (c->sock, buf, sizeof buf, NULL, NULL);
      if (n == 0)
        c->eof = TRUE;
      else if (n > 0)
        g_string_append_len (c->in, buf, n);
      else
        spin ();
    }
  return FALSE;
}

static void
conn_send (Conn *c, const char *text)
{
  g_assert_cmpint (g_socket_send (c->sock, text, strlen (text), NULL, NULL), ==,
                   (gssize) strlen (text));
}

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

/* Reads a REGISTER (no body) and answers 200; returns the request. */
static char *
answer_register (Conn *c)
{
  char *reg = NULL;
  g_autofree char *via = NULL, *from = NULL, *to = NULL, *call_id = NULL, *cseq = NULL;
  g_autofree char *contact = NULL, *ok = NULL;

  g_assert_true (conn_read_until (c, "\r\n\r\n", 5000, &reg));
  /* Keep-alive CRLFs may come first; the request starts at REGISTER. */
  g_assert_nonnull (strstr (reg, "REGISTER sip:"));
  via = header (strstr (reg, "REGISTER"), "Via");
  from = header (strstr (reg, "REGISTER"), "From");
  to = header (strstr (reg, "REGISTER"), "To");
  call_id = header (strstr (reg, "REGISTER"), "Call-ID");
  cseq = header (strstr (reg, "REGISTER"), "CSeq");
  contact = header (strstr (reg, "REGISTER"), "Contact");
  ok = g_strdup_printf ("SIP/2.0 200 OK\r\nVia: %s\r\nFrom: %s\r\nTo: %s;tag=reg\r\n"
                        "Call-ID: %s\r\nCSeq: %s\r\nContact: %s;expires=3600\r\n"
                        "Expires: 3600\r\nContent-Length: 0\r\n\r\n",
                        via, from, to, call_id, cseq, contact);
  conn_send (c, ok);
  return reg;
}

static gboolean
wait_status (SpAccount *account, SpAccountStatus status, guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (sp_account_get_status (account) != status && g_get_monotonic_time () < end)
    spin ();
  return sp_account_get_status (account) == status;
}

static void
test_missing_pong_reregisters (void)
{
  g_autofree char *dir = g_dir_make_tmp ("sp-test-keepalive-XXXXXX", NULL);
  g_autoptr (SpPhone) phone = sp_phone_new (dir, dir);
  g_autoptr (SpAccount) account = sp_account_new ("ka");
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketAddress) addr = g_inet_socket_address_new_from_string (REGISTRAR_ADDR, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GSocket) listener = NULL;
  g_autoptr (Conn) c1 = NULL;
  g_autoptr (Conn) c2 = NULL;
  g_autofree char *server = NULL;
  g_autofree char *reg1 = NULL;
  g_autofree char *reg2 = NULL;
  g_autofree char *id1 = NULL, *id2 = NULL, *cseq1 = NULL, *cseq2 = NULL;
  gint64 unanswered;
  gint64 closed_after_ms;

  listener =
      g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (listener, addr, TRUE, &error));
  g_assert_true (g_socket_listen (listener, &error));
  g_socket_set_blocking (listener, FALSE);
  bound = g_socket_get_local_address (listener, NULL);
  server = g_strdup_printf (REGISTRAR_ADDR ":%u",
                            g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));

  g_object_set (phone, "keepalive-interval", 1u, "keepalive-pong-timeout", 400u, NULL);
  g_assert_true (sp_phone_start (phone, PHONE_ADDR, 0, &error));
  g_assert_no_error (error);
  sp_account_set_username (account, "ka");
  sp_account_set_password (account, "pw");
  sp_account_set_server (account, server);
  sp_account_set_transport (account, SP_ACCOUNT_TRANSPORT_TCP);
  sp_phone_add_account (phone, account);
  sp_phone_register (phone, account);

  c1 = accept_conn (listener, 5000);
  g_assert_nonnull (c1);
  reg1 = answer_register (c1);
  g_assert_true (wait_status (account, SP_ACCOUNT_STATUS_REGISTERED, 3000));

  /* First ping: answered. The flow lives on past the pong timeout. */
  g_assert_true (conn_read_until (c1, "\r\n\r\n", 3000, NULL));
  conn_send (c1, "\r\n");
  g_assert_false (conn_read_until (c1, "REGISTER", 800, NULL));
  g_assert_false (c1->eof);

  /* Second ping: no pong. Within the timeout (400 ms) the phone closes
   * the connection and registers again on a new one. */
  g_assert_true (conn_read_until (c1, "\r\n\r\n", 3000, NULL));
  unanswered = g_get_monotonic_time ();
  g_assert_false (conn_read_until (c1, "REGISTER", 3000, NULL));
  g_assert_true (c1->eof);
  closed_after_ms = (g_get_monotonic_time () - unanswered) / 1000;
  g_test_message ("closed %" G_GINT64_FORMAT " ms after the unanswered ping", closed_after_ms);
  g_assert_cmpint (closed_after_ms, >=, 350);
  g_assert_cmpint (closed_after_ms, <=, 1500);

  c2 = accept_conn (listener, 4000);
  g_assert_nonnull (c2);
  reg2 = answer_register (c2);
  id1 = header (strstr (reg1, "REGISTER"), "Call-ID");
  id2 = header (strstr (reg2, "REGISTER"), "Call-ID");
  cseq1 = header (strstr (reg1, "REGISTER"), "CSeq");
  cseq2 = header (strstr (reg2, "REGISTER"), "CSeq");
  g_assert_cmpstr (id1, ==, id2);
  g_assert_cmpuint (g_ascii_strtoull (cseq2, NULL, 10), ==, g_ascii_strtoull (cseq1, NULL, 10) + 1);
  g_assert_true (wait_status (account, SP_ACCOUNT_STATUS_REGISTERED, 3000));

  g_clear_object (&phone);
  {
    g_autofree char *history = g_build_filename (dir, "calls.jsonl", NULL);
    g_unlink (history);
  }
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ua-keepalive/missing-pong-reregisters", test_missing_pong_reregisters);
  return g_test_run ();
}
