#include "session/invite-session.h"
#include "session/invite-session-private.h"
#include "session/session-timer.h"

#include <gio/gio.h>
#include <string.h>

#include "sip/error.h"

G_DEFINE_QUARK (sp - session - error - quark, sp_session_error)

static void drop_invite_ct (SpInviteSession *self);
static void drop_pending (SpInviteSession *self, guint status);

const char *
sp_invite_session_state_to_string (SpInviteSessionState state)
{
  static const char *const names[] = { "idle",     "calling",   "incoming",
                                       "answered", "confirmed", "terminated" };

  return (guint) state < G_N_ELEMENTS (names) ? names[state] : "unknown";
}

SpInviteSession *
sp_invite_session_new (SpSipStack *stack, SpCredentials *credentials, const char *label,
                       const SpInviteSessionCallbacks *callbacks, gpointer user_data)
{
  SpInviteSession *self = g_new0 (SpInviteSession, 1);

  self->ref = 1;
  self->stack = g_object_ref (stack);
  self->clock =
      sp_sip_clock_ref (sp_sip_transaction_layer_get_clock (sp_sip_stack_get_transactions (stack)));
  self->credentials = credentials ? sp_credentials_ref (credentials) : NULL;
  self->label = g_strdup (label ? label : "session");
  self->cb = callbacks;
  self->user_data = user_data;
  self->requests = g_ptr_array_new ();
  sp_session_timer_settings_init (&self->timer);
  return self;
}

SpInviteSession *
sp_invite_session_ref (SpInviteSession *self)
{
  self->ref++;
  return self;
}

void
sp_invite_session_unref (SpInviteSession *self)
{
  if (self == NULL || --self->ref > 0)
    return;
  for (guint i = 0; i < self->requests->len; i++)
    ((Request *) self->requests->pdata[i])->session = NULL;
  g_ptr_array_unref (self->requests);
  sp_session_timer_stop (self);
  sp_sip_clock_cancel (self->clock, self->glare_timer);
  if (self->invite_ct != NULL)
    sp_sip_client_transaction_detach (self->invite_ct);
  g_clear_pointer (&self->invite_ct, sp_sip_client_transaction_unref);
  g_clear_pointer (&self->invite, sp_sip_message_unref);
  if (self->invite_st != NULL)
    sp_sip_server_transaction_set_event_func (self->invite_st, NULL, NULL);
  g_clear_pointer (&self->invite_st, sp_sip_server_transaction_unref);
  g_clear_pointer (&self->remote_invite, sp_sip_message_unref);
  g_clear_pointer (&self->pending_st, sp_sip_server_transaction_unref);
  g_clear_pointer (&self->pending_request, sp_sip_message_unref);
  g_clear_pointer (&self->dialog, sp_sip_dialog_unref);
  g_clear_pointer (&self->credentials, sp_credentials_unref);
  sp_sip_clock_unref (self->clock);
  g_object_unref (self->stack);
  g_free (self->contact_user);
  g_free (self->label);
  g_free (self);
}

void
sp_invite_session_detach (SpInviteSession *self)
{
  self->cb = NULL;
  self->user_data = NULL;
  sp_session_timer_stop (self);
  sp_sip_clock_cancel (self->clock, self->glare_timer);
  self->glare_timer = 0;
  if (self->invite_st != NULL)
    sp_sip_server_transaction_set_event_func (self->invite_st, NULL, NULL);
  drop_invite_ct (self);
  if (self->state != SP_INVITE_SESSION_TERMINATED)
    drop_pending (self, 487);
  if (self->state != SP_INVITE_SESSION_TERMINATED && self->dialog != NULL)
    sp_sip_stack_remove_dialog (self->stack, self->dialog);
  self->state = SP_INVITE_SESSION_TERMINATED;
}

void
sp_invite_session_set_timer (SpInviteSession *self, const SpSessionTimerSettings *settings)
{
  self->timer = *settings;
  self->timer.min_se = CLAMP (settings->min_se, MIN_MIN_SE, MAX_INTERVAL);
  if (self->timer.interval != 0)
    self->timer.interval = CLAMP (settings->interval, self->timer.min_se, MAX_INTERVAL);
}

void
sp_invite_session_set_contact_user (SpInviteSession *self, const char *user)
{
  g_free (self->contact_user);
  self->contact_user = g_strdup (user);
}

SpInviteSessionState
sp_invite_session_get_state (SpInviteSession *self)
{
  return self->state;
}

SpSessionOfferState
sp_invite_session_get_offer_state (SpInviteSession *self)
{
  return self->offer;
}

gboolean
sp_invite_session_is_answer_pending (SpInviteSession *self)
{
  return self->pending != PENDING_NONE;
}

gboolean
sp_invite_session_is_modifying (SpInviteSession *self)
{
  return self->modify != MODIFY_NONE && !self->modify_refresh;
}

SpSipDialog *
sp_invite_session_get_dialog (SpInviteSession *self)
{
  return self->dialog;
}

guint
sp_invite_session_get_interval (SpInviteSession *self)
{
  return self->interval;
}

SpSessionRefresher
sp_invite_session_get_refresher (SpInviteSession *self)
{
  return self->interval > 0 ? self->refresher : SP_SESSION_REFRESHER_NONE;
}

const SpSipPeer *
sp_invite_session_get_peer (SpInviteSession *self)
{
  return self->has_peer ? &self->peer : NULL;
}

gboolean
sp_invite_session_is_cancelling (SpInviteSession *self)
{
  return self->cancel_pending;
}

/* ---- helpers ------------------------------------------------------------- */

gboolean
sp_invite_session_is_alive (SpInviteSession *self)
{
  return self->cb != NULL && self->state != SP_INVITE_SESSION_TERMINATED;
}

static void
set_body_sdp (SpSipMessage *msg, const char *sdp)
{
  if (sdp != NULL)
    sp_sip_message_set_body (msg, "application/sdp", (const guint8 *) sdp, strlen (sdp));
}

static char *
body_text (const SpSipMessage *msg, gsize *len)
{
  const guint8 *body = sp_sip_message_get_body (msg, len);

  return *len > 0 ? g_strndup ((const char *) body, *len) : NULL;
}

/* The stack names the binding the peer reaches us on. */
static void
set_contact (SpInviteSession *self, SpSipMessage *msg)
{
  g_autofree char *contact = sp_sip_stack_dup_contact (self->stack, self->contact_user,
                                                       self->has_peer ? &self->peer : NULL);

  sp_sip_message_set_header (msg, "Contact", contact, NULL);
}

/* @token in any field named @name (a comma list: Allow, Supported,
 * Require), case-insensitively. */
