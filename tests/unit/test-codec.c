#include "media/codec.h"

#include <math.h>

#include "../common/goertzel.h"

/* Encode and decode a tone through each codec; the tone must come out at
 * its frequency with a codec-typical SNR, and the sizes must match RFC 3551
 * (G.722: 16 kHz audio, 8 bits per two samples, 8000 Hz RTP clock). */
static void
check_codec (SpCodecId id, double freq, double min_snr_db)
{
  g_autoptr (SpCodec) codec = sp_codec_new (id);
  const SpCodecInfo *info = sp_codec_get_info (codec);
  guint rate = info->sample_rate;
  gsize frame = rate / 50, total = rate; /* 1 s in 20 ms frames */
  g_autofree gint16 *in = g_new (gint16, total);
  g_autofree gint16 *out = g_new0 (gint16, total);
  guint8 payload[400];
  double snr;

  goertzel_make_tone (in, total, rate, freq, 8000);
  for (gsize pos = 0; pos + frame <= total; pos += frame)
    {
      gsize bytes = sp_codec_encode (codec, in + pos, frame, payload, sizeof payload);
      g_assert_cmpuint (bytes, ==, id == SP_CODEC_G722 ? 160 : 160);
      g_assert_cmpuint (sp_codec_samples_for_bytes (codec, bytes), ==, frame);
      g_assert_cmpuint (sp_codec_decode (codec, payload, bytes, out + pos, frame), ==, frame);
    }
  g_assert_cmpuint (sp_codec_rtp_units_for_samples (codec, frame), ==, 160);
  /* Skip the first 100 ms: G.722's adaptive quantiser settles. */
  snr = goertzel_snr_db (out + rate / 10, total - rate / 10, rate, freq);
  g_test_message ("%s %.0f Hz: SNR %.1f dB", info->encoding, freq, snr);
  g_assert_cmpfloat (snr, >, min_snr_db);
  g_assert_cmpfloat (goertzel_power (out + rate / 10, rate / 2, rate, freq), >,
                     100 * goertzel_power (out + rate / 10, rate / 2, rate, freq * 1.7));
}

static void
test_pcmu (void)
{
  /* G.711 gives about 35-38 dB SNR on a -12 dBFS sine. */
  check_codec (SP_CODEC_PCMU, 1000, 30);
}

static void
test_pcma (void)
{
  check_codec (SP_CODEC_PCMA, 440, 30);
}

static void
test_g722 (void)
{
  /* G.722 at 64 kbit/s on a steady tone: well above 20 dB, and 7 kHz
   * audio bandwidth lets a 5 kHz tone through, which G.711 cannot carry. */
  check_codec (SP_CODEC_G722, 1000, 20);
  check_codec (SP_CODEC_G722, 5000, 15);
}

static void
test_lookup (void)
{
  guint n;
  const SpCodecInfo *const *list = sp_codec_info_list (&n);

  g_assert_cmpuint (n, ==, 4);
  /* Our offer order: Opus, G.722, PCMA, PCMU. */
  g_assert_cmpstr (list[0]->encoding, ==, "opus");
  g_assert_cmpstr (list[1]->encoding, ==, "G722");
  g_assert_cmpstr (list[2]->encoding, ==, "PCMA");
  g_assert_cmpstr (list[3]->encoding, ==, "PCMU");
  g_assert_cmpuint (sp_codec_info_for_encoding ("OPUS", 48000)->id, ==, SP_CODEC_OPUS);
  g_assert_null (sp_codec_info_for_encoding ("opus", 16000));
  /* Opus is dynamic: payload type 111 from a peer means what its SDP says. */
  g_assert_null (sp_codec_info_for_payload_type (111));
  g_assert_cmpuint (sp_codec_info_for_id (SP_CODEC_OPUS)->clock_rate, ==, 48000);
  g_assert_cmpuint (sp_codec_info_for_encoding ("pcmu", 8000)->payload_type, ==, 0);
  g_assert_null (sp_codec_info_for_encoding ("PCMU", 16000));
  g_assert_cmpuint (sp_codec_info_for_encoding ("G722", 8000)->sample_rate, ==, 16000);
  g_assert_null (sp_codec_info_for_payload_type (18));
}

