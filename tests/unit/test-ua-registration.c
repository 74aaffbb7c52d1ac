/* Registration timings: refresh before expiry, backoff after failure. */
#include "ua/registration.h"

static void
test_registration_timing (void)
{
  g_assert_cmpuint (sp_registration_refresh_delay (3600), ==, 3570);
  g_assert_cmpuint (sp_registration_refresh_delay (600), ==, 570);
  g_assert_cmpuint (sp_registration_refresh_delay (60), ==, 30);
  g_assert_cmpuint (sp_registration_refresh_delay (6), ==, 3);
  g_assert_cmpuint (sp_registration_refresh_delay (1), ==, 1);
  g_assert_cmpuint (sp_registration_backoff (1), ==, 5);
  g_assert_cmpuint (sp_registration_backoff (2), ==, 10);
  g_assert_cmpuint (sp_registration_backoff (4), ==, 40);
  g_assert_cmpuint (sp_registration_backoff (7), ==, 300);
  g_assert_cmpuint (sp_registration_backoff (1000), ==, 300);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ua/registration/timing", test_registration_timing);
  return g_test_run ();
}
