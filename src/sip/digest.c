/* HTTP Digest for SIP: challenge/credential syntax, response computation,
 * verification and self-validating nonces. */

#include "sip/digest.h"

#include "sip/random.h"

#include <string.h>
#include <sys/random.h>

/* ---- Names ------------------------------------------------------------ */

static const char *const algorithm_names[] = { "MD5", "MD5-sess", "SHA-256", "SHA-256-sess" };

const char *
sp_digest_algorithm_to_string (SpDigestAlgorithm algorithm)
{
  if ((guint) algorithm >= G_N_ELEMENTS (algorithm_names))
    return NULL;
  return algorithm_names[algorithm];
}

SpDigestAlgorithm
sp_digest_algorithm_from_string (const char *name)
{
  if (name == NULL)
    return SP_DIGEST_ALGORITHM_UNKNOWN;
  for (guint i = 0; i < G_N_ELEMENTS (algorithm_names); i++)
    if (g_ascii_strcasecmp (name, algorithm_names[i]) == 0)
      return (SpDigestAlgorithm) i;
  return SP_DIGEST_ALGORITHM_UNKNOWN;
}

static gboolean
algorithm_is_sess (SpDigestAlgorithm algorithm)
{
  return algorithm == SP_DIGEST_ALGORITHM_MD5_SESS || algorithm == SP_DIGEST_ALGORITHM_SHA256_SESS;
}

static GChecksumType
algorithm_checksum (SpDigestAlgorithm algorithm)
{
  return algorithm == SP_DIGEST_ALGORITHM_SHA256 || algorithm == SP_DIGEST_ALGORITHM_SHA256_SESS
             ? G_CHECKSUM_SHA256
             : G_CHECKSUM_MD5;
}

/* ---- Syntax ----------------------------------------------------------- */

static void
param_free (gpointer data)
{
  SpDigestParam *param = data;

  g_free (param->name);
  g_free (param->value);
  g_free (param);
}

static void G_GNUC_PRINTF (2, 3) syntax_error (GError **error, const char *fmt, ...)
{
  va_list args;
  g_autofree char *what = NULL;

  va_start (args, fmt);
  what = g_strdup_vprintf (fmt, args);
  va_end (args);
  g_set_error (error, SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST, "Bad authentication header: %s",
               what);
}

/* RFC 3261 token characters. */
static gboolean
is_token_char (guchar c)
{
  return g_ascii_isalnum (c) || (c != '\0' && strchr ("-.!%*_+`'~", c) != NULL);
}

