/* The real alsa-lib path, run by tests/tools/pulse-env.sh against a private
 * PulseAudio server with two null sinks: what is played into "mic" is what
 * ALSA's `default` captures, and what ALSA plays lands on "spk", recorded
 * from spk.monitor. Audio is checked by frequency, never by bytes. */
#include "audio/alsa.h"
#include "audio/wav.h"
#include "../common/goertzel.h"

#include <gio/gio.h>
#include <math.h>
#include <signal.h>
#include <string.h>

#define MIC_TONE_HZ 1000.0
#define SPK_TONE_HZ 440.0
#define BLOCK_MS    20
/* Mean square below which a block is silence: about -50 dBFS. */
#define SILENCE_MS 1e4
/* Longest any single wait in these tests may take. */
#define DEADLINE_US (5 * G_USEC_PER_SEC)
/* Longest a single read or write may take: they never wait, so this is
 * slack for a loaded machine, not for a device that blocks. */
#define MAX_CALL_US (30 * 1000)
/* How long a test sleeps once it has drained the device, like the media
 * thread's tick. */
#define TICK_US (5 * 1000)

typedef struct
{
  GoertzelVerdict verdict; /* f1 is the wanted tone, f2 the other */
  double purity;           /* mean share of a loud block's power at the wanted tone */
} ToneCheck;

/* Which tone each 20 ms block carries, and how clean the wanted one is:
 * a block can only be won by the wanted tone if it also dominates the
 * block as a whole, not just the other tone. */
static ToneCheck
check_tones (const gint16 *x, gsize n, guint rate, double wanted, double other)
{
  gsize block = rate * BLOCK_MS / 1000;
  ToneCheck check = { { 0 } };
  guint loud = 0;

  goertzel_compare (x, n, rate, wanted, other, SILENCE_MS, &check.verdict);
  for (gsize at = 0; at + block <= n; at += block)
    {
      double ms = goertzel_mean_square (x + at, block);
      if (ms < SILENCE_MS)
        continue;
      check.purity += goertzel_power (x + at, block, rate, wanted) / ms;
      loud++;
    }
  if (loud > 0)
    check.purity /= loud;
  return check;
}

static gboolean
have_pulse (void)
{
  if (g_getenv ("PULSE_SERVER") != NULL && g_getenv ("SP_PULSE_DIR") != NULL)
    return TRUE;
  g_test_skip ("needs the private PulseAudio server: run under tests/tools/pulse-env.sh");
  return FALSE;
}

static char *
scratch_path (const char *name)
{
  return g_build_filename (g_getenv ("SP_PULSE_DIR"), name, NULL);
}

static char *
write_tone_wav (const char *name, guint rate, double freq, double seconds)
{
  g_autoptr (GError) error = NULL;
  gsize n = (gsize) (rate * seconds);
  g_autofree gint16 *samples = g_new (gint16, n);
  char *path = scratch_path (name);

  for (gsize i = 0; i < n; i++)
    samples[i] = (gint16) (16384.0 * sin (2.0 * G_PI * freq * i / rate));
  g_assert_true (sp_wav_save (path, rate, samples, n, &error));
  g_assert_no_error (error);
  return path;
}

static GSubprocess *
spawn (GSubprocessLauncher *launcher, const char *const *argv)
{
  g_autoptr (GError) error = NULL;
  GSubprocess *process = g_subprocess_launcher_spawnv (launcher, argv, &error);

  g_assert_no_error (error);
  /* Let it connect to the server before the measured part starts. */
  g_usleep (300 * 1000);
  return process;
}

static void
stop (GSubprocess *process)
{
  g_subprocess_send_signal (process, SIGTERM);
  g_assert_true (g_subprocess_wait (process, NULL, NULL));
}

/* Captures @seconds from the ALSA device @name, returning the samples and
 * how long it took. */
