#pragma once

#include <glib.h>

#include "media/srtp.h"

G_BEGIN_DECLS

/* SDP Security Descriptions (RFC 4568): one a=crypto attribute,
 *   a=crypto:<tag> <suite> inline:<base64 key||salt>[|<lifetime>][|<MKI>:<len>] [<session params>]
 * for the suites SpSrtp knows (RFC 4568 AES_CM_128_HMAC_SHA1_80/_32,
 * RFC 7714 AEAD_AES_128_GCM).
 *
 * What we take: the first key parameter, inline, of exactly the suite's
 * length; a lifetime is accepted (libsrtp enforces the suite's own
 * limit). Lines we cannot honour are refused as a whole, as RFC 4568
 * 6.3 asks: an MKI (our peers use none, and one would need the MKI in
 * every packet), session parameters (UNENCRYPTED_SRTP, KDR, ...), an
 * unknown suite, a tag outside 0..999999999. Every length is bounded.
 *
 * Keys are secrets: sp_sdes_crypto_clear () wipes them, and nothing here
 * logs. */

typedef struct
{
  guint tag;
  SpSrtpSuite suite;
  guint8 key[SP_SRTP_MAX_KEY_LEN]; /* master key || master salt */
  gsize key_len;                   /* sp_srtp_suite_key_length (suite) */
} SpSdesCrypto;

/* The value of an a=crypto attribute (what follows "crypto:"). FALSE,
 * with @out cleared, for anything we cannot use (see above). */
gboolean sp_sdes_crypto_parse (const char *value, SpSdesCrypto *out);
/* "1 AES_CM_128_HMAC_SHA1_80 inline:<base64>" (free it with
 * sp_sdes_crypto_free_text: it holds the key). */
char *sp_sdes_crypto_format (const SpSdesCrypto *crypto);
/* A fresh key from the kernel's CSPRNG (sip/random.h). */
void sp_sdes_crypto_generate (SpSdesCrypto *crypto, guint tag, SpSrtpSuite suite);
void sp_sdes_crypto_clear (SpSdesCrypto *crypto);
/* Wipes and frees a string that held a key (NULL-safe). */
void sp_sdes_crypto_free_text (char *text);

G_END_DECLS
