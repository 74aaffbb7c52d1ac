#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Packet loss concealment at the stream's own rate (8 or 16 kHz), after
 * the pitch-repetition method of ITU-T G.711 Appendix I as spandsp's
 * plc.c implements it: on a loss, find the pitch period of the last
 * audio by AMDF, repeat that period (overlap-added at its seam and onto
 * the real audio on both ends), fading it to silence over 50 ms.
 *
 * spandsp's own plc_state_t has every constant in 8 kHz samples (pitch
 * 40..120 samples, a 20 ms correlation window, a fade of 1/400 per
 * sample), so at 16 kHz it cannot find a pitch below 133 Hz (most men's
 * voices) and fades in 25 ms. Here every such constant is scaled by the
 * rate, which gives spandsp's numbers at 8 kHz and the same pitch range
 * (66..200 Hz) and fade time at 16 kHz. No allocation after new. */

typedef struct _SpPlc SpPlc;

/* @rate: 8000 or 16000. */
SpPlc *sp_plc_new (guint rate);
void sp_plc_free (SpPlc *plc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpPlc, sp_plc_free)

/* Forgets the history (a new stream). */
void sp_plc_reset (SpPlc *plc);

/* Real audio, in play order: remembered, and after a concealed stretch
 * its start is blended with the synthetic audio (modified in place). */
void sp_plc_receive (SpPlc *plc, gint16 *amp, gsize n);

/* Fills @amp with @n samples of concealment. */
void sp_plc_conceal (SpPlc *plc, gint16 *amp, gsize n);

G_END_DECLS
