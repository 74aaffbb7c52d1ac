#pragma once

#include <gio/gio.h>

#include "ua/account.h"
#include "ua/call.h"
#include "ua/history.h"
#include "sip/stack.h"
#include "ua/siplog.h"

#include "sip/tls.h"

G_BEGIN_DECLS

/* The phone: one SIP stack bound to a local address, the accounts (each
 * registering on its own), the calls (a GListModel of SpCall), the call
 * history. The GTK window and the headless runner are two front ends
 * over this one object. Main loop only. */

#define SP_PHONE_DEFAULT_RING_TIMEOUT            60 /* s */
#define SP_PHONE_DEFAULT_MAX_INCOMING            8
#define SP_PHONE_DEFAULT_MAX_INCOMING_PER_SOURCE 4

#define SP_TYPE_PHONE (sp_phone_get_type ())
G_DECLARE_FINAL_TYPE (SpPhone, sp_phone, SP, PHONE, GObject)

/* @config_dir holds accounts.ini/passwords.ini, @state_dir the history.
 * Nothing is read or bound until sp_phone_start (). */
SpPhone *sp_phone_new (const char *config_dir, const char *state_dir);

/* Binds UDP and TCP on @host (numeric IPv4/IPv6) and @port (0 picks a
 * free port, the same for both when it can). */
gboolean sp_phone_start (SpPhone *self, const char *host, guint16 port, GError **error);
/* As sp_phone_start, but when another program holds @port (UDP or TCP)
 * it tries the next few ports, then one the system picks, as baresip and
 * Linphone do: the phone works, on a port direct callers must name.
 * Compare sp_phone_get_local_address's port with @port to tell. Other
 * errors (no such local address) are returned as they are. */
gboolean sp_phone_start_any_port (SpPhone *self, const char *host, guint16 port, GError **error);
/* The bound address, "127.0.0.1:5060" / "[::1]:5060", or NULL. */
char *sp_phone_dup_sip_address (SpPhone *self);
/* The host and port we are reachable at (used in Contact and in From of
 * direct calls). FALSE before start. */
gboolean sp_phone_get_local_address (SpPhone *self, const char **host, guint16 *port);

/* ---- SIP over TLS (ua/phone-tls.h) ----
 * The TLS listener's port: -1 (default) the SIP port + 1, 0 none. Read
 * by sp_phone_start. Its certificate is made on first start in the
 * config directory (tls-certificate.pem, tls-key.pem, mode 0600). */
void sp_phone_set_tls_port (SpPhone *self, int port);
/* The port TLS listens on, 0 when it does not. */
guint16 sp_phone_get_tls_port (SpPhone *self);
/* SHA-256 of our certificate ("AB:CD:..."), NULL before start or
 * without a TLS listener. */
const char *sp_phone_get_tls_fingerprint (SpPhone *self);
/* The certificate this phone presents in DTLS-SRTP (media/dtls.h):
 * self-signed ECDSA P-256, made on first use and kept in the config
 * directory (dtls-certificate.pem, dtls-key.pem, 0600) so its fingerprint
 * stays; in memory only without a config directory or when it cannot be
 * written. NULL only if no certificate could be made at all. */
SpSipTlsIdentity *sp_phone_get_dtls_identity (SpPhone *self);
/* Pins @fingerprint for the TLS server @hostport ("host:port" as the
 * account names it), or with @fingerprint NULL the certificate it last
 * presented and we refused as changed. */
gboolean sp_phone_accept_certificate (SpPhone *self, const char *hostport, const char *fingerprint,
                                      GError **error);
/* For this run only, TLS to @hostport must present @fingerprint (what
 * the peer called @who announced about itself, e.g. a nearby phone's
 * DNS-SD record); anything else is refused with a sentence that says
 * so. The pins the user accepted are left as they are, and win: with
 * another certificate pinned for @hostport, TLS there is refused. */
void sp_phone_expect_certificate (SpPhone *self, const char *hostport, const char *fingerprint,
                                  const char *who);

/* Accounts: a GListModel of SpAccount. */
GListModel *sp_phone_get_accounts (SpPhone *self);
/* Loads the saved accounts (replacing the list). */
gboolean sp_phone_load_accounts (SpPhone *self, GError **error);
gboolean sp_phone_save_accounts (SpPhone *self, GError **error);
void sp_phone_add_account (SpPhone *self, SpAccount *account);
void sp_phone_remove_account (SpPhone *self, SpAccount *account);
/* Registers every enabled account with credentials (@account NULL), or
 * one. Progress shows in the account's status property. */
void sp_phone_register (SpPhone *self, SpAccount *account);
/* Sends Expires: 0 for registered accounts (@account NULL = all). */
void sp_phone_unregister (SpPhone *self, SpAccount *account);

/* Calls: a GListModel of SpCall, in creation order. Ended calls leave
 * the list shortly after their "ended" signal. */
GListModel *sp_phone_get_calls (SpPhone *self);
/* Places a call to what the user typed (see sp_target_parse) through
 * @account (NULL: the first registered account for numbers and names,
 * none for addresses). Holds the established call first, if any. */
