#include "server/webconsole.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>
#include <sys/random.h>

#include "i18n.h"
#include "server/apitoken.h"
#include "server/authguard.h"
#include "server/passwordhash.h"

/* Wrong credentials: this many from one address within a minute lock it
 * out for five (the yescrypt check costs tens of ms each, so guessing is
 * slow anyway; this keeps it from also costing the CPU). */
#define MAX_AUTH_FAILURES   10
#define AUTH_WINDOW_SECONDS 60
#define AUTH_BLOCK_SECONDS  300
#define AUTH_GUARD_ENTRIES  256
/* Longest Authorization header looked at. */
#define MAX_AUTHORIZATION 1024
/* RFC 6585; libsoup 3.2 has no name for it. */
#define STATUS_TOO_MANY_REQUESTS 429

struct _SpWebConsole
{
  GObject parent_instance;
  SpUserDb *users;
  SpLocationStore *locations;
  SpServerCallList *calls;
  SoupServer *server;
  /* Accepts for the server: libsoup 3.2's own listener leaks every
   * accepted GSocket (see start). */
  GSocketService *service;
  char *address;    /* as listened on, for the URL */
  char *admin_hash; /* yescrypt hash of the admin password, NULL without one */
  char *token;      /* API token, NULL without one */
  SpAuthGuard *guard;
  /* The slow hash costs a browser's every request (one per page
   * refresh): the last password that matched is remembered as an HMAC
   * under a key of this process only, so the same one is checked fast. */
  guint8 cache_key[32];
  gboolean have_cache_key;
  char *verified_mac;
  guint16 port;
  guint16 tls_port;      /* 0: no TLS listener */
  char *tls_fingerprint; /* SHA-256 of the SIP TLS certificate */
};

G_DEFINE_TYPE (SpWebConsole, sp_web_console, G_TYPE_OBJECT)
G_DEFINE_QUARK (sp - web - console - error - quark, sp_web_console_error)

static void
sp_web_console_dispose (GObject *object)
{
  SpWebConsole *console = SP_WEB_CONSOLE (object);

  sp_web_console_stop (console);
  sp_web_console_set_token (console, NULL);
  g_clear_pointer (&console->guard, sp_auth_guard_free);
  memset (console->cache_key, 0, sizeof console->cache_key);
  g_clear_pointer (&console->tls_fingerprint, g_free);
  g_clear_object (&console->users);
  g_clear_object (&console->locations);
  g_clear_object (&console->calls);
  G_OBJECT_CLASS (sp_web_console_parent_class)->dispose (object);
}

static void
sp_web_console_class_init (SpWebConsoleClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = sp_web_console_dispose;
}

static void
sp_web_console_init (SpWebConsole *console)
{
  console->guard = sp_auth_guard_new (MAX_AUTH_FAILURES, AUTH_WINDOW_SECONDS, AUTH_BLOCK_SECONDS,
                                      AUTH_GUARD_ENTRIES);
  console->have_cache_key = getrandom (console->cache_key, sizeof console->cache_key, 0) ==
                            (ssize_t) sizeof console->cache_key;
}

static void
clear_secret (char **secret)
{
  if (*secret != NULL)
    memset (*secret, 0, strlen (*secret));
  g_clear_pointer (secret, g_free);
}

void
sp_web_console_set_token (SpWebConsole *console, const char *token)
{
  g_return_if_fail (SP_IS_WEB_CONSOLE (console));
  clear_secret (&console->token);
  console->token = token != NULL && token[0] != '\0' ? g_strdup (token) : NULL;
}

void
sp_web_console_set_tls (SpWebConsole *console, guint16 port, const char *fingerprint)
{
  g_return_if_fail (SP_IS_WEB_CONSOLE (console));
  console->tls_port = port;
  g_free (console->tls_fingerprint);
  console->tls_fingerprint = g_strdup (fingerprint);
}

