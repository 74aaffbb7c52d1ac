/* The ends of the mini-server's calls on the wire, with SpServer on its
 * own stack (T1 50 ms) and scripted raw UDP peers for the caller (A) and
 * the callee (B), through the public API and the packets only:
 * - BYE from either side: the sender gets 200, the other leg gets a BYE
 *   in its own dialog (Call-ID, tags, CSeq above the INVITE's), the call
 *   is gone once that is answered;
 * - CANCEL while B rings: A gets 200 for the CANCEL and 487 for the
 *   INVITE, B's leg gets a CANCEL for its own INVITE (same branch), its
 *   487 is ACKed hop by hop; B's 200 crossing the CANCEL is ACKed and
 *   ended with a BYE, A keeps its 487;
 * - a BYE challenged by the far leg (401 or 407): the server holds no
 *   credentials for its legs, so it sends no second BYE (no retry, no
 *   loop) and the call still ends;
 * - the server challenging the BYE of an authenticated caller: without
 *   credentials 401, with another user's 403, both leaving the call up;
 *   with the caller's own the call ends on both legs. */
#include <string.h>

#include "server/server.h"
#include "sip/digest.h"
#include "sip/stack.h"

#include "../common/b2bua-fixture.h"
#include "../common/raw-sip.h"

typedef B2buaFixture Fixture;

/* The caller's side of one call, as A keeps it. */
typedef struct
{
  char *ruri;    /* of the INVITE */
  char *call_id; /* A's */
  char *from;    /* A's From, with its tag */
  char *to;      /* To as A sends it: the server's tag once known */
  char *remote;  /* the server's Contact on A's leg (A's BYE goes there) */
  guint32 cseq;  /* A's last */
  char *branch;  /* the INVITE's */
  SpSipMessage *b_invite;
} Call;

static void
call_clear (Call *c)
{
  g_free (c->ruri);
  g_free (c->call_id);
  g_free (c->from);
  g_free (c->to);
  g_free (c->remote);
  g_free (c->branch);
  g_clear_pointer (&c->b_invite, sp_sip_message_unref);
}

static const char SDP_A[] = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
                            "t=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
static const char SDP_B[] = "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
                            "t=0 0\r\nm=audio 42000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

/* A request as @raw sends it; @extra whole header lines, @body SDP or
 * NULL. */
static char *
request_text (RawSip *raw, const char *method, const char *ruri, const char *branch,
              const char *from, const char *to, const char *call_id, guint32 cseq,
              const char *extra, const char *body)
{
  return g_strdup_printf ("%s %s SIP/2.0\r\n"
                          "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=%s\r\n"
                          "Max-Forwards: 70\r\n"
                          "From: %s\r\n"
                          "To: %s\r\n"
                          "Call-ID: %s\r\n"
                          "CSeq: %u %s\r\n"
                          "Contact: <sip:peer@127.0.0.1:%u>\r\n"
                          "%s%s"
                          "Content-Length: %zu\r\n\r\n%s",
                          method, ruri, raw->peer.port, branch, from, to, call_id, cseq, method,
                          raw->peer.port, extra ? extra : "",
                          body ? "Content-Type: application/sdp\r\n" : "", body ? strlen (body) : 0,
                          body ? body : "");
}

static char *
new_branch (void)
{
  return g_strdup_printf ("z9hG4bK%08x%08x", g_random_int (), g_random_int ());
}

static void
bind_bob (Fixture *f)
{
  b2bua_fixture_bind_bob (f, NULL);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  b2bua_fixture_init (f, FALSE);
  g_assert_true (sp_user_db_add (sp_server_get_users (f->server), "alice", "1", "pa", &error));
  g_assert_no_error (error);
  b2bua_fixture_start (f);
  bind_bob (f);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  b2bua_fixture_teardown (f);
}

/* A's INVITE to 2 (with @auth, a whole header line, or none); B gets its
 * leg's INVITE into @c->b_invite. */
