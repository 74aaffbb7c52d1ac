#include "config.h"

#include <string.h>

#include "ua/siplog.h"

/* From the seed's capture: u1's authenticated INVITE to the server. */
static const char invite[] = "INVITE sip:2@127.0.0.50 SIP/2.0\r\n"
                             "Via: SIP/2.0/UDP 127.0.0.183:5060;branch=z9hG4bK1\r\n"
                             "From: <sip:u1@127.0.0.50>;tag=1542144666\r\n"
                             "To: <sip:2@127.0.0.50>\r\n"
                             "Call-ID: 2126492930@127.0.0.50\r\n"
                             "CSeq: 2 INVITE\r\n"
                             "Max-Forwards: 20\r\n"
                             "Content-Type: application/sdp\r\n"
                             "Content-Length: 4\r\n"
                             "\r\n"
                             "v=0\n";

static const char trying[] = "SIP/2.0 100 Trying\r\n"
                             "i:  2126492930@127.0.0.50 \r\n"
                             "CSeq: 2 INVITE\r\n"
                             "Content-Length: 0\r\n"
                             "\r\n";

static void
test_request (void)
{
  g_autoptr (SpSipLogEntry) e =
      sp_sip_log_entry_new (1000, SP_SIP_LOG_DIRECTION_SENT, "127.0.0.183:5060", "127.0.0.50:5060",
                            invite, strlen (invite));

  g_assert_cmpint (sp_sip_log_entry_get_time (e), ==, 1000);
  g_assert_cmpint (sp_sip_log_entry_get_direction (e), ==, SP_SIP_LOG_DIRECTION_SENT);
  g_assert_cmpstr (sp_sip_log_entry_get_src (e), ==, "127.0.0.183:5060");
  g_assert_cmpstr (sp_sip_log_entry_get_dst (e), ==, "127.0.0.50:5060");
  g_assert_cmpstr (sp_sip_log_entry_get_first_line (e), ==, "INVITE sip:2@127.0.0.50 SIP/2.0");
  g_assert_true (sp_sip_log_entry_is_request (e));
  g_assert_cmpstr (sp_sip_log_entry_get_method (e), ==, "INVITE");
  g_assert_cmpuint (sp_sip_log_entry_get_status_code (e), ==, 0);
  g_assert_cmpstr (sp_sip_log_entry_get_call_id (e), ==, "2126492930@127.0.0.50");
  g_assert_cmpstr (sp_sip_log_entry_get_cseq (e), ==, "2 INVITE");
  g_assert_true (sp_sip_log_entry_has_sdp (e));
  g_assert_cmpstr (sp_sip_log_entry_get_summary (e), ==, "INVITE SDP");
  g_assert_cmpstr (sp_sip_log_entry_get_raw (e), ==, invite);
}

static void
test_response_compact_header (void)
{
  g_autoptr (SpSipLogEntry) e =
      sp_sip_log_entry_new (2, SP_SIP_LOG_DIRECTION_RECEIVED, "127.0.0.50:5060", "127.0.0.183:5060",
                            trying, strlen (trying));

  g_assert_false (sp_sip_log_entry_is_request (e));
  g_assert_null (sp_sip_log_entry_get_method (e));
  g_assert_cmpuint (sp_sip_log_entry_get_status_code (e), ==, 100);
  g_assert_cmpstr (sp_sip_log_entry_get_call_id (e), ==, "2126492930@127.0.0.50");
  g_assert_false (sp_sip_log_entry_has_sdp (e));
  g_assert_cmpstr (sp_sip_log_entry_get_summary (e), ==, "100 Trying");
}

