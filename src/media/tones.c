#include "media/tones.h"

/* The descriptor's phase rates and durations are set here for rates other
 * than spandsp's fixed 8000 Hz. */
#define SPANDSP_EXPOSE_INTERNAL_STRUCTURES
#include <spandsp.h>
#include <string.h>

/* spandsp computes phase rates and durations for this rate (SAMPLE_RATE). */
#define SPANDSP_RATE 8000

typedef struct
{
  int f1, level1, f2, level2; /* Hz, dBm0; f2 0 = single tone */
  int on_ms, off_ms;
} ToneSpec;

/* Levels in dBm0: -13 per component keeps a dual tone clear of clipping. */
static const ToneSpec specs[] = {
  [SP_TONE_RINGBACK] = { 425, -13, 0, 0, 1000, 4000 },
  [SP_TONE_BUSY] = { 425, -13, 0, 0, 500, 500 },
  [SP_TONE_CONGESTION] = { 425, -13, 0, 0, 250, 250 },
  [SP_TONE_RING] = { 440, -16, 480, -16, 2000, 4000 },
};

struct _SpTone
{
  tone_gen_descriptor_t *descriptor;
  tone_gen_state_t *state;
};

/* spandsp's tone generator assumes 8000 samples a second: a phase rate is
 * a fraction of the 8 kHz sample clock and a duration counts 8 kHz
 * samples. At another rate, scale both so the tone keeps its frequency
 * and cadence (at 16 kHz the phase step per sample halves and every
 * section holds twice as many samples). */
static void
rescale_descriptor (tone_gen_descriptor_t *d, const ToneSpec *spec, guint rate)
{
  float factor = (float) SPANDSP_RATE / (float) rate;

  d->tone[0].phase_rate = dds_phase_rate ((float) spec->f1 * factor);
  if (spec->f2 != 0)
    d->tone[1].phase_rate = dds_phase_rate ((float) spec->f2 * factor);
  d->duration[0] = (int) ((guint) spec->on_ms * rate / 1000);
  d->duration[1] = (int) ((guint) spec->off_ms * rate / 1000);
}

SpTone *
sp_tone_new_for_rate (SpToneKind kind, guint rate)
{
  SpTone *tone;
  const ToneSpec *spec;

  g_return_val_if_fail (rate == 8000 || rate == 16000, NULL);
  if ((guint) kind >= G_N_ELEMENTS (specs))
    kind = SP_TONE_RING;
  spec = &specs[kind];
  tone = g_new0 (SpTone, 1);
  tone->descriptor = tone_gen_descriptor_init (NULL, spec->f1, spec->level1, spec->f2, spec->level2,
                                               spec->on_ms, spec->off_ms, 0, 0, TRUE);
  if (rate != SPANDSP_RATE)
    rescale_descriptor (tone->descriptor, spec, rate);
  tone->state = tone_gen_init (NULL, tone->descriptor);
  return tone;
}

SpTone *
sp_tone_new (SpToneKind kind)
{
  return sp_tone_new_for_rate (kind, SPANDSP_RATE);
}

void
sp_tone_free (SpTone *tone)
{
  if (tone == NULL)
    return;
  tone_gen_free (tone->state);
  tone_gen_descriptor_free (tone->descriptor);
  g_free (tone);
}

void
sp_tone_generate (SpTone *tone, gint16 *out, gsize n)
{
  gsize done = 0;

  /* tone_gen returns fewer samples only when a non-repeating cadence ends;
   * ours repeat, but stay bounded and fill any rest with silence. */
  while (done < n)
    {
      int got = tone_gen (tone->state, out + done, (int) MIN (n - done, 8000));
      if (got <= 0)
        break;
      done += (gsize) got;
    }
  if (done < n)
    memset (out + done, 0, (n - done) * sizeof (gint16));
}
