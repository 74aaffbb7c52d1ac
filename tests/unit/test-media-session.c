/* SpMediaSession on loopback, beyond plain calls: hold and resume by
 * direction, switching the source during a call, and a peer that restarts
 * its stream with a new SSRC. Audio is checked by frequency (Goertzel). */

#include "audio/device.h"
#include "audio/wav.h"
#include "media/codec.h"
#include "media/dtmf.h"
#include "media/rtcp.h"
#include "media/rtp.h"
#include "media/session.h"
#include "media/tones.h"

#include "../common/goertzel.h"
#include "../common/pump.h"

#include <glib/gstdio.h>
#include <spandsp.h>
#include <string.h>

#define ADDR_A    "127.0.0.24"
#define ADDR_B    "127.0.0.25"
#define ADDR_C    "127.0.0.26"
#define RATE      8000
#define SILENCE   1e4 /* mean square: about -40 dBFS */
#define TONE_AMPL 8000

typedef struct
{
  char *dir;
  char *tone_440, *tone_1000, *rec_a, *rec_b, *rec_a2;
} Fixture;

static char *
save_tone (const char *dir, double freq)
{
  g_autofree char *name = g_strdup_printf ("tone-%.0f.wav", freq);
  char *path = g_build_filename (dir, name, NULL);
  g_autofree gint16 *tone = g_new (gint16, RATE);

  /* One second holds whole periods of both tones: it loops seamlessly. */
  goertzel_make_tone (tone, RATE, RATE, freq, TONE_AMPL);
  g_assert_true (sp_wav_save (path, RATE, tone, RATE, NULL));
  return path;
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("sp-session-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
  f->tone_440 = save_tone (f->dir, 440);
  f->tone_1000 = save_tone (f->dir, 1000);
  f->rec_a = g_build_filename (f->dir, "a-rec.wav", NULL);
  f->rec_a2 = g_build_filename (f->dir, "a-rec2.wav", NULL);
  f->rec_b = g_build_filename (f->dir, "b-rec.wav", NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  char *files[] = { f->tone_440, f->tone_1000, f->rec_a, f->rec_a2, f->rec_b };

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_unlink (files[i]);
      g_free (files[i]);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
}

static SpMediaSession *
make_session (SpMediaEngine *engine, const char *addr)
{
  g_autoptr (GError) error = NULL;
  SpMediaSession *s = sp_media_session_new (engine, addr, 0, NULL, NULL, &error);

  g_assert_no_error (error);
  return s;
}

static void
start (SpMediaSession *s, const char *remote, guint16 port, gboolean send, gboolean receive)
{
  SpMediaParams p = { SP_CODEC_PCMU, 20, -1, FALSE, remote, port, 0, send, receive };

  sp_media_session_start (s, &p);
  sp_media_session_flush (s); /* running before the peer sends */
}

static gint16 *
load_recording_at (const char *path, guint expected_rate, gsize *n)
{
  g_autoptr (GError) error = NULL;
  gint16 *samples = NULL;
  guint rate = 0;

  g_assert_true (sp_wav_load (path, &rate, &samples, n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rate, ==, expected_rate);
  return samples;
}

static gint16 *
load_recording (const char *path, gsize *n)
{
  return load_recording_at (path, RATE, n);
}

/* Samples [@from_ms, @to_ms) of @path, recorded at @rate (@to_ms < 0:
 * from the end), must be @heard in at least 90 % of the blocks and never
 * @other. */
static void
check_hears_at (const char *path, guint rate, gint from_ms, gint to_ms, double heard, double other)
{
  gsize n;
  g_autofree gint16 *rec = load_recording_at (path, rate, &n);
  gsize from = (gsize) from_ms * rate / 1000;
  gsize to = to_ms < 0 ? n - (gsize) (-to_ms) * rate / 1000 : (gsize) to_ms * rate / 1000;
  GoertzelVerdict v;

  g_assert_cmpuint (to, <=, n);
  g_assert_cmpuint (from + rate / 5, <=, to);
  goertzel_compare (rec + from, to - from, rate, heard, other, SILENCE, &v);
  g_test_message ("%s [%d, %d) ms: %u blocks, %u hear %.0f, %u hear %.0f, %u silent", path, from_ms,
                  to_ms, v.blocks, v.f1_wins, heard, v.f2_wins, other, v.silent);
  g_assert_cmpuint (v.f2_wins, ==, 0);
  g_assert_cmpuint (v.f1_wins, >=, v.blocks * 9 / 10);
}

static void
check_hears (const char *path, gint from_ms, gint to_ms, double heard, double other)
{
  check_hears_at (path, RATE, from_ms, to_ms, heard, other);
}

/* Samples [@from_ms, @to_ms) of @path are silent. */
static void
check_silent (const char *path, gint from_ms, gint to_ms)
{
  gsize n;
  g_autofree gint16 *rec = load_recording (path, &n);
  gsize from = (gsize) from_ms * RATE / 1000, to = (gsize) to_ms * RATE / 1000;

  g_assert_cmpuint (to, <=, n);
  g_assert_cmpfloat (goertzel_mean_square (rec + from, to - from), <, SILENCE / 100);
}

static void
get_stats (SpMediaSession *s, SpMediaStats *stats)
{
  sp_media_session_get_stats (s, stats);
}

/* A takes B off hold and puts itself on hold by the direction of its
 * stream: recvonly and inactive send no RTP, inactive plays nothing, and
 * audio flows both ways again after resuming. */
static void
test_hold_resume (Fixture *f, gconstpointer data)
{
  g_autoptr (SpMediaEngine) engine = sp_media_engine_new ();
  g_autoptr (SpMediaSession) a = make_session (engine, ADDR_A);
  g_autoptr (SpMediaSession) b = make_session (engine, ADDR_B);
  guint16 port_a = sp_media_session_get_rtp_port (a), port_b = sp_media_session_get_rtp_port (b);
  SpMediaStats a1, a2, b1, b2;
  gint64 t0, t_inactive, t_resume;

  sp_media_session_set_devices (a, sp_audio_wav_source_new (f->tone_440),
                                sp_audio_wav_sink_new (f->rec_a));
  sp_media_session_set_devices (b, sp_audio_wav_source_new (f->tone_1000),
                                sp_audio_wav_sink_new (f->rec_b));
  t0 = g_get_monotonic_time ();
  start (a, ADDR_B, port_b, TRUE, TRUE);
  start (b, ADDR_A, port_a, TRUE, TRUE);
  test_pump (1000);

  /* recvonly: A stops sending and still hears B. Statistics are
   * published once a second, so compare snapshots 1.2 s apart after 1.2 s. */
  start (a, ADDR_B, port_b, FALSE, TRUE);
  test_pump (1200);
  get_stats (a, &a1);
  get_stats (b, &b1);
  test_pump (1200);
  get_stats (a, &a2);
  get_stats (b, &b2);
  g_test_message ("recvonly: A sent %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT
                  ", received %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT,
                  a1.packets_sent, a2.packets_sent, a1.packets_received, a2.packets_received);
  g_assert_cmpuint (a2.packets_sent, ==, a1.packets_sent);
  g_assert_cmpuint (b2.packets_received, ==, b1.packets_received);
  g_assert_cmpuint (a2.packets_received, >=, a1.packets_received + 40);

  /* inactive: nothing sent, and what still arrives is not played. */
  t_inactive = g_get_monotonic_time ();
  start (a, ADDR_B, port_b, FALSE, FALSE);
  test_pump (1200);
  get_stats (a, &a1);
  test_pump (1200);
  get_stats (a, &a2);
  g_assert_cmpuint (a2.packets_sent, ==, a1.packets_sent);

  /* Resume. */
  /* B has heard nothing from A for 3.6 s: this snapshot is current. */
  get_stats (b, &b1);
  t_resume = g_get_monotonic_time ();
  start (a, ADDR_B, port_b, TRUE, TRUE);
  test_pump (1500);
  sp_media_session_stop (a);
  sp_media_session_stop (b);
  sp_media_session_flush (b);
  get_stats (b, &b2);
  g_assert_cmpuint (b2.packets_received, >=, b1.packets_received + 40);

  /* A's sink runs on A's own clock from t0: recording time = wall time. */
  check_silent (f->rec_a, (gint) ((t_inactive - t0) / 1000) + 300,
                (gint) ((t_resume - t0) / 1000) - 300);
  check_hears (f->rec_a, (gint) ((t_resume - t0) / 1000) + 500, -100, 1000, 440);
  check_hears (f->rec_b, 300, 900, 440, 1000);
  check_hears (f->rec_b, (gint) ((t_resume - t0) / 1000) + 500, -100, 440, 1000);
}

/* The source is switched during the call: the far end hears the new one. */
static void
test_device_switch (Fixture *f, gconstpointer data)
{
  g_autoptr (SpMediaEngine) engine = sp_media_engine_new ();
  g_autoptr (SpMediaSession) a = make_session (engine, ADDR_A);
  g_autoptr (SpMediaSession) b = make_session (engine, ADDR_B);
  gint64 t0, t_switch;

  sp_media_session_set_devices (a, sp_audio_wav_source_new (f->tone_440),
                                sp_audio_wav_sink_new (f->rec_a));
  sp_media_session_set_devices (b, NULL, sp_audio_wav_sink_new (f->rec_b));
  t0 = g_get_monotonic_time ();
  start (a, ADDR_B, sp_media_session_get_rtp_port (b), TRUE, TRUE);
  start (b, ADDR_A, sp_media_session_get_rtp_port (a), TRUE, TRUE);
  test_pump (1000);
  t_switch = g_get_monotonic_time ();
  sp_media_session_set_devices (a, sp_audio_wav_source_new (f->tone_1000),
                                sp_audio_wav_sink_new (f->rec_a2));
  test_pump (1200);
  sp_media_session_stop (a);
  sp_media_session_stop (b);
  sp_media_session_flush (b);

  check_hears (f->rec_b, 300, (gint) ((t_switch - t0) / 1000), 440, 1000);
  check_hears (f->rec_b, (gint) ((t_switch - t0) / 1000) + 300, -100, 1000, 440);
  /* The old sink was closed and finalised when it was replaced. */
  {
    gsize n;
    g_autofree gint16 *rec = load_recording (f->rec_a, &n);
    g_assert_nonnull (rec);
    g_assert_cmpuint (n, >=, RATE * 8 / 10);
  }
}

/* ---- Commands are posted ------------------------------------------------- */

#define RINGBACK_HZ 425

/* While A's ringback plays, both its devices are switched and the call is
 * answered right after (issue 14: the tone tick wrote to a sink not yet
 * open and asserted; the call never came up). The commands are posted in
 * a row: the media thread applies them in that order, so the new sink is
 * open before the tone's next tick and before the call's first. The old
 * recording holds the ringback; the new one the ringback, then B; B hears
 * A's new source only. G.722: the 16 kHz of the tone, so the sink goes on
 * in one file. */
static void
test_switch_while_ringing (Fixture *f, gconstpointer data)
{
  g_autoptr (SpMediaEngine) engine = sp_media_engine_new ();
  g_autoptr (SpMediaSession) a = make_session (engine, ADDR_A);
  g_autoptr (SpMediaSession) b = make_session (engine, ADDR_B);
  SpMediaParams pa = { SP_CODEC_G722, 20, -1, FALSE, ADDR_B, 0, 0, TRUE, TRUE };
  SpMediaParams pb = { SP_CODEC_G722, 20, -1, FALSE, ADDR_A, 0, 0, TRUE, TRUE };
  gint64 t0, t_answer;

  pa.remote_rtp_port = sp_media_session_get_rtp_port (b);
  pb.remote_rtp_port = sp_media_session_get_rtp_port (a);
  sp_media_session_set_devices (a, sp_audio_wav_source_new (f->tone_440),
                                sp_audio_wav_sink_new (f->rec_a));
  sp_media_session_set_devices (b, sp_audio_wav_source_new (f->tone_440),
                                sp_audio_wav_sink_new (f->rec_b));
  sp_media_session_play_tone (a, SP_TONE_RINGBACK);
  /* The recordings' times count from when the commands were applied. */
  sp_media_session_flush (a);
  test_pump (400);
  sp_media_session_replace_device (a, sp_audio_wav_sink_new (f->rec_a2));
  sp_media_session_replace_device (a, sp_audio_wav_source_new (f->tone_1000));
  sp_media_session_flush (a);
  t0 = g_get_monotonic_time ();
  test_pump (300);
  t_answer = g_get_monotonic_time ();
  sp_media_session_start (b, &pb);
  sp_media_session_start (a, &pa);
  test_pump (1500);
  sp_media_session_stop (a);
  sp_media_session_stop (b);
  sp_media_session_flush (a);

  /* The ringback's first second is on: 400 ms in the first file. */
  check_hears_at (f->rec_a, 16000, 0, 300, RINGBACK_HZ, 1000);
  check_hears_at (f->rec_a2, 16000, 0, (gint) ((t_answer - t0) / 1000) - 50, RINGBACK_HZ, 1000);
  check_hears_at (f->rec_a2, 16000, (gint) ((t_answer - t0) / 1000) + 500, -100, 440, 1000);
  check_hears_at (f->rec_b, 16000, 500, -100, 1000, 440);
}

/* The media thread warns about a device that fails: expected for the
 * sinks made to fail here (in no-such-dir), and for them only; any other
 * warning stays fatal. */
static GLogWriterOutput
log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  for (gsize i = 0; i < n_fields && (level & G_LOG_LEVEL_WARNING); i++)
    if (g_strcmp0 (fields[i].key, "MESSAGE") == 0 && fields[i].length < 0 &&
        strstr (fields[i].value, "no-such-dir") != NULL)
      {
        g_printerr ("expected: %s\n", (const char *) fields[i].value);
        return G_LOG_WRITER_HANDLED;
      }
  return g_log_writer_default (level, fields, n_fields, data);
}

static void
on_device_error (SpMediaSession *session, SpAudioDirection direction, const GError *error,
                 gpointer user_data)
{
  GArray *errors = user_data;
  gint d = (gint) direction;

  g_assert_error (error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_NOT_FOUND);
  g_array_append_val (errors, d);
}

/* A sink that cannot be opened is switched to while the ringback plays:
 * the failure comes back to the owner as a device error (on its own main
 * context, not by waiting), the tone goes on on the null device, and a
 * working sink switched to next gets it. */
static void
test_failed_device_while_ringing (Fixture *f, gconstpointer data)
{
  g_autoptr (SpMediaEngine) engine = sp_media_engine_new ();
  g_autoptr (GArray) errors = g_array_new (FALSE, FALSE, sizeof (gint));
  SpMediaCallbacks callbacks = { NULL, NULL, on_device_error };
  g_autoptr (GError) error = NULL;
  g_autoptr (SpMediaSession) a =
      sp_media_session_new (engine, ADDR_A, 0, &callbacks, errors, &error);
  g_autofree char *nowhere = g_build_filename (f->dir, "no-such-dir", "x.wav", NULL);

  g_assert_no_error (error);
  sp_media_session_set_devices (a, NULL, sp_audio_wav_sink_new (f->rec_a));
  sp_media_session_play_tone (a, SP_TONE_RINGBACK);
  sp_media_session_replace_device (a, sp_audio_wav_sink_new (nowhere));
  /* Posted, not applied yet: nothing has come back. */
  g_assert_cmpuint (errors->len, ==, 0);
  /* Applied (the open failed, the report is on its way), then delivered
   * by this thread's main loop. */
  sp_media_session_flush (a);
  for (guint i = 0; i < 1000 && errors->len == 0; i++)
    test_pump (5);
  g_assert_cmpuint (errors->len, ==, 1);
  g_assert_cmpint (g_array_index (errors, gint, 0), ==, SP_AUDIO_SINK);
  sp_media_session_replace_device (a, sp_audio_wav_sink_new (f->rec_a2));
  test_pump (600);
  sp_media_session_play_tone (a, -1);
  sp_media_session_flush (a);
  g_assert_cmpuint (errors->len, ==, 1);
  g_assert_false (g_file_test (nowhere, G_FILE_TEST_EXISTS));
  check_hears_at (f->rec_a2, 16000, 0, 300, RINGBACK_HZ, 1000);
}

/* A device whose open and close take SLOW_MS (a sound server slow to
 * answer), noting which thread did them. */
#define SLOW_MS 300

typedef struct
{
  GThread *owner;
  gint opened, closed;  /* atomic counts */
  gint on_owner_thread; /* atomic: an open or close ran there */
} SlowLog;

static void
slow_note (SlowLog *log, gint *count)
{
  if (g_thread_self () == log->owner)
    g_atomic_int_set (&log->on_owner_thread, TRUE);
  g_usleep (SLOW_MS * 1000);
  g_atomic_int_inc (count);
}

static gboolean
slow_open (SpAudioDevice *device, guint rate, GError **error)
{
  SlowLog *log = device->priv;

  slow_note (log, &log->opened);
  return TRUE;
}

static gssize
slow_read (SpAudioDevice *device, gint16 *frames, gsize n_frames, GError **error)
{
  memset (frames, 0, n_frames * sizeof (gint16));
  return (gssize) n_frames;
}

static gssize
slow_write (SpAudioDevice *device, const gint16 *frames, gsize n_frames, GError **error)
{
  return (gssize) n_frames;
}

static void
slow_close (SpAudioDevice *device)
{
  SlowLog *log = device->priv;

  slow_note (log, &log->closed);
}

static const SpAudioDeviceVTable slow_vtable = {
  .type_name = "slow",
  .open = slow_open,
  .read = slow_read,
  .write = slow_write,
  .close = slow_close,
};

static SpAudioDevice *
slow_device_new (SlowLog *log, SpAudioDirection direction)
{
  return sp_audio_device_new (&slow_vtable, direction, FALSE, "slow", log);
}

/* Every command returns at once although the devices take SLOW_MS to open
 * and to close: they are opened and closed on the media thread, never on
 * the owner's (before the queue, the start waited 2 * SLOW_MS). */
static void
test_owner_never_waits (Fixture *f, gconstpointer data)
{
  g_autoptr (SpMediaEngine) engine = sp_media_engine_new ();
  SlowLog log = { g_thread_self () };
  SpMediaSession *a = make_session (engine, ADDR_A);
  SpMediaParams params = { SP_CODEC_PCMU, 20, 101, FALSE, ADDR_B, 9, 0, TRUE, TRUE };
  gint64 t, longest = 0;

  for (guint step = 0; step < 6; step++)
    {
      t = g_get_monotonic_time ();
      switch (step)
        {
          case 0:
            sp_media_session_set_devices (a, slow_device_new (&log, SP_AUDIO_SOURCE),
                                          slow_device_new (&log, SP_AUDIO_SINK));
            break;
          case 1:
            sp_media_session_start (a, &params);
            break;
          case 2:
            g_assert_true (sp_media_session_send_dtmf (a, "5"));
            break;
          case 3:
            sp_media_session_replace_device (a, slow_device_new (&log, SP_AUDIO_SINK));
            break;
          case 4:
            sp_media_session_stop (a);
            break;
          case 5:
            g_clear_pointer (&a, sp_media_session_free);
            break;
        }
      longest = MAX (longest, g_get_monotonic_time () - t);
    }
  g_test_message ("longest command: %.3f ms (device open/close %d ms)", longest / 1000.0, SLOW_MS);
  /* Far below one device open, with room for a loaded machine. */
  g_assert_cmpint (longest, <, SLOW_MS * 1000 / 3);
  g_assert_cmpint (g_atomic_int_get (&log.opened), <, 3);
  g_clear_pointer (&engine, sp_media_engine_free);
  /* Both first devices and the new sink were opened and closed. */
  g_assert_cmpint (log.opened, ==, 3);
  g_assert_cmpint (log.closed, ==, 3);
  g_assert_false (log.on_owner_thread);
}

static void
on_any_report (SpMediaSession *session, const SpMediaStats *stats, gpointer user_data)
{
  g_assert_not_reached ();
}

static void
on_any_digit (SpMediaSession *session, char digit, SpDtmfOrigin origin, gpointer user_data)
{
  g_assert_not_reached ();
}

static void
on_any_device_error (SpMediaSession *session, SpAudioDirection direction, const GError *error,
                     gpointer user_data)
{
  g_assert_not_reached ();
}

/* Sessions freed with their commands still queued (devices set, start,
 * a tone, digits, a device switch, a sink that cannot open) and one freed
 * right after it was made: nothing crashes or leaks (ASan), no callback
 * runs after the free, and the recording a queued start opened is a
 * complete WAV once the engine has applied the free. */
static void
test_free_with_commands_in_flight (Fixture *f, gconstpointer data)
{
  g_autoptr (SpMediaEngine) engine = sp_media_engine_new ();
  SpMediaCallbacks callbacks = { on_any_report, on_any_digit, on_any_device_error };
  g_autofree char *nowhere = g_build_filename (f->dir, "no-such-dir", "x.wav", NULL);
  SpMediaParams params = { SP_CODEC_PCMU, 20, 101, FALSE, ADDR_B, 9, 0, TRUE, TRUE };
  g_autoptr (GError) error = NULL;
  SpMediaSession *a, *b;
  gsize n = 0;
  g_autofree gint16 *rec = NULL;

  a = sp_media_session_new (engine, ADDR_A, 0, &callbacks, NULL, &error);
  g_assert_no_error (error);
  sp_media_session_free (a);

  a = sp_media_session_new (engine, ADDR_A, 0, &callbacks, NULL, &error);
  g_assert_no_error (error);
  sp_media_session_set_devices (a, sp_audio_wav_source_new (f->tone_440),
                                sp_audio_wav_sink_new (f->rec_a));
  sp_media_session_play_tone (a, SP_TONE_RINGBACK);
  sp_media_session_start (a, &params);
  g_assert_true (sp_media_session_send_dtmf (a, "123"));
  sp_media_session_replace_device (a, sp_audio_wav_sink_new (nowhere));
  sp_media_session_replace_device (a, sp_audio_wav_source_new (f->tone_1000));
  sp_media_session_free (a);

  /* One that ran a while, freed with a start and a switch queued. */
  b = sp_media_session_new (engine, ADDR_B, 0, &callbacks, NULL, &error);
  g_assert_no_error (error);
  sp_media_session_set_devices (b, NULL, sp_audio_wav_sink_new (f->rec_b));
  sp_media_session_start (b, &params);
  sp_media_session_free (b);

  test_pump (300);
  g_clear_pointer (&engine, sp_media_engine_free);
  /* Reports queued before the frees were dropped, not delivered. */
  test_pump (50);
  rec = load_recording (f->rec_b, &n);
  g_assert_nonnull (rec);
}

/* ---- A peer sending RTP by hand -------------------------------------------- */

typedef struct
{
  GSocket *socket;
  GSocketAddress *to;
  SpCodec *codec;
  guint payload_type; /* 0 = the codec's static one */
  gint16 tone_440[RATE], tone_1000[RATE];
} Peer;

/* Sends @n packets of 20 ms of @tone in real time as @ssrc, sequence
 * numbers from @seq, timestamps from @ts. */
static void
peer_send (Peer *peer, SpCodec *codec, const gint16 *tone, guint n, guint32 ssrc, guint16 seq,
           guint32 ts)
{
  gint64 next = g_get_monotonic_time ();

  for (guint i = 0; i < n; i++)
    {
      guint8 payload[160], buf[SP_RTP_MAX_PACKET];
      SpRtpPacket p = { 0 };
      gsize off = (i * 160) % RATE, len;
      sp_codec_encode (codec, tone + off, 160, payload, sizeof payload);
      p.payload_type = (guint8) (peer->payload_type ? peer->payload_type
                                                    : sp_codec_get_info (codec)->payload_type);
      p.marker = i == 0;
      p.seq = (guint16) (seq + i);
      p.timestamp = ts + i * 160;
      p.ssrc = ssrc;
      p.payload = payload;
      p.payload_len = sizeof payload;
      len = sp_rtp_build (buf, sizeof buf, &p);
      g_assert_cmpint (
          g_socket_send_to (peer->socket, peer->to, (const char *) buf, len, NULL, NULL), ==,
          (gssize) len);
      next += 20000;
      g_usleep ((gulong) MAX (next - g_get_monotonic_time (), 0));
    }
}

static void
test_new_ssrc (Fixture *f, gconstpointer data)
{
  g_autoptr (SpMediaEngine) engine = sp_media_engine_new ();
  g_autoptr (SpMediaSession) a = make_session (engine, ADDR_A);
  g_autoptr (GSocketAddress) bind_addr = g_inet_socket_address_new_from_string (ADDR_B, 0);
  g_autoptr (GSocketAddress) local = NULL;
  Peer peer = { 0 };
  SpMediaStats stats;

  peer.socket =
      g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);
  g_assert_true (g_socket_bind (peer.socket, bind_addr, FALSE, NULL));
  local = g_socket_get_local_address (peer.socket, NULL);
  peer.to = g_inet_socket_address_new_from_string (ADDR_A, sp_media_session_get_rtp_port (a));
  peer.codec = sp_codec_new (SP_CODEC_PCMU);
  goertzel_make_tone (peer.tone_1000, RATE, RATE, 1000, TONE_AMPL);
  goertzel_make_tone (peer.tone_440, RATE, RATE, 440, TONE_AMPL);

  sp_media_session_set_devices (a, NULL, sp_audio_wav_sink_new (f->rec_a));
  start (a, ADDR_B, g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)), TRUE, TRUE);
  /* The new stream (as from a peer that restarted) reuses sequence
   * numbers and timestamps the old one had already played: without a
   * restart, most of its packets would be "late" or "duplicates". */
  peer_send (&peer, peer.codec, peer.tone_1000, 60, 0x11111111, 30000, 1000000);
  peer_send (&peer, peer.codec, peer.tone_440, 60, 0x22222222, 30010, 1000000 + 10 * 160);
  g_usleep (200000);
  sp_media_session_stop (a);
  sp_media_session_flush (a);
  get_stats (a, &stats);
  g_test_message ("ssrc changes %" G_GUINT64_FORMAT ", late %" G_GUINT64_FORMAT
                  ", received %" G_GUINT64_FORMAT ", lost %d",
                  stats.ssrc_changes, stats.late, stats.packets_received, stats.cumulative_lost);
  g_assert_cmpuint (stats.late, ==, 0);
  g_assert_cmpuint (stats.duplicates, ==, 0);
  g_assert_cmpuint (stats.ssrc_changes, ==, 1);
  g_assert_cmpuint (stats.packets_received, ==, 120);
  /* The receiver statistics follow the new stream: nothing lost. */
  g_assert_cmpint (stats.cumulative_lost, ==, 0);
  check_hears (f->rec_a, 300, 1100, 1000, 440);
  check_hears (f->rec_a, 1700, -300, 440, 1000);

  sp_codec_free (peer.codec);
  g_object_unref (peer.to);
  g_object_unref (peer.socket);
}

