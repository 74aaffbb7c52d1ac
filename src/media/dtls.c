#include "media/dtls.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/dtls.h>
#include <gnutls/gnutls.h>
#include <string.h>

#include "i18n.h"
#include "media/error.h"

/* DTLS 1.2 only (RFC 5764 needs use_srtp; 1.0 is obsolete, RFC 8996). */
#define PRIORITY "NORMAL:-VERS-ALL:+VERS-DTLS1.2"
/* Debian 12's GnuTLS (3.7.9) knows the two AES-CM profiles only: its
 * use_srtp has no SRTP_AEAD_AES_128_GCM (RFC 7714), which SDES still
 * offers. _80 first, as RFC 5764 recommends. */
#define PROFILES "SRTP_AES128_CM_HMAC_SHA1_80:SRTP_AES128_CM_HMAC_SHA1_32"
/* First retransmission after 1 s, doubling (RFC 6347 4.2.4.1). */
#define RETRANS_MS 1000
/* Bytes of datagrams waiting for GnuTLS at most. */
#define MAX_QUEUED_BYTES (256 * 1024)
#define MAX_DIGEST       64 /* SHA-512 */

typedef enum
{
  STATE_NEW,
  STATE_HANDSHAKE,
  STATE_DONE_UNVERIFIED, /* handshake over, the SDP's fingerprint not here yet */
  STATE_ESTABLISHED,
  STATE_FAILED,
} State;

/* Handshake types 0..20 (RFC 6347 4.3.2): finished is the highest. */
#define HANDSHAKE_TYPES 21

struct _SpDtls
{
  gnutls_session_t session;
  SpSipTlsIdentity *identity;
  SpDtlsRole role;
  SpDtlsCallbacks callbacks;
  gpointer user_data;
  GMainContext *context;
  State state;

  GQueue incoming; /* GBytes, oldest first */
  gsize queued_bytes;
  GSource *retransmit;
  GSource *deadline;

  /* a=fingerprint of the peer's SDP. */
  gnutls_digest_algorithm_t remote_algorithm;
  guint8 remote_digest[MAX_DIGEST];
  gsize remote_digest_len;
  char *peer_fingerprint; /* SHA-256 of the certificate it presented */
  gnutls_datum_t peer_certificate;

  SpDtlsSrtpKeys keys;
  char *failure; /* why the verify function refused, for the error */

  /* The message length each plaintext handshake type arrived with, by
   * type (bit set in handshake_seen once one did): see
   * handshake_fragments_ok (). */
  guint32 handshake_len[HANDSHAKE_TYPES];
  guint32 handshake_seen;
};

/* ---- setup and profiles ---- */

SpDtlsSetup
sp_dtls_setup_from_string (const char *text)
{
  if (text == NULL)
    return SP_DTLS_SETUP_NONE;
  if (g_ascii_strcasecmp (text, "actpass") == 0)
    return SP_DTLS_SETUP_ACTPASS;
  if (g_ascii_strcasecmp (text, "active") == 0)
    return SP_DTLS_SETUP_ACTIVE;
  if (g_ascii_strcasecmp (text, "passive") == 0)
    return SP_DTLS_SETUP_PASSIVE;
  if (g_ascii_strcasecmp (text, "holdconn") == 0)
    return SP_DTLS_SETUP_HOLDCONN;
  return SP_DTLS_SETUP_NONE;
}

const char *
sp_dtls_setup_to_string (SpDtlsSetup setup)
{
  switch (setup)
    {
      case SP_DTLS_SETUP_ACTPASS:
        return "actpass";
      case SP_DTLS_SETUP_ACTIVE:
        return "active";
      case SP_DTLS_SETUP_PASSIVE:
        return "passive";
      case SP_DTLS_SETUP_HOLDCONN:
        return "holdconn";
      default:
        return NULL;
    }
}

