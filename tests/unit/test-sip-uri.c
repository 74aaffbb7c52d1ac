#include <string.h>

#include "sip/error.h"
#include "sip/uri.h"

static SpSipUri *
parse_ok (const char *text)
{
  g_autoptr (GError) error = NULL;
  SpSipUri *uri = sp_sip_uri_parse (text, -1, &error);

  g_assert_no_error (error);
  g_assert_nonnull (uri);
  return uri;
}

static void
test_basic (void)
{
  g_autoptr (SpSipUri) uri =
      parse_ok ("sip:alice:secret@Atlanta.COM:5070;transport=tcp;lr?subject=hi&x=y");
  g_autofree char *s = NULL;

  g_assert_cmpint (sp_sip_uri_get_scheme (uri), ==, SP_URI_SCHEME_SIP);
  g_assert_cmpstr (sp_sip_uri_get_scheme_name (uri), ==, "sip");
  g_assert_cmpstr (sp_sip_uri_get_user (uri), ==, "alice");
  g_assert_cmpstr (sp_sip_uri_get_password (uri), ==, "secret");
  g_assert_cmpstr (sp_sip_uri_get_host (uri), ==, "atlanta.com");
  g_assert_cmpuint (sp_sip_uri_get_port (uri), ==, 5070);
  g_assert_false (sp_sip_uri_host_is_ipv6 (uri));
  g_assert_cmpstr (sp_sip_uri_get_param (uri, "TRANSPORT"), ==, "tcp");
  g_assert_true (sp_sip_uri_has_param (uri, "lr"));
  g_assert_null (sp_sip_uri_get_param (uri, "lr"));
  g_assert_false (sp_sip_uri_has_param (uri, "maddr"));
  g_assert_cmpuint (sp_sip_uri_get_n_params (uri), ==, 2);
  g_assert_cmpuint (sp_sip_uri_get_n_headers (uri), ==, 2);
  g_assert_cmpstr (sp_sip_uri_get_nth_header (uri, 0)->name, ==, "subject");
  g_assert_cmpstr (sp_sip_uri_get_nth_header (uri, 1)->value, ==, "y");
  s = sp_sip_uri_to_string (uri);
  g_assert_cmpstr (s, ==, "sip:alice:secret@atlanta.com:5070;transport=tcp;lr?subject=hi&x=y");
}

static void
test_host_forms (void)
{
  g_autoptr (SpSipUri) v4 = parse_ok ("sips:192.0.2.4:5061");
  g_autoptr (SpSipUri) v6 = parse_ok ("sip:[2001:DB8::10]:5070");
  g_autoptr (SpSipUri) amb = parse_ok ("sip:[2001:db8::10:5070]");
  g_autoptr (SpSipUri) three = parse_ok ("sip:user@[2001:db8:::192.0.2.1]");
  g_autoptr (SpSipUri) mapped = parse_ok ("sip:[::ffff:192.0.2.2]");
  g_autofree char *s6 = sp_sip_uri_to_string (v6);

  g_assert_cmpint (sp_sip_uri_get_scheme (v4), ==, SP_URI_SCHEME_SIPS);
  g_assert_cmpstr (sp_sip_uri_get_host (v4), ==, "192.0.2.4");
  g_assert_null (sp_sip_uri_get_user (v4));
  g_assert_cmpstr (sp_sip_uri_get_host (v6), ==, "2001:db8::10");
  g_assert_true (sp_sip_uri_host_is_ipv6 (v6));
  g_assert_cmpuint (sp_sip_uri_get_port (v6), ==, 5070);
  g_assert_cmpstr (s6, ==, "sip:[2001:db8::10]:5070");
  /* RFC 5118 4.3: all of it is the address, there is no port. */
  g_assert_cmpstr (sp_sip_uri_get_host (amb), ==, "2001:db8::10:5070");
  g_assert_cmpuint (sp_sip_uri_get_port (amb), ==, 0);
  g_assert_cmpstr (sp_sip_uri_get_host (three), ==, "2001:db8:::192.0.2.1");
  g_assert_cmpstr (sp_sip_uri_get_host (mapped), ==, "::ffff:192.0.2.2");
}

