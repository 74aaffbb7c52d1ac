/* The mini-server's call handling on loopback, with SpServer on its own
 * stack and scripted raw UDP peers for the caller (A) and the callee (B):
 * the callee leg (new Call-ID and tags, Max-Forwards one lower, the
 * caller in From, SDP on the relay's ports), callee failures mapped back,
 * re-INVITEs (hold) passed through to the other side, UPDATEs (an offer
 * passed on as an UPDATE or a re-INVITE, none answered locally), a late
 * offer (the offer in B's 200, the answer in A's ACK goes on in B's ACK),
 * session timers on each leg (refresh by the server, expiry ending both
 * legs, 422; on a fake clock), NAT'ed bindings reached at their
 * REGISTER's source, and requests from a blocked address leaving no
 * transactions behind. */
#include <string.h>

#include "server/b2bua.h"
#include "server/server.h"
#include "session/invite-session.h"
#include "sip/transaction.h"
#include "sip/digest.h"
#include "sip/sdp.h"
#include "sip/stack.h"

#include "../common/b2bua-fixture.h"
#include "../common/raw-sip.h"

typedef B2buaFixture Fixture;

static char *
sdp_text (guint16 port, const char *direction)
{
  return g_strdup_printf ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
                          "t=0 0\r\nm=audio %u RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=%s\r\n",
                          port, direction);
}

/* A request from A to the server; @body NULL for none. */
static char *
a_request (Fixture *f, const char *method, const char *ruri, const char *call_id, guint cseq,
           const char *from_tag, const char *to_tag, const char *body, const char *extra)
{
  return g_strdup_printf (
      "%s %s SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK%08x\r\n"
      "Max-Forwards: 70\r\n"
      "From: \"Anna\" <sip:stranger@127.0.0.1>;tag=%s\r\n"
      "To: <%s>%s%s\r\n"
      "Call-ID: %s\r\n"
      "CSeq: %u %s\r\n"
      "Contact: <sip:stranger@127.0.0.1:%u>\r\n"
      "%s%s"
      "Content-Length: %zu\r\n\r\n%s",
      method, ruri, f->a->peer.port, g_random_int (), from_tag, ruri, to_tag ? ";tag=" : "",
      to_tag ? to_tag : "", call_id, cseq, method, f->a->peer.port, extra ? extra : "",
      body ? "Content-Type: application/sdp\r\n" : "", body ? strlen (body) : 0, body ? body : "");
}

/* B's response to @request, with its To tag and Contact; @sdp optional. */
static SpSipMessage *
b_response (Fixture *f, SpSipMessage *request, guint status, const char *sdp)
{
  SpSipMessage *r = raw_sip_response (f->b, request, status, "btag", "b");

  if (sdp != NULL)
    sp_sip_message_set_body (r, "application/sdp", (const guint8 *) sdp, strlen (sdp));
  return r;
}

static void
bind_bob (Fixture *f, const char *host)
{
  b2bua_fixture_bind_bob (f, host);
}

/* A test's data: the stack runs on a fake clock. */
static const char FAKE_CLOCK[] = "fake clock";

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  b2bua_fixture_init (f, data == FAKE_CLOCK);
  sp_server_set_auth_guard (f->server, 1, 60, 300);
  b2bua_fixture_start (f);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  b2bua_fixture_teardown (f);
}

static SpSdpSession *
parse_body (SpSipMessage *msg)
{
  gsize len = 0;
  const guint8 *body = sp_sip_message_get_body (msg, &len);

  g_assert_cmpuint (len, >, 0);
  return sp_sdp_session_parse ((const char *) body, len, NULL);
}

/* The audio port of @msg's SDP; checks its address is the relay's. */
static guint
relay_port (SpSipMessage *msg)
{
  g_autoptr (SpSdpSession) sdp = parse_body (msg);
  SpSdpMedia *m = sp_sdp_session_find_media (sdp, "audio");

  g_assert_nonnull (m);
  g_assert_cmpstr (sp_sdp_media_get_effective_connection (m)->address, ==, "127.0.0.1");
  g_assert_cmpuint (sp_sdp_media_get_port (m), >=, 31000);
  g_assert_cmpuint (sp_sdp_media_get_port (m), <=, 31999);
  return sp_sdp_media_get_port (m);
}

static gboolean
has_direction (SpSipMessage *msg, const char *direction)
{
  g_autoptr (SpSdpSession) sdp = parse_body (msg);
  SpSdpMedia *m = sp_sdp_session_find_media (sdp, "audio");

  return sp_sdp_media_has_attribute (m, direction) || sp_sdp_session_has_attribute (sdp, direction);
}

typedef struct
{
  char *call_id;
  char *a_to_tag; /* the server's tag towards A */
  SpSipMessage *b_invite;
} Established;

static void
established_clear (Established *e)
{
  g_free (e->call_id);
  g_free (e->a_to_tag);
  sp_sip_message_unref (e->b_invite);
}

/* A calls 2 (bob at B) with @a_sdp (NULL: late offer) and @a_extra
 * (whole header lines, or NULL); B answers 200 with @b_sdp and the
 * headers @b_headers (NULL-terminated name, value pairs, or NULL).
 * Returns with the 200 at A (not yet ACKed) in @a_ok. */
static void
call_through_ex (Fixture *f, const char *a_sdp, const char *b_sdp, const char *a_extra,
                 const char *const *b_headers, Established *e, SpSipMessage **a_ok)
{
  g_autofree char *ruri = g_strdup_printf ("sip:2@127.0.0.1:%u", f->bound.port);
  g_autofree char *invite = NULL;
  g_autoptr (SpSipMessage) ok = NULL;

  e->call_id = g_strdup_printf ("a-%08x", g_random_int ());
  invite = a_request (f, "INVITE", ruri, e->call_id, 1, "atag", NULL, a_sdp, a_extra);
  raw_sip_send_text (f->a, &f->bound, invite);
  e->b_invite = raw_sip_expect (f->b, "INVITE", 0);
  ok = b_response (f, e->b_invite, 200, b_sdp);
  for (guint i = 0; b_headers != NULL && b_headers[i] != NULL; i += 2)
    sp_sip_message_set_header (ok, b_headers[i], b_headers[i + 1], NULL);
  raw_sip_send (f->b, &f->bound, ok);
  *a_ok = raw_sip_expect (f->a, NULL, 200);
  e->a_to_tag = g_strdup (sp_sip_name_addr_get_tag (sp_sip_message_get_to (*a_ok)));
  g_assert_nonnull (e->a_to_tag);
}

static void
call_through (Fixture *f, const char *a_sdp, const char *b_sdp, Established *e, SpSipMessage **a_ok)
{
  call_through_ex (f, a_sdp, b_sdp, NULL, NULL, e, a_ok);
}

static void
a_ack (Fixture *f, Established *e, guint cseq, const char *body)
{
  g_autofree char *ruri = g_strdup_printf ("sip:2@127.0.0.1:%u", f->bound.port);
  g_autofree char *ack =
      a_request (f, "ACK", ruri, e->call_id, cseq, "atag", e->a_to_tag, body, NULL);

  raw_sip_send_text (f->a, &f->bound, ack);
}

/* ---- tests ---- */

static void
test_leg_mapping (Fixture *f, gconstpointer data)
{
  g_autofree char *a_sdp = sdp_text (40000, "sendrecv");
  g_autofree char *b_sdp = sdp_text (42000, "sendrecv");
  g_autoptr (SpSipMessage) a_ok = NULL;
  g_autoptr (SpSipMessage) b_ack = NULL;
  Established e = { 0 };
  const SpSipNameAddr *from;

  bind_bob (f, NULL);
  call_through (f, a_sdp, b_sdp, &e, &a_ok);
  /* The callee leg: a dialog of its own, the caller's identity. */
  g_assert_cmpstr (sp_sip_message_get_call_id (e.b_invite), !=, e.call_id);
  from = sp_sip_message_get_from (e.b_invite);
  g_assert_cmpstr (sp_sip_uri_get_user (from->uri), ==, "stranger");
  g_assert_cmpstr (from->display_name, ==, "Anna");
  g_assert_cmpstr (sp_sip_name_addr_get_tag (from), !=, "atag");
  g_assert_cmpint (sp_sip_message_get_max_forwards (e.b_invite), ==, 69);
  g_assert_cmpstr (sp_sip_uri_get_user (sp_sip_message_get_request_uri (e.b_invite)), ==, "bob");
  /* SDP on the relay both ways, each side its own port. */
  g_assert_cmpuint (relay_port (e.b_invite), !=, relay_port (a_ok));
  g_assert_cmpstr (e.a_to_tag, !=, "btag");
  a_ack (f, &e, 1, NULL);
  b_ack = raw_sip_expect (f->b, "ACK", 0);
  g_assert_cmpstr (sp_sip_message_get_call_id (b_ack), ==, sp_sip_message_get_call_id (e.b_invite));
  g_assert_cmpuint (sp_server_get_n_calls (f->server), ==, 1);
  established_clear (&e);
}

