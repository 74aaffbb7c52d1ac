#define G_LOG_DOMAIN "softphone-app"

#include "config.h"

#include "server-page.h"

#include <glib/gi18n.h>

#include "a11y.h"
#include "page-util.h"
#include "server/server-models.h"
#include "window.h"

struct _SpServerPage
{
  AdwBin parent_instance;

  SpApplication *app; /* unowned: the application outlives its windows */
  SpServer *server;   /* unowned, the application's */

  GtkSwitch *server_switch;
  AdwActionRow *server_row;
  AdwEntryRow *server_address_row;
  GtkListBox *users_list;
  GtkListBox *routes_list;
  GtkListBox *registrations_list;
  GtkListBox *server_calls_list;
  AdwActionRow *web_console_row;
  GtkLinkButton *web_console_link;
  AdwEntryRow *trusted_peers_row;
  AdwEntryRow *web_console_address_row;
  AdwEntryRow *web_console_password_row;
  AdwEntryRow *route_entry;
  GtkLabel *route_error;
  GtkWidget *route_add_button;
  GtkWidget *add_user_button;
  GtkWidget *import_regfile_button;
  GtkWidget *import_routes_button;
  GtkWidget *tls_group;
  GtkLabel *tls_address_label;
  GtkLabel *tls_fingerprint_label;
  GtkWidget *tls_copy_button;
};

G_DEFINE_FINAL_TYPE (SpServerPage, sp_server_page, ADW_TYPE_BIN)

static GtkWidget *
plain_row (const char *title, const char *subtitle)
{
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title != NULL ? title : "");
  if (subtitle != NULL)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  return row;
}

/* Users. */

static GtkWidget *
create_user_row (gpointer item, gpointer user_data)
{
  const SpUser *user = sp_table_item_get_value (SP_TABLE_ITEM (item));
  const char *name = sp_user_get_name (user);
  const char *number = sp_user_get_number (user);
  /* Translators: a user's phone number on the server. */
  g_autofree char *subtitle =
      number != NULL ? g_strdup_printf (_ ("Number %s"), number) : g_strdup (_ ("No number"));
  /* Translators: %s is a user name. */
  g_autofree char *a11y = g_strdup_printf (_ ("Remove user %s"), name);
  GtkWidget *row = plain_row (name, subtitle);

  adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                             sp_page_action_button ("user-trash-symbolic", _ ("Remove"), a11y,
                                                    "win.server-remove-user",
                                                    g_variant_new_string (name)));
  return row;
}

void
sp_server_page_remove_user (SpServerPage *self, const char *name)
{
  g_autoptr (GError) error = NULL;

  g_return_if_fail (SP_IS_SERVER_PAGE (self));
  /* The list follows the db; the server saves it. */
  if (!sp_user_db_remove (sp_server_get_users (self->server), name, &error))
    sp_window_toast (GTK_WIDGET (self), error->message);
}

static GtkWidget *
labelled_entry (GtkWidget *box, const char *label, gboolean password)
{
  GtkWidget *entry = password ? gtk_password_entry_new () : gtk_entry_new ();

  if (password)
    gtk_password_entry_set_show_peek_icon (GTK_PASSWORD_ENTRY (entry), TRUE);
  else
    gtk_entry_set_placeholder_text (GTK_ENTRY (entry), label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (entry), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  gtk_box_append (GTK_BOX (box), entry);
  return entry;
}

static void
on_add_user_response (AdwMessageDialog *dialog, const char *response, SpServerPage *self)
{
  const char *name = gtk_editable_get_text (g_object_get_data (G_OBJECT (dialog), "name"));
  const char *number = gtk_editable_get_text (g_object_get_data (G_OBJECT (dialog), "number"));
  const char *password = gtk_editable_get_text (g_object_get_data (G_OBJECT (dialog), "password"));
  g_autoptr (GError) error = NULL;

  if (g_strcmp0 (response, "add") != 0)
    return;
  if (!sp_user_db_add (sp_server_get_users (self->server), name, number[0] != '\0' ? number : NULL,
                       password, &error))
    sp_window_toast (GTK_WIDGET (self), error->message);
}

void
sp_server_page_add_user (SpServerPage *self)
{
  GtkWidget *dialog;
  GtkWidget *box;

  g_return_if_fail (SP_IS_SERVER_PAGE (self));
  dialog =
      adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))), _ ("Add User"),
                              _ ("Who may register with this server, with the "
                                 "number colleagues dial to reach them."));
  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  g_object_set_data (G_OBJECT (dialog), "name", labelled_entry (box, _ ("User name"), FALSE));
  g_object_set_data (G_OBJECT (dialog), "number", labelled_entry (box, _ ("Number"), FALSE));
  g_object_set_data (G_OBJECT (dialog), "password", labelled_entry (box, _ ("Password"), TRUE));
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), box);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _ ("_Cancel"), "add",
                                    _ ("_Add"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "add",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "add");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_add_user_response), self, 0);
  sp_a11y_clean_tree (dialog);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Routing rules, in Yate's regexroute.conf syntax, edited by hand: each
 * change is saved at once, as the import saves. */

