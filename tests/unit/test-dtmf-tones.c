#include "media/dtmf-detect.h"
#include "media/dtmf.h"
#include "media/tones.h"

#include "../common/goertzel.h"

#include <spandsp.h>
#include <string.h>

/* Sender packet sequence for one digit: marker on the first, growing
 * duration, three end packets with the same timestamp and duration. */
static void
test_sender_sequence (void)
{
  SpDtmfSender s;
  guint8 payload[4];
  gboolean marker;
  guint32 ts;
  SpDtmfEvent ev;
  guint n_end = 0, n_tone = 0;

  sp_dtmf_sender_init (&s, 8000, 20, 100, 40);
  g_assert_false (sp_dtmf_sender_queue (&s, "1x"));
  g_assert_true (sp_dtmf_sender_queue (&s, "5"));
  for (guint i = 0; i < 20; i++)
    {
      guint32 now = 1000 + i * 160;
      if (!sp_dtmf_sender_next (&s, now, payload, &marker, &ts))
        continue;
      g_assert_true (sp_dtmf_parse (payload, 4, &ev));
      g_assert_cmpuint (ev.event, ==, 5);
      g_assert_cmpuint (ts, ==, 1000);
      g_assert_cmpint (marker, ==, n_tone == 0 && n_end == 0);
      if (ev.end)
        {
          n_end++;
          g_assert_cmpuint (ev.duration, ==, 800);
        }
      else
        {
          n_tone++;
          g_assert_cmpuint (ev.duration, ==, 160 * n_tone);
        }
    }
  g_assert_cmpuint (n_tone, ==, 4);
  g_assert_cmpuint (n_end, ==, 3);
  g_assert_false (sp_dtmf_sender_busy (&s));
}

/* Every packet of 12 digits delivered twice and the end packets thrice
 * more, shuffled within each digit: each digit reported exactly once. */
static void
test_receiver_once (void)
{
  SpDtmfSender s;
  SpDtmfReceiver r;
  GString *got = g_string_new (NULL);
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);
  guint8 payloads[64][4];
  guint32 stamps[64];
  guint n = 0;

  sp_dtmf_sender_init (&s, 8000, 20, 100, 40);
  sp_dtmf_receiver_init (&r);
  g_assert_true (sp_dtmf_sender_queue (&s, "0123456789*#"));
  for (guint i = 0; i < 1000 && (sp_dtmf_sender_busy (&s) || n > 0); i++)
    {
      gboolean marker;
      guint32 ts;
      gboolean sent = sp_dtmf_sender_next (&s, i * 160, payloads[n], &marker, &ts);
      if (sent)
        stamps[n++] = ts;
      if ((!sent && n > 0) || n == 64)
        {
          /* The digit is done: deliver its packets twice, shuffled. */
          for (guint k = 0; k < 2 * n; k++)
            {
              guint j = (guint) g_rand_int_range (rand, 0, (gint32) n);
              char d = sp_dtmf_receiver_handle (&r, stamps[j], payloads[j], 4);
              if (d)
                g_string_append_c (got, d);
            }
          for (guint j = 0; j < n; j++)
            {
              char d = sp_dtmf_receiver_handle (&r, stamps[j], payloads[j], 4);
              if (d)
                g_string_append_c (got, d);
            }
          n = 0;
        }
    }
  g_assert_cmpstr (got->str, ==, "0123456789*#");
  g_assert_cmpint (sp_dtmf_receiver_handle (&r, 1, (const guint8 *) "\x01", 1), ==, 0);
  g_string_free (got, TRUE);
}

/* Samples from @from to the first 10 ms of digital silence (the end of
 * the "on" section), or @n. */
static gsize
find_silence (const gint16 *out, gsize n, gsize from, guint rate)
{
  gsize run = 0;

  for (gsize i = from; i < n; i++)
    {
      run = out[i] == 0 ? run + 1 : 0;
      if (run == rate / 100)
        return i + 1 - run;
    }
  return n;
}

static gsize
find_sound (const gint16 *out, gsize n, gsize from)
{
  for (gsize i = from; i < n; i++)
    if (out[i] != 0)
      return i;
  return n;
}

/* Zero crossings a second over @n samples: twice the frequency of a
 * single sine. */
static double
crossings_per_second (const gint16 *x, gsize n, guint rate)
{
  guint count = 0;

  for (gsize i = 1; i < n; i++)
    if ((x[i - 1] < 0) != (x[i] < 0))
      count++;
  return (double) count * rate / (double) n;
}

