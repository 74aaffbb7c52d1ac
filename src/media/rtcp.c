#include "media/rtcp.h"

#include <string.h>

#define MAX_DROPOUT  3000
#define MAX_MISORDER 100
#define RTP_SEQ_MOD  (1u << 16)
/* Seconds from 1900 (NTP epoch) to 1970 (Unix epoch). */
#define NTP_UNIX_OFFSET G_GUINT64_CONSTANT (2208988800)

static guint32
get32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static void
put32 (guint8 *p, guint32 v)
{
  p[0] = v >> 24;
  p[1] = (v >> 16) & 0xff;
  p[2] = (v >> 8) & 0xff;
  p[3] = v & 0xff;
}

static gboolean
malformed (GError **error, const char *what)
{
  g_set_error (error, SP_MEDIA_ERROR, SP_MEDIA_ERROR_MALFORMED, "Malformed RTCP packet: %s", what);
  return FALSE;
}

static void
parse_block (const guint8 *p, SpRtcpReportBlock *block)
{
  guint32 lost = ((guint32) p[5] << 16) | ((guint32) p[6] << 8) | p[7];

  block->ssrc = get32 (p);
  block->fraction_lost = p[4];
  /* Sign-extend the 24-bit cumulative loss. */
  block->cumulative_lost = (lost & 0x800000) ? (gint32) (lost | 0xff000000u) : (gint32) lost;
  block->highest_seq = get32 (p + 8);
  block->jitter = get32 (p + 12);
  block->lsr = get32 (p + 16);
  block->dlsr = get32 (p + 20);
}

static gboolean
parse_report (const guint8 *p, gsize plen, guint count, guint8 pt, SpRtcpReport *report,
              GError **error)
{
  gsize pos = 8;

  if (plen < 8)
    return malformed (error, "report too short");
  report->ssrc = get32 (p + 4);
  report->is_sender_report = pt == SP_RTCP_SR;
  if (report->is_sender_report)
    {
      if (plen < 28)
        return malformed (error, "sender info past the end");
      report->ntp_timestamp = ((guint64) get32 (p + 8) << 32) | get32 (p + 12);
      report->rtp_timestamp = get32 (p + 16);
      report->packet_count = get32 (p + 20);
      report->octet_count = get32 (p + 24);
      pos = 28;
    }
  if ((plen - pos) / 24 < count)
    return malformed (error, "report blocks past the end");
  report->n_blocks = count;
  for (guint i = 0; i < count; i++, pos += 24)
    parse_block (p + pos, &report->blocks[i]);
  return TRUE;
}

gboolean
sp_rtcp_parse (const guint8 *data, gsize len, SpRtcpReport *report, GError **error)
{
  gsize pos = 0;
  gboolean first = TRUE;

  memset (report, 0, sizeof *report);
  if (len < 8)
    return malformed (error, "shorter than a header");
  while (len - pos >= 4)
    {
      const guint8 *p = data + pos;
      guint count = p[0] & 0x1f;
      guint8 pt = p[1];
      gsize plen = ((gsize) ((p[2] << 8) | p[3]) + 1) * 4;

      if ((p[0] >> 6) != 2)
        return malformed (error, "version is not 2");
      if (plen > len - pos)
        return malformed (error, "length past the end");
      if (first)
        {
          if (pt != SP_RTCP_SR && pt != SP_RTCP_RR)
            return malformed (error, "compound packet does not start with SR or RR");
          if (!parse_report (p, plen, count, pt, report, error))
            return FALSE;
          first = FALSE;
        }
      else if (pt == SP_RTCP_BYE)
        report->bye = TRUE;
      pos += plen;
    }
  if (pos != len)
    return malformed (error, "trailing bytes");
  return TRUE;
}

static void
put_block (guint8 *p, const SpRtcpReportBlock *block)
{
  guint32 lost = (guint32) CLAMP (block->cumulative_lost, -0x800000, 0x7fffff) & 0xffffff;

  put32 (p, block->ssrc);
  p[4] = block->fraction_lost;
  p[5] = (lost >> 16) & 0xff;
  p[6] = (lost >> 8) & 0xff;
  p[7] = lost & 0xff;
  put32 (p + 8, block->highest_seq);
  put32 (p + 12, block->jitter);
  put32 (p + 16, block->lsr);
  put32 (p + 20, block->dlsr);
}

