/* Transaction state machines, matching and dialogs on a fake clock. */
#include <string.h>

#include "sip/clock.h"
#include "sip/dialog.h"
#include "sip/transaction.h"

#define T1 100
#define T2 400
#define T4 500

typedef struct
{
  SpSipClock *clock;
  SpSipTransactionLayer *layer;
  GPtrArray *sent;      /* SpSipMessage */
  GArray *sent_at;      /* gint64, clock time of each send */
  GPtrArray *responses; /* delivered to the client TU */
  GPtrArray *requests;  /* new requests handed to the server TU */
  GPtrArray *server_txns;
  GPtrArray *strays;
  GArray *events;
  gboolean fail_sends;
  SpSipTransportKind kind;
} Fixture;

static gboolean
fake_send (SpSipMessage *msg, const SpSipPeer *dest, SpSipTransportKind *used, gpointer user_data,
           GError **error)
{
  Fixture *f = user_data;
  gint64 now = sp_sip_clock_now (f->clock);

  if (f->fail_sends)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED, "refused");
      return FALSE;
    }
  *used = dest ? dest->kind : f->kind;
  g_ptr_array_add (f->sent, sp_sip_message_ref (msg));
  g_array_append_val (f->sent_at, now);
  return TRUE;
}

static void
on_request (SpSipTransactionLayer *layer, SpSipServerTransaction *st, SpSipMessage *request,
            const SpSipPeer *source, gpointer user_data)
{
  Fixture *f = user_data;

  g_ptr_array_add (f->requests, sp_sip_message_ref (request));
  if (st)
    g_ptr_array_add (f->server_txns, sp_sip_server_transaction_ref (st));
}

static void
on_stray (SpSipTransactionLayer *layer, SpSipMessage *response, const SpSipPeer *source,
          gpointer user_data)
{
  Fixture *f = user_data;
  g_ptr_array_add (f->strays, sp_sip_message_ref (response));
}

static void
on_response (SpSipClientTransaction *ct, SpSipMessage *response, gpointer user_data)
{
  Fixture *f = user_data;
  g_ptr_array_add (f->responses, sp_sip_message_ref (response));
}

static void
on_event (SpSipServerTransaction *st, SpSipServerEvent event, gpointer user_data)
{
  Fixture *f = user_data;
  g_array_append_val (f->events, event);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  SpSipTimerSettings timers = { .t1 = T1, .t2 = T2, .t4 = T4, .timer_d = 32000 };
  SpSipTransactionFuncs funcs = { fake_send, on_request, on_stray };

  f->clock = sp_sip_clock_new_fake ();
  f->layer = sp_sip_transaction_layer_new (f->clock, &timers, &funcs, f);
  f->sent = g_ptr_array_new_with_free_func ((GDestroyNotify) sp_sip_message_unref);
  f->sent_at = g_array_new (FALSE, FALSE, sizeof (gint64));
  f->responses = g_ptr_array_new_with_free_func ((GDestroyNotify) sp_sip_message_unref);
  f->requests = g_ptr_array_new_with_free_func ((GDestroyNotify) sp_sip_message_unref);
  f->strays = g_ptr_array_new_with_free_func ((GDestroyNotify) sp_sip_message_unref);
  f->server_txns =
      g_ptr_array_new_with_free_func ((GDestroyNotify) sp_sip_server_transaction_unref);
  f->events = g_array_new (FALSE, FALSE, sizeof (SpSipServerEvent));
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_ptr_array_unref (f->server_txns);
  sp_sip_transaction_layer_free (f->layer);
  sp_sip_clock_unref (f->clock);
  g_ptr_array_unref (f->sent);
  g_array_unref (f->sent_at);
  g_ptr_array_unref (f->responses);
  g_ptr_array_unref (f->requests);
  g_ptr_array_unref (f->strays);
  g_array_unref (f->events);
}

static SpSipMessage *
parse (const char *text)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *wire = NULL;
  SpSipMessage *msg;
  GString *s = g_string_new (NULL);

  /* Test texts use \n; the wire wants CRLF. */
  for (const char *p = text; *p; p++)
    {
      if (*p == '\n')
        g_string_append (s, "\r\n");
      else
        g_string_append_c (s, *p);
    }
  wire = g_string_free (s, FALSE);
  msg = sp_sip_message_parse ((const guint8 *) wire, strlen (wire), SP_SIP_FRAMING_DATAGRAM, NULL,
                              &error);
  g_assert_no_error (error);
  g_assert_nonnull (msg);
  return msg;
}

/* A request as a client TU hands it to the layer (no Via yet). */
static SpSipMessage *
client_request (const char *method)
{
  g_autofree char *text = g_strdup_printf ("%s sip:bob@127.0.0.2 SIP/2.0\n"
                                           "Max-Forwards: 70\n"
                                           "From: <sip:alice@127.0.0.1>;tag=a1\n"
                                           "To: <sip:bob@127.0.0.2>\n"
                                           "Call-ID: call-1@127.0.0.1\n"
                                           "CSeq: 7 %s\n"
                                           "Contact: <sip:alice@127.0.0.1>\n"
                                           "Route: <sip:127.0.0.9;lr>\n"
                                           "Content-Length: 0\n\n",
                                           method, method);
  return parse (text);
}

/* A response to @request (as sent), with an optional To tag. */
static SpSipMessage *
response_to (SpSipMessage *request, guint status, const char *tag)
{
  SpSipMessage *resp = sp_sip_message_new_response_to (request, status, NULL, tag);
  if (status > 100 && status < 300 &&
      sp_sip_message_get_method_id (request) == SP_SIP_METHOD_INVITE)
    sp_sip_message_add_header (resp, "Contact", "<sip:bob@127.0.0.2:5070>", NULL);
  /* Round trip through the wire form, as the transport would. */
  {
    g_autoptr (GBytes) bytes = sp_sip_message_serialize (resp);
    gsize len;
    const guint8 *data = g_bytes_get_data (bytes, &len);
    SpSipMessage *parsed = sp_sip_message_parse (data, len, SP_SIP_FRAMING_DATAGRAM, NULL, NULL);
    g_assert_nonnull (parsed);
    sp_sip_message_unref (resp);
    return parsed;
  }
}

static void
peer (SpSipPeer *p, SpSipTransportKind kind)
{
  sp_sip_peer_init (p, kind, "127.0.0.2", 5060);
}

static SpSipMessage *
last_sent (Fixture *f)
{
  g_assert_cmpuint (f->sent->len, >, 0);
  return g_ptr_array_index (f->sent, f->sent->len - 1);
}

static gint64
sent_time (Fixture *f, guint i)
{
  return g_array_index (f->sent_at, gint64, i);
}

/* ---- fake clock ---- */

static int order[4];
static int n_order;

static void
record (gpointer data)
{
  order[n_order++] = GPOINTER_TO_INT (data);
}

static void
test_fake_clock (void)
{
  g_autoptr (SpSipClock) clock = sp_sip_clock_new_fake ();
  guint id;

  n_order = 0;
  sp_sip_clock_add_timeout (clock, 30, record, GINT_TO_POINTER (3));
  sp_sip_clock_add_timeout (clock, 10, record, GINT_TO_POINTER (1));
  id = sp_sip_clock_add_timeout (clock, 20, record, GINT_TO_POINTER (2));
  g_assert_cmpint (sp_sip_clock_next_due (clock), ==, 10);
  sp_sip_clock_cancel (clock, id);
  sp_sip_clock_advance (clock, 9);
  g_assert_cmpint (n_order, ==, 0);
  sp_sip_clock_advance (clock, 100);
  g_assert_cmpint (n_order, ==, 2);
  g_assert_cmpint (order[0], ==, 1);
  g_assert_cmpint (order[1], ==, 3);
  g_assert_cmpint (sp_sip_clock_now (clock), ==, 109);
  g_assert_cmpint (sp_sip_clock_next_due (clock), ==, -1);
}

