#include "ua/history.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

struct _SpHistory
{
  char *dir;
  char *path;
  guint max_entries;
  GPtrArray *records; /* SpCallRecord, oldest first */
  guint lines_in_file;
};

static const char *const direction_names[] = { "outgoing", "incoming" };
static const char *const outcome_names[] = { "answered", "missed",    "rejected",
                                             "failed",   "cancelled", "answered-elsewhere" };

const char *
sp_call_direction_to_string (SpCallDirection direction)
{
  return (guint) direction < G_N_ELEMENTS (direction_names) ? direction_names[direction]
                                                            : "unknown";
}

const char *
sp_call_outcome_to_string (SpCallOutcome outcome)
{
  return (guint) outcome < G_N_ELEMENTS (outcome_names) ? outcome_names[outcome] : "unknown";
}

static gboolean
lookup_name (const char *const *names, guint n, const char *text, guint *value)
{
  for (guint i = 0; text != NULL && i < n; i++)
    if (strcmp (names[i], text) == 0)
      {
        *value = i;
        return TRUE;
      }
  return FALSE;
}

SpCallRecord *
sp_call_record_new (void)
{
  return g_new0 (SpCallRecord, 1);
}

SpCallRecord *
sp_call_record_copy (const SpCallRecord *record)
{
  SpCallRecord *copy = g_memdup2 (record, sizeof *record);

  copy->peer = g_strdup (record->peer);
  copy->display_name = g_strdup (record->display_name);
  copy->account_id = g_strdup (record->account_id);
  copy->reason = g_strdup (record->reason);
  return copy;
}

void
sp_call_record_free (SpCallRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->peer);
  g_free (record->display_name);
  g_free (record->account_id);
  g_free (record->reason);
  g_free (record);
}

char *
sp_call_record_to_json (const SpCallRecord *record)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "peer");
  json_builder_add_string_value (b, record->peer ? record->peer : "");
  if (record->display_name != NULL)
    {
      json_builder_set_member_name (b, "display_name");
      json_builder_add_string_value (b, record->display_name);
    }
  if (record->account_id != NULL)
    {
      json_builder_set_member_name (b, "account");
      json_builder_add_string_value (b, record->account_id);
    }
  json_builder_set_member_name (b, "direction");
  json_builder_add_string_value (b, sp_call_direction_to_string (record->direction));
  json_builder_set_member_name (b, "outcome");
  json_builder_add_string_value (b, sp_call_outcome_to_string (record->outcome));
  json_builder_set_member_name (b, "start");
  json_builder_add_int_value (b, record->start_time);
  json_builder_set_member_name (b, "duration");
  json_builder_add_int_value (b, record->duration);
  json_builder_set_member_name (b, "sip_code");
  json_builder_add_int_value (b, record->sip_code);
  if (record->reason != NULL)
    {
      json_builder_set_member_name (b, "reason");
      json_builder_add_string_value (b, record->reason);
    }
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

static char *
dup_member_string (JsonObject *obj, const char *name)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return g_strdup (json_node_get_string (node));
}

static gboolean
get_member_int (JsonObject *obj, const char *name, gint64 min, gint64 max, gint64 *value)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  *value = json_node_get_int (node);
  return *value >= min && *value <= max;
}

SpCallRecord *
sp_call_record_from_json (const char *line, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (SpCallRecord) record = sp_call_record_new ();
  g_autofree char *direction = NULL;
  g_autofree char *outcome = NULL;
  JsonNode *root;
  JsonObject *obj;
  gint64 start = 0, duration = 0, code = 0;
  guint value = 0;

  if (strlen (line) > SP_HISTORY_MAX_LINE)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "Line too long");
      return NULL;
    }
  if (!json_parser_load_from_data (parser, line, -1, error))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "Not a JSON object");
      return NULL;
    }
  obj = json_node_get_object (root);

  record->peer = dup_member_string (obj, "peer");
  record->display_name = dup_member_string (obj, "display_name");
  record->account_id = dup_member_string (obj, "account");
  record->reason = dup_member_string (obj, "reason");
  direction = dup_member_string (obj, "direction");
  outcome = dup_member_string (obj, "outcome");

  if (record->peer == NULL || *record->peer == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "No peer");
      return NULL;
    }
  if (!lookup_name (direction_names, G_N_ELEMENTS (direction_names), direction, &value))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "Bad direction");
      return NULL;
    }
  record->direction = value;
  if (!lookup_name (outcome_names, G_N_ELEMENTS (outcome_names), outcome, &value))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "Bad outcome");
      return NULL;
    }
  record->outcome = value;
  if (!get_member_int (obj, "start", 0, G_MAXINT64, &start) ||
      !get_member_int (obj, "duration", 0, G_MAXUINT, &duration) ||
      !get_member_int (obj, "sip_code", 0, 699, &code))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "Bad start, duration or sip_code");
      return NULL;
    }
  record->start_time = start;
  record->duration = (guint) duration;
  record->sip_code = (guint) code;
  return g_steal_pointer (&record);
}

