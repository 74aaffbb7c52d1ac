#define G_LOG_DOMAIN "softphone-app"

#include "config.h"

#include "history-page.h"

#include <glib/gi18n.h>

#include "a11y.h"
#include "page-util.h"
#include "ua/phone-models.h"

struct _SpHistoryPage
{
  AdwBin parent_instance;

  GtkListBox *history_list;
  GtkStack *history_stack;
};

G_DEFINE_FINAL_TYPE (SpHistoryPage, sp_history_page, ADW_TYPE_BIN)

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
      case SP_CALL_OUTCOME_ANSWERED_ELSEWHERE:
        what = _ ("Answered elsewhere");
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
create_history_row (gpointer item, gpointer user_data)
{
  const SpCallRecord *record = sp_table_item_get_value (SP_TABLE_ITEM (item));
  GtkWidget *row = adw_action_row_new ();
  const char *peer = record->peer != NULL ? record->peer : "";
  const char *title = record->display_name != NULL && record->display_name[0] != '\0'
                          ? record->display_name
                          : (g_str_has_prefix (peer, "sip:") ? peer + 4 : peer);
  g_autofree char *subtitle = describe_record (record);
  /* Translators: %s is who to call back. */
  g_autofree char *a11y = g_strdup_printf (_ ("Call back %s"), title);
  GtkWidget *button = sp_page_action_button ("call-start-symbolic", _ ("Call Back"), a11y,
                                             "win.dial", g_variant_new_string (peer));
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
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), button);
  sp_a11y_set_name (button, a11y);
  return row;
}

static void
update_stack (SpHistoryPage *self, GListModel *model)
{
  gtk_stack_set_visible_child_name (self->history_stack,
                                    g_list_model_get_n_items (model) > 0 ? "list" : "empty");
}

static void
on_history_changed (GListModel *model, guint position, guint removed, guint added,
                    SpHistoryPage *self)
{
  update_stack (self, model);
}

static void
sp_history_page_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), SP_TYPE_HISTORY_PAGE);
  G_OBJECT_CLASS (sp_history_page_parent_class)->dispose (object);
}

static void
sp_history_page_class_init (SpHistoryPageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = sp_history_page_dispose;
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/net/example/softphone/ui/history-page.ui");
  gtk_widget_class_bind_template_child (widget_class, SpHistoryPage, history_list);
  gtk_widget_class_bind_template_child (widget_class, SpHistoryPage, history_stack);
}

static void
sp_history_page_init (SpHistoryPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

SpHistoryPage *
sp_history_page_new (SpApplication *app)
{
  SpHistoryPage *self = g_object_new (SP_TYPE_HISTORY_PAGE, NULL);
  GListModel *history = sp_phone_get_history_model (sp_application_get_phone (app));

  gtk_list_box_bind_model (self->history_list, history, create_history_row, NULL, NULL);
  g_signal_connect_object (history, "items-changed", G_CALLBACK (on_history_changed), self, 0);
  update_stack (self, history);
  return self;
}
