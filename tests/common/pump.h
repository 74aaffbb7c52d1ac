#pragma once

#include "sip/clock.h"

#include <glib.h>

G_BEGIN_DECLS

/* Main-loop helpers for tests whose SIP runs over real loopback sockets
 * on the thread-default (global) main context. */

/* Runs the main loop for @ms of real time (packets cross loopback). */
void test_pump (guint ms);

/* Moves the fake @clock @ms forward in @step ms steps, letting packets
 * cross (test_pump (2)) after each. */
void test_advance (SpSipClock *clock, guint ms, guint step);

/* Runs the main loop until @cond holds, then asserts it (3 s of real time
 * at most). A macro: @cond is evaluated again on every iteration. */
#define TEST_PUMP_UNTIL(cond)                                                                      \
  G_STMT_START                                                                                     \
  {                                                                                                \
    gint64 end_ = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;                                    \
    while (!(cond) && g_get_monotonic_time () < end_)                                              \
      if (!g_main_context_iteration (NULL, FALSE))                                                 \
        g_usleep (500);                                                                            \
    g_assert_true (cond);                                                                          \
  }                                                                                                \
  G_STMT_END

G_END_DECLS
