#define G_LOG_DOMAIN "softphone-app"

#include "config.h"

#include "calls-page.h"

#include <glib/gi18n.h>

#include "a11y.h"
#include "call-row.h"
#include "contacts-list.h"
#include "node/node.h"
#include "ua/target.h"
#include "window.h"

struct _SpCallsPage
{
  AdwBin parent_instance;

  SpApplication *app; /* unowned: the application outlives its windows */
  guint n_accounts;   /* to pick the first account when one appears */

  AdwComboRow *account_row;
  GtkEntry *target_entry;
  GtkGrid *dialpad_grid;
  GtkStack *calls_stack;
  GtkListView *calls_view;
  GtkWidget *port_notice;
  GtkLabel *port_notice_label;
  GtkWidget *call_button;
  SpContactsList *contacts_list;
  GtkWidget *nearby_group; /* phones found on the LAN (DNS-SD) */
  GListModel *nearby;      /* owned: the node's browser without ourselves */
};

G_DEFINE_FINAL_TYPE (SpCallsPage, sp_calls_page, ADW_TYPE_BIN)

/* The account the user picked, or NULL for a direct call. */
static SpAccount *
get_chosen_account (SpCallsPage *self)
{
  gpointer item = adw_combo_row_get_selected_item (self->account_row);

  return SP_IS_ACCOUNT (item) ? g_object_ref (SP_ACCOUNT (item)) : NULL;
}

void
sp_calls_page_place_call (SpCallsPage *self)
{
  g_autoptr (SpAccount) account = NULL;
  g_autoptr (SpTarget) target = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *trimmed = NULL;
  SpCall *call;

  g_return_if_fail (SP_IS_CALLS_PAGE (self));
  account = get_chosen_account (self);
  trimmed = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->target_entry))));
  if (trimmed[0] == '\0')
    {
      sp_window_toast (GTK_WIDGET (self),
                       _ ("Type a number, a SIP address or an IP address to call."));
      gtk_widget_grab_focus (GTK_WIDGET (self->target_entry));
      return;
    }
  /* Check the text first, so a typo marks the entry rather than
   * only raising a message. */
  target = sp_target_parse (trimmed, account, &error);
  if (target == NULL)
    {
      gtk_widget_add_css_class (GTK_WIDGET (self->target_entry), "error");
      sp_window_toast (GTK_WIDGET (self), error->message);
      return;
    }
  /* Borrowed: the phone's call list holds the call. */
  call = sp_phone_call (sp_application_get_phone (self->app), trimmed, account, &error);
  if (call == NULL)
    {
      sp_window_toast (GTK_WIDGET (self), error->message);
      return;
    }
  gtk_editable_set_text (GTK_EDITABLE (self->target_entry), "");
}

void
sp_calls_page_set_target (SpCallsPage *self, const char *target)
{
  g_return_if_fail (SP_IS_CALLS_PAGE (self));
  gtk_editable_set_text (GTK_EDITABLE (self->target_entry), target);
}

void
sp_calls_page_choose_direct (SpCallsPage *self)
{
  g_return_if_fail (SP_IS_CALLS_PAGE (self));
  adw_combo_row_set_selected (self->account_row, 0);
}

void
sp_calls_page_focus_entry (SpCallsPage *self)
{
  g_return_if_fail (SP_IS_CALLS_PAGE (self));
  gtk_widget_grab_focus (GTK_WIDGET (self->target_entry));
}

static void
on_entry_activate (SpCallsPage *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "win.call", NULL);
}

static void
on_target_changed (SpCallsPage *self)
{
  gtk_widget_remove_css_class (GTK_WIDGET (self->target_entry), "error");
}

/* Dial pad: a page action ("calls.digit('5')"), like every button. */

static void
on_digit (GtkWidget *widget, const char *name, GVariant *param)
{
  SpCallsPage *self = SP_CALLS_PAGE (widget);
  int position = -1;

  gtk_editable_insert_text (GTK_EDITABLE (self->target_entry), g_variant_get_string (param, NULL),
                            -1, &position);
  gtk_editable_set_position (GTK_EDITABLE (self->target_entry), -1);
}

