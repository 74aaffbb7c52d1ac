/* SpCall against a scripted SIP peer on loopback (a raw UDP socket that
 * says exactly what each test needs): a BYE challenged after its account
 * was removed, a re-INVITE without SDP, hanging up while our 200 waits
 * for its ACK, the RFC 3261 14.1 retry after a 491 to our re-INVITE, an
 * UPDATE with a new offer, and a call that outlives its phone. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "ua/phone.h"

#define PHONE_ADDR "127.0.55.40"
#define PEER_ADDR  "127.0.55.41"
#define EVIL_ADDR  "127.0.55.42" /* a host that is not the account's server */
#define OTHER_ADDR "127.0.55.43" /* a second caller */

typedef struct
{
  char *dir;
  SpPhone *phone;
  guint16 phone_port;
  GSocketAddress *phone_addr;
  GSocket *sip; /* the peer's SIP socket */
  guint16 sip_port;
  GSocket *rtp, *rtp2; /* the peer's RTP ports: first SDP, and a later one */
  guint16 rtp_port, rtp2_port;
  guint branch;
  SpCall *incoming;
} Fixture;

static GSocket *
udp_socket (const char *host, guint16 *port)
{
  g_autoptr (GSocketAddress) addr = g_inet_socket_address_new_from_string (host, 0);
  g_autoptr (GSocketAddress) local = NULL;
  GSocket *sock =
      g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);

  g_assert_nonnull (sock);
  g_assert_true (g_socket_bind (sock, addr, FALSE, NULL));
  g_socket_set_blocking (sock, FALSE);
  local = g_socket_get_local_address (sock, NULL);
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  return sock;
}

static void
on_incoming_call (SpPhone *phone, SpCall *call, gpointer data)
{
  Fixture *f = data;

  g_clear_object (&f->incoming);
  f->incoming = g_object_ref (call);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  const char *host = NULL;

  f->dir = g_dir_make_tmp ("sp-test-call-XXXXXX", NULL);
  f->phone = sp_phone_new (f->dir, f->dir);
  g_object_set (f->phone, "media-timeout", 0u, NULL);
  g_assert_true (sp_phone_start (f->phone, PHONE_ADDR, 0, &error));
  g_assert_no_error (error);
  g_assert_true (sp_phone_get_local_address (f->phone, &host, &f->phone_port));
  f->phone_addr = g_inet_socket_address_new_from_string (PHONE_ADDR, f->phone_port);
  f->sip = udp_socket (PEER_ADDR, &f->sip_port);
  f->rtp = udp_socket (PEER_ADDR, &f->rtp_port);
  f->rtp2 = udp_socket (PEER_ADDR, &f->rtp2_port);
  g_signal_connect (f->phone, "incoming-call", G_CALLBACK (on_incoming_call), f);
}

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
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->incoming);
  g_clear_object (&f->phone);
  run_for (50);
  g_clear_object (&f->phone_addr);
  g_clear_object (&f->sip);
  g_clear_object (&f->rtp);
  g_clear_object (&f->rtp2);
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

/* ---- the scripted peer ---------------------------------------------------- */

/* The next message from the phone that starts with @prefix ("INVITE ",
 * "SIP/2.0 200", ...), running the main loop meanwhile; others are
 * skipped (retransmissions, 100 Trying, ACKs of failures). NULL after
 * @ms. */
static char *
peer_wait (Fixture *f, const char *prefix, guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;
  char buf[8192];

  while (g_get_monotonic_time () < end)
    {
      gssize n = g_socket_receive (f->sip, buf, sizeof buf - 1, NULL, NULL);
      if (n > 0)
        {
          buf[n] = '\0';
          if (g_str_has_prefix (buf, prefix))
            return g_strdup (buf);
          continue;
        }
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
  return NULL;
}

static guint cseq_number (const char *msg);

/* The same, skipping messages with a CSeq number up to @after
 * (retransmissions of an earlier request). */
static char *
peer_wait_newer (Fixture *f, const char *prefix, guint after, guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      gint64 left = (end - g_get_monotonic_time ()) / 1000;
      g_autofree char *msg = peer_wait (f, prefix, (guint) MAX (left, 1));
      if (msg != NULL && cseq_number (msg) > after)
        return g_steal_pointer (&msg);
    }
  return NULL;
}

/* The value of header @name in @msg (first occurrence), or NULL. */
static char *
header (const char *msg, const char *name)
{
  g_auto (GStrv) lines = g_strsplit (msg, "\r\n", -1);
  gsize len = strlen (name);

  for (guint i = 1; lines[i] != NULL && lines[i][0] != '\0'; i++)
    if (g_ascii_strncasecmp (lines[i], name, len) == 0 && lines[i][len] == ':')
      return g_strstrip (g_strdup (lines[i] + len + 1));
  return NULL;
}

static const char *
body_of (const char *msg)
{
  const char *end = strstr (msg, "\r\n\r\n");

  return end ? end + 4 : "";
}

static guint
cseq_number (const char *msg)
{
  g_autofree char *cseq = header (msg, "CSeq");

  return cseq ? (guint) g_ascii_strtoull (cseq, NULL, 10) : 0;
}

/* The tag parameter of a From/To value. */
static char *
tag_of (const char *value)
{
  const char *tag = value ? strstr (value, ";tag=") : NULL;

  return tag ? g_strndup (tag + 5, strcspn (tag + 5, ";> ")) : NULL;
}

static void
peer_send (Fixture *f, const char *text)
{
  g_assert_cmpint (g_socket_send_to (f->sip, f->phone_addr, text, strlen (text), NULL, NULL), ==,
                   (gssize) strlen (text));
}

