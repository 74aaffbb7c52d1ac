/* The web console over real HTTP on loopback. Runs under LSan with no
 * suppression: the console accepts connections itself (libsoup 3.2's
 * listener leaked each accepted GSocket, see webconsole.c). */
#include "server/webconsole.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>

typedef struct
{
  SpUserDb *users;
  SpLocationStore *locations;
  SpServerCallList *calls;
  SpWebConsole *console;
  SoupSession *session;
  char *base;
} Fixture;

typedef struct
{
  guint status;
  char *body;
  char *content_type;
  char *allow;
  char *location;
  char *csp;
} Reply;

static void
reply_clear (Reply *reply)
{
  g_free (reply->body);
  g_free (reply->content_type);
  g_free (reply->allow);
  g_free (reply->location);
  g_free (reply->csp);
  memset (reply, 0, sizeof *reply);
}

static void
fixture_setup (Fixture *f, gconstpointer password)
{
  g_autoptr (GError) error = NULL;

  f->users = sp_user_db_new ("softphone");
  f->locations = sp_location_store_new ();
  f->calls = sp_server_call_list_new ();
  f->console = sp_web_console_new (f->users, f->locations, f->calls);
  g_assert_true (sp_web_console_start (f->console, "127.0.0.1", 0, password, &error));
  g_assert_no_error (error);
  g_assert_true (sp_web_console_is_running (f->console));
  g_assert_cmpuint (sp_web_console_get_port (f->console), >, 0);
  f->base = g_strdup_printf ("http://127.0.0.1:%u", sp_web_console_get_port (f->console));
  f->session = soup_session_new ();
}

/* Lets libsoup finish closing connections (it frees them from idle
 * callbacks), so nothing shows up as leaked. */