static void
test_sdp_type_without_body (void)
{
  const char *msg = "SIP/2.0 200 OK\r\nContent-Type: application/sdp\r\n\r\n";
  g_autoptr (SpSipLogEntry) e =
      sp_sip_log_entry_new (0, SP_SIP_LOG_DIRECTION_RECEIVED, "a", "b", msg, strlen (msg));

  g_assert_cmpuint (sp_sip_log_entry_get_status_code (e), ==, 200);
  g_assert_false (sp_sip_log_entry_has_sdp (e));
  g_assert_cmpstr (sp_sip_log_entry_get_summary (e), ==, "200 OK");
}

/* Garbage must still become a readable entry, never a crash or overread. */
static void
test_garbage (void)
{
  const char bytes[] = { 'S',    'I',  'P',  '/', '2', '.', '0', ' ', '9', '9', '\0', '\xff',
                         '\xfe', '\r', '\n', 'C', 'a', 'l', 'l', '-', 'I', 'D', ':' };
  g_autoptr (SpSipLogEntry) e =
      sp_sip_log_entry_new (0, SP_SIP_LOG_DIRECTION_RECEIVED, NULL, NULL, bytes, sizeof bytes);

  g_assert_true (g_utf8_validate (sp_sip_log_entry_get_raw (e), -1, NULL));
  g_assert_true (g_utf8_validate (sp_sip_log_entry_get_first_line (e), -1, NULL));
  g_assert_cmpuint (sp_sip_log_entry_get_status_code (e), ==, 0);
  g_assert_null (sp_sip_log_entry_get_method (e));
  g_assert_null (sp_sip_log_entry_get_call_id (e)); /* empty value: none */
  g_assert_cmpstr (sp_sip_log_entry_get_src (e), ==, "");
  g_assert_true (g_str_has_prefix (sp_sip_log_entry_get_summary (e), "SIP/2.0 99"));

  g_autoptr (SpSipLogEntry) empty =
      sp_sip_log_entry_new (0, SP_SIP_LOG_DIRECTION_SENT, "a", "b", NULL, 0);
  g_assert_cmpstr (sp_sip_log_entry_get_first_line (empty), ==, "");
  g_assert_cmpstr (sp_sip_log_entry_get_summary (empty), ==, "");
}

static void
test_long_input_bounded (void)
{
  gsize len = SP_SIP_LOG_MAX_RAW * 2;
  g_autofree char *big = g_malloc (len);

  memset (big, 'A', len);
  g_autoptr (SpSipLogEntry) e =
      sp_sip_log_entry_new (0, SP_SIP_LOG_DIRECTION_SENT, "a", "b", big, len);
  g_assert_cmpuint (strlen (sp_sip_log_entry_get_raw (e)), ==, SP_SIP_LOG_MAX_RAW);
  g_assert_cmpuint (strlen (sp_sip_log_entry_get_first_line (e)), ==, 1024);
  g_assert_cmpuint (strlen (sp_sip_log_entry_get_summary (e)), ==, 48);
}

typedef struct
{
  guint calls;
  guint last_position, last_removed, last_added;
  guint n_at_signal;
} Changes;

static void
on_items_changed (GListModel *model, guint position, guint removed, guint added, Changes *c)
{
  c->calls++;
  c->last_position = position;
  c->last_removed = removed;
  c->last_added = added;
  c->n_at_signal = g_list_model_get_n_items (model);
}

static SpSipLogEntry *
numbered_entry (int n)
{
  g_autofree char *msg = g_strdup_printf ("OPTIONS sip:%d@127.0.0.1 SIP/2.0\r\n\r\n", n);
  return sp_sip_log_entry_new (n, SP_SIP_LOG_DIRECTION_SENT, "a", "b", msg, strlen (msg));
}

