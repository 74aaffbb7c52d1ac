#include "media/rtcp.h"
#include "media/rtp.h"

#include <string.h>

static const guint8 full_packet[] = {
  0xb2, 0x88, 0x12, 0x34,                         /* V2 P X CC=2, M, PT 8, seq */
  0x00, 0x01, 0x02, 0x03,                         /* timestamp */
  0x11, 0x22, 0x33, 0x44,                         /* SSRC */
  0xaa, 0xaa, 0xaa, 0xaa, 0xbb, 0xbb, 0xbb, 0xbb, /* CSRCs */
  0xbe, 0xde, 0x00, 0x01, 0x01, 0x02, 0x03, 0x04, /* extension, 1 word */
  0x05, 0x06, 0x07,                               /* payload */
  0x00, 0x00, 0x03,                               /* padding */
};

static void
test_rtp_parse_full (void)
{
  SpRtpPacket p;
  g_autoptr (GError) error = NULL;

  g_assert_true (sp_rtp_parse (full_packet, sizeof full_packet, &p, &error));
  g_assert_no_error (error);
  g_assert_true (p.marker);
  g_assert_cmpuint (p.payload_type, ==, 8);
  g_assert_cmpuint (p.seq, ==, 0x1234);
  g_assert_cmpuint (p.timestamp, ==, 0x00010203);
  g_assert_cmpuint (p.ssrc, ==, 0x11223344);
  g_assert_cmpuint (p.csrc_count, ==, 2);
  g_assert_cmpuint (p.csrc[0], ==, 0xaaaaaaaa);
  g_assert_cmpuint (p.csrc[1], ==, 0xbbbbbbbb);
  g_assert_true (p.has_extension);
  g_assert_cmpuint (p.extension_profile, ==, 0xbede);
  g_assert_cmpuint (p.extension_len, ==, 4);
  g_assert_cmpuint (p.extension[3], ==, 0x04);
  g_assert_cmpuint (p.padding_len, ==, 3);
  g_assert_cmpuint (p.payload_len, ==, 3);
  g_assert_cmpmem (p.payload, 3, "\x05\x06\x07", 3);
}

static void
test_rtp_build_roundtrip (void)
{
  guint8 payload[160], buf[SP_RTP_MAX_PACKET];
  SpRtpPacket in = { 0 }, out;
  gsize len;
  static const guint8 expected_header[] = { 0x80, 0x00, 0xff, 0xff, 0xde, 0xad,
                                            0xbe, 0xef, 0x01, 0x02, 0x03, 0x04 };

  for (guint i = 0; i < sizeof payload; i++)
    payload[i] = (guint8) i;
  in.payload_type = 0;
  in.seq = 0xffff;
  in.timestamp = 0xdeadbeef;
  in.ssrc = 0x01020304;
  in.payload = payload;
  in.payload_len = sizeof payload;
  len = sp_rtp_build (buf, sizeof buf, &in);
  g_assert_cmpuint (len, ==, 12 + 160);
  g_assert_cmpmem (buf, 12, expected_header, 12);
  g_assert_true (sp_rtp_parse (buf, len, &out, NULL));
  g_assert_cmpuint (out.seq, ==, 0xffff);
  g_assert_false (out.marker);
  g_assert_cmpmem (out.payload, out.payload_len, payload, sizeof payload);

  /* Too small a buffer: nothing written. */
  g_assert_cmpuint (sp_rtp_build (buf, 100, &in), ==, 0);
  in.payload_type = 128;
  g_assert_cmpuint (sp_rtp_build (buf, sizeof buf, &in), ==, 0);

  /* CSRC + extension survive a round trip. */
  in.payload_type = 9;
  in.marker = TRUE;
  in.csrc_count = 1;
  in.csrc[0] = 77;
  in.has_extension = TRUE;
  in.extension_profile = 0x1000;
  in.extension = (const guint8 *) "abcdefgh";
  in.extension_len = 8;
  len = sp_rtp_build (buf, sizeof buf, &in);
  g_assert_cmpuint (len, ==, 12 + 4 + 4 + 8 + 160);
  g_assert_true (sp_rtp_parse (buf, len, &out, NULL));
  g_assert_true (out.marker);
  g_assert_cmpuint (out.csrc[0], ==, 77);
  g_assert_cmpmem (out.extension, out.extension_len, "abcdefgh", 8);
  g_assert_cmpuint (out.payload_len, ==, 160);
}

