#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "../../app/autostart.h"

/* What a desktop makes of the entry's Exec: the key file's string
 * unescaping, then the specification's quoting (as a shell reads double
 * quotes), then %% back to %. */
static char **
read_exec_argv (const char *path)
{
  g_autoptr (GKeyFile) entry = g_key_file_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *exec = NULL;
  char **argv = NULL;

  g_assert_true (g_key_file_load_from_file (entry, path, G_KEY_FILE_NONE, &error));
  g_assert_no_error (error);
  exec = g_key_file_get_string (entry, G_KEY_FILE_DESKTOP_GROUP, "Exec", &error);
  g_assert_no_error (error);
  g_assert_true (g_shell_parse_argv (exec, NULL, &argv, &error));
  g_assert_no_error (error);
  for (char **a = argv; *a != NULL; a++)
    {
      g_auto (GStrv) parts = g_strsplit (*a, "%%", -1);
      g_free (*a);
      *a = g_strjoinv ("%", parts);
    }
  return argv;
}

/* What desktops check: desktop-file-validate, where installed. */
static void
check_valid (const char *path)
{
  const char *validate = "/usr/bin/desktop-file-validate";
  const char *argv[] = { validate, path, NULL };
  g_autofree char *out = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;

  if (!g_file_test (validate, G_FILE_TEST_IS_EXECUTABLE))
    return;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                               &out, NULL, &status, &error));
  g_assert_no_error (error);
  g_test_message ("desktop-file-validate: %s", out);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_cmpstr (out, ==, "");
}

/* Without options: the entry's old name and command. */
static void
test_plain (void)
{
  g_autofree char *path = sp_autostart_dup_path ("net.example.softphone", NULL);
  g_autofree char *expected = g_build_filename (g_get_user_config_dir (), "autostart",
                                                "net.example.softphone.desktop", NULL);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) argv = NULL;

  g_assert_cmpstr (path, ==, expected);
  g_assert_true (
      sp_autostart_write ("net.example.softphone", "/usr/bin/softphone", NULL, NULL, &error));
  g_assert_no_error (error);
  argv = read_exec_argv (path);
  g_assert_cmpuint (g_strv_length (argv), ==, 2);
  g_assert_cmpstr (argv[0], ==, "/usr/bin/softphone");
  g_assert_cmpstr (argv[1], ==, "--background");
  check_valid (path);
  g_assert_true (sp_autostart_remove ("net.example.softphone", NULL, &error));
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  /* Removing what is not there is no error. */
  g_assert_true (sp_autostart_remove ("net.example.softphone", NULL, &error));
  g_assert_no_error (error);
}

/* --bind and --config-dir come back at login exactly, whatever the
 * characters in the paths; two config dirs, two entries. */
static void
test_options_kept (void)
{
  g_autofree char *base = g_dir_make_tmp ("autostart-XXXXXX", NULL);
  g_autofree char *dir_a = g_build_filename (base, "phone a $HOME \"q\" `x` \\ 100% ;#", NULL);
  g_autofree char *dir_b = g_build_filename (base, "phone-b", NULL);
  g_autofree char *exe = g_build_filename (base, "my bin", "soft'phone", NULL);
  g_autofree char *path_a = sp_autostart_dup_path ("net.example.softphone", dir_a);
  g_autofree char *path_b = sp_autostart_dup_path ("net.example.softphone", dir_b);
  g_autofree char *plain = sp_autostart_dup_path ("net.example.softphone", NULL);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) argv_a = NULL;
  g_auto (GStrv) argv_b = NULL;
  const char *expected_a[] = {
    exe, "--background", "--bind", "127.0.0.2:5070", "--config-dir", dir_a, NULL
  };

  g_assert_cmpstr (path_a, !=, path_b);
  g_assert_cmpstr (path_a, !=, plain);
  g_assert_true (g_str_has_prefix (path_a, g_get_user_config_dir ()));
  g_assert_true (
      sp_autostart_write ("net.example.softphone", exe, "127.0.0.2:5070", dir_a, &error));
  g_assert_no_error (error);
  g_assert_true (sp_autostart_write ("net.example.softphone", exe, "[::1]:5080", dir_b, &error));
  g_assert_no_error (error);
  argv_a = read_exec_argv (path_a);
  g_assert_cmpstrv (argv_a, expected_a);
  check_valid (path_a);
  argv_b = read_exec_argv (path_b);
  g_assert_cmpuint (g_strv_length (argv_b), ==, 6);
  g_assert_cmpstr (argv_b[3], ==, "[::1]:5080");
  g_assert_cmpstr (argv_b[5], ==, dir_b);
  g_assert_false (g_file_test (plain, G_FILE_TEST_EXISTS));

  /* Switching one phone off leaves the other's entry. */
  g_assert_true (sp_autostart_remove ("net.example.softphone", dir_a, &error));
  g_assert_false (g_file_test (path_a, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (path_b, G_FILE_TEST_EXISTS));
  g_assert_true (sp_autostart_remove ("net.example.softphone", dir_b, &error));
  g_assert_no_error (error);
  g_rmdir (base);
}

/* A relative --config-dir is written absolute: at login the working
 * directory is another. */
static void
test_relative_dir (void)
{
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *abs = g_build_filename (cwd, "rel-dir", NULL);
  g_autofree char *exec = sp_autostart_dup_exec ("/bin/sp", NULL, "rel-dir");
  g_autofree char *path_rel = sp_autostart_dup_path ("x", "rel-dir");
  g_autofree char *path_abs = sp_autostart_dup_path ("x", abs);
  g_auto (GStrv) argv = NULL;

  g_assert_true (g_shell_parse_argv (exec, NULL, &argv, NULL));
  g_assert_cmpstr (argv[3], ==, abs);
  g_assert_cmpstr (path_rel, ==, path_abs);
}

int
main (int argc, char **argv)
{
  /* XDG_CONFIG_HOME in a temporary directory (set before GLib reads it;
   * G_TEST_OPTION_ISOLATE_DIRS leaks under ASan in GLib 2.74). */
  g_autofree char *home = g_dir_make_tmp ("autostart-home-XXXXXX", NULL);
  g_autofree char *autostart = g_build_filename (home, "autostart", NULL);
  int status;

  g_setenv ("XDG_CONFIG_HOME", home, TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/autostart/plain", test_plain);
  g_test_add_func ("/autostart/options-kept", test_options_kept);
  g_test_add_func ("/autostart/relative-dir", test_relative_dir);
  status = g_test_run ();
  g_rmdir (autostart);
  g_rmdir (home);
  return status;
}
