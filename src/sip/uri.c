#include "sip/uri.h"

#include <gio/gio.h>
#include <string.h>

#include "sip/sip-private.h"

struct _SpSipUri
{
  SpUriScheme scheme;
  char *scheme_name;
  char *user;
  char *password;
  char *host;
  char *opaque;
  GPtrArray *params;  /* SpSipParam, never NULL */
  GPtrArray *headers; /* SpSipParam, NULL until one is seen */
  guint16 port;
  gboolean ipv6;
};

static SpSipUri *
uri_alloc (SpUriScheme scheme, const char *scheme_name)
{
  SpSipUri *uri = g_new0 (SpSipUri, 1);

  uri->scheme = scheme;
  uri->scheme_name = g_strdup (scheme_name);
  uri->params = sp_sip_params_new ();
  return uri;
}

static const char *
scheme_name_of (SpUriScheme scheme)
{
  switch (scheme)
    {
      case SP_URI_SCHEME_SIP:
        return "sip";
      case SP_URI_SCHEME_SIPS:
        return "sips";
      case SP_URI_SCHEME_TEL:
        return "tel";
      case SP_URI_SCHEME_OTHER:
      default:
        return "x-unknown";
    }
}

SpSipUri *
sp_sip_uri_new (SpUriScheme scheme, const char *user, const char *host, guint16 port)
{
  SpSipUri *uri = uri_alloc (scheme, scheme_name_of (scheme));

  uri->user = g_strdup (user);
  if (scheme == SP_URI_SCHEME_SIP || scheme == SP_URI_SCHEME_SIPS)
    sp_sip_uri_set_host (uri, host);
  uri->port = port;
  return uri;
}

SpSipUri *
sp_sip_uri_copy (const SpSipUri *uri)
{
  SpSipUri *copy;

  if (!uri)
    return NULL;
  copy = g_new0 (SpSipUri, 1);
  copy->scheme = uri->scheme;
  copy->scheme_name = g_strdup (uri->scheme_name);
  copy->user = g_strdup (uri->user);
  copy->password = g_strdup (uri->password);
  copy->host = g_strdup (uri->host);
  copy->opaque = g_strdup (uri->opaque);
  copy->params = sp_sip_params_copy (uri->params);
  copy->headers = uri->headers ? sp_sip_params_copy (uri->headers) : NULL;
  copy->port = uri->port;
  copy->ipv6 = uri->ipv6;
  return copy;
}

void
sp_sip_uri_free (SpSipUri *uri)
{
  if (!uri)
    return;
  g_free (uri->scheme_name);
  g_free (uri->user);
  g_free (uri->password);
  g_free (uri->host);
  g_free (uri->opaque);
  g_ptr_array_unref (uri->params);
  if (uri->headers)
    g_ptr_array_unref (uri->headers);
  g_free (uri);
}

static gboolean
uri_fail (GError **error, const char *what)
{
  g_set_error (error, SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST, "Malformed URI (%s)", what);
  return FALSE;
}

/* ";name[=value]" parameters up to @end or a '?'. */
static gboolean
parse_uri_params (SpSipUri *uri, const char **pp, const char *end, GError **error)
{
  const char *p = *pp;

  while (p < end && *p == ';')
    {
      const char *name = ++p, *value = NULL;
      gsize name_len;

      p = sp_sip_scan_escaped (p, end, SP_CC_PARAM);
      name_len = (gsize) (p - name);
      if (name_len == 0)
        return uri_fail (error, "empty parameter");
      if (p < end && *p == '=')
        {
          value = ++p;
          p = sp_sip_scan_escaped (p, end, SP_CC_PARAM);
        }
      g_ptr_array_add (uri->params,
                       sp_sip_param_new (name, name_len, value, value ? p - value : -1));
    }
  *pp = p;
  return TRUE;
}