/* Two cadence cycles of @kind at @rate: the tone's frequency (its power
 * dominates an octave above and below and 25 Hz off; a single tone's zero
 * crossings give it to 1 %), the "on" and "off" lengths to within 10 ms,
 * and loud/silent where they should be in the second cycle too. */
static void
check_tone (SpToneKind kind, guint rate, double freq, double freq2, guint on_ms, guint off_ms)
{
  g_autoptr (SpTone) tone = sp_tone_new_for_rate (kind, rate);
  gsize cycle = (gsize) rate * (on_ms + off_ms) / 1000, n = 2 * cycle;
  g_autofree gint16 *out = g_new (gint16, n);
  gsize on = (gsize) rate * on_ms / 1000, win = (gsize) rate / 5;
  gsize on_mid = on / 2 - win / 2, off_mid = on + (gsize) rate * off_ms / 2000;
  double tol = rate / 100.0;
  double f[2] = { freq, freq2 };

  sp_tone_generate (tone, out, n);
  for (guint k = 0; k < 2 && f[k] > 0; k++)
    {
      double p = goertzel_power (out + on_mid, win, rate, f[k]);
      g_assert_cmpfloat (p, >, 1e5);
      g_assert_cmpfloat (p, >, 100 * goertzel_power (out + on_mid, win, rate, f[k] * 2));
      g_assert_cmpfloat (p, >, 100 * goertzel_power (out + on_mid, win, rate, f[k] / 2));
      g_assert_cmpfloat (p, >, 100 * goertzel_power (out + on_mid, win, rate, f[k] + 25));
      g_assert_cmpfloat (p, >, 100 * goertzel_power (out + on_mid, win, rate, f[k] - 25));
    }
  if (freq2 == 0)
    g_assert_cmpfloat_with_epsilon (crossings_per_second (out + on_mid, win, rate) / 2, freq,
                                    freq / 100);
  g_assert_cmpfloat_with_epsilon ((double) find_silence (out, n, 0, rate), (double) on, tol);
  g_assert_cmpfloat_with_epsilon ((double) find_sound (out, n, on), (double) cycle, tol);
  g_assert_cmpfloat (goertzel_mean_square (out + off_mid, win / 2), <, 1.0);
  g_assert_cmpfloat (goertzel_power (out + cycle + on_mid, win, rate, freq), >, 1e5);
}

static void
test_tones (gconstpointer data)
{
  guint rate = GPOINTER_TO_UINT (data);

  check_tone (SP_TONE_RINGBACK, rate, 425, 0, 1000, 4000);
  check_tone (SP_TONE_BUSY, rate, 425, 0, 500, 500);
  check_tone (SP_TONE_CONGESTION, rate, 425, 0, 250, 250);
  check_tone (SP_TONE_RING, rate, 440, 480, 2000, 4000);
}

/* sp_tone_new is the 8 kHz tone. */
static void
test_tone_default_rate (void)
{
  g_autoptr (SpTone) a = sp_tone_new (SP_TONE_BUSY);
  g_autoptr (SpTone) b = sp_tone_new_for_rate (SP_TONE_BUSY, 8000);
  gint16 x[800], y[800];

  sp_tone_generate (a, x, G_N_ELEMENTS (x));
  sp_tone_generate (b, y, G_N_ELEMENTS (y));
  g_assert_cmpmem (x, sizeof x, y, sizeof y);
}

/* @digits as key tones (spandsp's dtmf_tx, 100 ms on and 100 ms off) at
 * 8 kHz after 100 ms of silence, then 300 ms of silence. */
static gint16 *
make_dtmf_audio (const char *digits, gsize *n_out)
{
  dtmf_tx_state_t *tx = dtmf_tx_init (NULL);
  gsize n = 800 + strlen (digits) * 1600 + 2400, done = 800;
  gint16 *out = g_new0 (gint16, n);

  dtmf_tx_set_timing (tx, 100, 100);
  dtmf_tx_put (tx, digits, -1);
  for (guint i = 0; i < 1000 && done < n; i++)
    {
      int got = dtmf_tx (tx, out + done, (int) MIN (n - done, 160));
      if (got <= 0)
        break;
      done += (gsize) got;
    }
  dtmf_tx_free (tx);
  *n_out = n;
  return out;
}

/* Every key in audio at 8 and 16 kHz (linear interpolation up), fed a
 * 10 ms period at a time: each reported once, in order. */
