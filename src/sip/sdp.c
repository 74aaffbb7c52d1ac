/* SDP (RFC 4566) parse, model and serialize. */

#include "sip/sdp.h"

#include <string.h>

/* One line of a description other than v=, o=, s= and m=. The text after
 * "=" is kept verbatim so serializing writes back what was received;
 * setters regenerate it. Known lines also keep their parsed values. */
typedef struct
{
  char type;
  char *text;
  /* a= */
  char *attr_name;
  char *attr_value; /* NULL for a property attribute */
  /* c= */
  SpSdpConnection conn;
  /* rtpmap (num = pt, str = encoding, rate, channels), fmtp (num = pt or
   * -1, str = params), ptime/maxptime (num), rtcp (num = port, str =
   * address or NULL), b= (num = bandwidth, str = type), t= (start, stop) */
  gint64 num;
  char *str;
  guint64 rate;
  guint64 channels;
} SdpLine;

struct _SpSdpMedia
{
  SpSdpSession *session; /* owner, not a reference */
  char *type;
  guint port;
  guint port_count;
  char *proto;
  GPtrArray *formats; /* char * */
  GPtrArray *lines;   /* SdpLine */
};

struct _SpSdpSession
{
  char *username;
  guint64 session_id;
  guint64 session_version;
  SpSdpAddrType origin_type;
  char *origin_address;
  char *name;
  GPtrArray *lines; /* SdpLine */
  GPtrArray *media; /* SpSdpMedia */
};

/* ---- Small helpers ---------------------------------------------------- */

static void G_GNUC_PRINTF (3, 4) sdp_fail (GError **error, guint line_no, const char *fmt, ...)
{
  va_list args;
  g_autofree char *what = NULL;

  va_start (args, fmt);
  what = g_strdup_vprintf (fmt, args);
  va_end (args);
  if (line_no > 0)
    g_set_error (error, SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST, "Bad SDP: %s (line %u)", what,
                 line_no);
  else
    g_set_error (error, SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST, "Bad SDP: %s", what);
}

/* RFC 4566 token: visible ASCII except the separators it excludes. */
static gboolean
is_token_char (guchar c)
{
  if (c <= 0x20 || c >= 0x7f)
    return FALSE;
  return strchr ("\"(),/:;<=>?@[\\]", c) == NULL;
}

static gboolean
is_token (const char *s)
{
  if (s == NULL || *s == '\0')
    return FALSE;
  for (; *s; s++)
    if (!is_token_char ((guchar) *s))
      return FALSE;
  return TRUE;
}

/* m= proto: token *("/" token), "RTP/AVP". */
static gboolean
is_proto (const char *s)
{
  g_auto (GStrv) parts = NULL;

  if (s == NULL || *s == '\0' || strlen (s) > 64)
    return FALSE;
  parts = g_strsplit (s, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    if (!is_token (parts[i]))
      return FALSE;
  return TRUE;
}

/* Text a line may carry: no NUL/CR/LF and no other control but HT. */
static gboolean
is_line_text (const char *s)
{
  if (s == NULL)
    return FALSE;
  for (; *s; s++)
    {
      guchar c = (guchar) *s;
      if ((c < 0x20 && c != '\t') || c == 0x7f)
        return FALSE;
    }
  return TRUE;
}

/* An address as c=, o= and rtcp write it: IPv4, IPv6 without brackets or
 * a host name. */
static gboolean
is_address (const char *s)
{
  gsize n = 0;

  if (s == NULL || *s == '\0')
    return FALSE;
  for (; *s; s++, n++)
    if (!g_ascii_isalnum (*s) && strchr (".:-_%", *s) == NULL)
      return FALSE;
  return n <= 255;
}

/* Decimal digits only, at most 20 of them, value <= @max. */
static gboolean
parse_u64 (const char *s, guint64 max, guint64 *out)
{
  guint64 v = 0;
  gsize n = 0;

  if (s == NULL || *s == '\0')
    return FALSE;
  for (; *s; s++, n++)
    {
      guint d;
      if (!g_ascii_isdigit (*s) || n >= 20)
        return FALSE;
      d = (guint) (*s - '0');
      if (v > (G_MAXUINT64 - d) / 10)
        return FALSE;
      v = v * 10 + d;
    }
  if (v > max)
    return FALSE;
  *out = v;
  return TRUE;
}

/* Splits at runs of spaces into at most @max fields. NULL when there are
 * more. */
static GStrv
split_fields (const char *text, guint max)
{
  g_autoptr (GPtrArray) fields = g_ptr_array_new_with_free_func (g_free);
  const char *p = text;

  while (*p)
    {
      const char *start;
      while (*p == ' ')
        p++;
      if (*p == '\0')
        break;
      if (fields->len >= max)
        return NULL;
      start = p;
      while (*p && *p != ' ')
        p++;
      g_ptr_array_add (fields, g_strndup (start, (gsize) (p - start)));
    }
  g_ptr_array_add (fields, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&fields), FALSE);
}

static gboolean
parse_addr_type (const char *nettype, const char *addrtype, SpSdpAddrType *out, guint line_no,
                 GError **error)
{
  if (g_strcmp0 (nettype, "IN") != 0)
    {
      g_set_error (error, SP_SIP_ERROR, SP_SDP_ERROR_NOT_ACCEPTABLE,
                   "SDP network type %s not supported (line %u)", nettype, line_no);
      return FALSE;
    }
  if (g_strcmp0 (addrtype, "IP4") == 0)
    *out = SP_SDP_ADDR_IP4;
  else if (g_strcmp0 (addrtype, "IP6") == 0)
    *out = SP_SDP_ADDR_IP6;
  else
    {
      g_set_error (error, SP_SIP_ERROR, SP_SDP_ERROR_NOT_ACCEPTABLE,
                   "SDP address type %s not supported (line %u)", addrtype, line_no);
      return FALSE;
    }
  return TRUE;
}

const char *
sp_sdp_addr_type_to_string (SpSdpAddrType type)
{
  return type == SP_SDP_ADDR_IP6 ? "IP6" : "IP4";
}

static const char *const direction_names[] = { "sendrecv", "sendonly", "recvonly", "inactive" };

const char *
sp_sdp_direction_to_string (SpSdpDirection direction)
{
  g_return_val_if_fail (direction <= SP_SDP_DIRECTION_INACTIVE, "sendrecv");
  return direction_names[direction];
}

SpSdpDirection
sp_sdp_direction_reverse (SpSdpDirection direction)
{
  if (direction == SP_SDP_DIRECTION_SENDONLY)
    return SP_SDP_DIRECTION_RECVONLY;
  if (direction == SP_SDP_DIRECTION_RECVONLY)
    return SP_SDP_DIRECTION_SENDONLY;
  return direction;
}

static gint
direction_from_attr (const SdpLine *line)
{
  if (line->type != 'a' || line->attr_value != NULL)
    return -1;
  for (guint i = 0; i < G_N_ELEMENTS (direction_names); i++)
    if (strcmp (line->attr_name, direction_names[i]) == 0)
      return (gint) i;
  return -1;
}

/* ---- Lines ------------------------------------------------------------ */

static void
sdp_line_free (gpointer data)
{
  SdpLine *line = data;

  g_free (line->text);
  g_free (line->attr_name);
  g_free (line->attr_value);
  g_free (line->conn.address);
  g_free (line->str);
  g_free (line);
}

