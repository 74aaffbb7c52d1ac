/* The server's media relay (SpRelay) on loopback, and the SDP the B2BUA
 *  sends around it:
 *  - relay alone: strict latching (the SDP address at once; another port
 *    of the phone's host after SP_RELAY_LEARN_PACKETS in-sequence packets
 *    of one SSRC; never a stranger, a non-RTP packet, a payload type the
 *    SDP did not name or a changing SSRC; a re-INVITE keeps the latch;
 *    nothing sent to a host only an SDP named; strangers dropped and
 *    counted), random ports, RTP and RTCP relayed both ways byte for byte,
 *    ports released when a call ends, an exhausted port range, bad
 *    settings;
 *  - through SpServer with scripted UDP peers (caller A on 127.0.0.183,
 *    callee B on 127.0.0.101, media on 127.0.0.50 as in the seed's LAN):
 *    c=, o= and m= moved to the relay in both directions, a=rtcp dropped
 *    (the relay's RTCP is RTP + 1), media crossing the relay with the
 *    rewritten ports, relay ports free after BYE, and without the relay
 *    the SDP passed on byte for byte. */
#include <errno.h>
#include <string.h>

#include "server/relay.h"
#include "server/server.h"
#include "sip/sdp.h"
#include "sip/stack.h"

#include "../common/b2bua-fixture.h"

#define RELAY_HOST "127.0.0.50"
#define A_HOST     "127.0.0.183"
#define B_HOST     "127.0.0.101"
#define WAIT_MS    2000

/* ---- UDP helpers -------------------------------------------------------- */

static GSocket *
udp_bind (const char *host, guint16 port, GError **error)
{
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (host);
  g_autoptr (GSocketAddress) sa = g_inet_socket_address_new (addr, port);
  g_autoptr (GSocket) socket =
      g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, error);

  if (socket == NULL || !g_socket_bind (socket, sa, FALSE, error))
    return NULL;
  g_socket_set_blocking (socket, FALSE);
  return g_steal_pointer (&socket);
}

static guint16
local_port (GSocket *socket)
{
  g_autoptr (GSocketAddress) local = g_socket_get_local_address (socket, NULL);

  g_assert_nonnull (local);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
}

/* An even port on @host with @n free ports from it: other test programs
 * (and other people's runs) share the machine, so no fixed ports. */
static guint16
free_range (const char *host, guint n)
{
  for (guint attempt = 0; attempt < 200; attempt++)
    {
      guint16 base = (guint16) (20000 + 2 * g_random_int_range (0, 5000));
      GSocket *held[64] = { NULL };
      gboolean ok = TRUE;

      g_assert_cmpuint (n, <=, G_N_ELEMENTS (held));
      for (guint i = 0; i < n && ok; i++)
        ok = (held[i] = udp_bind (host, (guint16) (base + i), NULL)) != NULL;
      for (guint i = 0; i < n; i++)
        g_clear_object (&held[i]);
      if (ok)
        return base;
    }
  g_assert_not_reached ();
  return 0;
}

/* An RTP/RTCP pair of sockets on @host (RTCP one above). */
typedef struct
{
  GSocket *rtp;
  GSocket *rtcp;
  guint16 port;
} Pair;

static void
pair_init (Pair *pair, const char *host)
{
  g_autoptr (GError) error = NULL;

  pair->port = free_range (host, 2);
  pair->rtp = udp_bind (host, pair->port, &error);
  g_assert_no_error (error);
  pair->rtcp = udp_bind (host, (guint16) (pair->port + 1), &error);
  g_assert_no_error (error);
}

static void
pair_clear (Pair *pair)
{
  g_clear_object (&pair->rtp);
  g_clear_object (&pair->rtcp);
}

static void
send_to (GSocket *socket, const char *host, guint16 port, const guint8 *data, gsize len)
{
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (host);
  g_autoptr (GSocketAddress) sa = g_inet_socket_address_new (addr, port);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_socket_send_to (socket, sa, (const char *) data, len, NULL, &error), ==,
                   (gssize) len);
  g_assert_no_error (error);
}

/* The next datagram on @socket within @ms (-1 when none); @from_port
 * (optional) gets its source port, checked to come from RELAY_HOST. */
static gssize
recv_within (GSocket *socket, guint8 *buf, gsize size, guint ms, guint16 *from_port)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < deadline)
    {
      g_autoptr (GSocketAddress) from = NULL;
      gssize n = g_socket_receive_from (socket, &from, (char *) buf, size, NULL, NULL);

      if (n >= 0)
        {
          GInetSocketAddress *in = G_INET_SOCKET_ADDRESS (from);
          g_autofree char *host = g_inet_address_to_string (g_inet_socket_address_get_address (in));

          g_assert_cmpstr (host, ==, RELAY_HOST);
          if (from_port != NULL)
            *from_port = g_inet_socket_address_get_port (in);
          return n;
        }
      /* The server tests need the main loop for SIP meanwhile. */
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (500);
    }
  return -1;
}

#define SSRC 0x5eed0001u

/* @len bytes of an RTP packet (PCMU, SSRC @ssrc, sequence @seq) with
 * every byte value (0 and 0xff too) in the payload. */
static void
make_rtp (guint8 *buf, gsize len, guint seq, guint32 ssrc, guint pt)
{
  g_assert_cmpuint (len, >=, 12);
  buf[0] = 0x80;
  buf[1] = (guint8) pt;
  buf[2] = (guint8) (seq >> 8);
  buf[3] = (guint8) seq;
  buf[4] = buf[5] = buf[6] = 0;
  buf[7] = (guint8) seq;
  buf[8] = (guint8) (ssrc >> 24);
  buf[9] = (guint8) (ssrc >> 16);
  buf[10] = (guint8) (ssrc >> 8);
  buf[11] = (guint8) ssrc;
  for (gsize i = 12; i < len; i++)
    buf[i] = (guint8) (i * 7 + seq * 13);
}

static void
make_packet (guint8 *buf, gsize len, guint seq)
{
  make_rtp (buf, len, seq, SSRC, 0);
}

/* A receiver report of @len bytes (a multiple of 4). */
static void
make_rtcp (guint8 *buf, gsize len, guint seed)
{
  g_assert_cmpuint (len % 4, ==, 0);
  g_assert_cmpuint (len, >=, 8);
  buf[0] = 0x80;
  buf[1] = 201;
  buf[2] = (guint8) ((len / 4 - 1) >> 8);
  buf[3] = (guint8) (len / 4 - 1);
  buf[4] = 0x5e;
  buf[5] = 0xed;
  buf[6] = 0;
  buf[7] = 1;
  for (gsize i = 8; i < len; i++)
    buf[i] = (guint8) (i * 5 + seed);
}

/* @socket sends @packet to @port of the relay, and @expect gets exactly
 * that from the relay's @out_port. */
static void
check_relayed_packet (GSocket *socket, guint16 port, GSocket *expect, guint16 out_port,
                      const guint8 *sent, gsize len)
{
  guint8 got[2048];
  guint16 from = 0;
  gssize n;

  send_to (socket, RELAY_HOST, port, sent, len);
  n = recv_within (expect, got, sizeof got, WAIT_MS, &from);
  g_assert_cmpint (n, ==, (gssize) len);
  g_assert_cmpmem (got, (gsize) n, sent, len);
  g_assert_cmpuint (from, ==, out_port);
}

static void
check_relayed (GSocket *socket, guint16 port, GSocket *expect, guint16 out_port, gsize len,
               guint seq)
{
  guint8 sent[1500];

  g_assert_cmpuint (len, <=, sizeof sent);
  make_packet (sent, len, seq);
  check_relayed_packet (socket, port, expect, out_port, sent, len);
}

