/* The node: see node.h. */
#include "config.h"

#include "node/node.h"

#include <string.h>

#include "i18n.h"
#include "server/userdb.h"
#include "ua/hostport.h"

struct _SpNode
{
  GObject parent_instance;

  char *config_dir;
  char *state_dir;
  SpPhone *phone;
  SpServer *server;
  guint16 wanted_port;
  gboolean auto_answer;
  guint auto_answer_delay;    /* s */
  GPtrArray *pending_answers; /* GSource ids of timed answers (guint) */
  /* LAN discovery: made on first use */
  SpDnssd *dnssd;
  gboolean advertise_server;
  gboolean advertise_phone;
  char *server_name;
  guint server_publication;
  guint phone_publication;
};

enum
{
  PROP_0,
  PROP_AUTO_ANSWER,
  PROP_AUTO_ANSWER_DELAY,
  PROP_SERVER_RUNNING,
  PROP_ADVERTISE_SERVER,
  PROP_ADVERTISE_PHONE,
  PROP_SERVER_NAME,
  N_PROPS
};

enum
{
  SIGNAL_ERROR,
  SIGNAL_SERVER_CHANGED,
  N_SIGNALS
};

static GParamSpec *props[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (SpNode, sp_node, G_TYPE_OBJECT)

static void
report (SpNode *self, const char *message)
{
  g_signal_emit (self, signals[SIGNAL_ERROR], 0, message);
}

/* ---- auto-answer ---------------------------------------------------------- */

typedef struct
{
  SpNode *node; /* unowned: the node removes its timeouts when it goes */
  SpCall *call; /* owned */
  guint id;
} AutoAnswer;

static void
auto_answer_free (gpointer data)
{
  AutoAnswer *aa = data;

  g_ptr_array_remove (aa->node->pending_answers, aa);
  g_object_unref (aa->call);
  g_free (aa);
}

static gboolean
auto_answer_cb (gpointer data)
{
  AutoAnswer *aa = data;
  g_autoptr (GError) error = NULL;

  /* The caller may have given up, or the user answered already. */
  if (sp_call_get_state (aa->call) == SP_CALL_STATE_INCOMING &&
      !sp_phone_answer (aa->node->phone, aa->call, &error))
    report (aa->node, error->message);
  return G_SOURCE_REMOVE;
}

static void
on_incoming_call (SpPhone *phone, SpCall *call, SpNode *self)
{
  AutoAnswer *aa;

  if (!self->auto_answer)
    return;
  aa = g_new0 (AutoAnswer, 1);
  aa->node = self;
  aa->call = g_object_ref (call);
  g_ptr_array_add (self->pending_answers, aa);
  aa->id = g_timeout_add_full (G_PRIORITY_DEFAULT, self->auto_answer_delay * 1000u, auto_answer_cb,
                               aa, auto_answer_free);
}

void
sp_node_set_auto_answer (SpNode *self, gboolean enabled, guint delay_s)
{
  g_return_if_fail (SP_IS_NODE (self));
  g_object_freeze_notify (G_OBJECT (self));
  if (self->auto_answer != enabled)
    {
      self->auto_answer = enabled;
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_AUTO_ANSWER]);
    }
  if (self->auto_answer_delay != delay_s)
    {
      self->auto_answer_delay = delay_s;
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_AUTO_ANSWER_DELAY]);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

/* ---- LAN discovery ---------------------------------------------------------- */

SpDnssd *
sp_node_get_dnssd (SpNode *self)
{
  g_return_val_if_fail (SP_IS_NODE (self), NULL);
  if (self->dnssd == NULL)
    self->dnssd = sp_dnssd_new ();
  return self->dnssd;
}

SpDnssdBrowser *
sp_node_browse_servers (SpNode *self)
{
  return sp_dnssd_browse (sp_node_get_dnssd (self), SP_DNSSD_TYPE_SIP_UDP);
}

SpDnssdBrowser *
sp_node_browse_phones (SpNode *self)
{
  return sp_dnssd_browse (sp_node_get_dnssd (self), SP_DNSSD_TYPE_PHONE);
}

static char *
default_server_name (void)
{
  /* Translators: the server's name on the network; %s is the computer's. */
  return g_strdup_printf (_ ("Softphone server on %s"), g_get_host_name ());
}

/* What colleagues see in their Nearby list: the name set for direct
 * calls, else the person's. */
