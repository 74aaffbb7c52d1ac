/* CPU seconds per call-minute of the media path, per codec: for each of
 * the two directions of a call, 3000 packets of 20 ms (one minute; 6000
 * of 10 ms for opus10, Opus as two of our phones send it on a LAN) are
 * captured (a tone), encoded, put in an RTP packet, parsed again, queued
 * in the receiver's jitter buffer and played out from it in 10 ms periods
 * (decode, PLC bookkeeping, time scaling). No sockets, no sleeping: this
 * is the work a media thread does per call, measured with the thread's
 * CPU clock. The minute is repeated SP_BENCH_ROUNDS times (default 5,
 * at most 50) and the fastest round is reported.
 *
 * Prints <codec>_cpu_s_per_call_min and <codec>_calls_per_core (60 s of
 * CPU divided by the cost of one call-minute) for pcmu, g722, opus (16 kHz,
 * 24 kbit/s, 20 ms) and opus10 (10 ms packets), in the same run.
 *
 * DTLS-SRTP (issue 16): each codec is measured a second time, its rounds
 * alternating with the plain ones, with SRTP both ways: every RTP packet
 * the sender builds is protected with its SpSrtp and unprotected by the
 * receiver's before it is parsed and queued. The suite is the one the
 * DTLS handshake below negotiates between two of our SpDtls (checked in
 * this run); the keys are fixed test keys of that suite's length, since
 * the per-packet cost does not depend on where keys come from. Prints
 * <codec>_srtp_cpu_s_per_call_min, <codec>_srtp_calls_per_core and
 * <codec>_srtp_over_plain (the phone's CPU per call with SRTP against
 * plain RTP) and <codec>_srtp_added_us_per_packet (the difference over
 * the packets of both directions). Any unprotect that fails ends the
 * program.
 *
 * dtls_handshake_cpu_ms: one DTLS-SRTP handshake between two SpDtls (a
 * client and a server, each with its own certificate like a phone's),
 * datagrams handed from one to the other in memory, CPU of both ends
 * together per handshake: the mean of SP_BENCH_HANDSHAKES (default 20,
 * at most 1000) handshakes, from sp_dtls_new to the keys and sp_dtls_free.
 * The certificates are made once before (a phone keeps its own). */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "media/codec.h"
#include "media/dtls.h"
#include "media/jitterbuffer.h"
#include "media/rtp.h"
#include "media/srtp.h"

#define MAX_PTIME_MS 20
#define MAX_RATE     16000
#define MAX_FRAME    (MAX_RATE * MAX_PTIME_MS / 1000)

/* One direction of a call: the sender's encoder and the receiver's
 * decoder and jitter buffer. */
typedef struct
{
  SpCodec *encoder, *decoder;
  SpJitterBuffer *jb;
  guint ptime_ms;
  guint16 seq;
  guint32 ts;
  gint16 tone[MAX_RATE]; /* one second, looped */
  gsize tone_pos;
  SpSrtp *protect, *unprotect; /* the sender's and the receiver's, or NULL */
} Direction;

static void
direction_init (Direction *d, SpCodecId id, guint ptime_ms, double freq)
{
  guint rate;

  d->encoder = sp_codec_new (id);
  d->decoder = sp_codec_new (id);
  d->jb = sp_jitter_buffer_new (d->decoder, 20, 200);
  rate = sp_codec_get_info (d->encoder)->sample_rate;
  for (guint i = 0; i < rate; i++)
    d->tone[i] = (gint16) (8000.0 * sin (2 * G_PI * freq * i / rate));
  d->ptime_ms = ptime_ms;
  d->seq = 1000;
  d->ts = 123456;
  d->tone_pos = 0;
  d->protect = d->unprotect = NULL;
}

static void
direction_clear (Direction *d)
{
  SpJitterBufferStats stats;

  /* The minute was real audio, not concealment. */
  sp_jitter_buffer_get_stats (d->jb, &stats);
  if (stats.received != 60000 / d->ptime_ms || stats.lost != 0 || stats.late != 0)
    g_error ("jitter buffer: %" G_GUINT64_FORMAT " received, %" G_GUINT64_FORMAT
             " lost, %" G_GUINT64_FORMAT " late",
             stats.received, stats.lost, stats.late);
  sp_jitter_buffer_free (d->jb);
  sp_codec_free (d->encoder);
  sp_codec_free (d->decoder);
}

