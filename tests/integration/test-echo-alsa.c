/* Acoustic echo cancellation over a real echo path (issue 14): a call
 * between a media session on ALSA `default` (the private PulseAudio server
 * of tests/tools/pulse-env.sh) and a far end on WAV files. The far end
 * plays 1000 Hz; module-loopback feeds what the near side plays (spk)
 * back into its microphone (mic) 60 ms later and attenuated, while the
 * near end's own voice, 440 Hz in bursts, is played into the microphone
 * too (double talk). After the canceller's convergence time, the 1000 Hz
 * that reaches the far end with cancellation on must be at least 25 dB
 * below what reaches it with cancellation off (the echo return loss
 * enhancement, ERLE), and the 440 Hz within 3 dB. A pair whose rig
 * faltered (the echo path without cancellation, the near end's playback
 * with it: both recorded from the sound server's monitors) is measured
 * again, up to ATTEMPTS pairs, and the test skips if none held.
 *
 * With --bench it prints the figures of SP_ECHO_BENCH_RUNS pairs of calls
 * (default 3) instead of asserting (bench/bench-echo.sh). */
#include "audio/alsa.h"
#include "audio/wav.h"
#include "media/session.h"
#include "../common/goertzel.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#define ECHO_HZ    1000.0 /* the far end's voice, echoed */
#define NEAR_HZ    440.0  /* the near end's voice */
#define CALL_MS    7000
#define MEASURE_MS 4000
#define BLOCK      (call_rate / 10) /* 100 ms */

/* The call's codec and its audio rate (G.722 and 16 kHz unless a test
 * says otherwise). */
static SpCodecId codec = SP_CODEC_G722;
static guint call_rate = 16000;
#define CONVERGE_MS 2000
#define LOOP_MS     60
#define LOOP_VOLUME "50%" /* PulseAudio's cubic scale: about -18 dB */
#define MIN_ERLE_DB 25.0
/* PCMU's 8 kHz path holds the 25 dB too wherever the echo path
 * held (27-33 dB in bench/bench-echo.sh under load, 41-54 dB in runs of
 * this test at loads 4-8; pairs whose path faltered are measured again or
 * skipped, not judged). Kept apart from MIN_ERLE_DB so one can move alone. */
#define MIN_ERLE_8K_DB 25.0
#define MAX_NEAR_DB    3.0

/* The far end's 1000 Hz as recorded from a sound-server monitor. */
typedef struct
{
  char *profile; /* per 500 ms, dBFS, for logs */
  double steady; /* the share of its blocks within 3 dB of the loudest */
} Monitor;

typedef struct
{
  double echo_power; /* 1000 Hz at the far end after convergence */
  double near_power; /* 440 Hz likewise */
  gboolean complete; /* the far end recorded the whole window */
  double steady;     /* the share of blocks with the echo as set */
  char *profile;     /* the far end's 1000 Hz per 500 ms, dBFS, for logs */
  Monitor speaker;   /* what the near end played */
  Monitor mic;       /* what reached its microphone */
  guint xruns;       /* the near end's sink underruns */
} Heard;

static char *
scratch_path (const char *name)
{
  return g_build_filename (g_getenv ("SP_PULSE_DIR"), name, NULL);
}

static void
run_for (GMainContext *context, guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (context, FALSE);
      g_usleep (5 * 1000);
    }
}

static char *
pactl (const char *args)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *command = g_strdup_printf ("pactl %s", args);
  char *out = NULL;
  gint status = 0;

  g_assert_true (g_spawn_command_line_sync (command, &out, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  return g_strstrip (out);
}

/* The echo path: spk.monitor into mic, LOOP_MS later, at LOOP_VOLUME.
 * Returns the module's index for unloading. */
static char *
load_echo_path (void)
{
  g_autofree char *load = g_strdup_printf (
      "load-module module-loopback source=spk.monitor sink=mic latency_msec=%d adjust_time=0",
      LOOP_MS);
  char *module = pactl (load);
  g_autofree char *inputs = pactl ("list short sink-inputs");
  g_auto (GStrv) lines = g_strsplit (inputs, "\n", -1);
  gboolean found = FALSE;

  /* "INDEX\tSINK\tCLIENT\tDRIVER\t...": the only loopback. */
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) f = g_strsplit (lines[i], "\t", -1);
      if (g_strv_length (f) >= 4 && g_str_equal (f[3], "module-loopback.c"))
        {
          g_autofree char *set = g_strdup_printf ("set-sink-input-volume %s %s", f[0], LOOP_VOLUME);
          g_free (pactl (set));
          found = TRUE;
        }
    }
  g_assert_true (found);
  return module;
}

