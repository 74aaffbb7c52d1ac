#include "sip/stack.h"

#include <string.h>

#include "sip/sip-private.h"

#define ALLOW "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY, MESSAGE"

/* A 2xx to INVITE that the UAS core retransmits until ACK (13.3.1.4). */
typedef struct
{
  SpSipStack *stack;
  char *dialog_id;
  SpSipMessage *response;
  SpSipPeer dest;
  guint32 cseq;
  guint interval;
  guint timer;
  guint deadline;
} PendingAck;

/* The ACK the UAC core sent for a 2xx, resent for every retransmission. */
typedef struct
{
  SpSipMessage *ack;
  SpSipPeer dest;
  guint32 cseq;
} SentAck;

typedef struct
{
  SpSipStack *stack;
  SpSipStackResponseFunc func;
  gpointer user_data;
  char *chosen_dialog; /* the first 2xx dialog of an INVITE */
  GDestroyNotify user_data_free;
} RequestCtx;

struct _SpSipStack
{
  GObject parent_instance;
  SpSipClock *clock;
  SpSipTransport *transport;
  SpSipTransactionLayer *layer;
  GHashTable *dialogs;      /* id -> SpSipDialog */
  GHashTable *pending_acks; /* dialog id -> PendingAck */
  GHashTable *sent_acks;    /* dialog id -> SentAck */
  char *user_agent;
  GResolver *resolver;   /* NULL = the default one, taken when needed */
  GCancellable *lookups; /* cancelled when the stack goes */
  SpSipStackStats stats;
};

/* A request waiting for its next hop's name to resolve. */
typedef struct
{
  SpSipStack *stack; /* not a reference: unused once lookups is cancelled */
  SpSipClientTransaction *ct;
  SpSipPeer dest; /* kind and port; the host comes from the lookup */
  char *name;
} Lookup;

G_DEFINE_FINAL_TYPE (SpSipStack, sp_sip_stack, G_TYPE_OBJECT)