static void
build_dialpad (SpCallsPage *self)
{
  static const char *const keys[][2] = {
    { "1", "" },     { "2", "ABC" }, { "3", "DEF" },  { "4", "GHI" },
    { "5", "JKL" },  { "6", "MNO" }, { "7", "PQRS" }, { "8", "TUV" },
    { "9", "WXYZ" }, { "*", "" },    { "0", "+" },    { "#", "" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      GtkWidget *button = gtk_button_new ();
      GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
      GtkWidget *digit = gtk_label_new (keys[i][0]);
      GtkWidget *letters = gtk_label_new (keys[i][1]);
      g_autofree char *a11y = g_strdup_printf (_ ("Dial %s"), keys[i][0]);

      gtk_widget_add_css_class (digit, "title-3");
      gtk_widget_add_css_class (letters, "caption");
      gtk_widget_add_css_class (letters, "dim-label");
      gtk_box_append (GTK_BOX (box), digit);
      gtk_box_append (GTK_BOX (box), letters);
      gtk_button_set_child (GTK_BUTTON (button), box);
      gtk_widget_set_size_request (button, 72, 52);
      gtk_widget_add_css_class (button, "dialpad-key");
      gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, a11y,
                                      -1);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "calls.digit");
      gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "s", keys[i][0]);
      gtk_grid_attach (self->dialpad_grid, button, (int) (i % 3), (int) (i / 3), 1, 1);
    }
}

/* The account chooser: "Direct (no account)" then the application's
 * accounts, one flattened model; a row's label follows its account's
 * name. */

static void
setup_account_item (GtkSignalListItemFactory *factory, GtkListItem *item)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_list_item_set_child (item, label);
}

static void
bind_account_item (GtkSignalListItemFactory *factory, GtkListItem *item)
{
  GObject *choice = gtk_list_item_get_item (item);
  GtkWidget *label = gtk_list_item_get_child (item);
  GBinding *binding;

  if (!SP_IS_ACCOUNT (choice))
    {
      gtk_label_set_text (GTK_LABEL (label),
                          gtk_string_object_get_string (GTK_STRING_OBJECT (choice)));
      return;
    }
  binding = g_object_bind_property (choice, "name", label, "label", G_BINDING_SYNC_CREATE);
  g_object_set_data (G_OBJECT (item), "binding", binding);
}

static void
unbind_account_item (GtkSignalListItemFactory *factory, GtkListItem *item)
{
  GBinding *binding = g_object_get_data (G_OBJECT (item), "binding");

  if (binding != NULL)
    g_binding_unbind (binding);
  g_object_set_data (G_OBJECT (item), "binding", NULL);
}

/* The text the combo row searches and reads out. */
static char *
describe_choice (GObject *choice)
{
  if (SP_IS_ACCOUNT (choice))
    return g_strdup (sp_account_get_name (SP_ACCOUNT (choice)));
  return g_strdup (gtk_string_object_get_string (GTK_STRING_OBJECT (choice)));
}

/* Keeps the choice; with no account to choose before (a fresh window,
 * or the first account just made), takes the first account. */
static void
on_accounts_changed (GListModel *accounts, guint position, guint removed, guint added,
                     SpCallsPage *self)
{
  guint n = g_list_model_get_n_items (accounts);

  if (self->n_accounts == 0 && n > 0)
    adw_combo_row_set_selected (self->account_row, 1);
  else if (adw_combo_row_get_selected (self->account_row) == GTK_INVALID_LIST_POSITION)
    adw_combo_row_set_selected (self->account_row, 0);
  self->n_accounts = n;
}

static void
setup_account_chooser (SpCallsPage *self)
{
  GListModel *accounts = sp_application_get_accounts (self->app);
  const char *direct[] = { _ ("Direct (no account)"), NULL };
  GListStore *parts = g_list_store_new (G_TYPE_LIST_MODEL);
  g_autoptr (GtkListItemFactory) factory = gtk_signal_list_item_factory_new ();
  g_autoptr (GtkStringList) head = gtk_string_list_new (direct);
  /* Not taken by the row: it keeps its own reference. */
  g_autoptr (GtkExpression) expression = gtk_cclosure_expression_new (
      G_TYPE_STRING, NULL, 0, NULL, G_CALLBACK (describe_choice), NULL, NULL);
  GtkFlattenListModel *choices;

  g_list_store_append (parts, head);
  g_list_store_append (parts, accounts);
  choices = gtk_flatten_list_model_new (G_LIST_MODEL (parts));
  g_signal_connect (factory, "setup", G_CALLBACK (setup_account_item), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_account_item), NULL);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_account_item), NULL);
  adw_combo_row_set_factory (self->account_row, factory);
  adw_combo_row_set_expression (self->account_row, expression);
  adw_combo_row_set_model (self->account_row, G_LIST_MODEL (choices));
  g_object_unref (choices);
  g_signal_connect_object (accounts, "items-changed", G_CALLBACK (on_accounts_changed), self, 0);
  self->n_accounts = 0;
  on_accounts_changed (accounts, 0, 0, 0, self);
}

