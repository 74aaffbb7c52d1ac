#include "media/offer-answer.h"
#include "media/comfort-noise.h"
#include "media/error.h"
#include "media/sdes.h"
#include "sip/error.h"

#include <string.h>

#include "i18n.h"

#define MAX_CODECS      8
#define DEFAULT_PTIME   20
#define MIN_PTIME       10
#define MAX_PTIME       60
#define DTMF_CLOCK_RATE 8000
#define DTMF_EVENTS     "0-16"
/* telephone-event/48000 beside Opus (RFC 4733 2.1: the audio's clock). */
#define DTMF_WIDE_CLOCK_RATE 48000
#define DTMF_WIDE_PT         110
/* Comfort noise (RFC 3389) at the RTP clock of G.711 and G.722 (RFC 3551
 * 4.5.2: G.722's clock is 8000 although it samples at 16 kHz, so CN/8000
 * is its CN too). Opus has its own DTX and no CN. */
#define CN_CLOCK_RATE 8000
/* What we receive with Opus (RFC 7587 6.1): mono, at the 16 kHz the audio
 * path runs at, and FEC welcome. */
#define OPUS_FMTP                                                                                  \
  "maxplaybackrate=16000;sprop-maxcapturerate=16000;stereo=0;sprop-stereo=0;useinbandfec=1"
/* fmtp values longer than this are not numbers we use. */
#define FMTP_MAX_VALUE 16

static const SpCodecId default_codecs[] = { SP_CODEC_OPUS, SP_CODEC_G722, SP_CODEC_PCMA,
                                            SP_CODEC_PCMU };

/* The SDES suites we offer, in preference order (tags 1, 2, 3): the one
 * every SDES peer has (RFC 4568's mandatory suite) first, AEAD next, the
 * 32-bit tag last. */
static const SpSrtpSuite offered_suites[SP_SRTP_N_SUITES] = {
  SP_SRTP_AES_CM_128_HMAC_SHA1_80,
  SP_SRTP_AEAD_AES_128_GCM,
  SP_SRTP_AES_CM_128_HMAC_SHA1_32,
};

/* RFC 8842 5: a tls-id has at least 120 bits of randomness; 16 random
 * bytes as hex (hex digits are tls-id characters). */
#define TLS_ID_CHARS 32
/* What we accept from a peer: RFC 8842's 20..255 characters. */
#define TLS_ID_MIN 20
#define TLS_ID_MAX 255

struct _SpOfferAnswer
{
  /* Configuration. */
  char *local_address;
  guint16 rtp_port, rtcp_port;
  SpCodecId codecs[MAX_CODECS];
  guint n_codecs;
  guint ptime_ms;
  gboolean fixed_ptime;
  gint dtmf_pt;
  gboolean rtcp_mux_ok;
  char *username;
  gboolean hold;
  SpMediaEncryption encryption;
  gboolean sdes_ok; /* the SIP hop is TLS */
  /* Our SDES key per suite (by SpSrtpSuite), made at first use. */
  SpSdesCrypto local_crypto[SP_SRTP_N_SUITES];
  gboolean have_local_crypto;

  /* o= line: the version goes up when what we send changes. */
  guint64 session_id, version;
  char *last_sent;

  /* Our offer waiting for its answer, and what it allowed. */
  SpSdpSession *pending_offer;
  gboolean offered_send, offered_recv;
  gboolean offered_sdes;
  /* Preferred: the first offer names DTLS-SRTP's own profile (peers such
   * as baresip's dtls_srtp and linphonec take DTLS only there); after a
   * refusal of it (488) the call offers again with avp_fallback. */
  gboolean offered_dtls_profile, avp_fallback;

  /* What is in force. */
  gboolean negotiated;
  SpMediaParams params;
  char *remote_address, *remote_rtcp_address;
  SpSdpDirection local_direction, remote_direction;
  gboolean remote_hold;
  /* SDES in force: the suite, our key (with the tag agreed) and theirs. */
  gboolean sdes_active;
  SpSdesCrypto sdes_tx, sdes_rx;

  /* The last failure in the user's language (see get_error_text). */
  char *error_text;

  /* DTLS-SRTP: ours (config), and what the last exchange settled. */
  char *dtls_fingerprint;
  gboolean dtls_active;
  gboolean dtls_profile; /* the stream is on UDP/TLS/RTP/SAVP(F) */
  SpDtlsSetup dtls_local_setup, dtls_remote_setup;
  char *dtls_remote_hash, *dtls_remote_fingerprint;
  /* RFC 8842: our a=tls-id for the association in force (a new one for
   * each new association we answer), and the peer's, NULL when it sends
   * none. */
  char local_tls_id[TLS_ID_CHARS + 1];
  char *dtls_remote_tls_id;
};

/* What the peer's SDP says it wants, c=0.0.0.0 included. */
typedef struct
{
  gboolean sends, receives;
} PeerWish;

/* Fails with @format twice: the GError gets the English text (it goes to
 * the peer in a Warning header, and to the log), error_text the
 * translation the window shows. */
G_GNUC_PRINTF (4, 5)
static void
fail (SpOfferAnswer *oa, GError **error, SpMediaErrorCode code, const char *format, ...)
{
  va_list args, copy;

  va_start (args, format);
  va_copy (copy, args);
  g_free (oa->error_text);
  oa->error_text = g_strdup_vprintf (_ (format), copy);
  va_end (copy);
  if (error != NULL)
    {
      g_autofree char *english = g_strdup_vprintf (format, args);
      g_set_error_literal (error, SP_MEDIA_ERROR, code, english);
    }
  va_end (args);
}

/* ---- Helpers --------------------------------------------------------------- */

static SpSdpDirection
direction_from_flags (gboolean send, gboolean recv)
{
  if (send && recv)
    return SP_SDP_DIRECTION_SENDRECV;
  if (send)
    return SP_SDP_DIRECTION_SENDONLY;
  if (recv)
    return SP_SDP_DIRECTION_RECVONLY;
  return SP_SDP_DIRECTION_INACTIVE;
}

static gboolean
direction_sends (SpSdpDirection d)
{
  return d == SP_SDP_DIRECTION_SENDRECV || d == SP_SDP_DIRECTION_SENDONLY;
}

static gboolean
direction_receives (SpSdpDirection d)
{
  return d == SP_SDP_DIRECTION_SENDRECV || d == SP_SDP_DIRECTION_RECVONLY;
}

static SpSdpAddrType
addr_type_of (const char *address)
{
  return strchr (address, ':') != NULL ? SP_SDP_ADDR_IP6 : SP_SDP_ADDR_IP4;
}

/* The profiles of DTLS-SRTP (RFC 5764 8, RFC 5124). */
static gboolean
is_dtls_proto (const char *proto)
{
  return g_ascii_strcasecmp (proto, "UDP/TLS/RTP/SAVP") == 0 ||
         g_ascii_strcasecmp (proto, "UDP/TLS/RTP/SAVPF") == 0;
}

static gboolean
is_rtp_avp (const SpSdpMedia *media)
{
  const char *proto = sp_sdp_media_get_proto (media);

  return g_ascii_strcasecmp (proto, "RTP/AVP") == 0 ||
         g_ascii_strcasecmp (proto, "RTP/AVPF") == 0 ||
         g_ascii_strcasecmp (proto, "RTP/SAVP") == 0 ||
         g_ascii_strcasecmp (proto, "RTP/SAVPF") == 0 || is_dtls_proto (proto);
}

/* RTP/SAVP(F): the offerer insists on SRTP. */
static gboolean
is_savp (const SpSdpMedia *media)
{
  const char *proto = sp_sdp_media_get_proto (media);

  return g_ascii_strcasecmp (proto, "RTP/SAVP") == 0 ||
         g_ascii_strcasecmp (proto, "RTP/SAVPF") == 0;
}

/* The first audio m= line we can carry (RTP/AVP), port 0 included; @index
 * gets its position. */
