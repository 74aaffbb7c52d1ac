#define G_LOG_DOMAIN "softphone-app"

#include "config.h"

#include "window.h"

#include <glib/gi18n.h>

#include "a11y.h"
#include "account-dialog.h"
#include "call-row.h"
#include "ladder-view.h"
#include "ua/history.h"
#include "ua/siplog-groups.h"
#include "ua/target.h"

struct _SpWindow
{
  AdwApplicationWindow parent_instance;

  SpApplication *app;           /* unowned: the application outlives its windows */
  GtkStringList *account_names; /* "Direct (no account)", then each account */
  SpSipLogGroups *log_groups;   /* the Show drop-down's choices */
  SpSipLogGroup *log_shown;     /* the group the ladder shows, owned */
  guint log_show_all_idle;
  GtkCustomFilter *log_filter_func;

  AdwViewStack *stack;
  AdwToastOverlay *toast_overlay;
  AdwComboRow *account_row;
  GtkEntry *target_entry;
  GtkGrid *dialpad_grid;
  GtkStack *calls_stack;
  GtkListView *calls_view;
  GtkListBox *accounts_list;
  GtkSwitch *server_switch;
  AdwActionRow *server_row;
  AdwEntryRow *server_address_row;
  GtkListBox *users_list;
  GtkListBox *routes_list;
  GtkListBox *registrations_list;
  AdwActionRow *web_console_row;
  GtkLinkButton *web_console_link;
  AdwEntryRow *trusted_peers_row;
  AdwEntryRow *web_console_address_row;
  AdwEntryRow *web_console_password_row;
  AdwEntryRow *route_entry;
  GtkLabel *route_error;
  GtkButton *route_add_button;
  GtkListBox *server_calls_list;
  guint server_calls_tick;
  GtkDropDown *log_filter;
  SpLadderView *ladder;
  GtkListBox *history_list;
  GtkStack *history_stack;
  GtkWidget *port_notice;
  GtkLabel *port_notice_label;
  GtkStack *main_stack; /* "welcome" on first run, else "pages" */
  AdwViewSwitcherTitle *switcher_title;
  GtkWidget *welcome_page;
  AdwActionRow *welcome_address_row;
  AdwEntryRow *welcome_dial_row;
  /* Only to give them clean accessible names. */
  GtkWidget *call_button;
  GtkWidget *new_account_button;
  GtkWidget *add_user_button;
  GtkWidget *import_regfile_button;
  GtkWidget *import_routes_button;
};

G_DEFINE_FINAL_TYPE (SpWindow, sp_window, ADW_TYPE_APPLICATION_WINDOW)

void
sp_window_show_error (SpWindow *self, const char *message)
{
  AdwToast *toast = adw_toast_new (message);

  g_return_if_fail (SP_IS_WINDOW (self));
  adw_toast_set_timeout (toast, 8);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

/* Leaves the welcome for the pages; @done: for good (closed, or an
 * account made), else only for now (a call came in, a shortcut). */
static void
leave_welcome (SpWindow *self, gboolean done)
{
  GtkWidget *welcome = gtk_stack_get_child_by_name (self->main_stack, "welcome");

  if (done)
    g_settings_set_boolean (sp_application_get_settings (self->app), "welcome-done", TRUE);
  gtk_stack_set_visible_child_name (self->main_stack, "pages");
  adw_view_switcher_title_set_view_switcher_enabled (self->switcher_title, TRUE);
  /* Not shown again in this window: out of the tree, out of the way of
   * keyboard and screen reader. */
  if (welcome != NULL)
    gtk_stack_remove (self->main_stack, welcome);
  self->welcome_dial_row = NULL;
  self->welcome_address_row = NULL;
}

void
sp_window_show_page (SpWindow *self, const char *name)
{
  g_return_if_fail (SP_IS_WINDOW (self));
  if (adw_view_stack_get_child_by_name (self->stack, name) == NULL)
    return;
  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->main_stack), "welcome") == 0)
    leave_welcome (self, FALSE);
  adw_view_stack_set_visible_child_name (self->stack, name);
}

/* The account the user picked, or NULL for a direct call. */
static SpAccount *
get_chosen_account (SpWindow *self)
{
  guint selected = adw_combo_row_get_selected (self->account_row);
  GListModel *accounts = sp_application_get_accounts (self->app);

  if (selected == GTK_INVALID_LIST_POSITION || selected == 0)
    return NULL;
  return g_list_model_get_item (accounts, selected - 1);
}

void
sp_window_place_call (SpWindow *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->target_entry));
  g_autoptr (SpAccount) account = get_chosen_account (self);
  g_autoptr (SpTarget) target = NULL;
  g_autoptr (GError) error = NULL;

  g_return_if_fail (SP_IS_WINDOW (self));
  sp_window_show_page (self, "calls");
  g_autofree char *trimmed = g_strstrip (g_strdup (text));

  if (trimmed[0] == '\0')
    {
      sp_window_show_error (self, _ ("Type a number, a SIP address or an IP address to call."));
      gtk_widget_grab_focus (GTK_WIDGET (self->target_entry));
      return;
    }
  /* Check the text first, so a typo marks the entry rather than
   * only raising a message. */
  target = sp_target_parse (trimmed, account, &error);
  if (target == NULL)
    {
      gtk_widget_add_css_class (GTK_WIDGET (self->target_entry), "error");
      sp_window_show_error (self, error->message);
      return;
    }
  /* Borrowed: the phone's call list holds the call. */
  SpCall *call = sp_phone_call (sp_application_get_phone (self->app), trimmed, account, &error);
  if (call == NULL)
    {
      sp_window_show_error (self, error->message);
      return;
    }
  gtk_editable_set_text (GTK_EDITABLE (self->target_entry), "");
}

void
sp_window_dial (SpWindow *self, const char *target)
{
  g_return_if_fail (SP_IS_WINDOW (self));
  gtk_editable_set_text (GTK_EDITABLE (self->target_entry), target);
  sp_window_place_call (self);
}

/* The call Escape and Ctrl+Enter act on: the first incoming one for
 * answer; for hang up the newest that is not on hold (the list is in
 * creation order), else the newest. */
static SpCall *
find_call (SpWindow *self, gboolean incoming_only)
{
  GListModel *calls = sp_application_get_calls (self->app);
  guint n = g_list_model_get_n_items (calls);
  g_autoptr (SpCall) fallback = NULL;

  for (guint i = n; i > 0; i--)
    {
      g_autoptr (SpCall) call = g_list_model_get_item (calls, i - 1);
      SpCallState state = sp_call_get_state (call);

      if (state == SP_CALL_STATE_ENDED)
        continue;
      if (incoming_only ? state == SP_CALL_STATE_INCOMING : state != SP_CALL_STATE_HELD)
        return g_steal_pointer (&call);
      if (!incoming_only && fallback == NULL)
        fallback = g_steal_pointer (&call);
    }
  return g_steal_pointer (&fallback);
}

