#pragma once

#include <gio/gio.h>

#include "audio/device.h"
#include "media/codec.h"
#include "media/dtmf-detect.h"
#include "media/srtp.h"

G_BEGIN_DECLS

/* One call's media: RTP/RTCP sockets, codec, jitter buffer, DTMF and the
 * two audio devices, run on a media thread (SpMediaEngine: one thread with
 * its own GMainContext serves every session).
 *
 * The owner (the main loop) only posts commands: each call below returns
 * at once, and the media thread applies them in the order they were
 * posted (one FIFO per engine), so a start, new devices and a stop take
 * effect in that order. Opening and closing devices happens there, never
 * on the owner's thread. Results come back through callbacks invoked in
 * the GMainContext that was the thread default when the session was made:
 * statistics, received DTMF digits and device errors (a device that does
 * not open is reported like one that fails mid-call).
 * The per-packet path allocates nothing and takes no lock: sockets are
 * read and written through their fds with fixed buffers. */

typedef struct _SpMediaEngine SpMediaEngine;
typedef struct _SpMediaSession SpMediaSession;

SpMediaEngine *sp_media_engine_new (void);
/* Every session must have been freed first. Waits for the media thread to
 * apply what is still queued (the sessions' frees: WAV files complete) and
 * to end: for shutdown, not during calls. */
void sp_media_engine_free (SpMediaEngine *engine);
/* Waits until the media thread has applied every command posted so far
 * on @engine (by any session). For tests and tools that read a recording
 * or figures right after a stop; a main loop that must stay responsive
 * never calls it. Not from the media thread. */
void sp_media_engine_flush (SpMediaEngine *engine);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpMediaEngine, sp_media_engine_free)

typedef struct
{
  SpCodecId codec;
  guint ptime_ms;         /* 10..60, multiple of 10; 0 = 20 */
  gint dtmf_payload_type; /* telephone-event PT, or -1 */
  gboolean rtcp_mux;
  /* Where the peer said to send RTP (c= and m= port). An address of
   * 0.0.0.0 (old-style hold) or port 0 means: send nothing. */
  const char *remote_address;
  guint16 remote_rtp_port;
  guint16 remote_rtcp_port; /* 0 = RTP port + 1 */
  gboolean send;            /* sendrecv/sendonly */
  gboolean receive;         /* sendrecv/recvonly */
  /* Fields below were added later; zero keeps the old behaviour. */
  /* The RTP payload type the peer's SDP gave @codec (96..127 when it put
   * a static codec on a dynamic type): we send with it and accept it
   * beside the static one. 0 = the codec's static payload type. */
  guint payload_type;
  /* Where the peer said to send RTCP when a=rtcp (RFC 3605) names an
   * address of its own; NULL = @remote_address. */
  const char *remote_rtcp_address;
  /* Detect DTMF tones in the decoded audio too (peers that send DTMF
   * in-band); each digit is reported once through the DTMF callback,
   * also when the peer sends it as an RFC 4733 event as well. */
  gboolean detect_inband_dtmf;
  /* Take media only from the host the SDP names. FALSE (the default):
   * until that host has sent, the first valid RTP packet in a negotiated
   * format from anywhere latches us to its source (symmetric RTP for
   * peers behind NAT); later strangers are dropped and counted. */
  gboolean strict_source;
  /* RTP clock of @dtmf_payload_type; 0 = the codec's. 8000 beside Opus
   * when the peer has telephone-event/8000 only. */
  guint dtmf_clock_rate;
  /* What the peer's Opus fmtp asks of what we send (RFC 7587 6.1); 0 =
   * no limit: the highest audio rate it plays (maxplaybackrate), and the
   * bit rate (maxaveragebitrate). */
  guint opus_max_playback_rate;
  guint opus_max_bitrate;
  /* Acoustic echo cancellation, noise suppression and automatic gain on
   * the captured audio (media/echo.h), when both devices are clocked (a
   * microphone and a speaker: a WAV file or the null device has no
   * acoustic path). */
  gboolean echo_cancellation;
  /* Comfort noise (RFC 3389) the peer may send in its silences: the
   * payload type both SDPs gave CN at the codec's RTP clock (13 for
   * CN/8000); 0 = not negotiated (CN packets are dropped). */
  guint cn_payload_type;
  /* The user fixed @ptime_ms (an account setting), or the peer did (its
   * a=maxptime equals its a=ptime): no 10 ms on a LAN, the packet time
   * stays as negotiated. */
  gboolean fixed_ptime;
  /* SRTP was negotiated (SDES or DTLS-SRTP): until a context is
   * installed (sp_media_session_set_srtp) nothing is sent, and nothing
   * that is not SRTP is ever taken. FALSE: plain RTP unless a context is
   * installed. */
  gboolean srtp;
} SpMediaParams;