SpWebConsole *
sp_web_console_new (SpUserDb *users, SpLocationStore *locations, SpServerCallList *calls)
{
  SpWebConsole *console = g_object_new (SP_TYPE_WEB_CONSOLE, NULL);

  console->users = users != NULL ? g_object_ref (users) : NULL;
  console->locations = locations != NULL ? g_object_ref (locations) : NULL;
  console->calls = calls != NULL ? g_object_ref (calls) : NULL;
  return console;
}

gboolean
sp_web_console_parse_listen (const char *text, char **address, guint16 *port, GError **error)
{
  g_autofree char *host = NULL;
  const char *port_text = text;
  guint64 value = 0;

  if (text == NULL || text[0] == '\0')
    goto bad;
  if (text[0] == '[')
    {
      const char *close = strchr (text, ']');

      if (close == NULL || close[1] != ':')
        goto bad;
      host = g_strndup (text + 1, close - text - 1);
      port_text = close + 2;
    }
  else if (strchr (text, ':') != NULL)
    {
      const char *colon = strrchr (text, ':');

      if (strchr (text, ':') != colon)
        goto bad; /* a bare IPv6 address needs brackets */
      host = g_strndup (text, colon - text);
      port_text = colon + 1;
    }
  else
    host = g_strdup ("127.0.0.1");
  if (!g_ascii_string_to_unsigned (port_text, 10, 0, G_MAXUINT16, &value, NULL))
    goto bad;
  {
    g_autoptr (GInetAddress) inet = g_inet_address_new_from_string (host);

    if (inet == NULL)
      goto bad;
  }
  *address = g_steal_pointer (&host);
  *port = value;
  return TRUE;

bad:
  g_set_error (error, SP_WEB_CONSOLE_ERROR, SP_WEB_CONSOLE_ERROR_BAD_ADDRESS,
               _ ("\"%s\" is not ADDRESS:PORT (an IP address, IPv6 in brackets, and a port)"),
               text != NULL && g_utf8_validate (text, -1, NULL) ? text : "");
  return FALSE;
}

/* --- responses ------------------------------------------------------------ */

static void
set_common_headers (SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  soup_message_headers_replace (headers, "Cache-Control", "no-store");
  soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");
}

static void
respond_json (SoupServerMessage *msg, guint status, JsonNode *root)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  gsize len = 0;
  char *data;

  json_generator_set_root (generator, root);
  data = json_generator_to_data (generator, &len);
  soup_server_message_set_status (msg, status, NULL);
  set_common_headers (msg);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, data, len);
}

static void
respond_error (SoupServerMessage *msg, guint status, const char *message)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "error");
  json_builder_add_string_value (builder, message);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  respond_json (msg, status, root);
}

