#include "media/session.h"
#include "audio/alsa.h"
#include "media/comfort-noise.h"
#include "media/dtmf-detect.h"
#include "media/dtmf.h"
#include "media/echo.h"
#include "media/jitterbuffer.h"
#include "media/rtcp.h"
#include "media/rtp.h"
#include "media/tones.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define MAX_PTIME_MS      60
#define MAX_RATE          16000
#define MAX_PTIME_SAMPLES (MAX_RATE * MAX_PTIME_MS / 1000)
#define TICK_US           (SP_AUDIO_TICK_MS * 1000)
#define STATS_INTERVAL_US G_USEC_PER_SEC
#define RTCP_INTERVAL_US  (5 * G_USEC_PER_SEC)
/* A late tick catches up at most this many ticks, then skips ahead. */
#define MAX_CATCH_UP 10
#define DTMF_TONE_MS 160
#define DTMF_GAP_MS  60
/* Opus on a LAN: 10 ms packets once RTCP measures a round trip under
 * LAN_RTT_MS (10 ms less delay for twice the packets, which a LAN carries
 * easily); back to the negotiated packet time above WAN_RTT_MS. */
#define LAN_PTIME_MS 10
#define LAN_RTT_MS   5.0
#define WAN_RTT_MS   10.0
/* How often the input level meter changes: as often as a meter is worth
 * redrawing, a small fraction of the packets. */
#define LEVEL_UPDATES_PER_SEC 15
/* A clocked sink that underran is kept one tick further ahead, up to
 * MAX_AHEAD_PERIODS (a loaded machine: the media thread woke later than
 * the fill lasted), and back one tick after each SINK_CALM_US without an
 * underrun; so latency grows only where playback would otherwise break up
 * (each underrun is a gap in the far end's voice and moves the echo). */
#define MAX_AHEAD_PERIODS 3
#define SINK_CALM_US      (10 * G_USEC_PER_SEC)
/* A datagram as it may come off the wire: a full RTP packet plus what
 * SRTP adds to it. */
#define MAX_DATAGRAM (SP_RTP_MAX_PACKET + SP_SRTP_MAX_OVERHEAD)

/* Commands cross to the media thread through one FIFO per engine: the
 * owner appends and returns at once, the thread applies them in order, so
 * start, then new devices, then stop happen as they were asked. A session
 * is freed by its last command: nothing queued after it can name it. */
struct _SpMediaEngine
{
  GMainContext *context;
  GMainLoop *loop;
  GThread *thread;
  GMutex lock;             /* guards @commands only; held for a push or a pop */
  GQueue commands;         /* of Command, oldest first */
  GSource *command_source; /* ready while @commands may hold something */
};

typedef struct
{
  struct sockaddr_storage addr;
  socklen_t len;
} PeerAddress;

/* What reports need to reach the owner; reference counted so a report
 * still queued when the session is freed finds it closed, not freed. */
typedef struct
{
  SpMediaSession *session;
  SpMediaCallbacks callbacks;
  gpointer user_data;
  gint closed; /* atomic: no more callbacks */
  /* The DTLS sink (owner thread only, but for @dtls_sink_set, which the
   * media thread reads) and the datagrams on their way to it (atomic). */
  SpMediaDtlsFunc dtls_func;
  gpointer dtls_data;
  GDestroyNotify dtls_destroy;
  gint dtls_sink_set;
  gint dtls_pending;
} OwnerLink;

struct _SpMediaSession
{
  SpMediaEngine *engine;
  GMainContext *owner_context;
  OwnerLink *link;
  GMutex stats_lock; /* guards @stats_snapshot only; never held across I/O */
  SpMediaStats stats_snapshot;
  /* What the owner last asked (owner thread only): whether DTMF can be
   * queued, answered without asking the media thread. */
  gboolean owner_running;
  gboolean owner_has_dtmf;
  /* The snapshot as the owner last read it, for when the media thread
   * holds the lock (owner thread only). */
  SpMediaStats owner_stats;

  /* Everything below belongs to the media thread once created. */
  GSocket *rtp_socket, *rtcp_socket;
  int rtp_fd, rtcp_fd;
  GSource *rtp_source, *rtcp_source, *tick_source;
  /* Wakes the thread when the source has audio (CaptureWatch), so a full
   * packet goes out when its last sample is captured, not at a tick. */
  GSource *capture_watch;
  gboolean capture_watch_refused; /* no descriptors, or they spun: ticks only */
  guint16 rtp_port;

  gboolean running;
  SpMediaParams params;
  guint send_ptime_ms;   /* params.ptime_ms, or LAN_PTIME_MS on a LAN */
  gboolean peer_private; /* the SDP address is loopback, link- or site-local */
  char *remote_address, *remote_rtcp_address;
  PeerAddress expected_rtp, expected_rtcp;
  PeerAddress latched_rtp, latched_rtcp;
  gboolean have_expected, rtp_latched, rtcp_latched;
  SpSrtp *srtp;          /* NULL: plain RTP (see params.srtp) */
  PeerAddress dtls_peer; /* where the last DTLS datagram came from */
  gboolean have_dtls_peer;

  SpAudioDevice *source, *sink;
  SpTone *tone; /* call progress on the sink while the media is not running */
  SpCodec *encoder, *decoder;
  SpJitterBuffer *jb;
  guint rate;

  guint32 ssrc;
  guint16 seq;
  guint32 timestamp;
  gint16 capture[MAX_PTIME_SAMPLES + MAX_RATE / 100];
  gsize capture_len;
  /* A source just opened may give nothing for a while (a device still
   * starting, ~2 s for some): until its first audio, silence goes out
   * every packet period from @silence_due_us on, so the peer's jitter
   * buffer sees a steady stream instead of a gap. */
  gboolean capture_warm;
  gint64 silence_due_us;
  gint64 next_tick_us, next_stats_us, next_rtcp_us;
  guint64 octets_sent;
  gboolean sent_since_report;
  guint32 last_sr_middle; /* our last SR, for matching RTT */

  SpDtmfSender dtmf_sender;
  SpDtmfReceiver dtmf_receiver;
  SpDtmfDetector *dtmf_detector; /* when params.detect_inband_dtmf */
  SpEcho *echo;                  /* when params.echo_cancellation */
  SpDtmfMerger dtmf_merger;
  guint32 rx_ssrc; /* the stream the jitter buffer holds */
  gboolean have_rx_ssrc;
  SpRtpReceiverStats rx_stats;
  SpMediaStats stats;
  char cname[64];
  /* The input level meter: the peak captured over the current window
   * (1/LEVEL_UPDATES_PER_SEC of a second), published to @input_level at
   * the window's end; so it changes at most that often, and only while
   * the media runs. Read from any thread. */
  gint input_level; /* atomic, 0..32768 */
  gint muted;       /* atomic: send silence (sp_media_session_set_muted) */
  gint level_window_peak;
  gsize level_window_frames;
  /* How far ahead the clocked sink is kept (see MAX_AHEAD_PERIODS). */
  gsize sink_ahead;
  /* What a full clocked sink did not take of the last chunk: played
   * first at the next tick, not lost. */
  gint16 sink_pending[MAX_RATE / 100];
  gsize sink_pending_len;
  guint sink_xruns;
  gint64 sink_calm_since;
};

/* ---- Engine ------------------------------------------------------------- */

typedef enum
{
  COMMAND_ATTACH,
  COMMAND_SET_DEVICES,
  COMMAND_REPLACE_DEVICE,
  COMMAND_START,
  COMMAND_STOP,
  COMMAND_PLAY_TONE,
  COMMAND_SEND_DTMF,
  COMMAND_SET_SRTP,
  COMMAND_SEND_DTLS,
  COMMAND_FREE,
  COMMAND_FENCE,
  COMMAND_QUIT,
} CommandKind;

/* Lets sp_media_engine_flush () wait for the commands before it. */
typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean done;
} Fence;

/* One command; it owns what it carries (devices, strings) until applied. */
typedef struct
{
  CommandKind kind;
  SpMediaSession *session;
  SpAudioDevice *source, *sink; /* SET_DEVICES; REPLACE_DEVICE: one of them */
  SpMediaParams params;         /* START; its strings are the two below */
  char *remote_address, *remote_rtcp_address;
  gint tone;    /* PLAY_TONE */
  char *digits; /* SEND_DTMF */
  Fence *fence; /* FENCE: the waiter's */
  SpSrtp *srtp; /* SET_SRTP */
  GBytes *data; /* SEND_DTLS */
} Command;

static void apply_command (SpMediaEngine *engine, Command *cmd);

static void
command_free (Command *cmd)
{
  /* Applied commands hand their devices over; only one never applied
   * (posted after the quit) still holds any. */
  sp_audio_device_free (cmd->source);
  sp_audio_device_free (cmd->sink);
  g_free (cmd->remote_address);
  g_free (cmd->remote_rtcp_address);
  g_free (cmd->digits);
  sp_srtp_free (cmd->srtp);
  g_clear_pointer (&cmd->data, g_bytes_unref);
  g_free (cmd);
}

typedef struct
{
  GSource source;
  SpMediaEngine *engine;
} CommandSource;

/* One command per dispatch: a tick that falls due meanwhile (HIGH, above
 * this source) runs before the next, so a call's device opens delay
 * another call's audio by one open at most, never by a whole batch. */
