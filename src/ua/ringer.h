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

/* What went wrong, for the owner to say. */
typedef enum
{
  /* The sink would not open, or went away: the ringing has stopped. */
  SP_RINGER_FAILED_DEVICE,
  /* The WAV file cannot be read or played (missing, not WAV, 44.1 kHz,
   * empty): the built-in tone rings instead. */
  SP_RINGER_FAILED_TONE,
  /* The WAV file is slow to read (a network share, a FIFO): the built-in
   * tone rings until it is there, then the file. @error says why. */
  SP_RINGER_TONE_SLOW,
} SpRingerFailure;

/* On the thread-default main context of the sp_ringer_start () caller;
 * never after sp_ringer_stop () or sp_ringer_free (). */
typedef void (*SpRingerFailedFunc) (SpRingerFailure what, const GError *error, gpointer user_data);

/* Takes @sink (closed, SP_AUDIO_SINK). @wav_path NULL or "" rings the
 * built-in tone; otherwise a mono 16-bit WAV file at 8 or 16 kHz, read on
 * a thread once started (never here: the main loop does not wait on a
 * slow disk), with the built-in tone ringing meanwhile and in its place
 * when the file will not do. */
SpRinger *sp_ringer_new (SpAudioDevice *sink, const char *wav_path);
/* Starts ringing: returns at once; the file is read and the sink opened
 * on the ringing threads, and problems come back through @failed (may be
 * NULL). A ringer starts once; later calls do nothing. */
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
