/* The end-to-end check of the real alsa-lib path: a call between
 * two media sessions on loopback, one with ALSA's `default` as its
 * microphone and speaker (a private PulseAudio server behind it, see
 * tests/tools/pulse-env.sh), the other with WAV files. A tone played into
 * the "mic" sink reaches the far end's recording, and the far end's tone
 * is recorded from the "spk" monitor: both checked by frequency. */
#include "audio/alsa.h"
#include "audio/wav.h"
#include "media/session.h"
#include "../common/goertzel.h"

#include <math.h>
#include <signal.h>

#define MIC_TONE_HZ 1000.0 /* the ALSA side's microphone */
#define FAR_TONE_HZ 440.0  /* the WAV side's source */
#define CALL_MS     2500
/* Mean square below which a block is silence: about -50 dBFS. */
#define SILENCE_MS 1e4

typedef struct
{
  guint device_errors;
  guint stats;
  double input_level_db; /* the loudest the source's meter showed */
} CallEvents;

static void
on_stats (SpMediaSession *session, const SpMediaStats *stats, gpointer user_data)
{
  CallEvents *events = user_data;

  if (events->stats++ == 0 || stats->input_level_db > events->input_level_db)
    events->input_level_db = stats->input_level_db;
}

static void
on_device_error (SpMediaSession *session, SpAudioDirection direction, const GError *error,
                 gpointer user_data)
{
  CallEvents *events = user_data;

  g_test_message ("device error (%s): %s", direction == SP_AUDIO_SOURCE ? "source" : "sink",
                  error->message);
  events->device_errors++;
}

static char *
scratch_path (const char *name)
{
  return g_build_filename (g_getenv ("SP_PULSE_DIR"), name, NULL);
}

static GSubprocess *
spawn (GSubprocessLauncher *launcher, const char *const *argv)
{
  g_autoptr (GError) error = NULL;
  GSubprocess *process = g_subprocess_launcher_spawnv (launcher, argv, &error);

  g_assert_no_error (error);
  return process;
}

static void
stop (GSubprocess *process)
{
  g_subprocess_send_signal (process, SIGTERM);
  g_assert_true (g_subprocess_wait (process, NULL, NULL));
}

static char *
write_tone_wav (const char *name, guint rate, double freq, double seconds)
{
  g_autoptr (GError) error = NULL;
  gsize n = (gsize) (rate * seconds);
  g_autofree gint16 *samples = g_new (gint16, n);
  char *path = scratch_path (name);

  goertzel_make_tone (samples, n, rate, freq, 16384.0);
  g_assert_true (sp_wav_save (path, rate, samples, n, &error));
  g_assert_no_error (error);
  return path;
}

/* Runs the context that receives the sessions' callbacks for @ms. */
static void
run_for (GMainContext *context, guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (context, FALSE);
      g_usleep (5 * 1000);
    }
}

static void
assert_tone (const char *what, const gint16 *x, gsize n, guint rate, double wanted, double other,
             guint min_blocks)
{
  GoertzelVerdict verdict = { 0 };

  goertzel_compare (x, n, rate, wanted, other, SILENCE_MS, &verdict);
  g_test_message ("%s: %u of %u blocks are %.0f Hz, %u are %.0f Hz, %u silent", what,
                  verdict.f1_wins, verdict.blocks, wanted, verdict.f2_wins, other, verdict.silent);
  g_assert_cmpuint (verdict.f1_wins, >=, min_blocks);
  g_assert_cmpuint (verdict.f2_wins, ==, 0);
}

/* A call between the near side (ALSA `default`, the private server's mic
 * and spk) and the far side (WAV files) on loopback. */
typedef struct
{
  GMainContext *context;
  SpMediaEngine *engine;
  SpMediaSession *near;
  SpMediaSession *far;
  GSubprocessLauncher *player_launcher;
  GSubprocessLauncher *recorder_launcher;
  GSubprocess *player;   /* the near side's microphone: paplay into "mic" */
  GSubprocess *recorder; /* the near side's speaker: parec from spk.monitor */
  char *far_recording;
  char *spk_raw;
  guint rate;
  CallEvents near_events;
  CallEvents far_events;
} Call;

static gboolean
have_pulse (void)
{
  if (g_getenv ("PULSE_SERVER") != NULL && g_getenv ("SP_PULSE_DIR") != NULL)
    return TRUE;
  g_test_skip ("needs the private PulseAudio server: run under tests/tools/pulse-env.sh");
  return FALSE;
}