static void
add_string (JsonBuilder *builder, const char *name, const char *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
add_int (JsonBuilder *builder, const char *name, gint64 value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

static gint64
now_seconds (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* --- API ------------------------------------------------------------------ */

static void
add_user (JsonBuilder *builder, SpUserDb *users, SpUser *user)
{
  json_builder_begin_object (builder);
  add_string (builder, "name", sp_user_get_name (user));
  add_string (builder, "number", sp_user_get_number (user));
  json_builder_set_member_name (builder, "needs_password");
  json_builder_add_boolean_value (builder, sp_user_db_needs_password (users, user));
  json_builder_end_object (builder);
}

static void
get_users (SpWebConsole *console, SoupServerMessage *msg)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_array (builder);
  if (console->users != NULL)
    {
      list = sp_user_db_list (console->users);
      for (guint i = 0; i < list->len; i++)
        add_user (builder, console->users, list->pdata[i]);
    }
  json_builder_end_array (builder);
  root = json_builder_get_root (builder);
  respond_json (msg, SOUP_STATUS_OK, root);
}

/* GET /api/status: what a phone's user compares with what their phone
 * pinned (the TLS certificate's fingerprint), and the user count. */
static void
get_status (SpWebConsole *console, SoupServerMessage *msg)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (builder);
  add_int (builder, "users", console->users != NULL ? sp_user_db_get_n_users (console->users) : 0);
  json_builder_set_member_name (builder, "tls");
  if (console->tls_port != 0 && console->tls_fingerprint != NULL)
    {
      json_builder_begin_object (builder);
      add_int (builder, "port", console->tls_port);
      add_string (builder, "fingerprint", console->tls_fingerprint);
      json_builder_end_object (builder);
    }
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  respond_json (msg, SOUP_STATUS_OK, root);
}

static void
get_registrations (SpWebConsole *console, SoupServerMessage *msg)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (JsonNode) root = NULL;
  gint64 now = now_seconds ();

  json_builder_begin_array (builder);
  if (console->locations != NULL)
    list = sp_location_store_list (console->locations, now);
  for (guint i = 0; list != NULL && i < list->len; i++)
    {
      SpBinding *b = list->pdata[i];

      json_builder_begin_object (builder);
      add_string (builder, "user", b->aor);
      add_string (builder, "contact", b->contact);
      add_int (builder, "expires", b->expires);
      add_int (builder, "expires_in", b->expires - now);
      add_string (builder, "source", b->source);
      add_string (builder, "transport", b->transport);
      add_string (builder, "user_agent", b->user_agent);
      json_builder_set_member_name (builder, "q");
      json_builder_add_double_value (builder, b->q / 1000.0);
      add_int (builder, "registered", b->registered);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  root = json_builder_get_root (builder);
  respond_json (msg, SOUP_STATUS_OK, root);
}

static void
get_calls (SpWebConsole *console, SoupServerMessage *msg)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_array (builder);
  if (console->calls != NULL)
    list = sp_server_call_list_get_calls (console->calls);
  for (guint i = 0; list != NULL && i < list->len; i++)
    {
      SpServerCall *call = list->pdata[i];

      json_builder_begin_object (builder);
      add_string (builder, "id", call->id);
      add_string (builder, "caller", call->caller);
      add_string (builder, "called", call->called);
      add_string (builder, "callee", call->callee);
      add_string (builder, "state", call->state);
      add_int (builder, "started", call->started);
      add_int (builder, "answered", call->answered);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  root = json_builder_get_root (builder);
  respond_json (msg, SOUP_STATUS_OK, root);
}

/* A member that must be a string (or, when @optional, absent or null). */
static gboolean
get_member_string (JsonObject *object, const char *name, gboolean optional, const char **out)
{
  JsonNode *node = json_object_get_member (object, name);

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return optional;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return FALSE;
  *out = json_node_get_string (node);
  return TRUE;
}

static guint
user_error_status (const GError *error)
{
  if (g_error_matches (error, SP_USER_DB_ERROR, SP_USER_DB_ERROR_EXISTS) ||
      g_error_matches (error, SP_USER_DB_ERROR, SP_USER_DB_ERROR_NUMBER_TAKEN))
    return SOUP_STATUS_CONFLICT;
  return SOUP_STATUS_BAD_REQUEST;
}

static void
post_user (SpWebConsole *console, SoupServerMessage *msg)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autofree char *location = NULL;
  const char *name, *password, *number;
  JsonObject *object;
  const char *data;
  gsize len;

  body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  data = g_bytes_get_data (body, &len);
  if (len == 0 || !g_utf8_validate (data, len, NULL) ||
      !json_parser_load_from_data (parser, data, len, &error))
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, "The body is not valid JSON");
      return;
    }
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, "The body must be a JSON object");
      return;
    }
  object = json_node_get_object (json_parser_get_root (parser));
  if (!get_member_string (object, "name", FALSE, &name) ||
      !get_member_string (object, "password", FALSE, &password) ||
      !get_member_string (object, "number", TRUE, &number))
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST,
                     "\"name\" and \"password\" must be strings, \"number\" a string or absent");
      return;
    }
  if (!sp_user_db_add (console->users, name, number, password, &error))
    {
      respond_error (msg, user_error_status (error), error->message);
      return;
    }
  add_user (builder, console->users, sp_user_db_lookup (console->users, name));
  root = json_builder_get_root (builder);
  location = g_strconcat ("/api/users/", name, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Location",
                                location);
  respond_json (msg, SOUP_STATUS_CREATED, root);
}

