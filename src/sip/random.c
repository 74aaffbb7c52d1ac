#include "sip/random.h"

#include <errno.h>
#include <sys/random.h>

void
sp_random_bytes (void *buf, gsize len)
{
  guint8 *p = buf;
  gsize done = 0;

  while (done < len)
    {
      ssize_t n = getrandom (p + done, len - done, 0);

      if (n < 0 && errno == EINTR)
        continue;
      /* getrandom(2) exists since Linux 3.17 and cannot fail otherwise
       * for a valid buffer: falling back to a weak generator would hide
       * a broken system, so stop instead. */
      if (n <= 0)
        g_error ("getrandom failed: %s", g_strerror (errno));
      done += (gsize) n;
    }
}

guint32
sp_random_uint32 (void)
{
  guint32 v;

  sp_random_bytes (&v, sizeof v);
  return v;
}

char *
sp_random_token (guint n_chars)
{
  static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  const guint n_symbols = sizeof alphabet - 1; /* 62 */
  char *s = g_malloc (n_chars + 1);
  guint done = 0;

  while (done < n_chars)
    {
      guint8 raw[32];

      sp_random_bytes (raw, sizeof raw);
      /* Rejection sampling keeps every symbol equally likely: 248 is the
       * largest multiple of 62 that fits in a byte. */
      for (guint i = 0; i < sizeof raw && done < n_chars; i++)
        if (raw[i] < 248)
          s[done++] = alphabet[raw[i] % n_symbols];
    }
  s[n_chars] = '\0';
  return s;
}
