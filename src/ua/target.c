#include "ua/target.h"

#include <gio/gio.h>
#include <string.h>

#include "i18n.h"

#include "sip/transport.h"
#include "ua/hostport.h"

/* Longer than any address or number a person types; bounds the copies. */
#define MAX_TARGET_LENGTH 1024

/* RFC 3261 user part: unreserved, user-unreserved, the rest escaped.
 * g_uri_escape_string keeps ALPHA DIGIT - . _ ~ on its own. */
#define USER_ALLOWED "!*'()&=+$,;?/"

void
sp_target_free (SpTarget *target)
{
  if (target == NULL)
    return;
  g_clear_pointer (&target->request_uri, sp_sip_uri_free);
  g_free (target->next_hop_host);
  g_clear_object (&target->account);
  g_free (target);
}

static gboolean fail (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
fail (GError **error, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, message);
  return FALSE;
}

gboolean
sp_target_is_number (const char *text, char **digits)
{
  g_autoptr (GString) out = g_string_new (NULL);
  gboolean any_digit = FALSE;

  if (text == NULL)
    return FALSE;
  for (const char *p = text; *p != '\0'; p++)
    {
      if (g_ascii_isdigit (*p))
        any_digit = TRUE;
      else if (*p == '+' && out->len == 0)
        ;
      else if (*p == '*' || *p == '#')
        ;
      else if (*p == ' ' || *p == '-' || *p == '(' || *p == ')')
        continue;
      else
        return FALSE;
      g_string_append_c (out, *p);
    }
  if (!any_digit && out->len == 0)
    return FALSE;
  /* "*", "#" alone are service codes some PBXs use; accept them too. */
  if (digits != NULL)
    *digits = g_string_free (g_steal_pointer (&out), FALSE);
  return TRUE;
}

static gboolean
has_scheme (const char *text, const char *scheme)
{
  gsize n = strlen (scheme);
  return g_ascii_strncasecmp (text, scheme, n) == 0 && text[n] == ':';
}

/* Next hop and transport for a request to @uri with no account. */
static void
route_to_uri (SpTarget *target)
{
  const SpSipUri *uri = target->request_uri;
  const char *transport = sp_sip_uri_get_param (uri, "transport");

  target->next_hop_host = g_strdup (sp_sip_uri_get_host (uri));
  target->next_hop_port = sp_sip_uri_get_port (uri);
  target->transport = SP_ACCOUNT_TRANSPORT_UDP;
  /* RFC 3261 26.2.2: sips: is TLS to the next hop; so is ;transport=tls. */
  if (sp_sip_uri_get_scheme (uri) == SP_URI_SCHEME_SIPS ||
      (transport != NULL && g_ascii_strcasecmp (transport, "tls") == 0))
    target->transport = SP_ACCOUNT_TRANSPORT_TLS;
  else if (transport != NULL && g_ascii_strcasecmp (transport, "tcp") == 0)
    target->transport = SP_ACCOUNT_TRANSPORT_TCP;
}

/* Through the account: its outbound proxy if any, else its server. */
static gboolean
route_to_account (SpTarget *target, SpAccount *account, GError **error)
{
  const char *proxy = sp_account_get_outbound_proxy (account);
  const char *hop = proxy != NULL ? proxy : sp_account_get_server (account);
  g_autoptr (GError) local = NULL;

  if (!sp_host_port_parse (hop, &target->next_hop_host, &target->next_hop_port, &local))
    return fail (error, _ ("Account \"%s\": %s"),
                 sp_account_get_name (account) ? sp_account_get_name (account)
                                               : sp_account_get_id (account),
                 local->message);
  target->transport = sp_account_get_transport (account);
  target->account = g_object_ref (account);
  return TRUE;
}

static SpSipUri *
parse_uri (const char *text, GError **error)
{
  g_autoptr (GError) local = NULL;
  SpSipUri *uri = sp_sip_uri_parse (text, -1, &local);

  if (uri == NULL)
    fail (error, _ ("\"%s\" is not a valid address: %s"), text, local->message);
  return uri;
}

