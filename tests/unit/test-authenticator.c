/* The server's digest authenticator (SpAuthenticator) on parsed SIP
 * messages, with "now" given by the test: the WWW-Authenticate values
 * (MD5 and SHA-256, realm, qop=auth, stale only when asked, the
 * algorithm order setting), credentials that verify, wrong passwords,
 * stale nonces (past the lifetime, or from the future), forged nonces
 * and nonces of another server, nonce-count replays, username, realm and
 * method mismatches, schemes other than Digest, and failures counted in
 * the SpAuthGuard. */
#include <string.h>

#include "server/authenticator.h"
#include "server/authguard.h"
#include "server/userdb.h"
#include "sip/digest.h"
#include "sip/message.h"

#define REALM   "lan"
#define T0      1700000000
#define ADDRESS "127.0.0.183"
#define URI     "sip:127.0.0.50"

typedef struct
{
  SpUserDb *users;
  SpAuthGuard *guard;
  SpAuthenticator *auth;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->users = sp_user_db_new (REALM);
  g_assert_true (sp_user_db_add (f->users, "u1", "1", "secret1", &error));
  g_assert_true (sp_user_db_add (f->users, "u2", "2", "secret2", &error));
  g_assert_no_error (error);
  f->guard = sp_auth_guard_new (5, 60, 300, 100);
  f->auth = sp_authenticator_new (f->users, f->guard);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  sp_authenticator_free (f->auth);
  sp_auth_guard_free (f->guard);
  g_object_unref (f->users);
}

/* A REGISTER (or @method) with one Authorization field per non-NULL
 * entry of @auth (NULL-terminated). */
static SpSipMessage *
request_with (const char *method, const char *const *auth)
{
  g_autoptr (GString) text = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  SpSipMessage *msg;

  g_string_append_printf (text,
                          "%s " URI " SIP/2.0\r\n"
                          "Via: SIP/2.0/UDP " ADDRESS ":5060;branch=z9hG4bKauth1\r\n"
                          "Max-Forwards: 70\r\n"
                          "From: <sip:u1@127.0.0.50>;tag=f1\r\n"
                          "To: <sip:u1@127.0.0.50>\r\n"
                          "Call-ID: auth-test\r\n"
                          "CSeq: 1 %s\r\n",
                          method, method);
  for (guint i = 0; auth != NULL && auth[i] != NULL; i++)
    g_string_append_printf (text, "Authorization: %s\r\n", auth[i]);
  g_string_append (text, "Content-Length: 0\r\n\r\n");
  msg = sp_sip_message_parse ((const guint8 *) text->str, text->len, SP_SIP_FRAMING_DATAGRAM, NULL,
                              &error);
  g_assert_no_error (error);
  return msg;
}

static SpSipMessage *
request_one (const char *method, const char *auth)
{
  const char *list[] = { auth, NULL };
  return request_with (method, list);
}

/* The 401 the authenticator builds, and its challenges parsed, in order. */
static GPtrArray *
challenges (Fixture *f, gboolean stale, gint64 now, GPtrArray *raw)
{
  g_autoptr (SpSipMessage) request = request_one ("REGISTER", NULL);
  g_autoptr (SpSipMessage) response = sp_sip_message_new_response_to (request, 401, NULL, "t");
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) sp_digest_challenge_free);

  sp_authenticator_add_challenges (f->auth, response, stale, ADDRESS, now);
  for (guint i = 0; i < sp_sip_message_get_n_headers (response); i++)
    {
      const char *name, *value;
      g_autoptr (GError) error = NULL;
      SpDigestChallenge *ch;

      sp_sip_message_get_nth_header (response, i, &name, &value);
      if (g_ascii_strcasecmp (name, "WWW-Authenticate") != 0)
        continue;
      ch = sp_digest_challenge_parse (value, -1, &error);
      g_assert_no_error (error);
      g_ptr_array_add (out, ch);
      if (raw != NULL)
        g_ptr_array_add (raw, g_strdup (value));
    }
  return out;
}

