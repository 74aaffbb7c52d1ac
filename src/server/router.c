#include "server/router.h"

#include "server/yateconf.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "i18n.h"

#define ROUTES_FILE "routes.conf"
/* Longest text a target or parameter value expands to. */
#define MAX_EXPANDED 8192
#define MAX_URI      2048

typedef enum
{
  ACTION_CONTINUE, /* "" or noop: parameters only */
  ACTION_RETURN,
  ACTION_REJECT, /* "-", "error", "error=NAME" */
  ACTION_FORWARD,
  ACTION_OTHER, /* a target for a Yate module we do not have */
} RuleAction;

typedef struct
{
  char *key;
  char *value;
  char *param; /* matched parameter, NULL for "called" */
  char *param_default;
  gboolean negate;
  GRegex *regex;
  RuleAction action;
  guint lineno;
} Rule;

struct _SpRouter
{
  GObject parent_instance;
  SpUserDb *users;
  GPtrArray *rules; /* Rule */
  gboolean extended;
  gboolean insensitive;
};

enum
{
  SIGNAL_CHANGED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

G_DEFINE_TYPE (SpRouter, sp_router, G_TYPE_OBJECT)
G_DEFINE_QUARK (sp - router - error - quark, sp_router_error)

static const struct
{
  const char *name;
  guint status;
} error_map[] = {
  { "busy", 486 },     { "noroute", 404 },    { "forbidden", 403 }, { "offline", 480 },
  { "noanswer", 480 }, { "incomplete", 484 }, { "looping", 483 },   { "timeout", 408 },
  { "noconn", 503 },   { "congestion", 503 }, { "rejected", 603 },  { "failure", 500 },
  { "noauth", 401 },
};

/* Yate target words this router does not implement; a rule using one is
 * refused rather than misread. */
static const char *const unsupported_words[] = {
  "if",       "and",      "or",     "goto",  "jump",     "@goto",  "@jump",  "include",
  "call",     "@include", "@call",  "match", "newmatch", "rename", "retval", "enqueue",
  "dispatch", "echo",     "output", "debug", "msleep",   "{",
};

guint
sp_router_error_to_status (const char *error_name)
{
  for (gsize i = 0; error_name != NULL && i < G_N_ELEMENTS (error_map); i++)
    if (g_ascii_strcasecmp (error_name, error_map[i].name) == 0)
      return error_map[i].status;
  return 500;
}

void
sp_route_free (SpRoute *route)
{
  if (route == NULL)
    return;
  g_free (route->target);
  g_free (route->error);
  g_free (route->reason);
  g_clear_pointer (&route->params, g_hash_table_unref);
  g_free (route);
}

/* --- basic regular expressions ------------------------------------------ */

/* Copies the bracket expression at @p (just after '[') to @out; returns
 * the position after its ']' or NULL when it never closes. POSIX takes
 * backslashes in brackets literally, PCRE does not. */
static const char *
translate_bracket (const char *p, GString *out)
{
  g_string_append_c (out, '[');
  if (*p == '^')
    g_string_append_c (out, *p++);
  if (*p == ']')
    {
      g_string_append (out, "\\]");
      p++;
    }
  while (*p != '\0' && *p != ']')
    {
      if (*p == '[' && (p[1] == ':' || p[1] == '=' || p[1] == '.'))
        {
          char close[3] = { p[1], ']', '\0' };
          const char *end = strstr (p + 2, close);

          if (end == NULL)
            return NULL;
          g_string_append_len (out, p, end + 2 - p);
          p = end + 2;
          continue;
        }
      if (*p == '\\' || *p == '[')
        g_string_append_c (out, '\\');
      g_string_append_c (out, *p++);
    }
  if (*p != ']')
    return NULL;
  g_string_append_c (out, ']');
  return p + 1;
}

/* Appends the meaning of "\c" in a GNU basic regex; returns TRUE when it
 * opens a group or an alternative (so a following '^' anchors). */
static gboolean
translate_escape (char c, GString *out)
{
  switch (c)
    {
      case '(':
      case '|':
        g_string_append_c (out, c);
        return TRUE;
      case ')':
      case '{':
      case '}':
      case '+':
      case '?':
        g_string_append_c (out, c);
        return FALSE;
      case '<':
        g_string_append (out, "\\b(?=\\w)");
        return FALSE;
      case '>':
        g_string_append (out, "\\b(?<=\\w)");
        return FALSE;
      case '`':
        g_string_append (out, "\\A");
        return FALSE;
      case '\'':
        g_string_append (out, "\\z");
        return FALSE;
      default:
        if ((c >= '1' && c <= '9') || strchr ("wWsSbB", c) != NULL)
          g_string_append_c (out, '\\');
        else if (!g_ascii_isalnum (c))
          g_string_append_c (out, '\\');
        g_string_append_c (out, c);
        return FALSE;
    }
}

char *
sp_router_translate_basic_regex (const char *bre, GError **error)
{
  g_autoptr (GString) out = g_string_new (NULL);
  gboolean at_start = TRUE; /* '^' anchors and '*' is literal here */
  const char *p = bre;

  while (*p != '\0')
    {
      char c = *p;

      if (c == '\\')
        {
          if (p[1] == '\0')
            {
              g_set_error (error, SP_ROUTER_ERROR, SP_ROUTER_ERROR_REGEX,
                           _ ("Trailing backslash in \"%s\""), bre);
              return NULL;
            }
          at_start = translate_escape (p[1], out);
          p += 2;
          continue;
        }
      if (c == '[')
        {
          p = translate_bracket (p + 1, out);
          if (p == NULL)
            {
              g_set_error (error, SP_ROUTER_ERROR, SP_ROUTER_ERROR_REGEX,
                           _ ("Unterminated [ in \"%s\""), bre);
              return NULL;
            }
          at_start = FALSE;
          continue;
        }
      p++;
      if (c == '^')
        {
          g_string_append (out, at_start ? "^" : "\\^");
          continue;
        }
      if (c == '$')
        {
          gboolean anchor =
              *p == '\0' || g_str_has_prefix (p, "\\)") || g_str_has_prefix (p, "\\|");

          g_string_append (out, anchor ? "$" : "\\$");
        }
      else if (c == '*')
        g_string_append (out, at_start ? "\\*" : "*");
      else
        {
          if (strchr ("(){}+?|", c) != NULL)
            g_string_append_c (out, '\\');
          g_string_append_c (out, c);
        }
      at_start = FALSE;
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* --- rules ---------------------------------------------------------------- */

static void
rule_free (Rule *rule)
{
  g_free (rule->key);
  g_free (rule->value);
  g_free (rule->param);
  g_free (rule->param_default);
  g_clear_pointer (&rule->regex, g_regex_unref);
  g_free (rule);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Rule, rule_free)

static gboolean
starts_word (const char *text, const char *word)
{
  gsize n = strlen (word);

  return g_ascii_strncasecmp (text, word, n) == 0 && (text[n] == '\0' || g_ascii_isspace (text[n]));
}

static void G_GNUC_PRINTF (3, 4)
    add_warning (GPtrArray *warnings, guint lineno, const char *format, ...)
{
  va_list args;
  g_autofree char *text = NULL;

  if (warnings == NULL)
    return;
  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_ptr_array_add (warnings, lineno > 0 ? g_strdup_printf (_ ("line %u: %s"), lineno, text)
                                        : g_steal_pointer (&text));
}

static gboolean
classify_target (Rule *rule, GPtrArray *warnings, GError **error)
{
  g_autofree char *target = NULL;
  const char *semi = strchr (rule->value, ';');
  g_auto (GStrv) parts = g_strsplit (rule->value, ";", -1);

  target = g_strstrip (
      g_strndup (rule->value, semi != NULL ? (gsize) (semi - rule->value) : strlen (rule->value)));
  for (guint i = 1; parts[i] != NULL; i++)
    if (g_strstrip (parts[i])[0] == '$')
      add_warning (warnings, rule->lineno, _ ("global variable \"%s\" not supported, ignored"),
                   parts[i]);

  for (gsize i = 0; i < G_N_ELEMENTS (unsupported_words); i++)
    if (starts_word (target, unsupported_words[i]))
      {
        g_set_error (error, SP_ROUTER_ERROR, SP_ROUTER_ERROR_UNSUPPORTED,
                     _ ("\"%s\" rules are not supported"), unsupported_words[i]);
        return FALSE;
      }
  if (target[0] == '\0' || starts_word (target, "noop"))
    rule->action = ACTION_CONTINUE;
  else if (starts_word (target, "return"))
    rule->action = ACTION_RETURN;
  else if (strcmp (target, "-") == 0 || g_ascii_strcasecmp (target, "error") == 0 ||
           g_ascii_strncasecmp (target, "error=", 6) == 0)
    rule->action = ACTION_REJECT;
  else if (g_ascii_strncasecmp (target, "sip/", 4) == 0)
    rule->action = ACTION_FORWARD;
  else
    {
      rule->action = ACTION_OTHER;
      add_warning (warnings, rule->lineno,
                   _ ("target \"%s\" is not a SIP server or user: calls it matches get 404"),
                   target);
    }
  return TRUE;
}

/* Splits "${param$default}regex" or "regex" and an inverting final '^'. */
static gboolean
parse_key (Rule *rule, char **regex_text, GError **error)
{
  const char *key = rule->key;
  g_autofree char *regex = NULL;

  if (key[0] == '}' || g_str_has_suffix (rule->value, "{"))
    {
      g_set_error_literal (error, SP_ROUTER_ERROR, SP_ROUTER_ERROR_UNSUPPORTED,
                           _ ("{ } blocks are not supported"));
      return FALSE;
    }
  if (g_str_has_prefix (key, "$("))
    {
      g_set_error_literal (error, SP_ROUTER_ERROR, SP_ROUTER_ERROR_UNSUPPORTED,
                           _ ("$(function) matches are not supported"));
      return FALSE;
    }
  if (g_str_has_prefix (key, "${"))
    {
      const char *close = strchr (key, '}');
      g_autofree char *name = NULL;
      char *dollar;

      if (close == NULL || close - key < 3)
        {
          g_set_error (error, SP_ROUTER_ERROR, SP_ROUTER_ERROR_PARSE,
                       _ ("invalid parameter match \"%s\""), key);
          return FALSE;
        }
      name = g_strndup (key + 2, close - key - 2);
      dollar = strchr (name, '$');
      if (dollar != NULL)
        {
          rule->param_default = g_strdup (dollar + 1);
          *dollar = '\0';
        }
      rule->param = g_strdup (g_strstrip (name));
      regex = g_strstrip (g_strdup (close + 1));
      if (rule->param[0] == '\0' || regex[0] == '\0')
        {
          g_set_error (error, SP_ROUTER_ERROR, SP_ROUTER_ERROR_PARSE,
                       _ ("missing parameter name or regular expression in \"%s\""), key);
          return FALSE;
        }
    }
  else
    regex = g_strdup (key);

  if (g_str_has_suffix (regex, "^") && strlen (regex) > 1)
    {
      rule->negate = TRUE;
      regex[strlen (regex) - 1] = '\0';
    }
  *regex_text = g_steal_pointer (&regex);
  return TRUE;
}

static Rule *
rule_new (const char *key, const char *value, guint lineno, gboolean extended, gboolean insensitive,
          GPtrArray *warnings, GError **error)
{
  g_autoptr (Rule) rule = g_new0 (Rule, 1);
  g_autofree char *regex = NULL;
  g_autofree char *pcre = NULL;
  g_autoptr (GError) local = NULL;
  GRegexCompileFlags flags = G_REGEX_DOLLAR_ENDONLY | (insensitive ? G_REGEX_CASELESS : 0);

  rule->key = g_strdup (key);
  rule->value = g_strdup (value);
  rule->lineno = lineno;
  if (key[0] == '\0')
    {
      g_set_error_literal (error, SP_ROUTER_ERROR, SP_ROUTER_ERROR_PARSE,
                           _ ("a rule needs a regular expression before '='"));
      return NULL;
    }
  if (!parse_key (rule, &regex, error) || !classify_target (rule, warnings, error))
    return NULL;
  pcre = extended ? g_strdup (regex) : sp_router_translate_basic_regex (regex, &local);
  if (pcre != NULL)
    rule->regex = g_regex_new (pcre, flags, 0, &local);
  if (rule->regex == NULL)
    {
      g_set_error (error, SP_ROUTER_ERROR, SP_ROUTER_ERROR_REGEX,
                   _ ("invalid regular expression \"%s\": %s"), regex, local->message);
      return NULL;
    }
  return g_steal_pointer (&rule);
}

/* --- the object ---------------------------------------------------------- */

static void
sp_router_finalize (GObject *object)
{
  SpRouter *router = SP_ROUTER (object);

  g_ptr_array_unref (router->rules);
  g_clear_object (&router->users);
  G_OBJECT_CLASS (sp_router_parent_class)->finalize (object);
}

static void
sp_router_class_init (SpRouterClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sp_router_finalize;
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
sp_router_init (SpRouter *router)
{
  router->rules = g_ptr_array_new_with_free_func ((GDestroyNotify) rule_free);
}

SpRouter *
sp_router_new (SpUserDb *users)
{
  SpRouter *router = g_object_new (SP_TYPE_ROUTER, NULL);

  if (users != NULL)
    router->users = g_object_ref (users);
  return router;
}

static void
emit_changed (SpRouter *router)
{
  g_signal_emit (router, signals[SIGNAL_CHANGED], 0);
}

guint
sp_router_get_n_rules (SpRouter *router)
{
  g_return_val_if_fail (SP_IS_ROUTER (router), 0);
  return router->rules->len;
}

static Rule *
get_rule (SpRouter *router, guint index)
{
  g_return_val_if_fail (SP_IS_ROUTER (router), NULL);
  return index < router->rules->len ? router->rules->pdata[index] : NULL;
}

char *
sp_router_dup_rule (SpRouter *router, guint index)
{
  Rule *rule = get_rule (router, index);

  return rule != NULL ? g_strconcat (rule->key, "=", rule->value, NULL) : NULL;
}

guint
sp_router_get_rule_lineno (SpRouter *router, guint index)
{
  Rule *rule = get_rule (router, index);

  return rule != NULL ? rule->lineno : 0;
}

gboolean
sp_router_get_extended (SpRouter *router)
{
  return router->extended;
}

gboolean
sp_router_get_insensitive (SpRouter *router)
{
  return router->insensitive;
}

gboolean
sp_router_insert_rule (SpRouter *router, int position, const char *line, GError **error)
{
  g_autofree char *key = NULL;
  g_autofree char *value = NULL;
  const char *eq;
  Rule *rule;

  g_return_val_if_fail (SP_IS_ROUTER (router), FALSE);
  if (router->rules->len >= SP_ROUTER_MAX_RULES)
    {
      g_set_error (error, SP_ROUTER_ERROR, SP_ROUTER_ERROR_TOO_MANY, _ ("more than %d rules"),
                   SP_ROUTER_MAX_RULES);
      return FALSE;
    }
  eq = strchr (line, '=');
  if (eq == NULL || strlen (line) > SP_YATE_CONF_MAX_LINE || !g_utf8_validate (line, -1, NULL) ||
      strpbrk (line, "\r\n") != NULL)
    {
      g_set_error_literal (error, SP_ROUTER_ERROR, SP_ROUTER_ERROR_PARSE,
                           _ ("a rule is one line of the form REGEX=TARGET"));
      return FALSE;
    }
  key = g_strstrip (g_strndup (line, eq - line));
  value = g_strstrip (g_strdup (eq + 1));
  rule = rule_new (key, value, 0, router->extended, router->insensitive, NULL, error);
  if (rule == NULL)
    return FALSE;
  if (position < 0 || (guint) position > router->rules->len)
    position = router->rules->len;
  g_ptr_array_insert (router->rules, position, rule);
  emit_changed (router);
  return TRUE;
}

static gboolean
check_index (SpRouter *router, guint index, GError **error)
{
  if (index < router->rules->len)
    return TRUE;
  g_set_error (error, SP_ROUTER_ERROR, SP_ROUTER_ERROR_INDEX, _ ("no rule %u (there are %u)"),
               index, router->rules->len);
  return FALSE;
}

gboolean
sp_router_remove_rule (SpRouter *router, guint index, GError **error)
{
  g_return_val_if_fail (SP_IS_ROUTER (router), FALSE);
  if (!check_index (router, index, error))
    return FALSE;
  g_ptr_array_remove_index (router->rules, index);
  emit_changed (router);
  return TRUE;
}

gboolean
sp_router_move_rule (SpRouter *router, guint from, guint to, GError **error)
{
  gpointer rule;

  g_return_val_if_fail (SP_IS_ROUTER (router), FALSE);
  if (!check_index (router, from, error) || !check_index (router, to, error))
    return FALSE;
  rule = g_ptr_array_steal_index (router->rules, from);
  g_ptr_array_insert (router->rules, to, rule);
  emit_changed (router);
  return TRUE;
}

void
sp_router_clear (SpRouter *router)
{
  g_return_if_fail (SP_IS_ROUTER (router));
  g_ptr_array_set_size (router->rules, 0);
  emit_changed (router);
}

/* --- import, save, load -------------------------------------------------- */

typedef struct
{
  guint lineno;
  char *key;
  char *value;
} RawRule;

static void
raw_rule_free (RawRule *raw)
{
  g_free (raw->key);
  g_free (raw->value);
  g_free (raw);
}

typedef struct
{
  GPtrArray *raw; /* RawRule */
  GPtrArray *warnings;
  GError *error; /* first fatal problem */
  gboolean extended;
  gboolean insensitive;
  GHashTable *warned_sections;
} ImportState;

static gboolean
parse_bool (const char *text)
{
  static const char *const yes[] = { "yes", "true", "on", "enable", "t", "1" };

  for (gsize i = 0; i < G_N_ELEMENTS (yes); i++)
    if (g_ascii_strcasecmp (text, yes[i]) == 0)
      return TRUE;
  return FALSE;
}

static void
import_priorities (ImportState *state, const SpYateConfLine *line)
{
  if (g_ascii_strcasecmp (line->key, "extended") == 0)
    state->extended = parse_bool (line->value);
  else if (g_ascii_strcasecmp (line->key, "insensitive") == 0)
    state->insensitive = parse_bool (line->value);
  else
    add_warning (state->warnings, line->lineno, _ ("[priorities] key \"%s\" ignored"), line->key);
}

static void
import_line (const SpYateConfLine *line, gpointer user_data)
{
  ImportState *state = user_data;
  gboolean in_default = g_ascii_strcasecmp (line->section, "default") == 0;

  if (state->error != NULL)
    return;
  if (line->kind == SP_YATE_CONF_SECTION)
    {
      if (!in_default && g_ascii_strcasecmp (line->section, "priorities") != 0 &&
          g_hash_table_add (state->warned_sections, g_strdup (line->section)))
        add_warning (state->warnings, line->lineno,
                     _ ("section [%s] ignored (only [default] routes calls)"), line->section);
      return;
    }
  if (line->kind == SP_YATE_CONF_GARBAGE)
    {
      if (in_default)
        g_set_error (&state->error, SP_ROUTER_ERROR, SP_ROUTER_ERROR_PARSE,
                     _ ("line %u: not a REGEX=TARGET rule: %s"), line->lineno, line->text);
      else
        add_warning (state->warnings, line->lineno, _ ("not a key=value line, ignored"));
      return;
    }
  if (in_default)
    {
      RawRule *raw = g_new0 (RawRule, 1);

      raw->lineno = line->lineno;
      raw->key = g_strdup (line->key);
      raw->value = g_strdup (line->value);
      g_ptr_array_add (state->raw, raw);
    }
  else if (g_ascii_strcasecmp (line->section, "priorities") == 0)
    import_priorities (state, line);
  else if (line->section[0] == '\0')
    add_warning (state->warnings, line->lineno, _ ("\"%s\" outside any section ignored"),
                 line->key);
}

gboolean
sp_router_import (SpRouter *router, const char *text, gssize len, GPtrArray **warnings,
                  GError **error)
{
  g_autoptr (GPtrArray) raw = g_ptr_array_new_with_free_func ((GDestroyNotify) raw_rule_free);
  g_autoptr (GPtrArray) warns = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) rules = g_ptr_array_new_with_free_func ((GDestroyNotify) rule_free);
  g_autoptr (GHashTable) sections = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  ImportState state = { raw, warns, NULL, FALSE, FALSE, sections };

  g_return_val_if_fail (SP_IS_ROUTER (router), FALSE);
  if (!sp_yate_conf_parse (text, len, import_line, &state, error))
    return FALSE;
  if (state.error != NULL)
    {
      g_propagate_error (error, state.error);
      return FALSE;
    }
  if (raw->len > SP_ROUTER_MAX_RULES)
    {
      g_set_error (error, SP_ROUTER_ERROR, SP_ROUTER_ERROR_TOO_MANY, _ ("more than %d rules"),
                   SP_ROUTER_MAX_RULES);
      return FALSE;
    }
  for (guint i = 0; i < raw->len; i++)
    {
      RawRule *r = raw->pdata[i];
      Rule *rule =
          rule_new (r->key, r->value, r->lineno, state.extended, state.insensitive, warns, error);

      if (rule == NULL)
        {
          g_prefix_error (error, _ ("line %u: "), r->lineno);
          return FALSE;
        }
      g_ptr_array_add (rules, rule);
    }

  g_ptr_array_unref (router->rules);
  router->rules = g_steal_pointer (&rules);
  router->extended = state.extended;
  router->insensitive = state.insensitive;
  if (warnings != NULL)
    *warnings = g_steal_pointer (&warns);
  emit_changed (router);
  return TRUE;
}

gboolean
sp_router_import_path (SpRouter *router, const char *path, GPtrArray **warnings, GError **error)
{
  g_autofree char *text = NULL;
  gsize len = 0;

  text = sp_yate_conf_read_file (path, &len, error);
  if (text == NULL)
    return FALSE;
  if (!sp_router_import (router, text, len, warnings, error))
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  return TRUE;
}

gboolean
sp_router_save (SpRouter *router, const char *config_dir, GError **error)
{
  g_autoptr (GString) out = g_string_new ("; Softphone call routes, Yate regexroute.conf syntax\n");
  g_autofree char *path = NULL;

  g_return_val_if_fail (SP_IS_ROUTER (router), FALSE);
  if (g_mkdir_with_parents (config_dir, 0700) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), _ ("Cannot create %s: %s"),
                   config_dir, g_strerror (saved));
      return FALSE;
    }
  if (router->extended || router->insensitive)
    g_string_append_printf (out, "[priorities]\nextended=%s\ninsensitive=%s\n\n",
                            router->extended ? "yes" : "no", router->insensitive ? "yes" : "no");
  g_string_append (out, "[default]\n");
  for (guint i = 0; i < router->rules->len; i++)
    {
      Rule *rule = router->rules->pdata[i];

      g_string_append_printf (out, "%s=%s\n", rule->key, rule->value);
    }
  path = g_build_filename (config_dir, ROUTES_FILE, NULL);
  return g_file_set_contents_full (path, out->str, out->len, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                   error);
}

gboolean
sp_router_load (SpRouter *router, const char *config_dir, GError **error)
{
  g_autofree char *path = g_build_filename (config_dir, ROUTES_FILE, NULL);

  g_return_val_if_fail (SP_IS_ROUTER (router), FALSE);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      router->extended = router->insensitive = FALSE;
      sp_router_clear (router);
      return TRUE;
    }
  return sp_router_import_path (router, path, NULL, error);
}

