/* SUBSCRIBE/NOTIFY (RFC 6665): session/notifier.c and session/subscriber.c
 * between two stacks on loopback, timers on a fake clock. */
#include <gio/gio.h>
#include <string.h>

#include "../common/pump.h"
#include "session/notifier.h"
#include "session/subscriber.h"
#include "sip/clock.h"

#define ADDR_A "127.0.67.1"
#define ADDR_B "127.0.67.2"

typedef struct
{
  SpSipClock *clock;
  SpSipStack *a, *b;
  SpSipPeer a_bound, b_bound;
  SpNotifier *notifier;
  SpNotifierLimits limits;
  SpSubscriber *sub;
  guint state;      /* the notifier's resource state, in the body */
  guint subscribes; /* SUBSCRIBEs B saw */
  guint notifies;   /* NOTIFYs A took */
  char *last_body;
  SpSubscriberState sub_state;
  guint sub_status;
  guint state_changes;
} Fixture;

static char *
body_func (const char *event, const char *resource, const char *watcher, guint version,
           const char **content_type, gpointer data)
{
  Fixture *f = data;

  *content_type = "text/plain";
  return g_strdup_printf ("%s=%u", resource, f->state);
}

static gboolean
on_b_request (SpSipStack *stack, SpSipServerTransaction *st, SpSipMessage *request,
              SpSipDialog *dialog, gpointer data)
{
  Fixture *f = data;

  if (sp_sip_message_get_method_id (request) != SP_SIP_METHOD_SUBSCRIBE)
    return FALSE;
  f->subscribes++;
  if (dialog != NULL && !sp_notifier_owns_dialog (f->notifier, dialog))
    return FALSE;
  sp_notifier_handle_subscribe (f->notifier, st, request, dialog, "alice", "bob");
  return TRUE;
}

static gboolean
on_a_request (SpSipStack *stack, SpSipServerTransaction *st, SpSipMessage *request,
              SpSipDialog *dialog, gpointer data)
{
  Fixture *f = data;

  return f->sub != NULL && sp_subscriber_handle_request (f->sub, st, request, dialog);
}

static gboolean
on_a_missing (SpSipStack *stack, SpSipMessage *request, gpointer data)
{
  Fixture *f = data;

  return f->sub != NULL && sp_subscriber_take_early_notify (f->sub, request);
}

static void
on_notify (SpSubscriber *sub, const char *type, const char *body, gsize len, gpointer data)
{
  Fixture *f = data;

  g_assert_cmpstr (type, ==, "text/plain");
  f->notifies++;
  g_free (f->last_body);
  f->last_body = g_strndup (body, len);
}

static void
on_state (SpSubscriber *sub, SpSubscriberState state, guint status, const char *reason,
          gpointer data)
{
  Fixture *f = data;

  f->sub_state = state;
  f->sub_status = status;
  f->state_changes++;
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->clock = sp_sip_clock_new_fake ();
  f->a = sp_sip_stack_new (f->clock, NULL);
  f->b = sp_sip_stack_new (f->clock, NULL);
  g_assert_true (sp_sip_stack_listen (f->a, SP_SIP_TRANSPORT_UDP, ADDR_A, 0, &f->a_bound, &error));
  g_assert_true (sp_sip_stack_listen (f->b, SP_SIP_TRANSPORT_UDP, ADDR_B, 0, &f->b_bound, &error));
  sp_notifier_limits_init (&f->limits);
  f->notifier = sp_notifier_new (f->b, &f->limits);
  sp_notifier_add_package (f->notifier, "presence", "text/plain", body_func, f);
  g_signal_connect (f->b, "request", G_CALLBACK (on_b_request), f);
  g_signal_connect (f->a, "request", G_CALLBACK (on_a_request), f);
  g_signal_connect (f->a, "dialog-missing", G_CALLBACK (on_a_missing), f);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->sub, sp_subscriber_free);
  g_clear_pointer (&f->notifier, sp_notifier_free);
  g_clear_object (&f->a);
  g_clear_object (&f->b);
  g_free (f->last_body);
  sp_sip_clock_unref (f->clock);
}

static void
subscribe (Fixture *f, const char *event, guint expires)
{
  static const SpSubscriberFuncs funcs = { on_notify, on_state };
  g_autofree char *target = g_strdup_printf ("sip:bob@%s:%u", ADDR_B, f->b_bound.port);

  f->sub = sp_subscriber_new (f->a, NULL, NULL, target, "<sip:alice@" ADDR_A ">", event,
                              "text/plain", expires, &funcs, f);
  sp_subscriber_start (f->sub);
}

/* Subscribed: the 200 and the first NOTIFY with the state; changes come
 * as NOTIFYs; a burst is coalesced and ends on the latest state. */
static void
test_notify_and_coalesce (Fixture *f, gconstpointer data)
{
  subscribe (f, "presence", 600);
  TEST_PUMP_UNTIL (f->notifies == 1);
  g_assert_cmpstr (f->last_body, ==, "bob=0");
  g_assert_cmpint (f->sub_state, ==, SP_SUBSCRIBER_ACTIVE);
  g_assert_cmpuint (sp_notifier_get_n_subscriptions (f->notifier), ==, 1);

  test_advance (f->clock, 1000, 50);
  f->state = 1;
  sp_notifier_resource_changed (f->notifier, "bob");
  TEST_PUMP_UNTIL (f->notifies == 2);
  g_assert_cmpstr (f->last_body, ==, "bob=1");

  /* Ten changes at once: at most one NOTIFY per 200 ms, the last says 11. */
  for (guint i = 2; i <= 11; i++)
    {
      f->state = i;
      sp_notifier_resource_changed (f->notifier, "bob");
    }
  test_pump (50);
  test_advance (f->clock, 1000, 20);
  test_pump (50);
  g_assert_cmpstr (f->last_body, ==, "bob=11");
  g_assert_cmpuint (f->notifies, <=, 4);
}

