#include "server/userdb.h"

#include "server/yateconf.h"
#include "sip/digest.h"

#include <gio/gio.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "i18n.h"

#define USERS_FILE     "users.conf"
#define GROUP_META     "softphone-users"
#define GROUP_PREFIX   "user:"
#define FORMAT_VERSION 1

struct _SpUser
{
  gatomicrefcount ref;
  char *name;
  char *number;
  char *realm;
  char *ha1[2]; /* indexed by SpUserHa1Kind */
};

struct _SpUserDb
{
  GObject parent_instance;
  char *realm;
  GHashTable *by_name;   /* name -> SpUser (owned) */
  GHashTable *by_number; /* number -> SpUser (borrowed from by_name) */
};

enum
{
  SIGNAL_CHANGED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

G_DEFINE_TYPE (SpUserDb, sp_user_db, G_TYPE_OBJECT)
G_DEFINE_QUARK (sp - user - db - error - quark, sp_user_db_error)

/* The one place HA1 is computed: the SIP layer's digest helper, so the
 * registrar checks against exactly what was stored. */
static char *
compute_ha1 (SpUserHa1Kind kind, const char *user, const char *realm, const char *password)
{
  return sp_digest_compute_ha1 (kind == SP_USER_HA1_SHA256 ? SP_DIGEST_ALGORITHM_SHA256
                                                           : SP_DIGEST_ALGORITHM_MD5,
                                user, realm, password);
}

/* --- SpUser ------------------------------------------------------------ */

static SpUser *
user_new (const char *name, const char *number, const char *realm, char *ha1_md5, char *ha1_sha256)
{
  SpUser *user = g_new0 (SpUser, 1);

  g_atomic_ref_count_init (&user->ref);
  user->name = g_strdup (name);
  user->number = number != NULL && number[0] != '\0' ? g_strdup (number) : NULL;
  user->realm = g_strdup (realm);
  user->ha1[SP_USER_HA1_MD5] = ha1_md5;
  user->ha1[SP_USER_HA1_SHA256] = ha1_sha256;
  return user;
}

static SpUser *
user_new_with_password (const char *name, const char *number, const char *realm,
                        const char *password)
{
  return user_new (name, number, realm, compute_ha1 (SP_USER_HA1_MD5, name, realm, password),
                   compute_ha1 (SP_USER_HA1_SHA256, name, realm, password));
}

SpUser *
sp_user_ref (SpUser *user)
{
  g_return_val_if_fail (user != NULL, NULL);
  g_atomic_ref_count_inc (&user->ref);
  return user;
}

void
sp_user_unref (SpUser *user)
{
  if (user == NULL || !g_atomic_ref_count_dec (&user->ref))
    return;
  g_free (user->name);
  g_free (user->number);
  g_free (user->realm);
  g_free (user->ha1[0]);
  g_free (user->ha1[1]);
  g_free (user);
}

const char *
sp_user_get_name (const SpUser *user)
{
  return user->name;
}

const char *
sp_user_get_number (const SpUser *user)
{
  return user->number;
}

const char *
sp_user_get_realm (const SpUser *user)
{
  return user->realm;
}

const char *
sp_user_get_ha1 (const SpUser *user, SpUserHa1Kind kind)
{
  g_return_val_if_fail (kind == SP_USER_HA1_MD5 || kind == SP_USER_HA1_SHA256, NULL);
  return user->ha1[kind];
}

/* --- validation ---------------------------------------------------------- */

/* RFC 3261 user part characters without escapes (unreserved and
 * user-unreserved), which also keeps names safe as key file groups, URI
 * users and HTML/JSON text. */
static gboolean
valid_name (const char *name, GError **error)
{
  gsize len = name != NULL ? strlen (name) : 0;

  if (len == 0 || len > SP_USER_NAME_MAX)
    {
      g_set_error (error, SP_USER_DB_ERROR, SP_USER_DB_ERROR_INVALID_NAME,
                   _ ("A user name must have 1 to %d characters"), SP_USER_NAME_MAX);
      return FALSE;
    }
  for (gsize i = 0; i < len; i++)
    {
      char c = name[i];

      if (!g_ascii_isalnum (c) && strchr ("-_.!~*'()&=+$,;?/", c) == NULL)
        {
          g_set_error (error, SP_USER_DB_ERROR, SP_USER_DB_ERROR_INVALID_NAME,
                       _ ("User name \"%s\" has a character not allowed in a SIP user name"),
                       g_utf8_validate (name, -1, NULL) ? name : "?");
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
valid_number (const char *number, GError **error)
{
  gsize len = strlen (number);

  if (len == 0 || len > SP_USER_NUMBER_MAX || strspn (number, "0123456789*#+") != len)
    {
      g_set_error (error, SP_USER_DB_ERROR, SP_USER_DB_ERROR_INVALID_NUMBER,
                   _ ("A number must have 1 to %d digits (0-9, *, # or +)"), SP_USER_NUMBER_MAX);
      return FALSE;
    }
  return TRUE;
}

static gboolean
valid_password (const char *password, GError **error)
{
  gsize len = password != NULL ? strlen (password) : 0;

  if (len == 0 || len > SP_USER_PASSWORD_MAX || !g_utf8_validate (password, len, NULL))
    {
      g_set_error (error, SP_USER_DB_ERROR, SP_USER_DB_ERROR_INVALID_PASSWORD,
                   _ ("A password must be UTF-8 text of 1 to %d bytes"), SP_USER_PASSWORD_MAX);
      return FALSE;
    }
  return TRUE;
}

static gboolean
valid_ha1 (const char *hex, gsize want_len)
{
  return hex != NULL && strlen (hex) == want_len && strspn (hex, "0123456789abcdef") == want_len;
}

/* --- SpUserDb ------------------------------------------------------------ */

static void
sp_user_db_finalize (GObject *object)
{
  SpUserDb *db = SP_USER_DB (object);

  g_hash_table_unref (db->by_number);
  g_hash_table_unref (db->by_name);
  g_free (db->realm);
  G_OBJECT_CLASS (sp_user_db_parent_class)->finalize (object);
}

static void
sp_user_db_class_init (SpUserDbClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sp_user_db_finalize;
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
sp_user_db_init (SpUserDb *db)
{
  db->by_name =
      g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) sp_user_unref);
  db->by_number = g_hash_table_new (g_str_hash, g_str_equal);
}

SpUserDb *
sp_user_db_new (const char *realm)
{
  SpUserDb *db;

  g_return_val_if_fail (realm != NULL, NULL);
  db = g_object_new (SP_TYPE_USER_DB, NULL);
  db->realm = g_strdup (realm);
  return db;
}

static void
emit_changed (SpUserDb *db)
{
  g_signal_emit (db, signals[SIGNAL_CHANGED], 0);
}

const char *
sp_user_db_get_realm (SpUserDb *db)
{
  g_return_val_if_fail (SP_IS_USER_DB (db), NULL);
  return db->realm;
}

void
sp_user_db_set_realm (SpUserDb *db, const char *realm)
{
  g_return_if_fail (SP_IS_USER_DB (db));
  g_return_if_fail (realm != NULL);
  if (g_strcmp0 (db->realm, realm) == 0)
    return;
  g_free (db->realm);
  db->realm = g_strdup (realm);
  emit_changed (db);
}

gboolean
sp_user_db_needs_password (SpUserDb *db, const SpUser *user)
{
  return g_strcmp0 (user->realm, db->realm) != 0;
}

/* Puts @user in the tables, replacing the entry of the same name. */
static void
insert_user (SpUserDb *db, SpUser *user)
{
  SpUser *old = g_hash_table_lookup (db->by_name, user->name);

  if (old != NULL && old->number != NULL)
    g_hash_table_remove (db->by_number, old->number);
  g_hash_table_replace (db->by_name, user->name, user);
  if (user->number != NULL)
    g_hash_table_replace (db->by_number, user->number, user);
}

/* A name and a number must not mean two different users. */
static gboolean
check_number_free (SpUserDb *db, const char *number, const char *owner, GError **error)
{
  SpUser *holder = g_hash_table_lookup (db->by_number, number);
  SpUser *named = g_hash_table_lookup (db->by_name, number);

  if ((holder != NULL && g_strcmp0 (holder->name, owner) != 0) ||
      (named != NULL && g_strcmp0 (named->name, owner) != 0))
    {
      g_set_error (error, SP_USER_DB_ERROR, SP_USER_DB_ERROR_NUMBER_TAKEN,
                   _ ("Number %s already belongs to user %s"), number,
                   holder != NULL ? holder->name : named->name);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_new_name (SpUserDb *db, const char *name, GError **error)
{
  SpUser *holder;

  if (!valid_name (name, error))
    return FALSE;
  if (g_hash_table_contains (db->by_name, name))
    {
      g_set_error (error, SP_USER_DB_ERROR, SP_USER_DB_ERROR_EXISTS, _ ("User %s already exists"),
                   name);
      return FALSE;
    }
  holder = g_hash_table_lookup (db->by_number, name);
  if (holder != NULL)
    {
      g_set_error (error, SP_USER_DB_ERROR, SP_USER_DB_ERROR_NUMBER_TAKEN,
                   _ ("%s is already the number of user %s"), name, holder->name);
      return FALSE;
    }
  return TRUE;
}

gboolean
sp_user_db_add (SpUserDb *db, const char *name, const char *number, const char *password,
                GError **error)
{
  g_return_val_if_fail (SP_IS_USER_DB (db), FALSE);

  if (number != NULL && number[0] == '\0')
    number = NULL;
  if (!check_new_name (db, name, error) || !valid_password (password, error))
    return FALSE;
  if (number != NULL &&
      (!valid_number (number, error) || !check_number_free (db, number, name, error)))
    return FALSE;
  if (number != NULL && g_strcmp0 (number, name) == 0)
    number = NULL;
  insert_user (db, user_new_with_password (name, number, db->realm, password));
  emit_changed (db);
  return TRUE;
}

static SpUser *
lookup_or_error (SpUserDb *db, const char *name, GError **error)
{
  SpUser *user = name != NULL ? g_hash_table_lookup (db->by_name, name) : NULL;

  if (user == NULL)
    g_set_error (error, SP_USER_DB_ERROR, SP_USER_DB_ERROR_NOT_FOUND, _ ("No user named %s"),
                 name != NULL && g_utf8_validate (name, -1, NULL) ? name : "?");
  return user;
}

gboolean
sp_user_db_remove (SpUserDb *db, const char *name, GError **error)
{
  SpUser *user;

  g_return_val_if_fail (SP_IS_USER_DB (db), FALSE);
  user = lookup_or_error (db, name, error);
  if (user == NULL)
    return FALSE;
  if (user->number != NULL)
    g_hash_table_remove (db->by_number, user->number);
  g_hash_table_remove (db->by_name, name);
  emit_changed (db);
  return TRUE;
}

gboolean
sp_user_db_set_password (SpUserDb *db, const char *name, const char *password, GError **error)
{
  SpUser *user;

  g_return_val_if_fail (SP_IS_USER_DB (db), FALSE);
  user = lookup_or_error (db, name, error);
  if (user == NULL || !valid_password (password, error))
    return FALSE;
  insert_user (db, user_new_with_password (user->name, user->number, db->realm, password));
  emit_changed (db);
  return TRUE;
}

gboolean
sp_user_db_set_number (SpUserDb *db, const char *name, const char *number, GError **error)
{
  SpUser *user;

  g_return_val_if_fail (SP_IS_USER_DB (db), FALSE);
  user = lookup_or_error (db, name, error);
  if (user == NULL)
    return FALSE;
  if (number != NULL && number[0] == '\0')
    number = NULL;
  if (number != NULL &&
      (!valid_number (number, error) || !check_number_free (db, number, name, error)))
    return FALSE;
  insert_user (db, user_new (user->name, number, user->realm, g_strdup (user->ha1[0]),
                             g_strdup (user->ha1[1])));
  emit_changed (db);
  return TRUE;
}

SpUser *
sp_user_db_lookup (SpUserDb *db, const char *name)
{
  g_return_val_if_fail (SP_IS_USER_DB (db), NULL);
  return name != NULL ? g_hash_table_lookup (db->by_name, name) : NULL;
}

SpUser *
sp_user_db_lookup_number (SpUserDb *db, const char *number)
{
  g_return_val_if_fail (SP_IS_USER_DB (db), NULL);
  return number != NULL ? g_hash_table_lookup (db->by_number, number) : NULL;
}

SpUser *
sp_user_db_lookup_target (SpUserDb *db, const char *name_or_number)
{
  SpUser *user = sp_user_db_lookup (db, name_or_number);

  return user != NULL ? user : sp_user_db_lookup_number (db, name_or_number);
}

const char *
sp_user_db_get_ha1 (SpUserDb *db, const char *name, SpUserHa1Kind kind)
{
  SpUser *user = sp_user_db_lookup (db, name);

  if (user == NULL || sp_user_db_needs_password (db, user))
    return NULL;
  return sp_user_get_ha1 (user, kind);
}

guint
sp_user_db_get_n_users (SpUserDb *db)
{
  g_return_val_if_fail (SP_IS_USER_DB (db), 0);
  return g_hash_table_size (db->by_name);
}

static int
compare_users (gconstpointer a, gconstpointer b)
{
  const SpUser *ua = *(SpUser *const *) a;
  const SpUser *ub = *(SpUser *const *) b;

  return strcmp (ua->name, ub->name);
}

GPtrArray *
sp_user_db_list (SpUserDb *db)
{
  GPtrArray *list;
  GHashTableIter iter;
  gpointer value;

  g_return_val_if_fail (SP_IS_USER_DB (db), NULL);
  list = g_ptr_array_new_full (g_hash_table_size (db->by_name), (GDestroyNotify) sp_user_unref);
  g_hash_table_iter_init (&iter, db->by_name);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (list, sp_user_ref (value));
  g_ptr_array_sort (list, compare_users);
  return list;
}

/* --- persistence --------------------------------------------------------- */

gboolean
sp_user_db_save (SpUserDb *db, const char *config_dir, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GPtrArray) list = NULL;
  g_autofree char *path = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;

  g_return_val_if_fail (SP_IS_USER_DB (db), FALSE);
  if (g_mkdir_with_parents (config_dir, 0700) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), _ ("Cannot create %s: %s"),
                   config_dir, g_strerror (saved));
      return FALSE;
    }
  g_key_file_set_integer (kf, GROUP_META, "version", FORMAT_VERSION);
  g_key_file_set_string (kf, GROUP_META, "realm", db->realm);
  list = sp_user_db_list (db);
  for (guint i = 0; i < list->len; i++)
    {
      SpUser *user = list->pdata[i];
      g_autofree char *group = g_strconcat (GROUP_PREFIX, user->name, NULL);

      if (user->number != NULL)
        g_key_file_set_string (kf, group, "number", user->number);
      g_key_file_set_string (kf, group, "realm", user->realm);
      g_key_file_set_string (kf, group, "ha1-md5", user->ha1[SP_USER_HA1_MD5]);
      g_key_file_set_string (kf, group, "ha1-sha256", user->ha1[SP_USER_HA1_SHA256]);
    }
  data = g_key_file_to_data (kf, &len, NULL);
  path = g_build_filename (config_dir, USERS_FILE, NULL);
  return g_file_set_contents_full (path, data, len, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

static SpUser *
load_user (GKeyFile *kf, const char *group, GError **error)
{
  const char *name = group + strlen (GROUP_PREFIX);
  g_autofree char *number = g_key_file_get_string (kf, group, "number", NULL);
  g_autofree char *realm = g_key_file_get_string (kf, group, "realm", NULL);
  g_autofree char *md5 = g_key_file_get_string (kf, group, "ha1-md5", NULL);
  g_autofree char *sha = g_key_file_get_string (kf, group, "ha1-sha256", NULL);

  if (!valid_name (name, error) || (number != NULL && !valid_number (number, error)))
    return NULL;
  if (realm == NULL || !valid_ha1 (md5, 32) || !valid_ha1 (sha, 64))
    {
      g_set_error (error, SP_USER_DB_ERROR, SP_USER_DB_ERROR_PARSE,
                   _ ("User %s has no realm or no valid HA1 values"), name);
      return NULL;
    }
  return user_new (name, number, realm, g_steal_pointer (&md5), g_steal_pointer (&sha));
}

gboolean
sp_user_db_load (SpUserDb *db, const char *config_dir, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  g_autoptr (GHashTable) by_name = NULL;
  g_autoptr (GHashTable) by_number = NULL;
  g_autofree char *path = NULL;
  g_auto (GStrv) groups = NULL;

  g_return_val_if_fail (SP_IS_USER_DB (db), FALSE);
  path = g_build_filename (config_dir, USERS_FILE, NULL);
  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &local))
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          g_hash_table_remove_all (db->by_number);
          g_hash_table_remove_all (db->by_name);
          emit_changed (db);
          return TRUE;
        }
      g_propagate_prefixed_error (error, g_steal_pointer (&local), "%s: ", path);
      return FALSE;
    }

