/* SpAccount properties and validation, host:port parsing, and the
 * accounts/passwords files. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "sip/transport.h"
#include "ua/account.h"
#include "ua/hostport.h"
#include "ua/settings.h"

static void
count_notify (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  GPtrArray *names = user_data;
  g_ptr_array_add (names, g_strdup (pspec->name));
}

static void
test_properties_notify (void)
{
  g_autoptr (SpAccount) a = sp_account_new ("acc1");
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *server = NULL;
  SpAccountTransport transport = SP_ACCOUNT_TRANSPORT_UDP;

  g_signal_connect (a, "notify", G_CALLBACK (count_notify), names);
  g_assert_cmpstr (sp_account_get_id (a), ==, "acc1");
  g_assert_cmpstr (sp_account_get_protocol (a), ==, "sip");
  g_assert_cmpuint (sp_account_get_register_interval (a), ==, 600);
  g_assert_true (sp_account_get_enabled (a));
  g_assert_cmpint (sp_account_get_status (a), ==, SP_ACCOUNT_STATUS_UNREGISTERED);

  sp_account_set_server (a, "  192.168.1.50 ");
  sp_account_set_server (a, "192.168.1.50"); /* same value: no second notify */
  g_assert_cmpstr (sp_account_get_server (a), ==, "192.168.1.50");
  g_object_set (a, "username", "u1", "transport", SP_ACCOUNT_TRANSPORT_TCP, NULL);
  g_object_get (a, "server", &server, "transport", &transport, NULL);
  g_assert_cmpstr (server, ==, "192.168.1.50");
  g_assert_cmpint (transport, ==, SP_ACCOUNT_TRANSPORT_TCP);
  g_assert_cmpuint (names->len, ==, 3);
  g_assert_cmpstr (names->pdata[0], ==, "server");
  /* g_object_set emits its frozen notifies in no set order. */
  g_assert_true (g_ptr_array_find_with_equal_func (names, "username", g_str_equal, NULL));
  g_assert_true (g_ptr_array_find_with_equal_func (names, "transport", g_str_equal, NULL));

  g_ptr_array_set_size (names, 0);
  sp_account_set_status (a, SP_ACCOUNT_STATUS_FAILED, "403 Forbidden");
  g_assert_cmpuint (names->len, ==, 2);
  g_assert_cmpstr (sp_account_get_status_reason (a), ==, "403 Forbidden");
  g_assert_cmpstr (sp_account_status_to_string (sp_account_get_status (a)), ==, "failed");
  sp_account_set_status (a, SP_ACCOUNT_STATUS_REGISTERED, NULL);
  g_assert_null (sp_account_get_status_reason (a));

  /* Interval is clamped into range. */
  sp_account_set_register_interval (a, 1);
  g_assert_cmpuint (sp_account_get_register_interval (a), ==, SP_ACCOUNT_MIN_INTERVAL);
  /* An empty string is "unset". */
  sp_account_set_display_name (a, "");
  g_assert_null (sp_account_get_display_name (a));
}

static void
test_generated_id (void)
{
  g_autoptr (SpAccount) a = sp_account_new (NULL);
  g_autoptr (SpAccount) b = sp_account_new (NULL);

  g_assert_true (g_str_has_prefix (sp_account_get_id (a), "account-"));
  g_assert_cmpstr (sp_account_get_id (a), !=, sp_account_get_id (b));
}