static char *
write_wav (const char *name, const gint16 *samples, gsize n)
{
  g_autoptr (GError) error = NULL;
  char *path = scratch_path (name);

  g_assert_true (sp_wav_save (path, call_rate, samples, n, &error));
  g_assert_no_error (error);
  return path;
}

/* 440 Hz bursts, 300 ms on and 300 ms off. */
static char *
write_bursts (void)
{
  gsize n = call_rate * 20, burst = call_rate * 3 / 10;
  g_autofree gint16 *x = g_new0 (gint16, n);

  for (gsize at = 0; at + burst <= n; at += 2 * burst)
    goertzel_make_tone (x + at, burst, call_rate, NEAR_HZ, 8000.0);
  return write_wav ("bursts.wav", x, n);
}

static char *
write_far_voice (void)
{
  gsize n = call_rate * 10;
  g_autofree gint16 *x = g_new (gint16, n);

  goertzel_make_tone (x, n, call_rate, ECHO_HZ, 16384.0);
  return write_wav ("far.wav", x, n);
}

/* Records a sink's monitor: what the near end plays (spk) or what reaches
 * its microphone (mic), to check the echo path of the call with
 * cancellation too. */
static GSubprocess *
record_monitor (const char *wav, const char *device)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *rate = g_strdup_printf ("--rate=%u", call_rate);
  g_autofree char *dev = g_strdup_printf ("--device=%s", device);
  GSubprocess *p =
      g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, "parec", dev, rate, "--channels=1",
                        "--format=s16le", "--file-format=wav", wav, NULL);

  g_assert_no_error (error);
  return p;
}

static GSubprocess *
play_into_mic (const char *wav)
{
  g_autoptr (GError) error = NULL;
  GSubprocess *p =
      g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, "paplay", "--device=mic", wav, NULL);

  g_assert_no_error (error);
  return p;
}

static double
db (double ratio)
{
  return 10.0 * log10 (MAX (ratio, 1e-12));
}

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
dbfs (double power)
{
  return db (power * 2 / (32768.0 * 32768.0));
}

/* The echo path as configured delivers the far end's -6 dBFS tone
 * 18 dB down: -24 dBFS at the far end with cancellation off. */
#define EXPECTED_ECHO_DBFS -24.1
/* Without cancellation, at least this share of the blocks must get that
 * echo within 3 dB: a path that wavers in one call (module-loopback
 * underruns) likely wavers in the other, and ERLE would measure that. */
#define MIN_STEADY 0.75

/* Per 100 ms block: the echo's median power (robust against a block the
 * sound server dropped, on and off alike), and the near voice's power in
 * the loudest half of the blocks (it speaks half of the time). */
static void
measure_blocks (const gint16 *x, gsize n, Heard *heard)
{
  gsize blocks = n / BLOCK;
  g_autofree double *echo = g_new (double, blocks);
  g_autofree double *near = g_new (double, blocks);
  double sum = 0;

  guint steady = 0;

  for (gsize b = 0; b < blocks; b++)
    {
      echo[b] = goertzel_power (x + b * BLOCK, BLOCK, call_rate, ECHO_HZ);
      near[b] = goertzel_power (x + b * BLOCK, BLOCK, call_rate, NEAR_HZ);
      steady += fabs (dbfs (echo[b]) - EXPECTED_ECHO_DBFS) <= 3.0;
    }
  heard->steady = (double) steady / MAX (blocks, 1);
  qsort (echo, blocks, sizeof (double), compare_doubles);
  qsort (near, blocks, sizeof (double), compare_doubles);
  heard->echo_power = echo[blocks / 2];
  for (gsize b = blocks / 2; b < blocks; b++)
    sum += near[b];
  heard->near_power = sum / (blocks - blocks / 2);
}

