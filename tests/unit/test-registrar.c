/* The server's REGISTER handling (SpRegistrar) on a SIP stack on
 * loopback, driven by a raw UDP client, with "now" given by the test so
 * expiry needs no sleeping: 401 first, 200 listing every binding with
 * its remaining expiry, several contacts, the Expires header against the
 * contact's expires parameter, 423 with Min-Expires, removal with
 * Expires: 0 and "*", Call-ID/CSeq ordering, only one's own AOR, wrong
 * passwords refused and counted until the guard blocks the address
 * (and, through SpServer, its requests then go unanswered), stale
 * nonces challenged again with stale=true. */
#include <string.h>

#include "server/accesspolicy.h"
#include "server/authenticator.h"
#include "server/authguard.h"
#include "server/location.h"
#include "server/registrar.h"
#include "server/server.h"
#include "server/userdb.h"
#include "sip/digest.h"
#include "sip/stack.h"

#include "../common/raw-sip.h"

#define REALM        "lan"
#define WAIT_MS      3000
#define MAX_FAILURES 3

typedef struct
{
  SpSipStack *stack;
  SpSipPeer bound;
  SpUserDb *users;
  SpAuthGuard *guard;
  SpAuthenticator *auth;
  SpAccessPolicy *policy;
  SpLocationStore *locations;
  SpRegistrar *registrar;
  RawSip *client; /* u1's phone */
  gint64 now;
  guint branch;
  /* The challenge the client answers, and its next nonce count. */
  SpDigestChallenge *challenge;
  guint32 nc;
} Fixture;

static gboolean
on_request (SpSipStack *stack, SpSipServerTransaction *st, SpSipMessage *request,
            SpSipDialog *dialog, gpointer user_data)
{
  Fixture *f = user_data;
  g_auto (SpAccess) access = { 0 };

  if (sp_sip_message_get_method_id (request) != SP_SIP_METHOD_REGISTER)
    return FALSE;
  if (sp_access_policy_admit (f->policy, st, request, f->now, &access) == SP_ACCESS_USER)
    sp_registrar_handle (f->registrar, st, request, &access, f->now);
  return TRUE;
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->stack = raw_sip_stack_new (50, &f->bound);
  f->users = sp_user_db_new (REALM);
  g_assert_true (sp_user_db_add (f->users, "u1", "1", "secret1", &error));
  g_assert_true (sp_user_db_add (f->users, "u2", "2", "secret2", &error));
  g_assert_no_error (error);
  f->guard = sp_auth_guard_new (MAX_FAILURES, 60, 300, 100);
  f->auth = sp_authenticator_new (f->users, f->guard);
  f->policy = sp_access_policy_new (f->stack, f->users, f->auth);
  sp_access_policy_set_lockout (f->policy, MAX_FAILURES, 60, 300);
  f->locations = sp_location_store_new ();
  sp_location_store_set_expires (f->locations, 60, 3600, 3600);
  f->registrar = sp_registrar_new (f->stack, f->locations);
  g_signal_connect (f->stack, "request", G_CALLBACK (on_request), f);
  f->now = g_get_real_time () / G_USEC_PER_SEC;
  f->nc = 1;
  f->client = raw_sip_new ("127.0.0.1");
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->challenge, sp_digest_challenge_free);
  g_signal_handlers_disconnect_by_data (f->stack, f);
  sp_registrar_free (f->registrar);
  g_object_unref (f->locations);
  sp_access_policy_free (f->policy);
  sp_authenticator_free (f->auth);
  sp_auth_guard_free (f->guard);
  g_object_unref (f->users);
  g_object_unref (f->stack);
  raw_sip_free (f->client);
  for (guint i = 0; i < 50 && g_main_context_iteration (NULL, FALSE); i++)
    ;
}

static char *
request_uri (Fixture *f)
{
  return g_strdup_printf ("sip:127.0.0.1:%u", f->bound.port);
}

typedef struct
{
  const char *to_user; /* NULL: "u1" */
  const char *call_id; /* NULL: "reg-1" */
  guint32 cseq;
  const char *contacts; /* whole Contact lines, or NULL for none */
  const char *extra;    /* other header lines, or NULL */
  const char *user;     /* credentials, or NULL for none */
  const char *password;
} Reg;

/* Sends @reg and returns the final response. With credentials, they
 * answer the fixture's challenge (taken from a first 401 if there is
 * none yet) with the next nonce count. */
