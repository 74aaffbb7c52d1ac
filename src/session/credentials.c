#include "session/credentials.h"

#include <gio/gio.h>
#include <string.h>

#include "i18n.h"

#include "sip/digest.h"

/* Addresses kept per store: a server name with a few A/AAAA records, the
 * proxy's, and what they resolved to before a move. */
#define MAX_LEARNT_ADDRESSES 8

typedef struct
{
  char *name; /* the server or proxy name that was looked up */
  guint16 port;
  SpSipPeer address;
} LearntAddress;

struct _SpCredentials
{
  gatomicrefcount ref;
  SpCredentialsSettings settings; /* a deep copy */
  GObject *owner;                 /* see sp_credentials_set_owner */
  GPtrArray *learnt;              /* LearntAddress, oldest first */
  char *learnt_realm;
  char *nonce; /* the last nonce answered, and how often (nc) */
  guint32 nc;
};

G_DEFINE_QUARK (sp - credentials - error - quark, sp_credentials_error)

static void
learnt_address_free (gpointer data)
{
  LearntAddress *l = data;

  g_free (l->name);
  g_free (l);
}

void
sp_auth_retry_clear (SpAuthRetry *retry)
{
  g_clear_pointer (&retry->nonce, g_free);
  retry->answered = 0;
  retry->stale_used = FALSE;
}

void
sp_auth_retry_move (SpAuthRetry *to, SpAuthRetry *from)
{
  sp_auth_retry_clear (to);
  *to = *from;
  memset (from, 0, sizeof *from);
}

static void
settings_clear (SpCredentialsSettings *s)
{
  g_free (s->label);
  g_free (s->username);
  g_free (s->password);
  g_free (s->realm);
  g_free (s->server_host);
  g_free (s->proxy_host);
  memset (s, 0, sizeof *s);
}

static void
settings_copy (SpCredentialsSettings *to, const SpCredentialsSettings *from)
{
  to->label = g_strdup (from->label);
  to->username = g_strdup (from->username);
  to->password = g_strdup (from->password);
  to->realm = g_strdup (from->realm != NULL && *from->realm != '\0' ? from->realm : NULL);
  to->server_host = g_strdup (from->server_host);
  to->server_port = from->server_port;
  to->proxy_host = g_strdup (from->proxy_host);
  to->proxy_port = from->proxy_port;
  to->allow_md5_without_qop = from->allow_md5_without_qop;
}

/* Same server, proxy and user: what was learnt still holds. */
static gboolean
same_place (const SpCredentialsSettings *a, const SpCredentialsSettings *b)
{
  return g_strcmp0 (a->username, b->username) == 0 &&
         g_strcmp0 (a->server_host, b->server_host) == 0 && a->server_port == b->server_port &&
         g_strcmp0 (a->proxy_host, b->proxy_host) == 0 && a->proxy_port == b->proxy_port;
}

SpCredentials *
sp_credentials_new (const SpCredentialsSettings *settings)
{
  SpCredentials *self = g_new0 (SpCredentials, 1);

  g_atomic_ref_count_init (&self->ref);
  settings_copy (&self->settings, settings);
  self->learnt = g_ptr_array_new_with_free_func (learnt_address_free);
  return self;
}

void
sp_credentials_update (SpCredentials *self, const SpCredentialsSettings *settings)
{
  SpCredentialsSettings old = self->settings;

  settings_copy (&self->settings, settings);
  /* The user pointed the account elsewhere (another server, proxy or
   * user): what was learnt about the old one no longer holds. */
  if (!same_place (&old, &self->settings))
    {
      g_ptr_array_set_size (self->learnt, 0);
      g_clear_pointer (&self->learnt_realm, g_free);
    }
  settings_clear (&old);
}

void
sp_credentials_set_owner (SpCredentials *self, GObject *owner)
{
  g_return_if_fail (self->owner == NULL);
  self->owner = g_object_ref (owner);
}

GObject *
sp_credentials_get_owner (SpCredentials *self)
{
  return self->owner;
}

SpCredentials *
sp_credentials_ref (SpCredentials *self)
{
  g_atomic_ref_count_inc (&self->ref);
  return self;
}

void
sp_credentials_unref (SpCredentials *self)
{
  if (self == NULL || !g_atomic_ref_count_dec (&self->ref))
    return;
  if (self->owner != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->owner, self);
      g_object_unref (self->owner);
    }
  settings_clear (&self->settings);
  g_ptr_array_unref (self->learnt);
  g_free (self->learnt_realm);
  g_free (self->nonce);
  g_free (self);
}

