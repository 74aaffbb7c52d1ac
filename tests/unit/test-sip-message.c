#include <string.h>

#include "sip/message.h"

#define CRLF "\r\n"

static const char invite_text[] =
    "INVITE sip:bob@biloxi.example.com SIP/2.0" CRLF
    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;rport" CRLF
    "Via: SIP/2.0/TCP "
    "[2001:db8::1]:5061;branch=z9hG4bK-2;received=192.0.2.1;ttl=16;maddr=239.1.1.1" CRLF
    "Max-Forwards: 70" CRLF "To: Bob <sip:bob@biloxi.example.com>" CRLF
    "From: \"Alice \\\"A\\\"\" <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF "CSeq: 314159 INVITE" CRLF
    "Contact: <sip:alice@pc33.atlanta.example.com>;expires=60, sip:a2@192.0.2.9;q=0.5" CRLF
    "Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>" CRLF
    "Route: <sip:p3.example.com;lr>" CRLF "Expires: 120" CRLF "X-Custom: hello world" CRLF
    "Content-Type: Application/SDP; charset=utf-8" CRLF "Content-Length: 10" CRLF CRLF
    "v=0\r\nab\0cd";

static SpSipMessage *
parse_ok (const char *data, gsize len)
{
  g_autoptr (GError) error = NULL;
  SpSipMessage *msg =
      sp_sip_message_parse ((const guint8 *) data, len, SP_SIP_FRAMING_DATAGRAM, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (msg);
  return msg;
}

static void
parse_fails (const char *data, gsize len, guint status, const char *reason_part)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSipMessage) msg =
      sp_sip_message_parse ((const guint8 *) data, len, SP_SIP_FRAMING_DATAGRAM, NULL, &error);

  if (msg)
    g_error ("parsed although invalid:\n%.*s", (int) MIN (len, 300), data);
  g_assert_true (error->domain == SP_SIP_ERROR);
  if (sp_sip_error_to_status (error) != status)
    g_error ("expected %u, got %u (%s) for:\n%.*s", status, sp_sip_error_to_status (error),
             error->message, (int) len, data);
  if (reason_part && !strstr (error->message, reason_part))
    g_error ("reason \"%s\" does not name \"%s\"", error->message, reason_part);
}

static void
check_invite (const SpSipMessage *msg)
{
  const SpSipVia *via;
  const GPtrArray *vias, *contacts, *rr;
  const SpSipNameAddr *from, *to, *c;
  const char *method = NULL;
  const guint8 *body;
  gsize body_len;

  g_assert_true (sp_sip_message_is_request (msg));
  g_assert_cmpstr (sp_sip_message_get_method (msg), ==, "INVITE");
  g_assert_cmpint (sp_sip_message_get_method_id (msg), ==, SP_SIP_METHOD_INVITE);
  g_assert_cmpstr (sp_sip_uri_get_host (sp_sip_message_get_request_uri (msg)), ==,
                   "biloxi.example.com");
  vias = sp_sip_message_get_vias (msg);
  g_assert_cmpuint (vias->len, ==, 2);
  via = sp_sip_message_get_via (msg);
  g_assert_true (via == g_ptr_array_index (vias, 0));
  g_assert_cmpstr (via->transport, ==, "UDP");
  g_assert_cmpstr (via->host, ==, "pc33.atlanta.example.com");
  g_assert_cmpuint (via->port, ==, 0);
  g_assert_cmpstr (via->branch, ==, "z9hG4bK776asdhds");
  g_assert_cmpint (via->rport, ==, 0);
  g_assert_null (via->received);
  g_assert_cmpint (via->ttl, ==, -1);
  via = g_ptr_array_index (vias, 1);
  g_assert_cmpstr (via->transport, ==, "TCP");
  g_assert_cmpstr (via->host, ==, "2001:db8::1");
  g_assert_cmpuint (via->port, ==, 5061);
  g_assert_cmpstr (via->received, ==, "192.0.2.1");
  g_assert_cmpint (via->ttl, ==, 16);
  g_assert_cmpstr (via->maddr, ==, "239.1.1.1");
  g_assert_cmpint (via->rport, ==, -1);
  g_assert_cmpuint (via->params->len, ==, 4);

  from = sp_sip_message_get_from (msg);
  g_assert_cmpstr (from->display_name, ==, "Alice \"A\"");
  g_assert_cmpstr (sp_sip_name_addr_get_tag (from), ==, "1928301774");
  g_assert_cmpstr (sp_sip_uri_get_user (from->uri), ==, "alice");
  to = sp_sip_message_get_to (msg);
  g_assert_cmpstr (to->display_name, ==, "Bob");
  g_assert_null (sp_sip_name_addr_get_tag (to));
  g_assert_cmpstr (sp_sip_message_get_call_id (msg), ==, "a84b4c76e66710@pc33.atlanta.example.com");
  g_assert_cmpuint (sp_sip_message_get_cseq (msg, &method), ==, 314159);
  g_assert_cmpstr (method, ==, "INVITE");
  g_assert_cmpint (sp_sip_message_get_max_forwards (msg), ==, 70);
  g_assert_cmpint (sp_sip_message_get_expires (msg), ==, 120);

  contacts = sp_sip_message_get_contacts (msg);
  g_assert_cmpuint (contacts->len, ==, 2);
  c = g_ptr_array_index (contacts, 0);
  g_assert_cmpint (sp_sip_name_addr_get_expires (c), ==, 60);
  c = g_ptr_array_index (contacts, 1);
  g_assert_cmpstr (sp_sip_uri_get_host (c->uri), ==, "192.0.2.9");
  g_assert_cmpstr (sp_sip_name_addr_get_param (c, "q"), ==, "0.5");
  g_assert_cmpint (sp_sip_name_addr_get_expires (c), ==, -1);
  g_assert_false (sp_sip_message_contact_is_star (msg));
  rr = sp_sip_message_get_record_routes (msg);
  g_assert_cmpuint (rr->len, ==, 2);
  g_assert_cmpstr (sp_sip_uri_get_host (((SpSipNameAddr *) g_ptr_array_index (rr, 1))->uri), ==,
                   "p2.example.com");
  g_assert_cmpuint (sp_sip_message_get_routes (msg)->len, ==, 1);
  g_assert_cmpstr (sp_sip_message_get_content_type (msg), ==, "application/sdp");
  g_assert_cmpstr (sp_sip_message_get_header (msg, "x-custom"), ==, "hello world");
  g_assert_cmpstr (sp_sip_message_get_header (msg, "v"), ==,
                   "SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;rport");
  g_assert_cmpstr (sp_sip_message_get_header (msg, "l"), ==, "10");
  body = sp_sip_message_get_body (msg, &body_len);
  g_assert_cmpmem (body, body_len, "v=0\r\nab\0cd", 10);
}

