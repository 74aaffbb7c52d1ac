#include "media/jitterbuffer.h"
#include "media/comfort-noise.h"
#include "media/plc.h"
#include "media/rtp.h"

#include <string.h>

#define N_SLOTS        SP_JITTER_BUFFER_SLOTS
#define TRANSIT_WINDOW 128
/* Decoded audio waiting to be played: two of the largest packets. */
#define FIFO_SIZE (4 * SP_JITTER_BUFFER_MAX_PAYLOAD)
/* How long a loss keeps one packet more in the buffer (wanted_delay). */
#define LOSS_MEMORY_MS 10000
/* After this long with nothing to play, stop and buffer up again. */
#define IDLE_RESET_MS 1000
/* Samples played per sample dropped or repeated, at most. */
#define SCALE_SPACING 160
/* A codec's own concealment (Opus) is played as it is for the first
 * CONCEAL_FULL_MS of a gap, then faded out over CONCEAL_FADE_MS, as the
 * pitch PLC does (plc.c): left alone, Opus goes on for as long as it is
 * asked, a second of noise when the peer stops (hold, a stall) whose
 * spectrum wanders anywhere (a 440 Hz stream concealed into a block that
 * measures as 1000 Hz). One or two lost packets are not touched. */
#define CONCEAL_FULL_MS 40
#define CONCEAL_FADE_MS 40

typedef enum
{
  SLOT_EMPTY,
  SLOT_AUDIO,
  SLOT_SKIP,
  SLOT_CN, /* comfort noise (RFC 3389): data[0] is the level, -dBov */
} SlotState;

typedef struct
{
  SlotState state;
  guint16 seq;
  guint16 len;
  guint32 ts;
  guint8 data[SP_JITTER_BUFFER_MAX_PAYLOAD];
} Slot;

struct _SpJitterBuffer
{
  SpCodec *codec;
  guint rate;       /* audio samples per second */
  guint clock_rate; /* RTP units per second */
  guint min_ms, max_ms;
  SpPlc *plc; /* at the audio rate: spandsp's plc_state_t is 8 kHz only */

  Slot slots[N_SLOTS];
  gboolean started; /* a packet has been seen */
  gboolean playing; /* initial fill reached */
  guint16 next_seq; /* the next packet to play */
  guint16 highest_seq;
  guint packet_samples; /* audio samples per packet, from the last one */

  gint16 fifo[FIFO_SIZE];
  gsize fifo_pos, fifo_len;

  /* Transit times (arrival - media time, ms) of recent packets. */
  gint64 transit[TRANSIT_WINDOW];
  guint n_transit, transit_next;
  guint32 first_ts;
  gint64 ts_unwrapped, last_ts_seen;
  guint cushion_ms;    /* the measured spread, plus a margin */
  gint64 transit_lo;   /* the window's earliest transit, ms */
  guint spread_ms;     /* the window's latest minus earliest transit */
  gint64 last_transit; /* of the packet put last, ms */
  /* The newest packet (highest_seq): its transit, and the play clock
   * (samples played since the start) when it arrived. */
  gint64 high_transit;
  guint64 high_played_at;
  guint64 played;  /* samples handed out by get, ever */
  guint64 lost_at; /* played when a packet was last found lost; 0 = never */

  gsize idle_samples;
  gsize scale_credit;
  gsize concealed_run; /* samples concealed since the last decoded packet */
  /* Concealed while waiting for next_seq (the playout point held): if it
   * turns out lost, that much of it is covered already. */
  gsize waited;
  /* Since a CN packet was played and until audio is again: gaps are
   * filled with comfort noise, not concealment or silence. */
  gboolean comfort_noise;
  SpComfortNoise cn;

  SpJitterBufferStats stats;
};

SpJitterBuffer *
sp_jitter_buffer_new (SpCodec *codec, guint min_ms, guint max_ms)
{
  SpJitterBuffer *jb = g_new0 (SpJitterBuffer, 1);
  const SpCodecInfo *info = sp_codec_get_info (codec);

  jb->codec = codec;
  jb->rate = sp_codec_get_sample_rate (codec);
  jb->clock_rate = info->clock_rate;
  jb->min_ms = MAX (min_ms, 10);
  jb->max_ms = MAX (max_ms, jb->min_ms + 20);
  jb->plc = sp_plc_new (jb->rate);
  sp_comfort_noise_init (&jb->cn, g_random_int ());
  sp_jitter_buffer_reset (jb);
  return jb;
}