void
sp_window_hangup_current (SpWindow *self)
{
  g_autoptr (SpCall) call = NULL;
  g_autoptr (GError) error = NULL;

  g_return_if_fail (SP_IS_WINDOW (self));
  call = find_call (self, FALSE);
  if (call != NULL && !sp_call_hangup (call, &error))
    sp_window_show_error (self, error->message);
}

void
sp_window_answer_current (SpWindow *self)
{
  g_autoptr (SpCall) call = NULL;
  g_autoptr (GError) error = NULL;

  g_return_if_fail (SP_IS_WINDOW (self));
  call = find_call (self, TRUE);
  sp_window_show_page (self, "calls");
  if (call != NULL && !sp_phone_answer (sp_application_get_phone (self->app), call, &error))
    sp_window_show_error (self, error->message);
}

/* Actions. */

static void
on_call (GtkWidget *widget, const char *name, GVariant *param)
{
  sp_window_place_call (SP_WINDOW (widget));
}

static void
on_show_page (GtkWidget *widget, const char *name, GVariant *param)
{
  sp_window_show_page (SP_WINDOW (widget), g_variant_get_string (param, NULL));
}

static void
on_focus_dial (GtkWidget *widget, const char *name, GVariant *param)
{
  SpWindow *self = SP_WINDOW (widget);

  sp_window_show_page (self, "calls");
  gtk_widget_grab_focus (GTK_WIDGET (self->target_entry));
}

static void
open_account_dialog (SpWindow *self, SpAccount *account)
{
  SpAccountDialog *dialog = sp_account_dialog_new (GTK_WINDOW (self), self->app, account);

  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_new_account (GtkWidget *widget, const char *name, GVariant *param)
{
  SpWindow *self = SP_WINDOW (widget);

  sp_window_show_page (self, "accounts");
  open_account_dialog (self, NULL);
}

static void
on_clear_log (GtkWidget *widget, const char *name, GVariant *param)
{
  SpWindow *self = SP_WINDOW (widget);

  sp_sip_log_clear (sp_application_get_sip_log (self->app));
}

/* Dial pad. */

static void
on_dialpad_clicked (GtkButton *button, SpWindow *self)
{
  const char *digit = g_object_get_data (G_OBJECT (button), "digit");
  int position = -1;

  gtk_editable_insert_text (GTK_EDITABLE (self->target_entry), digit, -1, &position);
  gtk_editable_set_position (GTK_EDITABLE (self->target_entry), -1);
}

static void
build_dialpad (SpWindow *self)
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
      g_object_set_data (G_OBJECT (button), "digit", (gpointer) keys[i][0]);
      g_signal_connect (button, "clicked", G_CALLBACK (on_dialpad_clicked), self);
      gtk_grid_attach (self->dialpad_grid, button, (int) (i % 3), (int) (i / 3), 1, 1);
    }
}

/* Account chooser on the Calls page. */

static void
rebuild_account_names (SpWindow *self)
{
  GListModel *accounts = sp_application_get_accounts (self->app);
  guint n = g_list_model_get_n_items (accounts);
  guint selected = adw_combo_row_get_selected (self->account_row);
  guint had = g_list_model_get_n_items (G_LIST_MODEL (self->account_names));
  g_autoptr (GPtrArray) names = g_ptr_array_new_full (n + 2, NULL);

  g_ptr_array_add (names, (gpointer) _ ("Direct (no account)"));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (SpAccount) account = g_list_model_get_item (accounts, i);
      g_ptr_array_add (names, (gpointer) sp_account_get_name (account));
    }
  g_ptr_array_add (names, NULL);
  gtk_string_list_splice (self->account_names, 0,
                          g_list_model_get_n_items (G_LIST_MODEL (self->account_names)),
                          (const char *const *) names->pdata);
  /* Keep the choice; but with no account to choose before (a fresh
   * window, or the first account just made), take the first account. */
  if (selected == GTK_INVALID_LIST_POSITION || selected > n || (had <= 1 && n > 0))
    selected = n > 0 ? 1 : 0;
  adw_combo_row_set_selected (self->account_row, selected);
}

/* Accounts page. */

static void
update_account_row (SpAccount *account, GParamSpec *pspec, AdwActionRow *row)
{
  g_autofree char *status = sp_application_describe_account_status (account);
  const char *name = sp_account_get_name (account);
  gboolean failed = sp_account_get_enabled (account) &&
                    sp_account_get_status (account) == SP_ACCOUNT_STATUS_FAILED;
  GtkImage *icon = g_object_get_data (G_OBJECT (row), "status-icon");

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
}

static void
on_edit_account_clicked (GtkButton *button, SpAccount *account)
{
  SpWindow *self = SP_WINDOW (gtk_widget_get_root (GTK_WIDGET (button)));

  open_account_dialog (self, account);
}

static void
on_delete_account_response (AdwMessageDialog *dialog, const char *response, SpAccount *account)
{
  SpWindow *self = SP_WINDOW (gtk_window_get_transient_for (GTK_WINDOW (dialog)));
  g_autoptr (GError) error = NULL;

  if (g_strcmp0 (response, "delete") != 0)
    return;
  if (!sp_application_remove_account (self->app, account, &error))
    sp_window_show_error (self, error->message);
}

static void
on_delete_account_clicked (GtkButton *button, SpAccount *account)
{
  GtkWindow *window = GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (button)));
  /* Translators: %s is the account's name. */
  g_autofree char *heading = g_strdup_printf (_ ("Delete “%s”?"), sp_account_get_name (account));
  GtkWidget *dialog = adw_message_dialog_new (
      window, heading, _ ("The account and its password are removed from this computer."));

  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _ ("_Cancel"), "delete",
                                    _ ("_Delete"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "delete",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_data (dialog, "response", G_CALLBACK (on_delete_account_response),
                         g_object_ref (account), (GClosureNotify) (void (*) (void)) g_object_unref,
                         0);
  sp_a11y_clean_tree (dialog);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_enabled_toggled (GtkSwitch *sw, GParamSpec *pspec, SpAccount *account)
{
  SpWindow *self = SP_WINDOW (gtk_widget_get_root (GTK_WIDGET (sw)));
  gboolean active = gtk_switch_get_active (sw);
  g_autoptr (GError) error = NULL;

  if (active == sp_account_get_enabled (account))
    return;
  sp_account_set_enabled (account, active);
  if (!sp_application_save_account (self->app, account, &error))
    {
      sp_account_set_enabled (account, !active);
      sp_window_show_error (self, error->message);
    }
}

static GtkWidget *
icon_button (const char *icon, const char *a11y_label, const char *tooltip)
{
  GtkWidget *button = gtk_button_new_from_icon_name (icon);

  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  a11y_label, -1);
  return button;
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
  GtkWidget *edit = icon_button ("document-edit-symbolic", edit_label, _ ("Edit"));
  GtkWidget *delete = icon_button ("user-trash-symbolic", delete_label, _ ("Delete"));

  g_object_set_data (G_OBJECT (row), "status-icon", icon);
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
  g_signal_connect_object (edit, "clicked", G_CALLBACK (on_edit_account_clicked), account, 0);
  g_signal_connect_object (delete, "clicked", G_CALLBACK (on_delete_account_clicked), account, 0);
  g_signal_connect_object (account, "notify", G_CALLBACK (update_account_row), row, 0);
  update_account_row (account, NULL, ADW_ACTION_ROW (row));
  return row;
}

