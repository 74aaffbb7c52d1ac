#include "media/comfort-noise.h"

#include <math.h>

/* dBov 0: a full-scale square wave. */
#define OVERLOAD_RMS 32767.0

gboolean
sp_comfort_noise_parse (const guint8 *payload, gsize len, guint *level_dbov)
{
  if (payload == NULL || len < 1 || (payload[0] & 0x80) != 0)
    return FALSE;
  *level_dbov = payload[0];
  return TRUE;
}

void
sp_comfort_noise_init (SpComfortNoise *cn, guint32 seed)
{
  cn->state = seed != 0 ? seed : 0x9e3779b9u; /* xorshift never leaves 0 */
  sp_comfort_noise_set_level (cn, SP_COMFORT_NOISE_MAX_LEVEL);
}

void
sp_comfort_noise_set_level (SpComfortNoise *cn, guint level_dbov)
{
  double rms =
      OVERLOAD_RMS * pow (10.0, -(double) MIN (level_dbov, SP_COMFORT_NOISE_MAX_LEVEL) / 20.0);

  /* Uniform noise in [-a, a] has an RMS of a / sqrt (3). Levels above
   * about -5 dBov would clip; no real background is that loud. */
  cn->amplitude = (gint32) lround (MIN (rms * sqrt (3.0), 32767.0));
}

void
sp_comfort_noise_generate (SpComfortNoise *cn, gint16 *out, gsize n)
{
  guint32 x = cn->state;

  for (gsize i = 0; i < n; i++)
    {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      /* The top 16 bits as a signed value in [-32768, 32767], scaled. */
      out[i] = (gint16) (((gint64) (gint32) ((x >> 16) - 32768) * cn->amplitude) / 32768);
    }
  cn->state = x;
}

guint
sp_comfort_noise_level_of (const gint16 *pcm, gsize n)
{
  double sum = 0, db;

  for (gsize i = 0; i < n; i++)
    sum += (double) pcm[i] * pcm[i];
  if (n == 0 || sum <= 0)
    return SP_COMFORT_NOISE_MAX_LEVEL;
  db = -20.0 * log10 (sqrt (sum / (double) n) / OVERLOAD_RMS);
  return (guint) CLAMP (lround (db), 0, SP_COMFORT_NOISE_MAX_LEVEL);
}
