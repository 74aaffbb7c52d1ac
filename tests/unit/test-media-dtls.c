/* SpDtls (media/dtls.c): two endpoints in memory, the datagrams between
 * them carried by the test, so losses and reordering are the test's. */
#include <gio/gio.h>
#include <string.h>

#include "media/dtls.h"
#include "media/sas.h"

typedef struct _Wire Wire;

typedef struct
{
  Wire *wire;
  SpDtls *dtls;
  GQueue inbox; /* GBytes for this side */
  guint sent;   /* datagrams this side sent */
  gboolean established;
  GError *error;
} End;

struct _Wire
{
  End ends[2];          /* 0 = client, 1 = server */
  guint drop_mask[2];   /* bit i set: drop this side's i-th datagram (i < 32) */
  gboolean reverse;     /* deliver what is queued newest first */
  gboolean hold_server; /* keep what the client sends until released */
};

static SpSipTlsIdentity *
identity (void)
{
  const char *names[] = { "softphone", NULL };
  g_autoptr (GError) error = NULL;
  SpSipTlsIdentity *id = sp_sip_tls_identity_new_ephemeral (names, &error);

  g_assert_no_error (error);
  return id;
}

static void
on_send (SpDtls *dtls, const guint8 *data, gsize len, gpointer user_data)
{
  End *end = user_data;
  Wire *w = end->wire;
  guint side = end == &w->ends[0] ? 0 : 1;
  guint index = end->sent++;

  (void) dtls;
  g_assert_cmpuint (len, <=, SP_DTLS_MTU);
  if (index < 32 && (w->drop_mask[side] & (1u << index)))
    return;
  g_queue_push_tail (&w->ends[1 - side].inbox, g_bytes_new (data, len));
}

static void
on_established (SpDtls *dtls, gpointer user_data)
{
  End *end = user_data;

  (void) dtls;
  g_assert_false (end->established);
  end->established = TRUE;
}

static void
on_failed (SpDtls *dtls, const GError *error, gpointer user_data)
{
  End *end = user_data;

  (void) dtls;
  g_assert_null (end->error);
  end->error = g_error_copy (error);
}

static const SpDtlsCallbacks callbacks = { on_send, on_established, on_failed };

static void
wire_init (Wire *w, SpSipTlsIdentity *client_id, SpSipTlsIdentity *server_id)
{
  g_autoptr (GError) error = NULL;

  memset (w, 0, sizeof *w);
  for (guint i = 0; i < 2; i++)
    {
      w->ends[i].wire = w;
      g_queue_init (&w->ends[i].inbox);
    }
  w->ends[0].dtls = sp_dtls_new (client_id, SP_DTLS_ROLE_CLIENT, &callbacks, &w->ends[0], &error);
  g_assert_no_error (error);
  w->ends[1].dtls = sp_dtls_new (server_id, SP_DTLS_ROLE_SERVER, &callbacks, &w->ends[1], &error);
  g_assert_no_error (error);
}

static void
wire_clear (Wire *w)
{
  /* First both (a free sends a close_notify to the other's inbox). */
  for (guint i = 0; i < 2; i++)
    g_clear_pointer (&w->ends[i].dtls, sp_dtls_free);
  for (guint i = 0; i < 2; i++)
    {
      g_queue_clear_full (&w->ends[i].inbox, (GDestroyNotify) g_bytes_unref);
      g_clear_error (&w->ends[i].error);
    }
}

static void
tell_fingerprints (Wire *w, SpSipTlsIdentity *client_id, SpSipTlsIdentity *server_id)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (sp_dtls_set_remote_fingerprint (
      w->ends[0].dtls, "sha-256", sp_sip_tls_identity_get_fingerprint (server_id), &error));
  g_assert_true (sp_dtls_set_remote_fingerprint (
      w->ends[1].dtls, "SHA-256", sp_sip_tls_identity_get_fingerprint (client_id), &error));
  g_assert_no_error (error);
}

