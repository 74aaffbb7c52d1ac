#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Trust on first use for TLS servers whose certificate no public CA
 * vouches for (a small office server's self-signed one), as SSH does
 * with host keys: the first certificate seen for "host:port" is pinned
 * by its SHA-256 fingerprint; a later, different one is refused until
 * the user accepts it. Stored in CONFIG_DIR/tls-pins, mode 0600, one
 * "host:port FINGERPRINT" per line. */

typedef struct _SpPinStore SpPinStore;

typedef enum
{
  SP_PIN_NEW,     /* never seen: now pinned */
  SP_PIN_MATCH,   /* the pinned certificate */
  SP_PIN_CHANGED, /* another one: refused */
} SpPinResult;

#define SP_PIN_STORE_MAX 1024

/* @path NULL: in memory only. A missing file is an empty store; lines
 * that do not parse are skipped (and kept out of the next save). */
SpPinStore *sp_pin_store_new (const char *path);
void sp_pin_store_free (SpPinStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpPinStore, sp_pin_store_free)

/* Checks @fingerprint for @hostport; pins it when new (saved at once).
 * On CHANGED, @pinned (may be NULL) points at the pinned fingerprint
 * and the new one is remembered as the candidate sp_pin_store_accept
 * takes. */
SpPinResult sp_pin_store_check (SpPinStore *store, const char *hostport, const char *fingerprint,
                                const char **pinned, GError **error);
/* Replaces the pin of @hostport by @fingerprint, or, with @fingerprint
 * NULL, by the certificate last refused for it. FALSE with @error when
 * there is nothing to accept or the store cannot be written. */
gboolean sp_pin_store_accept (SpPinStore *store, const char *hostport, const char *fingerprint,
                              GError **error);
/* The pinned fingerprint, or NULL. */
const char *sp_pin_store_lookup (SpPinStore *store, const char *hostport);

G_END_DECLS
