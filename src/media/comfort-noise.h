#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Comfort noise (RFC 3389): a peer that stops sending audio in silence
 * (voice activity detection) sends a CN packet saying how loud its
 * background is, and the receiver plays noise at that level until audio
 * comes back, instead of dead silence or a concealment that wanders.
 *
 * The payload is one byte, the noise level as -dBov (0..127; dBov is
 * relative to the overload point of the system: a full-scale square wave,
 * RMS 32767 for 16-bit audio), optionally followed by reflection
 * coefficients of a spectral model. The spectrum is not modelled here:
 * the noise is white at the level given (RFC 3389 3.2 lets a receiver
 * ignore the coefficients). */

/* CN's static payload type (RFC 3551: CN/8000). */
#define SP_COMFORT_NOISE_PT 13
/* The quietest level RFC 3389 can express, -127 dBov. */
#define SP_COMFORT_NOISE_MAX_LEVEL 127

/* The level (-dBov) of a CN payload of @len bytes: FALSE when it is empty
 * or its first byte has the reserved top bit set. The coefficients after
 * it are not read (any length is fine). */
gboolean sp_comfort_noise_parse (const guint8 *payload, gsize len, guint *level_dbov);

/* A noise generator: no allocation, for the media thread. */
typedef struct
{
  guint32 state;    /* xorshift32 */
  gint32 amplitude; /* of the uniform noise: RMS * sqrt (3) */
} SpComfortNoise;

void sp_comfort_noise_init (SpComfortNoise *cn, guint32 seed);
/* The level to generate, -dBov (0..127, larger is clamped). */
void sp_comfort_noise_set_level (SpComfortNoise *cn, guint level_dbov);
/* @n samples of white noise at the level set into @out. */
void sp_comfort_noise_generate (SpComfortNoise *cn, gint16 *out, gsize n);

/* The level, -dBov, of @n samples: for a sender's CN packet. */
guint sp_comfort_noise_level_of (const gint16 *pcm, gsize n);

G_END_DECLS
