/* A bounded REGISTER-over-TLS load client for bench/bench-tls-register.sh:
 * SIPp in Debian 12 is built without TLS (`sipp -v`: no "-TLS", no `-t l1`),
 * so this sends what SIPp's reg_auth scenario sends, over persistent TLS
 * connections as phones keep them.
 *
 * CONNS threads, each with one TLS connection (certificate not checked: a
 * bench on loopback) and one user u<N> (password pw<N>, N = 1..CONNS), loop
 * REGISTER -> 401 -> REGISTER with digest (MD5, qop=auth when offered) -> 200
 * on that connection until SECONDS have passed or MAX registrations were
 * made in all. Prints one line:
 *   ok N failed F seconds S rate R
 * Loopback only, bounded in time and count; exits by itself.
 *
 *   tls-register-load HOST PORT CONNS SECONDS MAX
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 1000
#define BUF_SIZE  8192

static const char *host;
static int port;
static double deadline;
static long max_total;
static long run_id; /* in the Call-ID: a new run starts at CSeq 1 again */
static atomic_long n_ok;
static atomic_long n_failed;
static atomic_long n_started;
static gnutls_certificate_credentials_t creds;

static double
now_s (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
md5_hex (const char *text, char out[33])
{
  unsigned char digest[16];

  gnutls_hash_fast (GNUTLS_DIG_MD5, text, strlen (text), digest);
  for (int i = 0; i < 16; i++)
    sprintf (out + 2 * i, "%02x", digest[i]);
}

typedef struct
{
  int index;
  int fd;
  gnutls_session_t tls;
  char buf[BUF_SIZE];
  size_t len; /* bytes in buf not yet consumed */
  unsigned cseq;
} Conn;

static int
send_all (Conn *c, const char *text, size_t len)
{
  while (len > 0)
    {
      ssize_t n = gnutls_record_send (c->tls, text, len);

      if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
        continue;
      if (n < 0)
        return -1;
      text += n;
      len -= (size_t) n;
    }
  return 0;
}

/* The next whole response (headers and Content-Length body) into @out;
 * its status, or -1. */
static int
read_response (Conn *c, char *out, size_t out_size)
{
  for (;;)
    {
      char *end = c->len > 0 ? memmem (c->buf, c->len, "\r\n\r\n", 4) : NULL;

      if (end != NULL)
        {
          size_t head = (size_t) (end - c->buf) + 4;
          size_t body = 0;
          char *cl;
          size_t total;

          c->buf[head - 1] = '\0';
          cl = strcasestr (c->buf, "\r\nContent-Length:");
          if (cl != NULL)
            body = strtoul (cl + 17, NULL, 10);
          c->buf[head - 1] = '\n';
          total = head + body;
          if (total > sizeof c->buf)
            return -1;
          if (c->len >= total)
            {
              size_t copy = head < out_size ? head : out_size - 1;

              memcpy (out, c->buf, copy);
              out[copy] = '\0';
              memmove (c->buf, c->buf + total, c->len - total);
              c->len -= total;
              if (strncmp (out, "SIP/2.0 ", 8) != 0)
                return -1;
              return atoi (out + 8);
            }
        }
      if (c->len == sizeof c->buf)
        return -1;
      {
        ssize_t n = gnutls_record_recv (c->tls, c->buf + c->len, sizeof c->buf - c->len);

        if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
          continue;
        if (n <= 0)
          return -1;
        c->len += (size_t) n;
      }
    }
}

/* param="value" or param=value from @challenge into @out. */
static int
param (const char *challenge, const char *name, char *out, size_t size)
{
  const char *p = challenge;
  size_t nlen = strlen (name);

  while ((p = strcasestr (p, name)) != NULL)
    {
      const char *v = p + nlen;
      size_t i = 0;

      if ((p == challenge || p[-1] == ' ' || p[-1] == ',') && *v == '=')
        {
          v++;
          if (*v == '"')
            {
              v++;
              while (*v && *v != '"' && i + 1 < size)
                out[i++] = *v++;
            }
          else
            while (*v && *v != ',' && *v != '\r' && *v != ' ' && i + 1 < size)
              out[i++] = *v++;
          out[i] = '\0';
          return 0;
        }
      p += nlen;
    }
  return -1;
}

/* The MD5 challenge line of @response (a server may offer SHA-256 too). */
static const char *
md5_challenge (const char *response, char *line, size_t size)
{
  const char *p = response;

  while ((p = strcasestr (p, "\r\nWWW-Authenticate:")) != NULL)
    {
      const char *end = strstr (p + 2, "\r\n");
      size_t len = end ? (size_t) (end - p) : strlen (p);

      if (len >= size)
        len = size - 1;
      memcpy (line, p + 2, len);
      line[len] = '\0';
      if (strcasestr (line, "algorithm=") == NULL || strcasestr (line, "algorithm=MD5") != NULL ||
          strcasestr (line, "algorithm=\"MD5\"") != NULL)
        return line;
      p += 2;
    }
  return NULL;
}

static int
register_once (Conn *c)
{
  char user[16], pw[16], ruri[128], msg[2048], resp[BUF_SIZE], line[1024];
  char realm[128], nonce[256], qop[64], ha1[33], ha2[33], digest[33], text[1024], auth[1024];
  int status;

  snprintf (user, sizeof user, "u%d", c->index + 1);
  snprintf (pw, sizeof pw, "pw%d", c->index + 1);
  snprintf (ruri, sizeof ruri, "sip:%s:%d", host, port);
  auth[0] = '\0';
  for (int round = 0; round < 2; round++)
    {
      int len = snprintf (msg, sizeof msg,
                          "REGISTER %s SIP/2.0\r\n"
                          "Via: SIP/2.0/TLS %s:5999;branch=z9hG4bK%d-%u;rport\r\n"
                          "Max-Forwards: 70\r\n"
                          "From: <sip:%s@%s>;tag=t%d\r\n"
                          "To: <sip:%s@%s>\r\n"
                          "Call-ID: tlsreg-%ld-%d@%s\r\n"
                          "CSeq: %u REGISTER\r\n"
                          "Contact: <sip:%s@%s:5999;transport=tls>\r\n"
                          "Expires: 3600\r\n"
                          "%s"
                          "Content-Length: 0\r\n\r\n",
                          ruri, host, c->index, c->cseq, user, host, c->index, user, host, run_id,
                          c->index, host, c->cseq, user, host, auth);
      c->cseq++;
      if (len <= 0 || (size_t) len >= sizeof msg || send_all (c, msg, (size_t) len) < 0)
        return -1;
      do
        status = read_response (c, resp, sizeof resp);
      while (status >= 100 && status < 200);
      if (status == 200 && round == 1)
        return 0;
      if (status != 401 || round == 1 || md5_challenge (resp, line, sizeof line) == NULL ||
          param (line, "realm", realm, sizeof realm) < 0 ||
          param (line, "nonce", nonce, sizeof nonce) < 0)
        return status < 0 ? -1 : 1;
      snprintf (text, sizeof text, "%s:%s:%s", user, realm, pw);
      md5_hex (text, ha1);
      snprintf (text, sizeof text, "REGISTER:%s", ruri);
      md5_hex (text, ha2);
      if (param (line, "qop", qop, sizeof qop) == 0)
        {
          snprintf (text, sizeof text, "%s:%s:00000001:c%u:auth:%s", ha1, nonce, c->cseq, ha2);
          md5_hex (text, digest);
          snprintf (auth, sizeof auth,
                    "Authorization: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", "
                    "uri=\"%s\", response=\"%s\", algorithm=MD5, qop=auth, nc=00000001, "
                    "cnonce=\"c%u\"\r\n",
                    user, realm, nonce, ruri, digest, c->cseq);
        }
      else
        {
          snprintf (text, sizeof text, "%s:%s:%s", ha1, nonce, ha2);
          md5_hex (text, digest);
          snprintf (auth, sizeof auth,
                    "Authorization: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", "
                    "uri=\"%s\", response=\"%s\", algorithm=MD5\r\n",
                    user, realm, nonce, ruri, digest);
        }
    }
  return 1;
}

static int
conn_open (Conn *c)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
  int one = 1;
  int rc;

  if (inet_pton (AF_INET, host, &sin.sin_addr) != 1)
    return -1;
  c->fd = socket (AF_INET, SOCK_STREAM, 0);
  if (c->fd < 0 || connect (c->fd, (struct sockaddr *) &sin, sizeof sin) < 0)
    return -1;
  setsockopt (c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  gnutls_init (&c->tls, GNUTLS_CLIENT);
  gnutls_set_default_priority (c->tls);
  gnutls_credentials_set (c->tls, GNUTLS_CRD_CERTIFICATE, creds);
  gnutls_transport_set_int (c->tls, c->fd);
  do
    rc = gnutls_handshake (c->tls);
  while (rc < 0 && !gnutls_error_is_fatal (rc));
  return rc < 0 ? -1 : 0;
}

static void *
conn_run (void *data)
{
  Conn *c = data;

  if (conn_open (c) < 0)
    {
      fprintf (stderr, "connection %d: no TLS connection to %s:%d\n", c->index, host, port);
      atomic_fetch_add (&n_failed, 1);
      return NULL;
    }
  while (now_s () < deadline && atomic_fetch_add (&n_started, 1) < max_total)
    {
      int rc = register_once (c);

      if (rc == 0)
        atomic_fetch_add (&n_ok, 1);
      else
        {
          atomic_fetch_add (&n_failed, 1);
          if (rc < 0)
            break; /* the connection is gone */
        }
    }
  gnutls_bye (c->tls, GNUTLS_SHUT_WR);
  gnutls_deinit (c->tls);
  close (c->fd);
  return NULL;
}

int
main (int argc, char **argv)
{
  int conns;
  double seconds, start, elapsed;
  pthread_t threads[MAX_CONNS];
  Conn *all;

  if (argc != 6)
    {
      fprintf (stderr, "usage: %s HOST PORT CONNS SECONDS MAX\n", argv[0]);
      return 2;
    }
  host = argv[1];
  port = atoi (argv[2]);
  conns = atoi (argv[3]);
  seconds = atof (argv[4]);
  max_total = atol (argv[5]);
  if (port <= 0 || port > 65535 || conns <= 0 || conns > MAX_CONNS || seconds <= 0 ||
      seconds > 600 || max_total <= 0 || strncmp (host, "127.", 4) != 0)
    {
      fprintf (stderr, "bad arguments (loopback HOST, 1..%d CONNS, 0..600 s)\n", MAX_CONNS);
      return 2;
    }
  run_id = (long) getpid () ^ (long) time (NULL);
  gnutls_global_init ();
  gnutls_certificate_allocate_credentials (&creds);
  all = calloc ((size_t) conns, sizeof *all);
  start = now_s ();
  deadline = start + seconds;
  for (int i = 0; i < conns; i++)
    {
      all[i].index = i;
      all[i].cseq = 1;
      pthread_create (&threads[i], NULL, conn_run, &all[i]);
    }
  for (int i = 0; i < conns; i++)
    pthread_join (threads[i], NULL);
  elapsed = now_s () - start;
  printf ("ok %ld failed %ld seconds %.2f rate %.0f\n", atomic_load (&n_ok),
          atomic_load (&n_failed), elapsed, atomic_load (&n_ok) / elapsed);
  free (all);
  gnutls_certificate_free_credentials (creds);
  gnutls_global_deinit ();
  return 0;
}