static SpSdpMedia *
find_audio (const SpSdpSession *sdp, guint *index)
{
  for (guint i = 0; i < sp_sdp_session_get_n_media (sdp); i++)
    {
      SpSdpMedia *m = sp_sdp_session_get_media (sdp, i);
      if (g_strcmp0 (sp_sdp_media_get_media_type (m), "audio") == 0 && is_rtp_avp (m))
        {
          *index = i;
          return m;
        }
    }
  return NULL;
}

static gboolean
has_any_audio (const SpSdpSession *sdp)
{
  for (guint i = 0; i < sp_sdp_session_get_n_media (sdp); i++)
    if (g_strcmp0 (sp_sdp_media_get_media_type (sp_sdp_session_get_media (sdp, i)), "audio") == 0)
      return TRUE;
  return FALSE;
}

static gboolean
codec_allowed (const SpCodecId *codecs, guint n, SpCodecId id)
{
  for (guint i = 0; i < n; i++)
    if (codecs[i] == id)
      return TRUE;
  return FALSE;
}

/* Whether @map names @info: the encoding, mono, and the RTP clock (G.722's
 * is 8000 by RFC 3551; many write 16000). A clock rate of 0 (rtpmap
 * without one) passes. */
static gboolean
rtpmap_names (const SpSdpRtpmap *map, const SpCodecInfo *info)
{
  if (g_ascii_strcasecmp (map->encoding, info->encoding) != 0 || map->channels > info->channels)
    return FALSE;
  return map->clock_rate == 0 || map->clock_rate == info->clock_rate ||
         (info->id == SP_CODEC_G722 && map->clock_rate == 16000);
}

static const SpCodecInfo *
codec_for_rtpmap (const SpSdpRtpmap *map)
{
  guint n;
  const SpCodecInfo *const *all = sp_codec_info_list (&n);

  for (guint i = 0; i < n; i++)
    if (rtpmap_names (map, all[i]))
      return all[i];
  return NULL;
}

/* The codec the @index-th format of @media names, if it is one of
 * @codecs, and its payload type in @media (@pt_out): a static payload
 * type whose rtpmap (if any) agrees, or a dynamic one (96..127) whose
 * rtpmap names the codec, as peers that number every codec dynamically
 * write (a=rtpmap:96 PCMU/8000). */
static const SpCodecInfo *
match_codec (const SpSdpMedia *media, guint index, const SpCodecId *codecs, guint n, guint *pt_out)
{
  gint pt = sp_sdp_media_get_payload_type (media, index);
  const SpCodecInfo *info;
  SpSdpRtpmap map;
  gboolean have_map;

  if (pt < 0)
    return NULL;
  have_map = sp_sdp_media_get_rtpmap (media, (guint) pt, &map) && map.encoding != NULL;
  if (pt >= 96)
    info = have_map ? codec_for_rtpmap (&map) : NULL;
  else
    info = sp_codec_info_for_payload_type ((guint) pt);
  /* Opus needs a clock rate (RFC 7587 7: opus/48000/2). */
  if (info != NULL && info->dynamic && map.clock_rate != info->clock_rate)
    return NULL;
  if (info == NULL || !codec_allowed (codecs, n, info->id))
    return NULL;
  if (have_map && !rtpmap_names (&map, info))
    return NULL;
  *pt_out = (guint) pt;
  return info;
}

/* The payload type of telephone-event at @clock_rate in @media, or -1. */
static gint
find_dtmf_at (const SpSdpMedia *media, guint clock_rate)
{
  for (guint i = 0; i < sp_sdp_media_get_n_formats (media); i++)
    {
      gint pt = sp_sdp_media_get_payload_type (media, i);
      SpSdpRtpmap map;
      if (pt >= 0 && sp_sdp_media_get_rtpmap (media, (guint) pt, &map) && map.encoding &&
          g_ascii_strcasecmp (map.encoding, "telephone-event") == 0 && map.clock_rate == clock_rate)
        return pt;
    }
  return -1;
}

/* The payload type of comfort noise for @codec in @media (CN at the
 * codec's RTP clock: static 13 without rtpmap is CN/8000), or -1. */
static gint
find_cn (const SpSdpMedia *media, const SpCodecInfo *codec)
{
  if (codec->clock_rate != CN_CLOCK_RATE)
    return -1;
  for (guint i = 0; i < sp_sdp_media_get_n_formats (media); i++)
    {
      gint pt = sp_sdp_media_get_payload_type (media, i);
      SpSdpRtpmap map;
      gboolean have_map =
          pt >= 0 && sp_sdp_media_get_rtpmap (media, (guint) pt, &map) && map.encoding != NULL;
      if (pt == SP_COMFORT_NOISE_PT && !have_map)
        return pt;
      if (have_map && g_ascii_strcasecmp (map.encoding, "CN") == 0 &&
          map.clock_rate == CN_CLOCK_RATE && (pt == SP_COMFORT_NOISE_PT || pt >= 96))
        return pt;
    }
  return -1;
}

/* telephone-event for @codec: at its RTP clock, else at 8000 (peers that
 * put telephone-event/8000 beside Opus); @clock_out gets the clock. */
static gint
find_dtmf (const SpSdpMedia *media, const SpCodecInfo *codec, guint *clock_out)
{
  gint pt = find_dtmf_at (media, codec->clock_rate);

  *clock_out = codec->clock_rate;
  if (pt < 0 && codec->clock_rate != DTMF_CLOCK_RATE)
    {
      pt = find_dtmf_at (media, DTMF_CLOCK_RATE);
      *clock_out = DTMF_CLOCK_RATE;
    }
  return pt;
}

/* One numeric fmtp parameter ("maxplaybackrate=16000") out of @fmtp, or
 * 0 if absent or not a plain bounded number. The text is the peer's:
 * every length is bounded and nothing is copied. */
static guint
fmtp_number (const char *fmtp, const char *name)
{
  gsize name_len = strlen (name);
  const char *p = fmtp;

  while (p != NULL && *p != '\0')
    {
      while (*p == ' ' || *p == ';')
        p++;
      if (g_ascii_strncasecmp (p, name, name_len) == 0 && p[name_len] == '=')
        {
          const char *v = p + name_len + 1;
          guint64 value = 0;
          gsize i;
          for (i = 0; i < FMTP_MAX_VALUE && g_ascii_isdigit (v[i]); i++)
            value = value * 10 + (guint64) (v[i] - '0');
          if (i == 0 || i == FMTP_MAX_VALUE || (v[i] != '\0' && v[i] != ';' && v[i] != ' '))
            return 0;
          return (guint) MIN (value, G_MAXUINT);
        }
      p = strchr (p, ';');
    }
  return 0;
}

/* The limits the peer's Opus fmtp puts on what we send (RFC 7587 6.1). */
static void
read_opus_fmtp (const SpSdpMedia *media, guint pt, SpMediaParams *params)
{
  const char *fmtp = sp_sdp_media_get_fmtp (media, pt);

  if (fmtp == NULL)
    return;
  params->opus_max_playback_rate = fmtp_number (fmtp, "maxplaybackrate");
  params->opus_max_bitrate = fmtp_number (fmtp, "maxaveragebitrate");
}

static gboolean
list_has_word (const char *list, const char *word)
{
  g_auto (GStrv) words = g_strsplit (list, " ", -1);

  for (guint i = 0; words[i] != NULL; i++)
    if (g_ascii_strcasecmp (words[i], word) == 0)
      return TRUE;
  return FALSE;
}

/* "GSM iLBC": the formats of @media by name, telephone-event left out. */
static char *
describe_formats (const SpSdpMedia *media)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < sp_sdp_media_get_n_formats (media); i++)
    {
      gint pt = sp_sdp_media_get_payload_type (media, i);
      SpSdpRtpmap map;
      const char *name = sp_sdp_media_get_format (media, i);
      if (pt >= 0 && sp_sdp_media_get_rtpmap (media, (guint) pt, &map) && map.encoding)
        name = map.encoding;
      if (g_ascii_strcasecmp (name, "telephone-event") == 0 ||
          g_ascii_strcasecmp (name, "CN") == 0 || list_has_word (out->str, name))
        continue;
      if (out->len)
        g_string_append_c (out, ' ');
      g_string_append (out, name);
    }
  if (out->len == 0)
    g_string_append (out, "nothing");
  return g_string_free (out, FALSE);
}