const char *
sp_credentials_get_realm (SpCredentials *self)
{
  return self->settings.realm != NULL ? self->settings.realm : self->learnt_realm;
}

/* ---- whose server ------------------------------------------------------ */

static guint16
port_or_default (guint16 port)
{
  return port != 0 ? port : 5060;
}

/* Numeric @host (any spelling of the address) and @port against @peer. */
static gboolean
same_address (const char *host, guint16 port, const SpSipPeer *peer)
{
  g_autoptr (GInetAddress) a = g_inet_address_new_from_string (host);
  g_autoptr (GInetAddress) b = g_inet_address_new_from_string (peer->host);

  guint16 dflt = sp_sip_transport_kind_default_port (peer->kind); /* 5061 for TLS */

  return a != NULL && b != NULL && g_inet_address_equal (a, b) &&
         (port ? port : dflt) == (peer->port ? peer->port : dflt);
}

static gboolean
is_ip_literal (const char *host)
{
  g_autoptr (GInetAddress) a = g_inet_address_new_from_string (host);

  return a != NULL;
}

/* The server or proxy setting (@host, @port) names @peer: as a literal,
 * or as a name whose lookup gave @peer. */
static gboolean
setting_names_peer (SpCredentials *self, const char *host, guint16 port, const SpSipPeer *peer)
{
  if (host == NULL || *host == '\0')
    return FALSE;
  if (is_ip_literal (host))
    return same_address (host, port, peer);
  for (guint i = 0; i < self->learnt->len; i++)
    {
      LearntAddress *l = self->learnt->pdata[i];
      if (g_ascii_strcasecmp (l->name, host) == 0 &&
          port_or_default (l->port) == port_or_default (port) &&
          same_address (l->address.host, l->address.port, peer))
        return TRUE;
    }
  return FALSE;
}

/* @host:@port is what the server or proxy setting (@set_host, @set_port) says. */
static gboolean
is_setting (const char *set_host, guint16 set_port, const char *host, guint16 port)
{
  return set_host != NULL && g_ascii_strcasecmp (set_host, host) == 0 &&
         port_or_default (set_port) == port_or_default (port);
}

void
sp_credentials_note_resolved (SpCredentials *self, const char *host, guint16 port,
                              const SpSipPeer *address)
{
  const SpCredentialsSettings *s;
  LearntAddress *l;

  if (self == NULL || host == NULL || address == NULL)
    return;
  s = &self->settings;
  if (!is_setting (s->server_host, s->server_port, host, port) &&
      !is_setting (s->proxy_host, s->proxy_port, host, port))
    return;
  for (guint i = 0; i < self->learnt->len; i++)
    {
      l = self->learnt->pdata[i];
      if (g_ascii_strcasecmp (l->name, host) == 0 && l->port == port &&
          same_address (l->address.host, l->address.port, address))
        return;
    }
  if (self->learnt->len >= MAX_LEARNT_ADDRESSES)
    g_ptr_array_remove_index (self->learnt, 0);
  l = g_new0 (LearntAddress, 1);
  l->name = g_ascii_strdown (host, -1);
  l->port = port;
  l->address = *address;
  g_ptr_array_add (self->learnt, l);
}

gboolean
sp_credentials_is_own_server (SpCredentials *self, const SpSipPeer *peer)
{
  if (self == NULL || peer == NULL)
    return FALSE;
  return setting_names_peer (self, self->settings.server_host, self->settings.server_port, peer) ||
         setting_names_peer (self, self->settings.proxy_host, self->settings.proxy_port, peer);
}

/* The setting @set_host names @host (any port): literally, or through a
 * lookup. */
static gboolean
setting_names_host (SpCredentials *self, const char *set_host, const char *host)
{
  SpSipPeer peer;

  if (set_host == NULL || *set_host == '\0')
    return FALSE;
  sp_sip_peer_init (&peer, SP_SIP_TRANSPORT_UDP, host, 0);
  if (is_ip_literal (set_host))
    return same_address (set_host, 0, &peer);
  for (guint i = 0; i < self->learnt->len; i++)
    {
      LearntAddress *l = self->learnt->pdata[i];
      if (g_ascii_strcasecmp (l->name, set_host) == 0 && same_address (l->address.host, 0, &peer))
        return TRUE;
    }
  return FALSE;
}

gboolean
sp_credentials_is_own_server_host (SpCredentials *self, const char *host)
{
  if (self == NULL || host == NULL)
    return FALSE;
  return setting_names_host (self, self->settings.server_host, host) ||
         setting_names_host (self, self->settings.proxy_host, host);
}

/* ---- answering --------------------------------------------------------- */