static void
test_log_model_bounded (void)
{
  g_autoptr (SpSipLog) log = sp_sip_log_new (3);
  Changes c = { 0 };

  g_signal_connect (log, "items-changed", G_CALLBACK (on_items_changed), &c);
  g_assert_true (g_list_model_get_item_type (G_LIST_MODEL (log)) == SP_TYPE_SIP_LOG_ENTRY);
  for (int i = 1; i <= 3; i++)
    {
      g_autoptr (SpSipLogEntry) e = numbered_entry (i);
      sp_sip_log_append (log, e);
    }
  g_assert_cmpuint (c.calls, ==, 3);
  g_assert_cmpuint (c.last_position, ==, 2);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (log)), ==, 3);

  /* The fourth drops the first: a removal at 0, then an append at 2. */
  g_autoptr (SpSipLogEntry) e4 = numbered_entry (4);
  sp_sip_log_append (log, e4);
  g_assert_cmpuint (c.calls, ==, 5);
  g_assert_cmpuint (c.last_position, ==, 2);
  g_assert_cmpuint (c.last_added, ==, 1);
  g_assert_cmpuint (c.n_at_signal, ==, 3);

  g_autoptr (SpSipLogEntry) first = g_list_model_get_item (G_LIST_MODEL (log), 0);
  g_assert_cmpint (sp_sip_log_entry_get_time (first), ==, 2);
  g_autoptr (SpSipLogEntry) last = g_list_model_get_item (G_LIST_MODEL (log), 2);
  g_assert_true (last == e4);
  g_assert_cmpstr (sp_sip_log_entry_get_method (last), ==, "OPTIONS");
  g_assert_null (g_list_model_get_item (G_LIST_MODEL (log), 3));

  sp_sip_log_clear (log);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (log)), ==, 0);
  g_assert_cmpuint (c.last_removed, ==, 3);
  g_assert_cmpuint (c.n_at_signal, ==, 0);
}

/* --- credentials masked ---------------------------------------------------- */

static char *
mask (const char *text)
{
  gsize len = 0;
  char *out = sp_sip_log_mask_credentials (text, strlen (text), &len);

  g_assert_cmpuint (strlen (out), ==, len);
  return out;
}

/* A REGISTER as our phone sends it, credentials from our own digest code. */
static void
test_mask_digest_response (void)
{
  const char *before = "REGISTER sip:127.0.0.50 SIP/2.0\r\n"
                       "Via: SIP/2.0/UDP 127.0.0.183:5060;branch=z9hG4bK2\r\n"
                       "From: <sip:u1@127.0.0.50>;tag=77\r\n"
                       "To: <sip:u1@127.0.0.50>\r\n"
                       "Call-ID: reg-1@127.0.0.183\r\n"
                       "CSeq: 2 REGISTER\r\n";
  const char *auth = "Authorization: Digest username=\"u1\", realm=\"softphone\", "
                     "nonce=\"5f1c2a.9d8e\", uri=\"sip:127.0.0.50\", "
                     "response=\"0f3c7d5e1a2b4c6d8e9f0a1b2c3d4e5f\", algorithm=MD5, "
                     "cnonce=\"a1b2c3\", qop=auth, nc=00000001\r\n";
  const char *after = "Content-Length: 0\r\n\r\n";
  g_autofree char *message = g_strconcat (before, auth, after, NULL);
  g_autofree char *masked = mask (message);
  g_autofree char *expected = g_strconcat (
      before,
      "Authorization: Digest username=\"u1\", realm=\"softphone\", "
      "nonce=\"5f1c2a.9d8e\", uri=\"sip:127.0.0.50\", response=\"***\", algorithm=MD5, "
      "cnonce=\"a1b2c3\", qop=auth, nc=00000001\r\n",
      after, NULL);

  g_assert_cmpstr (masked, ==, expected);
  g_assert_null (strstr (masked, "0f3c7d5e"));
}

/* Proxy-Authorization in lower case, a blank before the colon, the
 * response a token, the value folded over three lines (RFC 3261 7.3.1). */
