#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Call progress tones from spandsp's tone generator, at 8000 Hz or, for
 * a G.722 call's 16 kHz devices, 16000 Hz (spandsp computes for 8 kHz;
 * the generator is rescaled so frequency and cadence stay the same).
 * ETSI/CEPT cadences (ETSI TR 101 041):
 * ringback 425 Hz 1 s on / 4 s off, busy 425 Hz 0.5/0.5 s, congestion
 * (error) 425 Hz 0.25/0.25 s; the ring tone for an incoming call is a
 * 440+480 Hz pair, 2 s on / 4 s off. */

typedef enum
{
  SP_TONE_RINGBACK,
  SP_TONE_BUSY,
  SP_TONE_CONGESTION,
  SP_TONE_RING,
} SpToneKind;

typedef struct _SpTone SpTone;

/* At 8000 Hz. */
SpTone *sp_tone_new (SpToneKind kind);
/* At @rate: 8000 or 16000. */
SpTone *sp_tone_new_for_rate (SpToneKind kind, guint rate);
void sp_tone_free (SpTone *tone);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpTone, sp_tone_free)

/* Fills @out with the next @n samples of the cadence at the tone's rate
 * (repeats forever). */
void sp_tone_generate (SpTone *tone, gint16 *out, gsize n);

G_END_DECLS