static int
algorithm_rank (SpDigestAlgorithm algorithm)
{
  switch (algorithm)
    {
      case SP_DIGEST_ALGORITHM_SHA256:
        return 4;
      case SP_DIGEST_ALGORITHM_SHA256_SESS:
        return 3;
      case SP_DIGEST_ALGORITHM_MD5:
        return 2;
      case SP_DIGEST_ALGORITHM_MD5_SESS:
        return 1;
      case SP_DIGEST_ALGORITHM_UNKNOWN:
      default:
        return 0;
    }
}

/* RFC 2069 digest: no client nonce, so whoever chose the nonce can look
 * the response up or crack it offline at MD5 speed. */
static gboolean
is_weak (const SpDigestChallenge *c)
{
  return c->qop == 0 &&
         (c->algorithm == SP_DIGEST_ALGORITHM_MD5 || c->algorithm == SP_DIGEST_ALGORITHM_MD5_SESS);
}

static char *
request_uri_text (const SpSipMessage *request)
{
  return sp_sip_uri_to_string (sp_sip_message_get_request_uri ((SpSipMessage *) request));
}

static const char *
account_label (SpCredentials *self)
{
  return self->settings.label != NULL ? self->settings.label : "";
}

/* A refusal the user sees: @format (an N_() literal) in English in
 * @error, for events, logs and scripts, and in the user's language in
 * @text (when asked for), for the window. */
static void refuse (GError **error, char **text, SpCredentialsError code, const char *format, ...)
    G_GNUC_PRINTF (4, 5);

static void
refuse (GError **error, char **text, SpCredentialsError code, const char *format, ...)
{
  g_autofree char *english = NULL;
  va_list args;

  if (text != NULL)
    {
      va_start (args, format);
      *text = g_strdup_vprintf (_ (format), args);
      va_end (args);
    }
  va_start (args, format);
  english = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, SP_CREDENTIALS_ERROR, code, english);
}

/* Every Digest challenge of @response we can compute, in header order. */
static GPtrArray *
parse_challenges (const SpSipMessage *response)
{
  gboolean proxy = sp_sip_message_get_status (response) == 407;
  const char *header = proxy ? "Proxy-Authenticate" : "WWW-Authenticate";
  GPtrArray *list = g_ptr_array_new_with_free_func ((GDestroyNotify) sp_digest_challenge_free);
  guint n = sp_sip_message_get_n_headers (response);

  for (guint i = 0; i < n; i++)
    {
      const char *name, *text;
      SpDigestChallenge *c;

      sp_sip_message_get_nth_header (response, i, &name, &text);
      if (g_ascii_strcasecmp (name, header) != 0)
        continue;
      c = sp_digest_challenge_parse (text, -1, NULL);
      if (c != NULL && algorithm_rank (c->algorithm) > 0)
        g_ptr_array_add (list, c);
      else if (c != NULL)
        sp_digest_challenge_free (c);
    }
  return list;
}

/* The challenge this account may answer (SHA-256 over MD5, RFC 8760),
 * or NULL with the reason the others were refused. */
static const SpDigestChallenge *
pick_challenge (SpCredentials *self, GPtrArray *challenges, const SpSipMessage *request,
                const SpSipMessage *response, char **text, GError **error)
{
  const char *realm = sp_credentials_get_realm (self);
  const SpDigestChallenge *best = NULL;
  const SpDigestChallenge *foreign = NULL;
  const SpDigestChallenge *weak = NULL;
  g_autofree char *uri = NULL;

  for (guint i = 0; i < challenges->len; i++)
    {
      const SpDigestChallenge *c = challenges->pdata[i];

      if (realm != NULL && g_strcmp0 (c->realm, realm) != 0)
        foreign = foreign ? foreign : c;
      else if (is_weak (c) && !self->settings.allow_md5_without_qop)
        weak = weak ? weak : c;
      else if (best == NULL || algorithm_rank (c->algorithm) > algorithm_rank (best->algorithm))
        best = c;
    }
  if (best != NULL)
    return best;
  uri = request_uri_text (request);
  if (weak != NULL)
    refuse (error, text, SP_CREDENTIALS_ERROR_WEAK,
            N_ ("%s asked for your password for realm \"%s\" with MD5 without qop, which can "
                "be cracked offline; it was not sent (account \"%s\" does not allow it)"),
            uri, weak->realm, account_label (self));
  else if (foreign != NULL)
    refuse (error, text, SP_CREDENTIALS_ERROR_FOREIGN_REALM,
            N_ ("%s asked for your password for realm \"%s\"; it was not sent (account \"%s\" "
                "answers realm \"%s\" only)"),
            uri, foreign->realm, account_label (self), realm);
  else
    g_set_error (error, SP_CREDENTIALS_ERROR, SP_CREDENTIALS_ERROR_UNSUPPORTED,
                 "%u %s without a Digest challenge we can answer",
                 sp_sip_message_get_status (response),
                 sp_sip_message_get_reason (response) ? sp_sip_message_get_reason (response) : "");
  return NULL;
}