  /* Load into new tables and swap, so a bad file changes nothing. */
  by_name = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) sp_user_unref);
  by_number = g_hash_table_new (g_str_hash, g_str_equal);
  groups = g_key_file_get_groups (kf, NULL);
  for (guint i = 0; groups[i] != NULL; i++)
    {
      SpUser *user;

      if (!g_str_has_prefix (groups[i], GROUP_PREFIX))
        continue;
      user = load_user (kf, groups[i], error);
      if (user == NULL)
        {
          g_prefix_error (error, "%s: ", path);
          return FALSE;
        }
      if (user->number != NULL && g_hash_table_contains (by_number, user->number))
        {
          g_set_error (error, SP_USER_DB_ERROR, SP_USER_DB_ERROR_PARSE,
                       _ ("%s: number %s is given to two users"), path, user->number);
          sp_user_unref (user);
          return FALSE;
        }
      g_hash_table_replace (by_name, user->name, user);
      if (user->number != NULL)
        g_hash_table_replace (by_number, user->number, user);
    }

  g_hash_table_unref (db->by_number);
  g_hash_table_unref (db->by_name);
  db->by_name = g_steal_pointer (&by_name);
  db->by_number = g_steal_pointer (&by_number);
  emit_changed (db);
  return TRUE;
}

