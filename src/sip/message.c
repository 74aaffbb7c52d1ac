/* SIP messages: the parser (start line, header lines with folding,
 * Content-Length framing), the typed views of structured headers, the
 * builders and the serializer.
 *
 * A parsed message keeps one copy of the received bytes; header names,
 * values and the body point into it (values are unfolded in place), so a
 * parse costs one big allocation plus the typed views. Headers added
 * later own their strings. */

#include "sip/message.h"

#include <string.h>

#include "sip/sip-private.h"

typedef struct
{
  const char *name; /* canonical long name, or the received one */
  char *value;      /* NUL-terminated; value_len counts embedded NULs */
  guint32 value_len;
  guint8 id; /* SpSipHeaderId */
  guint8 own_name : 1;
  guint8 own_value : 1;
} Header;

struct _SpSipMessage
{
  gint ref_count;
  gboolean is_request;
  char *method;
  SpSipMethod method_id;
  SpSipUri *request_uri;
  guint status;
  char *reason;

  GArray *headers; /* Header */
  char *raw;       /* received bytes, NUL-terminated */
  const guint8 *body;
  gsize body_len;
  guint8 *body_owned;

  /* Typed views, rebuilt by index_headers () */
  GPtrArray *vias;
  SpSipNameAddr *from;
  SpSipNameAddr *to;
  const char *call_id;
  guint32 cseq;
  char *cseq_method;
  gint max_forwards;
  gint64 expires;
  GPtrArray *contacts;
  gboolean contact_star;
  GPtrArray *routes;
  GPtrArray *record_routes;
  char *content_type;
  guint8 counts[SP_HDR_LAST]; /* fields seen per header, saturating */
  char content_length_text[24];
};

/* ---- methods ---- */

static const char *const method_names[] = {
  [SP_SIP_METHOD_UNKNOWN] = NULL,      [SP_SIP_METHOD_INVITE] = "INVITE",
  [SP_SIP_METHOD_ACK] = "ACK",         [SP_SIP_METHOD_BYE] = "BYE",
  [SP_SIP_METHOD_CANCEL] = "CANCEL",   [SP_SIP_METHOD_REGISTER] = "REGISTER",
  [SP_SIP_METHOD_OPTIONS] = "OPTIONS", [SP_SIP_METHOD_INFO] = "INFO",
  [SP_SIP_METHOD_UPDATE] = "UPDATE",   [SP_SIP_METHOD_REFER] = "REFER",
  [SP_SIP_METHOD_NOTIFY] = "NOTIFY",   [SP_SIP_METHOD_SUBSCRIBE] = "SUBSCRIBE",
  [SP_SIP_METHOD_MESSAGE] = "MESSAGE", [SP_SIP_METHOD_PRACK] = "PRACK",
};

static SpSipMethod
method_from_range (const char *p, gsize len)
{
  for (guint i = 1; i < G_N_ELEMENTS (method_names); i++)
    if (strlen (method_names[i]) == len && memcmp (method_names[i], p, len) == 0)
      return (SpSipMethod) i;
  return SP_SIP_METHOD_UNKNOWN;
}

SpSipMethod
sp_sip_method_from_string (const char *method)
{
  if (!method)
    return SP_SIP_METHOD_UNKNOWN;
  return method_from_range (method, strlen (method));
}

const char *
sp_sip_method_to_string (SpSipMethod method)
{
  if ((guint) method >= G_N_ELEMENTS (method_names))
    return NULL;
  return method_names[method];
}

/* ---- life cycle ---- */

static void
header_clear (gpointer data)
{
  Header *h = data;

  if (h->own_name)
    g_free ((char *) h->name);
  if (h->own_value)
    g_free (h->value);
}

static SpSipMessage *
message_alloc (void)
{
  SpSipMessage *msg = g_new0 (SpSipMessage, 1);

  msg->ref_count = 1;
  msg->headers = g_array_sized_new (FALSE, FALSE, sizeof (Header), 16);
  g_array_set_clear_func (msg->headers, header_clear);
  msg->max_forwards = -1;
  msg->expires = -1;
  return msg;
}

static void
clear_views (SpSipMessage *msg)
{
  g_clear_pointer (&msg->vias, g_ptr_array_unref);
  g_clear_pointer (&msg->from, sp_sip_name_addr_free);
  g_clear_pointer (&msg->to, sp_sip_name_addr_free);
  g_clear_pointer (&msg->contacts, g_ptr_array_unref);
  g_clear_pointer (&msg->routes, g_ptr_array_unref);
  g_clear_pointer (&msg->record_routes, g_ptr_array_unref);
  g_clear_pointer (&msg->cseq_method, g_free);
  g_clear_pointer (&msg->content_type, g_free);
  msg->call_id = NULL;
  msg->cseq = 0;
  msg->max_forwards = -1;
  msg->expires = -1;
  msg->contact_star = FALSE;
  memset (msg->counts, 0, sizeof msg->counts);
}

SpSipMessage *
sp_sip_message_ref (SpSipMessage *msg)
{
  g_return_val_if_fail (msg != NULL, NULL);
  g_atomic_int_inc (&msg->ref_count);
  return msg;
}

void
sp_sip_message_unref (SpSipMessage *msg)
{
  if (!msg || !g_atomic_int_dec_and_test (&msg->ref_count))
    return;
  clear_views (msg);
  g_array_unref (msg->headers);
  g_free (msg->method);
  g_free (msg->reason);
  sp_sip_uri_free (msg->request_uri);
  g_free (msg->body_owned);
  g_free (msg->raw);
  g_free (msg);
}

/* ---- structured header parsing ---- */

static gboolean
set_bad (GError **error, const char *what)
{
  g_set_error_literal (error, SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST, what);
  return FALSE;
}

static gboolean
add_via (const char *p, const char *end, gpointer data, GError **error)
{
  SpSipVia *via = sp_sip_via_parse_range (p, end, error);

  if (!via)
    return FALSE;
  g_ptr_array_add (data, via);
  return TRUE;
}

static gboolean
add_name_addr (const char *p, const char *end, gpointer data, GError **error)
{
  SpSipNameAddr *addr = sp_sip_name_addr_parse_range (p, end, FALSE, error);

  if (!addr)
    return FALSE;
  g_ptr_array_add (data, addr);
  return TRUE;
}

static GPtrArray *
ensure_array (GPtrArray **array, GDestroyNotify free_func)
{
  if (!*array)
    *array = g_ptr_array_new_with_free_func (free_func);
  return *array;
}