/* Delivers what is queued, once, in order (or newest first). */
static gboolean
deliver (Wire *w)
{
  gboolean any = FALSE;

  for (guint i = 0; i < 2; i++)
    {
      End *end = &w->ends[i];
      if (i == 1 && w->hold_server)
        continue;
      while (!g_queue_is_empty (&end->inbox) && end->dtls != NULL)
        {
          g_autoptr (GBytes) b =
              w->reverse ? g_queue_pop_tail (&end->inbox) : g_queue_pop_head (&end->inbox);
          gsize len;
          const guint8 *data = g_bytes_get_data (b, &len);
          sp_dtls_receive (end->dtls, data, len);
          any = TRUE;
        }
    }
  return any;
}

static gboolean
done (Wire *w)
{
  return (w->ends[0].established || w->ends[0].error) &&
         (w->ends[1].established || w->ends[1].error);
}

static gboolean
on_give_up (gpointer data)
{
  gboolean *flag = data;

  *flag = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs until both ends are established or failed, or @seconds pass. */
static void
run (Wire *w, guint seconds)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (seconds, on_give_up, &timed_out);

  while (!done (w) && !timed_out)
    if (!deliver (w))
      g_main_context_iteration (NULL, TRUE);
  deliver (w);
  if (!timed_out)
    g_source_remove (id);
}

static void
assert_keys_match (Wire *w)
{
  SpDtlsSrtpKeys a, b;

  g_assert_true (sp_dtls_get_srtp_keys (w->ends[0].dtls, &a));
  g_assert_true (sp_dtls_get_srtp_keys (w->ends[1].dtls, &b));
  g_assert_cmpint (a.profile, ==, b.profile);
  g_assert_cmpint (a.profile, ==, SP_DTLS_SRTP_AES128_CM_HMAC_SHA1_80);
  g_assert_cmpuint (a.local_len, ==, 30);
  g_assert_cmpmem (a.local, a.local_len, b.remote, b.remote_len);
  g_assert_cmpmem (a.remote, a.remote_len, b.local, b.local_len);
  g_assert_true (memcmp (a.local, a.remote, a.local_len) != 0);
}

static void
test_handshake (void)
{
  g_autoptr (SpSipTlsIdentity) cid = identity ();
  g_autoptr (SpSipTlsIdentity) sid = identity ();
  Wire w;
  g_autofree char *sas_client = NULL;
  g_autofree char *sas_server = NULL;

  wire_init (&w, cid, sid);
  tell_fingerprints (&w, cid, sid);
  sp_dtls_start (w.ends[1].dtls);
  sp_dtls_start (w.ends[0].dtls);
  run (&w, 10);
  g_assert_no_error (w.ends[0].error);
  g_assert_no_error (w.ends[1].error);
  g_assert_true (w.ends[0].established && w.ends[1].established);
  assert_keys_match (&w);
  /* What each saw of the other is what the other holds: equal SAS. */
  g_assert_cmpstr (sp_dtls_get_peer_fingerprint (w.ends[0].dtls), ==,
                   sp_sip_tls_identity_get_fingerprint (sid));
  g_assert_cmpstr (sp_dtls_get_peer_fingerprint (w.ends[1].dtls), ==,
                   sp_sip_tls_identity_get_fingerprint (cid));
  sas_client = sp_sas_compute (sp_dtls_get_local_fingerprint (w.ends[0].dtls),
                               sp_dtls_get_peer_fingerprint (w.ends[0].dtls));
  sas_server = sp_sas_compute (sp_dtls_get_local_fingerprint (w.ends[1].dtls),
                               sp_dtls_get_peer_fingerprint (w.ends[1].dtls));
  g_assert_nonnull (sas_client);
  g_assert_cmpstr (sas_client, ==, sas_server);
  wire_clear (&w);
}

/* The client's ClientHello and the server's first flight are lost, then
 * the client's last flight: the retransmission timers bring them again. */
