/* The server's RTP relay under load: N calls on an SpRelay, driven by an
 * external generator (../shared/bench/rtpload). Writes rtpload's --pairs
 * file, then keeps the relay running for the given seconds and prints the
 * relay's own counters (received, relayed, dropped) as JSON.
 *
 *   bench-relay N PAIRS_FILE SECONDS [LOCAL_PORT_BASE]
 *
 * Each call: rtpload's A socket on 127.0.0.1:BASE+4i talks to the relay's
 * side A, its B socket on BASE+4i+2 to side B. Loopback only.
 *
 *   bench-relay --srtp N SECONDS REPEATS
 *
 * The relay's cost per packet with SRTP passing through against plain RTP,
 * in one run: an in-process generator sends both directions of N calls
 * (one packet per 20 ms each way) and the windows alternate plain and SRTP
 * (plain, SRTP, SRTP, plain, ...) REPEATS times each. The relay thread's
 * CPU (/proc/self/task/TID/schedstat) over the packets it received gives
 * ns per packet; medians and their ratio are printed as JSON. SRTP here is
 * what the relay sees of it (no libsrtp in this tree's media code yet): the
 * clear RTP header, a random payload of the same size and a 10-byte
 * authentication tag (AES_CM_128_HMAC_SHA1_80). Each call starts with a
 * DTLS handshake flight from both sides (RFC 7983 first byte 22), counted
 * apart: the relay of this tree passes DTLS only from a latched source. */
#include "server/relay.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SRTP_TAG_LEN   10  /* HMAC-SHA1-80 */
#define G711_PAYLOAD   160 /* 20 ms of PCMU */
#define PACKET_MS      20
#define SETTLE_SECONDS 1

typedef struct
{
  int fd[2];       /* generator sockets facing the relay's sides A and B */
  guint16 port[2]; /* the relay's ports for them */
  guint32 ssrc[2]; /* per direction */
  guint16 seq[2];
  guint32 ts[2];
} GenCall;

typedef struct
{
  GenCall *calls;
  guint n;
  gint srtp; /* atomic: 0 plain, 1 SRTP-shaped */
  gint stop; /* atomic */
  guint64 sent;
  guint64 dtls_sent;
} Generator;

static int
loopback_socket (guint16 *port)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof sin;
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

  if (fd < 0 || bind (fd, (struct sockaddr *) &sin, sizeof sin) < 0 ||
      getsockname (fd, (struct sockaddr *) &sin, &len) < 0)
    {
      if (fd >= 0)
        close (fd);
      return -1;
    }
  *port = ntohs (sin.sin_port);
  return fd;
}

static void
send_to_relay (GenCall *call, int side, const guint8 *p, gsize n)
{
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };

  to.sin_port = htons (call->port[side]);
  (void) sendto (call->fd[side], p, n, MSG_DONTWAIT, (struct sockaddr *) &to, sizeof to);
}

/* A DTLS 1.2 handshake record (ClientHello-sized), as DTLS-SRTP starts
 * each call: content type 22, version 254.253. */
static void
send_dtls_flight (Generator *gen, GenCall *call, int side)
{
  guint8 record[13 + 180];

  memset (record, 0, sizeof record);
  record[0] = 22;
  record[1] = 254;
  record[2] = 253;
  record[11] = 0;
  record[12] = 180;
  for (gsize i = 13; i < sizeof record; i++)
    record[i] = (guint8) g_random_int ();
  send_to_relay (call, side, record, sizeof record);
  gen->dtls_sent++;
}

/* One RTP packet (PCMU, PT 0) from @side; with SRTP its payload is
 * ciphertext-like and a tag follows, as the relay receives it. */
