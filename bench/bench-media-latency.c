/* Mouth-to-ear latency of a loopback call: two SpMediaSessions with real
 * UDP sockets on 127.0.0.x and the real media thread. A's source is
 * silent but for a click every 250 ms; B's sink looks for the clicks.
 * Both devices note the monotonic time at which each period passes
 * through them, so a click's delay is
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
 * The run is bounded: SP_BENCH_SECONDS (default 5, at most 30) per codec.
 *
 * Prints, per codec: <codec>_latency_ms_median / _min / _max (measured
 * with the unclocked devices) and <codec>_mouth_to_ear_ms (the median
 * plus capture period and playback queue), split as
 *   packetisation_ms: the packet time (a packet leaves when its last
 *     sample is captured; the capture period is inside it),
 *   jitter_buffer_ms: the mean buffered depth from the session's stats,
 *   playback_queue_ms: the sink periods queued ahead,
 *   other_ms: the rest (tick alignment between the two sessions,
 *     decoding, scheduling, loopback).
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
 * and alsa_<codec>_mouth_to_ear_ms (the mic path: what the far end hears
 * of what is said into this phone), split into packetisation, jitter
 * buffer, far_device (modelled) and alsa_device_ms (the rest: A's ALSA
 * period and buffer, the sound server's latency, scheduling). */

#include <alsa/asoundlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/alsa.h"
#include "audio/device.h"
#include "media/session.h"

#define ADDR_A          "127.0.0.31"
#define ADDR_B          "127.0.0.32"
#define PTIME_MS        20
#define CLICK_EVERY_MS  250
#define CLICK_START_MS  500 /* let the jitter buffer settle */
#define CLICK_MS        2
#define THRESHOLD       4000 /* the click peaks at 16000; silence is 0 */
#define REFRACTORY_MS   100
#define MAX_CLICKS      256
#define CAPTURE_PERIODS 1 /* a sound card: a sample is read at the end of its period */
#define PLAYBACK_AHEAD  2 /* session.c keeps a clocked sink two periods ahead */

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
  guint64 every = (guint64) p->rate * CLICK_EVERY_MS / 1000;
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
} DepthMean;