static char *
describe_codecs (const SpCodecId *codecs, guint n)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < n; i++)
    {
      if (out->len)
        g_string_append_c (out, ' ');
      g_string_append (out, sp_codec_info_for_id (codecs[i])->encoding);
    }
  return g_string_free (out, FALSE);
}

/* A packet time the session supports: 10..60 ms in steps of 10. */
static guint
choose_ptime_value (guint ms)
{
  if (ms == 0)
    return DEFAULT_PTIME;
  return CLAMP ((ms + 5) / 10 * 10, MIN_PTIME, MAX_PTIME);
}

/* a=ptime within a=maxptime, rounded to what the session supports; a
 * fixed packet time of ours wins over the peer's a=ptime. */
static guint
choose_ptime (const SpOfferAnswer *oa, const SpSdpMedia *media, guint fallback)
{
  gint ptime = oa->fixed_ptime ? -1 : sp_sdp_media_get_ptime (media);
  gint maxptime = sp_sdp_media_get_maxptime (media);
  guint p = choose_ptime_value (ptime > 0 ? (guint) ptime : fallback);

  if (maxptime > 0 && p > (guint) maxptime)
    p = MAX ((guint) maxptime / 10 * 10, MIN_PTIME);
  return p;
}

/* Where the peer wants RTP, and whether it wants to send and receive. */
static gboolean
read_peer (SpOfferAnswer *oa, const SpSdpMedia *media, const char **address, PeerWish *wish,
           GError **error)
{
  const SpSdpConnection *c = sp_sdp_media_get_effective_connection (media);
  g_autoptr (GInetAddress) ia = NULL;
  SpSdpDirection d = sp_sdp_media_get_direction (media);

  if (c == NULL)
    {
      fail (oa, error, SP_MEDIA_ERROR_NOT_ACCEPTABLE,
            N_ ("the audio stream has no connection address (c=)"));
      return FALSE;
    }
  ia = g_inet_address_new_from_string (c->address);
  if (ia == NULL)
    {
      fail (oa, error, SP_MEDIA_ERROR_NOT_ACCEPTABLE,
            N_ ("the connection address %s is not an IP address"), c->address);
      return FALSE;
    }
  if (g_inet_address_get_is_multicast (ia))
    {
      fail (oa, error, SP_MEDIA_ERROR_NOT_ACCEPTABLE, N_ ("multicast audio (%s) is not supported"),
            c->address);
      return FALSE;
    }
  *address = c->address;
  wish->sends = direction_sends (d);
  /* RFC 2543 hold: c=0.0.0.0 says "send me nothing". */
  wish->receives = direction_receives (d) && !g_inet_address_get_is_any (ia);
  return TRUE;
}

/* The address of a=rtcp (RFC 3605) when it names one we can send to. */
static char *
rtcp_address (const SpSdpMedia *media)
{
  const char *text = sp_sdp_media_get_rtcp_address (media);
  g_autoptr (GInetAddress) ia = text ? g_inet_address_new_from_string (text) : NULL;

  if (ia == NULL || g_inet_address_get_is_any (ia) || g_inet_address_get_is_multicast (ia))
    return NULL;
  return g_strdup (text);
}

static void
fill_params (SpOfferAnswer *oa, const SpCodecInfo *codec, guint pt, guint ptime, gint dtmf_pt,
             guint dtmf_clock, gboolean mux, const char *address, const SpSdpMedia *media,
             gboolean send, gboolean recv)
{
  SpMediaParams *p = &oa->params;
  gint rtcp = sp_sdp_media_get_rtcp_port (media);

  g_free (oa->remote_address);
  oa->remote_address = g_strdup (address);
  g_free (oa->remote_rtcp_address);
  oa->remote_rtcp_address = rtcp > 0 && !mux ? rtcp_address (media) : NULL;
  memset (p, 0, sizeof *p);
  p->codec = codec->id;
  p->payload_type = pt;
  p->remote_rtcp_address = oa->remote_rtcp_address;
  p->ptime_ms = ptime;
  /* A peer whose a=maxptime equals its a=ptime fixed it (as we do):
   * no 10 ms packets on a LAN then either. */
  p->fixed_ptime =
      oa->fixed_ptime || (sp_sdp_media_get_ptime (media) > 0 &&
                          sp_sdp_media_get_maxptime (media) == sp_sdp_media_get_ptime (media));
  p->dtmf_payload_type = dtmf_pt;
  p->dtmf_clock_rate = dtmf_pt >= 0 && dtmf_clock != codec->clock_rate ? dtmf_clock : 0;
  if (codec->id == SP_CODEC_OPUS)
    read_opus_fmtp (media, pt, p);
  p->rtcp_mux = mux;
  p->remote_address = oa->remote_address;
  p->remote_rtp_port = (guint16) sp_sdp_media_get_port (media);
  p->remote_rtcp_port = rtcp > 0 && !mux ? (guint16) rtcp : 0;
  p->send = send && p->remote_rtp_port != 0;
  p->receive = recv;
  oa->negotiated = TRUE;
}

/* ---- SDES (RFC 4568) -------------------------------------------------------- */

const char *
sp_media_encryption_to_string (SpMediaEncryption encryption)
{
  switch (encryption)
    {
      case SP_MEDIA_ENCRYPTION_REQUIRED:
        return "required";
      case SP_MEDIA_ENCRYPTION_OFF:
        return "off";
      case SP_MEDIA_ENCRYPTION_PREFERRED:
      default:
        return "preferred";
    }
}

gboolean
sp_media_encryption_from_string (const char *text, SpMediaEncryption *encryption)
{
  static const SpMediaEncryption all[] = { SP_MEDIA_ENCRYPTION_PREFERRED,
                                           SP_MEDIA_ENCRYPTION_REQUIRED, SP_MEDIA_ENCRYPTION_OFF };

  for (guint i = 0; text != NULL && i < G_N_ELEMENTS (all); i++)
    if (g_ascii_strcasecmp (text, sp_media_encryption_to_string (all[i])) == 0)
      {
        *encryption = all[i];
        return TRUE;
      }
  return FALSE;
}

/* DTLS-SRTP needs no TLS hop (its keys never appear in the SDP). */
static gboolean
wants_dtls (const SpOfferAnswer *oa)
{
  return oa->dtls_fingerprint != NULL && oa->encryption != SP_MEDIA_ENCRYPTION_OFF;
}

static gboolean
wants_sdes (const SpOfferAnswer *oa)
{
  return oa->sdes_ok && oa->encryption != SP_MEDIA_ENCRYPTION_OFF;
}

static void
ensure_local_crypto (SpOfferAnswer *oa)
{
  if (oa->have_local_crypto)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (offered_suites); i++)
    sp_sdes_crypto_generate (&oa->local_crypto[offered_suites[i]], i + 1, offered_suites[i]);
  oa->have_local_crypto = TRUE;
}

/* The first a=crypto line of @m we can use, in @m's order; with
 * @ours_only, only one answering a line we offered (its tag with its
 * suite). @n_lines counts them all. */
static gboolean
find_crypto (SpOfferAnswer *oa, const SpSdpMedia *m, gboolean ours_only, SpSdesCrypto *out,
             guint *n_lines)
{
  *n_lines = 0;
  for (guint i = 0; i < sp_sdp_media_get_n_attributes (m); i++)
    {
      const char *name, *value;
      sp_sdp_media_get_nth_attribute (m, i, &name, &value);
      if (g_ascii_strcasecmp (name, "crypto") != 0)
        continue;
      (*n_lines)++;
      if (!sp_sdes_crypto_parse (value, out))
        continue;
      if (!ours_only || (oa->have_local_crypto && oa->local_crypto[out->suite].tag == out->tag))
        return TRUE;
      sp_sdes_crypto_clear (out);
    }
  return FALSE;
}

/* a=crypto in SDP that did not come over TLS: its key may have been read
 * on the way, so it is not used. Logged without the key. */
