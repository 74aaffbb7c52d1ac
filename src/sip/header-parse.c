/* Parsers for the header fields the stack reads: Via, name-addr (From,
 * To, Contact, Route, Record-Route), comma lists, generic parameters,
 * and the table of header names with their compact forms. They work on
 * unfolded values with explicit bounds: a value may hold NUL bytes. */

#include "sip/sip-private.h"

#include <string.h>

typedef struct
{
  const char *name;
  guint8 len;
  char compact;
} HeaderName;

/* Indexed by SpSipHeaderId. */
static const HeaderName header_names[SP_HDR_LAST] = {
  [SP_HDR_OTHER] = { "", 0, 0 },
  [SP_HDR_VIA] = { "Via", 3, 'v' },
  [SP_HDR_FROM] = { "From", 4, 'f' },
  [SP_HDR_TO] = { "To", 2, 't' },
  [SP_HDR_CALL_ID] = { "Call-ID", 7, 'i' },
  [SP_HDR_CSEQ] = { "CSeq", 4, 0 },
  [SP_HDR_MAX_FORWARDS] = { "Max-Forwards", 12, 0 },
  [SP_HDR_EXPIRES] = { "Expires", 7, 0 },
  [SP_HDR_CONTACT] = { "Contact", 7, 'm' },
  [SP_HDR_ROUTE] = { "Route", 5, 0 },
  [SP_HDR_RECORD_ROUTE] = { "Record-Route", 12, 0 },
  [SP_HDR_CONTENT_TYPE] = { "Content-Type", 12, 'c' },
  [SP_HDR_CONTENT_LENGTH] = { "Content-Length", 14, 'l' },
  [SP_HDR_SUPPORTED] = { "Supported", 9, 'k' },
  [SP_HDR_SUBJECT] = { "Subject", 7, 's' },
  [SP_HDR_CONTENT_ENCODING] = { "Content-Encoding", 16, 'e' },
  [SP_HDR_EVENT] = { "Event", 5, 'o' },
  [SP_HDR_ALLOW_EVENTS] = { "Allow-Events", 12, 'u' },
  [SP_HDR_REFER_TO] = { "Refer-To", 8, 'r' },
  [SP_HDR_REFERRED_BY] = { "Referred-By", 11, 'b' },
  [SP_HDR_AUTHORIZATION] = { "Authorization", 13, 0 },
  [SP_HDR_PROXY_AUTHORIZATION] = { "Proxy-Authorization", 19, 0 },
  [SP_HDR_WWW_AUTHENTICATE] = { "WWW-Authenticate", 16, 0 },
  [SP_HDR_PROXY_AUTHENTICATE] = { "Proxy-Authenticate", 18, 0 },
  [SP_HDR_REQUIRE] = { "Require", 7, 0 },
  [SP_HDR_PROXY_REQUIRE] = { "Proxy-Require", 13, 0 },
  [SP_HDR_UNSUPPORTED] = { "Unsupported", 11, 0 },
  [SP_HDR_ALLOW] = { "Allow", 5, 0 },
  [SP_HDR_ACCEPT] = { "Accept", 6, 0 },
  [SP_HDR_USER_AGENT] = { "User-Agent", 10, 0 },
  [SP_HDR_SERVER] = { "Server", 6, 0 },
  [SP_HDR_DATE] = { "Date", 4, 0 },
  [SP_HDR_MIN_EXPIRES] = { "Min-Expires", 11, 0 },
  [SP_HDR_WARNING] = { "Warning", 7, 0 },
  [SP_HDR_RETRY_AFTER] = { "Retry-After", 11, 0 },
  [SP_HDR_SESSION_EXPIRES] = { "Session-Expires", 15, 'x' },
  [SP_HDR_MIN_SE] = { "Min-SE", 6, 0 },
  [SP_HDR_RSEQ] = { "RSeq", 4, 0 },
  [SP_HDR_RACK] = { "RAck", 4, 0 },
  [SP_HDR_TIMESTAMP] = { "Timestamp", 9, 0 },
  [SP_HDR_ORGANIZATION] = { "Organization", 12, 0 },
  [SP_HDR_CONTENT_DISPOSITION] = { "Content-Disposition", 19, 0 },
  [SP_HDR_ACCEPT_ENCODING] = { "Accept-Encoding", 15, 0 },
  [SP_HDR_ACCEPT_LANGUAGE] = { "Accept-Language", 15, 0 },
  [SP_HDR_PATH] = { "Path", 4, 0 },
  [SP_HDR_SUBSCRIPTION_STATE] = { "Subscription-State", 18, 0 },
  [SP_HDR_REASON] = { "Reason", 6, 0 },
};

