#include "ua/registration.h"

#include <gio/gio.h>
#include <string.h>

#include "i18n.h"

#include "ua/account-credentials.h"
#include "ua/hostport.h"
#include "ua/resolve.h"

/* s, while registered: OPTIONS over UDP, a CRLF ping over TCP (RFC 5626
 * 4.4.1), so NATs and the server keep our flow and incoming calls come. */
#define KEEPALIVE_INTERVAL 30
/* ms a ping waits for its pong (RFC 5626 4.4.1). */
#define PONG_TIMEOUT 10000

struct _SpRegistration
{
  SpSipStack *stack;
  SpAccount *account;
  SpCredentials *credentials;
  SpRegistrationFunc func;
  gpointer user_data;

  char *call_id;
  char *from_tag_request; /* the first REGISTER's From, tag included */
  guint32 cseq;
  SpAuthRetry auth; /* the guard of the REGISTER in progress */
  guint requested_expires;
  guint granted_expires;
  guint failures;
  /* This attempt already asked again after a 423: a registrar raising
   * Min-Expires each time is not chased (up to a day, one by one). */
  gboolean interval_retried;
  gboolean stopping;
  gboolean active;
  SpSipPeer dest;
  gboolean has_dest;
  SpSipClientTransaction *ct;
  guint refresh_timer;
  guint keepalive_timer;
  guint keepalive_interval;
  guint pong_timeout; /* ms */
  guint pong_timer;   /* a ping is out, no pong yet */
  guint flow_timer;
  GCancellable *resolving; /* the server's name being looked up */
  char *resolving_host;    /* ... and that name */
  guint16 resolving_port;
};

guint
sp_registration_refresh_delay (guint expires)
{
  /* Long bindings: 30 s early; short ones: halfway (never below 1 s). */
  if (expires > 120)
    return expires - 30;
  return MAX (expires / 2, 1);
}

guint
sp_registration_backoff (guint attempt)
{
  guint delay = 5;

  for (guint i = 1; i < attempt && delay < 300; i++)
    delay *= 2;
  return MIN (delay, 300);
}

static void send_register (SpRegistration *reg, SpSipMessage *request);

static void
report (SpRegistration *reg, SpAccountStatus status, const char *reason, guint code)
{
  sp_account_set_status (reg->account, status, reason);
  if (reg->func != NULL)
    reg->func (reg, reg->account, code, reg->user_data);
}

static void
clear_timers (SpRegistration *reg)
{
  g_clear_handle_id (&reg->refresh_timer, g_source_remove);
  g_clear_handle_id (&reg->keepalive_timer, g_source_remove);
  g_clear_handle_id (&reg->pong_timer, g_source_remove);
  g_clear_handle_id (&reg->flow_timer, g_source_remove);
}

static void
drop_transaction (SpRegistration *reg)
{
  if (reg->ct != NULL)
    sp_sip_client_transaction_detach (reg->ct);
  g_clear_pointer (&reg->ct, sp_sip_client_transaction_unref);
}

void
sp_registration_free (SpRegistration *reg)
{
  if (reg == NULL)
    return;
  clear_timers (reg);
  drop_transaction (reg);
  g_cancellable_cancel (reg->resolving);
  g_clear_object (&reg->resolving);
  g_free (reg->resolving_host);
  g_clear_object (&reg->stack);
  g_clear_object (&reg->account);
  g_clear_pointer (&reg->credentials, sp_credentials_unref);
  sp_auth_retry_clear (&reg->auth);
  g_free (reg->call_id);
  g_free (reg->from_tag_request);
  g_free (reg);
}

SpRegistration *
sp_registration_new (SpSipStack *stack, SpCredentials *credentials, SpRegistrationFunc func,
                     gpointer user_data)
{
  SpRegistration *reg = g_new0 (SpRegistration, 1);

  reg->stack = g_object_ref (stack);
  reg->credentials = sp_credentials_ref (credentials);
  reg->account = g_object_ref (sp_account_credentials_get_account (credentials));
  reg->func = func;
  reg->user_data = user_data;
  reg->keepalive_interval = KEEPALIVE_INTERVAL;
  reg->pong_timeout = PONG_TIMEOUT;
  return reg;
}

guint
sp_registration_get_expires (SpRegistration *reg)
{
  return reg->granted_expires;
}

/* The address family our SIP binding speaks, for picking a resolved
 * address we can reach. */