void
sp_jitter_buffer_free (SpJitterBuffer *jb)
{
  if (jb == NULL)
    return;
  sp_plc_free (jb->plc);
  g_free (jb);
}

void
sp_jitter_buffer_reset (SpJitterBuffer *jb)
{
  for (guint i = 0; i < N_SLOTS; i++)
    jb->slots[i].state = SLOT_EMPTY;
  jb->started = FALSE;
  jb->playing = FALSE;
  jb->packet_samples = jb->rate / 50;
  jb->fifo_pos = jb->fifo_len = 0;
  jb->n_transit = jb->transit_next = 0;
  jb->cushion_ms = 10;
  jb->idle_samples = 0;
  jb->scale_credit = 0;
  jb->concealed_run = 0;
  jb->waited = 0;
  jb->lost_at = 0;
  jb->comfort_noise = FALSE;
  sp_plc_reset (jb->plc);
  sp_codec_reset (jb->codec);
}

static gsize
jb_ms_to_samples (SpJitterBuffer *jb, guint ms)
{
  return (gsize) ms * jb->rate / 1000;
}

/* Audio buffered: the decoded FIFO plus every packet time from the playout
 * point to the newest packet, holes included (they will be concealed). */
static gsize
depth_samples (SpJitterBuffer *jb)
{
  gsize depth = jb->fifo_len;
  gint span;

  if (!jb->started)
    return 0;
  span = sp_rtp_seq_diff (jb->highest_seq, jb->next_seq) + 1;
  if (span > 0)
    depth += (gsize) span * jb->packet_samples;
  return depth;
}

static guint
target_ms (SpJitterBuffer *jb)
{
  guint packet_ms = jb->packet_samples * 1000 / jb->rate;

  return CLAMP (jb->cushion_ms + packet_ms, jb->min_ms, jb->max_ms);
}

static void
note_transit (SpJitterBuffer *jb, guint32 ts, gint64 arrival_us)
{
  gint64 lo = G_MAXINT64, hi = G_MININT64, spread;
  gint32 step;

  /* Unwrap the timestamp so transit stays monotonic across 2^32. */
  if (jb->n_transit == 0)
    {
      jb->first_ts = ts;
      jb->ts_unwrapped = 0;
      jb->last_ts_seen = 0;
    }
  step = (gint32) (ts - jb->first_ts - (guint32) jb->last_ts_seen);
  jb->last_ts_seen += step;
  jb->transit[jb->transit_next] = arrival_us / 1000 - jb->last_ts_seen * 1000 / jb->clock_rate;
  jb->transit_next = (jb->transit_next + 1) % TRANSIT_WINDOW;
  jb->n_transit = MIN (jb->n_transit + 1, TRANSIT_WINDOW);

  for (guint i = 0; i < jb->n_transit; i++)
    {
      lo = MIN (lo, jb->transit[i]);
      hi = MAX (hi, jb->transit[i]);
    }
  spread = hi - lo;
  jb->transit_lo = lo;
  jb->spread_ms = (guint) CLAMP (spread, 0, (gint64) jb->max_ms);
  jb->last_transit = jb->transit[(jb->transit_next + TRANSIT_WINDOW - 1) % TRANSIT_WINDOW];
  /* At least 10 ms of cushion: the sender's and our own scheduling jitter. */
  jb->cushion_ms = (guint) CLAMP (spread + 2, 10, (gint64) jb->max_ms);
}

static void
clear_slots (SpJitterBuffer *jb)
{
  for (guint i = 0; i < N_SLOTS; i++)
    jb->slots[i].state = SLOT_EMPTY;
}

/* A jump the buffer cannot span (sender restart, long outage): start over
 * at @seq but keep playing, so the audio only sees a PLC gap. */
static void
resync (SpJitterBuffer *jb, guint16 seq)
{
  clear_slots (jb);
  jb->next_seq = seq;
  jb->highest_seq = seq;
  jb->n_transit = 0;
}

