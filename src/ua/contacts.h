#pragma once

#include "session/credentials.h"
#include "sip/stack.h"

#include <gio/gio.h>

G_BEGIN_DECLS

/* The office directory and each colleague's state, as a watcher (RFC 6665)
 * of the server the account registers with:
 *  - the directory: one "presence" subscription with "Supported:
 *    eventlist" to sip:directory@SERVER (RFC 4662); its RLMI lists the
 *    users (URI with the number, name); parsed with GMarkup, bounded;
 *  - one "presence" subscription (RFC 3856) per colleague, whose PIDF
 *    gives the state: basic closed = offline; RPID on-the-phone = in a
 *    call; other "ringing" = ringing; busy = do not disturb; else
 *    available. Parsed minimally (substring checks on a bounded body).
 * Subscriptions refresh and come back after a server restart
 * (session/subscriber.h). */

typedef enum
{
  SP_CONTACT_STATE_UNKNOWN,
  SP_CONTACT_STATE_OFFLINE,
  SP_CONTACT_STATE_AVAILABLE,
  SP_CONTACT_STATE_RINGING,
  SP_CONTACT_STATE_IN_CALL,
  SP_CONTACT_STATE_DND,
} SpContactState;

/* "unknown", "offline", "available", "ringing", "in-call", "dnd" */
const char *sp_contact_state_to_string (SpContactState state);
/* The state a PIDF document says (bounded scan of @len bytes). */
SpContactState sp_contact_state_from_pidf (const char *body, gsize len);

#define SP_TYPE_CONTACT (sp_contact_get_type ())
G_DECLARE_FINAL_TYPE (SpContact, sp_contact, SP, CONTACT, GObject)

/* Properties "name", "number" (what to dial), "state" (SpContactState as
 * uint), "state-text" (translated for display). */
const char *sp_contact_get_name (SpContact *self);
const char *sp_contact_get_number (SpContact *self);
SpContactState sp_contact_get_state (SpContact *self);

#define SP_TYPE_CONTACT_LIST (sp_contact_list_get_type ())
G_DECLARE_FINAL_TYPE (SpContactList, sp_contact_list, SP, CONTACT_LIST, GObject)

/* A GListModel of SpContact, sorted by name. Signals:
 *   "contact-changed" (SpContact *): a colleague's state changed
 *   "directory-changed": the directory arrived or changed */
SpContactList *sp_contact_list_new (SpSipStack *stack);
/* Watches the directory of @server_host:@port (@transport_param
 * ";transport=tcp" or ""), as @from (our AOR, name-addr), skipping
 * @own_user, answering challenges with @credentials. Stops a previous
 * watch. */
void sp_contact_list_watch (SpContactList *self, SpCredentials *credentials,
                            const char *server_host, guint16 port, const char *transport_param,
                            const char *from, const char *own_user);
/* Unsubscribes everything; the list empties. */
void sp_contact_list_stop (SpContactList *self);
gboolean sp_contact_list_is_watching (SpContactList *self);
/* The account registered (again, or a refresh): the directory's
 * subscription is refreshed (a restarted server answers 481: all start
 * over), broken ones start over now. */
void sp_contact_list_registered (SpContactList *self);
/* A NOTIFY of ours (from the stack's "request" signal): TRUE when taken. */
gboolean sp_contact_list_handle_request (SpContactList *self, SpSipServerTransaction *st,
                                         SpSipMessage *request, SpSipDialog *dialog);
SpContact *sp_contact_list_find (SpContactList *self, const char *number);

/* The directory's users from an RLMI body (the multipart part is found
 * inside @body): a GPtrArray of "uri", "name" pairs (strings), at most
 * @max resources. NULL when it does not parse. */
GPtrArray *sp_contact_list_parse_rlmi (const char *body, gsize len, guint max);

G_END_DECLS
