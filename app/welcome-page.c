#define G_LOG_DOMAIN "softphone-app"

#include "config.h"

#include "welcome-page.h"

#include <glib/gi18n.h>

#include "a11y.h"

struct _SpWelcomePage
{
  AdwBin parent_instance;

  AdwActionRow *welcome_address_row;
  AdwEntryRow *welcome_dial_row;
};

G_DEFINE_FINAL_TYPE (SpWelcomePage, sp_welcome_page, ADW_TYPE_BIN)

char *
sp_welcome_page_dup_address (SpWelcomePage *self)
{
  g_return_val_if_fail (SP_IS_WELCOME_PAGE (self), NULL);
  return g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->welcome_dial_row))));
}

void
sp_welcome_page_show_address_error (SpWelcomePage *self, const char *message)
{
  g_return_if_fail (SP_IS_WELCOME_PAGE (self));
  gtk_widget_add_css_class (GTK_WIDGET (self->welcome_dial_row), "error");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->welcome_dial_row),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, message, -1);
  gtk_widget_grab_focus (GTK_WIDGET (self->welcome_dial_row));
}

/* Enter in the address field calls, like its Call button. */
static void
on_dial_activated (SpWelcomePage *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "win.welcome-call", NULL);
}

static void
on_dial_changed (AdwEntryRow *row)
{
  gtk_widget_remove_css_class (GTK_WIDGET (row), "error");
  gtk_accessible_reset_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);
}

static void
sp_welcome_page_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), SP_TYPE_WELCOME_PAGE);
  G_OBJECT_CLASS (sp_welcome_page_parent_class)->dispose (object);
}

static void
sp_welcome_page_class_init (SpWelcomePageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = sp_welcome_page_dispose;
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/net/example/softphone/ui/welcome-page.ui");
  gtk_widget_class_bind_template_child (widget_class, SpWelcomePage, welcome_address_row);
  gtk_widget_class_bind_template_child (widget_class, SpWelcomePage, welcome_dial_row);
}

static void
sp_welcome_page_init (SpWelcomePage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  sp_a11y_clean_tree (GTK_WIDGET (self));
  g_signal_connect_swapped (self->welcome_dial_row, "entry-activated",
                            G_CALLBACK (on_dial_activated), self);
  g_signal_connect (self->welcome_dial_row, "changed", G_CALLBACK (on_dial_changed), NULL);
}

SpWelcomePage *
sp_welcome_page_new (SpApplication *app)
{
  SpWelcomePage *self = g_object_new (SP_TYPE_WELCOME_PAGE, NULL);
  g_autofree char *address = sp_application_dup_direct_address (app);

  adw_action_row_set_subtitle (
      self->welcome_address_row,
      address != NULL
          ? address
          : _ ("None: Softphone is not listening. Check the SIP address in Preferences."));
  return self;
}
