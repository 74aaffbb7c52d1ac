#include "media/jitterbuffer.h"
#include "media/comfort-noise.h"

#include "../common/goertzel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A simulated network and playout clock drive the jitter buffer: the
 * sender makes 20 ms PCMU packets of a 440 Hz tone; each packet gets an
 * arrival time (send time + delay chosen by the case); the player pulls
 * 10 ms every 10 ms of receiver time. */

#define RATE   8000
#define PACKET 160
#define PERIOD 80

typedef struct
{
  gint64 arrival_us;
  guint index;
  guint copies;
} Delivery;

typedef struct
{
  guint n_packets;
  double sender_clock; /* 1.01 = sender's clock 1 % fast */
  guint jitter_ms;     /* uniform extra delay 0..jitter_ms */
  gboolean swap_pairs; /* deliver 1 0 3 2 ... */
  gboolean duplicate;  /* every packet twice */
  guint drop_every;    /* 0 = none */
  guint stall_every;   /* 0 = none; else one packet in that many is held */
  guint stall_ms;      /* up by this much, and those behind it leave with it */
  gboolean pairs;      /* packets leave two at a time (0 with 1, 2 with 3...) */
  guint32 seed;
  /* results */
  gint16 *out;
  gsize n_out;
  SpJitterBufferStats stats;
  guint max_depth_ms_after_start;
  double mean_depth_ms_after_start;
} Sim;

static int
compare_delivery (gconstpointer a, gconstpointer b)
{
  const Delivery *x = a, *y = b;
  return x->arrival_us < y->arrival_us ? -1 : x->arrival_us > y->arrival_us;
}

static void
run_sim (Sim *sim)
{
  g_autoptr (SpCodec) enc = sp_codec_new (SP_CODEC_PCMU);
  g_autoptr (SpCodec) dec = sp_codec_new (SP_CODEC_PCMU);
  g_autoptr (SpJitterBuffer) jb = sp_jitter_buffer_new (dec, 20, 200);
  g_autofree gint16 *tone = g_new (gint16, (gsize) sim->n_packets * PACKET);
  g_autofree guint8 *payloads = g_new (guint8, (gsize) sim->n_packets * PACKET);
  g_autofree Delivery *d = g_new0 (Delivery, sim->n_packets);
  g_autoptr (GRand) rand = g_rand_new_with_seed (sim->seed);
  gint64 end_us;
  guint next = 0, n_depth = 0;

  goertzel_make_tone (tone, (gsize) sim->n_packets * PACKET, RATE, 440, 8000);
  for (guint i = 0; i < sim->n_packets; i++)
    {
      sp_codec_encode (enc, tone + (gsize) i * PACKET, PACKET, payloads + (gsize) i * PACKET,
                       PACKET);
      d[i].index = i;
      d[i].copies = sim->duplicate ? 2 : 1;
      d[i].arrival_us = (gint64) (i * 20000 / sim->sender_clock) + 5000;
      if (sim->jitter_ms)
        d[i].arrival_us += g_rand_int_range (rand, 0, (gint32) sim->jitter_ms * 1000 + 1);
      if (sim->pairs && i % 2 == 0)
        d[i].arrival_us += 20000; /* waits for its pair */
      if (sim->stall_every && i % sim->stall_every == sim->stall_every / 2)
        d[i].arrival_us += sim->stall_ms * 1000;
      /* What the stall held up leaves in one burst, in order. */
      if (sim->stall_every && i > 0 && d[i].arrival_us < d[i - 1].arrival_us)
        d[i].arrival_us = d[i - 1].arrival_us;
      if (sim->swap_pairs && i % 2 == 1)
        {
          gint64 t = d[i].arrival_us;
          d[i].arrival_us = d[i - 1].arrival_us;
          d[i - 1].arrival_us = t;
        }
    }
  qsort (d, sim->n_packets, sizeof *d, compare_delivery);

  end_us = (gint64) (sim->n_packets * 20000 / sim->sender_clock) + 300000;
  sim->n_out = (gsize) (end_us / 10000) * PERIOD;
  sim->out = g_new0 (gint16, sim->n_out);
  for (gint64 t = 0, k = 0; k < (gint64) (sim->n_out / PERIOD); t += 10000, k++)
    {
      SpJitterBufferStats st;
      for (; next < sim->n_packets && d[next].arrival_us <= t; next++)
        {
          guint i = d[next].index;
          if (sim->drop_every && i % sim->drop_every == sim->drop_every - 1)
            continue;
          for (guint c = 0; c < d[next].copies; c++)
            sp_jitter_buffer_put (jb, (guint16) (1000 + i), 12345 + i * PACKET,
                                  payloads + (gsize) i * PACKET, PACKET, t);
        }
      sp_jitter_buffer_get (jb, sim->out + k * PERIOD, PERIOD);
      sp_jitter_buffer_get_stats (jb, &st);
      if (t > 2000000 && next < sim->n_packets)
        {
          sim->max_depth_ms_after_start = MAX (sim->max_depth_ms_after_start, st.depth_ms);
          sim->mean_depth_ms_after_start += st.depth_ms;
          n_depth++;
        }
    }
  if (n_depth > 0)
    sim->mean_depth_ms_after_start /= n_depth;
  sp_jitter_buffer_get_stats (jb, &sim->stats);
}

