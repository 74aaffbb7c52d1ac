/* A small SIP user agent on SpSipStack, driven by options, for the SIPp
 * integration tests (sip-engine.py). It prints one line per event on
 * stdout ("EVENT name ...") and its counters at exit ("STAT name value"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib-unix.h>
#include <signal.h>

#include "sip/stack.h"

typedef struct
{
  GMainLoop *loop;
  SpSipStack *stack;
  int exit_code;
  /* options */
  char **binds;
  int t1;
  char *mode;
  int answer_delay;
  int answer_status;
  char *target;
  gboolean tcp;
  int bye_after;
  int cancel_after;
  int expect;
  int calls;
  int done;
  int timeout_s;
  gboolean send_100_only;
} Peer;

static void event (const char *fmt, ...) G_GNUC_PRINTF (1, 2);

static void
event (const char *fmt, ...)
{
  va_list ap;
  g_autofree char *line = NULL;

  va_start (ap, fmt);
  line = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  printf ("EVENT %s\n", line);
  fflush (stdout);
}

static void
call_done (Peer *peer)
{
  if (++peer->done >= peer->calls && peer->calls > 0)
    g_main_loop_quit (peer->loop);
}

/* ---- UAS ---- */

typedef struct
{
  Peer *peer;
  SpSipServerTransaction *st;
} Answer;

static gboolean
answer_now (gpointer data)
{
  Answer *a = data;

  if (sp_sip_server_transaction_get_state (a->st) == SP_SIP_TRANSACTION_PROCEEDING)
    {
      event ("answer %d", a->peer->answer_status);
      sp_sip_stack_reply (a->peer->stack, a->st, (guint) a->peer->answer_status, NULL);
      if (a->peer->answer_status >= 300)
        call_done (a->peer);
    }
  else
    event ("answer-skipped state=%s",
           sp_sip_transaction_state_to_string (sp_sip_server_transaction_get_state (a->st)));
  sp_sip_server_transaction_unref (a->st);
  g_free (a);
  return G_SOURCE_REMOVE;
}

static void
on_server_event (SpSipServerTransaction *st, SpSipServerEvent ev, gpointer user_data)
{
  Peer *peer = user_data;

  event ("server-transaction %s", ev == SP_SIP_SERVER_EVENT_CANCELLED ? "cancelled"
                                  : ev == SP_SIP_SERVER_EVENT_TIMEOUT ? "timeout"
                                                                      : "transport-error");
  if (ev == SP_SIP_SERVER_EVENT_CANCELLED)
    call_done (peer);
}

static gboolean
on_request (SpSipStack *stack, SpSipServerTransaction *st, SpSipMessage *request,
            SpSipDialog *dialog, gpointer user_data)
{
  Peer *peer = user_data;
  Answer *a;

  event ("request %s%s", sp_sip_message_get_method (request), dialog ? " in-dialog" : "");
  if (sp_sip_message_get_method_id (request) != SP_SIP_METHOD_INVITE || dialog != NULL)
    return FALSE; /* the stack's defaults: OPTIONS 200, BYE 200 ... */
  sp_sip_server_transaction_set_event_func (st, on_server_event, peer);
  sp_sip_stack_reply (stack, st, 180, NULL);
  if (peer->send_100_only)
    return TRUE;
  a = g_new0 (Answer, 1);
  a->peer = peer;
  a->st = sp_sip_server_transaction_ref (st);
  g_timeout_add (peer->answer_delay, answer_now, a);
  return TRUE;
}

static void
on_ack (SpSipStack *stack, SpSipMessage *ack, SpSipDialog *dialog, gpointer user_data)
{
  event ("ack cseq=%u", sp_sip_message_get_cseq (ack, NULL));
}

static void
on_ack_timeout (SpSipStack *stack, SpSipDialog *dialog, gpointer user_data)
{
  event ("ack-timeout");
  call_done (user_data);
}

static void
on_dialog_terminated (SpSipStack *stack, SpSipDialog *dialog, gpointer user_data)
{
  event ("dialog-terminated");
  call_done (user_data);
}