static void
delete_user (SpWebConsole *console, SoupServerMessage *msg, const char *escaped_name)
{
  g_autofree char *name = g_uri_unescape_string (escaped_name, "/");
  g_autoptr (GError) error = NULL;

  if (name == NULL || name[0] == '\0')
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, "Bad user name in the path");
      return;
    }
  if (!sp_user_db_remove (console->users, name, &error))
    {
      respond_error (msg, SOUP_STATUS_NOT_FOUND, "No such user");
      return;
    }
  if (console->locations != NULL)
    sp_location_store_remove_aor (console->locations, name);
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
  set_common_headers (msg);
}

static void
method_not_allowed (SoupServerMessage *msg, const char *allow)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", allow);
  respond_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "Method not allowed here");
}

/* --- the HTML page -------------------------------------------------------- */

static void
append_escaped (GString *out, const char *text)
{
  g_autofree char *escaped = g_markup_escape_text (text != NULL ? text : "", -1);

  g_string_append (out, escaped);
}

static void
append_cell (GString *out, const char *text)
{
  g_string_append (out, "<td>");
  append_escaped (out, text);
  g_string_append (out, "</td>");
}

static void
append_registrations (SpWebConsole *console, GString *out, gint64 now)
{
  g_autoptr (GPtrArray) list = NULL;

  if (console->locations != NULL)
    list = sp_location_store_list (console->locations, now);
  g_string_append_printf (out, "<h2>Registrations (%u)</h2>\n", list != NULL ? list->len : 0);
  g_string_append (out, "<table>\n<tr><th>User</th><th>Contact</th><th>From</th>"
                        "<th>Expires in</th><th>User agent</th></tr>\n");
  for (guint i = 0; list != NULL && i < list->len; i++)
    {
      SpBinding *b = list->pdata[i];
      g_autofree char *expires = g_strdup_printf ("%" G_GINT64_FORMAT " s", b->expires - now);

      g_string_append (out, "<tr>");
      append_cell (out, b->aor);
      append_cell (out, b->contact);
      append_cell (out, b->source);
      append_cell (out, expires);
      append_cell (out, b->user_agent);
      g_string_append (out, "</tr>\n");
    }
  g_string_append (out, "</table>\n");
}

static void
append_calls (SpWebConsole *console, GString *out, gint64 now)
{
  g_autoptr (GPtrArray) list = NULL;

  if (console->calls != NULL)
    list = sp_server_call_list_get_calls (console->calls);
  g_string_append_printf (out, "<h2>Calls (%u)</h2>\n", list != NULL ? list->len : 0);
  g_string_append (out, "<table>\n<tr><th>Caller</th><th>Called</th><th>To</th><th>State</th>"
                        "<th>Duration</th></tr>\n");
  for (guint i = 0; list != NULL && i < list->len; i++)
    {
      SpServerCall *call = list->pdata[i];
      gint64 since = call->answered != 0 ? call->answered : call->started;
      g_autofree char *duration = g_strdup_printf ("%" G_GINT64_FORMAT " s", MAX (now - since, 0));

      g_string_append (out, "<tr>");
      append_cell (out, call->caller);
      append_cell (out, call->called);
      append_cell (out, call->callee);
      append_cell (out, call->state);
      append_cell (out, duration);
      g_string_append (out, "</tr>\n");
    }
  g_string_append (out, "</table>\n");
}

static void
get_status_page (SpWebConsole *console, SoupServerMessage *msg)
{
  g_autoptr (GString) out = g_string_new (NULL);
  gint64 now = now_seconds ();
  guint n_users = console->users != NULL ? sp_user_db_get_n_users (console->users) : 0;
  gsize len;

  g_string_append_printf (out,
                          "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n"
                          "<meta http-equiv=\"refresh\" content=\"%d\">\n"
                          "<title>Softphone server</title></head>\n<body>\n"
                          "<h1>Softphone server</h1>\n<p>%u users</p>\n",
                          SP_WEB_CONSOLE_REFRESH, n_users);
  if (console->tls_port != 0 && console->tls_fingerprint != NULL)
    g_string_append_printf (out,
                            "<p>SIP over TLS on port %u, certificate SHA-256 <code>%s</code></p>\n",
                            console->tls_port, console->tls_fingerprint); /* hex and colons only */
  append_registrations (console, out, now);
  append_calls (console, out, now);
  g_string_append (out, "</body></html>\n");

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  set_common_headers (msg);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Content-Security-Policy", "default-src 'none'");
  len = out->len;
  soup_server_message_set_response (msg, "text/html; charset=utf-8", SOUP_MEMORY_TAKE,
                                    g_string_free (g_steal_pointer (&out), FALSE), len);
}