static void
a_invite (Fixture *f, Call *c, const char *auth)
{
  g_autofree char *text = NULL;

  if (c->ruri == NULL)
    {
      c->ruri = g_strdup_printf ("sip:2@127.0.0.1:%u", f->bound.port);
      c->call_id = g_strdup_printf ("a-%08x", g_random_int ());
      c->to = g_strdup_printf ("<%s>", c->ruri);
      if (c->from == NULL)
        c->from = g_strdup ("\"Anna\" <sip:stranger@127.0.0.1>;tag=atag");
    }
  g_free (c->branch);
  c->branch = new_branch ();
  text = request_text (f->a, "INVITE", c->ruri, c->branch, c->from, c->to, c->call_id, ++c->cseq,
                       auth, SDP_A);
  raw_sip_send_text (f->a, &f->bound, text);
}

static void
b_send_response (Fixture *f, SpSipMessage *request, guint status, const char *sdp)
{
  g_autoptr (SpSipMessage) r = raw_sip_response (f->b, request, status, "btag", "bob");

  if (sdp != NULL)
    sp_sip_message_set_body (r, "application/sdp", (const guint8 *) sdp, strlen (sdp));
  raw_sip_send (f->b, &f->bound, r);
}

/* The server's To tag and Contact from a 1xx/2xx to A's INVITE. */
static void
learn_a_dialog (Call *c, SpSipMessage *response)
{
  const GPtrArray *contacts = sp_sip_message_get_contacts (response);
  const char *tag = sp_sip_name_addr_get_tag (sp_sip_message_get_to (response));

  g_assert_nonnull (tag);
  g_free (c->to);
  c->to = g_strdup_printf ("<%s>;tag=%s", c->ruri, tag);
  if (contacts != NULL && contacts->len > 0)
    {
      g_free (c->remote);
      c->remote = sp_sip_uri_to_string (((SpSipNameAddr *) contacts->pdata[0])->uri);
    }
}

/* A's call to 2, answered by B and ACKed on both legs. @auth as for
 * a_invite(). */
static void
establish (Fixture *f, Call *c, const char *auth)
{
  g_autoptr (SpSipMessage) a_ok = NULL;
  g_autofree char *ack = NULL;

  a_invite (f, c, auth);
  c->b_invite = raw_sip_expect (f->b, "INVITE", 0);
  b_send_response (f, c->b_invite, 200, SDP_B);
  a_ok = raw_sip_expect (f->a, NULL, 200);
  g_assert_cmpstr (sp_sip_message_get_call_id (a_ok), ==, c->call_id);
  learn_a_dialog (c, a_ok);
  g_assert_nonnull (c->remote);
  {
    g_autofree char *branch = new_branch ();
    ack = request_text (f->a, "ACK", c->ruri, branch, c->from, c->to, c->call_id, c->cseq, NULL,
                        NULL);
  }
  raw_sip_send_text (f->a, &f->bound, ack);
  sp_sip_message_unref (raw_sip_expect (f->b, "ACK", 0));
  g_assert_cmpuint (sp_server_get_n_calls (f->server), ==, 1);
}

/* A BYE in A's dialog; returns its CSeq. */
static guint32
a_bye (Fixture *f, Call *c, const char *auth)
{
  g_autofree char *branch = new_branch ();
  g_autofree char *text = request_text (f->a, "BYE", c->remote, branch, c->from, c->to, c->call_id,
                                        ++c->cseq, auth, NULL);

  raw_sip_send_text (f->a, &f->bound, text);
  return c->cseq;
}

