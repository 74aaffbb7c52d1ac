#include "sip/transaction.h"

#include <gio/gio.h>
#include "sip/random.h"
#include "sip/source-key.h"

#include <string.h>

#include "sip/sip-private.h"

#define MAGIC_COOKIE "z9hG4bK"
/* 17.2.1: a TU that answers an INVITE this fast needs no 100 Trying. */
#define TRYING_DELAY_MS 200

struct _SpSipTransactionLayer
{
  SpSipClock *clock;
  SpSipTimerSettings timers;
  SpSipTransactionFuncs funcs;
  gpointer user_data;
  GHashTable *clients;     /* key -> SpSipClientTransaction (ref) */
  GHashTable *servers;     /* key -> SpSipServerTransaction (ref) */
  GHashTable *merge_index; /* 8.2.2.2 key -> SpSipServerTransaction (borrowed) */
  GHashTable *per_source;  /* source key -> live server transactions */
  guint max_server;
  guint max_server_per_source;
  SpSipTransactionStats stats;
};

struct _SpSipClientTransaction
{
  gint ref_count;
  SpSipTransactionLayer *layer; /* NULL once terminated */
  gboolean invite;
  SpSipTransactionState state;
  SpSipMessage *request;
  SpSipMessage *ack;
  SpSipPeer dest;
  gboolean reliable;
  char *branch;
  char *key;
  SpSipResponseFunc func;
  gpointer user_data;
  GDestroyNotify destroy;
  guint timer_retransmit; /* A or E */
  guint timer_timeout;    /* B or F */
  guint timer_end;        /* D, K or M */
  guint timer_failure;    /* deferred report of a send failure */
  guint interval;
  SpSipFailure failure;
  gboolean got_provisional;
  gboolean deferred; /* created, waiting for its destination (DNS) */
  gboolean cancel_pending;
  gboolean cancel_sent;
  SpSipResponseFunc cancel_func;
  gpointer cancel_data;
  char *cancel_reason; /* Reason header of our CANCEL (RFC 3326), or NULL */
};

struct _SpSipServerTransaction
{
  gint ref_count;
  SpSipTransactionLayer *layer; /* NULL once terminated */
  gboolean invite;
  gboolean rfc2543;
  SpSipTransactionState state;
  SpSipMessage *request;
  SpSipMessage *last_response;
  SpSipPeer source;
  gboolean reliable;
  char *key;
  char *merge_key;
  char *to_tag;
  char *source_key; /* counted under it in per_source; NULL when not */
  SpSipServerEventFunc event_func;
  gpointer event_data;
  char *cancel_reason;    /* the matching CANCEL's Reason header, or NULL */
  guint timer_retransmit; /* G */
  guint timer_timeout;    /* H */
  guint timer_end;        /* I, J or L */
  guint timer_trying;     /* 100 Trying if the TU is slow (17.2.1) */
  guint interval;
};

void
sp_sip_timer_settings_init (SpSipTimerSettings *settings)
{
  settings->t1 = 500;
  settings->t2 = 4000;
  settings->t4 = 5000;
  settings->timer_d = 32000;
}

const char *
sp_sip_transaction_state_to_string (SpSipTransactionState state)
{
  static const char *const names[] = { "Calling",   "Trying",   "Proceeding", "Completed",
                                       "Confirmed", "Accepted", "Terminated" };
  return state <= SP_SIP_TRANSACTION_TERMINATED ? names[state] : "?";
}

char *
sp_sip_random_token (guint n_chars)
{
  return sp_random_token (n_chars);
}

char *
sp_sip_transaction_new_branch (void)
{
  g_autofree char *token = sp_sip_random_token (16);
  return g_strconcat (MAGIC_COOKIE, token, NULL);
}

/* ---- keys ---- */

static gboolean
is_3261_branch (const char *branch)
{
  return branch != NULL && g_str_has_prefix (branch, MAGIC_COOKIE);
}

static char *
client_key (const char *branch, const char *method)
{
  return g_strconcat (branch, "|", method, NULL);
}

/* 17.2.3: the key a request (or the response to it) is matched by. ACK
 * looks for its INVITE. */
static char *
server_key (const SpSipMessage *msg, const char *method, gboolean *rfc2543)
{
  const SpSipVia *via = sp_sip_message_get_via (msg);
  const SpSipNameAddr *from = sp_sip_message_get_from (msg);
  g_autofree char *sent_by = NULL;
  char cseq[SP_SIP_UINT_BUF];

  if (via == NULL || via->host == NULL)
    return NULL;
  sent_by = sp_sip_host_port_to_string (via->host, via->port);
  if (g_strcmp0 (method, "ACK") == 0)
    method = "INVITE";
  if (is_3261_branch (via->branch))
    {
      char *key = g_strconcat ("3261|", via->branch, "|", sent_by, "|", method, NULL);
      char *host = key + strlen ("3261|") + strlen (via->branch) + 1;

      *rfc2543 = FALSE;
      /* sent-by compares case-insensitively; branch and method do not. */
      for (gsize i = 0, n = strlen (sent_by); i < n; i++)
        host[i] = g_ascii_tolower (host[i]);
      return key;
    }
  *rfc2543 = TRUE;
  return g_strconcat ("2543|", sp_sip_or_empty (sp_sip_message_get_call_id (msg)), "|",
                      sp_sip_or_empty (from ? sp_sip_name_addr_get_tag (from) : NULL), "|",
                      sp_sip_uint_to_text (cseq, sp_sip_message_get_cseq (msg, NULL)), "|", sent_by,
                      "|", sp_sip_or_empty (via->branch), "|", method, NULL);
}

static const char *
to_tag_of (const SpSipMessage *msg)
{
  const SpSipNameAddr *to = sp_sip_message_get_to (msg);
  return to ? sp_sip_name_addr_get_tag (to) : NULL;
}

static const char *
from_tag_of (const SpSipMessage *msg)
{
  const SpSipNameAddr *from = sp_sip_message_get_from (msg);
  return from ? sp_sip_name_addr_get_tag (from) : NULL;
}

/* ---- layer ---- */

static void client_terminate (SpSipClientTransaction *ct);
static void server_terminate (SpSipServerTransaction *st);

