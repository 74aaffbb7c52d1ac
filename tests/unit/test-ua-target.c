/* What the user types in the call box, turned into a request target. */
#include <gio/gio.h>
#include <string.h>

#include "ua/target.h"

static SpAccount *
make_account (const char *server, SpAccountTransport transport, const char *proxy)
{
  SpAccount *a = sp_account_new ("office");

  g_object_set (a, "username", "u1", "password", "870212", "server", server, "transport", transport,
                "outbound-proxy", proxy, NULL);
  return a;
}

typedef struct
{
  const char *text;
  gboolean with_account;
  SpTargetKind kind;
  const char *uri;
  const char *hop_host;
  guint hop_port;
  SpAccountTransport transport;
} Case;

static void
check_case (const Case *c, SpAccount *account)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpTarget) t = sp_target_parse (c->text, c->with_account ? account : NULL, &error);
  g_autofree char *uri = NULL;

  if (t == NULL)
    g_error ("\"%s\": %s", c->text, error->message);
  uri = sp_sip_uri_to_string (t->request_uri);
  g_test_message ("%s -> %s", c->text, uri);
  g_assert_cmpint (t->kind, ==, c->kind);
  g_assert_cmpstr (uri, ==, c->uri);
  g_assert_cmpstr (t->next_hop_host, ==, c->hop_host);
  g_assert_cmpuint (t->next_hop_port, ==, c->hop_port);
  g_assert_cmpint (t->transport, ==, c->transport);
  if (c->kind == SP_TARGET_DIRECT || !c->with_account)
    g_assert_null (t->account);
  else
    g_assert_true (t->account == account);
}

