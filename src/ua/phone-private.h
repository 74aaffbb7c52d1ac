#pragma once

#include "audio/device.h"
#include "media/session.h"
#include "sip/stack.h"
#include "ua/account-credentials.h"
#include "ua/phone.h"

G_BEGIN_DECLS

/* What calls need from the phone (src/ua/ only). */
SpSipStack *sp_phone_get_stack (SpPhone *self);
/* @account's credential store (borrowed; created on first use), shared
 * by its registration and its calls. */
SpCredentials *sp_phone_get_credentials (SpPhone *self, SpAccount *account);
/* NULL when media could not start; calls then go on without audio. */
SpMediaEngine *sp_phone_get_media_engine (SpPhone *self);
/* New devices for one call: the --audio-in/--audio-out WAV files, else
 * null devices (the GUI plugs ALSA in here). */
void sp_phone_open_devices (SpPhone *self, SpAudioDevice **source, SpAudioDevice **sink);
/* The "ptime" property: the packet time of calls without an account's
 * own (0 = automatic). */
guint sp_phone_get_ptime (SpPhone *self);
SpMediaEncryption sp_phone_get_media_encryption (SpPhone *self);
/* The "audio-in" (SP_AUDIO_SOURCE) or "audio-out" property: the device the
 * user prefers (Preferences, --audio-in/--audio-out); NULL = null. */
const char *sp_phone_get_audio_device_name (SpPhone *self, SpAudioDirection direction);
guint sp_phone_get_media_timeout (SpPhone *self);
/* Seconds an incoming call rings before 480 (0 = until cancelled). */
guint sp_phone_get_ring_timeout (SpPhone *self);
/* The "detect-inband-dtmf" property: SpMediaParams.detect_inband_dtmf. */
gboolean sp_phone_get_detect_inband_dtmf (SpPhone *self);
/* The "echo-cancellation" property: SpMediaParams.echo_cancellation. */
gboolean sp_phone_get_echo_cancellation (SpPhone *self);
/* Our address as @remote_host (an IP literal, or NULL) sees it: the bound
 * address, or when bound to 0.0.0.0 / :: the one the route to it leaves
 * from (the wildcard means nothing to a peer: in SDP it even means hold). */
char *sp_phone_dup_local_host_towards (SpPhone *self, const char *remote_host);
/* A call reached ENDED: history, "call-ended", removal from the list. */
void sp_phone_call_ended (SpPhone *self, SpCall *call);
/* Takes @session, which plays a busy or error tone on the ended call's
 * output: the phone stops and frees it after @ms (or when disposed,
 * before the media engine goes). */
void sp_phone_keep_tone (SpPhone *self, SpMediaSession *session, guint ms);
/* Holds every established call but @except. */
void sp_phone_hold_others (SpPhone *self, SpCall *except);

G_END_DECLS