/* --- request checks and dispatch ------------------------------------------ */

/* "127.0.0.1:8080", "[::1]:8080", "localhost": a name only this machine
 * answers to, so a DNS name rebound to 127.0.0.1 is refused. */
static gboolean
host_is_loopback (const char *host)
{
  g_autofree char *name = NULL;
  g_autoptr (GInetAddress) inet = NULL;

  if (host == NULL)
    return FALSE;
  if (host[0] == '[')
    {
      const char *close = strchr (host, ']');

      if (close == NULL)
        return FALSE;
      name = g_strndup (host + 1, close - host - 1);
    }
  else
    {
      const char *colon = strchr (host, ':');

      name = colon != NULL ? g_strndup (host, colon - host) : g_strdup (host);
    }
  if (g_ascii_strcasecmp (name, "localhost") == 0)
    return TRUE;
  inet = g_inet_address_new_from_string (name);
  return inet != NULL && g_inet_address_get_is_loopback (inet);
}

/* A page of another site must not drive the API through the browser,
 * whose remembered admin password it would otherwise borrow. Browsers
 * name the page's origin (Origin) and, since 2020, whether it is another
 * site (Sec-Fetch-Site); scripts send neither. */
static gboolean
origin_is_ours (SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *origin = soup_message_headers_get_one (headers, "Origin");
  const char *host = soup_message_headers_get_one (headers, "Host");
  const char *site = soup_message_headers_get_one (headers, "Sec-Fetch-Site");
  g_autofree char *expected = NULL;

  if (site != NULL && g_ascii_strcasecmp (site, "same-origin") != 0 &&
      g_ascii_strcasecmp (site, "none") != 0)
    return FALSE;
  if (origin == NULL)
    return TRUE;
  expected = g_strconcat ("http://", host != NULL ? host : "", NULL);
  return g_ascii_strcasecmp (origin, expected) == 0;
}

typedef enum
{
  AUTH_NONE,   /* no credentials */
  AUTH_OK,     /* the admin password or the token */
  AUTH_FAILED, /* credentials, but wrong (or of a scheme we do not take) */
} AuthResult;

static gboolean
password_matches (SpWebConsole *console, const char *password)
{
  g_autofree char *mac = NULL;

  if (console->have_cache_key)
    {
      mac = g_compute_hmac_for_string (G_CHECKSUM_SHA256, console->cache_key,
                                       sizeof console->cache_key, password, -1);
      if (console->verified_mac != NULL && sp_api_token_equal (console->verified_mac, mac))
        return TRUE;
    }
  if (!sp_password_hash_verify (console->admin_hash, password))
    return FALSE;
  if (mac != NULL)
    {
      g_free (console->verified_mac);
      console->verified_mac = g_steal_pointer (&mac);
    }
  return TRUE;
}

/* "Basic base64(admin:password)" against the hash. */
static gboolean
basic_matches (SpWebConsole *console, const char *encoded)
{
  g_autofree char *copy = g_strstrip (g_strdup (encoded));
  g_autofree guchar *decoded = NULL;
  g_autofree char *password = NULL;
  const char *colon;
  gsize len = 0;
  gboolean ok;

  if (console->admin_hash == NULL || copy[0] == '\0')
    return FALSE;
  decoded = g_base64_decode (copy, &len);
  colon = decoded != NULL ? memchr (decoded, ':', len) : NULL;
  if (colon == NULL || memchr (decoded, '\0', len) != NULL)
    ok = FALSE;
  else
    {
      gsize user_len = (gsize) (colon - (const char *) decoded);

      password = g_strndup (colon + 1, len - user_len - 1);
      ok = user_len == strlen (SP_WEB_CONSOLE_ADMIN_USER) &&
           memcmp (decoded, SP_WEB_CONSOLE_ADMIN_USER, user_len) == 0 &&
           password_matches (console, password);
      memset (password, 0, strlen (password));
    }
  if (decoded != NULL)
    memset (decoded, 0, len);
  return ok;
}

