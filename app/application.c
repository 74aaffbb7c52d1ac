#define G_LOG_DOMAIN "softphone-app"

#include "config.h"

#include "application.h"

#define G_SETTINGS_ENABLE_BACKEND
#include <gio/gsettingsbackend.h>
#include <glib/gi18n.h>
#include <errno.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <string.h>
#include <signal.h>
#include <libintl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "a11y.h"
#include "autostart.h"
#include "node/node.h"
#include "audio/alsa.h"
#include "preferences-window.h"
#include "ua/hostport.h"
#include "ua/phone.h"
#include "ua/ringer.h"
#include "server/passwordhash.h"
#include "server/server.h"
#include "sip/stack.h"
#include "sip/transport.h"
#include "window.h"

struct _SpApplication
{
  AdwApplication parent_instance;

  GSettings *settings;
  /* The core: phone, server, their transports and policies. The window
   * and this object only observe it and send it commands. */
  SpNode *node;
  SpPhone *phone;   /* the node's */
  SpServer *server; /* the node's; runs while "server-enabled" is on */
  /* --bind and --config-dir, like the headless runner's: NULL when not
   * given (the "sip-bind" setting, the XDG directories). */
  char *bind;
  char *config_dir;
  SpRinger *ringer;     /* while a call is incoming */
  gboolean ring_failed; /* said once per ringing spell, not per state change */
  /* A problem found before the window existed, shown when it appears. */
  char *startup_error;
  /* Why the web console is not running, for people; NULL when it runs
   * or the server is off. */
  char *web_console_error;
  /* Why the server did not start when last switched on, for people;
   * NULL once it runs or is switched off. */
  char *server_error;
  /* Started with --background: the first activation makes no window. */
  gboolean start_in_background;
  gboolean started_in_background;
  /* Holding the application: it runs on with no window (the
   * "run-in-background" setting, or --background). */
  gboolean held;
};