static Slot *
claim_slot (SpJitterBuffer *jb, guint16 seq, gboolean *duplicate)
{
  gint diff;
  Slot *slot;

  *duplicate = FALSE;
  if (!jb->started)
    {
      jb->started = TRUE;
      jb->next_seq = jb->highest_seq = seq;
    }
  diff = sp_rtp_seq_diff (seq, jb->next_seq);
  if (diff < 0 && !jb->playing && diff > -N_SLOTS / 4)
    {
      /* Reordered around the very first packet: move the start back. */
      jb->next_seq = seq;
      diff = 0;
    }
  if (diff < -N_SLOTS * 4 || diff >= N_SLOTS)
    {
      resync (jb, seq);
      diff = 0;
    }
  if (diff < 0)
    return NULL;
  slot = &jb->slots[seq % N_SLOTS];
  if (slot->state != SLOT_EMPTY && slot->seq == seq)
    {
      *duplicate = TRUE;
      return NULL;
    }
  if (sp_rtp_seq_diff (seq, jb->highest_seq) > 0)
    jb->highest_seq = seq;
  slot->seq = seq;
  return slot;
}

/* @seq was just queued: if it is the newest, the playout delay is read
 * from its arrival from now on (see effective_delay). */
static void
note_newest (SpJitterBuffer *jb, guint16 seq)
{
  if (seq != jb->highest_seq || jb->n_transit == 0)
    return;
  jb->high_transit = jb->last_transit;
  jb->high_played_at = jb->played;
}

/* Admits packet @seq (audio or comfort noise) that arrived at
 * @arrival_us: notes its transit (late ones too: they show the spread the
 * cushion must cover) and returns its slot, with @ts set, or NULL with
 * @result saying why it was not queued (a duplicate, or late). */
static Slot *
admit (SpJitterBuffer *jb, guint16 seq, guint32 rtp_timestamp, gint64 arrival_us,
       SpJitterBufferPutResult *result)
{
  gboolean duplicate;
  Slot *slot = claim_slot (jb, seq, &duplicate);

  if (!duplicate)
    note_transit (jb, rtp_timestamp, arrival_us);
  if (slot == NULL)
    {
      if (duplicate)
        jb->stats.duplicates++;
      else
        jb->stats.late++;
      *result = duplicate ? SP_JITTER_BUFFER_DUPLICATE : SP_JITTER_BUFFER_LATE;
      return NULL;
    }
  note_newest (jb, seq);
  slot->ts = rtp_timestamp;
  *result = SP_JITTER_BUFFER_QUEUED;
  return slot;
}

SpJitterBufferPutResult
sp_jitter_buffer_put (SpJitterBuffer *jb, guint16 seq, guint32 rtp_timestamp, const guint8 *payload,
                      gsize len, gint64 arrival_us)
{
  SpJitterBufferPutResult result;
  gsize n_samples;
  Slot *slot;

  if (len == 0 || len > SP_JITTER_BUFFER_MAX_PAYLOAD)
    return SP_JITTER_BUFFER_INVALID;
  slot = admit (jb, seq, rtp_timestamp, arrival_us, &result);
  if (slot == NULL)
    return result;
  slot->state = SLOT_AUDIO;
  slot->len = (guint16) len;
  memcpy (slot->data, payload, len);
  n_samples = sp_codec_samples_for_payload (jb->codec, payload, len);
  /* A payload the codec cannot size (not Opus) keeps the last length. */
  if (n_samples > 0 && n_samples <= FIFO_SIZE / 2)
    jb->packet_samples = (guint) n_samples;
  jb->stats.received++;
  return result;
}

SpJitterBufferPutResult
sp_jitter_buffer_put_comfort_noise (SpJitterBuffer *jb, guint16 seq, guint32 rtp_timestamp,
                                    guint level_dbov, gint64 arrival_us)
{
  SpJitterBufferPutResult result;
  Slot *slot = admit (jb, seq, rtp_timestamp, arrival_us, &result);

  if (slot == NULL)
    return result;
  slot->state = SLOT_CN;
  slot->len = 1;
  slot->data[0] = (guint8) MIN (level_dbov, SP_COMFORT_NOISE_MAX_LEVEL);
  jb->stats.comfort_noise_packets++;
  /* Before playing starts (the peer opened with silence), the noise is
   * there at once. */
  if (!jb->playing)
    {
      jb->comfort_noise = TRUE;
      sp_comfort_noise_set_level (&jb->cn, slot->data[0]);
    }
  return result;
}

