#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A record of the SIP messages a phone or server sent and received, for
 * the call-flow ladder (the Log page) and for bug reports. UI-free: the
 * transport layer appends to it, the GTK front end observes it as a
 * GListModel.
 *
 * The raw text is kept as given (made valid UTF-8 for display). The first
 * line, Call-ID, CSeq and whether the message carries SDP are extracted
 * with bounded scans that never trust the input, so a malformed datagram
 * still shows up in the log: that is when people need it most. */

#define SP_TYPE_SIP_LOG_ENTRY (sp_sip_log_entry_get_type ())
G_DECLARE_FINAL_TYPE (SpSipLogEntry, sp_sip_log_entry, SP, SIP_LOG_ENTRY, GObject)

typedef enum
{
  SP_SIP_LOG_DIRECTION_SENT,
  SP_SIP_LOG_DIRECTION_RECEIVED,
} SpSipLogDirection;

/* time_us: wall-clock microseconds (g_get_real_time ()). src and dst are
 * "host:port" (IPv6 as "[addr]:port"). raw need not be NUL-terminated and
 * may be anything; at most SP_SIP_LOG_MAX_RAW bytes of it are kept. */
#define SP_SIP_LOG_MAX_RAW (64 * 1024)

SpSipLogEntry *sp_sip_log_entry_new (gint64 time_us, SpSipLogDirection direction, const char *src,
                                     const char *dst, const char *raw, gsize raw_len);

gint64 sp_sip_log_entry_get_time (SpSipLogEntry *self);
SpSipLogDirection sp_sip_log_entry_get_direction (SpSipLogEntry *self);
const char *sp_sip_log_entry_get_src (SpSipLogEntry *self);
const char *sp_sip_log_entry_get_dst (SpSipLogEntry *self);
/* The start line without its CRLF: "INVITE sip:2@host SIP/2.0". */
const char *sp_sip_log_entry_get_first_line (SpSipLogEntry *self);
const char *sp_sip_log_entry_get_raw (SpSipLogEntry *self);
/* NULL when the message has no (readable) Call-ID. */
const char *sp_sip_log_entry_get_call_id (SpSipLogEntry *self);
/* The CSeq value ("1 INVITE"), NULL when absent. */
const char *sp_sip_log_entry_get_cseq (SpSipLogEntry *self);
gboolean sp_sip_log_entry_is_request (SpSipLogEntry *self);
/* Request method ("INVITE") or response code (200); the other is NULL / 0. */
const char *sp_sip_log_entry_get_method (SpSipLogEntry *self);
guint sp_sip_log_entry_get_status_code (SpSipLogEntry *self);
gboolean sp_sip_log_entry_has_sdp (SpSipLogEntry *self);
/* What an arrow in a flow graph says, as Wireshark writes it:
 * "INVITE SDP", "100 Trying", "200 OK SDP". */
const char *sp_sip_log_entry_get_summary (SpSipLogEntry *self);

/* Credentials masked for logs (the SIP log, the Log page, --log-sip):
 * returns a copy of @raw (any bytes, @len long) in which the proofs of a
 * password are replaced by "***": the response (and auts) of Digest
 * credentials in Authorization and Proxy-Authorization, the rspauth of
 * Authentication-Info and Proxy-Authentication-Info, the whole
 * credentials of any other scheme (Basic, Bearer) and a password in the
 * userinfo of a sip:/sips: URI, and the SRTP keys of SDP a=crypto lines
 * (RFC 4568 "inline:KEY"). Everything else, nonce and cnonce
 * included, is kept byte for byte; folded header lines are followed.
 * Linear in @len, whatever the bytes. @out_len receives the new length
 * (the result is also NUL-terminated). */
char *sp_sip_log_mask_credentials (const char *raw, gsize len, gsize *out_len);

#define SP_TYPE_SIP_LOG (sp_sip_log_get_type ())
G_DECLARE_FINAL_TYPE (SpSipLog, sp_sip_log, SP, SIP_LOG, GObject)

/* Keeps at most max_entries (> 0); the oldest are dropped first. */
SpSipLog *sp_sip_log_new (guint max_entries);
void sp_sip_log_append (SpSipLog *self, SpSipLogEntry *entry);
void sp_sip_log_clear (SpSipLog *self);
guint sp_sip_log_get_max_entries (SpSipLog *self);

G_END_DECLS
