#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A reader for Yate's .conf files (regfile.conf, regexroute.conf):
 * "[section]" lines, "key=value" lines split at the first '=', both sides
 * trimmed, ";" and "#" comment lines. Values are raw text: no escapes,
 * no inline comments (";" separates parameters in regexroute targets). */

#define SP_YATE_CONF_MAX_SIZE (1024 * 1024)
#define SP_YATE_CONF_MAX_LINE 4096

typedef enum
{
  SP_YATE_CONF_SECTION,
  SP_YATE_CONF_KEY_VALUE,
  /* A line that is neither: no '=', an empty key, an unclosed '[', or
   * longer than SP_YATE_CONF_MAX_LINE. */
  SP_YATE_CONF_GARBAGE,
} SpYateConfLineKind;

typedef struct
{
  SpYateConfLineKind kind;
  guint lineno;
  /* The current section ("" before the first one). */
  const char *section;
  const char *key;   /* KEY_VALUE only */
  const char *value; /* KEY_VALUE only */
  const char *text;  /* the whole trimmed line (possibly cut short) */
} SpYateConfLine;

typedef void (*SpYateConfFunc) (const SpYateConfLine *line, gpointer user_data);

/* Calls @func for every line that is not blank or a comment. Fails
 * (calling nothing) when @text is over SP_YATE_CONF_MAX_SIZE, holds a NUL
 * or is not UTF-8. @len -1: NUL-terminated. */
gboolean sp_yate_conf_parse (const char *text, gssize len, SpYateConfFunc func, gpointer user_data,
                             GError **error);

/* Reads @path (bounded by SP_YATE_CONF_MAX_SIZE) into a new string. */
char *sp_yate_conf_read_file (const char *path, gsize *len, GError **error);

G_END_DECLS
