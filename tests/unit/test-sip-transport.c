/* SpSipTransport on real loopback sockets: the observation hooks
 * ("message", "keepalive", "connection-closed"), raw sends, CRLF
 * keep-alives on TCP, the 18.1.1 switch to TCP, idle close, half a
 * message on close, IPv6 and several bindings at once, "::" dual-stack
 * (IPv4 peers named and counted as IPv4), and on a wildcard the local
 * address each request arrived on (IP_PKTINFO) and answers sent from it. */
#include <string.h>

#include "sip/source-key.h"
#include "sip/transport.h"

#define WAIT_MS 3000

typedef struct
{
  SpSipDirection direction;
  SpSipPeer local;
  SpSipPeer remote;
  char *raw;
  gboolean parsed;
  char *first_line;
} Seen;

static void
seen_free (gpointer data)
{
  Seen *s = data;
  g_free (s->raw);
  g_free (s->first_line);
  g_free (s);
}

typedef struct
{
  SpSipTransport *transport;
  SpSipPeer udp;
  SpSipPeer tcp;
  GPtrArray *received; /* SpSipMessage */
  GPtrArray *sources;  /* SpSipPeer copies */
  GPtrArray *seen;     /* Seen */
  guint pings;
  guint pongs;
  guint closed;
} End;

static void
on_receive (SpSipTransport *transport, SpSipMessage *msg, const SpSipPeer *source,
            gpointer user_data)
{
  End *e = user_data;
  g_ptr_array_add (e->received, sp_sip_message_ref (msg));
  g_ptr_array_add (e->sources, g_memdup2 (source, sizeof *source));
}

static void
on_message (SpSipTransport *transport, const SpSipTransportEvent *event, gpointer user_data)
{
  End *e = user_data;
  Seen *s = g_new0 (Seen, 1);
  const char *eol;

  s->direction = event->direction;
  s->local = event->local;
  s->remote = event->remote;
  s->raw = g_strndup ((const char *) event->data, event->len);
  s->parsed = event->msg != NULL;
  eol = strstr (s->raw, "\r\n");
  s->first_line = eol ? g_strndup (s->raw, (gsize) (eol - s->raw)) : g_strdup (s->raw);
  g_ptr_array_add (e->seen, s);
}

static void
on_keepalive (SpSipTransport *transport, const SpSipPeer *remote, gboolean ping, gpointer user_data)
{
  End *e = user_data;
  if (ping)
    e->pings++;
  else
    e->pongs++;
}

static void
on_closed (SpSipTransport *transport, const SpSipPeer *remote, gpointer user_data)
{
  End *e = user_data;
  e->closed++;
}

static End *
end_new (const char *host, gboolean observe)
{
  End *e = g_new0 (End, 1);
  g_autoptr (GError) error = NULL;

  e->transport = sp_sip_transport_new ();
  e->received = g_ptr_array_new_with_free_func ((GDestroyNotify) sp_sip_message_unref);
  e->sources = g_ptr_array_new_with_free_func (g_free);
  e->seen = g_ptr_array_new_with_free_func (seen_free);
  sp_sip_transport_set_handlers (e->transport, on_receive, NULL, e);
  g_assert_true (
      sp_sip_transport_listen (e->transport, SP_SIP_TRANSPORT_UDP, host, 0, &e->udp, &error));
  g_assert_no_error (error);
  g_assert_true (sp_sip_transport_listen (e->transport, SP_SIP_TRANSPORT_TCP, host, e->udp.port,
                                          &e->tcp, &error));
  g_assert_no_error (error);
  if (observe)
    g_signal_connect (e->transport, "message", G_CALLBACK (on_message), e);
  g_signal_connect (e->transport, "keepalive", G_CALLBACK (on_keepalive), e);
  g_signal_connect (e->transport, "connection-closed", G_CALLBACK (on_closed), e);
  return e;
}

static void
end_free (End *e)
{
  g_object_unref (e->transport);
  g_ptr_array_unref (e->received);
  g_ptr_array_unref (e->sources);
  g_ptr_array_unref (e->seen);
  g_free (e);
}

/* Runs the main loop until *counter reaches @want or WAIT_MS pass. */
static void
wait_for (const guint *counter, guint want)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;

  while (*counter < want && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE) || (g_usleep (1000), TRUE);
}

static void
wait_received (End *e, guint want)
{
  wait_for (&e->received->len, want);
  g_assert_cmpuint (e->received->len, ==, want);
}

static SpSipMessage *
new_options (const char *to_host, gsize body_len)
{
  g_autofree char *text = NULL;
  g_autofree char *body = g_strnfill (body_len, 'x');
  SpSipMessage *msg;
  g_autoptr (GError) error = NULL;

  text = g_strdup_printf ("OPTIONS sip:%s SIP/2.0\r\n"
                          "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-%u\r\n"
                          "Max-Forwards: 70\r\n"
                          "From: <sip:a@example.com>;tag=1\r\n"
                          "To: <sip:b@example.com>\r\n"
                          "Call-ID: %u@test\r\n"
                          "CSeq: 1 OPTIONS\r\n"
                          "Content-Type: text/plain\r\n"
                          "Content-Length: %" G_GSIZE_FORMAT "\r\n\r\n%s",
                          to_host, g_random_int (), g_random_int (), body_len, body);
  msg = sp_sip_message_parse ((const guint8 *) text, strlen (text), SP_SIP_FRAMING_DATAGRAM, NULL,
                              &error);
  g_assert_no_error (error);
  return msg;
}