static SpSipMessage *
send_register (Fixture *f, const Reg *reg)
{
  g_autofree char *ruri = request_uri (f);
  g_autofree char *auth_line = NULL;
  g_autofree char *text = NULL;
  const char *to = reg->to_user ? reg->to_user : "u1";
  guint branch = f->branch++;
  SpSipMessage *response;

  if (reg->user != NULL)
    {
      if (f->challenge == NULL)
        {
          Reg bare = { .cseq = 1, .call_id = "challenge-me" };
          g_autoptr (SpSipMessage) r401 = send_register (f, &bare);
          g_assert_cmpuint (sp_sip_message_get_status (r401), ==, 401);
          f->challenge = raw_sip_challenge (r401);
        }
      auth_line =
          raw_sip_authorization (f->challenge, reg->user, reg->password, "REGISTER", ruri, f->nc++);
    }
  text = g_strdup_printf ("REGISTER %s SIP/2.0\r\n"
                          "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKreg%u\r\n"
                          "Max-Forwards: 70\r\n"
                          "From: <sip:%s@127.0.0.1>;tag=ft%u\r\n"
                          "To: <sip:%s@127.0.0.1>\r\n"
                          "Call-ID: %s\r\n"
                          "CSeq: %u REGISTER\r\n"
                          "%s%s%s"
                          "Content-Length: 0\r\n\r\n",
                          ruri, f->client->peer.port, branch, to, branch, to,
                          reg->call_id ? reg->call_id : "reg-1", reg->cseq,
                          reg->contacts ? reg->contacts : "", reg->extra ? reg->extra : "",
                          auth_line ? auth_line : "");
  raw_sip_send_text (f->client, &f->bound, text);
  response = raw_sip_recv_final (f->client, WAIT_MS);
  g_assert_nonnull (response);
  g_assert_false (sp_sip_message_is_request (response));
  return response;
}

/* The Contact of @response whose URI is @uri: its expires parameter, or
 * -2 when @uri is not listed. */
static gint64
listed_expires (SpSipMessage *response, const char *uri)
{
  const GPtrArray *contacts = sp_sip_message_get_contacts (response);

  for (guint i = 0; i < contacts->len; i++)
    {
      const SpSipNameAddr *c = g_ptr_array_index (contacts, i);
      g_autofree char *text = sp_sip_uri_to_string (c->uri);

      if (g_strcmp0 (text, uri) == 0)
        return sp_sip_name_addr_get_expires (c);
    }
  return -2;
}

static guint
n_listed (SpSipMessage *response)
{
  return sp_sip_message_get_contacts (response)->len;
}

#define C1 "sip:u1@127.0.0.183:5060"
#define C2 "sip:u1@127.0.0.184:5062;transport=udp"

/* ---- tests ---- */

static void
test_challenge_first (Fixture *f, gconstpointer data)
{
  Reg reg = { .cseq = 1, .contacts = "Contact: <" C1 ">\r\n" };
  g_autoptr (SpSipMessage) r = send_register (f, &reg);
  const SpRegistrarStats *stats = sp_registrar_get_stats (f->registrar);
  guint n_challenges = 0;
  g_autoptr (SpDigestChallenge) ch = NULL;

  g_assert_cmpuint (sp_sip_message_get_status (r), ==, 401);
  for (guint i = 0; i < sp_sip_message_get_n_headers (r); i++)
    {
      const char *name, *value;
      sp_sip_message_get_nth_header (r, i, &name, &value);
      n_challenges += g_ascii_strcasecmp (name, "WWW-Authenticate") == 0;
    }
  g_assert_cmpuint (n_challenges, ==, 2);
  ch = sp_digest_challenge_parse (sp_sip_message_get_header (r, "WWW-Authenticate"), -1, NULL);
  g_assert_nonnull (ch);
  g_assert_cmpstr (ch->realm, ==, REALM);
  g_assert_false (ch->stale);
  g_assert_cmpuint (n_listed (r), ==, 0);
  g_assert_cmpuint (sp_location_store_get_n_bindings (f->locations), ==, 0);
  {
    SpAccessStats a;
    sp_access_policy_get_stats (f->policy, &a);
    g_assert_cmpuint (a.challenged, ==, 1);
  }
  g_assert_cmpuint (stats->registers, ==, 0); /* the policy answered it */
  g_assert_cmpuint (stats->accepted, ==, 0);
}