static void
check_relayed_rtcp (GSocket *socket, guint16 port, GSocket *expect, guint16 out_port, gsize len,
                    guint seed)
{
  guint8 sent[1500];

  make_rtcp (sent, len, seed);
  check_relayed_packet (socket, port, expect, out_port, sent, len);
}

/* Nothing arrives on @socket for @ms. */
static void
check_silent (GSocket *socket, guint ms)
{
  guint8 buf[2048];

  g_assert_cmpint (recv_within (socket, buf, sizeof buf, ms, NULL), ==, -1);
}

/* Waits until the relay thread ran every command queued so far: a call
 * added and freed at once is gone only once its CMD_FREE (queued after
 * the others) has run. */
static void
relay_barrier (SpRelay *relay)
{
  g_autoptr (GError) error = NULL;
  guint before = sp_relay_get_n_calls (relay);
  SpRelayCall *dummy = sp_relay_call_new (relay, &error);

  g_assert_no_error (error);
  sp_relay_call_free (dummy);
  for (guint i = 0; i < 2000 && sp_relay_get_n_calls (relay) != before; i++)
    g_usleep (1000);
  g_assert_cmpuint (sp_relay_get_n_calls (relay), ==, before);
}

/* Waits until the relay thread closed freed calls, @n left. */
static void
wait_calls (SpRelay *relay, guint n)
{
  for (guint i = 0; i < 2000 && sp_relay_get_n_calls (relay) != n; i++)
    g_usleep (1000);
  g_assert_cmpuint (sp_relay_get_n_calls (relay), ==, n);
}

static void
wait_stats (SpRelayCall *call, SpRelaySide side, guint64 received, SpRelayStats *stats)
{
  for (guint i = 0; i < 2000; i++)
    {
      sp_relay_call_get_stats (call, side, stats);
      if (stats->received >= received)
        return;
      g_usleep (1000);
    }
  g_assert_cmpuint (stats->received, ==, received);
}

static gboolean
port_free (const char *host, guint16 port)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) socket = udp_bind (host, port, &error);

  if (socket == NULL)
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
  return socket != NULL;
}

static SpRelay *
relay_new_free_range (guint n_ports, guint16 *base)
{
  g_autoptr (GError) error = NULL;
  SpRelay *relay;

  *base = free_range (RELAY_HOST, n_ports);
  relay = sp_relay_new (RELAY_HOST, *base, (guint16) (*base + n_ports - 1), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sp_relay_get_host (relay), ==, RELAY_HOST);
  return relay;
}

/* @side's SDP named @host:@port (PCMU and telephone-event) and its SIP
 * came from @signalling. */
static void
set_remote (SpRelayCall *call, SpRelaySide side, const char *host, guint16 port,
            const char *signalling)
{
  SpRelayRemote remote = { .host = host, .rtp_port = port, .signalling_host = signalling };

  sp_relay_remote_add_payload_type (&remote, 0);
  sp_relay_remote_add_payload_type (&remote, 101);
  sp_relay_call_set_remote (call, side, &remote);
}

/* ---- the relay alone ------------------------------------------------------ */

/* A call with A's SDP naming a.rtp and B's b.rtp, both on the hosts
 * their SIP came from (A's from @a_signalling). */
typedef struct
{
  SpRelay *relay;
  SpRelayCall *call;
  guint16 pa, pb;
  Pair a, b;
} Two;

static void
two_init (Two *t, const char *a_signalling)
{
  guint16 base;
  g_autoptr (GError) error = NULL;

  t->relay = relay_new_free_range (16, &base);
  t->call = sp_relay_call_new (t->relay, &error);
  g_assert_no_error (error);
  t->pa = sp_relay_call_get_port (t->call, SP_RELAY_SIDE_A);
  t->pb = sp_relay_call_get_port (t->call, SP_RELAY_SIDE_B);
  pair_init (&t->a, A_HOST);
  pair_init (&t->b, B_HOST);
  set_remote (t->call, SP_RELAY_SIDE_A, A_HOST, t->a.port, a_signalling);
  set_remote (t->call, SP_RELAY_SIDE_B, B_HOST, t->b.port, B_HOST);
  relay_barrier (t->relay);
}

static void
two_clear (Two *t)
{
  sp_relay_call_free (t->call);
  wait_calls (t->relay, 0);
  g_clear_pointer (&t->relay, sp_relay_free);
  pair_clear (&t->a);
  pair_clear (&t->b);
}

static void
send_rtp (GSocket *socket, guint16 port, guint seq, guint32 ssrc, guint pt)
{
  guint8 buf[172];

  make_rtp (buf, sizeof buf, seq, ssrc, pt);
  send_to (socket, RELAY_HOST, port, buf, sizeof buf);
}

static GSocket *
bind_any (const char *host)
{
  g_autoptr (GError) error = NULL;
  GSocket *socket = udp_bind (host, 0, &error);

  g_assert_no_error (error);
  return socket;
}

static void
check_stats (SpRelayCall *call, SpRelaySide side, guint64 received, guint64 relayed,
             guint64 rejected)
{
  SpRelayStats s;

  wait_stats (call, side, received, &s);
  g_assert_cmpuint (s.received, ==, received);
  g_assert_cmpuint (s.relayed, ==, relayed);
  g_assert_cmpuint (s.rejected, ==, rejected);
  g_assert_cmpuint (s.dropped, ==, received - relayed);
}

/* The SDP address latches on its first packet; before that, media goes
 * to it since it is on the host the side's SIP came from. */
static void
test_sdp_address_latches (void)
{
  Two t;

  two_init (&t, A_HOST);
  g_assert_cmpuint (t.pa % 2, ==, 0);
  g_assert_cmpuint (t.pb % 2, ==, 0);
  g_assert_cmpuint (t.pa, !=, t.pb);
  check_relayed (t.b.rtp, t.pb, t.a.rtp, t.pa, 172, 1);
  check_relayed (t.a.rtp, t.pa, t.b.rtp, t.pb, 172, 2);
  check_relayed (t.a.rtp, t.pa, t.b.rtp, t.pb, 172, 3);
  check_relayed_rtcp (t.a.rtcp, (guint16) (t.pa + 1), t.b.rtcp, (guint16) (t.pb + 1), 32, 1);
  check_relayed_rtcp (t.b.rtcp, (guint16) (t.pb + 1), t.a.rtcp, (guint16) (t.pa + 1), 52, 2);
  check_stats (t.call, SP_RELAY_SIDE_A, 3, 3, 0);
  check_stats (t.call, SP_RELAY_SIDE_B, 2, 2, 0);
  two_clear (&t);
}

/* A dual-stack SIP socket names A as ::ffff:127.0.0.183: the same host. */
static void
test_mapped_signalling (void)
{
  Two t;

  two_init (&t, "::ffff:" A_HOST);
  check_relayed (t.b.rtp, t.pb, t.a.rtp, t.pa, 172, 1);
  two_clear (&t);
}

/* RTP bleed: a stranger sprays both ports (in sequence, one SSRC, the
 * right payload type) before the phones send: nothing latches on it, it
 * gets nothing, and the phones' media flows once they send. */
static void
test_stranger_first (void)
{
  Two t;
  g_autoptr (GSocket) stranger = bind_any ("127.0.0.77");
  guint8 rr[32];

  two_init (&t, A_HOST);
  make_rtcp (rr, sizeof rr, 9);
  for (guint i = 0; i < 3 * SP_RELAY_LEARN_PACKETS; i++)
    {
      send_rtp (stranger, t.pa, 100 + i, 0xbad, 0);
      send_rtp (stranger, t.pb, 100 + i, 0xbad, 0);
      send_to (stranger, RELAY_HOST, (guint16) (t.pa + 1), rr, sizeof rr);
    }
  check_stats (t.call, SP_RELAY_SIDE_A, 6 * SP_RELAY_LEARN_PACKETS, 0, 6 * SP_RELAY_LEARN_PACKETS);
  check_stats (t.call, SP_RELAY_SIDE_B, 3 * SP_RELAY_LEARN_PACKETS, 0, 3 * SP_RELAY_LEARN_PACKETS);
  check_silent (t.a.rtp, 50);
  check_silent (t.b.rtp, 50);
  check_relayed (t.b.rtp, t.pb, t.a.rtp, t.pa, 172, 1);
  check_relayed (t.a.rtp, t.pa, t.b.rtp, t.pb, 172, 2);
  check_relayed (t.b.rtp, t.pb, t.a.rtp, t.pa, 172, 3);
  check_silent (stranger, 100);
  two_clear (&t);
}