static SdpLine *
sdp_line_copy (const SdpLine *src)
{
  SdpLine *line = g_new0 (SdpLine, 1);

  *line = *src;
  line->text = g_strdup (src->text);
  line->attr_name = g_strdup (src->attr_name);
  line->attr_value = g_strdup (src->attr_value);
  line->conn.address = g_strdup (src->conn.address);
  line->str = g_strdup (src->str);
  return line;
}

static gboolean
parse_connection (SdpLine *line, guint line_no, GError **error)
{
  g_auto (GStrv) f = split_fields (line->text, 3);
  g_auto (GStrv) parts = NULL;
  guint n_parts;
  guint64 v;

  if (f == NULL || g_strv_length (f) != 3)
    {
      sdp_fail (error, line_no, "c= needs <nettype> <addrtype> <address>");
      return FALSE;
    }
  if (!parse_addr_type (f[0], f[1], &line->conn.addr_type, line_no, error))
    return FALSE;
  parts = g_strsplit (f[2], "/", 4);
  n_parts = g_strv_length (parts);
  if (!is_address (parts[0]) || n_parts > (line->conn.addr_type == SP_SDP_ADDR_IP4 ? 3u : 2u))
    {
      sdp_fail (error, line_no, "bad c= address");
      return FALSE;
    }
  line->conn.address = g_strdup (parts[0]);
  line->conn.ttl = 0;
  line->conn.n_addresses = 1;
  if (line->conn.addr_type == SP_SDP_ADDR_IP4 && n_parts >= 2)
    {
      if (!parse_u64 (parts[1], 255, &v))
        {
          sdp_fail (error, line_no, "bad c= TTL");
          return FALSE;
        }
      line->conn.ttl = (guint) v;
    }
  if (n_parts == (line->conn.addr_type == SP_SDP_ADDR_IP4 ? 3u : 2u))
    {
      if (!parse_u64 (parts[n_parts - 1], 256, &v) || v == 0)
        {
          sdp_fail (error, line_no, "bad c= number of addresses");
          return FALSE;
        }
      line->conn.n_addresses = (guint) v;
    }
  return TRUE;
}

static gboolean
parse_bandwidth (SdpLine *line, guint line_no, GError **error)
{
  const char *colon = strchr (line->text, ':');
  guint64 v;

  if (colon == NULL)
    {
      sdp_fail (error, line_no, "b= needs <bwtype>:<bandwidth>");
      return FALSE;
    }
  line->str = g_strndup (line->text, (gsize) (colon - line->text));
  if (!is_token (line->str) || !parse_u64 (colon + 1, G_MAXUINT32, &v))
    {
      sdp_fail (error, line_no, "bad b= line");
      return FALSE;
    }
  line->num = (gint64) v;
  return TRUE;
}

static gboolean
parse_time (SdpLine *line, guint line_no, GError **error)
{
  g_auto (GStrv) f = split_fields (line->text, 2);
  guint64 start, stop;

  if (f == NULL || g_strv_length (f) != 2 || !parse_u64 (f[0], G_MAXUINT64, &start) ||
      !parse_u64 (f[1], G_MAXUINT64, &stop))
    {
      sdp_fail (error, line_no, "t= needs <start time> <stop time>");
      return FALSE;
    }
  line->rate = start;
  line->channels = stop;
  return TRUE;
}

static gboolean
parse_rtpmap (SdpLine *line, guint line_no, GError **error)
{
  const char *v = line->attr_value;
  const char *sp = v != NULL ? strchr (v, ' ') : NULL;
  g_autofree char *pt_text = NULL;
  g_auto (GStrv) parts = NULL;
  guint n_parts;
  guint64 n;

  if (sp == NULL)
    goto bad;
  pt_text = g_strndup (v, (gsize) (sp - v));
  if (!parse_u64 (pt_text, 127, &n))
    goto bad;
  line->num = (gint64) n;
  while (*sp == ' ')
    sp++;
  parts = g_strsplit (sp, "/", 4);
  n_parts = g_strv_length (parts);
  if (n_parts == 0 || n_parts > 3 || *parts[0] == '\0' || !is_token (parts[0]))
    goto bad;
  line->str = g_strdup (parts[0]);
  line->rate = 0;
  line->channels = 1;
  if (n_parts >= 2 &&
      (!parse_u64 (g_strchomp (parts[1]), G_MAXUINT32, &line->rate) || line->rate == 0))
    goto bad;
  if (n_parts == 3 &&
      (!parse_u64 (g_strchomp (parts[2]), 255, &line->channels) || line->channels == 0))
    goto bad;
  return TRUE;

bad:
  sdp_fail (error, line_no, "bad a=rtpmap");
  return FALSE;
}

static gboolean
parse_fmtp (SdpLine *line, guint line_no, GError **error)
{
  const char *v = line->attr_value;
  const char *sp;
  g_autofree char *fmt = NULL;
  guint64 n;

  if (v == NULL || *v == '\0')
    {
      sdp_fail (error, line_no, "bad a=fmtp");
      return FALSE;
    }
  sp = strchr (v, ' ');
  fmt = sp != NULL ? g_strndup (v, (gsize) (sp - v)) : g_strdup (v);
  if (!is_token (fmt))
    {
      sdp_fail (error, line_no, "bad a=fmtp format");
      return FALSE;
    }
  line->num = parse_u64 (fmt, 127, &n) ? (gint64) n : -1;
  if (sp != NULL)
    while (*sp == ' ')
      sp++;
  line->str = g_strdup (sp != NULL ? sp : "");
  return TRUE;
}

/* ptime may be fractional ("20.5"); the whole milliseconds count. */
static gboolean
parse_ms (SdpLine *line, guint line_no, GError **error)
{
  g_autofree char *whole = NULL;
  const char *v = line->attr_value;
  const char *dot;
  guint64 n;

  if (v == NULL)
    goto bad;
  dot = strchr (v, '.');
  whole = dot != NULL ? g_strndup (v, (gsize) (dot - v)) : g_strdup (v);
  if (dot != NULL)
    for (const char *p = dot + 1; *p; p++)
      if (!g_ascii_isdigit (*p) || p - dot > 6)
        goto bad;
  if (!parse_u64 (whole, 10000, &n))
    goto bad;
  line->num = (gint64) n;
  return TRUE;

bad:
  sdp_fail (error, line_no, "bad a=%s", line->attr_name);
  return FALSE;
}

static gboolean
parse_rtcp (SdpLine *line, guint line_no, GError **error)
{
  g_auto (GStrv) f = line->attr_value != NULL ? split_fields (line->attr_value, 4) : NULL;
  guint n_fields = f != NULL ? g_strv_length (f) : 0;
  SpSdpAddrType type;
  guint64 port;

  if ((n_fields != 1 && n_fields != 4) || !parse_u64 (f[0], SP_SDP_MAX_PORT, &port))
    {
      sdp_fail (error, line_no, "bad a=rtcp");
      return FALSE;
    }
  line->num = (gint64) port;
  if (n_fields == 4)
    {
      if (!parse_addr_type (f[1], f[2], &type, line_no, error))
        return FALSE;
      if (!is_address (f[3]))
        {
          sdp_fail (error, line_no, "bad a=rtcp address");
          return FALSE;
        }
      line->str = g_strdup (f[3]);
    }
  return TRUE;
}

