#include "config.h"

#include "../../app/device-list.h"
#include "audio/alsa.h"

/* The lister the test gives: slow, from another thread, maybe failing. */
static GThread *lister_thread;
static gint lister_fails;

static GPtrArray *
slow_list (GError **error)
{
  GPtrArray *devices;
  SpAudioAlsaDeviceInfo *info;

  g_atomic_pointer_set (&lister_thread, g_thread_self ());
  g_usleep (300 * 1000);
  if (g_atomic_int_get (&lister_fails))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "ALSA cannot list devices");
      return NULL;
    }
  devices = g_ptr_array_new_with_free_func ((GDestroyNotify) sp_audio_alsa_device_info_free);
  info = g_new0 (SpAudioAlsaDeviceInfo, 1);
  info->name = g_strdup ("default");
  info->description = g_strdup ("Default");
  info->can_capture = info->can_playback = TRUE;
  g_ptr_array_add (devices, info);
  return devices;
}

typedef struct
{
  gboolean done;
  GThread *thread; /* where the callback ran */
  GPtrArray *devices;
  GError *error;
} Result;

static void
on_listed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Result *r = user_data;

  r->done = TRUE;
  r->thread = g_thread_self ();
  r->devices = sp_device_list_finish (result, &r->error);
}

static gboolean
tick (gpointer data)
{
  (*(guint *) data)++;
  return G_SOURCE_CONTINUE;
}

/* Listing returns at once; the main loop runs on while the (slow) list is
 * read on another thread; the result comes on the main context. */
static void
test_in_thread (void)
{
  Result r = { 0 };
  guint ticks = 0;
  guint tick_id = g_timeout_add (10, tick, &ticks);
  gint64 before = g_get_monotonic_time ();

  g_atomic_int_set (&lister_fails, FALSE);
  sp_device_list_async (slow_list, NULL, on_listed, &r);
  g_assert_cmpint (g_get_monotonic_time () - before, <, 50000);
  while (!r.done)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick_id);
  g_test_message ("main loop ticks while listing: %u", ticks);
  g_assert_cmpuint (ticks, >=, 15);
  g_assert_true (r.thread == g_thread_self ());
  g_assert_true (g_atomic_pointer_get (&lister_thread) != g_thread_self ());
  g_assert_no_error (r.error);
  g_assert_nonnull (r.devices);
  g_assert_cmpuint (r.devices->len, ==, 1);
  g_ptr_array_unref (r.devices);
}

/* A failing list: a clear error on the main context. */
static void
test_failure (void)
{
  Result r = { 0 };

  g_atomic_int_set (&lister_fails, TRUE);
  sp_device_list_async (slow_list, NULL, on_listed, &r);
  while (!r.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_null (r.devices);
  g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_cmpstr (r.error->message, ==, "ALSA cannot list devices");
  g_clear_error (&r.error);
}

/* Preferences closed while listing: the callback says "cancelled" at
 * once and nothing else. */
static void
test_cancelled (void)
{
  Result r = { 0 };
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  gint64 before;

  g_atomic_int_set (&lister_fails, FALSE);
  sp_device_list_async (slow_list, cancellable, on_listed, &r);
  g_usleep (50 * 1000);
  before = g_get_monotonic_time ();
  g_cancellable_cancel (cancellable);
  while (!r.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (g_get_monotonic_time () - before, <, 200000);
  g_assert_null (r.devices);
  g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&r.error);
  /* Let the worker finish (and free its list) before the next test. */
  g_usleep (400 * 1000);
}

/* ALSA's own list through the same door (the machine's, whatever it is:
 * `default` is always first). */
static void
test_alsa (void)
{
  Result r = { 0 };

  sp_device_list_async (NULL, NULL, on_listed, &r);
  while (!r.done)
    g_main_context_iteration (NULL, TRUE);
  if (r.devices == NULL)
    {
      g_test_skip (r.error->message);
      g_clear_error (&r.error);
      return;
    }
  g_assert_cmpuint (r.devices->len, >=, 1);
  g_assert_cmpstr (((SpAudioAlsaDeviceInfo *) r.devices->pdata[0])->name, ==, "default");
  g_ptr_array_unref (r.devices);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/device-list/in-thread", test_in_thread);
  g_test_add_func ("/device-list/failure", test_failure);
  g_test_add_func ("/device-list/cancelled", test_cancelled);
  g_test_add_func ("/device-list/alsa", test_alsa);
  return g_test_run ();
}