SpSipTransactionLayer *
sp_sip_transaction_layer_new (SpSipClock *clock, const SpSipTimerSettings *timers,
                              const SpSipTransactionFuncs *funcs, gpointer user_data)
{
  SpSipTransactionLayer *layer = g_new0 (SpSipTransactionLayer, 1);

  layer->clock = sp_sip_clock_ref (clock);
  if (timers)
    layer->timers = *timers;
  else
    sp_sip_timer_settings_init (&layer->timers);
  layer->funcs = *funcs;
  layer->user_data = user_data;
  layer->clients = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify) sp_sip_client_transaction_unref);
  layer->servers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify) sp_sip_server_transaction_unref);
  layer->merge_index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  layer->per_source = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  layer->max_server = SP_SIP_DEFAULT_MAX_SERVER_TRANSACTIONS;
  layer->max_server_per_source = SP_SIP_DEFAULT_MAX_SERVER_TRANSACTIONS_PER_SOURCE;
  return layer;
}

void
sp_sip_transaction_layer_set_limits (SpSipTransactionLayer *layer, guint max_server,
                                     guint max_server_per_source)
{
  layer->max_server = max_server;
  layer->max_server_per_source = max_server_per_source;
}

static void
cancel_timer (SpSipTransactionLayer *layer, guint *id)
{
  if (*id && layer)
    sp_sip_clock_cancel (layer->clock, *id);
  *id = 0;
}

void
sp_sip_transaction_layer_free (SpSipTransactionLayer *layer)
{
  GHashTableIter iter;
  gpointer value;

  if (layer == NULL)
    return;
  /* Detach every transaction silently: no callbacks during teardown. */
  g_hash_table_iter_init (&iter, layer->clients);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      SpSipClientTransaction *ct = value;
      cancel_timer (layer, &ct->timer_retransmit);
      cancel_timer (layer, &ct->timer_timeout);
      cancel_timer (layer, &ct->timer_end);
      cancel_timer (layer, &ct->timer_failure);
      ct->state = SP_SIP_TRANSACTION_TERMINATED;
      ct->layer = NULL;
    }
  g_hash_table_iter_init (&iter, layer->servers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      SpSipServerTransaction *st = value;
      cancel_timer (layer, &st->timer_retransmit);
      cancel_timer (layer, &st->timer_timeout);
      cancel_timer (layer, &st->timer_end);
      cancel_timer (layer, &st->timer_trying);
      st->state = SP_SIP_TRANSACTION_TERMINATED;
      st->layer = NULL;
    }
  g_hash_table_unref (layer->merge_index);
  g_hash_table_unref (layer->clients);
  g_hash_table_unref (layer->servers);
  g_hash_table_unref (layer->per_source);
  sp_sip_clock_unref (layer->clock);
  g_free (layer);
}

const SpSipTimerSettings *
sp_sip_transaction_layer_get_timers (SpSipTransactionLayer *layer)
{
  return &layer->timers;
}

SpSipClock *
sp_sip_transaction_layer_get_clock (SpSipTransactionLayer *layer)
{
  return layer->clock;
}

const SpSipTransactionStats *
sp_sip_transaction_layer_get_stats (SpSipTransactionLayer *layer)
{
  return &layer->stats;
}

guint
sp_sip_transaction_layer_get_n_client (SpSipTransactionLayer *layer)
{
  return g_hash_table_size (layer->clients);
}

guint
sp_sip_transaction_layer_get_n_server (SpSipTransactionLayer *layer)
{
  return g_hash_table_size (layer->servers);
}

static gboolean
layer_send (SpSipTransactionLayer *layer, SpSipMessage *msg, const SpSipPeer *dest,
            SpSipTransportKind *used, GError **error)
{
  SpSipTransportKind kind = dest ? dest->kind : SP_SIP_TRANSPORT_UDP;
  gboolean ok = layer->funcs.send (msg, dest, &kind, layer->user_data, error);

  if (used)
    *used = kind;
  return ok;
}

gboolean
sp_sip_transaction_layer_send_stateless (SpSipTransactionLayer *layer, SpSipMessage *msg,
                                         const SpSipPeer *dest, GError **error)
{
  if (sp_sip_message_is_request (msg) && sp_sip_message_get_via (msg) == NULL)
    {
      g_autofree char *branch = sp_sip_transaction_new_branch ();
      g_autofree char *via = g_strdup_printf ("SIP/2.0/%s 0.0.0.0;branch=%s",
                                              sp_sip_transport_kind_to_string (dest->kind), branch);
      if (!sp_sip_message_prepend_header (msg, "Via", via, error))
        return FALSE;
    }
  return layer_send (layer, msg, dest, NULL, error);
}

/* ---- client transactions ---- */

SpSipClientTransaction *
sp_sip_client_transaction_ref (SpSipClientTransaction *ct)
{
  ct->ref_count++;
  return ct;
}

void
sp_sip_client_transaction_unref (SpSipClientTransaction *ct)
{
  if (ct == NULL || --ct->ref_count > 0)
    return;
  if (ct->destroy)
    ct->destroy (ct->user_data);
  sp_sip_message_unref (ct->request);
  if (ct->ack)
    sp_sip_message_unref (ct->ack);
  g_free (ct->branch);
  g_free (ct->key);
  g_free (ct->cancel_reason);
  g_free (ct);
}

SpSipTransactionState
sp_sip_client_transaction_get_state (SpSipClientTransaction *ct)
{
  return ct->state;
}

SpSipMessage *
sp_sip_client_transaction_get_request (SpSipClientTransaction *ct)
{
  return ct->request;
}

const char *
sp_sip_client_transaction_get_branch (SpSipClientTransaction *ct)
{
  return ct->branch;
}

const SpSipPeer *
sp_sip_client_transaction_get_dest (SpSipClientTransaction *ct)
{
  return &ct->dest;
}

SpSipFailure
sp_sip_client_transaction_get_failure (SpSipClientTransaction *ct)
{
  return ct->failure;
}

void
sp_sip_client_transaction_set_destroy_notify (SpSipClientTransaction *ct, GDestroyNotify destroy)
{
  ct->destroy = destroy;
}

void
sp_sip_client_transaction_detach (SpSipClientTransaction *ct)
{
  ct->func = NULL;
  ct->cancel_func = NULL;
}

static void
client_deliver (SpSipClientTransaction *ct, SpSipMessage *response)
{
  if (ct->func)
    ct->func (ct, response, ct->user_data);
}

static void
client_terminate (SpSipClientTransaction *ct)
{
  SpSipTransactionLayer *layer = ct->layer;

  if (layer == NULL)
    return;
  cancel_timer (layer, &ct->timer_retransmit);
  cancel_timer (layer, &ct->timer_timeout);
  cancel_timer (layer, &ct->timer_end);
  cancel_timer (layer, &ct->timer_failure);
  ct->state = SP_SIP_TRANSACTION_TERMINATED;
  ct->layer = NULL;
  g_hash_table_remove (layer->clients, ct->key); /* drops the table's ref */
}

