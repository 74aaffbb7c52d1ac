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
 *     decoding, scheduling, loopback). */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int
main (int argc, char **argv)
{
  const char *env = g_getenv ("SP_BENCH_SECONDS");
  guint seconds = env ? (guint) CLAMP (atoi (env), 2, 30) : 5;

  run_call ("pcmu", SP_CODEC_PCMU, seconds);
  run_call ("g722", SP_CODEC_G722, seconds);
  return 0;
}