typedef struct
{
  guint64 packets_sent;
  guint64 packets_received;
  guint64 strangers_dropped; /* packets from unexpected addresses */
  guint64 malformed;
  guint64 late;
  guint64 duplicates;
  guint64 concealed;           /* packets filled by PLC */
  gint32 cumulative_lost;      /* RFC 3550 A.3 on the stream we receive */
  double jitter_ms;            /* A.8 on the stream we receive */
  double remote_jitter_ms;     /* what the peer reports about our stream */
  double remote_fraction_lost; /* 0..1, from the peer's last report */
  double rtt_ms;               /* -1 until measured */
  guint jitter_buffer_target_ms;
  guint jitter_buffer_depth_ms;
  double input_level_db;         /* the source's level meter */
  gboolean latched;              /* symmetric RTP: sending back to the source seen */
  guint64 ssrc_changes;          /* times the peer's stream restarted with a new SSRC */
  guint ptime_ms;                /* packet time we send with now (10 for Opus on a LAN) */
  guint64 comfort_noise_packets; /* RFC 3389 CN packets received */
  /* SRTP: a context protects the media now; packets (RTP and RTCP)
   * dropped because they failed authentication, were replayed, or came in
   * the clear (or before the keys) while SRTP is in force; DTLS
   * datagrams dropped (no sink, a stranger, or the sink's queue full). */
  gboolean srtp_active;
  guint64 srtp_dropped;
  guint64 dtls_dropped;
  /* The playback side, for latency benches: what a clocked sink holds
   * right now (0 when it is not clocked or not running), how far ahead the
   * session keeps it, its underruns since it opened, and the audio the
   * jitter buffer had to invent because nothing was there to play. */
  guint sink_delay_ms;
  guint sink_ahead_ms;
  guint sink_xruns;
  guint64 jitter_buffer_underrun_ms;
} SpMediaStats;

typedef void (*SpMediaStatsFunc) (SpMediaSession *session, const SpMediaStats *stats,
                                  gpointer user_data);
/* @origin: how the digit came (an RFC 4733 event or a tone in the audio);
 * a key press that came both ways is reported once, the first way. */
typedef void (*SpMediaDtmfFunc) (SpMediaSession *session, char digit, SpDtmfOrigin origin,
                                 gpointer user_data);
/* A device failed (SP_AUDIO_ERROR_GONE...): the call goes on with a null
 * device in its place. */
typedef void (*SpMediaDeviceErrorFunc) (SpMediaSession *session, SpAudioDirection direction,
                                        const GError *error, gpointer user_data);

typedef struct
{
  SpMediaStatsFunc stats;
  SpMediaDtmfFunc dtmf;
  SpMediaDeviceErrorFunc device_error;
} SpMediaCallbacks;

/* Binds RTP (an even port; @port 0 = any) and RTCP (port + 1) on
 * @local_address. Nothing is sent until start. */
SpMediaSession *sp_media_session_new (SpMediaEngine *engine, const char *local_address,
                                      guint16 port, const SpMediaCallbacks *callbacks,
                                      gpointer user_data, GError **error);
/* Stops and frees without waiting: no callback runs after this returns,
 * and the media thread stops the media, closes the devices and frees the
 * session after the commands posted before. NULL-safe. */
void sp_media_session_free (SpMediaSession *session);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpMediaSession, sp_media_session_free)

guint16 sp_media_session_get_rtp_port (SpMediaSession *session);
guint16 sp_media_session_get_rtcp_port (SpMediaSession *session);

/* Hands the devices to the session (transfer full; NULL = null device).
 * They are opened at the codec's rate when the media starts, and may be
 * switched during a call. */
void sp_media_session_set_devices (SpMediaSession *session, SpAudioDevice *source,
                                   SpAudioDevice *sink);
/* Switches one device during a call (transfer full; its direction says
 * which): the old one is closed and freed, the new one opened at once
 * when the media runs (at the call's rate), else when it starts. */
void sp_media_session_replace_device (SpMediaSession *session, SpAudioDevice *device);
/* Muted, the session sends silence in place of what the source captures
 * (the microphone stays open, so unmuting is immediate; DTMF still goes
 * out). Any thread; takes effect with the next packet. */
void sp_media_session_set_muted (SpMediaSession *session, gboolean muted);
/* Starts or updates the media (re-INVITE: new codec, address, hold).
 * @params is copied (strings too). */