static gboolean
parse_attribute (SdpLine *line, guint line_no, GError **error)
{
  const char *colon = strchr (line->text, ':');

  if (colon != NULL)
    {
      line->attr_name = g_strndup (line->text, (gsize) (colon - line->text));
      line->attr_value = g_strdup (colon + 1);
    }
  else
    line->attr_name = g_strdup (line->text);
  if (!is_token (line->attr_name))
    {
      sdp_fail (error, line_no, "bad attribute name");
      return FALSE;
    }
  if (strcmp (line->attr_name, "rtpmap") == 0)
    return parse_rtpmap (line, line_no, error);
  if (strcmp (line->attr_name, "fmtp") == 0)
    return parse_fmtp (line, line_no, error);
  if (strcmp (line->attr_name, "ptime") == 0 || strcmp (line->attr_name, "maxptime") == 0)
    return parse_ms (line, line_no, error);
  if (strcmp (line->attr_name, "rtcp") == 0)
    return parse_rtcp (line, line_no, error);
  return TRUE;
}

/* Parses the text of @line (type and text set) into its typed fields. */
static gboolean
sdp_line_parse (SdpLine *line, guint line_no, GError **error)
{
  switch (line->type)
    {
      case 'c':
        return parse_connection (line, line_no, error);
      case 'b':
        return parse_bandwidth (line, line_no, error);
      case 't':
        return parse_time (line, line_no, error);
      case 'a':
        return parse_attribute (line, line_no, error);
      default:
        return TRUE;
    }
}

/* A line built by a setter; its text is known to be valid. */
static SdpLine *
sdp_line_new (char type, char *text)
{
  SdpLine *line = g_new0 (SdpLine, 1);
  g_autoptr (GError) error = NULL;

  line->type = type;
  line->text = text;
  if (!sdp_line_parse (line, 0, &error))
    g_critical ("built an SDP line that does not parse: %c=%s: %s", type, text, error->message);
  return line;
}

/* RFC 4566 section 5 order of the lines after s= (session) and after m=
 * (media). Lines of other letters go last. */
static guint
line_rank (char type)
{
  static const char order[] = "iuepcbtrzka";
  const char *p = strchr (order, type);
  return p != NULL && type != '\0' ? (guint) (p - order) : sizeof order;
}

/* Inserts @line after the last line that sorts before or with it, so
 * setters on a parsed description keep the RFC order. */
static void
lines_insert (GPtrArray *lines, SdpLine *line)
{
  guint rank = line_rank (line->type);
  guint pos = 0;

  for (guint i = 0; i < lines->len; i++)
    if (line_rank (((SdpLine *) lines->pdata[i])->type) <= rank)
      pos = i + 1;
  g_ptr_array_insert (lines, (gint) pos, line);
}

/* Index of the first line of @type (and, for 'a', attribute @name; for
 * 'b', bandwidth type @name), or -1. */
static gint
lines_find (GPtrArray *lines, char type, const char *name)
{
  for (guint i = 0; i < lines->len; i++)
    {
      const SdpLine *line = lines->pdata[i];
      if (line->type != type)
        continue;
      if (type == 'a' && strcmp (line->attr_name, name) != 0)
        continue;
      if (type == 'b' && g_ascii_strcasecmp (line->str, name) != 0)
        continue;
      return (gint) i;
    }
  return -1;
}

/* Replaces the first matching line with @line (removing the other
 * matches), or inserts it; @line NULL just removes them. */
static void
lines_replace (GPtrArray *lines, char type, const char *name_in, SdpLine *line)
{
  /* @name_in may belong to a line removed here. */
  g_autofree char *name = g_strdup (name_in);
  gint first = lines_find (lines, type, name);
  gint i;

  if (first < 0)
    {
      if (line != NULL)
        lines_insert (lines, line);
      return;
    }
  while ((i = lines_find (lines, type, name)) >= 0)
    g_ptr_array_remove_index (lines, (guint) i);
  if (line != NULL)
    g_ptr_array_insert (lines, first, line);
}

static const SdpLine *
lines_get_attr (GPtrArray *lines, const char *name)
{
  gint i = lines_find (lines, 'a', name);
  return i >= 0 ? lines->pdata[i] : NULL;
}

static guint
lines_count_attrs (GPtrArray *lines)
{
  guint n = 0;
  for (guint i = 0; i < lines->len; i++)
    if (((SdpLine *) lines->pdata[i])->type == 'a')
      n++;
  return n;
}

static void
lines_nth_attr (GPtrArray *lines, guint n, const char **name, const char **value)
{
  for (guint i = 0; i < lines->len; i++)
    {
      const SdpLine *line = lines->pdata[i];
      if (line->type != 'a')
        continue;
      if (n-- == 0)
        {
          if (name)
            *name = line->attr_name;
          if (value)
            *value = line->attr_value;
          return;
        }
    }
  g_return_if_reached ();
}

static gboolean
lines_add_attr (GPtrArray *lines, const char *name, const char *value)
{
  g_return_val_if_fail (is_token (name), FALSE);
  g_return_val_if_fail (value == NULL || is_line_text (value), FALSE);
  lines_insert (lines, sdp_line_new ('a', value != NULL ? g_strdup_printf ("%s:%s", name, value)
                                                        : g_strdup (name)));
  return TRUE;
}

static void
lines_remove_attr (GPtrArray *lines, const char *name)
{
  lines_replace (lines, 'a', name, NULL);
}

/* Adds an attribute given by a caller of the public API: unlike
 * lines_add_attr, bad input is refused rather than asserted, and a typed
 * attribute (rtpmap, fmtp, rtcp, ...) must parse the way its getter will
 * read it back. */
static gboolean
lines_add_checked_attr (GPtrArray *lines, const char *name, const char *value)
{
  g_autoptr (GError) error = NULL;
  SdpLine probe = { 0 };
  gboolean ok;

  if (!is_token (name) || (value != NULL && !is_line_text (value)))
    return FALSE;
  probe.type = 'a';
  probe.text = value != NULL ? g_strdup_printf ("%s:%s", name, value) : g_strdup (name);
  ok = sdp_line_parse (&probe, 0, &error);
  g_free (probe.text);
  g_free (probe.attr_name);
  g_free (probe.attr_value);
  g_free (probe.str);
  g_free (probe.conn.address);
  return ok && lines_add_attr (lines, name, value);
}

static gint
lines_get_direction (GPtrArray *lines)
{
  for (guint i = 0; i < lines->len; i++)
    {
      gint d = direction_from_attr (lines->pdata[i]);
      if (d >= 0)
        return d;
    }
  return -1;
}

static void
lines_set_direction (GPtrArray *lines, SpSdpDirection direction)
{
  gint pos = -1;

  for (guint i = lines->len; i > 0; i--)
    if (direction_from_attr (lines->pdata[i - 1]) >= 0)
      {
        pos = (gint) i - 1;
        g_ptr_array_remove_index (lines, i - 1);
      }
  if (pos < 0)
    pos = (gint) lines->len;
  g_ptr_array_insert (lines, pos, sdp_line_new ('a', g_strdup (direction_names[direction])));
}

static gint64
lines_get_bandwidth (GPtrArray *lines, const char *type)
{
  gint i = lines_find (lines, 'b', type);
  return i >= 0 ? ((SdpLine *) lines->pdata[i])->num : -1;
}

static void
lines_set_bandwidth (GPtrArray *lines, const char *type, gint64 kbps)
{
  g_return_if_fail (is_token (type));
  g_return_if_fail (kbps <= G_MAXUINT32);
  lines_replace (
      lines, 'b', type,
      kbps >= 0 ? sdp_line_new ('b', g_strdup_printf ("%s:%" G_GINT64_FORMAT, type, kbps)) : NULL);
}

