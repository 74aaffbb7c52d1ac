#define G_LOG_DOMAIN "softphone-app"

#include "config.h"

#include "log-page.h"

#include <glib/gi18n.h>

#include "a11y.h"
#include "ladder-view.h"
#include "ua/siplog-groups.h"

/* The Show drop-down lists calls, registrations and one entry per kind of
 * message outside them (keep-alives); it stays this long at most. */
#define LOG_MAX_GROUPS 64

struct _SpLogPage
{
  AdwBin parent_instance;

  SpSipLogGroups *log_groups; /* the Show drop-down's choices */
  SpSipLogGroup *log_shown;   /* the group the ladder shows, owned */
  guint log_show_all_idle;
  GtkCustomFilter *log_filter_func;

  GtkDropDown *log_filter;
  SpLadderView *ladder;
};

G_DEFINE_FINAL_TYPE (SpLogPage, sp_log_page, ADW_TYPE_BIN)

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
  SpLogPage *self = user_data;

  return self->log_shown == NULL ||
         sp_sip_log_groups_match (self->log_groups, self->log_shown, item);
}

static gboolean
show_all_log (gpointer user_data)
{
  SpLogPage *self = user_data;

  self->log_show_all_idle = 0;
  gtk_drop_down_set_selected (self->log_filter, 0);
  return G_SOURCE_REMOVE;
}

/* Refilters only when the choice itself changes: the drop-down also says
 * "selected" when older entries leave the list and the choice moves up,
 * and refiltering the whole log for each message would stall a flood. */
static void
on_log_filter_selected (SpLogPage *self)
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
setup_log (SpLogPage *self, SpSipLog *log)
{
  g_autoptr (GtkFilterListModel) filtered = NULL;
  /* Not taken by the drop-down: it keeps its own reference. */
  g_autoptr (GtkExpression) expression = gtk_cclosure_expression_new (
      G_TYPE_STRING, NULL, 0, NULL, G_CALLBACK (log_group_label), NULL, NULL);

  /* Before the ladder's filter model: the groups see each message first. */
  self->log_groups = sp_sip_log_groups_new (log, LOG_MAX_GROUPS);
  gtk_drop_down_set_expression (self->log_filter, expression);
  gtk_drop_down_set_model (self->log_filter, G_LIST_MODEL (self->log_groups));
  self->log_filter_func = gtk_custom_filter_new (filter_log_entry, self, NULL);
  filtered = gtk_filter_list_model_new (g_object_ref (G_LIST_MODEL (log)),
                                        g_object_ref (GTK_FILTER (self->log_filter_func)));
  sp_ladder_view_set_model (self->ladder, G_LIST_MODEL (filtered));
  g_signal_connect_object (self->log_filter, "notify::selected-item",
                           G_CALLBACK (on_log_filter_selected), self, G_CONNECT_SWAPPED);
  on_log_filter_selected (self);
}

static void
sp_log_page_dispose (GObject *object)
{
  SpLogPage *self = SP_LOG_PAGE (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), SP_TYPE_LOG_PAGE);
  g_clear_handle_id (&self->log_show_all_idle, g_source_remove);
  g_clear_object (&self->log_shown);
  g_clear_object (&self->log_filter_func);
  g_clear_object (&self->log_groups);
  G_OBJECT_CLASS (sp_log_page_parent_class)->dispose (object);
}

static void
sp_log_page_class_init (SpLogPageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = sp_log_page_dispose;
  g_type_ensure (SP_TYPE_LADDER_VIEW);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/net/example/softphone/ui/log-page.ui");
  gtk_widget_class_bind_template_child (widget_class, SpLogPage, log_filter);
  gtk_widget_class_bind_template_child (widget_class, SpLogPage, ladder);
}

static void
sp_log_page_init (SpLogPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  sp_a11y_set_name (GTK_WIDGET (self->log_filter), _ ("Messages to show"));
  sp_a11y_name_inner_toggles (GTK_WIDGET (self->log_filter), _ ("Choose messages to show"));
}

SpLogPage *
sp_log_page_new (SpApplication *app)
{
  SpLogPage *self = g_object_new (SP_TYPE_LOG_PAGE, NULL);

  setup_log (self, sp_application_get_sip_log (app));
  return self;
}
