#include "media/codec.h"

#include <spandsp.h>

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
};

static const SpCodecInfo pcmu_info = { SP_CODEC_PCMU, "PCMU", 0, 8000, 8000 };
static const SpCodecInfo pcma_info = { SP_CODEC_PCMA, "PCMA", 8, 8000, 8000 };
static const SpCodecInfo g722_info = { SP_CODEC_G722, "G722", 9, 8000, 16000 };

/* Preference when we offer: wideband first, then the G.711 laws. */
static const SpCodecInfo *const all_codecs[] = { &g722_info, &pcmu_info, &pcma_info };

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

static const CodecVTable g711_vtable = { g711_enc, g711_dec, g711_reset, 1 };
static const CodecVTable g722_vtable = { g722_enc, g722_dec, g722_reset, 2 };

const SpCodecInfo *
sp_codec_info_for_payload_type (guint payload_type)
{
  for (guint i = 0; i < G_N_ELEMENTS (all_codecs); i++)
    if (all_codecs[i]->payload_type == payload_type)
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

SpCodec *
sp_codec_new (SpCodecId id)
{
  SpCodec *codec;
  const SpCodecInfo *info = sp_codec_info_for_payload_type (id);

  g_return_val_if_fail (info != NULL, NULL);
  codec = g_new0 (SpCodec, 1);
  codec->info = info;
  if (id == SP_CODEC_G722)
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
  g_free (codec);
}

const SpCodecInfo *
sp_codec_get_info (SpCodec *codec)
{
  return codec->info;
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

guint32
sp_codec_rtp_units_for_samples (SpCodec *codec, gsize n_samples)
{
  return (guint32) (n_samples * codec->info->clock_rate / codec->info->sample_rate);
}

gsize
sp_codec_encode (SpCodec *codec, const gint16 *pcm, gsize n_samples, guint8 *out, gsize out_size)
{
  /* Whole bytes only: G.722 packs two samples per byte. */
  n_samples -= n_samples % codec->vtable->samples_per_byte;
  if (sp_codec_bytes_for_samples (codec, n_samples) > out_size)
    return 0;
  return codec->vtable->encode (codec, pcm, n_samples, out);
}

gsize
sp_codec_decode (SpCodec *codec, const guint8 *payload, gsize n_bytes, gint16 *pcm, gsize pcm_size)
{
  n_bytes = MIN (n_bytes, pcm_size / codec->vtable->samples_per_byte);
  return codec->vtable->decode (codec, payload, n_bytes, pcm);
}

void
sp_codec_reset (SpCodec *codec)
{
  codec->vtable->reset (codec);
}