/* A challenge of @algorithm issued at @now. */
static SpDigestChallenge *
challenge_for (Fixture *f, SpDigestAlgorithm algorithm, gint64 now)
{
  g_autoptr (GPtrArray) list = challenges (f, FALSE, now, NULL);

  for (guint i = 0; i < list->len; i++)
    {
      SpDigestChallenge *ch = g_ptr_array_index (list, i);
      if (ch->algorithm == algorithm)
        return g_ptr_array_steal_index (list, i);
    }
  g_assert_not_reached ();
  return NULL;
}

/* The Authorization value a client sends for @ch. */
static char *
answer (const SpDigestChallenge *ch, const char *user, const char *password, const char *method,
        guint32 nc)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpDigestCredentials) creds = sp_digest_credentials_new_for_challenge (
      ch, user, password, NULL, method, URI, NULL, 0, nc, NULL, &error);

  g_assert_no_error (error);
  return sp_digest_credentials_to_string (creds);
}

static SpAuthResult
check (Fixture *f, const char *method, const char *auth, gint64 now, char **user)
{
  g_autoptr (SpSipMessage) request = request_one (method, auth);
  return sp_authenticator_check (f->auth, request, ADDRESS, now, user);
}

/* ---- tests ---- */

static void
test_challenge_values (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) raw = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) list = challenges (f, FALSE, T0, raw);
  g_autoptr (GPtrArray) stale = NULL;
  g_autoptr (GPtrArray) later = NULL;
  SpDigestChallenge *md5, *sha;

  /* Default: MD5 first (clients that read only the first), SHA-256;
   * SpAccessPolicy reorders per client. */
  g_assert_cmpuint (list->len, ==, 2);
  md5 = g_ptr_array_index (list, 0);
  sha = g_ptr_array_index (list, 1);
  g_assert_cmpint (md5->algorithm, ==, SP_DIGEST_ALGORITHM_MD5);
  g_assert_cmpstr (md5->algorithm_name, ==, "MD5");
  g_assert_cmpint (sha->algorithm, ==, SP_DIGEST_ALGORITHM_SHA256);
  g_assert_cmpstr (sha->algorithm_name, ==, "SHA-256");
  for (guint i = 0; i < 2; i++)
    {
      SpDigestChallenge *ch = g_ptr_array_index (list, i);
      g_assert_cmpstr (ch->realm, ==, REALM);
      g_assert_cmpuint (ch->qop, ==, SP_DIGEST_QOP_AUTH);
      g_assert_false (ch->stale);
      g_assert_cmpuint (strlen (ch->nonce), ==, SP_DIGEST_NONCE_LENGTH);
      g_assert_true (g_str_has_prefix (g_ptr_array_index (raw, i), "Digest "));
      g_assert_null (strstr (g_ptr_array_index (raw, i), "stale"));
      g_assert_nonnull (strstr (g_ptr_array_index (raw, i), "qop=\"auth\""));
    }
  /* One nonce for both, a new one each time. */
  g_assert_cmpstr (md5->nonce, ==, sha->nonce);
  later = challenges (f, FALSE, T0, NULL);
  g_assert_cmpstr (((SpDigestChallenge *) g_ptr_array_index (later, 0))->nonce, !=, md5->nonce);

  /* stale=true only when asked. */
  g_ptr_array_set_size (raw, 0);
  stale = challenges (f, TRUE, T0, raw);
  g_assert_cmpuint (stale->len, ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      g_assert_true (((SpDigestChallenge *) g_ptr_array_index (stale, i))->stale);
      g_assert_nonnull (strstr (g_ptr_array_index (raw, i), "stale=true"));
    }
}

