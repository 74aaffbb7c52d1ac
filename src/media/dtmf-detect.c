#include "media/dtmf-detect.h"

#include <spandsp.h>
#include <string.h>

#define DETECT_RATE 8000
/* Samples handed to dtmf_rx at a time (one 10 ms period at 16 kHz is 160
 * in, 80 out). */
#define CHUNK 160
/* Digits found within one feed; a feed is a period or so. */
#define PENDING 8

struct _SpDtmfDetector
{
  dtmf_rx_state_t *rx;
  guint rate;
  char pending[PENDING];
  guint n_pending;
};

/* dtmf_rx calls this as each key press is confirmed (once per press). */
static void
on_digits (void *user_data, const char *digits, int len)
{
  SpDtmfDetector *d = user_data;

  for (int i = 0; i < len && d->n_pending < PENDING; i++)
    d->pending[d->n_pending++] = digits[i];
}

SpDtmfDetector *
sp_dtmf_detector_new (guint rate)
{
  SpDtmfDetector *d;

  g_return_val_if_fail (rate == 8000 || rate == 16000, NULL);
  d = g_new0 (SpDtmfDetector, 1);
  d->rate = rate;
  d->rx = dtmf_rx_init (NULL, on_digits, d);
  return d;
}

void
sp_dtmf_detector_free (SpDtmfDetector *detector)
{
  if (detector == NULL)
    return;
  dtmf_rx_free (detector->rx);
  g_free (detector);
}

guint
sp_dtmf_detector_get_rate (SpDtmfDetector *detector)
{
  return detector->rate;
}

void
sp_dtmf_detector_reset (SpDtmfDetector *detector)
{
  dtmf_rx_init (detector->rx, on_digits, detector);
  detector->n_pending = 0;
}

/* 16 kHz to 8 kHz by averaging pairs: a two-tap low-pass with its zero at
 * 8 kHz. It lets some 4-8 kHz through as aliases, but DTMF lies below
 * 1.7 kHz, where the filter is flat within 0.4 dB, and dtmf_rx's own
 * band filters and twist checks reject what folds down. */
static gsize
decimate (const gint16 *in, gsize n, gint16 *out)
{
  for (gsize i = 0; i + 1 < n; i += 2)
    out[i / 2] = (gint16) (((gint32) in[i] + in[i + 1]) / 2);
  return n / 2;
}

guint
sp_dtmf_detector_feed (SpDtmfDetector *detector, const gint16 *pcm, gsize n, char *digits,
                       guint max)
{
  gint16 buf[CHUNK];
  guint out = 0;

  detector->n_pending = 0;
  while (n > 0)
    {
      gsize take = MIN (n, detector->rate == DETECT_RATE ? (gsize) CHUNK : (gsize) 2 * CHUNK);
      gsize m;

      if (detector->rate == DETECT_RATE)
        {
          memcpy (buf, pcm, take * sizeof (gint16));
          m = take;
        }
      else
        m = decimate (pcm, take, buf);
      dtmf_rx (detector->rx, buf, (int) m);
      pcm += take;
      n -= take;
    }
  for (guint i = 0; i < detector->n_pending && out < max; i++)
    digits[out++] = detector->pending[i];
  detector->n_pending = 0;
  return out;
}

void
sp_dtmf_merger_init (SpDtmfMerger *merger)
{
  memset (merger, 0, sizeof *merger);
}

static void
merger_remove (SpDtmfMerger *merger, guint i)
{
  memmove (merger->entries + i, merger->entries + i + 1,
           (merger->n - i - 1) * sizeof merger->entries[0]);
  merger->n--;
}

gboolean
sp_dtmf_merger_take (SpDtmfMerger *merger, char digit, SpDtmfOrigin origin, gint64 now_us)
{
  /* Entries are in arrival order: drop those past the window first. */
  while (merger->n > 0 && now_us - merger->entries[0].time_us > SP_DTMF_MERGE_WINDOW_US)
    merger_remove (merger, 0);
  for (guint i = 0; i < merger->n; i++)
    if (merger->entries[i].digit == digit && merger->entries[i].origin != origin)
      {
        merger_remove (merger, i);
        return FALSE;
      }
  if (merger->n == SP_DTMF_MERGE_SLOTS)
    merger_remove (merger, 0);
  merger->entries[merger->n].digit = digit;
  merger->entries[merger->n].origin = origin;
  merger->entries[merger->n].time_us = now_us;
  merger->n++;
  return TRUE;
}
