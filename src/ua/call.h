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
