#pragma once

#include <glib.h>

#include "sip/error.h"

G_BEGIN_DECLS

/* SDP session descriptions (RFC 4566) as SIP offer/answer carries them:
 * parse, inspect, build and serialize.
 *
 * The model keeps every line of the input in its order: the lines it
 * understands (v o s c b t m a, with rtpmap, fmtp, ptime, maxptime, rtcp,
 * rtcp-mux and the direction attributes typed) and the ones it does not
 * (i u e p r z k, unknown letters, unknown attributes), so an SDP that is
 * parsed and serialized again keeps all it said. Output always uses CRLF.
 *
 * Errors are in the SP_SIP_ERROR domain:
 *  - SP_SIP_ERROR_BAD_REQUEST (400): the text is not SDP (bad line syntax,
 *    missing v=/o=, m= before o=, numbers out of range, a limit below
 *    exceeded). The GError message names the fault and the line number.
 *  - SP_SDP_ERROR_NOT_ACCEPTABLE (488, "Not Acceptable Here"): well-formed
 *    but not usable by us: a network type other than "IN", an address type
 *    other than IP4/IP6, an SDP version other than 0.
 *
 * Lenient on input where real peers deviate harmlessly: bare LF line ends,
 * a missing final line end, an empty s=, a missing s= or t= (reported as
 * "-" and 0 0, written back out as such), rtpmap without a clock rate
 * (RFC 4475 bodies have "a=rtpmap:31 LPC"; clock rate reads as 0).
 *
 * A session owns its media; SpSdpMedia pointers stay valid until the media
 * is removed or the session is freed. Nothing here is thread-safe. */

#define SP_SDP_ERROR_NOT_ACCEPTABLE ((SpSipErrorCode) 488)

#define SP_SDP_MAX_SIZE        (32 * 1024) /* whole description, bytes */
#define SP_SDP_MAX_LINES       512
#define SP_SDP_MAX_LINE_LENGTH 1024 /* without the line end */
#define SP_SDP_MAX_MEDIA       32
#define SP_SDP_MAX_FORMATS     64 /* per m= line */
/* Highest port in m= and a=rtcp; port + port count - 1 must stay below. */
#define SP_SDP_MAX_PORT 65535

typedef enum
{
  SP_SDP_ADDR_IP4,
  SP_SDP_ADDR_IP6,
} SpSdpAddrType;

/* "IP4" / "IP6". */
const char *sp_sdp_addr_type_to_string (SpSdpAddrType type);

typedef enum
{
  SP_SDP_DIRECTION_SENDRECV,
  SP_SDP_DIRECTION_SENDONLY,
  SP_SDP_DIRECTION_RECVONLY,
  SP_SDP_DIRECTION_INACTIVE,
} SpSdpDirection;

/* The attribute name: "sendrecv", "sendonly", "recvonly", "inactive". */
const char *sp_sdp_direction_to_string (SpSdpDirection direction);
/* The direction the other side of an offer/answer takes: sendonly <->
 * recvonly, the others stay. */
SpSdpDirection sp_sdp_direction_reverse (SpSdpDirection direction);

/* A c= line. @address is an IPv6 address without brackets, an IPv4
 * address or a host name as the peer wrote it. */
typedef struct
{
  SpSdpAddrType addr_type;
  char *address;
  guint ttl;         /* IP4 multicast "/ttl"; 0 when absent */
  guint n_addresses; /* "/<number of addresses>"; 1 when absent */
} SpSdpConnection;

/* One payload format of an m= line, as rtpmap (or, for static payload
 * types without rtpmap, the RFC 3551 table) describes it. Strings belong
 * to the media (or are static) and live as long as it does. */
typedef struct
{
  guint payload_type;   /* 0..127 */
  const char *encoding; /* as written: "PCMU", "telephone-event", "opus" */
  guint clock_rate;     /* Hz; 0 when rtpmap gave none */
  guint channels;       /* 1 when rtpmap gave none */
  const char *fmtp;     /* the a=fmtp parameters, or NULL */
} SpSdpRtpmap;

typedef struct _SpSdpSession SpSdpSession;
typedef struct _SpSdpMedia SpSdpMedia;

/* ---- Session ---------------------------------------------------------- */

/* Parses @len bytes of @text (need not be NUL-terminated; a NUL byte in it
 * is an error). Returns NULL and sets @error on failure. */
SpSdpSession *sp_sdp_session_parse (const char *text, gsize len, GError **error);

/* A new description: v=0, o=<username> <session_id> <session_version> IN
 * <addr_type> <address>, s=-, t=0 0, no media. @username NULL = "-". */
SpSdpSession *sp_sdp_session_new (const char *username, guint64 session_id, guint64 session_version,
                                  SpSdpAddrType addr_type, const char *address);
SpSdpSession *sp_sdp_session_copy (const SpSdpSession *session);
void sp_sdp_session_free (SpSdpSession *session);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpSdpSession, sp_sdp_session_free)