static void
test_parse_invite (void)
{
  g_autoptr (SpSipMessage) msg = parse_ok (invite_text, sizeof invite_text - 1);

  check_invite (msg);
  g_assert_true (sp_sip_message_check_request (msg, NULL));
}

static void
test_serialize_roundtrip (void)
{
  g_autoptr (SpSipMessage) msg = parse_ok (invite_text, sizeof invite_text - 1);
  g_autoptr (GBytes) wire = sp_sip_message_serialize (msg);
  gsize len;
  const char *data = g_bytes_get_data (wire, &len);
  g_autoptr (SpSipMessage) again = parse_ok (data, len);
  g_autoptr (SpSipMessage) copy = sp_sip_message_copy (msg);
  g_autofree char *text = NULL;
  gsize text_len;

  check_invite (again);
  check_invite (copy);
  g_assert_nonnull (g_strstr_len (data, (gssize) len, "\r\nContent-Length: 10\r\n\r\nv=0"));
  g_assert_true (g_str_has_prefix (data, "INVITE sip:bob@biloxi.example.com SIP/2.0\r\nVia: "));
  text = sp_sip_message_to_string (msg, &text_len);
  g_assert_cmpmem (text, text_len, data, len);
}

static void
test_compact_and_folding (void)
{
  static const char text[] =
      "OPTIONS sip:carol@chicago.example.com SIP/2.0" CRLF
      "v: SIP/2.0/UDP  host1.example.com ;" CRLF "  branch = z9hG4bK1 ,SIP / 2.0 / TCP" CRLF
      "\thost2.example.com:5080;branch=z9hG4bK2" CRLF
      "v  :SIP/2.0/UDP host3.example.com;branch=z9hG4bK3" CRLF
      "f: sip:alice@atlanta.example.com;tag=88" CRLF "t:" CRLF
      " <sip:carol@chicago.example.com>" CRLF "i: abc@host" CRLF "CSEQ:   0009" CRLF
      "   OPTIONS" CRLF "m: *" CRLF "k: 100rel, timer" CRLF "s:" CRLF "c: text/plain" CRLF
      "e: gzip" CRLF "o: presence" CRLF "u: dialog" CRLF "r: <sip:x@y>" CRLF "b: <sip:z@w>" CRLF
      "X-Folded: folded" CRLF "   value here  " CRLF "l: 3" CRLF CRLF "abcdef";
  g_autoptr (SpSipMessage) msg = parse_ok (text, sizeof text - 1);
  const GPtrArray *vias = sp_sip_message_get_vias (msg);
  const SpSipVia *v2 = g_ptr_array_index (vias, 1);
  const char *name, *value;
  gsize len;

  g_assert_cmpuint (vias->len, ==, 3);
  g_assert_cmpstr (((SpSipVia *) g_ptr_array_index (vias, 0))->branch, ==, "z9hG4bK1");
  g_assert_cmpstr (v2->transport, ==, "TCP");
  g_assert_cmpstr (v2->host, ==, "host2.example.com");
  g_assert_cmpuint (v2->port, ==, 5080);
  g_assert_cmpstr (((SpSipVia *) g_ptr_array_index (vias, 2))->host, ==, "host3.example.com");
  g_assert_cmpstr (sp_sip_name_addr_get_tag (sp_sip_message_get_from (msg)), ==, "88");
  g_assert_cmpstr (sp_sip_uri_get_user (sp_sip_message_get_to (msg)->uri), ==, "carol");
  g_assert_cmpstr (sp_sip_message_get_call_id (msg), ==, "abc@host");
  g_assert_cmpuint (sp_sip_message_get_cseq (msg, NULL), ==, 9);
  g_assert_true (sp_sip_message_contact_is_star (msg));
  g_assert_cmpuint (sp_sip_message_get_contacts (msg)->len, ==, 0);
  g_assert_cmpstr (sp_sip_message_get_header (msg, "Supported"), ==, "100rel, timer");
  g_assert_cmpstr (sp_sip_message_get_header (msg, "Content-Encoding"), ==, "gzip");
  g_assert_cmpstr (sp_sip_message_get_header (msg, "Event"), ==, "presence");
  g_assert_cmpstr (sp_sip_message_get_header (msg, "Allow-Events"), ==, "dialog");
  g_assert_cmpstr (sp_sip_message_get_header (msg, "Refer-To"), ==, "<sip:x@y>");
  g_assert_cmpstr (sp_sip_message_get_header (msg, "Referred-By"), ==, "<sip:z@w>");
  g_assert_cmpstr (sp_sip_message_get_header (msg, "s"), ==, "");
  g_assert_cmpstr (sp_sip_message_get_content_type (msg), ==, "text/plain");
  /* Names come back in their long form; values are unfolded. */
  sp_sip_message_get_nth_header (msg, 0, &name, &value);
  g_assert_cmpstr (name, ==, "Via");
  g_assert_cmpstr (value, ==,
                   "SIP/2.0/UDP  host1.example.com ; branch = z9hG4bK1 ,SIP / 2.0 / TCP "
                   "host2.example.com:5080;branch=z9hG4bK2");
  sp_sip_message_get_nth_header (msg, 3, &name, &value);
  g_assert_cmpstr (name, ==, "To");
  g_assert_cmpstr (value, ==, "<sip:carol@chicago.example.com>");
  g_assert_cmpstr (sp_sip_message_get_header (msg, "x-folded"), ==, "folded value here");
  /* Datagram: the body is cut to Content-Length. */
  g_assert_cmpmem (sp_sip_message_get_body (msg, &len), len, "abc", 3);
}