enum
{
  SIGNAL_REQUEST,
  SIGNAL_ACK,
  SIGNAL_ACK_TIMEOUT,
  SIGNAL_DIALOG_TERMINATED,
  SIGNAL_DIALOG_MISSING,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static void
pending_ack_free (gpointer data)
{
  PendingAck *p = data;

  if (p->timer)
    sp_sip_clock_cancel (p->stack->clock, p->timer);
  if (p->deadline)
    sp_sip_clock_cancel (p->stack->clock, p->deadline);
  sp_sip_message_unref (p->response);
  g_free (p->dialog_id);
  g_free (p);
}

static void
sent_ack_free (gpointer data)
{
  SentAck *s = data;
  sp_sip_message_unref (s->ack);
  g_free (s);
}

static void
request_ctx_free (gpointer data)
{
  RequestCtx *ctx = data;
  if (ctx->user_data_free != NULL)
    ctx->user_data_free (ctx->user_data);
  g_free (ctx->chosen_dialog);
  g_free (ctx);
}

/* ---- glue to the layers below ---- */

static gboolean
stack_send (SpSipMessage *msg, const SpSipPeer *dest, SpSipTransportKind *used, gpointer user_data,
            GError **error)
{
  SpSipStack *self = user_data;
  return sp_sip_transport_send (self->transport, msg, dest, used, error);
}

static void
transport_received (SpSipTransport *transport, SpSipMessage *msg, const SpSipPeer *source,
                    gpointer user_data)
{
  SpSipStack *self = user_data;

  if (sp_sip_message_is_request (msg))
    self->stats.requests_received++;
  else
    self->stats.responses_received++;
  sp_sip_transaction_layer_receive (self->layer, msg, source);
}

static void
transport_failed (SpSipTransport *transport, SpSipMessage *msg, const GError *error,
                  gpointer user_data)
{
  SpSipStack *self = user_data;
  sp_sip_transaction_layer_transport_error (self->layer, msg, error);
}

/* ---- dialogs ---- */

static void add_dialog (SpSipStack *self, SpSipDialog *dialog);

SpSipDialog *
sp_sip_stack_lookup_dialog (SpSipStack *self, const char *id)
{
  return id ? g_hash_table_lookup (self->dialogs, id) : NULL;
}

guint
sp_sip_stack_get_n_dialogs (SpSipStack *self)
{
  return g_hash_table_size (self->dialogs);
}

void
sp_sip_stack_remove_dialog (SpSipStack *self, SpSipDialog *dialog)
{
  g_autofree char *id = sp_sip_dialog_dup_id (dialog);

  sp_sip_dialog_set_state (dialog, SP_SIP_DIALOG_TERMINATED);
  g_hash_table_remove (self->pending_acks, id);
  g_hash_table_remove (self->sent_acks, id);
  g_hash_table_remove (self->dialogs, id);
}

void
sp_sip_stack_add_dialog (SpSipStack *self, SpSipDialog *dialog)
{
  add_dialog (self, dialog);
}

static void
add_dialog (SpSipStack *self, SpSipDialog *dialog)
{
  g_hash_table_replace (self->dialogs, sp_sip_dialog_dup_id (dialog), sp_sip_dialog_ref (dialog));
}

gboolean
sp_sip_host_is_wildcard (const char *host)
{
  g_autoptr (GInetAddress) address = host ? g_inet_address_new_from_string (host) : NULL;

  return address != NULL && g_inet_address_get_is_any (address);
}

/* The address @peer reached us on, when known and of its family (an
 * IPv4 peer of a dual-stack "::" gets an IPv4 one). */
static gboolean
local_fits (const SpSipPeer *peer)
{
  return peer->local[0] != '\0' &&
         (strchr (peer->local, ':') != NULL) == (strchr (peer->host, ':') != NULL);
}

char *
sp_sip_stack_dup_contact (SpSipStack *self, const char *user, const SpSipPeer *towards)
{
  SpSipPeer bound;
  g_autofree char *hp = NULL;
  g_autofree char *routed = NULL;
  gboolean found = FALSE;

  if (towards && towards->binding > 0)
    found = sp_sip_transport_get_binding (self->transport, towards->binding - 1, &bound);
  for (guint i = 0; !found && towards && sp_sip_transport_get_binding (self->transport, i, &bound);
       i++)
    found = bound.kind == towards->kind &&
            (strchr (bound.host, ':') != NULL) == (strchr (towards->host, ':') != NULL);
  if (!found && !sp_sip_transport_get_binding (self->transport, 0, &bound))
    sp_sip_peer_init (&bound, SP_SIP_TRANSPORT_UDP, "127.0.0.1", 5060);
  /* 0.0.0.0 means nothing to the peer: name the address it reached us
   * on (its requests come back there, and a phone answers challenges
   * only from the server it dialled), else the one our route to it
   * leaves from. */
  if (towards != NULL && sp_sip_host_is_wildcard (bound.host))
    routed = local_fits (towards) ? g_strdup (towards->local)
                                  : sp_sip_route_cache_local_host_towards (
                                        sp_sip_transport_get_route_cache (self->transport),
                                        bound.host, towards->host);
  hp = sp_sip_host_port_to_string (routed ? routed : bound.host, bound.port);
  return g_strdup_printf ("<sip:%s%s%s%s>", user ? user : "", user ? "@" : "", hp,
                          bound.kind == SP_SIP_TRANSPORT_TLS   ? ";transport=tls"
                          : bound.kind == SP_SIP_TRANSPORT_TCP ? ";transport=tcp"
                                                               : "");
}

/* ---- UAS core ---- */

static void pending_ack_retransmit (gpointer data);

static void
pending_ack_deadline (gpointer data)
{
  PendingAck *p = data;
  SpSipStack *self = p->stack;
  g_autoptr (SpSipDialog) dialog = NULL;

  p->deadline = 0;
  dialog = sp_sip_stack_lookup_dialog (self, p->dialog_id);
  if (dialog)
    sp_sip_dialog_ref (dialog);
  g_hash_table_remove (self->pending_acks, p->dialog_id); /* frees p */
  self->stats.ack_timeouts++;
  if (dialog == NULL)
    return;
  g_signal_emit (self, signals[SIGNAL_ACK_TIMEOUT], 0, dialog);
  /* 13.3.1.4: the session is confirmed but must end. */
  if (sp_sip_dialog_get_state (dialog) != SP_SIP_DIALOG_TERMINATED)
    {
      sp_sip_stack_send_in_dialog (self, dialog, "BYE", NULL, NULL, NULL);
      sp_sip_stack_remove_dialog (self, dialog);
    }
}

static void
pending_ack_retransmit (gpointer data)
{
  PendingAck *p = data;
  SpSipStack *self = p->stack;
  const SpSipTimerSettings *t = sp_sip_transaction_layer_get_timers (self->layer);
  g_autoptr (GError) error = NULL;

  p->timer = 0;
  if (!sp_sip_transaction_layer_send_stateless (self->layer, p->response, &p->dest, &error))
    g_debug ("2xx retransmission failed: %s", error->message);
  self->stats.responses_2xx_retransmitted++;
  p->interval = MIN (p->interval * 2, t->t2);
  p->timer = sp_sip_clock_add_timeout (self->clock, p->interval, pending_ack_retransmit, p);
}

static void
start_2xx_retransmission (SpSipStack *self, SpSipServerTransaction *st, SpSipDialog *dialog,
                          SpSipMessage *response)
{
  const SpSipTimerSettings *t = sp_sip_transaction_layer_get_timers (self->layer);
  PendingAck *p = g_new0 (PendingAck, 1);

  p->stack = self;
  p->dialog_id = sp_sip_dialog_dup_id (dialog);
  p->response = sp_sip_message_ref (response);
  p->dest = *sp_sip_server_transaction_get_source (st);
  p->cseq = sp_sip_message_get_cseq (response, NULL);
  p->interval = t->t1;
  /* Over TCP the transport is reliable, but 13.3.1.4 still wants the
   * retransmissions: they also cover a proxy hop over UDP. */
  p->timer = sp_sip_clock_add_timeout (self->clock, p->interval, pending_ack_retransmit, p);
  p->deadline = sp_sip_clock_add_timeout (self->clock, 64 * t->t1, pending_ack_deadline, p);
  g_hash_table_replace (self->pending_acks, g_strdup (p->dialog_id), p);
}

/* RFC 3261 12.1.1: a response that establishes a dialog carries the
 * request's Record-Route values unchanged and in order, so the caller's
 * route set runs through the same proxies as ours. */
static void
copy_record_route (SpSipMessage *response, const SpSipMessage *request)
{
  guint n = sp_sip_message_get_n_headers (request);

  if (sp_sip_message_get_header (response, "Record-Route") != NULL)
    return;
  for (guint i = 0; i < n; i++)
    {
      const char *name, *value;

      sp_sip_message_get_nth_header (request, i, &name, &value);
      if (g_ascii_strcasecmp (name, "Record-Route") == 0)
        sp_sip_message_add_header (response, "Record-Route", value, NULL);
    }
}

/* The Contact we gave in a dialog: what its target refreshes carry, and
 * where (on a wildcard binding) its requests leave from. */
static void
remember_local_contact (SpSipDialog *dialog, const SpSipMessage *msg)
{
  const GPtrArray *contacts = sp_sip_message_get_contacts (msg);

  if (contacts != NULL && contacts->len > 0)
    {
      g_autofree char *contact = sp_sip_name_addr_to_string (g_ptr_array_index (contacts, 0));
      sp_sip_dialog_set_local_contact (dialog, contact);
    }
}

gboolean
sp_sip_stack_respond (SpSipStack *self, SpSipServerTransaction *st, SpSipMessage *response,
                      GError **error)
{
  SpSipMessage *request = sp_sip_server_transaction_get_request (st);
  SpSipMethod method = sp_sip_message_get_method_id (request);
  guint status = sp_sip_message_get_status (response);
  const SpSipNameAddr *to = sp_sip_message_get_to (response);
  const char *to_tag = to ? sp_sip_name_addr_get_tag (to) : NULL;
  g_autofree char *id = to_tag ? sp_sip_dialog_id_for_uas (request, to_tag) : NULL;
  SpSipDialog *dialog = sp_sip_stack_lookup_dialog (self, id);
  g_autoptr (SpSipDialog) hold = dialog ? sp_sip_dialog_ref (dialog) : NULL;
  gboolean ok;

  if (self->user_agent && sp_sip_message_get_header (response, "Server") == NULL)
    sp_sip_message_add_header (response, "Server", self->user_agent, NULL);
  if (method == SP_SIP_METHOD_INVITE && status > 100 && status < 300 && to_tag)
    {
      copy_record_route (response, request);
      if (sp_sip_message_get_contacts (response)->len == 0)
        {
          g_autofree char *contact =
              sp_sip_stack_dup_contact (self, NULL, sp_sip_server_transaction_get_source (st));
          sp_sip_message_add_header (response, "Contact", contact, NULL);
        }
      if (dialog == NULL)
        {
          g_autoptr (GError) derror = NULL;
          dialog = sp_sip_dialog_new_uas (request, response, &derror);
          if (dialog == NULL)
            g_debug ("no dialog: %s", derror->message);
          else
            {
              hold = dialog;
              remember_local_contact (dialog, response);
              sp_sip_dialog_set_flow (dialog, sp_sip_server_transaction_get_source (st));
              add_dialog (self, dialog);
            }
        }
      else if (status >= 200)
        sp_sip_dialog_set_state (dialog, SP_SIP_DIALOG_CONFIRMED);
    }
  /* RFC 6665 4.1.2: a 2xx to a SUBSCRIBE outside a dialog creates the
   * notifier's dialog (confirmed at once: no ACK follows). */
  if (method == SP_SIP_METHOD_SUBSCRIBE && status >= 200 && status < 300 && to_tag &&
      dialog == NULL)
    {
      g_autoptr (GError) derror = NULL;

      copy_record_route (response, request);
      if (sp_sip_message_get_contacts (response)->len == 0)
        {
          g_autofree char *contact =
              sp_sip_stack_dup_contact (self, NULL, sp_sip_server_transaction_get_source (st));
          sp_sip_message_add_header (response, "Contact", contact, NULL);
        }
      dialog = sp_sip_dialog_new_uas (request, response, &derror);
      if (dialog == NULL)
        g_debug ("no subscription dialog: %s", derror->message);
      else
        {
          hold = dialog;
          sp_sip_dialog_set_state (dialog, SP_SIP_DIALOG_CONFIRMED);
          remember_local_contact (dialog, response);
          sp_sip_dialog_set_flow (dialog, sp_sip_server_transaction_get_source (st));
          add_dialog (self, dialog);
        }
    }

  ok = sp_sip_server_transaction_respond (st, response, error);
  if (!ok)
    return FALSE;

  if (method == SP_SIP_METHOD_INVITE && dialog != NULL)
    {
      if (status >= 200 && status < 300)
        start_2xx_retransmission (self, st, dialog, response);
      else if (status >= 300 && sp_sip_dialog_get_state (dialog) == SP_SIP_DIALOG_EARLY)
        sp_sip_stack_remove_dialog (self, dialog);
    }
  if (method == SP_SIP_METHOD_BYE && status >= 200 && status < 300)
    {
      g_autofree char *bye_id = sp_sip_dialog_id_for_message (request);
      SpSipDialog *ended = sp_sip_stack_lookup_dialog (self, bye_id);
      if (ended)
        {
          g_autoptr (SpSipDialog) keep = sp_sip_dialog_ref (ended);
          sp_sip_stack_remove_dialog (self, ended);
          g_signal_emit (self, signals[SIGNAL_DIALOG_TERMINATED], 0, keep);
        }
    }
  return TRUE;
}

gboolean
sp_sip_stack_reply (SpSipStack *self, SpSipServerTransaction *st, guint status, const char *reason)
{
  g_autoptr (SpSipMessage) response = sp_sip_server_transaction_new_response (st, status, reason);
  g_autoptr (GError) error = NULL;

  if (response == NULL)
    return FALSE;
  if (!sp_sip_stack_respond (self, st, response, &error))
    {
      g_debug ("reply %u: %s", status, error->message);
      return FALSE;
    }
  return TRUE;
}

static void
default_answer (SpSipStack *self, SpSipServerTransaction *st, SpSipMessage *request,
                SpSipDialog *dialog)
{
  SpSipMethod method = sp_sip_message_get_method_id (request);
  g_autoptr (SpSipMessage) response = NULL;

  switch (method)
    {
      case SP_SIP_METHOD_OPTIONS:
        response = sp_sip_server_transaction_new_response (st, 200, NULL);
        sp_sip_message_add_header (response, "Allow", ALLOW, NULL);
        sp_sip_message_add_header (response, "Accept", "application/sdp", NULL);
        if (!sp_sip_message_add_header (response, "Supported", "", NULL))
          sp_sip_message_add_header (response, "Supported", "100rel", NULL);
        sp_sip_message_add_header (response, "Accept-Language", "en", NULL);
        sp_sip_stack_respond (self, st, response, NULL);
        return;
      case SP_SIP_METHOD_BYE:
      case SP_SIP_METHOD_INFO:
        sp_sip_stack_reply (self, st, dialog ? 200 : 481, NULL);
        return;
      case SP_SIP_METHOD_UNKNOWN:
        sp_sip_stack_reply (self, st, 501, NULL);
        return;
      default:
        response = sp_sip_server_transaction_new_response (st, 405, NULL);
        sp_sip_message_add_header (response, "Allow", ALLOW, NULL);
        sp_sip_stack_respond (self, st, response, NULL);
        return;
    }
}

static void
receive_ack (SpSipStack *self, SpSipMessage *ack)
{
  g_autofree char *id = sp_sip_dialog_id_for_message (ack);
  SpSipDialog *dialog = sp_sip_stack_lookup_dialog (self, id);
  PendingAck *p;

  if (dialog == NULL)
    return; /* an ACK for nothing we know: drop it */
  p = g_hash_table_lookup (self->pending_acks, id);
  if (p && p->cseq == sp_sip_message_get_cseq (ack, NULL))
    g_hash_table_remove (self->pending_acks, id);
  sp_sip_dialog_receive_request (dialog, ack);
  g_signal_emit (self, signals[SIGNAL_ACK], 0, ack, dialog);
}

static void
layer_request (SpSipTransactionLayer *layer, SpSipServerTransaction *st, SpSipMessage *request,
               const SpSipPeer *source, gpointer user_data)
{
  SpSipStack *self = user_data;
  const SpSipNameAddr *to = sp_sip_message_get_to (request);
  SpSipDialog *dialog = NULL;
  g_autoptr (SpSipDialog) hold = NULL;
  gboolean handled = FALSE;

  if (st == NULL)
    {
      receive_ack (self, request);
      return;
    }
  if (to && sp_sip_name_addr_get_tag (to))
    {
      g_autofree char *id = sp_sip_dialog_id_for_message (request);
      guint status;

      dialog = sp_sip_stack_lookup_dialog (self, id);
      if (dialog == NULL)
        {
          gboolean made = FALSE;

          /* RFC 6665 4.1.2.4: a NOTIFY may arrive before the 2xx to its
           * SUBSCRIBE; its subscriber may make the dialog now. */
          g_signal_emit (self, signals[SIGNAL_DIALOG_MISSING], 0, request, &made);
          if (made)
            dialog = sp_sip_stack_lookup_dialog (self, id);
        }
      if (dialog == NULL)
        {
          /* 12.2.2 */
          self->stats.unknown_dialog_481++;
          sp_sip_server_transaction_reply (st, 481, NULL);
          return;
        }
      hold = sp_sip_dialog_ref (dialog);
      status = sp_sip_dialog_receive_request (dialog, request);
      if (status != 0)
        {
          sp_sip_server_transaction_reply (st, status, NULL);
          return;
        }
    }
  g_signal_emit (self, signals[SIGNAL_REQUEST], 0, st, request, dialog, &handled);
  if (!handled && sp_sip_server_transaction_get_state (st) != SP_SIP_TRANSACTION_TERMINATED)
    default_answer (self, st, request, dialog);
}

/* ---- UAC core ---- */

static void
send_stored_ack (SpSipStack *self, SentAck *sent)
{
  g_autoptr (GError) error = NULL;

  if (!sp_sip_transaction_layer_send_stateless (self->layer, sent->ack, &sent->dest, &error))
    g_debug ("ACK not sent: %s", error->message);
  self->stats.acks_for_2xx_sent++;
}

/* Where @request in @dialog goes first (sp_sip_request_next_hop), but
 * on the dialog's flow while that is open, when the dialog has no route
 * set and its remote target names the flow's host over the same
 * transport: the phone at the other end of that connection, which may
 * not listen where its Contact says. */
static gboolean
dialog_next_hop (SpSipStack *self, SpSipDialog *dialog, const SpSipMessage *request, SpSipPeer *hop)
{
  const SpSipPeer *flow = sp_sip_dialog_get_flow (dialog);

  if (!sp_sip_request_next_hop (request, hop))
    return FALSE;
  if (flow != NULL && sp_sip_dialog_get_route_set (dialog)->len == 0 && hop->kind == flow->kind &&
      g_ascii_strcasecmp (hop->host, flow->host) == 0 && hop->port != flow->port &&
      sp_sip_transport_has_connection (self->transport, flow))
    hop->port = flow->port;
  return TRUE;
}

/* Keeps @ack as the one resent for each retransmission of the 2xx to
 * the INVITE with @cseq, and sends it. Takes @ack. */
static gboolean
store_and_send_ack (SpSipStack *self, SpSipDialog *dialog, const char *id, SpSipMessage *ack,
                    guint32 cseq)
{
  SentAck *sent = g_new0 (SentAck, 1);

  sent->ack = ack;
  sent->cseq = cseq;
  if (!dialog_next_hop (self, dialog, ack, &sent->dest))
    {
      sent_ack_free (sent);
      return FALSE;
    }
  g_hash_table_replace (self->sent_acks, g_strdup (id), sent);
  send_stored_ack (self, sent);
  return TRUE;
}

/* @tu_answers: the 2xx carries an offer to an INVITE that had none, so
 * the ACK must carry the answer (RFC 3261 13.2.2.4) and the TU sends it
 * with sp_sip_stack_send_ack; only its retransmissions are ours. */
static void
send_ack_for_2xx (SpSipStack *self, SpSipDialog *dialog, guint32 cseq, gboolean tu_answers)
{
  g_autofree char *id = sp_sip_dialog_dup_id (dialog);
  SentAck *sent = g_hash_table_lookup (self->sent_acks, id);

  if (sent != NULL && sent->cseq == cseq)
    {
      send_stored_ack (self, sent);
      return;
    }
  if (!tu_answers)
    {
      SpSipMessage *ack = sp_sip_dialog_new_ack (dialog, cseq);
      if (ack != NULL)
        store_and_send_ack (self, dialog, id, ack, cseq);
    }
}

gboolean
sp_sip_stack_send_ack (SpSipStack *self, SpSipDialog *dialog, guint32 invite_cseq,
                       const char *content_type, const char *body, GError **error)
{
  g_autofree char *id = NULL;
  SpSipMessage *ack;

  g_return_val_if_fail (SP_IS_SIP_STACK (self), FALSE);
  ack = sp_sip_dialog_new_ack (dialog, invite_cseq);
  if (ack == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "no ACK for this dialog");
      return FALSE;
    }
  if (body != NULL && content_type != NULL)
    sp_sip_message_set_body (ack, content_type, (const guint8 *) body, strlen (body));
  id = sp_sip_dialog_dup_id (dialog);
  if (!store_and_send_ack (self, dialog, id, ack, invite_cseq))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "ACK has no next hop");
      return FALSE;
    }
  return TRUE;
}