/* Encodes 2 s of a 1 kHz tone at @rate through Opus in @ptime_ms packets
 * and checks the tone comes back (after the first 200 ms of settling),
 * the RTP clock runs at 48 kHz, and the decoder's sizes agree. */
static void
check_opus (guint rate, guint ptime_ms, double freq)
{
  g_autoptr (SpCodec) codec = sp_codec_new_for_rate (SP_CODEC_OPUS, rate);
  gsize frame = rate * ptime_ms / 1000, total = 2 * rate;
  g_autofree gint16 *in = g_new (gint16, total);
  g_autofree gint16 *out = g_new0 (gint16, total);
  guint8 payload[960];
  gsize total_bytes = 0;
  double snr;

  g_assert_nonnull (codec);
  g_assert_cmpuint (sp_codec_get_sample_rate (codec), ==, rate);
  g_assert_true (sp_codec_has_plc (codec));
  goertzel_make_tone (in, total, rate, freq, 8000);
  for (gsize pos = 0; pos + frame <= total; pos += frame)
    {
      gsize bytes = sp_codec_encode (codec, in + pos, frame, payload, sizeof payload);
      g_assert_cmpuint (bytes, >, 0);
      total_bytes += bytes;
      g_assert_cmpuint (sp_codec_samples_for_payload (codec, payload, bytes), ==, frame);
      g_assert_cmpuint (sp_codec_decode (codec, payload, bytes, out + pos, frame), ==, frame);
    }
  /* RFC 7587 4.1: 48 kHz units whatever the audio rate. */
  g_assert_cmpuint (sp_codec_rtp_units_for_samples (codec, frame), ==, 48 * ptime_ms);
  snr = goertzel_snr_db (out + rate / 5, total - rate / 5, rate, freq);
  g_test_message ("opus %u Hz, %u ms: %.0f Hz SNR %.1f dB, %.1f kbit/s", rate, ptime_ms, freq, snr,
                  total_bytes * 8.0 / 2 / 1000);
  g_assert_cmpfloat (snr, >, 15);
  /* About our 24 kbit/s, far from the 960-byte cap. */
  g_assert_cmpfloat (total_bytes * 8.0 / 2, <, 40000);
}

static void
test_opus (void)
{
  check_opus (48000, 20, 1000);
  check_opus (16000, 20, 1000);
  check_opus (16000, 10, 1000);
  /* 30 ms is no Opus frame size: three 10 ms frames in one packet. */
  check_opus (16000, 30, 1000);
  check_opus (16000, 60, 1000);
  /* Wideband: a 5 kHz tone, which G.711 cannot carry. */
  check_opus (16000, 20, 5000);
  g_assert_null (sp_codec_new_for_rate (SP_CODEC_OPUS, 44100));
  g_assert_null (sp_codec_new_for_rate (SP_CODEC_G722, 8000));
}

/* Loss concealment: after a steady tone, concealing a 20 ms packet gives
 * audio that goes on at the tone's frequency (not silence); FEC from the
 * next packet, once the encoder expects loss, does the same; an invalid
 * payload is concealed, not decoded into noise or a crash. */
