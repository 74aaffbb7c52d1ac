/* SpAccessPolicy, the one place that decides who may use the mini-server:
 * its pieces (source keys with IPv6 by /64, the trusted-peer list, which
 * routes a caller may take) and its decisions on real requests from raw
 * UDP peers on loopback: strangers challenged the same whoever they name,
 * trusted peers admitted for INVITE but never for REGISTER, the 401 sent
 * statelessly, MD5 alone for clients that choke on SHA-256, lockout per
 * user name. */
#include <string.h>

#include "server/accesspolicy.h"
#include "server/authenticator.h"
#include "server/userdb.h"
#include "sip/source-key.h"
#include "sip/random.h"
#include "sip/stack.h"

#include "../common/raw-sip.h"

#define REALM "lan"

typedef struct
{
  SpSipStack *stack;
  SpSipPeer bound;
  SpUserDb *users;
  SpAuthenticator *auth;
  SpAccessPolicy *policy;
  gint64 now;
  /* the last decision */
  SpAccessKind kind;
  char *user;
} Fixture;

static gboolean
on_request (SpSipStack *stack, SpSipServerTransaction *st, SpSipMessage *request,
            SpSipDialog *dialog, gpointer user_data)
{
  Fixture *f = user_data;
  g_auto (SpAccess) access = { 0 };

  f->kind = sp_access_policy_admit (f->policy, st, request, f->now, &access);
  g_free (f->user);
  f->user = g_strdup (access.user);
  if (f->kind != SP_ACCESS_DENIED)
    sp_sip_stack_reply (stack, st, 200, NULL);
  return TRUE;
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->stack = raw_sip_stack_new (50, &f->bound);
  f->users = sp_user_db_new (REALM);
  g_assert_true (sp_user_db_add (f->users, "u1", "1", "secret1", &error));
  g_assert_no_error (error);
  f->auth = sp_authenticator_new (f->users, NULL);
  f->policy = sp_access_policy_new (f->stack, f->users, f->auth);
  sp_access_policy_set_lockout (f->policy, 3, 60, 300);
  f->now = g_get_real_time () / G_USEC_PER_SEC;
  g_signal_connect (f->stack, "request", G_CALLBACK (on_request), f);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_signal_handlers_disconnect_by_data (f->stack, f);
  sp_access_policy_free (f->policy);
  sp_authenticator_free (f->auth);
  g_object_unref (f->users);
  g_object_unref (f->stack);
  g_free (f->user);
  for (guint i = 0; i < 50 && g_main_context_iteration (NULL, FALSE); i++)
    ;
}

/* A request from @raw; @extra ends with CRLF. */
static void
send_request (Fixture *f, RawSip *raw, const char *method, const char *from_user, const char *extra)
{
  g_autofree char *token = sp_random_token (12);
  g_autofree char *text =
      g_strdup_printf ("%s sip:u1@127.0.0.1:%u SIP/2.0\r\n"
                       "Via: SIP/2.0/UDP %s:%u;branch=z9hG4bK%s\r\n"
                       "Max-Forwards: 70\r\n"
                       "From: <sip:%s@127.0.0.1>;tag=f%s\r\n"
                       "To: <sip:u1@127.0.0.1>\r\n"
                       "Call-ID: %s\r\n"
                       "CSeq: 1 %s\r\n"
                       "%s"
                       "Content-Length: 0\r\n\r\n",
                       method, f->bound.port, raw->peer.host, raw->peer.port, token, from_user,
                       token, token, method, extra ? extra : "");

  raw_sip_send_text (raw, &f->bound, text);
}

static guint
n_headers (SpSipMessage *msg, const char *name)
{
  guint n = 0;

  for (guint i = 0; i < sp_sip_message_get_n_headers (msg); i++)
    {
      const char *hn, *value;
      sp_sip_message_get_nth_header (msg, i, &hn, &value);
      n += g_ascii_strcasecmp (hn, name) == 0;
    }
  return n;
}

/* ---- pieces ---- */