void sp_media_session_start (SpMediaSession *session, const SpMediaParams *params);
/* Stops sending and closes the devices (a WAV sink is complete once the
 * media thread has applied it: sp_media_session_flush ()). */
void sp_media_session_stop (SpMediaSession *session);
/* Plays a call progress tone (an SpToneKind from media/tones.h: ringback,
 * busy, congestion) on the sink while the media is not running (before
 * the answer, or after sp_media_session_stop); -1 stops it. At the
 * codec's rate once one was started, else 16000 Hz (the rate of Opus and
 * G.722, which we offer first). Starting the media
 * ends the tone; the sink stays open if the rate is the same, so a WAV
 * recording goes on in one file. */
void sp_media_session_play_tone (SpMediaSession *session, gint kind);
/* Queues RFC 4733 digits; FALSE if the media was not started or was
 * stopped, has no telephone-event payload type, there are more than
 * SP_DTMF_QUEUE, or a character is not a DTMF digit (answered on the
 * owner's thread, from what it posted). Digits that no longer fit behind
 * those still being sent are dropped on the media thread (logged, by
 * count only). */
gboolean sp_media_session_send_dtmf (SpMediaSession *session, const char *digits);
/* The microphone's level for a meter: the peak captured over the last
 * 1/15 s, in dBFS (-96.0 for silence, and while the media does not run).
 * It changes at most 15 times a second. Any thread: an atomic read. */
double sp_media_session_get_input_level (SpMediaSession *session);
/* The latest statistics: at most one media tick (5 ms) old while the
 * media runs, the final ones once a stop was applied (also delivered
 * every second to the callback). */
void sp_media_session_get_stats (SpMediaSession *session, SpMediaStats *stats);
/* sp_media_engine_flush () on the session's engine. */
void sp_media_session_flush (SpMediaSession *session);

/* ---- Media security (issue 16): SRTP and the DTLS that keys it ----------
 *
 * SRTP: sp_media_session_set_srtp installs the context (transfer full;
 * NULL = plain RTP again) from the owner's thread at any time, also
 * while the media runs: like every command it is posted and the media
 * thread takes it up in order, so the owner never waits. From then on
 * every RTP and RTCP packet we send is protected, and every one we
 * receive is unprotected first: one that fails (authentication, replay)
 * is dropped and counted (SpMediaStats.srtp_dropped) before it can latch
 * anything, so with SRTP only the key holder steers our media. A
 * context installed before sp_media_session_start applies to the first
 * packet. See SpMediaParams.srtp for "negotiated, keys not there yet".
 * Works the same with rtcp-mux (RFC 5761; SRTCP on the RTP port) and
 * without (SRTCP on the RTCP port).
 *
 * DTLS (RFC 7983 demultiplexing on the RTP port): a datagram whose first
 * byte is 20..63 is DTLS. With a sink set, each one from the peer (the
 * latched RTP source; before that, the host the SDP names; before the
 * media starts, anyone: DTLS-SRTP authenticates by fingerprint) is
 * copied and handed to @func on the owner's main context (the one that
 * was thread default when the session was made), in order. At most
 * SP_MEDIA_DTLS_QUEUE datagrams wait for the owner; more are dropped and
 * counted (dtls_dropped), as a flood would be. Without a sink DTLS is
 * dropped. STUN (0..3) and TURN channels (64..79) are dropped. */

#define SP_MEDIA_DTLS_QUEUE 32

/* Called on the owner's main context with one DTLS datagram (@data is
 * valid for the call only). Not after sp_media_session_free (). */
typedef void (*SpMediaDtlsFunc) (SpMediaSession *session, const guint8 *data, gsize len,
                                 gpointer user_data);

void sp_media_session_set_srtp (SpMediaSession *session, SpSrtp *srtp);
/* Replaces the sink (@func NULL: none); @destroy is called on the old
 * @user_data when it is replaced, and at sp_media_session_free (). Owner
 * thread only. */
void sp_media_session_set_dtls_sink (SpMediaSession *session, SpMediaDtlsFunc func,
                                     gpointer user_data, GDestroyNotify destroy);
/* Sends one DTLS datagram (copied) from the RTP socket to the peer's
 * current RTP address: the latched source once latching moved it, else
 * the SDP's; before the media starts, to the source of the last DTLS
 * datagram received. Dropped when there is none yet. Owner thread. */
void sp_media_session_send_dtls (SpMediaSession *session, const guint8 *data, gsize len);

G_END_DECLS
