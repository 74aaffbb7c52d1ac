/* When the media thread moves audio: a packet leaves as soon as its last
 * sample is captured when the source can wake the thread, and a stall of
 * the thread does not leave a clocked sink queued deeper for good. Both
 * use fake clocked devices whose timing the test controls. */

#include "audio/device.h"
#include "media/codec.h"
#include "media/session.h"

#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define ADDR_A    "127.0.0.27"
#define ADDR_B    "127.0.0.28"
#define RATE      8000
#define PACKET    160 /* 20 ms at 8 kHz */
#define N_PUBLISH 60

/* ---- A clocked source fed by the test ----------------------------------- */

typedef struct
{
  GMutex lock;
  gint16 pending[4 * PACKET];
  gsize n_pending;
  int event_fd;
  gboolean can_wake; /* offers event_fd to be polled */
} FedSource;

static gboolean
fed_open (SpAudioDevice *device, guint rate, GError **error)
{
  return TRUE;
}

static gssize
fed_read (SpAudioDevice *device, gint16 *frames, gsize n_frames, GError **error)
{
  FedSource *src = device->priv;
  guint64 count;
  gsize n;

  /* Clear the wake-up first: audio published after this signals again. */
  if (read (src->event_fd, &count, sizeof count) < 0)
    count = 0;
  g_mutex_lock (&src->lock);
  n = MIN (n_frames, src->n_pending);
  memcpy (frames, src->pending, n * sizeof (gint16));
  memmove (src->pending, src->pending + n, (src->n_pending - n) * sizeof (gint16));
  src->n_pending -= n;
  g_mutex_unlock (&src->lock);
  return (gssize) n;
}

static guint
fed_get_poll_fds (SpAudioDevice *device, GPollFD *fds, guint n_fds)
{
  FedSource *src = device->priv;

  if (!src->can_wake || n_fds < 1)
    return 0;
  fds[0] = (GPollFD){ .fd = src->event_fd, .events = G_IO_IN };
  return 1;
}

static gboolean
fed_poll_ready (SpAudioDevice *device, GPollFD *fds, guint n_fds)
{
  return (fds[0].revents & G_IO_IN) != 0;
}

static void
fed_close (SpAudioDevice *device)
{
}

static void
fed_finalize (SpAudioDevice *device)
{
}

static const SpAudioDeviceVTable fed_vtable = {
  .type_name = "fed",
  .open = fed_open,
  .read = fed_read,
  .get_poll_fds = fed_get_poll_fds,
  .poll_ready = fed_poll_ready,
  .close = fed_close,
  .finalize = fed_finalize,
};

static void
fed_publish (FedSource *src, const gint16 *frames, gsize n)
{
  guint64 one = 1;

  g_mutex_lock (&src->lock);
  g_assert_cmpuint (src->n_pending + n, <=, G_N_ELEMENTS (src->pending));
  memcpy (src->pending + src->n_pending, frames, n * sizeof (gint16));
  src->n_pending += n;
  g_mutex_unlock (&src->lock);
  g_assert_cmpint (write (src->event_fd, &one, sizeof one), ==, sizeof one);
}

/* ---- Packet wait ---------------------------------------------------------- */

typedef struct
{
  FedSource *src;
  gint64 published_us[N_PUBLISH];
} Publisher;

/* One packet's audio every 20 ms, at a phase unrelated to the session's
 * ticks (the thread starts at an arbitrary time). */
static gpointer
publish_thread (gpointer data)
{
  Publisher *pub = data;
  gint16 frames[PACKET];

  for (guint i = 0; i < N_PUBLISH; i++)
    {
      for (guint k = 0; k < PACKET; k++)
        frames[k] = (gint16) (1000 * ((k / 8) % 2 ? 1 : -1));
      g_usleep (20000 - (i % 7) * 300); /* the phase wanders over the ticks */
      pub->published_us[i] = g_get_monotonic_time ();
      fed_publish (pub->src, frames, PACKET);
    }
  return NULL;
}

