#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One small interface for every audio device the phone uses: ALSA, a WAV
 * file and null. A device is either a source (capture: the microphone, or
 * a WAV file played into the call) or a sink (playback: the speaker, or a
 * WAV file recording what the call receives).
 *
 * Format is fixed where the call needs it: mono, signed 16-bit native
 * endian, 8000 or 16000 Hz, 10 ms periods (rate / 100 frames).
 *
 * Threading: a device is created on the main thread, then handed to the
 * media thread, which alone opens, reads, writes and closes it. Only
 * sp_audio_device_get_level () may be called from any thread.
 *
 * Pacing: a clocked device (ALSA) runs at its own hardware clock. Its
 * reads and writes never wait at all: they move what the device can take
 * or give right now and return that count, which is 0 when nothing is
 * ready (an empty capture buffer, a full playback buffer). The media
 * thread drives it from its own 5 ms tick, reading until a read returns
 * 0 and writing until the sink holds enough, and a source that offers
 * descriptors to poll is also read as soon as they say audio is there (a
 * packet then leaves when its last sample is captured); a read that waited for the
 * next period would keep that loop reading forever, and any wait would
 * stall every other call on the thread. An unclocked device (WAV, null)
 * moves whatever it is asked at once, and the media thread paces itself
 * with its own monotonic clock. */

#define SP_AUDIO_ERROR (sp_audio_error_quark ())

typedef enum
{
  SP_AUDIO_ERROR_FAILED = 1,
  /* The device could not be found or opened (wrong name, busy). */
  SP_AUDIO_ERROR_NOT_FOUND,
  /* The format is not supported (rate, channels, WAV encoding). */
  SP_AUDIO_ERROR_FORMAT,
  /* The device went away during use (USB headset unplugged, server
   * gone). The caller closes it, reports it, and the call goes on silent. */
  SP_AUDIO_ERROR_GONE,
} SpAudioErrorCode;

GQuark sp_audio_error_quark (void);

typedef enum
{
  SP_AUDIO_SOURCE,
  SP_AUDIO_SINK,
} SpAudioDirection;

#define SP_AUDIO_PERIOD_MS 10

/* Frames in one 10 ms period at @rate. */
#define SP_AUDIO_PERIOD_FRAMES(rate) ((rate) / (1000 / SP_AUDIO_PERIOD_MS))

/* Descriptors one device may ask to be polled (see get_poll_fds). */
#define SP_AUDIO_MAX_POLL_FDS 4

/* The media thread moves audio every half period (5 ms): a captured packet
 * waits at most that long to be sent and a received one to be played. */
#define SP_AUDIO_TICK_MS           (SP_AUDIO_PERIOD_MS / 2)
#define SP_AUDIO_TICK_FRAMES(rate) ((rate) / (1000 / SP_AUDIO_TICK_MS))

/* How far ahead a clocked sink is kept after each write: one period plus
 * one tick. Playback starts at this fill too. A tick that comes a whole
 * period late still finds audio queued, as with two periods refilled
 * every period, for 10 ms less latency (measured through PulseAudio: 20
 * instead of 30 ms queued after a write). */
#define SP_AUDIO_PLAYBACK_AHEAD_FRAMES(rate)                                                       \
  (SP_AUDIO_PERIOD_FRAMES (rate) + SP_AUDIO_TICK_FRAMES (rate))

typedef struct _SpAudioDevice SpAudioDevice;

/* ---- For implementations (ALSA, WAV, null) ------------------------------ */