static void
test_algorithm_order (Fixture *f, gconstpointer data)
{
  const SpDigestAlgorithm sha_first[] = { SP_DIGEST_ALGORITHM_SHA256, SP_DIGEST_ALGORITHM_MD5 };
  const SpDigestAlgorithm md5_only[] = { SP_DIGEST_ALGORITHM_MD5 };
  const SpDigestAlgorithm sess[] = { SP_DIGEST_ALGORITHM_MD5_SESS };
  const SpDigestAlgorithm three[] = { SP_DIGEST_ALGORITHM_MD5, SP_DIGEST_ALGORITHM_SHA256,
                                      SP_DIGEST_ALGORITHM_MD5 };
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (SpDigestChallenge) md5 = NULL;
  g_autofree char *sha_auth = NULL;

  const SpDigestAlgorithm md5_first[] = { SP_DIGEST_ALGORITHM_MD5, SP_DIGEST_ALGORITHM_SHA256 };

  g_assert_true (sp_authenticator_set_algorithms (f->auth, md5_first, 2));
  list = challenges (f, FALSE, T0, NULL);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpint (((SpDigestChallenge *) g_ptr_array_index (list, 0))->algorithm, ==,
                   SP_DIGEST_ALGORITHM_MD5);
  g_assert_cmpint (((SpDigestChallenge *) g_ptr_array_index (list, 1))->algorithm, ==,
                   SP_DIGEST_ALGORITHM_SHA256);
  g_clear_pointer (&list, g_ptr_array_unref);
  g_assert_true (sp_authenticator_set_algorithms (f->auth, sha_first, 2));
  list = challenges (f, FALSE, T0, NULL);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpint (((SpDigestChallenge *) g_ptr_array_index (list, 0))->algorithm, ==,
                   SP_DIGEST_ALGORITHM_SHA256);
  g_assert_cmpint (((SpDigestChallenge *) g_ptr_array_index (list, 1))->algorithm, ==,
                   SP_DIGEST_ALGORITHM_MD5);
  g_clear_pointer (&list, g_ptr_array_unref);

  /* SHA-256 credentials, then MD5 alone: SHA-256 no longer accepted,
   * the client is challenged again (not refused). */
  {
    g_autoptr (SpDigestChallenge) sha = challenge_for (f, SP_DIGEST_ALGORITHM_SHA256, T0);
    sha_auth = answer (sha, "u1", "secret1", "REGISTER", 1);
  }
  g_assert_true (sp_authenticator_set_algorithms (f->auth, md5_only, 1));
  list = challenges (f, FALSE, T0, NULL);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpint (((SpDigestChallenge *) g_ptr_array_index (list, 0))->algorithm, ==,
                   SP_DIGEST_ALGORITHM_MD5);
  g_assert_cmpint (check (f, "REGISTER", sha_auth, T0, NULL), ==, SP_AUTH_CHALLENGE);
  md5 = challenge_for (f, SP_DIGEST_ALGORITHM_MD5, T0);
  {
    g_autofree char *md5_auth = answer (md5, "u1", "secret1", "REGISTER", 1);
    g_assert_cmpint (check (f, "REGISTER", md5_auth, T0, NULL), ==, SP_AUTH_OK);
  }

  /* Refused settings leave the list as it was. */
  g_assert_false (sp_authenticator_set_algorithms (f->auth, sha_first, 0));
  g_assert_false (sp_authenticator_set_algorithms (f->auth, sess, 1));
  g_assert_false (sp_authenticator_set_algorithms (f->auth, three, 3));
  g_clear_pointer (&list, g_ptr_array_unref);
  list = challenges (f, FALSE, T0, NULL);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpuint (sp_authenticator_get_n_failures (f->auth), ==, 0);
}

static void
test_verify (Fixture *f, gconstpointer data)
{
  const SpDigestAlgorithm algorithms[] = { SP_DIGEST_ALGORITHM_MD5, SP_DIGEST_ALGORITHM_SHA256 };

  for (guint i = 0; i < G_N_ELEMENTS (algorithms); i++)
    {
      g_autoptr (SpDigestChallenge) ch = challenge_for (f, algorithms[i], T0);
      g_autofree char *auth = answer (ch, "u2", "secret2", "INVITE", 1);
      g_autofree char *user = NULL;
      g_autoptr (SpDigestCredentials) creds = sp_digest_credentials_parse (auth, -1, NULL);

      g_assert_cmpint (creds->algorithm, ==, algorithms[i]);
      /* Within the nonce's lifetime. */
      g_assert_cmpint (check (f, "INVITE", auth, T0 + 10, &user), ==, SP_AUTH_OK);
      g_assert_cmpstr (user, ==, "u2");
    }
  g_assert_cmpuint (sp_authenticator_get_n_failures (f->auth), ==, 0);
  g_assert_false (sp_auth_guard_is_blocked (f->guard, ADDRESS, T0));
}

