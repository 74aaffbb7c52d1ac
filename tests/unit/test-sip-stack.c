/* SpSipStack on loopback sockets against a scripted raw-socket peer:
 * forked 2xx (ACK then BYE), the UAS BYE after 64*T1 without ACK, loop
 * detection (482), host names resolved without blocking (and failing
 * into a 503), cancelling a request still waiting for its lookup. */
#include <string.h>

#include "sip/stack.h"

#include "../common/raw-sip.h"

#define WAIT_MS 3000
#define T1      10

/* ---- a fake resolver: "pbx.test" is 127.0.0.1, "hang.test" never
 * answers, anything else does not exist. ---- */

#define TEST_TYPE_RESOLVER (test_resolver_get_type ())
G_DECLARE_FINAL_TYPE (TestResolver, test_resolver, TEST, RESOLVER, GResolver)

struct _TestResolver
{
  GResolver parent_instance;
  guint lookups;
};

G_DEFINE_FINAL_TYPE (TestResolver, test_resolver, G_TYPE_RESOLVER)

static void
hang_cancelled (GCancellable *cancellable, gpointer data)
{
  g_task_return_new_error (data, G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled");
}

static void
test_resolver_lookup_by_name_async (GResolver *resolver, const gchar *hostname,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  TestResolver *self = TEST_RESOLVER (resolver);
  g_autoptr (GTask) task = g_task_new (resolver, cancellable, callback, user_data);

  self->lookups++;
  if (g_strcmp0 (hostname, "pbx.test") == 0)
    {
      GList *list = NULL;
      /* An IPv6 address first: the stack must pick the family it can use. */
      list = g_list_append (list, g_inet_address_new_from_string ("2001:db8::1"));
      list = g_list_append (list, g_inet_address_new_from_string ("127.0.0.1"));
      g_task_return_pointer (task, list, (GDestroyNotify) g_resolver_free_addresses);
    }
  else if (g_strcmp0 (hostname, "hang.test") == 0)
    {
      /* Answers only when the lookup is cancelled. */
      g_assert_nonnull (cancellable);
      g_cancellable_connect (cancellable, G_CALLBACK (hang_cancelled), g_object_ref (task),
                             g_object_unref);
    }
  else
    g_task_return_new_error (task, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND, "no such name %s",
                             hostname);
}

static GList *
test_resolver_lookup_by_name_finish (GResolver *resolver, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
test_resolver_class_init (TestResolverClass *klass)
{
  G_RESOLVER_CLASS (klass)->lookup_by_name_async = test_resolver_lookup_by_name_async;
  G_RESOLVER_CLASS (klass)->lookup_by_name_finish = test_resolver_lookup_by_name_finish;
}

static void
test_resolver_init (TestResolver *self)
{
}

/* ---- helpers ---- */

static void
spin (guint ms)
{
  gint64 until = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, FALSE) || (g_usleep (500), TRUE);
}

static void
wait_for (const guint *counter, guint want)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;

  while (*counter < want && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE) || (g_usleep (500), TRUE);
}

static SpSipStack *
new_stack (SpSipPeer *bound)
{
  SpSipTimerSettings t;
  SpSipStack *stack;
  g_autoptr (GError) error = NULL;

  sp_sip_timer_settings_init (&t);
  t.t1 = T1;
  t.t2 = 4 * T1;
  t.t4 = 5 * T1;
  t.timer_d = 32 * T1;
  stack = sp_sip_stack_new (NULL, &t);
  g_assert_true (sp_sip_stack_listen (stack, SP_SIP_TRANSPORT_UDP, "127.0.0.1", 0, bound, &error));
  g_assert_no_error (error);
  return stack;
}

typedef struct
{
  guint responses;
  guint last_status;
  char *last_reason;
  guint acks;
  guint ack_timeouts;
  guint requests;
} Seen;

static void
on_response (SpSipStack *stack, SpSipClientTransaction *ct, SpSipMessage *response,
             SpSipDialog *dialog, gpointer user_data)
{
  Seen *seen = user_data;
  guint status = sp_sip_message_get_status (response);

  if (status < 200)
    return;
  seen->responses++;
  seen->last_status = status;
  g_free (seen->last_reason);
  seen->last_reason = g_strdup (sp_sip_message_get_reason (response));
}

