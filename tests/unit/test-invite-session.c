/* The SIP session layer (session/invite-session.c) on a fake clock.
 *
 * Two stacks on loopback, each with one SpInviteSession and a scripted
 * owner that makes numbered SDP bodies, call each other: a late offer,
 * glare from both sides at once (RFC 3261 14.1's two waits), session
 * timers in both roles (refresh at half the interval, BYE at expiry when
 * the refresher goes quiet, 422 and Min-SE). A raw UDP peer challenges a
 * re-INVITE and a BYE, and checks the credential policy: a foreign realm
 * is not answered, stale=true is answered once more, a refused password
 * is not sent again. Timers only move when the test advances the clock;
 * packets cross loopback in real time meanwhile. */
#include <gio/gio.h>
#include <string.h>

#include "../common/pump.h"
#include "../common/raw-sip.h"
#include "session/invite-session.h"
#include "sip/clock.h"
#include "sip/digest.h"

#define ADDR_A   "127.0.66.1"
#define ADDR_B   "127.0.66.2"
#define ADDR_RAW "127.0.66.3"

/* ---- a scripted owner ------------------------------------------------------ */

typedef struct
{
  const char *name;
  guint version;       /* of our SDP */
  char *remote_sdp;    /* the last SDP we took (offer or answer) */
  guint offers;        /* offers we made */
  guint answers_made;  /* their offers we answered */
  guint answers_taken; /* answers to ours */
  guint withdrawn;     /* our offers that got no answer */
  guint established;
  guint media_changed;
  guint modified;        /* our modify () completed */
  guint modified_status; /* ... with this */
  gint64 modified_at;    /* ... at this clock time */
  gboolean ended;
  gint64 ended_at;
  SpSessionEndKind end_kind;
  guint end_code;
  GError *end_error;
  SpSipClock *clock;
  gboolean defer; /* answer their offers later (SP_SESSION_ANSWER_LATER) */
  guint deferred; /* offers left pending so */
  SpSipStack *stack;
  gboolean refuse; /* check_request answers their requests 403 itself */
  guint refused;
  guint retry_offers; /* second offers it gives after a 488 */
  guint retried;
} Owner;

static char *
make_sdp (Owner *o)
{
  return g_strdup_printf ("v=0\r\no=%s 1 %u IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n", o->name,
                          ++o->version);
}

static char *
on_create_offer (SpInviteSession *s, gpointer data)
{
  Owner *o = data;

  o->offers++;
  return make_sdp (o);
}

static char *
on_answer_offer (SpInviteSession *s, const char *sdp, gsize len, guint *status, GError **error,
                 gpointer data)
{
  Owner *o = data;

  g_free (o->remote_sdp);
  o->remote_sdp = g_strndup (sdp, len);
  if (o->defer)
    {
      o->deferred++;
      *status = SP_SESSION_ANSWER_LATER;
      return NULL;
    }
  o->answers_made++;
  return make_sdp (o);
}

static gboolean
on_take_answer (SpInviteSession *s, const char *sdp, gsize len, GError **error, gpointer data)
{
  Owner *o = data;

  o->answers_taken++;
  g_free (o->remote_sdp);
  o->remote_sdp = g_strndup (sdp, len);
  return TRUE;
}

static void
on_withdrawn (SpInviteSession *s, gpointer data)
{
  ((Owner *) data)->withdrawn++;
}

static void
on_established (SpInviteSession *s, gpointer data)
{
  ((Owner *) data)->established++;
}

static void
on_media_changed (SpInviteSession *s, gpointer data)
{
  ((Owner *) data)->media_changed++;
}

static void
on_modified (SpInviteSession *s, guint status, gpointer data)
{
  Owner *o = data;

  o->modified++;
  o->modified_status = status;
  o->modified_at = sp_sip_clock_now (o->clock);
}

static void
on_ended (SpInviteSession *s, const SpSessionEnd *end, gpointer data)
{
  Owner *o = data;

  o->ended = TRUE;
  o->ended_at = sp_sip_clock_now (o->clock);
  o->end_kind = end->kind;
  o->end_code = end->code;
  g_clear_error (&o->end_error);
  if (end->error != NULL)
    o->end_error = g_error_copy (end->error);
}

static gboolean
on_check_request (SpInviteSession *s, SpSipServerTransaction *st, SpSipMessage *request,
                  gpointer data)
{
  Owner *o = data;

  if (!o->refuse)
    return TRUE;
  o->refused++;
  sp_sip_stack_reply (o->stack, st, 403, NULL);
  return FALSE;
}

static char *
on_retry_offer (SpInviteSession *s, SpSipMessage *response, gpointer data)
{
  Owner *o = data;

  if (o->retried == o->retry_offers)
    return NULL;
  o->retried++;
  return make_sdp (o);
}

static const SpInviteSessionCallbacks callbacks = {
  .create_offer = on_create_offer,
  .answer_offer = on_answer_offer,
  .take_answer = on_take_answer,
  .offer_withdrawn = on_withdrawn,
  .established = on_established,
  .media_changed = on_media_changed,
  .modified = on_modified,
  .ended = on_ended,
  .check_request = on_check_request,
  .retry_offer = on_retry_offer,
};

/* ---- one side: a stack, its session, its owner ---------------------------- */

typedef struct
{
  SpSipStack *stack;
  SpSipPeer bound;
  SpInviteSession *session;
  Owner owner;
  SpSessionTimerSettings timer; /* for the session it creates when called */
  guint updates;                /* UPDATEs received */
  guint reinvites;              /* re-INVITEs received */
  guint byes;
  gboolean auto_accept; /* answer an incoming INVITE at once */
  gboolean adopt;       /* answer an INVITE with the stack alone, then adopt the dialog */
} Side;

typedef struct
{
  SpSipClock *clock;
  Side a, b;
} Fixture;

/* The callee's side set up by hand (as a B2BUA answers its caller):
 * our 200 with an answer sent through the stack, then its dialog
 * adopted by a new session. */
static void
adopt_incoming (Side *side, SpSipServerTransaction *st, SpSipMessage *invite)
{
  g_autoptr (SpSipMessage) ok = sp_sip_server_transaction_new_response (st, 200, NULL);
  g_autofree char *sdp = make_sdp (&side->owner);
  g_autofree char *id = NULL;
  SpSipDialog *dialog;

  sp_sip_message_set_body (ok, "application/sdp", (const guint8 *) sdp, strlen (sdp));
  g_assert_true (sp_sip_stack_respond (side->stack, st, ok, NULL));
  id = sp_sip_dialog_id_for_uas (invite, sp_sip_server_transaction_get_to_tag (st));
  dialog = sp_sip_stack_lookup_dialog (side->stack, id);
  g_assert_nonnull (dialog);
  side->session =
      sp_invite_session_new (side->stack, NULL, side->owner.name, &callbacks, &side->owner);
  sp_invite_session_adopt (side->session, dialog, FALSE, sp_sip_server_transaction_get_source (st),
                           0);
  sp_invite_session_adopt_exchange (side->session, invite, ok, NULL);
}

