#pragma once

#include <gio/gio.h>

#include "node/dnssd.h"
#include "server/server.h"
#include "ua/phone.h"

G_BEGIN_DECLS

/* The node: the one core object under both front ends (the GTK window
 * and `--headless`). It owns the SIP transports and stack (through the
 * phone, whose stack the server shares), the phone, the server, the
 * directories their settings live in, the media-address policy and
 * auto-answer. A front end creates one, sets its options, observes the
 * phone's and the server's models and signals and this object's, and
 * sends commands; neither front end touches SIP transactions.
 *
 * The media-address policy: SIP, the phone's RTP and the server's relay
 * all bind the one address given to sp_node_listen, a wildcard
 * (0.0.0.0, ::) included. Each SDP then names the address that the
 * route to its peer leaves from (sip/routecache.h): the phone's own
 * offers and answers, and each leg of a relayed call through the server.
 * The relay is on whatever the bind (unless switched off).
 *
 * Properties: "auto-answer" (gboolean), "auto-answer-delay" (guint s),
 * "server-running" (gboolean, read-only).
 * Signals:
 *   "error" (const char *message): something the node did by itself went
 *     wrong (an automatic answer, saving the server's users); for people.
 *   "server-changed": the server started or stopped. */

#define SP_NODE_DEFAULT_PORT 5060

#define SP_TYPE_NODE (sp_node_get_type ())
G_DECLARE_FINAL_TYPE (SpNode, sp_node, SP, NODE, GObject)

/* @config_dir NULL: $XDG_CONFIG_HOME/softphone for settings and
 * $XDG_STATE_HOME/softphone for state; else both in @config_dir (as the
 * system service's --config-dir). @realm: the server's (NULL:
 * "softphone"). Nothing is bound until sp_node_listen. */
SpNode *sp_node_new (const char *config_dir, const char *realm);

SpPhone *sp_node_get_phone (SpNode *self);
/* The server exists from the start (its users and routes are loaded and
 * can be edited); it serves only between sp_node_start_server and
 * sp_node_stop_server. */
SpServer *sp_node_get_server (SpNode *self);
const char *sp_node_get_config_dir (SpNode *self);
const char *sp_node_get_state_dir (SpNode *self);

/* "ADDR[:PORT]" as --bind takes it: a numeric address, port 5060 when
 * none is given, port 0 allowed (a free one is picked). */
gboolean sp_node_parse_bind (const char *text, char **host, guint16 *port, GError **error);

/* Binds SIP (UDP and TCP) on @host:@port. @keep_port (a server's: phones
 * are configured with it): fail when another program holds the port;
 * otherwise the phone takes the next free one (sp_phone_start_any_port)
 * and sp_node_get_moved_from_port says so. */
gboolean sp_node_listen (SpNode *self, const char *host, guint16 port, gboolean keep_port,
                         GError **error);
/* The port asked for when the phone listens on another one; 0 when it
 * has it, or does not listen. */
guint16 sp_node_get_moved_from_port (SpNode *self);

/* Starts the server on the phone's stack, on its well-known port (an
 * error when the phone had to move), with the relay bound to the same
 * address. */
gboolean sp_node_start_server (SpNode *self, GError **error);
void sp_node_stop_server (SpNode *self);
gboolean sp_node_is_server_running (SpNode *self);

/* Incoming calls are answered after @delay_s while @enabled. */
void sp_node_set_auto_answer (SpNode *self, gboolean enabled, guint delay_s);

/* ---- LAN discovery (DNS-SD, node/dnssd.h) ----
 * While the server runs it is advertised as _sip._udp, _sip._tcp and,
 * with a TLS listener, _sips._tcp under its "server-name" (default
 * "Softphone server on HOST"), TXT txtvers=1, realm=, name= and, with
 * TLS, tls= (its port) and fp= (the certificate's SHA-256
 * fingerprint), unless
 * "advertise-server" is off. While "advertise-phone" is on and the phone
 * listens, the phone is advertised as SP_DNSSD_TYPE_PHONE under its
 * "display-name" (else the user's real name) so colleagues can call it
 * by name, TXT txtvers=1 and, with its TLS listener, tls= and fp= as
 * the server's. Neither is advertised while bound to a loopback address
 * (nothing on the LAN could reach it). Nothing touches Avahi until one
 * of these, or a browser, is needed.
 * Properties: "advertise-server" (gboolean, default TRUE),
 * "server-name" (string), "advertise-phone" (gboolean, default FALSE). */
SpDnssd *sp_node_get_dnssd (SpNode *self);
/* The servers (SP_DNSSD_TYPE_SIP_UDP) and the phones found on the LAN;
 * browsing starts on first use. */
SpDnssdBrowser *sp_node_browse_servers (SpNode *self);
SpDnssdBrowser *sp_node_browse_phones (SpNode *self);
/* The name the phone is advertised under now (after collisions), NULL
 * when it is not. */
const char *sp_node_get_advertised_phone_name (SpNode *self);
/* Calls the nearby phone @service (a direct call, no account). A phone
 * advertises its TLS port and certificate as a server does (tls=, fp=;
 * ours do while they have a TLS listener): one that does is called at
 * sip:ADDRESS:TLSPORT;transport=tls and must present that certificate,
 * or the call ends before any SIP is sent, its reason saying the peer
 * is not the phone it announced (nothing falls back to plaintext); one
 * that advertises no TLS is called over UDP at its address and port. A
 * bad tls= or fp= is an error, not "no TLS". */
SpCall *sp_node_call_nearby (SpNode *self, SpDnssdService *service, GError **error);
/* TRUE with the port when the found server advertised TLS (a valid
 * tls= and fp=): an account with it then uses TLS to that port (the
 * headless use-server, the account dialog's found servers), its
 * certificate pinned by sp_node_pin_found_server. */
gboolean sp_node_found_server_tls (SpDnssdService *service, guint16 *tls_port);
/* Pins the TLS certificate fingerprint a found server advertised (TXT
 * fp= for the port in tls=) as sp_phone_accept_certificate does, so a
 * TLS account with it checks the server it found; TRUE with nothing to
 * do when it advertised none; FALSE when tls= or fp= does not parse. */
gboolean sp_node_pin_found_server (SpNode *self, SpDnssdService *service, GError **error);

/* Hangs up and unregisters (the phone bounds the wait), stops the web
 * console and the server, then calls @callback. */
void sp_node_shutdown_async (SpNode *self, GAsyncReadyCallback callback, gpointer user_data);
gboolean sp_node_shutdown_finish (SpNode *self, GAsyncResult *result, GError **error);

G_END_DECLS
