#pragma once

#include <adwaita.h>

#include "application.h"

G_BEGIN_DECLS

/* The Calls page: the number entry with its account chooser and dial
 * pad, and the calls in progress as a list view of the application's
 * call model. Its buttons go through the window's actions (win.call). */

#define SP_TYPE_CALLS_PAGE (sp_calls_page_get_type ())
G_DECLARE_FINAL_TYPE (SpCallsPage, sp_calls_page, SP, CALLS_PAGE, AdwBin)

SpCallsPage *sp_calls_page_new (SpApplication *app);

/* Calls what the number entry holds, through the chosen account; a plain
 * sentence in a toast when it cannot. */
void sp_calls_page_place_call (SpCallsPage *self);
/* Puts @target in the number entry (replacing its text). */
void sp_calls_page_set_target (SpCallsPage *self, const char *target);
/* The next call goes direct, without an account. */
void sp_calls_page_choose_direct (SpCallsPage *self);
void sp_calls_page_focus_entry (SpCallsPage *self);

G_END_DECLS
