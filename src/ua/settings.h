#pragma once

#include <glib.h>

#include "ua/account.h"

G_BEGIN_DECLS

/* Accounts on disk, in the config directory given (the app passes
 * $XDG_CONFIG_HOME/softphone, tests a temporary directory):
 *   accounts.ini   one group per account id, every field but the password
 *   passwords.ini  id = password, mode 0600, so only the user can read it
 * Both are written atomically (g_file_set_contents_full), so a crash
 * mid-save leaves the old file whole. */

#define SP_SETTINGS_ACCOUNTS_FILE  "accounts.ini"
#define SP_SETTINGS_PASSWORDS_FILE "passwords.ini"

/* Loads every account, in file order. A missing directory or file gives
 * an empty array, not an error. An account whose fields do not validate
 * is still loaded (nothing the user typed is dropped) with status FAILED
 * and the validation message as reason; the phone does not register it.
 * An unknown transport loads as udp with that same FAILED status.
 * Returns NULL with @error only when a file exists but cannot be read or
 * parsed. */
GPtrArray *sp_settings_load_accounts (const char *config_dir, GError **error);

/* Validates every account first and writes nothing if one fails (the
 * message names the account and the field). Creates @config_dir (0700)
 * when needed. */
gboolean sp_settings_save_accounts (const char *config_dir, SpAccount *const *accounts,
                                    guint n_accounts, GError **error);

G_END_DECLS