static void
drop_early_dialogs (SpSipStack *self, SpSipMessage *request)
{
  const SpSipNameAddr *from = sp_sip_message_get_from (request);
  const char *from_tag = from ? sp_sip_name_addr_get_tag (from) : NULL;
  const char *call_id = sp_sip_message_get_call_id (request);
  g_autoptr (GPtrArray) doomed =
      g_ptr_array_new_with_free_func ((GDestroyNotify) sp_sip_dialog_unref);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->dialogs);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      SpSipDialog *d = value;
      if (sp_sip_dialog_is_uac (d) && sp_sip_dialog_get_state (d) == SP_SIP_DIALOG_EARLY &&
          g_strcmp0 (sp_sip_dialog_get_call_id (d), call_id) == 0 &&
          g_strcmp0 (sp_sip_dialog_get_local_tag (d), from_tag) == 0)
        g_ptr_array_add (doomed, sp_sip_dialog_ref (d));
    }
  for (guint i = 0; i < doomed->len; i++)
    sp_sip_stack_remove_dialog (self, g_ptr_array_index (doomed, i));
}

/* Finds or makes the UAC dialog of an INVITE response. */
static SpSipDialog *
uac_dialog_for (SpSipStack *self, SpSipMessage *request, SpSipMessage *response,
                const SpSipPeer *flow, gboolean *created)
{
  g_autofree char *id = sp_sip_dialog_id_for_message (response);
  SpSipDialog *dialog = sp_sip_stack_lookup_dialog (self, id);
  g_autoptr (GError) error = NULL;

  *created = FALSE;
  if (dialog)
    {
      sp_sip_dialog_update_from_response (dialog, response);
      return dialog;
    }
  dialog = sp_sip_dialog_new_uac (request, response, &error);
  if (dialog == NULL)
    {
      g_debug ("no dialog from %u: %s", sp_sip_message_get_status (response), error->message);
      return NULL;
    }
  if (request)
    remember_local_contact (dialog, request);
  sp_sip_dialog_set_flow (dialog, flow);
  add_dialog (self, dialog);
  sp_sip_dialog_unref (dialog); /* the table holds it */
  *created = TRUE;
  return dialog;
}