/* B's BYE in B's dialog (B's own CSeq space starts at 1). */
static void
b_bye (Fixture *f, Call *c)
{
  const GPtrArray *contacts = sp_sip_message_get_contacts (c->b_invite);
  g_autofree char *ruri = NULL;
  g_autofree char *branch = new_branch ();
  g_autofree char *b_uri = sp_sip_uri_to_string (sp_sip_message_get_to (c->b_invite)->uri);
  g_autofree char *from = g_strdup_printf ("<%s>;tag=btag", b_uri);
  g_autofree char *to = sp_sip_name_addr_to_string (sp_sip_message_get_from (c->b_invite));
  g_autofree char *text = NULL;

  g_assert_true (contacts != NULL && contacts->len > 0);
  ruri = sp_sip_uri_to_string (((SpSipNameAddr *) contacts->pdata[0])->uri);
  text = request_text (f->b, "BYE", ruri, branch, from, to,
                       sp_sip_message_get_call_id (c->b_invite), 1, NULL, NULL);
  raw_sip_send_text (f->b, &f->bound, text);
}

/* The response to A's request with @cseq (other ones skipped). */
static SpSipMessage *
a_response_to (Fixture *f, const char *method, guint32 cseq)
{
  for (guint i = 0; i < 20; i++)
    {
      g_autoptr (SpSipMessage) msg = raw_sip_recv_final (f->a, RAW_SIP_WAIT_MS);
      const char *m = NULL;

      g_assert_nonnull (msg);
      if (!sp_sip_message_is_request (msg) && sp_sip_message_get_cseq (msg, &m) == cseq &&
          g_strcmp0 (m, method) == 0)
        return g_steal_pointer (&msg);
    }
  g_assert_not_reached ();
  return NULL;
}

/* The BYE on B's leg: in B's dialog, sent by the server. */
static SpSipMessage *
expect_b_bye (Fixture *f, Call *c)
{
  SpSipMessage *bye = raw_sip_expect (f->b, "BYE", 0);
  guint32 invite_cseq = sp_sip_message_get_cseq (c->b_invite, NULL);

  g_assert_cmpstr (sp_sip_message_get_call_id (bye), ==, sp_sip_message_get_call_id (c->b_invite));
  g_assert_cmpstr (sp_sip_name_addr_get_tag (sp_sip_message_get_to (bye)), ==, "btag");
  g_assert_cmpstr (sp_sip_name_addr_get_tag (sp_sip_message_get_from (bye)), ==,
                   sp_sip_name_addr_get_tag (sp_sip_message_get_from (c->b_invite)));
  g_assert_cmpuint (sp_sip_message_get_cseq (bye, NULL), >, invite_cseq);
  return bye;
}

/* The BYE on A's leg: in A's dialog, the server's tag in From. */
static SpSipMessage *
expect_a_bye (Fixture *f, Call *c)
{
  SpSipMessage *bye = raw_sip_expect (f->a, "BYE", 0);
  g_autoptr (SpSipNameAddr) our_to = sp_sip_name_addr_parse (c->to, -1, NULL);

  g_assert_cmpstr (sp_sip_message_get_call_id (bye), ==, c->call_id);
  g_assert_cmpstr (sp_sip_name_addr_get_tag (sp_sip_message_get_to (bye)), ==, "atag");
  g_assert_cmpstr (sp_sip_name_addr_get_tag (sp_sip_message_get_from (bye)), ==,
                   sp_sip_name_addr_get_tag (our_to));
  g_assert_cmpstr (sp_sip_uri_get_user (sp_sip_message_get_request_uri (bye)), ==, "peer");
  return bye;
}

/* Nothing more for @raw within @ms but retransmissions of @method with
 * CSeq @cseq: a request with a higher CSeq or credentials fails. */
static void
assert_no_new_request (RawSip *raw, const char *method, guint32 cseq, guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      g_autoptr (SpSipMessage) msg = raw_sip_recv (raw, 50);

      if (msg == NULL || !sp_sip_message_is_request (msg))
        continue;
      g_assert_cmpstr (sp_sip_message_get_method (msg), ==, method);
      g_assert_cmpuint (sp_sip_message_get_cseq (msg, NULL), ==, cseq);
      g_assert_null (sp_sip_message_get_header (msg, "Authorization"));
      g_assert_null (sp_sip_message_get_header (msg, "Proxy-Authorization"));
    }
}

