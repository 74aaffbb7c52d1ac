/* The microphone's level and the microphone test (issue 14): the media
 * session's input level meter with a WAV source of known level, and
 * SpMicTest recording from one device and playing back on another, the
 * playback checked by frequency (Goertzel). */

#include "config.h"

#include <glib/gstdio.h>
#include <math.h>

#include "../common/goertzel.h"
#include "audio/mic-test.h"
#include "audio/wav.h"
#include "media/session.h"

#define RATE      16000
#define TONE_AMPL 8000 /* peak -12.2 dBFS */
#define SILENCE   1e4  /* mean square: about -40 dBFS */

typedef struct
{
  char *dir;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("sp-mic-level-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_autoptr (GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (f->dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
}

/* @first_hz for the first half second, then @second_hz (0: silence) for
 * the next; the file loops after that. */
static char *
save_two_tones (Fixture *f, const char *name, double first_hz, double second_hz, double ampl)
{
  char *path = g_build_filename (f->dir, name, NULL);
  g_autofree gint16 *pcm = g_new0 (gint16, RATE);

  goertzel_make_tone (pcm, RATE / 2, RATE, first_hz, ampl);
  if (second_hz > 0)
    goertzel_make_tone (pcm + RATE / 2, RATE / 2, RATE, second_hz, ampl);
  g_assert_true (sp_wav_save (path, RATE, pcm, RATE, NULL));
  return path;
}

static void
iterate_for (guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
}

/* ---- The media session's meter -------------------------------------------- */

/* A session on a WAV source sending to a port nobody reads: the meter reads
 * the tone's peak while the media runs, follows the source when it changes,
 * changes no more than 15 times a second, and reads silence once stopped. */
static void
test_session_level (Fixture *f, gconstpointer data)
{
  g_autofree char *loud = save_two_tones (f, "loud.wav", 1000, 1000, TONE_AMPL);
  g_autofree char *quiet = save_two_tones (f, "quiet.wav", 1000, 1000, TONE_AMPL / 10);
  g_autoptr (GError) error = NULL;
  g_autoptr (SpMediaEngine) engine = sp_media_engine_new ();
  g_autoptr (SpMediaSession) s = sp_media_session_new (engine, "127.0.0.27", 0, NULL, NULL, &error);
  SpMediaParams p = { SP_CODEC_G722, 20, -1, FALSE, "127.0.0.27", 9, 0, TRUE, TRUE };
  double level, last = -200;
  guint changes = 0;
  gint64 start;

  g_assert_no_error (error);
  g_assert_cmpfloat (sp_media_session_get_input_level (s), ==, -96.0);
  sp_media_session_set_devices (s, sp_audio_wav_source_new (loud), NULL);
  sp_media_session_start (s, &p);

  /* Sampled every millisecond for a second: the value changes at most 15
   * times (plus the first), and reads 20 log10 (8000 / 32768). */
  start = g_get_monotonic_time ();
  while (g_get_monotonic_time () - start < G_USEC_PER_SEC)
    {
      level = sp_media_session_get_input_level (s);
      if (level != last)
        changes++;
      last = level;
      g_usleep (1000);
    }
  g_test_message ("loud tone: %.2f dBFS, %u changes in 1 s", last, changes);
  g_assert_cmpfloat (fabs (last - 20 * log10 (TONE_AMPL / 32768.0)), <, 0.5);
  g_assert_cmpuint (changes, <=, 16);

  /* 20 dB quieter at the source: 20 dB lower on the meter within 1/15 s
   * after the first audio of the new source. */
  sp_media_session_replace_device (s, sp_audio_wav_source_new (quiet));
  g_usleep (200 * 1000);
  level = sp_media_session_get_input_level (s);
  g_test_message ("quiet tone: %.2f dBFS", level);
  g_assert_cmpfloat (fabs (level - 20 * log10 (TONE_AMPL / 10 / 32768.0)), <, 0.5);

  sp_media_session_stop (s);
  sp_media_session_flush (s); /* the stop is posted: applied once flushed */
  g_assert_cmpfloat (sp_media_session_get_input_level (s), ==, -96.0);
  /* Stopped, it stays so: nothing measures any more. */
  g_usleep (150 * 1000);
  g_assert_cmpfloat (sp_media_session_get_input_level (s), ==, -96.0);
}

/* ---- The microphone test ---------------------------------------------------- */

typedef struct
{
  GArray *phases; /* SpMicTestPhase, each as it began */
  GArray *levels; /* double, with the phase they came in */
  GArray *level_phases;
  GError *error;
  gboolean over;
  gint64 started, recorded, finished;
} Progress;

static void
progress_init (Progress *p)
{
  p->phases = g_array_new (FALSE, FALSE, sizeof (SpMicTestPhase));
  p->levels = g_array_new (FALSE, FALSE, sizeof (double));
  p->level_phases = g_array_new (FALSE, FALSE, sizeof (SpMicTestPhase));
  p->started = g_get_monotonic_time ();
}

static void
progress_clear (Progress *p)
{
  g_array_unref (p->phases);
  g_array_unref (p->levels);
  g_array_unref (p->level_phases);
  g_clear_error (&p->error);
}

static gboolean
is_phase_start (Progress *p, SpMicTestPhase phase)
{
  return p->phases->len == 0 ||
         g_array_index (p->phases, SpMicTestPhase, p->phases->len - 1) != phase;
}

static void
on_progress (SpMicTest *test, SpMicTestPhase phase, double level_db, const GError *error,
             gpointer user_data)
{
  Progress *p = user_data;

  g_assert_false (p->over);
  if (is_phase_start (p, phase))
    {
      g_array_append_val (p->phases, phase);
      if (phase == SP_MIC_TEST_PLAYING)
        p->recorded = g_get_monotonic_time ();
    }
  else
    {
      g_array_append_val (p->levels, level_db);
      g_array_append_val (p->level_phases, phase);
    }
  if (phase == SP_MIC_TEST_DONE || phase == SP_MIC_TEST_FAILED)
    {
      p->over = TRUE;
      p->finished = g_get_monotonic_time ();
      if (error != NULL)
        p->error = g_error_copy (error);
    }
}

static void
wait_over (Progress *p, guint max_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) max_ms * 1000;

  while (!p->over && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (p->over);
  /* Let the thread let go of its last reference. */
  iterate_for (50);
}

/* One second from a WAV source whose first half is 1000 Hz and second half
 * 440 Hz, played back into a WAV sink: the sink holds that second in the
 * same order, and the levels reported while recording and while playing
 * are the tone's. */
static void
test_record_and_play (Fixture *f, gconstpointer data)
{
  g_autofree char *mic = save_two_tones (f, "mic.wav", 1000, 440, TONE_AMPL);
  g_autofree char *out = g_build_filename (f->dir, "out.wav", NULL);
  g_autoptr (SpMicTest) test =
      sp_mic_test_new (sp_audio_wav_source_new (mic), sp_audio_wav_sink_new (out), 1000);
  g_autofree gint16 *heard = NULL;
  g_autoptr (GError) error = NULL;
  GoertzelVerdict first, second;
  guint rate = 0, recording_levels = 0, playing_levels = 0;
  gsize n = 0;
  Progress p = { 0 };

  progress_init (&p);
  sp_mic_test_start (test, on_progress, &p);
  wait_over (&p, 8000);
  g_assert_no_error (p.error);
  g_assert_cmpuint (p.phases->len, ==, 3);
  g_assert_cmpint (g_array_index (p.phases, SpMicTestPhase, 0), ==, SP_MIC_TEST_RECORDING);
  g_assert_cmpint (g_array_index (p.phases, SpMicTestPhase, 1), ==, SP_MIC_TEST_PLAYING);
  g_assert_cmpint (g_array_index (p.phases, SpMicTestPhase, 2), ==, SP_MIC_TEST_DONE);
  /* In real time (a file is paced like a device), both halves. */
  g_test_message ("recorded in %.2f s, played in %.2f s", (p.recorded - p.started) / 1e6,
                  (p.finished - p.recorded) / 1e6);
  g_assert_cmpint (p.recorded - p.started, >=, 900 * 1000);
  g_assert_cmpint (p.finished - p.recorded, >=, 900 * 1000);
  for (guint i = 0; i < p.levels->len; i++)
    {
      double level = g_array_index (p.levels, double, i);
      if (g_array_index (p.level_phases, SpMicTestPhase, i) == SP_MIC_TEST_RECORDING)
        recording_levels++;
      else
        playing_levels++;
      g_assert_cmpfloat (fabs (level - 20 * log10 (TONE_AMPL / 32768.0)), <, 0.5);
    }
  /* 15 a second. */
  g_test_message ("%u levels while recording, %u while playing", recording_levels, playing_levels);
  g_assert_cmpuint (recording_levels, >=, 13);
  g_assert_cmpuint (recording_levels, <=, 15);
  g_assert_cmpuint (playing_levels, >=, 13);
  g_assert_cmpuint (playing_levels, <=, 15);

  /* The sink was closed (its header written) before DONE. */
  g_assert_true (sp_wav_load (out, &rate, &heard, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rate, ==, RATE);
  g_assert_cmpuint (n, ==, RATE);
  goertzel_compare (heard, n / 2, RATE, 1000, 440, SILENCE, &first);
  goertzel_compare (heard + n / 2, n / 2, RATE, 440, 1000, SILENCE, &second);
  g_assert_cmpuint (first.f1_wins, ==, first.blocks);
  g_assert_cmpuint (second.f1_wins, ==, second.blocks);
  progress_clear (&p);
}

/* A microphone that will not open: FAILED with the reason, nothing played. */
static void
test_source_fails (Fixture *f, gconstpointer data)
{
  g_autofree char *missing = g_build_filename (f->dir, "no-such.wav", NULL);
  g_autofree char *out = g_build_filename (f->dir, "out.wav", NULL);
  g_autoptr (SpMicTest) test =
      sp_mic_test_new (sp_audio_wav_source_new (missing), sp_audio_wav_sink_new (out), 1000);
  Progress p = { 0 };

  progress_init (&p);
  sp_mic_test_start (test, on_progress, &p);
  wait_over (&p, 3000);
  g_assert_cmpuint (p.phases->len, ==, 2);
  g_assert_cmpint (g_array_index (p.phases, SpMicTestPhase, 1), ==, SP_MIC_TEST_FAILED);
  g_assert_nonnull (p.error);
  g_test_message ("error: %s", p.error->message);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  progress_clear (&p);
}

/* A sink whose closing the test can see. */
static gint sink_closed;

static gboolean
watched_open (SpAudioDevice *device, guint rate, GError **error)
{
  return TRUE;
}

static gssize
watched_write (SpAudioDevice *device, const gint16 *frames, gsize n, GError **error)
{
  return (gssize) n;
}

static void
watched_close (SpAudioDevice *device)
{
  g_atomic_int_set (&sink_closed, TRUE);
}

static const SpAudioDeviceVTable watched_vtable = {
  .type_name = "watched",
  .open = watched_open,
  .write = watched_write,
  .close = watched_close,
};

/* Freed while it plays back (Preferences closed): the thread stops within a
 * period, closes the sink, and nothing more is reported. */
static void
test_free_stops (Fixture *f, gconstpointer data)
{
  g_autofree char *mic = save_two_tones (f, "mic.wav", 1000, 0, TONE_AMPL);
  SpMicTest *test = sp_mic_test_new (
      sp_audio_wav_source_new (mic),
      sp_audio_device_new (&watched_vtable, SP_AUDIO_SINK, FALSE, "watched", NULL), 2000);
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  Progress p = { 0 };

  progress_init (&p);
  g_atomic_int_set (&sink_closed, FALSE);
  sp_mic_test_start (test, on_progress, &p);
  while (p.phases->len < 2 && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (p.phases->len, ==, 2); /* playing: 2 s are left */
  sp_mic_test_free (test);
  deadline = g_get_monotonic_time () + G_USEC_PER_SEC / 2;
  while (!g_atomic_int_get (&sink_closed) && g_get_monotonic_time () < deadline)
    g_usleep (1000);
  g_assert_true (g_atomic_int_get (&sink_closed));
  iterate_for (100);
  g_assert_false (p.over);
  progress_clear (&p);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/media/input-level", Fixture, NULL, fixture_setup, test_session_level,
              fixture_teardown);
  g_test_add ("/mic-test/record-and-play", Fixture, NULL, fixture_setup, test_record_and_play,
              fixture_teardown);
  g_test_add ("/mic-test/source-fails", Fixture, NULL, fixture_setup, test_source_fails,
              fixture_teardown);
  g_test_add ("/mic-test/free-stops", Fixture, NULL, fixture_setup, test_free_stops,
              fixture_teardown);
  return g_test_run ();
}