static GSocketFamily
binding_family (SpSipStack *stack)
{
  SpSipPeer bound;

  if (!sp_sip_transport_get_binding (sp_sip_stack_get_transport (stack), 0, &bound))
    return G_SOCKET_FAMILY_INVALID;
  return sp_ua_host_family (bound.host);
}

static SpSipMessage *
build_register (SpRegistration *reg, guint expires)
{
  g_autofree char *host = NULL;
  g_autofree char *hostport = NULL;
  g_autofree char *aor = NULL;
  g_autofree char *ruri_text = NULL;
  g_autofree char *contact = NULL;
  g_autofree char *expires_text = g_strdup_printf ("%u", expires);
  g_autofree char *user =
      g_uri_escape_string (sp_account_get_username (reg->account), "!*'()&=+$,;?/", FALSE);
  g_autoptr (SpSipUri) ruri = NULL;
  SpSipMessage *msg;
  guint16 port = 0;
  const char *param = sp_account_transport_uri_param (sp_account_get_transport (reg->account));

  sp_account_get_server_host_port (reg->account, &host, &port);
  hostport = sp_sip_host_port_to_string (host, port);
  ruri_text = g_strdup_printf ("sip:%s%s", hostport, param);
  ruri = sp_sip_uri_parse (ruri_text, -1, NULL);
  if (ruri == NULL)
    return NULL;
  {
    g_autofree char *h = sp_sip_host_port_to_string (host, 0);
    const char *display = sp_account_get_display_name (reg->account);
    g_autofree char *quoted = display ? g_strescape (display, NULL) : NULL;
    aor = display ? g_strdup_printf ("\"%s\" <sip:%s@%s>", quoted, user, h)
                  : g_strdup_printf ("<sip:%s@%s>", user, h);
  }
  reg->cseq++;
  sp_auth_retry_clear (&reg->auth); /* a new request: its own guard */
  msg = sp_sip_stack_new_request (reg->stack, "REGISTER", ruri, aor, aor, reg->cseq);
  /* One Call-ID for every REGISTER of this binding (10.2.4). */
  if (reg->call_id == NULL)
    reg->call_id = g_strdup (sp_sip_message_get_call_id (msg));
  else
    sp_sip_message_set_header (msg, "Call-ID", reg->call_id, NULL);
  /* Bound to 0.0.0.0, the stack names the address the route to the
   * registrar leaves from. */
  contact = sp_sip_stack_dup_contact (reg->stack, user, reg->has_dest ? &reg->dest : NULL);
  sp_sip_message_set_header (msg, "Contact", contact, NULL);
  sp_sip_message_set_header (msg, "Expires", expires_text, NULL);
  reg->requested_expires = expires;
  return msg;
}

static gboolean
refresh_cb (gpointer data)
{
  SpRegistration *reg = data;

  reg->refresh_timer = 0;
  sp_registration_start (reg);
  return G_SOURCE_REMOVE;
}

void
sp_registration_set_keepalive_interval (SpRegistration *reg, guint seconds)
{
  reg->keepalive_interval = seconds;
}

void
sp_registration_set_pong_timeout (SpRegistration *reg, guint ms)
{
  reg->pong_timeout = ms;
}

/* No pong came: the flow failed (RFC 5626 4.4.1). Closing the connection
 * makes the transport report it, and we register again on a new one. */
static gboolean
pong_timeout_cb (gpointer data)
{
  SpRegistration *reg = data;
  SpSipPeer dest = reg->dest;

  reg->pong_timer = 0;
  g_message ("No keep-alive pong from the registrar of %s in %u ms; the flow failed",
             sp_account_get_username (reg->account), reg->pong_timeout);
  if (!sp_sip_transport_close_connection (sp_sip_stack_get_transport (reg->stack), &dest))
    sp_registration_connection_closed (reg, &dest);
  return G_SOURCE_REMOVE;
}

void
sp_registration_keepalive_received (SpRegistration *reg, const SpSipPeer *remote, gboolean ping)
{
  if (ping || !reg->has_dest || remote->kind != reg->dest.kind || remote->port != reg->dest.port ||
      g_strcmp0 (remote->host, reg->dest.host) != 0)
    return;
  g_clear_handle_id (&reg->pong_timer, g_source_remove);
}