static GArray *
capture (const char *name, guint rate, double seconds, double *elapsed, double *level)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpAudioDevice) device = sp_audio_alsa_new (name, SP_AUDIO_SOURCE);
  GArray *samples = g_array_new (FALSE, FALSE, sizeof (gint16));
  gsize want = (gsize) (rate * seconds);
  gint16 period[SP_AUDIO_PERIOD_FRAMES (16000)];
  gint64 start, deadline, longest = 0;

  g_assert_true (sp_audio_device_open (device, rate, &error));
  g_assert_no_error (error);
  g_assert_true (sp_audio_device_is_clocked (device));
  g_assert_cmpuint (sp_audio_alsa_get_period_frames (device), >, 0);
  g_assert_cmpuint (sp_audio_alsa_get_buffer_frames (device), >=,
                    sp_audio_alsa_get_period_frames (device));
  start = g_get_monotonic_time ();
  deadline = start + DEADLINE_US;
  *level = -96.0;
  while (samples->len < want && g_get_monotonic_time () < deadline)
    {
      gint64 before = g_get_monotonic_time ();
      gssize n = sp_audio_device_read (device, period, SP_AUDIO_PERIOD_FRAMES (rate), &error);
      longest = MAX (longest, g_get_monotonic_time () - before);
      g_assert_no_error (error);
      g_assert_cmpint (n, >=, 0);
      g_array_append_vals (samples, period, (guint) n);
      if (n > 0)
        *level = MAX (*level, sp_audio_device_get_level (device));
      else
        g_usleep (TICK_US); /* drained: wait for the next tick */
    }
  *elapsed = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
  g_test_message ("captured %u frames from %s at %u Hz in %.3f s, %u xruns, peak %.1f dBFS, "
                  "longest read %.1f ms",
                  samples->len, name, rate, *elapsed, sp_audio_alsa_get_xruns (device), *level,
                  longest / 1000.0);
  g_assert_cmpuint (samples->len, >=, want);
  g_assert_cmpint (longest, <, MAX_CALL_US);
  return samples;
}

static void
assert_mic_tone (GArray *samples, guint rate, double seconds)
{
  ToneCheck check =
      check_tones ((gint16 *) samples->data, samples->len, rate, MIC_TONE_HZ, SPK_TONE_HZ);
  guint expected = (guint) (seconds * 1000 / BLOCK_MS);

  g_test_message ("%u of %u blocks are %.0f Hz (purity %.2f), %u are %.0f Hz",
                  check.verdict.f1_wins, check.verdict.blocks, MIC_TONE_HZ, check.purity,
                  check.verdict.f2_wins, SPK_TONE_HZ);
  /* Allow the first blocks to miss the tone while the server's capture
   * latency fills; the rest must all carry it. */
  g_assert_cmpuint (check.verdict.f1_wins, >=, expected * 8 / 10);
  g_assert_cmpuint (check.verdict.f2_wins, ==, 0);
  g_assert_cmpfloat (check.purity, >, 0.8);
}

static void
test_capture (gconstpointer data)
{
  guint rate = GPOINTER_TO_UINT (data);
  g_autofree char *name = g_strdup_printf ("mic-%u.wav", rate);
  g_autofree char *tone = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) player = NULL;
  g_autoptr (GArray) first = NULL;
  g_autoptr (GArray) second = NULL;
  double elapsed, level;

  if (!have_pulse ())
    return;
  tone = write_tone_wav (name, rate, MIC_TONE_HZ, 20.0);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  player = spawn (launcher, (const char *const[]){ "paplay", "--device=mic", tone, NULL });

  first = capture ("default", rate, 1.0, &elapsed, &level);
  assert_mic_tone (first, rate, 1.0);
  /* Clocked by the server, not by how fast we ask. */
  g_assert_cmpfloat (elapsed, >=, 0.7);
  /* The tone is -6 dBFS. */
  g_assert_cmpfloat (level, >, -12.0);
  g_assert_cmpfloat (level, <=, 0.0);

  /* Switching the input: another device (the named `pulse` PCM) opened
   * after the first was closed hears the same microphone. */
  second = capture ("pulse", rate, 0.6, &elapsed, &level);
  assert_mic_tone (second, rate, 0.6);

  stop (player);
}

