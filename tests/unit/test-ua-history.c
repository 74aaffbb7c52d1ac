/* Call history: JSON line encoding, append, load back, bound, bad lines. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ua/history.h"

static SpCallRecord *
make_record (guint i)
{
  SpCallRecord *r = sp_call_record_new ();

  r->peer = g_strdup_printf ("sip:%u@192.168.1.50", i);
  r->display_name = i % 2 ? g_strdup ("Sunny \"S\" Day\n") : NULL;
  r->account_id = i % 3 ? g_strdup ("office") : NULL;
  r->direction = i % 2 ? SP_CALL_DIRECTION_INCOMING : SP_CALL_DIRECTION_OUTGOING;
  r->outcome = i % 5;
  r->start_time = 1461830400 + i;
  r->duration = i * 7;
  r->sip_code = i % 2 ? 486 : 200;
  r->reason = g_strdup (i % 2 ? "Busy Here" : "User hangup");
  return r;
}

static void
assert_record_equal (const SpCallRecord *a, const SpCallRecord *b)
{
  g_assert_cmpstr (a->peer, ==, b->peer);
  g_assert_cmpstr (a->display_name, ==, b->display_name);
  g_assert_cmpstr (a->account_id, ==, b->account_id);
  g_assert_cmpint (a->direction, ==, b->direction);
  g_assert_cmpint (a->outcome, ==, b->outcome);
  g_assert_cmpint (a->start_time, ==, b->start_time);
  g_assert_cmpuint (a->duration, ==, b->duration);
  g_assert_cmpuint (a->sip_code, ==, b->sip_code);
  g_assert_cmpstr (a->reason, ==, b->reason);
}

static void
test_json_round_trip (void)
{
  for (guint i = 0; i < 10; i++)
    {
      g_autoptr (SpCallRecord) r = make_record (i);
      g_autofree char *json = sp_call_record_to_json (r);
      g_autoptr (GError) error = NULL;
      g_autoptr (SpCallRecord) back = NULL;

      g_assert_null (strchr (json, '\n'));
      back = sp_call_record_from_json (json, &error);
      g_assert_no_error (error);
      assert_record_equal (r, back);
    }
  {
    g_autoptr (SpCallRecord) r = make_record (1);
    g_autofree char *json = sp_call_record_to_json (r);
    g_assert_nonnull (strstr (json, "\"direction\":\"incoming\""));
    g_assert_nonnull (strstr (json, "\"outcome\":\"missed\""));
    g_assert_nonnull (strstr (json, "\"sip_code\":486"));
  }
}

static void
test_json_rejects (void)
{
  const char *bad[] = {
    "",
    "[]",
    "{",
    "{\"peer\":\"x\"}",
    "{\"peer\":\"x\",\"direction\":\"sideways\",\"outcome\":\"answered\",\"start\":1,"
    "\"duration\":1,\"sip_code\":200}",
    "{\"peer\":\"x\",\"direction\":\"incoming\",\"outcome\":\"answered\",\"start\":1,"
    "\"duration\":-5,\"sip_code\":200}",
    "{\"peer\":\"x\",\"direction\":\"incoming\",\"outcome\":\"answered\",\"start\":1,"
    "\"duration\":1,\"sip_code\":9999}",
    "{\"peer\":5,\"direction\":\"incoming\",\"outcome\":\"answered\",\"start\":1,"
    "\"duration\":1,\"sip_code\":200}",
    "{\"peer\":\"x\",\"direction\":\"incoming\",\"outcome\":\"answered\",\"start\":\"1\","
    "\"duration\":1,\"sip_code\":200}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SpCallRecord) r = sp_call_record_from_json (bad[i], &error);
      g_assert_null (r);
      g_assert_nonnull (error);
    }
}

static char *
make_temp_dir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("test-ua-history-XXXXXX", &error);
  g_assert_no_error (error);
  return dir;
}

static guint
count_lines (const char *path)
{
  g_autofree char *text = NULL;
  guint n = 0;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  for (const char *p = text; *p; p++)
    n += *p == '\n';
  return n;
}

static void
test_append_load_bound (void)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *state = g_build_filename (dir, "state", NULL);
  g_autofree char *path = g_build_filename (state, SP_HISTORY_FILE, NULL);
  g_autoptr (SpHistory) h = sp_history_new (state, 5);
  g_autoptr (GError) error = NULL;
  GStatBuf st;

  g_assert_true (sp_history_load (h, &error)); /* no file yet */
  g_assert_no_error (error);
  g_assert_cmpuint (sp_history_get_records (h)->len, ==, 0);

  for (guint i = 0; i < 10; i++)
    {
      g_autoptr (SpCallRecord) r = make_record (i);
      g_assert_true (sp_history_append (h, r, &error));
      g_assert_no_error (error);
    }
  /* Memory holds the newest 5; the file may hold up to twice that. */
  g_assert_cmpuint (sp_history_get_records (h)->len, ==, 5);
  g_assert_cmpuint (count_lines (path), ==, 10);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0077, ==, 0);

  /* The 11th append rewrites the file down to the bound. */
  {
    g_autoptr (SpCallRecord) r = make_record (10);
    g_assert_true (sp_history_append (h, r, &error));
    g_assert_no_error (error);
  }
  g_assert_cmpuint (count_lines (path), ==, 5);

  {
    g_autoptr (SpHistory) again = sp_history_new (state, 5);
    const GPtrArray *records;

    g_assert_true (sp_history_load (again, &error));
    g_assert_no_error (error);
    records = sp_history_get_records (again);
    g_assert_cmpuint (records->len, ==, 5);
    for (guint i = 0; i < 5; i++)
      {
        g_autoptr (SpCallRecord) expected = make_record (6 + i);
        assert_record_equal (records->pdata[i], expected);
      }
  }

  g_assert_true (sp_history_clear (h, &error));
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_rmdir (state);
  g_rmdir (dir);
}

static void
test_load_skips_garbage (void)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, SP_HISTORY_FILE, NULL);
  g_autoptr (SpHistory) h = sp_history_new (dir, 100);
  g_autoptr (GError) error = NULL;
  g_autoptr (SpCallRecord) r = make_record (3);
  g_autofree char *good = sp_call_record_to_json (r);
  g_autofree char *longline = g_strnfill (SP_HISTORY_MAX_LINE + 10, 'x');
  g_autofree char *content = g_strdup_printf ("garbage\n%s\n\n{\"peer\":1}\n%s\n%s", good, longline,
                                              good); /* last line has no newline */

  g_assert_true (g_file_set_contents (path, content, -1, NULL));
  g_assert_true (sp_history_load (h, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sp_history_get_records (h)->len, ==, 2);
  assert_record_equal (sp_history_get_records (h)->pdata[0], r);

  g_unlink (path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ua/history/json-round-trip", test_json_round_trip);
  g_test_add_func ("/ua/history/json-rejects", test_json_rejects);
  g_test_add_func ("/ua/history/append-load-bound", test_append_load_bound);
  g_test_add_func ("/ua/history/load-skips-garbage", test_load_skips_garbage);
  return g_test_run ();
}