/* ---- INVITE client ---- */

static void
test_invite_client_timer_a_b (Fixture *f, gconstpointer data)
{
  g_autoptr (SpSipMessage) invite = client_request ("INVITE");
  SpSipPeer dest;
  SpSipClientTransaction *ct;
  const gint64 expected[] = { 0, 100, 300, 700, 1500, 3100, 6300 };

  peer (&dest, SP_SIP_TRANSPORT_UDP);
  ct = sp_sip_client_transaction_new (f->layer, invite, &dest, on_response, f);
  g_assert_nonnull (ct);
  g_assert_true (g_str_has_prefix (sp_sip_client_transaction_get_branch (ct), "z9hG4bK"));
  g_assert_cmpint (sp_sip_client_transaction_get_state (ct), ==, SP_SIP_TRANSACTION_CALLING);
  sp_sip_clock_advance (f->clock, 6399);
  /* Timer A doubles each time (17.1.1.2); it is not capped at T2. */
  g_assert_cmpuint (f->sent->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_cmpint (sent_time (f, i), ==, expected[i]);
  g_assert_cmpuint (f->responses->len, ==, 0);
  /* Timer B = 64*T1 */
  sp_sip_clock_advance (f->clock, 1);
  g_assert_cmpuint (f->responses->len, ==, 1);
  g_assert_cmpuint (sp_sip_message_get_status (g_ptr_array_index (f->responses, 0)), ==, 408);
  g_assert_cmpuint (sp_sip_transaction_layer_get_n_client (f->layer), ==, 0);
  g_assert_cmpuint (sp_sip_clock_get_n_pending (f->clock), ==, 0);
}

static void
test_invite_client_non_2xx (Fixture *f, gconstpointer data)
{
  g_autoptr (SpSipMessage) invite = client_request ("INVITE");
  g_autoptr (SpSipMessage) ringing = NULL;
  g_autoptr (SpSipMessage) busy = NULL;
  g_autoptr (SpSipClientTransaction) ct = NULL;
  SpSipMessage *ack;
  const SpSipVia *via;
  const char *method;
  SpSipPeer dest;

  peer (&dest, SP_SIP_TRANSPORT_UDP);
  ct = sp_sip_client_transaction_ref (
      sp_sip_client_transaction_new (f->layer, invite, &dest, on_response, f));
  ringing = response_to (invite, 180, "b1");
  sp_sip_transaction_layer_receive (f->layer, ringing, &dest);
  g_assert_cmpint (sp_sip_client_transaction_get_state (ct), ==, SP_SIP_TRANSACTION_PROCEEDING);
  g_assert_cmpuint (f->responses->len, ==, 1);
  /* No more retransmissions in Proceeding, and no timer B. */
  sp_sip_clock_advance (f->clock, 10000);
  g_assert_cmpuint (f->sent->len, ==, 1);
  g_assert_cmpint (sp_sip_client_transaction_get_state (ct), ==, SP_SIP_TRANSACTION_PROCEEDING);

  busy = response_to (invite, 486, "b1");
  sp_sip_transaction_layer_receive (f->layer, busy, &dest);
  g_assert_cmpint (sp_sip_client_transaction_get_state (ct), ==, SP_SIP_TRANSACTION_COMPLETED);
  g_assert_cmpuint (f->responses->len, ==, 2);
  g_assert_cmpuint (f->sent->len, ==, 2);
  ack = last_sent (f);
  g_assert_cmpstr (sp_sip_message_get_method (ack), ==, "ACK");
  g_assert_cmpuint (sp_sip_message_get_cseq (ack, &method), ==, 7);
  g_assert_cmpstr (method, ==, "ACK");
  via = sp_sip_message_get_via (ack);
  g_assert_cmpstr (via->branch, ==, sp_sip_client_transaction_get_branch (ct));
  g_assert_cmpuint (sp_sip_message_get_vias (ack)->len, ==, 1);
  g_assert_cmpstr (sp_sip_name_addr_get_tag (sp_sip_message_get_to (ack)), ==, "b1");
  g_assert_cmpstr (sp_sip_message_get_header (ack, "Route"), ==, "<sip:127.0.0.9;lr>");
  g_assert_true (sp_sip_uri_equal (sp_sip_message_get_request_uri (ack),
                                   sp_sip_message_get_request_uri (invite)));
  /* Timer D = 32 s over UDP. */
  g_assert_cmpint (sp_sip_clock_next_due (f->clock), ==, 32000);
  /* A retransmitted 486 is ACKed again but not passed up. */
  sp_sip_transaction_layer_receive (f->layer, busy, &dest);
  g_assert_cmpuint (f->sent->len, ==, 3);
  g_assert_cmpuint (f->responses->len, ==, 2);
  sp_sip_clock_advance (f->clock, 32000);
  g_assert_cmpint (sp_sip_client_transaction_get_state (ct), ==, SP_SIP_TRANSACTION_TERMINATED);
}

static void
test_invite_client_reliable (Fixture *f, gconstpointer data)
{
  g_autoptr (SpSipMessage) invite = client_request ("INVITE");
  g_autoptr (SpSipMessage) busy = NULL;
  g_autoptr (SpSipClientTransaction) ct = NULL;
  SpSipPeer dest;

  peer (&dest, SP_SIP_TRANSPORT_TCP);
  ct = sp_sip_client_transaction_ref (
      sp_sip_client_transaction_new (f->layer, invite, &dest, on_response, f));
  /* Over TCP only timer B runs. */
  g_assert_cmpuint (sp_sip_clock_get_n_pending (f->clock), ==, 1);
  g_assert_cmpint (sp_sip_clock_next_due (f->clock), ==, 64 * T1);
  busy = response_to (invite, 603, "b1");
  sp_sip_transaction_layer_receive (f->layer, busy, &dest);
  /* Timer D = 0 for reliable transports. */
  g_assert_cmpint (sp_sip_clock_next_due (f->clock), ==, 0);
  sp_sip_clock_advance (f->clock, 0);
  g_assert_cmpint (sp_sip_client_transaction_get_state (ct), ==, SP_SIP_TRANSACTION_TERMINATED);
}

static void
test_invite_client_accepted (Fixture *f, gconstpointer data)
{
  g_autoptr (SpSipMessage) invite = client_request ("INVITE");
  g_autoptr (SpSipMessage) ok = NULL;
  g_autoptr (SpSipMessage) ok2 = NULL;
  g_autoptr (SpSipClientTransaction) ct = NULL;
  SpSipPeer dest;

  peer (&dest, SP_SIP_TRANSPORT_UDP);
  ct = sp_sip_client_transaction_ref (
      sp_sip_client_transaction_new (f->layer, invite, &dest, on_response, f));
  ok = response_to (invite, 200, "b1");
  sp_sip_transaction_layer_receive (f->layer, ok, &dest);
  g_assert_cmpint (sp_sip_client_transaction_get_state (ct), ==, SP_SIP_TRANSACTION_ACCEPTED);
  /* No ACK from the transaction for a 2xx: that is the core's. */
  g_assert_cmpuint (f->sent->len, ==, 1);
  /* Timer M = 64*T1; 2xx retransmissions and forks still reach the TU. */
  g_assert_cmpint (sp_sip_clock_next_due (f->clock), ==, 64 * T1);
  sp_sip_transaction_layer_receive (f->layer, ok, &dest);
  ok2 = response_to (invite, 200, "b2");
  sp_sip_transaction_layer_receive (f->layer, ok2, &dest);
  g_assert_cmpuint (f->responses->len, ==, 3);
  sp_sip_clock_advance (f->clock, 64 * T1);
  g_assert_cmpint (sp_sip_client_transaction_get_state (ct), ==, SP_SIP_TRANSACTION_TERMINATED);
  /* Afterwards a 2xx is stray: handed to the core to ACK again. */
  sp_sip_transaction_layer_receive (f->layer, ok, &dest);
  g_assert_cmpuint (f->strays->len, ==, 1);
}

static void
test_invite_client_transport_error (Fixture *f, gconstpointer data)
{
  g_autoptr (SpSipMessage) invite = client_request ("INVITE");
  g_autoptr (SpSipClientTransaction) ct = NULL;
  SpSipPeer dest;

  peer (&dest, SP_SIP_TRANSPORT_UDP);
  f->fail_sends = TRUE;
  ct = sp_sip_client_transaction_ref (
      sp_sip_client_transaction_new (f->layer, invite, &dest, on_response, f));
  /* Reported from the loop, not from inside new(). */
  g_assert_cmpuint (f->responses->len, ==, 0);
  sp_sip_clock_advance (f->clock, 0);
  g_assert_cmpuint (f->responses->len, ==, 1);
  g_assert_cmpuint (sp_sip_message_get_status (g_ptr_array_index (f->responses, 0)), ==, 503);
  g_assert_cmpint (sp_sip_client_transaction_get_failure (ct), ==, SP_SIP_FAILURE_TRANSPORT);
  g_assert_cmpint (sp_sip_client_transaction_get_state (ct), ==, SP_SIP_TRANSACTION_TERMINATED);
}

static void
test_invite_client_async_transport_error (Fixture *f, gconstpointer data)
{
  g_autoptr (SpSipMessage) invite = client_request ("INVITE");
  g_autoptr (GError) error =
      g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED, "refused");
  SpSipPeer dest;

  peer (&dest, SP_SIP_TRANSPORT_TCP);
  sp_sip_client_transaction_new (f->layer, invite, &dest, on_response, f);
  sp_sip_transaction_layer_transport_error (f->layer, invite, error);
  g_assert_cmpuint (f->responses->len, ==, 1);
  g_assert_cmpuint (sp_sip_message_get_status (g_ptr_array_index (f->responses, 0)), ==, 503);
  g_assert_cmpuint (sp_sip_transaction_layer_get_n_client (f->layer), ==, 0);
}

