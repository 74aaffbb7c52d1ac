#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Small pieces the window's pages share. */

/* A flat icon button for a list row that runs @action_name with @target
 * (floating references are sunk; NULL: none): @tooltip for the eye,
 * @a11y_name for a screen reader ("Remove user alice"). */
GtkWidget *sp_page_action_button (const char *icon, const char *tooltip, const char *a11y_name,
                                  const char *action_name, GVariant *target);

/* The text a boxed list shows when empty, as GNOME apps style it. */
GtkWidget *sp_page_placeholder_label (const char *text);

G_END_DECLS