static void
test_wrong_password (Fixture *f, gconstpointer data)
{
  g_autoptr (SpDigestChallenge) ch = challenge_for (f, SP_DIGEST_ALGORITHM_SHA256, T0);
  g_autofree char *user = NULL;

  for (guint i = 1; i <= 5; i++)
    {
      g_autofree char *auth = answer (ch, "u1", "secret2", "REGISTER", i);
      g_assert_cmpint (check (f, "REGISTER", auth, T0, &user), ==, SP_AUTH_FAILED);
      /* The name claimed, for counting failures per user. */
      g_assert_cmpstr (user, ==, "u1");
      g_clear_pointer (&user, g_free);
      g_assert_cmpuint (sp_authenticator_get_n_failures (f->auth), ==, i);
      /* The guard (5 failures) blocks the address at the fifth. */
      g_assert_cmpint (sp_auth_guard_is_blocked (f->guard, ADDRESS, T0), ==, i == 5);
    }
}

static void
test_unknown_user (Fixture *f, gconstpointer data)
{
  g_autoptr (SpDigestChallenge) ch = challenge_for (f, SP_DIGEST_ALGORITHM_MD5, T0);
  g_autofree char *auth = answer (ch, "nobody", "secret1", "REGISTER", 1);

  g_assert_cmpint (check (f, "REGISTER", auth, T0, NULL), ==, SP_AUTH_FAILED);
  g_assert_cmpuint (sp_authenticator_get_n_failures (f->auth), ==, 1);
}

/* The username changed after the response was computed (u1's password,
 * u2's name): refused. */
static void
test_username_mismatch (Fixture *f, gconstpointer data)
{
  g_autoptr (SpDigestChallenge) ch = challenge_for (f, SP_DIGEST_ALGORITHM_SHA256, T0);
  g_autofree char *auth = answer (ch, "u1", "secret1", "REGISTER", 1);
  g_autoptr (SpDigestCredentials) creds = sp_digest_credentials_parse (auth, -1, NULL);
  g_autofree char *forged = NULL;

  g_free (creds->username);
  creds->username = g_strdup ("u2");
  forged = sp_digest_credentials_to_string (creds);
  g_assert_cmpint (check (f, "REGISTER", forged, T0, NULL), ==, SP_AUTH_FAILED);
  g_assert_cmpuint (sp_authenticator_get_n_failures (f->auth), ==, 1);
  /* The genuine one still works. */
  g_assert_cmpint (check (f, "REGISTER", auth, T0, NULL), ==, SP_AUTH_OK);
}

/* Credentials for another realm are not ours: challenged, nothing
 * counted; ours among several Authorization fields are found. */
static void
test_realm_mismatch (Fixture *f, gconstpointer data)
{
  g_autoptr (SpDigestChallenge) ch = challenge_for (f, SP_DIGEST_ALGORITHM_MD5, T0);
  g_autoptr (SpDigestChallenge) other =
      sp_digest_challenge_new ("elsewhere", ch->nonce, SP_DIGEST_ALGORITHM_MD5, SP_DIGEST_QOP_AUTH);
  g_autofree char *foreign = answer (other, "u1", "secret1", "REGISTER", 1);
  g_autofree char *ours = answer (ch, "u1", "secret1", "REGISTER", 1);
  const char *both[] = { foreign, ours, NULL };
  g_autoptr (SpSipMessage) request = request_with ("REGISTER", both);
  g_autofree char *user = NULL;

  g_assert_cmpint (check (f, "REGISTER", foreign, T0, NULL), ==, SP_AUTH_CHALLENGE);
  g_assert_cmpint (check (f, "REGISTER", NULL, T0, NULL), ==, SP_AUTH_CHALLENGE);
  g_assert_cmpuint (sp_authenticator_get_n_failures (f->auth), ==, 0);
  g_assert_cmpint (sp_authenticator_check (f->auth, request, ADDRESS, T0, &user), ==, SP_AUTH_OK);
  g_assert_cmpstr (user, ==, "u1");
}

/* Computed for REGISTER, sent on an INVITE: the response does not match. */
static void
test_method_mismatch (Fixture *f, gconstpointer data)
{
  g_autoptr (SpDigestChallenge) ch = challenge_for (f, SP_DIGEST_ALGORITHM_MD5, T0);
  g_autofree char *auth = answer (ch, "u1", "secret1", "REGISTER", 1);

  g_assert_cmpint (check (f, "INVITE", auth, T0, NULL), ==, SP_AUTH_FAILED);
}

