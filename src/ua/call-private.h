#pragma once

#include "sip/stack.h"
#include "ua/call.h"
#include "ua/account-credentials.h"
#include "ua/target.h"

typedef struct _SpPhone SpPhone;

G_BEGIN_DECLS

/* For the phone (src/ua/ only): creating calls and driving their state.
 * The SIP dialog and media behind a call plug in here as the stack and
 * media layers land. */

SpCall *sp_call_new (const char *id, SpCallDirection direction, const char *peer,
                     const char *peer_display_name, SpAccount *account, const char *sip_call_id);
/* Moves to @state; entering ESTABLISHED starts the duration clock. */
void sp_call_set_state (SpCall *self, SpCallState state);
void sp_call_set_codec (SpCall *self, const char *codec);
/* Sets the flags in @set and clears those in @clear (either may be 0);
 * notifies "protection" if that changed anything. */
void sp_call_update_protection (SpCall *self, SpCallProtection set, SpCallProtection clear);
/* Moves to ENDED with @reason and @code, once; emits "ended". */
void sp_call_end (SpCall *self, const char *reason, guint code);
/* The phone is going away (disposed): ends the call where it stands,
 * without a BYE, and frees its media, which runs on the phone's media
 * engine, so that a call still held elsewhere uses nothing of the
 * phone's. */
void sp_call_detach_phone (SpCall *self);
/* Fills a history record from the call (after it ended). */
SpCallRecord *sp_call_to_record (SpCall *self);
gint64 sp_call_get_start_time (SpCall *self);

/* Sends the INVITE for @target (From @from). FALSE with @error when it
 * cannot go out at all. */
gboolean sp_call_start_outgoing (SpCall *self, SpPhone *phone, SpTarget *target,
                                 SpSipNameAddr *from, GError **error);
/* Takes an incoming INVITE: rings (180), or rejects it: 486 when @busy
 * (do-not-disturb), 488 with a reason when no codec matches. Nothing is
 * opened until the answer (no RTP socket, no device); unanswered after
 * the phone's ring timeout, it ends with 480. @credentials (may be NULL):
 * the account whose server sent it, for challenges to our BYE. */
void sp_call_start_incoming (SpCall *self, SpPhone *phone, SpSipServerTransaction *st,
                             SpSipMessage *invite, gboolean busy, SpCredentials *credentials);
/* Where an incoming call's INVITE came from (NULL for outgoing calls). */
const SpSipPeer *sp_call_get_source (SpCall *self);
/* A request inside this call's dialog (BYE, re-INVITE, INFO, ...). */
gboolean sp_call_handle_request (SpCall *self, SpSipServerTransaction *st, SpSipMessage *request);
/* The ACK for a 2xx we sent (it may carry the answer to our offer). */
void sp_call_handle_ack (SpCall *self, SpSipMessage *ack);
/* No ACK came for our 2xx; the stack has sent BYE. */
void sp_call_handle_ack_timeout (SpCall *self);

G_END_DECLS
