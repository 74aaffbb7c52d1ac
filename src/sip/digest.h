#pragma once

#include <glib.h>

#include "sip/error.h"

G_BEGIN_DECLS

/* HTTP Digest authentication as SIP uses it (RFC 3261 22.4, RFC 2617,
 * RFC 7616, RFC 8760): the WWW-Authenticate / Proxy-Authenticate
 * challenge, the Authorization / Proxy-Authorization credentials, the
 * response computation of a client, the check of a server holding only
 * HA1, and self-validating nonces.
 *
 * The header values are the same for WWW- and Proxy- variants; the caller
 * picks the header name. Parse errors are in the SP_SIP_ERROR domain:
 *  - SP_SIP_ERROR_BAD_REQUEST (400): the value is not valid syntax
 *    (message names the fault), or a limit below is exceeded.
 *  - SP_DIGEST_ERROR_UNKNOWN_SCHEME (401): well-formed, but a scheme other
 *    than Digest ("NoOneKnowsThisScheme opaque-data=here", RFC 4475
 *    3.3.7; "Basic ..."). A registrar answers it with a Digest challenge.
 *
 * One value holds one challenge or one set of credentials: split several
 * challenges into several header fields, as RFC 8760 section 2.4 asks. */

#define SP_DIGEST_ERROR_UNKNOWN_SCHEME ((SpSipErrorCode) 401)

#define SP_DIGEST_MAX_VALUE_LENGTH 4096 /* whole header value */
#define SP_DIGEST_MAX_PARAMS       32

typedef enum
{
  SP_DIGEST_ALGORITHM_MD5, /* also when the algorithm parameter is absent */
  SP_DIGEST_ALGORITHM_MD5_SESS,
  SP_DIGEST_ALGORITHM_SHA256,
  SP_DIGEST_ALGORITHM_SHA256_SESS,
  /* Named but not computable here (SHA-512-256, anything else): the
   * client picks another challenge. The name stays in algorithm_name. */
  SP_DIGEST_ALGORITHM_UNKNOWN,
} SpDigestAlgorithm;

/* "MD5", "MD5-sess", "SHA-256", "SHA-256-sess"; NULL for UNKNOWN. */
const char *sp_digest_algorithm_to_string (SpDigestAlgorithm algorithm);
/* Case-insensitive; UNKNOWN for any other name. */
SpDigestAlgorithm sp_digest_algorithm_from_string (const char *name);

typedef enum
{
  SP_DIGEST_QOP_NONE = 0, /* RFC 2069 compatibility: no qop */
  SP_DIGEST_QOP_AUTH = 1 << 0,
  SP_DIGEST_QOP_AUTH_INT = 1 << 1,
} SpDigestQop;

/* A parameter kept as it came: unknown ones of a challenge or
 * credentials. @value is unquoted and unescaped. */
typedef struct
{
  char *name;
  char *value;
} SpDigestParam;

typedef struct
{
  char *realm;
  char *nonce;
  char *opaque; /* NULL when absent */
  char *domain; /* the raw space-separated URI list, or NULL */
  gboolean stale;
  SpDigestAlgorithm algorithm;
  char *algorithm_name; /* as written, or NULL when absent */
  guint qop;            /* SpDigestQop flags offered; 0 = no qop */
  gboolean userhash;    /* RFC 7616 */
  GPtrArray *params;    /* other parameters, SpDigestParam, in order */
} SpDigestChallenge;

typedef struct
{
  char *username;
  char *realm;
  char *nonce;
  char *uri;
  char *response; /* hex, as sent */
  SpDigestAlgorithm algorithm;
  char *algorithm_name; /* as written, or NULL when absent */
  char *cnonce;         /* NULL when absent */
  char *opaque;         /* NULL when absent */
  SpDigestQop qop;      /* the one chosen: NONE, AUTH or AUTH_INT */
  char *nc;             /* 8 hex digits as sent, NULL when absent */
  guint32 nc_value;
  gboolean userhash;
  GPtrArray *params; /* other parameters, SpDigestParam, in order */
} SpDigestCredentials;

/* ---- Challenges ------------------------------------------------------- */

/* Parses a WWW-Authenticate / Proxy-Authenticate value. realm and nonce
 * are required. */
SpDigestChallenge *sp_digest_challenge_parse (const char *value, gssize len, GError **error);
/* A challenge to send: @qop flags offered (usually SP_DIGEST_QOP_AUTH). */
SpDigestChallenge *sp_digest_challenge_new (const char *realm, const char *nonce,
                                            SpDigestAlgorithm algorithm, guint qop);
