/* Registration timings (refresh before expiry, backoff after failure)
 * and REGISTER against a scripted registrar on loopback (a raw UDP
 * socket, tests/common/raw-sip.c): a 401 answered once, a second one
 * with the same nonce ends it, a new nonce marked stale is answered once
 * more (and is no failure), 423 Min-Expires (asked again once; a
 * registrar raising it again or repeating it is not chased), and the
 * credential policy: a foreign realm and
 * MD5 without qop are not answered. Through the public SpPhone API. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "../common/raw-sip.h"
#include "ua/phone.h"
#include "ua/registration.h"

#define PHONE_ADDR     "127.0.55.50"
#define REGISTRAR_ADDR "127.0.55.51"

static void
test_registration_timing (void)
{
  g_assert_cmpuint (sp_registration_refresh_delay (3600), ==, 3570);
  g_assert_cmpuint (sp_registration_refresh_delay (600), ==, 570);
  g_assert_cmpuint (sp_registration_refresh_delay (60), ==, 30);
  g_assert_cmpuint (sp_registration_refresh_delay (6), ==, 3);
  g_assert_cmpuint (sp_registration_refresh_delay (1), ==, 1);
  g_assert_cmpuint (sp_registration_backoff (1), ==, 5);
  g_assert_cmpuint (sp_registration_backoff (2), ==, 10);
  g_assert_cmpuint (sp_registration_backoff (4), ==, 40);
  g_assert_cmpuint (sp_registration_backoff (7), ==, 300);
  g_assert_cmpuint (sp_registration_backoff (1000), ==, 300);
}

typedef struct
{
  char *dir;
  SpPhone *phone;
  RawSip *registrar;
  SpAccount *account;
} Fixture;

static void
run_for (guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *server = NULL;

  f->dir = g_dir_make_tmp ("sp-test-reg-XXXXXX", NULL);
  f->phone = sp_phone_new (f->dir, f->dir);
  g_object_set (f->phone, "keepalive-interval", 0u, NULL);
  g_assert_true (sp_phone_start (f->phone, PHONE_ADDR, 0, &error));
  g_assert_no_error (error);
  f->registrar = raw_sip_new (REGISTRAR_ADDR);
  server = g_strdup_printf (REGISTRAR_ADDR ":%u", f->registrar->peer.port);
  f->account = sp_account_new ("reg");
  g_object_set (f->account, "username", "alice", "password", "secret", "server", server, NULL);
  sp_phone_add_account (f->phone, f->account);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->account);
  g_clear_object (&f->phone);
  run_for (50);
  g_clear_pointer (&f->registrar, raw_sip_free);
  {
    g_autoptr (GDir) d = g_dir_open (f->dir, 0, NULL);
    const char *name;
    while (d != NULL && (name = g_dir_read_name (d)) != NULL)
      {
        g_autofree char *path = g_build_filename (f->dir, name, NULL);
        g_unlink (path);
      }
  }
  g_rmdir (f->dir);
  g_free (f->dir);
}

static gboolean
wait_status (SpAccount *account, SpAccountStatus status, guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (sp_account_get_status (account) != status && g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
  return sp_account_get_status (account) == status;
}

/* The registrar answers @request with @status and one @header (or
 * none). */
static void
answer (Fixture *f, SpSipMessage *request, guint status, const char *name, const char *value)
{
  g_autoptr (SpSipMessage) response =
      sp_sip_message_new_response_to (request, status, NULL, "regtag");
  SpSipPeer phone;
  const char *host = NULL;
  guint16 port = 0;

  if (name != NULL)
    g_assert_true (sp_sip_message_add_header (response, name, value, NULL));
  g_assert_true (sp_phone_get_local_address (f->phone, &host, &port));
  sp_sip_peer_init (&phone, SP_SIP_TRANSPORT_UDP, host, port);
  raw_sip_send (f->registrar, &phone, response);
}

static char *
challenge (const char *realm, const char *nonce, const char *more)
{
  return g_strdup_printf ("Digest realm=\"%s\", nonce=\"%s\", algorithm=MD5%s", realm, nonce, more);
}

/* The next REGISTER (retransmissions of the one before @after skipped). */
static SpSipMessage *
next_register (Fixture *f, guint32 after, guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      g_autoptr (SpSipMessage) msg = raw_sip_recv (f->registrar, 100);
      if (msg != NULL && sp_sip_message_is_request (msg) &&
          g_strcmp0 (sp_sip_message_get_method (msg), "REGISTER") == 0 &&
          sp_sip_message_get_cseq (msg, NULL) > after)
        return g_steal_pointer (&msg);
    }
  return NULL;
}