static void
note_crypto_ignored (const SpSdpMedia *m)
{
  if (sp_sdp_media_has_attribute (m, "crypto"))
    g_message ("SDP offers SRTP keys (a=crypto) over a connection without TLS: ignored");
}

/* Makes the SDES keys agreed in this exchange the ones in force. */
static void
commit_sdes (SpOfferAnswer *oa, gboolean active, const SpSdesCrypto *tx, const SpSdesCrypto *rx)
{
  oa->sdes_active = active;
  sp_sdes_crypto_clear (&oa->sdes_tx);
  sp_sdes_crypto_clear (&oa->sdes_rx);
  if (!active)
    return;
  oa->sdes_tx = *tx;
  oa->sdes_rx = *rx;
}

gboolean
sp_offer_answer_can_encrypt (SpOfferAnswer *oa)
{
  return wants_sdes (oa) || wants_dtls (oa);
}

gboolean
sp_offer_answer_get_sdes_keys (SpOfferAnswer *oa, SpSrtpSuite *suite, guint8 *tx, guint8 *rx,
                               gsize *key_len)
{
  if (!oa->sdes_active)
    return FALSE;
  *suite = oa->sdes_tx.suite;
  *key_len = oa->sdes_tx.key_len;
  memcpy (tx, oa->sdes_tx.key, oa->sdes_tx.key_len);
  memcpy (rx, oa->sdes_rx.key, oa->sdes_rx.key_len);
  return TRUE;
}

/* ---- Building our SDP ------------------------------------------------------ */

typedef struct
{
  guint16 port;
  const SpCodecId *codecs;
  const guint *payload_types; /* per codec; NULL = the static ones */
  guint n_codecs;
  gint dtmf_pt;
  guint dtmf_clock;  /* of @dtmf_pt */
  gint dtmf_wide_pt; /* an offer's telephone-event/48000 beside Opus, or -1 */
  gint cn_pt;        /* CN/8000 after telephone-event, or -1 */
  guint ptime;
  gboolean mux;
  SpSdpDirection direction;
  const char *proto;  /* NULL = RTP/AVP */
  SpDtlsSetup setup;  /* with our a=fingerprint, or NONE: no DTLS */
  const char *tls_id; /* with it; NULL = the association in force's */
  /* a=crypto lines (ours: in an answer, with the offer's tag). */
  const SpSdesCrypto *crypto[SP_SRTP_N_SUITES];
  guint n_crypto;
} AudioLine;

static SpSdpSession *
new_description (SpOfferAnswer *oa)
{
  SpSdpAddrType type = addr_type_of (oa->local_address);
  SpSdpSession *sdp =
      sp_sdp_session_new (oa->username, oa->session_id, oa->version, type, oa->local_address);

  sp_sdp_session_set_connection (sdp, type, oa->local_address);
  return sdp;
}

static void
add_audio (SpOfferAnswer *oa, SpSdpSession *sdp, const AudioLine *line)
{
  SpSdpMedia *m =
      sp_sdp_session_add_media (sdp, "audio", line->port, line->proto ? line->proto : "RTP/AVP");

  for (guint i = 0; i < line->n_codecs; i++)
    {
      const SpCodecInfo *info = sp_codec_info_for_id (line->codecs[i]);
      guint pt = line->payload_types ? line->payload_types[i] : info->payload_type;
      sp_sdp_media_add_rtp_format (m, pt, info->encoding, info->clock_rate, info->channels);
      if (info->id == SP_CODEC_OPUS)
        sp_sdp_media_set_fmtp (m, pt, OPUS_FMTP);
    }
  if (line->dtmf_wide_pt >= 0)
    {
      sp_sdp_media_add_rtp_format (m, (guint) line->dtmf_wide_pt, "telephone-event",
                                   DTMF_WIDE_CLOCK_RATE, 1);
      sp_sdp_media_set_fmtp (m, (guint) line->dtmf_wide_pt, DTMF_EVENTS);
    }
  if (line->dtmf_pt >= 0)
    {
      sp_sdp_media_add_rtp_format (m, (guint) line->dtmf_pt, "telephone-event",
                                   line->dtmf_clock ? line->dtmf_clock : DTMF_CLOCK_RATE, 1);
      sp_sdp_media_set_fmtp (m, (guint) line->dtmf_pt, DTMF_EVENTS);
    }
  if (line->cn_pt >= 0)
    sp_sdp_media_add_rtp_format (m, (guint) line->cn_pt, "CN", CN_CLOCK_RATE, 1);
  sp_sdp_media_set_ptime (m, (gint) line->ptime);
  if (oa->fixed_ptime)
    sp_sdp_media_set_maxptime (m, (gint) line->ptime);
  sp_sdp_media_set_rtcp (m, oa->rtcp_port ? oa->rtcp_port : oa->rtp_port + 1,
                         addr_type_of (oa->local_address), NULL);
  if (line->mux)
    sp_sdp_media_set_rtcp_mux (m, TRUE);
  for (guint i = 0; i < line->n_crypto; i++)
    {
      char *text = sp_sdes_crypto_format (line->crypto[i]);
      sp_sdp_media_add_attribute (m, "crypto", text);
      sp_sdes_crypto_free_text (text);
    }
  sp_sdp_media_set_direction (m, line->direction);
  if (line->setup != SP_DTLS_SETUP_NONE && oa->dtls_fingerprint != NULL)
    {
      g_autofree char *fingerprint = g_strconcat ("sha-256 ", oa->dtls_fingerprint, NULL);
      sp_sdp_media_add_attribute (m, "fingerprint", fingerprint);
      sp_sdp_media_add_attribute (m, "setup", sp_dtls_setup_to_string (line->setup));
      sp_sdp_media_add_attribute (m, "tls-id", line->tls_id ? line->tls_id : oa->local_tls_id);
    }
}

/* ---- DTLS-SRTP (RFC 5763) -------------------------------------------------- */

/* The peer's a=fingerprint (media level, else session level) split into
 * hash and value; FALSE when absent or without a value. */
static gboolean
read_fingerprint (const SpSdpSession *sdp, const SpSdpMedia *m, char **hash, char **value)
{
  const char *text = sp_sdp_media_get_attribute (m, "fingerprint");
  const char *space;

  if (text == NULL)
    text = sp_sdp_session_get_attribute (sdp, "fingerprint");
  if (text == NULL || (space = strchr (text, ' ')) == NULL || space == text)
    return FALSE;
  *hash = g_strndup (text, (gsize) (space - text));
  while (*space == ' ')
    space++;
  if (*space == '\0')
    {
      g_clear_pointer (hash, g_free);
      return FALSE;
    }
  *value = g_strdup (space);
  return TRUE;
}

static void
make_tls_id (char out[TLS_ID_CHARS + 1])
{
  static const char hex[] = "0123456789abcdef";
  guint8 random[TLS_ID_CHARS / 2];

  for (guint i = 0; i < sizeof random; i++)
    random[i] = (guint8) g_random_int_range (0, 256);
  for (guint i = 0; i < sizeof random; i++)
    {
      out[2 * i] = hex[random[i] >> 4];
      out[2 * i + 1] = hex[random[i] & 0x0F];
    }
  out[TLS_ID_CHARS] = '\0';
}

/* The peer's a=tls-id (media level, else session level), or NULL when
 * absent or not one (RFC 8842 4: 20..255 of ALPHA DIGIT + / - _): a
 * malformed value counts as none, so it can neither start nor hide a new
 * association. */
static char *
read_tls_id (const SpSdpSession *sdp, const SpSdpMedia *m)
{
  const char *text = sp_sdp_media_get_attribute (m, "tls-id");
  gsize len;

  if (text == NULL)
    text = sp_sdp_session_get_attribute (sdp, "tls-id");
  if (text == NULL)
    return NULL;
  len = strlen (text);
  if (len < TLS_ID_MIN || len > TLS_ID_MAX)
    return NULL;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (text[i]) && strchr ("+/-_", text[i]) == NULL)
      return NULL;
  return g_strdup (text);
}

