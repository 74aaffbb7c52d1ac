#pragma once

#include <adwaita.h>

#include "application.h"

G_BEGIN_DECLS

/* The main window: navigation between the pages Calls, Accounts, Server,
 * Log and History (each its own widget, made when first shown), and the
 * first-run welcome.
 *
 * Every user command is an action of the window, exported on D-Bus with
 * the application's: win.call, win.dial('sip:2@host'), win.show-page('log'),
 * win.new-account, win.edit-account('ID'), win.delete-account('ID'),
 * win.enable-account(('ID', false)), win.clear-log, win.server-add-user,
 * win.server-remove-user('alice'), win.server-import('regfile'),
 * win.route-add('RULE'), win.route-remove('RULE'), win.route-move(('RULE', -1)),
 * win.focus-dial, the welcome's win.welcome-*, and each call's
 * win.call-answer('ID'), win.call-hangup('ID'), win.call-hold(('ID', true)),
 * win.call-mute(('ID', true)), win.call-dtmf(('ID', '5')),
 * win.call-transfer(('ID', 'TARGET')), win.call-sas-match('ID') (app/call-actions.h). Buttons,
 * shortcuts, notifications and tests all go through them. */

#define SP_TYPE_WINDOW (sp_window_get_type ())
G_DECLARE_FINAL_TYPE (SpWindow, sp_window, SP, WINDOW, AdwApplicationWindow)

SpWindow *sp_window_new (SpApplication *app);

/* "calls", "accounts", "server", "log", "history". */
void sp_window_show_page (SpWindow *self, const char *name);
/* Puts @target in the number entry and calls it. */
void sp_window_dial (SpWindow *self, const char *target);
/* Calls what the number entry holds, through the chosen account. */
void sp_window_place_call (SpWindow *self);
void sp_window_hangup_current (SpWindow *self);
void sp_window_answer_current (SpWindow *self);
/* A plain sentence for the user, shown as a toast. */
void sp_window_show_error (SpWindow *self, const char *message);
/* The same from a widget inside a window (a page, a row). */
void sp_window_toast (GtkWidget *inside, const char *message);

G_END_DECLS
