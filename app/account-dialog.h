#pragma once

#include <adwaita.h>

#include "application.h"

G_BEGIN_DECLS

/* The account dialog, as Yate's users know it: Protocol, Account,
 * Username, Password, Server, and an Advanced part (port, transport,
 * display name, outbound proxy). It edits a copy of the fields: nothing
 * changes, in memory or on disk, until OK, and OK only closes the dialog
 * when every field is valid and the accounts were written. Errors show
 * under the group of the field at fault. */

#define SP_TYPE_ACCOUNT_DIALOG (sp_account_dialog_get_type ())
G_DECLARE_FINAL_TYPE (SpAccountDialog, sp_account_dialog, SP, ACCOUNT_DIALOG, AdwWindow)

/* @account NULL: a new account. */
SpAccountDialog *sp_account_dialog_new (GtkWindow *parent, SpApplication *app, SpAccount *account);

G_END_DECLS