static const char *
authorization (SpSipMessage *msg)
{
  return sp_sip_message_get_header (msg, "Authorization");
}

/* 401, answered with the account's credentials (qop=auth: nc, cnonce),
 * then 200: registered. */
static void
test_register_401 (Fixture *f, gconstpointer data)
{
  g_autoptr (SpSipMessage) r1 = NULL;
  g_autoptr (SpSipMessage) r2 = NULL;
  g_autofree char *c = challenge ("pbx", "n1", ", qop=\"auth\"");
  g_autoptr (SpDigestCredentials) creds = NULL;

  sp_phone_register (f->phone, f->account);
  r1 = next_register (f, 0, 3000);
  g_assert_nonnull (r1);
  g_assert_null (authorization (r1));
  answer (f, r1, 401, "WWW-Authenticate", c);
  r2 = next_register (f, sp_sip_message_get_cseq (r1, NULL), 3000);
  g_assert_nonnull (r2);
  g_assert_nonnull (authorization (r2));
  creds = sp_digest_credentials_parse (authorization (r2), -1, NULL);
  g_assert_nonnull (creds);
  g_assert_cmpstr (creds->username, ==, "alice");
  g_assert_cmpstr (creds->realm, ==, "pbx");
  g_assert_cmpstr (creds->nonce, ==, "n1");
  g_assert_cmpint (creds->qop, ==, SP_DIGEST_QOP_AUTH);
  g_assert_cmpuint (creds->nc_value, ==, 1);
  answer (f, r2, 200, "Expires", "600");
  g_assert_true (wait_status (f->account, SP_ACCOUNT_STATUS_REGISTERED, 2000));
}

/* A second 401 with the nonce just answered: the password is wrong;
 * no third REGISTER, the account fails with the server's status. */
static void
test_register_401_same_nonce (Fixture *f, gconstpointer data)
{
  g_autoptr (SpSipMessage) r1 = NULL;
  g_autoptr (SpSipMessage) r2 = NULL;
  g_autoptr (SpSipMessage) r3 = NULL;
  g_autofree char *c = challenge ("pbx", "n1", ", qop=\"auth\"");

  sp_phone_register (f->phone, f->account);
  r1 = next_register (f, 0, 3000);
  answer (f, r1, 401, "WWW-Authenticate", c);
  r2 = next_register (f, sp_sip_message_get_cseq (r1, NULL), 3000);
  g_assert_nonnull (r2);
  g_assert_nonnull (authorization (r2));
  answer (f, r2, 401, "WWW-Authenticate", c);
  g_assert_true (wait_status (f->account, SP_ACCOUNT_STATUS_FAILED, 2000));
  g_assert_cmpstr (sp_account_get_status_reason (f->account), ==, "401 Unauthorized");
  r3 = next_register (f, sp_sip_message_get_cseq (r2, NULL), 1000);
  g_assert_null (r3);
}

/* A new nonce marked stale=true after our answer: answered once more
 * (the password was right, the nonce old); a second stale one ends it. */
static void
test_register_stale (Fixture *f, gconstpointer data)
{
  g_autoptr (SpSipMessage) r1 = NULL;
  g_autoptr (SpSipMessage) r2 = NULL;
  g_autoptr (SpSipMessage) r3 = NULL;
  g_autoptr (SpSipMessage) r4 = NULL;
  g_autoptr (SpDigestCredentials) creds = NULL;
  g_autofree char *c1 = challenge ("pbx", "n1", ", qop=\"auth\"");
  g_autofree char *c2 = challenge ("pbx", "n2", ", qop=\"auth\", stale=true");
  g_autofree char *c3 = challenge ("pbx", "n3", ", qop=\"auth\", stale=true");

  sp_phone_register (f->phone, f->account);
  r1 = next_register (f, 0, 3000);
  answer (f, r1, 401, "WWW-Authenticate", c1);
  r2 = next_register (f, sp_sip_message_get_cseq (r1, NULL), 3000);
  g_assert_nonnull (r2);
  answer (f, r2, 401, "WWW-Authenticate", c2);
  r3 = next_register (f, sp_sip_message_get_cseq (r2, NULL), 3000);
  g_assert_nonnull (r3);
  creds = sp_digest_credentials_parse (authorization (r3), -1, NULL);
  g_assert_nonnull (creds);
  g_assert_cmpstr (creds->nonce, ==, "n2");
  g_assert_cmpuint (creds->nc_value, ==, 1); /* a new nonce counts from 1 */
  answer (f, r3, 401, "WWW-Authenticate", c3);
  g_assert_true (wait_status (f->account, SP_ACCOUNT_STATUS_FAILED, 2000));
  r4 = next_register (f, sp_sip_message_get_cseq (r3, NULL), 1000);
  g_assert_null (r4);
}

