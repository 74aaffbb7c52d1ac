#pragma once

#include <glib.h>

#include "media/codec.h"
#include "media/dtls.h"
#include "media/session.h"
#include "media/srtp.h"
#include "sip/sdp.h"

G_BEGIN_DECLS

/* SDP offer/answer (RFC 3264) for a call's one audio stream.
 *
 * One SpOfferAnswer lives as long as the call (the SIP dialog) and keeps
 * what was negotiated, so re-INVITEs (hold, resume, a new address or
 * codec) are new offers in the same session: the o= line keeps its
 * session id and its version goes up by one each time what we send
 * changes (RFC 3264 section 8), and stays when it does not.
 *
 * Either side may offer:
 *  - we offer: sp_offer_answer_create_offer (), then the answer goes to
 *    sp_offer_answer_process_answer (); if the offer is refused (488,
 *    491, a timeout), sp_offer_answer_rollback () returns to what was
 *    negotiated before.
 *  - they offer: sp_offer_answer_process_offer () returns our answer.
 * Both give the SpMediaParams to start or update the SpMediaSession with.
 *
 * Policy:
 *  - We offer our codecs in preference order (opus, G722, PCMA, PCMU
 *    unless configured otherwise) with their payload types (static ones,
 *    111 for opus/48000/2 with our RFC 7587 fmtp) and rtpmap lines,
 *    telephone-event/48000 (110) when Opus is offered and
 *    telephone-event/8000 (payload type 101 unless configured), a=ptime,
 *    a=rtcp (RFC 3605) and a=rtcp-mux (RFC 5761: the session
 *    demultiplexes either way, so we can always offer it).
 *  - RFC 4733 events share the audio stream's RTP clock: telephone-event
 *    is taken at the chosen codec's clock (8000 for G.711 and G.722, RFC
 *    3551 4.5.2; 48000 for Opus), and beside Opus at 8000 too when that is
 *    all the peer has (params->dtmf_clock_rate says so). An offer whose
 *    only telephone-event is at 16000 is answered without DTMF events.
 *  - The peer's Opus fmtp (maxplaybackrate, maxaveragebitrate) goes to
 *    the params as limits on what we send; opus must be opus/48000 with
 *    at most 2 channels (RFC 7587 7).
 *  - Our answer lists the common codecs in the offerer's order (RFC 3264
 *    6.1) plus telephone-event if offered; we send the first one, and the
 *    session decodes whichever the peer sends if it has the same audio
 *    rate (PCMU <-> PCMA, G.722 <-> Opus; a switch between 8 and 16 kHz
 *    is dropped).
 *    Codecs are matched by static payload type (0, 8, 9) and rtpmap name,
 *    or on a dynamic payload type (96..127) by rtpmap name alone
 *    (a=rtpmap:96 PCMU/8000); our answer keeps the offer's numbers and
 *    the params say which to send with. G722 is accepted with the common
 *    wrong clock rate 16000 too.
 *  - RTCP goes to a=rtcp's port (RFC 3605), and to its address when it
 *    names one (params->remote_rtcp_address), else to the RTP address.
 *  - ptime: we send with the peer's a=ptime (within its a=maxptime), as
 *    10..60 ms in steps of 10; our answer repeats it so both directions
 *    use the same packet time. Without one, our configured ptime.
 *  - Direction: hold (sp_offer_answer_set_hold) offers sendonly, or
 *    inactive when the peer holds us too (RFC 3264 8.4). An answer takes
 *    what the offer allows and what we want. A received c=0.0.0.0 (RFC
 *    2543 hold) means: the peer does not want to receive.
 *  - Streams: the first audio m= line with RTP/AVP (or RTP/AVPF) is ours;
 *    every other m= line is answered with port 0. An answer with port 0,
 *    or an initial offer with no usable audio, is an error; a re-offer
 *    that sets the audio port to 0 is answered with port 0 and yields
 *    params that send and receive nothing.
 *
 *  - Encryption (issue 16), SDES (RFC 4568) when the SIP hop is TLS
 *    (config->sdes): with the policy "preferred" our offer is RTP/AVP with
 *    a=crypto lines for AES_CM_128_HMAC_SHA1_80, AEAD_AES_128_GCM and
 *    AES_CM_128_HMAC_SHA1_32 (tags 1..3, that order: the suite every
 *    peer has first, the 32-bit tag last), so a plain peer still answers
 *    and one that does SDES answers one line ("best effort SRTP", as
 *    baresip's mediaenc=srtp and Linphone's non-mandatory SRTP do);
 *    "required" offers RTP/SAVP and fails an answer without a usable
 *    a=crypto; "off" offers neither. Our keys come from the kernel's
 *    CSPRNG, one per suite, made once per call and offered again in
 *    re-INVITEs (so the streams go on; SpSrtp keeps their state).
 *    Their offer: the first a=crypto line we can use (RFC 4568 7.1.1,
 *    the offerer's order) is answered with its tag and suite and our
 *    key, on RTP/AVP or RTP/SAVP as offered; an RTP/SAVP offer without
 *    one we can use, or any offer without one under "required", is
 *    refused (488). a=crypto that did not come over TLS is ignored
 *    (logged without the key). params->srtp says SRTP is in force;
 *    sp_offer_answer_get_sdes_keys gives the keys for SpSrtp.
 *
 * Errors: SP_MEDIA_ERROR (NO_COMMON_CODEC, REJECTED, NOT_ACCEPTABLE,
 * GLARE, FAILED) or, for SDP that does not parse, SP_SIP_ERROR;
 * sp_offer_answer_error_status () gives the SIP response code to send. */

