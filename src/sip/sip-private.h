#pragma once

/* Internals shared by the files of src/sip: character classes and
 * parsing helpers of the syntax files (uri.c, message.c, header-parse.c,
 * framer.c), and text building used on the message path. Not part of
 * any public contract. */

#include <glib.h>

#include "sip/error.h"
#include "sip/message.h"
#include "sip/uri.h"

G_BEGIN_DECLS

/* Character classes of RFC 3261 section 25, one bit each, in a table
 * indexed by byte so a scanner tests a class with one load. */
enum
{
  SP_CC_TOKEN = 1 << 0,      /* token */
  SP_CC_UNRESERVED = 1 << 1, /* unreserved */
  SP_CC_USER = 1 << 2,       /* unreserved / user-unreserved */
  SP_CC_PASS = 1 << 3,       /* unreserved / & = + $ , */
  SP_CC_PARAM = 1 << 4,      /* unreserved / param-unreserved */
  SP_CC_HNV = 1 << 5,        /* unreserved / hnv-unreserved */
  SP_CC_WORD = 1 << 6,       /* word (Call-ID) */
  SP_CC_HOST = 1 << 7,       /* alphanum / - / . */
};

extern const guint8 sp_sip_char_class[256];

static inline gboolean
sp_sip_is (guchar c, guint8 cls)
{
  return (sp_sip_char_class[c] & cls) != 0;
}

static inline gboolean
sp_sip_is_ws (guchar c)
{
  return c == ' ' || c == '\t';
}

/* Skips SP/HT (values are already unfolded, so LWS is plain whitespace). */
static inline const char *
sp_sip_skip_ws (const char *p, const char *end)
{
  while (p < end && sp_sip_is_ws (*p))
    p++;
  return p;
}

static inline const char *
sp_sip_trim_end (const char *start, const char *end)
{
  while (end > start && sp_sip_is_ws (end[-1]))
    end--;
  return end;
}

/* A copy of @len bytes plus a terminating NUL; unlike g_strndup it keeps
 * bytes after an embedded NUL. */
char *sp_sip_dup_bytes (const char *p, gsize len);

/* Keys and ids are built by concatenation; a missing part is empty. */
static inline const char *
sp_sip_or_empty (const char *s)
{
  return s ? s : "";
}

/* Decimal text of @value written backwards from the end of @buf; returns
 * its first digit. Message building runs these per header: printf costs
 * over a thousand instructions a call, this a few dozen. */
#define SP_SIP_UINT_BUF 21
const char *sp_sip_uint_to_text (char buf[SP_SIP_UINT_BUF], guint64 value);
void sp_sip_append_uint (GString *out, guint64 value);

/* Length of a valid "%HH" escape at @p (3), or 0. */
static inline gsize
sp_sip_escape_len (const char *p, const char *end)
{
  if (end - p >= 3 && p[0] == '%' && g_ascii_isxdigit (p[1]) && g_ascii_isxdigit (p[2]))
    return 3;
  return 0;
}

/* Scans characters of @cls or %HH escapes; returns where it stopped. */
const char *sp_sip_scan_escaped (const char *p, const char *end, guint8 cls);

/* Decodes %HH escapes. The result is NUL-terminated; *out_len (if set)
 * is its length, NULs included. */
char *sp_sip_unescape (const char *p, gsize len, gsize *out_len);

/* Parameters: one allocation holding the struct, name and value. */
SpSipParam *sp_sip_param_new (const char *name, gsize name_len, const char *value,
                              gssize value_len);
SpSipParam *sp_sip_param_copy (const SpSipParam *param);
GPtrArray *sp_sip_params_new (void);
GPtrArray *sp_sip_params_copy (const GPtrArray *params);
/* Index of the parameter named @name (case-insensitive), or -1. */
gint sp_sip_params_find (const GPtrArray *params, const char *name);
void sp_sip_params_set (GPtrArray *params, const char *name, const char *value);
void sp_sip_params_append_to (const GPtrArray *params, GString *out);

/* URI parsing on a bounded range. */
SpSipUri *sp_sip_uri_parse_range (const char *p, const char *end, GError **error);
void sp_sip_uri_append_to (const SpSipUri *uri, GString *out);

/* Known header names. The order matters only to the tables in
 * header-parse.c. */
typedef enum
{
  SP_HDR_OTHER = 0,
  SP_HDR_VIA,
  SP_HDR_FROM,
  SP_HDR_TO,
  SP_HDR_CALL_ID,
  SP_HDR_CSEQ,
  SP_HDR_MAX_FORWARDS,
  SP_HDR_EXPIRES,
  SP_HDR_CONTACT,
  SP_HDR_ROUTE,
  SP_HDR_RECORD_ROUTE,
  SP_HDR_CONTENT_TYPE,
  SP_HDR_CONTENT_LENGTH,
  SP_HDR_SUPPORTED,
  SP_HDR_SUBJECT,
  SP_HDR_CONTENT_ENCODING,
  SP_HDR_EVENT,
  SP_HDR_ALLOW_EVENTS,
  SP_HDR_REFER_TO,
  SP_HDR_REFERRED_BY,
  SP_HDR_AUTHORIZATION,
  SP_HDR_PROXY_AUTHORIZATION,
  SP_HDR_WWW_AUTHENTICATE,
  SP_HDR_PROXY_AUTHENTICATE,
  SP_HDR_REQUIRE,
  SP_HDR_PROXY_REQUIRE,
  SP_HDR_UNSUPPORTED,
  SP_HDR_ALLOW,
  SP_HDR_ACCEPT,
  SP_HDR_USER_AGENT,
  SP_HDR_SERVER,
  SP_HDR_DATE,
  SP_HDR_MIN_EXPIRES,
  SP_HDR_WARNING,
  SP_HDR_RETRY_AFTER,
  SP_HDR_SESSION_EXPIRES,
  SP_HDR_MIN_SE,
  SP_HDR_RSEQ,
  SP_HDR_RACK,
  SP_HDR_TIMESTAMP,
  SP_HDR_ORGANIZATION,
  SP_HDR_CONTENT_DISPOSITION,
  SP_HDR_ACCEPT_ENCODING,
  SP_HDR_ACCEPT_LANGUAGE,
  SP_HDR_PATH,
  SP_HDR_SUBSCRIPTION_STATE,
  SP_HDR_REASON,
  SP_HDR_LAST
} SpSipHeaderId;

/* The id of a header name (long or compact, any case). */
SpSipHeaderId sp_sip_header_id (const char *name, gsize len);
const char *sp_sip_header_canonical_name (SpSipHeaderId id);

/* Per-header parsers on unfolded values. */
SpSipVia *sp_sip_via_parse_range (const char *p, const char *end, GError **error);
SpSipNameAddr *sp_sip_name_addr_parse_range (const char *p, const char *end,
                                             gboolean allow_wildcard, GError **error);
/* Splits a comma list (outside quotes and <>) and calls @each per
 * element; an empty element is an error. */
typedef gboolean (*SpSipListFunc) (const char *p, const char *end, gpointer data, GError **error);
gboolean sp_sip_split_list (const char *p, const char *end, SpSipListFunc each, gpointer data,
                            GError **error);
gboolean sp_sip_parse_uint (const char *p, const char *end, guint64 max, guint64 *out);

/* Replaces the top Via field of @msg with @value (one or more fields),
 * updating only the Via views; a bad @value leaves @msg as it was. */
gboolean sp_sip_message_replace_top_via (SpSipMessage *msg, const char *value, GError **error);

G_END_DECLS
