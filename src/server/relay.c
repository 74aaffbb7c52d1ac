#include "server/relay.h"

#include <errno.h>
#include <gio/gio.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#define RELAY_MAX_EVENTS 64
/* Packets read from one socket per wake-up, so one busy call cannot
 * starve the others. */
#define RELAY_BURST      8
#define RELAY_MAX_PACKET 2048

/* One socket of a side (RTP or RTCP) and what it knows of its peer. */
typedef struct
{
  int fd;
  SpRelayCall *call;
  guint8 side;
  guint8 rtcp;
  /* Where this socket's peer gets packets: the latched source, or before
   * that the SDP address when the side's SIP came from its host. */
  gboolean has_dest;
  gboolean latched;
  struct sockaddr_storage dest;
  socklen_t dest_len;
  /* The SDP's address for this socket: latched on its first valid
   * packet. */
  gboolean has_sdp;
  struct sockaddr_storage sdp;
  /* Whether a valid packet came from a host the SDP or SIP named since
   * the SDP address was set: then other hosts are never learnt. */
  gboolean named_heard;
  /* A source being learnt (RTP only): consecutive packets so far, since
   * @cand_start (monotonic us). */
  struct sockaddr_storage cand;
  guint32 cand_ssrc;
  guint32 cand_count;
  guint16 cand_seq;
  gint64 cand_start;
} Endpoint;

typedef struct
{
  guint64 received;
  guint64 relayed;
  guint64 dropped;
  guint64 rejected;
} SideCounters;

struct _SpRelayCall
{
  SpRelay *relay;
  guint16 ports[2];
  /* [side][rtcp] */
  Endpoint ends[2][2];
  SideCounters counters[2];
  /* Relay thread only: the host each side's SIP came from, and the
   * payload types each side's SDP listed. */
  gboolean has_signalling[2];
  struct sockaddr_storage signalling[2];
  guint64 payload_types[2][2];
};

typedef enum
{
  CMD_ADD,
  CMD_SET_REMOTE,
  CMD_FREE,
  CMD_QUIT,
} CmdKind;

typedef struct
{
  CmdKind kind;
  SpRelayCall *call;
  guint8 side;
  struct sockaddr_storage rtp;
  struct sockaddr_storage rtcp;
  socklen_t len;
  gboolean has_signalling;
  struct sockaddr_storage signalling;
  guint64 payload_types[2];
} Cmd;

struct _SpRelay
{
  char *host;
  GSocketFamily family;
  guint16 port_min;
  guint16 port_max;
  int epoll_fd;
  int wake_fd;
  GAsyncQueue *commands;
  GThread *thread;
  gint n_calls;
  /* The relay thread's receive buffer: one, reused for every packet. */
  guint8 buffer[RELAY_MAX_PACKET];
};

static gboolean
native_address (const char *host, guint16 port, struct sockaddr_storage *out, socklen_t *len,
                GError **error)
{
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new_from_string (host, port);

  if (address == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "not a numeric address: %s",
                   host);
      return FALSE;
    }
  memset (out, 0, sizeof *out);
  *len = (socklen_t) g_socket_address_get_native_size (address);
  return g_socket_address_to_native (address, out, sizeof *out, error);
}

/* A relay on "::" has dual-stack sockets: IPv4 peers are reached, and
 * heard, as ::ffff:a.b.c.d, so their addresses are kept in that form. */
static void
map_for_relay (SpRelay *relay, struct sockaddr_storage *addr, socklen_t *len)
{
  struct sockaddr_in v4;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *) addr;

  if (relay->family != G_SOCKET_FAMILY_IPV6 || addr->ss_family != AF_INET)
    return;
  memcpy (&v4, addr, sizeof v4);
  memset (addr, 0, sizeof *addr);
  v6->sin6_family = AF_INET6;
  v6->sin6_port = v4.sin_port;
  v6->sin6_addr.s6_addr[10] = 0xff;
  v6->sin6_addr.s6_addr[11] = 0xff;
  memcpy (&v6->sin6_addr.s6_addr[12], &v4.sin_addr, 4);
  *len = sizeof *v6;
}