static char *
peer_sdp (guint version, guint16 rtp_port)
{
  return g_strdup_printf ("v=0\r\no=peer 1 %u IN IP4 " PEER_ADDR "\r\ns=-\r\n"
                          "c=IN IP4 " PEER_ADDR "\r\nt=0 0\r\n"
                          "m=audio %u RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
                          "a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n",
                          version, rtp_port);
}

/* Answers @request; @to_tag is added when its To has none. */
static void
peer_respond (Fixture *f, const char *request, guint status, const char *reason, const char *to_tag,
              const char *extra, const char *sdp)
{
  g_autofree char *via = header (request, "Via");
  g_autofree char *from = header (request, "From");
  g_autofree char *to = header (request, "To");
  g_autofree char *call_id = header (request, "Call-ID");
  g_autofree char *cseq = header (request, "CSeq");
  g_autofree char *tagged = NULL;
  g_autofree char *text = NULL;

  tagged = strstr (to, ";tag=") || to_tag == NULL ? g_strdup (to)
                                                  : g_strdup_printf ("%s;tag=%s", to, to_tag);
  text = g_strdup_printf ("SIP/2.0 %u %s\r\nVia: %s\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\n"
                          "CSeq: %s\r\nContact: <sip:peer@" PEER_ADDR ":%u>\r\n%s"
                          "%sContent-Length: %zu\r\n\r\n%s",
                          status, reason, via, from, tagged, call_id, cseq, f->sip_port,
                          extra ? extra : "", sdp ? "Content-Type: application/sdp\r\n" : "",
                          sdp ? strlen (sdp) : 0, sdp ? sdp : "");
  peer_send (f, text);
}

/* A request from the peer in the dialog of an incoming call (Call-ID
 * "peer-call", our From tag "pt"); @to_tag is the phone's tag, NULL for
 * the initial INVITE. */
static void
peer_request (Fixture *f, const char *method, guint cseq, const char *to_tag, const char *sdp)
{
  g_autofree char *to_param = to_tag ? g_strdup_printf (";tag=%s", to_tag) : g_strdup ("");
  g_autofree char *text = g_strdup_printf (
      "%s sip:u@" PHONE_ADDR ":%u SIP/2.0\r\n"
      "Via: SIP/2.0/UDP " PEER_ADDR ":%u;branch=z9hG4bKpeer%u\r\n"
      "From: <sip:peer@" PEER_ADDR ">;tag=pt\r\nTo: <sip:u@" PHONE_ADDR ">%s\r\n"
      "Call-ID: peer-call@" PEER_ADDR "\r\nCSeq: %u %s\r\n"
      "Contact: <sip:peer@" PEER_ADDR ":%u>\r\nMax-Forwards: 70\r\n"
      "%sContent-Length: %zu\r\n\r\n%s",
      method, f->phone_port, f->sip_port, ++f->branch, to_param, cseq, method, f->sip_port,
      sdp ? "Content-Type: application/sdp\r\n" : "", sdp ? strlen (sdp) : 0, sdp ? sdp : "");

  peer_send (f, text);
}