static char *
profile (const gint16 *x, gsize n, gsize from)
{
  GString *text = g_string_new (NULL);

  for (gsize at = 0; at + 5 * BLOCK <= n; at += 5 * BLOCK)
    g_string_append_printf (text, "%s%.0f", at >= from && at < from + 5 * BLOCK ? " | " : " ",
                            dbfs (goertzel_power (x + at, 5 * BLOCK, call_rate, ECHO_HZ)));
  return g_string_free (text, FALSE);
}

/* The 1000 Hz in a monitor's recording, from its first block as loud as
 * the loudest (within 3 dB) to its last (the far end's voice arriving to
 * the hang-up): the share of the blocks in between that are, too. */
static void
monitor_check (const char *path, Monitor *m)
{
  g_autoptr (GError) error = NULL;
  g_autofree gint16 *x = NULL;
  g_autofree double *level = NULL;
  gsize n = 0, blocks, first = G_MAXSIZE, last = 0, steady = 0;
  double loudest = -200;
  guint rate = 0;

  g_assert_true (sp_wav_load (path, &rate, &x, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rate, ==, call_rate);
  m->profile = profile (x, n, n);
  blocks = n / BLOCK;
  level = g_new (double, MAX (blocks, 1));
  for (gsize b = 0; b < blocks; b++)
    {
      level[b] = dbfs (goertzel_power (x + b * BLOCK, BLOCK, call_rate, ECHO_HZ));
      loudest = MAX (loudest, level[b]);
    }
  for (gsize b = 0; b < blocks; b++)
    if (level[b] >= loudest - 3.0)
      {
        first = MIN (first, b);
        last = b;
        steady++;
      }
  m->steady = first <= last ? (double) steady / (double) (last - first + 1) : 0;
}

/* One call; what the far end heard after convergence. */
static void
one_call (gboolean cancel, Heard *heard)
{
  /* A fresh echo path for each call: module-loopback's latency creeps
   * after the underruns of a loaded machine, and off and on must meet the
   * same path. */
  g_autofree char *module = load_echo_path ();
  g_autofree char *unload = g_strdup_printf ("unload-module %s", module);
  g_autoptr (GError) error = NULL;
  g_autofree char *bursts = write_bursts ();
  g_autofree char *far_voice = write_far_voice ();
  g_autofree char *recording = scratch_path (cancel ? "far-heard-on.wav" : "far-heard-off.wav");
  g_autofree char *mic_path = scratch_path (cancel ? "mic-on.wav" : "mic-off.wav");
  g_autofree char *speaker_path = scratch_path (cancel ? "spk-on.wav" : "spk-off.wav");
  g_autoptr (GSubprocess) player = NULL;
  g_autoptr (GSubprocess) mic_recorder = NULL;
  g_autoptr (GSubprocess) speaker_recorder = NULL;
  SpMediaStats stats;
  g_autofree gint16 *x = NULL;
  GMainContext *context = g_main_context_new ();
  SpMediaEngine *engine;
  SpMediaSession *near, *far;
  SpMediaParams params = { 0 };
  gsize n = 0, from, to;
  guint rate = 0;

  player = play_into_mic (bursts);
  mic_recorder = record_monitor (mic_path, "mic.monitor");
  speaker_recorder = record_monitor (speaker_path, "spk.monitor");
  g_usleep (300 * 1000);
  g_main_context_push_thread_default (context);
  engine = sp_media_engine_new ();
  near = sp_media_session_new (engine, "127.0.0.1", 0, NULL, NULL, &error);
  g_assert_no_error (error);
  far = sp_media_session_new (engine, "127.0.0.1", 0, NULL, NULL, &error);
  g_assert_no_error (error);
  g_main_context_pop_thread_default (context);
  sp_media_session_set_devices (near, sp_audio_alsa_new (NULL, SP_AUDIO_SOURCE),
                                sp_audio_alsa_new (NULL, SP_AUDIO_SINK));
  sp_media_session_set_devices (far, sp_audio_wav_source_new (far_voice),
                                sp_audio_wav_sink_new (recording));

  params.codec = codec;
  params.ptime_ms = 20;
  params.dtmf_payload_type = -1;
  params.remote_address = "127.0.0.1";
  params.send = params.receive = TRUE;
  params.remote_rtp_port = sp_media_session_get_rtp_port (far);
  params.echo_cancellation = cancel;
  sp_media_session_start (near, &params);
  params.remote_rtp_port = sp_media_session_get_rtp_port (near);
  params.echo_cancellation = FALSE;
  sp_media_session_start (far, &params);
  /* The call lasts CALL_MS from when both starts (device opens) are
   * applied: they are posted. */
  sp_media_session_flush (far);
  run_for (context, CALL_MS);
  sp_media_session_get_stats (near, &stats);
  heard->xruns = stats.sink_xruns;
  sp_media_session_stop (near);
  sp_media_session_stop (far);
  sp_media_session_flush (far);
  g_subprocess_send_signal (player, SIGTERM);
  g_assert_true (g_subprocess_wait (player, NULL, NULL));
  for (guint i = 0; i < 2; i++)
    {
      GSubprocess *recorder = i == 0 ? mic_recorder : speaker_recorder;
      g_subprocess_send_signal (recorder, SIGTERM);
      g_assert_true (g_subprocess_wait (recorder, NULL, NULL));
    }
  sp_media_session_free (near);
  sp_media_session_free (far);
  sp_media_engine_free (engine);
  run_for (context, 10);
  g_main_context_unref (context);
  g_free (pactl (unload));

  g_assert_true (sp_wav_load (recording, &rate, &x, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rate, ==, call_rate);
  /* From the end of convergence (the far end records from its start,
   * the near end started with it) to a little before the hang-up; a
   * whole number of burst periods, so both runs weigh bursts alike. */
  /* Convergence counts from the near end's first captured audio (its
   * voice reaching the far end: a sound server may take a while to start
   * a capture stream). */
  for (from = 0; from + BLOCK <= n; from += BLOCK)
    if (goertzel_power (x + from, BLOCK, call_rate, NEAR_HZ) > 1e4)
      break;
  from += (gsize) call_rate * CONVERGE_MS / 1000;
  to = from + (gsize) call_rate * MEASURE_MS / 1000;
  heard->profile = profile (x, n, from);
  monitor_check (speaker_path, &heard->speaker);
  monitor_check (mic_path, &heard->mic);
  /* A far end starved of CPU records less than the call lasted. */
  heard->complete = n >= to;
  if (heard->complete)
    measure_blocks (x + from, to - from, heard);
}

static gboolean
have_pulse (void)
{
  return g_getenv ("PULSE_SERVER") != NULL && g_getenv ("SP_PULSE_DIR") != NULL;
}

#define ATTEMPTS 4

/* With cancellation, at least this share of the blocks the near end
 * played (its speaker's monitor) must hold the far end's tone within 3 dB:
 * under load the sound server sometimes plays nothing for a second or two
 * although the near end wrote on time (one underrun reported at most).
 * Then the echo the canceller was told of never happens, the filter adapts
 * to its absence and takes seconds to learn the path again: that measures
 * the sound server's stall, which a call without cancellation would not
 * show (its echo simply pauses). */
#define MIN_PLAYED 0.9

static void
log_call (const char *name, const Heard *h)
{
  g_test_message ("%s: 1000 Hz per 500 ms at the far end (| where measuring starts):%s", name,
                  h->profile);
  g_test_message ("%s: played%s (as sent in %.0f %% of the blocks, %u underruns reported)", name,
                  h->speaker.profile, h->speaker.steady * 100, h->xruns);
  g_test_message ("%s: at the microphone%s (as set in %.0f %% of the blocks)", name, h->mic.profile,
                  h->mic.steady * 100);
}

static void
heard_clear (Heard *h)
{
  g_free (h->profile);
  g_free (h->speaker.profile);
  g_free (h->mic.profile);
}

/* Returns FALSE when the pair measured the rig, not the canceller: the
 * echo path itself faltered in the call without cancellation (module-
 * loopback underruns on a loaded machine: its echo more than 3 dB off what
 * it was set to, over the window or in more than a quarter of its blocks),
 * the sound server stalled the near end's playback in the call with
 * cancellation (MIN_PLAYED), or the far end recorded less than the call
 * lasted (it was starved of CPU). */
static gboolean
measure (double *erle, double *near_change)
{
  Heard off = { 0 }, on = { 0 };
  gboolean valid;

  one_call (FALSE, &off);
  one_call (TRUE, &on);
  valid = off.complete && on.complete && fabs (dbfs (off.echo_power) - EXPECTED_ECHO_DBFS) <= 3.0 &&
          off.steady >= MIN_STEADY && on.speaker.steady >= MIN_PLAYED;
  log_call ("off", &off);
  log_call ("on", &on);
  *erle = db (off.echo_power / MAX (on.echo_power, 1e-9));
  *near_change = db (MAX (on.near_power, 1e-9) / MAX (off.near_power, 1e-9));
  g_test_message ("1000 Hz echo at the far end: %.1f dBFS off, %.1f dBFS on: ERLE %.1f dB; "
                  "440 Hz near voice %.1f -> %.1f dBFS (%+.1f dB); echo as set without "
                  "cancellation in %.0f %% of the blocks%s",
                  dbfs (off.echo_power), dbfs (MAX (on.echo_power, 1e-9)), *erle,
                  dbfs (off.near_power), dbfs (on.near_power), *near_change, off.steady * 100,
                  !off.complete || !on.complete ? " (a far-end recording fell short)" : "");
  heard_clear (&off);
  heard_clear (&on);
  return valid;
}

static void
test_echo (gconstpointer data)
{
  codec = GPOINTER_TO_UINT (data);
  call_rate = sp_codec_info_for_id (codec)->sample_rate;
  double erle, near_change;

  if (!have_pulse ())
    {
      g_test_skip ("needs the private PulseAudio server: run under tests/tools/pulse-env.sh");
      return;
    }
  for (guint attempt = 1; !measure (&erle, &near_change); attempt++)
    {
      /* The rig's loopback (not our canceller: the check is on the call
       * without cancellation) could not hold the echo path as set: under
       * heavy load PulseAudio's module-loopback drops and re-buffers. No
       * ERLE can be measured then, so say so rather than judge the
       * canceller by it. */
      if (attempt == ATTEMPTS)
        {
          g_test_skip ("the echo path was not as set in any of the attempts "
                       "(PulseAudio's loopback under load): nothing to measure");
          return;
        }
      g_test_message ("the echo path faltered; measuring again");
    }
  g_assert_cmpfloat (erle, >=, call_rate == 8000 ? MIN_ERLE_8K_DB : MIN_ERLE_DB);
  g_assert_cmpfloat (fabs (near_change), <=, MAX_NEAR_DB);
}

static int
bench (void)
{
  const char *runs_text = g_getenv ("SP_ECHO_BENCH_RUNS");
  guint runs = runs_text ? (guint) CLAMP (g_ascii_strtoull (runs_text, NULL, 10), 1, 20) : 3;
  double sum = 0, worst = G_MAXDOUBLE, near_worst = 0;
  guint counted = 0;

  /* SP_ECHO_BENCH_CODEC=pcmu: the 8 kHz path. */
  if (g_strcmp0 (g_getenv ("SP_ECHO_BENCH_CODEC"), "pcmu") == 0)
    codec = SP_CODEC_PCMU;
  call_rate = sp_codec_info_for_id (codec)->sample_rate;
  if (!have_pulse ())
    {
      fprintf (stderr, "needs tests/tools/pulse-env.sh\n");
      return 77;
    }
  for (guint tries = 0; counted < runs && tries < runs * ATTEMPTS; tries++)
    {
      double erle, near_change;
      if (!measure (&erle, &near_change))
        {
          printf ("the echo path faltered: pair not counted\n");
          continue;
        }
      printf ("run %u: ERLE %.1f dB, near-end 440 Hz %+.1f dB\n", ++counted, erle, near_change);
      sum += erle;
      worst = MIN (worst, erle);
      near_worst = MAX (near_worst, fabs (near_change));
    }
  printf ("echo return loss enhancement with double talk (%s, %d ms loop, %s volume): "
          "mean %.1f dB, worst %.1f dB over %u runs; near-end voice within %.1f dB\n",
          sp_codec_info_for_id (codec)->encoding, LOOP_MS, LOOP_VOLUME, sum / MAX (counted, 1),
          worst, counted, near_worst);
  return counted == runs ? 0 : 1;
}

int
main (int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    if (g_str_equal (argv[i], "--bench"))
      return bench ();
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/echo/alsa/double-talk/g722", GUINT_TO_POINTER (SP_CODEC_G722), test_echo);
  g_test_add_data_func ("/echo/alsa/double-talk/pcmu", GUINT_TO_POINTER (SP_CODEC_PCMU), test_echo);
  return g_test_run ();
}
