#include "ua/pinning.h"

#include <gio/gio.h>
#include <string.h>

#include "i18n.h"

#define MAX_FILE        (256 * 1024)
#define MAX_HOSTPORT    300
#define FINGERPRINT_LEN 95 /* 32 bytes as "AB:" pairs, without the last colon */

struct _SpPinStore
{
  char *path;
  GHashTable *pins;    /* hostport -> fingerprint */
  GHashTable *refused; /* hostport -> the last fingerprint refused (capped) */
  GPtrArray *order;    /* hostports in file order, so a save keeps it */
};

static gboolean
fingerprint_valid (const char *fp)
{
  if (fp == NULL || strlen (fp) != FINGERPRINT_LEN)
    return FALSE;
  for (guint i = 0; i < FINGERPRINT_LEN; i++)
    if (i % 3 == 2 ? fp[i] != ':' : !g_ascii_isxdigit (fp[i]))
      return FALSE;
  return TRUE;
}

static gboolean
hostport_valid (const char *hp)
{
  gsize len = hp ? strlen (hp) : 0;

  if (len == 0 || len > MAX_HOSTPORT)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (g_ascii_isspace (hp[i]) || !g_ascii_isprint (hp[i]))
      return FALSE;
  return TRUE;
}

static void
load (SpPinStore *self)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  gsize len = 0;

  if (self->path == NULL || !g_file_get_contents (self->path, &text, &len, NULL) || len > MAX_FILE)
    return;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL && g_hash_table_size (self->pins) < SP_PIN_STORE_MAX; i++)
    {
      g_auto (GStrv) f = g_strsplit (g_strstrip (lines[i]), " ", 2);
      if (f[0] == NULL || f[0][0] == '#' || f[1] == NULL || !hostport_valid (f[0]))
        continue;
      g_strstrip (f[1]);
      if (!fingerprint_valid (f[1]) || g_hash_table_contains (self->pins, f[0]))
        continue;
      g_ptr_array_add (self->order, g_strdup (f[0]));
      g_hash_table_insert (self->pins, g_strdup (f[0]), g_ascii_strup (f[1], -1));
    }
}

static gboolean
save (SpPinStore *self, GError **error)
{
  g_autoptr (GString) s = NULL;
  g_autofree char *dir = NULL;

  if (self->path == NULL)
    return TRUE;
  s = g_string_new ("# TLS servers this phone has met: host:port SHA-256 fingerprint\n");
  for (guint i = 0; i < self->order->len; i++)
    {
      const char *hp = g_ptr_array_index (self->order, i);
      g_string_append_printf (s, "%s %s\n", hp,
                              (const char *) g_hash_table_lookup (self->pins, hp));
    }
  dir = g_path_get_dirname (self->path);
  g_mkdir_with_parents (dir, 0700);
  return g_file_set_contents_full (self->path, s->str, (gssize) s->len,
                                   G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

SpPinStore *
sp_pin_store_new (const char *path)
{
  SpPinStore *self = g_new0 (SpPinStore, 1);

  self->path = g_strdup (path);
  self->pins = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->refused = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->order = g_ptr_array_new_with_free_func (g_free);
  load (self);
  return self;
}

void
sp_pin_store_free (SpPinStore *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->pins);
  g_hash_table_unref (self->refused);
  g_ptr_array_unref (self->order);
  g_free (self->path);
  g_free (self);
}

static gboolean
pin (SpPinStore *self, const char *hostport, const char *fingerprint, GError **error)
{
  if (!g_hash_table_contains (self->pins, hostport))
    {
      if (g_hash_table_size (self->pins) >= SP_PIN_STORE_MAX)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                       _ ("%s holds %u servers already: remove some lines"),
                       self->path ? self->path : "the pin store", SP_PIN_STORE_MAX);
          return FALSE;
        }
      g_ptr_array_add (self->order, g_strdup (hostport));
    }
  g_hash_table_replace (self->pins, g_strdup (hostport), g_ascii_strup (fingerprint, -1));
  g_hash_table_remove (self->refused, hostport);
  return save (self, error);
}

SpPinResult
sp_pin_store_check (SpPinStore *self, const char *hostport, const char *fingerprint,
                    const char **pinned, GError **error)
{
  const char *old = g_hash_table_lookup (self->pins, hostport);

  if (old == NULL)
    {
      /* A pin that cannot be stored still lets this connection through:
       * the next one asks again. */
      if (!pin (self, hostport, fingerprint, error))
        g_message ("TLS: could not remember the certificate of %s: %s", hostport,
                   error && *error ? (*error)->message : "?");
      return SP_PIN_NEW;
    }
  if (g_ascii_strcasecmp (old, fingerprint) == 0)
    return SP_PIN_MATCH;
  if (pinned)
    *pinned = old;
  if (g_hash_table_size (self->refused) < SP_PIN_STORE_MAX ||
      g_hash_table_contains (self->refused, hostport))
    g_hash_table_replace (self->refused, g_strdup (hostport), g_ascii_strup (fingerprint, -1));
  return SP_PIN_CHANGED;
}

gboolean
sp_pin_store_accept (SpPinStore *self, const char *hostport, const char *fingerprint,
                     GError **error)
{
  const char *fp = fingerprint ? fingerprint : g_hash_table_lookup (self->refused, hostport);

  if (!hostport_valid (hostport))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _ ("“%s” is not a host:port"),
                   hostport ? hostport : "");
      return FALSE;
    }
  if (fp == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _ ("no changed certificate of %s is waiting to be accepted"), hostport);
      return FALSE;
    }
  if (!fingerprint_valid (fp))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("“%s” is not a SHA-256 fingerprint (AB:CD:... 32 pairs)"), fp);
      return FALSE;
    }
  {
    g_autofree char *copy = g_strdup (fp); /* @fp may live in the table pin() changes */
    return pin (self, hostport, copy, error);
  }
}

const char *
sp_pin_store_lookup (SpPinStore *self, const char *hostport)
{
  return g_hash_table_lookup (self->pins, hostport);
}
