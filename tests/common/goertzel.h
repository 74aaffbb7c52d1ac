#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Tone analysis for tests: codecs and PLC change samples, so tests check
 * audio by frequency, never by bytes. Blocks are 20 ms unless said. */

/* Power of the @freq component of @n samples, scaled so that a sine of
 * amplitude A gives A*A/2 (the mean square of the sine). */
double goertzel_power (const gint16 *samples, gsize n, guint rate, double freq);

/* Total mean square of @n samples. */
double goertzel_mean_square (const gint16 *samples, gsize n);

typedef struct
{
  guint blocks;  /* 20 ms blocks looked at */
  guint silent;  /* blocks below the silence floor */
  guint f1_wins; /* blocks where f1 is at least 10 dB above f2 */
  guint f2_wins;
} GoertzelVerdict;

/* Which of @f1 / @f2 dominates in each 20 ms block. Blocks with a mean
 * square below @silence_ms (e.g. 1e4: about -40 dBFS) count as silent. */
void goertzel_compare (const gint16 *samples, gsize n, guint rate, double f1, double f2,
                       double silence_ms, GoertzelVerdict *verdict);

/* SNR in dB of a received tone against a clean tone of @freq: per 20 ms
 * block, the best-fitting sine at @freq (amplitude and phase) is the
 * signal and what remains is noise; the result is total signal power over
 * total noise power. Every block counts, so gaps and PLC artefacts lower
 * it. */
double goertzel_snr_db (const gint16 *samples, gsize n, guint rate, double freq);

/* Fraction (0..1) of 20 ms blocks whose @freq power is within @drop_db of
 * the median block's: how continuous the tone is. */
double goertzel_continuity (const gint16 *samples, gsize n, guint rate, double freq,
                            double drop_db);

/* Fills @out with a sine of @freq at @amplitude. */
void goertzel_make_tone (gint16 *out, gsize n, guint rate, double freq, double amplitude);

G_END_DECLS
