#include "audio/alsa.h"

#include <alsa/asoundlib.h>
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "i18n.h"

/* Periods in the device buffer. A capture buffer only fills when the media
 * thread falls behind, so it is roomy to ride out a stall without an
 * overrun; a playback buffer is latency the far end's voice waits in, so
 * it is small. Playback starts at the fill the media thread keeps
 * (SP_AUDIO_PLAYBACK_AHEAD_FRAMES), which absorbs the jitter of its tick. */
#define CAPTURE_BUFFER_PERIODS  8
#define PLAYBACK_BUFFER_PERIODS 4
/* Buffers of stale capture one read may drop (see drop_backlog). */
#define MAX_DROP_BUFFERS 64

typedef struct
{
  snd_pcm_t *pcm;
  snd_pcm_uframes_t period_frames;
  snd_pcm_uframes_t buffer_frames;
  gint16 *scratch; /* buffer_frames of capture to throw away */
  /* Set once the device went away; every later read or write fails fast
   * without touching the PCM again. */
  gboolean gone;
  gint xruns; /* atomic */
} SpAudioAlsa;

static const SpAudioDeviceVTable alsa_vtable;

static SpAudioAlsa *
alsa_of (SpAudioDevice *device)
{
  if (device == NULL || device->vtable != &alsa_vtable)
    return NULL;
  return device->priv;
}

static const char *
direction_name (SpAudioDirection direction)
{
  return direction == SP_AUDIO_SOURCE ? "capture" : "playback";
}

/* The same word in an error message shown to the user. */
static const char *
direction_label (SpAudioDirection direction)
{
  return direction == SP_AUDIO_SOURCE ? _ ("capture") : _ ("playback");
}

static gboolean
set_hw_params (snd_pcm_t *pcm, SpAudioDirection direction, guint rate, GError **error)
{
  snd_pcm_hw_params_t *hw;
  snd_pcm_uframes_t period = SP_AUDIO_PERIOD_FRAMES (rate);
  snd_pcm_uframes_t buffer =
      period * (direction == SP_AUDIO_SOURCE ? CAPTURE_BUFFER_PERIODS : PLAYBACK_BUFFER_PERIODS);
  unsigned int exact_rate = rate;
  int dir = 0;
  int err;

  snd_pcm_hw_params_alloca (&hw);
  if ((err = snd_pcm_hw_params_any (pcm, hw)) < 0 ||
      (err = snd_pcm_hw_params_set_rate_resample (pcm, hw, 1)) < 0 ||
      (err = snd_pcm_hw_params_set_access (pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED)) < 0 ||
      (err = snd_pcm_hw_params_set_format (pcm, hw, SND_PCM_FORMAT_S16)) < 0 ||
      (err = snd_pcm_hw_params_set_channels (pcm, hw, 1)) < 0 ||
      (err = snd_pcm_hw_params_set_rate_near (pcm, hw, &exact_rate, &dir)) < 0)
    {
      g_set_error (error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_FORMAT,
                   _ ("The audio device cannot do %u Hz mono 16-bit %s: %s"), rate,
                   direction_label (direction), snd_strerror (err));
      return FALSE;
    }
  if (exact_rate != rate)
    {
      g_set_error (error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_FORMAT,
                   _ ("The audio device offers %u Hz instead of %u Hz"), exact_rate, rate);
      return FALSE;
    }
  /* Near, not exact: some devices only do powers of two; the media thread
   * copes with any period since reads and writes return what they moved. */
  dir = 0;
  if ((err = snd_pcm_hw_params_set_period_size_near (pcm, hw, &period, &dir)) < 0 ||
      (err = snd_pcm_hw_params_set_buffer_size_near (pcm, hw, &buffer)) < 0 ||
      (err = snd_pcm_hw_params (pcm, hw)) < 0)
    {
      g_set_error (error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_FORMAT,
                   _ ("The audio device refuses 10 ms periods at %u Hz: %s"), rate,
                   snd_strerror (err));
      return FALSE;
    }
  return TRUE;
}

