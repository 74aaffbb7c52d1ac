#pragma once

#include "server/calllist.h"
#include "server/location.h"
#include "server/router.h"
#include "server/userdb.h"
#include "server/webconsole.h"
#include "sip/stack.h"

#include <glib-object.h>

G_BEGIN_DECLS

/* The mini-server: registrar, router + B2BUA, media relay and web
 * console over a SIP stack it shares with the phone (same sockets).
 * sp_server_start() / sp_server_stop() switch it at run time; while it
 * is off, every request is left to the phone, and calls it was carrying
 * when stopped go on until they end (so the phone's own calls through
 * it are not dropped).
 *
 * Dispatch: the stack's "request" signal reaches the phone first, so the
 * phone asks sp_server_filter_request() before looking at a request
 * (see sp_phone_set_request_filter); a server on a stack of its own
 * connects to the signal itself (sp_server_start with connect TRUE).
 * Addressed to the server are: REGISTER, new INVITEs other than the
 * server's own callee legs coming back to this process, and every
 * request in a dialog of the server's calls.
 *
 * Users live in @config_dir/users.conf, routes in routes.conf, bindings
 * in @state_dir/registrations.json (reloaded by start, saved a second
 * after each change).
 *
 * Signals:
 *   "registered" (const char *user, const char *contact)
 *   "unregistered" (const char *user, const char *contact, gboolean expired)
 *   "call-started" (SpServerCall *call)
 *   "call-ended" (SpServerCall *call, guint status)
 *   "users-save-failed" (const char *message): the users changed (the
 *     server saves them, and only it) but could not be written
 */

#define SP_TYPE_SERVER (sp_server_get_type ())
G_DECLARE_FINAL_TYPE (SpServer, sp_server, SP, SERVER, GObject)

typedef struct
{
  guint64 requests;    /* requests the server took */
  guint64 ignored;     /* dropped: source locked out after failed logins */
  guint64 malformed;   /* dropped by the transport: oversize or unparsable */
  guint64 auth_failed; /* wrong password, unknown user, replayed nonce count */
  guint64 registers;
  guint64 calls;
  guint64 refused; /* 503: a cap on calls or transactions was reached */
} SpServerStats;

/* @realm NULL: "softphone". Loads users and routes from @config_dir (NULL:
 * nothing loaded or saved). */
SpServer *sp_server_new (const char *config_dir, const char *state_dir, const char *realm);

SpUserDb *sp_server_get_users (SpServer *self);
SpRouter *sp_server_get_router (SpServer *self);
SpLocationStore *sp_server_get_locations (SpServer *self);
SpServerCallList *sp_server_get_calls (SpServer *self);

/* Settings, read by start. */
/* TRUE (default): SDP points at the server's relay ports; FALSE: media
 * flows between the phones. */
void sp_server_set_media_relay (SpServer *self, gboolean relay);
/* Where the relay is bound while the server runs and relays media (a
 * wildcard too: each leg's SDP then names the route to that leg's
 * peer); NULL when it does not. */
const char *sp_server_get_relay_host (SpServer *self);
void sp_server_set_relay_ports (SpServer *self, guint16 port_min, guint16 port_max);
/* Yate challenges the caller's BYE (default TRUE). */
void sp_server_set_challenge_bye (SpServer *self, gboolean challenge);

/* RFC 4028 session timers on the call legs the server sets up: the
 * Session-Expires its INVITEs ask for, in seconds (0: none, and callers'
 * intervals are not checked), and the Min-SE it asks for and enforces.
 * Applies to new calls. FALSE with @error, nothing changed, for a Min-SE
 * outside 90..86400 or an interval outside Min-SE..86400 (and not 0);
 * sp_server_check_session_timer checks alone, before a server exists. */
#define SP_SERVER_DEFAULT_SESSION_EXPIRES 1800
#define SP_SERVER_DEFAULT_MIN_SE          90
gboolean sp_server_check_session_timer (guint session_expires, guint min_se, GError **error);
gboolean sp_server_set_session_timer (SpServer *self, guint session_expires, guint min_se,
                                      GError **error);
void sp_server_get_session_timer (SpServer *self, guint *session_expires, guint *min_se);
/* Failed logins per source address (IPv6: per /64) and per user name:
 * @max_failures within @window_s lock it out for @block_s (defaults 10 in
 * 60 s, 300 s). Trusted peers are never locked out. */