static void
put_header (guint8 *p, guint count, guint8 pt, gsize bytes)
{
  gsize words = bytes / 4 - 1;

  p[0] = 0x80 | (count & 0x1f);
  p[1] = pt;
  p[2] = (words >> 8) & 0xff;
  p[3] = words & 0xff;
}

gsize
sp_rtcp_build (guint8 *buf, gsize buf_size, const SpRtcpReport *report, const char *cname)
{
  gsize cname_len = cname ? MIN (strlen (cname), 255) : 0;
  guint n_blocks = MIN (report->n_blocks, SP_RTCP_MAX_BLOCKS);
  gsize report_len = (report->is_sender_report ? 28 : 8) + 24 * (gsize) n_blocks;
  /* SDES: header, SSRC, CNAME item (type, length, text), end byte, pad to 4. */
  gsize sdes_len = (8 + 2 + cname_len + 1 + 3) / 4 * 4;
  gsize bye_len = report->bye ? 8 : 0;
  gsize pos;

  if (report_len + sdes_len + bye_len > buf_size)
    return 0;

  put_header (buf, n_blocks, report->is_sender_report ? SP_RTCP_SR : SP_RTCP_RR, report_len);
  put32 (buf + 4, report->ssrc);
  pos = 8;
  if (report->is_sender_report)
    {
      put32 (buf + 8, (guint32) (report->ntp_timestamp >> 32));
      put32 (buf + 12, (guint32) report->ntp_timestamp);
      put32 (buf + 16, report->rtp_timestamp);
      put32 (buf + 20, report->packet_count);
      put32 (buf + 24, report->octet_count);
      pos = 28;
    }
  for (guint i = 0; i < n_blocks; i++, pos += 24)
    put_block (buf + pos, &report->blocks[i]);

  memset (buf + pos, 0, sdes_len);
  put_header (buf + pos, 1, SP_RTCP_SDES, sdes_len);
  put32 (buf + pos + 4, report->ssrc);
  buf[pos + 8] = 1; /* CNAME */
  buf[pos + 9] = (guint8) cname_len;
  if (cname_len)
    memcpy (buf + pos + 10, cname, cname_len);
  pos += sdes_len;

  if (report->bye)
    {
      put_header (buf + pos, 1, SP_RTCP_BYE, 8);
      put32 (buf + pos + 4, report->ssrc);
      pos += 8;
    }
  return pos;
}

guint64
sp_rtcp_ntp_from_real_time (gint64 real_time_us)
{
  guint64 secs = (guint64) (real_time_us / G_USEC_PER_SEC) + NTP_UNIX_OFFSET;
  guint64 frac = ((guint64) (real_time_us % G_USEC_PER_SEC) << 32) / G_USEC_PER_SEC;

  return (secs << 32) | frac;
}

double
sp_rtcp_round_trip_ms (guint32 arrival_middle, guint32 lsr, guint32 dlsr)
{
  guint32 rtt;

  if (lsr == 0)
    return -1;
  rtt = arrival_middle - lsr - dlsr;
  /* A "negative" value wraps to a huge one: more than a minute is bogus. */
  if (rtt > 60u * 65536u)
    return -1;
  return rtt * 1000.0 / 65536.0;
}

void
sp_rtp_receiver_stats_init (SpRtpReceiverStats *stats, guint32 clock_rate)
{
  memset (stats, 0, sizeof *stats);
  stats->clock_rate = clock_rate;
}

static void
restart_sequence (SpRtpReceiverStats *stats, guint16 seq)
{
  stats->base_seq = seq;
  stats->max_seq = seq;
  stats->bad_seq = RTP_SEQ_MOD + 1;
  stats->cycles = 0;
  stats->received = 0;
  stats->received_prior = 0;
  stats->expected_prior = 0;
}

/* Appendix A.1 update_seq, without the probation of new sources: a phone
 * call has exactly one expected source. */