static SpTarget *
target_from_uri_text (const char *text, SpAccount *account, GError **error)
{
  g_autoptr (SpTarget) target = g_new0 (SpTarget, 1);

  target->request_uri = parse_uri (text, error);
  if (target->request_uri == NULL)
    return NULL;

  switch (sp_sip_uri_get_scheme (target->request_uri))
    {
      case SP_URI_SCHEME_TEL:
        {
          /* RFC 3261 19.1.6: a tel: number goes to the account's server as
           * sip:NUMBER@server;user=phone. */
          g_autofree char *host = NULL;
          g_autofree char *hostport = NULL;
          g_autofree char *sip = NULL;
          g_autofree char *user = NULL;
          guint16 port = 0;

          if (account == NULL || !sp_account_get_server_host_port (account, &host, &port))
            {
              fail (error, _ ("Calling %s needs an account with a server"), text);
              return NULL;
            }
          user =
              g_uri_escape_string (sp_sip_uri_get_user (target->request_uri), USER_ALLOWED, FALSE);
          hostport = sp_sip_host_port_to_string (host, port);
          sip =
              g_strdup_printf ("sip:%s@%s;user=phone%s", user, hostport,
                               sp_account_transport_uri_param (sp_account_get_transport (account)));
          g_clear_pointer (&target->request_uri, sp_sip_uri_free);
          target->request_uri = parse_uri (sip, error);
          if (target->request_uri == NULL || !route_to_account (target, account, error))
            return NULL;
          target->kind = SP_TARGET_VIA_ACCOUNT;
          return g_steal_pointer (&target);
        }
      case SP_URI_SCHEME_SIP:
      case SP_URI_SCHEME_SIPS:
        break;
      case SP_URI_SCHEME_OTHER:
      default:
        fail (error, _ ("Cannot call \"%s\": only sip:, sips: and tel: addresses are supported"),
              text);
        return NULL;
    }

  if (sp_sip_uri_get_host (target->request_uri) == NULL ||
      *sp_sip_uri_get_host (target->request_uri) == '\0')
    {
      fail (error, _ ("\"%s\" has no host"), text);
      return NULL;
    }
  target->kind = SP_TARGET_URI;
  if (account != NULL && sp_account_get_outbound_proxy (account) != NULL)
    {
      if (!route_to_account (target, account, error))
        return NULL;
    }
  else
    {
      route_to_uri (target);
      if (account != NULL)
        target->account = g_object_ref (account);
    }
  return g_steal_pointer (&target);
}

static SpTarget *
target_direct (const char *host, guint16 port, GError **error)
{
  g_autoptr (SpTarget) target = g_new0 (SpTarget, 1);
  g_autofree char *hostport = sp_sip_host_port_to_string (host, port);
  g_autofree char *text = g_strdup_printf ("sip:%s", hostport);

  target->request_uri = parse_uri (text, error);
  if (target->request_uri == NULL)
    return NULL;
  target->kind = SP_TARGET_DIRECT;
  route_to_uri (target);
  return g_steal_pointer (&target);
}

static SpTarget *
target_via_account (const char *user, SpAccount *account, GError **error)
{
  g_autoptr (SpTarget) target = g_new0 (SpTarget, 1);
  g_autofree char *host = NULL;
  g_autofree char *hostport = NULL;
  g_autofree char *escaped = g_uri_escape_string (user, USER_ALLOWED, FALSE);
  g_autofree char *text = NULL;
  guint16 port = 0;

  if (!sp_account_get_server_host_port (account, &host, &port))
    {
      fail (error, _ ("Account \"%s\" has no valid server to route \"%s\" through"),
            sp_account_get_name (account) ? sp_account_get_name (account)
                                          : sp_account_get_id (account),
            user);
      return NULL;
    }
  hostport = sp_sip_host_port_to_string (host, port);
  text = g_strdup_printf ("sip:%s@%s%s", escaped, hostport,
                          sp_account_transport_uri_param (sp_account_get_transport (account)));
  target->request_uri = parse_uri (text, error);
  if (target->request_uri == NULL || !route_to_account (target, account, error))
    return NULL;
  target->kind = SP_TARGET_VIA_ACCOUNT;
  return g_steal_pointer (&target);
}

/* "mailto:", "http:": RFC 3986 scheme syntax before a colon. */
static gboolean
has_other_scheme (const char *text)
{
  const char *p = text;

  if (!g_ascii_isalpha (*p))
    return FALSE;
  while (g_ascii_isalnum (*p) || *p == '+' || *p == '-' || *p == '.')
    p++;
  return *p == ':';
}

/* "host:port", "[v6]:port", a bare IPv4/IPv6 literal. */
static gboolean
looks_like_address (const char *text)
{
  const char *colon = strchr (text, ':');

  if (text[0] == '[' || sp_host_is_ip_literal (text))
    return TRUE;
  /* One colon followed by digits only: a port. */
  if (colon != NULL && strchr (colon + 1, ':') == NULL && colon[1] != '\0')
    {
      for (const char *p = colon + 1; *p != '\0'; p++)
        if (!g_ascii_isdigit (*p))
          return FALSE;
      return TRUE;
    }
  return FALSE;
}