SpDtlsSetup
sp_dtls_setup_answer (SpDtlsSetup offered)
{
  switch (offered)
    {
      case SP_DTLS_SETUP_ACTPASS:
      case SP_DTLS_SETUP_PASSIVE:
        return SP_DTLS_SETUP_ACTIVE;
      case SP_DTLS_SETUP_ACTIVE:
        return SP_DTLS_SETUP_PASSIVE;
      default:
        return SP_DTLS_SETUP_NONE;
    }
}

gboolean
sp_dtls_role_for (SpDtlsSetup local, SpDtlsSetup remote, SpDtlsRole *role)
{
  /* No a=setup from the peer means active (RFC 4145 4): in the answer to
   * our actpass offer, and in an offer we answered passive. */
  if ((local == SP_DTLS_SETUP_ACTPASS || local == SP_DTLS_SETUP_PASSIVE) &&
      remote == SP_DTLS_SETUP_NONE)
    remote = SP_DTLS_SETUP_ACTIVE;
  if (local == SP_DTLS_SETUP_ACTIVE &&
      (remote == SP_DTLS_SETUP_PASSIVE || remote == SP_DTLS_SETUP_ACTPASS))
    *role = SP_DTLS_ROLE_CLIENT;
  else if ((local == SP_DTLS_SETUP_PASSIVE || local == SP_DTLS_SETUP_ACTPASS) &&
           remote == SP_DTLS_SETUP_ACTIVE)
    *role = SP_DTLS_ROLE_SERVER;
  /* Our passive answer to an actpass re-offer (the role kept, RFC 8842). */
  else if (local == SP_DTLS_SETUP_PASSIVE && remote == SP_DTLS_SETUP_ACTPASS)
    *role = SP_DTLS_ROLE_SERVER;
  else if (local == SP_DTLS_SETUP_ACTPASS && remote == SP_DTLS_SETUP_PASSIVE)
    *role = SP_DTLS_ROLE_CLIENT;
  else
    return FALSE;
  return TRUE;
}

const char *
sp_dtls_srtp_profile_name (SpDtlsSrtpProfile profile)
{
  switch (profile)
    {
      case SP_DTLS_SRTP_AES128_CM_HMAC_SHA1_80:
        return "SRTP_AES128_CM_HMAC_SHA1_80";
      case SP_DTLS_SRTP_AES128_CM_HMAC_SHA1_32:
        return "SRTP_AES128_CM_HMAC_SHA1_32";
      case SP_DTLS_SRTP_AEAD_AES_128_GCM:
        return "SRTP_AEAD_AES_128_GCM";
      default:
        return "none";
    }
}

/* ---- helpers ---- */

static char *
format_fingerprint (const guint8 *digest, gsize len)
{
  GString *s = g_string_sized_new (len * 3);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (s, "%s%02X", i ? ":" : "", digest[i]);
  return g_string_free (s, FALSE);
}

static char *
sha256_fingerprint (const gnutls_datum_t *der)
{
  guint8 digest[32];

  if (gnutls_hash_fast (GNUTLS_DIG_SHA256, der->data, der->size, digest) < 0)
    return NULL;
  return format_fingerprint (digest, sizeof digest);
}

static gnutls_digest_algorithm_t
algorithm_from_name (const char *name)
{
  static const struct
  {
    const char *name;
    gnutls_digest_algorithm_t algorithm;
  } table[] = {
    { "sha-1", GNUTLS_DIG_SHA1 },     { "sha-224", GNUTLS_DIG_SHA224 },
    { "sha-256", GNUTLS_DIG_SHA256 }, { "sha-384", GNUTLS_DIG_SHA384 },
    { "sha-512", GNUTLS_DIG_SHA512 },
  };

  for (guint i = 0; name != NULL && i < G_N_ELEMENTS (table); i++)
    if (g_ascii_strcasecmp (name, table[i].name) == 0)
      return table[i].algorithm;
  return GNUTLS_DIG_UNKNOWN;
}

