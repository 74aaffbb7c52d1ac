#include "audio/wav.h"
#include "audio/device.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define WAVE_FORMAT_PCM        0x0001
#define WAVE_FORMAT_EXTENSIBLE 0xFFFE

static guint32
le32 (const guint8 *p)
{
  return (guint32) p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16) | ((guint32) p[3] << 24);
}

static guint16
le16 (const guint8 *p)
{
  return (guint16) (p[0] | (p[1] << 8));
}

static void
put_le32 (guint8 *p, guint32 v)
{
  p[0] = v & 0xff;
  p[1] = (v >> 8) & 0xff;
  p[2] = (v >> 16) & 0xff;
  p[3] = (v >> 24) & 0xff;
}

static void
put_le16 (guint8 *p, guint16 v)
{
  p[0] = v & 0xff;
  p[1] = (v >> 8) & 0xff;
}

static gboolean
check_fmt (const guint8 *fmt, guint32 size, guint *rate, GError **error)
{
  guint16 format, channels, bits;

  if (size < 16)
    {
      g_set_error (error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_FORMAT, "WAV fmt chunk too short");
      return FALSE;
    }
  format = le16 (fmt);
  channels = le16 (fmt + 2);
  *rate = le32 (fmt + 4);
  bits = le16 (fmt + 14);
  /* EXTENSIBLE: the real format is the first two bytes of the sub-format
   * GUID at offset 24 (cbSize at 16 must be at least 22). */
  if (format == WAVE_FORMAT_EXTENSIBLE)
    format = size >= 40 && le16 (fmt + 16) >= 22 ? le16 (fmt + 24) : 0;
  if (format != WAVE_FORMAT_PCM || channels != 1 || bits != 16)
    {
      g_set_error (error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_FORMAT,
                   "WAV is not mono 16-bit PCM (format %u, %u channels, %u bits)", format, channels,
                   bits);
      return FALSE;
    }
  if (*rate < 1000 || *rate > 192000)
    {
      g_set_error (error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_FORMAT,
                   "WAV sample rate %u Hz out of range", *rate);
      return FALSE;
    }
  return TRUE;
}

gboolean
sp_wav_parse (const guint8 *data, gsize len, guint *rate, gint16 **samples, gsize *n_samples,
              GError **error)
{
  gsize pos = 12;
  gboolean have_fmt = FALSE;

  if (len < 12 || memcmp (data, "RIFF", 4) != 0 || memcmp (data + 8, "WAVE", 4) != 0)
    {
      g_set_error (error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_FORMAT, "Not a RIFF/WAVE file");
      return FALSE;
    }
  /* Walk the chunks; each is id(4) size(4) body, padded to even length.
   * An odd last chunk without its pad byte leaves pos one past len. */
  while (pos <= len && len - pos >= 8)
    {
      const guint8 *chunk = data + pos;
      guint32 size = le32 (chunk + 4);
      gsize avail = len - pos - 8;

      if (memcmp (chunk, "fmt ", 4) == 0)
        {
          if (size > avail)
            break;
          if (!check_fmt (chunk + 8, size, rate, error))
            return FALSE;
          have_fmt = TRUE;
        }
      else if (memcmp (chunk, "data", 4) == 0)
        {
          gsize bytes = MIN ((gsize) size, avail);

          if (!have_fmt)
            break;
          if (bytes > SP_WAV_MAX_BYTES)
            {
              g_set_error (error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_FORMAT, "WAV data too large");
              return FALSE;
            }
          *n_samples = bytes / 2;
          *samples = g_new (gint16, MAX (*n_samples, 1));
          for (gsize i = 0; i < *n_samples; i++)
            (*samples)[i] = (gint16) le16 (chunk + 8 + 2 * i);
          return TRUE;
        }
      if (size > avail)
        break;
      pos += 8 + (gsize) size + (size & 1);
    }
  g_set_error (error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_FORMAT,
               have_fmt ? "WAV has no data chunk" : "WAV has no valid fmt chunk");
  return FALSE;
}