/* With SRTP, what the wire carries: the sender protects the packet it
 * built (a tag is added), the receiver authenticates and decrypts it back
 * to the packet that was built. */
static gsize
srtp_round_trip (Direction *d, guint8 *packet, gsize n, gsize capacity)
{
  gsize plain = n;
  SpSrtpResult result;

  result = sp_srtp_protect_rtp (d->protect, packet, &n, capacity);
  if (result != SP_SRTP_OK || n <= plain)
    g_error ("SRTP protect: %s", sp_srtp_result_to_string (result));
  result = sp_srtp_unprotect_rtp (d->unprotect, packet, &n);
  if (result != SP_SRTP_OK || n != plain)
    g_error ("SRTP unprotect: %s", sp_srtp_result_to_string (result));
  return n;
}

/* One frame (a packet time) through the whole path, arriving at @now_us. */
static void
direction_frame (Direction *d, gint64 now_us, guint64 *checksum)
{
  const SpCodecInfo *info = sp_codec_get_info (d->encoder);
  gsize frame = sp_codec_get_sample_rate (d->encoder) * d->ptime_ms / 1000;
  gsize period = sp_codec_get_sample_rate (d->encoder) / 100;
  guint8 payload[SP_JITTER_BUFFER_MAX_PAYLOAD], packet[SP_RTP_MAX_PACKET];
  gint16 out[MAX_FRAME];
  SpRtpPacket tx = { 0 }, rx;
  gsize len, n;

  len = sp_codec_encode (d->encoder, d->tone + d->tone_pos, frame, payload, sizeof payload);
  d->tone_pos = (d->tone_pos + frame) % info->sample_rate;
  tx.payload_type = (guint8) info->payload_type;
  tx.seq = d->seq++;
  tx.timestamp = d->ts;
  tx.ssrc = 0x12345678;
  tx.payload = payload;
  tx.payload_len = len;
  d->ts += sp_codec_rtp_units_for_samples (d->encoder, frame);
  n = sp_rtp_build (packet, sizeof packet - SP_SRTP_MAX_OVERHEAD, &tx);
  if (n != 0 && d->protect != NULL)
    n = srtp_round_trip (d, packet, n, sizeof packet);
  if (n == 0 || !sp_rtp_parse (packet, n, &rx, NULL))
    g_error ("RTP round trip failed");
  sp_jitter_buffer_put (d->jb, rx.seq, rx.timestamp, rx.payload, rx.payload_len, now_us);
  for (gsize done = 0; done < frame; done += period)
    sp_jitter_buffer_get (d->jb, out + done, period);
  /* Keep the compiler from dropping the work. */
  *checksum += (guint16) out[0] + (guint16) out[frame - 1];
}