static GSocket *
raw_socket (const SpSipPeer *to, gboolean tcp)
{
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (to->host);
  g_autoptr (GSocketAddress) sa = g_inet_socket_address_new (addr, to->port);
  g_autoptr (GError) error = NULL;
  GSocket *s = g_socket_new (g_socket_address_get_family (sa),
                             tcp ? G_SOCKET_TYPE_STREAM : G_SOCKET_TYPE_DATAGRAM,
                             tcp ? G_SOCKET_PROTOCOL_TCP : G_SOCKET_PROTOCOL_UDP, &error);

  g_assert_no_error (error);
  g_assert_true (g_socket_connect (s, sa, NULL, &error));
  g_assert_no_error (error);
  return s;
}

static void
raw_send (GSocket *s, const char *text)
{
  g_autoptr (GError) error = NULL;
  g_assert_cmpint (g_socket_send (s, text, strlen (text), NULL, &error), ==,
                   (gssize) strlen (text));
  g_assert_no_error (error);
}

/* "message" reports both directions with addresses, raw bytes and the
 * parsed message; an unparsable datagram shows up with msg NULL. */
static void
test_message_signal (void)
{
  End *a = end_new ("127.0.0.1", TRUE);
  End *b = end_new ("127.0.0.1", TRUE);
  g_autoptr (SpSipMessage) req = new_options ("127.0.0.1", 0);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) raw = NULL;
  Seen *s;

  g_assert_true (sp_sip_transport_send (a->transport, req, &b->udp, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (a->seen->len, ==, 1);
  s = g_ptr_array_index (a->seen, 0);
  g_assert_cmpint (s->direction, ==, SP_SIP_DIRECTION_SENT);
  g_assert_cmpstr (s->first_line, ==, "OPTIONS sip:127.0.0.1 SIP/2.0");
  g_assert_true (s->parsed);
  g_assert_cmpuint (s->remote.port, ==, b->udp.port);
  g_assert_cmpuint (s->local.port, ==, a->udp.port);
  g_assert_cmpint (s->remote.kind, ==, SP_SIP_TRANSPORT_UDP);
  /* The bytes are what went out: the Via carries our sent-by. */
  g_assert_nonnull (strstr (s->raw, "Via: SIP/2.0/UDP 127.0.0.1:"));

  wait_received (b, 1);
  g_assert_cmpuint (b->seen->len, ==, 1);
  s = g_ptr_array_index (b->seen, 0);
  g_assert_cmpint (s->direction, ==, SP_SIP_DIRECTION_RECEIVED);
  g_assert_cmpuint (s->remote.port, ==, a->udp.port);
  g_assert_cmpuint (s->local.port, ==, b->udp.port);
  g_assert_cmpuint (s->local.binding, ==, 1);
  g_assert_true (s->parsed);

  raw = raw_socket (&b->udp, FALSE);
  raw_send (raw, "garbage that is no SIP\r\n\r\n");
  wait_for (&b->seen->len, 2);
  g_assert_cmpuint (b->seen->len, ==, 2);
  s = g_ptr_array_index (b->seen, 1);
  g_assert_false (s->parsed);
  g_assert_cmpstr (s->first_line, ==, "garbage that is no SIP");
  g_assert_cmpuint (b->received->len, ==, 1);

  end_free (a);
  end_free (b);
}

/* A response goes out logged too, over the TCP connection the request
 * came in on, with the connection's own ports. */
static void
test_message_signal_tcp (void)
{
  End *a = end_new ("127.0.0.1", TRUE);
  End *b = end_new ("127.0.0.1", TRUE);
  g_autoptr (SpSipMessage) req = new_options ("127.0.0.1", 0);
  g_autoptr (SpSipMessage) resp = NULL;
  g_autoptr (GError) error = NULL;
  Seen *s;

  g_assert_true (sp_sip_transport_send (a->transport, req, &b->tcp, NULL, &error));
  wait_received (b, 1);
  resp = sp_sip_message_new_response_to (g_ptr_array_index (b->received, 0), 200, NULL, "t");
  g_assert_true (
      sp_sip_transport_send (b->transport, resp, g_ptr_array_index (b->sources, 0), NULL, &error));
  g_assert_no_error (error);
  wait_received (a, 1);
  g_assert_cmpuint (b->seen->len, ==, 2);
  s = g_ptr_array_index (b->seen, 1);
  g_assert_cmpint (s->direction, ==, SP_SIP_DIRECTION_SENT);
  g_assert_cmpstr (s->first_line, ==, "SIP/2.0 200 OK");
  g_assert_cmpint (s->remote.kind, ==, SP_SIP_TRANSPORT_TCP);
  g_assert_cmpint (s->local.kind, ==, SP_SIP_TRANSPORT_TCP);
  g_assert_cmpuint (s->local.port, ==, b->tcp.port);
  s = g_ptr_array_index (a->seen, 1);
  g_assert_cmpint (s->direction, ==, SP_SIP_DIRECTION_RECEIVED);
  g_assert_cmpuint (s->remote.port, ==, b->tcp.port);
  g_assert_true (g_str_has_suffix (s->raw, "Content-Length: 0\r\n\r\n"));
  end_free (a);
  end_free (b);
}

/* RFC 5626 over TCP: our "\r\n\r\n" ping gets a "\r\n" pong; bare CRLFs
 * between messages do not disturb the framing. */
static void
test_tcp_keepalive (void)
{
  End *a = end_new ("127.0.0.1", FALSE);
  End *b = end_new ("127.0.0.1", FALSE);
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSipMessage) one = new_options ("127.0.0.1", 0);
  g_autoptr (SpSipMessage) two = new_options ("127.0.0.1", 3);
  g_autoptr (GBytes) b1 = NULL;
  g_autoptr (GBytes) b2 = NULL;
  g_autoptr (GSocket) raw = NULL;
  g_autofree char *stream = NULL;

  g_assert_false (sp_sip_transport_has_connection (a->transport, &b->tcp));
  g_assert_true (
      sp_sip_transport_send_raw (a->transport, &b->tcp, (const guint8 *) "\r\n\r\n", 4, &error));
  g_assert_no_error (error);
  g_assert_true (sp_sip_transport_has_connection (a->transport, &b->tcp));
  wait_for (&a->pongs, 1);
  g_assert_cmpuint (b->pings, ==, 1);
  g_assert_cmpuint (b->pongs, ==, 0);
  g_assert_cmpuint (a->pongs, ==, 1);
  g_assert_cmpuint (a->pings, ==, 0);
  g_assert_cmpuint (sp_sip_transport_get_stats (b->transport)->keepalives_received, ==, 1);

  /* Messages with keep-alives between and before them, in one write. */
  raw = raw_socket (&b->tcp, TRUE);
  b1 = sp_sip_message_serialize (one);
  b2 = sp_sip_message_serialize (two);
  stream = g_strdup_printf ("\r\n\r\n%.*s\r\n\r\n%.*s", (int) g_bytes_get_size (b1),
                            (const char *) g_bytes_get_data (b1, NULL), (int) g_bytes_get_size (b2),
                            (const char *) g_bytes_get_data (b2, NULL));
  raw_send (raw, stream);
  wait_received (b, 2);
  g_assert_cmpstr (sp_sip_message_get_call_id (g_ptr_array_index (b->received, 1)), ==,
                   sp_sip_message_get_call_id (two));
  g_assert_cmpuint (b->pings, ==, 3);
  end_free (a);
  end_free (b);
}

