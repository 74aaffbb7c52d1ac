#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* "Run in the background and start at login": the XDG Autostart entry in
 * $XDG_CONFIG_HOME/autostart/. GLib only, so unit tests build it.
 *
 * A window started with --bind and --config-dir is a phone of its own; its
 * entry starts it again with the same options, and is a file of its own
 * (named for the configuration directory), so two such phones do not
 * overwrite each other's entry: net.example.softphone.desktop without
 * --config-dir, net.example.softphone-HASH.desktop with one (HASH: 16 hex
 * digits of the directory's absolute path's SHA-256). */

/* The entry's path for @config_dir (NULL: the XDG directories). */
char *sp_autostart_dup_path (const char *app_id, const char *config_dir);

/* The Exec= command (before the key file's own escaping): @exe
 * --background, then --bind @bind and --config-dir @config_dir (absolute)
 * when given, each argument quoted as the Desktop Entry Specification
 * asks (double quotes; \, ", ` and $ escaped; % doubled). */
char *sp_autostart_dup_exec (const char *exe, const char *bind, const char *config_dir);

/* Writes (atomically) or removes the entry. */
gboolean sp_autostart_write (const char *app_id, const char *exe, const char *bind,
                             const char *config_dir, GError **error);
gboolean sp_autostart_remove (const char *app_id, const char *config_dir, GError **error);

G_END_DECLS