static gboolean
parse_uri_headers (SpSipUri *uri, const char **pp, const char *end, GError **error)
{
  const char *p = *pp;

  if (p >= end || *p != '?')
    return TRUE;
  uri->headers = sp_sip_params_new ();
  do
    {
      const char *name = ++p, *value;
      gsize name_len;

      p = sp_sip_scan_escaped (p, end, SP_CC_HNV);
      name_len = (gsize) (p - name);
      if (name_len == 0 || p >= end || *p != '=')
        return uri_fail (error, "bad header");
      value = ++p;
      p = sp_sip_scan_escaped (p, end, SP_CC_HNV);
      g_ptr_array_add (uri->headers, sp_sip_param_new (name, name_len, value, p - value));
    }
  while (p < end && *p == '&');
  *pp = p;
  return TRUE;
}

static gboolean
is_ipv6_char (guchar c)
{
  return g_ascii_isxdigit (c) || c == ':' || c == '.';
}

/* host [":" port]. An IPv6 reference is kept without brackets; RFC 5118
 * asks to tolerate the 3-colon form RFC 3261's ABNF allowed, so the
 * check is on characters, not on RFC 4291 structure. */
static gboolean
parse_hostport (SpSipUri *uri, const char **pp, const char *end, GError **error)
{
  const char *p = *pp, *host = p, *host_end;

  if (p < end && *p == '[')
    {
      host = ++p;
      while (p < end && is_ipv6_char (*p))
        p++;
      host_end = p;
      if (p >= end || *p != ']' || host_end - host < 2 || host_end - host > 64 ||
          !memchr (host, ':', (gsize) (host_end - host)))
        return uri_fail (error, "bad IPv6 reference");
      p++;
      uri->ipv6 = TRUE;
    }
  else
    {
      while (p < end && sp_sip_is (*p, SP_CC_HOST))
        p++;
      host_end = p;
      if (host_end == host || *host == '.' || *host == '-')
        return uri_fail (error, "bad host");
    }
  uri->host = g_ascii_strdown (host, host_end - host);
  if (p < end && *p == ':')
    {
      const char *port = ++p;
      guint64 v;

      while (p < end && g_ascii_isdigit (*p))
        p++;
      if (!sp_sip_parse_uint (port, p, 65535, &v) || v == 0)
        return uri_fail (error, "bad port");
      uri->port = (guint16) v;
    }
  *pp = p;
  return TRUE;
}

static gboolean
parse_sip_uri (SpSipUri *uri, const char *p, const char *end, GError **error)
{
  const char *at = memchr (p, '@', (gsize) (end - p));

  if (at)
    {
      const char *user_end = sp_sip_scan_escaped (p, at, SP_CC_USER);
      const char *pass_end;

      if (user_end == p)
        return uri_fail (error, "empty user");
      uri->user = sp_sip_dup_bytes (p, (gsize) (user_end - p));
      if (user_end < at)
        {
          if (*user_end != ':')
            return uri_fail (error, "bad user");
          pass_end = sp_sip_scan_escaped (user_end + 1, at, SP_CC_PASS);
          if (pass_end != at)
            return uri_fail (error, "bad password");
          uri->password = sp_sip_dup_bytes (user_end + 1, (gsize) (at - user_end - 1));
        }
      p = at + 1;
    }
  if (!parse_hostport (uri, &p, end, error) || !parse_uri_params (uri, &p, end, error) ||
      !parse_uri_headers (uri, &p, end, error))
    return FALSE;
  if (p != end)
    return uri_fail (error, "unexpected character");
  return TRUE;
}

/* tel: (RFC 3966), kept simple: the number up to the first ';' and then
 * parameters. Visual separators stay as received. */
static gboolean
parse_tel_uri (SpSipUri *uri, const char *p, const char *end, GError **error)
{
  const char *num = p;

  while (p < end && (g_ascii_isxdigit (*p) || strchr ("+-.()*#", *p) != NULL) && *p != '\0')
    p++;
  if (p == num)
    return uri_fail (error, "empty telephone number");
  uri->user = sp_sip_dup_bytes (num, (gsize) (p - num));
  if (!parse_uri_params (uri, &p, end, error))
    return FALSE;
  if (p != end)
    return uri_fail (error, "unexpected character");
  return TRUE;
}