/* The answer listed PCMU and PCMA and the peer sends PCMA although we
 * started with PCMU (RFC 3264 allows it): we decode what comes. */
static void
test_peer_codec_switch (Fixture *f, gconstpointer data)
{
  g_autoptr (SpMediaEngine) engine = sp_media_engine_new ();
  g_autoptr (SpMediaSession) a = make_session (engine, ADDR_A);
  g_autoptr (GSocketAddress) bind_addr = g_inet_socket_address_new_from_string (ADDR_B, 0);
  g_autoptr (GSocketAddress) local = NULL;
  g_autoptr (SpCodec) pcma = sp_codec_new (SP_CODEC_PCMA);
  Peer peer = { 0 };
  SpMediaStats stats;

  peer.socket =
      g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);
  g_assert_true (g_socket_bind (peer.socket, bind_addr, FALSE, NULL));
  local = g_socket_get_local_address (peer.socket, NULL);
  peer.to = g_inet_socket_address_new_from_string (ADDR_A, sp_media_session_get_rtp_port (a));
  peer.codec = sp_codec_new (SP_CODEC_PCMU);
  goertzel_make_tone (peer.tone_1000, RATE, RATE, 1000, TONE_AMPL);
  goertzel_make_tone (peer.tone_440, RATE, RATE, 440, TONE_AMPL);

  sp_media_session_set_devices (a, NULL, sp_audio_wav_sink_new (f->rec_a));
  start (a, ADDR_B, g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)), TRUE, TRUE);
  peer_send (&peer, peer.codec, peer.tone_1000, 50, 0x33333333, 1, 160);
  peer_send (&peer, pcma, peer.tone_440, 60, 0x33333333, 51, 160 + 50 * 160);
  g_usleep (200000);
  sp_media_session_stop (a);
  sp_media_session_flush (a);
  get_stats (a, &stats);
  g_assert_cmpuint (stats.packets_received, ==, 110);
  check_hears (f->rec_a, 300, 900, 1000, 440);
  /* PCMA decoded as PCMU would be loud noise, not a 440 Hz tone. */
  check_hears (f->rec_a, 1500, -300, 440, 1000);

  sp_codec_free (peer.codec);
  g_object_unref (peer.to);
  g_object_unref (peer.socket);
}

