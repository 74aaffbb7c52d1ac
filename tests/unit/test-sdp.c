/* SDP parse, build and serialize (src/sip/sdp.c). */

#include <string.h>

#include "sip/sdp.h"

/* A baresip-style audio offer. */
static const char baresip_offer[] = "v=0\r\n"
                                    "o=- 1712345678 1712345679 IN IP4 127.0.0.1\r\n"
                                    "s=-\r\n"
                                    "c=IN IP4 127.0.0.1\r\n"
                                    "t=0 0\r\n"
                                    "a=tool:baresip 3.0.0\r\n"
                                    "m=audio 10000 RTP/AVP 0 8 101\r\n"
                                    "b=AS:80\r\n"
                                    "a=rtpmap:0 PCMU/8000\r\n"
                                    "a=rtpmap:8 PCMA/8000\r\n"
                                    "a=rtpmap:101 telephone-event/8000\r\n"
                                    "a=fmtp:101 0-15\r\n"
                                    "a=sendrecv\r\n"
                                    "a=label:1\r\n"
                                    "a=ssrc:1234 cname:x@y\r\n"
                                    "a=rtcp-rsize\r\n"
                                    "a=ptime:20\r\n";

/* A Yate-style offer: session-level direction, rtcp with address. */
static const char yate_offer[] = "v=0\r\n"
                                 "o=yate 1700000000 1700000000 IN IP4 127.0.0.2\r\n"
                                 "s=SIP Call\r\n"
                                 "c=IN IP4 127.0.0.2\r\n"
                                 "t=0 0\r\n"
                                 "a=recvonly\r\n"
                                 "m=audio 20000 RTP/AVP 8 0 3 101\r\n"
                                 "a=rtpmap:8 PCMA/8000\r\n"
                                 "a=rtpmap:0 PCMU/8000\r\n"
                                 "a=rtpmap:3 GSM/8000\r\n"
                                 "a=rtpmap:101 telephone-event/8000\r\n"
                                 "a=ptime:20\r\n"
                                 "a=maxptime:40\r\n"
                                 "a=rtcp:20011 IN IP4 127.0.0.3\r\n"
                                 "m=video 0 RTP/AVP 31\r\n";

static SpSdpSession *
parse_ok (const char *text)
{
  g_autoptr (GError) error = NULL;
  SpSdpSession *s = sp_sdp_session_parse (text, strlen (text), &error);

  g_assert_no_error (error);
  g_assert_nonnull (s);
  return s;
}

static void
parse_fails (const char *text, gint code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSdpSession) s = sp_sdp_session_parse (text, strlen (text), &error);

  g_assert_null (s);
  g_assert_error (error, SP_SIP_ERROR, code);
  g_assert_true (g_str_has_prefix (error->message, code == 400 ? "Bad SDP" : "SDP"));
}

/* Serializes, parses that again and checks the two agree. Returns the
 * text. */
static char *
check_round_trip (const SpSdpSession *s)
{
  char *text = sp_sdp_session_to_string (s);
  g_autoptr (SpSdpSession) again = parse_ok (text);
  g_autofree char *text2 = sp_sdp_session_to_string (again);

  g_assert_cmpstr (text, ==, text2);
  g_assert_true (sp_sdp_session_equal (s, again));
  return text;
}