static void
test_through_account (void)
{
  g_autoptr (SpAccount) account = make_account ("192.168.1.50", SP_ACCOUNT_TRANSPORT_UDP, NULL);
  const Case cases[] = {
    { "2", TRUE, SP_TARGET_VIA_ACCOUNT, "sip:2@192.168.1.50", "192.168.1.50", 0 },
    { "  15900941215 ", TRUE, SP_TARGET_VIA_ACCOUNT, "sip:15900941215@192.168.1.50", "192.168.1.50",
      0 },
    { "+1 (555) 010-2000", TRUE, SP_TARGET_VIA_ACCOUNT, "sip:+15550102000@192.168.1.50",
      "192.168.1.50", 0 },
    { "*72#", TRUE, SP_TARGET_VIA_ACCOUNT, "sip:*72%23@192.168.1.50", "192.168.1.50", 0 },
    { "sunny", TRUE, SP_TARGET_VIA_ACCOUNT, "sip:sunny@192.168.1.50", "192.168.1.50", 0 },
    { "tel:+15550102000", TRUE, SP_TARGET_VIA_ACCOUNT, "sip:+15550102000@192.168.1.50;user=phone",
      "192.168.1.50", 0 },
    { "sip:bob@10.0.0.2:5062", TRUE, SP_TARGET_URI, "sip:bob@10.0.0.2:5062", "10.0.0.2", 5062 },
    /* An address typed as such is a direct call even with an account. */
    { "192.168.1.183", TRUE, SP_TARGET_DIRECT, "sip:192.168.1.183", "192.168.1.183", 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    check_case (&cases[i], account);
}

static void
test_account_tcp_proxy (void)
{
  g_autoptr (SpAccount) account =
      make_account ("pbx.example.com:5070", SP_ACCOUNT_TRANSPORT_TCP, "[::1]:5080");
  const Case cases[] = {
    { "2", TRUE, SP_TARGET_VIA_ACCOUNT, "sip:2@pbx.example.com:5070;transport=tcp", "::1", 5080,
      SP_ACCOUNT_TRANSPORT_TCP },
    /* With an outbound proxy, typed URIs go through it too. */
    { "sip:bob@elsewhere.org", TRUE, SP_TARGET_URI, "sip:bob@elsewhere.org", "::1", 5080,
      SP_ACCOUNT_TRANSPORT_TCP },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    check_case (&cases[i], account);
}

static void
test_direct (void)
{
  const Case cases[] = {
    { "192.168.1.183", FALSE, SP_TARGET_DIRECT, "sip:192.168.1.183", "192.168.1.183", 0 },
    { "127.0.0.101:5062", FALSE, SP_TARGET_DIRECT, "sip:127.0.0.101:5062", "127.0.0.101", 5062 },
    { "[::1]:5062", FALSE, SP_TARGET_DIRECT, "sip:[::1]:5062", "::1", 5062 },
    { "::1", FALSE, SP_TARGET_DIRECT, "sip:[::1]", "::1", 0 },
    { "localhost", FALSE, SP_TARGET_DIRECT, "sip:localhost", "localhost", 0 },
    { "PC2.lan:5070", FALSE, SP_TARGET_DIRECT, "sip:pc2.lan:5070", "pc2.lan", 5070 },
    { "bob@10.0.0.2", FALSE, SP_TARGET_URI, "sip:bob@10.0.0.2", "10.0.0.2", 0 },
    { "sip:0@192.168.1.183", FALSE, SP_TARGET_URI, "sip:0@192.168.1.183", "192.168.1.183", 0 },
    { "SIP:bob@10.0.0.2;transport=TCP", FALSE, SP_TARGET_URI, "sip:bob@10.0.0.2;transport=TCP",
      "10.0.0.2", 0, SP_ACCOUNT_TRANSPORT_TCP },
    /* RFC 3261 26.2.2: sips: and ;transport=tls go over TLS. */
    { "sips:bob@10.0.0.2", FALSE, SP_TARGET_URI, "sips:bob@10.0.0.2", "10.0.0.2", 0,
      SP_ACCOUNT_TRANSPORT_TLS },
    { "sip:bob@10.0.0.2:5071;transport=tls", FALSE, SP_TARGET_URI,
      "sip:bob@10.0.0.2:5071;transport=tls", "10.0.0.2", 5071, SP_ACCOUNT_TRANSPORT_TLS },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    check_case (&cases[i], NULL);
}

static void
test_errors (void)
{
  g_autoptr (SpAccount) account = make_account ("192.168.1.50", SP_ACCOUNT_TRANSPORT_UDP, NULL);
  g_autoptr (SpAccount) broken = sp_account_new ("broken");
  g_autofree char *longtext = g_strnfill (5000, '1');
  struct
  {
    const char *text;
    gboolean with_account;
    const char *message_part;
  } cases[] = {
    { "", FALSE, "Enter a number" },
    { "   ", TRUE, "Enter a number" },
    { "2", FALSE, "needs an account" },
    { "tel:+15550102000", FALSE, "needs an account" },
    { "http://example.com", FALSE, "only sip:" },
    { "a/b", FALSE, "neither" },
    { "mailto:bob@example.com", FALSE, "only sip:" },
    { "127.0.0.1:99999", FALSE, "Bad port" },
    { "[::1", FALSE, "]" },
    { "john smith", TRUE, "spaces" },
    { "sip:", FALSE, "not a valid address" },
    { longtext, TRUE, "too long" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SpTarget) t =
          sp_target_parse (cases[i].text, cases[i].with_account ? account : NULL, &error);
      if (t != NULL)
        g_error ("\"%s\" should fail", cases[i].text);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      if (strstr (error->message, cases[i].message_part) == NULL)
        g_error ("\"%s\": message \"%s\" lacks \"%s\"", cases[i].text, error->message,
                 cases[i].message_part);
    }

  /* An account with no server cannot route a number. */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (SpTarget) t = sp_target_parse ("2", broken, &error);
    g_assert_null (t);
    g_assert_nonnull (strstr (error->message, "no valid server"));
  }
}

static void
test_is_number (void)
{
  g_autofree char *d1 = NULL;
  g_autofree char *d2 = NULL;

  g_assert_true (sp_target_is_number ("+49 (30) 123-45", &d1));
  g_assert_cmpstr (d1, ==, "+493012345");
  g_assert_true (sp_target_is_number ("#31#", &d2));
  g_assert_cmpstr (d2, ==, "#31#");
  g_assert_false (sp_target_is_number ("1+2", NULL));
  g_assert_false (sp_target_is_number ("12a", NULL));
  g_assert_false (sp_target_is_number ("- ()", NULL));
  g_assert_false (sp_target_is_number ("1.2", NULL));
}

static void
check_from (SpAccount *account, const char *display, const char *user, const char *host,
            guint16 port, const char *expected)
{
  g_autoptr (SpSipNameAddr) from = sp_target_make_from (account, display, user, host, port);
  g_autofree char *text = NULL;

  g_assert_nonnull (from);
  text = sp_sip_name_addr_to_string (from);
  g_assert_cmpstr (text, ==, expected);
}

static void
test_make_from (void)
{
  g_autoptr (SpAccount) account =
      make_account ("192.168.1.50:5070", SP_ACCOUNT_TRANSPORT_UDP, NULL);
  g_autoptr (SpAccount) direct = sp_account_new ("direct");

  /* Yate's direct call: From sip:anonymous@our-address. */
  check_from (NULL, NULL, NULL, "192.168.1.183", 5060, "<sip:anonymous@192.168.1.183>");
  check_from (NULL, NULL, NULL, "127.0.0.183", 5062, "<sip:anonymous@127.0.0.183:5062>");
  check_from (NULL, NULL, NULL, "::1", 5062, "<sip:anonymous@[::1]:5062>");
  check_from (NULL, "Sunny", "sunny", "192.168.1.183", 5060, "\"Sunny\" <sip:sunny@192.168.1.183>");
  sp_account_set_server (direct, "192.168.1.101");
  sp_account_set_display_name (direct, "Desk 2");
  check_from (direct, NULL, NULL, "192.168.1.183", 5060,
              "\"Desk 2\" <sip:anonymous@192.168.1.183>");
  /* Through an account: the account's identity, without the port. */
  check_from (account, NULL, NULL, "192.168.1.183", 5060, "<sip:u1@192.168.1.50>");
  sp_account_set_display_name (account, "U One");
  check_from (account, NULL, NULL, "192.168.1.183", 5060, "\"U One\" <sip:u1@192.168.1.50>");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ua/target/through-account", test_through_account);
  g_test_add_func ("/ua/target/account-tcp-proxy", test_account_tcp_proxy);
  g_test_add_func ("/ua/target/direct", test_direct);
  g_test_add_func ("/ua/target/errors", test_errors);
  g_test_add_func ("/ua/target/is-number", test_is_number);
  g_test_add_func ("/ua/target/make-from", test_make_from);
  return g_test_run ();
}
