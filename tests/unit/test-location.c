#include "server/location.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#define T0 1700000000

typedef struct
{
  guint added;
  guint removed;
  guint expired;
  guint changed;
  char *last_aor;
} Events;

static void
on_added (SpLocationStore *store, SpBinding *binding, Events *ev)
{
  ev->added++;
}

static void
on_removed (SpLocationStore *store, SpBinding *binding, gboolean expired, Events *ev)
{
  if (expired)
    ev->expired++;
  else
    ev->removed++;
}

static void
on_changed (SpLocationStore *store, const char *aor, Events *ev)
{
  ev->changed++;
  g_free (ev->last_aor);
  ev->last_aor = g_strdup (aor);
}

static void
events_clear (gpointer data, GClosure *closure)
{
  Events *ev = data;

  g_clear_pointer (&ev->last_aor, g_free);
}

static SpLocationStore *
make_store (Events *ev)
{
  SpLocationStore *store = sp_location_store_new ();

  memset (ev, 0, sizeof *ev);
  g_signal_connect (store, "binding-added", G_CALLBACK (on_added), ev);
  g_signal_connect (store, "binding-removed", G_CALLBACK (on_removed), ev);
  g_signal_connect_data (store, "changed", G_CALLBACK (on_changed), ev, events_clear, 0);
  return store;
}

/* REGISTER of one contact for @aor. */
static SpRegisterResult *
reg1 (SpLocationStore *store, const char *aor, const char *contact, gint64 contact_expires,
      gint64 expires_header, const char *call_id, guint32 cseq, gint64 now)
{
  SpContactUpdate c = { contact, contact_expires, -1 };
  SpRegisterRequest req = {
    .aor = aor,
    .call_id = call_id,
    .cseq = cseq,
    .expires_header = expires_header,
    .source = "127.0.0.183:5060",
    .transport = "udp",
    .user_agent = "Yate/2.0",
    .contacts = &c,
    .n_contacts = 1,
  };

  return sp_location_store_register (store, &req, now);
}

static void
expect_status (SpRegisterResult *result, guint status)
{
  g_assert_nonnull (result);
  g_assert_cmpuint (result->status, ==, status);
  sp_register_result_free (result);
}

static void
test_register_and_expire (void)
{
  Events ev;
  g_autoptr (SpLocationStore) store = make_store (&ev);
  g_autoptr (SpRegisterResult) result = NULL;
  g_autoptr (GPtrArray) found = NULL;
  SpBinding *b;

  /* The seed's REGISTER: Contact <sip:u1@...:5060>, Expires: 600. */
  result = reg1 (store, "u1", "sip:u1@127.0.0.183:5060", -1, 600, "c1@127.0.0.183", 1, T0);
  g_assert_cmpuint (result->status, ==, 200);
  g_assert_cmpstr (result->reason, ==, "OK");
  g_assert_cmpuint (result->bindings->len, ==, 1);
  b = result->bindings->pdata[0];
  g_assert_cmpstr (b->aor, ==, "u1");
  g_assert_cmpstr (b->contact, ==, "sip:u1@127.0.0.183:5060");
  g_assert_cmpint (b->expires, ==, T0 + 600);
  g_assert_cmpstr (b->call_id, ==, "c1@127.0.0.183");
  g_assert_cmpuint (b->cseq, ==, 1);
  g_assert_cmpuint (b->q, ==, 1000);
  g_assert_cmpstr (b->source, ==, "127.0.0.183:5060");
  g_assert_cmpstr (b->transport, ==, "udp");
  g_assert_cmpstr (b->user_agent, ==, "Yate/2.0");
  g_assert_cmpint (b->registered, ==, T0);
  g_assert_cmpuint (ev.added, ==, 1);
  g_assert_cmpuint (ev.changed, ==, 1);
  g_assert_cmpstr (ev.last_aor, ==, "u1");
  g_assert_cmpuint (sp_location_store_get_n_bindings (store), ==, 1);
  g_assert_true (sp_location_store_is_dirty (store));

  found = sp_location_store_lookup (store, "u1", T0 + 599);
  g_assert_cmpuint (found->len, ==, 1);
  g_clear_pointer (&found, g_ptr_array_unref);
  found = sp_location_store_lookup (store, "u1", T0 + 600);
  g_assert_cmpuint (found->len, ==, 0);
  g_clear_pointer (&found, g_ptr_array_unref);
  found = sp_location_store_lookup (store, "u2", T0);
  g_assert_cmpuint (found->len, ==, 0);

  g_assert_cmpint (sp_location_store_get_next_expiry (store), ==, T0 + 600);
  g_assert_cmpuint (sp_location_store_purge (store, T0 + 599), ==, 0);
  g_assert_cmpuint (sp_location_store_purge (store, T0 + 600), ==, 1);
  g_assert_cmpuint (ev.expired, ==, 1);
  g_assert_cmpuint (ev.changed, ==, 2);
  g_assert_cmpuint (sp_location_store_get_n_bindings (store), ==, 0);
  g_assert_cmpint (sp_location_store_get_next_expiry (store), ==, G_MAXINT64);
}

