#pragma once

#include <glib.h>

#include "sip/error.h"
#include "sip/uri.h"

G_BEGIN_DECLS

/* SIP messages (RFC 3261 sections 7, 20, 25): parse, inspect, build and
 * serialize. A message is reference counted and not thread-safe; the
 * main loop owns it.
 *
 * Parsing checks everything a UA or a server relies on: the start line,
 * header syntax, Content-Length framing, and the structure of the headers
 * the stack reads (Via, From, To, Call-ID, CSeq, Max-Forwards, Expires,
 * Contact, Route, Record-Route, Content-Type). Other headers are kept as
 * opaque text. Hard limits (see SP_SIP_MAX_*) bound every allocation. */

#define SP_SIP_MAX_MESSAGE_SIZE (64 * 1024)
#define SP_SIP_MAX_HEADERS      256
#define SP_SIP_MAX_LINE_LENGTH  (8 * 1024)

typedef enum
{
  /* One UDP datagram: a body longer than Content-Length is cut to it, a
   * shorter one is an error, no Content-Length means "to the end". */
  SP_SIP_FRAMING_DATAGRAM,
  /* Stream (TCP): Content-Length is required; a body shorter than it
   * gives SP_SIP_ERROR_INCOMPLETE, bytes after it are ignored (they
   * belong to the next message; SpSipFramer does the splitting). */
  SP_SIP_FRAMING_STREAM,
} SpSipFraming;

typedef enum
{
  SP_SIP_METHOD_UNKNOWN,
  SP_SIP_METHOD_INVITE,
  SP_SIP_METHOD_ACK,
  SP_SIP_METHOD_BYE,
  SP_SIP_METHOD_CANCEL,
  SP_SIP_METHOD_REGISTER,
  SP_SIP_METHOD_OPTIONS,
  SP_SIP_METHOD_INFO,
  SP_SIP_METHOD_UPDATE,
  SP_SIP_METHOD_REFER,
  SP_SIP_METHOD_NOTIFY,
  SP_SIP_METHOD_SUBSCRIBE,
  SP_SIP_METHOD_MESSAGE,
  SP_SIP_METHOD_PRACK,
} SpSipMethod;

/* Case-sensitive, as RFC 3261 says methods are. */
SpSipMethod sp_sip_method_from_string (const char *method);
const char *sp_sip_method_to_string (SpSipMethod method);

/* The value of a Via header field. Strings are owned by the message;
 * host is an IPv6 address without brackets when it is one. */
typedef struct
{
  char *transport; /* upper case: "UDP", "TCP", "TLS", ... */
  char *host;
  guint16 port;   /* 0 = not given */
  char *branch;   /* NULL when absent (RFC 2543 peer) */
  char *received; /* NULL when absent */
  gint rport;     /* -1 absent, 0 present without value, else the port */
  char *maddr;
  gint ttl;          /* -1 absent */
  GPtrArray *params; /* every parameter, SpSipParam, in order */
} SpSipVia;

/* One Via value ("SIP/2.0/UDP host:port;branch=..."), e.g. to build the
 * top Via of a request; to_string gives the wire form. */
SpSipVia *sp_sip_via_parse (const char *text, gssize len, GError **error);
SpSipVia *sp_sip_via_copy (const SpSipVia *via);
char *sp_sip_via_to_string (const SpSipVia *via);
void sp_sip_via_free (SpSipVia *via);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpSipVia, sp_sip_via_free)

/* name-addr or addr-spec with header parameters: From, To, Contact,
 * Route, Record-Route. */
typedef struct
{
  char *display_name; /* unquoted and unescaped; NULL when none */
  SpSipUri *uri;
  GPtrArray *params; /* header parameters (";tag=", ";expires="), SpSipParam */
} SpSipNameAddr;

const char *sp_sip_name_addr_get_param (const SpSipNameAddr *addr, const char *name);
gboolean sp_sip_name_addr_has_param (const SpSipNameAddr *addr, const char *name);
/* The "tag" parameter, or NULL. */
const char *sp_sip_name_addr_get_tag (const SpSipNameAddr *addr);
/* The contact "expires" parameter, or -1 when absent or not a number. */
gint64 sp_sip_name_addr_get_expires (const SpSipNameAddr *addr);
/* Always in name-addr form: "Display" <uri>;params */
char *sp_sip_name_addr_to_string (const SpSipNameAddr *addr);
SpSipNameAddr *sp_sip_name_addr_parse (const char *text, gssize len, GError **error);
SpSipNameAddr *sp_sip_name_addr_new (const char *display_name, const SpSipUri *uri);
void sp_sip_name_addr_set_param (SpSipNameAddr *addr, const char *name, const char *value);
SpSipNameAddr *sp_sip_name_addr_copy (const SpSipNameAddr *addr);
void sp_sip_name_addr_free (SpSipNameAddr *addr);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpSipNameAddr, sp_sip_name_addr_free)