static void
on_stats (SpMediaSession *session, const SpMediaStats *stats, gpointer user_data)
{
  DepthMean *m = user_data;

  if (stats->packets_received > 0)
    {
      m->depth_sum += stats->jitter_buffer_depth_ms;
      m->depth_n++;
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

static void
run_call (const char *name, SpCodecId codec, guint seconds)
{
  g_autoptr (SpMediaEngine) engine = sp_media_engine_new ();
  DepthMean depth_a = { 0 }, depth_b = { 0 };
  SpMediaSession *a = new_session (engine, ADDR_A, &depth_a);
  SpMediaSession *b = new_session (engine, ADDR_B, &depth_b);
  Probe click = { 0 };
  Detector detector = { 0 };
  SpMediaParams pa = { codec, PTIME_MS, -1,  FALSE, ADDR_B, sp_media_session_get_rtp_port (b),
                       0,     TRUE,     TRUE };
  SpMediaParams pb = { codec, PTIME_MS, -1,  FALSE, ADDR_A, sp_media_session_get_rtp_port (a),
                       0,     TRUE,     TRUE };
  gint64 end;
  double delays[MAX_CLICKS];
  guint n = 0, missed = 0;
  double jb_ms, median, mouth_to_ear;
  SpMediaStats stats;

  sp_media_session_set_devices (
      a, sp_audio_device_new (&click_vtable, SP_AUDIO_SOURCE, FALSE, "click", &click), NULL);
  sp_media_session_set_devices (
      b, NULL, sp_audio_device_new (&detect_vtable, SP_AUDIO_SINK, FALSE, "detect", &detector));
  sp_media_session_start (b, &pb);
  sp_media_session_start (a, &pa);
  end = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (5000);
    }
  sp_media_session_stop (a);
  sp_media_session_stop (b);
  sp_media_session_get_stats (b, &stats);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  sp_media_session_free (a);
  sp_media_session_free (b);

  /* Pair each click with the first detection after it. */
  for (guint i = 0, j = 0; i < click.n; i++)
    {
      while (j < detector.probe.n && detector.probe.times_ms[j] < click.times_ms[i])
        j++;
      if (j < detector.probe.n && detector.probe.times_ms[j] - click.times_ms[i] < CLICK_EVERY_MS)
        delays[n++] = detector.probe.times_ms[j++] - click.times_ms[i];
      else
        missed++;
    }
  if (n == 0)
    g_error ("%s: no click came through (%u sent, %u detections)", name, click.n, detector.probe.n);
  qsort (delays, n, sizeof delays[0], compare_double);
  median = delays[n / 2];
  jb_ms = depth_b.depth_n ? depth_b.depth_sum / depth_b.depth_n : stats.jitter_buffer_depth_ms;
  printf ("%s_clicks=%u\n%s_clicks_missed=%u\n", name, n, name, missed);
  printf ("%s_latency_ms_median=%.1f\n%s_latency_ms_min=%.1f\n%s_latency_ms_max=%.1f\n", name,
          median, name, delays[0], name, delays[n - 1]);
  mouth_to_ear = median + (CAPTURE_PERIODS + PLAYBACK_AHEAD) * SP_AUDIO_PERIOD_MS;
  printf ("%s_mouth_to_ear_ms=%.1f\n", name, mouth_to_ear);
  printf ("%s_packetisation_ms=%d\n", name, PTIME_MS);
  printf ("%s_jitter_buffer_ms=%.1f\n%s_jitter_buffer_target_ms=%u\n", name, jb_ms, name,
          stats.jitter_buffer_target_ms);
  printf ("%s_playback_queue_ms=%d\n", name, PLAYBACK_AHEAD * SP_AUDIO_PERIOD_MS);
  printf ("%s_other_ms=%.1f\n", name,
          mouth_to_ear - PTIME_MS - jb_ms - PLAYBACK_AHEAD * SP_AUDIO_PERIOD_MS);
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
  g_autofree char *text =
      g_strdup_printf ("pcm.sp_bench_tap { type pulse device \"%s\" }", tap->pulse_device);
  snd_config_t *config = NULL;
  snd_input_t *in = NULL;
  snd_pcm_t *pcm = NULL;
  int err;

  if ((err = snd_config_update ()) < 0 || (err = snd_config_copy (&config, snd_config)) < 0 ||
      (err = snd_input_buffer_open (&in, text, -1)) < 0 ||
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

/* Pairs each click with the first detection after it; the median delay,
 * or -1 when nothing came through. */
static double
match_clicks (const Probe *sent, const Probe *heard, guint *n_out, double *min, double *max)
{
  double delays[MAX_CLICKS];
  guint n = 0;

  for (guint i = 0, j = 0; i < sent->n; i++)
    {
      while (j < heard->n && heard->times_ms[j] < sent->times_ms[i])
        j++;
      if (j < heard->n && heard->times_ms[j] - sent->times_ms[i] < CLICK_EVERY_MS)
        delays[n++] = heard->times_ms[j++] - sent->times_ms[i];
    }
  *n_out = n;
  if (n == 0)
    return -1;
  qsort (delays, n, sizeof delays[0], compare_double);
  *min = delays[0];
  *max = delays[n - 1];
  return delays[n / 2];
}

static void
print_path (const char *name, const char *path, const Probe *sent, const Probe *heard)
{
  guint n;
  double min = 0, max = 0, median = match_clicks (sent, heard, &n, &min, &max);

  if (median < 0)
    g_error ("%s %s path: no click came through (%u sent, %u heard)", name, path, sent->n,
             heard->n);
  printf ("alsa_%s_%s_clicks=%u\nalsa_%s_%s_clicks_missed=%u\n", name, path, n, name, path,
          sent->n - n);
  printf ("alsa_%s_%s_ms_median=%.1f\nalsa_%s_%s_ms_min=%.1f\nalsa_%s_%s_ms_max=%.1f\n", name, path,
          median, name, path, min, name, path, max);
}

static void
run_alsa_call (const char *name, SpCodecId codec, guint seconds)
{
  g_autoptr (SpMediaEngine) engine = sp_media_engine_new ();
  DepthMean depth_a = { 0 }, depth_b = { 0 };
  SpMediaSession *a = new_session (engine, ADDR_A, &depth_a);
  SpMediaSession *b = new_session (engine, ADDR_B, &depth_b);
  guint rate = codec == SP_CODEC_G722 ? 16000 : 8000;
  Probe click = { 0 };
  Detector detector = { 0 };
  Tap injector = { "mic", SND_PCM_STREAM_PLAYBACK, rate };
  Tap recorder = { "spk.monitor", SND_PCM_STREAM_CAPTURE, rate };
  SpMediaParams pa = { codec, PTIME_MS, -1,  FALSE, ADDR_B, sp_media_session_get_rtp_port (b),
                       0,     TRUE,     TRUE };
  SpMediaParams pb = { codec, PTIME_MS, -1,  FALSE, ADDR_A, sp_media_session_get_rtp_port (a),
                       0,     TRUE,     TRUE };
  double jb_a, jb_b, mic_median, spk_median, min, max;
  guint n;
  gint64 end;

  sp_media_session_set_devices (a, sp_audio_alsa_new (NULL, SP_AUDIO_SOURCE),
                                sp_audio_alsa_new (NULL, SP_AUDIO_SINK));
  sp_media_session_set_devices (
      b, sp_audio_device_new (&click_vtable, SP_AUDIO_SOURCE, FALSE, "click", &click),
      sp_audio_device_new (&detect_vtable, SP_AUDIO_SINK, FALSE, "detect", &detector));
  recorder.thread = g_thread_new ("recorder", record_thread, &recorder);
  injector.thread = g_thread_new ("injector", inject_thread, &injector);
  sp_media_session_start (b, &pb);
  sp_media_session_start (a, &pa);
  end = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (5000);
    }
  g_atomic_int_set (&injector.stop, 1);
  g_atomic_int_set (&recorder.stop, 1);
  g_thread_join (injector.thread);
  g_thread_join (recorder.thread);
  sp_media_session_stop (a);
  sp_media_session_stop (b);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  sp_media_session_free (a);
  sp_media_session_free (b);

  jb_a = depth_a.depth_n ? depth_a.depth_sum / depth_a.depth_n : 0;
  jb_b = depth_b.depth_n ? depth_b.depth_sum / depth_b.depth_n : 0;
  print_path (name, "mic", &injector.probe, &detector.probe);
  print_path (name, "spk", &click, &recorder.probe);
  mic_median = match_clicks (&injector.probe, &detector.probe, &n, &min, &max) +
               PLAYBACK_AHEAD * SP_AUDIO_PERIOD_MS;
  spk_median =
      match_clicks (&click, &recorder.probe, &n, &min, &max) + CAPTURE_PERIODS * SP_AUDIO_PERIOD_MS;
  printf ("alsa_%s_mouth_to_ear_ms=%.1f\n", name, mic_median);
  printf ("alsa_%s_mic_packetisation_ms=%d\nalsa_%s_mic_jitter_buffer_ms=%.1f\n", name, PTIME_MS,
          name, jb_b);
  printf ("alsa_%s_mic_far_device_ms=%d\nalsa_%s_mic_alsa_device_ms=%.1f\n", name,
          PLAYBACK_AHEAD * SP_AUDIO_PERIOD_MS, name,
          mic_median - PTIME_MS - jb_b - PLAYBACK_AHEAD * SP_AUDIO_PERIOD_MS);
  printf ("alsa_%s_spk_total_ms=%.1f\n", name, spk_median);
  printf ("alsa_%s_spk_packetisation_ms=%d\nalsa_%s_spk_jitter_buffer_ms=%.1f\n", name, PTIME_MS,
          name, jb_a);
  printf ("alsa_%s_spk_far_device_ms=%d\nalsa_%s_spk_alsa_device_ms=%.1f\n", name,
          CAPTURE_PERIODS * SP_AUDIO_PERIOD_MS, name,
          spk_median - PTIME_MS - jb_a - CAPTURE_PERIODS * SP_AUDIO_PERIOD_MS);
}

int
main (int argc, char **argv)
{
  const char *env = g_getenv ("SP_BENCH_SECONDS");
  guint seconds = env ? (guint) CLAMP (atoi (env), 2, 30) : 5;

  if (argc > 1 && strcmp (argv[1], "--alsa") == 0)
    {
      run_alsa_call ("pcmu", SP_CODEC_PCMU, seconds);
      run_alsa_call ("g722", SP_CODEC_G722, seconds);
      return 0;
    }
  run_call ("pcmu", SP_CODEC_PCMU, seconds);
  run_call ("g722", SP_CODEC_G722, seconds);
  return 0;
}