static void
test_baresip_offer (void)
{
  g_autoptr (SpSdpSession) s = parse_ok (baresip_offer);
  g_autofree char *text = NULL;
  SpSdpMedia *m;
  SpSdpRtpmap map;
  const SpSdpConnection *c;

  g_assert_cmpstr (sp_sdp_session_get_origin_username (s), ==, "-");
  g_assert_cmpuint (sp_sdp_session_get_session_id (s), ==, 1712345678);
  g_assert_cmpuint (sp_sdp_session_get_session_version (s), ==, 1712345679);
  g_assert_cmpint (sp_sdp_session_get_origin_addr_type (s), ==, SP_SDP_ADDR_IP4);
  g_assert_cmpstr (sp_sdp_session_get_origin_address (s), ==, "127.0.0.1");
  g_assert_cmpstr (sp_sdp_session_get_name (s), ==, "-");
  g_assert_cmpstr (sp_sdp_session_get_attribute (s, "tool"), ==, "baresip 3.0.0");
  c = sp_sdp_session_get_connection (s);
  g_assert_nonnull (c);
  g_assert_cmpstr (c->address, ==, "127.0.0.1");
  g_assert_cmpuint (c->ttl, ==, 0);
  g_assert_cmpuint (c->n_addresses, ==, 1);

  g_assert_cmpuint (sp_sdp_session_get_n_media (s), ==, 1);
  m = sp_sdp_session_get_media (s, 0);
  g_assert_cmpstr (sp_sdp_media_get_media_type (m), ==, "audio");
  g_assert_cmpuint (sp_sdp_media_get_port (m), ==, 10000);
  g_assert_cmpuint (sp_sdp_media_get_port_count (m), ==, 1);
  g_assert_cmpstr (sp_sdp_media_get_proto (m), ==, "RTP/AVP");
  g_assert_cmpuint (sp_sdp_media_get_n_formats (m), ==, 3);
  g_assert_cmpint (sp_sdp_media_get_payload_type (m, 0), ==, 0);
  g_assert_cmpint (sp_sdp_media_get_payload_type (m, 1), ==, 8);
  g_assert_cmpint (sp_sdp_media_get_payload_type (m, 2), ==, 101);
  g_assert_cmpint (sp_sdp_media_get_bandwidth (m, "AS"), ==, 80);
  g_assert_cmpint (sp_sdp_media_get_bandwidth (m, "TIAS"), ==, -1);
  g_assert_null (sp_sdp_media_get_connection (m));
  g_assert_true (sp_sdp_media_get_effective_connection (m) == c);

  g_assert_true (sp_sdp_media_get_rtpmap (m, 101, &map));
  g_assert_cmpuint (map.payload_type, ==, 101);
  g_assert_cmpstr (map.encoding, ==, "telephone-event");
  g_assert_cmpuint (map.clock_rate, ==, 8000);
  g_assert_cmpuint (map.channels, ==, 1);
  g_assert_cmpstr (map.fmtp, ==, "0-15");
  g_assert_true (sp_sdp_media_get_rtpmap (m, 8, &map));
  g_assert_cmpstr (map.encoding, ==, "PCMA");
  g_assert_null (map.fmtp);
  g_assert_false (sp_sdp_media_get_rtpmap (m, 102, &map));
  g_assert_cmpstr (sp_sdp_media_get_fmtp (m, 101), ==, "0-15");
  g_assert_cmpint (sp_sdp_media_get_ptime (m), ==, 20);
  g_assert_cmpint (sp_sdp_media_get_maxptime (m), ==, -1);
  g_assert_cmpint (sp_sdp_media_get_rtcp_port (m), ==, -1);
  g_assert_false (sp_sdp_media_get_rtcp_mux (m));
  g_assert_cmpint (sp_sdp_media_get_direction (m), ==, SP_SDP_DIRECTION_SENDRECV);
  /* Unknown attributes are kept in order. */
  g_assert_cmpstr (sp_sdp_media_get_attribute (m, "ssrc"), ==, "1234 cname:x@y");
  g_assert_cmpstr (sp_sdp_media_get_attribute (m, "rtcp-rsize"), ==, "");
  g_assert_cmpuint (sp_sdp_media_get_n_attributes (m), ==, 9);

  text = check_round_trip (s);
  g_assert_cmpstr (text, ==, baresip_offer);
}

static void
test_yate_offer (void)
{
  g_autoptr (SpSdpSession) s = parse_ok (yate_offer);
  g_autofree char *text = NULL;
  SpSdpMedia *audio, *video;
  SpSdpRtpmap map;

  g_assert_cmpstr (sp_sdp_session_get_name (s), ==, "SIP Call");
  g_assert_cmpint (sp_sdp_session_get_direction (s), ==, SP_SDP_DIRECTION_RECVONLY);
  g_assert_cmpuint (sp_sdp_session_get_n_media (s), ==, 2);
  audio = sp_sdp_session_get_media (s, 0);
  video = sp_sdp_session_get_media (s, 1);
  /* The session-level direction applies to media without their own. */
  g_assert_cmpint (sp_sdp_media_get_direction (audio), ==, SP_SDP_DIRECTION_RECVONLY);
  g_assert_cmpint (sp_sdp_media_get_maxptime (audio), ==, 40);
  g_assert_cmpint (sp_sdp_media_get_rtcp_port (audio), ==, 20011);
  g_assert_cmpstr (sp_sdp_media_get_rtcp_address (audio), ==, "127.0.0.3");
  g_assert_true (sp_sdp_media_get_rtpmap (audio, 3, &map));
  g_assert_cmpstr (map.encoding, ==, "GSM");
  g_assert_false (sp_sdp_media_is_rejected (audio));
  g_assert_true (sp_sdp_media_is_rejected (video));
  g_assert_cmpuint (sp_sdp_media_get_port (video), ==, 0);
  g_assert_true (sp_sdp_session_find_media (s, "audio") == audio);
  g_assert_null (sp_sdp_session_find_media (s, "video"));
  /* Static payload type without rtpmap: RFC 3551. */
  g_assert_true (sp_sdp_media_get_rtpmap (video, 31, &map));
  g_assert_cmpstr (map.encoding, ==, "H261");
  g_assert_cmpuint (map.clock_rate, ==, 90000);

  /* Media level wins over session level. */
  sp_sdp_media_set_direction (audio, SP_SDP_DIRECTION_SENDONLY);
  g_assert_cmpint (sp_sdp_media_get_direction (audio), ==, SP_SDP_DIRECTION_SENDONLY);
  g_assert_cmpint (sp_sdp_session_get_direction (s), ==, SP_SDP_DIRECTION_RECVONLY);
  sp_sdp_media_set_direction (audio, SP_SDP_DIRECTION_INACTIVE);
  g_assert_cmpint (sp_sdp_media_get_direction (audio), ==, SP_SDP_DIRECTION_INACTIVE);
  text = check_round_trip (s);
  g_assert_nonnull (strstr (text, "a=rtcp:20011 IN IP4 127.0.0.3\r\na=inactive\r\n"));
  g_assert_null (strstr (text, "a=sendonly"));
}