static void
test_register_ok (Fixture *f, gconstpointer data)
{
  Reg reg = { .cseq = 2,
              .contacts = "Contact: <" C1 ">\r\n",
              .extra = "Expires: 300\r\n",
              .user = "u1",
              .password = "secret1" };
  g_autoptr (SpSipMessage) r = send_register (f, &reg);
  g_autoptr (GPtrArray) bindings = NULL;
  const SpBinding *b;
  g_autofree char *source = g_strdup_printf ("127.0.0.1:%u", f->client->peer.port);

  g_assert_cmpuint (sp_sip_message_get_status (r), ==, 200);
  g_assert_cmpuint (n_listed (r), ==, 1);
  g_assert_cmpint (listed_expires (r, C1), ==, 300);
  bindings = sp_location_store_lookup (f->locations, "u1", f->now);
  g_assert_cmpuint (bindings->len, ==, 1);
  b = g_ptr_array_index (bindings, 0);
  g_assert_cmpstr (b->contact, ==, C1);
  g_assert_cmpint (b->expires, ==, f->now + 300);
  g_assert_cmpstr (b->call_id, ==, "reg-1");
  g_assert_cmpuint (b->cseq, ==, 2);
  g_assert_cmpstr (b->source, ==, source);
  g_assert_cmpuint (sp_registrar_get_stats (f->registrar)->accepted, ==, 1);

  /* No Expires at all: the store's default (3600). */
  {
    Reg again = {
      .cseq = 3, .contacts = "Contact: <" C1 ">\r\n", .user = "u1", .password = "secret1"
    };
    g_autoptr (SpSipMessage) r2 = send_register (f, &again);
    g_assert_cmpuint (sp_sip_message_get_status (r2), ==, 200);
    g_assert_cmpint (listed_expires (r2, C1), ==, 3600);
  }
  /* Above the maximum: capped. */
  {
    Reg big = { .cseq = 4,
                .contacts = "Contact: <" C1 ">\r\n",
                .extra = "Expires: 99999\r\n",
                .user = "u1",
                .password = "secret1" };
    g_autoptr (SpSipMessage) r3 = send_register (f, &big);
    g_assert_cmpuint (sp_sip_message_get_status (r3), ==, 200);
    g_assert_cmpint (listed_expires (r3, C1), ==, 3600);
  }
}

static void
test_several_contacts (Fixture *f, gconstpointer data)
{
  Reg reg = { .cseq = 2,
              .contacts = "Contact: <" C1 ">;expires=120\r\nContact: <" C2 ">\r\n",
              .extra = "Expires: 600\r\n",
              .user = "u1",
              .password = "secret1" };
  g_autoptr (SpSipMessage) r = send_register (f, &reg);
  g_autoptr (SpSipMessage) query = NULL;
  g_autoptr (SpSipMessage) later = NULL;

  /* The contact's parameter wins over the header for its contact. */
  g_assert_cmpuint (sp_sip_message_get_status (r), ==, 200);
  g_assert_cmpuint (n_listed (r), ==, 2);
  g_assert_cmpint (listed_expires (r, C1), ==, 120);
  g_assert_cmpint (listed_expires (r, C2), ==, 600);

  /* A query (no Contact) 20 s later lists both with what remains. */
  f->now += 20;
  {
    Reg q = { .cseq = 3, .user = "u1", .password = "secret1" };
    query = send_register (f, &q);
  }
  g_assert_cmpuint (sp_sip_message_get_status (query), ==, 200);
  g_assert_cmpuint (n_listed (query), ==, 2);
  g_assert_cmpint (listed_expires (query, C1), ==, 100);
  g_assert_cmpint (listed_expires (query, C2), ==, 580);

  /* Past C1's expiry only C2 is left. */
  f->now += 101;
  {
    Reg q = { .cseq = 4, .user = "u1", .password = "secret1" };
    later = send_register (f, &q);
  }
  g_assert_cmpuint (sp_sip_message_get_status (later), ==, 200);
  g_assert_cmpuint (n_listed (later), ==, 1);
  g_assert_cmpint (listed_expires (later, C1), ==, -2);
  g_assert_cmpint (listed_expires (later, C2), ==, 479);
}