static void
test_stale (Fixture *f, gconstpointer data)
{
  g_autoptr (SpDigestChallenge) ch = NULL;
  guint32 nc = 1;

  sp_authenticator_set_nonce_lifetime (f->auth, 30);
  ch = challenge_for (f, SP_DIGEST_ALGORITHM_SHA256, T0);
  {
    g_autofree char *auth = answer (ch, "u1", "secret1", "REGISTER", nc++);
    g_assert_cmpint (check (f, "REGISTER", auth, T0 + 29, NULL), ==, SP_AUTH_OK);
  }
  /* Past the lifetime, the right password: stale, not a failure. */
  {
    g_autofree char *auth = answer (ch, "u1", "secret1", "REGISTER", nc++);
    g_autofree char *user = NULL;
    g_assert_cmpint (check (f, "REGISTER", auth, T0 + 31, &user), ==, SP_AUTH_STALE);
    g_assert_null (user);
  }
  /* Issued "in the future" (the clock went back): stale too. */
  {
    g_autofree char *auth = answer (ch, "u1", "secret1", "REGISTER", nc++);
    g_assert_cmpint (check (f, "REGISTER", auth, T0 - 100, NULL), ==, SP_AUTH_STALE);
  }
  g_assert_cmpuint (sp_authenticator_get_n_failures (f->auth), ==, 0);
  /* A stale nonce with the wrong password is still a failure. */
  {
    g_autofree char *auth = answer (ch, "u1", "guess", "REGISTER", nc++);
    g_assert_cmpint (check (f, "REGISTER", auth, T0 + 31, NULL), ==, SP_AUTH_FAILED);
  }
  g_assert_cmpuint (sp_authenticator_get_n_failures (f->auth), ==, 1);
  /* The default lifetime is 300 s. */
  sp_authenticator_set_nonce_lifetime (f->auth, SP_AUTHENTICATOR_NONCE_LIFETIME);
  {
    g_autofree char *auth = answer (ch, "u1", "secret1", "REGISTER", nc++);
    g_assert_cmpint (check (f, "REGISTER", auth, T0 + 299, NULL), ==, SP_AUTH_OK);
  }
  {
    g_autofree char *auth = answer (ch, "u1", "secret1", "REGISTER", nc++);
    g_assert_cmpint (check (f, "REGISTER", auth, T0 + 301, NULL), ==, SP_AUTH_STALE);
  }
}

/* Nonces we did not issue: one hex digit changed, or another server's
 * (another secret). The client computed a right response for each: the
 * answer is a new challenge, not OK. */
static void
test_forged_nonce (Fixture *f, gconstpointer data)
{
  g_autoptr (SpDigestChallenge) ch = challenge_for (f, SP_DIGEST_ALGORITHM_MD5, T0);
  g_autoptr (SpAuthenticator) other = sp_authenticator_new (f->users, NULL);
  g_autoptr (SpSipMessage) request = request_one ("REGISTER", NULL);
  g_autoptr (SpSipMessage) response = sp_sip_message_new_response_to (request, 401, NULL, "t");
  g_autoptr (SpDigestChallenge) theirs = NULL;
  const char *forms[] = { "0", "f", NULL };

  for (guint i = 0; forms[i] != NULL; i++)
    {
      g_autoptr (SpDigestChallenge) forged =
          sp_digest_challenge_new (REALM, ch->nonce, SP_DIGEST_ALGORITHM_MD5, SP_DIGEST_QOP_AUTH);
      g_autofree char *auth = NULL;
      gsize pos = strlen (forged->nonce) - 1;

      /* Flip the last digit (to a different one). */
      forged->nonce[pos] = forged->nonce[pos] == forms[i][0] ? '1' : forms[i][0];
      auth = answer (forged, "u1", "secret1", "REGISTER", 1);
      g_assert_cmpint (check (f, "REGISTER", auth, T0, NULL), ==, SP_AUTH_CHALLENGE);
    }
  {
    g_autoptr (SpDigestChallenge) junk =
        sp_digest_challenge_new (REALM, "not-a-nonce", SP_DIGEST_ALGORITHM_MD5, SP_DIGEST_QOP_AUTH);
    g_autofree char *auth = answer (junk, "u1", "secret1", "REGISTER", 1);
    g_assert_cmpint (check (f, "REGISTER", auth, T0, NULL), ==, SP_AUTH_CHALLENGE);
  }
  sp_authenticator_add_challenges (other, response, FALSE, ADDRESS, T0);
  theirs = sp_digest_challenge_parse (sp_sip_message_get_header (response, "WWW-Authenticate"), -1,
                                      NULL);
  g_assert_nonnull (theirs);
  {
    g_autofree char *auth = answer (theirs, "u1", "secret1", "REGISTER", 1);
    g_autoptr (SpSipMessage) req = request_one ("REGISTER", auth);

    g_assert_cmpint (check (f, "REGISTER", auth, T0, NULL), ==, SP_AUTH_CHALLENGE);
    /* ... while the server that issued it takes it. */
    g_assert_cmpint (sp_authenticator_check (other, req, ADDRESS, T0, NULL), ==, SP_AUTH_OK);
  }
}