/* Largest step between two neighbouring samples in @out[from..to): a
 * 440 Hz sine of amplitude 8000 steps at most 8000 * 2 pi 440 / 8000 =
 * 2765; a click (a cut between unrelated samples) steps much more. */
static gint
max_step (const gint16 *out, gsize from, gsize to)
{
  gint m = 0;
  for (gsize i = from + 1; i < to; i++)
    m = MAX (m, ABS (out[i] - out[i - 1]));
  return m;
}

/* The stretch of output that carries the tone (not the fill at the start
 * or the tail after the last packet). */
static void
tone_span (Sim *sim, gsize *from, gsize *to)
{
  *from = RATE / 2;
  *to = MIN (sim->n_out, (gsize) sim->n_packets * PACKET) - RATE / 4;
}

static void
test_in_order (void)
{
  Sim sim = { .n_packets = 250, .sender_clock = 1.0 };
  gsize from, to;

  run_sim (&sim);
  tone_span (&sim, &from, &to);
  g_test_message ("in order: target %u ms, stretched %" G_GUINT64_FORMAT
                  ", compressed %" G_GUINT64_FORMAT ", underrun %" G_GUINT64_FORMAT,
                  sim.stats.target_ms, sim.stats.stretched_samples, sim.stats.compressed_samples,
                  sim.stats.underrun_samples);
  g_assert_cmpuint (sim.stats.received, ==, 250);
  g_assert_cmpuint (sim.stats.lost, ==, 0);
  g_assert_cmpuint (sim.stats.late, ==, 0);
  g_assert_cmpuint (sim.stats.target_ms, <=, 32);
  g_assert_cmpfloat (goertzel_snr_db (sim.out + from, to - from, RATE, 440), >, 30);
  g_assert_cmpint (max_step (sim.out, from, to), <, 3200);
  g_free (sim.out);
}

static void
test_reorder (void)
{
  Sim sim = { .n_packets = 250, .sender_clock = 1.0, .swap_pairs = TRUE };
  gsize from, to;

  run_sim (&sim);
  tone_span (&sim, &from, &to);
  /* Before the first swap is seen the cushion is too short for it. */
  g_assert_cmpuint (sim.stats.received, >=, 248);
  g_assert_cmpuint (sim.stats.lost, <=, 2);
  g_assert_cmpuint (sim.stats.late, <=, 2);
  /* The first swaps are bridged by PLC while the delay grows: a little
   * below the clean 35 dB of PCMU, far above a broken stream. */
  g_assert_cmpfloat (goertzel_snr_db (sim.out + from, to - from, RATE, 440), >, 20);
  g_free (sim.out);
}

static void
test_duplicates (void)
{
  Sim sim = { .n_packets = 250, .sender_clock = 1.0, .duplicate = TRUE };
  gsize from, to;

  run_sim (&sim);
  tone_span (&sim, &from, &to);
  g_assert_cmpuint (sim.stats.received, ==, 250);
  /* The copy of a packet already played is late, the others duplicates. */
  g_assert_cmpuint (sim.stats.duplicates + sim.stats.late, ==, 250);
  g_assert_cmpuint (sim.stats.lost, ==, 0);
  g_assert_cmpfloat (goertzel_snr_db (sim.out + from, to - from, RATE, 440), >, 30);
  g_free (sim.out);
}

static void
test_late_packet (void)
{
  g_autoptr (SpCodec) codec = sp_codec_new (SP_CODEC_PCMU);
  g_autoptr (SpJitterBuffer) jb = sp_jitter_buffer_new (codec, 20, 200);
  guint8 payload[PACKET] = { 0 };
  gint16 out[PERIOD];
  SpJitterBufferStats st;

  /* Packets 0..9 except 5; then play all of it; then 5 shows up. */
  for (guint i = 0; i < 10; i++)
    if (i != 5)
      g_assert_cmpint (sp_jitter_buffer_put (jb, i, i * PACKET, payload, PACKET, i * 20000), ==,
                       SP_JITTER_BUFFER_QUEUED);
  for (guint k = 0; k < 20; k++)
    sp_jitter_buffer_get (jb, out, PERIOD);
  g_assert_cmpint (sp_jitter_buffer_put (jb, 5, 5 * PACKET, payload, PACKET, 400000), ==,
                   SP_JITTER_BUFFER_LATE);
  g_assert_cmpint (sp_jitter_buffer_put (jb, 11, 11 * PACKET, payload, 0, 400000), ==,
                   SP_JITTER_BUFFER_INVALID);
  sp_jitter_buffer_get_stats (jb, &st);
  g_assert_cmpuint (st.late, ==, 1);
  g_assert_cmpuint (st.lost, ==, 1);
  g_assert_cmpuint (st.received, ==, 9);
}