static char *
phone_name (SpNode *self)
{
  g_autofree char *display = NULL;
  const char *real = g_get_real_name ();

  g_object_get (self->phone, "display-name", &display, NULL);
  if (display != NULL && *g_strstrip (display) != '\0')
    return g_steal_pointer (&display);
  if (real != NULL && *real != '\0' && strcmp (real, "Unknown") != 0)
    return g_strdup (real);
  /* Translators: a phone's name on the network: user name, computer. */
  return g_strdup_printf (_ ("%s on %s"), g_get_user_name (), g_get_host_name ());
}

static void
publish_server (SpNode *self, guint16 port)
{
  g_autofree char *name = self->server_name && *self->server_name ? g_strdup (self->server_name)
                                                                  : default_server_name ();
  guint16 tls_port = sp_phone_get_tls_port (self->phone);
  const char *fp = sp_phone_get_tls_fingerprint (self->phone);
  SpDnssdEntry entries[] = {
    { SP_DNSSD_TYPE_SIP_UDP, NULL, port },
    { SP_DNSSD_TYPE_SIP_TCP, NULL, port },
    { SP_DNSSD_TYPE_SIPS_TCP, NULL, tls_port },
  };
  g_autoptr (GPtrArray) txt = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (txt, g_strdup ("txtvers=1"));
  g_ptr_array_add (
      txt, g_strdup_printf ("realm=%s", sp_user_db_get_realm (sp_server_get_users (self->server))));
  g_ptr_array_add (txt, g_strdup_printf ("name=%s", name));
  if (tls_port != 0 && fp != NULL)
    {
      g_ptr_array_add (txt, g_strdup_printf ("tls=%u", tls_port));
      g_ptr_array_add (txt, g_strdup_printf ("fp=%s", fp));
    }
  g_ptr_array_add (txt, NULL);
  self->server_publication =
      sp_dnssd_publish (sp_node_get_dnssd (self), name, entries,
                        tls_port != 0 ? G_N_ELEMENTS (entries) : G_N_ELEMENTS (entries) - 1,
                        (const char *const *) txt->pdata);
}

/* A phone says where it takes TLS and which certificate it presents
 * there (as the server does): a colleague who finds it calls it over
 * TLS and checks that very certificate (sp_node_call_nearby). */
static void
publish_phone (SpNode *self, guint16 port)
{
  g_autofree char *name = phone_name (self);
  SpDnssdEntry entry = { SP_DNSSD_TYPE_PHONE, NULL, port };
  guint16 tls_port = sp_phone_get_tls_port (self->phone);
  const char *fp = sp_phone_get_tls_fingerprint (self->phone);
  g_autofree char *tls = NULL;
  g_autofree char *fp_pair = NULL;
  const char *txt[] = { "txtvers=1", NULL, NULL, NULL };

  if (tls_port != 0 && fp != NULL)
    {
      txt[1] = tls = g_strdup_printf ("tls=%u", tls_port);
      txt[2] = fp_pair = g_strdup_printf ("fp=%s", fp);
    }
  self->phone_publication = sp_dnssd_publish (sp_node_get_dnssd (self), name, &entry, 1, txt);
}

/* Publishes what should be, withdraws what should not (the server while
 * it runs, the phone while it listens and may be found). */
static void
advertise_update (SpNode *self)
{
  const char *host = NULL;
  guint16 port = 0;
  gboolean listening = sp_phone_get_local_address (self->phone, &host, &port);
  gboolean server, phone;

  /* Bound to loopback, nothing on the LAN can reach it: advertising it
   * would only mislead (and leak test instances onto a real LAN). */
  if (listening)
    {
      g_autoptr (GInetAddress) address = g_inet_address_new_from_string (host);
      listening = address != NULL && !g_inet_address_get_is_loopback (address);
    }
  server = self->advertise_server && listening && sp_server_is_running (self->server);
  phone = self->advertise_phone && listening;

  if (!server && self->server_publication != 0)
    sp_dnssd_unpublish (self->dnssd, self->server_publication);
  if (!server)
    self->server_publication = 0;
  else if (self->server_publication == 0)
    publish_server (self, port);
  if (!phone && self->phone_publication != 0)
    sp_dnssd_unpublish (self->dnssd, self->phone_publication);
  if (!phone)
    self->phone_publication = 0;
  else if (self->phone_publication == 0)
    publish_phone (self, port);
}