static GSocket *
bound_socket (const char *address)
{
  g_autoptr (GSocketAddress) bind_addr = g_inet_socket_address_new_from_string (address, 0);
  GSocket *socket =
      g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);

  g_assert_true (g_socket_bind (socket, bind_addr, FALSE, NULL));
  g_socket_set_timeout (socket, 2);
  return socket;
}

static guint16
local_port (GSocket *socket)
{
  g_autoptr (GSocketAddress) local = g_socket_get_local_address (socket, NULL);

  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
}

static void
peer_setup (Peer *peer, SpMediaSession *a)
{
  peer->socket = bound_socket (ADDR_B);
  peer->to = g_inet_socket_address_new_from_string (ADDR_A, sp_media_session_get_rtp_port (a));
  peer->codec = sp_codec_new (SP_CODEC_PCMU);
  goertzel_make_tone (peer->tone_1000, RATE, RATE, 1000, TONE_AMPL);
  goertzel_make_tone (peer->tone_440, RATE, RATE, 440, TONE_AMPL);
}

static void
peer_clear (Peer *peer)
{
  sp_codec_free (peer->codec);
  g_object_unref (peer->to);
  g_object_unref (peer->socket);
}

/* The RTP packets queued on @socket (it times out after 2 s when none):
 * each must have @pt; returns how many, and the SSRC in @ssrc. */
