#pragma once

#include <adwaita.h>

#include "node/node.h"
#include "ua/account.h"
#include "server/server.h"
#include "ua/phone.h"
#include "ua/siplog.h"

G_BEGIN_DECLS

/* The desktop application: one instance per session. A second
 * `softphone sip:2@host`, or a sip:/tel: link opened from a browser, is
 * handed to the running instance and dials in its window (app.dial).
 *
 * It owns what the windows observe: the accounts, the calls and the SIP
 * message log, all as GListModels, so the UI is a view over the core. */

#define SP_TYPE_APPLICATION (sp_application_get_type ())
G_DECLARE_FINAL_TYPE (SpApplication, sp_application, SP, APPLICATION, AdwApplication)

SpApplication *sp_application_new (void);

/* Runs the GUI; what main () returns for the non-headless path.
 * @background (--background, the autostart file's): no window until
 * Softphone is started again or a call's notification is clicked; with
 * an instance already running, nothing happens. @bind ("ADDR[:PORT]",
 * checked already) and @config_dir (settings, accounts, users and state
 * all there) are --bind and --config-dir, NULL when not given; with
 * either, the instance is not unique (two windows side by side). */
int sp_application_run (int argc, char **argv, gboolean background, const char *bind,
                        const char *config_dir);

GSettings *sp_application_get_settings (SpApplication *self);
/* The core object (node.h) the window observes and commands. */
SpNode *sp_application_get_node (SpApplication *self);
/* Whether the phone lets computers on the LAN find it (the "lan-visible"
 * setting; "auto": while its server is off). */
gboolean sp_application_get_lan_visible (SpApplication *self);
SpPhone *sp_application_get_phone (SpApplication *self);
/* The mini-server; running while the "server-enabled" setting is on. */
SpServer *sp_application_get_server (SpApplication *self);
/* The server's web console (started with the server, on the
 * "web-console-address" setting): its URL, NULL while not running; and
 * why it is not running, in plain words, NULL when it runs or the server
 * is off. "web-console-changed" tells when either changes. */
char *sp_application_dup_web_console_url (SpApplication *self);
const char *sp_application_get_web_console_error (SpApplication *self);
/* Stores the admin password of the web console as its hash (never the
 * password itself); "" removes it. FALSE with @error when it cannot be
 * hashed. TRUE from has_... when one is set. */
gboolean sp_application_set_web_console_password (SpApplication *self, const char *password,
                                                  GError **error);
gboolean sp_application_has_web_console_password (SpApplication *self);
/* Why the server did not start when last switched on (its port held by
 * another program...), for people; NULL while it runs or after it was
 * switched off. "web-console-changed" tells when it changes too. */
const char *sp_application_get_server_error (SpApplication *self);
/* $XDG_CONFIG_HOME/softphone: accounts, users, routes. */
const char *sp_application_get_config_dir (SpApplication *self);
/* SpAccount items, in the user's order. */
GListModel *sp_application_get_accounts (SpApplication *self);
/* SpCall items: the calls in progress. */
GListModel *sp_application_get_calls (SpApplication *self);
SpSipLog *sp_application_get_sip_log (SpApplication *self);

/* The port the "sip-bind" setting asks for, when another program held
 * it and the phone listens on another one (see sp_phone_start_any_port);
 * 0 when the phone has the port asked for, or is not listening. */
guint16 sp_application_get_moved_from_port (SpApplication *self);
/* What another person dials to reach this computer directly: "HOST", or
 * "HOST:PORT" off 5060; for a phone on every address, this computer's
 * first network address. NULL when the phone is not listening. */
char *sp_application_dup_direct_address (SpApplication *self);

/* Adds @account (when new) and writes every account to disk. On error
 * nothing changes, in memory or on disk. */
gboolean sp_application_save_account (SpApplication *self, SpAccount *account, GError **error);
gboolean sp_application_remove_account (SpApplication *self, SpAccount *account, GError **error);

/* The text of an account's status for people: "Registered",
 * "Failed: 403 Forbidden", "Disabled", "Direct calls only". */
char *sp_application_describe_account_status (SpAccount *account);

G_END_DECLS
