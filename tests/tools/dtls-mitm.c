/* A man in the middle of DTLS-SRTP media, for tests only (dtls.py
 * mitm-terminates, issue 16): what a server that wanted to listen would
 * really do. It terminates DTLS with its own certificate on both legs
 * (the signalling side, in dtls.py, put that certificate's fingerprint
 * into both phones' SDPs and its two sockets into their c=/m= lines),
 * so both handshakes succeed; then it unprotects every SRTP/SRTCP packet
 * of one leg with that leg's keys and protects it again with the other
 * leg's. The phones hear each other, and only the short authentication
 * string (media/sas.h) shows the attack: each phone computes it over its
 * own and the MITM's fingerprint, so the two ends' words differ.
 *
 * It uses our own SpDtls, SpSrtp and an ephemeral SpSipTlsIdentity.
 * rtcp-mux only (RFC 5761: RTCP on the RTP port, as our phones send it
 * with DTLS-SRTP); the demultiplexing is RFC 7983's.
 *
 * Output on stdout, one line each, flushed:
 *   fingerprint sha-256 AB:CD:...        (first line)
 *   ports A-PORT B-PORT
 *   established LEG PROFILE PEER-FINGERPRINT
 *   failed LEG REASON
 *   stats LEG rtp=N rtcp=N forwarded=N auth-failed=N dropped=N   (at exit)
 * Commands on stdin, one a line:
 *   peer LEG HOST PORT SHA256-FINGERPRINT   (the phone-side address and
 *     the fingerprint its SDP gave; a DTLS client leg starts then)
 * A leg without a peer latches on the first packet it receives.
 * --capture writes each plain RTP packet received on --capture-leg as a
 * 2-byte big-endian length and the packet: the proof that it decrypted.
 * It stops by itself after --seconds, and on SIGTERM or SIGINT. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>
#include <glib-unix.h>
#include <signal.h>

#include "media/dtls.h"
#include "media/srtp.h"
#include "sip/tls.h"

#define MAX_PACKET 2048

typedef struct _Mitm Mitm;

typedef struct
{
  Mitm *mitm;
  char name; /* 'a' or 'b' */
  GSocket *socket;
  GSource *source;
  GSocketAddress *peer;
  SpDtlsRole role;
  SpDtls *dtls;
  gboolean started;
  SpSrtp *srtp;
  guint64 rtp, rtcp, forwarded, auth_failed, dropped;
} Leg;

struct _Mitm
{
  GMainLoop *loop;
  SpSipTlsIdentity *identity;
  Leg legs[2];
  FILE *capture;
  char capture_leg;
  GIOChannel *input;
  guint input_watch;
};

static void output (const char *fmt, ...) G_GNUC_PRINTF (1, 2);

static void
output (const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  vprintf (fmt, ap);
  va_end (ap);
  putchar ('\n');
  fflush (stdout);
}

static Leg *
other_leg (Leg *leg)
{
  return leg == &leg->mitm->legs[0] ? &leg->mitm->legs[1] : &leg->mitm->legs[0];
}

static Leg *
leg_named (Mitm *mitm, const char *name)
{
  if (g_strcmp0 (name, "a") == 0)
    return &mitm->legs[0];
  if (g_strcmp0 (name, "b") == 0)
    return &mitm->legs[1];
  return NULL;
}

static void
leg_send (Leg *leg, const guint8 *data, gsize len)
{
  g_autoptr (GError) error = NULL;

  if (leg->peer == NULL)
    return;
  if (g_socket_send_to (leg->socket, leg->peer, (const char *) data, len, NULL, &error) < 0)
    g_debug ("leg %c: send: %s", leg->name, error->message);
}

static void
on_dtls_send (SpDtls *dtls, const guint8 *data, gsize len, gpointer user_data)
{
  leg_send (user_data, data, len);
}

static SpSrtpSuite
suite_for_profile (SpDtlsSrtpProfile profile)
{
  return profile == SP_DTLS_SRTP_AES128_CM_HMAC_SHA1_32 ? SP_SRTP_AES_CM_128_HMAC_SHA1_32
                                                        : SP_SRTP_AES_CM_128_HMAC_SHA1_80;
}

