#pragma once

#include <glib.h>

#include "media/error.h"

G_BEGIN_DECLS

/* RTCP sender and receiver reports (RFC 3550 section 6.4) and the receiver
 * statistics behind them: sequence tracking and loss (appendix A.1, A.3),
 * interarrival jitter (A.8), round-trip time from LSR/DLSR (6.4.1).
 * Built into and parsed from caller buffers; nothing allocates. */

#define SP_RTCP_SR         200
#define SP_RTCP_RR         201
#define SP_RTCP_SDES       202
#define SP_RTCP_BYE        203
#define SP_RTCP_MAX_BLOCKS 31

typedef struct
{
  guint32 ssrc;           /* the source this block reports on */
  guint8 fraction_lost;   /* fixed point /256 since the last report */
  gint32 cumulative_lost; /* 24-bit signed */
  guint32 highest_seq;    /* extended highest sequence number received */
  guint32 jitter;         /* in RTP timestamp units */
  guint32 lsr;            /* middle 32 bits of the last SR's NTP time, 0 if none */
  guint32 dlsr;           /* delay since that SR, 1/65536 s */
} SpRtcpReportBlock;

typedef struct
{
  guint32 ssrc; /* the sender of this report */
  gboolean is_sender_report;
  /* Sender info (SR only). */
  guint64 ntp_timestamp;
  guint32 rtp_timestamp;
  guint32 packet_count;
  guint32 octet_count;
  guint n_blocks;
  SpRtcpReportBlock blocks[SP_RTCP_MAX_BLOCKS];
  /* Set by parse when the compound packet carried a BYE. */
  gboolean bye;
} SpRtcpReport;

/* Parses a compound RTCP packet whose first packet is an SR or RR (RFC 3550
 * 6.1). Other packets (SDES, APP, XR...) are walked over; a BYE sets
 * @report->bye. Every length is checked against @len. */
gboolean sp_rtcp_parse (const guint8 *data, gsize len, SpRtcpReport *report, GError **error);

/* Builds a compound packet: SR (if is_sender_report) or RR with the report
 * blocks, then SDES with @cname (required by RFC 3550 6.1; truncated to
 * 255 bytes), then a BYE if @report->bye. Returns the length, or 0 if
 * @buf_size is too small. */
gsize sp_rtcp_build (guint8 *buf, gsize buf_size, const SpRtcpReport *report, const char *cname);

/* NTP time (RFC 5905: seconds since 1900 in the high 32 bits, fraction in
 * the low) of a g_get_real_time () value. */
guint64 sp_rtcp_ntp_from_real_time (gint64 real_time_us);
/* The middle 32 bits of an NTP timestamp, as LSR carries it. */
static inline guint32
sp_rtcp_ntp_middle (guint64 ntp)
{
  return (guint32) (ntp >> 16);
}

/* Round-trip time in ms from a report block received when the local NTP
 * middle time was @arrival_middle: arrival - LSR - DLSR. Returns -1 when
 * the block has no LSR or the result is negative (clocks or bad data). */
double sp_rtcp_round_trip_ms (guint32 arrival_middle, guint32 lsr, guint32 dlsr);

/* Receiver statistics for one source. */
typedef struct
{
  guint32 ssrc;
  gboolean started;
  guint16 max_seq;
  guint32 cycles; /* count of wraps, shifted left by 16 */
  guint32 base_seq;
  guint32 bad_seq;
  guint32 received;
  guint32 expected_prior;
  guint32 received_prior;
  gint64 transit; /* previous relative transit, RTP units */
  gboolean have_transit;
  double jitter; /* RTP units, the A.8 estimator */
  guint32 clock_rate;
  /* From the last SR heard from this source, for LSR/DLSR. */
  guint32 last_sr_middle;
  gint64 last_sr_arrival_us;
} SpRtpReceiverStats;

void sp_rtp_receiver_stats_init (SpRtpReceiverStats *stats, guint32 clock_rate);
/* Accounts one packet arriving at @arrival_us (monotonic µs). Returns FALSE
 * if it was discarded as a wild jump (a second jump in a row restarts the
 * sequence, as appendix A.1 does). */
gboolean sp_rtp_receiver_stats_update (SpRtpReceiverStats *stats, guint32 ssrc, guint16 seq,
                                       guint32 rtp_timestamp, gint64 arrival_us);
/* Notes an SR from this source, for the LSR/DLSR of our next block. */
void sp_rtp_receiver_stats_sender_report (SpRtpReceiverStats *stats, guint64 ntp_timestamp,
                                          gint64 arrival_us);
/* Fills a report block as of @now_us and starts a new interval for the
 * fraction lost. FALSE when nothing has been received yet. */
gboolean sp_rtp_receiver_stats_fill_block (SpRtpReceiverStats *stats, gint64 now_us,
                                           SpRtcpReportBlock *block);
guint32 sp_rtp_receiver_stats_expected (const SpRtpReceiverStats *stats);
gint32 sp_rtp_receiver_stats_lost (const SpRtpReceiverStats *stats);
double sp_rtp_receiver_stats_jitter_ms (const SpRtpReceiverStats *stats);

G_END_DECLS
