#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A GListModel face for a table of the core that is not a list of
 * GObjects (the server's users, routes, registrations and calls, the call
 * history), so front ends bind views to it instead of rebuilding them.
 *
 * The model takes a snapshot of the table whenever its source emits the
 * given signal, compares it with the one it holds, and emits
 * items-changed for the part that differs only: rows of entries that did
 * not change keep their widgets. Items are SpTableItem objects holding
 * one value of the snapshot each. Main loop only. */

#define SP_TYPE_TABLE_ITEM (sp_table_item_get_type ())
G_DECLARE_FINAL_TYPE (SpTableItem, sp_table_item, SP, TABLE_ITEM, GObject)

/* The value, owned by the item and never changed. */
gconstpointer sp_table_item_get_value (SpTableItem *self);

/* A new array of the table's values, in display order; the model takes
 * the values (moved into items, or freed with the model's @free_value). */
typedef GPtrArray *(*SpTableSnapshotFunc) (gpointer source);

#define SP_TYPE_TABLE_MODEL (sp_table_model_get_type ())
G_DECLARE_FINAL_TYPE (SpTableModel, sp_table_model, SP, TABLE_MODEL, GObject)

/* Watches @source (not referenced: the model reads nothing once it is
 * gone) through @signal (any signature); @same tells two values that
 * look the same to a person (the row can stay); @free_value frees one. */
SpTableModel *sp_table_model_new (GObject *source, const char *signal, SpTableSnapshotFunc snapshot,
                                  GEqualFunc same, GDestroyNotify free_value);
/* Takes a snapshot now (for a change the signal does not tell). */
void sp_table_model_refresh (SpTableModel *self);

G_END_DECLS
