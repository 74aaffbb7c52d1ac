/* Mouth-to-ear latency of a loopback call: two SpMediaSessions with real
 * UDP sockets on 127.0.0.x and the real media thread. A's source is
 * silent but for a click every 152.5 ms (so eight clicks land at eight
 * places 2.5 ms apart in their 20 ms packet); B's sink looks for the
 * clicks. Both devices note the monotonic time at which each period
 * passes through them, so a click's delay is
 *
 *   (time B's sink got the period holding it + its offset there)
 *   - (time A's source gave the period holding it + its offset there).
 *
 * The devices are unclocked (like WAV files): the media thread moves one
 * 10 ms period per tick and a period's samples appear at once when it is
 * read. A sound card differs in two ways, both fixed by the session's
 * policy and added to the measured figure: a captured sample waits for
 * the end of its 10 ms period before it can be read (capture period), and
 * the session keeps a clocked sink two periods ahead (playback queue).
 *
 * Each session ticks from its start, so how long a packet waits for B's
 * next tick is set by when B starts after A. A real far end's clock is
 * independent of ours, its phase uniform over the period, so each codec
 * runs N_PHASES calls with B started (k + 0.5) * 10 / N_PHASES ms after A
 * (1, 3, 5, 7, 9 ms), each clicking for SP_BENCH_SECONDS / N_PHASES (at
 * least MIN_CALL_S; SP_BENCH_SECONDS default 5, at most 30, per codec)
 * after CLICK_START_MS of settling.
 *
 * Codecs: pcmu and g722 at 20 ms, opus10 and opus20 (Opus, PT 111, RTP
 * clock 48000, audio at 16 kHz, at 10 and 20 ms: the packet time is fixed,
 * as an account's ptime setting fixes it, so opus20 is sent in 20 ms
 * packets on a LAN too; each prints the packet time the talker really
 * sent with, _sent_ptime_ms).
 *
 * Prints, per codec, for <codec>_mouth_to_ear_ms (a click's measured delay
 * plus capture period and playback queue): per phase _b_phase<N>ms_mean /
 * _min / _max, and over all clicks _mean, _median, _min, _max and
 * _worst_phase_mean (the highest of the phases' means), and how steady
 * the delay is within a call (each phase is a call): _within_call_spread_max
 * (the largest max - min of a call) and _within_call_stddev (each click
 * against its call's mean). The mean is split
 * as
 *   packetisation_ms: the packet time (a sample waits the rest of its
 *     packet to be sent and is played its place into the packet, so
 *     every sample costs the whole packet; the capture period is in it),
 *   tick_wait_ms: the mean wait for B's tick, 5 (the phases' mean),
 *   jitter_buffer_ms: the mean buffered depth from the session's stats,
 *   playback_queue_ms: the sink periods queued ahead,
 *   other_ms: the rest (decoding, scheduling, loopback, and whatever of
 *     the tick wait the depth already counts: it can be negative).
 *
 * With --alsa (run inside tests/tools/pulse-env.sh), A is a real phone on
 * ALSA `default` (a private PulseAudio with null sinks "mic" and "spk"),
 * and both directions are measured on the monotonic clock:
 *   mic path: a click written into the "mic" sink (the time it plays
 *     there: write time + the injector's snd_pcm_delay) -> A's ALSA
 *     capture (mic.monitor) -> RTP -> B's detector sink;
 *   speaker path: B's click source -> RTP -> A's ALSA playback ("spk")
 *     -> a recorder on spk.monitor (the time it was captured: read time
 *     - the recorder's snd_pcm_delay).
 * B stays unclocked, so B's own device share (a capture period for the
 * speaker path, the two-period playback queue for the mic path) is added
 * as in the default mode. Prints alsa_<codec>_mic_*, alsa_<codec>_spk_*
 * and alsa_<codec>_mouth_to_ear_ms_* (the mic path: what the far end
 * hears of what is said into this phone; phases and statistics as above),
 * its mean split into packetisation, far tick wait, jitter buffer,
 * far_device (modelled) and alsa_device_ms (the rest: A's ALSA period and
 * buffer, the sound server's latency, scheduling). */

#include <alsa/asoundlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/alsa.h"
#include "audio/device.h"
#include "media/session.h"

#define ADDR_A "127.0.0.31"
#define ADDR_B "127.0.0.32"
/* 152.5 ms is 7.5 packets and a half: successive clicks start 12.5 ms
 * further into their 20 ms packet, so every eight clicks cover the packet
 * at 2.5 ms steps (0, 12.5, 5, 17.5, 10, 2.5, 15, 7.5); a 10 ms packet
 * at 2.5 ms steps every four clicks. */
