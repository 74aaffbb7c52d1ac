#include "ua/account-credentials.h"

#include "ua/hostport.h"

/* @text ("host[:port]") split into @host and @port; nothing when unset
 * or unparsable (such a setting names no server). */
static void
split_setting (const char *text, char **host, guint16 *port)
{
  *host = NULL;
  *port = 0;
  if (text == NULL || *text == '\0' || !sp_host_port_parse (text, host, port, NULL))
    {
      g_clear_pointer (host, g_free);
      *port = 0;
    }
}

static void
settings_from_account (SpAccount *account, SpCredentialsSettings *s)
{
  const char *name = sp_account_get_name (account);

  s->label = g_strdup (name != NULL ? name : sp_account_get_id (account));
  s->username = g_strdup (sp_account_get_username (account));
  s->password = g_strdup (sp_account_get_password (account));
  s->realm = g_strdup (sp_account_get_realm (account));
  split_setting (sp_account_get_server (account), &s->server_host, &s->server_port);
  split_setting (sp_account_get_outbound_proxy (account), &s->proxy_host, &s->proxy_port);
  s->allow_md5_without_qop = sp_account_get_allow_md5_without_qop (account);
}

static void
settings_free (SpCredentialsSettings *s)
{
  g_free (s->label);
  g_free (s->username);
  g_free (s->password);
  g_free (s->realm);
  g_free (s->server_host);
  g_free (s->proxy_host);
}

static void
on_account_notify (SpAccount *account, GParamSpec *pspec, SpCredentials *credentials)
{
  SpCredentialsSettings s = { 0 };

  settings_from_account (account, &s);
  sp_credentials_update (credentials, &s);
  settings_free (&s);
}

SpCredentials *
sp_account_credentials_new (SpAccount *account)
{
  SpCredentialsSettings s = { 0 };
  SpCredentials *credentials;

  g_return_val_if_fail (SP_IS_ACCOUNT (account), NULL);
  settings_from_account (account, &s);
  credentials = sp_credentials_new (&s);
  settings_free (&s);
  sp_credentials_set_owner (credentials, G_OBJECT (account));
  /* Disconnected by the store when it goes (its owner's handlers with
   * the store as data). */
  g_signal_connect (account, "notify", G_CALLBACK (on_account_notify), credentials);
  return credentials;
}

SpAccount *
sp_account_credentials_get_account (SpCredentials *credentials)
{
  return SP_ACCOUNT (sp_credentials_get_owner (credentials));
}
