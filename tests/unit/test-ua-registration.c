/* Registration timings (refresh before expiry, backoff after failure)
 * and REGISTER against a scripted registrar on loopback (a raw UDP
 * socket, tests/common/raw-sip.c): a 401 answered once, a second one
 * with the same nonce ends it, a new nonce marked stale is answered once
 * more (and is no failure), 423 Min-Expires (asked again once; a
 * registrar raising it again or repeating it is not chased), and the
 * credential policy: a foreign realm and
 * MD5 without qop are not answered. Through the public SpPhone API.
 * Each raw-peer subtest is a script (a table of steps: REGISTER expected
 * with its checks, the registrar's answer, the account's status), played
 * by run_script; every step asserts. */
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

/* ---- the scripted registrar: each subtest is a table of steps ---- */

typedef enum
{
  STEP_REGISTER,  /* sp_phone_register */
  STEP_EXPECT,    /* the next REGISTER arrives (within 3 s), with the checks given */
  STEP_ANSWER,    /* the registrar answers the last REGISTER */
  STEP_NO_MORE,   /* no further REGISTER within .ms */
  STEP_STATUS,    /* the account reaches .status (within 2 s), with .reason */
  STEP_NO_FAILED, /* the account never showed "failed" so far */
  STEP_DO,        /* .act (f): a setting changed by the user */
  STEP_END,
} StepKind;

typedef enum
{
  AUTH_ANY,
  AUTH_NONE,    /* no Authorization */
  AUTH_PRESENT, /* an Authorization */
} AuthCheck;

typedef enum
{
  QOP_ANY,
  QOP_IS_AUTH, /* qop=auth answered */
  QOP_IS_NONE, /* RFC 2069: no qop */
} QopCheck;

typedef struct
{
  StepKind kind;
  /* EXPECT */
  AuthCheck auth;
  const char *username; /* these and nc, qop: NULL / 0 = not checked */
  const char *realm;
  const char *nonce;
  guint nc;
  QopCheck qop;
  int expires;     /* 0: not checked */
  guint within_ms; /* 0: not checked; else sent that soon after the last answer */
  /* ANSWER */
  guint code;
  const char *name; /* one header (NULL: none) */
  const char *value;
  /* NO_MORE */
  guint ms;
  /* STATUS */
  SpAccountStatus status;
  const char *reason;  /* exact with .exact, else a part of it (NULL: any) */
  const char *reason2; /* another part */
  gboolean exact;
  /* DO */
  void (*act) (Fixture *f);
} Step;

typedef struct
{
  const char *name;
  const Step *steps;
} Script;

/* Table shorthands; every field not named is "not checked". */
/* clang-format off */
#define REGISTER()      { .kind = STEP_REGISTER }
#define EXPECT(...)     { .kind = STEP_EXPECT, __VA_ARGS__ }
#define ANSWER(c, n, v) { .kind = STEP_ANSWER, .code = (c), .name = (n), .value = (v) }
#define CHALLENGE(text) ANSWER (401, "WWW-Authenticate", text)
#define NO_MORE(t)      { .kind = STEP_NO_MORE, .ms = (t) }
#define STATUS(st, ...) { .kind = STEP_STATUS, .status = SP_ACCOUNT_STATUS_##st, __VA_ARGS__ }
#define NO_FAILED()     { .kind = STEP_NO_FAILED }
#define DO(fn)          { .kind = STEP_DO, .act = (fn) }
#define END()           { .kind = STEP_END }
/* clang-format on */

#define QOP_AUTH   ", algorithm=MD5, qop=\"auth\""
#define C_N1       "Digest realm=\"pbx\", nonce=\"n1\"" QOP_AUTH
#define C_N2       "Digest realm=\"pbx\", nonce=\"n2\"" QOP_AUTH
#define C_N2_STALE "Digest realm=\"pbx\", nonce=\"n2\"" QOP_AUTH ", stale=true"
#define C_N3_STALE "Digest realm=\"pbx\", nonce=\"n3\"" QOP_AUTH ", stale=true"
#define C_EVIL     "Digest realm=\"evil\", nonce=\"n1\"" QOP_AUTH
#define C_OTHER    "Digest realm=\"other\", nonce=\"n2\"" QOP_AUTH
#define C_NO_QOP   "Digest realm=\"pbx\", nonce=\"n1\", algorithm=MD5"