static void
test_nonce_count (Fixture *f, gconstpointer data)
{
  g_autoptr (SpDigestChallenge) ch = challenge_for (f, SP_DIGEST_ALGORITHM_SHA256, T0);
  g_autoptr (SpDigestChallenge) ch2 = challenge_for (f, SP_DIGEST_ALGORITHM_SHA256, T0);
  g_autofree char *nc1 = answer (ch, "u1", "secret1", "REGISTER", 1);
  g_autofree char *nc2 = answer (ch, "u1", "secret1", "REGISTER", 2);
  g_autofree char *nc3 = answer (ch, "u1", "secret1", "REGISTER", 3);
  g_autofree char *nc7 = answer (ch, "u1", "secret1", "REGISTER", 7);
  g_autofree char *other_nc1 = answer (ch2, "u1", "secret1", "REGISTER", 1);

  g_assert_cmpint (check (f, "REGISTER", nc1, T0, NULL), ==, SP_AUTH_OK);
  /* The same request again (same nc): a replay. */
  g_assert_cmpint (check (f, "REGISTER", nc1, T0, NULL), ==, SP_AUTH_FAILED);
  g_assert_cmpuint (sp_authenticator_get_n_failures (f->auth), ==, 1);
  g_assert_cmpint (check (f, "REGISTER", nc2, T0, NULL), ==, SP_AUTH_OK);
  /* Gaps are fine (lost requests), going back is not. */
  g_assert_cmpint (check (f, "REGISTER", nc7, T0, NULL), ==, SP_AUTH_OK);
  g_assert_cmpint (check (f, "REGISTER", nc3, T0, NULL), ==, SP_AUTH_FAILED);
  g_assert_cmpint (check (f, "REGISTER", nc7, T0, NULL), ==, SP_AUTH_FAILED);
  g_assert_cmpuint (sp_authenticator_get_n_failures (f->auth), ==, 3);
  /* Counts are per nonce. */
  g_assert_cmpint (check (f, "REGISTER", other_nc1, T0, NULL), ==, SP_AUTH_OK);
}

/* The nonce table is bounded (here at 3): when full, the nonce used first
 * is forgotten, a replay of it reads as stale (not as a first use), and
 * fresh nonces keep working (they used to read as stale until the old
 * ones expired). Expired nonces are forgotten too. */