/* The calls in progress. */

static void
update_calls_stack (SpCallsPage *self)
{
  GListModel *calls = sp_application_get_calls (self->app);

  gtk_stack_set_visible_child_name (self->calls_stack,
                                    g_list_model_get_n_items (calls) > 0 ? "list" : "empty");
}

static void
setup_call_item (GtkSignalListItemFactory *factory, GtkListItem *item, SpCallsPage *self)
{
  SpCallRow *row = sp_call_row_new ();

  gtk_list_item_set_child (item, GTK_WIDGET (row));
  gtk_list_item_set_activatable (item, FALSE);
}

static void
bind_call_item (GtkSignalListItemFactory *factory, GtkListItem *item, SpCallsPage *self)
{
  sp_call_row_set_call (SP_CALL_ROW (gtk_list_item_get_child (item)),
                        gtk_list_item_get_item (item));
}

static void
unbind_call_item (GtkSignalListItemFactory *factory, GtkListItem *item, SpCallsPage *self)
{
  sp_call_row_set_call (SP_CALL_ROW (gtk_list_item_get_child (item)), NULL);
}

static void
setup_calls (SpCallsPage *self)
{
  GListModel *calls = sp_application_get_calls (self->app);
  g_autoptr (GtkListItemFactory) factory = gtk_signal_list_item_factory_new ();
  g_autoptr (GtkNoSelection) selection = gtk_no_selection_new (g_object_ref (calls));

  g_signal_connect (factory, "setup", G_CALLBACK (setup_call_item), self);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_call_item), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_call_item), self);
  gtk_list_view_set_factory (self->calls_view, factory);
  gtk_list_view_set_model (self->calls_view, GTK_SELECTION_MODEL (selection));
  g_signal_connect_object (calls, "items-changed", G_CALLBACK (update_calls_stack), self,
                           G_CONNECT_SWAPPED);
  update_calls_stack (self);
}

/* When another program holds the SIP port, the phone took another one;
 * say what that means for people who call directly. */
static void
update_port_notice (SpCallsPage *self)
{
  guint16 wanted = sp_application_get_moved_from_port (self->app);
  g_autofree char *address = sp_application_dup_direct_address (self->app);
  g_autofree char *text = NULL;
  const char *host = NULL;
  guint16 port = 0;

  sp_phone_get_local_address (sp_application_get_phone (self->app), &host, &port);
  gtk_widget_set_visible (self->port_notice, wanted != 0 && address != NULL);
  if (wanted == 0 || address == NULL)
    return;
  /* Translators: the ports (5060, 5062), then the address to give out,
   * "192.168.1.5:5062". */
  text = g_strdup_printf (_ ("Another program uses port %u, so this computer takes calls on port "
                             "%u: people who call it directly must dial %s."),
                          wanted, port, address);
  gtk_label_set_text (self->port_notice_label, text);
}

/* ---- Nearby: phones found on the LAN, called by name ---- */

static void
on_call_nearby (GtkButton *button, SpCallsPage *self)
{
  SpDnssdService *service = g_object_get_data (G_OBJECT (button), "sp-service");
  g_autoptr (GError) error = NULL;

  if (sp_node_call_nearby (sp_application_get_node (self->app), service, &error) == NULL)
    sp_window_toast (GTK_WIDGET (self), error->message);
}

static GtkWidget *
nearby_row_new (gpointer item, gpointer data)
{
  SpDnssdService *service = item;
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *button = gtk_button_new_from_icon_name ("call-start-symbolic");
  g_autofree char *address = sp_dnssd_service_dup_host_port (service);
  /* Translators: %s is a colleague's name on the network. */
  g_autofree char *label = g_strdup_printf (_ ("Call %s"), sp_dnssd_service_get_name (service));

  /* Names come from strangers: shown as text, never as markup. */
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), sp_dnssd_service_get_name (service));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), address);
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (button, label);
  gtk_widget_add_css_class (button, "flat");
  g_object_set_data_full (G_OBJECT (button), "sp-service", g_object_ref (service), g_object_unref);
  g_signal_connect (button, "clicked", G_CALLBACK (on_call_nearby), data);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), button);
  /* After the row: it would lend the button its title too (a11y.h). */
  sp_a11y_set_name (button, label);
  return row;
}

