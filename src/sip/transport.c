#include "sip/transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "i18n.h"

#include "sip/routecache.h"
#include "sip/sender.h"
#include "sip/sip-private.h"
#include "sip/sockaddr.h"
#include "sip/tls.h"

#define UDP_MTU_LIMIT        1300 /* 18.1.1 */
#define MAX_DATAGRAM         65535
#define DATAGRAMS_PER_WAKEUP 64
#define TCP_READ_CHUNK       16384
#define MAX_OUTBUF           (1024 * 1024)
/* A server takes bursts of thousands of datagrams a second; the
 * default 208 KiB buffer overflows long before the loop is busy. Not
 * much more, though: a request that waits in the buffer longer than T1
 * (500 ms) is retransmitted, and a deep queue turned an overload into a
 * retransmission storm that outlived it (8 MiB held seconds of work). */
#define UDP_RCVBUF (1024 * 1024)

typedef struct
{
  SpSipTransport *transport;
  guint index; /* 1-based */
  SpSipTransportKind kind;
  GSocket *socket;
  GSource *source;
  SpSipPeer local;
  int family;          /* AF_INET, AF_INET6 */
  gboolean wildcard;   /* 0.0.0.0, ::: each datagram's local address is asked (IP_PKTINFO) */
  gboolean dual_stack; /* ::: IPv4 peers too, as ::ffff:a.b.c.d on the socket */
} Binding;

typedef struct
{
  SpSipMessage *msg;
  gboolean fallback_udp; /* 18.1.1: resend over UDP if the connection fails */
  SpSipPeer udp_dest;
} Queued;

typedef struct
{
  SpSipTransport *transport;
  GSocket *socket;
  GSource *source;
  GIOCondition watching;
  SpSipPeer peer; /* remote, kind TCP */
  char *key;
  guint binding;
  SpSipFramer *framer;
  GByteArray *outbuf;
  gboolean connecting;
  gint64 last_activity;
  GPtrArray *queued;    /* Queued, sent before the connection was up */
  SpSipTlsSession *tls; /* TLS connections only */
  gboolean handshaking; /* TLS: connected, handshake running (connecting stays TRUE) */
  gboolean tls_client;
  guint handshake_timer;
  /* holder name -> monotonic deadline (us): registrations that came on
   * this connection keep it open past the idle timeout (RFC 5626 flow
   * reuse for phones that send no keep-alives). NULL when none. */
  GHashTable *holds;
} Connection;

struct _SpSipTransport
{
  GObject parent_instance;
  GPtrArray *bindings;     /* Binding */
  GHashTable *connections; /* "host:port" -> Connection */
  /* udp_fallback () is sending: a large request that TCP could not
   * carry goes by UDP this time, not to TCP again (which looped). */
  gboolean in_udp_fallback;
  SpSipTransportReceiveFunc receive;
  SpSipTransportErrorFunc error;
  gpointer user_data;
  guint idle_ms;
  guint max_tcp;             /* 0: no cap */
  guint max_tcp_per_address; /* 0: no cap */
  guint idle_source;
  guint8 *buffer;
  SpSipTransportStats stats;
  SpSipSender *sender;     /* NULL: UDP written on the main loop */
  SpSipRouteCache *routes; /* where a wildcard binding's traffic leaves from */
  gboolean batching;       /* answering received datagrams: wake the sender once */
  guint64 send_failures_before;
  SpSipTlsIdentity *tls_identity;
  SpSipTransportTlsVerifyFunc tls_verify;
  gpointer tls_verify_data;
  GHashTable *tls_names; /* "host:port" -> server name, capped */
};

G_DEFINE_FINAL_TYPE (SpSipTransport, sp_sip_transport, G_TYPE_OBJECT)

enum
{
  SIGNAL_MESSAGE,
  SIGNAL_KEEPALIVE,
  SIGNAL_CONNECTION_CLOSED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static void connection_close (Connection *conn, const GError *error);
static gboolean connection_flush (Connection *conn, GError **error);
static void connection_watch (Connection *conn, GIOCondition condition);
static void update_idle_check (SpSipTransport *self);

/* ---- small value helpers ---- */

const char *
sp_sip_transport_kind_to_string (SpSipTransportKind kind)
{
  return kind == SP_SIP_TRANSPORT_TLS ? "TLS" : kind == SP_SIP_TRANSPORT_TCP ? "TCP" : "UDP";
}

gboolean
sp_sip_transport_kind_is_stream (SpSipTransportKind kind)
{
  return kind == SP_SIP_TRANSPORT_TCP || kind == SP_SIP_TRANSPORT_TLS;
}

guint16
sp_sip_transport_kind_default_port (SpSipTransportKind kind)
{
  return kind == SP_SIP_TRANSPORT_TLS ? 5061 : 5060;
}

gboolean
sp_sip_transport_kind_from_string (const char *name, SpSipTransportKind *kind)
{
  if (name != NULL && g_ascii_strcasecmp (name, "UDP") == 0)
    *kind = SP_SIP_TRANSPORT_UDP;
  else if (name != NULL && g_ascii_strcasecmp (name, "TCP") == 0)
    *kind = SP_SIP_TRANSPORT_TCP;
  else if (name != NULL && g_ascii_strcasecmp (name, "TLS") == 0)
    *kind = SP_SIP_TRANSPORT_TLS;
  else
    return FALSE;
  return TRUE;
}

void
sp_sip_peer_init (SpSipPeer *peer, SpSipTransportKind kind, const char *host, guint16 port)
{
  memset (peer, 0, sizeof *peer);
  peer->kind = kind;
  g_strlcpy (peer->host, host ? host : "", sizeof peer->host);
  peer->port = port;
}

char *
sp_sip_host_port_to_string (const char *host, guint16 port)
{
  gboolean v6 = strchr (host, ':') != NULL;
  char buf[SP_SIP_UINT_BUF];

  if (port == 0)
    return v6 ? g_strconcat ("[", host, "]", NULL) : g_strdup (host);
  return g_strconcat (v6 ? "[" : "", host, v6 ? "]:" : ":", sp_sip_uint_to_text (buf, port), NULL);
}

char *
sp_sip_peer_to_string (const SpSipPeer *peer)
{
  g_autofree char *hp = sp_sip_host_port_to_string (peer->host, peer->port);
  g_autofree char *kind = g_ascii_strdown (sp_sip_transport_kind_to_string (peer->kind), -1);
  return g_strdup_printf ("%s:%s", kind, hp);
}

gboolean
sp_sip_peer_equal (const SpSipPeer *a, const SpSipPeer *b)
{
  return a->kind == b->kind && a->port == b->port && g_ascii_strcasecmp (a->host, b->host) == 0;
}

/* The numeric host and port of a socket address, without the GObjects
 * GSocket would build per datagram; an IPv4 peer of a dual-stack socket
 * as IPv4 (sockaddr.h). */
static gboolean
peer_from_sockaddr (const struct sockaddr_storage *sa, SpSipTransportKind kind, SpSipPeer *peer)
{
  char host[SP_SIP_HOST_BUF];
  guint16 port;

  if (!sp_sip_sockaddr_to_host (sa, host, &port))
    return FALSE;
  sp_sip_peer_init (peer, kind, host, port);
  return TRUE;
}

static gboolean
peer_from_address (GSocketAddress *address, SpSipTransportKind kind, SpSipPeer *peer)
{
  struct sockaddr_storage sa;

  if (!G_IS_INET_SOCKET_ADDRESS (address) ||
      !g_socket_address_to_native (address, &sa, sizeof sa, NULL))
    return FALSE;
  return peer_from_sockaddr (&sa, kind, peer);
}

static GSocketAddress *
address_from_host (const char *host, guint16 port, GError **error)
{
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (host);

  if (addr == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("“%s” is not a numeric IP address"), host);
      return NULL;
    }
  return g_inet_socket_address_new (addr, port);
}

static GSocketFamily
host_family (const char *host)
{
  return strchr (host, ':') ? G_SOCKET_FAMILY_IPV6 : G_SOCKET_FAMILY_IPV4;
}

/* ---- Via ---- */