SpSipHeaderId
sp_sip_header_id (const char *name, gsize len)
{
  if (len == 1)
    {
      char c = g_ascii_tolower (name[0]);

      for (guint id = 1; id < SP_HDR_LAST; id++)
        if (header_names[id].compact == c)
          return (SpSipHeaderId) id;
      return SP_HDR_OTHER;
    }
  /* Length and first letter rule out nearly every entry before the
   * case-insensitive compare; this runs once per received header line. */
  for (guint id = 1; id < SP_HDR_LAST; id++)
    if (header_names[id].len == len && ((header_names[id].name[0] ^ name[0]) & ~0x20) == 0 &&
        g_ascii_strncasecmp (header_names[id].name, name, len) == 0)
      return (SpSipHeaderId) id;
  return SP_HDR_OTHER;
}

const char *
sp_sip_header_canonical_name (SpSipHeaderId id)
{
  return id > SP_HDR_OTHER && id < SP_HDR_LAST ? header_names[id].name : NULL;
}

static gboolean
fail (GError **error, const char *what)
{
  g_set_error_literal (error, SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST, what);
  return FALSE;
}

/* Skips a quoted-string starting at the '"' at @p; returns the position
 * after the closing quote, or NULL when it is unterminated. */
static const char *
skip_quoted (const char *p, const char *end)
{
  for (p++; p < end; p++)
    {
      if (*p == '\\')
        {
          if (++p >= end)
            return NULL;
        }
      else if (*p == '"')
        return p + 1;
    }
  return NULL;
}

gboolean
sp_sip_split_list (const char *p, const char *end, SpSipListFunc each, gpointer data,
                   GError **error)
{
  const char *start = p;
  gboolean in_angle = FALSE;

  while (TRUE)
    {
      if (p >= end || (*p == ',' && !in_angle))
        {
          const char *s = sp_sip_skip_ws (start, p);
          const char *e = sp_sip_trim_end (s, p);

          if (s == e)
            return fail (error, "empty list element");
          if (!each (s, e, data, error))
            return FALSE;
          if (p >= end)
            return TRUE;
          start = ++p;
        }
      else if (*p == '"' && !in_angle)
        {
          p = skip_quoted (p, end);
          if (!p)
            return fail (error, "unterminated quoted string");
        }
      else
        {
          if (*p == '<')
            in_angle = TRUE;
          else if (*p == '>')
            in_angle = FALSE;
          p++;
        }
    }
}

/* *(SEMI generic-param) up to @end; values keep their received text
 * (quotes included). */
static gboolean
parse_generic_params (const char *p, const char *end, GPtrArray *params, GError **error)
{
  while (TRUE)
    {
      const char *name, *name_end, *value = NULL, *value_end = NULL;

      p = sp_sip_skip_ws (p, end);
      if (p >= end)
        return TRUE;
      if (*p != ';')
        return fail (error, "unexpected character before parameter");
      p = sp_sip_skip_ws (p + 1, end);
      name = p;
      while (p < end && sp_sip_is (*p, SP_CC_TOKEN))
        p++;
      name_end = p;
      if (name == name_end)
        return fail (error, "empty parameter");
      p = sp_sip_skip_ws (p, end);
      if (p < end && *p == '=')
        {
          p = sp_sip_skip_ws (p + 1, end);
          value = p;
          if (p < end && *p == '"')
            {
              p = skip_quoted (p, end);
              if (!p)
                return fail (error, "unterminated quoted string");
            }
          else if (p < end && *p == '[')
            {
              while (p < end && *p != ']')
                p++;
              if (p >= end)
                return fail (error, "unterminated IPv6 reference");
              p++;
            }
          else
            while (p < end && (sp_sip_is (*p, SP_CC_TOKEN) || *p == ':'))
              p++;
          value_end = p;
          if (value == value_end)
            return fail (error, "empty parameter value");
        }
      g_ptr_array_add (params, sp_sip_param_new (name, (gsize) (name_end - name), value,
                                                 value ? value_end - value : -1));
    }
}

