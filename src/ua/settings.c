#include "ua/settings.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "i18n.h"

#define MAX_ACCOUNTS 64

static GKeyFile *
load_key_file (const char *path, gboolean *found, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;

  *found = FALSE;
  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &local))
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return g_steal_pointer (&kf);
      g_set_error (error, local->domain, local->code, "%s: %s", path, local->message);
      return NULL;
    }
  *found = TRUE;
  return g_steal_pointer (&kf);
}

static char *
get_string (GKeyFile *kf, const char *group, const char *key)
{
  return g_key_file_get_string (kf, group, key, NULL);
}

static SpAccount *
account_from_group (GKeyFile *kf, GKeyFile *secrets, const char *group)
{
  g_autoptr (SpAccount) account = sp_account_new (group);
  g_autofree char *name = get_string (kf, group, "name");
  g_autofree char *username = get_string (kf, group, "username");
  g_autofree char *server = get_string (kf, group, "server");
  g_autofree char *display_name = get_string (kf, group, "display-name");
  g_autofree char *transport = get_string (kf, group, "transport");
  g_autofree char *proxy = get_string (kf, group, "outbound-proxy");
  g_autofree char *realm = get_string (kf, group, "realm");
  g_autofree char *password = get_string (secrets, "passwords", group);
  g_autoptr (GError) problem = NULL;
  SpAccountTransport t = SP_ACCOUNT_TRANSPORT_UDP;
  guint interval = SP_ACCOUNT_DEFAULT_INTERVAL;
  gboolean enabled = TRUE;

  if (g_key_file_has_key (kf, group, "register-interval", NULL))
    {
      g_autoptr (GError) local = NULL;
      gint value = g_key_file_get_integer (kf, group, "register-interval", &local);
      if (local != NULL || value <= 0)
        g_set_error_literal (&problem, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                             _ ("Registration interval: not a positive number of seconds"));
      else
        interval = (guint) value;
    }
  if (g_key_file_has_key (kf, group, "enabled", NULL))
    enabled = g_key_file_get_boolean (kf, group, "enabled", NULL);

  sp_account_set_name (account, name);
  sp_account_set_username (account, username);
  sp_account_set_password (account, password);
  sp_account_set_server (account, server);
  sp_account_set_display_name (account, display_name);
  sp_account_set_outbound_proxy (account, proxy);
  sp_account_set_enabled (account, enabled);
  sp_account_set_realm (account, realm);
  sp_account_set_allow_md5_without_qop (
      account, g_key_file_get_boolean (kf, group, "allow-md5-without-qop", NULL));
  if (g_key_file_has_key (kf, group, "ptime", NULL))
    {
      gint ptime = g_key_file_get_integer (kf, group, "ptime", NULL);
      /* A value we cannot use leaves the account automatic, and says so. */
      if (ptime >= 0 && sp_account_ptime_is_valid ((guint) ptime))
        sp_account_set_ptime (account, (guint) ptime);
      else
        g_message ("Account %s in settings: ptime %d is not 10, 20, 30 or 40; automatic", group,
                   ptime);
    }

  if (g_key_file_has_key (kf, group, "media-encryption", NULL))
    {
      g_autofree char *text = g_key_file_get_string (kf, group, "media-encryption", NULL);
      SpMediaEncryption encryption;
      /* Unknown: the default (preferred), and said. */
      if (sp_media_encryption_from_string (text, &encryption))
        sp_account_set_media_encryption (account, encryption);
      else
        g_message ("Account %s in settings: media-encryption %s is not required, preferred or "
                   "off; preferred",
                   group, text ? text : "");
    }

  if (problem == NULL)
    sp_account_check_fields (server, transport, proxy, interval, &problem);
  if (transport != NULL)
    sp_account_transport_from_string (transport, &t, NULL);
  sp_account_set_transport (account, t);
  sp_account_set_register_interval (account, interval);

  if (password != NULL)
    memset (password, 0, strlen (password));
  if (problem != NULL)
    {
      g_message ("Account %s in settings: %s", group, problem->message);
      sp_account_set_status (account, SP_ACCOUNT_STATUS_FAILED, problem->message);
    }
  return g_steal_pointer (&account);
}

GPtrArray *
sp_settings_load_accounts (const char *config_dir, GError **error)
{
  g_autofree char *path = g_build_filename (config_dir, SP_SETTINGS_ACCOUNTS_FILE, NULL);
  g_autofree char *secrets_path = g_build_filename (config_dir, SP_SETTINGS_PASSWORDS_FILE, NULL);
  g_autoptr (GKeyFile) kf = NULL;
  g_autoptr (GKeyFile) secrets = NULL;
  g_autoptr (GPtrArray) accounts = g_ptr_array_new_with_free_func (g_object_unref);
  g_auto (GStrv) groups = NULL;
  gboolean found = FALSE;
  gboolean secrets_found = FALSE;

  g_return_val_if_fail (config_dir != NULL, NULL);

  kf = load_key_file (path, &found, error);
  if (kf == NULL)
    return NULL;
  secrets = load_key_file (secrets_path, &secrets_found, error);
  if (secrets == NULL)
    return NULL;

  groups = g_key_file_get_groups (kf, NULL);
  for (guint i = 0; groups[i] != NULL && accounts->len < MAX_ACCOUNTS; i++)
    g_ptr_array_add (accounts, account_from_group (kf, secrets, groups[i]));
  return g_steal_pointer (&accounts);
}