static gboolean
parse_cseq (SpSipMessage *msg, const char *p, const char *end, gboolean store, GError **error)
{
  const char *num = p, *method;
  guint64 n;

  while (p < end && g_ascii_isdigit (*p))
    p++;
  /* RFC 3261 section 8.1.1.5: the number is below 2**31. */
  if (!sp_sip_parse_uint (num, p, G_MAXINT32, &n) || p >= end || !sp_sip_is_ws (*p))
    return set_bad (error, "sequence number not in 0..2^31-1");
  method = p = sp_sip_skip_ws (p, end);
  while (p < end && sp_sip_is (*p, SP_CC_TOKEN))
    p++;
  if (p == method || p != end)
    return set_bad (error, "bad method");
  if (store)
    {
      msg->cseq = (guint32) n;
      msg->cseq_method = sp_sip_dup_bytes (method, (gsize) (p - method));
    }
  return TRUE;
}

static gboolean
check_call_id (const char *p, const char *end)
{
  guint ats = 0;

  if (p == end || *p == '@' || end[-1] == '@')
    return FALSE;
  for (; p < end; p++)
    {
      if (*p == '@')
        ats++;
      else if (!sp_sip_is (*p, SP_CC_WORD))
        return FALSE;
    }
  return ats <= 1;
}

static gboolean
parse_content_type (SpSipMessage *msg, const char *p, const char *end, gboolean store,
                    GError **error)
{
  const char *type = p, *type_end, *sub, *sub_end;

  while (p < end && sp_sip_is (*p, SP_CC_TOKEN))
    p++;
  type_end = p;
  p = sp_sip_skip_ws (p, end);
  if (type_end == type || p >= end || *p != '/')
    return set_bad (error, "malformed media type");
  sub = p = sp_sip_skip_ws (p + 1, end);
  while (p < end && sp_sip_is (*p, SP_CC_TOKEN))
    p++;
  sub_end = p;
  p = sp_sip_skip_ws (p, end);
  if (sub_end == sub || (p < end && *p != ';'))
    return set_bad (error, "malformed media type");
  if (store)
    {
      GString *s = g_string_sized_new ((gsize) (sub_end - type) + 1);

      g_string_append_len (s, type, type_end - type);
      g_string_append_c (s, '/');
      g_string_append_len (s, sub, sub_end - sub);
      msg->content_type = g_ascii_strdown (s->str, (gssize) s->len);
      g_string_free (s, TRUE);
    }
  return TRUE;
}

static const char *
header_error_name (SpSipHeaderId id)
{
  return sp_sip_header_canonical_name (id);
}

/* Parses one structured header value into the views of @msg (only the
 * first field of a single-valued header is kept). Other headers are
 * opaque and always succeed. */
static gboolean
index_header (SpSipMessage *msg, SpSipHeaderId id, const char *p, gsize len, GError **error)
{
  const char *end = p + len;
  gboolean first = msg->counts[id] == 0;
  guint64 n;

  if (msg->counts[id] < G_MAXUINT8)
    msg->counts[id]++;
  p = sp_sip_skip_ws (p, end);
  end = sp_sip_trim_end (p, end);
  switch (id)
    {
      case SP_HDR_VIA:
        return sp_sip_split_list (
            p, end, add_via, ensure_array (&msg->vias, (GDestroyNotify) sp_sip_via_free), error);
      case SP_HDR_FROM:
      case SP_HDR_TO:
        {
          SpSipNameAddr *addr = sp_sip_name_addr_parse_range (p, end, FALSE, error);

          if (!addr)
            return FALSE;
          if (first)
            *(id == SP_HDR_FROM ? &msg->from : &msg->to) = addr;
          else
            sp_sip_name_addr_free (addr);
          return TRUE;
        }
      case SP_HDR_CALL_ID:
        if (!check_call_id (p, end))
          return set_bad (error, "not a word[@word]");
        return TRUE;
      case SP_HDR_CSEQ:
        return parse_cseq (msg, p, end, first, error);
      case SP_HDR_MAX_FORWARDS:
        if (!sp_sip_parse_uint (p, end, 255, &n))
          return set_bad (error, "not a number in 0..255");
        if (first)
          msg->max_forwards = (gint) n;
        return TRUE;
      case SP_HDR_EXPIRES:
        if (!sp_sip_parse_uint (p, end, G_MAXUINT32, &n))
          return set_bad (error, "not a number in 0..2^32-1");
        if (first)
          msg->expires = (gint64) n;
        return TRUE;
      case SP_HDR_CONTACT:
        if (end - p == 1 && *p == '*')
          {
            msg->contact_star = TRUE;
            return TRUE;
          }
        return sp_sip_split_list (
            p, end, add_name_addr,
            ensure_array (&msg->contacts, (GDestroyNotify) sp_sip_name_addr_free), error);
      case SP_HDR_ROUTE:
        return sp_sip_split_list (
            p, end, add_name_addr,
            ensure_array (&msg->routes, (GDestroyNotify) sp_sip_name_addr_free), error);
      case SP_HDR_RECORD_ROUTE:
        return sp_sip_split_list (
            p, end, add_name_addr,
            ensure_array (&msg->record_routes, (GDestroyNotify) sp_sip_name_addr_free), error);
      case SP_HDR_CONTENT_TYPE:
        return parse_content_type (msg, p, end, first, error);
      default:
        return TRUE;
    }
}

static gboolean
index_one (SpSipMessage *msg, const Header *h, GError **error)
{
  if (!index_header (msg, (SpSipHeaderId) h->id, h->value, h->value_len, error))
    {
      if (error && *error)
        g_prefix_error (error, "Bad %s header: ", header_error_name ((SpSipHeaderId) h->id));
      return FALSE;
    }
  if (h->id == SP_HDR_CALL_ID && !msg->call_id)
    msg->call_id = h->value + (sp_sip_skip_ws (h->value, h->value + h->value_len) - h->value);
  return TRUE;
}