typedef struct _SpSipMessage SpSipMessage;

/* Parses one message from @data. With SP_SIP_FRAMING_DATAGRAM all of
 * @len is one datagram. Returns NULL and sets @error (SP_SIP_ERROR) on
 * failure. When the failure leaves enough of a request to answer it
 * (start line, Via, From, To, Call-ID, CSeq), @partial, if not NULL,
 * receives that much so the caller can send the error response. */
SpSipMessage *sp_sip_message_parse (const guint8 *data, gsize len, SpSipFraming framing,
                                    SpSipMessage **partial, GError **error);

SpSipMessage *sp_sip_message_new_request (const char *method, const SpSipUri *request_uri);
SpSipMessage *sp_sip_message_new_response (guint status, const char *reason);
/* A response to @request as RFC 3261 section 8.2.6 builds it: Via list,
 * From, To, Call-ID and CSeq copied; @to_tag added to To when To has no
 * tag yet and @to_tag is not NULL. @reason NULL = standard phrase. */
SpSipMessage *sp_sip_message_new_response_to (const SpSipMessage *request, guint status,
                                              const char *reason, const char *to_tag);

SpSipMessage *sp_sip_message_ref (SpSipMessage *msg);
void sp_sip_message_unref (SpSipMessage *msg);
SpSipMessage *sp_sip_message_copy (const SpSipMessage *msg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpSipMessage, sp_sip_message_unref)

gboolean sp_sip_message_is_request (const SpSipMessage *msg);
/* Request: its method token. Response: the CSeq method. */
const char *sp_sip_message_get_method (const SpSipMessage *msg);
SpSipMethod sp_sip_message_get_method_id (const SpSipMessage *msg);
const SpSipUri *sp_sip_message_get_request_uri (const SpSipMessage *msg);
void sp_sip_message_set_request_uri (SpSipMessage *msg, const SpSipUri *uri);
guint sp_sip_message_get_status (const SpSipMessage *msg);
const char *sp_sip_message_get_reason (const SpSipMessage *msg);

/* Generic header access. Names match case-insensitively and compact
 * forms match their long names ("v" = "Via"). get_header returns the
 * first field's whole value (a comma list stays one string). */
const char *sp_sip_message_get_header (const SpSipMessage *msg, const char *name);
guint sp_sip_message_get_n_headers (const SpSipMessage *msg);
/* Header fields in order, with their names in canonical long form. */
void sp_sip_message_get_nth_header (const SpSipMessage *msg, guint n, const char **name,
                                    const char **value);
/* Appends, prepends (Via), replaces all, or removes fields named @name.
 * A structured header that fails to parse is refused with FALSE and
 * @error, leaving the message as it was. */
gboolean sp_sip_message_add_header (SpSipMessage *msg, const char *name, const char *value,
                                    GError **error);
gboolean sp_sip_message_prepend_header (SpSipMessage *msg, const char *name, const char *value,
                                        GError **error);
gboolean sp_sip_message_set_header (SpSipMessage *msg, const char *name, const char *value,
                                    GError **error);
void sp_sip_message_remove_header (SpSipMessage *msg, const char *name);
/* Removes only the first value of @name: the top Via of a response. */
void sp_sip_message_remove_first_value (SpSipMessage *msg, const char *name);

/* Typed views of the structured headers, all owned by the message.
 * They return NULL / -1 / 0 when the header is absent. */
