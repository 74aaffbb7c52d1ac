#include "media/codec.h"

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

  g_assert_cmpuint (n, ==, 3);
  g_assert_cmpstr (list[0]->encoding, ==, "G722");
  g_assert_cmpuint (sp_codec_info_for_encoding ("pcmu", 8000)->payload_type, ==, 0);
  g_assert_null (sp_codec_info_for_encoding ("PCMU", 16000));
  g_assert_cmpuint (sp_codec_info_for_encoding ("G722", 8000)->sample_rate, ==, 16000);
  g_assert_null (sp_codec_info_for_payload_type (18));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/codec/pcmu", test_pcmu);
  g_test_add_func ("/codec/pcma", test_pcma);
  g_test_add_func ("/codec/g722", test_g722);
  g_test_add_func ("/codec/lookup", test_lookup);
  return g_test_run ();
}