static void
test_playback (gconstpointer data)
{
  guint rate = GPOINTER_TO_UINT (data);
  g_autoptr (GError) error = NULL;
  g_autofree char *raw = NULL;
  g_autofree char *rate_arg = g_strdup_printf ("--rate=%u", rate);
  g_autofree gchar *contents = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) recorder = NULL;
  g_autoptr (SpAudioDevice) device = NULL;
  gsize n_tone = rate * 3 / 2, written = 0, len = 0;
  g_autofree gint16 *tone = g_new (gint16, n_tone);
  gint64 start, deadline, longest = 0;
  double elapsed;
  ToneCheck check;

  if (!have_pulse ())
    return;
  for (gsize i = 0; i < n_tone; i++)
    tone[i] = (gint16) (16384.0 * sin (2.0 * G_PI * SPK_TONE_HZ * i / rate));

  raw = scratch_path ("spk.raw");
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_set_stdout_file_path (launcher, raw);
  recorder = spawn (launcher, (const char *const[]){ "parec", "--device=spk.monitor", rate_arg,
                                                     "--channels=1", "--format=s16le", NULL });

  device = sp_audio_alsa_new (NULL, SP_AUDIO_SINK);
  g_assert_cmpstr (sp_audio_device_get_name (device), ==, "default");
  g_assert_true (sp_audio_device_open (device, rate, &error));
  g_assert_no_error (error);
  start = g_get_monotonic_time ();
  deadline = start + DEADLINE_US;
  while (written < n_tone && g_get_monotonic_time () < deadline)
    {
      gsize chunk = MIN (n_tone - written, SP_AUDIO_PERIOD_FRAMES (rate));
      gint64 before = g_get_monotonic_time ();
      gssize n = sp_audio_device_write (device, tone + written, chunk, &error);
      longest = MAX (longest, g_get_monotonic_time () - before);
      g_assert_no_error (error);
      g_assert_cmpint (n, >=, 0);
      written += (gsize) n;
      /* Writes never wait: a full buffer is ours to wait out. */
      if ((gsize) n < chunk)
        g_usleep (TICK_US);
    }
  elapsed = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
  g_assert_cmpuint (written, ==, n_tone);
  /* A small buffer takes 1.5 s of audio only as fast as it plays. */
  g_assert_cmpfloat (elapsed, >=, 1.2);
  /* Let the tail play out before closing (close drops what is queued). */
  for (guint i = 0; i < 100 && sp_audio_device_delay (device) > 0; i++)
    g_usleep (10 * 1000);
  g_usleep (200 * 1000);
  g_test_message ("wrote %zu frames at %u Hz in %.3f s, %u xruns, longest write %.1f ms", written,
                  rate, elapsed, sp_audio_alsa_get_xruns (device), longest / 1000.0);
  g_assert_cmpint (longest, <, MAX_CALL_US);
  sp_audio_device_close (device);
  stop (recorder);

  g_assert_true (g_file_get_contents (raw, &contents, &len, &error));
  g_assert_no_error (error);
  check = check_tones ((const gint16 *) contents, len / 2, rate, SPK_TONE_HZ, MIC_TONE_HZ);
  g_test_message ("spk.monitor: %u of %u blocks are %.0f Hz (purity %.2f), %u are %.0f Hz",
                  check.verdict.f1_wins, check.verdict.blocks, SPK_TONE_HZ, check.purity,
                  check.verdict.f2_wins, MIC_TONE_HZ);
  /* 1.5 s of tone is 75 blocks. */
  g_assert_cmpuint (check.verdict.f1_wins, >=, 60);
  g_assert_cmpuint (check.verdict.f2_wins, ==, 0);
  g_assert_cmpfloat (check.purity, >, 0.8);
}

static void
test_list (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) devices = sp_audio_alsa_list_devices (&error);
  const SpAudioAlsaDeviceInfo *first;

  g_assert_no_error (error);
  g_assert_nonnull (devices);
  g_assert_cmpuint (devices->len, >=, 1);
  first = g_ptr_array_index (devices, 0);
  g_assert_cmpstr (first->name, ==, "default");
  g_assert_true (first->can_capture);
  g_assert_true (first->can_playback);
  g_assert_nonnull (first->description);
  g_assert_null (strchr (first->description, '\n'));
  g_assert_true (sp_audio_alsa_find_device (devices, "default") == first);
  g_assert_null (sp_audio_alsa_find_device (devices, "sp-no-such-device"));
  for (guint i = 0; i < devices->len; i++)
    {
      const SpAudioAlsaDeviceInfo *info = g_ptr_array_index (devices, i);
      g_test_message ("%s: %s%s%s", info->name, info->description,
                      info->can_capture ? " [capture]" : "",
                      info->can_playback ? " [playback]" : "");
      g_assert_false (g_str_has_prefix (info->name, "hw:"));
      g_assert_true (info->can_capture || info->can_playback);
      g_assert_true (sp_audio_alsa_find_device (devices, info->name) == info);
    }
  /* Under pulse-env the `pulse` PCM is there too. */
  if (g_getenv ("PULSE_SERVER") != NULL)
    g_assert_nonnull (sp_audio_alsa_find_device (devices, "pulse"));
}