static void
test_response_parse_and_build (void)
{
  static const char text[] = "SIP/2.0 180 Ringing" CRLF "Via: SIP/2.0/UDP h;branch=z9hG4bKx" CRLF
                             "From: <sip:a@b>;tag=1" CRLF "To: <sip:c@d>;tag=2" CRLF
                             "Call-ID: x" CRLF "CSeq: 1 INVITE" CRLF "Content-Length: 0" CRLF CRLF;
  g_autoptr (SpSipMessage) msg = parse_ok (text, sizeof text - 1);
  g_autoptr (SpSipMessage) req = parse_ok (invite_text, sizeof invite_text - 1);
  g_autoptr (SpSipMessage) resp = NULL;
  g_autoptr (SpSipMessage) again = NULL;
  g_autoptr (GBytes) wire = NULL;
  gsize len;

  g_assert_false (sp_sip_message_is_request (msg));
  g_assert_cmpuint (sp_sip_message_get_status (msg), ==, 180);
  g_assert_cmpstr (sp_sip_message_get_reason (msg), ==, "Ringing");
  g_assert_cmpstr (sp_sip_message_get_method (msg), ==, "INVITE");
  g_assert_cmpint (sp_sip_message_get_method_id (msg), ==, SP_SIP_METHOD_INVITE);

  resp = sp_sip_message_new_response_to (req, 486, NULL, "totag9");
  g_assert_cmpuint (sp_sip_message_get_status (resp), ==, 486);
  g_assert_cmpstr (sp_sip_message_get_reason (resp), ==, "Busy Here");
  g_assert_cmpuint (sp_sip_message_get_vias (resp)->len, ==, 2);
  g_assert_cmpstr (sp_sip_message_get_via (resp)->branch, ==, "z9hG4bK776asdhds");
  g_assert_cmpstr (sp_sip_name_addr_get_tag (sp_sip_message_get_to (resp)), ==, "totag9");
  g_assert_cmpstr (sp_sip_message_get_header (resp, "To"), ==,
                   "Bob <sip:bob@biloxi.example.com>;tag=totag9");
  g_assert_cmpstr (sp_sip_name_addr_get_tag (sp_sip_message_get_from (resp)), ==, "1928301774");
  g_assert_cmpstr (sp_sip_message_get_call_id (resp), ==, sp_sip_message_get_call_id (req));
  g_assert_cmpuint (sp_sip_message_get_cseq (resp, NULL), ==, 314159);
  g_assert_null (sp_sip_message_get_header (resp, "Contact"));
  g_assert_null (sp_sip_message_get_header (resp, "X-Custom"));
  wire = sp_sip_message_serialize (resp);
  g_assert_true (g_str_has_prefix (g_bytes_get_data (wire, NULL), "SIP/2.0 486 Busy Here\r\n"));
  {
    const char *data = g_bytes_get_data (wire, &len);

    again = parse_ok (data, len);
  }
  g_assert_cmpstr (sp_sip_name_addr_get_tag (sp_sip_message_get_to (again)), ==, "totag9");
  g_assert_cmpuint (sp_sip_message_get_body (again, &len) == NULL || len == 0, ==, TRUE);

  /* A To that has a tag keeps it; the top Via can be removed. */
  {
    g_autoptr (SpSipMessage) r2 = sp_sip_message_new_response_to (msg, 200, "Fine", "other");

    g_assert_cmpstr (sp_sip_name_addr_get_tag (sp_sip_message_get_to (r2)), ==, "2");
    g_assert_cmpstr (sp_sip_message_get_reason (r2), ==, "Fine");
  }
  sp_sip_message_remove_first_value (resp, "Via");
  g_assert_cmpuint (sp_sip_message_get_vias (resp)->len, ==, 1);
  g_assert_cmpstr (sp_sip_message_get_via (resp)->branch, ==, "z9hG4bK-2");
  sp_sip_message_remove_first_value (resp, "v");
  g_assert_null (sp_sip_message_get_via (resp));
}

