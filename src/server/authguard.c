#include "server/authguard.h"

#include <string.h>

/* How many of the least recently seen entries eviction looks at for one
 * that is not blocked; bounds the cost of one insertion. */
#define EVICT_SCAN 32

typedef struct
{
  char *address;
  GList link; /* in SpAuthGuard.lru; data points back here */
  gint64 blocked_until;
  guint n_times;
  guint head; /* index of the oldest recorded failure in times */
  gint64 times[SP_AUTH_GUARD_MAX_FAILURES];
} Entry;

struct _SpAuthGuard
{
  guint max_failures;
  gint64 window;
  gint64 block;
  guint max_entries;
  GHashTable *entries; /* address -> Entry (owned) */
  GQueue lru;          /* least recently seen first */
  guint64 n_ignored;
};

static void
entry_free (Entry *entry)
{
  g_free (entry->address);
  g_free (entry);
}

SpAuthGuard *
sp_auth_guard_new (guint max_failures, guint window_seconds, guint block_seconds, guint max_entries)
{
  SpAuthGuard *guard = g_new0 (SpAuthGuard, 1);

  guard->max_failures = CLAMP (max_failures, 1, SP_AUTH_GUARD_MAX_FAILURES);
  guard->window = MAX (window_seconds, 1);
  guard->block = MAX (block_seconds, 1);
  guard->max_entries = MAX (max_entries, 1);
  guard->entries =
      g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) entry_free);
  g_queue_init (&guard->lru);
  return guard;
}

void
sp_auth_guard_free (SpAuthGuard *guard)
{
  if (guard == NULL)
    return;
  /* The queue's links live inside the entries: freeing the table frees
   * them, so the queue must not free them (no g_queue_clear). */
  g_hash_table_unref (guard->entries);
  g_free (guard);
}

static void
remove_entry (SpAuthGuard *guard, Entry *entry)
{
  g_queue_unlink (&guard->lru, &entry->link);
  g_hash_table_remove (guard->entries, entry->address);
}

static void
evict_one (SpAuthGuard *guard, gint64 now)
{
  GList *l = guard->lru.head;

  for (guint i = 0; l != NULL && i < EVICT_SCAN; i++, l = l->next)
    {
      Entry *entry = l->data;

      if (entry->blocked_until <= now)
        {
          remove_entry (guard, entry);
          return;
        }
    }
  remove_entry (guard, guard->lru.head->data);
}

static void
touch (SpAuthGuard *guard, Entry *entry)
{
  g_queue_unlink (&guard->lru, &entry->link);
  g_queue_push_tail_link (&guard->lru, &entry->link);
}

gboolean
sp_auth_guard_is_blocked (SpAuthGuard *guard, const char *address, gint64 now)
{
  Entry *entry;

  g_return_val_if_fail (guard != NULL, FALSE);
  entry = address != NULL ? g_hash_table_lookup (guard->entries, address) : NULL;
  if (entry == NULL || entry->blocked_until <= now)
    return FALSE;
  guard->n_ignored++;
  return TRUE;
}

gboolean
sp_auth_guard_record_failure (SpAuthGuard *guard, const char *address, gint64 now)
{
  Entry *entry;
  guint tail;

  g_return_val_if_fail (guard != NULL, FALSE);
  g_return_val_if_fail (address != NULL, FALSE);
  entry = g_hash_table_lookup (guard->entries, address);
  if (entry == NULL)
    {
      if (g_hash_table_size (guard->entries) >= guard->max_entries)
        evict_one (guard, now);
      entry = g_new0 (Entry, 1);
      entry->address = g_strdup (address);
      entry->link.data = entry;
      g_hash_table_insert (guard->entries, entry->address, entry);
      g_queue_push_tail_link (&guard->lru, &entry->link);
    }
  else
    touch (guard, entry);
  if (entry->blocked_until > now)
    return FALSE; /* already blocked: the block is not extended */

  /* A ring of the last max_failures failure times. */
  tail = (entry->head + entry->n_times) % guard->max_failures;
  if (entry->n_times == guard->max_failures)
    {
      entry->times[entry->head] = now;
      entry->head = (entry->head + 1) % guard->max_failures;
    }
  else
    {
      entry->times[tail] = now;
      entry->n_times++;
    }
  if (entry->n_times < guard->max_failures || now - entry->times[entry->head] >= guard->window)
    return FALSE;
  entry->blocked_until = now + guard->block;
  entry->n_times = 0;
  entry->head = 0;
  return TRUE;
}

void
sp_auth_guard_forget (SpAuthGuard *guard, const char *address)
{
  Entry *entry;

  g_return_if_fail (guard != NULL);
  entry = address != NULL ? g_hash_table_lookup (guard->entries, address) : NULL;
  if (entry != NULL)
    remove_entry (guard, entry);
}

guint
sp_auth_guard_get_n_entries (SpAuthGuard *guard)
{
  return g_hash_table_size (guard->entries);
}

guint64
sp_auth_guard_get_n_ignored (SpAuthGuard *guard)
{
  return guard->n_ignored;
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

GPtrArray *
sp_auth_guard_list_blocked (SpAuthGuard *guard, gint64 now)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);

  for (GList *l = guard->lru.head; l != NULL; l = l->next)
    {
      Entry *entry = l->data;

      if (entry->blocked_until > now)
        g_ptr_array_add (out, g_strdup (entry->address));
    }
  g_ptr_array_sort (out, compare_strings);
  return out;
}