/* ---- Via ---- */

static const char *
scan_token (const char *p, const char *end)
{
  while (p < end && sp_sip_is (*p, SP_CC_TOKEN))
    p++;
  return p;
}

void
sp_sip_via_free (SpSipVia *via)
{
  if (!via)
    return;
  g_free (via->transport);
  g_free (via->host);
  g_free (via->branch);
  g_free (via->received);
  g_free (via->maddr);
  if (via->params)
    g_ptr_array_unref (via->params);
  g_free (via);
}

static char *
strip_brackets (const char *v)
{
  gsize n = strlen (v);

  if (n >= 2 && v[0] == '[' && v[n - 1] == ']')
    return g_strndup (v + 1, n - 2);
  return g_strdup (v);
}

static gboolean
via_known_params (SpSipVia *via, GError **error)
{
  for (guint i = 0; i < via->params->len; i++)
    {
      const SpSipParam *param = g_ptr_array_index (via->params, i);
      const char *v = param->value;
      guint64 n;

      if (g_ascii_strcasecmp (param->name, "branch") == 0 && !via->branch)
        {
          if (!v || *v == '"')
            return fail (error, "bad branch");
          via->branch = g_strdup (v);
        }
      else if (g_ascii_strcasecmp (param->name, "received") == 0 && !via->received)
        {
          if (!v || *v == '"')
            return fail (error, "bad received");
          via->received = strip_brackets (v);
        }
      else if (g_ascii_strcasecmp (param->name, "rport") == 0 && via->rport < 0)
        {
          if (!v)
            via->rport = 0;
          else if (sp_sip_parse_uint (v, v + strlen (v), 65535, &n) && n > 0)
            via->rport = (gint) n;
          else
            return fail (error, "bad rport");
        }
      else if (g_ascii_strcasecmp (param->name, "maddr") == 0 && !via->maddr)
        {
          if (!v || *v == '"')
            return fail (error, "bad maddr");
          via->maddr = strip_brackets (v);
        }
      else if (g_ascii_strcasecmp (param->name, "ttl") == 0 && via->ttl < 0)
        {
          if (!v || !sp_sip_parse_uint (v, v + strlen (v), 255, &n))
            return fail (error, "bad ttl");
          via->ttl = (gint) n;
        }
    }
  return TRUE;
}

static gboolean
via_sent_by (SpSipVia *via, const char **pp, const char *end, GError **error)
{
  const char *p = *pp, *host, *host_end;

  if (p < end && *p == '[')
    {
      host = ++p;
      while (p < end && (g_ascii_isxdigit (*p) || *p == ':' || *p == '.'))
        p++;
      host_end = p;
      if (p >= end || *p != ']' || host == host_end)
        return fail (error, "bad host");
      p++;
    }
  else
    {
      host = p;
      while (p < end && sp_sip_is (*p, SP_CC_HOST))
        p++;
      host_end = p;
      if (host == host_end)
        return fail (error, "bad host");
    }
  via->host = g_ascii_strdown (host, host_end - host);
  {
    const char *q = sp_sip_skip_ws (p, end);

    if (q < end && *q == ':')
      {
        const char *port;
        guint64 n;

        q = port = sp_sip_skip_ws (q + 1, end);
        while (q < end && g_ascii_isdigit (*q))
          q++;
        if (!sp_sip_parse_uint (port, q, 65535, &n) || n == 0)
          return fail (error, "bad port");
        via->port = (guint16) n;
        p = q;
      }
  }
  *pp = p;
  return TRUE;
}

