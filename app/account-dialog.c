#define G_LOG_DOMAIN "softphone-app"

#include "config.h"

#include "account-dialog.h"

#include "a11y.h"

#include <glib/gi18n.h>
#include <string.h>

#include "node/node.h"

struct _SpAccountDialog
{
  AdwWindow parent_instance;

  SpApplication *app; /* unowned: outlives its windows */
  SpAccount *account; /* owned; NULL for a new one */

  AdwEntryRow *name_row;
  AdwEntryRow *username_row;
  AdwEntryRow *password_row;
  AdwEntryRow *server_row;
  AdwExpanderRow *advanced_row;
  AdwEntryRow *port_row;
  AdwComboRow *transport_row;
  AdwComboRow *ptime_row;      /* Automatic, 10, 20, 30, 40 ms */
  AdwComboRow *encryption_row; /* SpMediaEncryption's order: preferred, required, off */
  AdwEntryRow *display_name_row;
  AdwEntryRow *proxy_row;
  GtkSwitch *md5_switch;
  GtkLabel *main_error;
  GtkLabel *advanced_error;
  /* Servers found on the LAN (DNS-SD) */
  GtkWidget *found_group;
  GtkListBox *found_list;
  SpDnssdBrowser *found;  /* the node's */
  SpDnssdService *chosen; /* owned: the found server last filled in */
};

G_DEFINE_FINAL_TYPE (SpAccountDialog, sp_account_dialog, ADW_TYPE_WINDOW)

static const char *
row_text (AdwEntryRow *row)
{
  return gtk_editable_get_text (GTK_EDITABLE (row));
}

static char *
row_text_stripped (AdwEntryRow *row)
{
  return g_strstrip (g_strdup (row_text (row)));
}

static void
show_error (GtkLabel *label, AdwEntryRow *row, const char *message)
{
  gtk_label_set_label (label, message);
  gtk_widget_set_visible (GTK_WIDGET (label), TRUE);
  gtk_widget_add_css_class (GTK_WIDGET (row), "error");
  gtk_widget_grab_focus (GTK_WIDGET (row));
}

static void
clear_errors (SpAccountDialog *self)
{
  AdwEntryRow *rows[] = { self->name_row,   self->username_row, self->password_row,
                          self->server_row, self->port_row,     self->display_name_row,
                          self->proxy_row };

  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    gtk_widget_remove_css_class (GTK_WIDGET (rows[i]), "error");
  gtk_widget_set_visible (GTK_WIDGET (self->main_error), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->advanced_error), FALSE);
}

/* The port field: empty (default) or 1..65535. */
static gboolean
parse_port (const char *text, guint *port)
{
  guint64 value;

  *port = 0;
  if (text[0] == '\0')
    return TRUE;
  if (!g_ascii_string_to_unsigned (text, 10, 1, 65535, &value, NULL))
    return FALSE;
  *port = (guint) value;
  return TRUE;
}

static char *
join_host_port (const char *host, guint port)
{
  gboolean v6 = strchr (host, ':') != NULL && host[0] != '[';

  if (port == 0)
    return v6 ? g_strdup_printf ("[%s]", host) : g_strdup (host);
  return v6 ? g_strdup_printf ("[%s]:%u", host, port) : g_strdup_printf ("%s:%u", host, port);
}

/* Checks every field; shows the first problem of each group next to it.
 * On success returns the server as "host[:port]". */
static char *
validate (SpAccountDialog *self)
{
  g_autofree char *name = row_text_stripped (self->name_row);
  g_autofree char *server = row_text_stripped (self->server_row);
  g_autofree char *port_text = row_text_stripped (self->port_row);
  g_autofree char *proxy = row_text_stripped (self->proxy_row);
  g_autofree char *full_server = NULL;
  g_autoptr (GError) error = NULL;
  gboolean ok = TRUE;
  guint port;

  clear_errors (self);
  if (!parse_port (port_text, &port))
    {
      adw_expander_row_set_expanded (self->advanced_row, TRUE);
      show_error (self->advanced_error, self->port_row,
                  _ ("The port must be a number from 1 to 65535, or empty for 5060."));
      ok = FALSE;
    }
  else if (proxy[0] != '\0' &&
           !sp_account_check_fields ("localhost", NULL, proxy, SP_ACCOUNT_DEFAULT_INTERVAL, &error))
    {
      adw_expander_row_set_expanded (self->advanced_row, TRUE);
      show_error (self->advanced_error, self->proxy_row, error->message);
      g_clear_error (&error);
      ok = FALSE;
    }

  if (name[0] == '\0')
    {
      show_error (self->main_error, self->name_row, _ ("Give the account a name, such as Office."));
      return NULL;
    }
  if (server[0] == '\0')
    {
      show_error (self->main_error, self->server_row,
                  _ ("Type the SIP server’s address, or the other computer’s IP address for "
                     "direct calls."));
      return NULL;
    }
  full_server = join_host_port (server, port);
  if (!sp_account_check_fields (full_server, NULL, NULL, SP_ACCOUNT_DEFAULT_INTERVAL, &error))
    {
      show_error (self->main_error, self->server_row, error->message);
      return NULL;
    }
  return ok ? g_steal_pointer (&full_server) : NULL;
}