gboolean
sp_offer_answer_tls_id_changed (const char *before, const char *now)
{
  /* A peer that sends none (most do not yet) changes nothing by that. */
  return before != NULL && now != NULL && strcmp (before, now) != 0;
}

static SpDtlsSetup
read_setup (const SpSdpSession *sdp, const SpSdpMedia *m)
{
  const char *text = sp_sdp_media_get_attribute (m, "setup");

  return sp_dtls_setup_from_string (text ? text : sp_sdp_session_get_attribute (sdp, "setup"));
}

static void
dtls_settle (SpOfferAnswer *oa, gboolean active, SpDtlsSetup local, SpDtlsSetup remote, char *hash,
             char *value, char *tls_id)
{
  /* The peer's tls-id sticks until it sends another. */
  if (tls_id != NULL || !active)
    {
      g_free (oa->dtls_remote_tls_id);
      oa->dtls_remote_tls_id = tls_id;
    }
  oa->dtls_active = active;
  oa->dtls_local_setup = local;
  oa->dtls_remote_setup = remote;
  g_free (oa->dtls_remote_hash);
  g_free (oa->dtls_remote_fingerprint);
  oa->dtls_remote_hash = hash;
  oa->dtls_remote_fingerprint = value;
  oa->params.srtp = active;
}

/* An m= line we do not take, answered with port 0 (RFC 3264 6). */
static void
add_rejected (SpSdpSession *sdp, const SpSdpMedia *offered)
{
  SpSdpMedia *m = sp_sdp_session_add_media (sdp, sp_sdp_media_get_media_type (offered), 0,
                                            sp_sdp_media_get_proto (offered));

  if (m != NULL && sp_sdp_media_get_n_formats (offered) > 0)
    sp_sdp_media_add_format (m, sp_sdp_media_get_format (offered, 0));
}

/* Serializes @sdp with the right o= version: the same as last time if
 * nothing changed, one more if it did. */
static char *
finish_description (SpOfferAnswer *oa, SpSdpSession *sdp)
{
  char *text;

  sp_sdp_session_set_session_version (sdp, oa->version);
  text = sp_sdp_session_to_string (sdp);
  if (oa->last_sent != NULL && strcmp (text, oa->last_sent) != 0)
    {
      g_free (text);
      oa->version++;
      sp_sdp_session_set_session_version (sdp, oa->version);
      text = sp_sdp_session_to_string (sdp);
    }
  g_free (oa->last_sent);
  oa->last_sent = g_strdup (text);
  return text;
}

/* ---- Public ---------------------------------------------------------------- */

SpOfferAnswer *
sp_offer_answer_new (const SpOfferAnswerConfig *config)
{
  SpOfferAnswer *oa;

  g_return_val_if_fail (config != NULL && config->local_address != NULL, NULL);
  oa = g_new0 (SpOfferAnswer, 1);
  oa->local_address = g_strdup (config->local_address);
  oa->rtp_port = config->rtp_port;
  oa->rtcp_port = config->rtcp_port;
  if (config->codecs != NULL && config->n_codecs > 0)
    {
      for (guint i = 0; i < config->n_codecs && oa->n_codecs < MAX_CODECS; i++)
        if (sp_codec_info_for_id (config->codecs[i]) != NULL &&
            !codec_allowed (oa->codecs, oa->n_codecs, config->codecs[i]))
          oa->codecs[oa->n_codecs++] = config->codecs[i];
    }
  if (oa->n_codecs == 0)
    {
      memcpy (oa->codecs, default_codecs, sizeof default_codecs);
      oa->n_codecs = G_N_ELEMENTS (default_codecs);
    }
  oa->ptime_ms = choose_ptime_value (config->ptime_ms);
  oa->fixed_ptime = config->fixed_ptime && config->ptime_ms != 0;
  if (config->dtmf_payload_type == 0)
    oa->dtmf_pt = SP_OFFER_ANSWER_DTMF_PT;
  else if (config->dtmf_payload_type == (gint) sp_codec_info_for_id (SP_CODEC_OPUS)->payload_type)
    oa->dtmf_pt = SP_OFFER_ANSWER_DTMF_PT; /* Opus has that number in our offer */
  else if (config->dtmf_payload_type >= 96 && config->dtmf_payload_type <= 127)
    oa->dtmf_pt = config->dtmf_payload_type;
  else
    oa->dtmf_pt = -1;
  oa->rtcp_mux_ok = !config->no_rtcp_mux;
  oa->dtls_fingerprint = g_strdup (config->dtls_fingerprint);
  make_tls_id (oa->local_tls_id);
  oa->username = g_strdup (config->username);
  oa->encryption = config->encryption;
  oa->sdes_ok = config->sdes;
  /* Any number fits (RFC 4566 5.2); 31 bits keep it readable. */
  oa->session_id = g_random_int_range (1, G_MAXINT32);
  oa->version = oa->session_id;
  oa->local_direction = oa->remote_direction = SP_SDP_DIRECTION_SENDRECV;
  oa->params.dtmf_payload_type = -1;
  return oa;
}

void
sp_offer_answer_free (SpOfferAnswer *oa)
{
  if (oa == NULL)
    return;
  g_free (oa->error_text);
  g_free (oa->dtls_fingerprint);
  g_free (oa->dtls_remote_hash);
  g_free (oa->dtls_remote_fingerprint);
  g_free (oa->dtls_remote_tls_id);
  g_free (oa->local_address);
  g_free (oa->username);
  g_free (oa->last_sent);
  g_free (oa->remote_address);
  g_free (oa->remote_rtcp_address);
  g_clear_pointer (&oa->pending_offer, sp_sdp_session_free);
  explicit_bzero (oa->local_crypto, sizeof oa->local_crypto);
  sp_sdes_crypto_clear (&oa->sdes_tx);
  sp_sdes_crypto_clear (&oa->sdes_rx);
  g_free (oa);
}

void
sp_offer_answer_set_local (SpOfferAnswer *oa, const char *address, guint16 rtp_port,
                           guint16 rtcp_port)
{
  g_return_if_fail (address != NULL);
  g_free (oa->local_address);
  oa->local_address = g_strdup (address);
  oa->rtp_port = rtp_port;
  oa->rtcp_port = rtcp_port;
}

void
sp_offer_answer_set_hold (SpOfferAnswer *oa, gboolean hold)
{
  oa->hold = hold;
}

gboolean
sp_offer_answer_get_hold (SpOfferAnswer *oa)
{
  return oa->hold;
}

/* Whether we offer a codec with an 8000 RTP clock (G.711, G.722), the
 * clock CN/8000 goes with. */
static gboolean
offers_narrow_clock (SpOfferAnswer *oa)
{
  for (guint i = 0; i < oa->n_codecs; i++)
    if (sp_codec_info_for_id (oa->codecs[i])->clock_rate == CN_CLOCK_RATE)
      return TRUE;
  return FALSE;
}

/* Whether our offer names UDP/TLS/RTP/SAVP: the first offer of a call,
 * preferred or required (what baresip and linphonec take DTLS on; the
 * offer after a 488 is RTP/AVP, or RTP/SAVP with a=crypto when required,
 * see sp_offer_answer_fall_back); a re-offer on a stream that is on it. */
static gboolean
dtls_profile_first (const SpOfferAnswer *oa)
{
  if (oa->negotiated)
    return oa->dtls_profile;
  return !oa->avp_fallback;
}