static void
test_not_found (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpAudioDevice) device = sp_audio_alsa_new ("sp-no-such-device", SP_AUDIO_SOURCE);

  g_assert_false (sp_audio_device_open (device, 8000, &error));
  g_assert_error (error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "“sp-no-such-device”"));
  g_assert_false (device->is_open);
  g_assert_cmpuint (sp_audio_alsa_get_period_frames (device), ==, 0);
  /* Not an ALSA device: the ALSA getters say nothing rather than crash. */
  {
    g_autoptr (SpAudioDevice) null = sp_audio_null_new (SP_AUDIO_SOURCE);
    g_assert_cmpuint (sp_audio_alsa_get_xruns (null), ==, 0);
    g_assert_cmpuint (sp_audio_alsa_get_period_frames (null), ==, 0);
  }
}

/* Moves audio for @ms milliseconds, one period per call, as a media thread
 * would; returns the frames moved. */
static gsize
run_for (SpAudioDevice *device, guint ms)
{
  g_autoptr (GError) error = NULL;
  gint16 period[SP_AUDIO_PERIOD_FRAMES (8000)] = { 0 };
  gint64 end = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;
  gsize moved = 0;

  while (g_get_monotonic_time () < end)
    {
      gssize n = sp_audio_device_get_direction (device) == SP_AUDIO_SOURCE
                     ? sp_audio_device_read (device, period, G_N_ELEMENTS (period), &error)
                     : sp_audio_device_write (device, period, G_N_ELEMENTS (period), &error);
      g_assert_no_error (error);
      g_assert_cmpint (n, >=, 0);
      moved += (gsize) n;
      if (n == 0)
        g_usleep (TICK_US);
    }
  return moved;
}

/* A media thread that stalls longer than the device buffer: the overrun
 * (capture) and underrun (playback) are recovered and counted, and audio
 * flows again at once. */
