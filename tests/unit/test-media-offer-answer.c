/* SDP offer/answer (RFC 3264) for the audio stream, with offers as real
 * peers send them. */

#include "media/error.h"
#include "media/offer-answer.h"
#include "sip/error.h"

#include <string.h>

/* baresip 1.x calling with opus first, rtcp-mux and the a=ssrc/label
 * lines it adds. */
static const char baresip_offer[] = "v=0\r\n"
                                    "o=- 1853434006 2149428212 IN IP4 127.0.0.2\r\n"
                                    "s=-\r\n"
                                    "c=IN IP4 127.0.0.2\r\n"
                                    "t=0 0\r\n"
                                    "a=tool:baresip 1.0.0\r\n"
                                    "m=audio 20372 RTP/AVP 96 9 0 8 101\r\n"
                                    "b=AS:77\r\n"
                                    "a=rtpmap:96 opus/48000/2\r\n"
                                    "a=fmtp:96 stereo=1;sprop-stereo=1\r\n"
                                    "a=rtpmap:9 G722/8000\r\n"
                                    "a=rtpmap:0 PCMU/8000\r\n"
                                    "a=rtpmap:8 PCMA/8000\r\n"
                                    "a=rtpmap:101 telephone-event/8000\r\n"
                                    "a=fmtp:101 0-15\r\n"
                                    "a=rtcp-mux\r\n"
                                    "a=sendrecv\r\n"
                                    "a=label:1\r\n"
                                    "a=ssrc:2468523151 cname:c5f2f0b2-3e1f-4b9a\r\n"
                                    "a=rtcp-rsize\r\n"
                                    "a=ptime:20\r\n";

/* Yate 2/3 (the seed's era): static and dynamic codecs, two iLBC modes,
 * no ptime, no direction, bare LF line ends as some builds wrote. */
static const char yate_offer[] = "v=0\n"
                                 "o=yate 1285580424 1285580424 IN IP4 127.0.0.3\n"
                                 "s=SIP Call\n"
                                 "c=IN IP4 127.0.0.3\n"
                                 "t=0 0\n"
                                 "m=audio 23306 RTP/AVP 0 8 3 98 97 101\n"
                                 "a=rtpmap:0 PCMU/8000\n"
                                 "a=rtpmap:8 PCMA/8000\n"
                                 "a=rtpmap:3 GSM/8000\n"
                                 "a=rtpmap:98 iLBC/8000\n"
                                 "a=fmtp:98 mode=20\n"
                                 "a=rtpmap:97 iLBC/8000\n"
                                 "a=fmtp:97 mode=30\n"
                                 "a=rtpmap:101 telephone-event/8000\n";

/* Yate configured for low bandwidth only. */
static const char yate_gsm_ilbc_offer[] = "v=0\r\n"
                                          "o=yate 1285580500 1285580500 IN IP4 127.0.0.3\r\n"
                                          "s=SIP Call\r\n"
                                          "c=IN IP4 127.0.0.3\r\n"
                                          "t=0 0\r\n"
                                          "m=audio 23308 RTP/AVP 3 98 97 101\r\n"
                                          "a=rtpmap:3 GSM/8000\r\n"
                                          "a=rtpmap:98 iLBC/8000\r\n"
                                          "a=fmtp:98 mode=20\r\n"
                                          "a=rtpmap:97 iLBC/8000\r\n"
                                          "a=fmtp:97 mode=30\r\n"
                                          "a=rtpmap:101 telephone-event/8000\r\n";

/* A wideband desk phone: G.722 only, with the usual wrong /16000 clock and
 * telephone-event at 16000, ptime 30. */
static const char g722_only_offer[] = "v=0\r\n"
                                      "o=phone 5 5 IN IP4 127.0.0.4\r\n"
                                      "s=call\r\n"
                                      "c=IN IP4 127.0.0.4\r\n"
                                      "t=0 0\r\n"
                                      "m=audio 3000 RTP/AVP 9 102\r\n"
                                      "a=rtpmap:9 G722/16000\r\n"
                                      "a=rtpmap:102 telephone-event/16000\r\n"
                                      "a=fmtp:102 0-15\r\n"
                                      "a=ptime:30\r\n"
                                      "a=rtcp:3001\r\n";

static SpOfferAnswer *
new_oa (void)
{
  SpOfferAnswerConfig config = { 0 };

  config.local_address = "127.0.0.1";
  config.rtp_port = 40000;
  config.username = "softphone";
  return sp_offer_answer_new (&config);
}

/* A peer without Opus (this build before Opus, or a configured one). */
static const SpCodecId no_opus[] = { SP_CODEC_G722, SP_CODEC_PCMA, SP_CODEC_PCMU };

static SpOfferAnswer *
new_oa_with_codecs (const SpCodecId *codecs, guint n)
{
  SpOfferAnswerConfig config = { 0 };

  config.local_address = "127.0.0.1";
  config.rtp_port = 40000;
  config.username = "softphone";
  config.codecs = codecs;
  config.n_codecs = n;
  return sp_offer_answer_new (&config);
}

static SpSdpSession *
parse (const char *text)
{
  g_autoptr (GError) error = NULL;
  SpSdpSession *sdp = sp_sdp_session_parse (text, strlen (text), &error);

  g_assert_no_error (error);
  g_assert_nonnull (sdp);
  return sdp;
}

/* The m= format list as "9 0 8 101". */
static char *
formats_of (const SpSdpMedia *m)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < sp_sdp_media_get_n_formats (m); i++)
    g_string_append_printf (s, "%s%s", i ? " " : "", sp_sdp_media_get_format (m, i));
  return g_string_free (s, FALSE);
}

static char *
answer_offer (SpOfferAnswer *oa, const char *offer, SpMediaParams *params)
{
  g_autoptr (GError) error = NULL;
  char *answer = sp_offer_answer_process_offer (oa, offer, strlen (offer), params, &error);

  g_assert_no_error (error);
  g_assert_nonnull (answer);
  return answer;
}

static void
test_offer (void)
{
  g_autoptr (SpOfferAnswer) oa = new_oa ();
  g_autofree char *text = sp_offer_answer_create_offer (oa);
  g_autoptr (SpSdpSession) sdp = parse (text);
  SpSdpMedia *m = sp_sdp_session_get_media (sdp, 0);
  g_autofree char *formats = formats_of (m);
  SpSdpRtpmap map;

  g_assert_cmpuint (sp_sdp_session_get_n_media (sdp), ==, 1);
  g_assert_cmpstr (sp_sdp_session_get_origin_username (sdp), ==, "softphone");
  g_assert_cmpstr (sp_sdp_session_get_origin_address (sdp), ==, "127.0.0.1");
  g_assert_cmpuint (sp_sdp_session_get_session_version (sdp), ==,
                    sp_sdp_session_get_session_id (sdp));
  g_assert_cmpstr (sp_sdp_media_get_effective_connection (m)->address, ==, "127.0.0.1");
  g_assert_cmpstr (sp_sdp_media_get_media_type (m), ==, "audio");
  g_assert_cmpstr (sp_sdp_media_get_proto (m), ==, "RTP/AVP");
  g_assert_cmpuint (sp_sdp_media_get_port (m), ==, 40000);
  /* Opus, G.722, PCMA, PCMU; telephone-event at Opus's clock and at 8000. */
  g_assert_cmpstr (formats, ==, "111 9 8 0 110 101 13");
  g_assert_true (sp_sdp_media_get_rtpmap (m, 111, &map));
  g_assert_cmpstr (map.encoding, ==, "opus");
  g_assert_cmpuint (map.clock_rate, ==, 48000);
  g_assert_cmpuint (map.channels, ==, 2);
  g_assert_nonnull (strstr (text, "a=rtpmap:111 opus/48000/2\r\n"));
  g_assert_cmpstr (sp_sdp_media_get_fmtp (m, 111), ==,
                   "maxplaybackrate=16000;sprop-maxcapturerate=16000;stereo=0;sprop-stereo=0;"
                   "useinbandfec=1");
  g_assert_true (sp_sdp_media_get_rtpmap (m, 110, &map));
  g_assert_cmpstr (map.encoding, ==, "telephone-event");
  g_assert_cmpuint (map.clock_rate, ==, 48000);
  g_assert_true (sp_sdp_media_get_rtpmap (m, 9, &map));
  g_assert_cmpstr (map.encoding, ==, "G722");
  g_assert_cmpuint (map.clock_rate, ==, 8000);
  g_assert_true (sp_sdp_media_get_rtpmap (m, 101, &map));
  g_assert_cmpstr (map.encoding, ==, "telephone-event");
  g_assert_cmpuint (map.clock_rate, ==, 8000);
  g_assert_cmpstr (sp_sdp_media_get_fmtp (m, 101), ==, "0-16");
  g_assert_cmpint (sp_sdp_media_get_ptime (m), ==, 20);
  g_assert_cmpint (sp_sdp_media_get_rtcp_port (m), ==, 40001);
  g_assert_true (sp_sdp_media_get_rtcp_mux (m));
  g_assert_cmpint (sp_sdp_media_get_direction (m), ==, SP_SDP_DIRECTION_SENDRECV);
  g_assert_true (sp_sdp_media_has_attribute (m, "sendrecv"));
  g_assert_true (sp_offer_answer_has_pending_offer (oa));
  g_assert_false (sp_offer_answer_is_negotiated (oa));
}

static void
test_offer_config (void)
{
  static const SpCodecId codecs[] = { SP_CODEC_G722, SP_CODEC_PCMA };
  SpOfferAnswerConfig config = { 0 };
  g_autoptr (SpOfferAnswer) oa = NULL;
  g_autofree char *text = NULL;
  g_autoptr (SpSdpSession) sdp = NULL;
  g_autofree char *formats = NULL;
  SpSdpMedia *m;

  config.local_address = "::1";
  config.rtp_port = 5004;
  config.rtcp_port = 5009;
  config.codecs = codecs;
  config.n_codecs = G_N_ELEMENTS (codecs);
  config.ptime_ms = 40;
  config.dtmf_payload_type = -1;
  config.no_rtcp_mux = TRUE;
  oa = sp_offer_answer_new (&config);
  text = sp_offer_answer_create_offer (oa);
  sdp = parse (text);
  m = sp_sdp_session_get_media (sdp, 0);
  formats = formats_of (m);
  g_assert_cmpstr (formats, ==, "9 8 13");
  g_assert_cmpint (sp_sdp_session_get_origin_addr_type (sdp), ==, SP_SDP_ADDR_IP6);
  g_assert_cmpint (sp_sdp_media_get_effective_connection (m)->addr_type, ==, SP_SDP_ADDR_IP6);
  g_assert_cmpstr (sp_sdp_media_get_effective_connection (m)->address, ==, "::1");
  g_assert_cmpint (sp_sdp_media_get_ptime (m), ==, 40);
  g_assert_cmpint (sp_sdp_media_get_rtcp_port (m), ==, 5009);
  g_assert_false (sp_sdp_media_get_rtcp_mux (m));
}