/* The SDP body of a torture message file: from "v=0" to the end. */
static char *
torture_body (const char *name, gsize *len)
{
  g_autofree char *path = g_build_filename (g_getenv ("SP_TESTDATA"), "sip-torture", name, NULL);
  g_autofree char *data = NULL;
  g_autoptr (GError) error = NULL;
  gsize data_len;
  const char *v;

  g_file_get_contents (path, &data, &data_len, &error);
  g_assert_no_error (error);
  v = g_strstr_len (data, (gssize) data_len, "\nv=0");
  g_assert_nonnull (v);
  v++;
  *len = data_len - (gsize) (v - data);
  return g_strndup (v, *len);
}

static SpSdpSession *
parse_torture (const char *name)
{
  gsize len;
  g_autofree char *body = torture_body (name, &len);
  g_autoptr (GError) error = NULL;
  SpSdpSession *s = sp_sdp_session_parse (body, len, &error);
  g_autofree char *text = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (s);
  text = check_round_trip (s);
  return s;
}

static void
test_rfc5118_ipv6 (void)
{
  const char *files[] = { "rfc5118-crlf/ipv6-in-sdp.dat", "rfc5118/ipv6-in-sdp.dat" };

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autoptr (SpSdpSession) s = parse_torture (files[i]);
      const SpSdpConnection *c = sp_sdp_session_get_connection (s);
      SpSdpMedia *video;
      SpSdpRtpmap map;

      g_assert_cmpuint (sp_sdp_session_get_session_id (s), ==,
                        G_GUINT64_CONSTANT (971731711378798081));
      g_assert_cmpint (sp_sdp_session_get_origin_addr_type (s), ==, SP_SDP_ADDR_IP6);
      g_assert_cmpstr (sp_sdp_session_get_origin_address (s), ==, "2001:db8::20");
      g_assert_cmpint (c->addr_type, ==, SP_SDP_ADDR_IP6);
      g_assert_cmpstr (c->address, ==, "2001:db8::20");
      g_assert_cmpuint (sp_sdp_session_get_start_time (s), ==, 3338481189u);
      g_assert_cmpuint (sp_sdp_session_get_stop_time (s), ==, 3370017201u);
      g_assert_cmpuint (sp_sdp_session_get_n_media (s), ==, 2);
      video = sp_sdp_session_get_media (s, 1);
      g_assert_cmpuint (sp_sdp_media_get_port (video), ==, 6024);
      g_assert_true (sp_sdp_media_get_rtpmap (video, 107, &map));
      g_assert_cmpstr (map.encoding, ==, "H263-1998");
      g_assert_cmpuint (map.clock_rate, ==, 90000);
      g_assert_true (sp_sdp_media_get_rtpmap (sp_sdp_session_get_media (s, 0), 2, &map));
      g_assert_cmpstr (map.encoding, ==, "G726-32");
    }
}

static void
test_rfc5118_mult_ip (void)
{
  g_autoptr (SpSdpSession) s = parse_torture ("rfc5118-crlf/mult-ip-in-sdp.dat");
  SpSdpMedia *audio = sp_sdp_session_get_media (s, 0);
  SpSdpMedia *video = sp_sdp_session_get_media (s, 1);
  const SpSdpConnection *c;

  g_assert_cmpstr (sp_sdp_session_get_name (s), ==, "");
  g_assert_null (sp_sdp_session_get_connection (s));
  c = sp_sdp_media_get_effective_connection (audio);
  g_assert_cmpint (c->addr_type, ==, SP_SDP_ADDR_IP4);
  g_assert_cmpstr (c->address, ==, "192.0.2.1");
  c = sp_sdp_media_get_effective_connection (video);
  g_assert_cmpint (c->addr_type, ==, SP_SDP_ADDR_IP6);
  g_assert_cmpstr (c->address, ==, "2001:db8::1");
  g_assert_cmpstr (sp_sdp_session_get_origin_address (s), ==, "host.example.com");
}

