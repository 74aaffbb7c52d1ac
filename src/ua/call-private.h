#pragma once

#include "ua/call.h"

G_BEGIN_DECLS

/* For the phone (src/ua/ only): creating calls and driving their state.
 * The SIP dialog and media behind a call plug in here as the stack and
 * media layers land. */

SpCall *sp_call_new (const char *id, SpCallDirection direction, const char *peer,
                     const char *peer_display_name, SpAccount *account, const char *sip_call_id);
/* Moves to @state; entering ESTABLISHED starts the duration clock. */
void sp_call_set_state (SpCall *self, SpCallState state);
void sp_call_set_codec (SpCall *self, const char *codec);
/* Moves to ENDED with @reason and @code, once; emits "ended". */
void sp_call_end (SpCall *self, const char *reason, guint code);
/* Fills a history record from the call (after it ended). */
SpCallRecord *sp_call_to_record (SpCall *self);
gint64 sp_call_get_start_time (SpCall *self);

G_END_DECLS
