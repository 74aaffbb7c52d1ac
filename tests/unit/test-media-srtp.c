#include "audio/wav.h"
#include "media/rtp.h"
#include "media/session.h"
#include "media/srtp.h"

#include "../common/goertzel.h"
#include "../common/pump.h"

#include <arpa/inet.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* SpSrtp on its own (round trips, tampering, replay, wrong keys and the
 * published test vectors), then two media sessions talking SRTP on
 * loopback, and the RFC 7983 DTLS hooks of the session. */

#define ADDR_A       "127.0.0.41"
#define ADDR_B       "127.0.0.42"
#define ADDR_PEER    "127.0.0.43"
#define ADDR_STRANGE "127.0.0.44"

/* RFC 3711 B.3's master key and salt, with which libsrtp and others
 * publish their known-answer packets (SSRC 0xcafebabe, SEQ 0x1234, ROC 0). */
static const guint8 kat_key[16] = { 0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0,
                                    0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde, 0x41, 0x39 };
static const guint8 kat_salt_cm[14] = { 0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe,
                                        0xeb, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6 };
/* libsrtp's AEAD_AES_128_GCM vector: key 00..0f, salt a0..ab. */
static const guint8 kat_key_gcm[16] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                        0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f };
static const guint8 kat_salt_gcm[12] = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5,
                                         0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab };
static const guint8 kat_rtp[28] = { 0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe,
                                    0xba, 0xbe, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
                                    0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab };
static const guint8 kat_rtcp[24] = { 0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe,
                                     0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
                                     0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab };
static const guint8 kat_srtp_cm80[38] = {
  0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba, 0xbe, 0x4e,
  0x55, 0xdc, 0x4c, 0xe7, 0x99, 0x78, 0xd8, 0x8c, 0xa4, 0xd2, 0x15, 0x94, 0x9d,
  0x24, 0x02, 0xb7, 0x8d, 0x6a, 0xcc, 0x99, 0xea, 0x17, 0x9b, 0x8d, 0xbb,
};
static const guint8 kat_srtcp_cm80[38] = {
  0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe, 0x71, 0x28, 0x03, 0x5b, 0xe4,
  0x87, 0xb9, 0xbd, 0xbe, 0xf8, 0x90, 0x41, 0xf9, 0x77, 0xa5, 0xa8, 0x80, 0x00,
  0x00, 0x01, 0x99, 0x3e, 0x08, 0xcd, 0x54, 0xd6, 0xc1, 0x23, 0x07, 0x98,
};
static const guint8 kat_srtp_gcm[44] = {
  0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba, 0xbe, 0xc5, 0x00, 0x2e,
  0xde, 0x04, 0xcf, 0xdd, 0x2e, 0xb9, 0x11, 0x59, 0xe0, 0x88, 0x0a, 0xa0, 0x6e, 0xd2, 0x97,
  0x68, 0x26, 0xf7, 0x96, 0xb2, 0x01, 0xdf, 0x31, 0x31, 0xa1, 0x27, 0xe8, 0xa3, 0x92,
};
static const guint8 kat_srtcp_gcm[44] = {
  0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe, 0xc9, 0x8b, 0x8b, 0x5d, 0xf0, 0x39, 0x2a,
  0x55, 0x85, 0x2b, 0x6c, 0x21, 0xac, 0x8e, 0x70, 0x25, 0xc5, 0x2c, 0x6f, 0xbe, 0xa2, 0xb3,
  0xb4, 0x46, 0xea, 0x31, 0x12, 0x3b, 0xa8, 0x8c, 0xe6, 0x1e, 0x80, 0x00, 0x00, 0x01,
};

static void
make_key (SpSrtpSuite suite, guint8 seed, guint8 *key)
{
  for (gsize i = 0; i < sp_srtp_suite_key_length (suite); i++)
    key[i] = (guint8) (seed * 31 + i * 7);
}

/* A pair of contexts that talk to each other: @a's tx is @b's rx. */
static void
make_pair (SpSrtpSuite suite, SpSrtp **a, SpSrtp **b)
{
  guint8 k1[SP_SRTP_MAX_KEY_LEN], k2[SP_SRTP_MAX_KEY_LEN];
  gsize n = sp_srtp_suite_key_length (suite);
  g_autoptr (GError) error = NULL;

  make_key (suite, 1, k1);
  make_key (suite, 2, k2);
  *a = sp_srtp_new (suite, k1, n, k2, n, &error);
  g_assert_no_error (error);
  *b = sp_srtp_new (suite, k2, n, k1, n, &error);
  g_assert_no_error (error);
}

