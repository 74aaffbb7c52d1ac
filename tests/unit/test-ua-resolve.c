/* Next-hop lookups that never block the main loop. */
#include <gio/gio.h>

#include "sip/stack.h"
#include "ua/resolve.h"

typedef struct
{
  gboolean done;
  gboolean ok;
  SpSipPeer peer;
  GError *error;
} Result;

static void
on_done (GObject *source, GAsyncResult *res, gpointer data)
{
  Result *r = data;

  r->ok = sp_ua_resolve_peer_finish (res, &r->peer, &r->error);
  r->done = TRUE;
}

/* Starts a lookup, checks it did not complete inside the call, and runs
 * the main context until it does (at most 5 s). */
static void
resolve (const char *host, guint16 port, SpSipTransportKind kind, GSocketFamily family,
         GCancellable *cancellable, Result *r)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  sp_ua_resolve_peer_async (host, port, kind, family, cancellable, on_done, r);
  g_assert_false (r->done); /* never from inside the call */
  if (cancellable != NULL)
    g_cancellable_cancel (cancellable);
  while (!r->done && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (r->done);
}

static void
test_literal (void)
{
  Result r = { 0 };

  resolve ("127.0.0.5", 0, SP_SIP_TRANSPORT_TCP, G_SOCKET_FAMILY_IPV4, NULL, &r);
  g_assert_no_error (r.error);
  g_assert_true (r.ok);
  g_assert_cmpstr (r.peer.host, ==, "127.0.0.5");
  g_assert_cmpuint (r.peer.port, ==, 5060);
  g_assert_cmpint (r.peer.kind, ==, SP_SIP_TRANSPORT_TCP);
}

static void
test_localhost (void)
{
  Result r = { 0 };

  /* /etc/hosts: no DNS server is asked. Our binding is IPv4, so ::1 is
   * never the answer even where localhost has both. */
  resolve ("localhost", 5071, SP_SIP_TRANSPORT_UDP, G_SOCKET_FAMILY_IPV4, NULL, &r);
  g_assert_no_error (r.error);
  g_assert_cmpstr (r.peer.host, ==, "127.0.0.1");
  g_assert_cmpuint (r.peer.port, ==, 5071);
  g_assert_cmpint (r.peer.kind, ==, SP_SIP_TRANSPORT_UDP);
}

static void
test_bad_input (void)
{
  g_autofree char *long_name = g_strnfill (300, 'a');
  const char *cases[] = { "", long_name };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      Result r = { 0 };
      resolve (cases[i], 0, SP_SIP_TRANSPORT_UDP, G_SOCKET_FAMILY_INVALID, NULL, &r);
      g_assert_false (r.ok);
      g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      g_clear_error (&r.error);
    }
}

static void
test_cancelled (void)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  Result r = { 0 };

  resolve ("localhost", 0, SP_SIP_TRANSPORT_UDP, G_SOCKET_FAMILY_IPV4, cancellable, &r);
  g_assert_false (r.ok);
  g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&r.error);
}

static void
test_host_family (void)
{
  g_assert_cmpint (sp_ua_host_family ("127.0.0.1"), ==, G_SOCKET_FAMILY_IPV4);
  g_assert_cmpint (sp_ua_host_family ("::1"), ==, G_SOCKET_FAMILY_IPV6);
  g_assert_cmpint (sp_ua_host_family ("pbx.example.com"), ==, G_SOCKET_FAMILY_INVALID);
  g_assert_cmpint (sp_ua_host_family (NULL), ==, G_SOCKET_FAMILY_INVALID);
}

/* The address a wildcard-bound phone shows: where the route leaves from.
 * Linux sends to any 127/8 address from 127.0.0.1. */
static void
test_route_source (void)
{
  g_autofree char *v4 = sp_sip_route_source ("127.0.55.9");
  g_autofree char *none = sp_sip_route_source ("pbx.example.com");
  g_autofree char *any = sp_sip_route_source ("0.0.0.0");

  g_assert_cmpstr (v4, ==, "127.0.0.1");
  g_assert_null (none);
  g_assert_null (any);
  g_assert_true (sp_sip_host_is_wildcard ("0.0.0.0"));
  g_assert_true (sp_sip_host_is_wildcard ("::"));
  g_assert_false (sp_sip_host_is_wildcard ("127.0.0.1"));
  g_assert_false (sp_sip_host_is_wildcard ("localhost"));
  g_assert_false (sp_sip_host_is_wildcard (NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ua/resolve/literal", test_literal);
  g_test_add_func ("/ua/resolve/localhost", test_localhost);
  g_test_add_func ("/ua/resolve/bad-input", test_bad_input);
  g_test_add_func ("/ua/resolve/cancelled", test_cancelled);
  g_test_add_func ("/ua/resolve/host-family", test_host_family);
  g_test_add_func ("/ua/resolve/route-source", test_route_source);
  return g_test_run ();
}
