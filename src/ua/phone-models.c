#include "ua/phone-models.h"

static GPtrArray *
snapshot_history (gpointer source)
{
  SpHistory *history = sp_phone_get_history (SP_PHONE (source));
  const GPtrArray *records = history != NULL ? sp_history_get_records (history) : NULL;
  guint n = records != NULL ? records->len : 0;
  GPtrArray *newest_first = g_ptr_array_new_full (MIN (n, SP_PHONE_HISTORY_MODEL_MAX),
                                                  (GDestroyNotify) sp_call_record_free);

  for (guint i = n; i > 0 && n - i < SP_PHONE_HISTORY_MODEL_MAX; i--)
    g_ptr_array_add (newest_first, sp_call_record_copy (g_ptr_array_index (records, i - 1)));
  return newest_first;
}

static gboolean
same_record (gconstpointer a, gconstpointer b)
{
  const SpCallRecord *x = a, *y = b;

  return x->start_time == y->start_time && x->direction == y->direction &&
         x->outcome == y->outcome && x->duration == y->duration &&
         g_strcmp0 (x->peer, y->peer) == 0 && g_strcmp0 (x->display_name, y->display_name) == 0;
}

GListModel *
sp_phone_get_history_model (SpPhone *phone)
{
  SpTableModel *model;

  g_return_val_if_fail (SP_IS_PHONE (phone), NULL);
  /* On the phone object as data, beside it rather than in it: a view of
   * its public history made only when a front end shows it. */
  model = g_object_get_data (G_OBJECT (phone), "sp-history-model");
  if (model == NULL)
    {
      model = sp_table_model_new (G_OBJECT (phone), "call-ended", snapshot_history, same_record,
                                  (GDestroyNotify) sp_call_record_free);
      g_object_set_data_full (G_OBJECT (phone), "sp-history-model", model, g_object_unref);
    }
  return G_LIST_MODEL (model);
}