enum
{
  SIGNAL_WEB_CONSOLE_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (SpApplication, sp_application, ADW_TYPE_APPLICATION)

static void show_error_in_window (SpApplication *self, const char *message);
static void on_node_error (SpNode *node, const char *message, SpApplication *self);

static SpWindow *
get_window (SpApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (SP_IS_WINDOW (window))
    return SP_WINDOW (window);
  window = GTK_WINDOW (sp_window_new (self));
  if (self->startup_error != NULL)
    {
      sp_window_show_error (SP_WINDOW (window), self->startup_error);
      g_clear_pointer (&self->startup_error, g_free);
    }
  return SP_WINDOW (window);
}

static void
on_quit (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

static void
on_preferences (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  SpApplication *self = user_data;
  SpWindow *window = get_window (self);
  GtkWindow *prefs = sp_preferences_window_new (GTK_WINDOW (window), self->settings);

  gtk_window_present (prefs);
}

static void
on_about (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  SpApplication *self = user_data;
  const char *developers[] = { _ ("The Softphone developers"), NULL };
  GtkWidget *about = g_object_new (
      ADW_TYPE_ABOUT_WINDOW, "transient-for", get_window (self), "modal", TRUE, "application-icon",
      APP_ID, "application-name", _ ("Softphone"), "developer-name", _ ("The Softphone developers"),
      "version", PACKAGE_VERSION, "comments",
      _ ("Call colleagues over SIP, call another computer by its address, or run "
         "a small SIP server for the office."),
      "license-type", GTK_LICENSE_GPL_3_0, "developers", developers,
      /* Translators: put your names here, one per line. */
      "translator-credits", _ ("translator-credits"), NULL);

  sp_a11y_clean_tree (about);
  gtk_window_present (GTK_WINDOW (about));
}

/* app.dial("sip:2@host"): from the command line, a second instance or a
 * browser link. */
static void
on_dial (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  SpWindow *window = get_window (SP_APPLICATION (user_data));

  gtk_window_present (GTK_WINDOW (window));
  sp_window_dial (window, g_variant_get_string (param, NULL));
}

static void
on_call (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  sp_window_place_call (get_window (SP_APPLICATION (user_data)));
}

static void
on_hangup (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  sp_window_hangup_current (get_window (SP_APPLICATION (user_data)));
}

static void
on_answer (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  SpWindow *window = get_window (SP_APPLICATION (user_data));

  gtk_window_present (GTK_WINDOW (window));
  sp_window_answer_current (window);
}

static void on_call_by_id (GSimpleAction *action, GVariant *param, gpointer user_data);

static const GActionEntry app_actions[] = {
  { "quit", on_quit },
  { "preferences", on_preferences },
  { "about", on_about },
  { "dial", on_dial, "s" },
  { "call", on_call },
  { "hangup", on_hangup },
  { "answer", on_answer },
  { "answer-call", on_call_by_id, "s" },
  { "decline-call", on_call_by_id, "s" },
  { "show-call", on_call_by_id, "s" },
};

static void
set_accels (GtkApplication *app)
{
  static const struct
  {
    const char *action;
    const char *accels[3];
  } accels[] = {
    { "app.quit", { "<Control>q", NULL } },
    { "app.preferences", { "<Control>comma", NULL } },
    /* Escape hangs up, like putting the handset down; Enter in the
     * number entry calls (the entry's activate signal, not an accel, so
     * Enter keeps working on buttons and in lists). */
    { "app.hangup", { "Escape", NULL } },
    { "app.answer", { "<Control>Return", NULL } },
    { "win.new-account", { "<Control>n", NULL } },
    { "win.focus-dial", { "<Control>l", NULL } },
    { "win.show-page('calls')", { "<Alt>1", NULL } },
    { "win.show-page('accounts')", { "<Alt>2", NULL } },
    { "win.show-page('server')", { "<Alt>3", NULL } },
    { "win.show-page('log')", { "<Alt>4", NULL } },
    { "win.show-page('history')", { "<Alt>5", NULL } },
    { "window.close", { "<Control>w", NULL } },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (app, accels[i].action, accels[i].accels);
}

static void
note_startup_error (SpApplication *self, const char *message)
{
  g_warning ("%s", message);
  if (self->startup_error == NULL)
    self->startup_error = g_strdup (message);
}

/* A device chosen in Preferences during a call: the call switches to it
 * at once, without dropping. */
static void
on_audio_setting_changed (GSettings *settings, const char *key, SpApplication *self)
{
  SpAudioDirection direction = strcmp (key, "audio-input") == 0 ? SP_AUDIO_SOURCE : SP_AUDIO_SINK;
  g_autofree char *name = g_settings_get_string (settings, key);
  GListModel *calls = sp_phone_get_calls (self->phone);

  for (guint i = 0; i < g_list_model_get_n_items (calls); i++)
    {
      g_autoptr (SpCall) call = g_list_model_get_item (calls, i);

      if (sp_call_get_state (call) != SP_CALL_STATE_ENDED)
        sp_call_set_audio_device (call, sp_audio_device_new_for_name (name, direction));
    }
}

/* "Let computers on this network find this phone": "auto" is on for a
 * phone alone (its server off), else what the user chose. */
gboolean
sp_application_get_lan_visible (SpApplication *self)
{
  g_autofree char *mode = g_settings_get_string (self->settings, "lan-visible");

  if (g_strcmp0 (mode, "auto") == 0)
    return !g_settings_get_boolean (self->settings, "server-enabled");
  return g_strcmp0 (mode, "on") == 0;
}

static void
apply_lan_visible (SpApplication *self)
{
  if (self->node != NULL)
    g_object_set (self->node, "advertise-phone", sp_application_get_lan_visible (self), NULL);
}

/* Loads the accounts, binds the SIP address from the settings and starts
 * registering. A failure leaves the window usable and says why. */
static void
start_phone (SpApplication *self)
{
  g_autofree char *bind = self->bind != NULL ? g_strdup (self->bind)
                                             : g_settings_get_string (self->settings, "sip-bind");
  g_autofree char *host = NULL;
  g_autoptr (GError) error = NULL;
  guint16 port = 0;

  self->node = sp_node_new (self->config_dir, NULL);
  self->phone = sp_node_get_phone (self->node);
  self->server = sp_node_get_server (self->node);
  /* One auto-answer, the node's. */
  g_settings_bind (self->settings, "auto-answer", self->node, "auto-answer", G_SETTINGS_BIND_GET);
  g_settings_bind (self->settings, "auto-answer-delay", self->node, "auto-answer-delay",
                   G_SETTINGS_BIND_GET);
  g_signal_connect_object (self->node, "error", G_CALLBACK (on_node_error), self, 0);
  g_settings_bind (self->settings, "do-not-disturb", self->phone, "do-not-disturb",
                   G_SETTINGS_BIND_GET);
  g_settings_bind (self->settings, "refuse-strangers", self->phone, "refuse-strangers",
                   G_SETTINGS_BIND_GET);
  g_settings_bind (self->settings, "media-encryption", self->phone, "media-encryption",
                   G_SETTINGS_BIND_GET);
  g_settings_bind (self->settings, "ring-timeout", self->phone, "ring-timeout",
                   G_SETTINGS_BIND_GET);
  g_settings_bind (self->settings, "sip-log-raw", self->phone, "log-sip-raw", G_SETTINGS_BIND_GET);
  /* The microphone and speaker of new calls; live calls switch too
   * (on_audio_setting_changed). */
  g_settings_bind (self->settings, "audio-input", self->phone, "audio-in", G_SETTINGS_BIND_GET);
  g_settings_bind (self->settings, "audio-output", self->phone, "audio-out", G_SETTINGS_BIND_GET);
  g_signal_connect_object (self->settings, "changed::audio-input",
                           G_CALLBACK (on_audio_setting_changed), self, 0);
  g_signal_connect_object (self->settings, "changed::audio-output",
                           G_CALLBACK (on_audio_setting_changed), self, 0);
  g_settings_bind (self->settings, "echo-cancellation", self->phone, "echo-cancellation",
                   G_SETTINGS_BIND_GET);
  /* Before the phone listens: it is advertised from then on. */
  apply_lan_visible (self);
  g_signal_connect_object (self->settings, "changed::lan-visible", G_CALLBACK (apply_lan_visible),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->settings, "changed::server-enabled",
                           G_CALLBACK (apply_lan_visible), self, G_CONNECT_SWAPPED);
  if (!sp_phone_load_accounts (self->phone, &error))
    {
      g_autofree char *message =
          g_strdup_printf (_ ("Your accounts could not be read: %s"), error->message);
      note_startup_error (self, message);
      g_clear_error (&error);
    }
  if (!sp_node_parse_bind (bind, &host, &port, &error) ||
      !sp_node_listen (self->node, host, port, FALSE, &error))
    {
      /* Translators: %s is an address such as 0.0.0.0:5060, then the reason. */
      g_autofree char *message = g_strdup_printf (
          _ ("Softphone cannot receive calls on %s: %s. Change the SIP address in Preferences."),
          bind, error->message);
      note_startup_error (self, message);
      return;
    }
  sp_phone_register (self->phone, NULL);
}

/* Something the node did by itself (an automatic answer, saving the
 * server's users) went wrong. */
static void
on_node_error (SpNode *node, const char *message, SpApplication *self)
{
  show_error_in_window (self, message);
}

/* The web console's error in plain words, naming what to change. */
static char *
describe_web_console_error (const char *listen, const GError *error)
{
  if (g_error_matches (error, SP_WEB_CONSOLE_ERROR, SP_WEB_CONSOLE_ERROR_NEEDS_PASSWORD))
    /* Translators: %s is an address and port, e.g. "192.168.1.5:8080". */
    return g_strdup_printf (_ ("Other computers can reach the web console on %s, so it needs an "
                               "admin password. Set one, or use 127.0.0.1."),
                            listen);
  if (g_error_matches (error, SP_WEB_CONSOLE_ERROR, SP_WEB_CONSOLE_ERROR_BAD_ADDRESS))
    return g_strdup_printf (_ ("“%s” is not an address and port for the web console; write it "
                               "like 127.0.0.1:8080."),
                            listen);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
    return g_strdup_printf (_ ("Another program already uses %s; choose another port for the "
                               "web console."),
                            listen);
  /* Translators: %s is an address and port, then the reason. */
  return g_strdup_printf (_ ("The web console could not start on %s: %s"), listen, error->message);
}

gboolean
sp_application_set_web_console_password (SpApplication *self, const char *password, GError **error)
{
  g_autofree char *hash = NULL;

  g_return_val_if_fail (SP_IS_APPLICATION (self), FALSE);
  if (password != NULL && password[0] != '\0')
    {
      hash = sp_password_hash_new (password, error);
      if (hash == NULL)
        return FALSE;
    }
  g_settings_set_string (self->settings, "web-console-password", hash != NULL ? hash : "");
  return TRUE;
}

gboolean
sp_application_has_web_console_password (SpApplication *self)
{
  g_autofree char *stored = g_settings_get_string (self->settings, "web-console-password");

  return stored[0] != '\0';
}

/* Older versions kept the admin password itself in the setting: replace
 * it by its hash. TRUE when the setting was rewritten (its "changed"
 * handler then starts the console). */
static gboolean
migrate_web_console_password (SpApplication *self)
{
  g_autofree char *stored = g_settings_get_string (self->settings, "web-console-password");
  g_autoptr (GError) error = NULL;
  gboolean migrated;

  if (stored[0] == '\0' || sp_password_hash_is_hash (stored))
    return FALSE;
  migrated = sp_application_set_web_console_password (self, stored, &error);
  memset (stored, 0, strlen (stored));
  if (!migrated)
    g_warning ("The web console password could not be hashed: %s", error->message);
  return migrated;
}

/* (Re)starts the web console with the server, on the address and with
 * the password hash the settings hold; stops it when the server is off. */
static void
apply_web_console (SpApplication *self)
{
  SpWebConsole *console = sp_server_get_web_console (self->server);
  g_autofree char *listen = g_settings_get_string (self->settings, "web-console-address");
  g_autofree char *hash = NULL;
  g_autoptr (GError) error = NULL;

  if (migrate_web_console_password (self))
    return;
  hash = g_settings_get_string (self->settings, "web-console-password");
  if (console != NULL)
    sp_web_console_stop (console);
  g_clear_pointer (&self->web_console_error, g_free);
  if (sp_server_is_running (self->server) &&
      !sp_server_start_http (self->server, listen, hash[0] != '\0' ? hash : NULL, &error))
    self->web_console_error = describe_web_console_error (listen, error);
  g_signal_emit (self, signals[SIGNAL_WEB_CONSOLE_CHANGED], 0);
}

/* Trusted peers (trunks, upstream servers) from the setting; a bad list
 * is reported and the server keeps the one it had. */
static void
apply_trusted_peers (SpApplication *self)
{
  g_autofree char *list = g_settings_get_string (self->settings, "server-trusted-peers");
  g_autoptr (GError) error = NULL;

  if (!sp_server_set_trusted_peers (self->server, list, &error))
    {
      /* Translators: %s says which entry is wrong and how to write it. */
      g_autofree char *message =
          g_strdup_printf (_ ("The trusted peers were not changed: %s"), error->message);
      show_error_in_window (self, message);
      /* The setting goes back to the list in use, so the next start does
       * not meet the same error. */
      g_settings_set_string (self->settings, "server-trusted-peers",
                             sp_server_get_trusted_peers (self->server));
    }
}

/* The switch goes back off once the change that turned it on is done:
 * a settings binding ignores a write made while it is writing. */
static gboolean
switch_server_off (gpointer data)
{
  SpApplication *self = data;

  g_settings_set_boolean (self->settings, "server-enabled", FALSE);
  return G_SOURCE_REMOVE;
}

/* The Server page's switch, through the setting. */
static void
apply_server_setting (SpApplication *self)
{
  gboolean wanted = g_settings_get_boolean (self->settings, "server-enabled");
  g_autoptr (GError) error = NULL;

  /* Off after a failed start: the reason stays shown until the next try. */
  if (wanted == sp_server_is_running (self->server))
    return;
  if (!wanted)
    {
      sp_node_stop_server (self->node);
      apply_web_console (self);
      return;
    }
  /* On any address, 0.0.0.0 (the default) too, with the relay on. */
  if (!sp_node_start_server (self->node, &error))
    {
      g_autofree char *message =
          g_strdup_printf (_ ("The SIP server could not start: %s"), error->message);
      show_error_in_window (self, message);
      g_free (self->server_error);
      self->server_error = g_steal_pointer (&message);
      g_signal_emit (self, signals[SIGNAL_WEB_CONSOLE_CHANGED], 0);
      g_idle_add_full (G_PRIORITY_DEFAULT, switch_server_off, g_object_ref (self), g_object_unref);
      return;
    }
  g_clear_pointer (&self->server_error, g_free);
  apply_web_console (self);
}

static void
on_incoming_call (SpPhone *phone, SpCall *call, SpApplication *self)
{
  g_autoptr (GNotification) notification = g_notification_new (_ ("Incoming Call"));
  const char *name = sp_call_get_peer_display_name (call);
  const char *peer = sp_call_get_peer (call);
  g_autofree char *id = g_strdup_printf ("call-%s", sp_call_get_id (call));

  g_notification_set_body (notification, name != NULL && name[0] != '\0' ? name : peer);
  g_notification_set_priority (notification, G_NOTIFICATION_PRIORITY_URGENT);
  g_notification_set_category (notification, "call.incoming");
  g_notification_add_button_with_target (notification, _ ("Answer"), "app.answer-call", "s",
                                         sp_call_get_id (call));
  g_notification_add_button_with_target (notification, _ ("Decline"), "app.decline-call", "s",
                                         sp_call_get_id (call));
  g_notification_set_default_action_and_target (notification, "app.show-call", "s",
                                                sp_call_get_id (call));
  g_application_send_notification (G_APPLICATION (self), id, notification);

  /* Unmissable: the Calls page comes to the front with the call on it. */
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));
  if (SP_IS_WINDOW (window))
    {
      sp_window_show_page (SP_WINDOW (window), "calls");
      gtk_window_present (window);
    }
}

static void
show_error_in_window (SpApplication *self, const char *message)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (SP_IS_WINDOW (window))
    sp_window_show_error (SP_WINDOW (window), message);
  else
    note_startup_error (self, message);
}