static guint
drain_rtp (GSocket *socket, guint pt, guint32 *ssrc)
{
  guint n = 0;

  g_socket_set_blocking (socket, FALSE);
  for (guint i = 0; i < 1000; i++)
    {
      guint8 buf[SP_RTP_MAX_PACKET];
      SpRtpPacket p;
      gssize len = g_socket_receive (socket, (char *) buf, sizeof buf, NULL, NULL);
      if (len <= 0)
        break;
      g_assert_true (sp_rtp_parse (buf, (gsize) len, &p, NULL));
      g_assert_cmpuint (p.payload_type, ==, pt);
      *ssrc = p.ssrc;
      n++;
    }
  g_socket_set_blocking (socket, TRUE);
  return n;
}

/* The peer put PCMU on dynamic payload type 96 (a=rtpmap:96 PCMU/8000):
 * we send with 96 and decode what arrives on 96. */
static void
test_dynamic_payload_type (Fixture *f, gconstpointer data)
{
  g_autoptr (SpMediaEngine) engine = sp_media_engine_new ();
  g_autoptr (SpMediaSession) a = make_session (engine, ADDR_A);
  SpMediaParams params = { SP_CODEC_PCMU, 20, -1, FALSE, ADDR_B, 0, 0, TRUE, TRUE };
  Peer peer = { 0 };
  SpMediaStats stats;
  guint32 ssrc = 0;
  guint sent;

  peer_setup (&peer, a);
  peer.payload_type = 96;
  params.remote_rtp_port = local_port (peer.socket);
  params.payload_type = 96;
  sp_media_session_set_devices (a, sp_audio_wav_source_new (f->tone_440),
                                sp_audio_wav_sink_new (f->rec_a));
  sp_media_session_start (a, &params);
  sp_media_session_flush (a); /* running before the peer sends */
  peer_send (&peer, peer.codec, peer.tone_1000, 60, 0x44444444, 1, 160);
  g_usleep (200000);
  sp_media_session_stop (a);
  sp_media_session_flush (a);
  get_stats (a, &stats);
  sent = drain_rtp (peer.socket, 96, &ssrc);
  g_test_message ("received %" G_GUINT64_FORMAT ", we sent %u on PT 96", stats.packets_received,
                  sent);
  g_assert_cmpuint (sent, >=, 50);
  g_assert_cmpuint (stats.packets_received, ==, 60);
  check_hears (f->rec_a, 300, -300, 1000, 440);
  peer_clear (&peer);
}

