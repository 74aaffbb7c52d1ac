#include "session/subscriber.h"

#include <string.h>

#define MAX_BACKOFF_S 64

typedef struct
{
  SpSubscriber *sub; /* NULL once a newer request or the end made it stale */
  gboolean in_dialog;
} RequestCtx;

struct _SpSubscriber
{
  SpSipStack *stack;
  SpSipClock *clock;
  SpCredentials *credentials;
  SpSipPeer dest;
  gboolean has_dest;
  char *target;
  char *from;
  char *event;
  char *accept;
  guint expires;      /* asked for */
  GPtrArray *headers; /* name, value, name, value... */
  SpSubscriberFuncs funcs;
  gpointer user_data;

  SpSubscriberState state;
  SpSipMessage *initial; /* the last SUBSCRIBE outside the dialog */
  char *call_id;
  char *local_tag;
  guint32 cseq;
  SpSipDialog *dialog;
  SpAuthRetry auth;
  gboolean min_expires_retried;
  RequestCtx *ctx;
  guint timer;
  guint failures;
  gboolean stopped;
};

static void send_initial (SpSubscriber *self);
static void send_refresh (SpSubscriber *self);

guint
sp_subscriber_refresh_delay (guint expires)
{
  return expires >= 64 ? expires - 32 : MAX (expires / 2, 1);
}

SpSubscriber *
sp_subscriber_new (SpSipStack *stack, SpCredentials *credentials, const SpSipPeer *dest,
                   const char *target, const char *from, const char *event, const char *accept,
                   guint expires, const SpSubscriberFuncs *funcs, gpointer user_data)
{
  SpSubscriber *self = g_new0 (SpSubscriber, 1);

  self->stack = g_object_ref (stack);
  self->clock = sp_sip_transaction_layer_get_clock (sp_sip_stack_get_transactions (stack));
  self->credentials = credentials ? sp_credentials_ref (credentials) : NULL;
  if (dest != NULL)
    {
      self->dest = *dest;
      self->has_dest = TRUE;
    }
  self->target = g_strdup (target);
  self->from = g_strdup (from);
  self->event = g_strdup (event);
  self->accept = g_strdup (accept);
  self->expires = expires;
  self->headers = g_ptr_array_new_with_free_func (g_free);
  self->funcs = *funcs;
  self->user_data = user_data;
  self->state = SP_SUBSCRIBER_PENDING;
  return self;
}

static void
drop_ctx (SpSubscriber *self)
{
  if (self->ctx != NULL)
    self->ctx->sub = NULL;
  self->ctx = NULL;
}

static void
drop_dialog (SpSubscriber *self)
{
  if (self->dialog == NULL)
    return;
  if (sp_sip_dialog_get_state (self->dialog) != SP_SIP_DIALOG_TERMINATED)
    sp_sip_stack_remove_dialog (self->stack, self->dialog);
  g_clear_pointer (&self->dialog, sp_sip_dialog_unref);
}

void
sp_subscriber_free (SpSubscriber *self)
{
  if (self == NULL)
    return;
  drop_ctx (self);
  sp_sip_clock_cancel (self->clock, self->timer);
  drop_dialog (self);
  sp_auth_retry_clear (&self->auth);
  g_clear_pointer (&self->initial, sp_sip_message_unref);
  g_clear_pointer (&self->credentials, sp_credentials_unref);
  g_ptr_array_unref (self->headers);
  g_free (self->target);
  g_free (self->from);
  g_free (self->event);
  g_free (self->accept);
  g_free (self->call_id);
  g_free (self->local_tag);
  g_object_unref (self->stack);
  g_free (self);
}

SpSubscriberState
sp_subscriber_get_state (SpSubscriber *self)
{
  return self->state;
}

const char *
sp_subscriber_get_target (SpSubscriber *self)
{
  return self->target;
}

void
sp_subscriber_add_header (SpSubscriber *self, const char *name, const char *value)
{
  g_ptr_array_add (self->headers, g_strdup (name));
  g_ptr_array_add (self->headers, g_strdup (value));
}

static void
set_state (SpSubscriber *self, SpSubscriberState state, guint status, const char *reason)
{
  gboolean changed = self->state != state;

  self->state = state;
  if (changed && self->funcs.state_changed != NULL && !self->stopped)
    self->funcs.state_changed (self, state, status, reason, self->user_data);
}

static void
timer_fired (gpointer data)
{
  SpSubscriber *self = data;

  self->timer = 0;
  if (self->dialog != NULL && self->state == SP_SUBSCRIBER_ACTIVE)
    send_refresh (self);
  else
    send_initial (self);
}