void
sp_jitter_buffer_put_skip (SpJitterBuffer *jb, guint16 seq)
{
  gboolean duplicate;
  Slot *slot = claim_slot (jb, seq, &duplicate);

  if (slot != NULL)
    slot->state = SLOT_SKIP;
}

static gint16 *
fifo_tail (SpJitterBuffer *jb, gsize need)
{
  if (jb->fifo_pos + jb->fifo_len + need > FIFO_SIZE)
    {
      memmove (jb->fifo, jb->fifo + jb->fifo_pos, jb->fifo_len * sizeof (gint16));
      jb->fifo_pos = 0;
    }
  return jb->fifo + jb->fifo_pos + jb->fifo_len;
}

static gboolean
have_later_packets (SpJitterBuffer *jb)
{
  return sp_rtp_seq_diff (jb->highest_seq, jb->next_seq) > 0;
}

/* @n samples of concealment at @tail: the codec's own (Opus) when it has
 * one, else pitch repetition. */
static void
conceal (SpJitterBuffer *jb, gint16 *tail, gsize n)
{
  gsize full = jb_ms_to_samples (jb, CONCEAL_FULL_MS);
  gsize fade = jb_ms_to_samples (jb, CONCEAL_FADE_MS);

  /* The peer is in silence (DTX) and said how loud its background is. */
  if (jb->comfort_noise)
    {
      sp_comfort_noise_generate (&jb->cn, tail, n);
      jb->stats.comfort_noise_samples += n;
      return;
    }

  if (sp_codec_conceal (jb->codec, tail, n) == 0)
    {
      sp_plc_conceal (jb->plc, tail, n); /* fades by itself */
      return;
    }
  for (gsize i = 0; i < n; i++)
    {
      gsize at = jb->concealed_run + i;
      if (at >= full + fade)
        tail[i] = 0;
      else if (at > full)
        tail[i] = (gint16) ((gint64) tail[i] * (gint64) (full + fade - at) / (gint64) fade);
    }
  jb->concealed_run = MIN (jb->concealed_run + n, full + fade);
}

/* The lost packet (@n samples) rebuilt from the in-band FEC of the packet
 * after it, when that one is here already (Opus). */
static gboolean
try_fec (SpJitterBuffer *jb, gint16 *tail, gsize n)
{
  guint16 next = (guint16) (jb->next_seq + 1);
  Slot *slot = &jb->slots[next % N_SLOTS];

  if (slot->state == SLOT_AUDIO && slot->seq == next &&
      sp_codec_decode_fec (jb->codec, slot->data, slot->len, tail, n) == n)
    {
      jb->stats.fec_recovered++;
      jb->concealed_run = 0;
      return TRUE;
    }
  return FALSE;
}

/* A lost packet of @n samples: rebuilt from FEC, else concealed. */
static void
recover_lost (SpJitterBuffer *jb, gint16 *tail, gsize n)
{
  if (!try_fec (jb, tail, n))
    conceal (jb, tail, n);
}

