#define G_LOG_DOMAIN "softphone-app"

#include "config.h"

#include "window.h"

#include <glib/gi18n.h>

#include "a11y.h"
#include "account-dialog.h"
#include "accounts-page.h"
#include "call-actions.h"
#include "calls-page.h"
#include "history-page.h"
#include "log-page.h"
#include "server-page.h"
#include "welcome-page.h"

struct _SpWindow
{
  AdwApplicationWindow parent_instance;

  SpApplication *app; /* unowned: the application outlives its windows */

  AdwViewStack *stack; /* the pages, each in its bin until first shown */
  AdwToastOverlay *toast_overlay;
  GtkStack *main_stack; /* "welcome" on first run, else "pages" */
  AdwViewSwitcherTitle *switcher_title;
  SpWelcomePage *welcome; /* on a first run, until left */
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

void
sp_window_toast (GtkWidget *inside, const char *message)
{
  GtkRoot *root = gtk_widget_get_root (inside);

  if (SP_IS_WINDOW (root))
    sp_window_show_error (SP_WINDOW (root), message);
  else
    g_message ("%s", message);
}

/* Pages, made when first shown: a window that opens on Calls builds no
 * server lists, ladder or history rows. */

typedef GtkWidget *(*PageNewFunc) (SpApplication *app);

static const struct
{
  const char *name;
  PageNewFunc create;
} page_kinds[] = {
  { "calls", (PageNewFunc) sp_calls_page_new },
  { "accounts", (PageNewFunc) sp_accounts_page_new },
  { "server", (PageNewFunc) sp_server_page_new },
  { "log", (PageNewFunc) sp_log_page_new },
  { "history", (PageNewFunc) sp_history_page_new },
};

/* The page called @name, made now if it was not yet; NULL for no such
 * page. */
static GtkWidget *
ensure_page (SpWindow *self, const char *name)
{
  GtkWidget *bin = name != NULL ? adw_view_stack_get_child_by_name (self->stack, name) : NULL;
  GtkWidget *page;

  if (bin == NULL)
    return NULL;
  page = adw_bin_get_child (ADW_BIN (bin));
  if (page != NULL)
    return page;
  for (gsize i = 0; i < G_N_ELEMENTS (page_kinds); i++)
    if (g_str_equal (page_kinds[i].name, name))
      {
        page = page_kinds[i].create (self->app);
        adw_bin_set_child (ADW_BIN (bin), page);
      }
  return page;
}

static SpCallsPage *
calls_page (SpWindow *self)
{
  return SP_CALLS_PAGE (ensure_page (self, "calls"));
}

static SpServerPage *
server_page (SpWindow *self)
{
  return SP_SERVER_PAGE (ensure_page (self, "server"));
}

static gboolean
welcome_shown (SpWindow *self)
{
  return self->welcome != NULL &&
         g_strcmp0 (gtk_stack_get_visible_child_name (self->main_stack), "welcome") == 0;
}

static void
on_visible_page_changed (SpWindow *self)
{
  if (!welcome_shown (self))
    ensure_page (self, adw_view_stack_get_visible_child_name (self->stack));
}

/* Leaves the welcome for the pages; @done: for good (closed, or an
 * account made), else only for now (a call came in, a shortcut). */
static void
leave_welcome (SpWindow *self, gboolean done)
{
  if (done)
    g_settings_set_boolean (sp_application_get_settings (self->app), "welcome-done", TRUE);
  gtk_stack_set_visible_child_name (self->main_stack, "pages");
  adw_view_switcher_title_set_view_switcher_enabled (self->switcher_title, TRUE);
  /* Not shown again in this window: out of the tree, out of the way of
   * keyboard and screen reader. */
  if (self->welcome != NULL)
    gtk_stack_remove (self->main_stack, GTK_WIDGET (self->welcome));
  self->welcome = NULL;
  on_visible_page_changed (self);
}

void
sp_window_show_page (SpWindow *self, const char *name)
{
  g_return_if_fail (SP_IS_WINDOW (self));
  if (adw_view_stack_get_child_by_name (self->stack, name) == NULL)
    return;
  if (welcome_shown (self))
    leave_welcome (self, FALSE);
  adw_view_stack_set_visible_child_name (self->stack, name);
  ensure_page (self, name);
}

void
sp_window_place_call (SpWindow *self)
{
  g_return_if_fail (SP_IS_WINDOW (self));
  sp_window_show_page (self, "calls");
  sp_calls_page_place_call (calls_page (self));
}

void
sp_window_dial (SpWindow *self, const char *target)
{
  g_return_if_fail (SP_IS_WINDOW (self));
  sp_calls_page_set_target (calls_page (self), target);
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

/* Actions: calls and pages. */

static void
on_call (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  sp_window_place_call (SP_WINDOW (user_data));
}

static void
on_dial (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  sp_window_dial (SP_WINDOW (user_data), g_variant_get_string (param, NULL));
}

static void
on_hangup (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  sp_window_hangup_current (SP_WINDOW (user_data));
}

static void
on_answer (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  sp_window_answer_current (SP_WINDOW (user_data));
}

static void
on_show_page (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  sp_window_show_page (SP_WINDOW (user_data), g_variant_get_string (param, NULL));
}

static void
on_focus_dial (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  SpWindow *self = SP_WINDOW (user_data);

  sp_window_show_page (self, "calls");
  sp_calls_page_focus_entry (calls_page (self));
}

static void
on_clear_log (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  sp_sip_log_clear (sp_application_get_sip_log (SP_WINDOW (user_data)->app));
}

/* Actions: accounts, named by their id. */

static SpAccount *
find_account (SpWindow *self, const char *id)
{
  GListModel *accounts = sp_application_get_accounts (self->app);
  guint n = g_list_model_get_n_items (accounts);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (SpAccount) account = g_list_model_get_item (accounts, i);

      if (g_strcmp0 (sp_account_get_id (account), id) == 0)
        return g_steal_pointer (&account);
    }
  return NULL;
}

static void
open_account_dialog (SpWindow *self, SpAccount *account)
{
  SpAccountDialog *dialog = sp_account_dialog_new (GTK_WINDOW (self), self->app, account);

  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_new_account (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  SpWindow *self = SP_WINDOW (user_data);

  sp_window_show_page (self, "accounts");
  open_account_dialog (self, NULL);
}

static void
on_edit_account (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  SpWindow *self = SP_WINDOW (user_data);
  g_autoptr (SpAccount) account = find_account (self, g_variant_get_string (param, NULL));

  if (account != NULL)
    open_account_dialog (self, account);
}

static void
on_enable_account (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  SpWindow *self = SP_WINDOW (user_data);
  const char *id = NULL;
  gboolean enable = FALSE;
  g_autoptr (SpAccount) account = NULL;
  g_autoptr (GError) error = NULL;

  g_variant_get (param, "(&sb)", &id, &enable);
  account = find_account (self, id);
  if (account == NULL || sp_account_get_enabled (account) == enable)
    return;
  sp_account_set_enabled (account, enable);
  if (!sp_application_save_account (self->app, account, &error))
    {
      sp_account_set_enabled (account, !enable);
      sp_window_show_error (self, error->message);
    }
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

/* Asks first: the password goes with the account. */
static void
on_delete_account (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  SpWindow *self = SP_WINDOW (user_data);
  g_autoptr (SpAccount) account = find_account (self, g_variant_get_string (param, NULL));
  g_autofree char *heading = NULL;
  GtkWidget *dialog;

  if (account == NULL)
    return;
  /* Translators: %s is the account's name. */
  heading = g_strdup_printf (_ ("Delete “%s”?"), sp_account_get_name (account));
  dialog = adw_message_dialog_new (GTK_WINDOW (self), heading,
                                   _ ("The account and its password are removed from this "
                                      "computer."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _ ("_Cancel"), "delete",
                                    _ ("_Delete"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "delete",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_data (dialog, "response", G_CALLBACK (on_delete_account_response),
                         g_steal_pointer (&account),
                         (GClosureNotify) (void (*) (void)) g_object_unref, 0);
  sp_a11y_clean_tree (dialog);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Actions: the server's users and routes. */

static void
on_add_user (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  SpWindow *self = SP_WINDOW (user_data);

  sp_window_show_page (self, "server");
  sp_server_page_add_user (server_page (self));
}

static void
on_remove_user (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  sp_server_page_remove_user (server_page (SP_WINDOW (user_data)),
                              g_variant_get_string (param, NULL));
}

static void
on_server_import (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  SpWindow *self = SP_WINDOW (user_data);

  sp_window_show_page (self, "server");
  sp_server_page_import (server_page (self), g_variant_get_string (param, NULL));
}

static void
on_route_add (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  sp_server_page_add_route (server_page (SP_WINDOW (user_data)),
                            g_variant_get_string (param, NULL));
}

static void
on_route_remove (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  sp_server_page_remove_route (server_page (SP_WINDOW (user_data)),
                               g_variant_get_string (param, NULL));
}

static void
on_route_move (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  const char *rule = NULL;
  gint32 delta = 0;

  g_variant_get (param, "(&si)", &rule, &delta);
  sp_server_page_move_route (server_page (SP_WINDOW (user_data)), rule, delta);
}

/* First run: the welcome. */

static void
on_welcome_account (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  /* The welcome stays until the account exists (Cancel comes back). */
  open_account_dialog (SP_WINDOW (user_data), NULL);
}

static void
on_welcome_server (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  SpWindow *self = SP_WINDOW (user_data);

  leave_welcome (self, TRUE);
  sp_window_show_page (self, "server");
  g_settings_set_boolean (sp_application_get_settings (self->app), "server-enabled", TRUE);
}

static void
on_welcome_call (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  SpWindow *self = SP_WINDOW (user_data);
  g_autofree char *text = NULL;

  if (self->welcome == NULL)
    return;
  text = sp_welcome_page_dup_address (self->welcome);
  if (text[0] == '\0')
    {
      const char *message = _ ("Type the other computer’s address, e.g. 192.168.1.20.");

      /* On the field, for eyes and screen readers, and said once. */
      sp_welcome_page_show_address_error (self->welcome, message);
      sp_window_show_error (self, message);
      return;
    }
  leave_welcome (self, TRUE);
  /* Direct: no account, whatever the chooser held. */
  sp_calls_page_choose_direct (calls_page (self));
  sp_window_dial (self, text);
}

static void
on_welcome_close (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  leave_welcome (SP_WINDOW (user_data), TRUE);
}

static void
on_welcome_accounts_changed (GListModel *accounts, guint position, guint removed, guint added,
                             SpWindow *self)
{
  if (added > 0 && welcome_shown (self))
    leave_welcome (self, TRUE);
}

/* Shown while nothing is set up yet and it was never closed; made only
 * then. */
static void
setup_welcome (SpWindow *self)
{
  GSettings *settings = sp_application_get_settings (self->app);
  GListModel *accounts = sp_application_get_accounts (self->app);
  gboolean show = !g_settings_get_boolean (settings, "welcome-done") &&
                  g_list_model_get_n_items (accounts) == 0 &&
                  !g_settings_get_boolean (settings, "server-enabled");

  if (!show)
    {
      leave_welcome (self, FALSE);
      return;
    }
  self->welcome = sp_welcome_page_new (self->app);
  gtk_stack_add_named (self->main_stack, GTK_WIDGET (self->welcome), "welcome");
  gtk_stack_set_visible_child_name (self->main_stack, "welcome");
  adw_view_switcher_title_set_view_switcher_enabled (self->switcher_title, FALSE);
  g_signal_connect_object (accounts, "items-changed", G_CALLBACK (on_welcome_accounts_changed),
                           self, 0);
}

static const GActionEntry win_actions[] = {
  { "call", on_call },
  { "dial", on_dial, "s" },
  { "hangup", on_hangup },
  { "answer", on_answer },
  { "show-page", on_show_page, "s" },
  { "focus-dial", on_focus_dial },
  { "clear-log", on_clear_log },
  { "new-account", on_new_account },
  { "edit-account", on_edit_account, "s" },
  { "delete-account", on_delete_account, "s" },
  { "enable-account", on_enable_account, "(sb)" },
  { "server-add-user", on_add_user },
  { "server-remove-user", on_remove_user, "s" },
  { "server-import", on_server_import, "s" },
  { "route-add", on_route_add, "s" },
  { "route-remove", on_route_remove, "s" },
  { "route-move", on_route_move, "(si)" },
  { "welcome-account", on_welcome_account },
  { "welcome-server", on_welcome_server },
  { "welcome-call", on_welcome_call },
  { "welcome-close", on_welcome_close },
};

static void
report_call_error (const char *message, gpointer self)
{
  sp_window_show_error (SP_WINDOW (self), message);
}

static void
sp_window_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), SP_TYPE_WINDOW);
  G_OBJECT_CLASS (sp_window_parent_class)->dispose (object);
}

static void
sp_window_class_init (SpWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = sp_window_dispose;
  gtk_widget_class_set_template_from_resource (widget_class, "/net/example/softphone/ui/window.ui");
  gtk_widget_class_bind_template_child (widget_class, SpWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, switcher_title);
}

static void
sp_window_init (SpWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_action_map_add_action_entries (G_ACTION_MAP (self), win_actions, G_N_ELEMENTS (win_actions),
                                   self);
}

SpWindow *
sp_window_new (SpApplication *app)
{
  SpWindow *self = g_object_new (SP_TYPE_WINDOW, "application", app, NULL);
  GtkShortcutsWindow *shortcuts =
      gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (self));

  if (shortcuts != NULL)
    sp_a11y_name_inner_toggles (GTK_WIDGET (shortcuts), _ ("Search Shortcuts"));
  self->app = app;
  sp_call_actions_add (G_ACTION_MAP (self), app, report_call_error, self);
  setup_welcome (self);
  g_signal_connect_object (self->stack, "notify::visible-child-name",
                           G_CALLBACK (on_visible_page_changed), self, G_CONNECT_SWAPPED);
  return self;
}
