#include "config.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/goertzel.h"
#include "audio/wav.h"
#include "ua/ringer.h"

/* A sink that records what it is given, unclocked like a file. */
typedef struct
{
  GArray *samples;
  guint rate;
  gint fail_after; /* periods before failing as GONE; -1 never */
  guint open_ms;   /* how long opening takes, like a slow sound server */
  gboolean open_fails;
  gint finalized; /* atomic: the device was freed */
} Recorder;

static gboolean
rec_open (SpAudioDevice *device, guint rate, GError **error)
{
  Recorder *rec = device->priv;

  g_usleep (rec->open_ms * 1000);
  if (rec->open_fails)
    {
      g_set_error_literal (error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_NOT_FOUND, "no such device");
      return FALSE;
    }
  rec->rate = rate;
  return TRUE;
}

static gssize
rec_write (SpAudioDevice *device, const gint16 *frames, gsize n, GError **error)
{
  Recorder *rec = device->priv;

  if (rec->fail_after == 0)
    {
      g_set_error_literal (error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_GONE, "unplugged");
      return -1;
    }
  if (rec->fail_after > 0)
    rec->fail_after--;
  g_array_append_vals (rec->samples, frames, n);
  return (gssize) n;
}

static void
rec_close (SpAudioDevice *device)
{
}

static void
rec_finalize (SpAudioDevice *device)
{
  g_atomic_int_set (&((Recorder *) device->priv)->finalized, TRUE);
}

static const SpAudioDeviceVTable rec_vtable = {
  .type_name = "recorder",
  .open = rec_open,
  .write = rec_write,
  .close = rec_close,
  .finalize = rec_finalize,
};

static SpAudioDevice *
recorder_new (Recorder *rec)
{
  rec->samples = g_array_new (FALSE, FALSE, sizeof (gint16));
  return sp_audio_device_new (&rec_vtable, SP_AUDIO_SINK, FALSE, "recorder", rec);
}

static void
wait_ms (guint ms)
{
  g_usleep (ms * 1000);
}

/* The ringing thread ends on its own after a stop: wait for it (1 s at most). */
static void
wait_until_quiet (SpRinger *ringer)
{
  for (int i = 0; i < 100 && sp_ringer_is_ringing (ringer); i++)
    wait_ms (10);
  g_assert_false (sp_ringer_is_ringing (ringer));
}

typedef struct
{
  GError *error;
  SpRingerFailure what;
  guint calls;
} Failures;

static void
on_failed (SpRingerFailure what, const GError *error, gpointer user_data)
{
  Failures *failures = user_data;

  failures->calls++;
  failures->what = what;
  g_clear_error (&failures->error);
  failures->error = g_error_copy (error);
}

/* Runs the default main context (where failures are delivered) for @ms. */
static void
iterate_for (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      wait_ms (5);
    }
}

static void
test_builtin_tone (void)
{
  Recorder rec = { .fail_after = -1 };
  g_autoptr (SpRinger) ringer = sp_ringer_new (recorder_new (&rec), NULL);

  g_assert_false (sp_ringer_is_ringing (ringer));
  sp_ringer_start (ringer, NULL, NULL);
  g_assert_true (sp_ringer_is_ringing (ringer));
  wait_ms (400);
  sp_ringer_stop (ringer);
  wait_until_quiet (ringer);

  /* Paced to real time: about 400 ms at 8 kHz, not as fast as it can. */
  g_assert_cmpuint (rec.rate, ==, 8000);
  g_assert_cmpuint (rec.samples->len, >=, 8000 * 300 / 1000);
  g_assert_cmpuint (rec.samples->len, <=, 8000 * 700 / 1000);

  /* The first part of the cadence is on: 440 and 480 Hz, nothing at 1 kHz. */
  const gint16 *s = (const gint16 *) rec.samples->data;
  gsize n = 8000 / 5;
  double p440 = goertzel_power (s, n, 8000, 440);
  double p480 = goertzel_power (s, n, 8000, 480);
  double p1000 = goertzel_power (s, n, 8000, 1000);
  g_test_message ("power 440 %.0f 480 %.0f 1000 %.0f", p440, p480, p1000);
  g_assert_cmpfloat (p440, >, 100 * p1000);
  g_assert_cmpfloat (p480, >, 100 * p1000);
  g_assert_cmpfloat (p440, >, 10000);

  /* Stopping twice, and stopping when stopped, is harmless. */
  sp_ringer_stop (ringer);
  g_array_unref (rec.samples);
}