/* Ends the transaction with a locally made final response. */
static void
client_end_locally (SpSipClientTransaction *ct, guint status, SpSipFailure failure,
                    const char *detail)
{
  G_GNUC_UNUSED g_autoptr (SpSipClientTransaction) hold = sp_sip_client_transaction_ref (ct);
  g_autoptr (SpSipMessage) response = NULL;
  g_autofree char *reason = NULL;

  if (ct->layer == NULL)
    return;
  if (failure == SP_SIP_FAILURE_TIMEOUT)
    ct->layer->stats.timeouts++;
  else if (failure == SP_SIP_FAILURE_TRANSPORT)
    ct->layer->stats.transport_errors++;
  reason = detail ? g_strdup_printf ("%s (%s)", sp_sip_status_phrase (status), detail) : NULL;
  response = sp_sip_message_new_response_to (ct->request, status, reason, NULL);
  ct->failure = failure;
  client_terminate (ct);
  if (response)
    client_deliver (ct, response);
}

static void
client_fail (SpSipClientTransaction *ct, SpSipFailure failure, const char *detail)
{
  client_end_locally (ct, failure == SP_SIP_FAILURE_TIMEOUT ? 408 : 503, failure, detail);
}

static void
client_failure_fired (gpointer data)
{
  SpSipClientTransaction *ct = data;

  ct->timer_failure = 0;
  client_fail (ct, SP_SIP_FAILURE_TRANSPORT, "transport error");
}

/* Sends the request; a failure is reported from the main loop. */
static void
client_transmit (SpSipClientTransaction *ct, gboolean first)
{
  g_autoptr (GError) error = NULL;
  SpSipTransportKind used;

  if (!layer_send (ct->layer, ct->request, &ct->dest, &used, &error))
    {
      g_debug ("client transaction %s: send failed: %s", ct->branch, error->message);
      if (ct->timer_failure == 0)
        ct->timer_failure =
            sp_sip_clock_add_timeout (ct->layer->clock, 0, client_failure_fired, ct);
      return;
    }
  if (first)
    ct->reliable = sp_sip_transport_kind_is_stream (used);
  else
    ct->layer->stats.retransmissions_sent++;
}

static void client_timer_retransmit (gpointer data);

static void
client_timer_timeout (gpointer data)
{
  SpSipClientTransaction *ct = data;

  /* B in Calling, F in Trying or Proceeding. */
  ct->timer_timeout = 0;
  client_fail (ct, SP_SIP_FAILURE_TIMEOUT, NULL);
}

static void
client_timer_end (gpointer data)
{
  SpSipClientTransaction *ct = data;

  /* D, K or M. */
  ct->timer_end = 0;
  client_terminate (ct);
}

static void
client_timer_retransmit (gpointer data)
{
  SpSipClientTransaction *ct = data;
  const SpSipTimerSettings *t = &ct->layer->timers;

  ct->timer_retransmit = 0;
  client_transmit (ct, FALSE);
  if (ct->layer == NULL)
    return;
  if (ct->invite)
    ct->interval *= 2; /* A: doubles without a cap (17.1.1.2) */
  else if (ct->state == SP_SIP_TRANSACTION_PROCEEDING)
    ct->interval = t->t2; /* E in Proceeding */
  else
    ct->interval = MIN (ct->interval * 2, t->t2); /* E in Trying */
  ct->timer_retransmit =
      sp_sip_clock_add_timeout (ct->layer->clock, ct->interval, client_timer_retransmit, ct);
}

static void
copy_headers_named (SpSipMessage *to, const SpSipMessage *from, const char *name)
{
  guint n = sp_sip_message_get_n_headers (from);

  for (guint i = 0; i < n; i++)
    {
      const char *hname, *hvalue;
      sp_sip_message_get_nth_header (from, i, &hname, &hvalue);
      if (g_ascii_strcasecmp (hname, name) == 0)
        sp_sip_message_add_header (to, name, hvalue, NULL);
    }
}

/* The shared shape of ACK for non-2xx (17.1.1.3) and CANCEL (9.1): same
 * Request-URI, top Via, From, Call-ID, CSeq number and Route as the
 * request. */
static SpSipMessage *
build_hop_request (const SpSipMessage *request, const char *method, const char *to_value)
{
  const SpSipVia *via = sp_sip_message_get_via (request);
  g_autoptr (SpSipMessage) msg = NULL;
  g_autofree char *via_value = NULL;
  g_autofree char *cseq = NULL;

  if (via == NULL)
    return NULL;
  msg = sp_sip_message_new_request (method, sp_sip_message_get_request_uri (request));
  via_value = sp_sip_via_format (via, via->transport ? via->transport : "UDP", via->host, via->port,
                                 NULL, NULL);
  cseq = g_strdup_printf ("%u %s", sp_sip_message_get_cseq (request, NULL), method);
  if (!sp_sip_message_add_header (msg, "Via", via_value, NULL) ||
      !sp_sip_message_add_header (msg, "Max-Forwards", "70", NULL) ||
      !sp_sip_message_add_header (msg, "From", sp_sip_message_get_header (request, "From"), NULL) ||
      !sp_sip_message_add_header (msg, "To", to_value, NULL) ||
      !sp_sip_message_add_header (msg, "Call-ID", sp_sip_message_get_call_id (request), NULL) ||
      !sp_sip_message_add_header (msg, "CSeq", cseq, NULL))
    return NULL;
  copy_headers_named (msg, request, "Route");
  return g_steal_pointer (&msg);
}

static void
client_send_ack (SpSipClientTransaction *ct, SpSipMessage *response)
{
  g_autoptr (GError) error = NULL;

  if (ct->ack == NULL)
    ct->ack = build_hop_request (ct->request, "ACK", sp_sip_message_get_header (response, "To"));
  if (ct->ack == NULL)
    return;
  /* The ACK carries the INVITE's Via already: send it as it is. */
  if (!layer_send (ct->layer, ct->ack, &ct->dest, NULL, &error))
    g_debug ("ACK not sent: %s", error->message);
}

static void send_cancel (SpSipClientTransaction *ct);