/* Only valid RTP latches, even from the SDP address: here A's SDP names
 * a host its SIP did not come from, so nothing goes there before. */
static void
test_not_rtp (void)
{
  Two t;
  static const guint8 hello[] = "hello, relay";
  guint8 pkt[172];

  two_init (&t, "127.0.0.99");
  /* B latches at once, but A's side has nowhere to send yet. */
  send_rtp (t.b.rtp, t.pb, 1, SSRC, 0);
  check_stats (t.call, SP_RELAY_SIDE_B, 1, 0, 0);
  check_silent (t.a.rtp, 50);

  /* Not version 2; too short for an RTP header; RTCP on the RTP port. */
  send_to (t.a.rtp, RELAY_HOST, t.pa, hello, sizeof hello);
  make_packet (pkt, sizeof pkt, 1);
  send_to (t.a.rtp, RELAY_HOST, t.pa, pkt, 8);
  make_rtcp (pkt, 32, 1);
  send_to (t.a.rtp, RELAY_HOST, t.pa, pkt, 32);
  /* A DTLS-looking record (RFC 7983: first byte 20..63). */
  memset (pkt, 0, sizeof pkt);
  pkt[0] = 22;
  send_to (t.a.rtp, RELAY_HOST, t.pa, pkt, 40);
  check_stats (t.call, SP_RELAY_SIDE_A, 4, 0, 4);
  send_rtp (t.b.rtp, t.pb, 2, SSRC, 0);
  check_stats (t.call, SP_RELAY_SIDE_B, 2, 0, 0);
  check_silent (t.a.rtp, 50);
  check_silent (t.b.rtp, 50);

  /* Now real RTP from the SDP address: latched, both ways. */
  check_relayed (t.a.rtp, t.pa, t.b.rtp, t.pb, 172, 3);
  check_relayed (t.b.rtp, t.pb, t.a.rtp, t.pa, 172, 4);
  check_stats (t.call, SP_RELAY_SIDE_A, 5, 1, 4);
  two_clear (&t);
}

/* A DTLS datagram of one record of @type with @len bytes in all: what
 * a DTLS-SRTP phone sends before any SRTP (RFC 7983: first byte 20..63). */
static void
make_dtls (guint8 *buf, gsize len, guint8 type, guint seed)
{
  g_assert_cmpuint (len, >, 13);
  for (gsize i = 0; i < len; i++)
    buf[i] = (guint8) (seed * 31 + i);
  buf[0] = type;
  buf[1] = 0xfe;
  buf[2] = 0xfd;
  buf[11] = (guint8) ((len - 13) >> 8);
  buf[12] = (guint8) (len - 13);
}

/* DTLS-SRTP through the relay: a handshake record from the SDP address
 * latches (the handshake comes before any SRTP), both ways; a stranger's
 * handshake records, however well formed, never latch; a malformed
 * record from the SDP address does not; another port of a latched
 * phone's host does not take the latch over with DTLS. SRTP then flows on
 * the latch. */
static void
test_dtls (void)
{
  Two t;
  g_autoptr (GSocket) stranger = bind_any ("127.0.0.77");
  g_autoptr (GSocket) b_other = bind_any (B_HOST);
  guint8 pkt[300];

  two_init (&t, A_HOST);
  for (guint i = 0; i < 20; i++)
    {
      make_dtls (pkt, 200, 22, i);
      send_to (stranger, RELAY_HOST, t.pa, pkt, 200);
      send_to (stranger, RELAY_HOST, t.pb, pkt, 200);
    }
  check_stats (t.call, SP_RELAY_SIDE_A, 20, 0, 20);
  check_stats (t.call, SP_RELAY_SIDE_B, 20, 0, 20);
  /* A record whose length runs past the datagram, a bad version, and
   * application data (not a handshake) from the SDP address: no latch. */
  make_dtls (pkt, 200, 22, 1);
  pkt[12] = 250;
  send_to (t.b.rtp, RELAY_HOST, t.pb, pkt, 200);
  make_dtls (pkt, 200, 22, 1);
  pkt[2] = 0x03;
  send_to (t.b.rtp, RELAY_HOST, t.pb, pkt, 200);
  make_dtls (pkt, 200, 23, 1);
  send_to (t.b.rtp, RELAY_HOST, t.pb, pkt, 200);
  check_stats (t.call, SP_RELAY_SIDE_B, 23, 0, 23);
  check_silent (t.a.rtp, 50);

  /* The callee's ClientHello (two records in one datagram) reaches the
   * caller, whose SDP is on its SIP host; the caller's answer goes back. */
  make_dtls (pkt, 150, 22, 2);
  make_dtls (pkt + 150, 150, 22, 3);
  check_relayed_packet (t.b.rtp, t.pb, t.a.rtp, t.pa, pkt, 300);
  make_dtls (pkt, 250, 22, 4);
  check_relayed_packet (t.a.rtp, t.pa, t.b.rtp, t.pb, pkt, 250);
  make_dtls (pkt, 60, 20, 5);
  check_relayed_packet (t.a.rtp, t.pa, t.b.rtp, t.pb, pkt, 60);
  /* SRTP: RTP's header, then ciphertext. */
  check_relayed (t.a.rtp, t.pa, t.b.rtp, t.pb, 182, 1);
  check_relayed (t.b.rtp, t.pb, t.a.rtp, t.pa, 182, 1);
  /* Another port of B's host: DTLS does not move a live latch. */
  make_dtls (pkt, 200, 22, 6);
  send_to (b_other, RELAY_HOST, t.pb, pkt, 200);
  check_silent (t.a.rtp, 50);
  check_relayed (t.a.rtp, t.pa, t.b.rtp, t.pb, 182, 2);
  check_silent (stranger, 50);
  check_silent (b_other, 50);
  two_clear (&t);
}

/* A DTLS-SRTP phone behind NAT: its SDP names a private address, its
 * first packet is a ClientHello from its SIP host's mapping, which
 * latches (nothing else would come before the handshake is through). */
static void
test_dtls_nat (void)
{
  Two t;
  g_autoptr (GSocket) a_nat = bind_any (A_HOST);
  guint8 pkt[200];

  two_init (&t, A_HOST);
  set_remote (t.call, SP_RELAY_SIDE_A, "10.1.2.3", 4000, A_HOST);
  relay_barrier (t.relay);
  make_dtls (pkt, sizeof pkt, 22, 1);
  check_relayed_packet (a_nat, t.pa, t.b.rtp, t.pb, pkt, sizeof pkt);
  make_dtls (pkt, sizeof pkt, 22, 2);
  check_relayed_packet (t.b.rtp, t.pb, a_nat, t.pa, pkt, sizeof pkt);
  check_relayed (a_nat, t.pa, t.b.rtp, t.pb, 182, 1);
  two_clear (&t);
}

/* Another port of A's host sends: a payload type no SDP named, an SSRC
 * that changes, or sequence numbers that jump never latch it. Nor does
 * the SDP address itself with a wrong payload type. */
