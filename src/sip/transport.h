#pragma once

#include <gio/gio.h>

#include "sip/message.h"
#include "sip/routecache.h"

G_BEGIN_DECLS

/* SIP transports (RFC 3261 section 18, RFC 3581) on GIO sockets and the
 * GLib main loop: UDP and TCP, IPv4 and IPv6, several bindings at once.
 * Addresses are numeric IP addresses; there is no DNS here. */

typedef enum
{
  SP_SIP_TRANSPORT_UDP,
  SP_SIP_TRANSPORT_TCP,
  SP_SIP_TRANSPORT_TLS, /* TCP with TLS on it (RFC 3261 section 26, sip/tls.h) */
} SpSipTransportKind;

/* Upper case, as in Via: "UDP", "TCP", "TLS". */
const char *sp_sip_transport_kind_to_string (SpSipTransportKind kind);
/* Case-insensitive; FALSE for anything but UDP, TCP and TLS. */
gboolean sp_sip_transport_kind_from_string (const char *name, SpSipTransportKind *kind);
/* TRUE for TCP and TLS: reliable, framed by Content-Length. */
gboolean sp_sip_transport_kind_is_stream (SpSipTransportKind kind);
/* 5061 for TLS, 5060 otherwise. */
guint16 sp_sip_transport_kind_default_port (SpSipTransportKind kind);

/* A transport address: where a message goes to or came from. A plain
 * value, copied by assignment. @binding is the 1-based index of the local
 * binding a message came in on (0 = any); a response sent to that peer
 * leaves from the same binding. @local is our address a message from the
 * peer arrived on when the binding is a wildcard (0.0.0.0, ::): IP_PKTINFO
 * for UDP, the accepted connection's address for TCP. A message sent to
 * a peer with @local set leaves from that address (and names it in Via),
 * so a phone that dialled one of several addresses of ours hears back
 * from the one it dialled. "" when unknown or not a wildcard. An IPv4
 * peer of a dual-stack "::" binding is named as IPv4 in both. */
typedef struct
{
  SpSipTransportKind kind;
  char host[48]; /* numeric, IPv6 without brackets */
  guint16 port;
  guint binding;
  char local[48]; /* numeric, "" = the binding's address / the route's */
} SpSipPeer;

void sp_sip_peer_init (SpSipPeer *peer, SpSipTransportKind kind, const char *host, guint16 port);
/* "udp:127.0.0.1:5060", "tcp:[::1]:5060", "tls:127.0.0.1:5061" */
char *sp_sip_peer_to_string (const SpSipPeer *peer);
gboolean sp_sip_peer_equal (const SpSipPeer *a, const SpSipPeer *b);
/* "1.2.3.4:5060" or "[::1]:5060" */
char *sp_sip_host_port_to_string (const char *host, guint16 port);

/* Counters for monitoring and tests. */
typedef struct
{
  guint64 messages_received;
  guint64 messages_sent;
  guint64 parse_failures;        /* datagrams or stream data that failed to parse */
  guint64 bad_requests_answered; /* of those, answered with 4xx */
  guint64 dropped;               /* discarded without an answer */
  guint64 partial_on_close;      /* TCP connections closed with half a message */
  guint64 send_failures;
  guint64 tcp_connections_opened;
  guint64 tcp_connections_closed;
  guint64 udp_to_tcp_switches; /* 18.1.1: large requests moved to TCP */
  guint64 keepalives_received; /* CRLF runs (pings and pongs) */
  guint64 responses_misrouted; /* 18.1.2: top Via sent-by not ours */
} SpSipTransportStats;

#define SP_TYPE_SIP_TRANSPORT (sp_sip_transport_get_type ())
G_DECLARE_FINAL_TYPE (SpSipTransport, sp_sip_transport, SP, SIP_TRANSPORT, GObject)

/* A message that parsed. Requests already carry received/rport on their
 * top Via (18.2.1, RFC 3581). */
typedef void (*SpSipTransportReceiveFunc) (SpSipTransport *transport, SpSipMessage *msg,
                                           const SpSipPeer *source, gpointer user_data);
/* A message accepted by sp_sip_transport_send() that could not be
 * delivered after all (TCP connect refused, connection lost before it
 * was written). Called from the main loop, never from inside send(). */
typedef void (*SpSipTransportErrorFunc) (SpSipTransport *transport, SpSipMessage *msg,
                                         const GError *error, gpointer user_data);

SpSipTransport *sp_sip_transport_new (void);
void sp_sip_transport_set_handlers (SpSipTransport *transport, SpSipTransportReceiveFunc receive,
                                    SpSipTransportErrorFunc error, gpointer user_data);

