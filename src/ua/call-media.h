#pragma once

#include <glib.h>

#include "media/codec.h"
#include "sip/sdp.h"

G_BEGIN_DECLS

/* SDP offer/answer (RFC 3264) for one audio stream, as the phone does
 * it: we offer PCMU, PCMA, G722 and telephone-event; we answer with the
 * first of the offerer's codecs we support. */

#define SP_CALL_DTMF_PT 101

typedef struct
{
  SpCodecId codec;
  gint dtmf_pt; /* -1 when the peer has no telephone-event */
  char remote_address[48];
  guint16 remote_port;
  SpSdpDirection remote_direction;
  guint ptime;
} SpCallMediaParams;

/* Our SDP. @chosen NULL: an offer of everything we support; else an
 * answer naming only @chosen's codec (and DTMF if the peer has it). */
char *sp_call_media_build_sdp (const char *local_host, guint16 rtp_port, guint64 session_id,
                               guint64 version, SpSdpDirection direction,
                               const SpCallMediaParams *chosen);

/* Reads the peer's SDP (offer or answer). Fails with SP_SIP_ERROR 488
 * and a message naming both codec lists when nothing matches. */
gboolean sp_call_media_negotiate (const guint8 *sdp, gsize len, SpCallMediaParams *out,
                                  GError **error);

/* "PCMU/8000" */
const char *sp_call_media_codec_name (SpCodecId codec);

G_END_DECLS
