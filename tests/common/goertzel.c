#include "goertzel.h"

#include <math.h>

double
goertzel_power (const gint16 *samples, gsize n, guint rate, double freq)
{
  double w = 2.0 * G_PI * freq / rate;
  double coeff = 2.0 * cos (w);
  double s1 = 0, s2 = 0, re, im;

  if (n == 0)
    return 0;
  for (gsize i = 0; i < n; i++)
    {
      double s0 = samples[i] + coeff * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
  re = s1 - s2 * cos (w);
  im = s2 * sin (w);
  /* |X|^2 = (A n / 2)^2 for a sine of amplitude A; scale to A^2 / 2. */
  return 2.0 * (re * re + im * im) / ((double) n * n);
}

double
goertzel_mean_square (const gint16 *samples, gsize n)
{
  double sum = 0;

  for (gsize i = 0; i < n; i++)
    sum += (double) samples[i] * samples[i];
  return n ? sum / n : 0;
}

void
goertzel_compare (const gint16 *samples, gsize n, guint rate, double f1, double f2,
                  double silence_ms, GoertzelVerdict *verdict)
{
  gsize block = rate / 50;

  *verdict = (GoertzelVerdict){ 0 };
  for (gsize pos = 0; pos + block <= n; pos += block)
    {
      double p1 = goertzel_power (samples + pos, block, rate, f1);
      double p2 = goertzel_power (samples + pos, block, rate, f2);

      verdict->blocks++;
      if (goertzel_mean_square (samples + pos, block) < silence_ms)
        verdict->silent++;
      else if (p1 > 10.0 * p2)
        verdict->f1_wins++;
      else if (p2 > 10.0 * p1)
        verdict->f2_wins++;
    }
}

double
goertzel_snr_db (const gint16 *samples, gsize n, guint rate, double freq)
{
  gsize block = rate / 50;
  double signal = 0, noise = 0;
  double w = 2.0 * G_PI * freq / rate;

  for (gsize pos = 0; pos + block <= n; pos += block)
    {
      /* Least-squares fit of a cos + b sin over the block. */
      double cc = 0, ss = 0, cs = 0, xc = 0, xs = 0, a, b, det;
      for (gsize i = 0; i < block; i++)
        {
          double c = cos (w * i), s = sin (w * i), x = samples[pos + i];
          cc += c * c;
          ss += s * s;
          cs += c * s;
          xc += x * c;
          xs += x * s;
        }
      det = cc * ss - cs * cs;
      if (det <= 0)
        continue;
      a = (xc * ss - xs * cs) / det;
      b = (xs * cc - xc * cs) / det;
      for (gsize i = 0; i < block; i++)
        {
          double fit = a * cos (w * i) + b * sin (w * i);
          double r = samples[pos + i] - fit;
          signal += fit * fit;
          noise += r * r;
        }
    }
  if (noise <= 0)
    return 200.0;
  if (signal <= 0)
    return -200.0;
  return 10.0 * log10 (signal / noise);
}

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

double
goertzel_continuity (const gint16 *samples, gsize n, guint rate, double freq, double drop_db)
{
  gsize block = rate / 50, n_blocks = n / block, good = 0;
  g_autofree double *power = NULL;
  g_autofree double *sorted = NULL;
  double median, floor_power;

  if (n_blocks == 0)
    return 0;
  power = g_new (double, n_blocks);
  for (gsize i = 0; i < n_blocks; i++)
    power[i] = goertzel_power (samples + i * block, block, rate, freq);
  sorted = g_memdup2 (power, n_blocks * sizeof (double));
  qsort (sorted, n_blocks, sizeof (double), compare_double);
  median = sorted[n_blocks / 2];
  floor_power = median * pow (10.0, -drop_db / 10.0);
  for (gsize i = 0; i < n_blocks; i++)
    if (power[i] >= floor_power)
      good++;
  return (double) good / n_blocks;
}

void
goertzel_make_tone (gint16 *out, gsize n, guint rate, double freq, double amplitude)
{
  for (gsize i = 0; i < n; i++)
    out[i] = (gint16) lrint (amplitude * sin (2.0 * G_PI * freq * i / rate));
}