SpTarget *
sp_target_parse (const char *text, SpAccount *account, GError **error)
{
  g_autofree char *trimmed = NULL;
  g_autofree char *digits = NULL;

  g_return_val_if_fail (account == NULL || SP_IS_ACCOUNT (account), NULL);

  if (text == NULL || strlen (text) > MAX_TARGET_LENGTH)
    {
      fail (error, _ ("The address is too long"));
      return NULL;
    }
  trimmed = g_strstrip (g_strdup (text));
  if (*trimmed == '\0')
    {
      fail (error, _ ("Enter a number, a SIP address or an IP address to call"));
      return NULL;
    }

  if (has_scheme (trimmed, "sip") || has_scheme (trimmed, "sips") || has_scheme (trimmed, "tel"))
    return target_from_uri_text (trimmed, account, error);
  if (has_other_scheme (trimmed) && !looks_like_address (trimmed))
    {
      fail (error, _ ("Cannot call \"%s\": only sip:, sips: and tel: addresses are supported"),
            trimmed);
      return NULL;
    }

  if (strchr (trimmed, '@') != NULL)
    {
      g_autofree char *uri = g_strdup_printf ("sip:%s", trimmed);
      return target_from_uri_text (uri, account, error);
    }

  if (looks_like_address (trimmed))
    {
      g_autofree char *host = NULL;
      g_autoptr (GError) local = NULL;
      guint16 port = 0;

      if (!sp_host_port_parse (trimmed, &host, &port, &local))
        {
          fail (error, "%s", local->message);
          return NULL;
        }
      return target_direct (host, port, error);
    }

  if (sp_target_is_number (trimmed, &digits))
    {
      if (account == NULL)
        {
          fail (error,
                _ ("Calling the number %s needs an account; to call a computer directly, "
                   "type its address (e.g. 192.168.1.183)"),
                trimmed);
          return NULL;
        }
      return target_via_account (digits, account, error);
    }

  if (account != NULL)
    {
      if (strchr (trimmed, ' ') != NULL)
        {
          fail (error, _ ("\"%s\" contains spaces: type a number, a user name or an address"),
                trimmed);
          return NULL;
        }
      return target_via_account (trimmed, account, error);
    }

  /* No account: a bare word is a host name ("localhost", "pc2.lan"). */
  {
    g_autofree char *host = NULL;
    g_autoptr (GError) local = NULL;
    guint16 port = 0;

    if (!sp_host_port_parse (trimmed, &host, &port, &local))
      {
        fail (error, _ ("\"%s\" is neither a number, a SIP address nor a host name"), trimmed);
        return NULL;
      }
    return target_direct (host, port, error);
  }
}

SpSipNameAddr *
sp_target_make_from (SpAccount *account, const char *display_name, const char *user,
                     const char *local_host, guint16 local_port)
{
  g_autofree char *text = NULL;
  g_autoptr (SpSipUri) uri = NULL;
  const char *display = display_name;

  if (account != NULL && sp_account_get_username (account) != NULL)
    {
      g_autofree char *host = NULL;
      g_autofree char *escaped =
          g_uri_escape_string (sp_account_get_username (account), USER_ALLOWED, FALSE);
      guint16 port = 0;

      if (display == NULL)
        display = sp_account_get_display_name (account);
      if (sp_account_get_server_host_port (account, &host, &port))
        {
          g_autofree char *h = sp_sip_host_port_to_string (host, 0);
          text = g_strdup_printf ("sip:%s@%s", escaped, h);
        }
    }
  if (text == NULL)
    {
      g_autofree char *escaped = g_uri_escape_string (
          user != NULL && *user != '\0' ? user : "anonymous", USER_ALLOWED, FALSE);
      g_autofree char *hostport =
          sp_sip_host_port_to_string (local_host, local_port == 5060 ? 0 : local_port);
      if (display == NULL && account != NULL)
        display = sp_account_get_display_name (account);
      text = g_strdup_printf ("sip:%s@%s", escaped, hostport);
    }
  uri = sp_sip_uri_parse (text, -1, NULL);
  if (uri == NULL)
    return NULL;
  return sp_sip_name_addr_new (display != NULL && *display != '\0' ? display : NULL, uri);
}
