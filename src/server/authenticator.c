#include "server/authenticator.h"

#include "sip/digest.h"

#include <string.h>

typedef struct
{
  guint32 highest_nc;
  gint64 issued; /* when first seen, to forget it once it expired */
} NonceUse;

struct _SpAuthenticator
{
  SpUserDb *users;
  SpAuthGuard *guard;
  guint8 secret[32];
  guint lifetime;
  SpDigestAlgorithm algorithms[2];
  guint n_algorithms;
  GHashTable *nonces; /* nonce -> NonceUse */
  guint64 failures;
};

SpAuthenticator *
sp_authenticator_new (SpUserDb *users, SpAuthGuard *guard)
{
  SpAuthenticator *auth = g_new0 (SpAuthenticator, 1);

  auth->users = users;
  auth->guard = guard;
  auth->lifetime = SP_AUTHENTICATOR_NONCE_LIFETIME;
  auth->algorithms[0] = SP_DIGEST_ALGORITHM_MD5;
  auth->algorithms[1] = SP_DIGEST_ALGORITHM_SHA256;
  auth->n_algorithms = 2;
  for (guint i = 0; i < sizeof auth->secret; i += 4)
    {
      guint32 r = g_random_int ();
      memcpy (auth->secret + i, &r, 4);
    }
  auth->nonces = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return auth;
}

void
sp_authenticator_free (SpAuthenticator *auth)
{
  if (auth == NULL)
    return;
  g_hash_table_unref (auth->nonces);
  memset (auth->secret, 0, sizeof auth->secret);
  g_free (auth);
}

void
sp_authenticator_set_nonce_lifetime (SpAuthenticator *auth, guint seconds)
{
  auth->lifetime = MAX (seconds, 1);
}

gboolean
sp_authenticator_set_algorithms (SpAuthenticator *auth, const SpDigestAlgorithm *algorithms,
                                 guint n)
{
  if (n == 0 || n > G_N_ELEMENTS (auth->algorithms))
    return FALSE;
  for (guint i = 0; i < n; i++)
    if (algorithms[i] != SP_DIGEST_ALGORITHM_MD5 && algorithms[i] != SP_DIGEST_ALGORITHM_SHA256)
      return FALSE;
  memcpy (auth->algorithms, algorithms, n * sizeof *algorithms);
  auth->n_algorithms = n;
  return TRUE;
}

guint64
sp_authenticator_get_n_failures (SpAuthenticator *auth)
{
  return auth->failures;
}

static SpAuthResult
fail (SpAuthenticator *auth, const char *address, gint64 now, const char *why)
{
  g_debug ("authentication from %s failed: %s", address, why);
  auth->failures++;
  if (auth->guard != NULL && address != NULL)
    sp_auth_guard_record_failure (auth->guard, address, now);
  return SP_AUTH_FAILED;
}

/* The credentials for our realm among the Authorization fields. */
static SpDigestCredentials *
find_credentials (SpAuthenticator *auth, const SpSipMessage *request)
{
  const char *realm = sp_user_db_get_realm (auth->users);
  guint n = sp_sip_message_get_n_headers (request);

  for (guint i = 0; i < n; i++)
    {
      const char *name, *value;
      g_autoptr (SpDigestCredentials) creds = NULL;

      sp_sip_message_get_nth_header (request, i, &name, &value);
      if (g_ascii_strcasecmp (name, "Authorization") != 0)
        continue;
      creds = sp_digest_credentials_parse (value, -1, NULL);
      if (creds != NULL && g_strcmp0 (creds->realm, realm) == 0)
        return g_steal_pointer (&creds);
    }
  return NULL;
}

static void
forget_expired_nonces (SpAuthenticator *auth, gint64 now)
{
  GHashTableIter iter;
  NonceUse *use;

  g_hash_table_iter_init (&iter, auth->nonces);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &use))
    if (now - use->issued > (gint64) auth->lifetime + 60)
      g_hash_table_iter_remove (&iter);
}