static void
test_wrong_payload_or_ssrc (void)
{
  Two t;
  g_autoptr (GSocket) a_nat = bind_any (A_HOST);
  guint n = 2 * SP_RELAY_LEARN_PACKETS;

  two_init (&t, A_HOST);
  for (guint i = 0; i < n; i++)
    send_rtp (a_nat, t.pa, 10 + i, SSRC, 8);
  for (guint i = 0; i < n; i++)
    send_rtp (a_nat, t.pa, 100 + i, SSRC + i, 0);
  for (guint i = 0; i < n; i++)
    send_rtp (a_nat, t.pa, 200 + 2 * i, SSRC, 0);
  for (guint i = 0; i < n; i++)
    send_rtp (t.a.rtp, t.pa, 300 + i, SSRC, 96);
  check_stats (t.call, SP_RELAY_SIDE_A, 4 * n, 0, 4 * n);
  check_silent (t.b.rtp, 50);
  /* B's media still goes to A's SDP address, not to a_nat. */
  check_relayed (t.b.rtp, t.pb, t.a.rtp, t.pa, 172, 1);
  check_silent (a_nat, 50);
  /* telephone-event (101) is in the SDP: that one latches. */
  {
    guint8 pkt[16];
    make_rtp (pkt, sizeof pkt, 400, SSRC, 101);
    check_relayed_packet (t.a.rtp, t.pa, t.b.rtp, t.pb, pkt, sizeof pkt);
  }
  two_clear (&t);
}

/* A phone behind NAT: its SDP names a private address, its packets come
 * from its SIP host's NAT mapping. Nothing goes to the private address;
 * the mapping is learnt after SP_RELAY_LEARN_PACKETS in sequence; RTCP
 * then latches from the same host. */
static void
test_nat_private_sdp (void)
{
  Two t;
  g_autoptr (GSocket) a_nat = bind_any (A_HOST);
  g_autoptr (GSocket) a_nat_rtcp = bind_any (A_HOST);
  guint8 pkt[172];

  two_init (&t, A_HOST);
  set_remote (t.call, SP_RELAY_SIDE_A, "10.1.2.3", 4000, A_HOST);
  relay_barrier (t.relay);
  send_rtp (t.b.rtp, t.pb, 1, SSRC, 0);
  check_stats (t.call, SP_RELAY_SIDE_B, 1, 0, 0);

  for (guint i = 0; i + 1 < SP_RELAY_LEARN_PACKETS; i++)
    send_rtp (a_nat, t.pa, 50 + i, 0xa11ce, 0);
  check_stats (t.call, SP_RELAY_SIDE_A, SP_RELAY_LEARN_PACKETS - 1, 0, SP_RELAY_LEARN_PACKETS - 1);
  check_silent (t.b.rtp, 50);
  make_rtp (pkt, sizeof pkt, 50 + SP_RELAY_LEARN_PACKETS - 1, 0xa11ce, 0);
  check_relayed_packet (a_nat, t.pa, t.b.rtp, t.pb, pkt, sizeof pkt);
  check_relayed (t.b.rtp, t.pb, a_nat, t.pa, 172, 2);
  check_relayed_rtcp (a_nat_rtcp, (guint16) (t.pa + 1), t.b.rtcp, (guint16) (t.pb + 1), 32, 3);
  check_relayed_rtcp (t.b.rtcp, (guint16) (t.pb + 1), a_nat_rtcp, (guint16) (t.pa + 1), 32, 4);
  two_clear (&t);
}

/* @socket streams RTP (in sequence, one SSRC) to @port every 20 ms
 * until the relay relays one of its packets: how many it sent (0: none
 * of @max got through) and over how long. */
static guint
stream_until_relayed (SpRelayCall *call, SpRelaySide side, GSocket *socket, guint16 port, guint seq,
                      guint max, gint64 *elapsed_us)
{
  SpRelayStats s0, s;
  gint64 start = g_get_monotonic_time ();

  sp_relay_call_get_stats (call, side, &s0);
  for (guint i = 0; i < max; i++)
    {
      send_rtp (socket, port, seq + i, 0xa11ce, 0);
      wait_stats (call, side, s0.received + i + 1, &s);
      if (s.relayed > s0.relayed)
        {
          *elapsed_us = g_get_monotonic_time () - start;
          return i + 1;
        }
      g_usleep (20000);
    }
  return 0;
}

/* Reads whatever arrived on @socket. */
static void
drain (GSocket *socket)
{
  guint8 buf[2048];

  while (recv_within (socket, buf, sizeof buf, 50, NULL) >= 0)
    ;
}

/* Latched on the SDP address, then the NAT rebinds: the new mapping is
 * learnt after SP_RELAY_LEARN_PACKETS in sequence once the old source
 * has been silent SP_RELAY_REBIND_MS; a burst between two of the live
 * source's packets takes nothing over; the SDP address, if it speaks
 * again, wins at once. */
static void
test_nat_rebinding (void)
{
  Two t;
  g_autoptr (GSocket) a_nat = bind_any (A_HOST);
  gint64 elapsed = 0;
  guint sent;

  two_init (&t, A_HOST);
  check_relayed (t.a.rtp, t.pa, t.b.rtp, t.pb, 172, 1);
  for (guint i = 0; i < 4 * SP_RELAY_LEARN_PACKETS; i++)
    send_rtp (a_nat, t.pa, 500 + i, 0xa11ce, 0);
  check_stats (t.call, SP_RELAY_SIDE_A, 1 + 4 * SP_RELAY_LEARN_PACKETS, 1,
               4 * SP_RELAY_LEARN_PACKETS);
  check_relayed (t.b.rtp, t.pb, t.a.rtp, t.pa, 172, 2);
  check_silent (a_nat, 20);

  sent = stream_until_relayed (t.call, SP_RELAY_SIDE_A, a_nat, t.pa, 600, 100, &elapsed);
  g_assert_cmpuint (sent, >=, SP_RELAY_LEARN_PACKETS);
  g_assert_cmpint (elapsed, >=, SP_RELAY_REBIND_MS * 1000 - 25000);
  drain (t.b.rtp);
  check_relayed (t.b.rtp, t.pb, a_nat, t.pa, 172, 3);
  check_silent (t.a.rtp, 50);
  check_relayed (t.a.rtp, t.pa, t.b.rtp, t.pb, 172, 4);
  check_relayed (t.b.rtp, t.pb, t.a.rtp, t.pa, 172, 5);
  check_silent (a_nat, 50);
  two_clear (&t);
}

/* A phone that sends from another of its addresses (neither its SDP's
 * nor its SIP's host): learnt over SP_RELAY_STRANGER_MS once B's media
 * flows, as long as A's named hosts have sent nothing. */
static void
test_other_address (void)
{
  Two t;
  g_autoptr (GSocket) other = bind_any ("127.0.0.79");
  gint64 elapsed = 0;
  guint sent;

  two_init (&t, A_HOST);
  check_relayed (t.b.rtp, t.pb, t.a.rtp, t.pa, 172, 1);
  sent = stream_until_relayed (t.call, SP_RELAY_SIDE_A, other, t.pa, 10, 100, &elapsed);
  g_assert_cmpuint (sent, >=, SP_RELAY_LEARN_PACKETS);
  g_assert_cmpint (elapsed, >=, SP_RELAY_STRANGER_MS * 1000 - 25000);
  drain (t.b.rtp);
  check_relayed (t.b.rtp, t.pb, other, t.pa, 172, 2);
  check_silent (t.a.rtp, 50);
  /* The SDP address speaks: it wins, and other hosts are out for good. */
  check_relayed (t.a.rtp, t.pa, t.b.rtp, t.pb, 172, 3);
  for (guint i = 0; i < 40; i++)
    {
      send_rtp (other, t.pa, 200 + i, 0xa11ce, 0);
      g_usleep (20000);
    }
  check_relayed (t.b.rtp, t.pb, t.a.rtp, t.pa, 172, 4);
  check_silent (other, 50);
  two_clear (&t);
}

/* A host that neither the SDP nor the SIP named is never learnt while
 * the call rings (no media on the other side), however well it imitates
 * a stream, nor once the phone's own address has sent. */