static void
client_invite_response (SpSipClientTransaction *ct, SpSipMessage *response, guint status)
{
  SpSipTransactionLayer *layer = ct->layer;
  const SpSipTimerSettings *t = &layer->timers;

  switch (ct->state)
    {
      case SP_SIP_TRANSACTION_CALLING:
      case SP_SIP_TRANSACTION_PROCEEDING:
        cancel_timer (layer, &ct->timer_retransmit);
        if (status < 200)
          {
            ct->state = SP_SIP_TRANSACTION_PROCEEDING;
            if (!ct->cancel_sent)
              cancel_timer (layer, &ct->timer_timeout);
            ct->got_provisional = TRUE;
            client_deliver (ct, response);
            if (ct->cancel_pending && ct->layer)
              send_cancel (ct);
          }
        else if (status < 300)
          {
            /* RFC 6026: stay to pass 2xx retransmissions up. */
            cancel_timer (layer, &ct->timer_timeout);
            ct->state = SP_SIP_TRANSACTION_ACCEPTED;
            ct->timer_end =
                sp_sip_clock_add_timeout (layer->clock, 64 * t->t1, client_timer_end, ct);
            client_deliver (ct, response);
          }
        else
          {
            cancel_timer (layer, &ct->timer_timeout);
            ct->state = SP_SIP_TRANSACTION_COMPLETED;
            client_send_ack (ct, response);
            if (ct->reliable)
              ct->timer_end = sp_sip_clock_add_timeout (layer->clock, 0, client_timer_end, ct);
            else
              ct->timer_end =
                  sp_sip_clock_add_timeout (layer->clock, t->timer_d, client_timer_end, ct);
            client_deliver (ct, response);
          }
        break;
      case SP_SIP_TRANSACTION_COMPLETED:
        if (status >= 300)
          {
            layer->stats.retransmissions_absorbed++;
            client_send_ack (ct, response);
          }
        break;
      case SP_SIP_TRANSACTION_ACCEPTED:
        if (status >= 200 && status < 300)
          client_deliver (ct, response);
        break;
      default:
        break;
    }
}

static void
client_non_invite_response (SpSipClientTransaction *ct, SpSipMessage *response, guint status)
{
  SpSipTransactionLayer *layer = ct->layer;

  switch (ct->state)
    {
      case SP_SIP_TRANSACTION_TRYING:
      case SP_SIP_TRANSACTION_PROCEEDING:
        if (status < 200)
          {
            ct->state = SP_SIP_TRANSACTION_PROCEEDING;
            client_deliver (ct, response);
          }
        else
          {
            cancel_timer (layer, &ct->timer_retransmit);
            cancel_timer (layer, &ct->timer_timeout);
            ct->state = SP_SIP_TRANSACTION_COMPLETED;
            ct->timer_end = sp_sip_clock_add_timeout (
                layer->clock, ct->reliable ? 0 : layer->timers.t4, client_timer_end, ct);
            client_deliver (ct, response);
          }
        break;
      case SP_SIP_TRANSACTION_COMPLETED:
        layer->stats.retransmissions_absorbed++;
        break;
      default:
        break;
    }
}

static void
client_on_response (SpSipClientTransaction *ct, SpSipMessage *response)
{
  G_GNUC_UNUSED g_autoptr (SpSipClientTransaction) hold = sp_sip_client_transaction_ref (ct);
  guint status = sp_sip_message_get_status (response);

  if (ct->layer == NULL || status < 100)
    return;
  if (ct->invite)
    client_invite_response (ct, response, status);
  else
    client_non_invite_response (ct, response, status);
}

static void
client_first_transmit (SpSipClientTransaction *ct)
{
  SpSipTransactionLayer *layer = ct->layer;

  client_transmit (ct, TRUE);
  if (!ct->reliable)
    ct->timer_retransmit =
        sp_sip_clock_add_timeout (layer->clock, ct->interval, client_timer_retransmit, ct);
}

static SpSipClientTransaction *
client_start (SpSipTransactionLayer *layer, SpSipMessage *request, const SpSipPeer *dest,
              gboolean new_via, gboolean deferred, SpSipResponseFunc func, gpointer user_data)
{
  SpSipClientTransaction *ct;
  const SpSipVia *via;
  const SpSipTimerSettings *t = &layer->timers;

  g_return_val_if_fail (sp_sip_message_is_request (request), NULL);
  g_return_val_if_fail (sp_sip_message_get_method_id (request) != SP_SIP_METHOD_ACK, NULL);
  if (new_via)
    {
      g_autofree char *branch = sp_sip_transaction_new_branch ();
      g_autofree char *value = g_strdup_printf (
          "SIP/2.0/%s 0.0.0.0;branch=%s", sp_sip_transport_kind_to_string (dest->kind), branch);
      if (!sp_sip_message_prepend_header (request, "Via", value, NULL))
        return NULL;
    }
  via = sp_sip_message_get_via (request);
  if (via == NULL || via->branch == NULL)
    return NULL;

  ct = g_new0 (SpSipClientTransaction, 1);
  ct->ref_count = 1; /* the table's */
  ct->layer = layer;
  ct->request = sp_sip_message_ref (request);
  ct->dest = *dest;
  ct->branch = g_strdup (via->branch);
  ct->key = client_key (ct->branch, sp_sip_message_get_method (request));
  ct->invite = sp_sip_message_get_method_id (request) == SP_SIP_METHOD_INVITE;
  ct->state = ct->invite ? SP_SIP_TRANSACTION_CALLING : SP_SIP_TRANSACTION_TRYING;
  ct->func = func;
  ct->user_data = user_data;
  ct->interval = t->t1;
  g_hash_table_replace (layer->clients, g_strdup (ct->key), ct);
  layer->stats.client_created++;

  /* B or F also bounds the wait for a deferred destination. */
  ct->timer_timeout = sp_sip_clock_add_timeout (layer->clock, 64 * t->t1, client_timer_timeout, ct);
  ct->deferred = deferred;
  if (!deferred)
    client_first_transmit (ct);
  return ct;
}

SpSipClientTransaction *
sp_sip_client_transaction_new (SpSipTransactionLayer *layer, SpSipMessage *request,
                               const SpSipPeer *dest, SpSipResponseFunc func, gpointer user_data)
{
  return client_start (layer, request, dest, TRUE, FALSE, func, user_data);
}

SpSipClientTransaction *
sp_sip_client_transaction_new_deferred (SpSipTransactionLayer *layer, SpSipMessage *request,
                                        SpSipTransportKind kind, SpSipResponseFunc func,
                                        gpointer user_data)
{
  SpSipPeer none;

  sp_sip_peer_init (&none, kind, "", 0);
  return client_start (layer, request, &none, TRUE, TRUE, func, user_data);
}

void
sp_sip_client_transaction_start (SpSipClientTransaction *ct, const SpSipPeer *dest)
{
  if (ct->layer == NULL || !ct->deferred)
    return;
  ct->deferred = FALSE;
  ct->dest = *dest;
  client_first_transmit (ct);
}

