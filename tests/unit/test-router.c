#include "server/router.h"

#include <glib/gstdio.h>
#include <string.h>

static SpUserDb *
make_users (void)
{
  SpUserDb *users = sp_user_db_new ("softphone");

  g_assert_true (sp_user_db_add (users, "u1", "1", "pw1", NULL));
  g_assert_true (sp_user_db_add (users, "u2", "2", "pw2", NULL));
  g_assert_true (sp_user_db_add (users, "sunny", NULL, "870212", NULL));
  return users;
}

static SpRouter *
make_router (const char *conf)
{
  g_autoptr (SpUserDb) users = make_users ();
  SpRouter *router = sp_router_new (users);
  g_autoptr (GError) error = NULL;

  if (conf != NULL)
    {
      g_assert_true (sp_router_import (router, conf, -1, NULL, &error));
      g_assert_no_error (error);
    }
  return router;
}

static void
assert_local (SpRoute *route, const char *user)
{
  g_assert_nonnull (route);
  g_assert_cmpint (route->kind, ==, SP_ROUTE_LOCAL);
  g_assert_cmpstr (route->target, ==, user);
  g_assert_cmpuint (route->status, ==, 0);
  sp_route_free (route);
}

static void
assert_reject (SpRoute *route, SpRouteKind kind, guint status, const char *error_name)
{
  g_assert_nonnull (route);
  g_assert_cmpint (route->kind, ==, kind);
  g_assert_cmpuint (route->status, ==, status);
  g_assert_cmpstr (route->error, ==, error_name);
  g_assert_null (route->target);
  sp_route_free (route);
}

static void
assert_forward (SpRoute *route, const char *uri)
{
  g_assert_nonnull (route);
  g_assert_cmpint (route->kind, ==, SP_ROUTE_FORWARD);
  g_assert_cmpstr (route->target, ==, uri);
  sp_route_free (route);
}

static void
check_translation (const char *bre, const char *pcre)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *out = sp_router_translate_basic_regex (bre, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (out, ==, pcre);
}

static void
test_translate (void)
{
  GError *error = NULL;

  check_translation ("^00\\(.*\\)$", "^00(.*)$");
  check_translation ("a+b?(c)|{2}", "a\\+b\\?\\(c\\)\\|\\{2\\}");
  check_translation ("\\(a\\|b\\)\\+$", "(a|b)+$");
  check_translation ("x\\{2,3\\}", "x{2,3}");
  check_translation ("^*a", "^\\*a");
  check_translation ("\\(*a\\)", "(\\*a)");
  check_translation ("a^b$c", "a\\^b\\$c");
  check_translation ("\\(a$\\)", "(a$)");
  check_translation ("[]a]", "[\\]a]");
  check_translation ("[^]a]", "[^\\]a]");
  check_translation ("[a\\b]", "[a\\\\b]");
  check_translation ("[[:digit:]]\\+", "[[:digit:]]+");
  check_translation ("\\.\\*\\[\\\\", "\\.\\*\\[\\\\");
  check_translation ("\\(.\\)\\1", "(.)\\1");
  check_translation ("", "");

  g_assert_null (sp_router_translate_basic_regex ("abc\\", &error));
  g_assert_error (error, SP_ROUTER_ERROR, SP_ROUTER_ERROR_REGEX);
  g_clear_error (&error);
  g_assert_null (sp_router_translate_basic_regex ("[abc", &error));
  g_assert_error (error, SP_ROUTER_ERROR, SP_ROUTER_ERROR_REGEX);
  g_clear_error (&error);
  g_assert_null (sp_router_translate_basic_regex ("[[:digit:]", &error));
  g_assert_error (error, SP_ROUTER_ERROR, SP_ROUTER_ERROR_REGEX);
  g_clear_error (&error);
}