static gboolean
save_routes (SpServerPage *self)
{
  g_autoptr (GError) error = NULL;

  if (sp_router_save (sp_server_get_router (self->server),
                      sp_application_get_config_dir (self->app), &error))
    return TRUE;
  sp_window_toast (GTK_WIDGET (self), error->message);
  return FALSE;
}

static GtkWidget *
route_button (const char *icon, const char *tooltip, const char *a11y, const char *action,
              GVariant *target)
{
  return sp_page_action_button (icon, tooltip, a11y, action, target);
}

static GtkWidget *
create_route_row (gpointer item, gpointer user_data)
{
  const char *rule = sp_table_item_get_value (SP_TABLE_ITEM (item));
  GtkWidget *row = plain_row (rule, NULL);
  /* Translators: %s is a routing rule, e.g. "^2$=return;called=u2". */
  g_autofree char *up = g_strdup_printf (_ ("Move up route %s"), rule);
  /* Translators: %s is a routing rule. */
  g_autofree char *down = g_strdup_printf (_ ("Move down route %s"), rule);
  /* Translators: %s is a routing rule. */
  g_autofree char *remove = g_strdup_printf (_ ("Remove route %s"), rule);
  GtkWidget *up_button = route_button ("go-up-symbolic", _ ("Move Up"), up, "win.route-move",
                                       g_variant_new ("(si)", rule, -1));
  GtkWidget *down_button = route_button ("go-down-symbolic", _ ("Move Down"), down,
                                         "win.route-move", g_variant_new ("(si)", rule, 1));

  gtk_widget_add_css_class (row, "monospace");
  g_object_set_data (G_OBJECT (row), "up", up_button);
  g_object_set_data (G_OBJECT (row), "down", down_button);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), up_button);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), down_button);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                             route_button ("user-trash-symbolic", _ ("Remove"), remove,
                                           "win.route-remove", g_variant_new_string (rule)));
  return row;
}

/* The first rule can't go up, the last can't go down; rows that stayed
 * when others came or went may have become first or last. */
static void
update_route_moves (GListModel *routes, guint position, guint removed, guint added,
                    SpServerPage *self)
{
  guint n = g_list_model_get_n_items (routes);

  for (guint i = 0; i < n; i++)
    {
      GtkListBoxRow *row = gtk_list_box_get_row_at_index (self->routes_list, (int) i);

      if (row == NULL)
        break;
      gtk_widget_set_sensitive (g_object_get_data (G_OBJECT (row), "up"), i > 0);
      gtk_widget_set_sensitive (g_object_get_data (G_OBJECT (row), "down"), i + 1 < n);
    }
}

static gboolean
find_rule (SpServerPage *self, const char *rule, guint *index)
{
  SpRouter *router = sp_server_get_router (self->server);
  guint n = sp_router_get_n_rules (router);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *text = sp_router_dup_rule (router, i);

      if (g_strcmp0 (text, rule) == 0)
        {
          *index = i;
          return TRUE;
        }
    }
  return FALSE;
}