/* Adds at least one packet's (or one period's) worth of audio to the FIFO. */
static void
refill (SpJitterBuffer *jb, gsize period)
{
  Slot *slot = &jb->slots[jb->next_seq % N_SLOTS];
  gboolean present = slot->state != SLOT_EMPTY && slot->seq == jb->next_seq;
  gsize cap = FIFO_SIZE / 2;
  gint16 *tail;
  gsize n;

  if (present && slot->state == SLOT_SKIP)
    {
      slot->state = SLOT_EMPTY;
      jb->next_seq++;
      return;
    }
  if (present && slot->state == SLOT_CN)
    {
      /* No audio in it: from here until the next audio packet the gap
       * (the sender's silence) is comfort noise. */
      jb->comfort_noise = TRUE;
      sp_comfort_noise_set_level (&jb->cn, slot->data[0]);
      slot->state = SLOT_EMPTY;
      jb->next_seq++;
      return;
    }
  if (present)
    {
      tail = fifo_tail (jb, cap);
      n = sp_codec_decode (jb->codec, slot->data, slot->len, tail, cap);
      if (!sp_codec_has_plc (jb->codec))
        sp_plc_receive (jb->plc, tail, n);
      jb->concealed_run = 0;
      jb->comfort_noise = FALSE;
      jb->waited = 0;
      slot->state = SLOT_EMPTY;
      jb->next_seq++;
      jb->idle_samples = 0;
    }
  else if (have_later_packets (jb) && depth_samples (jb) >= jb_ms_to_samples (jb, jb->cushion_ms))
    {
      /* What was concealed while waiting for it stands for the start of
       * the lost packet: only the rest is concealed now, so a loss seen
       * late (a buffer kept short) costs no more delay than one seen early. */
      gsize covered = MIN (jb->waited, (gsize) jb->packet_samples);
      gsize full = MIN (jb->packet_samples, cap);

      jb->waited = 0;
      tail = fifo_tail (jb, full);
      n = full - MIN (covered, full);
      if (covered > 0 && try_fec (jb, tail, full))
        memmove (tail, tail + (full - n), n * sizeof (gint16)); /* its end only */
      else if (n > 0)
        recover_lost (jb, tail, n);
      jb->next_seq++;
      jb->stats.lost++;
      jb->lost_at = MAX (jb->played, 1);
    }
  else
    {
      /* Nothing to play, or the next packet is missing while the cushion
       * is short (the jitter just grew): conceal without moving the
       * playout point, so the delay grows and the packet can still make
       * it. */
      n = period;
      tail = fifo_tail (jb, n);
      if (!jb->comfort_noise)
        jb->stats.underrun_samples += n;
      conceal (jb, tail, n);
      jb->idle_samples += n;
      jb->waited += n;
    }
  jb->fifo_len += n;
}

/* Writes @n samples from the FIFO's next @m, linearly interpolated, and
 * consumes the @m. m == n is a copy. */
static void
take_scaled (SpJitterBuffer *jb, gint16 *out, gsize n, gsize m)
{
  const gint16 *in = jb->fifo + jb->fifo_pos;

  if (m == n)
    memcpy (out, in, n * sizeof (gint16));
  else
    for (gsize i = 0; i < n; i++)
      {
        guint64 pos = (guint64) i * m * 65536 / n;
        gsize k = (gsize) (pos >> 16);
        gint frac = (gint) (pos & 0xffff);
        gint a = in[k], b = in[MIN (k + 1, m - 1)];
        /* 64-bit: (b - a) reaches ±65535, times frac it overflows an int
         * (found by fuzz-rtp; loud audio while the buffer time-scales). */
        out[i] = (gint16) (a + (gint) (((gint64) (b - a) * frac) >> 16));
      }
  jb->fifo_pos += m;
  jb->fifo_len -= m;
}

/* The playout delay over the earliest packet of the window, in samples:
 * how long after its arrival a packet with the window's lowest transit
 * would be played. Read from the newest packet: what is buffered, plus
 * the time played since it arrived, plus how late it was against the
 * earliest. Unlike the depth, which dips by the lateness of each late
 * packet before it comes, this stays put between scaling steps (packets
 * arriving late, early or in bursts do not move it), so it can be steered
 * to the spread plus a margin directly: a packet that is late by the whole
 * spread then still arrives in time for its first get. (Steering the
 * depth's minimum to that instead counted the spread twice: the minimum
 * is already low by the spread.) */
static gint64
effective_delay (SpJitterBuffer *jb, gsize depth)
{
  return (gint64) depth + (gint64) (jb->played - jb->high_played_at) +
         (gint64) jb_ms_to_samples (
             jb, (guint) CLAMP (jb->high_transit - jb->transit_lo, 0, (gint64) jb->max_ms));
}

/* What effective_delay () is steered to: the newest packet's own length
 * plus the spread, one get (@n: the packet latest by the whole spread
 * must be there before the get that needs it) and 2 ms; at least 10 ms
 * beyond the packet (a smooth stream: the sender's and our scheduling). */