/* Binds a UDP socket or a TCP or TLS listener (TLS needs
 * sp_sip_transport_set_tls_identity first). Port 0 picks a free port; @bound
 * (may be NULL) receives the address actually bound, with its binding
 * index. "::" is dual-stack (IPv6 and IPv4 peers, as users expect of
 * "all addresses"); another IPv6 address is IPv6 only. */
gboolean sp_sip_transport_listen (SpSipTransport *transport, SpSipTransportKind kind,
                                  const char *host, guint16 port, SpSipPeer *bound, GError **error);
/* The @n-th binding (0-based), FALSE past the end. */
gboolean sp_sip_transport_get_binding (SpSipTransport *transport, guint n, SpSipPeer *bound);

/* Sends @msg.
 * Request: to @dest. The top Via's transport and sent-by are set from
 * the socket that sends and ";rport" is added (RFC 3581). A UDP request
 * larger than 1300 bytes goes over TCP when a TCP binding of the same
 * family exists (18.1.1), and falls back to UDP if the connection is
 * refused. @used (may be NULL) receives the transport kind chosen.
 * Response: per 18.2.2 from the top Via (received, rport, sent-by); over
 * TCP on the connection to @dest (the request's source) while it is open.
 * FALSE with @error when it fails at once; later failures go to the error
 * handler. */
gboolean sp_sip_transport_send (SpSipTransport *transport, SpSipMessage *msg, const SpSipPeer *dest,
                                SpSipTransportKind *used, GError **error);

/* TCP connections idle (nothing sent or received) this long are closed
 * (default SP_SIP_TRANSPORT_DEFAULT_IDLE_MS), unless a holder keeps one. */
#define SP_SIP_TRANSPORT_DEFAULT_IDLE_MS (120 * 1000)
void sp_sip_transport_set_idle_timeout (SpSipTransport *transport, guint ms);
guint sp_sip_transport_get_n_connections (SpSipTransport *transport);
/* Caps on TCP connections, accepted and opened, in total and per remote
 * address (0: none). Past one, an accepted connection is closed at once
 * and a connect fails (the request gets a local 503). */
#define SP_SIP_DEFAULT_MAX_TCP_CONNECTIONS 512
#define SP_SIP_DEFAULT_MAX_TCP_PER_ADDRESS 32
void sp_sip_transport_set_tcp_limits (SpSipTransport *transport, guint max_connections,
                                      guint max_per_address);
const SpSipTransportStats *sp_sip_transport_get_stats (SpSipTransport *transport);
/* Where a wildcard binding's traffic to a peer leaves from (routecache.h):
 * the Via of requests sent on 0.0.0.0 or ::, and the stack's
 * media-address policy. */
SpSipRouteCache *sp_sip_transport_get_route_cache (SpSipTransport *transport);

/* UDP datagrams to numeric addresses are written by a thread of their
 * own (sip/sender.h) instead of the main loop: a server under load gets
 * a second core. A send failure is then counted in the stats, not
 * reported to the sender. Off by default. */
void sp_sip_transport_set_send_thread (SpSipTransport *transport, gboolean enabled);
gboolean sp_sip_transport_get_send_thread (SpSipTransport *transport);

/* ---- observing the wire ----
 *
 * "message" signal: every SIP message the transport sends or receives,
 * including what the layers above send on their own (automatic ACKs,
 * 100 Trying, 481, OPTIONS answers, retransmissions) and datagrams or
 * stream frames that failed to parse (@msg NULL):
 *   void handler (SpSipTransport *transport, const SpSipTransportEvent *event,
 *                 gpointer user_data)
 * Emitted on the main loop, synchronously from inside send / receive:
 * handlers observe (copy what they keep) and must not send or close
 * anything from inside. Nothing is formatted or copied for it while no
 * handler is connected.
 *
 * "keepalive" signal: a run of bare CRLFs received between messages
 * (RFC 5626 section 4.4.1):
 *   void handler (SpSipTransport *transport, const SpSipPeer *remote,
 *                 gboolean ping, gpointer user_data)
 * @ping is TRUE for a double CRLF (a ping; on TCP the transport has
 * already answered it with a single CRLF pong), FALSE for a single CRLF
 * (a pong to our ping).
 *
 * "connection-closed" signal: a TCP connection went away (closed by the
 * peer, failed, idle); RFC 5626 calls this a flow failure:
 *   void handler (SpSipTransport *transport, const SpSipPeer *remote,
 *                 gpointer user_data) */

typedef enum
{
  SP_SIP_DIRECTION_RECEIVED,
  SP_SIP_DIRECTION_SENT,
} SpSipDirection;