static void
test_mask_folded_proxy_authorization (void)
{
  g_autofree char *masked = mask ("INVITE sip:2@h SIP/2.0\r\n"
                                  "proxy-authorization : Digest username=\"u1\",\r\n"
                                  "  realm=\"r\", nonce=\"n\", uri=\"sip:2@h\",\r\n"
                                  "\tRESPONSE = 0123456789abcdef0123456789abcdef , opaque=\"o\"\r\n"
                                  "Authorization: Digest response=\"first\", username=\"a\", "
                                  "Digest response=\"second\", username=\"b\"\r\n"
                                  "Subject: response=\"not a credential\"\r\n"
                                  "\r\n");

  g_assert_cmpstr (masked, ==,
                   "INVITE sip:2@h SIP/2.0\r\n"
                   "proxy-authorization : Digest username=\"u1\",\r\n"
                   "  realm=\"r\", nonce=\"n\", uri=\"sip:2@h\",\r\n"
                   "\tRESPONSE = *** , opaque=\"o\"\r\n"
                   "Authorization: Digest response=\"***\", username=\"a\", "
                   "Digest response=\"***\", username=\"b\"\r\n"
                   "Subject: response=\"not a credential\"\r\n"
                   "\r\n");
}

/* A quote, a comma or "response=" inside a quoted value does not move
 * the parameter boundaries; an unterminated response hides all after it. */
static void
test_mask_quoted_values (void)
{
  g_autofree char *tricky = mask ("Authorization: Digest username=\"a\\\"b, response=x\", "
                                  "uri=\"sip:x,y\", response=\"c4f3\"\r\n");
  g_autofree char *open = mask ("Authorization: Digest nonce=\"n\", response=\"c4f3, nc=1\r\n");

  g_assert_cmpstr (tricky, ==,
                   "Authorization: Digest username=\"a\\\"b, response=x\", "
                   "uri=\"sip:x,y\", response=\"***\"\r\n");
  g_assert_cmpstr (open, ==, "Authorization: Digest nonce=\"n\", response=\"***\"\r\n");
}

/* Other schemes carry a password or a token itself: all of it goes. */
static void
test_mask_other_schemes (void)
{
  g_autofree char *basic = mask ("Authorization: Basic dTE6czNjcmV0==\r\nCSeq: 1 OPTIONS\r\n");
  g_autofree char *bearer =
      mask ("Proxy-Authorization: Bearer eyJhbGciOi.eyJzdWIi.c2lnbmF0dXJl\r\n\r\n");
  g_autofree char *mixed =
      mask ("Authorization: Digest username=\"a\", response=\"1\", Basic dTE6czNjcmV0\r\n");

  g_assert_cmpstr (basic, ==, "Authorization: Basic ***\r\nCSeq: 1 OPTIONS\r\n");
  g_assert_cmpstr (bearer, ==, "Proxy-Authorization: Bearer ***\r\n\r\n");
  g_assert_cmpstr (mixed, ==,
                   "Authorization: Digest username=\"a\", response=\"***\", Basic ***\r\n");
}

static void
test_mask_authentication_info (void)
{
  g_autofree char *masked =
      mask ("SIP/2.0 200 OK\r\n"
            "Authentication-Info: nextnonce=\"47364c23432d2e131a5fb210812c\", "
            "rspauth=\"6629fae49393a05397450978507c4ef1\", qop=auth, nc=00000001\r\n"
            "Proxy-Authentication-Info: rspauth=abc\r\n\r\n");

  g_assert_cmpstr (masked, ==,
                   "SIP/2.0 200 OK\r\n"
                   "Authentication-Info: nextnonce=\"47364c23432d2e131a5fb210812c\", "
                   "rspauth=\"***\", qop=auth, nc=00000001\r\n"
                   "Proxy-Authentication-Info: rspauth=***\r\n\r\n");
}

