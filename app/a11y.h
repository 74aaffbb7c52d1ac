#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Accessible names as a screen reader should say them.
 *
 * GTK 4.8 names a control by its accessible label followed by the names
 * of whatever labels it: a button with a mnemonic label is announced
 * "_Call Call", an AdwActionRow's switch "Run the SIP server Run the SIP
 * Server". These set the one name and drop the labelling relation, on the
 * widget and on the text field inside an entry row or a combo row. */
void sp_a11y_set_name (GtkWidget *widget, const char *name);

/* Names the unnamed toggle buttons inside a composite widget (a
 * drop-down's toggle, a password row's peek button), which GTK would
 * announce by their class name ("GtkToggleButton", "GtkImage"). */
void sp_a11y_name_inner_toggles (GtkWidget *widget, const char *name);

/* The same for every control under @root that sp_a11y_set_name has not
 * named: a button is named by its label without the mnemonic underscore,
 * an entry or combo row by its title, a password row's peek button
 * "Show or hide the password". For dialogs built from a template or with
 * responses, once their widgets exist. */
void sp_a11y_clean_tree (GtkWidget *root);

G_END_DECLS
