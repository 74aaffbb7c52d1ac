#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* ALSA's device list read on a worker thread (GTask): alsa-lib's name
 * hints read configuration files and may ask a sound server, and the
 * window must not wait for that. GLib only, so unit tests build it. */

/* What reads the list: sp_audio_alsa_list_devices by default; tests give
 * a slow or failing one. Runs on the worker thread. */
typedef GPtrArray *(*SpDeviceListFunc) (GError **error);

/* Reads the list on a worker thread; @callback runs on the thread-default
 * main context of the caller, with a cancelled error (and nothing else)
 * when @cancellable was cancelled meanwhile. @list NULL: ALSA's. */
void sp_device_list_async (SpDeviceListFunc list, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data);
/* SpAudioAlsaDeviceInfo values (audio/alsa.h), or NULL with @error. */
GPtrArray *sp_device_list_finish (GAsyncResult *result, GError **error);

G_END_DECLS