/* The subscriber refreshes before the end (expires - 32 s); without
 * a refresh the notifier ends it (terminated;reason=timeout). */
static void
test_refresh_and_expiry (Fixture *f, gconstpointer data)
{
  subscribe (f, "presence", 120);
  TEST_PUMP_UNTIL (f->notifies == 1);
  g_assert_cmpuint (f->subscribes, ==, 1);
  test_advance (f->clock, 87000, 1000);
  g_assert_cmpuint (f->subscribes, ==, 1);
  test_advance (f->clock, 2000, 100);
  TEST_PUMP_UNTIL (f->subscribes == 2);
  TEST_PUMP_UNTIL (f->notifies == 2); /* a refresh gets the full state */
  g_assert_cmpuint (sp_notifier_get_n_subscriptions (f->notifier), ==, 1);

  /* Gone without a word: the notifier's timer ends it. */
  g_clear_pointer (&f->sub, sp_subscriber_free);
  test_advance (f->clock, 121000, 1000);
  test_pump (20);
  g_assert_cmpuint (sp_notifier_get_n_subscriptions (f->notifier), ==, 0);
  g_assert_cmpuint (sp_sip_stack_get_n_dialogs (f->b), ==, 0);
}

/* 423 with Min-Expires: asked again once with the minimum. */
static void
test_min_expires (Fixture *f, gconstpointer data)
{
  subscribe (f, "presence", 30);
  TEST_PUMP_UNTIL (f->notifies == 1);
  g_assert_cmpuint (f->subscribes, ==, 2);
  g_assert_cmpint (f->sub_state, ==, SP_SUBSCRIBER_ACTIVE);
}

/* An unknown package: 489, ended for good. */
static void
test_bad_event (Fixture *f, gconstpointer data)
{
  subscribe (f, "message-summary", 600);
  TEST_PUMP_UNTIL (f->sub_state == SP_SUBSCRIBER_TERMINATED);
  g_assert_cmpuint (f->sub_status, ==, 489);
  g_assert_cmpuint (f->notifies, ==, 0);
  g_assert_cmpuint (sp_notifier_get_n_subscriptions (f->notifier), ==, 0);
}

/* Unsubscribe (Expires: 0): the notifier forgets it at once. */
static void
test_unsubscribe (Fixture *f, gconstpointer data)
{
  subscribe (f, "presence", 600);
  TEST_PUMP_UNTIL (f->notifies == 1);
  sp_subscriber_stop (f->sub);
  TEST_PUMP_UNTIL (sp_notifier_get_n_subscriptions (f->notifier) == 0);
  g_assert_cmpuint (sp_sip_stack_get_n_dialogs (f->a), ==, 0);
}

/* The notifier restarts and lost it: the refresh gets 481, a new
 * SUBSCRIBE follows and the state comes again. */
static void
test_notifier_restart (Fixture *f, gconstpointer data)
{
  subscribe (f, "presence", 600);
  TEST_PUMP_UNTIL (f->notifies == 1);
  sp_notifier_free (f->notifier);
  f->notifier = sp_notifier_new (f->b, &f->limits);
  sp_notifier_add_package (f->notifier, "presence", "text/plain", body_func, f);
  f->state = 7;
  sp_subscriber_refresh (f->sub);
  TEST_PUMP_UNTIL (f->sub_state == SP_SUBSCRIBER_RETRYING);
  test_advance (f->clock, 2000, 100);
  TEST_PUMP_UNTIL (f->notifies == 2);
  g_assert_cmpstr (f->last_body, ==, "bob=7");
  g_assert_cmpint (f->sub_state, ==, SP_SUBSCRIBER_ACTIVE);
  g_assert_cmpuint (sp_notifier_get_n_subscriptions (f->notifier), ==, 1);
}

/* The caps: past max_per_watcher, 503. */
static void
test_cap (Fixture *f, gconstpointer data)
{
  f->limits.max_per_watcher = 1;
  sp_notifier_set_limits (f->notifier, &f->limits);
  subscribe (f, "presence", 600);
  TEST_PUMP_UNTIL (f->notifies == 1);
  {
    static const SpSubscriberFuncs funcs = { NULL, on_state };
    g_autofree char *target = g_strdup_printf ("sip:bob@%s:%u", ADDR_B, f->b_bound.port);
    Fixture g = { 0 };
    g_autoptr (SpSubscriber) second =
        sp_subscriber_new (f->a, NULL, NULL, target, "<sip:alice@" ADDR_A ">", "presence",
                           "text/plain", 600, &funcs, &g);
    sp_subscriber_start (second);
    TEST_PUMP_UNTIL (g.sub_state == SP_SUBSCRIBER_RETRYING);
    g_assert_cmpuint (g.sub_status, ==, 503);
  }
  g_assert_cmpuint (sp_notifier_get_n_subscriptions (f->notifier), ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(name, fn)                                                                              \
  g_test_add ("/subscription/" name, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("notify-and-coalesce", test_notify_and_coalesce);
  ADD ("refresh-and-expiry", test_refresh_and_expiry);
  ADD ("min-expires", test_min_expires);
  ADD ("bad-event", test_bad_event);
  ADD ("unsubscribe", test_unsubscribe);
  ADD ("notifier-restart", test_notifier_restart);
  ADD ("cap", test_cap);
  return g_test_run ();
}
