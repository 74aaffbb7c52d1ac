/* The route-source cache: see routecache.h. */
#include "config.h"

#include "sip/routecache.h"

#include <gio/gio.h>
#include <string.h>

typedef struct
{
  char *local; /* NULL: no route */
  gint64 expires_us;
} Entry;

struct _SpSipRouteCache
{
  GHashTable *entries; /* remote host -> Entry */
  gint64 ttl_us;
  guint n_probes;
};

static void
entry_free (gpointer data)
{
  Entry *e = data;

  g_free (e->local);
  g_free (e);
}

SpSipRouteCache *
sp_sip_route_cache_new (void)
{
  SpSipRouteCache *cache = g_new0 (SpSipRouteCache, 1);

  cache->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, entry_free);
  cache->ttl_us = SP_SIP_ROUTE_CACHE_TTL_MS * (gint64) 1000;
  return cache;
}

void
sp_sip_route_cache_free (SpSipRouteCache *cache)
{
  if (cache == NULL)
    return;
  g_hash_table_unref (cache->entries);
  g_free (cache);
}

/* "::ffff:198.18.0.2" -> "198.18.0.2": a dual-stack socket names IPv4
 * peers so, and SDP must name them (and us) in IPv4. */
static const char *
unmapped (const char *host)
{
  if (g_ascii_strncasecmp (host, "::ffff:", 7) == 0 && strchr (host + 7, '.') != NULL)
    return host + 7;
  return host;
}

char *
sp_sip_route_source (const char *remote_host)
{
  g_autoptr (GInetAddress) remote = NULL;
  g_autoptr (GSocketAddress) dest = NULL;
  g_autoptr (GSocketAddress) local = NULL;
  g_autoptr (GSocket) sock = NULL;

  remote = remote_host ? g_inet_address_new_from_string (remote_host) : NULL;
  if (remote == NULL || g_inet_address_get_is_any (remote))
    return NULL;
  /* Connecting a UDP socket makes the kernel pick the route and its
   * source address; nothing is sent. */
  sock = g_socket_new (g_inet_address_get_family (remote), G_SOCKET_TYPE_DATAGRAM,
                       G_SOCKET_PROTOCOL_UDP, NULL);
  dest = g_inet_socket_address_new (remote, 9);
  if (sock == NULL || !g_socket_connect (sock, dest, NULL, NULL))
    return NULL;
  local = g_socket_get_local_address (sock, NULL);
  if (local == NULL)
    return NULL;
  return g_inet_address_to_string (
      g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (local)));
}

/* Room for one more: the expired go first; a table full of live entries
 * (a flood of sources) starts again, which costs only probes. */
static void
make_room (SpSipRouteCache *cache, gint64 now)
{
  GHashTableIter iter;
  gpointer value;

  if (g_hash_table_size (cache->entries) < SP_SIP_ROUTE_CACHE_MAX)
    return;
  g_hash_table_iter_init (&iter, cache->entries);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((Entry *) value)->expires_us <= now)
      g_hash_table_iter_remove (&iter);
  if (g_hash_table_size (cache->entries) >= SP_SIP_ROUTE_CACHE_MAX)
    g_hash_table_remove_all (cache->entries);
}

char *
sp_sip_route_cache_lookup (SpSipRouteCache *cache, const char *remote_host)
{
  gint64 now = g_get_monotonic_time ();
  const char *host;
  Entry *e;

  g_return_val_if_fail (cache != NULL, NULL);
  if (remote_host == NULL || !g_hostname_is_ip_address (remote_host))
    return NULL;
  host = unmapped (remote_host);
  e = g_hash_table_lookup (cache->entries, host);
  if (e != NULL && e->expires_us > now)
    return g_strdup (e->local);
  make_room (cache, now);
  e = g_new0 (Entry, 1);
  e->local = sp_sip_route_source (host);
  e->expires_us = now + cache->ttl_us;
  cache->n_probes++;
  g_hash_table_replace (cache->entries, g_strdup (host), e);
  return g_strdup (e->local);
}

char *
sp_sip_route_cache_local_host_towards (SpSipRouteCache *cache, const char *bound,
                                       const char *remote_host)
{
  g_autoptr (GInetAddress) address = bound ? g_inet_address_new_from_string (bound) : NULL;
  char *routed;

  if (address == NULL || !g_inet_address_get_is_any (address))
    return g_strdup (bound);
  routed = sp_sip_route_cache_lookup (cache, remote_host);
  /* 0.0.0.0 cannot speak IPv6: a route out of family is no answer. */
  if (routed != NULL && g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV4 &&
      strchr (routed, ':') != NULL)
    g_clear_pointer (&routed, g_free);
  return routed != NULL ? routed : g_strdup (bound);
}

void
sp_sip_route_cache_set_ttl (SpSipRouteCache *cache, guint ttl_ms)
{
  g_return_if_fail (cache != NULL);
  cache->ttl_us = ttl_ms * (gint64) 1000;
}

guint
sp_sip_route_cache_get_n_probes (SpSipRouteCache *cache)
{
  g_return_val_if_fail (cache != NULL, 0);
  return cache->n_probes;
}

guint
sp_sip_route_cache_get_n_entries (SpSipRouteCache *cache)
{
  g_return_val_if_fail (cache != NULL, 0);
  return g_hash_table_size (cache->entries);
}