static void
wait_no_calls (Fixture *f)
{
  gint64 end = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;

  while (sp_server_get_n_calls (f->server) > 0 && g_get_monotonic_time () < end)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (1000);
  g_assert_cmpuint (sp_server_get_n_calls (f->server), ==, 0);
}

/* ---- tests ---- */

static void
test_bye_from_caller (Fixture *f, gconstpointer data)
{
  Call c = { 0 };
  g_autoptr (SpSipMessage) ok = NULL;
  g_autoptr (SpSipMessage) b_bye_msg = NULL;
  guint32 cseq;

  establish (f, &c, NULL);
  cseq = a_bye (f, &c, NULL);
  ok = a_response_to (f, "BYE", cseq);
  g_assert_cmpuint (sp_sip_message_get_status (ok), ==, 200);
  b_bye_msg = expect_b_bye (f, &c);
  b_send_response (f, b_bye_msg, 200, NULL);
  wait_no_calls (f);
  /* Answered: not sent again, and A hears nothing more. */
  assert_no_new_request (f->b, "BYE", sp_sip_message_get_cseq (b_bye_msg, NULL), 300);
  g_assert_null (raw_sip_recv_final (f->a, 200));
  call_clear (&c);
}

static void
test_bye_from_callee (Fixture *f, gconstpointer data)
{
  Call c = { 0 };
  g_autoptr (SpSipMessage) ok = NULL;
  g_autoptr (SpSipMessage) a_bye_msg = NULL;
  g_autoptr (SpSipMessage) a_ok = NULL;

  establish (f, &c, NULL);
  b_bye (f, &c);
  ok = raw_sip_expect (f->b, NULL, 200);
  g_assert_cmpstr (sp_sip_message_get_call_id (ok), ==, sp_sip_message_get_call_id (c.b_invite));
  a_bye_msg = expect_a_bye (f, &c);
  a_ok = sp_sip_message_new_response_to (a_bye_msg, 200, NULL, NULL);
  raw_sip_send (f->a, &f->bound, a_ok);
  wait_no_calls (f);
  assert_no_new_request (f->a, "BYE", sp_sip_message_get_cseq (a_bye_msg, NULL), 300);
  call_clear (&c);
}

static void
test_cancel_ringing (Fixture *f, gconstpointer data)
{
  Call c = { 0 };
  g_autoptr (SpSipMessage) ringing = NULL;
  g_autoptr (SpSipMessage) b_cancel = NULL;
  g_autoptr (SpSipMessage) b_ack = NULL;
  g_autoptr (SpSipMessage) cancel_ok = NULL;
  g_autoptr (SpSipMessage) terminated = NULL;
  g_autofree char *cancel = NULL;
  g_autofree char *ack = NULL;
  const char *method = NULL;

  a_invite (f, &c, NULL);
  c.b_invite = raw_sip_expect (f->b, "INVITE", 0);
  b_send_response (f, c.b_invite, 180, NULL);
  ringing = raw_sip_expect (f->a, NULL, 180);
  learn_a_dialog (&c, ringing);

  /* A gives up: its CANCEL names the INVITE's branch and CSeq number. */
  {
    g_autofree char *to = g_strdup_printf ("<%s>", c.ruri);
    cancel =
        request_text (f->a, "CANCEL", c.ruri, c.branch, c.from, to, c.call_id, c.cseq, NULL, NULL);
  }
  raw_sip_send_text (f->a, &f->bound, cancel);
  cancel_ok = a_response_to (f, "CANCEL", c.cseq);
  g_assert_cmpuint (sp_sip_message_get_status (cancel_ok), ==, 200);
  terminated = a_response_to (f, "INVITE", c.cseq);
  g_assert_cmpuint (sp_sip_message_get_status (terminated), ==, 487);

  /* B's leg: a CANCEL for its own INVITE (same branch, same CSeq). */
  b_cancel = raw_sip_expect (f->b, "CANCEL", 0);
  g_assert_cmpstr (sp_sip_message_get_via (b_cancel)->branch, ==,
                   sp_sip_message_get_via (c.b_invite)->branch);
  g_assert_cmpstr (sp_sip_message_get_call_id (b_cancel), ==,
                   sp_sip_message_get_call_id (c.b_invite));
  sp_sip_message_get_cseq (b_cancel, &method);
  g_assert_cmpstr (method, ==, "CANCEL");
  g_assert_cmpuint (sp_sip_message_get_cseq (b_cancel, NULL), ==,
                    sp_sip_message_get_cseq (c.b_invite, NULL));
  {
    g_autoptr (SpSipMessage) r = sp_sip_message_new_response_to (b_cancel, 200, NULL, "btag");
    raw_sip_send (f->b, &f->bound, r);
  }
  b_send_response (f, c.b_invite, 487, NULL);
  /* The server ACKs B's 487 in the INVITE's transaction. */
  b_ack = raw_sip_expect (f->b, "ACK", 0);
  g_assert_cmpstr (sp_sip_message_get_via (b_ack)->branch, ==,
                   sp_sip_message_get_via (c.b_invite)->branch);

  /* A ACKs its 487 (same branch as its INVITE). */
  {
    g_autofree char *to = g_strdup_printf (
        "<%s>;tag=%s", c.ruri, sp_sip_name_addr_get_tag (sp_sip_message_get_to (terminated)));
    ack = request_text (f->a, "ACK", c.ruri, c.branch, c.from, to, c.call_id, c.cseq, NULL, NULL);
  }
  raw_sip_send_text (f->a, &f->bound, ack);
  wait_no_calls (f);
  /* Nothing else reaches B: no BYE, no second CANCEL, no new INVITE. */
  {
    g_autoptr (SpSipMessage) stray = raw_sip_recv (f->b, 300);
    g_assert_true (stray == NULL || (sp_sip_message_is_request (stray) &&
                                     g_strcmp0 (sp_sip_message_get_method (stray), "ACK") == 0));
  }
  call_clear (&c);
}

