/* HTTP Digest for SIP (src/sip/digest.c): RFC test vectors, syntax,
 * client and server side, nonces. */

#include <string.h>

#include "sip/digest.h"

static const char rfc7616_nonce[] = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
static const char rfc7616_cnonce[] = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
static const char rfc7616_opaque[] = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS";

/* RFC 2617 section 3.5. */
static void
test_rfc2617 (void)
{
  static const char challenge_text[] = "Digest\r\n realm=\"testrealm@host.com\",\r\n"
                                       "  qop=\"auth,auth-int\",\r\n"
                                       "  nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r\n"
                                       "  opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";
  static const char credentials_text[] = "Digest username=\"Mufasa\",\r\n"
                                         "  realm=\"testrealm@host.com\",\r\n"
                                         "  nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r\n"
                                         "  uri=\"/dir/index.html\",\r\n"
                                         "  qop=auth,\r\n"
                                         "  nc=00000001,\r\n"
                                         "  cnonce=\"0a4f113b\",\r\n"
                                         "  response=\"6629fae49393a05397450978507c4ef1\",\r\n"
                                         "  opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";
  g_autoptr (GError) error = NULL;
  g_autoptr (SpDigestChallenge) ch = sp_digest_challenge_parse (challenge_text, -1, &error);
  g_autoptr (SpDigestCredentials) cr = NULL;
  g_autoptr (SpDigestCredentials) mine = NULL;
  g_autofree char *ha1 = NULL;
  g_autofree char *response = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (ch->realm, ==, "testrealm@host.com");
  g_assert_cmpstr (ch->nonce, ==, "dcd98b7102dd2f0e8b11d0f600bfb0c093");
  g_assert_cmpstr (ch->opaque, ==, "5ccc069c403ebaf9f0171e9517f40e41");
  g_assert_cmpuint (ch->qop, ==, SP_DIGEST_QOP_AUTH | SP_DIGEST_QOP_AUTH_INT);
  g_assert_cmpint (ch->algorithm, ==, SP_DIGEST_ALGORITHM_MD5);
  g_assert_null (ch->algorithm_name);
  g_assert_false (ch->stale);

  ha1 = sp_digest_compute_ha1 (SP_DIGEST_ALGORITHM_MD5, "Mufasa", "testrealm@host.com",
                               "Circle Of Life");
  g_assert_cmpstr (ha1, ==, "939e7578ed9e3c518a452acee763bce9");
  response = sp_digest_compute_response (
      SP_DIGEST_ALGORITHM_MD5, ha1, "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b",
      SP_DIGEST_QOP_AUTH, "GET", "/dir/index.html", NULL, 0);
  g_assert_cmpstr (response, ==, "6629fae49393a05397450978507c4ef1");

  /* The client side builds the same. */
  mine =
      sp_digest_credentials_new_for_challenge (ch, "Mufasa", "Circle Of Life", NULL, "GET",
                                               "/dir/index.html", NULL, 0, 1, "0a4f113b", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mine->response, ==, "6629fae49393a05397450978507c4ef1");
  g_assert_cmpstr (mine->opaque, ==, "5ccc069c403ebaf9f0171e9517f40e41");
  g_assert_cmpint (mine->qop, ==, SP_DIGEST_QOP_AUTH);
  g_assert_cmpstr (mine->nc, ==, "00000001");

  /* The server side parses and verifies the RFC's Authorization. */
  cr = sp_digest_credentials_parse (credentials_text, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (cr->username, ==, "Mufasa");
  g_assert_cmpstr (cr->uri, ==, "/dir/index.html");
  g_assert_cmpstr (cr->cnonce, ==, "0a4f113b");
  g_assert_cmpuint (cr->nc_value, ==, 1);
  g_assert_cmpint (cr->qop, ==, SP_DIGEST_QOP_AUTH);
  g_assert_true (sp_digest_credentials_verify (cr, ha1, "GET", NULL, 0));
  g_assert_false (sp_digest_credentials_verify (cr, ha1, "POST", NULL, 0));
}

/* RFC 7616 section 3.9.1, MD5 and SHA-256. */
static void
test_rfc7616 (void)
{
  static const struct
  {
    const char *algorithm;
    const char *response;
  } vectors[] = {
    { "MD5", "8ca523f5e9506fed4657c9700eebdbec" },
    { "SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (vectors); i++)
    {
      g_autofree char *challenge_text = g_strdup_printf (
          "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=%s, "
          "nonce=\"%s\", opaque=\"%s\"",
          vectors[i].algorithm, rfc7616_nonce, rfc7616_opaque);
      g_autoptr (GError) error = NULL;
      g_autoptr (SpDigestChallenge) ch = sp_digest_challenge_parse (challenge_text, -1, &error);
      g_autoptr (SpDigestCredentials) cr = NULL;
      g_autoptr (SpDigestCredentials) parsed = NULL;
      g_autofree char *header = NULL;
      g_autofree char *ha1 = NULL;

      g_assert_no_error (error);
      g_assert_cmpstr (ch->algorithm_name, ==, vectors[i].algorithm);
      g_assert_cmpint (ch->algorithm, ==,
                       i == 0 ? SP_DIGEST_ALGORITHM_MD5 : SP_DIGEST_ALGORITHM_SHA256);
      g_assert_cmpuint (ch->qop, ==, SP_DIGEST_QOP_AUTH | SP_DIGEST_QOP_AUTH_INT);
      cr = sp_digest_credentials_new_for_challenge (ch, "Mufasa", "Circle of Life", NULL, "GET",
                                                    "/dir/index.html", NULL, 0, 1, rfc7616_cnonce,
                                                    &error);
      g_assert_no_error (error);
      g_assert_cmpstr (cr->response, ==, vectors[i].response);

      /* Built header → parsed → verified with the stored HA1. */
      header = sp_digest_credentials_to_string (cr);
      g_assert_true (g_str_has_prefix (header, "Digest username=\"Mufasa\", "));
      g_assert_nonnull (strstr (header, "qop=auth, nc=00000001"));
      parsed = sp_digest_credentials_parse (header, -1, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (parsed->response, ==, vectors[i].response);
      g_assert_cmpstr (parsed->cnonce, ==, rfc7616_cnonce);
      g_assert_cmpstr (parsed->opaque, ==, rfc7616_opaque);
      g_assert_cmpstr (parsed->algorithm_name, ==, vectors[i].algorithm);
      ha1 = sp_digest_compute_ha1 (parsed->algorithm, "Mufasa", "http-auth@example.org",
                                   "Circle of Life");
      g_assert_true (sp_digest_credentials_verify (parsed, ha1, "GET", NULL, 0));
      g_free (ha1);
      ha1 = sp_digest_compute_ha1 (parsed->algorithm, "Mufasa", "http-auth@example.org",
                                   "Circle Of Life");
      g_assert_false (sp_digest_credentials_verify (parsed, ha1, "GET", NULL, 0));
    }
}

/* Values computed independently with Python's hashlib. */
static void
test_other_modes (void)
{
  g_autofree char *md5_ha1 =
      sp_digest_compute_ha1 (SP_DIGEST_ALGORITHM_MD5_SESS, "alice", "sip.example", "pw");
  g_autofree char *sha_ha1 =
      sp_digest_compute_ha1 (SP_DIGEST_ALGORITHM_SHA256_SESS, "alice", "sip.example", "pw");
  g_autofree char *r1 = NULL;
  g_autofree char *r2 = NULL;
  g_autofree char *r3 = NULL;
  g_autofree char *r4 = NULL;
  g_autofree char *upper = NULL;

  /* RFC 2069 form: no qop. */
  {
    g_autofree char *ha1 = sp_digest_compute_ha1 (SP_DIGEST_ALGORITHM_MD5, "Mufasa",
                                                  "testrealm@host.com", "CircleOfLife");
    r1 = sp_digest_compute_response (SP_DIGEST_ALGORITHM_MD5, ha1,
                                     "dcd98b7102dd2f0e8b11d0f600bfb0c093", NULL, NULL,
                                     SP_DIGEST_QOP_NONE, "GET", "/dir/index.html", NULL, 0);
    g_assert_cmpstr (r1, ==, "1949323746fe6a43ef61f9606e7febea");
  }
  /* MD5-sess with auth-int over a body. */
  r2 = sp_digest_compute_response (SP_DIGEST_ALGORITHM_MD5_SESS, md5_ha1, "n1", "0000000a", "c1",
                                   SP_DIGEST_QOP_AUTH_INT, "INVITE", "sip:bob@127.0.0.1",
                                   (const guint8 *) "body", 4);
  g_assert_cmpstr (r2, ==, "058eb0d2c4b5a46bb6b7f048341b370f");
  /* SHA-256-sess with auth. */
  r3 = sp_digest_compute_response (SP_DIGEST_ALGORITHM_SHA256_SESS, sha_ha1, "n1", "00000002", "c1",
                                   SP_DIGEST_QOP_AUTH, "REGISTER", "sip:127.0.0.1", NULL, 0);
  g_assert_cmpstr (r3, ==, "c3fb671d8fb4f8f93cb11b9a0d65e6860f62a647fd90f38acb1f7c90f17b7560");
  /* A stored HA1 in upper case works; one of the wrong length does not. */
  upper = g_ascii_strup (sha_ha1, -1);
  r4 = sp_digest_compute_response (SP_DIGEST_ALGORITHM_SHA256_SESS, upper, "n1", "00000002", "c1",
                                   SP_DIGEST_QOP_AUTH, "REGISTER", "sip:127.0.0.1", NULL, 0);
  g_assert_cmpstr (r4, ==, r3);
  g_assert_null (sp_digest_compute_response (SP_DIGEST_ALGORITHM_SHA256, md5_ha1, "n", "00000001",
                                             "c", SP_DIGEST_QOP_AUTH, "GET", "/", NULL, 0));
  /* qop needs nc and cnonce. */
  g_assert_null (sp_digest_compute_response (SP_DIGEST_ALGORITHM_MD5, md5_ha1, "n", NULL, "c",
                                             SP_DIGEST_QOP_AUTH, "GET", "/", NULL, 0));
  g_assert_null (sp_digest_compute_ha1 (SP_DIGEST_ALGORITHM_UNKNOWN, "a", "b", "c"));
}

static void
test_client_server_round_trip (void)
{
  static const guint8 secret[] = "server secret of at least 32 bytes!!";
  const SpDigestAlgorithm algorithms[] = { SP_DIGEST_ALGORITHM_MD5, SP_DIGEST_ALGORITHM_MD5_SESS,
                                           SP_DIGEST_ALGORITHM_SHA256,
                                           SP_DIGEST_ALGORITHM_SHA256_SESS };
  const guint qops[] = { 0, SP_DIGEST_QOP_AUTH, SP_DIGEST_QOP_AUTH_INT };
  const guint8 body[] = "v=0\r\n";

  for (guint a = 0; a < G_N_ELEMENTS (algorithms); a++)
    for (guint q = 0; q < G_N_ELEMENTS (qops); q++)
      {
        g_autofree char *nonce = sp_digest_nonce_new (secret, sizeof secret, "pbx", 1000);
        g_autoptr (SpDigestChallenge) sent =
            sp_digest_challenge_new ("pbx", nonce, algorithms[a], qops[q]);
        g_autofree char *www = sp_digest_challenge_to_string (sent);
        g_autoptr (GError) error = NULL;
        g_autoptr (SpDigestChallenge) got = sp_digest_challenge_parse (www, -1, &error);
        g_autoptr (SpDigestCredentials) cr = NULL;
        g_autoptr (SpDigestCredentials) rx = NULL;
        g_autofree char *auth = NULL;
        g_autofree char *ha1 = sp_digest_compute_ha1 (algorithms[a], "alice", "pbx", "secret");

        g_assert_no_error (error);
        g_assert_cmpint (got->algorithm, ==, algorithms[a]);
        g_assert_cmpuint (got->qop, ==, qops[q]);
        g_assert_cmpstr (got->nonce, ==, nonce);
        /* The client only has the HA1, with a random cnonce. */
        cr = sp_digest_credentials_new_for_challenge (got, "alice", NULL, ha1, "INVITE",
                                                      "sip:bob@127.0.0.1", body, sizeof body - 1, 7,
                                                      NULL, &error);
        g_assert_no_error (error);
        auth = sp_digest_credentials_to_string (cr);
        rx = sp_digest_credentials_parse (auth, -1, &error);
        g_assert_no_error (error);
        g_assert_cmpint (rx->qop, ==, cr->qop);
        if (qops[q] != 0)
          g_assert_cmpuint (rx->nc_value, ==, 7);
        g_assert_cmpint (
            sp_digest_nonce_check (secret, sizeof secret, rx->nonce, rx->realm, 1010, 300), ==,
            SP_DIGEST_NONCE_VALID);
        g_assert_true (sp_digest_credentials_verify (rx, ha1, "INVITE", body, sizeof body - 1));
        g_assert_false (sp_digest_credentials_verify (rx, ha1, "BYE", body, sizeof body - 1));
        if (qops[q] == SP_DIGEST_QOP_AUTH_INT)
          g_assert_false (sp_digest_credentials_verify (rx, ha1, "INVITE", body, 2));
      }
}

static void
test_challenge_syntax (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpDigestChallenge) ch = NULL;
  g_autofree char *text = NULL;
  g_autoptr (SpDigestChallenge) again = NULL;
  const SpDigestParam *p;

  /* Escapes, odd spacing, empty list elements, unknown params, stale. */
  ch = sp_digest_challenge_parse (
      "  digest  realm = \"a \\\"quoted\\\" \\\\ realm\" ,, nonce=abc123 , stale=TRUE,"
      "algorithm=SHA-512-256, domain=\"sip:a.example sip:b.example\", x-extra=\"1, 2\","
      "qop=\"auth-int,unknown\", userhash=true, y=tok",
      -1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ch->realm, ==, "a \"quoted\" \\ realm");
  g_assert_cmpstr (ch->nonce, ==, "abc123");
  g_assert_true (ch->stale);
  g_assert_true (ch->userhash);
  g_assert_cmpint (ch->algorithm, ==, SP_DIGEST_ALGORITHM_UNKNOWN);
  g_assert_cmpstr (ch->algorithm_name, ==, "SHA-512-256");
  g_assert_cmpstr (ch->domain, ==, "sip:a.example sip:b.example");
  g_assert_cmpuint (ch->qop, ==, SP_DIGEST_QOP_AUTH_INT);
  g_assert_null (ch->opaque);
  g_assert_cmpuint (ch->params->len, ==, 2);
  p = ch->params->pdata[0];
  g_assert_cmpstr (p->name, ==, "x-extra");
  g_assert_cmpstr (p->value, ==, "1, 2");
  p = ch->params->pdata[1];
  g_assert_cmpstr (p->name, ==, "y");
  g_assert_cmpstr (p->value, ==, "tok");

  text = sp_digest_challenge_to_string (ch);
  g_assert_cmpstr (text, ==,
                   "Digest realm=\"a \\\"quoted\\\" \\\\ realm\", "
                   "domain=\"sip:a.example sip:b.example\", nonce=\"abc123\", stale=true, "
                   "algorithm=SHA-512-256, qop=\"auth-int\", userhash=true, "
                   "x-extra=\"1, 2\", y=tok");
  again = sp_digest_challenge_parse (text, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again->realm, ==, ch->realm);
  g_assert_cmpuint (again->params->len, ==, 2);

  /* An unknown algorithm cannot be answered. */
  g_assert_null (sp_digest_credentials_new_for_challenge (ch, "u", "p", NULL, "GET", "/", NULL, 0,
                                                          1, NULL, &error));
  g_assert_error (error, SP_SIP_ERROR, SP_SIP_ERROR_NOT_IMPLEMENTED);
}

static void
expect_error (gboolean credentials, const char *text, gint code)
{
  g_autoptr (GError) error = NULL;

  if (credentials)
    {
      g_autoptr (SpDigestCredentials) cr = sp_digest_credentials_parse (text, -1, &error);
      g_assert_null (cr);
    }
  else
    {
      g_autoptr (SpDigestChallenge) ch = sp_digest_challenge_parse (text, -1, &error);
      g_assert_null (ch);
    }
  g_assert_error (error, SP_SIP_ERROR, code);
}

static void
test_bad_syntax (void)
{
  static const char ok_creds[] = "username=\"u\", realm=\"r\", nonce=\"n\", uri=\"sip:x\", "
                                 "response=\"0123\"";
  g_autoptr (GString) many = g_string_new ("Digest realm=r, nonce=n");
  g_autoptr (GString) huge = g_string_new ("Digest realm=\"");
  g_autofree char *c = NULL;

  /* RFC 4475 3.3.7 regaut01 and other schemes: unknown scheme, no crash. */
  expect_error (TRUE, "NoOneKnowsThisScheme opaque-data=here", SP_DIGEST_ERROR_UNKNOWN_SCHEME);
  expect_error (FALSE, "Basic realm=\"x\"", SP_DIGEST_ERROR_UNKNOWN_SCHEME);
  expect_error (FALSE, "Bearer", SP_DIGEST_ERROR_UNKNOWN_SCHEME);

  expect_error (FALSE, "", 400);
  expect_error (FALSE, "Digest", 400);
  expect_error (FALSE, "Digest realm=r", 400);                   /* no nonce */
  expect_error (FALSE, "Digest nonce=n", 400);                   /* no realm */
  expect_error (FALSE, "Digest realm=\"r, nonce=n", 400);        /* unterminated */
  expect_error (FALSE, "Digest realm=\"r\\", 400);               /* escape at end */
  expect_error (FALSE, "Digest realm=r nonce=n", 400);           /* missing comma */
  expect_error (FALSE, "Digest realm, nonce=n", 400);            /* no value */
  expect_error (FALSE, "Digest realm=, nonce=n", 400);           /* empty token */
  expect_error (FALSE, "Digest =r, nonce=n", 400);               /* no name */
  expect_error (FALSE, "Digest realm=r, realm=s, nonce=n", 400); /* duplicate */
  expect_error (FALSE, "Digest realm=\"a\rb\", nonce=n", 400);
  expect_error (FALSE, "Digest realm=r, nonce=n, Digest realm=q, nonce=m", 400);
  expect_error (FALSE, "Digest@ realm=r", 400);

  c = g_strdup_printf ("Digest %s", ok_creds);
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (SpDigestCredentials) cr = sp_digest_credentials_parse (c, -1, &error);
    g_assert_no_error (error);
    g_assert_cmpint (cr->qop, ==, SP_DIGEST_QOP_NONE);
    g_assert_null (cr->nc);
  }
  g_free (c);
  c = g_strdup_printf ("Digest %s, qop=auth, nc=00000001", ok_creds); /* no cnonce */
  expect_error (TRUE, c, 400);
  g_free (c);
  c = g_strdup_printf ("Digest %s, qop=auth, cnonce=x, nc=1", ok_creds); /* short nc */
  expect_error (TRUE, c, 400);
  g_free (c);
  c = g_strdup_printf ("Digest %s, qop=auth, cnonce=x, nc=0000000g", ok_creds);
  expect_error (TRUE, c, 400);
  g_free (c);
  c = g_strdup_printf ("Digest %s, qop=other, cnonce=x, nc=00000001", ok_creds);
  expect_error (TRUE, c, 400);
  g_free (c);
  c = g_strdup_printf ("Digest %s, qop=\"auth\", cnonce=x, nc=0000000A", ok_creds);
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (SpDigestCredentials) cr = sp_digest_credentials_parse (c, -1, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (cr->nc_value, ==, 10);
  }
  expect_error (TRUE, "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"sip:x\"", 400);

  /* Limits: parameter count and value length. */
  for (guint i = 0; i < SP_DIGEST_MAX_PARAMS - 2; i++)
    g_string_append_printf (many, ", p%u=v", i);
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (SpDigestChallenge) ch = sp_digest_challenge_parse (many->str, -1, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (ch->params->len, ==, SP_DIGEST_MAX_PARAMS - 2);
  }
  g_string_append (many, ", one=more");
  expect_error (FALSE, many->str, 400);
  while (huge->len < SP_DIGEST_MAX_VALUE_LENGTH)
    g_string_append_c (huge, 'x');
  g_string_append (huge, "\", nonce=n");
  expect_error (FALSE, huge->str, 400);

  /* An explicit length stops the parser there, NUL inside is refused. */
  {
    static const char text[] = "Digest realm=r, nonce=n\0, opaque=o";
    g_autoptr (GError) error = NULL;
    g_autoptr (SpDigestChallenge) ch = sp_digest_challenge_parse (text, 23, &error);
    g_assert_no_error (error);
    g_assert_null (ch->opaque);
    g_assert_null (sp_digest_challenge_parse (text, sizeof text - 1, &error));
    g_assert_error (error, SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST);
  }
}

static void
test_userhash (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpDigestChallenge) ch = sp_digest_challenge_parse (
      "Digest realm=\"http-auth@example.org\", nonce=n, algorithm=SHA-256, qop=auth, "
      "userhash=true",
      -1, &error);
  g_autoptr (SpDigestCredentials) cr = NULL;

  g_assert_no_error (error);
  cr = sp_digest_credentials_new_for_challenge (ch, "Mufasa", "Circle of Life", NULL, "GET", "/",
                                                NULL, 0, 1, "c", &error);
  g_assert_no_error (error);
  g_assert_true (cr->userhash);
  /* SHA-256 ("Mufasa:http-auth@example.org"), computed with Python hashlib. */
  g_assert_cmpstr (cr->username, ==,
                   "a947aad205e80e429958a387394944c6b496301e79f89d35a4cc23b6ee12b5b6");
}

static void
test_nonce (void)
{
  static const guint8 secret[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
  static const guint8 other_secret[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17 };
  const gint64 t0 = 1700000000;
  g_autofree char *nonce = sp_digest_nonce_new (secret, sizeof secret, "pbx.test", t0);
  g_autofree char *nonce2 = sp_digest_nonce_new (secret, sizeof secret, "pbx.test", t0);
  g_autofree char *tampered = g_strdup (nonce);
  g_autofree char *older = g_strdup (nonce);

  g_assert_cmpuint (strlen (nonce), ==, SP_DIGEST_NONCE_LENGTH);
  g_assert_cmpstr (nonce, !=, nonce2); /* random part */
  g_assert_cmpint (sp_digest_nonce_check (secret, sizeof secret, nonce, "pbx.test", t0, 300), ==,
                   SP_DIGEST_NONCE_VALID);
  g_assert_cmpint (sp_digest_nonce_check (secret, sizeof secret, nonce, "pbx.test", t0 + 300, 300),
                   ==, SP_DIGEST_NONCE_VALID);
  /* Expired: valid HMAC, so stale=true rather than a wrong password. */
  g_assert_cmpint (sp_digest_nonce_check (secret, sizeof secret, nonce, "pbx.test", t0 + 301, 300),
                   ==, SP_DIGEST_NONCE_STALE);
  /* The clock went back. */
  g_assert_cmpint (sp_digest_nonce_check (secret, sizeof secret, nonce, "pbx.test", t0 - 5, 300),
                   ==, SP_DIGEST_NONCE_STALE);
  /* Another realm or another server secret. */
  g_assert_cmpint (sp_digest_nonce_check (secret, sizeof secret, nonce, "other", t0, 300), ==,
                   SP_DIGEST_NONCE_INVALID);
  g_assert_cmpint (
      sp_digest_nonce_check (other_secret, sizeof other_secret, nonce, "pbx.test", t0, 300), ==,
      SP_DIGEST_NONCE_INVALID);
  /* One flipped hex digit in the MAC, in the random part, in the time. */
  tampered[SP_DIGEST_NONCE_LENGTH - 1] = tampered[SP_DIGEST_NONCE_LENGTH - 1] == '0' ? '1' : '0';
  g_assert_cmpint (sp_digest_nonce_check (secret, sizeof secret, tampered, "pbx.test", t0, 300), ==,
                   SP_DIGEST_NONCE_INVALID);
  g_free (tampered);
  tampered = g_strdup (nonce);
  tampered[20] = tampered[20] == '0' ? '1' : '0';
  g_assert_cmpint (sp_digest_nonce_check (secret, sizeof secret, tampered, "pbx.test", t0, 300), ==,
                   SP_DIGEST_NONCE_INVALID);
  /* Making an expired nonce look fresh by editing its time fails. */
  older[15] = older[15] == '0' ? '1' : '0';
  g_assert_cmpint (sp_digest_nonce_check (secret, sizeof secret, older, "pbx.test", t0, 300), ==,
                   SP_DIGEST_NONCE_INVALID);
  /* Malformed. */
  g_assert_cmpint (sp_digest_nonce_check (secret, sizeof secret, "abc", "pbx.test", t0, 300), ==,
                   SP_DIGEST_NONCE_INVALID);
  g_assert_cmpint (sp_digest_nonce_check (secret, sizeof secret, NULL, "pbx.test", t0, 300), ==,
                   SP_DIGEST_NONCE_INVALID);
  nonce[0] = 'z';
  g_assert_cmpint (sp_digest_nonce_check (secret, sizeof secret, nonce, "pbx.test", t0, 300), ==,
                   SP_DIGEST_NONCE_INVALID);
}

static void
test_constant_time_equal (void)
{
  g_assert_true (sp_digest_equal_constant_time ("abc", "abc"));
  g_assert_true (sp_digest_equal_constant_time ("", ""));
  g_assert_false (sp_digest_equal_constant_time ("abc", "abd"));
  g_assert_false (sp_digest_equal_constant_time ("abc", "ab"));
  g_assert_false (sp_digest_equal_constant_time ("", "a"));
  g_assert_false (sp_digest_equal_constant_time ("a", ""));
  g_assert_false (sp_digest_equal_constant_time (NULL, "a"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/digest/rfc2617-3.5", test_rfc2617);
  g_test_add_func ("/digest/rfc7616-3.9.1", test_rfc7616);
  g_test_add_func ("/digest/other-modes", test_other_modes);
  g_test_add_func ("/digest/client-server", test_client_server_round_trip);
  g_test_add_func ("/digest/challenge-syntax", test_challenge_syntax);
  g_test_add_func ("/digest/bad-syntax", test_bad_syntax);
  g_test_add_func ("/digest/userhash", test_userhash);
  g_test_add_func ("/digest/nonce", test_nonce);
  g_test_add_func ("/digest/constant-time-equal", test_constant_time_equal);
  return g_test_run ();
}