static void
on_account_name_changed (SpWindow *self)
{
  rebuild_account_names (self);
}

static void
on_accounts_changed (GListModel *accounts, guint position, guint removed, guint added,
                     SpWindow *self)
{
  for (guint i = position; i < position + added; i++)
    {
      g_autoptr (SpAccount) account = g_list_model_get_item (accounts, i);
      g_signal_connect_object (account, "notify::name", G_CALLBACK (on_account_name_changed), self,
                               G_CONNECT_SWAPPED);
    }
  rebuild_account_names (self);
}

/* Calls page. */

static void
update_calls_stack (SpWindow *self)
{
  GListModel *calls = sp_application_get_calls (self->app);

  gtk_stack_set_visible_child_name (self->calls_stack,
                                    g_list_model_get_n_items (calls) > 0 ? "list" : "empty");
}

static void
on_call_row_error (SpCallRow *row, const char *message, SpWindow *self)
{
  sp_window_show_error (self, message);
}

static void
setup_call_item (GtkSignalListItemFactory *factory, GtkListItem *item, SpWindow *self)
{
  SpCallRow *row = sp_call_row_new ();

  g_signal_connect_object (row, "error", G_CALLBACK (on_call_row_error), self, 0);
  gtk_list_item_set_child (item, GTK_WIDGET (row));
  gtk_list_item_set_activatable (item, FALSE);
}

static void
bind_call_item (GtkSignalListItemFactory *factory, GtkListItem *item, SpWindow *self)
{
  sp_call_row_set_call (SP_CALL_ROW (gtk_list_item_get_child (item)),
                        gtk_list_item_get_item (item));
}

static void
unbind_call_item (GtkSignalListItemFactory *factory, GtkListItem *item, SpWindow *self)
{
  sp_call_row_set_call (SP_CALL_ROW (gtk_list_item_get_child (item)), NULL);
}

static void
setup_calls (SpWindow *self)
{
  GListModel *calls = sp_application_get_calls (self->app);
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  GtkNoSelection *selection = gtk_no_selection_new (g_object_ref (calls));

  g_signal_connect (factory, "setup", G_CALLBACK (setup_call_item), self);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_call_item), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_call_item), self);
  gtk_list_view_set_factory (self->calls_view, factory);
  gtk_list_view_set_model (self->calls_view, GTK_SELECTION_MODEL (selection));
  g_object_unref (factory);
  g_object_unref (selection);
  g_signal_connect_object (calls, "items-changed", G_CALLBACK (update_calls_stack), self,
                           G_CONNECT_SWAPPED);
  update_calls_stack (self);
}

static void
on_target_changed (SpWindow *self)
{
  gtk_widget_remove_css_class (GTK_WIDGET (self->target_entry), "error");
}

/* History page. */

#define HISTORY_MAX_ROWS 200

static void
on_call_back_clicked (GtkButton *button, SpWindow *self)
{
  sp_window_dial (self, g_object_get_data (G_OBJECT (button), "peer"));
}

static char *
describe_record (const SpCallRecord *record)
{
  g_autoptr (GDateTime) start = g_date_time_new_from_unix_local (record->start_time);
  g_autofree char *when = start != NULL ? g_date_time_format (start, "%x %X") : g_strdup ("");
  const char *what;

  switch (record->outcome)
    {
      case SP_CALL_OUTCOME_MISSED:
        what = _ ("Missed call");
        break;
      case SP_CALL_OUTCOME_REJECTED:
        what = _ ("Declined call");
        break;
      case SP_CALL_OUTCOME_FAILED:
        what = _ ("Call not answered");
        break;
      case SP_CALL_OUTCOME_CANCELLED:
        what = _ ("Cancelled call");
        break;
      case SP_CALL_OUTCOME_ANSWERED:
      default:
        what = record->direction == SP_CALL_DIRECTION_INCOMING ? _ ("Incoming call")
                                                               : _ ("Outgoing call");
    }
  if (record->outcome == SP_CALL_OUTCOME_ANSWERED)
    /* Translators: "Outgoing call · 24/11/26 14:53:02 · 1:05" */
    return g_strdup_printf (_ ("%s · %s · %u:%02u"), what, when, record->duration / 60,
                            record->duration % 60);
  /* Translators: "Missed call · 24/11/26 14:53:02" */
  return g_strdup_printf (_ ("%s · %s"), what, when);
}

static GtkWidget *
create_history_row (const SpCallRecord *record)
{
  GtkWidget *row = adw_action_row_new ();
  const char *peer = record->peer != NULL ? record->peer : "";
  const char *title = record->display_name != NULL && record->display_name[0] != '\0'
                          ? record->display_name
                          : (g_str_has_prefix (peer, "sip:") ? peer + 4 : peer);
  g_autofree char *subtitle = describe_record (record);
  /* Translators: %s is who to call back. */
  g_autofree char *a11y = g_strdup_printf (_ ("Call back %s"), title);
  GtkWidget *button = gtk_button_new_from_icon_name ("call-start-symbolic");
  GtkWidget *icon = gtk_image_new_from_icon_name (
      record->outcome == SP_CALL_OUTCOME_MISSED         ? "call-missed-symbolic"
      : record->direction == SP_CALL_DIRECTION_INCOMING ? "call-incoming-symbolic"
                                                        : "call-outgoing-symbolic");

  if (record->outcome == SP_CALL_OUTCOME_MISSED)
    gtk_widget_add_css_class (icon, "error");
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_set_tooltip_text (button, _ ("Call Back"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, a11y, -1);
  g_object_set_data_full (G_OBJECT (button), "peer", g_strdup (peer), g_free);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), button);
  sp_a11y_set_name (button, a11y);
  return row;
}

/* Empties a list but keeps its placeholder: the placeholder is a child
 * too, and gtk_list_box_remove () would drop it for good. */