/* A's CANCEL and B's 200 cross: the server has cancelled B's leg when
 * B's 200 arrives. B's leg is ACKed and then ended with a BYE in B's
 * dialog (RFC 3261 15: no call stays up that A gave up), A keeps its 487
 * and gets no 200. */
static void
test_cancel_crossing_200 (Fixture *f, gconstpointer data)
{
  Call c = { 0 };
  g_autoptr (SpSipMessage) ringing = NULL;
  g_autoptr (SpSipMessage) b_cancel = NULL;
  g_autoptr (SpSipMessage) b_ack = NULL;
  g_autoptr (SpSipMessage) b_bye_msg = NULL;
  g_autoptr (SpSipMessage) terminated = NULL;
  g_autofree char *cancel = NULL;
  g_autofree char *to = NULL;

  a_invite (f, &c, NULL);
  c.b_invite = raw_sip_expect (f->b, "INVITE", 0);
  b_send_response (f, c.b_invite, 180, NULL);
  ringing = raw_sip_expect (f->a, NULL, 180);
  to = g_strdup_printf ("<%s>", c.ruri);
  cancel =
      request_text (f->a, "CANCEL", c.ruri, c.branch, c.from, to, c.call_id, c.cseq, NULL, NULL);
  raw_sip_send_text (f->a, &f->bound, cancel);
  terminated = a_response_to (f, "INVITE", c.cseq);
  g_assert_cmpuint (sp_sip_message_get_status (terminated), ==, 487);
  {
    g_autofree char *to_tag = g_strdup_printf (
        "<%s>;tag=%s", c.ruri, sp_sip_name_addr_get_tag (sp_sip_message_get_to (terminated)));
    g_autofree char *ack =
        request_text (f->a, "ACK", c.ruri, c.branch, c.from, to_tag, c.call_id, c.cseq, NULL, NULL);
    raw_sip_send_text (f->a, &f->bound, ack);
  }

  /* B answers before it reads the CANCEL: 200 to the CANCEL (nothing
   * left to cancel) comes after its 200 to the INVITE. */
  b_cancel = raw_sip_expect (f->b, "CANCEL", 0);
  b_send_response (f, c.b_invite, 200, SDP_B);
  {
    g_autoptr (SpSipMessage) r = sp_sip_message_new_response_to (b_cancel, 200, NULL, "btag");
    raw_sip_send (f->b, &f->bound, r);
  }
  /* The 2xx is ACKed (its own transaction: a new branch), then B's
   * dialog is ended. */
  b_ack = raw_sip_expect (f->b, "ACK", 0);
  g_assert_cmpstr (sp_sip_message_get_call_id (b_ack), ==, sp_sip_message_get_call_id (c.b_invite));
  g_assert_cmpstr (sp_sip_name_addr_get_tag (sp_sip_message_get_to (b_ack)), ==, "btag");
  b_bye_msg = expect_b_bye (f, &c);
  b_send_response (f, b_bye_msg, 200, NULL);
  wait_no_calls (f);
  /* A heard its 487 and nothing else: no 200 for an INVITE it cancelled. */
  for (gint64 end = g_get_monotonic_time () + G_USEC_PER_SEC; g_get_monotonic_time () < end;)
    {
      g_autoptr (SpSipMessage) stray = raw_sip_recv (f->a, 300);
      const char *method = NULL;

      if (stray == NULL)
        break;
      if (sp_sip_message_is_request (stray))
        continue;
      sp_sip_message_get_cseq (stray, &method);
      g_assert_false (sp_sip_message_get_status (stray) / 100 == 2 &&
                      g_strcmp0 (method, "INVITE") == 0);
    }
  call_clear (&c);
}

