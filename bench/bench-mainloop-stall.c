/* The longest main-loop stall while calls start, hold, resume and end.
 *
 * Two SpPhones in this process (one main loop, the worst case: both ends'
 * SIP and media commands run on it) call each other CALLS times on
 * loopback: A calls B, B answers after RING_MS of ringing, both
 * established; A holds, then resumes, then hangs up; each step waits for
 * both ends to see it, then HOLD_MS of talk.
 *
 * A watchdog thread pokes the main loop every 0.5 ms (a GSource made
 * ready from that thread, default priority like the SIP sockets) and
 * notes when it first did so while the previous poke was unanswered; the
 * main loop's dispatch of that source measures how long the poke waited.
 * That is how long any event (a packet, a click) waited for the main loop
 * to be free. A 1 ms timeout could not tell a stall under its own
 * millisecond rounding. On a shared machine part of that wait is the
 * kernel's: the main thread ready to run but waiting for a CPU. The
 * thread's runqueue wait over the same interval (/proc schedstat) is
 * taken off: what is left, the stall, is the time the main loop itself
 * was busy or blocked (waiting for the media thread, opening a device,
 * writing a file). Both are printed; the _wall figures include the wait.
 *
 * Prints per phase (start: dial to both established, hold, resume, end:
 * hangup to both ended and the sessions gone; idle: the talk between)
 * the longest stall in ms and how many exceeded 2 ms; the 50th, 99th and
 * 99.9th percentiles of the waits during the steps (10 us resolution);
 * then the longest overall. Each stall over 2 ms is also told on stderr
 * with its phase and call.
 *
 * usage: bench-mainloop-stall [--alsa] [CALLS]
 *   --alsa  A on ALSA `default`, B on `far_mic`/`far_spk` (run it under
 *           SP_PULSE_FAR_END=1 tests/tools/pulse-env.sh); else the null
 *           device on both ends.
 * Addresses 127.0.71.1 and .2: run it in a network namespace of its own
 * (bench/bench-mainloop-stall.sh does). Uses only SpPhone/SpCall, so the
 * same file builds against older trees, for the script's --before. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ua/call.h"
#include "ua/phone.h"

#define ADDR_A        "127.0.71.1"
#define ADDR_B        "127.0.71.2"
#define POKE_US       500
#define STEP_TIMEOUT  (10 * G_USEC_PER_SEC)
#define HOLD_MS       300
#define RING_MS       100
#define STALL_GOAL_US 2000
/* Histogram of poke waits: 10 us buckets up to 1 s, the rest in the last. */
#define BUCKET_US 10
#define N_BUCKETS 100000

typedef enum
{
  PHASE_IDLE,
  PHASE_START,
  PHASE_HOLD,
  PHASE_RESUME,
  PHASE_END,
  N_PHASES
} Phase;

static const char *phase_names[N_PHASES] = { "idle", "start", "hold", "resume", "end" };

typedef struct
{
  GSource source;
  GMutex lock;
  /* When (monotonic us) the unanswered poke was first made, 0 while none
   * is, and the main thread's runqueue wait (ns) then. */
  gint64 posted_us;
  guint64 runqueue_at_post_ns, run_at_post_ns;
} PokeSource;

typedef struct
{
  guint64 *histogram; /* BUCKET_US buckets */
  guint64 samples;
} Histogram;

typedef struct
{
  PokeSource *poke;
  GThread *thread;
  gint stop; /* atomic */
  Phase phase;
  Phase last_step; /* in PHASE_IDLE: the step before */
  guint call;
  /* The main thread's /proc schedstat, read from either thread; -1 if
   * the kernel has none. */
  int main_schedstat_fd;
  gint64 worst_us[N_PHASES];     /* wall */
  gint64 own_worst_us[N_PHASES]; /* wall less the runqueue wait */
  guint over_goal[N_PHASES];     /* own */
  guint64 samples;
  /* Pokes made while a call step (start, hold, resume, end) ran. */
  Histogram steps_wall, steps_own;
} Watchdog;

static Watchdog watchdog;

/* How long (ns) a thread has run on a CPU and waited on a runqueue for
 * one, from its schedstat ("run wait slices"); FALSE if unknown. */
static gboolean
read_schedstat (int fd, guint64 *run, guint64 *wait)
{
  char text[128];
  gssize n = fd >= 0 ? pread (fd, text, sizeof text - 1, 0) : -1;

  if (n <= 0)
    return FALSE;
  text[n] = '\0';
  return sscanf (text, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, run, wait) == 2;
}

