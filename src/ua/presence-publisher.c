#include "ua/presence-publisher.h"

#include <string.h>

#define PUBLISH_EXPIRES 3600

typedef struct
{
  SpPresencePublisher *pub; /* NULL once stale or the publisher is gone */
} Ctx;

struct _SpPresencePublisher
{
  SpSipStack *stack;
  SpSipClock *clock;
  SpCredentials *credentials;
  char *target;
  char *from;
  gboolean dnd;       /* what we want the server to know */
  gboolean published; /* a publication is up (etag valid) */
  char *etag;
  guint32 cseq;
  char *call_id;
  SpAuthRetry auth;
  Ctx *ctx;
  guint timer;
};

static void send_publish (SpPresencePublisher *self, gboolean refresh);

char *
sp_presence_publisher_pidf (const char *entity, gboolean dnd)
{
  g_autofree char *e = g_markup_escape_text (entity, -1);

  return g_strdup_printf (
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" "
      "xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\" "
      "xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\" entity=\"%s\">\n"
      "<tuple id=\"t1\"><status><basic>open</basic></status></tuple>\n"
      "<dm:person id=\"p1\">%s</dm:person>\n"
      "</presence>\n",
      e,
      dnd ? "<rpid:activities><rpid:busy/></rpid:activities><dm:note>Do not disturb</dm:note>"
          : "");
}

SpPresencePublisher *
sp_presence_publisher_new (SpSipStack *stack, SpCredentials *credentials, const char *target,
                           const char *from)
{
  SpPresencePublisher *self = g_new0 (SpPresencePublisher, 1);

  self->stack = g_object_ref (stack);
  self->clock = sp_sip_transaction_layer_get_clock (sp_sip_stack_get_transactions (stack));
  self->credentials = credentials ? sp_credentials_ref (credentials) : NULL;
  self->target = g_strdup (target);
  self->from = g_strdup (from);
  return self;
}

static void
drop_ctx (SpPresencePublisher *self)
{
  if (self->ctx != NULL)
    self->ctx->pub = NULL;
  self->ctx = NULL;
}

void
sp_presence_publisher_free (SpPresencePublisher *self)
{
  if (self == NULL)
    return;
  drop_ctx (self);
  sp_sip_clock_cancel (self->clock, self->timer);
  sp_auth_retry_clear (&self->auth);
  g_clear_pointer (&self->credentials, sp_credentials_unref);
  g_object_unref (self->stack);
  g_free (self->target);
  g_free (self->from);
  g_free (self->etag);
  g_free (self->call_id);
  g_free (self);
}

static void
ctx_free (gpointer data)
{
  Ctx *ctx = data;

  if (ctx->pub != NULL && ctx->pub->ctx == ctx)
    ctx->pub->ctx = NULL;
  g_free (ctx);
}

static void
refresh_due (gpointer data)
{
  SpPresencePublisher *self = data;

  self->timer = 0;
  if (self->dnd && self->published)
    send_publish (self, TRUE);
}

