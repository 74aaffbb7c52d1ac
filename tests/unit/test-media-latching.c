/* Symmetric RTP for peers behind NAT: the SDP names address X, the
 * packets come from Y. The session latches to Y (audio heard, replies go
 * to Y), and a third source afterwards is dropped and counted. In strict
 * mode only X counts. Audio is checked by frequency (Goertzel). */

#include "audio/device.h"
#include "audio/wav.h"
#include "media/codec.h"
#include "media/rtp.h"
#include "media/session.h"

#include "../common/goertzel.h"

#include <glib/gstdio.h>
#include <string.h>

#define ADDR_US       "127.0.0.27"
#define ADDR_SDP      "127.0.0.28" /* what the peer's SDP says (its private address) */
#define ADDR_NAT      "127.0.0.29" /* where its packets really come from */
#define ADDR_STRANGER "127.0.0.30"
#define RATE          8000
#define TONE_AMPL     8000

typedef struct
{
  char *dir, *tone_440, *rec;
  gint16 tone_1000[RATE];
  SpCodec *codec;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autofree gint16 *tone = g_new (gint16, RATE);

  f->dir = g_dir_make_tmp ("sp-latching-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
  f->tone_440 = g_build_filename (f->dir, "tone-440.wav", NULL);
  f->rec = g_build_filename (f->dir, "rec.wav", NULL);
  goertzel_make_tone (tone, RATE, RATE, 440, TONE_AMPL);
  g_assert_true (sp_wav_save (f->tone_440, RATE, tone, RATE, NULL));
  goertzel_make_tone (f->tone_1000, RATE, RATE, 1000, TONE_AMPL);
  f->codec = sp_codec_new (SP_CODEC_PCMU);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  sp_codec_free (f->codec);
  g_unlink (f->tone_440);
  g_unlink (f->rec);
  g_rmdir (f->dir);
  g_free (f->tone_440);
  g_free (f->rec);
  g_free (f->dir);
}

static GSocket *
bound_socket (const char *address)
{
  g_autoptr (GSocketAddress) bind_addr = g_inet_socket_address_new_from_string (address, 0);
  GSocket *socket =
      g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);

  g_assert_nonnull (socket);
  g_assert_true (g_socket_bind (socket, bind_addr, FALSE, NULL));
  g_socket_set_blocking (socket, FALSE);
  return socket;
}

static guint16
local_port (GSocket *socket)
{
  g_autoptr (GSocketAddress) local = g_socket_get_local_address (socket, NULL);

  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
}

/* Sends @n packets of 20 ms of 1000 Hz from @socket to @to in real time,
 * with payload type @pt. */
static void
send_tone (Fixture *f, GSocket *socket, GSocketAddress *to, guint n, guint8 pt, guint32 ssrc,
           guint16 seq)
{
  gint64 next = g_get_monotonic_time ();

  for (guint i = 0; i < n; i++)
    {
      guint8 payload[160], buf[SP_RTP_MAX_PACKET];
      SpRtpPacket p = { 0 };
      gsize len;

      sp_codec_encode (f->codec, f->tone_1000 + (i * 160) % RATE, 160, payload, sizeof payload);
      p.payload_type = pt;
      p.marker = i == 0;
      p.seq = (guint16) (seq + i);
      p.timestamp = (seq + i) * 160u;
      p.ssrc = ssrc;
      p.payload = payload;
      p.payload_len = sizeof payload;
      len = sp_rtp_build (buf, sizeof buf, &p);
      g_assert_cmpint (g_socket_send_to (socket, to, (const char *) buf, len, NULL, NULL), ==,
                       (gssize) len);
      next += 20000;
      g_usleep ((gulong) MAX (next - g_get_monotonic_time (), 0));
    }
}

/* How many RTP packets wait on @socket (non-blocking), all PCMU. */
static guint
drain_rtp (GSocket *socket)
{
  guint n = 0;

  for (guint i = 0; i < 2000; i++)
    {
      guint8 buf[SP_RTP_MAX_PACKET];
      SpRtpPacket p;
      gssize len = g_socket_receive (socket, (char *) buf, sizeof buf, NULL, NULL);

      if (len <= 0)
        break;
      g_assert_true (sp_rtp_parse (buf, (gsize) len, &p, NULL));
      g_assert_cmpuint (p.payload_type, ==, 0);
      n++;
    }
  return n;
}

