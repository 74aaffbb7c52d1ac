#include "config.h"

#include "device-list.h"

#include "audio/alsa.h"

static void
list_in_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  SpDeviceListFunc list = (SpDeviceListFunc) (void (*) (void)) task_data;
  GError *error = NULL;
  GPtrArray *devices = list (&error);

  if (devices == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, devices, (GDestroyNotify) g_ptr_array_unref);
}

void
sp_device_list_async (SpDeviceListFunc list, GCancellable *cancellable,
                      GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, sp_device_list_async);
  g_task_set_task_data (
      task, (gpointer) (void (*) (void)) (list != NULL ? list : sp_audio_alsa_list_devices), NULL);
  /* Cancelled (Preferences closed): the callback comes at once, and the
   * list, when it comes, is dropped on the worker. */
  g_task_set_return_on_cancel (task, TRUE);
  g_task_run_in_thread (task, list_in_thread);
}

GPtrArray *
sp_device_list_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