static void
test_xrun (gconstpointer data)
{
  SpAudioDirection direction = GPOINTER_TO_UINT (data);
  g_autoptr (GError) error = NULL;
  g_autoptr (SpAudioDevice) device = sp_audio_alsa_new (NULL, direction);
  gsize after;

  if (!have_pulse ())
    return;
  g_assert_true (sp_audio_device_open (device, 8000, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (run_for (device, 200), >, 0);
  g_assert_cmpuint (sp_audio_alsa_get_xruns (device), ==, 0);
  /* Four times the capture buffer, eight times the playback buffer. */
  g_usleep (320 * 1000);
  after = run_for (device, 300);
  g_test_message ("%s: %u xruns, %zu frames in 300 ms after the stall",
                  direction == SP_AUDIO_SOURCE ? "capture" : "playback",
                  sp_audio_alsa_get_xruns (device), after);
  g_assert_cmpuint (sp_audio_alsa_get_xruns (device), >=, 1);
  /* 300 ms is 2400 frames, plus what a buffer holds at once; a capture
   * that kept the 320 ms the stall left queued would read 2560 more. */
  g_assert_cmpuint (after, >=, 1600);
  g_assert_cmpuint (after, <=, 2400 + 1000);
}

/* Reads and writes a period at a time for @ms, as a media thread would;
 * returns the frames captured and the longest single call. */
static gsize
run_call (SpAudioDevice *source, SpAudioDevice *sink, guint ms, gint64 *longest)
{
  g_autoptr (GError) error = NULL;
  gint16 period[80] = { 0 };
  gint64 end = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;
  gsize moved = 0;

  *longest = 0;
  while (g_get_monotonic_time () < end)
    {
      gint64 before = g_get_monotonic_time ();
      gssize n = sp_audio_device_read (source, period, 80, &error);
      g_assert_no_error (error);
      g_assert_cmpint (n, >=, 0);
      moved += (gsize) n;
      g_assert_cmpint (sp_audio_device_write (sink, period, 80, &error), >=, 0);
      g_assert_no_error (error);
      *longest = MAX (*longest, g_get_monotonic_time () - before);
      if (n == 0)
        g_usleep (TICK_US);
    }
  return moved;
}

/* The sound server first hangs (SIGSTOP), then dies mid-call. While it
 * hangs, reads and writes still return at once, with nothing; when it is back, audio flows again.
 * Once it is dead, both directions report GONE within a few periods, keep reporting it at once, and
 * close cleanly. Signals the server pulse-env started (its PID, nobody else's), so it runs only
 * when asked to, as its own test with its own server. */
static void
test_gone (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpAudioDevice) source = sp_audio_alsa_new ("default", SP_AUDIO_SOURCE);
  g_autoptr (SpAudioDevice) sink = sp_audio_alsa_new ("default", SP_AUDIO_SINK);
  const char *pid_text = g_getenv ("SP_PULSE_PID");
  gint16 period[80] = { 0 };
  g_autoptr (GError) source_error = NULL;
  g_autoptr (GError) sink_error = NULL;
  gsize moved;
  gint64 deadline, longest;
  guint64 pid;

  if (!have_pulse ())
    return;
  if (g_getenv ("SP_ALSA_TEST_KILL_SERVER") == NULL || pid_text == NULL ||
      !g_ascii_string_to_unsigned (pid_text, 10, 2, G_MAXINT, &pid, NULL))
    {
      g_test_skip ("kills the sound server: only as the alsa-gone test");
      return;
    }
  g_assert_true (sp_audio_device_open (source, 8000, &error));
  g_assert_no_error (error);
  g_assert_true (sp_audio_device_open (sink, 8000, &error));
  g_assert_no_error (error);
  moved = run_call (source, sink, 500, &longest);
  g_assert_cmpuint (moved, >=, 3000);

  g_assert_cmpint (kill ((pid_t) pid, SIGSTOP), ==, 0);
  moved = run_call (source, sink, 300, &longest);
  g_assert_cmpint (kill ((pid_t) pid, SIGCONT), ==, 0);
  g_test_message ("server stopped: %zu frames in 300 ms, longest call %.1f ms", moved,
                  longest / 1000.0);
  g_assert_cmpint (longest, <, MAX_CALL_US);
  moved = run_call (source, sink, 500, &longest);
  g_test_message ("server back: %zu frames in 500 ms, %u capture xruns", moved,
                  sp_audio_alsa_get_xruns (source));
  g_assert_cmpuint (moved, >=, 3000);

  g_assert_cmpint (kill ((pid_t) pid, SIGKILL), ==, 0);

  deadline = g_get_monotonic_time () + DEADLINE_US;
  while ((source_error == NULL || sink_error == NULL) && g_get_monotonic_time () < deadline)
    {
      if (source_error == NULL && sp_audio_device_read (source, period, 80, &source_error) < 0)
        g_assert_nonnull (source_error);
      if (sink_error == NULL && sp_audio_device_write (sink, period, 80, &sink_error) < 0)
        g_assert_nonnull (sink_error);
      g_usleep (5 * 1000);
    }
  g_assert_error (source_error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_GONE);
  g_assert_error (sink_error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_GONE);
  g_test_message ("source: %s; sink: %s", source_error->message, sink_error->message);

  /* Gone stays gone, at once, without touching the dead PCM. */
  g_clear_error (&error);
  g_assert_cmpint (sp_audio_device_read (source, period, 80, &error), ==, -1);
  g_assert_error (error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_GONE);
  g_clear_error (&error);
  g_assert_cmpint (sp_audio_device_write (sink, period, 80, &error), ==, -1);
  g_assert_error (error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_GONE);
  sp_audio_device_close (source);
  sp_audio_device_close (sink);
  g_assert_false (source->is_open);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/audio/alsa/list", test_list);
  g_test_add_func ("/audio/alsa/not-found", test_not_found);
  g_test_add_data_func ("/audio/alsa/capture/8000", GUINT_TO_POINTER (8000), test_capture);
  g_test_add_data_func ("/audio/alsa/capture/16000", GUINT_TO_POINTER (16000), test_capture);
  g_test_add_data_func ("/audio/alsa/playback/8000", GUINT_TO_POINTER (8000), test_playback);
  g_test_add_data_func ("/audio/alsa/playback/16000", GUINT_TO_POINTER (16000), test_playback);
  g_test_add_data_func ("/audio/alsa/xrun/capture", GUINT_TO_POINTER (SP_AUDIO_SOURCE), test_xrun);
  g_test_add_data_func ("/audio/alsa/xrun/playback", GUINT_TO_POINTER (SP_AUDIO_SINK), test_xrun);
  g_test_add_func ("/audio/alsa/gone", test_gone);
  return g_test_run ();
}