gboolean
sp_wav_load (const char *path, guint *rate, gint16 **samples, gsize *n_samples, GError **error)
{
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &contents, &len, error))
    return FALSE;
  return sp_wav_parse ((const guint8 *) contents, len, rate, samples, n_samples, error);
}

void
sp_wav_header (guint8 header[44], guint rate, gsize n_samples)
{
  guint32 data_bytes = (guint32) MIN (n_samples * 2, (gsize) G_MAXUINT32 - 36);

  memcpy (header, "RIFF", 4);
  put_le32 (header + 4, 36 + data_bytes);
  memcpy (header + 8, "WAVEfmt ", 8);
  put_le32 (header + 16, 16);
  put_le16 (header + 20, WAVE_FORMAT_PCM);
  put_le16 (header + 22, 1);
  put_le32 (header + 24, rate);
  put_le32 (header + 28, rate * 2);
  put_le16 (header + 32, 2);
  put_le16 (header + 34, 16);
  memcpy (header + 36, "data", 4);
  put_le32 (header + 40, data_bytes);
}

gboolean
sp_wav_save (const char *path, guint rate, const gint16 *samples, gsize n_samples, GError **error)
{
  gsize len = 44 + n_samples * 2;
  g_autofree guint8 *image = g_malloc (len);

  sp_wav_header (image, rate, n_samples);
  for (gsize i = 0; i < n_samples; i++)
    put_le16 (image + 44 + 2 * i, (guint16) samples[i]);
  return g_file_set_contents (path, (const char *) image, (gssize) len, error);
}

/* ---- WAV source ---------------------------------------------------------- */

typedef struct
{
  char *path;
  gint16 *samples; /* the whole file, at the open rate */
  gsize n_samples;
  gsize pos;
} WavSource;

/* Converts between 8 and 16 kHz (or copies). Linear interpolation up, a
 * two-tap average down: crude, but a test or announcement file rarely has
 * energy near the new Nyquist frequency. */
static gint16 *
convert_rate (const gint16 *in, gsize n_in, guint from, guint to, gsize *n_out)
{
  gint16 *out;

  if (from == to)
    {
      *n_out = n_in;
      return g_memdup2 (in, MAX (n_in, 1) * sizeof (gint16));
    }
  if (to == 2 * from)
    {
      *n_out = n_in * 2;
      out = g_new (gint16, MAX (*n_out, 1));
      for (gsize i = 0; i < n_in; i++)
        {
          gint next = i + 1 < n_in ? in[i + 1] : in[0];
          out[2 * i] = in[i];
          out[2 * i + 1] = (gint16) ((in[i] + next) / 2);
        }
      return out;
    }
  if (from == 2 * to)
    {
      *n_out = n_in / 2;
      out = g_new (gint16, MAX (*n_out, 1));
      for (gsize i = 0; i < *n_out; i++)
        out[i] = (gint16) ((in[2 * i] + in[2 * i + 1]) / 2);
      return out;
    }
  return NULL;
}

static gboolean
wav_source_open (SpAudioDevice *device, guint rate, GError **error)
{
  WavSource *src = device->priv;
  g_autofree gint16 *raw = NULL;
  gsize n_raw = 0;
  guint file_rate = 0;

  if (!sp_wav_load (src->path, &file_rate, &raw, &n_raw, error))
    return FALSE;
  g_free (src->samples);
  src->samples = convert_rate (raw, n_raw, file_rate, rate, &src->n_samples);
  if (src->samples == NULL)
    {
      g_set_error (error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_FORMAT,
                   "%s: cannot play a %u Hz WAV into a %u Hz call", src->path, file_rate, rate);
      return FALSE;
    }
  src->pos = 0;
  return TRUE;
}

static gssize
wav_source_read (SpAudioDevice *device, gint16 *frames, gsize n_frames, GError **error)
{
  WavSource *src = device->priv;
  gsize done = 0;

  if (src->n_samples == 0)
    {
      memset (frames, 0, n_frames * sizeof (gint16));
      return (gssize) n_frames;
    }
  while (done < n_frames)
    {
      gsize n = MIN (n_frames - done, src->n_samples - src->pos);
      memcpy (frames + done, src->samples + src->pos, n * sizeof (gint16));
      done += n;
      src->pos = (src->pos + n) % src->n_samples;
    }
  return (gssize) n_frames;
}