#define CLICK_EVERY_US 152500
#define CLICK_EVERY_MS (CLICK_EVERY_US / 1000.0)
/* Let the jitter buffer settle: its transit window (128 packets, 2.56 s)
 * must have forgotten the burst a device's start gives, or its cushion
 * stays raised for the whole of a short call. */
#define CLICK_START_MS  3000
#define CLICK_MS        2
#define THRESHOLD       4000 /* the click peaks at 16000; silence is 0 */
#define REFRACTORY_MS   100
#define MAX_CLICKS      256
#define CAPTURE_PERIODS 1 /* a sound card: a sample is read at the end of its period */
/* session.c keeps a clocked sink a period and a tick ahead. */
#define PLAYBACK_AHEAD_MS (SP_AUDIO_PERIOD_MS + SP_AUDIO_TICK_MS)
/* B's tick starts (k + 0.5) * 10 / N_PHASES ms after A's, one call per k:
 * the midpoints of a uniform phase, as between two independent clocks. */
#define N_PHASES   5
#define MIN_CALL_S 2

/* A codec at a packet time, as the bench runs it. */
typedef struct
{
  const char *name; /* the keys' prefix: pcmu, g722, opus10, opus20 */
  SpCodecId codec;
  guint ptime_ms;
} BenchCodec;

static const BenchCodec bench_codecs[] = {
  { "pcmu", SP_CODEC_PCMU, 20 },
  { "g722", SP_CODEC_G722, 20 },
  { "opus10", SP_CODEC_OPUS, 10 },
  { "opus20", SP_CODEC_OPUS, 20 },
};

/* The session's parameters for a call to @address:@port: RTP clock and
 * payload type come from the codec table (Opus: 48000, PT 111, its audio
 * at 16 kHz). */
static SpMediaParams
bench_params (const BenchCodec *bc, const char *address, guint16 port)
{
  SpMediaParams p = {
    .codec = bc->codec,
    .ptime_ms = bc->ptime_ms,
    .dtmf_payload_type = -1,
    .remote_address = address,
    .remote_rtp_port = port,
    .send = TRUE,
    .receive = TRUE,
    .payload_type = sp_codec_info_for_id (bc->codec)->payload_type,
    /* The packet time asked for is the one sent (as with an account's
     * fixed ptime): opus20 is 20 ms even between private addresses. */
    .fixed_ptime = TRUE,
  };

  return p;
}

/* The audio rate the session runs the codec at (Opus and G.722: 16 kHz). */
static guint
bench_rate (const BenchCodec *bc)
{
  return sp_codec_info_for_id (bc->codec)->sample_rate;
}

typedef struct
{
  guint rate;
  guint64 pos; /* samples so far */
  guint n;
  double times_ms[MAX_CLICKS];
} Probe;

/* ---- Click source ------------------------------------------------------ */

static gboolean
probe_open (SpAudioDevice *device, guint rate, GError **error)
{
  Probe *p = device->priv;

  p->rate = rate;
  return TRUE;
}

static double
now_ms (void)
{
  return g_get_monotonic_time () / 1000.0;
}

static gssize
click_read (SpAudioDevice *device, gint16 *frames, gsize n_frames, GError **error)
{
  Probe *p = device->priv;
  guint64 every = (guint64) p->rate * CLICK_EVERY_US / 1000000;
  guint64 first = (guint64) p->rate * CLICK_START_MS / 1000;
  gsize click_len = p->rate * CLICK_MS / 1000;
  double t = now_ms ();

  for (gsize i = 0; i < n_frames; i++)
    {
      guint64 s = p->pos + i;
      guint64 into = s >= first ? (s - first) % every : G_MAXUINT64;
      frames[i] = 0;
      if (into < click_len)
        /* A 2 ms burst of 2 kHz under a Hann window: survives G.711 and
         * G.722 (whose 8 kHz band a bare impulse would overshoot). */
        frames[i] = (gint16) (16000.0 * sin (G_PI * into / click_len) *
                              sin (2 * G_PI * 2000.0 * into / p->rate));
      if (into == 0 && p->n < MAX_CLICKS)
        p->times_ms[p->n++] = t + i * 1000.0 / p->rate;
    }
  p->pos += n_frames;
  return (gssize) n_frames;
}

/* ---- Click detector sink ------------------------------------------------- */

typedef struct
{
  Probe probe;
  guint64 last_click; /* sample index of the last detection */
  gboolean any;
} Detector;

static gssize
detect_write (SpAudioDevice *device, const gint16 *frames, gsize n_frames, GError **error)
{
  Detector *d = device->priv;
  Probe *p = &d->probe;
  guint64 refractory = (guint64) p->rate * REFRACTORY_MS / 1000;
  double t = now_ms ();

  for (gsize i = 0; i < n_frames; i++)
    {
      guint64 s = p->pos + i;
      if (ABS (frames[i]) < THRESHOLD || (d->any && s - d->last_click < refractory))
        continue;
      d->any = TRUE;
      d->last_click = s;
      if (p->n < MAX_CLICKS)
        p->times_ms[p->n++] = t + i * 1000.0 / p->rate;
    }
  p->pos += n_frames;
  return (gssize) n_frames;
}

