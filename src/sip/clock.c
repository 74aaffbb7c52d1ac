#include "sip/clock.h"

/* Timers live in one queue ordered by due time. The system clock drives
 * it with a single GSource whose ready time follows the earliest timer:
 * a GSource per timer would make every main loop iteration walk all
 * pending SIP timers (tens of thousands on a busy server). */

typedef struct
{
  guint id;
  gint64 due;
  SpSipTimerFunc func;
  gpointer user_data;
  GSequenceIter *iter;
} SpSipTimer;

struct _SpSipClock
{
  gint ref_count;
  gboolean fake;
  GMainContext *context;
  GSource *source; /* system clock only */
  gint64 fake_now;
  guint next_id;
  GHashTable *timers; /* id -> SpSipTimer */
  GSequence *queue;   /* SpSipTimer by (due, id) */
};

static gint
timer_compare (gconstpointer a, gconstpointer b, gpointer user_data)
{
  const SpSipTimer *ta = a, *tb = b;

  if (ta->due != tb->due)
    return ta->due < tb->due ? -1 : 1;
  return ta->id < tb->id ? -1 : ta->id > tb->id;
}

static SpSipTimer *
earliest_timer (SpSipClock *clock)
{
  GSequenceIter *it = g_sequence_get_begin_iter (clock->queue);
  return g_sequence_iter_is_end (it) ? NULL : g_sequence_get (it);
}

static void
reschedule (SpSipClock *clock)
{
  SpSipTimer *timer;

  if (clock->fake || clock->source == NULL)
    return;
  timer = earliest_timer (clock);
  g_source_set_ready_time (clock->source, timer ? timer->due * 1000 : -1);
}

static void
remove_timer (SpSipClock *clock, SpSipTimer *timer)
{
  g_sequence_remove (timer->iter);
  g_hash_table_remove (clock->timers, GUINT_TO_POINTER (timer->id)); /* frees it */
}

/* Fires every timer due at @now, each with the clock's time at its due. */
static void
fire_due (SpSipClock *clock, gint64 now)
{
  for (;;)
    {
      SpSipTimer *timer = earliest_timer (clock);
      SpSipTimerFunc func;
      gpointer user_data;

      if (timer == NULL || timer->due > now)
        break;
      if (clock->fake)
        clock->fake_now = timer->due;
      func = timer->func;
      user_data = timer->user_data;
      remove_timer (clock, timer);
      func (user_data);
    }
}

static gboolean
source_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  SpSipClock *clock = *(SpSipClock **) (source + 1);

  sp_sip_clock_ref (clock);
  fire_due (clock, sp_sip_clock_now (clock));
  reschedule (clock);
  sp_sip_clock_unref (clock);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs source_funcs = { NULL, NULL, source_dispatch, NULL, NULL, NULL };

static SpSipClock *
clock_new (gboolean fake, GMainContext *context)
{
  SpSipClock *clock = g_new0 (SpSipClock, 1);

  clock->ref_count = 1;
  clock->fake = fake;
  clock->context = context ? g_main_context_ref (context) : g_main_context_ref_thread_default ();
  clock->next_id = 1;
  clock->timers = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  clock->queue = g_sequence_new (NULL);
  if (!fake)
    {
      /* The source holds no reference: the clock destroys it when it goes. */
      clock->source = g_source_new (&source_funcs, sizeof (GSource) + sizeof (SpSipClock *));
      *(SpSipClock **) (clock->source + 1) = clock;
      g_source_set_name (clock->source, "SpSipClock");
      g_source_attach (clock->source, clock->context);
    }
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

void
sp_sip_clock_unref (SpSipClock *clock)
{
  if (clock == NULL || --clock->ref_count > 0)
    return;
  if (clock->source)
    {
      g_source_destroy (clock->source);
      g_source_unref (clock->source);
    }
  g_sequence_free (clock->queue);
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

guint
sp_sip_clock_add_timeout (SpSipClock *clock, guint ms, SpSipTimerFunc func, gpointer user_data)
{
  SpSipTimer *timer = g_new0 (SpSipTimer, 1);

  do
    timer->id = clock->next_id++;
  while (timer->id == 0 || g_hash_table_contains (clock->timers, GUINT_TO_POINTER (timer->id)));
  timer->due = sp_sip_clock_now (clock) + ms;
  timer->func = func;
  timer->user_data = user_data;
  timer->iter = g_sequence_insert_sorted (clock->queue, timer, timer_compare, NULL);
  g_hash_table_insert (clock->timers, GUINT_TO_POINTER (timer->id), timer);
  if (timer->iter == g_sequence_get_begin_iter (clock->queue))
    reschedule (clock);
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
  remove_timer (clock, timer);
  /* A ready time too early only costs one empty dispatch: no reschedule. */
}

void
sp_sip_clock_advance (SpSipClock *clock, guint ms)
{
  gint64 target;

  g_return_if_fail (clock->fake);
  target = clock->fake_now + ms;
  fire_due (clock, target);
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