static void
test_refresh_and_ordering (void)
{
  Events ev;
  g_autoptr (SpLocationStore) store = make_store (&ev);
  g_autoptr (SpRegisterResult) result = NULL;
  g_autoptr (GPtrArray) found = NULL;
  SpBinding *b;

  expect_status (reg1 (store, "u1", "sip:u1@127.0.0.183:5060", -1, 600, "c1", 5, T0), 200);
  /* Same Call-ID, higher CSeq: refresh (not a new binding). */
  result = reg1 (store, "u1", "sip:u1@127.0.0.183:5060", -1, 300, "c1", 6, T0 + 100);
  g_assert_cmpuint (result->status, ==, 200);
  b = result->bindings->pdata[0];
  g_assert_cmpint (b->expires, ==, T0 + 400);
  g_assert_cmpuint (b->cseq, ==, 6);
  g_assert_cmpint (b->registered, ==, T0);
  g_assert_cmpuint (ev.added, ==, 1);
  g_assert_cmpuint (ev.changed, ==, 2);

  /* Same Call-ID with an equal or lower CSeq: refused, nothing changes. */
  result = (sp_register_result_free (result), NULL);
  result = reg1 (store, "u1", "sip:u1@127.0.0.183:5060", -1, 900, "c1", 6, T0 + 200);
  g_assert_cmpuint (result->status, ==, 500);
  g_assert_null (result->bindings);
  expect_status (reg1 (store, "u1", "sip:u1@127.0.0.183:5060", -1, 0, "c1", 2, T0 + 200), 500);
  found = sp_location_store_lookup (store, "u1", T0 + 200);
  g_assert_cmpuint (found->len, ==, 1);
  g_assert_cmpint (((SpBinding *) found->pdata[0])->expires, ==, T0 + 400);
  g_assert_cmpuint (ev.changed, ==, 2);

  /* Another Call-ID (the phone restarted) may use any CSeq. */
  expect_status (reg1 (store, "u1", "sip:u1@127.0.0.183:5060", -1, 600, "c2", 1, T0 + 200), 200);
  /* Equal URIs by RFC 3261 19.1.4 (host case) are the same binding. */
  expect_status (reg1 (store, "u1", "sip:u1@127.0.0.183:5060", -1, 600, "c2", 2, T0 + 200), 200);
  g_assert_cmpuint (sp_location_store_get_n_bindings (store), ==, 1);
  expect_status (reg1 (store, "u1", "sip:u1@PC.example", -1, 600, "c3", 1, T0), 200);
  expect_status (reg1 (store, "u1", "sip:u1@pc.example", -1, 600, "c3", 2, T0), 200);
  g_assert_cmpuint (sp_location_store_get_n_bindings (store), ==, 2);
  g_assert_cmpuint (ev.added, ==, 2);
}

