#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A GListModel face for a table of the core that is not a list of
 * GObjects (the server's users, routes, registrations and calls, the call
 * history), so front ends bind views to it instead of rebuilding them.
 *
 * When its source emits the given signal, the model does not look at the
 * table at once: changes are coalesced and applied when the main loop is
 * next idle, and at most every SP_TABLE_MODEL_INTERVAL_MS, so a burst of
 * changes (REGISTERs while the Server page is open) costs one update.
 * An update takes a snapshot of the table (or, for a keyed model, of the
 * rows of each key the signal named), compares it with what the model
 * holds, and emits items-changed for the part that differs only: rows of
 * entries that did not change keep their widgets. Items are SpTableItem
 * objects holding one value of the snapshot each. Main loop only. */

/* The shortest time between two updates of a model. */
#define SP_TABLE_MODEL_INTERVAL_MS 50

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
/* Takes a snapshot of the whole table now (for a change the signal does
 * not tell); pending changes are applied with it. */
void sp_table_model_refresh (SpTableModel *self);
/* Applies pending changes now, if any (tests; a front end never needs to). */
void sp_table_model_flush (SpTableModel *self);

/* The rows of @key, in display order (values as for SpTableSnapshotFunc). */
typedef GPtrArray *(*SpTableKeySnapshotFunc) (gpointer source, const char *key);
/* Where @value's row is against the rows of @key: < 0 before them, 0
 * among them, > 0 after them (the table is in key order). */
typedef int (*SpTableKeyCompareFunc) (gconstpointer value, const char *key);

/* Makes the model keyed: its signal's first argument is a string, the
 * key whose rows changed (SpLocationStore's "changed" (aor)); an update
 * then reads only the rows of the keys named since the last one (a
 * binary search and a splice each), not the whole table. Past 256 keys
 * pending, one full snapshot is cheaper and is taken instead. */
void sp_table_model_set_keyed (SpTableModel *self, SpTableKeySnapshotFunc snapshot_key,
                               SpTableKeyCompareFunc compare_key);

G_END_DECLS