static void
test_build_request (void)
{
  g_autoptr (SpSipUri) ruri = sp_sip_uri_parse ("sip:bob@example.org", -1, NULL);
  g_autoptr (SpSipMessage) msg = sp_sip_message_new_request ("MESSAGE", ruri);
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSipMessage) again = NULL;
  g_autofree char *text = NULL;
  gsize len;

  g_assert_true (
      sp_sip_message_add_header (msg, "Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKa", NULL));
  g_assert_true (
      sp_sip_message_prepend_header (msg, "Via", "SIP/2.0/TCP 127.0.0.2;branch=z9hG4bKb", NULL));
  g_assert_cmpstr (sp_sip_message_get_via (msg)->branch, ==, "z9hG4bKb");
  g_assert_true (sp_sip_message_add_header (msg, "From", "<sip:alice@example.org>;tag=x", NULL));
  g_assert_true (sp_sip_message_add_header (msg, "To", "<sip:bob@example.org>", NULL));
  g_assert_true (sp_sip_message_add_header (msg, "Call-ID", "id1@127.0.0.1", NULL));
  g_assert_true (sp_sip_message_add_header (msg, "CSeq", "1 MESSAGE", NULL));
  g_assert_true (sp_sip_message_add_header (msg, "Max-Forwards", "70", NULL));
  g_assert_true (sp_sip_message_check_request (msg, NULL));
  /* Structured headers that do not parse are refused, message unchanged. */
  g_assert_false (sp_sip_message_add_header (msg, "CSeq", "x MESSAGE", &error));
  g_assert_error (error, SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST);
  g_clear_error (&error);
  g_assert_false (sp_sip_message_add_header (msg, "X-Evil", "a\r\nVia: x", &error));
  g_clear_error (&error);
  g_assert_false (sp_sip_message_set_header (msg, "Max-Forwards", "256", &error));
  g_clear_error (&error);
  g_assert_false (sp_sip_message_add_header (msg, "Bad Name", "v", &error));
  g_clear_error (&error);
  g_assert_cmpuint (sp_sip_message_get_cseq (msg, NULL), ==, 1);
  g_assert_cmpint (sp_sip_message_get_max_forwards (msg), ==, 70);
  g_assert_true (sp_sip_message_set_header (msg, "Max-Forwards", "69", NULL));
  g_assert_cmpint (sp_sip_message_get_max_forwards (msg), ==, 69);
  sp_sip_message_set_body (msg, "text/plain", (const guint8 *) "hi\0there", 8);
  g_assert_cmpstr (sp_sip_message_get_content_type (msg), ==, "text/plain");
  text = sp_sip_message_to_string (msg, &len);
  again = parse_ok (text, len);
  g_assert_cmpmem (sp_sip_message_get_body (again, &len), len, "hi\0there", 8);
  g_assert_cmpstr (sp_sip_message_get_via (again)->host, ==, "127.0.0.2");
  g_assert_cmpuint (sp_sip_message_get_vias (again)->len, ==, 2);
  g_assert_cmpstr (sp_sip_message_get_header (again, "Content-Length"), ==, "8");
  sp_sip_message_remove_header (msg, "Max-Forwards");
  g_assert_cmpint (sp_sip_message_get_max_forwards (msg), ==, -1);
  sp_sip_message_set_body (msg, NULL, NULL, 0);
  g_assert_null (sp_sip_message_get_content_type (msg));
}

static void
test_framer_basic (void)
{
  g_autoptr (SpSipFramer) framer = sp_sip_framer_new ();
  g_autoptr (GString) stream = g_string_new ("\r\n\r\n");
  g_autoptr (GError) error = NULL;
  guint got = 0;

  g_string_append_len (stream, invite_text, sizeof invite_text - 1);
  g_string_append (stream, "\r\n");
  g_string_append_len (stream, invite_text, sizeof invite_text - 1);
  /* Byte by byte: a message comes out exactly when its last byte is in. */
  for (gsize i = 0; i < stream->len; i++)
    {
      g_autoptr (SpSipMessage) msg = NULL;

      g_assert_true (sp_sip_framer_push (framer, (const guint8 *) stream->str + i, 1, &error));
      msg = sp_sip_framer_pop (framer, &error);
      g_assert_no_error (error);
      if (msg)
        {
          got++;
          check_invite (msg);
          g_assert_cmpuint (i + 1, ==, got == 1 ? 4 + sizeof invite_text - 1 : stream->len);
          g_assert_cmpuint (sp_sip_framer_get_pending (framer), ==, 0);
        }
    }
  g_assert_cmpuint (got, ==, 2);
}

#define MINIMAL_HEADERS                                                                            \
  "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1" CRLF "From: <sip:a@127.0.0.1>;tag=1" CRLF           \
  "To: <sip:b@127.0.0.1>" CRLF "Call-ID: c1" CRLF

static SpSipMessage *
parse_with (const char *head, const char *tail)
{
  g_autofree char *text = g_strconcat (head, tail, NULL);

  return sp_sip_message_parse ((const guint8 *) text, strlen (text), SP_SIP_FRAMING_DATAGRAM, NULL,
                               NULL);
}