static void
test_lost_datagrams (void)
{
  g_autoptr (SpSipTlsIdentity) cid = identity ();
  g_autoptr (SpSipTlsIdentity) sid = identity ();
  Wire w;
  gint64 start = g_get_monotonic_time ();

  wire_init (&w, cid, sid);
  tell_fingerprints (&w, cid, sid);
  w.drop_mask[0] = 0x1 | 0x8; /* first ClientHello, and a later datagram */
  w.drop_mask[1] = 0x1;       /* the server's first datagram */
  sp_dtls_start (w.ends[1].dtls);
  sp_dtls_start (w.ends[0].dtls);
  run (&w, 15);
  g_assert_no_error (w.ends[0].error);
  g_assert_no_error (w.ends[1].error);
  g_assert_true (w.ends[0].established && w.ends[1].established);
  assert_keys_match (&w);
  /* Losses cost retransmission time (1 s at least). */
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 900 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpuint (w.ends[0].sent, >, 2);
  wire_clear (&w);
}

/* Datagrams of a flight delivered newest first. */
static void
test_reordered (void)
{
  g_autoptr (SpSipTlsIdentity) cid = identity ();
  g_autoptr (SpSipTlsIdentity) sid = identity ();
  Wire w;

  wire_init (&w, cid, sid);
  tell_fingerprints (&w, cid, sid);
  w.reverse = TRUE;
  sp_dtls_start (w.ends[1].dtls);
  sp_dtls_start (w.ends[0].dtls);
  run (&w, 15);
  g_assert_no_error (w.ends[0].error);
  g_assert_no_error (w.ends[1].error);
  assert_keys_match (&w);
  wire_clear (&w);
}

/* The server's SDP named another certificate than the one it presents
 * (someone in the middle replaced it): the client refuses, nobody gets
 * keys, the reason says what happened. */
static void
test_wrong_fingerprint (void)
{
  g_autoptr (SpSipTlsIdentity) cid = identity ();
  g_autoptr (SpSipTlsIdentity) sid = identity ();
  g_autoptr (SpSipTlsIdentity) other = identity ();
  g_autoptr (GError) error = NULL;
  SpDtlsSrtpKeys keys;
  Wire w;

  wire_init (&w, cid, sid);
  g_assert_true (sp_dtls_set_remote_fingerprint (
      w.ends[0].dtls, "sha-256", sp_sip_tls_identity_get_fingerprint (other), &error));
  g_assert_true (sp_dtls_set_remote_fingerprint (
      w.ends[1].dtls, "sha-256", sp_sip_tls_identity_get_fingerprint (cid), &error));
  sp_dtls_start (w.ends[1].dtls);
  sp_dtls_start (w.ends[0].dtls);
  run (&w, 25);
  g_assert_nonnull (w.ends[0].error);
  g_assert_nonnull (strstr (w.ends[0].error->message, "does not match the fingerprint"));
  g_assert_false (w.ends[0].established);
  g_assert_false (w.ends[1].established);
  g_assert_nonnull (w.ends[1].error);
  g_assert_false (sp_dtls_get_srtp_keys (w.ends[0].dtls, &keys));
  g_assert_false (sp_dtls_get_srtp_keys (w.ends[1].dtls, &keys));
  wire_clear (&w);
}

/* The client's SDP fingerprint reaches the server only after the
 * handshake (an answer slower than the media): no keys until then, and
 * a wrong one then still fails. */
static void
test_late_fingerprint (void)
{
  g_autoptr (SpSipTlsIdentity) cid = identity ();
  g_autoptr (SpSipTlsIdentity) sid = identity ();
  g_autoptr (SpSipTlsIdentity) other = identity ();
  g_autoptr (GError) error = NULL;
  SpDtlsSrtpKeys keys;
  Wire w;

  for (guint wrong = 0; wrong < 2; wrong++)
    {
      wire_init (&w, cid, sid);
      g_assert_true (sp_dtls_set_remote_fingerprint (
          w.ends[0].dtls, "sha-256", sp_sip_tls_identity_get_fingerprint (sid), &error));
      sp_dtls_start (w.ends[1].dtls);
      sp_dtls_start (w.ends[0].dtls);
      for (guint i = 0; i < 50 && !w.ends[0].established; i++)
        if (!deliver (&w))
          g_main_context_iteration (NULL, FALSE);
      g_assert_true (w.ends[0].established);
      g_assert_false (w.ends[1].established);
      g_assert_false (sp_dtls_get_srtp_keys (w.ends[1].dtls, &keys));
      g_assert_true (sp_dtls_set_remote_fingerprint (
          w.ends[1].dtls, "sha-256", sp_sip_tls_identity_get_fingerprint (wrong ? other : cid),
          &error));
      g_assert_no_error (error);
      if (wrong)
        {
          g_assert_nonnull (w.ends[1].error);
          g_assert_false (w.ends[1].established);
        }
      else
        {
          g_assert_true (w.ends[1].established);
          assert_keys_match (&w);
        }
      wire_clear (&w);
    }
}