void
sp_sip_client_transaction_fail (SpSipClientTransaction *ct, const char *detail)
{
  client_fail (ct, SP_SIP_FAILURE_TRANSPORT, detail);
}

gboolean
sp_sip_client_transaction_is_deferred (SpSipClientTransaction *ct)
{
  return ct->deferred && ct->layer != NULL;
}

static void
send_cancel (SpSipClientTransaction *ct)
{
  g_autoptr (SpSipMessage) cancel = NULL;

  ct->cancel_pending = FALSE;
  if (ct->cancel_sent)
    return;
  cancel = build_hop_request (ct->request, "CANCEL", sp_sip_message_get_header (ct->request, "To"));
  if (cancel == NULL)
    return;
  if (ct->cancel_reason != NULL)
    sp_sip_message_set_header (cancel, "Reason", ct->cancel_reason, NULL);
  ct->cancel_sent = TRUE;
  client_start (ct->layer, cancel, &ct->dest, FALSE, FALSE, ct->cancel_func, ct->cancel_data);
  /* 9.1: no final response 64*T1 after the CANCEL and the INVITE is
   * given up (a local 408), so a callee that ignores CANCEL cannot keep
   * the transaction, and whatever waits on it, forever. */
  if (ct->layer != NULL && ct->state == SP_SIP_TRANSACTION_PROCEEDING)
    {
      cancel_timer (ct->layer, &ct->timer_timeout);
      ct->timer_timeout = sp_sip_clock_add_timeout (ct->layer->clock, 64 * ct->layer->timers.t1,
                                                    client_timer_timeout, ct);
    }
}

gboolean
sp_sip_client_transaction_cancel (SpSipClientTransaction *ct, SpSipResponseFunc func,
                                  gpointer user_data)
{
  if (!ct->invite || ct->layer == NULL || ct->cancel_sent || ct->cancel_pending)
    return FALSE;
  if (ct->state != SP_SIP_TRANSACTION_CALLING && ct->state != SP_SIP_TRANSACTION_PROCEEDING)
    return FALSE;
  ct->cancel_func = func;
  ct->cancel_data = user_data;
  if (ct->deferred)
    {
      /* Nothing went out yet: end it here as the far end would have. */
      client_end_locally (ct, 487, SP_SIP_FAILURE_NONE, "cancelled before it was sent");
      return TRUE;
    }
  if (ct->got_provisional)
    send_cancel (ct);
  else
    ct->cancel_pending = TRUE; /* 9.1: wait for a provisional response */
  return TRUE;
}

/* ---- server transactions ---- */

SpSipServerTransaction *
sp_sip_server_transaction_ref (SpSipServerTransaction *st)
{
  st->ref_count++;
  return st;
}

void
sp_sip_server_transaction_unref (SpSipServerTransaction *st)
{
  if (st == NULL || --st->ref_count > 0)
    return;
  sp_sip_message_unref (st->request);
  if (st->last_response)
    sp_sip_message_unref (st->last_response);
  g_free (st->key);
  g_free (st->source_key);
  g_free (st->merge_key);
  g_free (st->to_tag);
  g_free (st->cancel_reason);
  g_free (st);
}

void
sp_sip_server_transaction_set_event_func (SpSipServerTransaction *st, SpSipServerEventFunc func,
                                          gpointer user_data)
{
  st->event_func = func;
  st->event_data = user_data;
}

SpSipTransactionState
sp_sip_server_transaction_get_state (SpSipServerTransaction *st)
{
  return st->state;
}

SpSipMessage *
sp_sip_server_transaction_get_request (SpSipServerTransaction *st)
{
  return st->request;
}

const SpSipPeer *
sp_sip_server_transaction_get_source (SpSipServerTransaction *st)
{
  return &st->source;
}

const char *
sp_sip_server_transaction_get_cancel_reason (SpSipServerTransaction *st)
{
  return st->cancel_reason;
}

void
sp_sip_client_transaction_set_cancel_reason (SpSipClientTransaction *ct, const char *reason)
{
  g_free (ct->cancel_reason);
  ct->cancel_reason = g_strdup (reason);
}

const char *
sp_sip_server_transaction_get_to_tag (SpSipServerTransaction *st)
{
  return st->to_tag;
}

void
sp_sip_server_transaction_set_to_tag (SpSipServerTransaction *st, const char *tag)
{
  g_free (st->to_tag);
  st->to_tag = g_strdup (tag);
}

SpSipMessage *
sp_sip_server_transaction_new_response (SpSipServerTransaction *st, guint status,
                                        const char *reason)
{
  return sp_sip_message_new_response_to (st->request, status, reason,
                                         status == 100 ? NULL : st->to_tag);
}

static void
server_event (SpSipServerTransaction *st, SpSipServerEvent event)
{
  if (st->event_func)
    st->event_func (st, event, st->event_data);
}

static void
uncount_source (SpSipTransactionLayer *layer, SpSipServerTransaction *st)
{
  guint n;

  g_autofree char *key = g_steal_pointer (&st->source_key);

  if (key == NULL)
    return;
  n = GPOINTER_TO_UINT (g_hash_table_lookup (layer->per_source, key));
  if (n <= 1)
    g_hash_table_remove (layer->per_source, key);
  else
    g_hash_table_insert (layer->per_source, g_strdup (key), GUINT_TO_POINTER (n - 1));
}

static void
server_terminate (SpSipServerTransaction *st)
{
  SpSipTransactionLayer *layer = st->layer;

  if (layer == NULL)
    return;
  cancel_timer (layer, &st->timer_retransmit);
  cancel_timer (layer, &st->timer_timeout);
  cancel_timer (layer, &st->timer_end);
  cancel_timer (layer, &st->timer_trying);
  st->state = SP_SIP_TRANSACTION_TERMINATED;
  st->layer = NULL;
  uncount_source (layer, st);
  if (st->merge_key && g_hash_table_lookup (layer->merge_index, st->merge_key) == st)
    g_hash_table_remove (layer->merge_index, st->merge_key);
  if (g_hash_table_lookup (layer->servers, st->key) == st)
    g_hash_table_remove (layer->servers, st->key); /* drops the table's ref */
}

void
sp_sip_server_transaction_drop (SpSipServerTransaction *st)
{
  g_return_if_fail (st != NULL);
  server_terminate (st);
}

static gboolean
server_transmit (SpSipServerTransaction *st, SpSipMessage *response, gboolean retransmission,
                 GError **error)
{
  if (!layer_send (st->layer, response, &st->source, NULL, error))
    {
      st->layer->stats.transport_errors++;
      return FALSE;
    }
  if (retransmission)
    st->layer->stats.retransmissions_sent++;
  return TRUE;
}