static void
test_interval_too_brief (Fixture *f, gconstpointer data)
{
  const char *forms[][2] = {
    { "Contact: <" C1 ">\r\n", "Expires: 30\r\n" },
    { "Contact: <" C1 ">;expires=59\r\n", "Expires: 600\r\n" },
    /* All or nothing: one brief contact refuses both. */
    { "Contact: <" C2 ">\r\nContact: <" C1 ">;expires=1\r\n", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (forms); i++)
    {
      Reg reg = { .cseq = 2 + i,
                  .contacts = forms[i][0],
                  .extra = forms[i][1],
                  .user = "u1",
                  .password = "secret1" };
      g_autoptr (SpSipMessage) r = send_register (f, &reg);

      g_assert_cmpuint (sp_sip_message_get_status (r), ==, 423);
      g_assert_cmpstr (sp_sip_message_get_header (r, "Min-Expires"), ==, "60");
      g_assert_cmpuint (sp_location_store_get_n_bindings (f->locations), ==, 0);
    }
  /* Exactly the minimum is fine. */
  {
    Reg reg = { .cseq = 10,
                .contacts = "Contact: <" C1 ">\r\n",
                .extra = "Expires: 60\r\n",
                .user = "u1",
                .password = "secret1" };
    g_autoptr (SpSipMessage) r = send_register (f, &reg);
    g_assert_cmpuint (sp_sip_message_get_status (r), ==, 200);
    g_assert_cmpint (listed_expires (r, C1), ==, 60);
  }
}

static void
test_remove (Fixture *f, gconstpointer data)
{
  Reg reg = { .cseq = 2,
              .contacts = "Contact: <" C1 ">\r\nContact: <" C2 ">\r\n",
              .extra = "Expires: 600\r\n",
              .user = "u1",
              .password = "secret1" };
  g_autoptr (SpSipMessage) r = send_register (f, &reg);
  g_autoptr (SpSipMessage) one = NULL;
  g_autoptr (SpSipMessage) bad_star = NULL;
  g_autoptr (SpSipMessage) star = NULL;

  g_assert_cmpuint (sp_sip_message_get_status (r), ==, 200);
  g_assert_cmpuint (sp_location_store_get_n_bindings (f->locations), ==, 2);

  /* expires=0 on one contact removes that one (not "too brief"). */
  {
    Reg rm = {
      .cseq = 3, .contacts = "Contact: <" C1 ">;expires=0\r\n", .user = "u1", .password = "secret1"
    };
    one = send_register (f, &rm);
  }
  g_assert_cmpuint (sp_sip_message_get_status (one), ==, 200);
  g_assert_cmpuint (n_listed (one), ==, 1);
  g_assert_cmpint (listed_expires (one, C2), ==, 600);
  g_assert_cmpuint (sp_location_store_get_n_bindings (f->locations), ==, 1);

  /* "*" needs Expires: 0. */
  {
    Reg rm = { .cseq = 4, .contacts = "Contact: *\r\n", .user = "u1", .password = "secret1" };
    bad_star = send_register (f, &rm);
  }
  g_assert_cmpuint (sp_sip_message_get_status (bad_star), ==, 400);
  g_assert_cmpuint (sp_location_store_get_n_bindings (f->locations), ==, 1);
  {
    Reg rm = { .cseq = 5,
               .contacts = "Contact: *\r\n",
               .extra = "Expires: 0\r\n",
               .user = "u1",
               .password = "secret1" };
    star = send_register (f, &rm);
  }
  g_assert_cmpuint (sp_sip_message_get_status (star), ==, 200);
  g_assert_cmpuint (n_listed (star), ==, 0);
  g_assert_cmpuint (sp_location_store_get_n_bindings (f->locations), ==, 0);

  /* Expires: 0 header for a plain contact list removes as well. */
  {
    Reg add = {
      .cseq = 6, .contacts = "Contact: <" C1 ">\r\n", .user = "u1", .password = "secret1"
    };
    Reg rm = { .cseq = 7,
               .contacts = "Contact: <" C1 ">\r\n",
               .extra = "Expires: 0\r\n",
               .user = "u1",
               .password = "secret1" };
    g_autoptr (SpSipMessage) r1 = send_register (f, &add);
    g_autoptr (SpSipMessage) r2 = NULL;

    g_assert_cmpuint (sp_sip_message_get_status (r1), ==, 200);
    g_assert_cmpuint (sp_location_store_get_n_bindings (f->locations), ==, 1);
    r2 = send_register (f, &rm);
    g_assert_cmpuint (sp_sip_message_get_status (r2), ==, 200);
    g_assert_cmpuint (n_listed (r2), ==, 0);
    g_assert_cmpuint (sp_location_store_get_n_bindings (f->locations), ==, 0);
  }
}

/* RFC 3261 10.3 step 7: within one Call-ID the CSeq must grow. */
static void
test_cseq_order (Fixture *f, gconstpointer data)
{
  Reg reg = { .cseq = 10,
              .contacts = "Contact: <" C1 ">\r\n",
              .extra = "Expires: 600\r\n",
              .user = "u1",
              .password = "secret1" };
  g_autoptr (SpSipMessage) r = send_register (f, &reg);
  g_autoptr (GPtrArray) bindings = NULL;

  g_assert_cmpuint (sp_sip_message_get_status (r), ==, 200);
  for (guint32 cseq = 9; cseq <= 10; cseq++)
    {
      Reg old = { .cseq = cseq,
                  .contacts = "Contact: <" C1 ">\r\n",
                  .extra = "Expires: 120\r\n",
                  .user = "u1",
                  .password = "secret1" };
      g_autoptr (SpSipMessage) stale = send_register (f, &old);

      g_assert_cmpuint (sp_sip_message_get_status (stale), ==, 500);
    }
  bindings = sp_location_store_lookup (f->locations, "u1", f->now);
  g_assert_cmpuint (bindings->len, ==, 1);
  g_assert_cmpint (((SpBinding *) g_ptr_array_index (bindings, 0))->expires, ==, f->now + 600);
  g_clear_pointer (&bindings, g_ptr_array_unref);
  /* A higher CSeq, or another Call-ID (a rebooted phone), updates it. */
  {
    Reg next = { .cseq = 11,
                 .contacts = "Contact: <" C1 ">\r\n",
                 .extra = "Expires: 120\r\n",
                 .user = "u1",
                 .password = "secret1" };
    Reg reboot = { .cseq = 1,
                   .call_id = "reg-2",
                   .contacts = "Contact: <" C1 ">\r\n",
                   .extra = "Expires: 240\r\n",
                   .user = "u1",
                   .password = "secret1" };
    g_autoptr (SpSipMessage) r1 = send_register (f, &next);
    g_autoptr (SpSipMessage) r2 = NULL;

    g_assert_cmpuint (sp_sip_message_get_status (r1), ==, 200);
    g_assert_cmpint (listed_expires (r1, C1), ==, 120);
    r2 = send_register (f, &reboot);
    g_assert_cmpuint (sp_sip_message_get_status (r2), ==, 200);
    g_assert_cmpint (listed_expires (r2, C1), ==, 240);
  }
  bindings = sp_location_store_lookup (f->locations, "u1", f->now);
  g_assert_cmpuint (bindings->len, ==, 1);
  g_assert_cmpstr (((SpBinding *) g_ptr_array_index (bindings, 0))->call_id, ==, "reg-2");
}

/* u1's credentials for u2's AOR. */
static void
test_not_own_aor (Fixture *f, gconstpointer data)
{
  Reg reg = { .to_user = "u2",
              .cseq = 2,
              .contacts = "Contact: <sip:u2@127.0.0.183>\r\n",
              .user = "u1",
              .password = "secret1" };
  g_autoptr (SpSipMessage) r = send_register (f, &reg);

  g_assert_cmpuint (sp_sip_message_get_status (r), ==, 403);
  g_assert_cmpstr (sp_sip_message_get_reason (r), ==, "Not your address of record");
  g_assert_cmpuint (sp_location_store_get_n_bindings (f->locations), ==, 0);
  g_assert_cmpuint (sp_registrar_get_stats (f->registrar)->refused, ==, 1);
}

static gboolean
is_locked (Fixture *f, const char *what, gint64 now)
{
  g_autoptr (GPtrArray) locked = sp_access_policy_list_locked (f->policy, now);

  for (guint i = 0; i < locked->len; i++)
    if (g_str_equal (locked->pdata[i], what))
      return TRUE;
  return FALSE;
}

static void
test_wrong_password_blocks (Fixture *f, gconstpointer data)
{
  for (guint i = 1; i <= MAX_FAILURES; i++)
    {
      Reg reg = {
        .cseq = 1 + i, .contacts = "Contact: <" C1 ">\r\n", .user = "u1", .password = "guess"
      };
      g_autoptr (SpSipMessage) r = send_register (f, &reg);

      SpAccessStats a;

      g_assert_cmpuint (sp_sip_message_get_status (r), ==, 403);
      sp_access_policy_get_stats (f->policy, &a);
      g_assert_cmpuint (a.refused, ==, i);
      g_assert_cmpint (is_locked (f, "127.0.0.1", f->now), ==, i == MAX_FAILURES);
      g_assert_cmpint (is_locked (f, "user u1", f->now), ==, i == MAX_FAILURES);
    }
  g_assert_cmpuint (sp_authenticator_get_n_failures (f->auth), ==, MAX_FAILURES);
  g_assert_cmpuint (sp_location_store_get_n_bindings (f->locations), ==, 0);
  /* Blocked for 300 s, then free again. */
  g_assert_true (is_locked (f, "127.0.0.1", f->now + 299));
  g_assert_false (is_locked (f, "127.0.0.1", f->now + 301));
}

static void
test_stale_nonce (Fixture *f, gconstpointer data)
{
  Reg reg = { .cseq = 2, .contacts = "Contact: <" C1 ">\r\n", .user = "u1", .password = "secret1" };
  g_autoptr (SpSipMessage) ok = send_register (f, &reg);
  g_autoptr (SpSipMessage) stale = NULL;
  g_autoptr (SpDigestChallenge) ch = NULL;

  g_assert_cmpuint (sp_sip_message_get_status (ok), ==, 200);
  f->now += SP_AUTHENTICATOR_NONCE_LIFETIME + 1;
  reg.cseq = 3;
  stale = send_register (f, &reg);
  g_assert_cmpuint (sp_sip_message_get_status (stale), ==, 401);
  ch = sp_digest_challenge_parse (sp_sip_message_get_header (stale, "WWW-Authenticate"), -1, NULL);
  g_assert_nonnull (ch);
  g_assert_true (ch->stale);
  g_assert_cmpstr (ch->nonce, !=, f->challenge->nonce);
  g_assert_cmpuint (sp_authenticator_get_n_failures (f->auth), ==, 0);
  /* The client retries on the new nonce. */
  g_clear_pointer (&f->challenge, sp_digest_challenge_free);
  f->challenge = g_steal_pointer (&ch);
  f->nc = 1;
  reg.cseq = 4;
  {
    g_autoptr (SpSipMessage) again = send_register (f, &reg);
    g_assert_cmpuint (sp_sip_message_get_status (again), ==, 200);
  }
}

/* Through SpServer: once the guard blocked the address, even a REGISTER
 * with the right password goes unanswered. */
static void
test_server_blocks (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSipStack) stack = NULL;
  g_autoptr (SpServer) server = NULL;
  Fixture f = { 0 };
  SpServerStats stats;

  stack = raw_sip_stack_new (50, &f.bound);
  server = sp_server_new (NULL, NULL, REALM);
  g_assert_true (sp_user_db_add (sp_server_get_users (server), "u1", "1", "secret1", &error));
  sp_server_set_auth_guard (server, MAX_FAILURES, 60, 300);
  sp_server_set_relay_ports (server, 47000, 47999);
  g_assert_true (sp_server_start (server, stack, "127.0.0.1", TRUE, &error));
  g_assert_no_error (error);
  f.client = raw_sip_new ("127.0.0.1");
  f.nc = 1;

  for (guint i = 1; i <= MAX_FAILURES; i++)
    {
      Reg reg = {
        .cseq = 1 + i, .contacts = "Contact: <" C1 ">\r\n", .user = "u1", .password = "guess"
      };
      g_autoptr (SpSipMessage) r = send_register (&f, &reg);
      g_assert_cmpuint (sp_sip_message_get_status (r), ==, 403);
    }
  {
    g_autofree char *ruri = request_uri (&f);
    g_autofree char *auth =
        raw_sip_authorization (f.challenge, "u1", "secret1", "REGISTER", ruri, f.nc++);
    g_autofree char *text = g_strdup_printf (
        "REGISTER %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKblocked\r\n"
        "Max-Forwards: 70\r\nFrom: <sip:u1@127.0.0.1>;tag=b\r\nTo: <sip:u1@127.0.0.1>\r\n"
        "Call-ID: reg-1\r\nCSeq: 20 REGISTER\r\nContact: <" C1 ">\r\n"
        "%sContent-Length: 0\r\n\r\n",
        ruri, f.client->peer.port, auth);
    g_autoptr (SpSipMessage) none = NULL;

    raw_sip_send_text (f.client, &f.bound, text);
    none = raw_sip_recv_final (f.client, 500);
    g_assert_null (none);
  }
  sp_server_get_stats (server, &stats);
  g_assert_cmpuint (stats.auth_failed, ==, MAX_FAILURES);
  g_assert_cmpuint (stats.ignored, ==, 1);
  g_assert_cmpuint (sp_location_store_get_n_bindings (sp_server_get_locations (server)), ==, 0);
  sp_server_stop (server);
  g_clear_pointer (&f.challenge, sp_digest_challenge_free);
  raw_sip_free (f.client);
}