/* Statistics are published once a second: waits (at most 2.5 s) until
 * they count @received packets and @dropped strangers. */
static void
wait_stats (SpMediaSession *s, guint64 received, guint64 dropped, SpMediaStats *stats)
{
  gint64 deadline = g_get_monotonic_time () + 2500 * 1000;

  do
    {
      sp_media_session_get_stats (s, stats);
      if (stats->packets_received == received && stats->strangers_dropped == dropped)
        return;
      g_usleep (20000);
    }
  while (g_get_monotonic_time () < deadline);
}

static SpMediaSession *
start_session (Fixture *f, SpMediaEngine *engine, GSocket *sdp_socket, gboolean strict)
{
  g_autoptr (GError) error = NULL;
  SpMediaSession *s = sp_media_session_new (engine, ADDR_US, 0, NULL, NULL, &error);
  SpMediaParams params = { SP_CODEC_PCMU, 20, 101, FALSE, ADDR_SDP, 0, 0, TRUE, TRUE };

  g_assert_no_error (error);
  params.remote_rtp_port = local_port (sdp_socket);
  params.strict_source = strict;
  sp_media_session_set_devices (s, sp_audio_wav_source_new (f->tone_440),
                                sp_audio_wav_sink_new (f->rec));
  sp_media_session_start (s, &params);
  sp_media_session_flush (s); /* running before the peers send */
  return s;
}

static void
test_latch_to_nat_source (Fixture *f, gconstpointer data)
{
  g_autoptr (SpMediaEngine) engine = sp_media_engine_new ();
  g_autoptr (GSocket) sdp = bound_socket (ADDR_SDP);
  g_autoptr (GSocket) nat = bound_socket (ADDR_NAT);
  g_autoptr (GSocket) stranger = bound_socket (ADDR_STRANGER);
  g_autoptr (SpMediaSession) s = start_session (f, engine, sdp, FALSE);
  g_autoptr (GSocketAddress) us =
      g_inet_socket_address_new_from_string (ADDR_US, sp_media_session_get_rtp_port (s));
  g_autofree gint16 *rec = NULL;
  SpMediaStats stats;
  GoertzelVerdict v;
  guint before, to_sdp, to_nat, after;
  guint rate = 0;
  gsize n = 0;

  /* Before anything arrives we send where the SDP says. */
  g_usleep (200000);
  before = drain_rtp (sdp);
  g_assert_cmpuint (before, >=, 5);

  send_tone (f, nat, us, 75, 0, 0x11111111, 1);
  wait_stats (s, 75, 0, &stats);
  g_assert_true (stats.latched);
  g_assert_cmpuint (stats.packets_received, ==, 75);
  g_assert_cmpuint (stats.strangers_dropped, ==, 0);
  /* Replies went to the NAT address from the first packet on: at most a
   * packet or two in flight reached the SDP address after the latch. */
  to_sdp = drain_rtp (sdp);
  to_nat = drain_rtp (nat);
  g_test_message ("before %u, then to the SDP address %u, to the NAT source %u", before, to_sdp,
                  to_nat);
  g_assert_cmpuint (to_sdp, <=, 2);
  g_assert_cmpuint (to_nat, >=, 60);

  /* Latched: a third source is dropped and counted, never heard. */
  send_tone (f, stranger, us, 10, 0, 0x33333333, 500);
  wait_stats (s, 75, 10, &stats);
  sp_media_session_stop (s);
  sp_media_session_flush (s);
  g_assert_cmpuint (stats.strangers_dropped, ==, 10);
  g_assert_cmpuint (stats.packets_received, ==, 75);
  g_assert_cmpuint (stats.ssrc_changes, ==, 0);
  after = drain_rtp (stranger);
  g_assert_cmpuint (after, ==, 0);

  /* The NAT'ed peer's 1000 Hz was heard. */
  g_assert_true (sp_wav_load (f->rec, &rate, &rec, &n, NULL));
  g_assert_cmpuint (rate, ==, RATE);
  g_assert_cmpuint (n, >=, RATE);
  goertzel_compare (rec + RATE / 5, RATE * 6 / 5, RATE, 1000, 440, 1e4, &v);
  g_test_message ("%u blocks: %u hear 1000 Hz, %u hear 440 Hz, %u silent", v.blocks, v.f1_wins,
                  v.f2_wins, v.silent);
  g_assert_cmpuint (v.f1_wins, >=, v.blocks * 8 / 10);
  g_assert_cmpuint (v.f2_wins, ==, 0);
}

