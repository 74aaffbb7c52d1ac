/* sp_sip_stack_dup_contact on a wildcard binding: the Contact names the
 * address the route to the peer leaves from, never 0.0.0.0, for every
 * user of the stack (the phone's requests, the server's, and the
 * Contact the stack adds to responses itself). */
#include <gio/gio.h>
#include <string.h>

#include "sip/stack.h"

static SpSipStack *
wildcard_stack (guint16 *port)
{
  g_autoptr (GError) error = NULL;
  SpSipStack *stack = sp_sip_stack_new (NULL, NULL);
  SpSipPeer bound;

  g_assert_true (sp_sip_stack_listen (stack, SP_SIP_TRANSPORT_UDP, "0.0.0.0", 0, &bound, &error));
  g_assert_no_error (error);
  *port = bound.port;
  g_assert_true (
      sp_sip_stack_listen (stack, SP_SIP_TRANSPORT_TCP, "0.0.0.0", bound.port, NULL, &error));
  g_assert_no_error (error);
  return stack;
}

static void
test_wildcard_contact (void)
{
  guint16 port = 0;
  g_autoptr (SpSipStack) stack = wildcard_stack (&port);
  SpSipPeer udp_peer, tcp_peer, named;
  g_autofree char *udp = NULL;
  g_autofree char *tcp = NULL;
  g_autofree char *none = NULL;
  g_autofree char *name = NULL;
  g_autofree char *want_udp = g_strdup_printf ("<sip:alice@127.0.0.1:%u>", port);
  g_autofree char *want_tcp = g_strdup_printf ("<sip:127.0.0.1:%u;transport=tcp>", port);
  g_autofree char *want_none = g_strdup_printf ("<sip:alice@0.0.0.0:%u>", port);

  /* Linux sends to any 127/8 address from 127.0.0.1. */
  sp_sip_peer_init (&udp_peer, SP_SIP_TRANSPORT_UDP, "127.0.55.31", 5060);
  sp_sip_peer_init (&tcp_peer, SP_SIP_TRANSPORT_TCP, "127.0.55.32", 5070);
  sp_sip_peer_init (&named, SP_SIP_TRANSPORT_UDP, "pbx.example.com", 5060);
  udp = sp_sip_stack_dup_contact (stack, "alice", &udp_peer);
  tcp = sp_sip_stack_dup_contact (stack, NULL, &tcp_peer);
  name = sp_sip_stack_dup_contact (stack, "alice", &named);
  none = sp_sip_stack_dup_contact (stack, "alice", NULL);
  g_assert_cmpstr (udp, ==, want_udp);
  g_assert_cmpstr (tcp, ==, want_tcp);
  /* Nothing to route towards: the binding as it is. */
  g_assert_cmpstr (name, ==, want_none);
  g_assert_cmpstr (none, ==, want_none);

  g_assert_true (sp_sip_host_is_wildcard ("0.0.0.0"));
  g_assert_true (sp_sip_host_is_wildcard ("::"));
  g_assert_false (sp_sip_host_is_wildcard ("127.0.0.1"));
  g_assert_false (sp_sip_host_is_wildcard (NULL));
  {
    g_autofree char *src = sp_sip_route_source ("127.0.55.31");
    g_autofree char *bad = sp_sip_route_source ("not-an-address");
    g_assert_cmpstr (src, ==, "127.0.0.1");
    g_assert_null (bad);
  }
}

/* A numeric binding is left alone: no route lookup changes it. */
static void
test_numeric_binding_unchanged (void)
{
  g_autoptr (SpSipStack) stack = sp_sip_stack_new (NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *contact = NULL;
  g_autofree char *want = NULL;
  SpSipPeer bound, peer;

  g_assert_true (
      sp_sip_stack_listen (stack, SP_SIP_TRANSPORT_UDP, "127.0.55.33", 0, &bound, &error));
  g_assert_no_error (error);
  sp_sip_peer_init (&peer, SP_SIP_TRANSPORT_UDP, "127.0.55.31", 5060);
  contact = sp_sip_stack_dup_contact (stack, "bob", &peer);
  want = g_strdup_printf ("<sip:bob@127.0.55.33:%u>", bound.port);
  g_assert_cmpstr (contact, ==, want);
}

static gboolean
on_request (SpSipStack *stack, SpSipServerTransaction *st, SpSipMessage *request,
            SpSipDialog *dialog, gpointer data)
{
  /* 180 with no Contact of our own: the stack adds one. */
  sp_sip_stack_reply (stack, st, 180, NULL);
  return TRUE;
}

/* On the wire: the stack's own Contact in a 180 to an INVITE from
 * 127.0.55.34 names 127.0.0.1, not 0.0.0.0. */
static void
test_response_contact_on_wire (void)
{
  guint16 port = 0;
  g_autoptr (SpSipStack) stack = wildcard_stack (&port);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketAddress) here = g_inet_socket_address_new_from_string ("127.0.55.34", 0);
  g_autoptr (GSocketAddress) there = g_inet_socket_address_new_from_string ("127.0.0.1", port);
  g_autoptr (GSocketAddress) local = NULL;
  g_autoptr (GSocket) sock =
      g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &error);
  g_autofree char *invite = NULL;
  g_autofree char *want = NULL;
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  char buf[4096];
  gssize n = -1;
  guint16 our_port;

  g_signal_connect (stack, "request", G_CALLBACK (on_request), NULL);
  g_assert_true (g_socket_bind (sock, here, FALSE, &error));
  g_socket_set_blocking (sock, FALSE);
  local = g_socket_get_local_address (sock, NULL);
  our_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  invite = g_strdup_printf ("INVITE sip:u@127.0.0.1:%u SIP/2.0\r\n"
                            "Via: SIP/2.0/UDP 127.0.55.34:%u;branch=z9hG4bKcontact1\r\n"
                            "From: <sip:t@127.0.55.34>;tag=ct\r\nTo: <sip:u@127.0.0.1>\r\n"
                            "Call-ID: contact-test@127.0.55.34\r\nCSeq: 1 INVITE\r\n"
                            "Contact: <sip:t@127.0.55.34:%u>\r\n"
                            "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
                            port, our_port, our_port);
  g_assert_cmpint (g_socket_send_to (sock, there, invite, strlen (invite), NULL, &error), ==,
                   (gssize) strlen (invite));
  while (g_get_monotonic_time () < deadline)
    {
      n = g_socket_receive (sock, buf, sizeof buf - 1, NULL, NULL);
      if (n > 0)
        {
          buf[n] = '\0';
          if (g_str_has_prefix (buf, "SIP/2.0 180"))
            break;
        }
      n = -1;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
  g_assert_cmpint (n, >, 0);
  want = g_strdup_printf ("\r\nContact: <sip:127.0.0.1:%u>\r\n", port);
  g_assert_nonnull (strstr (buf, want));
  g_assert_null (strstr (buf, "0.0.0.0"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sip-contact/wildcard", test_wildcard_contact);
  g_test_add_func ("/sip-contact/numeric-binding", test_numeric_binding_unchanged);
  g_test_add_func ("/sip-contact/response-on-wire", test_response_contact_on_wire);
  return g_test_run ();
}