SpSipVia *
sp_sip_via_parse_range (const char *p, const char *end, GError **error)
{
  SpSipVia *via = g_new0 (SpSipVia, 1);
  const char *s;

  via->rport = -1;
  via->ttl = -1;
  via->params = sp_sip_params_new ();
  /* sent-protocol: name SLASH version SLASH transport, LWS allowed. */
  p = sp_sip_skip_ws (p, end);
  s = p;
  p = scan_token (p, end);
  if (p - s != 3 || g_ascii_strncasecmp (s, "SIP", 3) != 0)
    goto bad;
  p = sp_sip_skip_ws (p, end);
  if (p >= end || *p != '/')
    goto bad;
  p = sp_sip_skip_ws (p + 1, end);
  s = p;
  p = scan_token (p, end);
  if (p - s != 3 || memcmp (s, "2.0", 3) != 0)
    goto bad;
  p = sp_sip_skip_ws (p, end);
  if (p >= end || *p != '/')
    goto bad;
  p = sp_sip_skip_ws (p + 1, end);
  s = p;
  p = scan_token (p, end);
  if (p == s || p >= end || !sp_sip_is_ws (*p))
    goto bad;
  via->transport = g_ascii_strup (s, p - s);
  p = sp_sip_skip_ws (p, end);
  if (!via_sent_by (via, &p, end, error) || !parse_generic_params (p, end, via->params, error) ||
      !via_known_params (via, error))
    {
      sp_sip_via_free (via);
      return NULL;
    }
  return via;

bad:
  sp_sip_via_free (via);
  fail (error, "malformed sent-protocol");
  return NULL;
}

SpSipVia *
sp_sip_via_parse (const char *text, gssize len, GError **error)
{
  if (len < 0)
    len = (gssize) strlen (text);
  return sp_sip_via_parse_range (text, text + len, error);
}

SpSipVia *
sp_sip_via_copy (const SpSipVia *via)
{
  SpSipVia *copy = g_new0 (SpSipVia, 1);

  copy->transport = g_strdup (via->transport);
  copy->host = g_strdup (via->host);
  copy->port = via->port;
  copy->branch = g_strdup (via->branch);
  copy->received = g_strdup (via->received);
  copy->rport = via->rport;
  copy->maddr = g_strdup (via->maddr);
  copy->ttl = via->ttl;
  copy->params = sp_sip_params_copy (via->params);
  return copy;
}

char *
sp_sip_via_to_string (const SpSipVia *via)
{
  GString *out = g_string_sized_new (64);
  gboolean v6 = via->host && strchr (via->host, ':') != NULL;

  g_string_append (out, "SIP/2.0/");
  g_string_append (out, via->transport ? via->transport : "UDP");
  g_string_append (out, v6 ? " [" : " ");
  g_string_append (out, via->host ? via->host : "");
  if (v6)
    g_string_append_c (out, ']');
  if (via->port)
    {
      g_string_append_c (out, ':');
      sp_sip_append_uint (out, via->port);
    }
  sp_sip_params_append_to (via->params, out);
  return g_string_free (out, FALSE);
}

/* ---- name-addr / addr-spec ---- */

void
sp_sip_name_addr_free (SpSipNameAddr *addr)
{
  if (!addr)
    return;
  g_free (addr->display_name);
  sp_sip_uri_free (addr->uri);
  if (addr->params)
    g_ptr_array_unref (addr->params);
  g_free (addr);
}

/* Unquotes a quoted-string [p, end) whose quotes are at p and end - 1. */
static char *
unquote (const char *p, const char *end)
{
  char *out = g_malloc ((gsize) (end - p) + 1);
  gsize n = 0;

  for (p++, end--; p < end; p++)
    {
      if (*p == '\\' && p + 1 < end)
        p++;
      out[n++] = *p;
    }
  out[n] = '\0';
  return out;
}

