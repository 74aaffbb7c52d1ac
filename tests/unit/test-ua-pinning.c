#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sys/stat.h>

#include "ua/pinning.h"

#define FP_A                                                                                       \
  "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:"  \
  "99"
#define FP_B                                                                                       \
  "0A:0B:0C:0D:0E:0F:10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:1F:20:21:22:23:24:25:26:27:28:"  \
  "29"

static char *
temp_path (char **dir)
{
  *dir = g_dir_make_tmp ("sp-pins-XXXXXX", NULL);
  g_assert_nonnull (*dir);
  return g_build_filename (*dir, "tls-pins", NULL);
}

/* First use pins (to a 0600 file), the same certificate passes, another
 * is refused and named, and accepting it makes it the pin: after a
 * reload too. */
static void
test_first_use_change_accept (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *path = temp_path (&dir);
  g_autoptr (SpPinStore) store = sp_pin_store_new (path);
  g_autoptr (SpPinStore) again = NULL;
  g_autoptr (GError) error = NULL;
  const char *pinned = NULL;
  GStatBuf st;

  g_assert_cmpint (sp_pin_store_check (store, "10.0.0.5:5061", FP_A, NULL, &error), ==, SP_PIN_NEW);
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_cmpint (sp_pin_store_check (store, "10.0.0.5:5061", FP_A, NULL, NULL), ==, SP_PIN_MATCH);
  g_assert_cmpint (sp_pin_store_check (store, "10.0.0.5:5061", FP_B, &pinned, NULL), ==,
                   SP_PIN_CHANGED);
  g_assert_cmpstr (pinned, ==, FP_A);
  /* Nothing refused for another server: nothing to accept. */
  g_assert_false (sp_pin_store_accept (store, "10.0.0.6:5061", NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (sp_pin_store_accept (store, "10.0.0.5:5061", NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (sp_pin_store_lookup (store, "10.0.0.5:5061"), ==, FP_B);

  again = sp_pin_store_new (path);
  g_assert_cmpstr (sp_pin_store_lookup (again, "10.0.0.5:5061"), ==, FP_B);
  g_assert_cmpint (sp_pin_store_check (again, "10.0.0.5:5061", FP_A, NULL, NULL), ==,
                   SP_PIN_CHANGED);
  g_unlink (path);
  g_rmdir (dir);
}

/* A hand-edited or damaged file: bad lines are skipped, good ones kept;
 * a fingerprint given to accept is checked. */
static void
test_bad_lines_and_fingerprints (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *path = temp_path (&dir);
  g_autoptr (SpPinStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = g_strdup_printf ("# comment\n"
                                           "only-a-host\n"
                                           "h1:5061 not-a-fingerprint\n"
                                           "h2:5061 %s\n"
                                           "h2:5061 %s\n"
                                           "\x01\x02 %s\n",
                                           FP_A, FP_B, FP_B);

  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  store = sp_pin_store_new (path);
  g_assert_null (sp_pin_store_lookup (store, "h1:5061"));
  g_assert_cmpstr (sp_pin_store_lookup (store, "h2:5061"), ==, FP_A); /* the first line wins */
  g_assert_false (sp_pin_store_accept (store, "h3:5061", "AB:CD", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (sp_pin_store_accept (store, "h 3", FP_A, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_unlink (path);
  g_rmdir (dir);
}

/* The store is capped: past SP_PIN_STORE_MAX servers a new one is not
 * remembered (the connection still goes ahead, it is asked again). */
static void
test_cap (void)
{
  g_autoptr (SpPinStore) store = sp_pin_store_new (NULL);

  for (guint i = 0; i < SP_PIN_STORE_MAX; i++)
    {
      g_autofree char *hp = g_strdup_printf ("h%u:5061", i);
      g_assert_cmpint (sp_pin_store_check (store, hp, FP_A, NULL, NULL), ==, SP_PIN_NEW);
    }
  {
    g_autoptr (GError) error = NULL;
    g_assert_cmpint (sp_pin_store_check (store, "extra:5061", FP_A, NULL, &error), ==, SP_PIN_NEW);
  }
  g_assert_null (sp_pin_store_lookup (store, "extra:5061"));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/pinning/first-use-change-accept", test_first_use_change_accept);
  g_test_add_func ("/pinning/bad-lines", test_bad_lines_and_fingerprints);
  g_test_add_func ("/pinning/cap", test_cap);
  return g_test_run ();
}