static void
schedule (SpSubscriber *self, guint ms)
{
  sp_sip_clock_cancel (self->clock, self->timer);
  self->timer = sp_sip_clock_add_timeout (self->clock, ms, timer_fired, self);
}

/* Broken: forget the dialog and subscribe again after a backoff. */
static void
retry_later (SpSubscriber *self, guint status, const char *reason, guint at_least_s)
{
  guint delay;

  drop_ctx (self);
  drop_dialog (self);
  self->failures++;
  delay = MIN (1u << MIN (self->failures - 1, 6u), MAX_BACKOFF_S);
  delay = MAX (delay, at_least_s);
  set_state (self, SP_SUBSCRIBER_RETRYING, status, reason);
  schedule (self, delay * 1000);
}

static void
end_for_good (SpSubscriber *self, guint status, const char *reason)
{
  drop_ctx (self);
  drop_dialog (self);
  sp_sip_clock_cancel (self->clock, self->timer);
  self->timer = 0;
  set_state (self, SP_SUBSCRIBER_TERMINATED, status, reason);
}

static void
add_common_headers (SpSubscriber *self, SpSipMessage *msg, guint expires)
{
  g_autofree char *text = g_strdup_printf ("%u", expires);

  sp_sip_message_set_header (msg, "Event", self->event, NULL);
  sp_sip_message_set_header (msg, "Expires", text, NULL);
  if (self->accept != NULL)
    sp_sip_message_set_header (msg, "Accept", self->accept, NULL);
  for (guint i = 0; i + 1 < self->headers->len; i += 2)
    sp_sip_message_set_header (msg, g_ptr_array_index (self->headers, i),
                               g_ptr_array_index (self->headers, i + 1), NULL);
}

static SpSipMessage *
build_initial (SpSubscriber *self, guint expires)
{
  g_autoptr (SpSipUri) uri = sp_sip_uri_parse (self->target, -1, NULL);
  g_autofree char *to = g_strdup_printf ("<%s>", self->target);
  SpSipMessage *msg;

  if (uri == NULL)
    return NULL;
  msg = sp_sip_stack_new_request (self->stack, "SUBSCRIBE", uri, self->from, to, ++self->cseq);
  if (msg == NULL)
    return NULL;
  add_common_headers (self, msg, expires);
  return msg;
}

static SpSipMessage *
build_refresh (SpSubscriber *self, guint expires)
{
  SpSipMessage *msg = sp_sip_dialog_new_request (self->dialog, "SUBSCRIBE");
  const char *contact = sp_sip_dialog_get_local_contact (self->dialog);

  if (msg == NULL)
    return NULL;
  if (contact != NULL)
    sp_sip_message_set_header (msg, "Contact", contact, NULL);
  add_common_headers (self, msg, expires);
  return msg;
}

static void on_response (SpSipStack *stack, SpSipClientTransaction *ct, SpSipMessage *response,
                         SpSipDialog *dialog, gpointer user_data);

static void
ctx_free (gpointer data)
{
  RequestCtx *ctx = data;

  if (ctx->sub != NULL && ctx->sub->ctx == ctx)
    ctx->sub->ctx = NULL;
  g_free (ctx);
}

static void
send (SpSubscriber *self, SpSipMessage *request, gboolean in_dialog)
{
  g_autoptr (GError) error = NULL;
  RequestCtx *ctx = g_new0 (RequestCtx, 1);
  SpSipClientTransaction *ct;

  drop_ctx (self);
  ctx->sub = self;
  ctx->in_dialog = in_dialog;
  self->ctx = ctx;
  if (in_dialog)
    ct = sp_sip_stack_send_dialog_request (self->stack, self->dialog, request, on_response, ctx,
                                           ctx_free, &error);
  else
    {
      g_clear_pointer (&self->initial, sp_sip_message_unref);
      self->initial = sp_sip_message_ref (request);
      g_free (self->call_id);
      self->call_id = g_strdup (sp_sip_message_get_call_id (request));
      g_free (self->local_tag);
      self->local_tag = g_strdup (sp_sip_name_addr_get_tag (sp_sip_message_get_from (request)));
      ct =
          sp_sip_stack_send_request_full (self->stack, request, self->has_dest ? &self->dest : NULL,
                                          on_response, ctx, ctx_free, &error);
    }
  if (ct == NULL)
    {
      g_debug ("SUBSCRIBE to %s not sent: %s", self->target, error->message);
      retry_later (self, 0, error->message, 0);
    }
}

