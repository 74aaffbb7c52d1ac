/* Messages parsed per second on one core: a typical INVITE with an SDP
 * body and a REGISTER carrying Authorization. Each runs for a bounded
 * time (about 2 s, or SP_BENCH_SECONDS) and prints one figure. */

#include <stdlib.h>
#include <string.h>

#include "sip/message.h"

#define CRLF "\r\n"

static const char invite[] =
    "INVITE sip:bob@biloxi.example.com SIP/2.0" CRLF
    "Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport" CRLF
    "Max-Forwards: 70" CRLF "To: Bob <sip:bob@biloxi.example.com>" CRLF
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF "CSeq: 314159 INVITE" CRLF
    "Contact: <sip:alice@pc33.atlanta.example.com:5060;transport=udp>" CRLF
    "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY" CRLF
    "Supported: replaces, timer" CRLF "User-Agent: Softphone/0.1" CRLF
    "Content-Type: application/sdp" CRLF "Content-Length: 224" CRLF CRLF "v=0" CRLF
    "o=alice 2890844526 2890844526 IN IP4 pc33.atlanta.example.com" CRLF "s=-" CRLF
    "c=IN IP4 192.0.2.101" CRLF "t=0 0" CRLF "m=audio 49172 RTP/AVP 0 8 101" CRLF
    "a=rtpmap:0 PCMU/8000" CRLF "a=rtpmap:8 PCMA/8000" CRLF "a=rtpmap:101 telephone-event/8000" CRLF
    "a=sendrecv" CRLF;

static const char reg[] =
    "REGISTER sip:registrar.biloxi.example.com SIP/2.0" CRLF
    "Via: SIP/2.0/UDP bobspc.biloxi.example.com:5060;branch=z9hG4bKnashds7;rport" CRLF
    "Max-Forwards: 70" CRLF "To: Bob <sip:bob@biloxi.example.com>" CRLF
    "From: Bob <sip:bob@biloxi.example.com>;tag=456248" CRLF
    "Call-ID: 843817637684230@998sdasdh09" CRLF "CSeq: 1826 REGISTER" CRLF
    "Contact: <sip:bob@192.0.2.4:5060>;expires=7200" CRLF
    "Authorization: Digest username=\"bob\", realm=\"biloxi.example.com\", "
    "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"sip:registrar.biloxi.example.com\", "
    "response=\"6629fae49393a05397450978507c4ef1\", algorithm=MD5, cnonce=\"0a4f113b\", "
    "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\", qop=auth, nc=00000001" CRLF
    "User-Agent: Softphone/0.1" CRLF "Content-Length: 0" CRLF CRLF;

static guint64
parses_per_second (const char *name, const char *text, gsize len, double seconds)
{
  g_autoptr (GTimer) timer = g_timer_new ();
  guint64 n = 0;
  double elapsed;

  /* Check once that the message is what we think it is. */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (SpSipMessage) msg =
        sp_sip_message_parse ((const guint8 *) text, len, SP_SIP_FRAMING_DATAGRAM, NULL, &error);

    if (!msg || !sp_sip_message_check_request (msg, &error))
      g_error ("%s does not parse: %s", name, error->message);
  }
  g_timer_start (timer);
  do
    {
      /* Check the clock every 256 parses so timing costs nothing. */
      for (int i = 0; i < 256; i++)
        {
          SpSipMessage *msg = sp_sip_message_parse ((const guint8 *) text, len,
                                                    SP_SIP_FRAMING_DATAGRAM, NULL, NULL);

          if (G_UNLIKELY (!msg))
            g_error ("parse failed");
          sp_sip_message_unref (msg);
        }
      n += 256;
      elapsed = g_timer_elapsed (timer, NULL);
    }
  while (elapsed < seconds);
  return (guint64) (n / elapsed);
}

int
main (int argc, char **argv)
{
  const char *env = g_getenv ("SP_BENCH_SECONDS");
  double seconds = env ? g_ascii_strtod (env, NULL) : 2.0;

  if (seconds <= 0 || seconds > 60)
    seconds = 2.0;
  g_print ("invite_parse_per_sec=%" G_GUINT64_FORMAT "\n",
           parses_per_second ("INVITE", invite, sizeof invite - 1, seconds));
  g_print ("register_parse_per_sec=%" G_GUINT64_FORMAT "\n",
           parses_per_second ("REGISTER", reg, sizeof reg - 1, seconds));
  return 0;
}