/* ---- addresses and packets (relay thread) --------------------------------- */

static gboolean
same_host (const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
  if (a->ss_family != b->ss_family)
    return FALSE;
  if (a->ss_family == AF_INET)
    return ((const struct sockaddr_in *) a)->sin_addr.s_addr ==
           ((const struct sockaddr_in *) b)->sin_addr.s_addr;
  if (a->ss_family == AF_INET6)
    return memcmp (&((const struct sockaddr_in6 *) a)->sin6_addr,
                   &((const struct sockaddr_in6 *) b)->sin6_addr, sizeof (struct in6_addr)) == 0;
  return FALSE;
}

static guint16
port_of (const struct sockaddr_storage *a)
{
  if (a->ss_family == AF_INET)
    return ((const struct sockaddr_in *) a)->sin_port;
  if (a->ss_family == AF_INET6)
    return ((const struct sockaddr_in6 *) a)->sin6_port;
  return 0;
}

static gboolean
same_address (const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
  return same_host (a, b) && port_of (a) == port_of (b);
}

typedef enum
{
  PACKET_OTHER,
  PACKET_RTP,
  PACKET_RTCP,
  PACKET_DTLS,           /* DTLS records other than a handshake */
  PACKET_DTLS_HANDSHAKE, /* starts with a handshake record (ClientHello, ...) */
} PacketKind;

#define DTLS_RECORD_HEADER 13

/* A datagram of whole DTLS records (RFC 6347 4.1): content types 20..25
 * (change_cipher_spec, alert, handshake, application_data, heartbeat,
 * tls12_cid), version 1.0 or 1.2 (0xfeff, 0xfefd; 1.3 writes 1.2 there),
 * and lengths that end exactly with the datagram. */
static PacketKind
classify_dtls (const guint8 *p, gsize n)
{
  gsize at = 0;

  while (at < n)
    {
      const guint8 *r = p + at;
      gsize length;
      if (n - at < DTLS_RECORD_HEADER || r[0] < 20 || r[0] > 25 || r[1] != 0xfe ||
          (r[2] != 0xff && r[2] != 0xfd))
        return PACKET_OTHER;
      length = (gsize) r[11] << 8 | r[12];
      if (length == 0 || length > n - at - DTLS_RECORD_HEADER)
        return PACKET_OTHER;
      at += DTLS_RECORD_HEADER + length;
    }
  return p[0] == 22 ? PACKET_DTLS_HANDSHAKE : PACKET_DTLS;
}

/* What the first bytes say (RFC 7983's demultiplexing: 128..191 is RTP
 * or RTCP, told apart by RFC 5761's payload type ranges; 20..63 is
 * DTLS). SRTP and SRTCP keep the clear header, so the checks below hold
 * for them unchanged. Everything else (STUN, ZRTP, junk) never latches. */
static PacketKind
classify (const guint8 *p, gssize n, const guint64 payload_types[2])
{
  if (n >= DTLS_RECORD_HEADER && p[0] >= 20 && p[0] <= 63)
    return classify_dtls (p, (gsize) n);
  if (n < 8 || (p[0] & 0xc0) != 0x80)
    return PACKET_OTHER;
  if (p[1] >= 192 && p[1] <= 223)
    {
      /* A compound packet starts with SR, RR (or, reduced size, another
       * RTCP type); its length field fits what arrived. */
      gsize length = ((gsize) ((p[2] << 8) | p[3]) + 1) * 4;
      return p[1] >= 200 && p[1] <= 207 && length <= (gsize) n ? PACKET_RTCP : PACKET_OTHER;
    }
  {
    guint pt = p[1] & 0x7f;
    gsize header = 12 + 4 * (gsize) (p[0] & 0x0f);

    if ((gsize) n < header || !(payload_types[pt / 64] & (G_GUINT64_CONSTANT (1) << (pt % 64))))
      return PACKET_OTHER;
    return PACKET_RTP;
  }
}

