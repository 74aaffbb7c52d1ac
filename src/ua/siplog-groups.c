#include "config.h"

#include "ua/siplog-groups.h"

#include <string.h>

/* A method token longer than this is no method a group is made for. */
#define MAX_METHOD 32

struct _SpSipLogGroup
{
  GObject parent_instance;

  SpSipLogGroupKind kind;
  char *method;
  char *peer;
  char *call_id;
  guint n_messages; /* this group's entries in the log */
  guint64 last_use; /* serial of its newest message, for the idle order */
  gboolean listed;
};

G_DEFINE_FINAL_TYPE (SpSipLogGroup, sp_sip_log_group, G_TYPE_OBJECT)

static void
sp_sip_log_group_finalize (GObject *object)
{
  SpSipLogGroup *self = SP_SIP_LOG_GROUP (object);

  g_free (self->method);
  g_free (self->peer);
  g_free (self->call_id);
  G_OBJECT_CLASS (sp_sip_log_group_parent_class)->finalize (object);
}

static void
sp_sip_log_group_class_init (SpSipLogGroupClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sp_sip_log_group_finalize;
}

static void
sp_sip_log_group_init (SpSipLogGroup *self)
{
}

SpSipLogGroupKind
sp_sip_log_group_get_kind (SpSipLogGroup *self)
{
  g_return_val_if_fail (SP_IS_SIP_LOG_GROUP (self), SP_SIP_LOG_GROUP_ALL);
  return self->kind;
}

const char *
sp_sip_log_group_get_method (SpSipLogGroup *self)
{
  g_return_val_if_fail (SP_IS_SIP_LOG_GROUP (self), NULL);
  return self->method;
}

const char *
sp_sip_log_group_get_peer (SpSipLogGroup *self)
{
  g_return_val_if_fail (SP_IS_SIP_LOG_GROUP (self), NULL);
  return self->peer;
}

const char *
sp_sip_log_group_get_call_id (SpSipLogGroup *self)
{
  g_return_val_if_fail (SP_IS_SIP_LOG_GROUP (self), NULL);
  return self->call_id;
}

guint
sp_sip_log_group_get_n_messages (SpSipLogGroup *self)
{
  g_return_val_if_fail (SP_IS_SIP_LOG_GROUP (self), 0);
  return self->n_messages;
}

gboolean
sp_sip_log_group_is_listed (SpSipLogGroup *self)
{
  g_return_val_if_fail (SP_IS_SIP_LOG_GROUP (self), FALSE);
  return self->listed;
}

/* The model. */

struct _SpSipLogGroups
{
  GObject parent_instance;

  SpSipLog *log; /* owned */
  guint max_groups;
  GPtrArray *listed;      /* SpSipLogGroup, owned; list order, [0] is "all" */
  GHashTable *by_call_id; /* Call-ID -> listed call or registration, unowned */
  GHashTable *by_method;  /* method -> listed OTHER group, unowned */
  GQueue *shadow;         /* per log entry, oldest first: its group (owned) or NULL */
  guint64 serial;
};

static void sp_sip_log_groups_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (SpSipLogGroups, sp_sip_log_groups, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      sp_sip_log_groups_list_model_init))

static GType
groups_get_item_type (GListModel *model)
{
  return SP_TYPE_SIP_LOG_GROUP;
}

static guint
groups_get_n_items (GListModel *model)
{
  return SP_SIP_LOG_GROUPS (model)->listed->len;
}

static gpointer
groups_get_item (GListModel *model, guint position)
{
  SpSipLogGroups *self = SP_SIP_LOG_GROUPS (model);

  if (position >= self->listed->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->listed, position));
}

static void
sp_sip_log_groups_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = groups_get_item_type;
  iface->get_n_items = groups_get_n_items;
  iface->get_item = groups_get_item;
}

/* "1 INVITE" -> "INVITE"; NULL when there is no method token. */
static char *
cseq_method (SpSipLogEntry *entry)
{
  const char *cseq = sp_sip_log_entry_get_cseq (entry);
  gsize n = 0;

  if (cseq == NULL)
    {
      const char *method = sp_sip_log_entry_get_method (entry);
      return method != NULL ? g_strndup (method, MAX_METHOD) : NULL;
    }
  while (g_ascii_isdigit (*cseq))
    cseq++;
  while (*cseq == ' ' || *cseq == '\t')
    cseq++;
  while (n <= MAX_METHOD && g_ascii_isgraph (cseq[n]))
    n++;
  return n > 0 && n <= MAX_METHOD ? g_strndup (cseq, n) : NULL;
}

/* Requests that only travel inside an INVITE dialog (RFC 3261, 3262, 3311,
 * 3515, 6086): they join the call of their Call-ID. */