static void
count_unregistered (SpServer *server, const char *aor, const char *contact, gboolean expired,
                    gpointer user_data)
{
  GPtrArray *seen = user_data;

  g_assert_false (expired);
  g_ptr_array_add (seen, g_strdup (aor));
}

/* Deleting a user from the user db (what the window's Remove does, the
 * web console's DELETE and an import that leaves it out) removes its
 * registrations in the server core, and only its own: it is no longer
 * reachable, and "unregistered" tells the front ends. */
static void
test_server_user_deleted (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSipStack) stack = NULL;
  g_autoptr (SpServer) server = NULL;
  g_autoptr (GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);
  SpLocationStore *locations;
  SpUserDb *users;
  Fixture f = { 0 };

  stack = raw_sip_stack_new (50, &f.bound);
  server = sp_server_new (NULL, NULL, REALM);
  users = sp_server_get_users (server);
  g_assert_true (sp_user_db_add (users, "u1", "1", "secret1", &error));
  g_assert_true (sp_user_db_add (users, "u2", "2", "secret2", &error));
  g_assert_true (sp_server_start (server, stack, "127.0.0.1", TRUE, &error));
  g_assert_no_error (error);
  locations = sp_server_get_locations (server);
  f.client = raw_sip_new ("127.0.0.1");
  f.nc = 1;
  {
    Reg r1 = {
      .cseq = 2, .contacts = "Contact: <" C1 ">\r\n", .user = "u1", .password = "secret1"
    };
    Reg r2 = { .cseq = 3,
               .call_id = "reg-2",
               .to_user = "u2",
               .contacts = "Contact: <sip:u2@127.0.0.185:5060>\r\n",
               .user = "u2",
               .password = "secret2" };
    g_autoptr (SpSipMessage) a = send_register (&f, &r1);
    g_autoptr (SpSipMessage) b = send_register (&f, &r2);
    g_assert_cmpuint (sp_sip_message_get_status (a), ==, 200);
    g_assert_cmpuint (sp_sip_message_get_status (b), ==, 200);
  }
  g_assert_cmpuint (sp_location_store_get_n_bindings (locations), ==, 2);
  g_signal_connect (server, "unregistered", G_CALLBACK (count_unregistered), seen);

  g_assert_true (sp_user_db_remove (users, "u1", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sp_location_store_get_n_bindings (locations), ==, 1);
  {
    g_autoptr (GPtrArray) left = sp_location_store_lookup (locations, "u2", G_MININT64 + 1);
    g_assert_cmpuint (left->len, ==, 1);
  }
  g_assert_cmpuint (seen->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (seen, 0), ==, "u1");
  /* Another change (a new user) drops nothing more. */
  g_assert_true (sp_user_db_add (users, "u3", "3", "secret3", &error));
  g_assert_cmpuint (sp_location_store_get_n_bindings (locations), ==, 1);

  g_signal_handlers_disconnect_by_data (server, seen);
  sp_server_stop (server);
  g_clear_pointer (&f.challenge, sp_digest_challenge_free);
  raw_sip_free (f.client);
}

