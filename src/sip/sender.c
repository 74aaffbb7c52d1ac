#define _GNU_SOURCE /* sendmmsg () */

#include "sip/sender.h"

#include <errno.h>
#include <netinet/in.h>

#include "sip/sockaddr.h"
#include <string.h>

/* Enough for a few hundred milliseconds of a busy server's output; a
 * burst beyond it is sent by the caller itself. */
#define QUEUE_SIZE 8192
/* Datagrams handed to one sendmmsg (). */
#define BATCH 64

typedef struct
{
  int fd;
  socklen_t to_len;
  struct sockaddr_storage to;
  GBytes *bytes;
  gsize control_len; /* 0: the kernel picks the source address */
  union
  {
    struct cmsghdr align;
    guint8 bytes[SP_SIP_PKTINFO_SPACE];
  } control;
} Item;

struct _SpSipSender
{
  GMutex lock;
  GCond wake;
  GThread *thread;
  Item *ring; /* QUEUE_SIZE slots */
  guint head; /* next to write */
  guint len;  /* queued */
  gboolean sleeping;
  gboolean stopping;
  guint64 failures; /* atomic */
  guint64 sent;     /* atomic */
};

static void
count (guint64 *counter, guint64 n)
{
  /* 64-bit atomics: GLib has none for add, the builtin is fine on Linux. */
  __atomic_add_fetch (counter, n, __ATOMIC_RELAXED);
}

/* Writes @n items that share one socket with as few system calls as the
 * kernel allows. */
static void
write_run (SpSipSender *self, Item *items, guint n)
{
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  guint done = 0;

  for (guint i = 0; i < n; i++)
    {
      gsize len;

      iov[i].iov_base = (void *) g_bytes_get_data (items[i].bytes, &len);
      iov[i].iov_len = len;
      memset (&msgs[i], 0, sizeof msgs[i]);
      msgs[i].msg_hdr.msg_name = &items[i].to;
      msgs[i].msg_hdr.msg_namelen = items[i].to_len;
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      if (items[i].control_len > 0)
        {
          msgs[i].msg_hdr.msg_control = items[i].control.bytes;
          msgs[i].msg_hdr.msg_controllen = items[i].control_len;
        }
    }
  while (done < n)
    {
      int r = sendmmsg (items[0].fd, msgs + done, n - done, MSG_NOSIGNAL);

      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        {
          /* The first datagram of the rest failed: skip just that one,
           * after one try from the route's address when its own source
           * address was refused (gone from the machine since). */
          Item *failed = &items[done];
          gboolean sent = FALSE;

          if (failed->control_len > 0)
            {
              struct msghdr *h = &msgs[done].msg_hdr;
              h->msg_control = NULL;
              h->msg_controllen = 0;
              sent = sendmsg (failed->fd, h, MSG_NOSIGNAL) >= 0;
            }
          count (sent ? &self->sent : &self->failures, 1);
          done++;
          continue;
        }
      count (&self->sent, (guint64) r);
      done += (guint) r;
    }
}

static void
write_batch (SpSipSender *self, Item *items, guint n)
{
  guint start = 0;

  for (guint i = 1; i <= n; i++)
    if (i == n || items[i].fd != items[start].fd)
      {
        write_run (self, items + start, i - start);
        start = i;
      }
  for (guint i = 0; i < n; i++)
    g_bytes_unref (items[i].bytes);
}

static gpointer
run (gpointer data)
{
  SpSipSender *self = data;
  Item batch[BATCH];

  for (;;)
    {
      guint n = 0;

      g_mutex_lock (&self->lock);
      while (self->len == 0 && !self->stopping)
        {
          self->sleeping = TRUE;
          g_cond_wait (&self->wake, &self->lock);
          self->sleeping = FALSE;
        }
      if (self->len == 0)
        {
          g_mutex_unlock (&self->lock);
          return NULL;
        }
      while (n < BATCH && self->len > 0)
        {
          batch[n++] = self->ring[self->head];
          self->head = (self->head + 1) % QUEUE_SIZE;
          self->len--;
        }
      g_mutex_unlock (&self->lock);
      write_batch (self, batch, n);
    }
}

SpSipSender *
sp_sip_sender_new (void)
{
  SpSipSender *self = g_new0 (SpSipSender, 1);

  g_mutex_init (&self->lock);
  g_cond_init (&self->wake);
  self->ring = g_new (Item, QUEUE_SIZE);
  self->thread = g_thread_new ("sip-sender", run, self);
  return self;
}

void
sp_sip_sender_free (SpSipSender *self)
{
  if (self == NULL)
    return;
  g_mutex_lock (&self->lock);
  self->stopping = TRUE;
  g_cond_signal (&self->wake);
  g_mutex_unlock (&self->lock);
  g_thread_join (self->thread);
  g_free (self->ring);
  g_cond_clear (&self->wake);
  g_mutex_clear (&self->lock);
  g_free (self);
}

gboolean
sp_sip_sender_push (SpSipSender *self, int fd, const struct sockaddr *to, socklen_t to_len,
                    GBytes *bytes, gboolean wake)
{
  return sp_sip_sender_push_from (self, fd, to, to_len, NULL, 0, bytes, wake);
}

gboolean
sp_sip_sender_push_from (SpSipSender *self, int fd, const struct sockaddr *to, socklen_t to_len,
                         const void *control, gsize control_len, GBytes *bytes, gboolean wake)
{
  Item *item;

  g_return_val_if_fail (to_len <= sizeof item->to, FALSE);
  g_return_val_if_fail (control_len <= SP_SIP_PKTINFO_SPACE, FALSE);
  g_mutex_lock (&self->lock);
  if (self->len == QUEUE_SIZE || self->stopping)
    {
      g_mutex_unlock (&self->lock);
      return FALSE;
    }
  item = &self->ring[(self->head + self->len) % QUEUE_SIZE];
  item->fd = fd;
  item->to_len = to_len;
  memcpy (&item->to, to, to_len);
  item->control_len = control_len;
  if (control_len > 0)
    memcpy (item->control.bytes, control, control_len);
  item->bytes = g_bytes_ref (bytes);
  self->len++;
  /* A busy writer finds the item on its next round: no wake-up needed. */
  if (wake && self->sleeping)
    g_cond_signal (&self->wake);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

void
sp_sip_sender_kick (SpSipSender *self)
{
  g_mutex_lock (&self->lock);
  if (self->len > 0 && self->sleeping)
    g_cond_signal (&self->wake);
  g_mutex_unlock (&self->lock);
}

guint64
sp_sip_sender_get_failures (SpSipSender *self)
{
  return __atomic_load_n (&self->failures, __ATOMIC_RELAXED);
}

guint64
sp_sip_sender_get_sent (SpSipSender *self)
{
  return __atomic_load_n (&self->sent, __ATOMIC_RELAXED);
}