static void
test_rfc5118_mapped (void)
{
  g_autoptr (SpSdpSession) s = parse_torture ("rfc5118-crlf/ipv4-mapped-ipv6.dat");
  g_autoptr (SpSdpSession) lf = parse_torture ("rfc5118/ipv4-mapped-ipv6.dat");

  g_assert_cmpstr (sp_sdp_session_get_connection (s)->address, ==, "::ffff:192.0.2.2");
  g_assert_cmpstr (sp_sdp_session_get_name (s), ==, "Call me soon, please!");
  /* Bare LF and CRLF give the same description. */
  g_assert_true (sp_sdp_session_equal (s, lf));
}

static void
test_rfc4475_bodies (void)
{
  const char *files[] = { "wsinv.dat",   "esc01.dat",   "lwsruri.dat", "longreq.dat",
                          "multi01.dat", "inv2543.dat", "sdp01.dat" };

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *name = g_build_filename ("rfc4475", files[i], NULL);
      g_autoptr (SpSdpSession) s = parse_torture (name);
      SpSdpMedia *audio = sp_sdp_session_get_media (s, 0);
      SpSdpRtpmap map;

      g_assert_cmpstr (sp_sdp_session_get_origin_username (s), ==, "mhandley");
      g_assert_cmpuint (sp_sdp_session_get_session_id (s), ==, 29739);
      g_assert_cmpuint (sp_sdp_media_get_port (audio), ==, 49217);
      g_assert_cmpint (sp_sdp_media_get_payload_type (audio, 0), ==, 0);
      if (sp_sdp_session_get_n_media (s) == 2)
        {
          /* "a=rtpmap:31 LPC": no clock rate, kept as written. */
          g_assert_true (sp_sdp_media_get_rtpmap (sp_sdp_session_get_media (s, 1), 31, &map));
          g_assert_cmpstr (map.encoding, ==, "LPC");
          g_assert_cmpuint (map.clock_rate, ==, 0);
        }
    }
}

static void
test_unknown_lines_kept (void)
{
  static const char text[] = "v=0\r\n"
                             "o=alice 1 2 IN IP4 127.0.0.1\r\n"
                             "s=Talk\r\n"
                             "i=A session\r\n"
                             "u=http://example.com/x\r\n"
                             "e=alice@example.com\r\n"
                             "c=IN IP4 224.2.1.1/127/3\r\n"
                             "b=CT:128\r\n"
                             "t=2873397496 2873404696\r\n"
                             "r=7d 1h 0 25h\r\n"
                             "x=experimental line\r\n"
                             "a=x-unknown:value with spaces\r\n"
                             "a=group:BUNDLE 0\r\n"
                             "m=audio 49170/2 RTP/AVP 96\r\n"
                             "i=main audio\r\n"
                             "c=IN IP6 ::1/2\r\n"
                             "k=prompt\r\n"
                             "a=rtpmap:96 L16/16000/2\r\n"
                             "a=mid:0\r\n"
                             "a=rtcp:49175\r\n"
                             "a=rtcp-mux\r\n"
                             "y=another\r\n";
  g_autoptr (SpSdpSession) s = parse_ok (text);
  g_autofree char *out = check_round_trip (s);
  SpSdpMedia *m = sp_sdp_session_get_media (s, 0);
  const SpSdpConnection *c = sp_sdp_session_get_connection (s);
  SpSdpRtpmap map;
  const char *name, *value;

  g_assert_cmpstr (out, ==, text);
  g_assert_cmpstr (c->address, ==, "224.2.1.1");
  g_assert_cmpuint (c->ttl, ==, 127);
  g_assert_cmpuint (c->n_addresses, ==, 3);
  g_assert_cmpint (sp_sdp_session_get_bandwidth (s, "CT"), ==, 128);
  g_assert_cmpuint (sp_sdp_session_get_n_attributes (s), ==, 2);
  sp_sdp_session_get_nth_attribute (s, 1, &name, &value);
  g_assert_cmpstr (name, ==, "group");
  g_assert_cmpstr (value, ==, "BUNDLE 0");
  g_assert_cmpuint (sp_sdp_media_get_port_count (m), ==, 2);
  c = sp_sdp_media_get_connection (m);
  g_assert_cmpint (c->addr_type, ==, SP_SDP_ADDR_IP6);
  g_assert_cmpstr (c->address, ==, "::1");
  g_assert_cmpuint (c->n_addresses, ==, 2);
  g_assert_true (sp_sdp_media_get_rtpmap (m, 96, &map));
  g_assert_cmpuint (map.clock_rate, ==, 16000);
  g_assert_cmpuint (map.channels, ==, 2);
  g_assert_cmpint (sp_sdp_media_get_rtcp_port (m), ==, 49175);
  g_assert_null (sp_sdp_media_get_rtcp_address (m));
  g_assert_true (sp_sdp_media_get_rtcp_mux (m));

  /* Setters keep the unknown lines and put new lines in RFC order. */
  sp_sdp_session_set_bandwidth (s, "AS", 64);
  sp_sdp_media_set_ptime (m, 30);
  sp_sdp_media_set_rtcp_mux (m, FALSE);
  sp_sdp_media_set_rtcp (m, 49177, SP_SDP_ADDR_IP6, "::1");
  g_free (out);
  out = check_round_trip (s);
  g_assert_nonnull (strstr (out, "b=CT:128\r\nb=AS:64\r\nt=2873397496"));
  g_assert_nonnull (strstr (out, "x=experimental line\r\n"));
  g_assert_nonnull (strstr (out, "a=rtcp:49177 IN IP6 ::1\r\na=ptime:30\r\ny=another\r\n"));
  g_assert_null (strstr (out, "rtcp-mux"));
}