static gboolean
not_own (gpointer item, gpointer data)
{
  return !sp_dnssd_service_is_own (item);
}

static void
update_nearby (SpCallsPage *self)
{
  gtk_widget_set_visible (self->nearby_group, g_list_model_get_n_items (self->nearby) > 0);
}

/* Under the dial pad; shown while some other phone is found. */
static void
setup_nearby (SpCallsPage *self)
{
  SpDnssdBrowser *browser = sp_node_browse_phones (sp_application_get_node (self->app));
  GtkWidget *list = gtk_list_box_new ();

  self->nearby = G_LIST_MODEL (
      gtk_filter_list_model_new (g_object_ref (G_LIST_MODEL (browser)),
                                 GTK_FILTER (gtk_custom_filter_new (not_own, NULL, NULL))));
  self->nearby_group = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (self->nearby_group), _ ("Nearby"));
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (self->nearby_group),
                                         _ ("Computers on this network you can call by name"));
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (list, "boxed-list");
  sp_a11y_set_name (list, _ ("Nearby computers"));
  gtk_list_box_bind_model (GTK_LIST_BOX (list), self->nearby, nearby_row_new, self, NULL);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (self->nearby_group), list);
  gtk_box_append (GTK_BOX (gtk_widget_get_parent (self->port_notice)), self->nearby_group);
  g_signal_connect_object (self->nearby, "items-changed", G_CALLBACK (update_nearby), self,
                           G_CONNECT_SWAPPED);
  update_nearby (self);
}

static void
sp_calls_page_dispose (GObject *object)
{
  SpCallsPage *self = SP_CALLS_PAGE (object);

  g_clear_object (&self->nearby);
  gtk_widget_dispose_template (GTK_WIDGET (object), SP_TYPE_CALLS_PAGE);
  G_OBJECT_CLASS (sp_calls_page_parent_class)->dispose (object);
}

static void
sp_calls_page_class_init (SpCallsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sp_calls_page_dispose;
  g_type_ensure (SP_TYPE_CONTACTS_LIST);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/net/example/softphone/ui/calls-page.ui");
  gtk_widget_class_bind_template_child (widget_class, SpCallsPage, account_row);
  gtk_widget_class_bind_template_child (widget_class, SpCallsPage, target_entry);
  gtk_widget_class_bind_template_child (widget_class, SpCallsPage, dialpad_grid);
  gtk_widget_class_bind_template_child (widget_class, SpCallsPage, calls_stack);
  gtk_widget_class_bind_template_child (widget_class, SpCallsPage, calls_view);
  gtk_widget_class_bind_template_child (widget_class, SpCallsPage, port_notice);
  gtk_widget_class_bind_template_child (widget_class, SpCallsPage, port_notice_label);
  gtk_widget_class_bind_template_child (widget_class, SpCallsPage, call_button);
  gtk_widget_class_bind_template_child (widget_class, SpCallsPage, contacts_list);
  gtk_widget_class_install_action (widget_class, "calls.digit", "s", on_digit);
}

static void
sp_calls_page_init (SpCallsPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  /* One name per control, as a screen reader should say it (a11y.h). */
  sp_a11y_set_name (GTK_WIDGET (self->account_row), _ ("Account to call from"));
  sp_a11y_set_name (self->call_button, _ ("Call"));
  /* Enter in the entry calls, through the window's action like the
   * button (not an accel: Enter keeps working on buttons and lists). */
  g_signal_connect_swapped (self->target_entry, "activate", G_CALLBACK (on_entry_activate), self);
  g_signal_connect_swapped (self->target_entry, "changed", G_CALLBACK (on_target_changed), self);
  build_dialpad (self);
}

SpCallsPage *
sp_calls_page_new (SpApplication *app)
{
  SpCallsPage *self = g_object_new (SP_TYPE_CALLS_PAGE, NULL);

  self->app = app;
  sp_contacts_list_set_application (self->contacts_list, app);
  setup_account_chooser (self);
  setup_calls (self);
  setup_nearby (self);
  update_port_notice (self);
  return self;
}