static void
probe_close (SpAudioDevice *device)
{
}

static void
probe_finalize (SpAudioDevice *device)
{
}

static const SpAudioDeviceVTable click_vtable = {
  .type_name = "click",
  .open = probe_open,
  .read = click_read,
  .close = probe_close,
  .finalize = probe_finalize,
};

static const SpAudioDeviceVTable detect_vtable = {
  .type_name = "detect",
  .open = probe_open,
  .write = detect_write,
  .close = probe_close,
  .finalize = probe_finalize,
};

/* ---- The call ------------------------------------------------------------ */

typedef struct
{
  double depth_sum;
  guint depth_n;
  double sink_sum; /* the clocked sink's delay (--alsa), sampled likewise */
  guint sink_n;
  gint64 from_us; /* samples before this (the settling) are left out */
} DepthMean;

static void
on_stats (SpMediaSession *session, const SpMediaStats *stats, gpointer user_data)
{
  DepthMean *m = user_data;

  if (stats->packets_received > 0 && g_get_monotonic_time () >= m->from_us)
    {
      m->depth_sum += stats->jitter_buffer_depth_ms;
      m->depth_n++;
      if (stats->sink_delay_ms > 0)
        {
          m->sink_sum += stats->sink_delay_ms;
          m->sink_n++;
        }
    }
}

static SpMediaSession *
new_session (SpMediaEngine *engine, const char *address, DepthMean *depth)
{
  SpMediaCallbacks callbacks = { on_stats, NULL, NULL };
  g_autoptr (GError) error = NULL;
  SpMediaSession *s = sp_media_session_new (engine, address, 0, &callbacks, depth, &error);

  if (s == NULL)
    g_error ("cannot bind %s: %s", address, error->message);
  return s;
}

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

/* The delays of one path over the calls of all B phases. */
typedef struct
{
  double all[N_PHASES * MAX_CLICKS];
  guint n;
  double sum[N_PHASES], sumsq[N_PHASES], min[N_PHASES], max[N_PHASES];
  guint count[N_PHASES];
} PathDelays;

/* B's tick offset after A's in call k, in microseconds. */
static gint64
phase_offset_us (guint k)
{
  return (gint64) (2 * k + 1) * SP_AUDIO_TICK_MS * 1000 / (2 * N_PHASES);
}

/* How long each phase's call runs: the settling, then the codec's share
 * of SP_BENCH_SECONDS of clicks. */
static gint64
call_length_us (guint seconds)
{
  return (gint64) CLICK_START_MS * 1000 +
         MAX ((gint64) MIN_CALL_S * G_USEC_PER_SEC, (gint64) seconds * G_USEC_PER_SEC / N_PHASES);
}

/* Pairs each click with the first detection after it and files the delay
 * plus extra_ms (a modelled device share) under phase k. */
static void
add_delays (PathDelays *d, guint k, const Probe *sent, const Probe *heard, double extra_ms)
{
  for (guint i = 0, j = 0; i < sent->n; i++)
    {
      double delay;
      while (j < heard->n && heard->times_ms[j] < sent->times_ms[i])
        j++;
      if (j >= heard->n || heard->times_ms[j] - sent->times_ms[i] >= CLICK_EVERY_MS)
        continue;
      delay = heard->times_ms[j++] - sent->times_ms[i] + extra_ms;
      if (d->count[k] == 0 || delay < d->min[k])
        d->min[k] = delay;
      if (d->count[k] == 0 || delay > d->max[k])
        d->max[k] = delay;
      d->sum[k] += delay;
      d->sumsq[k] += delay * delay;
      d->count[k]++;
      if (d->n < G_N_ELEMENTS (d->all))
        d->all[d->n++] = delay;
    }
}

/* Prints <prefix>_b_phase<ms>ms_mean/_min/_max per phase, then over all
 * clicks _mean, _median, _min, _max and _worst_phase_mean; returns the
 * mean. */
