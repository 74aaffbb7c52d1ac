/* The web console over real HTTP on loopback. Runs under LSan with no
 * suppression: the console accepts connections itself (libsoup 3.2's
 * listener leaked each accepted GSocket, see webconsole.c). */
#include "server/apitoken.h"
#include "server/passwordhash.h"
#include "server/webconsole.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>
#include <sys/stat.h>

/* The API token the fixture's console takes (a real one is 64 hex digits
 * from apitoken.c; the console compares whatever it is given). */
#define TOKEN "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

typedef struct
{
  SpUserDb *users;
  SpLocationStore *locations;
  SpServerCallList *calls;
  SpWebConsole *console;
  SoupSession *session;
  char *base;
  char *hash;         /* of the admin password, NULL without one */
  const char *bearer; /* sent as Authorization: Bearer when set */
} Fixture;

typedef struct
{
  guint status;
  char *body;
  char *content_type;
  char *allow;
  char *location;
  char *csp;
  char *www_authenticate;
  char *retry_after;
  char *allow_origin;
} Reply;

static void
reply_clear (Reply *reply)
{
  g_free (reply->body);
  g_free (reply->content_type);
  g_free (reply->allow);
  g_free (reply->location);
  g_free (reply->csp);
  g_free (reply->www_authenticate);
  g_free (reply->retry_after);
  g_free (reply->allow_origin);
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
  if (password != NULL)
    {
      f->hash = sp_password_hash_new (password, &error);
      g_assert_no_error (error);
    }
  sp_web_console_set_token (f->console, TOKEN);
  g_assert_true (sp_web_console_start (f->console, "127.0.0.1", 0, f->hash, &error));
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
  g_free (f->hash);
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
 * lives there too), at most 10 s. @extra: header names and values, NULL
 * ended (or NULL). */
static void
request_with_headers (Fixture *f, const char *method, const char *path, const char *content_type,
                      const char *body, const char *password, const char *const *extra,
                      Reply *reply)
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
  for (guint i = 0; extra != NULL && extra[i] != NULL; i += 2)
    soup_message_headers_replace (soup_message_get_request_headers (msg), extra[i], extra[i + 1]);
  if (f->bearer != NULL)
    {
      g_autofree char *value = g_strconcat ("Bearer ", f->bearer, NULL);

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", value);
    }
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
  reply->www_authenticate = g_strdup (soup_message_headers_get_list (headers, "WWW-Authenticate"));
  reply->retry_after = g_strdup (soup_message_headers_get_one (headers, "Retry-After"));
  reply->allow_origin =
      g_strdup (soup_message_headers_get_one (headers, "Access-Control-Allow-Origin"));
  g_bytes_unref (pending.bytes);
}

static void
request (Fixture *f, const char *method, const char *path, const char *content_type,
         const char *body, const char *password, const char *origin, Reply *reply)
{
  const char *extra[] = { "Origin", origin, NULL };

  request_with_headers (f, method, path, content_type, body, password,
                        origin != NULL ? extra : NULL, reply);
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
  /* Only a hash is taken, never the password itself. */
  g_assert_false (sp_web_console_start (console, "127.0.0.1", 0, "s3cret admin", &error));
  g_assert_error (error, SP_WEB_CONSOLE_ERROR, SP_WEB_CONSOLE_ERROR_BAD_PASSWORD_HASH);
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

  f->bearer = TOKEN;
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
  f->bearer = TOKEN;
  request (f, "POST", "/api/calls", "application/json", "{}", NULL, NULL, &r);
  assert_json_error (&r, 405);
  reply_clear (&r);
}

/* An admin password: every path asks for it (Basic, checked against the
 * hash); the token works too. */
static void
test_admin_password (Fixture *f, gconstpointer password)
{
  Reply r = { 0 };

  g_assert_true (g_str_has_prefix (f->hash, "$y$"));
  request (f, "GET", "/api/users", NULL, NULL, NULL, NULL, &r);
  g_assert_cmpuint (r.status, ==, 401);
  g_assert_nonnull (strstr (r.www_authenticate, "Basic realm=\"Softphone\""));
  g_assert_nonnull (strstr (r.www_authenticate, "Bearer"));
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
   * sends its Basic credentials with the POST straight away. */
  replace_session (f);
  request (f, "GET", "/api/users", NULL, NULL, password, NULL, &r);
  g_assert_cmpuint (r.status, ==, 200);
  reply_clear (&r);
  request (f, "POST", "/api/users", "application/json", "{\"name\": \"u1\", \"password\": \"x\"}",
           password, NULL, &r);
  g_assert_cmpuint (r.status, ==, 201);
  reply_clear (&r);
  g_assert_cmpuint (sp_user_db_get_n_users (f->users), ==, 1);

  /* The token, without the password. */
  replace_session (f);
  f->bearer = TOKEN;
  request (f, "DELETE", "/api/users/u1", NULL, NULL, NULL, NULL, &r);
  g_assert_cmpuint (r.status, ==, 204);
  reply_clear (&r);
  request (f, "GET", "/", NULL, NULL, NULL, NULL, &r);
  g_assert_cmpuint (r.status, ==, 200);
  reply_clear (&r);
}