/* A call's microphone or speaker went away (a headset unplugged): the
 * call goes on with the device chosen in Preferences if that one is there,
 * else the default device, or silent, and the window says which. */
static void
on_audio_device_failed (SpCall *call, guint direction, const char *device, const char *now_using,
                        const char *message, SpApplication *self)
{
  gboolean is_input = direction == SP_AUDIO_SOURCE;
  g_autofree char *text = NULL;

  if (g_strcmp0 (now_using, "null") == 0)
    text = g_strdup_printf (is_input ? _ ("Microphone %s is gone: the call goes on without it")
                                     : _ ("Speaker %s is gone: the call goes on without it"),
                            device ? device : "");
  else if (g_strcmp0 (now_using, "default") == 0)
    text = g_strdup_printf (is_input
                                ? _ ("Microphone %s is gone: the call goes on with the default one")
                                : _ ("Speaker %s is gone: the call goes on with the default one"),
                            device ? device : "");
  else
    /* Translators: the first %s went away, the second is the device the
     * user chose in Preferences, which the call now uses. */
    text = g_strdup_printf (is_input ? _ ("Microphone %s is gone: the call goes on with %s")
                                     : _ ("Speaker %s is gone: the call goes on with %s"),
                            device ? device : "", now_using);
  show_error_in_window (self, text);
}