static void
stop_timer (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

static void
clear_queue (SpDtls *d)
{
  g_queue_clear_full (&d->incoming, (GDestroyNotify) g_bytes_unref);
  d->queued_bytes = 0;
}

/* Ends the handshake for good and says why. Last thing a caller does:
 * the owner may free @d in the callback. */
static void
fail (SpDtls *d, const char *reason)
{
  g_autoptr (GError) error = NULL;

  if (d->state == STATE_FAILED || d->state == STATE_ESTABLISHED)
    return;
  d->state = STATE_FAILED;
  stop_timer (&d->retransmit);
  stop_timer (&d->deadline);
  clear_queue (d);
  gnutls_memset (&d->keys, 0, sizeof d->keys);
  error = g_error_new_literal (SP_MEDIA_ERROR, SP_MEDIA_ERROR_FAILED, reason);
  g_debug ("DTLS: %s", reason);
  if (d->callbacks.failed != NULL)
    d->callbacks.failed (d, error, d->user_data);
}

/* Does the certificate the peer presented hash to its SDP's fingerprint?
 * NULL when it does, else the reason. */
static char *
check_fingerprint (SpDtls *d)
{
  guint8 digest[MAX_DIGEST];
  unsigned len = gnutls_hash_get_len (d->remote_algorithm);

  if (d->peer_certificate.data == NULL)
    return g_strdup (_ ("the peer presented no certificate"));
  if (len == 0 || len > sizeof digest || len != d->remote_digest_len ||
      gnutls_hash_fast (d->remote_algorithm, d->peer_certificate.data, d->peer_certificate.size,
                        digest) < 0)
    return g_strdup (_ ("the peer's fingerprint cannot be checked"));
  if (gnutls_memcmp (digest, d->remote_digest, len) != 0)
    {
      g_autofree char *expected = format_fingerprint (d->remote_digest, d->remote_digest_len);
      g_autofree char *got = format_fingerprint (digest, len);
      /* Translators: two certificate fingerprints (hex). */
      return g_strdup_printf (
          _ ("the peer's certificate does not match the fingerprint in its "
             "call's signalling (%s %s); it presented %s: someone may be in the middle"),
          gnutls_digest_get_name (d->remote_algorithm), expected, got);
    }
  return NULL;
}

static gboolean
export_keys (SpDtls *d)
{
  gnutls_srtp_profile_t profile = 0;
  gnutls_datum_t client_key, client_salt, server_key, server_salt;
  guint8 material[2 * SP_DTLS_MAX_KEY_SALT];
  int ret;

  if (gnutls_srtp_get_selected_profile (d->session, &profile) < 0)
    return FALSE;
  switch (profile)
    {
      case GNUTLS_SRTP_AES128_CM_HMAC_SHA1_80:
        d->keys.profile = SP_DTLS_SRTP_AES128_CM_HMAC_SHA1_80;
        break;
      case GNUTLS_SRTP_AES128_CM_HMAC_SHA1_32:
        d->keys.profile = SP_DTLS_SRTP_AES128_CM_HMAC_SHA1_32;
        break;
      default:
        return FALSE;
    }
  ret = gnutls_srtp_get_keys (d->session, material, sizeof material, &client_key, &client_salt,
                              &server_key, &server_salt);
  if (ret < 0 || client_key.size + client_salt.size > SP_DTLS_MAX_KEY_SALT ||
      server_key.size + server_salt.size > SP_DTLS_MAX_KEY_SALT)
    {
      gnutls_memset (material, 0, sizeof material);
      return FALSE;
    }
  {
    const gnutls_datum_t *lk = d->role == SP_DTLS_ROLE_CLIENT ? &client_key : &server_key;
    const gnutls_datum_t *ls = d->role == SP_DTLS_ROLE_CLIENT ? &client_salt : &server_salt;
    const gnutls_datum_t *rk = d->role == SP_DTLS_ROLE_CLIENT ? &server_key : &client_key;
    const gnutls_datum_t *rs = d->role == SP_DTLS_ROLE_CLIENT ? &server_salt : &client_salt;
    memcpy (d->keys.local, lk->data, lk->size);
    memcpy (d->keys.local + lk->size, ls->data, ls->size);
    d->keys.local_len = lk->size + ls->size;
    memcpy (d->keys.remote, rk->data, rk->size);
    memcpy (d->keys.remote + rk->size, rs->data, rs->size);
    d->keys.remote_len = rk->size + rs->size;
  }
  gnutls_memset (material, 0, sizeof material);
  return TRUE;
}

/* The handshake is over and the fingerprint known: check, then tell. */
static void
finish (SpDtls *d)
{
  g_autofree char *reason = check_fingerprint (d);

  if (reason != NULL)
    {
      gnutls_alert_send (d->session, GNUTLS_AL_FATAL, GNUTLS_A_BAD_CERTIFICATE);
      fail (d, reason);
      return;
    }
  if (!export_keys (d))
    {
      fail (d, _ ("the DTLS handshake agreed on no SRTP protection profile"));
      return;
    }
  d->state = STATE_ESTABLISHED;
  stop_timer (&d->deadline);
  g_debug ("DTLS: established as %s, %s", d->role == SP_DTLS_ROLE_CLIENT ? "client" : "server",
           sp_dtls_srtp_profile_name (d->keys.profile));
  if (d->callbacks.established != NULL)
    d->callbacks.established (d, d->user_data);
}

/* ---- GnuTLS transport: datagrams through the owner ---- */

static ssize_t
push (gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
  SpDtls *d = ptr;

  if (d->callbacks.send != NULL)
    d->callbacks.send (d, data, len, d->user_data);
  return (ssize_t) len;
}

static ssize_t
pull (gnutls_transport_ptr_t ptr, void *buffer, size_t size)
{
  SpDtls *d = ptr;
  g_autoptr (GBytes) bytes = g_queue_pop_head (&d->incoming);
  gsize len;
  const void *data;

  if (bytes == NULL)
    {
      gnutls_transport_set_errno (d->session, EAGAIN);
      return -1;
    }
  data = g_bytes_get_data (bytes, &len);
  d->queued_bytes -= len;
  len = MIN (len, size); /* a datagram larger than GnuTLS asks for is cut, as recv () would */
  memcpy (buffer, data, len);
  return (ssize_t) len;
}

static int
pull_timeout (gnutls_transport_ptr_t ptr, unsigned ms)
{
  SpDtls *d = ptr;

  (void) ms; /* never blocks: the main loop calls again */
  return g_queue_is_empty (&d->incoming) ? 0 : 1;
}

/* Called by GnuTLS when the peer's certificate arrives. */
static int
verify (gnutls_session_t session)
{
  SpDtls *d = gnutls_session_get_ptr (session);
  unsigned n = 0;
  const gnutls_datum_t *certs = gnutls_certificate_get_peers (session, &n);

  if (certs == NULL || n == 0)
    {
      g_free (d->failure);
      d->failure = g_strdup (_ ("the peer presented no certificate"));
      return -1;
    }
  g_free (d->peer_certificate.data);
  d->peer_certificate.data = g_memdup2 (certs[0].data, certs[0].size);
  d->peer_certificate.size = certs[0].size;
  g_free (d->peer_fingerprint);
  d->peer_fingerprint = sha256_fingerprint (&certs[0]);
  /* The SDP's fingerprint may come after the handshake: finish () checks
   * then, before any key is given out. */
  if (d->remote_digest_len > 0)
    {
      g_free (d->failure);
      d->failure = check_fingerprint (d);
      if (d->failure != NULL)
        return -1;
    }
  return 0;
}

/* ---- the handshake ---- */

static void step (SpDtls *d);

static gboolean
on_retransmit (gpointer data)
{
  SpDtls *d = data;

  g_clear_pointer (&d->retransmit, g_source_unref);
  step (d);
  return G_SOURCE_REMOVE;
}

static gboolean
on_deadline (gpointer data)
{
  SpDtls *d = data;

  g_clear_pointer (&d->deadline, g_source_unref);
  fail (d, d->state == STATE_DONE_UNVERIFIED
               ? _ ("the peer's fingerprint never came: the call is not protected")
               : _ ("no DTLS handshake with the peer within 20 seconds"));
  return G_SOURCE_REMOVE;
}

static void
arm_retransmit (SpDtls *d)
{
  unsigned ms = gnutls_dtls_get_timeout (d->session);

  stop_timer (&d->retransmit);
  d->retransmit = g_timeout_source_new (MAX (ms, 1u));
  g_source_set_callback (d->retransmit, on_retransmit, d, NULL);
  g_source_attach (d->retransmit, d->context);
}

static char *
handshake_error (SpDtls *d, int ret)
{
  if (d->failure != NULL)
    return g_strdup (d->failure);
  if (ret == GNUTLS_E_FATAL_ALERT_RECEIVED)
    /* Translators: %s is a TLS alert such as "Bad certificate". */
    return g_strdup_printf (_ ("the peer refused the DTLS handshake: %s"),
                            gnutls_alert_get_name (gnutls_alert_get (d->session)));
  if (ret == GNUTLS_E_TIMEDOUT)
    return g_strdup (_ ("no DTLS handshake with the peer within 20 seconds"));
  if (ret == GNUTLS_E_NO_COMMON_KEY_SHARE || ret == GNUTLS_E_UNKNOWN_CIPHER_SUITE ||
      ret == GNUTLS_E_NO_CIPHER_SUITES)
    return g_strdup_printf (_ ("the peer has no DTLS-SRTP settings in common with us: %s"),
                            gnutls_strerror (ret));
  return g_strdup_printf (_ ("the DTLS handshake failed: %s"), gnutls_strerror (ret));
}

/* After the handshake GnuTLS still reads the peer's datagrams: a
 * retransmitted last flight of the peer (ours was lost) is answered by
 * retransmitting ours, and an alert (close_notify) is seen. No DTLS
 * application data is used by DTLS-SRTP: anything read is dropped. */
static void
drain_after_handshake (SpDtls *d)
{
  guint8 buffer[2048];

  while (!g_queue_is_empty (&d->incoming))
    {
      ssize_t n = gnutls_record_recv (d->session, buffer, sizeof buffer);
      if (n == 0)
        {
          g_debug ("DTLS: the peer closed the association");
          clear_queue (d);
          return;
        }
      if (n < 0 && n != GNUTLS_E_AGAIN && n != GNUTLS_E_INTERRUPTED)
        g_debug ("DTLS: after the handshake: %s", gnutls_strerror ((int) n));
    }
}

static void
step (SpDtls *d)
{
  int ret;

  if (d->state == STATE_DONE_UNVERIFIED || d->state == STATE_ESTABLISHED)
    {
      drain_after_handshake (d);
      return;
    }
  if (d->state != STATE_HANDSHAKE)
    return;
  /* Until GnuTLS has read every queued datagram, and once more after the
   * call that took the last one: GnuTLS may stop with AGAIN after reading
   * a flight's last record and finish only when called again, which
   * would otherwise wait for the retransmission timer (a second).
   * Bounded: each round reads a datagram, or it is the last. */
  for (guint round = 0;; round++)
    {
      guint before = g_queue_get_length (&d->incoming);
      ret = gnutls_handshake (d->session);
      if (ret >= 0 || gnutls_error_is_fatal (ret) || before == 0 || round > SP_DTLS_MAX_QUEUED + 1)
        break;
    }
  if (ret == GNUTLS_E_SUCCESS)
    {
      stop_timer (&d->retransmit);
      d->state = STATE_DONE_UNVERIFIED;
      /* The server's last flight may be lost: the client's retransmission
       * of its Finished is answered from drain_after_handshake (). */
      if (!g_queue_is_empty (&d->incoming))
        drain_after_handshake (d);
      if (d->remote_digest_len > 0)
        finish (d);
      return;
    }
  if (ret == GNUTLS_E_AGAIN || !gnutls_error_is_fatal (ret))
    {
      arm_retransmit (d);
      return;
    }
  {
    g_autofree char *reason = handshake_error (d, ret);
    /* GnuTLS does not tell the peer when our verify function refused
     * its certificate: without this the peer would wait for its
     * deadline. */
    if (d->failure != NULL)
      gnutls_alert_send (d->session, GNUTLS_AL_FATAL, GNUTLS_A_BAD_CERTIFICATE);
    fail (d, reason);
  }
}

/* ---- public ---- */

SpDtls *
sp_dtls_new (SpSipTlsIdentity *identity, SpDtlsRole role, const SpDtlsCallbacks *callbacks,
             gpointer user_data, GError **error)
{
  SpDtls *d;
  unsigned flags =
      GNUTLS_DATAGRAM | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL |
      (role == SP_DTLS_ROLE_CLIENT ? GNUTLS_CLIENT | GNUTLS_FORCE_CLIENT_CERT : GNUTLS_SERVER);
  int ret;

  g_return_val_if_fail (identity != NULL && callbacks != NULL, NULL);
  d = g_new0 (SpDtls, 1);
  d->identity = sp_sip_tls_identity_ref (identity);
  d->role = role;
  d->callbacks = *callbacks;
  d->user_data = user_data;
  d->context = g_main_context_ref_thread_default ();
  g_queue_init (&d->incoming);
  if ((ret = gnutls_init (&d->session, flags)) < 0 ||
      (ret = gnutls_priority_set_direct (d->session, PRIORITY, NULL)) < 0 ||
      (ret = gnutls_credentials_set (d->session, GNUTLS_CRD_CERTIFICATE,
                                     sp_sip_tls_identity_get_credentials (identity))) < 0 ||
      (ret = gnutls_srtp_set_profile_direct (d->session, PROFILES, NULL)) < 0)
    {
      g_set_error (error, SP_MEDIA_ERROR, SP_MEDIA_ERROR_FAILED, "DTLS: %s", gnutls_strerror (ret));
      sp_dtls_free (d);
      return NULL;
    }
  /* Both ends present a certificate: each checks the other's fingerprint. */
  if (role == SP_DTLS_ROLE_SERVER)
    gnutls_certificate_server_set_request (d->session, GNUTLS_CERT_REQUIRE);
  gnutls_session_set_ptr (d->session, d);
  gnutls_session_set_verify_function (d->session, verify);
  gnutls_transport_set_ptr (d->session, d);
  gnutls_transport_set_push_function (d->session, push);
  gnutls_transport_set_pull_function (d->session, pull);
  gnutls_transport_set_pull_timeout_function (d->session, pull_timeout);
  gnutls_dtls_set_mtu (d->session, SP_DTLS_MTU);
  gnutls_dtls_set_timeouts (d->session, RETRANS_MS, SP_DTLS_HANDSHAKE_TIMEOUT_MS);
  return d;
}

void
sp_dtls_free (SpDtls *d)
{
  if (d == NULL)
    return;
  stop_timer (&d->retransmit);
  stop_timer (&d->deadline);
  clear_queue (d);
  if (d->session != NULL)
    {
      if (d->state == STATE_ESTABLISHED)
        {
          d->callbacks.established = NULL;
          d->callbacks.failed = NULL;
          gnutls_bye (d->session, GNUTLS_SHUT_WR);
        }
      gnutls_deinit (d->session);
    }
  gnutls_memset (&d->keys, 0, sizeof d->keys);
  g_free (d->peer_certificate.data);
  g_free (d->peer_fingerprint);
  g_free (d->failure);
  sp_sip_tls_identity_unref (d->identity);
  g_main_context_unref (d->context);
  g_free (d);
}

SpDtlsRole
sp_dtls_get_role (SpDtls *d)
{
  return d->role;
}

static gboolean
parse_hex_pairs (const char *value, guint8 *out, gsize max, gsize *len)
{
  gsize n = 0;

  for (const char *p = value; *p != '\0';)
    {
      if (*p == ':' && n > 0 && p[1] != '\0' && p[-1] != ':')
        {
          p++;
          continue;
        }
      if (n == max || !g_ascii_isxdigit (p[0]) || !g_ascii_isxdigit (p[1]))
        return FALSE;
      out[n++] = (guint8) (g_ascii_xdigit_value (p[0]) << 4 | g_ascii_xdigit_value (p[1]));
      p += 2;
    }
  *len = n;
  return n > 0;
}

gboolean
sp_dtls_set_remote_fingerprint (SpDtls *d, const char *hash, const char *value, GError **error)
{
  gnutls_digest_algorithm_t algorithm = algorithm_from_name (hash);
  guint8 digest[MAX_DIGEST];
  gsize len = 0;

  if (algorithm == GNUTLS_DIG_UNKNOWN)
    {
      g_set_error (error, SP_MEDIA_ERROR, SP_MEDIA_ERROR_NOT_ACCEPTABLE,
                   _ ("the peer's fingerprint uses an unknown hash function"));
      return FALSE;
    }
  if (value == NULL || !parse_hex_pairs (value, digest, sizeof digest, &len) ||
      len != gnutls_hash_get_len (algorithm))
    {
      g_set_error (error, SP_MEDIA_ERROR, SP_MEDIA_ERROR_NOT_ACCEPTABLE,
                   _ ("the peer's fingerprint is not a %s fingerprint"), hash);
      return FALSE;
    }
  d->remote_algorithm = algorithm;
  memcpy (d->remote_digest, digest, len);
  d->remote_digest_len = len;
  if (d->state == STATE_DONE_UNVERIFIED)
    finish (d);
  return TRUE;
}

void
sp_dtls_start (SpDtls *d)
{
  if (d->state != STATE_NEW)
    return;
  d->state = STATE_HANDSHAKE;
  d->deadline = g_timeout_source_new (SP_DTLS_HANDSHAKE_TIMEOUT_MS);
  g_source_set_callback (d->deadline, on_deadline, d, NULL);
  g_source_attach (d->deadline, d->context);
  if (d->role == SP_DTLS_ROLE_CLIENT || !g_queue_is_empty (&d->incoming))
    step (d);
}

/* Largest handshake message accepted from a peer: a certificate chain of
 * ours or a browser's is a few kilobytes. */
#define MAX_HANDSHAKE_MESSAGE (32 * 1024)

static guint32
be24 (const guint8 *p)
{
  return (guint32) p[0] << 16 | (guint32) p[1] << 8 | p[2];
}

/* Whether a peer may send us a handshake message of this type: the
 * DTLS 1.2 handshake with certificates (RFC 6347 4.3.2, RFC 5246 7.4). A
 * hello_request (renegotiation) or anything unknown is dropped. */
static gboolean
handshake_type_expected (guint8 type)
{
  switch (type)
    {
      case 1:  /* client_hello */
      case 2:  /* server_hello */
      case 3:  /* hello_verify_request */
      case 4:  /* new_session_ticket */
      case 11: /* certificate */
      case 12: /* server_key_exchange */
      case 13: /* certificate_request */
      case 14: /* server_hello_done */
      case 15: /* certificate_verify */
      case 16: /* client_key_exchange */
      case 20: /* finished */
        return TRUE;
      default:
        return FALSE;
    }
}

/* The plaintext handshake fragments of one record: each header within the
 * record, its fragment within the message, the message bounded, and every
 * fragment of one type claiming the length the first one did (lengths
 * holds them; the caller keeps it only if the whole datagram passes).
 * GnuTLS 3.7.9 before Debian's deb12u7 (CVE-2026-33845, CVE-2026-33846)
 * reassembles fragments by type into a buffer sized by the first one, and
 * copies an empty fragment of a non-empty message past its end. */
static gboolean
handshake_fragments_ok (const guint8 *p, gsize len, guint32 *lengths, guint32 *seen)
{
  while (len > 0)
    {
      guint32 message_len, offset, fragment_len;
      guint8 type;

      if (len < 12)
        return FALSE;
      type = p[0];
      message_len = be24 (p + 1);
      offset = be24 (p + 6);
      fragment_len = be24 (p + 9);
      if (!handshake_type_expected (type) || message_len > MAX_HANDSHAKE_MESSAGE ||
          fragment_len > len - 12 || offset > message_len || fragment_len > message_len - offset ||
          (fragment_len == 0 && message_len != 0))
        return FALSE;
      if ((*seen & (1u << type)) != 0 && lengths[type] != message_len)
        return FALSE;
      *seen |= 1u << type;
      lengths[type] = message_len;
      p += 12 + fragment_len;
      len -= 12 + fragment_len;
    }
  return TRUE;
}

/* The shortest content of a record: a change_cipher_spec is one byte, an
 * alert two, a handshake fragment at least its 12-byte header (GnuTLS
 * 3.7.9 parses a header past the end of a shorter one); sealed records
 * (epoch > 0) at least one byte. */
static guint
min_record_len (guint8 type, guint16 epoch)
{
  if (epoch > 0)
    return 1;
  return type == 20 ? 1 : type == 21 ? 2 : type == 22 ? 12 : 1;
}

/* A datagram of whole DTLS records (RFC 6347 4.1): content type 20..23,
 * a DTLS version, each length within the datagram, and nothing after the
 * last; unencrypted handshake fragments consistent, with each other and
 * with those of earlier datagrams. Checked before GnuTLS sees a byte:
 * Debian 12's GnuTLS 3.7.9 reads and writes far past its reassembly
 * buffer on some malformed handshake fragments (found by fuzz-dtls), and
 * a machine may not have the fixed library yet. */
static gboolean
datagram_well_formed (SpDtls *d, const guint8 *p, gsize len)
{
  guint32 lengths[HANDSHAKE_TYPES];
  guint32 seen = d->handshake_seen;

  memcpy (lengths, d->handshake_len, sizeof lengths);
  while (len > 0)
    {
      guint16 epoch, record_len;

      if (len < 13 || p[0] < 20 || p[0] > 23 || p[1] != 0xfe)
        return FALSE;
      epoch = (guint16) (p[3] << 8 | p[4]);
      record_len = (guint16) (p[11] << 8 | p[12]);
      if (record_len > len - 13 || record_len < min_record_len (p[0], epoch))
        return FALSE;
      if (p[0] == 22 && epoch == 0 && !handshake_fragments_ok (p + 13, record_len, lengths, &seen))
        return FALSE;
      p += 13 + record_len;
      len -= 13 + record_len;
    }
  memcpy (d->handshake_len, lengths, sizeof lengths);
  d->handshake_seen = seen;
  return TRUE;
}

void
sp_dtls_receive (SpDtls *d, const guint8 *data, gsize len)
{
  /* RFC 7983: DTLS records start with a content type of 20..63. */
  if (len < 13 || len > SP_DTLS_MAX_DATAGRAM || data[0] < 20 || data[0] > 63 ||
      d->state == STATE_FAILED || !datagram_well_formed (d, data, len))
    return;
  if (g_queue_get_length (&d->incoming) >= SP_DTLS_MAX_QUEUED ||
      d->queued_bytes + len > MAX_QUEUED_BYTES)
    return;
  g_queue_push_tail (&d->incoming, g_bytes_new (data, len));
  d->queued_bytes += len;
  /* Before start () (the peer's ClientHello came before our answer was
   * through): kept for start (). */
  if (d->state != STATE_NEW)
    step (d);
}

gboolean
sp_dtls_get_srtp_keys (SpDtls *d, SpDtlsSrtpKeys *keys)
{
  if (d->state != STATE_ESTABLISHED)
    return FALSE;
  *keys = d->keys;
  return TRUE;
}

gboolean
sp_dtls_is_established (SpDtls *d)
{
  return d->state == STATE_ESTABLISHED;
}

const char *
sp_dtls_get_local_fingerprint (SpDtls *d)
{
  return sp_sip_tls_identity_get_fingerprint (d->identity);
}

const char *
sp_dtls_get_peer_fingerprint (SpDtls *d)
{
  return d->peer_fingerprint;
}
