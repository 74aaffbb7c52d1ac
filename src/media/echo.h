#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Acoustic echo cancellation for one call, with noise suppression and
 * automatic gain, by speexdsp (its MDF canceller and its preprocessor with
 * the canceller's state attached, which also suppresses the residual
 * echo). At the call's audio rate (8000 or 16000 Hz), in 10 ms frames (a
 * frame divides every packet time, so packets may change length mid-call
 * without resetting the adaptive filter), with a 200 ms tail.
 *
 * The far-end reference is what was written to the playback device
 * (sp_echo_played); each captured block is cancelled against the part of
 * it that was being heard when the block was captured, so the echo comes
 * after its reference by the acoustic path and the capture latency only.
 * Everything is allocated by sp_echo_new: the per-packet calls allocate
 * nothing. Used by the media thread only. */

typedef struct _SpEcho SpEcho;

#define SP_ECHO_FRAME_MS 10
#define SP_ECHO_TAIL_MS  200

SpEcho *sp_echo_new (guint rate);
void sp_echo_free (SpEcho *echo);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpEcho, sp_echo_free)

guint sp_echo_get_rate (SpEcho *echo);
/* Samples per frame: captured blocks are a multiple of it. */
gsize sp_echo_get_frame_samples (SpEcho *echo);
/* Forgets the reference and what the filter learnt (a new device). */
void sp_echo_reset (SpEcho *echo);
/* @n samples were just written to the playback device. */
void sp_echo_played (SpEcho *echo, const gint16 *pcm, gsize n);
/* @lag when the sink's delay cannot be read (it is not running). */
#define SP_ECHO_LAG_UNKNOWN G_MAXSIZE
/* Cancels the echo in @pcm (@n a multiple of the frame) in place.
 * @lag: how many samples before the end of what was played the first
 * sample of @pcm was captured (the sink's delay plus the captured samples
 * that followed it, read or not), or SP_ECHO_LAG_UNKNOWN. The reference
 * then advances with the capture (silence beyond what was played: an
 * underrun). It is
 * re-aligned, the filter kept, when the delays keep saying it comes too
 * close to its echo, or far too early (a device that stalled or dropped
 * audio). */
void sp_echo_capture (SpEcho *echo, gint16 *pcm, gsize n, gsize lag);
/* Times the reference was re-aligned; for tests and benches. */
guint sp_echo_get_resyncs (SpEcho *echo);

G_END_DECLS