static double
print_delays (const char *prefix, PathDelays *d, guint sent)
{
  double sum = 0, worst = 0;

  if (d->n == 0)
    g_error ("%s: no click came through (%u sent)", prefix, sent);
  for (guint k = 0; k < N_PHASES; k++)
    {
      double mean = d->count[k] ? d->sum[k] / d->count[k] : 0;
      double ms = phase_offset_us (k) / 1000.0;
      printf ("%s_b_phase%.1fms_clicks=%u\n", prefix, ms, d->count[k]);
      printf ("%s_b_phase%.1fms_mean=%.1f\n%s_b_phase%.1fms_min=%.1f\n%s_b_phase%.1fms_max=%.1f\n",
              prefix, ms, mean, prefix, ms, d->min[k], prefix, ms, d->max[k]);
      worst = MAX (worst, mean);
    }
  for (guint i = 0; i < d->n; i++)
    sum += d->all[i];
  qsort (d->all, d->n, sizeof d->all[0], compare_double);
  printf ("%s_clicks=%u\n%s_clicks_missed=%u\n", prefix, d->n, prefix, sent - d->n);
  printf ("%s_mean=%.1f\n%s_median=%.1f\n%s_min=%.1f\n%s_max=%.1f\n%s_worst_phase_mean=%.1f\n",
          prefix, sum / d->n, prefix, d->all[d->n / 2], prefix, d->all[0], prefix, d->all[d->n - 1],
          prefix, worst);
  return sum / d->n;
}

/* How steady the delay is within a call (each phase is one call): the
 * largest max - min of a call, and the within-call standard deviation
 * (each click against its own call's mean, pooled over the calls). */
static void
steadiness (const PathDelays *d, double *spread_max, double *stddev)
{
  double ss = 0;
  guint n = 0;

  *spread_max = 0;
  for (guint k = 0; k < N_PHASES; k++)
    {
      if (d->count[k] == 0)
        continue;
      *spread_max = MAX (*spread_max, d->max[k] - d->min[k]);
      ss += d->sumsq[k] - d->sum[k] * d->sum[k] / d->count[k];
      n += d->count[k];
    }
  *stddev = n ? sqrt (MAX (ss, 0) / n) : 0;
}

/* <prefix>_within_call_spread_max and _within_call_stddev: the worst of
 * @parts (the directions of a call, each steady or not on its own: the
 * two directions' offset is no unsteadiness). */
static void
print_steadiness (const char *prefix, const PathDelays *const *parts, guint n_parts)
{
  double spread = 0, sd = 0;

  for (guint i = 0; i < n_parts; i++)
    {
      double s, d;
      steadiness (parts[i], &s, &d);
      spread = MAX (spread, s);
      sd = MAX (sd, d);
    }
  printf ("%s_within_call_spread_max=%.1f\n%s_within_call_stddev=%.1f\n", prefix, spread, prefix,
          sd);
}

/* Packetisation in the split: a sample waits (PTIME - its place in the
 * packet) to be sent and is played its place after the packet's first
 * sample, so whatever the click's position it costs the whole packet
 * time. What the position changes is only how the packet's periods meet
 * the two ticks; the eight positions cover that. */
static double
packetisation_mean_ms (guint ptime_ms)
{
  return ptime_ms;
}

/* Starts A, then B phase_us later: B's ticks then fall that long after
 * A's, which is how long a packet A sends at its tick waits for B. */
static void
start_phased (SpMediaSession *a, const SpMediaParams *pa, SpMediaSession *b,
              const SpMediaParams *pb, gint64 phase_us)
{
  sp_media_session_start (a, pa);
  /* Starts are posted: A ticks once its start (device opens) is applied. */
  sp_media_session_flush (a);
  g_usleep ((gulong) phase_us);
  sp_media_session_start (b, pb);
}

/* The depth means count from the clicks on. */
static void
settle_depths (DepthMean *a, DepthMean *b)
{
  a->from_us = b->from_us = g_get_monotonic_time () + (gint64) CLICK_START_MS * 1000;
}

static void
run_for (gint64 length_us)
{
  gint64 end = g_get_monotonic_time () + length_us;

  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (5000);
    }
}

/* One call with B's tick phase_us after A's; adds its click delays. */
static void
run_call_phase (SpMediaEngine *engine, const BenchCodec *bc, guint k, gint64 length_us,
                PathDelays *delays, DepthMean *depth_b, guint *sent, SpMediaStats *stats)
{
  DepthMean depth_a = { 0 };
  SpMediaSession *a = new_session (engine, ADDR_A, &depth_a);
  SpMediaSession *b = new_session (engine, ADDR_B, depth_b);
  Probe click = { 0 };
  Detector detector = { 0 };
  SpMediaParams pa = bench_params (bc, ADDR_B, sp_media_session_get_rtp_port (b));
  SpMediaParams pb = bench_params (bc, ADDR_A, sp_media_session_get_rtp_port (a));

  sp_media_session_set_devices (
      a, sp_audio_device_new (&click_vtable, SP_AUDIO_SOURCE, FALSE, "click", &click), NULL);
  sp_media_session_set_devices (
      b, NULL, sp_audio_device_new (&detect_vtable, SP_AUDIO_SINK, FALSE, "detect", &detector));
  settle_depths (&depth_a, depth_b);
  start_phased (a, &pa, b, &pb, phase_offset_us (k));
  run_for (length_us);
  sp_media_session_stop (a);
  sp_media_session_stop (b);
  sp_media_session_flush (b);
  sp_media_session_get_stats (b, stats);
  /* What A really sent with (Opus on a LAN may send 10 ms for 20). */
  {
    SpMediaStats sa;
    sp_media_session_get_stats (a, &sa);
    stats->ptime_ms = sa.ptime_ms;
  }
  while (g_main_context_iteration (NULL, FALSE))
    ;
  sp_media_session_free (a);
  sp_media_session_free (b);
  add_delays (delays, k, &click, &detector.probe,
              CAPTURE_PERIODS * SP_AUDIO_PERIOD_MS + PLAYBACK_AHEAD_MS);
  *sent += click.n;
}