typedef struct _SpOfferAnswer SpOfferAnswer;

/* Media encryption policy, per account and for direct calls. */
typedef enum
{
  SP_MEDIA_ENCRYPTION_PREFERRED, /* offered so that plain peers still accept; the default */
  SP_MEDIA_ENCRYPTION_REQUIRED,  /* SRTP or no call */
  SP_MEDIA_ENCRYPTION_OFF,       /* plain RTP; an offer that insists on SRTP is refused */
} SpMediaEncryption;

/* "preferred", "required", "off". */
const char *sp_media_encryption_to_string (SpMediaEncryption encryption);
gboolean sp_media_encryption_from_string (const char *text, SpMediaEncryption *encryption);

#define SP_OFFER_ANSWER_DTMF_PT 101

typedef struct
{
  /* IP literal for o= and c= (IPv6 without brackets). Required. */
  const char *local_address;
  guint16 rtp_port;  /* required */
  guint16 rtcp_port; /* 0 = rtp_port + 1 */
  /* Preference order; NULL = opus, G722, PCMA, PCMU. */
  const SpCodecId *codecs;
  guint n_codecs;
  guint ptime_ms; /* 0 = 20 */
  /* A packet time the user fixed: @ptime_ms is offered as a=ptime and
   * a=maxptime, and sent whatever the peer's a=ptime (only a lower
   * a=maxptime of the peer's lowers it); params->fixed_ptime says so. */
  gboolean fixed_ptime;
  /* telephone-event payload type we offer (96..127; 111 is Opus's and
   * gives 101); 0 = 101; -1 = do not offer or accept DTMF events. The
   * telephone-event/48000 beside Opus is 110, or 112 when this is 110. */
  gint dtmf_payload_type;
  gboolean no_rtcp_mux; /* do not offer or accept rtcp-mux */
  const char *username; /* o= user; NULL = "-" */
  /* DTLS-SRTP (RFC 5763, RFC 5764): our certificate's SHA-256
   * fingerprint ("AB:CD:..."); NULL = neither offered nor accepted
   * (nor with @encryption off). We offer a=fingerprint and
   * a=setup:actpass, and answer a=setup:active to actpass (passive to
   * active); an offer with both takes DTLS-SRTP over SDES. Preferred
   * keeps the RTP/AVP profile with the two attributes beside it (as
   * liblinphone's best-effort encryption does), so a plain RTP peer
   * ignores them and answers as ever; a peer that answers with its own
   * fingerprint gets DTLS-SRTP. An offer on UDP/TLS/RTP/SAVP(F), or on
   * RTP/AVP with a=fingerprint, is answered with DTLS-SRTP in the
   * offer's profile. Required without SDES offers UDP/TLS/RTP/SAVP. */
  const char *dtls_fingerprint;
  SpMediaEncryption encryption;
  /* The SIP hop this SDP travels is TLS: SDES keys may be sent and
   * taken. FALSE: no a=crypto goes out, and any that comes is ignored. */
  gboolean sdes;
} SpOfferAnswerConfig;

/* What offer/answer settled for DTLS-SRTP. */
typedef struct
{
  gboolean active; /* both sides gave a fingerprint: key the media with DTLS */
  SpDtlsSetup local_setup, remote_setup;
  /* The peer's a=fingerprint: hash ("sha-256") and value; they point into
   * the SpOfferAnswer and stay valid until its next offer or answer. */
  const char *remote_hash, *remote_fingerprint;
  /* The peer's a=tls-id (RFC 8842), NULL when it sent none; likewise. */
  const char *remote_tls_id;
} SpOfferAnswerDtls;

/* RFC 8842: whether the peer's tls-id names another DTLS association
 * than @before (both given and different; a peer without tls-id changes
 * nothing by that). */
gboolean sp_offer_answer_tls_id_changed (const char *before, const char *now);

/* Copies @config. The o= session id is random. */
SpOfferAnswer *sp_offer_answer_new (const SpOfferAnswerConfig *config);
void sp_offer_answer_free (SpOfferAnswer *oa);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpOfferAnswer, sp_offer_answer_free)