/* 423 Interval Too Brief: asked again with the Min-Expires given. */
static void
test_register_423 (Fixture *f, gconstpointer data)
{
  g_autoptr (SpSipMessage) r1 = NULL;
  g_autoptr (SpSipMessage) r2 = NULL;

  sp_account_set_register_interval (f->account, 60);
  sp_phone_register (f->phone, f->account);
  r1 = next_register (f, 0, 3000);
  g_assert_nonnull (r1);
  g_assert_cmpint (sp_sip_message_get_expires (r1), ==, 60);
  answer (f, r1, 423, "Min-Expires", "1800");
  r2 = next_register (f, sp_sip_message_get_cseq (r1, NULL), 3000);
  g_assert_nonnull (r2);
  g_assert_cmpint (sp_sip_message_get_expires (r2), ==, 1800);
  answer (f, r2, 200, "Expires", "1800");
  g_assert_true (wait_status (f->account, SP_ACCOUNT_STATUS_REGISTERED, 2000));
}

/* Every status the account passes through, in order. */
static void
record_status (SpAccount *account, GParamSpec *pspec, GArray *seen)
{
  SpAccountStatus status = sp_account_get_status (account);

  g_array_append_val (seen, status);
}

static gboolean
status_seen (GArray *seen, SpAccountStatus status)
{
  for (guint i = 0; i < seen->len; i++)
    if (g_array_index (seen, SpAccountStatus, i) == status)
      return TRUE;
  return FALSE;
}

/* A second 401 with a new nonce that is not marked stale: the password
 * was refused; no third REGISTER. */
static void
test_register_401_new_nonce (Fixture *f, gconstpointer data)
{
  g_autoptr (SpSipMessage) r1 = NULL;
  g_autoptr (SpSipMessage) r2 = NULL;
  g_autoptr (SpSipMessage) r3 = NULL;
  g_autofree char *c1 = challenge ("pbx", "n1", ", qop=\"auth\"");
  g_autofree char *c2 = challenge ("pbx", "n2", ", qop=\"auth\"");

  sp_phone_register (f->phone, f->account);
  r1 = next_register (f, 0, 3000);
  g_assert_nonnull (r1);
  answer (f, r1, 401, "WWW-Authenticate", c1);
  r2 = next_register (f, sp_sip_message_get_cseq (r1, NULL), 3000);
  g_assert_nonnull (r2);
  g_assert_nonnull (authorization (r2));
  answer (f, r2, 401, "WWW-Authenticate", c2);
  g_assert_true (wait_status (f->account, SP_ACCOUNT_STATUS_FAILED, 2000));
  g_assert_cmpstr (sp_account_get_status_reason (f->account), ==, "401 Unauthorized");
  r3 = next_register (f, sp_sip_message_get_cseq (r2, NULL), 1500);
  g_assert_null (r3);
}

/* A nonce gone stale is no failure: the REGISTER with the new nonce is
 * sent at once, the account never shows "failed" on the way, and once
 * registered a later challenge is answered as a fresh one. */
