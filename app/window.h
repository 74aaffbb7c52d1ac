#pragma once

#include <adwaita.h>

#include "application.h"

G_BEGIN_DECLS

/* The main window: pages Calls, Accounts, Server, Log and History in an
 * AdwViewStack. Every user command is a GAction ("win.call",
 * "win.show-page('log')", ...) so buttons, shortcuts and tests all go
 * through the same door. */

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

G_END_DECLS
