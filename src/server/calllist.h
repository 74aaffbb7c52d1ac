#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* The calls going through the server, as the web console and the UI show
 * them. The B2BUA adds, updates and removes entries; readers get copies. */

typedef struct
{
  char *id;        /* unique per call, e.g. the caller leg's Call-ID */
  char *caller;    /* authenticated user, or the From user */
  char *called;    /* what was dialled */
  char *callee;    /* where it went: user name or forward URI; may be NULL */
  char *state;     /* "routing", "ringing", "answered", ... */
  gint64 started;  /* UNIX seconds */
  gint64 answered; /* UNIX seconds, 0 while not answered */
} SpServerCall;

#define SP_TYPE_SERVER_CALL (sp_server_call_get_type ())
GType sp_server_call_get_type (void);
SpServerCall *sp_server_call_copy (const SpServerCall *call);
void sp_server_call_free (SpServerCall *call);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpServerCall, sp_server_call_free)

#define SP_TYPE_SERVER_CALL_LIST (sp_server_call_list_get_type ())
G_DECLARE_FINAL_TYPE (SpServerCallList, sp_server_call_list, SP, SERVER_CALL_LIST, GObject)

/* "changed" (no arguments) after every add, state change and remove. */
SpServerCallList *sp_server_call_list_new (void);
/* Copies @call; FALSE (and nothing added) when its id is NULL or taken. */
gboolean sp_server_call_list_add (SpServerCallList *list, const SpServerCall *call);
/* @answered 0 leaves the answer time as it is. FALSE for an unknown id. */
gboolean sp_server_call_list_set_state (SpServerCallList *list, const char *id, const char *state,
                                        gint64 answered);
gboolean sp_server_call_list_remove (SpServerCallList *list, const char *id);
guint sp_server_call_list_get_n_calls (SpServerCallList *list);
/* Copies, oldest first. */
GPtrArray *sp_server_call_list_get_calls (SpServerCallList *list);

G_END_DECLS
