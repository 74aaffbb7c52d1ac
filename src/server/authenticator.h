#pragma once

#include "server/authguard.h"
#include "server/userdb.h"
#include "sip/digest.h"
#include "sip/message.h"

#include <glib.h>

G_BEGIN_DECLS

/* The server side of digest authentication for REGISTER, INVITE and BYE:
 * challenges (MD5 and SHA-256, RFC 8760) with self-validating
 * nonces, credentials checked against the users' HA1, stale nonces,
 * and nonce-count replays refused (the highest nc seen per nonce is
 * kept while the nonce lives). Failures are counted in the SpAuthGuard. */

typedef enum
{
  SP_AUTH_OK,
  /* No usable credentials: answer 401 with a fresh challenge. */
  SP_AUTH_CHALLENGE,
  /* Right credentials on an expired nonce: 401 with stale=true. */
  SP_AUTH_STALE,
  /* Wrong password, unknown user or a replayed nonce count: 403. */
  SP_AUTH_FAILED,
} SpAuthResult;

typedef struct _SpAuthenticator SpAuthenticator;

#define SP_AUTHENTICATOR_NONCE_LIFETIME 300 /* seconds */
/* Nonces whose nc is remembered at once (about 150 bytes each); beyond,
 * the oldest are forgotten and a nonce issued no later than a forgotten
 * one reads as stale (the client asks again and gets a fresh one). */
#define SP_AUTHENTICATOR_MAX_NONCES 200000

/* @users and @guard are borrowed and must outlive the authenticator. */
SpAuthenticator *sp_authenticator_new (SpUserDb *users, SpAuthGuard *guard);
void sp_authenticator_free (SpAuthenticator *auth);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpAuthenticator, sp_authenticator_free)

void sp_authenticator_set_nonce_lifetime (SpAuthenticator *auth, guint seconds);
/* Default SP_AUTHENTICATOR_MAX_NONCES; at least 1. */
void sp_authenticator_set_max_nonces (SpAuthenticator *auth, guint max_nonces);
guint sp_authenticator_get_n_nonces (SpAuthenticator *auth);
/* The challenges sent, in order (MD5 and/or SHA-256; default MD5 then
 * SHA-256). Many clients answer the first challenge they can, and some
 * that know MD5 alone read only the first one (SIPp 3.6: "authentication
 * must use MD5"), so MD5 leads; SpAccessPolicy puts SHA-256 first for
 * User-Agents known to handle it (linphonec answers whichever comes
 * first) and offers MD5 alone to those that give up on any SHA-256
 * challenge (baresip 1.0). Clients that choose (ours) take SHA-256
 * either way. FALSE for an empty or unknown list. */
gboolean sp_authenticator_set_algorithms (SpAuthenticator *auth,
                                          const SpDigestAlgorithm *algorithms, guint n);

const SpDigestAlgorithm *sp_authenticator_get_algorithms (SpAuthenticator *auth, guint *n);

/* Checks the Authorization field for the user db's realm. @address is
 * the source IP (without port): nonces are bound to it (a nonce issued
 * to another address reads as forged: CHALLENGE), and failures are
 * counted for it in the guard, if any. The digest uri must name the
 * Request-URI (else FAILED). Credentials without qop are good once per
 * nonce (a second use is STALE). @username (optional) gets the name the
 * credentials claim on OK and on FAILED (so the caller can count failures
 * per user name). @now is wall clock seconds. */
SpAuthResult sp_authenticator_check (SpAuthenticator *auth, const SpSipMessage *request,
                                     const char *address, gint64 now, char **username);
/* The user name the Authorization field for our realm claims, or NULL. */
char *sp_authenticator_dup_claimed_user (SpAuthenticator *auth, const SpSipMessage *request);
/* Adds the WWW-Authenticate challenges (the configured algorithms, one
 * nonce bound to @address) to a 401 @response. */
void sp_authenticator_add_challenges (SpAuthenticator *auth, SpSipMessage *response, gboolean stale,
                                      const char *address, gint64 now);
/* The same with other algorithms than the configured ones (see
 * SpAccessPolicy: clients known to choke on SHA-256 get MD5 alone). */
void sp_authenticator_add_challenges_for (SpAuthenticator *auth, SpSipMessage *response,
                                          gboolean stale, const char *address,
                                          const SpDigestAlgorithm *algorithms, guint n, gint64 now);

guint64 sp_authenticator_get_n_failures (SpAuthenticator *auth);

G_END_DECLS