static const SpSdpConnection *
lines_get_connection (GPtrArray *lines)
{
  gint i = lines_find (lines, 'c', NULL);
  return i >= 0 ? &((SdpLine *) lines->pdata[i])->conn : NULL;
}

static void
lines_set_connection (GPtrArray *lines, SpSdpAddrType type, const char *address)
{
  g_return_if_fail (address == NULL || is_address (address));
  lines_replace (
      lines, 'c', NULL,
      address != NULL
          ? sdp_line_new ('c',
                          g_strdup_printf ("IN %s %s", sp_sdp_addr_type_to_string (type), address))
          : NULL);
}

static void
lines_write (GString *out, GPtrArray *lines)
{
  for (guint i = 0; i < lines->len; i++)
    {
      const SdpLine *line = lines->pdata[i];
      g_string_append_c (out, line->type);
      g_string_append_c (out, '=');
      g_string_append (out, line->text);
      g_string_append (out, "\r\n");
    }
}

/* ---- Media ------------------------------------------------------------ */

static void
sp_sdp_media_free (gpointer data)
{
  SpSdpMedia *media = data;

  g_free (media->type);
  g_free (media->proto);
  g_ptr_array_unref (media->formats);
  g_ptr_array_unref (media->lines);
  g_free (media);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpSdpMedia, sp_sdp_media_free)

static SpSdpMedia *
media_new (SpSdpSession *session)
{
  SpSdpMedia *media = g_new0 (SpSdpMedia, 1);

  media->session = session;
  media->port_count = 1;
  media->formats = g_ptr_array_new_with_free_func (g_free);
  media->lines = g_ptr_array_new_with_free_func (sdp_line_free);
  return media;
}

/* "RTP/AVP", "RTP/SAVP", "UDP/TLS/RTP/SAVPF": formats are payload types. */
static gboolean
proto_is_rtp (const char *proto)
{
  return g_str_has_prefix (proto, "RTP/") || strstr (proto, "/RTP/") != NULL;
}

static SpSdpMedia *
media_parse (SpSdpSession *session, const char *text, guint line_no, GError **error)
{
  g_autoptr (SpSdpMedia) media = NULL;
  g_auto (GStrv) f = split_fields (text, SP_SDP_MAX_FORMATS + 3);
  g_auto (GStrv) port = NULL;
  guint64 v;

  if (f == NULL)
    {
      sdp_fail (error, line_no, "more than %u formats in m=", SP_SDP_MAX_FORMATS);
      return NULL;
    }
  if (g_strv_length (f) < 3 || !is_token (f[0]) || !is_proto (f[2]))
    {
      sdp_fail (error, line_no, "m= needs <media> <port> <proto> <fmt> ...");
      return NULL;
    }
  media = media_new (session);
  media->type = g_strdup (f[0]);
  media->proto = g_strdup (f[2]);
  port = g_strsplit (f[1], "/", 3);
  if (g_strv_length (port) > 2 || !parse_u64 (port[0], SP_SDP_MAX_PORT, &v))
    {
      sdp_fail (error, line_no, "bad m= port");
      return NULL;
    }
  media->port = (guint) v;
  if (port[0] != NULL && port[1] != NULL)
    {
      if (!parse_u64 (port[1], SP_SDP_MAX_PORT, &v) || v == 0 ||
          media->port + v - 1 > SP_SDP_MAX_PORT)
        {
          sdp_fail (error, line_no, "bad m= number of ports");
          return NULL;
        }
      media->port_count = (guint) v;
    }
  for (guint i = 3; f[i] != NULL; i++)
    {
      if (!is_token (f[i]) || (proto_is_rtp (media->proto) && !parse_u64 (f[i], 127, &v)))
        {
          sdp_fail (error, line_no, "bad m= format %s", f[i]);
          return NULL;
        }
      g_ptr_array_add (media->formats, g_strdup (f[i]));
    }
  return g_steal_pointer (&media);
}

static SpSdpMedia *
media_copy (SpSdpSession *session, const SpSdpMedia *src)
{
  SpSdpMedia *media = media_new (session);

  media->type = g_strdup (src->type);
  media->port = src->port;
  media->port_count = src->port_count;
  media->proto = g_strdup (src->proto);
  for (guint i = 0; i < src->formats->len; i++)
    g_ptr_array_add (media->formats, g_strdup (src->formats->pdata[i]));
  for (guint i = 0; i < src->lines->len; i++)
    g_ptr_array_add (media->lines, sdp_line_copy (src->lines->pdata[i]));
  return media;
}

static void
media_write (GString *out, const SpSdpMedia *media)
{
  g_string_append_printf (out, "m=%s %u", media->type, media->port);
  if (media->port_count > 1)
    g_string_append_printf (out, "/%u", media->port_count);
  g_string_append_printf (out, " %s", media->proto);
  for (guint i = 0; i < media->formats->len; i++)
    g_string_append_printf (out, " %s", (const char *) media->formats->pdata[i]);
  g_string_append (out, "\r\n");
  lines_write (out, media->lines);
}

const char *
sp_sdp_media_get_media_type (const SpSdpMedia *media)
{
  g_return_val_if_fail (media != NULL, NULL);
  return media->type;
}

guint
sp_sdp_media_get_port (const SpSdpMedia *media)
{
  g_return_val_if_fail (media != NULL, 0);
  return media->port;
}

void
sp_sdp_media_set_port (SpSdpMedia *media, guint16 port)
{
  g_return_if_fail (media != NULL);
  media->port = port;
  if (media->port + media->port_count - 1 > SP_SDP_MAX_PORT)
    media->port_count = 1;
}

guint
sp_sdp_media_get_port_count (const SpSdpMedia *media)
{
  g_return_val_if_fail (media != NULL, 1);
  return media->port_count;
}

const char *
sp_sdp_media_get_proto (const SpSdpMedia *media)
{
  g_return_val_if_fail (media != NULL, NULL);
  return media->proto;
}

gboolean
sp_sdp_media_is_rejected (const SpSdpMedia *media)
{
  g_return_val_if_fail (media != NULL, TRUE);
  return media->port == 0;
}

guint
sp_sdp_media_get_n_formats (const SpSdpMedia *media)
{
  g_return_val_if_fail (media != NULL, 0);
  return media->formats->len;
}

const char *
sp_sdp_media_get_format (const SpSdpMedia *media, guint index)
{
  g_return_val_if_fail (media != NULL, NULL);
  g_return_val_if_fail (index < media->formats->len, NULL);
  return media->formats->pdata[index];
}

gint
sp_sdp_media_get_payload_type (const SpSdpMedia *media, guint index)
{
  const char *fmt = sp_sdp_media_get_format (media, index);
  guint64 v;

  return fmt != NULL && parse_u64 (fmt, 127, &v) ? (gint) v : -1;
}

gboolean
sp_sdp_media_has_format (const SpSdpMedia *media, const char *format)
{
  g_return_val_if_fail (media != NULL, FALSE);
  for (guint i = 0; i < media->formats->len; i++)
    if (g_strcmp0 (media->formats->pdata[i], format) == 0)
      return TRUE;
  return FALSE;
}