static void
test_lenient_input (void)
{
  /* LF only, no final line end, blank lines, missing s= and t=. */
  static const char text[] = "v=0\n\no=- 5 6 IN IP4 127.0.0.1\nm=audio 4000 RTP/AVP 0\na=sendonly";
  g_autoptr (SpSdpSession) s = parse_ok (text);
  g_autofree char *out = check_round_trip (s);

  g_assert_cmpstr (sp_sdp_session_get_name (s), ==, "-");
  g_assert_cmpuint (sp_sdp_session_get_start_time (s), ==, 0);
  g_assert_cmpstr (out, ==,
                   "v=0\r\no=- 5 6 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                   "m=audio 4000 RTP/AVP 0\r\na=sendonly\r\n");
  g_assert_cmpint (sp_sdp_media_get_direction (sp_sdp_session_get_media (s, 0)), ==,
                   SP_SDP_DIRECTION_SENDONLY);
}

static void
test_build_offer_answer (void)
{
  g_autoptr (SpSdpSession) offer =
      sp_sdp_session_new ("softphone", 42, 1, SP_SDP_ADDR_IP4, "127.0.0.1");
  g_autoptr (SpSdpSession) answer = NULL;
  g_autoptr (SpSdpSession) parsed = NULL;
  g_autofree char *text = NULL;
  SpSdpMedia *m, *am;
  SpSdpRtpmap map;

  sp_sdp_session_set_connection (offer, SP_SDP_ADDR_IP4, "127.0.0.1");
  m = sp_sdp_session_add_media (offer, "audio", 30000, "RTP/AVP");
  g_assert_nonnull (m);
  g_assert_true (sp_sdp_media_add_rtp_format (m, 0, "PCMU", 8000, 1));
  g_assert_true (sp_sdp_media_add_rtp_format (m, 8, "PCMA", 8000, 1));
  g_assert_true (sp_sdp_media_add_rtp_format (m, 101, "telephone-event", 8000, 1));
  g_assert_true (sp_sdp_media_add_rtp_format (m, 96, "opus", 48000, 2));
  g_assert_true (sp_sdp_media_set_fmtp (m, 101, "0-16"));
  g_assert_false (sp_sdp_media_add_rtp_format (m, 0, "PCMU", 8000, 1)); /* duplicate */
  g_assert_false (sp_sdp_media_add_rtp_format (m, 128, "X", 8000, 1));
  g_assert_false (sp_sdp_media_add_rtp_format (m, 97, "bad/name", 8000, 1));
  g_assert_false (sp_sdp_media_add_format (m, "abc")); /* not a payload type for RTP/AVP */
  sp_sdp_media_set_ptime (m, 20);
  sp_sdp_media_set_direction (m, SP_SDP_DIRECTION_SENDRECV);
  sp_sdp_media_set_rtcp (m, 30001, SP_SDP_ADDR_IP4, NULL);
  g_assert_true (sp_sdp_media_add_attribute (m, "x-custom", "1"));
  g_assert_false (sp_sdp_media_add_attribute (m, "bad name", NULL));
  g_assert_false (sp_sdp_media_add_attribute (m, "x", "a\r\nb"));
  g_assert_false (sp_sdp_media_add_attribute (m, "rtpmap", "garbage"));

  text = check_round_trip (offer);
  g_assert_cmpstr (text, ==,
                   "v=0\r\n"
                   "o=softphone 42 1 IN IP4 127.0.0.1\r\n"
                   "s=-\r\n"
                   "c=IN IP4 127.0.0.1\r\n"
                   "t=0 0\r\n"
                   "m=audio 30000 RTP/AVP 0 8 101 96\r\n"
                   "a=rtpmap:0 PCMU/8000\r\n"
                   "a=rtpmap:8 PCMA/8000\r\n"
                   "a=rtpmap:101 telephone-event/8000\r\n"
                   "a=rtpmap:96 opus/48000/2\r\n"
                   "a=fmtp:101 0-16\r\n"
                   "a=ptime:20\r\n"
                   "a=sendrecv\r\n"
                   "a=rtcp:30001\r\n"
                   "a=x-custom:1\r\n");

  /* An answer: copy, keep PCMA and telephone-event, reverse direction. */
  parsed = parse_ok (text);
  answer = sp_sdp_session_copy (parsed);
  sp_sdp_session_set_origin_address (answer, SP_SDP_ADDR_IP6, "::1");
  sp_sdp_session_set_connection (answer, SP_SDP_ADDR_IP6, "::1");
  sp_sdp_session_set_session_version (answer, 2);
  sp_sdp_session_set_name (answer, "answer");
  am = sp_sdp_session_get_media (answer, 0);
  sp_sdp_media_remove_format (am, "0");
  sp_sdp_media_remove_format (am, "96");
  sp_sdp_media_set_port (am, 40000);
  sp_sdp_media_set_direction (am, sp_sdp_direction_reverse (SP_SDP_DIRECTION_SENDONLY));
  sp_sdp_media_remove_attribute (am, "x-custom");
  g_free (text);
  text = check_round_trip (answer);
  g_assert_cmpstr (text, ==,
                   "v=0\r\n"
                   "o=softphone 42 2 IN IP6 ::1\r\n"
                   "s=answer\r\n"
                   "c=IN IP6 ::1\r\n"
                   "t=0 0\r\n"
                   "m=audio 40000 RTP/AVP 8 101\r\n"
                   "a=rtpmap:8 PCMA/8000\r\n"
                   "a=rtpmap:101 telephone-event/8000\r\n"
                   "a=fmtp:101 0-16\r\n"
                   "a=ptime:20\r\n"
                   "a=recvonly\r\n"
                   "a=rtcp:30001\r\n");
  g_assert_false (sp_sdp_media_get_rtpmap (am, 96, &map));
  /* The original is untouched. */
  g_assert_cmpuint (sp_sdp_media_get_n_formats (sp_sdp_session_get_media (parsed, 0)), ==, 4);

  /* Rejecting a stream and clearing formats. */
  sp_sdp_media_set_port (am, 0);
  sp_sdp_media_clear_formats (am);
  g_assert_true (sp_sdp_media_add_format (am, "8"));
  g_assert_true (sp_sdp_media_is_rejected (am));
  g_assert_null (sp_sdp_media_get_fmtp (am, 101));
  g_free (text);
  text = check_round_trip (answer);
  g_assert_nonnull (strstr (text, "m=audio 0 RTP/AVP 8\r\na=ptime:20\r\n"));

  sp_sdp_session_set_time (answer, 1, 2);
  sp_sdp_session_set_direction (answer, SP_SDP_DIRECTION_INACTIVE);
  sp_sdp_session_remove_media (answer, 0);
  g_assert_null (sp_sdp_session_add_media (answer, "audio", 1, "RTP//AVP"));
  g_free (text);
  text = check_round_trip (answer);
  g_assert_cmpstr (text, ==,
                   "v=0\r\no=softphone 42 2 IN IP6 ::1\r\ns=answer\r\nc=IN IP6 ::1\r\n"
                   "t=1 2\r\na=inactive\r\n");
}

static void
test_bad_input (void)
{
  static const char *const bad[] = {
    "",
    "o=- 1 1 IN IP4 1.2.3.4\r\n",
    "v=0\r\n",
    "v=0\r\ns=x\r\n",
    "v=0\r\no=- 1 1 IN IP4\r\n",
    "v=0\r\no=- x 1 IN IP4 1.2.3.4\r\n",
    "v=0\r\no=- 123456789012345678901 1 IN IP4 1.2.3.4\r\n",
    "v=0\r\no=- 18446744073709551616 1 IN IP4 1.2.3.4\r\n",
    "v=0\r\no=- 1 1 IN IP4 [::1]\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nv=0\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\no=- 1 1 IN IP4 1.2.3.4\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=a\r\ns=b\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm =audio 1 RTP/AVP 0\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nM=audio 1 RTP/AVP 0\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ntesting=123\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nx\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nc=IN IP4\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nc=IN IP4 1.2.3.4/256\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nc=IN IP4 1.2.3.4/1/0\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nc=IN IP6 ::1/1/1\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nc=IN IP4 1.2.3.4\r\nc=IN IP4 1.2.3.5\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nb=AS\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nb=AS:4294967296\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nt=0\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nt=0 0 0\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 65536 RTP/AVP 0\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 65535/2 RTP/AVP 0\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 1/0 RTP/AVP 0\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio -1 RTP/AVP 0\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 128\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 1 UDP/TLS/RTP/SAVPF x\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 1 RTP//AVP 0\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 1\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\nt=0 0\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\ns=late\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\na=rtpmap:0\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\na=rtpmap:128 X/8000\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\na=rtpmap:0 PCMU/0\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000/0\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\na=rtpmap:0 PCMU/x\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\na=fmtp\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\na=ptime:x\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\na=ptime:10001\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\na=maxptime\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\na=rtcp:70000\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\na=rtcp:5 IN IP4\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\na=bad name:1\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\na=\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=\x01\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=a\rb\r\n",
  };
  static const char *const not_acceptable[] = {
    "v=1\r\no=- 1 1 IN IP4 1.2.3.4\r\n",
    "v=0\r\no=- 1 1 ATM NSAP 1.2.3.4\r\n",
    "v=0\r\no=- 1 1 IN IP5 1.2.3.4\r\n",
    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nc=IN IPX 1.2.3.4\r\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_test_message ("bad SDP %u", i);
      parse_fails (bad[i], SP_SIP_ERROR_BAD_REQUEST);
    }
  for (guint i = 0; i < G_N_ELEMENTS (not_acceptable); i++)
    parse_fails (not_acceptable[i], SP_SDP_ERROR_NOT_ACCEPTABLE);
}

static void
test_non_rtp_media (void)
{
  g_autoptr (SpSdpSession) s = parse_ok ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                                         "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
                                         "m=image 0 udptl t38\r\n");
  g_autofree char *text = check_round_trip (s);
  SpSdpMedia *m = sp_sdp_session_get_media (s, 0);

  g_assert_nonnull (g_strstr_len (text, -1, "m=image 0 udptl t38\r\n"));
  g_assert_cmpstr (sp_sdp_media_get_proto (m), ==, "UDP/DTLS/SCTP");
  g_assert_cmpstr (sp_sdp_media_get_format (m, 0), ==, "webrtc-datachannel");
  g_assert_cmpint (sp_sdp_media_get_payload_type (m, 0), ==, -1);
  g_assert_true (sp_sdp_media_add_format (m, "other"));
  g_assert_cmpstr (sp_sdp_media_get_format (sp_sdp_session_get_media (s, 1), 0), ==, "t38");
}

