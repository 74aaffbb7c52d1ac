#include "media/srtp.h"

#include <gio/gio.h>
#include <string.h>
#include <srtp2/srtp.h>

/* Two libsrtp sessions, one per direction: libsrtp adds a stream to a
 * session's list when it meets a new SSRC, so a session shared by a
 * sending and a receiving thread would be changed by both at once. */
struct _SpSrtp
{
  SpSrtpSuite suite;
  srtp_t tx;
  srtp_t rx;
  /* The master keys, to tell a re-key from the same keys offered again
   * (sp_srtp_inherit); wiped at free. */
  guint8 tx_key[SP_SRTP_MAX_KEY_LEN];
  guint8 rx_key[SP_SRTP_MAX_KEY_LEN];
};

static const struct
{
  const char *name;
  gsize key_len;
} suites[SP_SRTP_N_SUITES] = {
  [SP_SRTP_AES_CM_128_HMAC_SHA1_80] = { "AES_CM_128_HMAC_SHA1_80", SRTP_AES_ICM_128_KEY_LEN_WSALT },
  [SP_SRTP_AES_CM_128_HMAC_SHA1_32] = { "AES_CM_128_HMAC_SHA1_32", SRTP_AES_ICM_128_KEY_LEN_WSALT },
  [SP_SRTP_AEAD_AES_128_GCM] = { "AEAD_AES_128_GCM", SRTP_AES_GCM_128_KEY_LEN_WSALT },
};

G_STATIC_ASSERT (SRTP_AES_ICM_128_KEY_LEN_WSALT <= SP_SRTP_MAX_KEY_LEN);
G_STATIC_ASSERT (SRTP_AES_GCM_128_KEY_LEN_WSALT <= SP_SRTP_MAX_KEY_LEN);
/* SRTCP adds its 4-byte index to the trailer. */
G_STATIC_ASSERT (SRTP_MAX_TRAILER_LEN + 4 <= SP_SRTP_MAX_OVERHEAD);

gsize
sp_srtp_suite_key_length (SpSrtpSuite suite)
{
  g_return_val_if_fail ((guint) suite < SP_SRTP_N_SUITES, 0);
  return suites[suite].key_len;
}

const char *
sp_srtp_suite_to_string (SpSrtpSuite suite)
{
  return (guint) suite < SP_SRTP_N_SUITES ? suites[suite].name : NULL;
}

gboolean
sp_srtp_suite_from_string (const char *name, SpSrtpSuite *suite)
{
  for (guint i = 0; name != NULL && i < SP_SRTP_N_SUITES; i++)
    if (strcmp (name, suites[i].name) == 0)
      {
        *suite = (SpSrtpSuite) i;
        return TRUE;
      }
  return FALSE;
}

/* libsrtp's global state (its crypto kernel), set up once per process and
 * never shut down: contexts may be made from any thread at any time. */
static gboolean
ensure_init (GError **error)
{
  static gsize done = 0;
  static srtp_err_status_t status;

  if (g_once_init_enter (&done))
    {
      status = srtp_init ();
      g_once_init_leave (&done, 1);
    }
  if (status != srtp_err_status_ok)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "libsrtp did not start (error %d)",
                   (int) status);
      return FALSE;
    }
  return TRUE;
}

static void
set_policies (srtp_policy_t *policy, SpSrtpSuite suite)
{
  switch (suite)
    {
      case SP_SRTP_AES_CM_128_HMAC_SHA1_80:
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80 (&policy->rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80 (&policy->rtcp);
        break;
      case SP_SRTP_AES_CM_128_HMAC_SHA1_32:
        /* The 32-bit tag is for RTP only; SRTCP keeps 80 bits (RFC 4568
         * 6.2.2 refers to RFC 3711's SRTCP, whose tag is mandatory). */
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32 (&policy->rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80 (&policy->rtcp);
        break;
      case SP_SRTP_AEAD_AES_128_GCM:
        srtp_crypto_policy_set_aes_gcm_128_16_auth (&policy->rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth (&policy->rtcp);
        break;
    }
}

static srtp_t
make_session (SpSrtpSuite suite, const guint8 *key, gboolean outbound, GError **error)
{
  srtp_policy_t policy;
  guint8 copy[SP_SRTP_MAX_KEY_LEN];
  srtp_t session = NULL;
  srtp_err_status_t status;

  memset (&policy, 0, sizeof policy);
  set_policies (&policy, suite);
  /* libsrtp takes a non-const key; it copies what it derives from it. */
  memcpy (copy, key, suites[suite].key_len);
  policy.key = copy;
  policy.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
  policy.window_size = 128;
  policy.allow_repeat_tx = 0; /* never the same index twice under one key */
  status = srtp_create (&session, &policy);
  explicit_bzero (copy, sizeof copy);
  if (status != srtp_err_status_ok)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "libsrtp refused the %s context (error %d)", suites[suite].name, (int) status);
      return NULL;
    }
  return session;
}

SpSrtp *
sp_srtp_new (SpSrtpSuite suite, const guint8 *tx, gsize tx_len, const guint8 *rx, gsize rx_len,
             GError **error)
{
  g_autoptr (SpSrtp) srtp = NULL;

  if ((guint) suite >= SP_SRTP_N_SUITES)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "Unknown SRTP suite %d",
                   (int) suite);
      return NULL;
    }
  if (tx == NULL || rx == NULL || tx_len != suites[suite].key_len ||
      rx_len != suites[suite].key_len)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "%s needs %zu bytes of master key and salt each way", suites[suite].name,
                   suites[suite].key_len);
      return NULL;
    }
  if (!ensure_init (error))
    return NULL;
  srtp = g_new0 (SpSrtp, 1);
  srtp->suite = suite;
  memcpy (srtp->tx_key, tx, tx_len);
  memcpy (srtp->rx_key, rx, rx_len);
  srtp->tx = make_session (suite, tx, TRUE, error);
  if (srtp->tx == NULL)
    return NULL;
  srtp->rx = make_session (suite, rx, FALSE, error);
  if (srtp->rx == NULL)
    return NULL;
  return g_steal_pointer (&srtp);
}