char *
sp_sip_via_format (const SpSipVia *via, const char *transport, const char *host, guint16 port,
                   const char *const *drop, const char *extra)
{
  GString *s = g_string_new ("SIP/2.0/");
  g_autofree char *hp = sp_sip_host_port_to_string (host, port);

  g_string_append_printf (s, "%s %s", transport, hp);
  for (guint i = 0; via && via->params && i < via->params->len; i++)
    {
      const SpSipParam *p = g_ptr_array_index (via->params, i);
      if (drop && g_strv_contains (drop, p->name))
        continue;
      if (p->value)
        g_string_append_printf (s, ";%s=%s", p->name, p->value);
      else
        g_string_append_printf (s, ";%s", p->name);
    }
  if (extra)
    g_string_append (s, extra);
  return g_string_free (s, FALSE);
}

gboolean
sp_sip_via_replace_top (SpSipMessage *msg, const char *value, GError **error)
{
  /* In place: every received request is stamped, so this is hot. */
  return sp_sip_message_replace_top_via (msg, value, error);
}

/* 18.2.1 and RFC 3581: note where a request really came from. */
static void
stamp_received (SpSipMessage *msg, const SpSipPeer *source)
{
  const SpSipVia *via = sp_sip_message_get_via (msg);
  static const char *const drop[] = { "received", "rport", NULL };
  char extra[sizeof source->host + 32];
  g_autofree char *value = NULL;
  gboolean add_received;

  if (via == NULL || via->host == NULL)
    return;
  /* A received= the sender wrote itself would aim our responses at a
   * third host: replaced by the real source too. */
  add_received =
      via->rport >= 0 || via->received != NULL || g_ascii_strcasecmp (via->host, source->host) != 0;
  if (!add_received)
    return;
  if (via->rport >= 0)
    g_snprintf (extra, sizeof extra, ";received=%s;rport=%u", source->host, source->port);
  else
    g_snprintf (extra, sizeof extra, ";received=%s", source->host);
  value = sp_sip_via_format (via, via->transport ? via->transport : "UDP", via->host, via->port,
                             drop, extra);
  if (!sp_sip_via_replace_top (msg, value, NULL))
    g_debug ("could not stamp Via with received/rport");
}

/* ---- observing ---- */

/* Checked before anything is built for the "message" signal, so an
 * unobserved transport pays one lookup per message. */
static gboolean
observed (SpSipTransport *self)
{
  return g_signal_has_handler_pending (self, signals[SIGNAL_MESSAGE], 0, FALSE);
}

static void
emit_message (SpSipTransport *self, SpSipDirection direction, const SpSipPeer *local,
              const SpSipPeer *remote, const guint8 *data, gsize len, SpSipMessage *msg)
{
  SpSipTransportEvent event = { 0 };

  event.direction = direction;
  event.local = *local;
  event.remote = *remote;
  event.local.kind = remote->kind;
  /* On a wildcard binding: the address it arrived on or left from. */
  if (remote->local[0] != '\0')
    g_strlcpy (event.local.host, remote->local, sizeof event.local.host);
  event.data = data;
  event.len = len;
  event.msg = msg;
  g_signal_emit (self, signals[SIGNAL_MESSAGE], 0, &event);
}

static void
connection_local (Connection *conn, SpSipPeer *local)
{
  g_autoptr (GSocketAddress) address = g_socket_get_local_address (conn->socket, NULL);

  if (address == NULL || !peer_from_address (address, conn->peer.kind, local))
    sp_sip_peer_init (local, conn->peer.kind, "", 0);
  local->binding = conn->binding;
}

static void
emit_connection_message (Connection *conn, SpSipDirection direction, const guint8 *data, gsize len,
                         SpSipMessage *msg)
{
  SpSipPeer local;

  connection_local (conn, &local);
  emit_message (conn->transport, direction, &local, &conn->peer, data, len, msg);
}

/* ---- receiving ---- */

/* 18.1.2: a response whose top Via sent-by is not one of our bindings
 * was not meant for us. A Via without a port matches on the host alone
 * (TCP requests sent without a listener carry no port); a wildcard
 * binding matches any host. */
static gboolean
via_is_ours (SpSipTransport *self, const SpSipVia *via)
{
  if (via == NULL || via->host == NULL)
    return FALSE;
  for (guint i = 0; i < self->bindings->len; i++)
    {
      Binding *b = g_ptr_array_index (self->bindings, i);
      if ((b->wildcard || g_ascii_strcasecmp (b->local.host, via->host) == 0) &&
          (via->port == 0 || via->port == b->local.port))
        return TRUE;
    }
  return FALSE;
}

static void
deliver (SpSipTransport *self, SpSipMessage *msg, const SpSipPeer *source)
{
  if (!sp_sip_message_is_request (msg) && !via_is_ours (self, sp_sip_message_get_via (msg)))
    {
      g_debug ("response from %s for a Via that is not ours: dropped", source->host);
      self->stats.responses_misrouted++;
      self->stats.dropped++;
      return;
    }
  self->stats.messages_received++;
  if (sp_sip_message_is_request (msg))
    stamp_received (msg, source);
  if (self->receive)
    self->receive (self, msg, source, self->user_data);
}

/* A message that failed to parse: answer it when enough of a request is
 * left to address the answer to, else drop it. */
static void
reject_unparsable (SpSipTransport *self, SpSipMessage *partial, const GError *error,
                   const SpSipPeer *source)
{
  g_autoptr (SpSipMessage) response = NULL;
  g_autoptr (GError) send_error = NULL;
  guint status;

  self->stats.parse_failures++;
  if (partial == NULL || !sp_sip_message_is_request (partial) ||
      sp_sip_message_get_method_id (partial) == SP_SIP_METHOD_ACK ||
      sp_sip_message_get_via (partial) == NULL)
    {
      self->stats.dropped++;
      return;
    }
  stamp_received (partial, source);
  status = sp_sip_error_to_status (error);
  if (status < 400 || status > 699)
    status = 400;
  response = sp_sip_message_new_response_to (partial, status, error->message, NULL);
  if (response == NULL || !sp_sip_transport_send (self, response, source, NULL, &send_error))
    {
      self->stats.dropped++;
      return;
    }
  self->stats.bad_requests_answered++;
}

static gboolean
is_keepalive (const guint8 *data, gsize len)
{
  for (gsize i = 0; i < len; i++)
    if (data[i] != '\r' && data[i] != '\n')
      return FALSE;
  return TRUE;
}

static void
handle_datagram (SpSipTransport *self, Binding *binding, const guint8 *data, gsize len,
                 const SpSipPeer *source)
{
  g_autoptr (SpSipMessage) msg = NULL;
  g_autoptr (SpSipMessage) partial = NULL;
  g_autoptr (GError) error = NULL;

  if (is_keepalive (data, len))
    {
      /* No pong on UDP: RFC 5626 uses STUN there; CRLFs only keep NATs open. */
      self->stats.keepalives_received++;
      g_signal_emit (self, signals[SIGNAL_KEEPALIVE], 0, source, len >= 4);
      return;
    }
  msg = sp_sip_message_parse (data, len, SP_SIP_FRAMING_DATAGRAM, &partial, &error);
  if (observed (self))
    emit_message (self, SP_SIP_DIRECTION_RECEIVED, &binding->local, source, data, len, msg);
  if (msg == NULL)
    {
      g_debug ("unparsable datagram from %s: %s", source->host,
               error ? error->message : "no error");
      if (error == NULL)
        error = g_error_new_literal (SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST, "Bad Request");
      reject_unparsable (self, partial, error, source);
      return;
    }
  deliver (self, msg, source);
}

/* One datagram into the transport's buffer: its length, or -1 with
 * errno. On a wildcard binding the local address it arrived on goes to
 * @source->local (IP_PKTINFO / IPV6_PKTINFO). */
static gssize
udp_receive_one (SpSipTransport *self, Binding *binding, struct sockaddr_storage *from,
                 char local[SP_SIP_HOST_BUF])
{
  union
  {
    struct cmsghdr align;
    guint8 bytes[SP_SIP_PKTINFO_SPACE + 64];
  } control;
  struct iovec iov = { self->buffer, MAX_DATAGRAM };
  struct msghdr msg = { 0 };
  gssize len;

  local[0] = '\0';
  msg.msg_name = from;
  msg.msg_namelen = sizeof *from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (binding->wildcard)
    {
      msg.msg_control = control.bytes;
      msg.msg_controllen = sizeof control.bytes;
    }
  len = recvmsg (g_socket_get_fd (binding->socket), &msg, MSG_DONTWAIT);
  if (len >= 0 && binding->wildcard && !sp_sip_pktinfo_parse (&msg, local))
    local[0] = '\0';
  return len;
}