static gboolean
command_source_dispatch (GSource *source, GSourceFunc callback, gpointer data)
{
  SpMediaEngine *engine = ((CommandSource *) source)->engine;
  Command *cmd;
  gboolean more;

  /* Unready before taking: a command pushed after this sets it ready
   * again, one pushed before is taken now or seen below. */
  g_source_set_ready_time (source, -1);
  g_mutex_lock (&engine->lock);
  cmd = g_queue_pop_head (&engine->commands);
  more = !g_queue_is_empty (&engine->commands);
  g_mutex_unlock (&engine->lock);
  if (more)
    g_source_set_ready_time (source, 0);
  if (cmd != NULL)
    {
      apply_command (engine, cmd);
      command_free (cmd);
    }
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs command_source_funcs = {
  NULL, NULL, command_source_dispatch, NULL, NULL, NULL
};

/* Appends @cmd for the media thread and returns at once (any thread). */
static void
engine_post (SpMediaEngine *engine, Command *cmd)
{
  g_mutex_lock (&engine->lock);
  g_queue_push_tail (&engine->commands, cmd);
  g_mutex_unlock (&engine->lock);
  /* Thread-safe: wakes the media thread's context. */
  g_source_set_ready_time (engine->command_source, 0);
}

static Command *
command_new (CommandKind kind, SpMediaSession *session)
{
  Command *cmd = g_new0 (Command, 1);

  cmd->kind = kind;
  cmd->session = session;
  return cmd;
}

static gpointer
engine_thread (gpointer data)
{
  SpMediaEngine *engine = data;

  g_main_context_push_thread_default (engine->context);
  g_main_loop_run (engine->loop);
  g_main_context_pop_thread_default (engine->context);
  return NULL;
}

SpMediaEngine *
sp_media_engine_new (void)
{
  SpMediaEngine *engine = g_new0 (SpMediaEngine, 1);

  engine->context = g_main_context_new ();
  engine->loop = g_main_loop_new (engine->context, FALSE);
  g_mutex_init (&engine->lock);
  g_queue_init (&engine->commands);
  engine->command_source = g_source_new (&command_source_funcs, sizeof (CommandSource));
  ((CommandSource *) engine->command_source)->engine = engine;
  /* Below the tick (HIGH): a command never delays audio already due. */
  g_source_set_priority (engine->command_source, G_PRIORITY_DEFAULT);
  g_source_set_name (engine->command_source, "sp-media-commands");
  g_source_attach (engine->command_source, engine->context);
  engine->thread = g_thread_new ("sp-media", engine_thread, engine);
  return engine;
}

void
sp_media_engine_free (SpMediaEngine *engine)
{
  if (engine == NULL)
    return;
  /* Behind every command already posted (the sessions' frees). */
  engine_post (engine, command_new (COMMAND_QUIT, NULL));
  g_thread_join (engine->thread);
  /* Nothing may be posted after the quit; should something be, its
   * devices and strings still go. */
  g_queue_clear_full (&engine->commands, (GDestroyNotify) command_free);
  g_source_destroy (engine->command_source);
  g_source_unref (engine->command_source);
  g_main_loop_unref (engine->loop);
  g_main_context_unref (engine->context);
  g_mutex_clear (&engine->lock);
  g_free (engine);
}

void
sp_media_engine_flush (SpMediaEngine *engine)
{
  Command *cmd;
  Fence fence = { 0 };

  g_return_if_fail (g_thread_self () != engine->thread);
  g_mutex_init (&fence.lock);
  g_cond_init (&fence.cond);
  cmd = command_new (COMMAND_FENCE, NULL);
  cmd->fence = &fence;
  engine_post (engine, cmd);
  g_mutex_lock (&fence.lock);
  while (!fence.done)
    g_cond_wait (&fence.cond, &fence.lock);
  g_mutex_unlock (&fence.lock);
  g_mutex_clear (&fence.lock);
  g_cond_clear (&fence.cond);
}

static void
fence_signal (Fence *fence)
{
  g_mutex_lock (&fence->lock);
  fence->done = TRUE;
  g_cond_signal (&fence->cond);
  g_mutex_unlock (&fence->lock);
}

/* ---- Reports to the owner ---------------------------------------------- */

typedef struct
{
  OwnerLink *link;
  SpMediaStats stats;
  char digit;
  SpDtmfOrigin origin; /* with digit */
  SpAudioDirection direction;
  GError *error;
} Report;

static void
report_free (gpointer data)
{
  Report *report = data;

  g_clear_error (&report->error);
  g_atomic_rc_box_release (report->link);
  g_free (report);
}

static gboolean
deliver_report (gpointer data)
{
  Report *report = data;
  OwnerLink *link = report->link;

  if (g_atomic_int_get (&link->closed))
    return G_SOURCE_REMOVE;
  if (report->digit && link->callbacks.dtmf)
    link->callbacks.dtmf (link->session, report->digit, report->origin, link->user_data);
  else if (report->error && link->callbacks.device_error)
    link->callbacks.device_error (link->session, report->direction, report->error, link->user_data);
  else if (!report->digit && !report->error && link->callbacks.stats)
    link->callbacks.stats (link->session, &report->stats, link->user_data);
  return G_SOURCE_REMOVE;
}

static void
post_report (SpMediaSession *s, Report *report)
{
  report->link = g_atomic_rc_box_acquire (s->link);
  g_main_context_invoke_full (s->owner_context, G_PRIORITY_DEFAULT, deliver_report, report,
                              report_free);
}

/* ---- Devices ------------------------------------------------------------ */

static void forget_capture_watch (SpMediaSession *s);

static void
device_failed (SpMediaSession *s, SpAudioDevice **slot, GError *error)
{
  Report *report = g_new0 (Report, 1);
  SpAudioDirection direction = (*slot)->direction;

  /* A precondition that failed (g_return_val_if_fail) sets no error. */
  if (error == NULL)
    error = g_error_new_literal (SP_AUDIO_ERROR, SP_AUDIO_ERROR_FAILED, "Device misused");
  if (slot == &s->source)
    forget_capture_watch (s);
  g_warning ("Audio %s %s failed: %s", direction == SP_AUDIO_SOURCE ? "source" : "sink",
             (*slot)->name, error->message);
  report->direction = direction;
  report->error = error;
  post_report (s, report);
  sp_audio_device_free (*slot);
  *slot = sp_audio_null_new (direction);
  if (s->rate)
    sp_audio_device_open (*slot, s->rate, NULL);
}

static void
open_device (SpMediaSession *s, SpAudioDevice **slot)
{
  GError *error = NULL;

  if ((*slot)->is_open && (*slot)->rate == s->rate)
    return;
  if (slot == &s->source)
    forget_capture_watch (s);
  sp_audio_device_close (*slot);
  if (!sp_audio_device_open (*slot, s->rate, &error))
    device_failed (s, slot, error);
  else if (slot == &s->source)
    {
      s->capture_warm = FALSE;
      /* Half a period of grace: a device that is ready at once is not
       * preceded by a packet of silence. */
      s->silence_due_us = g_get_monotonic_time () + (gint64) s->send_ptime_ms * 1500;
    }
  if (slot == &s->sink)
    {
      s->sink_ahead = SP_AUDIO_PLAYBACK_AHEAD_FRAMES (s->rate);
      s->sink_pending_len = 0;
      s->sink_xruns = sp_audio_alsa_get_xruns (s->sink);
      s->sink_calm_since = g_get_monotonic_time ();
    }
  /* Another device, another acoustic path: learn it afresh. */
  if (s->echo != NULL)
    sp_echo_reset (s->echo);
}

/* ---- Sending ------------------------------------------------------------ */

static const PeerAddress *
rtp_destination (SpMediaSession *s)
{
  if (s->rtp_latched)
    return &s->latched_rtp;
  return s->have_expected ? &s->expected_rtp : NULL;
}

static void
send_datagram (SpMediaSession *s, int fd, const PeerAddress *to, const guint8 *buf, gsize len)
{
  /* Errors (ICMP unreachable from a peer not up yet) are not fatal. */
  if (sendto (fd, buf, len, 0, (const struct sockaddr *) &to->addr, to->len) >= 0)
    s->stats.packets_sent++;
}

/* With a context, protects the packet in @buf (@capacity bytes); without
 * one, FALSE when SRTP was negotiated (nothing goes out in the clear
 * while the keys are awaited). */
static gboolean
protect_outgoing (SpMediaSession *s, guint8 *buf, gsize *len, gsize capacity, gboolean rtcp)
{
  SpSrtpResult result;

  if (s->srtp == NULL)
    return !s->params.srtp;
  result = rtcp ? sp_srtp_protect_rtcp (s->srtp, buf, len, capacity)
                : sp_srtp_protect_rtp (s->srtp, buf, len, capacity);
  return result == SP_SRTP_OK;
}

static void
send_rtp (SpMediaSession *s, guint pt, gboolean marker, guint32 ts, const guint8 *payload,
          gsize len)
{
  guint8 buf[MAX_DATAGRAM];
  SpRtpPacket packet = { 0 };
  const PeerAddress *to = rtp_destination (s);
  gsize n;

  packet.payload_type = (guint8) pt;
  packet.marker = marker;
  packet.seq = s->seq++;
  packet.timestamp = ts;
  packet.ssrc = s->ssrc;
  packet.payload = payload;
  packet.payload_len = len;
  n = sp_rtp_build (buf, SP_RTP_MAX_PACKET, &packet);
  if (n == 0 || to == NULL || !protect_outgoing (s, buf, &n, sizeof buf, FALSE))
    return;
  send_datagram (s, s->rtp_fd, to, buf, n);
  s->octets_sent += len;
  s->sent_since_report = TRUE;
}

/* The peer's number for our codec (a dynamic one if its SDP said so). */
static guint
send_payload_type (SpMediaSession *s)
{
  return s->params.payload_type ? s->params.payload_type
                                : sp_codec_get_info (s->encoder)->payload_type;
}

/* One packet time of captured audio is ready: send it, or a DTMF event in
 * its place. */
static void
send_packet (SpMediaSession *s, gsize samples)
{
  guint8 payload[MAX_PTIME_SAMPLES];
  guint8 event[SP_DTMF_PAYLOAD_SIZE];
  gboolean marker;
  guint32 event_ts;
  gsize len;

  if (s->params.send && s->params.dtmf_payload_type >= 0 &&
      sp_dtmf_sender_next (&s->dtmf_sender, s->timestamp, event, &marker, &event_ts))
    send_rtp (s, (guint) s->params.dtmf_payload_type, marker, event_ts, event, sizeof event);
  else if (s->params.send)
    {
      len = sp_codec_encode (s->encoder, s->capture, samples, payload, sizeof payload);
      send_rtp (s, send_payload_type (s), FALSE, s->timestamp, payload, len);
    }
  s->timestamp += sp_codec_rtp_units_for_samples (s->encoder, samples);
}

/* While the source has given no audio since it opened: a packet of
 * silence for every packet period that has passed. A stall of the thread
 * is not made up in a burst: the clock skips ahead. */
static void
send_warm_up_silence (SpMediaSession *s, gsize ptime_samples)
{
  gint64 now = g_get_monotonic_time ();
  gint64 period_us = (gint64) s->send_ptime_ms * 1000;

  if (now < s->silence_due_us)
    return;
  if (now - s->silence_due_us > 2 * period_us)
    s->silence_due_us = now;
  while (s->silence_due_us <= now)
    {
      /* Anything left over from a previous source is sent, padded. */
      memset (s->capture + s->capture_len, 0,
              (ptime_samples - MIN (s->capture_len, ptime_samples)) * sizeof (gint16));
      send_packet (s, ptime_samples);
      s->capture_len = 0;
      s->silence_due_us += period_us;
    }
}

/* Whether the echo canceller applies: asked for, and both devices clocked
 * (a microphone that can hear the speaker). */
static gboolean
echo_active (SpMediaSession *s)
{
  return s->echo != NULL && s->source->clocked && s->sink->clocked;
}

/* The packet at the head of the capture buffer, less the echo of what the
 * sink played. Its first sample was at the microphone while the sample
 * the sink's delay before the end of what was written was being heard,
 * as long before now as the samples read after it (the capture buffer)
 * and those the source still holds (its delay: a backlog when the media
 * thread woke late) last. A sink that is not running (underrun, not yet
 * started) reports no delay: then the lag is unknown. */
static void
cancel_echo (SpMediaSession *s, gsize samples)
{
  gsize sink_delay;

  if (!echo_active (s))
    return;
  sink_delay = sp_audio_device_delay (s->sink);
  sp_echo_capture (s->echo, s->capture, samples,
                   sink_delay > 0 ? sink_delay + s->capture_len + sp_audio_device_delay (s->source)
                                  : SP_ECHO_LAG_UNKNOWN);
}

/* @n frames were just read: the device noted their peak. */
static void
meter_input (SpMediaSession *s, gsize n)
{
  s->level_window_peak = MAX (s->level_window_peak, g_atomic_int_get (&s->source->level_peak));
  s->level_window_frames += n;
  if (s->level_window_frames < s->rate / LEVEL_UPDATES_PER_SEC)
    return;
  g_atomic_int_set (&s->input_level, s->level_window_peak);
  s->level_window_peak = 0;
  s->level_window_frames = 0;
}

/* Reads what the source has (a clocked one) or one chunk (an unclocked
 * one) and sends every full packet; returns the frames read. */
static gsize
capture_tick (SpMediaSession *s, gsize chunk)
{
  gsize ptime_samples = (gsize) s->rate * s->send_ptime_ms / 1000;
  GError *error = NULL;
  gsize total = 0;
  gssize n;

  /* A clocked source gives what it has; an unclocked one one chunk. */
  do
    {
      gsize room = MIN (chunk, G_N_ELEMENTS (s->capture) - s->capture_len);
      n = sp_audio_device_read (s->source, s->capture + s->capture_len, room, &error);
      if (n < 0)
        {
          device_failed (s, &s->source, error);
          return total;
        }
      if (n > 0)
        {
          s->capture_warm = TRUE;
          meter_input (s, (gsize) n);
        }
      s->capture_len += (gsize) n;
      total += (gsize) n;
      while (s->capture_len >= ptime_samples)
        {
          cancel_echo (s, ptime_samples);
          if (g_atomic_int_get (&s->muted))
            memset (s->capture, 0, ptime_samples * sizeof (gint16));
          send_packet (s, ptime_samples);
          s->capture_len -= ptime_samples;
          memmove (s->capture, s->capture + ptime_samples, s->capture_len * sizeof (gint16));
        }
    }
  while (s->source->clocked && n > 0);
  if (!s->capture_warm)
    send_warm_up_silence (s, ptime_samples);
  return total;
}

/* ---- Capture watch ------------------------------------------------------- */

/* Dispatches in a row that found nothing to read before the watch is
 * given up: a descriptor that stays ready without audio would spin. */
#define MAX_IDLE_WAKEUPS 200

typedef struct
{
  GSource source;
  SpMediaSession *session;
  guint n_fds;
  guint idle_wakeups;
  GPollFD fds[SP_AUDIO_MAX_POLL_FDS];
  gpointer tags[SP_AUDIO_MAX_POLL_FDS];
} CaptureWatch;

static gboolean
capture_watch_dispatch (GSource *source, GSourceFunc callback, gpointer data)
{
  CaptureWatch *watch = (CaptureWatch *) source;
  SpMediaSession *s = watch->session;
  gsize got = 0;

  for (guint i = 0; i < watch->n_fds; i++)
    watch->fds[i].revents = (gushort) g_source_query_unix_fd (source, watch->tags[i]);
  if (sp_audio_device_poll_ready (s->source, watch->fds, watch->n_fds))
    got = capture_tick (s, SP_AUDIO_TICK_FRAMES (s->rate));
  /* The read may have failed and replaced the source, watch and all. */
  if (s->capture_watch != source)
    return G_SOURCE_REMOVE;
  watch->idle_wakeups = got > 0 ? 0 : watch->idle_wakeups + 1;
  if (watch->idle_wakeups >= MAX_IDLE_WAKEUPS)
    {
      g_debug ("Audio source %s wakes without audio; reading it on ticks only", s->source->name);
      forget_capture_watch (s);
      s->capture_watch_refused = TRUE;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs capture_watch_funcs = { NULL, NULL, capture_watch_dispatch, NULL, NULL, NULL };

/* Watches the source's descriptors if it has any; the tick reads it
 * otherwise (WAV, null, a device that cannot say). */
static void
ensure_capture_watch (SpMediaSession *s)
{
  CaptureWatch *watch;
  GPollFD fds[SP_AUDIO_MAX_POLL_FDS];
  guint n;

  if (s->capture_watch != NULL || s->capture_watch_refused || !s->source->clocked)
    return;
  n = sp_audio_device_get_poll_fds (s->source, fds, G_N_ELEMENTS (fds));
  if (n == 0)
    {
      s->capture_watch_refused = TRUE;
      return;
    }
  watch = (CaptureWatch *) g_source_new (&capture_watch_funcs, sizeof (CaptureWatch));
  watch->session = s;
  watch->n_fds = n;
  for (guint i = 0; i < n; i++)
    {
      watch->fds[i] = fds[i];
      watch->tags[i] = g_source_add_unix_fd (&watch->source, fds[i].fd, fds[i].events);
    }
  g_source_set_priority (&watch->source, G_PRIORITY_HIGH);
  g_source_attach (&watch->source, s->engine->context);
  s->capture_watch = &watch->source;
}

/* Before the source is closed, replaced or reopened: its descriptors go
 * with it. The next device gets its own chance. */
static void
forget_capture_watch (SpMediaSession *s)
{
  s->capture_watch_refused = FALSE;
  if (s->capture_watch == NULL)
    return;
  g_source_destroy (s->capture_watch);
  g_clear_pointer (&s->capture_watch, g_source_unref);
}

static void
report_digit (SpMediaSession *s, char digit, SpDtmfOrigin origin)
{
  Report *report;

  /* With in-band detection on, a key press may come both ways. */
  if (s->dtmf_detector != NULL &&
      !sp_dtmf_merger_take (&s->dtmf_merger, digit, origin, g_get_monotonic_time ()))
    return;
  report = g_new0 (Report, 1);
  report->digit = digit;
  report->origin = origin;
  post_report (s, report);
}

/* In-band DTMF in what is about to be played. */
static void
detect_inband_dtmf (SpMediaSession *s, const gint16 *pcm, gsize n)
{
  char digits[4];
  guint found;

  if (s->dtmf_detector == NULL)
    return;
  found = sp_dtmf_detector_feed (s->dtmf_detector, pcm, n, digits, G_N_ELEMENTS (digits));
  for (guint i = 0; i < found; i++)
    report_digit (s, digits[i], SP_DTMF_FROM_AUDIO);
}

/* Whether a clocked sink wants another tick's worth now: it is kept
 * @sink_ahead ahead, refilled after a stall. */
static gboolean
sink_wants_more (SpMediaSession *s, guint rounds)
{
  return s->sink->clocked && rounds < 2 * MAX_AHEAD_PERIODS + 2 &&
         sp_audio_device_delay (s->sink) < s->sink_ahead;
}

/* Keeps the sink further ahead after an underrun, less after a calm spell
 * (see MAX_AHEAD_PERIODS). */
static void
adapt_sink_ahead (SpMediaSession *s)
{
  gsize base = SP_AUDIO_PLAYBACK_AHEAD_FRAMES (s->rate);
  gsize tick = SP_AUDIO_TICK_FRAMES (s->rate);
  guint xruns = sp_audio_alsa_get_xruns (s->sink);
  gint64 now = g_get_monotonic_time ();

  s->sink_ahead = MAX (s->sink_ahead, base);
  if (xruns != s->sink_xruns)
    {
      s->sink_xruns = xruns;
      s->sink_ahead = MIN (MAX (s->sink_ahead, base) + tick,
                           MAX_AHEAD_PERIODS * SP_AUDIO_PERIOD_FRAMES (s->rate));
      s->sink_calm_since = now;
    }
  else if (s->sink_ahead > base && now - s->sink_calm_since >= SINK_CALM_US)
    {
      s->sink_ahead -= tick;
      s->sink_calm_since = now;
    }
}

/* Writes @n samples of @pcm (the reference of the echo canceller too);
 * keeps what a full sink did not take for the next tick. FALSE when the
 * sink failed or is full. */
static gboolean
write_sink (SpMediaSession *s, const gint16 *pcm, gsize n)
{
  GError *error = NULL;
  gssize done = sp_audio_device_write (s->sink, pcm, n, &error);

  if (done < 0)
    {
      device_failed (s, &s->sink, error);
      return FALSE;
    }
  if (echo_active (s))
    sp_echo_played (s->echo, pcm, (gsize) done);
  if ((gsize) done == n)
    return TRUE;
  memmove (s->sink_pending, pcm + done, (n - (gsize) done) * sizeof (gint16));
  s->sink_pending_len = n - (gsize) done;
  return FALSE;
}

static void
play_tick (SpMediaSession *s, gsize chunk)
{
  gint16 pcm[MAX_RATE / 100];
  guint rounds = 0;

  if (s->sink->clocked)
    adapt_sink_ahead (s);
  /* A chunk the sink was too full for goes first; while it still is,
   * nothing more is taken from the jitter buffer (it would be lost). */
  if (s->sink_pending_len > 0)
    {
      gsize n = s->sink_pending_len;
      memcpy (pcm, s->sink_pending, n * sizeof (gint16));
      s->sink_pending_len = 0;
      if (!write_sink (s, pcm, n))
        return;
    }
  /* One tick's worth, and more while a clocked sink is short. */
  do
    {
      if (s->params.receive)
        {
          sp_jitter_buffer_get (s->jb, pcm, chunk);
          detect_inband_dtmf (s, pcm, chunk);
        }
      else
        memset (pcm, 0, chunk * sizeof (gint16));
      if (!write_sink (s, pcm, chunk))
        return;
    }
  while (sink_wants_more (s, ++rounds));
}

/* ---- RTCP ---------------------------------------------------------------- */

static void
send_rtcp (SpMediaSession *s, gboolean bye)
{
  SpRtcpReport report = { 0 };
  guint8 buf[256 + SP_SRTP_MAX_OVERHEAD];
  gint64 now = g_get_monotonic_time ();
  const PeerAddress *to;
  gsize n;

  report.ssrc = s->ssrc;
  report.is_sender_report = s->sent_since_report;
  if (report.is_sender_report)
    {
      report.ntp_timestamp = sp_rtcp_ntp_from_real_time (g_get_real_time ());
      report.rtp_timestamp = s->timestamp;
      report.packet_count = (guint32) s->stats.packets_sent;
      report.octet_count = (guint32) s->octets_sent;
      s->last_sr_middle = sp_rtcp_ntp_middle (report.ntp_timestamp);
    }
  if (sp_rtp_receiver_stats_fill_block (&s->rx_stats, now, &report.blocks[0]))
    report.n_blocks = 1;
  report.bye = bye;
  s->sent_since_report = FALSE;
  n = sp_rtcp_build (buf, 256, &report, s->cname);
  if (s->params.rtcp_mux)
    to = rtp_destination (s);
  else
    to = s->rtcp_latched ? &s->latched_rtcp : (s->have_expected ? &s->expected_rtcp : NULL);
  if (n && to && protect_outgoing (s, buf, &n, sizeof buf, TRUE))
    sendto (s->params.rtcp_mux ? s->rtp_fd : s->rtcp_fd, buf, n, 0,
            (const struct sockaddr *) &to->addr, to->len);
}

static void adapt_ptime (SpMediaSession *s);
static void choose_opus_mode (SpMediaSession *s);

static void
handle_rtcp (SpMediaSession *s, const guint8 *buf, gsize len)
{
  SpRtcpReport report;
  gint64 now = g_get_monotonic_time ();

  if (!sp_rtcp_parse (buf, len, &report, NULL))
    {
      s->stats.malformed++;
      return;
    }
  if (report.is_sender_report)
    sp_rtp_receiver_stats_sender_report (&s->rx_stats, report.ntp_timestamp, now);
  for (guint i = 0; i < report.n_blocks; i++)
    {
      SpRtcpReportBlock *b = &report.blocks[i];
      guint32 arrival;
      double rtt;
      if (b->ssrc != s->ssrc)
        continue;
      arrival = sp_rtcp_ntp_middle (sp_rtcp_ntp_from_real_time (g_get_real_time ()));
      rtt = sp_rtcp_round_trip_ms (arrival, b->lsr, b->dlsr);
      if (rtt >= 0)
        {
          s->stats.rtt_ms = rtt;
          adapt_ptime (s);
        }
      s->stats.remote_fraction_lost = b->fraction_lost / 256.0;
      /* Opus adds in-band FEC while the peer loses packets (none at 0). */
      sp_codec_set_expected_loss (s->encoder, (guint) (b->fraction_lost * 100 / 256));
      choose_opus_mode (s);
      /* In the RTP clock of the stream we send (the codec's, not the
       * audio rate: 8000 for G.722 too). */
      s->stats.remote_jitter_ms = b->jitter * 1000.0 / sp_codec_get_info (s->encoder)->clock_rate;
    }
}

/* RFC 4733 events are timed in packet times: the sender follows ours. */
static void
init_dtmf_sender (SpMediaSession *s)
{
  /* Events share the audio's RTP clock (RFC 4733 2.1): 48000 with Opus,
   * unless the peer only has telephone-event/8000. */
  sp_dtmf_sender_init (&s->dtmf_sender,
                       s->params.dtmf_clock_rate ? s->params.dtmf_clock_rate
                                                 : sp_codec_get_info (s->encoder)->clock_rate,
                       s->send_ptime_ms, DTMF_TONE_MS, DTMF_GAP_MS);
}

/* Opus in 10 ms packets (a LAN) that the peer does not lose: libopus's
 * low-delay mode, 4 ms less look-ahead for the 40 ms mouth-to-ear goal;
 * otherwise its VoIP mode, whose SILK also carries the in-band FEC a
 * lossy path needs. */
static void
choose_opus_mode (SpMediaSession *s)
{
  sp_codec_set_low_delay (s->encoder,
                          s->send_ptime_ms <= LAN_PTIME_MS && s->stats.remote_fraction_lost == 0);
}

/* Opus between phones on a LAN (round trip under 5 ms): 10 ms packets
 * (RFC 7587 receivers take any frame duration); over slower paths, or
 * once the round trip grows past 10 ms, the negotiated packet time. Until
 * RTCP has measured the round trip (a few seconds), a peer at a private
 * address is taken for a LAN, so the call keeps one packet time from its
 * start there. Only from the common 20 ms: a peer that asked for another
 * keeps it. Waits while a DTMF event is being sent, which is timed in
 * packets. */
static void
adapt_ptime (SpMediaSession *s)
{
  guint want = s->params.ptime_ms;
  double rtt = s->stats.rtt_ms;

  if (sp_codec_get_info (s->encoder)->id != SP_CODEC_OPUS || s->params.ptime_ms != 20 ||
      s->params.fixed_ptime)
    want = s->params.ptime_ms;
  else if (rtt >= 0 && (rtt < LAN_RTT_MS || (s->send_ptime_ms == LAN_PTIME_MS && rtt < WAN_RTT_MS)))
    want = LAN_PTIME_MS;
  else if (rtt < 0 && s->peer_private)
    want = LAN_PTIME_MS;
  if (want == s->send_ptime_ms || sp_dtmf_sender_busy (&s->dtmf_sender))
    return;
  g_debug ("RTP round trip %.1f ms: sending %u ms packets", rtt, want);
  s->send_ptime_ms = want;
  init_dtmf_sender (s);
  choose_opus_mode (s);
}

/* ---- Receiving ----------------------------------------------------------- */

static gboolean
same_host (const PeerAddress *a, const struct sockaddr_storage *b)
{
  if (a->addr.ss_family != b->ss_family)
    return FALSE;
  if (b->ss_family == AF_INET)
    return memcmp (&((const struct sockaddr_in *) &a->addr)->sin_addr,
                   &((const struct sockaddr_in *) b)->sin_addr, sizeof (struct in_addr)) == 0;
  if (b->ss_family == AF_INET6)
    return memcmp (&((const struct sockaddr_in6 *) &a->addr)->sin6_addr,
                   &((const struct sockaddr_in6 *) b)->sin6_addr, sizeof (struct in6_addr)) == 0;
  return FALSE;
}

static gboolean
same_address (const PeerAddress *a, const struct sockaddr_storage *b, socklen_t len)
{
  return a->len == len && memcmp (&a->addr, b, len) == 0;
}

static gboolean is_decoder_payload_type (SpMediaSession *s, guint pt);

static gboolean
is_cn_payload_type (SpMediaSession *s, guint pt)
{
  return s->params.cn_payload_type != 0 && pt == s->params.cn_payload_type;
}

/* A peer behind NAT names its private address in SDP and sends from
 * another: before anything came from the SDP host, the first packet that
 * is valid RTP in a format we negotiated may latch us to its source.
 * Nothing else may, so stray datagrams cannot steer our media. */
static gboolean
may_latch_stranger (SpMediaSession *s, const guint8 *buf, gsize len, gboolean rtcp)
{
  SpRtpPacket p;

  if (rtcp || s->params.strict_source || !sp_rtp_parse (buf, len, &p, NULL))
    return FALSE;
  return is_decoder_payload_type (s, p.payload_type) ||
         (gint) p.payload_type == s->params.dtmf_payload_type ||
         is_cn_payload_type (s, p.payload_type);
}

/* Symmetric RTP: the first packet from the expected host (or, see above,
 * the first valid RTP from anywhere) latches its exact address, port
 * included; after that only that address counts and we send there.
 * RTCP may also come from the host a=rtcp named, or from the host RTP
 * latched to. */
static gboolean
accept_source (SpMediaSession *s, PeerAddress *latched, gboolean *is_latched,
               const struct sockaddr_storage *from, socklen_t len, gboolean rtcp, const guint8 *buf,
               gsize buf_len)
{
  if (*is_latched)
    return same_address (latched, from, len);
  if (!s->have_expected)
    return FALSE;
  if (!(same_host (&s->expected_rtp, from) || (rtcp && same_host (&s->expected_rtcp, from)) ||
        (rtcp && s->rtp_latched && same_host (&s->latched_rtp, from)) ||
        may_latch_stranger (s, buf, buf_len, rtcp)))
    return FALSE;
  memcpy (&latched->addr, from, len);
  latched->len = len;
  *is_latched = TRUE;
  return TRUE;
}

/* The peer restarted its stream (a new SSRC: a transfer, a media server
 * taking over, a peer that restarted): its sequence numbers and timestamps
 * start afresh, so what the jitter buffer knows no longer applies. The
 * receiver statistics restart by themselves on the new SSRC. */
static void
restart_stream (SpMediaSession *s)
{
  sp_jitter_buffer_reset (s->jb);
  sp_dtmf_receiver_init (&s->dtmf_receiver);
  if (s->dtmf_detector != NULL)
    sp_dtmf_detector_reset (s->dtmf_detector);
  s->stats.ssrc_changes++;
}

/* An answer may list several codecs and the peer may send any of them
 * (RFC 3264 6.1): follow it to another codec of the same audio rate (PCMU
 * <-> PCMA, G.722 <-> Opus), which the devices and the jitter buffer's period size allow
 * without reopening anything. Rare, so the allocation is no concern. */
static gboolean
switch_decoder (SpMediaSession *s, guint payload_type)
{
  const SpCodecInfo *info = sp_codec_info_for_payload_type (payload_type);
  SpCodec *decoder;

  /* Back to the negotiated codec on the number the SDP gave it (Opus has
   * no static one). */
  if (s->params.payload_type != 0 && payload_type == s->params.payload_type)
    info = sp_codec_get_info (s->encoder);
  decoder = info != NULL ? sp_codec_new_for_rate (info->id, s->rate) : NULL;
  if (decoder == NULL)
    return FALSE;
  g_clear_pointer (&s->jb, sp_jitter_buffer_free);
  sp_codec_free (s->decoder);
  s->decoder = decoder;
  s->jb = sp_jitter_buffer_new (s->decoder, 20, 200);
  return TRUE;
}

/* The decoder's codec, on its static payload type or on the dynamic one
 * the SDP gave it. */
static gboolean
is_decoder_payload_type (SpMediaSession *s, guint pt)
{
  const SpCodecInfo *info = sp_codec_get_info (s->decoder);
  gboolean negotiated_pt =
      s->params.payload_type != 0 && sp_codec_get_info (s->encoder)->id == info->id;

  /* A dynamic codec (Opus) is known on the number the SDP gave it only. */
  if (info->dynamic && negotiated_pt)
    return pt == s->params.payload_type;
  return pt == info->payload_type || (negotiated_pt && pt == s->params.payload_type);
}

static void
handle_rtp (SpMediaSession *s, const guint8 *buf, gsize len, gint64 now)
{
  SpRtpPacket p;

  if (!sp_rtp_parse (buf, len, &p, NULL))
    {
      s->stats.malformed++;
      return;
    }
  if (!is_decoder_payload_type (s, p.payload_type) &&
      (gint) p.payload_type != s->params.dtmf_payload_type &&
      !is_cn_payload_type (s, p.payload_type) && !switch_decoder (s, p.payload_type))
    return; /* formats we did not negotiate (CN included, unless it was) */
  s->stats.packets_received++;
  if (s->have_rx_ssrc && p.ssrc != s->rx_ssrc)
    restart_stream (s);
  s->rx_ssrc = p.ssrc;
  s->have_rx_ssrc = TRUE;
  sp_rtp_receiver_stats_update (&s->rx_stats, p.ssrc, p.seq, p.timestamp, now);
  if (!s->params.receive)
    return;
  if ((gint) p.payload_type == s->params.dtmf_payload_type)
    {
      char digit =
          sp_dtmf_receiver_handle (&s->dtmf_receiver, p.timestamp, p.payload, p.payload_len);
      sp_jitter_buffer_put_skip (s->jb, p.seq);
      if (digit)
        report_digit (s, digit, SP_DTMF_FROM_EVENT);
      return;
    }
  if (is_cn_payload_type (s, p.payload_type))
    {
      guint level;
      if (sp_comfort_noise_parse (p.payload, p.payload_len, &level))
        sp_jitter_buffer_put_comfort_noise (s->jb, p.seq, p.timestamp, level, now);
      else
        {
          s->stats.malformed++;
          sp_jitter_buffer_put_skip (s->jb, p.seq);
        }
      return;
    }
  sp_jitter_buffer_put (s->jb, p.seq, p.timestamp, p.payload, p.payload_len, now);
}

/* SRTP in force: authenticates and decrypts in place, or drops (counted)
 * what fails, is replayed or comes in the clear. Before any source check,
 * so only the key's holder can latch us once SRTP is on. */
static gboolean
unprotect_incoming (SpMediaSession *s, guint8 *buf, gsize *len, gboolean rtcp)
{
  SpSrtpResult result;

  if (s->srtp == NULL)
    {
      if (!s->params.srtp)
        return TRUE;
      s->stats.srtp_dropped++; /* in the clear, or before the keys */
      return FALSE;
    }
  result =
      rtcp ? sp_srtp_unprotect_rtcp (s->srtp, buf, len) : sp_srtp_unprotect_rtp (s->srtp, buf, len);
  if (result == SP_SRTP_OK)
    return TRUE;
  s->stats.srtp_dropped++;
  return FALSE;
}

/* ---- DTLS (RFC 7983) ------------------------------------------------------ */

typedef struct
{
  OwnerLink *link;
  GBytes *data;
} DtlsDelivery;

static void
dtls_delivery_free (gpointer data)
{
  DtlsDelivery *d = data;

  g_atomic_int_add (&d->link->dtls_pending, -1);
  g_bytes_unref (d->data);
  g_atomic_rc_box_release (d->link);
  g_free (d);
}

static gboolean
deliver_dtls (gpointer data)
{
  DtlsDelivery *d = data;
  OwnerLink *link = d->link;
  gsize len;
  const guint8 *bytes = g_bytes_get_data (d->data, &len);

  if (!g_atomic_int_get (&link->closed) && link->dtls_func != NULL)
    link->dtls_func (link->session, bytes, len, link->dtls_data);
  return G_SOURCE_REMOVE;
}

/* Whether DTLS from @from is the peer's: the latched RTP source; before
 * latching, the SDP's host; before the media starts, anyone (the
 * handshake itself checks the fingerprint). */
static gboolean
dtls_source_ok (SpMediaSession *s, const struct sockaddr_storage *from, socklen_t len)
{
  if (s->rtp_latched)
    return same_address (&s->latched_rtp, from, len);
  if (s->have_expected)
    return same_host (&s->expected_rtp, from);
  return !s->running;
}

static void
handle_dtls (SpMediaSession *s, const guint8 *buf, gsize len, const struct sockaddr_storage *from,
             socklen_t from_len)
{
  OwnerLink *link = s->link;
  DtlsDelivery *d;

  if (!g_atomic_int_get (&link->dtls_sink_set) || !dtls_source_ok (s, from, from_len))
    {
      s->stats.dtls_dropped++;
      return;
    }
  if (g_atomic_int_add (&link->dtls_pending, 1) >= SP_MEDIA_DTLS_QUEUE)
    {
      g_atomic_int_add (&link->dtls_pending, -1);
      s->stats.dtls_dropped++;
      return;
    }
  memcpy (&s->dtls_peer.addr, from, from_len);
  s->dtls_peer.len = from_len;
  s->have_dtls_peer = TRUE;
  d = g_new0 (DtlsDelivery, 1);
  d->link = g_atomic_rc_box_acquire (link);
  d->data = g_bytes_new (buf, len);
  g_main_context_invoke_full (s->owner_context, G_PRIORITY_DEFAULT, deliver_dtls, d,
                              dtls_delivery_free);
}

static void
do_send_dtls (SpMediaSession *s, GBytes *data)
{
  const PeerAddress *to = rtp_destination (s);
  gsize len;
  const guint8 *bytes = g_bytes_get_data (data, &len);

  if (to == NULL && s->have_dtls_peer)
    to = &s->dtls_peer;
  if (to == NULL)
    {
      g_debug ("DTLS datagram of %zu bytes dropped: no peer address yet", len);
      return;
    }
  sendto (s->rtp_fd, bytes, len, 0, (const struct sockaddr *) &to->addr, to->len);
}

/* RFC 7983 9: what the first byte of a datagram on the RTP port says. */
typedef enum
{
  DEMUX_RTP, /* RTP or RTCP, 128..191 */
  DEMUX_DTLS,
  DEMUX_OTHER, /* STUN, ZRTP, TURN channels, junk */
} Demux;

static Demux
demux (const guint8 *buf, gsize len)
{
  if (len == 0)
    return DEMUX_OTHER;
  if (buf[0] >= 20 && buf[0] <= 63)
    return DEMUX_DTLS;
  if (buf[0] >= 128 && buf[0] <= 191)
    return DEMUX_RTP;
  return DEMUX_OTHER;
}

static void
drain_socket (SpMediaSession *s, int fd, gboolean is_rtcp_socket)
{
  guint8 buf[MAX_DATAGRAM];

  /* Bounded so one flooded socket cannot starve the tick. */
  for (guint i = 0; i < 256; i++)
    {
      struct sockaddr_storage from;
      socklen_t from_len = sizeof from;
      ssize_t n = recvfrom (fd, buf, sizeof buf, 0, (struct sockaddr *) &from, &from_len);
      gint64 now = g_get_monotonic_time ();
      gboolean rtcp;
      gsize len;

      if (n < 0)
        break;
      len = (gsize) n;
      /* DTLS comes on the RTP port, also before the media starts (a
       * handshake may begin as soon as the answer is sent). */
      if (!is_rtcp_socket && demux (buf, len) == DEMUX_DTLS)
        {
          handle_dtls (s, buf, len, &from, from_len);
          continue;
        }
      if (!s->running)
        continue;
      rtcp = is_rtcp_socket || (s->params.rtcp_mux && sp_rtp_looks_like_rtcp (buf, len));
      if (!unprotect_incoming (s, buf, &len, rtcp))
        continue;
      if (rtcp && is_rtcp_socket)
        {
          if (!accept_source (s, &s->latched_rtcp, &s->rtcp_latched, &from, from_len, TRUE, buf,
                              len))
            {
              s->stats.strangers_dropped++;
              continue;
            }
        }
      else if (!accept_source (s, &s->latched_rtp, &s->rtp_latched, &from, from_len, rtcp, buf,
                               len))
        {
          s->stats.strangers_dropped++;
          continue;
        }
      if (rtcp)
        handle_rtcp (s, buf, len);
      else
        handle_rtp (s, buf, len, now);
    }
}

static gboolean
on_rtp_readable (GSocket *socket, GIOCondition condition, gpointer data)
{
  SpMediaSession *s = data;

  drain_socket (s, s->rtp_fd, FALSE);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_rtcp_readable (GSocket *socket, GIOCondition condition, gpointer data)
{
  SpMediaSession *s = data;

  drain_socket (s, s->rtcp_fd, TRUE);
  return G_SOURCE_CONTINUE;
}

/* ---- The tick ------------------------------------------------------------- */

/* Brings the figures kept elsewhere (jitter buffer, receiver, level) into
 * @stats. */
static void
gather_stats (SpMediaSession *s)
{
  SpJitterBufferStats jb;

  sp_jitter_buffer_get_stats (s->jb, &jb);
  s->stats.late = jb.late;
  s->stats.duplicates = jb.duplicates;
  s->stats.concealed = jb.lost;
  s->stats.comfort_noise_packets = jb.comfort_noise_packets;
  s->stats.jitter_buffer_target_ms = jb.target_ms;
  s->stats.jitter_buffer_depth_ms = jb.depth_ms;
  s->stats.cumulative_lost = sp_rtp_receiver_stats_lost (&s->rx_stats);
  s->stats.jitter_ms = sp_rtp_receiver_stats_jitter_ms (&s->rx_stats);
  s->stats.input_level_db = sp_audio_device_get_level (s->source);
  s->stats.latched = s->rtp_latched;
  s->stats.ptime_ms = s->send_ptime_ms;
  s->stats.srtp_active = s->srtp != NULL;
  s->stats.jitter_buffer_underrun_ms = jb.underrun_samples * 1000 / MAX (s->rate, 1);
}

/* The playback side, once a second (the delay query is not free). */
static void
gather_sink_stats (SpMediaSession *s)
{
  if (!s->sink->clocked || s->rate == 0)
    return;
  s->stats.sink_delay_ms = (guint) (sp_audio_device_delay (s->sink) * 1000 / s->rate);
  s->stats.sink_ahead_ms = (guint) (s->sink_ahead * 1000 / s->rate);
  s->stats.sink_xruns = sp_audio_alsa_get_xruns (s->sink);
}

/* Every tick: what sp_media_session_get_stats () returns stays at most a
 * tick old, so the owner reads the last figures right after posting a
 * stop. Skipped when the owner holds the lock (no waiting here). */
static void
refresh_snapshot (SpMediaSession *s)
{
  gather_stats (s);
  if (!g_mutex_trylock (&s->stats_lock))
    return;
  s->stats_snapshot = s->stats;
  g_mutex_unlock (&s->stats_lock);
}

static void
publish_stats (SpMediaSession *s)
{
  Report *report = g_new0 (Report, 1);

  gather_stats (s);
  gather_sink_stats (s);
  g_mutex_lock (&s->stats_lock);
  s->stats_snapshot = s->stats;
  g_mutex_unlock (&s->stats_lock);
  report->stats = s->stats;
  post_report (s, report);
}

static gboolean
tick_dispatch (GSource *source, GSourceFunc callback, gpointer data)
{
  return callback (data);
}

static gboolean on_tick (gpointer data);
static GSourceFuncs tick_funcs = { NULL, NULL, tick_dispatch, NULL, NULL, NULL };

/* A progress tone before the media runs: the sink only, nothing sent. */
static void
tone_tick (SpMediaSession *s, gsize chunk)
{
  gint16 pcm[MAX_RATE / 100];
  GError *error = NULL;
  guint rounds = 0;

  do
    {
      sp_tone_generate (s->tone, pcm, chunk);
      if (sp_audio_device_write (s->sink, pcm, chunk, &error) < 0)
        {
          device_failed (s, &s->sink, error);
          return;
        }
    }
  while (sink_wants_more (s, ++rounds));
}

static void
start_ticking (SpMediaSession *s, gint64 now)
{
  s->next_tick_us = now;
  s->tick_source = g_source_new (&tick_funcs, sizeof (GSource));
  g_source_set_priority (s->tick_source, G_PRIORITY_HIGH);
  g_source_set_callback (s->tick_source, on_tick, s, NULL);
  g_source_set_ready_time (s->tick_source, now);
  g_source_attach (s->tick_source, s->engine->context);
}

static void
stop_ticking (SpMediaSession *s)
{
  if (s->tick_source == NULL)
    return;
  g_source_destroy (s->tick_source);
  g_clear_pointer (&s->tick_source, g_source_unref);
}

static gboolean
on_tick (gpointer data)
{
  SpMediaSession *s = data;
  gint64 now = g_get_monotonic_time ();
  gsize chunk = SP_AUDIO_TICK_FRAMES (s->rate);
  guint rounds = 0;

  if (!s->running)
    {
      while (s->tone != NULL && s->next_tick_us <= now && rounds++ < MAX_CATCH_UP)
        {
          if (rounds == 1 || !s->sink->clocked)
            tone_tick (s, chunk);
          s->next_tick_us += TICK_US;
        }
      if (s->next_tick_us <= now)
        s->next_tick_us = now + TICK_US;
      g_source_set_ready_time (s->tick_source, s->next_tick_us);
      return G_SOURCE_CONTINUE;
    }

  ensure_capture_watch (s);
  while (s->next_tick_us <= now && rounds++ < MAX_CATCH_UP)
    {
      /* Read here as well when watched: a non-blocking read of nothing is
       * cheap, and it keeps the audio moving if a plugin ever misses a
       * wake-up (the watch's idle guard only covers the opposite case). */
      capture_tick (s, chunk);
      /* A clocked sink played on through the stall and is refilled by the
       * first round; more rounds would only add latency for good. */
      if (rounds == 1 || !s->sink->clocked)
        play_tick (s, chunk);
      s->next_tick_us += TICK_US;
    }
  if (s->next_tick_us <= now)
    s->next_tick_us = now + TICK_US; /* too far behind: skip ahead */
  if (now >= s->next_rtcp_us)
    {
      send_rtcp (s, FALSE);
      /* RFC 3550 6.3.5: randomise to 0.5..1.5 of the interval. */
      s->next_rtcp_us = now + g_random_int_range (RTCP_INTERVAL_US / 2, RTCP_INTERVAL_US * 3 / 2);
    }
  if (now >= s->next_stats_us)
    {
      publish_stats (s);
      s->next_stats_us = now + STATS_INTERVAL_US;
    }
  else
    refresh_snapshot (s);
  g_source_set_ready_time (s->tick_source, s->next_tick_us);
  return G_SOURCE_CONTINUE;
}

/* ---- Sockets ------------------------------------------------------------- */

static GSocket *
bind_udp (GInetAddress *address, guint16 port, GError **error)
{
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GSocketAddress) sa = NULL;

  socket = g_socket_new (g_inet_address_get_family (address), G_SOCKET_TYPE_DATAGRAM,
                         G_SOCKET_PROTOCOL_UDP, error);
  if (socket == NULL)
    return NULL;
  sa = g_inet_socket_address_new (address, port);
  if (!g_socket_bind (socket, sa, FALSE, error))
    return NULL;
  g_socket_set_blocking (socket, FALSE);
  return g_steal_pointer (&socket);
}

static guint16
socket_port (GSocket *socket)
{
  g_autoptr (GSocketAddress) sa = g_socket_get_local_address (socket, NULL);

  return sa ? g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (sa)) : 0;
}

static gboolean
bind_pair (SpMediaSession *s, const char *local_address, guint16 port, GError **error)
{
  g_autoptr (GInetAddress) address = g_inet_address_new_from_string (local_address);

  if (address == NULL)
    {
      g_set_error (error, SP_MEDIA_ERROR, SP_MEDIA_ERROR_BIND, "Not an IP address: %s",
                   local_address);
      return FALSE;
    }
  if (port != 0)
    {
      s->rtp_socket = bind_udp (address, port, error);
      s->rtcp_socket = s->rtp_socket ? bind_udp (address, port + 1, error) : NULL;
      return s->rtcp_socket != NULL;
    }
  /* Any even port whose successor is free too; bounded attempts. */
  for (guint attempt = 0; attempt < 64; attempt++)
    {
      guint16 p;
      g_clear_object (&s->rtp_socket);
      s->rtp_socket = bind_udp (address, 0, error);
      if (s->rtp_socket == NULL)
        return FALSE;
      p = socket_port (s->rtp_socket);
      if (p % 2 != 0 || p == 65535)
        continue;
      s->rtcp_socket = bind_udp (address, p + 1, NULL);
      if (s->rtcp_socket != NULL)
        return TRUE;
    }
  g_clear_object (&s->rtp_socket);
  g_set_error (error, SP_MEDIA_ERROR, SP_MEDIA_ERROR_BIND, "No free even RTP port on %s",
               local_address);
  return FALSE;
}

/* ---- Commands ------------------------------------------------------------ */

static void
do_attach (SpMediaSession *s)
{
  s->rtp_source = g_socket_create_source (s->rtp_socket, G_IO_IN, NULL);
  g_source_set_callback (s->rtp_source, G_SOURCE_FUNC (on_rtp_readable), s, NULL);
  g_source_attach (s->rtp_source, s->engine->context);
  s->rtcp_source = g_socket_create_source (s->rtcp_socket, G_IO_IN, NULL);
  g_source_set_callback (s->rtcp_source, G_SOURCE_FUNC (on_rtcp_readable), s, NULL);
  g_source_attach (s->rtcp_source, s->engine->context);
}

SpMediaSession *
sp_media_session_new (SpMediaEngine *engine, const char *local_address, guint16 port,
                      const SpMediaCallbacks *callbacks, gpointer user_data, GError **error)
{
  SpMediaSession *s = g_new0 (SpMediaSession, 1);

  s->engine = engine;
  s->owner_context = g_main_context_ref_thread_default ();
  s->link = g_atomic_rc_box_new0 (OwnerLink);
  s->link->session = s;
  if (callbacks)
    s->link->callbacks = *callbacks;
  s->link->user_data = user_data;
  g_mutex_init (&s->stats_lock);
  if (!bind_pair (s, local_address, port, error))
    {
      g_clear_object (&s->rtp_socket);
      g_atomic_rc_box_release (s->link);
      g_main_context_unref (s->owner_context);
      g_mutex_clear (&s->stats_lock);
      g_free (s);
      return NULL;
    }
  s->rtp_port = socket_port (s->rtp_socket);
  s->rtp_fd = g_socket_get_fd (s->rtp_socket);
  s->rtcp_fd = g_socket_get_fd (s->rtcp_socket);
  s->source = sp_audio_null_new (SP_AUDIO_SOURCE);
  s->sink = sp_audio_null_new (SP_AUDIO_SINK);
  s->ssrc = g_random_int ();
  s->seq = (guint16) g_random_int ();
  s->timestamp = g_random_int ();
  s->stats.rtt_ms = -1;
  g_snprintf (s->cname, sizeof s->cname, "sp-%08x@%s", s->ssrc, local_address);
  sp_dtmf_receiver_init (&s->dtmf_receiver);
  /* From here on the media thread owns the sockets' reading. */
  engine_post (engine, command_new (COMMAND_ATTACH, s));
  return s;
}

guint16
sp_media_session_get_rtp_port (SpMediaSession *session)
{
  return session->rtp_port;
}

guint16
sp_media_session_get_rtcp_port (SpMediaSession *session)
{
  return session->rtp_port + 1;
}

/* Whether the device in @slot is being used right now, so one put there
 * must be opened at once: both while the media runs, and the sink while a
 * progress tone (ringback) plays before the answer, whose next tick would
 * otherwise write to a closed device. */
static gboolean
device_in_use (SpMediaSession *s, SpAudioDevice **slot)
{
  return s->running || (slot == &s->sink && s->tone != NULL);
}

/* The command's devices become the session's (NULL = null device). */
static void
do_set_devices (SpMediaSession *s, Command *cmd)
{
  forget_capture_watch (s);
  sp_audio_device_free (s->source);
  sp_audio_device_free (s->sink);
  s->source = cmd->source ? g_steal_pointer (&cmd->source) : sp_audio_null_new (SP_AUDIO_SOURCE);
  s->sink = cmd->sink ? g_steal_pointer (&cmd->sink) : sp_audio_null_new (SP_AUDIO_SINK);
  if (device_in_use (s, &s->source))
    open_device (s, &s->source);
  if (device_in_use (s, &s->sink))
    open_device (s, &s->sink);
}

void
sp_media_session_set_devices (SpMediaSession *session, SpAudioDevice *source, SpAudioDevice *sink)
{
  Command *cmd;

  g_return_if_fail (source == NULL || source->direction == SP_AUDIO_SOURCE);
  g_return_if_fail (sink == NULL || sink->direction == SP_AUDIO_SINK);
  cmd = command_new (COMMAND_SET_DEVICES, session);
  cmd->source = source;
  cmd->sink = sink;
  engine_post (session->engine, cmd);
}

static void
do_replace_device (SpMediaSession *s, Command *cmd)
{
  SpAudioDevice **slot = cmd->source != NULL ? &s->source : &s->sink;

  if (slot == &s->source)
    forget_capture_watch (s);
  sp_audio_device_free (*slot);
  *slot = cmd->source != NULL ? g_steal_pointer (&cmd->source) : g_steal_pointer (&cmd->sink);
  if (device_in_use (s, slot))
    open_device (s, slot);
}

void
sp_media_session_set_muted (SpMediaSession *session, gboolean muted)
{
  g_return_if_fail (session != NULL);
  g_atomic_int_set (&session->muted, !!muted);
}

void
sp_media_session_replace_device (SpMediaSession *session, SpAudioDevice *device)
{
  Command *cmd;

  g_return_if_fail (device != NULL);
  cmd = command_new (COMMAND_REPLACE_DEVICE, session);
  if (device->direction == SP_AUDIO_SOURCE)
    cmd->source = device;
  else
    cmd->sink = device;
  engine_post (session->engine, cmd);
}

/* Loopback, link-local or private (RFC 1918, fc00::/7): likely a LAN. */
static gboolean
is_private_address (const char *address)
{
  g_autoptr (GInetAddress) ia = address ? g_inet_address_new_from_string (address) : NULL;
  const guint8 *bytes;

  if (ia == NULL)
    return FALSE;
  if (g_inet_address_get_is_loopback (ia) || g_inet_address_get_is_link_local (ia) ||
      g_inet_address_get_is_site_local (ia))
    return TRUE;
  bytes = g_inet_address_to_bytes (ia);
  return g_inet_address_get_family (ia) == G_SOCKET_FAMILY_IPV6 && (bytes[0] & 0xfe) == 0xfc;
}

static gboolean
resolve_peer (const char *address, guint16 port, PeerAddress *out)
{
  g_autoptr (GInetAddress) ia = NULL;
  g_autoptr (GSocketAddress) sa = NULL;

  if (address == NULL || port == 0)
    return FALSE;
  ia = g_inet_address_new_from_string (address);
  if (ia == NULL || g_inet_address_get_is_any (ia))
    return FALSE;
  sa = g_inet_socket_address_new (ia, port);
  out->len = (socklen_t) g_socket_address_get_native_size (sa);
  return g_socket_address_to_native (sa, &out->addr, sizeof out->addr, NULL);
}

static void
setup_codec (SpMediaSession *s, SpCodecId id)
{
  if (s->encoder && sp_codec_get_info (s->encoder)->id == id)
    return;
  g_clear_pointer (&s->jb, sp_jitter_buffer_free);
  g_clear_pointer (&s->encoder, sp_codec_free);
  g_clear_pointer (&s->decoder, sp_codec_free);
  s->encoder = sp_codec_new (id);
  s->decoder = sp_codec_new (id);
  s->jb = sp_jitter_buffer_new (s->decoder, 20, 200);
  s->rate = sp_codec_get_sample_rate (s->encoder);
  s->capture_len = 0;
  sp_rtp_receiver_stats_init (&s->rx_stats, sp_codec_get_info (s->decoder)->clock_rate);
}

/* In-band detection on or off, at the audio rate. Allocates only when
 * the option or the rate changes (a start command, not the packet path). */
static void
setup_dtmf_detector (SpMediaSession *s)
{
  if (!s->params.detect_inband_dtmf)
    {
      g_clear_pointer (&s->dtmf_detector, sp_dtmf_detector_free);
      return;
    }
  if (s->dtmf_detector != NULL && sp_dtmf_detector_get_rate (s->dtmf_detector) == s->rate)
    return;
  g_clear_pointer (&s->dtmf_detector, sp_dtmf_detector_free);
  s->dtmf_detector = sp_dtmf_detector_new (s->rate);
  sp_dtmf_merger_init (&s->dtmf_merger);
}

/* The echo canceller on or off, at the audio rate; allocates only when
 * the option or the rate changes (a start command). */
static void
setup_echo (SpMediaSession *s)
{
  if (!s->params.echo_cancellation)
    {
      g_clear_pointer (&s->echo, sp_echo_free);
      return;
    }
  if (s->echo != NULL && sp_echo_get_rate (s->echo) == s->rate)
    return;
  g_clear_pointer (&s->echo, sp_echo_free);
  s->echo = sp_echo_new (s->rate);
}

/* Where RTCP goes before the peer's RTCP latches: a=rtcp's address and
 * port (RFC 3605), else the RTP address and the next port. */
static void
update_expected_rtcp (SpMediaSession *s)
{
  const SpMediaParams *p = &s->params;
  const char *address = p->remote_rtcp_address ? p->remote_rtcp_address : p->remote_address;
  guint16 port = p->remote_rtcp_port ? p->remote_rtcp_port : p->remote_rtp_port + 1;
  PeerAddress rtcp = { 0 };

  if (s->have_expected && !resolve_peer (address, port, &rtcp))
    resolve_peer (p->remote_address, port, &rtcp);
  if (!same_address (&s->expected_rtcp, &rtcp.addr, rtcp.len))
    {
      s->expected_rtcp = rtcp;
      s->rtcp_latched = FALSE;
    }
}

static void
do_start (SpMediaSession *s, Command *cmd)
{
  SpMediaParams *p = &s->params;
  gboolean peer_changed;
  PeerAddress expected = { 0 };
  gboolean have_expected;

  *p = cmd->params;
  g_free (s->remote_address);
  s->remote_address = g_strdup (p->remote_address);
  p->remote_address = s->remote_address;
  g_free (s->remote_rtcp_address);
  s->remote_rtcp_address = g_strdup (p->remote_rtcp_address);
  p->remote_rtcp_address = s->remote_rtcp_address;
  if (p->payload_type > 127 || (gint) p->payload_type == p->dtmf_payload_type)
    p->payload_type = 0;
  if (p->ptime_ms == 0)
    p->ptime_ms = 20;
  p->ptime_ms = CLAMP (p->ptime_ms / 10 * 10, 10, MAX_PTIME_MS);

  have_expected = resolve_peer (p->remote_address, p->remote_rtp_port, &expected);
  peer_changed = have_expected != s->have_expected ||
                 (have_expected && !same_address (&s->expected_rtp, &expected.addr, expected.len));
  if (peer_changed)
    {
      s->expected_rtp = expected;
      s->have_expected = have_expected;
      s->rtp_latched = s->rtcp_latched = FALSE;
    }
  update_expected_rtcp (s);
  setup_codec (s, p->codec);
  sp_codec_set_peer_limits (s->encoder, p->opus_max_playback_rate, p->opus_max_bitrate);
  setup_dtmf_detector (s);
  setup_echo (s);
  s->send_ptime_ms = p->ptime_ms;
  s->peer_private = is_private_address (p->remote_address);
  if (peer_changed)
    s->stats.rtt_ms = -1; /* measured on another path */
  init_dtmf_sender (s);
  adapt_ptime (s);
  choose_opus_mode (s);
  /* The answer (or early media) ends any progress tone. */
  g_clear_pointer (&s->tone, sp_tone_free);
  open_device (s, &s->source);
  open_device (s, &s->sink);
  if (!s->running)
    {
      gint64 now = g_get_monotonic_time ();
      stop_ticking (s);
      s->running = TRUE;
      s->next_stats_us = now + STATS_INTERVAL_US;
      /* The first report after half the interval, randomised like the
       * others (6.3.5), so two ends started together do not report at
       * the same moment and both miss each other's SR for the RTT. */
      s->next_rtcp_us = now + g_random_int_range (RTCP_INTERVAL_US / 4, RTCP_INTERVAL_US * 3 / 4);
      start_ticking (s, now);
    }
}

void
sp_media_session_start (SpMediaSession *session, const SpMediaParams *params)
{
  Command *cmd;

  g_return_if_fail (sp_codec_info_for_id (params->codec) != NULL);
  cmd = command_new (COMMAND_START, session);
  cmd->params = *params;
  /* The caller's strings may go once this returns: the command's copies. */
  cmd->remote_address = g_strdup (params->remote_address);
  cmd->params.remote_address = cmd->remote_address;
  cmd->remote_rtcp_address = g_strdup (params->remote_rtcp_address);
  cmd->params.remote_rtcp_address = cmd->remote_rtcp_address;
  session->owner_running = TRUE;
  session->owner_has_dtmf = params->dtmf_payload_type >= 0;
  engine_post (session->engine, cmd);
}

static void
do_stop (SpMediaSession *s)
{
  if (!s->running)
    {
      /* Only a progress tone, if anything, was playing. */
      stop_ticking (s);
      g_clear_pointer (&s->tone, sp_tone_free);
      sp_audio_device_close (s->sink);
      return;
    }
  send_rtcp (s, TRUE);
  publish_stats (s);
  s->running = FALSE;
  g_atomic_int_set (&s->input_level, 0);
  s->level_window_peak = 0;
  s->level_window_frames = 0;
  stop_ticking (s);
  forget_capture_watch (s);
  sp_audio_device_close (s->source);
  sp_audio_device_close (s->sink);
}

void
sp_media_session_stop (SpMediaSession *session)
{
  session->owner_running = FALSE;
  engine_post (session->engine, command_new (COMMAND_STOP, session));
}

static void
do_play_tone (SpMediaSession *s, gint kind)
{
  g_clear_pointer (&s->tone, sp_tone_free);
  if (s->running)
    return; /* the media has the sink */
  if (kind < 0)
    {
      stop_ticking (s);
      sp_audio_device_close (s->sink);
      return;
    }
  /* No codec yet: the rate of our first choice (Opus or G.722, 16 kHz),
   * so the sink goes on at the same rate when the call is answered. */
  if (s->rate == 0)
    s->rate = 16000;
  s->tone = sp_tone_new_for_rate ((SpToneKind) kind, s->rate);
  open_device (s, &s->sink);
  if (s->tick_source == NULL)
    start_ticking (s, g_get_monotonic_time ());
}

void
sp_media_session_play_tone (SpMediaSession *session, gint kind)
{
  Command *cmd = command_new (COMMAND_PLAY_TONE, session);

  cmd->tone = kind;
  engine_post (session->engine, cmd);
}

static void
do_send_dtmf (SpMediaSession *s, const char *digits)
{
  /* The owner checked the digits and that the media was started; a stop
   * or a start without telephone-event posted meanwhile wins. */
  if (!s->running || s->params.dtmf_payload_type < 0)
    return;
  /* Not the digits themselves: they may be a PIN, and logs keep none. */
  if (!sp_dtmf_sender_queue (&s->dtmf_sender, digits))
    g_message ("%zu DTMF digit(s) dropped: %u are already waiting to be sent", strlen (digits),
               SP_DTMF_QUEUE);
}

gboolean
sp_media_session_send_dtmf (SpMediaSession *session, const char *digits)
{
  Command *cmd;
  gsize n = strlen (digits);

  if (!session->owner_running || !session->owner_has_dtmf || n > SP_DTMF_QUEUE)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (sp_dtmf_event_from_char (digits[i]) < 0)
      return FALSE;
  cmd = command_new (COMMAND_SEND_DTMF, session);
  cmd->digits = g_strdup (digits);
  engine_post (session->engine, cmd);
  return TRUE;
}

void
sp_media_session_get_stats (SpMediaSession *session, SpMediaStats *stats)
{
  /* Never waits: the media thread refreshes the snapshot every tick, and
   * one preempted while it holds the lock would hold the owner up for a
   * time slice. Busy: the last figures read, at most a tick older. */
  if (g_mutex_trylock (&session->stats_lock))
    {
      session->owner_stats = session->stats_snapshot;
      g_mutex_unlock (&session->stats_lock);
    }
  *stats = session->owner_stats;
}

double
sp_media_session_get_input_level (SpMediaSession *session)
{
  gint peak = g_atomic_int_get (&session->input_level);

  return peak > 0 ? MAX (-96.0, 20.0 * log10 (peak / 32768.0)) : -96.0;
}

/* The session's last command: nothing posted after it names it. */
static void
do_free (SpMediaSession *s)
{
  do_stop (s);
  g_source_destroy (s->rtp_source);
  g_source_unref (s->rtp_source);
  g_source_destroy (s->rtcp_source);
  g_source_unref (s->rtcp_source);
  g_atomic_rc_box_release (s->link);
  g_object_unref (s->rtp_socket);
  g_object_unref (s->rtcp_socket);
  sp_audio_device_free (s->source);
  sp_audio_device_free (s->sink);
  sp_jitter_buffer_free (s->jb);
  sp_codec_free (s->encoder);
  sp_codec_free (s->decoder);
  sp_dtmf_detector_free (s->dtmf_detector);
  sp_echo_free (s->echo);
  sp_tone_free (s->tone);
  sp_srtp_free (s->srtp);
  g_free (s->remote_address);
  g_free (s->remote_rtcp_address);
  g_main_context_unref (s->owner_context);
  g_mutex_clear (&s->stats_lock);
  g_free (s);
}

void
sp_media_session_free (SpMediaSession *session)
{
  if (session == NULL)
    return;
  /* Reports already on their way find the link closed; the rest (stopping,
   * closing the devices, a WAV header) happens on the media thread. */
  g_atomic_int_set (&session->link->closed, TRUE);
  sp_media_session_set_dtls_sink (session, NULL, NULL, NULL);
  engine_post (session->engine, command_new (COMMAND_FREE, session));
}

void
sp_media_session_flush (SpMediaSession *session)
{
  sp_media_engine_flush (session->engine);
}

static void
do_set_srtp (SpMediaSession *s, Command *cmd)
{
  /* The same keys again (a re-INVITE) keep their streams' state. */
  if (cmd->srtp != NULL)
    sp_srtp_inherit (cmd->srtp, s->srtp);
  sp_srtp_free (s->srtp);
  s->srtp = g_steal_pointer (&cmd->srtp);
}

void
sp_media_session_set_srtp (SpMediaSession *session, SpSrtp *srtp)
{
  Command *cmd;

  g_return_if_fail (session != NULL);
  cmd = command_new (COMMAND_SET_SRTP, session);
  cmd->srtp = srtp;
  engine_post (session->engine, cmd);
}

void
sp_media_session_set_dtls_sink (SpMediaSession *session, SpMediaDtlsFunc func, gpointer user_data,
                                GDestroyNotify destroy)
{
  OwnerLink *link;
  gpointer old_data;
  GDestroyNotify old_destroy;

  g_return_if_fail (session != NULL);
  link = session->link;
  old_data = link->dtls_data;
  old_destroy = link->dtls_destroy;
  link->dtls_func = func;
  link->dtls_data = user_data;
  link->dtls_destroy = destroy;
  g_atomic_int_set (&link->dtls_sink_set, func != NULL);
  if (old_destroy != NULL)
    old_destroy (old_data);
}

void
sp_media_session_send_dtls (SpMediaSession *session, const guint8 *data, gsize len)
{
  Command *cmd;

  g_return_if_fail (session != NULL && (data != NULL || len == 0));
  if (len == 0 || len > MAX_DATAGRAM)
    return;
  cmd = command_new (COMMAND_SEND_DTLS, session);
  cmd->data = g_bytes_new (data, len);
  engine_post (session->engine, cmd);
}

static void
apply_command (SpMediaEngine *engine, Command *cmd)
{
  SpMediaSession *s = cmd->session;

  switch (cmd->kind)
    {
      case COMMAND_ATTACH:
        do_attach (s);
        break;
      case COMMAND_SET_DEVICES:
        do_set_devices (s, cmd);
        break;
      case COMMAND_REPLACE_DEVICE:
        do_replace_device (s, cmd);
        break;
      case COMMAND_START:
        do_start (s, cmd);
        break;
      case COMMAND_STOP:
        do_stop (s);
        break;
      case COMMAND_PLAY_TONE:
        do_play_tone (s, cmd->tone);
        break;
      case COMMAND_SEND_DTMF:
        do_send_dtmf (s, cmd->digits);
        break;
      case COMMAND_SET_SRTP:
        do_set_srtp (s, cmd);
        break;
      case COMMAND_SEND_DTLS:
        do_send_dtls (s, cmd->data);
        break;
      case COMMAND_FREE:
        do_free (s);
        break;
      case COMMAND_FENCE:
        fence_signal (cmd->fence);
        break;
      case COMMAND_QUIT:
        g_main_loop_quit (engine->loop);
        break;
    }
}