static void
test_third_host_never_learnt (void)
{
  Two t;
  g_autoptr (GSocket) stranger = bind_any ("127.0.0.77");
  guint n = 10 * SP_RELAY_LEARN_PACKETS;

  two_init (&t, A_HOST);
  for (guint i = 0; i < n; i++)
    send_rtp (stranger, t.pa, 700 + i, 0x5700, 0);
  check_stats (t.call, SP_RELAY_SIDE_A, n, 0, n);
  check_relayed (t.a.rtp, t.pa, t.b.rtp, t.pb, 172, 1);
  for (guint i = 0; i < n; i++)
    send_rtp (stranger, t.pa, 800 + i, 0x5700, 0);
  check_stats (t.call, SP_RELAY_SIDE_A, 2 * n + 1, 1, 2 * n);
  check_relayed (t.b.rtp, t.pb, t.a.rtp, t.pa, 172, 2);
  check_silent (stranger, 50);
  two_clear (&t);
}

/* A re-INVITE naming the same address keeps the (learnt) latch; a new
 * address forgets it and learning starts over. */
static void
test_reinvite (void)
{
  Two t;
  g_autoptr (GSocket) a_nat = bind_any (A_HOST);
  guint8 pkt[172];
  Pair a2;

  two_init (&t, A_HOST);
  for (guint i = 0; i + 1 < SP_RELAY_LEARN_PACKETS; i++)
    send_rtp (a_nat, t.pa, 900 + i, 0xa11ce, 0);
  make_rtp (pkt, sizeof pkt, 900 + SP_RELAY_LEARN_PACKETS - 1, 0xa11ce, 0);
  check_relayed_packet (a_nat, t.pa, t.b.rtp, t.pb, pkt, sizeof pkt);
  check_stats (t.call, SP_RELAY_SIDE_A, SP_RELAY_LEARN_PACKETS, 1, SP_RELAY_LEARN_PACKETS - 1);
  check_relayed (t.b.rtp, t.pb, a_nat, t.pa, 172, 1);

  set_remote (t.call, SP_RELAY_SIDE_A, A_HOST, t.a.port, A_HOST);
  relay_barrier (t.relay);
  check_relayed (t.b.rtp, t.pb, a_nat, t.pa, 172, 2);
  check_relayed (a_nat, t.pa, t.b.rtp, t.pb, 172, 3);

  pair_init (&a2, A_HOST);
  set_remote (t.call, SP_RELAY_SIDE_A, A_HOST, a2.port, A_HOST);
  relay_barrier (t.relay);
  check_relayed (t.b.rtp, t.pb, a2.rtp, t.pa, 172, 4);
  check_silent (a_nat, 50);
  send_rtp (a_nat, t.pa, 2000, 0xa11ce, 0);
  check_stats (t.call, SP_RELAY_SIDE_A, SP_RELAY_LEARN_PACKETS + 2, 2, SP_RELAY_LEARN_PACKETS);
  check_silent (t.b.rtp, 50);
  pair_clear (&a2);
  two_clear (&t);
}

/* An SDP naming a third host: nothing is sent there until it sends. */
static void
test_sdp_third_host (void)
{
  Two t;
  Pair third;

  two_init (&t, A_HOST);
  pair_init (&third, "127.0.0.78");
  set_remote (t.call, SP_RELAY_SIDE_A, "127.0.0.78", third.port, A_HOST);
  relay_barrier (t.relay);
  for (guint i = 0; i < 5; i++)
    send_rtp (t.b.rtp, t.pb, 10 + i, SSRC, 0);
  check_stats (t.call, SP_RELAY_SIDE_B, 5, 0, 0);
  check_silent (third.rtp, 100);
  check_silent (third.rtcp, 10);
  pair_clear (&third);
  two_clear (&t);
}

/* Ports are picked at random: calls held at once do not get them in
 * order (12 calls in increasing order by chance: 1 in 12!). */