static void
on_dtls_established (SpDtls *dtls, gpointer user_data)
{
  Leg *leg = user_data;
  SpDtlsSrtpKeys keys;
  g_autoptr (GError) error = NULL;

  if (!sp_dtls_get_srtp_keys (dtls, &keys))
    return;
  leg->srtp = sp_srtp_new (suite_for_profile (keys.profile), keys.local, keys.local_len,
                           keys.remote, keys.remote_len, &error);
  if (leg->srtp == NULL)
    output ("failed %c SRTP: %s", leg->name, error->message);
  else
    output ("established %c %s %s", leg->name, sp_dtls_srtp_profile_name (keys.profile),
            sp_dtls_get_peer_fingerprint (dtls));
  memset (&keys, 0, sizeof keys);
}

static void
on_dtls_failed (SpDtls *dtls, const GError *error, gpointer user_data)
{
  Leg *leg = user_data;

  output ("failed %c %s", leg->name, error->message);
}

static void
capture_write (Mitm *mitm, const guint8 *data, gsize len)
{
  guint8 head[2] = { (guint8) (len >> 8), (guint8) len };

  if (fwrite (head, 1, 2, mitm->capture) != 2 || fwrite (data, 1, len, mitm->capture) != len)
    g_warning ("capture: %s", g_strerror (errno));
}

/* An SRTP or SRTCP packet from @leg's phone: in the clear with @leg's
 * keys, protected again with the other leg's, and sent on. */
static void
relay_media (Leg *leg, guint8 *buf, gsize len)
{
  Leg *to = other_leg (leg);
  gboolean rtcp = len >= 2 && buf[1] >= 192 && buf[1] <= 223; /* RFC 5761 4 */
  SpSrtpResult r;

  if (leg->srtp == NULL)
    {
      leg->dropped++;
      return;
    }
  r = rtcp ? sp_srtp_unprotect_rtcp (leg->srtp, buf, &len)
           : sp_srtp_unprotect_rtp (leg->srtp, buf, &len);
  if (r != SP_SRTP_OK)
    {
      leg->auth_failed++;
      return;
    }
  if (rtcp)
    leg->rtcp++;
  else
    leg->rtp++;
  if (!rtcp && leg->mitm->capture != NULL && leg->mitm->capture_leg == leg->name)
    capture_write (leg->mitm, buf, len);
  if (to->srtp == NULL || to->peer == NULL)
    {
      leg->dropped++;
      return;
    }
  r = rtcp ? sp_srtp_protect_rtcp (to->srtp, buf, &len, MAX_PACKET + SP_SRTP_MAX_OVERHEAD)
           : sp_srtp_protect_rtp (to->srtp, buf, &len, MAX_PACKET + SP_SRTP_MAX_OVERHEAD);
  if (r != SP_SRTP_OK)
    {
      leg->dropped++;
      return;
    }
  leg_send (to, buf, len);
  leg->forwarded++;
}

static gboolean
same_address (GSocketAddress *x, GSocketAddress *y)
{
  GInetSocketAddress *a = G_INET_SOCKET_ADDRESS (x), *b = G_INET_SOCKET_ADDRESS (y);

  return g_inet_socket_address_get_port (a) == g_inet_socket_address_get_port (b) &&
         g_inet_address_equal (g_inet_socket_address_get_address (a),
                               g_inet_socket_address_get_address (b));
}

static gboolean
on_readable (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  Leg *leg = user_data;
  guint8 buf[MAX_PACKET + SP_SRTP_MAX_OVERHEAD];

  for (;;)
    {
      g_autoptr (GSocketAddress) from = NULL;
      g_autoptr (GError) error = NULL;
      gssize n = g_socket_receive_from (socket, &from, (char *) buf, MAX_PACKET, NULL, &error);

      if (n < 0)
        break;
      if (leg->peer == NULL)
        leg->peer = g_object_ref (from);
      else if (!same_address (leg->peer, from))
        {
          leg->dropped++;
          continue;
        }
      if (n > 0 && buf[0] >= 20 && buf[0] <= 63) /* DTLS, RFC 7983 */
        {
          if (!leg->started)
            {
              leg->started = TRUE;
              sp_dtls_start (leg->dtls);
            }
          sp_dtls_receive (leg->dtls, buf, (gsize) n);
        }
      else if (n >= 12 && buf[0] >= 128 && buf[0] <= 191)
        relay_media (leg, buf, (gsize) n);
      else
        leg->dropped++;
    }
  return G_SOURCE_CONTINUE;
}

