#include "sip/clock.h"

typedef struct
{
  guint id;
  gint64 due;
  SpSipTimerFunc func;
  gpointer user_data;
  SpSipClock *clock; /* system clock only, not a reference */
  guint source_id;   /* system clock only */
} SpSipTimer;

struct _SpSipClock
{
  gint ref_count;
  gboolean fake;
  GMainContext *context;
  gint64 fake_now;
  guint next_id;
  /* id -> SpSipTimer, pending timers of either kind */
  GHashTable *timers;
};

static SpSipClock *
clock_new (gboolean fake, GMainContext *context)
{
  SpSipClock *clock = g_new0 (SpSipClock, 1);

  clock->ref_count = 1;
  clock->fake = fake;
  clock->context = context ? g_main_context_ref (context) : g_main_context_ref_thread_default ();
  clock->next_id = 1;
  clock->timers = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  return clock;
}

SpSipClock *
sp_sip_clock_new_system (GMainContext *context)
{
  return clock_new (FALSE, context);
}

SpSipClock *
sp_sip_clock_new_fake (void)
{
  return clock_new (TRUE, NULL);
}

SpSipClock *
sp_sip_clock_ref (SpSipClock *clock)
{
  g_return_val_if_fail (clock != NULL, NULL);
  clock->ref_count++;
  return clock;
}

static void
destroy_source (gpointer key, gpointer value, gpointer user_data)
{
  SpSipTimer *timer = value;

  if (timer->source_id != 0)
    {
      GSource *source = g_main_context_find_source_by_id (timer->clock->context, timer->source_id);
      if (source != NULL)
        g_source_destroy (source);
    }
}

void
sp_sip_clock_unref (SpSipClock *clock)
{
  if (clock == NULL || --clock->ref_count > 0)
    return;
  g_hash_table_foreach (clock->timers, destroy_source, NULL);
  g_hash_table_unref (clock->timers);
  g_main_context_unref (clock->context);
  g_free (clock);
}

gint64
sp_sip_clock_now (SpSipClock *clock)
{
  if (clock->fake)
    return clock->fake_now;
  return g_get_monotonic_time () / 1000;
}

static gboolean
system_timer_fired (gpointer data)
{
  SpSipTimer *timer = data;
  SpSipClock *clock = timer->clock;
  SpSipTimerFunc func = timer->func;
  gpointer user_data = timer->user_data;

  /* Forget the timer before the callback, which may cancel or add others. */
  timer->source_id = 0;
  g_hash_table_remove (clock->timers, GUINT_TO_POINTER (timer->id));
  func (user_data);
  return G_SOURCE_REMOVE;
}

guint
sp_sip_clock_add_timeout (SpSipClock *clock, guint ms, SpSipTimerFunc func, gpointer user_data)
{
  SpSipTimer *timer = g_new0 (SpSipTimer, 1);

  timer->id = clock->next_id++;
  if (clock->next_id == 0)
    clock->next_id = 1;
  timer->due = sp_sip_clock_now (clock) + ms;
  timer->func = func;
  timer->user_data = user_data;
  timer->clock = clock;
  if (!clock->fake)
    {
      g_autoptr (GSource) source = g_timeout_source_new (ms);
      g_source_set_callback (source, system_timer_fired, timer, NULL);
      timer->source_id = g_source_attach (source, clock->context);
    }
  g_hash_table_insert (clock->timers, GUINT_TO_POINTER (timer->id), timer);
  return timer->id;
}

void
sp_sip_clock_cancel (SpSipClock *clock, guint id)
{
  SpSipTimer *timer;

  if (id == 0)
    return;
  timer = g_hash_table_lookup (clock->timers, GUINT_TO_POINTER (id));
  if (timer == NULL)
    return;
  destroy_source (NULL, timer, NULL);
  g_hash_table_remove (clock->timers, GUINT_TO_POINTER (id));
}

/* The earliest pending timer; ties go to the one added first. */
static SpSipTimer *
earliest_timer (SpSipClock *clock)
{
  GHashTableIter iter;
  gpointer value;
  SpSipTimer *best = NULL;

  g_hash_table_iter_init (&iter, clock->timers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      SpSipTimer *t = value;
      if (best == NULL || t->due < best->due || (t->due == best->due && t->id < best->id))
        best = t;
    }
  return best;
}

void
sp_sip_clock_advance (SpSipClock *clock, guint ms)
{
  gint64 target;

  g_return_if_fail (clock->fake);
  target = clock->fake_now + ms;
  for (;;)
    {
      SpSipTimer *timer = earliest_timer (clock);
      SpSipTimerFunc func;
      gpointer user_data;

      if (timer == NULL || timer->due > target)
        break;
      clock->fake_now = timer->due;
      func = timer->func;
      user_data = timer->user_data;
      g_hash_table_remove (clock->timers, GUINT_TO_POINTER (timer->id));
      func (user_data);
    }
  clock->fake_now = target;
}

gint64
sp_sip_clock_next_due (SpSipClock *clock)
{
  SpSipTimer *timer;

  g_return_val_if_fail (clock->fake, -1);
  timer = earliest_timer (clock);
  return timer ? timer->due - clock->fake_now : -1;
}

guint
sp_sip_clock_get_n_pending (SpSipClock *clock)
{
  return g_hash_table_size (clock->timers);
}