static void
bye_unwanted (SpSipStack *self, SpSipDialog *dialog)
{
  G_GNUC_UNUSED g_autoptr (SpSipDialog) keep = sp_sip_dialog_ref (dialog);

  self->stats.forked_2xx_byes++;
  sp_sip_stack_send_in_dialog (self, dialog, "BYE", NULL, NULL, NULL);
  sp_sip_stack_remove_dialog (self, dialog);
}

static void
client_response (SpSipClientTransaction *ct, SpSipMessage *response, gpointer user_data)
{
  RequestCtx *ctx = user_data;
  SpSipStack *self = ctx->stack;
  SpSipMessage *request = sp_sip_client_transaction_get_request (ct);
  SpSipMethod method = sp_sip_message_get_method_id (request);
  guint status = sp_sip_message_get_status (response);
  SpSipDialog *dialog = NULL;
  gboolean created = FALSE;

  if (method == SP_SIP_METHOD_INVITE && status > 100 && status < 300 &&
      sp_sip_client_transaction_get_failure (ct) == SP_SIP_FAILURE_NONE)
    dialog =
        uac_dialog_for (self, request, response, sp_sip_client_transaction_get_dest (ct), &created);

  if (method == SP_SIP_METHOD_INVITE && status >= 200 && status < 300 && dialog)
    {
      g_autofree char *id = sp_sip_dialog_dup_id (dialog);
      gsize request_body = 0, response_body = 0;

      sp_sip_message_get_body (request, &request_body);
      sp_sip_message_get_body (response, &response_body);
      send_ack_for_2xx (self, dialog, sp_sip_message_get_cseq (response, NULL),
                        request_body == 0 && response_body > 0);
      if (ctx->chosen_dialog == NULL)
        ctx->chosen_dialog = g_strdup (id);
      else
        {
          /* A retransmission of the chosen 2xx, or another fork's 2xx. */
          if (g_strcmp0 (ctx->chosen_dialog, id) != 0 && created)
            bye_unwanted (self, dialog);
          return;
        }
    }
  else if (method == SP_SIP_METHOD_INVITE && status >= 300)
    drop_early_dialogs (self, request);

  if (method == SP_SIP_METHOD_BYE && status >= 200)
    {
      /* Our own BYE: From tag is local, To tag remote. */
      const SpSipNameAddr *from = sp_sip_message_get_from (request);
      const SpSipNameAddr *to = sp_sip_message_get_to (request);
      g_autofree char *uac_id = sp_sip_dialog_format_id (
          sp_sip_message_get_call_id (request), from ? sp_sip_name_addr_get_tag (from) : NULL,
          to ? sp_sip_name_addr_get_tag (to) : NULL);
      SpSipDialog *ended = sp_sip_stack_lookup_dialog (self, uac_id);
      if (ended)
        sp_sip_stack_remove_dialog (self, ended);
    }
  if (ctx->func)
    ctx->func (self, ct, response, dialog, ctx->user_data);
}