static SpSipMessage *
new_request (SpSipStack *stack, const char *method, const char *uri_text)
{
  g_autoptr (SpSipUri) uri = sp_sip_uri_parse (uri_text, -1, NULL);
  g_assert_nonnull (uri);
  return sp_sip_stack_new_request (stack, method, uri, "<sip:a@127.0.0.1>", "<sip:b@example.com>",
                                   1);
}

/* ---- tests ---- */

/* Two 2xx with different To tags (a forking proxy): both are ACKed, the
 * second dialog is ended with BYE, and only the first reaches the TU. */
static void
test_forked_2xx (void)
{
  SpSipPeer bound;
  g_autoptr (SpSipStack) stack = new_stack (&bound);
  RawSip *raw = raw_sip_new ("127.0.0.1");
  g_autofree char *ruri = g_strdup_printf ("sip:b@127.0.0.1:%u", raw->peer.port);
  g_autoptr (SpSipMessage) invite = new_request (stack, "INVITE", ruri);
  g_autoptr (SpSipMessage) got = NULL;
  g_autoptr (SpSipMessage) ok1 = NULL;
  g_autoptr (SpSipMessage) ok2 = NULL;
  g_autoptr (SpSipMessage) ack1 = NULL;
  g_autoptr (SpSipMessage) ack2 = NULL;
  g_autoptr (SpSipMessage) bye = NULL;
  g_autoptr (SpSipMessage) bye_ok = NULL;
  Seen seen = { 0 };

  g_assert_nonnull (sp_sip_stack_send_request (stack, invite, NULL, on_response, &seen, NULL));
  got = raw_sip_expect (raw, "INVITE", 0);
  ok1 = raw_sip_response (raw, got, 200, "fork1", "raw");
  ok2 = raw_sip_response (raw, got, 200, "fork2", "raw");
  raw_sip_send (raw, &bound, ok1);
  ack1 = raw_sip_expect (raw, "ACK", 0);
  g_assert_cmpstr (sp_sip_name_addr_get_tag (sp_sip_message_get_to (ack1)), ==, "fork1");
  raw_sip_send (raw, &bound, ok2);
  ack2 = raw_sip_expect (raw, "ACK", 0);
  g_assert_cmpstr (sp_sip_name_addr_get_tag (sp_sip_message_get_to (ack2)), ==, "fork2");
  bye = raw_sip_expect (raw, "BYE", 0);
  g_assert_cmpstr (sp_sip_name_addr_get_tag (sp_sip_message_get_to (bye)), ==, "fork2");
  g_assert_cmpuint (sp_sip_message_get_cseq (bye, NULL), >, sp_sip_message_get_cseq (ack2, NULL));
  bye_ok = sp_sip_message_new_response_to (bye, 200, NULL, NULL);
  raw_sip_send (raw, &bound, bye_ok);
  spin (50);
  g_assert_cmpuint (seen.responses, ==, 1);
  g_assert_cmpuint (seen.last_status, ==, 200);
  g_assert_cmpuint (sp_sip_stack_get_stats (stack)->forked_2xx_byes, ==, 1);
  /* Only the chosen dialog is left. */
  g_assert_cmpuint (sp_sip_stack_get_n_dialogs (stack), ==, 1);
  g_free (seen.last_reason);
  raw_sip_free (raw);
}

static gboolean
answer_200 (SpSipStack *stack, SpSipServerTransaction *st, SpSipMessage *request,
            SpSipDialog *dialog, gpointer user_data)
{
  Seen *seen = user_data;

  seen->requests++;
  if (sp_sip_message_get_method_id (request) != SP_SIP_METHOD_INVITE)
    return FALSE;
  return sp_sip_stack_reply (stack, st, 200, NULL);
}

static void
on_ack_timeout (SpSipStack *stack, SpSipDialog *dialog, gpointer user_data)
{
  Seen *seen = user_data;
  seen->ack_timeouts++;
}