static void
test_ports_random (void)
{
  guint16 base;
  g_autoptr (SpRelay) relay = relay_new_free_range (64, &base);
  SpRelayCall *calls[12];
  gboolean increasing = TRUE;
  GHashTable *seen = g_hash_table_new (NULL, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    {
      g_autoptr (GError) error = NULL;

      calls[i] = sp_relay_call_new (relay, &error);
      g_assert_no_error (error);
      for (SpRelaySide side = SP_RELAY_SIDE_A; side <= SP_RELAY_SIDE_B; side++)
        {
          guint16 port = sp_relay_call_get_port (calls[i], side);
          g_assert_cmpuint (port % 2, ==, 0);
          g_assert_cmpuint (port, >=, base);
          g_assert_cmpuint (port + 1, <=, base + 63);
          g_assert_false (g_hash_table_contains (seen, GUINT_TO_POINTER (port)));
          g_hash_table_add (seen, GUINT_TO_POINTER (port));
        }
      if (i > 0 && sp_relay_call_get_port (calls[i], SP_RELAY_SIDE_A) <
                       sp_relay_call_get_port (calls[i - 1], SP_RELAY_SIDE_A))
        increasing = FALSE;
    }
  g_assert_false (increasing);
  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    sp_relay_call_free (calls[i]);
  wait_calls (relay, 0);
  g_hash_table_unref (seen);
}

/* Nowhere to send yet (no SDP address, nothing latched): dropped. */
static void
test_no_destination (void)
{
  guint16 base;
  g_autoptr (SpRelay) relay = relay_new_free_range (8, &base);
  g_autoptr (GError) error = NULL;
  SpRelayCall *call = sp_relay_call_new (relay, &error);
  g_autoptr (GSocket) a = udp_bind (A_HOST, 0, NULL);
  guint8 pkt[20];
  SpRelayStats s;

  g_assert_no_error (error);
  make_packet (pkt, sizeof pkt, 1);
  /* An unusable address is ignored rather than queued. */
  set_remote (call, SP_RELAY_SIDE_B, B_HOST, 0, B_HOST);
  relay_barrier (relay);
  send_to (a, RELAY_HOST, sp_relay_call_get_port (call, SP_RELAY_SIDE_A), pkt, sizeof pkt);
  wait_stats (call, SP_RELAY_SIDE_A, 1, &s);
  g_assert_cmpuint (s.relayed, ==, 0);
  g_assert_cmpuint (s.dropped, ==, 1);
  sp_relay_call_free (call);
  wait_calls (relay, 0);
}

static void
test_byte_exact (void)
{
  guint16 base;
  g_autoptr (SpRelay) relay = relay_new_free_range (8, &base);
  g_autoptr (GError) error = NULL;
  SpRelayCall *call = sp_relay_call_new (relay, &error);
  Pair a, b;
  guint16 pa, pb;
  SpRelayStats s;
  static const gsize sizes[] = { 12, 172, 332, 1400, 13, 44 };

  g_assert_no_error (error);
  pa = sp_relay_call_get_port (call, SP_RELAY_SIDE_A);
  pb = sp_relay_call_get_port (call, SP_RELAY_SIDE_B);
  pair_init (&a, A_HOST);
  pair_init (&b, B_HOST);
  set_remote (call, SP_RELAY_SIDE_A, A_HOST, a.port, A_HOST);
  set_remote (call, SP_RELAY_SIDE_B, B_HOST, b.port, B_HOST);
  relay_barrier (relay);

  for (guint i = 0; i < 30; i++)
    {
      gsize len = sizes[i % G_N_ELEMENTS (sizes)];
      check_relayed (a.rtp, pa, b.rtp, pb, len, 2 * i);
      check_relayed (b.rtp, pb, a.rtp, pa, len, 2 * i + 1);
    }
  /* RTCP: port + 1 on both sides, to the SDP's RTP port + 1. */
  check_relayed_rtcp (a.rtcp, (guint16) (pa + 1), b.rtcp, (guint16) (pb + 1), 52, 100);
  check_relayed_rtcp (b.rtcp, (guint16) (pb + 1), a.rtcp, (guint16) (pa + 1), 84, 101);
  check_silent (a.rtp, 50);
  check_silent (b.rtp, 50);

  for (SpRelaySide side = SP_RELAY_SIDE_A; side <= SP_RELAY_SIDE_B; side++)
    {
      sp_relay_call_get_stats (call, side, &s);
      g_assert_cmpuint (s.received, ==, 31);
      g_assert_cmpuint (s.relayed, ==, 31);
      g_assert_cmpuint (s.dropped, ==, 0);
    }
  sp_relay_call_free (call);
  pair_clear (&a);
  pair_clear (&b);
  wait_calls (relay, 0);
}

static void
test_ports_released (void)
{
  guint16 base;
  g_autoptr (SpRelay) relay = relay_new_free_range (8, &base);
  g_autoptr (GError) error = NULL;
  SpRelayCall *call = sp_relay_call_new (relay, &error);
  guint16 ports[4];

  g_assert_no_error (error);
  ports[0] = sp_relay_call_get_port (call, SP_RELAY_SIDE_A);
  ports[1] = (guint16) (ports[0] + 1);
  ports[2] = sp_relay_call_get_port (call, SP_RELAY_SIDE_B);
  ports[3] = (guint16) (ports[2] + 1);
  for (guint i = 0; i < 4; i++)
    g_assert_false (port_free (RELAY_HOST, ports[i]));

  sp_relay_call_free (call);
  wait_calls (relay, 0);
  for (guint i = 0; i < 4; i++)
    g_assert_true (port_free (RELAY_HOST, ports[i]));
}

static void
test_exhausted (void)
{
  guint16 base;
  /* Four ports: one call (two RTP/RTCP pairs). */
  g_autoptr (SpRelay) relay = relay_new_free_range (4, &base);
  g_autoptr (GError) error = NULL;
  SpRelayCall *first = sp_relay_call_new (relay, &error);
  SpRelayCall *second;
  g_autofree char *range = g_strdup_printf ("%u-%u", base, base + 3);

  g_assert_no_error (error);
  g_assert_nonnull (first);
  second = sp_relay_call_new (relay, &error);
  g_assert_null (second);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
  g_assert_nonnull (strstr (error->message, "no free relay ports"));
  g_assert_nonnull (strstr (error->message, range));
  g_clear_error (&error);
  g_assert_cmpuint (sp_relay_get_n_calls (relay), ==, 1);

  /* Once the first call ended, its ports serve the next one. */
  sp_relay_call_free (first);
  wait_calls (relay, 0);
  second = sp_relay_call_new (relay, &error);
  g_assert_no_error (error);
  g_assert_nonnull (second);
  g_assert_cmpuint (sp_relay_call_get_port (second, SP_RELAY_SIDE_A), >=, base);
  g_assert_cmpuint (sp_relay_call_get_port (second, SP_RELAY_SIDE_B), <=, base + 2);
  sp_relay_call_free (second);
  wait_calls (relay, 0);
}

static void
test_bad_settings (void)
{
  g_autoptr (GError) error = NULL;
  SpRelay *relay;

  relay = sp_relay_new ("relay.example", 30000, 30099, &error);
  g_assert_null (relay);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* Too narrow for one call, reversed, or privileged. */
  relay = sp_relay_new (RELAY_HOST, 30000, 30002, &error);
  g_assert_null (relay);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  relay = sp_relay_new (RELAY_HOST, 30099, 30000, &error);
  g_assert_null (relay);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  relay = sp_relay_new (RELAY_HOST, 80, 200, &error);
  g_assert_null (relay);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

/* ---- through the server's B2BUA ----------------------------------------- */

typedef struct
{
  SpSipStack *stack;
  SpSipPeer bound;
  SpServer *server;
  GSocket *a; /* SIP of caller A and callee B, on 127.0.0.1 */
  GSocket *b;
  guint16 a_port;
  guint16 b_port;
  guint16 relay_base;
} Fixture;

#define RELAY_PORTS 40

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  gboolean relay = GPOINTER_TO_INT (data);
  g_autoptr (GError) error = NULL;
  SpSipTimerSettings t;

  sp_sip_timer_settings_init (&t);
  t.t1 = 50;
  f->stack = sp_sip_stack_new (NULL, &t);
  g_assert_true (
      sp_sip_stack_listen (f->stack, SP_SIP_TRANSPORT_UDP, "127.0.0.1", 0, &f->bound, &error));
  f->server = sp_server_new (NULL, NULL, "test");
  g_assert_true (sp_user_db_add (sp_server_get_users (f->server), "bob", "2", "pw", &error));
  f->relay_base = free_range (RELAY_HOST, RELAY_PORTS);
  sp_server_set_relay_ports (f->server, f->relay_base, (guint16) (f->relay_base + RELAY_PORTS - 1));
  sp_server_set_media_relay (f->server, relay);
  sp_server_set_challenge_bye (f->server, FALSE);
  /* A calls as a trunk would: no credentials (the access policy's own
   * cases are in test-accesspolicy). */
  g_assert_true (sp_server_set_trusted_peers (f->server, "127.0.0.1", &error));
  g_assert_true (sp_server_start (f->server, f->stack, RELAY_HOST, TRUE, &error));
  g_assert_no_error (error);
  f->a = udp_bind ("127.0.0.1", 0, &error);
  g_assert_no_error (error);
  f->b = udp_bind ("127.0.0.1", 0, &error);
  g_assert_no_error (error);
  f->a_port = local_port (f->a);
  f->b_port = local_port (f->b);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  sp_server_stop (f->server);
  g_object_unref (f->server);
  g_object_unref (f->stack);
  g_object_unref (f->a);
  g_object_unref (f->b);
  for (guint i = 0; i < 50 && g_main_context_iteration (NULL, FALSE); i++)
    ;
}

static void
sip_send (Fixture *f, GSocket *from, const char *text)
{
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string ("127.0.0.1");
  g_autoptr (GSocketAddress) sa = g_inet_socket_address_new (addr, f->bound.port);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_socket_send_to (from, sa, text, strlen (text), NULL, &error), ==,
                   (gssize) strlen (text));
}

static void
sip_send_message (Fixture *f, GSocket *from, SpSipMessage *msg)
{
  g_autofree char *text = sp_sip_message_to_string (msg, NULL);
  sip_send (f, from, text);
}

/* The next request @method (or response @status) on @socket; others
 * (100 Trying) skipped. */
static SpSipMessage *
sip_expect (GSocket *socket, const char *method, guint status)
{
  gint64 deadline = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;
  char buf[65536];

  while (g_get_monotonic_time () < deadline)
    {
      gssize n = g_socket_receive (socket, buf, sizeof buf, NULL, NULL);
      g_autoptr (SpSipMessage) msg = NULL;
      g_autoptr (GError) error = NULL;

      if (n <= 0)
        {
          if (!g_main_context_iteration (NULL, FALSE))
            g_usleep (500);
          continue;
        }
      msg = sp_sip_message_parse ((const guint8 *) buf, (gsize) n, SP_SIP_FRAMING_DATAGRAM, NULL,
                                  &error);
      g_assert_no_error (error);
      if (method && sp_sip_message_is_request (msg) &&
          g_strcmp0 (sp_sip_message_get_method (msg), method) == 0)
        return g_steal_pointer (&msg);
      if (!method && !sp_sip_message_is_request (msg) && sp_sip_message_get_status (msg) == status)
        return g_steal_pointer (&msg);
    }
  g_assert_not_reached ();
  return NULL;
}