static void
send_initial (SpSubscriber *self)
{
  g_autoptr (SpSipMessage) request = NULL;

  drop_dialog (self);
  sp_auth_retry_clear (&self->auth);
  self->min_expires_retried = FALSE;
  request = build_initial (self, self->expires);
  if (request == NULL)
    {
      end_for_good (self, 0, "bad target");
      return;
    }
  if (self->state == SP_SUBSCRIBER_TERMINATED)
    self->state = SP_SUBSCRIBER_PENDING;
  send (self, request, FALSE);
}

static void
send_refresh (SpSubscriber *self)
{
  g_autoptr (SpSipMessage) request = build_refresh (self, self->expires);

  sp_auth_retry_clear (&self->auth);
  if (request == NULL)
    {
      send_initial (self);
      return;
    }
  send (self, request, TRUE);
}

void
sp_subscriber_start (SpSubscriber *self)
{
  self->stopped = FALSE;
  self->failures = 0;
  send_initial (self);
}

void
sp_subscriber_restart (SpSubscriber *self)
{
  if (self->stopped)
    return;
  sp_sip_clock_cancel (self->clock, self->timer);
  self->timer = 0;
  self->failures = 0;
  send_initial (self);
}

void
sp_subscriber_refresh (SpSubscriber *self)
{
  if (self->stopped)
    return;
  if (self->state == SP_SUBSCRIBER_ACTIVE && self->dialog != NULL)
    {
      sp_sip_clock_cancel (self->clock, self->timer);
      self->timer = 0;
      send_refresh (self);
    }
  else if (self->state == SP_SUBSCRIBER_RETRYING)
    sp_subscriber_restart (self);
}

void
sp_subscriber_stop (SpSubscriber *self)
{
  sp_sip_clock_cancel (self->clock, self->timer);
  self->timer = 0;
  if (self->dialog != NULL && !self->stopped)
    {
      g_autoptr (SpSipMessage) request = build_refresh (self, 0);
      if (request != NULL)
        sp_sip_stack_send_dialog_request (self->stack, self->dialog, request, NULL, NULL, NULL,
                                          NULL);
    }
  self->stopped = TRUE;
  drop_ctx (self);
  drop_dialog (self);
  self->state = SP_SUBSCRIBER_TERMINATED;
}

/* The dialog of a 2xx, or the one an early NOTIFY made. */
static gboolean
take_dialog (SpSubscriber *self, SpSipMessage *request, SpSipMessage *response)
{
  g_autofree char *id = sp_sip_dialog_id_for_message (response);
  SpSipDialog *known = sp_sip_stack_lookup_dialog (self->stack, id);
  g_autoptr (GError) error = NULL;
  SpSipDialog *dialog;

  /* Already made (by a NOTIFY before this 2xx), or another fork's 2xx:
   * we keep the first dialog. */
  if (self->dialog != NULL)
    return TRUE;
  if (known != NULL)
    {
      self->dialog = sp_sip_dialog_ref (known);
      return TRUE;
    }
  dialog = sp_sip_dialog_new_uac (request, response, &error);
  if (dialog == NULL)
    {
      g_debug ("SUBSCRIBE 2xx without a dialog: %s", error->message);
      return FALSE;
    }
  {
    const GPtrArray *contacts = sp_sip_message_get_contacts (request);
    if (contacts->len > 0)
      {
        g_autofree char *contact = sp_sip_name_addr_to_string (g_ptr_array_index (contacts, 0));
        sp_sip_dialog_set_local_contact (dialog, contact);
      }
  }
  sp_sip_dialog_set_state (dialog, SP_SIP_DIALOG_CONFIRMED);
  sp_sip_stack_add_dialog (self->stack, dialog);
  self->dialog = dialog;
  return TRUE;
}

static guint
granted (SpSipMessage *response, guint asked)
{
  gint64 e = sp_sip_message_get_expires (response);

  return e >= 0 ? (guint) e : asked;
}