static guint32
read_u32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static void
endpoint_latch (Endpoint *in, const struct sockaddr_storage *from, socklen_t from_len)
{
  memcpy (&in->dest, from, from_len);
  in->dest_len = from_len;
  in->has_dest = TRUE;
  in->latched = TRUE;
  in->cand_count = 0;
}

/* A valid RTP packet from @from, which is not the SDP address: TRUE once
 * it has sent SP_RELAY_LEARN_PACKETS in sequence with one SSRC over at
 * least @min_span_us. */
static gboolean
endpoint_learn (Endpoint *in, const guint8 *p, const struct sockaddr_storage *from,
                gint64 min_span_us)
{
  guint32 ssrc = read_u32 (p + 8);
  guint16 seq = (guint16) ((p[2] << 8) | p[3]);
  gint64 now = g_get_monotonic_time ();

  if (in->cand_count > 0 && same_address (&in->cand, from) && in->cand_ssrc == ssrc &&
      (guint16) (in->cand_seq + 1) == seq)
    {
      if (in->cand_count < G_MAXUINT32)
        in->cand_count++;
    }
  else
    {
      memcpy (&in->cand, from, sizeof in->cand);
      in->cand_ssrc = ssrc;
      in->cand_count = 1;
      in->cand_start = now;
    }
  in->cand_seq = seq;
  return in->cand_count >= SP_RELAY_LEARN_PACKETS && now - in->cand_start >= min_span_us;
}

/* DTLS-SRTP (issue 16): the handshake comes before any SRTP, so a
 * handshake record must be able to latch, or the relay would wait for
 * media that waits for it. The SDP's own address latches at once, as its
 * RTP would. Another port of the SDP's host or of the side's SIP host (a
 * NAT's mapping) only while nothing is latched yet: a live latch is
 * never taken over by DTLS (a NAT rebinding is learnt from the SRTP that
 * follows). A host neither named never latches by DTLS. Once latched,
 * the source's DTLS and SRTP go through the fast path like RTP. */
static gboolean
endpoint_accepts_dtls (Endpoint *in, const struct sockaddr_storage *from, gboolean sdp)
{
  SpRelayCall *call = in->call;

  if (sdp)
    {
      in->named_heard = TRUE;
      return TRUE;
    }
  if ((in->has_sdp && same_host (&in->sdp, from)) ||
      (call->has_signalling[in->side] && same_host (&call->signalling[in->side], from)))
    {
      in->named_heard = TRUE;
      return !in->latched;
    }
  return FALSE;
}

/* Whether a packet from a source that is not latched may latch @in
 * (the slow path: once latched, the phone's packets never come here). */