/* A UDP request over 1300 bytes goes over TCP when the peer listens
 * there (18.1.1); a small one stays on UDP. */
static void
test_udp_to_tcp_switch (void)
{
  End *a = end_new ("127.0.0.1", FALSE);
  End *b = end_new ("127.0.0.1", FALSE);
  g_autoptr (SpSipMessage) small = new_options ("127.0.0.1", 100);
  g_autoptr (SpSipMessage) big = new_options ("127.0.0.1", 1400);
  g_autoptr (GError) error = NULL;
  SpSipTransportKind used = SP_SIP_TRANSPORT_UDP;
  const SpSipPeer *source;

  g_assert_true (sp_sip_transport_send (a->transport, small, &b->udp, &used, &error));
  g_assert_cmpint (used, ==, SP_SIP_TRANSPORT_UDP);
  wait_received (b, 1);
  g_assert_true (sp_sip_transport_send (a->transport, big, &b->udp, &used, &error));
  g_assert_no_error (error);
  g_assert_cmpint (used, ==, SP_SIP_TRANSPORT_TCP);
  wait_received (b, 2);
  source = g_ptr_array_index (b->sources, 1);
  g_assert_cmpint (source->kind, ==, SP_SIP_TRANSPORT_TCP);
  g_assert_cmpstr (sp_sip_message_get_via (g_ptr_array_index (b->received, 1))->transport, ==,
                   "TCP");
  g_assert_cmpuint (sp_sip_transport_get_stats (a->transport)->udp_to_tcp_switches, ==, 1);
  end_free (a);
  end_free (b);
}

/* Connections with nothing going on are closed after the idle time;
 * a connection closed with half a message is counted and dropped. */
static void
test_tcp_idle_and_partial (void)
{
  End *a = end_new ("127.0.0.1", FALSE);
  End *b = end_new ("127.0.0.1", FALSE);
  g_autoptr (SpSipMessage) req = new_options ("127.0.0.1", 0);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) raw = NULL;
  gint64 start;

  sp_sip_transport_set_idle_timeout (a->transport, 150);
  g_assert_true (sp_sip_transport_send (a->transport, req, &b->tcp, NULL, &error));
  wait_received (b, 1);
  g_assert_cmpuint (sp_sip_transport_get_n_connections (a->transport), ==, 1);
  start = g_get_monotonic_time ();
  wait_for (&a->closed, 1);
  g_assert_cmpuint (a->closed, ==, 1);
  /* Not before the idle time, and not long after (checks every 1/4). */
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 100 * 1000);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 1000 * 1000);
  g_assert_cmpuint (sp_sip_transport_get_n_connections (a->transport), ==, 0);
  g_assert_cmpuint (sp_sip_transport_get_stats (a->transport)->partial_on_close, ==, 0);
  /* b sees a's close as a closed connection too. */
  wait_for (&b->closed, 1);
  g_assert_cmpuint (b->closed, ==, 1);

  raw = raw_socket (&b->tcp, TRUE);
  raw_send (raw, "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1;bra");
  /* Let b take the bytes in before the close. */
  {
    gint64 until = g_get_monotonic_time () + 100 * 1000;
    while (g_get_monotonic_time () < until)
      g_main_context_iteration (NULL, FALSE) || (g_usleep (1000), TRUE);
  }
  g_socket_close (raw, NULL);
  wait_for (&b->closed, 2);
  g_assert_cmpuint (b->closed, ==, 2);
  g_assert_cmpuint (sp_sip_transport_get_stats (b->transport)->partial_on_close, ==, 1);
  g_assert_cmpuint (b->received->len, ==, 1);
  end_free (a);
  end_free (b);
}

/* Runs the main loop for @ms. */
static void
run_for (guint ms)
{
  gint64 until = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, FALSE) || (g_usleep (1000), TRUE);
}

/* A held connection (a registration came on it) outlives the idle
 * timeout until its hold expires, and can still carry a request then;
 * released by its last holder, it closes after the idle timeout. */