static char *
raw_invite_text (RawSip *raw, const SpSipPeer *to, const char *branch, const char *extra_via)
{
  return g_strdup_printf ("INVITE sip:b@127.0.0.1:%u SIP/2.0\r\n"
                          "%s"
                          "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=%s\r\n"
                          "Max-Forwards: 70\r\n"
                          "From: <sip:raw@127.0.0.1>;tag=rawtag\r\n"
                          "To: <sip:b@127.0.0.1>\r\n"
                          "Call-ID: %s@raw\r\n"
                          "CSeq: 1 INVITE\r\n"
                          "Contact: <sip:raw@127.0.0.1:%u>\r\n"
                          "Content-Length: 0\r\n\r\n",
                          to->port, extra_via ? extra_via : "", raw->peer.port, branch, branch,
                          raw->peer.port);
}

/* 13.3.1.4: a 2xx retransmitted for 64*T1 without its ACK ends the
 * session: "ack-timeout", then a BYE from the UAS. */
static void
test_ack_timeout_bye (void)
{
  SpSipPeer bound;
  g_autoptr (SpSipStack) stack = new_stack (&bound);
  RawSip *raw = raw_sip_new ("127.0.0.1");
  g_autofree char *text = raw_invite_text (raw, &bound, "z9hG4bKnoack", NULL);
  g_autoptr (SpSipMessage) ok = NULL;
  g_autoptr (SpSipMessage) bye = NULL;
  guint retransmissions = 0;
  gint64 start, elapsed;
  Seen seen = { 0 };

  g_signal_connect (stack, "request", G_CALLBACK (answer_200), &seen);
  g_signal_connect (stack, "ack-timeout", G_CALLBACK (on_ack_timeout), &seen);
  start = g_get_monotonic_time ();
  raw_sip_send_text (raw, &bound, text);
  ok = raw_sip_expect (raw, NULL, 200);
  for (guint i = 0; i < 100 && bye == NULL; i++)
    {
      g_autoptr (SpSipMessage) msg = raw_sip_recv (raw, WAIT_MS);
      g_assert_nonnull (msg);
      if (sp_sip_message_is_request (msg))
        bye = g_steal_pointer (&msg);
      else if (sp_sip_message_get_status (msg) == 200)
        retransmissions++;
    }
  elapsed = (g_get_monotonic_time () - start) / 1000;
  g_assert_nonnull (bye);
  g_assert_cmpstr (sp_sip_message_get_method (bye), ==, "BYE");
  g_assert_cmpstr (sp_sip_name_addr_get_tag (sp_sip_message_get_from (bye)), ==,
                   sp_sip_name_addr_get_tag (sp_sip_message_get_to (ok)));
  g_assert_cmpstr (sp_sip_name_addr_get_tag (sp_sip_message_get_to (bye)), ==, "rawtag");
  /* T1, 2T1, 4T1 = T2, T2...: 640 ms hold 1+1+... (10,20,40,40...) ~ 17. */
  g_assert_cmpuint (retransmissions, >=, 10);
  /* The clock rounds deadlines to whole milliseconds: allow one. */
  g_assert_cmpint (elapsed, >=, 64 * T1 - 1);
  g_assert_cmpuint (seen.ack_timeouts, ==, 1);
  g_assert_cmpuint (sp_sip_stack_get_stats (stack)->ack_timeouts, ==, 1);
  g_assert_cmpuint (sp_sip_stack_get_n_dialogs (stack), ==, 0);
  raw_sip_free (raw);
}

/* 12.1.1: the 2xx that makes the dialog copies the INVITE's Record-Route
 * values in order (a proxy that record-routed is then on the caller's
 * route set too, not bypassed by its ACK and BYE). */