static gboolean
set_sw_params (SpAudioAlsa *self, SpAudioDirection direction, guint rate, GError **error)
{
  snd_pcm_sw_params_t *sw;
  snd_pcm_uframes_t ahead = SP_AUDIO_PLAYBACK_AHEAD_FRAMES (rate);
  snd_pcm_uframes_t start = direction == SP_AUDIO_SOURCE ? 1 : MIN (self->buffer_frames, ahead);
  int err;

  snd_pcm_sw_params_alloca (&sw);
  if ((err = snd_pcm_sw_params_current (self->pcm, sw)) < 0 ||
      (err = snd_pcm_sw_params_set_avail_min (self->pcm, sw, self->period_frames)) < 0 ||
      (err = snd_pcm_sw_params_set_start_threshold (self->pcm, sw, start)) < 0 ||
      (err = snd_pcm_sw_params (self->pcm, sw)) < 0)
    {
      g_set_error (error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_FAILED,
                   _ ("Cannot set up the audio device: %s"), snd_strerror (err));
      return FALSE;
    }
  return TRUE;
}

/* Closes the PCM (if open) and forgets what it was set up with. */
static void
release (SpAudioAlsa *self)
{
  g_clear_pointer (&self->pcm, snd_pcm_close);
  self->period_frames = self->buffer_frames = 0;
  g_clear_pointer (&self->scratch, g_free);
}

static gboolean
alsa_open (SpAudioDevice *device, guint rate, GError **error)
{
  SpAudioAlsa *self = device->priv;
  snd_pcm_stream_t stream =
      device->direction == SP_AUDIO_SOURCE ? SND_PCM_STREAM_CAPTURE : SND_PCM_STREAM_PLAYBACK;
  int err;

  /* Non-blocking from the start: opening a busy device fails at once
   * rather than hanging the media thread, and reads and writes never
   * wait. */
  err = snd_pcm_open (&self->pcm, device->name, stream, SND_PCM_NONBLOCK);
  if (err < 0)
    {
      self->pcm = NULL;
      g_set_error (error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_NOT_FOUND,
                   _ ("Cannot open the audio device “%s” for %s: %s"), device->name,
                   direction_label (device->direction), snd_strerror (err));
      return FALSE;
    }
  if (!set_hw_params (self->pcm, device->direction, rate, error))
    goto fail;
  snd_pcm_get_params (self->pcm, &self->buffer_frames, &self->period_frames);
  if (!set_sw_params (self, device->direction, rate, error))
    goto fail;
  if (device->direction == SP_AUDIO_SOURCE)
    self->scratch = g_new (gint16, self->buffer_frames);
  if ((err = snd_pcm_prepare (self->pcm)) < 0)
    {
      g_set_error (error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_FAILED,
                   _ ("Cannot start the audio device “%s”: %s"), device->name, snd_strerror (err));
      goto fail;
    }
  /* Capture runs from now on so the first read finds fresh audio;
   * playback starts by itself once it holds the start threshold. */
  if (device->direction == SP_AUDIO_SOURCE)
    snd_pcm_start (self->pcm);
  self->gone = FALSE;
  g_debug ("ALSA %s “%s” open: %u Hz, period %lu, buffer %lu frames",
           direction_name (device->direction), device->name, rate,
           (unsigned long) self->period_frames, (unsigned long) self->buffer_frames);
  return TRUE;

fail:
  release (self);
  return FALSE;
}

static gssize
fail_gone (SpAudioDevice *device, int err, GError **error)
{
  SpAudioAlsa *self = device->priv;

  if (!self->gone)
    g_debug ("ALSA device “%s” went away: %s", device->name, snd_strerror (err));
  self->gone = TRUE;
  g_set_error (error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_GONE,
               _ ("The audio device “%s” went away: %s"), device->name, snd_strerror (err));
  return -1;
}