/* Our address changed (new media session, new interface): used by the
 * next offer or answer. @rtcp_port 0 = @rtp_port + 1. */
void sp_offer_answer_set_local (SpOfferAnswer *oa, const char *address, guint16 rtp_port,
                                guint16 rtcp_port);

/* Local hold, applied by the next offer (or answer). */
void sp_offer_answer_set_hold (SpOfferAnswer *oa, gboolean hold);
gboolean sp_offer_answer_get_hold (SpOfferAnswer *oa);

/* Our offer (an INVITE, a re-INVITE, or a 200 to an INVITE without SDP).
 * Returns the SDP text; the offer stays pending until answered or rolled
 * back. */
char *sp_offer_answer_create_offer (SpOfferAnswer *oa);

/* The answer to our pending offer. On success fills @params (see below).
 * On failure the pending offer is forgotten as by rollback. */
gboolean sp_offer_answer_process_answer (SpOfferAnswer *oa, const char *sdp, gsize len,
                                         SpMediaParams *params, GError **error);

/* Forgets the pending offer (it was refused): what was negotiated before
 * stays in force. The session version never goes back: the next offer
 * is compared with the refused one. */
void sp_offer_answer_rollback (SpOfferAnswer *oa);

/* Our first offer of an encrypted call names UDP/TLS/RTP/SAVP (RFC
 * 5764), the only profile on which some phones take DTLS-SRTP; a phone
 * without DTLS refuses it (488). Then this rolls the offer back and makes
 * the next one, with a=fingerprint still: "preferred" offers RTP/AVP (and
 * a=crypto over TLS), which plain phones answer too; "required" offers
 * RTP/SAVP with a=crypto, and only over TLS. FALSE (nothing done) when
 * that offer was not such a first try or nothing encrypted is left to
 * offer: the refusal stands. */
gboolean sp_offer_answer_fall_back (SpOfferAnswer *oa);

/* Answers the peer's offer: returns our SDP and fills @params, or NULL
 * with @error (nothing changes then: the previous negotiation stays).
 * Fails with SP_MEDIA_ERROR_GLARE while our own offer is pending. */
char *sp_offer_answer_process_offer (SpOfferAnswer *oa, const char *sdp, gsize len,
                                     SpMediaParams *params, GError **error);

/* @params->remote_address and remote_rtcp_address point into @oa and stay
 * valid until the next call on @oa (the session copies them in
 * sp_media_session_start ()). */

/* Whether this call can be encrypted at all with what the config allows
 * (SDES needs TLS; DTLS-SRTP needs our certificate). FALSE with
 * "required": the call cannot be made. */
gboolean sp_offer_answer_can_encrypt (SpOfferAnswer *oa);
/* The SDES keys in force after the last completed exchange: TRUE, the
 * suite, and our (@tx) and the peer's (@rx) master key + salt, each
 * *@key_len bytes (buffers of SP_SRTP_MAX_KEY_LEN). FALSE when the media
 * is not SDES-keyed. The caller wipes the copies. */
gboolean sp_offer_answer_get_sdes_keys (SpOfferAnswer *oa, SpSrtpSuite *suite, guint8 *tx,
                                        guint8 *rx, gsize *key_len);

/* TRUE once an offer/answer exchange has completed. */
gboolean sp_offer_answer_is_negotiated (SpOfferAnswer *oa);
/* TRUE while our offer waits for its answer. */
gboolean sp_offer_answer_has_pending_offer (SpOfferAnswer *oa);
/* The negotiated params (zeroed with codec PCMU before negotiation). */
void sp_offer_answer_get_params (SpOfferAnswer *oa, SpMediaParams *params);
/* The direction in the last SDP we sent / the peer's effective direction
 * in its last SDP (c=0.0.0.0 counted as not receiving). */
SpSdpDirection sp_offer_answer_get_local_direction (SpOfferAnswer *oa);
SpSdpDirection sp_offer_answer_get_remote_direction (SpOfferAnswer *oa);
/* DTLS-SRTP as negotiated by the last exchange (@dtls->active FALSE
 * when it was not, or before any). */
void sp_offer_answer_get_dtls (SpOfferAnswer *oa, SpOfferAnswerDtls *dtls);
/* TRUE when the peer has put us on hold (it does not want our audio). */
gboolean sp_offer_answer_is_remote_hold (SpOfferAnswer *oa);

/* Why the last sp_offer_answer_process_offer () or _process_answer ()
 * failed, in the user's language, for the window; NULL after a success
 * or when the SDP did not parse. The GError keeps the English text: it
 * is the Warning sent to the peer and what the log says. */
const char *sp_offer_answer_get_error_text (SpOfferAnswer *oa);

/* The SIP final response for an error from this module: 488 for media
 * that cannot be used, 491 for glare, 400 for SDP that does not parse,
 * 500 otherwise. */
guint sp_offer_answer_error_status (const GError *error);

G_END_DECLS