char *
sp_offer_answer_create_offer (SpOfferAnswer *oa)
{
  g_autoptr (SpSdpSession) sdp = new_description (oa);
  AudioLine line = { 0 };
  char *text;

  /* RFC 3264 8.4: hold offers sendonly, or inactive when the peer holds
   * us already (it would not take our audio anyway). */
  oa->offered_recv = !oa->hold;
  oa->offered_send = !(oa->hold && oa->negotiated && oa->remote_hold);
  line.port = oa->rtp_port;
  line.codecs = oa->codecs;
  line.n_codecs = oa->n_codecs;
  line.dtmf_pt = oa->dtmf_pt;
  line.dtmf_wide_pt = oa->dtmf_pt >= 0 && codec_allowed (oa->codecs, oa->n_codecs, SP_CODEC_OPUS)
                          ? (oa->dtmf_pt == DTMF_WIDE_PT ? DTMF_WIDE_PT + 2 : DTMF_WIDE_PT)
                          : -1;
  line.cn_pt = offers_narrow_clock (oa) ? SP_COMFORT_NOISE_PT : -1;
  line.ptime = oa->ptime_ms;
  line.mux = oa->rtcp_mux_ok;
  line.direction = direction_from_flags (oa->offered_send, oa->offered_recv);
  oa->offered_sdes = wants_sdes (oa);
  if (oa->offered_sdes)
    {
      ensure_local_crypto (oa);
      for (guint i = 0; i < G_N_ELEMENTS (offered_suites); i++)
        line.crypto[line.n_crypto++] = &oa->local_crypto[offered_suites[i]];
      /* Required: SRTP or nothing (RFC 4568 is for RTP/SAVP); preferred:
       * RTP/AVP, which a plain peer answers too. */
      if (oa->encryption == SP_MEDIA_ENCRYPTION_REQUIRED)
        line.proto = "RTP/SAVP";
    }
  oa->offered_dtls_profile = FALSE;
  if (wants_dtls (oa))
    {
      /* RFC 5763 5: the offerer says actpass (a re-offer too; our answer
       * to it keeps the roles, so the association stays). */
      line.setup = SP_DTLS_SETUP_ACTPASS;
      if (dtls_profile_first (oa))
        {
          /* DTLS-SRTP's own profile (RFC 5764 8): no a=crypto beside it,
           * its keys are the two phones' alone. */
          line.proto = "UDP/TLS/RTP/SAVP";
          line.n_crypto = 0;
          oa->offered_sdes = FALSE;
          oa->offered_dtls_profile = TRUE;
        }
    }
  add_audio (oa, sdp, &line);
  text = finish_description (oa, sdp);
  g_clear_pointer (&oa->pending_offer, sp_sdp_session_free);
  oa->pending_offer = g_steal_pointer (&sdp);
  return text;
}

void
sp_offer_answer_rollback (SpOfferAnswer *oa)
{
  g_clear_pointer (&oa->pending_offer, sp_sdp_session_free);
}

/* Required falls back only to what still encrypts: SDES keys on
 * RTP/SAVP, which need the TLS hop. */
gboolean
sp_offer_answer_fall_back (SpOfferAnswer *oa)
{
  if (oa->negotiated || oa->avp_fallback || !oa->offered_dtls_profile)
    return FALSE;
  if (oa->encryption != SP_MEDIA_ENCRYPTION_PREFERRED &&
      !(oa->encryption == SP_MEDIA_ENCRYPTION_REQUIRED && wants_sdes (oa)))
    return FALSE;
  sp_offer_answer_rollback (oa);
  oa->avp_fallback = TRUE;
  return TRUE;
}

/* The answer's DTLS-SRTP: its fingerprint and setup when we offered ours. */
static gboolean
apply_answer_dtls (SpOfferAnswer *oa, const SpSdpSession *answer, const SpSdpMedia *offered,
                   const SpSdpMedia *m, GError **error)
{
  char *hash = NULL, *value = NULL;
  SpDtlsSetup local = SP_DTLS_SETUP_NONE, remote = read_setup (answer, m);
  SpDtlsRole role;
  gboolean have = FALSE;

  if (sp_sdp_media_has_attribute (offered, "fingerprint"))
    {
      local = SP_DTLS_SETUP_ACTPASS;
      have = read_fingerprint (answer, m, &hash, &value);
    }
  if (have && !sp_dtls_role_for (local, remote, &role))
    {
      g_free (hash);
      g_free (value);
      fail (oa, error, SP_MEDIA_ERROR_NOT_ACCEPTABLE,
            N_ ("the peer's DTLS setup (%s) does not fit ours"),
            remote == SP_DTLS_SETUP_NONE ? "none" : sp_dtls_setup_to_string (remote));
      return FALSE;
    }
  if (!have && is_dtls_proto (sp_sdp_media_get_proto (m)))
    {
      fail (oa, error, SP_MEDIA_ERROR_NOT_ACCEPTABLE,
            N_ ("the peer answered without DTLS-SRTP, which this call requires"));
      return FALSE;
    }
  dtls_settle (oa, have, local, remote, hash, value, have ? read_tls_id (answer, m) : NULL);
  return TRUE;
}

static gboolean
apply_answer (SpOfferAnswer *oa, const SpSdpSession *answer, GError **error)
{
  const SpSdpMedia *offered = sp_sdp_session_get_media (oa->pending_offer, 0);
  const SpCodecInfo *codec = NULL;
  const SpSdpMedia *m;
  const char *address;
  PeerWish wish;
  SpSdpDirection answered;
  gboolean send, recv;
  guint index, pt = 0;
  gint dtmf_pt = -1;
  guint dtmf_clock = 0;
  SpSdesCrypto local_key = { 0 }, remote_key = { 0 };
  gboolean srtp = FALSE, dtls_answered;
  guint n_lines = 0;

  m = find_audio (answer, &index);
  if (m == NULL || index != 0 || sp_sdp_media_get_port (m) == 0)
    {
      fail (oa, error, SP_MEDIA_ERROR_REJECTED, N_ ("the peer rejected the audio stream"));
      return FALSE;
    }
  for (guint i = 0; codec == NULL && i < sp_sdp_media_get_n_formats (m); i++)
    codec = match_codec (m, i, oa->codecs, oa->n_codecs, &pt);
  if (codec == NULL)
    {
      g_autofree char *ours = describe_codecs (oa->codecs, oa->n_codecs);
      g_autofree char *theirs = describe_formats (m);
      fail (oa, error, SP_MEDIA_ERROR_NO_COMMON_CODEC,
            /* Translators: codec names, "we offered PCMU PCMA, they answered G722". */
            N_ ("no common codec: we offered %s, they answered %s"), ours, theirs);
      return FALSE;
    }
  if (!read_peer (oa, m, &address, &wish, error))
    return FALSE;
  dtls_answered = sp_sdp_media_has_attribute (offered, "fingerprint") &&
                  (sp_sdp_media_has_attribute (m, "fingerprint") ||
                   sp_sdp_session_has_attribute (answer, "fingerprint"));
  if (!oa->sdes_ok)
    note_crypto_ignored (m);
  else if (!dtls_answered && oa->offered_sdes && find_crypto (oa, m, TRUE, &remote_key, &n_lines))
    {
      srtp = TRUE;
      local_key = oa->local_crypto[remote_key.suite];
    }
  if (!srtp && !dtls_answered && oa->encryption == SP_MEDIA_ENCRYPTION_REQUIRED)
    {
      fail (oa, error, SP_MEDIA_ERROR_NOT_ACCEPTABLE,
            n_lines > 0 ? N_ ("the other phone answered with SRTP keys this phone cannot use")
                        : N_ ("the other phone does not encrypt calls and this phone requires it"));
      return FALSE;
    }
  if (oa->dtmf_pt >= 0)
    dtmf_pt = find_dtmf (m, codec, &dtmf_clock);
  /* The answer's direction is the peer's view: it sends what we receive. */
  answered = sp_sdp_media_get_direction (m);
  send = oa->offered_send && wish.receives;
  recv = oa->offered_recv && direction_sends (answered);
  fill_params (oa, codec, pt, choose_ptime (oa, m, oa->ptime_ms), dtmf_pt, dtmf_clock,
               sp_sdp_media_get_rtcp_mux (offered) && sp_sdp_media_get_rtcp_mux (m), address, m,
               send, recv);
  /* CN only if both offered it (we did whenever a codec at its clock was). */
  if (find_cn (offered, codec) >= 0 && find_cn (m, codec) >= 0)
    oa->params.cn_payload_type = (guint) find_cn (m, codec);
  if (!apply_answer_dtls (oa, answer, offered, m, error))
    return FALSE;
  oa->dtls_profile = oa->dtls_active && is_dtls_proto (sp_sdp_media_get_proto (offered));
  commit_sdes (oa, srtp, &local_key, &remote_key);
  oa->params.srtp = srtp || oa->dtls_active;
  if (srtp)
    {
      sp_sdes_crypto_clear (&local_key);
      sp_sdes_crypto_clear (&remote_key);
    }
  oa->local_direction = sp_sdp_media_get_direction (offered);
  oa->remote_direction = direction_from_flags (wish.sends, wish.receives);
  /* An answer to an offer that did not send cannot say whether the peer
   * would take our audio: keep what we knew. */
  if (oa->offered_send)
    oa->remote_hold = !wish.receives;
  return TRUE;
}

