#include "media/codec.h"

#include <opus.h>
#include <spandsp.h>
#include <string.h>

/* Opus: 24 kbit/s is transparent for wideband speech; the packet size
 * cap keeps every payload within what the jitter buffer stores. */
#define OPUS_BITRATE     24000
#define OPUS_MAX_PAYLOAD 960
/* The longest frame libopus decodes or conceals at once: 120 ms at 48 kHz. */
#define OPUS_MAX_FRAME 5760
/* Frames of a packet time that is not an Opus frame size (30, 50 ms). */
#define OPUS_SPLIT_MS 10

typedef struct
{
  gsize (*encode) (SpCodec *codec, const gint16 *pcm, gsize n, guint8 *out);
  gsize (*decode) (SpCodec *codec, const guint8 *in, gsize n, gint16 *pcm);
  void (*reset) (SpCodec *codec);
  /* Audio samples per payload byte: 1 for G.711, 2 for G.722 (64 kbit/s
   * at 16 kHz). */
  guint samples_per_byte;
} CodecVTable;

struct _SpCodec
{
  const SpCodecInfo *info;
  const CodecVTable *vtable;
  g711_state_t *g711;
  g722_encode_state_t *g722_enc;
  g722_decode_state_t *g722_dec;
  OpusEncoder *opus_enc;
  OpusDecoder *opus_dec;
  OpusRepacketizer *opus_rp;
  /* What the encoder was told, to tell a new one (sp_codec_set_low_delay). */
  gboolean opus_low_delay;
  int opus_bandwidth;
  opus_int32 opus_bitrate;
  int opus_loss;
  guint rate;
  gint16 scratch[OPUS_MAX_FRAME]; /* Opus concealment of an odd length */
};

static const SpCodecInfo pcmu_info = { SP_CODEC_PCMU, "PCMU", 0, 8000, 8000, 1, FALSE };
static const SpCodecInfo pcma_info = { SP_CODEC_PCMA, "PCMA", 8, 8000, 8000, 1, FALSE };
static const SpCodecInfo g722_info = { SP_CODEC_G722, "G722", 9, 8000, 16000, 1, FALSE };
/* RFC 7587 7: always "opus/48000/2", whatever is sent. */
static const SpCodecInfo opus_info = { SP_CODEC_OPUS, "opus", 111, 48000, 16000, 2, TRUE };

/* Preference when we offer: Opus, G.722, then the G.711 laws. */
static const SpCodecInfo *const all_codecs[] = { &opus_info, &g722_info, &pcma_info, &pcmu_info };

static gsize
g711_enc (SpCodec *codec, const gint16 *pcm, gsize n, guint8 *out)
{
  return (gsize) g711_encode (codec->g711, out, pcm, (int) n);
}

static gsize
g711_dec (SpCodec *codec, const guint8 *in, gsize n, gint16 *pcm)
{
  return (gsize) g711_decode (codec->g711, pcm, in, (int) n);
}

static void
g711_reset (SpCodec *codec)
{
}

static gsize
g722_enc (SpCodec *codec, const gint16 *pcm, gsize n, guint8 *out)
{
  return (gsize) g722_encode (codec->g722_enc, out, pcm, (int) n);
}

static gsize
g722_dec (SpCodec *codec, const guint8 *in, gsize n, gint16 *pcm)
{
  return (gsize) g722_decode (codec->g722_dec, pcm, in, (int) n);
}

static void
g722_reset (SpCodec *codec)
{
  g722_decode_init (codec->g722_dec, 64000, 0);
}

/* One Opus frame, or (30, 50 ms: not Opus frame sizes) 10 ms frames
 * joined into one packet by the repacketizer (RFC 6716 3.2.5, code 3). */
static gsize
opus_enc (SpCodec *codec, const gint16 *pcm, gsize n, guint8 *out)
{
  gsize split = codec->rate * OPUS_SPLIT_MS / 1000;
  guint8 frames[6][OPUS_MAX_PAYLOAD / 6];
  gsize n_frames;
  opus_int32 len;

  len = opus_encode (codec->opus_enc, pcm, (int) n, out, OPUS_MAX_PAYLOAD);
  if (len != OPUS_BAD_ARG)
    return len > 0 ? (gsize) len : 0;
  n_frames = n / split;
  if (n % split != 0 || n_frames > G_N_ELEMENTS (frames))
    return 0;
  opus_repacketizer_init (codec->opus_rp);
  for (gsize i = 0; i < n_frames; i++)
    {
      len =
          opus_encode (codec->opus_enc, pcm + i * split, (int) split, frames[i], sizeof frames[i]);
      if (len <= 0 || opus_repacketizer_cat (codec->opus_rp, frames[i], len) != OPUS_OK)
        return 0;
    }
  len = opus_repacketizer_out (codec->opus_rp, out, OPUS_MAX_PAYLOAD);
  return len > 0 ? (gsize) len : 0;
}