/* On loopback without an admin password reading is open, but nothing
 * changes without the token: another local user or program, or a web
 * page, cannot add users. */
static void
test_changes_need_credentials (Fixture *f, gconstpointer data)
{
  static const char *const wrong[] = {
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdee",
    "0123456789abcdef",
    "",
    TOKEN "0",
  };
  const char *user = "{\"name\": \"u1\", \"password\": \"x\"}";
  Reply r = { 0 };

  request (f, "POST", "/api/users", "application/json", user, NULL, NULL, &r);
  assert_json_error (&r, 401);
  g_assert_nonnull (strstr (r.www_authenticate, "Bearer realm=\"Softphone\""));
  g_assert_null (strstr (r.www_authenticate, "Basic"));
  reply_clear (&r);
  for (guint i = 0; i < G_N_ELEMENTS (wrong); i++)
    {
      f->bearer = wrong[i];
      request (f, "POST", "/api/users", "application/json", user, NULL, NULL, &r);
      assert_json_error (&r, 401);
      reply_clear (&r);
    }
  /* A password where none is set is as wrong. */
  f->bearer = NULL;
  request (f, "POST", "/api/users", "application/json", user, "anything", NULL, &r);
  g_assert_cmpuint (r.status, ==, 401);
  reply_clear (&r);
  g_assert_cmpuint (sp_user_db_get_n_users (f->users), ==, 0);

  f->bearer = TOKEN;
  request (f, "POST", "/api/users", "application/json", user, NULL, NULL, &r);
  g_assert_cmpuint (r.status, ==, 201);
  reply_clear (&r);
  f->bearer = NULL;
  request (f, "DELETE", "/api/users/u1", NULL, NULL, NULL, NULL, &r);
  assert_json_error (&r, 401);
  reply_clear (&r);
  request (f, "PUT", "/api/users/u1", "application/json", "{}", NULL, NULL, &r);
  assert_json_error (&r, 401);
  reply_clear (&r);
  g_assert_nonnull (sp_user_db_lookup (f->users, "u1"));
  /* Reading needs nothing here. */
  request (f, "GET", "/api/users", NULL, NULL, NULL, NULL, &r);
  g_assert_cmpuint (r.status, ==, 200);
  reply_clear (&r);

  /* Without any token configured, changes cannot be made at all. */
  sp_web_console_set_token (f->console, NULL);
  f->bearer = TOKEN;
  request (f, "DELETE", "/api/users/u1", NULL, NULL, NULL, NULL, &r);
  assert_json_error (&r, 401);
  reply_clear (&r);
  g_assert_nonnull (sp_user_db_lookup (f->users, "u1"));
}

/* The browser remembers the admin password: a page of another site (or
 * a rebound name) must not use it to change anything. */
static void
test_cross_site (Fixture *f, gconstpointer password)
{
  const char *user = "{\"name\": \"u1\", \"password\": \"x\"}";
  const char *const cross_site[] = { "Sec-Fetch-Site", "cross-site", NULL };
  const char *const same_site[] = { "Sec-Fetch-Site", "same-site", NULL };
  const char *const same_origin[] = { "Sec-Fetch-Site", "same-origin", NULL };
  const char *const preflight[] = { "Origin",
                                    "http://evil.example",
                                    "Access-Control-Request-Method",
                                    "POST",
                                    "Access-Control-Request-Headers",
                                    "content-type",
                                    NULL };
  Reply r = { 0 };

  request (f, "GET", "/api/users", NULL, NULL, password, NULL, &r);
  g_assert_cmpuint (r.status, ==, 200);
  reply_clear (&r);
  /* The session now sends the password with every request, as a browser
   * does. */
  request (f, "POST", "/api/users", "application/json", user, password, "http://evil.example", &r);
  assert_json_error (&r, 403);
  reply_clear (&r);
  request_with_headers (f, "POST", "/api/users", "application/json", user, password, cross_site,
                        &r);
  assert_json_error (&r, 403);
  reply_clear (&r);
  request_with_headers (f, "POST", "/api/users", "application/json", user, password, same_site, &r);
  assert_json_error (&r, 403);
  reply_clear (&r);
  /* An HTML form can only send these types: refused. */
  request (f, "POST", "/api/users", "application/x-www-form-urlencoded", "name=u1&password=x",
           password, NULL, &r);
  assert_json_error (&r, 415);
  reply_clear (&r);
  request (f, "POST", "/api/users", "text/plain", user, password, NULL, &r);
  assert_json_error (&r, 415);
  reply_clear (&r);
  /* A CORS preflight gets no permission. */
  request_with_headers (f, "OPTIONS", "/api/users", NULL, NULL, password, preflight, &r);
  g_assert_cmpuint (r.status, >=, 400);
  g_assert_null (r.allow_origin);
  reply_clear (&r);
  g_assert_cmpuint (sp_user_db_get_n_users (f->users), ==, 0);

  /* The console's own origin is fine. */
  request_with_headers (f, "POST", "/api/users", "application/json", user, password, same_origin,
                        &r);
  g_assert_cmpuint (r.status, ==, 201);
  reply_clear (&r);
  g_assert_cmpuint (sp_user_db_get_n_users (f->users), ==, 1);
}