static void
layer_stray_response (SpSipTransactionLayer *layer, SpSipMessage *response, const SpSipPeer *source,
                      gpointer user_data)
{
  SpSipStack *self = user_data;
  guint status = sp_sip_message_get_status (response);
  SpSipDialog *dialog;
  gboolean created = FALSE;

  if (sp_sip_message_get_method_id (response) != SP_SIP_METHOD_INVITE || status < 200 ||
      status >= 300)
    return;
  /* 13.2.2.4: every 2xx gets its ACK, even after the transaction ended. */
  dialog = uac_dialog_for (self, NULL, response, source, &created);
  if (dialog == NULL)
    return;
  /* A known dialog without a stored ACK waits for the TU's (late offer). */
  send_ack_for_2xx (self, dialog, sp_sip_message_get_cseq (response, NULL), !created);
  if (created)
    bye_unwanted (self, dialog);
}

SpSipMessage *
sp_sip_stack_new_request (SpSipStack *self, const char *method, const SpSipUri *request_uri,
                          const char *from, const char *to, guint32 cseq)
{
  g_autoptr (SpSipMessage) msg = sp_sip_message_new_request (method, request_uri);
  g_autofree char *tag = sp_sip_random_token (10);
  g_autofree char *call_id = sp_sip_random_token (20);
  g_autofree char *from_value = g_strdup_printf ("%s;tag=%s", from, tag);
  g_autofree char *cseq_value = g_strdup_printf ("%u %s", cseq, method);

  if (!sp_sip_message_add_header (msg, "Max-Forwards", "70", NULL) ||
      !sp_sip_message_add_header (msg, "From", from_value, NULL) ||
      !sp_sip_message_add_header (msg, "To", to, NULL) ||
      !sp_sip_message_add_header (msg, "Call-ID", call_id, NULL) ||
      !sp_sip_message_add_header (msg, "CSeq", cseq_value, NULL))
    return NULL;
  if (self->user_agent)
    sp_sip_message_add_header (msg, "User-Agent", self->user_agent, NULL);
  return g_steal_pointer (&msg);
}