/* The decoder's output, or concealment of the packet's length when it does
 * not decode (hostile or cut), so the stream keeps its timing. */
static gsize
opus_dec (SpCodec *codec, const guint8 *in, gsize n, gint16 *pcm)
{
  int got = opus_decode (codec->opus_dec, in, (opus_int32) n, pcm, OPUS_MAX_FRAME, 0);

  if (got >= 0)
    return (gsize) got;
  return sp_codec_conceal (codec, pcm, sp_codec_samples_for_payload (codec, in, n));
}

static void
opus_reset (SpCodec *codec)
{
  opus_decoder_ctl (codec->opus_dec, OPUS_RESET_STATE);
}

static const CodecVTable g711_vtable = { g711_enc, g711_dec, g711_reset, 1 };
static const CodecVTable g722_vtable = { g722_enc, g722_dec, g722_reset, 2 };
/* Variable rate: samples_per_byte only bounds sizes (8 bytes per sample
 * would be far above any Opus rate). */
static const CodecVTable opus_vtable = { opus_enc, opus_dec, opus_reset, 1 };

const SpCodecInfo *
sp_codec_info_for_payload_type (guint payload_type)
{
  for (guint i = 0; i < G_N_ELEMENTS (all_codecs); i++)
    if (!all_codecs[i]->dynamic && all_codecs[i]->payload_type == payload_type)
      return all_codecs[i];
  return NULL;
}

const SpCodecInfo *
sp_codec_info_for_id (SpCodecId id)
{
  for (guint i = 0; i < G_N_ELEMENTS (all_codecs); i++)
    if (all_codecs[i]->id == id)
      return all_codecs[i];
  return NULL;
}

const SpCodecInfo *
sp_codec_info_for_encoding (const char *encoding, guint clock_rate)
{
  for (guint i = 0; i < G_N_ELEMENTS (all_codecs); i++)
    if (g_ascii_strcasecmp (all_codecs[i]->encoding, encoding) == 0 &&
        all_codecs[i]->clock_rate == clock_rate)
      return all_codecs[i];
  return NULL;
}

const SpCodecInfo *const *
sp_codec_info_list (guint *n_out)
{
  *n_out = G_N_ELEMENTS (all_codecs);
  return all_codecs;
}

/* A new encoder in the mode asked for, told what the last one was. The
 * application cannot change once an encoder exists (libopus), so a change
 * of mode is a new encoder; the decoder at the far end follows any mode
 * switch, as it does SILK/CELT switches within one encoder. */
static gboolean
opus_encoder_setup (SpCodec *codec)
{
  int err = OPUS_OK;
  OpusEncoder *enc = opus_encoder_create (
      (opus_int32) codec->rate, 1,
      codec->opus_low_delay ? OPUS_APPLICATION_RESTRICTED_LOWDELAY : OPUS_APPLICATION_VOIP, &err);

  if (err != OPUS_OK)
    return FALSE;
  g_clear_pointer (&codec->opus_enc, opus_encoder_destroy);
  codec->opus_enc = enc;
  opus_encoder_ctl (enc, OPUS_SET_BITRATE (codec->opus_bitrate));
  opus_encoder_ctl (enc, OPUS_SET_MAX_BANDWIDTH (codec->opus_bandwidth));
  opus_encoder_ctl (enc, OPUS_SET_SIGNAL (OPUS_SIGNAL_VOICE));
  /* FEC is negotiated (useinbandfec=1) and costs nothing until a loss
   * is reported (sp_codec_set_expected_loss). SILK carries it: the low
   * delay mode (CELT only) has none. */
  opus_encoder_ctl (enc, OPUS_SET_INBAND_FEC (1));
  opus_encoder_ctl (enc, OPUS_SET_PACKET_LOSS_PERC (codec->opus_loss));
  return TRUE;
}

static gboolean
opus_setup (SpCodec *codec)
{
  int err = OPUS_OK;

  codec->opus_bitrate = OPUS_BITRATE;
  codec->opus_bandwidth = OPUS_BANDWIDTH_FULLBAND;
  if (!opus_encoder_setup (codec))
    return FALSE;
  codec->opus_dec = opus_decoder_create ((opus_int32) codec->rate, 1, &err);
  if (err != OPUS_OK)
    return FALSE;
  codec->opus_rp = opus_repacketizer_create ();
  return codec->opus_rp != NULL;
}

