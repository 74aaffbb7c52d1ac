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
 * 24 kbit/s, 20 ms) and opus10 (10 ms packets), in the same run. */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "media/codec.h"
#include "media/jitterbuffer.h"
#include "media/rtp.h"

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
  n = sp_rtp_build (packet, sizeof packet, &tx);
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

/* CPU seconds for one call-minute (both directions) of @id. */
static double
call_minute (SpCodecId id, guint ptime_ms, guint64 *checksum)
{
  Direction ab, ba;
  double start, cpu;

  direction_init (&ab, id, ptime_ms, 440);
  direction_init (&ba, id, ptime_ms, 1000);
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
  const char *env = g_getenv ("SP_BENCH_ROUNDS");
  guint rounds = env ? (guint) CLAMP (atoi (env), 1, 50) : 5;
  guint64 checksum = 0;

  for (guint c = 0; c < G_N_ELEMENTS (codecs); c++)
    {
      double best = G_MAXDOUBLE;
      for (guint r = 0; r < rounds; r++)
        best = MIN (best, call_minute (codecs[c].id, codecs[c].ptime_ms, &checksum));
      printf ("%s_cpu_s_per_call_min=%.5f\n", codecs[c].name, best);
      printf ("%s_calls_per_core=%.0f\n", codecs[c].name, 60.0 / best);
    }
  fprintf (stderr, "rounds=%u checksum=%" G_GUINT64_FORMAT "\n", rounds, checksum);
  return 0;
}