static void
remove_rows (GtkListBox *list)
{
  GtkListBoxRow *row;

  while ((row = gtk_list_box_get_row_at_index (list, 0)) != NULL)
    gtk_list_box_remove (list, GTK_WIDGET (row));
}

static void
rebuild_history (SpWindow *self)
{
  SpHistory *history = sp_phone_get_history (sp_application_get_phone (self->app));
  const GPtrArray *records = history != NULL ? sp_history_get_records (history) : NULL;
  guint n = records != NULL ? records->len : 0;

  remove_rows (self->history_list);
  /* Newest first. */
  for (guint i = n; i > 0 && n - i < HISTORY_MAX_ROWS; i--)
    {
      GtkWidget *row = create_history_row (g_ptr_array_index (records, i - 1));
      GtkWidget *button = adw_action_row_get_activatable_widget (ADW_ACTION_ROW (row));

      g_signal_connect (button, "clicked", G_CALLBACK (on_call_back_clicked), self);
      gtk_list_box_append (self->history_list, row);
    }
  gtk_stack_set_visible_child_name (self->history_stack, n > 0 ? "list" : "empty");
}

/* The text a boxed list shows when empty, as GNOME apps style it. */
static GtkWidget *
placeholder_label (const char *text)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_widget_add_css_class (label, "dim-label");
  gtk_widget_set_margin_top (label, 18);
  gtk_widget_set_margin_bottom (label, 18);
  gtk_widget_set_margin_start (label, 12);
  gtk_widget_set_margin_end (label, 12);
  return label;
}

/* Server page: users. */

static void rebuild_users (SpWindow *self);
static void rebuild_routes (SpWindow *self);

static void
on_remove_user_clicked (GtkButton *button, SpWindow *self)
{
  SpUserDb *users = sp_server_get_users (sp_application_get_server (self->app));
  const char *name = g_object_get_data (G_OBJECT (button), "user");
  g_autoptr (GError) error = NULL;

  /* The server saves its users on every change (node.h). */
  if (!sp_user_db_remove (users, name, &error))
    sp_window_show_error (self, error->message);
  rebuild_users (self);
}

static void
rebuild_users (SpWindow *self)
{
  SpUserDb *users = sp_server_get_users (sp_application_get_server (self->app));
  g_autoptr (GPtrArray) list = sp_user_db_list (users);

  remove_rows (self->users_list);
  for (guint i = 0; i < list->len; i++)
    {
      SpUser *user = g_ptr_array_index (list, i);
      const char *number = sp_user_get_number (user);
      GtkWidget *row = adw_action_row_new ();
      /* Translators: %s is a user name. */
      g_autofree char *a11y = g_strdup_printf (_ ("Remove user %s"), sp_user_get_name (user));
      /* Translators: a user's phone number on the server. */
      g_autofree char *subtitle =
          number != NULL ? g_strdup_printf (_ ("Number %s"), number) : g_strdup (_ ("No number"));
      GtkWidget *remove = gtk_button_new_from_icon_name ("user-trash-symbolic");

      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), sp_user_get_name (user));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      gtk_widget_set_valign (remove, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (remove, "flat");
      gtk_widget_set_tooltip_text (remove, _ ("Remove"));
      gtk_accessible_update_property (GTK_ACCESSIBLE (remove), GTK_ACCESSIBLE_PROPERTY_LABEL, a11y,
                                      -1);
      g_object_set_data_full (G_OBJECT (remove), "user", g_strdup (sp_user_get_name (user)),
                              g_free);
      g_signal_connect (remove, "clicked", G_CALLBACK (on_remove_user_clicked), self);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), remove);
      gtk_list_box_append (self->users_list, row);
    }
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
on_add_user_response (AdwMessageDialog *dialog, const char *response, SpWindow *self)
{
  SpUserDb *users = sp_server_get_users (sp_application_get_server (self->app));
  const char *name = gtk_editable_get_text (g_object_get_data (G_OBJECT (dialog), "name"));
  const char *number = gtk_editable_get_text (g_object_get_data (G_OBJECT (dialog), "number"));
  const char *password = gtk_editable_get_text (g_object_get_data (G_OBJECT (dialog), "password"));
  g_autoptr (GError) error = NULL;

  if (g_strcmp0 (response, "add") != 0)
    return;
  if (!sp_user_db_add (users, name, number[0] != '\0' ? number : NULL, password, &error))
    {
      sp_window_show_error (self, error->message);
      return;
    }
  rebuild_users (self);
}

static void
on_add_user (GtkWidget *widget, const char *action_name, GVariant *param)
{
  SpWindow *self = SP_WINDOW (widget);
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (self), _ ("Add User"),
                                              _ ("Who may register with this server, with the "
                                                 "number colleagues dial to reach them."));
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);

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
  g_signal_connect (dialog, "response", G_CALLBACK (on_add_user_response), self);
  sp_a11y_clean_tree (dialog);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_import_chosen (GtkNativeDialog *chooser, int response, SpWindow *self)
{
  SpServer *server = sp_application_get_server (self->app);
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
      if (!sp_user_db_import_regfile_path (sp_server_get_users (server), path, &n, &warnings,
                                           &error))
        goto out;
      rebuild_users (self);
      /* Translators: %u users were read from a Yate regfile.conf. */
      message = g_strdup_printf (
          g_dngettext (GETTEXT_PACKAGE, "%u user imported", "%u users imported", n), n);
    }
  else if (sp_router_import_path (sp_server_get_router (server), path, &warnings, &error) &&
           sp_router_save (sp_server_get_router (server), sp_application_get_config_dir (self->app),
                           &error))
    {
      rebuild_routes (self);
      message = g_strdup (_ ("Routes imported"));
    }
out:
  if (error != NULL)
    sp_window_show_error (self, error->message);
  else if (message != NULL)
    sp_window_show_error (self, message);
  g_object_unref (chooser);
}

static void
on_server_import (GtkWidget *widget, const char *action_name, GVariant *param)
{
  SpWindow *self = SP_WINDOW (widget);
  const char *what = g_variant_get_string (param, NULL);
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new (
      g_str_equal (what, "regfile") ? _ ("Import Users from regfile.conf")
                                    : _ ("Import Routes from regexroute.conf"),
      GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_OPEN, _ ("_Import"), _ ("_Cancel"));

  g_object_set_data_full (G_OBJECT (chooser), "what", g_strdup (what), g_free);
  g_signal_connect (chooser, "response", G_CALLBACK (on_import_chosen), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* Server page: routing rules, in Yate's regexroute.conf syntax, edited
 * by hand: each change is saved at once, as the import saves. */

static gboolean
save_routes (SpWindow *self)
{
  SpRouter *router = sp_server_get_router (sp_application_get_server (self->app));
  g_autoptr (GError) error = NULL;

  if (sp_router_save (router, sp_application_get_config_dir (self->app), &error))
    return TRUE;
  sp_window_show_error (self, error->message);
  return FALSE;
}

static void
on_route_button_clicked (GtkButton *button, SpWindow *self)
{
  SpRouter *router = sp_server_get_router (sp_application_get_server (self->app));
  guint index = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (button), "rule"));
  int move = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (button), "move"));
  g_autoptr (GError) error = NULL;
  gboolean done;

  if (move == 0)
    done = sp_router_remove_rule (router, index, &error);
  else
    done = sp_router_move_rule (router, index, index + move, &error);
  if (!done)
    sp_window_show_error (self, error->message);
  else
    save_routes (self);
  rebuild_routes (self);
}