static void
on_response (SpSipStack *stack, SpSipClientTransaction *ct, SpSipMessage *response,
             SpSipDialog *dialog, gpointer user_data)
{
  Ctx *ctx = user_data;
  SpPresencePublisher *self = ctx->pub;
  guint status = sp_sip_message_get_status (response);
  SpSipMessage *sent = sp_sip_client_transaction_get_request (ct);
  gint64 expires;

  if (self == NULL || status < 200)
    return;
  if (status == 401 || status == 407)
    {
      g_autoptr (SpSipMessage) retry = sp_sip_message_copy (sent);
      g_autoptr (GError) error = NULL;

      sp_credentials_prepare_resend (retry, ++self->cseq);
      if (self->credentials != NULL &&
          sp_credentials_answer (self->credentials, &self->auth, retry, response,
                                 sp_sip_client_transaction_get_dest (ct), NULL, &error))
        {
          Ctx *next = g_new0 (Ctx, 1);
          drop_ctx (self);
          next->pub = self;
          self->ctx = next;
          if (sp_sip_stack_send_request_full (self->stack, retry, NULL, on_response, next, ctx_free,
                                              NULL) == NULL)
            self->ctx = NULL;
          return;
        }
      g_message ("PUBLISH of %s: %s", self->target, error ? error->message : "no credentials");
      return;
    }
  if (status == 412 && self->dnd)
    {
      /* The server lost our publication: a new one. */
      self->published = FALSE;
      g_clear_pointer (&self->etag, g_free);
      send_publish (self, FALSE);
      return;
    }
  if (status >= 300)
    {
      g_debug ("PUBLISH of %s: %u", self->target, status);
      return;
    }
  expires = sp_sip_message_get_expires (response);
  if (expires == 0 || !self->dnd)
    {
      self->published = FALSE;
      g_clear_pointer (&self->etag, g_free);
      return;
    }
  g_free (self->etag);
  self->etag = g_strndup (sp_sip_message_get_header (response, "SIP-ETag"), 128);
  self->published = self->etag != NULL;
  if (expires < 0)
    expires = PUBLISH_EXPIRES;
  sp_sip_clock_cancel (self->clock, self->timer);
  self->timer = sp_sip_clock_add_timeout (
      self->clock, (guint) MAX (expires > 64 ? expires - 32 : expires / 2, 1) * 1000, refresh_due,
      self);
}

/* @refresh: keep the publication up (SIP-If-Match, no body); else the
 * state now (a body, or Expires: 0 to remove it when off). */
static void
send_publish (SpPresencePublisher *self, gboolean refresh)
{
  g_autoptr (SpSipUri) uri = sp_sip_uri_parse (self->target, -1, NULL);
  g_autofree char *to = g_strdup_printf ("<%s>", self->target);
  g_autoptr (SpSipMessage) msg = NULL;
  Ctx *ctx;

  if (uri == NULL)
    return;
  msg = sp_sip_stack_new_request (self->stack, "PUBLISH", uri, self->from, to, ++self->cseq);
  if (msg == NULL)
    return;
  if (self->call_id == NULL)
    self->call_id = g_strdup (sp_sip_message_get_call_id (msg));
  else
    sp_sip_message_set_header (msg, "Call-ID", self->call_id, NULL);
  sp_sip_message_set_header (msg, "Event", "presence", NULL);
  if (self->etag != NULL && self->published)
    sp_sip_message_set_header (msg, "SIP-If-Match", self->etag, NULL);
  if (!self->dnd)
    sp_sip_message_set_header (msg, "Expires", "0", NULL);
  else
    {
      g_autofree char *text = g_strdup_printf ("%u", PUBLISH_EXPIRES);
      sp_sip_message_set_header (msg, "Expires", text, NULL);
      if (!refresh)
        {
          g_autofree char *body = sp_presence_publisher_pidf (self->target, TRUE);
          sp_sip_message_set_body (msg, "application/pidf+xml", (const guint8 *) body,
                                   strlen (body));
        }
    }
  sp_auth_retry_clear (&self->auth);
  drop_ctx (self);
  ctx = g_new0 (Ctx, 1);
  ctx->pub = self;
  self->ctx = ctx;
  if (sp_sip_stack_send_request_full (self->stack, msg, NULL, on_response, ctx, ctx_free, NULL) ==
      NULL)
    self->ctx = NULL;
}

void
sp_presence_publisher_set_dnd (SpPresencePublisher *self, gboolean dnd, gboolean again)
{
  gboolean changed = dnd != self->dnd;

  self->dnd = dnd;
  if (!changed && !again)
    return;
  if (!dnd && !self->published)
    return; /* nothing up to remove */
  if (dnd && again)
    {
      /* After a (re-)registration: a fresh publication. */
      self->published = FALSE;
      g_clear_pointer (&self->etag, g_free);
    }
  sp_sip_clock_cancel (self->clock, self->timer);
  self->timer = 0;
  send_publish (self, FALSE);
}