typedef struct
{
  SpSipDirection direction;
  SpSipPeer local;    /* our end: the binding's address (0.0.0.0 / :: on a
                       * wildcard binding for received datagrams) */
  SpSipPeer remote;   /* the other end; kind = the transport used */
  const guint8 *data; /* the bytes on the wire (not NUL-terminated) */
  gsize len;
  SpSipMessage *msg; /* parsed, NULL when it failed to parse */
} SpSipTransportEvent;

/* Sends @data as it is to @dest: over TCP on the connection to @dest
 * (opened when there is none), over UDP as one datagram. For RFC 5626
 * CRLF keep-alives: sp_sip_transport_send_raw (t, flow, "\r\n\r\n", 4, &e). */
gboolean sp_sip_transport_send_raw (SpSipTransport *transport, const SpSipPeer *dest,
                                    const guint8 *data, gsize len, GError **error);
/* TRUE while a TCP connection to @dest is open (or opening). */
gboolean sp_sip_transport_has_connection (SpSipTransport *transport, const SpSipPeer *dest);
/* Keeps the TCP/TLS connection to @peer open past the idle timeout for
 * @seconds more on behalf of @holder (e.g. the address of record whose
 * registration came on it: a registrar keeps a phone's flow while its
 * registration lives, as OpenSIPS' tcp_persistent_flag does). Calling
 * again with the same @holder moves its deadline; @seconds 0 releases
 * it, and the idle timeout counts from then. The connection is held
 * while any holder's deadline lies ahead; after the last one it closes
 * once idle. At most SP_SIP_TRANSPORT_MAX_HOLDS holders per connection.
 * FALSE when there is no such connection (or no room for @holder). */
#define SP_SIP_TRANSPORT_MAX_HOLDS 32
gboolean sp_sip_transport_hold_connection (SpSipTransport *transport, const SpSipPeer *peer,
                                           const char *holder, guint seconds);
/* Closes the TCP connection to @dest (a flow that stopped answering
 * keep-alives), emitting "connection-closed"; FALSE when there is none. */
gboolean sp_sip_transport_close_connection (SpSipTransport *transport, const SpSipPeer *dest);

/* Formats a Via value: @via's parameters except those listed in @drop
 * (NULL-terminated, may be NULL), with the given sent-protocol transport
 * and sent-by, then @extra (";name=value..." or NULL) appended. */
char *sp_sip_via_format (const SpSipVia *via, const char *transport, const char *host, guint16 port,
                         const char *const *drop, const char *extra);
/* Replaces the top Via of @msg by @value. */
gboolean sp_sip_via_replace_top (SpSipMessage *msg, const char *value, GError **error);

/* ---- TLS ----
 *
 * TLS connections are TCP connections with a GnuTLS session on them
 * (sip/tls.h): they share the TCP caps, idle close, keep-alives and
 * connection reuse, keyed apart from plain TCP so a TLS destination is
 * never served by a plaintext connection. A handshake that has not
 * finished after SP_SIP_TLS_HANDSHAKE_TIMEOUT_MS closes the connection. */
#define SP_SIP_TLS_HANDSHAKE_TIMEOUT_MS 10000

typedef struct _SpSipTlsIdentity SpSipTlsIdentity;
typedef struct _SpSipTlsSession SpSipTlsSession;

/* The certificate TLS listeners present. Takes a reference. */
void sp_sip_transport_set_tls_identity (SpSipTransport *transport, SpSipTlsIdentity *identity);
SpSipTlsIdentity *sp_sip_transport_get_tls_identity (SpSipTransport *transport);

/* Decides whether a server we connected to over TLS is the one we meant
 * (after its handshake, before anything is sent): FALSE with @error
 * closes the connection and fails what waited for it with @error.
 * @server_name is the name the request was addressed to when known
 * (sp_sip_transport_set_tls_server_name), else NULL. Without a verify
 * function only certificates that validate against the system's CAs
 * for the peer's address are accepted. */
typedef gboolean (*SpSipTransportTlsVerifyFunc) (SpSipTransport *transport, const SpSipPeer *peer,
                                                 const char *server_name, SpSipTlsSession *session,
                                                 GError **error, gpointer user_data);
void sp_sip_transport_set_tls_verify (SpSipTransport *transport, SpSipTransportTlsVerifyFunc verify,
                                      gpointer user_data);
/* The host name behind a numeric TLS destination (an account's server
 * "pbx.example.com" resolved to @peer): sent as SNI and given to the
 * verify function. NULL forgets it. Bounded: the oldest names go. */
void sp_sip_transport_set_tls_server_name (SpSipTransport *transport, const SpSipPeer *peer,
                                           const char *name);

G_END_DECLS