static void
test_loss_concealed (void)
{
  Sim sim = { .n_packets = 250, .sender_clock = 1.0, .drop_every = 10 };
  gsize from, to;

  run_sim (&sim);
  tone_span (&sim, &from, &to);
  g_assert_cmpuint (sim.stats.lost, >=, 24);
  /* PLC repeats the pitch period: the tone stays there in every block. */
  g_assert_cmpfloat (goertzel_continuity (sim.out + from, to - from, RATE, 440, 6), >, 0.95);
  g_free (sim.out);
}

static void
check_drift (double sender_clock)
{
  /* 60 s of audio at a 0.5 % clock offset (sound card clocks are within
   * 0.1 %): 300 ms of drift to absorb. */
  Sim sim = { .n_packets = 3000, .sender_clock = sender_clock };
  gsize from, to;

  run_sim (&sim);
  tone_span (&sim, &from, &to);
  g_test_message ("clock %.2f: max depth %u ms, stretched %" G_GUINT64_FORMAT
                  ", compressed %" G_GUINT64_FORMAT ", underrun %" G_GUINT64_FORMAT,
                  sender_clock, sim.max_depth_ms_after_start, sim.stats.stretched_samples,
                  sim.stats.compressed_samples, sim.stats.underrun_samples);
  g_assert_cmpuint (sim.stats.late, ==, 0);
  g_assert_cmpuint (sim.stats.overflow_dropped, ==, 0);
  g_assert_cmpuint (sim.max_depth_ms_after_start, <=, 70);
  if (sender_clock > 1)
    g_assert_cmpuint (sim.stats.compressed_samples, >=, 2000); /* 0.25 s */
  else
    g_assert_cmpuint (sim.stats.underrun_samples + sim.stats.stretched_samples, >=, 2000);
  /* No clicks: time scaling is spread over whole periods. */
  g_assert_cmpint (max_step (sim.out, from, to), <, 3200);
  g_assert_cmpfloat (goertzel_continuity (sim.out + from, to - from, RATE, 440, 3), >, 0.97);
  g_free (sim.out);
}

static void
test_drift_fast (void)
{
  check_drift (1.005);
}

static void
test_drift_slow (void)
{
  check_drift (0.995);
}

static void
test_adaptive_target (void)
{
  Sim calm = { .n_packets = 500, .sender_clock = 1.0, .seed = 1 };
  Sim rough = { .n_packets = 500, .sender_clock = 1.0, .jitter_ms = 40, .seed = 1 };
  gsize from, to;

  run_sim (&calm);
  run_sim (&rough);
  tone_span (&rough, &from, &to);
  g_test_message (
      "target calm %u ms (mean depth %.1f ms), rough %u ms (%.1f ms); rough lost %" G_GUINT64_FORMAT
      " late %" G_GUINT64_FORMAT,
      calm.stats.target_ms, calm.mean_depth_ms_after_start, rough.stats.target_ms,
      rough.mean_depth_ms_after_start, rough.stats.lost, rough.stats.late);
  g_assert_cmpuint (calm.stats.target_ms, >=, 20);
  g_assert_cmpuint (calm.stats.target_ms, <=, 32);
  /* 40 ms of spread needs about 40 ms of cushion plus the packet. */
  g_assert_cmpuint (rough.stats.target_ms, >=, 55);
  g_assert_cmpuint (rough.stats.target_ms, <=, 80);
  /* Only the start, before the spread is measured, may lose packets. */
  g_assert_cmpuint (rough.stats.late, <=, 5);
  g_assert_cmpfloat (goertzel_continuity (rough.out + from, to - from, RATE, 440, 6), >, 0.95);
  g_free (calm.out);
  g_free (rough.out);
}

/* A sender whose scheduler holds one packet up now and then (every 2 s,
 * by 30 ms, and the next leaves with it) on an otherwise calm path: the
 * held packets are waited for, never lost, and the delay they cost comes
 * back down between them (it drains by time scaling at 0.6 %).
 *
 * Measured with this simulation (bench/README.md): a cushion from the
 * 98th percentile of transit instead of the window's spread lowers the
 * target from 52 to 30 ms here but not the delay (mean depth 37.2 ->
 * 37.7 ms), because waiting for a held packet adds its delay anyway and
 * only draining removes it; draining at 1.25 % breaks the 1000 Hz case of
 * /jitterbuffer/concealment-quality. So the cushion still covers stalls
 * seen in the last 2.56 s. */