static void
failure_status (Fixture *f, guint b_status, guint a_status)
{
  g_autofree char *ruri = g_strdup_printf ("sip:2@127.0.0.1:%u", f->bound.port);
  g_autofree char *call_id = g_strdup_printf ("f-%08x", g_random_int ());
  g_autofree char *a_sdp = sdp_text (40000, "sendrecv");
  g_autofree char *invite = a_request (f, "INVITE", ruri, call_id, 1, "atag", NULL, a_sdp, NULL);
  g_autoptr (SpSipMessage) b_invite = NULL;
  g_autoptr (SpSipMessage) fail = NULL;
  g_autoptr (SpSipMessage) a_final = NULL;

  raw_sip_send_text (f->a, &f->bound, invite);
  b_invite = raw_sip_expect (f->b, "INVITE", 0);
  fail = b_response (f, b_invite, b_status, NULL);
  raw_sip_send (f->b, &f->bound, fail);
  a_final = raw_sip_expect (f->a, NULL, a_status);
  g_assert_cmpuint (sp_sip_message_get_status (a_final), ==, a_status);
}

static void
test_failure_mapping (Fixture *f, gconstpointer data)
{
  bind_bob (f, NULL);
  failure_status (f, 486, 486);
  /* The callee's credentials are not the caller's business. */
  failure_status (f, 401, 480);
  failure_status (f, 407, 480);
  failure_status (f, 603, 603);
  g_assert_cmpuint (sp_server_get_n_calls (f->server), ==, 0);
}

static void
test_reinvite_hold (Fixture *f, gconstpointer data)
{
  g_autofree char *a_sdp = sdp_text (40000, "sendrecv");
  g_autofree char *b_sdp = sdp_text (42000, "sendrecv");
  g_autofree char *hold = sdp_text (40000, "sendonly");
  g_autofree char *held = sdp_text (42000, "recvonly");
  g_autofree char *ruri = g_strdup_printf ("sip:2@127.0.0.1:%u", f->bound.port);
  g_autofree char *reinvite = NULL;
  g_autoptr (SpSipMessage) a_ok = NULL;
  g_autoptr (SpSipMessage) b_ack = NULL;
  g_autoptr (SpSipMessage) b_reinvite = NULL;
  g_autoptr (SpSipMessage) b_ok = NULL;
  g_autoptr (SpSipMessage) a_ok2 = NULL;
  Established e = { 0 };
  guint a_port;

  bind_bob (f, NULL);
  call_through (f, a_sdp, b_sdp, &e, &a_ok);
  a_port = relay_port (a_ok);
  a_ack (f, &e, 1, NULL);
  b_ack = raw_sip_expect (f->b, "ACK", 0);

  /* A holds: B gets the offer (sendonly, on the relay) in its dialog. */
  reinvite = a_request (f, "INVITE", ruri, e.call_id, 2, "atag", e.a_to_tag, hold, NULL);
  raw_sip_send_text (f->a, &f->bound, reinvite);
  b_reinvite = raw_sip_expect (f->b, "INVITE", 0);
  g_assert_cmpstr (sp_sip_message_get_call_id (b_reinvite), ==,
                   sp_sip_message_get_call_id (e.b_invite));
  g_assert_cmpstr (sp_sip_name_addr_get_tag (sp_sip_message_get_to (b_reinvite)), ==, "btag");
  g_assert_true (has_direction (b_reinvite, "sendonly"));
  g_assert_cmpuint (relay_port (b_reinvite), ==, relay_port (e.b_invite));
  /* B's answer (recvonly) comes back to A. */
  b_ok = b_response (f, b_reinvite, 200, held);
  raw_sip_send (f->b, &f->bound, b_ok);
  a_ok2 = raw_sip_expect (f->a, NULL, 200);
  g_assert_cmpuint (sp_sip_message_get_cseq (a_ok2, NULL), ==, 2);
  g_assert_true (has_direction (a_ok2, "recvonly"));
  g_assert_cmpuint (relay_port (a_ok2), ==, a_port);
  /* The stack ACKed B's 200 (our re-INVITE had the offer). */
  sp_sip_message_unref (raw_sip_expect (f->b, "ACK", 0));
  a_ack (f, &e, 2, NULL);
  established_clear (&e);
}

/* A late offer whose answer never comes: A's ACK has no SDP. The ACK
 * cannot be refused (RFC 3261 13.3.1.4), so the call ends: B's 200 still
 * gets its ACK (without an answer), then both sides get BYE. */
static void
test_late_offer_no_answer (Fixture *f, gconstpointer data)
{
  g_autofree char *b_offer = sdp_text (42000, "sendrecv");
  g_autoptr (SpSipMessage) a_ok = NULL;
  g_autoptr (SpSipMessage) b_ack = NULL;
  g_autoptr (SpSipMessage) b_bye = NULL;
  g_autoptr (SpSipMessage) a_bye = NULL;
  Established e = { 0 };
  gsize len = 99;

  bind_bob (f, NULL);
  call_through (f, NULL, b_offer, &e, &a_ok);
  a_ack (f, &e, 1, NULL);
  b_ack = raw_sip_expect (f->b, "ACK", 0);
  sp_sip_message_get_body (b_ack, &len);
  g_assert_cmpuint (len, ==, 0);
  a_bye = raw_sip_expect (f->a, "BYE", 0);
  g_assert_cmpstr (sp_sip_message_get_call_id (a_bye), ==, e.call_id);
  b_bye = raw_sip_expect (f->b, "BYE", 0);
  g_assert_cmpstr (sp_sip_message_get_call_id (b_bye), ==, sp_sip_message_get_call_id (e.b_invite));
  g_assert_cmpuint (sp_server_get_n_calls (f->server), ==, 0);
  established_clear (&e);
}

/* A re-INVITE from B in its leg's dialog (CSeq @cseq, offer @sdp). */
static char *
b_reinvite_text (Fixture *f, Established *e, guint cseq, const char *sdp)
{
  const char *server_tag = sp_sip_name_addr_get_tag (sp_sip_message_get_from (e->b_invite));

  return g_strdup_printf ("INVITE sip:127.0.0.1:%u SIP/2.0\r\n"
                          "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK%08x\r\n"
                          "Max-Forwards: 70\r\n"
                          "From: <sip:bob@127.0.0.1>;tag=btag\r\n"
                          "To: <sip:server@127.0.0.1>;tag=%s\r\n"
                          "Call-ID: %s\r\n"
                          "CSeq: %u INVITE\r\n"
                          "Contact: <sip:bob@127.0.0.1:%u>\r\n"
                          "Content-Type: application/sdp\r\n"
                          "Content-Length: %zu\r\n\r\n%s",
                          f->bound.port, f->b->peer.port, g_random_int (), server_tag,
                          sp_sip_message_get_call_id (e->b_invite), cseq, f->b->peer.port,
                          strlen (sdp), sdp);
}

/* One offer at a time across the B2BUA (RFC 3261 14.2): while A's hold
 * is passed to B and not answered yet, A's next re-INVITE gets 500 with
 * Retry-After (its earlier offer is still unanswered) and B's own
 * re-INVITE meets the one on its way to B: 491. B's answer then still
 * reaches A, and the call goes on. */
