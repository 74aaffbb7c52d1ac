#pragma once

#include <glib.h>

#include "audio/device.h"

G_BEGIN_DECLS

/* The microphone test Preferences offers: a few seconds recorded from a
 * source, then played back on a sink, so users hear themselves as the far
 * end would. It runs on a thread of its own that also opens and closes
 * both devices, so the main loop never waits on a sound card or the sound
 * server; the recording is kept in memory only and dropped at the end. */

typedef struct _SpMicTest SpMicTest;

typedef enum
{
  SP_MIC_TEST_RECORDING, /* the source is open and being recorded */
  SP_MIC_TEST_PLAYING,   /* the recording is being played on the sink */
  SP_MIC_TEST_DONE,      /* played to the end; both devices closed */
  SP_MIC_TEST_FAILED,    /* a device would not open, failed, or gave no audio */
} SpMicTestPhase;

/* Progress, on the thread-default main context of the sp_mic_test_start ()
 * caller: each phase once, as it begins (RECORDING, PLAYING, then DONE;
 * or FAILED with @error at any point), and in between the level of what
 * is being recorded or played (the peak over the last 1/15 s, in dBFS,
 * -96.0 for silence; @error NULL), at most 15 times a second. Nothing is
 * called after sp_mic_test_free (). */
typedef void (*SpMicTestFunc) (SpMicTest *test, SpMicTestPhase phase, double level_db,
                               const GError *error, gpointer user_data);

/* Takes @source (SP_AUDIO_SOURCE) and @sink (SP_AUDIO_SINK), both closed;
 * records @duration_ms (100..10000) at 16 kHz. */
SpMicTest *sp_mic_test_new (SpAudioDevice *source, SpAudioDevice *sink, guint duration_ms);
/* Starts the thread and returns at once. A test starts once. */
void sp_mic_test_start (SpMicTest *test, SpMicTestFunc func, gpointer user_data);
/* Asks the thread to stop (within 10 ms; it then closes the devices) and
 * frees; does not wait for it. */
void sp_mic_test_free (SpMicTest *test);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpMicTest, sp_mic_test_free)

G_END_DECLS