static void
test_record_route_copied (void)
{
  SpSipPeer bound;
  g_autoptr (SpSipStack) stack = new_stack (&bound);
  RawSip *raw = raw_sip_new ("127.0.0.1");
  g_autofree char *text =
      raw_invite_text (raw, &bound, "z9hG4bKrr",
                       "Record-Route: <sip:p1.example.net;lr>, <sip:p2.example.net;lr>\r\n"
                       "Record-Route: <sip:127.0.0.1:5999;lr>\r\n");
  g_autoptr (SpSipMessage) ok = NULL;
  const GPtrArray *rr;
  Seen seen = { 0 };

  g_signal_connect (stack, "request", G_CALLBACK (answer_200), &seen);
  raw_sip_send_text (raw, &bound, text);
  ok = raw_sip_expect (raw, NULL, 200);
  rr = sp_sip_message_get_record_routes (ok);
  g_assert_cmpuint (rr->len, ==, 3);
  g_assert_cmpstr (sp_sip_uri_get_host (((SpSipNameAddr *) rr->pdata[0])->uri), ==,
                   "p1.example.net");
  g_assert_cmpstr (sp_sip_uri_get_host (((SpSipNameAddr *) rr->pdata[1])->uri), ==,
                   "p2.example.net");
  g_assert_cmpuint (sp_sip_uri_get_port (((SpSipNameAddr *) rr->pdata[2])->uri), ==, 5999);
  raw_sip_free (raw);
}

/* A request of ours that comes back to us (a proxy looped it) carries our
 * own branch below its top Via: 482 (8.2.2.2 / 16.3). */
static void
test_loop_482 (void)
{
  SpSipPeer bound;
  g_autoptr (SpSipStack) stack = new_stack (&bound);
  RawSip *raw = raw_sip_new ("127.0.0.1");
  g_autofree char *ruri = g_strdup_printf ("sip:b@127.0.0.1:%u", raw->peer.port);
  g_autoptr (SpSipMessage) options = new_request (stack, "OPTIONS", ruri);
  g_autoptr (SpSipMessage) got = NULL;
  g_autoptr (SpSipMessage) looped = NULL;
  g_autoptr (SpSipMessage) answer = NULL;
  g_autofree char *via = NULL;
  Seen seen = { 0 };

  g_signal_connect (stack, "request", G_CALLBACK (answer_200), &seen);
  g_assert_nonnull (sp_sip_stack_send_request (stack, options, NULL, on_response, &seen, NULL));
  got = raw_sip_expect (raw, "OPTIONS", 0);
  /* The "proxy" sends it back with its own Via on top. */
  looped = sp_sip_message_copy (got);
  via = g_strdup_printf ("SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKproxy", raw->peer.port);
  g_assert_true (sp_sip_message_prepend_header (looped, "Via", via, NULL));
  g_assert_true (sp_sip_message_set_header (looped, "Max-Forwards", "69", NULL));
  raw_sip_send (raw, &bound, looped);
  answer = raw_sip_expect (raw, NULL, 482);
  g_assert_cmpstr (sp_sip_message_get_via (answer)->branch, ==, "z9hG4bKproxy");
  g_assert_cmpuint (seen.requests, ==, 0); /* never reached the TU */
  g_assert_cmpuint (
      sp_sip_transaction_layer_get_stats (sp_sip_stack_get_transactions (stack))->loops_482, ==, 1);
  raw_sip_free (raw);
}

/* A next hop given by name is looked up without blocking; the address
 * of the family we have a binding for is used. */
static void
test_dns_name (void)
{
  SpSipPeer bound, peer_bound;
  g_autoptr (SpSipStack) stack = new_stack (&bound);
  g_autoptr (SpSipStack) peer = new_stack (&peer_bound);
  g_autoptr (TestResolver) resolver = g_object_new (TEST_TYPE_RESOLVER, NULL);
  g_autofree char *ruri = g_strdup_printf ("sip:b@pbx.test:%u", peer_bound.port);
  g_autoptr (SpSipMessage) options = new_request (stack, "OPTIONS", ruri);
  SpSipClientTransaction *ct;
  Seen seen = { 0 };

  sp_sip_stack_set_resolver (stack, G_RESOLVER (resolver));
  ct = sp_sip_stack_send_request (stack, options, NULL, on_response, &seen, NULL);
  g_assert_nonnull (ct);
  /* Nothing has gone out yet: the lookup finishes on the main loop. */
  g_assert_true (sp_sip_client_transaction_is_deferred (ct));
  wait_for (&seen.responses, 1);
  g_assert_cmpuint (seen.last_status, ==, 200);
  g_assert_cmpuint (resolver->lookups, ==, 1);
  g_assert_cmpuint (sp_sip_stack_get_stats (stack)->dns_lookups, ==, 1);
  g_assert_cmpuint (sp_sip_stack_get_stats (peer)->requests_received, ==, 1);
  g_free (seen.last_reason);
}

