/* SDES (RFC 4568): a=crypto parsing and formatting, the offer/answer
 * policy (preferred / required / off, only over TLS), and keys kept out
 * of the SIP log. */

#include "media/error.h"
#include "media/offer-answer.h"
#include "media/sdes.h"
#include "ua/siplog.h"

#include <string.h>

/* Linphone 5.1 with media_encryption srtp (mandatory): RTP/SAVP and its
 * suites, as it sends them. The keys are made up. */
static const char linphone_savp_offer[] =
    "v=0\r\n"
    "o=alice 1234 5678 IN IP4 127.0.0.5\r\n"
    "s=Talk\r\n"
    "c=IN IP4 127.0.0.5\r\n"
    "t=0 0\r\n"
    "m=audio 7078 RTP/SAVP 0 8 101\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=crypto:1 AES_256_CM_HMAC_SHA1_80 "
    "inline:dGhpcyBpcyBub3QgYSByZWFsIGtleSBidXQgaXQgaGFzIDQ2IGJ5dGVzLi4uLg==\r\n"
    "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:WnD7c1ksDGs+dIefCEo8omPg4uO8DYIinNGL5yxQ\r\n"
    "a=crypto:3 AES_CM_128_HMAC_SHA1_32 inline:t0Z2mP6E4ugA8vbnKA6MuMs9XFkNZ7fc5y2VN8w/\r\n";

/* baresip 1.0 with mediaenc=srtp: best effort, RTP/AVP with a=crypto. */
static const char baresip_avp_offer[] =
    "v=0\r\n"
    "o=- 1 2 IN IP4 127.0.0.6\r\n"
    "s=-\r\n"
    "c=IN IP4 127.0.0.6\r\n"
    "t=0 0\r\n"
    "m=audio 10000 RTP/AVP 0 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:ZLmMkHp/U3Ayv5yBTo4E2rk+R6gSKMVAbWp4W1Hb\r\n"
    "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:eKWR7oHsHbpdI7hyKW3EV+XvtDRU9iSLR+QWdl8C\r\n"
    "a=sendrecv\r\n";

static const char plain_offer[] = "v=0\r\n"
                                  "o=- 1 2 IN IP4 127.0.0.7\r\n"
                                  "s=-\r\n"
                                  "c=IN IP4 127.0.0.7\r\n"
                                  "t=0 0\r\n"
                                  "m=audio 10002 RTP/AVP 0\r\n"
                                  "a=rtpmap:0 PCMU/8000\r\n";

static SpOfferAnswer *
new_oa (SpMediaEncryption encryption, gboolean tls)
{
  SpOfferAnswerConfig config = { 0 };

  config.local_address = "127.0.0.1";
  config.rtp_port = 4000;
  config.encryption = encryption;
  config.sdes = tls;
  return sp_offer_answer_new (&config);
}

