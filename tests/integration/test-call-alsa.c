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

static void
test_call (gconstpointer data)
{
  SpCodecId codec = GPOINTER_TO_UINT (data);
  const SpCodecInfo *info = sp_codec_info_for_payload_type (codec);
  g_autoptr (GError) error = NULL;
  g_autoptr (GMainContext) context = g_main_context_new ();
  g_autoptr (SpMediaEngine) engine = NULL;
  g_autoptr (SpMediaSession) near = NULL;
  g_autoptr (SpMediaSession) far = NULL;
  g_autoptr (GSubprocessLauncher) player_launcher = NULL;
  g_autoptr (GSubprocessLauncher) recorder_launcher = NULL;
  g_autoptr (GSubprocess) player = NULL;
  g_autoptr (GSubprocess) recorder = NULL;
  g_autofree char *mic_wav = NULL;
  g_autofree char *far_wav = NULL;
  g_autofree char *far_recording = NULL;
  g_autofree char *spk_raw = NULL;
  g_autofree char *rate_arg = NULL;
  g_autofree gchar *spk = NULL;
  g_autofree gint16 *heard = NULL;
  gsize spk_len = 0, n_heard = 0;
  guint heard_rate = 0;
  CallEvents near_events = { 0 }, far_events = { 0 };
  SpMediaCallbacks near_callbacks = { .stats = on_stats, .device_error = on_device_error };
  SpMediaCallbacks far_callbacks = { .stats = on_stats, .device_error = on_device_error };
  SpMediaParams params = { 0 };
  guint rate;
  /* Of the call's 125 blocks, the first few are lost to call set-up,
   * device start and jitter buffer fill; the tail is cut by stop. */
  guint min_blocks = CALL_MS / 20 * 6 / 10;

  if (g_getenv ("PULSE_SERVER") == NULL || g_getenv ("SP_PULSE_DIR") == NULL)
    {
      g_test_skip ("needs the private PulseAudio server: run under tests/tools/pulse-env.sh");
      return;
    }
  g_assert_nonnull (info);
  rate = info->sample_rate;
  mic_wav = write_tone_wav ("mic.wav", 8000, MIC_TONE_HZ, 20.0);
  far_wav = write_tone_wav ("far.wav", rate, FAR_TONE_HZ, 10.0);
  far_recording = scratch_path ("far-heard.wav");
  spk_raw = scratch_path ("spk.raw");
  rate_arg = g_strdup_printf ("--rate=%u", rate);

  /* What the near side's microphone hears, and its speaker's tap. */
  player_launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  player =
      spawn (player_launcher, (const char *const[]){ "paplay", "--device=mic", mic_wav, NULL });
  recorder_launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_set_stdout_file_path (recorder_launcher, spk_raw);
  recorder =
      spawn (recorder_launcher, (const char *const[]){ "parec", "--device=spk.monitor", rate_arg,
                                                       "--channels=1", "--format=s16le", NULL });
  g_usleep (300 * 1000);

  g_main_context_push_thread_default (context);
  engine = sp_media_engine_new ();
  near = sp_media_session_new (engine, "127.0.0.1", 0, &near_callbacks, &near_events, &error);
  g_assert_no_error (error);
  far = sp_media_session_new (engine, "127.0.0.1", 0, &far_callbacks, &far_events, &error);
  g_assert_no_error (error);
  g_main_context_pop_thread_default (context);

  sp_media_session_set_devices (near, sp_audio_alsa_new (NULL, SP_AUDIO_SOURCE),
                                sp_audio_alsa_new (NULL, SP_AUDIO_SINK));
  sp_media_session_set_devices (far, sp_audio_wav_source_new (far_wav),
                                sp_audio_wav_sink_new (far_recording));

  params.codec = codec;
  params.ptime_ms = 20;
  params.dtmf_payload_type = -1;
  params.remote_address = "127.0.0.1";
  params.send = params.receive = TRUE;
  params.remote_rtp_port = sp_media_session_get_rtp_port (far);
  sp_media_session_start (near, &params);
  params.remote_rtp_port = sp_media_session_get_rtp_port (near);
  sp_media_session_start (far, &params);

  run_for (context, CALL_MS);

  sp_media_session_stop (near);
  sp_media_session_stop (far);
  g_usleep (200 * 1000);
  stop (recorder);
  stop (player);
  run_for (context, 20);

  g_assert_cmpuint (near_events.device_errors, ==, 0);
  g_assert_cmpuint (far_events.device_errors, ==, 0);
  /* The level meter saw the -6 dBFS microphone tone through the session. */
  g_test_message ("near input level %.1f dBFS (%u reports)", near_events.input_level_db,
                  near_events.stats);
  g_assert_cmpuint (near_events.stats, >=, 1);
  g_assert_cmpfloat (near_events.input_level_db, >, -12.0);

  /* The near side's microphone reached the far end... */
  g_assert_true (sp_wav_load (far_recording, &heard_rate, &heard, &n_heard, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (heard_rate, ==, rate);
  assert_tone ("far end heard", heard, n_heard, rate, MIC_TONE_HZ, FAR_TONE_HZ, min_blocks);

  /* ...and the far end's tone came out of the near side's speaker. */
  g_assert_true (g_file_get_contents (spk_raw, &spk, &spk_len, &error));
  g_assert_no_error (error);
  assert_tone ("spk.monitor", (const gint16 *) spk, spk_len / 2, rate, FAR_TONE_HZ, MIC_TONE_HZ,
               min_blocks);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/call/alsa/pcmu", GUINT_TO_POINTER (SP_CODEC_PCMU), test_call);
  g_test_add_data_func ("/call/alsa/g722", GUINT_TO_POINTER (SP_CODEC_G722), test_call);
  return g_test_run ();
}
