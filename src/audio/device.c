#include "audio/device.h"

#include "audio/alsa.h"

#include <math.h>
#include <string.h>

G_DEFINE_QUARK (sp - audio - error - quark, sp_audio_error)

SpAudioDevice *
sp_audio_device_new (const SpAudioDeviceVTable *vtable, SpAudioDirection direction,
                     gboolean clocked, const char *name, gpointer priv)
{
  SpAudioDevice *device = g_new0 (SpAudioDevice, 1);

  g_return_val_if_fail (vtable != NULL, NULL);
  device->vtable = vtable;
  device->direction = direction;
  device->clocked = clocked;
  device->name = g_strdup (name ? name : vtable->type_name);
  device->priv = priv;
  return device;
}

gboolean
sp_audio_device_open (SpAudioDevice *device, guint rate, GError **error)
{
  g_return_val_if_fail (device != NULL, FALSE);
  g_return_val_if_fail (!device->is_open, FALSE);

  if (rate != 8000 && rate != 16000)
    {
      g_set_error (error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_FORMAT, "Unsupported sample rate %u Hz",
                   rate);
      return FALSE;
    }
  if (!device->vtable->open (device, rate, error))
    return FALSE;
  device->rate = rate;
  device->is_open = TRUE;
  g_atomic_int_set (&device->level_peak, 0);
  return TRUE;
}

static void
update_level (SpAudioDevice *device, const gint16 *frames, gsize n_frames)
{
  gint peak = 0;

  for (gsize i = 0; i < n_frames; i++)
    {
      gint v = ABS ((gint) frames[i]);
      if (v > peak)
        peak = v;
    }
  g_atomic_int_set (&device->level_peak, peak);
}

gssize
sp_audio_device_read (SpAudioDevice *device, gint16 *frames, gsize n_frames, GError **error)
{
  gssize n;

  g_return_val_if_fail (device != NULL && device->is_open, -1);
  g_return_val_if_fail (device->direction == SP_AUDIO_SOURCE, -1);

  n = device->vtable->read (device, frames, n_frames, error);
  if (n > 0)
    update_level (device, frames, (gsize) n);
  return n;
}

gssize
sp_audio_device_write (SpAudioDevice *device, const gint16 *frames, gsize n_frames, GError **error)
{
  g_return_val_if_fail (device != NULL && device->is_open, -1);
  g_return_val_if_fail (device->direction == SP_AUDIO_SINK, -1);

  return device->vtable->write (device, frames, n_frames, error);
}

gsize
sp_audio_device_delay (SpAudioDevice *device)
{
  if (device == NULL || !device->is_open || device->vtable->delay == NULL)
    return 0;
  return device->vtable->delay (device);
}

guint
sp_audio_device_get_poll_fds (SpAudioDevice *device, GPollFD *fds, guint n_fds)
{
  if (device == NULL || !device->is_open || device->direction != SP_AUDIO_SOURCE ||
      device->vtable->get_poll_fds == NULL || device->vtable->poll_ready == NULL)
    return 0;
  return device->vtable->get_poll_fds (device, fds, n_fds);
}

gboolean
sp_audio_device_poll_ready (SpAudioDevice *device, GPollFD *fds, guint n_fds)
{
  g_return_val_if_fail (device != NULL && device->vtable->poll_ready != NULL, FALSE);
  return device->is_open && device->vtable->poll_ready (device, fds, n_fds);
}

void
sp_audio_device_close (SpAudioDevice *device)
{
  if (device == NULL || !device->is_open)
    return;
  device->vtable->close (device);
  device->is_open = FALSE;
  device->rate = 0;
  g_atomic_int_set (&device->level_peak, 0);
}

void
sp_audio_device_free (SpAudioDevice *device)
{
  if (device == NULL)
    return;
  sp_audio_device_close (device);
  if (device->vtable->finalize)
    device->vtable->finalize (device);
  g_free (device->name);
  g_free (device);
}

gboolean
sp_audio_device_is_clocked (SpAudioDevice *device)
{
  return device->clocked;
}

SpAudioDirection
sp_audio_device_get_direction (SpAudioDevice *device)
{
  return device->direction;
}

const char *
sp_audio_device_get_name (SpAudioDevice *device)
{
  return device->name;
}

double
sp_audio_device_get_level (SpAudioDevice *device)
{
  gint peak = g_atomic_int_get (&device->level_peak);

  if (peak <= 0)
    return -96.0;
  return MAX (-96.0, 20.0 * log10 ((double) peak / 32768.0));
}

gboolean
sp_audio_name_is_file (const char *name)
{
  return name != NULL && (g_str_has_suffix (name, ".wav") || g_str_has_suffix (name, ".WAV") ||
                          strchr (name, '/') != NULL || g_file_test (name, G_FILE_TEST_IS_REGULAR));
}

SpAudioDevice *
sp_audio_device_new_for_name (const char *name, SpAudioDirection direction)
{
  if (name == NULL || strcmp (name, "null") == 0)
    return sp_audio_null_new (direction);
  if (sp_audio_name_is_file (name))
    return direction == SP_AUDIO_SOURCE ? sp_audio_wav_source_new (name)
                                        : sp_audio_wav_sink_new (name);
  return sp_audio_alsa_new (name, direction);
}
