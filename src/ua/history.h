#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* Call history in the state directory: one JSON object per line in
 * calls.jsonl, appended as each call ends, so a crash loses at most the
 * call in progress. The file is bounded: when it holds more than twice
 * the limit it is rewritten atomically with the newest @max_entries. */

#define SP_HISTORY_FILE        "calls.jsonl"
#define SP_HISTORY_MAX_DEFAULT 500
/* A longer line is not ours (or is corrupt): skipped on load. */
#define SP_HISTORY_MAX_LINE 4096

typedef enum
{
  SP_CALL_DIRECTION_OUTGOING,
  SP_CALL_DIRECTION_INCOMING,
} SpCallDirection;

typedef enum
{
  SP_CALL_OUTCOME_ANSWERED,           /* established, then ended */
  SP_CALL_OUTCOME_MISSED,             /* incoming, never answered */
  SP_CALL_OUTCOME_REJECTED,           /* incoming, declined or busy (DND) */
  SP_CALL_OUTCOME_FAILED,             /* outgoing, not answered: busy, 4xx-6xx, timeout */
  SP_CALL_OUTCOME_CANCELLED,          /* outgoing, hung up before answer */
  SP_CALL_OUTCOME_ANSWERED_ELSEWHERE, /* incoming, picked up or answered by another phone */
} SpCallOutcome;

const char *sp_call_direction_to_string (SpCallDirection direction);
const char *sp_call_outcome_to_string (SpCallOutcome outcome);

typedef struct
{
  char *peer;         /* the URI or number, "sip:2@192.168.1.50" */
  char *display_name; /* or NULL */
  char *account_id;   /* or NULL for a direct call */
  SpCallDirection direction;
  SpCallOutcome outcome;
  gint64 start_time; /* Unix seconds, when the call began ringing/dialing */
  guint duration;    /* seconds established; 0 when never answered */
  guint sip_code;    /* final status (0 = none, e.g. local hangup) */
  char *reason;      /* "User hangup", "486 Busy Here", or NULL */
} SpCallRecord;

SpCallRecord *sp_call_record_new (void);
SpCallRecord *sp_call_record_copy (const SpCallRecord *record);
void sp_call_record_free (SpCallRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpCallRecord, sp_call_record_free)

typedef struct _SpHistory SpHistory;

/* @state_dir is created when the first record is written. */
SpHistory *sp_history_new (const char *state_dir, guint max_entries);
void sp_history_free (SpHistory *history);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpHistory, sp_history_free)

/* Reads the file back (missing = empty). Malformed lines are skipped
 * with a warning; only an unreadable file is an error. */
gboolean sp_history_load (SpHistory *history, GError **error);

/* Appends to memory and to the file, trimming both to the bound. */
gboolean sp_history_append (SpHistory *history, const SpCallRecord *record, GError **error);

/* Oldest first; at most max_entries. Owned by @history. */
const GPtrArray *sp_history_get_records (SpHistory *history);

/* Forgets everything and removes the file. */
gboolean sp_history_clear (SpHistory *history, GError **error);

/* One JSON line (no newline) for @record, and back. */
char *sp_call_record_to_json (const SpCallRecord *record);
SpCallRecord *sp_call_record_from_json (const char *line, GError **error);

G_END_DECLS