/* "localhost" goes through the real default resolver. */
static void
test_dns_localhost (void)
{
  SpSipPeer bound, peer_bound;
  g_autoptr (SpSipStack) stack = new_stack (&bound);
  g_autoptr (SpSipStack) peer = new_stack (&peer_bound);
  g_autofree char *ruri = g_strdup_printf ("sip:b@localhost:%u", peer_bound.port);
  g_autoptr (SpSipMessage) options = new_request (stack, "OPTIONS", ruri);
  Seen seen = { 0 };

  g_assert_nonnull (sp_sip_stack_send_request (stack, options, NULL, on_response, &seen, NULL));
  wait_for (&seen.responses, 1);
  g_assert_cmpuint (seen.last_status, ==, 200);
  g_assert_cmpuint (sp_sip_stack_get_stats (peer)->requests_received, ==, 1);
  g_free (seen.last_reason);
}

/* A name that does not resolve ends the transaction with a 503 naming
 * the lookup error; cancelling a request still waiting for its lookup
 * ends it with 487 and nothing is ever sent. */
static void
test_dns_failures (void)
{
  SpSipPeer bound;
  g_autoptr (SpSipStack) stack = new_stack (&bound);
  g_autoptr (TestResolver) resolver = g_object_new (TEST_TYPE_RESOLVER, NULL);
  g_autoptr (SpSipMessage) options = new_request (stack, "OPTIONS", "sip:b@nowhere.test");
  g_autoptr (SpSipMessage) invite = new_request (stack, "INVITE", "sip:b@hang.test");
  SpSipClientTransaction *ct;
  Seen seen = { 0 };

  sp_sip_stack_set_resolver (stack, G_RESOLVER (resolver));
  g_assert_nonnull (sp_sip_stack_send_request (stack, options, NULL, on_response, &seen, NULL));
  g_assert_cmpuint (seen.responses, ==, 0); /* reported from the main loop */
  wait_for (&seen.responses, 1);
  g_assert_cmpuint (seen.last_status, ==, 503);
  g_assert_nonnull (strstr (seen.last_reason, "nowhere.test"));
  g_assert_cmpuint (sp_sip_stack_get_stats (stack)->dns_failures, ==, 1);

  ct = sp_sip_stack_send_request (stack, invite, NULL, on_response, &seen, NULL);
  spin (20);
  g_assert_true (sp_sip_client_transaction_is_deferred (ct));
  g_assert_true (sp_sip_client_transaction_cancel (ct, NULL, NULL));
  g_assert_cmpuint (seen.responses, ==, 2);
  g_assert_cmpuint (seen.last_status, ==, 487);
  g_assert_cmpuint (sp_sip_transport_get_stats (sp_sip_stack_get_transport (stack))->messages_sent,
                    ==, 0);
  g_free (seen.last_reason);
  /* The stack goes with a lookup still out: it is cancelled and its
   * callback (run on the loop) must not touch the stack. */
  g_clear_object (&stack);
  g_clear_object (&resolver);
  spin (20);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sip/stack/forked-2xx", test_forked_2xx);
  g_test_add_func ("/sip/stack/ack-timeout-bye", test_ack_timeout_bye);
  g_test_add_func ("/sip/stack/loop-482", test_loop_482);
  g_test_add_func ("/sip/stack/record-route-copied", test_record_route_copied);
  g_test_add_func ("/sip/stack/dns-name", test_dns_name);
  g_test_add_func ("/sip/stack/dns-localhost", test_dns_localhost);
  g_test_add_func ("/sip/stack/dns-failures", test_dns_failures);
  return g_test_run ();
}
