#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The audio codecs a call can use, behind one tiny vtable: PCMU and PCMA
 * (G.711) and G.722 through spandsp, and Opus (RFC 7587) through libopus.
 * A codec instance holds both an encoder and a decoder state (G.722 and
 * Opus are stateful) and belongs to one thread, the media thread.
 * Encoding and decoding never allocate.
 *
 * Opus has an RTP clock of 48000 whatever the audio rate (RFC 7587 4.1)
 * and runs here at 16 kHz by default (wideband, the rate the devices and
 * the rest of the audio path already take); libopus resamples inside, so
 * a peer's 48 kHz stereo stream decodes into our 16 kHz mono. It brings
 * its own loss concealment and in-band FEC (sp_codec_conceal,
 * sp_codec_decode_fec). */

typedef enum
{
  SP_CODEC_PCMU = 0,
  SP_CODEC_PCMA = 8,
  SP_CODEC_G722 = 9,
  /* Dynamic: the value is the payload type we offer it on. */
  SP_CODEC_OPUS = 111,
} SpCodecId;

typedef struct
{
  SpCodecId id;
  const char *encoding; /* rtpmap name: "PCMU", "PCMA", "G722" */
  guint payload_type;   /* the static RTP payload type, or the dynamic one we offer */
  guint clock_rate;     /* RTP clock: 8000 for G.711/G.722 (RFC 3551 4.5.2), 48000 Opus */
  guint sample_rate;    /* default audio rate: 8000, or 16000 for G.722 and Opus */
  guint channels;       /* rtpmap channels: 1, or 2 for Opus (RFC 7587 7) */
  gboolean dynamic;     /* no static payload type (Opus) */
} SpCodecInfo;

typedef struct _SpCodec SpCodec;

/* The codec for a static payload type, or NULL (never a dynamic one). */
const SpCodecInfo *sp_codec_info_for_payload_type (guint payload_type);
/* The codec by id, or NULL. */
const SpCodecInfo *sp_codec_info_for_id (SpCodecId id);
/* The codec by rtpmap encoding name (case-insensitive) and clock rate. */
const SpCodecInfo *sp_codec_info_for_encoding (const char *encoding, guint clock_rate);
/* All supported codecs, in our preference order; @n_out gets the count. */
const SpCodecInfo *const *sp_codec_info_list (guint *n_out);

/* At the codec's default sample rate. */
SpCodec *sp_codec_new (SpCodecId id);
/* At @sample_rate: Opus takes 8000, 16000 or 48000; the others only their
 * own rate. NULL if the rate does not fit. */
SpCodec *sp_codec_new_for_rate (SpCodecId id, guint sample_rate);
void sp_codec_free (SpCodec *codec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpCodec, sp_codec_free)

const SpCodecInfo *sp_codec_get_info (SpCodec *codec);
/* The audio rate this instance encodes and decodes at. */
guint sp_codec_get_sample_rate (SpCodec *codec);

/* Bytes of payload for @n_samples audio samples, and the reverse (fixed
 * rate codecs: G.711, G.722; for Opus an upper bound and 0). */
gsize sp_codec_bytes_for_samples (SpCodec *codec, gsize n_samples);
gsize sp_codec_samples_for_bytes (SpCodec *codec, gsize n_bytes);
/* The audio samples @payload decodes to (Opus reads its TOC byte); 0 for
 * a payload that is not valid. */
gsize sp_codec_samples_for_payload (SpCodec *codec, const guint8 *payload, gsize n_bytes);
/* RTP timestamp units for @n_samples audio samples (G.722: half; Opus at
 * 16 kHz: three times). */
guint32 sp_codec_rtp_units_for_samples (SpCodec *codec, gsize n_samples);

/* Encodes @n_samples at the codec's sample rate into @out; returns the
 * bytes written, or 0 if @out_size is too small. */
gsize sp_codec_encode (SpCodec *codec, const gint16 *pcm, gsize n_samples, guint8 *out,
                       gsize out_size);
/* Decodes @n_bytes into @pcm; returns the samples written (at most
 * @pcm_size: longer payloads are cut). */
gsize sp_codec_decode (SpCodec *codec, const guint8 *payload, gsize n_bytes, gint16 *pcm,
                       gsize pcm_size);
/* Whether the codec conceals losses itself (Opus); the jitter buffer's
 * pitch-repetition PLC covers the others. */
gboolean sp_codec_has_plc (SpCodec *codec);
/* Writes @n samples of concealment (a lost packet, an underrun) into
 * @pcm and returns @n; 0 if the codec has no concealment of its own. */
gsize sp_codec_conceal (SpCodec *codec, gint16 *pcm, gsize n);
/* A lost packet of @n samples rebuilt from the in-band FEC that the next
 * packet (@next_payload) carries (RFC 7587 5, Opus LBRR); concealment when
 * it carries none. Returns @n, or 0 if the codec has no FEC. */
gsize sp_codec_decode_fec (SpCodec *codec, const guint8 *next_payload, gsize n_bytes, gint16 *pcm,
                           gsize n);
/* The loss the peer reports on what we send (RTCP fraction lost, 0..100):
 * Opus then adds in-band FEC sized for it (none at 0). */
void sp_codec_set_expected_loss (SpCodec *codec, guint percent);
/* Opus: encodes in libopus's restricted low-delay mode (CELT only: 2.5 ms
 * of look-ahead instead of 6.5, no in-band FEC) or, FALSE, in its VoIP mode
 * (SILK for speech, FEC when losses are expected); the default is VoIP.
 * FALSE for other codecs, and when a new encoder could not be made (the
 * old one stays). */
gboolean sp_codec_set_low_delay (SpCodec *codec, gboolean low_delay);
gboolean sp_codec_get_low_delay (SpCodec *codec);
/* What the peer's fmtp asks (Opus; 0 = no limit): encode no wider than
 * it plays (maxplaybackrate) and no faster than @max_bitrate bit/s. */
void sp_codec_set_peer_limits (SpCodec *codec, guint max_playback_rate, guint max_bitrate);
/* Forget decoder history (after a stream restart). */
void sp_codec_reset (SpCodec *codec);

G_END_DECLS