static void
test_reinvite_one_at_a_time (Fixture *f, gconstpointer data)
{
  g_autofree char *a_sdp = sdp_text (40000, "sendrecv");
  g_autofree char *b_sdp = sdp_text (42000, "sendrecv");
  g_autofree char *hold = sdp_text (40000, "sendonly");
  g_autofree char *held = sdp_text (42000, "recvonly");
  g_autofree char *b_offer = sdp_text (42002, "sendrecv");
  g_autofree char *ruri = g_strdup_printf ("sip:2@127.0.0.1:%u", f->bound.port);
  g_autofree char *reinvite = NULL;
  g_autofree char *again = NULL;
  g_autofree char *from_b = NULL;
  g_autoptr (SpSipMessage) a_ok = NULL;
  g_autoptr (SpSipMessage) b_ack = NULL;
  g_autoptr (SpSipMessage) b_reinvite = NULL;
  g_autoptr (SpSipMessage) a_500 = NULL;
  g_autoptr (SpSipMessage) b_491 = NULL;
  g_autoptr (SpSipMessage) b_ok = NULL;
  g_autoptr (SpSipMessage) a_ok2 = NULL;
  Established e = { 0 };

  bind_bob (f, NULL);
  call_through (f, a_sdp, b_sdp, &e, &a_ok);
  a_ack (f, &e, 1, NULL);
  b_ack = raw_sip_expect (f->b, "ACK", 0);

  reinvite = a_request (f, "INVITE", ruri, e.call_id, 2, "atag", e.a_to_tag, hold, NULL);
  raw_sip_send_text (f->a, &f->bound, reinvite);
  b_reinvite = raw_sip_expect (f->b, "INVITE", 0);
  g_assert_true (has_direction (b_reinvite, "sendonly"));

  again = a_request (f, "INVITE", ruri, e.call_id, 3, "atag", e.a_to_tag, a_sdp, NULL);
  raw_sip_send_text (f->a, &f->bound, again);
  a_500 = raw_sip_expect (f->a, NULL, 500);
  g_assert_cmpuint (sp_sip_message_get_cseq (a_500, NULL), ==, 3);
  g_assert_nonnull (sp_sip_message_get_header (a_500, "Retry-After"));

  from_b = b_reinvite_text (f, &e, 1, b_offer);
  raw_sip_send_text (f->b, &f->bound, from_b);
  b_491 = raw_sip_expect (f->b, NULL, 491);
  g_assert_cmpuint (sp_sip_message_get_cseq (b_491, NULL), ==, 1);

  b_ok = b_response (f, b_reinvite, 200, held);
  raw_sip_send (f->b, &f->bound, b_ok);
  a_ok2 = raw_sip_expect (f->a, NULL, 200);
  g_assert_cmpuint (sp_sip_message_get_cseq (a_ok2, NULL), ==, 2);
  g_assert_true (has_direction (a_ok2, "recvonly"));
  a_ack (f, &e, 2, NULL);
  g_assert_cmpuint (sp_server_get_n_calls (f->server), ==, 1);
  established_clear (&e);
}

static void
test_late_offer (Fixture *f, gconstpointer data)
{
  g_autofree char *b_offer = sdp_text (42000, "sendrecv");
  g_autofree char *a_answer = sdp_text (40000, "sendrecv");
  g_autoptr (SpSipMessage) a_ok = NULL;
  g_autoptr (SpSipMessage) b_ack = NULL;
  g_autoptr (SpSipMessage) early = NULL;
  Established e = { 0 };
  gsize len = 99;
  guint b_port;

  bind_bob (f, NULL);
  call_through (f, NULL, b_offer, &e, &a_ok);
  /* Passed on without a body; B's offer reaches A on the relay. */
  sp_sip_message_get_body (e.b_invite, &len);
  g_assert_cmpuint (len, ==, 0);
  relay_port (a_ok);
  /* No ACK for B until A's answer is there. */
  early = raw_sip_recv (f->b, 300);
  g_assert_true (early == NULL || sp_sip_message_is_request (early) == FALSE ||
                 g_strcmp0 (sp_sip_message_get_method (early), "ACK") != 0);
  a_ack (f, &e, 1, a_answer);
  b_ack = raw_sip_expect (f->b, "ACK", 0);
  b_port = relay_port (b_ack);
  g_assert_cmpuint (b_port, !=, relay_port (a_ok));
  g_assert_cmpstr (sp_sip_message_get_call_id (b_ack), ==, sp_sip_message_get_call_id (e.b_invite));
  established_clear (&e);
}

/* B's 200 to the INVITE: it takes UPDATE. */
static const char *const B_ALLOWS_UPDATE[] = { "Allow", "INVITE, ACK, CANCEL, BYE, UPDATE", NULL };

/* An UPDATE from A in the answered call (RFC 3311): its offer goes to B
 * in B's own dialog, on the relay, as an UPDATE when B's Allow lists it
 * (@data non-NULL) and as a re-INVITE otherwise; A's UPDATE waits for
 * B's answer, which comes back to A on A's relay port. An UPDATE
 * without an offer (a refresh) is answered by the server alone. */
static void
test_update_passed (Fixture *f, gconstpointer data)
{
  gboolean b_update = GPOINTER_TO_INT (data) == 1;
  g_autofree char *a_sdp = sdp_text (40000, "sendrecv");
  g_autofree char *b_sdp = sdp_text (42000, "sendrecv");
  g_autofree char *hold = sdp_text (40000, "sendonly");
  g_autofree char *held = sdp_text (42000, "recvonly");
  g_autofree char *ruri = g_strdup_printf ("sip:2@127.0.0.1:%u", f->bound.port);
  g_autofree char *update = NULL;
  g_autofree char *bare = NULL;
  g_autoptr (SpSipMessage) a_ok = NULL;
  g_autoptr (SpSipMessage) b_ack = NULL;
  g_autoptr (SpSipMessage) b_offer = NULL;
  g_autoptr (SpSipMessage) b_ok = NULL;
  g_autoptr (SpSipMessage) a_ok2 = NULL;
  g_autoptr (SpSipMessage) a_ok3 = NULL;
  g_autoptr (SpSipMessage) stray = NULL;
  Established e = { 0 };
  const char *method = NULL;
  gsize len = 99;
  guint a_port;

  bind_bob (f, NULL);
  call_through_ex (f, a_sdp, b_sdp, NULL, b_update ? B_ALLOWS_UPDATE : NULL, &e, &a_ok);
  a_port = relay_port (a_ok);
  a_ack (f, &e, 1, NULL);
  b_ack = raw_sip_expect (f->b, "ACK", 0);

  update = a_request (f, "UPDATE", ruri, e.call_id, 2, "atag", e.a_to_tag, hold, NULL);
  raw_sip_send_text (f->a, &f->bound, update);
  b_offer = raw_sip_expect (f->b, b_update ? "UPDATE" : "INVITE", 0);
  g_assert_cmpstr (sp_sip_message_get_call_id (b_offer), ==,
                   sp_sip_message_get_call_id (e.b_invite));
  g_assert_cmpstr (sp_sip_name_addr_get_tag (sp_sip_message_get_to (b_offer)), ==, "btag");
  g_assert_true (has_direction (b_offer, "sendonly"));
  g_assert_cmpuint (relay_port (b_offer), ==, relay_port (e.b_invite));
  /* A's UPDATE waits for B's answer (the INVITE's 200 may still come
   * again meanwhile). */
  while ((stray = raw_sip_recv_final (f->a, 200)) != NULL)
    {
      g_assert_cmpuint (sp_sip_message_get_cseq (stray, NULL), ==, 1);
      g_clear_pointer (&stray, sp_sip_message_unref);
    }

  b_ok = b_response (f, b_offer, 200, held);
  raw_sip_send (f->b, &f->bound, b_ok);
  a_ok2 = raw_sip_expect (f->a, NULL, 200);
  g_assert_cmpuint (sp_sip_message_get_cseq (a_ok2, &method), ==, 2);
  g_assert_cmpstr (method, ==, "UPDATE");
  g_assert_true (has_direction (a_ok2, "recvonly"));
  g_assert_cmpuint (relay_port (a_ok2), ==, a_port);
  if (!b_update)
    sp_sip_message_unref (raw_sip_expect (f->b, "ACK", 0));

  /* No offer: the server answers it on A's leg, B hears nothing. */
  bare = a_request (f, "UPDATE", ruri, e.call_id, 3, "atag", e.a_to_tag, NULL, NULL);
  raw_sip_send_text (f->a, &f->bound, bare);
  a_ok3 = raw_sip_expect (f->a, NULL, 200);
  g_assert_cmpuint (sp_sip_message_get_cseq (a_ok3, &method), ==, 3);
  g_assert_cmpstr (method, ==, "UPDATE");
  sp_sip_message_get_body (a_ok3, &len);
  g_assert_cmpuint (len, ==, 0);
  /* (Retransmissions of B's earlier request aside.) */
  while ((stray = raw_sip_recv (f->b, 300)) != NULL)
    {
      g_assert_cmpuint (sp_sip_message_get_cseq (stray, NULL), ==,
                        sp_sip_message_get_cseq (b_offer, NULL));
      g_clear_pointer (&stray, sp_sip_message_unref);
    }
  g_assert_cmpuint (sp_server_get_n_calls (f->server), ==, 1);
  established_clear (&e);
}

