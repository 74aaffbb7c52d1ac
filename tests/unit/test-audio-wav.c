/* WAV parsing (sp_wav_parse never trusts the file) and the WAV source and
 * sink devices. Every image is parsed from a heap copy of its exact size,
 * so ASan catches a read past the end. */

#include "audio/device.h"
#include "audio/wav.h"

#include "../common/goertzel.h"

#include <glib/gstdio.h>
#include <string.h>

/* ---- Building images --------------------------------------------------- */

static void
put16 (GByteArray *b, guint16 v)
{
  guint8 p[2] = { v & 0xff, v >> 8 };

  g_byte_array_append (b, p, 2);
}

static void
put32 (GByteArray *b, guint32 v)
{
  guint8 p[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };

  g_byte_array_append (b, p, 4);
}

static void
put_id (GByteArray *b, const char *id)
{
  g_byte_array_append (b, (const guint8 *) id, 4);
}

typedef struct
{
  guint16 format; /* 1 PCM, 3 float, 0xFFFE EXTENSIBLE */
  guint16 channels;
  guint32 rate;
  guint16 bits;
  guint16 sub_format;   /* EXTENSIBLE only */
  guint16 cb_size;      /* EXTENSIBLE only */
  guint32 fmt_size;     /* 0 = 16, or 40 for EXTENSIBLE */
  guint32 data_claimed; /* 0 = the real size */
  guint n_samples;
  gboolean odd_chunk_first; /* a 3-byte "LIST" chunk (with its pad byte) before fmt */
} Spec;

static void
put_fmt (GByteArray *b, const Spec *s)
{
  guint32 size = s->fmt_size ? s->fmt_size : (s->format == 0xFFFE ? 40 : 16);
  guint start;

  put_id (b, "fmt ");
  put32 (b, size);
  start = b->len;
  put16 (b, s->format);
  put16 (b, s->channels);
  put32 (b, s->rate);
  put32 (b, s->rate * s->channels * s->bits / 8);
  put16 (b, (guint16) (s->channels * s->bits / 8));
  put16 (b, s->bits);
  if (s->format == 0xFFFE)
    {
      static const guint8 guid_tail[14] = { 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                            0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71 };
      put16 (b, s->cb_size);
      put16 (b, s->bits); /* valid bits */
      put32 (b, 4);       /* channel mask: front centre */
      put16 (b, s->sub_format);
      g_byte_array_append (b, guid_tail, sizeof guid_tail);
    }
  while (b->len - start < size)
    g_byte_array_append (b, (const guint8 *) "", 1);
  g_byte_array_set_size (b, start + size);
}

static GBytes *
build (const Spec *s)
{
  GByteArray *b = g_byte_array_new ();

  put_id (b, "RIFF");
  put32 (b, 0); /* fixed below */
  put_id (b, "WAVE");
  if (s->odd_chunk_first)
    {
      put_id (b, "LIST");
      put32 (b, 3);
      g_byte_array_append (b, (const guint8 *) "abc\0", 4);
    }
  put_fmt (b, s);
  put_id (b, "data");
  put32 (b, s->data_claimed ? s->data_claimed : s->n_samples * 2);
  for (guint i = 0; i < s->n_samples; i++)
    put16 (b, (guint16) (gint16) (i * 37 - 1000));
  b->data[4] = (b->len - 8) & 0xff;
  b->data[5] = ((b->len - 8) >> 8) & 0xff;
  b->data[6] = ((b->len - 8) >> 16) & 0xff;
  return g_byte_array_free_to_bytes (b);
}

static const Spec pcm8k = { 1, 1, 8000, 16, 0, 0, 0, 0, 100, FALSE };

/* Parses the first @len bytes of @image from an exact-size heap copy. */
static gboolean
parse_prefix (GBytes *image, gsize len, guint *rate, gint16 **samples, gsize *n, GError **error)
{
  g_autofree guint8 *copy = g_memdup2 (g_bytes_get_data (image, NULL), MAX (len, 1));

  return sp_wav_parse (copy, len, rate, samples, n, error);
}

static gboolean
parse (GBytes *image, guint *rate, gint16 **samples, gsize *n, GError **error)
{
  return parse_prefix (image, g_bytes_get_size (image), rate, samples, n, error);
}

static void
expect_format_error (const Spec *spec, const char *message_part)
{
  g_autoptr (GBytes) image = build (spec);
  g_autoptr (GError) error = NULL;
  gint16 *samples = NULL;
  guint rate = 0;
  gsize n = 0;

  g_assert_false (parse (image, &rate, &samples, &n, &error));
  g_assert_error (error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, message_part));
  g_assert_null (samples);
}