static gboolean
udp_readable (GSocket *socket, GIOCondition condition, gpointer data)
{
  Binding *binding = data;
  SpSipTransport *self = binding->transport;

  /* Drain up to a bound per wakeup: one poll round per datagram was the
   * first limit under load, and the bound keeps a flood from starving
   * the rest of the loop. */
  self->batching = TRUE;
  for (guint n = 0; n < DATAGRAMS_PER_WAKEUP; n++)
    {
      struct sockaddr_storage from;
      char local[SP_SIP_HOST_BUF];
      SpSipPeer source;
      gssize len;

      len = udp_receive_one (self, binding, &from, local);
      if (len < 0)
        {
          if (errno == EINTR)
            continue;
          /* ICMP errors surface here as ECONNREFUSED and the like: the
           * socket is still fine. */
          if (errno != EAGAIN && errno != EWOULDBLOCK)
            g_debug ("UDP receive: %s", g_strerror (errno));
          break;
        }
      if (!peer_from_sockaddr (&from, SP_SIP_TRANSPORT_UDP, &source))
        {
          self->stats.dropped++;
          continue;
        }
      source.binding = binding->index;
      g_strlcpy (source.local, local, sizeof source.local);
      handle_datagram (self, binding, self->buffer, (gsize) len, &source);
    }
  self->batching = FALSE;
  if (self->sender != NULL)
    sp_sip_sender_kick (self->sender);
  return G_SOURCE_CONTINUE;
}

/* ---- TCP connections ---- */

/* TLS connections are keyed apart: a TLS destination must never be
 * served by a plaintext connection to the same address. */
static char *
connection_key (SpSipTransportKind kind, const char *host, guint16 port)
{
  g_autofree char *hp = sp_sip_host_port_to_string (host, port);

  return kind == SP_SIP_TRANSPORT_TLS ? g_strconcat ("tls:", hp, NULL) : g_steal_pointer (&hp);
}

static void
queued_free (gpointer data)
{
  Queued *q = data;
  sp_sip_message_unref (q->msg);
  g_free (q);
}

static void
connection_free (gpointer data)
{
  Connection *conn = data;

  if (conn->source)
    {
      g_source_destroy (conn->source);
      g_source_unref (conn->source);
    }
  if (conn->handshake_timer)
    g_source_remove (conn->handshake_timer);
  sp_sip_tls_session_free (conn->tls);
  if (conn->socket)
    {
      g_socket_close (conn->socket, NULL);
      g_object_unref (conn->socket);
    }
  sp_sip_framer_free (conn->framer);
  g_clear_pointer (&conn->holds, g_hash_table_unref);
  g_byte_array_unref (conn->outbuf);
  g_ptr_array_unref (conn->queued);
  g_free (conn->key);
  g_free (conn);
}

static gboolean connection_ready (GSocket *socket, GIOCondition condition, gpointer data);

static Connection *
connection_new (SpSipTransport *self, GSocket *socket, const SpSipPeer *peer, guint binding)
{
  Connection *conn = g_new0 (Connection, 1);

  conn->transport = self;
  conn->socket = socket;
  conn->peer = *peer;
  if (conn->peer.kind != SP_SIP_TRANSPORT_TLS)
    conn->peer.kind = SP_SIP_TRANSPORT_TCP;
  conn->peer.binding = binding;
  conn->binding = binding;
  conn->key = connection_key (conn->peer.kind, peer->host, peer->port);
  conn->framer = sp_sip_framer_new ();
  conn->outbuf = g_byte_array_new ();
  conn->queued = g_ptr_array_new_with_free_func (queued_free);
  conn->last_activity = g_get_monotonic_time ();
  g_socket_set_blocking (socket, FALSE);
  self->stats.tcp_connections_opened++;
  /* One connection per peer: a new one replaces an old one. */
  {
    Connection *old = g_hash_table_lookup (self->connections, conn->key);
    if (old != NULL)
      connection_close (old, NULL);
  }
  g_hash_table_replace (self->connections, g_strdup (conn->key), conn);
  update_idle_check (self);
  connection_watch (conn, G_IO_IN);
  return conn;
}

static void
connection_watch (Connection *conn, GIOCondition condition)
{
  condition |= G_IO_HUP | G_IO_ERR;
  if (conn->source && conn->watching == condition)
    return;
  if (conn->source)
    {
      g_source_destroy (conn->source);
      g_source_unref (conn->source);
    }
  conn->watching = condition;
  conn->source = g_socket_create_source (conn->socket, condition, NULL);
  g_source_set_callback (conn->source, (GSourceFunc) (void (*) (void)) connection_ready, conn,
                         NULL);
  g_source_attach (conn->source, NULL);
}

static void
udp_fallback (SpSipTransport *self, Queued *q)
{
  g_autoptr (GError) error = NULL;
  const SpSipVia *via = sp_sip_message_get_via (q->msg);
  static const char *const drop[] = { "received", NULL };
  g_autofree char *value = NULL;
  gboolean ok;

  if (via != NULL)
    {
      value = sp_sip_via_format (via, "UDP", via->host, via->port, drop, NULL);
      sp_sip_via_replace_top (q->msg, value, NULL);
    }
  self->in_udp_fallback = TRUE;
  ok = sp_sip_transport_send (self, q->msg, &q->udp_dest, NULL, &error);
  self->in_udp_fallback = FALSE;
  if (!ok && self->error)
    self->error (self, q->msg, error, self->user_data);
}

/* Removes @conn from the table and frees it; messages still waiting for
 * the connection are reported as failed (or moved back to UDP). */
static void
connection_close (Connection *conn, const GError *error)
{
  SpSipTransport *self = conn->transport;
  g_autoptr (GPtrArray) queued = g_steal_pointer (&conn->queued);

  conn->queued = g_ptr_array_new_with_free_func (queued_free);
  SpSipPeer remote = conn->peer;

  if (sp_sip_framer_get_pending (conn->framer) > 0)
    self->stats.partial_on_close++;
  self->stats.tcp_connections_closed++;
  if (g_hash_table_lookup (self->connections, conn->key) == conn)
    g_hash_table_remove (self->connections, conn->key); /* frees conn */
  else
    connection_free (conn);
  update_idle_check (self);
  g_signal_emit (self, signals[SIGNAL_CONNECTION_CLOSED], 0, &remote);
  for (guint i = 0; i < queued->len; i++)
    {
      Queued *q = g_ptr_array_index (queued, i);
      if (q->fallback_udp)
        udp_fallback (self, q);
      else if (self->error)
        {
          g_autoptr (GError) e =
              error ? g_error_copy (error)
                    : g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CLOSED, "connection closed");
          self->stats.send_failures++;
          self->error (self, q->msg, e, self->user_data);
        }
    }
}

/* CRLF runs the framer skipped (RFC 5626 4.4.1): a double CRLF is a
 * ping, answered with a single CRLF pong; a single one is a pong. FALSE
 * when the connection had to be closed. */
static gboolean
connection_keepalive (Connection *conn)
{
  SpSipTransport *self = conn->transport;
  gsize n = sp_sip_framer_take_crlf (conn->framer);
  g_autoptr (GError) error = NULL;
  SpSipPeer remote = conn->peer;

  if (n == 0)
    return TRUE;
  self->stats.keepalives_received++;
  if (n >= 4)
    {
      g_byte_array_append (conn->outbuf, (const guint8 *) "\r\n", 2);
      if (!connection_flush (conn, &error))
        {
          connection_close (conn, error);
          return FALSE;
        }
    }
  g_signal_emit (self, signals[SIGNAL_KEEPALIVE], 0, &remote, n >= 4);
  return TRUE;
}