static void
send_media (Generator *gen, GenCall *call, int side, gboolean srtp)
{
  guint8 packet[12 + G711_PAYLOAD + SRTP_TAG_LEN];
  gsize n = 12 + G711_PAYLOAD + (srtp ? SRTP_TAG_LEN : 0);

  packet[0] = 0x80;
  packet[1] = 0;
  packet[2] = (guint8) (call->seq[side] >> 8);
  packet[3] = (guint8) call->seq[side];
  packet[4] = (guint8) (call->ts[side] >> 24);
  packet[5] = (guint8) (call->ts[side] >> 16);
  packet[6] = (guint8) (call->ts[side] >> 8);
  packet[7] = (guint8) call->ts[side];
  packet[8] = (guint8) (call->ssrc[side] >> 24);
  packet[9] = (guint8) (call->ssrc[side] >> 16);
  packet[10] = (guint8) (call->ssrc[side] >> 8);
  packet[11] = (guint8) call->ssrc[side];
  if (srtp)
    for (gsize i = 12; i < n; i += 4)
      {
        guint32 r = g_random_int ();
        memcpy (packet + i, &r, MIN (4, n - i));
      }
  else
    memset (packet + 12, 0xff, G711_PAYLOAD); /* PCMU silence */
  call->seq[side]++;
  call->ts[side] += 8 * PACKET_MS;
  send_to_relay (call, side, packet, n);
  gen->sent++;
}

static void
drain (GenCall *call)
{
  guint8 buf[1500];

  for (int side = 0; side < 2; side++)
    while (recv (call->fd[side], buf, sizeof buf, MSG_DONTWAIT) > 0)
      ;
}

/* Paced at one packet per 20 ms each way per call; bounded by stop. */
static gpointer
generator_thread (gpointer data)
{
  Generator *gen = data;
  gint64 next = g_get_monotonic_time ();

  for (guint i = 0; i < gen->n; i++)
    for (int side = 0; side < 2; side++)
      send_dtls_flight (gen, &gen->calls[i], side);
  while (!g_atomic_int_get (&gen->stop))
    {
      gboolean srtp = g_atomic_int_get (&gen->srtp);
      gint64 now;

      for (guint i = 0; i < gen->n; i++)
        {
          send_media (gen, &gen->calls[i], 0, srtp);
          send_media (gen, &gen->calls[i], 1, srtp);
          drain (&gen->calls[i]);
        }
      next += PACKET_MS * 1000;
      now = g_get_monotonic_time ();
      if (next > now)
        g_usleep ((gulong) (next - now));
      else
        next = now; /* behind: no catch-up burst */
    }
  return NULL;
}

