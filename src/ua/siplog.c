#include "config.h"

#include "ua/siplog.h"

#include <string.h>

/* Limits of the bounded scans: a log entry must never cost more than its
 * raw text, whatever arrives on the wire. */
#define MAX_FIRST_LINE   1024
#define MAX_HEADER_VALUE 256
#define MAX_METHOD       32
#define MAX_HEADER_LINES 256

struct _SpSipLogEntry
{
  GObject parent_instance;

  gint64 time_us;
  SpSipLogDirection direction;
  char *src;
  char *dst;
  char *raw;
  char *first_line;
  char *call_id;
  char *cseq;
  char *method;
  guint status_code;
  gboolean has_sdp;
  char *summary;
};

G_DEFINE_FINAL_TYPE (SpSipLogEntry, sp_sip_log_entry, G_TYPE_OBJECT)

enum
{
  ENTRY_PROP_0,
  ENTRY_PROP_TIME,
  ENTRY_PROP_SRC,
  ENTRY_PROP_DST,
  ENTRY_PROP_FIRST_LINE,
  ENTRY_PROP_SUMMARY,
  ENTRY_PROP_CALL_ID,
  ENTRY_N_PROPS
};

static GParamSpec *entry_props[ENTRY_N_PROPS];

static void
sp_sip_log_entry_finalize (GObject *object)
{
  SpSipLogEntry *self = SP_SIP_LOG_ENTRY (object);

  g_free (self->src);
  g_free (self->dst);
  g_free (self->raw);
  g_free (self->first_line);
  g_free (self->call_id);
  g_free (self->cseq);
  g_free (self->method);
  g_free (self->summary);
  G_OBJECT_CLASS (sp_sip_log_entry_parent_class)->finalize (object);
}

