#include "server/calllist.h"

struct _SpServerCallList
{
  GObject parent_instance;
  GPtrArray *calls; /* SpServerCall, oldest first */
};

enum
{
  SIGNAL_CHANGED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

G_DEFINE_BOXED_TYPE (SpServerCall, sp_server_call, sp_server_call_copy, sp_server_call_free)
G_DEFINE_TYPE (SpServerCallList, sp_server_call_list, G_TYPE_OBJECT)

SpServerCall *
sp_server_call_copy (const SpServerCall *call)
{
  SpServerCall *copy = g_new (SpServerCall, 1);

  *copy = *call;
  copy->id = g_strdup (call->id);
  copy->caller = g_strdup (call->caller);
  copy->called = g_strdup (call->called);
  copy->callee = g_strdup (call->callee);
  copy->state = g_strdup (call->state);
  return copy;
}

void
sp_server_call_free (SpServerCall *call)
{
  if (call == NULL)
    return;
  g_free (call->id);
  g_free (call->caller);
  g_free (call->called);
  g_free (call->callee);
  g_free (call->state);
  g_free (call);
}

static void
sp_server_call_list_finalize (GObject *object)
{
  g_ptr_array_unref (SP_SERVER_CALL_LIST (object)->calls);
  G_OBJECT_CLASS (sp_server_call_list_parent_class)->finalize (object);
}

static void
sp_server_call_list_class_init (SpServerCallListClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sp_server_call_list_finalize;
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
sp_server_call_list_init (SpServerCallList *list)
{
  list->calls = g_ptr_array_new_with_free_func ((GDestroyNotify) sp_server_call_free);
}

SpServerCallList *
sp_server_call_list_new (void)
{
  return g_object_new (SP_TYPE_SERVER_CALL_LIST, NULL);
}

static int
find_call (SpServerCallList *list, const char *id)
{
  for (guint i = 0; id != NULL && i < list->calls->len; i++)
    if (g_strcmp0 (((SpServerCall *) list->calls->pdata[i])->id, id) == 0)
      return i;
  return -1;
}

gboolean
sp_server_call_list_add (SpServerCallList *list, const SpServerCall *call)
{
  g_return_val_if_fail (SP_IS_SERVER_CALL_LIST (list), FALSE);
  if (call == NULL || call->id == NULL || find_call (list, call->id) >= 0)
    return FALSE;
  g_ptr_array_add (list->calls, sp_server_call_copy (call));
  g_signal_emit (list, signals[SIGNAL_CHANGED], 0);
  return TRUE;
}

gboolean
sp_server_call_list_set_state (SpServerCallList *list, const char *id, const char *state,
                               gint64 answered)
{
  SpServerCall *call;
  int index;

  g_return_val_if_fail (SP_IS_SERVER_CALL_LIST (list), FALSE);
  index = find_call (list, id);
  if (index < 0)
    return FALSE;
  call = list->calls->pdata[index];
  g_free (call->state);
  call->state = g_strdup (state);
  if (answered != 0)
    call->answered = answered;
  g_signal_emit (list, signals[SIGNAL_CHANGED], 0);
  return TRUE;
}

gboolean
sp_server_call_list_remove (SpServerCallList *list, const char *id)
{
  int index;

  g_return_val_if_fail (SP_IS_SERVER_CALL_LIST (list), FALSE);
  index = find_call (list, id);
  if (index < 0)
    return FALSE;
  g_ptr_array_remove_index (list->calls, index);
  g_signal_emit (list, signals[SIGNAL_CHANGED], 0);
  return TRUE;
}

guint
sp_server_call_list_get_n_calls (SpServerCallList *list)
{
  g_return_val_if_fail (SP_IS_SERVER_CALL_LIST (list), 0);
  return list->calls->len;
}

GPtrArray *
sp_server_call_list_get_calls (SpServerCallList *list)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) sp_server_call_free);

  g_return_val_if_fail (SP_IS_SERVER_CALL_LIST (list), out);
  for (guint i = 0; i < list->calls->len; i++)
    g_ptr_array_add (out, sp_server_call_copy (list->calls->pdata[i]));
  return out;
}