static char *
a_request (Fixture *f, const char *method, const char *call_id, guint cseq, const char *to_tag,
           const char *body)
{
  g_autofree char *ruri = g_strdup_printf ("sip:2@127.0.0.1:%u", f->bound.port);

  return g_strdup_printf ("%s %s SIP/2.0\r\n"
                          "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK%08x\r\n"
                          "Max-Forwards: 70\r\n"
                          "From: <sip:anna@127.0.0.1>;tag=atag\r\n"
                          "To: <%s>%s%s\r\n"
                          "Call-ID: %s\r\n"
                          "CSeq: %u %s\r\n"
                          "Contact: <sip:anna@127.0.0.1:%u>\r\n"
                          "%s"
                          "Content-Length: %zu\r\n\r\n%s",
                          method, ruri, f->a_port, g_random_int (), ruri, to_tag ? ";tag=" : "",
                          to_tag ? to_tag : "", call_id, cseq, method, f->a_port,
                          body ? "Content-Type: application/sdp\r\n" : "", body ? strlen (body) : 0,
                          body ? body : "");
}

static void
bind_bob (Fixture *f)
{
  g_autofree char *contact = g_strdup_printf ("sip:bob@127.0.0.1:%u", f->b_port);
  g_autofree char *source = g_strdup_printf ("127.0.0.1:%u", f->b_port);

  b2bua_fixture_register (f->server, "bob", contact, source);
}

/* A phone's SDP: media c= as well as the session's, and a=rtcp. */
static char *
phone_sdp (const char *host, guint16 port, guint sess_id)
{
  return g_strdup_printf ("v=0\r\no=- %u 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
                          "m=audio %u RTP/AVP 0 101\r\nc=IN IP4 %s\r\n"
                          "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
                          "a=rtcp:%u IN IP4 %s\r\na=sendrecv\r\n",
                          sess_id, host, host, port, host, port + 1, host);
}

static char *
body_text (SpSipMessage *msg)
{
  gsize len = 0;
  const guint8 *body = sp_sip_message_get_body (msg, &len);

  g_assert_cmpuint (len, >, 0);
  return g_strndup ((const char *) body, len);
}

/* Checks @msg's SDP points at the relay (o=, both c=, no a=rtcp, the
 * codecs kept) and returns its audio port. */
static guint16
check_relay_sdp (Fixture *f, SpSipMessage *msg)
{
  g_autofree char *text = body_text (msg);
  g_autoptr (SpSdpSession) sdp = sp_sdp_session_parse (text, strlen (text), NULL);
  SpSdpMedia *m;
  SpSdpRtpmap map;
  guint port;

  g_assert_nonnull (sdp);
  m = sp_sdp_session_find_media (sdp, "audio");
  g_assert_nonnull (m);
  g_assert_cmpstr (sp_sdp_session_get_origin_address (sdp), ==, RELAY_HOST);
  g_assert_cmpstr (sp_sdp_session_get_connection (sdp)->address, ==, RELAY_HOST);
  g_assert_nonnull (sp_sdp_media_get_connection (m));
  g_assert_cmpstr (sp_sdp_media_get_connection (m)->address, ==, RELAY_HOST);
  port = sp_sdp_media_get_port (m);
  g_assert_cmpuint (port % 2, ==, 0);
  g_assert_cmpuint (port, >=, f->relay_base);
  g_assert_cmpuint (port, <, f->relay_base + RELAY_PORTS);
  g_assert_cmpint (sp_sdp_media_get_rtcp_port (m), ==, -1);
  g_assert_null (strstr (text, "a=rtcp"));
  g_assert_null (strstr (text, A_HOST));
  g_assert_null (strstr (text, B_HOST));
  g_assert_cmpuint (sp_sdp_media_get_n_formats (m), ==, 2);
  g_assert_true (sp_sdp_media_get_rtpmap (m, 101, &map));
  g_assert_true (sp_sdp_media_has_attribute (m, "sendrecv"));
  return (guint16) port;
}

typedef struct
{
  char *call_id;
  char *a_to_tag;
  SpSipMessage *b_invite;
  SpSipMessage *a_ok;
} Call;

static void
call_clear (Call *c)
{
  g_free (c->call_id);
  g_free (c->a_to_tag);
  g_clear_pointer (&c->b_invite, sp_sip_message_unref);
  g_clear_pointer (&c->a_ok, sp_sip_message_unref);
}

/* A calls 2 offering @a_sdp; B answers 200 with @b_sdp; A ACKs. */
static void
call_through (Fixture *f, const char *a_sdp, const char *b_sdp, Call *c)
{
  g_autofree char *invite = NULL;
  g_autofree char *ack = NULL;
  g_autoptr (SpSipMessage) ok = NULL;
  g_autofree char *contact = g_strdup_printf ("<sip:b@127.0.0.1:%u>", f->b_port);

  c->call_id = g_strdup_printf ("relay-%08x", g_random_int ());
  invite = a_request (f, "INVITE", c->call_id, 1, NULL, a_sdp);
  sip_send (f, f->a, invite);
  c->b_invite = sip_expect (f->b, "INVITE", 0);
  ok = sp_sip_message_new_response_to (c->b_invite, 200, NULL, "btag");
  sp_sip_message_add_header (ok, "Contact", contact, NULL);
  sp_sip_message_set_body (ok, "application/sdp", (const guint8 *) b_sdp, strlen (b_sdp));
  sip_send_message (f, f->b, ok);
  c->a_ok = sip_expect (f->a, NULL, 200);
  c->a_to_tag = g_strdup (sp_sip_name_addr_get_tag (sp_sip_message_get_to (c->a_ok)));
  ack = a_request (f, "ACK", c->call_id, 1, c->a_to_tag, NULL);
  sip_send (f, f->a, ack);
  sp_sip_message_unref (sip_expect (f->b, "ACK", 0));
}

/* A hangs up; B answers its BYE. */
static void
hang_up (Fixture *f, Call *c)
{
  g_autofree char *bye = a_request (f, "BYE", c->call_id, 2, c->a_to_tag, NULL);
  g_autoptr (SpSipMessage) b_bye = NULL;
  g_autoptr (SpSipMessage) b_ok = NULL;

  sip_send (f, f->a, bye);
  b_bye = sip_expect (f->b, "BYE", 0);
  b_ok = sp_sip_message_new_response_to (b_bye, 200, NULL, NULL);
  sip_send_message (f, f->b, b_ok);
  sp_sip_message_unref (sip_expect (f->a, NULL, 200));
}