static gboolean
set_flag (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
drain_main_context (void)
{
  gboolean done = FALSE;

  /* The peer's close arrives as a socket event: give it 50 ms. */
  g_timeout_add (50, set_flag, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
  for (guint i = 0; i < 100 && g_main_context_iteration (NULL, FALSE); i++)
    ;
}

static void
replace_session (Fixture *f)
{
  soup_session_abort (f->session);
  g_object_unref (f->session);
  drain_main_context ();
  f->session = soup_session_new ();
}

static void
fixture_teardown (Fixture *f, gconstpointer password)
{
  /* Client first, and let the server see the connections close before
   * it stops: libsoup 3.2 leaks the sockets of connections still open
   * when the server is disconnected. */
  soup_session_abort (f->session);
  g_object_unref (f->session);
  drain_main_context ();
  sp_web_console_stop (f->console);
  g_object_add_weak_pointer (G_OBJECT (f->console), (gpointer *) &f->console);
  g_object_unref (f->console);
  g_assert_null (f->console);
  g_object_unref (f->calls);
  g_object_unref (f->locations);
  g_object_unref (f->users);
  g_free (f->base);
  drain_main_context ();
}

typedef struct
{
  GBytes *bytes;
  GError *error;
  gboolean done;
} Pending;

static void
send_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Pending *pending = data;

  pending->bytes =
      soup_session_send_and_read_finish (SOUP_SESSION (source), result, &pending->error);
  pending->done = TRUE;
}

static gboolean
authenticate_cb (SoupMessage *msg, SoupAuth *auth, gboolean retrying, gpointer password)
{
  if (!retrying)
    soup_auth_authenticate (auth, SP_WEB_CONSOLE_ADMIN_USER, password);
  return FALSE;
}

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* One request, run to completion on the default main context (the server
 * lives there too), at most 10 s. */
static void
request (Fixture *f, const char *method, const char *path, const char *content_type,
         const char *body, const char *password, const char *origin, Reply *reply)
{
  g_autofree char *url = g_strconcat (f->base, path, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new (method, url);
  Pending pending = { 0 };
  gboolean timed_out = FALSE;
  guint timeout;
  SoupMessageHeaders *headers;

  g_assert_nonnull (msg);
  if (body != NULL)
    {
      g_autoptr (GBytes) bytes = g_bytes_new (body, strlen (body));

      soup_message_set_request_body_from_bytes (msg, content_type, bytes);
    }
  if (origin != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Origin", origin);
  if (password != NULL)
    g_signal_connect (msg, "authenticate", G_CALLBACK (authenticate_cb), (gpointer) password);
  soup_session_send_and_read_async (f->session, msg, G_PRIORITY_DEFAULT, NULL, send_done, &pending);
  timeout = g_timeout_add_seconds (10, timeout_cb, &timed_out);
  while (!pending.done && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_source_remove (timeout);
  g_assert_no_error (pending.error);

  headers = soup_message_get_response_headers (msg);
  reply->status = soup_message_get_status (msg);
  reply->body =
      g_strndup (g_bytes_get_data (pending.bytes, NULL), g_bytes_get_size (pending.bytes));
  reply->content_type = g_strdup (soup_message_headers_get_content_type (headers, NULL));
  reply->allow = g_strdup (soup_message_headers_get_one (headers, "Allow"));
  reply->location = g_strdup (soup_message_headers_get_one (headers, "Location"));
  reply->csp = g_strdup (soup_message_headers_get_one (headers, "Content-Security-Policy"));
  g_bytes_unref (pending.bytes);
}

static JsonNode *
parse_json (const char *text)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;

  g_assert_true (json_parser_load_from_data (parser, text, -1, &error));
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

static void
assert_json_error (Reply *reply, guint status)
{
  g_autoptr (JsonNode) root = NULL;

  g_assert_cmpuint (reply->status, ==, status);
  g_assert_cmpstr (reply->content_type, ==, "application/json");
  root = parse_json (reply->body);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  g_assert_nonnull (json_object_get_string_member (json_node_get_object (root), "error"));
  g_test_message ("%u %s", status, reply->body);
}

static void
test_parse_listen (void)
{
  g_autofree char *addr = NULL;
  guint16 port = 0;
  GError *error = NULL;

  g_assert_true (sp_web_console_parse_listen ("127.0.0.1:8080", &addr, &port, &error));
  g_assert_cmpstr (addr, ==, "127.0.0.1");
  g_assert_cmpuint (port, ==, 8080);
  g_clear_pointer (&addr, g_free);
  g_assert_true (sp_web_console_parse_listen ("[::1]:0", &addr, &port, &error));
  g_assert_cmpstr (addr, ==, "::1");
  g_assert_cmpuint (port, ==, 0);
  g_clear_pointer (&addr, g_free);
  g_assert_true (sp_web_console_parse_listen ("9000", &addr, &port, &error));
  g_assert_cmpstr (addr, ==, "127.0.0.1");
  g_assert_cmpuint (port, ==, 9000);
  g_clear_pointer (&addr, g_free);
  g_assert_no_error (error);

  const char *bad[] = { "",           "host.example:80", "::1:80",     "127.0.0.1:65536",
                        "127.0.0.1:", "[::1]80",         "1.2.3.4:-1", "abc" };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_false (sp_web_console_parse_listen (bad[i], &addr, &port, &error));
      g_assert_error (error, SP_WEB_CONSOLE_ERROR, SP_WEB_CONSOLE_ERROR_BAD_ADDRESS);
      g_clear_error (&error);
    }
}

static void
test_password_required (void)
{
  g_autoptr (SpWebConsole) console = sp_web_console_new (NULL, NULL, NULL);
  GError *error = NULL;

  /* Refused before anything listens: no non-loopback socket is opened. */
  g_assert_false (sp_web_console_start (console, "0.0.0.0", 0, NULL, &error));
  g_assert_error (error, SP_WEB_CONSOLE_ERROR, SP_WEB_CONSOLE_ERROR_NEEDS_PASSWORD);
  g_assert_nonnull (strstr (error->message, "admin password"));
  g_clear_error (&error);
  g_assert_false (sp_web_console_start (console, "::", 0, "", &error));
  g_assert_error (error, SP_WEB_CONSOLE_ERROR, SP_WEB_CONSOLE_ERROR_NEEDS_PASSWORD);
  g_clear_error (&error);
  g_assert_false (sp_web_console_start (console, "not-an-ip", 0, NULL, &error));
  g_assert_error (error, SP_WEB_CONSOLE_ERROR, SP_WEB_CONSOLE_ERROR_BAD_ADDRESS);
  g_clear_error (&error);
  g_assert_false (sp_web_console_is_running (console));
  g_assert_null (sp_web_console_dup_url (console));

  /* Loopback needs none; starting twice is refused. */
  g_assert_true (sp_web_console_start (console, NULL, 0, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (sp_web_console_start (console, NULL, 0, NULL, &error));
  g_assert_error (error, SP_WEB_CONSOLE_ERROR, SP_WEB_CONSOLE_ERROR_RUNNING);
  g_clear_error (&error);
  {
    g_autofree char *url = sp_web_console_dup_url (console);
    g_autofree char *expected =
        g_strdup_printf ("http://127.0.0.1:%u/", sp_web_console_get_port (console));

    g_assert_cmpstr (url, ==, expected);
  }
  sp_web_console_stop (console);
  g_assert_cmpuint (sp_web_console_get_port (console), ==, 0);
}

static void
test_users_api (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonNode) root = NULL;
  JsonArray *array;
  JsonObject *user;
  Reply r = { 0 };

  request (f, "GET", "/api/users", NULL, NULL, NULL, NULL, &r);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_cmpstr (r.body, ==, "[]");
  reply_clear (&r);

  request (f, "POST", "/api/users", "application/json",
           "{\"name\": \"u1\", \"password\": \"secret\", \"number\": \"1\"}", NULL, NULL, &r);
  g_assert_cmpuint (r.status, ==, 201);
  g_assert_cmpstr (r.location, ==, "/api/users/u1");
  g_assert_null (strstr (r.body, "secret"));
  reply_clear (&r);
  request (f, "POST", "/api/users", "application/json; charset=utf-8",
           "{\"name\": \"u2\", \"password\": \"pw2\"}", NULL, NULL, &r);
  g_assert_cmpuint (r.status, ==, 201);
  reply_clear (&r);
  g_assert_cmpstr (sp_user_db_get_ha1 (f->users, "u1", SP_USER_HA1_MD5), ==,
                   "73e93e0f7f6c12f5c75dafbf6e14c8cf");

  request (f, "GET", "/api/users", NULL, NULL, NULL, NULL, &r);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_cmpstr (r.content_type, ==, "application/json");
  /* Neither the password nor any HA1 ever leaves. */
  g_assert_null (strstr (r.body, "secret"));
  g_assert_null (strstr (r.body, "73e93e0f"));
  g_assert_null (strstr (r.body, "ha1"));
  root = parse_json (r.body);
  array = json_node_get_array (root);
  g_assert_cmpuint (json_array_get_length (array), ==, 2);
  user = json_array_get_object_element (array, 0);
  g_assert_cmpstr (json_object_get_string_member (user, "name"), ==, "u1");
  g_assert_cmpstr (json_object_get_string_member (user, "number"), ==, "1");
  g_assert_false (json_object_get_boolean_member (user, "needs_password"));
  user = json_array_get_object_element (array, 1);
  g_assert_true (json_object_get_null_member (user, "number"));
  reply_clear (&r);

  /* Bad requests: 400 with a JSON message. */
  request (f, "POST", "/api/users", "application/json", "{not json", NULL, NULL, &r);
  assert_json_error (&r, 400);
  reply_clear (&r);
  request (f, "POST", "/api/users", "application/json", "[1, 2]", NULL, NULL, &r);
  assert_json_error (&r, 400);
  reply_clear (&r);
  request (f, "POST", "/api/users", "application/json", "{\"name\": \"u3\"}", NULL, NULL, &r);
  assert_json_error (&r, 400);
  reply_clear (&r);
  request (f, "POST", "/api/users", "application/json", "{\"name\": 3, \"password\": \"x\"}", NULL,
           NULL, &r);
  assert_json_error (&r, 400);
  reply_clear (&r);
  request (f, "POST", "/api/users", "application/json",
           "{\"name\": \"bad name\", \"password\": \"x\"}", NULL, NULL, &r);
  assert_json_error (&r, 400);
  g_assert_nonnull (strstr (r.body, "not allowed in a SIP user name"));
  reply_clear (&r);
  request (f, "POST", "/api/users", "application/json", "{\"name\": \"u1\", \"password\": \"x\"}",
           NULL, NULL, &r);
  assert_json_error (&r, 409);
  reply_clear (&r);
  request (f, "POST", "/api/users", "application/json",
           "{\"name\": \"u3\", \"password\": \"x\", \"number\": \"1\"}", NULL, NULL, &r);
  assert_json_error (&r, 409);
  reply_clear (&r);
  request (f, "POST", "/api/users", "text/plain", "{\"name\": \"u3\", \"password\": \"x\"}", NULL,
           NULL, &r);
  assert_json_error (&r, 415);
  reply_clear (&r);
  /* A page of another site cannot add users through the browser. */
  request (f, "POST", "/api/users", "application/json", "{\"name\": \"u3\", \"password\": \"x\"}",
           NULL, "http://evil.example", &r);
  assert_json_error (&r, 403);
  reply_clear (&r);
  g_assert_cmpuint (sp_user_db_get_n_users (f->users), ==, 2);

  /* DELETE drops the user and their registrations. */
  {
    SpContactUpdate c = { "sip:u2@127.0.0.101", -1, -1 };
    SpRegisterRequest req = {
      .aor = "u2", .call_id = "x", .cseq = 1, .expires_header = 600, .contacts = &c, .n_contacts = 1
    };

    sp_register_result_free (
        sp_location_store_register (f->locations, &req, g_get_real_time () / G_USEC_PER_SEC));
  }
  g_assert_cmpuint (sp_location_store_get_n_bindings (f->locations), ==, 1);
  request (f, "DELETE", "/api/users/u2", NULL, NULL, NULL, NULL, &r);
  g_assert_cmpuint (r.status, ==, 204);
  reply_clear (&r);
  g_assert_null (sp_user_db_lookup (f->users, "u2"));
  g_assert_cmpuint (sp_location_store_get_n_bindings (f->locations), ==, 0);
  request (f, "DELETE", "/api/users/u2", NULL, NULL, NULL, NULL, &r);
  assert_json_error (&r, 404);
  reply_clear (&r);
  request (f, "DELETE", "/api/users/%00", NULL, NULL, NULL, NULL, &r);
  g_assert_cmpuint (r.status, >=, 400);
  reply_clear (&r);
  request (f, "PUT", "/api/users/u1", NULL, NULL, NULL, NULL, &r);
  assert_json_error (&r, 405);
  g_assert_cmpstr (r.allow, ==, "DELETE");
  reply_clear (&r);
  request (f, "DELETE", "/api/users", NULL, NULL, NULL, NULL, &r);
  assert_json_error (&r, 405);
  g_assert_cmpstr (r.allow, ==, "GET, POST");
  reply_clear (&r);
  request (f, "GET", "/api/nothing", NULL, NULL, NULL, NULL, &r);
  assert_json_error (&r, 404);
  reply_clear (&r);
}

static void
test_too_large (Fixture *f, gconstpointer data)
{
  g_autofree char *big = g_strnfill (SP_WEB_CONSOLE_MAX_BODY + 1, ' ');
  Reply r = { 0 };

  request (f, "POST", "/api/users", "application/json", big, NULL, NULL, &r);
  g_assert_cmpuint (r.status, ==, 413);
  reply_clear (&r);
  g_assert_cmpuint (sp_user_db_get_n_users (f->users), ==, 0);
}

static void
test_registrations_and_calls (Fixture *f, gconstpointer data)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  SpContactUpdate c = { "sip:u1@127.0.0.183:5060", -1, 500 };
  SpRegisterRequest req = {
    .aor = "u1",
    .call_id = "c1",
    .cseq = 1,
    .expires_header = 600,
    .source = "127.0.0.183:5060",
    .transport = "udp",
    .user_agent = "<script>alert(1)</script>",
    .contacts = &c,
    .n_contacts = 1,
  };
  SpServerCall call = {
    .id = "call-1",
    .caller = "u1",
    .called = "2",
    .callee = "u2",
    .state = "answered",
    .started = now - 10,
    .answered = now - 5,
  };
  g_autoptr (JsonNode) root = NULL;
  JsonObject *object;
  Reply r = { 0 };

  sp_register_result_free (sp_location_store_register (f->locations, &req, now));
  g_assert_true (sp_server_call_list_add (f->calls, &call));
  g_assert_false (sp_server_call_list_add (f->calls, &call));

  request (f, "GET", "/api/registrations", NULL, NULL, NULL, NULL, &r);
  g_assert_cmpuint (r.status, ==, 200);
  root = parse_json (r.body);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (root)), ==, 1);
  object = json_array_get_object_element (json_node_get_array (root), 0);
  g_assert_cmpstr (json_object_get_string_member (object, "user"), ==, "u1");
  g_assert_cmpstr (json_object_get_string_member (object, "contact"), ==,
                   "sip:u1@127.0.0.183:5060");
  g_assert_cmpstr (json_object_get_string_member (object, "source"), ==, "127.0.0.183:5060");
  g_assert_cmpint (json_object_get_int_member (object, "expires"), ==, now + 600);
  g_assert_cmpint (json_object_get_int_member (object, "expires_in"), <=, 600);
  g_assert_cmpint (json_object_get_int_member (object, "expires_in"), >=, 590);
  g_assert_cmpfloat (json_object_get_double_member (object, "q"), ==, 0.5);
  reply_clear (&r);
  g_clear_pointer (&root, json_node_unref);

  request (f, "GET", "/api/calls", NULL, NULL, NULL, NULL, &r);
  g_assert_cmpuint (r.status, ==, 200);
  root = parse_json (r.body);
  object = json_array_get_object_element (json_node_get_array (root), 0);
  g_assert_cmpstr (json_object_get_string_member (object, "id"), ==, "call-1");
  g_assert_cmpstr (json_object_get_string_member (object, "called"), ==, "2");
  g_assert_cmpstr (json_object_get_string_member (object, "callee"), ==, "u2");
  g_assert_cmpstr (json_object_get_string_member (object, "state"), ==, "answered");
  g_assert_cmpint (json_object_get_int_member (object, "answered"), ==, now - 5);
  reply_clear (&r);

  /* The status page: refreshes itself, lists both, escapes everything. */
  request (f, "GET", "/", NULL, NULL, NULL, NULL, &r);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_cmpstr (r.content_type, ==, "text/html");
  g_assert_cmpstr (r.csp, ==, "default-src 'none'");
  g_assert_nonnull (strstr (r.body, "<meta http-equiv=\"refresh\" content=\"5\">"));
  g_assert_nonnull (strstr (r.body, "<h2>Registrations (1)</h2>"));
  g_assert_nonnull (strstr (r.body, "<td>sip:u1@127.0.0.183:5060</td>"));
  g_assert_nonnull (strstr (r.body, "&lt;script&gt;alert(1)&lt;/script&gt;"));
  g_assert_null (strstr (r.body, "<script>"));
  g_assert_nonnull (strstr (r.body, "<h2>Calls (1)</h2>"));
  g_assert_nonnull (strstr (r.body, "<td>u2</td><td>answered</td>"));
  reply_clear (&r);

  g_assert_true (sp_server_call_list_set_state (f->calls, "call-1", "ended", 0));
  g_assert_true (sp_server_call_list_remove (f->calls, "call-1"));
  g_assert_false (sp_server_call_list_remove (f->calls, "call-1"));
  request (f, "GET", "/", NULL, NULL, NULL, NULL, &r);
  g_assert_nonnull (strstr (r.body, "<h2>Calls (0)</h2>"));
  reply_clear (&r);
  request (f, "POST", "/api/calls", "application/json", "{}", NULL, NULL, &r);
  assert_json_error (&r, 405);
  reply_clear (&r);
}

static void
test_digest_auth (Fixture *f, gconstpointer password)
{
  Reply r = { 0 };

  request (f, "GET", "/api/users", NULL, NULL, NULL, NULL, &r);
  g_assert_cmpuint (r.status, ==, 401);
  reply_clear (&r);
  request (f, "GET", "/", NULL, NULL, "wrong", NULL, &r);
  g_assert_cmpuint (r.status, ==, 401);
  reply_clear (&r);
  request (f, "GET", "/api/users", NULL, NULL, password, NULL, &r);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_cmpstr (r.body, ==, "[]");
  reply_clear (&r);
  /* A new session: the old one would reuse the good credentials. */
  replace_session (f);
  request (f, "POST", "/api/users", "application/json", "{\"name\": \"u1\", \"password\": \"x\"}",
           "wrong", NULL, &r);
  g_assert_cmpuint (r.status, ==, 401);
  reply_clear (&r);
  g_assert_cmpuint (sp_user_db_get_n_users (f->users), ==, 0);
  /* libsoup does not resend a request body after a 401, so, as browsers
   * and scripts do, authenticate with a GET first; the session then
   * sends its Digest credentials with the POST straight away. */
  replace_session (f);
  request (f, "GET", "/api/users", NULL, NULL, password, NULL, &r);
  g_assert_cmpuint (r.status, ==, 200);
  reply_clear (&r);
  request (f, "POST", "/api/users", "application/json", "{\"name\": \"u1\", \"password\": \"x\"}",
           password, NULL, &r);
  g_assert_cmpuint (r.status, ==, 201);
  reply_clear (&r);
  g_assert_cmpuint (sp_user_db_get_n_users (f->users), ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/webconsole/parse-listen", test_parse_listen);
  g_test_add_func ("/webconsole/password-required", test_password_required);
  g_test_add ("/webconsole/users-api", Fixture, NULL, fixture_setup, test_users_api,
              fixture_teardown);
  g_test_add ("/webconsole/too-large", Fixture, NULL, fixture_setup, test_too_large,
              fixture_teardown);
  g_test_add ("/webconsole/registrations-and-calls", Fixture, NULL, fixture_setup,
              test_registrations_and_calls, fixture_teardown);
  g_test_add ("/webconsole/digest-auth", Fixture, "s3cret admin", fixture_setup, test_digest_auth,
              fixture_teardown);
  return g_test_run ();
}