static AuthResult
authenticate (SpWebConsole *console, SoupServerMessage *msg)
{
  const char *value =
      soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Authorization");

  if (value == NULL)
    return AUTH_NONE;
  if (strlen (value) > MAX_AUTHORIZATION)
    return AUTH_FAILED;
  while (*value == ' ' || *value == '\t')
    value++;
  if (g_ascii_strncasecmp (value, "Bearer ", 7) == 0)
    {
      g_autofree char *token = g_strstrip (g_strdup (value + 7));
      gboolean ok = sp_api_token_equal (console->token, token);

      memset (token, 0, strlen (token));
      return ok ? AUTH_OK : AUTH_FAILED;
    }
  if (g_ascii_strncasecmp (value, "Basic ", 6) == 0)
    return basic_matches (console, value + 6) ? AUTH_OK : AUTH_FAILED;
  return AUTH_FAILED;
}

/* 401 with the schemes that can succeed here. */
static void
challenge (SpWebConsole *console, SoupServerMessage *msg, const char *why)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  if (console->admin_hash != NULL)
    soup_message_headers_append (headers, "WWW-Authenticate",
                                 "Basic realm=\"" SP_WEB_CONSOLE_REALM "\", charset=\"UTF-8\"");
  if (console->token != NULL)
    soup_message_headers_append (headers, "WWW-Authenticate",
                                 "Bearer realm=\"" SP_WEB_CONSOLE_REALM "\"");
  respond_error (msg, SOUP_STATUS_UNAUTHORIZED, why);
}

/* TRUE when the request may go on; otherwise it has been answered. */
static gboolean
check_access (SpWebConsole *console, SoupServerMessage *msg, gboolean reads)
{
  const char *client = soup_server_message_get_remote_host (msg);
  gint64 now = g_get_monotonic_time () / G_USEC_PER_SEC;

  if (client == NULL)
    client = "";
  if (sp_auth_guard_is_blocked (console->guard, client, now))
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Retry-After",
                                    G_STRINGIFY (AUTH_BLOCK_SECONDS));
      respond_error (msg, STATUS_TOO_MANY_REQUESTS,
                     "Too many wrong passwords from this address; try again later");
      return FALSE;
    }
  switch (authenticate (console, msg))
    {
      case AUTH_FAILED:
        sp_auth_guard_record_failure (console->guard, client, now);
        challenge (console, msg, "Wrong credentials");
        return FALSE;
      case AUTH_NONE:
        if (console->admin_hash != NULL)
          {
            challenge (console, msg, "The web console needs the admin password");
            return FALSE;
          }
        if (!reads)
          {
            challenge (console, msg, "Changes need the admin password or the API token");
            return FALSE;
          }
        break;
      case AUTH_OK:
        break;
    }
  if (!reads && !origin_is_ours (msg))
    {
      respond_error (msg, SOUP_STATUS_FORBIDDEN, "Cross-site request refused");
      return FALSE;
    }
  return TRUE;
}

static gboolean
is_json_body (SoupServerMessage *msg)
{
  const char *type =
      soup_message_headers_get_content_type (soup_server_message_get_request_headers (msg), NULL);

  return type != NULL && g_ascii_strcasecmp (type, "application/json") == 0;
}