/* ---- names (RFC 3263 without NAPTR/SRV: A and AAAA) ---- */

static gboolean
has_binding_of_family (SpSipStack *self, const SpSipTransportKind *kind, gboolean v6)
{
  SpSipPeer bound;

  for (guint i = 0; sp_sip_transport_get_binding (self->transport, i, &bound); i++)
    if ((kind == NULL || bound.kind == *kind) && (strchr (bound.host, ':') != NULL) == v6)
      return TRUE;
  return FALSE;
}

/* The first address we can reach: one of a family we have a binding of
 * that transport for, else of a family we have any binding for. */
static GInetAddress *
pick_address (SpSipStack *self, GList *addresses, SpSipTransportKind kind)
{
  for (guint pass = 0; pass < 2; pass++)
    for (GList *l = addresses; l != NULL; l = l->next)
      {
        gboolean v6 = g_inet_address_get_family (l->data) == G_SOCKET_FAMILY_IPV6;
        if (has_binding_of_family (self, pass == 0 ? &kind : NULL, v6))
          return l->data;
      }
  return NULL;
}

static void
lookup_free (Lookup *l)
{
  sp_sip_client_transaction_unref (l->ct);
  g_free (l->name);
  g_free (l);
}

static void
lookup_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Lookup *l = data;
  g_autoptr (GError) error = NULL;
  GList *addresses = g_resolver_lookup_by_name_finish (G_RESOLVER (source), result, &error);
  GInetAddress *address;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      lookup_free (l); /* the stack is gone */
      return;
    }
  address = addresses ? pick_address (l->stack, addresses, l->dest.kind) : NULL;
  if (address == NULL)
    {
      g_autofree char *detail = g_strdup_printf (
          "%s: %s", l->name, error ? error->message : "no address of a family we can reach");
      l->stack->stats.dns_failures++;
      sp_sip_client_transaction_fail (l->ct, detail);
    }
  else
    {
      g_autofree char *host = g_inet_address_to_string (address);
      g_strlcpy (l->dest.host, host, sizeof l->dest.host);
      sp_sip_client_transaction_start (l->ct, &l->dest);
    }
  g_resolver_free_addresses (addresses);
  lookup_free (l);
}