/* Moves the fake clock up to @ms forward in 1 s steps until @raw gets
 * a message (returned, NULL when none came). */
static SpSipMessage *
advance_until (Fixture *f, RawSip *raw, guint ms)
{
  for (guint done = 0; done < ms; done += 1000)
    {
      SpSipMessage *msg;

      sp_sip_clock_advance (f->clock, MIN (1000, ms - done));
      if ((msg = raw_sip_recv (raw, 2)) != NULL)
        return msg;
    }
  return NULL;
}

/* Lets the ACKs just sent arrive before the fake clock moves (else the
 * 2xx they answer is sent again). */
static void
settle (void)
{
  gint64 end = g_get_monotonic_time () + 100 * 1000;

  while (g_get_monotonic_time () < end)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (500);
}

/* B takes session timers and leaves the refreshing to us. */
static const char *const B_TIMER[] = { "Allow",
                                       "INVITE, ACK, CANCEL, BYE, UPDATE",
                                       "Supported",
                                       "timer",
                                       "Session-Expires",
                                       "1800;refresher=uac",
                                       NULL };

/* Session timers on the callee's leg (RFC 4028, fake clock): the
 * server's INVITE asks for one (1800 s, Min-SE 90), B's 200 makes the
 * server the refresher, and the server refreshes B's leg at half the
 * interval with an UPDATE without a body; A, which asked for none, has
 * none and hears nothing. */
static void
test_session_timer_refresh (Fixture *f, gconstpointer data)
{
  g_autofree char *a_sdp = sdp_text (40000, "sendrecv");
  g_autofree char *b_sdp = sdp_text (42000, "sendrecv");
  g_autoptr (SpSipMessage) a_ok = NULL;
  g_autoptr (SpSipMessage) b_ack = NULL;
  g_autoptr (SpSipMessage) refresh = NULL;
  g_autoptr (SpSipMessage) b_ok = NULL;
  g_autoptr (SpSipMessage) stray = NULL;
  Established e = { 0 };
  gint64 t0;
  gsize len = 99;

  bind_bob (f, NULL);
  call_through_ex (f, a_sdp, b_sdp, NULL, B_TIMER, &e, &a_ok);
  g_assert_cmpstr (sp_sip_message_get_header (e.b_invite, "Session-Expires"), ==, "1800");
  g_assert_cmpstr (sp_sip_message_get_header (e.b_invite, "Min-SE"), ==, "90");
  g_assert_null (sp_sip_message_get_header (a_ok, "Session-Expires"));
  a_ack (f, &e, 1, NULL);
  b_ack = raw_sip_expect (f->b, "ACK", 0);
  settle ();

  t0 = sp_sip_clock_now (f->clock);
  refresh = advance_until (f, f->b, 1000 * 1000);
  g_assert_nonnull (refresh);
  g_assert_cmpstr (sp_sip_message_get_method (refresh), ==, "UPDATE");
  /* At half the interval (a step or two later under a loaded machine). */
  g_assert_cmpint (sp_sip_clock_now (f->clock) - t0, >=, 900 * 1000);
  g_assert_cmpint (sp_sip_clock_now (f->clock) - t0, <=, 905 * 1000);
  g_assert_cmpstr (sp_sip_message_get_call_id (refresh), ==,
                   sp_sip_message_get_call_id (e.b_invite));
  g_assert_nonnull (
      strstr (sp_sip_message_get_header (refresh, "Session-Expires"), "1800;refresher=uac"));
  sp_sip_message_get_body (refresh, &len);
  g_assert_cmpuint (len, ==, 0);
  b_ok = b_response (f, refresh, 200, NULL);
  sp_sip_message_set_header (b_ok, "Session-Expires", "1800;refresher=uac", NULL);
  raw_sip_send (f->b, &f->bound, b_ok);
  stray = raw_sip_recv (f->a, 200);
  g_assert_null (stray);
  g_assert_cmpuint (sp_server_get_n_calls (f->server), ==, 1);
  established_clear (&e);
}

/* A asks for a 90 s session timer and to refresh it itself: the 200
 * says so (refresher=uac, Require: timer). A refresh (an UPDATE without
 * an offer) is answered on A's leg alone and restarts the timer; when
 * A then stops refreshing, the leg expires at 90 - 30 s and the server
 * sends BYE to both sides. */
static void
test_session_timer_expiry (Fixture *f, gconstpointer data)
{
  g_autofree char *a_sdp = sdp_text (40000, "sendrecv");
  g_autofree char *b_sdp = sdp_text (42000, "sendrecv");
  g_autofree char *ruri = g_strdup_printf ("sip:2@127.0.0.1:%u", f->bound.port);
  g_autofree char *update = NULL;
  const char *timer = "Supported: timer\r\nSession-Expires: 90;refresher=uac\r\n";
  g_autoptr (SpSipMessage) a_ok = NULL;
  g_autoptr (SpSipMessage) b_ack = NULL;
  g_autoptr (SpSipMessage) quiet = NULL;
  g_autoptr (SpSipMessage) a_ok2 = NULL;
  g_autoptr (SpSipMessage) stray = NULL;
  g_autoptr (SpSipMessage) a_bye = NULL;
  g_autoptr (SpSipMessage) b_bye = NULL;
  Established e = { 0 };
  gint64 t0;

  bind_bob (f, NULL);
  call_through_ex (f, a_sdp, b_sdp, timer, NULL, &e, &a_ok);
  g_assert_cmpstr (sp_sip_message_get_header (a_ok, "Session-Expires"), ==, "90;refresher=uac");
  g_assert_cmpstr (sp_sip_message_get_header (a_ok, "Require"), ==, "timer");
  a_ack (f, &e, 1, NULL);
  b_ack = raw_sip_expect (f->b, "ACK", 0);
  settle ();

  quiet = advance_until (f, f->a, 40 * 1000);
  g_assert_null (quiet);
  update = a_request (f, "UPDATE", ruri, e.call_id, 2, "atag", e.a_to_tag, NULL, timer);
  raw_sip_send_text (f->a, &f->bound, update);
  a_ok2 = raw_sip_expect (f->a, NULL, 200);
  g_assert_cmpstr (sp_sip_message_get_header (a_ok2, "Session-Expires"), ==, "90;refresher=uac");
  stray = raw_sip_recv (f->b, 200);
  g_assert_null (stray);

  t0 = sp_sip_clock_now (f->clock);
  a_bye = advance_until (f, f->a, 120 * 1000);
  g_assert_nonnull (a_bye);
  g_assert_cmpstr (sp_sip_message_get_method (a_bye), ==, "BYE");
  g_assert_cmpstr (sp_sip_message_get_call_id (a_bye), ==, e.call_id);
  g_assert_cmpint (sp_sip_clock_now (f->clock) - t0, >=, 60 * 1000);
  g_assert_cmpint (sp_sip_clock_now (f->clock) - t0, <=, 65 * 1000);
  b_bye = raw_sip_expect (f->b, "BYE", 0);
  g_assert_cmpstr (sp_sip_message_get_call_id (b_bye), ==, sp_sip_message_get_call_id (e.b_invite));
  g_assert_cmpuint (sp_server_get_n_calls (f->server), ==, 0);
  established_clear (&e);
}