static void
histogram_add (Histogram *h, gint64 us)
{
  h->histogram[MIN (MAX (us, 0) / BUCKET_US, N_BUCKETS - 1)]++;
  h->samples++;
}

/* The wait (ms, bucket's upper edge) that @fraction of the samples did
 * not exceed. */
static double
histogram_percentile (const Histogram *h, double fraction)
{
  guint64 want = (guint64) (fraction * (double) h->samples), seen = 0;

  for (guint i = 0; i < N_BUCKETS; i++)
    {
      seen += h->histogram[i];
      if (seen > 0 && seen >= want)
        return (i + 1) * BUCKET_US / 1000.0;
    }
  return 0;
}

static gboolean
poke_dispatch (GSource *source, GSourceFunc callback, gpointer data)
{
  PokeSource *poke = (PokeSource *) source;
  gint64 posted, waited, own, ran = -1;
  guint64 runqueue_at_post, run_at_post, runqueue = 0, run = 0;

  g_source_set_ready_time (source, -1);
  g_mutex_lock (&poke->lock);
  posted = poke->posted_us;
  runqueue_at_post = poke->runqueue_at_post_ns;
  run_at_post = poke->run_at_post_ns;
  poke->posted_us = 0;
  g_mutex_unlock (&poke->lock);
  if (posted == 0)
    return G_SOURCE_CONTINUE;
  waited = g_get_monotonic_time () - posted;
  own = waited;
  /* Only a wait worth a look pays for reading /proc. */
  if (waited > 200 && runqueue_at_post > 0 &&
      read_schedstat (watchdog.main_schedstat_fd, &run, &runqueue))
    {
      own = MAX (waited - (gint64) ((runqueue - runqueue_at_post) / 1000), 0);
      ran = (gint64) ((run - run_at_post) / 1000);
    }
  watchdog.samples++;
  watchdog.worst_us[watchdog.phase] = MAX (watchdog.worst_us[watchdog.phase], waited);
  watchdog.own_worst_us[watchdog.phase] = MAX (watchdog.own_worst_us[watchdog.phase], own);
  if (own > STALL_GOAL_US)
    {
      watchdog.over_goal[watchdog.phase]++;
      g_printerr ("stall: %.3f ms (%.3f ms running; %.3f ms with the wait for a CPU) in "
                  "%s%s%s of call %u\n",
                  own / 1000.0, ran / 1000.0, waited / 1000.0, phase_names[watchdog.phase],
                  watchdog.phase == PHASE_IDLE ? " after " : "",
                  watchdog.phase == PHASE_IDLE ? phase_names[watchdog.last_step] : "",
                  watchdog.call);
    }
  if (watchdog.phase != PHASE_IDLE)
    {
      histogram_add (&watchdog.steps_wall, waited);
      histogram_add (&watchdog.steps_own, own);
    }
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs poke_funcs = { NULL, NULL, poke_dispatch, NULL, NULL, NULL };

static gpointer
watchdog_thread (gpointer data)
{
  Watchdog *w = data;
  int self_fd = open ("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);

  while (!g_atomic_int_get (&w->stop))
    {
      guint64 run = 0, runqueue = 0, self_run, self_before = 0, self_after = 0;
      gboolean known = read_schedstat (w->main_schedstat_fd, &run, &runqueue) &&
                       read_schedstat (self_fd, &self_run, &self_before);
      gint64 now = g_get_monotonic_time ();
      gboolean post;

      /* Only the first poke of a wait counts its start. */
      g_mutex_lock (&w->poke->lock);
      post = w->poke->posted_us == 0;
      if (post)
        {
          w->poke->posted_us = now;
          w->poke->runqueue_at_post_ns = known ? runqueue : 0;
          w->poke->run_at_post_ns = run;
        }
      g_mutex_unlock (&w->poke->lock);
      if (post)
        g_source_set_ready_time (&w->poke->source, 0);
      /* This thread waiting for a CPU before the poke reached the main
       * loop is no stall of the main loop's: it starts later. */
      if (post && known && read_schedstat (self_fd, &self_run, &self_after) &&
          self_after > self_before)
        {
          g_mutex_lock (&w->poke->lock);
          if (w->poke->posted_us == now)
            w->poke->posted_us = now + (gint64) ((self_after - self_before) / 1000);
          g_mutex_unlock (&w->poke->lock);
        }
      g_usleep (POKE_US);
    }
  if (self_fd >= 0)
    close (self_fd);
  return NULL;
}

static void
watchdog_start (void)
{
  watchdog.main_schedstat_fd = open ("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
  watchdog.steps_wall.histogram = g_new0 (guint64, N_BUCKETS);
  watchdog.steps_own.histogram = g_new0 (guint64, N_BUCKETS);
  watchdog.poke = (PokeSource *) g_source_new (&poke_funcs, sizeof (PokeSource));
  g_mutex_init (&watchdog.poke->lock);
  g_source_set_priority (&watchdog.poke->source, G_PRIORITY_DEFAULT);
  g_source_attach (&watchdog.poke->source, NULL);
  watchdog.thread = g_thread_new ("stall-watchdog", watchdog_thread, &watchdog);
}

static void
watchdog_stop (void)
{
  g_atomic_int_set (&watchdog.stop, TRUE);
  g_thread_join (watchdog.thread);
  g_source_destroy (&watchdog.poke->source);
  g_source_unref (&watchdog.poke->source);
}

static void
watchdog_clear (void)
{
  g_free (watchdog.steps_wall.histogram);
  g_free (watchdog.steps_own.histogram);
  if (watchdog.main_schedstat_fd >= 0)
    close (watchdog.main_schedstat_fd);
}

/* ---- the calls -------------------------------------------------------------- */

typedef struct
{
  SpPhone *phone;
  char *dir;
  SpCall *call; /* the current call, either direction */
} End;

/* B answers after RING_MS of ringing, as a person would: A's ringback
 * plays meanwhile (its sink opens while ringing). */
static gboolean
answer_later (gpointer data)
{
  End *b = data;
  g_autoptr (GError) error = NULL;

  if (b->call != NULL && sp_call_get_state (b->call) == SP_CALL_STATE_INCOMING &&
      !sp_call_answer (b->call, &error))
    g_error ("B could not answer: %s", error->message);
  return G_SOURCE_REMOVE;
}

static void
on_incoming (SpPhone *phone, SpCall *call, gpointer data)
{
  End *b = data;

  g_set_object (&b->call, call);
  g_timeout_add (RING_MS, answer_later, b);
}

static void
end_init (End *e, const char *addr, const char *audio_in, const char *audio_out)
{
  g_autoptr (GError) error = NULL;

  e->dir = g_dir_make_tmp ("sp-bench-stall-XXXXXX", NULL);
  e->phone = sp_phone_new (e->dir, e->dir);
  g_object_set (e->phone, "media-timeout", 0u, "audio-in", audio_in, "audio-out", audio_out,
                "record-sip", FALSE, NULL);
  if (!sp_phone_start (e->phone, addr, 0, &error))
    g_error ("%s: %s", addr, error->message);
}

static void
remove_tree (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        remove_tree (path);
      else
        g_unlink (path);
    }
  g_rmdir (dir);
}

static void
end_clear (End *e)
{
  g_clear_object (&e->call);
  g_clear_object (&e->phone);
  remove_tree (e->dir);
  g_free (e->dir);
}

static gboolean
in_state (SpCall *call, SpCallState state)
{
  return call != NULL && sp_call_get_state (call) == state;
}

/* Runs the main loop until both calls are in @state (or @b's is gone,
 * for ENDED); fails after STEP_TIMEOUT. */
static void
wait_both (End *a, End *b, SpCallState state, SpCallState b_state)
{
  gint64 end = g_get_monotonic_time () + STEP_TIMEOUT;

  while (!(in_state (a->call, state) && in_state (b->call, b_state)))
    {
      if (g_get_monotonic_time () > end)
        g_error ("timed out waiting for %s/%s (A %s, B %s)", sp_call_state_to_string (state),
                 sp_call_state_to_string (b_state),
                 a->call ? sp_call_state_to_string (sp_call_get_state (a->call)) : "none",
                 b->call ? sp_call_state_to_string (sp_call_get_state (b->call)) : "none");
      g_main_context_iteration (NULL, TRUE);
    }
}

/* The watchdog's pokes wake the loop every POKE_US, so blocking
 * iterations never oversleep. */
static void
run_ms (guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
}

static void
set_phase (Phase phase)
{
  if (phase == PHASE_IDLE)
    watchdog.last_step = watchdog.phase;
  watchdog.phase = phase;
}

static void
one_call (End *a, End *b, const char *target)
{
  g_autoptr (GError) error = NULL;

  set_phase (PHASE_START);
  g_clear_object (&b->call);
  /* Borrowed from the phone; g_set_object keeps a reference of ours. */
  g_set_object (&a->call, sp_phone_call (a->phone, target, NULL, &error));
  if (a->call == NULL)
    g_error ("A could not call: %s", error->message);
  wait_both (a, b, SP_CALL_STATE_ESTABLISHED, SP_CALL_STATE_ESTABLISHED);
  set_phase (PHASE_IDLE);
  run_ms (HOLD_MS);

  set_phase (PHASE_HOLD);
  if (!sp_call_hold (a->call, &error))
    g_error ("hold: %s", error->message);
  wait_both (a, b, SP_CALL_STATE_HELD, SP_CALL_STATE_ESTABLISHED);
  set_phase (PHASE_IDLE);
  run_ms (HOLD_MS);

  set_phase (PHASE_RESUME);
  if (!sp_call_resume (a->call, &error))
    g_error ("resume: %s", error->message);
  wait_both (a, b, SP_CALL_STATE_ESTABLISHED, SP_CALL_STATE_ESTABLISHED);
  set_phase (PHASE_IDLE);
  run_ms (HOLD_MS);

  set_phase (PHASE_END);
  if (!sp_call_hangup (a->call, &error))
    g_error ("hangup: %s", error->message);
  wait_both (a, b, SP_CALL_STATE_ENDED, SP_CALL_STATE_ENDED);
  /* What the end posted (stops, frees) runs meanwhile. */
  run_ms (50);
  set_phase (PHASE_IDLE);
  run_ms (HOLD_MS);
}

int
main (int argc, char **argv)
{
  gboolean alsa = argc > 1 && strcmp (argv[1], "--alsa") == 0;
  guint calls = (guint) (argc > 1 + alsa ? g_ascii_strtoull (argv[1 + alsa], NULL, 10) : 10);
  End a = { 0 }, b = { 0 };
  g_autofree char *target = NULL;
  const char *host;
  guint16 port;
  gint64 worst = 0, worst_wall = 0;
  guint over = 0;

  if (calls == 0 || calls > 1000)
    calls = 10;
  end_init (&a, ADDR_A, alsa ? "default" : "null", alsa ? "default" : "null");
  end_init (&b, ADDR_B, alsa ? "far_mic" : "null", alsa ? "far_spk" : "null");
  g_signal_connect (b.phone, "incoming-call", G_CALLBACK (on_incoming), &b);
  sp_phone_get_local_address (b.phone, &host, &port);
  target = g_strdup_printf ("sip:bench@%s:%u", host, port);
  watchdog_start ();
  run_ms (200);
  memset (watchdog.worst_us, 0, sizeof watchdog.worst_us);
  memset (watchdog.own_worst_us, 0, sizeof watchdog.own_worst_us);
  memset (watchdog.over_goal, 0, sizeof watchdog.over_goal);
  watchdog.samples = 0;

  for (watchdog.call = 1; watchdog.call <= calls; watchdog.call++)
    one_call (&a, &b, target);

  watchdog_stop ();
  end_clear (&a);
  end_clear (&b);
  g_print ("calls=%u\n", calls);
  g_print ("devices=%s\n", alsa ? "alsa" : "null");
  g_print ("pokes=%" G_GUINT64_FORMAT "\n", watchdog.samples);
  for (guint p = 0; p < N_PHASES; p++)
    {
      g_print ("%s_max_stall_ms=%.3f\n", phase_names[p], watchdog.own_worst_us[p] / 1000.0);
      g_print ("%s_max_stall_wall_ms=%.3f\n", phase_names[p], watchdog.worst_us[p] / 1000.0);
      g_print ("%s_stalls_over_2ms=%u\n", phase_names[p], watchdog.over_goal[p]);
      worst = MAX (worst, watchdog.own_worst_us[p]);
      worst_wall = MAX (worst_wall, watchdog.worst_us[p]);
      over += watchdog.over_goal[p];
    }
  g_print ("steps_pokes=%" G_GUINT64_FORMAT "\n", watchdog.steps_own.samples);
  g_print ("steps_p50_ms=%.2f\n", histogram_percentile (&watchdog.steps_own, 0.5));
  g_print ("steps_p99_ms=%.2f\n", histogram_percentile (&watchdog.steps_own, 0.99));
  g_print ("steps_p999_ms=%.2f\n", histogram_percentile (&watchdog.steps_own, 0.999));
  g_print ("steps_p99_wall_ms=%.2f\n", histogram_percentile (&watchdog.steps_wall, 0.99));
  g_print ("steps_p999_wall_ms=%.2f\n", histogram_percentile (&watchdog.steps_wall, 0.999));
  g_print ("max_stall_ms=%.3f\n", worst / 1000.0);
  g_print ("max_stall_wall_ms=%.3f\n", worst_wall / 1000.0);
  g_print ("stalls_over_2ms=%u\n", over);
  watchdog_clear ();
  return 0;
}
