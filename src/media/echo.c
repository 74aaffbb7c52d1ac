#include "media/echo.h"

#include <speex/speex_echo.h>
#include <speex/speex_preprocess.h>
#include <string.h>

/* The reference kept: far more than the tail plus the sink's delay. */
#define RING_SAMPLES 32768 /* 2 s at 16 kHz, a power of two */
#define MAX_RATE     16000
#define MAX_FRAME    (MAX_RATE * SP_ECHO_FRAME_MS / 1000)
/* The reference is taken this much earlier than the delays say: a sink
 * whose delay is reported a little short must not put the reference after
 * its echo (which no canceller can remove); it costs as much tail. */
#define MARGIN_MS 10
/* The loudness the gain control aims at (speexdsp's default is 8000,
 * which took a voice at -13 dBFS down 6 dB): a voice at a good level
 * passes within 2 dB at 8 and 16 kHz (test-echo-alsa); a quiet one is
 * raised, by 30 dB at most. */
#define AGC_LEVEL 14000.0f
/* Drift between reference and capture that re-aligns them, when it lasts
 * DRIFT_FRAMES frames in a row. */
#define RESYNC_MS    40
#define DRIFT_FRAMES 20

struct _SpEcho
{
  SpeexEchoState *echo;
  SpeexPreprocessState *preprocess;
  guint rate;
  gsize frame;
  gint16 ring[RING_SAMPLES];
  guint64 written; /* samples ever played */
  guint64 next;    /* the reference sample for the next captured one */
  gboolean aligned;
  guint drifting; /* frames in a row off by more than RESYNC_MS */
  guint resyncs;
  gint16 out[MAX_FRAME];
};

SpEcho *
sp_echo_new (guint rate)
{
  SpEcho *e;
  float agc_level = AGC_LEVEL;
  spx_int32_t on = 1, srate = (spx_int32_t) rate;

  g_return_val_if_fail (rate >= 8000 && rate <= MAX_RATE, NULL);
  e = g_new0 (SpEcho, 1);
  e->rate = rate;
  e->frame = rate * SP_ECHO_FRAME_MS / 1000;
  e->echo = speex_echo_state_init ((int) e->frame, (int) (rate * SP_ECHO_TAIL_MS / 1000));
  speex_echo_ctl (e->echo, SPEEX_ECHO_SET_SAMPLING_RATE, &srate);
  e->preprocess = speex_preprocess_state_init ((int) e->frame, (int) rate);
  speex_preprocess_ctl (e->preprocess, SPEEX_PREPROCESS_SET_DENOISE, &on);
  speex_preprocess_ctl (e->preprocess, SPEEX_PREPROCESS_SET_AGC, &on);
  speex_preprocess_ctl (e->preprocess, SPEEX_PREPROCESS_SET_AGC_LEVEL, &agc_level);
  speex_preprocess_ctl (e->preprocess, SPEEX_PREPROCESS_SET_ECHO_STATE, e->echo);
  return e;
}

void
sp_echo_free (SpEcho *echo)
{
  if (echo == NULL)
    return;
  speex_preprocess_state_destroy (echo->preprocess);
  speex_echo_state_destroy (echo->echo);
  g_free (echo);
}

guint
sp_echo_get_rate (SpEcho *echo)
{
  return echo->rate;
}

gsize
sp_echo_get_frame_samples (SpEcho *echo)
{
  return echo->frame;
}

guint
sp_echo_get_resyncs (SpEcho *echo)
{
  return echo->resyncs;
}

void
sp_echo_reset (SpEcho *echo)
{
  speex_echo_state_reset (echo->echo);
  echo->written = 0;
  echo->next = 0;
  echo->aligned = FALSE;
  memset (echo->ring, 0, sizeof echo->ring);
}

void
sp_echo_played (SpEcho *echo, const gint16 *pcm, gsize n)
{
  while (n > 0)
    {
      gsize at = (gsize) (echo->written % RING_SAMPLES);
      gsize k = MIN (n, RING_SAMPLES - at);
      memcpy (echo->ring + at, pcm, k * sizeof (gint16));
      echo->written += k;
      pcm += k;
      n -= k;
    }
}

/* Where the reference for a block captured @lag samples before the end of
 * what was played starts; it may lie before the first sample played (the
 * ring holds silence there). */
static gint64
wanted_position (SpEcho *echo, gsize lag)
{
  return (gint64) echo->written - (gint64) lag - (gint64) (echo->rate * MARGIN_MS / 1000);
}

static void
align (SpEcho *echo, gsize n, gsize lag)
{
  gint64 want = wanted_position (echo, lag);
  gint64 drift = (gint64) echo->next - want;
  gint64 limit = echo->rate * RESYNC_MS / 1000;

  /* The reference must be played already and still in the ring. */
  if (echo->aligned && echo->next + n <= echo->written &&
      echo->written - echo->next <= RING_SAMPLES - n)
    {
      /* A delay reading off once (the sound server's delay reports
       * jitter) does not move the reference; one that stays off does. */
      echo->drifting = ABS (drift) > limit ? echo->drifting + 1 : 0;
      if (echo->drifting < DRIFT_FRAMES)
        return;
    }
  echo->drifting = 0;
  /* The filter is kept: it re-adapts to the shifted echo faster than it
   * learns from nothing. */
  if (echo->aligned)
    echo->resyncs++;
  want = MIN (want, (gint64) echo->written - (gint64) n);
  /* Never before what the ring still holds (a first block captured long
   * before anything was played just gets silence as reference). */
  if (want < (gint64) echo->written - (RING_SAMPLES - (gint64) n))
    want = (gint64) echo->written - (RING_SAMPLES - (gint64) n);
  /* Nothing was played that early: start at the first sample. */
  echo->next = (guint64) MAX (want, 0);
  echo->aligned = TRUE;
}

static void
copy_reference (SpEcho *echo, gint16 *ref)
{
  gsize at = (gsize) (echo->next % RING_SAMPLES);
  gsize k = MIN (echo->frame, RING_SAMPLES - at);

  memcpy (ref, echo->ring + at, k * sizeof (gint16));
  memcpy (ref + k, echo->ring, (echo->frame - k) * sizeof (gint16));
  echo->next += echo->frame;
}

void
sp_echo_capture (SpEcho *echo, gint16 *pcm, gsize n, gsize lag)
{
  gint16 ref[MAX_FRAME];

  g_return_if_fail (n % echo->frame == 0);
  for (gsize off = 0; off < n; off += echo->frame)
    {
      /* Until a frame has been played, silence is the reference. */
      if (echo->written < echo->frame)
        memset (ref, 0, sizeof ref);
      else
        {
          align (echo, echo->frame, off <= lag ? lag - off : 0);
          copy_reference (echo, ref);
        }
      speex_echo_cancellation (echo->echo, pcm + off, ref, echo->out);
      speex_preprocess_run (echo->preprocess, echo->out);
      memcpy (pcm + off, echo->out, echo->frame * sizeof (gint16));
    }
}