void
sp_server_page_remove_route (SpServerPage *self, const char *rule)
{
  g_autoptr (GError) error = NULL;
  guint index;

  g_return_if_fail (SP_IS_SERVER_PAGE (self));
  if (!find_rule (self, rule, &index))
    return;
  if (!sp_router_remove_rule (sp_server_get_router (self->server), index, &error))
    sp_window_toast (GTK_WIDGET (self), error->message);
  else
    save_routes (self);
}

void
sp_server_page_move_route (SpServerPage *self, const char *rule, int delta)
{
  SpRouter *router;
  g_autoptr (GError) error = NULL;
  guint index;

  g_return_if_fail (SP_IS_SERVER_PAGE (self));
  router = sp_server_get_router (self->server);
  if (!find_rule (self, rule, &index) || (delta < 0 && index == 0) ||
      (delta > 0 && index + 1 >= sp_router_get_n_rules (router)))
    return;
  if (!sp_router_move_rule (router, index, delta < 0 ? index - 1 : index + 1, &error))
    sp_window_toast (GTK_WIDGET (self), error->message);
  else
    save_routes (self);
}

static void
show_route_error (SpServerPage *self, const char *message)
{
  gtk_label_set_text (self->route_error, message != NULL ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->route_error), message != NULL);
  if (message != NULL)
    {
      gtk_widget_add_css_class (GTK_WIDGET (self->route_entry), "error");
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->route_entry),
                                      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, message, -1);
    }
  else
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self->route_entry), "error");
      gtk_accessible_reset_property (GTK_ACCESSIBLE (self->route_entry),
                                     GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);
    }
}

void
sp_server_page_add_route (SpServerPage *self, const char *rule)
{
  g_autofree char *line = NULL;
  g_autoptr (GError) error = NULL;

  g_return_if_fail (SP_IS_SERVER_PAGE (self));
  line = g_strstrip (g_strdup (rule != NULL ? rule : ""));
  if (line[0] == '\0')
    {
      show_route_error (self, _ ("Write a rule as REGEX=TARGET, e.g. ^2$=return;called=u2."));
      return;
    }
  if (!sp_router_insert_rule (sp_server_get_router (self->server), -1, line, &error))
    {
      /* Translators: %s is why the rule was refused. */
      g_autofree char *message =
          g_strdup_printf (_ ("This rule was not added: %s"), error->message);
      show_route_error (self, message);
      return;
    }
  show_route_error (self, NULL);
  gtk_editable_set_text (GTK_EDITABLE (self->route_entry), "");
  save_routes (self);
}

/* The entry's Enter, its apply button and the + button: the same action,
 * with the entry's text. */
static void
on_route_entry_apply (SpServerPage *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "win.route-add", "s",
                              gtk_editable_get_text (GTK_EDITABLE (self->route_entry)));
}

static void
on_route_entry_changed (SpServerPage *self)
{
  if (gtk_widget_get_visible (GTK_WIDGET (self->route_error)))
    show_route_error (self, NULL);
}

/* Imports from Yate. */

static void
on_import_chosen (GtkNativeDialog *chooser, int response, SpServerPage *self)
{
  const char *what = g_object_get_data (G_OBJECT (chooser), "what");
  g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;
  g_autoptr (GPtrArray) warnings = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *message = NULL;
  guint n = 0;

  if (response != GTK_RESPONSE_ACCEPT || path == NULL)
    goto out;
  if (g_str_equal (what, "regfile"))
    {
      if (!sp_user_db_import_regfile_path (sp_server_get_users (self->server), path, &n, &warnings,
                                           &error))
        goto out;
      /* Translators: %u users were read from a Yate regfile.conf. */
      message = g_strdup_printf (
          g_dngettext (GETTEXT_PACKAGE, "%u user imported", "%u users imported", n), n);
    }
  else if (sp_router_import_path (sp_server_get_router (self->server), path, &warnings, &error) &&
           save_routes (self))
    message = g_strdup (_ ("Routes imported"));
out:
  if (error != NULL)
    sp_window_toast (GTK_WIDGET (self), error->message);
  else if (message != NULL)
    sp_window_toast (GTK_WIDGET (self), message);
  g_object_unref (chooser);
}