static void
test_expires_rules (void)
{
  Events ev;
  g_autoptr (SpLocationStore) store = make_store (&ev);
  g_autoptr (SpRegisterResult) result = NULL;
  g_autoptr (GPtrArray) found = NULL;

  sp_location_store_set_expires (store, 60, 3600, 1800);
  g_assert_cmpuint (sp_location_store_get_min_expires (store), ==, 60);

  /* Too brief: 423 with Min-Expires, nothing bound. */
  result = reg1 (store, "u1", "sip:u1@127.0.0.183", -1, 30, "c1", 1, T0);
  g_assert_cmpuint (result->status, ==, 423);
  g_assert_cmpstr (result->reason, ==, "Interval Too Brief");
  g_assert_cmpuint (result->min_expires, ==, 60);
  g_assert_cmpuint (sp_location_store_get_n_bindings (store), ==, 0);
  result = (sp_register_result_free (result), NULL);
  /* The contact's expires parameter wins over the header. */
  expect_status (reg1 (store, "u1", "sip:u1@127.0.0.183", 10, 600, "c1", 2, T0), 423);
  result = reg1 (store, "u1", "sip:u1@127.0.0.183", 120, 30, "c1", 3, T0);
  g_assert_cmpuint (result->status, ==, 200);
  g_assert_cmpint (((SpBinding *) result->bindings->pdata[0])->expires, ==, T0 + 120);
  result = (sp_register_result_free (result), NULL);
  /* Exactly the minimum is fine; too long is cut to the maximum; no
   * Expires at all takes the default. */
  result = reg1 (store, "u2", "sip:u2@127.0.0.101", -1, 60, "d1", 1, T0);
  g_assert_cmpint (((SpBinding *) result->bindings->pdata[0])->expires, ==, T0 + 60);
  result = (sp_register_result_free (result), NULL);
  result = reg1 (store, "u2", "sip:u2@127.0.0.101", G_MAXUINT32, -1, "d1", 2, T0);
  g_assert_cmpint (((SpBinding *) result->bindings->pdata[0])->expires, ==, T0 + 3600);
  result = (sp_register_result_free (result), NULL);
  result = reg1 (store, "u2", "sip:u2@127.0.0.101", -1, -1, "d1", 3, T0);
  g_assert_cmpint (((SpBinding *) result->bindings->pdata[0])->expires, ==, T0 + 1800);
  result = (sp_register_result_free (result), NULL);

  /* Expires: 0 unregisters (the seed's second REGISTER). */
  result = reg1 (store, "u1", "sip:u1@127.0.0.183", -1, 0, "c1", 4, T0 + 1);
  g_assert_cmpuint (result->status, ==, 200);
  g_assert_cmpuint (result->bindings->len, ==, 0);
  g_assert_cmpuint (ev.removed, ==, 1);
  found = sp_location_store_lookup (store, "u1", T0 + 1);
  g_assert_cmpuint (found->len, ==, 0);
  /* Unregistering what is not there is fine and changes nothing. */
  expect_status (reg1 (store, "u1", "sip:u1@127.0.0.183", 0, -1, "c1", 5, T0 + 1), 200);
  g_assert_cmpuint (ev.removed, ==, 1);
  g_assert_cmpuint (sp_location_store_get_n_bindings (store), ==, 1);
}

static void
test_several_contacts (void)
{
  Events ev;
  g_autoptr (SpLocationStore) store = make_store (&ev);
  g_autoptr (SpRegisterResult) result = NULL;
  g_autoptr (GPtrArray) found = NULL;
  SpContactUpdate two[] = {
    { "sip:u1@127.0.0.183:5060", -1, 500 },
    { "sip:u1@127.0.0.184:5060", 300, -1 },
  };
  SpRegisterRequest req = {
    .aor = "u1",
    .call_id = "a",
    .cseq = 1,
    .expires_header = 600,
    .source = "127.0.0.183:5060",
    .contacts = two,
    .n_contacts = 2,
  };
  SpRegisterRequest query = { .aor = "u1", .call_id = "q", .cseq = 1, .expires_header = -1 };

  result = sp_location_store_register (store, &req, T0);
  g_assert_cmpuint (result->status, ==, 200);
  g_assert_cmpuint (result->bindings->len, ==, 2);
  result = (sp_register_result_free (result), NULL);
  expect_status (reg1 (store, "u1", "sip:u1@127.0.0.185", -1, 600, "b", 1, T0 + 5), 200);
  g_assert_cmpuint (ev.added, ==, 3);

  /* Fork order: q 1000 (newest first), then q 500. */
  found = sp_location_store_lookup (store, "u1", T0 + 10);
  g_assert_cmpuint (found->len, ==, 3);
  g_assert_cmpstr (((SpBinding *) found->pdata[0])->contact, ==, "sip:u1@127.0.0.185");
  g_assert_cmpstr (((SpBinding *) found->pdata[1])->contact, ==, "sip:u1@127.0.0.184:5060");
  g_assert_cmpstr (((SpBinding *) found->pdata[2])->contact, ==, "sip:u1@127.0.0.183:5060");
  g_assert_cmpuint (((SpBinding *) found->pdata[2])->q, ==, 500);
  g_assert_cmpint (((SpBinding *) found->pdata[1])->expires, ==, T0 + 300);

  /* A query (no Contact) lists without changing. */
  result = sp_location_store_register (store, &query, T0 + 10);
  g_assert_cmpuint (result->status, ==, 200);
  g_assert_cmpuint (result->bindings->len, ==, 3);
  g_assert_cmpuint (ev.changed, ==, 2);
  result = (sp_register_result_free (result), NULL);

  /* After 300 s the second contact is gone; purge reports it. */
  g_clear_pointer (&found, g_ptr_array_unref);
  found = sp_location_store_lookup (store, "u1", T0 + 300);
  g_assert_cmpuint (found->len, ==, 2);
  g_assert_cmpuint (sp_location_store_purge (store, T0 + 300), ==, 1);
  g_assert_cmpuint (ev.expired, ==, 1);
}