gboolean
sp_offer_answer_process_answer (SpOfferAnswer *oa, const char *sdp, gsize len,
                                SpMediaParams *params, GError **error)
{
  g_autoptr (SpSdpSession) answer = NULL;
  gboolean ok;

  g_clear_pointer (&oa->error_text, g_free);
  if (oa->pending_offer == NULL)
    {
      fail (oa, error, SP_MEDIA_ERROR_FAILED, N_ ("an SDP answer arrived but no offer was made"));
      return FALSE;
    }
  answer = sp_sdp_session_parse (sdp, len, error);
  ok = answer != NULL && apply_answer (oa, answer, error);
  g_clear_pointer (&oa->pending_offer, sp_sdp_session_free);
  if (ok && params != NULL)
    *params = oa->params;
  return ok;
}

/* The offer set the audio port to 0 in an existing session: answer with
 * port 0 and stop the media (RFC 3264 8.2). */
static char *
answer_disabled (SpOfferAnswer *oa, const SpSdpSession *offer)
{
  g_autoptr (SpSdpSession) sdp = new_description (oa);

  for (guint i = 0; i < sp_sdp_session_get_n_media (offer); i++)
    add_rejected (sdp, sp_sdp_session_get_media (offer, i));
  oa->params.remote_rtp_port = 0;
  oa->params.send = oa->params.receive = FALSE;
  oa->local_direction = oa->remote_direction = SP_SDP_DIRECTION_INACTIVE;
  return finish_description (oa, sdp);
}

/* The codecs of @m we support, in its order, with the payload types it
 * gave them (an answer keeps the offer's numbers, RFC 3264 6.1). */
static guint
common_codecs (SpOfferAnswer *oa, const SpSdpMedia *m, SpCodecId out[MAX_CODECS],
               guint pts[MAX_CODECS])
{
  guint n = 0;

  for (guint i = 0; i < sp_sdp_media_get_n_formats (m) && n < MAX_CODECS; i++)
    {
      guint pt;
      const SpCodecInfo *codec = match_codec (m, i, oa->codecs, oa->n_codecs, &pt);
      if (codec != NULL && !codec_allowed (out, n, codec->id))
        {
          pts[n] = pt;
          out[n++] = codec->id;
        }
    }
  return n;
}

/* Whether the offer keeps the association in force: the same peer
 * fingerprint and, when the peer names them, the same tls-id. */
static gboolean
same_peer_association (const SpOfferAnswer *oa, const char *fingerprint, const char *tls_id)
{
  return oa->dtls_active && oa->dtls_remote_fingerprint != NULL &&
         g_ascii_strcasecmp (oa->dtls_remote_fingerprint, fingerprint) == 0 &&
         !sp_offer_answer_tls_id_changed (oa->dtls_remote_tls_id, tls_id);
}

/* Our answer's DTLS-SRTP to an offer: its fingerprint and setup, the
 * offer's profile kept (RFC 3264 6: the answer's m= line matches).
 * @fresh: room for the tls-id of a new association, which line->tls_id
 * then points at (the caller keeps it once the answer is made); @tls_id:
 * the peer's. */
static gboolean
answer_dtls (SpOfferAnswer *oa, const SpSdpSession *offer, const SpSdpMedia *m, AudioLine *line,
             char **hash, char **value, char **tls_id, char fresh[TLS_ID_CHARS + 1], GError **error)
{
  gboolean dtls_profile = is_dtls_proto (sp_sdp_media_get_proto (m));
  /* RFC 4145 4: no a=setup in an offer means active. */
  SpDtlsSetup offered = read_setup (offer, m);
  gboolean have = read_fingerprint (offer, m, hash, value);
  SpDtlsRole role, before;

  if (offered == SP_DTLS_SETUP_NONE)
    offered = SP_DTLS_SETUP_ACTIVE;

  if (dtls_profile)
    line->proto = sp_sdp_media_get_proto (m);
  if (have && wants_dtls (oa))
    {
      gboolean same;

      *tls_id = read_tls_id (offer, m);
      same = same_peer_association (oa, *value, *tls_id);
      line->setup = sp_dtls_setup_answer (offered);
      /* RFC 8842 5.5: an actpass re-offer of the same association keeps
       * it, so we keep our role (else a hold from a peer whose answer had
       * made us the server would force a new handshake). As the first
       * offerer our setup is actpass: the role says it. */
      if (offered == SP_DTLS_SETUP_ACTPASS && same &&
          sp_dtls_role_for (oa->dtls_local_setup, oa->dtls_remote_setup, &role))
        line->setup = role == SP_DTLS_ROLE_SERVER ? SP_DTLS_SETUP_PASSIVE : SP_DTLS_SETUP_ACTIVE;
      /* RFC 8842 5.3: a new association is answered with a new tls-id. */
      if (oa->dtls_active &&
          (!same || !sp_dtls_role_for (oa->dtls_local_setup, oa->dtls_remote_setup, &before) ||
           !sp_dtls_role_for (line->setup, offered, &role) || role != before))
        {
          make_tls_id (fresh);
          line->tls_id = fresh;
        }
      if (line->setup != SP_DTLS_SETUP_NONE)
        return TRUE;
    }
  line->setup = SP_DTLS_SETUP_NONE;
  line->proto = NULL;
  if (dtls_profile)
    {
      fail (oa, error, SP_MEDIA_ERROR_NOT_ACCEPTABLE,
            !wants_dtls (oa) ? N_ ("the other phone requires DTLS-SRTP and encryption is off here")
            : have           ? N_ ("the offer's DTLS setup cannot be answered")
                             : N_ ("the offer asks for DTLS-SRTP without a fingerprint"));
      return FALSE;
    }
  /* Without DTLS the offer may still be SDES or plain: the caller
   * decides (refuse_plain). */
  return TRUE;
}

/* Their offer brings no SDES line we take: whether we may answer it in
 * the clear, else why not (488). */
static gboolean
refuse_plain (SpOfferAnswer *oa, const SpSdpMedia *m, guint n_lines, GError **error)
{
  if (is_savp (m))
    {
      if (oa->encryption == SP_MEDIA_ENCRYPTION_OFF)
        fail (oa, error, SP_MEDIA_ERROR_NOT_ACCEPTABLE,
              N_ ("the other phone requires encrypted calls and encryption is off here"));
      else if (!oa->sdes_ok)
        fail (oa, error, SP_MEDIA_ERROR_NOT_ACCEPTABLE,
              N_ ("the other phone requires SRTP, but its keys came without TLS"));
      else
        fail (oa, error, SP_MEDIA_ERROR_NOT_ACCEPTABLE,
              N_ ("no SRTP crypto suite in common (%u offered)"), n_lines);
      return FALSE;
    }
  if (oa->encryption == SP_MEDIA_ENCRYPTION_REQUIRED)
    {
      fail (oa, error, SP_MEDIA_ERROR_NOT_ACCEPTABLE,
            N_ ("the other phone does not encrypt calls and this phone requires it"));
      return FALSE;
    }
  return TRUE;
}