SpCodec *
sp_codec_new (SpCodecId id)
{
  const SpCodecInfo *info = sp_codec_info_for_id (id);

  g_return_val_if_fail (info != NULL, NULL);
  return sp_codec_new_for_rate (id, info->sample_rate);
}

SpCodec *
sp_codec_new_for_rate (SpCodecId id, guint sample_rate)
{
  SpCodec *codec;
  const SpCodecInfo *info = sp_codec_info_for_id (id);

  g_return_val_if_fail (info != NULL, NULL);
  if (id == SP_CODEC_OPUS ? sample_rate != 8000 && sample_rate != 16000 && sample_rate != 48000
                          : sample_rate != info->sample_rate)
    return NULL;
  codec = g_new0 (SpCodec, 1);
  codec->info = info;
  codec->rate = sample_rate;
  if (id == SP_CODEC_OPUS)
    {
      codec->vtable = &opus_vtable;
      if (!opus_setup (codec))
        {
          sp_codec_free (codec);
          return NULL;
        }
    }
  else if (id == SP_CODEC_G722)
    {
      codec->vtable = &g722_vtable;
      codec->g722_enc = g722_encode_init (NULL, 64000, 0);
      codec->g722_dec = g722_decode_init (NULL, 64000, 0);
    }
  else
    {
      codec->vtable = &g711_vtable;
      codec->g711 = g711_init (NULL, id == SP_CODEC_PCMU ? G711_ULAW : G711_ALAW);
    }
  return codec;
}

void
sp_codec_free (SpCodec *codec)
{
  if (codec == NULL)
    return;
  if (codec->g711)
    g711_free (codec->g711);
  if (codec->g722_enc)
    g722_encode_free (codec->g722_enc);
  if (codec->g722_dec)
    g722_decode_free (codec->g722_dec);
  if (codec->opus_enc)
    opus_encoder_destroy (codec->opus_enc);
  if (codec->opus_dec)
    opus_decoder_destroy (codec->opus_dec);
  if (codec->opus_rp)
    opus_repacketizer_destroy (codec->opus_rp);
  g_free (codec);
}

const SpCodecInfo *
sp_codec_get_info (SpCodec *codec)
{
  return codec->info;
}

guint
sp_codec_get_sample_rate (SpCodec *codec)
{
  return codec->rate;
}

gsize
sp_codec_bytes_for_samples (SpCodec *codec, gsize n_samples)
{
  return n_samples / codec->vtable->samples_per_byte;
}

gsize
sp_codec_samples_for_bytes (SpCodec *codec, gsize n_bytes)
{
  return n_bytes * codec->vtable->samples_per_byte;
}

gsize
sp_codec_samples_for_payload (SpCodec *codec, const guint8 *payload, gsize n_bytes)
{
  int n;

  if (codec->opus_dec == NULL)
    return sp_codec_samples_for_bytes (codec, n_bytes);
  n = opus_packet_get_nb_samples (payload, (opus_int32) n_bytes, (opus_int32) codec->rate);
  return n > 0 ? (gsize) n : 0;
}

guint32
sp_codec_rtp_units_for_samples (SpCodec *codec, gsize n_samples)
{
  return (guint32) (n_samples * codec->info->clock_rate / codec->rate);
}

gsize
sp_codec_encode (SpCodec *codec, const gint16 *pcm, gsize n_samples, guint8 *out, gsize out_size)
{
  if (codec->opus_enc != NULL)
    {
      /* The encoder may write up to OPUS_MAX_PAYLOAD. */
      if (out_size < OPUS_MAX_PAYLOAD)
        return 0;
      return codec->vtable->encode (codec, pcm, n_samples, out);
    }
  /* Whole bytes only: G.722 packs two samples per byte. */
  n_samples -= n_samples % codec->vtable->samples_per_byte;
  if (sp_codec_bytes_for_samples (codec, n_samples) > out_size)
    return 0;
  return codec->vtable->encode (codec, pcm, n_samples, out);
}