static void
wav_source_close (SpAudioDevice *device)
{
  WavSource *src = device->priv;

  g_clear_pointer (&src->samples, g_free);
  src->n_samples = 0;
}

static void
wav_source_finalize (SpAudioDevice *device)
{
  WavSource *src = device->priv;

  g_free (src->samples);
  g_free (src->path);
  g_free (src);
}

static const SpAudioDeviceVTable wav_source_vtable = {
  .type_name = "wav",
  .open = wav_source_open,
  .read = wav_source_read,
  .close = wav_source_close,
  .finalize = wav_source_finalize,
};

SpAudioDevice *
sp_audio_wav_source_new (const char *path)
{
  WavSource *src = g_new0 (WavSource, 1);

  src->path = g_strdup (path);
  return sp_audio_device_new (&wav_source_vtable, SP_AUDIO_SOURCE, FALSE, path, src);
}

/* ---- WAV sink ------------------------------------------------------------ */

typedef struct
{
  char *path;
  FILE *file;
  gsize n_written;
  guint rate;
} WavSink;

static gboolean
wav_sink_open (SpAudioDevice *device, guint rate, GError **error)
{
  WavSink *sink = device->priv;
  guint8 header[44];

  sink->file = fopen (sink->path, "wb");
  if (sink->file == NULL)
    {
      int err = errno;
      g_set_error (error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_NOT_FOUND, "%s: %s", sink->path,
                   g_strerror (err));
      return FALSE;
    }
  sink->rate = rate;
  sink->n_written = 0;
  /* A valid empty header now, so a recording cut short still opens. */
  sp_wav_header (header, rate, 0);
  if (fwrite (header, 1, sizeof header, sink->file) != sizeof header)
    {
      g_set_error (error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_FAILED, "%s: write failed", sink->path);
      fclose (sink->file);
      sink->file = NULL;
      return FALSE;
    }
  return TRUE;
}

static gssize
wav_sink_write (SpAudioDevice *device, const gint16 *frames, gsize n_frames, GError **error)
{
  WavSink *sink = device->priv;
  guint8 buf[2 * 320];
  gsize done = 0;

  while (done < n_frames)
    {
      gsize n = MIN (n_frames - done, sizeof buf / 2);
      for (gsize i = 0; i < n; i++)
        put_le16 (buf + 2 * i, (guint16) frames[done + i]);
      if (fwrite (buf, 2, n, sink->file) != n)
        {
          g_set_error (error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_GONE, "%s: write failed", sink->path);
          return -1;
        }
      done += n;
    }
  sink->n_written += n_frames;
  return (gssize) n_frames;
}

static void
wav_sink_close (SpAudioDevice *device)
{
  WavSink *sink = device->priv;
  guint8 header[44];

  if (sink->file == NULL)
    return;
  sp_wav_header (header, sink->rate, sink->n_written);
  if (fseek (sink->file, 0, SEEK_SET) == 0)
    {
      if (fwrite (header, 1, sizeof header, sink->file) != sizeof header)
        g_warning ("%s: could not finalise the WAV header", sink->path);
    }
  fclose (sink->file);
  sink->file = NULL;
}

static void
wav_sink_finalize (SpAudioDevice *device)
{
  WavSink *sink = device->priv;

  g_free (sink->path);
  g_free (sink);
}

static const SpAudioDeviceVTable wav_sink_vtable = {
  .type_name = "wav",
  .open = wav_sink_open,
  .write = wav_sink_write,
  .close = wav_sink_close,
  .finalize = wav_sink_finalize,
};

SpAudioDevice *
sp_audio_wav_sink_new (const char *path)
{
  WavSink *sink = g_new0 (WavSink, 1);

  sink->path = g_strdup (path);
  return sp_audio_device_new (&wav_sink_vtable, SP_AUDIO_SINK, FALSE, path, sink);
}