/* Ten wrong credentials from an address lock it out, right ones too. */
static void
test_lockout (Fixture *f, gconstpointer password)
{
  Reply r = { 0 };

  for (guint i = 0; i < 10; i++)
    {
      f->bearer = "not-the-token";
      request (f, "GET", "/api/users", NULL, NULL, NULL, NULL, &r);
      g_assert_cmpuint (r.status, ==, 401);
      reply_clear (&r);
    }
  f->bearer = NULL;
  request (f, "GET", "/api/users", NULL, NULL, password, NULL, &r);
  assert_json_error (&r, 429);
  g_assert_cmpstr (r.retry_after, ==, "300");
  reply_clear (&r);
  f->bearer = TOKEN;
  request (f, "POST", "/api/users", "application/json", "{\"name\": \"u1\", \"password\": \"x\"}",
           NULL, NULL, &r);
  assert_json_error (&r, 429);
  reply_clear (&r);
  g_assert_cmpuint (sp_user_db_get_n_users (f->users), ==, 0);
}

/* Every message logged while set (the writer stays for the process). */
static GString *captured_log;

static GLogWriterOutput
collect_log (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  if (captured_log == NULL)
    return g_log_writer_default (level, fields, n_fields, data);
  for (gsize i = 0; i < n_fields; i++)
    if (g_strcmp0 (fields[i].key, "MESSAGE") == 0)
      g_string_append_printf (captured_log, "%s\n", (const char *) fields[i].value);
  return G_LOG_WRITER_HANDLED;
}

/* Nothing the console answers or logs holds the admin password, its
 * hash, a user's password or HA1, or the token. */
static void
test_no_secrets_out (Fixture *f, gconstpointer password)
{
  static const char *const paths[] = { "/",          "/api/users",        "/api/registrations",
                                       "/api/calls", "/api/users/nobody", "/nothing" };
  g_autoptr (GString) logged = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  Reply r = { 0 };

  g_log_set_debug_enabled (TRUE);
  captured_log = logged;
  g_assert_true (sp_user_db_add (f->users, "u1", "1", "user-secret", &error));
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      for (guint round = 0; round < 3; round++)
        {
          /* Without, with wrong and with right credentials. */
          const char *pw = round == 0 ? NULL : round == 1 ? "wrong" : password;

          replace_session (f);
          request (f, "GET", paths[i], NULL, NULL, pw, NULL, &r);
          g_assert_null (strstr (r.body, password));
          g_assert_null (strstr (r.body, f->hash));
          g_assert_null (strstr (r.body, "$y$"));
          g_assert_null (strstr (r.body, TOKEN));
          g_assert_null (strstr (r.body, "user-secret"));
          g_assert_null (strstr (r.body, sp_user_db_get_ha1 (f->users, "u1", SP_USER_HA1_MD5)));
          reply_clear (&r);
        }
    }
  captured_log = NULL;
  g_log_set_debug_enabled (FALSE);
  g_assert_null (strstr (logged->str, password));
  g_assert_null (strstr (logged->str, f->hash));
  g_assert_null (strstr (logged->str, TOKEN));
}

static void
test_password_hash (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *a = sp_password_hash_new ("correct horse", &error);
  g_autofree char *b = sp_password_hash_new ("correct horse", &error);
  g_autofree char *empty = sp_password_hash_new ("", &error);

  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (a, "$y$"));
  /* Salted: the same password never gives the same text. */
  g_assert_cmpstr (a, !=, b);
  g_assert_null (strstr (a, "correct"));
  g_assert_true (sp_password_hash_is_hash (a));
  g_assert_true (sp_password_hash_verify (a, "correct horse"));
  g_assert_true (sp_password_hash_verify (b, "correct horse"));
  g_assert_false (sp_password_hash_verify (a, "correct horse "));
  g_assert_false (sp_password_hash_verify (a, "Correct horse"));
  g_assert_false (sp_password_hash_verify (a, ""));
  g_assert_true (sp_password_hash_verify (empty, ""));
  /* A plain password is no hash and matches nothing, itself included. */
  g_assert_false (sp_password_hash_is_hash ("correct horse"));
  g_assert_false (sp_password_hash_is_hash ("$y$"));
  g_assert_false (sp_password_hash_is_hash (""));
  g_assert_false (sp_password_hash_is_hash (NULL));
  g_assert_false (sp_password_hash_verify ("correct horse", "correct horse"));
  g_assert_false (sp_password_hash_verify ("$y$garbage", "x"));
  g_assert_false (sp_password_hash_verify (NULL, "x"));
}