static gboolean
crlf_keepalive_cb (gpointer data)
{
  SpRegistration *reg = data;
  g_autoptr (GError) error = NULL;
  SpSipTransport *transport = sp_sip_stack_get_transport (reg->stack);

  if (!sp_sip_transport_send_raw (transport, &reg->dest, (const guint8 *) "\r\n\r\n", 4, &error))
    g_message ("Keep-alive to %s failed: %s", reg->dest.host, error->message);
  else if (reg->pong_timer == 0 && reg->pong_timeout > 0)
    reg->pong_timer = g_timeout_add (reg->pong_timeout, pong_timeout_cb, reg);
  return G_SOURCE_CONTINUE;
}

static gboolean
flow_retry_cb (gpointer data)
{
  SpRegistration *reg = data;

  reg->flow_timer = 0;
  if (reg->active && !reg->stopping)
    sp_registration_start (reg);
  return G_SOURCE_REMOVE;
}

void
sp_registration_connection_closed (SpRegistration *reg, const SpSipPeer *remote)
{
  if (!reg->active || reg->stopping || !reg->has_dest ||
      !sp_sip_transport_kind_is_stream (reg->dest.kind) || remote->kind != reg->dest.kind ||
      remote->port != reg->dest.port || g_strcmp0 (remote->host, reg->dest.host) != 0 ||
      sp_account_get_status (reg->account) != SP_ACCOUNT_STATUS_REGISTERED)
    return;
  /* RFC 5626 4.4.1: the flow failed; register again on a new connection
   * (a moment later, so a server closing at once cannot spin us). */
  g_message ("Connection to the registrar of %s closed; registering again",
             sp_account_get_username (reg->account));
  g_clear_handle_id (&reg->keepalive_timer, g_source_remove); /* a ping would reconnect */
  g_clear_handle_id (&reg->pong_timer, g_source_remove);
  if (reg->flow_timer == 0)
    reg->flow_timer = g_timeout_add_seconds (1, flow_retry_cb, reg);
}

static gboolean
keepalive_cb (gpointer data)
{
  SpRegistration *reg = data;
  g_autoptr (SpSipMessage) options = NULL;
  g_autofree char *hostport = sp_sip_host_port_to_string (reg->dest.host, reg->dest.port);
  g_autofree char *text = g_strdup_printf ("sip:%s", hostport);
  g_autoptr (SpSipUri) uri = sp_sip_uri_parse (text, -1, NULL);
  g_autofree char *user =
      g_strdup_printf ("<sip:%s@%s>", sp_account_get_username (reg->account), hostport);

  if (uri == NULL)
    return G_SOURCE_CONTINUE;
  options = sp_sip_stack_new_request (reg->stack, "OPTIONS", uri, user, user, 1);
  sp_sip_stack_send_request (reg->stack, options, &reg->dest, NULL, NULL, NULL);
  return G_SOURCE_CONTINUE;
}

/* The expiry the server granted our contact: its expires parameter,
 * else the Expires header, else what we asked for. */
static guint
granted_expires (SpRegistration *reg, SpSipMessage *response)
{
  const GPtrArray *contacts = sp_sip_message_get_contacts (response);
  gint64 expires = -1;

  for (guint i = 0; contacts != NULL && i < contacts->len; i++)
    {
      const SpSipNameAddr *c = contacts->pdata[i];
      const char *user = sp_sip_uri_get_user (c->uri);
      if (g_strcmp0 (user, sp_account_get_username (reg->account)) == 0 &&
          sp_sip_name_addr_get_expires (c) >= 0)
        {
          expires = sp_sip_name_addr_get_expires (c);
          break;
        }
    }
  if (expires < 0)
    expires = sp_sip_message_get_expires (response);
  if (expires < 0)
    expires = reg->requested_expires;
  return (guint) CLAMP (expires, 0, G_MAXUINT32 / 2);
}

static void
fail_and_retry (SpRegistration *reg, const char *reason, guint code)
{
  guint delay;

  reg->failures++;
  reg->granted_expires = 0;
  clear_timers (reg);
  report (reg, SP_ACCOUNT_STATUS_FAILED, reason, code);
  if (!reg->active || reg->stopping)
    return;
  delay = sp_registration_backoff (reg->failures);
  g_message ("Registration of %s failed (%s); retrying in %u s",
             sp_account_get_username (reg->account), reason, delay);
  reg->refresh_timer = g_timeout_add_seconds (delay, refresh_cb, reg);
}

