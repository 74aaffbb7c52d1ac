#pragma once

#include <adwaita.h>

#include "application.h"

G_BEGIN_DECLS

/* The Accounts page: the application's accounts as a list box bound to
 * their model, each row with its status, an Enable switch, Edit and
 * Delete, all through the window's actions (win.edit-account('ID'),
 * win.delete-account('ID'), win.enable-account(('ID', true))). */

#define SP_TYPE_ACCOUNTS_PAGE (sp_accounts_page_get_type ())
G_DECLARE_FINAL_TYPE (SpAccountsPage, sp_accounts_page, SP, ACCOUNTS_PAGE, AdwBin)

SpAccountsPage *sp_accounts_page_new (SpApplication *app);

G_END_DECLS