static void
test_detect (gconstpointer data)
{
  guint rate = GPOINTER_TO_UINT (data);
  const char *keys = "0123456789*#ABCD";
  g_autoptr (SpDtmfDetector) d = sp_dtmf_detector_new (rate);
  gsize n8, n;
  g_autofree gint16 *audio8 = make_dtmf_audio (keys, &n8);
  g_autofree gint16 *audio = NULL;
  g_autoptr (GString) got = g_string_new (NULL);
  gsize period = rate / 100;

  if (rate == 8000)
    {
      audio = g_memdup2 (audio8, n8 * sizeof (gint16));
      n = n8;
    }
  else
    {
      n = 2 * n8;
      audio = g_new (gint16, n);
      for (gsize i = 0; i < n8; i++)
        {
          audio[2 * i] = audio8[i];
          audio[2 * i + 1] = (gint16) ((audio8[i] + (i + 1 < n8 ? audio8[i + 1] : 0)) / 2);
        }
    }
  for (gsize off = 0; off + period <= n; off += period)
    {
      char digits[4];
      guint found = sp_dtmf_detector_feed (d, audio + off, period, digits, 4);
      g_string_append_len (got, digits, found);
    }
  g_assert_cmpstr (got->str, ==, keys);
}

/* A 440 Hz tone and silence are not keys. */
static void
test_detect_no_false (void)
{
  g_autoptr (SpDtmfDetector) d = sp_dtmf_detector_new (8000);
  gint16 tone[8000];
  char digits[4];

  goertzel_make_tone (tone, 8000, 8000, 440, 8000);
  g_assert_cmpuint (sp_dtmf_detector_feed (d, tone, 8000, digits, 4), ==, 0);
  memset (tone, 0, sizeof tone);
  g_assert_cmpuint (sp_dtmf_detector_feed (d, tone, 8000, digits, 4), ==, 0);
}

/* One key press coming both ways is taken once, whichever comes first;
 * two presses of the same key both ways are two; outside the window the
 * other way's report counts again. */
static void
test_merge (void)
{
  SpDtmfMerger m;
  gint64 t = 1000000;

  sp_dtmf_merger_init (&m);
  g_assert_true (sp_dtmf_merger_take (&m, '5', SP_DTMF_FROM_EVENT, t));
  g_assert_false (sp_dtmf_merger_take (&m, '5', SP_DTMF_FROM_AUDIO, t + 300000));
  g_assert_true (sp_dtmf_merger_take (&m, '5', SP_DTMF_FROM_AUDIO, t + 400000));
  g_assert_false (sp_dtmf_merger_take (&m, '5', SP_DTMF_FROM_EVENT, t + 450000));

  /* "11" both ways: the events first, then the tones. */
  g_assert_true (sp_dtmf_merger_take (&m, '1', SP_DTMF_FROM_EVENT, t + 1000000));
  g_assert_true (sp_dtmf_merger_take (&m, '1', SP_DTMF_FROM_EVENT, t + 1200000));
  g_assert_true (sp_dtmf_merger_take (&m, '2', SP_DTMF_FROM_AUDIO, t + 1250000));
  g_assert_false (sp_dtmf_merger_take (&m, '1', SP_DTMF_FROM_AUDIO, t + 1300000));
  g_assert_false (sp_dtmf_merger_take (&m, '1', SP_DTMF_FROM_AUDIO, t + 1500000));
  g_assert_true (sp_dtmf_merger_take (&m, '1', SP_DTMF_FROM_AUDIO, t + 1600000));

  /* Past the window: a report of its own. */
  g_assert_true (sp_dtmf_merger_take (&m, '9', SP_DTMF_FROM_EVENT, t + 5000000));
  g_assert_true (
      sp_dtmf_merger_take (&m, '9', SP_DTMF_FROM_AUDIO, t + 5000001 + SP_DTMF_MERGE_WINDOW_US));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dtmf/sender-sequence", test_sender_sequence);
  g_test_add_func ("/dtmf/receiver-once", test_receiver_once);
  g_test_add_data_func ("/tones/cadences-8k", GUINT_TO_POINTER (8000), test_tones);
  g_test_add_data_func ("/tones/cadences-16k", GUINT_TO_POINTER (16000), test_tones);
  g_test_add_func ("/tones/default-rate", test_tone_default_rate);
  g_test_add_data_func ("/dtmf/detect-8k", GUINT_TO_POINTER (8000), test_detect);
  g_test_add_data_func ("/dtmf/detect-16k", GUINT_TO_POINTER (16000), test_detect);
  g_test_add_func ("/dtmf/detect-no-false", test_detect_no_false);
  g_test_add_func ("/dtmf/merge", test_merge);
  return g_test_run ();
}