/* data: the status the far leg answers our BYE with. */
static void
test_bye_challenged_by_callee (Fixture *f, gconstpointer data)
{
  guint status = GPOINTER_TO_UINT (data);
  const char *header = status == 407 ? "Proxy-Authenticate" : "WWW-Authenticate";
  Call c = { 0 };
  g_autoptr (SpSipMessage) ok = NULL;
  g_autoptr (SpSipMessage) bye = NULL;
  g_autoptr (SpSipMessage) challenge = NULL;
  guint32 cseq;

  establish (f, &c, NULL);
  cseq = a_bye (f, &c, NULL);
  ok = a_response_to (f, "BYE", cseq);
  g_assert_cmpuint (sp_sip_message_get_status (ok), ==, 200);
  bye = expect_b_bye (f, &c);
  challenge = raw_sip_response (f->b, bye, status, NULL, "bob");
  g_assert_true (sp_sip_message_add_header (
      challenge, header, "Digest realm=\"far\", nonce=\"n1\", algorithm=MD5, qop=\"auth\"", NULL));
  raw_sip_send (f->b, &f->bound, challenge);
  /* No credentials for B's leg: no second BYE, with or without them. */
  assert_no_new_request (f->b, "BYE", sp_sip_message_get_cseq (bye, NULL), 1500);
  wait_no_calls (f);
  call_clear (&c);
}

/* The other way round: B hangs up, A (the trunk) challenges the BYE. */
static void
test_bye_challenged_by_caller (Fixture *f, gconstpointer data)
{
  Call c = { 0 };
  g_autoptr (SpSipMessage) ok = NULL;
  g_autoptr (SpSipMessage) bye = NULL;
  g_autoptr (SpSipMessage) challenge = NULL;

  establish (f, &c, NULL);
  b_bye (f, &c);
  ok = raw_sip_expect (f->b, NULL, 200);
  bye = expect_a_bye (f, &c);
  challenge = sp_sip_message_new_response_to (bye, 407, NULL, NULL);
  g_assert_true (sp_sip_message_add_header (
      challenge, "Proxy-Authenticate",
      "Digest realm=\"trunk\", nonce=\"n1\", algorithm=MD5, qop=\"auth\"", NULL));
  raw_sip_send (f->a, &f->bound, challenge);
  assert_no_new_request (f->a, "BYE", sp_sip_message_get_cseq (bye, NULL), 1500);
  wait_no_calls (f);
  call_clear (&c);
}