static void
server_timer_trying (gpointer data)
{
  SpSipServerTransaction *st = data;

  st->timer_trying = 0;
  if (st->layer && st->state == SP_SIP_TRANSACTION_PROCEEDING && st->last_response == NULL)
    sp_sip_server_transaction_reply (st, 100, NULL);
}

static void
server_timer_end (gpointer data)
{
  SpSipServerTransaction *st = data;

  /* I, J or L. */
  st->timer_end = 0;
  server_terminate (st);
}

static void
server_timer_timeout (gpointer data)
{
  SpSipServerTransaction *st = data;
  G_GNUC_UNUSED g_autoptr (SpSipServerTransaction) hold = sp_sip_server_transaction_ref (st);

  /* H: the ACK never came. */
  st->timer_timeout = 0;
  st->layer->stats.timeouts++;
  server_terminate (st);
  server_event (st, SP_SIP_SERVER_EVENT_TIMEOUT);
}

static void
server_timer_retransmit (gpointer data)
{
  SpSipServerTransaction *st = data;
  const SpSipTimerSettings *t = &st->layer->timers;
  g_autoptr (GError) error = NULL;

  /* G */
  st->timer_retransmit = 0;
  if (!server_transmit (st, st->last_response, TRUE, &error))
    g_debug ("response retransmission failed: %s", error->message);
  st->interval = MIN (st->interval * 2, t->t2);
  st->timer_retransmit =
      sp_sip_clock_add_timeout (st->layer->clock, st->interval, server_timer_retransmit, st);
}

static gboolean
server_invite_respond (SpSipServerTransaction *st, SpSipMessage *response, guint status,
                       GError **error)
{
  SpSipTransactionLayer *layer = st->layer;
  const SpSipTimerSettings *t = &layer->timers;

  if (st->state == SP_SIP_TRANSACTION_ACCEPTED && status >= 200 && status < 300)
    return server_transmit (st, response, FALSE, error);
  if (st->state != SP_SIP_TRANSACTION_PROCEEDING)
    {
      g_set_error (error, SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST,
                   "INVITE transaction in state %s cannot send %u",
                   sp_sip_transaction_state_to_string (st->state), status);
      return FALSE;
    }
  if (!server_transmit (st, response, FALSE, error))
    {
      G_GNUC_UNUSED g_autoptr (SpSipServerTransaction) hold = sp_sip_server_transaction_ref (st);
      server_terminate (st);
      server_event (st, SP_SIP_SERVER_EVENT_TRANSPORT_ERROR);
      return FALSE;
    }
  if (status >= 200 && status < 300)
    {
      st->state = SP_SIP_TRANSACTION_ACCEPTED;
      st->timer_end = sp_sip_clock_add_timeout (layer->clock, 64 * t->t1, server_timer_end, st);
    }
  else if (status >= 300)
    {
      st->state = SP_SIP_TRANSACTION_COMPLETED;
      st->interval = t->t1;
      if (!st->reliable)
        st->timer_retransmit =
            sp_sip_clock_add_timeout (layer->clock, st->interval, server_timer_retransmit, st);
      st->timer_timeout =
          sp_sip_clock_add_timeout (layer->clock, 64 * t->t1, server_timer_timeout, st);
    }
  return TRUE;
}

static gboolean
server_non_invite_respond (SpSipServerTransaction *st, SpSipMessage *response, guint status,
                           GError **error)
{
  SpSipTransactionLayer *layer = st->layer;

  if (st->state != SP_SIP_TRANSACTION_TRYING && st->state != SP_SIP_TRANSACTION_PROCEEDING)
    {
      g_set_error (error, SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST,
                   "transaction in state %s cannot send %u",
                   sp_sip_transaction_state_to_string (st->state), status);
      return FALSE;
    }
  if (!server_transmit (st, response, FALSE, error))
    {
      G_GNUC_UNUSED g_autoptr (SpSipServerTransaction) hold = sp_sip_server_transaction_ref (st);
      server_terminate (st);
      server_event (st, SP_SIP_SERVER_EVENT_TRANSPORT_ERROR);
      return FALSE;
    }
  if (status < 200)
    st->state = SP_SIP_TRANSACTION_PROCEEDING;
  else
    {
      st->state = SP_SIP_TRANSACTION_COMPLETED;
      st->timer_end = sp_sip_clock_add_timeout (
          layer->clock, st->reliable ? 0 : 64 * layer->timers.t1, server_timer_end, st);
    }
  return TRUE;
}

gboolean
sp_sip_server_transaction_respond (SpSipServerTransaction *st, SpSipMessage *response,
                                   GError **error)
{
  guint status = sp_sip_message_get_status (response);
  SpSipMessage *old;

  if (st->layer == NULL)
    {
      g_set_error_literal (error, SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST, "transaction terminated");
      return FALSE;
    }
  if (status < 100 || status > 699 || sp_sip_message_is_request (response))
    {
      g_set_error_literal (error, SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST, "not a response");
      return FALSE;
    }
  cancel_timer (st->layer, &st->timer_trying);
  old = st->last_response;
  st->last_response = sp_sip_message_ref (response);
  if (old)
    sp_sip_message_unref (old);
  if (st->invite)
    return server_invite_respond (st, response, status, error);
  return server_non_invite_respond (st, response, status, error);
}

gboolean
sp_sip_server_transaction_reply (SpSipServerTransaction *st, guint status, const char *reason)
{
  g_autoptr (SpSipMessage) response = sp_sip_server_transaction_new_response (st, status, reason);
  g_autoptr (GError) error = NULL;

  if (response == NULL)
    return FALSE;
  if (!sp_sip_server_transaction_respond (st, response, &error))
    {
      g_debug ("reply %u failed: %s", status, error->message);
      return FALSE;
    }
  return TRUE;
}

static char *
merge_key_of (const SpSipMessage *request)
{
  const char *method = NULL;
  guint32 cseq = sp_sip_message_get_cseq (request, &method);

  char num[SP_SIP_UINT_BUF];

  return g_strconcat (sp_sip_or_empty (sp_sip_message_get_call_id (request)), "|",
                      sp_sip_or_empty (from_tag_of (request)), "|", sp_sip_uint_to_text (num, cseq),
                      "|", sp_sip_or_empty (method), NULL);
}