/* Recovers from an xrun or a suspend without ever sleeping (unlike
 * snd_pcm_recover, which waits seconds for a resume); any other error means
 * the device is gone (ENODEV when unplugged, EIO or EBADFD when the sound
 * server died). */
static gboolean
recover (SpAudioDevice *device, int err, GError **error)
{
  SpAudioAlsa *self = device->priv;
  int rerr;

  switch (err)
    {
      case -EINTR:
        return TRUE;
      case -EPIPE:
        rerr = snd_pcm_prepare (self->pcm);
        break;
      case -ESTRPIPE:
        rerr = snd_pcm_resume (self->pcm);
        /* Still waking up: the next read or write tries again. */
        if (rerr == -EAGAIN)
          return TRUE;
        if (rerr < 0)
          rerr = snd_pcm_prepare (self->pcm);
        break;
      default:
        fail_gone (device, err, error);
        return FALSE;
    }
  if (rerr < 0)
    {
      fail_gone (device, rerr, error);
      return FALSE;
    }
  g_atomic_int_inc (&self->xruns);
  if (device->direction == SP_AUDIO_SOURCE)
    snd_pcm_start (self->pcm);
  return TRUE;
}

/* A sound server may queue far more than the ALSA buffer when the media
 * thread falls behind (the pulse plugin keeps up to 4 MB, and ALSA's avail
 * never shows more than the buffer): after a stall that backlog would be
 * latency for the rest of the call. Drop it down to two periods, as an
 * overrun would on a sound card, and count it as one. */
static void
drop_backlog (SpAudioDevice *device)
{
  SpAudioAlsa *self = device->priv;
  snd_pcm_sframes_t avail = snd_pcm_avail_update (self->pcm);
  snd_pcm_sframes_t delay = 0;
  snd_pcm_sframes_t excess;

  /* The delay query is dearer; ask it only when the buffer is full. */
  if (avail < (snd_pcm_sframes_t) (self->buffer_frames - self->period_frames))
    return;
  if (snd_pcm_delay (self->pcm, &delay) < 0 || delay <= (snd_pcm_sframes_t) self->buffer_frames)
    return;
  excess = delay - (snd_pcm_sframes_t) (2 * self->period_frames);
  for (guint i = 0; excess > 0 && i < MAX_DROP_BUFFERS; i++)
    {
      snd_pcm_sframes_t n = snd_pcm_readi (self->pcm, self->scratch,
                                           MIN ((snd_pcm_uframes_t) excess, self->buffer_frames));
      if (n <= 0)
        break; /* an error is the next read's to handle */
      excess -= n;
    }
  g_atomic_int_inc (&self->xruns);
}

/* Reads into @in (capture) or writes @out (playback) without waiting:
 * frames moved, 0 when there is nothing (or no room) yet, -1 once the
 * device is gone. The second try follows an overrun or underrun
 * recovery. */
static gssize
transfer (SpAudioDevice *device, gint16 *in, const gint16 *out, gsize n_frames, GError **error)
{
  SpAudioAlsa *self = device->priv;

  if (self->gone)
    return fail_gone (device, -ENODEV, error);
  for (guint attempt = 0; attempt < 2; attempt++)
    {
      snd_pcm_sframes_t n = device->direction == SP_AUDIO_SOURCE
                                ? snd_pcm_readi (self->pcm, in, n_frames)
                                : snd_pcm_writei (self->pcm, out, n_frames);

      if (n >= 0)
        return n;
      if (n == -EAGAIN)
        return 0;
      if (!recover (device, (int) n, error))
        return -1;
    }
  return 0;
}

static gssize
alsa_read (SpAudioDevice *device, gint16 *frames, gsize n_frames, GError **error)
{
  SpAudioAlsa *self = device->priv;

  /* Never waits: the media thread drains what is there on its own tick
   * (reading until nothing is left), so a read that waited for the next
   * period would keep it reading forever. */
  if (!self->gone)
    drop_backlog (device);
  return transfer (device, frames, NULL, n_frames, error);
}