/* Forgets the typed view of one header kind. */
static void
clear_view (SpSipMessage *msg, SpSipHeaderId id)
{
  msg->counts[id] = 0;
  switch (id)
    {
      case SP_HDR_VIA:
        g_clear_pointer (&msg->vias, g_ptr_array_unref);
        break;
      case SP_HDR_FROM:
        g_clear_pointer (&msg->from, sp_sip_name_addr_free);
        break;
      case SP_HDR_TO:
        g_clear_pointer (&msg->to, sp_sip_name_addr_free);
        break;
      case SP_HDR_CALL_ID:
        msg->call_id = NULL;
        break;
      case SP_HDR_CSEQ:
        g_clear_pointer (&msg->cseq_method, g_free);
        msg->cseq = 0;
        break;
      case SP_HDR_MAX_FORWARDS:
        msg->max_forwards = -1;
        break;
      case SP_HDR_EXPIRES:
        msg->expires = -1;
        break;
      case SP_HDR_CONTACT:
        g_clear_pointer (&msg->contacts, g_ptr_array_unref);
        msg->contact_star = FALSE;
        break;
      case SP_HDR_ROUTE:
        g_clear_pointer (&msg->routes, g_ptr_array_unref);
        break;
      case SP_HDR_RECORD_ROUTE:
        g_clear_pointer (&msg->record_routes, g_ptr_array_unref);
        break;
      case SP_HDR_CONTENT_TYPE:
        g_clear_pointer (&msg->content_type, g_free);
        break;
      default:
        break;
    }
}

/* Rebuilds the view of one header kind after an edit: the other views
 * cannot have changed, and re-parsing every header on each edit was a
 * large share of a proxy's CPU time. */
static gboolean
index_id (SpSipMessage *msg, SpSipHeaderId id, GError **error)
{
  GError *first_error = NULL;

  if (id == SP_HDR_OTHER)
    return TRUE;
  clear_view (msg, id);
  for (guint i = 0; i < msg->headers->len; i++)
    {
      const Header *h = &g_array_index (msg->headers, Header, i);

      if (h->id == id)
        index_one (msg, h, first_error ? NULL : &first_error);
    }
  if (first_error)
    {
      g_propagate_error (error, first_error);
      return FALSE;
    }
  return TRUE;
}

/* Rebuilds every typed view; the first error (if any) is returned, the
 * views of the headers that did parse stay usable. */
static gboolean
index_headers (SpSipMessage *msg, GError **error)
{
  GError *first_error = NULL;

  clear_views (msg);
  for (guint i = 0; i < msg->headers->len; i++)
    {
      const Header *h = &g_array_index (msg->headers, Header, i);

      if (h->id == SP_HDR_OTHER)
        continue;
      if (!index_one (msg, h, first_error ? NULL : &first_error) && !first_error)
        first_error = g_error_new_literal (SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST, "Bad header");
    }
  if (first_error)
    {
      g_propagate_error (error, first_error);
      return FALSE;
    }
  return TRUE;
}

/* ---- the parser ---- */

typedef struct
{
  SpSipMessage *msg;
  SpSipFraming framing;
  const char *end;
  gboolean have_length;
  guint64 content_length;
} ParseState;

static gboolean
fail_incomplete (ParseState *st, GError **error, const char *what)
{
  if (st->framing == SP_SIP_FRAMING_STREAM)
    g_set_error_literal (error, SP_SIP_ERROR, SP_SIP_ERROR_INCOMPLETE, "Incomplete message");
  else
    g_set_error_literal (error, SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST, what);
  return FALSE;
}

/* "SIP/2.0" exactly; a well-formed other version is 505. */
static gboolean
check_version (const char *p, const char *end, GError **error)
{
  const char *q = p + 4;
  const char *major;

  if (end - p == 7 && g_ascii_strncasecmp (p, "SIP/2.0", 7) == 0)
    return TRUE;
  if (end - p < 7 || g_ascii_strncasecmp (p, "SIP/", 4) != 0)
    return set_bad (error, "Bad SIP version");
  major = q;
  while (q < end && g_ascii_isdigit (*q))
    q++;
  if (q == major || q >= end || *q != '.')
    return set_bad (error, "Bad SIP version");
  major = ++q;
  while (q < end && g_ascii_isdigit (*q))
    q++;
  if (q == major || q != end)
    return set_bad (error, "Bad SIP version");
  g_set_error_literal (error, SP_SIP_ERROR, SP_SIP_ERROR_VERSION_NOT_SUPPORTED,
                       "SIP version not supported");
  return FALSE;
}

static gboolean
parse_status_line (SpSipMessage *msg, const char *p, const char *end, GError **error)
{
  const char *sp = memchr (p, ' ', (gsize) (end - p));
  guint status = 0;

  if (!sp || !check_version (p, sp, error))
    return sp ? FALSE : set_bad (error, "Bad status line");
  p = sp + 1;
  if (end - p < 3)
    return set_bad (error, "Bad status code");
  for (int i = 0; i < 3; i++)
    {
      if (!g_ascii_isdigit (p[i]))
        return set_bad (error, "Bad status code");
      status = status * 10 + (guint) (p[i] - '0');
    }
  p += 3;
  if (status < 100 || status > 699 || (p < end && *p != ' '))
    return set_bad (error, "Bad status code");
  if (p < end)
    p++;
  msg->status = status;
  msg->reason = sp_sip_dup_bytes (p, (gsize) (end - p));
  return TRUE;
}

static gboolean
parse_request_line (SpSipMessage *msg, const char *p, const char *end, GError **error)
{
  const char *sp1 = memchr (p, ' ', (gsize) (end - p)), *sp2;

  if (!sp1 || sp1 == p)
    return set_bad (error, "Bad request line");
  for (const char *q = p; q < sp1; q++)
    if (!sp_sip_is (*q, SP_CC_TOKEN))
      return set_bad (error, "Bad method");
  sp2 = memchr (sp1 + 1, ' ', (gsize) (end - sp1 - 1));
  if (!sp2 || sp2 == sp1 + 1)
    return set_bad (error, "Bad request line");
  if (!check_version (sp2 + 1, end, error))
    return FALSE;
  msg->request_uri = sp_sip_uri_parse_range (sp1 + 1, sp2, error);
  if (!msg->request_uri)
    {
      g_prefix_error (error, "Bad Request-URI: ");
      return FALSE;
    }
  msg->method = sp_sip_dup_bytes (p, (gsize) (sp1 - p));
  msg->method_id = method_from_range (p, (gsize) (sp1 - p));
  msg->is_request = TRUE;
  return TRUE;
}

/* Unfolds a value in place: each line break with the whitespace around
 * it becomes one SP (RFC 3261 section 7.3.1). Returns the new end. */
static char *
unfold_in_place (char *v, char *end)
{
  char *w = v;

  for (char *r = v; r < end; r++)
    {
      if (*r != '\n')
        {
          *w++ = *r;
          continue;
        }
      if (w > v && w[-1] == '\r')
        w--;
      while (w > v && sp_sip_is_ws (w[-1]))
        w--;
      while (r + 1 < end && sp_sip_is_ws (r[1]))
        r++;
      if (w > v)
        *w++ = ' ';
    }
  return w;
}

