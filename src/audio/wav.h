#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Whole-file WAV helpers shared by the WAV device, tests and benchmarks.
 * Only mono 16-bit PCM is accepted (WAVE_FORMAT_PCM, or EXTENSIBLE with a
 * PCM sub-format), at any rate from 1000 to 192000 Hz; the caller checks
 * the rate it needs. At most SP_WAV_MAX_BYTES of samples are loaded. */

#define SP_WAV_MAX_BYTES (256u * 1024u * 1024u)

/* Parses a WAV image in memory. On success *samples is a newly allocated
 * array of *n_samples native-endian samples. A data chunk that claims more
 * bytes than the file has is cut to what is there (as recorders that died
 * before finalising the header leave it). */
gboolean sp_wav_parse (const guint8 *data, gsize len, guint *rate, gint16 **samples,
                       gsize *n_samples, GError **error);

gboolean sp_wav_load (const char *path, guint *rate, gint16 **samples, gsize *n_samples,
                      GError **error);

/* Writes a complete mono S16 PCM WAV file atomically. */
gboolean sp_wav_save (const char *path, guint rate, const gint16 *samples, gsize n_samples,
                      GError **error);

/* The 44-byte canonical header for @n_samples mono S16 samples at @rate. */
void sp_wav_header (guint8 header[44], guint rate, gsize n_samples);

G_END_DECLS
