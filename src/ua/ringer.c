#include "config.h"

#include "ua/ringer.h"

#include "media/tones.h"
#include "audio/wav.h"

#define TONE_RATE 8000
/* How long the ringing thread waits for the WAV file before it rings the
 * built-in tone meanwhile: a local file takes a few ms, and a call should
 * not ring late. */
#define LOAD_WAIT_US (300 * 1000)

/* What the ringing thread works on. Shared by the SpRinger, the ringing
 * thread and the file's loading thread (reference counted), so stopping
 * never waits for either: reading the file, opening, writing to and
 * closing the sound device all happen there, and a slow disk or sound
 * server holds up nothing but those threads. */
typedef struct
{
  SpAudioDevice *sink; /* owned; touched by the ringing thread only once started */
  char *wav_path;      /* NULL for the built-in tone */
  gint stop;           /* atomic */
  gint ringing;        /* atomic: TRUE from start until the thread lets the sink go */
  /* The file, as the loading thread leaves it; under @lock. */
  GMutex lock;
  GCond loaded_cond;
  gboolean loaded; /* the loader is done (with @wav or @load_error) */
  gint16 *wav;
  gsize wav_len;
  guint wav_rate;
  GError *load_error;
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
  g_free (ring->wav_path);
  g_free (ring->wav);
  g_clear_error (&ring->load_error);
  g_mutex_clear (&ring->lock);
  g_cond_clear (&ring->loaded_cond);
  g_clear_pointer (&ring->context, g_main_context_unref);
}

static void
ring_release (Ring *ring)
{
  g_atomic_rc_box_release_full (ring, (GDestroyNotify) ring_clear);
}

SpRinger *
sp_ringer_new (SpAudioDevice *sink, const char *wav_path)
{
  SpRinger *ringer;

  g_return_val_if_fail (sink != NULL, NULL);
  g_return_val_if_fail (sp_audio_device_get_direction (sink) == SP_AUDIO_SINK, NULL);

  ringer = g_new0 (SpRinger, 1);
  ringer->ring = g_atomic_rc_box_new0 (Ring);
  g_mutex_init (&ringer->ring->lock);
  g_cond_init (&ringer->ring->loaded_cond);
  ringer->ring->sink = sink;
  if (wav_path != NULL && wav_path[0] != '\0')
    ringer->ring->wav_path = g_strdup (wav_path);
  return ringer;
}

typedef struct
{
  Ring *ring; /* a reference */
  SpRingerFailure what;
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
    ring->failed (failure->what, failure->error, ring->user_data);
  return G_SOURCE_REMOVE;
}

/* Takes @error. */
static void
report_failure (Ring *ring, SpRingerFailure what, GError *error)
{
  Failure *failure = g_new0 (Failure, 1);
  g_autoptr (GSource) source = g_idle_source_new ();

  failure->ring = g_atomic_rc_box_acquire (ring);
  failure->what = what;
  failure->error = error;
  /* A source, not g_main_context_invoke (): that calls right here, on this
   * thread, when the owner's context happens to be free. */
  g_source_set_callback (source, deliver_failure, failure, (GDestroyNotify) failure_free);
  g_source_attach (source, ring->context);
}

/* The loading thread: reads and checks the file, then hands it over. It
 * may block for good (a FIFO nobody writes): it holds only its reference. */
static gpointer
load_thread (gpointer data)
{
  Ring *ring = data;
  g_autofree gint16 *wav = NULL;
  gsize len = 0;
  guint rate = 0;
  GError *error = NULL;

  if (sp_wav_load (ring->wav_path, &rate, &wav, &len, &error) &&
      ((rate != 8000 && rate != 16000) || len == 0))
    g_set_error (&error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_FORMAT,
                 "The ring tone %s must be a non-empty mono WAV file at 8000 or 16000 Hz",
                 ring->wav_path);
  g_mutex_lock (&ring->lock);
  ring->loaded = TRUE;
  if (error == NULL)
    {
      ring->wav = g_steal_pointer (&wav);
      ring->wav_len = len;
      ring->wav_rate = rate;
    }
  ring->load_error = error;
  g_cond_signal (&ring->loaded_cond);
  g_mutex_unlock (&ring->lock);
  ring_release (ring);
  return NULL;
}

/* What the ringing thread plays: the tone or the file's samples, at the
 * rate the sink is open at. */
typedef struct
{
  SpTone *tone; /* the built-in tone, or NULL while the file plays */
  const gint16 *wav;
  gsize wav_len;
  gsize pos;
  guint rate;
  gboolean waiting_for_file;
} Source;

/* Takes the file if the loader is done: TRUE when it changed what plays
 * (the file replaces the tone, or is given up on). Ringing thread only. */
