#include "media/echo.h"

#include <speex/speex_echo.h>
#include <speex/speex_preprocess.h>
#include <math.h>
#include <string.h>

/* The reference kept: far more than the tail plus the sink's delay. */
#define RING_SAMPLES 32768 /* 2 s at 16 kHz, a power of two */
#define MAX_RATE     16000
#define MAX_FRAME    (MAX_RATE * SP_ECHO_FRAME_MS / 1000)
/* The reference is taken this much earlier than the delays say: a sink
 * whose delay is reported a little short must not put the reference after
 * its echo (which no canceller can remove); it costs as much tail, and
 * more would cost ERLE (speexdsp converges less far on a later echo: 36,
 * 30 and 19 dB at 10, 20 and 30 ms in tests/unit/test-media-echo). */
#define MARGIN_MS 10
/* The reference advances with the capture; the delays re-align it only
 * when they keep saying it is off, as one reading jitters (the sound
 * server's delay reports, a late wake-up; a few ms when settled): soon
 * when it is LATE_MS later than they want (an underrun of the sink delays
 * all that is played after it: the reference would come after the echo,
 * which cannot be cancelled), slowly when it is more than EARLY_MS earlier
 * (dropped capture: tail wasted). While it may be late the canceller is
 * not run: adapting to a reference after its echo would undo what the
 * filter learnt (speexdsp then starts afresh: a second of echo). */
#define LATE_MS      20
#define LATE_FRAMES  3
#define EARLY_MS     50
#define EARLY_FRAMES 20
/* The loudness the gain control aims at (speexdsp's default is 8000,
 * which took a voice at -13 dBFS down 6 dB): a voice at a good level
 * passes within 2 dB at 8 and 16 kHz (test-echo-alsa); a quiet one is
 * raised, by 30 dB at most. */
#define AGC_LEVEL 14000.0f

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
  guint late, early; /* frames in a row the delays said so */
  gint64 off_sum;    /* their drift, summed */
  double settled;    /* the drift on average while it is in bounds */
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
  echo->late = echo->early = 0;
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
realign (SpEcho *echo, gint64 want, gsize n)
{
  echo->late = echo->early = 0;
  echo->off_sum = 0;
  want = MIN (want, (gint64) echo->written - (gint64) n);
  /* Never before what the ring still holds (a first block captured long
   * before anything was played just gets silence as reference). */
  if (want < (gint64) echo->written - (RING_SAMPLES - (gint64) n))
    want = (gint64) echo->written - (RING_SAMPLES - (gint64) n);
  /* Nothing was played that early: start at the first sample. */
  echo->next = (guint64) MAX (want, 0);
  echo->aligned = TRUE;
}

/* Whether the delays keep saying the reference is off (see LATE_MS); while
 * they do not, @settled follows where they put it on average. */
static gboolean
keeps_drifting (SpEcho *echo, gint64 drift)
{
  gboolean late = drift > (gint64) echo->rate * LATE_MS / 1000;
  gboolean early = drift < -(gint64) echo->rate * EARLY_MS / 1000;

  echo->late = late ? echo->late + 1 : 0;
  echo->early = early ? echo->early + 1 : 0;
  if (late || early)
    echo->off_sum += drift;
  else
    {
      echo->off_sum = 0;
      echo->settled += ((double) drift - echo->settled) / 16;
    }
  return echo->late >= LATE_FRAMES || echo->early >= EARLY_FRAMES;
}

/* Points @next at the reference for the next frame of @n samples, from the
 * delays (@lag) when they say it is off; FALSE while there is none yet (the
 * sink has not started). */
static gboolean
align (SpEcho *echo, gsize n, gsize lag)
{
  gint64 want;

  if (lag == SP_ECHO_LAG_UNKNOWN)
    {
      /* Lost in a stall of seconds: the latest played. */
      if (echo->aligned && echo->next + n <= echo->written &&
          echo->written - echo->next > RING_SAMPLES - n)
        realign (echo, (gint64) echo->written - (gint64) n, n);
      return echo->aligned;
    }
  want = wanted_position (echo, lag);
  if (!echo->aligned)
    {
      echo->settled = 0;
      realign (echo, want, n);
    }
  else if (echo->next + n <= echo->written && echo->written - echo->next > RING_SAMPLES - n)
    realign (echo, want + (gint64) lround (echo->settled), n); /* a stall of seconds */
  else if (keeps_drifting (echo, (gint64) echo->next - want))
    {
      /* One stream jumped (an underrun, dropped capture): the reference
       * moves by the jump, which the drift of the frames that saw it
       * measures better than one reading, so the echo stays where the
       * filter learnt it (the filter is kept). */
      gint64 jump =
          (gint64) lround ((double) echo->off_sum / MAX (echo->late, echo->early) - echo->settled);

      echo->resyncs++;
      g_debug ("Echo reference re-aligned by %.1f ms", (double) -jump * 1000.0 / echo->rate);
      realign (echo, (gint64) echo->next - jump, n);
    }
  return TRUE;
}

/* The reference for the next frame, and @next past it. Beyond what was
 * written it is silence: the sink underran, and was silent. */
static void
copy_reference (SpEcho *echo, gint16 *ref)
{
  gsize at = (gsize) (echo->next % RING_SAMPLES);
  gsize k = MIN (echo->frame, RING_SAMPLES - at);

  if (echo->next + echo->frame > echo->written)
    memset (ref, 0, echo->frame * sizeof (gint16));
  else
    {
      memcpy (ref, echo->ring + at, k * sizeof (gint16));
      memcpy (ref + k, echo->ring, (echo->frame - k) * sizeof (gint16));
    }
  echo->next += echo->frame;
}

static gint64
energy (const gint16 *x, gsize n)
{
  gint64 sum = 0;

  for (gsize i = 0; i < n; i++)
    sum += (gint64) x[i] * x[i];
  return sum;
}

void
sp_echo_capture (SpEcho *echo, gint16 *pcm, gsize n, gsize lag)
{
  gint16 ref[MAX_FRAME];

  g_return_if_fail (n % echo->frame == 0);
  for (gsize off = 0; off < n; off += echo->frame)
    {
      gsize frame_lag = lag == SP_ECHO_LAG_UNKNOWN ? lag : off <= lag ? lag - off : 0;

      /* Until a frame has been played, silence is the reference. */
      if (echo->written >= echo->frame && align (echo, echo->frame, frame_lag))
        copy_reference (echo, ref);
      else
        memset (ref, 0, sizeof ref);
      speex_echo_cancellation (echo->echo, pcm + off, ref, echo->out);
      /* Taking the filter's estimate away left more than the microphone
       * had: the echo it expects is not there (a speaker that stalled
       * while we went on writing, a path that changed), and the
       * difference would send the far end its own voice. The microphone
       * goes out as it is; the filter keeps adapting. */
      if (energy (echo->out, echo->frame) > energy (pcm + off, echo->frame))
        memcpy (echo->out, pcm + off, echo->frame * sizeof (gint16));
      speex_preprocess_run (echo->preprocess, echo->out);
      memcpy (pcm + off, echo->out, echo->frame * sizeof (gint16));
    }
}
