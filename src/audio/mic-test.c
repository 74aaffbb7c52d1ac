#include "config.h"

#include "audio/mic-test.h"

#include <math.h>

#define RATE            16000
#define PERIOD          SP_AUDIO_PERIOD_FRAMES (RATE)
#define LEVEL_FRAMES    (RATE / 15)
#define POLL_US         5000
#define AHEAD_FRAMES    (RATE / 10)
#define MIN_DURATION_MS 100
#define MAX_DURATION_MS 10000
/* A source that is still silent this long after the recording should have
 * ended gives nothing at all (a capture device that never starts). */
#define NO_AUDIO_GRACE_US (3 * G_USEC_PER_SEC)
/* Playback waits at most this long past what is queued to drain. */
#define DRAIN_GRACE_US (G_USEC_PER_SEC / 2)

/* What the thread works on, shared with the SpMicTest and with reports in
 * flight (reference counted), so freeing the test never waits for the
 * thread: it stops at its next period and lets go of the devices. */
typedef struct
{
  SpAudioDevice *source, *sink; /* owned; the thread's once started */
  gint16 *recording;
  gsize length; /* frames to record */
  gint stop;    /* atomic */
  /* Where and to whom progress goes; read by the owner's thread only. */
  GMainContext *context;
  SpMicTest *test;
  SpMicTestFunc func;
  gpointer user_data;
  /* The thread's level meter. */
  gint level_peak;
  gsize level_frames;
} Run;

struct _SpMicTest
{
  Run *run;
  gboolean started;
};

static void
run_clear (Run *run)
{
  sp_audio_device_free (run->source);
  sp_audio_device_free (run->sink);
  g_free (run->recording);
  g_clear_pointer (&run->context, g_main_context_unref);
}

static void
run_release (Run *run)
{
  g_atomic_rc_box_release_full (run, (GDestroyNotify) run_clear);
}

SpMicTest *
sp_mic_test_new (SpAudioDevice *source, SpAudioDevice *sink, guint duration_ms)
{
  SpMicTest *test;

  g_return_val_if_fail (source != NULL && source->direction == SP_AUDIO_SOURCE, NULL);
  g_return_val_if_fail (sink != NULL && sink->direction == SP_AUDIO_SINK, NULL);

  test = g_new0 (SpMicTest, 1);
  test->run = g_atomic_rc_box_new0 (Run);
  test->run->source = source;
  test->run->sink = sink;
  test->run->length = (gsize) RATE * CLAMP (duration_ms, MIN_DURATION_MS, MAX_DURATION_MS) / 1000;
  test->run->recording = g_new0 (gint16, test->run->length);
  test->run->test = test;
  return test;
}

/* ---- Reports to the owner ------------------------------------------------ */

typedef struct
{
  Run *run; /* a reference */
  SpMicTestPhase phase;
  double level_db;
  GError *error;
} Report;

static void
report_free (Report *report)
{
  run_release (report->run);
  g_clear_error (&report->error);
  g_free (report);
}

/* On the owner's thread: a stop asked for since then silences it. */
static gboolean
deliver_report (gpointer data)
{
  Report *report = data;
  Run *run = report->run;

  if (!g_atomic_int_get (&run->stop) && run->func != NULL)
    run->func (run->test, report->phase, report->level_db, report->error, run->user_data);
  return G_SOURCE_REMOVE;
}

static void
post (Run *run, SpMicTestPhase phase, double level_db, GError *error)
{
  Report *report = g_new0 (Report, 1);
  g_autoptr (GSource) source = g_idle_source_new ();

  report->run = g_atomic_rc_box_acquire (run);
  report->phase = phase;
  report->level_db = level_db;
  report->error = error;
  /* A source, not g_main_context_invoke (): that would call right here,
   * on this thread, when the owner's context happens to be free. */
  g_source_set_callback (source, deliver_report, report, (GDestroyNotify) report_free);
  g_source_attach (source, run->context);
}

/* @frames were just recorded or played: a level report once per 1/15 s. */
static void
meter (Run *run, SpMicTestPhase phase, const gint16 *frames, gsize n)
{
  for (gsize i = 0; i < n; i++)
    run->level_peak = MAX (run->level_peak, ABS ((gint) frames[i]));
  run->level_frames += n;
  if (run->level_frames < LEVEL_FRAMES)
    return;
  post (run, phase,
        run->level_peak > 0 ? MAX (-96.0, 20.0 * log10 (run->level_peak / 32768.0)) : -96.0, NULL);
  run->level_peak = 0;
  run->level_frames = 0;
}

/* ---- The thread ------------------------------------------------------------ */