static char *
answer_audio (SpOfferAnswer *oa, const SpSdpSession *offer, const SpSdpMedia *m, guint index,
              GError **error)
{
  g_autoptr (SpSdpSession) sdp = NULL;
  SpCodecId codecs[MAX_CODECS];
  guint pts[MAX_CODECS];
  const char *address;
  PeerWish wish;
  AudioLine line = { 0 };
  gboolean send, recv;
  g_autofree char *hash = NULL;
  g_autofree char *value = NULL;
  g_autofree char *tls_id = NULL;
  char fresh_tls_id[TLS_ID_CHARS + 1];
  guint n;
  SpSdesCrypto local_key = { 0 }, remote_key = { 0 };
  gboolean srtp = FALSE;
  guint n_lines = 0;

  n = common_codecs (oa, m, codecs, pts);
  if (n == 0)
    {
      g_autofree char *ours = describe_codecs (oa->codecs, oa->n_codecs);
      g_autofree char *theirs = describe_formats (m);
      fail (oa, error, SP_MEDIA_ERROR_NO_COMMON_CODEC,
            /* Translators: codec names, "we offer PCMU PCMA, they offer G722". */
            N_ ("no common codec: we offer %s, they offer %s"), ours, theirs);
      return NULL;
    }
  if (!read_peer (oa, m, &address, &wish, error))
    return NULL;
  /* DTLS-SRTP first: its keys are the two phones' alone (SDES keys are
   * in every SIP hop's hands). */
  if (!answer_dtls (oa, offer, m, &line, &hash, &value, &tls_id, fresh_tls_id, error))
    return NULL;
  if (!oa->sdes_ok)
    note_crypto_ignored (m);
  else if (line.setup == SP_DTLS_SETUP_NONE && wants_sdes (oa) &&
           find_crypto (oa, m, FALSE, &remote_key, &n_lines))
    {
      ensure_local_crypto (oa);
      srtp = TRUE;
      local_key = oa->local_crypto[remote_key.suite];
      local_key.tag = remote_key.tag; /* the answer names the offer's line */
    }
  if (!srtp && line.setup == SP_DTLS_SETUP_NONE && !refuse_plain (oa, m, n_lines, error))
    return NULL;
  send = wish.receives;
  recv = wish.sends && !oa->hold;
  line.port = oa->rtp_port;
  line.codecs = codecs;
  line.payload_types = pts;
  line.n_codecs = n;
  line.dtmf_pt =
      oa->dtmf_pt >= 0 ? find_dtmf (m, sp_codec_info_for_id (codecs[0]), &line.dtmf_clock) : -1;
  line.dtmf_wide_pt = -1;
  /* CN when the offer has it for the codec we send (RFC 3389 5). */
  line.cn_pt = find_cn (m, sp_codec_info_for_id (codecs[0]));
  line.ptime = choose_ptime (oa, m, oa->ptime_ms);
  line.mux = oa->rtcp_mux_ok && sp_sdp_media_get_rtcp_mux (m);
  line.direction = direction_from_flags (send, recv);
  if (srtp)
    {
      line.crypto[line.n_crypto++] = &local_key;
      line.proto = is_savp (m) ? "RTP/SAVP" : "RTP/AVP";
    }

  sdp = new_description (oa);
  for (guint i = 0; i < sp_sdp_session_get_n_media (offer); i++)
    {
      if (i == index)
        add_audio (oa, sdp, &line);
      else
        add_rejected (sdp, sp_sdp_session_get_media (offer, i));
    }
  fill_params (oa, sp_codec_info_for_id (codecs[0]), pts[0], line.ptime, line.dtmf_pt,
               line.dtmf_clock, line.mux, address, m, send, recv);
  if (line.cn_pt >= 0)
    oa->params.cn_payload_type = (guint) line.cn_pt;
  dtls_settle (oa, line.setup != SP_DTLS_SETUP_NONE, line.setup, read_setup (offer, m),
               g_steal_pointer (&hash), g_steal_pointer (&value), g_steal_pointer (&tls_id));
  if (line.tls_id != NULL)
    memcpy (oa->local_tls_id, line.tls_id, sizeof oa->local_tls_id);
  oa->dtls_profile = oa->dtls_active && line.proto != NULL && is_dtls_proto (line.proto);
  commit_sdes (oa, srtp, &local_key, &remote_key);
  oa->params.srtp = srtp || oa->dtls_active;
  if (srtp)
    {
      sp_sdes_crypto_clear (&local_key);
      sp_sdes_crypto_clear (&remote_key);
    }
  oa->local_direction = line.direction;
  oa->remote_direction = direction_from_flags (wish.sends, wish.receives);
  oa->remote_hold = !wish.receives;
  return finish_description (oa, sdp);
}

char *
sp_offer_answer_process_offer (SpOfferAnswer *oa, const char *sdp, gsize len, SpMediaParams *params,
                               GError **error)
{
  g_autoptr (SpSdpSession) offer = NULL;
  const SpSdpMedia *m;
  char *answer;
  guint index;

  g_clear_pointer (&oa->error_text, g_free);
  if (oa->pending_offer != NULL)
    {
      fail (oa, error, SP_MEDIA_ERROR_GLARE, N_ ("an SDP offer arrived while ours is pending"));
      return NULL;
    }
  offer = sp_sdp_session_parse (sdp, len, error);
  if (offer == NULL)
    return NULL;
  m = find_audio (offer, &index);
  if (m == NULL)
    {
      if (has_any_audio (offer))
        fail (oa, error, SP_MEDIA_ERROR_NOT_ACCEPTABLE,
              N_ ("the audio stream needs a profile other than RTP/AVP (SRTP?)"));
      else
        fail (oa, error, SP_MEDIA_ERROR_NOT_ACCEPTABLE, N_ ("the offer has no audio stream"));
      return NULL;
    }
  if (sp_sdp_media_get_port (m) == 0 && !oa->negotiated)
    {
      fail (oa, error, SP_MEDIA_ERROR_REJECTED, N_ ("the offer disables its only audio stream"));
      return NULL;
    }
  if (sp_sdp_media_get_port (m) == 0)
    answer = answer_disabled (oa, offer);
  else
    answer = answer_audio (oa, offer, m, index, error);
  if (answer != NULL && params != NULL)
    *params = oa->params;
  return answer;
}

void
sp_offer_answer_get_dtls (SpOfferAnswer *oa, SpOfferAnswerDtls *dtls)
{
  dtls->active = oa->dtls_active;
  dtls->local_setup = oa->dtls_local_setup;
  dtls->remote_setup = oa->dtls_remote_setup;
  dtls->remote_hash = oa->dtls_remote_hash;
  dtls->remote_fingerprint = oa->dtls_remote_fingerprint;
  dtls->remote_tls_id = oa->dtls_remote_tls_id;
}

gboolean
sp_offer_answer_is_negotiated (SpOfferAnswer *oa)
{
  return oa->negotiated;
}

gboolean
sp_offer_answer_has_pending_offer (SpOfferAnswer *oa)
{
  return oa->pending_offer != NULL;
}

void
sp_offer_answer_get_params (SpOfferAnswer *oa, SpMediaParams *params)
{
  *params = oa->params;
}

SpSdpDirection
sp_offer_answer_get_local_direction (SpOfferAnswer *oa)
{
  return oa->local_direction;
}

SpSdpDirection
sp_offer_answer_get_remote_direction (SpOfferAnswer *oa)
{
  return oa->remote_direction;
}

gboolean
sp_offer_answer_is_remote_hold (SpOfferAnswer *oa)
{
  return oa->negotiated && oa->remote_hold;
}

const char *
sp_offer_answer_get_error_text (SpOfferAnswer *oa)
{
  return oa->error_text;
}

guint
sp_offer_answer_error_status (const GError *error)
{
  if (error == NULL)
    return 500;
  if (error->domain == SP_SIP_ERROR)
    return sp_sip_error_to_status (error);
  if (error->domain != SP_MEDIA_ERROR)
    return 500;
  switch (error->code)
    {
      case SP_MEDIA_ERROR_NO_COMMON_CODEC:
      case SP_MEDIA_ERROR_REJECTED:
      case SP_MEDIA_ERROR_NOT_ACCEPTABLE:
        return 488;
      case SP_MEDIA_ERROR_GLARE:
        return 491;
      default:
        return 500;
    }
}