static gboolean
connection_read (Connection *conn)
{
  SpSipTransport *self = conn->transport;
  g_autoptr (GError) error = NULL;
  gssize len;

  len = conn->tls
            ? sp_sip_tls_session_recv (conn->tls, self->buffer, TCP_READ_CHUNK, &error)
            : g_socket_receive (conn->socket, (gchar *) self->buffer, TCP_READ_CHUNK, NULL, &error);
  if (len < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    return TRUE;
  if (len <= 0)
    {
      if (sp_sip_framer_get_pending (conn->framer) > 0)
        g_debug ("connection %s closed with %" G_GSIZE_FORMAT " bytes of a message", conn->key,
                 sp_sip_framer_get_pending (conn->framer));
      connection_close (conn, error);
      return FALSE;
    }
  conn->last_activity = g_get_monotonic_time ();
  if (!sp_sip_framer_push (conn->framer, self->buffer, (gsize) len, &error))
    {
      self->stats.parse_failures++;
      connection_close (conn, error);
      return FALSE;
    }
  for (guint n = 0; n < 256; n++)
    {
      g_autoptr (GError) perr = NULL;
      g_autoptr (SpSipMessage) partial = NULL;
      g_autoptr (GBytes) raw = NULL;
      g_autoptr (SpSipMessage) msg = NULL;
      g_autofree char *key = NULL;
      SpSipPeer source = conn->peer;

      msg = sp_sip_framer_pop_frame (conn->framer, observed (self) ? &raw : NULL, &partial, &perr);
      if (!connection_keepalive (conn))
        return FALSE;
      if (msg == NULL && perr == NULL)
        break;
      if (raw != NULL)
        emit_connection_message (conn, SP_SIP_DIRECTION_RECEIVED, g_bytes_get_data (raw, NULL),
                                 g_bytes_get_size (raw), msg);
      if (msg == NULL && sp_sip_framer_is_broken (conn->framer))
        {
          /* The stream cannot be framed any more. */
          self->stats.parse_failures++;
          connection_close (conn, perr);
          return FALSE;
        }
      /* The table may drop @conn while the message is handled; keep the
       * key alive to check. */
      key = g_strdup (conn->key);
      if (msg == NULL)
        reject_unparsable (self, partial, perr, &source); /* framing still in step */
      else
        deliver (self, msg, &source);
      if (g_hash_table_lookup (self->connections, key) != conn)
        return FALSE;
    }
  return TRUE;
}

/* ---- TLS connections ----
 *
 * A TLS connection is a TCP connection whose bytes go through a GnuTLS
 * session (sip/tls.h). While its handshake runs it counts as connecting:
 * messages wait in its buffer, and a handshake that does not finish in
 * time closes it. */

static const char *
tls_name_for (SpSipTransport *self, const SpSipPeer *peer)
{
  g_autofree char *key = NULL;

  if (self->tls_names == NULL)
    return NULL;
  key = sp_sip_host_port_to_string (peer->host, peer->port);
  return g_hash_table_lookup (self->tls_names, key);
}

static gboolean
connection_tls_timeout (gpointer data)
{
  Connection *conn = data;
  g_autoptr (GError) error = g_error_new (
      G_IO_ERROR, G_IO_ERROR_TIMED_OUT, _ ("the TLS handshake with %s did not finish"), conn->key);

  conn->handshake_timer = 0;
  connection_close (conn, error);
  return G_SOURCE_REMOVE;
}

static gboolean
connection_tls_start_session (Connection *conn, GError **error)
{
  SpSipTransport *self = conn->transport;
  const char *name = conn->tls_client ? tls_name_for (self, &conn->peer) : NULL;

  conn->tls = sp_sip_tls_session_new (g_socket_get_fd (conn->socket), !conn->tls_client,
                                      self->tls_identity, name, error);
  if (conn->tls == NULL)
    return FALSE;
  conn->handshaking = TRUE;
  conn->handshake_timer =
      g_timeout_add (SP_SIP_TLS_HANDSHAKE_TIMEOUT_MS, connection_tls_timeout, conn);
  return TRUE;
}

/* The TCP connection is up: start the handshake. FALSE when @conn was
 * closed. */
static gboolean
connection_tls_start (Connection *conn)
{
  g_autoptr (GError) error = NULL;

  if (connection_tls_start_session (conn, &error))
    return TRUE;
  connection_close (conn, error);
  return FALSE;
}

static void
connection_tls_accepted (Connection *conn)
{
  conn->connecting = TRUE;
  conn->tls_client = FALSE;
  connection_tls_start (conn);
}

static gboolean
connection_tls_verify (Connection *conn, GError **error)
{
  SpSipTransport *self = conn->transport;
  const char *name = tls_name_for (self, &conn->peer);

  if (self->tls_verify != NULL)
    return self->tls_verify (self, &conn->peer, name, conn->tls, error, self->tls_verify_data);
  if (sp_sip_tls_session_peer_is_trusted (conn->tls, name != NULL ? name : conn->peer.host))
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
               _ ("the TLS certificate of %s is not trusted"), conn->key);
  return FALSE;
}

/* One handshake step. FALSE when @conn was closed. */
static gboolean
connection_tls_step (Connection *conn)
{
  g_autoptr (GError) error = NULL;

  switch (sp_sip_tls_session_handshake (conn->tls, &error))
    {
      case SP_SIP_TLS_AGAIN:
        connection_watch (conn, sp_sip_tls_session_wants_write (conn->tls) ? G_IO_OUT : G_IO_IN);
        return TRUE;
      case SP_SIP_TLS_FAILED:
        g_debug ("TLS with %s: %s", conn->key, error->message);
        connection_close (conn, error);
        return FALSE;
      case SP_SIP_TLS_DONE:
      default:
        break;
    }
  g_clear_handle_id (&conn->handshake_timer, g_source_remove);
  conn->handshaking = FALSE;
  if (conn->tls_client && !connection_tls_verify (conn, &error))
    {
      g_debug ("TLS with %s refused: %s", conn->key, error->message);
      connection_close (conn, error);
      return FALSE;
    }
  conn->connecting = FALSE;
  g_ptr_array_set_size (conn->queued, 0);
  conn->last_activity = g_get_monotonic_time ();
  if (!connection_flush (conn, &error))
    {
      connection_close (conn, error);
      return FALSE;
    }
  return sp_sip_tls_session_pending (conn->tls) == 0 || connection_read (conn);
}