static void
test_rare_stalls (void)
{
  Sim sim = { .n_packets = 1000, .sender_clock = 1.0, .stall_every = 100, .stall_ms = 30 };
  gsize from, to;

  run_sim (&sim);
  tone_span (&sim, &from, &to);
  g_test_message (
      "rare stalls: target %u ms, mean depth %.1f ms, max %u ms, lost %" G_GUINT64_FORMAT
      ", late %" G_GUINT64_FORMAT ", underrun %" G_GUINT64_FORMAT ", compressed %" G_GUINT64_FORMAT,
      sim.stats.target_ms, sim.mean_depth_ms_after_start, sim.max_depth_ms_after_start,
      sim.stats.lost, sim.stats.late, sim.stats.underrun_samples, sim.stats.compressed_samples);
  g_assert_cmpuint (sim.stats.lost, ==, 0);
  g_assert_cmpuint (sim.stats.late, ==, 0);
  /* The stall plus the packet, not more. */
  g_assert_cmpuint (sim.stats.target_ms, >=, 40);
  g_assert_cmpuint (sim.stats.target_ms, <=, 60);
  g_assert_cmpuint (sim.max_depth_ms_after_start, <=, 60);
  g_assert_cmpfloat (goertzel_continuity (sim.out + from, to - from, RATE, 440, 6), >, 0.95);
  g_free (sim.out);
}

/* The same stalls every 200 ms are the path's real jitter: the cushion
 * must cover them. */
static void
test_frequent_stalls (void)
{
  Sim sim = { .n_packets = 500, .sender_clock = 1.0, .stall_every = 10, .stall_ms = 30 };
  gsize from, to;

  run_sim (&sim);
  tone_span (&sim, &from, &to);
  g_test_message ("frequent stalls: target %u ms, mean depth %.1f ms, lost %" G_GUINT64_FORMAT
                  ", late %" G_GUINT64_FORMAT,
                  sim.stats.target_ms, sim.mean_depth_ms_after_start, sim.stats.lost,
                  sim.stats.late);
  g_assert_cmpuint (sim.stats.target_ms, >=, 50);
  g_assert_cmpuint (sim.stats.lost + sim.stats.late, <=, 2);
  g_assert_cmpfloat (goertzel_continuity (sim.out + from, to - from, RATE, 440, 6), >, 0.95);
  g_free (sim.out);
}

/* The playout delay a bursty path needs, and not more: packets leaving in
 * pairs every 40 ms (a sender that captures in bursts, as the PulseAudio
 * rig's microphone does) have a transit spread of 20 ms. The buffer must
 * hold the spread plus one get and a margin beyond the packet (about
 * 20 + 10 + 2 + 20 = 52 ms of playout delay over the earliest packet; its
 * depth dips by the spread before each pair), and nothing lost. Steering
 * the depth's minimum to the cushion instead counted the spread twice:
 * 22.0 ms mean depth (sampled after each get) before, 15.0 now. */
static void
test_burst_delay (void)
{
  Sim sim = { .n_packets = 500, .sender_clock = 1.0, .pairs = TRUE };
  gsize from, to;

  run_sim (&sim);
  tone_span (&sim, &from, &to);
  g_test_message (
      "pairs every 40 ms: target %u ms, mean depth %.1f ms, max %u ms, lost %" G_GUINT64_FORMAT
      ", late %" G_GUINT64_FORMAT ", underrun %" G_GUINT64_FORMAT,
      sim.stats.target_ms, sim.mean_depth_ms_after_start, sim.max_depth_ms_after_start,
      sim.stats.lost, sim.stats.late, sim.stats.underrun_samples);
  g_assert_cmpuint (sim.stats.lost + sim.stats.late, ==, 0);
  g_assert_cmpfloat (sim.mean_depth_ms_after_start, <=, 18);
  g_assert_cmpfloat (goertzel_continuity (sim.out + from, to - from, RATE, 440, 6), >, 0.95);
  g_free (sim.out);
}

/* ---- Concealment quality at 8 and 16 kHz ----------------------------------- */

/* Per 20 ms block of @x: the sine of @freq with the block's best phase
 * and the clean stream's @amplitude (not the block's own: a fade or a
 * gap must count as error); returns the blocks' total power of that
 * sine over the total power of what differs from it. Time scaling and
 * the playout delay only move the phase, which each block fits anew. */
static double
tone_snr_db (const gint16 *x, gsize n, guint rate, double freq, double amplitude)
{
  gsize block = rate / 50;
  double w = 2 * G_PI * freq / rate, sig = 0, err = 0;

  for (gsize b = 0; b + block <= n; b += block)
    {
      double c = 0, sn = 0, phase;
      for (gsize i = 0; i < block; i++)
        {
          c += x[b + i] * cos (w * (double) i);
          sn += x[b + i] * sin (w * (double) i);
        }
      phase = atan2 (sn, c);
      for (gsize i = 0; i < block; i++)
        {
          double m = amplitude * cos (w * (double) i - phase);
          sig += m * m;
          err += (x[b + i] - m) * (x[b + i] - m);
        }
    }
  return 10 * log10 (sig / MAX (err, 1e-9));
}