typedef struct
{
  char *name, *username, *password, *server, *display_name, *proxy;
  SpAccountTransport transport;
  gboolean allow_md5_without_qop;
  guint ptime;
  SpMediaEncryption encryption;
} Fields;

static void
fields_clear (Fields *f)
{
  g_free (f->name);
  g_free (f->username);
  g_free (f->password);
  g_free (f->server);
  g_free (f->display_name);
  g_free (f->proxy);
}

static void
fields_from_account (Fields *f, SpAccount *a)
{
  f->name = g_strdup (sp_account_get_name (a));
  f->username = g_strdup (sp_account_get_username (a));
  f->password = g_strdup (sp_account_get_password (a));
  f->server = g_strdup (sp_account_get_server (a));
  f->display_name = g_strdup (sp_account_get_display_name (a));
  f->proxy = g_strdup (sp_account_get_outbound_proxy (a));
  f->transport = sp_account_get_transport (a);
  f->allow_md5_without_qop = sp_account_get_allow_md5_without_qop (a);
  f->ptime = sp_account_get_ptime (a);
  f->encryption = sp_account_get_media_encryption (a);
}

static void
fields_to_account (const Fields *f, SpAccount *a)
{
  sp_account_set_name (a, f->name);
  sp_account_set_username (a, f->username);
  sp_account_set_password (a, f->password);
  sp_account_set_server (a, f->server);
  sp_account_set_display_name (a, f->display_name);
  sp_account_set_outbound_proxy (a, f->proxy);
  sp_account_set_transport (a, f->transport);
  sp_account_set_allow_md5_without_qop (a, f->allow_md5_without_qop);
  sp_account_set_ptime (a, f->ptime);
  sp_account_set_media_encryption (a, f->encryption);
}

static void
on_ok (GtkWidget *widget, const char *action_name, GVariant *param)
{
  SpAccountDialog *self = SP_ACCOUNT_DIALOG (widget);
  g_autofree char *server = validate (self);
  g_autoptr (SpAccount) account = NULL;
  g_autoptr (GError) error = NULL;
  Fields old = { 0 };
  Fields typed = { 0 };

  if (server == NULL)
    return;

  typed.name = row_text_stripped (self->name_row);
  typed.username = row_text_stripped (self->username_row);
  /* Passwords may start or end with spaces: keep them as typed. */
  typed.password = g_strdup (row_text (self->password_row));
  typed.server = g_steal_pointer (&server);
  typed.display_name = row_text_stripped (self->display_name_row);
  typed.proxy = row_text_stripped (self->proxy_row);
  /* The rows are in the enum's order: UDP, TCP, TLS. */
  typed.transport =
      MIN (adw_combo_row_get_selected (self->transport_row), (guint) SP_ACCOUNT_TRANSPORT_TLS);
  typed.allow_md5_without_qop = gtk_switch_get_active (self->md5_switch);
  /* Row i > 0 is i * 10 ms. */
  typed.ptime = MIN (adw_combo_row_get_selected (self->ptime_row), 4) * 10;
  typed.encryption = (SpMediaEncryption) MIN (adw_combo_row_get_selected (self->encryption_row),
                                              (guint) SP_MEDIA_ENCRYPTION_OFF);

  /* A found server's advertised certificate goes with it, while the
   * address is still the one filled in. */
  if (self->chosen != NULL && typed.transport == SP_ACCOUNT_TRANSPORT_TLS &&
      g_strcmp0 (row_text (self->server_row), sp_dnssd_service_get_address (self->chosen)) == 0 &&
      !sp_node_pin_found_server (sp_application_get_node (self->app), self->chosen, &error))
    {
      gtk_label_set_label (self->main_error, error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->main_error), TRUE);
      fields_clear (&typed);
      return;
    }
  account = self->account != NULL ? g_object_ref (self->account) : sp_account_new (NULL);
  fields_from_account (&old, account);
  fields_to_account (&typed, account);
  if (!sp_application_save_account (self->app, account, &error))
    {
      /* Nothing may change when the accounts cannot be written. */
      fields_to_account (&old, account);
      gtk_label_set_label (self->main_error, error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->main_error), TRUE);
    }
  else
    gtk_window_close (GTK_WINDOW (self));
  fields_clear (&old);
  fields_clear (&typed);
}

