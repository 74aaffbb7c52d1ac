#pragma once

#include "server/authguard.h"
#include "server/userdb.h"
#include "sip/message.h"

#include <glib.h>

G_BEGIN_DECLS

/* The server side of digest authentication for REGISTER, INVITE and BYE:
 * challenges (SHA-256 first, then MD5, RFC 8760) with self-validating
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
/* Nonces whose nc is remembered at once; beyond, new nonces read as
 * stale until old ones expire (the client just asks again). */
#define SP_AUTHENTICATOR_MAX_NONCES 200000

/* @users and @guard are borrowed and must outlive the authenticator. */
SpAuthenticator *sp_authenticator_new (SpUserDb *users, SpAuthGuard *guard);
void sp_authenticator_free (SpAuthenticator *auth);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpAuthenticator, sp_authenticator_free)

void sp_authenticator_set_nonce_lifetime (SpAuthenticator *auth, guint seconds);

/* Checks the Authorization field for the user db's realm. @address is
 * the source IP (without port) failures are counted for. On OK,
 * @username (optional) gets the authenticated user's name. @now is wall
 * clock seconds. */
SpAuthResult sp_authenticator_check (SpAuthenticator *auth, const SpSipMessage *request,
                                     const char *address, gint64 now, char **username);
/* Adds the WWW-Authenticate challenges to a 401 @response. */
void sp_authenticator_add_challenges (SpAuthenticator *auth, SpSipMessage *response, gboolean stale,
                                      gint64 now);

guint64 sp_authenticator_get_n_failures (SpAuthenticator *auth);

G_END_DECLS
