#include "server/apitoken.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOKEN_BYTES 32
#define TOKEN_CHARS (2 * TOKEN_BYTES)

char *
sp_api_token_path (const char *dir)
{
  return g_build_filename (dir, SP_API_TOKEN_FILE, NULL);
}

static gboolean
is_token (const char *text)
{
  gsize len = strlen (text);

  if (len != TOKEN_CHARS)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isxdigit (text[i]))
      return FALSE;
  return TRUE;
}

static char *
new_token (GError **error)
{
  guint8 bytes[TOKEN_BYTES];
  gsize got = 0;
  char *token;

  while (got < sizeof bytes)
    {
      ssize_t n = getrandom (bytes + got, sizeof bytes - got, 0);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                       "No random bytes for the web console token: %s", g_strerror (errno));
          return NULL;
        }
      got += (gsize) n;
    }
  token = g_malloc (TOKEN_CHARS + 1);
  for (gsize i = 0; i < sizeof bytes; i++)
    g_snprintf (token + 2 * i, 3, "%02x", bytes[i]);
  memset (bytes, 0, sizeof bytes);
  return token;
}

static char *
create (const char *dir, const char *path, GError **error)
{
  g_autofree char *token = NULL;
  g_autofree char *text = NULL;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "Cannot create %s: %s", dir,
                   g_strerror (saved));
      return NULL;
    }
  token = new_token (error);
  if (token == NULL)
    return NULL;
  text = g_strconcat (token, "\n", NULL);
  /* Written to a temporary file with mode 0600 and renamed: the token is
   * never readable by others, not even for a moment. */
  if (!g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error))
    {
      memset (text, 0, strlen (text));
      memset (token, 0, strlen (token));
      return NULL;
    }
  memset (text, 0, strlen (text));
  g_message ("Web console token created in %s", path);
  return g_steal_pointer (&token);
}

char *
sp_api_token_load_or_create (const char *dir, GError **error)
{
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  GStatBuf st;

  g_return_val_if_fail (dir != NULL, NULL);
  path = sp_api_token_path (dir);
  if (g_lstat (path, &st) != 0)
    {
      int saved = errno;

      if (saved != ENOENT)
        {
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "Cannot read %s: %s", path,
                       g_strerror (saved));
          return NULL;
        }
      return create (dir, path, error);
    }
  if (!S_ISREG (st.st_mode) || st.st_uid != getuid ())
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   "%s is not a regular file of this user; remove it and start again", path);
      return NULL;
    }
  if ((st.st_mode & 077) != 0)
    {
      g_message ("%s could be read by other users; it now holds a new token", path);
      return create (dir, path, error);
    }
  if (!g_file_get_contents (path, &text, NULL, error))
    return NULL;
  g_strchomp (text);
  if (!is_token (text))
    {
      memset (text, 0, strlen (text));
      g_message ("%s did not hold a token; it now holds a new one", path);
      return create (dir, path, error);
    }
  return g_steal_pointer (&text);
}

gboolean
sp_api_token_equal (const char *token, const char *presented)
{
  gsize len;
  guint8 diff = 0;

  if (token == NULL || presented == NULL)
    return FALSE;
  len = strlen (token);
  if (strlen (presented) != len || len == 0)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    diff |= (guint8) (token[i] ^ presented[i]);
  return diff == 0;
}