typedef struct
{
  char *name;
  char *name_end;
  char *value;
  char *value_end;
  gboolean folded;
} PendingHeader;

static gboolean
finish_header (ParseState *st, PendingHeader *ph, GError **error)
{
  SpSipMessage *msg = st->msg;
  char *v = (char *) sp_sip_skip_ws (ph->value, ph->value_end);
  char *ve = ph->folded ? unfold_in_place (v, ph->value_end) : ph->value_end;
  SpSipHeaderId id = sp_sip_header_id (ph->name, (gsize) (ph->name_end - ph->name));
  Header h = { 0 };

  ve = (char *) sp_sip_trim_end (v, ve);
  *ve = '\0';
  if (id == SP_HDR_CONTENT_LENGTH)
    {
      guint64 n;

      if (!sp_sip_parse_uint (v, ve, G_MAXUINT32, &n))
        return set_bad (error, "Bad Content-Length");
      if (st->have_length && n != st->content_length)
        return set_bad (error, "Conflicting Content-Length values");
      st->have_length = TRUE;
      st->content_length = n;
      return TRUE;
    }
  if (msg->headers->len >= SP_SIP_MAX_HEADERS)
    {
      g_set_error_literal (error, SP_SIP_ERROR, SP_SIP_ERROR_TOO_LARGE, "Too many header fields");
      return FALSE;
    }
  if (id == SP_HDR_OTHER)
    {
      *ph->name_end = '\0';
      h.name = ph->name;
    }
  else
    h.name = sp_sip_header_canonical_name (id);
  h.id = (guint8) id;
  h.value = v;
  h.value_len = (guint32) (ve - v);
  g_array_append_val (msg->headers, h);
  return TRUE;
}

/* Starts a header at a line that is not a continuation: name, optional
 * whitespace, colon. */
static gboolean
start_header (PendingHeader *ph, char *line, char *line_end, GError **error)
{
  char *p = line;

  while (p < line_end && sp_sip_is (*p, SP_CC_TOKEN))
    p++;
  ph->name = line;
  ph->name_end = p;
  p = (char *) sp_sip_skip_ws (p, line_end);
  if (ph->name_end == line || p >= line_end || *p != ':')
    return set_bad (error, "Malformed header line");
  ph->value = p + 1;
  ph->value_end = line_end;
  ph->folded = FALSE;
  return TRUE;
}

/* Header section from @p; on success *body_start is after the empty line. */
static gboolean
parse_header_lines (ParseState *st, char *p, char **body_start, GError **error)
{
  PendingHeader ph = { 0 };
  gboolean have = FALSE;

  while (TRUE)
    {
      char *lf = p < st->end ? memchr (p, '\n', (gsize) (st->end - p)) : NULL;
      char *le;

      if (!lf)
        return fail_incomplete (st, error, "Header section not terminated by an empty line");
      le = (lf > p && lf[-1] == '\r') ? lf - 1 : lf;
      if (le - p > SP_SIP_MAX_LINE_LENGTH)
        {
          g_set_error_literal (error, SP_SIP_ERROR, SP_SIP_ERROR_TOO_LARGE, "Header line too long");
          return FALSE;
        }
      if (le == p)
        {
          *body_start = lf + 1;
          return !have || finish_header (st, &ph, error);
        }
      if (sp_sip_is_ws (*p))
        {
          if (!have)
            return set_bad (error, "Continuation line without a header");
          ph.value_end = le;
          ph.folded = TRUE;
        }
      else
        {
          if (have && !finish_header (st, &ph, error))
            return FALSE;
          if (!start_header (&ph, p, le, error))
            return FALSE;
          have = TRUE;
        }
      p = lf + 1;
    }
}

static gboolean
parse_start_line (ParseState *st, char **pp, GError **error)
{
  char *p = *pp, *lf, *le;
  SpSipMessage *msg = st->msg;

  /* RFC 3261 section 7.5: ignore CRLFs before the start line. */
  while (p < st->end && (*p == '\r' || *p == '\n'))
    p++;
  lf = p < st->end ? memchr (p, '\n', (gsize) (st->end - p)) : NULL;
  if (!lf)
    return fail_incomplete (st, error, "Incomplete start line");
  le = (lf > p && lf[-1] == '\r') ? lf - 1 : lf;
  if (le - p > SP_SIP_MAX_LINE_LENGTH)
    {
      g_set_error_literal (error, SP_SIP_ERROR, SP_SIP_ERROR_URI_TOO_LONG, "Start line too long");
      return FALSE;
    }
  *pp = lf + 1;
  if (le - p >= 4 && memcmp (p, "SIP/", 4) == 0)
    return parse_status_line (msg, p, le, error);
  return parse_request_line (msg, p, le, error);
}

static gboolean
frame_body (ParseState *st, char *body_start, GError **error)
{
  SpSipMessage *msg = st->msg;
  gsize avail = (gsize) (st->end - body_start);

  if (!st->have_length)
    {
      if (st->framing == SP_SIP_FRAMING_STREAM)
        return set_bad (error, "Missing Content-Length");
      st->content_length = avail;
    }
  if (st->content_length > avail)
    {
      if (st->framing == SP_SIP_FRAMING_STREAM)
        return fail_incomplete (st, error, NULL);
      return set_bad (error, "Content-Length larger than body");
    }
  msg->body = (const guint8 *) body_start;
  msg->body_len = (gsize) st->content_length;
  return TRUE;
}

static gboolean
can_answer (const SpSipMessage *msg)
{
  return msg->is_request && msg->vias && msg->vias->len > 0 && msg->from && msg->to &&
         msg->call_id && msg->cseq_method;
}

SpSipMessage *
sp_sip_message_parse (const guint8 *data, gsize len, SpSipFraming framing, SpSipMessage **partial,
                      GError **error)
{
  g_autoptr (SpSipMessage) msg = NULL;
  ParseState st = { 0 };
  char *p, *body_start = NULL;
  GError *local_error = NULL;

  if (partial)
    *partial = NULL;
  if (len > SP_SIP_MAX_MESSAGE_SIZE)
    {
      g_set_error_literal (error, SP_SIP_ERROR, SP_SIP_ERROR_TOO_LARGE, "Message too large");
      return NULL;
    }
  msg = message_alloc ();
  msg->raw = g_malloc (len + 1);
  if (len > 0)
    memcpy (msg->raw, data, len);
  msg->raw[len] = '\0';
  st.msg = msg;
  st.framing = framing;
  st.end = msg->raw + len;
  p = msg->raw;
  if (!parse_start_line (&st, &p, error) || !parse_header_lines (&st, p, &body_start, error) ||
      !frame_body (&st, body_start, error))
    return NULL;
  if (!index_headers (msg, &local_error))
    {
      if (partial && can_answer (msg))
        *partial = g_steal_pointer (&msg);
      g_propagate_error (error, local_error);
      return NULL;
    }
  return g_steal_pointer (&msg);
}