/* Below our Min-SE (RFC 4028 6): 422 with Min-SE, no callee leg. */
static void
test_session_timer_too_short (Fixture *f, gconstpointer data)
{
  g_autofree char *a_sdp = sdp_text (40000, "sendrecv");
  g_autofree char *ruri = g_strdup_printf ("sip:2@127.0.0.1:%u", f->bound.port);
  g_autofree char *invite = a_request (f, "INVITE", ruri, "short-se", 1, "atag", NULL, a_sdp,
                                       "Supported: timer\r\nSession-Expires: 60\r\n");
  g_autoptr (SpSipMessage) refused = NULL;
  g_autoptr (SpSipMessage) stray = NULL;

  bind_bob (f, NULL);
  raw_sip_send_text (f->a, &f->bound, invite);
  refused = raw_sip_expect (f->a, NULL, 422);
  g_assert_cmpstr (sp_sip_message_get_header (refused, "Min-SE"), ==, "90");
  stray = raw_sip_recv (f->b, 200);
  g_assert_null (stray);
}

/* B's 422 to the server's INVITE with Min-SE @min_se; returns the next
 * INVITE B gets (NULL when none comes within 1 s). */
static SpSipMessage *
b_refuses_422 (Fixture *f, SpSipMessage *invite, const char *min_se)
{
  g_autoptr (SpSipMessage) refused = b_response (f, invite, 422, NULL);

  sp_sip_message_set_header (refused, "Min-SE", min_se, NULL);
  raw_sip_send (f->b, &f->bound, refused);
  for (;;)
    {
      g_autoptr (SpSipMessage) msg = raw_sip_recv_final (f->b, 1000);

      if (msg == NULL)
        return NULL;
      if (sp_sip_message_is_request (msg) &&
          g_strcmp0 (sp_sip_message_get_method (msg), "INVITE") == 0)
        return g_steal_pointer (&msg);
    }
}

/* The callee wants a longer session interval (RFC 4028 6): its 422 with
 * Min-SE 1000 makes the server send the INVITE again (same Call-ID and
 * From tag, next CSeq) asking for Session-Expires >= 1000 and Min-SE
 * 1000; B answers 200, A gets 200, the call is up and B's leg has the
 * timer B settled. */
static void
test_session_timer_callee_422 (Fixture *f, gconstpointer data)
{
  g_autofree char *a_sdp = sdp_text (40000, "sendrecv");
  g_autofree char *b_sdp = sdp_text (42000, "sendrecv");
  g_autofree char *ruri = g_strdup_printf ("sip:2@127.0.0.1:%u", f->bound.port);
  g_autofree char *invite =
      a_request (f, "INVITE", ruri, "callee-422", 1, "atag", NULL, a_sdp, NULL);
  g_autoptr (SpSipMessage) first = NULL;
  g_autoptr (SpSipMessage) again = NULL;
  g_autoptr (SpSipMessage) ok = NULL;
  g_autoptr (SpSipMessage) a_ok = NULL;
  g_autoptr (SpSipMessage) b_ack = NULL;
  g_autoptr (SpSipMessage) b_bye = NULL;
  g_autoptr (SpSipMessage) a_bye_ok = NULL;
  g_autofree char *ack = NULL;
  g_autofree char *bye = NULL;
  const char *a_tag;
  const char *method = NULL;
  guint32 cseq1, cseq2;

  bind_bob (f, NULL);
  raw_sip_send_text (f->a, &f->bound, invite);
  first = raw_sip_expect (f->b, "INVITE", 0);
  g_assert_cmpstr (sp_sip_message_get_header (first, "Min-SE"), ==, "90");
  again = b_refuses_422 (f, first, "1000");
  g_assert_nonnull (again);
  g_assert_cmpuint (
      g_ascii_strtoull (sp_sip_message_get_header (again, "Session-Expires"), NULL, 10), >=, 1000);
  g_assert_cmpstr (sp_sip_message_get_header (again, "Min-SE"), ==, "1000");
  g_assert_cmpstr (sp_sip_message_get_call_id (again), ==, sp_sip_message_get_call_id (first));
  g_assert_cmpstr (sp_sip_name_addr_get_tag (sp_sip_message_get_from (again)), ==,
                   sp_sip_name_addr_get_tag (sp_sip_message_get_from (first)));
  cseq1 = sp_sip_message_get_cseq (first, NULL);
  cseq2 = sp_sip_message_get_cseq (again, NULL);
  g_assert_cmpuint (cseq2, ==, cseq1 + 1);
  g_assert_cmpstr (sp_sip_message_get_via (again)->branch, !=,
                   sp_sip_message_get_via (first)->branch);
  relay_port (again);

  ok = b_response (f, again, 200, b_sdp);
  sp_sip_message_set_header (ok, "Supported", "timer", NULL);
  sp_sip_message_set_header (ok, "Session-Expires", "1800;refresher=uac", NULL);
  raw_sip_send (f->b, &f->bound, ok);
  a_ok = raw_sip_expect (f->a, NULL, 200);
  relay_port (a_ok);
  g_assert_cmpuint (sp_server_get_n_calls (f->server), ==, 1);

  /* The call works: A's ACK reaches B for the INVITE that was answered,
   * and A's BYE ends B's leg. */
  a_tag = sp_sip_name_addr_get_tag (sp_sip_message_get_to (a_ok));
  ack = a_request (f, "ACK", ruri, "callee-422", 1, "atag", a_tag, NULL, NULL);
  raw_sip_send_text (f->a, &f->bound, ack);
  b_ack = raw_sip_expect (f->b, "ACK", 0);
  g_assert_cmpuint (sp_sip_message_get_cseq (b_ack, NULL), ==, cseq2);
  bye = a_request (f, "BYE", ruri, "callee-422", 2, "atag", a_tag, NULL, NULL);
  raw_sip_send_text (f->a, &f->bound, bye);
  b_bye = raw_sip_expect (f->b, "BYE", 0);
  g_assert_cmpstr (sp_sip_message_get_call_id (b_bye), ==, sp_sip_message_get_call_id (first));
  a_bye_ok = raw_sip_expect (f->a, NULL, 200);
  sp_sip_message_get_cseq (a_bye_ok, &method);
  g_assert_cmpstr (method, ==, "BYE");
}

/* A callee that answers 422 to every INVITE, each time with a higher
 * Min-SE: the server follows two of them, not a third; A gets a final
 * 480 and no call stays. */
static void
test_session_timer_callee_422_bounded (Fixture *f, gconstpointer data)
{
  g_autofree char *a_sdp = sdp_text (40000, "sendrecv");
  g_autofree char *ruri = g_strdup_printf ("sip:2@127.0.0.1:%u", f->bound.port);
  g_autofree char *invite =
      a_request (f, "INVITE", ruri, "callee-422-3", 1, "atag", NULL, a_sdp, NULL);
  const char *const min_se[] = { "1000", "2000", "3000" };
  g_autoptr (SpSipMessage) sent = NULL;
  g_autoptr (SpSipMessage) final = NULL;

  bind_bob (f, NULL);
  raw_sip_send_text (f->a, &f->bound, invite);
  sent = raw_sip_expect (f->b, "INVITE", 0);
  for (guint i = 0; i < G_N_ELEMENTS (min_se); i++)
    {
      SpSipMessage *next = b_refuses_422 (f, sent, min_se[i]);

      if (i < 2)
        {
          g_assert_nonnull (next);
          g_assert_cmpstr (sp_sip_message_get_header (next, "Min-SE"), ==, min_se[i]);
        }
      else
        g_assert_null (next);
      g_clear_pointer (&sent, sp_sip_message_unref);
      sent = next;
    }
  final = raw_sip_expect (f->a, NULL, 480);
  g_assert_cmpuint (sp_sip_message_get_status (final), ==, 480);
  g_assert_cmpuint (sp_server_get_n_calls (f->server), ==, 0);
}

