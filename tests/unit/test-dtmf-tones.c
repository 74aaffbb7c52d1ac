#include "media/dtmf.h"
#include "media/tones.h"

#include "../common/goertzel.h"

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

static void
check_tone (SpToneKind kind, double freq, guint on_ms, guint off_ms)
{
  g_autoptr (SpTone) tone = sp_tone_new (kind);
  gsize n = 8000 * (on_ms + off_ms) / 1000 * 2;
  g_autofree gint16 *out = g_new (gint16, n);
  gsize on_mid = 8000 * on_ms / 2000, off_mid = 8000 * (on_ms + off_ms / 2) / 1000;

  sp_tone_generate (tone, out, n);
  /* Mid-"on": the tone, loud; mid-"off": silence. Second cycle too. */
  g_assert_cmpfloat (goertzel_power (out + on_mid, 160, 8000, freq), >, 1e5);
  g_assert_cmpfloat (goertzel_mean_square (out + off_mid, 160), <, 1.0);
  g_assert_cmpfloat (goertzel_power (out + n / 2 + on_mid, 160, 8000, freq), >, 1e5);
}

static void
test_tones (void)
{
  check_tone (SP_TONE_RINGBACK, 425, 1000, 4000);
  check_tone (SP_TONE_BUSY, 425, 500, 500);
  check_tone (SP_TONE_CONGESTION, 425, 250, 250);
  check_tone (SP_TONE_RING, 440, 2000, 4000);
  check_tone (SP_TONE_RING, 480, 2000, 4000);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dtmf/sender-sequence", test_sender_sequence);
  g_test_add_func ("/dtmf/receiver-once", test_receiver_once);
  g_test_add_func ("/tones/cadences", test_tones);
  return g_test_run ();
}
