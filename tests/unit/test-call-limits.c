/* Caps on the B2BUA's calls: total, per source (IPv6 by /64), per user. */
#include "server/calllimits.h"
#include "sip/source-key.h"

static void
test_caps (void)
{
  SpCallLimitsSettings settings = { 5, 3, 2 };
  g_autoptr (SpCallLimits) limits = sp_call_limits_new (&settings);

  /* Per user: u1 twice, then refused even from another address. */
  g_assert_cmpint (sp_call_limits_admit (limits, "10.0.0.1", "u1"), ==, SP_CALL_LIMIT_NONE);
  g_assert_cmpint (sp_call_limits_admit (limits, "10.0.0.1", "u1"), ==, SP_CALL_LIMIT_NONE);
  g_assert_cmpint (sp_call_limits_admit (limits, "10.0.0.2", "u1"), ==, SP_CALL_LIMIT_USER);
  /* Per source: unauthenticated callers count by address only. */
  g_assert_cmpint (sp_call_limits_admit (limits, "10.0.0.1", NULL), ==, SP_CALL_LIMIT_NONE);
  g_assert_cmpint (sp_call_limits_admit (limits, "10.0.0.1", NULL), ==, SP_CALL_LIMIT_SOURCE);
  g_assert_cmpint (sp_call_limits_admit (limits, "10.0.0.1", "u2"), ==, SP_CALL_LIMIT_SOURCE);
  /* In total. */
  g_assert_cmpint (sp_call_limits_admit (limits, "10.0.0.2", NULL), ==, SP_CALL_LIMIT_NONE);
  g_assert_cmpint (sp_call_limits_admit (limits, "10.0.0.3", "u2"), ==, SP_CALL_LIMIT_NONE);
  g_assert_cmpint (sp_call_limits_admit (limits, "10.0.0.4", NULL), ==, SP_CALL_LIMIT_TOTAL);
  g_assert_cmpuint (sp_call_limits_get_n_calls (limits), ==, 5);
  g_assert_cmpuint (sp_call_limits_get_n_refused (limits), ==, 4);
  /* Released calls make room again, for the same keys. */
  sp_call_limits_release (limits, "10.0.0.1", "u1");
  g_assert_cmpint (sp_call_limits_admit (limits, "10.0.0.2", "u1"), ==, SP_CALL_LIMIT_NONE);
  sp_call_limits_release (limits, "10.0.0.1", NULL);
  sp_call_limits_release (limits, "10.0.0.1", "u1");
  g_assert_cmpint (sp_call_limits_admit (limits, "10.0.0.1", NULL), ==, SP_CALL_LIMIT_NONE);
  g_assert_cmpuint (sp_call_limits_get_n_calls (limits), ==, 4);
}

static void
test_ipv6_prefix (void)
{
  SpCallLimitsSettings settings = { 0, 2, 0 };
  g_autoptr (SpCallLimits) limits = sp_call_limits_new (&settings);
  g_autofree char *key = sp_sip_source_key ("2001:db8:1:2:aaaa::1");

  g_assert_cmpstr (key, ==, "2001:db8:1:2::/64");
  /* Two addresses of one /64 are one source; another /64 is not. */
  g_assert_cmpint (sp_call_limits_admit (limits, "2001:db8:1:2::1", NULL), ==, SP_CALL_LIMIT_NONE);
  g_assert_cmpint (sp_call_limits_admit (limits, "2001:db8:1:2::2", NULL), ==, SP_CALL_LIMIT_NONE);
  g_assert_cmpint (sp_call_limits_admit (limits, "2001:db8:1:2:ffff::9", NULL), ==,
                   SP_CALL_LIMIT_SOURCE);
  g_assert_cmpint (sp_call_limits_admit (limits, "2001:db8:1:3::1", NULL), ==, SP_CALL_LIMIT_NONE);
  /* No caps at all with 0. */
  for (guint i = 0; i < 100; i++)
    g_assert_cmpint (sp_call_limits_admit (limits, "10.0.0.1", "u1"), ==,
                     i < 2 ? SP_CALL_LIMIT_NONE : SP_CALL_LIMIT_SOURCE);
}

static void
test_defaults (void)
{
  SpCallLimitsSettings settings;
  g_autoptr (SpCallLimits) limits = sp_call_limits_new (NULL);

  sp_call_limits_settings_init (&settings);
  g_assert_cmpuint (sp_call_limits_get (limits)->max_calls, ==, settings.max_calls);
  g_assert_cmpuint (settings.max_calls, ==, 100);
  g_assert_cmpuint (settings.max_calls_per_source, ==, 20);
  g_assert_cmpuint (settings.max_calls_per_user, ==, 10);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/call-limits/caps", test_caps);
  g_test_add_func ("/call-limits/ipv6-prefix", test_ipv6_prefix);
  g_test_add_func ("/call-limits/defaults", test_defaults);
  return g_test_run ();
}
