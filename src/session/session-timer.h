#pragma once

/* The RFC 4028 session timer of an SpInviteSession: the headers of its
 * requests and 2xx, the interval and refresher they settle, the refresh
 * at half the interval and the BYE at expiry. Internal to the session
 * layer (the public part is in invite-session.h). Main loop only. */

#include "session/invite-session-private.h"

G_BEGIN_DECLS

/* Session-Expires of @msg: its delta-seconds, and its refresher param
 * ("uac"/"uas", else NULL). FALSE when absent or unreadable. */
gboolean sp_session_timer_parse_expires (const SpSipMessage *msg, guint *delta,
                                         const char **refresher);
/* Min-SE of @msg (0: none; above a day: a day and one). */
guint sp_session_timer_parse_min_se (const SpSipMessage *msg);
/* The timer headers of a request we send. */
void sp_session_timer_add_request_headers (SpInviteSession *self, SpSipMessage *request,
                                           gboolean refresh);
/* The 2xx to a request of ours: the timer it settles. */
void sp_session_timer_from_response (SpInviteSession *self, const SpSipMessage *response);
/* A request of the peer's: 0 when it may go on, else 422. */
guint sp_session_timer_check_request (SpInviteSession *self, const SpSipMessage *request);
/* Settles the timer from the peer's request and puts it in our 2xx. */
void sp_session_timer_answer_request (SpInviteSession *self, const SpSipMessage *request,
                                      SpSipMessage *ok);
/* A 422 to our request: TRUE when it goes again with the peer's Min-SE
 * (@sent_interval: what it asked for, then what it asks for now). */
gboolean sp_session_timer_retry_with_min_se (SpInviteSession *self, SpSipMessage *response,
                                             guint *sent_interval);
/* (Re)starts the refresh and expiry timers for the interval in force. */
void sp_session_timer_start (SpInviteSession *self);
void sp_session_timer_stop (SpInviteSession *self);

G_END_DECLS
