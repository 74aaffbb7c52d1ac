#include "sip/source-key.h"

#include <gio/gio.h>
#include <string.h>

static const guint8 v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

char *
sp_sip_source_key (const char *host)
{
  g_autoptr (GInetAddress) address = NULL;
  g_autoptr (GInetAddress) prefix = NULL;
  g_autofree char *text = NULL;
  const guint8 *bytes;
  guint8 net[16];

  if (host == NULL)
    return g_strdup ("");
  /* The common case, on every request: an IPv4 address as the transport
   * wrote it (already canonical), or a name. No parse, no object. */
  if (strchr (host, ':') == NULL)
    return g_strdup (host);
  address = g_inet_address_new_from_string (host);
  if (address == NULL)
    return g_strdup (host);
  if (g_inet_address_get_family (address) != G_SOCKET_FAMILY_IPV6)
    return g_inet_address_to_string (address);
  bytes = g_inet_address_to_bytes (address);
  if (memcmp (bytes, v4_mapped, sizeof v4_mapped) == 0)
    {
      g_autoptr (GInetAddress) v4 =
          g_inet_address_new_from_bytes (bytes + 12, G_SOCKET_FAMILY_IPV4);
      return g_inet_address_to_string (v4);
    }
  memcpy (net, bytes, 8);
  memset (net + 8, 0, 8);
  prefix = g_inet_address_new_from_bytes (net, G_SOCKET_FAMILY_IPV6);
  text = g_inet_address_to_string (prefix);
  return g_strconcat (text, "/64", NULL);
}