/* --- Yate regfile.conf import -------------------------------------------- */

typedef struct
{
  char *name;
  char *password;
  guint lineno;
  gboolean skip; /* already warned about */
} ImportEntry;

static void
import_entry_free (ImportEntry *entry)
{
  g_free (entry->name);
  if (entry->password != NULL)
    memset (entry->password, 0, strlen (entry->password));
  g_free (entry->password);
  g_free (entry);
}

typedef struct
{
  GPtrArray *entries; /* ImportEntry, in file order */
  GPtrArray *warnings;
  ImportEntry *current; /* NULL in [general] or an ignored section */
} ImportState;

static void G_GNUC_PRINTF (3, 4) warn (ImportState *state, guint lineno, const char *format, ...)
{
  va_list args;
  g_autofree char *text = NULL;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_ptr_array_add (state->warnings, g_strdup_printf (_ ("line %u: %s"), lineno, text));
}

static void
import_section (ImportState *state, const SpYateConfLine *line)
{
  state->current = NULL;
  if (g_ascii_strcasecmp (line->section, "general") == 0)
    {
      warn (state, line->lineno, _ ("section [general] ignored (Yate module settings)"));
      return;
    }
  state->current = g_new0 (ImportEntry, 1);
  state->current->name = g_strdup (line->section);
  state->current->lineno = line->lineno;
  g_ptr_array_add (state->entries, state->current);
}