static void
test_wav_tone (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ringer-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "ring.wav", NULL);
  gint16 tone[16000];
  Recorder rec = { .fail_after = -1 };
  g_autoptr (GError) error = NULL;

  goertzel_make_tone (tone, G_N_ELEMENTS (tone), 16000, 1000, 8000);
  g_assert_true (sp_wav_save (path, 16000, tone, G_N_ELEMENTS (tone), &error));
  g_autoptr (SpRinger) ringer = sp_ringer_new (recorder_new (&rec), path);
  g_assert_no_error (error);
  sp_ringer_start (ringer, NULL, NULL);
  wait_ms (200);
  /* Freed while ringing: the thread finishes by itself and frees the sink. */
  sp_ringer_free (g_steal_pointer (&ringer));
  for (int i = 0; i < 100 && !g_atomic_int_get (&rec.finalized); i++)
    wait_ms (10);
  g_assert_true (g_atomic_int_get (&rec.finalized));

  g_assert_cmpuint (rec.rate, ==, 16000);
  g_assert_cmpuint (rec.samples->len, >=, 1600);
  double p1000 = goertzel_power ((gint16 *) rec.samples->data, 1600, 16000, 1000);
  double p440 = goertzel_power ((gint16 *) rec.samples->data, 1600, 16000, 440);
  g_assert_cmpfloat (p1000, >, 100 * p440);
  g_array_unref (rec.samples);
  g_unlink (path);
  g_rmdir (dir);
}

/* A file that is not there: said once, on the main context, and the
 * built-in tone rings instead (a bad file never silences a call). */
static void
check_tone_fallback (const char *path, GQuark domain, gint code)
{
  Recorder rec = { .fail_after = -1 };
  Failures failures = { 0 };
  SpRinger *ringer = sp_ringer_new (recorder_new (&rec), path);

  sp_ringer_start (ringer, on_failed, &failures);
  iterate_for (400);
  g_assert_cmpuint (failures.calls, ==, 1);
  g_assert_cmpint (failures.what, ==, SP_RINGER_FAILED_TONE);
  g_assert_error (failures.error, domain, code);
  sp_ringer_stop (ringer);
  wait_until_quiet (ringer);
  g_assert_cmpuint (rec.rate, ==, 8000);
  g_assert_cmpuint (rec.samples->len, >=, 1600);
  g_assert_cmpfloat (goertzel_power ((gint16 *) rec.samples->data, 1600, 8000, 440), >, 10000);
  sp_ringer_free (ringer);
  g_clear_error (&failures.error);
  g_array_unref (rec.samples);
}

static void
test_bad_wav (void)
{
  check_tone_fallback ("/nonexistent/ring.wav", G_FILE_ERROR, G_FILE_ERROR_NOENT);
}

/* A WAV file that loads but cannot ring (44.1 kHz): the same. */
static void
test_unplayable_wav (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ringer-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "ring.wav", NULL);
  gint16 tone[4410];
  g_autoptr (GError) error = NULL;

  goertzel_make_tone (tone, G_N_ELEMENTS (tone), 44100, 1000, 8000);
  g_assert_true (sp_wav_save (path, 44100, tone, G_N_ELEMENTS (tone), &error));
  check_tone_fallback (path, SP_AUDIO_ERROR, SP_AUDIO_ERROR_FORMAT);
  g_unlink (path);
  g_rmdir (dir);
}

typedef struct
{
  const char *path;
  GBytes *contents; /* NULL: open and close, nothing written */
} FifoWriter;

/* Opens the FIFO for writing (it waits for the reader) and writes. */
static gpointer
fifo_writer (gpointer data)
{
  FifoWriter *w = data;
  int fd = open (w->path, O_WRONLY);
  gsize len = 0;
  const guint8 *p = w->contents != NULL ? g_bytes_get_data (w->contents, &len) : NULL;

  g_assert_cmpint (fd, >=, 0);
  while (len > 0)
    {
      gssize n = write (fd, p, len);
      g_assert_cmpint (n, >, 0);
      p += n;
      len -= (gsize) n;
    }
  close (fd);
  return NULL;
}