static void
test_bad_fingerprint_text (void)
{
  g_autoptr (SpSipTlsIdentity) cid = identity ();
  g_autoptr (SpDtls) d = sp_dtls_new (cid, SP_DTLS_ROLE_CLIENT, &callbacks, NULL, NULL);
  const char *bad[][2] = {
    { "md5", "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89" },
    { "sha-256", "AB:CD" },
    { "sha-256", "" },
    { "sha-256", "zz:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:"
                 "EF:01:23:45:67:89" },
    { "sha-256", "AB::CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:"
                 "EF:01:23:45:67" },
    { "sha-1", "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_false (sp_dtls_set_remote_fingerprint (d, bad[i][0], bad[i][1], &error));
      g_assert_nonnull (error);
    }
  g_assert_true (sp_dtls_set_remote_fingerprint (d, "sha-256",
                                                 sp_sip_tls_identity_get_fingerprint (cid), NULL));
}

/* Junk that looks like DTLS (first byte 20..63), and junk that does not,
 * thrown at both ends before, during and after a handshake: nothing
 * crashes, nothing leaks (ASan), and a handshake still completes. */
static void
test_garbage (void)
{
  g_autoptr (SpSipTlsIdentity) cid = identity ();
  g_autoptr (SpSipTlsIdentity) sid = identity ();
  g_autoptr (GRand) rand = g_rand_new_with_seed (16);
  guint8 junk[1500];
  Wire w;

  wire_init (&w, cid, sid);
  tell_fingerprints (&w, cid, sid);
  sp_dtls_start (w.ends[1].dtls);
  /* Before the client speaks: junk that is not a valid record (bad
   * version or length) must not end the server's handshake. */
  for (guint i = 0; i < 200; i++)
    {
      gsize len = g_rand_int_range (rand, 0, sizeof junk);
      for (gsize j = 0; j < len; j++)
        junk[j] = (guint8) g_rand_int (rand);
      if (len > 0)
        junk[0] = (guint8) g_rand_int_range (rand, 0, 256);
      if (len > 3)
        junk[1] = 0x00; /* no DTLS version: dropped as a record */
      sp_dtls_receive (w.ends[i % 2].dtls, junk, len);
    }
  g_assert_null (w.ends[1].error);
  sp_dtls_start (w.ends[0].dtls);
  run (&w, 10);
  g_assert_no_error (w.ends[0].error);
  g_assert_no_error (w.ends[1].error);
  assert_keys_match (&w);
  /* After: records with DTLS's version and random epochs and lengths. */
  for (guint i = 0; i < 2000; i++)
    {
      gsize len = g_rand_int_range (rand, 13, sizeof junk);
      for (gsize j = 0; j < len; j++)
        junk[j] = (guint8) g_rand_int (rand);
      junk[0] = (guint8) g_rand_int_range (rand, 20, 64);
      junk[1] = 0xfe;
      junk[2] = 0xfd;
      sp_dtls_receive (w.ends[i % 2].dtls, junk, len);
    }
  deliver (&w);
  assert_keys_match (&w);
  wire_clear (&w);

  /* Junk with DTLS's version during a handshake, at the server before the
   * ClientHello: the handshake completes or fails with a reason; no crash. */
  wire_init (&w, cid, sid);
  tell_fingerprints (&w, cid, sid);
  sp_dtls_start (w.ends[1].dtls);
  for (guint i = 0; i < 500; i++)
    {
      gsize len = g_rand_int_range (rand, 13, 300);
      for (gsize j = 0; j < len; j++)
        junk[j] = (guint8) g_rand_int (rand);
      junk[0] = 22;
      junk[1] = 0xfe;
      junk[2] = 0xfd;
      sp_dtls_receive (w.ends[1].dtls, junk, len);
    }
  sp_dtls_start (w.ends[0].dtls);
  run (&w, 25);
  g_assert_true (done (&w));
  wire_clear (&w);
}

static void
test_setup_roles (void)
{
  SpDtlsRole role;

  g_assert_cmpint (sp_dtls_setup_from_string ("ACTPASS"), ==, SP_DTLS_SETUP_ACTPASS);
  g_assert_cmpint (sp_dtls_setup_from_string ("bogus"), ==, SP_DTLS_SETUP_NONE);
  g_assert_cmpint (sp_dtls_setup_answer (SP_DTLS_SETUP_ACTPASS), ==, SP_DTLS_SETUP_ACTIVE);
  g_assert_cmpint (sp_dtls_setup_answer (SP_DTLS_SETUP_ACTIVE), ==, SP_DTLS_SETUP_PASSIVE);
  g_assert_cmpint (sp_dtls_setup_answer (SP_DTLS_SETUP_PASSIVE), ==, SP_DTLS_SETUP_ACTIVE);
  g_assert_cmpint (sp_dtls_setup_answer (SP_DTLS_SETUP_HOLDCONN), ==, SP_DTLS_SETUP_NONE);
  /* Offerer actpass, answerer active: the offerer is the server. */
  g_assert_true (sp_dtls_role_for (SP_DTLS_SETUP_ACTPASS, SP_DTLS_SETUP_ACTIVE, &role));
  g_assert_cmpint (role, ==, SP_DTLS_ROLE_SERVER);
  g_assert_true (sp_dtls_role_for (SP_DTLS_SETUP_ACTIVE, SP_DTLS_SETUP_ACTPASS, &role));
  g_assert_cmpint (role, ==, SP_DTLS_ROLE_CLIENT);
  g_assert_true (sp_dtls_role_for (SP_DTLS_SETUP_ACTPASS, SP_DTLS_SETUP_PASSIVE, &role));
  g_assert_cmpint (role, ==, SP_DTLS_ROLE_CLIENT);
  g_assert_true (sp_dtls_role_for (SP_DTLS_SETUP_ACTPASS, SP_DTLS_SETUP_NONE, &role));
  g_assert_cmpint (role, ==, SP_DTLS_ROLE_SERVER);
  g_assert_true (sp_dtls_role_for (SP_DTLS_SETUP_PASSIVE, SP_DTLS_SETUP_ACTPASS, &role));
  g_assert_cmpint (role, ==, SP_DTLS_ROLE_SERVER);
  /* Their offer without a=setup (active, RFC 4145 4), answered passive. */
  g_assert_true (sp_dtls_role_for (SP_DTLS_SETUP_PASSIVE, SP_DTLS_SETUP_NONE, &role));
  g_assert_cmpint (role, ==, SP_DTLS_ROLE_SERVER);
  g_assert_false (sp_dtls_role_for (SP_DTLS_SETUP_ACTIVE, SP_DTLS_SETUP_NONE, &role));
  g_assert_false (sp_dtls_role_for (SP_DTLS_SETUP_ACTIVE, SP_DTLS_SETUP_ACTIVE, &role));
  g_assert_false (sp_dtls_role_for (SP_DTLS_SETUP_PASSIVE, SP_DTLS_SETUP_PASSIVE, &role));
  g_assert_false (sp_dtls_role_for (SP_DTLS_SETUP_ACTPASS, SP_DTLS_SETUP_HOLDCONN, &role));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/media/dtls/handshake", test_handshake);
  g_test_add_func ("/media/dtls/lost-datagrams", test_lost_datagrams);
  g_test_add_func ("/media/dtls/reordered", test_reordered);
  g_test_add_func ("/media/dtls/wrong-fingerprint", test_wrong_fingerprint);
  g_test_add_func ("/media/dtls/late-fingerprint", test_late_fingerprint);
  g_test_add_func ("/media/dtls/bad-fingerprint-text", test_bad_fingerprint_text);
  g_test_add_func ("/media/dtls/garbage", test_garbage);
  g_test_add_func ("/media/dtls/setup-roles", test_setup_roles);
  return g_test_run ();
}