static void
on_row_changed (GtkEditable *row, SpAccountDialog *self)
{
  gtk_widget_remove_css_class (GTK_WIDGET (row), "error");
}

static void
on_entry_activated (AdwEntryRow *row, SpAccountDialog *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "dialog.ok", NULL);
}

/* ---- servers found on the LAN ---- */

static char *
found_title (SpDnssdService *service)
{
  /* Translators: a server found on the network: its name, its address
   * ("Office server at 192.168.1.50"). */
  return g_strdup_printf (_ ("%s at %s"), sp_dnssd_service_get_name (service),
                          sp_dnssd_service_get_address (service));
}

static void
on_use_found (GtkButton *button, SpAccountDialog *self)
{
  SpDnssdService *service = g_object_get_data (G_OBJECT (button), "sp-service");
  guint16 port = sp_dnssd_service_get_port (service);
  guint16 tls_port = 0;
  gboolean tls = sp_node_found_server_tls (service, &tls_port);
  g_autofree char *port_text = tls            ? g_strdup_printf ("%u", tls_port)
                               : port != 5060 ? g_strdup_printf ("%u", port)
                                              : g_strdup ("");

  g_set_object (&self->chosen, service);
  gtk_editable_set_text (GTK_EDITABLE (self->server_row), sp_dnssd_service_get_address (service));
  gtk_editable_set_text (GTK_EDITABLE (self->port_row), port_text);
  /* A server that advertises TLS is used over TLS (its certificate is
   * pinned on OK), as the headless use-server does: nothing to choose. */
  if (tls)
    adw_combo_row_set_selected (self->transport_row, (guint) SP_ACCOUNT_TRANSPORT_TLS);
  if (row_text (self->name_row)[0] == '\0')
    gtk_editable_set_text (GTK_EDITABLE (self->name_row), sp_dnssd_service_get_name (service));
  gtk_widget_grab_focus (GTK_WIDGET (
      row_text (self->username_row)[0] == '\0' ? self->username_row : self->password_row));
}

static GtkWidget *
found_row_new (gpointer item, gpointer data)
{
  SpDnssdService *service = item;
  SpAccountDialog *self = data;
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *button = gtk_button_new_with_label (_ ("Use"));
  g_autofree char *title = found_title (service);
  g_autofree char *name = NULL;
  const char *realm = sp_dnssd_service_get_txt (service, "realm");
  g_autofree char *subtitle = NULL;

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  /* Names come from strangers: shown as text, never as markup. */
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  subtitle =
      sp_dnssd_service_get_txt (service, "fp") != NULL
          /* Translators: %s is a SIP realm ("office"). */
          ? g_strdup_printf (_ ("Realm %s · advertises its TLS certificate"), realm ? realm : "—")
          : g_strdup_printf (_ ("Realm %s"), realm ? realm : "—");
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  /* Translators: %s is "Office server at 192.168.1.50". */
  name = g_strdup_printf (_ ("Use %s"), title);
  g_object_set_data_full (G_OBJECT (button), "sp-service", g_object_ref (service), g_object_unref);
  g_signal_connect (button, "clicked", G_CALLBACK (on_use_found), self);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), button);
  /* After the row: it would lend the button its title too (a11y.h). */
  sp_a11y_set_name (button, name);
  return row;
}

static void
update_found_group (SpAccountDialog *self)
{
  gtk_widget_set_visible (self->found_group,
                          g_list_model_get_n_items (G_LIST_MODEL (self->found)) > 0);
}

static void
setup_found (SpAccountDialog *self)
{
  self->found = sp_node_browse_servers (sp_application_get_node (self->app));
  gtk_list_box_bind_model (self->found_list, G_LIST_MODEL (self->found), found_row_new, self, NULL);
  g_signal_connect_object (self->found, "items-changed", G_CALLBACK (update_found_group), self,
                           G_CONNECT_SWAPPED);
  update_found_group (self);
}