static void
interval_60 (Fixture *f)
{
  sp_account_set_register_interval (f->account, 60);
}

static void
realm_pbx (Fixture *f)
{
  g_object_set (f->account, "realm", "pbx", NULL);
}

static void
allow_md5_without_qop (Fixture *f)
{
  g_object_set (f->account, "allow-md5-without-qop", TRUE, NULL);
}

/* The user points the account at another server (here: the same one,
 * spelt with a trailing space): what it learnt is forgotten. */
static void
respell_server (Fixture *f)
{
  g_autofree char *server = g_strdup_printf ("%s ", sp_account_get_server (f->account));

  sp_account_set_server (f->account, "192.0.2.1");
  sp_account_set_server (f->account, server);
}

/* 401, answered with the account's credentials (qop=auth: nc, cnonce),
 * then 200: registered. */
static const Step register_401[] = {
  REGISTER (),
  EXPECT (.auth = AUTH_NONE),
  CHALLENGE (C_N1),
  EXPECT (.auth = AUTH_PRESENT, .username = "alice", .realm = "pbx", .nonce = "n1",
          .qop = QOP_IS_AUTH, .nc = 1),
  ANSWER (200, "Expires", "600"),
  STATUS (REGISTERED),
  END (),
};

/* A second 401 with the nonce just answered: the password is wrong;
 * no third REGISTER, the account fails with the server's status. */
static const Step register_401_same_nonce[] = {
  REGISTER (),      EXPECT (),
  CHALLENGE (C_N1), EXPECT (.auth = AUTH_PRESENT),
  CHALLENGE (C_N1), STATUS (FAILED, .reason = "401 Unauthorized", .exact = TRUE),
  NO_MORE (1000),   END (),
};

/* A new nonce marked stale=true after our answer: answered once more
 * (the password was right, the nonce old); a second stale one ends it. */
static const Step register_stale[] = {
  REGISTER (),
  EXPECT (),
  CHALLENGE (C_N1),
  EXPECT (),
  CHALLENGE (C_N2_STALE),
  EXPECT (.nonce = "n2", .nc = 1), /* a new nonce counts from 1 */
  CHALLENGE (C_N3_STALE),
  STATUS (FAILED),
  NO_MORE (1000),
  END (),
};

/* A second 401 with a new nonce that is not marked stale: the password
 * was refused; no third REGISTER. */
static const Step register_401_new_nonce[] = {
  REGISTER (),      EXPECT (),
  CHALLENGE (C_N1), EXPECT (.auth = AUTH_PRESENT),
  CHALLENGE (C_N2), STATUS (FAILED, .reason = "401 Unauthorized", .exact = TRUE),
  NO_MORE (1500),   END (),
};

/* A nonce gone stale is no failure: the REGISTER with the new nonce is
 * sent at once (not after a failure's backoff, 5 s and up), the account
 * never shows "failed" on the way, and once registered a later
 * challenge is answered as a fresh one (the refresh has its own guard). */
static const Step register_stale_not_failure[] = {
  REGISTER (),
  EXPECT (),
  CHALLENGE (C_N1),
  EXPECT (),
  CHALLENGE (C_N2_STALE),
  EXPECT (.within_ms = 2000, .nonce = "n2"),
  ANSWER (200, "Expires", "600"),
  STATUS (REGISTERED),
  NO_FAILED (),
  REGISTER (),
  EXPECT (),
  CHALLENGE (C_N3_STALE),
  EXPECT (.nonce = "n3"),
  ANSWER (200, "Expires", "600"),
  STATUS (REGISTERED),
  NO_FAILED (),
  END (),
};

/* 423 Interval Too Brief: asked again with the Min-Expires given. */
static const Step register_423[] = {
  DO (interval_60),         REGISTER (),
  EXPECT (.expires = 60),   ANSWER (423, "Min-Expires", "1800"),
  EXPECT (.expires = 1800), ANSWER (200, "Expires", "1800"),
  STATUS (REGISTERED),      END (),
};