static SpSipServerTransaction *
server_new (SpSipTransactionLayer *layer, SpSipMessage *request, const SpSipPeer *source, char *key,
            gboolean rfc2543)
{
  SpSipServerTransaction *st = g_new0 (SpSipServerTransaction, 1);
  const char *tag = to_tag_of (request);

  st->ref_count = 1; /* the table's */
  st->layer = layer;
  st->request = sp_sip_message_ref (request);
  st->source = *source;
  st->reliable = sp_sip_transport_kind_is_stream (source->kind);
  st->key = key;
  st->rfc2543 = rfc2543;
  st->invite = sp_sip_message_get_method_id (request) == SP_SIP_METHOD_INVITE;
  st->state = st->invite ? SP_SIP_TRANSACTION_PROCEEDING : SP_SIP_TRANSACTION_TRYING;
  st->to_tag = tag ? g_strdup (tag) : sp_sip_random_token (12);
  {
    SpSipServerTransaction *old = g_hash_table_lookup (layer->servers, key);
    guint n;

    if (old != NULL)
      uncount_source (layer, old);
    st->source_key = sp_sip_source_key (source->host);
    n = GPOINTER_TO_UINT (g_hash_table_lookup (layer->per_source, st->source_key));
    g_hash_table_insert (layer->per_source, g_strdup (st->source_key), GUINT_TO_POINTER (n + 1));
  }
  g_hash_table_replace (layer->servers, g_strdup (key), st);
  if (tag == NULL)
    {
      st->merge_key = merge_key_of (request);
      if (!g_hash_table_contains (layer->merge_index, st->merge_key))
        g_hash_table_insert (layer->merge_index, g_strdup (st->merge_key), st);
    }
  layer->stats.server_created++;
  return st;
}

/* A request that matched @st: a retransmission, or the ACK of a non-2xx. */
static void
server_on_request (SpSipServerTransaction *st, SpSipMessage *request, const SpSipPeer *source)
{
  SpSipTransactionLayer *layer = st->layer;
  gboolean ack = sp_sip_message_get_method_id (request) == SP_SIP_METHOD_ACK;
  g_autoptr (GError) error = NULL;

  if (ack && st->invite)
    {
      if (st->state == SP_SIP_TRANSACTION_COMPLETED)
        {
          cancel_timer (layer, &st->timer_retransmit);
          cancel_timer (layer, &st->timer_timeout);
          st->state = SP_SIP_TRANSACTION_CONFIRMED;
          st->timer_end = sp_sip_clock_add_timeout (
              layer->clock, st->reliable ? 0 : layer->timers.t4, server_timer_end, st);
        }
      else if (st->state == SP_SIP_TRANSACTION_ACCEPTED && layer->funcs.request)
        layer->funcs.request (layer, NULL, request, source, layer->user_data); /* RFC 6026 */
      else
        layer->stats.retransmissions_absorbed++;
      return;
    }
  if (ack)
    return;
  layer->stats.retransmissions_absorbed++;
  switch (st->state)
    {
      case SP_SIP_TRANSACTION_PROCEEDING:
      case SP_SIP_TRANSACTION_COMPLETED:
        if (st->last_response)
          server_transmit (st, st->last_response, TRUE, &error);
        else if (st->invite)
          {
            /* The client is retransmitting: no need to wait any longer. */
            cancel_timer (layer, &st->timer_trying);
            sp_sip_server_transaction_reply (st, 100, NULL);
          }
        break;
      default:
        break; /* Trying, Accepted, Confirmed: absorb */
    }
}

/* 17.2.3 for RFC 2543 requests: the key matched, now the rest. */
static gboolean
rfc2543_matches (SpSipServerTransaction *st, SpSipMessage *request)
{
  const char *tag = to_tag_of (request);

  if (!sp_sip_message_is_request (request))
    return TRUE; /* a response we failed to send: same Via and CSeq is enough */
  if (!sp_sip_uri_equal (sp_sip_message_get_request_uri (st->request),
                         sp_sip_message_get_request_uri (request)))
    return FALSE;
  if (sp_sip_message_get_method_id (request) == SP_SIP_METHOD_ACK && st->invite)
    return g_strcmp0 (tag, st->to_tag) == 0 || g_strcmp0 (tag, to_tag_of (st->request)) == 0;
  return g_strcmp0 (tag, to_tag_of (st->request)) == 0;
}

static SpSipServerTransaction *
server_lookup (SpSipTransactionLayer *layer, SpSipMessage *request, const char *method)
{
  gboolean rfc2543 = FALSE;
  g_autofree char *key = server_key (request, method, &rfc2543);
  SpSipServerTransaction *st;

  if (key == NULL)
    return NULL;
  st = g_hash_table_lookup (layer->servers, key);
  if (st && rfc2543 && !rfc2543_matches (st, request))
    return NULL;
  return st;
}

static SpSipServerTransaction *
server_create (SpSipTransactionLayer *layer, SpSipMessage *request, const SpSipPeer *source)
{
  gboolean rfc2543 = FALSE;
  char *key = server_key (request, sp_sip_message_get_method (request), &rfc2543);

  if (key == NULL)
    return NULL;
  return server_new (layer, request, source, key, rfc2543);
}

static void
handle_cancel (SpSipTransactionLayer *layer, SpSipMessage *cancel, const SpSipPeer *source)
{
  SpSipServerTransaction *invite = server_lookup (layer, cancel, "INVITE");
  SpSipServerTransaction *st = server_create (layer, cancel, source);

  if (st == NULL)
    return;
  if (invite == NULL || !invite->invite)
    {
      layer->stats.cancel_481++;
      sp_sip_server_transaction_reply (st, 481, NULL);
      return;
    }
  /* 9.2: the CANCEL's To tag must be the INVITE's response tag. */
  sp_sip_server_transaction_set_to_tag (st, invite->to_tag);
  sp_sip_server_transaction_reply (st, 200, NULL);
  if (invite->state == SP_SIP_TRANSACTION_PROCEEDING)
    {
      G_GNUC_UNUSED g_autoptr (SpSipServerTransaction) hold =
          sp_sip_server_transaction_ref (invite);
      const char *reason = sp_sip_message_get_header (cancel, "Reason");

      /* Kept for the TU (RFC 3326: "answered elsewhere"), bounded: it is
       * the network's text. */
      if (reason != NULL && strlen (reason) <= SP_SIP_MAX_CANCEL_REASON)
        invite->cancel_reason = g_strdup (reason);
      sp_sip_server_transaction_reply (invite, 487, NULL);
      server_event (invite, SP_SIP_SERVER_EVENT_CANCELLED);
    }
}

/* A request that passed through us before (one of our branches below the
 * top Via) has looped. */