/* The description as text, every line ended by CRLF. */
char *sp_sdp_session_to_string (const SpSdpSession *session);
/* TRUE when both serialize to the same text. */
gboolean sp_sdp_session_equal (const SpSdpSession *a, const SpSdpSession *b);

/* o= */
const char *sp_sdp_session_get_origin_username (const SpSdpSession *session);
guint64 sp_sdp_session_get_session_id (const SpSdpSession *session);
guint64 sp_sdp_session_get_session_version (const SpSdpSession *session);
/* Offer/answer (RFC 3264 section 8): a changed re-offer increments it. */
void sp_sdp_session_set_session_version (SpSdpSession *session, guint64 version);
SpSdpAddrType sp_sdp_session_get_origin_addr_type (const SpSdpSession *session);
const char *sp_sdp_session_get_origin_address (const SpSdpSession *session);
void sp_sdp_session_set_origin_address (SpSdpSession *session, SpSdpAddrType addr_type,
                                        const char *address);

/* s= (never NULL; "-" when the peer left it out) */
const char *sp_sdp_session_get_name (const SpSdpSession *session);
void sp_sdp_session_set_name (SpSdpSession *session, const char *name);

/* Session-level c=, or NULL. */
const SpSdpConnection *sp_sdp_session_get_connection (const SpSdpSession *session);
/* Sets (replaces) the session-level c=; @address NULL removes it. */
void sp_sdp_session_set_connection (SpSdpSession *session, SpSdpAddrType addr_type,
                                    const char *address);

/* b=<type>:<kbps> at session level: the value, or -1 when absent. */
gint64 sp_sdp_session_get_bandwidth (const SpSdpSession *session, const char *type);
/* Replaces b=<type>; @kbps < 0 removes it. */
void sp_sdp_session_set_bandwidth (SpSdpSession *session, const char *type, gint64 kbps);

/* The first t= line; 0 0 when there is none. */
guint64 sp_sdp_session_get_start_time (const SpSdpSession *session);
guint64 sp_sdp_session_get_stop_time (const SpSdpSession *session);
void sp_sdp_session_set_time (SpSdpSession *session, guint64 start, guint64 stop);

/* Session-level attributes, all of them, in order. @value is NULL for a
 * property attribute ("a=recvonly"). */
guint sp_sdp_session_get_n_attributes (const SpSdpSession *session);
void sp_sdp_session_get_nth_attribute (const SpSdpSession *session, guint n, const char **name,
                                       const char **value);
/* The first a=<name>; NULL when absent, "" for a property attribute. */
const char *sp_sdp_session_get_attribute (const SpSdpSession *session, const char *name);
gboolean sp_sdp_session_has_attribute (const SpSdpSession *session, const char *name);
/* Appends a=<name>[:<value>]. @name must be a token; @value NULL for a
 * property attribute. Returns FALSE (and adds nothing) on a bad name or a
 * value with CR/LF/NUL. */
gboolean sp_sdp_session_add_attribute (SpSdpSession *session, const char *name, const char *value);
/* Removes every a=<name>. */
void sp_sdp_session_remove_attribute (SpSdpSession *session, const char *name);

/* Session-level direction; sendrecv when no attribute says otherwise. */
SpSdpDirection sp_sdp_session_get_direction (const SpSdpSession *session);
void sp_sdp_session_set_direction (SpSdpSession *session, SpSdpDirection direction);

/* Media, in m= order. */
guint sp_sdp_session_get_n_media (const SpSdpSession *session);
SpSdpMedia *sp_sdp_session_get_media (const SpSdpSession *session, guint index);
/* The first media of @type ("audio") with a port other than 0, or NULL. */
SpSdpMedia *sp_sdp_session_find_media (const SpSdpSession *session, const char *type);
/* Appends m=<type> <port> <proto> with no formats yet (add some before
 * sending it). The session owns the result. Returns NULL if @type or
 * @proto is not a token or SP_SDP_MAX_MEDIA is reached. */
SpSdpMedia *sp_sdp_session_add_media (SpSdpSession *session, const char *type, guint16 port,
                                      const char *proto);
void sp_sdp_session_remove_media (SpSdpSession *session, guint index);

/* ---- Media ------------------------------------------------------------ */

const char *sp_sdp_media_get_media_type (const SpSdpMedia *media); /* "audio" */
/* 0 = a rejected or disabled stream (RFC 3264 section 6). */
guint sp_sdp_media_get_port (const SpSdpMedia *media);
void sp_sdp_media_set_port (SpSdpMedia *media, guint16 port);
/* The "/<number of ports>" of m=; 1 when absent. */
guint sp_sdp_media_get_port_count (const SpSdpMedia *media);
const char *sp_sdp_media_get_proto (const SpSdpMedia *media); /* "RTP/AVP" */
gboolean sp_sdp_media_is_rejected (const SpSdpMedia *media);