static void
test_nul_byte (void)
{
  static const char text[] = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=a\0b\r\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSdpSession) s = sp_sdp_session_parse (text, sizeof text - 1, &error);

  g_assert_null (s);
  g_assert_error (error, SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST);
}

/* Parses an SDP made of @head and @n copies of @line. */
static SpSdpSession *
parse_repeated (const char *head, const char *line, guint n, GError **error)
{
  g_autoptr (GString) s = g_string_new (head);

  for (guint i = 0; i < n; i++)
    g_string_append (s, line);
  return sp_sdp_session_parse (s->str, s->len, error);
}

static void
test_bounds (void)
{
  static const char head[] = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) m = g_string_new ("m=audio 1 RTP/AVP");
  g_autoptr (GString) longline = g_string_new ("a=x:");
  SpSdpSession *s;

  /* Lines: 4 + 508 = 512 is fine, 513 is not. */
  s = parse_repeated (head, "a=x\r\n", SP_SDP_MAX_LINES - 4, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sp_sdp_session_get_n_attributes (s), ==, SP_SDP_MAX_LINES - 4);
  sp_sdp_session_free (s);
  s = parse_repeated (head, "a=x\r\n", SP_SDP_MAX_LINES - 3, &error);
  g_assert_null (s);
  g_assert_error (error, SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST);
  g_clear_error (&error);

  /* Media sections. */
  s = parse_repeated (head, "m=audio 0 RTP/AVP 0\r\n", SP_SDP_MAX_MEDIA, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sp_sdp_session_get_n_media (s), ==, SP_SDP_MAX_MEDIA);
  g_assert_null (sp_sdp_session_add_media (s, "audio", 0, "RTP/AVP"));
  sp_sdp_session_free (s);
  s = parse_repeated (head, "m=audio 0 RTP/AVP 0\r\n", SP_SDP_MAX_MEDIA + 1, &error);
  g_assert_null (s);
  g_assert_error (error, SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST);
  g_clear_error (&error);

  /* Formats per m=. */
  for (guint i = 0; i < SP_SDP_MAX_FORMATS; i++)
    g_string_append_printf (m, " %u", i);
  g_string_append (m, "\r\n");
  s = parse_repeated (head, m->str, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sp_sdp_media_get_n_formats (sp_sdp_session_get_media (s, 0)), ==,
                    SP_SDP_MAX_FORMATS);
  g_assert_false (sp_sdp_media_add_format (sp_sdp_session_get_media (s, 0), "100"));
  sp_sdp_session_free (s);
  g_string_truncate (m, m->len - 2);
  g_string_append (m, " 100\r\n");
  s = parse_repeated (head, m->str, 1, &error);
  g_assert_null (s);
  g_assert_error (error, SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST);
  g_clear_error (&error);

  /* Line length: 1024 bytes after "a=x:" + 4 = limit. */
  while (longline->len < SP_SDP_MAX_LINE_LENGTH)
    g_string_append_c (longline, 'y');
  g_string_append (longline, "\r\n");
  s = parse_repeated (head, longline->str, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (sp_sdp_session_get_attribute (s, "x")), ==, SP_SDP_MAX_LINE_LENGTH - 4);
  sp_sdp_session_free (s);
  g_string_insert_c (longline, 5, 'y');
  s = parse_repeated (head, longline->str, 1, &error);
  g_assert_null (s);
  g_assert_error (error, SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST);
  g_clear_error (&error);

  /* Whole size. */
  s = parse_repeated (head, "a=zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\r\n",
                      SP_SDP_MAX_SIZE / 64, &error);
  g_assert_null (s);
  g_assert_error (error, SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST);
  g_assert_nonnull (strstr (error->message, "longer than"));
  g_clear_error (&error);

  /* Numbers at their limits. */
  s = parse_ok ("v=0\r\no=- 18446744073709551615 0 IN IP4 1.2.3.4\r\n"
                "m=audio 65534/2 RTP/AVP 127\r\nb=AS:4294967295\r\n"
                "a=rtpmap:127 X/4294967295/255\r\na=rtcp:65535\r\na=ptime:10000\r\n");
  g_assert_cmpuint (sp_sdp_session_get_session_id (s), ==, G_MAXUINT64);
  g_assert_cmpint (sp_sdp_media_get_bandwidth (sp_sdp_session_get_media (s, 0), "AS"), ==,
                   G_MAXUINT32);
  g_assert_cmpint (sp_sdp_media_get_rtcp_port (sp_sdp_session_get_media (s, 0)), ==, 65535);
  sp_sdp_session_free (s);
}