static void
on_response (SpSipStack *stack, SpSipClientTransaction *ct, SpSipMessage *response,
             SpSipDialog *dialog, gpointer user_data)
{
  SpRegistration *reg = user_data;
  guint status = sp_sip_message_get_status (response);
  g_autofree char *reason = NULL;

  if (status < 200)
    return;
  drop_transaction (reg);
  reason =
      g_strdup_printf ("%u %s", status,
                       sp_sip_message_get_reason (response) ? sp_sip_message_get_reason (response)
                                                            : sp_sip_status_phrase (status));

  if (status >= 200 && status < 300)
    {
      reg->failures = 0;
      clear_timers (reg);
      if (reg->stopping || reg->requested_expires == 0)
        {
          reg->granted_expires = 0;
          report (reg, SP_ACCOUNT_STATUS_UNREGISTERED, NULL, status);
          return;
        }
      reg->granted_expires = granted_expires (reg, response);
      report (reg, SP_ACCOUNT_STATUS_REGISTERED, NULL, status);
      reg->refresh_timer = g_timeout_add_seconds (
          sp_registration_refresh_delay (reg->granted_expires), refresh_cb, reg);
      if (reg->keepalive_interval == 0)
        ;
      else if (sp_account_get_transport (reg->account) == SP_ACCOUNT_TRANSPORT_UDP)
        reg->keepalive_timer = g_timeout_add_seconds (reg->keepalive_interval, keepalive_cb, reg);
      else
        reg->keepalive_timer =
            g_timeout_add_seconds (reg->keepalive_interval, crlf_keepalive_cb, reg);
      return;
    }

  if (status == 401 || status == 407)
    {
      g_autoptr (SpSipMessage) retry =
          sp_sip_message_copy (sp_sip_client_transaction_get_request (ct));
      g_autoptr (GError) error = NULL;

      if (sp_credentials_answer (reg->credentials, &reg->auth, retry, response,
                                 sp_sip_client_transaction_get_dest (ct), NULL, &error))
        {
          sp_credentials_prepare_resend (retry, ++reg->cseq);
          send_register (reg, retry);
          return;
        }
      g_message ("Registration of %s: %s", sp_account_get_username (reg->account), error->message);
      /* Refused by policy: say why; refused by the server: its status. */
      if (!g_error_matches (error, SP_CREDENTIALS_ERROR, SP_CREDENTIALS_ERROR_REFUSED) &&
          !g_error_matches (error, SP_CREDENTIALS_ERROR, SP_CREDENTIALS_ERROR_UNSUPPORTED))
        {
          g_free (reason);
          reason = g_strdup (error->message);
        }
      if (reg->stopping)
        {
          report (reg, SP_ACCOUNT_STATUS_UNREGISTERED, reason, status);
          return;
        }
      fail_and_retry (reg, reason, status);
      return;
    }

  if (status == 423 && !reg->stopping && !reg->interval_retried)
    {
      gint64 min = 0;
      const char *text = sp_sip_message_get_header (response, "Min-Expires");
      if (text != NULL && g_ascii_string_to_signed (text, 10, 1, 86400, &min, NULL) &&
          (guint) min > reg->requested_expires)
        {
          g_autoptr (SpSipMessage) retry = build_register (reg, (guint) min);
          if (retry != NULL)
            {
              reg->interval_retried = TRUE;
              send_register (reg, retry);
              return;
            }
        }
    }

  if (reg->stopping)
    {
      report (reg, SP_ACCOUNT_STATUS_UNREGISTERED, NULL, status);
      return;
    }
  switch (sp_sip_client_transaction_get_failure (ct))
    {
      case SP_SIP_FAILURE_TIMEOUT:
        fail_and_retry (reg, N_ ("no answer from server"), 408);
        return;
      case SP_SIP_FAILURE_TRANSPORT:
        {
          /* The transport's words (a refused TLS certificate says why and
           * how to accept it) ride in the local 503's phrase. */
          const char *phrase = sp_sip_message_get_reason (response);
          const char *open = phrase ? strchr (phrase, '(') : NULL;
          g_autofree char *text = NULL;

          if (open != NULL && g_str_has_suffix (open, ")"))
            text = g_strdup_printf ("%s: %.*s", _ ("cannot reach server"), (int) strlen (open) - 2,
                                    open + 1);
          fail_and_retry (reg, text ? text : N_ ("cannot reach server"), 503);
          return;
        }
      case SP_SIP_FAILURE_NONE:
      default:
        fail_and_retry (reg, reason, status);
        return;
    }
}