/* A registrar that keeps raising Min-Expires: asked again once, then
 * the account fails with its status (no chase up to a day). */
static const Step register_423_twice[] = {
  DO (interval_60),
  REGISTER (),
  EXPECT (),
  ANSWER (423, "Min-Expires", "1800"),
  EXPECT (.expires = 1800),
  ANSWER (423, "Min-Expires", "3600"),
  STATUS (FAILED, .reason = "423"),
  NO_MORE (1500),
  END (),
};

/* 423 repeating the Min-Expires just used, or giving none: no retry. */
static const Step register_423_useless[] = {
  DO (interval_60),
  REGISTER (),
  EXPECT (),
  ANSWER (423, "Min-Expires", "1800"),
  EXPECT (),
  ANSWER (423, "Min-Expires", "1800"),
  STATUS (FAILED),
  NO_MORE (1000),
  REGISTER (),
  EXPECT (.expires = 60),
  ANSWER (423, NULL, NULL),
  STATUS (FAILED),
  NO_MORE (1000),
  END (),
};

/* 423, then the REGISTER with the longer expiry is challenged: answered
 * (a new request, its own guard) and the expiry is kept. */
static const Step register_423_then_401[] = {
  DO (interval_60),
  REGISTER (),
  EXPECT (),
  ANSWER (423, "Min-Expires", "1800"),
  EXPECT (),
  CHALLENGE (C_N1),
  EXPECT (.auth = AUTH_PRESENT, .expires = 1800),
  ANSWER (200, "Expires", "1800"),
  STATUS (REGISTERED),
  END (),
};

/* The account's realm is "pbx": its registrar asking for "evil" gets no
 * answer, and the account says why. */
static const Step register_foreign_realm[] = {
  DO (realm_pbx),
  REGISTER (),
  EXPECT (),
  CHALLENGE (C_EVIL),
  STATUS (FAILED, .reason = "asked for your password for realm \"evil\"",
          .reason2 = "it was not sent"),
  NO_MORE (1000),
  END (),
};

/* No realm configured: the first one the registrar uses is learnt, and
 * a later challenge for another realm is not answered, until the user
 * points the account at another server. */
static const Step register_realm_learnt[] = {
  REGISTER (),
  EXPECT (),
  CHALLENGE (C_N1),
  EXPECT (),
  ANSWER (200, "Expires", "600"),
  STATUS (REGISTERED),
  REGISTER (), /* a refresh */
  EXPECT (),
  CHALLENGE (C_OTHER),
  STATUS (FAILED, .reason = "for realm \"other\"; it was not sent"),
  NO_MORE (1000),
  DO (respell_server),
  REGISTER (),
  EXPECT (),
  CHALLENGE (C_OTHER),
  EXPECT (.auth = AUTH_PRESENT),
  END (),
};

/* MD5 without qop (RFC 2069): refused unless the account allows it. */
static const Step register_md5_without_qop[] = {
  REGISTER (),
  EXPECT (),
  CHALLENGE (C_NO_QOP),
  STATUS (FAILED, .reason = "MD5 without qop"),
  NO_MORE (1000),
  DO (allow_md5_without_qop),
  REGISTER (),
  EXPECT (),
  CHALLENGE (C_NO_QOP),
  EXPECT (.qop = QOP_IS_NONE),
  ANSWER (200, "Expires", "600"),
  STATUS (REGISTERED),
  END (),
};

static const Script scripts[] = {
  { "401", register_401 },
  { "401-same-nonce", register_401_same_nonce },
  { "stale", register_stale },
  { "401-new-nonce", register_401_new_nonce },
  { "stale-not-a-failure", register_stale_not_failure },
  { "423", register_423 },
  { "423-twice", register_423_twice },
  { "423-useless", register_423_useless },
  { "423-then-401", register_423_then_401 },
  { "foreign-realm", register_foreign_realm },
  { "realm-learnt", register_realm_learnt },
  { "md5-without-qop", register_md5_without_qop },
};

