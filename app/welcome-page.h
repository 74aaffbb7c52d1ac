#pragma once

#include <adwaita.h>

#include "application.h"

G_BEGIN_DECLS

/* The first-run welcome: the three things a person comes for, each one
 * step away (register with the office server, run it here, call another
 * computer directly, with this computer's address to give out). Its
 * buttons are the window's actions win.welcome-account, -server, -call
 * and -close; the window makes it only on a first run. */

#define SP_TYPE_WELCOME_PAGE (sp_welcome_page_get_type ())
G_DECLARE_FINAL_TYPE (SpWelcomePage, sp_welcome_page, SP, WELCOME_PAGE, AdwBin)

SpWelcomePage *sp_welcome_page_new (SpApplication *app);

/* The other computer's address as typed, trimmed. */
char *sp_welcome_page_dup_address (SpWelcomePage *self);
/* Marks the address field with @message, for eyes and screen readers,
 * and puts the focus there. */
void sp_welcome_page_show_address_error (SpWelcomePage *self, const char *message);

G_END_DECLS