/* The relay thread's CPU time so far, in ns (0 when not found). */
static guint64
relay_thread_cpu_ns (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  const char *tid;

  while (dir != NULL && (tid = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *comm_path = g_build_filename ("/proc/self/task", tid, "comm", NULL);
      g_autofree char *stat_path = g_build_filename ("/proc/self/task", tid, "schedstat", NULL);
      g_autofree char *comm = NULL;
      g_autofree char *stat = NULL;

      if (!g_file_get_contents (comm_path, &comm, NULL, NULL) ||
          !g_str_has_prefix (comm, "sp-relay"))
        continue;
      if (g_file_get_contents (stat_path, &stat, NULL, NULL))
        return g_ascii_strtoull (stat, NULL, 10);
    }
  return 0;
}

static void
sum_stats (GPtrArray *relay_calls, SpRelayStats *total)
{
  memset (total, 0, sizeof *total);
  for (guint i = 0; i < relay_calls->len; i++)
    for (int side = 0; side < 2; side++)
      {
        SpRelayStats s;
        sp_relay_call_get_stats (g_ptr_array_index (relay_calls, i), side, &s);
        total->received += s.received;
        total->relayed += s.relayed;
        total->dropped += s.dropped;
        total->rejected += s.rejected;
      }
}

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double
median (GArray *values)
{
  g_array_sort (values, compare_double);
  if (values->len == 0)
    return 0;
  if (values->len % 2)
    return g_array_index (values, double, values->len / 2);
  return (g_array_index (values, double, values->len / 2 - 1) +
          g_array_index (values, double, values->len / 2)) /
         2;
}

static void
print_values (const char *name, GArray *values)
{
  printf ("\"%s\": [", name);
  for (guint i = 0; i < values->len; i++)
    printf ("%s%.1f", i ? ", " : "", g_array_index (values, double, i));
  printf ("], ");
}

static int
run_srtp_compare (guint n, guint seconds, guint repeats)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpRelay) relay = NULL;
  g_autoptr (GPtrArray) relay_calls = g_ptr_array_new ();
  g_autoptr (GArray) plain = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) srtp = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) ratios = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree GenCall *calls = g_new0 (GenCall, n);
  Generator gen = { .calls = calls, .n = n };
  GThread *thread;
  SpRelayStats start, end;
  double last_plain = 0;

  relay = sp_relay_new ("127.0.0.1", 40000, 60000, &error);
  if (relay == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  for (guint i = 0; i < n; i++)
    {
      SpRelayCall *call = sp_relay_call_new (relay, &error);
      SpRelayRemote remote = { .host = "127.0.0.1", .signalling_host = "127.0.0.1" };
      guint16 local[2];

      if (call == NULL)
        {
          fprintf (stderr, "%s\n", error->message);
          return 1;
        }
      g_ptr_array_add (relay_calls, call);
      sp_relay_remote_add_payload_type (&remote, 0);
      for (int side = 0; side < 2; side++)
        {
          calls[i].fd[side] = loopback_socket (&local[side]);
          if (calls[i].fd[side] < 0)
            {
              fprintf (stderr, "socket: %s\n", g_strerror (errno));
              return 1;
            }
          calls[i].port[side] = sp_relay_call_get_port (call, side);
          calls[i].ssrc[side] = g_random_int ();
          calls[i].seq[side] = (guint16) g_random_int ();
          remote.rtp_port = local[side];
          sp_relay_call_set_remote (call, side, &remote);
        }
    }
  thread = g_thread_new ("generator", generator_thread, &gen);
  g_usleep (SETTLE_SECONDS * G_USEC_PER_SEC);
  sum_stats (relay_calls, &start);
  fprintf (stderr,
           "%u calls; DTLS records at call start: %" G_GUINT64_FORMAT " sent, %" G_GUINT64_FORMAT
           " rejected by the relay\n",
           n, gen.dtls_sent, start.rejected);
  /* plain, SRTP, SRTP, plain, ...: neither mode always runs first. */
  for (guint r = 0; r < 2 * repeats; r++)
    {
      gboolean is_srtp = (r % 4 == 1 || r % 4 == 2);
      guint64 cpu0, cpu1;
      double ns;

      g_atomic_int_set (&gen.srtp, is_srtp);
      g_usleep (G_USEC_PER_SEC / 2);
      sum_stats (relay_calls, &start);
      cpu0 = relay_thread_cpu_ns ();
      g_usleep ((gulong) seconds * G_USEC_PER_SEC);
      cpu1 = relay_thread_cpu_ns ();
      sum_stats (relay_calls, &end);
      ns = end.received > start.received
               ? (double) (cpu1 - cpu0) / (double) (end.received - start.received)
               : 0;
      g_array_append_val (is_srtp ? srtp : plain, ns);
      if (!is_srtp)
        last_plain = ns;
      else if (last_plain > 0)
        {
          double ratio = ns / last_plain;
          g_array_append_val (ratios, ratio);
        }
      fprintf (stderr,
               "window %u %s: %.1f ns/packet, %" G_GUINT64_FORMAT " packets, %" G_GUINT64_FORMAT
               " dropped\n",
               r, is_srtp ? "srtp" : "plain", ns, end.received - start.received,
               end.dropped - start.dropped);
    }
  g_atomic_int_set (&gen.stop, 1);
  g_thread_join (thread);
  printf ("{\"calls\": %u, \"seconds\": %u, ", n, seconds);
  print_values ("plain_ns_per_packet", plain);
  print_values ("srtp_ns_per_packet", srtp);
  {
    double mp = median (plain), ms = median (srtp), mr = median (ratios);
    printf ("\"median_plain\": %.1f, \"median_srtp\": %.1f, \"ratio_of_medians\": %.3f, "
            "\"median_paired_ratio\": %.3f, \"dtls_sent\": %" G_GUINT64_FORMAT "}\n",
            mp, ms, mp > 0 ? ms / mp : 0, mr, gen.dtls_sent);
  }
  for (guint i = 0; i < relay_calls->len; i++)
    sp_relay_call_free (g_ptr_array_index (relay_calls, i));
  for (guint i = 0; i < n; i++)
    for (int side = 0; side < 2; side++)
      close (calls[i].fd[side]);
  return 0;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpRelay) relay = NULL;
  g_autoptr (GPtrArray) calls = NULL;
  g_autoptr (GString) pairs = g_string_new (NULL);
  guint n, seconds, base;
  SpRelayStats total = { 0 };

  if (argc == 5 && g_str_equal (argv[1], "--srtp"))
    {
      n = (guint) atoi (argv[2]);
      seconds = (guint) atoi (argv[3]);
      base = (guint) atoi (argv[4]); /* repeats */
      if (n == 0 || n > 2000 || seconds == 0 || seconds > 60 || base == 0 || base > 50)
        {
          fprintf (stderr, "bad arguments: --srtp N(1-2000) SECONDS(1-60) REPEATS(1-50)\n");
          return 2;
        }
      return run_srtp_compare (n, seconds, base);
    }
  if (argc < 4)
    {
      fprintf (stderr,
               "usage: %s N PAIRS_FILE SECONDS [LOCAL_PORT_BASE]\n"
               "       %s --srtp N SECONDS REPEATS\n",
               argv[0], argv[0]);
      return 2;
    }
  n = (guint) atoi (argv[1]);
  seconds = (guint) atoi (argv[3]);
  base = argc > 4 ? (guint) atoi (argv[4]) : 10000;
  if (n == 0 || n > 5000 || base < 1024 || base + 4 * n > 65000)
    {
      fprintf (stderr, "bad arguments\n");
      return 2;
    }
  relay = sp_relay_new ("127.0.0.1", 40000, 60000, &error);
  if (relay == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  calls = g_ptr_array_new ();
  for (guint i = 0; i < n; i++)
    {
      SpRelayCall *call = sp_relay_call_new (relay, &error);
      SpRelayRemote remote = { .host = "127.0.0.1", .signalling_host = "127.0.0.1" };
      guint a_local = base + 4 * i, b_local = base + 4 * i + 2;

      if (call == NULL)
        {
          fprintf (stderr, "%s\n", error->message);
          return 1;
        }
      /* rtpload sends PCMU (PT 0) from the SDP addresses: latched at once. */
      remote.payload_types[0] = 1;
      remote.rtp_port = (guint16) a_local;
      sp_relay_call_set_remote (call, SP_RELAY_SIDE_A, &remote);
      remote.rtp_port = (guint16) b_local;
      sp_relay_call_set_remote (call, SP_RELAY_SIDE_B, &remote);
      g_string_append_printf (pairs, "%u 127.0.0.1:%u %u 127.0.0.1:%u\n", a_local,
                              sp_relay_call_get_port (call, SP_RELAY_SIDE_A), b_local,
                              sp_relay_call_get_port (call, SP_RELAY_SIDE_B));
      g_ptr_array_add (calls, call);
    }
  if (!g_file_set_contents (argv[2], pairs->str, (gssize) pairs->len, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  fprintf (stderr, "%u calls ready, pairs in %s\n", n, argv[2]);
  g_usleep ((gulong) seconds * G_USEC_PER_SEC);
  for (guint i = 0; i < calls->len; i++)
    for (int side = 0; side < 2; side++)
      {
        SpRelayStats s;
        sp_relay_call_get_stats (g_ptr_array_index (calls, i), side, &s);
        total.received += s.received;
        total.relayed += s.relayed;
        total.dropped += s.dropped;
        total.rejected += s.rejected;
      }
  printf ("{\"calls\": %u, \"received\": %" G_GUINT64_FORMAT ", \"relayed\": %" G_GUINT64_FORMAT
          ", \"dropped\": %" G_GUINT64_FORMAT ", \"rejected\": %" G_GUINT64_FORMAT "}\n",
          n, total.received, total.relayed, total.dropped, total.rejected);
  for (guint i = 0; i < calls->len; i++)
    sp_relay_call_free (g_ptr_array_index (calls, i));
  return 0;
}