static void
test_tcp_hold (void)
{
  End *a = end_new ("127.0.0.1", FALSE);
  End *b = end_new ("127.0.0.1", FALSE);
  g_autoptr (SpSipMessage) req = new_options ("127.0.0.1", 0);
  g_autoptr (SpSipMessage) back = new_options ("127.0.0.1", 0);
  g_autoptr (SpSipMessage) again = new_options ("127.0.0.1", 0);
  g_autoptr (GError) error = NULL;
  SpSipPeer flow;
  SpSipPeer nobody;
  gint64 start;

  /* b is the registrar side: it closes idle connections after 150 ms. */
  sp_sip_transport_set_idle_timeout (b->transport, 150);
  g_assert_true (sp_sip_transport_send (a->transport, req, &b->tcp, NULL, &error));
  wait_received (b, 1);
  flow = *(SpSipPeer *) g_ptr_array_index (b->sources, 0);
  g_assert_true (sp_sip_transport_kind_is_stream (flow.kind));
  g_assert_true (sp_sip_transport_hold_connection (b->transport, &flow, "alice", 1));
  /* No connection there, or not a stream: nothing to hold. */
  nobody = flow;
  nobody.port = flow.port == 1 ? 2 : 1;
  g_assert_false (sp_sip_transport_hold_connection (b->transport, &nobody, "alice", 1));
  g_assert_false (sp_sip_transport_hold_connection (b->transport, &b->udp, "alice", 1));

  run_for (600);
  g_assert_cmpuint (b->closed, ==, 0);
  g_assert_cmpuint (sp_sip_transport_get_n_connections (b->transport), ==, 1);
  /* The held flow still reaches a (it has no listener of its own in a
   * real phone behind NAT; here a simply reads the connection). */
  g_assert_true (sp_sip_transport_send (b->transport, back, &flow, NULL, &error));
  g_assert_no_error (error);
  wait_received (a, 1);
  g_assert_cmpuint (sp_sip_transport_get_stats (a->transport)->tcp_connections_opened, ==, 1);
  /* The hold runs out (1 s after it was made): closed once idle. */
  start = g_get_monotonic_time ();
  wait_for (&b->closed, 1);
  g_assert_cmpuint (b->closed, ==, 1);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 250 * 1000);
  /* a sees the close before it connects again. */
  wait_for (&a->closed, 1);
  g_assert_cmpuint (a->closed, ==, 1);

  /* Two holders; releasing one keeps the connection, the last closes it. */
  g_assert_true (sp_sip_transport_send (a->transport, again, &b->tcp, NULL, &error));
  wait_received (b, 2);
  flow = *(SpSipPeer *) g_ptr_array_index (b->sources, 1);
  g_assert_true (sp_sip_transport_hold_connection (b->transport, &flow, "alice", 30));
  g_assert_true (sp_sip_transport_hold_connection (b->transport, &flow, "bob", 30));
  for (guint i = 2; i < SP_SIP_TRANSPORT_MAX_HOLDS; i++)
    {
      g_autofree char *name = g_strdup_printf ("user%u", i);
      g_assert_true (sp_sip_transport_hold_connection (b->transport, &flow, name, 30));
    }
  /* Capped: no more holders, an existing one may still refresh. */
  g_assert_false (sp_sip_transport_hold_connection (b->transport, &flow, "mallory", 30));
  g_assert_true (sp_sip_transport_hold_connection (b->transport, &flow, "alice", 30));
  for (guint i = 2; i < SP_SIP_TRANSPORT_MAX_HOLDS; i++)
    {
      g_autofree char *name = g_strdup_printf ("user%u", i);
      g_assert_true (sp_sip_transport_hold_connection (b->transport, &flow, name, 0));
    }
  g_assert_true (sp_sip_transport_hold_connection (b->transport, &flow, "alice", 0));
  run_for (500);
  g_assert_cmpuint (b->closed, ==, 1);
  g_assert_cmpuint (sp_sip_transport_get_n_connections (b->transport), ==, 1);
  start = g_get_monotonic_time ();
  g_assert_true (sp_sip_transport_hold_connection (b->transport, &flow, "bob", 0));
  wait_for (&b->closed, 2);
  g_assert_cmpuint (b->closed, ==, 2);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 100 * 1000);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 1000 * 1000);
  g_assert_cmpuint (sp_sip_transport_get_n_connections (b->transport), ==, 0);
  end_free (a);
  end_free (b);
}

/* How long the default main context would sleep now with nothing to
 * do: -1 when no source has a timeout (after running what is ready). */
static gint
main_context_sleep_ms (void)
{
  GMainContext *context = g_main_context_default ();
  GPollFD fds[64];
  gint priority = 0;
  gint timeout = 0;
  gint n;

  while (g_main_context_iteration (context, FALSE))
    ;
  g_assert_true (g_main_context_acquire (context));
  g_main_context_prepare (context, &priority);
  n = g_main_context_query (context, G_MAXINT, &timeout, fds, G_N_ELEMENTS (fds));
  g_assert_cmpint (n, <=, (gint) G_N_ELEMENTS (fds));
  g_main_context_check (context, G_MAXINT, fds, n);
  g_main_context_dispatch (context);
  g_main_context_release (context);
  return timeout;
}

/* Idle costs nothing: a transport with bindings but no TCP connection
 * has no timer (the idle check runs only while connections exist). */
static void
test_no_timer_without_connections (void)
{
  End *a = end_new ("127.0.0.1", FALSE);
  End *b = end_new ("127.0.0.1", FALSE);
  g_autoptr (SpSipMessage) req = new_options ("127.0.0.1", 0);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (main_context_sleep_ms (), ==, -1);
  sp_sip_transport_set_idle_timeout (a->transport, 200);
  sp_sip_transport_set_idle_timeout (b->transport, 200);
  g_assert_cmpint (main_context_sleep_ms (), ==, -1);
  g_assert_true (sp_sip_transport_send (a->transport, req, &b->tcp, NULL, &error));
  wait_received (b, 1);
  /* A connection: the idle check ticks (every 1/4 of the idle time). */
  g_assert_cmpint (main_context_sleep_ms (), >=, 0);
  g_assert_cmpint (main_context_sleep_ms (), <=, 50);
  wait_for (&a->closed, 1);
  wait_for (&b->closed, 1);
  g_assert_cmpuint (sp_sip_transport_get_n_connections (a->transport), ==, 0);
  g_assert_cmpuint (sp_sip_transport_get_n_connections (b->transport), ==, 0);
  /* Closed by idleness: the timer is gone with the last connection. */
  g_assert_cmpint (main_context_sleep_ms (), ==, -1);
  end_free (a);
  end_free (b);
}