static guint
count (const char *haystack, const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (haystack, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

static void
test_parse (void)
{
  SpSdesCrypto c;
  g_autofree char *text = NULL;
  static const char *refused[] = {
    "1 AES_CM_128_HMAC_SHA1_80 inline:WnD7c1ksDGs+dIefCEo8omPg4uO8DYIinNGL5yxQ|2^20|1:4",
    "1 AES_CM_128_HMAC_SHA1_80 inline:WnD7c1ksDGs+dIefCEo8omPg4uO8DYIinNGL5yxQ KDR=1",
    "1 AES_CM_128_HMAC_SHA1_80 inline:WnD7c1ksDGs+dIefCEo8omPg4uO8DYIinNGL5y",     /* short */
    "1 AES_CM_128_HMAC_SHA1_80 inline:WnD7c1ksDGs+dIefCEo8omPg4uO8DYIinNGL5yxQAA", /* long */
    "1 AES_CM_128_HMAC_SHA1_80 inline:WnD7c1ksDGs+dIefCEo8omPg4uO8DYIinNGL5y*Q",
    "1 F8_128_HMAC_SHA1_80 inline:WnD7c1ksDGs+dIefCEo8omPg4uO8DYIinNGL5yxQ",
    "1000000000 AES_CM_128_HMAC_SHA1_80 inline:WnD7c1ksDGs+dIefCEo8omPg4uO8DYIinNGL5yxQ",
    "x AES_CM_128_HMAC_SHA1_80 inline:WnD7c1ksDGs+dIefCEo8omPg4uO8DYIinNGL5yxQ",
    "1 AES_CM_128_HMAC_SHA1_80 uri:https://example.net/key",
    "1 AES_CM_128_HMAC_SHA1_80",
    "",
  };

  g_assert_true (sp_sdes_crypto_parse (
      "7 AES_CM_128_HMAC_SHA1_80 inline:WnD7c1ksDGs+dIefCEo8omPg4uO8DYIinNGL5yxQ|2^20", &c));
  g_assert_cmpuint (c.tag, ==, 7);
  g_assert_cmpint (c.suite, ==, SP_SRTP_AES_CM_128_HMAC_SHA1_80);
  g_assert_cmpuint (c.key_len, ==, 30);
  text = sp_sdes_crypto_format (&c);
  g_assert_cmpstr (text, ==,
                   "7 AES_CM_128_HMAC_SHA1_80 inline:WnD7c1ksDGs+dIefCEo8omPg4uO8DYIinNGL5yxQ");
  /* A 28-byte AEAD key with and without its "==". */
  g_assert_true (sp_sdes_crypto_parse (
      "2 AEAD_AES_128_GCM inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw==", &c));
  g_assert_cmpuint (c.key_len, ==, 28);
  g_assert_cmpuint (c.key[27], ==, 27);
  g_assert_true (sp_sdes_crypto_parse (
      "2 AEAD_AES_128_GCM inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw", &c));
  /* Several key params: the first; repeated blanks are fine. */
  g_assert_true (sp_sdes_crypto_parse ("3  AES_CM_128_HMAC_SHA1_32  "
                                       "inline:WnD7c1ksDGs+dIefCEo8omPg4uO8DYIinNGL5yxQ;"
                                       "inline:t0Z2mP6E4ugA8vbnKA6MuMs9XFkNZ7fc5y2VN8w/",
                                       &c));
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_test_message ("refused: %s", refused[i]);
      g_assert_false (sp_sdes_crypto_parse (refused[i], &c));
      g_assert_cmpuint (c.key_len, ==, 0);
    }
  g_assert_false (sp_sdes_crypto_parse (NULL, &c));
}

/* Two of our phones over TLS, preferred: RTP/AVP with three a=crypto
 * lines, answered with one; each side's keys are the other's. */
static void
test_preferred_both (void)
{
  g_autoptr (SpOfferAnswer) a = new_oa (SP_MEDIA_ENCRYPTION_PREFERRED, TRUE);
  g_autoptr (SpOfferAnswer) b = new_oa (SP_MEDIA_ENCRYPTION_PREFERRED, TRUE);
  g_autoptr (GError) error = NULL;
  g_autofree char *offer = sp_offer_answer_create_offer (a);
  g_autofree char *answer = NULL;
  g_autofree char *reoffer = NULL;
  SpMediaParams pa, pb;
  guint8 atx[SP_SRTP_MAX_KEY_LEN], arx[SP_SRTP_MAX_KEY_LEN], btx[SP_SRTP_MAX_KEY_LEN],
      brx[SP_SRTP_MAX_KEY_LEN];
  SpSrtpSuite sa, sb;
  gsize la, lb;

  g_assert_true (sp_offer_answer_can_encrypt (a));
  g_assert_nonnull (strstr (offer, "m=audio 4000 RTP/AVP "));
  g_assert_cmpuint (count (offer, "a=crypto:"), ==, 3);
  g_assert_nonnull (strstr (offer, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"));
  g_assert_nonnull (strstr (offer, "a=crypto:2 AEAD_AES_128_GCM inline:"));
  g_assert_nonnull (strstr (offer, "a=crypto:3 AES_CM_128_HMAC_SHA1_32 inline:"));
  answer = sp_offer_answer_process_offer (b, offer, strlen (offer), &pb, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (answer, "m=audio 4000 RTP/AVP "));
  g_assert_cmpuint (count (answer, "a=crypto:"), ==, 1);
  g_assert_nonnull (strstr (answer, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"));
  g_assert_true (sp_offer_answer_process_answer (a, answer, strlen (answer), &pa, &error));
  g_assert_no_error (error);
  g_assert_true (pa.srtp && pb.srtp);
  g_assert_true (sp_offer_answer_get_sdes_keys (a, &sa, atx, arx, &la));
  g_assert_true (sp_offer_answer_get_sdes_keys (b, &sb, btx, brx, &lb));
  g_assert_cmpint (sa, ==, SP_SRTP_AES_CM_128_HMAC_SHA1_80);
  g_assert_cmpint (sb, ==, sa);
  g_assert_cmpmem (atx, la, brx, lb);
  g_assert_cmpmem (arx, la, btx, lb);
  g_assert_true (memcmp (atx, arx, la) != 0);
  /* A re-offer (hold) keeps the keys: the streams go on. */
  sp_offer_answer_set_hold (a, TRUE);
  reoffer = sp_offer_answer_create_offer (a);
  g_assert_nonnull (strstr (reoffer, "a=sendonly"));
  {
    const char *first = strstr (offer, "a=crypto:1 ");
    const char *again = strstr (reoffer, "a=crypto:1 ");
    g_assert_nonnull (first);
    g_assert_nonnull (again);
    g_assert_cmpint (strncmp (first, again, strcspn (first, "\r")), ==, 0);
  }
}

/* Their offers: the first line we can use, in their order, on the
 * profile they offered. */
static void
test_answer_peers (void)
{
  g_autoptr (GError) error = NULL;
  SpMediaParams p;
  SpSrtpSuite suite;
  guint8 tx[SP_SRTP_MAX_KEY_LEN], rx[SP_SRTP_MAX_KEY_LEN];
  gsize len;

  {
    g_autoptr (SpOfferAnswer) oa = new_oa (SP_MEDIA_ENCRYPTION_PREFERRED, TRUE);
    g_autofree char *answer = sp_offer_answer_process_offer (
        oa, linphone_savp_offer, strlen (linphone_savp_offer), &p, &error);
    g_assert_no_error (error);
    /* AES_256 is not ours: its line 1 is passed over for line 2. */
    g_assert_nonnull (strstr (answer, "m=audio 4000 RTP/SAVP 0 8 101\r\n"));
    g_assert_nonnull (strstr (answer, "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:"));
    g_assert_cmpuint (count (answer, "a=crypto:"), ==, 1);
    g_assert_true (p.srtp);
    g_assert_true (sp_offer_answer_get_sdes_keys (oa, &suite, tx, rx, &len));
    g_assert_cmpint (suite, ==, SP_SRTP_AES_CM_128_HMAC_SHA1_80);
    g_assert_cmpuint (rx[0], ==, 0x5a); /* "WnD7" */
  }
  {
    g_autoptr (SpOfferAnswer) oa = new_oa (SP_MEDIA_ENCRYPTION_PREFERRED, TRUE);
    g_autofree char *answer = sp_offer_answer_process_offer (
        oa, baresip_avp_offer, strlen (baresip_avp_offer), &p, &error);
    g_assert_no_error (error);
    g_assert_nonnull (strstr (answer, "m=audio 4000 RTP/AVP 0 101\r\n"));
    g_assert_nonnull (strstr (answer, "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:"));
    g_assert_true (p.srtp);
  }
  /* Off: best effort is answered in the clear, RTP/SAVP refused. */
  {
    g_autoptr (SpOfferAnswer) oa = new_oa (SP_MEDIA_ENCRYPTION_OFF, TRUE);
    g_autofree char *answer = sp_offer_answer_process_offer (
        oa, baresip_avp_offer, strlen (baresip_avp_offer), &p, &error);
    g_autofree char *refused = NULL;
    g_assert_no_error (error);
    g_assert_null (strstr (answer, "a=crypto"));
    g_assert_false (p.srtp);
    refused = sp_offer_answer_process_offer (oa, linphone_savp_offer, strlen (linphone_savp_offer),
                                             &p, &error);
    g_assert_null (refused);
    g_assert_error (error, SP_MEDIA_ERROR, SP_MEDIA_ERROR_NOT_ACCEPTABLE);
    g_assert_cmpuint (sp_offer_answer_error_status (error), ==, 488);
    g_clear_error (&error);
  }
}

/* Keys that did not come over TLS are not used, and none are sent. */
static void
test_not_over_tls (void)
{
  g_autoptr (SpOfferAnswer) oa = new_oa (SP_MEDIA_ENCRYPTION_PREFERRED, FALSE);
  g_autoptr (SpOfferAnswer) req = new_oa (SP_MEDIA_ENCRYPTION_REQUIRED, FALSE);
  g_autoptr (GError) error = NULL;
  g_autofree char *offer = sp_offer_answer_create_offer (oa);
  g_autofree char *answer = NULL;
  g_autofree char *refused = NULL;
  SpMediaParams p;

  g_assert_null (strstr (offer, "a=crypto"));
  g_assert_false (sp_offer_answer_can_encrypt (oa));
  g_assert_false (sp_offer_answer_can_encrypt (req));
  sp_offer_answer_rollback (oa);
  answer =
      sp_offer_answer_process_offer (oa, baresip_avp_offer, strlen (baresip_avp_offer), &p, &error);
  g_assert_no_error (error);
  g_assert_null (strstr (answer, "a=crypto"));
  g_assert_false (p.srtp);
  refused = sp_offer_answer_process_offer (oa, linphone_savp_offer, strlen (linphone_savp_offer),
                                           &p, &error);
  g_assert_null (refused);
  g_assert_error (error, SP_MEDIA_ERROR, SP_MEDIA_ERROR_NOT_ACCEPTABLE);
  g_assert_nonnull (strstr (error->message, "without TLS"));
}

/* Required: RTP/SAVP out, a plain answer fails with a reason, a plain
 * offer is refused with 488. */
static void
test_required (void)
{
  g_autoptr (SpOfferAnswer) a = new_oa (SP_MEDIA_ENCRYPTION_REQUIRED, TRUE);
  g_autoptr (SpOfferAnswer) plain = new_oa (SP_MEDIA_ENCRYPTION_OFF, TRUE);
  g_autoptr (GError) error = NULL;
  g_autofree char *offer = sp_offer_answer_create_offer (a);
  g_autofree char *answer = NULL;
  g_autofree char *refused = NULL;
  SpMediaParams p;

  g_assert_nonnull (strstr (offer, "m=audio 4000 RTP/SAVP "));
  g_assert_cmpuint (count (offer, "a=crypto:"), ==, 3);
  /* A plain peer that answers anyway (ignoring the profile). */
  sp_offer_answer_rollback (a);
  offer = (g_free (offer), sp_offer_answer_create_offer (a));
  answer = sp_offer_answer_process_offer (plain, plain_offer, strlen (plain_offer), &p, &error);
  g_assert_no_error (error);
  g_assert_false (sp_offer_answer_process_answer (a, answer, strlen (answer), &p, &error));
  g_assert_error (error, SP_MEDIA_ERROR, SP_MEDIA_ERROR_NOT_ACCEPTABLE);
  g_assert_cmpstr (error->message, ==,
                   "the other phone does not encrypt calls and this phone requires it");
  g_clear_error (&error);
  refused = sp_offer_answer_process_offer (a, plain_offer, strlen (plain_offer), &p, &error);
  g_assert_null (refused);
  g_assert_cmpuint (sp_offer_answer_error_status (error), ==, 488);
  g_clear_error (&error);
  /* Best effort SRTP is fine for required. */
  {
    g_autofree char *ok = sp_offer_answer_process_offer (a, baresip_avp_offer,
                                                         strlen (baresip_avp_offer), &p, &error);
    g_assert_no_error (error);
    g_assert_nonnull (strstr (ok, "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:"));
    g_assert_true (p.srtp);
  }
}

/* The SIP log shows no inline key, and nothing else changes. */
static void
test_log_masks_keys (void)
{
  g_autoptr (SpOfferAnswer) a = new_oa (SP_MEDIA_ENCRYPTION_PREFERRED, TRUE);
  g_autofree char *offer = sp_offer_answer_create_offer (a);
  g_autofree char *message = g_strdup_printf (
      "INVITE sips:bob@127.0.0.2 SIP/2.0\r\nContent-Type: application/sdp\r\n\r\n%s", offer);
  gsize len = 0;
  g_autofree char *masked = sp_sip_log_mask_credentials (message, strlen (message), &len);
  g_auto (GStrv) lines = g_strsplit (offer, "\r\n", -1);
  guint keys = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *key = strstr (lines[i], "inline:");
      if (key == NULL)
        continue;
      key += 7;
      g_assert_cmpuint (strlen (key), >=, 38);
      g_assert_null (strstr (masked, key));
      keys++;
    }
  g_assert_cmpuint (keys, ==, 3);
  g_assert_cmpuint (count (masked, "inline:***"), ==, 3);
  g_assert_nonnull (strstr (masked, "a=crypto:2 AEAD_AES_128_GCM inline:***\r\n"));
  g_assert_nonnull (strstr (masked, "m=audio 4000 RTP/AVP"));
  /* A lifetime after the key stays. */
  {
    const char *with_lifetime = "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:SECRETKEY|2^20\r\n";
    g_autofree char *m = sp_sip_log_mask_credentials (with_lifetime, strlen (with_lifetime), NULL);
    g_assert_cmpstr (m, ==, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:***|2^20\r\n");
  }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sdes/parse", test_parse);
  g_test_add_func ("/sdes/preferred-both", test_preferred_both);
  g_test_add_func ("/sdes/answer-peers", test_answer_peers);
  g_test_add_func ("/sdes/not-over-tls", test_not_over_tls);
  g_test_add_func ("/sdes/required", test_required);
  g_test_add_func ("/sdes/log-masks-keys", test_log_masks_keys);
  return g_test_run ();
}