static void
send_register (SpRegistration *reg, SpSipMessage *request)
{
  g_autoptr (GError) error = NULL;
  SpSipClientTransaction *ct;

  drop_transaction (reg);
  ct = sp_sip_stack_send_request (reg->stack, request, reg->has_dest ? &reg->dest : NULL,
                                  on_response, reg, &error);
  if (ct == NULL)
    {
      if (reg->stopping)
        report (reg, SP_ACCOUNT_STATUS_UNREGISTERED, error->message, 0);
      else
        fail_and_retry (reg, error->message, 0);
      return;
    }
  reg->ct = sp_sip_client_transaction_ref (ct);
}

static void
on_resolved (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSipMessage) request = NULL;
  SpRegistration *reg = data;
  SpSipPeer peer;

  if (!sp_ua_resolve_peer_finish (result, &peer, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* stopped or freed: @reg may be gone */
  g_clear_object (&reg->resolving);
  if (error != NULL)
    {
      fail_and_retry (reg, error->message, 0);
      return;
    }
  reg->dest = peer;
  reg->has_dest = TRUE;
  /* A TLS server is checked against the name the user gave (sip/tls.h). */
  if (peer.kind == SP_SIP_TRANSPORT_TLS)
    sp_sip_transport_set_tls_server_name (sp_sip_stack_get_transport (reg->stack), &peer,
                                          reg->resolving_host);
  sp_credentials_note_resolved (reg->credentials, reg->resolving_host, reg->resolving_port, &peer);
  reg->interval_retried = FALSE; /* a new attempt */
  request = build_register (reg, sp_account_get_register_interval (reg->account));
  if (request == NULL)
    {
      fail_and_retry (reg, N_ ("bad server address"), 0);
      return;
    }
  send_register (reg, request);
}

void
sp_registration_start (SpRegistration *reg)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *host = NULL;
  const char *proxy = sp_account_get_outbound_proxy (reg->account);
  guint16 port = 0;
  SpSipTransportKind kind = sp_account_transport_to_kind (sp_account_get_transport (reg->account));

  reg->active = TRUE;
  reg->stopping = FALSE;
  clear_timers (reg);
  g_cancellable_cancel (reg->resolving);
  g_clear_object (&reg->resolving);
  /* REGISTER goes to the outbound proxy, else the server; a name is
   * looked up each time (it may move), without blocking. */
  if (!sp_host_port_parse (proxy ? proxy : sp_account_get_server (reg->account), &host, &port,
                           &error))
    {
      fail_and_retry (reg, error->message, 0);
      return;
    }
  if (sp_account_get_status (reg->account) != SP_ACCOUNT_STATUS_REGISTERED)
    report (reg, SP_ACCOUNT_STATUS_REGISTERING, NULL, 0);
  reg->resolving = g_cancellable_new ();
  g_free (reg->resolving_host);
  reg->resolving_host = g_strdup (host);
  reg->resolving_port = port;
  sp_ua_resolve_peer_async (host, port, kind, binding_family (reg->stack), reg->resolving,
                            on_resolved, reg);
}

void
sp_registration_stop (SpRegistration *reg)
{
  g_autoptr (SpSipMessage) request = NULL;
  SpAccountStatus status = sp_account_get_status (reg->account);

  reg->active = FALSE;
  clear_timers (reg);
  g_cancellable_cancel (reg->resolving);
  g_clear_object (&reg->resolving);
  if (status != SP_ACCOUNT_STATUS_REGISTERED && status != SP_ACCOUNT_STATUS_REGISTERING)
    {
      drop_transaction (reg);
      if (status != SP_ACCOUNT_STATUS_UNREGISTERED)
        report (reg, SP_ACCOUNT_STATUS_UNREGISTERED, NULL, 0);
      return;
    }
  reg->stopping = TRUE;
  if (!reg->has_dest)
    {
      report (reg, SP_ACCOUNT_STATUS_UNREGISTERED, NULL, 0);
      return;
    }
  request = build_register (reg, 0);
  if (request == NULL)
    {
      report (reg, SP_ACCOUNT_STATUS_UNREGISTERED, NULL, 0);
      return;
    }
  send_register (reg, request);
}