static gboolean
ensure_dir (const char *dir, GError **error)
{
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), _ ("Cannot create %s: %s"),
                   dir, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

static gboolean
write_key_file (GKeyFile *kf, const char *path, int mode, GError **error)
{
  gsize len = 0;
  g_autofree char *data = g_key_file_to_data (kf, &len, NULL);
  gboolean ok = g_file_set_contents_full (
      path, data, len, G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_ONLY_EXISTING, mode,
      error);

  /* The secrets file may hold passwords: wipe our copy of its text. */
  memset (data, 0, len);
  return ok;
}

static void
set_optional (GKeyFile *kf, const char *group, const char *key, const char *value)
{
  if (value != NULL)
    g_key_file_set_string (kf, group, key, value);
}

gboolean
sp_settings_save_accounts (const char *config_dir, SpAccount *const *accounts, guint n_accounts,
                           GError **error)
{
  g_autofree char *path = g_build_filename (config_dir, SP_SETTINGS_ACCOUNTS_FILE, NULL);
  g_autofree char *secrets_path = g_build_filename (config_dir, SP_SETTINGS_PASSWORDS_FILE, NULL);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GKeyFile) secrets = g_key_file_new ();
  g_autoptr (GHashTable) ids = g_hash_table_new (g_str_hash, g_str_equal);

  g_return_val_if_fail (config_dir != NULL, FALSE);

  for (guint i = 0; i < n_accounts; i++)
    {
      SpAccount *a = accounts[i];
      const char *label = sp_account_get_name (a) ? sp_account_get_name (a) : sp_account_get_id (a);
      g_autoptr (GError) local = NULL;

      if (!sp_account_validate (a, &local))
        {
          g_set_error (error, local->domain, local->code, _ ("Account \"%s\": %s"), label,
                       local->message);
          return FALSE;
        }
      if (!g_hash_table_add (ids, (gpointer) sp_account_get_id (a)))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS, _ ("Account \"%s\": duplicate id %s"),
                       label, sp_account_get_id (a));
          return FALSE;
        }
    }

  for (guint i = 0; i < n_accounts; i++)
    {
      SpAccount *a = accounts[i];
      const char *group = sp_account_get_id (a);

      g_key_file_set_string (kf, group, "protocol", sp_account_get_protocol (a));
      set_optional (kf, group, "name", sp_account_get_name (a));
      set_optional (kf, group, "username", sp_account_get_username (a));
      set_optional (kf, group, "server", sp_account_get_server (a));
      set_optional (kf, group, "display-name", sp_account_get_display_name (a));
      g_key_file_set_string (kf, group, "transport",
                             sp_account_transport_to_string (sp_account_get_transport (a)));
      set_optional (kf, group, "outbound-proxy", sp_account_get_outbound_proxy (a));
      g_key_file_set_integer (kf, group, "register-interval",
                              (gint) sp_account_get_register_interval (a));
      g_key_file_set_boolean (kf, group, "enabled", sp_account_get_enabled (a));
      set_optional (kf, group, "realm", sp_account_get_realm (a));
      if (sp_account_get_allow_md5_without_qop (a))
        g_key_file_set_boolean (kf, group, "allow-md5-without-qop", TRUE);
      if (sp_account_get_ptime (a) != 0)
        g_key_file_set_integer (kf, group, "ptime", (gint) sp_account_get_ptime (a));
      if (sp_account_get_media_encryption (a) != SP_MEDIA_ENCRYPTION_PREFERRED)
        g_key_file_set_string (kf, group, "media-encryption",
                               sp_media_encryption_to_string (sp_account_get_media_encryption (a)));
      if (sp_account_get_password (a) != NULL)
        g_key_file_set_string (secrets, "passwords", group, sp_account_get_password (a));
    }

  if (!ensure_dir (config_dir, error))
    return FALSE;
  /* Secrets first: a crash in between leaves a password with no account,
   * never an account whose password was lost. */
  if (!write_key_file (secrets, secrets_path, 0600, error))
    return FALSE;
  /* g_file_set_contents_full keeps an existing file's mode only on some
   * paths; make sure an older, looser file is tightened. */
  if (g_chmod (secrets_path, 0600) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), _ ("Cannot protect %s: %s"),
                   secrets_path, g_strerror (saved));
      return FALSE;
    }
  return write_key_file (kf, path, 0644, error);
}
