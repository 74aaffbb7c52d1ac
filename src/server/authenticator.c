#include "server/authenticator.h"

#include "sip/digest.h"
#include "sip/random.h"

#include <string.h>

/* Stand-ins for the HA1 of a user who does not exist (any hex of the
 * right length; no password hashes to them knowingly). */
#define DUMMY_HA1_MD5    "00000000000000000000000000000000"
#define DUMMY_HA1_SHA256 "0000000000000000000000000000000000000000000000000000000000000000"

typedef struct
{
  guint32 highest_nc;
  gint64 issued; /* the nonce's own time, to forget it once it expired */
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
  GQueue order;       /* the keys of nonces, first used first */
  guint max_nonces;
  /* The latest issue time of a nonce forgotten while it may still be
   * valid: a nonce not remembered that is no newer may have been used. */
  gint64 forgotten_issued;
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
  sp_random_bytes (auth->secret, sizeof auth->secret);
  auth->nonces = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_queue_init (&auth->order);
  auth->max_nonces = SP_AUTHENTICATOR_MAX_NONCES;
  auth->forgotten_issued = -1;
  return auth;
}

void
sp_authenticator_free (SpAuthenticator *auth)
{
  if (auth == NULL)
    return;
  g_queue_clear (&auth->order);
  g_hash_table_unref (auth->nonces);
  memset (auth->secret, 0, sizeof auth->secret);
  g_free (auth);
}

void
sp_authenticator_set_max_nonces (SpAuthenticator *auth, guint max_nonces)
{
  auth->max_nonces = MAX (max_nonces, 1);
}

