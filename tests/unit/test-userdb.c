#include "server/userdb.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

/* md5("u1:softphone:secret") and sha256 of the same, computed with
 * coreutils (printf 'u1:softphone:secret' | md5sum / sha256sum). */
#define U1_MD5    "73e93e0f7f6c12f5c75dafbf6e14c8cf"
#define U1_SHA256 "cb1ba18fba4c9ac464a49a32de1a69e39f972ee489bb6c403b974af795ceeec3"

static char *
make_tmpdir (void)
{
  GError *error = NULL;
  char *dir = g_dir_make_tmp ("test-userdb-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
remove_tree (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_assert_cmpint (g_remove (path), ==, 0);
    }
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
count_changed (SpUserDb *db, guint *count)
{
  (*count)++;
}

static void
test_ha1_vectors (void)
{
  g_autoptr (SpUserDb) db = sp_user_db_new ("softphone");
  g_autoptr (GError) error = NULL;
  SpUser *user;

  g_assert_true (sp_user_db_add (db, "u1", "1", "secret", &error));
  g_assert_no_error (error);
  user = sp_user_db_lookup (db, "u1");
  g_assert_nonnull (user);
  g_assert_cmpstr (sp_user_get_name (user), ==, "u1");
  g_assert_cmpstr (sp_user_get_number (user), ==, "1");
  g_assert_cmpstr (sp_user_get_realm (user), ==, "softphone");
  g_assert_cmpstr (sp_user_get_ha1 (user, SP_USER_HA1_MD5), ==, U1_MD5);
  g_assert_cmpstr (sp_user_get_ha1 (user, SP_USER_HA1_SHA256), ==, U1_SHA256);
  g_assert_cmpstr (sp_user_db_get_ha1 (db, "u1", SP_USER_HA1_MD5), ==, U1_MD5);
  g_assert_null (sp_user_db_get_ha1 (db, "nobody", SP_USER_HA1_MD5));
}

static void
test_add_remove_lookup (void)
{
  g_autoptr (SpUserDb) db = sp_user_db_new ("lan");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = NULL;
  guint changed = 0;

  g_signal_connect (db, "changed", G_CALLBACK (count_changed), &changed);
  g_assert_true (sp_user_db_add (db, "u2", "2", "pw2", &error));
  g_assert_true (sp_user_db_add (db, "u1", "1", "pw1", &error));
  g_assert_true (sp_user_db_add (db, "alice", NULL, "pw", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (changed, ==, 3);
  g_assert_cmpuint (sp_user_db_get_n_users (db), ==, 3);

  g_assert_cmpstr (sp_user_get_name (sp_user_db_lookup_number (db, "2")), ==, "u2");
  g_assert_cmpstr (sp_user_get_name (sp_user_db_lookup_target (db, "1")), ==, "u1");
  g_assert_cmpstr (sp_user_get_name (sp_user_db_lookup_target (db, "u1")), ==, "u1");
  g_assert_null (sp_user_db_lookup_target (db, "3"));
  g_assert_null (sp_user_get_number (sp_user_db_lookup (db, "alice")));

  list = sp_user_db_list (db);
  g_assert_cmpuint (list->len, ==, 3);
  g_assert_cmpstr (sp_user_get_name (list->pdata[0]), ==, "alice");
  g_assert_cmpstr (sp_user_get_name (list->pdata[1]), ==, "u1");
  g_assert_cmpstr (sp_user_get_name (list->pdata[2]), ==, "u2");

  g_assert_true (sp_user_db_remove (db, "u2", &error));
  g_assert_null (sp_user_db_lookup (db, "u2"));
  g_assert_null (sp_user_db_lookup_number (db, "2"));
  g_assert_false (sp_user_db_remove (db, "u2", &error));
  g_assert_error (error, SP_USER_DB_ERROR, SP_USER_DB_ERROR_NOT_FOUND);
  g_assert_cmpuint (changed, ==, 4);
  /* The listed user keeps its reference after removal. */
  g_assert_cmpstr (sp_user_get_name (list->pdata[2]), ==, "u2");
}

static void
test_invalid_input (void)
{
  g_autoptr (SpUserDb) db = sp_user_db_new ("lan");
  g_autofree char *long_name = g_strnfill (SP_USER_NAME_MAX + 1, 'a');
  g_autofree char *max_name = g_strnfill (SP_USER_NAME_MAX, 'a');
  g_autofree char *long_pw = g_strnfill (SP_USER_PASSWORD_MAX + 1, 'p');
  GError *error = NULL;

  g_assert_true (sp_user_db_add (db, "u1", "1", "pw", NULL));

  g_assert_false (sp_user_db_add (db, "", NULL, "pw", &error));
  g_assert_error (error, SP_USER_DB_ERROR, SP_USER_DB_ERROR_INVALID_NAME);
  g_clear_error (&error);
  g_assert_false (sp_user_db_add (db, long_name, NULL, "pw", &error));
  g_assert_error (error, SP_USER_DB_ERROR, SP_USER_DB_ERROR_INVALID_NAME);
  g_clear_error (&error);
  g_assert_true (sp_user_db_add (db, max_name, NULL, "pw", NULL));
  g_assert_false (sp_user_db_add (db, "bad name", NULL, "pw", &error));
  g_assert_error (error, SP_USER_DB_ERROR, SP_USER_DB_ERROR_INVALID_NAME);
  g_clear_error (&error);
  g_assert_false (sp_user_db_add (db, "a@b", NULL, "pw", &error));
  g_assert_error (error, SP_USER_DB_ERROR, SP_USER_DB_ERROR_INVALID_NAME);
  g_clear_error (&error);
  g_assert_false (sp_user_db_add (db, "x[1]", NULL, "pw", &error));
  g_assert_error (error, SP_USER_DB_ERROR, SP_USER_DB_ERROR_INVALID_NAME);
  g_clear_error (&error);

  g_assert_false (sp_user_db_add (db, "u2", "12a", "pw", &error));
  g_assert_error (error, SP_USER_DB_ERROR, SP_USER_DB_ERROR_INVALID_NUMBER);
  g_clear_error (&error);
  g_assert_false (sp_user_db_add (db, "u2", NULL, "", &error));
  g_assert_error (error, SP_USER_DB_ERROR, SP_USER_DB_ERROR_INVALID_PASSWORD);
  g_clear_error (&error);
  g_assert_false (sp_user_db_add (db, "u2", NULL, long_pw, &error));
  g_assert_error (error, SP_USER_DB_ERROR, SP_USER_DB_ERROR_INVALID_PASSWORD);
  g_clear_error (&error);

  g_assert_false (sp_user_db_add (db, "u1", NULL, "pw", &error));
  g_assert_error (error, SP_USER_DB_ERROR, SP_USER_DB_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_false (sp_user_db_add (db, "u2", "1", "pw", &error));
  g_assert_error (error, SP_USER_DB_ERROR, SP_USER_DB_ERROR_NUMBER_TAKEN);
  g_clear_error (&error);
  /* A name that is another user's number, and the other way round. */
  g_assert_false (sp_user_db_add (db, "1", NULL, "pw", &error));
  g_assert_error (error, SP_USER_DB_ERROR, SP_USER_DB_ERROR_NUMBER_TAKEN);
  g_clear_error (&error);
  g_assert_true (sp_user_db_add (db, "100", NULL, "pw", NULL));
  g_assert_false (sp_user_db_add (db, "u3", "100", "pw", &error));
  g_assert_error (error, SP_USER_DB_ERROR, SP_USER_DB_ERROR_NUMBER_TAKEN);
  g_clear_error (&error);

  g_assert_cmpuint (sp_user_db_get_n_users (db), ==, 3);
}

static void
test_change_password_and_number (void)
{
  g_autoptr (SpUserDb) db = sp_user_db_new ("softphone");
  g_autoptr (SpUser) before = NULL;
  GError *error = NULL;
  SpUser *after;

  g_assert_true (sp_user_db_add (db, "u1", "1", "old", NULL));
  g_assert_true (sp_user_db_add (db, "u2", "2", "pw", NULL));
  before = sp_user_ref (sp_user_db_lookup (db, "u1"));
  g_assert_true (sp_user_db_set_password (db, "u1", "secret", &error));
  g_assert_no_error (error);
  after = sp_user_db_lookup (db, "u1");
  g_assert_cmpstr (sp_user_get_ha1 (after, SP_USER_HA1_MD5), ==, U1_MD5);
  /* The old snapshot is untouched. */
  g_assert_cmpstr (sp_user_get_ha1 (before, SP_USER_HA1_MD5), !=, U1_MD5);
  g_assert_cmpstr (sp_user_get_number (after), ==, "1");

  g_assert_false (sp_user_db_set_password (db, "u1", "", &error));
  g_assert_error (error, SP_USER_DB_ERROR, SP_USER_DB_ERROR_INVALID_PASSWORD);
  g_clear_error (&error);
  g_assert_false (sp_user_db_set_password (db, "zz", "x", &error));
  g_assert_error (error, SP_USER_DB_ERROR, SP_USER_DB_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_false (sp_user_db_set_number (db, "u1", "2", &error));
  g_assert_error (error, SP_USER_DB_ERROR, SP_USER_DB_ERROR_NUMBER_TAKEN);
  g_clear_error (&error);
  g_assert_true (sp_user_db_set_number (db, "u1", "11", &error));
  g_assert_null (sp_user_db_lookup_number (db, "1"));
  g_assert_cmpstr (sp_user_get_name (sp_user_db_lookup_number (db, "11")), ==, "u1");
  g_assert_cmpstr (sp_user_db_get_ha1 (db, "u1", SP_USER_HA1_MD5), ==, U1_MD5);
  g_assert_true (sp_user_db_set_number (db, "u1", NULL, &error));
  g_assert_null (sp_user_db_lookup_number (db, "11"));
  g_assert_null (sp_user_get_number (sp_user_db_lookup (db, "u1")));
  g_assert_true (sp_user_db_set_number (db, "u2", "1", &error));
  g_assert_no_error (error);
}

static void
test_realm_change (void)
{
  g_autoptr (SpUserDb) db = sp_user_db_new ("old");
  SpUser *user;

  g_assert_true (sp_user_db_add (db, "u1", NULL, "secret", NULL));
  sp_user_db_set_realm (db, "softphone");
  g_assert_cmpstr (sp_user_db_get_realm (db), ==, "softphone");
  user = sp_user_db_lookup (db, "u1");
  g_assert_true (sp_user_db_needs_password (db, user));
  g_assert_null (sp_user_db_get_ha1 (db, "u1", SP_USER_HA1_SHA256));
  g_assert_true (sp_user_db_set_password (db, "u1", "secret", NULL));
  user = sp_user_db_lookup (db, "u1");
  g_assert_false (sp_user_db_needs_password (db, user));
  g_assert_cmpstr (sp_user_db_get_ha1 (db, "u1", SP_USER_HA1_SHA256), ==, U1_SHA256);
}

static void
test_save_load (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *sub = g_build_filename (dir, "conf", NULL);
  g_autofree char *path = g_build_filename (sub, "users.conf", NULL);
  g_autofree char *contents = NULL;
  g_autoptr (SpUserDb) db = sp_user_db_new ("softphone");
  g_autoptr (SpUserDb) copy = sp_user_db_new ("softphone");
  g_autoptr (GError) error = NULL;
  GStatBuf st;

  g_assert_true (sp_user_db_add (db, "u1", "1", "secret", NULL));
  g_assert_true (sp_user_db_add (db, "u2", "2", "pw2", NULL));
  g_assert_true (sp_user_db_save (db, sub, &error));
  g_assert_no_error (error);

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_null (strstr (contents, "secret"));
  g_assert_nonnull (strstr (contents, U1_SHA256));

  /* A missing file is an empty db. */
  g_assert_true (sp_user_db_load (copy, dir, &error));
  g_assert_cmpuint (sp_user_db_get_n_users (copy), ==, 0);

  g_assert_true (sp_user_db_load (copy, sub, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sp_user_db_get_n_users (copy), ==, 2);
  g_assert_cmpstr (sp_user_db_get_ha1 (copy, "u1", SP_USER_HA1_MD5), ==, U1_MD5);
  g_assert_cmpstr (sp_user_get_name (sp_user_db_lookup_number (copy, "2")), ==, "u2");

  /* A corrupt file fails and leaves the db as it was. */
  g_assert_true (g_file_set_contents (
      path, "[user:u9]\nrealm=softphone\nha1-md5=zz\nha1-sha256=00\n", -1, NULL));
  g_assert_false (sp_user_db_load (copy, sub, &error));
  g_assert_error (error, SP_USER_DB_ERROR, SP_USER_DB_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, "u9"));
  g_assert_cmpuint (sp_user_db_get_n_users (copy), ==, 2);
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (path, "garbage without groups\n", -1, NULL));
  g_assert_false (sp_user_db_load (copy, sub, &error));
  g_assert_nonnull (error);
  g_assert_cmpuint (sp_user_db_get_n_users (copy), ==, 2);

  remove_tree (sub);
  remove_tree (dir);
}

static const char seed_regfile[] = "; regfile.conf as the seed article sets it up\n"
                                   "[general]\n"
                                   "auth=100\n"
                                   "register=100\n"
                                   "route=100\n"
                                   "\n"
                                   "[sunny]\n"
                                   "password=870212\n"
                                   "[u1]\n"
                                   "password=secret\n"
                                   "# a hash comment\n"
                                   "  [u2]  \n"
                                   "  password = pw2  \n";

static void
test_import_seed (void)
{
  g_autoptr (SpUserDb) db = sp_user_db_new ("softphone");
  g_autoptr (GPtrArray) warnings = NULL;
  g_autoptr (GError) error = NULL;
  guint added = 0, changed = 0;

  g_signal_connect (db, "changed", G_CALLBACK (count_changed), &changed);
  g_assert_true (sp_user_db_import_regfile (db, seed_regfile, -1, &added, &warnings, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (added, ==, 3);
  g_assert_cmpuint (changed, ==, 1);
  g_assert_cmpuint (sp_user_db_get_n_users (db), ==, 3);
  g_assert_cmpstr (sp_user_db_get_ha1 (db, "u1", SP_USER_HA1_MD5), ==, U1_MD5);
  g_assert_nonnull (sp_user_db_lookup (db, "sunny"));
  g_assert_nonnull (sp_user_db_lookup (db, "u2"));
  /* The [general] section and each of its keys are named. */
  g_assert_cmpuint (warnings->len, ==, 4);
  g_assert_cmpstr (warnings->pdata[0], ==,
                   "line 2: section [general] ignored (Yate module settings)");
  g_assert_cmpstr (warnings->pdata[1], ==, "line 3: key \"auth\" of section [general] ignored");
  g_assert_cmpstr (warnings->pdata[2], ==, "line 4: key \"register\" of section [general] ignored");
  g_assert_cmpstr (warnings->pdata[3], ==, "line 5: key \"route\" of section [general] ignored");
}

static void
test_import_bad_entries (void)
{
  const char text[] = "[u1]\n"            /* 1 */
                      "password=new\n"    /* 2 */
                      "[carol]\n"         /* 3 */
                      "number=5\n"        /* 4 */
                      "password=pw\n"     /* 5 */
                      "[nopass]\n"        /* 6 */
                      "[empty]\n"         /* 7 */
                      "password=\n"       /* 8 */
                      "this is garbage\n" /* 9 */
                      "[carol]\n"         /* 10 */
                      "password=other\n"  /* 11 */
                      "[bad name]\n"      /* 12 */
                      "password=x\n"      /* 13 */
                      "[unclosed\n"       /* 14 */
                      "password=y\n";     /* 15 */
  g_autoptr (SpUserDb) db = sp_user_db_new ("softphone");
  g_autoptr (GPtrArray) warnings = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *all = NULL;
  guint added = 0;

  g_assert_true (sp_user_db_add (db, "u1", "1", "secret", NULL));
  g_assert_true (sp_user_db_import_regfile (db, text, -1, &added, &warnings, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (added, ==, 1);
  g_assert_cmpuint (sp_user_db_get_n_users (db), ==, 2);
  /* Nothing already in the db is lost or changed. */
  g_assert_cmpstr (sp_user_db_get_ha1 (db, "u1", SP_USER_HA1_MD5), ==, U1_MD5);
  g_assert_cmpstr (sp_user_get_number (sp_user_db_lookup (db, "u1")), ==, "1");
  g_assert_nonnull (sp_user_db_lookup (db, "carol"));

  g_ptr_array_add (warnings, NULL);
  all = g_strjoinv ("\n", (char **) warnings->pdata);
  g_test_message ("%s", all);
  g_assert_cmpuint (warnings->len - 1, ==, 8);
  g_assert_cmpstr (warnings->pdata[0], ==, "line 1: user skipped: User u1 already exists");
  g_assert_cmpstr (warnings->pdata[1], ==, "line 4: unknown key \"number\" of user carol ignored");
  g_assert_true (g_str_has_prefix (warnings->pdata[2], "line 6: user nopass has no password"));
  g_assert_true (g_str_has_prefix (warnings->pdata[3], "line 7: user empty has an empty password"));
  g_assert_cmpstr (warnings->pdata[4], ==, "line 9: not a [section] or key=value line, ignored");
  g_assert_cmpstr (warnings->pdata[5], ==,
                   "line 10: user carol appears twice in the file, later entry skipped");
  g_assert_true (g_str_has_prefix (warnings->pdata[6], "line 12: user skipped: User name"));
  g_assert_cmpstr (warnings->pdata[7], ==, "line 14: not a [section] or key=value line, ignored");
  /* "[unclosed" is no section: the password after it went to
   * [bad name], which was skipped anyway. */
  g_assert_null (sp_user_db_lookup (db, "unclosed"));
}

static void
test_import_not_text (void)
{
  g_autoptr (SpUserDb) db = sp_user_db_new ("softphone");
  g_autofree char *big = g_strnfill (1024 * 1024 + 1, 'a');
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "regfile.conf", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.conf", NULL);
  GError *error = NULL;
  guint added = 99;

  g_assert_true (sp_user_db_add (db, "u1", NULL, "secret", NULL));
  g_assert_false (sp_user_db_import_regfile (db, "[a]\npassword=x\0\n", 15, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_assert_false (sp_user_db_import_regfile (db, "[a]\npassword=\xff\n", -1, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_assert_false (sp_user_db_import_regfile (db, big, -1, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_assert_cmpuint (sp_user_db_get_n_users (db), ==, 1);

  g_assert_false (sp_user_db_import_regfile_path (db, missing, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (path, big, -1, NULL));
  g_assert_false (sp_user_db_import_regfile_path (db, path, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (path, seed_regfile, -1, NULL));
  g_assert_true (sp_user_db_import_regfile_path (db, path, &added, NULL, &error));
  g_assert_no_error (error);
  /* u1 existed already. */
  g_assert_cmpuint (added, ==, 2);
  remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/userdb/ha1-vectors", test_ha1_vectors);
  g_test_add_func ("/userdb/add-remove-lookup", test_add_remove_lookup);
  g_test_add_func ("/userdb/invalid-input", test_invalid_input);
  g_test_add_func ("/userdb/change-password-and-number", test_change_password_and_number);
  g_test_add_func ("/userdb/realm-change", test_realm_change);
  g_test_add_func ("/userdb/save-load", test_save_load);
  g_test_add_func ("/userdb/import-seed", test_import_seed);
  g_test_add_func ("/userdb/import-bad-entries", test_import_bad_entries);
  g_test_add_func ("/userdb/import-not-text", test_import_not_text);
  return g_test_run ();
}