static void
handle_users (SpWebConsole *console, SoupServerMessage *msg, const char *method, const char *rest)
{
  gboolean changes = strcmp (method, "POST") == 0 || strcmp (method, "DELETE") == 0;

  if (changes && console->users == NULL)
    {
      respond_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "No user database");
      return;
    }
  if (rest[0] == '\0')
    {
      if (strcmp (method, "GET") == 0)
        get_users (console, msg);
      else if (strcmp (method, "POST") == 0 && !is_json_body (msg))
        respond_error (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
                       "The body must be application/json");
      else if (strcmp (method, "POST") == 0)
        post_user (console, msg);
      else
        method_not_allowed (msg, "GET, POST");
    }
  else if (rest[0] == '/' && rest[1] != '\0' && strchr (rest + 1, '/') == NULL)
    {
      if (strcmp (method, "DELETE") == 0)
        delete_user (console, msg, rest + 1);
      else
        method_not_allowed (msg, "DELETE");
    }
  else
    respond_error (msg, SOUP_STATUS_NOT_FOUND, "Not found");
}

static void
handle_request (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                gpointer user_data)
{
  SpWebConsole *console = user_data;
  const char *method = soup_server_message_get_method (msg);
  const char *host =
      soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Host");
  gboolean get = strcmp (method, "GET") == 0 || strcmp (method, "HEAD") == 0;

  if (console->admin_hash == NULL && !host_is_loopback (host))
    respond_error (msg, SOUP_STATUS_FORBIDDEN, "Host must be a loopback address");
  else if (!check_access (console, msg, get))
    return;
  else if (strcmp (path, "/") == 0)
    get ? get_status_page (console, msg) : method_not_allowed (msg, "GET");
  else if (strcmp (path, "/api/status") == 0)
    get ? get_status (console, msg) : method_not_allowed (msg, "GET");
  else if (strcmp (path, "/api/registrations") == 0)
    get ? get_registrations (console, msg) : method_not_allowed (msg, "GET");
  else if (strcmp (path, "/api/calls") == 0)
    get ? get_calls (console, msg) : method_not_allowed (msg, "GET");
  else if (g_str_has_prefix (path, "/api/users"))
    handle_users (console, msg, get ? "GET" : method, path + strlen ("/api/users"));
  else
    respond_error (msg, SOUP_STATUS_NOT_FOUND, "Not found");
}

/* Refuses big bodies before they are read. */
static void
early_handler (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
               gpointer user_data)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  SoupEncoding encoding = soup_message_headers_get_encoding (headers);

  if ((encoding == SOUP_ENCODING_CONTENT_LENGTH &&
       soup_message_headers_get_content_length (headers) > SP_WEB_CONSOLE_MAX_BODY) ||
      encoding == SOUP_ENCODING_CHUNKED || encoding == SOUP_ENCODING_EOF)
    respond_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "Request body too large");
}

/* --- start and stop ------------------------------------------------------- */

/* One request per connection: the console is used lightly, and a server
 * fed through soup_server_accept_iostream has no listener, so libsoup
 * closes every connection after its response anyway; saying so lets
 * clients retry after a 401 on a new one. Set here, before any handler
 * answers. */
static void
on_request_started (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection",
                                "close");
}

static gboolean
on_incoming (GSocketService *service, GSocketConnection *connection, GObject *source,
             gpointer user_data)
{
  SpWebConsole *console = user_data;
  g_autoptr (GSocketAddress) local = g_socket_connection_get_local_address (connection, NULL);
  g_autoptr (GSocketAddress) remote = g_socket_connection_get_remote_address (connection, NULL);
  g_autoptr (GError) error = NULL;

  if (console->server == NULL ||
      !soup_server_accept_iostream (console->server, G_IO_STREAM (connection), local, remote,
                                    &error))
    g_debug ("web console connection dropped: %s", error ? error->message : "stopped");
  return TRUE;
}