static gssize
alsa_write (SpAudioDevice *device, const gint16 *frames, gsize n_frames, GError **error)
{
  /* Never waits: a full buffer means the device is ahead of the call, and
   * the media thread's tick comes back soon. */
  return transfer (device, NULL, frames, n_frames, error);
}

static gsize
alsa_delay (SpAudioDevice *device)
{
  SpAudioAlsa *self = device->priv;
  snd_pcm_sframes_t delay = 0;

  /* Only while running: the pulse plugin's delay waits for the server's
   * first timing report. */
  if (self->gone || self->pcm == NULL || snd_pcm_state (self->pcm) != SND_PCM_STATE_RUNNING ||
      snd_pcm_delay (self->pcm, &delay) < 0 || delay < 0)
    return 0;
  return (gsize) delay;
}

/* The PCM's own descriptors: a sound card's device node, or the pipe a
 * plugin such as pulse signals through once avail_min frames are there. */
static guint
alsa_get_poll_fds (SpAudioDevice *device, GPollFD *fds, guint n_fds)
{
  SpAudioAlsa *self = device->priv;
  struct pollfd pfds[SP_AUDIO_MAX_POLL_FDS];
  int count;

  if (self->gone || self->pcm == NULL)
    return 0;
  count = snd_pcm_poll_descriptors_count (self->pcm);
  if (count <= 0 || (guint) count > MIN (n_fds, G_N_ELEMENTS (pfds)) ||
      snd_pcm_poll_descriptors (self->pcm, pfds, (unsigned int) count) != count)
    return 0;
  for (int i = 0; i < count; i++)
    fds[i] = (GPollFD){ .fd = pfds[i].fd, .events = (gushort) pfds[i].events };
  return (guint) count;
}

static gboolean
alsa_poll_ready (SpAudioDevice *device, GPollFD *fds, guint n_fds)
{
  SpAudioAlsa *self = device->priv;
  struct pollfd pfds[SP_AUDIO_MAX_POLL_FDS];
  unsigned short revents = 0;

  if (self->gone || self->pcm == NULL || n_fds > G_N_ELEMENTS (pfds))
    return FALSE;
  for (guint i = 0; i < n_fds; i++)
    pfds[i] = (struct pollfd){ .fd = fds[i].fd,
                               .events = (short) fds[i].events,
                               .revents = (short) fds[i].revents };
  /* A plugin translates its own descriptors' state here (and may clear
   * them); a failure is the read's to report. */
  if (snd_pcm_poll_descriptors_revents (self->pcm, pfds, n_fds, &revents) < 0)
    return TRUE;
  return (revents & (POLLIN | POLLERR)) != 0;
}

static void
alsa_close (SpAudioDevice *device)
{
  SpAudioAlsa *self = device->priv;

  if (self->pcm == NULL)
    return;
  /* Drop, not drain: draining would block the media thread until the
   * queued audio played, and it is a hung-up call's tail anyway. */
  if (!self->gone)
    snd_pcm_drop (self->pcm);
  release (self);
}

static void
alsa_finalize (SpAudioDevice *device)
{
  g_free (device->priv);
}

static const SpAudioDeviceVTable alsa_vtable = {
  .type_name = "alsa",
  .open = alsa_open,
  .read = alsa_read,
  .write = alsa_write,
  .delay = alsa_delay,
  .get_poll_fds = alsa_get_poll_fds,
  .poll_ready = alsa_poll_ready,
  .close = alsa_close,
  .finalize = alsa_finalize,
};