static void
test_ranges (void)
{
  static const char head[] = "OPTIONS sip:b@127.0.0.1 SIP/2.0" CRLF MINIMAL_HEADERS;
  g_autoptr (SpSipMessage) max_cseq = parse_with (head, "CSeq: 2147483647 OPTIONS" CRLF CRLF);
  g_autoptr (SpSipMessage) max_exp = parse_with (
      head, "CSeq: 1 OPTIONS" CRLF "Expires: 4294967295" CRLF "Max-Forwards: 255" CRLF CRLF);
  g_autoptr (SpSipMessage) exp_contact = parse_with (
      head, "CSeq: 1 OPTIONS" CRLF "Contact: <sip:x@y>;expires=99999999999999" CRLF CRLF);
  char big[] = "CSeq: 1 OPTIONS" CRLF "Max-Forwards: 256" CRLF CRLF;

  g_assert_cmpuint (sp_sip_message_get_cseq (max_cseq, NULL), ==, 2147483647);
  g_assert_cmpint (sp_sip_message_get_expires (max_exp), ==, 4294967295);
  g_assert_cmpint (sp_sip_message_get_max_forwards (max_exp), ==, 255);
  /* An overlarge contact expires means the largest (RFC 3261 20.19). */
  g_assert_cmpint (sp_sip_name_addr_get_expires (
                       g_ptr_array_index (sp_sip_message_get_contacts (exp_contact), 0)),
                   ==, G_MAXUINT32);
  {
    g_autofree char *t1 = g_strconcat (head, "CSeq: 2147483648 OPTIONS" CRLF CRLF, NULL);
    g_autofree char *t2 = g_strconcat (head, big, NULL);
    g_autofree char *t3 =
        g_strconcat (head, "CSeq: 1 OPTIONS" CRLF "Expires: 4294967296" CRLF CRLF, NULL);
    g_autofree char *t4 =
        g_strconcat (head, "CSeq: 1 OPTIONS" CRLF "Max-Forwards: -1" CRLF CRLF, NULL);
    g_autofree char *t5 = g_strconcat (head, "CSeq: 1OPTIONS" CRLF CRLF, NULL);
    g_autofree char *t6 =
        g_strconcat (head, "CSeq: 1 OPTIONS" CRLF "Content-Length: five" CRLF CRLF, NULL);
    g_autofree char *t7 =
        g_strconcat (head, "CSeq: 1 OPTIONS" CRLF "Via: SIP/2.0/UDP h;ttl=256" CRLF CRLF, NULL);
    g_autofree char *t8 =
        g_strconcat (head, "CSeq: 1 OPTIONS" CRLF "Via: SIP/2.0/UDP h:70000" CRLF CRLF, NULL);

    parse_fails (t1, strlen (t1), 400, "CSeq");
    parse_fails (t2, strlen (t2), 400, "Max-Forwards");
    parse_fails (t3, strlen (t3), 400, "Expires");
    parse_fails (t4, strlen (t4), 400, "Max-Forwards");
    parse_fails (t5, strlen (t5), 400, "CSeq");
    parse_fails (t6, strlen (t6), 400, "Content-Length");
    parse_fails (t7, strlen (t7), 400, "Via");
    parse_fails (t8, strlen (t8), 400, "Via");
  }
}