/* a=rtcp:PORT IN IP4 ADDR with another address than the RTP one: our
 * reports go there, and reports from there are taken (not strangers). */
static void
test_rtcp_address (Fixture *f, gconstpointer data)
{
  g_autoptr (SpMediaEngine) engine = sp_media_engine_new ();
  g_autoptr (SpMediaSession) a = make_session (engine, ADDR_A);
  g_autoptr (GSocket) rtcp = bound_socket (ADDR_C);
  g_autoptr (GSocketAddress) a_rtcp =
      g_inet_socket_address_new_from_string (ADDR_A, sp_media_session_get_rtcp_port (a));
  SpMediaParams params = { SP_CODEC_PCMU, 20, -1, FALSE, ADDR_B, 0, 0, TRUE, TRUE };
  SpRtcpReport rr = { 0 }, got;
  guint8 buf[512];
  Peer peer = { 0 };
  SpMediaStats stats;
  guint32 ssrc = 0;
  gssize len;
  gsize n;

  peer_setup (&peer, a);
  params.remote_rtp_port = local_port (peer.socket);
  params.remote_rtcp_address = ADDR_C;
  params.remote_rtcp_port = local_port (rtcp);
  sp_media_session_set_devices (a, sp_audio_wav_source_new (f->tone_440), NULL);
  sp_media_session_start (a, &params);
  sp_media_session_flush (a); /* running before the peer sends */
  peer_send (&peer, peer.codec, peer.tone_1000, 10, 0x55555555, 1, 160);
  g_assert_cmpuint (drain_rtp (peer.socket, 0, &ssrc), >, 0);

  /* A receiver report about A's stream, from the a=rtcp host. */
  rr.ssrc = 0x55555555;
  rr.n_blocks = 1;
  rr.blocks[0].ssrc = ssrc;
  rr.blocks[0].fraction_lost = 64;
  n = sp_rtcp_build (buf, sizeof buf, &rr, "peer@" ADDR_C);
  g_assert_cmpint (g_socket_send_to (rtcp, a_rtcp, (const char *) buf, n, NULL, NULL), ==,
                   (gssize) n);
  g_usleep (100000);
  sp_media_session_stop (a);
  sp_media_session_flush (a);
  get_stats (a, &stats);
  g_assert_cmpuint (stats.strangers_dropped, ==, 0);
  g_assert_cmpfloat (stats.remote_fraction_lost, ==, 0.25);

  /* Stopping sends a BYE, to the a=rtcp address. */
  len = g_socket_receive (rtcp, (char *) buf, sizeof buf, NULL, NULL);
  g_assert_cmpint (len, >, 0);
  g_assert_true (sp_rtcp_parse (buf, (gsize) len, &got, NULL));
  g_assert_cmpuint (got.ssrc, ==, ssrc);
  g_assert_true (got.bye);
  peer_clear (&peer);
}

