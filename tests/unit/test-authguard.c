#include "server/authguard.h"

static void
test_block_after_n_in_window (void)
{
  /* 3 failures in 60 s block for 300 s. */
  g_autoptr (SpAuthGuard) guard = sp_auth_guard_new (3, 60, 300, 100);
  const char *a = "127.0.0.66";

  g_assert_false (sp_auth_guard_is_blocked (guard, a, 1000));
  g_assert_false (sp_auth_guard_record_failure (guard, a, 1000));
  g_assert_false (sp_auth_guard_record_failure (guard, a, 1030));
  g_assert_false (sp_auth_guard_is_blocked (guard, a, 1030));
  g_assert_true (sp_auth_guard_record_failure (guard, a, 1059));
  g_assert_true (sp_auth_guard_is_blocked (guard, a, 1059));
  g_assert_true (sp_auth_guard_is_blocked (guard, a, 1358));
  g_assert_false (sp_auth_guard_is_blocked (guard, a, 1359));
  g_assert_cmpuint (sp_auth_guard_get_n_ignored (guard), ==, 2);
  /* Other addresses are not affected. */
  g_assert_false (sp_auth_guard_is_blocked (guard, "127.0.0.67", 1100));
  g_assert_false (sp_auth_guard_is_blocked (guard, NULL, 1100));

  /* Failures while blocked do not extend the block. */
  g_assert_false (sp_auth_guard_record_failure (guard, a, 1200));
  g_assert_false (sp_auth_guard_is_blocked (guard, a, 1359));
  /* After the block the count starts from zero. */
  g_assert_false (sp_auth_guard_record_failure (guard, a, 1400));
  g_assert_false (sp_auth_guard_record_failure (guard, a, 1401));
  g_assert_true (sp_auth_guard_record_failure (guard, a, 1402));
}

static void
test_sliding_window (void)
{
  g_autoptr (SpAuthGuard) guard = sp_auth_guard_new (3, 60, 300, 100);
  const char *a = "::1";

  /* Spread out: every third failure is 60 s or more after the first of
   * the three, so never 3 within the window. */
  for (gint64 t = 0; t < 3000; t += 30)
    g_assert_false (sp_auth_guard_record_failure (guard, a, t));
  g_assert_false (sp_auth_guard_is_blocked (guard, a, 3000));
  /* 2940, 2970, 3001: 61 s apart, still not blocked; 2970, 3001, 3002
   * are 3 within 60 s. */
  g_assert_false (sp_auth_guard_record_failure (guard, a, 3001));
  g_assert_true (sp_auth_guard_record_failure (guard, a, 3002));
  g_assert_true (sp_auth_guard_is_blocked (guard, a, 3002));
}

static void
test_single_failure_limit (void)
{
  g_autoptr (SpAuthGuard) guard = sp_auth_guard_new (0, 0, 0, 0);

  /* Clamped to 1 failure, 1 s window, 1 s block, 1 entry. */
  g_assert_true (sp_auth_guard_record_failure (guard, "127.0.0.1", 10));
  g_assert_true (sp_auth_guard_is_blocked (guard, "127.0.0.1", 10));
  g_assert_false (sp_auth_guard_is_blocked (guard, "127.0.0.1", 11));
}

static void
test_bounded_memory (void)
{
  g_autoptr (SpAuthGuard) guard = sp_auth_guard_new (2, 60, 600, 4);
  g_autoptr (GPtrArray) blocked = NULL;

  /* Block two addresses. */
  g_assert_false (sp_auth_guard_record_failure (guard, "10.0.0.1", 0));
  g_assert_true (sp_auth_guard_record_failure (guard, "10.0.0.1", 1));
  g_assert_false (sp_auth_guard_record_failure (guard, "10.0.0.2", 2));
  g_assert_true (sp_auth_guard_record_failure (guard, "10.0.0.2", 3));
  /* A flood of new addresses evicts only the unblocked ones. */
  for (guint i = 0; i < 1000; i++)
    {
      g_autofree char *addr = g_strdup_printf ("10.1.%u.%u", i / 256, i % 256);

      g_assert_false (sp_auth_guard_record_failure (guard, addr, 10 + i / 100));
      g_assert_cmpuint (sp_auth_guard_get_n_entries (guard), <=, 4);
    }
  g_assert_cmpuint (sp_auth_guard_get_n_entries (guard), ==, 4);
  g_assert_true (sp_auth_guard_is_blocked (guard, "10.0.0.1", 20));
  g_assert_true (sp_auth_guard_is_blocked (guard, "10.0.0.2", 20));
  /* The newest entry kept its failure from the loop: one more blocks
   * it. The oldest unblocked one was dropped: it starts afresh. */
  g_assert_true (sp_auth_guard_record_failure (guard, "10.1.3.231", 20));
  g_assert_false (sp_auth_guard_record_failure (guard, "10.1.0.0", 20));
  blocked = sp_auth_guard_list_blocked (guard, 20);
  g_assert_cmpuint (blocked->len, ==, 3);
  g_assert_cmpstr (blocked->pdata[0], ==, "10.0.0.1");
  g_assert_cmpstr (blocked->pdata[1], ==, "10.0.0.2");
  g_assert_cmpstr (blocked->pdata[2], ==, "10.1.3.231");
}

static void
test_all_blocked_evicts_oldest (void)
{
  g_autoptr (SpAuthGuard) guard = sp_auth_guard_new (1, 60, 600, 2);

  g_assert_true (sp_auth_guard_record_failure (guard, "a", 0));
  g_assert_true (sp_auth_guard_record_failure (guard, "b", 1));
  g_assert_true (sp_auth_guard_record_failure (guard, "c", 2));
  g_assert_cmpuint (sp_auth_guard_get_n_entries (guard), ==, 2);
  g_assert_false (sp_auth_guard_is_blocked (guard, "a", 3));
  g_assert_true (sp_auth_guard_is_blocked (guard, "b", 3));
  g_assert_true (sp_auth_guard_is_blocked (guard, "c", 3));

  sp_auth_guard_forget (guard, "b");
  sp_auth_guard_forget (guard, "nobody");
  g_assert_false (sp_auth_guard_is_blocked (guard, "b", 3));
  g_assert_cmpuint (sp_auth_guard_get_n_entries (guard), ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/authguard/block-after-n-in-window", test_block_after_n_in_window);
  g_test_add_func ("/authguard/sliding-window", test_sliding_window);
  g_test_add_func ("/authguard/single-failure-limit", test_single_failure_limit);
  g_test_add_func ("/authguard/bounded-memory", test_bounded_memory);
  g_test_add_func ("/authguard/all-blocked-evicts-oldest", test_all_blocked_evicts_oldest);
  return g_test_run ();
}