static void
test_register_stale_not_failure (Fixture *f, gconstpointer data)
{
  g_autoptr (SpSipMessage) r1 = NULL;
  g_autoptr (SpSipMessage) r2 = NULL;
  g_autoptr (SpSipMessage) r3 = NULL;
  g_autoptr (SpSipMessage) r4 = NULL;
  g_autoptr (SpSipMessage) r5 = NULL;
  g_autoptr (SpDigestCredentials) creds = NULL;
  g_autoptr (GArray) seen = g_array_new (FALSE, FALSE, sizeof (SpAccountStatus));
  g_autofree char *c1 = challenge ("pbx", "n1", ", qop=\"auth\"");
  g_autofree char *c2 = challenge ("pbx", "n2", ", qop=\"auth\", stale=true");
  g_autofree char *c3 = challenge ("pbx", "n3", ", qop=\"auth\", stale=true");
  gint64 asked;

  g_signal_connect (f->account, "notify::status", G_CALLBACK (record_status), seen);
  sp_phone_register (f->phone, f->account);
  r1 = next_register (f, 0, 3000);
  answer (f, r1, 401, "WWW-Authenticate", c1);
  r2 = next_register (f, sp_sip_message_get_cseq (r1, NULL), 3000);
  g_assert_nonnull (r2);
  answer (f, r2, 401, "WWW-Authenticate", c2);
  asked = g_get_monotonic_time ();
  r3 = next_register (f, sp_sip_message_get_cseq (r2, NULL), 3000);
  g_assert_nonnull (r3);
  /* At once, not after a failure's backoff (5 s and up). */
  g_assert_cmpint (g_get_monotonic_time () - asked, <, 2 * G_USEC_PER_SEC);
  creds = sp_digest_credentials_parse (authorization (r3), -1, NULL);
  g_assert_nonnull (creds);
  g_assert_cmpstr (creds->nonce, ==, "n2");
  answer (f, r3, 200, "Expires", "600");
  g_assert_true (wait_status (f->account, SP_ACCOUNT_STATUS_REGISTERED, 2000));
  g_assert_false (status_seen (seen, SP_ACCOUNT_STATUS_FAILED));

  /* The refresh: its own guard, so a stale nonce is answered again. */
  sp_phone_register (f->phone, f->account);
  r4 = next_register (f, sp_sip_message_get_cseq (r3, NULL), 3000);
  g_assert_nonnull (r4);
  answer (f, r4, 401, "WWW-Authenticate", c3);
  r5 = next_register (f, sp_sip_message_get_cseq (r4, NULL), 3000);
  g_assert_nonnull (r5);
  g_clear_pointer (&creds, sp_digest_credentials_free);
  creds = sp_digest_credentials_parse (authorization (r5), -1, NULL);
  g_assert_nonnull (creds);
  g_assert_cmpstr (creds->nonce, ==, "n3");
  answer (f, r5, 200, "Expires", "600");
  g_assert_true (wait_status (f->account, SP_ACCOUNT_STATUS_REGISTERED, 2000));
  g_assert_false (status_seen (seen, SP_ACCOUNT_STATUS_FAILED));
  g_signal_handlers_disconnect_by_data (f->account, seen);
}

/* A registrar that keeps raising Min-Expires: asked again once, then
 * the account fails with its status (no chase up to a day). */
static void
test_register_423_twice (Fixture *f, gconstpointer data)
{
  g_autoptr (SpSipMessage) r1 = NULL;
  g_autoptr (SpSipMessage) r2 = NULL;
  g_autoptr (SpSipMessage) r3 = NULL;

  sp_account_set_register_interval (f->account, 60);
  sp_phone_register (f->phone, f->account);
  r1 = next_register (f, 0, 3000);
  g_assert_nonnull (r1);
  answer (f, r1, 423, "Min-Expires", "1800");
  r2 = next_register (f, sp_sip_message_get_cseq (r1, NULL), 3000);
  g_assert_nonnull (r2);
  g_assert_cmpint (sp_sip_message_get_expires (r2), ==, 1800);
  answer (f, r2, 423, "Min-Expires", "3600");
  g_assert_true (wait_status (f->account, SP_ACCOUNT_STATUS_FAILED, 2000));
  g_assert_nonnull (strstr (sp_account_get_status_reason (f->account), "423"));
  r3 = next_register (f, sp_sip_message_get_cseq (r2, NULL), 1500);
  g_assert_null (r3);
}