/* Keeps each digit with its origin: "5e" for an event, "5a" for audio. */
static void
on_dtmf (SpMediaSession *session, char digit, SpDtmfOrigin origin, gpointer user_data)
{
  g_string_append_c (user_data, digit);
  g_string_append_c (user_data, origin == SP_DTMF_FROM_EVENT ? 'e' : 'a');
}

static void
send_packet (Peer *peer, guint pt, gboolean marker, guint16 seq, guint32 ts, const guint8 *payload,
             gsize len)
{
  guint8 buf[SP_RTP_MAX_PACKET];
  SpRtpPacket p = { 0 };
  gsize n;

  p.payload_type = (guint8) pt;
  p.marker = marker;
  p.seq = seq;
  p.timestamp = ts;
  p.ssrc = 0x66666666;
  p.payload = payload;
  p.payload_len = len;
  n = sp_rtp_build (buf, sizeof buf, &p);
  g_assert_cmpint (g_socket_send_to (peer->socket, peer->to, (const char *) buf, n, NULL, NULL), ==,
                   (gssize) n);
}

/* A peer that sends each key both ways at once, as some gateways do: the
 * tone in its PCMU audio (spandsp's dtmf_tx, 100 ms on, 100 ms off) and
 * RFC 4733 events on payload type 101 (start with marker, growing
 * duration, three end packets), in real time. */
static void
peer_send_keys_both (Peer *peer, const char *keys)
{
  dtmf_tx_state_t *tx = dtmf_tx_init (NULL);
  guint n_keys = (guint) strlen (keys), lead = 10, ticks = lead + n_keys * 10 + 20;
  gint64 next = g_get_monotonic_time ();
  guint16 seq = 100;

  dtmf_tx_set_timing (tx, 100, 100);
  for (guint i = 0; i < ticks; i++)
    {
      gint16 pcm[160] = { 0 };
      guint8 payload[160];
      guint32 ts = 8000 + i * 160;
      gint k = i >= lead ? (gint) ((i - lead) / 10) : -1,
           j = i >= lead ? (gint) ((i - lead) % 10) : -1;

      if (k >= 0 && k < (gint) n_keys && j == 0)
        dtmf_tx_put (tx, keys + k, 1);
      dtmf_tx (tx, pcm, 160);
      sp_codec_encode (peer->codec, pcm, 160, payload, sizeof payload);
      send_packet (peer, 0, i == 0, seq++, ts, payload, sizeof payload);
      if (k >= 0 && k < (gint) n_keys && j <= 5)
        {
          SpDtmfEvent ev = { (guint8) sp_dtmf_event_from_char (keys[k]), j == 5, 10,
                             (guint16) (j == 5 ? 800 : (j + 1) * 160) };
          guint8 event[SP_DTMF_PAYLOAD_SIZE];
          guint32 start_ts = 8000 + (lead + (guint) k * 10) * 160;
          sp_dtmf_build (event, &ev);
          for (guint r = 0; r < (j == 5 ? 3u : 1u); r++)
            send_packet (peer, 101, j == 0, seq++, start_ts, event, sizeof event);
        }
      next += 20000;
      g_usleep ((gulong) MAX (next - g_get_monotonic_time (), 0));
    }
  dtmf_tx_free (tx);
}