static gboolean
answer_challenge (SpSubscriber *self, SpSipClientTransaction *ct, SpSipMessage *response,
                  gboolean in_dialog)
{
  g_autoptr (SpSipMessage) retry = NULL;
  g_autoptr (GError) error = NULL;
  SpSipMessage *sent = sp_sip_client_transaction_get_request (ct);

  if (in_dialog)
    retry = build_refresh (self, granted (sent, self->expires));
  else
    {
      retry = sp_sip_message_copy (sent);
      sp_credentials_prepare_resend (retry, ++self->cseq);
    }
  if (retry == NULL)
    return FALSE;
  if (self->credentials == NULL ||
      !sp_credentials_answer (self->credentials, &self->auth, retry, response,
                              sp_sip_client_transaction_get_dest (ct), NULL, &error))
    {
      if (error != NULL)
        g_message ("SUBSCRIBE to %s: %s", self->target, error->message);
      return FALSE;
    }
  send (self, retry, in_dialog);
  return TRUE;
}

static void
on_response (SpSipStack *stack, SpSipClientTransaction *ct, SpSipMessage *response,
             SpSipDialog *dialog, gpointer user_data)
{
  RequestCtx *ctx = user_data;
  SpSubscriber *self = ctx->sub;
  SpSipMessage *request = sp_sip_client_transaction_get_request (ct);
  guint status = sp_sip_message_get_status (response);
  guint asked = granted (request, self ? self->expires : 0);

  if (self == NULL || status < 200)
    return;
  if (status < 300)
    {
      guint expires = granted (response, asked);

      if (!ctx->in_dialog && !take_dialog (self, request, response))
        {
          retry_later (self, status, "no dialog", 0);
          return;
        }
      self->failures = 0;
      if (expires == 0)
        return; /* the NOTIFY ends it */
      schedule (self, sp_subscriber_refresh_delay (expires) * 1000);
      return;
    }
  if ((status == 401 || status == 407) && answer_challenge (self, ct, response, ctx->in_dialog))
    return;
  if (status == 423 && !self->min_expires_retried)
    {
      gint64 min = 0;
      const char *text = sp_sip_message_get_header (response, "Min-Expires");
      if (text != NULL && g_ascii_string_to_signed (text, 10, 1, 86400, &min, NULL) &&
          (guint) min > asked)
        {
          g_autoptr (SpSipMessage) retry = NULL;

          self->expires = (guint) min;
          self->min_expires_retried = TRUE;
          retry = ctx->in_dialog ? build_refresh (self, self->expires)
                                 : build_initial (self, self->expires);
          if (retry != NULL)
            {
              send (self, retry, ctx->in_dialog);
              return;
            }
        }
    }
  switch (status)
    {
      case 403:
      case 404:
      case 406:
      case 489:
      case 603:
        end_for_good (self, status, sp_sip_message_get_reason (response));
        return;
      default:
        /* 481 or no answer to a refresh (the notifier restarted), a
         * timeout, a transport failure, 5xx: subscribe again later. */
        retry_later (self, status, sp_sip_message_get_reason (response), 0);
        return;
    }
}

/* ---- NOTIFY ---- */

static gboolean
is_ours (SpSubscriber *self, const SpSipMessage *request)
{
  const SpSipNameAddr *to = sp_sip_message_get_to (request);

  return self->call_id != NULL && !self->stopped &&
         g_strcmp0 (sp_sip_message_get_call_id (request), self->call_id) == 0 && to != NULL &&
         g_strcmp0 (sp_sip_name_addr_get_tag (to), self->local_tag) == 0;
}

gboolean
sp_subscriber_take_early_notify (SpSubscriber *self, SpSipMessage *request)
{
  const SpSipNameAddr *from = sp_sip_message_get_from (request);
  const char *remote_tag = from ? sp_sip_name_addr_get_tag (from) : NULL;
  g_autoptr (SpSipMessage) fake = NULL;
  const GPtrArray *contacts;
  guint n;

  if (sp_sip_message_get_method_id (request) != SP_SIP_METHOD_NOTIFY || !is_ours (self, request) ||
      self->dialog != NULL || self->initial == NULL || remote_tag == NULL)
    return FALSE;
  /* The dialog as a 2xx would have made it: the NOTIFY's tag, Contact and
   * Record-Route (4.1.2.4; a UAC reverses a response's Record-Route, so
   * they go in reversed). */
  fake = sp_sip_message_new_response_to (self->initial, 200, NULL, remote_tag);
  contacts = sp_sip_message_get_contacts (request);
  if (contacts->len == 0)
    return FALSE;
  {
    g_autofree char *contact = sp_sip_name_addr_to_string (g_ptr_array_index (contacts, 0));
    sp_sip_message_add_header (fake, "Contact", contact, NULL);
  }
  n = sp_sip_message_get_n_headers (request);
  for (guint i = n; i > 0; i--)
    {
      const char *name, *value;
      sp_sip_message_get_nth_header (request, i - 1, &name, &value);
      if (g_ascii_strcasecmp (name, "Record-Route") == 0)
        sp_sip_message_add_header (fake, "Record-Route", value, NULL);
    }
  if (!take_dialog (self, self->initial, fake))
    return FALSE;
  return TRUE;
}

