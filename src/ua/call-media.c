#include "ua/call-media.h"

#include <gio/gio.h>
#include <string.h>

#include "sip/error.h"

static const SpCodecId offered[] = { SP_CODEC_PCMU, SP_CODEC_PCMA, SP_CODEC_G722 };

const char *
sp_call_media_codec_name (SpCodecId codec)
{
  switch (codec)
    {
      case SP_CODEC_PCMU:
        return "PCMU/8000";
      case SP_CODEC_PCMA:
        return "PCMA/8000";
      case SP_CODEC_G722:
        return "G722/8000";
      default:
        return "unknown";
    }
}

char *
sp_call_media_build_sdp (const char *local_host, guint16 rtp_port, guint64 session_id,
                         guint64 version, SpSdpDirection direction, const SpCallMediaParams *chosen)
{
  SpSdpAddrType type = strchr (local_host, ':') ? SP_SDP_ADDR_IP6 : SP_SDP_ADDR_IP4;
  g_autoptr (SpSdpSession) s = sp_sdp_session_new ("-", session_id, version, type, local_host);
  SpSdpMedia *m;

  sp_sdp_session_set_name (s, "Softphone");
  sp_sdp_session_set_connection (s, type, local_host);
  m = sp_sdp_session_add_media (s, "audio", rtp_port, "RTP/AVP");
  for (guint i = 0; i < G_N_ELEMENTS (offered); i++)
    {
      const SpCodecInfo *info = sp_codec_info_for_payload_type (offered[i]);
      if (info == NULL || (chosen != NULL && chosen->codec != offered[i]))
        continue;
      sp_sdp_media_add_rtp_format (m, info->payload_type, info->encoding, info->clock_rate, 1);
    }
  if (chosen == NULL || chosen->dtmf_pt >= 0)
    {
      guint pt = chosen ? (guint) chosen->dtmf_pt : SP_CALL_DTMF_PT;
      sp_sdp_media_add_rtp_format (m, pt, "telephone-event", 8000, 1);
      sp_sdp_media_set_fmtp (m, pt, "0-16");
    }
  sp_sdp_media_set_ptime (m, 20);
  sp_sdp_media_set_direction (m, direction);
  return sp_sdp_session_to_string (s);
}

static void
append_format_name (GString *list, const SpSdpMedia *m, guint index)
{
  SpSdpRtpmap map;
  gint pt = sp_sdp_media_get_payload_type (m, index);

  if (list->len > 0)
    g_string_append (list, ", ");
  if (pt >= 0 && sp_sdp_media_get_rtpmap (m, pt, &map) && map.encoding != NULL)
    g_string_append (list, map.encoding);
  else if (pt >= 0 && sp_codec_info_for_payload_type (pt) != NULL)
    g_string_append (list, sp_codec_info_for_payload_type (pt)->encoding);
  else
    g_string_append (list, sp_sdp_media_get_format (m, index));
}

gboolean
sp_call_media_negotiate (const guint8 *sdp, gsize len, SpCallMediaParams *out, GError **error)
{
  g_autoptr (SpSdpSession) s = NULL;
  g_autoptr (GString) theirs = g_string_new (NULL);
  const SpCodecInfo *found = NULL;
  const SpSdpConnection *conn;
  SpSdpMedia *m;

  memset (out, 0, sizeof *out);
  out->dtmf_pt = -1;
  if (sdp == NULL || len == 0)
    {
      g_set_error_literal (error, SP_SIP_ERROR, SP_SDP_ERROR_NOT_ACCEPTABLE, "No SDP");
      return FALSE;
    }
  s = sp_sdp_session_parse ((const char *) sdp, len, error);
  if (s == NULL)
    return FALSE;
  m = sp_sdp_session_find_media (s, "audio");
  if (m == NULL || sp_sdp_media_is_rejected (m))
    {
      g_set_error_literal (error, SP_SIP_ERROR, SP_SDP_ERROR_NOT_ACCEPTABLE,
                           "No common codec: the peer offers no audio stream");
      return FALSE;
    }

  for (guint i = 0; i < sp_sdp_media_get_n_formats (m); i++)
    {
      gint pt = sp_sdp_media_get_payload_type (m, i);
      SpSdpRtpmap map;
      const SpCodecInfo *info = NULL;

      append_format_name (theirs, m, i);
      if (pt < 0)
        continue;
      if (sp_sdp_media_get_rtpmap (m, pt, &map) && map.encoding != NULL)
        {
          if (g_ascii_strcasecmp (map.encoding, "telephone-event") == 0 && map.clock_rate == 8000)
            {
              if (out->dtmf_pt < 0)
                out->dtmf_pt = pt;
              continue;
            }
          info = sp_codec_info_for_encoding (map.encoding, map.clock_rate);
        }
      else if (pt < 96)
        info = sp_codec_info_for_payload_type (pt);
      /* Only the codecs we offer; their static payload types only. */
      if (found == NULL && info != NULL && info->payload_type == (guint) pt)
        found = info;
    }
  if (found == NULL)
    {
      g_set_error (error, SP_SIP_ERROR, SP_SDP_ERROR_NOT_ACCEPTABLE,
                   "No common codec: the peer offers %s; we support PCMU, PCMA, G722",
                   theirs->len ? theirs->str : "nothing");
      return FALSE;
    }
  out->codec = found->id;
  conn = sp_sdp_media_get_effective_connection (m);
  if (conn != NULL && conn->address != NULL)
    g_strlcpy (out->remote_address, conn->address, sizeof out->remote_address);
  out->remote_port = sp_sdp_media_get_port (m);
  out->remote_direction = sp_sdp_media_get_direction (m);
  out->ptime = sp_sdp_media_get_ptime (m) > 0 ? (guint) sp_sdp_media_get_ptime (m) : 20;
  return TRUE;
}