static void
test_bad_messages (void)
{
  static const struct
  {
    const char *text;
    guint status;
    const char *reason;
  } cases[] = {
    { "", 400, NULL },
    { "\r\n\r\n", 400, NULL },
    { "OPTIONS sip:a@b SIP/2.0", 400, "start line" },
    { "OPTIONS sip:a@b SIP/2.0" CRLF "CSeq: 1 OPTIONS" CRLF, 400, "empty line" },
    { "OPTIONS sip:a@b SIP/3.0" CRLF CRLF, 505, NULL },
    { "OPTIONS sip:a@b SIP/2.0 " CRLF CRLF, 400, "version" },
    { "OPTIONS sip:a@b HTTP/1.1" CRLF CRLF, 400, "version" },
    { "OPTIONS  sip:a@b SIP/2.0" CRLF CRLF, 400, NULL },
    { "OPT IONS sip:a@b SIP/2.0" CRLF CRLF, 400, NULL },
    { "OPT\"IONS sip:a@b SIP/2.0" CRLF CRLF, 400, "method" },
    { "SIP/2.0 1000 Big" CRLF CRLF, 400, "status" },
    { "SIP/2.0 099 Small" CRLF CRLF, 400, "status" },
    { "SIP/2.0 20 OK" CRLF CRLF, 400, "status" },
    { "SIP/2.0 200OK" CRLF CRLF, 400, "status" },
    { "SIP/1.0 200 OK" CRLF CRLF, 505, NULL },
    { "OPTIONS sip:a@b SIP/2.0" CRLF " folded: first" CRLF CRLF, 400, NULL },
    { "OPTIONS sip:a@b SIP/2.0" CRLF "NoColon" CRLF CRLF, 400, "header line" },
    { "OPTIONS sip:a@b SIP/2.0" CRLF ": novalue" CRLF CRLF, 400, "header line" },
    { "OPTIONS sip:a@b SIP/2.0" CRLF "To: \"unterminated <sip:a@b>" CRLF CRLF, 400, "To" },
    { "OPTIONS sip:a@b SIP/2.0" CRLF "To: <sip:a@b" CRLF CRLF, 400, "To" },
    { "OPTIONS sip:a@b SIP/2.0" CRLF "From: Bell, Alexander <sip:a@b>" CRLF CRLF, 400, "From" },
    { "OPTIONS sip:a@b SIP/2.0" CRLF "Contact: <sip:a@b>,,<sip:c@d>" CRLF CRLF, 400, "Contact" },
    { "OPTIONS sip:a@b SIP/2.0" CRLF "Route: <sip:a@b>;;lr" CRLF CRLF, 400, "Route" },
    { "OPTIONS sip:a@b SIP/2.0" CRLF "Via: SIP/2.0/UDP" CRLF CRLF, 400, "Via" },
    { "OPTIONS sip:a@b SIP/2.0" CRLF "Via: SIP/2.0/UDP h;branch" CRLF CRLF, 400, "Via" },
    { "OPTIONS sip:a@b SIP/2.0" CRLF "Via: SIP/2.0/UDP h;rport=x" CRLF CRLF, 400, "Via" },
    { "OPTIONS sip:a@b SIP/2.0" CRLF "Call-ID: a b" CRLF CRLF, 400, "Call-ID" },
    { "OPTIONS sip:a@b SIP/2.0" CRLF "Call-ID: a@b@c" CRLF CRLF, 400, "Call-ID" },
    { "OPTIONS sip:a@b SIP/2.0" CRLF "Content-Type: text" CRLF CRLF, 400, "Content-Type" },
    { "OPTIONS sip:a@b SIP/2.0" CRLF "l: 5" CRLF CRLF "abc", 400, "Content-Length" },
    { "OPTIONS sip:a@b SIP/2.0" CRLF "l: 3" CRLF "Content-Length: 4" CRLF CRLF "abcd", 400,
      "Content-Length" },
    { "OPTIONS <sip:a@b> SIP/2.0" CRLF CRLF, 400, "Request-URI" },
    { "OPTIONS sip:2001:db8::1 SIP/2.0" CRLF CRLF, 400, "Request-URI" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    parse_fails (cases[i].text, strlen (cases[i].text), cases[i].status, cases[i].reason);
}

static void
test_lenient_forms (void)
{
  /* Bare LF line ends, leading CRLFs, an unknown scheme in the
   * Request-URI (the UAS answers 416; it is no parse error), a
   * repeated identical Content-Length, and a lower case version. */
  static const char text[] = "\r\n\r\nfoo sip:a@b sip/2.0\n"
                             "Content-Length: 2\n"
                             "l: 2\n\nhi";
  static const char other[] = "OPTIONS urn:service:sos SIP/2.0" CRLF CRLF;
  g_autoptr (SpSipMessage) msg = parse_ok (text, sizeof text - 1);
  g_autoptr (SpSipMessage) urn = parse_ok (other, sizeof other - 1);
  gsize len;

  g_assert_cmpstr (sp_sip_message_get_method (msg), ==, "foo");
  g_assert_cmpmem (sp_sip_message_get_body (msg, &len), len, "hi", 2);
  g_assert_cmpint (sp_sip_uri_get_scheme (sp_sip_message_get_request_uri (urn)), ==,
                   SP_URI_SCHEME_OTHER);
}

static void
test_limits (void)
{
  g_autoptr (GString) many = g_string_new ("OPTIONS sip:a@b SIP/2.0" CRLF);
  g_autoptr (GString) longline = g_string_new ("OPTIONS sip:a@b SIP/2.0" CRLF "X-Long: ");
  g_autoptr (GString) huge = g_string_new ("OPTIONS sip:a@b SIP/2.0" CRLF CRLF);
  g_autoptr (GString) ok = g_string_new ("OPTIONS sip:a@b SIP/2.0" CRLF);

  for (int i = 0; i < SP_SIP_MAX_HEADERS + 1; i++)
    g_string_append_printf (many, "X-H%d: v" CRLF, i);
  g_string_append (many, CRLF);
  parse_fails (many->str, many->len, 413, "header");
  for (int i = 0; i < SP_SIP_MAX_HEADERS; i++)
    g_string_append_printf (ok, "X-H%d: v" CRLF, i);
  g_string_append (ok, CRLF);
  {
    g_autoptr (SpSipMessage) msg = parse_ok (ok->str, ok->len);

    g_assert_cmpuint (sp_sip_message_get_n_headers (msg), ==, SP_SIP_MAX_HEADERS);
  }
  while (longline->len <= 40 + SP_SIP_MAX_LINE_LENGTH)
    g_string_append_c (longline, 'x');
  g_string_append (longline, CRLF CRLF);
  parse_fails (longline->str, longline->len, 413, "line");
  while (huge->len <= SP_SIP_MAX_MESSAGE_SIZE)
    g_string_append_c (huge, 'b');
  parse_fails (huge->str, huge->len, 413, NULL);
}

static void
test_partial (void)
{
  static const char text[] = "INVITE sip:b@127.0.0.1 SIP/2.0" CRLF MINIMAL_HEADERS
                             "CSeq: 7 INVITE" CRLF "Max-Forwards: 300" CRLF CRLF;
  static const char no_cseq[] =
      "INVITE sip:b@127.0.0.1 SIP/2.0" CRLF MINIMAL_HEADERS "CSeq: 7x INVITE" CRLF CRLF;
  SpSipMessage *partial = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSipMessage) msg = sp_sip_message_parse ((const guint8 *) text, sizeof text - 1,
                                                       SP_SIP_FRAMING_DATAGRAM, &partial, &error);
  g_autoptr (SpSipMessage) resp = NULL;

  g_assert_null (msg);
  g_assert_error (error, SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST);
  g_assert_nonnull (strstr (error->message, "Max-Forwards"));
  g_assert_nonnull (partial);
  resp = sp_sip_message_new_response_to (partial, sp_sip_error_to_status (error), error->message,
                                         "t1");
  g_assert_cmpuint (sp_sip_message_get_cseq (resp, NULL), ==, 7);
  g_assert_cmpstr (sp_sip_message_get_reason (resp), ==, error->message);
  sp_sip_message_unref (partial);
  partial = NULL;
  g_clear_error (&error);
  g_assert_null (sp_sip_message_parse ((const guint8 *) no_cseq, sizeof no_cseq - 1,
                                       SP_SIP_FRAMING_DATAGRAM, &partial, &error));
  g_assert_null (partial);
}

static void
test_stream_parse (void)
{
  static const char text[] = "OPTIONS sip:a@b SIP/2.0" CRLF "l: 4" CRLF CRLF "abcdEXTRA";
  static const char no_cl[] = "OPTIONS sip:a@b SIP/2.0" CRLF CRLF;
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSipMessage) msg = NULL;
  gsize len;

  /* Short body on a stream: wait for more. */
  g_assert_null (sp_sip_message_parse ((const guint8 *) text, sizeof text - 7,
                                       SP_SIP_FRAMING_STREAM, NULL, &error));
  g_assert_error (error, SP_SIP_ERROR, SP_SIP_ERROR_INCOMPLETE);
  g_clear_error (&error);
  msg = sp_sip_message_parse ((const guint8 *) text, sizeof text - 1, SP_SIP_FRAMING_STREAM, NULL,
                              &error);
  g_assert_no_error (error);
  g_assert_cmpmem (sp_sip_message_get_body (msg, &len), len, "abcd", 4);
  g_assert_null (sp_sip_message_parse ((const guint8 *) no_cl, sizeof no_cl - 1,
                                       SP_SIP_FRAMING_STREAM, NULL, &error));
  g_assert_error (error, SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST);
}