static void
test_nonce_table_full (Fixture *f, gconstpointer data)
{
  SpDigestChallenge *ch[5];
  char *nc1[5];
  g_autoptr (SpDigestChallenge) late = challenge_for (f, SP_DIGEST_ALGORITHM_MD5, T0 + 400);
  g_autofree char *late_nc1 = answer (late, "u1", "secret1", "REGISTER", 1);
  g_autofree char *n0_nc2 = NULL;

  sp_authenticator_set_max_nonces (f->auth, 3);
  for (guint i = 0; i < G_N_ELEMENTS (ch); i++)
    {
      ch[i] = challenge_for (f, SP_DIGEST_ALGORITHM_MD5, T0 + i);
      nc1[i] = answer (ch[i], "u1", "secret1", "REGISTER", 1);
    }
  g_assert_cmpint (sp_digest_nonce_get_time (ch[2]->nonce), ==, T0 + 2);
  g_assert_cmpint (sp_digest_nonce_get_time ("zz"), ==, -1);
  n0_nc2 = answer (ch[0], "u1", "secret1", "REGISTER", 2);
  for (guint i = 0; i < 4; i++)
    g_assert_cmpint (check (f, "REGISTER", nc1[i], T0 + 10, NULL), ==, SP_AUTH_OK);
  g_assert_cmpuint (sp_authenticator_get_n_nonces (f->auth), ==, 3);
  /* Nonce 0 was forgotten: its replay, or its next count, must ask again. */
  g_assert_cmpint (check (f, "REGISTER", nc1[0], T0 + 10, NULL), ==, SP_AUTH_STALE);
  g_assert_cmpint (check (f, "REGISTER", n0_nc2, T0 + 10, NULL), ==, SP_AUTH_STALE);
  /* Nonce 1 is still remembered. */
  g_assert_cmpint (check (f, "REGISTER", nc1[1], T0 + 10, NULL), ==, SP_AUTH_FAILED);
  g_assert_cmpint (check (f, "REGISTER", nc1[4], T0 + 10, NULL), ==, SP_AUTH_OK);
  g_assert_cmpint (check (f, "REGISTER", nc1[1], T0 + 10, NULL), ==, SP_AUTH_STALE);
  g_assert_cmpuint (sp_authenticator_get_n_failures (f->auth), ==, 1);
  g_assert_cmpuint (sp_authenticator_get_n_nonces (f->auth), ==, 3);
  /* Past the lifetime all of them expired: one left, the new one. */
  g_assert_cmpint (check (f, "REGISTER", late_nc1, T0 + 400, NULL), ==, SP_AUTH_OK);
  g_assert_cmpuint (sp_authenticator_get_n_nonces (f->auth), ==, 1);
  for (guint i = 0; i < G_N_ELEMENTS (ch); i++)
    {
      sp_digest_challenge_free (ch[i]);
      g_free (nc1[i]);
    }
}

/* Other schemes, malformed Digest values and no Authorization at all:
 * a challenge, never a failure. */
static void
test_unknown_scheme (Fixture *f, gconstpointer data)
{
  const char *values[] = {
    "NoOneKnowsThisScheme opaque-data=here",
    "Basic dTE6c2VjcmV0MQ==",
    "Digest",
    "Digest username=\"u1\", realm=\"lan\"",
    ("Digest username=\"u1\", realm=\"lan\", nonce=\"00\", uri=\"sip:x\", response=\"zz\", "
     "algorithm=SHA-512-256"),
  };

  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      g_autofree char *user = NULL;
      g_assert_cmpint (check (f, "REGISTER", values[i], T0, &user), ==, SP_AUTH_CHALLENGE);
      g_assert_null (user);
    }
  g_assert_cmpuint (sp_authenticator_get_n_failures (f->auth), ==, 0);
  g_assert_cmpuint (sp_auth_guard_get_n_entries (f->guard), ==, 0);
}

/* Without a guard, failures are still counted by the authenticator. */
static void
test_no_guard (void)
{
  g_autoptr (SpUserDb) users = sp_user_db_new (REALM);
  g_autoptr (SpAuthenticator) auth = NULL;
  g_autoptr (SpSipMessage) request = request_one ("REGISTER", NULL);
  g_autoptr (SpSipMessage) response = sp_sip_message_new_response_to (request, 401, NULL, "t");
  g_autoptr (SpDigestChallenge) ch = NULL;
  g_autofree char *value = NULL;
  g_autoptr (SpSipMessage) wrong = NULL;

  g_assert_true (sp_user_db_add (users, "u1", NULL, "secret1", NULL));
  auth = sp_authenticator_new (users, NULL);
  sp_authenticator_add_challenges (auth, response, FALSE, ADDRESS, T0);
  ch = sp_digest_challenge_parse (sp_sip_message_get_header (response, "WWW-Authenticate"), -1,
                                  NULL);
  value = answer (ch, "u1", "nope", "REGISTER", 1);
  wrong = request_one ("REGISTER", value);
  g_assert_cmpint (sp_authenticator_check (auth, wrong, ADDRESS, T0, NULL), ==, SP_AUTH_FAILED);
  g_assert_cmpuint (sp_authenticator_get_n_failures (auth), ==, 1);
}

/* A nonce answered from another address than it was issued to reads as
 * forged: a fresh challenge, never OK, and not a failure. */