static void
check_keys_both (Fixture *f, gboolean detect, const char *expect)
{
  g_autoptr (SpMediaEngine) engine = sp_media_engine_new ();
  g_autoptr (GString) digits = g_string_new (NULL);
  SpMediaCallbacks callbacks = { NULL, on_dtmf, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (SpMediaSession) a =
      sp_media_session_new (engine, ADDR_A, 0, &callbacks, digits, &error);
  SpMediaParams params = { SP_CODEC_PCMU, 20, 101, FALSE, ADDR_B, 0, 0, TRUE, TRUE };
  Peer peer = { 0 };

  g_assert_no_error (error);
  peer_setup (&peer, a);
  params.remote_rtp_port = local_port (peer.socket);
  params.detect_inband_dtmf = detect;
  sp_media_session_start (a, &params);
  sp_media_session_flush (a); /* running before the peer sends */
  peer_send_keys_both (&peer, "0123456789*#");
  /* The last tone is played a jitter buffer later than its events came. */
  test_pump (500);
  sp_media_session_stop (a);
  sp_media_session_flush (a);
  test_pump (50);
  g_assert_cmpstr (digits->str, ==, expect);
  peer_clear (&peer);
}

/* Each key once although it came both ways, from the events (which come
 * before the tone is played a jitter buffer later); with detection off the
 * events alone give the same. */
static void
test_dtmf_both_ways (Fixture *f, gconstpointer data)
{
  check_keys_both (f, TRUE, "0e1e2e3e4e5e6e7e8e9e*e#e");
  check_keys_both (f, FALSE, "0e1e2e3e4e5e6e7e8e9e*e#e");
}

/* Reads what @a sends to @socket (RTP and, muxed, RTCP) for up to @ms:
 * answers each sender report with a receiver report whose LSR/DLSR make
 * the round trip @rtt_ms; returns the RTP timestamp step of the last two
 * Opus packets (480 for 10 ms, 960 for 20 ms), 0 if none. */
static guint32
opus_peer_round_mode (GSocket *socket, GSocketAddress *to, guint rtt_ms, guint ms,
                      gboolean *answered, gboolean *celt_only, guint8 fraction_lost)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;
  guint32 last_ts = 0, step = 0;
  gboolean have_ts = FALSE;

  while (g_get_monotonic_time () < end)
    {
      guint8 buf[SP_RTP_MAX_PACKET];
      gssize len = g_socket_receive (socket, (char *) buf, sizeof buf, NULL, NULL);
      SpRtcpReport sr, rr = { 0 };
      SpRtpPacket p;
      guint8 out[256];
      gsize n;

      if (len <= 0)
        {
          g_usleep (1000);
          continue;
        }
      if (!sp_rtp_looks_like_rtcp (buf, (gsize) len))
        {
          g_assert_true (sp_rtp_parse (buf, (gsize) len, &p, NULL));
          g_assert_cmpuint (p.payload_type, ==, 111);
          /* RFC 6716 3.1: TOC configurations 16..31 are CELT only. */
          if (celt_only != NULL && p.payload_len > 0)
            *celt_only = (p.payload[0] >> 3) >= 16;
          if (have_ts)
            step = p.timestamp - last_ts;
          last_ts = p.timestamp;
          have_ts = TRUE;
          continue;
        }
      if (!sp_rtcp_parse (buf, (gsize) len, &sr, NULL) || !sr.is_sender_report)
        continue;
      rr.ssrc = 0x5eed;
      rr.n_blocks = 1;
      rr.blocks[0].ssrc = sr.ssrc;
      /* As if the SR had been sent @rtt_ms before it was; the time since
       * it was really sent goes in DLSR, as if held here, so that a
       * loaded machine's scheduling delay does not add to the round trip
       * (same clock on both ends). */
      rr.blocks[0].lsr = sp_rtcp_ntp_middle (sr.ntp_timestamp) - rtt_ms * 65536 / 1000;
      rr.blocks[0].dlsr =
          MAX (0, (gint32) (sp_rtcp_ntp_middle (sp_rtcp_ntp_from_real_time (g_get_real_time ())) -
                            sp_rtcp_ntp_middle (sr.ntp_timestamp)));
      rr.blocks[0].fraction_lost = fraction_lost;
      n = sp_rtcp_build (out, sizeof out, &rr, "peer@test");
      g_assert_cmpint (g_socket_send_to (socket, to, (const char *) out, n, NULL, NULL), ==, n);
      *answered = TRUE;
    }
  return step;
}

static guint32
opus_peer_round (GSocket *socket, GSocketAddress *to, guint rtt_ms, guint ms, gboolean *answered)
{
  return opus_peer_round_mode (socket, to, rtt_ms, ms, answered, NULL, 0);
}

/* Answers SRs as a peer @rtt_ms away until @a sends in steps of @want
 * (or 15 s, three RTCP intervals, have passed); returns the last step.
 * More than one report may be needed: the RR's own trip back to @a's
 * media thread still counts, and on a loaded machine can exceed the few
 * milliseconds of a LAN round trip. */
static guint32
opus_peer_until (GSocket *socket, GSocketAddress *to, guint rtt_ms, guint32 want,
                 gboolean *celt_only, guint8 fraction_lost)
{
  gint64 end = g_get_monotonic_time () + 15 * G_USEC_PER_SEC;
  guint32 step = 0;
  gboolean answered = FALSE;

  while (g_get_monotonic_time () < end)
    {
      step = opus_peer_round_mode (socket, to, rtt_ms, 300, &answered, celt_only, fraction_lost);
      if (answered && step == want)
        break;
    }
  return step;
}

/* Opus to a loopback peer starts with 10 ms packets (a LAN until measured);
 * a measured round trip of 50 ms brings the negotiated 20 ms back, and one
 * of 1 ms 10 ms again (RFC 7587 packets in 48 kHz units: 480 and 960).
 * In 10 ms packets it is encoded in libopus's low-delay mode (CELT only),
 * in 20 ms, or once the peer reports losses, in its VoIP mode (SILK, which
 * carries FEC). */
static void
test_opus_ptime_follows_rtt (Fixture *f, gconstpointer data)
{
  g_autoptr (SpMediaEngine) engine = sp_media_engine_new ();
  g_autoptr (SpMediaSession) a = make_session (engine, ADDR_A);
  SpMediaParams params = { SP_CODEC_OPUS, 20, -1, TRUE, ADDR_B, 0, 0, TRUE, TRUE };
  g_autoptr (GSocket) socket = bound_socket (ADDR_B);
  g_autoptr (GSocketAddress) to =
      g_inet_socket_address_new_from_string (ADDR_A, sp_media_session_get_rtp_port (a));
  gboolean answered = FALSE, celt_only = FALSE;
  SpMediaStats stats;

  g_socket_set_timeout (socket, 0);
  g_socket_set_blocking (socket, FALSE);
  params.remote_rtp_port = local_port (socket);
  params.payload_type = 111;
  sp_media_session_start (a, &params);
  sp_media_session_flush (a); /* running before the peer sends */
  g_assert_cmpuint (opus_peer_round_mode (socket, to, 0, 300, &answered, &celt_only, 0), ==, 480);
  g_assert_true (celt_only);
  /* Until an SR came and was answered (the first within 3.75 s). */
  answered = FALSE;
  for (guint i = 0; i < 60 && !answered; i++)
    opus_peer_round (socket, to, 50, 100, &answered);
  g_assert_true (answered);
  g_assert_cmpuint (opus_peer_round_mode (socket, to, 50, 1200, &answered, &celt_only, 0), ==, 960);
  g_assert_false (celt_only);
  sp_media_session_get_stats (a, &stats);
  g_assert_cmpfloat (stats.rtt_ms, >, 40);
  g_assert_cmpuint (stats.ptime_ms, ==, 20);
  g_assert_cmpuint (opus_peer_until (socket, to, 1, 480, &celt_only, 0), ==, 480);
  g_assert_cmpuint (opus_peer_round_mode (socket, to, 1, 300, &answered, &celt_only, 0), ==, 480);
  g_assert_true (celt_only);
  sp_media_session_get_stats (a, &stats);
  g_assert_cmpfloat (stats.rtt_ms, <, 10); /* under 5 to switch; kept up to 10 */
  g_assert_cmpuint (stats.ptime_ms, ==, 10);
  /* The peer reports losses (10 %): VoIP mode, for its FEC, still in
   * 10 ms packets. */
  answered = FALSE;
  for (guint i = 0; i < 100 && !answered; i++)
    opus_peer_round_mode (socket, to, 1, 100, &answered, NULL, 26);
  g_assert_true (answered);
  g_assert_cmpuint (opus_peer_round_mode (socket, to, 1, 300, &answered, &celt_only, 26), ==, 480);
  g_assert_false (celt_only);
  sp_media_session_stop (a);
  sp_media_session_flush (a);
}

