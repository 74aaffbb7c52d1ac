#pragma once

#include <glib.h>

#include "media/error.h"

G_BEGIN_DECLS

/* RTP packets (RFC 3550 section 5.1), parsed in place and built into the
 * caller's buffer: nothing here allocates, so the per-packet path stays
 * allocation-free. */

#define SP_RTP_VERSION     2
#define SP_RTP_HEADER_SIZE 12
#define SP_RTP_MAX_CSRC    15
/* Largest datagram the media path sends or accepts. */
#define SP_RTP_MAX_PACKET 1500

typedef struct
{
  guint8 payload_type; /* 0..127 */
  gboolean marker;
  guint16 seq;
  guint32 timestamp;
  guint32 ssrc;
  guint8 csrc_count;
  guint32 csrc[SP_RTP_MAX_CSRC];
  /* Header extension (RFC 3550 5.3.1): profile-defined id and the data
   * after the 4-byte extension header, pointing into the parsed buffer. */
  gboolean has_extension;
  guint16 extension_profile;
  const guint8 *extension;
  gsize extension_len;
  /* Payload without padding; points into the parsed buffer (parse) or is
   * copied from here (build). */
  const guint8 *payload;
  gsize payload_len;
  guint8 padding_len; /* 0 when P was clear */
} SpRtpPacket;

/* Parses @len bytes at @data into @packet. Checks version 2, that CSRCs,
 * the extension and the padding count all fit, and that padding is not
 * zero. Fails with SP_MEDIA_ERROR_MALFORMED. */
gboolean sp_rtp_parse (const guint8 *data, gsize len, SpRtpPacket *packet, GError **error);

/* Writes @packet (header, CSRCs, extension if has_extension, payload, no
 * padding) into @buf. Returns the length written, or 0 if @buf_size is too
 * small or a field is out of range. */
gsize sp_rtp_build (guint8 *buf, gsize buf_size, const SpRtpPacket *packet);

/* RFC 5761 section 4: on a muxed port, a packet whose second byte is 192..223
 * (RTCP packet types 200..206 etc. with marker folded in) is RTCP. */
gboolean sp_rtp_looks_like_rtcp (const guint8 *data, gsize len);

/* Signed distance from @b to @a in sequence space (wraps at 65536). */
static inline gint
sp_rtp_seq_diff (guint16 a, guint16 b)
{
  return (gint16) (guint16) (a - b);
}

G_END_DECLS