/* The tone's amplitude in @x (mean of the per-block fits). */
static double
tone_amplitude (const gint16 *x, gsize n, guint rate, double freq)
{
  gsize block = rate / 50, blocks = 0;
  double w = 2 * G_PI * freq / rate, sum = 0;

  for (gsize b = 0; b + block <= n; b += block, blocks++)
    {
      double c = 0, sn = 0;
      for (gsize i = 0; i < block; i++)
        {
          c += x[b + i] * cos (w * (double) i);
          sn += x[b + i] * sin (w * (double) i);
        }
      sum += 2 * sqrt (c * c + sn * sn) / (double) block;
    }
  return blocks ? sum / (double) blocks : 0;
}

typedef struct
{
  double snr_db;     /* of the concealed stream */
  double silence_db; /* of the same loss left silent */
  guint64 lost;
} Concealment;

/* 8 s of a @freq tone through @codec in 20 ms packets arriving on time,
 * 10 % of them lost at random after the first two seconds (seeded: every
 * run loses the same ones). The SNR is tone_snr_db's over the last 6 s,
 * which the jitter buffer's time scaling around each loss (it cannot
 * tell a loss from a late packet until the next one comes) does not
 * disturb, as a sample-by-sample comparison with the clean stream would. */
static void
measure_concealment (SpCodecId id, double freq, Concealment *c)
{
  g_autoptr (SpCodec) enc = sp_codec_new (id);
  g_autoptr (SpCodec) dec = sp_codec_new (id);
  g_autoptr (SpJitterBuffer) jb = sp_jitter_buffer_new (dec, 20, 200);
  g_autoptr (GRand) rand = g_rand_new_with_seed (10);
  guint rate = sp_codec_get_info (enc)->sample_rate, n_packets = 400;
  gsize packet = rate / 50, period = rate / 100, n = (gsize) n_packets * packet;
  gsize n_out = n + (gsize) rate / 2, bytes = sp_codec_bytes_for_samples (enc, packet);
  g_autofree gint16 *tone = g_new (gint16, n);
  g_autofree gint16 *out = g_new0 (gint16, n_out);
  g_autofree guint8 *payloads = g_new (guint8, n_packets * bytes);
  g_autofree gboolean *lost = g_new0 (gboolean, n_packets);
  gsize from = 2 * rate, to = n - rate / 4;
  SpJitterBufferStats st;
  double amplitude;

  goertzel_make_tone (tone, n, rate, freq, 8000);
  for (guint i = 0; i < n_packets; i++)
    {
      sp_codec_encode (enc, tone + i * packet, packet, payloads + i * bytes, bytes);
      lost[i] = i >= 100 && g_rand_int_range (rand, 0, 100) < 10;
    }
  for (gsize k = 0; k < n_out / period; k++)
    {
      gint64 t = (gint64) k * 10000;
      for (guint i = 0; i < n_packets; i++)
        if (!lost[i] && (gint64) i * 20000 + 5000 > t - 10000 && (gint64) i * 20000 + 5000 <= t)
          sp_jitter_buffer_put (jb, (guint16) (7 + i), 99 + i * 160, payloads + i * bytes, bytes,
                                t);
      sp_jitter_buffer_get (jb, out + k * period, period);
    }
  sp_jitter_buffer_get_stats (jb, &st);
  c->lost = st.lost;
  /* The clean amplitude: the first two seconds lose nothing. */
  amplitude = tone_amplitude (out + rate, rate, rate, freq);
  c->snr_db = tone_snr_db (out + from, to - from, rate, freq, amplitude);
  /* The baseline: the clean tone with the lost packets silent. */
  for (guint i = 0; i < n_packets; i++)
    if (lost[i])
      memset (tone + i * packet, 0, packet * sizeof (gint16));
  c->silence_db = tone_snr_db (tone + from, to - from, rate, freq, 8000);
}

static void
report_concealment (const char *name, double freq, Concealment *c)
{
  g_test_message ("%s, %.0f Hz, 10 %% loss: %" G_GUINT64_FORMAT
                  " packets concealed, SNR %.1f dB (silence in their place: %.1f dB)",
                  name, freq, c->lost, c->snr_db, c->silence_db);
}

/* Concealment at 16 kHz (G.722) must be as good as at 8 kHz and clearly
 * better than silence, across the pitch range of voices.
 *
 * Thresholds: leaving the lost packets (11 % of this schedule) silent
 * measures 9.1 dB, as 10 log10 (0.89 / 0.11) predicts. Repeating the
 * pitch period of a steady tone should beat that by several dB: at 8 kHz
 * it gives 11.7 (1000 Hz) to 16 dB (100 Hz). So G.722 must reach silence
 * + 2.5 dB and stay within 1.5 dB of PCMU at the same pitch. spandsp's
 * plc_state_t, whose constants are in 8 kHz samples, failed both: at
 * 100 Hz (a period of 160 samples at 16 kHz, beyond its 120) it measured
 * 7.1 dB, worse than silence, and elsewhere 1.9-2.8 dB below PCMU (its
 * fade ran out in 25 ms instead of 50). Seeded, so every run measures
 * the same. */