gboolean
sp_sdp_media_add_format (SpSdpMedia *media, const char *format)
{
  guint64 v;

  g_return_val_if_fail (media != NULL, FALSE);
  if (!is_token (format) || sp_sdp_media_has_format (media, format) ||
      media->formats->len >= SP_SDP_MAX_FORMATS)
    return FALSE;
  if (proto_is_rtp (media->proto) && !parse_u64 (format, 127, &v))
    return FALSE;
  g_ptr_array_add (media->formats, g_strdup (format));
  return TRUE;
}

gboolean
sp_sdp_media_add_rtp_format (SpSdpMedia *media, guint pt, const char *encoding, guint clock_rate,
                             guint channels)
{
  g_autofree char *fmt = g_strdup_printf ("%u", pt);
  g_autofree char *value = NULL;

  g_return_val_if_fail (media != NULL, FALSE);
  if (pt > 127 || !is_token (encoding) || strchr (encoding, '/') != NULL || clock_rate == 0 ||
      channels > 255)
    return FALSE;
  if (!sp_sdp_media_add_format (media, fmt))
    return FALSE;
  if (channels > 1)
    value = g_strdup_printf ("%u %s/%u/%u", pt, encoding, clock_rate, channels);
  else
    value = g_strdup_printf ("%u %s/%u", pt, encoding, clock_rate);
  return lines_add_attr (media->lines, "rtpmap", value);
}

/* Removes the rtpmap and fmtp attributes of format @format. */
static void
remove_format_attrs (SpSdpMedia *media, const char *format)
{
  guint64 pt;
  gint want = parse_u64 (format, 127, &pt) ? (gint) pt : -2;

  for (guint i = media->lines->len; i > 0; i--)
    {
      const SdpLine *line = media->lines->pdata[i - 1];
      if (line->type != 'a')
        continue;
      if ((strcmp (line->attr_name, "rtpmap") == 0 && line->num == want) ||
          (strcmp (line->attr_name, "fmtp") == 0 && g_str_has_prefix (line->attr_value, format) &&
           (line->attr_value[strlen (format)] == ' ' || line->attr_value[strlen (format)] == '\0')))
        g_ptr_array_remove_index (media->lines, i - 1);
    }
}

void
sp_sdp_media_remove_format (SpSdpMedia *media, const char *format)
{
  /* @format may be one of ours (sp_sdp_media_get_format): copy it first. */
  g_autofree char *fmt = g_strdup (format);

  g_return_if_fail (media != NULL);
  g_return_if_fail (fmt != NULL);
  for (guint i = media->formats->len; i > 0; i--)
    if (strcmp (media->formats->pdata[i - 1], fmt) == 0)
      g_ptr_array_remove_index (media->formats, i - 1);
  remove_format_attrs (media, fmt);
}

void
sp_sdp_media_clear_formats (SpSdpMedia *media)
{
  g_return_if_fail (media != NULL);
  g_ptr_array_set_size (media->formats, 0);
  lines_remove_attr (media->lines, "rtpmap");
  lines_remove_attr (media->lines, "fmtp");
}

/* RFC 3551 tables 4 and 5. */
static const struct
{
  guint pt;
  const char *encoding;
  guint clock_rate;
  guint channels;
} static_payloads[] = {
  { 0, "PCMU", 8000, 1 },   { 3, "GSM", 8000, 1 },    { 4, "G723", 8000, 1 },
  { 5, "DVI4", 8000, 1 },   { 6, "DVI4", 16000, 1 },  { 7, "LPC", 8000, 1 },
  { 8, "PCMA", 8000, 1 },   { 9, "G722", 8000, 1 },   { 10, "L16", 44100, 2 },
  { 11, "L16", 44100, 1 },  { 12, "QCELP", 8000, 1 }, { 13, "CN", 8000, 1 },
  { 14, "MPA", 90000, 1 },  { 15, "G728", 8000, 1 },  { 16, "DVI4", 11025, 1 },
  { 17, "DVI4", 22050, 1 }, { 18, "G729", 8000, 1 },  { 25, "CelB", 90000, 1 },
  { 26, "JPEG", 90000, 1 }, { 28, "nv", 90000, 1 },   { 31, "H261", 90000, 1 },
  { 32, "MPV", 90000, 1 },  { 33, "MP2T", 90000, 1 }, { 34, "H263", 90000, 1 },
};

