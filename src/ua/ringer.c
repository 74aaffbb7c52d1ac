#include "config.h"

#include "ua/ringer.h"

#include "media/tones.h"
#include "audio/wav.h"

#define TONE_RATE 8000

struct _SpRinger
{
  SpAudioDevice *sink; /* owned */
  gint16 *wav;         /* the file's samples, or NULL for the built-in tone */
  gsize wav_len;
  guint rate;
  GThread *thread;
  gint stop;    /* atomic */
  gint ringing; /* atomic: TRUE from start until the thread ends */
};

SpRinger *
sp_ringer_new (SpAudioDevice *sink, const char *wav_path, GError **error)
{
  g_autofree gint16 *wav = NULL;
  gsize wav_len = 0;
  guint rate = TONE_RATE;
  SpRinger *ringer;

  g_return_val_if_fail (sink != NULL, NULL);
  g_return_val_if_fail (sp_audio_device_get_direction (sink) == SP_AUDIO_SINK, NULL);

  if (wav_path != NULL && wav_path[0] != '\0')
    {
      /* @sink is ours on failure too: callers pass a new device. */
      if (!sp_wav_load (wav_path, &rate, &wav, &wav_len, error))
        {
          sp_audio_device_free (sink);
          return NULL;
        }
      if ((rate != 8000 && rate != 16000) || wav_len == 0)
        {
          g_set_error (error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_FORMAT,
                       "The ring tone %s must be a non-empty WAV file at 8000 or 16000 Hz",
                       wav_path);
          sp_audio_device_free (sink);
          return NULL;
        }
    }
  ringer = g_new0 (SpRinger, 1);
  ringer->sink = sink;
  ringer->wav = g_steal_pointer (&wav);
  ringer->wav_len = wav_len;
  ringer->rate = rate;
  return ringer;
}

/* Writes one period, retrying while a clocked device's buffer is full.
 * FALSE when the device fails (gone) or a stop was asked for. */
static gboolean
write_period (SpRinger *ringer, const gint16 *frames, gsize n)
{
  while (n > 0 && !g_atomic_int_get (&ringer->stop))
    {
      g_autoptr (GError) error = NULL;
      gssize done = sp_audio_device_write (ringer->sink, frames, n, &error);

      if (done < 0)
        {
          g_message ("Ringing stopped: %s", error->message);
          return FALSE;
        }
      frames += done;
      n -= (gsize) done;
      if (n > 0)
        g_usleep (2000);
    }
  return !g_atomic_int_get (&ringer->stop);
}

static gpointer
ring_thread (gpointer data)
{
  SpRinger *ringer = data;
  gsize period = SP_AUDIO_PERIOD_FRAMES (ringer->rate);
  g_autofree gint16 *buffer = g_new (gint16, period);
  g_autoptr (SpTone) tone =
      ringer->wav == NULL ? sp_tone_new_for_rate (SP_TONE_RING, ringer->rate) : NULL;
  gboolean clocked = sp_audio_device_is_clocked (ringer->sink);
  gint64 next = g_get_monotonic_time ();
  gsize pos = 0;

  for (;;)
    {
      if (tone != NULL)
        sp_tone_generate (tone, buffer, period);
      else
        for (gsize i = 0; i < period; i++)
          {
            buffer[i] = ringer->wav[pos];
            pos = (pos + 1) % ringer->wav_len;
          }
      if (!write_period (ringer, buffer, period))
        break;
      /* An unclocked sink (file, null) takes everything at once: keep to
       * real time ourselves. */
      if (!clocked)
        {
          next += SP_AUDIO_PERIOD_MS * 1000;
          gint64 wait = next - g_get_monotonic_time ();
          if (wait > 0)
            g_usleep ((gulong) wait);
        }
    }
  g_atomic_int_set (&ringer->ringing, FALSE);
  return NULL;
}

gboolean
sp_ringer_start (SpRinger *ringer, GError **error)
{
  g_return_val_if_fail (ringer != NULL, FALSE);

  if (ringer->thread != NULL)
    return TRUE;
  if (!sp_audio_device_open (ringer->sink, ringer->rate, error))
    return FALSE;
  g_atomic_int_set (&ringer->stop, FALSE);
  g_atomic_int_set (&ringer->ringing, TRUE);
  ringer->thread = g_thread_new ("sp-ringer", ring_thread, ringer);
  return TRUE;
}

void
sp_ringer_stop (SpRinger *ringer)
{
  g_return_if_fail (ringer != NULL);

  if (ringer->thread == NULL)
    return;
  g_atomic_int_set (&ringer->stop, TRUE);
  g_thread_join (g_steal_pointer (&ringer->thread));
  sp_audio_device_close (ringer->sink);
}

gboolean
sp_ringer_is_ringing (SpRinger *ringer)
{
  g_return_val_if_fail (ringer != NULL, FALSE);
  return g_atomic_int_get (&ringer->ringing);
}

void
sp_ringer_free (SpRinger *ringer)
{
  if (ringer == NULL)
    return;
  sp_ringer_stop (ringer);
  sp_audio_device_free (ringer->sink);
  g_free (ringer->wav);
  g_free (ringer);
}