/* The guard: one answer per request, one more for a new stale nonce. */
static gboolean
retry_allowed (SpAuthRetry *retry, const SpDigestChallenge *c, const SpSipMessage *response,
               GError **error)
{
  if (retry->answered == 0)
    return TRUE;
  if (g_strcmp0 (retry->nonce, c->nonce) != 0 && c->stale && !retry->stale_used)
    {
      retry->stale_used = TRUE;
      return TRUE;
    }
  g_set_error (error, SP_CREDENTIALS_ERROR, SP_CREDENTIALS_ERROR_REFUSED,
               "%u %s: the credentials were not accepted", sp_sip_message_get_status (response),
               sp_sip_message_get_reason (response) ? sp_sip_message_get_reason (response) : "");
  return FALSE;
}

/* The nonce count (RFC 7616 3.4): 1 for a new nonce, then up by one. */
static guint32
next_nc (SpCredentials *self, const char *nonce)
{
  if (g_strcmp0 (self->nonce, nonce) != 0)
    {
      g_free (self->nonce);
      self->nonce = g_strdup (nonce);
      self->nc = 0;
    }
  return ++self->nc;
}

static gboolean
first_challenge_realm (GPtrArray *challenges, const char **realm)
{
  *realm = challenges->len > 0 ? ((SpDigestChallenge *) challenges->pdata[0])->realm : NULL;
  return *realm != NULL;
}

gboolean
sp_credentials_answer (SpCredentials *self, SpAuthRetry *retry, SpSipMessage *request,
                       const SpSipMessage *response, const SpSipPeer *dest, char **text,
                       GError **error)
{
  gboolean proxy = sp_sip_message_get_status (response) == 407;
  g_autoptr (GPtrArray) challenges = parse_challenges (response);
  g_autoptr (SpDigestCredentials) creds = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *value = NULL;
  const SpDigestChallenge *c;
  const char *realm = NULL;
  const guint8 *body;
  gsize body_len = 0;

  first_challenge_realm (challenges, &realm);
  uri = request_uri_text (request);
  if (self == NULL)
    {
      refuse (error, text, SP_CREDENTIALS_ERROR_NO_ACCOUNT,
              N_ ("%s asked for a password for realm \"%s\"; none was sent (a call without an "
                  "account has none to give)"),
              uri, realm ? realm : "");
      return FALSE;
    }
  if (!sp_credentials_is_own_server (self, dest))
    {
      g_autofree char *where =
          dest ? sp_sip_host_port_to_string (dest->host, dest->port) : g_strdup ("?");

      refuse (error, text, SP_CREDENTIALS_ERROR_FOREIGN_HOST,
              N_ ("%s asked for your password for realm \"%s\"; it was not sent (%s is not the "
                  "server of account \"%s\")"),
              uri, realm ? realm : "", where, account_label (self));
      return FALSE;
    }
  c = pick_challenge (self, challenges, request, response, text, error);
  if (c == NULL || !retry_allowed (retry, c, response, error))
    return FALSE;
  /* The first realm our own registrar or proxy uses is the account's
   * from now on (unless one is configured). */
  if (sp_credentials_get_realm (self) == NULL)
    self->learnt_realm = g_strdup (c->realm);

  body = sp_sip_message_get_body (request, &body_len);
  creds = sp_digest_credentials_new_for_challenge (
      c, self->settings.username != NULL ? self->settings.username : "",
      self->settings.password != NULL ? self->settings.password : "", NULL,
      sp_sip_message_get_method (request), uri, body, body_len, next_nc (self, c->nonce), NULL,
      error);
  if (creds == NULL)
    return FALSE;
  g_free (retry->nonce);
  retry->nonce = g_strdup (c->nonce);
  retry->answered++;
  value = sp_digest_credentials_to_string (creds);
  return sp_sip_message_set_header (request, proxy ? "Proxy-Authorization" : "Authorization", value,
                                    error);
}

void
sp_credentials_prepare_resend (SpSipMessage *request, guint32 cseq)
{
  g_autofree char *value = g_strdup_printf ("%u %s", cseq, sp_sip_message_get_method (request));

  sp_sip_message_set_header (request, "CSeq", value, NULL);
  sp_sip_message_remove_first_value (request, "Via");
}