const SpSipVia *sp_sip_message_get_via (const SpSipMessage *msg); /* the top one */
/* Every Via value across all Via fields, top first. */
const GPtrArray *sp_sip_message_get_vias (const SpSipMessage *msg);
const SpSipNameAddr *sp_sip_message_get_from (const SpSipMessage *msg);
const SpSipNameAddr *sp_sip_message_get_to (const SpSipMessage *msg);
const char *sp_sip_message_get_call_id (const SpSipMessage *msg);
/* The CSeq number; @method (if not NULL) gets its method. 0 = absent. */
guint32 sp_sip_message_get_cseq (const SpSipMessage *msg, const char **method);
gint sp_sip_message_get_max_forwards (const SpSipMessage *msg);
gint64 sp_sip_message_get_expires (const SpSipMessage *msg);
/* Contacts (SpSipNameAddr), across fields. A "Contact: *" gives an
 * empty array and contact_is_star TRUE. */
const GPtrArray *sp_sip_message_get_contacts (const SpSipMessage *msg);
gboolean sp_sip_message_contact_is_star (const SpSipMessage *msg);
const GPtrArray *sp_sip_message_get_routes (const SpSipMessage *msg);
const GPtrArray *sp_sip_message_get_record_routes (const SpSipMessage *msg);
/* The media type in lower case without parameters ("application/sdp"),
 * or NULL. */
const char *sp_sip_message_get_content_type (const SpSipMessage *msg);

/* The body (may contain NUL bytes), framed by Content-Length. */
const guint8 *sp_sip_message_get_body (const SpSipMessage *msg, gsize *len);
/* Sets the body, Content-Type (NULL removes it) and Content-Length. */
void sp_sip_message_set_body (SpSipMessage *msg, const char *content_type, const guint8 *body,
                              gsize len);

/* The 8.2 checks a UAS makes before acting on a parsed request: Via
 * present; From, To, Call-ID, CSeq present once each (Max-Forwards and
 * Expires at most once; Max-Forwards may be absent for RFC 2543 peers);
 * CSeq method equal to the request method; no headers in the
 * Request-URI; a SIP(S) To in a REGISTER; "Contact: *" alone; a Date,
 * if any, in RFC 1123 GMT form. Ranges (CSeq, Max-Forwards, Expires)
 * are already enforced by the parser. An unknown Request-URI scheme is
 * not checked here: the caller answers 416 after looking at
 * sp_sip_uri_get_scheme. FALSE with the error (code = status to answer,
 * message = reason phrase) when it fails. */
gboolean sp_sip_message_check_request (const SpSipMessage *msg, GError **error);

/* Wire form, with Content-Length always present and right. */
GBytes *sp_sip_message_serialize (const SpSipMessage *msg);
/* The same, as a NUL-terminated string for logs (a NUL inside the body
 * is kept in @len). */
char *sp_sip_message_to_string (const SpSipMessage *msg, gsize *len);

/* Stream framing for TCP: push bytes as they arrive, pop whole messages.
 * pop returns NULL with no error while a message is still incomplete,
 * and NULL with an error when the stream cannot be framed any more (the
 * connection must then be closed). */
typedef struct _SpSipFramer SpSipFramer;

SpSipFramer *sp_sip_framer_new (void);
void sp_sip_framer_free (SpSipFramer *framer);
gboolean sp_sip_framer_push (SpSipFramer *framer, const guint8 *data, gsize len, GError **error);
SpSipMessage *sp_sip_framer_pop (SpSipFramer *framer, GError **error);
/* Like pop, and when a well-framed message fails to parse, @partial
 * (if not NULL) gets what sp_sip_message_parse gives for it, so the
 * caller can answer 400. After such an error the stream is still in
 * step (the bad message was consumed) unless is_broken says otherwise. */
SpSipMessage *sp_sip_framer_pop_full (SpSipFramer *framer, SpSipMessage **partial, GError **error);
/* Like pop_full; @raw (if not NULL) gets the bytes of the frame taken
 * off the stream, whether it parsed or not (for SIP traces). */
SpSipMessage *sp_sip_framer_pop_frame (SpSipFramer *framer, GBytes **raw, SpSipMessage **partial,
                                       GError **error);
/* CR and LF bytes dropped between messages since the last call: RFC 5626
 * keep-alives ("\r\n\r\n" ping, "\r\n" pong) are seen this way. */
gsize sp_sip_framer_take_crlf (SpSipFramer *framer);
/* TRUE once the stream cannot be framed any more (bad or missing
 * Content-Length, a message over the size limit): close the connection. */
gboolean sp_sip_framer_is_broken (const SpSipFramer *framer);
/* Bytes held that do not yet make a message (a half-received one). */
gsize sp_sip_framer_get_pending (const SpSipFramer *framer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpSipFramer, sp_sip_framer_free)

G_END_DECLS