static void
run_call (const BenchCodec *bc, guint seconds)
{
  const char *name = bc->name;
  g_autoptr (SpMediaEngine) engine = sp_media_engine_new ();
  g_autofree PathDelays *delays = g_new0 (PathDelays, 1);
  g_autofree char *prefix = g_strdup_printf ("%s_mouth_to_ear_ms", name);
  DepthMean depth_b = { 0 };
  SpMediaStats stats = { 0 };
  guint sent = 0;
  double jb_ms, mean, tick_wait = SP_AUDIO_TICK_MS / 2.0;

  for (guint k = 0; k < N_PHASES; k++)
    run_call_phase (engine, bc, k, call_length_us (seconds), delays, &depth_b, &sent, &stats);
  mean = print_delays (prefix, delays, sent);
  print_steadiness (prefix, (const PathDelays *const[]){ delays }, 1);
  jb_ms = depth_b.depth_n ? depth_b.depth_sum / depth_b.depth_n : stats.jitter_buffer_depth_ms;
  /* The split of the mean; the worst phase waits PTIME to be sent and a
   * whole period for B's tick. */
  printf ("%s_sent_ptime_ms=%u\n", name, stats.ptime_ms);
  printf ("%s_packetisation_ms=%.0f\n", name, packetisation_mean_ms (stats.ptime_ms));
  printf ("%s_tick_wait_ms=%.1f\n", name, tick_wait);
  printf ("%s_jitter_buffer_ms=%.1f\n%s_jitter_buffer_target_ms=%u\n", name, jb_ms, name,
          stats.jitter_buffer_target_ms);
  printf ("%s_playback_queue_ms=%d\n", name, PLAYBACK_AHEAD_MS);
  printf ("%s_other_ms=%.1f\n", name,
          mean - packetisation_mean_ms (stats.ptime_ms) - tick_wait - jb_ms - PLAYBACK_AHEAD_MS);
}

/* ---- ALSA mode ------------------------------------------------------------ */

/* A click injector (playback into a pulse sink) or recorder (capture
 * from a pulse source) on its own thread, with blocking 10 ms I/O. */
typedef struct
{
  const char *pulse_device;
  snd_pcm_stream_t stream;
  guint rate;
  gint stop;
  Probe probe; /* click times, ms on the monotonic clock */
  guint64 last_click;
  gboolean any;
  GThread *thread;
} Tap;

/* The pulse plugin on a named sink or source: ALSA's own configuration
 * plus "pcm.sp_bench_tap { type pulse device NAME }". */
static snd_pcm_t *
open_tap_pcm (Tap *tap)
{
  /* Six taps open at once beside the two phones' media threads: once in
   * a dozen runs an open failed ("File exists") or crashed. The global
   * tree is taken by reference (it cannot be replaced while copied), and
   * the taps open one at a time. */
  static GMutex lock;
  G_GNUC_UNUSED g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&lock);
  g_autofree char *text =
      g_strdup_printf ("pcm.sp_bench_tap { type pulse device \"%s\" }", tap->pulse_device);
  snd_config_t *top = NULL;
  snd_config_t *config = NULL;
  snd_input_t *in = NULL;
  snd_pcm_t *pcm = NULL;
  int err;

  err = snd_config_update_ref (&top);
  if (err >= 0)
    {
      err = snd_config_copy (&config, top);
      snd_config_unref (top);
    }
  if (err < 0 || (err = snd_input_buffer_open (&in, text, -1)) < 0 ||
      (err = snd_config_load (config, in)) < 0 ||
      (err = snd_pcm_open_lconf (&pcm, "sp_bench_tap", tap->stream, 0, config)) < 0 ||
      (err = snd_pcm_set_params (pcm, SND_PCM_FORMAT_S16, SND_PCM_ACCESS_RW_INTERLEAVED, 1,
                                 tap->rate, 1, 20000)) < 0)
    g_error ("cannot open pulse device %s: %s (run inside tests/tools/pulse-env.sh)",
             tap->pulse_device, snd_strerror (err));
  if (in)
    snd_input_close (in);
  /* The PCM keeps what it needs of the configuration. */
  snd_config_delete (config);
  return pcm;
}

