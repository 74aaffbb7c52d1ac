#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* RFC 4733 telephone-events for DTMF digits: payload format, a sender
 * that turns queued digits into the packet sequence (start with marker,
 * growing duration every packet time, three end packets with the same
 * timestamp), and a receiver that reports each digit exactly once however
 * many of its packets arrive, in whatever order. No allocation. */

typedef struct
{
  guint8 event; /* 0-9, 10 = '*', 11 = '#', 12-15 = A-D */
  gboolean end;
  guint8 volume;    /* -dBm0, 0..63 */
  guint16 duration; /* RTP timestamp units */
} SpDtmfEvent;

#define SP_DTMF_PAYLOAD_SIZE 4

/* Parses a telephone-event payload (at least 4 bytes; extra bytes of
 * redundant events are ignored). */
gboolean sp_dtmf_parse (const guint8 *payload, gsize len, SpDtmfEvent *event);
void sp_dtmf_build (guint8 payload[SP_DTMF_PAYLOAD_SIZE], const SpDtmfEvent *event);

/* '0'-'9', '*', '#', 'A'-'D' (case-insensitive) <-> event code; -1 / 0
 * when not a DTMF digit. */
gint sp_dtmf_event_from_char (char digit);
char sp_dtmf_event_to_char (guint8 event);

#define SP_DTMF_QUEUE 64

typedef struct
{
  guint32 packet_units; /* RTP units per packet time */
  guint32 tone_units;   /* tone length */
  guint32 gap_units;    /* silence between digits */
  char queue[SP_DTMF_QUEUE];
  guint queue_head, queue_len;
  /* current event */
  gint state; /* 0 idle, 1 tone, 2 end packets, 3 gap */
  guint8 event;
  guint32 start_ts;
  guint32 duration;
  guint end_sent;
  guint32 gap_left;
} SpDtmfSender;

/* @clock_rate of the telephone-event payload type, @ptime_ms between
 * packets; digits last @tone_ms with @gap_ms between them. */
void sp_dtmf_sender_init (SpDtmfSender *sender, guint clock_rate, guint ptime_ms, guint tone_ms,
                          guint gap_ms);
/* Queues the digits of @digits; FALSE (nothing queued) if one is not a
 * DTMF digit or the queue would overflow. */
gboolean sp_dtmf_sender_queue (SpDtmfSender *sender, const char *digits);
/* Called once per packet time with the timestamp the next audio packet
 * would have. TRUE: send @payload with @marker and @timestamp instead of
 * audio. FALSE: send audio as usual. */
gboolean sp_dtmf_sender_next (SpDtmfSender *sender, guint32 now_ts,
                              guint8 payload[SP_DTMF_PAYLOAD_SIZE], gboolean *marker,
                              guint32 *timestamp);
gboolean sp_dtmf_sender_busy (const SpDtmfSender *sender);

#define SP_DTMF_RECENT 8

typedef struct
{
  guint32 recent_ts[SP_DTMF_RECENT];
  guint n_recent, next_recent;
} SpDtmfReceiver;

void sp_dtmf_receiver_init (SpDtmfReceiver *receiver);
/* Handles one telephone-event packet. Returns the digit when this is the
 * first packet seen of its event (by RTP timestamp), else 0. */
char sp_dtmf_receiver_handle (SpDtmfReceiver *receiver, guint32 timestamp, const guint8 *payload,
                              gsize len);

G_END_DECLS
