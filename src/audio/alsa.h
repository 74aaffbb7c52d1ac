#pragma once

#include "audio/device.h"

G_BEGIN_DECLS

/* ALSA audio devices, through alsa-lib's plugin layer.
 *
 * Unless the user chooses another device the phone uses ALSA's `default`,
 * which on a desktop is PipeWire or PulseAudio, so other applications keep
 * their sound; it never grabs a `hw:` device on its own. A chosen device is
 * remembered by its ALSA name (e.g. "sysdefault:CARD=Headset"): names use
 * the card's id, not its index, so they survive replugging.
 *
 * The device is clocked and non-blocking: reads and writes never wait and
 * return what they could move (0 when nothing is ready or there is no
 * room), so the media thread drains the device on its own 5 ms tick, and
 * capture also whenever the PCM's poll descriptors say a period is there.
 * Overruns and underruns are recovered and counted, and so is capture that
 * a sound server kept queued beyond the buffer after a stall (it is
 * dropped: it would be latency for the rest of the call). A device that
 * goes away (unplugged, sound server gone) fails with SP_AUDIO_ERROR_GONE
 * from then on, never crashes. */

#define SP_AUDIO_ALSA_DEFAULT_DEVICE "default"

/* A device as alsa-lib's name hints describe it. */
typedef struct
{
  char *name;        /* what to pass to sp_audio_alsa_new () and to remember */
  char *description; /* one line, for people */
  gboolean can_capture;
  gboolean can_playback;
} SpAudioAlsaDeviceInfo;

void sp_audio_alsa_device_info_free (SpAudioAlsaDeviceInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpAudioAlsaDeviceInfo, sp_audio_alsa_device_info_free)

/* The PCM devices ALSA knows, as SpAudioAlsaDeviceInfo, with `default`
 * first (always present). Raw `hw:` devices are left out: they rarely take
 * 8 kHz mono and would lock the card; the `plughw:` and `sysdefault:`
 * entries of the same cards do work. Returns NULL with @error set when ALSA
 * cannot list devices. */
GPtrArray *sp_audio_alsa_list_devices (GError **error);

/* The entry of @devices named @name, or NULL. */
const SpAudioAlsaDeviceInfo *sp_audio_alsa_find_device (GPtrArray *devices, const char *name);

/* A device for the ALSA PCM @name (NULL: `default`). Nothing is opened
 * until sp_audio_device_open (); a name ALSA does not know fails there with
 * SP_AUDIO_ERROR_NOT_FOUND. */
SpAudioDevice *sp_audio_alsa_new (const char *name, SpAudioDirection direction);

/* How many overruns (source) or underruns (sink) were recovered since the
 * device was created. Any thread. */
guint sp_audio_alsa_get_xruns (SpAudioDevice *device);

/* The period and buffer sizes ALSA granted at open, in frames; 0 while
 * closed. Media thread only. */
gsize sp_audio_alsa_get_period_frames (SpAudioDevice *device);
gsize sp_audio_alsa_get_buffer_frames (SpAudioDevice *device);

G_END_DECLS