gboolean
sp_session_has_token (const SpSipMessage *msg, const char *name, const char *token)
{
  guint n = sp_sip_message_get_n_headers (msg);

  for (guint i = 0; i < n; i++)
    {
      const char *hname, *value;
      g_auto (GStrv) parts = NULL;

      sp_sip_message_get_nth_header (msg, i, &hname, &value);
      if (g_ascii_strcasecmp (hname, name) != 0)
        continue;
      parts = g_strsplit (value, ",", 32);
      for (guint j = 0; parts[j] != NULL; j++)
        if (g_ascii_strcasecmp (g_strstrip (parts[j]), token) == 0)
          return TRUE;
    }
  return FALSE;
}

/* Adds @token to @msg's Supported list unless it is there. */
void
sp_session_add_supported (SpSipMessage *msg, const char *token)
{
  if (!sp_session_has_token (msg, "Supported", token))
    sp_sip_message_add_header (msg, "Supported", token, NULL);
}

static void
note_allow (SpInviteSession *self, const SpSipMessage *msg)
{
  if (sp_session_has_token (msg, "Allow", "UPDATE"))
    self->peer_allows_update = TRUE;
}

/* Our reference to the INVITE's transaction goes once its outcome is
 * known: the transaction owns its Request, which holds the session. */
static void
drop_invite_ct (SpInviteSession *self)
{
  if (self->invite_ct != NULL)
    sp_sip_client_transaction_detach (self->invite_ct);
  g_clear_pointer (&self->invite_ct, sp_sip_client_transaction_unref);
}

static void
end_with (SpInviteSession *self, const SpSessionEnd *end)
{
  drop_invite_ct (self);
  drop_pending (self, 487);
  self->state = SP_INVITE_SESSION_TERMINATED;
  sp_session_timer_stop (self);
  sp_sip_clock_cancel (self->clock, self->glare_timer);
  self->glare_timer = 0;
  if (self->dialog != NULL)
    sp_sip_stack_remove_dialog (self->stack, self->dialog);
  if (self->cb != NULL && self->cb->ended != NULL)
    self->cb->ended (self, end, self->user_data);
}

void
sp_invite_session_end_kind (SpInviteSession *self, SpSessionEndKind kind, guint code,
                            const GError *error)
{
  SpSessionEnd end = { .kind = kind, .code = code, .error = error };

  end_with (self, &end);
}

/* One Reason value ("SIP;cause=200;text=\"...\""): its protocol and
 * cause, the text ignored. */
static gboolean
reason_value_is_completed_elsewhere (const char *value)
{
  g_auto (GStrv) parts = g_strsplit (value, ";", 8);

  if (parts[0] == NULL || g_ascii_strcasecmp (g_strstrip (parts[0]), "SIP") != 0)
    return FALSE;
  for (guint i = 1; parts[i] != NULL; i++)
    {
      char *p = g_strstrip (parts[i]);

      if (g_ascii_strncasecmp (p, "cause", 5) != 0)
        continue;
      p = g_strchug (p + 5);
      if (*p != '=')
        return FALSE;
      return strcmp (g_strstrip (p + 1), "200") == 0;
    }
  return FALSE;
}

gboolean
sp_session_reason_is_completed_elsewhere (const char *reason)
{
  g_autoptr (GString) value = g_string_new (NULL);
  gboolean quoted = FALSE;

  if (reason == NULL)
    return FALSE;
  /* Values are comma-separated; a comma inside text="..." is text. */
  for (const char *p = reason;; p++)
    {
      if (*p == '\0' || (*p == ',' && !quoted))
        {
          if (reason_value_is_completed_elsewhere (value->str))
            return TRUE;
          if (*p == '\0')
            return FALSE;
          g_string_truncate (value, 0);
          continue;
        }
      if (*p == '"')
        quoted = !quoted;
      else if (*p == '\\' && quoted && p[1] != '\0')
        g_string_append_c (value, *p++);
      g_string_append_c (value, *p);
    }
}

/* ---- sending ----------------------------------------------------------- */

static void
request_free (gpointer data)
{
  Request *r = data;

  if (r->session != NULL)
    g_ptr_array_remove_fast (r->session->requests, r);
  g_clear_pointer (&r->credentials, sp_credentials_unref);
  sp_auth_retry_clear (&r->auth);
  g_free (r->sdp);
  g_free (r);
}

static Request *
request_new (SpInviteSession *self, RequestKind kind, const char *sdp, gboolean refresh,
             SpAuthRetry *auth)
{
  Request *r = g_new0 (Request, 1);

  r->session = self;
  g_ptr_array_add (self->requests, r);
  /* Only a BYE answers challenges after the session went. */
  if (kind == REQUEST_BYE && self->credentials != NULL)
    r->credentials = sp_credentials_ref (self->credentials);
  r->kind = kind;
  r->sdp = g_strdup (sdp);
  r->refresh = refresh;
  if (auth != NULL)
    sp_auth_retry_move (&r->auth, auth);
  return r;
}

/* A 401/407 to @ct's request: answered through the account's store into
 * @retry. FALSE (with @error) when the policy or the guard says no. */
static gboolean
answer_challenge (Request *r, SpSipMessage *retry, SpSipClientTransaction *ct,
                  SpSipMessage *response, char **text, GError **error)
{
  SpCredentials *credentials = r->credentials;

  if (credentials == NULL && r->session != NULL)
    credentials = r->session->credentials;
  if (!sp_credentials_answer (credentials, &r->auth, retry, response,
                              sp_sip_client_transaction_get_dest (ct), text, error))
    {
      g_message ("%s %s not re-sent: %s",
                 sp_sip_message_get_method (sp_sip_client_transaction_get_request (ct)),
                 sp_sip_message_get_call_id (retry), (*error)->message);
      return FALSE;
    }
  return TRUE;
}

/* ---- BYE ------------------------------------------------------------------ */

static void
on_bye_response (SpSipStack *stack, SpSipClientTransaction *ct, SpSipMessage *response,
                 SpSipDialog *dialog, gpointer user_data)
{
  /* The session may be over (the owner gone): the BYE still answers its
   * challenge once, through the account's policy. */
  Request *r = user_data;
  guint status = sp_sip_message_get_status (response);
  g_autoptr (SpSipMessage) bye = NULL;
  g_autoptr (GError) error = NULL;
  Request *next;

  if (status != 401 && status != 407)
    return;
  bye = sp_sip_message_copy (sp_sip_client_transaction_get_request (ct));
  if (!answer_challenge (r, bye, ct, response, NULL, &error))
    return;
  sp_credentials_prepare_resend (bye, sp_sip_message_get_cseq (bye, NULL) + 1);
  next = g_new0 (Request, 1);
  next->kind = REQUEST_BYE;
  next->credentials = r->credentials ? sp_credentials_ref (r->credentials) : NULL;
  sp_auth_retry_move (&next->auth, &r->auth);
  sp_sip_stack_send_request_full (stack, bye, sp_sip_client_transaction_get_dest (ct),
                                  on_bye_response, next, request_free, NULL);
}

