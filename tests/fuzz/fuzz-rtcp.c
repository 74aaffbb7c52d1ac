/* libFuzzer target for the RTCP compound-packet parser (what the media
 * ports and the relay read on the RTCP port or muxed with RTP): a report
 * that parses is built again and parsed once more, and the two must agree;
 * its blocks go through the round-trip computation as the session does. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/rtcp.h"
#include "media/rtp.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static void
fail (const char *what)
{
  fprintf (stderr, "fuzz-rtcp: %s\n", what);
  abort ();
}

static gboolean
blocks_equal (const SpRtcpReportBlock *a, const SpRtcpReportBlock *b)
{
  return a->ssrc == b->ssrc && a->fraction_lost == b->fraction_lost &&
         a->cumulative_lost == b->cumulative_lost && a->highest_seq == b->highest_seq &&
         a->jitter == b->jitter && a->lsr == b->lsr && a->dlsr == b->dlsr;
}

static void
check_round_trip (const SpRtcpReport *report)
{
  /* Largest build: SR, 31 blocks, SDES with a 255-byte CNAME, BYE. */
  guint8 buf[28 + 24 * SP_RTCP_MAX_BLOCKS + 268 + 8];
  SpRtcpReport again;
  gsize len = sp_rtcp_build (buf, sizeof buf, report, "fuzz@127.0.0.1");

  if (len == 0)
    fail ("a parsed report does not build");
  if (!sp_rtcp_parse (buf, len, &again, NULL))
    fail ("a rebuilt report does not parse");
  if (again.ssrc != report->ssrc || again.is_sender_report != report->is_sender_report ||
      again.n_blocks != report->n_blocks || again.bye != report->bye)
    fail ("report differs after the round trip");
  if (report->is_sender_report &&
      (again.ntp_timestamp != report->ntp_timestamp ||
       again.rtp_timestamp != report->rtp_timestamp || again.packet_count != report->packet_count ||
       again.octet_count != report->octet_count))
    fail ("sender info differs after the round trip");
  for (guint i = 0; i < report->n_blocks; i++)
    if (!blocks_equal (&again.blocks[i], &report->blocks[i]))
      fail ("a report block differs after the round trip");
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  SpRtcpReport report;

  (void) sp_rtp_looks_like_rtcp (data, size);
  if (!sp_rtcp_parse (data, size, &report, NULL))
    return 0;
  if (report.n_blocks > SP_RTCP_MAX_BLOCKS)
    fail ("more report blocks than the array holds");
  check_round_trip (&report);
  if (report.is_sender_report)
    {
      /* As the session notes a peer's SR for its next LSR/DLSR. */
      SpRtpReceiverStats stats;
      SpRtcpReportBlock block;

      sp_rtp_receiver_stats_init (&stats, 8000);
      (void) sp_rtp_receiver_stats_update (&stats, report.ssrc, 1, report.rtp_timestamp, 1000);
      sp_rtp_receiver_stats_sender_report (&stats, report.ntp_timestamp, 2000);
      if (!sp_rtp_receiver_stats_fill_block (&stats, 3000, &block))
        fail ("no report block after a packet");
      if (block.lsr != sp_rtcp_ntp_middle (report.ntp_timestamp))
        fail ("LSR is not the middle of the SR's NTP time");
    }
  for (guint i = 0; i < report.n_blocks; i++)
    {
      double rtt = sp_rtcp_round_trip_ms (report.blocks[i].lsr + report.blocks[i].dlsr + 1,
                                          report.blocks[i].lsr, report.blocks[i].dlsr);
      if (report.blocks[i].lsr != 0 && rtt < 0)
        fail ("a consistent LSR/DLSR gives no round trip");
    }
  return 0;
}