static gpointer
inject_thread (gpointer data)
{
  Tap *tap = data;
  snd_pcm_t *pcm = open_tap_pcm (tap);
  gsize period = SP_AUDIO_PERIOD_FRAMES (tap->rate);
  gint16 frames[SP_AUDIO_PERIOD_FRAMES (16000)];
  SpAudioDevice dummy = { 0 };
  Probe clicks = { 0 };

  /* The click source's samples, with their times moved to when they
   * play in the sink: now + what is queued ahead of them. */
  clicks.rate = tap->rate;
  dummy.priv = &clicks;
  for (guint i = 0; i < 3000 && !g_atomic_int_get (&tap->stop); i++)
    {
      snd_pcm_sframes_t delay = 0;
      guint before = clicks.n;
      snd_pcm_sframes_t n;

      if (snd_pcm_delay (pcm, &delay) < 0 || delay < 0)
        delay = 0;
      click_read (&dummy, frames, period, NULL);
      for (guint k = before; k < clicks.n; k++)
        clicks.times_ms[k] += delay * 1000.0 / tap->rate;
      n = snd_pcm_writei (pcm, frames, period);
      if (n < 0)
        snd_pcm_recover (pcm, (int) n, 1);
    }
  memcpy (&tap->probe, &clicks, sizeof clicks);
  snd_pcm_close (pcm);
  return NULL;
}

static gpointer
record_thread (gpointer data)
{
  Tap *tap = data;
  snd_pcm_t *pcm = open_tap_pcm (tap);
  gsize period = SP_AUDIO_PERIOD_FRAMES (tap->rate);
  guint64 refractory = (guint64) tap->rate * REFRACTORY_MS / 1000;
  gint16 frames[SP_AUDIO_PERIOD_FRAMES (16000)];
  guint64 pos = 0;

  snd_pcm_start (pcm);
  for (guint i = 0; i < 3000 && !g_atomic_int_get (&tap->stop); i++)
    {
      snd_pcm_sframes_t n = snd_pcm_readi (pcm, frames, period), delay = 0;
      double t = now_ms ();

      if (n < 0)
        {
          snd_pcm_recover (pcm, (int) n, 1);
          continue;
        }
      if (snd_pcm_delay (pcm, &delay) < 0 || delay < 0)
        delay = 0;
      for (snd_pcm_sframes_t k = 0; k < n; k++)
        {
          guint64 s = pos + (guint64) k;
          if (ABS (frames[k]) < THRESHOLD || (tap->any && s - tap->last_click < refractory))
            continue;
          tap->any = TRUE;
          tap->last_click = s;
          /* Captured (delay + n - k) samples before now. */
          if (tap->probe.n < MAX_CLICKS)
            tap->probe.times_ms[tap->probe.n++] = t - (double) (delay + n - k) * 1000.0 / tap->rate;
        }
      pos += (guint64) n;
    }
  snd_pcm_close (pcm);
  return NULL;
}

/* One direction of a call between two phones on real devices: a click
 * played into the talker's "mic" sink, heard by a recorder on that sink's
 * monitor (the mouth: the moment the talker's capture gets it too) and by a
 * recorder on the listener's speaker monitor (the ear). */
typedef struct
{
  Tap injector, mouth, ear;
} Direction;

static void
direction_start (Direction *d, const char *mic_sink, const char *spk_sink, guint rate)
{
  d->injector = (Tap){ mic_sink, SND_PCM_STREAM_PLAYBACK, rate };
  d->mouth = (Tap){ g_strdup_printf ("%s.monitor", mic_sink), SND_PCM_STREAM_CAPTURE, rate };
  d->ear = (Tap){ g_strdup_printf ("%s.monitor", spk_sink), SND_PCM_STREAM_CAPTURE, rate };
  d->mouth.thread = g_thread_new ("mouth", record_thread, &d->mouth);
  d->ear.thread = g_thread_new ("ear", record_thread, &d->ear);
  d->injector.thread = g_thread_new ("injector", inject_thread, &d->injector);
}

static void
direction_stop (Direction *d)
{
  Tap *taps[] = { &d->injector, &d->mouth, &d->ear };

  for (guint i = 0; i < G_N_ELEMENTS (taps); i++)
    g_atomic_int_set (&taps[i]->stop, 1);
  for (guint i = 0; i < G_N_ELEMENTS (taps); i++)
    g_thread_join (taps[i]->thread);
  g_free ((char *) d->mouth.pulse_device);
  g_free ((char *) d->ear.pulse_device);
}

/* One call, A on ALSA `default` (sinks mic/spk) and B on `far_mic` /
 * `far_spk` (mic2/spk2), each on a media engine (a thread) of its own as
 * on two PCs, B started phase k after A; adds both directions' delays. */
