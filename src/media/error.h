#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Errors of the media layer (RTP/RTCP parsing, codecs, offer/answer,
 * sessions). Audio device errors are in SP_AUDIO_ERROR. */
#define SP_MEDIA_ERROR (sp_media_error_quark ())

typedef enum
{
  SP_MEDIA_ERROR_FAILED = 1,
  /* A packet is malformed (bad version, lengths past the end...). */
  SP_MEDIA_ERROR_MALFORMED,
  /* Offer/answer: no codec both sides support. */
  SP_MEDIA_ERROR_NO_COMMON_CODEC,
  /* Offer/answer: the stream was rejected (port 0) or is missing. */
  SP_MEDIA_ERROR_REJECTED,
  /* Offer/answer: something in the SDP we cannot use (no address...). */
  SP_MEDIA_ERROR_NOT_ACCEPTABLE,
  /* Sockets could not be bound. */
  SP_MEDIA_ERROR_BIND,
  /* Offer/answer: an offer arrived while ours was pending (SIP 491). */
  SP_MEDIA_ERROR_GLARE,
} SpMediaErrorCode;

GQuark sp_media_error_quark (void);

G_END_DECLS