static gboolean
count_tick (gpointer data)
{
  (*(guint *) data)++;
  return G_SOURCE_CONTINUE;
}

/* A ring tone that is slow to read (a FIFO nobody writes yet, like a
 * dead network share): starting returns at once and the main loop runs
 * on; the built-in tone rings meanwhile and a message says why; once the
 * file is there (at 16 kHz, 1 kHz tone), it rings instead. */
static void
test_slow_wav (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ringer-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "ring.wav", NULL);
  g_autofree char *image_path = g_build_filename (dir, "image.wav", NULL);
  gint16 tone[16000];
  Recorder rec = { .fail_after = -1 };
  Failures failures = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *image = NULL;
  gsize image_len = 0;
  guint ticks = 0;
  guint tick_id;
  gint64 before;
  FifoWriter w = { 0 };
  GThread *writer;

  g_assert_cmpint (mkfifo (path, 0600), ==, 0);
  goertzel_make_tone (tone, G_N_ELEMENTS (tone), 16000, 1000, 8000);
  g_assert_true (sp_wav_save (image_path, 16000, tone, G_N_ELEMENTS (tone), &error));
  g_assert_true (g_file_get_contents (image_path, &image, &image_len, &error));

  SpRinger *ringer = sp_ringer_new (recorder_new (&rec), path);
  tick_id = g_timeout_add (10, count_tick, &ticks);
  before = g_get_monotonic_time ();
  sp_ringer_start (ringer, on_failed, &failures);
  g_assert_cmpint (g_get_monotonic_time () - before, <, 50000);
  /* 600 ms of main loop: it is never held up (10 ms ticks keep coming). */
  iterate_for (600);
  g_test_message ("ticks in 600 ms while the file is stuck: %u", ticks);
  g_assert_cmpuint (ticks, >=, 30);
  g_assert_cmpuint (failures.calls, ==, 1);
  g_assert_cmpint (failures.what, ==, SP_RINGER_TONE_SLOW);
  g_assert_true (sp_ringer_is_ringing (ringer));

  /* The file arrives: the ringer switches to it, at its rate. */
  w.path = path;
  w.contents = g_bytes_new_static (image, image_len);
  writer = g_thread_new ("fifo-writer", fifo_writer, &w);
  g_thread_join (writer);
  iterate_for (400);
  sp_ringer_stop (ringer);
  wait_until_quiet (ringer);
  g_source_remove (tick_id);
  g_assert_cmpuint (failures.calls, ==, 1);
  g_assert_cmpuint (rec.rate, ==, 16000);
  g_assert_cmpuint (rec.samples->len, >=, 8000 * 500 / 1000 + 3200);
  /* It rang all along: the tone first, then the file's 1 kHz. */
  const gint16 *s = (const gint16 *) rec.samples->data;
  g_assert_cmpfloat (goertzel_power (s, 1600, 8000, 440), >, 10000);
  s += rec.samples->len - 3200;
  g_assert_cmpfloat (goertzel_power (s, 3200, 16000, 1000), >,
                     100 * goertzel_power (s, 3200, 16000, 440));
  sp_ringer_free (ringer);
  g_bytes_unref (w.contents);
  g_clear_error (&failures.error);
  g_array_unref (rec.samples);
  g_unlink (path);
  g_unlink (image_path);
  g_rmdir (dir);
}

/* Freed while the file is stuck: returns at once, says nothing, and
 * everything goes once the read ends. */
static void
test_free_while_loading (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ringer-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "ring.wav", NULL);
  Recorder rec = { .fail_after = -1 };
  Failures failures = { 0 };
  FifoWriter w = { 0 };
  gint64 before;

  g_assert_cmpint (mkfifo (path, 0600), ==, 0);
  SpRinger *ringer = sp_ringer_new (recorder_new (&rec), path);
  sp_ringer_start (ringer, on_failed, &failures);
  wait_ms (100);
  before = g_get_monotonic_time ();
  sp_ringer_free (ringer);
  g_assert_cmpint (g_get_monotonic_time () - before, <, 50000);
  /* End the stuck read (an empty file: a load failure nobody hears). */
  w.path = path;
  g_thread_join (g_thread_new ("fifo-writer", fifo_writer, &w));
  for (int i = 0; i < 100 && !g_atomic_int_get (&rec.finalized); i++)
    iterate_for (10);
  g_assert_true (g_atomic_int_get (&rec.finalized));
  g_assert_cmpuint (failures.calls, ==, 0);
  g_array_unref (rec.samples);
  g_unlink (path);
  g_rmdir (dir);
}

