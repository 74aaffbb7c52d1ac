#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* SIP, SIPS and tel URIs (RFC 3261 section 19.1, RFC 3966), and an opaque
 * form for any other scheme so such a URI still parses (a server answers
 * 416 for it, it does not crash on it). */

typedef enum
{
  SP_URI_SCHEME_SIP,
  SP_URI_SCHEME_SIPS,
  SP_URI_SCHEME_TEL,
  SP_URI_SCHEME_OTHER,
} SpUriScheme;

/* One ";name=value" parameter (URI, Via, name-addr) or "?name=value"
 * header. @value is NULL for a parameter that has none ("lr"). Names and
 * values keep their received text (escapes included). */
typedef struct
{
  char *name;
  char *value;
} SpSipParam;

typedef struct _SpSipUri SpSipUri;

SpSipUri *sp_sip_uri_parse (const char *text, gssize len, GError **error);
SpSipUri *sp_sip_uri_new (SpUriScheme scheme, const char *user, const char *host, guint16 port);
SpSipUri *sp_sip_uri_copy (const SpSipUri *uri);
void sp_sip_uri_free (SpSipUri *uri);

SpUriScheme sp_sip_uri_get_scheme (const SpSipUri *uri);
/* Lower case scheme name: "sip", "tel", "nobodyknowsthisscheme". */
const char *sp_sip_uri_get_scheme_name (const SpSipUri *uri);
/* User part as received (escapes kept), or NULL. For tel: the number. */
const char *sp_sip_uri_get_user (const SpSipUri *uri);
/* The user part with %HH escapes decoded; @len gets its length, since
 * an escaped NUL (%00) is legal there. Free with g_free. */
char *sp_sip_uri_dup_user_unescaped (const SpSipUri *uri, gsize *len);
const char *sp_sip_uri_get_password (const SpSipUri *uri);
/* Host in lower case; an IPv6 reference without its brackets. NULL for
 * tel: and other schemes. */
const char *sp_sip_uri_get_host (const SpSipUri *uri);
gboolean sp_sip_uri_host_is_ipv6 (const SpSipUri *uri);
/* The port, or 0 when the URI names none. */
guint16 sp_sip_uri_get_port (const SpSipUri *uri);
/* Everything after "scheme:" for SP_URI_SCHEME_OTHER, else NULL. */
const char *sp_sip_uri_get_opaque (const SpSipUri *uri);

/* Parameters (case-insensitive names). get_param returns NULL both for
 * a missing and a valueless parameter: use has_param to tell them apart. */
gboolean sp_sip_uri_has_param (const SpSipUri *uri, const char *name);
const char *sp_sip_uri_get_param (const SpSipUri *uri, const char *name);
void sp_sip_uri_set_param (SpSipUri *uri, const char *name, const char *value);
void sp_sip_uri_remove_param (SpSipUri *uri, const char *name);
guint sp_sip_uri_get_n_params (const SpSipUri *uri);
const SpSipParam *sp_sip_uri_get_nth_param (const SpSipUri *uri, guint n);
guint sp_sip_uri_get_n_headers (const SpSipUri *uri);
const SpSipParam *sp_sip_uri_get_nth_header (const SpSipUri *uri, guint n);

void sp_sip_uri_set_user (SpSipUri *uri, const char *user);
void sp_sip_uri_set_host (SpSipUri *uri, const char *host);
void sp_sip_uri_set_port (SpSipUri *uri, guint16 port);

/* Serialized form: parse(to_string(u)) equals u. */
char *sp_sip_uri_to_string (const SpSipUri *uri);

/* URI equality by RFC 3261 section 19.1.4 (escapes, case rules, the
 * user/ttl/method/maddr/transport parameters, headers). */
gboolean sp_sip_uri_equal (const SpSipUri *a, const SpSipUri *b);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpSipUri, sp_sip_uri_free)

G_END_DECLS