static void
republish (SpNode *self)
{
  if (self->server_publication != 0)
    sp_dnssd_unpublish (self->dnssd, self->server_publication);
  if (self->phone_publication != 0)
    sp_dnssd_unpublish (self->dnssd, self->phone_publication);
  self->server_publication = self->phone_publication = 0;
  advertise_update (self);
}

static void
on_phone_name_changed (SpPhone *phone, GParamSpec *pspec, SpNode *self)
{
  if (self->phone_publication == 0)
    return;
  sp_dnssd_unpublish (self->dnssd, self->phone_publication);
  self->phone_publication = 0;
  advertise_update (self);
}

const char *
sp_node_get_advertised_phone_name (SpNode *self)
{
  g_return_val_if_fail (SP_IS_NODE (self), NULL);
  if (self->phone_publication == 0)
    return NULL;
  return sp_dnssd_get_published_name (self->dnssd, self->phone_publication);
}

/* "AB:CD:...": 32 pairs of hex digits (SHA-256), as we advertise it. */
static gboolean
fingerprint_is_valid (const char *fp)
{
  if (strlen (fp) != 32 * 3 - 1)
    return FALSE;
  for (guint i = 0; fp[i] != '\0'; i++)
    if (i % 3 == 2 ? fp[i] != ':' : !g_ascii_isxdigit (fp[i]))
      return FALSE;
  return TRUE;
}

/* The TLS address a found service advertised (TXT tls= and fp=) and its
 * fingerprint: TRUE with *@tls_port 0 when it advertised no TLS; FALSE
 * with @error when what it advertised does not parse (a stranger's
 * record, or a broken one: never taken as "no TLS"). */
static gboolean
found_tls (SpDnssdService *service, gboolean phone, guint16 *tls_port, const char **fp,
           GError **error)
{
  const char *tls = sp_dnssd_service_get_txt (service, "tls");
  const char *name = sp_dnssd_service_get_name (service);
  guint64 port = 0;

  *tls_port = 0;
  *fp = sp_dnssd_service_get_txt (service, "fp");
  if (tls == NULL && *fp == NULL)
    return TRUE;
  if (tls == NULL || !g_ascii_string_to_unsigned (tls, 10, 1, 65535, &port, NULL))
    {
      if (phone)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                     _ ("the phone “%s” advertised a bad TLS port (%s)"), name, tls ? tls : "");
      else
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                     _ ("the server “%s” advertised a bad TLS port (%s)"), name, tls ? tls : "");
      return FALSE;
    }
  if (*fp == NULL || !fingerprint_is_valid (*fp))
    {
      if (phone)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                     _ ("the phone “%s” advertised TLS without a valid certificate fingerprint"),
                     name);
      else
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                     _ ("the server “%s” advertised TLS without a valid certificate fingerprint"),
                     name);
      return FALSE;
    }
  *tls_port = (guint16) port;
  return TRUE;
}

static char *
service_host_port (SpDnssdService *service, guint16 port)
{
  const char *address = sp_dnssd_service_get_address (service);

  return strchr (address, ':') != NULL ? g_strdup_printf ("[%s]:%u", address, port)
                                       : g_strdup_printf ("%s:%u", address, port);
}

/* A phone that advertises TLS is called over TLS, its advertised
 * certificate required (for this call's address, this run only): the
 * call's SIP, and so its SDES keys or DTLS fingerprints, never cross
 * the LAN in the clear, and a stranger answering at its address is
 * refused. One that advertises none is called over UDP, as typed
 * addresses are. */
SpCall *
sp_node_call_nearby (SpNode *self, SpDnssdService *service, GError **error)
{
  g_autofree char *hostport = NULL;
  g_autofree char *target = NULL;
  guint16 tls_port = 0;
  const char *fp = NULL;

  g_return_val_if_fail (SP_IS_NODE (self), NULL);
  g_return_val_if_fail (SP_IS_DNSSD_SERVICE (service), NULL);
  if (!found_tls (service, TRUE, &tls_port, &fp, error))
    return NULL;
  if (tls_port == 0)
    {
      hostport = sp_dnssd_service_dup_host_port (service);
      target = g_strdup_printf ("sip:%s", hostport);
    }
  else
    {
      hostport = service_host_port (service, tls_port);
      sp_phone_expect_certificate (self->phone, hostport, fp, sp_dnssd_service_get_name (service));
      target = g_strdup_printf ("sip:%s;transport=tls", hostport);
    }
  return sp_phone_call (self->phone, target, NULL, error);
}

