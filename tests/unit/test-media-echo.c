/* media/echo.c against a simulated echo path: what is played comes back
 * into the microphone 60 ms after it is heard, attenuated and smeared,
 * while the near end speaks 440 Hz in bursts. The real path (ALSA,
 * PulseAudio, module-loopback) is tests/integration/test-echo-alsa.c. */
#include "media/echo.h"
#include "../common/goertzel.h"

#include <math.h>
#include <string.h>

#define RATE    16000
#define PACKET  320 /* 20 ms */
#define SINK    240 /* the sink's delay: 15 ms */
#define ECHO    960 /* from the speaker to the microphone: 60 ms */
#define SECONDS 4
#define TOTAL   (RATE * SECONDS)

typedef struct
{
  gint16 far[TOTAL];  /* what is played (heard at the same index) */
  gint16 near[TOTAL]; /* the near end's voice */
  gint16 mic[TOTAL];  /* what the microphone captures */
  gint16 out[TOTAL];  /* after the canceller */
} Path;

/* Speech-like far end: noise through a one-pole low-pass, ~-20 dBFS. */
static void
make_far (gint16 *x)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (14);
  double y = 0;

  for (gsize i = 0; i < TOTAL; i++)
    {
      y = 0.8 * y + 0.2 * g_rand_double_range (rand, -12000, 12000);
      x[i] = (gint16) (y * 3);
    }
}

static void
make_bursts (gint16 *x, double amplitude)
{
  gsize burst = RATE * 3 / 10;

  memset (x, 0, TOTAL * sizeof (gint16));
  for (gsize at = 0; at + burst <= TOTAL; at += 2 * burst)
    goertzel_make_tone (x + at, burst, RATE, 440.0, amplitude);
}

/* The microphone: near voice plus the echo, 0.3 and 0.15 of what was
 * heard ECHO and ECHO + 5 samples earlier. */
static void
make_mic (Path *p)
{
  for (gsize i = 0; i < TOTAL; i++)
    {
      double e = 0;
      if (i >= ECHO + 5)
        e = 0.3 * p->far[i - ECHO] + 0.15 * p->far[i - ECHO - 5];
      p->mic[i] = (gint16) CLAMP (p->near[i] + e, -32768, 32767);
    }
}

/* A laptop: its speaker 2 ms from its microphone (32 samples), so a
 * reference that comes late by more than the canceller's margin comes
 * after the echo. The speaker is silent for @gap samples from @gap_at on
 * (the sink underran: a loaded machine), and plays everything later by
 * that much after. */
static void
make_laptop_mic (Path *p, gsize gap_at, gsize gap)
{
  for (gsize i = 0; i < TOTAL; i++)
    {
      gsize heard_at = i < 32 ? G_MAXSIZE : i - 32;
      double e = 0;
      if (heard_at != G_MAXSIZE && heard_at >= gap_at)
        heard_at = heard_at < gap_at + gap ? G_MAXSIZE : heard_at - gap;
      if (heard_at != G_MAXSIZE)
        e = 0.3 * p->far[heard_at];
      p->mic[i] = (gint16) CLAMP (p->near[i] + e, -32768, 32767);
    }
}

/* The session's calls for make_laptop_mic's path: the sink kept SINK ahead
 * of what is heard, its delay unknown while it is dry (not running). */
static SpEcho *
run_with_gap (Path *p, gsize gap_at, gsize gap)
{
  SpEcho *echo = sp_echo_new (RATE);
  gsize written = 0;

  memcpy (p->out, p->mic, sizeof p->out);
  for (gsize t = 0; t + PACKET <= TOTAL; t += PACKET)
    {
      gsize now = t + PACKET, target, lag;
      /* What is heard now, and so the sink's delay once written. */
      gsize heard = now < gap_at ? now : now < gap_at + gap ? gap_at : now - gap;

      target = now < gap_at ? MIN (now + SINK, gap_at) : heard + SINK;
      if (now >= gap_at && now < gap_at + gap)
        target = gap_at;
      lag = target > heard ? target - heard + PACKET : SP_ECHO_LAG_UNKNOWN;
      target = MIN (target, (gsize) TOTAL);
      if (target > written)
        {
          sp_echo_played (echo, p->far + written, target - written);
          written = target;
        }
      sp_echo_capture (echo, p->out + t, PACKET, lag);
    }
  return echo;
}

/* Runs the canceller the way the session does: the sink is kept SINK
 * samples ahead of what is heard; each 20 ms packet is cancelled as its
 * last sample arrives. From @jump_at to @jump_end the sink's delay reads
 * @extra samples more than it is (a sound server's reading gone off). */
static SpEcho *
run (Path *p, gsize jump_at, gsize jump_end, gsize extra)
{
  SpEcho *echo = sp_echo_new (RATE);
  gsize written = 0;

  memcpy (p->out, p->mic, sizeof p->out);
  for (gsize t = 0; t + PACKET <= TOTAL; t += PACKET)
    {
      gsize want = MIN (t + PACKET + SINK, (gsize) TOTAL);
      gsize lag = SINK + PACKET + (t >= jump_at && t < jump_end ? extra : 0);
      if (want > written)
        {
          sp_echo_played (echo, p->far + written, want - written);
          written = want;
        }
      sp_echo_capture (echo, p->out + t, PACKET, lag);
    }
  return echo;
}

static double
power_db (const gint16 *x, gsize n, double freq)
{
  return 10 *
         log10 (MAX (freq > 0 ? goertzel_power (x, n, RATE, freq) : goertzel_mean_square (x, n),
                     1e-9));
}