/* ---- UAC ---- */

typedef struct
{
  Peer *peer;
  SpSipDialog *dialog;
  SpSipClientTransaction *ct;
} Call;

static void on_response (SpSipStack *stack, SpSipClientTransaction *ct, SpSipMessage *response,
                         SpSipDialog *dialog, gpointer user_data);

static void
on_bye_response (SpSipStack *stack, SpSipClientTransaction *ct, SpSipMessage *response,
                 SpSipDialog *dialog, gpointer user_data)
{
  Peer *peer = user_data;
  guint status = sp_sip_message_get_status (response);

  event ("bye-response %u", status);
  if (status >= 200)
    {
      if (status >= 300)
        peer->exit_code = 1;
      call_done (peer);
    }
}

static gboolean
send_bye (gpointer data)
{
  Call *call = data;
  g_autoptr (GError) error = NULL;

  event ("send BYE");
  if (!sp_sip_stack_send_in_dialog (call->peer->stack, call->dialog, "BYE", on_bye_response,
                                    call->peer, &error))
    {
      event ("bye-failed %s", error->message);
      call->peer->exit_code = 1;
      g_main_loop_quit (call->peer->loop);
    }
  sp_sip_dialog_unref (call->dialog);
  g_free (call);
  return G_SOURCE_REMOVE;
}

static gboolean
send_cancel (gpointer data)
{
  Call *call = data;

  event ("send CANCEL");
  if (!sp_sip_client_transaction_cancel (call->ct, NULL, NULL))
    event ("cancel-refused");
  sp_sip_client_transaction_unref (call->ct);
  g_free (call);
  return G_SOURCE_REMOVE;
}

static void
on_response (SpSipStack *stack, SpSipClientTransaction *ct, SpSipMessage *response,
             SpSipDialog *dialog, gpointer user_data)
{
  Peer *peer = user_data;
  guint status = sp_sip_message_get_status (response);
  const char *method = sp_sip_message_get_method (response);

  event ("response %u %s", status, method);
  if (status < 200)
    return;
  if (peer->expect > 0 && (int) status != peer->expect)
    {
      event ("unexpected-status %u (wanted %d)", status, peer->expect);
      peer->exit_code = 1;
    }
  if (g_strcmp0 (method, "INVITE") == 0 && status < 300 && dialog && peer->bye_after >= 0)
    {
      Call *call = g_new0 (Call, 1);
      call->peer = peer;
      call->dialog = sp_sip_dialog_ref (dialog);
      g_timeout_add (peer->bye_after, send_bye, call);
      return;
    }
  call_done (peer);
}

static gboolean
start_uac (gpointer data)
{
  Peer *peer = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSipUri) uri = sp_sip_uri_parse (peer->target, -1, &error);
  g_autoptr (SpSipMessage) request = NULL;
  g_autofree char *to = NULL;
  SpSipClientTransaction *ct;
  const char *method = g_strcmp0 (peer->mode, "uac-options") == 0 ? "OPTIONS" : "INVITE";

  if (uri == NULL)
    {
      g_printerr ("bad target: %s\n", error->message);
      peer->exit_code = 2;
      g_main_loop_quit (peer->loop);
      return G_SOURCE_REMOVE;
    }
  to = g_strdup_printf ("<%s>", peer->target);
  request = sp_sip_stack_new_request (peer->stack, method, uri, "<sip:peer@127.0.0.1>", to, 1);
  ct = sp_sip_stack_send_request (peer->stack, request, NULL, on_response, peer, &error);
  if (ct == NULL)
    {
      g_printerr ("send: %s\n", error->message);
      peer->exit_code = 2;
      g_main_loop_quit (peer->loop);
      return G_SOURCE_REMOVE;
    }
  event ("sent %s", method);
  if (peer->cancel_after >= 0)
    {
      Call *call = g_new0 (Call, 1);
      call->peer = peer;
      call->ct = sp_sip_client_transaction_ref (ct);
      g_timeout_add (peer->cancel_after, send_cancel, call);
    }
  return G_SOURCE_REMOVE;
}

