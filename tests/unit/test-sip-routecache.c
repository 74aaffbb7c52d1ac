/* The media-address policy (sip/routecache.h) on loopback: which address
 * an SDP names to a peer for each bind, what is cached, and the cap on
 * the peers a stranger can make it remember. Linux sends to any 127/8
 * address from 127.0.0.1. */
#include <gio/gio.h>

#include "sip/routecache.h"

/* A real bind is named as it is, whoever the peer: no socket is opened. */
static void
test_bound_address_kept (void)
{
  g_autoptr (SpSipRouteCache) cache = sp_sip_route_cache_new ();
  g_autofree char *a = sp_sip_route_cache_local_host_towards (cache, "127.0.55.3", "127.0.55.9");
  g_autofree char *b = sp_sip_route_cache_local_host_towards (cache, "::1", "::1");

  g_assert_cmpstr (a, ==, "127.0.55.3");
  g_assert_cmpstr (b, ==, "::1");
  g_assert_cmpuint (sp_sip_route_cache_get_n_probes (cache), ==, 0);
}

/* 0.0.0.0: the route's source address; an IPv4 peer seen through a
 * dual-stack socket (::ffff:a.b.c.d) is the IPv4 peer; what is no
 * address, or of the other family, leaves the wildcard (nothing better
 * is known) and never crashes. */
static void
test_wildcard_ipv4 (void)
{
  static const char *const hostile[] = {
    NULL,          "",        "not-an-address",  "0.0.0.0",   "::", "127.0.0.1:5060", "[127.0.0.1]",
    "127.0.0.1\n", "::ffff:", "::ffff:zz.1.2.3", "999.1.1.1",
  };
  g_autoptr (SpSipRouteCache) cache = sp_sip_route_cache_new ();
  g_autofree char *plain = sp_sip_route_cache_local_host_towards (cache, "0.0.0.0", "127.0.55.9");
  g_autofree char *mapped =
      sp_sip_route_cache_local_host_towards (cache, "0.0.0.0", "::ffff:127.0.55.9");
  g_autofree char *v6 = sp_sip_route_cache_local_host_towards (cache, "0.0.0.0", "::1");

  g_assert_cmpstr (plain, ==, "127.0.0.1");
  g_assert_cmpstr (mapped, ==, "127.0.0.1");
  /* The mapped form is the same peer: one entry, one probe. */
  g_assert_cmpuint (sp_sip_route_cache_get_n_probes (cache), ==, 2);
  g_assert_cmpstr (v6, ==, "0.0.0.0");
  for (guint i = 0; i < G_N_ELEMENTS (hostile); i++)
    {
      g_autofree char *got = sp_sip_route_cache_local_host_towards (cache, "0.0.0.0", hostile[i]);
      g_assert_cmpstr (got, ==, "0.0.0.0");
    }
}

/* ::, dual-stack: IPv6 peers get the IPv6 route's source, IPv4 peers (as
 * such or mapped) the IPv4 one. */
static void
test_wildcard_dual_stack (void)
{
  g_autoptr (SpSipRouteCache) cache = sp_sip_route_cache_new ();
  g_autofree char *v4 = sp_sip_route_cache_local_host_towards (cache, "::", "127.0.55.9");
  g_autofree char *mapped =
      sp_sip_route_cache_local_host_towards (cache, "::", "::ffff:127.0.55.9");
  g_autofree char *lo6 = sp_sip_route_source ("::1");
  g_autofree char *v6 = NULL;

  g_assert_cmpstr (v4, ==, "127.0.0.1");
  g_assert_cmpstr (mapped, ==, "127.0.0.1");
  if (lo6 == NULL)
    {
      g_test_skip ("no IPv6 loopback here");
      return;
    }
  v6 = sp_sip_route_cache_local_host_towards (cache, "::", "::1");
  g_assert_cmpstr (v6, ==, "::1");
}

/* A peer asked about again within the TTL costs no socket; after it,
 * the route is looked up again (a changed route is learnt). */
static void
test_cached_then_expired (void)
{
  g_autoptr (SpSipRouteCache) cache = sp_sip_route_cache_new ();

  for (guint i = 0; i < 50; i++)
    g_free (sp_sip_route_cache_lookup (cache, "127.0.55.20"));
  g_assert_cmpuint (sp_sip_route_cache_get_n_probes (cache), ==, 1);

  sp_sip_route_cache_set_ttl (cache, 20);
  g_free (sp_sip_route_cache_lookup (cache, "127.0.55.21"));
  g_assert_cmpuint (sp_sip_route_cache_get_n_probes (cache), ==, 2);
  g_usleep (40 * 1000);
  g_free (sp_sip_route_cache_lookup (cache, "127.0.55.21"));
  g_assert_cmpuint (sp_sip_route_cache_get_n_probes (cache), ==, 3);
}

/* Peers come from the network: a flood of sources never grows the table
 * past its cap, and every answer stays right. */
static void
test_capped (void)
{
  g_autoptr (SpSipRouteCache) cache = sp_sip_route_cache_new ();

  for (guint i = 0; i < 4 * SP_SIP_ROUTE_CACHE_MAX; i++)
    {
      g_autofree char *peer = g_strdup_printf ("127.1.%u.%u", i / 250, 1 + i % 250);
      g_autofree char *got = sp_sip_route_cache_local_host_towards (cache, "0.0.0.0", peer);

      g_assert_cmpstr (got, ==, "127.0.0.1");
      g_assert_cmpuint (sp_sip_route_cache_get_n_entries (cache), <=, SP_SIP_ROUTE_CACHE_MAX);
    }
  g_assert_cmpuint (sp_sip_route_cache_get_n_probes (cache), ==, 4 * SP_SIP_ROUTE_CACHE_MAX);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/routecache/bound-address-kept", test_bound_address_kept);
  g_test_add_func ("/routecache/wildcard-ipv4", test_wildcard_ipv4);
  g_test_add_func ("/routecache/wildcard-dual-stack", test_wildcard_dual_stack);
  g_test_add_func ("/routecache/cached-then-expired", test_cached_then_expired);
  g_test_add_func ("/routecache/capped", test_capped);
  return g_test_run ();
}
