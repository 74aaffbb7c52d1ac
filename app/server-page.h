#pragma once

#include <adwaita.h>

#include "application.h"

G_BEGIN_DECLS

/* The Server page: the switch and address of the mini-server, the phones
 * registered and the calls it carries now, its users and routing rules
 * (each a list box bound to the server's models), who may call without
 * a password, the web console and the Yate imports.
 *
 * The window's actions call these; the page's buttons activate those
 * actions (win.server-remove-user('alice'), win.route-move(('RULE', -1)),
 * ...), so a click, a shortcut and a test all take the same way. */

#define SP_TYPE_SERVER_PAGE (sp_server_page_get_type ())
G_DECLARE_FINAL_TYPE (SpServerPage, sp_server_page, SP, SERVER_PAGE, AdwBin)

SpServerPage *sp_server_page_new (SpApplication *app);

/* Asks for a new user's name, number and password. */
void sp_server_page_add_user (SpServerPage *self);
void sp_server_page_remove_user (SpServerPage *self, const char *name);
/* @what: "regfile" (users) or "regexroute" (routes): asks for the file. */
void sp_server_page_import (SpServerPage *self, const char *what);
/* Appends a rule in regexroute.conf syntax; a bad one is explained under
 * the new-rule entry and not added. */
void sp_server_page_add_route (SpServerPage *self, const char *rule);
/* The first rule that reads @rule; @delta -1 moves it up, +1 down. */
void sp_server_page_remove_route (SpServerPage *self, const char *rule);
void sp_server_page_move_route (SpServerPage *self, const char *rule, int delta);

G_END_DECLS