/* 423 repeating the Min-Expires just used, or giving none: no retry. */
static void
test_register_423_useless (Fixture *f, gconstpointer data)
{
  g_autoptr (SpSipMessage) r1 = NULL;
  g_autoptr (SpSipMessage) r2 = NULL;
  g_autoptr (SpSipMessage) r3 = NULL;
  g_autoptr (SpSipMessage) r4 = NULL;
  g_autoptr (SpSipMessage) r5 = NULL;

  sp_account_set_register_interval (f->account, 60);
  sp_phone_register (f->phone, f->account);
  r1 = next_register (f, 0, 3000);
  answer (f, r1, 423, "Min-Expires", "1800");
  r2 = next_register (f, sp_sip_message_get_cseq (r1, NULL), 3000);
  g_assert_nonnull (r2);
  answer (f, r2, 423, "Min-Expires", "1800");
  g_assert_true (wait_status (f->account, SP_ACCOUNT_STATUS_FAILED, 2000));
  r3 = next_register (f, sp_sip_message_get_cseq (r2, NULL), 1000);
  g_assert_null (r3);

  sp_phone_register (f->phone, f->account);
  r4 = next_register (f, sp_sip_message_get_cseq (r2, NULL), 3000);
  g_assert_nonnull (r4);
  g_assert_cmpint (sp_sip_message_get_expires (r4), ==, 60);
  answer (f, r4, 423, NULL, NULL);
  g_assert_true (wait_status (f->account, SP_ACCOUNT_STATUS_FAILED, 2000));
  r5 = next_register (f, sp_sip_message_get_cseq (r4, NULL), 1000);
  g_assert_null (r5);
}

/* 423, then the REGISTER with the longer expiry is challenged: answered
 * (a new request, its own guard) and the expiry is kept. */
static void
test_register_423_then_401 (Fixture *f, gconstpointer data)
{
  g_autoptr (SpSipMessage) r1 = NULL;
  g_autoptr (SpSipMessage) r2 = NULL;
  g_autoptr (SpSipMessage) r3 = NULL;
  g_autofree char *c = challenge ("pbx", "n1", ", qop=\"auth\"");

  sp_account_set_register_interval (f->account, 60);
  sp_phone_register (f->phone, f->account);
  r1 = next_register (f, 0, 3000);
  answer (f, r1, 423, "Min-Expires", "1800");
  r2 = next_register (f, sp_sip_message_get_cseq (r1, NULL), 3000);
  g_assert_nonnull (r2);
  answer (f, r2, 401, "WWW-Authenticate", c);
  r3 = next_register (f, sp_sip_message_get_cseq (r2, NULL), 3000);
  g_assert_nonnull (r3);
  g_assert_nonnull (authorization (r3));
  g_assert_cmpint (sp_sip_message_get_expires (r3), ==, 1800);
  answer (f, r3, 200, "Expires", "1800");
  g_assert_true (wait_status (f->account, SP_ACCOUNT_STATUS_REGISTERED, 2000));
}

/* The account's realm is "pbx": its registrar asking for "evil" gets no
 * answer, and the account says why. */
static void
test_register_foreign_realm (Fixture *f, gconstpointer data)
{
  g_autoptr (SpSipMessage) r1 = NULL;
  g_autoptr (SpSipMessage) r2 = NULL;
  g_autofree char *c = challenge ("evil", "n1", ", qop=\"auth\"");
  const char *reason;

  g_object_set (f->account, "realm", "pbx", NULL);
  sp_phone_register (f->phone, f->account);
  r1 = next_register (f, 0, 3000);
  answer (f, r1, 401, "WWW-Authenticate", c);
  g_assert_true (wait_status (f->account, SP_ACCOUNT_STATUS_FAILED, 2000));
  reason = sp_account_get_status_reason (f->account);
  g_test_message ("%s", reason);
  g_assert_nonnull (strstr (reason, "asked for your password for realm \"evil\""));
  g_assert_nonnull (strstr (reason, "it was not sent"));
  r2 = next_register (f, sp_sip_message_get_cseq (r1, NULL), 1000);
  g_assert_null (r2);
}

/* No realm configured: the first one the registrar uses is learnt, and
 * a later challenge for another realm is not answered. */