static gboolean
is_call_method (const char *method)
{
  static const char *const methods[] = { "INVITE", "ACK",    "BYE",  "CANCEL",
                                         "PRACK",  "UPDATE", "INFO", "REFER" };

  for (guint i = 0; i < G_N_ELEMENTS (methods); i++)
    if (strcmp (method, methods[i]) == 0)
      return TRUE;
  return FALSE;
}

static SpSipLogGroupKind
kind_of (const char *method, const char *call_id)
{
  if (call_id == NULL)
    return SP_SIP_LOG_GROUP_OTHER;
  if (is_call_method (method))
    return SP_SIP_LOG_GROUP_CALL;
  if (strcmp (method, "REGISTER") == 0)
    return SP_SIP_LOG_GROUP_REGISTRATION;
  return SP_SIP_LOG_GROUP_OTHER;
}

/* The listed group of entry, NULL when none; *method_out (may be NULL)
 * gets the CSeq method for a new group. A Call-ID already known as a call
 * wins over the method, so an OPTIONS inside a call stays with the call. */
static SpSipLogGroup *
find_group (SpSipLogGroups *self, SpSipLogEntry *entry, char **method_out)
{
  const char *call_id = sp_sip_log_entry_get_call_id (entry);
  g_autofree char *method = NULL;
  SpSipLogGroup *group = NULL;

  if (call_id != NULL)
    group = g_hash_table_lookup (self->by_call_id, call_id);
  if (group == NULL)
    {
      method = cseq_method (entry);
      if (method != NULL && kind_of (method, call_id) == SP_SIP_LOG_GROUP_OTHER)
        group = g_hash_table_lookup (self->by_method, method);
    }
  if (method_out != NULL)
    *method_out = g_steal_pointer (&method);
  return group;
}

static void
unlist (SpSipLogGroups *self, SpSipLogGroup *group)
{
  guint position;

  if (!group->listed || !g_ptr_array_find (self->listed, group, &position))
    return;
  group->listed = FALSE;
  if (group->kind == SP_SIP_LOG_GROUP_OTHER)
    g_hash_table_remove (self->by_method, group->method);
  else
    g_hash_table_remove (self->by_call_id, group->call_id);
  /* The array owns the group; the shadow may hold more references. */
  g_ptr_array_remove_index (self->listed, position);
  g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 0);
}

/* Makes room for one more group: the one idle longest leaves. Its
 * messages stay in the log, under "all messages". */
static void
make_room (SpSipLogGroups *self)
{
  SpSipLogGroup *oldest = NULL;

  if (self->listed->len - 1 < self->max_groups)
    return;
  for (guint i = 1; i < self->listed->len; i++)
    {
      SpSipLogGroup *group = g_ptr_array_index (self->listed, i);
      if (oldest == NULL || group->last_use < oldest->last_use)
        oldest = group;
    }
  if (oldest != NULL)
    unlist (self, oldest);
}

static SpSipLogGroup *
add_group (SpSipLogGroups *self, SpSipLogEntry *entry, char *method)
{
  SpSipLogGroup *group = g_object_new (SP_TYPE_SIP_LOG_GROUP, NULL);
  const char *call_id = sp_sip_log_entry_get_call_id (entry);
  gboolean sent = sp_sip_log_entry_get_direction (entry) == SP_SIP_LOG_DIRECTION_SENT;

  make_room (self);
  group->kind = kind_of (method, call_id);
  group->method = method;
  group->listed = TRUE;
  if (group->kind == SP_SIP_LOG_GROUP_OTHER)
    g_hash_table_insert (self->by_method, group->method, group);
  else
    {
      group->call_id = g_strdup (call_id);
      group->peer =
          g_strdup (sent ? sp_sip_log_entry_get_dst (entry) : sp_sip_log_entry_get_src (entry));
      g_hash_table_insert (self->by_call_id, group->call_id, group);
    }
  g_ptr_array_add (self->listed, group);
  g_list_model_items_changed (G_LIST_MODEL (self), self->listed->len - 1, 0, 1);
  return group;
}

static void
on_appended (SpSipLogGroups *self, SpSipLogEntry *entry)
{
  g_autofree char *method = NULL;
  SpSipLogGroup *group = find_group (self, entry, &method);

  if (group == NULL && method != NULL)
    group = add_group (self, entry, g_steal_pointer (&method));
  if (group != NULL)
    {
      group->n_messages++;
      group->last_use = ++self->serial;
      g_object_ref (group);
    }
  g_queue_push_tail (self->shadow, group);
}

static void
on_dropped (SpSipLogGroups *self)
{
  SpSipLogGroup *group = g_queue_pop_head (self->shadow);

  if (group == NULL)
    return;
  group->n_messages--;
  if (group->n_messages == 0)
    unlist (self, group);
  g_object_unref (group);
}