static void
sp_sip_log_entry_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  SpSipLogEntry *self = SP_SIP_LOG_ENTRY (object);

  switch (prop_id)
    {
      case ENTRY_PROP_TIME:
        g_value_set_int64 (value, self->time_us);
        break;
      case ENTRY_PROP_SRC:
        g_value_set_string (value, self->src);
        break;
      case ENTRY_PROP_DST:
        g_value_set_string (value, self->dst);
        break;
      case ENTRY_PROP_FIRST_LINE:
        g_value_set_string (value, self->first_line);
        break;
      case ENTRY_PROP_SUMMARY:
        g_value_set_string (value, self->summary);
        break;
      case ENTRY_PROP_CALL_ID:
        g_value_set_string (value, self->call_id);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sp_sip_log_entry_class_init (SpSipLogEntryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = sp_sip_log_entry_finalize;
  object_class->get_property = sp_sip_log_entry_get_property;

  entry_props[ENTRY_PROP_TIME] =
      g_param_spec_int64 ("time", NULL, NULL, G_MININT64, G_MAXINT64, 0, flags);
  entry_props[ENTRY_PROP_SRC] = g_param_spec_string ("src", NULL, NULL, NULL, flags);
  entry_props[ENTRY_PROP_DST] = g_param_spec_string ("dst", NULL, NULL, NULL, flags);
  entry_props[ENTRY_PROP_FIRST_LINE] = g_param_spec_string ("first-line", NULL, NULL, NULL, flags);
  entry_props[ENTRY_PROP_SUMMARY] = g_param_spec_string ("summary", NULL, NULL, NULL, flags);
  entry_props[ENTRY_PROP_CALL_ID] = g_param_spec_string ("call-id", NULL, NULL, NULL, flags);
  g_object_class_install_properties (object_class, ENTRY_N_PROPS, entry_props);
}

static void
sp_sip_log_entry_init (SpSipLogEntry *self)
{
}

/* Raw bytes to displayable text: NUL bytes would cut the string short, and
 * anything not UTF-8 becomes U+FFFD. */
static char *
text_from_raw (const char *raw, gsize len)
{
  g_autofree char *copy = NULL;

  if (raw == NULL)
    return g_strdup ("");
  len = MIN (len, SP_SIP_LOG_MAX_RAW);
  copy = g_malloc (len + 1);
  for (gsize i = 0; i < len; i++)
    copy[i] = raw[i] == '\0' ? ' ' : raw[i];
  copy[len] = '\0';
  return g_utf8_make_valid (copy, (gssize) len);
}

static char *
strdup_trimmed (const char *start, gsize len, gsize max)
{
  while (len > 0 && g_ascii_isspace (*start))
    start++, len--;
  while (len > 0 && g_ascii_isspace (start[len - 1]))
    len--;
  if (len > max)
    {
      /* Cut on a character boundary so the result stays valid UTF-8. */
      const char *end = g_utf8_find_prev_char (start, start + max + 1);
      len = end != NULL ? (gsize) (end - start) : 0;
    }
  return g_strndup (start, len);
}

static gboolean
is_token_char (char c)
{
  /* strchr () finds the terminator too, so NUL needs its own test. */
  return c != '\0' && (g_ascii_isalnum (c) || strchr ("-.!%*_+`'~", c) != NULL);
}

static void
parse_first_line (SpSipLogEntry *self)
{
  const char *line = self->first_line;

  if (g_str_has_prefix (line, "SIP/2.0 "))
    {
      const char *code = line + strlen ("SIP/2.0 ");
      if (g_ascii_isdigit (code[0]) && g_ascii_isdigit (code[1]) && g_ascii_isdigit (code[2]) &&
          (code[3] == ' ' || code[3] == '\0'))
        {
          guint value = (guint) ((code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0'));
          if (value >= 100 && value <= 699)
            self->status_code = value;
        }
      return;
    }

  gsize n = 0;
  while (n <= MAX_METHOD && is_token_char (line[n]))
    n++;
  if (n > 0 && n <= MAX_METHOD && line[n] == ' ')
    self->method = g_strndup (line, n);
}

/* Compares a header name, including its compact form (RFC 3261 7.3.3). */
static gboolean
header_is (const char *name, gsize name_len, const char *full, const char *compact)
{
  if (name_len == strlen (full) && g_ascii_strncasecmp (name, full, name_len) == 0)
    return TRUE;
  return compact != NULL && name_len == 1 && g_ascii_tolower (name[0]) == compact[0];
}

static void
parse_headers (SpSipLogEntry *self, const char *headers)
{
  const char *p = headers;
  gboolean sdp_type = FALSE;
  gboolean has_body = FALSE;

  for (guint n = 0; *p != '\0' && n < MAX_HEADER_LINES; n++)
    {
      const char *eol = strchr (p, '\n');
      gsize len = eol != NULL ? (gsize) (eol - p) : strlen (p);
      gsize line_len = len > 0 && p[len - 1] == '\r' ? len - 1 : len;
      const char *colon = memchr (p, ':', line_len);

      if (line_len == 0)
        {
          has_body = eol != NULL && eol[1] != '\0';
          break;
        }
      if (colon != NULL)
        {
          gsize name_len = (gsize) (colon - p);
          const char *value = colon + 1;
          gsize value_len = line_len - name_len - 1;

          while (name_len > 0 && (p[name_len - 1] == ' ' || p[name_len - 1] == '\t'))
            name_len--;
          if (self->call_id == NULL && header_is (p, name_len, "Call-ID", "i"))
            self->call_id = strdup_trimmed (value, value_len, MAX_HEADER_VALUE);
          else if (self->cseq == NULL && header_is (p, name_len, "CSeq", NULL))
            self->cseq = strdup_trimmed (value, value_len, MAX_HEADER_VALUE);
          else if (header_is (p, name_len, "Content-Type", "c"))
            {
              g_autofree char *type = strdup_trimmed (value, value_len, MAX_HEADER_VALUE);
              sdp_type = g_ascii_strncasecmp (type, "application/sdp", 15) == 0;
            }
        }
      if (eol == NULL)
        break;
      p = eol + 1;
    }
  if (self->call_id != NULL && self->call_id[0] == '\0')
    g_clear_pointer (&self->call_id, g_free);
  self->has_sdp = sdp_type && has_body;
}

static void
build_summary (SpSipLogEntry *self)
{
  const char *sdp = self->has_sdp ? " SDP" : "";

  if (self->method != NULL)
    self->summary = g_strconcat (self->method, sdp, NULL);
  else if (self->status_code != 0)
    {
      /* "SIP/2.0 " + code + " " + reason, or just the code. */
      const char *reason = self->first_line + strlen ("SIP/2.0 ");
      g_autofree char *reason_short = strdup_trimmed (reason, strlen (reason), 48);
      self->summary = g_strconcat (reason_short, sdp, NULL);
    }
  else
    self->summary = strdup_trimmed (self->first_line, strlen (self->first_line), 48);
}

SpSipLogEntry *
sp_sip_log_entry_new (gint64 time_us, SpSipLogDirection direction, const char *src, const char *dst,
                      const char *raw, gsize raw_len)
{
  SpSipLogEntry *self = g_object_new (SP_TYPE_SIP_LOG_ENTRY, NULL);
  const char *eol;

  self->time_us = time_us;
  self->direction = direction;
  self->src = g_utf8_make_valid (src != NULL ? src : "", -1);
  self->dst = g_utf8_make_valid (dst != NULL ? dst : "", -1);
  self->raw = text_from_raw (raw, raw_len);

  /* Stream framing may leave CRLF keep-alives in front (RFC 5626 4.4.1). */
  const char *start = self->raw;
  while (*start == '\r' || *start == '\n')
    start++;
  eol = strchr (start, '\n');
  gsize line_len = eol != NULL ? (gsize) (eol - start) : strlen (start);
  self->first_line = strdup_trimmed (start, line_len, MAX_FIRST_LINE);

  parse_first_line (self);
  if (eol != NULL)
    parse_headers (self, eol + 1);
  build_summary (self);
  return self;
}

gint64
sp_sip_log_entry_get_time (SpSipLogEntry *self)
{
  g_return_val_if_fail (SP_IS_SIP_LOG_ENTRY (self), 0);
  return self->time_us;
}

SpSipLogDirection
sp_sip_log_entry_get_direction (SpSipLogEntry *self)
{
  g_return_val_if_fail (SP_IS_SIP_LOG_ENTRY (self), SP_SIP_LOG_DIRECTION_SENT);
  return self->direction;
}

const char *
sp_sip_log_entry_get_src (SpSipLogEntry *self)
{
  g_return_val_if_fail (SP_IS_SIP_LOG_ENTRY (self), NULL);
  return self->src;
}

const char *
sp_sip_log_entry_get_dst (SpSipLogEntry *self)
{
  g_return_val_if_fail (SP_IS_SIP_LOG_ENTRY (self), NULL);
  return self->dst;
}

const char *
sp_sip_log_entry_get_first_line (SpSipLogEntry *self)
{
  g_return_val_if_fail (SP_IS_SIP_LOG_ENTRY (self), NULL);
  return self->first_line;
}

const char *
sp_sip_log_entry_get_raw (SpSipLogEntry *self)
{
  g_return_val_if_fail (SP_IS_SIP_LOG_ENTRY (self), NULL);
  return self->raw;
}

const char *
sp_sip_log_entry_get_call_id (SpSipLogEntry *self)
{
  g_return_val_if_fail (SP_IS_SIP_LOG_ENTRY (self), NULL);
  return self->call_id;
}

const char *
sp_sip_log_entry_get_cseq (SpSipLogEntry *self)
{
  g_return_val_if_fail (SP_IS_SIP_LOG_ENTRY (self), NULL);
  return self->cseq;
}

gboolean
sp_sip_log_entry_is_request (SpSipLogEntry *self)
{
  g_return_val_if_fail (SP_IS_SIP_LOG_ENTRY (self), FALSE);
  return self->method != NULL;
}

const char *
sp_sip_log_entry_get_method (SpSipLogEntry *self)
{
  g_return_val_if_fail (SP_IS_SIP_LOG_ENTRY (self), NULL);
  return self->method;
}

guint
sp_sip_log_entry_get_status_code (SpSipLogEntry *self)
{
  g_return_val_if_fail (SP_IS_SIP_LOG_ENTRY (self), 0);
  return self->status_code;
}

gboolean
sp_sip_log_entry_has_sdp (SpSipLogEntry *self)
{
  g_return_val_if_fail (SP_IS_SIP_LOG_ENTRY (self), FALSE);
  return self->has_sdp;
}

const char *
sp_sip_log_entry_get_summary (SpSipLogEntry *self)
{
  g_return_val_if_fail (SP_IS_SIP_LOG_ENTRY (self), NULL);
  return self->summary;
}

/* --- masking credentials ------------------------------------------------ */

#define MASK "***"

static gboolean
is_lws (char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Authorization and Proxy-Authorization carry credentials; the
 * Authentication-Info headers carry the server's proof (rspauth). */
static gboolean
is_credentials_header (const char *name, gsize len)
{
  return header_is (name, len, "Authorization", NULL) ||
         header_is (name, len, "Proxy-Authorization", NULL) ||
         header_is (name, len, "Authentication-Info", NULL) ||
         header_is (name, len, "Proxy-Authentication-Info", NULL);
}

/* Parameters that prove knowledge of the password: anyone holding one
 * with its nonce can try passwords offline. */
static gboolean
is_secret_param (const char *name, gsize len)
{
  static const char *const secrets[] = { "response", "rspauth", "auts" };

  for (guint i = 0; i < G_N_ELEMENTS (secrets); i++)
    if (len == strlen (secrets[i]) && g_ascii_strncasecmp (name, secrets[i], len) == 0)
      return TRUE;
  return FALSE;
}

/* Copies a credentials value: "Digest" and comma-separated parameters,
 * secret values replaced. Any other word followed by something that is
 * not a parameter is another scheme's credentials (Basic's or Bearer's
 * token): all that follows is hidden. Bad syntax never shows more. */
static void
append_masked_params (GString *out, const char *v, gsize n)
{
  gsize i = 0;

  while (i < n)
    {
      gsize start, name_end, k;

      if (is_lws (v[i]) || v[i] == ',')
        {
          g_string_append_c (out, v[i++]);
          continue;
        }
      start = i;
      while (i < n && !is_lws (v[i]) && v[i] != '=' && v[i] != ',')
        i++;
      name_end = i;
      g_string_append_len (out, v + start, name_end - start);
      k = i;
      while (k < n && is_lws (v[k]))
        k++;
      if (k >= n || v[k] != '=')
        {
          if (k < n && v[k] != ',' &&
              !(name_end - start == 6 && g_ascii_strncasecmp (v + start, "Digest", 6) == 0))
            {
              g_string_append (out, " " MASK);
              return;
            }
          continue;
        }
      /* name [LWS] "=" [LWS] value */
      g_string_append_len (out, v + i, k + 1 - i);
      i = k + 1;
      while (i < n && is_lws (v[i]))
        g_string_append_c (out, v[i++]);
      if (i < n && v[i] == '"')
        {
          k = i + 1;
          while (k < n && v[k] != '"')
            k += v[k] == '\\' && k + 1 < n ? 2 : 1;
          if (k < n)
            k++;
        }
      else
        {
          k = i;
          while (k < n && !is_lws (v[k]) && v[k] != ',')
            k++;
        }
      if (is_secret_param (v + start, name_end - start))
        g_string_append (out, i < n && v[i] == '"' ? "\"" MASK "\"" : MASK);
      else
        g_string_append_len (out, v + i, k - i);
      i = k;
    }
}

/* The same, keeping the line break (and folding blanks) that end the
 * header however the value itself ends. */
static void
append_masked_value (GString *out, const char *v, gsize n)
{
  gsize end = n;

  while (end > 0 && is_lws (v[end - 1]))
    end--;
  append_masked_params (out, v, end);
  g_string_append_len (out, v + end, n - end);
}

/* The length of the header name that starts @line if a colon follows it
 * (after optional blanks), with the colon's offset; 0 when @line is not
 * a header line. */
static gsize
header_name_length (const char *line, gsize len, gsize *colon)
{
  gsize i = 0, name_len;

  while (i < len && is_token_char (line[i]))
    i++;
  name_len = i;
  while (i < len && (line[i] == ' ' || line[i] == '\t'))
    i++;
  if (name_len == 0 || i >= len || line[i] != ':')
    return 0;
  *colon = i;
  return name_len;
}

static gboolean
ends_uri_user (char c)
{
  return c == ':' || c == '@' || c == '<' || c == '>' || c == '"' || c == '\0' || is_lws (c);
}

/* RFC 3261 25.1: password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," ) */
static gboolean
is_password_char (char c)
{
  return c != '\0' && (g_ascii_isalnum (c) || strchr ("-_.!~*'()%&=+$,", c) != NULL);
}

/* Copies @n bytes of @s, hiding the password of "sip:user:password@host"
 * (deprecated by RFC 3261 but still written by some). Each byte is looked
 * at a bounded number of times: a password cannot hold the ':' of a
 * following "sip:". */
static void
append_masking_uri_passwords (GString *out, const char *s, gsize n)
{
  gsize i = 0, copied = 0;

  while (i < n)
    {
      gsize scheme_len = 0, user_end, pass_end;

      if (n - i >= 4 && g_ascii_strncasecmp (s + i, "sip:", 4) == 0)
        scheme_len = 4;
      else if (n - i >= 5 && g_ascii_strncasecmp (s + i, "sips:", 5) == 0)
        scheme_len = 5;
      if (scheme_len == 0)
        {
          i++;
          continue;
        }
      user_end = i + scheme_len;
      while (user_end < n && !ends_uri_user (s[user_end]))
        user_end++;
      i = user_end;
      if (user_end >= n || s[user_end] != ':')
        continue;
      pass_end = user_end + 1;
      while (pass_end < n && is_password_char (s[pass_end]))
        pass_end++;
      if (pass_end < n && s[pass_end] == '@' && pass_end > user_end + 1)
        {
          g_string_append_len (out, s + copied, user_end + 1 - copied);
          g_string_append (out, MASK);
          copied = pass_end;
          i = pass_end;
        }
    }
  g_string_append_len (out, s + copied, n - copied);
}

/* SDES keys (RFC 4568) in an SDP line "a=crypto:1 SUITE inline:KEY|...":
 * each inline key, up to its '|', ';' or blank, becomes MASK. */
static gboolean
append_masking_sdes_keys (GString *out, const char *s, gsize n)
{
  gsize i = 0, copied = 0;

  if (n < 9 || g_ascii_strncasecmp (s, "a=crypto:", 9) != 0)
    return FALSE;
  while (i + 7 <= n)
    {
      gsize end;
      if (g_ascii_strncasecmp (s + i, "inline:", 7) != 0)
        {
          i++;
          continue;
        }
      end = i + 7;
      while (end < n && s[end] != '|' && s[end] != ';' && !is_lws (s[end]) && s[end] != '\r' &&
             s[end] != '\n')
        end++;
      g_string_append_len (out, s + copied, i + 7 - copied);
      g_string_append (out, MASK);
      copied = end;
      i = end;
    }
  g_string_append_len (out, s + copied, n - copied);
  return TRUE;
}

char *
sp_sip_log_mask_credentials (const char *raw, gsize len, gsize *out_len)
{
  GString *out = g_string_sized_new (len + 16);
  gsize p = 0;

  if (raw == NULL)
    len = 0;
  while (p < len)
    {
      const char *line = raw + p;
      const char *nl = memchr (line, '\n', len - p);
      gsize line_len = nl != NULL ? (gsize) (nl - line) + 1 : len - p;
      gsize colon = 0;
      gsize name_len = header_name_length (line, line_len, &colon);
      gsize end;

      /* Every line, the body's too: a message/sipfrag body or a SIP
       * message sent over TCP with another behind it has headers too. */
      if (name_len == 0 || !is_credentials_header (line, name_len))
        {
          if (!append_masking_sdes_keys (out, line, line_len))
            append_masking_uri_passwords (out, line, line_len);
          p += line_len;
          continue;
        }
      /* The value goes on over folded lines (RFC 3261 7.3.1). */
      end = p + line_len;
      while (end < len && (raw[end] == ' ' || raw[end] == '\t'))
        {
          const char *next = memchr (raw + end, '\n', len - end);
          end = next != NULL ? (gsize) (next - raw) + 1 : len;
        }
      g_string_append_len (out, line, colon + 1);
      append_masked_value (out, line + colon + 1, end - p - colon - 1);
      p = end;
    }
  if (out_len != NULL)
    *out_len = out->len;
  return g_string_free (out, FALSE);
}

/* The log: a bounded queue exposed as a GListModel. */

struct _SpSipLog
{
  GObject parent_instance;

  /* A ring of max_entries slots: the ladder reads items by position for
   * every message once the log is full, so get_item must not walk a
   * list (a GQueue made each message cost O(n) per lookup, O(n^2) in all,
   * and froze the window under a burst). */
  SpSipLogEntry **ring; /* owned entries, max_entries slots */
  guint head;           /* slot of the oldest entry */
  guint length;
  guint max_entries;
};

static void sp_sip_log_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (SpSipLog, sp_sip_log, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      sp_sip_log_list_model_init))

static GType
sp_sip_log_get_item_type (GListModel *model)
{
  return SP_TYPE_SIP_LOG_ENTRY;
}

static guint
sp_sip_log_get_n_items (GListModel *model)
{
  return SP_SIP_LOG (model)->length;
}

static gpointer
sp_sip_log_get_item (GListModel *model, guint position)
{
  SpSipLog *self = SP_SIP_LOG (model);

  if (position >= self->length)
    return NULL;
  return g_object_ref (self->ring[(self->head + position) % self->max_entries]);
}

static void
sp_sip_log_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = sp_sip_log_get_item_type;
  iface->get_n_items = sp_sip_log_get_n_items;
  iface->get_item = sp_sip_log_get_item;
}

static void
drop_all (SpSipLog *self)
{
  for (guint i = 0; i < self->length; i++)
    g_clear_object (&self->ring[(self->head + i) % self->max_entries]);
  self->head = 0;
  self->length = 0;
}

static void
sp_sip_log_finalize (GObject *object)
{
  SpSipLog *self = SP_SIP_LOG (object);

  drop_all (self);
  g_free (self->ring);
  G_OBJECT_CLASS (sp_sip_log_parent_class)->finalize (object);
}

static void
sp_sip_log_class_init (SpSipLogClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sp_sip_log_finalize;
}

static void
sp_sip_log_init (SpSipLog *self)
{
}

SpSipLog *
sp_sip_log_new (guint max_entries)
{
  SpSipLog *self;

  g_return_val_if_fail (max_entries > 0, NULL);
  self = g_object_new (SP_TYPE_SIP_LOG, NULL);
  self->max_entries = max_entries;
  self->ring = g_new0 (SpSipLogEntry *, max_entries);
  return self;
}

void
sp_sip_log_append (SpSipLog *self, SpSipLogEntry *entry)
{
  g_return_if_fail (SP_IS_SIP_LOG (self));
  g_return_if_fail (SP_IS_SIP_LOG_ENTRY (entry));

  /* Observers see the model as it is at each signal: first the drop, then
   * the append. */
  if (self->length == self->max_entries)
    {
      g_clear_object (&self->ring[self->head]);
      self->head = (self->head + 1) % self->max_entries;
      self->length--;
      g_list_model_items_changed (G_LIST_MODEL (self), 0, 1, 0);
    }
  self->ring[(self->head + self->length) % self->max_entries] = g_object_ref (entry);
  self->length++;
  g_list_model_items_changed (G_LIST_MODEL (self), self->length - 1, 0, 1);
}

void
sp_sip_log_clear (SpSipLog *self)
{
  guint n;

  g_return_if_fail (SP_IS_SIP_LOG (self));
  n = self->length;
  drop_all (self);
  if (n > 0)
    g_list_model_items_changed (G_LIST_MODEL (self), 0, n, 0);
}

guint
sp_sip_log_get_max_entries (SpSipLog *self)
{
  g_return_val_if_fail (SP_IS_SIP_LOG (self), 0);
  return self->max_entries;
}