static gboolean
endpoint_accepts (Endpoint *in, gssize n, const struct sockaddr_storage *from)
{
  SpRelayCall *call = in->call;
  const guint8 *p = call->relay->buffer;
  guint64 types[2] = { call->payload_types[0][0] | call->payload_types[1][0],
                       call->payload_types[0][1] | call->payload_types[1][1] };
  PacketKind kind = classify (p, n, types);
  gboolean sdp = in->has_sdp && same_address (&in->sdp, from);

  if (in->rtcp)
    {
      /* DTLS on the RTCP port: a peer without rtcp-mux that keys SRTCP
       * with a handshake of its own (RFC 5764 4.1.2) learns like RTCP. */
      const Endpoint *rtp = &call->ends[in->side][0];
      return (kind == PACKET_RTCP || kind == PACKET_DTLS_HANDSHAKE) &&
             (sdp || (rtp->latched && same_host (&rtp->dest, from)));
    }
  if (kind == PACKET_DTLS_HANDSHAKE)
    return endpoint_accepts_dtls (in, from, sdp);
  if (kind != PACKET_RTP)
    return FALSE;
  if (sdp)
    {
      in->named_heard = TRUE;
      return TRUE;
    }
  if ((in->has_sdp && same_host (&in->sdp, from)) ||
      (call->has_signalling[in->side] && same_host (&call->signalling[in->side], from)))
    {
      /* Another port of the phone's host or NAT: a mapping learnt, or a
       * NAT rebinding. A live latch resets the count with each of its
       * packets, and must have been silent for a while, so a burst
       * squeezed between two of its packets takes nothing over. */
      in->named_heard = TRUE;
      return endpoint_learn (in, p, from, in->latched ? SP_RELAY_REBIND_MS * 1000 : 0);
    }
  /* A host neither the SDP nor the SIP named (a phone sending from
   * another of its addresses): only while none of the named hosts has
   * sent, once the other side's media flows (not while ringing, when an
   * attacker sprays the ports), for SP_RELAY_STRANGER_MS, which a phone
   * that sends from its SDP address beats. */
  if (in->named_heard || !call->ends[!in->side][0].latched)
    {
      in->cand_count = 0;
      return FALSE;
    }
  return endpoint_learn (in, p, from, SP_RELAY_STRANGER_MS * 1000);
}

static void
endpoint_forward (SpRelay *relay, Endpoint *in, gssize n, const struct sockaddr_storage *from,
                  socklen_t from_len)
{
  SpRelayCall *call = in->call;
  Endpoint *out = &call->ends[!in->side][in->rtcp];
  SideCounters *counters = &call->counters[in->side];

  __atomic_fetch_add (&counters->received, 1, __ATOMIC_RELAXED);
  if (G_LIKELY (in->latched && from_len == in->dest_len && memcmp (&in->dest, from, from_len) == 0))
    {
      /* The phone itself: a source being learnt meanwhile was not its
       * NAT's new mapping. */
      if (G_UNLIKELY (in->cand_count != 0))
        in->cand_count = 0;
    }
  else if (endpoint_accepts (in, n, from))
    endpoint_latch (in, from, from_len);
  else
    {
      __atomic_fetch_add (&counters->rejected, 1, __ATOMIC_RELAXED);
      __atomic_fetch_add (&counters->dropped, 1, __ATOMIC_RELAXED);
      return;
    }
  if (!out->has_dest || sendto (out->fd, relay->buffer, (size_t) n, MSG_DONTWAIT,
                                (struct sockaddr *) &out->dest, out->dest_len) < 0)
    {
      __atomic_fetch_add (&counters->dropped, 1, __ATOMIC_RELAXED);
      return;
    }
  __atomic_fetch_add (&counters->relayed, 1, __ATOMIC_RELAXED);
}

static void
endpoint_readable (SpRelay *relay, Endpoint *in)
{
  for (guint i = 0; i < RELAY_BURST; i++)
    {
      struct sockaddr_storage from;
      socklen_t from_len = sizeof from;
      gssize n = recvfrom (in->fd, relay->buffer, sizeof relay->buffer, MSG_DONTWAIT,
                           (struct sockaddr *) &from, &from_len);

      if (n < 0)
        return; /* EAGAIN, or an ICMP error from the last send */
      endpoint_forward (relay, in, n, &from, from_len);
    }
}

static void
call_close (SpRelay *relay, SpRelayCall *call)
{
  for (guint s = 0; s < 2; s++)
    for (guint k = 0; k < 2; k++)
      if (call->ends[s][k].fd >= 0)
        {
          epoll_ctl (relay->epoll_fd, EPOLL_CTL_DEL, call->ends[s][k].fd, NULL);
          close (call->ends[s][k].fd);
        }
  g_free (call);
  g_atomic_int_add (&relay->n_calls, -1);
}

