#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The time source of the SIP timers (RFC 3261 section 17). Real code uses
 * GLib timeouts on a main context; unit tests use a fake clock they
 * advance by hand, so timer values can be asserted to the millisecond
 * without waiting. Times are in milliseconds. */

typedef struct _SpSipClock SpSipClock;

/* One-shot timer callback. */
typedef void (*SpSipTimerFunc) (gpointer user_data);

/* A clock on @context (NULL = the thread-default context). */
SpSipClock *sp_sip_clock_new_system (GMainContext *context);
/* A fake clock that starts at 0 and only moves when advanced. */
SpSipClock *sp_sip_clock_new_fake (void);

SpSipClock *sp_sip_clock_ref (SpSipClock *clock);
void sp_sip_clock_unref (SpSipClock *clock);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpSipClock, sp_sip_clock_unref)

gint64 sp_sip_clock_now (SpSipClock *clock);
/* Calls @func once, @ms from now. Returns a non-zero id. */
guint sp_sip_clock_add_timeout (SpSipClock *clock, guint ms, SpSipTimerFunc func,
                                gpointer user_data);
/* Cancels a pending timer; 0 and ids already fired are ignored. */
void sp_sip_clock_cancel (SpSipClock *clock, guint id);

/* Fake clock only: moves time forward by @ms, firing every timer that
 * falls due, in order of due time (each at its own due time). */
void sp_sip_clock_advance (SpSipClock *clock, guint ms);
/* Fake clock only: ms until the next pending timer, or -1 when none. */
gint64 sp_sip_clock_next_due (SpSipClock *clock);
/* Fake clock only: number of pending timers. */
guint sp_sip_clock_get_n_pending (SpSipClock *clock);

G_END_DECLS