static int
compare_gint64 (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

/* The median time from a packet's last sample being published to the
 * packet arriving at a socket, in microseconds. */
static gint64
median_packet_wait_us (gboolean can_wake)
{
  g_autoptr (SpMediaEngine) engine = sp_media_engine_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketAddress) bind_addr = g_inet_socket_address_new_from_string (ADDR_B, 0);
  g_autoptr (GSocket) socket =
      g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);
  g_autoptr (GSocketAddress) local = NULL;
  SpMediaSession *s = sp_media_session_new (engine, ADDR_A, 0, NULL, NULL, &error);
  FedSource src = { .event_fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC), .can_wake = can_wake };
  Publisher pub = { &src };
  gint64 waits[N_PUBLISH];
  guint n = 0;
  GThread *thread;
  SpMediaParams params = { SP_CODEC_PCMU, 20, -1, FALSE, ADDR_B, 0, 0, TRUE, FALSE };

  g_assert_no_error (error);
  g_assert_cmpint (src.event_fd, >=, 0);
  g_mutex_init (&src.lock);
  g_assert_true (g_socket_bind (socket, bind_addr, FALSE, NULL));
  g_socket_set_timeout (socket, 2);
  local = g_socket_get_local_address (socket, NULL);
  params.remote_rtp_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));

  sp_media_session_set_devices (
      s, sp_audio_device_new (&fed_vtable, SP_AUDIO_SOURCE, TRUE, "fed", &src), NULL);
  sp_media_session_start (s, &params);
  thread = g_thread_new ("publish", publish_thread, &pub);
  while (n < N_PUBLISH)
    {
      guint8 buf[512];
      gssize len = g_socket_receive (socket, (gchar *) buf, sizeof buf, NULL, NULL);
      gint64 now = g_get_monotonic_time ();

      g_assert_cmpint (len, ==, 12 + PACKET);
      /* Silence (PCMU 0xff) fills the time before the first audio. */
      if (n == 0 && buf[12] == 0xff && buf[12 + PACKET - 1] == 0xff)
        continue;
      waits[n] = now - pub.published_us[n];
      n++;
    }
  g_thread_join (thread);
  sp_media_session_stop (s);
  sp_media_session_flush (s);
  sp_media_session_free (s);
  close (src.event_fd);
  g_mutex_clear (&src.lock);
  qsort (waits, n, sizeof waits[0], compare_gint64);
  return waits[n / 2];
}

/* The tick alone reads a clocked source every 5 ms, so a packet waits
 * 2.5 ms in the middle; a source that wakes the thread is read at once. */
static void
test_capture_wakes_sender (void)
{
  gint64 with_tick = median_packet_wait_us (FALSE);
  gint64 with_wake = median_packet_wait_us (TRUE);

  g_test_message ("median wait: %.2f ms on ticks, %.2f ms woken", with_tick / 1000.0,
                  with_wake / 1000.0);
  g_assert_cmpint (with_tick, >, 1000);
  g_assert_cmpint (with_wake + 1000, <, with_tick);
}

/* ---- Playback queue after a stall ---------------------------------------- */

/* A clocked sink that plays RATE frames a second from its first write and
 * stalls the media thread once, inside a write. */
typedef struct
{
  GMutex lock;
  gint64 start_us;
  guint64 written;
  gint64 stall_at_us; /* 0 once done */
  gsize max_queued_before, max_queued_after;
  gint64 measure_after_us;
  /* 0, or the most it holds (a write takes what fits), and its delay
   * reading is a quarter short (a sound server's report that lags): the
   * session then keeps writing into a full sink. */
  gsize capacity;
} ClockedSink;

static guint64
sink_played (ClockedSink *sink, gint64 now)
{
  guint64 played = sink->start_us ? (guint64) (now - sink->start_us) * RATE / G_USEC_PER_SEC : 0;

  /* Underrun: the device plays silence and the next write is heard now. */
  if (played > sink->written)
    {
      sink->start_us += (gint64) (played - sink->written) * G_USEC_PER_SEC / RATE;
      played = sink->written;
    }
  return played;
}

static gsize
clocked_delay (SpAudioDevice *device)
{
  ClockedSink *sink = device->priv;
  gsize queued;

  g_mutex_lock (&sink->lock);
  queued = (gsize) (sink->written - sink_played (sink, g_get_monotonic_time ()));
  if (sink->capacity)
    queued -= queued / 4;
  g_mutex_unlock (&sink->lock);
  return queued;
}

static gssize
clocked_write (SpAudioDevice *device, const gint16 *frames, gsize n_frames, GError **error)
{
  ClockedSink *sink = device->priv;
  gint64 now = g_get_monotonic_time ();
  gboolean stall;
  gsize queued;

  g_mutex_lock (&sink->lock);
  if (sink->start_us == 0)
    sink->start_us = now;
  sink_played (sink, now);
  if (sink->capacity)
    n_frames = MIN (n_frames, sink->capacity - (gsize) (sink->written - sink_played (sink, now)));
  sink->written += n_frames;
  queued = (gsize) (sink->written - sink_played (sink, now));
  if (sink->measure_after_us == 0)
    sink->max_queued_before = MAX (sink->max_queued_before, queued);
  else if (now >= sink->measure_after_us)
    sink->max_queued_after = MAX (sink->max_queued_after, queued);
  stall = sink->stall_at_us != 0 && now >= sink->stall_at_us;
  if (stall)
    {
      sink->stall_at_us = 0;
      sink->measure_after_us = now + 60000 + 100000;
    }
  g_mutex_unlock (&sink->lock);
  if (stall)
    g_usleep (60000); /* the media thread is held up for 60 ms */
  return (gssize) n_frames;
}