SpSipNameAddr *
sp_sip_name_addr_parse_range (const char *p, const char *end, gboolean allow_wildcard,
                              GError **error)
{
  g_autoptr (SpSipNameAddr) addr = g_new0 (SpSipNameAddr, 1);
  const char *uri_start, *uri_end;

  addr->params = sp_sip_params_new ();
  p = sp_sip_skip_ws (p, end);
  end = sp_sip_trim_end (p, end);
  if (p < end && *p == '"')
    {
      const char *q = skip_quoted (p, end);

      if (!q)
        return fail (error, "unterminated quoted string"), NULL;
      addr->display_name = unquote (p, q);
      p = sp_sip_skip_ws (q, end);
      if (p >= end || *p != '<')
        return fail (error, "missing < after display name"), NULL;
    }
  else
    {
      const char *q = p;

      while (q < end && (sp_sip_is (*q, SP_CC_TOKEN) || sp_sip_is_ws (*q)))
        q++;
      if (q < end && *q == '<' && q > p)
        {
          addr->display_name = sp_sip_dup_bytes (p, (gsize) (sp_sip_trim_end (p, q) - p));
          p = q;
        }
    }
  if (p < end && *p == '<')
    {
      uri_start = p + 1;
      uri_end = memchr (uri_start, '>', (gsize) (end - uri_start));
      if (!uri_end)
        return fail (error, "missing >"), NULL;
      p = uri_end + 1;
    }
  else
    {
      /* addr-spec: no display name, the URI ends at the first ';' or
       * space; RFC 3261 section 20 wants <> around a URI with ';', ','
       * or '?', so a '?' here is an error. */
      uri_start = p;
      while (p < end && *p != ';' && !sp_sip_is_ws (*p))
        p++;
      uri_end = p;
      if (memchr (uri_start, '?', (gsize) (uri_end - uri_start)))
        return fail (error, "URI with headers must be in <>"), NULL;
    }
  (void) allow_wildcard;
  addr->uri = sp_sip_uri_parse_range (uri_start, uri_end, error);
  if (!addr->uri || !parse_generic_params (p, end, addr->params, error))
    return NULL;
  return g_steal_pointer (&addr);
}

SpSipNameAddr *
sp_sip_name_addr_parse (const char *text, gssize len, GError **error)
{
  if (len < 0)
    len = (gssize) strlen (text);
  return sp_sip_name_addr_parse_range (text, text + len, FALSE, error);
}

SpSipNameAddr *
sp_sip_name_addr_new (const char *display_name, const SpSipUri *uri)
{
  SpSipNameAddr *addr = g_new0 (SpSipNameAddr, 1);

  addr->display_name = g_strdup (display_name);
  addr->uri = sp_sip_uri_copy (uri);
  addr->params = sp_sip_params_new ();
  return addr;
}

SpSipNameAddr *
sp_sip_name_addr_copy (const SpSipNameAddr *addr)
{
  SpSipNameAddr *copy = sp_sip_name_addr_new (addr->display_name, addr->uri);

  g_ptr_array_unref (copy->params);
  copy->params = sp_sip_params_copy (addr->params);
  return copy;
}

const char *
sp_sip_name_addr_get_param (const SpSipNameAddr *addr, const char *name)
{
  gint i = sp_sip_params_find (addr->params, name);

  return i < 0 ? NULL : ((SpSipParam *) g_ptr_array_index (addr->params, i))->value;
}

gboolean
sp_sip_name_addr_has_param (const SpSipNameAddr *addr, const char *name)
{
  return sp_sip_params_find (addr->params, name) >= 0;
}

const char *
sp_sip_name_addr_get_tag (const SpSipNameAddr *addr)
{
  return sp_sip_name_addr_get_param (addr, "tag");
}

gint64
sp_sip_name_addr_get_expires (const SpSipNameAddr *addr)
{
  const char *v = sp_sip_name_addr_get_param (addr, "expires");
  guint64 n;

  if (!v)
    return -1;
  if (!sp_sip_parse_uint (v, v + strlen (v), G_MAXUINT32, &n))
    {
      /* RFC 3261 section 20.19: an overlarge delta-seconds means the
       * largest one; anything else that is not a number is unusable. */
      for (const char *q = v; *q; q++)
        if (!g_ascii_isdigit (*q))
          return -1;
      return G_MAXUINT32;
    }
  return (gint64) n;
}

void
sp_sip_name_addr_set_param (SpSipNameAddr *addr, const char *name, const char *value)
{
  sp_sip_params_set (addr->params, name, value);
}

char *
sp_sip_name_addr_to_string (const SpSipNameAddr *addr)
{
  GString *out = g_string_sized_new (96);

  if (addr->display_name)
    {
      g_string_append_c (out, '"');
      for (const char *p = addr->display_name; *p; p++)
        {
          if (*p == '"' || *p == '\\')
            g_string_append_c (out, '\\');
          g_string_append_c (out, *p);
        }
      g_string_append (out, "\" ");
    }
  g_string_append_c (out, '<');
  if (addr->uri)
    sp_sip_uri_append_to (addr->uri, out);
  g_string_append_c (out, '>');
  sp_sip_params_append_to (addr->params, out);
  return g_string_free (out, FALSE);
}
