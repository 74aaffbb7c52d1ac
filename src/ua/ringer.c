#include "config.h"

#include "ua/ringer.h"

#include "media/tones.h"
#include "audio/wav.h"

#define TONE_RATE 8000

/* What the ringing thread works on. Shared by the SpRinger and the thread
 * (reference counted), so stopping never waits for the thread: opening,
 * writing to and closing the sound device all happen there, and a sound
 * server that is slow to answer holds up nothing but that thread. */
typedef struct
{
  SpAudioDevice *sink; /* owned; touched by the thread only once started */
  gint16 *wav;         /* the file's samples, or NULL for the built-in tone */
  gsize wav_len;
  guint rate;
  gint stop;    /* atomic */
  gint ringing; /* atomic: TRUE from start until the thread lets the sink go */
  /* Where and to whom a failure is reported; owner's thread only. */
  GMainContext *context;
  SpRingerFailedFunc failed;
  gpointer user_data;
} Ring;

struct _SpRinger
{
  Ring *ring;
  gboolean started;
};

static void
ring_clear (Ring *ring)
{
  sp_audio_device_free (ring->sink);
  g_free (ring->wav);
  g_clear_pointer (&ring->context, g_main_context_unref);
}

static void
ring_release (Ring *ring)
{
  g_atomic_rc_box_release_full (ring, (GDestroyNotify) ring_clear);
}

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
  ringer->ring = g_atomic_rc_box_new0 (Ring);
  ringer->ring->sink = sink;
  ringer->ring->wav = g_steal_pointer (&wav);
  ringer->ring->wav_len = wav_len;
  ringer->ring->rate = rate;
  return ringer;
}

typedef struct
{
  Ring *ring; /* a reference */
  GError *error;
} Failure;

static void
failure_free (Failure *failure)
{
  ring_release (failure->ring);
  g_error_free (failure->error);
  g_free (failure);
}

/* On the owner's thread: a stop asked for since then silences it. */
static gboolean
deliver_failure (gpointer data)
{
  Failure *failure = data;
  Ring *ring = failure->ring;

  if (!g_atomic_int_get (&ring->stop) && ring->failed != NULL)
    ring->failed (failure->error, ring->user_data);
  return G_SOURCE_REMOVE;
}

static void
report_failure (Ring *ring, GError *error)
{
  Failure *failure = g_new0 (Failure, 1);
  g_autoptr (GSource) source = g_idle_source_new ();

  failure->ring = g_atomic_rc_box_acquire (ring);
  failure->error = error;
  /* A source, not g_main_context_invoke (): that calls right here, on this
   * thread, when the owner's context happens to be free. */
  g_source_set_callback (source, deliver_failure, failure, (GDestroyNotify) failure_free);
  g_source_attach (source, ring->context);
}

/* Writes one period, retrying while a clocked device's buffer is full.
 * FALSE when the device fails (gone, reported) or a stop was asked for. */
static gboolean
write_period (Ring *ring, const gint16 *frames, gsize n)
{
  while (n > 0 && !g_atomic_int_get (&ring->stop))
    {
      GError *error = NULL;
      gssize done = sp_audio_device_write (ring->sink, frames, n, &error);

      if (done < 0)
        {
          report_failure (ring, error);
          return FALSE;
        }
      frames += done;
      n -= (gsize) done;
      if (n > 0)
        g_usleep (2000);
    }
  return !g_atomic_int_get (&ring->stop);
}

static void
ring_loop (Ring *ring)
{
  gsize period = SP_AUDIO_PERIOD_FRAMES (ring->rate);
  g_autofree gint16 *buffer = g_new (gint16, period);
  g_autoptr (SpTone) tone =
      ring->wav == NULL ? sp_tone_new_for_rate (SP_TONE_RING, ring->rate) : NULL;
  gboolean clocked = sp_audio_device_is_clocked (ring->sink);
  gint64 next = g_get_monotonic_time ();
  gsize pos = 0;

  for (;;)
    {
      if (tone != NULL)
        sp_tone_generate (tone, buffer, period);
      else
        for (gsize i = 0; i < period; i++)
          {
            buffer[i] = ring->wav[pos];
            pos = (pos + 1) % ring->wav_len;
          }
      if (!write_period (ring, buffer, period))
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
}

static gpointer
ring_thread (gpointer data)
{
  Ring *ring = data;
  GError *error = NULL;

  if (sp_audio_device_open (ring->sink, ring->rate, &error))
    {
      ring_loop (ring);
      sp_audio_device_close (ring->sink);
    }
  else
    report_failure (ring, error);
  g_atomic_int_set (&ring->ringing, FALSE);
  ring_release (ring);
  return NULL;
}

void
sp_ringer_start (SpRinger *ringer, SpRingerFailedFunc failed, gpointer user_data)
{
  Ring *ring;

  g_return_if_fail (ringer != NULL);

  if (ringer->started)
    return;
  ringer->started = TRUE;
  ring = ringer->ring;
  ring->context = g_main_context_ref_thread_default ();
  ring->failed = failed;
  ring->user_data = user_data;
  g_atomic_int_set (&ring->ringing, TRUE);
  g_thread_unref (g_thread_new ("sp-ringer", ring_thread, g_atomic_rc_box_acquire (ring)));
}

void
sp_ringer_stop (SpRinger *ringer)
{
  g_return_if_fail (ringer != NULL);
  g_atomic_int_set (&ringer->ring->stop, TRUE);
}

gboolean
sp_ringer_is_ringing (SpRinger *ringer)
{
  g_return_val_if_fail (ringer != NULL, FALSE);
  return g_atomic_int_get (&ringer->ring->ringing);
}

void
sp_ringer_free (SpRinger *ringer)
{
  if (ringer == NULL)
    return;
  sp_ringer_stop (ringer);
  ring_release (ringer->ring);
  g_free (ringer);
}
