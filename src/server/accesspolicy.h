#pragma once

#include "server/authenticator.h"
#include "server/router.h"
#include "server/userdb.h"
#include "sip/stack.h"

#include <glib.h>

G_BEGIN_DECLS

/* Who may use the mini-server: the one place that decides, for every
 * request the server takes (REGISTER, a new INVITE, a BYE the caller
 * sends in one of its calls), whether it comes from an authenticated
 * user, from a trusted peer (a trunk or upstream server, by address, as
 * Kamailio's permissions module does), or from nobody the server serves.
 * The registrar and the B2BUA consume its decision (SpAccess) instead of
 * looking at credentials themselves; the router sees it as ${username}
 * and ${trusted}.
 *
 * What holds:
 * - Everything but a trusted peer's INVITE is authenticated. A challenge
 *   never depends on who the From or the credentials name, and a wrong
 *   password looks like an unknown user (403, same headers), so a
 *   stranger cannot tell known, offline and unknown users apart: they
 *   never get as far as routing, where 404 and 480 are told.
 * - Refusals of requests that are not admitted (401, 403) go out once,
 *   statelessly, to the address the packet came from; nothing is kept
 *   for them.
 * - Brute force: failures are counted per source (IPv6 sources by their
 *   /64, since one host owns a whole /64) and per user name claimed; a
 *   source over the limit is ignored (no answer at all), a user over it
 *   gets 403 whatever the password, for the block time, except from a
 *   source (its /64) where that user logged in within the last day, so a
 *   guesser elsewhere does not shut the user's own phone out. Trusted
 *   peers are never counted nor locked out.
 * - Forward (sip/...) routes serve authenticated users; trusted peers
 *   only when set so (sp_access_policy_set_trusted_forward), so the
 *   server is no open relay.
 * - Digest algorithms: the configured challenges (MD5 then SHA-256 by
 *   default: MD5-only clients that read the first challenge alone work);
 *   SHA-256 first to User-Agents known to handle it (so they use it), and
 *   MD5 alone to those known to give up on any SHA-256 challenge (Debian
 *   12's baresip 1.0: libre 1.1).
 */

typedef struct _SpAccessPolicy SpAccessPolicy;

typedef enum
{
  /* Not admitted: the policy answered (or ignored) the request. */
  SP_ACCESS_DENIED,
  /* Authenticated as a user of the user db. */
  SP_ACCESS_USER,
  /* From a trusted peer's address, without credentials. */
  SP_ACCESS_TRUSTED,
} SpAccessKind;

typedef struct
{
  SpAccessKind kind;
  char *user;   /* USER: the user's name as the db spells it */
  char *number; /* USER: their number, or NULL */
} SpAccess;

void sp_access_clear (SpAccess *access);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SpAccess, sp_access_clear)

typedef struct
{
  guint64 ignored;    /* requests dropped: source locked out */
  guint64 challenged; /* 401s sent */
  guint64 refused;    /* 403s: failed credentials, user locked out */
  guint64 trusted;    /* requests admitted as from a trusted peer */
} SpAccessStats;

#define SP_ACCESS_POLICY_MAX_TRUSTED 256
/* Sources and user names whose failures are counted at once; beyond,
 * the least recently seen that is not locked out is forgotten. */
#define SP_ACCESS_POLICY_MAX_TRACKED 10000

/* Everything borrowed; it must outlive the policy. */
SpAccessPolicy *sp_access_policy_new (SpSipStack *stack, SpUserDb *users, SpAuthenticator *auth);
void sp_access_policy_free (SpAccessPolicy *policy);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpAccessPolicy, sp_access_policy_free)

/* @max_failures within @window_s lock a source or a user out for
 * @block_s (defaults 10 in 60 s, 300 s). Forgets what was counted. */
void sp_access_policy_set_lockout (SpAccessPolicy *policy, guint max_failures, guint window_s,
                                   guint block_s);
/* Addresses and networks ("192.0.2.10", "198.51.100.0/24",
 * "2001:db8::/48"), separated by commas or spaces; "" for none (the
 * default). All or nothing: FALSE with an error naming the entry that is
 * not an address or network, and the list stays as it was. */
gboolean sp_access_policy_set_trusted_peers (SpAccessPolicy *policy, const char *list,
                                             GError **error);
/* The list as set, normalised ("a, b/24"); "" for none. */
char *sp_access_policy_dup_trusted_peers (SpAccessPolicy *policy);
/* Whether trusted peers may use forward routes (default FALSE). */
void sp_access_policy_set_trusted_forward (SpAccessPolicy *policy, gboolean allow);
/* User-Agent prefixes (comma-separated, case-insensitive) challenged
 * with MD5 alone; the default is SP_ACCESS_POLICY_MD5_AGENTS. */
void sp_access_policy_set_md5_agents (SpAccessPolicy *policy, const char *list);
#define SP_ACCESS_POLICY_MD5_AGENTS "baresip v0.,baresip v1."
/* User-Agent prefixes (the same form) challenged with SHA-256 first, then
 * MD5 (when both are configured); default SP_ACCESS_POLICY_SHA256_AGENTS:
 * our own phone, and liblinphone clients (Linphonec/, Linphone Desktop/,
 * LinphoneAndroid/...), which answer whichever challenge comes first. */
void sp_access_policy_set_sha256_agents (SpAccessPolicy *policy, const char *list);
#define SP_ACCESS_POLICY_SHA256_AGENTS "Softphone,Linphone"

gboolean sp_access_policy_is_trusted (SpAccessPolicy *policy, const char *address);

/* Decides for a REGISTER or a new INVITE (no To tag). DENIED: the request
 * was answered or dropped here. REGISTER is never admitted as TRUSTED. */
SpAccessKind sp_access_policy_admit (SpAccessPolicy *policy, SpSipServerTransaction *st,
                                     SpSipMessage *request, gint64 now, SpAccess *access);
/* A BYE from the caller of a call that @caller_user placed (NULL: the
 * call came from a trusted peer): TRUE when it may end the call; FALSE
 * when answered (401 or 403). */
gboolean sp_access_policy_admit_bye (SpAccessPolicy *policy, SpSipServerTransaction *st,
                                     SpSipMessage *request, const char *caller_user, gint64 now);
/* Whether a caller admitted as @access may take a route of @kind. */
gboolean sp_access_policy_allows_route (SpAccessPolicy *policy, const SpAccess *access,
                                        SpRouteKind kind);
/* A 401 with fresh challenges for @st's source, sent statelessly. */
void sp_access_policy_challenge (SpAccessPolicy *policy, SpSipServerTransaction *st, gboolean stale,
                                 gint64 now);
/* @status sent once, statelessly, to the packet's source. */
void sp_access_policy_refuse (SpAccessPolicy *policy, SpSipServerTransaction *st, guint status,
                              const char *reason);

/* Locked-out sources and users at @now (for the console), sorted. */
GPtrArray *sp_access_policy_list_locked (SpAccessPolicy *policy, gint64 now);
void sp_access_policy_get_stats (SpAccessPolicy *policy, SpAccessStats *stats);

G_END_DECLS