void
sp_srtp_free (SpSrtp *srtp)
{
  if (srtp == NULL)
    return;
  /* srtp_dealloc wipes the session keys it derived. */
  if (srtp->tx != NULL)
    srtp_dealloc (srtp->tx);
  if (srtp->rx != NULL)
    srtp_dealloc (srtp->rx);
  explicit_bzero (srtp, sizeof *srtp);
  g_free (srtp);
}

void
sp_srtp_inherit (SpSrtp *srtp, SpSrtp *previous)
{
  gsize n = suites[srtp->suite].key_len;
  srtp_t swap;

  if (previous == NULL || previous->suite != srtp->suite)
    return;
  if (memcmp (previous->tx_key, srtp->tx_key, n) == 0)
    {
      swap = srtp->tx;
      srtp->tx = previous->tx;
      previous->tx = swap;
    }
  if (memcmp (previous->rx_key, srtp->rx_key, n) == 0)
    {
      swap = srtp->rx;
      srtp->rx = previous->rx;
      previous->rx = swap;
    }
}

SpSrtpSuite
sp_srtp_get_suite (SpSrtp *srtp)
{
  return srtp->suite;
}

static SpSrtpResult
result_from_status (srtp_err_status_t status)
{
  switch (status)
    {
      case srtp_err_status_ok:
        return SP_SRTP_OK;
      case srtp_err_status_replay_fail:
      case srtp_err_status_replay_old:
      case srtp_err_status_pkt_idx_old:
        return SP_SRTP_REPLAYED;
      case srtp_err_status_bad_param:
      case srtp_err_status_parse_err:
      case srtp_err_status_terminus:
        return SP_SRTP_BAD_PACKET;
      default:
        return SP_SRTP_AUTH_FAILED;
    }
}

/* Version 2 and at least @min bytes: what both RTP and RTCP need before
 * libsrtp reads their headers. */
static gboolean
plausible (const guint8 *buf, gsize len, gsize min)
{
  return len >= min && len <= G_MAXINT / 2 && (buf[0] >> 6) == 2;
}

SpSrtpResult
sp_srtp_protect_rtp (SpSrtp *srtp, guint8 *buf, gsize *len, gsize capacity)
{
  int n = (int) *len;
  SpSrtpResult result;

  if (!plausible (buf, *len, 12) || capacity < *len + SP_SRTP_MAX_OVERHEAD)
    return SP_SRTP_BAD_PACKET;
  result = result_from_status (srtp_protect (srtp->tx, buf, &n));
  if (result == SP_SRTP_OK)
    *len = (gsize) n;
  return result;
}

SpSrtpResult
sp_srtp_protect_rtcp (SpSrtp *srtp, guint8 *buf, gsize *len, gsize capacity)
{
  int n = (int) *len;
  SpSrtpResult result;

  if (!plausible (buf, *len, 8) || capacity < *len + SP_SRTP_MAX_OVERHEAD)
    return SP_SRTP_BAD_PACKET;
  result = result_from_status (srtp_protect_rtcp (srtp->tx, buf, &n));
  if (result == SP_SRTP_OK)
    *len = (gsize) n;
  return result;
}

SpSrtpResult
sp_srtp_unprotect_rtp (SpSrtp *srtp, guint8 *buf, gsize *len)
{
  int n = (int) *len;
  SpSrtpResult result;

  /* A header and at least the shortest tag (4 bytes). */
  if (!plausible (buf, *len, 12 + 4))
    return SP_SRTP_BAD_PACKET;
  result = result_from_status (srtp_unprotect (srtp->rx, buf, &n));
  if (result == SP_SRTP_OK)
    *len = (gsize) n;
  return result;
}

SpSrtpResult
sp_srtp_unprotect_rtcp (SpSrtp *srtp, guint8 *buf, gsize *len)
{
  int n = (int) *len;
  SpSrtpResult result;

  /* Header, SRTCP index and the shortest SRTCP tag (10 bytes). */
  if (!plausible (buf, *len, 8 + 4 + 10))
    return SP_SRTP_BAD_PACKET;
  result = result_from_status (srtp_unprotect_rtcp (srtp->rx, buf, &n));
  if (result == SP_SRTP_OK)
    *len = (gsize) n;
  return result;
}

const char *
sp_srtp_result_to_string (SpSrtpResult result)
{
  switch (result)
    {
      case SP_SRTP_OK:
        return "ok";
      case SP_SRTP_AUTH_FAILED:
        return "authentication failed";
      case SP_SRTP_REPLAYED:
        return "replayed";
      case SP_SRTP_BAD_PACKET:
        return "bad packet";
      default:
        return "unknown";
    }
}
