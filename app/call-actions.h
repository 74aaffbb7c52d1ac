#pragma once

#include <gio/gio.h>

#include "application.h"

G_BEGIN_DECLS

/* The commands on one call, as actions of the window, each naming its
 * call by id (sp_call_get_id): the call row's buttons, shortcuts and
 * scripts (org.gtk.Actions on the session bus) use them alike.
 *
 *   call-answer('ID')             take the incoming call
 *   call-hangup('ID')             hang up, or decline a call still ringing
 *   call-hold(('ID', true))       hold (true) or resume (false)
 *   call-mute(('ID', true))       mute the microphone (true) or not
 *   call-dtmf(('ID', '5#'))       send DTMF digits (0-9, *, #, A-D)
 *   call-transfer(('ID', 'TARGET'))  blind transfer (REFER)
 *
 * A call that is gone does nothing; a refused command (not in a call,
 * a bad digit) is said through @report as a plain sentence. */

typedef void (*SpCallActionsReportFunc) (const char *message, gpointer user_data);

void sp_call_actions_add (GActionMap *map, SpApplication *app, SpCallActionsReportFunc report,
                          gpointer user_data);

G_END_DECLS