static gsize
make_rtp (guint8 *buf, gsize size, guint16 seq, guint8 fill)
{
  guint8 payload[160];
  SpRtpPacket p = { 0 };

  memset (payload, fill, sizeof payload);
  p.payload_type = 0;
  p.seq = seq;
  p.timestamp = seq * 160u;
  p.ssrc = 0x11223344;
  p.payload = payload;
  p.payload_len = sizeof payload;
  return sp_rtp_build (buf, size, &p);
}

static void
test_names (void)
{
  SpSrtpSuite suite;
  g_autoptr (GError) error = NULL;
  guint8 key[SP_SRTP_MAX_KEY_LEN] = { 0 };

  g_assert_cmpuint (sp_srtp_suite_key_length (SP_SRTP_AES_CM_128_HMAC_SHA1_80), ==, 30);
  g_assert_cmpuint (sp_srtp_suite_key_length (SP_SRTP_AES_CM_128_HMAC_SHA1_32), ==, 30);
  g_assert_cmpuint (sp_srtp_suite_key_length (SP_SRTP_AEAD_AES_128_GCM), ==, 28);
  for (guint i = 0; i < SP_SRTP_N_SUITES; i++)
    {
      g_assert_true (sp_srtp_suite_from_string (sp_srtp_suite_to_string (i), &suite));
      g_assert_cmpint (suite, ==, i);
    }
  g_assert_false (sp_srtp_suite_from_string ("F8_128_HMAC_SHA1_80", &suite));
  g_assert_false (sp_srtp_suite_from_string ("aes_cm_128_hmac_sha1_80", &suite));
  g_assert_false (sp_srtp_suite_from_string (NULL, &suite));
  /* A key of the wrong length is refused, not read past. */
  g_assert_null (sp_srtp_new (SP_SRTP_AES_CM_128_HMAC_SHA1_80, key, 28, key, 30, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

static void
round_trip (gconstpointer data)
{
  SpSrtpSuite suite = GPOINTER_TO_INT (data);
  g_autoptr (SpSrtp) a = NULL;
  g_autoptr (SpSrtp) b = NULL;
  guint8 buf[SP_RTP_MAX_PACKET + SP_SRTP_MAX_OVERHEAD], plain[SP_RTP_MAX_PACKET];
  guint8 rtcp[64 + SP_SRTP_MAX_OVERHEAD];
  gsize len, plain_len;

  make_pair (suite, &a, &b);
  g_assert_cmpint (sp_srtp_get_suite (a), ==, suite);
  for (guint16 seq = 65530; seq != 10; seq++) /* across the rollover */
    {
      plain_len = make_rtp (plain, sizeof plain, seq, (guint8) seq);
      memcpy (buf, plain, plain_len);
      len = plain_len;
      g_assert_cmpint (sp_srtp_protect_rtp (a, buf, &len, sizeof buf), ==, SP_SRTP_OK);
      g_assert_cmpuint (len, >, plain_len);
      /* The header stays clear, the payload does not. */
      g_assert_cmpmem (buf, 12, plain, 12);
      g_assert_true (memcmp (buf + 12, plain + 12, plain_len - 12) != 0);
      g_assert_cmpint (sp_srtp_unprotect_rtp (b, buf, &len), ==, SP_SRTP_OK);
      g_assert_cmpmem (buf, len, plain, plain_len);
    }
  /* SRTCP both ways. */
  for (guint i = 0; i < 3; i++)
    {
      len = sizeof kat_rtcp;
      memcpy (rtcp, kat_rtcp, len);
      g_assert_cmpint (sp_srtp_protect_rtcp (b, rtcp, &len, sizeof rtcp), ==, SP_SRTP_OK);
      g_assert_cmpint (sp_srtp_unprotect_rtcp (a, rtcp, &len), ==, SP_SRTP_OK);
      g_assert_cmpmem (rtcp, len, kat_rtcp, sizeof kat_rtcp);
    }
  /* No room for the tag: refused, nothing written past the end. */
  len = make_rtp (buf, sizeof buf, 100, 1);
  g_assert_cmpint (sp_srtp_protect_rtp (a, buf, &len, len + 4), ==, SP_SRTP_BAD_PACKET);
}

static void
tampered (gconstpointer data)
{
  SpSrtpSuite suite = GPOINTER_TO_INT (data);
  g_autoptr (SpSrtp) a = NULL;
  g_autoptr (SpSrtp) b = NULL;
  guint8 buf[SP_RTP_MAX_PACKET + SP_SRTP_MAX_OVERHEAD], copy[sizeof buf];
  gsize len, protected_len;
  const gsize spots[] = { 2 /* seq */, 8 /* ssrc */, 20 /* payload */, 0 /* tag: set below */ };

  make_pair (suite, &a, &b);
  protected_len = make_rtp (buf, sizeof buf, 7, 0x55);
  g_assert_cmpint (sp_srtp_protect_rtp (a, buf, &protected_len, sizeof buf), ==, SP_SRTP_OK);
  for (guint i = 0; i < G_N_ELEMENTS (spots); i++)
    {
      gsize at = spots[i] ? spots[i] : protected_len - 1;
      memcpy (copy, buf, protected_len);
      copy[at] ^= 0x01;
      len = protected_len;
      g_assert_cmpint (sp_srtp_unprotect_rtp (b, copy, &len), ==, SP_SRTP_AUTH_FAILED);
    }
  /* Cut short, and plain RTP sent where SRTP is expected. */
  memcpy (copy, buf, protected_len);
  len = protected_len - 3;
  g_assert_cmpint (sp_srtp_unprotect_rtp (b, copy, &len), !=, SP_SRTP_OK);
  len = make_rtp (copy, sizeof copy, 8, 0x55);
  g_assert_cmpint (sp_srtp_unprotect_rtp (b, copy, &len), !=, SP_SRTP_OK);
  len = 5;
  g_assert_cmpint (sp_srtp_unprotect_rtp (b, copy, &len), ==, SP_SRTP_BAD_PACKET);
  /* The untouched packet still passes: the failures left no state. */
  len = protected_len;
  g_assert_cmpint (sp_srtp_unprotect_rtp (b, buf, &len), ==, SP_SRTP_OK);
}

static void
replayed (gconstpointer data)
{
  SpSrtpSuite suite = GPOINTER_TO_INT (data);
  g_autoptr (SpSrtp) a = NULL;
  g_autoptr (SpSrtp) b = NULL;
  guint8 first[SP_RTP_MAX_PACKET + SP_SRTP_MAX_OVERHEAD], buf[sizeof first];
  guint8 rtcp[64 + SP_SRTP_MAX_OVERHEAD], rtcp_copy[sizeof rtcp];
  gsize first_len, len, rtcp_len;

  make_pair (suite, &a, &b);
  first_len = make_rtp (first, sizeof first, 1000, 1);
  g_assert_cmpint (sp_srtp_protect_rtp (a, first, &first_len, sizeof first), ==, SP_SRTP_OK);
  memcpy (buf, first, first_len);
  len = first_len;
  g_assert_cmpint (sp_srtp_unprotect_rtp (b, buf, &len), ==, SP_SRTP_OK);
  memcpy (buf, first, first_len);
  len = first_len;
  g_assert_cmpint (sp_srtp_unprotect_rtp (b, buf, &len), ==, SP_SRTP_REPLAYED);
  /* Far behind the window (128 packets) is refused too. */
  for (guint16 seq = 1001; seq < 1300; seq++)
    {
      len = make_rtp (buf, sizeof buf, seq, 2);
      g_assert_cmpint (sp_srtp_protect_rtp (a, buf, &len, sizeof buf), ==, SP_SRTP_OK);
      g_assert_cmpint (sp_srtp_unprotect_rtp (b, buf, &len), ==, SP_SRTP_OK);
    }
  memcpy (buf, first, first_len);
  len = first_len;
  g_assert_cmpint (sp_srtp_unprotect_rtp (b, buf, &len), ==, SP_SRTP_REPLAYED);
  /* SRTCP has its own index and window. */
  rtcp_len = sizeof kat_rtcp;
  memcpy (rtcp, kat_rtcp, rtcp_len);
  g_assert_cmpint (sp_srtp_protect_rtcp (a, rtcp, &rtcp_len, sizeof rtcp), ==, SP_SRTP_OK);
  memcpy (rtcp_copy, rtcp, rtcp_len);
  len = rtcp_len;
  g_assert_cmpint (sp_srtp_unprotect_rtcp (b, rtcp, &len), ==, SP_SRTP_OK);
  len = rtcp_len;
  g_assert_cmpint (sp_srtp_unprotect_rtcp (b, rtcp_copy, &len), ==, SP_SRTP_REPLAYED);
}

static void
wrong_key (gconstpointer data)
{
  SpSrtpSuite suite = GPOINTER_TO_INT (data);
  g_autoptr (SpSrtp) a = NULL;
  g_autoptr (SpSrtp) b = NULL;
  g_autoptr (SpSrtp) other = NULL;
  g_autoptr (GError) error = NULL;
  guint8 k[SP_SRTP_MAX_KEY_LEN], buf[SP_RTP_MAX_PACKET + SP_SRTP_MAX_OVERHEAD];
  gsize n = sp_srtp_suite_key_length (suite), len;

  make_pair (suite, &a, &b);
  make_key (suite, 1, k);
  k[n - 1] ^= 0x80; /* the salt's last bit differs */
  other = sp_srtp_new (suite, k, n, k, n, &error);
  g_assert_no_error (error);
  len = make_rtp (buf, sizeof buf, 1, 3);
  g_assert_cmpint (sp_srtp_protect_rtp (a, buf, &len, sizeof buf), ==, SP_SRTP_OK);
  g_assert_cmpint (sp_srtp_unprotect_rtp (other, buf, &len), ==, SP_SRTP_AUTH_FAILED);
  /* The sender's own receive side has the other key. */
  len = make_rtp (buf, sizeof buf, 2, 3);
  g_assert_cmpint (sp_srtp_protect_rtp (a, buf, &len, sizeof buf), ==, SP_SRTP_OK);
  g_assert_cmpint (sp_srtp_unprotect_rtp (a, buf, &len), ==, SP_SRTP_AUTH_FAILED);
}

/* One published packet each way, protected with a fresh context. */
static void
check_vector (SpSrtpSuite suite, const guint8 *salt, gsize salt_len, const guint8 *plain,
              gsize plain_len, const guint8 *expected, gsize expected_len, gboolean rtcp)
{
  guint8 key[SP_SRTP_MAX_KEY_LEN], buf[64 + SP_SRTP_MAX_OVERHEAD];
  g_autoptr (SpSrtp) tx = NULL;
  g_autoptr (SpSrtp) rx = NULL;
  g_autoptr (GError) error = NULL;
  gsize len = plain_len;

  memcpy (key, suite == SP_SRTP_AEAD_AES_128_GCM ? kat_key_gcm : kat_key, 16);
  memcpy (key + 16, salt, salt_len);
  tx = sp_srtp_new (suite, key, 16 + salt_len, key, 16 + salt_len, &error);
  g_assert_no_error (error);
  rx = sp_srtp_new (suite, key, 16 + salt_len, key, 16 + salt_len, &error);
  g_assert_no_error (error);
  memcpy (buf, plain, plain_len);
  g_assert_cmpint (rtcp ? sp_srtp_protect_rtcp (tx, buf, &len, sizeof buf)
                        : sp_srtp_protect_rtp (tx, buf, &len, sizeof buf),
                   ==, SP_SRTP_OK);
  g_assert_cmpmem (buf, len, expected, expected_len);
  g_assert_cmpint (rtcp ? sp_srtp_unprotect_rtcp (rx, buf, &len)
                        : sp_srtp_unprotect_rtp (rx, buf, &len),
                   ==, SP_SRTP_OK);
  g_assert_cmpmem (buf, len, plain, plain_len);
}

static void
test_known_answers (void)
{
  check_vector (SP_SRTP_AES_CM_128_HMAC_SHA1_80, kat_salt_cm, sizeof kat_salt_cm, kat_rtp,
                sizeof kat_rtp, kat_srtp_cm80, sizeof kat_srtp_cm80, FALSE);
  check_vector (SP_SRTP_AES_CM_128_HMAC_SHA1_80, kat_salt_cm, sizeof kat_salt_cm, kat_rtcp,
                sizeof kat_rtcp, kat_srtcp_cm80, sizeof kat_srtcp_cm80, TRUE);
  /* _32: the same cipher text, the tag cut to its first 4 bytes; SRTCP
   * keeps the 80-bit tag, so its packet is the same as above. */
  check_vector (SP_SRTP_AES_CM_128_HMAC_SHA1_32, kat_salt_cm, sizeof kat_salt_cm, kat_rtp,
                sizeof kat_rtp, kat_srtp_cm80, 32, FALSE);
  check_vector (SP_SRTP_AES_CM_128_HMAC_SHA1_32, kat_salt_cm, sizeof kat_salt_cm, kat_rtcp,
                sizeof kat_rtcp, kat_srtcp_cm80, sizeof kat_srtcp_cm80, TRUE);
  check_vector (SP_SRTP_AEAD_AES_128_GCM, kat_salt_gcm, sizeof kat_salt_gcm, kat_rtp,
                sizeof kat_rtp, kat_srtp_gcm, sizeof kat_srtp_gcm, FALSE);
  check_vector (SP_SRTP_AEAD_AES_128_GCM, kat_salt_gcm, sizeof kat_salt_gcm, kat_rtcp,
                sizeof kat_rtcp, kat_srtcp_gcm, sizeof kat_srtcp_gcm, TRUE);
}

/* ---- Media sessions ------------------------------------------------------- */

typedef struct
{
  char *dir;
  char *tone_a, *tone_b, *rec_a, *rec_b;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  gint16 *tone = g_new (gint16, 8000);

  f->dir = g_dir_make_tmp ("sp-srtp-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
  f->tone_a = g_build_filename (f->dir, "a-440.wav", NULL);
  f->tone_b = g_build_filename (f->dir, "b-1000.wav", NULL);
  f->rec_a = g_build_filename (f->dir, "a-rec.wav", NULL);
  f->rec_b = g_build_filename (f->dir, "b-rec.wav", NULL);
  goertzel_make_tone (tone, 8000, 8000, 440, 8000);
  g_assert_true (sp_wav_save (f->tone_a, 8000, tone, 8000, NULL));
  goertzel_make_tone (tone, 8000, 8000, 1000, 8000);
  g_assert_true (sp_wav_save (f->tone_b, 8000, tone, 8000, NULL));
  g_free (tone);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  char *files[] = { f->tone_a, f->tone_b, f->rec_a, f->rec_b };

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_unlink (files[i]);
      g_free (files[i]);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
}

static SpMediaSession *
make_session (SpMediaEngine *engine, const char *addr)
{
  g_autoptr (GError) error = NULL;
  SpMediaSession *s = sp_media_session_new (engine, addr, 0, NULL, NULL, &error);

  g_assert_no_error (error);
  return s;
}

static void
check_hears (const char *path, double heard, double own, guint skip_ms)
{
  g_autoptr (GError) error = NULL;
  g_autofree gint16 *rec = NULL;
  guint rate = 0;
  gsize n = 0, skip = 8 * skip_ms;
  GoertzelVerdict v;

  g_assert_true (sp_wav_load (path, &rate, &rec, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, >, skip + rate);
  goertzel_compare (rec + skip, n - skip, rate, heard, own, 1e4, &v);
  g_test_message ("%s: %u blocks, %u hear %.0f, %u hear %.0f, %u silent", path, v.blocks, v.f1_wins,
                  heard, v.f2_wins, own, v.silent);
  g_assert_cmpuint (v.f2_wins, ==, 0);
  g_assert_cmpuint (v.f1_wins, >=, v.blocks * 95 / 100);
}

static SpMediaParams
params_towards (const char *address, guint16 port, gboolean mux)
{
  SpMediaParams p = { 0 };

  p.codec = SP_CODEC_PCMU;
  p.ptime_ms = 20;
  p.dtmf_payload_type = -1;
  p.rtcp_mux = mux;
  p.remote_address = address;
  p.remote_rtp_port = port;
  p.send = p.receive = TRUE;
  p.srtp = TRUE;
  return p;
}

/* Two sessions keyed for each other hear each other's tone through SRTP;
 * a third that listens with the wrong key takes none of it. */
static void
sessions_talk (Fixture *f, gconstpointer data)
{
  gboolean mux = GPOINTER_TO_INT (data);
  g_autoptr (SpMediaEngine) engine = sp_media_engine_new ();
  g_autoptr (SpMediaSession) a = make_session (engine, ADDR_A);
  g_autoptr (SpMediaSession) b = make_session (engine, ADDR_B);
  SpMediaParams pa = params_towards (ADDR_B, sp_media_session_get_rtp_port (b), mux);
  SpMediaParams pb = params_towards (ADDR_A, sp_media_session_get_rtp_port (a), mux);
  SpSrtp *ca, *cb;
  SpMediaStats sa, sb;

  make_pair (SP_SRTP_AES_CM_128_HMAC_SHA1_80, &ca, &cb);
  sp_media_session_set_devices (a, sp_audio_wav_source_new (f->tone_a),
                                sp_audio_wav_sink_new (f->rec_a));
  sp_media_session_set_devices (b, sp_audio_wav_source_new (f->tone_b),
                                sp_audio_wav_sink_new (f->rec_b));
  sp_media_session_set_srtp (a, ca);
  sp_media_session_start (a, &pa);
  /* B's keys come a moment later (as DTLS would give them): A's packets
   * meanwhile are not taken, and B sends nothing in the clear. */
  sp_media_session_start (b, &pb);
  test_pump (300);
  sp_media_session_get_stats (b, &sb);
  g_assert_false (sb.srtp_active);
  g_assert_cmpuint (sb.packets_received, ==, 0);
  g_assert_cmpuint (sb.packets_sent, ==, 0);
  g_assert_cmpuint (sb.srtp_dropped, >, 0);
  sp_media_session_set_srtp (b, cb);
  test_pump (4500);
  sp_media_session_stop (a);
  sp_media_session_stop (b);
  sp_media_session_flush (b);
  sp_media_session_get_stats (a, &sa);
  sp_media_session_get_stats (b, &sb);
  g_test_message ("A: sent %" G_GUINT64_FORMAT " received %" G_GUINT64_FORMAT
                  " srtp dropped %" G_GUINT64_FORMAT " rtt %.1f",
                  sa.packets_sent, sa.packets_received, sa.srtp_dropped, sa.rtt_ms);
  g_assert_true (sa.srtp_active && sb.srtp_active);
  g_assert_true (sa.latched && sb.latched);
  g_assert_cmpuint (sa.packets_received, >=, 180);
  g_assert_cmpuint (sa.srtp_dropped, ==, 0);
  g_assert_cmpuint (sa.malformed, ==, 0);
  g_assert_cmpuint (sb.malformed, ==, 0);
  check_hears (f->rec_a, 1000, 440, 700);
  /* B's recording starts with the 300 ms it could not decrypt. */
  check_hears (f->rec_b, 440, 1000, 700);
}

/* A session keyed wrongly drops everything and latches to nothing; plain
 * RTP from the SDP's own host is not taken either once SRTP is on. */
static void
wrong_key_and_clear (Fixture *f, gconstpointer data)
{
  g_autoptr (SpMediaEngine) engine = sp_media_engine_new ();
  g_autoptr (SpMediaSession) a = make_session (engine, ADDR_A);
  g_autoptr (SpMediaSession) b = make_session (engine, ADDR_B);
  SpMediaParams pa = params_towards (ADDR_B, sp_media_session_get_rtp_port (b), FALSE);
  SpMediaParams pb = params_towards (ADDR_A, sp_media_session_get_rtp_port (a), FALSE);
  SpSrtp *ca, *cb, *wrong_a, *wrong_b;
  SpMediaStats sb;
  guint8 buf[SP_RTP_MAX_PACKET];
  struct sockaddr_in to = { 0 };
  int fd;

  make_pair (SP_SRTP_AES_CM_128_HMAC_SHA1_80, &ca, &cb);
  make_pair (SP_SRTP_AEAD_AES_128_GCM, &wrong_a, &wrong_b);
  sp_srtp_free (cb);
  sp_srtp_free (wrong_a);
  sp_media_session_set_srtp (a, ca);
  sp_media_session_set_srtp (b, wrong_b);
  sp_media_session_start (a, &pa);
  sp_media_session_start (b, &pb);
  /* Plain RTP from A's own address (another port), as a forger would. */
  fd = socket (AF_INET, SOCK_DGRAM, 0);
  to.sin_family = AF_INET;
  inet_pton (AF_INET, ADDR_A, &to.sin_addr);
  g_assert_cmpint (bind (fd, (struct sockaddr *) &to, sizeof to), ==, 0);
  inet_pton (AF_INET, ADDR_B, &to.sin_addr);
  to.sin_port = htons (sp_media_session_get_rtp_port (b));
  for (guint16 i = 0; i < 20; i++)
    {
      gsize len = make_rtp (buf, sizeof buf, i, 0x7f);
      g_assert_cmpint (sendto (fd, buf, len, 0, (struct sockaddr *) &to, sizeof to), ==, len);
    }
  close (fd);
  test_pump (1000);
  sp_media_session_stop (a);
  sp_media_session_stop (b);
  sp_media_session_flush (b);
  sp_media_session_get_stats (b, &sb);
  g_test_message ("B: srtp dropped %" G_GUINT64_FORMAT, sb.srtp_dropped);
  g_assert_cmpuint (sb.packets_received, ==, 0);
  g_assert_false (sb.latched);
  g_assert_cmpuint (sb.srtp_dropped, >=, 20 + 10);
}

/* ---- DTLS demultiplexing (RFC 7983) --------------------------------------- */

typedef struct
{
  GThread *main_thread;
  GPtrArray *got; /* of GBytes */
  gboolean destroyed;
} Sink;

static void
on_dtls (SpMediaSession *session, const guint8 *data, gsize len, gpointer user_data)
{
  Sink *sink = user_data;

  g_assert_true (g_thread_self () == sink->main_thread);
  g_ptr_array_add (sink->got, g_bytes_new (data, len));
}

static void
sink_destroyed (gpointer data)
{
  ((Sink *) data)->destroyed = TRUE;
}

static int
bound_socket (const char *address, struct sockaddr_in *out)
{
  int fd = socket (AF_INET, SOCK_DGRAM, 0);
  socklen_t len = sizeof *out;

  memset (out, 0, sizeof *out);
  out->sin_family = AF_INET;
  inet_pton (AF_INET, address, &out->sin_addr);
  g_assert_cmpint (bind (fd, (struct sockaddr *) out, sizeof *out), ==, 0);
  g_assert_cmpint (getsockname (fd, (struct sockaddr *) out, &len), ==, 0);
  return fd;
}

static void
send_to_port (int fd, const char *address, guint16 port, const guint8 *data, gsize len)
{
  struct sockaddr_in to = { 0 };

  to.sin_family = AF_INET;
  to.sin_port = htons (port);
  inet_pton (AF_INET, address, &to.sin_addr);
  g_assert_cmpint (sendto (fd, data, len, 0, (struct sockaddr *) &to, sizeof to), ==, len);
}

static gssize
receive_within (int fd, guint8 *buf, gsize size, guint ms)
{
  struct pollfd pfd = { fd, POLLIN, 0 };

  if (poll (&pfd, 1, (int) ms) <= 0)
    return -1;
  return recv (fd, buf, size, 0);
}

static void
test_dtls_demux (void)
{
  g_autoptr (SpMediaEngine) engine = sp_media_engine_new ();
  SpMediaSession *a = make_session (engine, ADDR_A);
  guint16 port = sp_media_session_get_rtp_port (a);
  Sink sink = { g_thread_self (), g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref) };
  struct sockaddr_in peer_addr, stranger_addr;
  int peer = bound_socket (ADDR_PEER, &peer_addr);
  int stranger = bound_socket (ADDR_STRANGE, &stranger_addr);
  guint8 hello[64], reply[] = { 22, 0xfe, 0xfd, 1, 2, 3 }, buf[256];
  SpMediaParams p = { 0 };
  SpMediaStats st;
  gssize n;

  memset (hello, 0, sizeof hello);
  hello[0] = 22; /* handshake */
  hello[1] = 0xfe;
  hello[2] = 0xfd;
  /* Without a sink DTLS is dropped. */
  send_to_port (peer, ADDR_A, port, hello, sizeof hello);
  test_pump (100);
  sp_media_session_set_dtls_sink (a, on_dtls, &sink, sink_destroyed);
  /* Before the media starts anyone may begin a handshake; the reply goes
   * back to whoever did. */
  hello[3] = 1;
  send_to_port (peer, ADDR_A, port, hello, sizeof hello);
  test_pump (150);
  g_assert_cmpuint (sink.got->len, ==, 1);
  g_assert_cmpmem (g_bytes_get_data (sink.got->pdata[0], NULL),
                   g_bytes_get_size (sink.got->pdata[0]), hello, sizeof hello);
  sp_media_session_send_dtls (a, reply, sizeof reply);
  n = receive_within (peer, buf, sizeof buf, 1000);
  g_assert_cmpmem (buf, n, reply, sizeof reply);

  /* Started towards the peer: a stranger's DTLS is dropped, the peer's
   * taken; what we send goes to the SDP's address. */
  p.codec = SP_CODEC_PCMU;
  p.ptime_ms = 20;
  p.dtmf_payload_type = -1;
  p.remote_address = ADDR_PEER;
  p.remote_rtp_port = ntohs (peer_addr.sin_port);
  p.receive = TRUE;
  p.srtp = TRUE;
  sp_media_session_start (a, &p);
  hello[3] = 2;
  send_to_port (stranger, ADDR_A, port, hello, sizeof hello);
  hello[3] = 3;
  send_to_port (peer, ADDR_A, port, hello, sizeof hello);
  test_pump (200);
  g_assert_cmpuint (sink.got->len, ==, 2);
  g_assert_cmpuint (((const guint8 *) g_bytes_get_data (sink.got->pdata[1], NULL))[3], ==, 3);
  sp_media_session_send_dtls (a, reply, sizeof reply);
  n = receive_within (peer, buf, sizeof buf, 1000);
  g_assert_cmpmem (buf, n, reply, sizeof reply);

  /* A flood while the owner is busy: at most SP_MEDIA_DTLS_QUEUE wait. */
  for (guint i = 0; i < 3 * SP_MEDIA_DTLS_QUEUE; i++)
    send_to_port (peer, ADDR_A, port, hello, sizeof hello);
  g_usleep (300000);
  test_pump (200);
  g_assert_cmpuint (sink.got->len, >=, 2 + 8);
  g_assert_cmpuint (sink.got->len, <=, 2 + SP_MEDIA_DTLS_QUEUE);
  sp_media_session_flush (a);
  sp_media_session_get_stats (a, &st);
  g_test_message ("DTLS taken %u, dropped %" G_GUINT64_FORMAT, sink.got->len, st.dtls_dropped);
  g_assert_cmpuint (st.dtls_dropped, >=, 1 + 1 + 2 * SP_MEDIA_DTLS_QUEUE);
  /* Nothing of it reached RTP. */
  g_assert_cmpuint (st.packets_received, ==, 0);
  g_assert_cmpuint (st.malformed, ==, 0);

  g_assert_false (sink.destroyed);
  sp_media_session_free (a);
  g_assert_true (sink.destroyed);
  test_pump (50);
  close (peer);
  close (stranger);
  g_ptr_array_unref (sink.got);
}

int
main (int argc, char *argv[])
{
  static const struct
  {
    const char *name;
    SpSrtpSuite suite;
  } suites[] = {
    { "cm80", SP_SRTP_AES_CM_128_HMAC_SHA1_80 },
    { "cm32", SP_SRTP_AES_CM_128_HMAC_SHA1_32 },
    { "gcm", SP_SRTP_AEAD_AES_128_GCM },
  };

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/srtp/names", test_names);
  g_test_add_func ("/srtp/known-answers", test_known_answers);
  for (guint i = 0; i < G_N_ELEMENTS (suites); i++)
    {
      g_autofree char *rt = g_strdup_printf ("/srtp/%s/round-trip", suites[i].name);
      g_autofree char *tp = g_strdup_printf ("/srtp/%s/tampered", suites[i].name);
      g_autofree char *rp = g_strdup_printf ("/srtp/%s/replayed", suites[i].name);
      g_autofree char *wk = g_strdup_printf ("/srtp/%s/wrong-key", suites[i].name);
      g_test_add_data_func (rt, GINT_TO_POINTER (suites[i].suite), round_trip);
      g_test_add_data_func (tp, GINT_TO_POINTER (suites[i].suite), tampered);
      g_test_add_data_func (rp, GINT_TO_POINTER (suites[i].suite), replayed);
      g_test_add_data_func (wk, GINT_TO_POINTER (suites[i].suite), wrong_key);
    }
  g_test_add ("/srtp/session/talk", Fixture, GINT_TO_POINTER (FALSE), fixture_setup, sessions_talk,
              fixture_teardown);
  g_test_add ("/srtp/session/talk-rtcp-mux", Fixture, GINT_TO_POINTER (TRUE), fixture_setup,
              sessions_talk, fixture_teardown);
  g_test_add ("/srtp/session/wrong-key-and-clear", Fixture, NULL, fixture_setup,
              wrong_key_and_clear, fixture_teardown);
  g_test_add_func ("/srtp/session/dtls-demux", test_dtls_demux);
  return g_test_run ();
}