static void
on_call_added (SpPhone *phone, SpCall *call, SpApplication *self)
{
  g_signal_connect_object (call, "audio-device-failed", G_CALLBACK (on_audio_device_failed), self,
                           0);
}

/* The ringing threads could not open the ring device, or lost it, or
 * the ring tone file will not do (the built-in tone rings instead). */
static void
on_ring_failed (SpRingerFailure what, const GError *error, gpointer user_data)
{
  SpApplication *self = user_data;
  g_autofree char *device = g_settings_get_string (self->settings, "ring-device");
  g_autofree char *message = NULL;

  if (what == SP_RINGER_FAILED_TONE)
    message = g_strdup_printf (
        _ ("The ring tone cannot be played (%s); ringing with the built-in one."), error->message);
  else if (what == SP_RINGER_TONE_SLOW)
    message = g_strdup_printf (_ ("The ring tone is slow to load; ringing with the built-in "
                                  "one until it is ready (%s)."),
                               error->message);
  else
    {
      /* Translators: %s is a sound device ("default"), then the reason. */
      message = g_strdup_printf (_ ("Softphone cannot ring on “%s”: %s"), device, error->message);
      /* Said once per ringing spell: the ringer stays until the calls are
       * taken, so no new one is made (and fails again) on every change. */
      self->ring_failed = TRUE;
    }
  show_error_in_window (self, message);
}