static void
run_alsa_phase (const BenchCodec *bc, guint k, gint64 length_us, PathDelays *a_to_b,
                PathDelays *b_to_a, DepthMean *depth_a, DepthMean *depth_b, guint *sent_ab,
                guint *sent_ba, SpMediaStats *stats_a, SpMediaStats *stats_b)
{
  g_autoptr (SpMediaEngine) engine_a = sp_media_engine_new ();
  g_autoptr (SpMediaEngine) engine_b = sp_media_engine_new ();
  SpMediaSession *a = new_session (engine_a, ADDR_A, depth_a);
  SpMediaSession *b = new_session (engine_b, ADDR_B, depth_b);
  guint rate = bench_rate (bc);
  Direction ab = { 0 }, ba = { 0 };
  SpMediaStats last_a = { 0 }, last_b = { 0 };
  SpMediaParams pa = bench_params (bc, ADDR_B, sp_media_session_get_rtp_port (b));
  SpMediaParams pb = bench_params (bc, ADDR_A, sp_media_session_get_rtp_port (a));

  sp_media_session_set_devices (a, sp_audio_alsa_new (NULL, SP_AUDIO_SOURCE),
                                sp_audio_alsa_new (NULL, SP_AUDIO_SINK));
  sp_media_session_set_devices (b, sp_audio_alsa_new ("far_mic", SP_AUDIO_SOURCE),
                                sp_audio_alsa_new ("far_spk", SP_AUDIO_SINK));
  direction_start (&ab, "mic", "spk2", rate);
  direction_start (&ba, "mic2", "spk", rate);
  settle_depths (depth_a, depth_b);
  start_phased (a, &pa, b, &pb, phase_offset_us (k));
  run_for (length_us);
  direction_stop (&ab);
  direction_stop (&ba);
  sp_media_session_stop (a);
  sp_media_session_stop (b);
  sp_media_session_flush (a); /* two engines */
  sp_media_session_flush (b);
  sp_media_session_get_stats (a, &last_a);
  sp_media_session_get_stats (b, &last_b);
  /* The last call's buffer figures; what went wrong summed over the
   * calls. */
  last_a.concealed += stats_a->concealed;
  last_b.concealed += stats_b->concealed;
  last_a.late += stats_a->late;
  last_b.late += stats_b->late;
  last_a.sink_xruns += stats_a->sink_xruns;
  last_b.sink_xruns += stats_b->sink_xruns;
  last_a.jitter_buffer_underrun_ms += stats_a->jitter_buffer_underrun_ms;
  last_b.jitter_buffer_underrun_ms += stats_b->jitter_buffer_underrun_ms;
  *stats_a = last_a;
  *stats_b = last_b;
  while (g_main_context_iteration (NULL, FALSE))
    ;
  sp_media_session_free (a);
  sp_media_session_free (b);
  add_delays (a_to_b, k, &ab.mouth.probe, &ab.ear.probe, 0);
  add_delays (b_to_a, k, &ba.mouth.probe, &ba.ear.probe, 0);
  *sent_ab += ab.mouth.probe.n;
  *sent_ba += ba.mouth.probe.n;
}

/* The mean's split: the packet time, the listener's jitter buffer, and
 * the rest (both ends' ticks, devices and the sound server). */
static void
print_split (const char *prefix, double mean, const DepthMean *depth, const SpMediaStats *talker,
             const SpMediaStats *stats)
{
  double jb = depth->depth_n ? depth->depth_sum / depth->depth_n : 0;
  double packet = packetisation_mean_ms (talker->ptime_ms);

  printf ("%s_sent_ptime_ms=%u\n", prefix, talker->ptime_ms);
  printf ("%s_packetisation_ms=%.0f\n%s_jitter_buffer_ms=%.1f\n", prefix, packet, prefix, jb);
  printf ("%s_jitter_buffer_target_ms=%u\n", prefix, stats->jitter_buffer_target_ms);
  printf ("%s_devices_ticks_server_ms=%.1f\n", prefix, mean - packet - jb);
  /* The listener's playback queue as its sink reports it (sampled once a
   * second, after a tick's writes) and how far ahead it was kept. */
  printf ("%s_listener_sink_delay_ms=%.1f\n%s_listener_sink_ahead_ms=%u\n", prefix,
          depth->sink_n ? depth->sink_sum / depth->sink_n : 0, prefix, stats->sink_ahead_ms);
  printf ("%s_concealed_packets=%" G_GUINT64_FORMAT "\n", prefix, stats->concealed);
  /* Glitches, summed over the calls: packets that came too late to be
   * played, the listener's sink underruns, and audio its jitter buffer
   * concealed for want of a packet. */
  printf ("%s_late_packets=%" G_GUINT64_FORMAT "\n%s_listener_sink_xruns=%u\n", prefix, stats->late,
          prefix, stats->sink_xruns);
  printf ("%s_jitter_buffer_underrun_ms=%" G_GUINT64_FORMAT "\n", prefix,
          stats->jitter_buffer_underrun_ms);
}