void
sp_invite_session_send_bye (SpInviteSession *self)
{
  g_autoptr (SpSipMessage) bye = NULL;

  if (self->dialog == NULL)
    return;
  bye = sp_sip_dialog_new_request (self->dialog, "BYE");
  sp_sip_stack_send_dialog_request (self->stack, self->dialog, bye, on_bye_response,
                                    request_new (self, REQUEST_BYE, NULL, FALSE, NULL),
                                    request_free, NULL);
}

/* ---- our re-INVITE / UPDATE ------------------------------------------------ */

static void on_modify_response (SpSipStack *stack, SpSipClientTransaction *ct,
                                SpSipMessage *response, SpSipDialog *dialog, gpointer user_data);

gboolean
sp_invite_session_send_in_dialog (SpInviteSession *self, RequestKind kind, const char *sdp,
                                  gboolean refresh, SpAuthRetry *auth, GError **error)
{
  const char *method = kind == REQUEST_UPDATE ? "UPDATE" : "INVITE";
  g_autoptr (SpSipMessage) request = NULL;

  if (self->dialog == NULL)
    {
      g_set_error_literal (error, SP_SESSION_ERROR, SP_SESSION_ERROR_NO_DIALOG, "no dialog");
      return FALSE;
    }
  request = sp_sip_dialog_new_request (self->dialog, method);
  set_contact (self, request);
  sp_session_timer_add_request_headers (self, request, refresh);
  set_body_sdp (request, sdp);
  return sp_sip_stack_send_dialog_request (self->stack, self->dialog, request, on_modify_response,
                                           request_new (self, kind, sdp, refresh, auth),
                                           request_free, error) != NULL;
}

static void
modify_done (SpInviteSession *self, guint status)
{
  gboolean refresh = self->modify_refresh;

  self->modify = MODIFY_NONE;
  self->modify_refresh = FALSE;
  if (!refresh && self->cb != NULL && self->cb->modified != NULL)
    self->cb->modified (self, status, self->user_data);
}

static void
withdraw_offer (SpInviteSession *self)
{
  if (self->offer != SP_SESSION_OFFER_LOCAL)
    return;
  self->offer = SP_SESSION_OFFER_NONE;
  if (self->cb != NULL && self->cb->offer_withdrawn != NULL)
    self->cb->offer_withdrawn (self, self->user_data);
}

static gboolean start_modify (SpInviteSession *self, SpSipMethod method, GError **error);

static void
glare_retry_cb (gpointer data)
{
  SpInviteSession *self = data;
  g_autoptr (GError) error = NULL;

  self->glare_timer = 0;
  if (!sp_invite_session_is_alive (self) || self->modify != MODIFY_WAITING)
    return;
  self->modify = MODIFY_NONE;
  if (!start_modify (self, self->modify_method, &error))
    {
      g_message ("%s: re-INVITE not retried: %s", self->label, error->message);
      modify_done (self, 491);
    }
}

/* A 491 to our re-INVITE (glare): one more try after RFC 3261 14.1's
 * random wait, 2.1-4 s when we chose the Call-ID, 0-2 s otherwise, in
 * steps of 10 ms, so the two sides do not meet again. Meanwhile the
 * peer's own request is answered from what is in force. */
static gboolean
schedule_glare_retry (SpInviteSession *self)
{
  guint delay_ms;

  if (self->modify_retried || self->modify_refresh)
    return FALSE;
  self->modify_retried = TRUE;
  delay_ms = self->is_uac ? 10 * g_random_int_range (210, 401) : 10 * g_random_int_range (0, 201);
  g_message ("%s: re-INVITE met another (491), trying again in %u ms", self->label, delay_ms);
  self->modify = MODIFY_WAITING;
  self->glare_timer = sp_sip_clock_add_timeout (self->clock, delay_ms, glare_retry_cb, self);
  return TRUE;
}

static void
on_modify_response (SpSipStack *stack, SpSipClientTransaction *ct, SpSipMessage *response,
                    SpSipDialog *dialog, gpointer user_data)
{
  Request *r = user_data;
  SpInviteSession *self = r->session;
  guint status = sp_sip_message_get_status (response);
  g_autoptr (GError) error = NULL;

  if (status < 200 || self == NULL || !sp_invite_session_is_alive (self))
    return;
  if (status == 401 || status == 407)
    {
      g_autoptr (SpSipMessage) retry = NULL;
      const char *method = r->kind == REQUEST_UPDATE ? "UPDATE" : "INVITE";

      /* The same request again, a new CSeq of the dialog. */
      retry = sp_sip_dialog_new_request (self->dialog, method);
      set_contact (self, retry);
      sp_session_timer_add_request_headers (self, retry, r->refresh);
      set_body_sdp (retry, r->sdp);
      if (answer_challenge (r, retry, ct, response, NULL, &error))
        {
          Request *next = request_new (self, r->kind, r->sdp, r->refresh, &r->auth);
          if (sp_sip_stack_send_dialog_request (stack, self->dialog, retry, on_modify_response,
                                                next, request_free, &error) != NULL)
            return;
        }
    }
  if (status == 422)
    {
      guint sent = 0;
      const char *role;

      sp_session_timer_parse_expires (sp_sip_client_transaction_get_request (ct), &sent, &role);
      if (sp_session_timer_retry_with_min_se (self, response, &sent) &&
          sp_invite_session_send_in_dialog (self, r->kind, r->sdp, r->refresh, &r->auth, &error))
        return;
    }
  if (status >= 300)
    {
      withdraw_offer (self);
      if (status == 491 && schedule_glare_retry (self))
        return;
      g_message ("%s: %s%s refused: %u", self->label, r->refresh ? "refresh " : "",
                 r->kind == REQUEST_UPDATE ? "UPDATE" : "re-INVITE", status);
      modify_done (self, status);
      /* A refresh that found no session (481) or no one (408): over
       * (RFC 4028 10, RFC 5057). */
      if (r->refresh && (status == 408 || status == 481))
        {
          sp_invite_session_send_bye (self);
          sp_invite_session_end_kind (self, SP_SESSION_END_EXPIRED, status, NULL);
        }
      return;
    }

  /* 2xx */
  note_allow (self, response);
  if (self->offer == SP_SESSION_OFFER_LOCAL && r->sdp != NULL)
    {
      gsize len = 0;
      g_autofree char *sdp = body_text (response, &len);

      self->offer = SP_SESSION_OFFER_NONE;
      if (sdp == NULL || self->cb->take_answer == NULL ||
          !self->cb->take_answer (self, sdp, len, &error, self->user_data))
        g_message ("%s: the answer to our %s is unusable (%s); media unchanged", self->label,
                   r->kind == REQUEST_UPDATE ? "UPDATE" : "re-INVITE",
                   error ? error->message : "no SDP");
      else if (self->cb->media_changed != NULL)
        self->cb->media_changed (self, self->user_data);
    }
  sp_session_timer_from_response (self, response);
  if (sp_invite_session_is_alive (self))
    modify_done (self, status);
}

