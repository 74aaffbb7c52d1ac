#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The one source of unpredictable values for the SIP stack and the
 * server: tags, branches, Call-IDs, cnonces and nonce keys. They come
 * from the kernel's cryptographic generator (getrandom(2)), because a
 * guessable tag or branch lets an off-path attacker inject BYEs and
 * CANCELs, and a guessable nonce key lets one forge nonces. GLib's
 * g_random_* (a Mersenne Twister) is predictable from its output and is
 * not used for these. */

/* Fills @buf with @len random bytes. Blocks only before the kernel's pool
 * is first seeded (early boot). */
void sp_random_bytes (void *buf, gsize len);
guint32 sp_random_uint32 (void);
/* @n_chars characters of [A-Za-z0-9] (about 5.95 bits each). */
char *sp_random_token (guint n_chars);

G_END_DECLS
