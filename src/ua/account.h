#pragma once

#include <glib-object.h>

#include "media/offer-answer.h"
#include "sip/transport.h"

G_BEGIN_DECLS

/* One SIP account as the user configured it, plus its live registration
 * status. Every field is a GObject property with notify, so the GUI binds
 * to it and the registration code reports through it. An account never
 * prints its password: use sp_account_to_debug_string () in logs. */

typedef enum
{
  SP_ACCOUNT_TRANSPORT_UDP,
  SP_ACCOUNT_TRANSPORT_TCP,
  SP_ACCOUNT_TRANSPORT_TLS, /* SIP over TLS, port 5061 by default */
} SpAccountTransport;

typedef enum
{
  SP_ACCOUNT_STATUS_UNREGISTERED,
  SP_ACCOUNT_STATUS_REGISTERING,
  SP_ACCOUNT_STATUS_REGISTERED,
  SP_ACCOUNT_STATUS_FAILED,
} SpAccountStatus;

/* SP_TYPE_ACCOUNT_TRANSPORT, SP_TYPE_ACCOUNT_STATUS: glib-mkenums. */
#include "sp-enums.h"

/* "udp" / "tcp" / "tls"; parse is case-insensitive. */
const char *sp_account_transport_to_string (SpAccountTransport transport);
/* The SIP transport an account's requests use. */
SpSipTransportKind sp_account_transport_to_kind (SpAccountTransport transport);
/* The URI parameter that names it: "", ";transport=tcp", ";transport=tls". */
const char *sp_account_transport_uri_param (SpAccountTransport transport);
gboolean sp_account_transport_from_string (const char *text, SpAccountTransport *transport,
                                           GError **error);
/* "unregistered", "registering", "registered", "failed". */
const char *sp_account_status_to_string (SpAccountStatus status);

#define SP_ACCOUNT_DEFAULT_INTERVAL 600
#define SP_ACCOUNT_MIN_INTERVAL     30
#define SP_ACCOUNT_MAX_INTERVAL     86400

#define SP_TYPE_ACCOUNT (sp_account_get_type ())
G_DECLARE_FINAL_TYPE (SpAccount, sp_account, SP, ACCOUNT, GObject)

/* @id is a stable key for settings ("account1"); NULL picks one. */
SpAccount *sp_account_new (const char *id);

const char *sp_account_get_id (SpAccount *self);
/* Always "sip" for now; kept so settings name it as Yate's dialog does. */
const char *sp_account_get_protocol (SpAccount *self);
/* The name the user gave the account ("Office"). */
const char *sp_account_get_name (SpAccount *self);
void sp_account_set_name (SpAccount *self, const char *name);
const char *sp_account_get_username (SpAccount *self);
void sp_account_set_username (SpAccount *self, const char *username);
const char *sp_account_get_password (SpAccount *self);
void sp_account_set_password (SpAccount *self, const char *password);
/* "host" or "host:port" ("[v6]:port"). */
const char *sp_account_get_server (SpAccount *self);
void sp_account_set_server (SpAccount *self, const char *server);
const char *sp_account_get_display_name (SpAccount *self);
void sp_account_set_display_name (SpAccount *self, const char *display_name);
SpAccountTransport sp_account_get_transport (SpAccount *self);
void sp_account_set_transport (SpAccount *self, SpAccountTransport transport);
/* "host[:port]" or NULL/"" for none. */
const char *sp_account_get_outbound_proxy (SpAccount *self);
void sp_account_set_outbound_proxy (SpAccount *self, const char *proxy);
/* Seconds asked for in REGISTER's Expires. */
guint sp_account_get_register_interval (SpAccount *self);
void sp_account_set_register_interval (SpAccount *self, guint seconds);
gboolean sp_account_get_enabled (SpAccount *self);
void sp_account_set_enabled (SpAccount *self, gboolean enabled);

/* The realm whose challenges the account answers; NULL/"" = the first
 * one its own registrar or outbound proxy sends (see session/credentials.h). */
const char *sp_account_get_realm (SpAccount *self);
void sp_account_set_realm (SpAccount *self, const char *realm);
/* Answer MD5 challenges without qop (RFC 2069 style, whose response an
 * eavesdropper or the challenger can crack offline); FALSE by default. */
gboolean sp_account_get_allow_md5_without_qop (SpAccount *self);
void sp_account_set_allow_md5_without_qop (SpAccount *self, gboolean allow);

/* The packet time of the account's calls, ms: 10, 20, 30 or 40, offered
 * as a=ptime and a=maxptime and kept for the whole call; 0 (the default)
 * = automatic: 20 ms, or 10 ms for Opus between phones on a LAN. */
guint sp_account_get_ptime (SpAccount *self);
void sp_account_set_ptime (SpAccount *self, guint ms);
gboolean sp_account_ptime_is_valid (guint ms);

/* Media encryption of the account's calls (issue 16): preferred (the
 * default), required or off; see media/offer-answer.h. */
SpMediaEncryption sp_account_get_media_encryption (SpAccount *self);
void sp_account_set_media_encryption (SpAccount *self, SpMediaEncryption encryption);

SpAccountStatus sp_account_get_status (SpAccount *self);
/* Why it failed ("403 Forbidden", "no answer from server"), or NULL. */
const char *sp_account_get_status_reason (SpAccount *self);
/* Sets both, with one notify each when they change. */
void sp_account_set_status (SpAccount *self, SpAccountStatus status, const char *reason);

/* The server split into host and port (0 = default). FALSE when the
 * server field does not parse. */
gboolean sp_account_get_server_host_port (SpAccount *self, char **host, guint16 *port);

/* Checks the configured fields: a server is given and parses, the port is
 * in range, the proxy parses, the interval is in range. The message names
 * the field at fault. */
gboolean sp_account_validate (SpAccount *self, GError **error);

/* The same checks on raw text, for a dialog to run before it changes
 * anything (so a bad entry loses nothing). @transport may be NULL. */
gboolean sp_account_check_fields (const char *server, const char *transport,
                                  const char *outbound_proxy, guint register_interval,
                                  GError **error);

/* "Office <sip:alice@pbx:5060> udp password=***": never the password. */
char *sp_account_to_debug_string (SpAccount *self);

/* TRUE when a username is set. An account with none is a direct-call
 * profile (Yate's "server = the other PC's address"): it never registers. */
gboolean sp_account_has_credentials (SpAccount *self);

G_END_DECLS
