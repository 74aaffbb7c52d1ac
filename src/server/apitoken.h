#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The web console's API token: a random secret in a file of the config
 * directory that only its owner can read, for scripts that change things
 * through the API (`Authorization: Bearer TOKEN`). Whoever can read the
 * file is trusted as the administrator, as for the users file itself. */

#define SP_API_TOKEN_FILE "web-console-token"

/* @dir/web-console-token (newly allocated). */
char *sp_api_token_path (const char *dir);

/* Reads the token from @dir/web-console-token, creating @dir (0700) and
 * the file (0600) with 32 bytes from the system's cryptographic generator
 * (64 hex digits) when it is missing. A file that others may read, or
 * that does not hold a token, is replaced by a new one: a token that may
 * have been seen is no secret. Errors name the path, never the token. */
char *sp_api_token_load_or_create (const char *dir, GError **error);

/* Compares a presented token with ours in constant time. */
gboolean sp_api_token_equal (const char *token, const char *presented);

G_END_DECLS
