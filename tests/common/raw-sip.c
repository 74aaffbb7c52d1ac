#include "raw-sip.h"

#include <string.h>

/* How many unwanted messages raw_sip_expect() skips before failing. */
#define MAX_SKIPPED 50

SpSipStack *
raw_sip_stack_new (guint t1, SpSipPeer *bound)
{
  g_autoptr (GError) error = NULL;
  SpSipTimerSettings t;
  SpSipStack *stack;

  sp_sip_timer_settings_init (&t);
  t.t1 = t1;
  stack = sp_sip_stack_new (NULL, &t);
  g_assert_true (sp_sip_stack_listen (stack, SP_SIP_TRANSPORT_UDP, "127.0.0.1", 0, bound, &error));
  g_assert_no_error (error);
  return stack;
}

RawSip *
raw_sip_new (const char *host)
{
  RawSip *raw = g_new0 (RawSip, 1);
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (host);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (addr, 0);
  g_autoptr (GSocketAddress) local = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_nonnull (addr);
  raw->socket =
      g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (raw->socket, any, FALSE, &error));
  g_assert_no_error (error);
  g_socket_set_blocking (raw->socket, FALSE);
  local = g_socket_get_local_address (raw->socket, &error);
  g_assert_no_error (error);
  sp_sip_peer_init (&raw->peer, SP_SIP_TRANSPORT_UDP, host,
                    g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)));
  return raw;
}

void
raw_sip_free (RawSip *raw)
{
  g_object_unref (raw->socket);
  g_free (raw);
}

void
raw_sip_send_text (RawSip *raw, const SpSipPeer *to, const char *text)
{
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (to->host);
  g_autoptr (GSocketAddress) sa = g_inet_socket_address_new (addr, to->port);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_socket_send_to (raw->socket, sa, text, strlen (text), NULL, &error), ==,
                   (gssize) strlen (text));
  g_assert_no_error (error);
}

void
raw_sip_send (RawSip *raw, const SpSipPeer *to, SpSipMessage *msg)
{
  g_autofree char *text = sp_sip_message_to_string (msg, NULL);

  raw_sip_send_text (raw, to, text);
}

static SpSipMessage *
recv_until (RawSip *raw, gint64 deadline, gboolean skip_provisional)
{
  char buf[65536];

  while (g_get_monotonic_time () < deadline)
    {
      gssize n = g_socket_receive (raw->socket, buf, sizeof buf, NULL, NULL);

      if (n > 0)
        {
          g_autoptr (GError) error = NULL;
          g_autoptr (SpSipMessage) msg = sp_sip_message_parse (
              (const guint8 *) buf, (gsize) n, SP_SIP_FRAMING_DATAGRAM, NULL, &error);

          g_assert_no_error (error);
          if (skip_provisional && !sp_sip_message_is_request (msg) &&
              sp_sip_message_get_status (msg) < 200)
            continue;
          return g_steal_pointer (&msg);
        }
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (500);
    }
  return NULL;
}

SpSipMessage *
raw_sip_recv (RawSip *raw, guint ms)
{
  return recv_until (raw, g_get_monotonic_time () + (gint64) ms * 1000, FALSE);
}

SpSipMessage *
raw_sip_recv_final (RawSip *raw, guint ms)
{
  return recv_until (raw, g_get_monotonic_time () + (gint64) ms * 1000, TRUE);
}

SpSipMessage *
raw_sip_expect (RawSip *raw, const char *method, guint status)
{
  for (guint i = 0; i < MAX_SKIPPED; i++)
    {
      g_autoptr (SpSipMessage) msg = raw_sip_recv (raw, RAW_SIP_WAIT_MS);

      g_assert_nonnull (msg);
      if (method && sp_sip_message_is_request (msg) &&
          g_strcmp0 (sp_sip_message_get_method (msg), method) == 0)
        return g_steal_pointer (&msg);
      if (!method && !sp_sip_message_is_request (msg) && sp_sip_message_get_status (msg) == status)
        return g_steal_pointer (&msg);
    }
  g_assert_not_reached ();
  return NULL;
}

SpSipMessage *
raw_sip_response (RawSip *raw, SpSipMessage *request, guint status, const char *to_tag,
                  const char *user)
{
  SpSipMessage *response = sp_sip_message_new_response_to (request, status, NULL, to_tag);
  g_autofree char *host_port = sp_sip_host_port_to_string (raw->peer.host, raw->peer.port);
  g_autofree char *contact = g_strdup_printf ("<sip:%s@%s>", user, host_port);

  g_assert_true (sp_sip_message_add_header (response, "Contact", contact, NULL));
  return response;
}

SpDigestChallenge *
raw_sip_challenge (SpSipMessage *response)
{
  const char *value = sp_sip_message_get_header (response, "WWW-Authenticate");
  g_autoptr (GError) error = NULL;
  SpDigestChallenge *challenge;

  g_assert_nonnull (value);
  challenge = sp_digest_challenge_parse (value, -1, &error);
  g_assert_no_error (error);
  g_assert_nonnull (challenge);
  return challenge;
}

char *
raw_sip_authorization (const SpDigestChallenge *challenge, const char *user, const char *password,
                       const char *method, const char *uri, guint32 nc)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpDigestCredentials) creds = sp_digest_credentials_new_for_challenge (
      challenge, user, password, NULL, method, uri, NULL, 0, nc, NULL, &error);
  g_autofree char *value = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (creds);
  value = sp_digest_credentials_to_string (creds);
  return g_strdup_printf ("Authorization: %s\r\n", value);
}