/* --- routing ------------------------------------------------------------- */

gboolean
sp_router_number_is_valid (const char *number)
{
  for (const guchar *p = (const guchar *) number; *p != '\0'; p++)
    if (*p < 0x80 && !g_ascii_isalnum (*p) && strchr ("-_.!~*'()+#&=$/", *p) == NULL)
      return FALSE;
  return TRUE;
}

static const char *
param_value (GHashTable *params, const char *name)
{
  const char *value = g_hash_table_lookup (params, name);

  return value != NULL ? value : "";
}

/* Characters a substituted value keeps as they are inside a forwarded
 * URI: RFC 3261 "unreserved" plus the user-unreserved ones that cannot
 * end the user part or start a parameter or header. Everything else
 * (';', '?', '@', ':', '>', ',', '%', spaces, ...) is %-escaped. */
static gboolean
uri_user_safe (guchar c)
{
  return g_ascii_isalnum (c) || strchr ("-_.!~*'()&=+$/", c) != NULL;
}

static void
append_value (GString *out, const char *value, gboolean uri_escape)
{
  if (!uri_escape)
    {
      g_string_append (out, value);
      return;
    }
  for (const guchar *p = (const guchar *) value; *p != '\0'; p++)
    {
      if (uri_user_safe (*p))
        g_string_append_c (out, (char) *p);
      else
        g_string_append_printf (out, "%%%02X", *p);
    }
}

