#define G_LOG_DOMAIN "softphone-app"

#include "config.h"

#include "accounts-page.h"

#include <glib/gi18n.h>

#include "a11y.h"
#include "page-util.h"

struct _SpAccountsPage
{
  AdwBin parent_instance;

  GtkListBox *accounts_list;
  GtkWidget *new_account_button;
};

G_DEFINE_FINAL_TYPE (SpAccountsPage, sp_accounts_page, ADW_TYPE_BIN)

static void
update_account_row (SpAccount *account, GParamSpec *pspec, AdwActionRow *row)
{
  g_autofree char *status = sp_application_describe_account_status (account);
  const char *name = sp_account_get_name (account);
  gboolean failed = sp_account_get_enabled (account) &&
                    sp_account_get_status (account) == SP_ACCOUNT_STATUS_FAILED;
  GtkImage *icon = g_object_get_data (G_OBJECT (row), "status-icon");
  GtkSwitch *sw = g_object_get_data (G_OBJECT (row), "enable-switch");

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), name != NULL ? name : "");
  adw_action_row_set_subtitle (row, status);
  gtk_image_set_from_icon_name (
      icon, sp_account_get_status (account) == SP_ACCOUNT_STATUS_REGISTERED ? "emblem-ok-symbolic"
            : failed ? "dialog-error-symbolic"
                     : "network-idle-symbolic");
  if (failed)
    gtk_widget_add_css_class (GTK_WIDGET (icon), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (icon), "error");
  /* An enable the application refused puts the account back. */
  if (gtk_switch_get_active (sw) != sp_account_get_enabled (account))
    gtk_switch_set_active (sw, sp_account_get_enabled (account));
}

/* The switch is a view of the account's "enabled": a flip by the user
 * is a command, win.enable-account, which saves it or puts it back. */
static void
on_enabled_toggled (GtkSwitch *sw, GParamSpec *pspec, SpAccount *account)
{
  gboolean active = gtk_switch_get_active (sw);

  if (active == sp_account_get_enabled (account))
    return;
  gtk_widget_activate_action (GTK_WIDGET (sw), "win.enable-account", "(sb)",
                              sp_account_get_id (account), active);
  if (gtk_switch_get_active (sw) != sp_account_get_enabled (account))
    gtk_switch_set_active (sw, sp_account_get_enabled (account));
}

static GtkWidget *
create_account_row (gpointer item, gpointer user_data)
{
  SpAccount *account = SP_ACCOUNT (item);
  const char *name = sp_account_get_name (account);
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *icon = gtk_image_new ();
  GtkWidget *sw = gtk_switch_new ();
  g_autofree char *edit_label = g_strdup_printf (_ ("Edit account %s"), name);
  g_autofree char *delete_label = g_strdup_printf (_ ("Delete account %s"), name);
  g_autofree char *enable_label = g_strdup_printf (_ ("Enable account %s"), name);
  GVariant *id = g_variant_new_string (sp_account_get_id (account));
  GtkWidget *edit = sp_page_action_button ("document-edit-symbolic", _ ("Edit"), edit_label,
                                           "win.edit-account", id);
  GtkWidget *delete = sp_page_action_button ("user-trash-symbolic", _ ("Delete"), delete_label,
                                             "win.delete-account", id);

  g_object_set_data (G_OBJECT (row), "status-icon", icon);
  g_object_set_data (G_OBJECT (row), "enable-switch", sw);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
  gtk_widget_set_valign (sw, GTK_ALIGN_CENTER);
  gtk_switch_set_active (GTK_SWITCH (sw), sp_account_get_enabled (account));
  gtk_accessible_update_property (GTK_ACCESSIBLE (sw), GTK_ACCESSIBLE_PROPERTY_LABEL, enable_label,
                                  -1);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), sw);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), edit);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), delete);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), edit);
  /* The row labels its activatable widget too: keep the one name. */
  sp_a11y_set_name (edit, edit_label);

  g_signal_connect_object (sw, "notify::active", G_CALLBACK (on_enabled_toggled), account, 0);
  g_signal_connect_object (account, "notify", G_CALLBACK (update_account_row), row, 0);
  update_account_row (account, NULL, ADW_ACTION_ROW (row));
  return row;
}

static void
sp_accounts_page_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), SP_TYPE_ACCOUNTS_PAGE);
  G_OBJECT_CLASS (sp_accounts_page_parent_class)->dispose (object);
}

static void
sp_accounts_page_class_init (SpAccountsPageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = sp_accounts_page_dispose;
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/net/example/softphone/ui/accounts-page.ui");
  gtk_widget_class_bind_template_child (widget_class, SpAccountsPage, accounts_list);
  gtk_widget_class_bind_template_child (widget_class, SpAccountsPage, new_account_button);
}

static void
sp_accounts_page_init (SpAccountsPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  sp_a11y_set_name (self->new_account_button, _ ("New account"));
  gtk_list_box_set_placeholder (
      self->accounts_list,
      sp_page_placeholder_label (_ ("No accounts. Add one to register with a SIP server; calls "
                                    "straight to an IP address need none.")));
}

SpAccountsPage *
sp_accounts_page_new (SpApplication *app)
{
  SpAccountsPage *self = g_object_new (SP_TYPE_ACCOUNTS_PAGE, NULL);

  gtk_list_box_bind_model (self->accounts_list, sp_application_get_accounts (app),
                           create_account_row, NULL, NULL);
  return self;
}