void
sp_server_page_import (SpServerPage *self, const char *what)
{
  gboolean users;
  GtkFileChooserNative *chooser;

  g_return_if_fail (SP_IS_SERVER_PAGE (self));
  users = g_str_equal (what, "regfile");
  if (!users && !g_str_equal (what, "regexroute"))
    return;
  chooser = gtk_file_chooser_native_new (
      users ? _ ("Import Users from regfile.conf") : _ ("Import Routes from regexroute.conf"),
      GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))), GTK_FILE_CHOOSER_ACTION_OPEN,
      _ ("_Import"), _ ("_Cancel"));
  g_object_set_data_full (G_OBJECT (chooser), "what", g_strdup (what), g_free);
  g_signal_connect_object (chooser, "response", G_CALLBACK (on_import_chosen), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* Who is registered now. */

static GtkWidget *
create_registration_row (gpointer item, gpointer user_data)
{
  const SpBinding *binding = sp_table_item_get_value (SP_TABLE_ITEM (item));
  GtkWidget *row = plain_row (binding->aor, binding->contact);

  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 1);
  return row;
}

/* Calls the server connects now. An answered call's row shows how long
 * it has lasted, and ticks once a second while it is listed: call timers
 * run only during calls. */

static char *
describe_server_call_state (const SpServerCall *call)
{
  if (g_strcmp0 (call->state, "routing") == 0)
    return g_strdup (_ ("Routing"));
  if (g_strcmp0 (call->state, "ringing") == 0)
    return g_strdup (_ ("Ringing"));
  if (g_strcmp0 (call->state, "answered") == 0)
    {
      gint64 seconds = MAX (0, g_get_real_time () / G_USEC_PER_SEC - call->answered);
      /* Translators: a call through the server, with its duration. */
      return g_strdup_printf (_ ("In call, %d:%02d"), (int) MIN (seconds / 60, G_MAXINT),
                              (int) (seconds % 60));
    }
  return g_strdup (call->state != NULL ? call->state : "");
}

static gboolean
update_server_call_row (gpointer data)
{
  AdwActionRow *row = data;
  SpTableItem *item = g_object_get_data (G_OBJECT (row), "item");
  const SpServerCall *call = sp_table_item_get_value (item);
  g_autofree char *state = describe_server_call_state (call);
  /* Translators: a call's state, then where the server sent it. */
  g_autofree char *subtitle = call->callee != NULL
                                  ? g_strdup_printf (_ ("%s, to %s"), state, call->callee)
                                  : g_strdup (state);

  adw_action_row_set_subtitle (row, subtitle);
  return G_SOURCE_CONTINUE;
}

static void
remove_source (gpointer id)
{
  g_source_remove (GPOINTER_TO_UINT (id));
}

static GtkWidget *
create_server_call_row (gpointer item, gpointer user_data)
{
  const SpServerCall *call = sp_table_item_get_value (SP_TABLE_ITEM (item));
  /* Translators: caller → called, on the Server page. */
  g_autofree char *title = g_strdup_printf (_ ("%s → %s"), call->caller ? call->caller : "?",
                                            call->called ? call->called : "?");
  GtkWidget *row = plain_row (title, NULL);

  g_object_set_data_full (G_OBJECT (row), "item", g_object_ref (item), g_object_unref);
  update_server_call_row (row);
  /* The row goes when the call changes state or ends; the tick with it. */
  if (g_strcmp0 (call->state, "answered") == 0)
    g_object_set_data_full (
        G_OBJECT (row), "tick",
        GUINT_TO_POINTER (g_timeout_add_seconds (1, update_server_call_row, row)), remove_source);
  return row;
}

/* The web console. */

/* The row never shows the stored value (a hash); its title says whether
 * a password is set. */
