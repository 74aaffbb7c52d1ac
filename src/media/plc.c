#include "media/plc.h"

#include <math.h>
#include <string.h>

/* Constants at 8 kHz (G.711 Appendix I, as spandsp has them), scaled by
 * rate / 8000. */
#define PITCH_MIN_8K        40      /* shortest period: 200 Hz */
#define PITCH_MAX_8K        120     /* longest period: 66 Hz */
#define CORRELATION_SPAN_8K 160     /* 20 ms compared when finding the pitch */
#define FADE_PER_SAMPLE_8K  0.0025f /* silent after 400 samples: 50 ms */
#define MAX_SCALE           2
#define HISTORY_MAX         (MAX_SCALE * (CORRELATION_SPAN_8K + PITCH_MAX_8K))
#define PITCH_BUF_MAX       (MAX_SCALE * PITCH_MAX_8K)

struct _SpPlc
{
  guint scale;
  gsize pitch_min, pitch_max, span, history_len;
  float fade;

  gint16 history[HISTORY_MAX]; /* the last history_len samples played */
  float pitchbuf[PITCH_BUF_MAX];
  gsize pitch;        /* period of the repeated cycle */
  gsize pitch_offset; /* where in pitchbuf the next sample comes from */
  gsize missing;      /* samples concealed since the last real audio */
};

SpPlc *
sp_plc_new (guint rate)
{
  SpPlc *plc;

  g_return_val_if_fail (rate == 8000 || rate == 16000, NULL);
  plc = g_new0 (SpPlc, 1);
  plc->scale = rate / 8000;
  plc->pitch_min = PITCH_MIN_8K * plc->scale;
  plc->pitch_max = PITCH_MAX_8K * plc->scale;
  plc->span = CORRELATION_SPAN_8K * plc->scale;
  plc->history_len = plc->span + plc->pitch_max;
  plc->fade = FADE_PER_SAMPLE_8K / (float) plc->scale;
  sp_plc_reset (plc);
  return plc;
}

void
sp_plc_free (SpPlc *plc)
{
  g_free (plc);
}

void
sp_plc_reset (SpPlc *plc)
{
  memset (plc->history, 0, sizeof plc->history);
  memset (plc->pitchbuf, 0, sizeof plc->pitchbuf);
  plc->pitch = plc->pitch_min;
  plc->pitch_offset = 0;
  plc->missing = 0;
}

static gint16
saturate (float v)
{
  return (gint16) CLAMP (lrintf (v), G_MININT16, G_MAXINT16);
}

static void
save_history (SpPlc *plc, const gint16 *amp, gsize n)
{
  gsize len = plc->history_len;

  if (n >= len)
    {
      memcpy (plc->history, amp + n - len, len * sizeof (gint16));
      return;
    }
  memmove (plc->history, plc->history + n, (len - n) * sizeof (gint16));
  memcpy (plc->history + len - n, amp, n * sizeof (gint16));
}

/* The period (pitch_min..pitch_max samples) at which the last span of the
 * history best repeats: the smallest average magnitude difference. */
static gsize
find_pitch (const SpPlc *plc)
{
  const gint16 *buf = plc->history + plc->history_len - plc->span - plc->pitch_max;
  guint64 best = G_MAXUINT64;
  gsize pitch = plc->pitch_min;

  for (gsize p = plc->pitch_min; p <= plc->pitch_max; p++)
    {
      guint64 acc = 0;
      for (gsize j = 0; j < plc->span; j++)
        acc += (guint64) ABS ((gint) buf[p + j] - (gint) buf[j]);
      if (acc < best)
        {
          best = acc;
          pitch = p;
        }
    }
  return pitch;
}

/* One cycle of the last pitch period, its last quarter cross-faded with
 * the cycle before so that repeating it has no seam. */
static void
build_cycle (SpPlc *plc)
{
  const gint16 *h = plc->history + plc->history_len;
  gsize overlap = plc->pitch / 4, i;
  float step = 1.0f / (float) overlap, w = step;

  for (i = 0; i < plc->pitch - overlap; i++)
    plc->pitchbuf[i] = h[(gssize) i - (gssize) plc->pitch];
  for (; i < plc->pitch; i++, w += step)
    plc->pitchbuf[i] = (float) h[(gssize) i - (gssize) plc->pitch] * (1.0f - w) +
                       (float) h[(gssize) i - 2 * (gssize) plc->pitch] * w;
}

void
sp_plc_conceal (SpPlc *plc, gint16 *amp, gsize n)
{
  float gain = 1.0f;
  gsize i = 0;

  if (plc->missing == 0)
    {
      gsize overlap;
      float step, w_new, w_old;

      plc->pitch = find_pitch (plc);
      build_cycle (plc);
      /* Blend the first quarter period into the real audio's time-reversed
       * tail, which joins it without delaying anything. */
      overlap = MIN (plc->pitch / 4, n);
      step = 1.0f / (float) (plc->pitch / 4);
      w_new = step;
      w_old = 1.0f - step;
      for (; i < overlap; i++)
        {
          amp[i] =
              saturate (w_old * plc->history[plc->history_len - 1 - i] + w_new * plc->pitchbuf[i]);
          w_new += step;
          w_old = MAX (w_old - step, 0.0f);
        }
      plc->pitch_offset = i % plc->pitch;
    }
  else
    gain = 1.0f - (float) plc->missing * plc->fade;
  for (; gain > 0.0f && i < n; i++)
    {
      amp[i] = saturate (plc->pitchbuf[plc->pitch_offset] * gain);
      gain -= plc->fade;
      if (++plc->pitch_offset >= plc->pitch)
        plc->pitch_offset = 0;
    }
  for (; i < n; i++)
    amp[i] = 0;
  plc->missing += n;
  save_history (plc, amp, n);
}

void
sp_plc_receive (SpPlc *plc, gint16 *amp, gsize n)
{
  if (plc->missing > 0)
    {
      /* Cross-fade from the synthetic cycle (at its faded gain) into the
       * real audio over a quarter period. */
      gsize overlap = MIN (plc->pitch / 4, n);
      float gain = MAX (1.0f - (float) plc->missing * plc->fade, 0.0f);
      float step = 1.0f / (float) MAX (overlap, 1);
      float w_new = step, w_old = (1.0f - step) * gain;

      for (gsize i = 0; i < overlap; i++)
        {
          amp[i] = saturate (w_old * plc->pitchbuf[plc->pitch_offset] + w_new * (float) amp[i]);
          if (++plc->pitch_offset >= plc->pitch)
            plc->pitch_offset = 0;
          w_new += step;
          w_old = MAX (w_old - step * gain, 0.0f);
        }
      plc->missing = 0;
    }
  save_history (plc, amp, n);
}