static void
expect_malformed (const guint8 *data, gsize len)
{
  SpRtpPacket p;
  g_autoptr (GError) error = NULL;

  g_assert_false (sp_rtp_parse (data, len, &p, &error));
  g_assert_error (error, SP_MEDIA_ERROR, SP_MEDIA_ERROR_MALFORMED);
}

static void
test_rtp_malformed (void)
{
  guint8 buf[64];

  expect_malformed (full_packet, 11);
  memcpy (buf, full_packet, sizeof full_packet);
  buf[0] = (buf[0] & 0x3f) | 0x40; /* version 1 */
  expect_malformed (buf, sizeof full_packet);
  /* 15 CSRCs announced, 2 present. */
  memcpy (buf, full_packet, 12);
  buf[0] = 0x8f;
  expect_malformed (buf, 20);
  /* Padding count 0 and larger than the packet. */
  memcpy (buf, full_packet, sizeof full_packet);
  buf[sizeof full_packet - 1] = 0;
  expect_malformed (buf, sizeof full_packet);
  buf[sizeof full_packet - 1] = 200;
  expect_malformed (buf, sizeof full_packet);
  /* Extension length past the end (padding cleared). */
  buf[0] = 0x92;
  buf[23] = 0x40;
  expect_malformed (buf, sizeof full_packet);
  /* Every truncation of a valid packet either parses within bounds or fails. */
  for (gsize len = 0; len <= sizeof full_packet; len++)
    {
      SpRtpPacket p;
      if (sp_rtp_parse (full_packet, len, &p, NULL))
        g_assert_cmpuint ((gsize) (p.payload - full_packet) + p.payload_len, <=, len);
    }
}

static void
test_rtp_seq_diff (void)
{
  g_assert_cmpint (sp_rtp_seq_diff (1, 65535), ==, 2);
  g_assert_cmpint (sp_rtp_seq_diff (65535, 1), ==, -2);
  g_assert_cmpint (sp_rtp_seq_diff (100, 100), ==, 0);
  g_assert_true (sp_rtp_looks_like_rtcp ((const guint8 *) "\x80\xc8", 2));
  g_assert_false (sp_rtp_looks_like_rtcp (full_packet, sizeof full_packet));
}

static const guint8 sr_packet[] = {
  0x80, 0xc8, 0x00, 0x06, 0x01, 0x02, 0x03, 0x04, /* SR, 28 bytes, SSRC */
  0x83, 0xaa, 0x7e, 0x80, 0x80, 0x00, 0x00, 0x00, /* NTP */
  0x00, 0x00, 0x06, 0x40, 0x00, 0x00, 0x00, 0x0a, /* RTP ts, packets */
  0x00, 0x00, 0x06, 0x40,                         /* octets */
  0x81, 0xca, 0x00, 0x02, 0x01, 0x02, 0x03, 0x04, /* SDES */
  0x01, 0x01, 0x78, 0x00,
};

static const guint8 rr_packet[] = {
  0x81, 0xc9, 0x00, 0x07, 0x05, 0x06, 0x07, 0x08, /* RR, 1 block */
  0x0a, 0x0b, 0x0c, 0x0d, 0x40, 0xff, 0xff, 0xfe, /* SSRC, 25%, -2 */
  0x00, 0x01, 0x00, 0x05, 0x00, 0x00, 0x00, 0x20, /* highest, jitter */
  0x12, 0x34, 0x56, 0x78, 0x00, 0x01, 0x00, 0x00, /* LSR, DLSR 1 s */
  0x81, 0xcb, 0x00, 0x01, 0x05, 0x06, 0x07, 0x08, /* BYE */
};