static void
test_all_or_nothing (void)
{
  Events ev;
  g_autoptr (SpLocationStore) store = make_store (&ev);
  SpContactUpdate brief[] = {
    { "sip:u1@127.0.0.183", -1, -1 },
    { "sip:u1@127.0.0.184", 5, -1 },
  };
  SpContactUpdate bad[] = {
    { "sip:u1@127.0.0.183", -1, -1 },
    { "not a uri", -1, -1 },
  };
  SpContactUpdate stale[] = {
    { "sip:u1@127.0.0.186", -1, -1 },
    { "sip:u1@127.0.0.185", -1, -1 },
  };
  SpRegisterRequest req = { .aor = "u1", .call_id = "a", .cseq = 10, .expires_header = 600 };

  req.contacts = brief;
  req.n_contacts = 2;
  expect_status (sp_location_store_register (store, &req, T0), 423);
  req.contacts = bad;
  expect_status (sp_location_store_register (store, &req, T0), 400);
  g_assert_cmpuint (sp_location_store_get_n_bindings (store), ==, 0);
  expect_status (reg1 (store, "u1", "sip:u1@127.0.0.185", -1, 600, "a", 10, T0), 200);
  /* The second contact is out of order: the first is not added either. */
  req.contacts = stale;
  expect_status (sp_location_store_register (store, &req, T0), 500);
  g_assert_cmpuint (sp_location_store_get_n_bindings (store), ==, 1);
  g_assert_cmpuint (ev.added, ==, 1);
  g_assert_cmpuint (ev.changed, ==, 1);
}

static void
test_wildcard (void)
{
  Events ev;
  g_autoptr (SpLocationStore) store = make_store (&ev);
  SpContactUpdate star_and_more[] = {
    { "*", -1, -1 },
    { "sip:u1@127.0.0.183", -1, -1 },
  };
  SpRegisterRequest req = { .aor = "u1", .call_id = "a", .cseq = 5, .expires_header = 0 };
  g_autoptr (SpRegisterResult) result = NULL;

  expect_status (reg1 (store, "u1", "sip:u1@127.0.0.183", -1, 600, "a", 3, T0), 200);
  expect_status (reg1 (store, "u1", "sip:u1@127.0.0.184", -1, 600, "b", 1, T0), 200);
  expect_status (reg1 (store, "u2", "sip:u2@127.0.0.101", -1, 600, "c", 1, T0), 200);

  /* "*" needs Expires: 0 and no other contact. */
  expect_status (reg1 (store, "u1", "*", -1, 600, "a", 4, T0), 400);
  expect_status (reg1 (store, "u1", "*", -1, -1, "a", 4, T0), 400);
  req.contacts = star_and_more;
  req.n_contacts = 2;
  expect_status (sp_location_store_register (store, &req, T0), 400);
  /* Out of order for the binding made with Call-ID "a". */
  expect_status (reg1 (store, "u1", "*", -1, 0, "a", 3, T0), 500);
  g_assert_cmpuint (sp_location_store_get_n_bindings (store), ==, 3);

  result = reg1 (store, "u1", "*", -1, 0, "a", 4, T0);
  g_assert_cmpuint (result->status, ==, 200);
  g_assert_null (result->bindings);
  g_assert_cmpuint (ev.removed, ==, 2);
  g_assert_cmpuint (sp_location_store_get_n_bindings (store), ==, 1);
  g_assert_cmpstr (ev.last_aor, ==, "u1");
  /* u2 is untouched; removing the user's AOR drops its bindings. */
  g_assert_cmpuint (sp_location_store_remove_aor (store, "u2"), ==, 1);
  g_assert_cmpuint (sp_location_store_remove_aor (store, "u2"), ==, 0);
  g_assert_cmpuint (ev.removed, ==, 3);
  g_assert_cmpuint (sp_location_store_get_n_bindings (store), ==, 0);
}

