#include "media/tones.h"

#include <spandsp.h>
#include <string.h>

struct _SpTone
{
  tone_gen_descriptor_t *descriptor;
  tone_gen_state_t *state;
};

SpTone *
sp_tone_new (SpToneKind kind)
{
  SpTone *tone = g_new0 (SpTone, 1);

  /* Levels in dBm0: -13 per component keeps a dual tone clear of clipping. */
  switch (kind)
    {
      case SP_TONE_RINGBACK:
        tone->descriptor = tone_gen_descriptor_init (NULL, 425, -13, 0, 0, 1000, 4000, 0, 0, TRUE);
        break;
      case SP_TONE_BUSY:
        tone->descriptor = tone_gen_descriptor_init (NULL, 425, -13, 0, 0, 500, 500, 0, 0, TRUE);
        break;
      case SP_TONE_CONGESTION:
        tone->descriptor = tone_gen_descriptor_init (NULL, 425, -13, 0, 0, 250, 250, 0, 0, TRUE);
        break;
      case SP_TONE_RING:
      default:
        tone->descriptor =
            tone_gen_descriptor_init (NULL, 440, -16, 480, -16, 2000, 4000, 0, 0, TRUE);
        break;
    }
  tone->state = tone_gen_init (NULL, tone->descriptor);
  return tone;
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