static void
test_rtcp_parse_vectors (void)
{
  SpRtcpReport r;
  g_autoptr (GError) error = NULL;

  g_assert_true (sp_rtcp_parse (sr_packet, sizeof sr_packet, &r, &error));
  g_assert_no_error (error);
  g_assert_true (r.is_sender_report);
  g_assert_cmpuint (r.ssrc, ==, 0x01020304);
  g_assert_cmpuint (r.ntp_timestamp, ==, G_GUINT64_CONSTANT (0x83aa7e8080000000));
  g_assert_cmpuint (r.rtp_timestamp, ==, 1600);
  g_assert_cmpuint (r.packet_count, ==, 10);
  g_assert_cmpuint (r.octet_count, ==, 1600);
  g_assert_cmpuint (r.n_blocks, ==, 0);
  g_assert_false (r.bye);

  g_assert_true (sp_rtcp_parse (rr_packet, sizeof rr_packet, &r, NULL));
  g_assert_false (r.is_sender_report);
  g_assert_cmpuint (r.n_blocks, ==, 1);
  g_assert_cmpuint (r.blocks[0].ssrc, ==, 0x0a0b0c0d);
  g_assert_cmpuint (r.blocks[0].fraction_lost, ==, 64);
  g_assert_cmpint (r.blocks[0].cumulative_lost, ==, -2);
  g_assert_cmpuint (r.blocks[0].highest_seq, ==, 0x10005);
  g_assert_cmpuint (r.blocks[0].jitter, ==, 32);
  g_assert_cmpuint (r.blocks[0].lsr, ==, 0x12345678);
  g_assert_cmpuint (r.blocks[0].dlsr, ==, 65536);
  g_assert_true (r.bye);

  /* RTT = arrival - LSR - DLSR: arrive 1.5 s after LSR, DLSR 1 s. */
  g_assert_cmpfloat_with_epsilon (sp_rtcp_round_trip_ms (0x12345678 + 0x18000, 0x12345678, 0x10000),
                                  500.0, 0.01);
  g_assert_cmpfloat (sp_rtcp_round_trip_ms (0x12345678, 0x12345678, 0x10000), <, 0);
  g_assert_cmpfloat (sp_rtcp_round_trip_ms (5, 0, 0), <, 0);
}

static void
test_rtcp_malformed (void)
{
  guint8 buf[64];
  SpRtcpReport r;

  for (gsize len = 0; len < sizeof rr_packet; len++)
    if (len != 32) /* the RR alone, without the BYE, is valid */
      g_assert_false (sp_rtcp_parse (rr_packet, len, &r, NULL));
  g_assert_true (sp_rtcp_parse (rr_packet, 32, &r, NULL));
  memcpy (buf, rr_packet, sizeof rr_packet);
  buf[0] = 0x9f; /* 31 blocks claimed */
  g_assert_false (sp_rtcp_parse (buf, sizeof rr_packet, &r, NULL));
  memcpy (buf, sr_packet + 28, 12); /* starts with SDES */
  g_assert_false (sp_rtcp_parse (buf, 12, &r, NULL));
}

static void
test_rtcp_build_roundtrip (void)
{
  SpRtcpReport in = { 0 }, out;
  guint8 buf[512];
  gsize len;

  in.ssrc = 42;
  in.is_sender_report = TRUE;
  in.ntp_timestamp = sp_rtcp_ntp_from_real_time (G_GINT64_CONSTANT (1700000000500000));
  in.rtp_timestamp = 123456;
  in.packet_count = 500;
  in.octet_count = 80000;
  in.n_blocks = 1;
  in.blocks[0] = (SpRtcpReportBlock){ 7, 12, -5, 70000, 99, 0xabcd, 0x1234 };
  in.bye = TRUE;
  len = sp_rtcp_build (buf, sizeof buf, &in, "user@127.0.0.1");
  g_assert_cmpuint (len % 4, ==, 0);
  g_assert_cmpuint (len, ==, 52 + 28 + 8);
  g_assert_true (sp_rtcp_parse (buf, len, &out, NULL));
  g_assert_true (out.is_sender_report);
  g_assert_cmpuint (out.ntp_timestamp, ==, in.ntp_timestamp);
  /* 1700000000.5 s after 1970 = 3908988800.5 s after 1900. */
  g_assert_cmpuint (out.ntp_timestamp >> 32, ==, G_GUINT64_CONSTANT (3908988800));
  g_assert_cmpuint ((guint32) out.ntp_timestamp, ==, 0x80000000u);
  g_assert_cmpint (out.blocks[0].cumulative_lost, ==, -5);
  g_assert_cmpuint (out.blocks[0].highest_seq, ==, 70000);
  g_assert_true (out.bye);
  g_assert_cmpuint (sp_rtcp_build (buf, 40, &in, "x"), ==, 0);
}

