/* SDP offer/answer as the phone does it, and registration timings. */
#include <string.h>

#include "sip/error.h"
#include "sip/sdp.h"
#include "ua/call-media.h"
#include "ua/registration.h"

static const char *
sdp_with (const char *m_line, const char *extra)
{
  static char buf[1024];
  g_snprintf (buf, sizeof buf,
              "v=0\r\no=- 1 1 IN IP4 127.0.0.5\r\ns=-\r\nc=IN IP4 127.0.0.5\r\nt=0 0\r\n%s\r\n%s",
              m_line, extra);
  return buf;
}

static void
test_offer_round_trip (void)
{
  g_autofree char *offer =
      sp_call_media_build_sdp ("127.0.0.101", 40000, 7, 1, SP_SDP_DIRECTION_SENDRECV, NULL);
  SpCallMediaParams p;
  g_autoptr (GError) error = NULL;

  g_assert_nonnull (strstr (offer, "m=audio 40000 RTP/AVP 0 8 9 101"));
  g_assert_nonnull (strstr (offer, "a=rtpmap:101 telephone-event/8000"));
  g_assert_nonnull (strstr (offer, "c=IN IP4 127.0.0.101"));
  g_assert_true (sp_call_media_negotiate ((const guint8 *) offer, strlen (offer), &p, &error));
  g_assert_no_error (error);
  g_assert_cmpint (p.codec, ==, SP_CODEC_PCMU);
  g_assert_cmpint (p.dtmf_pt, ==, 101);
  g_assert_cmpstr (p.remote_address, ==, "127.0.0.101");
  g_assert_cmpuint (p.remote_port, ==, 40000);
  g_assert_cmpint (p.remote_direction, ==, SP_SDP_DIRECTION_SENDRECV);
  g_assert_cmpuint (p.ptime, ==, 20);
}

static void
test_answer_names_one_codec (void)
{
  const char *offer = sdp_with ("m=audio 5004 RTP/AVP 3 8 0 96",
                                "a=rtpmap:96 telephone-event/8000\r\na=sendonly\r\n");
  g_autofree char *answer = NULL;
  SpCallMediaParams p;
  g_autoptr (GError) error = NULL;

  /* The offerer's order wins: PCMA before PCMU; GSM (3) is not ours. */
  g_assert_true (sp_call_media_negotiate ((const guint8 *) offer, strlen (offer), &p, &error));
  g_assert_cmpint (p.codec, ==, SP_CODEC_PCMA);
  g_assert_cmpint (p.dtmf_pt, ==, 96);
  g_assert_cmpint (p.remote_direction, ==, SP_SDP_DIRECTION_SENDONLY);
  answer = sp_call_media_build_sdp ("127.0.0.102", 40002, 9, 1, SP_SDP_DIRECTION_RECVONLY, &p);
  g_assert_nonnull (strstr (answer, "m=audio 40002 RTP/AVP 8 96"));
  g_assert_nonnull (strstr (answer, "a=recvonly"));
}

static void
test_no_common_codec (void)
{
  const char *offer = sdp_with ("m=audio 5004 RTP/AVP 3 18 97",
                                "a=rtpmap:18 G729/8000\r\na=rtpmap:97 opus/48000/2\r\n");
  SpCallMediaParams p;
  g_autoptr (GError) error = NULL;

  g_assert_false (sp_call_media_negotiate ((const guint8 *) offer, strlen (offer), &p, &error));
  g_assert_error (error, SP_SIP_ERROR, 488);
  g_test_message ("%s", error->message);
  /* Both lists, so the user sees why. */
  g_assert_nonnull (strstr (error->message, "GSM, G729, opus"));
  g_assert_nonnull (strstr (error->message, "PCMU, PCMA, G722"));
}

static void
test_bad_sdp (void)
{
  const char *cases[] = { "", "garbage", "v=0\r\n", sdp_with ("m=video 5004 RTP/AVP 31", "") };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      SpCallMediaParams p;
      g_autoptr (GError) error = NULL;
      g_assert_false (
          sp_call_media_negotiate ((const guint8 *) cases[i], strlen (cases[i]), &p, &error));
      g_assert_nonnull (error);
    }
}

static void
test_registration_timing (void)
{
  g_assert_cmpuint (sp_registration_refresh_delay (3600), ==, 3570);
  g_assert_cmpuint (sp_registration_refresh_delay (600), ==, 570);
  g_assert_cmpuint (sp_registration_refresh_delay (60), ==, 30);
  g_assert_cmpuint (sp_registration_refresh_delay (6), ==, 3);
  g_assert_cmpuint (sp_registration_refresh_delay (1), ==, 1);
  g_assert_cmpuint (sp_registration_backoff (1), ==, 5);
  g_assert_cmpuint (sp_registration_backoff (2), ==, 10);
  g_assert_cmpuint (sp_registration_backoff (4), ==, 40);
  g_assert_cmpuint (sp_registration_backoff (7), ==, 300);
  g_assert_cmpuint (sp_registration_backoff (1000), ==, 300);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ua/call-media/offer-round-trip", test_offer_round_trip);
  g_test_add_func ("/ua/call-media/answer-names-one-codec", test_answer_names_one_codec);
  g_test_add_func ("/ua/call-media/no-common-codec", test_no_common_codec);
  g_test_add_func ("/ua/call-media/bad-sdp", test_bad_sdp);
  g_test_add_func ("/ua/registration/timing", test_registration_timing);
  return g_test_run ();
}