static void
test_nonce_bound_to_address (Fixture *f, gconstpointer data)
{
  g_autoptr (SpDigestChallenge) ch = challenge_for (f, SP_DIGEST_ALGORITHM_SHA256, T0);
  g_autofree char *auth = answer (ch, "u1", "secret1", "REGISTER", 1);
  g_autoptr (SpSipMessage) request = request_one ("REGISTER", auth);

  g_assert_cmpint (sp_authenticator_check (f->auth, request, "127.0.0.184", T0, NULL), ==,
                   SP_AUTH_CHALLENGE);
  g_assert_cmpint (sp_authenticator_check (f->auth, request, "::1", T0, NULL), ==,
                   SP_AUTH_CHALLENGE);
  g_assert_cmpuint (sp_authenticator_get_n_failures (f->auth), ==, 0);
  g_assert_cmpint (sp_authenticator_check (f->auth, request, ADDRESS, T0, NULL), ==, SP_AUTH_OK);
}

/* Credentials computed for another Request-URI are refused. */
static void
test_uri_mismatch (Fixture *f, gconstpointer data)
{
  g_autoptr (SpDigestChallenge) ch = challenge_for (f, SP_DIGEST_ALGORITHM_MD5, T0);
  g_autoptr (GError) error = NULL;
  g_autoptr (SpDigestCredentials) creds = sp_digest_credentials_new_for_challenge (
      ch, "u1", "secret1", NULL, "REGISTER", "sip:elsewhere.example", NULL, 0, 1, NULL, &error);
  g_autofree char *auth = sp_digest_credentials_to_string (creds);

  g_assert_no_error (error);
  g_assert_cmpint (check (f, "REGISTER", auth, T0, NULL), ==, SP_AUTH_FAILED);
  g_assert_cmpuint (sp_authenticator_get_n_failures (f->auth), ==, 1);
}

/* Without qop (RFC 2069) there is no nonce count: credentials are good
 * once; the same again is stale (the client asks for a new nonce). */
static void
test_qopless_once (Fixture *f, gconstpointer data)
{
  g_autoptr (SpDigestChallenge) ch = challenge_for (f, SP_DIGEST_ALGORITHM_MD5, T0);
  g_autoptr (GError) error = NULL;
  g_autoptr (SpDigestCredentials) creds = NULL;
  g_autofree char *auth = NULL;

  ch->qop = 0;
  creds = sp_digest_credentials_new_for_challenge (ch, "u1", "secret1", NULL, "REGISTER", URI, NULL,
                                                   0, 1, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (creds->qop, ==, SP_DIGEST_QOP_NONE);
  auth = sp_digest_credentials_to_string (creds);
  g_assert_cmpint (check (f, "REGISTER", auth, T0, NULL), ==, SP_AUTH_OK);
  g_assert_cmpint (check (f, "REGISTER", auth, T0, NULL), ==, SP_AUTH_STALE);
  g_assert_cmpint (check (f, "REGISTER", auth, T0 + 1, NULL), ==, SP_AUTH_STALE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/authenticator/challenge-values", test_challenge_values);
  ADD ("/authenticator/algorithm-order", test_algorithm_order);
  ADD ("/authenticator/verify", test_verify);
  ADD ("/authenticator/wrong-password", test_wrong_password);
  ADD ("/authenticator/unknown-user", test_unknown_user);
  ADD ("/authenticator/username-mismatch", test_username_mismatch);
  ADD ("/authenticator/realm-mismatch", test_realm_mismatch);
  ADD ("/authenticator/method-mismatch", test_method_mismatch);
  ADD ("/authenticator/stale", test_stale);
  ADD ("/authenticator/forged-nonce", test_forged_nonce);
  ADD ("/authenticator/nonce-count", test_nonce_count);
  ADD ("/authenticator/nonce-table-full", test_nonce_table_full);
  ADD ("/authenticator/unknown-scheme", test_unknown_scheme);
  ADD ("/authenticator/nonce-bound-to-address", test_nonce_bound_to_address);
  ADD ("/authenticator/uri-mismatch", test_uri_mismatch);
  ADD ("/authenticator/qopless-once", test_qopless_once);
#undef ADD
  g_test_add_func ("/authenticator/no-guard", test_no_guard);
  return g_test_run ();
}