static void
test_answer_baresip (void)
{
  g_autoptr (SpOfferAnswer) oa = new_oa ();
  SpMediaParams p;
  g_autofree char *text = answer_offer (oa, baresip_offer, &p);
  g_autoptr (SpSdpSession) sdp = parse (text);
  SpSdpMedia *m = sp_sdp_session_get_media (sdp, 0);
  g_autofree char *formats = formats_of (m);

  /* Common codecs in the offerer's order: opus on its number first. */
  g_assert_cmpstr (formats, ==, "96 9 0 8 101");
  g_assert_cmpint (p.codec, ==, SP_CODEC_OPUS);
  g_assert_cmpuint (p.payload_type, ==, 96);
  g_assert_nonnull (strstr (text, "a=rtpmap:96 opus/48000/2\r\n"));
  g_assert_nonnull (strstr (text, "a=fmtp:96 maxplaybackrate=16000;"));
  /* Its only telephone-event is at 8000: used, on that clock. */
  g_assert_cmpint (p.dtmf_payload_type, ==, 101);
  g_assert_cmpuint (p.dtmf_clock_rate, ==, 8000);
  g_assert_cmpuint (p.opus_max_playback_rate, ==, 0);
  g_assert_cmpuint (p.ptime_ms, ==, 20);
  g_assert_true (p.rtcp_mux);
  g_assert_true (sp_sdp_media_get_rtcp_mux (m));
  g_assert_cmpstr (p.remote_address, ==, "127.0.0.2");
  g_assert_cmpuint (p.remote_rtp_port, ==, 20372);
  g_assert_true (p.send);
  g_assert_true (p.receive);
  g_assert_cmpint (sp_sdp_media_get_direction (m), ==, SP_SDP_DIRECTION_SENDRECV);
  g_assert_cmpuint (sp_sdp_media_get_port (m), ==, 40000);
  g_assert_true (sp_offer_answer_is_negotiated (oa));
  g_assert_false (sp_offer_answer_is_remote_hold (oa));
}

static void
test_answer_yate (void)
{
  g_autoptr (SpOfferAnswer) oa = new_oa ();
  SpMediaParams p;
  g_autofree char *text = answer_offer (oa, yate_offer, &p);
  g_autoptr (SpSdpSession) sdp = parse (text);
  SpSdpMedia *m = sp_sdp_session_get_media (sdp, 0);
  g_autofree char *formats = formats_of (m);

  g_assert_cmpstr (formats, ==, "0 8 101");
  g_assert_cmpint (p.codec, ==, SP_CODEC_PCMU);
  g_assert_cmpint (p.dtmf_payload_type, ==, 101);
  /* No a=ptime: ours; no a=rtcp-mux: RTCP on the next port. */
  g_assert_cmpuint (p.ptime_ms, ==, 20);
  g_assert_cmpint (sp_sdp_media_get_ptime (m), ==, 20);
  g_assert_false (p.rtcp_mux);
  g_assert_false (sp_sdp_media_get_rtcp_mux (m));
  g_assert_cmpuint (p.remote_rtcp_port, ==, 0);
  g_assert_cmpstr (p.remote_address, ==, "127.0.0.3");
  g_assert_cmpuint (p.remote_rtp_port, ==, 23306);
  g_assert_true (p.send && p.receive);
}

/* Every codec on a dynamic payload type, as some gateways and WebRTC-era
 * stacks write them, and RTCP on another host (RFC 3605 a=rtcp with an
 * address). The answer keeps the offer's numbers; the params carry the
 * number to send with and the RTCP address. */
static const char dynamic_offer[] = "v=0\r\n"
                                    "o=gw 9 9 IN IP4 127.0.0.8\r\n"
                                    "s=-\r\n"
                                    "c=IN IP4 127.0.0.8\r\n"
                                    "t=0 0\r\n"
                                    "m=audio 4000 RTP/AVP 111 97 96 99 98 100\r\n"
                                    "a=rtpmap:111 opus/48000/2\r\n"
                                    "a=rtpmap:97 G722/8000\r\n"
                                    "a=rtpmap:96 PCMU/8000\r\n"
                                    "a=rtpmap:99 PCMU/16000\r\n"
                                    "a=rtpmap:98 PCMA/8000/2\r\n"
                                    "a=rtpmap:100 telephone-event/8000\r\n"
                                    "a=rtcp:4001 IN IP4 127.0.0.9\r\n";

static void
test_answer_dynamic (void)
{
  g_autoptr (SpOfferAnswer) oa = new_oa ();
  SpMediaParams p;
  g_autofree char *text = answer_offer (oa, dynamic_offer, &p);
  g_autoptr (SpSdpSession) sdp = parse (text);
  SpSdpMedia *m = sp_sdp_session_get_media (sdp, 0);
  g_autofree char *formats = formats_of (m);
  SpSdpRtpmap map;

  /* PCMU at 16000 and stereo PCMA are not what the names mean: left out. */
  g_assert_cmpstr (formats, ==, "111 97 96 100");
  g_assert_cmpint (p.codec, ==, SP_CODEC_OPUS);
  g_assert_cmpuint (p.payload_type, ==, 111);
  sp_offer_answer_free (g_steal_pointer (&oa));
  oa = new_oa_with_codecs (no_opus, G_N_ELEMENTS (no_opus));
  g_free (text);
  text = answer_offer (oa, dynamic_offer, &p);
  sp_sdp_session_free (sdp);
  sdp = parse (text);
  m = sp_sdp_session_get_media (sdp, 0);
  g_free (formats);
  formats = formats_of (m);
  g_assert_cmpstr (formats, ==, "97 96 100");
  g_assert_true (sp_sdp_media_get_rtpmap (m, 97, &map));
  g_assert_cmpstr (map.encoding, ==, "G722");
  g_assert_cmpuint (map.clock_rate, ==, 8000);
  g_assert_true (sp_sdp_media_get_rtpmap (m, 96, &map));
  g_assert_cmpstr (map.encoding, ==, "PCMU");
  g_assert_cmpint (p.codec, ==, SP_CODEC_G722);
  g_assert_cmpuint (p.payload_type, ==, 97);
  g_assert_cmpint (p.dtmf_payload_type, ==, 100);
  g_assert_cmpstr (p.remote_address, ==, "127.0.0.8");
  g_assert_cmpuint (p.remote_rtp_port, ==, 4000);
  g_assert_cmpstr (p.remote_rtcp_address, ==, "127.0.0.9");
  g_assert_cmpuint (p.remote_rtcp_port, ==, 4001);
}

/* Our offer (static types) answered with PCMU on a dynamic type and RTCP
 * elsewhere; and a dynamic type without rtpmap matches nothing. */
static void
test_process_answer_dynamic (void)
{
  static const char answer[] = "v=0\r\no=- 7 7 IN IP4 127.0.0.6\r\ns=-\r\nc=IN IP4 127.0.0.6\r\n"
                               "t=0 0\r\nm=audio 6000 RTP/AVP 118\r\n"
                               "a=rtpmap:118 pcmu/8000\r\n"
                               "a=rtcp:6001 IN IP4 127.0.0.7\r\n";
  static const char bare[] = "v=0\r\no=- 7 8 IN IP4 127.0.0.6\r\ns=-\r\nc=IN IP4 127.0.0.6\r\n"
                             "t=0 0\r\nm=audio 6000 RTP/AVP 96\r\n";
  g_autoptr (SpOfferAnswer) oa = new_oa ();
  g_autofree char *offer = sp_offer_answer_create_offer (oa);
  g_autofree char *offer2 = NULL;
  g_autoptr (GError) error = NULL;
  SpMediaParams p;

  g_assert_nonnull (offer); /* the answer below answers it */
  g_assert_true (sp_offer_answer_process_answer (oa, answer, strlen (answer), &p, &error));
  g_assert_no_error (error);
  g_assert_cmpint (p.codec, ==, SP_CODEC_PCMU);
  g_assert_cmpuint (p.payload_type, ==, 118);
  g_assert_cmpstr (p.remote_rtcp_address, ==, "127.0.0.7");
  g_assert_cmpuint (p.remote_rtcp_port, ==, 6001);

  offer2 = sp_offer_answer_create_offer (oa);
  g_assert_false (sp_offer_answer_process_answer (oa, bare, strlen (bare), &p, &error));
  g_assert_error (error, SP_MEDIA_ERROR, SP_MEDIA_ERROR_NO_COMMON_CODEC);
}

/* a=rtcp without an address, or with a bad one: the RTP address is used. */
static void
test_rtcp_without_address (void)
{
  g_autoptr (SpOfferAnswer) oa = new_oa ();
  SpMediaParams p;
  g_autofree char *text = answer_offer (oa, g722_only_offer, &p);

  g_assert_nonnull (text);
  g_assert_null (p.remote_rtcp_address);
  g_assert_cmpuint (p.remote_rtcp_port, ==, 3001);
  g_assert_cmpuint (p.payload_type, ==, 9);
}

static void
test_answer_order (void)
{
  static const char offer[] = "v=0\r\no=- 1 1 IN IP4 127.0.0.5\r\ns=-\r\nc=IN IP4 127.0.0.5\r\n"
                              "t=0 0\r\nm=audio 7078 RTP/AVP 8 0\r\n";
  g_autoptr (SpOfferAnswer) oa = new_oa ();
  SpMediaParams p;
  g_autofree char *text = answer_offer (oa, offer, &p);
  g_autoptr (SpSdpSession) sdp = parse (text);
  SpSdpMedia *m = sp_sdp_session_get_media (sdp, 0);
  g_autofree char *formats = formats_of (m);

  /* Static payload types without rtpmap; no telephone-event offered. */
  g_assert_cmpstr (formats, ==, "8 0");
  g_assert_cmpint (p.codec, ==, SP_CODEC_PCMA);
  g_assert_cmpint (p.dtmf_payload_type, ==, -1);
}