static void
test_concealment_quality (void)
{
  const double freqs[] = { 100, 150, 220, 440, 1000 };

  for (guint i = 0; i < G_N_ELEMENTS (freqs); i++)
    {
      Concealment pcmu, g722;
      measure_concealment (SP_CODEC_PCMU, freqs[i], &pcmu);
      measure_concealment (SP_CODEC_G722, freqs[i], &g722);
      report_concealment ("PCMU 8 kHz", freqs[i], &pcmu);
      report_concealment ("G.722 16 kHz", freqs[i], &g722);
      g_assert_cmpuint (g722.lost, >=, 30);
      g_assert_cmpfloat (g722.snr_db, >, g722.silence_db + 2.5);
      g_assert_cmpfloat (g722.snr_db, >, pcmu.snr_db - 1.5);
    }
}

/* Opus through the jitter buffer with one packet in ten lost: 20 ms
 * packets of a 1 kHz tone at 16 kHz, on time, played 10 ms at a time.
 * Each lost packet is rebuilt from the next packet's in-band FEC (which
 * is there by then) when the encoder was told to expect loss, else
 * concealed by the decoder. Returns the output's SNR against the tone. */
static double
opus_with_loss (guint expected_loss, SpJitterBufferStats *stats)
{
  const guint rate = 16000, frame = 320, period = 160, n = 150;
  g_autoptr (SpCodec) enc = sp_codec_new (SP_CODEC_OPUS);
  g_autoptr (SpCodec) dec = sp_codec_new (SP_CODEC_OPUS);
  g_autoptr (SpJitterBuffer) jb = sp_jitter_buffer_new (dec, 20, 200);
  g_autofree gint16 *tone = g_new (gint16, (gsize) n * frame);
  g_autofree gint16 *out = g_new0 (gint16, (gsize) n * frame);
  guint8 payload[960];

  sp_codec_set_expected_loss (enc, expected_loss);
  goertzel_make_tone (tone, (gsize) n * frame, rate, 1000, 8000);
  for (guint i = 0; i < n; i++)
    {
      gsize len = sp_codec_encode (enc, tone + (gsize) i * frame, frame, payload, sizeof payload);
      g_assert_cmpuint (len, >, 0);
      if (i % 10 != 5)
        sp_jitter_buffer_put (jb, (guint16) (1000 + i), 4000 + i * 960, payload, len,
                              (gint64) i * 20000);
      sp_jitter_buffer_get (jb, out + (gsize) i * frame, period);
      sp_jitter_buffer_get (jb, out + (gsize) i * frame + period, period);
    }
  sp_jitter_buffer_get_stats (jb, stats);
  /* After the first 300 ms (buffering, the encoder settling). */
  return goertzel_snr_db (out + rate * 3 / 10, (gsize) n * frame - rate * 3 / 10, rate, 1000);
}

static void
test_opus_fec (void)
{
  SpJitterBufferStats with_fec, without;
  double snr_fec = opus_with_loss (20, &with_fec);
  double snr_plc = opus_with_loss (0, &without);

  g_test_message ("opus, 10 %% loss: SNR %.1f dB with FEC (%" G_GUINT64_FORMAT
                  " of %" G_GUINT64_FORMAT " rebuilt), %.1f dB with concealment alone",
                  snr_fec, with_fec.fec_recovered, with_fec.lost, snr_plc);

  g_assert_cmpuint (with_fec.lost, >=, 13);
  g_assert_cmpuint (with_fec.fec_recovered, ==, with_fec.lost);
  g_assert_cmpuint (with_fec.underrun_samples, <, 16000 / 5);
  /* The SNR fits a sine per 20 ms block, so every discontinuity counts
   * (about 18 dB here without loss); FEC must beat the decoder's own
   * concealment, and that must not be silence. */
  g_assert_cmpfloat (snr_fec, >, snr_plc);
  g_assert_cmpfloat (snr_plc, >, 3);
}

/* The peer stops sending (hold, a stalled sender) in the middle of an Opus
 * stream of 440 Hz, 20 or 10 ms packets, played 10 ms at a time: the
 * decoder's concealment carries the first tens of milliseconds, then
 * fades to silence. Unfaded, it went on as noise for the whole second
 * before the idle reset, loud enough (peaks of 500 to 2500) that a block
 * of it measured as another tone: the flaky "u2 heard its own 1000 Hz
 * near the hold" of the server's seed call. */
