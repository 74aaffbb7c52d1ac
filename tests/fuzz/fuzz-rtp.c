/* libFuzzer target for the RTP parser (what every media port and the relay
 * read from the network): a packet that parses is built again and parsed
 * once more, and both parses must agree; its fields also go through the
 * receiver statistics and, as a telephone-event payload, the DTMF parser
 * and receiver, as the media path would use them.
 *
 * The same input is also read as a stream of packets (a length byte, an
 * arrival-delay byte, the packet), each parsed and fed to a jitter buffer
 * that plays 20 ms after each, as a call's receive path does: sequence
 * numbers and timestamps chosen by the sender must never break it. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/codec.h"
#include "media/dtmf.h"
#include "media/jitterbuffer.h"
#include "media/rtcp.h"
#include "media/rtp.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static void
fail (const char *what)
{
  fprintf (stderr, "fuzz-rtp: %s\n", what);
  abort ();
}

/* A rebuilt packet has no padding; everything else must survive. */
static void
check_round_trip (const SpRtpPacket *pkt, size_t size)
{
  gsize cap = size + 4;
  g_autofree guint8 *buf = g_malloc (cap);
  SpRtpPacket again;
  gsize len = sp_rtp_build (buf, cap, pkt);

  if (len == 0)
    fail ("a parsed packet does not build");
  if (len != size - pkt->padding_len)
    fail ("rebuilt length differs");
  if (!sp_rtp_parse (buf, len, &again, NULL))
    fail ("a rebuilt packet does not parse");
  if (again.payload_type != pkt->payload_type || again.marker != pkt->marker ||
      again.seq != pkt->seq || again.timestamp != pkt->timestamp || again.ssrc != pkt->ssrc ||
      again.csrc_count != pkt->csrc_count || again.has_extension != pkt->has_extension ||
      again.extension_profile != pkt->extension_profile ||
      again.extension_len != pkt->extension_len || again.payload_len != pkt->payload_len ||
      again.padding_len != 0)
    fail ("fields differ after the round trip");
  if (memcmp (again.csrc, pkt->csrc, sizeof again.csrc) != 0)
    fail ("CSRCs differ after the round trip");
  if (pkt->extension_len != 0 && memcmp (again.extension, pkt->extension, pkt->extension_len) != 0)
    fail ("extension differs after the round trip");
  if (pkt->payload_len != 0 && memcmp (again.payload, pkt->payload, pkt->payload_len) != 0)
    fail ("payload differs after the round trip");
}

static void
run_stream (const guint8 *data, size_t size)
{
  static const SpCodecId codecs[] = { SP_CODEC_PCMU, SP_CODEC_PCMA, SP_CODEC_G722 };
  SpCodec *codec;
  SpJitterBuffer *jb;
  SpJitterBufferStats stats;
  gint16 out[320]; /* 20 ms at 16 kHz */
  gint64 now = 1000000;
  gsize pos = 1;

  if (size < 1)
    return;
  codec = sp_codec_new (codecs[data[0] % G_N_ELEMENTS (codecs)]);
  jb = sp_jitter_buffer_new (codec, 20, 200);
  while (size - pos >= 2)
    {
      gsize len = MIN ((gsize) data[pos], size - pos - 2);
      const guint8 *packet = data + pos + 2;
      SpRtpPacket pkt;

      now += (gint64) data[pos + 1] * 1000;
      if (sp_rtp_parse (packet, len, &pkt, NULL))
        {
          if (pkt.payload_type == 101)
            sp_jitter_buffer_put_skip (jb, pkt.seq);
          else
            (void) sp_jitter_buffer_put (jb, pkt.seq, pkt.timestamp, pkt.payload, pkt.payload_len,
                                         now);
        }
      sp_jitter_buffer_get (jb, out, sp_codec_get_info (codec)->sample_rate == 16000 ? 320 : 160);
      pos += 2 + len;
    }
  sp_jitter_buffer_get_stats (jb, &stats);
  if (stats.target_ms > 200)
    fail ("the jitter buffer's target left its bounds");
  sp_jitter_buffer_free (jb);
  sp_codec_free (codec);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  static SpRtpReceiverStats stats;
  static SpDtmfReceiver dtmf;
  static gboolean initialized;
  SpRtpPacket pkt;
  SpDtmfEvent event;
  SpRtcpReportBlock block;

  if (!initialized)
    {
      /* Kept across inputs so that sequences of packets are explored. */
      sp_rtp_receiver_stats_init (&stats, 8000);
      sp_dtmf_receiver_init (&dtmf);
      initialized = TRUE;
    }
  run_stream (data, size);
  (void) sp_rtp_looks_like_rtcp (data, size);
  if (!sp_rtp_parse (data, size, &pkt, NULL))
    return 0;
  if (pkt.payload > data + size || pkt.payload_len > size ||
      (gsize) (pkt.payload - data) + pkt.payload_len > size)
    fail ("payload outside the input");
  if (pkt.has_extension &&
      (pkt.extension < data || (gsize) (pkt.extension - data) + pkt.extension_len > size))
    fail ("extension outside the input");
  check_round_trip (&pkt, size);

  (void) sp_rtp_receiver_stats_update (&stats, pkt.ssrc, pkt.seq, pkt.timestamp,
                                       (gint64) pkt.timestamp * 125);
  (void) sp_rtp_receiver_stats_expected (&stats);
  (void) sp_rtp_receiver_stats_lost (&stats);
  (void) sp_rtp_receiver_stats_jitter_ms (&stats);
  (void) sp_rtp_receiver_stats_fill_block (&stats, (gint64) pkt.timestamp * 125 + 1, &block);

  if (sp_dtmf_parse (pkt.payload, pkt.payload_len, &event) && event.event > 15 &&
      sp_dtmf_event_to_char (event.event) != 0)
    fail ("a DTMF event above 15 names a digit");
  (void) sp_dtmf_receiver_handle (&dtmf, pkt.timestamp, pkt.payload, pkt.payload_len);
  return 0;
}