static GtkWidget *
route_button (SpWindow *self, const char *icon, const char *tooltip, const char *a11y, guint index,
              int move, gboolean sensitive)
{
  GtkWidget *button = gtk_button_new_from_icon_name (icon);

  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_widget_set_sensitive (button, sensitive);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, a11y, -1);
  g_object_set_data (G_OBJECT (button), "rule", GUINT_TO_POINTER (index));
  g_object_set_data (G_OBJECT (button), "move", GINT_TO_POINTER (move));
  g_signal_connect (button, "clicked", G_CALLBACK (on_route_button_clicked), self);
  return button;
}

static void
rebuild_routes (SpWindow *self)
{
  SpRouter *router = sp_server_get_router (sp_application_get_server (self->app));
  guint n = sp_router_get_n_rules (router);

  remove_rows (self->routes_list);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *rule = sp_router_dup_rule (router, i);
      const char *text = rule != NULL ? rule : "";
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), text);
      gtk_widget_add_css_class (row, "monospace");
      /* Translators: %s is a routing rule, e.g. "^2$=return;called=u2". */
      g_autofree char *up = g_strdup_printf (_ ("Move up route %s"), text);
      /* Translators: %s is a routing rule. */
      g_autofree char *down = g_strdup_printf (_ ("Move down route %s"), text);
      /* Translators: %s is a routing rule. */
      g_autofree char *remove = g_strdup_printf (_ ("Remove route %s"), text);

      adw_action_row_add_suffix (
          ADW_ACTION_ROW (row),
          route_button (self, "go-up-symbolic", _ ("Move Up"), up, i, -1, i > 0));
      adw_action_row_add_suffix (
          ADW_ACTION_ROW (row),
          route_button (self, "go-down-symbolic", _ ("Move Down"), down, i, 1, i + 1 < n));
      adw_action_row_add_suffix (
          ADW_ACTION_ROW (row),
          route_button (self, "user-trash-symbolic", _ ("Remove"), remove, i, 0, TRUE));
      gtk_list_box_append (self->routes_list, row);
    }
}

static void
show_route_error (SpWindow *self, const char *message)
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

static void
on_route_entry_apply (GtkWidget *entry_or_button, SpWindow *self)
{
  AdwEntryRow *row = self->route_entry;
  SpRouter *router = sp_server_get_router (sp_application_get_server (self->app));
  g_autofree char *line = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (row))));
  g_autoptr (GError) error = NULL;

  if (line[0] == '\0')
    {
      show_route_error (self, _ ("Write a rule as REGEX=TARGET, e.g. ^2$=return;called=u2."));
      return;
    }
  if (!sp_router_insert_rule (router, -1, line, &error))
    {
      /* Translators: %s is why the rule was refused. */
      g_autofree char *message =
          g_strdup_printf (_ ("This rule was not added: %s"), error->message);
      show_route_error (self, message);
      return;
    }
  show_route_error (self, NULL);
  gtk_editable_set_text (GTK_EDITABLE (row), "");
  save_routes (self);
  rebuild_routes (self);
}

static void
on_route_entry_changed (SpWindow *self)
{
  if (gtk_widget_get_visible (GTK_WIDGET (self->route_error)))
    show_route_error (self, NULL);
}

/* Server page: calls the server connects now. */

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

static gboolean tick_server_calls (gpointer data);

static void
rebuild_server_calls (SpWindow *self)
{
  SpServerCallList *list = sp_server_get_calls (sp_application_get_server (self->app));
  g_autoptr (GPtrArray) calls = sp_server_call_list_get_calls (list);
  gboolean answered = FALSE;

  remove_rows (self->server_calls_list);
  for (guint i = 0; calls != NULL && i < calls->len; i++)
    {
      const SpServerCall *call = g_ptr_array_index (calls, i);
      answered = answered || g_strcmp0 (call->state, "answered") == 0;
      GtkWidget *row = adw_action_row_new ();
      /* Translators: caller → called, on the Server page. */
      g_autofree char *title = g_strdup_printf (_ ("%s → %s"), call->caller ? call->caller : "?",
                                                call->called ? call->called : "?");
      g_autofree char *state = describe_server_call_state (call);
      /* Translators: a call's state, then where the server sent it. */
      g_autofree char *subtitle = call->callee != NULL
                                      ? g_strdup_printf (_ ("%s, to %s"), state, call->callee)
                                      : g_strdup (state);

      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      gtk_list_box_append (self->server_calls_list, row);
    }
  g_clear_handle_id (&self->server_calls_tick, g_source_remove);
  if (answered)
    self->server_calls_tick = g_timeout_add_seconds (1, tick_server_calls, self);
}

/* The durations of answered calls move on: a tick while there are any,
 * none otherwise (an idle window costs nothing). */
static gboolean
tick_server_calls (gpointer data)
{
  SpWindow *self = data;

  self->server_calls_tick = 0;
  rebuild_server_calls (self);
  return G_SOURCE_REMOVE;
}

/* Server page: the web console. */

/* The row never shows the stored value (a hash); its title says whether
 * a password is set. */
static void
update_web_console_password_row (SpWindow *self)
{
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->web_console_password_row),
                                 sp_application_has_web_console_password (self->app)
                                     ? _ ("Web Console Admin Password (set; type a new one)")
                                     : _ ("Web Console Admin Password"));
}

/* Why the server did not start, under its switch until it runs. */
static void
update_server_row (SpWindow *self)
{
  const char *error = sp_application_get_server_error (self->app);

  adw_action_row_set_subtitle (self->server_row, error != NULL ? error : "");
  if (error != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (self->server_row), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->server_row), "error");
}

static void
update_web_console (SpWindow *self)
{
  update_server_row (self);
  g_autofree char *url = sp_application_dup_web_console_url (self->app);
  const char *error = sp_application_get_web_console_error (self->app);
  g_autofree char *a11y = NULL;

  update_web_console_password_row (self);
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
on_web_console_entry_apply (AdwEntryRow *row, SpWindow *self)
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
    sp_window_show_error (self, error->message);
  gtk_editable_set_text (GTK_EDITABLE (row), "");
  update_web_console_password_row (self);
}

