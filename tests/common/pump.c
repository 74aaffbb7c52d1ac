#include "pump.h"

void
test_pump (guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < end)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (500);
}

void
test_advance (SpSipClock *clock, guint ms, guint step)
{
  for (guint done = 0; done < ms; done += step)
    {
      sp_sip_clock_advance (clock, MIN (step, ms - done));
      test_pump (2);
    }
}
