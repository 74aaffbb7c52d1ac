#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* The mini-server's users: a name, an optional number (extension) and
 * the password kept only as digest HA1 values (RFC 7616: MD5 and SHA-256
 * of "user:realm:password"). The plain password never leaves the call
 * that sets it. */

#define SP_USER_DB_ERROR (sp_user_db_error_quark ())

typedef enum
{
  SP_USER_DB_ERROR_INVALID_NAME = 1,
  SP_USER_DB_ERROR_INVALID_NUMBER,
  SP_USER_DB_ERROR_INVALID_PASSWORD,
  SP_USER_DB_ERROR_EXISTS,
  SP_USER_DB_ERROR_NUMBER_TAKEN,
  SP_USER_DB_ERROR_NOT_FOUND,
  SP_USER_DB_ERROR_PARSE,
} SpUserDbError;

GQuark sp_user_db_error_quark (void);

typedef enum
{
  SP_USER_HA1_MD5,
  SP_USER_HA1_SHA256,
} SpUserHa1Kind;

/* Longest accepted name, number and password (bytes). */
#define SP_USER_NAME_MAX     64
#define SP_USER_NUMBER_MAX   32
#define SP_USER_PASSWORD_MAX 256

/* One user: immutable and reference counted. Changing a user replaces
 * the db's entry with a new SpUser, so a pointer someone holds a
 * reference on never changes under them. */
typedef struct _SpUser SpUser;

SpUser *sp_user_ref (SpUser *user);
void sp_user_unref (SpUser *user);
const char *sp_user_get_name (const SpUser *user);
/* The extension, or NULL. */
const char *sp_user_get_number (const SpUser *user);
/* The realm the HA1 values were computed for. */
const char *sp_user_get_realm (const SpUser *user);
/* Lower case hex HA1 of @kind (32 or 64 digits). */
const char *sp_user_get_ha1 (const SpUser *user, SpUserHa1Kind kind);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpUser, sp_user_unref)

#define SP_TYPE_USER_DB (sp_user_db_get_type ())
G_DECLARE_FINAL_TYPE (SpUserDb, sp_user_db, SP, USER_DB, GObject)

/* The db emits "changed" (no arguments) after every successful change:
 * add, remove, password, number, realm, load, import. */
SpUserDb *sp_user_db_new (const char *realm);

const char *sp_user_db_get_realm (SpUserDb *db);
/* HA1 values depend on the realm and cannot be recomputed without the
 * passwords: after a realm change, users whose HA1 was made for another
 * realm keep it but sp_user_db_needs_password() says so, and
 * sp_user_db_get_ha1() refuses them until their password is set again. */
void sp_user_db_set_realm (SpUserDb *db, const char *realm);
gboolean sp_user_db_needs_password (SpUserDb *db, const SpUser *user);

gboolean sp_user_db_add (SpUserDb *db, const char *name, const char *number, const char *password,
                         GError **error);
gboolean sp_user_db_remove (SpUserDb *db, const char *name, GError **error);
gboolean sp_user_db_set_password (SpUserDb *db, const char *name, const char *password,
                                  GError **error);
/* @number NULL or "" removes the number. */
gboolean sp_user_db_set_number (SpUserDb *db, const char *name, const char *number, GError **error);

/* Lookups return a borrowed pointer valid until the db next changes
 * (sp_user_ref it to keep it longer), or NULL. */
SpUser *sp_user_db_lookup (SpUserDb *db, const char *name);
SpUser *sp_user_db_lookup_number (SpUserDb *db, const char *number);
/* By name, else by number: what a dialled string means without rules.
 * Names and numbers never collide (add/set_number refuse it). */
SpUser *sp_user_db_lookup_target (SpUserDb *db, const char *name_or_number);
/* The HA1 a digest check compares against, for @name in the db's
 * current realm, or NULL (no such user, or password not yet set again
 * after a realm change). */
const char *sp_user_db_get_ha1 (SpUserDb *db, const char *name, SpUserHa1Kind kind);

guint sp_user_db_get_n_users (SpUserDb *db);
/* All users sorted by name; the array holds references. */
GPtrArray *sp_user_db_list (SpUserDb *db);

/* Saves to @config_dir/users.conf (created 0700 if missing) atomically,
 * mode 0600. */
gboolean sp_user_db_save (SpUserDb *db, const char *config_dir, GError **error);
/* Replaces the db's contents with @config_dir/users.conf. A missing file
 * is an empty db. On any error the db is left unchanged. */
gboolean sp_user_db_load (SpUserDb *db, const char *config_dir, GError **error);

/* Imports Yate's regfile.conf: "[name]" sections with "password=".
 * Per entry: every valid user is added; an entry that cannot be taken
 * (no or empty password, invalid name, a name already in the db or twice
 * in the file) is skipped with a warning, and users already in the db
 * are never changed. [general] and unknown keys are ignored with a
 * warning naming them. @warnings (optional) receives a new array of
 * strings, each starting "line N: ". Fails only when the text is not
 * text at all (NUL bytes, not UTF-8, over 1 MiB); then nothing changes.
 * @n_added (optional) gets the number of users added. */
gboolean sp_user_db_import_regfile (SpUserDb *db, const char *text, gssize len, guint *n_added,
                                    GPtrArray **warnings, GError **error);
gboolean sp_user_db_import_regfile_path (SpUserDb *db, const char *path, guint *n_added,
                                         GPtrArray **warnings, GError **error);

G_END_DECLS