static void
test_framer_errors (void)
{
  static const char bad_then_good[] =
      "OPTIONS sip:a@b SIP/2.0" CRLF MINIMAL_HEADERS "CSeq: 1 OPTIONS" CRLF "Max-Forwards: 999" CRLF
      "l: 0" CRLF CRLF "OPTIONS sip:a@b SIP/2.0" CRLF "l: 1" CRLF CRLF "x";
  static const char no_cl[] = "OPTIONS sip:a@b SIP/2.0" CRLF "To: <sip:a@b>" CRLF CRLF;
  static const char two_cl[] =
      "OPTIONS sip:a@b SIP/2.0" CRLF "l: 1" CRLF "Content-Length: 2" CRLF CRLF "xx";
  g_autoptr (SpSipFramer) framer = sp_sip_framer_new ();
  g_autoptr (GError) error = NULL;
  SpSipMessage *partial = NULL;
  g_autoptr (SpSipMessage) good = NULL;

  g_assert_true (
      sp_sip_framer_push (framer, (const guint8 *) bad_then_good, sizeof bad_then_good - 1, NULL));
  g_assert_null (sp_sip_framer_pop_full (framer, &partial, &error));
  g_assert_error (error, SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST);
  g_assert_nonnull (partial);
  g_assert_false (sp_sip_framer_is_broken (framer));
  sp_sip_message_unref (partial);
  g_clear_error (&error);
  good = sp_sip_framer_pop (framer, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sp_sip_message_get_body (good, NULL) != NULL, ==, TRUE);
  g_assert_cmpuint (sp_sip_framer_get_pending (framer), ==, 0);
  g_assert_null (sp_sip_framer_pop (framer, &error));
  g_assert_no_error (error);

  for (int k = 0; k < 2; k++)
    {
      g_autoptr (SpSipFramer) f = sp_sip_framer_new ();
      const char *t = k == 0 ? no_cl : two_cl;

      g_assert_true (sp_sip_framer_push (f, (const guint8 *) t, strlen (t), NULL));
      g_assert_null (sp_sip_framer_pop (f, &error));
      g_assert_error (error, SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST);
      g_assert_true (sp_sip_framer_is_broken (f));
      g_clear_error (&error);
      g_assert_false (sp_sip_framer_push (f, (const guint8 *) "x", 1, &error));
      g_clear_error (&error);
    }

  /* A header section that never ends is cut off at the size limit. */
  {
    g_autoptr (SpSipFramer) f = sp_sip_framer_new ();
    g_autofree char *junk = g_malloc (1024);
    gboolean failed = FALSE;

    memset (junk, 'a', 1024);
    for (int i = 0; i < 200 && !failed; i++)
      {
        g_autoptr (SpSipMessage) m = NULL;

        if (!sp_sip_framer_push (f, (const guint8 *) junk, 1024, &error))
          failed = TRUE;
        else if (!(m = sp_sip_framer_pop (f, &error)) && error)
          failed = TRUE;
      }
    g_assert_true (failed);
    g_assert_error (error, SP_SIP_ERROR, SP_SIP_ERROR_TOO_LARGE);
    g_assert_true (sp_sip_framer_is_broken (f));
  }
}

