/* Walks tests/data/sip-torture/manifest.tsv (RFC 4475 and RFC 5118) and
 * checks every message against the outcome in the table below, so a
 * regression on any single message fails. */

#include <string.h>

#include "sip/message.h"

typedef enum
{
  PARSES,      /* parses; serialize + re-parse gives the same values */
  PARSE_FAILS, /* sp_sip_message_parse fails with @status */
  CHECK_FAILS, /* parses, round-trips, check_request fails with @status */
} Outcome;

typedef void (*ExtraCheck) (const SpSipMessage *msg);

typedef struct
{
  const char *name;
  const char *valid; /* the manifest's column, to catch a table typo */
  Outcome outcome;
  guint status;
  ExtraCheck extra;
} Expectation;

static const SpSipNameAddr *
nth_contact (const SpSipMessage *msg, guint n)
{
  const GPtrArray *contacts = sp_sip_message_get_contacts (msg);

  g_assert_cmpuint (n, <, contacts->len);
  return g_ptr_array_index (contacts, n);
}

static void
check_wsinv (const SpSipMessage *msg)
{
  const GPtrArray *vias = sp_sip_message_get_vias (msg);
  const SpSipNameAddr *from = sp_sip_message_get_from (msg);
  const SpSipNameAddr *c = nth_contact (msg, 0);

  g_assert_cmpstr (sp_sip_name_addr_get_tag (sp_sip_message_get_to (msg)), ==, "1918181833n");
  g_assert_cmpstr (from->display_name, ==, "J Rosenberg \\\"");
  g_assert_cmpstr (sp_sip_name_addr_get_tag (from), ==, "98asjd8");
  g_assert_cmpint (sp_sip_message_get_max_forwards (msg), ==, 68);
  g_assert_cmpuint (sp_sip_message_get_cseq (msg, NULL), ==, 9);
  g_assert_cmpuint (vias->len, ==, 3);
  g_assert_cmpstr (((SpSipVia *) g_ptr_array_index (vias, 0))->host, ==, "192.0.2.2");
  g_assert_cmpstr (((SpSipVia *) g_ptr_array_index (vias, 1))->transport, ==, "TCP");
  g_assert_cmpstr (((SpSipVia *) g_ptr_array_index (vias, 1))->branch, ==, "z9hG4bK9ikj8");
  g_assert_cmpstr (((SpSipVia *) g_ptr_array_index (vias, 2))->host, ==, "192.168.255.111");
  g_assert_cmpstr (((SpSipVia *) g_ptr_array_index (vias, 2))->branch, ==, "z9hG4bK30239");
  g_assert_cmpstr (sp_sip_message_get_header (msg, "Subject"), ==, "");
  g_assert_cmpstr (sp_sip_message_get_header (msg, "NewFangledHeader"), ==,
                   "newfangled value continued newfangled value");
  g_assert_cmpstr (sp_sip_message_get_header (msg, "UnknownHeaderWithUnusualValue"), ==,
                   ";;,,;;,;");
  g_assert_cmpstr (c->display_name, ==, "Quoted string \"\"");
  g_assert_cmpstr (sp_sip_name_addr_get_param (c, "newparam"), ==, "newvalue");
  g_assert_true (sp_sip_name_addr_has_param (c, "secondparam"));
  g_assert_cmpstr (sp_sip_name_addr_get_param (c, "q"), ==, "0.33");
  g_assert_cmpuint (sp_sip_message_get_routes (msg)->len, ==, 1);
  g_assert_true (sp_sip_uri_has_param (sp_sip_message_get_request_uri (msg), "unknownparam"));
}