static gboolean
update_seq (SpRtpReceiverStats *stats, guint16 seq)
{
  guint16 udelta = seq - stats->max_seq;

  if (udelta < MAX_DROPOUT)
    {
      if (seq < stats->max_seq)
        stats->cycles += RTP_SEQ_MOD;
      stats->max_seq = seq;
    }
  else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER)
    {
      if (seq == stats->bad_seq)
        restart_sequence (stats, seq);
      else
        {
          stats->bad_seq = (seq + 1) & (RTP_SEQ_MOD - 1);
          return FALSE;
        }
    }
  /* else: duplicate or reordered packet, counted as received. */
  stats->received++;
  return TRUE;
}

gboolean
sp_rtp_receiver_stats_update (SpRtpReceiverStats *stats, guint32 ssrc, guint16 seq,
                              guint32 rtp_timestamp, gint64 arrival_us)
{
  gint64 arrival, transit, d;

  if (!stats->started || ssrc != stats->ssrc)
    {
      guint32 rate = stats->clock_rate;
      sp_rtp_receiver_stats_init (stats, rate);
      stats->ssrc = ssrc;
      stats->started = TRUE;
      restart_sequence (stats, seq);
      stats->received = 1;
    }
  else if (!update_seq (stats, seq))
    return FALSE;

  /* A.8: transit in RTP units; the arrival clock's origin cancels out. */
  arrival = arrival_us * (gint64) stats->clock_rate / G_USEC_PER_SEC;
  transit = (gint64) (guint32) (arrival - rtp_timestamp);
  if (stats->have_transit)
    {
      d = (gint32) (guint32) (transit - stats->transit);
      if (d < 0)
        d = -d;
      stats->jitter += (1.0 / 16.0) * ((double) d - stats->jitter);
    }
  stats->transit = transit;
  stats->have_transit = TRUE;
  return TRUE;
}

void
sp_rtp_receiver_stats_sender_report (SpRtpReceiverStats *stats, guint64 ntp_timestamp,
                                     gint64 arrival_us)
{
  stats->last_sr_middle = sp_rtcp_ntp_middle (ntp_timestamp);
  stats->last_sr_arrival_us = arrival_us;
}

guint32
sp_rtp_receiver_stats_expected (const SpRtpReceiverStats *stats)
{
  if (!stats->started)
    return 0;
  return stats->cycles + stats->max_seq - stats->base_seq + 1;
}

gint32
sp_rtp_receiver_stats_lost (const SpRtpReceiverStats *stats)
{
  gint64 lost = (gint64) sp_rtp_receiver_stats_expected (stats) - stats->received;

  return (gint32) CLAMP (lost, -0x800000, 0x7fffff);
}

double
sp_rtp_receiver_stats_jitter_ms (const SpRtpReceiverStats *stats)
{
  return stats->clock_rate ? stats->jitter * 1000.0 / stats->clock_rate : 0;
}

gboolean
sp_rtp_receiver_stats_fill_block (SpRtpReceiverStats *stats, gint64 now_us,
                                  SpRtcpReportBlock *block)
{
  guint32 expected, expected_interval, received_interval;
  gint64 lost_interval;

  memset (block, 0, sizeof *block);
  if (!stats->started || stats->received == 0)
    return FALSE;
  expected = sp_rtp_receiver_stats_expected (stats);
  expected_interval = expected - stats->expected_prior;
  received_interval = stats->received - stats->received_prior;
  stats->expected_prior = expected;
  stats->received_prior = stats->received;
  lost_interval = (gint64) expected_interval - received_interval;

  block->ssrc = stats->ssrc;
  block->fraction_lost = (expected_interval == 0 || lost_interval <= 0)
                             ? 0
                             : (guint8) ((lost_interval << 8) / expected_interval);
  block->cumulative_lost = sp_rtp_receiver_stats_lost (stats);
  block->highest_seq = stats->cycles + stats->max_seq;
  block->jitter = (guint32) stats->jitter;
  if (stats->last_sr_arrival_us)
    {
      block->lsr = stats->last_sr_middle;
      block->dlsr = (guint32) ((now_us - stats->last_sr_arrival_us) * 65536 / G_USEC_PER_SEC);
    }
  return TRUE;
}
