#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "sip/tls.h"

static void
remove_dir (const char *dir)
{
  static const char *const files[] = { "tls-certificate.pem", "tls-key.pem" };

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (dir, files[i], NULL);
      g_unlink (path);
    }
  g_rmdir (dir);
}

/* First start makes the pair (0600 both), later starts reuse it: the
 * fingerprint phones pinned stays. */
static void
test_identity_made_once (void)
{
  g_autofree char *dir = g_dir_make_tmp ("sp-tls-XXXXXX", NULL);
  g_autofree char *key = g_build_filename (dir, "tls-key.pem", NULL);
  g_autofree char *cert = g_build_filename (dir, "tls-certificate.pem", NULL);
  const char *names[] = { "pbx.example.com", "127.0.0.1", "::1", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSipTlsIdentity) a = NULL;
  g_autoptr (SpSipTlsIdentity) b = NULL;
  gboolean created = FALSE;
  GStatBuf st;

  a = sp_sip_tls_identity_load_or_create (dir, names, &created, &error);
  g_assert_no_error (error);
  g_assert_true (created);
  g_assert_cmpuint (strlen (sp_sip_tls_identity_get_fingerprint (a)), ==, 95);
  g_assert_true (g_regex_match_simple ("^([0-9A-F]{2}:){31}[0-9A-F]{2}$",
                                       sp_sip_tls_identity_get_fingerprint (a), 0, 0));
  g_assert_cmpint (g_stat (key, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_cmpint (g_stat (cert, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  b = sp_sip_tls_identity_load_or_create (dir, names, &created, &error);
  g_assert_no_error (error);
  g_assert_false (created);
  g_assert_cmpstr (sp_sip_tls_identity_get_fingerprint (a), ==,
                   sp_sip_tls_identity_get_fingerprint (b));
  remove_dir (dir);
}

/* Half a pair is never overwritten; a damaged file is an error, not a
 * new certificate. */
static void
test_identity_half_or_damaged (void)
{
  g_autofree char *dir = g_dir_make_tmp ("sp-tls-XXXXXX", NULL);
  g_autofree char *key = g_build_filename (dir, "tls-key.pem", NULL);
  g_autofree char *cert = g_build_filename (dir, "tls-certificate.pem", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSipTlsIdentity) id = NULL;
  g_autofree char *kept = NULL;

  g_assert_true (g_file_set_contents (cert, "not a certificate", -1, NULL));
  id = sp_sip_tls_identity_load_or_create (dir, NULL, NULL, &error);
  g_assert_null (id);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_assert_true (g_file_get_contents (cert, &kept, NULL, NULL));
  g_assert_cmpstr (kept, ==, "not a certificate");

  g_assert_true (g_file_set_contents (key, "not a key", -1, NULL));
  id = sp_sip_tls_identity_load_or_create (dir, NULL, NULL, &error);
  g_assert_null (id);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  remove_dir (dir);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tls/identity-made-once", test_identity_made_once);
  g_test_add_func ("/tls/identity-half-or-damaged", test_identity_half_or_damaged);
  return g_test_run ();
}
