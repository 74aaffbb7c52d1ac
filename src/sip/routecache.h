#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Which local address the route to a peer leaves from, for a process
 * bound to 0.0.0.0 or :: (the media-address policy: every SDP we send
 * names the address that peer can reach us on). Found by connecting a
 * UDP socket (nothing is sent), remembered for SP_SIP_ROUTE_CACHE_TTL_MS
 * so a busy server does not make one socket per SDP; routes change
 * rarely, and a changed one is learnt within that time. At most
 * SP_SIP_ROUTE_CACHE_MAX peers are remembered: the peers come from the
 * network. Main loop only. */

#define SP_SIP_ROUTE_CACHE_TTL_MS 5000
#define SP_SIP_ROUTE_CACHE_MAX    512

/* The local address the kernel would send from towards @remote_host (an
 * IP literal), found by connecting a UDP socket (nothing is sent); NULL
 * when there is no route or @remote_host is no address. Uncached. */
char *sp_sip_route_source (const char *remote_host);

typedef struct _SpSipRouteCache SpSipRouteCache;

SpSipRouteCache *sp_sip_route_cache_new (void);
void sp_sip_route_cache_free (SpSipRouteCache *cache);

/* The local address towards @remote_host (an IP literal; a v4-mapped
 * IPv6 address counts as the IPv4 one), NULL when it is no address or
 * there is no route. */
char *sp_sip_route_cache_lookup (SpSipRouteCache *cache, const char *remote_host);

/* The address to name to @remote_host in SDP (and Contact): @bound when
 * it is a real address; when @bound is a wildcard, the address the route
 * to @remote_host leaves from, of @bound's family where it has one (an
 * IPv4 peer of a dual-stack "::" socket gets an IPv4 address); @bound
 * itself when that is unknown. */
char *sp_sip_route_cache_local_host_towards (SpSipRouteCache *cache, const char *bound,
                                             const char *remote_host);

/* For tests: how long an answer is kept (default
 * SP_SIP_ROUTE_CACHE_TTL_MS); how many sockets lookups have opened (cache
 * misses); how many peers are remembered. */
void sp_sip_route_cache_set_ttl (SpSipRouteCache *cache, guint ttl_ms);
guint sp_sip_route_cache_get_n_probes (SpSipRouteCache *cache);
guint sp_sip_route_cache_get_n_entries (SpSipRouteCache *cache);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpSipRouteCache, sp_sip_route_cache_free)

G_END_DECLS