typedef struct
{
  const char *type_name; /* "alsa", "wav", "null" */
  /* Opens at @rate (8000 or 16000), mono S16. */
  gboolean (*open) (SpAudioDevice *device, guint rate, GError **error);
  /* Source only. Reads up to @n_frames without waiting; returns the
   * number read (0 when a clocked device has nothing ready yet) or -1
   * with @error set. */
  gssize (*read) (SpAudioDevice *device, gint16 *frames, gsize n_frames, GError **error);
  /* Sink only. Writes up to @n_frames without waiting; returns the number
   * accepted (fewer, or 0, when a clocked device's buffer is full) or -1
   * with @error set. */
  gssize (*write) (SpAudioDevice *device, const gint16 *frames, gsize n_frames, GError **error);
  /* Frames queued in the device and not yet played (sink) or captured and
   * not yet read (source); used for latency reporting. Optional. */
  gsize (*delay) (SpAudioDevice *device);
  /* Optional, for a clocked source that can wake its reader when audio is
   * ready: fills at most @n_fds descriptors to poll (events set) and
   * returns how many, 0 if it cannot. */
  guint (*get_poll_fds) (SpAudioDevice *device, GPollFD *fds, guint n_fds);
  /* Given those descriptors with revents filled in by the poll, whether a
   * read is due (audio ready, or an error for the read to report). */
  gboolean (*poll_ready) (SpAudioDevice *device, GPollFD *fds, guint n_fds);
  void (*close) (SpAudioDevice *device);
  /* Frees the implementation's private data (after close). */
  void (*finalize) (SpAudioDevice *device);
} SpAudioDeviceVTable;

/* Implementations allocate this with sp_audio_device_new () and keep their
 * own state in @priv. Fields are read-only for callers. */
struct _SpAudioDevice
{
  const SpAudioDeviceVTable *vtable;
  SpAudioDirection direction;
  gboolean clocked;
  char *name; /* what the user chose: "default", a path, "null" */
  guint rate; /* 0 while closed */
  gboolean is_open;
  gpointer priv;
  /* Peak of the last read period, 0..32768, atomically updated. */
  gint level_peak;
};

SpAudioDevice *sp_audio_device_new (const SpAudioDeviceVTable *vtable, SpAudioDirection direction,
                                    gboolean clocked, const char *name, gpointer priv);

/* ---- For users (the media thread) --------------------------------------- */

gboolean sp_audio_device_open (SpAudioDevice *device, guint rate, GError **error);
gssize sp_audio_device_read (SpAudioDevice *device, gint16 *frames, gsize n_frames, GError **error);
gssize sp_audio_device_write (SpAudioDevice *device, const gint16 *frames, gsize n_frames,
                              GError **error);
gsize sp_audio_device_delay (SpAudioDevice *device);
/* Descriptors that become ready when an open clocked source has audio to
 * read (see the vtable); 0 when the device cannot say, and it is read on
 * the media thread's tick alone. */
guint sp_audio_device_get_poll_fds (SpAudioDevice *device, GPollFD *fds, guint n_fds);
gboolean sp_audio_device_poll_ready (SpAudioDevice *device, GPollFD *fds, guint n_fds);
/* Idempotent. */
void sp_audio_device_close (SpAudioDevice *device);
/* Closes if open, then frees. NULL-safe. */
void sp_audio_device_free (SpAudioDevice *device);

gboolean sp_audio_device_is_clocked (SpAudioDevice *device);
SpAudioDirection sp_audio_device_get_direction (SpAudioDevice *device);
const char *sp_audio_device_get_name (SpAudioDevice *device);

/* How the phone's audio-in/audio-out names are read (command line,
 * headless commands): NULL or "null" is the null device; a name that ends
 * in ".wav", holds a '/' or names an existing file is a WAV file; anything
 * else is an ALSA PCM name ("default", "hw:1,0", "pulse",
 * "sysdefault:CARD=Headset"). */
gboolean sp_audio_name_is_file (const char *name);
/* A new device for @name as above (nothing is opened yet). */
SpAudioDevice *sp_audio_device_new_for_name (const char *name, SpAudioDirection direction);

/* Input level meter for the UI: the peak of the last period read, in dBFS
 * (-96.0 for silence, 0.0 for full scale). Thread-safe. */
double sp_audio_device_get_level (SpAudioDevice *device);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpAudioDevice, sp_audio_device_free)

/* ---- Implementations ---------------------------------------------------- */

/* Null: a source of silence, a sink that discards. Unclocked. */
SpAudioDevice *sp_audio_null_new (SpAudioDirection direction);

/* WAV source: plays @path (mono S16 PCM at 8 or 16 kHz; resampled to the
 * open rate) in a loop. Fails at open if the file is not such a WAV. */
SpAudioDevice *sp_audio_wav_source_new (const char *path);

/* WAV sink: records everything written to @path, a mono S16 PCM WAV at the
 * open rate. The header is finalised on close. */
SpAudioDevice *sp_audio_wav_sink_new (const char *path);

G_END_DECLS