static void
check_opus_gap_fades (guint ptime_ms)
{
  const guint rate = 16000, period = 160, block = 320;
  const guint frame = rate * ptime_ms / 1000, n_sent = 1000 / ptime_ms;
  const gsize total = (gsize) rate * 2; /* 1 s of stream, 1 s after it */
  g_autoptr (SpCodec) enc = sp_codec_new (SP_CODEC_OPUS);
  g_autoptr (SpCodec) dec = sp_codec_new (SP_CODEC_OPUS);
  g_autoptr (SpJitterBuffer) jb = sp_jitter_buffer_new (dec, 20, 200);
  g_autofree gint16 *tone = g_new (gint16, (gsize) n_sent * frame);
  g_autofree gint16 *out = g_new0 (gint16, total);
  gsize last_tone = 0, loud_after = 0;
  guint8 payload[960];

  goertzel_make_tone (tone, (gsize) n_sent * frame, rate, 440, 16000);
  for (gsize at = 0; at < total; at += period)
    {
      guint i = (guint) (at / frame);
      if (at % frame == 0 && i < n_sent)
        {
          gsize len =
              sp_codec_encode (enc, tone + (gsize) i * frame, frame, payload, sizeof payload);
          g_assert_cmpuint (len, >, 0);
          sp_jitter_buffer_put (jb, (guint16) (500 + i), 7000 + i * 48 * ptime_ms, payload, len,
                                (gint64) at * 1000000 / rate);
        }
      sp_jitter_buffer_get (jb, out + at, period);
    }
  /* Where the stream's own audio ends (full level, 440 Hz), then how long
   * anything above the integration tests' silence floor (300) goes on. */
  for (gsize b = 0; b + block <= total; b += block)
    {
      gint peak = 0;
      for (gsize i = 0; i < block; i++)
        peak = MAX (peak, ABS ((gint) out[b + i]));
      if (peak > 8000 && goertzel_power (out + b, block, rate, 440) > 1e7)
        last_tone = b + block;
      else if (last_tone > 0 && peak >= 300)
        loud_after = b + block - last_tone;
    }
  g_test_message ("opus %u ms: stream heard until %zu ms, then %zu ms above the floor", ptime_ms,
                  last_tone * 1000 / rate, loud_after * 1000 / rate);
  g_assert_cmpuint (last_tone, >=, (gsize) rate * 9 / 10);
  g_assert_cmpuint (loud_after * 1000 / rate, <=, 100);
}

static void
test_opus_gap_fades (void)
{
  check_opus_gap_fades (20);
  check_opus_gap_fades (10);
}

static double
rms_dbov (const gint16 *pcm, gsize n)
{
  double sum = 0;

  for (gsize i = 0; i < n; i++)
    sum += (double) pcm[i] * pcm[i];
  return 20.0 * log10 (sqrt (sum / (double) n) / 32767.0);
}

/* RFC 3389 payloads: the level byte, coefficients after it ignored, the
 * reserved bit and an empty payload refused; the level of a frame. */
static void
test_cn_parse (void)
{
  static const guint8 plain[] = { 62 };
  static const guint8 with_coefficients[] = { 40, 0x80, 0x12, 0x7f };
  static const guint8 reserved[] = { 0x80 | 40 };
  gint16 frame[160];
  guint level = 0;

  g_assert_true (sp_comfort_noise_parse (plain, sizeof plain, &level));
  g_assert_cmpuint (level, ==, 62);
  g_assert_true (sp_comfort_noise_parse (with_coefficients, sizeof with_coefficients, &level));
  g_assert_cmpuint (level, ==, 40);
  g_assert_false (sp_comfort_noise_parse (reserved, sizeof reserved, &level));
  g_assert_false (sp_comfort_noise_parse (plain, 0, &level));
  for (guint i = 0; i < G_N_ELEMENTS (frame); i++)
    frame[i] = i % 2 ? 328 : -328; /* a square wave at -40 dBov */
  g_assert_cmpuint (sp_comfort_noise_level_of (frame, G_N_ELEMENTS (frame)), ==, 40);
  memset (frame, 0, sizeof frame);
  g_assert_cmpuint (sp_comfort_noise_level_of (frame, G_N_ELEMENTS (frame)), ==, 127);
}

/* The generator at each level: RMS within 1 dB of it over a second. */
static void
test_cn_levels (void)
{
  static const guint levels[] = { 20, 30, 45, 60, 70 };
  gint16 out[RATE];
  SpComfortNoise cn;

  sp_comfort_noise_init (&cn, 42);
  for (guint i = 0; i < G_N_ELEMENTS (levels); i++)
    {
      double got;
      sp_comfort_noise_set_level (&cn, levels[i]);
      sp_comfort_noise_generate (&cn, out, G_N_ELEMENTS (out));
      got = rms_dbov (out, G_N_ELEMENTS (out));
      g_test_message ("level -%u dBov: generated %.2f dBov", levels[i], got);
      g_assert_cmpfloat (fabs (got + levels[i]), <, 1.0);
    }
}