/* RTP datagrams arriving on @sock over @ms, running the main loop. */
static guint
count_rtp (GSocket *sock, guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;
  guint n = 0;
  char buf[2048];

  while (g_get_monotonic_time () < end)
    {
      gssize len = g_socket_receive (sock, buf, sizeof buf, NULL, NULL);
      if (len >= 12 && ((guint8) buf[0] >> 6) == 2)
        {
          n++;
          continue;
        }
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
  return n;
}

static gboolean
wait_state (SpCall *call, SpCallState state, guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (sp_call_get_state (call) != state && g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
  return sp_call_get_state (call) == state;
}

/* An outgoing call to "200" through @account (its server is the peer),
 * answered and ACKed. Returns the call (a new reference). */
static SpCall *
establish_outgoing (Fixture *f, SpAccount *account)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *invite = NULL;
  g_autofree char *ack = NULL;
  g_autofree char *sdp = peer_sdp (1, f->rtp_port);
  SpCall *call = sp_phone_call (f->phone, "200", account, &error);

  g_assert_no_error (error);
  g_assert_nonnull (call);
  g_object_ref (call);
  invite = peer_wait (f, "INVITE ", 3000);
  g_assert_nonnull (invite);
  peer_respond (f, invite, 200, "OK", "pt", NULL, sdp);
  ack = peer_wait (f, "ACK ", 3000);
  g_assert_nonnull (ack);
  g_assert_true (wait_state (call, SP_CALL_STATE_ESTABLISHED, 1000));
  return call;
}

/* An incoming call from the peer (with @sdp as offer, or none), answered
 * by us. Returns the phone's 200 (the caller ACKs it). */
static char *
answer_incoming (Fixture *f, const char *sdp)
{
  g_autoptr (GError) error = NULL;
  char *ok;

  peer_request (f, "INVITE", 1, NULL, sdp);
  g_autofree char *ringing = peer_wait (f, "SIP/2.0 180", 3000);
  g_assert_nonnull (ringing);
  g_assert_nonnull (f->incoming);
  g_assert_true (sp_phone_answer (f->phone, f->incoming, &error));
  g_assert_no_error (error);
  ok = peer_wait (f, "SIP/2.0 200", 3000);
  g_assert_nonnull (ok);
  return ok;
}

static SpAccount *
peer_account (Fixture *f)
{
  SpAccount *account = sp_account_new ("acct-bye");
  g_autofree char *server = g_strdup_printf (PEER_ADDR ":%u", f->sip_port);

  sp_account_set_username (account, "alice");
  sp_account_set_password (account, "secret");
  sp_account_set_server (account, server);
  return account;
}

/* The peer's SIP socket swapped for @sock (on another address) while
 * @body runs: the same helpers then speak from there. */
typedef struct
{
  GSocket *sip;
  guint16 port;
} SavedPeer;

static SavedPeer
become (Fixture *f, GSocket *sock, guint16 port)
{
  SavedPeer saved = { f->sip, f->sip_port };

  f->sip = sock;
  f->sip_port = port;
  return saved;
}

static void
restore (Fixture *f, SavedPeer saved)
{
  f->sip = saved.sip;
  f->sip_port = saved.port;
}

#define MD5_QOP    "algorithm=MD5, qop=\"auth\""
#define MD5_NO_QOP "algorithm=MD5"
#define WWW_AUTH(realm, nonce, more)                                                               \
  "WWW-Authenticate: Digest realm=\"" realm "\", nonce=\"" nonce "\", " more "\r\n"

/* Waits for the end of @call, running the loop. */
static void
wait_ended (SpCall *call, guint ms)
{
  g_assert_true (wait_state (call, SP_CALL_STATE_ENDED, ms));
  g_test_message ("ended: %s (%u)", sp_call_get_end_reason (call), sp_call_get_end_code (call));
}

/* An INVITE from @sock (a raw caller on @host) with its own Call-ID. */
static void
raw_invite (Fixture *f, GSocket *sock, const char *host, guint16 port, const char *call_id)
{
  g_autofree char *sdp = peer_sdp (1, f->rtp_port);
  g_autofree char *text = g_strdup_printf (
      "INVITE sip:u@" PHONE_ADDR ":%u SIP/2.0\r\n"
      "Via: SIP/2.0/UDP %s:%u;branch=z9hG4bK%s\r\n"
      "From: <sip:caller@%s>;tag=ct\r\nTo: <sip:u@" PHONE_ADDR ">\r\n"
      "Call-ID: %s\r\nCSeq: 1 INVITE\r\n"
      "Contact: <sip:caller@%s:%u>\r\nMax-Forwards: 70\r\n"
      "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
      f->phone_port, host, port, call_id, host, call_id, host, port, strlen (sdp), sdp);

  g_assert_cmpint (g_socket_send_to (sock, f->phone_addr, text, strlen (text), NULL, NULL), ==,
                   (gssize) strlen (text));
}

/* The final response to the INVITE with Call-ID @call_id on @sock. */
static char *
final_for (Fixture *f, GSocket *sock, guint16 port, const char *call_id, guint ms)
{
  SavedPeer saved = become (f, sock, port);
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;
  char *found = NULL;

  while (found == NULL && g_get_monotonic_time () < end)
    {
      g_autofree char *msg = peer_wait (f, "SIP/2.0 ", 100);
      g_autofree char *id = msg ? header (msg, "Call-ID") : NULL;

      if (msg != NULL && g_strcmp0 (id, call_id) == 0 && !g_str_has_prefix (msg, "SIP/2.0 1"))
        found = g_steal_pointer (&msg);
    }
  restore (f, saved);
  return found;
}

/* ---- tests ------------------------------------------------------------------ */

/* The digest leak: with an account registered, a call to a host that is
 * not its server, which answers 401 for realm "evil". The account's
 * digest must not go there; the call ends saying who asked. */
static void
test_foreign_host_challenge (Fixture *f, gconstpointer data)
{
  g_autoptr (SpAccount) account = peer_account (f);
  g_autoptr (GSocket) evil = NULL;
  g_autoptr (SpCall) call = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *target = NULL;
  g_autofree char *invite = NULL;
  g_autofree char *again = NULL;
  guint16 evil_port = 0;
  SavedPeer saved;

  evil = udp_socket (EVIL_ADDR, &evil_port);
  sp_phone_add_account (f->phone, account);
  target = g_strdup_printf ("sip:x@" EVIL_ADDR ":%u", evil_port);
  call = sp_phone_call (f->phone, target, account, &error);
  g_assert_no_error (error);
  g_object_ref (call);
  saved = become (f, evil, evil_port);
  invite = peer_wait (f, "INVITE ", 3000);
  g_assert_nonnull (invite);
  peer_respond (f, invite, 401, "Unauthorized", "ev", WWW_AUTH ("evil", "e1", MD5_NO_QOP), NULL);
  wait_ended (call, 3000);
  /* Nothing more than the ACK of the 401: no INVITE with credentials. */
  again = peer_wait (f, "INVITE ", 1500);
  restore (f, saved);
  g_assert_null (again);
  g_assert_cmpuint (sp_call_get_end_code (call), ==, 401);
  g_assert_nonnull (strstr (sp_call_get_end_reason (call), target));
  g_assert_nonnull (
      strstr (sp_call_get_end_reason (call), "asked for your password for realm \"evil\""));
  g_assert_nonnull (strstr (sp_call_get_end_reason (call), "it was not sent"));
  /* The window's text (translated; English here) says the same. */
  g_assert_nonnull (strstr (sp_call_get_end_reason_text (call), "\"evil\""));
}

/* The account's own server, but a realm other than the one configured. */
static void
test_foreign_realm_challenge (Fixture *f, gconstpointer data)
{
  g_autoptr (SpAccount) account = peer_account (f);
  g_autoptr (SpCall) call = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *invite = NULL;
  g_autofree char *again = NULL;

  g_object_set (account, "realm", "pbx", NULL);
  sp_phone_add_account (f->phone, account);
  call = sp_phone_call (f->phone, "200", account, &error);
  g_assert_no_error (error);
  g_object_ref (call);
  invite = peer_wait (f, "INVITE ", 3000);
  peer_respond (f, invite, 401, "Unauthorized", "pt", WWW_AUTH ("evil", "e1", MD5_QOP), NULL);
  wait_ended (call, 3000);
  again = peer_wait_newer (f, "INVITE ", cseq_number (invite), 1000);
  g_assert_null (again);
  g_assert_nonnull (strstr (sp_call_get_end_reason (call), "for realm \"evil\"; it was not sent"));
}

/* MD5 without qop from the account's own server: refused by default,
 * answered once the account allows it. */
static void
test_md5_without_qop (Fixture *f, gconstpointer data)
{
  g_autoptr (SpAccount) account = peer_account (f);
  g_autoptr (GError) error = NULL;

  sp_phone_add_account (f->phone, account);
  {
    g_autoptr (SpCall) call = sp_phone_call (f->phone, "200", account, &error);
    g_autofree char *invite = peer_wait (f, "INVITE ", 3000);
    g_autofree char *again = NULL;

    g_assert_no_error (error);
    g_object_ref (call);
    peer_respond (f, invite, 401, "Unauthorized", "pt", WWW_AUTH ("test", "m1", MD5_NO_QOP), NULL);
    wait_ended (call, 3000);
    g_assert_nonnull (strstr (sp_call_get_end_reason (call), "MD5 without qop"));
    again = peer_wait_newer (f, "INVITE ", cseq_number (invite), 1000);
    g_assert_null (again);
  }
  g_object_set (account, "allow-md5-without-qop", TRUE, NULL);
  {
    g_autoptr (SpCall) call = sp_phone_call (f->phone, "200", account, &error);
    g_autofree char *invite = peer_wait (f, "INVITE ", 3000);
    g_autofree char *again = NULL;
    g_autofree char *auth = NULL;
    g_autofree char *sdp = peer_sdp (1, f->rtp_port);

    g_assert_no_error (error);
    g_object_ref (call);
    peer_respond (f, invite, 401, "Unauthorized", "pt", WWW_AUTH ("test", "m2", MD5_NO_QOP), NULL);
    again = peer_wait_newer (f, "INVITE ", cseq_number (invite), 3000);
    g_assert_nonnull (again);
    auth = header (again, "Authorization");
    g_assert_nonnull (auth);
    g_assert_nonnull (strstr (auth, "nonce=\"m2\""));
    g_assert_null (strstr (auth, "qop="));
    peer_respond (f, again, 200, "OK", "pt", NULL, sdp);
    g_assert_true (wait_state (call, SP_CALL_STATE_ESTABLISHED, 2000));
    sp_call_hangup (call, NULL);
  }
}

/* A challenged INVITE is answered once; the same challenge again (the
 * credentials were refused) ends the call with the server's status. */
static void
test_invite_challenge_once (Fixture *f, gconstpointer data)
{
  g_autoptr (SpAccount) account = peer_account (f);
  g_autoptr (SpCall) call = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *invite = NULL;
  g_autofree char *second = NULL;
  g_autofree char *third = NULL;

  sp_phone_add_account (f->phone, account);
  call = sp_phone_call (f->phone, "200", account, &error);
  g_assert_no_error (error);
  g_object_ref (call);
  invite = peer_wait (f, "INVITE ", 3000);
  peer_respond (f, invite, 407, "Proxy Authentication Required", "pt",
                "Proxy-Authenticate: Digest realm=\"test\", nonce=\"i1\", " MD5_QOP "\r\n", NULL);
  second = peer_wait_newer (f, "INVITE ", cseq_number (invite), 3000);
  g_assert_nonnull (second);
  {
    g_autofree char *auth = header (second, "Proxy-Authorization");
    g_assert_nonnull (auth);
    g_assert_nonnull (strstr (auth, "nonce=\"i1\""));
  }
  peer_respond (f, second, 407, "Proxy Authentication Required", "pt",
                "Proxy-Authenticate: Digest realm=\"test\", nonce=\"i1\", " MD5_QOP "\r\n", NULL);
  wait_ended (call, 3000);
  g_assert_cmpuint (sp_call_get_end_code (call), ==, 407);
  third = peer_wait_newer (f, "INVITE ", cseq_number (second), 1000);
  g_assert_null (third);
}

/* Hold: the re-INVITE's 401 is answered once; the same challenge again
 * ends the attempt (the call goes on unheld) without a third re-INVITE. */
static void
test_reinvite_challenge_once (Fixture *f, gconstpointer data)
{
  g_autoptr (SpAccount) account = peer_account (f);
  g_autoptr (SpCall) call = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *re1 = NULL;
  g_autofree char *re2 = NULL;
  g_autofree char *re3 = NULL;

  sp_phone_add_account (f->phone, account);
  call = establish_outgoing (f, account);
  g_assert_true (sp_call_hold (call, &error));
  re1 = peer_wait (f, "INVITE ", 3000);
  g_assert_nonnull (re1);
  peer_respond (f, re1, 401, "Unauthorized", NULL, WWW_AUTH ("test", "r1", MD5_QOP), NULL);
  re2 = peer_wait_newer (f, "INVITE ", cseq_number (re1), 3000);
  g_assert_nonnull (re2);
  {
    g_autofree char *auth = header (re2, "Authorization");
    g_assert_nonnull (auth);
  }
  peer_respond (f, re2, 401, "Unauthorized", NULL, WWW_AUTH ("test", "r1", MD5_QOP), NULL);
  re3 = peer_wait_newer (f, "INVITE ", cseq_number (re2), 1500);
  g_assert_null (re3);
  g_assert_cmpint (sp_call_get_state (call), ==, SP_CALL_STATE_ESTABLISHED);
  sp_call_hangup (call, NULL);
}

/* BYE: answered once; the same challenge again gets no third BYE. */
static void
test_bye_challenge_once (Fixture *f, gconstpointer data)
{
  g_autoptr (SpAccount) account = peer_account (f);
  g_autoptr (SpCall) call = NULL;
  g_autofree char *bye1 = NULL;
  g_autofree char *bye2 = NULL;
  g_autofree char *bye3 = NULL;

  sp_phone_add_account (f->phone, account);
  call = establish_outgoing (f, account);
  g_assert_true (sp_call_hangup (call, NULL));
  bye1 = peer_wait (f, "BYE ", 3000);
  g_assert_nonnull (bye1);
  peer_respond (f, bye1, 401, "Unauthorized", NULL, WWW_AUTH ("test", "b1", MD5_QOP), NULL);
  bye2 = peer_wait_newer (f, "BYE ", cseq_number (bye1), 3000);
  g_assert_nonnull (bye2);
  {
    g_autofree char *auth = header (bye2, "Authorization");
    g_assert_nonnull (auth);
  }
  peer_respond (f, bye2, 401, "Unauthorized", NULL, WWW_AUTH ("test", "b1", MD5_QOP), NULL);
  bye3 = peer_wait_newer (f, "BYE ", cseq_number (bye2), 1500);
  g_assert_null (bye3);
}

/* A direct call (no account) answers no challenge, whatever it is. */
static void
test_direct_call_no_challenge (Fixture *f, gconstpointer data)
{
  g_autoptr (SpCall) call = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *target = g_strdup_printf (PEER_ADDR ":%u", f->sip_port);
  g_autofree char *invite = NULL;
  g_autofree char *again = NULL;

  call = sp_phone_call (f->phone, target, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (sp_call_get_account (call));
  g_object_ref (call);
  invite = peer_wait (f, "INVITE ", 3000);
  peer_respond (f, invite, 401, "Unauthorized", "pt", WWW_AUTH ("test", "d1", MD5_QOP), NULL);
  wait_ended (call, 3000);
  again = peer_wait_newer (f, "INVITE ", cseq_number (invite), 1000);
  g_assert_null (again);
  g_assert_cmpuint (sp_call_get_end_code (call), ==, 401);
  g_assert_nonnull (strstr (sp_call_get_end_reason (call), "asked for a password"));
}

/* Nobody answers an incoming call: after the ring timeout, 480. */
static void
test_ring_timeout (Fixture *f, gconstpointer data)
{
  g_autofree char *sdp = peer_sdp (1, f->rtp_port);
  g_autofree char *ringing = NULL;
  g_autofree char *final = NULL;
  gint64 start;

  g_object_set (f->phone, "ring-timeout", 1u, NULL);
  peer_request (f, "INVITE", 1, NULL, sdp);
  start = g_get_monotonic_time ();
  ringing = peer_wait (f, "SIP/2.0 180", 3000);
  g_assert_nonnull (ringing);
  g_assert_nonnull (f->incoming);
  final = peer_wait (f, "SIP/2.0 480", 3000);
  g_assert_nonnull (final);
  g_assert_cmpint ((g_get_monotonic_time () - start) / 1000, >=, 900);
  wait_ended (f->incoming, 1000);
  g_assert_cmpuint (sp_call_get_end_code (f->incoming), ==, 480);
}

/* Caps on incoming calls: per source address (486 + Retry-After) and
 * in all (503 + Retry-After); a ringing call opens no RTP socket. */
static void
test_incoming_caps (Fixture *f, gconstpointer data)
{
  g_autoptr (GSocket) other = NULL;
  guint16 other_port = 0;

  g_object_set (f->phone, "max-incoming-calls-per-source", 2u, "max-incoming-calls", 3u, NULL);
  other = udp_socket (OTHER_ADDR, &other_port);
  raw_invite (f, f->sip, PEER_ADDR, f->sip_port, "cap-1");
  raw_invite (f, f->sip, PEER_ADDR, f->sip_port, "cap-2");
  run_for (300);
  raw_invite (f, f->sip, PEER_ADDR, f->sip_port, "cap-3");
  {
    g_autofree char *busy = final_for (f, f->sip, f->sip_port, "cap-3", 3000);
    g_autofree char *retry = NULL;

    g_assert_nonnull (busy);
    g_assert_true (g_str_has_prefix (busy, "SIP/2.0 486"));
    retry = header (busy, "Retry-After");
    g_assert_nonnull (retry);
  }
  /* Another caller still gets through, up to the total. */
  raw_invite (f, other, OTHER_ADDR, other_port, "cap-4");
  {
    SavedPeer saved = become (f, other, other_port);
    g_autofree char *ringing = peer_wait (f, "SIP/2.0 180", 3000);
    restore (f, saved);
    g_assert_nonnull (ringing);
  }
  raw_invite (f, other, OTHER_ADDR, other_port, "cap-5");
  {
    g_autofree char *full = final_for (f, other, other_port, "cap-5", 3000);
    g_autofree char *retry = NULL;

    g_assert_nonnull (full);
    g_assert_true (g_str_has_prefix (full, "SIP/2.0 503"));
    retry = header (full, "Retry-After");
    g_assert_nonnull (retry);
  }
  g_assert_cmpuint (g_list_model_get_n_items (sp_phone_get_calls (f->phone)), ==, 3);
}

/* refuse-strangers: a direct call from an address that is none of our
 * accounts' servers gets 403; from an account's server it rings. */
static void
test_refuse_strangers (Fixture *f, gconstpointer data)
{
  g_autoptr (SpAccount) account = NULL;
  g_autoptr (GSocket) other = NULL;
  guint16 other_port = 0;

  g_object_set (f->phone, "refuse-strangers", TRUE, NULL);
  other = udp_socket (OTHER_ADDR, &other_port);
  raw_invite (f, other, OTHER_ADDR, other_port, "stranger-1");
  {
    g_autofree char *refused = final_for (f, other, other_port, "stranger-1", 3000);
    g_assert_nonnull (refused);
    g_assert_true (g_str_has_prefix (refused, "SIP/2.0 403"));
  }
  g_assert_null (f->incoming);

  account = peer_account (f);
  sp_phone_add_account (f->phone, account);
  raw_invite (f, f->sip, PEER_ADDR, f->sip_port, "friend-1");
  {
    g_autofree char *ringing = peer_wait (f, "SIP/2.0 180", 3000);
    g_assert_nonnull (ringing);
  }
  g_assert_nonnull (f->incoming);
}

/* The BYE's challenge comes after the call ended, left the phone's list
 * and was freed, and after the account was removed: the BYE transaction
 * holds the account itself, answers with its credentials, and lets go
 * of it once done. (Before, it held a borrowed pointer: a use after free
 * under ASan.) */
static void
test_bye_challenge_after_account_removed (Fixture *f, gconstpointer data)
{
  SpAccount *account = peer_account (f);
  SpCall *call = NULL;
  gpointer weak_account = account, weak_call = NULL;
  g_autofree char *bye = NULL;
  g_autofree char *bye2 = NULL;
  g_autofree char *auth = NULL;
  gint64 end;

  sp_phone_add_account (f->phone, account);
  call = establish_outgoing (f, account);
  weak_call = call;
  g_object_add_weak_pointer (G_OBJECT (call), &weak_call);
  g_object_add_weak_pointer (G_OBJECT (account), &weak_account);

  g_assert_true (sp_call_hangup (call, NULL));
  bye = peer_wait (f, "BYE ", 3000);
  g_assert_nonnull (bye);
  g_assert_cmpuint (cseq_number (bye), ==, 2);

  /* Everything that held the account lets go of it. */
  sp_phone_remove_account (f->phone, account);
  g_object_unref (account);
  g_object_unref (call);
  end = g_get_monotonic_time () + 4 * G_USEC_PER_SEC;
  while (weak_call != NULL && g_get_monotonic_time () < end)
    run_for (50);
  g_assert_null (weak_call);       /* the ended call left the list and is gone */
  g_assert_nonnull (weak_account); /* the BYE transaction still holds it */

  peer_respond (f, bye, 401, "Unauthorized", NULL,
                "WWW-Authenticate: Digest realm=\"test\", nonce=\"n0nce\", algorithm=MD5, "
                "qop=\"auth\"\r\n",
                NULL);
  bye2 = peer_wait_newer (f, "BYE ", 2, 3000);
  g_assert_nonnull (bye2);
  auth = header (bye2, "Authorization");
  g_assert_nonnull (auth);
  g_assert_nonnull (strstr (auth, "username=\"alice\""));
  g_assert_nonnull (strstr (auth, "realm=\"test\""));
  g_assert_cmpuint (cseq_number (bye2), ==, 3);
  peer_respond (f, bye2, 200, "OK", NULL, NULL, NULL);

  /* Once the first BYE's transaction is over (Timer K, T4 = 5 s on UDP)
   * the account goes. */
  end = g_get_monotonic_time () + 8 * G_USEC_PER_SEC;
  while (weak_account != NULL && g_get_monotonic_time () < end)
    run_for (50);
  g_assert_null (weak_account);
}

/* A re-INVITE without SDP: we offer in the 200 and take the answer from
 * the ACK, whose new port our RTP then goes to. */
static void
test_reinvite_without_sdp (Fixture *f, gconstpointer data)
{
  g_autofree char *offer = peer_sdp (1, f->rtp_port);
  g_autofree char *ok = answer_incoming (f, offer);
  g_autofree char *our_tag = NULL;
  g_autofree char *to = header (ok, "To");
  g_autofree char *ok2 = NULL;
  g_autofree char *answer = NULL;
  g_autofree char *ok2_type = NULL;
  const char *sdp2;
  guint before, old_port, new_port;

  our_tag = tag_of (to);
  g_assert_nonnull (our_tag);
  peer_request (f, "ACK", 1, our_tag, NULL);
  g_assert_true (wait_state (f->incoming, SP_CALL_STATE_ESTABLISHED, 1000));
  before = count_rtp (f->rtp, 500);
  g_assert_cmpuint (before, >=, 10);

  peer_request (f, "INVITE", 2, our_tag, NULL);
  ok2 = peer_wait (f, "SIP/2.0 200", 3000);
  g_assert_nonnull (ok2);
  g_assert_cmpuint (cseq_number (ok2), ==, 2);
  ok2_type = header (ok2, "Content-Type");
  g_assert_cmpstr (ok2_type, ==, "application/sdp");
  sdp2 = body_of (ok2);
  g_assert_nonnull (strstr (sdp2, "m=audio "));
  g_assert_nonnull (strstr (sdp2, "c=IN IP4 " PHONE_ADDR));
  g_assert_nonnull (strstr (sdp2, "PCMU/8000"));

  /* The answer in the ACK moves our RTP to the peer's second port. */
  answer = peer_sdp (2, f->rtp2_port);
  peer_request (f, "ACK", 2, our_tag, answer);
  run_for (200);
  count_rtp (f->rtp, 100); /* what was in flight */
  old_port = count_rtp (f->rtp, 600);
  new_port = count_rtp (f->rtp2, 600);
  g_test_message ("RTP before %u; after the ACK: old port %u, new port %u", before, old_port,
                  new_port);
  g_assert_cmpuint (old_port, ==, 0);
  g_assert_cmpuint (new_port, >=, 10);
  g_assert_cmpint (sp_call_get_state (f->incoming), ==, SP_CALL_STATE_ESTABLISHED);
}

/* An UPDATE with a new offer in an established call (RFC 3311, handled by
 * the session layer): answered 200 with our SDP, and our RTP moves to
 * the port it names. */
static void
test_update_offer (Fixture *f, gconstpointer data)
{
  g_autofree char *offer = peer_sdp (1, f->rtp_port);
  g_autofree char *ok = answer_incoming (f, offer);
  g_autofree char *to = header (ok, "To");
  g_autofree char *our_tag = tag_of (to);
  g_autofree char *update = peer_sdp (2, f->rtp2_port);
  g_autofree char *ok2 = NULL;
  guint old_port, new_port;

  peer_request (f, "ACK", 1, our_tag, NULL);
  g_assert_true (wait_state (f->incoming, SP_CALL_STATE_ESTABLISHED, 1000));
  g_assert_cmpuint (count_rtp (f->rtp, 400), >=, 5);

  peer_request (f, "UPDATE", 2, our_tag, update);
  ok2 = peer_wait (f, "SIP/2.0 200", 3000);
  g_assert_nonnull (ok2);
  g_assert_cmpuint (cseq_number (ok2), ==, 2);
  g_assert_nonnull (strstr (body_of (ok2), "m=audio "));
  run_for (200);
  count_rtp (f->rtp, 100); /* what was in flight */
  old_port = count_rtp (f->rtp, 600);
  new_port = count_rtp (f->rtp2, 600);
  g_test_message ("after the UPDATE: old port %u, new port %u", old_port, new_port);
  g_assert_cmpuint (old_port, ==, 0);
  g_assert_cmpuint (new_port, >=, 10);
  g_assert_cmpint (sp_call_get_state (f->incoming), ==, SP_CALL_STATE_ESTABLISHED);
}

/* Hanging up while our 200 (with our offer: the INVITE had none) waits
 * for its ACK: a BYE in the dialog, the call ends "User hangup", and a
 * late ACK does not bring it back. */
static void
test_hangup_awaiting_ack (Fixture *f, gconstpointer data)
{
  g_autofree char *ok = answer_incoming (f, NULL);
  g_autofree char *to = header (ok, "To");
  g_autofree char *our_tag = tag_of (to);
  g_autofree char *bye = NULL;
  g_autofree char *bye_to = NULL;
  g_autofree char *bye_from = NULL;
  g_autofree char *bye_call_id = NULL;
  g_autofree char *bye_from_tag = NULL;
  g_autofree char *bye_to_tag = NULL;
  g_autofree char *answer = peer_sdp (1, f->rtp_port);

  g_assert_nonnull (strstr (body_of (ok), "m=audio "));
  g_assert_cmpint (sp_call_get_state (f->incoming), ==, SP_CALL_STATE_INCOMING);
  g_assert_true (sp_call_hangup (f->incoming, NULL));
  bye = peer_wait (f, "BYE ", 3000);
  g_assert_nonnull (bye);
  bye_call_id = header (bye, "Call-ID");
  bye_from = header (bye, "From");
  bye_to = header (bye, "To");
  bye_from_tag = tag_of (bye_from);
  bye_to_tag = tag_of (bye_to);
  g_assert_cmpstr (bye_call_id, ==, "peer-call@" PEER_ADDR);
  g_assert_cmpstr (bye_from_tag, ==, our_tag);
  g_assert_cmpstr (bye_to_tag, ==, "pt");
  g_assert_true (g_str_has_prefix (bye, "BYE sip:peer@" PEER_ADDR));
  g_assert_cmpint (sp_call_get_state (f->incoming), ==, SP_CALL_STATE_ENDED);
  g_assert_cmpstr (sp_call_get_end_reason (f->incoming), ==, "User hangup");
  peer_respond (f, bye, 200, "OK", NULL, NULL, NULL);

  peer_request (f, "ACK", 1, our_tag, answer);
  g_assert_cmpuint (count_rtp (f->rtp, 500), ==, 0);
  g_assert_cmpint (sp_call_get_state (f->incoming), ==, SP_CALL_STATE_ENDED);
}

/* The peer answers our hold re-INVITE 491 (glare) each time; @give_up:
 * twice, else once and then 200. */
static void
check_491 (Fixture *f, SpCall *call, gboolean we_own_call_id, gboolean give_up)
{
  g_autofree char *re1 = NULL;
  g_autofree char *re2 = NULL;
  g_autofree char *re3 = NULL;
  g_autofree char *ok = NULL;
  g_autoptr (GError) error = NULL;
  gint64 sent_491, delay_ms;
  guint min_ms = we_own_call_id ? 2100 : 0, max_ms = we_own_call_id ? 4000 : 2000;

  g_assert_true (sp_call_hold (call, &error));
  g_assert_no_error (error);
  re1 = peer_wait (f, "INVITE ", 3000);
  g_assert_nonnull (re1);
  g_assert_nonnull (strstr (body_of (re1), "a=sendonly"));
  peer_respond (f, re1, 491, "Request Pending", NULL, NULL, NULL);
  sent_491 = g_get_monotonic_time ();

  /* While the retry waits, another hold is refused as in progress. */
  run_for (20);
  g_assert_false (sp_call_hold (call, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BUSY);
  g_clear_error (&error);

  re2 = peer_wait_newer (f, "INVITE ", cseq_number (re1), max_ms + 1500);
  g_assert_nonnull (re2);
  delay_ms = (g_get_monotonic_time () - sent_491) / 1000;
  g_test_message ("retried after %" G_GINT64_FORMAT " ms (RFC 3261 14.1: %u..%u)", delay_ms, min_ms,
                  max_ms);
  g_assert_cmpint (delay_ms, >=, min_ms);
  g_assert_cmpint (delay_ms, <=, max_ms + 300);
  g_assert_cmpuint (cseq_number (re2), ==, cseq_number (re1) + 1);
  g_assert_nonnull (strstr (body_of (re2), "a=sendonly"));

  if (!give_up)
    {
      g_autofree char *answer = peer_sdp (3, f->rtp_port);
      g_autofree char *recvonly = NULL;

      recvonly = g_strdup (answer);
      memcpy (strstr (recvonly, "a=sendrecv"), "a=recvonly", 10);
      peer_respond (f, re2, 200, "OK", NULL, NULL, recvonly);
      g_assert_true (wait_state (call, SP_CALL_STATE_HELD, 2000));
      return;
    }

  /* A second 491: no third try; the call goes on as it was, and a new
   * hold may be asked for. */
  peer_respond (f, re2, 491, "Request Pending", NULL, NULL, NULL);
  re3 = peer_wait_newer (f, "INVITE ", cseq_number (re2), max_ms + 800);
  g_assert_null (re3);
  g_assert_cmpint (sp_call_get_state (call), ==, SP_CALL_STATE_ESTABLISHED);
  g_assert_true (sp_call_hold (call, &error));
  g_assert_no_error (error);
  re3 = peer_wait_newer (f, "INVITE ", cseq_number (re2), 3000);
  g_assert_nonnull (re3);
  g_assert_cmpuint (cseq_number (re3), ==, cseq_number (re2) + 1);
  {
    g_autofree char *answer = peer_sdp (3, f->rtp_port);
    memcpy (strstr (answer, "a=sendrecv"), "a=recvonly", 10);
    peer_respond (f, re3, 200, "OK", NULL, NULL, answer);
  }
  g_assert_true (wait_state (call, SP_CALL_STATE_HELD, 2000));
  ok = NULL;
}

/* Our call (we chose the Call-ID): the retry waits 2.1..4 s. */
static void
test_491_retry_caller (Fixture *f, gconstpointer data)
{
  g_autoptr (SpAccount) account = peer_account (f);
  g_autoptr (SpCall) call = establish_outgoing (f, account);

  check_491 (f, call, TRUE, FALSE);
}

/* The peer's call: the retry waits 0..2 s; a second 491 gives up. */
static void
test_491_give_up_callee (Fixture *f, gconstpointer data)
{
  g_autofree char *offer = peer_sdp (1, f->rtp_port);
  g_autofree char *ok = answer_incoming (f, offer);
  g_autofree char *to = header (ok, "To");
  g_autofree char *our_tag = tag_of (to);

  peer_request (f, "ACK", 1, our_tag, NULL);
  g_assert_true (wait_state (f->incoming, SP_CALL_STATE_ESTABLISHED, 1000));
  check_491 (f, f->incoming, FALSE, TRUE);
}

/* A call someone still holds after the phone is gone, with its audio
 * running: the phone ends it on the way out ("Phone closed", no more
 * RTP), and releasing it afterwards touches nothing the phone owned (its
 * media engine). Under ASan this was a heap-use-after-free. */
static void
test_call_outlives_phone (Fixture *f, gconstpointer data)
{
  g_autofree char *offer = peer_sdp (1, f->rtp_port);
  g_autofree char *ok = answer_incoming (f, offer);
  g_autofree char *to = header (ok, "To");
  g_autofree char *our_tag = tag_of (to);
  g_autoptr (SpCall) call = NULL;
  g_autoptr (GError) error = NULL;

  peer_request (f, "ACK", 1, our_tag, NULL);
  g_assert_true (wait_state (f->incoming, SP_CALL_STATE_ESTABLISHED, 1000));
  g_assert_cmpuint (count_rtp (f->rtp, 300), >=, 5);
  call = g_steal_pointer (&f->incoming);

  g_clear_object (&f->phone);
  g_assert_cmpint (sp_call_get_state (call), ==, SP_CALL_STATE_ENDED);
  g_assert_cmpstr (sp_call_get_end_reason (call), ==, "Phone closed");
  g_assert_false (sp_call_hangup (call, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  count_rtp (f->rtp, 100); /* what was in flight */
  g_assert_cmpuint (count_rtp (f->rtp, 300), ==, 0);
  g_clear_object (&call);
  run_for (50);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/ua-call/bye-challenge-after-account-removed", Fixture, NULL, fixture_setup,
              test_bye_challenge_after_account_removed, fixture_teardown);
  g_test_add ("/ua-call/reinvite-without-sdp", Fixture, NULL, fixture_setup,
              test_reinvite_without_sdp, fixture_teardown);
  g_test_add ("/ua-call/update-offer", Fixture, NULL, fixture_setup, test_update_offer,
              fixture_teardown);
  g_test_add ("/ua-call/hangup-awaiting-ack", Fixture, NULL, fixture_setup,
              test_hangup_awaiting_ack, fixture_teardown);
  g_test_add ("/ua-call/491-retry-caller", Fixture, NULL, fixture_setup, test_491_retry_caller,
              fixture_teardown);
  g_test_add ("/ua-call/491-give-up-callee", Fixture, NULL, fixture_setup, test_491_give_up_callee,
              fixture_teardown);
  g_test_add ("/ua-call/call-outlives-phone", Fixture, NULL, fixture_setup,
              test_call_outlives_phone, fixture_teardown);
#define ADD(name, func)                                                                            \
  g_test_add ("/ua-call/" name, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("foreign-host-challenge", test_foreign_host_challenge);
  ADD ("foreign-realm-challenge", test_foreign_realm_challenge);
  ADD ("md5-without-qop", test_md5_without_qop);
  ADD ("invite-challenge-once", test_invite_challenge_once);
  ADD ("reinvite-challenge-once", test_reinvite_challenge_once);
  ADD ("bye-challenge-once", test_bye_challenge_once);
  ADD ("direct-call-no-challenge", test_direct_call_no_challenge);
  ADD ("ring-timeout", test_ring_timeout);
  ADD ("incoming-caps", test_incoming_caps);
  ADD ("refuse-strangers", test_refuse_strangers);
#undef ADD
  return g_test_run ();
}