static void
test_answer_g722_only (void)
{
  g_autoptr (SpOfferAnswer) oa = new_oa ();
  SpMediaParams p;
  g_autofree char *text = answer_offer (oa, g722_only_offer, &p);
  g_autoptr (SpSdpSession) sdp = parse (text);
  SpSdpMedia *m = sp_sdp_session_get_media (sdp, 0);
  g_autofree char *formats = formats_of (m);

  g_assert_cmpstr (formats, ==, "9");
  g_assert_cmpint (p.codec, ==, SP_CODEC_G722);
  /* telephone-event/16000 does not match G.722's 8000 Hz RTP clock. */
  g_assert_cmpint (p.dtmf_payload_type, ==, -1);
  /* The peer's ptime is honoured and echoed. */
  g_assert_cmpuint (p.ptime_ms, ==, 30);
  g_assert_cmpint (sp_sdp_media_get_ptime (m), ==, 30);
  g_assert_cmpuint (p.remote_rtcp_port, ==, 3001);
}

static void
test_g722_not_configured (void)
{
  static const SpCodecId codecs[] = { SP_CODEC_PCMU, SP_CODEC_PCMA };
  SpOfferAnswerConfig config = { 0 };
  g_autoptr (SpOfferAnswer) oa = NULL;
  g_autoptr (GError) error = NULL;
  char *answer;

  config.local_address = "127.0.0.1";
  config.rtp_port = 40000;
  config.codecs = codecs;
  config.n_codecs = G_N_ELEMENTS (codecs);
  oa = sp_offer_answer_new (&config);
  answer =
      sp_offer_answer_process_offer (oa, g722_only_offer, strlen (g722_only_offer), NULL, &error);
  g_assert_null (answer);
  g_assert_error (error, SP_MEDIA_ERROR, SP_MEDIA_ERROR_NO_COMMON_CODEC);
  g_assert_cmpstr (error->message, ==, "no common codec: we offer PCMU PCMA, they offer G722");
  g_assert_cmpuint (sp_offer_answer_error_status (error), ==, 488);
}

static void
test_no_common_codec (void)
{
  g_autoptr (SpOfferAnswer) oa = new_oa ();
  g_autoptr (GError) error = NULL;
  SpMediaParams p = { 0 };
  char *answer = sp_offer_answer_process_offer (oa, yate_gsm_ilbc_offer,
                                                strlen (yate_gsm_ilbc_offer), &p, &error);

  g_assert_null (answer);
  g_assert_error (error, SP_MEDIA_ERROR, SP_MEDIA_ERROR_NO_COMMON_CODEC);
  g_assert_cmpstr (error->message, ==,
                   "no common codec: we offer opus G722 PCMA PCMU, they offer GSM iLBC");
  g_assert_cmpuint (sp_offer_answer_error_status (error), ==, 488);
  g_assert_false (sp_offer_answer_is_negotiated (oa));
}

static void
test_bad_offers (void)
{
  static const struct
  {
    const char *sdp;
    guint status;
  } cases[] = {
    /* Not SDP at all. */
    { "hello", 400 },
    /* Audio only with SRTP. */
    { "v=0\r\no=- 1 1 IN IP4 127.0.0.5\r\ns=-\r\nc=IN IP4 127.0.0.5\r\nt=0 0\r\n"
      "m=audio 7078 RTP/SAVP 0\r\n",
      488 },
    /* Video only. */
    { "v=0\r\no=- 1 1 IN IP4 127.0.0.5\r\ns=-\r\nc=IN IP4 127.0.0.5\r\nt=0 0\r\n"
      "m=video 7078 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n",
      488 },
    /* No c= anywhere. */
    { "v=0\r\no=- 1 1 IN IP4 127.0.0.5\r\ns=-\r\nt=0 0\r\nm=audio 7078 RTP/AVP 0\r\n", 488 },
    /* A host name where an address belongs. */
    { "v=0\r\no=- 1 1 IN IP4 127.0.0.5\r\ns=-\r\nc=IN IP4 pbx.example.com\r\nt=0 0\r\n"
      "m=audio 7078 RTP/AVP 0\r\n",
      488 },
    /* The only audio stream disabled in an initial offer. */
    { "v=0\r\no=- 1 1 IN IP4 127.0.0.5\r\ns=-\r\nc=IN IP4 127.0.0.5\r\nt=0 0\r\n"
      "m=audio 0 RTP/AVP 0\r\n",
      488 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (SpOfferAnswer) oa = new_oa ();
      g_autoptr (GError) error = NULL;
      char *answer =
          sp_offer_answer_process_offer (oa, cases[i].sdp, strlen (cases[i].sdp), NULL, &error);
      g_assert_null (answer);
      g_assert_nonnull (error);
      g_assert_cmpuint (sp_offer_answer_error_status (error), ==, cases[i].status);
      g_assert_false (sp_offer_answer_is_negotiated (oa));
    }
}

static void
test_other_streams_rejected (void)
{
  static const char offer[] = "v=0\r\no=- 1 1 IN IP4 127.0.0.5\r\ns=-\r\nc=IN IP4 127.0.0.5\r\n"
                              "t=0 0\r\n"
                              "m=video 9000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
                              "m=audio 7078 RTP/AVP 0 101\r\n"
                              "a=rtpmap:101 telephone-event/8000\r\n"
                              "m=audio 7080 RTP/AVP 8\r\n";
  g_autoptr (SpOfferAnswer) oa = new_oa ();
  SpMediaParams p;
  g_autofree char *text = answer_offer (oa, offer, &p);
  g_autoptr (SpSdpSession) sdp = parse (text);

  /* As many m= lines as the offer, in order (RFC 3264 6). */
  g_assert_cmpuint (sp_sdp_session_get_n_media (sdp), ==, 3);
  g_assert_cmpstr (sp_sdp_media_get_media_type (sp_sdp_session_get_media (sdp, 0)), ==, "video");
  g_assert_cmpuint (sp_sdp_media_get_port (sp_sdp_session_get_media (sdp, 0)), ==, 0);
  g_assert_cmpuint (sp_sdp_media_get_port (sp_sdp_session_get_media (sdp, 1)), ==, 40000);
  g_assert_cmpuint (sp_sdp_media_get_port (sp_sdp_session_get_media (sdp, 2)), ==, 0);
  g_assert_cmpuint (sp_sdp_media_get_n_formats (sp_sdp_session_get_media (sdp, 2)), ==, 1);
  g_assert_cmpuint (p.remote_rtp_port, ==, 7078);
  g_assert_cmpint (p.codec, ==, SP_CODEC_PCMU);
}

/* The peer holds us, three ways, and resumes. */
static void
test_remote_hold (void)
{
  static const char *const forms[] = {
    "a=sendonly\r\n", "a=inactive\r\n", NULL, /* c=0.0.0.0 */
  };
  static const SpSdpDirection answered[] = {
    SP_SDP_DIRECTION_RECVONLY,
    SP_SDP_DIRECTION_INACTIVE,
    SP_SDP_DIRECTION_RECVONLY,
  };

  for (guint i = 0; i < G_N_ELEMENTS (forms); i++)
    {
      g_autoptr (SpOfferAnswer) oa = new_oa ();
      SpMediaParams p;
      g_autofree char *first = answer_offer (oa, yate_offer, &p);
      g_autofree char *hold_offer = NULL;
      g_autofree char *hold_answer = NULL;
      g_autofree char *resume_answer = NULL;
      g_autoptr (SpSdpSession) first_sdp = parse (first);
      g_autoptr (SpSdpSession) hold_sdp = NULL;
      g_autoptr (SpSdpSession) resume_sdp = NULL;

      if (forms[i] != NULL)
        hold_offer = g_strconcat (yate_offer, forms[i], NULL);
      else
        {
          GString *s = g_string_new (yate_offer);
          g_string_replace (s, "c=IN IP4 127.0.0.3", "c=IN IP4 0.0.0.0", 0);
          hold_offer = g_string_free (s, FALSE);
        }
      hold_answer = answer_offer (oa, hold_offer, &p);
      hold_sdp = parse (hold_answer);
      g_assert_cmpint (sp_sdp_media_get_direction (sp_sdp_session_get_media (hold_sdp, 0)), ==,
                       answered[i]);
      g_assert_false (p.send);
      g_assert_cmpint (p.receive, ==, i != 1);
      g_assert_true (sp_offer_answer_is_remote_hold (oa));
      /* Our answer changed: one version up. */
      g_assert_cmpuint (sp_sdp_session_get_session_version (hold_sdp), ==,
                        sp_sdp_session_get_session_version (first_sdp) + 1);

      resume_answer = answer_offer (oa, yate_offer, &p);
      resume_sdp = parse (resume_answer);
      g_assert_cmpint (sp_sdp_media_get_direction (sp_sdp_session_get_media (resume_sdp, 0)), ==,
                       SP_SDP_DIRECTION_SENDRECV);
      g_assert_true (p.send && p.receive);
      g_assert_cmpstr (p.remote_address, ==, "127.0.0.3");
      g_assert_false (sp_offer_answer_is_remote_hold (oa));
      g_assert_cmpuint (sp_sdp_session_get_session_version (resume_sdp), ==,
                        sp_sdp_session_get_session_version (first_sdp) + 2);
    }
}

/* The peer's answer to an offer of ours, from @direction. */
static char *
make_answer (const char *direction, guint port)
{
  return g_strdup_printf ("v=0\r\no=- 7 7 IN IP4 127.0.0.6\r\ns=-\r\nc=IN IP4 127.0.0.6\r\n"
                          "t=0 0\r\nm=audio %u RTP/AVP 8 101\r\n"
                          "a=rtpmap:101 telephone-event/8000\r\na=rtcp-mux\r\na=%s\r\n",
                          port, direction);
}

static void
process_answer (SpOfferAnswer *oa, const char *answer, SpMediaParams *p)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (sp_offer_answer_process_answer (oa, answer, strlen (answer), p, &error));
  g_assert_no_error (error);
}

