#include "config.h"

#include <string.h>

#include "a11y.h"

#include <adwaita.h>
#include <glib/gi18n.h>

/* Set on a widget sp_a11y_set_name has named: sp_a11y_clean_tree leaves
 * it as it is. */
#define NAMED_KEY "sp-a11y-named"

static void
set_one (GtkWidget *widget, const char *name)
{
  gtk_accessible_update_property (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
  gtk_accessible_reset_relation (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_RELATION_LABELLED_BY);
}

/* The GtkText an entry row edits through is what a screen reader
 * focuses: it gets the same name. */
static void
set_inner_text (GtkWidget *widget, const char *name)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      if (GTK_IS_TEXT (child))
        set_one (child, name);
      else if (!GTK_IS_POPOVER (child))
        set_inner_text (child, name);
    }
}

/* An entry row's own icon buttons (Apply, a password's peek) have
 * tooltips but no names: GTK would say "GtkImage". Buttons the app puts
 * in a row carry their own names and are left alone. */
static void
name_icon_buttons (GtkWidget *widget)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      const char *icon =
          GTK_IS_BUTTON (child) ? gtk_button_get_icon_name (GTK_BUTTON (child)) : NULL;
      const char *tooltip = gtk_widget_get_tooltip_text (child);

      if (icon != NULL && g_str_has_prefix (icon, "view-"))
        set_one (child, _ ("Show or hide the password"));
      else if (icon != NULL && tooltip != NULL && g_str_equal (icon, "adw-entry-apply-symbolic"))
        set_one (child, tooltip);
      else if (!GTK_IS_POPOVER (child))
        name_icon_buttons (child);
    }
}

/* A button's content (AdwButtonContent) links its label to the button
 * once it is in a window: name it again when it shows. */
static void
on_map_rename (GtkWidget *widget)
{
  const char *name = g_object_get_data (G_OBJECT (widget), NAMED_KEY);

  if (name != NULL)
    set_one (widget, name);
}

void
sp_a11y_set_name (GtkWidget *widget, const char *name)
{
  g_return_if_fail (GTK_IS_WIDGET (widget));
  g_return_if_fail (name != NULL);

  if (g_object_get_data (G_OBJECT (widget), NAMED_KEY) == NULL)
    g_signal_connect (widget, "map", G_CALLBACK (on_map_rename), NULL);
  g_object_set_data_full (G_OBJECT (widget), NAMED_KEY, g_strdup (name), g_free);
  set_one (widget, name);
  set_inner_text (widget, name);
  if (ADW_IS_ENTRY_ROW (widget))
    name_icon_buttons (widget);
}

void
sp_a11y_name_inner_toggles (GtkWidget *widget, const char *name)
{
  g_return_if_fail (GTK_IS_WIDGET (widget));

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      /* A password row's peek "button" is an image that takes clicks. */
      gboolean icon_toggle =
          GTK_IS_TOGGLE_BUTTON (child) && gtk_button_get_label (GTK_BUTTON (child)) == NULL;
      gboolean clickable_image =
          GTK_IS_IMAGE (child) &&
          gtk_accessible_get_accessible_role (GTK_ACCESSIBLE (child)) == GTK_ACCESSIBLE_ROLE_BUTTON;

      if (icon_toggle || clickable_image)
        {
          gtk_accessible_update_property (GTK_ACCESSIBLE (child), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                          name, -1);
          if (gtk_widget_get_tooltip_text (child) == NULL)
            gtk_widget_set_tooltip_text (child, name);
        }
      else if (!GTK_IS_POPOVER (child))
        sp_a11y_name_inner_toggles (child, name);
    }
}

/* "_Cancel" -> "Cancel", "Save __all" -> "Save _all". */
static char *
strip_mnemonic (const char *label)
{
  GString *out = g_string_sized_new (strlen (label));

  for (const char *p = label; *p != '\0'; p++)
    {
      if (*p == '_' && p[1] != '\0')
        p++;
      g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

static gboolean
is_named (GtkWidget *widget)
{
  return g_object_get_data (G_OBJECT (widget), NAMED_KEY) != NULL;
}

static void
clean_one (GtkWidget *widget)
{
  const char *text = NULL;

  if (is_named (widget))
    return;
  if (GTK_IS_BUTTON (widget) && !GTK_IS_LINK_BUTTON (widget))
    {
      GtkWidget *child = gtk_button_get_child (GTK_BUTTON (widget));

      text = gtk_button_get_label (GTK_BUTTON (widget));
      /* A button around a label of its own (About's version button). */
      if (text == NULL && GTK_IS_LABEL (child))
        text = gtk_label_get_text (GTK_LABEL (child));
    }
  else if (ADW_IS_ENTRY_ROW (widget) || ADW_IS_COMBO_ROW (widget))
    text = adw_preferences_row_get_title (ADW_PREFERENCES_ROW (widget));
  if (text != NULL && text[0] != '\0')
    {
      g_autofree char *name = strip_mnemonic (text);
      sp_a11y_set_name (widget, name);
    }
}

void
sp_a11y_clean_tree (GtkWidget *root)
{
  g_return_if_fail (GTK_IS_WIDGET (root));

  clean_one (root);
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    sp_a11y_clean_tree (child);
}