static void
call_add (SpRelay *relay, SpRelayCall *call)
{
  for (guint s = 0; s < 2; s++)
    for (guint k = 0; k < 2; k++)
      {
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &call->ends[s][k] };
        if (epoll_ctl (relay->epoll_fd, EPOLL_CTL_ADD, call->ends[s][k].fd, &ev) < 0)
          g_warning ("epoll_ctl: %s", g_strerror (errno));
      }
}

/* Before it latched, @end sends to its SDP address only when that is
 * on the host the side's SIP came from. */
static void
endpoint_set_sdp (Endpoint *end, const struct sockaddr_storage *sdp, socklen_t len,
                  const SpRelayCall *call)
{
  gboolean trusted =
      call->has_signalling[end->side] && same_host (sdp, &call->signalling[end->side]);

  if (end->has_sdp && same_address (&end->sdp, sdp))
    {
      /* The same address again (a re-INVITE): the latch holds. */
      if (!end->latched)
        end->has_dest = trusted;
      return;
    }
  memcpy (&end->sdp, sdp, len);
  end->has_sdp = TRUE;
  end->latched = FALSE;
  end->named_heard = FALSE;
  end->cand_count = 0;
  memcpy (&end->dest, sdp, len);
  end->dest_len = len;
  end->has_dest = trusted;
}

static void
set_remote (SpRelayCall *call, const Cmd *cmd)
{
  if (cmd->has_signalling)
    {
      call->signalling[cmd->side] = cmd->signalling;
      call->has_signalling[cmd->side] = TRUE;
    }
  call->payload_types[cmd->side][0] = cmd->payload_types[0];
  call->payload_types[cmd->side][1] = cmd->payload_types[1];
  endpoint_set_sdp (&call->ends[cmd->side][0], &cmd->rtp, cmd->len, call);
  endpoint_set_sdp (&call->ends[cmd->side][1], &cmd->rtcp, cmd->len, call);
}

/* Runs the queued commands; FALSE on quit. */
static gboolean
run_commands (SpRelay *relay)
{
  guint64 count;
  Cmd *cmd;

  if (read (relay->wake_fd, &count, sizeof count) < 0 && errno != EAGAIN)
    g_warning ("eventfd: %s", g_strerror (errno));
  while ((cmd = g_async_queue_try_pop (relay->commands)) != NULL)
    {
      CmdKind kind = cmd->kind;

      if (kind == CMD_ADD)
        call_add (relay, cmd->call);
      else if (kind == CMD_SET_REMOTE)
        set_remote (cmd->call, cmd);
      else if (kind == CMD_FREE)
        call_close (relay, cmd->call);
      g_free (cmd);
      if (kind == CMD_QUIT)
        return FALSE;
    }
  return TRUE;
}

static gpointer
relay_thread (gpointer data)
{
  SpRelay *relay = data;
  struct epoll_event events[RELAY_MAX_EVENTS];

  for (;;)
    {
      gboolean commands = FALSE;
      int n = epoll_wait (relay->epoll_fd, events, RELAY_MAX_EVENTS, -1);

      if (n < 0 && errno != EINTR)
        {
          g_warning ("epoll_wait: %s", g_strerror (errno));
          return NULL;
        }
      for (int i = 0; i < n; i++)
        {
          if (events[i].data.ptr == NULL)
            commands = TRUE;
          else
            endpoint_readable (relay, events[i].data.ptr);
        }
      /* After the batch: a call freed now may still have events in it. */
      if (commands && !run_commands (relay))
        return NULL;
    }
}

static void
push_command (SpRelay *relay, Cmd *cmd)
{
  guint64 one = 1;

  g_async_queue_push (relay->commands, cmd);
  if (write (relay->wake_fd, &one, sizeof one) < 0)
    g_warning ("eventfd: %s", g_strerror (errno));
}