/* The caller is a user (no trusted peers): its BYE is challenged like
 * its INVITE, and only its own credentials end the call. */
static void
test_bye_of_user_challenged (Fixture *f, gconstpointer data)
{
  Call c = { 0 };
  g_autoptr (SpSipMessage) challenge = NULL;
  g_autoptr (SpSipMessage) bye_401 = NULL;
  g_autoptr (SpSipMessage) bye_403 = NULL;
  g_autoptr (SpSipMessage) bye_ok = NULL;
  g_autoptr (SpSipMessage) b_bye_msg = NULL;
  g_autoptr (SpDigestChallenge) ch = NULL;
  g_autoptr (SpDigestChallenge) bye_ch = NULL;
  g_autofree char *auth = NULL;
  g_autofree char *wrong = NULL;
  g_autofree char *right = NULL;
  g_autofree char *ack = NULL;
  guint32 cseq;

  g_assert_true (sp_server_set_trusted_peers (f->server, "", NULL));
  c.from = g_strdup ("<sip:alice@127.0.0.1>;tag=atag");
  a_invite (f, &c, NULL);
  challenge = raw_sip_expect (f->a, NULL, 401);
  ack = request_text (f->a, "ACK", c.ruri, c.branch, c.from, c.to, c.call_id, c.cseq, NULL, NULL);
  raw_sip_send_text (f->a, &f->bound, ack);
  ch = raw_sip_challenge (challenge);
  auth = raw_sip_authorization (ch, "alice", "pa", "INVITE", c.ruri, 1);
  establish (f, &c, auth);

  /* Without credentials: challenged, the call stays. */
  cseq = a_bye (f, &c, NULL);
  bye_401 = a_response_to (f, "BYE", cseq);
  g_assert_cmpuint (sp_sip_message_get_status (bye_401), ==, 401);
  g_assert_cmpuint (sp_server_get_n_calls (f->server), ==, 1);
  bye_ch = raw_sip_challenge (bye_401);
  /* bob's (valid) credentials do not end alice's call. */
  wrong = raw_sip_authorization (bye_ch, "bob", "pw", "BYE", c.remote, 1);
  cseq = a_bye (f, &c, wrong);
  bye_403 = a_response_to (f, "BYE", cseq);
  g_assert_cmpuint (sp_sip_message_get_status (bye_403), ==, 403);
  g_assert_cmpuint (sp_server_get_n_calls (f->server), ==, 1);
  assert_no_new_request (f->b, "BYE", 0, 200);
  /* alice's own: 200, and B's leg gets its BYE. */
  right = raw_sip_authorization (bye_ch, "alice", "pa", "BYE", c.remote, 2);
  cseq = a_bye (f, &c, right);
  bye_ok = a_response_to (f, "BYE", cseq);
  g_assert_cmpuint (sp_sip_message_get_status (bye_ok), ==, 200);
  b_bye_msg = expect_b_bye (f, &c);
  b_send_response (f, b_bye_msg, 200, NULL);
  wait_no_calls (f);
  call_clear (&c);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(name, func, data)                                                                      \
  g_test_add ("/b2bua/dialogs/" name, Fixture, data, fixture_setup, func, fixture_teardown)
  ADD ("bye-from-caller", test_bye_from_caller, NULL);
  ADD ("bye-from-callee", test_bye_from_callee, NULL);
  ADD ("cancel-ringing", test_cancel_ringing, NULL);
  ADD ("cancel-crossing-200", test_cancel_crossing_200, NULL);
  ADD ("bye-challenged-by-callee-401", test_bye_challenged_by_callee, GUINT_TO_POINTER (401));
  ADD ("bye-challenged-by-callee-407", test_bye_challenged_by_callee, GUINT_TO_POINTER (407));
  ADD ("bye-challenged-by-caller-407", test_bye_challenged_by_caller, NULL);
  ADD ("bye-of-user-challenged", test_bye_of_user_challenged, NULL);
#undef ADD
  return g_test_run ();
}