static gboolean
on_request (SpSipStack *stack, SpSipServerTransaction *st, SpSipMessage *request,
            SpSipDialog *dialog, gpointer data)
{
  Side *side = data;
  SpSipMethod method = sp_sip_message_get_method_id (request);

  if (dialog == NULL && method == SP_SIP_METHOD_INVITE && side->adopt)
    {
      adopt_incoming (side, st, request);
      return TRUE;
    }

  if (dialog == NULL && method == SP_SIP_METHOD_INVITE &&
      (side->session == NULL ||
       sp_invite_session_get_state (side->session) == SP_INVITE_SESSION_TERMINATED))
    {
      g_clear_pointer (&side->session, sp_invite_session_unref);
      side->session =
          sp_invite_session_new (stack, NULL, side->owner.name, &callbacks, &side->owner);
      sp_invite_session_set_timer (side->session, &side->timer);
      if (!sp_invite_session_receive_invite (side->session, st, request))
        return TRUE; /* 422 */
      sp_invite_session_respond (side->session, 180, NULL, NULL);
      if (side->auto_accept)
        g_assert_true (sp_invite_session_accept (side->session, NULL));
      return TRUE;
    }
  if (side->session == NULL)
    return FALSE;
  if (method == SP_SIP_METHOD_UPDATE)
    side->updates++;
  else if (method == SP_SIP_METHOD_INVITE)
    side->reinvites++;
  else if (method == SP_SIP_METHOD_BYE)
    side->byes++;
  return sp_invite_session_handle_request (side->session, st, request);
}

static void
on_ack (SpSipStack *stack, SpSipMessage *ack, SpSipDialog *dialog, gpointer data)
{
  Side *side = data;

  if (side->session != NULL)
    sp_invite_session_handle_ack (side->session, ack);
}

static void
side_init (Fixture *f, Side *side, const char *name, const char *addr)
{
  g_autoptr (GError) error = NULL;

  side->stack = sp_sip_stack_new (f->clock, NULL);
  g_assert_true (
      sp_sip_stack_listen (side->stack, SP_SIP_TRANSPORT_UDP, addr, 0, &side->bound, &error));
  g_assert_no_error (error);
  side->owner.name = name;
  side->owner.clock = f->clock;
  side->owner.stack = side->stack;
  side->auto_accept = TRUE;
  sp_session_timer_settings_init (&side->timer);
  g_signal_connect (side->stack, "request", G_CALLBACK (on_request), side);
  g_signal_connect (side->stack, "ack", G_CALLBACK (on_ack), side);
}

static void
side_clear (Side *side)
{
  if (side->session != NULL)
    sp_invite_session_detach (side->session);
  g_clear_pointer (&side->session, sp_invite_session_unref);
  g_clear_object (&side->stack);
  g_free (side->owner.remote_sdp);
  g_clear_error (&side->owner.end_error);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->clock = sp_sip_clock_new_fake ();
  side_init (f, &f->a, "alice", ADDR_A);
  side_init (f, &f->b, "bob", ADDR_B);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  side_clear (&f->a);
  side_clear (&f->b);
  sp_sip_clock_unref (f->clock);
}

/* A calls B: an INVITE with an offer (@late: without), answered. */
static void
call (Fixture *f, gboolean late)
{
  g_autoptr (SpSipUri) uri = NULL;
  g_autofree char *ruri = g_strdup_printf ("sip:bob@%s:%u", ADDR_B, f->b.bound.port);
  g_autoptr (SpSipMessage) invite = NULL;
  g_autoptr (GError) error = NULL;

  uri = sp_sip_uri_parse (ruri, -1, &error);
  g_assert_no_error (error);
  invite = sp_sip_stack_new_request (f->a.stack, "INVITE", uri, "<sip:alice@" ADDR_A ">",
                                     "<sip:bob@" ADDR_B ">", 1);
  if (!late)
    {
      g_autofree char *sdp = make_sdp (&f->a.owner);
      sp_sip_message_set_body (invite, "application/sdp", (const guint8 *) sdp, strlen (sdp));
    }
  f->a.session = sp_invite_session_new (f->a.stack, NULL, "alice", &callbacks, &f->a.owner);
  sp_invite_session_set_timer (f->a.session, &f->a.timer);
  g_assert_true (sp_invite_session_send_invite (f->a.session, invite, &f->b.bound, &error));
  g_assert_no_error (error);
}

static void
establish (Fixture *f)
{
  call (f, FALSE);
  TEST_PUMP_UNTIL (f->a.owner.established == 1 && f->b.owner.established == 1);
  g_assert_cmpint (sp_invite_session_get_state (f->a.session), ==, SP_INVITE_SESSION_CONFIRMED);
  g_assert_cmpint (sp_invite_session_get_state (f->b.session), ==, SP_INVITE_SESSION_CONFIRMED);
}

/* ---- late offer -------------------------------------------------------------- */

/* An INVITE without SDP: B offers in its 200 (and waits in ANSWERED), A
 * answers in the ACK, B takes the answer from it and only then stands. */
static void
test_late_offer (Fixture *f, gconstpointer data)
{
  f->b.auto_accept = FALSE;
  call (f, TRUE);
  TEST_PUMP_UNTIL (f->b.session != NULL &&
                   sp_invite_session_get_state (f->b.session) == SP_INVITE_SESSION_INCOMING);
  g_assert_cmpint (sp_invite_session_get_offer_state (f->b.session), ==, SP_SESSION_OFFER_NONE);
  g_assert_true (sp_invite_session_accept (f->b.session, NULL));
  g_assert_cmpint (sp_invite_session_get_state (f->b.session), ==, SP_INVITE_SESSION_ANSWERED);
  g_assert_cmpint (sp_invite_session_get_offer_state (f->b.session), ==, SP_SESSION_OFFER_LOCAL);
  g_assert_cmpuint (f->b.owner.established, ==, 0);

  TEST_PUMP_UNTIL (f->b.owner.established == 1);
  g_assert_cmpuint (f->a.owner.established, ==, 1);
  g_assert_cmpuint (f->b.owner.offers, ==, 1);       /* in the 200 */
  g_assert_cmpuint (f->a.owner.answers_made, ==, 1); /* in the ACK */
  g_assert_cmpuint (f->b.owner.answers_taken, ==, 1);
  g_assert_nonnull (strstr (f->a.owner.remote_sdp, "o=bob 1 1 "));
  g_assert_nonnull (strstr (f->b.owner.remote_sdp, "o=alice 1 1 "));
  g_assert_cmpint (sp_invite_session_get_offer_state (f->a.session), ==, SP_SESSION_OFFER_NONE);
  g_assert_cmpint (sp_invite_session_get_offer_state (f->b.session), ==, SP_SESSION_OFFER_NONE);
  g_assert_cmpint (sp_invite_session_get_state (f->b.session), ==, SP_INVITE_SESSION_CONFIRMED);
}

/* ---- answers given later (a B2BUA's legs) --------------------------------------- */

/* Their re-INVITE's offer is left pending: nothing answers it (A's
 * re-INVITE stays out, neither side can start another exchange) until
 * sp_invite_session_answer () sends the 200; then A takes that answer. */