static gboolean
connection_ready (GSocket *socket, GIOCondition condition, gpointer data)
{
  Connection *conn = data;
  g_autoptr (GError) error = NULL;

  if (conn->connecting && !conn->handshaking && (condition & (G_IO_OUT | G_IO_ERR | G_IO_HUP)))
    {
      if (!g_socket_check_connect_result (socket, &error))
        {
          g_debug ("TCP connect to %s failed: %s", conn->key, error->message);
          connection_close (conn, error);
          return G_SOURCE_REMOVE;
        }
      if (conn->peer.kind == SP_SIP_TRANSPORT_TLS && !connection_tls_start (conn))
        return G_SOURCE_REMOVE;
      if (!conn->handshaking)
        {
          conn->connecting = FALSE;
          g_ptr_array_set_size (conn->queued, 0);
        }
    }
  if (conn->handshaking)
    return connection_tls_step (conn) && conn->source == g_main_current_source ()
               ? G_SOURCE_CONTINUE
               : G_SOURCE_REMOVE;
  if (condition & G_IO_OUT)
    {
      if (!connection_flush (conn, &error))
        {
          connection_close (conn, error);
          return G_SOURCE_REMOVE;
        }
    }
  if (condition & (G_IO_IN | G_IO_HUP | G_IO_ERR))
    {
      if (!connection_read (conn))
        return G_SOURCE_REMOVE;
      /* GnuTLS may hold decrypted bytes the socket no longer shows. */
      for (guint n = 0; n < 64 && conn->tls && sp_sip_tls_session_pending (conn->tls) > 0; n++)
        if (!connection_read (conn))
          return G_SOURCE_REMOVE;
    }
  /* connection_watch may have replaced the source; keep this one only if
   * it is still current. */
  return conn->source == g_main_current_source () ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gboolean
connection_flush (Connection *conn, GError **error)
{
  if (conn->handshaking)
    return TRUE; /* sent when the handshake is done; its watch stays */
  while (conn->outbuf->len > 0 && !conn->connecting)
    {
      g_autoptr (GError) local = NULL;
      gssize n = conn->tls ? sp_sip_tls_session_send (conn->tls, conn->outbuf->data,
                                                      conn->outbuf->len, &local)
                           : g_socket_send (conn->socket, (const gchar *) conn->outbuf->data,
                                            conn->outbuf->len, NULL, &local);
      if (n < 0)
        {
          if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            break;
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      g_byte_array_remove_range (conn->outbuf, 0, (guint) n);
      conn->last_activity = g_get_monotonic_time ();
    }
  connection_watch (conn, conn->outbuf->len > 0 || conn->connecting ? G_IO_IN | G_IO_OUT : G_IO_IN);
  return TRUE;
}

/* The caps on TCP connections: each holds a descriptor and up to
 * 1 MiB of output, so one address must not take them all. */
static gboolean
tcp_room_for (SpSipTransport *self, const char *host)
{
  GHashTableIter iter;
  gpointer value;
  guint from_host = 0;

  if (self->max_tcp > 0 && g_hash_table_size (self->connections) >= self->max_tcp)
    return FALSE;
  if (self->max_tcp_per_address == 0)
    return TRUE;
  g_hash_table_iter_init (&iter, self->connections);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (g_ascii_strcasecmp (((Connection *) value)->peer.host, host) == 0 &&
        ++from_host >= self->max_tcp_per_address)
      return FALSE;
  return TRUE;
}

void
sp_sip_transport_set_tcp_limits (SpSipTransport *self, guint max_connections, guint max_per_address)
{
  g_return_if_fail (SP_IS_SIP_TRANSPORT (self));
  self->max_tcp = max_connections;
  self->max_tcp_per_address = max_per_address;
}

/* On a wildcard listener: which of our addresses the peer connected to,
 * so that its requests carry it (the Contact names it, sip/stack.c). */
static void
accepted_local (GSocket *client, SpSipPeer *peer)
{
  g_autoptr (GSocketAddress) address = g_socket_get_local_address (client, NULL);
  SpSipPeer local;

  if (address != NULL && peer_from_address (address, SP_SIP_TRANSPORT_TCP, &local))
    g_strlcpy (peer->local, local.host, sizeof peer->local);
}

static gboolean
tcp_acceptable (GSocket *socket, GIOCondition condition, gpointer data)
{
  Binding *binding = data;
  SpSipTransport *self = binding->transport;

  for (guint n = 0; n < 16; n++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GSocketAddress) remote = NULL;
      GSocket *client = g_socket_accept (socket, NULL, &error);
      SpSipPeer peer;

      if (client == NULL)
        break;
      remote = g_socket_get_remote_address (client, NULL);
      if (remote == NULL || !peer_from_address (remote, binding->kind, &peer) ||
          !tcp_room_for (self, peer.host))
        {
          self->stats.dropped++;
          g_socket_close (client, NULL);
          g_object_unref (client);
          continue;
        }
      if (binding->wildcard)
        accepted_local (client, &peer);
      if (binding->kind == SP_SIP_TRANSPORT_TLS)
        connection_tls_accepted (connection_new (self, client, &peer, binding->index));
      else
        connection_new (self, client, &peer, binding->index);
    }
  return G_SOURCE_CONTINUE;
}

/* TRUE while a hold on @conn has not expired; drops expired holds. */
static gboolean
connection_is_held (Connection *conn, gint64 now)
{
  GHashTableIter iter;
  gpointer value;
  gboolean held = FALSE;

  if (conn->holds == NULL)
    return FALSE;
  g_hash_table_iter_init (&iter, conn->holds);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      if (*(gint64 *) value > now)
        held = TRUE;
      else
        g_hash_table_iter_remove (&iter);
    }
  return held;
}

static gboolean
idle_check (gpointer data)
{
  SpSipTransport *self = data;
  gint64 now = g_get_monotonic_time ();
  g_autoptr (GPtrArray) idle = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->connections);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Connection *conn = value;
      if (now - conn->last_activity >= (gint64) self->idle_ms * 1000 && conn->outbuf->len == 0 &&
          !connection_is_held (conn, now))
        g_ptr_array_add (idle, conn);
    }
  for (guint i = 0; i < idle->len; i++)
    connection_close (g_ptr_array_index (idle, i), NULL);
  /* connection_close stopped this source with the last connection. */
  return self->idle_source != 0 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* The idle check runs only while there are connections: a phone or a
 * server with none (UDP only, or nobody connected) has no periodic
 * wake-up at all (issue 15: idle CPU zero). */
static void
update_idle_check (SpSipTransport *self)
{
  gboolean wanted = g_hash_table_size (self->connections) > 0;

  if (wanted && self->idle_source == 0)
    self->idle_source = g_timeout_add (MAX (self->idle_ms / 4, 10), idle_check, self);
  else if (!wanted && self->idle_source != 0)
    g_clear_handle_id (&self->idle_source, g_source_remove);
}

static void
restart_idle_check (SpSipTransport *self)
{
  g_clear_handle_id (&self->idle_source, g_source_remove);
  update_idle_check (self);
}

/* ---- object ---- */

static void
binding_free (gpointer data)
{
  Binding *b = data;

  if (b->source)
    {
      g_source_destroy (b->source);
      g_source_unref (b->source);
    }
  g_socket_close (b->socket, NULL);
  g_object_unref (b->socket);
  g_free (b);
}

static void
sp_sip_transport_finalize (GObject *object)
{
  SpSipTransport *self = SP_SIP_TRANSPORT (object);

  if (self->idle_source)
    g_source_remove (self->idle_source);
  /* Before the sockets close: the writer may still use them. */
  g_clear_pointer (&self->sender, sp_sip_sender_free);
  g_hash_table_unref (self->connections);
  g_ptr_array_unref (self->bindings);
  g_free (self->buffer);
  sp_sip_route_cache_free (self->routes);
  sp_sip_tls_identity_unref (self->tls_identity);
  g_clear_pointer (&self->tls_names, g_hash_table_unref);
  G_OBJECT_CLASS (sp_sip_transport_parent_class)->finalize (object);
}