static double
thread_cpu_seconds (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static guint
env_count (const char *name, guint fallback, guint max)
{
  const char *env = g_getenv (name);

  return env ? (guint) CLAMP (atoi (env), 1, (int) max) : fallback;
}

/* ---- one DTLS-SRTP handshake between two SpDtls in memory ---- */

typedef struct
{
  SpDtls *dtls;
  GQueue inbox; /* GBytes from the other end */
  gboolean done;
} End;

static End ends[2];

static void
on_send (SpDtls *dtls, const guint8 *data, gsize len, gpointer user_data)
{
  End *end = user_data;
  End *other = end == &ends[0] ? &ends[1] : &ends[0];

  g_queue_push_tail (&other->inbox, g_bytes_new (data, len));
}

static void
on_established (SpDtls *dtls, gpointer user_data)
{
  ((End *) user_data)->done = TRUE;
}

static void
on_failed (SpDtls *dtls, const GError *error, gpointer user_data)
{
  g_error ("DTLS: %s", error->message);
}

/* The SpSrtp suite a call uses for @profile (as the call does). */
static SpSrtpSuite
suite_for_profile (SpDtlsSrtpProfile profile)
{
  switch (profile)
    {
      case SP_DTLS_SRTP_AES128_CM_HMAC_SHA1_80:
        return SP_SRTP_AES_CM_128_HMAC_SHA1_80;
      case SP_DTLS_SRTP_AES128_CM_HMAC_SHA1_32:
        return SP_SRTP_AES_CM_128_HMAC_SHA1_32;
      case SP_DTLS_SRTP_AEAD_AES_128_GCM:
        return SP_SRTP_AEAD_AES_128_GCM;
      default:
        g_error ("DTLS: no SRTP profile");
    }
}

/* A client with @client's certificate and a server with @server's, both
 * ends' datagrams carried by hand until both are established. Returns the
 * profile they agreed; both ends' keys must pair up. */
static SpDtlsSrtpProfile
dtls_handshake (SpSipTlsIdentity *client, SpSipTlsIdentity *server)
{
  static const SpDtlsCallbacks callbacks = { on_send, on_established, on_failed };
  SpDtlsSrtpKeys kc, ks;
  SpDtlsSrtpProfile profile;

  ends[0].dtls = sp_dtls_new (client, SP_DTLS_ROLE_CLIENT, &callbacks, &ends[0], NULL);
  ends[1].dtls = sp_dtls_new (server, SP_DTLS_ROLE_SERVER, &callbacks, &ends[1], NULL);
  if (ends[0].dtls == NULL || ends[1].dtls == NULL ||
      !sp_dtls_set_remote_fingerprint (ends[0].dtls, "sha-256",
                                       sp_sip_tls_identity_get_fingerprint (server), NULL) ||
      !sp_dtls_set_remote_fingerprint (ends[1].dtls, "sha-256",
                                       sp_sip_tls_identity_get_fingerprint (client), NULL))
    g_error ("DTLS: could not set up the two ends");
  sp_dtls_start (ends[1].dtls);
  sp_dtls_start (ends[0].dtls);
  /* Flights go back and forth a handful of times; bounded all the same. */
  for (guint round = 0; round < 100 && !(ends[0].done && ends[1].done); round++)
    for (guint i = 0; i < 2; i++)
      while (!g_queue_is_empty (&ends[i].inbox))
        {
          g_autoptr (GBytes) bytes = g_queue_pop_head (&ends[i].inbox);
          gsize len;
          const guint8 *data = g_bytes_get_data (bytes, &len);
          sp_dtls_receive (ends[i].dtls, data, len);
        }
  if (!sp_dtls_get_srtp_keys (ends[0].dtls, &kc) || !sp_dtls_get_srtp_keys (ends[1].dtls, &ks))
    g_error ("DTLS handshake did not finish");
  if (kc.profile != ks.profile || kc.local_len != ks.remote_len ||
      memcmp (kc.local, ks.remote, kc.local_len) != 0 || kc.remote_len != ks.local_len ||
      memcmp (kc.remote, ks.local, kc.remote_len) != 0)
    g_error ("DTLS: the two ends' SRTP keys differ");
  profile = kc.profile;
  memset (&kc, 0, sizeof kc);
  memset (&ks, 0, sizeof ks);
  for (guint i = 0; i < 2; i++)
    {
      g_clear_pointer (&ends[i].dtls, sp_dtls_free);
      /* close_notify from the free: nobody reads it. */
      g_queue_clear_full (&ends[i].inbox, (GDestroyNotify) g_bytes_unref);
      ends[i].done = FALSE;
    }
  return profile;
}

/* Mean CPU ms of both ends per handshake over @count; *@suite gets the
 * suite the handshakes agreed. Certificate making is not timed. */
static double
handshake_cpu_ms (guint count, SpSrtpSuite *suite)
{
  const char *names[] = { "softphone", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSipTlsIdentity) client = sp_sip_tls_identity_new_ephemeral (names, &error);
  g_autoptr (SpSipTlsIdentity) server = sp_sip_tls_identity_new_ephemeral (names, &error);
  SpDtlsSrtpProfile profile = SP_DTLS_SRTP_NONE;
  double start;

  if (client == NULL || server == NULL)
    g_error ("certificate: %s", error ? error->message : "?");
  start = thread_cpu_seconds ();
  for (guint i = 0; i < count; i++)
    {
      SpDtlsSrtpProfile agreed = dtls_handshake (client, server);
      if (i > 0 && agreed != profile)
        g_error ("DTLS: handshakes agreed different profiles");
      profile = agreed;
    }
  *suite = suite_for_profile (profile);
  fprintf (stderr, "dtls_srtp_profile=%s\n", sp_dtls_srtp_profile_name (profile));
  return (thread_cpu_seconds () - start) * 1000 / count;
}

/* ---- a call-minute ---- */

/* Phone A's and phone B's SRTP for @suite: fixed test keys, one per
 * direction (A's sending key is B's receiving key). */
static void
srtp_pair (SpSrtpSuite suite, SpSrtp **a, SpSrtp **b)
{
  guint8 ab[SP_SRTP_MAX_KEY_LEN], ba[SP_SRTP_MAX_KEY_LEN];
  gsize len = sp_srtp_suite_key_length (suite);
  g_autoptr (GError) error = NULL;

  for (gsize i = 0; i < len; i++)
    {
      ab[i] = (guint8) (0x11 * i + 1);
      ba[i] = (guint8) (0x5a ^ (7 * i));
    }
  *a = sp_srtp_new (suite, ab, len, ba, len, &error);
  if (*a != NULL)
    *b = sp_srtp_new (suite, ba, len, ab, len, &error);
  if (*a == NULL || *b == NULL)
    g_error ("SRTP: %s", error->message);
}

/* CPU seconds for one call-minute (both directions) of @id; with @srtp,
 * each packet protected and unprotected with @suite. Making the codecs
 * and the SRTP contexts (once per call) is not timed. */
static double
call_minute (SpCodecId id, guint ptime_ms, gboolean srtp, SpSrtpSuite suite, guint64 *checksum)
{
  Direction ab, ba;
  double start, cpu;
  SpSrtp *a = NULL, *b = NULL;

  direction_init (&ab, id, ptime_ms, 440);
  direction_init (&ba, id, ptime_ms, 1000);
  if (srtp)
    {
      srtp_pair (suite, &a, &b);
      ab.protect = a;
      ab.unprotect = b;
      ba.protect = b;
      ba.unprotect = a;
    }
  start = thread_cpu_seconds ();
  for (guint i = 0; i < 60000 / ptime_ms; i++)
    {
      /* A LAN: every packet on time, a packet time apart. */
      gint64 now = (gint64) i * ptime_ms * 1000;
      direction_frame (&ab, now, checksum);
      direction_frame (&ba, now, checksum);
    }
  cpu = thread_cpu_seconds () - start;
  direction_clear (&ab);
  direction_clear (&ba);
  sp_srtp_free (a);
  sp_srtp_free (b);
  return cpu;
}

int
main (int argc, char **argv)
{
  static const struct
  {
    const char *name;
    SpCodecId id;
    guint ptime_ms;
  } codecs[] = { { "pcmu", SP_CODEC_PCMU, 20 },
                 { "g722", SP_CODEC_G722, 20 },
                 { "opus", SP_CODEC_OPUS, 20 },
                 { "opus10", SP_CODEC_OPUS, 10 } };
  guint rounds = env_count ("SP_BENCH_ROUNDS", 5, 50);
  guint handshakes = env_count ("SP_BENCH_HANDSHAKES", 20, 1000);
  SpSrtpSuite suite;
  double handshake_ms;
  guint64 checksum = 0;

  /* First, so the per-packet rows use the suite two of our ends agree. */
  handshake_ms = handshake_cpu_ms (handshakes, &suite);

  for (guint c = 0; c < G_N_ELEMENTS (codecs); c++)
    {
      double plain = G_MAXDOUBLE, srtp = G_MAXDOUBLE;

      /* Alternated, so a busy spell of the machine hits both alike. */
      for (guint r = 0; r < rounds; r++)
        {
          plain =
              MIN (plain, call_minute (codecs[c].id, codecs[c].ptime_ms, FALSE, suite, &checksum));
          srtp = MIN (srtp, call_minute (codecs[c].id, codecs[c].ptime_ms, TRUE, suite, &checksum));
        }
      printf ("%s_cpu_s_per_call_min=%.5f\n", codecs[c].name, plain);
      printf ("%s_calls_per_core=%.0f\n", codecs[c].name, 60.0 / plain);
      printf ("%s_srtp_cpu_s_per_call_min=%.5f\n", codecs[c].name, srtp);
      printf ("%s_srtp_calls_per_core=%.0f\n", codecs[c].name, 60.0 / srtp);
      printf ("%s_srtp_over_plain=%.3f\n", codecs[c].name, srtp / plain);
      /* What SRTP adds per packet sent (its protect and its unprotect):
       * the difference of two minima, so a rough figure. */
      printf ("%s_srtp_added_us_per_packet=%.2f\n", codecs[c].name,
              (srtp - plain) * 1e6 / (2 * 60000 / codecs[c].ptime_ms));
    }
  printf ("dtls_handshake_cpu_ms=%.2f\n", handshake_ms);
  fprintf (stderr, "rounds=%u handshakes=%u srtp_suite=%s checksum=%" G_GUINT64_FORMAT "\n", rounds,
           handshakes, sp_srtp_suite_to_string (suite), checksum);
  return 0;
}