static void
test_no_rules (void)
{
  g_autoptr (SpRouter) router = make_router (NULL);
  g_autoptr (SpRouter) no_users = sp_router_new (NULL);

  g_assert_cmpuint (sp_router_get_n_rules (router), ==, 0);
  assert_local (sp_router_route_call (router, "u2", "u1", "u1", NULL), "u2");
  assert_local (sp_router_route_call (router, "2", "u1", "u1", NULL), "u2");
  assert_local (sp_router_route_call (router, "1", "u2", "", NULL), "u1");
  assert_reject (sp_router_route_call (router, "3", "u1", "u1", NULL), SP_ROUTE_NO_ROUTE, 404,
                 "noroute");
  assert_reject (sp_router_route_call (router, "", "u1", "u1", NULL), SP_ROUTE_NO_ROUTE, 404,
                 "noroute");
  assert_reject (sp_router_route_call (router, NULL, NULL, NULL, NULL), SP_ROUTE_NO_ROUTE, 404,
                 "noroute");
  assert_reject (sp_router_route_call (no_users, "u2", "u1", "u1", NULL), SP_ROUTE_NO_ROUTE, 404,
                 "noroute");
}

/* The seed article's regexroute.conf lines, verbatim. */
static const char seed_routes[] = "[default]\n"
                                  "${username}^$=-;error=noauth\n"
                                  "^15900941215$=return;called=sunny\n"
                                  "^1$=return;called=u1\n"
                                  "^2$=return;called=u2\n";

static void
test_seed (void)
{
  g_autoptr (SpRouter) router = make_router (seed_routes);
  SpRoute *route;

  g_assert_cmpuint (sp_router_get_n_rules (router), ==, 4);
  /* Not authenticated: challenge, whatever is dialled. */
  route = sp_router_route_call (router, "2", "u1", "", "127.0.0.183:5060");
  g_assert_cmpint (route->rule, ==, 0);
  assert_reject (route, SP_ROUTE_CHALLENGE, 401, "noauth");
  assert_reject (sp_router_route_call (router, "2", "u1", NULL, NULL), SP_ROUTE_CHALLENGE, 401,
                 "noauth");
  /* Authenticated u1 dials 2 (the seed's capture) and the long number. */
  route = sp_router_route_call (router, "2", "u1", "u1", "127.0.0.183:5060");
  g_assert_cmpint (route->rule, ==, 3);
  g_assert_cmpstr (g_hash_table_lookup (route->params, "called"), ==, "u2");
  g_assert_cmpstr (g_hash_table_lookup (route->params, "caller"), ==, "u1");
  assert_local (route, "u2");
  assert_local (sp_router_route_call (router, "15900941215", "u1", "u1", NULL), "sunny");
  assert_local (sp_router_route_call (router, "1", "u2", "u2", NULL), "u1");
  /* A number with no rule still reaches a user by name; else 404. */
  assert_local (sp_router_route_call (router, "sunny", "u1", "u1", NULL), "sunny");
  route = sp_router_route_call (router, "159009412150", "u1", "u1", NULL);
  g_assert_cmpint (route->rule, ==, -1);
  assert_reject (route, SP_ROUTE_NO_ROUTE, 404, "noroute");
}

static void
test_back_references (void)
{
  g_autoptr (SpRouter) router =
      make_router ("[default]\n"
                   "^1\\([0-9]\\)$=return;called=u\\1\n"
                   "^\\(.\\)\\(.\\)\\(.\\)$=sip/sip:\\0@\\3.\\2.\\1.domain\n"
                   "^0\\(.*\\)$=sip/sip:\\1@127.0.0.60:5070\n"
                   "^8\\([0-9]*\\)$=return;called=${caller}\\1\n");

  assert_local (sp_router_route_call (router, "12", "u1", "u1", NULL), "u2");
  assert_local (sp_router_route_call (router, "11", "u2", "u2", NULL), "u1");
  assert_reject (sp_router_route_call (router, "13", "u1", "u1", NULL), SP_ROUTE_NO_ROUTE, 404,
                 "noroute");
  assert_forward (sp_router_route_call (router, "123", "u1", "u1", NULL), "sip:123@3.2.1.domain");
  assert_forward (sp_router_route_call (router, "0555123", "u1", "u1", NULL),
                  "sip:555123@127.0.0.60:5070");
  /* ${param} in the value: caller "u" + "2". */
  assert_local (sp_router_route_call (router, "82", "u", "u1", NULL), "u2");
}