/* The REGISTER of an EXPECT step against its checks. */
static void
check_register (const Step *step, SpSipMessage *msg)
{
  const char *auth = authorization (msg);
  g_autoptr (SpDigestCredentials) creds = NULL;

  if (step->auth == AUTH_NONE)
    g_assert_null (auth);
  else if (step->auth == AUTH_PRESENT)
    g_assert_nonnull (auth);
  if (step->expires > 0)
    g_assert_cmpint (sp_sip_message_get_expires (msg), ==, step->expires);
  if (step->username == NULL && step->realm == NULL && step->nonce == NULL && step->nc == 0 &&
      step->qop == QOP_ANY)
    return;
  creds = auth ? sp_digest_credentials_parse (auth, -1, NULL) : NULL;
  g_assert_nonnull (creds);
  if (step->username != NULL)
    g_assert_cmpstr (creds->username, ==, step->username);
  if (step->realm != NULL)
    g_assert_cmpstr (creds->realm, ==, step->realm);
  if (step->nonce != NULL)
    g_assert_cmpstr (creds->nonce, ==, step->nonce);
  if (step->qop != QOP_ANY)
    g_assert_cmpint (creds->qop, ==,
                     step->qop == QOP_IS_AUTH ? SP_DIGEST_QOP_AUTH : SP_DIGEST_QOP_NONE);
  if (step->nc > 0)
    g_assert_cmpuint (creds->nc_value, ==, step->nc);
}

static void
check_status (Fixture *f, const Step *step)
{
  const char *reason;

  g_assert_true (wait_status (f->account, step->status, 2000));
  reason = sp_account_get_status_reason (f->account);
  if (step->reason != NULL)
    g_test_message ("%s", reason);
  if (step->reason != NULL && step->exact)
    g_assert_cmpstr (reason, ==, step->reason);
  else if (step->reason != NULL)
    g_assert_nonnull (strstr (reason, step->reason));
  if (step->reason2 != NULL)
    g_assert_nonnull (strstr (reason, step->reason2));
}

/* Plays a script against the phone; every step asserts. */
static void
run_script (Fixture *f, gconstpointer data)
{
  const Script *script = data;
  g_autoptr (GArray) seen = g_array_new (FALSE, FALSE, sizeof (SpAccountStatus));
  g_autoptr (SpSipMessage) last = NULL; /* the last REGISTER received */
  gint64 answered = 0;

  g_signal_connect (f->account, "notify::status", G_CALLBACK (record_status), seen);
  for (const Step *step = script->steps; step->kind != STEP_END; step++)
    {
      guint32 after = last ? sp_sip_message_get_cseq (last, NULL) : 0;

      switch (step->kind)
        {
          case STEP_REGISTER:
            sp_phone_register (f->phone, f->account);
            break;
          case STEP_EXPECT:
            {
              SpSipMessage *msg = next_register (f, after, 3000);

              g_assert_nonnull (msg);
              if (step->within_ms > 0)
                g_assert_cmpint (g_get_monotonic_time () - answered, <,
                                 (gint64) step->within_ms * 1000);
              g_clear_pointer (&last, sp_sip_message_unref);
              last = msg;
              check_register (step, msg);
            }
            break;
          case STEP_ANSWER:
            g_assert_nonnull (last);
            answer (f, last, step->code, step->name, step->value);
            answered = g_get_monotonic_time ();
            break;
          case STEP_NO_MORE:
            {
              g_autoptr (SpSipMessage) msg = next_register (f, after, step->ms);
              g_assert_null (msg);
            }
            break;
          case STEP_STATUS:
            check_status (f, step);
            break;
          case STEP_NO_FAILED:
            g_assert_false (status_seen (seen, SP_ACCOUNT_STATUS_FAILED));
            break;
          case STEP_DO:
            step->act (f);
            break;
          case STEP_END:
            g_assert_not_reached ();
        }
    }
  g_signal_handlers_disconnect_by_data (f->account, seen);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ua/registration/timing", test_registration_timing);
  for (guint i = 0; i < G_N_ELEMENTS (scripts); i++)
    {
      g_autofree char *path = g_strconcat ("/ua/registration/", scripts[i].name, NULL);
      g_test_add (path, Fixture, &scripts[i], fixture_setup, run_script, fixture_teardown);
    }
  return g_test_run ();
}