/* The setting takes the text as typed; the application checks it, says
 * what is wrong and puts the setting back. Accepted, the row shows the
 * list as the server uses it; refused, it keeps the text to be fixed. */
static void
on_trusted_peers_apply (AdwEntryRow *row, SpWindow *self)
{
  GSettings *settings = sp_application_get_settings (self->app);
  SpServer *server = sp_application_get_server (self->app);
  g_autofree char *typed = g_strdup (gtk_editable_get_text (GTK_EDITABLE (row)));
  g_autofree char *now = NULL;

  g_settings_set_string (settings, "server-trusted-peers", typed);
  now = g_settings_get_string (settings, "server-trusted-peers");
  if (g_str_equal (now, typed))
    gtk_editable_set_text (GTK_EDITABLE (row), sp_server_get_trusted_peers (server));
}

static void
setup_trusted_peers (SpWindow *self)
{
  SpServer *server = sp_application_get_server (self->app);

  gtk_editable_set_text (GTK_EDITABLE (self->trusted_peers_row),
                         sp_server_get_trusted_peers (server));
  g_signal_connect (self->trusted_peers_row, "apply", G_CALLBACK (on_trusted_peers_apply), self);
}

static void
setup_web_console (SpWindow *self)
{
  GSettings *settings = sp_application_get_settings (self->app);
  g_autofree char *address = g_settings_get_string (settings, "web-console-address");

  gtk_editable_set_text (GTK_EDITABLE (self->web_console_address_row), address);
  update_web_console_password_row (self);
  g_signal_connect (self->web_console_address_row, "apply", G_CALLBACK (on_web_console_entry_apply),
                    self);
  g_signal_connect (self->web_console_password_row, "apply",
                    G_CALLBACK (on_web_console_entry_apply), self);
  g_signal_connect_object (self->app, "web-console-changed", G_CALLBACK (update_web_console), self,
                           G_CONNECT_SWAPPED);
  update_web_console (self);
}

/* Server page: who is registered now. */

static void
rebuild_registrations (SpWindow *self)
{
  SpServer *server = sp_application_get_server (self->app);
  SpLocationStore *store = sp_server_get_locations (server);
  g_autoptr (GPtrArray) bindings =
      sp_location_store_list (store, g_get_real_time () / G_USEC_PER_SEC);

  remove_rows (self->registrations_list);
  for (guint i = 0; bindings != NULL && i < bindings->len; i++)
    {
      const SpBinding *binding = g_ptr_array_index (bindings, i);
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), binding->aor);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), binding->contact);
      adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 1);
      gtk_list_box_append (self->registrations_list, row);
    }
}

/* Server page. */

static void
on_server_address_apply (AdwEntryRow *row, SpWindow *self)
{
  GSettings *settings = sp_application_get_settings (self->app);
  const char *text = gtk_editable_get_text (GTK_EDITABLE (row));

  g_settings_set_string (settings, "sip-bind", text);
}