static SpRinger *
make_ringer (SpApplication *self)
{
  g_autofree char *device = g_settings_get_string (self->settings, "ring-device");
  g_autofree char *tone = g_settings_get_string (self->settings, "ring-tone");
  /* The file is read on the ringer's thread: a slow or bad one never
   * holds up the window, and never silences the phone. */
  SpRinger *ringer = sp_ringer_new (sp_audio_alsa_new (device, SP_AUDIO_SINK), tone);

  /* The ringer is freed (stopped) before the application goes. */
  sp_ringer_start (ringer, on_ring_failed, self);
  return ringer;
}

/* Rings while any call waits to be taken. */
static void
update_ringing (SpApplication *self)
{
  GListModel *calls = sp_phone_get_calls (self->phone);
  gboolean incoming = FALSE;

  for (guint i = 0; !incoming && i < g_list_model_get_n_items (calls); i++)
    {
      g_autoptr (SpCall) call = g_list_model_get_item (calls, i);
      incoming = sp_call_get_state (call) == SP_CALL_STATE_INCOMING;
    }
  if (!incoming)
    {
      g_clear_pointer (&self->ringer, sp_ringer_free);
      self->ring_failed = FALSE;
      return;
    }
  if (self->ringer == NULL && !self->ring_failed)
    self->ringer = make_ringer (self);
}

static void
on_calls_changed (GListModel *calls, guint position, guint removed, guint added,
                  SpApplication *self)
{
  for (guint i = position; i < position + added; i++)
    {
      g_autoptr (SpCall) call = g_list_model_get_item (calls, i);
      g_signal_connect_object (call, "notify::state", G_CALLBACK (update_ringing), self,
                               G_CONNECT_SWAPPED);
    }
  update_ringing (self);
}

static void
on_call_ended (SpPhone *phone, SpCall *call, SpApplication *self)
{
  g_autofree char *id = g_strdup_printf ("call-%s", sp_call_get_id (call));

  g_application_withdraw_notification (G_APPLICATION (self), id);
}

static void
on_call_by_id (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  SpApplication *self = user_data;
  const char *name = g_action_get_name (G_ACTION (action));
  SpCall *call = sp_phone_find_call (self->phone, g_variant_get_string (param, NULL));
  SpWindow *window = get_window (self);
  g_autoptr (GError) error = NULL;

  gtk_window_present (GTK_WINDOW (window));
  sp_window_show_page (window, "calls");
  if (call == NULL)
    return;
  if (g_str_equal (name, "answer-call") && !sp_phone_answer (self->phone, call, &error))
    sp_window_show_error (window, error->message);
  else if (g_str_equal (name, "decline-call") && !sp_call_hangup (call, &error))
    sp_window_show_error (window, error->message);
}

/* Running from the build tree (tools/run, tests) must work without
 * installing the schema, so look there when the system does not have it. */
static GSettings *
open_settings (const char *config_dir)
{
  g_autoptr (GSettingsBackend) backend = NULL;
  g_autofree char *keyfile = NULL;
  GSettingsSchemaSource *system = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema = NULL;
  g_autoptr (GSettingsSchemaSource) build = NULL;

  if (system != NULL)
    schema = g_settings_schema_source_lookup (system, APP_ID, TRUE);
  if (schema == NULL)
    {
      build =
          g_settings_schema_source_new_from_directory (SP_BUILD_SCHEMA_DIR, system, FALSE, NULL);
      if (build != NULL)
        schema = g_settings_schema_source_lookup (build, APP_ID, FALSE);
    }
  if (schema == NULL)
    g_error ("The settings schema %s is not installed: run 'meson install', or set "
             "GSETTINGS_SCHEMA_DIR to the build's data directory.",
             APP_ID);
  /* --config-dir: the window's settings live there too (a key file), so
   * two windows with two directories are two independent phones. */
  if (config_dir != NULL)
    {
      keyfile = g_build_filename (config_dir, "settings.ini", NULL);
      backend = g_keyfile_settings_backend_new (keyfile, "/", NULL);
    }
  return g_settings_new_full (schema, backend, NULL);
}

/* Logging out sends SIGTERM: quit the normal way, so calls are hung up
 * and accounts unregistered instead of left to time out. */
static gboolean
on_quit_signal (gpointer user_data)
{
  g_application_quit (G_APPLICATION (user_data));
  return G_SOURCE_CONTINUE;
}

/* Running in the background. */

/* The autostart entry names this binary (written again at each start,
 * so it is the one that runs now) with this phone's --bind and
 * --config-dir (app/autostart.c). */