static void
sp_sip_transport_class_init (SpSipTransportClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sp_sip_transport_finalize;

  signals[SIGNAL_MESSAGE] = g_signal_new ("message", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
  signals[SIGNAL_KEEPALIVE] =
      g_signal_new ("keepalive", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 2, G_TYPE_POINTER, G_TYPE_BOOLEAN);
  signals[SIGNAL_CONNECTION_CLOSED] =
      g_signal_new ("connection-closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                    NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
}

static void
sp_sip_transport_init (SpSipTransport *self)
{
  self->bindings = g_ptr_array_new_with_free_func (binding_free);
  self->connections = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, connection_free);
  self->buffer = g_malloc (MAX_DATAGRAM + 1);
  self->routes = sp_sip_route_cache_new ();
  self->idle_ms = SP_SIP_TRANSPORT_DEFAULT_IDLE_MS;
  self->max_tcp = SP_SIP_DEFAULT_MAX_TCP_CONNECTIONS;
  self->max_tcp_per_address = SP_SIP_DEFAULT_MAX_TCP_PER_ADDRESS;
}

SpSipTransport *
sp_sip_transport_new (void)
{
  return g_object_new (SP_TYPE_SIP_TRANSPORT, NULL);
}

void
sp_sip_transport_set_handlers (SpSipTransport *self, SpSipTransportReceiveFunc receive,
                               SpSipTransportErrorFunc error, gpointer user_data)
{
  self->receive = receive;
  self->error = error;
  self->user_data = user_data;
}

void
sp_sip_transport_set_idle_timeout (SpSipTransport *self, guint ms)
{
  self->idle_ms = MAX (ms, 1);
  restart_idle_check (self);
}

guint
sp_sip_transport_get_n_connections (SpSipTransport *self)
{
  return g_hash_table_size (self->connections);
}

SpSipRouteCache *
sp_sip_transport_get_route_cache (SpSipTransport *self)
{
  g_return_val_if_fail (SP_IS_SIP_TRANSPORT (self), NULL);
  return self->routes;
}

const SpSipTransportStats *
sp_sip_transport_get_stats (SpSipTransport *self)
{
  if (self->sender != NULL)
    self->stats.send_failures =
        self->send_failures_before + sp_sip_sender_get_failures (self->sender);
  return &self->stats;
}

void
sp_sip_transport_set_send_thread (SpSipTransport *self, gboolean enabled)
{
  g_return_if_fail (SP_IS_SIP_TRANSPORT (self));
  if (enabled == (self->sender != NULL))
    return;
  if (enabled)
    {
      self->send_failures_before = self->stats.send_failures;
      self->sender = sp_sip_sender_new ();
    }
  else
    {
      sp_sip_transport_get_stats (self);
      g_clear_pointer (&self->sender, sp_sip_sender_free);
    }
}

gboolean
sp_sip_transport_get_send_thread (SpSipTransport *self)
{
  return self->sender != NULL;
}

/* SO_RCVBUFFORCE passes net.core.rmem_max when we may; otherwise the
 * kernel caps SO_RCVBUF there. Either way a smaller buffer still works. */
static void
grow_receive_buffer (GSocket *socket)
{
  int fd = g_socket_get_fd (socket);
  int size = UDP_RCVBUF;

  if (setsockopt (fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
    (void) setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

static gboolean
is_any_address (GSocketAddress *address)
{
  return g_inet_address_get_is_any (
      g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address)));
}

gboolean
sp_sip_transport_listen (SpSipTransport *self, SpSipTransportKind kind, const char *host,
                         guint16 port, SpSipPeer *bound, GError **error)
{
  g_autoptr (GSocketAddress) address = address_from_host (host, port, error);
  g_autoptr (GSocketAddress) local = NULL;
  g_autoptr (GSocket) socket = NULL;
  gboolean tcp = sp_sip_transport_kind_is_stream (kind);
  Binding *binding;

  if (address == NULL)
    return FALSE;
  if (kind == SP_SIP_TRANSPORT_TLS && self->tls_identity == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                           _ ("a TLS listener needs a certificate"));
      return FALSE;
    }
  socket = g_socket_new (g_socket_address_get_family (address),
                         tcp ? G_SOCKET_TYPE_STREAM : G_SOCKET_TYPE_DATAGRAM,
                         tcp ? G_SOCKET_PROTOCOL_TCP : G_SOCKET_PROTOCOL_UDP, error);
  if (socket == NULL)
    return FALSE;
  g_socket_set_blocking (socket, FALSE);
  /* "::" is every address, IPv4 ones too, as users expect of a wildcard;
   * another IPv6 address is IPv6 only. */
  if (g_socket_address_get_family (address) == G_SOCKET_FAMILY_IPV6)
    g_socket_set_option (socket, IPPROTO_IPV6, IPV6_V6ONLY, !is_any_address (address), NULL);
  if (!g_socket_bind (socket, address, tcp, error))
    return FALSE;
  if (!tcp)
    grow_receive_buffer (socket);
  if (tcp && !g_socket_listen (socket, error))
    return FALSE;
  local = g_socket_get_local_address (socket, error);
  if (local == NULL)
    return FALSE;

  binding = g_new0 (Binding, 1);
  binding->transport = self;
  binding->kind = kind;
  binding->socket = g_steal_pointer (&socket);
  peer_from_address (local, kind, &binding->local);
  binding->family =
      g_socket_address_get_family (local) == G_SOCKET_FAMILY_IPV6 ? AF_INET6 : AF_INET;
  binding->wildcard = is_any_address (local);
  binding->dual_stack = binding->wildcard && binding->family == AF_INET6;
  if (binding->wildcard && !tcp)
    sp_sip_pktinfo_enable (g_socket_get_fd (binding->socket), binding->family);
  g_ptr_array_add (self->bindings, binding);
  binding->index = self->bindings->len;
  binding->local.binding = binding->index;
  binding->source = g_socket_create_source (binding->socket, G_IO_IN, NULL);
  g_source_set_callback (binding->source,
                         (GSourceFunc) (void (*) (void)) (tcp ? tcp_acceptable : udp_readable),
                         binding, NULL);
  g_source_attach (binding->source, NULL);
  if (bound)
    *bound = binding->local;
  return TRUE;
}

gboolean
sp_sip_transport_get_binding (SpSipTransport *self, guint n, SpSipPeer *bound)
{
  Binding *b;

  if (n >= self->bindings->len)
    return FALSE;
  b = g_ptr_array_index (self->bindings, n);
  *bound = b->local;
  return TRUE;
}

/* ---- sending ---- */

/* Whether @b can send to a host of @family: its own, and IPv4 for a
 * dual-stack "::". */
static gboolean
binding_reaches (const Binding *b, GSocketFamily family)
{
  return host_family (b->local.host) == family || (b->dual_stack && family == G_SOCKET_FAMILY_IPV4);
}

static Binding *
find_binding (SpSipTransport *self, SpSipTransportKind kind, const SpSipPeer *dest)
{
  GSocketFamily family = host_family (dest->host);
  Binding *fallback = NULL;
  Binding *dual = NULL;

  if (dest->binding > 0 && dest->binding <= self->bindings->len)
    {
      Binding *b = g_ptr_array_index (self->bindings, dest->binding - 1);
      /* A binding that cannot reach @dest (a stale or foreign index):
       * fall through to the search. */
      if (!binding_reaches (b, family))
        b = NULL;
      else if (b->kind == kind)
        return b;
      /* Same address, other kind: prefer the binding on that address. */
      for (guint i = 0; b != NULL && i < self->bindings->len; i++)
        {
          Binding *o = g_ptr_array_index (self->bindings, i);
          if (o->kind == kind && g_strcmp0 (o->local.host, b->local.host) == 0)
            return o;
        }
    }
  /* Its own family first, a dual-stack "::" for IPv4 last. */
  for (guint i = 0; i < self->bindings->len; i++)
    {
      Binding *b = g_ptr_array_index (self->bindings, i);
      if (b->kind != kind || !binding_reaches (b, family))
        continue;
      if (host_family (b->local.host) != family)
        dual = dual ? dual : b;
      else if (!b->wildcard)
        return b;
      else
        fallback = fallback ? fallback : b;
    }
  return fallback ? fallback : dual;
}

/* Whether @local is an address a datagram to @dest may leave from: of
 * @dest's family (an IPv4 peer on "::" leaves from an IPv4 address). */
static gboolean
local_fits (const char *local, const SpSipPeer *dest)
{
  return local[0] != '\0' && host_family (local) == host_family (dest->host);
}

/* The address a wildcard-bound socket sends from towards @dest: the one
 * @dest reached us on when known (dest->local), else the route cache's
 * answer (routecache.h), so a server on 0.0.0.0 does not open a probe
 * socket per request it sends. */
static gboolean
route_source (SpSipTransport *self, const SpSipPeer *dest, char *host, gsize size)
{
  g_autofree char *local = NULL;

  if (local_fits (dest->local, dest))
    {
      g_strlcpy (host, dest->local, size);
      return TRUE;
    }
  local = sp_sip_route_cache_lookup (self->routes, dest->host);

  if (local == NULL)
    return FALSE;
  g_strlcpy (host, local, size);
  return TRUE;
}

static gboolean
stamp_via (SpSipMessage *msg, SpSipTransportKind kind, const char *host, guint16 port,
           GError **error)
{
  const SpSipVia *via = sp_sip_message_get_via (msg);
  static const char *const drop[] = { "rport", "received", NULL };
  g_autofree char *value = NULL;

  if (via == NULL)
    {
      g_set_error_literal (error, SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST, "request has no Via");
      return FALSE;
    }
  value =
      sp_sip_via_format (via, sp_sip_transport_kind_to_string (kind), host, port, drop, ";rport");
  return sp_sip_via_replace_top (msg, value, error);
}

/* One datagram from @binding's socket, leaving from @control's address
 * when there is one; a source address the kernel refuses (gone from the
 * machine since it was learnt) is dropped for the route's. */
static gssize
udp_write (int fd, const guint8 *data, gsize len, const struct sockaddr_storage *to,
           socklen_t to_len, void *control, gsize control_len)
{
  struct iovec iov = { (void *) data, len };
  struct msghdr msg = { 0 };
  gssize n;

  msg.msg_name = (void *) to;
  msg.msg_namelen = to_len;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control_len > 0 ? control : NULL;
  msg.msg_controllen = control_len;
  do
    n = sendmsg (fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0 && control_len > 0 && (errno == EINVAL || errno == EADDRNOTAVAIL))
    return udp_write (fd, data, len, to, to_len, NULL, 0);
  return n;
}

/* @from: the local address to leave from on a wildcard binding (NULL or
 * "": the kernel's choice by route). */
static gboolean
udp_send_bytes (SpSipTransport *self, Binding *binding, GBytes *bytes, const char *host,
                guint16 port, const char *from, SpSipMessage *msg, GError **error)
{
  struct sockaddr_storage to;
  socklen_t to_len;
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  union
  {
    struct cmsghdr align;
    guint8 bytes[SP_SIP_PKTINFO_SPACE];
  } control;
  gsize control_len = 0;
  int fd = g_socket_get_fd (binding->socket);
  SpSipPeer remote;

  sp_sip_peer_init (&remote, SP_SIP_TRANSPORT_UDP, host, port);
  remote.binding = binding->index;
  if (binding->wildcard && from != NULL && local_fits (from, &remote))
    {
      control_len = sp_sip_pktinfo_build (from, control.bytes);
      if (control_len > 0)
        g_strlcpy (remote.local, from, sizeof remote.local);
    }
  if (!sp_sip_sockaddr_from_host (host, port, binding->family, &to, &to_len))
    {
      /* Not plain numeric (a scoped IPv6 address, say): GIO knows more. */
      g_autoptr (GSocketAddress) address = address_from_host (host, port, error);

      if (address == NULL ||
          g_socket_send_to (binding->socket, address, (const gchar *) data, len, NULL, error) < 0)
        return FALSE;
    }
  else if (self->sender == NULL ||
           !sp_sip_sender_push_from (self->sender, fd, (const struct sockaddr *) &to, to_len,
                                     control.bytes, control_len, bytes, !self->batching))
    {
      if (udp_write (fd, data, len, &to, to_len, control.bytes, control_len) < 0)
        {
          int saved = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       _ ("Error sending message: %s"), g_strerror (saved));
          return FALSE;
        }
    }
  self->stats.messages_sent++;
  if (msg != NULL && observed (self))
    emit_message (self, SP_SIP_DIRECTION_SENT, &binding->local, &remote, data, len, msg);
  return TRUE;
}

