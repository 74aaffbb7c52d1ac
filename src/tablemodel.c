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

/* Keys pending past this many: a full snapshot instead. */
#define MAX_PENDING_KEYS 256

struct _SpTableModel
{
  GObject parent_instance;
  GWeakRef source;
  char *signal;
  gulong handler_id;
  SpTableSnapshotFunc snapshot;
  GEqualFunc same;
  GDestroyNotify free_value;
  GPtrArray *items; /* SpTableItem, owned */
  /* Keyed models (sp_table_model_set_keyed). */
  SpTableKeySnapshotFunc snapshot_key;
  SpTableKeyCompareFunc compare_key;
  /* Changes not applied yet: the whole table, or these keys. */
  gboolean pending_full;
  GHashTable *pending_keys; /* char * set */
  guint update_id;          /* the idle or timeout that applies them */
  gint64 last_update;       /* monotonic, us */
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

  g_clear_handle_id (&self->update_id, g_source_remove);
  g_weak_ref_clear (&self->source);
  g_ptr_array_unref (self->items);
  g_hash_table_unref (self->pending_keys);
  g_free (self->signal);
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
  self->pending_keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

static gboolean
item_is (SpTableModel *self, guint old_index, GPtrArray *values, guint new_index)
{
  SpTableItem *item = g_ptr_array_index (self->items, old_index);

  return self->same (item->value, g_ptr_array_index (values, new_index));
}

/* Replaces items [@start, @end) with @values (taken): the unchanged head
 * and tail keep their items, the middle is one splice (one entry added,
 * removed or changed is one items-changed of one row). */
static void
splice (SpTableModel *self, guint start, guint end, GPtrArray *values)
{
  guint old_n = end - start, new_n = values->len, head = 0, tail = 0;

  /* Values move into new items; the others are freed here. */
  g_ptr_array_set_free_func (values, NULL);
  while (head < old_n && head < new_n && item_is (self, start + head, values, head))
    head++;
  while (tail < old_n - head && tail < new_n - head &&
         item_is (self, end - 1 - tail, values, new_n - 1 - tail))
    tail++;
  for (guint i = 0; i < new_n; i++)
    if (i < head || i >= new_n - tail)
      self->free_value (g_ptr_array_index (values, i));
  if (head + tail == old_n && old_n == new_n)
    return;
  g_ptr_array_remove_range (self->items, start + head, old_n - head - tail);
  for (guint i = head; i < new_n - tail; i++)
    {
      SpTableItem *item = g_object_new (SP_TYPE_TABLE_ITEM, NULL);

      item->value = g_ptr_array_index (values, i);
      item->free_value = self->free_value;
      g_ptr_array_insert (self->items, (int) (start + i), item);
    }
  g_list_model_items_changed (G_LIST_MODEL (self), start + head, old_n - head - tail,
                              new_n - head - tail);
}

/* The first item whose row is not before @key's rows (@after: after
 * them), by binary search. */
static guint
key_bound (SpTableModel *self, const char *key, gboolean after)
{
  guint lo = 0, hi = self->items->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      SpTableItem *item = g_ptr_array_index (self->items, mid);
      int c = self->compare_key (item->value, key);

      if (c < 0 || (after && c == 0))
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

static void
update_key (SpTableModel *self, GObject *source, const char *key)
{
  g_autoptr (GPtrArray) values = self->snapshot_key (source, key);

  splice (self, key_bound (self, key, FALSE), key_bound (self, key, TRUE), values);
}

static void
clear_pending (SpTableModel *self)
{
  self->pending_full = FALSE;
  g_hash_table_remove_all (self->pending_keys);
  g_clear_handle_id (&self->update_id, g_source_remove);
  self->last_update = g_get_monotonic_time ();
}

void
sp_table_model_refresh (SpTableModel *self)
{
  g_autoptr (GObject) source = NULL;
  g_autoptr (GPtrArray) values = NULL;

  g_return_if_fail (SP_IS_TABLE_MODEL (self));
  clear_pending (self);
  source = g_weak_ref_get (&self->source);
  values = source != NULL ? self->snapshot (source) : g_ptr_array_new ();
  splice (self, 0, self->items->len, values);
}

void
sp_table_model_flush (SpTableModel *self)
{
  g_autoptr (GObject) source = NULL;
  g_autoptr (GHashTable) keys = NULL;
  GHashTableIter iter;
  gpointer key;

  g_return_if_fail (SP_IS_TABLE_MODEL (self));
  if (self->pending_full)
    {
      sp_table_model_refresh (self);
      return;
    }
  if (g_hash_table_size (self->pending_keys) == 0)
    return;
  source = g_weak_ref_get (&self->source);
  if (source == NULL)
    {
      sp_table_model_refresh (self); /* the table is gone: empty */
      return;
    }
  /* A handler of items-changed may change the table again: that is a
   * new pending change, not one of these. */
  keys = g_steal_pointer (&self->pending_keys);
  self->pending_keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  clear_pending (self);
  g_hash_table_iter_init (&iter, keys);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    update_key (self, source, key);
}

static gboolean
on_update_due (gpointer user_data)
{
  SpTableModel *self = user_data;

  self->update_id = 0;
  sp_table_model_flush (self);
  return G_SOURCE_REMOVE;
}

/* At the next idle moment, but not sooner than the interval after the
 * last update: a burst is one update, a stream a few a second. */
static void
schedule_update (SpTableModel *self)
{
  gint64 due = self->last_update + SP_TABLE_MODEL_INTERVAL_MS * 1000;
  gint64 now = g_get_monotonic_time ();

  if (self->update_id != 0)
    return;
  if (now >= due)
    self->update_id = g_idle_add_full (G_PRIORITY_HIGH_IDLE, on_update_due, self, NULL);
  else
    self->update_id = g_timeout_add_full (G_PRIORITY_HIGH_IDLE, (guint) ((due - now + 999) / 1000),
                                          on_update_due, self, NULL);
}

/* Every signal's handler gets the model first (swapped); the signal's own
 * arguments are not needed, a snapshot says everything. */
static void
on_changed (SpTableModel *self)
{
  self->pending_full = TRUE;
  schedule_update (self);
}

static void
on_key_changed (GObject *source, const char *key, SpTableModel *self)
{
  if (key == NULL || g_hash_table_size (self->pending_keys) >= MAX_PENDING_KEYS)
    self->pending_full = TRUE;
  else if (!self->pending_full)
    g_hash_table_add (self->pending_keys, g_strdup (key));
  schedule_update (self);
}

void
sp_table_model_set_keyed (SpTableModel *self, SpTableKeySnapshotFunc snapshot_key,
                          SpTableKeyCompareFunc compare_key)
{
  g_autoptr (GObject) source = NULL;

  g_return_if_fail (SP_IS_TABLE_MODEL (self));
  g_return_if_fail (snapshot_key != NULL && compare_key != NULL);
  if (self->snapshot_key == snapshot_key && self->compare_key == compare_key)
    return;
  source = g_weak_ref_get (&self->source);
  self->snapshot_key = snapshot_key;
  self->compare_key = compare_key;
  if (source == NULL)
    return;
  g_clear_signal_handler (&self->handler_id, source);
  self->handler_id =
      g_signal_connect_object (source, self->signal, G_CALLBACK (on_key_changed), self, 0);
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
  self->signal = g_strdup (signal);
  self->snapshot = snapshot;
  self->same = same;
  self->free_value = free_value;
  self->handler_id =
      g_signal_connect_object (source, signal, G_CALLBACK (on_changed), self, G_CONNECT_SWAPPED);
  sp_table_model_refresh (self);
  return self;
}