/* IPv6 and IPv4 bindings side by side in one transport: each peer is
 * reached from (and answered on) the binding of its family. */
static void
test_two_families (void)
{
  End *v4 = end_new ("127.0.0.1", FALSE);
  End *v6 = end_new ("::1", FALSE);
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSipMessage) to6 = new_options ("[::1]", 0);
  g_autoptr (SpSipMessage) to4 = new_options ("127.0.0.1", 0);
  SpSipPeer extra6, extra4, got;
  const SpSipPeer *source;

  /* v4 also listens on [::1]: two families at once. */
  g_assert_true (
      sp_sip_transport_listen (v4->transport, SP_SIP_TRANSPORT_UDP, "::1", 0, &extra6, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (extra6.binding, ==, 3);
  g_assert_true (sp_sip_transport_get_binding (v4->transport, 2, &got));
  g_assert_cmpstr (got.host, ==, "::1");
  g_assert_false (sp_sip_transport_get_binding (v4->transport, 3, &got));

  g_assert_true (sp_sip_transport_send (v4->transport, to6, &v6->udp, NULL, &error));
  g_assert_no_error (error);
  wait_received (v6, 1);
  source = g_ptr_array_index (v6->sources, 0);
  g_assert_cmpstr (source->host, ==, "::1");
  g_assert_cmpuint (source->port, ==, extra6.port);
  g_assert_cmpstr (sp_sip_message_get_via (g_ptr_array_index (v6->received, 0))->host, ==, "::1");

  /* v6's own transport adds an IPv4 binding and reaches v4 from it. */
  g_assert_true (sp_sip_transport_listen (v6->transport, SP_SIP_TRANSPORT_UDP, "127.0.0.1", 0,
                                          &extra4, &error));
  g_assert_true (sp_sip_transport_send (v6->transport, to4, &v4->udp, NULL, &error));
  g_assert_no_error (error);
  wait_received (v4, 1);
  source = g_ptr_array_index (v4->sources, 0);
  g_assert_cmpstr (source->host, ==, "127.0.0.1");
  g_assert_cmpuint (source->port, ==, extra4.port);
  g_assert_cmpuint (source->binding, ==, 1);
  end_free (v4);
  end_free (v6);
}

static char *
response_text (const char *via)
{
  return g_strdup_printf ("SIP/2.0 200 OK\r\n"
                          "Via: %s\r\n"
                          "From: <sip:a@example.com>;tag=1\r\n"
                          "To: <sip:b@example.com>;tag=2\r\n"
                          "Call-ID: r@test\r\n"
                          "CSeq: 1 OPTIONS\r\n"
                          "Content-Length: 0\r\n\r\n",
                          via);
}

/* 18.1.2: a response whose top Via sent-by is not ours is dropped; one
 * that names our binding (with or without a port) is delivered. */
static void
test_response_not_ours (void)
{
  End *a = end_new ("127.0.0.1", FALSE);
  g_autoptr (GSocket) raw = raw_socket (&a->udp, FALSE);
  g_autofree char *other = response_text ("SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK1");
  g_autofree char *other_port = NULL;
  g_autofree char *ours_via = NULL;
  g_autofree char *ours = NULL;
  g_autofree char *no_port = response_text ("SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK3");

  other_port = g_strdup_printf ("SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK2", a->udp.port + 1);
  ours_via = g_strdup_printf ("SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK4", a->udp.port);
  raw_send (raw, other);
  {
    g_autofree char *text = response_text (other_port);
    raw_send (raw, text);
  }
  ours = response_text (ours_via);
  raw_send (raw, ours);
  raw_send (raw, no_port);
  wait_received (a, 2);
  g_assert_cmpstr (sp_sip_message_get_via (g_ptr_array_index (a->received, 0))->branch, ==,
                   "z9hG4bK4");
  g_assert_cmpstr (sp_sip_message_get_via (g_ptr_array_index (a->received, 1))->branch, ==,
                   "z9hG4bK3");
  g_assert_cmpuint (sp_sip_transport_get_stats (a->transport)->responses_misrouted, ==, 2);
  end_free (a);
}

static GSocket *
udp_sink (guint16 *port)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GInetAddress) lo = g_inet_address_new_from_string ("127.0.0.1");
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  GSocket *sink =
      g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &error);

  g_assert_no_error (error);
  g_assert_true (g_socket_bind (sink, any, FALSE, &error));
  bound = g_socket_get_local_address (sink, &error);
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  return sink;
}

/* Issue 13 (reflection): maddr is NOT followed (RFC 3261 18.2.2 would
 * send there first); the response goes to received and rport (RFC
 * 3581), where the request came from. The maddr host, listening on the
 * sent-by port, gets nothing. */
