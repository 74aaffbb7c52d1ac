#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The audio codecs a call can use, behind one tiny vtable: PCMU and PCMA
 * (G.711) and G.722, all through spandsp. A codec instance holds both an
 * encoder and a decoder state (G.722 is stateful) and belongs to one
 * thread, the media thread. Encoding and decoding never allocate. */

typedef enum
{
  SP_CODEC_PCMU = 0,
  SP_CODEC_PCMA = 8,
  SP_CODEC_G722 = 9,
} SpCodecId;

typedef struct
{
  SpCodecId id;
  const char *encoding; /* rtpmap name: "PCMU", "PCMA", "G722" */
  guint payload_type;   /* the static RTP payload type */
  guint clock_rate;     /* RTP clock: 8000 for all three (RFC 3551 4.5.2) */
  guint sample_rate;    /* audio: 8000, or 16000 for G.722 */
} SpCodecInfo;

typedef struct _SpCodec SpCodec;

/* The codec for a static payload type, or NULL. */
const SpCodecInfo *sp_codec_info_for_payload_type (guint payload_type);
/* The codec by rtpmap encoding name (case-insensitive) and clock rate. */
const SpCodecInfo *sp_codec_info_for_encoding (const char *encoding, guint clock_rate);
/* All supported codecs, in our preference order; @n_out gets the count. */
const SpCodecInfo *const *sp_codec_info_list (guint *n_out);

SpCodec *sp_codec_new (SpCodecId id);
void sp_codec_free (SpCodec *codec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpCodec, sp_codec_free)

const SpCodecInfo *sp_codec_get_info (SpCodec *codec);

/* Bytes of payload for @n_samples audio samples, and the reverse. */
gsize sp_codec_bytes_for_samples (SpCodec *codec, gsize n_samples);
gsize sp_codec_samples_for_bytes (SpCodec *codec, gsize n_bytes);
/* RTP timestamp units for @n_samples audio samples (G.722: half). */
guint32 sp_codec_rtp_units_for_samples (SpCodec *codec, gsize n_samples);

/* Encodes @n_samples at the codec's sample rate into @out; returns the
 * bytes written, or 0 if @out_size is too small. */
gsize sp_codec_encode (SpCodec *codec, const gint16 *pcm, gsize n_samples, guint8 *out,
                       gsize out_size);
/* Decodes @n_bytes into @pcm; returns the samples written (at most
 * @pcm_size: longer payloads are cut). */
gsize sp_codec_decode (SpCodec *codec, const guint8 *payload, gsize n_bytes, gint16 *pcm,
                       gsize pcm_size);
/* Forget decoder history (after a stream restart). */
void sp_codec_reset (SpCodec *codec);

G_END_DECLS