/* "peer LEG HOST PORT FINGERPRINT" */
static void
command (Mitm *mitm, const char *line)
{
  g_auto (GStrv) words = g_strsplit_set (line, " \t", -1);
  g_autoptr (GError) error = NULL;
  Leg *leg;
  guint64 port;

  if (g_strv_length (words) != 5 || g_strcmp0 (words[0], "peer") != 0 ||
      (leg = leg_named (mitm, words[1])) == NULL ||
      !g_ascii_string_to_unsigned (words[3], 10, 1, 65535, &port, NULL) ||
      !g_hostname_is_ip_address (words[2]))
    {
      output ("error bad command: %s", line);
      return;
    }
  g_clear_object (&leg->peer);
  leg->peer = g_inet_socket_address_new_from_string (words[2], (guint) port);
  if (!sp_dtls_set_remote_fingerprint (leg->dtls, "sha-256", words[4], &error))
    {
      output ("error %s", error->message);
      return;
    }
  if (leg->role == SP_DTLS_ROLE_CLIENT && !leg->started)
    {
      leg->started = TRUE;
      sp_dtls_start (leg->dtls);
    }
}

static gboolean
on_input (GIOChannel *channel, GIOCondition condition, gpointer user_data)
{
  Mitm *mitm = user_data;
  g_autofree char *line = NULL;
  gsize terminator;
  GIOStatus status = g_io_channel_read_line (channel, &line, NULL, &terminator, NULL);

  if (status == G_IO_STATUS_NORMAL && line != NULL)
    {
      line[terminator] = '\0';
      command (mitm, line);
      return G_SOURCE_CONTINUE;
    }
  if (status == G_IO_STATUS_AGAIN)
    return G_SOURCE_CONTINUE;
  mitm->input_watch = 0; /* EOF: keep relaying until the time is up */
  return G_SOURCE_REMOVE;
}

static gboolean
on_stop (gpointer user_data)
{
  g_main_loop_quit (((Mitm *) user_data)->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean
parse_role (const char *text, SpDtlsRole *role)
{
  if (g_strcmp0 (text, "client") == 0)
    *role = SP_DTLS_ROLE_CLIENT;
  else if (g_strcmp0 (text, "server") == 0)
    *role = SP_DTLS_ROLE_SERVER;
  else
    return FALSE;
  return TRUE;
}

static gboolean
leg_open (Mitm *mitm, Leg *leg, char name, const char *host, const char *role, GError **error)
{
  static const SpDtlsCallbacks callbacks = { on_dtls_send, on_dtls_established, on_dtls_failed };
  g_auto (GStrv) parts = g_strsplit (host ? host : "", ":", 2);
  g_autoptr (GInetAddress) address = g_inet_address_new_from_string (parts[0] ? parts[0] : "");
  g_autoptr (GSocketAddress) bind = NULL;
  guint64 port = 0;

  leg->mitm = mitm;
  leg->name = name;
  if (address == NULL || g_inet_address_get_family (address) != G_SOCKET_FAMILY_IPV4 ||
      (parts[0] != NULL && parts[1] != NULL &&
       !g_ascii_string_to_unsigned (parts[1], 10, 1, 65535, &port, NULL)) ||
      !parse_role (role, &leg->role))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "leg %c: an IPv4 address[:port] and a role (client or server) are needed", name);
      return FALSE;
    }
  bind = g_inet_socket_address_new (address, (guint16) port);
  leg->socket =
      g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, error);
  if (leg->socket == NULL || !g_socket_bind (leg->socket, bind, FALSE, error))
    return FALSE;
  g_socket_set_blocking (leg->socket, FALSE);
  leg->dtls = sp_dtls_new (mitm->identity, leg->role, &callbacks, leg, error);
  if (leg->dtls == NULL)
    return FALSE;
  leg->source = g_socket_create_source (leg->socket, G_IO_IN, NULL);
  g_source_set_callback (leg->source, (GSourceFunc) (void (*) (void)) on_readable, leg, NULL);
  g_source_attach (leg->source, NULL);
  return TRUE;
}

static guint16
leg_port (Leg *leg)
{
  g_autoptr (GSocketAddress) local = g_socket_get_local_address (leg->socket, NULL);

  return local ? g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)) : 0;
}

static void
leg_print_stats (Leg *leg)
{
  output ("stats %c rtp=%" G_GUINT64_FORMAT " rtcp=%" G_GUINT64_FORMAT
          " forwarded=%" G_GUINT64_FORMAT " auth-failed=%" G_GUINT64_FORMAT
          " dropped=%" G_GUINT64_FORMAT,
          leg->name, leg->rtp, leg->rtcp, leg->forwarded, leg->auth_failed, leg->dropped);
}