static void
test_response_maddr (void)
{
  End *b = end_new ("127.0.0.1", FALSE);
  g_autoptr (GError) error = NULL;
  guint16 victim_port = 0, source_port = 0;
  g_autoptr (GSocket) victim = udp_sink (&victim_port);
  g_autoptr (GSocket) source = udp_sink (&source_port);
  g_autoptr (SpSipMessage) resp = NULL;
  g_autofree char *via = NULL;
  g_autofree char *text = NULL;
  char buf[2048];
  gssize n;

  via = g_strdup_printf ("SIP/2.0/UDP 127.0.0.1:%u;maddr=127.0.0.1;received=127.0.0.1;rport=%u;"
                         "branch=z9hG4bKm",
                         victim_port, source_port);
  text = response_text (via);
  resp = sp_sip_message_parse ((const guint8 *) text, strlen (text), SP_SIP_FRAMING_DATAGRAM, NULL,
                               &error);
  g_assert_no_error (error);
  g_assert_true (sp_sip_transport_send (b->transport, resp, NULL, NULL, &error));
  g_assert_no_error (error);
  g_socket_set_timeout (source, 2);
  n = g_socket_receive (source, buf, sizeof buf - 1, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, >, 0);
  buf[n] = 0;
  g_assert_true (g_str_has_prefix (buf, "SIP/2.0 200 OK\r\n"));
  g_assert_nonnull (strstr (buf, "branch=z9hG4bKm"));
  g_socket_set_timeout (victim, 1);
  n = g_socket_receive (victim, buf, sizeof buf - 1, NULL, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpint (n, <, 0);
  end_free (b);
}

static void
spin_ms (guint ms)
{
  gint64 deadline = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE) || (g_usleep (1000), TRUE);
}

/* Issue 13: TCP connections per remote address are capped; one past the
 * cap is closed at once, others' addresses still get in. */
static void
test_tcp_per_address_cap (void)
{
  End *b = end_new ("127.0.0.1", FALSE);
  g_autoptr (GPtrArray) clients = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GError) error = NULL;
  g_autoptr (GInetAddress) to_addr = g_inet_address_new_from_string ("127.0.0.1");
  g_autoptr (GSocketAddress) to = g_inet_socket_address_new (to_addr, b->tcp.port);
  char byte;
  gssize n;

  sp_sip_transport_set_tcp_limits (b->transport, 0, 2);
  for (guint i = 0; i < 3; i++)
    {
      GSocket *c =
          g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);

      g_assert_no_error (error);
      g_assert_true (g_socket_connect (c, to, NULL, &error));
      g_assert_no_error (error);
      g_ptr_array_add (clients, c);
      spin_ms (100);
    }
  g_assert_cmpuint (sp_sip_transport_get_n_connections (b->transport), ==, 2);
  /* The third one was closed: end of stream, no data. */
  g_socket_set_timeout (g_ptr_array_index (clients, 2), 2);
  n = g_socket_receive (g_ptr_array_index (clients, 2), &byte, 1, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 0);
  /* One closes: room again. */
  g_socket_close (g_ptr_array_index (clients, 0), NULL);
  spin_ms (200);
  {
    GSocket *c =
        g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);

    g_assert_true (g_socket_connect (c, to, NULL, &error));
    g_ptr_array_add (clients, c);
    spin_ms (100);
  }
  g_assert_cmpuint (sp_sip_transport_get_n_connections (b->transport), ==, 2);
  end_free (b);
}

/* A UDP socket bound to @from (port 0), connected to @to: it hears only
 * datagrams from exactly @to. */
static GSocket *
raw_udp_from (const char *from, const char *to, guint16 port)
{
  g_autoptr (GInetAddress) local = g_inet_address_new_from_string (from);
  g_autoptr (GSocketAddress) local_sa = g_inet_socket_address_new (local, 0);
  g_autoptr (GError) error = NULL;
  GSocket *s;

  s = g_socket_new (g_socket_address_get_family (local_sa), G_SOCKET_TYPE_DATAGRAM,
                    G_SOCKET_PROTOCOL_UDP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (s, local_sa, FALSE, &error));
  g_assert_no_error (error);
  {
    g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (to);
    g_autoptr (GSocketAddress) sa = g_inet_socket_address_new (addr, port);
    g_assert_true (g_socket_connect (s, sa, NULL, &error));
    g_assert_no_error (error);
  }
  g_socket_set_timeout (s, 3);
  return s;
}

static char *
options_text (const char *via_host)
{
  return g_strdup_printf ("OPTIONS sip:x@example.com SIP/2.0\r\n"
                          "Via: SIP/2.0/UDP %s;branch=z9hG4bK-%u;rport\r\n"
                          "Max-Forwards: 70\r\n"
                          "From: <sip:a@example.com>;tag=1\r\n"
                          "To: <sip:b@example.com>\r\n"
                          "Call-ID: %u@test\r\n"
                          "CSeq: 1 OPTIONS\r\n"
                          "Content-Length: 0\r\n\r\n",
                          via_host, g_random_int (), g_random_int ());
}

static void
send_options (GSocket *s, const char *via_host)
{
  g_autofree char *text = options_text (via_host);

  raw_send (s, text);
}

/* Answers received request @i of @e with a 200 to its source. */
static void
answer (End *e, guint i)
{
  g_autoptr (SpSipMessage) response =
      sp_sip_message_new_response_to (g_ptr_array_index (e->received, i), 200, "OK", NULL);
  g_autoptr (GError) error = NULL;

  g_assert_true (sp_sip_transport_send (e->transport, response, g_ptr_array_index (e->sources, i),
                                        NULL, &error));
  g_assert_no_error (error);
}

/* The first line of what @s receives within its timeout. */
static char *
raw_receive_line (GSocket *s)
{
  char buf[4096];
  g_autoptr (GError) error = NULL;
  gssize n = g_socket_receive (s, buf, sizeof buf - 1, NULL, &error);
  char *eol;

  g_assert_no_error (error);
  g_assert_cmpint (n, >, 0);
  buf[n] = '\0';
  eol = strstr (buf, "\r\n");
  return g_strndup (buf, eol ? (gsize) (eol - buf) : (gsize) n);
}