static gboolean
parse_opaque (SpSipUri *uri, const char *p, const char *end, GError **error)
{
  if (p == end)
    return uri_fail (error, "empty");
  for (const char *q = p; q < end; q++)
    {
      guchar c = (guchar) *q;

      if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '"')
        return uri_fail (error, "unexpected character");
    }
  uri->opaque = sp_sip_dup_bytes (p, (gsize) (end - p));
  return TRUE;
}

SpSipUri *
sp_sip_uri_parse_range (const char *p, const char *end, GError **error)
{
  const char *s = p;
  g_autofree char *scheme_name = NULL;
  g_autoptr (SpSipUri) uri = NULL;
  SpUriScheme scheme;
  gboolean ok;

  if (p >= end || !g_ascii_isalpha (*p))
    return uri_fail (error, "no scheme"), NULL;
  while (p < end && (g_ascii_isalnum (*p) || *p == '+' || *p == '-' || *p == '.'))
    p++;
  if (p >= end || *p != ':' || p - s > 32)
    return uri_fail (error, "no scheme"), NULL;
  scheme_name = g_ascii_strdown (s, p - s);
  if (strcmp (scheme_name, "sip") == 0)
    scheme = SP_URI_SCHEME_SIP;
  else if (strcmp (scheme_name, "sips") == 0)
    scheme = SP_URI_SCHEME_SIPS;
  else if (strcmp (scheme_name, "tel") == 0)
    scheme = SP_URI_SCHEME_TEL;
  else
    scheme = SP_URI_SCHEME_OTHER;
  uri = uri_alloc (scheme, scheme_name);
  p++;
  if (scheme == SP_URI_SCHEME_SIP || scheme == SP_URI_SCHEME_SIPS)
    ok = parse_sip_uri (uri, p, end, error);
  else if (scheme == SP_URI_SCHEME_TEL)
    ok = parse_tel_uri (uri, p, end, error);
  else
    ok = parse_opaque (uri, p, end, error);
  return ok ? g_steal_pointer (&uri) : NULL;
}

SpSipUri *
sp_sip_uri_parse (const char *text, gssize len, GError **error)
{
  g_return_val_if_fail (text != NULL, NULL);
  if (len < 0)
    len = (gssize) strlen (text);
  return sp_sip_uri_parse_range (text, text + len, error);
}

SpUriScheme
sp_sip_uri_get_scheme (const SpSipUri *uri)
{
  return uri->scheme;
}

const char *
sp_sip_uri_get_scheme_name (const SpSipUri *uri)
{
  return uri->scheme_name;
}

const char *
sp_sip_uri_get_user (const SpSipUri *uri)
{
  return uri->user;
}

char *
sp_sip_uri_dup_user_unescaped (const SpSipUri *uri, gsize *len)
{
  if (!uri->user)
    {
      if (len)
        *len = 0;
      return NULL;
    }
  return sp_sip_unescape (uri->user, strlen (uri->user), len);
}

const char *
sp_sip_uri_get_password (const SpSipUri *uri)
{
  return uri->password;
}

const char *
sp_sip_uri_get_host (const SpSipUri *uri)
{
  return uri->host;
}

gboolean
sp_sip_uri_host_is_ipv6 (const SpSipUri *uri)
{
  return uri->ipv6;
}

guint16
sp_sip_uri_get_port (const SpSipUri *uri)
{
  return uri->port;
}

const char *
sp_sip_uri_get_opaque (const SpSipUri *uri)
{
  return uri->opaque;
}

gboolean
sp_sip_uri_has_param (const SpSipUri *uri, const char *name)
{
  return sp_sip_params_find (uri->params, name) >= 0;
}

const char *
sp_sip_uri_get_param (const SpSipUri *uri, const char *name)
{
  gint i = sp_sip_params_find (uri->params, name);

  return i < 0 ? NULL : ((SpSipParam *) g_ptr_array_index (uri->params, i))->value;
}

void
sp_sip_uri_set_param (SpSipUri *uri, const char *name, const char *value)
{
  sp_sip_params_set (uri->params, name, value);
}