static void
setup_server_page (SpWindow *self)
{
  GSettings *settings = sp_application_get_settings (self->app);
  g_autofree char *bind = g_settings_get_string (settings, "sip-bind");

  g_settings_bind (settings, "server-enabled", self->server_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  gtk_editable_set_text (GTK_EDITABLE (self->server_address_row), bind);
  g_signal_connect (self->server_address_row, "apply", G_CALLBACK (on_server_address_apply), self);
  gtk_list_box_set_placeholder (self->users_list,
                                placeholder_label (_ ("No users yet. Add one, or import Yate’s "
                                                      "regfile.conf.")));
  rebuild_users (self);
  /* The web console's API adds and removes users too. */
  g_signal_connect_object (sp_server_get_users (sp_application_get_server (self->app)), "changed",
                           G_CALLBACK (rebuild_users), self, G_CONNECT_SWAPPED);
  gtk_list_box_set_placeholder (self->registrations_list,
                                placeholder_label (_ ("No phone is registered.")));
  g_signal_connect_object (sp_application_get_server (self->app), "registered",
                           G_CALLBACK (rebuild_registrations), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (sp_application_get_server (self->app), "unregistered",
                           G_CALLBACK (rebuild_registrations), self, G_CONNECT_SWAPPED);
  rebuild_registrations (self);
  rebuild_routes (self);
  g_signal_connect (self->route_entry, "apply", G_CALLBACK (on_route_entry_apply), self);
  g_signal_connect (self->route_add_button, "clicked", G_CALLBACK (on_route_entry_apply), self);
  g_signal_connect_swapped (self->route_entry, "changed", G_CALLBACK (on_route_entry_changed),
                            self);
  gtk_list_box_set_placeholder (self->server_calls_list,
                                placeholder_label (_ ("No calls through the server now.")));
  g_signal_connect_object (sp_server_get_calls (sp_application_get_server (self->app)), "changed",
                           G_CALLBACK (rebuild_server_calls), self, G_CONNECT_SWAPPED);
  rebuild_server_calls (self);
  setup_web_console (self);
  setup_trusted_peers (self);
  gtk_list_box_set_placeholder (self->routes_list,
                                placeholder_label (_ ("No routes: a number reaches the user of the "
                                                      "same number or name.")));
}

/* Log page. */

/* The Show drop-down lists calls, registrations and one entry per kind of
 * message outside them (keep-alives); it stays this long at most. */
#define LOG_MAX_GROUPS 64

static char *
log_group_label (SpSipLogGroup *group)
{
  const char *peer = sp_sip_log_group_get_peer (group);

  switch (sp_sip_log_group_get_kind (group))
    {
      case SP_SIP_LOG_GROUP_CALL:
        /* Translators: a choice of the Log page's Show list; %s is the
         * other phone or server, "127.0.0.101:5060". */
        return g_strdup_printf (_ ("Call with %s"), peer);
      case SP_SIP_LOG_GROUP_REGISTRATION:
        /* Translators: a choice of the Log page's Show list; %s is the
         * registrar or the registering phone, "127.0.0.50:5060". */
        return g_strdup_printf (_ ("Registration with %s"), peer);
      case SP_SIP_LOG_GROUP_OTHER:
        /* Translators: a choice of the Log page's Show list; %s is a SIP
         * method such as OPTIONS (keep-alives), left untranslated. */
        return g_strdup_printf (_ ("%s outside calls"), sp_sip_log_group_get_method (group));
      case SP_SIP_LOG_GROUP_ALL:
      default:
        return g_strdup (_ ("All messages"));
    }
}

static gboolean
filter_log_entry (gpointer item, gpointer user_data)
{
  SpWindow *self = user_data;

  return self->log_shown == NULL ||
         sp_sip_log_groups_match (self->log_groups, self->log_shown, item);
}

static gboolean
show_all_log (gpointer user_data)
{
  SpWindow *self = user_data;

  self->log_show_all_idle = 0;
  gtk_drop_down_set_selected (self->log_filter, 0);
  return G_SOURCE_REMOVE;
}

/* Refilters only when the choice itself changes: the drop-down also says
 * "selected" when older entries leave the list and the choice moves up,
 * and refiltering the whole log for each message would stall a flood. */
static void
on_log_filter_selected (SpWindow *self)
{
  SpSipLogGroup *group = gtk_drop_down_get_selected_item (self->log_filter);

  if (group == self->log_shown)
    return;
  if (self->log_shown != NULL && !sp_sip_log_group_is_listed (self->log_shown))
    {
      /* The dialog shown left the log; the drop-down picked a neighbour.
       * Show everything instead, and say so in the drop-down once it is
       * done updating (it is mid-change now). */
      group = g_list_model_get_item (G_LIST_MODEL (self->log_groups), 0);
      g_object_unref (group);
      if (self->log_show_all_idle == 0)
        self->log_show_all_idle = g_idle_add (show_all_log, self);
      if (group == self->log_shown)
        return;
    }
  g_set_object (&self->log_shown, group);
  gtk_filter_changed (GTK_FILTER (self->log_filter_func), GTK_FILTER_CHANGE_DIFFERENT);
}

static void
setup_log_page (SpWindow *self)
{
  SpSipLog *log = sp_application_get_sip_log (self->app);
  GtkFilterListModel *filtered;

  /* Before the ladder's filter model: the groups see each message first. */
  self->log_groups = sp_sip_log_groups_new (log, LOG_MAX_GROUPS);
  gtk_drop_down_set_expression (
      self->log_filter, gtk_cclosure_expression_new (G_TYPE_STRING, NULL, 0, NULL,
                                                     G_CALLBACK (log_group_label), NULL, NULL));
  gtk_drop_down_set_model (self->log_filter, G_LIST_MODEL (self->log_groups));
  self->log_filter_func = gtk_custom_filter_new (filter_log_entry, self, NULL);
  filtered = gtk_filter_list_model_new (g_object_ref (G_LIST_MODEL (log)),
                                        g_object_ref (GTK_FILTER (self->log_filter_func)));
  sp_ladder_view_set_model (self->ladder, G_LIST_MODEL (filtered));
  g_object_unref (filtered);
  g_signal_connect_object (self->log_filter, "notify::selected-item",
                           G_CALLBACK (on_log_filter_selected), self, G_CONNECT_SWAPPED);
  on_log_filter_selected (self);
}

/* Calls page: when another program holds the SIP port, the phone took
 * another one; say what that means for people who call directly. */
static void
update_port_notice (SpWindow *self)
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

/* First run: the welcome. */

static void
on_welcome_account (GtkWidget *widget, const char *name, GVariant *param)
{
  /* The welcome stays until the account exists (Cancel comes back). */
  open_account_dialog (SP_WINDOW (widget), NULL);
}

static void
on_welcome_server (GtkWidget *widget, const char *name, GVariant *param)
{
  SpWindow *self = SP_WINDOW (widget);

  leave_welcome (self, TRUE);
  sp_window_show_page (self, "server");
  g_settings_set_boolean (sp_application_get_settings (self->app), "server-enabled", TRUE);
}

static void
on_welcome_call (GtkWidget *widget, const char *name, GVariant *param)
{
  SpWindow *self = SP_WINDOW (widget);
  g_autofree char *text = NULL;

  if (self->welcome_dial_row == NULL)
    return;
  text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->welcome_dial_row))));
  if (text[0] == '\0')
    {
      const char *message = _ ("Type the other computer’s address, e.g. 192.168.1.20.");

      /* On the field, for eyes and screen readers, and said once. */
      gtk_widget_add_css_class (GTK_WIDGET (self->welcome_dial_row), "error");
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->welcome_dial_row),
                                      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, message, -1);
      sp_window_show_error (self, message);
      gtk_widget_grab_focus (GTK_WIDGET (self->welcome_dial_row));
      return;
    }
  leave_welcome (self, TRUE);
  /* Direct: no account, whatever the chooser held. */
  adw_combo_row_set_selected (self->account_row, 0);
  sp_window_dial (self, text);
}

static void
on_welcome_dial_activated (AdwEntryRow *row, SpWindow *self)
{
  on_welcome_call (GTK_WIDGET (self), NULL, NULL);
}

static void
on_welcome_dial_changed (AdwEntryRow *row)
{
  gtk_widget_remove_css_class (GTK_WIDGET (row), "error");
  gtk_accessible_reset_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);
}

static void
on_welcome_close (GtkWidget *widget, const char *name, GVariant *param)
{
  leave_welcome (SP_WINDOW (widget), TRUE);
}

static void
on_welcome_accounts_changed (GListModel *accounts, guint position, guint removed, guint added,
                             SpWindow *self)
{
  if (added > 0 && g_strcmp0 (gtk_stack_get_visible_child_name (self->main_stack), "welcome") == 0)
    leave_welcome (self, TRUE);
}

/* Shown while nothing is set up yet and it was never closed. */
static void
setup_welcome (SpWindow *self)
{
  GSettings *settings = sp_application_get_settings (self->app);
  GListModel *accounts = sp_application_get_accounts (self->app);
  g_autofree char *address = sp_application_dup_direct_address (self->app);
  gboolean show = !g_settings_get_boolean (settings, "welcome-done") &&
                  g_list_model_get_n_items (accounts) == 0 &&
                  !g_settings_get_boolean (settings, "server-enabled");

  adw_action_row_set_subtitle (
      self->welcome_address_row,
      address != NULL
          ? address
          : _ ("None: Softphone is not listening. Check the SIP address in Preferences."));
  g_signal_connect (self->welcome_dial_row, "entry-activated",
                    G_CALLBACK (on_welcome_dial_activated), self);
  g_signal_connect (self->welcome_dial_row, "changed", G_CALLBACK (on_welcome_dial_changed), NULL);
  g_signal_connect_object (accounts, "items-changed", G_CALLBACK (on_welcome_accounts_changed),
                           self, 0);
  if (show)
    {
      gtk_stack_set_visible_child_name (self->main_stack, "welcome");
      adw_view_switcher_title_set_view_switcher_enabled (self->switcher_title, FALSE);
    }
  else
    leave_welcome (self, FALSE);
}

/* Connects the pages to the application's models; needs the
 * application, which GtkWindow only gets after construction. */
