/* SpNode, the core object under both front ends, on loopback: --bind
 * parsing, its directories, starting and stopping the server on the
 * phone's stack (a wildcard bind keeps the relay), the well-known port,
 * the one auto-answer (two nodes calling each other), shutdown, and the
 * server as the one saver of users. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "node/node.h"

/* Runs the default main context until @done or 10 s pass. */
static gboolean
run_until (gboolean (*done) (gpointer), gpointer data)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (!done (data))
    {
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  return TRUE;
}

static void
rm_rf (const char *dir)
{
  g_autoptr (GFile) file = g_file_new_for_path (dir);
  g_autoptr (GFileEnumerator) children =
      g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME, 0, NULL, NULL);
  GFileInfo *info;

  while (children != NULL && (info = g_file_enumerator_next_file (children, NULL, NULL)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, g_file_info_get_name (info), NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        rm_rf (path);
      else
        g_unlink (path);
      g_object_unref (info);
    }
  g_rmdir (dir);
}

static void
test_parse_bind (void)
{
  static const struct
  {
    const char *text;
    const char *host;
    guint16 port;
  } good[] = {
    { "0.0.0.0", "0.0.0.0", 5060 },
    { "127.0.0.1:5070", "127.0.0.1", 5070 },
    { "127.0.0.1:0", "127.0.0.1", 0 },
    { "[::]", "::", 5060 },
    { "[::]:0", "::", 0 },
    { "[2001:db8::1]:5062", "2001:db8::1", 5062 },
    { "0.0.0.0:65535", "0.0.0.0", 65535 },
    { "::", "::", 5060 },
  };
  static const char *const bad[] = {
    "",
    "pbx.example:5060",
    "127.0.0.1:99999",
    "127.0.0.1:x",
    "[::1",
    "::1:5060:",
    ":5060",
    "127.0.0.1:",
    "[::]:",
    "[::]:65536",
    ":0",
    "0.0.0.0:-1",
    "0.0.0.0:0x0",
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autofree char *host = NULL;
      g_autoptr (GError) error = NULL;
      guint16 port = 1;

      g_assert_true (sp_node_parse_bind (good[i].text, &host, &port, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (host, ==, good[i].host);
      g_assert_cmpuint (port, ==, good[i].port);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *host = NULL;
      g_autoptr (GError) error = NULL;
      guint16 port = 0;

      g_assert_false (sp_node_parse_bind (bad[i], &host, &port, &error));
      g_assert_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
      g_assert_nonnull (strstr (error->message, "--bind"));
      g_assert_null (host);
    }
}

/* --config-dir holds settings and state; without it, the XDG places
 * (only read: a node writes nothing until something changes). */
static void
test_directories (void)
{
  g_autofree char *dir = g_dir_make_tmp ("sp-test-node-XXXXXX", NULL);
  g_autoptr (SpNode) node = sp_node_new (dir, NULL);
  g_autoptr (SpNode) xdg = sp_node_new (NULL, NULL);
  g_autofree char *config = g_build_filename (g_get_user_config_dir (), "softphone", NULL);
  g_autofree char *state = g_build_filename (g_get_user_state_dir (), "softphone", NULL);

  g_assert_cmpstr (sp_node_get_config_dir (node), ==, dir);
  g_assert_cmpstr (sp_node_get_state_dir (node), ==, dir);
  g_assert_cmpstr (sp_node_get_config_dir (xdg), ==, config);
  g_assert_cmpstr (sp_node_get_state_dir (xdg), ==, state);
  g_assert_nonnull (sp_node_get_phone (node));
  g_assert_nonnull (sp_node_get_server (node));
  g_assert_false (sp_node_is_server_running (node));
  g_clear_object (&node);
  rm_rf (dir);
}

static void
count (gpointer instance, gpointer pspec_or_nothing, guint *n)
{
  (*n)++;
}

static void
count0 (gpointer instance, guint *n)
{
  (*n)++;
}

/* The server runs on the phone's stack, on 0.0.0.0 with the relay on
 * (the window used to switch it off there); observers hear both ways. */
static void
test_server_on_wildcard (void)
{
  g_autofree char *dir = g_dir_make_tmp ("sp-test-node-XXXXXX", NULL);
  g_autoptr (SpNode) node = sp_node_new (dir, NULL);
  g_autoptr (GError) error = NULL;
  guint notified = 0, changed = 0;
  gboolean running = FALSE;

  g_signal_connect (node, "notify::server-running", G_CALLBACK (count), &notified);
  g_signal_connect (node, "server-changed", G_CALLBACK (count0), &changed);

  /* Nothing listens yet: no server. */
  g_assert_false (sp_node_start_server (node, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED);
  g_clear_error (&error);
  g_assert_cmpuint (changed, ==, 0);

  g_assert_true (sp_node_listen (node, "0.0.0.0", 0, TRUE, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sp_node_get_moved_from_port (node), ==, 0);
  g_assert_true (sp_node_start_server (node, &error));
  g_assert_no_error (error);
  g_assert_true (sp_node_is_server_running (node));
  g_object_get (node, "server-running", &running, NULL);
  g_assert_true (running);
  g_assert_cmpstr (sp_server_get_relay_host (sp_node_get_server (node)), ==, "0.0.0.0");
  g_assert_cmpuint (notified, ==, 1);
  g_assert_cmpuint (changed, ==, 1);
  /* Again: nothing changes. */
  g_assert_true (sp_node_start_server (node, &error));
  g_assert_cmpuint (changed, ==, 1);

  sp_node_stop_server (node);
  g_assert_false (sp_node_is_server_running (node));
  g_assert_null (sp_server_get_relay_host (sp_node_get_server (node)));
  g_assert_cmpuint (notified, ==, 2);
  g_assert_cmpuint (changed, ==, 2);
  sp_node_stop_server (node);
  g_assert_cmpuint (changed, ==, 2);

  g_clear_object (&node);
  rm_rf (dir);
}

/* A free UDP and TCP port on @host, held by the returned sockets. */
static guint16
hold_port (const char *host, GSocket **udp, GSocket **tcp)
{
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (host);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (addr, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GSocketAddress) same = NULL;
  guint16 port;

  *udp = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);
  g_assert_true (g_socket_bind (*udp, any, FALSE, NULL));
  bound = g_socket_get_local_address (*udp, NULL);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  *tcp = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  same = g_inet_socket_address_new (addr, port);
  g_assert_true (g_socket_bind (*tcp, same, FALSE, NULL));
  g_assert_true (g_socket_listen (*tcp, NULL));
  return port;
}

/* Another program on the port: a phone moves and says from where; a
 * server does not (phones expect it there), neither at listen nor later. */
static void
test_port_taken (void)
{
  g_autofree char *dir = g_dir_make_tmp ("sp-test-node-XXXXXX", NULL);
  g_autoptr (SpNode) phone = sp_node_new (dir, NULL);
  g_autoptr (SpNode) server = sp_node_new (dir, NULL);
  g_autoptr (GSocket) udp = NULL;
  g_autoptr (GSocket) tcp = NULL;
  g_autoptr (GError) error = NULL;
  guint16 port = hold_port ("127.0.55.81", &udp, &tcp);
  g_autofree char *port_text = g_strdup_printf ("%u", port);

  g_assert_true (sp_node_listen (phone, "127.0.55.81", port, FALSE, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sp_node_get_moved_from_port (phone), ==, port);
  g_assert_false (sp_node_start_server (phone, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
  g_assert_nonnull (strstr (error->message, port_text));
  g_clear_error (&error);
  g_assert_false (sp_node_is_server_running (phone));

  g_assert_false (sp_node_listen (server, "127.0.55.81", port, TRUE, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
  g_assert_nonnull (strstr (error->message, "the server cannot start"));

  g_clear_object (&phone);
  g_clear_object (&server);
  rm_rf (dir);
}

typedef struct
{
  SpCall *call;
  SpCallState state;
} Watch;

static gboolean
call_in_state (gpointer data)
{
  Watch *w = data;

  return sp_call_get_state (w->call) == w->state;
}

static void
on_incoming (SpPhone *phone, SpCall *call, SpCall **out)
{
  g_set_object (out, call);
}

static gboolean
is_set (gpointer data)
{
  return *(SpCall **) data != NULL;
}

/* Two nodes on loopback: B (callee) with auto-answer after @delay_s when
 * @auto_answer; A calls B. Returns B's incoming call; A's in @out_a. */
typedef struct
{
  char *dir_a, *dir_b;
  SpNode *a, *b;
  SpCall *a_call, *b_call;
} Pair;

static void
pair_start (Pair *p, gboolean auto_answer, guint delay_s)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *target = NULL;
  const char *host = NULL;
  guint16 port = 0;

  p->dir_a = g_dir_make_tmp ("sp-test-node-a-XXXXXX", NULL);
  p->dir_b = g_dir_make_tmp ("sp-test-node-b-XXXXXX", NULL);
  p->a = sp_node_new (p->dir_a, NULL);
  p->b = sp_node_new (p->dir_b, NULL);
  g_object_set (p->b, "auto-answer", auto_answer, "auto-answer-delay", delay_s, NULL);
  g_assert_true (sp_node_listen (p->a, "127.0.55.82", 0, FALSE, &error));
  g_assert_true (sp_node_listen (p->b, "127.0.55.83", 0, FALSE, &error));
  g_assert_no_error (error);
  g_signal_connect (sp_node_get_phone (p->b), "incoming-call", G_CALLBACK (on_incoming),
                    &p->b_call);
  g_assert_true (sp_phone_get_local_address (sp_node_get_phone (p->b), &host, &port));
  target = g_strdup_printf ("sip:b@127.0.55.83:%u", port);
  p->a_call = sp_phone_call (sp_node_get_phone (p->a), target, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (p->a_call);
  g_object_ref (p->a_call);
  g_assert_true (run_until (is_set, &p->b_call));
}

static void
on_shut_down (GObject *source, GAsyncResult *result, gpointer data)
{
  g_assert_true (sp_node_shutdown_finish (SP_NODE (source), result, NULL));
  *(gboolean *) data = TRUE;
}

static gboolean
is_true (gpointer data)
{
  return *(gboolean *) data;
}

static void
pair_stop (Pair *p)
{
  gboolean a_done = FALSE, b_done = FALSE;

  sp_node_shutdown_async (p->a, on_shut_down, &a_done);
  sp_node_shutdown_async (p->b, on_shut_down, &b_done);
  g_assert_true (run_until (is_true, &a_done));
  g_assert_true (run_until (is_true, &b_done));
  g_clear_object (&p->a_call);
  g_clear_object (&p->b_call);
  g_clear_object (&p->a);
  g_clear_object (&p->b);
  rm_rf (p->dir_a);
  rm_rf (p->dir_b);
  g_free (p->dir_a);
  g_free (p->dir_b);
}

/* The node answers by itself, once, and both ends are in the call. */
static void
test_auto_answer (void)
{
  Pair p = { 0 };
  Watch a = { 0 }, b = { 0 };
  gboolean on = FALSE;
  guint delay = 99;

  pair_start (&p, TRUE, 0);
  g_object_get (p.b, "auto-answer", &on, "auto-answer-delay", &delay, NULL);
  g_assert_true (on);
  g_assert_cmpuint (delay, ==, 0);
  b.call = p.b_call;
  b.state = SP_CALL_STATE_ESTABLISHED;
  a.call = p.a_call;
  a.state = SP_CALL_STATE_ESTABLISHED;
  g_assert_true (run_until (call_in_state, &b));
  g_assert_true (run_until (call_in_state, &a));
  pair_stop (&p);
}

/* Without auto-answer the call rings on; switched on later, it applies
 * to the next call, not by surprise to this one. */
static void
test_no_auto_answer (void)
{
  Pair p = { 0 };
  gint64 until;

  pair_start (&p, FALSE, 0);
  until = g_get_monotonic_time () + G_USEC_PER_SEC;
  while (g_get_monotonic_time () < until)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_assert_cmpint (sp_call_get_state (p.b_call), ==, SP_CALL_STATE_INCOMING);
  sp_node_set_auto_answer (p.b, TRUE, 0);
  until = g_get_monotonic_time () + G_USEC_PER_SEC / 2;
  while (g_get_monotonic_time () < until)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_assert_cmpint (sp_call_get_state (p.b_call), ==, SP_CALL_STATE_INCOMING);
  pair_stop (&p);
}

/* An answer still waiting when the node shuts down never comes: the
 * call ends unanswered and nothing fires on a freed node. */
static void
test_shutdown_cancels_pending_answer (void)
{
  Pair p = { 0 };

  pair_start (&p, TRUE, 60);
  g_assert_cmpint (sp_call_get_state (p.b_call), ==, SP_CALL_STATE_INCOMING);
  pair_stop (&p);
}

static GString *captured_log;

/* While captured_log is set, messages go there instead of failing the
 * test (warnings are fatal in tests). */
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

static void
on_error (SpNode *node, const char *message, char **out)
{
  g_free (*out);
  *out = g_strdup (message);
}

/* A user added anywhere (here straight in the db, as the web console
 * does) is saved by the server; when it cannot be, the node says so. */
static void
test_server_saves_users (void)
{
  g_autofree char *dir = g_dir_make_tmp ("sp-test-node-XXXXXX", NULL);
  g_autofree char *file = g_build_filename (dir, "users.conf", NULL);
  g_autofree char *blocker = g_build_filename (dir, "not-a-dir", NULL);
  g_autofree char *bad_dir = g_build_filename (blocker, "softphone", NULL);
  g_autoptr (SpNode) node = sp_node_new (dir, NULL);
  g_autoptr (SpNode) broken = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *message = NULL;
  g_autoptr (GString) logged = g_string_new (NULL);

  g_assert_false (g_file_test (file, G_FILE_TEST_EXISTS));
  g_assert_true (sp_user_db_add (sp_server_get_users (sp_node_get_server (node)), "u7", "7",
                                 "secret7", &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (file, &text, NULL, NULL));
  /* Saved, and as a hash: never the password itself. */
  g_assert_nonnull (strstr (text, "u7]"));
  g_assert_null (strstr (text, "secret7"));

  g_assert_true (g_file_set_contents (blocker, "", 0, NULL));
  /* The server warns in the log (not loaded, not saved): expected here. */
  captured_log = logged;
  broken = sp_node_new (bad_dir, NULL);
  g_signal_connect (broken, "error", G_CALLBACK (on_error), &message);
  g_assert_true (sp_user_db_add (sp_server_get_users (sp_node_get_server (broken)), "u8", "8",
                                 "secret8", &error));
  captured_log = NULL;
  g_assert_no_error (error);
  g_assert_nonnull (strstr (logged->str, "users not saved"));
  g_assert_null (strstr (logged->str, "secret8"));
  g_assert_nonnull (message);
  g_assert_nonnull (strstr (message, "not saved"));
  g_assert_null (strstr (message, "secret8"));

  g_clear_object (&node);
  g_clear_object (&broken);
  rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_log_set_writer_func (collect_log, NULL, NULL);
  g_test_add_func ("/node/parse-bind", test_parse_bind);
  g_test_add_func ("/node/directories", test_directories);
  g_test_add_func ("/node/server-on-wildcard", test_server_on_wildcard);
  g_test_add_func ("/node/port-taken", test_port_taken);
  g_test_add_func ("/node/auto-answer", test_auto_answer);
  g_test_add_func ("/node/no-auto-answer", test_no_auto_answer);
  g_test_add_func ("/node/shutdown-cancels-pending-answer", test_shutdown_cancels_pending_answer);
  g_test_add_func ("/node/server-saves-users", test_server_saves_users);
  return g_test_run ();
}
