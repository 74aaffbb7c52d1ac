#pragma once

#include <glib.h>

#include "media/codec.h"

G_BEGIN_DECLS

/* Adaptive jitter buffer with packet loss concealment, for one received
 * audio stream. Packets go in as they arrive (any order, duplicates,
 * late); audio comes out one media tick at a time, always exactly as
 * many samples as asked for.
 *
 * - Packets are kept encoded in fixed slots (no allocation after new) and
 *   decoded in sequence order when played, as stateful codecs need.
 * - The target delay follows the measured jitter: the spread of transit
 *   times over the last ~128 packets, plus one packet time, kept within
 *   [min_ms, max_ms] (20..200 ms by default).
 *   (stats.target_ms). What is steered is the playout delay over the
 *   window's earliest packet (the depth plus the newest packet's age and
 *   lateness, which late or bunched arrivals do not move), to the packet
 *   plus the spread, one get and 2 ms (at least 10 ms beyond the packet),
 *   and one packet more for 10 s after a loss (the loss is then seen at
 *   once, and Opus FEC has the next packet). A loss found only after
 *   waiting for the packet counts the waiting as part of its concealment.
 * - The buffer converges to that delay and follows clock drift by time
 *   scaling: at most one sample in 160 is dropped or repeated, spread over
 *   the period by linear interpolation, so there are no clicks.
 * - A missing packet is concealed (media/plc.h: G.711 Appendix I pitch
 *   repetition, as spandsp does it, scaled to the rate; the codec's own
 *   concealment for Opus, or its in-band FEC when the next packet is here
 *   already); if the buffer runs
 *   dry, PLC fills in without moving the playout point (the delay grows
 *   instead of audio being lost).
 * - Late packets (behind the playout point) and duplicates are dropped.
 * - Comfort noise (RFC 3389): after a CN packet the sender's silence is
 *   filled with noise at the level it gave, until its audio resumes. */

typedef struct _SpJitterBuffer SpJitterBuffer;

typedef enum
{
  SP_JITTER_BUFFER_QUEUED,
  SP_JITTER_BUFFER_DUPLICATE,
  SP_JITTER_BUFFER_LATE,
  SP_JITTER_BUFFER_INVALID, /* empty or oversized payload */
} SpJitterBufferPutResult;

typedef struct
{
  guint64 received; /* queued packets */
  guint64 duplicates;
  guint64 late;
  guint64 lost;             /* packets concealed by PLC (or rebuilt by FEC) */
  guint64 fec_recovered;    /* of those, rebuilt from the next packet's FEC (Opus) */
  guint64 overflow_dropped; /* packets thrown away when the delay exceeded max */
  guint64 underrun_samples; /* samples concealed with the buffer empty */
  guint64 stretched_samples;
  guint64 compressed_samples;
  guint64 comfort_noise_packets; /* CN packets queued (RFC 3389) */
  guint64 comfort_noise_samples; /* samples of comfort noise played */
  guint target_ms;
  guint depth_ms; /* audio buffered right now */
} SpJitterBufferStats;

#define SP_JITTER_BUFFER_SLOTS       64
#define SP_JITTER_BUFFER_MAX_PAYLOAD 960

/* @codec decodes what is played; not owned, must outlive the buffer. */
SpJitterBuffer *sp_jitter_buffer_new (SpCodec *codec, guint min_ms, guint max_ms);
void sp_jitter_buffer_free (SpJitterBuffer *jb);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpJitterBuffer, sp_jitter_buffer_free)

/* Forgets every packet and measurement (new stream, new codec). */
void sp_jitter_buffer_reset (SpJitterBuffer *jb);

/* Queues a packet that arrived at @arrival_us (monotonic µs). */
SpJitterBufferPutResult sp_jitter_buffer_put (SpJitterBuffer *jb, guint16 seq,
                                              guint32 rtp_timestamp, const guint8 *payload,
                                              gsize len, gint64 arrival_us);
/* Queues a comfort noise packet (RFC 3389, media/comfort-noise.h) of
 * level @level_dbov (-dBov): once it is played, the gap until the next
 * audio packet is noise at that level instead of concealment, and so is
 * the silence before playing starts or after an idle reset. */
SpJitterBufferPutResult sp_jitter_buffer_put_comfort_noise (SpJitterBuffer *jb, guint16 seq,
                                                            guint32 rtp_timestamp, guint level_dbov,
                                                            gint64 arrival_us);
/* Notes that @seq carried no audio (an RFC 4733 event): it is skipped
 * when played, instead of being concealed as lost. */
void sp_jitter_buffer_put_skip (SpJitterBuffer *jb, guint16 seq);

/* Produces exactly @n_samples at the codec's sample rate into @out. */
void sp_jitter_buffer_get (SpJitterBuffer *jb, gint16 *out, gsize n_samples);

void sp_jitter_buffer_get_stats (SpJitterBuffer *jb, SpJitterBufferStats *stats);

G_END_DECLS