static void
test_receiver_stats_loss (void)
{
  SpRtpReceiverStats s;
  SpRtcpReportBlock block;
  guint16 seq = 65500; /* wraps during the run */

  sp_rtp_receiver_stats_init (&s, 8000);
  for (guint i = 0; i < 100; i++)
    if (i % 10 != 5)
      g_assert_true (
          sp_rtp_receiver_stats_update (&s, 99, seq + i, i * 160, (gint64) i * 20000 + 1000000));
  g_assert_cmpuint (sp_rtp_receiver_stats_expected (&s), ==, 100);
  g_assert_cmpint (sp_rtp_receiver_stats_lost (&s), ==, 10);
  g_assert_true (sp_rtp_receiver_stats_fill_block (&s, 3000000, &block));
  g_assert_cmpuint (block.fraction_lost, ==, 25); /* 10/100 * 256 */
  g_assert_cmpint (block.cumulative_lost, ==, 10);
  g_assert_cmpuint (block.highest_seq, ==, 65536 + (guint16) (seq + 99));
  /* Perfectly paced packets: no jitter. */
  g_assert_cmpuint (block.jitter, ==, 0);
  g_assert_cmpuint (block.lsr, ==, 0);
  /* Nothing lost in the next interval. */
  sp_rtp_receiver_stats_update (&s, 99, seq + 100, 100 * 160, 3000000);
  sp_rtp_receiver_stats_fill_block (&s, 3000000, &block);
  g_assert_cmpuint (block.fraction_lost, ==, 0);
  /* A duplicate counts as received (RFC 3550: loss can go negative). */
  sp_rtp_receiver_stats_update (&s, 99, seq + 100, 100 * 160, 3000000);
  g_assert_cmpint (sp_rtp_receiver_stats_lost (&s), ==, 9);
}

static void
test_receiver_stats_jitter (void)
{
  SpRtpReceiverStats s;
  SpRtcpReportBlock block;

  sp_rtp_receiver_stats_init (&s, 8000);
  /* Every other packet 10 ms late: |D| = 80 units each time; the A.8
   * estimator converges on 80 (10 ms). */
  for (guint i = 0; i < 500; i++)
    sp_rtp_receiver_stats_update (&s, 1, i, i * 160, (gint64) i * 20000 + (i % 2) * 10000);
  g_assert_cmpfloat_with_epsilon (sp_rtp_receiver_stats_jitter_ms (&s), 10.0, 0.1);
  sp_rtp_receiver_stats_sender_report (&s, G_GUINT64_CONSTANT (0x0000123456780000), 1000000);
  sp_rtp_receiver_stats_fill_block (&s, 1500000, &block);
  g_assert_cmpuint (block.jitter, >=, 79);
  g_assert_cmpuint (block.jitter, <=, 80);
  g_assert_cmpuint (block.lsr, ==, 0x12345678);
  g_assert_cmpuint (block.dlsr, ==, 32768); /* 0.5 s */
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rtp/parse-full", test_rtp_parse_full);
  g_test_add_func ("/rtp/build-roundtrip", test_rtp_build_roundtrip);
  g_test_add_func ("/rtp/malformed", test_rtp_malformed);
  g_test_add_func ("/rtp/seq-diff", test_rtp_seq_diff);
  g_test_add_func ("/rtcp/parse-vectors", test_rtcp_parse_vectors);
  g_test_add_func ("/rtcp/malformed", test_rtcp_malformed);
  g_test_add_func ("/rtcp/build-roundtrip", test_rtcp_build_roundtrip);
  g_test_add_func ("/rtcp/receiver-stats-loss", test_receiver_stats_loss);
  g_test_add_func ("/rtcp/receiver-stats-jitter", test_receiver_stats_jitter);
  return g_test_run ();
}