/* ---- non-INVITE client ---- */

static void
test_non_invite_client_timer_e_f (Fixture *f, gconstpointer data)
{
  g_autoptr (SpSipMessage) options = client_request ("OPTIONS");
  SpSipPeer dest;
  /* E: T1, 2T1, 4T1, then capped at T2 = 4T1. */
  const gint64 expected[] = { 0, 100, 300, 700, 1100, 1500, 1900 };

  peer (&dest, SP_SIP_TRANSPORT_UDP);
  sp_sip_client_transaction_new (f->layer, options, &dest, on_response, f);
  sp_sip_clock_advance (f->clock, 1900);
  g_assert_cmpuint (f->sent->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_cmpint (sent_time (f, i), ==, expected[i]);
  /* F = 64*T1 */
  sp_sip_clock_advance (f->clock, 64 * T1 - 1900 - 1);
  g_assert_cmpuint (f->responses->len, ==, 0);
  sp_sip_clock_advance (f->clock, 1);
  g_assert_cmpuint (f->responses->len, ==, 1);
  g_assert_cmpuint (sp_sip_message_get_status (g_ptr_array_index (f->responses, 0)), ==, 408);
}

static void
test_non_invite_client_proceeding (Fixture *f, gconstpointer data)
{
  g_autoptr (SpSipMessage) req = client_request ("INFO");
  g_autoptr (SpSipMessage) trying = NULL;
  g_autoptr (SpSipMessage) ok = NULL;
  g_autoptr (SpSipClientTransaction) ct = NULL;
  SpSipPeer dest;

  peer (&dest, SP_SIP_TRANSPORT_UDP);
  ct = sp_sip_client_transaction_ref (
      sp_sip_client_transaction_new (f->layer, req, &dest, on_response, f));
  trying = response_to (req, 100, NULL);
  sp_sip_transaction_layer_receive (f->layer, trying, &dest);
  g_assert_cmpint (sp_sip_client_transaction_get_state (ct), ==, SP_SIP_TRANSACTION_PROCEEDING);
  /* First E still at T1, after that T2 in Proceeding. */
  sp_sip_clock_advance (f->clock, 100 + 400 + 400);
  g_assert_cmpuint (f->sent->len, ==, 4);
  g_assert_cmpint (sent_time (f, 2), ==, 500);
  g_assert_cmpint (sent_time (f, 3), ==, 900);
  ok = response_to (req, 200, "b1");
  sp_sip_transaction_layer_receive (f->layer, ok, &dest);
  g_assert_cmpint (sp_sip_client_transaction_get_state (ct), ==, SP_SIP_TRANSACTION_COMPLETED);
  /* K = T4 */
  g_assert_cmpint (sp_sip_clock_next_due (f->clock), ==, T4);
  sp_sip_transaction_layer_receive (f->layer, ok, &dest);
  g_assert_cmpuint (f->responses->len, ==, 2);
  sp_sip_clock_advance (f->clock, T4);
  g_assert_cmpint (sp_sip_client_transaction_get_state (ct), ==, SP_SIP_TRANSACTION_TERMINATED);
}

/* ---- server side ---- */

static SpSipMessage *
server_request (const char *method, const char *branch, guint cseq, const char *to_tag)
{
  g_autofree char *via_branch = branch ? g_strdup_printf (";branch=%s", branch) : g_strdup ("");
  g_autofree char *tag = to_tag ? g_strdup_printf (";tag=%s", to_tag) : g_strdup ("");
  g_autofree char *text = g_strdup_printf ("%s sip:bob@127.0.0.1 SIP/2.0\n"
                                           "Via: SIP/2.0/UDP 127.0.0.2:5060%s\n"
                                           "Max-Forwards: 70\n"
                                           "From: <sip:alice@127.0.0.2>;tag=a1\n"
                                           "To: <sip:bob@127.0.0.1>%s\n"
                                           "Call-ID: srv-1@127.0.0.2\n"
                                           "CSeq: %u %s\n"
                                           "Contact: <sip:alice@127.0.0.2>\n"
                                           "Content-Length: 0\n\n",
                                           method, via_branch, tag, cseq, method);
  return parse (text);
}

static void
src (SpSipPeer *p)
{
  sp_sip_peer_init (p, SP_SIP_TRANSPORT_UDP, "127.0.0.2", 5060);
}

static SpSipServerTransaction *
server_txn (Fixture *f, guint i)
{
  g_assert_cmpuint (f->server_txns->len, >, i);
  return g_ptr_array_index (f->server_txns, i);
}

static void
test_invite_server_timers_g_h (Fixture *f, gconstpointer data)
{
  g_autoptr (SpSipMessage) invite = server_request ("INVITE", "z9hG4bKinv1", 1, NULL);
  SpSipServerTransaction *st;
  SpSipPeer source;
  /* 100 at 200 ms, the 486 right after it, then G: T1, 2T1, 4T1 = T2, T2. */
  const gint64 expected[] = { 200, 200, 300, 500, 900, 1300 };

  src (&source);
  sp_sip_transaction_layer_receive (f->layer, invite, &source);
  g_assert_cmpuint (f->requests->len, ==, 1);
  /* 100 Trying once the TU has been silent for 200 ms (17.2.1). */
  g_assert_cmpuint (f->sent->len, ==, 0);
  sp_sip_clock_advance (f->clock, 199);
  g_assert_cmpuint (f->sent->len, ==, 0);
  sp_sip_clock_advance (f->clock, 1);
  g_assert_cmpuint (f->sent->len, ==, 1);
  g_assert_cmpuint (sp_sip_message_get_status (last_sent (f)), ==, 100);
  g_assert_null (sp_sip_name_addr_get_tag (sp_sip_message_get_to (last_sent (f))));
  st = server_txn (f, 0);
  sp_sip_server_transaction_set_event_func (st, on_event, f);
  /* A retransmitted INVITE in Proceeding gets the 100 again. */
  sp_sip_transaction_layer_receive (f->layer, invite, &source);
  g_assert_cmpuint (f->sent->len, ==, 2);
  g_assert_cmpuint (f->requests->len, ==, 1);
  g_ptr_array_remove_index (f->sent, 1);
  g_array_remove_index (f->sent_at, 1);

  g_assert_true (sp_sip_server_transaction_reply (st, 486, NULL));
  g_assert_cmpint (sp_sip_server_transaction_get_state (st), ==, SP_SIP_TRANSACTION_COMPLETED);
  g_assert_nonnull (sp_sip_name_addr_get_tag (sp_sip_message_get_to (last_sent (f))));
  sp_sip_clock_advance (f->clock, 1100);
  g_assert_cmpuint (f->sent->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_cmpint (sent_time (f, i), ==, expected[i]);
  /* H = 64*T1 without ACK */
  sp_sip_clock_advance (f->clock, 64 * T1 - 1100 - 1);
  g_assert_cmpint (sp_sip_server_transaction_get_state (st), ==, SP_SIP_TRANSACTION_COMPLETED);
  sp_sip_clock_advance (f->clock, 1);
  g_assert_cmpint (sp_sip_server_transaction_get_state (st), ==, SP_SIP_TRANSACTION_TERMINATED);
  g_assert_cmpuint (f->events->len, ==, 1);
  g_assert_cmpint (g_array_index (f->events, SpSipServerEvent, 0), ==, SP_SIP_SERVER_EVENT_TIMEOUT);
}

/* A TU that answers within 200 ms needs no 100 Trying; a retransmitted
 * INVITE before then gets one at once. */
static void
test_invite_server_trying_delay (Fixture *f, gconstpointer data)
{
  g_autoptr (SpSipMessage) fast = server_request ("INVITE", "z9hG4bKfast", 1, NULL);
  g_autoptr (SpSipMessage) slow = server_request ("INVITE", "z9hG4bKslow", 2, NULL);
  SpSipPeer source;

  src (&source);
  sp_sip_transaction_layer_receive (f->layer, fast, &source);
  sp_sip_clock_advance (f->clock, 150);
  g_assert_true (sp_sip_server_transaction_reply (server_txn (f, 0), 180, NULL));
  sp_sip_clock_advance (f->clock, 500);
  g_assert_cmpuint (f->sent->len, ==, 1);
  g_assert_cmpuint (sp_sip_message_get_status (last_sent (f)), ==, 180);

  sp_sip_transaction_layer_receive (f->layer, slow, &source);
  sp_sip_clock_advance (f->clock, 100);
  g_assert_cmpuint (f->sent->len, ==, 1);
  sp_sip_transaction_layer_receive (f->layer, slow, &source);
  g_assert_cmpuint (f->sent->len, ==, 2);
  g_assert_cmpuint (sp_sip_message_get_status (last_sent (f)), ==, 100);
  g_assert_cmpint (sent_time (f, 1), ==, 750);
  /* and not a second time when the 200 ms are up */
  sp_sip_clock_advance (f->clock, 500);
  g_assert_cmpuint (f->sent->len, ==, 2);
  g_assert_cmpuint (f->requests->len, ==, 2);
}

static void
test_invite_server_ack_timer_i (Fixture *f, gconstpointer data)
{
  g_autoptr (SpSipMessage) invite = server_request ("INVITE", "z9hG4bKinv2", 1, NULL);
  g_autoptr (SpSipMessage) ack = NULL;
  SpSipServerTransaction *st;
  SpSipPeer source;
  guint sent;

  src (&source);
  sp_sip_transaction_layer_receive (f->layer, invite, &source);
  st = server_txn (f, 0);
  sp_sip_server_transaction_reply (st, 404, NULL);
  ack = server_request ("ACK", "z9hG4bKinv2", 1, sp_sip_server_transaction_get_to_tag (st));
  sp_sip_transaction_layer_receive (f->layer, ack, &source);
  g_assert_cmpint (sp_sip_server_transaction_get_state (st), ==, SP_SIP_TRANSACTION_CONFIRMED);
  /* The ACK for a non-2xx is absorbed, not passed up. */
  g_assert_cmpuint (f->requests->len, ==, 1);
  sent = f->sent->len;
  /* I = T4, no more G. */
  g_assert_cmpint (sp_sip_clock_next_due (f->clock), ==, T4);
  sp_sip_clock_advance (f->clock, T4);
  g_assert_cmpuint (f->sent->len, ==, sent);
  g_assert_cmpint (sp_sip_server_transaction_get_state (st), ==, SP_SIP_TRANSACTION_TERMINATED);
  g_assert_cmpuint (sp_sip_transaction_layer_get_n_server (f->layer), ==, 0);
}

static void
test_invite_server_accepted_timer_l (Fixture *f, gconstpointer data)
{
  g_autoptr (SpSipMessage) invite = server_request ("INVITE", "z9hG4bKinv3", 1, NULL);
  SpSipServerTransaction *st;
  SpSipPeer source;

  src (&source);
  sp_sip_transaction_layer_receive (f->layer, invite, &source);
  st = server_txn (f, 0);
  g_assert_true (sp_sip_server_transaction_reply (st, 200, NULL));
  g_assert_cmpint (sp_sip_server_transaction_get_state (st), ==, SP_SIP_TRANSACTION_ACCEPTED);
  g_assert_cmpint (sp_sip_clock_next_due (f->clock), ==, 64 * T1);
  /* The INVITE retransmission is absorbed in Accepted (RFC 6026); the
   * TU answered at once, so there was no 100 either. */
  sp_sip_transaction_layer_receive (f->layer, invite, &source);
  g_assert_cmpuint (f->sent->len, ==, 1);
  g_assert_cmpuint (sp_sip_message_get_status (last_sent (f)), ==, 200);
  g_assert_cmpuint (f->requests->len, ==, 1);
  /* The TU may still send 2xx through it; a non-2xx is refused. */
  g_assert_true (sp_sip_server_transaction_reply (st, 200, NULL));
  g_assert_false (sp_sip_server_transaction_reply (st, 500, NULL));
  sp_sip_clock_advance (f->clock, 64 * T1);
  g_assert_cmpint (sp_sip_server_transaction_get_state (st), ==, SP_SIP_TRANSACTION_TERMINATED);
}

static void
test_non_invite_server_timer_j (Fixture *f, gconstpointer data)
{
  g_autoptr (SpSipMessage) bye = server_request ("BYE", "z9hG4bKbye1", 2, "b1");
  SpSipServerTransaction *st;
  SpSipPeer source;

  src (&source);
  sp_sip_transaction_layer_receive (f->layer, bye, &source);
  st = server_txn (f, 0);
  g_assert_cmpint (sp_sip_server_transaction_get_state (st), ==, SP_SIP_TRANSACTION_TRYING);
  /* Trying: retransmissions absorbed silently. */
  sp_sip_transaction_layer_receive (f->layer, bye, &source);
  g_assert_cmpuint (f->sent->len, ==, 0);
  g_assert_cmpuint (f->requests->len, ==, 1);
  g_assert_true (sp_sip_server_transaction_reply (st, 200, NULL));
  g_assert_cmpint (sp_sip_server_transaction_get_state (st), ==, SP_SIP_TRANSACTION_COMPLETED);
  sp_sip_transaction_layer_receive (f->layer, bye, &source);
  g_assert_cmpuint (f->sent->len, ==, 2);
  g_assert_cmpuint (sp_sip_message_get_status (last_sent (f)), ==, 200);
  /* J = 64*T1 over UDP */
  g_assert_cmpint (sp_sip_clock_next_due (f->clock), ==, 64 * T1);
  sp_sip_clock_advance (f->clock, 64 * T1);
  g_assert_cmpint (sp_sip_server_transaction_get_state (st), ==, SP_SIP_TRANSACTION_TERMINATED);
}

static void
test_non_invite_server_reliable (Fixture *f, gconstpointer data)
{
  g_autoptr (SpSipMessage) req = server_request ("OPTIONS", "z9hG4bKopt1", 2, NULL);
  SpSipServerTransaction *st;
  SpSipPeer source;

  sp_sip_peer_init (&source, SP_SIP_TRANSPORT_TCP, "127.0.0.2", 40000);
  sp_sip_transaction_layer_receive (f->layer, req, &source);
  st = server_txn (f, 0);
  sp_sip_server_transaction_reply (st, 200, NULL);
  /* J = 0 over TCP */
  g_assert_cmpint (sp_sip_clock_next_due (f->clock), ==, 0);
  sp_sip_clock_advance (f->clock, 0);
  g_assert_cmpint (sp_sip_server_transaction_get_state (st), ==, SP_SIP_TRANSACTION_TERMINATED);
}

/* ---- matching ---- */

static void
test_cancel (Fixture *f, gconstpointer data)
{
  g_autoptr (SpSipMessage) invite = server_request ("INVITE", "z9hG4bKc1", 1, NULL);
  g_autoptr (SpSipMessage) cancel = server_request ("CANCEL", "z9hG4bKc1", 1, NULL);
  g_autoptr (SpSipMessage) stray = server_request ("CANCEL", "z9hG4bKnothing", 1, NULL);
  SpSipServerTransaction *st;
  SpSipPeer source;
  gboolean saw_487 = FALSE, saw_200 = FALSE;

  src (&source);
  sp_sip_transaction_layer_receive (f->layer, invite, &source);
  st = server_txn (f, 0);
  sp_sip_server_transaction_set_event_func (st, on_event, f);
  sp_sip_server_transaction_reply (st, 180, NULL);
  sp_sip_transaction_layer_receive (f->layer, cancel, &source);
  for (guint i = 0; i < f->sent->len; i++)
    {
      SpSipMessage *m = g_ptr_array_index (f->sent, i);
      const char *method = NULL;
      sp_sip_message_get_cseq (m, &method);
      if (sp_sip_message_get_status (m) == 487 && g_strcmp0 (method, "INVITE") == 0)
        saw_487 = TRUE;
      if (sp_sip_message_get_status (m) == 200 && g_strcmp0 (method, "CANCEL") == 0)
        {
          saw_200 = TRUE;
          /* 9.2: same To tag as the INVITE's responses. */
          g_assert_cmpstr (sp_sip_name_addr_get_tag (sp_sip_message_get_to (m)), ==,
                           sp_sip_server_transaction_get_to_tag (st));
        }
    }
  g_assert_true (saw_487);
  g_assert_true (saw_200);
  g_assert_cmpint (sp_sip_server_transaction_get_state (st), ==, SP_SIP_TRANSACTION_COMPLETED);
  g_assert_cmpuint (f->events->len, ==, 1);
  g_assert_cmpint (g_array_index (f->events, SpSipServerEvent, 0), ==,
                   SP_SIP_SERVER_EVENT_CANCELLED);
  /* CANCEL is not handed to the TU as a new request. */
  g_assert_cmpuint (f->requests->len, ==, 1);

  sp_sip_transaction_layer_receive (f->layer, stray, &source);
  g_assert_cmpuint (sp_sip_message_get_status (last_sent (f)), ==, 481);
  g_assert_cmpuint (sp_sip_transaction_layer_get_stats (f->layer)->cancel_481, ==, 1);
}

static void
test_cancel_client (Fixture *f, gconstpointer data)
{
  g_autoptr (SpSipMessage) invite = client_request ("INVITE");
  g_autoptr (SpSipMessage) ringing = NULL;
  SpSipClientTransaction *ct;
  SpSipMessage *cancel;
  SpSipPeer dest;
  const char *method;
  g_autoptr (SpSipClientTransaction) hold = NULL;

  peer (&dest, SP_SIP_TRANSPORT_UDP);
  ct = sp_sip_client_transaction_new (f->layer, invite, &dest, on_response, f);
  g_assert_true (sp_sip_client_transaction_cancel (ct, NULL, NULL));
  /* 9.1: no CANCEL before a provisional response. */
  g_assert_cmpuint (f->sent->len, ==, 1);
  ringing = response_to (invite, 180, "b1");
  sp_sip_transaction_layer_receive (f->layer, ringing, &dest);
  g_assert_cmpuint (f->sent->len, ==, 2);
  cancel = last_sent (f);
  g_assert_cmpstr (sp_sip_message_get_method (cancel), ==, "CANCEL");
  g_assert_cmpuint (sp_sip_message_get_cseq (cancel, &method), ==, 7);
  g_assert_cmpstr (method, ==, "CANCEL");
  g_assert_cmpstr (sp_sip_message_get_via (cancel)->branch, ==,
                   sp_sip_client_transaction_get_branch (ct));
  g_assert_null (sp_sip_name_addr_get_tag (sp_sip_message_get_to (cancel)));
  g_assert_cmpuint (sp_sip_transaction_layer_get_n_client (f->layer), ==, 2);
  /* 9.1: a callee that keeps ringing and never sends the final response
   * is given up 64*T1 after the CANCEL (a local 408). */
  hold = sp_sip_client_transaction_ref (ct);
  sp_sip_clock_advance (f->clock, 32 * T1);
  sp_sip_transaction_layer_receive (f->layer, ringing, &dest);
  g_assert_cmpint (sp_sip_client_transaction_get_state (ct), ==, SP_SIP_TRANSACTION_PROCEEDING);
  sp_sip_clock_advance (f->clock, 32 * T1);
  g_assert_cmpint (sp_sip_client_transaction_get_state (ct), ==, SP_SIP_TRANSACTION_TERMINATED);
  g_assert_cmpuint (
      sp_sip_message_get_status (g_ptr_array_index (f->responses, f->responses->len - 1)), ==, 408);
}

static void
test_merged_request (Fixture *f, gconstpointer data)
{
  g_autoptr (SpSipMessage) first = server_request ("INVITE", "z9hG4bKm1", 1, NULL);
  g_autoptr (SpSipMessage) second = server_request ("INVITE", "z9hG4bKm2", 1, NULL);
  SpSipPeer source;

  src (&source);
  sp_sip_transaction_layer_receive (f->layer, first, &source);
  sp_sip_transaction_layer_receive (f->layer, second, &source);
  /* Same From tag, Call-ID and CSeq over another branch: 482 (8.2.2.2). */
  g_assert_cmpuint (f->requests->len, ==, 1);
  g_assert_cmpuint (sp_sip_message_get_status (last_sent (f)), ==, 482);
  g_assert_cmpstr (sp_sip_message_get_via (last_sent (f))->branch, ==, "z9hG4bKm2");
  g_assert_cmpuint (sp_sip_transaction_layer_get_stats (f->layer)->merged_482, ==, 1);
}

static void
test_rfc2543_matching (Fixture *f, gconstpointer data)
{
  g_autoptr (SpSipMessage) invite = server_request ("INVITE", NULL, 1, NULL);
  g_autoptr (SpSipMessage) ack = NULL;
  g_autoptr (SpSipMessage) other = server_request ("INVITE", NULL, 2, NULL);
  SpSipServerTransaction *st;
  SpSipPeer source;

  src (&source);
  sp_sip_transaction_layer_receive (f->layer, invite, &source);
  g_assert_cmpuint (f->requests->len, ==, 1);
  st = server_txn (f, 0);
  /* Retransmission without branch: matched by Call-ID, tags, CSeq, Via. */
  sp_sip_transaction_layer_receive (f->layer, invite, &source);
  g_assert_cmpuint (f->requests->len, ==, 1);
  sp_sip_server_transaction_reply (st, 486, NULL);
  /* The ACK matches by the To tag of our response. */
  ack = server_request ("ACK", NULL, 1, sp_sip_server_transaction_get_to_tag (st));
  sp_sip_transaction_layer_receive (f->layer, ack, &source);
  g_assert_cmpint (sp_sip_server_transaction_get_state (st), ==, SP_SIP_TRANSACTION_CONFIRMED);
  g_assert_cmpuint (f->requests->len, ==, 1);
  /* Another CSeq is another transaction. */
  sp_sip_transaction_layer_receive (f->layer, other, &source);
  g_assert_cmpuint (f->requests->len, ==, 2);
}

static void
test_stray_response (Fixture *f, gconstpointer data)
{
  g_autoptr (SpSipMessage) resp = parse ("SIP/2.0 200 OK\n"
                                         "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKunknown\n"
                                         "From: <sip:a@127.0.0.1>;tag=1\n"
                                         "To: <sip:b@127.0.0.2>;tag=2\n"
                                         "Call-ID: x\n"
                                         "CSeq: 1 OPTIONS\n"
                                         "Content-Length: 0\n\n");
  SpSipPeer source;

  src (&source);
  sp_sip_transaction_layer_receive (f->layer, resp, &source);
  g_assert_cmpuint (f->strays->len, ==, 1);
  g_assert_cmpuint (f->responses->len, ==, 0);
}

static void
test_bad_request_answered (Fixture *f, gconstpointer data)
{
  g_autoptr (SpSipMessage) req = parse ("OPTIONS sip:bob@127.0.0.1 SIP/2.0\n"
                                        "Via: SIP/2.0/UDP 127.0.0.2;branch=z9hG4bKbad\n"
                                        "Max-Forwards: 70\n"
                                        "From: <sip:a@127.0.0.2>;tag=1\n"
                                        "To: <sip:b@127.0.0.1>\n"
                                        "Call-ID: bad\n"
                                        "CSeq: 1 INVITE\n"
                                        "Content-Length: 0\n\n");
  SpSipPeer source;

  src (&source);
  sp_sip_transaction_layer_receive (f->layer, req, &source);
  /* CSeq method differs from the request method: 400 without the TU. */
  g_assert_cmpuint (f->requests->len, ==, 0);
  g_assert_cmpuint (sp_sip_message_get_status (last_sent (f)), ==, 400);
}

/* ---- dialogs ---- */

static void
test_dialog_uac (void)
{
  g_autoptr (SpSipMessage) invite = client_request ("INVITE");
  g_autoptr (SpSipMessage) ok = parse ("SIP/2.0 200 OK\n"
                                       "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKd\n"
                                       "Record-Route: <sip:127.0.0.9;lr>, <sip:127.0.0.8;lr>\n"
                                       "From: <sip:alice@127.0.0.1>;tag=a1\n"
                                       "To: <sip:bob@127.0.0.2>;tag=b1\n"
                                       "Call-ID: call-1@127.0.0.1\n"
                                       "CSeq: 7 INVITE\n"
                                       "Contact: <sip:bob@127.0.0.3:5090>\n"
                                       "Content-Length: 0\n\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSipDialog) dialog = sp_sip_dialog_new_uac (invite, ok, &error);
  g_autoptr (SpSipMessage) bye = NULL;
  g_autoptr (SpSipMessage) ack = NULL;
  g_autofree char *id = NULL;
  g_autofree char *target = NULL;
  const GPtrArray *routes;
  const char *method;
  SpSipPeer hop;

  g_assert_no_error (error);
  g_assert_true (sp_sip_dialog_is_uac (dialog));
  g_assert_cmpint (sp_sip_dialog_get_state (dialog), ==, SP_SIP_DIALOG_CONFIRMED);
  id = sp_sip_dialog_dup_id (dialog);
  g_assert_cmpstr (id, ==, "call-1@127.0.0.1|a1|b1");
  /* The UAC takes Record-Route in reverse. */
  routes = sp_sip_dialog_get_route_set (dialog);
  g_assert_cmpuint (routes->len, ==, 2);
  g_assert_true (strstr (g_ptr_array_index (routes, 0), "127.0.0.8") != NULL);
  g_assert_true (strstr (g_ptr_array_index (routes, 1), "127.0.0.9") != NULL);

  bye = sp_sip_dialog_new_request (dialog, "BYE");
  g_assert_cmpuint (sp_sip_message_get_cseq (bye, &method), ==, 8);
  g_assert_cmpstr (method, ==, "BYE");
  target = sp_sip_uri_to_string (sp_sip_message_get_request_uri (bye));
  g_assert_cmpstr (target, ==, "sip:bob@127.0.0.3:5090");
  g_assert_cmpuint (sp_sip_message_get_routes (bye)->len, ==, 2);
  g_assert_cmpstr (sp_sip_name_addr_get_tag (sp_sip_message_get_to (bye)), ==, "b1");
  g_assert_cmpstr (sp_sip_name_addr_get_tag (sp_sip_message_get_from (bye)), ==, "a1");
  g_assert_cmpstr (sp_sip_message_get_call_id (bye), ==, "call-1@127.0.0.1");
  /* Loose routing: the first hop is the first Route. */
  g_assert_true (sp_sip_request_next_hop (bye, &hop));
  g_assert_cmpstr (hop.host, ==, "127.0.0.8");
  g_assert_cmpuint (hop.port, ==, 5060);

  ack = sp_sip_dialog_new_ack (dialog, 7);
  g_assert_cmpuint (sp_sip_message_get_cseq (ack, &method), ==, 7);
  g_assert_cmpstr (method, ==, "ACK");
  g_assert_cmpuint (sp_sip_dialog_get_local_seq (dialog), ==, 8);
}

static void
test_dialog_strict_route (void)
{
  g_autoptr (SpSipMessage) invite = client_request ("INVITE");
  g_autoptr (SpSipMessage) ok = parse ("SIP/2.0 200 OK\n"
                                       "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKd\n"
                                       "Record-Route: <sip:127.0.0.9>\n"
                                       "From: <sip:alice@127.0.0.1>;tag=a1\n"
                                       "To: <sip:bob@127.0.0.2>;tag=b1\n"
                                       "Call-ID: call-1@127.0.0.1\n"
                                       "CSeq: 7 INVITE\n"
                                       "Contact: <sip:bob@127.0.0.3:5090>\n"
                                       "Content-Length: 0\n\n");
  g_autoptr (SpSipDialog) dialog = sp_sip_dialog_new_uac (invite, ok, NULL);
  g_autoptr (SpSipMessage) info = sp_sip_dialog_new_request (dialog, "INFO");
  g_autofree char *ruri = sp_sip_uri_to_string (sp_sip_message_get_request_uri (info));
  const GPtrArray *routes = sp_sip_message_get_routes (info);
  g_autofree char *last = NULL;

  /* Strict router: it becomes the Request-URI; the target goes last. */
  g_assert_cmpstr (ruri, ==, "sip:127.0.0.9");
  g_assert_cmpuint (routes->len, ==, 1);
  last = sp_sip_uri_to_string (((SpSipNameAddr *) g_ptr_array_index (routes, 0))->uri);
  g_assert_cmpstr (last, ==, "sip:bob@127.0.0.3:5090");
}

static void
test_dialog_uas (void)
{
  g_autoptr (SpSipMessage) invite = parse ("INVITE sip:bob@127.0.0.1 SIP/2.0\n"
                                           "Via: SIP/2.0/UDP 127.0.0.2;branch=z9hG4bKu\n"
                                           "Record-Route: <sip:127.0.0.9;lr>, <sip:127.0.0.8;lr>\n"
                                           "Max-Forwards: 70\n"
                                           "From: <sip:alice@127.0.0.2>;tag=a1\n"
                                           "To: <sip:bob@127.0.0.1>\n"
                                           "Call-ID: uas-1\n"
                                           "CSeq: 10 INVITE\n"
                                           "Contact: <sip:alice@127.0.0.2:5080>\n"
                                           "Content-Length: 0\n\n");
  g_autoptr (SpSipMessage) ok = sp_sip_message_new_response_to (invite, 200, NULL, "b9");
  g_autoptr (SpSipDialog) dialog = sp_sip_dialog_new_uas (invite, ok, NULL);
  g_autoptr (SpSipMessage) bye = NULL;
  g_autoptr (SpSipMessage) old = NULL;
  g_autoptr (SpSipMessage) reinvite = NULL;
  g_autofree char *id_from_bye = NULL;
  g_autofree char *id = NULL;
  g_autofree char *target = NULL;
  const GPtrArray *routes;

  g_assert_nonnull (dialog);
  g_assert_false (sp_sip_dialog_is_uac (dialog));
  id = sp_sip_dialog_dup_id (dialog);
  g_assert_cmpstr (id, ==, "uas-1|b9|a1");
  g_assert_cmpuint (sp_sip_dialog_get_remote_seq (dialog), ==, 10);
  /* The UAS keeps Record-Route in order. */
  routes = sp_sip_dialog_get_route_set (dialog);
  g_assert_true (strstr (g_ptr_array_index (routes, 0), "127.0.0.9") != NULL);

  bye = parse ("BYE sip:bob@127.0.0.1 SIP/2.0\n"
               "Via: SIP/2.0/UDP 127.0.0.2;branch=z9hG4bKu2\n"
               "Max-Forwards: 70\n"
               "From: <sip:alice@127.0.0.2>;tag=a1\n"
               "To: <sip:bob@127.0.0.1>;tag=b9\n"
               "Call-ID: uas-1\n"
               "CSeq: 11 BYE\n"
               "Content-Length: 0\n\n");
  id_from_bye = sp_sip_dialog_id_for_message (bye);
  g_assert_cmpstr (id_from_bye, ==, id);
  g_assert_cmpuint (sp_sip_dialog_receive_request (dialog, bye), ==, 0);
  g_assert_cmpuint (sp_sip_dialog_get_remote_seq (dialog), ==, 11);
  /* 12.2.2: a lower CSeq is out of order: 500. */
  old = parse ("INFO sip:bob@127.0.0.1 SIP/2.0\n"
               "Via: SIP/2.0/UDP 127.0.0.2;branch=z9hG4bKu3\n"
               "Max-Forwards: 70\n"
               "From: <sip:alice@127.0.0.2>;tag=a1\n"
               "To: <sip:bob@127.0.0.1>;tag=b9\n"
               "Call-ID: uas-1\n"
               "CSeq: 5 INFO\n"
               "Content-Length: 0\n\n");
  g_assert_cmpuint (sp_sip_dialog_receive_request (dialog, old), ==, 500);
  /* Target refresh by re-INVITE. */
  reinvite = parse ("INVITE sip:bob@127.0.0.1 SIP/2.0\n"
                    "Via: SIP/2.0/UDP 127.0.0.2;branch=z9hG4bKu4\n"
                    "Max-Forwards: 70\n"
                    "From: <sip:alice@127.0.0.2>;tag=a1\n"
                    "To: <sip:bob@127.0.0.1>;tag=b9\n"
                    "Call-ID: uas-1\n"
                    "CSeq: 12 INVITE\n"
                    "Contact: <sip:alice@127.0.0.7:5080>\n"
                    "Content-Length: 0\n\n");
  g_assert_cmpuint (sp_sip_dialog_receive_request (dialog, reinvite), ==, 0);
  target = sp_sip_uri_to_string (sp_sip_dialog_get_remote_target (dialog));
  g_assert_cmpstr (target, ==, "sip:alice@127.0.0.7:5080");
  /* Our first request in the dialog starts our CSeq space. */
  {
    g_autoptr (SpSipMessage) mine = sp_sip_dialog_new_request (dialog, "BYE");
    g_assert_cmpuint (sp_sip_message_get_cseq (mine, NULL), ==, 1);
    g_assert_cmpstr (sp_sip_name_addr_get_tag (sp_sip_message_get_from (mine)), ==, "b9");
    g_assert_cmpstr (sp_sip_name_addr_get_tag (sp_sip_message_get_to (mine)), ==, "a1");
  }
}

static void
test_dialog_early (void)
{
  g_autoptr (SpSipMessage) invite = client_request ("INVITE");
  g_autoptr (SpSipMessage) r100 = sp_sip_message_new_response_to (invite, 100, NULL, NULL);
  g_autoptr (SpSipMessage) r180 = parse ("SIP/2.0 180 Ringing\n"
                                         "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKd\n"
                                         "From: <sip:alice@127.0.0.1>;tag=a1\n"
                                         "To: <sip:bob@127.0.0.2>;tag=b1\n"
                                         "Call-ID: call-1@127.0.0.1\n"
                                         "CSeq: 7 INVITE\n"
                                         "Contact: <sip:bob@127.0.0.3:5090>\n"
                                         "Content-Length: 0\n\n");
  g_autoptr (SpSipMessage) r200 = parse ("SIP/2.0 200 OK\n"
                                         "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKd\n"
                                         "Record-Route: <sip:127.0.0.9;lr>\n"
                                         "From: <sip:alice@127.0.0.1>;tag=a1\n"
                                         "To: <sip:bob@127.0.0.2>;tag=b1\n"
                                         "Call-ID: call-1@127.0.0.1\n"
                                         "CSeq: 7 INVITE\n"
                                         "Contact: <sip:bob@127.0.0.4:5090>\n"
                                         "Content-Length: 0\n\n");
  g_autoptr (SpSipDialog) none = sp_sip_dialog_new_uac (invite, r100, NULL);
  g_autoptr (SpSipDialog) dialog = sp_sip_dialog_new_uac (invite, r180, NULL);
  g_autofree char *target = NULL;

  /* No tag in a 100: no dialog. */
  g_assert_null (none);
  g_assert_nonnull (dialog);
  g_assert_cmpint (sp_sip_dialog_get_state (dialog), ==, SP_SIP_DIALOG_EARLY);
  g_assert_cmpuint (sp_sip_dialog_get_route_set (dialog)->len, ==, 0);
  sp_sip_dialog_update_from_response (dialog, r200);
  g_assert_cmpint (sp_sip_dialog_get_state (dialog), ==, SP_SIP_DIALOG_CONFIRMED);
  /* 2xx recomputes the route set and refreshes the target. */
  g_assert_cmpuint (sp_sip_dialog_get_route_set (dialog)->len, ==, 1);
  target = sp_sip_uri_to_string (sp_sip_dialog_get_remote_target (dialog));
  g_assert_cmpstr (target, ==, "sip:bob@127.0.0.4:5090");
}

/* Issue 13: a stranger cannot fill the server transaction table. Past a
 * cap (per source, then in total) a new request gets one 503 with
 * Retry-After, is never handed to the TU and leaves nothing behind. */
static void
test_server_limits (Fixture *f, gconstpointer data)
{
  SpSipPeer a, b;
  guint sent;

  sp_sip_peer_init (&a, SP_SIP_TRANSPORT_UDP, "127.0.0.2", 5060);
  sp_sip_peer_init (&b, SP_SIP_TRANSPORT_UDP, "127.0.0.3", 5060);
  sp_sip_transaction_layer_set_limits (f->layer, 5, 3);
  for (guint i = 0; i < 4; i++)
    {
      g_autofree char *branch = g_strdup_printf ("z9hG4bKlim%u", i);
      g_autoptr (SpSipMessage) req = server_request ("OPTIONS", branch, 10 + i, NULL);

      sp_sip_transaction_layer_receive (f->layer, req, &a);
    }
  g_assert_cmpuint (f->requests->len, ==, 3);
  g_assert_cmpuint (sp_sip_transaction_layer_get_n_server (f->layer), ==, 3);
  g_assert_cmpuint (f->sent->len, ==, 1);
  g_assert_cmpuint (sp_sip_message_get_status (last_sent (f)), ==, 503);
  g_assert_cmpstr (sp_sip_message_get_header (last_sent (f), "Retry-After"), ==, "30");
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *branch = g_strdup_printf ("z9hG4bKlimb%u", i);
      g_autoptr (SpSipMessage) req = server_request ("OPTIONS", branch, 20 + i, NULL);

      sp_sip_transaction_layer_receive (f->layer, req, &b);
    }
  /* Two more from b fill the table (5): the third is refused too. */
  g_assert_cmpuint (f->requests->len, ==, 5);
  g_assert_cmpuint (f->sent->len, ==, 2);
  g_assert_cmpuint (sp_sip_transaction_layer_get_stats (f->layer)->overload_503, ==, 2);
  /* The 503s are not retransmitted: nothing waits for them. */
  sent = f->sent->len;
  sp_sip_clock_advance (f->clock, 10 * T1);
  g_assert_cmpuint (f->sent->len, ==, sent);
  /* Answered and ended, a transaction makes room for its source again. */
  g_assert_true (sp_sip_server_transaction_reply (server_txn (f, 0), 200, NULL));
  sp_sip_clock_advance (f->clock, 64 * T1);
  g_assert_cmpuint (sp_sip_transaction_layer_get_n_server (f->layer), ==, 4);
  {
    g_autoptr (SpSipMessage) req = server_request ("OPTIONS", "z9hG4bKlimnew", 30, NULL);

    sp_sip_transaction_layer_receive (f->layer, req, &a);
  }
  g_assert_cmpuint (f->requests->len, ==, 6);
  /* 0: no caps. */
  sp_sip_transaction_layer_set_limits (f->layer, 0, 0);
  for (guint i = 0; i < 10; i++)
    {
      g_autofree char *branch = g_strdup_printf ("z9hG4bKfree%u", i);
      g_autoptr (SpSipMessage) req = server_request ("OPTIONS", branch, 40 + i, NULL);

      sp_sip_transaction_layer_receive (f->layer, req, &a);
    }
  g_assert_cmpuint (f->requests->len, ==, 16);
  /* IPv6 sources count by /64: a host picks any address in its prefix. */
  sp_sip_transaction_layer_set_limits (f->layer, 0, 2);
  for (guint i = 0; i < 4; i++)
    {
      static const char *const hosts[] = { "2001:db8::1", "2001:db8::2:1", "2001:db8::ffff",
                                           "2001:db8:0:1::1" };
      g_autofree char *branch = g_strdup_printf ("z9hG4bKsix%u", i);
      g_autoptr (SpSipMessage) req = server_request ("OPTIONS", branch, 60 + i, NULL);
      SpSipPeer six;

      sp_sip_peer_init (&six, SP_SIP_TRANSPORT_UDP, hosts[i], 5060);
      sp_sip_transaction_layer_receive (f->layer, req, &six);
    }
  /* The third shared the first two's /64; the fourth is another one. */
  g_assert_cmpuint (f->requests->len, ==, 19);
  g_assert_cmpuint (sp_sip_transaction_layer_get_stats (f->layer)->overload_503, ==, 3);
}

#define ADD(name, func) g_test_add (name, Fixture, NULL, fixture_setup, func, fixture_teardown)

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sip/clock/fake", test_fake_clock);
  ADD ("/sip/transaction/invite-client/timers-a-b", test_invite_client_timer_a_b);
  ADD ("/sip/transaction/invite-client/non-2xx-ack-timer-d", test_invite_client_non_2xx);
  ADD ("/sip/transaction/invite-client/reliable", test_invite_client_reliable);
  ADD ("/sip/transaction/invite-client/accepted-timer-m", test_invite_client_accepted);
  ADD ("/sip/transaction/invite-client/transport-error", test_invite_client_transport_error);
  ADD ("/sip/transaction/invite-client/async-transport-error",
       test_invite_client_async_transport_error);
  ADD ("/sip/transaction/non-invite-client/timers-e-f", test_non_invite_client_timer_e_f);
  ADD ("/sip/transaction/non-invite-client/proceeding-timer-k", test_non_invite_client_proceeding);
  ADD ("/sip/transaction/invite-server/timers-g-h", test_invite_server_timers_g_h);
  ADD ("/sip/transaction/invite-server/trying-delay", test_invite_server_trying_delay);
  ADD ("/sip/transaction/invite-server/ack-timer-i", test_invite_server_ack_timer_i);
  ADD ("/sip/transaction/invite-server/accepted-timer-l", test_invite_server_accepted_timer_l);
  ADD ("/sip/transaction/non-invite-server/timer-j", test_non_invite_server_timer_j);
  ADD ("/sip/transaction/non-invite-server/reliable", test_non_invite_server_reliable);
  ADD ("/sip/transaction/match/cancel", test_cancel);
  ADD ("/sip/transaction/match/cancel-client", test_cancel_client);
  ADD ("/sip/transaction/match/merged-482", test_merged_request);
  ADD ("/sip/transaction/match/rfc2543", test_rfc2543_matching);
  ADD ("/sip/transaction/match/stray-response", test_stray_response);
  ADD ("/sip/transaction/match/bad-request", test_bad_request_answered);
  ADD ("/sip/transaction/server-limits", test_server_limits);
  g_test_add_func ("/sip/dialog/uac", test_dialog_uac);
  g_test_add_func ("/sip/dialog/strict-route", test_dialog_strict_route);
  g_test_add_func ("/sip/dialog/uas", test_dialog_uas);
  g_test_add_func ("/sip/dialog/early", test_dialog_early);
  return g_test_run ();
}