static guint
file_mode (const char *path)
{
  GStatBuf st;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  return st.st_mode & 0777;
}

static void
test_token_file (void)
{
  g_autofree char *tmp = g_dir_make_tmp ("sp-test-token-XXXXXX", NULL);
  g_autofree char *dir = g_build_filename (tmp, "config", NULL);
  g_autofree char *path = sp_api_token_path (dir);
  g_autoptr (GError) error = NULL;
  g_autofree char *first = NULL;
  g_autofree char *again = NULL;
  g_autofree char *replaced = NULL;
  g_autofree char *text = NULL;
  g_autofree char *link = g_build_filename (tmp, "link", NULL);

  /* First start: directory 0700, file 0600, 64 hex digits. */
  first = sp_api_token_load_or_create (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (first), ==, 64);
  for (guint i = 0; i < 64; i++)
    g_assert_true (g_ascii_isxdigit (first[i]));
  g_assert_cmpuint (file_mode (dir), ==, 0700);
  g_assert_cmpuint (file_mode (path), ==, 0600);
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_true (g_str_has_prefix (text, first));
  g_clear_pointer (&text, g_free);

  /* Later starts read it. */
  again = sp_api_token_load_or_create (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again, ==, first);
  g_assert_true (sp_api_token_equal (first, again));
  g_assert_false (sp_api_token_equal (first, "x"));
  g_assert_false (sp_api_token_equal (NULL, first));
  g_assert_false (sp_api_token_equal (first, NULL));

  /* Readable by others: it may have been seen, so it is replaced. */
  g_assert_cmpint (g_chmod (path, 0644), ==, 0);
  replaced = sp_api_token_load_or_create (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (replaced, !=, first);
  g_assert_cmpuint (file_mode (path), ==, 0600);
  g_clear_pointer (&replaced, g_free);

  /* Not a token: replaced. */
  g_assert_true (
      g_file_set_contents_full (path, "short\n", -1, G_FILE_SET_CONTENTS_NONE, 0600, NULL));
  replaced = sp_api_token_load_or_create (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (replaced), ==, 64);

  /* A symbolic link (to a file an attacker could read) is refused. */
  g_assert_cmpint (g_rename (path, link), ==, 0);
  g_assert_cmpint (symlink (link, path), ==, 0);
  g_assert_null (sp_api_token_load_or_create (dir, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_null (strstr (error->message, replaced));

  g_assert_cmpint (g_unlink (path), ==, 0);
  g_assert_cmpint (g_unlink (link), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
  g_assert_cmpint (g_rmdir (tmp), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_log_set_writer_func (collect_log, NULL, NULL);
  g_test_add_func ("/webconsole/parse-listen", test_parse_listen);
  g_test_add_func ("/webconsole/password-required", test_password_required);
  g_test_add ("/webconsole/users-api", Fixture, NULL, fixture_setup, test_users_api,
              fixture_teardown);
  g_test_add ("/webconsole/too-large", Fixture, NULL, fixture_setup, test_too_large,
              fixture_teardown);
  g_test_add ("/webconsole/registrations-and-calls", Fixture, NULL, fixture_setup,
              test_registrations_and_calls, fixture_teardown);
  g_test_add ("/webconsole/admin-password", Fixture, "s3cret admin", fixture_setup,
              test_admin_password, fixture_teardown);
  g_test_add ("/webconsole/changes-need-credentials", Fixture, NULL, fixture_setup,
              test_changes_need_credentials, fixture_teardown);
  g_test_add ("/webconsole/cross-site", Fixture, "s3cret admin", fixture_setup, test_cross_site,
              fixture_teardown);
  g_test_add ("/webconsole/lockout", Fixture, "s3cret admin", fixture_setup, test_lockout,
              fixture_teardown);
  g_test_add ("/webconsole/no-secrets-out", Fixture, "s3cret admin", fixture_setup,
              test_no_secrets_out, fixture_teardown);
  g_test_add_func ("/webconsole/password-hash", test_password_hash);
  g_test_add_func ("/webconsole/token-file", test_token_file);
  return g_test_run ();
}