static void
test_errors (void)
{
  g_autoptr (SpRouter) router = make_router ("[default]\n"
                                             "^40$=-;error=busy\n"
                                             "^41$=-;error=noroute\n"
                                             "^42$=-;error=forbidden\n"
                                             "^43$=-;error=offline\n"
                                             "^50$=error=busy\n"
                                             "^51$=error=noroute\n"
                                             "^52$=error=forbidden\n"
                                             "^53$=error=offline\n"
                                             "^54$=error=noauth\n"
                                             "^55$=-\n"
                                             "^56$=-;error=whatever\n"
                                             "^57$=error;error=noanswer\n");

  assert_reject (sp_router_route_call (router, "40", "u1", "u1", NULL), SP_ROUTE_REJECT, 486,
                 "busy");
  assert_reject (sp_router_route_call (router, "41", "u1", "u1", NULL), SP_ROUTE_REJECT, 404,
                 "noroute");
  assert_reject (sp_router_route_call (router, "42", "u1", "u1", NULL), SP_ROUTE_REJECT, 403,
                 "forbidden");
  assert_reject (sp_router_route_call (router, "43", "u1", "u1", NULL), SP_ROUTE_REJECT, 480,
                 "offline");
  assert_reject (sp_router_route_call (router, "50", "u1", "u1", NULL), SP_ROUTE_REJECT, 486,
                 "busy");
  assert_reject (sp_router_route_call (router, "51", "u1", "u1", NULL), SP_ROUTE_REJECT, 404,
                 "noroute");
  assert_reject (sp_router_route_call (router, "52", "u1", "u1", NULL), SP_ROUTE_REJECT, 403,
                 "forbidden");
  assert_reject (sp_router_route_call (router, "53", "u1", "u1", NULL), SP_ROUTE_REJECT, 480,
                 "offline");
  assert_reject (sp_router_route_call (router, "54", "u1", "u1", NULL), SP_ROUTE_CHALLENGE, 401,
                 "noauth");
  assert_reject (sp_router_route_call (router, "55", "u1", "u1", NULL), SP_ROUTE_REJECT, 404,
                 "noroute");
  assert_reject (sp_router_route_call (router, "56", "u1", "u1", NULL), SP_ROUTE_REJECT, 500,
                 "whatever");
  assert_reject (sp_router_route_call (router, "57", "u1", "u1", NULL), SP_ROUTE_REJECT, 480,
                 "noanswer");
  g_assert_cmpuint (sp_router_error_to_status ("BUSY"), ==, 486);
  g_assert_cmpuint (sp_router_error_to_status ("rejected"), ==, 603);
  g_assert_cmpuint (sp_router_error_to_status (NULL), ==, 500);
}

static void
test_param_matches (void)
{
  g_autoptr (SpRouter) router = make_router ("[default]\n"
                                             "${address}^127\\.0\\.0\\.9:=-;error=forbidden\n"
                                             "${caller}^evil$=-;error=busy\n"
                                             "${username}^u1$^=-;error=forbidden\n"
                                             "${zone$lan}^wan$=-;error=offline\n"
                                             ".*=;caller=${username};callername=User \\0\n"
                                             "^9$=noop;called=u2\n"
                                             "^9$=return\n");
  g_autoptr (GHashTable) params = g_hash_table_new (g_str_hash, g_str_equal);
  SpRoute *route;

  assert_reject (sp_router_route_call (router, "2", "u1", "u1", "127.0.0.9:5060"), SP_ROUTE_REJECT,
                 403, "forbidden");
  /* 127.0.0.91 does not match "^127\.0\.0\.9:" */
  assert_local (sp_router_route_call (router, "2", "u1", "u1", "127.0.0.91:5060"), "u2");
  assert_reject (sp_router_route_call (router, "2", "evil", "u1", NULL), SP_ROUTE_REJECT, 486,
                 "busy");
  /* Inverted: only u1 may call. */
  assert_reject (sp_router_route_call (router, "2", "u2", "u2", NULL), SP_ROUTE_REJECT, 403,
                 "forbidden");
  /* A parameter with a default: absent means "lan". */
  g_hash_table_insert (params, "called", "2");
  g_hash_table_insert (params, "username", "u1");
  g_hash_table_insert (params, "caller", "someone");
  route = sp_router_route (router, params);
  /* The parameter-only rule rewrote caller and set callername, then the
   * call went on to routing by name/number. */
  g_assert_cmpstr (g_hash_table_lookup (route->params, "caller"), ==, "u1");
  g_assert_cmpstr (g_hash_table_lookup (route->params, "callername"), ==, "User 2");
  assert_local (route, "u2");
  g_hash_table_insert (params, "zone", "wan");
  assert_reject (sp_router_route (router, params), SP_ROUTE_REJECT, 480, "offline");
  /* noop sets parameters and goes on; return then uses the new called. */
  assert_local (sp_router_route_call (router, "9", "u1", "u1", NULL), "u2");
}