static void
import_line (const SpYateConfLine *line, gpointer user_data)
{
  ImportState *state = user_data;

  switch (line->kind)
    {
      case SP_YATE_CONF_SECTION:
        import_section (state, line);
        break;
      case SP_YATE_CONF_GARBAGE:
        warn (state, line->lineno, _ ("not a [section] or key=value line, ignored"));
        break;
      case SP_YATE_CONF_KEY_VALUE:
        if (state->current == NULL)
          {
            if (line->section[0] == '\0')
              warn (state, line->lineno, _ ("key \"%s\" outside any [user] section ignored"),
                    line->key);
            else
              warn (state, line->lineno, _ ("key \"%s\" of section [%s] ignored"), line->key,
                    line->section);
          }
        else if (g_ascii_strcasecmp (line->key, "password") == 0)
          {
            g_free (state->current->password);
            state->current->password = g_strdup (line->value);
          }
        else
          warn (state, line->lineno, _ ("unknown key \"%s\" of user %s ignored"), line->key,
                state->current->name);
        break;
      default:
        g_assert_not_reached ();
    }
}

/* Takes one entry into the db, or says in a warning why not. */
static gboolean
import_entry (SpUserDb *db, ImportState *state, ImportEntry *entry, GHashTable *seen)
{
  g_autoptr (GError) local = NULL;

  if (g_hash_table_contains (seen, entry->name))
    {
      warn (state, entry->lineno, _ ("user %s appears twice in the file, later entry skipped"),
            entry->name);
      return FALSE;
    }
  g_hash_table_add (seen, entry->name);
  if (entry->password == NULL)
    {
      warn (state, entry->lineno,
            _ ("user %s has no password, skipped (Yate let such users register unauthenticated)"),
            entry->name);
      return FALSE;
    }
  if (entry->password[0] == '\0')
    {
      warn (state, entry->lineno,
            _ ("user %s has an empty password, skipped (Yate let anyone authenticate as them)"),
            entry->name);
      return FALSE;
    }
  if (!check_new_name (db, entry->name, &local) || !valid_password (entry->password, &local))
    {
      warn (state, entry->lineno, _ ("user skipped: %s"), local->message);
      return FALSE;
    }
  insert_user (db, user_new_with_password (entry->name, NULL, db->realm, entry->password));
  return TRUE;
}