static void
test_limits (void)
{
  Events ev;
  g_autoptr (SpLocationStore) store = make_store (&ev);
  g_autoptr (SpRegisterResult) result = NULL;

  sp_location_store_set_limits (store, 2, 3);
  expect_status (reg1 (store, "u1", "sip:u1@127.0.0.1", -1, 600, "a", 1, T0), 200);
  expect_status (reg1 (store, "u1", "sip:u1@127.0.0.2", -1, 600, "b", 1, T0), 200);
  result = reg1 (store, "u1", "sip:u1@127.0.0.3", -1, 600, "c", 1, T0);
  g_assert_cmpuint (result->status, ==, 503);
  g_assert_cmpuint (sp_location_store_get_n_bindings (store), ==, 2);
  /* Refreshing is still fine at the limit. */
  expect_status (reg1 (store, "u1", "sip:u1@127.0.0.2", -1, 600, "b", 2, T0), 200);
  expect_status (reg1 (store, "u2", "sip:u2@127.0.0.4", -1, 600, "d", 1, T0), 200);
  expect_status (reg1 (store, "u3", "sip:u3@127.0.0.5", -1, 600, "e", 1, T0), 503);
  /* Expired bindings make room. */
  expect_status (reg1 (store, "u1", "sip:u1@127.0.0.3", -1, 600, "c", 1, T0 + 601), 200);
}

static void
test_list_and_hostile_text (void)
{
  Events ev;
  g_autoptr (SpLocationStore) store = make_store (&ev);
  g_autofree char *long_ua = g_strnfill (5000, 'x');
  g_autofree char *long_contact = g_strdup_printf ("sip:%s@h", long_ua);
  SpContactUpdate c = { "sip:u9@127.0.0.9", -1, 2000 };
  SpContactUpdate too_long = { long_contact, -1, -1 };
  SpRegisterRequest req = {
    .aor = "u9",
    .call_id = "\xff\xfe",
    .cseq = 1,
    .expires_header = 600,
    .user_agent = long_ua,
    .contacts = &c,
    .n_contacts = 1,
  };
  g_autoptr (GPtrArray) all = NULL;
  SpBinding *b;

  expect_status (sp_location_store_register (store, &req, T0), 200);
  req.contacts = &too_long;
  expect_status (sp_location_store_register (store, &req, T0), 400);
  expect_status (reg1 (store, "a", "sip:a@127.0.0.1", -1, 600, "x", 1, T0), 200);
  expect_status (reg1 (store, "u1", "sip:u1@127.0.0.7", -1, 600, "x", 1, T0), 200);
  expect_status (reg1 (store, "u1", "sip:u1@127.0.0.6", -1, 60, "y", 1, T0), 200);
  all = sp_location_store_list (store, T0 + 100);
  g_assert_cmpuint (all->len, ==, 3);
  g_assert_cmpstr (((SpBinding *) all->pdata[0])->aor, ==, "a");
  g_assert_cmpstr (((SpBinding *) all->pdata[1])->contact, ==, "sip:u1@127.0.0.7");
  b = all->pdata[2];
  g_assert_cmpstr (b->aor, ==, "u9");
  g_assert_cmpuint (strlen (b->user_agent), ==, SP_LOCATION_MAX_TEXT);
  g_assert_true (g_utf8_validate (b->call_id, -1, NULL));
  g_assert_cmpuint (b->q, ==, 1000);
  g_assert_null (b->source);
}