SpHistory *
sp_history_new (const char *state_dir, guint max_entries)
{
  SpHistory *history = g_new0 (SpHistory, 1);

  history->dir = g_strdup (state_dir);
  history->path = g_build_filename (state_dir, SP_HISTORY_FILE, NULL);
  history->max_entries = max_entries > 0 ? max_entries : SP_HISTORY_MAX_DEFAULT;
  history->records = g_ptr_array_new_with_free_func ((GDestroyNotify) sp_call_record_free);
  return history;
}

void
sp_history_free (SpHistory *history)
{
  if (history == NULL)
    return;
  g_free (history->dir);
  g_free (history->path);
  g_ptr_array_unref (history->records);
  g_free (history);
}

static void
trim_memory (SpHistory *history)
{
  if (history->records->len > history->max_entries)
    g_ptr_array_remove_range (history->records, 0, history->records->len - history->max_entries);
}

gboolean
sp_history_load (SpHistory *history, GError **error)
{
  g_autofree char *contents = NULL;
  g_autoptr (GError) local = NULL;
  gsize len = 0;
  char *line;
  char *next;
  guint skipped = 0;

  g_ptr_array_set_size (history->records, 0);
  history->lines_in_file = 0;
  if (!g_file_get_contents (history->path, &contents, &len, &local))
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }

  for (line = contents; line < contents + len; line = next)
    {
      char *end = memchr (line, '\n', contents + len - line);
      g_autoptr (GError) bad = NULL;
      SpCallRecord *record;

      next = end ? end + 1 : contents + len;
      if (end != NULL)
        *end = '\0';
      if (*line == '\0')
        continue;
      history->lines_in_file++;
      /* A NUL inside the line ends it early; the JSON parser then fails. */
      record = sp_call_record_from_json (line, &bad);
      if (record == NULL)
        {
          skipped++;
          continue;
        }
      g_ptr_array_add (history->records, record);
      trim_memory (history);
    }
  if (skipped > 0)
    g_message ("%s: skipped %u malformed line(s)", history->path, skipped);
  return TRUE;
}

static gboolean
rewrite_file (SpHistory *history, GError **error)
{
  g_autoptr (GString) out = g_string_new (NULL);

  for (guint i = 0; i < history->records->len; i++)
    {
      g_autofree char *json = sp_call_record_to_json (history->records->pdata[i]);
      g_string_append (out, json);
      g_string_append_c (out, '\n');
    }
  if (!g_file_set_contents_full (history->path, out->str, out->len, G_FILE_SET_CONTENTS_CONSISTENT,
                                 0600, error))
    return FALSE;
  history->lines_in_file = history->records->len;
  return TRUE;
}

gboolean
sp_history_append (SpHistory *history, const SpCallRecord *record, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (history->path);
  g_autoptr (GFileOutputStream) stream = NULL;
  g_autofree char *json = sp_call_record_to_json (record);
  g_autofree char *line = g_strconcat (json, "\n", NULL);

  g_ptr_array_add (history->records, sp_call_record_copy (record));
  trim_memory (history);

  if (g_mkdir_with_parents (history->dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "Cannot create %s: %s",
                   history->dir, g_strerror (saved));
      return FALSE;
    }
  if (history->lines_in_file + 1 > 2 * history->max_entries)
    return rewrite_file (history, error);

  stream = g_file_append_to (file, G_FILE_CREATE_PRIVATE, NULL, error);
  if (stream == NULL ||
      !g_output_stream_write_all (G_OUTPUT_STREAM (stream), line, strlen (line), NULL, NULL,
                                  error) ||
      !g_output_stream_close (G_OUTPUT_STREAM (stream), NULL, error))
    return FALSE;
  history->lines_in_file++;
  return TRUE;
}

const GPtrArray *
sp_history_get_records (SpHistory *history)
{
  return history->records;
}

gboolean
sp_history_clear (SpHistory *history, GError **error)
{
  g_ptr_array_set_size (history->records, 0);
  history->lines_in_file = 0;
  if (g_unlink (history->path) != 0 && errno != ENOENT)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "Cannot remove %s: %s",
                   history->path, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}