/* ---- building ---- */

SpSipMessage *
sp_sip_message_new_request (const char *method, const SpSipUri *request_uri)
{
  SpSipMessage *msg = message_alloc ();

  msg->is_request = TRUE;
  msg->method = g_strdup (method);
  msg->method_id = sp_sip_method_from_string (method);
  msg->request_uri = sp_sip_uri_copy (request_uri);
  return msg;
}

SpSipMessage *
sp_sip_message_new_response (guint status, const char *reason)
{
  SpSipMessage *msg = message_alloc ();

  msg->status = status;
  msg->reason = g_strdup (reason ? reason : sp_sip_status_phrase (status));
  return msg;
}

static void
append_owned (SpSipMessage *msg, SpSipHeaderId id, const char *name, const char *value,
              gsize value_len)
{
  Header h = { 0 };

  if (id != SP_HDR_OTHER)
    h.name = sp_sip_header_canonical_name (id);
  else
    {
      h.name = g_strdup (name);
      h.own_name = TRUE;
    }
  h.id = (guint8) id;
  h.value = sp_sip_dup_bytes (value, value_len);
  h.value_len = (guint32) value_len;
  h.own_value = TRUE;
  g_array_append_val (msg->headers, h);
}

static void
copy_fields (SpSipMessage *dst, const SpSipMessage *src, SpSipHeaderId id)
{
  for (guint i = 0; i < src->headers->len; i++)
    {
      const Header *h = &g_array_index (src->headers, Header, i);

      if (h->id == id)
        append_owned (dst, id, h->name, h->value, h->value_len);
    }
}

/* The views of the fields a response copies from its request: copying
 * the parsed Via and From is cheaper than parsing their text again. */
static void
copy_views (SpSipMessage *msg, const SpSipMessage *request)
{
  if (request->vias != NULL)
    {
      GPtrArray *vias = ensure_array (&msg->vias, (GDestroyNotify) sp_sip_via_free);

      for (guint i = 0; i < request->vias->len; i++)
        g_ptr_array_add (vias, sp_sip_via_copy (g_ptr_array_index (request->vias, i)));
    }
  msg->counts[SP_HDR_VIA] = request->counts[SP_HDR_VIA];
  if (request->from != NULL)
    msg->from = sp_sip_name_addr_copy (request->from);
  msg->counts[SP_HDR_FROM] = request->counts[SP_HDR_FROM];
  index_id (msg, SP_HDR_TO, NULL);
  index_id (msg, SP_HDR_CALL_ID, NULL);
  index_id (msg, SP_HDR_CSEQ, NULL);
  index_id (msg, SP_HDR_TIMESTAMP, NULL);
}

SpSipMessage *
sp_sip_message_new_response_to (const SpSipMessage *request, guint status, const char *reason,
                                const char *to_tag)
{
  SpSipMessage *msg = sp_sip_message_new_response (status, reason);

  copy_fields (msg, request, SP_HDR_VIA);
  copy_fields (msg, request, SP_HDR_FROM);
  for (guint i = 0; i < request->headers->len; i++)
    {
      const Header *h = &g_array_index (request->headers, Header, i);

      if (h->id != SP_HDR_TO)
        continue;
      if (to_tag && request->to && !sp_sip_name_addr_get_tag (request->to))
        {
          /* Appending keeps the received To text exactly (8.2.6.2). */
          g_autofree char *v = g_strconcat (h->value, ";tag=", to_tag, NULL);

          append_owned (msg, SP_HDR_TO, NULL, v, strlen (v));
        }
      else
        append_owned (msg, SP_HDR_TO, NULL, h->value, h->value_len);
      break;
    }
  copy_fields (msg, request, SP_HDR_CALL_ID);
  copy_fields (msg, request, SP_HDR_CSEQ);
  /* Section 8.2.6.1: a 100 (Trying) echoes the Timestamp. */
  if (status == 100)
    copy_fields (msg, request, SP_HDR_TIMESTAMP);
  copy_views (msg, request);
  return msg;
}

SpSipMessage *
sp_sip_message_copy (const SpSipMessage *src)
{
  SpSipMessage *msg = message_alloc ();

  msg->is_request = src->is_request;
  msg->method = g_strdup (src->method);
  msg->method_id = src->method_id;
  msg->request_uri = sp_sip_uri_copy (src->request_uri);
  msg->status = src->status;
  msg->reason = g_strdup (src->reason);
  for (guint i = 0; i < src->headers->len; i++)
    {
      const Header *h = &g_array_index (src->headers, Header, i);

      append_owned (msg, (SpSipHeaderId) h->id, h->name, h->value, h->value_len);
    }
  if (src->body_len > 0)
    {
      msg->body_owned = g_memdup2 (src->body, src->body_len);
      msg->body = msg->body_owned;
      msg->body_len = src->body_len;
    }
  index_headers (msg, NULL);
  return msg;
}

/* ---- accessors ---- */

gboolean
sp_sip_message_is_request (const SpSipMessage *msg)
{
  return msg->is_request;
}

const char *
sp_sip_message_get_method (const SpSipMessage *msg)
{
  return msg->is_request ? msg->method : msg->cseq_method;
}

SpSipMethod
sp_sip_message_get_method_id (const SpSipMessage *msg)
{
  if (msg->is_request)
    return msg->method_id;
  return sp_sip_method_from_string (msg->cseq_method);
}

const SpSipUri *
sp_sip_message_get_request_uri (const SpSipMessage *msg)
{
  return msg->request_uri;
}

void
sp_sip_message_set_request_uri (SpSipMessage *msg, const SpSipUri *uri)
{
  SpSipUri *copy = sp_sip_uri_copy (uri);

  sp_sip_uri_free (msg->request_uri);
  msg->request_uri = copy;
}

guint
sp_sip_message_get_status (const SpSipMessage *msg)
{
  return msg->status;
}