static void
test_nat_source (Fixture *f, gconstpointer data)
{
  g_autofree char *a_sdp = sdp_text (40000, "sendrecv");
  g_autofree char *ruri = g_strdup_printf ("sip:2@127.0.0.1:%u", f->bound.port);
  g_autofree char *invite = NULL;
  g_autoptr (SpSipMessage) b_invite = NULL;

  /* B registered a LAN address of its own; the REGISTER came from B's
   * socket. */
  bind_bob (f, "10.11.12.13");
  invite = a_request (f, "INVITE", ruri, "nat-call", 1, "atag", NULL, a_sdp, NULL);
  raw_sip_send_text (f->a, &f->bound, invite);
  b_invite = raw_sip_expect (f->b, "INVITE", 0);
  g_assert_cmpstr (sp_sip_uri_get_host (sp_sip_message_get_request_uri (b_invite)), ==,
                   "10.11.12.13");
}

static void
test_binding_next_hop (void)
{
  SpBinding b = { .contact = "sip:u@10.0.0.5:5060",
                  .source = "127.0.0.9:5060",
                  .transport = "udp" };
  g_autoptr (SpSipUri) uri = sp_sip_uri_parse (b.contact, -1, NULL);
  g_autoptr (SpSipUri) same = sp_sip_uri_parse ("sip:u@127.0.0.9", -1, NULL);
  SpSipPeer dest;

  g_assert_true (sp_b2bua_binding_next_hop (&b, uri, NULL, &dest));
  g_assert_cmpstr (dest.host, ==, "127.0.0.9");
  g_assert_cmpuint (dest.port, ==, 5060);
  g_assert_cmpint (dest.kind, ==, SP_SIP_TRANSPORT_UDP);
  /* Reachable where it says (5060 by default). */
  g_assert_false (sp_b2bua_binding_next_hop (&b, same, NULL, &dest));
  /* Same host, another UDP port: NAT rewrote the port. */
  b.source = "127.0.0.9:40123";
  g_assert_true (sp_b2bua_binding_next_hop (&b, same, NULL, &dest));
  g_assert_cmpuint (dest.port, ==, 40123);
  /* Over TCP and TLS: only while the connection is open (the flow
   * itself: tests/integration/tls-clients.py); without one, the Contact. */
  b.transport = "tcp";
  g_assert_false (sp_b2bua_binding_next_hop (&b, same, NULL, &dest));
  g_assert_false (sp_b2bua_binding_next_hop (&b, uri, NULL, &dest));
  b.transport = "tls";
  g_assert_false (sp_b2bua_binding_next_hop (&b, uri, NULL, &dest));
  b.transport = "udp";
  b.source = "junk";
  g_assert_false (sp_b2bua_binding_next_hop (&b, uri, NULL, &dest));
  b.source = NULL;
  g_assert_false (sp_b2bua_binding_next_hop (&b, uri, NULL, &dest));
}

static void
test_blocked_flood (Fixture *f, gconstpointer data)
{
  g_autofree char *ruri = g_strdup_printf ("sip:127.0.0.1:%u", f->bound.port);
  g_autofree char *to = g_strdup_printf ("sip:bob@127.0.0.1:%u", f->bound.port);
  g_autofree char *reg = NULL;
  g_autofree char *reg2 = NULL;
  g_autofree char *auth = NULL;
  g_autoptr (SpSipMessage) challenge = NULL;
  g_autoptr (SpSipMessage) refused = NULL;
  g_autoptr (SpDigestChallenge) ch = NULL;
  SpSipTransactionLayer *layer = sp_sip_stack_get_transactions (f->stack);
  SpServerStats stats;
  SpSipMessage *stray;

  /* A is no trusted peer here: trusted peers are never locked out. */
  g_assert_true (sp_server_set_trusted_peers (f->server, "", NULL));
  /* One wrong password blocks A's address (guard: 1 failure). */
  reg = g_strdup_printf ("REGISTER %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKr1\r\n"
                         "Max-Forwards: 70\r\nFrom: <%s>;tag=r\r\nTo: <%s>\r\nCall-ID: reg-1\r\n"
                         "CSeq: 1 REGISTER\r\nContact: <sip:bob@127.0.0.1:%u>\r\n"
                         "Content-Length: 0\r\n\r\n",
                         ruri, f->a->peer.port, to, to, f->a->peer.port);
  raw_sip_send_text (f->a, &f->bound, reg);
  challenge = raw_sip_expect (f->a, NULL, 401);
  ch = raw_sip_challenge (challenge);
  auth = raw_sip_authorization (ch, "bob", "wrong", "REGISTER", ruri, 1);
  reg2 =
      g_strdup_printf ("REGISTER %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKr2\r\n"
                       "Max-Forwards: 70\r\nFrom: <%s>;tag=r\r\nTo: <%s>\r\nCall-ID: reg-1\r\n"
                       "CSeq: 2 REGISTER\r\nContact: <sip:bob@127.0.0.1:%u>\r\n%s"
                       "Content-Length: 0\r\n\r\n",
                       ruri, f->a->peer.port, to, to, f->a->peer.port, auth);
  raw_sip_send_text (f->a, &f->bound, reg2);
  refused = raw_sip_expect (f->a, NULL, 403);

  /* Now a flood of new INVITEs and REGISTERs: no answer at all (not
   * even 100 Trying), and no transaction stays. */
  for (guint i = 0; i < 100; i++)
    {
      g_autofree char *call_id = g_strdup_printf ("flood-%u", i);
      g_autofree char *text = a_request (f, i % 2 ? "INVITE" : "REGISTER", i % 2 ? ruri : ruri,
                                         call_id, 1, "ft", NULL, NULL, NULL);
      raw_sip_send_text (f->a, &f->bound, text);
    }
  stray = raw_sip_recv (f->a, 600);
  g_assert_null (stray);
  /* The 401 and the 403 were sent statelessly: nothing waits. */
  g_assert_cmpuint (sp_sip_transaction_layer_get_n_server (layer), ==, 0);
  sp_server_get_stats (f->server, &stats);
  g_assert_cmpuint (stats.ignored, ==, 100);
}

/* ---- call pickup (**NUMBER) ---- */

/* The pickup tests' users (password "pw"); A is no trusted peer then:
 * pickup is for authenticated users. */
static void
pickup_users (Fixture *f, gboolean trust_a)
{
  SpUserDb *users = sp_server_get_users (f->server);

  g_assert_true (sp_user_db_add (users, "alice", "1", "pw", NULL));
  g_assert_true (sp_user_db_add (users, "carol", "3", "pw", NULL));
  g_assert_true (sp_user_db_add (users, "dave", "4", "pw", NULL));
  if (!trust_a)
    g_assert_true (sp_server_set_trusted_peers (f->server, "", NULL));
}

/* A request from @raw as @user; @branch its Via branch (the same for a
 * CANCEL as for its INVITE), @extra whole header lines or NULL. */
static char *
user_request (RawSip *raw, const char *method, const char *ruri, const char *user,
              const char *call_id, guint cseq, const char *branch, const char *to_tag,
              const char *body, const char *extra)
{
  return g_strdup_printf (
      "%s %s SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK%s\r\n"
      "Max-Forwards: 70\r\n"
      "From: <sip:%s@127.0.0.1>;tag=%s-tag\r\n"
      "To: <%s>%s%s\r\n"
      "Call-ID: %s\r\n"
      "CSeq: %u %s\r\n"
      "Contact: <sip:%s@127.0.0.1:%u>\r\n"
      "%s%s"
      "Content-Length: %zu\r\n\r\n%s",
      method, ruri, raw->peer.port, branch, user, user, ruri, to_tag ? ";tag=" : "",
      to_tag ? to_tag : "", call_id, cseq, method, user, raw->peer.port, extra ? extra : "",
      body ? "Content-Type: application/sdp\r\n" : "", body ? strlen (body) : 0, body ? body : "");
}

/* @user's INVITE from @raw to @ruri with @sdp, through the server's
 * challenge: the one with credentials has CSeq 2 and Via branch
 * "@call_id-2" (for a CANCEL). */