static gboolean
write_autostart (SpApplication *self, GError **error)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);

  return sp_autostart_write (APP_ID, exe != NULL ? exe : "softphone", self->bind, self->config_dir,
                             error);
}

/* With no window the application would quit: hold it while it should
 * run in the background. */
static void
update_hold (SpApplication *self)
{
  gboolean wanted =
      self->started_in_background ||
      (self->settings != NULL && g_settings_get_boolean (self->settings, "run-in-background"));

  if (wanted && !self->held)
    g_application_hold (G_APPLICATION (self));
  else if (!wanted && self->held)
    g_application_release (G_APPLICATION (self));
  self->held = wanted;
}

/* The Preferences switch: the autostart file follows it (written again
 * at each start, so it names the binary that runs now). */
static void
apply_background_setting (SpApplication *self)
{
  gboolean wanted = g_settings_get_boolean (self->settings, "run-in-background");
  g_autoptr (GError) error = NULL;

  if (!(wanted ? write_autostart (self, &error)
               : sp_autostart_remove (APP_ID, self->config_dir, &error)))
    {
      g_autofree char *message = g_strdup_printf (
          _ ("Softphone cannot change how it starts at login: %s"), error->message);
      show_error_in_window (self, message);
    }
  update_hold (self);
}

static void
sp_application_startup (GApplication *app)
{
  SpApplication *self = SP_APPLICATION (app);

  /* GTK loads icons (and the compose table) on GLib's shared thread
   * pool. A worker left idle by default lingers 15 s and then exits, a
   * wakeup long after the window went quiet (bench/README.md, startup);
   * with no idle workers kept, it exits half a second after its last
   * task. The cost, a thread start per burst of background work (icons,
   * name lookups), is tens of microseconds. */
  g_thread_pool_set_max_unused_threads (0);
  G_APPLICATION_CLASS (sp_application_parent_class)->startup (app);
  g_unix_signal_add (SIGTERM, on_quit_signal, self);
  g_unix_signal_add (SIGINT, on_quit_signal, self);

  self->settings = open_settings (self->config_dir);
  start_phone (self);
  g_signal_connect_object (self->phone, "incoming-call", G_CALLBACK (on_incoming_call), self, 0);
  g_signal_connect_object (self->phone, "call-ended", G_CALLBACK (on_call_ended), self, 0);
  g_signal_connect_object (self->phone, "call-added", G_CALLBACK (on_call_added), self, 0);
  g_signal_connect_object (sp_phone_get_calls (self->phone), "items-changed",
                           G_CALLBACK (on_calls_changed), self, 0);
  g_signal_connect_object (self->settings, "changed::server-enabled",
                           G_CALLBACK (apply_server_setting), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->settings, "changed::server-trusted-peers",
                           G_CALLBACK (apply_trusted_peers), self, G_CONNECT_SWAPPED);
  apply_trusted_peers (self);
  g_signal_connect_object (self->settings, "changed::web-console-address",
                           G_CALLBACK (apply_web_console), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->settings, "changed::web-console-password",
                           G_CALLBACK (apply_web_console), self, G_CONNECT_SWAPPED);
  /* Even with the server off: a plain password must not stay on disk. */
  migrate_web_console_password (self);
  apply_server_setting (self);
  g_signal_connect_object (self->settings, "changed::run-in-background",
                           G_CALLBACK (apply_background_setting), self, G_CONNECT_SWAPPED);
  if (g_settings_get_boolean (self->settings, "run-in-background"))
    apply_background_setting (self);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions, G_N_ELEMENTS (app_actions),
                                   self);
  set_accels (GTK_APPLICATION (self));
}

static void
sp_application_activate (GApplication *app)
{
  SpApplication *self = SP_APPLICATION (app);

  if (self->start_in_background)
    {
      self->start_in_background = FALSE;
      return;
    }
  gtk_window_present (GTK_WINDOW (get_window (self)));
}

static gboolean
is_dialable_uri (const char *uri)
{
  g_autofree char *scheme = g_uri_parse_scheme (uri);

  return scheme != NULL &&
         (g_ascii_strcasecmp (scheme, "sip") == 0 || g_ascii_strcasecmp (scheme, "sips") == 0 ||
          g_ascii_strcasecmp (scheme, "tel") == 0);
}

static void
sp_application_open (GApplication *app, GFile **files, int n_files, const char *hint)
{
  SpWindow *window = get_window (SP_APPLICATION (app));

  gtk_window_present (GTK_WINDOW (window));
  for (int i = 0; i < n_files; i++)
    {
      g_autofree char *uri = g_file_get_uri (files[i]);

      if (is_dialable_uri (uri))
        {
          g_action_group_activate_action (G_ACTION_GROUP (app), "dial", g_variant_new_string (uri));
          /* One call at a time from a link: the first one wins. */
          break;
        }
      else
        {
          g_autofree char *message =
              g_strdup_printf (_ ("“%s” is not a phone link: Softphone opens sip:, sips: "
                                  "and tel: addresses."),
                               uri);
          sp_window_show_error (window, message);
        }
    }
}