static void
test_tel_and_other (void)
{
  g_autoptr (SpSipUri) tel = parse_ok ("tel:+1-201-555-0123;phone-context=example.com");
  g_autoptr (SpSipUri) other = parse_ok ("nobodyKnowsThisScheme:totallyopaquecontent");
  g_autoptr (SpSipUri) soap = parse_ok ("soap.beep://192.0.2.103:3002");
  g_autofree char *st = sp_sip_uri_to_string (tel);
  g_autofree char *so = sp_sip_uri_to_string (soap);

  g_assert_cmpint (sp_sip_uri_get_scheme (tel), ==, SP_URI_SCHEME_TEL);
  g_assert_cmpstr (sp_sip_uri_get_user (tel), ==, "+1-201-555-0123");
  g_assert_null (sp_sip_uri_get_host (tel));
  g_assert_cmpstr (sp_sip_uri_get_param (tel, "phone-context"), ==, "example.com");
  g_assert_cmpstr (st, ==, "tel:+1-201-555-0123;phone-context=example.com");
  g_assert_cmpint (sp_sip_uri_get_scheme (other), ==, SP_URI_SCHEME_OTHER);
  g_assert_cmpstr (sp_sip_uri_get_scheme_name (other), ==, "nobodyknowsthisscheme");
  g_assert_cmpstr (sp_sip_uri_get_opaque (other), ==, "totallyopaquecontent");
  g_assert_null (sp_sip_uri_get_host (other));
  g_assert_cmpstr (sp_sip_uri_get_scheme_name (soap), ==, "soap.beep");
  g_assert_cmpstr (so, ==, "soap.beep://192.0.2.103:3002");
}

static void
test_escapes (void)
{
  g_autoptr (SpSipUri) esc = parse_ok ("sips:sips%3Auser%40example.com@example.net");
  g_autoptr (SpSipUri) nul = parse_ok ("sip:null-%00-null@example.com");
  g_autoptr (SpSipUri) semi = parse_ok ("sip:user;par=u%40example.net@example.com");
  gsize len = 0;
  g_autofree char *u1 = sp_sip_uri_dup_user_unescaped (esc, &len);
  g_autofree char *u2 = NULL;

  g_assert_cmpstr (sp_sip_uri_get_user (esc), ==, "sips%3Auser%40example.com");
  g_assert_cmpstr (u1, ==, "sips:user@example.com");
  g_assert_cmpuint (len, ==, strlen ("sips:user@example.com"));
  u2 = sp_sip_uri_dup_user_unescaped (nul, &len);
  g_assert_cmpuint (len, ==, 11);
  g_assert_cmpmem (u2, len, "null-\0-null", 11);
  g_assert_cmpstr (sp_sip_uri_get_user (semi), ==, "user;par=u%40example.net");
  g_assert_cmpstr (sp_sip_uri_get_host (semi), ==, "example.com");
  g_assert_cmpuint (sp_sip_uri_get_n_params (semi), ==, 0);
}

static void
test_bad (void)
{
  static const char *const bad[] = {
    "",
    "sip:",
    "sip:user@",
    "sip:2001:db8::10", /* RFC 5118 4.2: IPv6 without brackets */
    "sip:host:99999",
    "sip:host:0",
    "sip:host:",
    "sip:[2001:db8::10",
    "sip:[]",
    "sip:user@host;",
    "sip:user@host;=x",
    "sip:user@host?",
    "sip:user@host?a",
    "sip:us er@host",
    "sip:user@host name",
    "sip:%zzuser@host",
    "sip:user@ex%41mple.com",
    "<sip:user@example.com>",
    "1sip:foo",
    "tel:",
    "tel:+1 555",
    "x:",
    "x:a b",
    "sip:user@host>",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SpSipUri) uri = sp_sip_uri_parse (bad[i], -1, &error);

      if (uri)
        g_error ("parsed although invalid: \"%s\"", bad[i]);
      g_assert_error (error, SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST);
    }
}