static gboolean
take_file (Ring *ring, Source *src)
{
  GError *error = NULL;
  gboolean have = FALSE;

  g_mutex_lock (&ring->lock);
  if (ring->loaded)
    {
      have = ring->wav != NULL;
      error = g_steal_pointer (&ring->load_error);
    }
  g_mutex_unlock (&ring->lock);
  if (!have && error == NULL)
    return FALSE; /* still loading */
  src->waiting_for_file = FALSE;
  if (error != NULL)
    {
      report_failure (ring, SP_RINGER_FAILED_TONE, error);
      return FALSE;
    }
  /* Only this thread reads the samples once loaded: the loader is done. */
  g_clear_pointer (&src->tone, sp_tone_free);
  src->wav = ring->wav;
  src->wav_len = ring->wav_len;
  src->rate = ring->wav_rate;
  src->pos = 0;
  return TRUE;
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
          report_failure (ring, SP_RINGER_FAILED_DEVICE, error);
          return FALSE;
        }
      frames += done;
      n -= (gsize) done;
      if (n > 0)
        g_usleep (2000);
    }
  return !g_atomic_int_get (&ring->stop);
}

static gboolean
open_sink (Ring *ring, guint rate)
{
  GError *error = NULL;

  if (sp_audio_device_open (ring->sink, rate, &error))
    return TRUE;
  report_failure (ring, SP_RINGER_FAILED_DEVICE, error);
  return FALSE;
}

static void
fill (Source *src, gint16 *buffer, gsize period)
{
  if (src->tone != NULL)
    {
      sp_tone_generate (src->tone, buffer, period);
      return;
    }
  for (gsize i = 0; i < period; i++)
    {
      buffer[i] = src->wav[src->pos];
      src->pos = (src->pos + 1) % src->wav_len;
    }
}

/* Rings until stopped or the sink fails; the sink is open at src->rate on
 * entry and closed on return. */
static void
ring_loop (Ring *ring, Source *src)
{
  gboolean clocked = sp_audio_device_is_clocked (ring->sink);
  gint64 next = g_get_monotonic_time ();
  g_autofree gint16 *buffer = g_new (gint16, SP_AUDIO_PERIOD_FRAMES (16000));

  for (;;)
    {
      gsize period = SP_AUDIO_PERIOD_FRAMES (src->rate);
      guint rate = src->rate;

      if (src->waiting_for_file && take_file (ring, src) && src->rate != rate)
        {
          /* The file came late at another rate than the tone's. */
          sp_audio_device_close (ring->sink);
          if (!open_sink (ring, src->rate))
            return;
          continue;
        }
      fill (src, buffer, period);
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
  sp_audio_device_close (ring->sink);
}

/* Waits a little for the file, so a local one rings from the start. */
static void
wait_for_file (Ring *ring)
{
  gint64 deadline = g_get_monotonic_time () + LOAD_WAIT_US;
  gboolean loaded;

  g_mutex_lock (&ring->lock);
  while (!ring->loaded && !g_atomic_int_get (&ring->stop))
    if (!g_cond_wait_until (&ring->loaded_cond, &ring->lock, deadline))
      break;
  loaded = ring->loaded;
  g_mutex_unlock (&ring->lock);
  if (!loaded && !g_atomic_int_get (&ring->stop))
    report_failure (ring, SP_RINGER_TONE_SLOW,
                    g_error_new (SP_AUDIO_ERROR, SP_AUDIO_ERROR_FAILED,
                                 "The ring tone %s is slow to read; the built-in tone rings "
                                 "until it is there",
                                 ring->wav_path));
}

static gpointer
ring_thread (gpointer data)
{
  Ring *ring = data;
  Source src = { .rate = TONE_RATE };

  if (ring->wav_path != NULL)
    {
      g_thread_unref (g_thread_new ("sp-ringer-load", load_thread, g_atomic_rc_box_acquire (ring)));
      src.waiting_for_file = TRUE;
      wait_for_file (ring);
      take_file (ring, &src);
    }
  if (src.wav == NULL)
    src.tone = sp_tone_new_for_rate (SP_TONE_RING, TONE_RATE);
  if (!g_atomic_int_get (&ring->stop) && open_sink (ring, src.rate))
    ring_loop (ring, &src);
  g_clear_pointer (&src.tone, sp_tone_free);
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
  Ring *ring;

  g_return_if_fail (ringer != NULL);
  ring = ringer->ring;
  g_atomic_int_set (&ring->stop, TRUE);
  /* Wakes a ringing thread still waiting for the file. */
  g_mutex_lock (&ring->lock);
  g_cond_broadcast (&ring->loaded_cond);
  g_mutex_unlock (&ring->lock);
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