static void
bind_models (SpWindow *self, SpApplication *app)
{
  GListModel *accounts;
  GtkWidget *placeholder;

  self->app = app;
  accounts = sp_application_get_accounts (self->app);

  self->account_names = gtk_string_list_new (NULL);
  adw_combo_row_set_model (self->account_row, G_LIST_MODEL (self->account_names));
  g_signal_connect_object (accounts, "items-changed", G_CALLBACK (on_accounts_changed), self, 0);
  on_accounts_changed (accounts, 0, 0, g_list_model_get_n_items (accounts), self);

  placeholder = gtk_label_new (_ ("No accounts. Add one to register with a SIP server; calls "
                                  "straight to an IP address need none."));
  gtk_label_set_wrap (GTK_LABEL (placeholder), TRUE);
  gtk_widget_add_css_class (placeholder, "dim-label");
  gtk_widget_set_margin_top (placeholder, 18);
  gtk_widget_set_margin_bottom (placeholder, 18);
  gtk_widget_set_margin_start (placeholder, 12);
  gtk_widget_set_margin_end (placeholder, 12);
  gtk_list_box_set_placeholder (self->accounts_list, placeholder);
  gtk_list_box_bind_model (self->accounts_list, accounts, create_account_row, self, NULL);

  build_dialpad (self);
  update_port_notice (self);
  setup_welcome (self);
  setup_calls (self);
  setup_server_page (self);
  setup_log_page (self);
  g_signal_connect_object (sp_application_get_phone (app), "call-ended",
                           G_CALLBACK (rebuild_history), self, G_CONNECT_SWAPPED);
  rebuild_history (self);
}

static void
sp_window_dispose (GObject *object)
{
  SpWindow *self = SP_WINDOW (object);
  g_clear_handle_id (&self->server_calls_tick, g_source_remove);

  gtk_widget_dispose_template (GTK_WIDGET (self), SP_TYPE_WINDOW);
  g_clear_object (&self->account_names);
  g_clear_handle_id (&self->log_show_all_idle, g_source_remove);
  g_clear_object (&self->log_shown);
  g_clear_object (&self->log_filter_func);
  g_clear_object (&self->log_groups);
  G_OBJECT_CLASS (sp_window_parent_class)->dispose (object);
}

static void
sp_window_class_init (SpWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sp_window_dispose;

  g_type_ensure (SP_TYPE_LADDER_VIEW);
  gtk_widget_class_set_template_from_resource (widget_class, "/net/example/softphone/ui/window.ui");
  gtk_widget_class_bind_template_child (widget_class, SpWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, account_row);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, target_entry);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, dialpad_grid);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, calls_stack);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, calls_view);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, accounts_list);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, server_switch);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, server_row);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, server_address_row);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, users_list);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, routes_list);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, registrations_list);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, web_console_row);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, web_console_link);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, trusted_peers_row);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, web_console_address_row);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, web_console_password_row);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, route_entry);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, route_error);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, route_add_button);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, server_calls_list);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, log_filter);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, ladder);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, history_list);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, history_stack);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, port_notice);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, port_notice_label);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, call_button);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, switcher_title);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, welcome_page);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, welcome_address_row);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, welcome_dial_row);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, new_account_button);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, add_user_button);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, import_regfile_button);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, import_routes_button);

  gtk_widget_class_install_action (widget_class, "win.call", NULL, on_call);
  gtk_widget_class_install_action (widget_class, "win.show-page", "s", on_show_page);
  gtk_widget_class_install_action (widget_class, "win.focus-dial", NULL, on_focus_dial);
  gtk_widget_class_install_action (widget_class, "win.new-account", NULL, on_new_account);
  gtk_widget_class_install_action (widget_class, "win.clear-log", NULL, on_clear_log);
  gtk_widget_class_install_action (widget_class, "win.server-add-user", NULL, on_add_user);
  gtk_widget_class_install_action (widget_class, "win.server-import", "s", on_server_import);
  gtk_widget_class_install_action (widget_class, "win.welcome-account", NULL, on_welcome_account);
  gtk_widget_class_install_action (widget_class, "win.welcome-server", NULL, on_welcome_server);
  gtk_widget_class_install_action (widget_class, "win.welcome-call", NULL, on_welcome_call);
  gtk_widget_class_install_action (widget_class, "win.welcome-close", NULL, on_welcome_close);
}

/* One name per control, as a screen reader should say it (see a11y.h):
 * the same strings as the template's, without the labels GTK adds. */
static void
name_controls (SpWindow *self)
{
  static const struct
  {
    gsize offset;
    const char *name;
  } names[] = {
    { G_STRUCT_OFFSET (SpWindow, account_row), N_ ("Account to call from") },
    { G_STRUCT_OFFSET (SpWindow, call_button), N_ ("Call") },
    { G_STRUCT_OFFSET (SpWindow, new_account_button), N_ ("New account") },
    { G_STRUCT_OFFSET (SpWindow, server_switch), N_ ("Run the SIP server") },
    { G_STRUCT_OFFSET (SpWindow, server_address_row), N_ ("Server address and port") },
    { G_STRUCT_OFFSET (SpWindow, add_user_button), N_ ("Add user") },
    { G_STRUCT_OFFSET (SpWindow, route_entry), N_ ("New route rule") },
    { G_STRUCT_OFFSET (SpWindow, web_console_address_row), N_ ("Web console address and port") },
    { G_STRUCT_OFFSET (SpWindow, web_console_password_row), N_ ("Web console admin password") },
    { G_STRUCT_OFFSET (SpWindow, import_regfile_button), N_ ("Import users from regfile.conf") },
    { G_STRUCT_OFFSET (SpWindow, import_routes_button), N_ ("Import routes from regexroute.conf") },
    { G_STRUCT_OFFSET (SpWindow, log_filter), N_ ("Messages to show") },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    sp_a11y_set_name (G_STRUCT_MEMBER (GtkWidget *, self, names[i].offset), _ (names[i].name));
  sp_a11y_name_inner_toggles (GTK_WIDGET (self->log_filter), _ ("Choose messages to show"));
}

static void
sp_window_init (SpWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  name_controls (self);
  sp_a11y_clean_tree (self->welcome_page);
  g_signal_connect_swapped (self->target_entry, "activate", G_CALLBACK (sp_window_place_call),
                            self);
  g_signal_connect_swapped (self->target_entry, "changed", G_CALLBACK (on_target_changed), self);
}

SpWindow *
sp_window_new (SpApplication *app)
{
  SpWindow *self = g_object_new (SP_TYPE_WINDOW, "application", app, NULL);
  GtkShortcutsWindow *shortcuts =
      gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (self));

  if (shortcuts != NULL)
    sp_a11y_name_inner_toggles (GTK_WIDGET (shortcuts), _ ("Search Shortcuts"));
  bind_models (self, app);
  return self;
}