static void
user_invite (Fixture *f, RawSip *raw, const char *user, const char *ruri, const char *call_id,
             const char *sdp)
{
  g_autofree char *first =
      user_request (raw, "INVITE", ruri, user, call_id, 1, call_id, NULL, sdp, NULL);
  g_autofree char *branch = g_strdup_printf ("%s-2", call_id);
  g_autofree char *auth = NULL;
  g_autofree char *second = NULL;
  g_autoptr (SpSipMessage) challenge = NULL;
  g_autoptr (SpDigestChallenge) ch = NULL;

  raw_sip_send_text (raw, &f->bound, first);
  challenge = raw_sip_expect (raw, NULL, 401);
  ch = raw_sip_challenge (challenge);
  auth = raw_sip_authorization (ch, user, "pw", "INVITE", ruri, 1);
  second = user_request (raw, "INVITE", ruri, user, call_id, 2, branch, NULL, sdp, auth);
  raw_sip_send_text (raw, &f->bound, second);
}

/* @user's in-dialog request (ACK, BYE) after the 200 @ok to its INVITE. */
static void
user_in_dialog (Fixture *f, RawSip *raw, const char *method, guint cseq, const char *ruri,
                const char *user, SpSipMessage *ok)
{
  g_autofree char *branch = g_strdup_printf ("%s-%08x", method, g_random_int ());
  g_autofree char *text =
      user_request (raw, method, ruri, user, sp_sip_message_get_call_id (ok), cseq, branch,
                    sp_sip_name_addr_get_tag (sp_sip_message_get_to (ok)), NULL, NULL);

  raw_sip_send_text (raw, &f->bound, text);
}

/* The final response @raw gets, checked: @status and reason @reason. */
static void
expect_refusal (RawSip *raw, guint status, const char *reason)
{
  g_autoptr (SpSipMessage) r = raw_sip_expect (raw, NULL, status);

  g_assert_cmpstr (sp_sip_message_get_reason (r), ==, reason);
}

/* alice (A) calls 2 with @a_sdp (NULL: a late offer) and bob's phone
 * (B) rings; returns B's INVITE. */
static SpSipMessage *
ring_bob_with (Fixture *f, const char *call_id, const char *a_sdp)
{
  g_autofree char *ruri = g_strdup_printf ("sip:2@127.0.0.1:%u", f->bound.port);
  g_autoptr (SpSipMessage) ringing = NULL;
  g_autoptr (SpSipMessage) a_ringing = NULL;
  SpSipMessage *b_invite;

  user_invite (f, f->a, "alice", ruri, call_id, a_sdp);
  b_invite = raw_sip_expect (f->b, "INVITE", 0);
  ringing = b_response (f, b_invite, 180, NULL);
  raw_sip_send (f->b, &f->bound, ringing);
  a_ringing = raw_sip_expect (f->a, NULL, 180);
  return b_invite;
}

static SpSipMessage *
ring_bob (Fixture *f, const char *call_id)
{
  g_autofree char *a_sdp = sdp_text (40000, "sendrecv");

  return ring_bob_with (f, call_id, a_sdp);
}

/* C (alice) calls bob, carol dials **2 while B rings: alice and carol
 * get a 200 each, with SDP on the relay (an answer: the codecs both
 * offered), B gets CANCEL with "completed elsewhere" (RFC 3326); dave,
 * a moment late, gets "Already Picked Up"; Timer C no longer runs
 * (fake clock past it), and carol's BYE ends alice's leg too. */
static void
test_pickup (Fixture *f, gconstpointer data)
{
  g_autoptr (RawSip) carol = raw_sip_new ("127.0.0.1");
  g_autoptr (RawSip) dave = raw_sip_new ("127.0.0.1");
  g_autofree char *pruri = g_strdup_printf ("sip:**2@127.0.0.1:%u", f->bound.port);
  g_autofree char *aruri = g_strdup_printf ("sip:2@127.0.0.1:%u", f->bound.port);
  /* carol offers PCMA and PCMU; alice PCMU alone. */
  g_autofree char *p_sdp =
      g_strdup ("v=0\r\no=- 7 7 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                "m=audio 44000 RTP/AVP 8 0\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n");
  g_autoptr (SpSipMessage) b_invite = NULL;
  g_autoptr (SpSipMessage) p_ok = NULL;
  g_autoptr (SpSipMessage) a_ok = NULL;
  g_autoptr (SpSipMessage) cancel = NULL;
  g_autoptr (SpSipMessage) cancel_ok = NULL;
  g_autoptr (SpSipMessage) terminated = NULL;
  g_autoptr (SpSipMessage) b_ack = NULL;
  g_autoptr (SpSipMessage) a_bye = NULL;
  g_autoptr (SpSipMessage) a_bye_ok = NULL;
  g_autoptr (SpSipMessage) p_bye_ok = NULL;
  g_autoptr (SpSdpSession) to_alice = NULL;
  g_autoptr (SpSdpSession) to_carol = NULL;
  g_autoptr (GPtrArray) calls = NULL;
  const char *reason;

  pickup_users (f, FALSE);
  bind_bob (f, NULL);
  b_invite = ring_bob (f, "pickup-1");

  user_invite (f, carol, "carol", pruri, "carol-1", p_sdp);
  p_ok = raw_sip_expect (carol, NULL, 200);
  a_ok = raw_sip_expect (f->a, NULL, 200);
  /* Each side its own relay port, each SDP the answer to that side's
   * offer: PCMU alone. */
  g_assert_cmpuint (relay_port (p_ok), !=, relay_port (a_ok));
  to_alice = parse_body (a_ok);
  to_carol = parse_body (p_ok);
  g_assert_cmpuint (sp_sdp_media_get_n_formats (sp_sdp_session_find_media (to_alice, "audio")), ==,
                    1);
  g_assert_cmpstr (sp_sdp_media_get_format (sp_sdp_session_find_media (to_alice, "audio"), 0), ==,
                   "0");
  g_assert_cmpuint (sp_sdp_media_get_n_formats (sp_sdp_session_find_media (to_carol, "audio")), ==,
                    1);

  /* B stops ringing, told why. */
  cancel = raw_sip_expect (f->b, "CANCEL", 0);
  reason = sp_sip_message_get_header (cancel, "Reason");
  g_assert_nonnull (reason);
  g_assert_true (sp_session_reason_is_completed_elsewhere (reason));
  g_assert_nonnull (strstr (reason, "Call completed elsewhere"));
  cancel_ok = b_response (f, cancel, 200, NULL);
  raw_sip_send (f->b, &f->bound, cancel_ok);
  terminated = b_response (f, b_invite, 487, NULL);
  raw_sip_send (f->b, &f->bound, terminated);
  b_ack = raw_sip_expect (f->b, "ACK", 0);

  /* Two pickers: the second is told it was taken. */
  user_invite (f, dave, "dave", pruri, "dave-1", p_sdp);
  expect_refusal (dave, 480, "Already Picked Up");

  user_in_dialog (f, f->a, "ACK", 2, aruri, "alice", a_ok);
  user_in_dialog (f, carol, "ACK", 2, pruri, "carol", p_ok);
  settle ();
  g_assert_cmpuint (sp_server_get_n_calls (f->server), ==, 1);
  calls = sp_server_call_list_get_calls (sp_server_get_calls (f->server));
  g_assert_cmpuint (calls->len, ==, 1);
  g_assert_cmpstr (((SpServerCall *) g_ptr_array_index (calls, 0))->callee, ==, "carol");
  g_assert_cmpstr (((SpServerCall *) g_ptr_array_index (calls, 0))->state, ==, "answered");
  /* Past Timer C (3 min): the call was answered, nothing ends it. */
  g_assert_null (advance_until (f, f->a, (SP_B2BUA_DEFAULT_TIMER_C_S + 10) * 1000));
  g_assert_cmpuint (sp_server_get_n_calls (f->server), ==, 1);

  /* Like any call: carol hangs up, alice's leg gets BYE. */
  user_in_dialog (f, carol, "BYE", 3, pruri, "carol", p_ok);
  p_bye_ok = raw_sip_expect (carol, NULL, 200);
  a_bye = raw_sip_expect (f->a, "BYE", 0);
  a_bye_ok = raw_sip_response (f->a, a_bye, 200, NULL, "alice");
  raw_sip_send (f->a, &f->bound, a_bye_ok);
  settle ();
  g_assert_cmpuint (sp_server_get_n_calls (f->server), ==, 0);
}

/* What a pickup that cannot be gets: a trusted peer (no user) 403,
 * nothing ringing 480, a number that is no user here 404, the caller
 * picking up its own call 403; and once the caller cancelled, nothing
 * rings any more. Nothing of it leaves a call behind. */
static void
test_pickup_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (RawSip) carol = raw_sip_new ("127.0.0.1");
  g_autofree char *pruri = g_strdup_printf ("sip:**2@127.0.0.1:%u", f->bound.port);
  g_autofree char *nobody = g_strdup_printf ("sip:**77@127.0.0.1:%u", f->bound.port);
  g_autofree char *aruri = g_strdup_printf ("sip:2@127.0.0.1:%u", f->bound.port);
  g_autofree char *p_sdp = sdp_text (44000, "sendrecv");
  g_autofree char *trunk = NULL;
  g_autofree char *cancel = NULL;
  g_autoptr (SpSipMessage) b_invite = NULL;
  g_autoptr (SpSipMessage) b_cancel = NULL;
  g_autoptr (SpSipMessage) b_cancel_ok = NULL;
  g_autoptr (SpSipMessage) b_487 = NULL;
  g_autoptr (SpSipMessage) a_cancel_ok = NULL;
  g_autoptr (SpSipMessage) a_487 = NULL;
  g_autoptr (SpSipMessage) late = NULL;

  pickup_users (f, TRUE);
  bind_bob (f, NULL);
  /* A trusted peer (a trunk) may call, not take the office's calls. */
  trunk = a_request (f, "INVITE", pruri, "trunk-1", 1, "atag", NULL, p_sdp, NULL);
  raw_sip_send_text (f->a, &f->bound, trunk);
  expect_refusal (f->a, 403, "Pickup Is For Local Users");
  g_assert_true (sp_server_set_trusted_peers (f->server, "", NULL));

  user_invite (f, carol, "carol", pruri, "none-1", p_sdp);
  expect_refusal (carol, 480, "Nothing Ringing");
  user_invite (f, carol, "carol", nobody, "none-2", p_sdp);
  expect_refusal (carol, 404, "No Such User To Pick Up");

  b_invite = ring_bob (f, "own-1");
  user_invite (f, f->a, "alice", pruri, "own-2", p_sdp);
  expect_refusal (f->a, 403, "Cannot Pick Up Own Call");
  /* No SDP offer: nothing to answer the caller with. */
  user_invite (f, carol, "carol", pruri, "none-3", NULL);
  expect_refusal (carol, 488, "Pickup Needs An SDP Offer");

  /* The caller cancels: bob stops ringing (a plain CANCEL), and then
   * there is nothing to pick up. */
  cancel = user_request (f->a, "CANCEL", aruri, "alice", "own-1", 2, "own-1-2", NULL, NULL, NULL);
  raw_sip_send_text (f->a, &f->bound, cancel);
  a_cancel_ok = raw_sip_expect (f->a, NULL, 200);
  a_487 = raw_sip_expect (f->a, NULL, 487);
  b_cancel = raw_sip_expect (f->b, "CANCEL", 0);
  g_assert_null (sp_sip_message_get_header (b_cancel, "Reason"));
  b_cancel_ok = b_response (f, b_cancel, 200, NULL);
  raw_sip_send (f->b, &f->bound, b_cancel_ok);
  b_487 = b_response (f, b_invite, 487, NULL);
  raw_sip_send (f->b, &f->bound, b_487);
  user_invite (f, carol, "carol", pruri, "none-4", p_sdp);
  expect_refusal (carol, 480, "Nothing Ringing");
  g_assert_cmpuint (sp_server_get_n_calls (f->server), ==, 0);

  /* A caller without an offer (late offer): nothing to answer it with
   * at once; bob keeps ringing. */
  late = ring_bob_with (f, "late-1", NULL);
  user_invite (f, carol, "carol", pruri, "none-5", p_sdp);
  expect_refusal (carol, 488, "Caller Made No SDP Offer");
  g_assert_null (raw_sip_recv (f->b, 200));
  g_assert_cmpuint (sp_server_get_n_calls (f->server), ==, 1);
}