const char *
sp_sip_message_get_reason (const SpSipMessage *msg)
{
  return msg->reason;
}

static gboolean
name_matches (const Header *h, SpSipHeaderId id, const char *name)
{
  if (id != SP_HDR_OTHER)
    return h->id == id;
  return h->id == SP_HDR_OTHER && g_ascii_strcasecmp (h->name, name) == 0;
}

const char *
sp_sip_message_get_header (const SpSipMessage *msg, const char *name)
{
  SpSipHeaderId id = sp_sip_header_id (name, strlen (name));

  if (id == SP_HDR_CONTENT_LENGTH)
    {
      SpSipMessage *m = (SpSipMessage *) msg;

      g_snprintf (m->content_length_text, sizeof m->content_length_text, "%" G_GSIZE_FORMAT,
                  msg->body_len);
      return m->content_length_text;
    }
  for (guint i = 0; i < msg->headers->len; i++)
    {
      const Header *h = &g_array_index (msg->headers, Header, i);

      if (name_matches (h, id, name))
        return h->value;
    }
  return NULL;
}

guint
sp_sip_message_get_n_headers (const SpSipMessage *msg)
{
  return msg->headers->len;
}

void
sp_sip_message_get_nth_header (const SpSipMessage *msg, guint n, const char **name,
                               const char **value)
{
  const Header *h;

  g_return_if_fail (n < msg->headers->len);
  h = &g_array_index (msg->headers, Header, n);
  if (name)
    *name = h->name;
  if (value)
    *value = h->value;
}

/* Validates @name and @value for insertion; the id goes to *out_id. */
static gboolean
check_new_header (const char *name, const char *value, SpSipHeaderId *out_id, GError **error)
{
  gsize len = strlen (name);

  if (len == 0)
    return set_bad (error, "Empty header name");
  for (gsize i = 0; i < len; i++)
    if (!sp_sip_is (name[i], SP_CC_TOKEN))
      return set_bad (error, "Bad header name");
  for (const char *p = value; *p; p++)
    if (*p == '\r' || *p == '\n')
      return set_bad (error, "Line break in header value");
  *out_id = sp_sip_header_id (name, len);
  return TRUE;
}

/* Parses @value as a field of @id without touching any message: a probe
 * on the stack holds the views, so validating costs no allocation of its
 * own. */
static gboolean
check_new_value (SpSipHeaderId id, const char *name, const char *value, GError **error)
{
  SpSipMessage probe = { 0 };
  gboolean ok = index_header (&probe, id, value, strlen (value), error);

  clear_views (&probe);
  if (!ok)
    g_prefix_error (error, "Bad %s header: ", name);
  return ok;
}

gboolean
sp_sip_message_add_header (SpSipMessage *msg, const char *name, const char *value, GError **error)
{
  SpSipHeaderId id;

  Header *h;

  if (!check_new_header (name, value, &id, error))
    return FALSE;
  if (id == SP_HDR_CONTENT_LENGTH)
    return TRUE; /* serialization writes the real one */
  append_owned (msg, id, name, value, strlen (value));
  /* Appending never changes which field is first: index just this one,
   * which also validates it (parsing it twice was a hot-path cost). */
  h = &g_array_index (msg->headers, Header, msg->headers->len - 1);
  if (index_header (msg, id, h->value, h->value_len, error))
    {
      if (id == SP_HDR_CALL_ID && !msg->call_id)
        msg->call_id = h->value + (sp_sip_skip_ws (h->value, h->value + h->value_len) - h->value);
      return TRUE;
    }
  /* A bad value leaves the message as it was. */
  g_prefix_error (error, "Bad %s header: ", name);
  g_array_remove_index (msg->headers, msg->headers->len - 1);
  index_id (msg, id, NULL);
  return FALSE;
}

static GPtrArray **
list_view (SpSipMessage *msg, SpSipHeaderId id)
{
  switch (id)
    {
      case SP_HDR_VIA:
        return &msg->vias;
      case SP_HDR_CONTACT:
        return &msg->contacts;
      case SP_HDR_ROUTE:
        return &msg->routes;
      case SP_HDR_RECORD_ROUTE:
        return &msg->record_routes;
      default:
        return NULL;
    }
}

/* Puts the fields parsed into @probe in front of the view of @id: a new
 * first field of a list header needs no re-parse of the others. */
static gboolean
splice_front (SpSipMessage *msg, SpSipMessage *probe, SpSipHeaderId id)
{
  GPtrArray **mine = list_view (msg, id);
  GPtrArray **theirs = list_view (probe, id);

  if (mine == NULL || *theirs == NULL || probe->contact_star || msg->contact_star)
    return FALSE;
  if (*mine != NULL)
    g_ptr_array_extend_and_steal (*theirs, g_steal_pointer (mine));
  *mine = g_steal_pointer (theirs);
  msg->counts[id] = (guint8) MIN ((guint) msg->counts[id] + probe->counts[id], G_MAXUINT8);
  return TRUE;
}

gboolean
sp_sip_message_prepend_header (SpSipMessage *msg, const char *name, const char *value,
                               GError **error)
{
  SpSipMessage probe = { 0 };
  SpSipHeaderId id;
  gboolean spliced;
  Header h;

  if (!check_new_header (name, value, &id, error))
    return FALSE;
  if (id == SP_HDR_CONTENT_LENGTH)
    return TRUE;
  if (!index_header (&probe, id, value, strlen (value), error))
    {
      clear_views (&probe);
      g_prefix_error (error, "Bad %s header: ", name);
      return FALSE;
    }
  append_owned (msg, id, name, value, strlen (value));
  h = g_array_index (msg->headers, Header, msg->headers->len - 1);
  /* Move without running the clear function on the moved slot. */
  memmove (&g_array_index (msg->headers, Header, 1), &g_array_index (msg->headers, Header, 0),
           (msg->headers->len - 1) * sizeof (Header));
  g_array_index (msg->headers, Header, 0) = h;
  spliced = splice_front (msg, &probe, id);
  clear_views (&probe);
  return spliced || index_id (msg, id, error);
}

static void
remove_fields (SpSipMessage *msg, SpSipHeaderId id, const char *name)
{
  for (guint i = msg->headers->len; i > 0; i--)
    if (name_matches (&g_array_index (msg->headers, Header, i - 1), id, name))
      g_array_remove_index (msg->headers, i - 1);
}