gsize
sp_codec_decode (SpCodec *codec, const guint8 *payload, gsize n_bytes, gint16 *pcm, gsize pcm_size)
{
  if (codec->opus_dec != NULL)
    {
      gsize n = sp_codec_samples_for_payload (codec, payload, n_bytes);
      /* Too long for @pcm (or not Opus): decode into scratch and cut, or
       * conceal one 20 ms frame so the stream keeps moving. */
      if (n > 0 && n <= pcm_size)
        return codec->vtable->decode (codec, payload, n_bytes, pcm);
      if (n > 0 && n <= G_N_ELEMENTS (codec->scratch) &&
          opus_decode (codec->opus_dec, payload, (opus_int32) n_bytes, codec->scratch,
                       OPUS_MAX_FRAME, 0) > 0)
        {
          memcpy (pcm, codec->scratch, pcm_size * sizeof (gint16));
          return pcm_size;
        }
      return sp_codec_conceal (codec, pcm, MIN (pcm_size, codec->rate / 50));
    }
  n_bytes = MIN (n_bytes, pcm_size / codec->vtable->samples_per_byte);
  return codec->vtable->decode (codec, payload, n_bytes, pcm);
}

gboolean
sp_codec_has_plc (SpCodec *codec)
{
  return codec->opus_dec != NULL;
}

/* libopus conceals in multiples of 2.5 ms: an odd length is concealed
 * rounded up into scratch and cut. */
gsize
sp_codec_conceal (SpCodec *codec, gint16 *pcm, gsize n)
{
  gsize quantum = codec->rate / 400;
  gsize whole = (n + quantum - 1) / quantum * quantum;

  if (codec->opus_dec == NULL || n == 0)
    return 0;
  if (whole > G_N_ELEMENTS (codec->scratch))
    return 0;
  if (whole == n)
    {
      if (opus_decode (codec->opus_dec, NULL, 0, pcm, (int) n, 0) < 0)
        memset (pcm, 0, n * sizeof (gint16));
      return n;
    }
  if (opus_decode (codec->opus_dec, NULL, 0, codec->scratch, (int) whole, 0) < 0)
    memset (codec->scratch, 0, whole * sizeof (gint16));
  memcpy (pcm, codec->scratch, n * sizeof (gint16));
  return n;
}

gsize
sp_codec_decode_fec (SpCodec *codec, const guint8 *next_payload, gsize n_bytes, gint16 *pcm,
                     gsize n)
{
  gsize quantum;

  if (codec->opus_dec == NULL || n == 0)
    return 0;
  quantum = codec->rate / 400;
  /* decode_fec needs the lost frame's exact length in 2.5 ms steps. */
  if (n % quantum != 0 || n > OPUS_MAX_FRAME ||
      opus_decode (codec->opus_dec, next_payload, (opus_int32) n_bytes, pcm, (int) n, 1) < 0)
    return sp_codec_conceal (codec, pcm, n);
  return n;
}

void
sp_codec_set_peer_limits (SpCodec *codec, guint max_playback_rate, guint max_bitrate)
{
  int bandwidth = OPUS_BANDWIDTH_FULLBAND;

  if (codec->opus_enc == NULL)
    return;
  if (max_playback_rate > 0 && max_playback_rate <= 8000)
    bandwidth = OPUS_BANDWIDTH_NARROWBAND;
  else if (max_playback_rate > 0 && max_playback_rate <= 12000)
    bandwidth = OPUS_BANDWIDTH_MEDIUMBAND;
  else if (max_playback_rate > 0 && max_playback_rate <= 16000)
    bandwidth = OPUS_BANDWIDTH_WIDEBAND;
  codec->opus_bandwidth = bandwidth;
  opus_encoder_ctl (codec->opus_enc, OPUS_SET_MAX_BANDWIDTH (bandwidth));
  /* RFC 7587 6.1: 6000..510000 bit/s. */
  if (max_bitrate == 0)
    max_bitrate = OPUS_BITRATE;
  codec->opus_bitrate = (opus_int32) CLAMP (max_bitrate, 6000, OPUS_BITRATE);
  opus_encoder_ctl (codec->opus_enc, OPUS_SET_BITRATE (codec->opus_bitrate));
}

void
sp_codec_set_expected_loss (SpCodec *codec, guint percent)
{
  if (codec->opus_enc == NULL)
    return;
  codec->opus_loss = (int) MIN (percent, 100);
  opus_encoder_ctl (codec->opus_enc, OPUS_SET_PACKET_LOSS_PERC (codec->opus_loss));
}

gboolean
sp_codec_set_low_delay (SpCodec *codec, gboolean low_delay)
{
  if (codec->opus_enc == NULL)
    return FALSE;
  if (codec->opus_low_delay == !!low_delay)
    return TRUE;
  codec->opus_low_delay = !!low_delay;
  if (opus_encoder_setup (codec))
    return TRUE;
  codec->opus_low_delay = !low_delay; /* the old encoder stays */
  return FALSE;
}

gboolean
sp_codec_get_low_delay (SpCodec *codec)
{
  return codec->opus_low_delay;
}

void
sp_codec_reset (SpCodec *codec)
{
  codec->vtable->reset (codec);
}