static gboolean
start_modify (SpInviteSession *self, SpSipMethod method, GError **error)
{
  g_autofree char *sdp = NULL;
  RequestKind kind = method == SP_SIP_METHOD_UPDATE ? REQUEST_UPDATE : REQUEST_REINVITE;

  sdp = self->cb->create_offer ? self->cb->create_offer (self, self->user_data) : NULL;
  if (sdp == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "no offer to make");
      return FALSE;
    }
  self->offer = SP_SESSION_OFFER_LOCAL;
  self->modify = MODIFY_SENT;
  self->modify_method = method;
  self->retries_422 = 0;
  if (!sp_invite_session_send_in_dialog (self, kind, sdp, FALSE, NULL, error))
    {
      self->modify = MODIFY_NONE;
      withdraw_offer (self);
      return FALSE;
    }
  return TRUE;
}

void
sp_invite_session_adopt (SpInviteSession *self, SpSipDialog *dialog, gboolean uac,
                         const SpSipPeer *peer, guint32 late_cseq)
{
  g_return_if_fail (self->state == SP_INVITE_SESSION_IDLE);
  self->dialog = sp_sip_dialog_ref (dialog);
  self->is_uac = uac;
  if (peer != NULL)
    {
      self->peer = *peer;
      self->has_peer = TRUE;
    }
  self->timer.interval = 0;
  self->interval = 0;
  self->offer = SP_SESSION_OFFER_NONE;
  self->state = SP_INVITE_SESSION_CONFIRMED;
  if (late_cseq != 0 && uac)
    {
      self->pending = PENDING_ACK;
      self->pending_ack_cseq = late_cseq;
      self->offer = SP_SESSION_OFFER_REMOTE;
    }
  else if (late_cseq != 0)
    {
      self->answer_ack_cseq = late_cseq;
      self->offer = SP_SESSION_OFFER_LOCAL;
      self->state = SP_INVITE_SESSION_ANSWERED;
    }
}

void
sp_invite_session_adopt_exchange (SpInviteSession *self, const SpSipMessage *invite,
                                  const SpSipMessage *ok, const SpSessionTimerSettings *timer)
{
  const char *role = NULL;
  guint delta = 0;

  note_allow (self, self->is_uac ? ok : invite);
  if (timer == NULL)
    return;
  sp_invite_session_set_timer (self, timer);
  if (self->is_uac)
    {
      /* Their 2xx to our INVITE settles it as for any request of ours. */
      sp_session_timer_from_response (self, ok);
      return;
    }
  /* Our own 2xx (sp_session_timer_answer_invite): "uac" is them. */
  if (self->timer.interval == 0 || !sp_session_timer_parse_expires (ok, &delta, &role))
    return;
  self->interval = CLAMP (delta, MIN_MIN_SE, MAX_INTERVAL);
  self->refresher =
      g_strcmp0 (role, "uac") == 0 ? SP_SESSION_REFRESHER_REMOTE : SP_SESSION_REFRESHER_LOCAL;
  sp_session_timer_start (self);
}

static gboolean
modify_with (SpInviteSession *self, SpSipMethod method, GError **error)
{
  if (self->state != SP_INVITE_SESSION_CONFIRMED || self->dialog == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the session is not established");
      return FALSE;
    }
  if (self->modify != MODIFY_NONE || self->offer != SP_SESSION_OFFER_NONE)
    {
      /* A refresh in flight counts as busy too: a second INVITE would
       * meet it (our own glare). */
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_BUSY, "an offer is in progress");
      return FALSE;
    }
  self->modify_retried = FALSE;
  self->modify_refresh = FALSE;
  return start_modify (self, method, error);
}

gboolean
sp_invite_session_modify (SpInviteSession *self, GError **error)
{
  return modify_with (self, SP_SIP_METHOD_INVITE, error);
}

gboolean
sp_invite_session_update (SpInviteSession *self, GError **error)
{
  return modify_with (self, SP_SIP_METHOD_UPDATE, error);
}

gboolean
sp_invite_session_peer_allows_update (SpInviteSession *self)
{
  return self->peer_allows_update;
}

SpSipMethod
sp_invite_session_get_offer_method (SpInviteSession *self)
{
  return self->offer_method;
}

/* ---- UAC: the INVITE ---------------------------------------------------- */

static void on_invite_response (SpSipStack *stack, SpSipClientTransaction *ct,
                                SpSipMessage *response, SpSipDialog *dialog, gpointer user_data);

static gboolean
send_invite_request (SpInviteSession *self, SpAuthRetry *auth, GError **error)
{
  SpSipClientTransaction *ct;

  set_contact (self, self->invite);
  ct = sp_sip_stack_send_request_full (
      self->stack, self->invite, self->has_peer ? &self->peer : NULL, on_invite_response,
      request_new (self, REQUEST_INVITE, NULL, FALSE, auth), request_free, error);
  if (ct == NULL)
    return FALSE;
  if (self->invite_ct != NULL)
    sp_sip_client_transaction_detach (self->invite_ct);
  g_clear_pointer (&self->invite_ct, sp_sip_client_transaction_unref);
  self->invite_ct = sp_sip_client_transaction_ref (ct);
  return TRUE;
}

gboolean
sp_invite_session_send_invite (SpInviteSession *self, SpSipMessage *invite, const SpSipPeer *dest,
                               GError **error)
{
  gsize len = 0;

  g_return_val_if_fail (self->state == SP_INVITE_SESSION_IDLE, FALSE);
  self->is_uac = TRUE;
  if (dest != NULL)
    {
      self->peer = *dest;
      self->has_peer = TRUE;
    }
  self->invite = sp_sip_message_ref (invite);
  sp_sip_message_get_body (invite, &len);
  /* No body: a late offer, the 2xx brings one (RFC 3261 13.2.1). */
  self->offer = len > 0 ? SP_SESSION_OFFER_LOCAL : SP_SESSION_OFFER_NONE;
  sp_session_timer_add_request_headers (self, self->invite, FALSE);
  /* What we take in the dialog (UPDATE for refreshes, 13.2.1). */
  if (sp_sip_message_get_header (self->invite, "Allow") == NULL)
    sp_sip_message_set_header (self->invite, "Allow", sp_sip_stack_get_allow (self->stack), NULL);
  self->state = SP_INVITE_SESSION_CALLING;
  if (!send_invite_request (self, NULL, error))
    {
      self->state = SP_INVITE_SESSION_TERMINATED;
      return FALSE;
    }
  return TRUE;
}

gboolean
sp_invite_session_cancel (SpInviteSession *self)
{
  if (self->state != SP_INVITE_SESSION_CALLING)
    return FALSE;
  self->cancel_pending = TRUE;
  /* Before any provisional, the CANCEL waits for one (9.1). */
  return self->invite_ct != NULL && sp_sip_client_transaction_cancel (self->invite_ct, NULL, NULL);
}