/* ---- a phone registered over TCP keeps its connection ---- */

typedef struct
{
  SpSipTransport *transport; /* the phone's */
  GPtrArray *received;       /* SpSipMessage */
  guint closed;
} TcpPhone;

static void
tcp_phone_receive (SpSipTransport *transport, SpSipMessage *msg, const SpSipPeer *source,
                   gpointer user_data)
{
  TcpPhone *p = user_data;
  g_ptr_array_add (p->received, sp_sip_message_ref (msg));
}

static void
tcp_phone_closed (SpSipTransport *transport, const SpSipPeer *remote, gpointer user_data)
{
  TcpPhone *p = user_data;
  p->closed++;
}

static void
run_ms (guint ms)
{
  gint64 until = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, FALSE) || (g_usleep (1000), TRUE);
}

static void
wait_closed (TcpPhone *p, guint want)
{
  gint64 until = g_get_monotonic_time () + WAIT_MS * 1000;

  while (p->closed < want && g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, FALSE) || (g_usleep (1000), TRUE);
  g_assert_cmpuint (p->closed, ==, want);
}

/* Sends a REGISTER for u1 over TCP (@auth: answering the fixture's
 * challenge) and returns the final response. */
static SpSipMessage *
tcp_register (Fixture *f, TcpPhone *p, const SpSipPeer *server, guint32 cseq, const char *expires,
              gboolean auth)
{
  g_autofree char *ruri = request_uri (f);
  g_autofree char *auth_line = NULL;
  g_autofree char *text = NULL;
  g_autoptr (SpSipMessage) msg = NULL;
  g_autoptr (GError) error = NULL;
  gint64 until = g_get_monotonic_time () + WAIT_MS * 1000;
  guint have = p->received->len;

  if (auth)
    auth_line = raw_sip_authorization (f->challenge, "u1", "secret1", "REGISTER", ruri, f->nc++);
  text = g_strdup_printf ("REGISTER %s SIP/2.0\r\n"
                          "Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKtcp%u\r\n"
                          "Max-Forwards: 70\r\n"
                          "From: <sip:u1@127.0.0.1>;tag=tcp\r\n"
                          "To: <sip:u1@127.0.0.1>\r\n"
                          "Call-ID: tcp-reg\r\n"
                          "CSeq: %u REGISTER\r\n"
                          "Contact: <sip:u1@127.0.0.1:9;transport=tcp>\r\n"
                          "Expires: %s\r\n"
                          "%s"
                          "Content-Length: 0\r\n\r\n",
                          ruri, cseq, cseq, expires, auth_line ? auth_line : "");
  msg = sp_sip_message_parse ((const guint8 *) text, strlen (text), SP_SIP_FRAMING_DATAGRAM, NULL,
                              &error);
  g_assert_no_error (error);
  g_assert_true (sp_sip_transport_send (p->transport, msg, server, NULL, &error));
  g_assert_no_error (error);
  while (g_get_monotonic_time () < until)
    {
      for (; have < p->received->len; have++)
        {
          SpSipMessage *r = g_ptr_array_index (p->received, have);
          if (sp_sip_message_get_status (r) >= 200)
            return sp_sip_message_ref (r);
        }
      g_main_context_iteration (NULL, FALSE) || (g_usleep (1000), TRUE);
    }
  g_assert_not_reached ();
  return NULL;
}

