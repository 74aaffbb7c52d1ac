#include "ua/resolve.h"

#include "sip/stack.h"

#include <string.h>

#include "i18n.h"

typedef struct
{
  SpSipPeer peer;
  GSocketFamily family;
} Lookup;

GSocketFamily
sp_ua_host_family (const char *host)
{
  if (host == NULL || !g_hostname_is_ip_address (host))
    return G_SOCKET_FAMILY_INVALID;
  return strchr (host, ':') != NULL ? G_SOCKET_FAMILY_IPV6 : G_SOCKET_FAMILY_IPV4;
}

/* The first address of the wanted family; without one, IPv4 first. */
static GInetAddress *
pick_address (GList *addresses, GSocketFamily family)
{
  for (GList *l = addresses; l != NULL; l = l->next)
    if (family != G_SOCKET_FAMILY_INVALID && g_inet_address_get_family (l->data) == family)
      return l->data;
  if (family != G_SOCKET_FAMILY_INVALID)
    return NULL;
  for (GList *l = addresses; l != NULL; l = l->next)
    if (g_inet_address_get_family (l->data) == G_SOCKET_FAMILY_IPV4)
      return l->data;
  return addresses ? addresses->data : NULL;
}

static void
on_lookup (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GTask) task = data;
  Lookup *lookup = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  GList *addresses = g_resolver_lookup_by_name_finish (G_RESOLVER (source), result, &error);
  GInetAddress *address;
  g_autofree char *text = NULL;

  if (addresses == NULL)
    {
      /* Translators: a host name, then the resolver's reason. */
      g_task_return_new_error (task, error->domain, error->code, _ ("Cannot resolve %s: %s"),
                               lookup->peer.host, error->message);
      return;
    }
  address = pick_address (addresses, lookup->family);
  if (address == NULL)
    {
      if (lookup->family == G_SOCKET_FAMILY_IPV6)
        g_task_return_new_error (task, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND,
                                 _ ("Cannot resolve %s: it has no IPv6 address"),
                                 lookup->peer.host);
      else
        g_task_return_new_error (task, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND,
                                 _ ("Cannot resolve %s: it has no IPv4 address"),
                                 lookup->peer.host);
      g_resolver_free_addresses (addresses);
      return;
    }
  text = g_inet_address_to_string (address);
  g_resolver_free_addresses (addresses);
  sp_sip_peer_init (&lookup->peer, lookup->peer.kind, text, lookup->peer.port);
  g_task_return_boolean (task, TRUE);
}

void
sp_ua_resolve_peer_async (const char *host, guint16 port, SpSipTransportKind kind,
                          GSocketFamily family, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  Lookup *lookup = g_new0 (Lookup, 1);
  g_autoptr (GResolver) resolver = NULL;

  g_task_set_source_tag (task, sp_ua_resolve_peer_async);
  g_task_set_task_data (task, lookup, g_free);
  lookup->family = family;
  if (host == NULL || *host == '\0' || strlen (host) >= sizeof lookup->peer.host)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _ ("Cannot resolve \"%s\": not a host name"), host ? host : "");
      return;
    }
  sp_sip_peer_init (&lookup->peer, kind, host,
                    port ? port : sp_sip_transport_kind_default_port (kind));
  if (g_hostname_is_ip_address (host))
    {
      g_task_return_boolean (task, TRUE); /* GTask defers the callback */
      return;
    }
  resolver = g_resolver_get_default ();
  g_resolver_lookup_by_name_with_flags_async (
      resolver, host,
      family == G_SOCKET_FAMILY_IPV4   ? G_RESOLVER_NAME_LOOKUP_FLAGS_IPV4_ONLY
      : family == G_SOCKET_FAMILY_IPV6 ? G_RESOLVER_NAME_LOOKUP_FLAGS_IPV6_ONLY
                                       : G_RESOLVER_NAME_LOOKUP_FLAGS_DEFAULT,
      cancellable, on_lookup, g_steal_pointer (&task));
}

gboolean
sp_ua_resolve_peer_finish (GAsyncResult *result, SpSipPeer *peer, GError **error)
{
  GTask *task = G_TASK (result);

  if (!g_task_propagate_boolean (task, error))
    return FALSE;
  *peer = ((Lookup *) g_task_get_task_data (task))->peer;
  return TRUE;
}