static void
test_no_read_past_len (void)
{
  const char text[] = "sip:alice@example.com;lr";
  g_autoptr (GError) error = NULL;
  /* Only "sip:alice@example.com" (21 bytes) is the URI. */
  g_autoptr (SpSipUri) uri = sp_sip_uri_parse (text, 21, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (sp_sip_uri_get_n_params (uri), ==, 0);
}

static gboolean
equal (const char *a, const char *b)
{
  g_autoptr (SpSipUri) ua = parse_ok (a);
  g_autoptr (SpSipUri) ub = parse_ok (b);
  gboolean ab = sp_sip_uri_equal (ua, ub), ba = sp_sip_uri_equal (ub, ua);

  g_assert_cmpint (ab, ==, ba);
  return ab;
}

/* The examples of RFC 3261 section 19.1.4. */
static void
test_equal_rfc3261 (void)
{
  g_assert_true (
      equal ("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"));
  g_assert_true (equal ("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"));
  g_assert_true (equal ("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"));
  g_assert_true (equal ("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"));
  g_assert_true (equal ("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
                        "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"));
  g_assert_true (equal ("sip:alice@atlanta.com?subject=project%20x&priority=urgent",
                        "sip:alice@atlanta.com?priority=urgent&subject=project%20x"));

  g_assert_false (
      equal ("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"));
  g_assert_false (equal ("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"));
  g_assert_false (equal ("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"));
  g_assert_false (equal ("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"));
  g_assert_false (equal ("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"));
  g_assert_false (equal ("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"));

  /* And a few more rules of the same section. */
  g_assert_false (equal ("sip:alice@atlanta.com", "sips:alice@atlanta.com"));
  g_assert_false (equal ("sip:alice@atlanta.com;maddr=239.255.255.1", "sip:alice@atlanta.com"));
  g_assert_false (equal ("sip:alice@atlanta.com;newparam=5", "sip:alice@atlanta.com;newparam=6"));
  g_assert_false (equal ("sip:alice:pw@atlanta.com", "sip:alice@atlanta.com"));
  g_assert_true (equal ("sip:[2001:db8::10]", "sip:[2001:DB8:0:0:0:0:0:10]"));
  g_assert_false (equal ("sip:null-%00-null@example.com", "sip:null-%00-nul@example.com"));
  g_assert_false (equal ("sip:%00@host5.example.com", "sip:%00%00@host5.example.com"));
  g_assert_true (equal ("tel:+1-201-555-0123", "tel:+1-201-555-0123"));
  g_assert_false (equal ("tel:+1-201-555-0123", "sip:+1-201-555-0123@example.com"));
  /* A repeated parameter compares occurrence by occurrence (fuzzer find). */
  g_assert_true (equal ("sip:u;ar=x;ar=y", "sip:u;ar=x;ar=y"));
  g_assert_false (equal ("sip:u;ar=x;ar=y", "sip:u;ar=y;ar=x"));
}

static void
test_build_and_modify (void)
{
  g_autoptr (SpSipUri) uri = sp_sip_uri_new (SP_URI_SCHEME_SIP, "bob", "Example.ORG", 5060);
  g_autoptr (SpSipUri) copy = NULL;
  g_autoptr (SpSipUri) back = NULL;
  g_autofree char *s = NULL;

  sp_sip_uri_set_param (uri, "transport", "tcp");
  sp_sip_uri_set_param (uri, "lr", NULL);
  sp_sip_uri_set_param (uri, "transport", "udp");
  s = sp_sip_uri_to_string (uri);
  g_assert_cmpstr (s, ==, "sip:bob@example.org:5060;transport=udp;lr");
  copy = sp_sip_uri_copy (uri);
  g_assert_true (sp_sip_uri_equal (uri, copy));
  sp_sip_uri_remove_param (copy, "lr");
  g_assert_false (sp_sip_uri_has_param (copy, "lr"));
  sp_sip_uri_set_host (copy, "[::1]");
  sp_sip_uri_set_port (copy, 0);
  sp_sip_uri_set_user (copy, NULL);
  g_clear_pointer (&s, g_free);
  s = sp_sip_uri_to_string (copy);
  g_assert_cmpstr (s, ==, "sip:[::1];transport=udp");
  back = parse_ok (s);
  g_assert_true (sp_sip_uri_equal (back, copy));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sip/uri/basic", test_basic);
  g_test_add_func ("/sip/uri/host-forms", test_host_forms);
  g_test_add_func ("/sip/uri/tel-and-other", test_tel_and_other);
  g_test_add_func ("/sip/uri/escapes", test_escapes);
  g_test_add_func ("/sip/uri/bad", test_bad);
  g_test_add_func ("/sip/uri/bounded", test_no_read_past_len);
  g_test_add_func ("/sip/uri/equal-rfc3261", test_equal_rfc3261);
  g_test_add_func ("/sip/uri/build-and-modify", test_build_and_modify);
  return g_test_run ();
}