/* Bound to "::", the transport is dual-stack: IPv4 peers arrive and are
 * named as IPv4 (Via received, the source, its source key: two IPv4
 * phones are two sources, not one ::ffff:0:0/64), the answers reach
 * them; IPv6 still works; TCP too. */
static void
test_dual_stack (void)
{
  End *e = end_new ("::", TRUE);
  g_autoptr (GSocket) a = raw_udp_from ("127.0.0.1", "127.0.0.1", e->udp.port);
  g_autoptr (GSocket) b = raw_udp_from ("127.0.0.2", "127.0.0.1", e->udp.port);
  g_autoptr (GSocket) c = raw_udp_from ("::1", "::1", e->udp.port);
  g_autofree char *key_a = NULL;
  g_autofree char *key_b = NULL;
  const SpSipPeer *source;
  const Seen *seen;

  g_assert_cmpstr (e->udp.host, ==, "::");
  send_options (a, "127.0.0.1:1");
  wait_received (e, 1);
  send_options (b, "127.0.0.2:1");
  wait_received (e, 2);
  send_options (c, "[::1]:1");
  wait_received (e, 3);

  source = g_ptr_array_index (e->sources, 0);
  g_assert_cmpstr (source->host, ==, "127.0.0.1");
  g_assert_cmpstr (source->local, ==, "127.0.0.1");
  key_a = sp_sip_source_key (source->host);
  source = g_ptr_array_index (e->sources, 1);
  g_assert_cmpstr (source->host, ==, "127.0.0.2");
  key_b = sp_sip_source_key (source->host);
  g_assert_cmpstr (key_a, ==, "127.0.0.1");
  g_assert_cmpstr (key_b, ==, "127.0.0.2");
  g_assert_cmpstr (sp_sip_message_get_via (g_ptr_array_index (e->received, 1))->received, ==,
                   "127.0.0.2");
  source = g_ptr_array_index (e->sources, 2);
  g_assert_cmpstr (source->host, ==, "::1");
  g_assert_cmpstr (source->local, ==, "::1");
  /* The log names both ends as IPv4. */
  seen = g_ptr_array_index (e->seen, 1);
  g_assert_cmpstr (seen->remote.host, ==, "127.0.0.2");
  g_assert_cmpstr (seen->local.host, ==, "127.0.0.1");

  for (guint i = 0; i < 3; i++)
    answer (e, i);
  {
    g_autofree char *la = raw_receive_line (a);
    g_autofree char *lb = raw_receive_line (b);
    g_autofree char *lc = raw_receive_line (c);
    g_assert_cmpstr (la, ==, "SIP/2.0 200 OK");
    g_assert_cmpstr (lb, ==, "SIP/2.0 200 OK");
    g_assert_cmpstr (lc, ==, "SIP/2.0 200 OK");
  }

  /* A request of ours to an IPv4 peer: IPv4 Via, from the dual-stack socket. */
  {
    g_autoptr (SpSipMessage) req = new_options ("127.0.0.2", 0);
    g_autoptr (GError) error = NULL;
    g_autofree char *line = NULL;
    SpSipPeer to;
    g_autoptr (GSocketAddress) local = g_socket_get_local_address (b, NULL);

    sp_sip_peer_init (&to, SP_SIP_TRANSPORT_UDP, "127.0.0.2",
                      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)));
    g_assert_true (sp_sip_transport_send (e->transport, req, &to, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpstr (sp_sip_message_get_via (req)->host, ==, "127.0.0.1");
    line = raw_receive_line (b);
    g_assert_cmpstr (line, ==, "OPTIONS sip:127.0.0.2 SIP/2.0");
  }

  /* TCP from an IPv4 address. */
  {
    g_autoptr (GSocket) t =
        raw_socket (&(SpSipPeer){ .host = "127.0.0.1", .port = e->tcp.port }, TRUE);
    send_options (t, "127.0.0.1:1;transport=tcp");
    wait_received (e, 4);
    source = g_ptr_array_index (e->sources, 3);
    g_assert_cmpstr (source->host, ==, "127.0.0.1");
    g_assert_cmpstr (source->local, ==, "127.0.0.1");
    g_assert_cmpuint (source->kind, ==, SP_SIP_TRANSPORT_TCP);
  }
  end_free (e);
}

/* On 0.0.0.0 each datagram's local address is recorded (IP_PKTINFO) and
 * the answer leaves from it: a phone that dialled 127.0.0.3 (the route
 * back to it leaves from 127.0.0.1) hears from 127.0.0.3, through the
 * sender thread too; a request to a peer with a known local address
 * leaves from it and names it in Via. */