void
sp_sip_uri_remove_param (SpSipUri *uri, const char *name)
{
  gint i;

  while ((i = sp_sip_params_find (uri->params, name)) >= 0)
    g_ptr_array_remove_index (uri->params, (guint) i);
}

guint
sp_sip_uri_get_n_params (const SpSipUri *uri)
{
  return uri->params->len;
}

const SpSipParam *
sp_sip_uri_get_nth_param (const SpSipUri *uri, guint n)
{
  return n < uri->params->len ? g_ptr_array_index (uri->params, n) : NULL;
}

guint
sp_sip_uri_get_n_headers (const SpSipUri *uri)
{
  return uri->headers ? uri->headers->len : 0;
}

const SpSipParam *
sp_sip_uri_get_nth_header (const SpSipUri *uri, guint n)
{
  return n < sp_sip_uri_get_n_headers (uri) ? g_ptr_array_index (uri->headers, n) : NULL;
}

void
sp_sip_uri_set_user (SpSipUri *uri, const char *user)
{
  g_free (uri->user);
  uri->user = g_strdup (user);
}

void
sp_sip_uri_set_host (SpSipUri *uri, const char *host)
{
  g_free (uri->host);
  uri->host = NULL;
  uri->ipv6 = FALSE;
  if (!host)
    return;
  if (host[0] == '[')
    {
      gsize n = strlen (host);

      uri->host = g_ascii_strdown (host + 1, n >= 2 && host[n - 1] == ']' ? (gssize) n - 2 : -1);
    }
  else
    uri->host = g_ascii_strdown (host, -1);
  uri->ipv6 = strchr (uri->host, ':') != NULL;
}

void
sp_sip_uri_set_port (SpSipUri *uri, guint16 port)
{
  uri->port = port;
}

void
sp_sip_uri_append_to (const SpSipUri *uri, GString *out)
{
  g_string_append (out, uri->scheme_name);
  g_string_append_c (out, ':');
  if (uri->scheme == SP_URI_SCHEME_OTHER)
    {
      g_string_append (out, uri->opaque ? uri->opaque : "");
      return;
    }
  if (uri->user)
    {
      g_string_append (out, uri->user);
      if (uri->scheme != SP_URI_SCHEME_TEL)
        {
          if (uri->password)
            {
              g_string_append_c (out, ':');
              g_string_append (out, uri->password);
            }
          g_string_append_c (out, '@');
        }
    }
  if (uri->host)
    {
      if (uri->ipv6)
        g_string_append_c (out, '[');
      g_string_append (out, uri->host);
      if (uri->ipv6)
        g_string_append_c (out, ']');
    }
  if (uri->port)
    {
      g_string_append_c (out, ':');
      sp_sip_append_uint (out, uri->port);
    }
  sp_sip_params_append_to (uri->params, out);
  for (guint i = 0; uri->headers && i < uri->headers->len; i++)
    {
      const SpSipParam *h = g_ptr_array_index (uri->headers, i);

      g_string_append_c (out, i == 0 ? '?' : '&');
      g_string_append (out, h->name);
      g_string_append_c (out, '=');
      g_string_append (out, h->value ? h->value : "");
    }
}

char *
sp_sip_uri_to_string (const SpSipUri *uri)
{
  GString *out = g_string_sized_new (64);

  sp_sip_uri_append_to (uri, out);
  return g_string_free (out, FALSE);
}

/* Compares two possibly-escaped strings after decoding, either exactly
 * or ignoring ASCII case. NULL equals only NULL. */
static gboolean
escaped_equal (const char *a, const char *b, gboolean ignore_case)
{
  g_autofree char *ua = NULL, *ub = NULL;
  gsize la, lb;

  if (!a || !b)
    return a == b;
  if (!strchr (a, '%') && !strchr (b, '%'))
    return ignore_case ? g_ascii_strcasecmp (a, b) == 0 : strcmp (a, b) == 0;
  ua = sp_sip_unescape (a, strlen (a), &la);
  ub = sp_sip_unescape (b, strlen (b), &lb);
  if (la != lb)
    return FALSE;
  if (!ignore_case)
    return memcmp (ua, ub, la) == 0;
  for (gsize i = 0; i < la; i++)
    if (g_ascii_tolower (ua[i]) != g_ascii_tolower (ub[i]))
      return FALSE;
  return TRUE;
}

