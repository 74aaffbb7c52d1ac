#include "media/rtp.h"

#include <string.h>

static guint32
get32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static void
put32 (guint8 *p, guint32 v)
{
  p[0] = v >> 24;
  p[1] = (v >> 16) & 0xff;
  p[2] = (v >> 8) & 0xff;
  p[3] = v & 0xff;
}

static gboolean
malformed (GError **error, const char *what)
{
  g_set_error (error, SP_MEDIA_ERROR, SP_MEDIA_ERROR_MALFORMED, "Malformed RTP packet: %s", what);
  return FALSE;
}

gboolean
sp_rtp_parse (const guint8 *data, gsize len, SpRtpPacket *packet, GError **error)
{
  gsize pos, end = len;

  memset (packet, 0, sizeof *packet);
  if (len < SP_RTP_HEADER_SIZE)
    return malformed (error, "shorter than the fixed header");
  if ((data[0] >> 6) != SP_RTP_VERSION)
    return malformed (error, "version is not 2");

  packet->csrc_count = data[0] & 0x0f;
  packet->marker = (data[1] & 0x80) != 0;
  packet->payload_type = data[1] & 0x7f;
  packet->seq = (guint16) ((data[2] << 8) | data[3]);
  packet->timestamp = get32 (data + 4);
  packet->ssrc = get32 (data + 8);
  pos = SP_RTP_HEADER_SIZE;

  if (len - pos < (gsize) packet->csrc_count * 4)
    return malformed (error, "CSRC list past the end");
  for (guint i = 0; i < packet->csrc_count; i++, pos += 4)
    packet->csrc[i] = get32 (data + pos);

  if (data[0] & 0x20)
    {
      /* Padding: the last byte counts the padding bytes, itself included. */
      guint8 pad = data[len - 1];
      if (pad == 0 || pad > len - pos)
        return malformed (error, "bad padding count");
      packet->padding_len = pad;
      end = len - pad;
    }

  if (data[0] & 0x10)
    {
      gsize ext_len;
      if (end - pos < 4)
        return malformed (error, "extension header past the end");
      packet->has_extension = TRUE;
      packet->extension_profile = (guint16) ((data[pos] << 8) | data[pos + 1]);
      ext_len = (gsize) ((data[pos + 2] << 8) | data[pos + 3]) * 4;
      pos += 4;
      if (end - pos < ext_len)
        return malformed (error, "extension past the end");
      packet->extension = data + pos;
      packet->extension_len = ext_len;
      pos += ext_len;
    }

  packet->payload = data + pos;
  packet->payload_len = end - pos;
  return TRUE;
}

gsize
sp_rtp_build (guint8 *buf, gsize buf_size, const SpRtpPacket *packet)
{
  gsize need, pos;

  if (packet->payload_type > 127 || packet->csrc_count > SP_RTP_MAX_CSRC)
    return 0;
  if (packet->has_extension &&
      (packet->extension_len % 4 != 0 || packet->extension_len > 4 * 65535))
    return 0;
  need = SP_RTP_HEADER_SIZE + (gsize) packet->csrc_count * 4 + packet->payload_len;
  if (packet->has_extension)
    need += 4 + packet->extension_len;
  if (need > buf_size)
    return 0;

  buf[0] = (SP_RTP_VERSION << 6) | (packet->has_extension ? 0x10 : 0) | packet->csrc_count;
  buf[1] = (packet->marker ? 0x80 : 0) | packet->payload_type;
  buf[2] = packet->seq >> 8;
  buf[3] = packet->seq & 0xff;
  put32 (buf + 4, packet->timestamp);
  put32 (buf + 8, packet->ssrc);
  pos = SP_RTP_HEADER_SIZE;
  for (guint i = 0; i < packet->csrc_count; i++, pos += 4)
    put32 (buf + pos, packet->csrc[i]);
  if (packet->has_extension)
    {
      buf[pos] = packet->extension_profile >> 8;
      buf[pos + 1] = packet->extension_profile & 0xff;
      buf[pos + 2] = (packet->extension_len / 4) >> 8;
      buf[pos + 3] = (packet->extension_len / 4) & 0xff;
      pos += 4;
      if (packet->extension_len)
        memcpy (buf + pos, packet->extension, packet->extension_len);
      pos += packet->extension_len;
    }
  if (packet->payload_len)
    memcpy (buf + pos, packet->payload, packet->payload_len);
  return pos + packet->payload_len;
}

gboolean
sp_rtp_looks_like_rtcp (const guint8 *data, gsize len)
{
  return len >= 2 && data[1] >= 192 && data[1] <= 223;
}
