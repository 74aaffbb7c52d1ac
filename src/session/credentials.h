#pragma once

#include "sip/message.h"
#include "sip/transport.h"

G_BEGIN_DECLS

/* One account's credentials and the policy of which digest challenges
 * they answer (RFC 3261 22.2, 22.3), for every request the phone sends:
 * REGISTER, INVITE, re-INVITE, BYE. One store per account, shared by its
 * registration and its calls (the phone holds them); a request that
 * goes out without an account (a direct call) has none and answers no
 * challenge.
 *
 * An account answers a 401/407 only when
 *  - the request went to its own registrar or outbound proxy: the
 *    address it was sent to is the one configured, or one the configured
 *    name resolved to (the registration and calls report their lookups);
 *  - the challenge's realm is the account's realm if one is configured,
 *    else the first realm its registrar or proxy challenged with;
 *  - the challenge is not MD5 without qop (RFC 2069 style, crackable
 *    offline by whoever sent it) unless the account allows that.
 * Anything else is refused with a reason for the user ("sip:x@host
 * asked for your password for realm "evil"; it was not sent").
 *
 * The retry guard (SpAuthRetry, one per request and its re-sends)
 * answers one challenge; a second one ends it unless it is a new nonce
 * marked stale=true, which is answered once more. A second challenge
 * with the nonce already answered means the credentials were refused.
 *
 * What a store learnt (addresses, realm) lives in memory and is
 * forgotten when the account's server, proxy or user changes.
 *
 * Passwords never appear in errors or logs. Main loop only. */

#define SP_CREDENTIALS_ERROR (sp_credentials_error_quark ())
GQuark sp_credentials_error_quark (void);

typedef enum
{
  SP_CREDENTIALS_ERROR_NO_ACCOUNT,    /* direct call: no credentials to give */
  SP_CREDENTIALS_ERROR_FOREIGN_HOST,  /* not the account's registrar or proxy */
  SP_CREDENTIALS_ERROR_FOREIGN_REALM, /* not the account's realm */
  SP_CREDENTIALS_ERROR_WEAK,          /* MD5 without qop, not allowed */
  SP_CREDENTIALS_ERROR_REFUSED,       /* the server did not take our answer */
  SP_CREDENTIALS_ERROR_UNSUPPORTED,   /* no Digest challenge we can compute */
} SpCredentialsError;

typedef struct _SpCredentials SpCredentials;

/* The retry guard of one request. Zero-initialise; clear when done. */
typedef struct
{
  char *nonce;         /* of the last challenge answered */
  guint answered;      /* challenges answered */
  gboolean stale_used; /* the one extra answer to stale=true is spent */
} SpAuthRetry;

void sp_auth_retry_clear (SpAuthRetry *retry);
/* Moves @from's state into @to (a re-sent request keeps its guard). */
void sp_auth_retry_move (SpAuthRetry *to, SpAuthRetry *from);

/* What the policy goes on: the account as configured now. The server
 * and proxy are split into host (a name or an IP literal, IPv6 without
 * brackets) and port (0: none given); NULL/empty when not set. */
typedef struct
{
  char *label;    /* the account's name, for the user's messages */
  char *username; /* the digest user name */
  char *password;
  char *realm; /* NULL/"": the first one its server challenges with */
  char *server_host;
  guint16 server_port;
  char *proxy_host;
  guint16 proxy_port;
  gboolean allow_md5_without_qop;
} SpCredentialsSettings;

/* A store for @settings (copied). */
SpCredentials *sp_credentials_new (const SpCredentialsSettings *settings);
/* The account changed (copied): when its server, proxy or user did,
 * what the store learnt is forgotten. */
void sp_credentials_update (SpCredentials *self, const SpCredentialsSettings *settings);
/* The object the settings come from (the account); the store holds a
 * reference and disconnects its signal handlers whose data is the store
 * when it goes, so a binder can keep the settings current. Set once. */
void sp_credentials_set_owner (SpCredentials *self, GObject *owner);
GObject *sp_credentials_get_owner (SpCredentials *self);
SpCredentials *sp_credentials_ref (SpCredentials *self);
void sp_credentials_unref (SpCredentials *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpCredentials, sp_credentials_unref)

/* @host[:@port] was looked up and gave @address: when it is the
 * account's server or outbound proxy (as configured now), challenges
 * from @address are the account's. Other names are ignored. */
void sp_credentials_note_resolved (SpCredentials *self, const char *host, guint16 port,
                                   const SpSipPeer *address);
/* TRUE when @peer is the account's registrar or outbound proxy. */
gboolean sp_credentials_is_own_server (SpCredentials *self, const SpSipPeer *peer);
/* The same for a request from @host, any port (incoming calls: a server
 * may send from another port than it listens on, or over TCP). */
gboolean sp_credentials_is_own_server_host (SpCredentials *self, const char *host);
/* The configured realm, else the one learnt, else NULL. */
const char *sp_credentials_get_realm (SpCredentials *self);

/* Answers the 401/407 @response to @request, which was sent to @dest
 * (NULL: unknown, refused). @self NULL: a request without an account.
 * TRUE: the credentials (Authorization or Proxy-Authorization) are in
 * @request, which the caller re-sends with sp_credentials_prepare_resend.
 * FALSE: nothing was added, and @error says why for the user, in
 * English (events, history, logs); @text (optional) gets the same
 * reason in the user's language for a policy refusal (not for
 * SP_CREDENTIALS_ERROR_REFUSED / _UNSUPPORTED, where the server's status
 * says it). */
gboolean sp_credentials_answer (SpCredentials *self, SpAuthRetry *retry, SpSipMessage *request,
                                const SpSipMessage *response, const SpSipPeer *dest, char **text,
                                GError **error);

/* A new CSeq for a re-sent request: same Call-ID and From tag, number
 * @cseq, top Via removed so the transaction layer adds a fresh one. */
void sp_credentials_prepare_resend (SpSipMessage *request, guint32 cseq);

G_END_DECLS