static gboolean
is_looped (SpSipTransactionLayer *layer, SpSipMessage *request)
{
  const GPtrArray *vias = sp_sip_message_get_vias (request);
  const char *method = sp_sip_message_get_method (request);

  for (guint i = 1; vias && i < vias->len; i++)
    {
      const SpSipVia *via = g_ptr_array_index (vias, i);
      g_autofree char *key = NULL;
      if (via->branch == NULL)
        continue;
      key = client_key (via->branch, method);
      if (g_hash_table_contains (layer->clients, key))
        return TRUE;
    }
  return FALSE;
}

/* Whether one more server transaction from @source would pass a cap:
 * each keeps its request (up to 64 KiB) for up to 32 s, so a stranger
 * could otherwise fill memory with requests nobody answers. */
static gboolean
over_limits (SpSipTransactionLayer *layer, const SpSipPeer *source)
{
  g_autofree char *key = NULL;
  guint from_source;

  if (layer->max_server > 0 && g_hash_table_size (layer->servers) >= layer->max_server)
    return TRUE;
  if (layer->max_server_per_source == 0)
    return FALSE;
  key = sp_sip_source_key (source->host);
  from_source = GPOINTER_TO_UINT (g_hash_table_lookup (layer->per_source, key));
  return layer->max_server_per_source > 0 && from_source >= layer->max_server_per_source;
}

/* 503 with Retry-After, sent once and forgotten (nothing retransmits
 * it, nothing waits for an ACK). */
static void
reject_overload (SpSipTransactionLayer *layer, SpSipMessage *request, const SpSipPeer *source)
{
  g_autoptr (SpSipMessage) response = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *tag = sp_sip_random_token (12);
  char retry[SP_SIP_UINT_BUF];

  layer->stats.overload_503++;
  if (sp_sip_message_get_via (request) == NULL)
    return;
  response = sp_sip_message_new_response_to (request, 503, "Too Many Transactions",
                                             to_tag_of (request) ? NULL : tag);
  if (response == NULL)
    return;
  sp_sip_message_set_header (response, "Retry-After",
                             sp_sip_uint_to_text (retry, SP_SIP_OVERLOAD_RETRY_AFTER_S), NULL);
  if (!layer_send (layer, response, source, NULL, &error))
    g_debug ("503 not sent: %s", error->message);
}

static void
receive_request (SpSipTransactionLayer *layer, SpSipMessage *request, const SpSipPeer *source)
{
  SpSipMethod method = sp_sip_message_get_method_id (request);
  SpSipServerTransaction *st = server_lookup (layer, request, sp_sip_message_get_method (request));
  g_autoptr (GError) error = NULL;

  if (st != NULL)
    {
      G_GNUC_UNUSED g_autoptr (SpSipServerTransaction) hold = sp_sip_server_transaction_ref (st);
      server_on_request (st, request, source);
      return;
    }
  if (method == SP_SIP_METHOD_ACK)
    {
      if (layer->funcs.request)
        layer->funcs.request (layer, NULL, request, source, layer->user_data);
      return;
    }
  if (method == SP_SIP_METHOD_CANCEL && sp_sip_message_check_request (request, NULL))
    {
      handle_cancel (layer, request, source);
      return;
    }

  if (over_limits (layer, source))
    {
      reject_overload (layer, request, source);
      return;
    }
  if (!sp_sip_message_check_request (request, &error))
    {
      st = server_create (layer, request, source);
      if (st)
        sp_sip_server_transaction_reply (st, sp_sip_error_to_status (error), error->message);
      return;
    }
  if (to_tag_of (request) == NULL)
    {
      g_autofree char *mkey = merge_key_of (request);
      if (g_hash_table_contains (layer->merge_index, mkey))
        {
          layer->stats.merged_482++;
          st = server_create (layer, request, source);
          if (st)
            sp_sip_server_transaction_reply (st, 482, "Loop Detected (merged request)");
          return;
        }
    }
  if (is_looped (layer, request))
    {
      layer->stats.loops_482++;
      st = server_create (layer, request, source);
      if (st)
        sp_sip_server_transaction_reply (st, 482, NULL);
      return;
    }

  st = server_create (layer, request, source);
  if (st == NULL)
    return;
  {
    G_GNUC_UNUSED g_autoptr (SpSipServerTransaction) hold = sp_sip_server_transaction_ref (st);
    if (layer->funcs.request)
      layer->funcs.request (layer, st, request, source, layer->user_data);
    /* 17.2.1: 100 Trying when the TU has not answered within 200 ms. */
    if (st->invite && st->layer && st->last_response == NULL)
      st->timer_trying =
          sp_sip_clock_add_timeout (layer->clock, TRYING_DELAY_MS, server_timer_trying, st);
  }
}

static SpSipClientTransaction *
client_lookup (SpSipTransactionLayer *layer, SpSipMessage *msg)
{
  const SpSipVia *via = sp_sip_message_get_via (msg);
  const char *method = NULL;
  g_autofree char *key = NULL;

  sp_sip_message_get_cseq (msg, &method);
  if (via == NULL || via->branch == NULL || method == NULL)
    return NULL;
  key = client_key (via->branch, method);
  return g_hash_table_lookup (layer->clients, key);
}

void
sp_sip_transaction_layer_receive (SpSipTransactionLayer *layer, SpSipMessage *msg,
                                  const SpSipPeer *source)
{
  SpSipClientTransaction *ct;

  if (sp_sip_message_is_request (msg))
    {
      receive_request (layer, msg, source);
      return;
    }
  ct = client_lookup (layer, msg);
  if (ct == NULL)
    {
      layer->stats.stray_responses++;
      if (layer->funcs.stray_response)
        layer->funcs.stray_response (layer, msg, source, layer->user_data);
      return;
    }
  client_on_response (ct, msg);
}

void
sp_sip_transaction_layer_transport_error (SpSipTransactionLayer *layer, SpSipMessage *msg,
                                          const GError *error)
{
  if (sp_sip_message_is_request (msg))
    {
      SpSipClientTransaction *ct = client_lookup (layer, msg);
      if (ct != NULL && ct->request == msg)
        client_fail (ct, SP_SIP_FAILURE_TRANSPORT, error ? error->message : NULL);
    }
  else
    {
      const char *method = NULL;
      SpSipServerTransaction *st;

      sp_sip_message_get_cseq (msg, &method);
      st = method ? server_lookup (layer, msg, method) : NULL;
      if (st != NULL)
        {
          G_GNUC_UNUSED g_autoptr (SpSipServerTransaction) hold =
              sp_sip_server_transaction_ref (st);
          layer->stats.transport_errors++;
          server_terminate (st);
          server_event (st, SP_SIP_SERVER_EVENT_TRANSPORT_ERROR);
        }
    }
}