static gint64
wanted_delay (SpJitterBuffer *jb, gsize n)
{
  gsize margin = MAX (jb_ms_to_samples (jb, jb->spread_ms + 2) + n, jb_ms_to_samples (jb, 10));

  /* Packets were lost lately: one packet more, so the packet after a lost
   * one is there when the lost one is due. The loss is then known at
   * once (concealed once, not first waited for) and Opus rebuilds it from
   * that packet's FEC. */
  if (jb->lost_at != 0 && jb->played - jb->lost_at < jb_ms_to_samples (jb, LOSS_MEMORY_MS))
    margin += jb->packet_samples;
  return (gint64) (jb->packet_samples + MIN (margin, jb_ms_to_samples (jb, jb->max_ms)));
}

/* How many samples to drop (1) or repeat (-1) in this period to steer the
 * playout delay towards the wanted one. At most one sample per
 * SCALE_SPACING samples played (0.6 %): the pitch moves by less than a
 * tenth of a semitone, which nobody hears, and still outruns any real
 * clock drift. */
static gint
scale_amount (SpJitterBuffer *jb, gsize n, gsize depth)
{
  gint64 excess, hysteresis = (gint64) jb_ms_to_samples (jb, 5);

  jb->scale_credit = MIN (jb->scale_credit + n, 2 * SCALE_SPACING);
  if (jb->n_transit == 0 || !jb->started || jb->scale_credit < SCALE_SPACING)
    return 0;
  excess = effective_delay (jb, depth) - wanted_delay (jb, n);
  if (excess > hysteresis || excess < -hysteresis)
    {
      jb->scale_credit -= SCALE_SPACING;
      return excess > 0 ? 1 : -1;
    }
  return 0;
}

static void
drop_overflow (SpJitterBuffer *jb)
{
  gsize limit = jb_ms_to_samples (jb, jb->max_ms + 40);

  while (depth_samples (jb) > limit && have_later_packets (jb))
    {
      Slot *slot = &jb->slots[jb->next_seq % N_SLOTS];
      if (slot->state != SLOT_EMPTY && slot->seq == jb->next_seq)
        jb->stats.overflow_dropped++;
      slot->state = SLOT_EMPTY;
      jb->next_seq++;
    }
}

void
sp_jitter_buffer_get (SpJitterBuffer *jb, gint16 *out, gsize n_samples)
{
  gsize depth = depth_samples (jb);
  gint k;
  gsize m;

  /* The play clock runs while buffering too: a packet's age counts from
   * its arrival whatever the buffer was doing. */
  jb->played += n_samples;

  if (!jb->playing)
    {
      /* Start at the cushion plus one get: the minimum depth then sits
       * on the cushion and no time scaling is needed to get there. */
      if (!jb->started || depth < jb_ms_to_samples (jb, jb->cushion_ms) + n_samples)
        {
          if (jb->comfort_noise)
            {
              sp_comfort_noise_generate (&jb->cn, out, n_samples);
              jb->stats.comfort_noise_samples += n_samples;
            }
          else
            memset (out, 0, n_samples * sizeof (gint16));
          return;
        }
      jb->playing = TRUE;
    }
  drop_overflow (jb);
  k = scale_amount (jb, n_samples, depth);
  m = (gsize) ((gint) n_samples + k);
  while (jb->fifo_len < m)
    refill (jb, n_samples);
  take_scaled (jb, out, n_samples, m);
  if (k > 0)
    jb->stats.compressed_samples += (guint64) k;
  else
    jb->stats.stretched_samples += (guint64) -k;

  if (jb->idle_samples >= jb_ms_to_samples (jb, IDLE_RESET_MS))
    {
      /* The peer stopped sending (hold, silence): buffer up again when it
       * comes back rather than play its first packets late. */
      jb->playing = FALSE;
      jb->started = FALSE;
      jb->fifo_len = 0;
      jb->idle_samples = 0;
      clear_slots (jb);
      jb->n_transit = 0;
    }
}

void
sp_jitter_buffer_get_stats (SpJitterBuffer *jb, SpJitterBufferStats *stats)
{
  *stats = jb->stats;
  stats->target_ms = target_ms (jb);
  stats->depth_ms = (guint) (depth_samples (jb) * 1000 / jb->rate);
}