/* Subscription-State: "active;expires=N", "pending", "terminated;reason=R;retry-after=N" */
static void
parse_state (const char *value, char **state, char **reason, gint64 *expires, gint64 *retry_after)
{
  g_auto (GStrv) parts = g_strsplit (value ? value : "", ";", 16);

  *state = g_ascii_strdown (g_strstrip (parts[0]), -1);
  *reason = NULL;
  *expires = -1;
  *retry_after = -1;
  for (guint i = 1; parts[i] != NULL; i++)
    {
      char *p = g_strstrip (parts[i]);
      if (g_ascii_strncasecmp (p, "reason=", 7) == 0 && *reason == NULL)
        *reason = g_ascii_strdown (p + 7, 64);
      else if (g_ascii_strncasecmp (p, "expires=", 8) == 0)
        g_ascii_string_to_signed (p + 8, 10, 0, G_MAXUINT32, expires, NULL);
      else if (g_ascii_strncasecmp (p, "retry-after=", 12) == 0)
        g_ascii_string_to_signed (p + 12, 10, 0, 86400, retry_after, NULL);
    }
}

static gboolean
event_matches (SpSubscriber *self, const char *event)
{
  gsize n = strcspn (self->event, ";");
  gsize m = event ? strcspn (event, "; \t") : 0;

  return event != NULL && n == m && g_ascii_strncasecmp (self->event, event, n) == 0;
}

static void
terminated (SpSubscriber *self, const char *reason, gint64 retry_after)
{
  /* 4.1.3: deactivated and timeout: again at once; probation and giveup
   * (and none): after retry-after; rejected, noresource, invariant: not
   * at all. */
  if (reason == NULL || g_str_equal (reason, "deactivated") || g_str_equal (reason, "timeout") ||
      g_str_equal (reason, "probation") || g_str_equal (reason, "giveup"))
    {
      guint wait = retry_after > 0 ? (guint) retry_after : 0;
      drop_ctx (self);
      drop_dialog (self);
      set_state (self, SP_SUBSCRIBER_RETRYING, 0, reason);
      self->failures++;
      schedule (self, wait > 0 ? wait * 1000 : (self->failures > 3 ? 5000 : 200));
      return;
    }
  end_for_good (self, 0, reason);
}

gboolean
sp_subscriber_handle_request (SpSubscriber *self, SpSipServerTransaction *st, SpSipMessage *request,
                              SpSipDialog *dialog)
{
  g_autofree char *state = NULL;
  g_autofree char *reason = NULL;
  gint64 expires, retry_after;
  const guint8 *body;
  gsize len = 0;

  if (sp_sip_message_get_method_id (request) != SP_SIP_METHOD_NOTIFY || dialog == NULL ||
      !is_ours (self, request))
    return FALSE;
  if (self->dialog == NULL || dialog != self->dialog)
    {
      /* A NOTIFY from another fork: not ours to keep (RFC 6665 4.5.2
       * allows refusing it). */
      sp_sip_stack_reply (self->stack, st, 481, NULL);
      return TRUE;
    }
  if (!event_matches (self, sp_sip_message_get_header (request, "Event")))
    {
      sp_sip_stack_reply (self->stack, st, 489, NULL);
      return TRUE;
    }
  sp_sip_stack_reply (self->stack, st, 200, NULL);
  parse_state (sp_sip_message_get_header (request, "Subscription-State"), &state, &reason, &expires,
               &retry_after);
  body = sp_sip_message_get_body (request, &len);
  if (len > 0 && self->funcs.notify != NULL)
    {
      g_autofree char *text = g_strndup ((const char *) body, len);
      const char *type = sp_sip_message_get_content_type (request);
      self->funcs.notify (self, type ? type : "", text, len, self->user_data);
    }
  if (g_str_equal (state, "terminated"))
    {
      terminated (self, reason, retry_after);
      return TRUE;
    }
  self->failures = 0;
  set_state (self, SP_SUBSCRIBER_ACTIVE, 0, NULL);
  /* A shorter expiry than the 2xx's: refresh before it. */
  if (expires > 0)
    schedule (self, sp_subscriber_refresh_delay ((guint) expires) * 1000);
  return TRUE;
}
