#pragma once

#include "session/invite-session.h"

#include "server/accesspolicy.h"
#include "server/authenticator.h"
#include "server/calllimits.h"
#include "server/calllist.h"
#include "server/location.h"
#include "server/relay.h"
#include "server/router.h"
#include "server/userdb.h"
#include "sip/stack.h"

#include <glib.h>

G_BEGIN_DECLS

/* The server's calls as a back-to-back user agent: the caller's INVITE,
 * admitted by SpAccessPolicy, is routed (SpRouter), then a new INVITE goes
 * to every contact of the callee at once (new Call-ID and tags, the
 * caller's authenticated identity in From and P-Asserted-Identity, never
 * a From the caller made up; Max-Forwards one lower, SDP pointing at the
 * relay); the first answer wins and the other branches are cancelled.
 * Provisional and final responses go back to the caller, each leg is
 * ACKed on its own, BYE on either leg ends both, CANCEL propagates. */

typedef struct _SpB2bua SpB2bua;

typedef struct
{
  /* A call was routed and its callee leg started. */
  void (*call_started) (const SpServerCall *call, gpointer user_data);
  /* A call ended; @status is the final status of a call that never got
   * answered, 200 for an answered one. */
  void (*call_ended) (const SpServerCall *call, guint status, gpointer user_data);
} SpB2buaEvents;

/* Everything borrowed; it must outlive the B2BUA. */
SpB2bua *sp_b2bua_new (SpSipStack *stack, SpAuthenticator *auth, SpUserDb *users, SpRouter *router,
                       SpLocationStore *locations, SpServerCallList *calls);
/* Ends every call (BYE or CANCEL on each leg) and frees. */
void sp_b2bua_free (SpB2bua *b2bua);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpB2bua, sp_b2bua_free)

void sp_b2bua_set_events (SpB2bua *b2bua, const SpB2buaEvents *events, gpointer user_data);
/* Who may call, challenges and refusals (borrowed; required). */
void sp_b2bua_set_policy (SpB2bua *b2bua, SpAccessPolicy *policy);
/* NULL: the phones send media to each other (SDP passed unchanged). */
void sp_b2bua_set_relay (SpB2bua *b2bua, SpRelay *relay);
/* Whether a BYE from an authenticated caller is challenged, as Yate
 * does (default TRUE). */
void sp_b2bua_set_challenge_bye (SpB2bua *b2bua, gboolean challenge);

/* Timer C (RFC 3261 16.6 #11): a callee leg that has not answered
 * within this time after the INVITE or its last provisional response is
 * cancelled and the caller gets 408. Default 3 minutes. */
#define SP_B2BUA_DEFAULT_TIMER_C_S 180
void sp_b2bua_set_timer_c (SpB2bua *b2bua, guint ms);
/* The session timer (RFC 4028) each answered leg runs with its own
 * peer: asked for in the callee's INVITE, settled in the 2xx to the
 * caller (the server refreshes a leg whose peer does not; a leg that
 * expires ends the call with BYE on both). Default
 * sp_session_timer_settings_init (): 1800 s, Min-SE 90; NULL: none. */
void sp_b2bua_set_session_timer (SpB2bua *b2bua, const SpSessionTimerSettings *settings);
/* Caps on calls (see SpCallLimits); a call past one is answered 503
 * with "Retry-After: SP_B2BUA_RETRY_AFTER_S", statelessly. */
#define SP_B2BUA_RETRY_AFTER_S 30
void sp_b2bua_set_limits (SpB2bua *b2bua, const SpCallLimitsSettings *limits);
/* Calls refused by a cap so far. */
guint64 sp_b2bua_get_n_refused (SpB2bua *b2bua);

/* A new INVITE (no To tag) addressed to the server, that the policy
 * admitted as @access (a user or a trusted peer). Final failures
 * (404, 480, 483, 503...) are sent once, statelessly. */
void sp_b2bua_handle_invite (SpB2bua *b2bua, SpSipServerTransaction *st, SpSipMessage *request,
                             const SpAccess *access, gint64 now);
/* Call pickup (as Asterisk and FreeSWITCH): an authenticated user's
 * INVITE to "**NUMBER" answers the oldest call ringing at the user a
 * call to NUMBER reaches; that user's phones get CANCEL with "Reason:
 * SIP;cause=200;text=\"Call completed elsewhere\"" and the call goes on
 * between the caller and the picker. Refusals, final and stateless:
 * 403 "Pickup Is For Local Users" (a trusted peer), 404 "No Such User To
 * Pick Up" (NUMBER reaches no user here), 480 "Nothing Ringing", 480
 * "Already Picked Up" (someone else was first; the call goes on), 403
 * "Cannot Pick Up Own Call", 488 when the picker's INVITE has no SDP
 * offer, no codec in common with the caller's, or the caller's had none,
 * 503 "Too Many Calls" when the picker's source or user is at its call
 * cap (the picked call counts for the picker as one it placed). */
#define SP_B2BUA_PICKUP_PREFIX "**"

/* TRUE when @request is one of our own callee-leg INVITEs coming back to
 * this very process (the callee is the phone that hosts the server). */
gboolean sp_b2bua_is_own_request (SpB2bua *b2bua, const SpSipMessage *request);
/* TRUE when @dialog is a leg of one of our calls. */
gboolean sp_b2bua_owns_dialog (SpB2bua *b2bua, SpSipDialog *dialog);
/* A request in one of our dialogs; FALSE leaves it to the stack's
 * default answer. */
gboolean sp_b2bua_handle_in_dialog (SpB2bua *b2bua, SpSipServerTransaction *st,
                                    SpSipMessage *request, SpSipDialog *dialog, gint64 now);
/* The ACK for a 2xx we sent in one of our dialogs: after an offer in the
 * other side's 2xx (late offer), its answer goes on in that side's ACK. */
void sp_b2bua_handle_ack (SpB2bua *b2bua, SpSipMessage *ack, SpSipDialog *dialog);
/* The stack gave up waiting for the caller's ACK (and sent BYE). */
void sp_b2bua_handle_ack_timeout (SpB2bua *b2bua, SpSipDialog *dialog);

/* Where calls to a phone registered as @binding go when that is not
 * @contact itself: TRUE with @dest set to the connection its REGISTER
 * came on (TCP, TLS: while @transport has it open), or to the address
 * it came from (UDP: NAT, another address or port than Contact names). */
gboolean sp_b2bua_binding_next_hop (const SpBinding *binding, const SpSipUri *contact,
                                    SpSipTransport *transport, SpSipPeer *dest);

guint sp_b2bua_get_n_calls (SpB2bua *b2bua);
/* Ends every call. */
void sp_b2bua_end_all (SpB2bua *b2bua);

G_END_DECLS
