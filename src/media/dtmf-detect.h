#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* In-band DTMF: digits found in the decoded audio by spandsp's dtmf_rx,
 * for peers that send their key tones as sound instead of (or as well as)
 * RFC 4733 events; and the merge that reports a digit arriving both ways
 * only once. Both belong to the media thread. */

typedef struct _SpDtmfDetector SpDtmfDetector;

/* Detects in audio at @rate (8000 or 16000; 16 kHz audio is halved to the
 * 8 kHz dtmf_rx works at, which loses nothing: DTMF tops out at 1633 Hz). */
SpDtmfDetector *sp_dtmf_detector_new (guint rate);
void sp_dtmf_detector_free (SpDtmfDetector *detector);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpDtmfDetector, sp_dtmf_detector_free)

guint sp_dtmf_detector_get_rate (SpDtmfDetector *detector);
/* Forgets a tone in progress (a new stream). */
void sp_dtmf_detector_reset (SpDtmfDetector *detector);

/* Feeds @n samples; writes the digits whose tone began in them (each key
 * press once, '0'-'9', '*', '#', 'A'-'D') to @digits, at most @max, and
 * returns how many. Never allocates. */
guint sp_dtmf_detector_feed (SpDtmfDetector *detector, const gint16 *pcm, gsize n, char *digits,
                             guint max);

typedef enum
{
  SP_DTMF_FROM_EVENT, /* an RFC 4733 telephone-event */
  SP_DTMF_FROM_AUDIO, /* detected in the audio */
} SpDtmfOrigin;

/* How far apart the two reports of one key press may be. The event's
 * first packet arrives as the tone starts; the tone itself is heard after
 * the jitter buffer (at most 200 ms, plus 40 ms of overflow) and found
 * some 40 ms into it; a lost first event packet delays the event by a
 * packet time or two. One second covers all that with room, and is
 * shorter than any real peer's switch between the two ways of sending the
 * same key. */
#define SP_DTMF_MERGE_WINDOW_US G_USEC_PER_SEC
#define SP_DTMF_MERGE_SLOTS     16

typedef struct
{
  char digit;
  SpDtmfOrigin origin;
  gint64 time_us;
} SpDtmfMergeEntry;

/* Recent digits reported one way and not yet seen the other way. */
typedef struct
{
  SpDtmfMergeEntry entries[SP_DTMF_MERGE_SLOTS];
  guint n;
} SpDtmfMerger;

void sp_dtmf_merger_init (SpDtmfMerger *merger);
/* A digit arrived @origin's way at @now_us (monotonic). TRUE: report it.
 * FALSE: it is the other way's report of a key press already reported
 * (the oldest unmatched one of that digit within the window), so each
 * press is reported once however many ways it comes. */
gboolean sp_dtmf_merger_take (SpDtmfMerger *merger, char digit, SpDtmfOrigin origin, gint64 now_us);

G_END_DECLS