gboolean
sp_sip_message_set_header (SpSipMessage *msg, const char *name, const char *value, GError **error)
{
  SpSipHeaderId id;

  if (!check_new_header (name, value, &id, error) || !check_new_value (id, name, value, error))
    return FALSE;
  if (id == SP_HDR_CONTENT_LENGTH)
    return TRUE;
  remove_fields (msg, id, name);
  append_owned (msg, id, name, value, strlen (value));
  return index_id (msg, id, error);
}

void
sp_sip_message_remove_header (SpSipMessage *msg, const char *name)
{
  SpSipHeaderId id = sp_sip_header_id (name, strlen (name));

  remove_fields (msg, id, name);
  index_id (msg, id, NULL);
}

/* The first comma outside quotes and <> in [p, end), or NULL. */
static const char *
first_list_comma (const char *p, const char *end)
{
  gboolean in_quote = FALSE, in_angle = FALSE;

  for (; p < end; p++)
    {
      if (in_quote)
        {
          if (*p == '\\' && p + 1 < end)
            p++;
          else if (*p == '"')
            in_quote = FALSE;
        }
      else if (*p == '"')
        in_quote = TRUE;
      else if (*p == '<')
        in_angle = TRUE;
      else if (*p == '>')
        in_angle = FALSE;
      else if (*p == ',' && !in_angle)
        return p;
    }
  return NULL;
}

/* Drops the first field of @h's value, up to its list @comma. */
static void
keep_after (Header *h, const char *comma)
{
  const char *rest = sp_sip_skip_ws (comma + 1, h->value + h->value_len);
  gsize n = (gsize) (h->value + h->value_len - rest);
  char *v = sp_sip_dup_bytes (rest, n);

  if (h->own_value)
    g_free (h->value);
  h->value = v;
  h->value_len = (guint32) n;
  h->own_value = TRUE;
}

void
sp_sip_message_remove_first_value (SpSipMessage *msg, const char *name)
{
  SpSipHeaderId id = sp_sip_header_id (name, strlen (name));

  for (guint i = 0; i < msg->headers->len; i++)
    {
      Header *h = &g_array_index (msg->headers, Header, i);
      const char *comma;

      if (!name_matches (h, id, name))
        continue;
      comma = first_list_comma (h->value, h->value + h->value_len);
      if (comma)
        keep_after (h, comma);
      else
        g_array_remove_index (msg->headers, i);
      break;
    }
  index_id (msg, id, NULL);
}

gboolean
sp_sip_message_replace_top_via (SpSipMessage *msg, const char *value, GError **error)
{
  g_autoptr (GPtrArray) parsed = g_ptr_array_new_with_free_func ((GDestroyNotify) sp_sip_via_free);
  gsize len = strlen (value);
  const char *p = sp_sip_skip_ws (value, value + len);
  const char *end = sp_sip_trim_end (p, value + len);
  const char *comma;
  Header *h = NULL;
  guint i;

  for (const char *c = value; *c; c++)
    if (*c == '\r' || *c == '\n')
      return set_bad (error, "Line break in header value");
  if (!sp_sip_split_list (p, end, add_via, parsed, error))
    {
      g_prefix_error (error, "Bad Via header: ");
      return FALSE;
    }
  for (i = 0; i < msg->headers->len; i++)
    if (g_array_index (msg->headers, Header, i).id == SP_HDR_VIA)
      {
        h = &g_array_index (msg->headers, Header, i);
        break;
      }
  if (h == NULL || msg->vias == NULL || msg->vias->len == 0)
    {
      /* Nothing to replace: the slow path keeps every view right. */
      sp_sip_message_remove_first_value (msg, "Via");
      return sp_sip_message_prepend_header (msg, "Via", value, error);
    }
  /* The received fields stay where they are, as in
   * sp_sip_message_remove_first_value (): only the first field's text
   * changes, and its parsed view. */
  comma = first_list_comma (h->value, h->value + h->value_len);
  if (comma)
    {
      keep_after (h, comma);
      append_owned (msg, SP_HDR_VIA, NULL, value, len);
      {
        Header top = g_array_index (msg->headers, Header, msg->headers->len - 1);

        memmove (&g_array_index (msg->headers, Header, i + 1),
                 &g_array_index (msg->headers, Header, i),
                 (msg->headers->len - 1 - i) * sizeof (Header));
        g_array_index (msg->headers, Header, i) = top;
      }
      if (msg->counts[SP_HDR_VIA] < G_MAXUINT8)
        msg->counts[SP_HDR_VIA]++;
    }
  else
    {
      if (h->own_value)
        g_free (h->value);
      h->value = sp_sip_dup_bytes (value, len);
      h->value_len = (guint32) len;
      h->own_value = TRUE;
    }
  g_ptr_array_remove_index (msg->vias, 0);
  for (guint k = parsed->len; k > 0; k--)
    g_ptr_array_insert (msg->vias, 0, g_ptr_array_steal_index (parsed, k - 1));
  return TRUE;
}

const SpSipVia *
sp_sip_message_get_via (const SpSipMessage *msg)
{
  return msg->vias && msg->vias->len > 0 ? g_ptr_array_index (msg->vias, 0) : NULL;
}

/* What the list getters return for an absent header: an empty array, so
 * callers can loop without a check. It is shared and never written to;
 * the message's own array is only made by ensure_array (with the free
 * function of its element type) when a value is indexed. Allocating here
 * instead left an array without a free function in the message, and
 * values added to it later leaked. */
static const GPtrArray empty_array = { NULL, 0 };

static const GPtrArray *
nonnull_array (GPtrArray *array)
{
  return array ? array : &empty_array;
}

const GPtrArray *
sp_sip_message_get_vias (const SpSipMessage *msg)
{
  return nonnull_array (msg->vias);
}

const SpSipNameAddr *
sp_sip_message_get_from (const SpSipMessage *msg)
{
  return msg->from;
}

const SpSipNameAddr *
sp_sip_message_get_to (const SpSipMessage *msg)
{
  return msg->to;
}

const char *
sp_sip_message_get_call_id (const SpSipMessage *msg)
{
  return msg->call_id;
}

guint32
sp_sip_message_get_cseq (const SpSipMessage *msg, const char **method)
{
  if (method)
    *method = msg->cseq_method;
  return msg->cseq;
}

gint
sp_sip_message_get_max_forwards (const SpSipMessage *msg)
{
  return msg->max_forwards;
}

gint64
sp_sip_message_get_expires (const SpSipMessage *msg)
{
  return msg->expires;
}

const GPtrArray *
sp_sip_message_get_contacts (const SpSipMessage *msg)
{
  return nonnull_array (msg->contacts);
}