/* Parsing RFC 3326 Reason values: only the SIP protocol's cause 200. */
static void
test_reason_completed_elsewhere (void)
{
  g_assert_true (sp_session_reason_is_completed_elsewhere (SP_SIP_REASON_COMPLETED_ELSEWHERE));
  g_assert_true (sp_session_reason_is_completed_elsewhere ("sip ; cause = 200"));
  g_assert_true (
      sp_session_reason_is_completed_elsewhere ("Q.850;cause=16;text=\"a, b\", SIP;cause=200"));
  g_assert_false (sp_session_reason_is_completed_elsewhere (NULL));
  g_assert_false (sp_session_reason_is_completed_elsewhere (""));
  g_assert_false (sp_session_reason_is_completed_elsewhere ("Q.850;cause=200"));
  g_assert_false (sp_session_reason_is_completed_elsewhere ("SIP;cause=2000"));
  g_assert_false (sp_session_reason_is_completed_elsewhere ("SIP;text=\"x, SIP;cause=200\""));
  g_assert_false (sp_session_reason_is_completed_elsewhere ("SIP;cause=487"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/b2bua/leg-mapping", Fixture, NULL, fixture_setup, test_leg_mapping,
              fixture_teardown);
  g_test_add ("/b2bua/failure-mapping", Fixture, NULL, fixture_setup, test_failure_mapping,
              fixture_teardown);
  g_test_add ("/b2bua/reinvite-hold", Fixture, NULL, fixture_setup, test_reinvite_hold,
              fixture_teardown);
  g_test_add ("/b2bua/reinvite-one-at-a-time", Fixture, NULL, fixture_setup,
              test_reinvite_one_at_a_time, fixture_teardown);
  g_test_add ("/b2bua/late-offer-no-answer", Fixture, NULL, fixture_setup,
              test_late_offer_no_answer, fixture_teardown);
  g_test_add ("/b2bua/late-offer", Fixture, NULL, fixture_setup, test_late_offer, fixture_teardown);
  g_test_add ("/b2bua/update-passed", Fixture, GINT_TO_POINTER (1), fixture_setup,
              test_update_passed, fixture_teardown);
  g_test_add ("/b2bua/update-as-reinvite", Fixture, GINT_TO_POINTER (2), fixture_setup,
              test_update_passed, fixture_teardown);
  g_test_add ("/b2bua/session-timer-refresh", Fixture, FAKE_CLOCK, fixture_setup,
              test_session_timer_refresh, fixture_teardown);
  g_test_add ("/b2bua/session-timer-expiry", Fixture, FAKE_CLOCK, fixture_setup,
              test_session_timer_expiry, fixture_teardown);
  g_test_add ("/b2bua/session-timer-too-short", Fixture, NULL, fixture_setup,
              test_session_timer_too_short, fixture_teardown);
  g_test_add ("/b2bua/session-timer-callee-422", Fixture, NULL, fixture_setup,
              test_session_timer_callee_422, fixture_teardown);
  g_test_add ("/b2bua/session-timer-callee-422-bounded", Fixture, NULL, fixture_setup,
              test_session_timer_callee_422_bounded, fixture_teardown);
  g_test_add ("/b2bua/nat-source", Fixture, NULL, fixture_setup, test_nat_source, fixture_teardown);
  g_test_add_func ("/b2bua/binding-next-hop", test_binding_next_hop);
  g_test_add ("/b2bua/pickup", Fixture, FAKE_CLOCK, fixture_setup, test_pickup, fixture_teardown);
  g_test_add ("/b2bua/pickup-refused", Fixture, FAKE_CLOCK, fixture_setup, test_pickup_refused,
              fixture_teardown);
  g_test_add_func ("/b2bua/reason-completed-elsewhere", test_reason_completed_elsewhere);
  g_test_add ("/b2bua/blocked-flood", Fixture, NULL, fixture_setup, test_blocked_flood,
              fixture_teardown);
  return g_test_run ();
}
