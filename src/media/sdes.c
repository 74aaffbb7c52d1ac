#include "media/sdes.h"
#include "sip/random.h"

#include <string.h>

#define MAX_TAG 999999999u
/* Base64 of the longest key we take (30 bytes: 40 characters). */
#define MAX_KEY_B64 64

void
sp_sdes_crypto_clear (SpSdesCrypto *crypto)
{
  explicit_bzero (crypto, sizeof *crypto);
}

void
sp_sdes_crypto_free_text (char *text)
{
  if (text == NULL)
    return;
  explicit_bzero (text, strlen (text));
  g_free (text);
}

void
sp_sdes_crypto_generate (SpSdesCrypto *crypto, guint tag, SpSrtpSuite suite)
{
  sp_sdes_crypto_clear (crypto);
  crypto->tag = tag;
  crypto->suite = suite;
  crypto->key_len = sp_srtp_suite_key_length (suite);
  sp_random_bytes (crypto->key, crypto->key_len);
}

static gboolean
parse_tag (const char *text, gsize len, guint *tag)
{
  guint64 value = 0;

  if (len == 0 || len > 9)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      if (!g_ascii_isdigit (text[i]))
        return FALSE;
      value = value * 10 + (guint64) (text[i] - '0');
    }
  *tag = (guint) value;
  return value <= MAX_TAG;
}

static gboolean
is_base64_char (char c)
{
  return g_ascii_isalnum (c) || c == '+' || c == '/';
}

/* Strict base64 of exactly @want bytes, padding optional (some peers
 * leave out the "==" after a 28-byte AEAD key). */
static gboolean
decode_key (const char *text, gsize len, guint8 *out, gsize want)
{
  char padded[MAX_KEY_B64 + 4];
  gsize chars = len;
  guchar *decoded;
  gsize decoded_len = 0;
  gboolean ok;

  while (chars > 0 && text[chars - 1] == '=')
    chars--;
  if (chars == 0 || len > MAX_KEY_B64 || len - chars > 2)
    return FALSE;
  for (gsize i = 0; i < chars; i++)
    if (!is_base64_char (text[i]))
      return FALSE;
  memcpy (padded, text, chars);
  while (chars % 4 != 0)
    padded[chars++] = '=';
  padded[chars] = '\0';
  decoded = g_base64_decode (padded, &decoded_len);
  ok = decoded_len == want;
  if (ok)
    memcpy (out, decoded, want);
  explicit_bzero (padded, sizeof padded);
  if (decoded != NULL)
    explicit_bzero (decoded, decoded_len);
  g_free (decoded);
  return ok;
}

/* A lifetime: decimal digits, or "2^" and digits (RFC 4568 6.1). */
static gboolean
is_lifetime (const char *text, gsize len)
{
  gsize i = 0;

  if (len > 2 && text[0] == '2' && text[1] == '^')
    i = 2;
  if (i == len || len > 24)
    return FALSE;
  for (; i < len; i++)
    if (!g_ascii_isdigit (text[i]))
      return FALSE;
  return TRUE;
}

/* "inline:KEY[|lifetime]" (no MKI) of the suite's length. */
static gboolean
parse_key_param (const char *text, gsize len, SpSdesCrypto *out)
{
  const char *key, *bar;
  gsize key_len;

  if (len < 7 || g_ascii_strncasecmp (text, "inline:", 7) != 0)
    return FALSE;
  key = text + 7;
  len -= 7;
  bar = memchr (key, '|', len);
  key_len = bar != NULL ? (gsize) (bar - key) : len;
  if (bar != NULL)
    {
      const char *rest = bar + 1;
      gsize rest_len = len - key_len - 1;
      /* A lifetime alone; anything after it (an MKI) we cannot honour. */
      if (memchr (rest, '|', rest_len) != NULL || memchr (rest, ':', rest_len) != NULL ||
          !is_lifetime (rest, rest_len))
        return FALSE;
    }
  out->key_len = sp_srtp_suite_key_length (out->suite);
  return decode_key (key, key_len, out->key, out->key_len);
}

gboolean
sp_sdes_crypto_parse (const char *value, SpSdesCrypto *out)
{
  g_auto (GStrv) fields = NULL;
  const char *params;
  const char *semi;
  gsize n = 0;

  sp_sdes_crypto_clear (out);
  if (value == NULL || strlen (value) > 512)
    return FALSE;
  fields = g_strsplit_set (value, " \t", -1);
  /* Empty fields from repeated spaces are skipped in place. */
  for (guint i = 0; fields[i] != NULL; i++)
    if (*fields[i] != '\0')
      {
        char *keep = fields[i];
        fields[i] = fields[n];
        fields[n++] = keep;
      }
  /* tag, suite, key params; session params we cannot honour. */
  if (n != 3 || !parse_tag (fields[0], strlen (fields[0]), &out->tag) ||
      !sp_srtp_suite_from_string (fields[1], &out->suite))
    goto refuse;
  params = fields[2];
  semi = strchr (params, ';');
  if (!parse_key_param (params, semi != NULL ? (gsize) (semi - params) : strlen (params), out))
    goto refuse;
  explicit_bzero (fields[2], strlen (fields[2]));
  return TRUE;

refuse:
  if (n >= 3)
    explicit_bzero (fields[2], strlen (fields[2]));
  sp_sdes_crypto_clear (out);
  return FALSE;
}

char *
sp_sdes_crypto_format (const SpSdesCrypto *crypto)
{
  g_autofree char *b64 = g_base64_encode (crypto->key, crypto->key_len);
  char *text = g_strdup_printf ("%u %s inline:%s", crypto->tag,
                                sp_srtp_suite_to_string (crypto->suite), b64);

  explicit_bzero (b64, strlen (b64));
  return text;
}