static void
load_account (SpAccountDialog *self, SpAccount *account)
{
  g_autofree char *host = NULL;
  guint16 port = 0;
  const char *server = sp_account_get_server (account);

  gtk_window_set_title (GTK_WINDOW (self), _ ("Edit Account"));
  gtk_editable_set_text (GTK_EDITABLE (self->name_row), sp_account_get_name (account) ?: "");
  gtk_editable_set_text (GTK_EDITABLE (self->username_row),
                         sp_account_get_username (account) ?: "");
  gtk_editable_set_text (GTK_EDITABLE (self->password_row),
                         sp_account_get_password (account) ?: "");
  if (sp_account_get_server_host_port (account, &host, &port))
    {
      g_autofree char *port_text = port != 0 ? g_strdup_printf ("%u", port) : g_strdup ("");
      gtk_editable_set_text (GTK_EDITABLE (self->server_row), host);
      gtk_editable_set_text (GTK_EDITABLE (self->port_row), port_text);
    }
  else
    gtk_editable_set_text (GTK_EDITABLE (self->server_row), server ?: "");
  gtk_editable_set_text (GTK_EDITABLE (self->display_name_row),
                         sp_account_get_display_name (account) ?: "");
  gtk_editable_set_text (GTK_EDITABLE (self->proxy_row),
                         sp_account_get_outbound_proxy (account) ?: "");
  adw_combo_row_set_selected (self->transport_row, (guint) sp_account_get_transport (account));
  gtk_switch_set_active (self->md5_switch, sp_account_get_allow_md5_without_qop (account));
  adw_combo_row_set_selected (self->ptime_row, sp_account_get_ptime (account) / 10);
  adw_combo_row_set_selected (self->encryption_row,
                              (guint) sp_account_get_media_encryption (account));
}

static void
sp_account_dialog_dispose (GObject *object)
{
  SpAccountDialog *self = SP_ACCOUNT_DIALOG (object);

  if (self->found_list != NULL)
    gtk_list_box_bind_model (self->found_list, NULL, NULL, NULL, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), SP_TYPE_ACCOUNT_DIALOG);
  g_clear_object (&self->account);
  g_clear_object (&self->chosen);
  G_OBJECT_CLASS (sp_account_dialog_parent_class)->dispose (object);
}

static void
sp_account_dialog_class_init (SpAccountDialogClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = sp_account_dialog_dispose;
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/net/example/softphone/ui/account-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, SpAccountDialog, name_row);
  gtk_widget_class_bind_template_child (widget_class, SpAccountDialog, username_row);
  gtk_widget_class_bind_template_child (widget_class, SpAccountDialog, password_row);
  gtk_widget_class_bind_template_child (widget_class, SpAccountDialog, server_row);
  gtk_widget_class_bind_template_child (widget_class, SpAccountDialog, advanced_row);
  gtk_widget_class_bind_template_child (widget_class, SpAccountDialog, port_row);
  gtk_widget_class_bind_template_child (widget_class, SpAccountDialog, transport_row);
  gtk_widget_class_bind_template_child (widget_class, SpAccountDialog, ptime_row);
  gtk_widget_class_bind_template_child (widget_class, SpAccountDialog, encryption_row);
  gtk_widget_class_bind_template_child (widget_class, SpAccountDialog, display_name_row);
  gtk_widget_class_bind_template_child (widget_class, SpAccountDialog, proxy_row);
  gtk_widget_class_bind_template_child (widget_class, SpAccountDialog, md5_switch);
  gtk_widget_class_bind_template_child (widget_class, SpAccountDialog, main_error);
  gtk_widget_class_bind_template_child (widget_class, SpAccountDialog, advanced_error);
  gtk_widget_class_bind_template_child (widget_class, SpAccountDialog, found_group);
  gtk_widget_class_bind_template_child (widget_class, SpAccountDialog, found_list);
  gtk_widget_class_install_action (widget_class, "dialog.ok", NULL, on_ok);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
sp_account_dialog_init (SpAccountDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  sp_a11y_clean_tree (GTK_WIDGET (self));

  AdwEntryRow *rows[] = { self->name_row,   self->username_row, self->password_row,
                          self->server_row, self->port_row,     self->display_name_row,
                          self->proxy_row };
  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_signal_connect (rows[i], "changed", G_CALLBACK (on_row_changed), self);
      g_signal_connect (rows[i], "entry-activated", G_CALLBACK (on_entry_activated), self);
    }
}

SpAccountDialog *
sp_account_dialog_new (GtkWindow *parent, SpApplication *app, SpAccount *account)
{
  SpAccountDialog *self =
      g_object_new (SP_TYPE_ACCOUNT_DIALOG, "transient-for", parent, "modal", TRUE, NULL);

  self->app = app;
  setup_found (self);
  if (account != NULL)
    {
      self->account = g_object_ref (account);
      load_account (self, account);
    }
  else
    gtk_window_set_title (GTK_WINDOW (self), _ ("New Account"));
  return self;
}