/* Echo only: after 2 s the echo is at least 25 dB down. */
static void
test_erle (void)
{
  g_autofree Path *p = g_new0 (Path, 1);
  g_autoptr (SpEcho) echo = NULL;
  gsize from = RATE * 2, n = TOTAL - RATE * 2;
  double erle;

  make_far (p->far);
  make_mic (p);
  echo = run (p, G_MAXSIZE, G_MAXSIZE, 0);
  erle = power_db (p->mic + from, n, 0) - power_db (p->out + from, n, 0);
  g_test_message ("ERLE %.1f dB (echo %.1f dB, residual %.1f dB)", erle,
                  power_db (p->mic + from, n, 0), power_db (p->out + from, n, 0));
  g_assert_cmpfloat (erle, >=, 25.0);
  g_assert_cmpuint (sp_echo_get_resyncs (echo), ==, 0);
}

/* Double talk: the near voice keeps its level within 3 dB, the echo goes. */
static void
test_double_talk (void)
{
  g_autofree Path *p = g_new0 (Path, 1);
  g_autoptr (SpEcho) echo = NULL;
  gsize from = RATE * 2, n = TOTAL - RATE * 2;
  double near_before, near_after;

  make_far (p->far);
  make_bursts (p->near, 8000);
  make_mic (p);
  echo = run (p, G_MAXSIZE, G_MAXSIZE, 0);
  near_before = power_db (p->near + from, n, 440.0);
  near_after = power_db (p->out + from, n, 440.0);
  g_test_message ("near 440 Hz %.1f -> %.1f dB", near_before, near_after);
  g_assert_cmpfloat (fabs (near_after - near_before), <=, 3.0);
}

/* A delay reading off by 60 ms for one packet moves nothing; one that
 * stays off re-aligns the reference once. */
static void
test_realign (void)
{
  g_autofree Path *p = g_new0 (Path, 1);
  g_autoptr (SpEcho) blip = NULL;
  g_autoptr (SpEcho) moved = NULL;

  make_far (p->far);
  make_mic (p);
  blip = run (p, RATE, RATE + PACKET, RATE * 60 / 1000);
  g_assert_cmpuint (sp_echo_get_resyncs (blip), ==, 0);
  moved = run (p, RATE, G_MAXSIZE, RATE * 60 / 1000);
  g_assert_cmpuint (sp_echo_get_resyncs (moved), ==, 1);
}

/* The sink underruns for 25 ms after 2 s: the delays then say the
 * reference is 25 ms late, more than the margin, so it would come after the
 * echo; it is re-aligned once, by the jump, and the echo is cancelled as
 * well as before within half a second (before that re-alignment: 2.2 dB,
 * and never more than 10 ms of a jump, 0 dB). */
static void
test_underrun (void)
{
  g_autofree Path *p = g_new0 (Path, 1);
  g_autoptr (SpEcho) steady = NULL;
  g_autoptr (SpEcho) gapped = NULL;
  gsize gap_at = RATE * 2, from = RATE * 5 / 2, n = TOTAL - from;
  double erle_steady, erle;

  make_far (p->far);
  make_laptop_mic (p, G_MAXSIZE, 0);
  steady = run_with_gap (p, G_MAXSIZE, 0);
  erle_steady = power_db (p->mic + from, n, 0) - power_db (p->out + from, n, 0);
  make_laptop_mic (p, gap_at, RATE * 25 / 1000);
  gapped = run_with_gap (p, gap_at, RATE * 25 / 1000);
  erle = power_db (p->mic + from, n, 0) - power_db (p->out + from, n, 0);
  g_test_message ("ERLE from 2.5 s: %.1f dB steady, %.1f dB after a 25 ms underrun at 2 s",
                  erle_steady, erle);
  g_assert_cmpuint (sp_echo_get_resyncs (steady), ==, 0);
  g_assert_cmpuint (sp_echo_get_resyncs (gapped), ==, 1);
  g_assert_cmpfloat (erle, >=, 25.0);
}

/* The speaker falls silent for a second (a sound server that stalled
 * after an underrun, seen in test-echo-alsa) while the reference goes on:
 * the filter's estimate is then of an echo that is not there, and taking
 * it away would send the far end its own voice, as loud as the echo was.
 * The microphone's own signal goes out instead. */
static void
test_silent_speaker (void)
{
  g_autofree Path *p = g_new0 (Path, 1);
  g_autoptr (SpEcho) echo = NULL;
  gsize stall = RATE * 2, stall_end = RATE * 3;
  double echo_db, out_db;

  make_far (p->far);
  make_mic (p);
  echo_db = power_db (p->mic + stall, stall_end - stall, 0);
  for (gsize i = stall; i < stall_end; i++)
    p->mic[i] = 0;
  echo = run (p, G_MAXSIZE, G_MAXSIZE, 0);
  out_db = power_db (p->out + stall, stall_end - stall, 0);
  g_test_message ("speaker silent: %.1f dB sent, the echo it would have had %.1f dB", out_db,
                  echo_db);
  g_assert_cmpfloat (out_db, <=, echo_db - 40.0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/media/echo/erle", test_erle);
  g_test_add_func ("/media/echo/double-talk", test_double_talk);
  g_test_add_func ("/media/echo/realign", test_realign);
  g_test_add_func ("/media/echo/underrun", test_underrun);
  g_test_add_func ("/media/echo/silent-speaker", test_silent_speaker);
  return g_test_run ();
}