void sp_server_set_auth_guard (SpServer *self, guint max_failures, guint window_s, guint block_s);
void sp_server_set_nonce_lifetime (SpServer *self, guint seconds);
/* Trunks and upstream servers whose INVITEs need no credentials: IP
 * addresses and networks, "192.0.2.10, 198.51.100.0/24, 2001:db8::/48"
 * ("" for none, the default). FALSE with an error naming the bad entry
 * (the list stays as it was). See SpAccessPolicy. */
gboolean sp_server_set_trusted_peers (SpServer *self, const char *list, GError **error);
const char *sp_server_get_trusted_peers (SpServer *self);
/* Whether trusted peers' calls may take forward (sip/...) routes
 * (default FALSE: no open relay). */
void sp_server_set_trusted_forward (SpServer *self, gboolean allow);
/* User-Agent prefixes challenged with MD5 alone (comma-separated;
 * default SP_ACCESS_POLICY_MD5_AGENTS, "" for none). */
void sp_server_set_md5_user_agents (SpServer *self, const char *list);
/* User-Agent prefixes offered SHA-256 first (default
 * SP_ACCESS_POLICY_SHA256_AGENTS, "" for none). */
void sp_server_set_sha256_user_agents (SpServer *self, const char *list);
/* The digest challenges, in order: "md5,sha-256" (default), "sha-256,md5",
 * "md5" or "sha-256" (see sp_authenticator_set_algorithms). */
gboolean sp_server_set_digest_algorithms (SpServer *self, const char *list, GError **error);

/* Caps that keep the server standing under a flood (0: no cap). Calls:
 * see SpCallLimits; transactions and TCP connections are set on the
 * stack the server serves (sp_sip_transaction_layer_set_limits,
 * sp_sip_transport_set_tcp_limits); Timer C ends a callee leg that
 * rings too long. Past a cap the answer is 503 with Retry-After, sent
 * once. Defaults fit a small office (docs/headless.md). */
typedef struct
{
  guint max_calls;
  guint max_calls_per_source;
  guint max_calls_per_user;
  guint max_transactions;
  guint max_transactions_per_source;
  guint max_tcp;
  guint max_tcp_per_address;
  guint timer_c_ms;
  /* A TCP/TLS connection with no traffic is closed after this long,
   * unless a registration holds it (registrar.c). */
  guint tcp_idle_ms;
} SpServerLimits;

void sp_server_limits_init (SpServerLimits *limits);
/* Applies at once to a running server (new calls and requests). */
void sp_server_set_limits (SpServer *self, const SpServerLimits *limits);
const SpServerLimits *sp_server_get_limits (SpServer *self);

/* Serves on @stack; @media_host (numeric) is where the relay binds.
 * @connect_requests: listen to the stack's "request" signal directly
 * (no phone in front). */
gboolean sp_server_start (SpServer *self, SpSipStack *stack, const char *media_host,
                          gboolean connect_requests, GError **error);
void sp_server_stop (SpServer *self);
gboolean sp_server_is_running (SpServer *self);

/* TRUE when the server took @request (answered it or dropped it). */
gboolean sp_server_filter_request (SpServer *self, SpSipServerTransaction *st,
                                   SpSipMessage *request, SpSipDialog *dialog);
/* TRUE for dialogs of the server's calls (their ACKs are not the
 * phone's). */
gboolean sp_server_owns_dialog (SpServer *self, SpSipDialog *dialog);

/* The web console on "ADDR:PORT" (see sp_web_console_parse_listen), with
 * the admin password's hash (sp_password_hash_new; NULL for none) and the
 * API token of the config directory, created there on first start
 * (apitoken.h; without a config directory, only the admin password allows
 * changes). */
gboolean sp_server_start_http (SpServer *self, const char *listen, const char *admin_password_hash,
                               GError **error);
SpWebConsole *sp_server_get_web_console (SpServer *self);
/* While the server runs with a TLS listener: the address phones reach it
 * at over TLS ("127.0.0.1:5061", "[::1]:5061"; a wildcard binding is
 * named by the host name) and, in @fingerprint, the SHA-256 of its
 * certificate ("AB:CD:...", owned by the server). NULL without TLS or
 * while the server is off. */
char *sp_server_dup_tls_address (SpServer *self, const char **fingerprint);

guint sp_server_get_n_calls (SpServer *self);
void sp_server_get_stats (SpServer *self, SpServerStats *stats);

G_END_DECLS