static void
test_register_realm_learnt (Fixture *f, gconstpointer data)
{
  g_autoptr (SpSipMessage) r1 = NULL;
  g_autoptr (SpSipMessage) r2 = NULL;
  g_autoptr (SpSipMessage) r3 = NULL;
  g_autoptr (SpSipMessage) r4 = NULL;
  g_autofree char *c1 = challenge ("pbx", "n1", ", qop=\"auth\"");
  g_autofree char *c2 = challenge ("other", "n2", ", qop=\"auth\"");

  sp_phone_register (f->phone, f->account);
  r1 = next_register (f, 0, 3000);
  answer (f, r1, 401, "WWW-Authenticate", c1);
  r2 = next_register (f, sp_sip_message_get_cseq (r1, NULL), 3000);
  g_assert_nonnull (r2);
  answer (f, r2, 200, "Expires", "600");
  g_assert_true (wait_status (f->account, SP_ACCOUNT_STATUS_REGISTERED, 2000));

  sp_phone_register (f->phone, f->account); /* a refresh */
  r3 = next_register (f, sp_sip_message_get_cseq (r2, NULL), 3000);
  g_assert_nonnull (r3);
  answer (f, r3, 401, "WWW-Authenticate", c2);
  g_assert_true (wait_status (f->account, SP_ACCOUNT_STATUS_FAILED, 2000));
  g_assert_nonnull (
      strstr (sp_account_get_status_reason (f->account), "for realm \"other\"; it was not sent"));
  r4 = next_register (f, sp_sip_message_get_cseq (r3, NULL), 1000);
  g_assert_null (r4);

  /* The user points the account at another server (here: the same one,
   * spelt with a trailing space): the learnt realm is forgotten. */
  {
    g_autofree char *server = g_strdup_printf ("%s ", sp_account_get_server (f->account));
    g_autoptr (SpSipMessage) r5 = NULL;
    g_autoptr (SpSipMessage) r6 = NULL;

    sp_account_set_server (f->account, "192.0.2.1");
    sp_account_set_server (f->account, server);
    sp_phone_register (f->phone, f->account);
    r5 = next_register (f, sp_sip_message_get_cseq (r3, NULL), 3000);
    g_assert_nonnull (r5);
    answer (f, r5, 401, "WWW-Authenticate", c2);
    r6 = next_register (f, sp_sip_message_get_cseq (r5, NULL), 3000);
    g_assert_nonnull (r6);
    g_assert_nonnull (authorization (r6));
  }
}

/* MD5 without qop (RFC 2069): refused unless the account allows it. */
static void
test_register_md5_without_qop (Fixture *f, gconstpointer data)
{
  g_autoptr (SpSipMessage) r1 = NULL;
  g_autoptr (SpSipMessage) r2 = NULL;
  g_autoptr (SpSipMessage) r3 = NULL;
  g_autoptr (SpSipMessage) r4 = NULL;
  g_autoptr (SpDigestCredentials) creds = NULL;
  g_autofree char *c = challenge ("pbx", "n1", "");

  sp_phone_register (f->phone, f->account);
  r1 = next_register (f, 0, 3000);
  answer (f, r1, 401, "WWW-Authenticate", c);
  g_assert_true (wait_status (f->account, SP_ACCOUNT_STATUS_FAILED, 2000));
  g_assert_nonnull (strstr (sp_account_get_status_reason (f->account), "MD5 without qop"));
  r2 = next_register (f, sp_sip_message_get_cseq (r1, NULL), 1000);
  g_assert_null (r2);

  g_object_set (f->account, "allow-md5-without-qop", TRUE, NULL);
  sp_phone_register (f->phone, f->account);
  r3 = next_register (f, sp_sip_message_get_cseq (r1, NULL), 3000);
  g_assert_nonnull (r3);
  answer (f, r3, 401, "WWW-Authenticate", c);
  r4 = next_register (f, sp_sip_message_get_cseq (r3, NULL), 3000);
  g_assert_nonnull (r4);
  creds = sp_digest_credentials_parse (authorization (r4), -1, NULL);
  g_assert_nonnull (creds);
  g_assert_cmpint (creds->qop, ==, SP_DIGEST_QOP_NONE);
  answer (f, r4, 200, "Expires", "600");
  g_assert_true (wait_status (f->account, SP_ACCOUNT_STATUS_REGISTERED, 2000));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ua/registration/timing", test_registration_timing);
#define ADD(name, func)                                                                            \
  g_test_add ("/ua/registration/" name, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("401", test_register_401);
  ADD ("401-same-nonce", test_register_401_same_nonce);
  ADD ("stale", test_register_stale);
  ADD ("401-new-nonce", test_register_401_new_nonce);
  ADD ("stale-not-a-failure", test_register_stale_not_failure);
  ADD ("423", test_register_423);
  ADD ("423-twice", test_register_423_twice);
  ADD ("423-useless", test_register_423_useless);
  ADD ("423-then-401", test_register_423_then_401);
  ADD ("foreign-realm", test_register_foreign_realm);
  ADD ("realm-learnt", test_register_realm_learnt);
  ADD ("md5-without-qop", test_register_md5_without_qop);
#undef ADD
  return g_test_run ();
}
