#include "ua/hostport.h"

#include <gio/gio.h>
#include <string.h>

#include "i18n.h"

/* Longest host name DNS allows (RFC 1035), plus room for an IPv6 scope. */
#define MAX_HOST_LENGTH 255

gboolean
sp_host_is_ip_literal (const char *text)
{
  return text != NULL && g_hostname_is_ip_address (text);
}

static gboolean
parse_port (const char *text, SpHostPortFlags flags, guint16 *port, GError **error)
{
  guint min = flags & SP_HOST_PORT_ALLOW_PORT_0 ? 0 : 1;
  guint64 value = 0;

  if (*text == '\0' || strlen (text) > 5 ||
      !g_ascii_string_to_unsigned (text, 10, min, 65535, &value, NULL))
    {
      if (min == 0)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                     _ ("Bad port \"%s\": expected a number from 0 to 65535"), text);
      else
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                     _ ("Bad port \"%s\": expected a number from 1 to 65535"), text);
      return FALSE;
    }
  *port = (guint16) value;
  return TRUE;
}

/* A DNS name (letters, digits, '-', '.', '_') or an IPv4 literal. */
static gboolean
host_name_is_valid (const char *host)
{
  if (*host == '\0' || strlen (host) > MAX_HOST_LENGTH)
    return FALSE;
  for (const char *p = host; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '.' && *p != '_')
      return FALSE;
  return TRUE;
}

gboolean
sp_host_port_parse (const char *text, char **host, guint16 *port, GError **error)
{
  return sp_host_port_parse_full (text, SP_HOST_PORT_DEFAULT, host, port, NULL, error);
}

gboolean
sp_host_port_parse_full (const char *text, SpHostPortFlags flags, char **host, guint16 *port,
                         gboolean *port_given, GError **error)
{
  g_autofree char *h = NULL;
  guint16 p = 0;
  gboolean given = FALSE;

  g_return_val_if_fail (host != NULL && port != NULL, FALSE);

  if (text == NULL || *text == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _ ("No host given"));
      return FALSE;
    }
  if (strlen (text) > MAX_HOST_LENGTH + 8)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _ ("Host name too long"));
      return FALSE;
    }

  if (text[0] == '[')
    {
      const char *close = strchr (text, ']');
      if (close == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _ ("Bad address \"%s\": missing ']'"), text);
          return FALSE;
        }
      h = g_strndup (text + 1, close - text - 1);
      if (!g_hostname_is_ip_address (h) || strchr (h, ':') == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _ ("Bad address \"%s\": not an IPv6 address inside [ ]"), text);
          return FALSE;
        }
      if (close[1] == ':')
        {
          if (!parse_port (close + 2, flags, &p, error))
            return FALSE;
          given = TRUE;
        }
      else if (close[1] != '\0')
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _ ("Bad address \"%s\": unexpected text after ']'"), text);
          return FALSE;
        }
    }
  else
    {
      const char *colon = strchr (text, ':');
      if (colon != NULL && strchr (colon + 1, ':') != NULL)
        {
          /* Several colons: only a bare IPv6 address, which takes no port. */
          if (!g_hostname_is_ip_address (text))
            {
              g_set_error (
                  error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                  _ ("Bad address \"%s\": write an IPv6 address with a port as [ADDR]:PORT"), text);
              return FALSE;
            }
          h = g_strdup (text);
        }
      else
        {
          h = colon ? g_strndup (text, colon - text) : g_strdup (text);
          if (colon != NULL && !parse_port (colon + 1, flags, &p, error))
            return FALSE;
          given = colon != NULL;
          if (*h == '\0')
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _ ("Bad address \"%s\": no host before the port"), text);
              return FALSE;
            }
          if (!host_name_is_valid (h))
            {
              g_set_error (
                  error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                  _ ("Bad host \"%s\": only letters, digits, '-', '_' and '.' are allowed"), h);
              return FALSE;
            }
        }
    }

  *host = g_ascii_strdown (h, -1);
  *port = p;
  if (port_given != NULL)
    *port_given = given;
  return TRUE;
}
