#include "server/passwordhash.h"

#include <crypt.h>
#include <gio/gio.h>
#include <errno.h>
#include <string.h>

/* yescrypt, libcrypt's default cost: tens of milliseconds per check,
 * which a person logging in does not notice and a guesser does. */
#define HASH_PREFIX "$y$"
/* Shortest hash part of the methods libcrypt offers (bcrypt: 31,
 * sha256crypt: 43, yescrypt: 43). */
#define MIN_HASH_CHARS 22

char *
sp_password_hash_new (const char *password, GError **error)
{
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  g_autofree struct crypt_data *data = g_new0 (struct crypt_data, 1);
  const char *hashed;

  g_return_val_if_fail (password != NULL, NULL);
  /* NULL random bytes: libcrypt reads them from getrandom () itself. */
  if (crypt_gensalt_rn (HASH_PREFIX, 0, NULL, 0, salt, sizeof salt) == NULL)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "No salt for the password hash: %s", g_strerror (errno));
      return NULL;
    }
  hashed = crypt_rn (password, salt, data, sizeof *data);
  if (hashed == NULL || hashed[0] != '$')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "The password could not be hashed: %s",
                   g_strerror (errno));
      return NULL;
    }
  return g_strdup (hashed);
}

static gboolean
equal_constant_time (const char *a, const char *b)
{
  gsize len = strlen (a);
  guint8 diff = 0;

  if (len != strlen (b))
    return FALSE;
  for (gsize i = 0; i < len; i++)
    diff |= (guint8) (a[i] ^ b[i]);
  return diff == 0;
}

gboolean
sp_password_hash_verify (const char *hash, const char *password)
{
  g_autofree struct crypt_data *data = NULL;
  const char *again;
  gboolean ok;

  if (hash == NULL || password == NULL || !sp_password_hash_is_hash (hash))
    return FALSE;
  data = g_new0 (struct crypt_data, 1);
  again = crypt_rn (password, hash, data, sizeof *data);
  ok = again != NULL && again[0] == '$' && equal_constant_time (again, hash);
  /* The work area holds intermediate state derived from the password. */
  memset (data, 0, sizeof *data);
  return ok;
}

static gboolean
is_crypt_base64 (char c)
{
  return g_ascii_isalnum (c) || c == '.' || c == '/';
}

gboolean
sp_password_hash_is_hash (const char *text)
{
  const char *last;
  guint n_dollars = 0;

  if (text == NULL || text[0] != '$' || crypt_checksalt (text) != CRYPT_SALT_OK)
    return FALSE;
  /* crypt_checksalt looks at the method and its settings only: a whole
   * hash also has its salt and a long hash part ("$y$j9T$SALT$HASH"). */
  for (const char *p = text; *p != '\0'; p++)
    n_dollars += *p == '$';
  last = strrchr (text, '$') + 1;
  if (n_dollars < 3 || strlen (last) < MIN_HASH_CHARS)
    return FALSE;
  for (const char *p = last; *p != '\0'; p++)
    if (!is_crypt_base64 (*p))
      return FALSE;
  return TRUE;
}