static void
test_opus_plc (void)
{
  const guint rate = 16000;
  g_autoptr (SpCodec) enc = sp_codec_new_for_rate (SP_CODEC_OPUS, rate);
  g_autoptr (SpCodec) dec = sp_codec_new_for_rate (SP_CODEC_OPUS, rate);
  gsize frame = rate / 50;
  g_autofree gint16 *in = g_new (gint16, rate);
  gint16 out[320];
  guint8 payload[960], next[960];
  gsize bytes, next_bytes = 0;
  static const guint8 garbage[] = { 0xff, 0xff, 0xff };

  goertzel_make_tone (in, rate, rate, 1000, 8000);
  sp_codec_set_expected_loss (enc, 20);
  for (gsize pos = 0; pos + 2 * frame <= rate / 2; pos += frame)
    {
      bytes = sp_codec_encode (enc, in + pos, frame, payload, sizeof payload);
      g_assert_cmpuint (sp_codec_decode (dec, payload, bytes, out, frame), ==, frame);
    }
  g_assert_cmpuint (sp_codec_conceal (dec, out, frame), ==, frame);
  g_assert_cmpfloat (goertzel_power (out, frame, rate, 1000), >, 1e5);
  /* An odd length is concealed too (libopus works in 2.5 ms steps). */
  g_assert_cmpuint (sp_codec_conceal (dec, out, 77), ==, 77);

  /* The packet after a lost one carries it again (LBRR). */
  sp_codec_encode (enc, in + rate / 2, frame, payload, sizeof payload);
  next_bytes = sp_codec_encode (enc, in + rate / 2 + frame, frame, next, sizeof next);
  g_assert_cmpuint (sp_codec_decode_fec (dec, next, next_bytes, out, frame), ==, frame);
  g_assert_cmpfloat (goertzel_power (out, frame, rate, 1000), >, 1e6);
  g_assert_cmpuint (sp_codec_decode (dec, next, next_bytes, out, frame), ==, frame);

  /* Not Opus: concealed as one 20 ms frame. */
  g_assert_cmpuint (sp_codec_decode (dec, garbage, sizeof garbage, out, frame), ==, frame);
  g_assert_cmpuint (sp_codec_samples_for_payload (dec, garbage, 0), ==, 0);

  /* G.711 has no concealment of its own: the jitter buffer's covers it. */
  {
    g_autoptr (SpCodec) pcmu = sp_codec_new (SP_CODEC_PCMU);
    g_assert_false (sp_codec_has_plc (pcmu));
    g_assert_cmpuint (sp_codec_conceal (pcmu, out, frame), ==, 0);
  }
}

/* Sample-by-sample SNR of @got against @want, in dB. */
static double
match_db (const gint16 *want, const gint16 *got, gsize n)
{
  double sig = 0, err = 0;

  for (gsize i = 0; i < n; i++)
    {
      sig += (double) want[i] * want[i];
      err += ((double) want[i] - got[i]) * ((double) want[i] - got[i]);
    }
  return 10 * log10 (sig / (err + 1));
}

/* How well a lost 20 ms packet (the 6th) comes back from the next one's
 * FEC, against a decoder that received it: the encoder carries FEC only
 * when told to expect loss (what the peer's RTCP reports). */
static double
fec_match (guint expected_loss)
{
  const guint rate = 16000, frame = 320;
  g_autoptr (SpCodec) enc = sp_codec_new (SP_CODEC_OPUS);
  g_autoptr (SpCodec) ref = sp_codec_new (SP_CODEC_OPUS);
  g_autoptr (SpCodec) dec = sp_codec_new (SP_CODEC_OPUS);
  g_autofree gint16 *in = g_new (gint16, 8 * frame);
  guint8 payload[8][960];
  gsize len[8];
  gint16 want[320], got[320];

  sp_codec_set_expected_loss (enc, expected_loss);
  goertzel_make_tone (in, 8 * frame, rate, 440, 8000);
  for (guint i = 0; i < 8; i++)
    len[i] = sp_codec_encode (enc, in + i * frame, frame, payload[i], sizeof payload[i]);
  for (guint i = 0; i < 5; i++)
    {
      sp_codec_decode (ref, payload[i], len[i], want, frame);
      sp_codec_decode (dec, payload[i], len[i], got, frame);
    }
  sp_codec_decode (ref, payload[5], len[5], want, frame);
  g_assert_cmpuint (sp_codec_decode_fec (dec, payload[6], len[6], got, frame), ==, frame);
  return match_db (want, got, frame);
}

static void
test_opus_fec (void)
{
  double with_fec = fec_match (20), without = fec_match (0);

  g_test_message ("lost packet rebuilt: %.1f dB with FEC, %.1f dB from concealment", with_fec,
                  without);
  g_assert_cmpfloat (with_fec, >, 20);
  g_assert_cmpfloat (with_fec, >, without + 10);
}

/* Through Opus at 16 kHz in 10 ms packets (@low_delay or not): 300 ms of
 * silence, then a 1 kHz tone; returns how late the tone comes out, in
 * samples, and whether every packet was CELT only (RFC 6716 3.1: TOC
 * configurations 16..31). */
