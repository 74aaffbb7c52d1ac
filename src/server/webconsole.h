#pragma once

#include "server/calllist.h"
#include "server/location.h"
#include "server/userdb.h"

#include <glib-object.h>

G_BEGIN_DECLS

/* The server's web console and JSON API (libsoup):
 *   GET    /                    HTML status page, refreshes itself
 *   GET    /api/registrations   bindings of the location store
 *   GET    /api/calls           calls of the call list
 *   GET    /api/users           users (names and numbers, never HA1)
 *   POST   /api/users           {"name", "password", "number"?} -> 201
 *   DELETE /api/users/NAME      204, or 404
 * Errors are JSON {"error": "..."} with 400/403/404/405/409/413.
 *
 * Who may do what (docs/SECURITY.md):
 * - It listens on loopback unless told otherwise; any other address needs
 *   an admin password, then asked for on every path.
 * - Credentials: `Authorization: Basic` with user "admin" and the admin
 *   password (checked against its yescrypt hash, see passwordhash.h), or
 *   `Authorization: Bearer TOKEN` with the API token (apitoken.h).
 * - Reading (GET, HEAD) needs no credential on loopback without an admin
 *   password; requests must then name a loopback Host (against DNS
 *   rebinding). No answer ever holds a password, hash, HA1 or the token.
 * - Every other method changes something and needs a credential, even on
 *   loopback (another local user or a local program must not add users);
 *   it must come without a foreign Origin or Sec-Fetch-Site, and POST
 *   must be application/json, so a web page in the administrator's
 *   browser cannot ride on the browser's remembered password (a
 *   cross-site JSON POST or a DELETE needs a CORS preflight, which is
 *   refused).
 * - Wrong credentials are counted per client address (SpAuthGuard): 10
 *   within a minute lock it out for 5 minutes (429). */

#define SP_WEB_CONSOLE_ERROR (sp_web_console_error_quark ())

typedef enum
{
  SP_WEB_CONSOLE_ERROR_NEEDS_PASSWORD = 1,
  SP_WEB_CONSOLE_ERROR_BAD_ADDRESS,
  SP_WEB_CONSOLE_ERROR_RUNNING,
  SP_WEB_CONSOLE_ERROR_BAD_PASSWORD_HASH,
} SpWebConsoleError;

GQuark sp_web_console_error_quark (void);

#define SP_WEB_CONSOLE_ADMIN_USER "admin"
#define SP_WEB_CONSOLE_REALM      "Softphone"
/* Largest request body accepted (413 beyond). */
#define SP_WEB_CONSOLE_MAX_BODY (64 * 1024)
/* Seconds between refreshes of the HTML page. */
#define SP_WEB_CONSOLE_REFRESH 5

/* Parses "ADDR:PORT", "[IPv6]:PORT" or "PORT" (address 127.0.0.1), as
 * --http takes it. */
gboolean sp_web_console_parse_listen (const char *text, char **address, guint16 *port,
                                      GError **error);

#define SP_TYPE_WEB_CONSOLE (sp_web_console_get_type ())
G_DECLARE_FINAL_TYPE (SpWebConsole, sp_web_console, SP, WEB_CONSOLE, GObject)

/* Any of the sources may be NULL (its list is then empty, and POST /
 * DELETE users answer 503). The console changes @users through the
 * API; saving them is the owner's business (SpUserDb::changed). Deleting
 * a user also drops their registrations. */
SpWebConsole *sp_web_console_new (SpUserDb *users, SpLocationStore *locations,
                                  SpServerCallList *calls);

/* The API token that allows changes (see apitoken.h); NULL for none.
 * Takes effect at once. */
void sp_web_console_set_token (SpWebConsole *console, const char *token);
/* The SIP TLS listener's port and its certificate's SHA-256 fingerprint,
 * shown on the status page and in GET /api/status (port 0: none). */
void sp_web_console_set_tls (SpWebConsole *console, guint16 port, const char *fingerprint);

/* Listens on @address (an IP literal; NULL: 127.0.0.1) and @port (0: any
 * free port, see get_port). @admin_password_hash is the admin password's
 * hash from sp_password_hash_new (a plain password is refused); it may be
 * NULL (or "") only for a loopback address. Runs in the thread-default
 * main context. */
gboolean sp_web_console_start (SpWebConsole *console, const char *address, guint16 port,
                               const char *admin_password_hash, GError **error);
void sp_web_console_stop (SpWebConsole *console);
gboolean sp_web_console_is_running (SpWebConsole *console);
/* The port actually listened on, 0 when stopped. */
guint16 sp_web_console_get_port (SpWebConsole *console);
/* "http://127.0.0.1:PORT/" (IPv6 in brackets), or NULL when stopped. */
char *sp_web_console_dup_url (SpWebConsole *console);

G_END_DECLS
