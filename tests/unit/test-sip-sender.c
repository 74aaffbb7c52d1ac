/* The datagram writer thread (sip/sender.h): order, flush on free, and
 * a refused datagram counted without holding up the next. Loopback only
 * (127.0.0.61). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "sip/sender.h"

#define HOST "127.0.0.61"

static int
udp_socket (struct sockaddr_in *addr)
{
  socklen_t len = sizeof *addr;
  int fd = socket (AF_INET, SOCK_DGRAM, 0);
  int size = 4 * 1024 * 1024;

  g_assert_cmpint (fd, >=, 0);
  setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  memset (addr, 0, sizeof *addr);
  addr->sin_family = AF_INET;
  inet_pton (AF_INET, HOST, &addr->sin_addr);
  g_assert_cmpint (bind (fd, (struct sockaddr *) addr, sizeof *addr), ==, 0);
  g_assert_cmpint (getsockname (fd, (struct sockaddr *) addr, &len), ==, 0);
  return fd;
}

/* The next datagram on @fd as text, or NULL after 2 s. */
static char *
receive (int fd)
{
  struct pollfd p = { .fd = fd, .events = POLLIN };
  char buf[256];
  ssize_t n;

  if (poll (&p, 1, 2000) != 1)
    return NULL;
  n = recv (fd, buf, sizeof buf - 1, 0);
  g_assert_cmpint (n, >=, 0);
  buf[n] = '\0';
  return g_strdup (buf);
}

static void
push_text (SpSipSender *sender, int fd, const struct sockaddr_in *to, const char *text)
{
  g_autoptr (GBytes) bytes = g_bytes_new (text, strlen (text));

  g_assert_true (
      sp_sip_sender_push (sender, fd, (const struct sockaddr *) to, sizeof *to, bytes, TRUE));
}

static void
test_order (void)
{
  struct sockaddr_in a, b, from;
  int ra = udp_socket (&a), rb = udp_socket (&b), tx = udp_socket (&from);
  SpSipSender *sender = sp_sip_sender_new ();
  const guint n = 2000;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *text = g_strdup_printf ("message %u", i);

      push_text (sender, tx, i % 2 ? &b : &a, text);
    }
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *want = g_strdup_printf ("message %u", i);
      g_autofree char *got = receive (i % 2 ? rb : ra);

      g_assert_cmpstr (got, ==, want);
    }
  g_assert_cmpuint (sp_sip_sender_get_sent (sender), ==, n);
  g_assert_cmpuint (sp_sip_sender_get_failures (sender), ==, 0);
  sp_sip_sender_free (sender);
  close (ra);
  close (rb);
  close (tx);
}

static void
test_flush_on_free (void)
{
  struct sockaddr_in a, from;
  int ra = udp_socket (&a), tx = udp_socket (&from);
  SpSipSender *sender = sp_sip_sender_new ();

  for (guint i = 0; i < 500; i++)
    {
      g_autofree char *text = g_strdup_printf ("last %u", i);

      push_text (sender, tx, &a, text);
    }
  sp_sip_sender_free (sender);
  for (guint i = 0; i < 500; i++)
    {
      g_autofree char *want = g_strdup_printf ("last %u", i);
      g_autofree char *got = receive (ra);

      g_assert_cmpstr (got, ==, want);
    }
  close (ra);
  close (tx);
}

static void
test_failure_stats (void)
{
  struct sockaddr_in a, from;
  struct sockaddr_in6 v6 = { .sin6_family = AF_INET6, .sin6_port = htons (9) };
  int ra = udp_socket (&a), tx = udp_socket (&from);
  SpSipSender *sender = sp_sip_sender_new ();
  g_autoptr (GBytes) bytes = g_bytes_new_static ("lost", 4);
  g_autofree char *got = NULL;

  push_text (sender, tx, &a, "before");
  g_assert_true (
      sp_sip_sender_push (sender, tx, (const struct sockaddr *) &v6, sizeof v6, bytes, TRUE));
  push_text (sender, tx, &a, "after");
  got = receive (ra);
  g_assert_cmpstr (got, ==, "before");
  g_clear_pointer (&got, g_free);
  got = receive (ra);
  g_assert_cmpstr (got, ==, "after");
  /* The writer counts after sendmmsg () returns: allow it a moment. */
  for (guint i = 0; i < 200 && sp_sip_sender_get_sent (sender) < 2; i++)
    g_usleep (10000);
  g_assert_cmpuint (sp_sip_sender_get_failures (sender), ==, 1);
  g_assert_cmpuint (sp_sip_sender_get_sent (sender), ==, 2);
  sp_sip_sender_free (sender);
  close (ra);
  close (tx);
}

/* Datagrams queued without waking the writer leave on the kick that
 * ends a batch. */
static void
test_kick (void)
{
  struct sockaddr_in a, from;
  int ra = udp_socket (&a), tx = udp_socket (&from);
  SpSipSender *sender = sp_sip_sender_new ();

  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *text = g_strdup_printf ("batch %u", i);
      g_autoptr (GBytes) bytes = g_bytes_new (text, strlen (text));

      g_assert_true (
          sp_sip_sender_push (sender, tx, (const struct sockaddr *) &a, sizeof a, bytes, FALSE));
    }
  sp_sip_sender_kick (sender);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *want = g_strdup_printf ("batch %u", i);
      g_autofree char *got = receive (ra);

      g_assert_cmpstr (got, ==, want);
    }
  sp_sip_sender_free (sender);
  close (ra);
  close (tx);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sip-sender/order", test_order);
  g_test_add_func ("/sip-sender/flush-on-free", test_flush_on_free);
  g_test_add_func ("/sip-sender/kick", test_kick);
  g_test_add_func ("/sip-sender/failure-stats", test_failure_stats);
  return g_test_run ();
}