gboolean
sp_sdp_media_get_rtpmap (const SpSdpMedia *media, guint pt, SpSdpRtpmap *out)
{
  g_return_val_if_fail (media != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  memset (out, 0, sizeof *out);
  out->payload_type = pt;
  out->fmtp = sp_sdp_media_get_fmtp (media, pt);
  for (guint i = 0; i < media->lines->len; i++)
    {
      const SdpLine *line = media->lines->pdata[i];
      if (line->type == 'a' && strcmp (line->attr_name, "rtpmap") == 0 && line->num == (gint64) pt)
        {
          out->encoding = line->str;
          out->clock_rate = (guint) line->rate;
          out->channels = (guint) line->channels;
          return TRUE;
        }
    }
  for (guint i = 0; i < G_N_ELEMENTS (static_payloads); i++)
    if (static_payloads[i].pt == pt)
      {
        out->encoding = static_payloads[i].encoding;
        out->clock_rate = static_payloads[i].clock_rate;
        out->channels = static_payloads[i].channels;
        return TRUE;
      }
  return FALSE;
}

const char *
sp_sdp_media_get_fmtp (const SpSdpMedia *media, guint pt)
{
  g_return_val_if_fail (media != NULL, NULL);
  for (guint i = 0; i < media->lines->len; i++)
    {
      const SdpLine *line = media->lines->pdata[i];
      if (line->type == 'a' && strcmp (line->attr_name, "fmtp") == 0 && line->num == (gint64) pt)
        return line->str;
    }
  return NULL;
}

gboolean
sp_sdp_media_set_fmtp (SpSdpMedia *media, guint pt, const char *params)
{
  SdpLine *line = NULL;
  gint pos = -1;

  g_return_val_if_fail (media != NULL, FALSE);
  if (pt > 127 || (params != NULL && !is_line_text (params)))
    return FALSE;
  /* Built before the old line goes: @params may be its text. */
  if (params != NULL)
    line = sdp_line_new ('a', g_strdup_printf ("fmtp:%u %s", pt, params));
  for (guint i = media->lines->len; i > 0; i--)
    {
      const SdpLine *old = media->lines->pdata[i - 1];
      if (old->type == 'a' && strcmp (old->attr_name, "fmtp") == 0 && old->num == (gint64) pt)
        {
          pos = (gint) i - 1;
          g_ptr_array_remove_index (media->lines, i - 1);
        }
    }
  if (line == NULL)
    return TRUE;
  if (pos < 0)
    lines_insert (media->lines, line);
  else
    g_ptr_array_insert (media->lines, pos, line);
  return TRUE;
}

static gint
media_get_ms (const SpSdpMedia *media, const char *name)
{
  const SdpLine *line;

  g_return_val_if_fail (media != NULL, -1);
  line = lines_get_attr (media->lines, name);
  return line != NULL ? (gint) line->num : -1;
}

static void
media_set_ms (SpSdpMedia *media, const char *name, gint ms)
{
  g_return_if_fail (media != NULL);
  g_return_if_fail (ms <= 10000);
  lines_replace (media->lines, 'a', name,
                 ms >= 0 ? sdp_line_new ('a', g_strdup_printf ("%s:%d", name, ms)) : NULL);
}

gint
sp_sdp_media_get_ptime (const SpSdpMedia *media)
{
  return media_get_ms (media, "ptime");
}

void
sp_sdp_media_set_ptime (SpSdpMedia *media, gint ms)
{
  media_set_ms (media, "ptime", ms);
}

gint
sp_sdp_media_get_maxptime (const SpSdpMedia *media)
{
  return media_get_ms (media, "maxptime");
}

void
sp_sdp_media_set_maxptime (SpSdpMedia *media, gint ms)
{
  media_set_ms (media, "maxptime", ms);
}

gint
sp_sdp_media_get_rtcp_port (const SpSdpMedia *media)
{
  const SdpLine *line;

  g_return_val_if_fail (media != NULL, -1);
  line = lines_get_attr (media->lines, "rtcp");
  return line != NULL ? (gint) line->num : -1;
}

const char *
sp_sdp_media_get_rtcp_address (const SpSdpMedia *media)
{
  const SdpLine *line;

  g_return_val_if_fail (media != NULL, NULL);
  line = lines_get_attr (media->lines, "rtcp");
  return line != NULL ? line->str : NULL;
}

void
sp_sdp_media_set_rtcp (SpSdpMedia *media, gint port, SpSdpAddrType addr_type, const char *address)
{
  char *text;

  g_return_if_fail (media != NULL);
  g_return_if_fail (port <= SP_SDP_MAX_PORT);
  g_return_if_fail (address == NULL || is_address (address));
  if (port < 0)
    {
      lines_remove_attr (media->lines, "rtcp");
      return;
    }
  if (address != NULL)
    text =
        g_strdup_printf ("rtcp:%d IN %s %s", port, sp_sdp_addr_type_to_string (addr_type), address);
  else
    text = g_strdup_printf ("rtcp:%d", port);
  lines_replace (media->lines, 'a', "rtcp", sdp_line_new ('a', text));
}

gboolean
sp_sdp_media_get_rtcp_mux (const SpSdpMedia *media)
{
  g_return_val_if_fail (media != NULL, FALSE);
  return lines_get_attr (media->lines, "rtcp-mux") != NULL;
}

void
sp_sdp_media_set_rtcp_mux (SpSdpMedia *media, gboolean mux)
{
  g_return_if_fail (media != NULL);
  lines_replace (media->lines, 'a', "rtcp-mux",
                 mux ? sdp_line_new ('a', g_strdup ("rtcp-mux")) : NULL);
}

const SpSdpConnection *
sp_sdp_media_get_connection (const SpSdpMedia *media)
{
  g_return_val_if_fail (media != NULL, NULL);
  return lines_get_connection (media->lines);
}

const SpSdpConnection *
sp_sdp_media_get_effective_connection (const SpSdpMedia *media)
{
  const SpSdpConnection *conn = sp_sdp_media_get_connection (media);

  if (conn == NULL && media != NULL)
    conn = sp_sdp_session_get_connection (media->session);
  return conn;
}

void
sp_sdp_media_set_connection (SpSdpMedia *media, SpSdpAddrType addr_type, const char *address)
{
  g_return_if_fail (media != NULL);
  lines_set_connection (media->lines, addr_type, address);
}

gint64
sp_sdp_media_get_bandwidth (const SpSdpMedia *media, const char *type)
{
  g_return_val_if_fail (media != NULL, -1);
  return lines_get_bandwidth (media->lines, type);
}

void
sp_sdp_media_set_bandwidth (SpSdpMedia *media, const char *type, gint64 kbps)
{
  g_return_if_fail (media != NULL);
  lines_set_bandwidth (media->lines, type, kbps);
}

SpSdpDirection
sp_sdp_media_get_direction (const SpSdpMedia *media)
{
  gint d;

  g_return_val_if_fail (media != NULL, SP_SDP_DIRECTION_SENDRECV);
  d = lines_get_direction (media->lines);
  if (d < 0)
    return sp_sdp_session_get_direction (media->session);
  return (SpSdpDirection) d;
}

void
sp_sdp_media_set_direction (SpSdpMedia *media, SpSdpDirection direction)
{
  g_return_if_fail (media != NULL);
  g_return_if_fail (direction <= SP_SDP_DIRECTION_INACTIVE);
  lines_set_direction (media->lines, direction);
}

guint
sp_sdp_media_get_n_attributes (const SpSdpMedia *media)
{
  g_return_val_if_fail (media != NULL, 0);
  return lines_count_attrs (media->lines);
}

void
sp_sdp_media_get_nth_attribute (const SpSdpMedia *media, guint n, const char **name,
                                const char **value)
{
  g_return_if_fail (media != NULL);
  lines_nth_attr (media->lines, n, name, value);
}

const char *
sp_sdp_media_get_attribute (const SpSdpMedia *media, const char *name)
{
  const SdpLine *line;

  g_return_val_if_fail (media != NULL, NULL);
  line = lines_get_attr (media->lines, name);
  if (line == NULL)
    return NULL;
  return line->attr_value != NULL ? line->attr_value : "";
}

gboolean
sp_sdp_media_has_attribute (const SpSdpMedia *media, const char *name)
{
  g_return_val_if_fail (media != NULL, FALSE);
  return lines_get_attr (media->lines, name) != NULL;
}

gboolean
sp_sdp_media_add_attribute (SpSdpMedia *media, const char *name, const char *value)
{
  g_return_val_if_fail (media != NULL, FALSE);
  return lines_add_checked_attr (media->lines, name, value);
}

void
sp_sdp_media_remove_attribute (SpSdpMedia *media, const char *name)
{
  g_return_if_fail (media != NULL);
  lines_remove_attr (media->lines, name);
}

/* ---- Session ---------------------------------------------------------- */

static SpSdpSession *
session_alloc (void)
{
  SpSdpSession *session = g_new0 (SpSdpSession, 1);

  session->lines = g_ptr_array_new_with_free_func (sdp_line_free);
  session->media = g_ptr_array_new_with_free_func (sp_sdp_media_free);
  return session;
}

void
sp_sdp_session_free (SpSdpSession *session)
{
  if (session == NULL)
    return;
  g_free (session->username);
  g_free (session->origin_address);
  g_free (session->name);
  g_ptr_array_unref (session->lines);
  g_ptr_array_unref (session->media);
  g_free (session);
}

static gboolean
parse_origin (SpSdpSession *session, const char *text, guint line_no, GError **error)
{
  g_auto (GStrv) f = split_fields (text, 6);

  if (f == NULL || g_strv_length (f) != 6)
    {
      sdp_fail (error, line_no,
                "o= needs <username> <sess-id> <sess-version> <nettype> <addrtype> <address>");
      return FALSE;
    }
  if (!parse_u64 (f[1], G_MAXUINT64, &session->session_id) ||
      !parse_u64 (f[2], G_MAXUINT64, &session->session_version))
    {
      sdp_fail (error, line_no, "bad o= session id or version");
      return FALSE;
    }
  if (!parse_addr_type (f[3], f[4], &session->origin_type, line_no, error))
    return FALSE;
  if (!is_address (f[5]))
    {
      sdp_fail (error, line_no, "bad o= address");
      return FALSE;
    }
  session->username = g_strdup (f[0]);
  session->origin_address = g_strdup (f[5]);
  return TRUE;
}

/* Where parsing is: before o=, at session level, or in the last m=. */
typedef struct
{
  SpSdpSession *session;
  SpSdpMedia *media;
  guint line_no;
  gboolean have_v;
  gboolean have_o;
  gboolean have_s;
} ParseState;

static gboolean
parse_line (ParseState *st, char type, const char *text, GError **error)
{
  SpSdpSession *session = st->session;
  SdpLine *line;

  if (!st->have_v)
    {
      if (type != 'v')
        {
          sdp_fail (error, st->line_no, "does not start with v=");
          return FALSE;
        }
      if (strcmp (text, "0") != 0)
        {
          g_set_error (error, SP_SIP_ERROR, SP_SDP_ERROR_NOT_ACCEPTABLE,
                       "SDP version %s not supported", text);
          return FALSE;
        }
      st->have_v = TRUE;
      return TRUE;
    }
  if (!st->have_o)
    {
      if (type != 'o')
        {
          sdp_fail (error, st->line_no, "o= must follow v=");
          return FALSE;
        }
      st->have_o = TRUE;
      return parse_origin (session, text, st->line_no, error);
    }
  switch (type)
    {
      case 'v':
      case 'o':
        sdp_fail (error, st->line_no, "second %c= line", type);
        return FALSE;
      case 's':
        if (st->have_s || st->media != NULL)
          {
            sdp_fail (error, st->line_no, "misplaced s= line");
            return FALSE;
          }
        st->have_s = TRUE;
        session->name = g_strdup (text);
        return TRUE;
      case 'm':
        if (session->media->len >= SP_SDP_MAX_MEDIA)
          {
            sdp_fail (error, st->line_no, "more than %u m= lines", SP_SDP_MAX_MEDIA);
            return FALSE;
          }
        st->media = media_parse (session, text, st->line_no, error);
        if (st->media == NULL)
          return FALSE;
        g_ptr_array_add (session->media, st->media);
        return TRUE;
      case 't':
      case 'r':
      case 'z':
        if (st->media != NULL)
          {
            sdp_fail (error, st->line_no, "%c= inside a media description", type);
            return FALSE;
          }
        break;
      case 'c':
        if (st->media == NULL && lines_find (session->lines, 'c', NULL) >= 0)
          {
            sdp_fail (error, st->line_no, "second session-level c= line");
            return FALSE;
          }
        break;
      default:
        break;
    }
  line = g_new0 (SdpLine, 1);
  line->type = type;
  line->text = g_strdup (text);
  if (!sdp_line_parse (line, st->line_no, error))
    {
      sdp_line_free (line);
      return FALSE;
    }
  g_ptr_array_add (st->media != NULL ? st->media->lines : session->lines, line);
  return TRUE;
}

SpSdpSession *
sp_sdp_session_parse (const char *text, gsize len, GError **error)
{
  g_autoptr (SpSdpSession) session = NULL;
  ParseState st = { 0 };
  gsize pos = 0;
  guint n_lines = 0;

  g_return_val_if_fail (text != NULL || len == 0, NULL);
  if (len > SP_SDP_MAX_SIZE)
    {
      sdp_fail (error, 0, "description longer than %u bytes", SP_SDP_MAX_SIZE);
      return NULL;
    }
  if (len > 0 && memchr (text, '\0', len) != NULL)
    {
      sdp_fail (error, 0, "NUL byte");
      return NULL;
    }
  session = session_alloc ();
  st.session = session;
  while (pos < len)
    {
      const char *start = text + pos;
      const char *nl = memchr (start, '\n', len - pos);
      gsize line_len = nl != NULL ? (gsize) (nl - start) : len - pos;
      g_autofree char *value = NULL;

      pos += line_len + (nl != NULL ? 1 : 0);
      if (line_len > 0 && start[line_len - 1] == '\r')
        line_len--;
      st.line_no = ++n_lines;
      if (n_lines > SP_SDP_MAX_LINES)
        {
          sdp_fail (error, 0, "more than %u lines", SP_SDP_MAX_LINES);
          return NULL;
        }
      if (line_len > SP_SDP_MAX_LINE_LENGTH)
        {
          sdp_fail (error, st.line_no, "line longer than %u bytes", SP_SDP_MAX_LINE_LENGTH);
          return NULL;
        }
      /* Blank lines (a trailing CRLF, an extra one) carry nothing. */
      if (line_len == 0)
        continue;
      if (line_len < 2 || !g_ascii_islower (start[0]) || start[1] != '=')
        {
          sdp_fail (error, st.line_no, "not a <type>=<value> line");
          return NULL;
        }
      value = g_strndup (start + 2, line_len - 2);
      if (!is_line_text (value))
        {
          sdp_fail (error, st.line_no, "control character");
          return NULL;
        }
      if (!parse_line (&st, start[0], value, error))
        return NULL;
    }
  if (!st.have_o)
    {
      sdp_fail (error, 0, st.have_v ? "no o= line" : "empty description");
      return NULL;
    }
  if (!st.have_s)
    session->name = g_strdup ("-");
  if (lines_find (session->lines, 't', NULL) < 0)
    lines_insert (session->lines, sdp_line_new ('t', g_strdup ("0 0")));
  return g_steal_pointer (&session);
}

SpSdpSession *
sp_sdp_session_new (const char *username, guint64 session_id, guint64 session_version,
                    SpSdpAddrType addr_type, const char *address)
{
  SpSdpSession *session;

  g_return_val_if_fail (username == NULL || is_token (username), NULL);
  g_return_val_if_fail (is_address (address), NULL);
  session = session_alloc ();
  session->username = g_strdup (username != NULL ? username : "-");
  session->session_id = session_id;
  session->session_version = session_version;
  session->origin_type = addr_type;
  session->origin_address = g_strdup (address);
  session->name = g_strdup ("-");
  g_ptr_array_add (session->lines, sdp_line_new ('t', g_strdup ("0 0")));
  return session;
}

SpSdpSession *
sp_sdp_session_copy (const SpSdpSession *src)
{
  SpSdpSession *session;

  g_return_val_if_fail (src != NULL, NULL);
  session = session_alloc ();
  session->username = g_strdup (src->username);
  session->session_id = src->session_id;
  session->session_version = src->session_version;
  session->origin_type = src->origin_type;
  session->origin_address = g_strdup (src->origin_address);
  session->name = g_strdup (src->name);
  for (guint i = 0; i < src->lines->len; i++)
    g_ptr_array_add (session->lines, sdp_line_copy (src->lines->pdata[i]));
  for (guint i = 0; i < src->media->len; i++)
    g_ptr_array_add (session->media, media_copy (session, src->media->pdata[i]));
  return session;
}

char *
sp_sdp_session_to_string (const SpSdpSession *session)
{
  GString *out;

  g_return_val_if_fail (session != NULL, NULL);
  out = g_string_sized_new (512);
  g_string_append (out, "v=0\r\n");
  g_string_append_printf (out, "o=%s %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " IN %s %s\r\n",
                          session->username, session->session_id, session->session_version,
                          sp_sdp_addr_type_to_string (session->origin_type),
                          session->origin_address);
  g_string_append_printf (out, "s=%s\r\n", session->name);
  lines_write (out, session->lines);
  for (guint i = 0; i < session->media->len; i++)
    media_write (out, session->media->pdata[i]);
  return g_string_free (out, FALSE);
}

gboolean
sp_sdp_session_equal (const SpSdpSession *a, const SpSdpSession *b)
{
  g_autofree char *ta = NULL;
  g_autofree char *tb = NULL;

  if (a == NULL || b == NULL)
    return a == b;
  ta = sp_sdp_session_to_string (a);
  tb = sp_sdp_session_to_string (b);
  return strcmp (ta, tb) == 0;
}

const char *
sp_sdp_session_get_origin_username (const SpSdpSession *session)
{
  g_return_val_if_fail (session != NULL, NULL);
  return session->username;
}

guint64
sp_sdp_session_get_session_id (const SpSdpSession *session)
{
  g_return_val_if_fail (session != NULL, 0);
  return session->session_id;
}

guint64
sp_sdp_session_get_session_version (const SpSdpSession *session)
{
  g_return_val_if_fail (session != NULL, 0);
  return session->session_version;
}

void
sp_sdp_session_set_session_version (SpSdpSession *session, guint64 version)
{
  g_return_if_fail (session != NULL);
  session->session_version = version;
}

SpSdpAddrType
sp_sdp_session_get_origin_addr_type (const SpSdpSession *session)
{
  g_return_val_if_fail (session != NULL, SP_SDP_ADDR_IP4);
  return session->origin_type;
}

const char *
sp_sdp_session_get_origin_address (const SpSdpSession *session)
{
  g_return_val_if_fail (session != NULL, NULL);
  return session->origin_address;
}

void
sp_sdp_session_set_origin_address (SpSdpSession *session, SpSdpAddrType addr_type,
                                   const char *address)
{
  char *old;

  g_return_if_fail (session != NULL);
  g_return_if_fail (is_address (address));
  old = session->origin_address;
  session->origin_type = addr_type;
  session->origin_address = g_strdup (address);
  g_free (old);
}

const char *
sp_sdp_session_get_name (const SpSdpSession *session)
{
  g_return_val_if_fail (session != NULL, NULL);
  return session->name;
}

void
sp_sdp_session_set_name (SpSdpSession *session, const char *name)
{
  char *old;

  g_return_if_fail (session != NULL);
  g_return_if_fail (is_line_text (name));
  /* Copy before freeing: @name may be the current one. */
  old = session->name;
  session->name = g_strdup (name);
  g_free (old);
}

const SpSdpConnection *
sp_sdp_session_get_connection (const SpSdpSession *session)
{
  g_return_val_if_fail (session != NULL, NULL);
  return lines_get_connection (session->lines);
}

void
sp_sdp_session_set_connection (SpSdpSession *session, SpSdpAddrType addr_type, const char *address)
{
  g_return_if_fail (session != NULL);
  lines_set_connection (session->lines, addr_type, address);
}

gint64
sp_sdp_session_get_bandwidth (const SpSdpSession *session, const char *type)
{
  g_return_val_if_fail (session != NULL, -1);
  return lines_get_bandwidth (session->lines, type);
}

void
sp_sdp_session_set_bandwidth (SpSdpSession *session, const char *type, gint64 kbps)
{
  g_return_if_fail (session != NULL);
  lines_set_bandwidth (session->lines, type, kbps);
}

static const SdpLine *
session_time (const SpSdpSession *session)
{
  gint i = lines_find (session->lines, 't', NULL);
  return i >= 0 ? session->lines->pdata[i] : NULL;
}

guint64
sp_sdp_session_get_start_time (const SpSdpSession *session)
{
  const SdpLine *t;

  g_return_val_if_fail (session != NULL, 0);
  t = session_time (session);
  return t != NULL ? t->rate : 0;
}

guint64
sp_sdp_session_get_stop_time (const SpSdpSession *session)
{
  const SdpLine *t;

  g_return_val_if_fail (session != NULL, 0);
  t = session_time (session);
  return t != NULL ? t->channels : 0;
}

void
sp_sdp_session_set_time (SpSdpSession *session, guint64 start, guint64 stop)
{
  g_return_if_fail (session != NULL);
  /* Repeat times and zone adjustments belong to the old t=. */
  lines_replace (session->lines, 'r', NULL, NULL);
  lines_replace (session->lines, 'z', NULL, NULL);
  lines_replace (session->lines, 't', NULL,
                 sdp_line_new ('t', g_strdup_printf ("%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
                                                     start, stop)));
}

guint
sp_sdp_session_get_n_attributes (const SpSdpSession *session)
{
  g_return_val_if_fail (session != NULL, 0);
  return lines_count_attrs (session->lines);
}

void
sp_sdp_session_get_nth_attribute (const SpSdpSession *session, guint n, const char **name,
                                  const char **value)
{
  g_return_if_fail (session != NULL);
  lines_nth_attr (session->lines, n, name, value);
}

const char *
sp_sdp_session_get_attribute (const SpSdpSession *session, const char *name)
{
  const SdpLine *line;

  g_return_val_if_fail (session != NULL, NULL);
  line = lines_get_attr (session->lines, name);
  if (line == NULL)
    return NULL;
  return line->attr_value != NULL ? line->attr_value : "";
}

gboolean
sp_sdp_session_has_attribute (const SpSdpSession *session, const char *name)
{
  g_return_val_if_fail (session != NULL, FALSE);
  return lines_get_attr (session->lines, name) != NULL;
}

gboolean
sp_sdp_session_add_attribute (SpSdpSession *session, const char *name, const char *value)
{
  g_return_val_if_fail (session != NULL, FALSE);
  return lines_add_checked_attr (session->lines, name, value);
}

void
sp_sdp_session_remove_attribute (SpSdpSession *session, const char *name)
{
  g_return_if_fail (session != NULL);
  lines_remove_attr (session->lines, name);
}

SpSdpDirection
sp_sdp_session_get_direction (const SpSdpSession *session)
{
  gint d;

  g_return_val_if_fail (session != NULL, SP_SDP_DIRECTION_SENDRECV);
  d = lines_get_direction (session->lines);
  return d >= 0 ? (SpSdpDirection) d : SP_SDP_DIRECTION_SENDRECV;
}

void
sp_sdp_session_set_direction (SpSdpSession *session, SpSdpDirection direction)
{
  g_return_if_fail (session != NULL);
  g_return_if_fail (direction <= SP_SDP_DIRECTION_INACTIVE);
  lines_set_direction (session->lines, direction);
}

guint
sp_sdp_session_get_n_media (const SpSdpSession *session)
{
  g_return_val_if_fail (session != NULL, 0);
  return session->media->len;
}

SpSdpMedia *
sp_sdp_session_get_media (const SpSdpSession *session, guint index)
{
  g_return_val_if_fail (session != NULL, NULL);
  g_return_val_if_fail (index < session->media->len, NULL);
  return session->media->pdata[index];
}

SpSdpMedia *
sp_sdp_session_find_media (const SpSdpSession *session, const char *type)
{
  g_return_val_if_fail (session != NULL, NULL);
  for (guint i = 0; i < session->media->len; i++)
    {
      SpSdpMedia *media = session->media->pdata[i];
      if (media->port != 0 && g_strcmp0 (media->type, type) == 0)
        return media;
    }
  return NULL;
}

SpSdpMedia *
sp_sdp_session_add_media (SpSdpSession *session, const char *type, guint16 port, const char *proto)
{
  SpSdpMedia *media;

  g_return_val_if_fail (session != NULL, NULL);
  if (!is_token (type) || !is_proto (proto) || session->media->len >= SP_SDP_MAX_MEDIA)
    return NULL;
  media = media_new (session);
  media->type = g_strdup (type);
  media->port = port;
  media->proto = g_strdup (proto);
  g_ptr_array_add (session->media, media);
  return media;
}

void
sp_sdp_session_remove_media (SpSdpSession *session, guint index)
{
  g_return_if_fail (session != NULL);
  g_return_if_fail (index < session->media->len);
  g_ptr_array_remove_index (session->media, index);
}