/* RFC 3389 through the session: a peer sends 500 ms of tone, one CN
 * packet at -40 dBov (its silence starts), nothing for 600 ms, then tone
 * again. With CN negotiated the silence is recorded as noise within 3 dB
 * of -40 dBov; the tone is heard on both sides of it. */
static void
test_comfort_noise (Fixture *f, gconstpointer data)
{
  g_autoptr (SpMediaEngine) engine = sp_media_engine_new ();
  g_autoptr (SpMediaSession) a = make_session (engine, ADDR_A);
  g_autoptr (GSocketAddress) bind_addr = g_inet_socket_address_new_from_string (ADDR_B, 0);
  g_autoptr (GSocketAddress) local = NULL;
  g_autofree gint16 *rec = NULL;
  SpMediaParams params = { SP_CODEC_PCMU, 20, -1, FALSE, ADDR_B, 0, 0, TRUE, TRUE };
  Peer peer = { 0 };
  SpMediaStats stats;
  guint8 cn_payload[] = { 40 }, buf[SP_RTP_MAX_PACKET];
  SpRtpPacket p = { 0 };
  double sum = 0, dbov;
  gsize n = 0, len, from = RATE * 750 / 1000, to = RATE * 1000 / 1000;

  peer.socket =
      g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);
  g_assert_true (g_socket_bind (peer.socket, bind_addr, FALSE, NULL));
  local = g_socket_get_local_address (peer.socket, NULL);
  peer.to = g_inet_socket_address_new_from_string (ADDR_A, sp_media_session_get_rtp_port (a));
  peer.codec = sp_codec_new (SP_CODEC_PCMU);
  goertzel_make_tone (peer.tone_1000, RATE, RATE, 1000, TONE_AMPL);

  sp_media_session_set_devices (a, NULL, sp_audio_wav_sink_new (f->rec_a));
  params.remote_rtp_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  params.cn_payload_type = 13;
  sp_media_session_start (a, &params);
  sp_media_session_flush (a);
  peer_send (&peer, peer.codec, peer.tone_1000, 25, 0x33333333, 100, 8000);
  p.payload_type = 13;
  p.seq = 125;
  p.timestamp = 8000 + 25 * 160;
  p.ssrc = 0x33333333;
  p.payload = cn_payload;
  p.payload_len = sizeof cn_payload;
  len = sp_rtp_build (buf, sizeof buf, &p);
  g_assert_cmpint (g_socket_send_to (peer.socket, peer.to, (const char *) buf, len, NULL, NULL), ==,
                   (gssize) len);
  g_usleep (600000);
  peer_send (&peer, peer.codec, peer.tone_1000, 25, 0x33333333, 126, 8000 + 55 * 160);
  g_usleep (200000);
  sp_media_session_stop (a);
  sp_media_session_flush (a);
  get_stats (a, &stats);
  rec = load_recording (f->rec_a, &n);
  g_assert_nonnull (rec);
  g_assert_cmpuint (n, >, to);
  for (gsize i = from; i < to; i++)
    sum += (double) rec[i] * rec[i];
  dbov = 10.0 * log10 (sum / (double) (to - from) / (32767.0 * 32767.0));
  g_test_message ("CN packets %" G_GUINT64_FORMAT ", silence recorded at %.1f dBov (-40 sent)",
                  stats.comfort_noise_packets, dbov);
  g_assert_cmpuint (stats.comfort_noise_packets, ==, 1);
  g_assert_cmpfloat (fabs (dbov + 40.0), <, 3.0);
  check_hears (f->rec_a, 150, 450, 1000, 440);
  check_hears (f->rec_a, 1250, 1550, 1000, 440);

  sp_codec_free (peer.codec);
  g_object_unref (peer.to);
  g_object_unref (peer.socket);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_log_set_writer_func (log_writer, NULL, NULL);
  g_test_add ("/media-session/hold-resume", Fixture, NULL, fixture_setup, test_hold_resume,
              fixture_teardown);
  g_test_add ("/media-session/device-switch", Fixture, NULL, fixture_setup, test_device_switch,
              fixture_teardown);
  g_test_add ("/media-session/switch-while-ringing", Fixture, NULL, fixture_setup,
              test_switch_while_ringing, fixture_teardown);
  g_test_add ("/media-session/failed-device-while-ringing", Fixture, NULL, fixture_setup,
              test_failed_device_while_ringing, fixture_teardown);
  g_test_add ("/media-session/owner-never-waits", Fixture, NULL, fixture_setup,
              test_owner_never_waits, fixture_teardown);
  g_test_add ("/media-session/free-with-commands-in-flight", Fixture, NULL, fixture_setup,
              test_free_with_commands_in_flight, fixture_teardown);
  g_test_add ("/media-session/new-ssrc", Fixture, NULL, fixture_setup, test_new_ssrc,
              fixture_teardown);
  g_test_add ("/media-session/dynamic-payload-type", Fixture, NULL, fixture_setup,
              test_dynamic_payload_type, fixture_teardown);
  g_test_add ("/media-session/rtcp-address", Fixture, NULL, fixture_setup, test_rtcp_address,
              fixture_teardown);
  g_test_add ("/media-session/dtmf-both-ways", Fixture, NULL, fixture_setup, test_dtmf_both_ways,
              fixture_teardown);
  g_test_add ("/media-session/peer-codec-switch", Fixture, NULL, fixture_setup,
              test_peer_codec_switch, fixture_teardown);
  g_test_add ("/media-session/opus-ptime-follows-rtt", Fixture, NULL, fixture_setup,
              test_opus_ptime_follows_rtt, fixture_teardown);
  g_test_add ("/media-session/comfort-noise", Fixture, NULL, fixture_setup, test_comfort_noise,
              fixture_teardown);
  return g_test_run ();
}