static void
test_sdp_rewrite (Fixture *f, gconstpointer data)
{
  Pair a, b;
  g_autofree char *a_sdp = NULL;
  g_autofree char *b_sdp = NULL;
  Call c = { 0 };
  guint16 to_b, to_a;

  pair_init (&a, A_HOST);
  pair_init (&b, B_HOST);
  a_sdp = phone_sdp (A_HOST, a.port, 111);
  b_sdp = phone_sdp (B_HOST, b.port, 222);
  bind_bob (f);
  call_through (f, a_sdp, b_sdp, &c);

  /* B is offered the relay's B side, A answered with its A side. */
  to_b = check_relay_sdp (f, c.b_invite);
  to_a = check_relay_sdp (f, c.a_ok);
  g_assert_cmpuint (to_a, !=, to_b);

  /* The phones' SIP comes from 127.0.0.1 and their SDP names other
   * hosts: the relay sends to each only once it has sent from there (an
   * SDP alone could name anyone). B speaks first, into the void, then A;
   * again until A's packet reaches B (the relay thread may see B's first
   * packet before it applied B's SDP). */
  {
    guint8 pkt[172];
    gboolean through = FALSE;

    for (guint i = 0; i < 20 && !through; i++)
      {
        make_packet (pkt, sizeof pkt, 1000 + i);
        send_to (b.rtp, RELAY_HOST, to_b, pkt, sizeof pkt);
        g_usleep (20000);
        send_to (a.rtp, RELAY_HOST, to_a, pkt, sizeof pkt);
        through = recv_within (b.rtp, pkt, sizeof pkt, 200, NULL) >= 0;
      }
    g_assert_true (through);
    drain (a.rtp);
    drain (b.rtp);
    make_rtcp (pkt, 32, 1);
    send_to (b.rtcp, RELAY_HOST, (guint16) (to_b + 1), pkt, 32);
    check_silent (a.rtcp, 50);
  }
  /* The rewritten ports carry the media: A sends where A's answer says
   * and B hears it from where B's offer says, and back; RTCP on + 1. */
  for (guint i = 0; i < 5; i++)
    {
      check_relayed (a.rtp, to_a, b.rtp, to_b, 172, 2 * i);
      check_relayed (b.rtp, to_b, a.rtp, to_a, 172, 2 * i + 1);
    }
  check_relayed_rtcp (a.rtcp, (guint16) (to_a + 1), b.rtcp, (guint16) (to_b + 1), 52, 100);
  check_relayed_rtcp (b.rtcp, (guint16) (to_b + 1), a.rtcp, (guint16) (to_a + 1), 52, 101);

  /* Ports held during the call, free once it ended. */
  g_assert_false (port_free (RELAY_HOST, to_a));
  g_assert_false (port_free (RELAY_HOST, to_b));
  hang_up (f, &c);
  g_assert_cmpuint (sp_server_get_n_calls (f->server), ==, 0);
  {
    gboolean freed = FALSE;

    for (guint i = 0; i < 200 && !freed; i++)
      {
        g_autoptr (GSocket) s1 = udp_bind (RELAY_HOST, to_a, NULL);
        g_autoptr (GSocket) s2 = udp_bind (RELAY_HOST, to_b, NULL);
        g_autoptr (GSocket) s3 = udp_bind (RELAY_HOST, (guint16) (to_a + 1), NULL);
        g_autoptr (GSocket) s4 = udp_bind (RELAY_HOST, (guint16) (to_b + 1), NULL);

        freed = s1 && s2 && s3 && s4;
        if (!freed)
          g_usleep (5000);
      }
    g_assert_true (freed);
  }
  call_clear (&c);
  pair_clear (&a);
  pair_clear (&b);
}

static void
test_media_direct (Fixture *f, gconstpointer data)
{
  g_autofree char *a_sdp = phone_sdp (A_HOST, 40000, 111);
  g_autofree char *b_sdp = phone_sdp (B_HOST, 42000, 222);
  g_autofree char *to_b = NULL;
  g_autofree char *to_a = NULL;
  Call c = { 0 };

  bind_bob (f);
  call_through (f, a_sdp, b_sdp, &c);
  to_b = body_text (c.b_invite);
  to_a = body_text (c.a_ok);
  g_assert_cmpstr (to_b, ==, a_sdp);
  g_assert_cmpstr (to_a, ==, b_sdp);
  hang_up (f, &c);
  call_clear (&c);
}

#define FP_A                                                                                       \
  "sha-256 "                                                                                       \
  "5A:1B:E4:7C:9D:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:01:23:45:67:89:AB:CD:EF:"        \
  "10:20:30"
#define FP_B                                                                                       \
  "sha-256 "                                                                                       \
  "C0:FF:EE:7C:9D:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:01:23:45:67:89:AB:CD:EF:"        \
  "10:20:30"
#define CRYPTO "1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"

/* A DTLS-SRTP phone's SDP that also offers SDES keys. */
static char *
secure_sdp (const char *host, guint16 port, guint sess_id, const char *fingerprint,
            const char *setup)
{
  return g_strdup_printf ("v=0\r\no=- %u 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
                          "m=audio %u UDP/TLS/RTP/SAVP 0 101\r\nc=IN IP4 %s\r\n"
                          "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
                          "a=crypto:" CRYPTO "\r\n"
                          "a=fingerprint:%s\r\na=setup:%s\r\na=sendrecv\r\n",
                          sess_id, host, host, port, host, fingerprint, setup);
}

/* End to end through the server: the profile, a=fingerprint and a=setup
 * reach the other phone as they were; SDES keys (a=crypto) do not, with
 * the relay or without it (the server must not hand on media keys). */
static void
test_sdp_secure (Fixture *f, gconstpointer data)
{
  gboolean relay = GPOINTER_TO_INT (data);
  g_autofree char *a_sdp = secure_sdp (A_HOST, 40000, 111, FP_A, "actpass");
  g_autofree char *b_sdp = secure_sdp (B_HOST, 42000, 222, FP_B, "active");
  Call c = { 0 };
  SpSipMessage *msgs[2];
  const char *fps[2] = { FP_A, FP_B };
  const char *setups[2] = { "actpass", "active" };

  bind_bob (f);
  call_through (f, a_sdp, b_sdp, &c);
  msgs[0] = c.b_invite;
  msgs[1] = c.a_ok;
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *text = body_text (msgs[i]);
      g_autoptr (SpSdpSession) sdp = sp_sdp_session_parse (text, strlen (text), NULL);
      SpSdpMedia *m = sp_sdp_session_find_media (sdp, "audio");

      g_assert_nonnull (m);
      g_assert_cmpstr (sp_sdp_media_get_proto (m), ==, "UDP/TLS/RTP/SAVP");
      g_assert_cmpstr (sp_sdp_media_get_attribute (m, "fingerprint"), ==, fps[i]);
      g_assert_cmpstr (sp_sdp_media_get_attribute (m, "setup"), ==, setups[i]);
      g_assert_false (sp_sdp_media_has_attribute (m, "crypto"));
      g_assert_null (strstr (text, "inline:"));
      if (relay)
        check_relay_sdp (f, msgs[i]);
    }
  hang_up (f, &c);
  call_clear (&c);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/relay/sdp-address-latches", test_sdp_address_latches);
  g_test_add_func ("/relay/mapped-signalling", test_mapped_signalling);
  g_test_add_func ("/relay/stranger-first", test_stranger_first);
  g_test_add_func ("/relay/not-rtp", test_not_rtp);
  g_test_add_func ("/relay/dtls", test_dtls);
  g_test_add_func ("/relay/dtls-nat", test_dtls_nat);
  g_test_add_func ("/relay/wrong-payload-or-ssrc", test_wrong_payload_or_ssrc);
  g_test_add_func ("/relay/nat-private-sdp", test_nat_private_sdp);
  g_test_add_func ("/relay/nat-rebinding", test_nat_rebinding);
  g_test_add_func ("/relay/third-host-never-learnt", test_third_host_never_learnt);
  g_test_add_func ("/relay/other-address", test_other_address);
  g_test_add_func ("/relay/reinvite", test_reinvite);
  g_test_add_func ("/relay/sdp-third-host", test_sdp_third_host);
  g_test_add_func ("/relay/ports-random", test_ports_random);
  g_test_add_func ("/relay/no-destination", test_no_destination);
  g_test_add_func ("/relay/byte-exact", test_byte_exact);
  g_test_add_func ("/relay/ports-released", test_ports_released);
  g_test_add_func ("/relay/exhausted", test_exhausted);
  g_test_add_func ("/relay/bad-settings", test_bad_settings);
  g_test_add ("/relay/sdp-rewrite", Fixture, GINT_TO_POINTER (TRUE), fixture_setup,
              test_sdp_rewrite, fixture_teardown);
  g_test_add ("/relay/media-direct", Fixture, GINT_TO_POINTER (FALSE), fixture_setup,
              test_media_direct, fixture_teardown);
  g_test_add ("/relay/sdp-secure-direct", Fixture, GINT_TO_POINTER (FALSE), fixture_setup,
              test_sdp_secure, fixture_teardown);
  g_test_add ("/relay/sdp-secure", Fixture, GINT_TO_POINTER (TRUE), fixture_setup, test_sdp_secure,
              fixture_teardown);
  return g_test_run ();
}
