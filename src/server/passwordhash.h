#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Passwords kept at rest only as a salted, deliberately slow hash
 * (yescrypt through libcrypt, the scheme Debian 12 uses for /etc/shadow),
 * in the crypt(5) text form "$y$...". For passwords a program checks
 * itself, like the web console's admin password; SIP digest users need
 * HA1 instead (see userdb.h). */

/* A new hash of @password with a fresh random salt; NULL with @error when
 * libcrypt refuses (no entropy, out of memory). */
char *sp_password_hash_new (const char *password, GError **error);

/* TRUE when @password matches @hash. Any malformed @hash (including a
 * plain password) matches nothing. Compares in constant time. */
gboolean sp_password_hash_verify (const char *hash, const char *password);

/* TRUE when @text is a crypt(5) hash this machine's libcrypt accepts
 * ("$" followed by a known method), so a stored value can be told apart
 * from a plain password written by an older version. */
gboolean sp_password_hash_is_hash (const char *text);

G_END_DECLS