static void
call_start (Call *call, SpCodecId codec)
{
  static const SpMediaCallbacks callbacks = { .stats = on_stats, .device_error = on_device_error };
  const SpCodecInfo *info = sp_codec_info_for_payload_type (codec);
  g_autoptr (GError) error = NULL;
  g_autofree char *mic_wav = NULL;
  g_autofree char *far_wav = NULL;
  g_autofree char *rate_arg = NULL;
  SpMediaParams params = { 0 };

  g_assert_nonnull (info);
  call->rate = info->sample_rate;
  mic_wav = write_tone_wav ("mic.wav", 8000, MIC_TONE_HZ, 20.0);
  far_wav = write_tone_wav ("far.wav", call->rate, FAR_TONE_HZ, 10.0);
  call->far_recording = scratch_path ("far-heard.wav");
  call->spk_raw = scratch_path ("spk.raw");
  rate_arg = g_strdup_printf ("--rate=%u", call->rate);

  call->player_launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  call->player = spawn (call->player_launcher,
                        (const char *const[]){ "paplay", "--device=mic", mic_wav, NULL });
  call->recorder_launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_set_stdout_file_path (call->recorder_launcher, call->spk_raw);
  call->recorder = spawn (call->recorder_launcher,
                          (const char *const[]){ "parec", "--device=spk.monitor", rate_arg,
                                                 "--channels=1", "--format=s16le", NULL });
  /* Let both connect before the call starts. */
  g_usleep (300 * 1000);

  call->context = g_main_context_new ();
  g_main_context_push_thread_default (call->context);
  call->engine = sp_media_engine_new ();
  call->near =
      sp_media_session_new (call->engine, "127.0.0.1", 0, &callbacks, &call->near_events, &error);
  g_assert_no_error (error);
  call->far =
      sp_media_session_new (call->engine, "127.0.0.1", 0, &callbacks, &call->far_events, &error);
  g_assert_no_error (error);
  g_main_context_pop_thread_default (call->context);

  sp_media_session_set_devices (call->near, sp_audio_alsa_new (NULL, SP_AUDIO_SOURCE),
                                sp_audio_alsa_new (NULL, SP_AUDIO_SINK));
  sp_media_session_set_devices (call->far, sp_audio_wav_source_new (far_wav),
                                sp_audio_wav_sink_new (call->far_recording));

  params.codec = codec;
  params.ptime_ms = 20;
  params.dtmf_payload_type = -1;
  params.remote_address = "127.0.0.1";
  params.send = params.receive = TRUE;
  params.remote_rtp_port = sp_media_session_get_rtp_port (call->far);
  sp_media_session_start (call->near, &params);
  params.remote_rtp_port = sp_media_session_get_rtp_port (call->near);
  sp_media_session_start (call->far, &params);
  /* The call's time counts from when both starts (device opens) are
   * applied: they are posted. */
  sp_media_session_flush (call->far);
}

/* Hangs up; the far side's WAV and the spk recording are complete after. */
static void
call_stop (Call *call)
{
  sp_media_session_stop (call->near);
  sp_media_session_stop (call->far);
  sp_media_session_flush (call->far);
  /* The speaker's last periods reach spk.monitor. */
  g_usleep (200 * 1000);
  stop (call->recorder);
  stop (call->player);
  run_for (call->context, 20);
}

static void
call_clear (Call *call)
{
  g_clear_pointer (&call->near, sp_media_session_free);
  g_clear_pointer (&call->far, sp_media_session_free);
  g_clear_pointer (&call->engine, sp_media_engine_free);
  g_clear_pointer (&call->context, g_main_context_unref);
  g_clear_object (&call->player);
  g_clear_object (&call->recorder);
  g_clear_object (&call->player_launcher);
  g_clear_object (&call->recorder_launcher);
  g_clear_pointer (&call->far_recording, g_free);
  g_clear_pointer (&call->spk_raw, g_free);
}