/* Replaces \0..\9 (captures of @info, empty when NULL), "\\" and
 * ${name} in @template. What is substituted is data: with @uri_escape
 * (a forward target) it is escaped for a URI's user part, so a dialled
 * "2;maddr=x" or "2@evil" cannot change where the call goes. */
static char *
expand (const char *template, GMatchInfo *info, GHashTable *params, gboolean uri_escape)
{
  g_autoptr (GString) out = g_string_new (NULL);
  const char *p = template;

  while (*p != '\0' && out->len < MAX_EXPANDED)
    {
      if (p[0] == '\\' && g_ascii_isdigit (p[1]))
        {
          g_autofree char *group = info != NULL ? g_match_info_fetch (info, p[1] - '0') : NULL;

          if (group != NULL)
            append_value (out, group, uri_escape);
          p += 2;
        }
      else if (p[0] == '\\' && p[1] == '\\')
        {
          g_string_append_c (out, '\\');
          p += 2;
        }
      else if (p[0] == '$' && p[1] == '{' && strchr (p + 2, '}') != NULL)
        {
          const char *close = strchr (p + 2, '}');
          g_autofree char *name = g_strndup (p + 2, close - p - 2);

          append_value (out, param_value (params, g_strstrip (name)), uri_escape);
          p = close + 1;
        }
      else
        g_string_append_c (out, *p++);
    }
  if (out->len > MAX_EXPANDED)
    g_string_truncate (out, MAX_EXPANDED);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Sets "name=value" (or clears "name") for each part of the rule's own
 * text, split before anything was substituted: only values are
 * expanded, so text from the call can never add a parameter of its own
 * (a dialled "2;username=x" used to set "username"). All values are
 * expanded before any is set, as when the whole target was expanded
 * first. A first part of "error=NAME" counts as a parameter too. */
static void
apply_assignments (char **parts, GMatchInfo *info, GHashTable *params)
{
  guint n = g_strv_length (parts);
  g_autoptr (GPtrArray) values = g_ptr_array_new_full (n, g_free);

  for (guint i = 0; i < n; i++)
    {
      char *eq = strchr (parts[i], '=');

      g_ptr_array_add (values,
                       eq != NULL ? g_strstrip (expand (eq + 1, info, params, FALSE)) : NULL);
    }
  for (guint i = 0; i < n; i++)
    {
      char *part = parts[i];
      char *eq = strchr (part, '=');

      if (eq != NULL)
        *eq = '\0';
      g_strstrip (part);
      if (part[0] == '\0' || part[0] == '$')
        continue;
      if (eq == NULL)
        g_hash_table_remove (params, part);
      else
        g_hash_table_replace (params, g_strdup (part), g_steal_pointer (&values->pdata[i]));
    }
}

static gboolean
valid_forward_uri (const char *uri)
{
  gsize len = strlen (uri);

  if (len > MAX_URI ||
      (g_ascii_strncasecmp (uri, "sip:", 4) != 0 && g_ascii_strncasecmp (uri, "sips:", 5) != 0))
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if ((guchar) uri[i] <= ' ' || uri[i] == 0x7f || strchr ("<>\"", uri[i]) != NULL)
      return FALSE;
  /* Something after the scheme, and no empty host ("sip:1@"). */
  return strchr (uri, ':')[1] != '\0' && !g_str_has_suffix (uri, "@");
}

static SpRoute *
route_new (SpRouteKind kind, int rule, GHashTable *params)
{
  SpRoute *route = g_new0 (SpRoute, 1);

  route->kind = kind;
  route->rule = rule;
  route->params = g_hash_table_ref (params);
  return route;
}

static SpRoute *
route_no_route (int rule, GHashTable *params)
{
  SpRoute *route = route_new (SP_ROUTE_NO_ROUTE, rule, params);

  route->status = 404;
  route->error = g_strdup ("noroute");
  return route;
}

/* "return" or no rule left: the user "called" names by name or number. */
static SpRoute *
route_to_user (SpRouter *router, int rule, GHashTable *params)
{
  const char *called = param_value (params, "called");
  SpUser *user = router->users != NULL ? sp_user_db_lookup_target (router->users, called) : NULL;
  SpRoute *route;

  if (user == NULL)
    return route_no_route (rule, params);
  route = route_new (SP_ROUTE_LOCAL, rule, params);
  route->target = g_strdup (sp_user_get_name (user));
  return route;
}

static SpRoute *
route_reject (int rule, GHashTable *params)
{
  const char *name = g_hash_table_lookup (params, "error");
  SpRoute *route;

  if (name == NULL || name[0] == '\0')
    name = "noroute";
  route =
      route_new (g_ascii_strcasecmp (name, "noauth") == 0 ? SP_ROUTE_CHALLENGE : SP_ROUTE_REJECT,
                 rule, params);
  route->error = g_strdup (name);
  route->status = sp_router_error_to_status (name);
  return route;
}

/* Runs rule @index; returns a route when it decides, NULL to go on. */
static SpRoute *
run_rule (SpRouter *router, guint index, const char *called, GHashTable *params)
{
  Rule *rule = router->rules->pdata[index];
  g_autoptr (GMatchInfo) info = NULL;
  g_autofree char *subject = NULL;
  g_autofree char *expanded = NULL;
  g_auto (GStrv) parts = NULL;
  const char *text = called;
  gboolean matched;

  if (rule->param != NULL)
    {
      text = g_hash_table_lookup (params, rule->param);
      if (text == NULL)
        text = rule->param_default != NULL ? rule->param_default : "";
    }
  subject = g_strstrip (g_strdup (text));
  matched = g_regex_match (rule->regex, subject, 0, &info);
  if (matched == rule->negate)
    return NULL;

  if (rule->negate)
    g_clear_pointer (&info, g_match_info_free);
  /* Split on the rule's own ';' before substituting anything. */
  parts = g_strsplit (rule->value, ";", -1);
  if (rule->action == ACTION_FORWARD)
    expanded = expand (parts[0], info, params, TRUE);
  if (rule->action == ACTION_REJECT && strchr (parts[0], '=') != NULL)
    apply_assignments (parts, info, params);
  else
    apply_assignments (parts + 1, info, params);

  switch (rule->action)
    {
      case ACTION_CONTINUE:
        return NULL;
      case ACTION_RETURN:
        return route_to_user (router, index, params);
      case ACTION_REJECT:
        return route_reject (index, params);
      case ACTION_FORWARD:
        {
          char *uri = g_strstrip (expanded) + 4;
          SpRoute *route;

          if (!valid_forward_uri (uri))
            return route_no_route (index, params);
          route = route_new (SP_ROUTE_FORWARD, index, params);
          route->target = g_strdup (uri);
          return route;
        }
      case ACTION_OTHER:
      default:
        return route_no_route (index, params);
    }
}

SpRoute *
sp_router_route (SpRouter *router, GHashTable *in_params)
{
  g_autoptr (GHashTable) params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autofree char *called = NULL;
  GHashTableIter iter;
  gpointer key, value;

  g_return_val_if_fail (SP_IS_ROUTER (router), NULL);
  /* GRegex wants UTF-8; SIP user parts can be anything once unescaped. */
  g_hash_table_iter_init (&iter, in_params);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_hash_table_replace (params, g_utf8_make_valid (key, -1),
                          g_utf8_make_valid (value != NULL ? value : "", -1));

  called = g_strstrip (g_strdup (param_value (params, "called")));
  if (called[0] == '\0')
    return route_no_route (-1, params);
  if (!sp_router_number_is_valid (called))
    {
      /* A separator in a number is an attempt to smuggle URI or route
       * parameters (a "%3B" decodes to ';'): no rule sees it. */
      SpRoute *route = route_no_route (-1, params);

      route->reason = g_strdup ("Invalid character in number");
      return route;
    }
  for (guint i = 0; i < router->rules->len; i++)
    {
      SpRoute *route = run_rule (router, i, called, params);

      if (route != NULL)
        return route;
    }
  return route_to_user (router, -1, params);
}

SpRoute *
sp_router_route_call (SpRouter *router, const char *called, const char *caller,
                      const char *username, const char *address)
{
  g_autoptr (GHashTable) params = g_hash_table_new (g_str_hash, g_str_equal);

  g_hash_table_insert (params, "called", (char *) (called != NULL ? called : ""));
  g_hash_table_insert (params, "caller", (char *) (caller != NULL ? caller : ""));
  g_hash_table_insert (params, "username", (char *) (username != NULL ? username : ""));
  g_hash_table_insert (params, "address", (char *) (address != NULL ? address : ""));
  return sp_router_route (router, params);
}