static void
test_deferred_reinvite (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *answer = NULL;

  establish (f);
  f->b.owner.defer = TRUE;
  g_assert_true (sp_invite_session_modify (f->a.session, NULL));
  TEST_PUMP_UNTIL (f->b.owner.deferred == 1);
  g_assert_true (sp_invite_session_is_answer_pending (f->b.session));
  g_assert_cmpint (sp_invite_session_get_offer_state (f->b.session), ==, SP_SESSION_OFFER_REMOTE);
  g_assert_nonnull (strstr (f->b.owner.remote_sdp, "o=alice 1 2 "));

  /* Five seconds pass (the other leg takes its time): still pending. */
  test_advance (f->clock, 5000, 100);
  g_assert_cmpuint (f->a.owner.modified, ==, 0);
  g_assert_cmpuint (f->b.owner.media_changed, ==, 0);
  g_assert_true (sp_invite_session_is_answer_pending (f->b.session));
  g_assert_false (sp_invite_session_modify (f->b.session, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BUSY);
  g_clear_error (&error);

  answer = make_sdp (&f->b.owner);
  g_assert_true (sp_invite_session_answer (f->b.session, answer, &error));
  g_assert_no_error (error);
  g_assert_false (sp_invite_session_is_answer_pending (f->b.session));
  g_assert_cmpuint (f->b.owner.media_changed, ==, 1);
  TEST_PUMP_UNTIL (f->a.owner.modified == 1);
  g_assert_cmpuint (f->a.owner.modified_status, ==, 200);
  g_assert_cmpuint (f->a.owner.answers_taken, ==, 2);
  g_assert_nonnull (strstr (f->a.owner.remote_sdp, "o=bob 1 2 "));
  g_assert_cmpint (sp_invite_session_get_offer_state (f->a.session), ==, SP_SESSION_OFFER_NONE);
  g_assert_cmpint (sp_invite_session_get_offer_state (f->b.session), ==, SP_SESSION_OFFER_NONE);
  /* Nothing is pending any more: a second answer is an error. */
  g_assert_false (sp_invite_session_answer (f->b.session, answer, &error));
  g_assert_nonnull (error);
  /* And the next exchange works as usual. */
  f->b.owner.defer = FALSE;
  g_assert_true (sp_invite_session_modify (f->a.session, NULL));
  TEST_PUMP_UNTIL (f->a.owner.modified == 2);
  g_assert_cmpuint (f->a.owner.modified_status, ==, 200);
}

/* A pending offer refused later: the re-INVITE gets that status with
 * its Warning, A's offer is withdrawn, the call goes on. */
static void
test_deferred_reject (Fixture *f, gconstpointer data)
{
  establish (f);
  f->b.owner.defer = TRUE;
  g_assert_true (sp_invite_session_modify (f->a.session, NULL));
  TEST_PUMP_UNTIL (f->b.owner.deferred == 1);
  g_assert_false (sp_invite_session_reject_offer (f->b.session, 200, NULL));
  g_assert_true (sp_invite_session_reject_offer (f->b.session, 488, "no common codec"));
  g_assert_false (sp_invite_session_is_answer_pending (f->b.session));
  TEST_PUMP_UNTIL (f->a.owner.modified == 1);
  g_assert_cmpuint (f->a.owner.modified_status, ==, 488);
  g_assert_cmpuint (f->a.owner.withdrawn, ==, 1);
  g_assert_cmpint (sp_invite_session_get_state (f->a.session), ==, SP_INVITE_SESSION_CONFIRMED);
  g_assert_cmpint (sp_invite_session_get_state (f->b.session), ==, SP_INVITE_SESSION_CONFIRMED);
  g_assert_false (sp_invite_session_reject_offer (f->b.session, 488, NULL));
  g_assert_false (f->a.owner.ended || f->b.owner.ended);
}

/* A BYE while their re-INVITE waits for our answer: the re-INVITE gets
 * 487 (A's offer is withdrawn) and B's session ends. */
static void
test_deferred_bye (Fixture *f, gconstpointer data)
{
  establish (f);
  f->b.owner.defer = TRUE;
  g_assert_true (sp_invite_session_modify (f->a.session, NULL));
  TEST_PUMP_UNTIL (f->b.owner.deferred == 1);
  sp_invite_session_end (f->a.session);
  TEST_PUMP_UNTIL (f->b.owner.ended);
  g_assert_cmpint (f->b.owner.end_kind, ==, SP_SESSION_END_REMOTE_BYE);
  g_assert_false (sp_invite_session_is_answer_pending (f->b.session));
  g_assert_false (sp_invite_session_answer (f->b.session, "v=0\r\n", NULL));
}

/* The INVITE's offer answered later: accept () sends nothing yet, the
 * caller hears ringing only; sp_invite_session_answer () sends the 200. */
static void
test_deferred_accept (Fixture *f, gconstpointer data)
{
  g_autofree char *answer = NULL;
  g_autoptr (GError) error = NULL;

  f->b.owner.defer = TRUE; /* accept () runs at once, as auto_accept */
  call (f, FALSE);
  TEST_PUMP_UNTIL (f->b.owner.deferred == 1);
  g_assert_true (sp_invite_session_is_answer_pending (f->b.session));
  g_assert_cmpint (sp_invite_session_get_state (f->b.session), ==, SP_INVITE_SESSION_INCOMING);
  test_pump (50);
  g_assert_cmpuint (f->a.owner.established, ==, 0);
  g_assert_cmpint (sp_invite_session_get_state (f->a.session), ==, SP_INVITE_SESSION_CALLING);

  answer = make_sdp (&f->b.owner);
  g_assert_true (sp_invite_session_answer (f->b.session, answer, &error));
  g_assert_no_error (error);
  TEST_PUMP_UNTIL (f->a.owner.established == 1 && f->b.owner.established == 1);
  g_assert_nonnull (strstr (f->a.owner.remote_sdp, "o=bob 1 1 "));
  g_assert_cmpint (sp_invite_session_get_state (f->b.session), ==, SP_INVITE_SESSION_CONFIRMED);
}

/* Late offer with the answer given later: our INVITE had no offer, the
 * 200 brings theirs and the ACK waits (the stack must not send one
 * without the answer, while B retransmits its 200); the answer goes in
 * the ACK, and only then both sides stand. */
static void
test_deferred_ack (Fixture *f, gconstpointer data)
{
  g_autofree char *answer = NULL;
  g_autoptr (GError) error = NULL;

  f->a.owner.defer = TRUE;
  call (f, TRUE);
  TEST_PUMP_UNTIL (f->a.owner.deferred == 1);
  g_assert_true (sp_invite_session_is_answer_pending (f->a.session));
  g_assert_nonnull (strstr (f->a.owner.remote_sdp, "o=bob 1 1 "));
  g_assert_cmpuint (f->a.owner.established, ==, 0);
  g_assert_cmpint (sp_invite_session_get_state (f->b.session), ==, SP_INVITE_SESSION_ANSWERED);
  /* Two seconds of B's 2xx retransmissions, none ACKed. */
  test_advance (f->clock, 2000, 50);
  g_assert_cmpuint (f->b.owner.established, ==, 0);
  g_assert_cmpuint (f->b.owner.answers_taken, ==, 0);
  g_assert_false (f->b.owner.ended);
  g_assert_false (sp_invite_session_modify (f->a.session, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BUSY);
  g_clear_error (&error);

  answer = make_sdp (&f->a.owner);
  g_assert_true (sp_invite_session_answer (f->a.session, answer, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (f->a.owner.established, ==, 1);
  TEST_PUMP_UNTIL (f->b.owner.established == 1);
  g_assert_cmpuint (f->b.owner.answers_taken, ==, 1);
  g_assert_nonnull (strstr (f->b.owner.remote_sdp, "o=alice 1 1 "));
  g_assert_cmpint (sp_invite_session_get_offer_state (f->a.session), ==, SP_SESSION_OFFER_NONE);
  g_assert_cmpint (sp_invite_session_get_offer_state (f->b.session), ==, SP_SESSION_OFFER_NONE);
  /* The 2xx retransmissions stopped: B is not ended for want of an ACK. */
  test_advance (f->clock, 40000, 500);
  g_assert_false (f->b.owner.ended);
}

/* ---- glare -------------------------------------------------------------------- */

/* Both sides re-INVITE at once: each answers the other 491 (RFC 3261
 * 14.2), and each retries once after its own random wait (14.1): the
 * callee (not the Call-ID's owner) within 0..2 s, the caller within
 * 2.1..4 s, so the callee's goes first and both then succeed. */
static void
test_glare (Fixture *f, gconstpointer data)
{
  gint64 t0;

  establish (f);
  t0 = sp_sip_clock_now (f->clock);
  g_assert_true (sp_invite_session_modify (f->a.session, NULL));
  g_assert_true (sp_invite_session_modify (f->b.session, NULL));
  /* The two re-INVITEs cross and both get 491. */
  TEST_PUMP_UNTIL (f->a.owner.withdrawn == 1 && f->b.owner.withdrawn == 1);
  g_assert_cmpuint (f->a.reinvites, ==, 1);
  g_assert_cmpuint (f->b.reinvites, ==, 1);
  g_assert_cmpuint (f->a.owner.answers_made, ==, 0);
  g_assert_cmpuint (f->b.owner.answers_made, ==, 1); /* the INVITE's offer only */
  g_assert_true (sp_invite_session_is_modifying (f->a.session));
  g_assert_true (sp_invite_session_is_modifying (f->b.session));
  /* While a retry waits, another modify is refused as busy. */
  {
    g_autoptr (GError) error = NULL;
    g_assert_false (sp_invite_session_modify (f->a.session, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BUSY);
  }

  /* In 10 ms steps up to 2 s: only the callee's retry can have gone. */
  test_advance (f->clock, 2000, 10);
  TEST_PUMP_UNTIL (f->b.owner.modified == 1);
  g_assert_cmpuint (f->b.owner.modified_status, ==, 200);
  g_assert_cmpint (f->b.owner.modified_at - t0, <=, 2000);
  g_assert_cmpuint (f->a.owner.modified, ==, 0);
  g_assert_cmpuint (f->a.reinvites, ==, 2); /* B's retry, answered by A */
  g_assert_cmpuint (f->a.owner.answers_made, ==, 1);

  test_advance (f->clock, 2100, 10);
  TEST_PUMP_UNTIL (f->a.owner.modified == 1);
  g_assert_cmpuint (f->a.owner.modified_status, ==, 200);
  g_test_message ("retries: callee after %" G_GINT64_FORMAT " ms, caller after %" G_GINT64_FORMAT
                  " ms",
                  f->b.owner.modified_at - t0, f->a.owner.modified_at - t0);
  g_assert_cmpint (f->a.owner.modified_at - t0, >=, 2100);
  g_assert_cmpint (f->a.owner.modified_at - t0, <=, 4000 + 10);
  g_assert_cmpuint (f->b.reinvites, ==, 2);
  g_assert_cmpuint (f->b.owner.answers_made, ==, 2);
  g_assert_false (sp_invite_session_is_modifying (f->a.session));
  g_assert_false (sp_invite_session_is_modifying (f->b.session));
}

/* ---- session timers (RFC 4028) ------------------------------------------------ */

/* The session timer with @role asked for by the caller: the refresher
 * refreshes at half the interval and the session lives on; when it
 * goes quiet, the other side sends BYE before the interval ends. */
static void
check_timer (Fixture *f, SpSessionTimerRole role)
{
  Side *refresher = role == SP_SESSION_TIMER_ROLE_UAS ? &f->b : &f->a;
  Side *other = refresher == &f->a ? &f->b : &f->a;
  gint64 quiet_at, ended_at;

  f->a.timer.interval = 120;
  f->a.timer.refresher = role;
  establish (f);
  g_assert_cmpuint (sp_invite_session_get_interval (f->a.session), ==, 120);
  g_assert_cmpuint (sp_invite_session_get_interval (f->b.session), ==, 120);
  g_assert_cmpint (sp_invite_session_get_refresher (refresher->session), ==,
                   SP_SESSION_REFRESHER_LOCAL);
  g_assert_cmpint (sp_invite_session_get_refresher (other->session), ==,
                   SP_SESSION_REFRESHER_REMOTE);

  /* Ten minutes: a refresh (UPDATE: both allow it) every 60 s. */
  test_advance (f->clock, 600 * 1000, 500);
  test_pump (50);
  g_test_message ("refreshes seen by the other side: %u UPDATE, %u re-INVITE", other->updates,
                  other->reinvites);
  g_assert_cmpuint (other->updates, >=, 9);
  g_assert_cmpuint (other->updates, <=, 11);
  g_assert_cmpuint (refresher->updates + refresher->reinvites + other->reinvites, ==, 0);
  g_assert_false (f->a.owner.ended);
  g_assert_false (f->b.owner.ended);
  g_assert_cmpint (sp_invite_session_get_state (other->session), ==, SP_INVITE_SESSION_CONFIRMED);

  /* The refresher goes quiet (its owner left without a word). */
  sp_invite_session_detach (refresher->session);
  quiet_at = sp_sip_clock_now (f->clock);
  test_advance (f->clock, 120 * 1000, 500);
  TEST_PUMP_UNTIL (other->owner.ended);
  g_assert_cmpint (other->owner.end_kind, ==, SP_SESSION_END_EXPIRED);
  g_assert_cmpint (sp_invite_session_get_state (other->session), ==, SP_INVITE_SESSION_TERMINATED);
  /* BYE by interval - min(32, interval/3) = 88 s after the last
   * refresh, which was at most 60 s before the refresher went quiet. */
  ended_at = other->owner.ended_at;
  g_test_message ("expired %" G_GINT64_FORMAT " ms after the refresher went quiet",
                  ended_at - quiet_at);
  g_assert_cmpint (ended_at - quiet_at, <=, 88 * 1000);
  g_assert_cmpint (ended_at - quiet_at, >=, (88 - 60) * 1000 - 500);
}

static void
test_timer_uac_refreshes (Fixture *f, gconstpointer data)
{
  check_timer (f, SP_SESSION_TIMER_ROLE_UAC);
}

static void
test_timer_uas_refreshes (Fixture *f, gconstpointer data)
{
  check_timer (f, SP_SESSION_TIMER_ROLE_UAS);
}

/* The callee wants at least 300 s: our 120 gets 422 with Min-SE 300,
 * the INVITE goes again asking 300, and the session runs at 300. */
static void
test_timer_422 (Fixture *f, gconstpointer data)
{
  f->a.timer.interval = 120;
  f->b.timer.min_se = 300;
  f->b.timer.interval = 300;
  call (f, FALSE);
  /* B's first session refused the INVITE (422); the retry makes another. */
  TEST_PUMP_UNTIL (f->a.owner.established == 1);
  g_assert_cmpuint (sp_invite_session_get_interval (f->a.session), ==, 300);
  g_assert_false (f->a.owner.ended);
}

/* A peer that asks for less than our Min-SE gets 422 naming it. */
static void
test_timer_422_sent (Fixture *f, gconstpointer data)
{
  g_autoptr (RawSip) raw = raw_sip_new (ADDR_RAW);
  g_autoptr (SpSipMessage) response = NULL;
  g_autofree char *text = g_strdup_printf (
      "INVITE sip:bob@" ADDR_B ":%u SIP/2.0\r\n"
      "Via: SIP/2.0/UDP " ADDR_RAW ":%u;branch=z9hG4bKse1\r\n"
      "From: <sip:raw@" ADDR_RAW ">;tag=r1\r\nTo: <sip:bob@" ADDR_B ">\r\n"
      "Call-ID: se-small\r\nCSeq: 1 INVITE\r\nContact: <sip:raw@" ADDR_RAW ":%u>\r\n"
      "Supported: timer\r\nSession-Expires: 60\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
      f->b.bound.port, raw->peer.port, raw->peer.port);

  raw_sip_send_text (raw, &f->b.bound, text);
  response = raw_sip_expect (raw, NULL, 422);
  g_assert_cmpstr (sp_sip_message_get_header (response, "Min-SE"), ==, "90");
}

/* ---- challenges and the credential policy, against a raw peer --------------- */

typedef struct
{
  RawSip *raw;
  SpCredentials *credentials;
  SpSipMessage *invite; /* as the raw peer got it */
} RawCall;

static SpCredentials *
credentials_for (RawSip *raw, const char *realm)
{
  SpCredentialsSettings s = {
    .label = (char *) "test",
    .username = (char *) "alice",
    .password = (char *) "secret",
    .realm = (char *) realm,
    .server_host = raw->peer.host,
    .server_port = raw->peer.port,
  };

  return sp_credentials_new (&s);
}

/* A (with @realm's credentials) calls the raw peer; @answer: the raw
 * peer answers 200 with SDP and gets its ACK. */
static void
raw_call (Fixture *f, RawCall *rc, const char *realm, gboolean answer)
{
  g_autoptr (SpSipUri) uri = NULL;
  g_autofree char *ruri = NULL;
  g_autoptr (SpSipMessage) invite = NULL;
  g_autofree char *sdp = make_sdp (&f->a.owner);

  rc->raw = raw_sip_new (ADDR_RAW);
  rc->credentials = credentials_for (rc->raw, realm);
  ruri = g_strdup_printf ("sip:raw@%s:%u", ADDR_RAW, rc->raw->peer.port);
  uri = sp_sip_uri_parse (ruri, -1, NULL);
  invite = sp_sip_stack_new_request (f->a.stack, "INVITE", uri, "<sip:alice@" ADDR_A ">",
                                     "<sip:raw@" ADDR_RAW ">", 1);
  sp_sip_message_set_body (invite, "application/sdp", (const guint8 *) sdp, strlen (sdp));
  f->a.session =
      sp_invite_session_new (f->a.stack, rc->credentials, "alice", &callbacks, &f->a.owner);
  g_assert_true (sp_invite_session_send_invite (f->a.session, invite, &rc->raw->peer, NULL));
  rc->invite = raw_sip_expect (rc->raw, "INVITE", 0);
  if (!answer)
    return;
  {
    g_autoptr (SpSipMessage) ok = raw_sip_response (rc->raw, rc->invite, 200, "rt", "raw");
    g_autofree char *answer_sdp = g_strdup ("v=0\r\no=raw 1 1 IN IP4 " ADDR_RAW "\r\n");
    g_autoptr (SpSipMessage) ack = NULL;

    sp_sip_message_set_body (ok, "application/sdp", (const guint8 *) answer_sdp,
                             strlen (answer_sdp));
    raw_sip_send (rc->raw, &f->a.bound, ok);
    ack = raw_sip_expect (rc->raw, "ACK", 0);
    TEST_PUMP_UNTIL (f->a.owner.established == 1);
  }
}

static void
raw_call_clear (RawCall *rc)
{
  g_clear_pointer (&rc->invite, sp_sip_message_unref);
  g_clear_pointer (&rc->credentials, sp_credentials_unref);
  g_clear_pointer (&rc->raw, raw_sip_free);
}

/* @request challenged by the raw peer with @status (401/407) for
 * @realm, @nonce, stale=@stale. */
static void
challenge (Fixture *f, RawCall *rc, SpSipMessage *request, guint status, const char *realm,
           const char *nonce, gboolean stale)
{
  g_autoptr (SpSipMessage) response = raw_sip_response (rc->raw, request, status, "rt", "raw");
  g_autofree char *value =
      g_strdup_printf ("Digest realm=\"%s\", nonce=\"%s\", algorithm=MD5, qop=\"auth\"%s", realm,
                       nonce, stale ? ", stale=true" : "");

  sp_sip_message_set_header (response, status == 407 ? "Proxy-Authenticate" : "WWW-Authenticate",
                             value, NULL);
  raw_sip_send (rc->raw, &f->a.bound, response);
}

/* The next request with @method from A within @ms, or NULL. Skips
 * retransmissions (same CSeq as @after) and everything else. */
static SpSipMessage *
next_request (RawCall *rc, const char *method, guint32 after, guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      g_autoptr (SpSipMessage) msg = raw_sip_recv (rc->raw, 50);

      if (msg != NULL && sp_sip_message_is_request (msg) &&
          g_strcmp0 (sp_sip_message_get_method (msg), method) == 0 &&
          sp_sip_message_get_cseq (msg, NULL) > after)
        return g_steal_pointer (&msg);
    }
  return NULL;
}

/* The credentials in @request verify against "secret" for the raw peer. */
static void
assert_credentials (SpSipMessage *request, const char *header, const char *nonce)
{
  const char *value = sp_sip_message_get_header (request, header);
  g_autoptr (SpDigestCredentials) creds = NULL;
  g_autofree char *ha1 = NULL;
  const guint8 *body;
  gsize len = 0;

  g_assert_nonnull (value);
  g_assert_nonnull (strstr (value, "username=\"alice\""));
  g_assert_nonnull (strstr (value, nonce));
  creds = sp_digest_credentials_parse (value, -1, NULL);
  g_assert_nonnull (creds);
  ha1 = sp_digest_compute_ha1 (SP_DIGEST_ALGORITHM_MD5, "alice", "home", "secret");
  body = sp_sip_message_get_body (request, &len);
  g_assert_true (
      sp_digest_credentials_verify (creds, ha1, sp_sip_message_get_method (request), body, len));
}

/* Hold-like re-INVITE challenged with 401: sent again once with the
 * right credentials and a new CSeq; its 200 completes the exchange. */
static void
test_challenged_reinvite (Fixture *f, gconstpointer data)
{
  RawCall rc = { 0 };
  g_autoptr (SpSipMessage) re1 = NULL;
  g_autoptr (SpSipMessage) re2 = NULL;
  g_autoptr (SpSipMessage) ok = NULL;
  g_autoptr (SpSipMessage) ack = NULL;

  raw_call (f, &rc, "home", TRUE);
  g_assert_true (sp_invite_session_modify (f->a.session, NULL));
  re1 = next_request (&rc, "INVITE", 1, 3000);
  g_assert_nonnull (re1);
  challenge (f, &rc, re1, 401, "home", "n1", FALSE);
  re2 = next_request (&rc, "INVITE", sp_sip_message_get_cseq (re1, NULL), 3000);
  g_assert_nonnull (re2);
  g_assert_cmpuint (sp_sip_message_get_cseq (re2, NULL), ==,
                    sp_sip_message_get_cseq (re1, NULL) + 1);
  assert_credentials (re2, "Authorization", "nonce=\"n1\"");
  {
    gsize l1 = 0, l2 = 0;
    const guint8 *b1 = sp_sip_message_get_body (re1, &l1);
    const guint8 *b2 = sp_sip_message_get_body (re2, &l2);
    g_assert_cmpmem (b1, l1, b2, l2); /* the same offer */
  }
  ok = raw_sip_response (rc.raw, re2, 200, "rt", "raw");
  sp_sip_message_set_body (ok, "application/sdp", (const guint8 *) "v=0\r\no=raw 1 2\r\n", 16);
  raw_sip_send (rc.raw, &f->a.bound, ok);
  ack = raw_sip_expect (rc.raw, "ACK", 0);
  TEST_PUMP_UNTIL (f->a.owner.modified == 1);
  g_assert_cmpuint (f->a.owner.modified_status, ==, 200);
  g_assert_cmpuint (f->a.owner.answers_taken, ==, 2);
  raw_call_clear (&rc);
}

/* BYE challenged with 407: sent again once with Proxy-Authorization,
 * even though the session (and its owner) are gone by then. */
static void
test_challenged_bye (Fixture *f, gconstpointer data)
{
  RawCall rc = { 0 };
  g_autoptr (SpSipMessage) bye1 = NULL;
  g_autoptr (SpSipMessage) bye2 = NULL;
  g_autoptr (SpSipMessage) bye3 = NULL;

  raw_call (f, &rc, "home", TRUE);
  sp_invite_session_end (f->a.session);
  g_assert_cmpint (sp_invite_session_get_state (f->a.session), ==, SP_INVITE_SESSION_TERMINATED);
  sp_invite_session_detach (f->a.session);
  g_clear_pointer (&f->a.session, sp_invite_session_unref);
  g_clear_pointer (&rc.credentials, sp_credentials_unref); /* the BYE holds its own */

  bye1 = next_request (&rc, "BYE", 0, 3000);
  g_assert_nonnull (bye1);
  challenge (f, &rc, bye1, 407, "home", "b1", FALSE);
  bye2 = next_request (&rc, "BYE", sp_sip_message_get_cseq (bye1, NULL), 3000);
  g_assert_nonnull (bye2);
  assert_credentials (bye2, "Proxy-Authorization", "nonce=\"b1\"");
  /* The same challenge again: the password was refused, no third BYE. */
  challenge (f, &rc, bye2, 407, "home", "b1", FALSE);
  bye3 = next_request (&rc, "BYE", sp_sip_message_get_cseq (bye2, NULL), 1000);
  g_assert_null (bye3);
  g_assert_false (f->a.owner.ended); /* our own end is not reported */
  raw_call_clear (&rc);
}

/* The INVITE challenged for another realm than the account's: nothing
 * is sent; the session ends with the policy's reason. */
static void
test_policy_foreign_realm (Fixture *f, gconstpointer data)
{
  RawCall rc = { 0 };
  g_autoptr (SpSipMessage) again = NULL;

  raw_call (f, &rc, "home", FALSE);
  challenge (f, &rc, rc.invite, 401, "evil", "e1", FALSE);
  TEST_PUMP_UNTIL (f->a.owner.ended);
  again = next_request (&rc, "INVITE", 1, 800);
  g_assert_null (again);
  g_assert_cmpint (f->a.owner.end_kind, ==, SP_SESSION_END_FAILED);
  g_assert_cmpuint (f->a.owner.end_code, ==, 401);
  g_assert_error (f->a.owner.end_error, SP_CREDENTIALS_ERROR, SP_CREDENTIALS_ERROR_FOREIGN_REALM);
  raw_call_clear (&rc);
}

/* stale=true with a new nonce is answered once more; a third challenge,
 * even stale, is not: the guard ends it. */
static void
test_policy_stale_once (Fixture *f, gconstpointer data)
{
  RawCall rc = { 0 };
  g_autoptr (SpSipMessage) i2 = NULL;
  g_autoptr (SpSipMessage) i3 = NULL;
  g_autoptr (SpSipMessage) i4 = NULL;

  raw_call (f, &rc, "home", FALSE);
  challenge (f, &rc, rc.invite, 401, "home", "s1", FALSE);
  i2 = next_request (&rc, "INVITE", 1, 3000);
  g_assert_nonnull (i2);
  assert_credentials (i2, "Authorization", "nonce=\"s1\"");
  challenge (f, &rc, i2, 401, "home", "s2", TRUE);
  i3 = next_request (&rc, "INVITE", sp_sip_message_get_cseq (i2, NULL), 3000);
  g_assert_nonnull (i3);
  assert_credentials (i3, "Authorization", "nonce=\"s2\"");
  challenge (f, &rc, i3, 401, "home", "s3", TRUE);
  TEST_PUMP_UNTIL (f->a.owner.ended);
  i4 = next_request (&rc, "INVITE", sp_sip_message_get_cseq (i3, NULL), 800);
  g_assert_null (i4);
  g_assert_cmpuint (f->a.owner.end_code, ==, 401);
  g_assert_error (f->a.owner.end_error, SP_CREDENTIALS_ERROR, SP_CREDENTIALS_ERROR_REFUSED);
  raw_call_clear (&rc);
}

/* A wrong password: the server challenges again with the nonce just
 * answered (not stale). It is not sent again: one try, no loop. */
static void
test_policy_wrong_password (Fixture *f, gconstpointer data)
{
  RawCall rc = { 0 };
  g_autoptr (SpSipMessage) i2 = NULL;
  g_autoptr (SpSipMessage) i3 = NULL;

  raw_call (f, &rc, NULL, FALSE); /* no realm configured: learnt from the first */
  challenge (f, &rc, rc.invite, 407, "home", "w1", FALSE);
  i2 = next_request (&rc, "INVITE", 1, 3000);
  g_assert_nonnull (i2);
  assert_credentials (i2, "Proxy-Authorization", "nonce=\"w1\"");
  challenge (f, &rc, i2, 407, "home", "w1", FALSE);
  TEST_PUMP_UNTIL (f->a.owner.ended);
  i3 = next_request (&rc, "INVITE", sp_sip_message_get_cseq (i2, NULL), 800);
  g_assert_null (i3);
  g_assert_cmpuint (f->a.owner.end_code, ==, 407);
  g_assert_error (f->a.owner.end_error, SP_CREDENTIALS_ERROR, SP_CREDENTIALS_ERROR_REFUSED);
  raw_call_clear (&rc);
}

/* A 491 to our re-INVITE from a peer that chose the Call-ID (we are the
 * caller here, so we own it: 2.1..4 s), then a second 491 to the retry:
 * no third try, the offer is withdrawn and the owner told. */
static void
test_glare_retry_once (Fixture *f, gconstpointer data)
{
  RawCall rc = { 0 };
  g_autoptr (SpSipMessage) re1 = NULL;
  g_autoptr (SpSipMessage) re2 = NULL;
  g_autoptr (SpSipMessage) re3 = NULL;
  gint64 t0;

  raw_call (f, &rc, "home", TRUE);
  g_assert_true (sp_invite_session_modify (f->a.session, NULL));
  re1 = next_request (&rc, "INVITE", 1, 3000);
  g_assert_nonnull (re1);
  {
    g_autoptr (SpSipMessage) r = raw_sip_response (rc.raw, re1, 491, "rt", "raw");
    raw_sip_send (rc.raw, &f->a.bound, r);
  }
  TEST_PUMP_UNTIL (f->a.owner.withdrawn == 1);
  t0 = sp_sip_clock_now (f->clock);
  test_advance (f->clock, 2090, 10);
  re2 = next_request (&rc, "INVITE", sp_sip_message_get_cseq (re1, NULL), 100);
  g_assert_null (re2); /* not before 2.1 s */
  test_advance (f->clock, 1910, 10);
  re2 = next_request (&rc, "INVITE", sp_sip_message_get_cseq (re1, NULL), 1000);
  g_assert_nonnull (re2);
  g_test_message ("retried within %" G_GINT64_FORMAT " ms", sp_sip_clock_now (f->clock) - t0);
  {
    g_autoptr (SpSipMessage) r = raw_sip_response (rc.raw, re2, 491, "rt", "raw");
    raw_sip_send (rc.raw, &f->a.bound, r);
  }
  TEST_PUMP_UNTIL (f->a.owner.modified == 1);
  g_assert_cmpuint (f->a.owner.modified_status, ==, 491);
  g_assert_cmpuint (f->a.owner.withdrawn, ==, 2);
  test_advance (f->clock, 5000, 50);
  re3 = next_request (&rc, "INVITE", sp_sip_message_get_cseq (re2, NULL), 300);
  g_assert_null (re3);
  g_assert_false (sp_invite_session_is_modifying (f->a.session));
  g_assert_cmpint (sp_invite_session_get_state (f->a.session), ==, SP_INVITE_SESSION_CONFIRMED);
  raw_call_clear (&rc);
}

/* A peer that takes no UPDATE and makes us the refresher: the refresh
 * is a re-INVITE carrying the session as it is (its answer taken);
 * when a refresh finds no session there (481), we send BYE and end. */
static void
test_timer_refresh_reinvite (Fixture *f, gconstpointer data)
{
  RawCall rc = { 0 };
  g_autoptr (SpSipMessage) ok = NULL;
  g_autoptr (SpSipMessage) ack = NULL;
  g_autoptr (SpSipMessage) re1 = NULL;
  g_autoptr (SpSipMessage) re2 = NULL;
  g_autoptr (SpSipMessage) bye = NULL;
  const char *answer = "v=0\r\no=raw 1 1 IN IP4 " ADDR_RAW "\r\n";

  raw_call (f, &rc, "home", FALSE);
  g_assert_cmpstr (sp_sip_message_get_header (rc.invite, "Session-Expires"), ==, "1800");
  ok = raw_sip_response (rc.raw, rc.invite, 200, "rt", "raw");
  sp_sip_message_set_header (ok, "Session-Expires", "90;refresher=uac", NULL);
  sp_sip_message_set_header (ok, "Require", "timer", NULL);
  sp_sip_message_set_body (ok, "application/sdp", (const guint8 *) answer, strlen (answer));
  raw_sip_send (rc.raw, &f->a.bound, ok);
  ack = raw_sip_expect (rc.raw, "ACK", 0);
  TEST_PUMP_UNTIL (f->a.owner.established == 1);
  g_assert_cmpuint (sp_invite_session_get_interval (f->a.session), ==, 90);
  g_assert_cmpint (sp_invite_session_get_refresher (f->a.session), ==, SP_SESSION_REFRESHER_LOCAL);

  test_advance (f->clock, 44 * 1000, 500);
  g_assert_null (next_request (&rc, "INVITE", 1, 100)); /* not before half the interval */
  test_advance (f->clock, 1000, 500);
  re1 = next_request (&rc, "INVITE", 1, 2000);
  g_assert_nonnull (re1);
  g_assert_cmpstr (sp_sip_message_get_header (re1, "Session-Expires"), ==, "90;refresher=uac");
  {
    gsize len = 0;
    sp_sip_message_get_body (re1, &len);
    g_assert_cmpuint (len, >, 0); /* the session as it is, offered again */
  }
  {
    g_autoptr (SpSipMessage) r = raw_sip_response (rc.raw, re1, 200, "rt", "raw");
    g_autoptr (SpSipMessage) ack2 = NULL;
    sp_sip_message_set_header (r, "Session-Expires", "90;refresher=uac", NULL);
    sp_sip_message_set_body (r, "application/sdp", (const guint8 *) answer, strlen (answer));
    raw_sip_send (rc.raw, &f->a.bound, r);
    ack2 = raw_sip_expect (rc.raw, "ACK", 0);
  }
  TEST_PUMP_UNTIL (f->a.owner.answers_taken == 2);
  g_assert_cmpuint (f->a.owner.media_changed, ==, 1);
  g_assert_cmpuint (f->a.owner.modified, ==, 0); /* a refresh is not the owner's */

  test_advance (f->clock, 45 * 1000, 500);
  re2 = next_request (&rc, "INVITE", sp_sip_message_get_cseq (re1, NULL), 2000);
  g_assert_nonnull (re2);
  {
    g_autoptr (SpSipMessage) r = raw_sip_response (rc.raw, re2, 481, "rt", "raw");
    raw_sip_send (rc.raw, &f->a.bound, r);
  }
  TEST_PUMP_UNTIL (f->a.owner.ended);
  g_assert_cmpint (f->a.owner.end_kind, ==, SP_SESSION_END_EXPIRED);
  g_assert_cmpuint (f->a.owner.end_code, ==, 481);
  g_assert_cmpuint (f->a.owner.withdrawn, ==, 1);
  bye = next_request (&rc, "BYE", 0, 2000);
  g_assert_nonnull (bye);
  raw_call_clear (&rc);
}

/* A peer that answers every INVITE 422 with a Min-SE one step higher:
 * followed twice, then the call fails with 422 instead of looping. */
static void
test_timer_422_bounded (Fixture *f, gconstpointer data)
{
  RawCall rc = { 0 };
  g_autoptr (SpSipMessage) request = NULL;
  guint sent = 0;

  raw_call (f, &rc, "home", FALSE);
  request = sp_sip_message_ref (rc.invite);
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (SpSipMessage) r = raw_sip_response (rc.raw, request, 422, "rt", "raw");
      g_autofree char *min_se = g_strdup_printf ("%u", 1900 + 10 * i);

      sp_sip_message_set_header (r, "Min-SE", min_se, NULL);
      raw_sip_send (rc.raw, &f->a.bound, r);
      sent++;
      if (i == 2)
        break;
      g_clear_pointer (&request, sp_sip_message_unref);
      request = next_request (&rc, "INVITE", sp_sip_message_get_cseq (rc.invite, NULL) + i, 2000);
      g_assert_nonnull (request);
      g_assert_cmpstr (sp_sip_message_get_header (request, "Min-SE"), ==, min_se);
    }
  TEST_PUMP_UNTIL (f->a.owner.ended);
  g_assert_cmpuint (f->a.owner.end_code, ==, 422);
  g_assert_null (next_request (&rc, "INVITE", sp_sip_message_get_cseq (request, NULL), 500));
  g_assert_cmpuint (sent, ==, 3);
  raw_call_clear (&rc);
}

/* A challenged INVITE answered, then refused with 488: the owner's second
 * offer goes in a new INVITE of the same call (Call-ID and From tag kept,
 * no To tag, CSeq + 1) without the credentials already used (they would
 * be a replay); a 488 to that one too, and the owner has no other: the
 * session ends, 488. */
static void
test_retry_offer (Fixture *f, gconstpointer data)
{
  RawCall rc = { 0 };
  g_autoptr (SpSipMessage) refused = NULL;
  g_autoptr (SpSipMessage) second = NULL;
  g_autoptr (SpSipMessage) refused2 = NULL;
  g_autoptr (SpSipMessage) authorized = NULL;
  const guint8 *body;
  gsize len = 0;

  f->a.owner.retry_offers = 1;
  raw_call (f, &rc, "home", FALSE);
  challenge (f, &rc, rc.invite, 401, "home", "n1", FALSE);
  authorized = next_request (&rc, "INVITE", 1, 3000);
  g_assert_nonnull (authorized);
  assert_credentials (authorized, "Authorization", "n1");
  refused = raw_sip_response (rc.raw, authorized, 488, "rt", "raw");
  raw_sip_send (rc.raw, &f->a.bound, refused);
  second = next_request (&rc, "INVITE", 2, 3000);
  g_assert_nonnull (second);
  g_assert_cmpuint (f->a.owner.retried, ==, 1);
  g_assert_cmpuint (sp_sip_message_get_cseq (second, NULL), ==, 3);
  g_assert_null (sp_sip_message_get_header (second, "Authorization"));
  g_assert_cmpstr (sp_sip_message_get_call_id (second), ==, sp_sip_message_get_call_id (rc.invite));
  g_assert_cmpstr (sp_sip_message_get_header (second, "From"), ==,
                   sp_sip_message_get_header (rc.invite, "From"));
  g_assert_null (strstr (sp_sip_message_get_header (second, "To"), "tag="));
  body = sp_sip_message_get_body (second, &len);
  g_assert_nonnull (g_strstr_len ((const char *) body, (gssize) len, " 1 2 IN IP4"));
  g_assert_false (f->a.owner.ended);
  refused2 = raw_sip_response (rc.raw, second, 488, "rt2", "raw");
  raw_sip_send (rc.raw, &f->a.bound, refused2);
  TEST_PUMP_UNTIL (f->a.owner.ended);
  g_assert_cmpuint (f->a.owner.end_code, ==, 488);
  g_assert_cmpuint (f->a.owner.retried, ==, 1);
  raw_call_clear (&rc);
}

/* ---- adopted dialogs ------------------------------------------------------- */

/* The caller's side set up by hand: its INVITE's 2xx (ACKed by the
 * stack) gives the dialog, adopted by a new session. */
static void
on_adopt_response (SpSipStack *stack, SpSipClientTransaction *ct, SpSipMessage *response,
                   SpSipDialog *dialog, gpointer data)
{
  Side *side = data;

  if (sp_sip_message_get_status (response) < 200 || side->session != NULL)
    return;
  g_assert_cmpuint (sp_sip_message_get_status (response), ==, 200);
  g_assert_nonnull (dialog);
  side->session =
      sp_invite_session_new (side->stack, NULL, side->owner.name, &callbacks, &side->owner);
  sp_invite_session_adopt (side->session, dialog, TRUE, sp_sip_client_transaction_get_dest (ct), 0);
  sp_invite_session_adopt_exchange (side->session, sp_sip_client_transaction_get_request (ct),
                                    response, NULL);
}

/* A dialog set up without sessions (the stack's INVITE, 200 and ACK, as
 * the B2BUA does), then adopted on both ends: the caller's session
 * sends a re-INVITE, the callee's an UPDATE (first refused by the
 * caller's owner in check_request), each answered by the other
 * session, and the callee's BYE ends the caller's session. */
static void
test_adopt (Fixture *f, gconstpointer data)
{
  g_autofree char *ruri = g_strdup_printf ("sip:bob@%s:%u", ADDR_B, f->b.bound.port);
  g_autofree char *sdp = make_sdp (&f->a.owner);
  g_autoptr (SpSipUri) uri = NULL;
  g_autoptr (SpSipMessage) invite = NULL;
  g_autoptr (GError) error = NULL;

  uri = sp_sip_uri_parse (ruri, -1, &error);
  g_assert_no_error (error);
  invite = sp_sip_stack_new_request (f->a.stack, "INVITE", uri, "<sip:alice@" ADDR_A ">",
                                     "<sip:bob@" ADDR_B ">", 1);
  sp_sip_message_set_body (invite, "application/sdp", (const guint8 *) sdp, strlen (sdp));
  f->b.adopt = TRUE;
  g_assert_nonnull (sp_sip_stack_send_request (f->a.stack, invite, &f->b.bound, on_adopt_response,
                                               &f->a, &error));
  g_assert_no_error (error);
  TEST_PUMP_UNTIL (f->a.session != NULL && f->b.session != NULL);
  g_assert_cmpint (sp_invite_session_get_state (f->a.session), ==, SP_INVITE_SESSION_CONFIRMED);
  g_assert_cmpint (sp_invite_session_get_state (f->b.session), ==, SP_INVITE_SESSION_CONFIRMED);
  g_assert_cmpint (sp_invite_session_get_offer_state (f->a.session), ==, SP_SESSION_OFFER_NONE);
  g_assert_cmpuint (sp_invite_session_get_interval (f->a.session), ==, 0);

  /* A re-INVITE from the adopting caller. */
  g_assert_true (sp_invite_session_modify (f->a.session, &error));
  g_assert_no_error (error);
  TEST_PUMP_UNTIL (f->a.owner.modified == 1);
  g_assert_cmpuint (f->a.owner.modified_status, ==, 200);
  g_assert_cmpuint (f->b.reinvites, ==, 1);
  g_assert_cmpuint (f->b.owner.answers_made, ==, 1);
  g_assert_cmpuint (f->a.owner.answers_taken, ==, 1);
  g_assert_true (g_str_has_prefix (f->a.owner.remote_sdp, "v=0\r\no=bob "));

  /* The owner's check_request answers first: a refused UPDATE leaves
   * the session as it was. */
  f->a.owner.refuse = TRUE;
  g_assert_true (sp_invite_session_update (f->b.session, &error));
  g_assert_no_error (error);
  TEST_PUMP_UNTIL (f->b.owner.modified == 1);
  g_assert_cmpuint (f->b.owner.modified_status, ==, 403);
  g_assert_cmpuint (f->a.owner.refused, ==, 1);
  g_assert_cmpuint (f->a.owner.answers_made, ==, 0);
  g_assert_cmpint (sp_invite_session_get_offer_state (f->a.session), ==, SP_SESSION_OFFER_NONE);
  f->a.owner.refuse = FALSE;

  /* An UPDATE with an offer from the adopting callee. */
  g_assert_true (sp_invite_session_update (f->b.session, &error));
  g_assert_no_error (error);
  TEST_PUMP_UNTIL (f->b.owner.modified == 2);
  g_assert_cmpuint (f->b.owner.modified_status, ==, 200);
  g_assert_cmpuint (f->a.updates, ==, 2);
  g_assert_cmpuint (f->a.owner.answers_made, ==, 1);
  g_assert_cmpuint (f->b.owner.answers_taken, ==, 1);
  g_assert_true (g_str_has_prefix (f->b.owner.remote_sdp, "v=0\r\no=alice "));

  /* The callee hangs up: the caller's session ends on its BYE. */
  sp_invite_session_end (f->b.session);
  TEST_PUMP_UNTIL (f->a.owner.ended);
  g_assert_cmpint (f->a.owner.end_kind, ==, SP_SESSION_END_REMOTE_BYE);
  g_assert_cmpuint (f->a.byes, ==, 1);
  g_assert_cmpint (sp_invite_session_get_state (f->a.session), ==, SP_INVITE_SESSION_TERMINATED);
  g_assert_false (f->b.owner.ended); /* its own end () is not reported */
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(name, func)                                                                            \
  g_test_add ("/invite-session/" name, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("late-offer", test_late_offer);
  ADD ("deferred-reinvite", test_deferred_reinvite);
  ADD ("deferred-reject", test_deferred_reject);
  ADD ("deferred-bye", test_deferred_bye);
  ADD ("deferred-accept", test_deferred_accept);
  ADD ("deferred-ack", test_deferred_ack);
  ADD ("glare", test_glare);
  ADD ("glare-retry-once", test_glare_retry_once);
  ADD ("timer-uac-refreshes", test_timer_uac_refreshes);
  ADD ("timer-uas-refreshes", test_timer_uas_refreshes);
  ADD ("timer-refresh-reinvite", test_timer_refresh_reinvite);
  ADD ("timer-422", test_timer_422);
  ADD ("timer-422-sent", test_timer_422_sent);
  ADD ("timer-422-bounded", test_timer_422_bounded);
  ADD ("challenged-reinvite", test_challenged_reinvite);
  ADD ("challenged-bye", test_challenged_bye);
  ADD ("policy-foreign-realm", test_policy_foreign_realm);
  ADD ("policy-stale-once", test_policy_stale_once);
  ADD ("policy-wrong-password", test_policy_wrong_password);
  ADD ("adopt", test_adopt);
  ADD ("retry-offer", test_retry_offer);
  return g_test_run ();
}