static void
test_host_port (void)
{
  struct
  {
    const char *text;
    const char *host;
    guint port;
  } good[] = {
    { "192.168.1.50", "192.168.1.50", 0 },
    { "192.168.1.50:5070", "192.168.1.50", 5070 },
    { "PBX.Example.COM", "pbx.example.com", 0 },
    { "pbx:1", "pbx", 1 },
    { "[::1]:5062", "::1", 5062 },
    { "[fe80::1]", "fe80::1", 0 },
    { "::1", "::1", 0 },
    { "127.0.0.101:65535", "127.0.0.101", 65535 },
  };
  const char *bad[] = { "",      ":5060",  "host:0", "host:65536", "host:99999999999", "host:5x",
                        "host:", "[::1",   "[::1]x", "[pbx]:5060", "fe80::1:5060:x",   "a b",
                        "pbx/x", "[::1]:0" };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autofree char *host = NULL;
      g_autoptr (GError) error = NULL;
      guint16 port = 1234;

      g_assert_true (sp_host_port_parse (good[i].text, &host, &port, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (host, ==, good[i].host);
      g_assert_cmpuint (port, ==, good[i].port);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *host = NULL;
      g_autoptr (GError) error = NULL;
      guint16 port = 0;

      if (sp_host_port_parse (bad[i], &host, &port, &error))
        g_error ("\"%s\" should not parse (host %s port %u)", bad[i], host, port);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      g_assert_null (host);
    }

  {
    g_autofree char *a = sp_sip_host_port_to_string ("::1", 5060);
    g_autofree char *b = sp_sip_host_port_to_string ("10.0.0.1", 0);
    g_autofree char *c = sp_sip_host_port_to_string ("::1", 0);
    g_assert_cmpstr (a, ==, "[::1]:5060");
    g_assert_cmpstr (b, ==, "10.0.0.1");
    g_assert_cmpstr (c, ==, "[::1]");
  }
}

/* SP_HOST_PORT_ALLOW_PORT_0 (a bind address): ":0" is a port, told apart
 * from none; the range still ends at 65535; without the flag ":0" is
 * still refused. */
static void
test_host_port_allow_zero (void)
{
  struct
  {
    const char *text;
    const char *host;
    guint port;
    gboolean given;
  } good[] = {
    { "127.0.0.1:0", "127.0.0.1", 0, TRUE }, { "[::]:0", "::", 0, TRUE },
    { "0.0.0.0", "0.0.0.0", 0, FALSE },      { "[::]", "::", 0, FALSE },
    { "pbx:5060", "pbx", 5060, TRUE },       { "::1", "::1", 0, FALSE },
    { "[::1]:65535", "::1", 65535, TRUE },
  };
  const char *bad[] = { "host:",  "host:-1", "host:65536", "[::]:",
                        "[::]:x", ":0",      "host:0x1",   "[::1]:000000" };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autofree char *host = NULL;
      g_autoptr (GError) error = NULL;
      guint16 port = 1234;
      gboolean given = !good[i].given;

      g_assert_true (sp_host_port_parse_full (good[i].text, SP_HOST_PORT_ALLOW_PORT_0, &host, &port,
                                              &given, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (host, ==, good[i].host);
      g_assert_cmpuint (port, ==, good[i].port);
      g_assert_cmpint (given, ==, good[i].given);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *host = NULL;
      g_autoptr (GError) error = NULL;
      guint16 port = 0;

      if (sp_host_port_parse_full (bad[i], SP_HOST_PORT_ALLOW_PORT_0, &host, &port, NULL, &error))
        g_error ("\"%s\" should not parse (host %s port %u)", bad[i], host, port);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      g_assert_null (host);
    }
  {
    g_autofree char *host = NULL;
    g_autoptr (GError) error = NULL;
    guint16 port = 0;
    gboolean given = FALSE;

    g_assert_false (sp_host_port_parse_full ("127.0.0.1:0", SP_HOST_PORT_DEFAULT, &host, &port,
                                             &given, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull (strstr (error->message, "1 to 65535"));
  }
}

static void
test_validate (void)
{
  g_autoptr (SpAccount) a = sp_account_new ("x");
  g_autoptr (GError) error = NULL;

  g_assert_false (sp_account_validate (a, &error));
  g_assert_nonnull (strstr (error->message, "Server"));
  g_clear_error (&error);

  sp_account_set_server (a, "pbx:70000");
  g_assert_false (sp_account_validate (a, &error));
  g_assert_nonnull (strstr (error->message, "Bad port"));
  g_clear_error (&error);

  sp_account_set_server (a, "pbx:5070");
  sp_account_set_outbound_proxy (a, "proxy:x");
  g_assert_false (sp_account_validate (a, &error));
  g_assert_nonnull (strstr (error->message, "Outbound proxy"));
  g_clear_error (&error);

  sp_account_set_outbound_proxy (a, NULL);
  g_assert_true (sp_account_validate (a, &error));
  g_assert_no_error (error);

  g_assert_false (sp_account_check_fields ("pbx", "sctp", NULL, 600, &error));
  g_assert_nonnull (strstr (error->message, "Bad transport \"sctp\""));
  g_clear_error (&error);
  g_assert_false (sp_account_check_fields ("pbx", "udp", NULL, 5, &error));
  g_assert_nonnull (strstr (error->message, "interval"));
  g_clear_error (&error);
  g_assert_true (sp_account_check_fields ("pbx", "TCP", "", 3600, &error));
}

static void
test_debug_string_masks_password (void)
{
  g_autoptr (SpAccount) a = sp_account_new ("acc");
  g_autofree char *s = NULL;

  sp_account_set_username (a, "u1");
  sp_account_set_password (a, "870212");
  sp_account_set_server (a, "192.168.1.50");
  s = sp_account_to_debug_string (a);
  g_assert_null (strstr (s, "870212"));
  g_assert_nonnull (strstr (s, "sip:u1@192.168.1.50"));
  g_assert_nonnull (strstr (s, "password=***"));
}

static char *
make_temp_dir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("test-ua-account-XXXXXX", &error);
  g_assert_no_error (error);
  return dir;
}

static void
remove_dir (const char *dir)
{
  g_autofree char *a = g_build_filename (dir, SP_SETTINGS_ACCOUNTS_FILE, NULL);
  g_autofree char *p = g_build_filename (dir, SP_SETTINGS_PASSWORDS_FILE, NULL);
  g_unlink (a);
  g_unlink (p);
  g_rmdir (dir);
}

static void
test_settings_round_trip (void)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *sub = g_build_filename (dir, "softphone", NULL);
  g_autoptr (SpAccount) a = sp_account_new ("office");
  g_autoptr (SpAccount) b = sp_account_new ("direct");
  g_autoptr (GPtrArray) loaded = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *accounts_text = NULL;
  g_autofree char *accounts_path = g_build_filename (sub, SP_SETTINGS_ACCOUNTS_FILE, NULL);
  g_autofree char *secrets_path = g_build_filename (sub, SP_SETTINGS_PASSWORDS_FILE, NULL);
  SpAccount *list[2];
  GStatBuf st;

  g_object_set (a, "name", "Office", "username", "u1", "password", "s3cr=t;#x", "server",
                "192.168.1.50", "display-name", "Sunny Day", "transport", SP_ACCOUNT_TRANSPORT_TCP,
                "outbound-proxy", "[::1]:5070", "register-interval", 120, "realm", "office.pbx",
                "allow-md5-without-qop", TRUE, NULL);
  g_object_set (b, "name", "Direct", "server", "192.168.1.183", "enabled", FALSE, NULL);
  sp_account_set_ptime (a, 30);
  sp_account_set_media_encryption (a, SP_MEDIA_ENCRYPTION_REQUIRED);
  list[0] = a;
  list[1] = b;

  g_assert_true (sp_settings_save_accounts (sub, list, 2, &error));
  g_assert_no_error (error);

  g_assert_cmpint (g_stat (secrets_path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_true (g_file_get_contents (accounts_path, &accounts_text, NULL, NULL));
  g_assert_null (strstr (accounts_text, "s3cr"));

  loaded = sp_settings_load_accounts (sub, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (loaded->len, ==, 2);
  {
    SpAccount *x = loaded->pdata[0];
    SpAccount *y = loaded->pdata[1];
    g_assert_cmpstr (sp_account_get_id (x), ==, "office");
    g_assert_cmpstr (sp_account_get_name (x), ==, "Office");
    g_assert_cmpstr (sp_account_get_username (x), ==, "u1");
    g_assert_cmpstr (sp_account_get_password (x), ==, "s3cr=t;#x");
    g_assert_cmpstr (sp_account_get_server (x), ==, "192.168.1.50");
    g_assert_cmpstr (sp_account_get_display_name (x), ==, "Sunny Day");
    g_assert_cmpint (sp_account_get_transport (x), ==, SP_ACCOUNT_TRANSPORT_TCP);
    g_assert_cmpstr (sp_account_get_outbound_proxy (x), ==, "[::1]:5070");
    g_assert_cmpuint (sp_account_get_register_interval (x), ==, 120);
    g_assert_cmpstr (sp_account_get_realm (x), ==, "office.pbx");
    g_assert_true (sp_account_get_allow_md5_without_qop (x));
    g_assert_cmpuint (sp_account_get_ptime (x), ==, 30);
    g_assert_cmpint (sp_account_get_media_encryption (x), ==, SP_MEDIA_ENCRYPTION_REQUIRED);
    g_assert_true (sp_account_get_enabled (x));
    g_assert_cmpint (sp_account_get_status (x), ==, SP_ACCOUNT_STATUS_UNREGISTERED);

    g_assert_cmpstr (sp_account_get_id (y), ==, "direct");
    g_assert_null (sp_account_get_username (y));
    g_assert_null (sp_account_get_password (y));
    g_assert_false (sp_account_has_credentials (y));
    g_assert_false (sp_account_get_enabled (y));
    g_assert_null (sp_account_get_realm (y));
    g_assert_false (sp_account_get_allow_md5_without_qop (y)); /* the default */
    g_assert_cmpuint (sp_account_get_ptime (y), ==, 0);        /* automatic */
    g_assert_cmpint (sp_account_get_media_encryption (y), ==, SP_MEDIA_ENCRYPTION_PREFERRED);
  }

  /* A bad account is refused and the files on disk stay as they were. */
  sp_account_set_server (b, "");
  g_assert_false (sp_settings_save_accounts (sub, list, 2, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "Direct"));
  g_clear_error (&error);
  g_clear_pointer (&loaded, g_ptr_array_unref);
  loaded = sp_settings_load_accounts (sub, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (loaded->len, ==, 2);
  g_assert_cmpstr (sp_account_get_server (loaded->pdata[1]), ==, "192.168.1.183");

  remove_dir (sub);
  g_rmdir (dir);
}

static void
test_settings_missing_and_bad (void)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, SP_SETTINGS_ACCOUNTS_FILE, NULL);
  g_autoptr (GPtrArray) loaded = NULL;
  g_autoptr (GError) error = NULL;

  loaded = sp_settings_load_accounts (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (loaded->len, ==, 0);
  g_clear_pointer (&loaded, g_ptr_array_unref);

  /* Invalid fields: loaded anyway, marked FAILED with the reason. */
  g_assert_true (g_file_set_contents (path,
                                      "[a1]\nserver=pbx:99999\nusername=bob\n"
                                      "[a2]\nserver=pbx\ntransport=sctp\n"
                                      "[a3]\nserver=pbx\nregister-interval=abc\n",
                                      -1, NULL));
  loaded = sp_settings_load_accounts (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (loaded->len, ==, 3);
  g_assert_cmpstr (sp_account_get_server (loaded->pdata[0]), ==, "pbx:99999");
  g_assert_cmpint (sp_account_get_status (loaded->pdata[0]), ==, SP_ACCOUNT_STATUS_FAILED);
  g_assert_nonnull (strstr (sp_account_get_status_reason (loaded->pdata[0]), "Bad port"));
  g_assert_cmpint (sp_account_get_status (loaded->pdata[1]), ==, SP_ACCOUNT_STATUS_FAILED);
  g_assert_nonnull (strstr (sp_account_get_status_reason (loaded->pdata[1]), "transport"));
  g_assert_cmpint (sp_account_get_status (loaded->pdata[2]), ==, SP_ACCOUNT_STATUS_FAILED);
  g_clear_pointer (&loaded, g_ptr_array_unref);

  /* Not a key file at all: an error, not a crash. */
  g_assert_true (g_file_set_contents (path, "this is [not\x01 a key file\n", -1, NULL));
  loaded = sp_settings_load_accounts (dir, &error);
  g_assert_null (loaded);
  g_assert_nonnull (error);

  remove_dir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ua/account/properties-notify", test_properties_notify);
  g_test_add_func ("/ua/account/generated-id", test_generated_id);
  g_test_add_func ("/ua/account/host-port", test_host_port);
  g_test_add_func ("/ua/account/host-port-allow-zero", test_host_port_allow_zero);
  g_test_add_func ("/ua/account/validate", test_validate);
  g_test_add_func ("/ua/account/debug-string-masks-password", test_debug_string_masks_password);
  g_test_add_func ("/ua/settings/round-trip", test_settings_round_trip);
  g_test_add_func ("/ua/settings/missing-and-bad", test_settings_missing_and_bad);
  return g_test_run ();
}