SpCall *sp_phone_call (SpPhone *self, const char *target, SpAccount *account, GError **error);
SpCall *sp_phone_find_call (SpPhone *self, const char *id);
/* Answers @call and puts every other established call on hold. */
gboolean sp_phone_answer (SpPhone *self, SpCall *call, GError **error);

SpHistory *sp_phone_get_history (SpPhone *self);
/* Every SIP message the phone sent and received (the call-flow ladder);
 * owned by the phone. */
SpSipLog *sp_phone_get_sip_log (SpPhone *self);

/* Hangs every call up and unregisters every account, then calls
 * @callback; gives up waiting after a few seconds. */
void sp_phone_shutdown_async (SpPhone *self, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
gboolean sp_phone_shutdown_finish (SpPhone *self, GAsyncResult *result, GError **error);

/* A filter that sees each incoming request before the phone does: the
 * mini-server sharing the phone's SIP stack. @request returns TRUE when
 * it took the request; @owns_dialog claims dialogs whose ACKs and ACK
 * timeouts the phone must leave alone. NULL removes it. */
typedef struct
{
  gboolean (*request) (SpSipServerTransaction *st, SpSipMessage *request, SpSipDialog *dialog,
                       gpointer user_data);
  gboolean (*owns_dialog) (SpSipDialog *dialog, gpointer user_data);
} SpPhoneRequestFilter;

void sp_phone_set_request_filter (SpPhone *self, const SpPhoneRequestFilter *filter,
                                  gpointer user_data);
/* The office directory with each colleague's state (SpContactList of
 * SpContact, ua/contacts.h); NULL before start. Empty until watched. */
GListModel *sp_phone_get_contacts (SpPhone *self);
/* Subscribes to the directory and states of @account's server (NULL: the
 * first account); FALSE with @error without an account or server. */
gboolean sp_phone_watch_contacts (SpPhone *self, SpAccount *account, GError **error);
void sp_phone_unwatch_contacts (SpPhone *self);
/* The SIP stack, once started (for the server sharing it). */
SpSipStack *sp_phone_get_sip_stack (SpPhone *self);

/* Properties:
 *   "ptime" (uint, ms: 0 = automatic, the default, or 10, 20, 30, 40):
 *       the packet time of calls whose account does not fix one (direct
 *       calls included), offered as a=ptime and a=maxptime
 *   "media-encryption" (string: "preferred", the default, "required" or
 *       "off"): SRTP policy of direct calls (media/offer-answer.h); an
 *       account's calls follow the account's own
 *   "do-not-disturb" (gboolean): answer INVITEs with 486 Busy Here
 *   "display-name", "user" (string): From of direct calls (default
 *       sip:anonymous@our-address, as Yate)
 *   "media-timeout" (uint, s, default 30; 0 = never)
 *   "audio-in", "audio-out" (string): the devices of new calls, named as
 *       sp_audio_device_new_for_name () reads them: a WAV file path, an
 *       ALSA PCM name ("default", "hw:1,0"), or NULL / "null" for silence
 *       / discard
 *   "log-sip" (gboolean): every SIP message sent and received to stderr
 *   "log-sip-raw" (gboolean, default FALSE): the SIP log and "log-sip"
 *       keep credentials (digest responses) instead of masking them
 *   "sip-t1" (uint, ms, default 500): RFC 3261 T1, the round-trip
 *       estimate every SIP retransmission and timeout scales with (an
 *       INVITE nobody answers fails after 64*T1); read by sp_phone_start
 *   "keepalive-interval" (uint, s, default 30; 0 = none): while
 *       registered, OPTIONS over UDP or a CRLF ping over TCP this often
 *   "keepalive-pong-timeout" (uint, ms, default 10000, RFC 5626 4.4.1;
 *       0 = never): a TCP ping with no pong this long means the flow
 *       failed; the connection is closed and the account registers again
 *       on a new one
 *   "ring-timeout" (uint, s, default 60; 0 = until cancelled): an
 *       incoming call not answered this long is refused with 480 and
 *       ends as missed
 *   "max-incoming-calls" (uint, default 8), "max-incoming-calls-per-source"
 *       (uint, default 4): incoming calls at once (ringing or answered),
 *       in all and from one IP address; past them an INVITE gets 503
 *       (in all) or 486 (one address) with Retry-After and no call is
 *       made. A ringing call opens nothing (no RTP socket, no device)
 *       until answered.
 *   "refuse-strangers" (gboolean, default FALSE): answer 403 to INVITEs
 *       from any address but the accounts' registrars and outbound
 *       proxies (direct IP calls are then refused)
 * Registered (and failed) accounts register again when the network
 * changes (GNetworkMonitor) and when the TCP connection to their
 * registrar closes.
 * Signals:
 *   "incoming-call" (SpCall *)
 *   "call-added" (SpCall *), "call-ended" (SpCall *)
 *   "registration-changed" (SpAccount *, guint code): after each
 *       REGISTER outcome (registered, failed, unregistered)
 */

G_END_DECLS