static void
invite_progress (SpInviteSession *self, SpSipClientTransaction *ct, SpSipMessage *response)
{
  gsize len = 0;
  g_autofree char *sdp = body_text (response, &len);
  g_autoptr (GError) error = NULL;

  /* An answer in a 18x (early media): the 2xx repeats it (13.2.1). */
  if (sdp != NULL && self->offer == SP_SESSION_OFFER_LOCAL && self->cb->take_answer != NULL)
    {
      if (self->cb->take_answer (self, sdp, len, &error, self->user_data))
        {
          self->offer = SP_SESSION_OFFER_NONE;
          self->early_answer = TRUE;
        }
      else
        g_message ("%s: early SDP not used: %s", self->label, error->message);
    }
  if (self->cb->progress != NULL)
    self->cb->progress (self, response, self->user_data);
  if (sp_invite_session_is_alive (self) && self->cancel_pending)
    sp_sip_client_transaction_cancel (ct, NULL, NULL);
}

/* The 2xx: the answer to our offer, or their offer (we sent none) whose
 * answer goes in the ACK. FALSE with @error when the media cannot go on. */
static gboolean
invite_accepted_media (SpInviteSession *self, SpSipMessage *response, SpSipDialog *dialog,
                       GError **error)
{
  gsize len = 0;
  g_autofree char *sdp = body_text (response, &len);
  guint32 cseq = sp_sip_message_get_cseq (response, NULL);

  if (self->offer == SP_SESSION_OFFER_LOCAL)
    {
      self->offer = SP_SESSION_OFFER_NONE;
      if (sdp == NULL)
        {
          g_set_error_literal (error, SP_SESSION_ERROR, SP_SESSION_ERROR_NO_ANSWER,
                               "no SDP answer in the 200 OK");
          return FALSE;
        }
      return self->cb->take_answer (self, sdp, len, error, self->user_data);
    }
  if (self->early_answer)
    return TRUE;
  {
    /* Late offer: their offer in the 2xx, our answer in the ACK (which
     * must go even when we have none, before the BYE). */
    g_autofree char *answer = NULL;
    guint status = 488;

    self->offer_method = SP_SIP_METHOD_INVITE;
    if (sdp == NULL)
      g_set_error_literal (error, SP_SESSION_ERROR, SP_SESSION_ERROR_NO_OFFER,
                           "no SDP offer in the 200 OK");
    else
      answer = self->cb->answer_offer (self, sdp, len, &status, error, self->user_data);
    if (answer == NULL && sdp != NULL && status == SP_SESSION_ANSWER_LATER && *error == NULL)
      {
        /* The ACK waits for sp_invite_session_answer (); the stack does
         * not ACK a late offer's 2xx by itself. */
        self->pending = PENDING_ACK;
        self->pending_ack_cseq = cseq;
        self->offer = SP_SESSION_OFFER_REMOTE;
        return TRUE;
      }
    sp_sip_stack_send_ack (self->stack, dialog, cseq, answer ? "application/sdp" : NULL, answer,
                           NULL);
    return answer != NULL;
  }
}

static void
invite_accepted (SpInviteSession *self, SpSipMessage *response, SpSipDialog *dialog)
{
  g_autoptr (GError) error = NULL;

  if (dialog != NULL && self->dialog == NULL)
    self->dialog = sp_sip_dialog_ref (dialog);
  note_allow (self, response);
  drop_invite_ct (self);
  if (self->cancel_pending)
    {
      /* The 2xx crossed our CANCEL: the stack ACKs it, we end it. */
      sp_invite_session_send_bye (self);
      sp_invite_session_end_kind (self, SP_SESSION_END_CANCEL_LATE, 0, NULL);
      return;
    }
  if (!invite_accepted_media (self, response, self->dialog, &error))
    {
      g_message ("%s: %s", self->label, error->message);
      sp_invite_session_send_bye (self);
      sp_invite_session_end_kind (self, SP_SESSION_END_BAD_ANSWER, 488, error);
      return;
    }
  self->state = SP_INVITE_SESSION_CONFIRMED;
  sp_session_timer_from_response (self, response);
  if (self->pending == PENDING_ACK)
    return; /* established once the ACK with our answer went */
  if (self->cb->established != NULL)
    self->cb->established (self, self->user_data);
}

static void
invite_failed (SpInviteSession *self, SpSipClientTransaction *ct, SpSipMessage *response,
               const GError *error, const char *text)
{
  SpSessionEnd end = {
    .kind = SP_SESSION_END_FAILED,
    .code = sp_sip_message_get_status (response),
    .error = error,
    .error_text = text,
    .response = response,
    .ct = ct,
  };

  self->offer = SP_SESSION_OFFER_NONE;
  end_with (self, &end);
}

/* The owner's second offer after a refused one (see retry_offer in the
 * callbacks), sent in a new INVITE: TRUE when it went. */
static gboolean
retry_offer (SpInviteSession *self, SpSipMessage *response)
{
  g_autofree char *sdp = NULL;
  guint32 cseq = sp_sip_message_get_cseq (self->invite, NULL);

  if (self->cancel_pending || self->offer != SP_SESSION_OFFER_LOCAL || self->cb == NULL ||
      self->cb->retry_offer == NULL)
    return FALSE;
  sdp = self->cb->retry_offer (self, response, self->user_data);
  if (sdp == NULL)
    return FALSE;
  set_body_sdp (self->invite, sdp);
  sp_credentials_prepare_resend (self->invite, cseq + 1);
  /* Credentials sent already would be a replay (same nonce and count):
   * the server challenges the new INVITE, answered as a first one. */
  sp_sip_message_remove_header (self->invite, "Authorization");
  sp_sip_message_remove_header (self->invite, "Proxy-Authorization");
  return send_invite_request (self, NULL, NULL);
}

static void
on_invite_response (SpSipStack *stack, SpSipClientTransaction *ct, SpSipMessage *response,
                    SpSipDialog *dialog, gpointer user_data)
{
  Request *r = user_data;
  SpInviteSession *self = r->session;
  guint status = sp_sip_message_get_status (response);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;

  if (self == NULL || !sp_invite_session_is_alive (self) || ct != self->invite_ct)
    return;
  if (status < 200)
    {
      invite_progress (self, ct, response);
      return;
    }
  if (status < 300)
    {
      invite_accepted (self, response, dialog);
      return;
    }
  if ((status == 401 || status == 407) && !self->cancel_pending)
    {
      guint32 cseq = sp_sip_message_get_cseq (self->invite, NULL);

      if (answer_challenge (r, self->invite, ct, response, &text, &error))
        {
          sp_credentials_prepare_resend (self->invite, cseq + 1);
          if (send_invite_request (self, &r->auth, &error))
            return;
        }
    }
  if (status == 422 && !self->cancel_pending)
    {
      guint sent = 0;
      const char *role;
      guint32 cseq = sp_sip_message_get_cseq (self->invite, NULL);

      sp_session_timer_parse_expires (self->invite, &sent, &role);
      if (sp_session_timer_retry_with_min_se (self, response, &sent))
        {
          sp_session_timer_add_request_headers (self, self->invite, FALSE);
          sp_credentials_prepare_resend (self->invite, cseq + 1);
          if (send_invite_request (self, &r->auth, NULL))
            return;
        }
    }
  if ((status == 488 || status == 606) && retry_offer (self, response))
    return;
  invite_failed (self, ct, response, error, text);
}