/* The server listens on TCP too (@tcp), closing idle connections after
 * 150 ms; @p is a phone's own TCP transport, listening on a port of its
 * own (its Contact names another). */
static void
tcp_phone_start (Fixture *f, TcpPhone *p, SpSipPeer *tcp)
{
  g_autoptr (GError) error = NULL;
  SpSipPeer phone_tcp;

  g_assert_true (sp_sip_stack_listen (f->stack, SP_SIP_TRANSPORT_TCP, "127.0.0.1", f->bound.port,
                                      tcp, &error));
  g_assert_no_error (error);
  sp_sip_transport_set_idle_timeout (sp_sip_stack_get_transport (f->stack), 150);
  p->transport = sp_sip_transport_new ();
  p->received = g_ptr_array_new_with_free_func ((GDestroyNotify) sp_sip_message_unref);
  sp_sip_transport_set_handlers (p->transport, tcp_phone_receive, NULL, p);
  g_signal_connect (p->transport, "connection-closed", G_CALLBACK (tcp_phone_closed), p);
  g_assert_true (sp_sip_transport_listen (p->transport, SP_SIP_TRANSPORT_TCP, "127.0.0.1", 0,
                                          &phone_tcp, &error));
  g_assert_no_error (error);
}

static void
tcp_phone_stop (TcpPhone *p)
{
  g_signal_handlers_disconnect_by_data (p->transport, p);
  g_object_unref (p->transport);
  g_ptr_array_unref (p->received);
}

