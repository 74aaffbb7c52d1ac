#pragma once

#include <gtk/gtk.h>

#include "ua/call.h"

G_BEGIN_DECLS

/* One call in the Calls list: peer, state, duration and the buttons that
 * act on it ("Take the call", Hold, Mute, DTMF, Transfer, Hangup). An
 * incoming call is highlighted. The buttons are the window's call actions
 * with the call's id as target (win.call-hold(('ID', true)) and so on,
 * app/call-actions.h), which say their errors as toasts. */

#define SP_TYPE_CALL_ROW (sp_call_row_get_type ())
G_DECLARE_FINAL_TYPE (SpCallRow, sp_call_row, SP, CALL_ROW, GtkWidget)

SpCallRow *sp_call_row_new (void);
/* @call may be NULL to unbind. */
void sp_call_row_set_call (SpCallRow *self, SpCall *call);
SpCall *sp_call_row_get_call (SpCallRow *self);

/* The state in words people use: "Calling…", "Incoming call", "In call". */
const char *sp_call_row_describe_state (SpCallState state);
/* What protects a call, short, for its row: "TLS · SRTP", "TLS · Audio
 * not encrypted", "DTLS-SRTP · End to end · Verified"; NULL for
 * nothing at all (a plain call says "Audio not encrypted" only once it is
 * answered, @live). */
char *sp_call_row_describe_protection (SpCallProtection protection, gboolean live);

G_END_DECLS