static const SpAudioDeviceVTable clocked_vtable = {
  .type_name = "clocked",
  .open = fed_open,
  .write = clocked_write,
  .delay = clocked_delay,
  .close = fed_close,
  .finalize = fed_finalize,
};

static void
test_stall_keeps_queue (void)
{
  g_autoptr (SpMediaEngine) engine = sp_media_engine_new ();
  g_autoptr (GError) error = NULL;
  SpMediaSession *s = sp_media_session_new (engine, ADDR_A, 0, NULL, NULL, &error);
  ClockedSink sink = { 0 };
  SpMediaParams params = { SP_CODEC_PCMU, 20, -1, FALSE, ADDR_B, 9, 0, FALSE, TRUE };
  gsize ahead = SP_AUDIO_PLAYBACK_AHEAD_FRAMES (RATE), chunk = SP_AUDIO_TICK_FRAMES (RATE);

  g_assert_no_error (error);
  g_mutex_init (&sink.lock);
  sink.stall_at_us = g_get_monotonic_time () + 500000;
  sp_media_session_set_devices (
      s, NULL, sp_audio_device_new (&clocked_vtable, SP_AUDIO_SINK, TRUE, "clocked", &sink));
  sp_media_session_start (s, &params);
  g_usleep (1200000);
  sp_media_session_stop (s);
  sp_media_session_flush (s);
  sp_media_session_free (s);
  g_mutex_clear (&sink.lock);

  g_test_message ("queued after a write: %zu frames before the stall, %zu after",
                  sink.max_queued_before, sink.max_queued_after);
  g_assert_cmpint (sink.stall_at_us, ==, 0);
  g_assert_cmpuint (sink.max_queued_before, >=, ahead);
  /* A tick late by scheduling may add a chunk; 60 ms of catch-up must not
   * stay in the queue. */
  g_assert_cmpuint (sink.max_queued_before, <=, ahead + 2 * chunk);
  g_assert_cmpuint (sink.max_queued_after, >=, ahead);
  g_assert_cmpuint (sink.max_queued_after, <=, ahead + 2 * chunk);
}

/* A sink that is full before its delay says it holds enough (capacity 15
 * ms, read a quarter short): what it does not take of a chunk must wait
 * for the next tick, and no more be taken from the jitter buffer, which
 * would otherwise be drained by up to eight chunks a tick, its audio
 * lost, and conceal while it waits for packets (before the fix: 8300 ms
 * of concealment pulled in a 1.2 s call, eight chunks a tick; after: 15
 * ms, the start). */
static void
test_full_sink_loses_nothing (void)
{
  g_autoptr (SpMediaEngine) engine = sp_media_engine_new ();
  g_autoptr (GError) error = NULL;
  SpMediaSession *a = sp_media_session_new (engine, ADDR_A, 0, NULL, NULL, &error);
  SpMediaSession *b = sp_media_session_new (engine, ADDR_B, 0, NULL, NULL, &error);
  ClockedSink sink = { 0 };
  SpMediaParams pa = { SP_CODEC_PCMU, 20, -1, FALSE, ADDR_B, 0, 0, TRUE, TRUE };
  SpMediaParams pb = pa;
  SpMediaStats stats;

  g_assert_no_error (error);
  g_mutex_init (&sink.lock);
  sink.capacity = SP_AUDIO_PLAYBACK_AHEAD_FRAMES (RATE);
  sp_media_session_set_devices (
      b, NULL, sp_audio_device_new (&clocked_vtable, SP_AUDIO_SINK, TRUE, "clocked", &sink));
  pa.remote_rtp_port = sp_media_session_get_rtp_port (b);
  pb.remote_address = ADDR_A;
  pb.remote_rtp_port = sp_media_session_get_rtp_port (a);
  sp_media_session_start (a, &pa);
  sp_media_session_start (b, &pb);
  g_usleep (1200000);
  sp_media_session_stop (a);
  sp_media_session_stop (b);
  sp_media_session_flush (b);
  sp_media_session_get_stats (b, &stats);
  sp_media_session_free (a);
  sp_media_session_free (b);
  g_mutex_clear (&sink.lock);

  g_test_message ("received %" G_GUINT64_FORMAT
                  " packets; concealed while waiting: %" G_GUINT64_FORMAT " ms",
                  stats.packets_received, stats.jitter_buffer_underrun_ms);
  g_assert_cmpuint (stats.packets_received, >=, 40);
  g_assert_cmpuint (stats.jitter_buffer_underrun_ms, <=, 100);
}

/* ---- A source that warms up slowly ---------------------------------------- */