static void
test_source_key (void)
{
  struct
  {
    const char *address, *key;
  } cases[] = {
    { "192.0.2.7", "192.0.2.7" },
    { "2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64" },
    { "2001:db8:1:2::1", "2001:db8:1:2::/64" },
    { "2001:db8:1:3::1", "2001:db8:1:3::/64" },
    { "::1", "::/64" },
    { "::ffff:192.0.2.7", "192.0.2.7" },
    { "pbx.lan", "pbx.lan" },
    { "", "" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *key = sp_sip_source_key (cases[i].address);
      g_assert_cmpstr (key, ==, cases[i].key);
    }
}

static void
test_trusted_list (void)
{
  g_autoptr (SpAccessPolicy) policy = sp_access_policy_new (NULL, NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *unchanged = NULL;

  g_assert_false (sp_access_policy_is_trusted (policy, "192.0.2.1"));
  g_assert_true (sp_access_policy_set_trusted_peers (
      policy, "192.0.2.10, 198.51.100.0/24 2001:db8::/48", &error));
  g_assert_no_error (error);
  g_assert_true (sp_access_policy_is_trusted (policy, "192.0.2.10"));
  g_assert_false (sp_access_policy_is_trusted (policy, "192.0.2.11"));
  g_assert_true (sp_access_policy_is_trusted (policy, "198.51.100.200"));
  g_assert_false (sp_access_policy_is_trusted (policy, "198.51.101.1"));
  g_assert_true (sp_access_policy_is_trusted (policy, "2001:db8:0:ffff::1"));
  g_assert_false (sp_access_policy_is_trusted (policy, "2001:db8:1::1"));
  g_assert_false (sp_access_policy_is_trusted (policy, "not-an-ip"));
  g_assert_true (sp_access_policy_is_trusted (policy, "::ffff:198.51.100.7"));
  text = sp_access_policy_dup_trusted_peers (policy);
  g_assert_cmpstr (text, ==, "192.0.2.10, 198.51.100.0/24, 2001:db8::/48");

  /* All or nothing, and the error names the bad entry. */
  for (guint i = 0; i < 4; i++)
    {
      const char *bad[] = { "10.0.0.0/8,pbx.lan", "10.0.0.0/33", "10.0.0.1/8", "300.1.1.1" };
      g_autoptr (GError) e = NULL;

      g_assert_false (sp_access_policy_set_trusted_peers (policy, bad[i], &e));
      g_assert_error (e, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (e->message, i == 0 ? "pbx.lan" : bad[i]));
    }
  unchanged = sp_access_policy_dup_trusted_peers (policy);
  g_assert_cmpstr (unchanged, ==, text);
  g_assert_true (sp_access_policy_set_trusted_peers (policy, "", NULL));
  g_assert_false (sp_access_policy_is_trusted (policy, "192.0.2.10"));
}

static void
test_routes_allowed (void)
{
  g_autoptr (SpAccessPolicy) policy = sp_access_policy_new (NULL, NULL, NULL);
  SpAccess user = { SP_ACCESS_USER, (char *) "u1", NULL };
  SpAccess trusted = { SP_ACCESS_TRUSTED, NULL, NULL };
  SpAccess denied = { SP_ACCESS_DENIED, NULL, NULL };

  g_assert_true (sp_access_policy_allows_route (policy, &user, SP_ROUTE_LOCAL));
  g_assert_true (sp_access_policy_allows_route (policy, &user, SP_ROUTE_FORWARD));
  g_assert_true (sp_access_policy_allows_route (policy, &trusted, SP_ROUTE_LOCAL));
  g_assert_false (sp_access_policy_allows_route (policy, &trusted, SP_ROUTE_FORWARD));
  g_assert_false (sp_access_policy_allows_route (policy, &denied, SP_ROUTE_LOCAL));
  g_assert_false (sp_access_policy_allows_route (policy, &denied, SP_ROUTE_FORWARD));
  sp_access_policy_set_trusted_forward (policy, TRUE);
  g_assert_true (sp_access_policy_allows_route (policy, &trusted, SP_ROUTE_FORWARD));
  g_assert_false (sp_access_policy_allows_route (policy, &denied, SP_ROUTE_FORWARD));
}

static void
test_random_token (void)
{
  g_autofree char *a = sp_random_token (32);
  g_autofree char *b = sp_random_token (32);

  g_assert_cmpuint (strlen (a), ==, 32);
  g_assert_cmpstr (a, !=, b);
  for (const char *p = a; *p; p++)
    g_assert_true (g_ascii_isalnum (*p));
}

/* ---- decisions on the wire ---- */

/* The challenge without its nonce: what a stranger could compare. */
static char *
challenge_shape (SpSipMessage *r)
{
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GRegex) nonce = g_regex_new ("nonce=\"[^\"]*\"", 0, 0, NULL);

  g_string_append_printf (out, "%u %s|", sp_sip_message_get_status (r),
                          sp_sip_message_get_reason (r));
  for (guint i = 0; i < sp_sip_message_get_n_headers (r); i++)
    {
      const char *name, *value;
      g_autofree char *masked = NULL;

      sp_sip_message_get_nth_header (r, i, &name, &value);
      if (g_ascii_strcasecmp (name, "WWW-Authenticate") != 0)
        continue;
      masked = g_regex_replace_literal (nonce, value, -1, 0, "nonce=N", 0, NULL);
      g_string_append_printf (out, "%s|", masked);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
test_strangers_challenged_alike (Fixture *f, gconstpointer data)
{
  g_autoptr (RawSip) raw = raw_sip_new ("127.0.0.1");
  const char *froms[] = { "u1", "U1", "1", "nobody" };
  g_autofree char *first = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (froms); i++)
    {
      g_autoptr (SpSipMessage) r = NULL;
      g_autofree char *shape = NULL;

      send_request (f, raw, "INVITE", froms[i], NULL);
      r = raw_sip_expect (raw, NULL, 401);
      g_assert_cmpint (f->kind, ==, SP_ACCESS_DENIED);
      shape = challenge_shape (r);
      if (first == NULL)
        first = g_steal_pointer (&shape);
      else
        g_assert_cmpstr (shape, ==, first);
    }
  /* MD5 and SHA-256 by default; stateless: no transaction stays. */
  g_assert_nonnull (strstr (first, "MD5"));
  g_assert_nonnull (strstr (first, "SHA-256"));
  g_assert_cmpuint (
      sp_sip_transaction_layer_get_n_server (sp_sip_stack_get_transactions (f->stack)), ==, 0);
}

static void
test_trusted_peer (Fixture *f, gconstpointer data)
{
  g_autoptr (RawSip) trunk = raw_sip_new ("127.0.0.2");
  g_autoptr (SpSipMessage) ok = NULL;
  g_autoptr (SpSipMessage) challenged = NULL;

  g_assert_true (sp_access_policy_set_trusted_peers (f->policy, "127.0.0.2/32", NULL));
  send_request (f, trunk, "INVITE", "+4930123", NULL);
  ok = raw_sip_expect (trunk, NULL, 200);
  g_assert_cmpint (f->kind, ==, SP_ACCESS_TRUSTED);
  g_assert_null (f->user);
  /* Registering needs a user's password, trusted or not. */
  send_request (f, trunk, "REGISTER", "u1", NULL);
  challenged = raw_sip_expect (trunk, NULL, 401);
  g_assert_cmpint (f->kind, ==, SP_ACCESS_DENIED);
}

static void
test_md5_for_baresip (Fixture *f, gconstpointer data)
{
  g_autoptr (RawSip) raw = raw_sip_new ("127.0.0.1");
  g_autoptr (SpSipMessage) old = NULL;
  g_autoptr (SpSipMessage) other = NULL;
  g_autoptr (SpSipMessage) unknown = NULL;
  g_autoptr (SpSipMessage) none = NULL;

  send_request (f, raw, "REGISTER", "u1", "User-Agent: baresip v1.0.0 (x86_64/linux)\r\n");
  old = raw_sip_expect (raw, NULL, 401);
  g_assert_cmpuint (n_headers (old, "WWW-Authenticate"), ==, 1);
  g_assert_nonnull (strstr (sp_sip_message_get_header (old, "WWW-Authenticate"), "MD5"));
  /* Known to handle SHA-256: offered it first, so it uses it. */
  send_request (f, raw, "REGISTER", "u1", "User-Agent: Linphonec/5.1.64 (belle-sip/5.1.55)\r\n");
  other = raw_sip_expect (raw, NULL, 401);
  g_assert_cmpuint (n_headers (other, "WWW-Authenticate"), ==, 2);
  g_assert_nonnull (strstr (sp_sip_message_get_header (other, "WWW-Authenticate"), "SHA-256"));
  /* Anyone else: the configured order, MD5 first. */
  send_request (f, raw, "REGISTER", "u1", "User-Agent: Unknown/1.0\r\n");
  unknown = raw_sip_expect (raw, NULL, 401);
  g_assert_cmpuint (n_headers (unknown, "WWW-Authenticate"), ==, 2);
  g_assert_nonnull (strstr (sp_sip_message_get_header (unknown, "WWW-Authenticate"), "MD5"));
  /* The list can be emptied: everyone gets both. */
  sp_access_policy_set_md5_agents (f->policy, "");
  send_request (f, raw, "REGISTER", "u1", "User-Agent: baresip v1.0.0 (x86_64/linux)\r\n");
  none = raw_sip_expect (raw, NULL, 401);
  g_assert_cmpuint (n_headers (none, "WWW-Authenticate"), ==, 2);
}

/* A REGISTER from @host for u1 with @password, challenged first: the
 * final status. */
static guint
login (Fixture *f, const char *host, const char *password)
{
  g_autofree char *ruri = g_strdup_printf ("sip:u1@127.0.0.1:%u", f->bound.port);
  g_autoptr (RawSip) raw = raw_sip_new (host);
  g_autoptr (SpSipMessage) c = NULL;
  g_autoptr (SpDigestChallenge) ch = NULL;
  g_autofree char *auth = NULL;
  SpSipMessage *r;
  guint status;

  send_request (f, raw, "REGISTER", "u1", NULL);
  c = raw_sip_expect (raw, NULL, 401);
  ch = raw_sip_challenge (c);
  auth = raw_sip_authorization (ch, "u1", password, "REGISTER", ruri, 1);
  send_request (f, raw, "REGISTER", "u1", auth);
  r = raw_sip_recv_final (raw, RAW_SIP_WAIT_MS);
  g_assert_nonnull (r);
  status = sp_sip_message_get_status (r);
  sp_sip_message_unref (r);
  return status;
}

/* u1's phone logged in from .30 before a guesser locked the name out:
 * it goes on working from there; a new address is locked out. */
static void
test_user_lockout_spares_own_phone (Fixture *f, gconstpointer data)
{
  g_assert_cmpuint (login (f, "127.0.0.30", "secret1"), ==, 200);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *host = g_strdup_printf ("127.0.0.%u", 40 + i);
      g_assert_cmpuint (login (f, host, "guess"), ==, 403);
    }
  g_assert_cmpuint (login (f, "127.0.0.31", "secret1"), ==, 403);
  g_assert_cmpuint (login (f, "127.0.0.30", "secret1"), ==, 200);
}

static void
test_user_lockout (Fixture *f, gconstpointer data)
{
  g_autofree char *ruri = g_strdup_printf ("sip:u1@127.0.0.1:%u", f->bound.port);

  /* Three wrong passwords for u1, from three addresses. */
  for (guint i = 0; i <= 3; i++)
    {
      g_autofree char *host = g_strdup_printf ("127.0.0.%u", 10 + i);
      g_autoptr (RawSip) raw = raw_sip_new (host);
      g_autoptr (SpSipMessage) c = NULL;
      g_autoptr (SpSipMessage) r = NULL;
      g_autoptr (SpDigestChallenge) ch = NULL;
      g_autofree char *auth = NULL;

      send_request (f, raw, "REGISTER", "u1", NULL);
      c = raw_sip_expect (raw, NULL, 401);
      ch = raw_sip_challenge (c);
      /* the fourth, from a fresh address, has the right password */
      auth = raw_sip_authorization (ch, "u1", i < 3 ? "guess" : "secret1", "REGISTER", ruri, 1);
      send_request (f, raw, "REGISTER", "u1", auth);
      r = raw_sip_expect (raw, NULL, 403);
      g_assert_cmpint (f->kind, ==, SP_ACCESS_DENIED);
    }
  {
    g_autoptr (GPtrArray) locked = sp_access_policy_list_locked (f->policy, f->now);
    g_assert_cmpuint (locked->len, ==, 1);
    g_assert_cmpstr (locked->pdata[0], ==, "user u1");
  }
  /* After the block time, the right password works again. */
  f->now += 301;
  {
    g_autoptr (RawSip) raw = raw_sip_new ("127.0.0.20");
    g_autoptr (SpSipMessage) c = NULL;
    g_autoptr (SpSipMessage) r = NULL;
    g_autoptr (SpDigestChallenge) ch = NULL;
    g_autofree char *auth = NULL;

    send_request (f, raw, "REGISTER", "u1", NULL);
    c = raw_sip_expect (raw, NULL, 401);
    ch = raw_sip_challenge (c);
    auth = raw_sip_authorization (ch, "u1", "secret1", "REGISTER", ruri, 1);
    send_request (f, raw, "REGISTER", "u1", auth);
    r = raw_sip_expect (raw, NULL, 200);
    g_assert_cmpint (f->kind, ==, SP_ACCESS_USER);
    g_assert_cmpstr (f->user, ==, "u1");
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/accesspolicy/source-key", test_source_key);
  g_test_add_func ("/accesspolicy/trusted-list", test_trusted_list);
  g_test_add_func ("/accesspolicy/routes-allowed", test_routes_allowed);
  g_test_add_func ("/accesspolicy/random-token", test_random_token);
  g_test_add ("/accesspolicy/strangers-challenged-alike", Fixture, NULL, fixture_setup,
              test_strangers_challenged_alike, fixture_teardown);
  g_test_add ("/accesspolicy/trusted-peer", Fixture, NULL, fixture_setup, test_trusted_peer,
              fixture_teardown);
  g_test_add ("/accesspolicy/md5-for-baresip", Fixture, NULL, fixture_setup, test_md5_for_baresip,
              fixture_teardown);
  g_test_add ("/accesspolicy/user-lockout", Fixture, NULL, fixture_setup, test_user_lockout,
              fixture_teardown);
  g_test_add ("/accesspolicy/user-lockout-spares-own-phone", Fixture, NULL, fixture_setup,
              test_user_lockout_spares_own_phone, fixture_teardown);
  return g_test_run ();
}