static gsize
opus_onset (gboolean low_delay, gboolean *celt_only)
{
  g_autoptr (SpCodec) codec = sp_codec_new_for_rate (SP_CODEC_OPUS, 16000);
  gsize frame = 160, total = 16000, start = 4800;
  g_autofree gint16 *in = g_new0 (gint16, total);
  g_autofree gint16 *out = g_new0 (gint16, total);
  guint8 payload[960];
  gsize at;

  g_assert_true (sp_codec_set_low_delay (codec, low_delay));
  g_assert_true (sp_codec_get_low_delay (codec) == low_delay);
  goertzel_make_tone (in + start, total - start, 16000, 1000, 8000);
  *celt_only = TRUE;
  for (gsize pos = 0; pos + frame <= total; pos += frame)
    {
      gsize bytes = sp_codec_encode (codec, in + pos, frame, payload, sizeof payload);
      g_assert_cmpuint (bytes, >, 0);
      *celt_only = *celt_only && (payload[0] >> 3) >= 16;
      g_assert_cmpuint (sp_codec_decode (codec, payload, bytes, out + pos, frame), ==, frame);
    }
  for (at = 0; at < total && ABS (out[at]) < 2000; at++)
    ;
  g_assert_cmpuint (at, >=, start);
  return at - start;
}

/* The low-delay mode (LAN, 10 ms packets): CELT only, the tone out about
 * 4 ms sooner than in the VoIP mode, and a switch either way mid-stream
 * keeps the tone (the decoder follows). Other codecs have no such mode. */
static void
test_opus_low_delay (void)
{
  g_autoptr (SpCodec) codec = sp_codec_new_for_rate (SP_CODEC_OPUS, 16000);
  g_autoptr (SpCodec) pcmu = sp_codec_new (SP_CODEC_PCMU);
  gsize frame = 160, total = 3 * 16000;
  g_autofree gint16 *in = g_new (gint16, total);
  g_autofree gint16 *out = g_new0 (gint16, total);
  guint8 payload[960];
  gboolean celt_voip, celt_low;
  gsize voip = opus_onset (FALSE, &celt_voip);
  gsize low = opus_onset (TRUE, &celt_low);

  g_test_message ("1 kHz onset through Opus: %.2f ms in VoIP mode (CELT only: %d), %.2f ms in "
                  "low-delay mode (CELT only: %d)",
                  voip / 16.0, celt_voip, low / 16.0, celt_low);
  g_assert_true (celt_low);
  g_assert_false (celt_voip);
  g_assert_cmpuint (low, <=, 16 * 3);
  g_assert_cmpuint (voip, >=, low + 16 * 3);

  g_assert_false (sp_codec_set_low_delay (pcmu, TRUE));
  goertzel_make_tone (in, total, 16000, 1000, 8000);
  for (gsize pos = 0; pos + frame <= total; pos += frame)
    {
      gsize bytes;
      if (pos == 16000 || pos == 2 * 16000)
        g_assert_true (sp_codec_set_low_delay (codec, pos == 16000));
      bytes = sp_codec_encode (codec, in + pos, frame, payload, sizeof payload);
      g_assert_cmpuint (bytes, >, 0);
      g_assert_cmpuint (sp_codec_decode (codec, payload, bytes, out + pos, frame), ==, frame);
    }
  for (guint second = 0; second < 3; second++)
    {
      double snr = goertzel_snr_db (out + second * 16000 + 3200, 16000 - 3200, 16000, 1000);
      g_test_message ("second %u (%s): 1 kHz SNR %.1f dB", second,
                      second == 1 ? "low delay" : "VoIP", snr);
      g_assert_cmpfloat (snr, >, 15);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/codec/pcmu", test_pcmu);
  g_test_add_func ("/codec/pcma", test_pcma);
  g_test_add_func ("/codec/g722", test_g722);
  g_test_add_func ("/codec/lookup", test_lookup);
  g_test_add_func ("/codec/opus", test_opus);
  g_test_add_func ("/codec/opus-plc", test_opus_plc);
  g_test_add_func ("/codec/opus-fec", test_opus_fec);
  g_test_add_func ("/codec/opus-low-delay", test_opus_low_delay);
  return g_test_run ();
}