void sp_digest_challenge_free (SpDigestChallenge *challenge);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpDigestChallenge, sp_digest_challenge_free)
/* "Digest realm="...", nonce="...", ..." with the extra params last. */
char *sp_digest_challenge_to_string (const SpDigestChallenge *challenge);

/* ---- Credentials ------------------------------------------------------ */

/* Parses an Authorization / Proxy-Authorization value. username, realm,
 * nonce, uri and response are required; with qop, cnonce and nc too. */
SpDigestCredentials *sp_digest_credentials_parse (const char *value, gssize len, GError **error);
void sp_digest_credentials_free (SpDigestCredentials *credentials);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpDigestCredentials, sp_digest_credentials_free)
char *sp_digest_credentials_to_string (const SpDigestCredentials *credentials);

/* ---- Computation ------------------------------------------------------ */

/* HA1 = H(username:realm:password) in lower-case hex: what a server
 * stores instead of the password. NULL for UNKNOWN. The -sess algorithms
 * store the same HA1 as their base algorithm. */
char *sp_digest_compute_ha1 (SpDigestAlgorithm algorithm, const char *username, const char *realm,
                             const char *password);

/* The request-digest in lower-case hex (RFC 7616 section 3.4.1), from the
 * stored (non-sess) @ha1; for -sess algorithms the session HA1 is derived
 * here from @nonce and @cnonce. With @qop NONE, @nc and @cnonce are not
 * used (RFC 2069 form). @body is hashed for AUTH_INT only. NULL for
 * UNKNOWN, or when @qop needs @nc/@cnonce and they are NULL. */
char *sp_digest_compute_response (SpDigestAlgorithm algorithm, const char *ha1, const char *nonce,
                                  const char *nc, const char *cnonce, SpDigestQop qop,
                                  const char *method, const char *uri, const guint8 *body,
                                  gsize body_len);

/* Client side: the credentials answering @challenge for a request
 * @method @uri (with @body for auth-int). Give @password, or @ha1 when
 * only that is stored. Picks qop auth over auth-int over none, uses nc
 * @nc and a random cnonce when @cnonce is NULL. Fails with
 * SP_SIP_ERROR_NOT_IMPLEMENTED (501) on an UNKNOWN algorithm. */
SpDigestCredentials *
sp_digest_credentials_new_for_challenge (const SpDigestChallenge *challenge, const char *username,
                                         const char *password, const char *ha1, const char *method,
                                         const char *uri, const guint8 *body, gsize body_len,
                                         guint32 nc, const char *cnonce, GError **error);

/* Server side: TRUE when @credentials carry the right response for a
 * request @method (and @body, for auth-int) given the user's stored @ha1
 * for the credentials' algorithm. Compares in constant time. It does not
 * check the nonce (sp_digest_nonce_check), realm or username. */
gboolean sp_digest_credentials_verify (const SpDigestCredentials *credentials, const char *ha1,
                                       const char *method, const guint8 *body, gsize body_len);

/* ---- Nonces ----------------------------------------------------------- */

/* A nonce that proves itself: hex of (timestamp, 8 random bytes,
 * HMAC-SHA256(@secret, timestamp|random|@realm)). The server keeps no
 * state to tell a stale nonce (valid HMAC, expired: answer stale=true)
 * from a forged one or one for another realm. @now is in seconds (wall
 * clock, g_get_real_time () / G_USEC_PER_SEC). */
typedef enum
{
  SP_DIGEST_NONCE_VALID,
  SP_DIGEST_NONCE_STALE,
  SP_DIGEST_NONCE_INVALID,
} SpDigestNonceCheck;

#define SP_DIGEST_NONCE_LENGTH 96 /* hex characters */

char *sp_digest_nonce_new (const guint8 *secret, gsize secret_len, const char *realm, gint64 now);
/* STALE when older than @lifetime seconds, or issued in the future (the
 * clock went back); INVALID when malformed, forged or for another realm. */
SpDigestNonceCheck sp_digest_nonce_check (const guint8 *secret, gsize secret_len, const char *nonce,
                                          const char *realm, gint64 now, gint64 lifetime);

/* When a well-formed nonce says it was issued (seconds, as given to
 * sp_digest_nonce_new); -1 when malformed. Trust it only after
 * sp_digest_nonce_check. */
gint64 sp_digest_nonce_get_time (const char *nonce);

/* Equal strings, in time that depends on the length only. */
gboolean sp_digest_equal_constant_time (const char *a, const char *b);

G_END_DECLS