/* A DTX sender through the jitter buffer: a tone, a CN packet at -50 dBov
 * (sequence numbers go on, its timestamp where the silence starts), 500 ms
 * of nothing, then the tone again. The silence plays as noise within 3 dB
 * of -50 dBov (not dead silence, not a concealed tone), and the tone
 * comes back. Without the CN packet the same gap fades to silence. */
static void
run_dtx (gboolean send_cn, double *gap_dbov, double *after_tone)
{
  g_autoptr (SpCodec) enc = sp_codec_new (SP_CODEC_PCMU);
  g_autoptr (SpCodec) dec = sp_codec_new (SP_CODEC_PCMU);
  g_autoptr (SpJitterBuffer) jb = sp_jitter_buffer_new (dec, 20, 200);
  gint16 tone[PACKET];
  guint8 payload[PACKET];
  g_autofree gint16 *out = g_new0 (gint16, RATE * 2);
  gsize n_out = 0;
  guint16 seq = 1000;
  guint32 ts = 5000;
  gint64 now = 0;
  SpJitterBufferStats stats;

  goertzel_make_tone (tone, PACKET, RATE, 400, 8000); /* 400 Hz: whole cycles per packet */
  sp_codec_encode (enc, tone, PACKET, payload, PACKET);
  /* 0..500 ms tone, CN at 500, silence to 1000, tone 1000..1500. */
  for (guint ms = 0; ms < 1800; ms += 10)
    {
      if (ms % 20 == 0 && (ms < 500 || (ms >= 1000 && ms < 1500)))
        {
          sp_jitter_buffer_put (jb, seq++, ts, payload, PACKET, now + 5000);
          ts += PACKET;
        }
      else if (ms == 500)
        {
          if (send_cn)
            sp_jitter_buffer_put_comfort_noise (jb, seq, ts, 50, now + 5000);
          seq++; /* a sender without CN still numbers on (or not: no matter) */
          ts += 500 * RATE / 1000;
        }
      sp_jitter_buffer_get (jb, out + n_out, PERIOD);
      n_out += PERIOD;
      now += 10000;
    }
  /* The middle of the silence as played: the buffer adds its delay. */
  *gap_dbov = rms_dbov (out + RATE * 700 / 1000, RATE * 200 / 1000);
  *after_tone = goertzel_power (out + RATE * 1300 / 1000, RATE / 10, RATE, 400);
  sp_jitter_buffer_get_stats (jb, &stats);
  if (send_cn)
    {
      g_assert_cmpuint (stats.comfort_noise_packets, ==, 1);
      g_assert_cmpuint (stats.comfort_noise_samples, >, RATE * 4 / 10);
    }
}

static void
test_cn_dtx (void)
{
  double gap, tone_after, gap_without, tone_after_without;

  run_dtx (TRUE, &gap, &tone_after);
  run_dtx (FALSE, &gap_without, &tone_after_without);
  g_test_message ("silence with CN at -50 dBov: %.2f dBov; without CN: %.2f dBov", gap,
                  gap_without);
  g_assert_cmpfloat (fabs (gap + 50.0), <, 3.0);
  g_assert_cmpfloat (gap_without, <, -80.0);
  g_assert_cmpfloat (tone_after, >, 1e6);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/jitterbuffer/in-order", test_in_order);
  g_test_add_func ("/jitterbuffer/reorder", test_reorder);
  g_test_add_func ("/jitterbuffer/duplicates", test_duplicates);
  g_test_add_func ("/jitterbuffer/late-packet", test_late_packet);
  g_test_add_func ("/jitterbuffer/loss-concealed", test_loss_concealed);
  g_test_add_func ("/jitterbuffer/drift-fast", test_drift_fast);
  g_test_add_func ("/jitterbuffer/drift-slow", test_drift_slow);
  g_test_add_func ("/jitterbuffer/adaptive-target", test_adaptive_target);
  g_test_add_func ("/jitterbuffer/rare-stalls", test_rare_stalls);
  g_test_add_func ("/jitterbuffer/frequent-stalls", test_frequent_stalls);
  g_test_add_func ("/jitterbuffer/burst-delay", test_burst_delay);
  g_test_add_func ("/jitterbuffer/concealment-quality", test_concealment_quality);
  g_test_add_func ("/jitterbuffer/opus-fec", test_opus_fec);
  g_test_add_func ("/jitterbuffer/opus-gap-fades", test_opus_gap_fades);
  g_test_add_func ("/jitterbuffer/cn-parse", test_cn_parse);
  g_test_add_func ("/jitterbuffer/cn-levels", test_cn_levels);
  g_test_add_func ("/jitterbuffer/cn-dtx", test_cn_dtx);
  return g_test_run ();
}