static void
update_web_console_password_row (SpServerPage *self)
{
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->web_console_password_row),
                                 sp_application_has_web_console_password (self->app)
                                     ? _ ("Web Console Admin Password (set; type a new one)")
                                     : _ ("Web Console Admin Password"));
}

/* Why the server did not start, under its switch until it runs. */
static void
update_server_row (SpServerPage *self)
{
  const char *error = sp_application_get_server_error (self->app);

  adw_action_row_set_subtitle (self->server_row, error != NULL ? error : "");
  if (error != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (self->server_row), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->server_row), "error");
}

/* The TLS address and the certificate's fingerprint, while the server
 * runs with TLS; hidden otherwise, so nobody compares a stale value. */
static void
update_tls (SpServerPage *self)
{
  const char *fingerprint = NULL;
  g_autofree char *address = sp_server_dup_tls_address (self->server, &fingerprint);
  g_autofree char *uri = NULL;

  gtk_widget_set_visible (self->tls_group, address != NULL);
  if (address == NULL)
    {
      gtk_label_set_text (self->tls_address_label, "");
      gtk_label_set_text (self->tls_fingerprint_label, "");
      return;
    }
  uri = g_strconcat ("sips:", address, NULL);
  gtk_label_set_text (self->tls_address_label, uri);
  gtk_label_set_text (self->tls_fingerprint_label, fingerprint);
}

static void
on_tls_copy_clicked (SpServerPage *self)
{
  const char *fingerprint = gtk_label_get_text (self->tls_fingerprint_label);

  if (fingerprint[0] == '\0')
    return;
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), fingerprint);
  sp_window_toast (GTK_WIDGET (self), _ ("Fingerprint copied"));
}

static void
update_web_console (SpServerPage *self)
{
  g_autofree char *url = sp_application_dup_web_console_url (self->app);
  const char *error = sp_application_get_web_console_error (self->app);
  g_autofree char *a11y = NULL;

  update_server_row (self);
  update_web_console_password_row (self);
  update_tls (self);
  gtk_widget_set_visible (GTK_WIDGET (self->web_console_link), url != NULL);
  if (url != NULL)
    {
      gtk_link_button_set_uri (self->web_console_link, url);
      gtk_button_set_label (GTK_BUTTON (self->web_console_link), url);
      gtk_link_button_set_visited (self->web_console_link, FALSE);
      /* Translators: %s is the web console's URL. */
      a11y = g_strdup_printf (_ ("Open the web console at %s"), url);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->web_console_link),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, a11y, -1);
      adw_action_row_set_subtitle (self->web_console_row, _ ("Open it in a web browser"));
    }
  else if (error != NULL)
    adw_action_row_set_subtitle (self->web_console_row, error);
  else
    adw_action_row_set_subtitle (self->web_console_row, _ ("Available while the server runs"));
  if (error != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (self->web_console_row), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->web_console_row), "error");
}

static void
on_web_console_entry_apply (AdwEntryRow *row, SpServerPage *self)
{
  GSettings *settings = sp_application_get_settings (self->app);
  g_autoptr (GError) error = NULL;

  if (row == self->web_console_address_row)
    {
      g_settings_set_string (settings, "web-console-address",
                             gtk_editable_get_text (GTK_EDITABLE (row)));
      return;
    }
  if (!sp_application_set_web_console_password (self->app,
                                                gtk_editable_get_text (GTK_EDITABLE (row)), &error))
    sp_window_toast (GTK_WIDGET (self), error->message);
  gtk_editable_set_text (GTK_EDITABLE (row), "");
  update_web_console_password_row (self);
}

/* The setting takes the text as typed; the application checks it, says
 * what is wrong and puts the setting back. Accepted, the row shows the
 * list as the server uses it; refused, it keeps the text to be fixed. */