/* The server's transport closes idle connections after 150 ms here. A
 * stranger's REGISTER (401) does not keep its connection; an
 * authenticated registration over TCP keeps it past the idle timeout
 * (the server reaches the phone on it), and unregistering releases it:
 * closed after the idle timeout. */
static void
test_tcp_flow_kept (Fixture *f, gconstpointer data)
{
  SpSipTransport *server = sp_sip_stack_get_transport (f->stack);
  TcpPhone p = { 0 };
  SpSipPeer tcp;
  gint64 start;

  tcp_phone_start (f, &p, &tcp);

  {
    g_autoptr (SpSipMessage) r401 = tcp_register (f, &p, &tcp, 1, "60", FALSE);
    g_assert_cmpuint (sp_sip_message_get_status (r401), ==, 401);
    f->challenge = raw_sip_challenge (r401);
  }
  /* Unauthenticated: nothing holds the connection. */
  wait_closed (&p, 1);
  g_assert_cmpuint (sp_sip_transport_get_n_connections (server), ==, 0);

  {
    g_autoptr (SpSipMessage) r = tcp_register (f, &p, &tcp, 2, "60", TRUE);
    g_assert_cmpuint (sp_sip_message_get_status (r), ==, 200);
  }
  run_ms (800);
  g_assert_cmpuint (p.closed, ==, 1);
  g_assert_cmpuint (sp_sip_transport_get_n_connections (server), ==, 1);
  /* A re-REGISTER refreshes it; still there. */
  {
    g_autoptr (SpSipMessage) r = tcp_register (f, &p, &tcp, 3, "60", TRUE);
    g_assert_cmpuint (sp_sip_message_get_status (r), ==, 200);
  }
  run_ms (400);
  g_assert_cmpuint (p.closed, ==, 1);

  /* Unregister: released, closed once idle. */
  {
    g_autoptr (SpSipMessage) r = tcp_register (f, &p, &tcp, 4, "0", TRUE);
    g_assert_cmpuint (sp_sip_message_get_status (r), ==, 200);
    g_assert_cmpuint (sp_location_store_get_n_bindings (f->locations), ==, 0);
  }
  start = g_get_monotonic_time ();
  wait_closed (&p, 2);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 1500 * 1000);
  g_assert_cmpuint (sp_sip_transport_get_n_connections (server), ==, 0);

  tcp_phone_stop (&p);
}

/* The user is deleted while registered over TCP (its bindings removed,
 * as SpServer does on a user db change): the hold goes at once, so the
 * connection closes once idle, not at the registration's expiry. */
static void
test_tcp_flow_released_on_removal (Fixture *f, gconstpointer data)
{
  SpSipTransport *server = sp_sip_stack_get_transport (f->stack);
  TcpPhone p = { 0 };
  SpSipPeer tcp;
  gint64 start;

  tcp_phone_start (f, &p, &tcp);
  {
    g_autoptr (SpSipMessage) r401 = tcp_register (f, &p, &tcp, 1, "3600", FALSE);
    f->challenge = raw_sip_challenge (r401);
  }
  wait_closed (&p, 1);
  {
    g_autoptr (SpSipMessage) r = tcp_register (f, &p, &tcp, 2, "3600", TRUE);
    g_assert_cmpuint (sp_sip_message_get_status (r), ==, 200);
  }
  run_ms (600);
  g_assert_cmpuint (p.closed, ==, 1);
  g_assert_cmpuint (sp_sip_transport_get_n_connections (server), ==, 1);

  g_assert_cmpuint (sp_location_store_remove_aor (f->locations, "u1"), ==, 1);
  start = g_get_monotonic_time ();
  wait_closed (&p, 2);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 1500 * 1000);
  g_assert_cmpuint (sp_sip_transport_get_n_connections (server), ==, 0);

  tcp_phone_stop (&p);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/registrar/challenge-first", test_challenge_first);
  ADD ("/registrar/register-ok", test_register_ok);
  ADD ("/registrar/several-contacts", test_several_contacts);
  ADD ("/registrar/interval-too-brief", test_interval_too_brief);
  ADD ("/registrar/remove", test_remove);
  ADD ("/registrar/cseq-order", test_cseq_order);
  ADD ("/registrar/not-own-aor", test_not_own_aor);
  ADD ("/registrar/wrong-password-blocks", test_wrong_password_blocks);
  ADD ("/registrar/stale-nonce", test_stale_nonce);
  ADD ("/registrar/tcp-flow-kept", test_tcp_flow_kept);
  ADD ("/registrar/tcp-flow-released-on-removal", test_tcp_flow_released_on_removal);
#undef ADD
  g_test_add_func ("/registrar/server-blocks", test_server_blocks);
  g_test_add_func ("/registrar/server-user-deleted", test_server_user_deleted);
  return g_test_run ();
}