/* Sleeps until @next (an unclocked device's pace) or POLL_US (a clocked
 * one's: it has its own clock and is asked again). */
static void
wait_turn (gboolean clocked, gint64 *next)
{
  gint64 wait;

  if (clocked)
    {
      g_usleep (POLL_US);
      return;
    }
  *next += SP_AUDIO_PERIOD_MS * 1000;
  wait = *next - g_get_monotonic_time ();
  if (wait > 0)
    g_usleep ((gulong) wait);
}

static gboolean
record (Run *run, GError **error)
{
  gboolean clocked = sp_audio_device_is_clocked (run->source);
  gint64 deadline =
      g_get_monotonic_time () + (gint64) run->length * G_USEC_PER_SEC / RATE + NO_AUDIO_GRACE_US;
  gint64 next = g_get_monotonic_time ();
  gsize done = 0;

  while (done < run->length && !g_atomic_int_get (&run->stop))
    {
      gssize n;

      n = sp_audio_device_read (run->source, run->recording + done,
                                clocked ? run->length - done : MIN (PERIOD, run->length - done),
                                error);
      if (n < 0)
        return FALSE;
      meter (run, SP_MIC_TEST_RECORDING, run->recording + done, (gsize) n);
      done += (gsize) n;
      if (done == 0 && g_get_monotonic_time () > deadline)
        {
          g_set_error (error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_FAILED, "No sound came from “%s”",
                       sp_audio_device_get_name (run->source));
          return FALSE;
        }
      if (n == 0 || !clocked)
        wait_turn (clocked, &next);
    }
  return TRUE;
}

static gboolean
play (Run *run, GError **error)
{
  gboolean clocked = sp_audio_device_is_clocked (run->sink);
  gint64 next = g_get_monotonic_time ();
  gsize done = 0;
  gint64 drained_by;

  while (done < run->length && !g_atomic_int_get (&run->stop))
    {
      gssize n = 0;

      /* A clocked sink is kept about 100 ms ahead, not filled: the level
       * shown then follows what is heard. */
      if (!clocked || sp_audio_device_delay (run->sink) < AHEAD_FRAMES)
        n = sp_audio_device_write (run->sink, run->recording + done,
                                   MIN (PERIOD, run->length - done), error);
      if (n < 0)
        return FALSE;
      meter (run, SP_MIC_TEST_PLAYING, run->recording + done, (gsize) n);
      done += (gsize) n;
      if (n == 0 || !clocked)
        wait_turn (clocked, &next);
    }
  /* Closing drops what the device still holds: let it play out first. */
  drained_by = g_get_monotonic_time () +
               (gint64) sp_audio_device_delay (run->sink) * G_USEC_PER_SEC / RATE + DRAIN_GRACE_US;
  while (clocked && sp_audio_device_delay (run->sink) > 0 && !g_atomic_int_get (&run->stop) &&
         g_get_monotonic_time () < drained_by)
    g_usleep (POLL_US);
  return TRUE;
}

static gpointer
run_thread (gpointer data)
{
  Run *run = data;
  GError *error = NULL;
  gboolean ok;

  post (run, SP_MIC_TEST_RECORDING, -96.0, NULL);
  ok = sp_audio_device_open (run->source, RATE, &error) && record (run, &error);
  sp_audio_device_close (run->source);
  if (ok && !g_atomic_int_get (&run->stop))
    {
      run->level_peak = 0;
      run->level_frames = 0;
      post (run, SP_MIC_TEST_PLAYING, -96.0, NULL);
      ok = sp_audio_device_open (run->sink, RATE, &error) && play (run, &error);
      sp_audio_device_close (run->sink);
    }
  /* A precondition that failed (a misused device) sets no error. */
  if (!ok && error == NULL)
    error = g_error_new_literal (SP_AUDIO_ERROR, SP_AUDIO_ERROR_FAILED, "Device misused");
  post (run, ok ? SP_MIC_TEST_DONE : SP_MIC_TEST_FAILED, -96.0, error);
  run_release (run);
  return NULL;
}

void
sp_mic_test_start (SpMicTest *test, SpMicTestFunc func, gpointer user_data)
{
  g_return_if_fail (test != NULL);

  if (test->started)
    return;
  test->started = TRUE;
  test->run->context = g_main_context_ref_thread_default ();
  test->run->func = func;
  test->run->user_data = user_data;
  g_thread_unref (g_thread_new ("sp-mic-test", run_thread, g_atomic_rc_box_acquire (test->run)));
}

void
sp_mic_test_free (SpMicTest *test)
{
  if (test == NULL)
    return;
  g_atomic_int_set (&test->run->stop, TRUE);
  run_release (test->run);
  g_free (test);
}