static void
start_lookup (SpSipStack *self, SpSipClientTransaction *ct, const SpSipPeer *dest, const char *name)
{
  Lookup *l = g_new0 (Lookup, 1);

  if (self->resolver == NULL)
    self->resolver = g_resolver_get_default ();
  l->stack = self;
  l->ct = sp_sip_client_transaction_ref (ct);
  l->dest = *dest;
  l->name = g_strdup (name);
  self->stats.dns_lookups++;
  g_resolver_lookup_by_name_async (self->resolver, name, self->lookups, lookup_done, l);
}

void
sp_sip_stack_set_resolver (SpSipStack *self, GResolver *resolver)
{
  g_set_object (&self->resolver, resolver);
}

SpSipClientTransaction *
sp_sip_stack_send_request (SpSipStack *self, SpSipMessage *request, const SpSipPeer *dest,
                           SpSipStackResponseFunc func, gpointer user_data, GError **error)
{
  return sp_sip_stack_send_request_full (self, request, dest, func, user_data, NULL, error);
}

SpSipClientTransaction *
sp_sip_stack_send_request_full (SpSipStack *self, SpSipMessage *request, const SpSipPeer *dest,
                                SpSipStackResponseFunc func, gpointer user_data,
                                GDestroyNotify user_data_free, GError **error)
{
  SpSipMethod method = sp_sip_message_get_method_id (request);
  g_autofree char *name = NULL;
  SpSipPeer hop;
  SpSipClientTransaction *ct;
  RequestCtx *ctx;

  if (dest == NULL)
    {
      if (!sp_sip_request_next_hop (request, &hop) &&
          (name = sp_sip_request_next_hop_name (request, &hop)) == NULL)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               "the request has no next hop");
          if (user_data_free != NULL)
            user_data_free (user_data);
          return NULL;
        }
      dest = &hop;
    }
  if ((method == SP_SIP_METHOD_INVITE || method == SP_SIP_METHOD_SUBSCRIBE ||
       method == SP_SIP_METHOD_REFER) &&
      sp_sip_message_get_contacts (request)->len == 0)
    {
      g_autofree char *contact = sp_sip_stack_dup_contact (self, NULL, dest);
      sp_sip_message_add_header (request, "Contact", contact, NULL);
    }
  ctx = g_new0 (RequestCtx, 1);
  ctx->stack = self;
  ctx->func = func;
  ctx->user_data = user_data;
  ctx->user_data_free = user_data_free;
  if (name != NULL)
    ct = sp_sip_client_transaction_new_deferred (self->layer, request, dest->kind, client_response,
                                                 ctx);
  else
    ct = sp_sip_client_transaction_new (self->layer, request, dest, client_response, ctx);
  if (ct == NULL)
    {
      request_ctx_free (ctx);
      g_set_error_literal (error, SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST,
                           "request cannot start a transaction");
      return NULL;
    }
  sp_sip_client_transaction_set_destroy_notify (ct, request_ctx_free);
  if (name != NULL)
    start_lookup (self, ct, dest, name);
  return ct;
}

SpSipClientTransaction *
sp_sip_stack_send_in_dialog (SpSipStack *self, SpSipDialog *dialog, const char *method,
                             SpSipStackResponseFunc func, gpointer user_data, GError **error)
{
  return sp_sip_stack_send_in_dialog_full (self, dialog, method, func, user_data, NULL, error);
}

/* The numeric host of the dialog's local Contact into @host ("" when
 * there is none or it is a name). */
static void
dialog_local_host (SpSipDialog *dialog, char *host, gsize size)
{
  const char *contact = sp_sip_dialog_get_local_contact (dialog);
  g_autoptr (SpSipNameAddr) na = contact ? sp_sip_name_addr_parse (contact, -1, NULL) : NULL;
  const char *uri_host = na && na->uri ? sp_sip_uri_get_host (na->uri) : NULL;

  host[0] = '\0';
  if (uri_host != NULL && g_hostname_is_ip_address (uri_host))
    g_strlcpy (host, uri_host, size);
}