static void
leg_close (Leg *leg)
{
  if (leg->mitm == NULL)
    return;
  if (leg->source != NULL)
    {
      g_source_destroy (leg->source);
      g_source_unref (leg->source);
    }
  sp_dtls_free (leg->dtls);
  sp_srtp_free (leg->srtp);
  g_clear_object (&leg->peer);
  g_clear_object (&leg->socket);
}

int
main (int argc, char **argv)
{
  g_autofree char *host_a = NULL, *host_b = NULL, *capture = NULL, *capture_leg = NULL;
  g_autofree char *role_a = NULL, *role_b = NULL;
  int seconds = 60;
  /* Defaults as offer/answer settles them through our server: the
   * offerer says actpass, the answerer active (RFC 5763 5,
   * sp_dtls_setup_answer), so leg a, facing the answerer's side, is the
   * DTLS server, and leg b, facing the offerer, the client. */
  GOptionEntry entries[] = {
    { "leg-a", 0, 0, G_OPTION_ARG_STRING, &host_a, "leg a's socket (port 0: any)", "IP[:PORT]" },
    { "leg-b", 0, 0, G_OPTION_ARG_STRING, &host_b, "leg b's socket (port 0: any)", "IP[:PORT]" },
    { "role-a", 0, 0, G_OPTION_ARG_STRING, &role_a, "leg a's DTLS role (server)", "ROLE" },
    { "role-b", 0, 0, G_OPTION_ARG_STRING, &role_b, "leg b's DTLS role (client)", "ROLE" },
    { "capture", 0, 0, G_OPTION_ARG_FILENAME, &capture, "plain RTP of one leg to FILE", "FILE" },
    { "capture-leg", 0, 0, G_OPTION_ARG_STRING, &capture_leg, "the leg received on (b)", "LEG" },
    { "seconds", 0, 0, G_OPTION_ARG_INT, &seconds, "stop after S seconds (60)", "S" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- DTLS-SRTP man in the middle");
  g_autoptr (GError) error = NULL;
  Mitm mitm = { 0 };
  int status = 2;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (seconds < 1 || seconds > 3600 ||
      (capture_leg != NULL && g_strcmp0 (capture_leg, "a") != 0 &&
       g_strcmp0 (capture_leg, "b") != 0))
    {
      g_printerr ("--seconds is 1 to 3600, --capture-leg a or b\n");
      return 2;
    }
  mitm.capture_leg = capture_leg != NULL ? capture_leg[0] : 'b';
  mitm.loop = g_main_loop_new (NULL, FALSE);
  mitm.identity = sp_sip_tls_identity_new_ephemeral ((const char *const[]){ "mitm", NULL }, &error);
  if (mitm.identity == NULL ||
      !leg_open (&mitm, &mitm.legs[0], 'a', host_a, role_a ? role_a : "server", &error) ||
      !leg_open (&mitm, &mitm.legs[1], 'b', host_b, role_b ? role_b : "client", &error))
    {
      g_printerr ("dtls-mitm: %s\n", error->message);
      goto out;
    }
  if (capture != NULL && (mitm.capture = fopen (capture, "wb")) == NULL)
    {
      g_printerr ("dtls-mitm: %s: %s\n", capture, g_strerror (errno));
      goto out;
    }
  mitm.input = g_io_channel_unix_new (0);
  mitm.input_watch = g_io_add_watch (mitm.input, G_IO_IN | G_IO_HUP | G_IO_ERR, on_input, &mitm);
  g_timeout_add_seconds ((guint) seconds, on_stop, &mitm);
  g_unix_signal_add (SIGTERM, on_stop, &mitm);
  g_unix_signal_add (SIGINT, on_stop, &mitm);
  output ("fingerprint sha-256 %s", sp_sip_tls_identity_get_fingerprint (mitm.identity));
  output ("ports %u %u", leg_port (&mitm.legs[0]), leg_port (&mitm.legs[1]));
  g_main_loop_run (mitm.loop);
  leg_print_stats (&mitm.legs[0]);
  leg_print_stats (&mitm.legs[1]);
  status = 0;
out:
  leg_close (&mitm.legs[0]);
  leg_close (&mitm.legs[1]);
  if (mitm.input_watch != 0)
    g_source_remove (mitm.input_watch);
  if (mitm.input != NULL)
    g_io_channel_unref (mitm.input);
  if (mitm.capture != NULL)
    fclose (mitm.capture);
  g_clear_pointer (&mitm.identity, sp_sip_tls_identity_unref);
  g_main_loop_unref (mitm.loop);
  return status;
}
