#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Counts failed authentications per source address and tells the server
 * to ignore an address that failed max_failures times within
 * window_seconds, for block_seconds. Time is given by the caller ("now",
 * seconds on any clock that does not jump back), so tests do not sleep.
 * Memory is bounded: at most max_entries addresses are tracked; when
 * full, the least recently seen address that is not blocked is
 * forgotten (a blocked one only when all of the oldest are blocked). */

typedef struct _SpAuthGuard SpAuthGuard;

#define SP_AUTH_GUARD_MAX_FAILURES 64

/* @max_failures is capped to SP_AUTH_GUARD_MAX_FAILURES; every argument
 * is at least 1. */
SpAuthGuard *sp_auth_guard_new (guint max_failures, guint window_seconds, guint block_seconds,
                                guint max_entries);
void sp_auth_guard_free (SpAuthGuard *guard);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpAuthGuard, sp_auth_guard_free)

/* Addresses are compared as given: pass the IP alone, not "ip:port", or
 * an attacker changes the port to start afresh. */

/* TRUE while @address is blocked; the server then drops its requests
 * without an answer. Counts those answers (get_n_ignored). */
gboolean sp_auth_guard_is_blocked (SpAuthGuard *guard, const char *address, gint64 now);
/* Records a failed authentication (wrong password, unknown user, replayed
 * nonce); returns TRUE when this failure blocks the address. A success
 * deliberately does not reset the count: one valid account must not let
 * a guesser from the same address go on trying others. */
gboolean sp_auth_guard_record_failure (SpAuthGuard *guard, const char *address, gint64 now);
/* Unblocks and forgets @address (an administrator's action). */
void sp_auth_guard_forget (SpAuthGuard *guard, const char *address);

guint sp_auth_guard_get_n_entries (SpAuthGuard *guard);
guint64 sp_auth_guard_get_n_ignored (SpAuthGuard *guard);
/* Addresses blocked at @now, sorted; strings owned by the array. */
GPtrArray *sp_auth_guard_list_blocked (SpAuthGuard *guard, gint64 now);

G_END_DECLS