static void
pktinfo_source (gboolean thread)
{
  End *e = end_new ("0.0.0.0", FALSE);
  g_autoptr (GSocket) phone = raw_udp_from ("127.0.0.5", "127.0.0.3", e->udp.port);
  g_autoptr (GSocket) other = raw_udp_from ("127.0.0.5", "127.0.0.4", e->udp.port);
  const SpSipPeer *source;

  sp_sip_transport_set_send_thread (e->transport, thread);
  send_options (phone, "127.0.0.5:1");
  wait_received (e, 1);
  source = g_ptr_array_index (e->sources, 0);
  g_assert_cmpstr (source->host, ==, "127.0.0.5");
  g_assert_cmpstr (source->local, ==, "127.0.0.3");
  answer (e, 0);
  {
    /* A connected socket hears only its peer: 127.0.0.3. */
    g_autofree char *line = raw_receive_line (phone);
    g_assert_cmpstr (line, ==, "SIP/2.0 200 OK");
  }
  send_options (other, "127.0.0.5:1");
  wait_received (e, 2);
  g_assert_cmpstr (((SpSipPeer *) g_ptr_array_index (e->sources, 1))->local, ==, "127.0.0.4");
  {
    g_autoptr (SpSipMessage) req = new_options ("127.0.0.5", 0);
    g_autoptr (GError) error = NULL;
    g_autofree char *line = NULL;
    SpSipPeer to = *(SpSipPeer *) g_ptr_array_index (e->sources, 1);

    g_assert_true (sp_sip_transport_send (e->transport, req, &to, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpstr (sp_sip_message_get_via (req)->host, ==, "127.0.0.4");
    line = raw_receive_line (other);
    g_assert_cmpstr (line, ==, "OPTIONS sip:127.0.0.5 SIP/2.0");
  }
  end_free (e);
}

static void
test_pktinfo_source (void)
{
  pktinfo_source (FALSE);
}

static void
test_pktinfo_source_thread (void)
{
  pktinfo_source (TRUE);
}

/* The received stamp rewrites the top Via in place: the other fields
 * (in the same header line or in the next) keep their order and views,
 * and a bad value changes nothing. */
static void
test_via_replace_top (void)
{
  static const char raw[] = "OPTIONS sip:a@127.0.0.1 SIP/2.0\r\n"
                            "Via: SIP/2.0/UDP 127.0.0.5:5070;branch=z9hG4bKone;rport, "
                            "SIP/2.0/TCP 127.0.0.6;branch=z9hG4bKtwo\r\n"
                            "From: <sip:b@127.0.0.1>;tag=f\r\nTo: <sip:a@127.0.0.1>\r\n"
                            "Via: SIP/2.0/UDP 127.0.0.7;branch=z9hG4bKthree\r\n"
                            "Call-ID: vrt@127.0.0.1\r\nCSeq: 1 OPTIONS\r\n"
                            "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
  g_autoptr (SpSipMessage) msg = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) wire = NULL;
  g_autofree char *text = NULL;
  const GPtrArray *vias;
  const SpSipVia *top;
  const char *first, *second, *third;
  gsize len;

  msg = sp_sip_message_parse ((const guint8 *) raw, sizeof raw - 1, SP_SIP_FRAMING_DATAGRAM, NULL,
                              &error);
  g_assert_no_error (error);
  g_assert_true (sp_sip_via_replace_top (
      msg, "SIP/2.0/UDP 127.0.0.5:5070;branch=z9hG4bKone;received=127.0.0.9;rport=5999", &error));
  g_assert_no_error (error);
  vias = sp_sip_message_get_vias (msg);
  g_assert_cmpuint (vias->len, ==, 3);
  top = g_ptr_array_index (vias, 0);
  g_assert_cmpstr (top->received, ==, "127.0.0.9");
  g_assert_cmpint (top->rport, ==, 5999);
  g_assert_cmpstr (top->branch, ==, "z9hG4bKone");
  g_assert_cmpstr (((SpSipVia *) g_ptr_array_index (vias, 1))->branch, ==, "z9hG4bKtwo");
  g_assert_cmpstr (((SpSipVia *) g_ptr_array_index (vias, 2))->branch, ==, "z9hG4bKthree");

  wire = sp_sip_message_serialize (msg);
  text = g_strndup (g_bytes_get_data (wire, &len), g_bytes_get_size (wire));
  first = strstr (text, "received=127.0.0.9;rport=5999");
  second = strstr (text, "z9hG4bKtwo");
  third = strstr (text, "z9hG4bKthree");
  g_assert_nonnull (first);
  g_assert_nonnull (second);
  g_assert_nonnull (third);
  g_assert_true (first < second && second < third);
  g_assert_null (strstr (text, "rport,"));

  /* The single-field line: replaced; a bad value: nothing changes. */
  g_assert_true (sp_sip_via_replace_top (msg, "SIP/2.0/UDP 127.0.0.8;branch=z9hG4bKnew", NULL));
  g_assert_cmpstr (sp_sip_message_get_via (msg)->branch, ==, "z9hG4bKnew");
  g_assert_cmpuint (sp_sip_message_get_vias (msg)->len, ==, 3);
  g_assert_false (sp_sip_via_replace_top (msg, "not a via", &error));
  g_assert_nonnull (error);
  g_assert_cmpstr (sp_sip_message_get_via (msg)->branch, ==, "z9hG4bKnew");
  g_assert_cmpuint (sp_sip_message_get_vias (msg)->len, ==, 3);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sip/transport/message-signal", test_message_signal);
  g_test_add_func ("/sip/transport/message-signal-tcp", test_message_signal_tcp);
  g_test_add_func ("/sip/transport/tcp-keepalive", test_tcp_keepalive);
  g_test_add_func ("/sip/transport/udp-to-tcp", test_udp_to_tcp_switch);
  g_test_add_func ("/sip/transport/tcp-idle-and-partial", test_tcp_idle_and_partial);
  g_test_add_func ("/sip/transport/tcp-hold", test_tcp_hold);
  g_test_add_func ("/sip/transport/no-timer-without-connections",
                   test_no_timer_without_connections);
  g_test_add_func ("/sip/transport/two-families", test_two_families);
  g_test_add_func ("/sip/transport/response-not-ours", test_response_not_ours);
  g_test_add_func ("/sip/transport/response-maddr", test_response_maddr);
  g_test_add_func ("/sip/transport/tcp-per-address-cap", test_tcp_per_address_cap);
  g_test_add_func ("/sip/transport/via-replace-top", test_via_replace_top);
  g_test_add_func ("/sip/transport/dual-stack", test_dual_stack);
  g_test_add_func ("/sip/transport/pktinfo-source", test_pktinfo_source);
  g_test_add_func ("/sip/transport/pktinfo-source-thread", test_pktinfo_source_thread);
  return g_test_run ();
}
