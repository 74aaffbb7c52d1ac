#include "audio/device.h"

#include <string.h>

/* The null device: silence in, nothing out. It has no clock, so the media
 * thread paces the call itself; useful for calls with no audio hardware and
 * as the fallback when a real device goes away. */

static gboolean
null_open (SpAudioDevice *device, guint rate, GError **error)
{
  return TRUE;
}

static gssize
null_read (SpAudioDevice *device, gint16 *frames, gsize n_frames, GError **error)
{
  memset (frames, 0, n_frames * sizeof (gint16));
  return (gssize) n_frames;
}

static gssize
null_write (SpAudioDevice *device, const gint16 *frames, gsize n_frames, GError **error)
{
  return (gssize) n_frames;
}

static void
null_close (SpAudioDevice *device)
{
}

static const SpAudioDeviceVTable null_vtable = {
  .type_name = "null",
  .open = null_open,
  .read = null_read,
  .write = null_write,
  .close = null_close,
};

SpAudioDevice *
sp_audio_null_new (SpAudioDirection direction)
{
  return sp_audio_device_new (&null_vtable, direction, FALSE, "null", NULL);
}