gboolean
sp_node_found_server_tls (SpDnssdService *service, guint16 *tls_port)
{
  const char *fp = NULL;

  g_return_val_if_fail (SP_IS_DNSSD_SERVICE (service), FALSE);
  return found_tls (service, FALSE, tls_port, &fp, NULL) && *tls_port != 0;
}

gboolean
sp_node_pin_found_server (SpNode *self, SpDnssdService *service, GError **error)
{
  g_autofree char *hostport = NULL;
  guint16 tls_port = 0;
  const char *fp = NULL;

  g_return_val_if_fail (SP_IS_NODE (self), FALSE);
  if (!found_tls (service, FALSE, &tls_port, &fp, error))
    return FALSE;
  if (tls_port == 0)
    return TRUE;
  hostport = service_host_port (service, tls_port);
  return sp_phone_accept_certificate (self->phone, hostport, fp, error);
}

/* ---- the server ----------------------------------------------------------- */

static void
on_users_save_failed (SpServer *server, const char *message, SpNode *self)
{
  /* Translators: %s says why (a disk full, a file not writable). */
  g_autofree char *text = g_strdup_printf (_ ("The server’s users were not saved: %s"), message);

  report (self, text);
}

static gboolean
server_filter_request (SpSipServerTransaction *st, SpSipMessage *request, SpSipDialog *dialog,
                       gpointer user_data)
{
  return sp_server_filter_request (user_data, st, request, dialog);
}

static gboolean
server_owns_dialog (SpSipDialog *dialog, gpointer user_data)
{
  return sp_server_owns_dialog (user_data, dialog);
}

gboolean
sp_node_start_server (SpNode *self, GError **error)
{
  static const SpPhoneRequestFilter filter = { server_filter_request, server_owns_dialog };
  SpSipStack *stack;
  const char *host = NULL;
  guint16 port = 0;

  g_return_val_if_fail (SP_IS_NODE (self), FALSE);
  if (sp_server_is_running (self->server))
    return TRUE;
  stack = sp_phone_get_sip_stack (self->phone);
  if (stack == NULL || !sp_phone_get_local_address (self->phone, &host, &port))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                           _ ("the phone is not listening on any address"));
      return FALSE;
    }
  /* Phones and other servers expect a server on its well-known port:
   * moving it silently would leave them registering with nobody. */
  if (self->wanted_port != 0 && port != self->wanted_port)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE,
                   /* Translators: %u is a port (5060), %s an address. */
                   _ ("another program uses port %u on %s, where phones expect the server. Close "
                      "that program, or choose another server address and port"),
                   self->wanted_port, host);
      return FALSE;
    }
  /* The relay binds where SIP does, a wildcard too: each leg's SDP names
   * the address its peer reaches (the media-address policy). */
  if (!sp_server_start (self->server, stack, host, FALSE, error))
    return FALSE;
  sp_phone_set_request_filter (self->phone, &filter, self->server);
  advertise_update (self);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SERVER_RUNNING]);
  g_signal_emit (self, signals[SIGNAL_SERVER_CHANGED], 0);
  return TRUE;
}

void
sp_node_stop_server (SpNode *self)
{
  SpWebConsole *console;

  g_return_if_fail (SP_IS_NODE (self));
  console = sp_server_get_web_console (self->server);
  if (console != NULL)
    sp_web_console_stop (console);
  if (!sp_server_is_running (self->server))
    return;
  sp_phone_set_request_filter (self->phone, NULL, NULL);
  sp_server_stop (self->server);
  advertise_update (self);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SERVER_RUNNING]);
  g_signal_emit (self, signals[SIGNAL_SERVER_CHANGED], 0);
}

gboolean
sp_node_is_server_running (SpNode *self)
{
  g_return_val_if_fail (SP_IS_NODE (self), FALSE);
  return sp_server_is_running (self->server);
}

/* ---- listening ------------------------------------------------------------ */