/* sip:user:password@host (RFC 3261 19.1.1, "NOT RECOMMENDED") anywhere. */
static void
test_mask_uri_password (void)
{
  g_autofree char *masked = mask ("INVITE sip:bob:hunter2@127.0.0.50;transport=tcp SIP/2.0\r\n"
                                  "To: <SIPS:bob:p%40ss&w=rd@h>\r\n"
                                  "Route: <sip:127.0.0.50:5060;lr>, <sip:proxy:5061>\r\n"
                                  "Contact: <sip:alice@127.0.0.183:5060>\r\n\r\n");

  g_assert_cmpstr (masked, ==,
                   "INVITE sip:bob:***@127.0.0.50;transport=tcp SIP/2.0\r\n"
                   "To: <SIPS:bob:***@h>\r\n"
                   "Route: <sip:127.0.0.50:5060;lr>, <sip:proxy:5061>\r\n"
                   "Contact: <sip:alice@127.0.0.183:5060>\r\n\r\n");
}

/* No credentials: every byte back as it came, NULs and junk included. */
static void
test_mask_keeps_the_rest (void)
{
  static const char junk[] = "\x00\xff\xfe Authorization\r\n:: \r\n\t\nsip:\nsips:a:\n";
  gsize len = 0;
  g_autofree char *a = mask (invite);
  g_autofree char *b = mask (trying);
  g_autofree char *c = sp_sip_log_mask_credentials (junk, sizeof junk - 1, &len);
  g_autofree char *d = sp_sip_log_mask_credentials (NULL, 0, &len);

  g_assert_cmpstr (a, ==, invite);
  g_assert_cmpstr (b, ==, trying);
  g_assert_cmpmem (c, sizeof junk - 1, junk, sizeof junk - 1);
  g_assert_cmpstr (d, ==, "");
  g_assert_cmpuint (len, ==, 0);
}

/* Random bytes around planted credentials: never a crash (ASan watches),
 * never the planted response in the output. */
static void
test_mask_random (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (4711);
  static const char *const pieces[] = {
    "Authorization:",
    "Proxy-Authorization",
    " Digest ",
    "response",
    "=",
    "\"",
    "\\",
    ",",
    "\r\n",
    "\n ",
    "sip:",
    "a:b@",
    ":",
    "@",
    "Basic ",
    "rspauth=",
    "x",
  };

  for (guint round = 0; round < 2000; round++)
    {
      g_autoptr (GString) text = g_string_new (NULL);
      g_autofree char *masked = NULL;
      gsize len = 0;

      for (guint i = g_rand_int_range (rand, 0, 40); i > 0; i--)
        {
          if (g_rand_boolean (rand))
            g_string_append (text, pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))]);
          else
            g_string_append_c (text, (char) g_rand_int_range (rand, 0, 256));
        }
      g_string_append (text, "\r\nAuthorization: Digest nonce=\"1\", response=\"SECRET42\"\r\n");
      masked = sp_sip_log_mask_credentials (text->str, text->len, &len);
      g_assert_null (g_strstr_len (masked, len, "SECRET42"));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/siplog/request", test_request);
  g_test_add_func ("/siplog/response-compact-header", test_response_compact_header);
  g_test_add_func ("/siplog/sdp-type-without-body", test_sdp_type_without_body);
  g_test_add_func ("/siplog/garbage", test_garbage);
  g_test_add_func ("/siplog/long-input-bounded", test_long_input_bounded);
  g_test_add_func ("/siplog/model-bounded", test_log_model_bounded);
  g_test_add_func ("/siplog/mask/digest-response", test_mask_digest_response);
  g_test_add_func ("/siplog/mask/folded-proxy-authorization", test_mask_folded_proxy_authorization);
  g_test_add_func ("/siplog/mask/quoted-values", test_mask_quoted_values);
  g_test_add_func ("/siplog/mask/other-schemes", test_mask_other_schemes);
  g_test_add_func ("/siplog/mask/authentication-info", test_mask_authentication_info);
  g_test_add_func ("/siplog/mask/uri-password", test_mask_uri_password);
  g_test_add_func ("/siplog/mask/keeps-the-rest", test_mask_keeps_the_rest);
  g_test_add_func ("/siplog/mask/random", test_mask_random);
  return g_test_run ();
}