/* Warnings start "line N: " (translated, so the number is the first
 * digit rather than at a fixed offset); orders them by N. */
static guint64
warning_line (const char *warning)
{
  const char *digit = strpbrk (warning, "0123456789");

  return digit != NULL ? g_ascii_strtoull (digit, NULL, 10) : 0;
}

static int
compare_warnings (gconstpointer a, gconstpointer b)
{
  guint64 la = warning_line (*(const char *const *) a);
  guint64 lb = warning_line (*(const char *const *) b);

  return la < lb ? -1 : la > lb;
}

gboolean
sp_user_db_import_regfile (SpUserDb *db, const char *text, gssize len, guint *n_added,
                           GPtrArray **warnings, GError **error)
{
  g_autoptr (GPtrArray) entries =
      g_ptr_array_new_with_free_func ((GDestroyNotify) import_entry_free);
  g_autoptr (GPtrArray) warns = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  ImportState state = { entries, warns, NULL };
  guint added = 0;

  g_return_val_if_fail (SP_IS_USER_DB (db), FALSE);
  if (!sp_yate_conf_parse (text, len, import_line, &state, error))
    return FALSE;
  for (guint i = 0; i < entries->len; i++)
    if (import_entry (db, &state, entries->pdata[i], seen))
      added++;
  /* Entries are warned about by line, but the file was read first:
   * sort so warnings come out in line order. */
  g_ptr_array_sort (warns, compare_warnings);
  if (added > 0)
    emit_changed (db);
  if (n_added != NULL)
    *n_added = added;
  if (warnings != NULL)
    *warnings = g_steal_pointer (&warns);
  return TRUE;
}

gboolean
sp_user_db_import_regfile_path (SpUserDb *db, const char *path, guint *n_added,
                                GPtrArray **warnings, GError **error)
{
  g_autofree char *text = NULL;
  gsize len = 0;

  text = sp_yate_conf_read_file (path, &len, error);
  if (text == NULL)
    return FALSE;
  if (!sp_user_db_import_regfile (db, text, len, n_added, warnings, error))
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  return TRUE;
}