static Connection *
tcp_connect (SpSipTransport *self, const SpSipPeer *dest, GError **error)
{
  g_autoptr (GSocketAddress) to = address_from_host (dest->host, dest->port, error);
  g_autoptr (GError) local_error = NULL;
  GSocket *socket;
  Connection *conn;
  Binding *listener;

  if (to == NULL)
    return NULL;
  if (!tcp_room_for (self, dest->host))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES,
                           _ ("too many TCP connections"));
      return NULL;
    }
  socket = g_socket_new (g_socket_address_get_family (to), G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return NULL;
  g_socket_set_blocking (socket, FALSE);
  /* Leave from the listener's address so the peer sees who we are; on a
   * wildcard, from the address the peer knows us by when known. */
  listener = find_binding (
      self, dest->kind == SP_SIP_TRANSPORT_TLS ? SP_SIP_TRANSPORT_TLS : SP_SIP_TRANSPORT_TCP, dest);
  if (listener && (!listener->wildcard || local_fits (dest->local, dest)))
    {
      g_autoptr (GSocketAddress) from =
          address_from_host (listener->wildcard ? dest->local : listener->local.host, 0, NULL);
      if (from)
        g_socket_bind (socket, from, FALSE, NULL);
    }
  if (!g_socket_connect (socket, to, NULL, &local_error) &&
      !g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_PENDING))
    {
      g_object_unref (socket);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  conn = connection_new (self, socket, dest, listener ? listener->index : 0);
  conn->connecting = local_error != NULL;
  conn->tls_client = TRUE;
  if (!conn->connecting && conn->peer.kind == SP_SIP_TRANSPORT_TLS)
    {
      /* Connected at once (loopback): the handshake starts on the next
       * wakeup, with the connection already in the table. */
      conn->connecting = TRUE;
      conn->handshaking = TRUE;
      if (!connection_tls_start_session (conn, error))
        {
          connection_close (conn, NULL);
          return NULL;
        }
    }
  connection_watch (conn, G_IO_IN | G_IO_OUT);
  return conn;
}

static gboolean
tcp_send_message (SpSipTransport *self, Connection *conn, SpSipMessage *msg, gboolean fallback_udp,
                  const SpSipPeer *udp_dest, GError **error)
{
  g_autoptr (GBytes) bytes = sp_sip_message_serialize (msg);
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  if (conn->outbuf->len + len > MAX_OUTBUF)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, _ ("TCP send queue full"));
      return FALSE;
    }
  g_byte_array_append (conn->outbuf, data, (guint) len);
  if (conn->connecting)
    {
      Queued *q = g_new0 (Queued, 1);
      q->msg = sp_sip_message_ref (msg);
      q->fallback_udp = fallback_udp;
      if (udp_dest)
        q->udp_dest = *udp_dest;
      g_ptr_array_add (conn->queued, q);
    }
  self->stats.messages_sent++;
  if (observed (self))
    emit_connection_message (conn, SP_SIP_DIRECTION_SENT, data, len, msg);
  return connection_flush (conn, error);
}

static gboolean
send_request (SpSipTransport *self, SpSipMessage *msg, const SpSipPeer *dest,
              SpSipTransportKind *used, GError **error)
{
  SpSipTransportKind kind = dest->kind;
  gboolean switched = FALSE;
  Binding *binding;
  char host[48];
  guint16 port;

  if (kind == SP_SIP_TRANSPORT_UDP)
    {
      g_autoptr (GBytes) probe = sp_sip_message_serialize (msg);
      /* Counting the Via growth (rport, longer sent-by) as slack. */
      if (!self->in_udp_fallback && g_bytes_get_size (probe) + 32 > UDP_MTU_LIMIT &&
          find_binding (self, SP_SIP_TRANSPORT_TCP, dest) != NULL)
        {
          kind = SP_SIP_TRANSPORT_TCP;
          switched = TRUE;
          self->stats.udp_to_tcp_switches++;
        }
    }
  binding = find_binding (self, kind, dest);
  if (binding == NULL && kind == SP_SIP_TRANSPORT_UDP)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _ ("no UDP binding for %s"),
                   dest->host);
      return FALSE;
    }
  if (binding != NULL)
    {
      g_strlcpy (host, binding->local.host, sizeof host);
      port = binding->local.port;
      if (binding->wildcard && !route_source (self, dest, host, sizeof host))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE, _ ("no route to %s"),
                       dest->host);
          return FALSE;
        }
    }
  else
    {
      /* TCP without a listener: the connection's own port is all we have. */
      if (!route_source (self, dest, host, sizeof host))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE, _ ("no route to %s"),
                       dest->host);
          return FALSE;
        }
      port = 0;
    }
  if (used)
    *used = kind;

  if (kind == SP_SIP_TRANSPORT_UDP)
    {
      g_autoptr (GBytes) bytes = NULL;
      if (!stamp_via (msg, kind, host, port, error))
        return FALSE;
      bytes = sp_sip_message_serialize (msg);
      /* On a wildcard binding the Via's address is where it leaves from. */
      return udp_send_bytes (self, binding, bytes, dest->host, dest->port ? dest->port : 5060,
                             binding->wildcard ? host : NULL, msg, error);
    }
  else
    {
      guint16 dest_port = dest->port ? dest->port : sp_sip_transport_kind_default_port (kind);
      g_autofree char *key = connection_key (kind, dest->host, dest_port);
      Connection *conn = g_hash_table_lookup (self->connections, key);
      SpSipPeer tcp_dest = *dest;

      tcp_dest.kind = kind;
      tcp_dest.port = dest_port;
      if (conn == NULL)
        conn = tcp_connect (self, &tcp_dest, error);
      if (conn == NULL)
        return FALSE;
      if (!stamp_via (msg, kind, host, port, error))
        return FALSE;
      return tcp_send_message (self, conn, msg, switched, dest, error);
    }
}

