#pragma once

#include <glib.h>

#include "audio/device.h"

G_BEGIN_DECLS

/* Rings: the built-in ring tone (440+480 Hz, 2 s on / 4 s off) or a WAV
 * file, looped, on an audio sink, from a thread of its own so the main
 * loop never waits on the sound card. Used for incoming calls and for the
 * Preferences' test sound. */

typedef struct _SpRinger SpRinger;

/* Takes @sink (closed, SP_AUDIO_SINK), and frees it when it fails (NULL
 * with @error). @wav_path NULL or "" rings the
 * built-in tone; otherwise the file must be mono 16-bit at 8 or 16 kHz,
 * and a file that will not do is an error here, not later. */
SpRinger *sp_ringer_new (SpAudioDevice *sink, const char *wav_path, GError **error);
/* Opens the sink and starts ringing. FALSE when the sink cannot open. */
gboolean sp_ringer_start (SpRinger *ringer, GError **error);
/* Stops (waits for the thread, at most one period) and closes the sink.
 * Harmless when not started. */
void sp_ringer_stop (SpRinger *ringer);
gboolean sp_ringer_is_ringing (SpRinger *ringer);
/* Stops and frees. */
void sp_ringer_free (SpRinger *ringer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpRinger, sp_ringer_free)

G_END_DECLS
