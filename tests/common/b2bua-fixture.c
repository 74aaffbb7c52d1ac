#include "b2bua-fixture.h"

void
b2bua_fixture_init (B2buaFixture *f, gboolean fake_clock)
{
  g_autoptr (GError) error = NULL;

  if (fake_clock)
    {
      SpSipTimerSettings t;

      f->clock = sp_sip_clock_new_fake ();
      sp_sip_timer_settings_init (&t);
      t.t1 = 50;
      f->stack = sp_sip_stack_new (f->clock, &t);
      g_assert_true (
          sp_sip_stack_listen (f->stack, SP_SIP_TRANSPORT_UDP, "127.0.0.1", 0, &f->bound, &error));
      g_assert_no_error (error);
    }
  else
    f->stack = raw_sip_stack_new (50, &f->bound);
  f->server = sp_server_new (NULL, NULL, "test");
  g_assert_true (sp_user_db_add (sp_server_get_users (f->server), "bob", "2", "pw", &error));
  g_assert_no_error (error);
  sp_server_set_relay_ports (f->server, 31000, 31999);
  /* A is a trunk: its calls need no credentials and keep their From
   * (the policy's own cases are in test-accesspolicy). */
  g_assert_true (sp_server_set_trusted_peers (f->server, "127.0.0.1", &error));
  g_assert_no_error (error);
}

void
b2bua_fixture_start (B2buaFixture *f)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (sp_server_start (f->server, f->stack, "127.0.0.1", TRUE, &error));
  g_assert_no_error (error);
  f->a = raw_sip_new ("127.0.0.1");
  f->b = raw_sip_new ("127.0.0.1");
}

void
b2bua_fixture_teardown (B2buaFixture *f)
{
  sp_server_stop (f->server);
  g_object_unref (f->server);
  g_object_unref (f->stack);
  g_clear_pointer (&f->clock, sp_sip_clock_unref);
  raw_sip_free (f->a);
  raw_sip_free (f->b);
  for (guint i = 0; i < 50 && g_main_context_iteration (NULL, FALSE); i++)
    ;
}

void
b2bua_fixture_register (SpServer *server, const char *aor, const char *contact, const char *source)
{
  SpContactUpdate u = { .contact = contact, .expires = 600, .q = -1 };
  SpRegisterRequest req = { .aor = aor,
                            .call_id = "reg",
                            .cseq = 1,
                            .expires_header = -1,
                            .source = source,
                            .transport = "udp",
                            .contacts = &u,
                            .n_contacts = 1 };
  g_autoptr (SpRegisterResult) result = sp_location_store_register (
      sp_server_get_locations (server), &req, g_get_real_time () / G_USEC_PER_SEC);

  g_assert_cmpuint (result->status, ==, 200);
}

void
b2bua_fixture_bind_bob (B2buaFixture *f, const char *host)
{
  g_autofree char *contact = host ? g_strdup_printf ("sip:bob@%s:5060", host)
                                  : g_strdup_printf ("sip:bob@127.0.0.1:%u", f->b->peer.port);
  g_autofree char *source = g_strdup_printf ("127.0.0.1:%u", f->b->peer.port);

  b2bua_fixture_register (f->server, "bob", contact, source);
}
