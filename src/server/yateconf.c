#include "server/yateconf.h"

#include <gio/gio.h>
#include <string.h>

#include "i18n.h"

static void
parse_line (char *line, guint lineno, GString *section, SpYateConfFunc func, gpointer user_data)
{
  SpYateConfLine out = { 0 };
  char *eq;

  g_strstrip (line);
  if (line[0] == '\0' || line[0] == ';' || line[0] == '#')
    return;

  out.lineno = lineno;
  out.text = line;
  out.kind = SP_YATE_CONF_GARBAGE;

  if (line[0] == '[')
    {
      char *close = strchr (line, ']');

      if (close != NULL && close[1] == '\0' && close > line + 1)
        {
          g_string_assign (section, "");
          g_string_append_len (section, line + 1, close - line - 1);
          g_strstrip (section->str);
          section->len = strlen (section->str);
          out.kind = SP_YATE_CONF_SECTION;
        }
      out.section = section->str;
      func (&out, user_data);
      return;
    }

  out.section = section->str;
  eq = strchr (line, '=');
  if (eq != NULL && eq != line)
    {
      g_autofree char *key = g_strndup (line, eq - line);
      g_autofree char *value = g_strdup (eq + 1);

      g_strstrip (key);
      g_strstrip (value);
      out.kind = SP_YATE_CONF_KEY_VALUE;
      out.key = key;
      out.value = value;
      func (&out, user_data);
      return;
    }
  func (&out, user_data);
}

gboolean
sp_yate_conf_parse (const char *text, gssize len, SpYateConfFunc func, gpointer user_data,
                    GError **error)
{
  g_autoptr (GString) section = g_string_new ("");
  gsize size = len < 0 ? strlen (text) : (gsize) len;
  gsize pos = 0;
  guint lineno = 0;

  if (size > SP_YATE_CONF_MAX_SIZE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _ ("Configuration is %lu bytes, more than the %d allowed"), (unsigned long) size,
                   SP_YATE_CONF_MAX_SIZE);
      return FALSE;
    }
  if (memchr (text, '\0', size) != NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _ ("Configuration holds a NUL byte: not a text file"));
      return FALSE;
    }
  if (!g_utf8_validate_len (text, size, NULL))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _ ("Configuration is not valid UTF-8 text"));
      return FALSE;
    }

  while (pos < size)
    {
      const char *start = text + pos;
      const char *nl = memchr (start, '\n', size - pos);
      gsize line_len = nl != NULL ? (gsize) (nl - start) : size - pos;

      lineno++;
      pos += line_len + (nl != NULL ? 1 : 0);
      if (line_len > SP_YATE_CONF_MAX_LINE)
        {
          g_autofree char *cut = g_utf8_make_valid (start, 64);
          SpYateConfLine out = {
            .kind = SP_YATE_CONF_GARBAGE,
            .lineno = lineno,
            .section = section->str,
            .text = cut,
          };

          func (&out, user_data);
          continue;
        }
      {
        g_autofree char *line = g_strndup (start, line_len);

        parse_line (line, lineno, section, func, user_data);
      }
    }
  return TRUE;
}

char *
sp_yate_conf_read_file (const char *path, gsize *len, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInputStream) in = NULL;
  g_autofree char *buf = NULL;
  gsize n_read = 0;

  in = g_file_read (file, NULL, error);
  if (in == NULL)
    return NULL;
  /* One byte more than allowed, so an oversize file is told apart from
   * one of exactly the maximum size. */
  buf = g_malloc (SP_YATE_CONF_MAX_SIZE + 2);
  if (!g_input_stream_read_all (G_INPUT_STREAM (in), buf, SP_YATE_CONF_MAX_SIZE + 1, &n_read, NULL,
                                error))
    return NULL;
  if (n_read > SP_YATE_CONF_MAX_SIZE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _ ("%s is larger than %d bytes"),
                   path, SP_YATE_CONF_MAX_SIZE);
      return NULL;
    }
  buf[n_read] = '\0';
  if (len != NULL)
    *len = n_read;
  return g_steal_pointer (&buf);
}