gboolean
sp_web_console_start (SpWebConsole *console, const char *address, guint16 port,
                      const char *admin_password_hash, GError **error)
{
  g_autoptr (GInetAddress) inet = NULL;
  g_autoptr (GSocketAddress) socket_address = NULL;
  g_autoptr (GSocketAddress) effective = NULL;

  g_return_val_if_fail (SP_IS_WEB_CONSOLE (console), FALSE);
  if (console->server != NULL)
    {
      g_set_error_literal (error, SP_WEB_CONSOLE_ERROR, SP_WEB_CONSOLE_ERROR_RUNNING,
                           _ ("The web console is already running"));
      return FALSE;
    }
  if (address == NULL)
    address = "127.0.0.1";
  inet = g_inet_address_new_from_string (address);
  if (inet == NULL)
    {
      g_set_error (error, SP_WEB_CONSOLE_ERROR, SP_WEB_CONSOLE_ERROR_BAD_ADDRESS,
                   _ ("\"%s\" is not an IP address"),
                   g_utf8_validate (address, -1, NULL) ? address : "");
      return FALSE;
    }
  if (admin_password_hash != NULL && admin_password_hash[0] == '\0')
    admin_password_hash = NULL;
  if (admin_password_hash != NULL && !sp_password_hash_is_hash (admin_password_hash))
    {
      /* Never a plain password here: it would end up compared as one. */
      g_set_error_literal (error, SP_WEB_CONSOLE_ERROR, SP_WEB_CONSOLE_ERROR_BAD_PASSWORD_HASH,
                           _ ("The admin password is not stored as a hash; set it again"));
      return FALSE;
    }
  if (admin_password_hash == NULL && !g_inet_address_get_is_loopback (inet))
    {
      g_set_error (error, SP_WEB_CONSOLE_ERROR, SP_WEB_CONSOLE_ERROR_NEEDS_PASSWORD,
                   _ ("The web console on %s (not a loopback address) needs an admin password"),
                   address);
      return FALSE;
    }

  console->server = soup_server_new ("server-header", "Softphone", NULL);
  g_signal_connect (console->server, "request-started", G_CALLBACK (on_request_started), NULL);
  soup_server_add_early_handler (console->server, NULL, early_handler, console, NULL);
  soup_server_add_handler (console->server, NULL, handle_request, console, NULL);
  console->admin_hash = g_strdup (admin_password_hash);
  socket_address = g_inet_socket_address_new (inet, port);
  /* Our own GSocketService hands each connection to the server
   * (soup_server_accept_iostream) instead of soup_server_listen: in
   * libsoup 3.2.x the listener's accepted GSocket is never freed (fixed
   * in 3.3 by GNOME/libsoup commit d20c6601, "Don't leak idle
   * connections closed by the client"), and soup_server_get_uris leaks
   * an address too. */
  console->service = g_socket_service_new ();
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (console->service), socket_address,
                                      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, &effective,
                                      error))
    {
      g_prefix_error (error, _ ("Web console on %s port %u: "), address, port);
      sp_web_console_stop (console);
      return FALSE;
    }
  g_signal_connect (console->service, "incoming", G_CALLBACK (on_incoming), console);
  console->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  console->address = g_strdup (address);
  g_socket_service_start (console->service);
  return TRUE;
}

void
sp_web_console_stop (SpWebConsole *console)
{
  g_return_if_fail (SP_IS_WEB_CONSOLE (console));
  if (console->service != NULL)
    {
      g_signal_handlers_disconnect_by_data (console->service, console);
      g_socket_service_stop (console->service);
      g_socket_listener_close (G_SOCKET_LISTENER (console->service));
    }
  g_clear_object (&console->service);
  if (console->server != NULL)
    soup_server_disconnect (console->server);
  g_clear_object (&console->server);
  g_clear_pointer (&console->address, g_free);
  g_clear_pointer (&console->admin_hash, g_free);
  g_clear_pointer (&console->verified_mac, g_free);
  console->port = 0;
}

gboolean
sp_web_console_is_running (SpWebConsole *console)
{
  return console->server != NULL;
}

guint16
sp_web_console_get_port (SpWebConsole *console)
{
  return console->port;
}

char *
sp_web_console_dup_url (SpWebConsole *console)
{
  if (console->server == NULL)
    return NULL;
  if (strchr (console->address, ':') != NULL)
    return g_strdup_printf ("http://[%s]:%u/", console->address, console->port);
  return g_strdup_printf ("http://%s:%u/", console->address, console->port);
}