static void
on_node_shut_down (GObject *source, GAsyncResult *result, gpointer user_data)
{
  gboolean *done = user_data;

  sp_node_shutdown_finish (SP_NODE (source), result, NULL);
  *done = TRUE;
}

/* Hang up and unregister before the process goes: the far ends and the
 * registrar should not have to time out. The phone bounds the wait. */
static void
sp_application_shutdown (GApplication *app)
{
  SpApplication *self = SP_APPLICATION (app);
  gboolean done = FALSE;

  g_clear_pointer (&self->ringer, sp_ringer_free);
  if (self->node != NULL)
    {
      sp_node_shutdown_async (self->node, on_node_shut_down, &done);
      while (!done)
        g_main_context_iteration (NULL, TRUE);
    }
  G_APPLICATION_CLASS (sp_application_parent_class)->shutdown (app);
}

static void
sp_application_finalize (GObject *object)
{
  SpApplication *self = SP_APPLICATION (object);

  g_clear_pointer (&self->ringer, sp_ringer_free);
  g_clear_object (&self->settings);
  self->server = NULL;
  self->phone = NULL;
  g_clear_object (&self->node);
  g_free (self->bind);
  g_free (self->config_dir);
  g_free (self->startup_error);
  g_free (self->web_console_error);
  g_free (self->server_error);
  G_OBJECT_CLASS (sp_application_parent_class)->finalize (object);
}

