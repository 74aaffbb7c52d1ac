/* Stream framing (RFC 3261 section 18.3): find the end of the header
 * section, read Content-Length from it, wait for that many body bytes.
 * The scan resumes where it stopped, so bytes arriving one at a time
 * cost linear work, not quadratic. */

#include "sip/message.h"

#include <string.h>

#include "sip/sip-private.h"

struct _SpSipFramer
{
  GByteArray *buf;
  gsize scan_from; /* where the empty-line search resumes */
  gsize frame_len; /* whole message length once known, else 0 */
  GError *broken;  /* set once framing is lost for good */
  gsize crlf;      /* CR/LF bytes dropped between messages, not yet taken */
};

SpSipFramer *
sp_sip_framer_new (void)
{
  SpSipFramer *framer = g_new0 (SpSipFramer, 1);

  framer->buf = g_byte_array_new ();
  return framer;
}

void
sp_sip_framer_free (SpSipFramer *framer)
{
  if (!framer)
    return;
  g_byte_array_unref (framer->buf);
  g_clear_error (&framer->broken);
  g_free (framer);
}

static gboolean
fail_broken (SpSipFramer *framer, GError **error)
{
  if (error)
    *error = g_error_copy (framer->broken);
  return FALSE;
}

static void
set_broken (SpSipFramer *framer, gint code, const char *what)
{
  if (!framer->broken)
    framer->broken = g_error_new_literal (SP_SIP_ERROR, code, what);
}

gboolean
sp_sip_framer_push (SpSipFramer *framer, const guint8 *data, gsize len, GError **error)
{
  if (framer->broken)
    return fail_broken (framer, error);
  /* Bound the buffer: one whole message plus what may follow it. */
  if (framer->buf->len + len > 2 * (gsize) SP_SIP_MAX_MESSAGE_SIZE)
    {
      set_broken (framer, SP_SIP_ERROR_TOO_LARGE, "Message too large");
      return fail_broken (framer, error);
    }
  g_byte_array_append (framer->buf, data, (guint) len);
  return TRUE;
}

/* Drops CR/LF keep-alives (RFC 5626) and stray line ends before a start line. */
static void
skip_leading_crlf (SpSipFramer *framer)
{
  gsize n = 0;

  while (n < framer->buf->len && (framer->buf->data[n] == '\r' || framer->buf->data[n] == '\n'))
    n++;
  if (n > 0)
    {
      framer->crlf += n;
      g_byte_array_remove_range (framer->buf, 0, (guint) n);
      framer->scan_from = 0;
    }
}

/* Offset just after the empty line ending the headers, or 0. */
static gsize
find_header_end (SpSipFramer *framer)
{
  const guint8 *d = framer->buf->data;
  gsize len = framer->buf->len;
  gsize i = framer->scan_from;

  while (i < len)
    {
      const guint8 *lf = memchr (d + i, '\n', len - i);
      gsize at;

      if (!lf)
        break;
      at = (gsize) (lf - d);
      if (at + 1 < len && d[at + 1] == '\n')
        return at + 2;
      if (at + 2 < len && d[at + 1] == '\r' && d[at + 2] == '\n')
        return at + 3;
      if (at + 2 >= len)
        {
          /* The answer depends on bytes not here yet: rescan this LF. */
          framer->scan_from = at;
          return 0;
        }
      i = at + 1;
    }
  framer->scan_from = len;
  return 0;
}

/* Content-Length from the header lines in [0, header_end); -1 when it
 * is missing, -2 when it is malformed or given twice with two values. */
static gint64
find_content_length (const guint8 *d, gsize header_end)
{
  gint64 found = -1;
  gsize i = 0;

  while (i < header_end)
    {
      const guint8 *lf = memchr (d + i, '\n', header_end - i);
      gsize line_end = lf ? (gsize) (lf - d) : header_end;
      const char *p = (const char *) d + i, *end = (const char *) d + line_end, *name = p;

      while (p < end && sp_sip_is (*p, SP_CC_TOKEN))
        p++;
      if (sp_sip_header_id (name, (gsize) (p - name)) == SP_HDR_CONTENT_LENGTH)
        {
          const char *v;
          guint64 n;

          p = sp_sip_skip_ws (p, end);
          if (p < end && *p == ':')
            {
              p = v = sp_sip_skip_ws (p + 1, end);
              while (p < end && g_ascii_isdigit (*p))
                p++;
              {
                const char *t = p;

                while (t < end && (sp_sip_is_ws (*t) || *t == '\r'))
                  t++;
                if (t != end || !sp_sip_parse_uint (v, p, G_MAXUINT32, &n) ||
                    (found >= 0 && (guint64) found != n))
                  return -2;
              }
              found = (gint64) n;
            }
        }
      i = line_end + 1;
    }
  return found;
}

static gboolean
compute_frame (SpSipFramer *framer, GError **error)
{
  gsize header_end = find_header_end (framer);
  gint64 cl;

  if (header_end == 0)
    {
      if (framer->buf->len > SP_SIP_MAX_MESSAGE_SIZE)
        {
          set_broken (framer, SP_SIP_ERROR_TOO_LARGE, "Message too large");
          return fail_broken (framer, error);
        }
      return TRUE;
    }
  cl = find_content_length (framer->buf->data, header_end);
  if (cl == -1)
    set_broken (framer, SP_SIP_ERROR_BAD_REQUEST, "Missing Content-Length");
  else if (cl < 0)
    set_broken (framer, SP_SIP_ERROR_BAD_REQUEST, "Bad Content-Length");
  else if (header_end + (guint64) cl > SP_SIP_MAX_MESSAGE_SIZE)
    set_broken (framer, SP_SIP_ERROR_TOO_LARGE, "Message too large");
  if (framer->broken)
    return fail_broken (framer, error);
  framer->frame_len = header_end + (gsize) cl;
  return TRUE;
}

SpSipMessage *
sp_sip_framer_pop_full (SpSipFramer *framer, SpSipMessage **partial, GError **error)
{
  return sp_sip_framer_pop_frame (framer, NULL, partial, error);
}

SpSipMessage *
sp_sip_framer_pop_frame (SpSipFramer *framer, GBytes **raw, SpSipMessage **partial, GError **error)
{
  SpSipMessage *msg;
  gsize n;

  if (partial)
    *partial = NULL;
  if (raw)
    *raw = NULL;
  if (framer->broken)
    return fail_broken (framer, error), NULL;
  if (framer->frame_len == 0)
    {
      skip_leading_crlf (framer);
      if (!compute_frame (framer, error) || framer->frame_len == 0)
        return NULL;
    }
  if (framer->buf->len < framer->frame_len)
    return NULL;
  n = framer->frame_len;
  msg = sp_sip_message_parse (framer->buf->data, n, SP_SIP_FRAMING_STREAM, partial, error);
  if (raw)
    *raw = g_bytes_new (framer->buf->data, n);
  g_byte_array_remove_range (framer->buf, 0, (guint) n);
  framer->frame_len = 0;
  framer->scan_from = 0;
  return msg;
}

SpSipMessage *
sp_sip_framer_pop (SpSipFramer *framer, GError **error)
{
  return sp_sip_framer_pop_full (framer, NULL, error);
}

gboolean
sp_sip_framer_is_broken (const SpSipFramer *framer)
{
  return framer->broken != NULL;
}

gsize
sp_sip_framer_get_pending (const SpSipFramer *framer)
{
  return framer->buf->len;
}

gsize
sp_sip_framer_take_crlf (SpSipFramer *framer)
{
  gsize n = framer->crlf;

  framer->crlf = 0;
  return n;
}