static void
update_all_count (SpSipLogGroups *self)
{
  SpSipLogGroup *all = g_ptr_array_index (self->listed, 0);

  all->n_messages = g_list_model_get_n_items (G_LIST_MODEL (self->log));
}

static void
on_log_changed (GListModel *log, guint position, guint removed, guint added, SpSipLogGroups *self)
{
  guint n = g_list_model_get_n_items (log);

  /* The log only appends at the end and drops from the front (or all);
   * anything else is recounted from scratch. */
  if (position == 0 && added == 0 && removed <= self->shadow->length)
    for (guint i = 0; i < removed; i++)
      on_dropped (self);
  else if (removed == 0 && position == self->shadow->length && position + added == n)
    for (guint i = position; i < n; i++)
      {
        g_autoptr (SpSipLogEntry) entry = g_list_model_get_item (log, i);
        on_appended (self, entry);
      }
  else
    {
      while (self->shadow->length > 0)
        on_dropped (self);
      for (guint i = 0; i < n; i++)
        {
          g_autoptr (SpSipLogEntry) entry = g_list_model_get_item (log, i);
          on_appended (self, entry);
        }
    }
  update_all_count (self);
}

static void
unref_group (gpointer group)
{
  if (group != NULL)
    g_object_unref (group);
}

static void
sp_sip_log_groups_dispose (GObject *object)
{
  SpSipLogGroups *self = SP_SIP_LOG_GROUPS (object);

  if (self->log != NULL)
    g_signal_handlers_disconnect_by_func (self->log, on_log_changed, self);
  g_clear_object (&self->log);
  if (self->shadow != NULL)
    {
      g_queue_free_full (self->shadow, unref_group);
      self->shadow = NULL;
    }
  G_OBJECT_CLASS (sp_sip_log_groups_parent_class)->dispose (object);
}

static void
sp_sip_log_groups_finalize (GObject *object)
{
  SpSipLogGroups *self = SP_SIP_LOG_GROUPS (object);

  g_hash_table_unref (self->by_call_id);
  g_hash_table_unref (self->by_method);
  g_ptr_array_unref (self->listed);
  G_OBJECT_CLASS (sp_sip_log_groups_parent_class)->finalize (object);
}

static void
sp_sip_log_groups_class_init (SpSipLogGroupsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sp_sip_log_groups_dispose;
  object_class->finalize = sp_sip_log_groups_finalize;
}

static void
sp_sip_log_groups_init (SpSipLogGroups *self)
{
  SpSipLogGroup *all = g_object_new (SP_TYPE_SIP_LOG_GROUP, NULL);

  all->kind = SP_SIP_LOG_GROUP_ALL;
  all->listed = TRUE;
  self->listed = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (self->listed, all);
  self->by_call_id = g_hash_table_new (g_str_hash, g_str_equal);
  self->by_method = g_hash_table_new (g_str_hash, g_str_equal);
  self->shadow = g_queue_new ();
}

SpSipLogGroups *
sp_sip_log_groups_new (SpSipLog *log, guint max_groups)
{
  SpSipLogGroups *self;

  g_return_val_if_fail (SP_IS_SIP_LOG (log), NULL);
  g_return_val_if_fail (max_groups > 0, NULL);
  self = g_object_new (SP_TYPE_SIP_LOG_GROUPS, NULL);
  self->log = g_object_ref (log);
  self->max_groups = max_groups;
  on_log_changed (G_LIST_MODEL (log), 0, 0, g_list_model_get_n_items (G_LIST_MODEL (log)), self);
  g_signal_connect (log, "items-changed", G_CALLBACK (on_log_changed), self);
  return self;
}

SpSipLogGroup *
sp_sip_log_groups_lookup (SpSipLogGroups *self, SpSipLogEntry *entry)
{
  SpSipLogGroup *group;

  g_return_val_if_fail (SP_IS_SIP_LOG_GROUPS (self), NULL);
  g_return_val_if_fail (SP_IS_SIP_LOG_ENTRY (entry), NULL);
  group = find_group (self, entry, NULL);
  return group != NULL ? group : g_ptr_array_index (self->listed, 0);
}

gboolean
sp_sip_log_groups_match (SpSipLogGroups *self, SpSipLogGroup *group, SpSipLogEntry *entry)
{
  g_return_val_if_fail (SP_IS_SIP_LOG_GROUPS (self), FALSE);
  g_return_val_if_fail (SP_IS_SIP_LOG_GROUP (group), FALSE);
  if (group->kind == SP_SIP_LOG_GROUP_ALL)
    return TRUE;
  return group->listed && find_group (self, entry, NULL) == group;
}