gboolean
sp_node_parse_bind (const char *text, char **host, guint16 *port, GError **error)
{
  g_autoptr (GError) local = NULL;
  gboolean port_given = FALSE;

  /* ":0" is a port here: any free one. */
  if (!sp_host_port_parse_full (text, SP_HOST_PORT_ALLOW_PORT_0, host, port, &port_given, &local))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--bind %s: %s", text,
                   local->message);
      return FALSE;
    }
  if (!sp_host_is_ip_literal (*host))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--bind %s: give a numeric IP address (e.g. 127.0.0.1:5060)", text);
      g_clear_pointer (host, g_free);
      return FALSE;
    }
  if (!port_given)
    *port = SP_NODE_DEFAULT_PORT;
  return TRUE;
}

gboolean
sp_node_listen (SpNode *self, const char *host, guint16 port, gboolean keep_port, GError **error)
{
  g_return_val_if_fail (SP_IS_NODE (self), FALSE);

  self->wanted_port = port;
  if (keep_port ? !sp_phone_start (self->phone, host, port, error)
                : !sp_phone_start_any_port (self->phone, host, port, error))
    {
      if (keep_port && g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
        g_prefix_error (error, "the server cannot start: another program uses port %u on %s (%s); ",
                        port, host, "phones expect the server there");
      return FALSE;
    }
  advertise_update (self);
  return TRUE;
}

guint16
sp_node_get_moved_from_port (SpNode *self)
{
  const char *host = NULL;
  guint16 port = 0;

  g_return_val_if_fail (SP_IS_NODE (self), 0);
  if (self->wanted_port == 0 || !sp_phone_get_local_address (self->phone, &host, &port))
    return 0;
  return port != self->wanted_port ? self->wanted_port : 0;
}

/* ---- shutdown ------------------------------------------------------------- */

static void
on_phone_shut_down (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GTask) task = data;
  g_autoptr (GError) error = NULL;

  SpNode *self = g_task_get_source_object (task);

  /* After the phone: its accounts may unregister from this server. */
  sp_node_stop_server (self);
  /* Withdrawn from the LAN (Avahi says goodbye for us). */
  self->server_publication = self->phone_publication = 0;
  g_clear_object (&self->dnssd);
  if (!sp_phone_shutdown_finish (SP_PHONE (source), result, &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

void
sp_node_shutdown_async (SpNode *self, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task;

  g_return_if_fail (SP_IS_NODE (self));
  task = g_task_new (self, NULL, callback, user_data);
  while (self->pending_answers->len > 0)
    g_source_remove (((AutoAnswer *) g_ptr_array_index (self->pending_answers, 0))->id);
  self->auto_answer = FALSE;
  sp_phone_shutdown_async (self->phone, NULL, on_phone_shut_down, task);
}

gboolean
sp_node_shutdown_finish (SpNode *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- object --------------------------------------------------------------- */

SpPhone *
sp_node_get_phone (SpNode *self)
{
  g_return_val_if_fail (SP_IS_NODE (self), NULL);
  return self->phone;
}

SpServer *
sp_node_get_server (SpNode *self)
{
  g_return_val_if_fail (SP_IS_NODE (self), NULL);
  return self->server;
}

const char *
sp_node_get_config_dir (SpNode *self)
{
  g_return_val_if_fail (SP_IS_NODE (self), NULL);
  return self->config_dir;
}

const char *
sp_node_get_state_dir (SpNode *self)
{
  g_return_val_if_fail (SP_IS_NODE (self), NULL);
  return self->state_dir;
}

static void
sp_node_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  SpNode *self = SP_NODE (object);

  switch (id)
    {
      case PROP_AUTO_ANSWER:
        g_value_set_boolean (value, self->auto_answer);
        break;
      case PROP_AUTO_ANSWER_DELAY:
        g_value_set_uint (value, self->auto_answer_delay);
        break;
      case PROP_SERVER_RUNNING:
        g_value_set_boolean (value, sp_server_is_running (self->server));
        break;
      case PROP_ADVERTISE_SERVER:
        g_value_set_boolean (value, self->advertise_server);
        break;
      case PROP_ADVERTISE_PHONE:
        g_value_set_boolean (value, self->advertise_phone);
        break;
      case PROP_SERVER_NAME:
        g_value_set_string (value, self->server_name);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
sp_node_set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  SpNode *self = SP_NODE (object);

  switch (id)
    {
      case PROP_AUTO_ANSWER:
        sp_node_set_auto_answer (self, g_value_get_boolean (value), self->auto_answer_delay);
        break;
      case PROP_AUTO_ANSWER_DELAY:
        sp_node_set_auto_answer (self, self->auto_answer, g_value_get_uint (value));
        break;
      case PROP_ADVERTISE_SERVER:
        if (self->advertise_server == g_value_get_boolean (value))
          break;
        self->advertise_server = g_value_get_boolean (value);
        advertise_update (self);
        g_object_notify_by_pspec (object, pspec);
        break;
      case PROP_ADVERTISE_PHONE:
        if (self->advertise_phone == g_value_get_boolean (value))
          break;
        self->advertise_phone = g_value_get_boolean (value);
        advertise_update (self);
        g_object_notify_by_pspec (object, pspec);
        break;
      case PROP_SERVER_NAME:
        if (g_strcmp0 (self->server_name, g_value_get_string (value)) == 0)
          break;
        g_free (self->server_name);
        self->server_name = g_value_dup_string (value);
        republish (self);
        g_object_notify_by_pspec (object, pspec);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
sp_node_dispose (GObject *object)
{
  SpNode *self = SP_NODE (object);

  while (self->pending_answers->len > 0)
    g_source_remove (((AutoAnswer *) g_ptr_array_index (self->pending_answers, 0))->id);
  if (self->server != NULL)
    {
      sp_node_stop_server (self);
      g_signal_handlers_disconnect_by_data (self->server, self);
    }
  self->server_publication = self->phone_publication = 0;
  g_clear_object (&self->dnssd);
  if (self->phone != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->phone, self);
      sp_phone_set_request_filter (self->phone, NULL, NULL);
    }
  /* The server holds the phone's stack: it goes first. */
  g_clear_object (&self->server);
  g_clear_object (&self->phone);
  G_OBJECT_CLASS (sp_node_parent_class)->dispose (object);
}

static void
sp_node_finalize (GObject *object)
{
  SpNode *self = SP_NODE (object);

  g_ptr_array_unref (self->pending_answers);
  g_free (self->config_dir);
  g_free (self->state_dir);
  g_free (self->server_name);
  G_OBJECT_CLASS (sp_node_parent_class)->finalize (object);
}

static void
sp_node_class_init (SpNodeClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = sp_node_get_property;
  object_class->set_property = sp_node_set_property;
  object_class->dispose = sp_node_dispose;
  object_class->finalize = sp_node_finalize;

  props[PROP_AUTO_ANSWER] =
      g_param_spec_boolean ("auto-answer", NULL, NULL, FALSE,
                            G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  props[PROP_AUTO_ANSWER_DELAY] =
      g_param_spec_uint ("auto-answer-delay", NULL, NULL, 0, 86400, 0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  props[PROP_SERVER_RUNNING] = g_param_spec_boolean ("server-running", NULL, NULL, FALSE,
                                                     G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_ADVERTISE_SERVER] =
      g_param_spec_boolean ("advertise-server", NULL, NULL, TRUE,
                            G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  props[PROP_ADVERTISE_PHONE] =
      g_param_spec_boolean ("advertise-phone", NULL, NULL, FALSE,
                            G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  props[PROP_SERVER_NAME] =
      g_param_spec_string ("server-name", NULL, NULL, NULL,
                           G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  signals[SIGNAL_ERROR] = g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                        NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_SERVER_CHANGED] =
      g_signal_new ("server-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 0);
}

static void
sp_node_init (SpNode *self)
{
  self->pending_answers = g_ptr_array_new ();
  self->advertise_server = TRUE;
}

SpNode *
sp_node_new (const char *config_dir, const char *realm)
{
  SpNode *self = g_object_new (SP_TYPE_NODE, NULL);

  if (config_dir != NULL)
    {
      self->config_dir = g_strdup (config_dir);
      self->state_dir = g_strdup (config_dir);
    }
  else
    {
      self->config_dir = g_build_filename (g_get_user_config_dir (), "softphone", NULL);
      self->state_dir = g_build_filename (g_get_user_state_dir (), "softphone", NULL);
    }
  self->phone = sp_phone_new (self->config_dir, self->state_dir);
  g_signal_connect (self->phone, "incoming-call", G_CALLBACK (on_incoming_call), self);
  g_signal_connect (self->phone, "notify::display-name", G_CALLBACK (on_phone_name_changed), self);
  self->server = sp_server_new (self->config_dir, self->state_dir, realm);
  g_signal_connect (self->server, "users-save-failed", G_CALLBACK (on_users_save_failed), self);
  return self;
}