SpRelay *
sp_relay_new (const char *host, guint16 port_min, guint16 port_max, GError **error)
{
  g_autoptr (GInetAddress) address = g_inet_address_new_from_string (host);
  SpRelay *relay;
  struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

  if (address == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "not a numeric address: %s",
                   host);
      return NULL;
    }
  if (port_min < 1024 || port_max < port_min + 3)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "bad relay port range %u-%u",
                   port_min, port_max);
      return NULL;
    }
  relay = g_new0 (SpRelay, 1);
  relay->host = g_strdup (host);
  relay->family = g_inet_address_get_family (address);
  relay->port_min = (port_min + 1) & ~1u;
  relay->port_max = port_max;
  relay->epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
  relay->wake_fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
  relay->commands = g_async_queue_new ();
  epoll_ctl (relay->epoll_fd, EPOLL_CTL_ADD, relay->wake_fd, &ev);
  relay->thread = g_thread_new ("sp-relay", relay_thread, relay);
  return relay;
}

void
sp_relay_free (SpRelay *relay)
{
  Cmd *quit;

  if (relay == NULL)
    return;
  quit = g_new0 (Cmd, 1);
  quit->kind = CMD_QUIT;
  push_command (relay, quit);
  g_thread_join (relay->thread);
  if (g_atomic_int_get (&relay->n_calls) != 0)
    g_warning ("relay freed with %d calls", g_atomic_int_get (&relay->n_calls));
  g_async_queue_unref (relay->commands);
  close (relay->epoll_fd);
  close (relay->wake_fd);
  g_free (relay->host);
  g_free (relay);
}

const char *
sp_relay_get_host (SpRelay *relay)
{
  return relay->host;
}

guint
sp_relay_get_n_calls (SpRelay *relay)
{
  return (guint) g_atomic_int_get (&relay->n_calls);
}