static void
on_trusted_peers_apply (AdwEntryRow *row, SpServerPage *self)
{
  GSettings *settings = sp_application_get_settings (self->app);
  g_autofree char *typed = g_strdup (gtk_editable_get_text (GTK_EDITABLE (row)));
  g_autofree char *now = NULL;

  g_settings_set_string (settings, "server-trusted-peers", typed);
  now = g_settings_get_string (settings, "server-trusted-peers");
  if (g_str_equal (now, typed))
    gtk_editable_set_text (GTK_EDITABLE (row), sp_server_get_trusted_peers (self->server));
}

static void
on_server_address_apply (AdwEntryRow *row, SpServerPage *self)
{
  g_settings_set_string (sp_application_get_settings (self->app), "sip-bind",
                         gtk_editable_get_text (GTK_EDITABLE (row)));
}

static void
setup_settings (SpServerPage *self)
{
  GSettings *settings = sp_application_get_settings (self->app);
  g_autofree char *bind = g_settings_get_string (settings, "sip-bind");
  g_autofree char *console = g_settings_get_string (settings, "web-console-address");

  g_settings_bind (settings, "server-enabled", self->server_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  gtk_editable_set_text (GTK_EDITABLE (self->server_address_row), bind);
  g_signal_connect_object (self->server_address_row, "apply", G_CALLBACK (on_server_address_apply),
                           self, 0);
  gtk_editable_set_text (GTK_EDITABLE (self->trusted_peers_row),
                         sp_server_get_trusted_peers (self->server));
  g_signal_connect_object (self->trusted_peers_row, "apply", G_CALLBACK (on_trusted_peers_apply),
                           self, 0);
  gtk_editable_set_text (GTK_EDITABLE (self->web_console_address_row), console);
  g_signal_connect_object (self->web_console_address_row, "apply",
                           G_CALLBACK (on_web_console_entry_apply), self, 0);
  g_signal_connect_object (self->web_console_password_row, "apply",
                           G_CALLBACK (on_web_console_entry_apply), self, 0);
  g_signal_connect_object (self->app, "web-console-changed", G_CALLBACK (update_web_console), self,
                           G_CONNECT_SWAPPED);
  update_web_console (self);
}

static void
bind_lists (SpServerPage *self)
{
  GListModel *routes = sp_server_get_routes_model (self->server);

  gtk_list_box_bind_model (self->registrations_list,
                           sp_server_get_registrations_model (self->server),
                           create_registration_row, NULL, NULL);
  gtk_list_box_bind_model (self->server_calls_list, sp_server_get_calls_model (self->server),
                           create_server_call_row, NULL, NULL);
  gtk_list_box_bind_model (self->users_list, sp_server_get_users_model (self->server),
                           create_user_row, NULL, NULL);
  gtk_list_box_bind_model (self->routes_list, routes, create_route_row, NULL, NULL);
  /* After the list box's own handler: the rows exist by then. */
  g_signal_connect_object (routes, "items-changed", G_CALLBACK (update_route_moves), self, 0);
  update_route_moves (routes, 0, 0, 0, self);
}

static void
sp_server_page_dispose (GObject *object)
{
  SpServerPage *self = SP_SERVER_PAGE (object);

  /* The rows' ticks go with the rows. */
  if (self->server_calls_list != NULL)
    gtk_list_box_bind_model (self->server_calls_list, NULL, NULL, NULL, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), SP_TYPE_SERVER_PAGE);
  G_OBJECT_CLASS (sp_server_page_parent_class)->dispose (object);
}