static gboolean
on_timeout (gpointer data)
{
  Peer *peer = data;

  event ("timeout");
  peer->exit_code = 3;
  g_main_loop_quit (peer->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
on_sigterm (gpointer data)
{
  Peer *peer = data;

  /* Stopped by the test runner: still print the counters. */
  g_main_loop_quit (peer->loop);
  return G_SOURCE_REMOVE;
}

static void
print_stats (Peer *peer)
{
  const SpSipTransportStats *ts =
      sp_sip_transport_get_stats (sp_sip_stack_get_transport (peer->stack));
  const SpSipTransactionStats *xs =
      sp_sip_transaction_layer_get_stats (sp_sip_stack_get_transactions (peer->stack));
  const SpSipStackStats *ss = sp_sip_stack_get_stats (peer->stack);

  printf ("STAT received %" G_GUINT64_FORMAT "\n", ts->messages_received);
  printf ("STAT parse_failures %" G_GUINT64_FORMAT "\n", ts->parse_failures);
  printf ("STAT bad_requests_answered %" G_GUINT64_FORMAT "\n", ts->bad_requests_answered);
  printf ("STAT dropped %" G_GUINT64_FORMAT "\n", ts->dropped);
  printf ("STAT udp_to_tcp %" G_GUINT64_FORMAT "\n", ts->udp_to_tcp_switches);
  printf ("STAT retransmissions_sent %" G_GUINT64_FORMAT "\n", xs->retransmissions_sent);
  printf ("STAT retransmissions_absorbed %" G_GUINT64_FORMAT "\n", xs->retransmissions_absorbed);
  printf ("STAT timeouts %" G_GUINT64_FORMAT "\n", xs->timeouts);
  printf ("STAT cancel_481 %" G_GUINT64_FORMAT "\n", xs->cancel_481);
  printf ("STAT unknown_dialog_481 %" G_GUINT64_FORMAT "\n", ss->unknown_dialog_481);
  printf ("STAT acks_for_2xx_sent %" G_GUINT64_FORMAT "\n", ss->acks_for_2xx_sent);
  printf ("STAT responses_2xx_retransmitted %" G_GUINT64_FORMAT "\n",
          ss->responses_2xx_retransmitted);
  printf ("STAT ack_timeouts %" G_GUINT64_FORMAT "\n", ss->ack_timeouts);
  printf ("STAT forked_2xx_byes %" G_GUINT64_FORMAT "\n", ss->forked_2xx_byes);
  fflush (stdout);
}

static gboolean
bind_all (Peer *peer)
{
  for (guint i = 0; peer->binds && peer->binds[i]; i++)
    {
      /* udp:HOST:PORT or tcp:HOST:PORT; an IPv6 HOST in brackets. */
      g_autoptr (GError) error = NULL;
      const char *spec = peer->binds[i];
      SpSipTransportKind kind =
          g_str_has_prefix (spec, "tcp:") ? SP_SIP_TRANSPORT_TCP : SP_SIP_TRANSPORT_UDP;
      const char *hp = strchr (spec, ':');
      const char *colon = hp ? strrchr (hp + 1, ':') : NULL;
      g_autofree char *host = NULL;
      SpSipPeer bound;

      if (hp == NULL || colon == NULL)
        return FALSE;
      host = g_strndup (hp + 1, colon - hp - 1);
      if (host[0] == '[')
        {
          char *h = g_strndup (host + 1, strlen (host) - 2);
          g_free (host);
          host = h;
        }
      if (!sp_sip_stack_listen (peer->stack, kind, host, (guint16) atoi (colon + 1), &bound,
                                &error))
        {
          g_printerr ("listen %s: %s\n", spec, error->message);
          return FALSE;
        }
      event ("listening %s %s %u", sp_sip_transport_kind_to_string (bound.kind), bound.host,
             bound.port);
    }
  return TRUE;
}

int
main (int argc, char **argv)
{
  Peer peer = { .t1 = 500,
                .answer_delay = 0,
                .answer_status = 200,
                .bye_after = -1,
                .cancel_after = -1,
                .calls = 1,
                .timeout_s = 30 };
  g_autofree char *mode = NULL;
  GOptionEntry entries[] = {
    { "bind", 'b', 0, G_OPTION_ARG_STRING_ARRAY, &peer.binds, "udp:HOST:PORT / tcp:HOST:PORT",
      NULL },
    { "t1", 0, 0, G_OPTION_ARG_INT, &peer.t1, "T1 in ms", NULL },
    { "mode", 'm', 0, G_OPTION_ARG_STRING, &mode, "uas, uac-invite or uac-options", NULL },
    { "answer-delay", 0, 0, G_OPTION_ARG_INT, &peer.answer_delay, "UAS: ms before the final",
      NULL },
    { "answer-status", 0, 0, G_OPTION_ARG_INT, &peer.answer_status, "UAS: final status", NULL },
    { "ring-only", 0, 0, G_OPTION_ARG_NONE, &peer.send_100_only, "UAS: never answer", NULL },
    { "target", 't', 0, G_OPTION_ARG_STRING, &peer.target, "UAC: request URI", NULL },
    { "bye-after", 0, 0, G_OPTION_ARG_INT, &peer.bye_after, "UAC: ms before BYE", NULL },
    { "cancel-after", 0, 0, G_OPTION_ARG_INT, &peer.cancel_after, "UAC: ms before CANCEL", NULL },
    { "expect", 0, 0, G_OPTION_ARG_INT, &peer.expect, "UAC: expected final status", NULL },
    { "calls", 'n', 0, G_OPTION_ARG_INT, &peer.calls, "exit after N calls (0 = never)", NULL },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &peer.timeout_s, "give up after S seconds", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- SIP engine test peer");
  g_autoptr (GError) error = NULL;
  SpSipTimerSettings timers;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  peer.mode = mode ? mode : g_strdup ("uas");
  mode = peer.mode;
  sp_sip_timer_settings_init (&timers);
  timers.t1 = (guint) peer.t1;
  timers.t2 = 8 * timers.t1;
  timers.t4 = 10 * timers.t1;
  timers.timer_d = 64 * timers.t1;

  peer.loop = g_main_loop_new (NULL, FALSE);
  peer.stack = sp_sip_stack_new (NULL, &timers);
  sp_sip_stack_set_user_agent (peer.stack, "sip-test-peer");
  g_signal_connect (peer.stack, "request", G_CALLBACK (on_request), &peer);
  g_signal_connect (peer.stack, "ack", G_CALLBACK (on_ack), &peer);
  g_signal_connect (peer.stack, "ack-timeout", G_CALLBACK (on_ack_timeout), &peer);
  g_signal_connect (peer.stack, "dialog-terminated", G_CALLBACK (on_dialog_terminated), &peer);
  if (!bind_all (&peer))
    {
      g_object_unref (peer.stack);
      g_main_loop_unref (peer.loop);
      g_strfreev (peer.binds);
      g_free (peer.target);
      return 2;
    }
  printf ("READY\n");
  fflush (stdout);
  if (g_str_has_prefix (peer.mode, "uac"))
    g_idle_add (start_uac, &peer);
  g_timeout_add_seconds ((guint) peer.timeout_s, on_timeout, &peer);
  g_unix_signal_add (SIGTERM, on_sigterm, &peer);
  g_main_loop_run (peer.loop);
  /* Let the last responses and ACKs leave. */
  {
    GMainContext *ctx = g_main_context_default ();
    gint64 until = g_get_monotonic_time () + 200 * 1000;
    while (g_get_monotonic_time () < until)
      g_main_context_iteration (ctx, FALSE) || (g_usleep (1000), TRUE);
  }
  print_stats (&peer);
  g_object_unref (peer.stack);
  g_main_loop_unref (peer.loop);
  g_strfreev (peer.binds);
  g_free (peer.target);
  return peer.exit_code;
}