guint
sp_authenticator_get_n_nonces (SpAuthenticator *auth)
{
  return g_hash_table_size (auth->nonces);
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

const SpDigestAlgorithm *
sp_authenticator_get_algorithms (SpAuthenticator *auth, guint *n)
{
  *n = auth->n_algorithms;
  return auth->algorithms;
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

typedef enum
{
  NONCE_COUNT_FRESH,
  NONCE_COUNT_REPLAYED,
  NONCE_COUNT_FORGOTTEN, /* perhaps used before and forgotten: ask again */
} NonceCount;

/* Forgets the nonces used first, oldest first, while they have expired
 * (lazily: the queue is in order of first use, not of issue) or the
 * table is full. Neither scans the table: at full load under a flood
 * every new nonce would otherwise pay for all the others. */
static void
forget_old_nonces (SpAuthenticator *auth, gint64 now)
{
  while (!g_queue_is_empty (&auth->order))
    {
      const char *oldest = g_queue_peek_head (&auth->order);
      NonceUse *use = g_hash_table_lookup (auth->nonces, oldest);

      if (g_hash_table_size (auth->nonces) < auth->max_nonces &&
          now - use->issued <= (gint64) auth->lifetime)
        break;
      auth->forgotten_issued = MAX (auth->forgotten_issued, use->issued);
      g_queue_pop_head (&auth->order);
      g_hash_table_remove (auth->nonces, oldest);
    }
}

/* Whether @nc is higher than any seen for @nonce (and records it). The
 * table is bounded: when full, the oldest nonces are forgotten, and any
 * nonce issued no later than one forgotten is answered stale, so a
 * replay cannot pass as a first use and fresh nonces always work. (Before,
 * a full table read every new nonce as stale until the old ones expired:
 * five minutes of nothing but stale challenges after a flood.) */
static NonceCount
nonce_count_fresh (SpAuthenticator *auth, const char *nonce, guint32 nc, gint64 now)
{
  NonceUse *use = g_hash_table_lookup (auth->nonces, nonce);
  gint64 issued;
  char *key;

  if (use != NULL)
    {
      if (nc <= use->highest_nc)
        return NONCE_COUNT_REPLAYED;
      use->highest_nc = nc;
      return NONCE_COUNT_FRESH;
    }
  issued = sp_digest_nonce_get_time (nonce);
  if (issued <= auth->forgotten_issued)
    return NONCE_COUNT_FORGOTTEN;
  forget_old_nonces (auth, now);
  use = g_new (NonceUse, 1);
  use->highest_nc = nc;
  use->issued = issued;
  key = g_strdup (nonce);
  g_hash_table_insert (auth->nonces, key, use);
  g_queue_push_tail (&auth->order, key);
  return NONCE_COUNT_FRESH;
}

/* What a nonce is bound to: the realm and the address it was issued to,
 * so a nonce seen on the wire is worthless from any other host (it reads
 * as forged there and draws a fresh challenge). */
static char *
nonce_scope (SpAuthenticator *auth, const char *address)
{
  return g_strconcat (sp_user_db_get_realm (auth->users), "\n", address ? address : "", NULL);
}

/* The digest's uri names the Request-URI (RFC 3261 22.4): credentials
 * computed for another request (seen on the wire, or sent to another
 * server by a phone that trusted it) are not accepted for this one. */
static gboolean
uri_matches (const SpSipMessage *request, const char *digest_uri)
{
  const SpSipUri *ruri = sp_sip_message_get_request_uri (request);
  g_autoptr (SpSipUri) uri = NULL;
  g_autofree char *text = NULL;

  if (ruri == NULL || digest_uri == NULL)
    return FALSE;
  text = sp_sip_uri_to_string (ruri);
  if (g_strcmp0 (text, digest_uri) == 0)
    return TRUE;
  uri = sp_sip_uri_parse (digest_uri, -1, NULL);
  return uri != NULL && sp_sip_uri_equal (uri, ruri);
}

static gboolean
algorithm_offered (SpAuthenticator *auth, SpDigestAlgorithm algorithm)
{
  for (guint i = 0; i < auth->n_algorithms; i++)
    if (auth->algorithms[i] == algorithm)
      return TRUE;
  return FALSE;
}

static SpAuthResult
check (SpAuthenticator *auth, const SpSipMessage *request, const char *address, gint64 now,
       char **claimed)
{
  g_autoptr (SpDigestCredentials) creds = find_credentials (auth, request);
  g_autofree char *scope = nonce_scope (auth, address);
  SpDigestNonceCheck nonce_state;
  SpUserHa1Kind kind;
  const char *ha1;
  const guint8 *body;
  gsize body_len = 0;

  if (creds == NULL)
    return SP_AUTH_CHALLENGE;
  *claimed = g_strdup (creds->username);
  if (!algorithm_offered (auth, creds->algorithm))
    return SP_AUTH_CHALLENGE;
  if (creds->algorithm == SP_DIGEST_ALGORITHM_MD5)
    kind = SP_USER_HA1_MD5;
  else if (creds->algorithm == SP_DIGEST_ALGORITHM_SHA256)
    kind = SP_USER_HA1_SHA256;
  else
    return SP_AUTH_CHALLENGE; /* we offered neither -sess nor others */
  nonce_state = sp_digest_nonce_check (auth->secret, sizeof auth->secret, creds->nonce, scope, now,
                                       auth->lifetime);
  if (nonce_state == SP_DIGEST_NONCE_INVALID)
    return SP_AUTH_CHALLENGE;
  if (!uri_matches (request, creds->uri))
    return fail (auth, address, now, "digest uri is not the Request-URI");
  ha1 = sp_user_db_get_ha1 (auth->users, creds->username, kind);
  body = sp_sip_message_get_body (request, &body_len);
  if (ha1 == NULL)
    {
      /* The same work as for a known user, so the time of the 403 does
       * not tell who exists. */
      sp_digest_credentials_verify (creds,
                                    kind == SP_USER_HA1_MD5 ? DUMMY_HA1_MD5 : DUMMY_HA1_SHA256,
                                    sp_sip_message_get_method (request), body, body_len);
      return fail (auth, address, now, "unknown user");
    }
  if (!sp_digest_credentials_verify (creds, ha1, sp_sip_message_get_method (request), body,
                                     body_len))
    return fail (auth, address, now, "wrong response");
  /* Right password: an old nonce only asks the client to retry. */
  if (nonce_state == SP_DIGEST_NONCE_STALE)
    return SP_AUTH_STALE;
  /* Without qop there is no nonce count: such credentials are good for
   * one request only (nc 0 is recorded, so any second use is a replay).
   * A replayed qop-less request is answered stale, not failed: an honest
   * RFC 2069 client that reuses its nonce then simply asks again. */
  switch (nonce_count_fresh (auth, creds->nonce,
                             creds->qop != SP_DIGEST_QOP_NONE ? creds->nc_value : 0, now))
    {
      case NONCE_COUNT_FRESH:
        break;
      case NONCE_COUNT_FORGOTTEN:
        return SP_AUTH_STALE;
      case NONCE_COUNT_REPLAYED:
        if (creds->qop == SP_DIGEST_QOP_NONE)
          return SP_AUTH_STALE;
        return fail (auth, address, now, "nonce count replayed");
    }
  return SP_AUTH_OK;
}

char *
sp_authenticator_dup_claimed_user (SpAuthenticator *auth, const SpSipMessage *request)
{
  g_autoptr (SpDigestCredentials) creds = find_credentials (auth, request);

  return creds != NULL ? g_strdup (creds->username) : NULL;
}

SpAuthResult
sp_authenticator_check (SpAuthenticator *auth, const SpSipMessage *request, const char *address,
                        gint64 now, char **username)
{
  g_autofree char *claimed = NULL;
  SpAuthResult result = check (auth, request, address, now, &claimed);

  if (username != NULL && (result == SP_AUTH_OK || result == SP_AUTH_FAILED))
    *username = g_steal_pointer (&claimed);
  return result;
}

void
sp_authenticator_add_challenges (SpAuthenticator *auth, SpSipMessage *response, gboolean stale,
                                 const char *address, gint64 now)
{
  sp_authenticator_add_challenges_for (auth, response, stale, address, auth->algorithms,
                                       auth->n_algorithms, now);
}

void
sp_authenticator_add_challenges_for (SpAuthenticator *auth, SpSipMessage *response, gboolean stale,
                                     const char *address, const SpDigestAlgorithm *algorithms,
                                     guint n, gint64 now)
{
  const char *realm = sp_user_db_get_realm (auth->users);
  g_autofree char *scope = nonce_scope (auth, address);
  g_autofree char *nonce = sp_digest_nonce_new (auth->secret, sizeof auth->secret, scope, now);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (SpDigestChallenge) challenge =
          sp_digest_challenge_new (realm, nonce, algorithms[i], SP_DIGEST_QOP_AUTH);
      g_autofree char *value = NULL;

      challenge->stale = stale;
      value = sp_digest_challenge_to_string (challenge);
      sp_sip_message_add_header (response, "WWW-Authenticate", value, NULL);
    }
}
