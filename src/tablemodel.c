#include "tablemodel.h"

struct _SpTableItem
{
  GObject parent_instance;
  gpointer value;
  GDestroyNotify free_value;
};

G_DEFINE_FINAL_TYPE (SpTableItem, sp_table_item, G_TYPE_OBJECT)

static void
sp_table_item_finalize (GObject *object)
{
  SpTableItem *self = SP_TABLE_ITEM (object);

  if (self->free_value != NULL && self->value != NULL)
    self->free_value (self->value);
  G_OBJECT_CLASS (sp_table_item_parent_class)->finalize (object);
}

static void
sp_table_item_class_init (SpTableItemClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sp_table_item_finalize;
}

static void
sp_table_item_init (SpTableItem *self)
{
}

gconstpointer
sp_table_item_get_value (SpTableItem *self)
{
  g_return_val_if_fail (SP_IS_TABLE_ITEM (self), NULL);
  return self->value;
}

struct _SpTableModel
{
  GObject parent_instance;
  GWeakRef source;
  SpTableSnapshotFunc snapshot;
  GEqualFunc same;
  GDestroyNotify free_value;
  GPtrArray *items; /* SpTableItem, owned */
};

static void sp_table_model_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (SpTableModel, sp_table_model, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      sp_table_model_list_model_init))

static GType
get_item_type (GListModel *model)
{
  return SP_TYPE_TABLE_ITEM;
}

static guint
get_n_items (GListModel *model)
{
  return SP_TABLE_MODEL (model)->items->len;
}

static gpointer
get_item (GListModel *model, guint position)
{
  SpTableModel *self = SP_TABLE_MODEL (model);

  if (position >= self->items->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->items, position));
}

static void
sp_table_model_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = get_item_type;
  iface->get_n_items = get_n_items;
  iface->get_item = get_item;
}

static void
sp_table_model_finalize (GObject *object)
{
  SpTableModel *self = SP_TABLE_MODEL (object);

  g_weak_ref_clear (&self->source);
  g_ptr_array_unref (self->items);
  G_OBJECT_CLASS (sp_table_model_parent_class)->finalize (object);
}

static void
sp_table_model_class_init (SpTableModelClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sp_table_model_finalize;
}

static void
sp_table_model_init (SpTableModel *self)
{
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
}

static gboolean
item_is (SpTableModel *self, guint old_index, GPtrArray *values, guint new_index)
{
  SpTableItem *item = g_ptr_array_index (self->items, old_index);

  return self->same (item->value, g_ptr_array_index (values, new_index));
}

void
sp_table_model_refresh (SpTableModel *self)
{
  g_autoptr (GObject) source = NULL;
  g_autoptr (GPtrArray) values = NULL;
  guint old_n, new_n, head = 0, tail = 0;

  g_return_if_fail (SP_IS_TABLE_MODEL (self));
  source = g_weak_ref_get (&self->source);
  values = source != NULL ? self->snapshot (source) : g_ptr_array_new ();
  /* Values move into new items; the others are freed here. */
  g_ptr_array_set_free_func (values, NULL);
  old_n = self->items->len;
  new_n = values->len;
  /* The unchanged head and tail keep their items; the middle is
   * replaced (one entry added, removed or changed is one splice). */
  while (head < old_n && head < new_n && item_is (self, head, values, head))
    head++;
  while (tail < old_n - head && tail < new_n - head &&
         item_is (self, old_n - 1 - tail, values, new_n - 1 - tail))
    tail++;
  for (guint i = 0; i < new_n; i++)
    if (i < head || i >= new_n - tail)
      self->free_value (g_ptr_array_index (values, i));
  if (head + tail == old_n && old_n == new_n)
    return;
  g_ptr_array_remove_range (self->items, head, old_n - head - tail);
  for (guint i = head; i < new_n - tail; i++)
    {
      SpTableItem *item = g_object_new (SP_TYPE_TABLE_ITEM, NULL);

      item->value = g_ptr_array_index (values, i);
      item->free_value = self->free_value;
      g_ptr_array_insert (self->items, (int) i, item);
    }
  g_list_model_items_changed (G_LIST_MODEL (self), head, old_n - head - tail, new_n - head - tail);
}

SpTableModel *
sp_table_model_new (GObject *source, const char *signal, SpTableSnapshotFunc snapshot,
                    GEqualFunc same, GDestroyNotify free_value)
{
  SpTableModel *self;

  g_return_val_if_fail (G_IS_OBJECT (source), NULL);
  g_return_val_if_fail (snapshot != NULL && same != NULL && free_value != NULL, NULL);
  self = g_object_new (SP_TYPE_TABLE_MODEL, NULL);
  g_weak_ref_init (&self->source, source);
  self->snapshot = snapshot;
  self->same = same;
  self->free_value = free_value;
  /* Every signal's handler gets the model first (swapped); the signal's
   * own arguments are not needed, a snapshot says everything. */
  g_signal_connect_object (source, signal, G_CALLBACK (sp_table_model_refresh), self,
                           G_CONNECT_SWAPPED);
  sp_table_model_refresh (self);
  return self;
}