/* ---- UAS: their INVITE ------------------------------------------------- */

static void
on_invite_server_event (SpSipServerTransaction *st, SpSipServerEvent event, gpointer user_data)
{
  SpInviteSession *self = user_data;

  if (!sp_invite_session_is_alive (self) || self->state != SP_INVITE_SESSION_INCOMING)
    return;
  if (event == SP_SIP_SERVER_EVENT_CANCELLED)
    {
      SpSessionEnd end = { .kind = SP_SESSION_END_CANCELLED,
                           .code = 487,
                           .cancel_reason = sp_sip_server_transaction_get_cancel_reason (st) };

      end_with (self, &end);
    }
  else
    sp_invite_session_end_kind (self, SP_SESSION_END_UNREACHABLE, 408, NULL);
}

static gboolean
reply (SpInviteSession *self, SpSipServerTransaction *st, guint status, const char *reason,
       const char *warning)
{
  g_autoptr (SpSipMessage) response = sp_sip_server_transaction_new_response (st, status, reason);

  if (response == NULL)
    return FALSE;
  if (status > 100 && status < 300)
    set_contact (self, response);
  if (status == 422)
    {
      g_autofree char *min_se = g_strdup_printf ("%u", self->timer.min_se);
      sp_sip_message_set_header (response, "Min-SE", min_se, NULL);
    }
  if (status == 500)
    {
      /* 14.2: our answer to their earlier offer is still due; they may
       * try again in a moment. */
      g_autofree char *after = g_strdup_printf ("%u", g_random_int_range (0, 11));
      sp_sip_message_set_header (response, "Retry-After", after, NULL);
    }
  if (warning != NULL)
    {
      /* warn-text is a quoted-string: the peer's codec names go in it. */
      g_autofree char *text = g_strndup (warning, 512);
      g_autofree char *value = NULL;

      g_strdelimit (text, "\"\\\r\n", '\'');
      value = g_strdup_printf ("399 softphone \"%s\"", text);
      sp_sip_message_add_header (response, "Warning", value, NULL);
    }
  return sp_sip_stack_respond (self->stack, st, response, NULL);
}

gboolean
sp_invite_session_receive_invite (SpInviteSession *self, SpSipServerTransaction *st,
                                  SpSipMessage *invite)
{
  gsize len = 0;

  g_return_val_if_fail (self->state == SP_INVITE_SESSION_IDLE, FALSE);
  self->is_uac = FALSE;
  self->peer = *sp_sip_server_transaction_get_source (st);
  self->has_peer = TRUE;
  self->invite_st = sp_sip_server_transaction_ref (st);
  self->remote_invite = sp_sip_message_ref (invite);
  self->state = SP_INVITE_SESSION_INCOMING;
  note_allow (self, invite);
  sp_sip_server_transaction_set_event_func (st, on_invite_server_event, self);
  sp_sip_message_get_body (invite, &len);
  self->offer = len > 0 ? SP_SESSION_OFFER_REMOTE : SP_SESSION_OFFER_NONE;
  if (sp_session_timer_check_request (self, invite) != 0)
    {
      reply (self, st, 422, NULL, NULL);
      self->state = SP_INVITE_SESSION_TERMINATED;
      return FALSE;
    }
  return TRUE;
}

gboolean
sp_invite_session_respond (SpInviteSession *self, guint status, const char *reason,
                           const char *warning)
{
  if (self->state != SP_INVITE_SESSION_INCOMING || self->invite_st == NULL ||
      (status >= 200 && status < 300))
    return FALSE;
  if (!reply (self, self->invite_st, status, reason, warning))
    return FALSE;
  if (status >= 300)
    {
      self->state = SP_INVITE_SESSION_TERMINATED;
      self->offer = SP_SESSION_OFFER_NONE;
      self->pending = PENDING_NONE;
    }
  return TRUE;
}

/* Our 200 to their INVITE with @sdp: the answer to its offer, or our
 * offer when it had none. */
gboolean
sp_invite_session_accept_with (SpInviteSession *self, const char *sdp, GError **error)
{
  g_autoptr (SpSipMessage) ok = NULL;
  g_autofree char *dialog_id = NULL;
  gboolean late = self->offer == SP_SESSION_OFFER_NONE;

  if (self->state != SP_INVITE_SESSION_INCOMING || self->invite_st == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "nothing to answer");
      return FALSE;
    }
  self->pending = PENDING_NONE;
  ok = sp_sip_server_transaction_new_response (self->invite_st, 200, NULL);
  set_body_sdp (ok, sdp);
  set_contact (self, ok);
  sp_sip_message_set_header (ok, "Allow", sp_sip_stack_get_allow (self->stack), NULL);
  sp_session_timer_answer_request (self, self->remote_invite, ok);
  if (!sp_sip_stack_respond (self->stack, self->invite_st, ok, error))
    return FALSE;
  dialog_id = sp_sip_dialog_id_for_uas (self->remote_invite,
                                        sp_sip_server_transaction_get_to_tag (self->invite_st));
  self->dialog = sp_sip_stack_lookup_dialog (self->stack, dialog_id);
  if (self->dialog != NULL)
    sp_sip_dialog_ref (self->dialog);
  if (late)
    {
      /* Established once the ACK brings the answer. */
      self->offer = SP_SESSION_OFFER_LOCAL;
      self->answer_ack_cseq = sp_sip_message_get_cseq (self->remote_invite, NULL);
      self->state = SP_INVITE_SESSION_ANSWERED;
      return TRUE;
    }
  self->offer = SP_SESSION_OFFER_NONE;
  self->state = SP_INVITE_SESSION_CONFIRMED;
  sp_session_timer_start (self);
  if (self->cb != NULL && self->cb->established != NULL)
    self->cb->established (self, self->user_data);
  return TRUE;
}