/* Only valid RTP in a negotiated format may latch: a datagram that is not
 * RTP, or RTP on a payload type we never agreed, leaves us unlatched. */
static void
test_junk_does_not_latch (Fixture *f, gconstpointer data)
{
  g_autoptr (SpMediaEngine) engine = sp_media_engine_new ();
  g_autoptr (GSocket) sdp = bound_socket (ADDR_SDP);
  g_autoptr (GSocket) stranger = bound_socket (ADDR_STRANGER);
  g_autoptr (SpMediaSession) s = start_session (f, engine, sdp, FALSE);
  g_autoptr (GSocketAddress) us =
      g_inet_socket_address_new_from_string (ADDR_US, sp_media_session_get_rtp_port (s));
  static const char junk[] = "not an RTP packet at all";
  SpMediaStats stats;
  guint sent;

  g_assert_cmpint (g_socket_send_to (stranger, us, junk, sizeof junk, NULL, NULL), ==, sizeof junk);
  send_tone (f, stranger, us, 5, 8 /* PCMA: not negotiated */, 0x44444444, 1);
  wait_stats (s, 0, 6, &stats);
  g_assert_false (stats.latched);
  g_assert_cmpuint (stats.strangers_dropped, ==, 6);
  g_assert_cmpuint (stats.packets_received, ==, 0);
  /* Still sending to the SDP address: 3 packets (60 ms of audio) within
   * a second, which a loaded machine's scheduling can stretch. */
  drain_rtp (sdp);
  sent = 0;
  for (gint64 end = g_get_monotonic_time () + G_USEC_PER_SEC;
       sent < 3 && g_get_monotonic_time () < end;)
    {
      g_usleep (20000);
      sent += drain_rtp (sdp);
    }
  g_assert_cmpuint (sent, >=, 3);
  g_assert_cmpuint (drain_rtp (stranger), ==, 0);
  sp_media_session_stop (s);
  sp_media_session_flush (s);
}

/* Strict mode: packets from anywhere but the SDP host are strangers. */
static void
test_strict_source (Fixture *f, gconstpointer data)
{
  g_autoptr (SpMediaEngine) engine = sp_media_engine_new ();
  g_autoptr (GSocket) sdp = bound_socket (ADDR_SDP);
  g_autoptr (GSocket) nat = bound_socket (ADDR_NAT);
  g_autoptr (SpMediaSession) s = start_session (f, engine, sdp, TRUE);
  g_autoptr (GSocketAddress) us =
      g_inet_socket_address_new_from_string (ADDR_US, sp_media_session_get_rtp_port (s));
  SpMediaStats stats;

  send_tone (f, nat, us, 20, 0, 0x11111111, 1);
  wait_stats (s, 0, 20, &stats);
  g_assert_false (stats.latched);
  g_assert_cmpuint (stats.strangers_dropped, ==, 20);
  g_assert_cmpuint (stats.packets_received, ==, 0);
  g_assert_cmpuint (drain_rtp (nat), ==, 0);
  g_assert_cmpuint (drain_rtp (sdp), >=, 10);

  /* The SDP host itself still latches. */
  send_tone (f, sdp, us, 5, 0, 0x22222222, 1);
  wait_stats (s, 5, 20, &stats);
  sp_media_session_stop (s);
  sp_media_session_flush (s);
  g_assert_true (stats.latched);
  g_assert_cmpuint (stats.packets_received, ==, 5);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/media-latching/nat-source", Fixture, NULL, fixture_setup, test_latch_to_nat_source,
              fixture_teardown);
  g_test_add ("/media-latching/junk-does-not-latch", Fixture, NULL, fixture_setup,
              test_junk_does_not_latch, fixture_teardown);
  g_test_add ("/media-latching/strict", Fixture, NULL, fixture_setup, test_strict_source,
              fixture_teardown);
  return g_test_run ();
}