SpAudioDevice *
sp_audio_alsa_new (const char *name, SpAudioDirection direction)
{
  if (name == NULL || *name == '\0')
    name = SP_AUDIO_ALSA_DEFAULT_DEVICE;
  return sp_audio_device_new (&alsa_vtable, direction, TRUE, name, g_new0 (SpAudioAlsa, 1));
}

guint
sp_audio_alsa_get_xruns (SpAudioDevice *device)
{
  SpAudioAlsa *self = alsa_of (device);

  return self ? (guint) g_atomic_int_get (&self->xruns) : 0;
}

gsize
sp_audio_alsa_get_period_frames (SpAudioDevice *device)
{
  SpAudioAlsa *self = alsa_of (device);

  return self ? self->period_frames : 0;
}

gsize
sp_audio_alsa_get_buffer_frames (SpAudioDevice *device)
{
  SpAudioAlsa *self = alsa_of (device);

  return self ? self->buffer_frames : 0;
}

/* ---- Listing ------------------------------------------------------------- */

void
sp_audio_alsa_device_info_free (SpAudioAlsaDeviceInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->name);
  g_free (info->description);
  g_free (info);
}

static SpAudioAlsaDeviceInfo *
device_info_new (const char *name, const char *description, const char *ioid)
{
  SpAudioAlsaDeviceInfo *info = g_new0 (SpAudioAlsaDeviceInfo, 1);

  info->name = g_strdup (name);
  /* Hints spread a description over lines ("HDA Intel\nFront speakers"). */
  info->description = g_strdup (description ? description : name);
  g_strdelimit (info->description, "\r\n", ',');
  /* No IOID means both directions. */
  info->can_capture = ioid == NULL || g_str_equal (ioid, "Input");
  info->can_playback = ioid == NULL || g_str_equal (ioid, "Output");
  return info;
}

const SpAudioAlsaDeviceInfo *
sp_audio_alsa_find_device (GPtrArray *devices, const char *name)
{
  g_return_val_if_fail (devices != NULL, NULL);

  for (guint i = 0; name != NULL && i < devices->len; i++)
    {
      const SpAudioAlsaDeviceInfo *info = g_ptr_array_index (devices, i);
      if (g_str_equal (info->name, name))
        return info;
    }
  return NULL;
}

static void
add_hint (GPtrArray *devices, void *hint)
{
  g_autofree char *name = snd_device_name_get_hint (hint, "NAME");
  g_autofree char *description = snd_device_name_get_hint (hint, "DESC");
  g_autofree char *ioid = snd_device_name_get_hint (hint, "IOID");

  if (name == NULL || g_str_has_prefix (name, "hw:") || sp_audio_alsa_find_device (devices, name))
    return;
  g_ptr_array_add (devices, device_info_new (name, description, ioid));
}

GPtrArray *
sp_audio_alsa_list_devices (GError **error)
{
  g_autoptr (GPtrArray) devices =
      g_ptr_array_new_with_free_func ((GDestroyNotify) sp_audio_alsa_device_info_free);
  void **hints = NULL;
  int err = snd_device_name_hint (-1, "pcm", &hints);

  if (err < 0)
    {
      g_set_error (error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_FAILED,
                   _ ("Cannot list the audio devices: %s"), snd_strerror (err));
      return NULL;
    }
  /* `default` first and always there, even when the configuration gives
   * it no hint: it is the right choice for nearly everyone. */
  for (void **h = hints; *h != NULL; h++)
    {
      g_autofree char *name = snd_device_name_get_hint (*h, "NAME");
      if (name != NULL && g_str_equal (name, SP_AUDIO_ALSA_DEFAULT_DEVICE))
        add_hint (devices, *h);
    }
  if (devices->len == 0)
    g_ptr_array_add (devices,
                     device_info_new (SP_AUDIO_ALSA_DEFAULT_DEVICE, "Default audio device", NULL));
  for (void **h = hints; *h != NULL; h++)
    add_hint (devices, *h);
  snd_device_name_free_hint (hints);
  return g_steal_pointer (&devices);
}