gboolean
sp_invite_session_accept (SpInviteSession *self, GError **error)
{
  g_autofree char *sdp = NULL;

  if (self->state != SP_INVITE_SESSION_INCOMING || self->invite_st == NULL ||
      self->pending != PENDING_NONE || self->cb == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "nothing to answer");
      return FALSE;
    }
  if (self->offer == SP_SESSION_OFFER_NONE)
    sdp = self->cb->create_offer (self, self->user_data);
  else
    {
      g_autoptr (GError) local = NULL;
      gsize len = 0;
      g_autofree char *offer = body_text (self->remote_invite, &len);
      guint status = 488;

      self->offer_method = SP_SIP_METHOD_INVITE;
      sdp = self->cb->answer_offer (self, offer, len, &status, &local, self->user_data);
      if (sdp == NULL && local == NULL && status == SP_SESSION_ANSWER_LATER)
        {
          self->pending = PENDING_ACCEPT;
          return TRUE;
        }
      if (sdp == NULL)
        {
          if (local != NULL)
            g_propagate_error (error, g_steal_pointer (&local));
          else
            g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "no answer to the offer");
          return FALSE;
        }
    }
  return sp_invite_session_accept_with (self, sdp, error);
}

void
sp_invite_session_handle_ack (SpInviteSession *self, SpSipMessage *ack)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *sdp = NULL;
  gboolean initial = self->state == SP_INVITE_SESSION_ANSWERED;
  gsize len = 0;

  /* Only the ACK of the 2xx that carried our offer answers it: an ACK
   * crossing our own re-INVITE, or a retransmitted one, must not. */
  if (!sp_invite_session_is_alive (self) || self->offer != SP_SESSION_OFFER_LOCAL ||
      self->answer_ack_cseq == 0 || sp_sip_message_get_cseq (ack, NULL) != self->answer_ack_cseq)
    return;
  self->answer_ack_cseq = 0;
  self->offer = SP_SESSION_OFFER_NONE;
  sdp = body_text (ack, &len);
  if (sdp == NULL)
    g_set_error_literal (&error, SP_SESSION_ERROR, SP_SESSION_ERROR_NO_ACK_ANSWER,
                         "no SDP answer in the ACK");
  else
    self->cb->take_answer (self, sdp, len, &error, self->user_data);
  if (error != NULL)
    {
      /* The ACK cannot be refused: the session ends (13.3.1.4). */
      g_message ("%s: %s", self->label, error->message);
      sp_invite_session_send_bye (self);
      sp_invite_session_end_kind (self, SP_SESSION_END_BAD_ANSWER, 488, error);
      return;
    }
  if (initial)
    {
      self->state = SP_INVITE_SESSION_CONFIRMED;
      sp_session_timer_start (self);
      if (self->cb->established != NULL)
        self->cb->established (self, self->user_data);
    }
  else if (self->cb->media_changed != NULL)
    self->cb->media_changed (self, self->user_data);
}

void
sp_invite_session_handle_ack_timeout (SpInviteSession *self)
{
  if (!sp_invite_session_is_alive (self))
    return;
  /* The stack has sent the BYE. */
  sp_invite_session_end_kind (self, SP_SESSION_END_NO_ACK, 408, NULL);
}

/* ---- their re-INVITE / UPDATE -------------------------------------------- */

/* Glare (RFC 3261 14.2, RFC 3311 5.2): their offer meets one of ours
 * still unanswered, or their INVITE meets our re-INVITE. */
static gboolean
is_glare (SpInviteSession *self, SpSipMethod method, gboolean has_offer)
{
  if (self->offer == SP_SESSION_OFFER_LOCAL && (has_offer || method == SP_SIP_METHOD_INVITE))
    return TRUE;
  return method == SP_SIP_METHOD_INVITE && self->modify == MODIFY_SENT &&
         self->modify_method == SP_SIP_METHOD_INVITE;
}

static void answer_request (SpInviteSession *self, SpSipServerTransaction *st,
                            SpSipMessage *request, gboolean had_offer, const char *sdp);

static void
handle_offer_request (SpInviteSession *self, SpSipServerTransaction *st, SpSipMessage *request)
{
  SpSipMethod method = sp_sip_message_get_method_id (request);
  g_autofree char *offer = NULL;
  g_autofree char *sdp = NULL;
  gsize len = 0;
  guint status;

  offer = body_text (request, &len);
  note_allow (self, request);
  if (self->state != SP_INVITE_SESSION_CONFIRMED && self->state != SP_INVITE_SESSION_ANSWERED)
    {
      reply (self, st, method == SP_SIP_METHOD_INVITE ? 500 : 491, NULL, NULL);
      return;
    }
  if (self->pending != PENDING_NONE)
    {
      /* Our answer to their earlier offer is still due (RFC 3261 14.2,
       * RFC 3311 5.2): 500 with Retry-After. */
      reply (self, st, 500, NULL, NULL);
      return;
    }
  if (is_glare (self, method, offer != NULL))
    {
      reply (self, st, 491, NULL, NULL);
      return;
    }
  if ((status = sp_session_timer_check_request (self, request)) != 0)
    {
      reply (self, st, status, NULL, NULL);
      return;
    }
  if (offer != NULL)
    {
      g_autoptr (GError) error = NULL;

      status = 488;
      self->offer_method = method;
      sdp = self->cb->answer_offer (self, offer, len, &status, &error, self->user_data);
      if (sdp == NULL && error == NULL && status == SP_SESSION_ANSWER_LATER)
        {
          /* Answered by sp_invite_session_answer () or _reject_offer (). */
          self->pending = PENDING_REQUEST;
          self->pending_st = sp_sip_server_transaction_ref (st);
          self->pending_request = sp_sip_message_ref (request);
          self->offer = SP_SESSION_OFFER_REMOTE;
          return;
        }
      if (sdp == NULL)
        {
          /* The call goes on with what was agreed before. */
          reply (self, st, status, NULL, error ? error->message : NULL);
          return;
        }
    }
  else if (method == SP_SIP_METHOD_INVITE)
    sdp = self->cb->create_offer (self, self->user_data); /* answered in the ACK */
  answer_request (self, st, request, offer != NULL, sdp);
}

/* The 200 to their re-INVITE / UPDATE with @sdp: the answer to its
 * offer (@had_offer), or our offer (answered in the ACK), or none. */
static void
answer_request (SpInviteSession *self, SpSipServerTransaction *st, SpSipMessage *request,
                gboolean had_offer, const char *sdp)
{
  g_autoptr (SpSipMessage) ok = NULL;

  ok = sp_sip_server_transaction_new_response (st, 200, NULL);
  set_body_sdp (ok, sdp);
  set_contact (self, ok);
  sp_session_timer_answer_request (self, request, ok);
  if (!sp_sip_stack_respond (self->stack, st, ok, NULL))
    return;
  if (!had_offer && sdp != NULL)
    {
      self->offer = SP_SESSION_OFFER_LOCAL;
      self->answer_ack_cseq = sp_sip_message_get_cseq (request, NULL);
    }
  sp_session_timer_start (self);
  if (had_offer && self->cb != NULL && self->cb->media_changed != NULL)
    self->cb->media_changed (self, self->user_data);
}