static void
sp_application_class_init (SpApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = sp_application_finalize;
  app_class->startup = sp_application_startup;
  app_class->activate = sp_application_activate;
  app_class->open = sp_application_open;
  app_class->shutdown = sp_application_shutdown;

  /* The web console started, stopped or failed (see
   * sp_application_dup_web_console_url). */
  signals[SIGNAL_WEB_CONSOLE_CHANGED] =
      g_signal_new ("web-console-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                    NULL, NULL, G_TYPE_NONE, 0);
}

static void
sp_application_init (SpApplication *self)
{
}

SpApplication *
sp_application_new (void)
{
  return g_object_new (SP_TYPE_APPLICATION, "application-id", APP_ID, "flags",
                       G_APPLICATION_HANDLES_OPEN, "resource-base-path", "/net/example/softphone",
                       NULL);
}

/* Run from the build tree (tools/run, the GUI tests), the app uses the
 * translations built there, so LANGUAGE=zh_CN works before installing. */
static void
bind_build_translations (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *build_exe = g_build_filename (SP_BUILD_ROOT, "app", "softphone", NULL);
  g_autofree char *po_dir = g_build_filename (SP_BUILD_ROOT, "po", NULL);

  if (exe != NULL && g_str_equal (exe, build_exe))
    bindtextdomain (GETTEXT_PACKAGE, po_dir);
}

int
sp_application_run (int argc, char **argv, gboolean background, const char *bind,
                    const char *config_dir)
{
  g_autoptr (SpApplication) app = NULL;
  g_autoptr (GError) error = NULL;

  bind_build_translations ();
  app = sp_application_new ();
  app->bind = g_strdup (bind);
  app->config_dir = g_strdup (config_dir);
  /* A window with its own address or directory is a phone of its own:
   * it does not hand itself to a window already running. */
  if (bind != NULL || config_dir != NULL)
    g_application_set_flags (G_APPLICATION (app), g_application_get_flags (G_APPLICATION (app)) |
                                                      G_APPLICATION_NON_UNIQUE);
  if (background)
    {
      /* At login with Softphone already running: leave it as it is. */
      if (!g_application_register (G_APPLICATION (app), NULL, &error))
        {
          g_printerr ("softphone: %s\n", error->message);
          return 1;
        }
      if (g_application_get_is_remote (G_APPLICATION (app)))
        return 0;
      app->start_in_background = TRUE;
      app->started_in_background = TRUE;
      update_hold (app);
    }
  return g_application_run (G_APPLICATION (app), argc, argv);
}

GSettings *
sp_application_get_settings (SpApplication *self)
{
  g_return_val_if_fail (SP_IS_APPLICATION (self), NULL);
  return self->settings;
}

GListModel *
sp_application_get_accounts (SpApplication *self)
{
  g_return_val_if_fail (SP_IS_APPLICATION (self), NULL);
  return sp_phone_get_accounts (self->phone);
}

GListModel *
sp_application_get_calls (SpApplication *self)
{
  g_return_val_if_fail (SP_IS_APPLICATION (self), NULL);
  return sp_phone_get_calls (self->phone);
}

SpSipLog *
sp_application_get_sip_log (SpApplication *self)
{
  g_return_val_if_fail (SP_IS_APPLICATION (self), NULL);
  return sp_phone_get_sip_log (self->phone);
}

char *
sp_application_dup_web_console_url (SpApplication *self)
{
  SpWebConsole *console;

  g_return_val_if_fail (SP_IS_APPLICATION (self), NULL);
  console = self->server != NULL ? sp_server_get_web_console (self->server) : NULL;
  return console != NULL ? sp_web_console_dup_url (console) : NULL;
}

const char *
sp_application_get_web_console_error (SpApplication *self)
{
  g_return_val_if_fail (SP_IS_APPLICATION (self), NULL);
  return self->web_console_error;
}

SpServer *
sp_application_get_server (SpApplication *self)
{
  g_return_val_if_fail (SP_IS_APPLICATION (self), NULL);
  return self->server;
}

const char *
sp_application_get_config_dir (SpApplication *self)
{
  g_return_val_if_fail (SP_IS_APPLICATION (self), NULL);
  return sp_node_get_config_dir (self->node);
}

SpNode *
sp_application_get_node (SpApplication *self)
{
  g_return_val_if_fail (SP_IS_APPLICATION (self), NULL);
  return self->node;
}

SpPhone *
sp_application_get_phone (SpApplication *self)
{
  g_return_val_if_fail (SP_IS_APPLICATION (self), NULL);
  return self->phone;
}

gboolean
sp_application_save_account (SpApplication *self, SpAccount *account, GError **error)
{
  GListModel *accounts;
  gboolean is_new = TRUE;

  g_return_val_if_fail (SP_IS_APPLICATION (self), FALSE);
  g_return_val_if_fail (SP_IS_ACCOUNT (account), FALSE);

  accounts = sp_phone_get_accounts (self->phone);
  for (guint i = 0; is_new && i < g_list_model_get_n_items (accounts); i++)
    {
      g_autoptr (SpAccount) a = g_list_model_get_item (accounts, i);
      is_new = a != account;
    }
  if (is_new)
    sp_phone_add_account (self->phone, account);
  if (!sp_phone_save_accounts (self->phone, error))
    {
      if (is_new)
        sp_phone_remove_account (self->phone, account);
      return FALSE;
    }
  /* New fields mean a new registration (or none, when disabled). */
  sp_phone_unregister (self->phone, account);
  sp_phone_register (self->phone, account);
  return TRUE;
}

gboolean
sp_application_remove_account (SpApplication *self, SpAccount *account, GError **error)
{
  g_return_val_if_fail (SP_IS_APPLICATION (self), FALSE);

  g_object_ref (account);
  sp_phone_remove_account (self->phone, account);
  if (!sp_phone_save_accounts (self->phone, error))
    {
      sp_phone_add_account (self->phone, account);
      g_object_unref (account);
      return FALSE;
    }
  g_object_unref (account);
  return TRUE;
}

char *
sp_application_describe_account_status (SpAccount *account)
{
  const char *reason = sp_account_get_status_reason (account);

  if (!sp_account_get_enabled (account))
    return g_strdup (_ ("Disabled"));
  switch (sp_account_get_status (account))
    {
      case SP_ACCOUNT_STATUS_REGISTERED:
        return g_strdup (_ ("Registered"));
      case SP_ACCOUNT_STATUS_REGISTERING:
        return g_strdup (_ ("Registering…"));
      case SP_ACCOUNT_STATUS_FAILED:
        /* Translators: %s is the server's answer, e.g. "403 Forbidden".
         * The core's own reasons ("no answer from server") are N_() in
         * src/ua/registration.c and translated here. */
        return reason != NULL && reason[0] != '\0' ? g_strdup_printf (_ ("Failed: %s"), _ (reason))
                                                   : g_strdup (_ ("Failed"));
      case SP_ACCOUNT_STATUS_UNREGISTERED:
      default:
        if (!sp_account_has_credentials (account))
          return g_strdup (_ ("Direct calls to the server’s address"));
        return g_strdup (_ ("Not registered"));
    }
}

guint16
sp_application_get_moved_from_port (SpApplication *self)
{
  g_return_val_if_fail (SP_IS_APPLICATION (self), 0);
  return self->node != NULL ? sp_node_get_moved_from_port (self->node) : 0;
}

/* This computer's first IPv4 address on an interface that is up and not
 * loopback: what a colleague on the LAN dials. */
static char *
dup_first_lan_address (void)
{
  struct ifaddrs *list = NULL;
  char *found = NULL;

  if (getifaddrs (&list) != 0)
    return NULL;
  for (struct ifaddrs *i = list; i != NULL && found == NULL; i = i->ifa_next)
    {
      char text[INET_ADDRSTRLEN];

      if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP) ||
          (i->ifa_flags & IFF_LOOPBACK))
        continue;
      if (inet_ntop (AF_INET, &((struct sockaddr_in *) i->ifa_addr)->sin_addr, text, sizeof text) !=
          NULL)
        found = g_strdup (text);
    }
  freeifaddrs (list);
  return found;
}

char *
sp_application_dup_direct_address (SpApplication *self)
{
  const char *host = NULL;
  guint16 port = 0;
  g_autofree char *lan = NULL;

  g_return_val_if_fail (SP_IS_APPLICATION (self), NULL);
  if (self->phone == NULL || !sp_phone_get_local_address (self->phone, &host, &port))
    return NULL;
  if (sp_sip_host_is_wildcard (host))
    {
      lan = dup_first_lan_address ();
      host = lan != NULL ? lan : (strchr (host, ':') != NULL ? "::1" : "127.0.0.1");
    }
  if (port == 5060)
    return g_strdup (host);
  return sp_sip_host_port_to_string (host, port);
}

const char *
sp_application_get_server_error (SpApplication *self)
{
  g_return_val_if_fail (SP_IS_APPLICATION (self), NULL);
  return self->server_error;
}