static gboolean
is_lws (guchar c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

typedef struct
{
  const char *p;
  const char *end;
} Scanner;

static void
skip_lws (Scanner *s)
{
  while (s->p < s->end && is_lws ((guchar) *s->p))
    s->p++;
}

static char *
scan_token (Scanner *s)
{
  const char *start = s->p;

  while (s->p < s->end && is_token_char ((guchar) *s->p))
    s->p++;
  return s->p > start ? g_strndup (start, (gsize) (s->p - start)) : NULL;
}

/* A quoted-string, unescaped; the scanner is on the opening quote. */
static char *
scan_quoted (Scanner *s, GError **error)
{
  g_autoptr (GString) out = g_string_new (NULL);

  s->p++;
  while (s->p < s->end && *s->p != '"')
    {
      guchar c = (guchar) *s->p;
      if (c == '\\')
        {
          if (s->p + 1 >= s->end)
            {
              syntax_error (error, "unterminated quoted string");
              return NULL;
            }
          c = (guchar) * ++s->p;
        }
      if (c == '\r' || c == '\n' || c == '\0')
        {
          syntax_error (error, "line break or NUL in a quoted string");
          return NULL;
        }
      g_string_append_c (out, (char) c);
      s->p++;
    }
  if (s->p >= s->end)
    {
      syntax_error (error, "unterminated quoted string");
      return NULL;
    }
  s->p++;
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Parses "scheme name=value, name=value" into @params (SpDigestParam;
 * value NULL never: token or unquoted string). Fails on an unknown
 * scheme with SP_DIGEST_ERROR_UNKNOWN_SCHEME. */
static GPtrArray *
parse_params (const char *value, gssize len, GError **error)
{
  g_autoptr (GPtrArray) params = g_ptr_array_new_with_free_func (param_free);
  g_autofree char *scheme = NULL;
  Scanner s;

  if (value == NULL)
    {
      syntax_error (error, "empty value");
      return NULL;
    }
  if (len < 0)
    len = (gssize) strnlen (value, SP_DIGEST_MAX_VALUE_LENGTH + 1);
  if ((gsize) len > SP_DIGEST_MAX_VALUE_LENGTH)
    {
      syntax_error (error, "longer than %u bytes", SP_DIGEST_MAX_VALUE_LENGTH);
      return NULL;
    }
  if (memchr (value, '\0', (gsize) len) != NULL)
    {
      syntax_error (error, "NUL byte");
      return NULL;
    }
  s.p = value;
  s.end = value + len;
  skip_lws (&s);
  scheme = scan_token (&s);
  if (scheme == NULL || (s.p < s.end && !is_lws ((guchar) *s.p)))
    {
      syntax_error (error, "no scheme");
      return NULL;
    }
  if (g_ascii_strcasecmp (scheme, "Digest") != 0)
    {
      g_set_error (error, SP_SIP_ERROR, SP_DIGEST_ERROR_UNKNOWN_SCHEME,
                   "Unsupported authentication scheme %s", scheme);
      return NULL;
    }
  for (;;)
    {
      SpDigestParam *param;
      g_autofree char *name = NULL;
      char *pvalue;

      /* Empty list elements (",,") are allowed by the #rule. */
      skip_lws (&s);
      while (s.p < s.end && *s.p == ',')
        {
          s.p++;
          skip_lws (&s);
        }
      if (s.p >= s.end)
        break;
      name = scan_token (&s);
      if (name == NULL)
        {
          syntax_error (error, "bad parameter name");
          return NULL;
        }
      skip_lws (&s);
      if (s.p >= s.end || *s.p != '=')
        {
          syntax_error (error, "parameter %s has no value", name);
          return NULL;
        }
      s.p++;
      skip_lws (&s);
      if (s.p < s.end && *s.p == '"')
        pvalue = scan_quoted (&s, error);
      else
        {
          pvalue = scan_token (&s);
          if (pvalue == NULL)
            syntax_error (error, "bad value of %s", name);
        }
      if (pvalue == NULL)
        return NULL;
      if (params->len >= SP_DIGEST_MAX_PARAMS)
        {
          g_free (pvalue);
          syntax_error (error, "more than %u parameters", SP_DIGEST_MAX_PARAMS);
          return NULL;
        }
      param = g_new0 (SpDigestParam, 1);
      param->name = g_steal_pointer (&name);
      param->value = pvalue;
      g_ptr_array_add (params, param);
      skip_lws (&s);
      if (s.p < s.end && *s.p != ',')
        {
          syntax_error (error, "missing comma after %s", param->name);
          return NULL;
        }
    }
  return g_steal_pointer (&params);
}

/* Takes the value of known parameter @name into @field; a second one is
 * an error. Returns TRUE when @param was @name. */
static gboolean
take_param (SpDigestParam *param, const char *name, char **field, gboolean *dup)
{
  if (g_ascii_strcasecmp (param->name, name) != 0)
    return FALSE;
  if (*field != NULL)
    *dup = TRUE;
  else
    *field = g_steal_pointer (&param->value);
  return TRUE;
}

static gboolean
parse_bool (const char *value)
{
  return value != NULL && g_ascii_strcasecmp (value, "true") == 0;
}

/* qop="auth,auth-int" (challenge) or qop=auth (credentials). */
static guint
parse_qop_list (const char *value)
{
  g_auto (GStrv) items = g_strsplit (value, ",", 8);
  guint qop = 0;

  for (guint i = 0; items[i] != NULL; i++)
    {
      const char *item = g_strstrip (items[i]);
      if (g_ascii_strcasecmp (item, "auth") == 0)
        qop |= SP_DIGEST_QOP_AUTH;
      else if (g_ascii_strcasecmp (item, "auth-int") == 0)
        qop |= SP_DIGEST_QOP_AUTH_INT;
    }
  return qop;
}

static void
append_quoted (GString *out, const char *name, const char *value)
{
  g_string_append_printf (out, ", %s=\"", name);
  for (const char *p = value; *p; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_c (out, '\\');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
}

static gboolean
is_token_string (const char *s)
{
  if (*s == '\0')
    return FALSE;
  for (; *s; s++)
    if (!is_token_char ((guchar) *s))
      return FALSE;
  return TRUE;
}

static void
append_extra_params (GString *out, const GPtrArray *params)
{
  for (guint i = 0; i < params->len; i++)
    {
      const SpDigestParam *param = params->pdata[i];
      if (is_token_string (param->value))
        g_string_append_printf (out, ", %s=%s", param->name, param->value);
      else
        append_quoted (out, param->name, param->value);
    }
}

/* Drops the ", " the first append_* wrote after "Digest". */
static char *
finish_header (GString *out)
{
  if (g_str_has_prefix (out->str, "Digest , "))
    g_string_erase (out, 6, 2);
  return g_string_free (out, FALSE);
}

static const char *
algorithm_text (SpDigestAlgorithm algorithm, const char *name)
{
  if (name != NULL)
    return name;
  if (algorithm == SP_DIGEST_ALGORITHM_MD5 || algorithm == SP_DIGEST_ALGORITHM_UNKNOWN)
    return NULL;
  return sp_digest_algorithm_to_string (algorithm);
}

/* ---- Challenges ------------------------------------------------------- */

static SpDigestChallenge *
challenge_alloc (void)
{
  SpDigestChallenge *ch = g_new0 (SpDigestChallenge, 1);

  ch->params = g_ptr_array_new_with_free_func (param_free);
  return ch;
}

void
sp_digest_challenge_free (SpDigestChallenge *ch)
{
  if (ch == NULL)
    return;
  g_free (ch->realm);
  g_free (ch->nonce);
  g_free (ch->opaque);
  g_free (ch->domain);
  g_free (ch->algorithm_name);
  g_ptr_array_unref (ch->params);
  g_free (ch);
}

SpDigestChallenge *
sp_digest_challenge_parse (const char *value, gssize len, GError **error)
{
  g_autoptr (GPtrArray) params = parse_params (value, len, error);
  g_autoptr (SpDigestChallenge) ch = NULL;
  g_autofree char *stale = NULL;
  g_autofree char *qop = NULL;
  g_autofree char *userhash = NULL;
  gboolean dup = FALSE;

  if (params == NULL)
    return NULL;
  ch = challenge_alloc ();
  for (guint i = 0; i < params->len; i++)
    {
      SpDigestParam *p = params->pdata[i];
      if (take_param (p, "realm", &ch->realm, &dup) || take_param (p, "nonce", &ch->nonce, &dup) ||
          take_param (p, "opaque", &ch->opaque, &dup) ||
          take_param (p, "domain", &ch->domain, &dup) ||
          take_param (p, "algorithm", &ch->algorithm_name, &dup) ||
          take_param (p, "stale", &stale, &dup) || take_param (p, "qop", &qop, &dup) ||
          take_param (p, "userhash", &userhash, &dup))
        {
          if (dup)
            {
              syntax_error (error, "%s given twice", p->name);
              return NULL;
            }
          continue;
        }
      g_ptr_array_add (ch->params, g_ptr_array_steal_index (params, i));
      i--;
    }
  if (ch->realm == NULL || ch->nonce == NULL)
    {
      syntax_error (error, "challenge without realm or nonce");
      return NULL;
    }
  ch->algorithm = ch->algorithm_name != NULL ? sp_digest_algorithm_from_string (ch->algorithm_name)
                                             : SP_DIGEST_ALGORITHM_MD5;
  ch->stale = parse_bool (stale);
  ch->userhash = parse_bool (userhash);
  ch->qop = qop != NULL ? parse_qop_list (qop) : 0;
  return g_steal_pointer (&ch);
}

SpDigestChallenge *
sp_digest_challenge_new (const char *realm, const char *nonce, SpDigestAlgorithm algorithm,
                         guint qop)
{
  SpDigestChallenge *ch;

  g_return_val_if_fail (realm != NULL && nonce != NULL, NULL);
  g_return_val_if_fail (algorithm != SP_DIGEST_ALGORITHM_UNKNOWN, NULL);
  ch = challenge_alloc ();
  ch->realm = g_strdup (realm);
  ch->nonce = g_strdup (nonce);
  ch->algorithm = algorithm;
  ch->algorithm_name = g_strdup (sp_digest_algorithm_to_string (algorithm));
  ch->qop = qop & (SP_DIGEST_QOP_AUTH | SP_DIGEST_QOP_AUTH_INT);
  return ch;
}

char *
sp_digest_challenge_to_string (const SpDigestChallenge *ch)
{
  GString *out;
  const char *alg;

  g_return_val_if_fail (ch != NULL && ch->realm != NULL && ch->nonce != NULL, NULL);
  out = g_string_new ("Digest ");
  append_quoted (out, "realm", ch->realm);
  if (ch->domain != NULL)
    append_quoted (out, "domain", ch->domain);
  append_quoted (out, "nonce", ch->nonce);
  if (ch->opaque != NULL)
    append_quoted (out, "opaque", ch->opaque);
  if (ch->stale)
    g_string_append (out, ", stale=true");
  alg = algorithm_text (ch->algorithm, ch->algorithm_name);
  if (alg != NULL && is_token_string (alg))
    g_string_append_printf (out, ", algorithm=%s", alg);
  if (ch->qop == SP_DIGEST_QOP_AUTH)
    g_string_append (out, ", qop=\"auth\"");
  else if (ch->qop == SP_DIGEST_QOP_AUTH_INT)
    g_string_append (out, ", qop=\"auth-int\"");
  else if (ch->qop != 0)
    g_string_append (out, ", qop=\"auth,auth-int\"");
  if (ch->userhash)
    g_string_append (out, ", userhash=true");
  if (ch->params != NULL)
    append_extra_params (out, ch->params);
  return finish_header (out);
}

/* ---- Credentials ------------------------------------------------------ */

static SpDigestCredentials *
credentials_alloc (void)
{
  SpDigestCredentials *cr = g_new0 (SpDigestCredentials, 1);

  cr->params = g_ptr_array_new_with_free_func (param_free);
  return cr;
}

void
sp_digest_credentials_free (SpDigestCredentials *cr)
{
  if (cr == NULL)
    return;
  g_free (cr->username);
  g_free (cr->realm);
  g_free (cr->nonce);
  g_free (cr->uri);
  g_free (cr->response);
  g_free (cr->algorithm_name);
  g_free (cr->cnonce);
  g_free (cr->opaque);
  g_free (cr->nc);
  g_ptr_array_unref (cr->params);
  g_free (cr);
}

/* nc = 8LHEX; upper case is tolerated. */
static gboolean
parse_nc (const char *text, guint32 *out)
{
  guint32 v = 0;

  if (strlen (text) != 8)
    return FALSE;
  for (guint i = 0; i < 8; i++)
    {
      if (!g_ascii_isxdigit (text[i]))
        return FALSE;
      v = (v << 4) | (guint32) g_ascii_xdigit_value (text[i]);
    }
  *out = v;
  return TRUE;
}

/* Fills the typed fields from @params; leftovers go to cr->params. */
static gboolean
credentials_take_params (SpDigestCredentials *cr, GPtrArray *params, char **qop, char **userhash,
                         GError **error)
{
  gboolean dup = FALSE;

  for (guint i = 0; i < params->len; i++)
    {
      SpDigestParam *p = params->pdata[i];
      if (take_param (p, "username", &cr->username, &dup) ||
          take_param (p, "realm", &cr->realm, &dup) || take_param (p, "nonce", &cr->nonce, &dup) ||
          take_param (p, "uri", &cr->uri, &dup) ||
          take_param (p, "response", &cr->response, &dup) ||
          take_param (p, "algorithm", &cr->algorithm_name, &dup) ||
          take_param (p, "cnonce", &cr->cnonce, &dup) ||
          take_param (p, "opaque", &cr->opaque, &dup) || take_param (p, "qop", qop, &dup) ||
          take_param (p, "nc", &cr->nc, &dup) || take_param (p, "userhash", userhash, &dup))
        {
          if (dup)
            {
              syntax_error (error, "%s given twice", p->name);
              return FALSE;
            }
          continue;
        }
      g_ptr_array_add (cr->params, g_ptr_array_steal_index (params, i));
      i--;
    }
  return TRUE;
}

SpDigestCredentials *
sp_digest_credentials_parse (const char *value, gssize len, GError **error)
{
  g_autoptr (GPtrArray) params = parse_params (value, len, error);
  g_autoptr (SpDigestCredentials) cr = NULL;
  g_autofree char *qop = NULL;
  g_autofree char *userhash = NULL;

  if (params == NULL)
    return NULL;
  cr = credentials_alloc ();
  if (!credentials_take_params (cr, params, &qop, &userhash, error))
    return NULL;
  if (cr->username == NULL || cr->realm == NULL || cr->nonce == NULL || cr->uri == NULL ||
      cr->response == NULL)
    {
      syntax_error (error, "credentials need username, realm, nonce, uri and response");
      return NULL;
    }
  cr->algorithm = cr->algorithm_name != NULL ? sp_digest_algorithm_from_string (cr->algorithm_name)
                                             : SP_DIGEST_ALGORITHM_MD5;
  cr->userhash = parse_bool (userhash);
  if (qop != NULL)
    {
      if (g_ascii_strcasecmp (qop, "auth") == 0)
        cr->qop = SP_DIGEST_QOP_AUTH;
      else if (g_ascii_strcasecmp (qop, "auth-int") == 0)
        cr->qop = SP_DIGEST_QOP_AUTH_INT;
      else
        {
          syntax_error (error, "unknown qop %s", qop);
          return NULL;
        }
      if (cr->cnonce == NULL || cr->nc == NULL)
        {
          syntax_error (error, "qop without cnonce or nc");
          return NULL;
        }
    }
  if (cr->nc != NULL && !parse_nc (cr->nc, &cr->nc_value))
    {
      syntax_error (error, "bad nc");
      return NULL;
    }
  return g_steal_pointer (&cr);
}

char *
sp_digest_credentials_to_string (const SpDigestCredentials *cr)
{
  GString *out;
  const char *alg;

  g_return_val_if_fail (cr != NULL, NULL);
  g_return_val_if_fail (cr->username && cr->realm && cr->nonce && cr->uri && cr->response, NULL);
  out = g_string_new ("Digest ");
  append_quoted (out, "username", cr->username);
  append_quoted (out, "realm", cr->realm);
  append_quoted (out, "nonce", cr->nonce);
  append_quoted (out, "uri", cr->uri);
  append_quoted (out, "response", cr->response);
  alg = algorithm_text (cr->algorithm, cr->algorithm_name);
  if (alg != NULL && is_token_string (alg))
    g_string_append_printf (out, ", algorithm=%s", alg);
  if (cr->cnonce != NULL)
    append_quoted (out, "cnonce", cr->cnonce);
  if (cr->opaque != NULL)
    append_quoted (out, "opaque", cr->opaque);
  if (cr->qop != SP_DIGEST_QOP_NONE)
    g_string_append_printf (out, ", qop=%s",
                            cr->qop == SP_DIGEST_QOP_AUTH_INT ? "auth-int" : "auth");
  if (cr->nc != NULL && is_token_string (cr->nc))
    g_string_append_printf (out, ", nc=%s", cr->nc);
  if (cr->userhash)
    g_string_append (out, ", userhash=true");
  if (cr->params != NULL)
    append_extra_params (out, cr->params);
  return finish_header (out);
}

/* ---- Computation ------------------------------------------------------ */

/* H(a:b:c...) in lower-case hex. */
static char *
hash_joined (GChecksumType type, const char *const *parts, guint n)
{
  g_autoptr (GChecksum) sum = g_checksum_new (type);

  for (guint i = 0; i < n; i++)
    {
      if (i > 0)
        g_checksum_update (sum, (const guchar *) ":", 1);
      g_checksum_update (sum, (const guchar *) parts[i], -1);
    }
  return g_strdup (g_checksum_get_string (sum));
}

char *
sp_digest_compute_ha1 (SpDigestAlgorithm algorithm, const char *username, const char *realm,
                       const char *password)
{
  const char *parts[] = { username, realm, password };

  g_return_val_if_fail (username != NULL && realm != NULL && password != NULL, NULL);
  if (algorithm == SP_DIGEST_ALGORITHM_UNKNOWN)
    return NULL;
  return hash_joined (algorithm_checksum (algorithm), parts, 3);
}

static gboolean
is_hex_of_length (const char *s, gsize len)
{
  if (strlen (s) != len)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isxdigit (s[i]))
      return FALSE;
  return TRUE;
}

char *
sp_digest_compute_response (SpDigestAlgorithm algorithm, const char *ha1, const char *nonce,
                            const char *nc, const char *cnonce, SpDigestQop qop, const char *method,
                            const char *uri, const guint8 *body, gsize body_len)
{
  GChecksumType type;
  g_autofree char *h1 = NULL;
  g_autofree char *h2 = NULL;

  g_return_val_if_fail (ha1 != NULL && nonce != NULL && method != NULL && uri != NULL, NULL);
  if (algorithm == SP_DIGEST_ALGORITHM_UNKNOWN)
    return NULL;
  type = algorithm_checksum (algorithm);
  if (!is_hex_of_length (ha1, (gsize) g_checksum_type_get_length (type) * 2))
    return NULL;
  if ((qop != SP_DIGEST_QOP_NONE || algorithm_is_sess (algorithm)) && cnonce == NULL)
    return NULL;
  if (qop != SP_DIGEST_QOP_NONE && nc == NULL)
    return NULL;

  h1 = g_ascii_strdown (ha1, -1);
  if (algorithm_is_sess (algorithm))
    {
      const char *parts[] = { h1, nonce, cnonce };
      char *sess = hash_joined (type, parts, 3);
      g_free (h1);
      h1 = sess;
    }
  if (qop == SP_DIGEST_QOP_AUTH_INT)
    {
      g_autofree char *hbody = g_compute_checksum_for_data (
          type, body != NULL ? body : (const guchar *) "", body != NULL ? body_len : 0);
      const char *parts[] = { method, uri, hbody };
      h2 = hash_joined (type, parts, 3);
    }
  else
    {
      const char *parts[] = { method, uri };
      h2 = hash_joined (type, parts, 2);
    }
  if (qop == SP_DIGEST_QOP_NONE)
    {
      const char *parts[] = { h1, nonce, h2 };
      return hash_joined (type, parts, 3);
    }
  else
    {
      const char *parts[] = {
        h1, nonce, nc, cnonce, qop == SP_DIGEST_QOP_AUTH_INT ? "auth-int" : "auth", h2
      };
      return hash_joined (type, parts, 6);
    }
}

static void
random_bytes (guint8 *buf, gsize len)
{
  sp_random_bytes (buf, len);
}

static char *
hex_encode (const guint8 *data, gsize len)
{
  static const char digits[] = "0123456789abcdef";
  char *out = g_malloc (len * 2 + 1);

  for (gsize i = 0; i < len; i++)
    {
      out[2 * i] = digits[data[i] >> 4];
      out[2 * i + 1] = digits[data[i] & 0xf];
    }
  out[len * 2] = '\0';
  return out;
}

SpDigestCredentials *
sp_digest_credentials_new_for_challenge (const SpDigestChallenge *challenge, const char *username,
                                         const char *password, const char *ha1, const char *method,
                                         const char *uri, const guint8 *body, gsize body_len,
                                         guint32 nc, const char *cnonce, GError **error)
{
  g_autoptr (SpDigestCredentials) cr = NULL;
  g_autofree char *my_ha1 = NULL;

  g_return_val_if_fail (challenge != NULL && username != NULL, NULL);
  g_return_val_if_fail (password != NULL || ha1 != NULL, NULL);
  g_return_val_if_fail (method != NULL && uri != NULL, NULL);

  if (challenge->algorithm == SP_DIGEST_ALGORITHM_UNKNOWN)
    {
      g_set_error (error, SP_SIP_ERROR, SP_SIP_ERROR_NOT_IMPLEMENTED,
                   "Digest algorithm %s not supported",
                   challenge->algorithm_name != NULL ? challenge->algorithm_name : "?");
      return NULL;
    }
  cr = credentials_alloc ();
  cr->realm = g_strdup (challenge->realm);
  cr->nonce = g_strdup (challenge->nonce);
  cr->uri = g_strdup (uri);
  cr->algorithm = challenge->algorithm;
  cr->algorithm_name = g_strdup (challenge->algorithm_name);
  cr->opaque = g_strdup (challenge->opaque);
  if (challenge->qop & SP_DIGEST_QOP_AUTH)
    cr->qop = SP_DIGEST_QOP_AUTH;
  else if (challenge->qop & SP_DIGEST_QOP_AUTH_INT)
    cr->qop = SP_DIGEST_QOP_AUTH_INT;
  if (cr->qop != SP_DIGEST_QOP_NONE || algorithm_is_sess (cr->algorithm))
    {
      if (cnonce != NULL)
        cr->cnonce = g_strdup (cnonce);
      else
        {
          guint8 raw[16];
          random_bytes (raw, sizeof raw);
          cr->cnonce = hex_encode (raw, sizeof raw);
        }
    }
  if (cr->qop != SP_DIGEST_QOP_NONE)
    {
      cr->nc_value = nc;
      cr->nc = g_strdup_printf ("%08x", nc);
    }
  if (ha1 == NULL)
    ha1 = my_ha1 = sp_digest_compute_ha1 (cr->algorithm, username, challenge->realm, password);
  cr->response = sp_digest_compute_response (cr->algorithm, ha1, cr->nonce, cr->nc, cr->cnonce,
                                             cr->qop, method, uri, body, body_len);
  if (cr->response == NULL)
    {
      g_set_error (error, SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST,
                   "Stored HA1 does not fit digest algorithm %s",
                   sp_digest_algorithm_to_string (cr->algorithm));
      return NULL;
    }
  if (challenge->userhash)
    {
      /* RFC 7616 3.4.4: the username goes out hashed with the realm. */
      const char *parts[] = { username, challenge->realm };
      cr->username = hash_joined (algorithm_checksum (cr->algorithm), parts, 2);
      cr->userhash = TRUE;
    }
  else
    cr->username = g_strdup (username);
  return g_steal_pointer (&cr);
}

gboolean
sp_digest_equal_constant_time (const char *a, const char *b)
{
  gsize la, lb;
  guint8 diff;

  if (a == NULL || b == NULL)
    return FALSE;
  la = strlen (a);
  lb = strlen (b);
  diff = la != lb;
  for (gsize i = 0; i < la; i++)
    diff |= (guint8) (a[i] ^ b[i % (lb > 0 ? lb : 1)]);
  return diff == 0 && la == lb;
}

gboolean
sp_digest_credentials_verify (const SpDigestCredentials *cr, const char *ha1, const char *method,
                              const guint8 *body, gsize body_len)
{
  g_autofree char *expected = NULL;
  g_autofree char *received = NULL;

  g_return_val_if_fail (cr != NULL && ha1 != NULL && method != NULL, FALSE);
  if (cr->response == NULL || cr->nonce == NULL || cr->uri == NULL)
    return FALSE;
  expected = sp_digest_compute_response (cr->algorithm, ha1, cr->nonce, cr->nc, cr->cnonce, cr->qop,
                                         method, cr->uri, body, body_len);
  if (expected == NULL)
    return FALSE;
  received = g_ascii_strdown (cr->response, -1);
  return sp_digest_equal_constant_time (expected, received);
}

/* ---- Nonces ----------------------------------------------------------- */

#define NONCE_TIME_BYTES   8
#define NONCE_RANDOM_BYTES 8
#define NONCE_MAC_BYTES    32
#define NONCE_BYTES        (NONCE_TIME_BYTES + NONCE_RANDOM_BYTES + NONCE_MAC_BYTES)

G_STATIC_ASSERT (NONCE_BYTES * 2 == SP_DIGEST_NONCE_LENGTH);

static void
nonce_mac (const guint8 *secret, gsize secret_len, const guint8 *head, const char *realm,
           guint8 *mac)
{
  g_autoptr (GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA256, secret, secret_len);
  gsize len = NONCE_MAC_BYTES;

  g_hmac_update (hmac, head, NONCE_TIME_BYTES + NONCE_RANDOM_BYTES);
  g_hmac_update (hmac, (const guchar *) realm, -1);
  g_hmac_get_digest (hmac, mac, &len);
}

char *
sp_digest_nonce_new (const guint8 *secret, gsize secret_len, const char *realm, gint64 now)
{
  guint8 raw[NONCE_BYTES];
  guint64 t = (guint64) now;

  g_return_val_if_fail (secret != NULL && secret_len > 0 && realm != NULL, NULL);
  for (guint i = 0; i < NONCE_TIME_BYTES; i++)
    raw[i] = (guint8) (t >> (8 * (NONCE_TIME_BYTES - 1 - i)));
  random_bytes (raw + NONCE_TIME_BYTES, NONCE_RANDOM_BYTES);
  nonce_mac (secret, secret_len, raw, realm, raw + NONCE_TIME_BYTES + NONCE_RANDOM_BYTES);
  return hex_encode (raw, sizeof raw);
}

SpDigestNonceCheck
sp_digest_nonce_check (const guint8 *secret, gsize secret_len, const char *nonce, const char *realm,
                       gint64 now, gint64 lifetime)
{
  guint8 raw[NONCE_BYTES];
  guint8 mac[NONCE_MAC_BYTES];
  guint8 diff = 0;
  guint64 t = 0;
  gint64 issued;

  g_return_val_if_fail (secret != NULL && secret_len > 0, SP_DIGEST_NONCE_INVALID);
  if (nonce == NULL || realm == NULL || !is_hex_of_length (nonce, SP_DIGEST_NONCE_LENGTH))
    return SP_DIGEST_NONCE_INVALID;
  for (guint i = 0; i < NONCE_BYTES; i++)
    raw[i] = (guint8) ((g_ascii_xdigit_value (nonce[2 * i]) << 4) |
                       g_ascii_xdigit_value (nonce[2 * i + 1]));
  nonce_mac (secret, secret_len, raw, realm, mac);
  for (guint i = 0; i < NONCE_MAC_BYTES; i++)
    diff |= mac[i] ^ raw[NONCE_TIME_BYTES + NONCE_RANDOM_BYTES + i];
  if (diff != 0)
    return SP_DIGEST_NONCE_INVALID;
  for (guint i = 0; i < NONCE_TIME_BYTES; i++)
    t = (t << 8) | raw[i];
  issued = (gint64) t;
  /* Unsigned difference: no overflow for any @now the caller passes. */
  if (issued > now || (guint64) now - (guint64) issued > (guint64) MAX (lifetime, 0))
    return SP_DIGEST_NONCE_STALE;
  return SP_DIGEST_NONCE_VALID;
}

gint64
sp_digest_nonce_get_time (const char *nonce)
{
  guint64 t = 0;

  if (nonce == NULL || !is_hex_of_length (nonce, SP_DIGEST_NONCE_LENGTH))
    return -1;
  for (guint i = 0; i < NONCE_TIME_BYTES; i++)
    t = (t << 8) | (guint64) ((g_ascii_xdigit_value (nonce[2 * i]) << 4) |
                              g_ascii_xdigit_value (nonce[2 * i + 1]));
  return t > G_MAXINT64 ? -1 : (gint64) t;
}