static void
count_changed (SpRouter *router, guint *count)
{
  (*count)++;
}

static void
test_order_and_editing (void)
{
  g_autoptr (SpRouter) router = make_router (NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  guint changed = 0;

  g_signal_connect (router, "changed", G_CALLBACK (count_changed), &changed);

  g_assert_true (sp_router_insert_rule (router, -1, "^2$=-;error=busy", &error));
  g_assert_true (sp_router_insert_rule (router, -1, "^2$=return;called=u1", &error));
  g_assert_true (sp_router_insert_rule (router, 0, " ^3$ = return;called=u2 ", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (changed, ==, 3);
  g_assert_cmpuint (sp_router_get_n_rules (router), ==, 3);
  text = sp_router_dup_rule (router, 0);
  g_assert_cmpstr (text, ==, "^3$=return;called=u2");
  g_assert_null (sp_router_dup_rule (router, 3));
  g_assert_cmpuint (sp_router_get_rule_lineno (router, 0), ==, 0);

  /* First match wins. */
  assert_reject (sp_router_route_call (router, "2", "x", "x", NULL), SP_ROUTE_REJECT, 486, "busy");
  assert_local (sp_router_route_call (router, "3", "x", "x", NULL), "u2");
  g_assert_true (sp_router_move_rule (router, 2, 0, &error));
  assert_local (sp_router_route_call (router, "2", "x", "x", NULL), "u1");
  g_assert_true (sp_router_remove_rule (router, 0, &error));
  assert_local (sp_router_route_call (router, "3", "x", "x", NULL), "u2");
  assert_reject (sp_router_route_call (router, "2", "x", "x", NULL), SP_ROUTE_REJECT, 486, "busy");
  g_assert_cmpuint (changed, ==, 5);

  g_assert_false (sp_router_remove_rule (router, 2, &error));
  g_assert_error (error, SP_ROUTER_ERROR, SP_ROUTER_ERROR_INDEX);
  g_clear_error (&error);
  g_assert_false (sp_router_move_rule (router, 0, 5, &error));
  g_assert_error (error, SP_ROUTER_ERROR, SP_ROUTER_ERROR_INDEX);
  g_clear_error (&error);
  g_assert_false (sp_router_insert_rule (router, -1, "no equals sign", &error));
  g_assert_error (error, SP_ROUTER_ERROR, SP_ROUTER_ERROR_PARSE);
  g_clear_error (&error);
  g_assert_false (sp_router_insert_rule (router, -1, "^\\(2$=return", &error));
  g_assert_error (error, SP_ROUTER_ERROR, SP_ROUTER_ERROR_REGEX);
  g_clear_error (&error);
  g_assert_false (sp_router_insert_rule (router, -1, "=return", &error));
  g_assert_error (error, SP_ROUTER_ERROR, SP_ROUTER_ERROR_PARSE);
  g_clear_error (&error);
  g_assert_false (sp_router_insert_rule (router, -1, "^1$=a\nb", &error));
  g_assert_error (error, SP_ROUTER_ERROR, SP_ROUTER_ERROR_PARSE);
  g_clear_error (&error);
  g_assert_cmpuint (sp_router_get_n_rules (router), ==, 2);
  g_assert_cmpuint (changed, ==, 5);

  sp_router_clear (router);
  g_assert_cmpuint (sp_router_get_n_rules (router), ==, 0);
}

static void
check_import_fails (SpRouter *router, const char *conf, const char *message_start)
{
  g_autoptr (GError) error = NULL;
  guint before = sp_router_get_n_rules (router);

  g_assert_false (sp_router_import (router, conf, -1, NULL, &error));
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, message_start));
  g_assert_cmpuint (sp_router_get_n_rules (router), ==, before);
}

static void
test_bad_rules (void)
{
  g_autoptr (SpRouter) router = make_router (seed_routes);

  check_import_fails (router, "[default]\n^1$=return;called=u1\n^\\(1$=return\n",
                      "line 3: invalid regular expression \"^\\(1$\"");
  check_import_fails (router, "[default]\n\n; c\n^1[$=return\n", "line 4: invalid regular");
  check_import_fails (router, "[default]\n^1$=include other\n", "line 2: \"include\" rules");
  check_import_fails (router, "[default]\n^1$=goto ctx\n", "line 2: \"goto\" rules");
  check_import_fails (router, "[default]\n^1$={\n", "line 2: { } blocks");
  check_import_fails (router, "[default]\n$(length,${called})^3$=return\n", "line 2: $(function)");
  check_import_fails (router, "[default]\n${}^$=return\n", "line 2: invalid parameter match");
  check_import_fails (router, "[default]\n${username}=return\n", "line 2: missing parameter");
  check_import_fails (router, "[default]\njust words\n", "line 2: not a REGEX=TARGET rule");
  check_import_fails (router, "[priorities]\nextended=yes\n[default]\n^0(.*$=return\n",
                      "line 4: invalid regular");
  /* The seed's rules are still all there. */
  assert_reject (sp_router_route_call (router, "2", "u1", "", NULL), SP_ROUTE_CHALLENGE, 401,
                 "noauth");
}

static void
test_warnings (void)
{
  g_autoptr (SpRouter) router = make_router (NULL);
  g_autoptr (GPtrArray) warnings = NULL;
  g_autoptr (GError) error = NULL;
  const char conf[] = "orphan=1\n"              /* 1 */
                      "[priorities]\n"          /* 2 */
                      "route=100\n"             /* 3 */
                      "[contexts]\n"            /* 4 */
                      "^00=international\n"     /* 5 */
                      "[default]\n"             /* 6 */
                      "^99991001$=tone/dial\n"  /* 7 */
                      "^7$=;$var=1\n"           /* 8 */
                      "^2$=return;called=u2\n"; /* 9 */

  g_assert_true (sp_router_import (router, conf, -1, &warnings, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (warnings->len, ==, 5);
  g_assert_cmpstr (warnings->pdata[0], ==, "line 1: \"orphan\" outside any section ignored");
  g_assert_cmpstr (warnings->pdata[1], ==, "line 3: [priorities] key \"route\" ignored");
  g_assert_cmpstr (warnings->pdata[2], ==,
                   "line 4: section [contexts] ignored (only [default] routes calls)");
  g_assert_cmpstr (warnings->pdata[3], ==,
                   "line 7: target \"tone/dial\" is not a SIP server or user: calls it matches "
                   "get 404");
  g_assert_cmpstr (warnings->pdata[4], ==,
                   "line 8: global variable \"$var=1\" not supported, "
                   "ignored");
  g_assert_cmpuint (sp_router_get_n_rules (router), ==, 3);
  g_assert_cmpuint (sp_router_get_rule_lineno (router, 2), ==, 9);
  assert_reject (sp_router_route_call (router, "99991001", "u1", "u1", NULL), SP_ROUTE_NO_ROUTE,
                 404, "noroute");
  /* A parameter-only rule goes on; "7" is nobody. */
  assert_reject (sp_router_route_call (router, "7", "u1", "u1", NULL), SP_ROUTE_NO_ROUTE, 404,
                 "noroute");
}

static void
test_extended_and_insensitive (void)
{
  g_autoptr (SpRouter) router = make_router ("[priorities]\n"
                                             "extended=yes\n"
                                             "insensitive=true\n"
                                             "[default]\n"
                                             "^0(.*)$=sip/sip:\\1@gw.example\n"
                                             "^alice$=return;called=u1\n"
                                             "^(a|b)+$=-;error=busy\n");
  g_autoptr (SpRouter) basic = make_router ("[default]\n^0(.*)$=sip/sip:\\1@gw.example\n");

  g_assert_true (sp_router_get_extended (router));
  g_assert_true (sp_router_get_insensitive (router));
  assert_forward (sp_router_route_call (router, "0123", "u1", "u1", NULL), "sip:123@gw.example");
  assert_local (sp_router_route_call (router, "ALICE", "u1", "u1", NULL), "u1");
  assert_reject (sp_router_route_call (router, "abba", "u1", "u1", NULL), SP_ROUTE_REJECT, 486,
                 "busy");
  /* In basic syntax those parentheses are literal characters. */
  g_assert_false (sp_router_get_extended (basic));
  assert_reject (sp_router_route_call (basic, "0123", "u1", "u1", NULL), SP_ROUTE_NO_ROUTE, 404,
                 "noroute");
  assert_forward (sp_router_route_call (basic, "0(9)", "u1", "u1", NULL), "sip:@gw.example");
}

static void
assert_bad_number (SpRoute *route)
{
  g_assert_nonnull (route);
  g_assert_cmpint (route->kind, ==, SP_ROUTE_NO_ROUTE);
  g_assert_cmpuint (route->status, ==, 404);
  g_assert_cmpstr (route->reason, ==, "Invalid character in number");
  g_assert_cmpint (route->rule, ==, -1);
  g_assert_null (route->target);
  sp_route_free (route);
}

static void
test_forward_validation (void)
{
  g_autoptr (SpRouter) router = make_router ("[default]\n"
                                             "^9\\(.*\\)$=sip/\\1\n"
                                             "^8\\(.*\\)$=sip/sips:\\1@[::1]:5061\n"
                                             "^7$=sip/sip:${caller}@127.0.0.70\n");

  /* A whole URI in the dialled number is not a number. */
  assert_bad_number (sp_router_route_call (router, "9sip:x@127.0.0.60", "u1", "u1", NULL));
  assert_reject (sp_router_route_call (router, "9abc", "u1", "u1", NULL), SP_ROUTE_NO_ROUTE, 404,
                 "noroute");
  assert_bad_number (sp_router_route_call (router, "9sip:a b@h", "u1", "u1", NULL));
  assert_forward (sp_router_route_call (router, "8100", "u1", "u1", NULL), "sips:100@[::1]:5061");
  assert_forward (sp_router_route_call (router, "7", "u1", "u1", NULL), "sip:u1@127.0.0.70");
  /* A caller that would smuggle a header or another URI part stays in
   * the user part, escaped. */
  assert_forward (sp_router_route_call (router, "7", "a>\r\nX: y", "u1", NULL),
                  "sip:a%3E%0D%0AX%3A%20y@127.0.0.70");
  assert_forward (sp_router_route_call (router, "7", "a@evil;maddr=x", "u1", NULL),
                  "sip:a%40evil%3Bmaddr=x@127.0.0.70");
}

/* Issue 13: a dialled "%3B" (';' once unescaped) injected route
 * parameters: "2;username=x" skipped the noauth rule, and with a
 * forward rule reached the upstream trunk. Separators in numbers are
 * refused before any rule; what a rule substitutes never adds a
 * parameter and is escaped in a forward URI. */
static void
test_number_injection (void)
{
  static const char routes[] = "[default]\n"
                               "^0\\(.*\\)$=sip/sip:\\1@127.0.0.51:5060\n"
                               "${username}^$=-;error=noauth\n"
                               "^\\(.*\\)$=;called=\\1\n"
                               "^2$=return;called=u2\n";
  g_autoptr (SpRouter) router = make_router (routes);
  /* clang-format off */
  static const char *const bad[] = {
    "2;username=x", "0123;username=x", "2?X=y", "2@127.0.0.66", "2:5060", "2>", "2,3", "2 3",
    "2\t3", "2%3B", "2%253B", "2\\", "2\"", "2<", "2\r\nX: y",
  };
  /* clang-format on */
  SpRoute *route;

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_test_message ("number %s", bad[i]);
      /* Neither challenged-and-skipped nor forwarded: refused outright. */
      assert_bad_number (sp_router_route_call (router, bad[i], "", "", NULL));
      assert_bad_number (sp_router_route_call (router, bad[i], "u1", "u1", NULL));
    }
  /* Ordinary numbers and names still route. */
  assert_forward (sp_router_route_call (router, "0123", "", "", NULL), "sip:123@127.0.0.51:5060");
  route = sp_router_route_call (router, "2", "", "", NULL);
  g_assert_cmpint (route->kind, ==, SP_ROUTE_CHALLENGE);
  sp_route_free (route);
  assert_local (sp_router_route_call (router, "2", "u1", "u1", NULL), "u2");
  assert_forward (sp_router_route_call (router, "0*97#", "u1", "u1", NULL),
                  "sip:*97%23@127.0.0.51:5060");
  g_assert_true (sp_router_number_is_valid ("+49-30_1.2(3)*#"));
  g_assert_true (sp_router_number_is_valid ("j\xc3\xb6rg"));
  g_assert_false (sp_router_number_is_valid ("a\x01"));
}

/* A value a rule sets from the call (a capture, ${caller}) is data:
 * whatever it holds, it is one parameter's value. */
static void
test_substitution_is_data (void)
{
  g_autoptr (SpRouter) router = make_router ("[default]\n"
                                             "${caller}^\\(.*\\)$=;callername=\\1\n"
                                             "${username}^$=-;error=noauth\n"
                                             "^2$=return;called=u2\n");
  SpRoute *route;

  route = sp_router_route_call (router, "2", "x;username=u1", "", NULL);
  g_assert_cmpint (route->kind, ==, SP_ROUTE_CHALLENGE);
  g_assert_cmpstr (g_hash_table_lookup (route->params, "callername"), ==, "x;username=u1");
  g_assert_cmpstr (g_hash_table_lookup (route->params, "username"), ==, "");
  sp_route_free (route);
}

static void
test_save_load (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-router-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "routes.conf", NULL);
  g_autoptr (SpRouter) router = make_router ("[priorities]\ninsensitive=yes\n[default]\n"
                                             "${username}^$=-;error=noauth\n"
                                             "^\\(1\\|one\\)$=return;called=u1\n");
  g_autoptr (SpRouter) copy = make_router ("[default]\n^x$=-\n");

  g_assert_true (sp_router_save (router, dir, &error));
  g_assert_no_error (error);
  g_assert_true (sp_router_load (copy, dir, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sp_router_get_n_rules (copy), ==, 2);
  g_assert_true (sp_router_get_insensitive (copy));
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *a = sp_router_dup_rule (router, i);
      g_autofree char *b = sp_router_dup_rule (copy, i);

      g_assert_cmpstr (a, ==, b);
    }
  assert_local (sp_router_route_call (copy, "ONE", "u1", "u2", NULL), "u1");
  g_assert_cmpint (g_remove (path), ==, 0);
  g_assert_true (sp_router_load (copy, dir, &error));
  g_assert_cmpuint (sp_router_get_n_rules (copy), ==, 0);
  g_assert_false (sp_router_get_insensitive (copy));
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
test_hostile_input (void)
{
  g_autoptr (SpRouter) router = make_router (seed_routes);
  g_autofree char *huge = g_strnfill (100000, '1');

  /* Not UTF-8, huge, control characters: routed or refused, no crash. */
  assert_reject (sp_router_route_call (router, "\xff\xfe", "u1", "u1", NULL), SP_ROUTE_NO_ROUTE,
                 404, "noroute");
  assert_reject (sp_router_route_call (router, huge, "u1", "u1", NULL), SP_ROUTE_NO_ROUTE, 404,
                 "noroute");
  /* A (made valid) non-empty username is authenticated. */
  assert_local (sp_router_route_call (router, "2", "u1", "\xff", NULL), "u2");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/router/translate-basic-regex", test_translate);
  g_test_add_func ("/router/no-rules", test_no_rules);
  g_test_add_func ("/router/seed", test_seed);
  g_test_add_func ("/router/back-references", test_back_references);
  g_test_add_func ("/router/errors", test_errors);
  g_test_add_func ("/router/param-matches", test_param_matches);
  g_test_add_func ("/router/order-and-editing", test_order_and_editing);
  g_test_add_func ("/router/bad-rules", test_bad_rules);
  g_test_add_func ("/router/warnings", test_warnings);
  g_test_add_func ("/router/extended-and-insensitive", test_extended_and_insensitive);
  g_test_add_func ("/router/forward-validation", test_forward_validation);
  g_test_add_func ("/router/number-injection", test_number_injection);
  g_test_add_func ("/router/substitution-is-data", test_substitution_is_data);
  g_test_add_func ("/router/save-load", test_save_load);
  g_test_add_func ("/router/hostile-input", test_hostile_input);
  return g_test_run ();
}