static void
sp_server_page_class_init (SpServerPageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = sp_server_page_dispose;
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/net/example/softphone/ui/server-page.ui");
  gtk_widget_class_bind_template_child (widget_class, SpServerPage, server_switch);
  gtk_widget_class_bind_template_child (widget_class, SpServerPage, server_row);
  gtk_widget_class_bind_template_child (widget_class, SpServerPage, server_address_row);
  gtk_widget_class_bind_template_child (widget_class, SpServerPage, users_list);
  gtk_widget_class_bind_template_child (widget_class, SpServerPage, routes_list);
  gtk_widget_class_bind_template_child (widget_class, SpServerPage, registrations_list);
  gtk_widget_class_bind_template_child (widget_class, SpServerPage, server_calls_list);
  gtk_widget_class_bind_template_child (widget_class, SpServerPage, web_console_row);
  gtk_widget_class_bind_template_child (widget_class, SpServerPage, web_console_link);
  gtk_widget_class_bind_template_child (widget_class, SpServerPage, trusted_peers_row);
  gtk_widget_class_bind_template_child (widget_class, SpServerPage, web_console_address_row);
  gtk_widget_class_bind_template_child (widget_class, SpServerPage, web_console_password_row);
  gtk_widget_class_bind_template_child (widget_class, SpServerPage, route_entry);
  gtk_widget_class_bind_template_child (widget_class, SpServerPage, route_error);
  gtk_widget_class_bind_template_child (widget_class, SpServerPage, route_add_button);
  gtk_widget_class_bind_template_child (widget_class, SpServerPage, add_user_button);
  gtk_widget_class_bind_template_child (widget_class, SpServerPage, import_regfile_button);
  gtk_widget_class_bind_template_child (widget_class, SpServerPage, import_routes_button);
  gtk_widget_class_bind_template_child (widget_class, SpServerPage, tls_group);
  gtk_widget_class_bind_template_child (widget_class, SpServerPage, tls_address_label);
  gtk_widget_class_bind_template_child (widget_class, SpServerPage, tls_fingerprint_label);
  gtk_widget_class_bind_template_child (widget_class, SpServerPage, tls_copy_button);
}

/* One name per control, as a screen reader should say it (see a11y.h):
 * the same strings as the template's, without the labels GTK adds. */
static void
name_controls (SpServerPage *self)
{
  sp_a11y_set_name (GTK_WIDGET (self->server_switch), _ ("Run the SIP server"));
  sp_a11y_set_name (GTK_WIDGET (self->server_address_row), _ ("Server address and port"));
  sp_a11y_set_name (self->add_user_button, _ ("Add user"));
  sp_a11y_set_name (GTK_WIDGET (self->route_entry), _ ("New route rule"));
  sp_a11y_set_name (GTK_WIDGET (self->web_console_address_row), _ ("Web console address and port"));
  sp_a11y_set_name (GTK_WIDGET (self->web_console_password_row), _ ("Web console admin password"));
  sp_a11y_set_name (self->import_regfile_button, _ ("Import users from regfile.conf"));
  sp_a11y_set_name (self->import_routes_button, _ ("Import routes from regexroute.conf"));
  sp_a11y_set_name (self->tls_copy_button, _ ("Copy the certificate fingerprint"));
}

static void
sp_server_page_init (SpServerPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  name_controls (self);
  gtk_list_box_set_placeholder (
      self->users_list,
      sp_page_placeholder_label (_ ("No users yet. Add one, or import Yate’s regfile.conf.")));
  gtk_list_box_set_placeholder (self->registrations_list,
                                sp_page_placeholder_label (_ ("No phone is registered.")));
  gtk_list_box_set_placeholder (self->server_calls_list,
                                sp_page_placeholder_label (_ ("No calls through the server now.")));
  gtk_list_box_set_placeholder (
      self->routes_list, sp_page_placeholder_label (_ ("No routes: a number reaches the user of "
                                                       "the same number or name.")));
  g_signal_connect_swapped (self->route_entry, "apply", G_CALLBACK (on_route_entry_apply), self);
  g_signal_connect_swapped (self->route_add_button, "clicked", G_CALLBACK (on_route_entry_apply),
                            self);
  g_signal_connect_swapped (self->route_entry, "changed", G_CALLBACK (on_route_entry_changed),
                            self);
  g_signal_connect_swapped (self->tls_copy_button, "clicked", G_CALLBACK (on_tls_copy_clicked),
                            self);
}

SpServerPage *
sp_server_page_new (SpApplication *app)
{
  SpServerPage *self = g_object_new (SP_TYPE_SERVER_PAGE, NULL);

  self->app = app;
  self->server = sp_application_get_server (app);
  setup_settings (self);
  bind_lists (self);
  return self;
}