/* We hold and resume by re-INVITE. */
static void
test_local_hold (void)
{
  g_autoptr (SpOfferAnswer) oa = new_oa ();
  g_autofree char *offer1 = sp_offer_answer_create_offer (oa);
  g_autofree char *answer1 = make_answer ("sendrecv", 6000);
  g_autofree char *offer2 = NULL, *answer2 = make_answer ("recvonly", 6000);
  g_autofree char *offer3 = NULL, *answer3 = make_answer ("sendrecv", 6000);
  g_autofree char *offer4 = NULL;
  g_autoptr (SpSdpSession) sdp1 = parse (offer1);
  g_autoptr (SpSdpSession) sdp2 = NULL, sdp3 = NULL, sdp4 = NULL;
  guint64 v1 = sp_sdp_session_get_session_version (sdp1);
  SpMediaParams p;

  process_answer (oa, answer1, &p);
  g_assert_cmpint (p.codec, ==, SP_CODEC_PCMA);
  g_assert_cmpint (p.dtmf_payload_type, ==, 101);
  g_assert_true (p.rtcp_mux);
  g_assert_true (p.send && p.receive);
  g_assert_cmpstr (p.remote_address, ==, "127.0.0.6");
  g_assert_cmpuint (p.remote_rtp_port, ==, 6000);

  sp_offer_answer_set_hold (oa, TRUE);
  offer2 = sp_offer_answer_create_offer (oa);
  sdp2 = parse (offer2);
  g_assert_cmpint (sp_sdp_media_get_direction (sp_sdp_session_get_media (sdp2, 0)), ==,
                   SP_SDP_DIRECTION_SENDONLY);
  g_assert_cmpuint (sp_sdp_session_get_session_version (sdp2), ==, v1 + 1);
  g_assert_cmpuint (sp_sdp_session_get_session_id (sdp2), ==, sp_sdp_session_get_session_id (sdp1));
  process_answer (oa, answer2, &p);
  g_assert_true (p.send);
  g_assert_false (p.receive);
  g_assert_cmpint (sp_offer_answer_get_local_direction (oa), ==, SP_SDP_DIRECTION_SENDONLY);
  g_assert_false (sp_offer_answer_is_remote_hold (oa));

  sp_offer_answer_set_hold (oa, FALSE);
  offer3 = sp_offer_answer_create_offer (oa);
  sdp3 = parse (offer3);
  g_assert_cmpint (sp_sdp_media_get_direction (sp_sdp_session_get_media (sdp3, 0)), ==,
                   SP_SDP_DIRECTION_SENDRECV);
  g_assert_cmpuint (sp_sdp_session_get_session_version (sdp3), ==, v1 + 2);
  process_answer (oa, answer3, &p);
  g_assert_true (p.send && p.receive);

  /* A session refresh with nothing changed keeps the version. */
  offer4 = sp_offer_answer_create_offer (oa);
  sdp4 = parse (offer4);
  g_assert_cmpuint (sp_sdp_session_get_session_version (sdp4), ==, v1 + 2);
  g_assert_cmpstr (offer4, ==, offer3);
  sp_offer_answer_rollback (oa);
  g_assert_false (sp_offer_answer_has_pending_offer (oa));
}

/* Both hold: the peer holds us, then we hold too: inactive (RFC 3264 8.4). */
static void
test_both_hold (void)
{
  g_autoptr (SpOfferAnswer) oa = new_oa ();
  g_autofree char *hold_offer = g_strconcat (yate_offer, "a=sendonly\n", NULL);
  g_autofree char *a1 = NULL, *a2 = NULL, *offer = NULL;
  g_autofree char *answer = make_answer ("inactive", 23306);
  g_autoptr (SpSdpSession) sdp = NULL;
  SpMediaParams p;

  a1 = answer_offer (oa, yate_offer, &p);
  a2 = answer_offer (oa, hold_offer, &p);
  g_assert_true (sp_offer_answer_is_remote_hold (oa));
  sp_offer_answer_set_hold (oa, TRUE);
  offer = sp_offer_answer_create_offer (oa);
  sdp = parse (offer);
  g_assert_cmpint (sp_sdp_media_get_direction (sp_sdp_session_get_media (sdp, 0)), ==,
                   SP_SDP_DIRECTION_INACTIVE);
  process_answer (oa, answer, &p);
  g_assert_false (p.send || p.receive);
  /* Our inactive offer could not tell: the peer's hold stands. */
  g_assert_true (sp_offer_answer_is_remote_hold (oa));
}

/* We hold while the peer's offer comes in: our answer says so. */
static void
test_answer_while_holding (void)
{
  g_autoptr (SpOfferAnswer) oa = new_oa ();
  g_autofree char *answer = NULL;
  g_autoptr (SpSdpSession) sdp = NULL;
  SpMediaParams p;

  sp_offer_answer_set_hold (oa, TRUE);
  answer = answer_offer (oa, baresip_offer, &p);
  sdp = parse (answer);
  g_assert_cmpint (sp_sdp_media_get_direction (sp_sdp_session_get_media (sdp, 0)), ==,
                   SP_SDP_DIRECTION_SENDONLY);
  g_assert_true (p.send);
  g_assert_false (p.receive);
}

static void
test_answer_rejected (void)
{
  g_autoptr (SpOfferAnswer) oa = new_oa ();
  g_autofree char *offer = sp_offer_answer_create_offer (oa);
  g_autofree char *answer = make_answer ("sendrecv", 0);
  g_autoptr (GError) error = NULL;
  SpMediaParams p;

  g_assert_nonnull (offer);
  g_assert_false (sp_offer_answer_process_answer (oa, answer, strlen (answer), &p, &error));
  g_assert_error (error, SP_MEDIA_ERROR, SP_MEDIA_ERROR_REJECTED);
  g_assert_cmpuint (sp_offer_answer_error_status (error), ==, 488);
  g_assert_false (sp_offer_answer_has_pending_offer (oa));
  g_assert_false (sp_offer_answer_is_negotiated (oa));
}

static void
test_answer_no_common_codec (void)
{
  static const char answer[] = "v=0\r\no=- 7 7 IN IP4 127.0.0.6\r\ns=-\r\nc=IN IP4 127.0.0.6\r\n"
                               "t=0 0\r\nm=audio 6000 RTP/AVP 3\r\n";
  g_autoptr (SpOfferAnswer) oa = new_oa ();
  g_autofree char *offer = sp_offer_answer_create_offer (oa);
  g_autoptr (GError) error = NULL;

  g_assert_nonnull (offer);
  g_assert_false (sp_offer_answer_process_answer (oa, answer, strlen (answer), NULL, &error));
  g_assert_error (error, SP_MEDIA_ERROR, SP_MEDIA_ERROR_NO_COMMON_CODEC);
  g_assert_cmpstr (error->message, ==,
                   "no common codec: we offered opus G722 PCMA PCMU, they answered GSM");
}

static void
test_answer_without_offer (void)
{
  g_autoptr (SpOfferAnswer) oa = new_oa ();
  g_autofree char *answer = make_answer ("sendrecv", 6000);
  g_autoptr (GError) error = NULL;

  g_assert_false (sp_offer_answer_process_answer (oa, answer, strlen (answer), NULL, &error));
  g_assert_error (error, SP_MEDIA_ERROR, SP_MEDIA_ERROR_FAILED);
}

/* A re-offer moves the stream, then disables it with port 0. */
static void
test_reoffer (void)
{
  g_autoptr (SpOfferAnswer) oa = new_oa ();
  g_autoptr (GString) moved = g_string_new (baresip_offer);
  g_autoptr (GString) disabled = NULL;
  g_autofree char *a1 = NULL, *a2 = NULL, *a3 = NULL, *a4 = NULL;
  g_autoptr (SpSdpSession) s1 = NULL, s2 = NULL, s3 = NULL, s4 = NULL;
  SpMediaParams p;

  a1 = answer_offer (oa, baresip_offer, &p);
  s1 = parse (a1);
  /* The same offer again (a session refresh): the same answer. */
  a2 = answer_offer (oa, baresip_offer, &p);
  s2 = parse (a2);
  g_assert_cmpstr (a1, ==, a2);

  g_string_replace (moved, "127.0.0.2", "127.0.0.7", 0);
  g_string_replace (moved, "20372 RTP/AVP 96 9 0 8 101", "30000 RTP/AVP 0 101", 0);
  disabled = g_string_new (moved->str);
  a3 = answer_offer (oa, moved->str, &p);
  s3 = parse (a3);
  g_assert_cmpstr (p.remote_address, ==, "127.0.0.7");
  g_assert_cmpuint (p.remote_rtp_port, ==, 30000);
  g_assert_cmpint (p.codec, ==, SP_CODEC_PCMU);
  g_assert_cmpuint (sp_sdp_session_get_session_version (s3), ==,
                    sp_sdp_session_get_session_version (s1) + 1);

  g_string_replace (disabled, "m=audio 30000", "m=audio 0", 0);
  a4 = answer_offer (oa, disabled->str, &p);
  s4 = parse (a4);
  g_assert_cmpuint (sp_sdp_session_get_n_media (s4), ==, 1);
  g_assert_cmpuint (sp_sdp_media_get_port (sp_sdp_session_get_media (s4, 0)), ==, 0);
  g_assert_cmpuint (p.remote_rtp_port, ==, 0);
  g_assert_false (p.send || p.receive);
}

static void
test_reoffer_refused_keeps_state (void)
{
  g_autoptr (SpOfferAnswer) oa = new_oa ();
  g_autofree char *a1 = NULL;
  g_autoptr (GError) error = NULL;
  SpMediaParams p, after;

  a1 = answer_offer (oa, baresip_offer, &p);
  g_assert_null (sp_offer_answer_process_offer (oa, yate_gsm_ilbc_offer,
                                                strlen (yate_gsm_ilbc_offer), NULL, &error));
  g_assert_error (error, SP_MEDIA_ERROR, SP_MEDIA_ERROR_NO_COMMON_CODEC);
  sp_offer_answer_get_params (oa, &after);
  g_assert_cmpint (after.codec, ==, SP_CODEC_OPUS);
  g_assert_cmpuint (after.remote_rtp_port, ==, 20372);
  g_assert_cmpstr (after.remote_address, ==, "127.0.0.2");
}