gboolean
sp_sip_message_contact_is_star (const SpSipMessage *msg)
{
  return msg->contact_star;
}

const GPtrArray *
sp_sip_message_get_routes (const SpSipMessage *msg)
{
  return nonnull_array (msg->routes);
}

const GPtrArray *
sp_sip_message_get_record_routes (const SpSipMessage *msg)
{
  return nonnull_array (msg->record_routes);
}

const char *
sp_sip_message_get_content_type (const SpSipMessage *msg)
{
  return msg->content_type;
}

const guint8 *
sp_sip_message_get_body (const SpSipMessage *msg, gsize *len)
{
  if (len)
    *len = msg->body_len;
  return msg->body;
}

void
sp_sip_message_set_body (SpSipMessage *msg, const char *content_type, const guint8 *body, gsize len)
{
  guint8 *copy = len > 0 ? g_memdup2 (body, len) : NULL;

  g_free (msg->body_owned);
  msg->body_owned = copy;
  msg->body = copy;
  msg->body_len = len;
  remove_fields (msg, SP_HDR_CONTENT_TYPE, NULL);
  if (content_type)
    append_owned (msg, SP_HDR_CONTENT_TYPE, NULL, content_type, strlen (content_type));
  index_id (msg, SP_HDR_CONTENT_TYPE, NULL);
}

/* RFC 1123 date as section 25 has it: "Mon, 01 Jan 2010 16:00:00 GMT". */
static gboolean
is_sip_date (const char *v)
{
  static const char pattern[] = "Aaa, 00 Aaa 0000 00:00:00 GMT";

  if (strlen (v) != sizeof pattern - 1)
    return FALSE;
  for (gsize i = 0; i < sizeof pattern - 1; i++)
    {
      char c = pattern[i];

      if (i >= 26)
        {
          if (v[i] != c)
            return FALSE;
        }
      else if (c == 'A' || c == 'a')
        {
          if (!g_ascii_isalpha (v[i]))
            return FALSE;
        }
      else if (c == '0')
        {
          if (!g_ascii_isdigit (v[i]))
            return FALSE;
        }
      else if (v[i] != c)
        return FALSE;
    }
  return TRUE;
}

gboolean
sp_sip_message_check_request (const SpSipMessage *msg, GError **error)
{
  const char *date;

  if (!msg->is_request)
    return set_bad (error, "Not a request");
  if (!msg->vias || msg->vias->len == 0)
    return set_bad (error, "Missing Via");
  if (msg->counts[SP_HDR_FROM] != 1 || !msg->from)
    return set_bad (error, msg->counts[SP_HDR_FROM] ? "More than one From" : "Missing From");
  if (msg->counts[SP_HDR_TO] != 1 || !msg->to)
    return set_bad (error, msg->counts[SP_HDR_TO] ? "More than one To" : "Missing To");
  if (msg->counts[SP_HDR_CALL_ID] != 1 || !msg->call_id)
    return set_bad (error,
                    msg->counts[SP_HDR_CALL_ID] ? "More than one Call-ID" : "Missing Call-ID");
  if (msg->counts[SP_HDR_CSEQ] != 1 || !msg->cseq_method)
    return set_bad (error, msg->counts[SP_HDR_CSEQ] ? "More than one CSeq" : "Missing CSeq");
  if (msg->counts[SP_HDR_MAX_FORWARDS] > 1)
    return set_bad (error, "More than one Max-Forwards");
  if (msg->counts[SP_HDR_EXPIRES] > 1)
    return set_bad (error, "More than one Expires");
  if (strcmp (msg->cseq_method, msg->method) != 0)
    return set_bad (error, "CSeq method does not match the request method");
  if (sp_sip_uri_get_n_headers (msg->request_uri) > 0)
    return set_bad (error, "Request-URI has headers");
  if (msg->method_id == SP_SIP_METHOD_REGISTER)
    {
      SpUriScheme s = sp_sip_uri_get_scheme (msg->to->uri);

      if (s != SP_URI_SCHEME_SIP && s != SP_URI_SCHEME_SIPS)
        return set_bad (error, "To of a REGISTER is not a SIP URI");
    }
  if (msg->contact_star && msg->contacts && msg->contacts->len > 0)
    return set_bad (error, "Contact * with other contacts");
  date = sp_sip_message_get_header (msg, "Date");
  if (date && !is_sip_date (date))
    return set_bad (error, "Bad Date");
  return TRUE;
}

/* ---- serialization ---- */

static void
append_wire (const SpSipMessage *msg, GString *out)
{
  if (msg->is_request)
    {
      g_string_append (out, msg->method);
      g_string_append_c (out, ' ');
      sp_sip_uri_append_to (msg->request_uri, out);
      g_string_append (out, " SIP/2.0\r\n");
    }
  else
    {
      g_string_append (out, "SIP/2.0 ");
      if (msg->status < 100)
        g_string_append (out, msg->status < 10 ? "00" : "0");
      sp_sip_append_uint (out, msg->status);
      g_string_append_c (out, ' ');
      g_string_append (out, msg->reason ? msg->reason : "");
      g_string_append_len (out, "\r\n", 2);
    }
  for (guint i = 0; i < msg->headers->len; i++)
    {
      const Header *h = &g_array_index (msg->headers, Header, i);

      g_string_append (out, h->name);
      g_string_append_len (out, ": ", 2);
      g_string_append_len (out, h->value, h->value_len);
      g_string_append_len (out, "\r\n", 2);
    }
  g_string_append (out, "Content-Length: ");
  sp_sip_append_uint (out, msg->body_len);
  g_string_append_len (out, "\r\n\r\n", 4);
  if (msg->body_len > 0)
    g_string_append_len (out, (const char *) msg->body, (gssize) msg->body_len);
}

static gsize
wire_size_hint (const SpSipMessage *msg)
{
  gsize n = 128 + msg->body_len;

  for (guint i = 0; i < msg->headers->len; i++)
    n += g_array_index (msg->headers, Header, i).value_len + 32;
  return n;
}

GBytes *
sp_sip_message_serialize (const SpSipMessage *msg)
{
  GString *out = g_string_sized_new (wire_size_hint (msg));

  append_wire (msg, out);
  return g_string_free_to_bytes (out);
}

char *
sp_sip_message_to_string (const SpSipMessage *msg, gsize *len)
{
  GString *out = g_string_sized_new (wire_size_hint (msg));

  append_wire (msg, out);
  if (len)
    *len = out->len;
  return g_string_free (out, FALSE);
}