static void
check_intmeth (const SpSipMessage *msg)
{
  const SpSipUri *ruri = sp_sip_message_get_request_uri (msg);
  const SpSipNameAddr *to = sp_sip_message_get_to (msg);

  g_assert_cmpstr (sp_sip_message_get_method (msg), ==,
                   "!interesting-Method0123456789_*+`.%indeed'~");
  g_assert_cmpint (sp_sip_message_get_method_id (msg), ==, SP_SIP_METHOD_UNKNOWN);
  g_assert_cmpstr (sp_sip_uri_get_user (ruri), ==,
                   "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
  g_assert_cmpstr (sp_sip_uri_get_password (ruri), ==,
                   "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
  g_assert_cmpstr (sp_sip_message_get_via (msg)->branch, ==, "z9hG4bK-.!%66*_+`'~");
  /* The display name holds a raw NUL: the C string stops there. */
  g_assert_cmpstr (to->display_name, ==, "BEL:\x07 NUL:");
  g_assert_cmpstr (sp_sip_name_addr_get_tag (sp_sip_message_get_from (msg)), ==,
                   "_token~1'+`*%!-.");
  g_assert_cmpstr (sp_sip_message_get_call_id (msg), ==,
                   "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
  g_assert_cmpint (sp_sip_message_get_max_forwards (msg), ==, 255);
}

static void
check_esc01 (const SpSipMessage *msg)
{
  g_autofree char *user =
      sp_sip_uri_dup_user_unescaped (sp_sip_message_get_request_uri (msg), NULL);

  g_assert_cmpstr (user, ==, "sips:user@example.com");
}

static void
check_escnull (const SpSipMessage *msg)
{
  const SpSipNameAddr *a = nth_contact (msg, 0), *b = nth_contact (msg, 1);
  gsize len = 0;
  g_autofree char *to_user = sp_sip_uri_dup_user_unescaped (sp_sip_message_get_to (msg)->uri, &len);

  g_assert_cmpuint (sp_sip_message_get_contacts (msg)->len, ==, 2);
  g_assert_false (sp_sip_uri_equal (a->uri, b->uri));
  g_assert_cmpmem (to_user, len, "null-\0-null", 11);
}

static void
check_esc02 (const SpSipMessage *msg)
{
  g_assert_cmpstr (sp_sip_message_get_method (msg), ==, "RE%47IST%45R");
  g_assert_cmpint (sp_sip_message_get_method_id (msg), !=, SP_SIP_METHOD_REGISTER);
  g_assert_cmpstr (sp_sip_message_get_to (msg)->display_name, ==, "%Z%45");
  g_assert_cmpuint (sp_sip_message_get_contacts (msg)->len, ==, 2);
  g_assert_cmpstr (sp_sip_message_get_header (msg, "C%6Fntact"), ==,
                   "<sip:alias2@host2.example.com>");
}

static void
check_lwsdisp (const SpSipMessage *msg)
{
  g_assert_cmpstr (sp_sip_message_get_from (msg)->display_name, ==, "caller");
}

static void
check_longreq (const SpSipMessage *msg)
{
  g_assert_cmpuint (sp_sip_message_get_vias (msg)->len, >, 30);
  g_assert_cmpuint (strlen (sp_sip_message_get_to (msg)->display_name), >, 100);
}

static void
check_dblreq (const SpSipMessage *msg)
{
  gsize len = 99;

  sp_sip_message_get_body (msg, &len);
  g_assert_cmpuint (len, ==, 0);
  g_assert_cmpint (sp_sip_message_get_method_id (msg), ==, SP_SIP_METHOD_REGISTER);
}

static void
check_semiuri (const SpSipMessage *msg)
{
  const SpSipUri *ruri = sp_sip_message_get_request_uri (msg);
  g_autofree char *user = sp_sip_uri_dup_user_unescaped (ruri, NULL);

  g_assert_cmpstr (user, ==, "user;par=u@example.net");
  g_assert_cmpstr (sp_sip_uri_get_host (ruri), ==, "example.com");
}

static void
check_transports (const SpSipMessage *msg)
{
  static const char *const t[] = { "UDP", "SCTP", "TLS", "UNKNOWN", "TCP" };
  const GPtrArray *vias = sp_sip_message_get_vias (msg);

  g_assert_cmpuint (vias->len, ==, G_N_ELEMENTS (t));
  for (guint i = 0; i < vias->len; i++)
    g_assert_cmpstr (((SpSipVia *) g_ptr_array_index (vias, i))->transport, ==, t[i]);
}

static void
check_mpart01 (const SpSipMessage *msg)
{
  gsize len;
  const guint8 *body = sp_sip_message_get_body (msg, &len);

  g_assert_cmpuint (len, ==, 553);
  g_assert_nonnull (memchr (body, 0, len));
  g_assert_cmpstr (sp_sip_message_get_content_type (msg), ==, "multipart/mixed");
}

static void
check_unreason (const SpSipMessage *msg)
{
  g_assert_cmpuint (sp_sip_message_get_status (msg), ==, 200);
  g_assert_true (g_str_has_prefix (sp_sip_message_get_reason (msg), "= 2**3 * 5**2"));
}

static void
check_noreason (const SpSipMessage *msg)
{
  g_assert_cmpuint (sp_sip_message_get_status (msg), ==, 100);
  g_assert_cmpstr (sp_sip_message_get_reason (msg), ==, "");
}

static void
check_badbranch (const SpSipMessage *msg)
{
  g_assert_cmpstr (sp_sip_message_get_via (msg)->branch, ==, "z9hG4bK");
}

static void
check_unkscm (const SpSipMessage *msg)
{
  const SpSipUri *ruri = sp_sip_message_get_request_uri (msg);

  g_assert_cmpint (sp_sip_uri_get_scheme (ruri), ==, SP_URI_SCHEME_OTHER);
  g_assert_cmpstr (sp_sip_uri_get_scheme_name (ruri), ==, "nobodyknowsthisscheme");
  g_assert_cmpstr (sp_sip_uri_get_opaque (ruri), ==, "totallyopaquecontent");
  g_assert_true (sp_sip_message_check_request (msg, NULL));
}

static void
check_novelsc (const SpSipMessage *msg)
{
  const SpSipUri *ruri = sp_sip_message_get_request_uri (msg);

  g_assert_cmpint (sp_sip_uri_get_scheme (ruri), ==, SP_URI_SCHEME_OTHER);
  g_assert_cmpstr (sp_sip_uri_get_scheme_name (ruri), ==, "soap.beep");
}

static void
check_unksm2 (const SpSipMessage *msg)
{
  g_assert_cmpstr (sp_sip_uri_get_scheme_name (sp_sip_message_get_to (msg)->uri), ==, "isbn");
  g_assert_cmpstr (sp_sip_uri_get_scheme_name (sp_sip_message_get_from (msg)->uri), ==, "http");
  g_assert_cmpstr (sp_sip_uri_get_scheme_name (nth_contact (msg, 0)->uri), ==, "name");
}

static void
check_bext01 (const SpSipMessage *msg)
{
  g_assert_cmpstr (sp_sip_message_get_header (msg, "Require"), ==,
                   "nothingSupportsThis, nothingSupportsThisEither");
  g_assert_cmpstr (sp_sip_message_get_header (msg, "proxy-require"), ==,
                   "noProxiesSupportThis, norDoAnyProxiesSupportThis");
  g_assert_true (sp_sip_message_check_request (msg, NULL));
}

static void
check_invut (const SpSipMessage *msg)
{
  g_assert_cmpstr (sp_sip_message_get_content_type (msg), ==, "application/unknownformat");
}

static void
check_regaut01 (const SpSipMessage *msg)
{
  g_assert_cmpstr (sp_sip_message_get_header (msg, "Authorization"), ==,
                   "NoOneKnowsThisScheme opaque-data=here");
}

static void
check_bcast (const SpSipMessage *msg)
{
  const GPtrArray *vias = sp_sip_message_get_vias (msg);

  g_assert_cmpuint (sp_sip_message_get_status (msg), ==, 200);
  g_assert_cmpuint (vias->len, >=, 2);
  g_assert_cmpstr (((SpSipVia *) g_ptr_array_index (vias, 1))->host, ==, "255.255.255.255");
}

static void
check_zeromf (const SpSipMessage *msg)
{
  g_assert_cmpint (sp_sip_message_get_max_forwards (msg), ==, 0);
  g_assert_true (sp_sip_message_check_request (msg, NULL));
}

static void
check_cparam01 (const SpSipMessage *msg)
{
  const SpSipNameAddr *c = nth_contact (msg, 0);

  g_assert_true (sp_sip_name_addr_has_param (c, "unknownparam"));
  g_assert_false (sp_sip_uri_has_param (c->uri, "unknownparam"));
  g_assert_cmpstr (sp_sip_uri_get_user (c->uri), ==, "+19725552222");
}

static void
check_cparam02 (const SpSipMessage *msg)
{
  const SpSipNameAddr *c = nth_contact (msg, 0);

  g_assert_false (sp_sip_name_addr_has_param (c, "unknownparam"));
  g_assert_true (sp_sip_uri_has_param (c->uri, "unknownparam"));
}

static void
check_regescrt (const SpSipMessage *msg)
{
  const SpSipUri *uri = nth_contact (msg, 0)->uri;

  g_assert_cmpuint (sp_sip_uri_get_n_headers (uri), ==, 1);
  g_assert_cmpstr (sp_sip_uri_get_nth_header (uri, 0)->name, ==, "Route");
  g_assert_cmpstr (sp_sip_uri_get_nth_header (uri, 0)->value, ==, "%3Csip:sip.example.com%3E");
  g_assert_true (sp_sip_message_check_request (msg, NULL));
}

static void
check_sdp01 (const SpSipMessage *msg)
{
  g_assert_cmpstr (sp_sip_message_get_header (msg, "Accept"), ==, "text/nobodyKnowsThis");
}

static void
check_inv2543 (const SpSipMessage *msg)
{
  gsize len;

  g_assert_null (sp_sip_message_get_via (msg)->branch);
  g_assert_null (sp_sip_name_addr_get_tag (sp_sip_message_get_from (msg)));
  g_assert_cmpint (sp_sip_message_get_max_forwards (msg), ==, -1);
  sp_sip_message_get_body (msg, &len);
  g_assert_cmpuint (len, >, 100);
  g_assert_true (sp_sip_message_check_request (msg, NULL));
}

static void
check_ipv6_good (const SpSipMessage *msg)
{
  const SpSipUri *ruri = sp_sip_message_get_request_uri (msg);

  g_assert_true (sp_sip_uri_host_is_ipv6 (ruri));
  g_assert_cmpstr (sp_sip_uri_get_host (ruri), ==, "2001:db8::10");
  g_assert_cmpstr (sp_sip_message_get_via (msg)->host, ==, "2001:db8::9:1");
  g_assert_cmpstr (sp_sip_uri_get_host (nth_contact (msg, 0)->uri), ==, "2001:db8::1");
}

static void
check_port_ambiguous (const SpSipMessage *msg)
{
  const SpSipUri *ruri = sp_sip_message_get_request_uri (msg);

  g_assert_cmpstr (sp_sip_uri_get_host (ruri), ==, "2001:db8::10:5070");
  g_assert_cmpuint (sp_sip_uri_get_port (ruri), ==, 0);
}

static void
check_port_unambiguous (const SpSipMessage *msg)
{
  const SpSipUri *ruri = sp_sip_message_get_request_uri (msg);

  g_assert_cmpstr (sp_sip_uri_get_host (ruri), ==, "2001:db8::10");
  g_assert_cmpuint (sp_sip_uri_get_port (ruri), ==, 5070);
}

static void
check_via_received (const SpSipMessage *msg)
{
  g_assert_cmpstr (sp_sip_message_get_via (msg)->received, ==, "2001:db8::9:255");
}

static void
check_mult_ip_in_header (const SpSipMessage *msg)
{
  const GPtrArray *vias = sp_sip_message_get_vias (msg);

  g_assert_cmpuint (vias->len, ==, 3);
  g_assert_cmpstr (((SpSipVia *) g_ptr_array_index (vias, 0))->host, ==, "2001:db8::9:1");
  g_assert_cmpuint (((SpSipVia *) g_ptr_array_index (vias, 0))->port, ==, 6050);
  g_assert_cmpstr (((SpSipVia *) g_ptr_array_index (vias, 1))->host, ==, "192.0.2.1");
  g_assert_cmpstr (((SpSipVia *) g_ptr_array_index (vias, 2))->received, ==, "192.0.2.200");
}

static void
check_sdp_body (const SpSipMessage *msg)
{
  gsize len;
  const guint8 *body = sp_sip_message_get_body (msg, &len);

  g_assert_cmpstr (sp_sip_message_get_content_type (msg), ==, "application/sdp");
  g_assert_true (len > 2 && body[0] == 'v' && body[1] == '=');
  g_assert_true (body[len - 2] == '\r' && body[len - 1] == '\n');
}

static void
check_ipv4_mapped (const SpSipMessage *msg)
{
  check_sdp_body (msg);
  g_assert_cmpstr (sp_sip_message_get_via (msg)->host, ==, "::ffff:192.0.2.10");
  g_assert_cmpuint (sp_sip_message_get_via (msg)->port, ==, 19823);
  g_assert_cmpstr (sp_sip_uri_get_host (nth_contact (msg, 0)->uri), ==, "::ffff:192.0.2.2");
}

static void
check_3_colons (const SpSipMessage *msg)
{
  g_assert_cmpstr (sp_sip_uri_get_host (sp_sip_message_get_request_uri (msg)), ==,
                   "2001:db8:::192.0.2.1");
}

static void
check_2_colons (const SpSipMessage *msg)
{
  g_assert_cmpstr (sp_sip_uri_get_host (sp_sip_message_get_request_uri (msg)), ==,
                   "2001:db8::192.0.2.1");
}

static const Expectation expectations[] = {
  { "wsinv", "yes", PARSES, 0, check_wsinv },
  { "intmeth", "yes", PARSES, 0, check_intmeth },
  { "esc01", "yes", PARSES, 0, check_esc01 },
  { "escnull", "yes", PARSES, 0, check_escnull },
  { "esc02", "yes", PARSES, 0, check_esc02 },
  { "lwsdisp", "yes", PARSES, 0, check_lwsdisp },
  { "longreq", "yes", PARSES, 0, check_longreq },
  { "dblreq", "yes", PARSES, 0, check_dblreq },
  { "semiuri", "yes", PARSES, 0, check_semiuri },
  { "transports", "yes", PARSES, 0, check_transports },
  { "mpart01", "yes", PARSES, 0, check_mpart01 },
  { "unreason", "yes", PARSES, 0, check_unreason },
  { "noreason", "yes", PARSES, 0, check_noreason },
  { "badinv01", "no", PARSE_FAILS, 400, NULL },
  { "clerr", "no", PARSE_FAILS, 400, NULL },
  { "ncl", "no", PARSE_FAILS, 400, NULL },
  { "scalar02", "no", PARSE_FAILS, 400, NULL },
  { "scalarlg", "no", PARSE_FAILS, 400, NULL }, /* a response: dropped */
  { "quotbal", "no", PARSE_FAILS, 400, NULL },
  { "ltgtruri", "no", PARSE_FAILS, 400, NULL },
  { "lwsruri", "no", PARSE_FAILS, 400, NULL },
  { "lwsstart", "no", PARSE_FAILS, 400, NULL },
  { "trws", "no", PARSE_FAILS, 400, NULL },
  { "escruri", "no", CHECK_FAILS, 400, NULL },
  { "baddate", "no", CHECK_FAILS, 400, NULL },
  { "regbadct", "no", PARSE_FAILS, 400, NULL },
  { "badaspec", "no", PARSE_FAILS, 400, NULL },
  { "baddn", "no", PARSE_FAILS, 400, NULL },
  { "badvers", "no", PARSE_FAILS, 505, NULL },
  { "mismatch01", "no", CHECK_FAILS, 400, NULL },
  { "mismatch02", "no", CHECK_FAILS, 400, NULL },
  { "bigcode", "no", PARSE_FAILS, 400, NULL }, /* a response: dropped */
  { "badbranch", "semantic", PARSES, 0, check_badbranch },
  { "insuf", "semantic", CHECK_FAILS, 400, NULL },
  { "unkscm", "semantic", PARSES, 0, check_unkscm },
  { "novelsc", "semantic", PARSES, 0, check_novelsc },
  /* A registrar needs a SIP To: check_request refuses it for REGISTER. */
  { "unksm2", "semantic", CHECK_FAILS, 400, check_unksm2 },
  { "bext01", "semantic", PARSES, 0, check_bext01 },
  { "invut", "semantic", PARSES, 0, check_invut },
  { "regaut01", "semantic", PARSES, 0, check_regaut01 },
  { "multi01", "semantic", CHECK_FAILS, 400, NULL },
  /* Two Content-Length values: the datagram cannot be framed. */
  { "mcl01", "semantic", PARSE_FAILS, 400, NULL },
  { "bcast", "semantic", PARSES, 0, check_bcast },
  { "zeromf", "semantic", PARSES, 0, check_zeromf },
  { "cparam01", "semantic", PARSES, 0, check_cparam01 },
  { "cparam02", "semantic", PARSES, 0, check_cparam02 },
  { "regescrt", "semantic", PARSES, 0, check_regescrt },
  { "sdp01", "semantic", PARSES, 0, check_sdp01 },
  { "inv2543", "yes", PARSES, 0, check_inv2543 },
  { "test", "no", PARSE_FAILS, 400, NULL },
  { "ipv6-good", "yes", PARSES, 0, check_ipv6_good },
  { "ipv6-bad", "no", PARSE_FAILS, 400, NULL },
  { "port-ambiguous", "yes", PARSES, 0, check_port_ambiguous },
  { "port-unambiguous", "yes", PARSES, 0, check_port_unambiguous },
  { "via-received-param-with-delim", "yes", PARSES, 0, check_via_received },
  { "via-received-param-no-delim", "yes", PARSES, 0, check_via_received },
  { "ipv6-in-sdp", "yes", PARSES, 0, check_sdp_body },
  { "mult-ip-in-header", "yes", PARSES, 0, check_mult_ip_in_header },
  { "mult-ip-in-sdp", "yes", PARSES, 0, check_sdp_body },
  { "ipv4-mapped-ipv6", "yes", PARSES, 0, check_ipv4_mapped },
  { "ipv6-bug-abnf-3-colons", "yes", PARSES, 0, check_3_colons },
  { "ipv6-correct-abnf-2-colons", "yes", PARSES, 0, check_2_colons },
};

/* The README lists these RFC 5118 messages as declaring a wrong
 * Content-Length; the harness puts the real body length in. */
static const char *const fix_content_length[] = { "ipv6-in-sdp", "mult-ip-in-sdp",
                                                  "ipv4-mapped-ipv6" };

static GBytes *
with_real_content_length (const char *data, gsize len)
{
  const char *hdr_end = g_strstr_len (data, (gssize) len, "\r\n\r\n");
  const char *cl = g_strstr_len (data, (gssize) len, "\r\nContent-Length:");
  const char *cl_end;
  GString *out;

  g_assert_nonnull (hdr_end);
  g_assert_nonnull (cl);
  g_assert_true (cl < hdr_end);
  cl_end = strstr (cl + 2, "\r\n");
  out = g_string_new_len (data, cl - data);
  g_string_append_printf (out, "\r\nContent-Length: %" G_GSIZE_FORMAT,
                          len - (gsize) (hdr_end + 4 - data));
  g_string_append_len (out, cl_end, (gssize) (len - (gsize) (cl_end - data)));
  return g_string_free_to_bytes (out);
}

static GBytes *
load_message (const char *name, const char *file)
{
  const char *dir = g_getenv ("SP_TESTDATA");
  g_autofree char *path = NULL;
  g_autofree char *data = NULL;
  g_autoptr (GError) error = NULL;
  gsize len;

  g_assert_nonnull (dir);
  /* Wire form of the RFC 5118 messages: the CRLF copies. */
  if (g_str_has_prefix (file, "rfc5118/"))
    path = g_build_filename (dir, "sip-torture", "rfc5118-crlf", file + strlen ("rfc5118/"), NULL);
  else
    path = g_build_filename (dir, "sip-torture", file, NULL);
  g_file_get_contents (path, &data, &len, &error);
  g_assert_no_error (error);
  for (gsize i = 0; i < G_N_ELEMENTS (fix_content_length); i++)
    if (strcmp (name, fix_content_length[i]) == 0)
      return with_real_content_length (data, len);
  return g_bytes_new_take (g_steal_pointer (&data), len);
}

static void
assert_name_addr_equal (const SpSipNameAddr *a, const SpSipNameAddr *b)
{
  g_assert_true ((a == NULL) == (b == NULL));
  if (!a)
    return;
  g_assert_cmpstr (a->display_name, ==, b->display_name);
  g_assert_true (sp_sip_uri_equal (a->uri, b->uri));
  g_assert_cmpuint (a->params->len, ==, b->params->len);
  for (guint i = 0; i < a->params->len; i++)
    {
      const SpSipParam *pa = g_ptr_array_index (a->params, i),
                       *pb = g_ptr_array_index (b->params, i);

      g_assert_cmpstr (pa->name, ==, pb->name);
      g_assert_cmpstr (pa->value, ==, pb->value);
    }
}

static void
assert_same_values (const SpSipMessage *a, const SpSipMessage *b)
{
  const GPtrArray *va = sp_sip_message_get_vias (a), *vb = sp_sip_message_get_vias (b);
  const GPtrArray *ca = sp_sip_message_get_contacts (a), *cb = sp_sip_message_get_contacts (b);
  const char *ma = NULL, *mb = NULL;
  const guint8 *ba, *bb;
  gsize la, lb;

  g_assert_cmpint (sp_sip_message_is_request (a), ==, sp_sip_message_is_request (b));
  if (sp_sip_message_is_request (a))
    {
      g_autofree char *ua = sp_sip_uri_to_string (sp_sip_message_get_request_uri (a));
      g_autofree char *ub = sp_sip_uri_to_string (sp_sip_message_get_request_uri (b));

      g_assert_cmpstr (sp_sip_message_get_method (a), ==, sp_sip_message_get_method (b));
      g_assert_cmpstr (ua, ==, ub);
      g_assert_true (sp_sip_uri_equal (sp_sip_message_get_request_uri (a),
                                       sp_sip_message_get_request_uri (b)));
    }
  else
    {
      g_assert_cmpuint (sp_sip_message_get_status (a), ==, sp_sip_message_get_status (b));
      g_assert_cmpstr (sp_sip_message_get_reason (a), ==, sp_sip_message_get_reason (b));
    }
  g_assert_cmpuint (va->len, ==, vb->len);
  for (guint i = 0; i < va->len; i++)
    {
      const SpSipVia *x = g_ptr_array_index (va, i), *y = g_ptr_array_index (vb, i);

      g_assert_cmpstr (x->transport, ==, y->transport);
      g_assert_cmpstr (x->host, ==, y->host);
      g_assert_cmpuint (x->port, ==, y->port);
      g_assert_cmpstr (x->branch, ==, y->branch);
      g_assert_cmpstr (x->received, ==, y->received);
      g_assert_cmpint (x->rport, ==, y->rport);
      g_assert_cmpstr (x->maddr, ==, y->maddr);
      g_assert_cmpint (x->ttl, ==, y->ttl);
      g_assert_cmpuint (x->params->len, ==, y->params->len);
    }
  assert_name_addr_equal (sp_sip_message_get_from (a), sp_sip_message_get_from (b));
  assert_name_addr_equal (sp_sip_message_get_to (a), sp_sip_message_get_to (b));
  g_assert_cmpstr (sp_sip_message_get_call_id (a), ==, sp_sip_message_get_call_id (b));
  g_assert_cmpuint (sp_sip_message_get_cseq (a, &ma), ==, sp_sip_message_get_cseq (b, &mb));
  g_assert_cmpstr (ma, ==, mb);
  g_assert_cmpint (sp_sip_message_get_max_forwards (a), ==, sp_sip_message_get_max_forwards (b));
  g_assert_cmpint (sp_sip_message_contact_is_star (a), ==, sp_sip_message_contact_is_star (b));
  g_assert_cmpuint (ca->len, ==, cb->len);
  for (guint i = 0; i < ca->len; i++)
    assert_name_addr_equal (g_ptr_array_index (ca, i), g_ptr_array_index (cb, i));
  g_assert_cmpuint (sp_sip_message_get_n_headers (a), ==, sp_sip_message_get_n_headers (b));
  ba = sp_sip_message_get_body (a, &la);
  bb = sp_sip_message_get_body (b, &lb);
  g_assert_cmpmem (ba, la, bb, lb);
}

static void
run_one (const Expectation *exp, GBytes *bytes)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSipMessage) msg =
      sp_sip_message_parse (data, len, SP_SIP_FRAMING_DATAGRAM, NULL, &error);
  g_autoptr (GBytes) wire = NULL;
  g_autoptr (SpSipMessage) again = NULL;
  const guint8 *wdata;
  gsize wlen;

  if (exp->outcome == PARSE_FAILS)
    {
      if (msg)
        g_error ("%s: parsed, expected a %u failure", exp->name, exp->status);
      g_assert_true (error->domain == SP_SIP_ERROR);
      if (sp_sip_error_to_status (error) != exp->status)
        g_error ("%s: failed with %u (%s), expected %u", exp->name, sp_sip_error_to_status (error),
                 error->message, exp->status);
      g_test_message ("%s: %u %s", exp->name, exp->status, error->message);
      return;
    }
  if (!msg)
    g_error ("%s: did not parse: %s", exp->name, error->message);
  /* Serialize, re-parse, same values. */
  wire = sp_sip_message_serialize (msg);
  wdata = g_bytes_get_data (wire, &wlen);
  again = sp_sip_message_parse (wdata, wlen, SP_SIP_FRAMING_DATAGRAM, NULL, &error);
  if (!again)
    g_error ("%s: serialized form did not parse: %s\n%.*s", exp->name, error->message, (int) wlen,
             (const char *) wdata);
  assert_same_values (msg, again);
  if (exp->extra)
    {
      exp->extra (msg);
      exp->extra (again);
    }
  if (exp->outcome == CHECK_FAILS)
    {
      g_assert_false (sp_sip_message_check_request (msg, &error));
      g_assert_cmpuint (sp_sip_error_to_status (error), ==, exp->status);
      g_test_message ("%s: check_request: %s", exp->name, error->message);
    }
  else if (sp_sip_message_is_request (msg) && strcmp (exp->valid, "yes") == 0)
    {
      if (!sp_sip_message_check_request (msg, &error))
        g_error ("%s: check_request failed: %s", exp->name, error->message);
    }
}

static const Expectation *
find_expectation (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (expectations); i++)
    if (strcmp (expectations[i].name, name) == 0)
      return &expectations[i];
  return NULL;
}

