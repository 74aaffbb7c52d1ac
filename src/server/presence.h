#pragma once

#include "server/accesspolicy.h"
#include "server/calllist.h"
#include "server/location.h"
#include "server/userdb.h"
#include "session/notifier.h"
#include "sip/stack.h"

G_BEGIN_DECLS

/* The server as notifier for its own users (RFC 6665), from what the
 * registrar and the B2BUA already know:
 *  - "presence" (RFC 3856, application/pidf+xml): open while the user
 *    has a binding, closed (note "Offline") without one; RPID activities
 *    for the rest: on-the-phone in a call or while calling, other
 *    "ringing" while a call rings for them, busy with do-not-disturb
 *    (set by the user's own PUBLISH, RFC 3903, below);
 *  - "dialog" (RFC 4235, application/dialog-info+xml): the user's calls
 *    through the B2BUA, trying/early/confirmed with their direction;
 *    full state each time (a call gone is simply not listed);
 *  - the office directory: "presence" on sip:directory@server with
 *    "Supported: eventlist" (RFC 4662): a multipart/related body whose
 *    RLMI lists every user (URI with the number, name), no instances:
 *    each colleague's state comes through their own subscription.
 *
 * Only authenticated users subscribe (SpAccessPolicy challenges the
 * SUBSCRIBE like an INVITE; a trusted peer without credentials gets 403).
 * Caps and the per-watcher NOTIFY rate come from SpNotifierLimits.
 *
 * Do not disturb: a PUBLISH (Event: presence) from the user themself
 * whose PIDF says <rpid:busy/> (or basic closed) sets it, one saying
 * open clears it; SIP-ETag/SIP-If-Match and Expires as RFC 3903 says,
 * one publication per user (the latest wins). */

typedef struct _SpPresenceAgent SpPresenceAgent;

#define SP_PRESENCE_DIRECTORY "directory"

/* Everything borrowed; it must outlive the agent. */
SpPresenceAgent *sp_presence_agent_new (SpSipStack *stack, SpAccessPolicy *policy, SpUserDb *users,
                                        SpLocationStore *locations, SpServerCallList *calls);
/* Tells every watcher (NOTIFY terminated;reason=deactivated: they come
 * back) and forgets them. */
void sp_presence_agent_free (SpPresenceAgent *self);

void sp_presence_agent_set_limits (SpPresenceAgent *self, const SpNotifierLimits *limits);
/* SUBSCRIBE and PUBLISH outside a dialog: TRUE when taken (answered). */
gboolean sp_presence_agent_handle_request (SpPresenceAgent *self, SpSipServerTransaction *st,
                                           SpSipMessage *request, gint64 now);
/* In one of its dialogs: TRUE when taken. */
gboolean sp_presence_agent_handle_in_dialog (SpPresenceAgent *self, SpSipServerTransaction *st,
                                             SpSipMessage *request, SpSipDialog *dialog);
gboolean sp_presence_agent_owns_dialog (SpPresenceAgent *self, SpSipDialog *dialog);
guint sp_presence_agent_get_n_subscriptions (SpPresenceAgent *self);

/* XML text with &, <, >, " and ' escaped (g_markup_escape_text). */

G_END_DECLS