static void
test_save_load (void)
{
  Events ev;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-location-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "registrations.json", NULL);
  g_autoptr (SpLocationStore) store = make_store (&ev);
  g_autoptr (SpLocationStore) copy = sp_location_store_new ();
  g_autoptr (GPtrArray) found = NULL;
  SpBinding *b;
  GStatBuf st;

  expect_status (reg1 (store, "u1", "sip:u1@127.0.0.183:5060", -1, 600, "c1", 7, T0), 200);
  expect_status (reg1 (store, "u2", "sip:u2@127.0.0.101:5060", -1, 60, "c2", 1, T0), 200);
  g_assert_true (sp_location_store_save (store, dir, &error));
  g_assert_no_error (error);
  g_assert_false (sp_location_store_is_dirty (store));
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  /* A restart 100 s later: u2 (60 s) has expired and is dropped. */
  g_assert_true (sp_location_store_load (copy, dir, T0 + 100, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sp_location_store_get_n_bindings (copy), ==, 1);
  found = sp_location_store_lookup (copy, "u1", T0 + 100);
  g_assert_cmpuint (found->len, ==, 1);
  b = found->pdata[0];
  g_assert_cmpstr (b->contact, ==, "sip:u1@127.0.0.183:5060");
  g_assert_cmpint (b->expires, ==, T0 + 600);
  g_assert_cmpstr (b->call_id, ==, "c1");
  g_assert_cmpuint (b->cseq, ==, 7);
  g_assert_cmpstr (b->source, ==, "127.0.0.183:5060");
  g_assert_cmpstr (b->user_agent, ==, "Yate/2.0");
  /* The reloaded binding still enforces CSeq order. */
  expect_status (reg1 (copy, "u1", "sip:u1@127.0.0.183:5060", -1, 600, "c1", 7, T0 + 100), 500);

  /* Bad files fail and change nothing. */
  g_assert_true (g_file_set_contents (path, "{\"bindings\": [{\"aor\": \"u1\"}]}", -1, NULL));
  g_assert_false (sp_location_store_load (copy, dir, T0, &error));
  g_assert_error (error, SP_LOCATION_ERROR, SP_LOCATION_ERROR_PARSE);
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (path, "not json", -1, NULL));
  g_assert_false (sp_location_store_load (copy, dir, T0, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (path,
                                      "{\"bindings\": [{\"aor\": \"u1\", \"contact\": \"bad\", "
                                      "\"call_id\": \"c\", \"expires\": 9999999999, \"cseq\": 1, "
                                      "\"q\": 1000, \"registered\": 1}]}",
                                      -1, NULL));
  g_assert_false (sp_location_store_load (copy, dir, T0, &error));
  g_assert_error (error, SP_LOCATION_ERROR, SP_LOCATION_ERROR_PARSE);
  g_clear_error (&error);
  g_assert_cmpuint (sp_location_store_get_n_bindings (copy), ==, 1);

  /* No file: empty. */
  g_assert_cmpint (g_remove (path), ==, 0);
  g_assert_true (sp_location_store_load (copy, dir, T0, &error));
  g_assert_cmpuint (sp_location_store_get_n_bindings (copy), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
test_autosave (void)
{
  Events ev;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-location-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "registrations.json", NULL);
  g_autoptr (SpLocationStore) store = make_store (&ev);
  g_autoptr (SpLocationStore) copy = sp_location_store_new ();
  guint spins = 0;

  sp_location_store_set_autosave (store, dir, 10);
  expect_status (reg1 (store, "u1", "sip:u1@127.0.0.183", -1, 600, "c1", 1, T0), 200);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  while (sp_location_store_is_dirty (store) && spins++ < 100)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (sp_location_store_is_dirty (store));
  g_assert_true (sp_location_store_load (copy, dir, T0, &error));
  g_assert_cmpuint (sp_location_store_get_n_bindings (copy), ==, 1);

  /* A change still pending at dispose is saved then. */
  expect_status (reg1 (store, "u2", "sip:u2@127.0.0.101", -1, 600, "c2", 1, T0), 200);
  g_clear_object (&store);
  g_assert_true (sp_location_store_load (copy, dir, T0, &error));
  g_assert_cmpuint (sp_location_store_get_n_bindings (copy), ==, 2);
  g_assert_cmpint (g_remove (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/location/register-and-expire", test_register_and_expire);
  g_test_add_func ("/location/refresh-and-ordering", test_refresh_and_ordering);
  g_test_add_func ("/location/expires-rules", test_expires_rules);
  g_test_add_func ("/location/several-contacts", test_several_contacts);
  g_test_add_func ("/location/all-or-nothing", test_all_or_nothing);
  g_test_add_func ("/location/wildcard", test_wildcard);
  g_test_add_func ("/location/limits", test_limits);
  g_test_add_func ("/location/list-and-hostile-text", test_list_and_hostile_text);
  g_test_add_func ("/location/save-load", test_save_load);
  g_test_add_func ("/location/autosave", test_autosave);
  return g_test_run ();
}