static int
bind_port (SpRelay *relay, guint16 port)
{
  struct sockaddr_storage addr;
  socklen_t len;
  int fd;

  if (!native_address (relay->host, port, &addr, &len, NULL))
    return -1;
  fd = socket (addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  if (addr.ss_family == AF_INET6)
    {
      /* "::" relays IPv4 phones too, whatever net.ipv6.bindv6only says. */
      int v6only = 0;
      setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    }
  if (bind (fd, (struct sockaddr *) &addr, len) < 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

static guint32
random_u32 (void)
{
  guint32 value;

  /* getrandom only fails before the pool is seeded or on EINTR; GLib's
   * generator (seeded from /dev/urandom) keeps things going then. */
  if (getrandom (&value, sizeof value, GRND_NONBLOCK) != sizeof value)
    value = g_random_int ();
  return value;
}

static gboolean
bind_pair_at (SpRelay *relay, guint16 p, int *rtp, int *rtcp)
{
  *rtp = bind_port (relay, p);
  if (*rtp < 0)
    return FALSE;
  *rtcp = bind_port (relay, p + 1);
  if (*rtcp < 0)
    {
      close (*rtp);
      *rtp = -1;
      return FALSE;
    }
  return TRUE;
}

/* An even RTP port and the RTCP port above it, picked at random so the
 * next call's ports cannot be guessed from this one's (and a port just
 * freed is seldom handed out again at once). When random picks keep
 * hitting busy ports, a walk from a random start finds any free pair. */
static gboolean
bind_pair (SpRelay *relay, int *rtp, int *rtcp, guint16 *port)
{
  guint n_pairs = (guint) (relay->port_max - relay->port_min + 1) / 2;
  guint start;

  for (guint i = 0; i < 32; i++)
    {
      guint16 p = (guint16) (relay->port_min + 2 * (random_u32 () % n_pairs));

      if (bind_pair_at (relay, p, rtp, rtcp))
        {
          *port = p;
          return TRUE;
        }
    }
  start = random_u32 () % n_pairs;
  for (guint i = 0; i < n_pairs; i++)
    {
      guint16 p = (guint16) (relay->port_min + 2 * ((start + i) % n_pairs));

      if (bind_pair_at (relay, p, rtp, rtcp))
        {
          *port = p;
          return TRUE;
        }
    }
  return FALSE;
}

SpRelayCall *
sp_relay_call_new (SpRelay *relay, GError **error)
{
  SpRelayCall *call = g_new0 (SpRelayCall, 1);
  Cmd *add;

  call->relay = relay;
  for (guint s = 0; s < 2; s++)
    {
      for (guint k = 0; k < 2; k++)
        {
          call->ends[s][k].fd = -1;
          call->ends[s][k].call = call;
          call->ends[s][k].side = (guint8) s;
          call->ends[s][k].rtcp = (guint8) k;
        }
      if (!bind_pair (relay, &call->ends[s][0].fd, &call->ends[s][1].fd, &call->ports[s]))
        {
          for (guint k = 0; k < 2 && s == 1; k++)
            close (call->ends[0][k].fd);
          g_free (call);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "no free relay ports in %u-%u",
                       relay->port_min, relay->port_max);
          return NULL;
        }
    }
  g_atomic_int_inc (&relay->n_calls);
  add = g_new0 (Cmd, 1);
  add->kind = CMD_ADD;
  add->call = call;
  push_command (relay, add);
  return call;
}

guint16
sp_relay_call_get_port (SpRelayCall *call, SpRelaySide side)
{
  return call->ports[side == SP_RELAY_SIDE_B];
}

void
sp_relay_call_set_remote (SpRelayCall *call, SpRelaySide side, const SpRelayRemote *remote)
{
  g_autofree Cmd *cmd = g_new0 (Cmd, 1);
  socklen_t len2;
  g_autoptr (GError) error = NULL;

  cmd->kind = CMD_SET_REMOTE;
  cmd->call = call;
  cmd->side = side == SP_RELAY_SIDE_B;
  if (remote->rtp_port == 0 || remote->rtp_port == 65535 ||
      !native_address (remote->host, remote->rtp_port, &cmd->rtp, &cmd->len, &error) ||
      !native_address (remote->host, remote->rtp_port + 1, &cmd->rtcp, &len2, &error))
    {
      g_debug ("relay: no destination %s:%u", remote->host, remote->rtp_port);
      return;
    }
  map_for_relay (call->relay, &cmd->rtp, &cmd->len);
  map_for_relay (call->relay, &cmd->rtcp, &len2);
  if (remote->signalling_host != NULL)
    {
      const char *host = remote->signalling_host;

      /* A dual-stack SIP socket names IPv4 peers as ::ffff:a.b.c.d. */
      if (g_ascii_strncasecmp (host, "::ffff:", 7) == 0 && strchr (host + 7, '.') != NULL)
        host += 7;
      if (native_address (host, 0, &cmd->signalling, &len2, NULL))
        {
          map_for_relay (call->relay, &cmd->signalling, &len2);
          cmd->has_signalling = TRUE;
        }
      else
        g_debug ("relay: signalling host %s is not an address", remote->signalling_host);
    }
  cmd->payload_types[0] = remote->payload_types[0];
  cmd->payload_types[1] = remote->payload_types[1];
  push_command (call->relay, g_steal_pointer (&cmd));
}

void
sp_relay_call_get_stats (SpRelayCall *call, SpRelaySide side, SpRelayStats *stats)
{
  SideCounters *c = &call->counters[side == SP_RELAY_SIDE_B];

  stats->received = __atomic_load_n (&c->received, __ATOMIC_RELAXED);
  stats->relayed = __atomic_load_n (&c->relayed, __ATOMIC_RELAXED);
  stats->dropped = __atomic_load_n (&c->dropped, __ATOMIC_RELAXED);
  stats->rejected = __atomic_load_n (&c->rejected, __ATOMIC_RELAXED);
}

void
sp_relay_call_free (SpRelayCall *call)
{
  Cmd *cmd;

  if (call == NULL)
    return;
  cmd = g_new0 (Cmd, 1);
  cmd->kind = CMD_FREE;
  cmd->call = call;
  push_command (call->relay, cmd);
}