#define WARM_UP_MS   400
#define N_WARM_AUDIO 25 /* packets of audio published after the warm-up */

static gpointer
warm_up_thread (gpointer data)
{
  FedSource *src = data;
  gint16 frames[PACKET];

  for (guint k = 0; k < PACKET; k++)
    frames[k] = (gint16) (1000 * ((k / 8) % 2 ? 1 : -1));
  g_usleep (WARM_UP_MS * 1000);
  for (guint i = 0; i < N_WARM_AUDIO; i++)
    {
      fed_publish (src, frames, PACKET);
      g_usleep (20000);
    }
  return NULL;
}

/* A capture device that gives nothing for 400 ms after it opens (a phone
 * whose microphone is still starting): the session sends silence every
 * packet period from the start, so the far end's jitter buffer sees a
 * steady stream (no gap over two periods), in sequence, then the audio. */
static void
test_warm_up_sends_silence (void)
{
  g_autoptr (SpMediaEngine) engine = sp_media_engine_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketAddress) bind_addr = g_inet_socket_address_new_from_string (ADDR_B, 0);
  g_autoptr (GSocket) socket =
      g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);
  g_autoptr (GSocketAddress) local = NULL;
  SpMediaSession *s = sp_media_session_new (engine, ADDR_A, 0, NULL, NULL, &error);
  FedSource src = { .event_fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC), .can_wake = TRUE };
  SpMediaParams params = { SP_CODEC_PCMU, 20, -1, FALSE, ADDR_B, 0, 0, TRUE, FALSE };
  gint64 start, last = 0, max_gap = 0, first_wait = 0;
  guint n_silent = 0, n_audio = 0, n_packets = 0;
  guint16 last_seq = 0;
  guint32 last_ts = 0;
  GThread *thread;

  g_assert_no_error (error);
  g_mutex_init (&src.lock);
  g_assert_true (g_socket_bind (socket, bind_addr, FALSE, NULL));
  g_socket_set_timeout (socket, 2);
  local = g_socket_get_local_address (socket, NULL);
  params.remote_rtp_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));

  sp_media_session_set_devices (
      s, sp_audio_device_new (&fed_vtable, SP_AUDIO_SOURCE, TRUE, "slow", &src), NULL);
  /* The wait counts from the start command: the devices are in place. */
  sp_media_session_flush (s);
  start = g_get_monotonic_time ();
  sp_media_session_start (s, &params);
  thread = g_thread_new ("warm-up", warm_up_thread, &src);
  while (n_audio < N_WARM_AUDIO)
    {
      guint8 buf[512];
      gssize len = g_socket_receive (socket, (gchar *) buf, sizeof buf, NULL, NULL);
      gint64 now = g_get_monotonic_time ();
      guint16 seq = (guint16) (buf[2] << 8 | buf[3]);
      guint32 ts = (guint32) buf[4] << 24 | (guint32) buf[5] << 16 | (guint32) buf[6] << 8 | buf[7];
      gboolean silent = buf[12] == 0xff && buf[12 + PACKET / 2] == 0xff;

      g_assert_cmpint (len, ==, 12 + PACKET);
      if (n_packets == 0)
        first_wait = now - start;
      else
        {
          max_gap = MAX (max_gap, now - last);
          g_assert_cmpuint (seq, ==, (guint16) (last_seq + 1));
          g_assert_cmpuint (ts - last_ts, ==, PACKET);
        }
      /* Silence only before the audio: none once the device gave any. */
      if (silent)
        {
          g_assert_cmpuint (n_audio, ==, 0);
          n_silent++;
        }
      else
        n_audio++;
      last = now;
      last_seq = seq;
      last_ts = ts;
      n_packets++;
    }
  g_thread_join (thread);
  sp_media_session_stop (s);
  sp_media_session_flush (s);
  sp_media_session_free (s);
  close (src.event_fd);
  g_mutex_clear (&src.lock);

  g_test_message ("first packet after %.1f ms; %u silent then %u audio; largest gap %.1f ms",
                  first_wait / 1000.0, n_silent, n_audio, max_gap / 1000.0);
  /* 400 ms of warm-up is 20 packet periods; allow for the edges. */
  g_assert_cmpuint (n_silent, >=, 15);
  g_assert_cmpint (first_wait, <=, 2 * 20000);
  g_assert_cmpint (max_gap, <=, 2 * 20000);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/media-timing/capture-wakes-sender", test_capture_wakes_sender);
  g_test_add_func ("/media-timing/stall-keeps-queue", test_stall_keeps_queue);
  g_test_add_func ("/media-timing/warm-up-sends-silence", test_warm_up_sends_silence);
  g_test_add_func ("/media-timing/full-sink-loses-nothing", test_full_sink_loses_nothing);
  return g_test_run ();
}