static void
test_glare (void)
{
  g_autoptr (SpOfferAnswer) oa = new_oa ();
  g_autofree char *offer = sp_offer_answer_create_offer (oa);
  g_autofree char *again = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_nonnull (offer);
  g_assert_null (sp_offer_answer_process_offer (oa, yate_offer, strlen (yate_offer), NULL, &error));
  g_assert_error (error, SP_MEDIA_ERROR, SP_MEDIA_ERROR_GLARE);
  g_assert_cmpuint (sp_offer_answer_error_status (error), ==, 491);
  sp_offer_answer_rollback (oa);
  again = answer_offer (oa, yate_offer, NULL);
  g_assert_true (sp_offer_answer_is_negotiated (oa));
}

static void
test_ptime (void)
{
  static const struct
  {
    const char *attrs;
    guint ptime;
  } cases[] = {
    { "", 20 },
    { "a=ptime:30\r\n", 30 },
    { "a=ptime:10\r\n", 10 },
    { "a=ptime:5\r\n", 10 },
    { "a=ptime:200\r\n", 60 },
    { "a=ptime:40\r\na=maxptime:20\r\n", 20 },
    { "a=maxptime:10\r\n", 10 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (SpOfferAnswer) oa = new_oa ();
      g_autofree char *offer =
          g_strdup_printf ("v=0\r\no=- 1 1 IN IP4 127.0.0.5\r\ns=-\r\nc=IN IP4 127.0.0.5\r\n"
                           "t=0 0\r\nm=audio 7078 RTP/AVP 0\r\n%s",
                           cases[i].attrs);
      SpMediaParams p;
      g_autofree char *answer = answer_offer (oa, offer, &p);
      g_autofree char *want = g_strdup_printf ("a=ptime:%u\r\n", cases[i].ptime);
      g_assert_cmpuint (p.ptime_ms, ==, cases[i].ptime);
      /* Our answer asks for the same packet time. */
      g_assert_nonnull (strstr (answer, want));
    }
}

/* Two of our phones: the offer of one, answered by the other, gives Opus
 * on both sides, and DTMF events on telephone-event/48000. */
static void
test_opus_between_us (void)
{
  g_autoptr (SpOfferAnswer) caller = new_oa ();
  g_autoptr (SpOfferAnswer) callee = new_oa ();
  g_autoptr (GError) error = NULL;
  g_autofree char *offer = sp_offer_answer_create_offer (caller);
  SpMediaParams theirs, ours;
  g_autofree char *answer = answer_offer (callee, offer, &theirs);

  g_assert_cmpint (theirs.codec, ==, SP_CODEC_OPUS);
  g_assert_cmpuint (theirs.payload_type, ==, 111);
  g_assert_cmpint (theirs.dtmf_payload_type, ==, 110);
  g_assert_cmpuint (theirs.dtmf_clock_rate, ==, 0); /* the codec's: 48000 */
  g_assert_cmpuint (theirs.opus_max_playback_rate, ==, 16000);
  g_assert_nonnull (strstr (answer, "a=rtpmap:111 opus/48000/2\r\n"));
  g_assert_nonnull (strstr (answer, "a=rtpmap:110 telephone-event/48000\r\n"));
  g_assert_null (strstr (answer, "telephone-event/8000"));
  g_assert_true (sp_offer_answer_process_answer (caller, answer, strlen (answer), &ours, &error));
  g_assert_no_error (error);
  g_assert_cmpint (ours.codec, ==, SP_CODEC_OPUS);
  g_assert_cmpuint (ours.payload_type, ==, 111);
  g_assert_cmpint (ours.dtmf_payload_type, ==, 110);
  g_assert_cmpuint (ours.dtmf_clock_rate, ==, 0);
  g_assert_cmpuint (ours.opus_max_playback_rate, ==, 16000);
}

/* Against a peer without Opus: our offer is answered with G.722 (a phone
 * like us before Opus) or PCMU (a narrowband one), and their offers to us
 * give the same. */
static void
test_opus_fallback (void)
{
  static const SpCodecId pcmu_only[] = { SP_CODEC_PCMU };
  g_autoptr (SpOfferAnswer) caller = new_oa ();
  g_autoptr (SpOfferAnswer) old = new_oa_with_codecs (no_opus, G_N_ELEMENTS (no_opus));
  g_autoptr (SpOfferAnswer) narrow = new_oa_with_codecs (pcmu_only, 1);
  g_autoptr (GError) error = NULL;
  SpMediaParams theirs, ours;
  g_autofree char *offer = sp_offer_answer_create_offer (caller);
  g_autofree char *answer = answer_offer (old, offer, &theirs);
  g_autofree char *offer2 = NULL;
  g_autofree char *answer2 = NULL;
  g_autofree char *offer3 = NULL;
  g_autofree char *answer3 = NULL;

  g_assert_cmpint (theirs.codec, ==, SP_CODEC_G722);
  g_assert_null (strstr (answer, "opus"));
  /* telephone-event/8000 is the one that goes with G.722. */
  g_assert_cmpint (theirs.dtmf_payload_type, ==, 101);
  g_assert_true (sp_offer_answer_process_answer (caller, answer, strlen (answer), &ours, &error));
  g_assert_cmpint (ours.codec, ==, SP_CODEC_G722);
  g_assert_cmpint (ours.dtmf_payload_type, ==, 101);
  g_assert_cmpuint (ours.dtmf_clock_rate, ==, 0);

  offer2 = sp_offer_answer_create_offer (caller);
  answer2 = answer_offer (narrow, offer2, &theirs);
  g_assert_cmpint (theirs.codec, ==, SP_CODEC_PCMU);
  g_assert_true (sp_offer_answer_process_answer (caller, answer2, strlen (answer2), &ours, &error));
  g_assert_cmpint (ours.codec, ==, SP_CODEC_PCMU);

  /* The old phone offers; we answer G.722 first. */
  g_clear_pointer (&caller, sp_offer_answer_free);
  caller = new_oa ();
  offer3 = sp_offer_answer_create_offer (old);
  answer3 = answer_offer (caller, offer3, &ours);
  g_assert_cmpint (ours.codec, ==, SP_CODEC_G722);
}

/* The peer's Opus fmtp: its limits reach the params; hostile values (too
 * long, not numbers, no value, a name that only starts like ours) give no
 * limit and never crash. */
static void
test_opus_fmtp (void)
{
  static const struct
  {
    const char *fmtp;
    guint playback, bitrate;
  } cases[] = {
    { "maxplaybackrate=8000;maxaveragebitrate=20000", 8000, 20000 },
    { "useinbandfec=1; maxplaybackrate=12000", 12000, 0 },
    { "MAXPLAYBACKRATE=24000;stereo=1", 24000, 0 },
    { "maxplaybackrate=99999999999999999999999999;maxaveragebitrate=x1", 0, 0 },
    { "maxplaybackrate=;maxaveragebitrate", 0, 0 },
    { "maxplaybackrate=16000x;maxplaybackratex=8000", 0, 0 },
    { "xmaxplaybackrate=8000", 0, 0 },
    { ";;;;", 0, 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (SpOfferAnswer) oa = new_oa ();
      g_autofree char *offer =
          g_strdup_printf ("v=0\r\no=- 1 1 IN IP4 127.0.0.5\r\ns=-\r\nc=IN IP4 127.0.0.5\r\n"
                           "t=0 0\r\nm=audio 7078 RTP/AVP 109 0\r\n"
                           "a=rtpmap:109 OPUS/48000/2\r\na=fmtp:109 %s\r\n",
                           cases[i].fmtp);
      SpMediaParams p;
      g_autofree char *answer = answer_offer (oa, offer, &p);
      g_assert_nonnull (answer);
      g_assert_cmpint (p.codec, ==, SP_CODEC_OPUS);
      g_assert_cmpuint (p.payload_type, ==, 109);
      g_assert_cmpuint (p.opus_max_playback_rate, ==, cases[i].playback);
      g_assert_cmpuint (p.opus_max_bitrate, ==, cases[i].bitrate);
    }
}

/* A configured telephone-event number never collides with Opus (111) or
 * with the telephone-event/48000 beside it. */
static void
test_opus_dtmf_numbers (void)
{
  static const struct
  {
    gint configured;
    const char *formats;
  } cases[] = {
    { 110, "111 9 8 0 112 110 13" },
    { 111, "111 9 8 0 110 101 13" },
    { 96, "111 9 8 0 110 96 13" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      SpOfferAnswerConfig config = { 0 };
      g_autoptr (SpOfferAnswer) oa = NULL;
      g_autofree char *text = NULL;
      g_autofree char *formats = NULL;
      g_autoptr (SpSdpSession) sdp = NULL;

      config.local_address = "127.0.0.1";
      config.rtp_port = 40000;
      config.dtmf_payload_type = cases[i].configured;
      oa = sp_offer_answer_new (&config);
      text = sp_offer_answer_create_offer (oa);
      sdp = parse (text);
      formats = formats_of (sp_sdp_session_get_media (sdp, 0));
      g_assert_cmpstr (formats, ==, cases[i].formats);
    }
}

/* opus needs /48000 (and at most 2 channels): anything else is not it. */
static void
test_opus_wrong_rtpmap (void)
{
  static const char *maps[] = { "opus/16000/2", "opus", "opus/48000/6" };

  for (guint i = 0; i < G_N_ELEMENTS (maps); i++)
    {
      g_autoptr (SpOfferAnswer) oa = new_oa ();
      g_autofree char *offer =
          g_strdup_printf ("v=0\r\no=- 1 1 IN IP4 127.0.0.5\r\ns=-\r\nc=IN IP4 127.0.0.5\r\n"
                           "t=0 0\r\nm=audio 7078 RTP/AVP 109 0\r\na=rtpmap:109 %s\r\n",
                           maps[i]);
      SpMediaParams p;
      g_autofree char *answer = answer_offer (oa, offer, &p);
      g_assert_nonnull (answer);
      g_assert_cmpint (p.codec, ==, SP_CODEC_PCMU);
    }
}

static void
test_error_status (void)
{
  g_autoptr (GError) sip = g_error_new_literal (SP_SIP_ERROR, SP_SDP_ERROR_NOT_ACCEPTABLE, "x");
  g_autoptr (GError) other = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "x");
  g_autoptr (GError) failed = g_error_new_literal (SP_MEDIA_ERROR, SP_MEDIA_ERROR_FAILED, "x");

  g_assert_cmpuint (sp_offer_answer_error_status (sip), ==, 488);
  g_assert_cmpuint (sp_offer_answer_error_status (other), ==, 500);
  g_assert_cmpuint (sp_offer_answer_error_status (failed), ==, 500);
}

/* Comfort noise (RFC 3389): answered and used only when the offer has CN
 * at the chosen codec's RTP clock (G.722 and G.711: CN/8000, static 13 or
 * dynamic); never beside Opus (DTX); our offers list CN/8000 last, and
 * an answer without it leaves CN off. */
static void
test_comfort_noise (void)
{
  static const char pcmu_cn[] = "v=0\r\no=- 1 1 IN IP4 127.0.0.5\r\ns=-\r\nc=IN IP4 127.0.0.5\r\n"
                                "t=0 0\r\nm=audio 7078 RTP/AVP 0 101 13\r\n"
                                "a=rtpmap:101 telephone-event/8000\r\n";
  static const char g722_dyn_cn[] =
      "v=0\r\no=- 1 1 IN IP4 127.0.0.5\r\ns=-\r\n"
      "c=IN IP4 127.0.0.5\r\nt=0 0\r\nm=audio 7078 RTP/AVP 9 98 97\r\n"
      "a=rtpmap:98 CN/16000\r\na=rtpmap:97 CN/8000\r\n";
  static const char opus_cn[] = "v=0\r\no=- 1 1 IN IP4 127.0.0.5\r\ns=-\r\nc=IN IP4 127.0.0.5\r\n"
                                "t=0 0\r\nm=audio 7078 RTP/AVP 96 13\r\n"
                                "a=rtpmap:96 opus/48000/2\r\n";
  static const char no_cn[] = "v=0\r\no=- 1 1 IN IP4 127.0.0.5\r\ns=-\r\nc=IN IP4 127.0.0.5\r\n"
                              "t=0 0\r\nm=audio 7078 RTP/AVP 0\r\n";
  static const char answer_cn[] = "v=0\r\no=- 7 7 IN IP4 127.0.0.6\r\ns=-\r\nc=IN IP4 127.0.0.6\r\n"
                                  "t=0 0\r\nm=audio 6000 RTP/AVP 9 13\r\n";
  SpMediaParams p;

  {
    g_autoptr (SpOfferAnswer) oa = new_oa ();
    g_autofree char *text = answer_offer (oa, pcmu_cn, &p);
    g_autoptr (SpSdpSession) sdp = parse (text);
    g_autofree char *formats = formats_of (sp_sdp_session_get_media (sdp, 0));
    g_assert_cmpstr (formats, ==, "0 101 13");
    g_assert_cmpuint (p.cn_payload_type, ==, 13);
  }
  {
    g_autoptr (SpOfferAnswer) oa = new_oa ();
    g_autofree char *text = answer_offer (oa, g722_dyn_cn, &p);
    g_autoptr (SpSdpSession) sdp = parse (text);
    g_autofree char *formats = formats_of (sp_sdp_session_get_media (sdp, 0));
    g_assert_cmpstr (formats, ==, "9 97");
    g_assert_cmpint (p.codec, ==, SP_CODEC_G722);
    g_assert_cmpuint (p.cn_payload_type, ==, 97);
  }
  {
    g_autoptr (SpOfferAnswer) oa = new_oa ();
    g_autofree char *text = answer_offer (oa, opus_cn, &p);
    g_autoptr (SpSdpSession) sdp = parse (text);
    g_autofree char *formats = formats_of (sp_sdp_session_get_media (sdp, 0));
    g_assert_cmpstr (formats, ==, "96");
    g_assert_cmpuint (p.cn_payload_type, ==, 0);
  }
  {
    g_autoptr (SpOfferAnswer) oa = new_oa ();
    g_autofree char *text = answer_offer (oa, no_cn, &p);
    g_assert_nonnull (text);
    g_assert_cmpuint (p.cn_payload_type, ==, 0);
  }
  {
    g_autoptr (SpOfferAnswer) oa = new_oa ();
    g_autofree char *offer = sp_offer_answer_create_offer (oa);
    g_autoptr (GError) error = NULL;
    g_assert_nonnull (strstr (offer, "a=rtpmap:13 CN/8000\r\n"));
    g_assert_true (sp_offer_answer_process_answer (oa, answer_cn, strlen (answer_cn), &p, &error));
    g_assert_no_error (error);
    g_assert_cmpint (p.codec, ==, SP_CODEC_G722);
    g_assert_cmpuint (p.cn_payload_type, ==, 13);
  }
}

/* ---- DTLS-SRTP (a=fingerprint, a=setup) ---- */

#define FP_CALLER                                                                                  \
  "5A:1B:E4:7C:9D:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:01:23:45:67:89:AB:CD:EF:10:20:"  \
  "30"
#define FP_CALLEE                                                                                  \
  "C0:FF:EE:7C:9D:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:01:23:45:67:89:AB:CD:EF:10:20:"  \
  "30"

static SpOfferAnswer *
new_dtls_oa (const char *fingerprint, gboolean required, guint16 port)
{
  SpOfferAnswerConfig config = { 0 };

  config.local_address = "127.0.0.1";
  config.rtp_port = port;
  config.dtls_fingerprint = fingerprint;
  config.encryption = required ? SP_MEDIA_ENCRYPTION_REQUIRED : SP_MEDIA_ENCRYPTION_PREFERRED;
  return sp_offer_answer_new (&config);
}

/* Two of our phones, "preferred" (the default): the offer names
 * UDP/TLS/RTP/SAVP with a=fingerprint and a=setup:actpass (RFC 5764,
 * what baresip and linphonec take DTLS on), the answer keeps the profile
 * and says active; a re-offer (hold) stays on the profile; both
 * know the other's fingerprint, the offerer is the DTLS server, and the
 * media waits for the keys (params.srtp). */
static void
test_dtls_between_ours (void)
{
  g_autoptr (SpOfferAnswer) caller = new_dtls_oa (FP_CALLER, FALSE, 40000);
  g_autoptr (SpOfferAnswer) callee = new_dtls_oa (FP_CALLEE, FALSE, 42000);
  g_autofree char *offer = sp_offer_answer_create_offer (caller);
  g_autofree char *answer = NULL;
  g_autoptr (GError) error = NULL;
  SpMediaParams p1, p2;
  SpOfferAnswerDtls d1, d2;
  SpDtlsRole role;

  g_assert_nonnull (strstr (offer, "m=audio 40000 UDP/TLS/RTP/SAVP "));
  g_assert_nonnull (strstr (offer, "a=fingerprint:sha-256 " FP_CALLER "\r\n"));
  g_assert_nonnull (strstr (offer, "a=setup:actpass\r\n"));
  answer = sp_offer_answer_process_offer (callee, offer, strlen (offer), &p2, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (answer, "m=audio 42000 UDP/TLS/RTP/SAVP "));
  g_assert_nonnull (strstr (answer, "a=fingerprint:sha-256 " FP_CALLEE "\r\n"));
  g_assert_nonnull (strstr (answer, "a=setup:active\r\n"));
  g_assert_true (sp_offer_answer_process_answer (caller, answer, strlen (answer), &p1, &error));
  g_assert_no_error (error);
  g_assert_true (p1.srtp && p2.srtp);
  sp_offer_answer_get_dtls (caller, &d1);
  sp_offer_answer_get_dtls (callee, &d2);
  g_assert_true (d1.active && d2.active);
  g_assert_cmpstr (d1.remote_hash, ==, "sha-256");
  g_assert_cmpstr (d1.remote_fingerprint, ==, FP_CALLEE);
  g_assert_cmpstr (d2.remote_fingerprint, ==, FP_CALLER);
  g_assert_true (sp_dtls_role_for (d1.local_setup, d1.remote_setup, &role));
  g_assert_cmpint (role, ==, SP_DTLS_ROLE_SERVER);
  g_assert_true (sp_dtls_role_for (d2.local_setup, d2.remote_setup, &role));
  g_assert_cmpint (role, ==, SP_DTLS_ROLE_CLIENT);
  /* Established: nothing to fall back from; both re-offer on the profile. */
  g_assert_false (sp_offer_answer_fall_back (caller));
  sp_offer_answer_set_hold (caller, TRUE);
  {
    g_autofree char *reoffer = sp_offer_answer_create_offer (caller);
    g_autofree char *callee_offer = NULL;
    g_assert_nonnull (strstr (reoffer, "m=audio 40000 UDP/TLS/RTP/SAVP "));
    sp_offer_answer_rollback (caller);
    callee_offer = sp_offer_answer_create_offer (callee);
    g_assert_nonnull (strstr (callee_offer, "m=audio 42000 UDP/TLS/RTP/SAVP "));
  }
}

/* RFC 8842 5.5: the callee (the DTLS client) re-offers actpass to hold;
 * the caller, the DTLS server so far, keeps its role in the answer
 * (passive), so the association and its keys go on. The same re-offer
 * with another fingerprint is a new association: answered active by the
 * usual rule (the call then runs a new handshake). */
static void
test_dtls_reoffer_keeps_role (void)
{
  g_autoptr (SpOfferAnswer) caller = new_dtls_oa (FP_CALLER, FALSE, 40000);
  g_autoptr (SpOfferAnswer) callee = new_dtls_oa (FP_CALLEE, FALSE, 42000);
  g_autofree char *offer = sp_offer_answer_create_offer (caller);
  g_autofree char *answer = NULL, *reoffer = NULL, *reanswer = NULL, *other = NULL;
  g_autofree char *other_answer = NULL;
  g_autoptr (GError) error = NULL;
  SpMediaParams p;
  SpOfferAnswerDtls d;
  SpDtlsRole role;

  answer = sp_offer_answer_process_offer (callee, offer, strlen (offer), &p, &error);
  g_assert_no_error (error);
  g_assert_true (sp_offer_answer_process_answer (caller, answer, strlen (answer), &p, &error));
  sp_offer_answer_set_hold (callee, TRUE);
  reoffer = sp_offer_answer_create_offer (callee);
  g_assert_nonnull (strstr (reoffer, "a=setup:actpass\r\n"));
  reanswer = sp_offer_answer_process_offer (caller, reoffer, strlen (reoffer), &p, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (reanswer, "a=setup:passive\r\n"));
  sp_offer_answer_get_dtls (caller, &d);
  g_assert_true (sp_dtls_role_for (d.local_setup, d.remote_setup, &role));
  g_assert_cmpint (role, ==, SP_DTLS_ROLE_SERVER);
  g_assert_true (sp_offer_answer_process_answer (callee, reanswer, strlen (reanswer), &p, &error));
  sp_offer_answer_get_dtls (callee, &d);
  g_assert_true (sp_dtls_role_for (d.local_setup, d.remote_setup, &role));
  g_assert_cmpint (role, ==, SP_DTLS_ROLE_CLIENT);

  /* Another phone behind the dialog: another fingerprint. */
  other = sp_offer_answer_create_offer (callee);
  {
    g_autoptr (GString) swapped = g_string_new (other);
    g_string_replace (swapped, FP_CALLEE, FP_CALLER, 0);
    g_clear_pointer (&other, g_free);
    other = g_string_free (g_steal_pointer (&swapped), FALSE);
  }
  other_answer = sp_offer_answer_process_offer (caller, other, strlen (other), &p, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (other_answer, "a=setup:active\r\n"));
  sp_offer_answer_get_dtls (caller, &d);
  g_assert_cmpstr (d.remote_fingerprint, ==, FP_CALLER);
  g_assert_true (sp_dtls_role_for (d.local_setup, d.remote_setup, &role));
  g_assert_cmpint (role, ==, SP_DTLS_ROLE_CLIENT);
}

/* A peer that takes DTLS-SRTP on RTP/AVP only (the fallback offer, as a
 * Softphone before this profile did): re-offers stay on RTP/AVP. */
static void
test_dtls_fallback_ours (void)
{
  g_autoptr (SpOfferAnswer) caller = new_dtls_oa (FP_CALLER, FALSE, 40000);
  g_autoptr (SpOfferAnswer) callee = new_dtls_oa (FP_CALLEE, FALSE, 42000);
  g_autofree char *first = sp_offer_answer_create_offer (caller);
  g_autofree char *offer = NULL;
  g_autofree char *answer = NULL;
  g_autofree char *reoffer = NULL;
  g_autoptr (GError) error = NULL;
  SpMediaParams p;

  g_assert_nonnull (strstr (first, " UDP/TLS/RTP/SAVP "));
  g_assert_true (sp_offer_answer_fall_back (caller));
  g_assert_false (sp_offer_answer_fall_back (caller)); /* once */
  offer = sp_offer_answer_create_offer (caller);
  g_assert_nonnull (strstr (offer, "m=audio 40000 RTP/AVP "));
  g_assert_nonnull (strstr (offer, "a=fingerprint:sha-256 " FP_CALLER "\r\n"));
  answer = sp_offer_answer_process_offer (callee, offer, strlen (offer), &p, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (answer, "m=audio 42000 RTP/AVP "));
  g_assert_true (sp_offer_answer_process_answer (caller, answer, strlen (answer), &p, &error));
  g_assert_no_error (error);
  g_assert_true (p.srtp);
  reoffer = sp_offer_answer_create_offer (caller);
  g_assert_nonnull (strstr (reoffer, "m=audio 40000 RTP/AVP "));
  g_assert_nonnull (strstr (reoffer, "a=fingerprint:"));
}

/* Preferred meets a plain RTP peer: it refuses the UDP/TLS/RTP/SAVP
 * offer (488); the fallback offer (RTP/AVP with a=fingerprint) gets an
 * answer without fingerprint, the call is plain RTP (nothing waits for
 * keys); its offer without one is answered without ours. A peer that
 * answers the profile with plain RTP/AVP is taken as plain too. */
static void
test_dtls_preferred_plain_peer (void)
{
  g_autoptr (SpOfferAnswer) ours = new_dtls_oa (FP_CALLER, FALSE, 40000);
  g_autoptr (SpOfferAnswer) theirs = new_oa ();
  g_autoptr (SpOfferAnswer) ours2 = new_dtls_oa (FP_CALLER, FALSE, 40000);
  g_autofree char *offer = sp_offer_answer_create_offer (ours);
  g_autofree char *answer = NULL;
  g_autofree char *plain_offer = sp_offer_answer_create_offer (theirs);
  g_autofree char *our_answer = NULL;
  g_autoptr (SpOfferAnswer) theirs2 = new_oa ();
  g_autoptr (GError) error = NULL;
  SpMediaParams p;
  SpOfferAnswerDtls d;

  g_autoptr (SpOfferAnswer) lenient = new_dtls_oa (FP_CALLER, FALSE, 40000);
  g_autofree char *lenient_offer = sp_offer_answer_create_offer (lenient);
  const char *plain_answer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
                             "t=0 0\r\nm=audio 42000 RTP/AVP 0\r\na=sendrecv\r\n";

  g_assert_nonnull (strstr (offer, " UDP/TLS/RTP/SAVP "));
  g_assert_null (sp_offer_answer_process_offer (theirs2, offer, strlen (offer), &p, &error));
  g_assert_cmpuint (sp_offer_answer_error_status (error), ==, 488);
  g_clear_error (&error);
  g_assert_true (sp_offer_answer_fall_back (ours));
  g_free (offer);
  offer = sp_offer_answer_create_offer (ours);
  g_assert_nonnull (strstr (offer, " RTP/AVP "));
  answer = sp_offer_answer_process_offer (theirs2, offer, strlen (offer), &p, &error);
  g_assert_no_error (error);
  g_assert_null (strstr (answer, "a=fingerprint"));
  g_assert_true (sp_offer_answer_process_answer (ours, answer, strlen (answer), &p, &error));
  g_assert_false (p.srtp);
  sp_offer_answer_get_dtls (ours, &d);
  g_assert_false (d.active);

  our_answer = sp_offer_answer_process_offer (ours2, plain_offer, strlen (plain_offer), &p, &error);
  g_assert_no_error (error);
  g_assert_null (strstr (our_answer, "a=fingerprint"));
  g_assert_null (strstr (our_answer, "a=setup"));
  g_assert_false (p.srtp);

  g_assert_nonnull (strstr (lenient_offer, " UDP/TLS/RTP/SAVP "));
  g_assert_true (
      sp_offer_answer_process_answer (lenient, plain_answer, strlen (plain_answer), &p, &error));
  g_assert_no_error (error);
  g_assert_false (p.srtp);
}

/* Required: UDP/TLS/RTP/SAVP in the offer; a plain answer, or a plain
 * offer, is refused with 488; a UDP/TLS offer to a phone without DTLS
 * too. */
static void
test_dtls_required (void)
{
  g_autoptr (SpOfferAnswer) ours = new_dtls_oa (FP_CALLER, TRUE, 40000);
  g_autoptr (SpOfferAnswer) peer = new_dtls_oa (FP_CALLEE, FALSE, 42000);
  g_autoptr (SpOfferAnswer) plain = new_oa ();
  g_autoptr (SpOfferAnswer) plain_offerer = new_oa ();
  g_autofree char *offer = sp_offer_answer_create_offer (ours);
  g_autofree char *answer = NULL;
  g_autofree char *plain_offer = sp_offer_answer_create_offer (plain_offerer);
  g_autofree char *refused = NULL;
  const char *plain_answer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
                             "t=0 0\r\nm=audio 42000 RTP/AVP 0\r\na=sendrecv\r\n";
  g_autoptr (GError) error = NULL;
  SpMediaParams p;

  g_assert_nonnull (strstr (offer, "m=audio 40000 UDP/TLS/RTP/SAVP "));
  answer = sp_offer_answer_process_offer (peer, offer, strlen (offer), &p, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (answer, "m=audio 42000 UDP/TLS/RTP/SAVP "));
  g_assert_true (p.srtp);
  g_assert_null (sp_offer_answer_process_offer (plain, offer, strlen (offer), &p, &error));
  g_assert_cmpuint (sp_offer_answer_error_status (error), ==, 488);
  g_clear_error (&error);
  g_assert_false (sp_offer_answer_fall_back (ours)); /* required never falls back */

  g_assert_false (
      sp_offer_answer_process_answer (ours, plain_answer, strlen (plain_answer), &p, &error));
  g_assert_cmpuint (sp_offer_answer_error_status (error), ==, 488);
  g_assert_nonnull (strstr (error->message, "requires"));
  g_clear_error (&error);

  refused = sp_offer_answer_process_offer (ours, plain_offer, strlen (plain_offer), &p, &error);
  g_assert_null (refused);
  g_assert_cmpuint (sp_offer_answer_error_status (error), ==, 488);
}

/* The tls-id value of @sdp's a=tls-id line, in @out. */
static void
tls_id_of (const char *sdp, char out[64])
{
  const char *at = strstr (sdp, "a=tls-id:");
  gsize len;

  g_assert_nonnull (at);
  at += strlen ("a=tls-id:");
  len = strcspn (at, "\r\n");
  g_assert_cmpuint (len, <, 64);
  memcpy (out, at, len);
  out[len] = '\0';
}

/* RFC 8842: offers and answers name a tls-id (32 hex characters, the
 * same while the association lasts). The callee's re-offer with the same
 * fingerprint keeps the association (and the caller's tls-id) only while
 * its tls-id stays: a new one is a new association, answered by the
 * usual rule (the caller, the DTLS server so far, turns client) with a
 * new tls-id of the caller's. A malformed tls-id counts as none. */
static void
test_dtls_tls_id (void)
{
  g_autoptr (SpOfferAnswer) caller = new_dtls_oa (FP_CALLER, FALSE, 40000);
  g_autoptr (SpOfferAnswer) callee = new_dtls_oa (FP_CALLEE, FALSE, 42000);
  g_autofree char *offer = sp_offer_answer_create_offer (caller);
  g_autofree char *answer = NULL, *reoffer = NULL, *reanswer = NULL;
  g_autoptr (GError) error = NULL;
  char caller_id[64], callee_id[64], id[64];
  SpMediaParams p;
  SpOfferAnswerDtls d;
  SpDtlsRole role;

  tls_id_of (offer, caller_id);
  g_assert_cmpuint (strlen (caller_id), ==, 32);
  g_assert_cmpuint (strspn (caller_id, "0123456789abcdef"), ==, 32);
  answer = sp_offer_answer_process_offer (callee, offer, strlen (offer), &p, &error);
  g_assert_no_error (error);
  tls_id_of (answer, callee_id);
  g_assert_cmpstr (callee_id, !=, caller_id);
  g_assert_true (sp_offer_answer_process_answer (caller, answer, strlen (answer), &p, &error));
  sp_offer_answer_get_dtls (caller, &d);
  g_assert_cmpstr (d.remote_tls_id, ==, callee_id);
  sp_offer_answer_get_dtls (callee, &d);
  g_assert_cmpstr (d.remote_tls_id, ==, caller_id);

  /* Hold from the callee, same tls-id: the caller stays the server and
   * keeps its tls-id. */
  sp_offer_answer_set_hold (callee, TRUE);
  reoffer = sp_offer_answer_create_offer (callee);
  tls_id_of (reoffer, id);
  g_assert_cmpstr (id, ==, callee_id);
  reanswer = sp_offer_answer_process_offer (caller, reoffer, strlen (reoffer), &p, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (reanswer, "a=setup:passive\r\n"));
  tls_id_of (reanswer, id);
  g_assert_cmpstr (id, ==, caller_id);
  g_assert_true (sp_offer_answer_process_answer (callee, reanswer, strlen (reanswer), &p, &error));
  g_clear_pointer (&reoffer, g_free);
  g_clear_pointer (&reanswer, g_free);

  /* The same re-offer with a malformed tls-id (too short): as none. */
  reoffer = sp_offer_answer_create_offer (callee);
  {
    g_autoptr (GString) bad = g_string_new (reoffer);
    g_string_replace (bad, callee_id, "short", 0);
    reanswer = sp_offer_answer_process_offer (caller, bad->str, bad->len, &p, &error);
  }
  g_assert_no_error (error);
  g_assert_nonnull (strstr (reanswer, "a=setup:passive\r\n"));
  sp_offer_answer_get_dtls (caller, &d);
  g_assert_cmpstr (d.remote_tls_id, ==, callee_id);
  g_assert_true (sp_offer_answer_process_answer (callee, reanswer, strlen (reanswer), &p, &error));
  g_clear_pointer (&reoffer, g_free);
  g_clear_pointer (&reanswer, g_free);

  /* A new tls-id, same fingerprint: a new association. */
  reoffer = sp_offer_answer_create_offer (callee);
  {
    g_autoptr (GString) renewed = g_string_new (reoffer);
    g_string_replace (renewed, callee_id, "0123456789abcdef0123456789ABCDEF+/-_", 0);
    reanswer = sp_offer_answer_process_offer (caller, renewed->str, renewed->len, &p, &error);
  }
  g_assert_no_error (error);
  g_assert_nonnull (strstr (reanswer, "a=setup:active\r\n"));
  tls_id_of (reanswer, id);
  g_assert_cmpstr (id, !=, caller_id);
  g_assert_cmpuint (strlen (id), ==, 32);
  sp_offer_answer_get_dtls (caller, &d);
  g_assert_cmpstr (d.remote_tls_id, ==, "0123456789abcdef0123456789ABCDEF+/-_");
  g_assert_true (sp_dtls_role_for (d.local_setup, d.remote_setup, &role));
  g_assert_cmpint (role, ==, SP_DTLS_ROLE_CLIENT);
  /* The caller's next offer names its new tls-id. */
  {
    g_autofree char *next = NULL;
    char after[64];
    g_assert_true (
        sp_offer_answer_process_answer (callee, reanswer, strlen (reanswer), &p, &error));
    next = sp_offer_answer_create_offer (caller);
    tls_id_of (next, after);
    g_assert_cmpstr (after, ==, id);
  }
  /* An offer without a=setup (active): answered passive, we are the
   * DTLS server, and a re-offer the same way keeps our tls-id. */
  {
    g_autoptr (SpOfferAnswer) ours = new_dtls_oa (FP_CALLEE, FALSE, 44000);
    g_autofree char *plain_setup = NULL;
    g_autofree char *answer1 = NULL, *answer2 = NULL;
    g_autoptr (GString) o = g_string_new (NULL);
    char id1[64], id2[64];

    plain_setup = sp_offer_answer_create_offer (callee);
    g_string_assign (o, plain_setup);
    g_string_replace (o, "a=setup:actpass\r\n", "", 0);
    answer1 = sp_offer_answer_process_offer (ours, o->str, o->len, &p, &error);
    g_assert_no_error (error);
    g_assert_nonnull (strstr (answer1, "a=setup:passive\r\n"));
    sp_offer_answer_get_dtls (ours, &d);
    g_assert_true (sp_dtls_role_for (d.local_setup, d.remote_setup, &role));
    g_assert_cmpint (role, ==, SP_DTLS_ROLE_SERVER);
    answer2 = sp_offer_answer_process_offer (ours, o->str, o->len, &p, &error);
    g_assert_no_error (error);
    tls_id_of (answer1, id1);
    tls_id_of (answer2, id2);
    g_assert_cmpstr (id1, ==, id2);
    sp_offer_answer_rollback (callee);
  }
  g_assert_true (sp_offer_answer_tls_id_changed ("a", "b"));
  g_assert_false (sp_offer_answer_tls_id_changed (NULL, "b"));
  g_assert_false (sp_offer_answer_tls_id_changed ("a", NULL));
  g_assert_false (sp_offer_answer_tls_id_changed ("a", "a"));
}

/* Required over TLS: the first offer is DTLS-SRTP's own profile with no
 * key in it (what linphonec in dtls mode takes, also through our server,
 * which strips a=crypto); refused, the one retry is RTP/SAVP with SDES
 * keys and the fingerprint, never anything plain; refused again, nothing
 * is left to offer. */
static void
test_dtls_required_tls (void)
{
  SpOfferAnswerConfig config = { 0 };
  g_autoptr (SpOfferAnswer) ours = NULL;
  g_autofree char *first = NULL, *second = NULL;

  config.local_address = "127.0.0.1";
  config.rtp_port = 40000;
  config.dtls_fingerprint = FP_CALLER;
  config.encryption = SP_MEDIA_ENCRYPTION_REQUIRED;
  config.sdes = TRUE;
  ours = sp_offer_answer_new (&config);
  first = sp_offer_answer_create_offer (ours);
  g_assert_nonnull (strstr (first, "m=audio 40000 UDP/TLS/RTP/SAVP "));
  g_assert_null (strstr (first, "a=crypto:"));
  g_assert_true (sp_offer_answer_fall_back (ours));
  second = sp_offer_answer_create_offer (ours);
  g_assert_nonnull (strstr (second, "m=audio 40000 RTP/SAVP "));
  g_assert_nonnull (strstr (second, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"));
  g_assert_nonnull (strstr (second, "a=fingerprint:sha-256 " FP_CALLER "\r\n"));
  g_assert_false (sp_offer_answer_fall_back (ours));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/media/offer-answer/offer", test_offer);
  g_test_add_func ("/media/offer-answer/dtls-between-ours", test_dtls_between_ours);
  g_test_add_func ("/media/offer-answer/dtls-reoffer-keeps-role", test_dtls_reoffer_keeps_role);
  g_test_add_func ("/media/offer-answer/dtls-preferred-plain-peer", test_dtls_preferred_plain_peer);
  g_test_add_func ("/media/offer-answer/dtls-fallback-ours", test_dtls_fallback_ours);
  g_test_add_func ("/media/offer-answer/dtls-required", test_dtls_required);
  g_test_add_func ("/media/offer-answer/dtls-required-tls", test_dtls_required_tls);
  g_test_add_func ("/media/offer-answer/dtls-tls-id", test_dtls_tls_id);
  g_test_add_func ("/media/offer-answer/offer-config", test_offer_config);
  g_test_add_func ("/media/offer-answer/answer-baresip", test_answer_baresip);
  g_test_add_func ("/media/offer-answer/answer-yate", test_answer_yate);
  g_test_add_func ("/media/offer-answer/answer-order", test_answer_order);
  g_test_add_func ("/media/offer-answer/answer-dynamic", test_answer_dynamic);
  g_test_add_func ("/media/offer-answer/process-answer-dynamic", test_process_answer_dynamic);
  g_test_add_func ("/media/offer-answer/rtcp-without-address", test_rtcp_without_address);
  g_test_add_func ("/media/offer-answer/answer-g722-only", test_answer_g722_only);
  g_test_add_func ("/media/offer-answer/g722-not-configured", test_g722_not_configured);
  g_test_add_func ("/media/offer-answer/no-common-codec", test_no_common_codec);
  g_test_add_func ("/media/offer-answer/bad-offers", test_bad_offers);
  g_test_add_func ("/media/offer-answer/other-streams-rejected", test_other_streams_rejected);
  g_test_add_func ("/media/offer-answer/remote-hold", test_remote_hold);
  g_test_add_func ("/media/offer-answer/local-hold", test_local_hold);
  g_test_add_func ("/media/offer-answer/both-hold", test_both_hold);
  g_test_add_func ("/media/offer-answer/answer-while-holding", test_answer_while_holding);
  g_test_add_func ("/media/offer-answer/answer-rejected", test_answer_rejected);
  g_test_add_func ("/media/offer-answer/answer-no-common-codec", test_answer_no_common_codec);
  g_test_add_func ("/media/offer-answer/answer-without-offer", test_answer_without_offer);
  g_test_add_func ("/media/offer-answer/reoffer", test_reoffer);
  g_test_add_func ("/media/offer-answer/reoffer-refused", test_reoffer_refused_keeps_state);
  g_test_add_func ("/media/offer-answer/glare", test_glare);
  g_test_add_func ("/media/offer-answer/ptime", test_ptime);
  g_test_add_func ("/media/offer-answer/error-status", test_error_status);
  g_test_add_func ("/media/offer-answer/opus-between-us", test_opus_between_us);
  g_test_add_func ("/media/offer-answer/opus-fallback", test_opus_fallback);
  g_test_add_func ("/media/offer-answer/opus-fmtp", test_opus_fmtp);
  g_test_add_func ("/media/offer-answer/opus-dtmf-numbers", test_opus_dtmf_numbers);
  g_test_add_func ("/media/offer-answer/opus-wrong-rtpmap", test_opus_wrong_rtpmap);
  g_test_add_func ("/media/offer-answer/comfort-noise", test_comfort_noise);
  return g_test_run ();
}