static void
test_regressions (void)
{
  g_autofree char *dir = g_build_filename (g_getenv ("SP_TESTDATA"), "sip-regress", NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  if (!d)
    {
      g_test_skip ("no tests/data/sip-regress");
      return;
    }
  while ((name = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *data = NULL;
      gsize len;
      g_autoptr (SpSipMessage) msg = NULL;
      g_autoptr (SpSipFramer) framer = sp_sip_framer_new ();
      g_autoptr (GError) error = NULL;

      if (!g_str_has_suffix (name, ".dat"))
        continue;
      g_assert_true (g_file_get_contents (path, &data, &len, NULL));
      /* What the fuzzer does: parse, serialize, re-parse, frame. */
      msg =
          sp_sip_message_parse ((const guint8 *) data, len, SP_SIP_FRAMING_DATAGRAM, NULL, &error);
      if (msg)
        {
          g_autoptr (GBytes) wire = sp_sip_message_serialize (msg);
          gsize wlen;
          const guint8 *w = g_bytes_get_data (wire, &wlen);
          g_autoptr (SpSipMessage) again =
              sp_sip_message_parse (w, wlen, SP_SIP_FRAMING_DATAGRAM, NULL, NULL);

          g_assert_nonnull (again);
          g_assert_cmpuint (sp_sip_message_get_n_headers (again), ==,
                            sp_sip_message_get_n_headers (msg));
          if (sp_sip_message_is_request (msg))
            g_assert_true (sp_sip_uri_equal (sp_sip_message_get_request_uri (msg),
                                             sp_sip_message_get_request_uri (again)));
        }
      else
        g_assert_true (error->domain == SP_SIP_ERROR);
      if (sp_sip_framer_push (framer, (const guint8 *) data, len, NULL))
        for (int i = 0; i < 64; i++)
          {
            g_autoptr (SpSipMessage) m = sp_sip_framer_pop (framer, NULL);

            if (!m)
              break;
          }
      n++;
    }
  g_test_message ("%u regression inputs", n);
}

/* Asking for a list view of an absent header, then adding that header:
 * the values added must belong to the message (freed with it; LSan
 * reports them otherwise) and show up in the view. */
static void
test_views_then_add (void)
{
  g_autoptr (SpSipMessage) msg = sp_sip_message_new_response (200, NULL);
  const GPtrArray *contacts = sp_sip_message_get_contacts (msg);
  const GPtrArray *routes = sp_sip_message_get_routes (msg);
  const GPtrArray *rr = sp_sip_message_get_record_routes (msg);
  const GPtrArray *vias = sp_sip_message_get_vias (msg);
  const SpSipNameAddr *contact;

  g_assert_cmpuint (contacts->len, ==, 0);
  g_assert_cmpuint (routes->len, ==, 0);
  g_assert_cmpuint (rr->len, ==, 0);
  g_assert_cmpuint (vias->len, ==, 0);
  g_assert_true (
      sp_sip_message_add_header (msg, "Contact", "<sip:a@127.0.0.1:5070>, <sip:b@h>", NULL));
  g_assert_true (sp_sip_message_add_header (msg, "Route", "<sip:p1;lr>", NULL));
  g_assert_true (sp_sip_message_add_header (msg, "Record-Route", "<sip:p2;lr>", NULL));
  g_assert_true (
      sp_sip_message_add_header (msg, "Via", "SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKv", NULL));
  contacts = sp_sip_message_get_contacts (msg);
  g_assert_cmpuint (contacts->len, ==, 2);
  contact = g_ptr_array_index (contacts, 0);
  g_assert_cmpuint (sp_sip_uri_get_port (contact->uri), ==, 5070);
  g_assert_cmpuint (sp_sip_message_get_routes (msg)->len, ==, 1);
  g_assert_cmpuint (sp_sip_message_get_record_routes (msg)->len, ==, 1);
  g_assert_cmpstr (sp_sip_message_get_via (msg)->branch, ==, "z9hG4bKv");
  /* The empty view of another message is still empty. */
  {
    g_autoptr (SpSipMessage) other = sp_sip_message_new_response (180, NULL);
    g_assert_cmpuint (sp_sip_message_get_contacts (other)->len, ==, 0);
  }
  /* Removing the header empties the view again. */
  sp_sip_message_remove_header (msg, "Contact");
  g_assert_cmpuint (sp_sip_message_get_contacts (msg)->len, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sip/message/parse-invite", test_parse_invite);
  g_test_add_func ("/sip/message/serialize-roundtrip", test_serialize_roundtrip);
  g_test_add_func ("/sip/message/compact-and-folding", test_compact_and_folding);
  g_test_add_func ("/sip/message/response", test_response_parse_and_build);
  g_test_add_func ("/sip/message/build-request", test_build_request);
  g_test_add_func ("/sip/message/framer-basic", test_framer_basic);
  g_test_add_func ("/sip/message/ranges", test_ranges);
  g_test_add_func ("/sip/message/bad-messages", test_bad_messages);
  g_test_add_func ("/sip/message/lenient-forms", test_lenient_forms);
  g_test_add_func ("/sip/message/limits", test_limits);
  g_test_add_func ("/sip/message/partial", test_partial);
  g_test_add_func ("/sip/message/stream-parse", test_stream_parse);
  g_test_add_func ("/sip/message/framer-errors", test_framer_errors);
  g_test_add_func ("/sip/message/regressions", test_regressions);
  g_test_add_func ("/sip/message/views-then-add", test_views_then_add);
  return g_test_run ();
}