/* The formats of m= in order (payload type numbers for RTP). */
guint sp_sdp_media_get_n_formats (const SpSdpMedia *media);
const char *sp_sdp_media_get_format (const SpSdpMedia *media, guint index);
/* The nth format as an RTP payload type, or -1 when it is not 0..127. */
gint sp_sdp_media_get_payload_type (const SpSdpMedia *media, guint index);
gboolean sp_sdp_media_has_format (const SpSdpMedia *media, const char *format);
/* Appends @format to m=. FALSE when it is not a token, already there, or
 * SP_SDP_MAX_FORMATS is reached. */
gboolean sp_sdp_media_add_format (SpSdpMedia *media, const char *format);
/* Appends payload type @pt with a=rtpmap:<pt> <encoding>/<clock_rate>
 * [/<channels>] (channels written only when > 1). FALSE as add_format, or
 * when @pt > 127 or @encoding is not a token. */
gboolean sp_sdp_media_add_rtp_format (SpSdpMedia *media, guint pt, const char *encoding,
                                      guint clock_rate, guint channels);
/* Removes @format from m= along with its rtpmap and fmtp attributes. */
void sp_sdp_media_remove_format (SpSdpMedia *media, const char *format);
/* Removes every format (and every rtpmap and fmtp): to build an answer. */
void sp_sdp_media_clear_formats (SpSdpMedia *media);

/* The codec of payload type @pt: from its a=rtpmap, else for a static
 * payload type from RFC 3551 (0 PCMU, 3 GSM, 8 PCMA, 9 G722, 18 G729...).
 * FALSE when @pt is unknown. Does not require @pt to be in m=. */
gboolean sp_sdp_media_get_rtpmap (const SpSdpMedia *media, guint pt, SpSdpRtpmap *out);
/* The a=fmtp:<pt> parameters ("0-16"), or NULL. */
const char *sp_sdp_media_get_fmtp (const SpSdpMedia *media, guint pt);
/* Sets (replaces) a=fmtp:<pt>; @params NULL removes it. */
gboolean sp_sdp_media_set_fmtp (SpSdpMedia *media, guint pt, const char *params);

/* a=ptime / a=maxptime in ms, or -1 when absent; set < 0 removes. */
gint sp_sdp_media_get_ptime (const SpSdpMedia *media);
void sp_sdp_media_set_ptime (SpSdpMedia *media, gint ms);
gint sp_sdp_media_get_maxptime (const SpSdpMedia *media);
void sp_sdp_media_set_maxptime (SpSdpMedia *media, gint ms);

/* a=rtcp (RFC 3605): the port or -1 when absent; the address (NULL when
 * the attribute has none: then the connection address applies). */
gint sp_sdp_media_get_rtcp_port (const SpSdpMedia *media);
const char *sp_sdp_media_get_rtcp_address (const SpSdpMedia *media);
/* Sets a=rtcp:<port>[ IN <type> <address>]; @port < 0 removes it. */
void sp_sdp_media_set_rtcp (SpSdpMedia *media, gint port, SpSdpAddrType addr_type,
                            const char *address);
/* a=rtcp-mux (RFC 5761) */
gboolean sp_sdp_media_get_rtcp_mux (const SpSdpMedia *media);
void sp_sdp_media_set_rtcp_mux (SpSdpMedia *media, gboolean mux);

/* The media-level c=, or NULL. */
const SpSdpConnection *sp_sdp_media_get_connection (const SpSdpMedia *media);
/* Media-level c= if there is one, else the session's (may be NULL: then
 * the description is incomplete). Where RTP goes. */
const SpSdpConnection *sp_sdp_media_get_effective_connection (const SpSdpMedia *media);
void sp_sdp_media_set_connection (SpSdpMedia *media, SpSdpAddrType addr_type, const char *address);

/* b= at media level, as for the session. */
gint64 sp_sdp_media_get_bandwidth (const SpSdpMedia *media, const char *type);
void sp_sdp_media_set_bandwidth (SpSdpMedia *media, const char *type, gint64 kbps);

/* The direction that applies: the media's own attribute, else the
 * session's, else sendrecv. */
SpSdpDirection sp_sdp_media_get_direction (const SpSdpMedia *media);
/* Sets the media-level direction (replaces any there). */
void sp_sdp_media_set_direction (SpSdpMedia *media, SpSdpDirection direction);

/* Media-level attributes, as for the session. */
guint sp_sdp_media_get_n_attributes (const SpSdpMedia *media);
void sp_sdp_media_get_nth_attribute (const SpSdpMedia *media, guint n, const char **name,
                                     const char **value);
const char *sp_sdp_media_get_attribute (const SpSdpMedia *media, const char *name);
gboolean sp_sdp_media_has_attribute (const SpSdpMedia *media, const char *name);
gboolean sp_sdp_media_add_attribute (SpSdpMedia *media, const char *name, const char *value);
void sp_sdp_media_remove_attribute (SpSdpMedia *media, const char *name);

G_END_DECLS