/* A sink that goes away stops the ringing by itself. */
static void
test_device_gone (void)
{
  Recorder rec = { .fail_after = 3 };
  Failures failures = { 0 };
  g_autoptr (SpRinger) ringer = sp_ringer_new (recorder_new (&rec), NULL);

  sp_ringer_start (ringer, on_failed, &failures);
  wait_until_quiet (ringer);
  g_assert_cmpuint (rec.samples->len, ==, 3 * 80);
  /* Said on the starter's main context, once. */
  g_assert_cmpuint (failures.calls, ==, 0);
  iterate_for (50);
  g_assert_cmpuint (failures.calls, ==, 1);
  g_assert_error (failures.error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_GONE);
  sp_ringer_stop (ringer);
  g_clear_error (&failures.error);
  g_array_unref (rec.samples);
}

/* A sound server slow to open the device holds up only the ringing
 * thread: starting returns at once, and the failure comes later. */
static void
test_slow_open_fails (void)
{
  Recorder rec = { .fail_after = -1, .open_ms = 300, .open_fails = TRUE };
  Failures failures = { 0 };
  g_autoptr (SpRinger) ringer = sp_ringer_new (recorder_new (&rec), NULL);
  gint64 before = g_get_monotonic_time ();

  sp_ringer_start (ringer, on_failed, &failures);
  g_assert_cmpint (g_get_monotonic_time () - before, <, 100000);
  g_assert_true (sp_ringer_is_ringing (ringer));
  iterate_for (100);
  g_assert_cmpuint (failures.calls, ==, 0); /* still opening */
  wait_until_quiet (ringer);
  iterate_for (50);
  g_assert_cmpuint (failures.calls, ==, 1);
  g_assert_error (failures.error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_NOT_FOUND);
  g_assert_cmpuint (rec.samples->len, ==, 0);
  g_clear_error (&failures.error);
  g_array_unref (rec.samples);
}

/* Stopping returns at once too, and a failure after the stop is not said:
 * the owner has moved on (the call was taken, the window closed). */
static void
test_stop_while_opening (void)
{
  Recorder rec = { .fail_after = -1, .open_ms = 300, .open_fails = TRUE };
  Failures failures = { 0 };
  SpRinger *ringer = sp_ringer_new (recorder_new (&rec), NULL);
  gint64 before;

  sp_ringer_start (ringer, on_failed, &failures);
  wait_ms (50);
  before = g_get_monotonic_time ();
  sp_ringer_free (ringer);
  g_assert_cmpint (g_get_monotonic_time () - before, <, 100000);
  /* The last reference goes with the undelivered failure, on the main
   * context; the sink with it. */
  for (int i = 0; i < 100 && !g_atomic_int_get (&rec.finalized); i++)
    iterate_for (10);
  g_assert_true (g_atomic_int_get (&rec.finalized));
  g_assert_cmpuint (failures.calls, ==, 0);
  g_array_unref (rec.samples);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ringer/builtin-tone", test_builtin_tone);
  g_test_add_func ("/ringer/wav-tone", test_wav_tone);
  g_test_add_func ("/ringer/bad-wav", test_bad_wav);
  g_test_add_func ("/ringer/unplayable-wav", test_unplayable_wav);
  g_test_add_func ("/ringer/slow-wav", test_slow_wav);
  g_test_add_func ("/ringer/free-while-loading", test_free_while_loading);
  g_test_add_func ("/ringer/device-gone", test_device_gone);
  g_test_add_func ("/ringer/slow-open-fails", test_slow_open_fails);
  g_test_add_func ("/ringer/stop-while-opening", test_stop_while_opening);
  return g_test_run ();
}
