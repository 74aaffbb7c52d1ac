#include "server/relay.h"

#include <errno.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define RELAY_MAX_EVENTS 64
/* Packets read from one socket per wake-up, so one busy call cannot
 * starve the others. */
#define RELAY_BURST      8
#define RELAY_MAX_PACKET 2048

typedef struct
{
  int fd;
  SpRelayCall *call;
  guint8 side;
  guint8 rtcp;
  gboolean has_dest;
  gboolean latched;
  struct sockaddr_storage dest;
  socklen_t dest_len;
} Endpoint;

typedef struct
{
  guint64 received;
  guint64 relayed;
  guint64 dropped;
} SideCounters;

struct _SpRelayCall
{
  SpRelay *relay;
  guint16 ports[2];
  /* [side][rtcp] */
  Endpoint ends[2][2];
  SideCounters counters[2];
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
} Cmd;

struct _SpRelay
{
  char *host;
  GSocketFamily family;
  guint16 port_min;
  guint16 port_max;
  guint16 cursor;
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

static void
endpoint_forward (SpRelay *relay, Endpoint *in, gssize n, const struct sockaddr_storage *from,
                  socklen_t from_len)
{
  SpRelayCall *call = in->call;
  Endpoint *out = &call->ends[!in->side][in->rtcp];
  SideCounters *counters = &call->counters[in->side];

  __atomic_fetch_add (&counters->received, 1, __ATOMIC_RELAXED);
  if (!in->latched)
    {
      memcpy (&in->dest, from, from_len);
      in->dest_len = from_len;
      in->has_dest = TRUE;
      in->latched = TRUE;
    }
  else if (from_len != in->dest_len || memcmp (&in->dest, from, from_len) != 0)
    {
      /* Someone else sending to our port: not the phone we latched on. */
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

static void
set_remote (SpRelayCall *call, const Cmd *cmd)
{
  Endpoint *rtp = &call->ends[cmd->side][0];
  Endpoint *rtcp = &call->ends[cmd->side][1];

  memcpy (&rtp->dest, &cmd->rtp, cmd->len);
  memcpy (&rtcp->dest, &cmd->rtcp, cmd->len);
  rtp->dest_len = rtcp->dest_len = cmd->len;
  rtp->has_dest = rtcp->has_dest = TRUE;
  rtp->latched = rtcp->latched = FALSE;
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
  relay->cursor = relay->port_min;
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
  if (bind (fd, (struct sockaddr *) &addr, len) < 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

/* An even RTP port and the RTCP port above it, from the rotating cursor
 * (a port just freed is not handed out again at once: late packets of
 * the old call would land in the new one). */
static gboolean
bind_pair (SpRelay *relay, int *rtp, int *rtcp, guint16 *port)
{
  guint attempts = (guint) (relay->port_max - relay->port_min + 1) / 2;

  for (guint i = 0; i < attempts; i++)
    {
      guint16 p = relay->cursor;

      relay->cursor = (p + 3 > relay->port_max) ? relay->port_min : (guint16) (p + 2);
      *rtp = bind_port (relay, p);
      if (*rtp < 0)
        continue;
      *rtcp = bind_port (relay, p + 1);
      if (*rtcp < 0)
        {
          close (*rtp);
          continue;
        }
      *port = p;
      return TRUE;
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
sp_relay_call_set_remote (SpRelayCall *call, SpRelaySide side, const char *host, guint16 rtp_port)
{
  g_autofree Cmd *cmd = g_new0 (Cmd, 1);
  socklen_t len2;
  g_autoptr (GError) error = NULL;

  cmd->kind = CMD_SET_REMOTE;
  cmd->call = call;
  cmd->side = side == SP_RELAY_SIDE_B;
  if (rtp_port == 0 || rtp_port == 65535 ||
      !native_address (host, rtp_port, &cmd->rtp, &cmd->len, &error) ||
      !native_address (host, rtp_port + 1, &cmd->rtcp, &len2, &error))
    {
      g_debug ("relay: no destination %s:%u", host, rtp_port);
      return;
    }
  push_command (call->relay, g_steal_pointer (&cmd));
}

void
sp_relay_call_get_stats (SpRelayCall *call, SpRelaySide side, SpRelayStats *stats)
{
  SideCounters *c = &call->counters[side == SP_RELAY_SIDE_B];

  stats->received = __atomic_load_n (&c->received, __ATOMIC_RELAXED);
  stats->relayed = __atomic_load_n (&c->relayed, __ATOMIC_RELAXED);
  stats->dropped = __atomic_load_n (&c->dropped, __ATOMIC_RELAXED);
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