static void
run_alsa_call (const BenchCodec *bc, guint seconds)
{
  const char *name = bc->name;
  g_autofree PathDelays *a_to_b = g_new0 (PathDelays, 1);
  g_autofree PathDelays *b_to_a = g_new0 (PathDelays, 1);
  g_autofree PathDelays *both = g_new0 (PathDelays, 1);
  g_autofree char *ab_prefix = g_strdup_printf ("alsa_%s_a_to_b_ms", name);
  g_autofree char *ba_prefix = g_strdup_printf ("alsa_%s_b_to_a_ms", name);
  g_autofree char *prefix = g_strdup_printf ("alsa_%s_mouth_to_ear_ms", name);
  DepthMean depth_a = { 0 }, depth_b = { 0 };
  SpMediaStats stats_a = { 0 }, stats_b = { 0 };
  guint sent_ab = 0, sent_ba = 0;
  double ab_mean, ba_mean;

  for (guint k = 0; k < N_PHASES; k++)
    run_alsa_phase (bc, k, call_length_us (seconds), a_to_b, b_to_a, &depth_a, &depth_b, &sent_ab,
                    &sent_ba, &stats_a, &stats_b);
  /* Both directions together before the per-direction sort below. */
  for (guint k = 0; k < N_PHASES; k++)
    {
      PathDelays *parts[] = { a_to_b, b_to_a };
      for (guint p = 0; p < 2; p++)
        {
          if (parts[p]->count[k] == 0)
            continue;
          if (both->count[k] == 0 || parts[p]->min[k] < both->min[k])
            both->min[k] = parts[p]->min[k];
          if (both->count[k] == 0 || parts[p]->max[k] > both->max[k])
            both->max[k] = parts[p]->max[k];
          both->sum[k] += parts[p]->sum[k];
          both->count[k] += parts[p]->count[k];
        }
    }
  memcpy (both->all, a_to_b->all, a_to_b->n * sizeof (double));
  memcpy (both->all + a_to_b->n, b_to_a->all,
          MIN (b_to_a->n, G_N_ELEMENTS (both->all) - a_to_b->n) * sizeof (double));
  both->n = MIN (a_to_b->n + b_to_a->n, G_N_ELEMENTS (both->all));
  ab_mean = print_delays (ab_prefix, a_to_b, sent_ab);
  print_steadiness (ab_prefix, (const PathDelays *const[]){ a_to_b }, 1);
  print_split (ab_prefix, ab_mean, &depth_b, &stats_a, &stats_b);
  ba_mean = print_delays (ba_prefix, b_to_a, sent_ba);
  print_steadiness (ba_prefix, (const PathDelays *const[]){ b_to_a }, 1);
  print_split (ba_prefix, ba_mean, &depth_a, &stats_b, &stats_a);
  print_delays (prefix, both, sent_ab + sent_ba);
  /* Each direction on its own: their offset is no unsteadiness. */
  print_steadiness (prefix, (const PathDelays *const[]){ a_to_b, b_to_a }, 2);
}

/* SP_BENCH_CODECS (comma-separated names, e.g. "opus10") picks codecs;
 * unset, all of them. */
static gboolean
codec_wanted (const BenchCodec *bc)
{
  const char *list = g_getenv ("SP_BENCH_CODECS");
  g_auto (GStrv) names = NULL;

  if (list == NULL || *list == '\0')
    return TRUE;
  names = g_strsplit (list, ",", -1);
  return g_strv_contains ((const char *const *) names, bc->name);
}

int
main (int argc, char **argv)
{
  const char *env = g_getenv ("SP_BENCH_SECONDS");
  guint seconds = env ? (guint) CLAMP (atoi (env), 2, 30) : 5;

  if (argc > 1 && strcmp (argv[1], "--alsa") == 0)
    {
      if (g_getenv ("SP_PULSE_DIR") == NULL || g_strcmp0 (g_getenv ("SP_PULSE_FAR_END"), "1") != 0)
        g_error ("--alsa runs inside SP_PULSE_FAR_END=1 tests/tools/pulse-env.sh");
      for (guint i = 0; i < G_N_ELEMENTS (bench_codecs); i++)
        if (codec_wanted (&bench_codecs[i]))
          run_alsa_call (&bench_codecs[i], seconds);
      return 0;
    }
  for (guint i = 0; i < G_N_ELEMENTS (bench_codecs); i++)
    if (codec_wanted (&bench_codecs[i]))
      run_call (&bench_codecs[i], seconds);
  return 0;
}
