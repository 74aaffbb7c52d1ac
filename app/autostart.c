#include "config.h"

#include "autostart.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

/* An absolute path, so the entry means the same directory whatever the
 * working directory at login. */
static char *
absolute_dir (const char *config_dir)
{
  return g_canonicalize_filename (config_dir, NULL);
}

char *
sp_autostart_dup_path (const char *app_id, const char *config_dir)
{
  g_autofree char *name = NULL;

  if (config_dir == NULL)
    name = g_strconcat (app_id, ".desktop", NULL);
  else
    {
      g_autofree char *dir = absolute_dir (config_dir);
      g_autofree char *sum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, dir, -1);

      name = g_strdup_printf ("%s-%.16s.desktop", app_id, sum);
    }
  return g_build_filename (g_get_user_config_dir (), "autostart", name, NULL);
}

/* One Exec argument. The specification's reserved characters need the
 * argument quoted; inside quotes ", `, $ and \ take a backslash. A % is a
 * field code anywhere, so a literal one is %%. */
static void
append_argument (GString *exec, const char *arg)
{
  gboolean quote = arg[0] == '\0' || strpbrk (arg, " \t\n\"'\\><~|&;$*?#()`") != NULL;

  if (exec->len > 0)
    g_string_append_c (exec, ' ');
  if (quote)
    g_string_append_c (exec, '"');
  for (const char *p = arg; *p != '\0'; p++)
    {
      if (quote && strchr ("\"`$\\", *p) != NULL)
        g_string_append_c (exec, '\\');
      if (*p == '%')
        g_string_append_c (exec, '%');
      g_string_append_c (exec, *p);
    }
  if (quote)
    g_string_append_c (exec, '"');
}

char *
sp_autostart_dup_exec (const char *exe, const char *bind, const char *config_dir)
{
  GString *exec = g_string_new (NULL);

  append_argument (exec, exe);
  append_argument (exec, "--background");
  if (bind != NULL)
    {
      append_argument (exec, "--bind");
      append_argument (exec, bind);
    }
  if (config_dir != NULL)
    {
      g_autofree char *dir = absolute_dir (config_dir);

      append_argument (exec, "--config-dir");
      append_argument (exec, dir);
    }
  return g_string_free (exec, FALSE);
}

gboolean
sp_autostart_write (const char *app_id, const char *exe, const char *bind, const char *config_dir,
                    GError **error)
{
  g_autofree char *path = sp_autostart_dup_path (app_id, config_dir);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *exec = sp_autostart_dup_exec (exe, bind, config_dir);
  g_autoptr (GKeyFile) entry = g_key_file_new ();
  const char *group = G_KEY_FILE_DESKTOP_GROUP;
  g_autofree char *contents = NULL;

  g_key_file_set_string (entry, group, G_KEY_FILE_DESKTOP_KEY_TYPE, "Application");
  g_key_file_set_string (entry, group, G_KEY_FILE_DESKTOP_KEY_NAME, "Softphone");
  g_key_file_set_string (entry, group, G_KEY_FILE_DESKTOP_KEY_COMMENT,
                         "Phone and office SIP server, in the background");
  /* The key file escapes what the string type needs (\ as \\, a newline
   * as \n) on top of the Exec quoting, as the specification layers them. */
  g_key_file_set_string (entry, group, G_KEY_FILE_DESKTOP_KEY_EXEC, exec);
  g_key_file_set_string (entry, group, G_KEY_FILE_DESKTOP_KEY_ICON, app_id);
  g_key_file_set_boolean (entry, group, G_KEY_FILE_DESKTOP_KEY_TERMINAL, FALSE);
  g_key_file_set_boolean (entry, group, G_KEY_FILE_DESKTOP_KEY_NO_DISPLAY, TRUE);
  g_key_file_set_boolean (entry, group, "X-GNOME-Autostart-enabled", TRUE);
  contents = g_key_file_to_data (entry, NULL, NULL);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: %s", dir,
                   g_strerror (saved));
      return FALSE;
    }
  return g_file_set_contents (path, contents, -1, error);
}

gboolean
sp_autostart_remove (const char *app_id, const char *config_dir, GError **error)
{
  g_autofree char *path = sp_autostart_dup_path (app_id, config_dir);

  if (g_unlink (path) != 0 && errno != ENOENT)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: %s", path,
                   g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}