/* TRUE when @nc is higher than any seen for @nonce (and records it). */
static gboolean
nonce_count_fresh (SpAuthenticator *auth, const char *nonce, guint32 nc, gint64 now, gboolean *full)
{
  NonceUse *use = g_hash_table_lookup (auth->nonces, nonce);

  *full = FALSE;
  if (use != NULL)
    {
      if (nc <= use->highest_nc)
        return FALSE;
      use->highest_nc = nc;
      return TRUE;
    }
  if (g_hash_table_size (auth->nonces) >= SP_AUTHENTICATOR_MAX_NONCES)
    forget_expired_nonces (auth, now);
  if (g_hash_table_size (auth->nonces) >= SP_AUTHENTICATOR_MAX_NONCES)
    {
      *full = TRUE;
      return FALSE;
    }
  use = g_new (NonceUse, 1);
  use->highest_nc = nc;
  use->issued = now;
  g_hash_table_insert (auth->nonces, g_strdup (nonce), use);
  return TRUE;
}

static gboolean
algorithm_offered (SpAuthenticator *auth, SpDigestAlgorithm algorithm)
{
  for (guint i = 0; i < auth->n_algorithms; i++)
    if (auth->algorithms[i] == algorithm)
      return TRUE;
  return FALSE;
}

SpAuthResult
sp_authenticator_check (SpAuthenticator *auth, const SpSipMessage *request, const char *address,
                        gint64 now, char **username)
{
  const char *realm = sp_user_db_get_realm (auth->users);
  g_autoptr (SpDigestCredentials) creds = find_credentials (auth, request);
  SpDigestNonceCheck nonce_state;
  SpUserHa1Kind kind;
  const char *ha1;
  const guint8 *body;
  gsize body_len = 0;
  gboolean full;

  if (creds == NULL)
    return SP_AUTH_CHALLENGE;
  if (!algorithm_offered (auth, creds->algorithm))
    return SP_AUTH_CHALLENGE;
  if (creds->algorithm == SP_DIGEST_ALGORITHM_MD5)
    kind = SP_USER_HA1_MD5;
  else if (creds->algorithm == SP_DIGEST_ALGORITHM_SHA256)
    kind = SP_USER_HA1_SHA256;
  else
    return SP_AUTH_CHALLENGE; /* we offered neither -sess nor others */
  nonce_state = sp_digest_nonce_check (auth->secret, sizeof auth->secret, creds->nonce, realm, now,
                                       auth->lifetime);
  if (nonce_state == SP_DIGEST_NONCE_INVALID)
    return SP_AUTH_CHALLENGE;
  ha1 = sp_user_db_get_ha1 (auth->users, creds->username, kind);
  if (ha1 == NULL)
    return fail (auth, address, now, "unknown user");
  body = sp_sip_message_get_body (request, &body_len);
  if (!sp_digest_credentials_verify (creds, ha1, sp_sip_message_get_method (request), body,
                                     body_len))
    return fail (auth, address, now, "wrong response");
  /* Right password: an old nonce only asks the client to retry. */
  if (nonce_state == SP_DIGEST_NONCE_STALE)
    return SP_AUTH_STALE;
  if (creds->qop != SP_DIGEST_QOP_NONE &&
      !nonce_count_fresh (auth, creds->nonce, creds->nc_value, now, &full))
    {
      if (full)
        return SP_AUTH_STALE;
      return fail (auth, address, now, "nonce count replayed");
    }
  if (username != NULL)
    *username = g_strdup (creds->username);
  return SP_AUTH_OK;
}

void
sp_authenticator_add_challenges (SpAuthenticator *auth, SpSipMessage *response, gboolean stale,
                                 gint64 now)
{
  const char *realm = sp_user_db_get_realm (auth->users);
  g_autofree char *nonce = sp_digest_nonce_new (auth->secret, sizeof auth->secret, realm, now);

  for (guint i = 0; i < auth->n_algorithms; i++)
    {
      g_autoptr (SpDigestChallenge) challenge =
          sp_digest_challenge_new (realm, nonce, auth->algorithms[i], SP_DIGEST_QOP_AUTH);
      g_autofree char *value = NULL;

      challenge->stale = stale;
      value = sp_digest_challenge_to_string (challenge);
      sp_sip_message_add_header (response, "WWW-Authenticate", value, NULL);
    }
}