/* ---- Parsing ------------------------------------------------------------- */

static void
test_parse_rates (void)
{
  static const guint rates[] = { 8000, 16000 };

  for (guint i = 0; i < G_N_ELEMENTS (rates); i++)
    {
      Spec spec = pcm8k;
      g_autoptr (GBytes) image = NULL;
      g_autoptr (GError) error = NULL;
      g_autofree gint16 *samples = NULL;
      guint rate = 0;
      gsize n = 0;

      spec.rate = rates[i];
      image = build (&spec);
      g_assert_true (parse (image, &rate, &samples, &n, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (rate, ==, rates[i]);
      g_assert_cmpuint (n, ==, 100);
      g_assert_cmpint (samples[0], ==, -1000);
      g_assert_cmpint (samples[99], ==, 99 * 37 - 1000);
    }
}

static void
test_parse_extensible (void)
{
  Spec spec = pcm8k;
  g_autoptr (GBytes) image = NULL;
  g_autofree gint16 *samples = NULL;
  g_autoptr (GError) error = NULL;
  guint rate = 0;
  gsize n = 0;

  spec.format = 0xFFFE;
  spec.sub_format = 1;
  spec.cb_size = 22;
  spec.rate = 16000;
  image = build (&spec);
  g_assert_true (parse (image, &rate, &samples, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rate, ==, 16000);
  g_assert_cmpuint (n, ==, 100);
  g_assert_cmpint (samples[1], ==, 37 - 1000);

  /* IEEE float inside EXTENSIBLE. */
  spec.sub_format = 3;
  expect_format_error (&spec, "not mono 16-bit PCM");
  /* cbSize too small to hold the sub-format. */
  spec.sub_format = 1;
  spec.cb_size = 0;
  expect_format_error (&spec, "not mono 16-bit PCM");
  /* EXTENSIBLE with an 18-byte fmt chunk: no room for a sub-format. */
  spec.cb_size = 22;
  spec.fmt_size = 18;
  expect_format_error (&spec, "not mono 16-bit PCM");
}

static void
test_parse_bad_format (void)
{
  Spec spec;

  spec = pcm8k;
  spec.channels = 2;
  expect_format_error (&spec, "2 channels");
  spec = pcm8k;
  spec.bits = 8;
  expect_format_error (&spec, "8 bits");
  spec = pcm8k;
  spec.format = 3;
  expect_format_error (&spec, "format 3");
  spec = pcm8k;
  spec.format = 6; /* A-law: we want linear PCM */
  expect_format_error (&spec, "format 6");
  spec = pcm8k;
  spec.rate = 500;
  expect_format_error (&spec, "500 Hz");
  spec = pcm8k;
  spec.rate = 384000;
  expect_format_error (&spec, "384000 Hz");
  spec = pcm8k;
  spec.fmt_size = 14;
  expect_format_error (&spec, "fmt chunk too short");
}

static void
test_parse_bad_headers (void)
{
  static const char *const images[] = {
    "",
    "RIFF",
    "RIFF\x04\x00\x00\x00WAV",
    "RIFX\x04\x00\x00\x00WAVE",
    "RIFF\x04\x00\x00\x00AVI ",
    /* A data chunk before any fmt. */
    "RIFF\x10\x00\x00\x00WAVEdata\x02\x00\x00\x00\x01\x02",
    /* A fmt chunk claiming more than the file has. */
    "RIFF\x10\x00\x00\x00WAVEfmt \xff\x00\x00\x00\x01\x00\x01\x00",
    /* A chunk size that would wrap a 32-bit position. */
    "RIFF\x10\x00\x00\x00WAVEJUNK\xff\xff\xff\xff\x00\x00",
  };
  static const gsize lengths[] = { 0, 4, 11, 12, 12, 22, 20, 18 };

  for (guint i = 0; i < G_N_ELEMENTS (images); i++)
    {
      g_autoptr (GBytes) image = g_bytes_new (images[i], lengths[i]);
      g_autoptr (GError) error = NULL;
      gint16 *samples = NULL;
      guint rate = 0;
      gsize n = 0;

      g_assert_false (parse (image, &rate, &samples, &n, &error));
      g_assert_error (error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_FORMAT);
      g_assert_null (samples);
    }
}

static void
test_parse_no_data (void)
{
  Spec spec = pcm8k;
  g_autoptr (GBytes) image = build (&spec);
  g_autoptr (GError) error = NULL;
  gint16 *samples = NULL;
  guint rate = 0;
  gsize n = 0;

  /* Everything up to the data chunk's header. */
  g_assert_false (parse_prefix (image, 12 + 8 + 16, &rate, &samples, &n, &error));
  g_assert_error (error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_FORMAT);
  g_assert_cmpstr (error->message, ==, "WAV has no data chunk");
}

/* A file cut anywhere: a clean error up to the data chunk's header, then
 * as many whole samples as are there (a recorder that died keeps what it
 * wrote). */
static void
test_parse_truncated (void)
{
  Spec spec = pcm8k;
  g_autoptr (GBytes) image = build (&spec);
  gsize full = g_bytes_get_size (image);

  g_assert_cmpuint (full, ==, 44 + 200);
  for (gsize len = 0; len <= full; len++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree gint16 *samples = NULL;
      guint rate = 0;
      gsize n = 0;
      gboolean ok = parse_prefix (image, len, &rate, &samples, &n, &error);

      if (len < 44)
        {
          g_assert_false (ok);
          g_assert_error (error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_FORMAT);
          continue;
        }
      g_assert_true (ok);
      g_assert_cmpuint (n, ==, (len - 44) / 2);
      g_assert_cmpuint (rate, ==, 8000);
    }
}

static void
test_parse_data_claims_too_little (void)
{
  Spec spec = pcm8k;
  g_autoptr (GBytes) image = NULL;
  g_autofree gint16 *samples = NULL;
  guint rate = 0;
  gsize n = 0;

  /* Trailing bytes after the data chunk (a LIST chunk) are not audio. */
  spec.data_claimed = 50;
  image = build (&spec);
  g_assert_true (parse (image, &rate, &samples, &n, NULL));
  g_assert_cmpuint (n, ==, 25);
}

static void
test_parse_odd_chunks (void)
{
  Spec spec = pcm8k;
  g_autoptr (GBytes) image = NULL;
  g_autofree gint16 *samples = NULL;
  guint rate = 0;
  gsize n = 0;
  /* An odd chunk ending the file without its pad byte. */
  static const char odd_end[] = "RIFF\x0f\x00\x00\x00WAVEJUNK\x03\x00\x00\x00xyz";
  g_autoptr (GBytes) odd = g_bytes_new (odd_end, sizeof odd_end - 1);
  g_autoptr (GError) error = NULL;
  gint16 *none = NULL;

  spec.odd_chunk_first = TRUE;
  image = build (&spec);
  g_assert_true (parse (image, &rate, &samples, &n, NULL));
  g_assert_cmpuint (n, ==, 100);
  g_assert_cmpint (samples[0], ==, -1000);

  g_assert_false (parse (odd, &rate, &none, &n, &error));
  g_assert_null (none);
  g_assert_error (error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_FORMAT);
}

static void
test_header (void)
{
  guint8 h[44];
  g_autofree gint16 *samples = NULL;
  guint rate = 0;
  gsize n = 1;

  sp_wav_header (h, 16000, 0);
  g_assert_cmpmem (h, 4, "RIFF", 4);
  g_assert_cmpmem (h + 8, 8, "WAVEfmt ", 8);
  g_assert_cmpuint (h[24] | (h[25] << 8), ==, 16000);
  g_assert_cmpuint (h[28] | (h[29] << 8) | (h[30] << 16), ==, 32000); /* bytes per second */
  g_assert_cmpmem (h + 36, 4, "data", 4);
  /* An empty recording is a valid, empty WAV. */
  g_assert_true (sp_wav_parse (h, sizeof h, &rate, &samples, &n, NULL));
  g_assert_cmpuint (rate, ==, 16000);
  g_assert_cmpuint (n, ==, 0);
}

/* ---- Devices ------------------------------------------------------------- */

typedef struct
{
  char *dir;
  char *path;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("sp-wav-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
  f->path = g_build_filename (f->dir, "x.wav", NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_unlink (f->path);
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

/* A 1000 Hz tone saved at @file_rate is played at @open_rate: still a
 * 1000 Hz tone, and the file loops without a seam. */
static void
check_source_rate (Fixture *f, guint file_rate, guint open_rate)
{
  g_autofree gint16 *tone = g_new (gint16, file_rate / 10);
  g_autoptr (SpAudioDevice) dev = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gint16 *out = g_new (gint16, open_rate);
  GoertzelVerdict v;

  /* 100 ms of 1000 Hz: whole periods, so the loop is seamless. */
  goertzel_make_tone (tone, file_rate / 10, file_rate, 1000, 8000);
  g_assert_true (sp_wav_save (f->path, file_rate, tone, file_rate / 10, NULL));
  dev = sp_audio_wav_source_new (f->path);
  g_assert_false (sp_audio_device_is_clocked (dev));
  g_assert_true (sp_audio_device_open (dev, open_rate, &error));
  g_assert_no_error (error);
  /* One second in 10 ms periods: ten loops of the file. */
  for (guint i = 0; i < 100; i++)
    {
      gsize period = SP_AUDIO_PERIOD_FRAMES (open_rate);
      g_assert_cmpint (sp_audio_device_read (dev, out + i * period, period, NULL), ==,
                       (gssize) period);
    }
  goertzel_compare (out, open_rate, open_rate, 1000, 500, 1e4, &v);
  g_assert_cmpuint (v.f1_wins, ==, v.blocks);
  g_assert_cmpfloat (goertzel_snr_db (out, open_rate, open_rate, 1000), >, 25.0);
  /* The level meter saw a tone of amplitude 8000: about -12 dBFS. */
  g_assert_cmpfloat (sp_audio_device_get_level (dev), >, -13.0);
  g_assert_cmpfloat (sp_audio_device_get_level (dev), <, -11.0);
}

static void
test_source_8k_to_8k (Fixture *f, gconstpointer data)
{
  check_source_rate (f, 8000, 8000);
}

static void
test_source_8k_to_16k (Fixture *f, gconstpointer data)
{
  check_source_rate (f, 8000, 16000);
}

static void
test_source_16k_to_8k (Fixture *f, gconstpointer data)
{
  check_source_rate (f, 16000, 8000);
}

static void
test_source_bad_files (Fixture *f, gconstpointer data)
{
  g_autofree gint16 *tone = g_new0 (gint16, 4410);
  g_autoptr (SpAudioDevice) missing = sp_audio_wav_source_new ("/nonexistent/x.wav");
  g_autoptr (SpAudioDevice) cd = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_false (sp_audio_device_open (missing, 8000, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  /* 44.1 kHz has no simple ratio to a call's rate. */
  g_assert_true (sp_wav_save (f->path, 44100, tone, 4410, NULL));
  cd = sp_audio_wav_source_new (f->path);
  g_assert_false (sp_audio_device_open (cd, 8000, &error));
  g_assert_error (error, SP_AUDIO_ERROR, SP_AUDIO_ERROR_FORMAT);
}

static void
test_sink (Fixture *f, gconstpointer data)
{
  g_autoptr (SpAudioDevice) sink = sp_audio_wav_sink_new (f->path);
  g_autofree gint16 *back = NULL;
  gint16 period[160];
  guint rate = 0;
  gsize n = 0;

  for (guint i = 0; i < G_N_ELEMENTS (period); i++)
    period[i] = (gint16) (i * 100 - 8000);
  g_assert_true (sp_audio_device_open (sink, 8000, NULL));
  for (guint i = 0; i < 3; i++)
    g_assert_cmpint (sp_audio_device_write (sink, period, 160, NULL), ==, 160);
  sp_audio_device_close (sink);
  g_assert_true (sp_wav_load (f->path, &rate, &back, &n, NULL));
  g_assert_cmpuint (rate, ==, 8000);
  g_assert_cmpuint (n, ==, 480);
  g_assert_cmpmem (back + 320, 160 * sizeof (gint16), period, sizeof period);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/audio-wav/parse/rates", test_parse_rates);
  g_test_add_func ("/audio-wav/parse/extensible", test_parse_extensible);
  g_test_add_func ("/audio-wav/parse/bad-format", test_parse_bad_format);
  g_test_add_func ("/audio-wav/parse/bad-headers", test_parse_bad_headers);
  g_test_add_func ("/audio-wav/parse/no-data", test_parse_no_data);
  g_test_add_func ("/audio-wav/parse/truncated", test_parse_truncated);
  g_test_add_func ("/audio-wav/parse/data-claims-too-little", test_parse_data_claims_too_little);
  g_test_add_func ("/audio-wav/parse/odd-chunks", test_parse_odd_chunks);
  g_test_add_func ("/audio-wav/header", test_header);
  g_test_add ("/audio-wav/source/8k-8k", Fixture, NULL, fixture_setup, test_source_8k_to_8k,
              fixture_teardown);
  g_test_add ("/audio-wav/source/8k-16k", Fixture, NULL, fixture_setup, test_source_8k_to_16k,
              fixture_teardown);
  g_test_add ("/audio-wav/source/16k-8k", Fixture, NULL, fixture_setup, test_source_16k_to_8k,
              fixture_teardown);
  g_test_add ("/audio-wav/source/bad-files", Fixture, NULL, fixture_setup, test_source_bad_files,
              fixture_teardown);
  g_test_add ("/audio-wav/sink", Fixture, NULL, fixture_setup, test_sink, fixture_teardown);
  return g_test_run ();
}