static gboolean
send_response (SpSipTransport *self, SpSipMessage *msg, const SpSipPeer *dest, GError **error)
{
  const SpSipVia *via = sp_sip_message_get_via (msg);
  SpSipTransportKind kind;
  const char *host;
  guint16 port;
  g_autoptr (GBytes) bytes = NULL;
  SpSipPeer target;
  Binding *binding;

  if (via == NULL || via->host == NULL)
    {
      g_set_error_literal (error, SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST, "response has no Via");
      return FALSE;
    }
  if (!sp_sip_transport_kind_from_string (via->transport, &kind))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "transport %s not supported",
                   via->transport ? via->transport : "(none)");
      return FALSE;
    }
  /* 18.2.2 with RFC 3581: received (and rport), then sent-by. The
   * receive path stamps received whenever sent-by is not the packet's
   * source, so this is where the request came from. maddr is NOT
   * followed: one spoofed request naming a third host there would turn
   * us into a reflector (every response and its retransmissions sent
   * to a victim), and no phone or server of ours needs multicast. */
  host = via->received ? via->received : via->host;
  port = via->port ? via->port : sp_sip_transport_kind_default_port (kind);
  if (kind == SP_SIP_TRANSPORT_UDP && via->rport > 0)
    port = (guint16) via->rport;
  sp_sip_peer_init (&target, kind, host, port);
  if (dest)
    target.binding = dest->binding;

  if (sp_sip_transport_kind_is_stream (kind))
    {
      Connection *conn = NULL;
      if (dest)
        {
          g_autofree char *key = connection_key (kind, dest->host, dest->port);
          conn = g_hash_table_lookup (self->connections, key);
        }
      if (conn == NULL)
        {
          g_autofree char *key = connection_key (kind, target.host, target.port);
          conn = g_hash_table_lookup (self->connections, key);
        }
      if (conn == NULL)
        conn = tcp_connect (self, &target, error);
      if (conn == NULL)
        return FALSE;
      return tcp_send_message (self, conn, msg, FALSE, NULL, error);
    }

  binding = find_binding (self, SP_SIP_TRANSPORT_UDP, &target);
  if (binding == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _ ("no UDP binding for %s"), host);
      return FALSE;
    }
  bytes = sp_sip_message_serialize (msg);
  /* From the address the request arrived on: a phone that dialled one of
   * several addresses of ours hears back from that one. */
  return udp_send_bytes (self, binding, bytes, target.host, target.port, dest ? dest->local : NULL,
                         msg, error);
}

gboolean
sp_sip_transport_send (SpSipTransport *self, SpSipMessage *msg, const SpSipPeer *dest,
                       SpSipTransportKind *used, GError **error)
{
  gboolean ok;

  g_return_val_if_fail (SP_IS_SIP_TRANSPORT (self), FALSE);
  if (sp_sip_message_is_request (msg))
    {
      g_return_val_if_fail (dest != NULL, FALSE);
      ok = send_request (self, msg, dest, used, error);
    }
  else
    {
      const SpSipVia *via = sp_sip_message_get_via (msg);
      if (used && (via == NULL || !sp_sip_transport_kind_from_string (via->transport, used)))
        *used = SP_SIP_TRANSPORT_UDP;
      ok = send_response (self, msg, dest, error);
    }
  if (!ok)
    self->stats.send_failures++;
  return ok;
}

gboolean
sp_sip_transport_send_raw (SpSipTransport *self, const SpSipPeer *dest, const guint8 *data,
                           gsize len, GError **error)
{
  g_return_val_if_fail (SP_IS_SIP_TRANSPORT (self), FALSE);
  if (dest->kind == SP_SIP_TRANSPORT_UDP)
    {
      Binding *binding = find_binding (self, SP_SIP_TRANSPORT_UDP, dest);
      g_autoptr (GBytes) bytes = g_bytes_new (data, len);

      if (binding == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _ ("no UDP binding for %s"),
                       dest->host);
          return FALSE;
        }
      return udp_send_bytes (self, binding, bytes, dest->host, dest->port ? dest->port : 5060,
                             dest->local, NULL, error);
    }
  else
    {
      guint16 dest_port = dest->port ? dest->port : sp_sip_transport_kind_default_port (dest->kind);
      g_autofree char *key = connection_key (dest->kind, dest->host, dest_port);
      Connection *conn = g_hash_table_lookup (self->connections, key);
      SpSipPeer tcp_dest = *dest;

      tcp_dest.port = dest_port;
      if (conn == NULL)
        conn = tcp_connect (self, &tcp_dest, error);
      if (conn == NULL)
        return FALSE;
      if (conn->outbuf->len + len > MAX_OUTBUF)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, _ ("TCP send queue full"));
          return FALSE;
        }
      g_byte_array_append (conn->outbuf, data, (guint) len);
      return connection_flush (conn, error);
    }
}

gboolean
sp_sip_transport_close_connection (SpSipTransport *self, const SpSipPeer *dest)
{
  g_autofree char *key =
      connection_key (dest->kind, dest->host,
                      dest->port ? dest->port : sp_sip_transport_kind_default_port (dest->kind));
  Connection *conn = g_hash_table_lookup (self->connections, key);
  g_autoptr (GError) error = NULL;

  if (conn == NULL)
    return FALSE;
  error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "the flow stopped answering");
  connection_close (conn, error);
  return TRUE;
}

gboolean
sp_sip_transport_hold_connection (SpSipTransport *self, const SpSipPeer *peer, const char *holder,
                                  guint seconds)
{
  g_autofree char *key = NULL;
  Connection *conn;
  gint64 *deadline;

  g_return_val_if_fail (holder != NULL, FALSE);
  if (!sp_sip_transport_kind_is_stream (peer->kind))
    return FALSE;
  key = connection_key (peer->kind, peer->host,
                        peer->port ? peer->port : sp_sip_transport_kind_default_port (peer->kind));
  conn = g_hash_table_lookup (self->connections, key);
  if (conn == NULL)
    return FALSE;
  if (seconds == 0)
    {
      if (conn->holds != NULL)
        g_hash_table_remove (conn->holds, holder);
      /* Idle from now on: the idle timeout counts from the release, so
       * an answer still on its way is not cut off. */
      conn->last_activity = MAX (conn->last_activity, g_get_monotonic_time ());
      return TRUE;
    }
  if (conn->holds == NULL)
    conn->holds = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (!g_hash_table_contains (conn->holds, holder) &&
      g_hash_table_size (conn->holds) >= SP_SIP_TRANSPORT_MAX_HOLDS)
    return FALSE;
  deadline = g_new (gint64, 1);
  *deadline = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;
  g_hash_table_insert (conn->holds, g_strndup (holder, 256), deadline);
  return TRUE;
}

gboolean
sp_sip_transport_has_connection (SpSipTransport *self, const SpSipPeer *dest)
{
  g_autofree char *key =
      connection_key (dest->kind, dest->host,
                      dest->port ? dest->port : sp_sip_transport_kind_default_port (dest->kind));

  return g_hash_table_contains (self->connections, key);
}

/* ---- TLS settings ---- */

void
sp_sip_transport_set_tls_identity (SpSipTransport *self, SpSipTlsIdentity *identity)
{
  g_return_if_fail (SP_IS_SIP_TRANSPORT (self));
  if (identity != NULL)
    sp_sip_tls_identity_ref (identity);
  sp_sip_tls_identity_unref (self->tls_identity);
  self->tls_identity = identity;
}

SpSipTlsIdentity *
sp_sip_transport_get_tls_identity (SpSipTransport *self)
{
  g_return_val_if_fail (SP_IS_SIP_TRANSPORT (self), NULL);
  return self->tls_identity;
}

void
sp_sip_transport_set_tls_verify (SpSipTransport *self, SpSipTransportTlsVerifyFunc verify,
                                 gpointer user_data)
{
  g_return_if_fail (SP_IS_SIP_TRANSPORT (self));
  self->tls_verify = verify;
  self->tls_verify_data = user_data;
}

#define MAX_TLS_NAMES 256

void
sp_sip_transport_set_tls_server_name (SpSipTransport *self, const SpSipPeer *peer, const char *name)
{
  g_autofree char *key = NULL;

  g_return_if_fail (SP_IS_SIP_TRANSPORT (self));
  key = sp_sip_host_port_to_string (
      peer->host, peer->port ? peer->port : sp_sip_transport_kind_default_port (peer->kind));
  if (self->tls_names == NULL)
    self->tls_names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (name == NULL)
    {
      g_hash_table_remove (self->tls_names, key);
      return;
    }
  if (g_hash_table_size (self->tls_names) >= MAX_TLS_NAMES &&
      !g_hash_table_contains (self->tls_names, key))
    {
      /* Names come from the user's accounts; a bound keeps a bad list
       * from growing without end. */
      GHashTableIter iter;
      g_hash_table_iter_init (&iter, self->tls_names);
      if (g_hash_table_iter_next (&iter, NULL, NULL))
        g_hash_table_iter_remove (&iter);
    }
  g_hash_table_replace (self->tls_names, g_steal_pointer (&key), g_strdup (name));
}
