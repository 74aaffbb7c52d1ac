#define G_LOG_DOMAIN "softphone-app"

#include "config.h"

#include "contacts-list.h"

#include <glib/gi18n.h>

#include "ua/account.h"
#include "ua/contacts.h"
#include "ua/phone.h"

struct _SpContactsList
{
  AdwBin parent_instance;

  SpApplication *app; /* unowned: the application outlives its windows */
  SpPhone *phone;     /* unowned, the application's */
  AdwPreferencesGroup *group;
  GtkListBox *list;
  gulong registration_handler;
  gulong items_handler;
};

G_DEFINE_FINAL_TYPE (SpContactsList, sp_contacts_list, ADW_TYPE_BIN)

/* The dot before a name: a colour per state, and the state in words
 * beside it (colour is never the only sign). */
static const char *
state_icon (SpContactState state)
{
  switch (state)
    {
      case SP_CONTACT_STATE_AVAILABLE:
        return "emblem-ok-symbolic";
      case SP_CONTACT_STATE_RINGING:
        return "call-incoming-symbolic";
      case SP_CONTACT_STATE_IN_CALL:
        return "call-start-symbolic";
      case SP_CONTACT_STATE_DND:
        return "action-unavailable-symbolic";
      case SP_CONTACT_STATE_OFFLINE:
      case SP_CONTACT_STATE_UNKNOWN:
      default:
        return "user-offline-symbolic";
    }
}

static void
update_row (SpContact *contact, GParamSpec *pspec, GtkWidget *row)
{
  SpContactState state = sp_contact_get_state (contact);
  GtkWidget *pickup = g_object_get_data (G_OBJECT (row), "sp-pickup");
  GtkWidget *icon = g_object_get_data (G_OBJECT (row), "sp-icon");
  g_autofree char *state_text = NULL;

  g_object_get (contact, "state-text", &state_text, NULL);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), state_text);
  gtk_image_set_from_icon_name (GTK_IMAGE (icon), state_icon (state));
  gtk_widget_set_visible (pickup, state == SP_CONTACT_STATE_RINGING);
}

static GtkWidget *
create_row (gpointer item, gpointer user_data)
{
  SpContact *contact = item;
  const char *number = sp_contact_get_number (contact);
  g_autofree char *pickup_target = g_strdup_printf ("**%s", number);
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *icon = gtk_image_new ();
  GtkWidget *call = gtk_button_new_from_icon_name ("call-start-symbolic");
  GtkWidget *pickup = gtk_button_new_with_label (_ ("Pick up"));
  g_autofree char *call_label = g_strdup_printf (_ ("Call %s"), sp_contact_get_name (contact));
  g_autofree char *pickup_label =
      g_strdup_printf (_ ("Pick up the call ringing for %s"), sp_contact_get_name (contact));

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), sp_contact_get_name (contact));
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
  gtk_widget_set_valign (call, GTK_ALIGN_CENTER);
  gtk_widget_set_valign (pickup, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (call, "flat");
  gtk_widget_add_css_class (pickup, "suggested-action");
  gtk_widget_set_tooltip_text (call, call_label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (call), GTK_ACCESSIBLE_PROPERTY_LABEL, call_label,
                                  -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (pickup), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  pickup_label, -1);
  /* The same doors as the keyboard and scripts: win.dial. */
  gtk_actionable_set_action_name (GTK_ACTIONABLE (call), "win.dial");
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (call), g_variant_new_string (number));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (pickup), "win.dial");
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (pickup),
                                          g_variant_new_string (pickup_target));
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), pickup);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), call);
  g_object_set_data (G_OBJECT (row), "sp-pickup", pickup);
  g_object_set_data (G_OBJECT (row), "sp-icon", icon);
  g_signal_connect_object (contact, "notify::state", G_CALLBACK (update_row), row, 0);
  update_row (contact, NULL, row);
  return row;
}

static void
update_visible (SpContactsList *self)
{
  GListModel *contacts = sp_phone_get_contacts (self->phone);

  gtk_widget_set_visible (GTK_WIDGET (self->group),
                          contacts != NULL && g_list_model_get_n_items (contacts) > 0);
}

static void
on_items_changed (GListModel *model, guint position, guint removed, guint added,
                  SpContactsList *self)
{
  update_visible (self);
}

/* Watch the directory of the first account that registers. */
static void
on_registration_changed (SpPhone *phone, SpAccount *account, guint code, SpContactsList *self)
{
  GListModel *contacts = sp_phone_get_contacts (phone);

  if (contacts == NULL || sp_contact_list_is_watching (SP_CONTACT_LIST (contacts)) ||
      sp_account_get_status (account) != SP_ACCOUNT_STATUS_REGISTERED)
    return;
  if (!sp_phone_watch_contacts (phone, account, NULL))
    return;
  gtk_list_box_bind_model (self->list, contacts, create_row, self, NULL);
  if (self->items_handler == 0)
    self->items_handler =
        g_signal_connect (contacts, "items-changed", G_CALLBACK (on_items_changed), self);
  update_visible (self);
}

void
sp_contacts_list_set_application (SpContactsList *self, SpApplication *app)
{
  GListModel *contacts;

  g_return_if_fail (SP_IS_CONTACTS_LIST (self));
  self->app = app;
  self->phone = sp_application_get_phone (app);
  self->registration_handler = g_signal_connect (self->phone, "registration-changed",
                                                 G_CALLBACK (on_registration_changed), self);
  contacts = sp_phone_get_contacts (self->phone);
  if (contacts != NULL && sp_contact_list_is_watching (SP_CONTACT_LIST (contacts)))
    {
      gtk_list_box_bind_model (self->list, contacts, create_row, self, NULL);
      self->items_handler =
          g_signal_connect (contacts, "items-changed", G_CALLBACK (on_items_changed), self);
    }
  else
    {
      /* An account that registered before this page was made. */
      GListModel *accounts = sp_phone_get_accounts (self->phone);
      for (guint i = 0; i < g_list_model_get_n_items (accounts); i++)
        {
          g_autoptr (SpAccount) a = g_list_model_get_item (accounts, i);
          on_registration_changed (self->phone, a, 200, self);
        }
    }
  update_visible (self);
}

static void
sp_contacts_list_dispose (GObject *object)
{
  SpContactsList *self = SP_CONTACTS_LIST (object);

  if (self->phone != NULL)
    {
      GListModel *contacts = sp_phone_get_contacts (self->phone);
      g_clear_signal_handler (&self->registration_handler, self->phone);
      if (contacts != NULL)
        g_clear_signal_handler (&self->items_handler, contacts);
      self->phone = NULL;
    }
  G_OBJECT_CLASS (sp_contacts_list_parent_class)->dispose (object);
}

static void
sp_contacts_list_class_init (SpContactsListClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = sp_contacts_list_dispose;
}

static void
sp_contacts_list_init (SpContactsList *self)
{
  self->group = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  adw_preferences_group_set_title (self->group, _ ("Colleagues"));
  self->list = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_list_box_set_selection_mode (self->list, GTK_SELECTION_NONE);
  gtk_widget_add_css_class (GTK_WIDGET (self->list), "boxed-list");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->list), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Colleagues"), -1);
  adw_preferences_group_add (self->group, GTK_WIDGET (self->list));
  gtk_widget_set_visible (GTK_WIDGET (self->group), FALSE);
  gtk_widget_set_margin_top (GTK_WIDGET (self->group), 12);
  adw_bin_set_child (ADW_BIN (self), GTK_WIDGET (self->group));
}