static void
test_manifest (void)
{
  g_autofree char *path =
      g_build_filename (g_getenv ("SP_TESTDATA"), "sip-torture", "manifest.tsv", NULL);
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GError) error = NULL;
  guint seen = 0;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  lines = g_strsplit (text, "\n", -1);
  g_assert_cmpstr (lines[0], ==, "name\trfc\tsection\tvalid\texpected\tnote\tfile");
  for (guint i = 1; lines[i]; i++)
    {
      g_auto (GStrv) cols = NULL;
      const Expectation *exp;
      g_autoptr (GBytes) bytes = NULL;

      if (lines[i][0] == '\0')
        continue;
      cols = g_strsplit (lines[i], "\t", -1);
      g_assert_cmpuint (g_strv_length (cols), ==, 7);
      exp = find_expectation (cols[0]);
      if (!exp)
        g_error ("manifest message \"%s\" has no expectation in the test table", cols[0]);
      g_assert_cmpstr (cols[3], ==, exp->valid);
      bytes = load_message (cols[0], cols[6]);
      run_one (exp, bytes);
      seen++;
    }
  g_assert_cmpuint (seen, ==, G_N_ELEMENTS (expectations));
  g_assert_cmpuint (seen, ==, 62);
}

/* The bare-LF archive copies of RFC 5118: the parser is lenient about
 * LF line ends, so the ones that end their header section parse too. */
static void
test_rfc5118_bare_lf (void)
{
  static const char *const names[] = { "ipv6-good", "port-unambiguous", "mult-ip-in-header",
                                       "via-received-param-no-delim" };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *file = g_strdup_printf ("%s.dat", names[i]);
      g_autofree char *path =
          g_build_filename (g_getenv ("SP_TESTDATA"), "sip-torture", "rfc5118", file, NULL);
      g_autofree char *data = NULL;
      gsize len;
      g_autoptr (GError) error = NULL;
      g_autoptr (SpSipMessage) msg = NULL;

      g_file_get_contents (path, &data, &len, &error);
      g_assert_no_error (error);
      msg =
          sp_sip_message_parse ((const guint8 *) data, len, SP_SIP_FRAMING_DATAGRAM, NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (sp_sip_message_get_via (msg));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sip/torture/manifest", test_manifest);
  g_test_add_func ("/sip/torture/rfc5118-bare-lf", test_rfc5118_bare_lf);
  return g_test_run ();
}
