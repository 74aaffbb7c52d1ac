#pragma once

#include <glib-object.h>

#include "media/session.h"
#include "ua/account.h"
#include "ua/history.h"

G_BEGIN_DECLS

/* One call, incoming or outgoing, as the UI and the headless runner see
 * it. The SIP dialog and the media session behind it stay private to
 * src/ua/. Every field is a property with notify. */

typedef enum
{
  SP_CALL_STATE_DIALING,     /* INVITE sent, nothing heard yet (or 100) */
  SP_CALL_STATE_RINGING,     /* 180/183 from the remote side */
  SP_CALL_STATE_INCOMING,    /* INVITE received, ringing here */
  SP_CALL_STATE_ESTABLISHED, /* answered, media flowing */
  SP_CALL_STATE_HELD,        /* on hold (by us) */
  SP_CALL_STATE_ENDED,       /* final: see end reason and code */
} SpCallState;

/* What protects a call (issue 16), as flags: the "protection" property,
 * notified on change. The headless events name the set flags by their
 * nicks ("tls", "srtp-sdes", "dtls-srtp", "end-to-end", "verified").
 *  TLS         the SIP hop this call's signalling takes is TLS (sips: or
 *              transport=tls); says nothing of the hops beyond it
 *  SRTP_SDES   the media is SRTP keyed by a=crypto (RFC 4568)
 *  DTLS_SRTP   the media is SRTP keyed by DTLS (RFC 5764)
 *  END_TO_END  the keys were agreed with the far phone itself (DTLS with
 *              fingerprints that a server relayed untouched)
 *  VERIFIED    the users compared the short authentication string */
typedef enum /*< flags >*/
{
  SP_CALL_PROTECTION_NONE = 0,
  SP_CALL_PROTECTION_TLS = 1 << 0,
  SP_CALL_PROTECTION_SRTP_SDES = 1 << 1,
  SP_CALL_PROTECTION_DTLS_SRTP = 1 << 2,
  SP_CALL_PROTECTION_END_TO_END = 1 << 3,
  SP_CALL_PROTECTION_VERIFIED = 1 << 4,
} SpCallProtection;

/* SP_TYPE_CALL_STATE: glib-mkenums. */
#include "sp-enums.h"
/* "dialing", "ringing", "incoming", "established", "held", "ended". */
const char *sp_call_state_to_string (SpCallState state);

#define SP_TYPE_CALL (sp_call_get_type ())
G_DECLARE_FINAL_TYPE (SpCall, sp_call, SP, CALL, GObject)

/* Short id, unique in the phone ("1", "2", ...): what commands name. */
const char *sp_call_get_id (SpCall *self);
/* The SIP Call-ID. */
const char *sp_call_get_sip_call_id (SpCall *self);
SpCallState sp_call_get_state (SpCall *self);
SpCallDirection sp_call_get_direction (SpCall *self);
/* The remote party: URI as a string, and display name or NULL. */
const char *sp_call_get_peer (SpCall *self);
const char *sp_call_get_peer_display_name (SpCall *self);
/* The account the call goes through, or NULL for a direct call. */
SpAccount *sp_call_get_account (SpCall *self);
/* Codec name once established ("PCMU/8000"), else NULL. */
const char *sp_call_get_codec (SpCall *self);
gboolean sp_call_get_muted (SpCall *self);
SpCallProtection sp_call_get_protection (SpCall *self);
/* The nicks of the flags set in @protection, in flag order ("tls",
 * "srtp-sdes"); an empty vector for none. g_strfreev () it. */
char **sp_call_protection_to_strv (SpCallProtection protection);
/* DTLS-SRTP's short authentication string (media/sas.h): four words,
 * the same on both phones when nobody in between replaced the
 * fingerprints; NULL until the DTLS handshake is through (the "sas"
 * property, notified). */
const char *sp_call_get_sas (SpCall *self);
/* The users read the words to each other and they match: sets
 * SP_CALL_PROTECTION_VERIFIED. FALSE (nothing changes) without a SAS. */
gboolean sp_call_confirm_sas (SpCall *self);
/* Seconds since established (0 before; frozen once ended). */
guint sp_call_get_duration (SpCall *self);
/* Once ended: why ("User hangup", "Busy Here", "media timeout",
 * "No common codec: offered PCMU, answer G722") and the SIP status that
 * ended it (0 when none, e.g. a BYE). */
const char *sp_call_get_end_reason (SpCall *self);
/* The end reason in the user's language, for the window: the fixed
 * reasons translated, and those built from parts ("No common codec: we
 * offer PCMU, they offer G722") translated as a whole. The English one
 * above is what events, the history and scripts see. NULL before the end. */
const char *sp_call_get_end_reason_text (SpCall *self);
guint sp_call_get_end_code (SpCall *self);

/* The media statistics (RTCP jitter, loss, RTT, packets), refreshed
 * every second while the media runs ("stats-changed") and frozen when
 * the call ends. FALSE (and @stats zeroed, rtt_ms -1) before any media. */
gboolean sp_call_get_stats (SpCall *self, SpMediaStats *stats);

/* The microphone's level while the media runs, in dBFS (-96.0 when
 * silent, before the answer and after the end); changes at most 15 times
 * a second. Cheap: for a meter that polls while the call is shown. */
double sp_call_get_input_level (SpCall *self);

/* Switches the call's audio input or output (by @device's direction;
 * transfer full), at once when the media runs. */
void sp_call_set_audio_device (SpCall *self, SpAudioDevice *device);

/* Actions. Each returns FALSE with an error when the state does not
 * allow it ("call 2 is not ringing"). */
gboolean sp_call_answer (SpCall *self, GError **error);
/* Before answer: CANCEL (outgoing) or 486/603 (incoming); after: BYE. */
gboolean sp_call_hangup (SpCall *self, GError **error);
gboolean sp_call_hold (SpCall *self, GError **error);
gboolean sp_call_resume (SpCall *self, GError **error);
void sp_call_set_muted (SpCall *self, gboolean muted);
/* Digits 0-9 * # A-D, sent as RFC 4733 events. */
gboolean sp_call_send_dtmf (SpCall *self, const char *digits, GError **error);
/* Blind transfer: REFER to @target (number or URI, as for a call). */
gboolean sp_call_transfer (SpCall *self, const char *target, GError **error);

/* Signals:
 *   "dtmf-received" (char digit, const char *method)  method: "rfc4733", "inband"
 *                                                       (a tone in the audio) or "info"
 *   "ended" ()  once, when the state becomes ENDED
 *   "stats-changed" ()  new media statistics (about every second)
 *   "audio-device-failed" (guint direction, const char *device, const char *now_using,
 *       const char *message)  the call's input (SP_AUDIO_SOURCE) or output
 *       went away or failed; the call goes on with @now_using: the
 *       phone's "audio-in"/"audio-out" device (the one the user prefers)
 *       if it is another ALSA device and opens, else ALSA `default` after
 *       another ALSA device, else "null" (silence) */

G_END_DECLS
