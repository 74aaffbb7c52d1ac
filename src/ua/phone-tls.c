#include "ua/phone-tls.h"

#include "i18n.h"

#include "sip/tls.h"

struct _SpPhoneTls
{
  char *config_dir;
  SpPinStore *pins;
  SpSipTlsIdentity *identity;
  guint16 port;
  GQueue expected; /* Expected *, newest first */
};

typedef struct
{
  char *hostport;
  char *fingerprint;
  char *who;
} Expected;

static void
expected_free (gpointer data)
{
  Expected *e = data;

  g_free (e->hostport);
  g_free (e->fingerprint);
  g_free (e->who);
  g_free (e);
}

static Expected *
expected_lookup (SpPhoneTls *self, const char *hostport)
{
  for (GList *l = self->expected.head; l != NULL; l = l->next)
    if (g_ascii_strcasecmp (((Expected *) l->data)->hostport, hostport) == 0)
      return l->data;
  return NULL;
}

void
sp_phone_tls_expect (SpPhoneTls *self, const char *hostport, const char *fingerprint,
                     const char *who)
{
  Expected *e = expected_lookup (self, hostport);

  if (e != NULL)
    {
      g_queue_remove (&self->expected, e);
      expected_free (e);
    }
  while (self->expected.length >= SP_PHONE_TLS_MAX_EXPECTED)
    expected_free (g_queue_pop_tail (&self->expected));
  e = g_new0 (Expected, 1);
  e->hostport = g_strdup (hostport);
  e->fingerprint = g_ascii_strup (fingerprint, -1);
  e->who = g_strdup (who);
  g_queue_push_head (&self->expected, e);
}

SpPhoneTls *
sp_phone_tls_new (const char *config_dir)
{
  SpPhoneTls *self = g_new0 (SpPhoneTls, 1);
  g_autofree char *path = config_dir ? g_build_filename (config_dir, "tls-pins", NULL) : NULL;

  self->config_dir = g_strdup (config_dir);
  self->pins = sp_pin_store_new (path);
  return self;
}

void
sp_phone_tls_free (SpPhoneTls *self)
{
  if (self == NULL)
    return;
  sp_pin_store_free (self->pins);
  g_queue_clear_full (&self->expected, expected_free);
  sp_sip_tls_identity_unref (self->identity);
  g_free (self->config_dir);
  g_free (self);
}

/* A peer that announced its certificate: that one and no other (a
 * stranger who answers at its address cannot pose as it). An
 * announcement never weakens a pin: where the user's store pinned
 * another certificate for the address (an account's server, say), the
 * announcement is refused whatever is presented, so a forged phone
 * record cannot open the door to a server's impostor. */
static gboolean
verify_expected (SpPhoneTls *self, const Expected *e, const char *fingerprint, GError **error)
{
  const char *pinned = sp_pin_store_lookup (self->pins, e->hostport);

  if (pinned != NULL && g_ascii_strcasecmp (pinned, e->fingerprint) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   /* Translators: %s are a phone's name, its address and two
                    * certificate fingerprints. */
                   _ ("“%s” announced the TLS certificate SHA-256 %s for %s, but another one (%s) "
                      "is pinned for that address. The call was not made. If that phone's "
                      "certificate was replaced on purpose, accept the new one (headless: "
                      "\"accept-certificate %s %s\")"),
                   e->who, e->fingerprint, e->hostport, pinned, e->hostport, e->fingerprint);
      return FALSE;
    }
  if (g_ascii_strcasecmp (e->fingerprint, fingerprint) == 0)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
               /* Translators: %s are a phone's name, its address and two
                * certificate fingerprints. */
               _ ("“%s” at %s is not the phone it announced on the network: its TLS certificate "
                  "is SHA-256 %s, not the announced %s. The call was not made; someone on the "
                  "network may be posing as it"),
               e->who, e->hostport, fingerprint, e->fingerprint);
  return FALSE;
}

/* A server we connected to: a peer that announced its certificate must
 * present that one; a certificate the system's CAs vouch for (a
 * provider) is taken as it is; else the one pinned on first use. */
static gboolean
verify_server (SpSipTransport *transport, const SpSipPeer *peer, const char *server_name,
               SpSipTlsSession *session, GError **error, gpointer user_data)
{
  SpPhoneTls *self = user_data;
  const char *host = server_name != NULL ? server_name : peer->host;
  g_autofree char *fingerprint = sp_sip_tls_session_dup_peer_fingerprint (session);
  g_autofree char *hostport = sp_sip_host_port_to_string (host, peer->port);
  g_autoptr (GError) local = NULL;
  const char *pinned = NULL;
  /* Announcements name numeric addresses: a connection addressed by a
   * host name (an account's server) is never judged by one. */
  const Expected *expected = server_name == NULL ? expected_lookup (self, hostport) : NULL;

  if (fingerprint == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   _ ("The TLS server %s sent no certificate"), hostport);
      return FALSE;
    }
  if (expected != NULL)
    return verify_expected (self, expected, fingerprint, error);
  if (sp_sip_tls_session_peer_is_trusted (session, host))
    return TRUE;
  switch (sp_pin_store_check (self->pins, hostport, fingerprint, &pinned, &local))
    {
      case SP_PIN_NEW:
        g_message ("TLS: trusting the certificate of %s on first use (SHA-256 %s)", hostport,
                   fingerprint);
        return TRUE;
      case SP_PIN_MATCH:
        return TRUE;
      case SP_PIN_CHANGED:
      default:
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                     _ ("The TLS certificate of %s has changed: it was SHA-256 %s and is now %s. "
                        "If the server's certificate was replaced on purpose, accept the new one "
                        "(headless: \"accept-certificate %s\"); otherwise someone may be "
                        "intercepting the connection"),
                     hostport, pinned, fingerprint, hostport);
        return FALSE;
    }
}

gboolean
sp_phone_tls_start (SpPhoneTls *self, SpSipStack *stack, const char *host, guint16 port,
                    GError **error)
{
  SpSipTransport *transport = sp_sip_stack_get_transport (stack);
  SpSipPeer bound;
  gboolean created = FALSE;

  sp_sip_transport_set_tls_verify (transport, verify_server, self);
  if (port == 0)
    return TRUE;
  if (self->config_dir == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                           _ ("no configuration directory to keep a certificate in"));
      return FALSE;
    }
  if (self->identity == NULL)
    {
      const char *names[3] = { g_get_host_name (), NULL, NULL };
      if (!sp_sip_host_is_wildcard (host))
        names[1] = host;
      self->identity =
          sp_sip_tls_identity_load_or_create (self->config_dir, names, &created, error);
      if (self->identity == NULL)
        return FALSE;
      if (created)
        g_message ("TLS: made a self-signed certificate, SHA-256 %s (%s)",
                   sp_sip_tls_identity_get_fingerprint (self->identity),
                   sp_sip_tls_identity_get_certificate_path (self->identity));
    }
  sp_sip_transport_set_tls_identity (transport, self->identity);
  if (!sp_sip_stack_listen (stack, SP_SIP_TRANSPORT_TLS, host, port, &bound, error))
    return FALSE;
  self->port = bound.port;
  return TRUE;
}

guint16
sp_phone_tls_get_port (SpPhoneTls *self)
{
  return self->port;
}

const char *
sp_phone_tls_get_fingerprint (SpPhoneTls *self)
{
  return self->identity ? sp_sip_tls_identity_get_fingerprint (self->identity) : NULL;
}

SpPinStore *
sp_phone_tls_get_pins (SpPhoneTls *self)
{
  return self->pins;
}
