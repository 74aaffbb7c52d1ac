/* SIP engine figures: OPTIONS transactions per second through two
 * SpSipStacks over loopback UDP in one thread (one core), and the heap
 * cost of one pending INVITE server transaction. Prints name=value. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip/stack.h"

typedef struct
{
  SpSipStack *client;
  SpSipUri *target;
  guint started;
  guint finished;
  guint failed;
  guint total;
  GMainLoop *loop;
} Load;

static void start_one (Load *load);

static void
on_response (SpSipStack *stack, SpSipClientTransaction *ct, SpSipMessage *response,
             SpSipDialog *dialog, gpointer user_data)
{
  Load *load = user_data;

  if (sp_sip_message_get_status (response) < 200)
    return;
  if (sp_sip_message_get_status (response) != 200)
    load->failed++;
  load->finished++;
  if (load->started < load->total)
    start_one (load);
  else if (load->finished == load->total)
    g_main_loop_quit (load->loop);
}

static void
start_one (Load *load)
{
  g_autoptr (SpSipMessage) request =
      sp_sip_stack_new_request (load->client, "OPTIONS", load->target, "<sip:bench@127.0.33.202>",
                                "<sip:uas@127.0.33.201>", 1);

  load->started++;
  if (sp_sip_stack_send_request (load->client, request, NULL, on_response, load, NULL) == NULL)
    {
      load->failed++;
      load->finished++;
    }
}

static gboolean
give_up (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

static void
bench_options (guint total, guint window)
{
  SpSipTimerSettings timers;
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSipStack) server = NULL;
  g_autoptr (SpSipStack) client = NULL;
  Load load = { 0 };
  gint64 start, elapsed;

  /* Default T1; completed transactions linger for T4 / 64*T1 as in real use. */
  sp_sip_timer_settings_init (&timers);
  server = sp_sip_stack_new (NULL, &timers);
  client = sp_sip_stack_new (NULL, &timers);
  if (!sp_sip_stack_listen (server, SP_SIP_TRANSPORT_UDP, "127.0.33.201", 0, NULL, &error) ||
      !sp_sip_stack_listen (client, SP_SIP_TRANSPORT_UDP, "127.0.33.202", 0, NULL, &error))
    {
      g_printerr ("listen: %s\n", error->message);
      exit (1);
    }
  {
    SpSipPeer bound;
    g_autofree char *uri = NULL;
    sp_sip_transport_get_binding (sp_sip_stack_get_transport (server), 0, &bound);
    uri = g_strdup_printf ("sip:uas@127.0.33.201:%u", bound.port);
    load.target = sp_sip_uri_parse (uri, -1, NULL);
  }
  load.client = client;
  load.total = total;
  load.loop = g_main_loop_new (NULL, FALSE);
  start = g_get_monotonic_time ();
  for (guint i = 0; i < window && load.started < total; i++)
    start_one (&load);
  g_timeout_add_seconds (60, give_up, load.loop);
  g_main_loop_run (load.loop);
  elapsed = g_get_monotonic_time () - start;
  printf ("options_transactions=%u\n", load.finished);
  printf ("options_failed=%u\n", load.failed);
  printf ("options_window=%u\n", window);
  printf ("options_transactions_per_sec=%.0f\n", load.finished / (elapsed / 1e6));
  printf ("server_transactions_pending_at_end=%u\n",
          sp_sip_transaction_layer_get_n_server (sp_sip_stack_get_transactions (server)));
  sp_sip_uri_free (load.target);
  g_main_loop_unref (load.loop);
}

/* ---- memory per pending INVITE server transaction ---- */

static gboolean
null_send (SpSipMessage *msg, const SpSipPeer *dest, SpSipTransportKind *used, gpointer user_data,
           GError **error)
{
  return TRUE;
}

static void
null_request (SpSipTransactionLayer *layer, SpSipServerTransaction *st, SpSipMessage *request,
              const SpSipPeer *source, gpointer user_data)
{
  /* The TU rings (180) and keeps the transaction pending. */
  sp_sip_server_transaction_reply (st, 180, NULL);
}

static size_t
heap_in_use (void)
{
  struct mallinfo2 mi = mallinfo2 ();
  return mi.uordblks + mi.hblkhd;
}

static void
bench_invite_memory (guint n)
{
  g_autoptr (SpSipClock) clock = sp_sip_clock_new_fake ();
  SpSipTransactionFuncs funcs = { null_send, null_request, NULL };
  SpSipTransactionLayer *layer = sp_sip_transaction_layer_new (clock, NULL, &funcs, NULL);
  SpSipPeer source;
  size_t before, after;
  gsize msg_bytes = 0;

  sp_sip_peer_init (&source, SP_SIP_TRANSPORT_UDP, "127.0.33.203", 5060);
  malloc_trim (0);
  before = heap_in_use ();
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *text = g_strdup_printf (
          "INVITE sip:bob@127.0.33.201 SIP/2.0\r\n"
          "Via: SIP/2.0/UDP 127.0.33.203:5060;branch=z9hG4bK%08u;rport\r\n"
          "Max-Forwards: 70\r\n"
          "From: \"Alice\" <sip:alice@127.0.33.203>;tag=%08u\r\n"
          "To: <sip:bob@127.0.33.201>\r\n"
          "Call-ID: %08u@127.0.33.203\r\n"
          "CSeq: 1 INVITE\r\n"
          "Contact: <sip:alice@127.0.33.203:5060>\r\n"
          "User-Agent: bench\r\n"
          "Content-Type: application/sdp\r\n"
          "Content-Length: 129\r\n\r\n"
          "v=0\r\no=- 1 1 IN IP4 127.0.33.203\r\ns=-\r\nc=IN IP4 127.0.33.203\r\nt=0 0\r\n"
          "m=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n",
          i, i, i);
      g_autoptr (SpSipMessage) msg = sp_sip_message_parse ((const guint8 *) text, strlen (text),
                                                           SP_SIP_FRAMING_DATAGRAM, NULL, NULL);
      if (msg == NULL)
        {
          g_printerr ("bench INVITE does not parse\n");
          exit (1);
        }
      msg_bytes = strlen (text);
      sp_sip_transaction_layer_receive (layer, msg, &source);
    }
  after = heap_in_use ();
  printf ("pending_invite_transactions=%u\n", sp_sip_transaction_layer_get_n_server (layer));
  printf ("invite_wire_bytes=%" G_GSIZE_FORMAT "\n", msg_bytes);
  printf ("heap_bytes_per_pending_invite_transaction=%.0f\n",
          (double) (after - before) / (double) n);
  sp_sip_transaction_layer_free (layer);
}

int
main (int argc, char **argv)
{
  guint total = argc > 1 ? (guint) atoi (argv[1]) : 20000;

  if (total == 0 || total > 1000000)
    total = 20000;
  bench_options (total, 32);
  bench_invite_memory (10000);
  return 0;
}