gboolean
sp_invite_session_handle_request (SpInviteSession *self, SpSipServerTransaction *st,
                                  SpSipMessage *request)
{
  SpSipMethod method = sp_sip_message_get_method_id (request);

  if (self->cb == NULL)
    return FALSE;
  if (method != SP_SIP_METHOD_BYE && method != SP_SIP_METHOD_INVITE &&
      method != SP_SIP_METHOD_UPDATE)
    return FALSE;
  /* The owner's word first (a server challenges a user's BYE). */
  if (self->cb->check_request != NULL &&
      !self->cb->check_request (self, st, request, self->user_data))
    return TRUE;
  switch (method)
    {
      case SP_SIP_METHOD_BYE:
        reply (self, st, 200, NULL, NULL);
        if (self->state != SP_INVITE_SESSION_TERMINATED)
          {
            if (self->invite_st != NULL && self->state == SP_INVITE_SESSION_INCOMING)
              reply (self, self->invite_st, 487, NULL, NULL);
            sp_invite_session_end_kind (self, SP_SESSION_END_REMOTE_BYE, 0, NULL);
          }
        return TRUE;
      case SP_SIP_METHOD_INVITE:
      case SP_SIP_METHOD_UPDATE:
        handle_offer_request (self, st, request);
        return TRUE;
      default:
        return FALSE;
    }
}

/* ---- answers given later (SP_SESSION_ANSWER_LATER) ------------------------- */

/* Gives up a pending answer: a re-INVITE / UPDATE gets @status, a 2xx
 * to our INVITE its ACK without an answer (it must have one). */
static void
drop_pending (SpInviteSession *self, guint status)
{
  PendingAnswer pending = self->pending;
  g_autoptr (SpSipServerTransaction) st = g_steal_pointer (&self->pending_st);
  /* The request is not needed past here: drop our reference. */
  g_clear_pointer (&self->pending_request, sp_sip_message_unref);

  if (pending == PENDING_NONE)
    return;
  self->pending = PENDING_NONE;
  if (self->offer == SP_SESSION_OFFER_REMOTE)
    self->offer = SP_SESSION_OFFER_NONE;
  if (pending == PENDING_REQUEST && st != NULL)
    reply (self, st, status, NULL, NULL);
  else if (pending == PENDING_ACK && self->dialog != NULL)
    sp_sip_stack_send_ack (self->stack, self->dialog, self->pending_ack_cseq, NULL, NULL, NULL);
}

gboolean
sp_invite_session_answer (SpInviteSession *self, const char *sdp, GError **error)
{
  switch (self->pending)
    {
      case PENDING_REQUEST:
        {
          g_autoptr (SpSipServerTransaction) st = g_steal_pointer (&self->pending_st);
          g_autoptr (SpSipMessage) request = g_steal_pointer (&self->pending_request);

          self->pending = PENDING_NONE;
          self->offer = SP_SESSION_OFFER_NONE;
          answer_request (self, st, request, TRUE, sdp);
          return TRUE;
        }
      case PENDING_ACK:
        self->pending = PENDING_NONE;
        self->offer = SP_SESSION_OFFER_NONE;
        if (!sp_sip_stack_send_ack (self->stack, self->dialog, self->pending_ack_cseq,
                                    sdp ? "application/sdp" : NULL, sdp, error))
          return FALSE;
        if (self->cb != NULL && self->cb->established != NULL)
          self->cb->established (self, self->user_data);
        return TRUE;
      case PENDING_ACCEPT:
      case PENDING_NONE:
      default:
        if (self->state == SP_INVITE_SESSION_INCOMING && self->offer == SP_SESSION_OFFER_REMOTE)
          return sp_invite_session_accept_with (self, sdp, error);
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "no offer waits for an answer");
        return FALSE;
    }
}

gboolean
sp_invite_session_reject_offer (SpInviteSession *self, guint status, const char *warning)
{
  if (status < 300 || status > 699)
    return FALSE;
  switch (self->pending)
    {
      case PENDING_REQUEST:
        {
          g_autoptr (SpSipServerTransaction) st = g_steal_pointer (&self->pending_st);
          /* The request is not needed past here: drop our reference. */
          g_clear_pointer (&self->pending_request, sp_sip_message_unref);

          /* The call goes on with what was agreed before. */
          self->pending = PENDING_NONE;
          self->offer = SP_SESSION_OFFER_NONE;
          return reply (self, st, status, NULL, warning);
        }
      case PENDING_ACK:
        sp_invite_session_end (self); /* ACK without an answer, then BYE */
        return TRUE;
      case PENDING_ACCEPT:
      case PENDING_NONE:
      default:
        if (self->state == SP_INVITE_SESSION_INCOMING && self->offer == SP_SESSION_OFFER_REMOTE)
          return sp_invite_session_respond (self, status, NULL, warning);
        return FALSE;
    }
}

/* ---- ending ---------------------------------------------------------------- */

void
sp_invite_session_end (SpInviteSession *self)
{
  /* A 2xx still owed its ACK gets it before the BYE; a re-INVITE of
   * theirs still unanswered gets 487. */
  drop_pending (self, 487);
  switch (self->state)
    {
      case SP_INVITE_SESSION_CALLING:
        sp_invite_session_cancel (self);
        return;
      case SP_INVITE_SESSION_INCOMING:
        sp_invite_session_respond (self, 603, "Decline", NULL);
        return;
      case SP_INVITE_SESSION_ANSWERED:
      case SP_INVITE_SESSION_CONFIRMED:
        sp_invite_session_send_bye (self);
        break;
      case SP_INVITE_SESSION_IDLE:
      case SP_INVITE_SESSION_TERMINATED:
      default:
        break;
    }
  self->state = SP_INVITE_SESSION_TERMINATED;
  sp_session_timer_stop (self);
  sp_sip_clock_cancel (self->clock, self->glare_timer);
  self->glare_timer = 0;
  if (self->dialog != NULL)
    sp_sip_stack_remove_dialog (self->stack, self->dialog);
}

SpSipMessage *
sp_invite_session_new_request (SpInviteSession *self, const char *method)
{
  SpSipMessage *request;

  if (self->dialog == NULL)
    return NULL;
  request = sp_sip_dialog_new_request (self->dialog, method);
  if (g_ascii_strcasecmp (method, "REFER") == 0 || g_ascii_strcasecmp (method, "INVITE") == 0)
    set_contact (self, request);
  return request;
}

gboolean
sp_invite_session_send_request (SpInviteSession *self, SpSipMessage *request, GError **error)
{
  if (self->dialog == NULL)
    {
      g_set_error_literal (error, SP_SESSION_ERROR, SP_SESSION_ERROR_NO_DIALOG, "no dialog");
      return FALSE;
    }
  return sp_sip_stack_send_dialog_request (self->stack, self->dialog, request, NULL, NULL, NULL,
                                           error) != NULL;
}
