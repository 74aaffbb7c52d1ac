#pragma once

#include <glib.h>

#include "audio/device.h"

G_BEGIN_DECLS

/* Rings: the built-in ring tone (440+480 Hz, 2 s on / 4 s off) or a WAV
 * file, looped, on an audio sink, from a thread of its own that also opens
 * and closes the sink, so the main loop never waits on the sound card or
 * the sound server. Used for incoming calls and for the Preferences' test
 * sound. */

typedef struct _SpRinger SpRinger;

/* Why ringing failed (the sink would not open, or went away), on the
 * thread-default main context of the sp_ringer_start () caller; never
 * after sp_ringer_stop () or sp_ringer_free (). */
typedef void (*SpRingerFailedFunc) (const GError *error, gpointer user_data);

/* Takes @sink (closed, SP_AUDIO_SINK), and frees it when it fails (NULL
 * with @error). @wav_path NULL or "" rings the
 * built-in tone; otherwise the file must be mono 16-bit at 8 or 16 kHz,
 * and a file that will not do is an error here, not later. */
SpRinger *sp_ringer_new (SpAudioDevice *sink, const char *wav_path, GError **error);
/* Starts ringing: returns at once; the sink is opened on the ringing
 * thread, and a failure comes back through @failed (may be NULL). A
 * ringer starts once; later calls do nothing. */
void sp_ringer_start (SpRinger *ringer, SpRingerFailedFunc failed, gpointer user_data);
/* Asks the thread to stop, without waiting: it stops within one period
 * and then closes the sink. Harmless when not started or stopped. */
void sp_ringer_stop (SpRinger *ringer);
/* TRUE from sp_ringer_start () until the thread has let the sink go
 * (after a stop, a failure, or the sink going away). */
gboolean sp_ringer_is_ringing (SpRinger *ringer);
/* Stops (without waiting) and frees; the thread finishes on its own. */
void sp_ringer_free (SpRinger *ringer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpRinger, sp_ringer_free)

G_END_DECLS
