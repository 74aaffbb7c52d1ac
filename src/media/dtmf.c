#include "media/dtmf.h"

#include <string.h>

enum
{
  STATE_IDLE,
  STATE_TONE,
  STATE_END,
  STATE_GAP,
};

/* RFC 4733 2.5.1.4: the final packet is sent three times in all. */
#define END_PACKETS 3
/* -10 dBm0, a usual level for generated DTMF. */
#define VOLUME 10

gboolean
sp_dtmf_parse (const guint8 *payload, gsize len, SpDtmfEvent *event)
{
  if (len < SP_DTMF_PAYLOAD_SIZE)
    return FALSE;
  event->event = payload[0];
  event->end = (payload[1] & 0x80) != 0;
  event->volume = payload[1] & 0x3f;
  event->duration = (guint16) ((payload[2] << 8) | payload[3]);
  return TRUE;
}

void
sp_dtmf_build (guint8 payload[SP_DTMF_PAYLOAD_SIZE], const SpDtmfEvent *event)
{
  payload[0] = event->event;
  payload[1] = (event->end ? 0x80 : 0) | (event->volume & 0x3f);
  payload[2] = event->duration >> 8;
  payload[3] = event->duration & 0xff;
}

gint
sp_dtmf_event_from_char (char digit)
{
  if (digit >= '0' && digit <= '9')
    return digit - '0';
  if (digit == '*')
    return 10;
  if (digit == '#')
    return 11;
  digit = g_ascii_toupper (digit);
  if (digit >= 'A' && digit <= 'D')
    return 12 + digit - 'A';
  return -1;
}

char
sp_dtmf_event_to_char (guint8 event)
{
  static const char chars[] = "0123456789*#ABCD";

  return event < 16 ? chars[event] : 0;
}

void
sp_dtmf_sender_init (SpDtmfSender *sender, guint clock_rate, guint ptime_ms, guint tone_ms,
                     guint gap_ms)
{
  memset (sender, 0, sizeof *sender);
  sender->packet_units = clock_rate * ptime_ms / 1000;
  /* The duration field is 16 bits; a digit is never that long anyway. */
  sender->tone_units = MIN (clock_rate * tone_ms / 1000, 0xffff);
  sender->gap_units = clock_rate * gap_ms / 1000;
}

gboolean
sp_dtmf_sender_queue (SpDtmfSender *sender, const char *digits)
{
  gsize n = strlen (digits);

  if (n > SP_DTMF_QUEUE - sender->queue_len)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (sp_dtmf_event_from_char (digits[i]) < 0)
      return FALSE;
  for (gsize i = 0; i < n; i++)
    {
      sender->queue[(sender->queue_head + sender->queue_len) % SP_DTMF_QUEUE] = digits[i];
      sender->queue_len++;
    }
  return TRUE;
}

gboolean
sp_dtmf_sender_busy (const SpDtmfSender *sender)
{
  return sender->state != STATE_IDLE || sender->queue_len > 0;
}

static void
fill (SpDtmfSender *sender, guint8 *payload, gboolean end, guint32 *timestamp)
{
  SpDtmfEvent ev = { sender->event, end, VOLUME, (guint16) MIN (sender->duration, 0xffff) };

  sp_dtmf_build (payload, &ev);
  *timestamp = sender->start_ts;
}

gboolean
sp_dtmf_sender_next (SpDtmfSender *sender, guint32 now_ts, guint8 payload[SP_DTMF_PAYLOAD_SIZE],
                     gboolean *marker, guint32 *timestamp)
{
  *marker = FALSE;
  switch (sender->state)
    {
      case STATE_GAP:
        if (sender->gap_left > sender->packet_units)
          {
            sender->gap_left -= sender->packet_units;
            return FALSE;
          }
        sender->state = STATE_IDLE;
        return FALSE;
      case STATE_IDLE:
        if (sender->queue_len == 0)
          return FALSE;
        sender->event = (guint8) sp_dtmf_event_from_char (sender->queue[sender->queue_head]);
        sender->queue_head = (sender->queue_head + 1) % SP_DTMF_QUEUE;
        sender->queue_len--;
        sender->start_ts = now_ts;
        sender->duration = sender->packet_units;
        sender->state = STATE_TONE;
        *marker = TRUE;
        fill (sender, payload, FALSE, timestamp);
        return TRUE;
      case STATE_TONE:
        sender->duration += sender->packet_units;
        if (sender->duration < sender->tone_units)
          {
            fill (sender, payload, FALSE, timestamp);
            return TRUE;
          }
        sender->state = STATE_END;
        sender->end_sent = 0;
        G_GNUC_FALLTHROUGH;
      case STATE_END:
        fill (sender, payload, TRUE, timestamp);
        if (++sender->end_sent == END_PACKETS)
          {
            sender->state = sender->gap_units ? STATE_GAP : STATE_IDLE;
            sender->gap_left = sender->gap_units;
          }
        return TRUE;
      default:
        g_assert_not_reached ();
    }
}

void
sp_dtmf_receiver_init (SpDtmfReceiver *receiver)
{
  memset (receiver, 0, sizeof *receiver);
}

char
sp_dtmf_receiver_handle (SpDtmfReceiver *receiver, guint32 timestamp, const guint8 *payload,
                         gsize len)
{
  SpDtmfEvent ev;
  char digit;

  if (!sp_dtmf_parse (payload, len, &ev))
    return 0;
  digit = sp_dtmf_event_to_char (ev.event);
  if (digit == 0)
    return 0;
  for (guint i = 0; i < receiver->n_recent; i++)
    if (receiver->recent_ts[i] == timestamp)
      return 0;
  receiver->recent_ts[receiver->next_recent] = timestamp;
  receiver->next_recent = (receiver->next_recent + 1) % SP_DTMF_RECENT;
  receiver->n_recent = MIN (receiver->n_recent + 1, SP_DTMF_RECENT);
  return digit;
}