SpSipClientTransaction *
sp_sip_stack_send_in_dialog_full (SpSipStack *self, SpSipDialog *dialog, const char *method,
                                  SpSipStackResponseFunc func, gpointer user_data,
                                  GDestroyNotify user_data_free, GError **error)
{
  g_autoptr (SpSipMessage) request = sp_sip_dialog_new_request (dialog, method);

  if (request == NULL)
    {
      g_set_error_literal (error, SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST,
                           "cannot build the request");
      if (user_data_free != NULL)
        user_data_free (user_data);
      return NULL;
    }
  if (self->user_agent)
    sp_sip_message_add_header (request, "User-Agent", self->user_agent, NULL);
  return sp_sip_stack_send_dialog_request (self, dialog, request, func, user_data, user_data_free,
                                           error);
}

SpSipClientTransaction *
sp_sip_stack_send_dialog_request (SpSipStack *self, SpSipDialog *dialog, SpSipMessage *request,
                                  SpSipStackResponseFunc func, gpointer user_data,
                                  GDestroyNotify user_data_free, GError **error)
{
  SpSipPeer hop;

  g_return_val_if_fail (SP_IS_SIP_STACK (self), NULL);
  g_return_val_if_fail (dialog != NULL && request != NULL, NULL);
  /* On a wildcard binding, from the address our Contact names: the one
   * the peer reached us on, which it may be checking. */
  if (dialog_next_hop (self, dialog, request, &hop))
    {
      dialog_local_host (dialog, hop.local, sizeof hop.local);
      return sp_sip_stack_send_request_full (self, request, &hop, func, user_data, user_data_free,
                                             error);
    }
  return sp_sip_stack_send_request_full (self, request, NULL, func, user_data, user_data_free,
                                         error);
}

/* ---- object ---- */

static void
sp_sip_stack_finalize (GObject *object)
{
  SpSipStack *self = SP_SIP_STACK (object);

  g_cancellable_cancel (self->lookups);
  g_object_unref (self->lookups);
  g_clear_object (&self->resolver);
  sp_sip_transport_set_handlers (self->transport, NULL, NULL, NULL);
  g_hash_table_unref (self->pending_acks);
  g_hash_table_unref (self->sent_acks);
  g_hash_table_unref (self->dialogs);
  sp_sip_transaction_layer_free (self->layer);
  g_object_unref (self->transport);
  sp_sip_clock_unref (self->clock);
  g_free (self->user_agent);
  G_OBJECT_CLASS (sp_sip_stack_parent_class)->finalize (object);
}

static void
sp_sip_stack_class_init (SpSipStackClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sp_sip_stack_finalize;

  signals[SIGNAL_REQUEST] = g_signal_new (
      "request", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, g_signal_accumulator_true_handled,
      NULL, NULL, G_TYPE_BOOLEAN, 3, G_TYPE_POINTER, G_TYPE_POINTER, G_TYPE_POINTER);
  signals[SIGNAL_ACK] = g_signal_new ("ack", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                      NULL, NULL, G_TYPE_NONE, 2, G_TYPE_POINTER, G_TYPE_POINTER);
  signals[SIGNAL_ACK_TIMEOUT] =
      g_signal_new ("ack-timeout", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
  signals[SIGNAL_DIALOG_MISSING] = g_signal_new (
      "dialog-missing", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
      g_signal_accumulator_true_handled, NULL, NULL, G_TYPE_BOOLEAN, 1, G_TYPE_POINTER);
  signals[SIGNAL_DIALOG_TERMINATED] =
      g_signal_new ("dialog-terminated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                    NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
}

static void
sp_sip_stack_init (SpSipStack *self)
{
  self->dialogs =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) sp_sip_dialog_unref);
  self->pending_acks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, pending_ack_free);
  self->sent_acks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, sent_ack_free);
  self->lookups = g_cancellable_new ();
}

SpSipRouteCache *
sp_sip_stack_get_route_cache (SpSipStack *self)
{
  g_return_val_if_fail (SP_IS_SIP_STACK (self), NULL);
  return sp_sip_transport_get_route_cache (self->transport);
}

SpSipStack *
sp_sip_stack_new (SpSipClock *clock, const SpSipTimerSettings *timers)
{
  SpSipStack *self = g_object_new (SP_TYPE_SIP_STACK, NULL);
  SpSipTransactionFuncs funcs = {
    .send = stack_send,
    .request = layer_request,
    .stray_response = layer_stray_response,
  };

  self->clock = clock ? sp_sip_clock_ref (clock) : sp_sip_clock_new_system (NULL);
  self->transport = sp_sip_transport_new ();
  sp_sip_transport_set_handlers (self->transport, transport_received, transport_failed, self);
  self->layer = sp_sip_transaction_layer_new (self->clock, timers, &funcs, self);
  return self;
}

gboolean
sp_sip_stack_listen (SpSipStack *self, SpSipTransportKind kind, const char *host, guint16 port,
                     SpSipPeer *bound, GError **error)
{
  return sp_sip_transport_listen (self->transport, kind, host, port, bound, error);
}

SpSipTransport *
sp_sip_stack_get_transport (SpSipStack *self)
{
  return self->transport;
}

SpSipTransactionLayer *
sp_sip_stack_get_transactions (SpSipStack *self)
{
  return self->layer;
}

const SpSipStackStats *
sp_sip_stack_get_stats (SpSipStack *self)
{
  return &self->stats;
}

void
sp_sip_stack_set_user_agent (SpSipStack *self, const char *user_agent)
{
  g_free (self->user_agent);
  self->user_agent = g_strdup (user_agent);
}

const char *
sp_sip_stack_get_allow (SpSipStack *self)
{
  return ALLOW;
}