/* What the far end recorded, at the call's rate. */
static gint16 *
load_far_recording (Call *call, gsize *n)
{
  g_autoptr (GError) error = NULL;
  gint16 *heard = NULL;
  guint rate = 0;

  g_assert_true (sp_wav_load (call->far_recording, &rate, &heard, n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rate, ==, call->rate);
  return heard;
}

static void
test_call (gconstpointer data)
{
  Call call = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree gchar *spk = NULL;
  g_autofree gint16 *heard = NULL;
  gsize spk_len = 0, n_heard = 0;
  /* Of the call's 125 blocks, the first few are lost to call set-up,
   * device start and jitter buffer fill; the tail is cut by stop. */
  guint min_blocks = CALL_MS / 20 * 6 / 10;

  if (!have_pulse ())
    return;
  call_start (&call, GPOINTER_TO_UINT (data));
  run_for (call.context, CALL_MS);
  call_stop (&call);

  g_assert_cmpuint (call.near_events.device_errors, ==, 0);
  g_assert_cmpuint (call.far_events.device_errors, ==, 0);
  /* The level meter saw the -6 dBFS microphone tone through the session. */
  g_test_message ("near input level %.1f dBFS (%u reports)", call.near_events.input_level_db,
                  call.near_events.stats);
  g_assert_cmpuint (call.near_events.stats, >=, 1);
  g_assert_cmpfloat (call.near_events.input_level_db, >, -12.0);

  /* The near side's microphone reached the far end... */
  heard = load_far_recording (&call, &n_heard);
  assert_tone ("far end heard", heard, n_heard, call.rate, MIC_TONE_HZ, FAR_TONE_HZ, min_blocks);

  /* ...and the far end's tone came out of the near side's speaker. */
  g_assert_true (g_file_get_contents (call.spk_raw, &spk, &spk_len, &error));
  g_assert_no_error (error);
  assert_tone ("spk.monitor", (const gint16 *) spk, spk_len / 2, call.rate, FAR_TONE_HZ,
               MIC_TONE_HZ, min_blocks);
  call_clear (&call);
}

/* The user picks other devices mid-call (here the named `pulse` PCM for
 * both): the call goes on and the microphone still reaches the far end
 * after the switch. */
static void
test_switch (void)
{
  Call call = { 0 };
  g_autofree gint16 *heard = NULL;
  gsize n_heard = 0, tail;

  if (!have_pulse ())
    return;
  call_start (&call, SP_CODEC_PCMU);
  run_for (call.context, 1000);
  sp_media_session_set_devices (call.near, sp_audio_alsa_new ("pulse", SP_AUDIO_SOURCE),
                                sp_audio_alsa_new ("pulse", SP_AUDIO_SINK));
  /* The 1.5 s count from the switch's device opens (posted). */
  sp_media_session_flush (call.near);
  run_for (call.context, 1500);
  call_stop (&call);

  g_assert_cmpuint (call.near_events.device_errors, ==, 0);
  heard = load_far_recording (&call, &n_heard);
  /* The last second before hang-up is all after the switch. */
  tail = call.rate;
  g_assert_cmpuint (n_heard, >, tail);
  assert_tone ("far end heard after the switch", heard + n_heard - tail, tail, call.rate,
               MIC_TONE_HZ, FAR_TONE_HZ, 40);
  call_clear (&call);
}

/* The sound server dies mid-call: the near side reports both devices
 * gone, and the call goes on silent, still sending to the far end.
 * Kills the server pulse-env started (its PID, nobody else's), so it runs
 * only when asked to, as its own test with its own server. */
static void
test_gone (void)
{
  Call call = { 0 };
  const char *pid_text = g_getenv ("SP_PULSE_PID");
  SpMediaStats before, after;
  gint64 deadline;
  guint64 pid;

  if (!have_pulse ())
    return;
  if (g_getenv ("SP_ALSA_TEST_KILL_SERVER") == NULL || pid_text == NULL ||
      !g_ascii_string_to_unsigned (pid_text, 10, 2, G_MAXINT, &pid, NULL))
    {
      g_test_skip ("kills the sound server: only as the call-alsa-gone test");
      return;
    }
  /* The session warns when a device fails, as it should here; criticals
   * stay fatal. */
  g_log_set_always_fatal (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL);
  call_start (&call, SP_CODEC_PCMU);
  run_for (call.context, 1000);
  g_assert_cmpint (kill ((pid_t) pid, SIGKILL), ==, 0);

  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (call.near_events.device_errors < 2 && g_get_monotonic_time () < deadline)
    run_for (call.context, 50);
  g_assert_cmpuint (call.near_events.device_errors, ==, 2);
  g_assert_cmpuint (call.far_events.device_errors, ==, 0);

  /* Statistics are published once a second: look over two seconds. */
  sp_media_session_get_stats (call.far, &before);
  run_for (call.context, 2200);
  sp_media_session_get_stats (call.far, &after);
  g_test_message ("far end received %" G_GUINT64_FORMAT " packets in 2.2 s after the loss",
                  after.packets_received - before.packets_received);
  /* A second's publication apart at least: 50 packets of 20 ms; allow for
   * a loaded machine. */
  g_assert_cmpuint (after.packets_received - before.packets_received, >=, 35);

  /* The players died with the server; stop only the sessions. */
  sp_media_session_stop (call.near);
  sp_media_session_stop (call.far);
  sp_media_session_flush (call.far);
  g_subprocess_send_signal (call.player, SIGTERM);
  g_subprocess_send_signal (call.recorder, SIGTERM);
  g_assert_true (g_subprocess_wait (call.player, NULL, NULL));
  g_assert_true (g_subprocess_wait (call.recorder, NULL, NULL));
  call_clear (&call);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/call/alsa/pcmu", GUINT_TO_POINTER (SP_CODEC_PCMU), test_call);
  g_test_add_data_func ("/call/alsa/g722", GUINT_TO_POINTER (SP_CODEC_G722), test_call);
  g_test_add_func ("/call/alsa/switch", test_switch);
  g_test_add_func ("/call/alsa/gone", test_gone);
  return g_test_run ();
}