/* Setters and removers given strings the description owns. */
static void
test_own_strings (void)
{
  g_autoptr (SpSdpSession) s = parse_ok (baresip_offer);
  SpSdpMedia *m = sp_sdp_session_get_media (s, 0);
  const char *name;
  g_autofree char *text = NULL;

  sp_sdp_session_set_name (s, sp_sdp_session_get_name (s));
  sp_sdp_session_set_origin_address (s, SP_SDP_ADDR_IP4, sp_sdp_session_get_origin_address (s));
  sp_sdp_media_set_fmtp (m, 101, sp_sdp_media_get_fmtp (m, 101));
  sp_sdp_media_remove_format (m, sp_sdp_media_get_format (m, 0));
  sp_sdp_media_get_nth_attribute (m, 0, &name, NULL);
  g_assert_cmpstr (name, ==, "rtpmap");
  sp_sdp_media_remove_attribute (m, name);
  sp_sdp_session_get_nth_attribute (s, 0, &name, NULL);
  sp_sdp_session_remove_attribute (s, name);
  text = check_round_trip (s);
  g_assert_cmpstr (text, ==,
                   "v=0\r\n"
                   "o=- 1712345678 1712345679 IN IP4 127.0.0.1\r\n"
                   "s=-\r\n"
                   "c=IN IP4 127.0.0.1\r\n"
                   "t=0 0\r\n"
                   "m=audio 10000 RTP/AVP 8 101\r\n"
                   "b=AS:80\r\n"
                   "a=fmtp:101 0-15\r\n"
                   "a=sendrecv\r\n"
                   "a=label:1\r\n"
                   "a=ssrc:1234 cname:x@y\r\n"
                   "a=rtcp-rsize\r\n"
                   "a=ptime:20\r\n");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sdp/baresip-offer", test_baresip_offer);
  g_test_add_func ("/sdp/yate-offer", test_yate_offer);
  g_test_add_func ("/sdp/rfc5118/ipv6-in-sdp", test_rfc5118_ipv6);
  g_test_add_func ("/sdp/rfc5118/mult-ip-in-sdp", test_rfc5118_mult_ip);
  g_test_add_func ("/sdp/rfc5118/ipv4-mapped-ipv6", test_rfc5118_mapped);
  g_test_add_func ("/sdp/rfc4475-bodies", test_rfc4475_bodies);
  g_test_add_func ("/sdp/unknown-lines-kept", test_unknown_lines_kept);
  g_test_add_func ("/sdp/lenient-input", test_lenient_input);
  g_test_add_func ("/sdp/build-offer-answer", test_build_offer_answer);
  g_test_add_func ("/sdp/bad-input", test_bad_input);
  g_test_add_func ("/sdp/nul-byte", test_nul_byte);
  g_test_add_func ("/sdp/non-rtp-media", test_non_rtp_media);
  g_test_add_func ("/sdp/bounds", test_bounds);
  g_test_add_func ("/sdp/own-strings", test_own_strings);
  return g_test_run ();
}