static gboolean
host_equal (const SpSipUri *a, const SpSipUri *b)
{
  if (!a->host || !b->host)
    return a->host == b->host;
  if (a->ipv6 && b->ipv6)
    {
      g_autoptr (GInetAddress) ia = g_inet_address_new_from_string (a->host);
      g_autoptr (GInetAddress) ib = g_inet_address_new_from_string (b->host);

      if (ia && ib)
        return g_inet_address_equal (ia, ib);
    }
  return g_ascii_strcasecmp (a->host, b->host) == 0;
}

/* How many parameters before index @i have the same name. */
static guint
occurrence (const GPtrArray *params, guint i)
{
  const SpSipParam *x = g_ptr_array_index (params, i);
  guint k = 0;

  for (guint j = 0; j < i; j++)
    if (g_ascii_strcasecmp (((SpSipParam *) g_ptr_array_index (params, j))->name, x->name) == 0)
      k++;
  return k;
}

static const SpSipParam *
find_occurrence (const GPtrArray *params, const char *name, guint k)
{
  for (guint j = 0; j < params->len; j++)
    {
      const SpSipParam *y = g_ptr_array_index (params, j);

      if (g_ascii_strcasecmp (y->name, name) == 0 && k-- == 0)
        return y;
    }
  return NULL;
}

/* Section 19.1.4: these parameters must match when either URI has them;
 * any other parameter is compared only when both have it. */
static gboolean
params_equal (const GPtrArray *pa, const GPtrArray *pb)
{
  static const char *const must_match[] = { "user", "ttl", "method", "maddr", "transport" };

  for (gsize k = 0; k < G_N_ELEMENTS (must_match); k++)
    {
      gint ia = sp_sip_params_find (pa, must_match[k]);
      gint ib = sp_sip_params_find (pb, must_match[k]);

      if ((ia < 0) != (ib < 0))
        return FALSE;
    }
  for (guint i = 0; i < pa->len; i++)
    {
      const SpSipParam *x = g_ptr_array_index (pa, i);
      guint k = occurrence (pa, i);
      const SpSipParam *y = find_occurrence (pb, x->name, k);

      /* A repeated name is compared occurrence by occurrence, so a URI
       * always equals itself. */
      if (y && !escaped_equal (x->value, y->value, TRUE))
        return FALSE;
    }
  return TRUE;
}

/* Headers must all be present in both, in any order. */
static gboolean
headers_equal (const GPtrArray *ha, const GPtrArray *hb)
{
  guint na = ha ? ha->len : 0, nb = hb ? hb->len : 0;

  if (na != nb)
    return FALSE;
  for (guint i = 0; i < na; i++)
    {
      const SpSipParam *x = g_ptr_array_index (ha, i);
      gboolean found = FALSE;

      for (guint j = 0; j < nb && !found; j++)
        {
          const SpSipParam *y = g_ptr_array_index (hb, j);

          found =
              escaped_equal (x->name, y->name, TRUE) && escaped_equal (x->value, y->value, FALSE);
        }
      if (!found)
        return FALSE;
    }
  return TRUE;
}

gboolean
sp_sip_uri_equal (const SpSipUri *a, const SpSipUri *b)
{
  if (!a || !b)
    return a == b;
  if (a->scheme != b->scheme || strcmp (a->scheme_name, b->scheme_name) != 0)
    return FALSE;
  if (a->scheme == SP_URI_SCHEME_OTHER)
    return g_strcmp0 (a->opaque, b->opaque) == 0;
  if (a->scheme == SP_URI_SCHEME_TEL)
    return escaped_equal (a->user, b->user, TRUE) && params_equal (a->params, b->params);
  return escaped_equal (a->user, b->user, FALSE) &&
         escaped_equal (a->password, b->password, FALSE) && host_equal (a, b) &&
         a->port == b->port && params_equal (a->params, b->params) &&
         headers_equal (a->headers, b->headers);
}
