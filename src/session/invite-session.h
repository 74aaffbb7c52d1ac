#pragma once

#include "session/credentials.h"
#include "sip/stack.h"

G_BEGIN_DECLS

/* One INVITE dialog (RFC 3261 13-15) from either end, for whoever
 * carries the media: the phone's call (ua/call.c) and each answered
 * leg of a B2BUA call (server/b2bua.c, with answers given later). It owns the
 * SIP side of a session:
 *  - the INVITE, its CANCEL, its 2xx and ACK, the dialog and BYE;
 *  - the offer/answer state (RFC 3264 as placed in SIP by RFC 3261
 *    13.2.1 and RFC 3311): an offer in the INVITE or, late, in the 2xx
 *    with the answer in the ACK; re-INVITE and UPDATE, from either side,
 *    with or without an offer;
 *  - glare: a request met by one of ours is answered 491, and a 491 to
 *    ours retried once after RFC 3261 14.1's random wait (2.1-4 s for
 *    the side that chose the Call-ID, 0-2 s for the other);
 *  - session timers (RFC 4028) in both roles: Session-Expires/Min-SE in
 *    requests and 2xx, 422 with a bigger interval, refreshes by whichever
 *    side is the refresher at half the interval, and BYE when the
 *    session expires without one;
 *  - challenges to any request it sends (INVITE, re-INVITE, UPDATE, BYE)
 *    answered through the account's credential store, one guard per
 *    request (session/credentials.h).
 * The media side stays with the owner, which sees SDP only: it makes
 * offers, answers them and takes answers through the callbacks below.
 * Timers run on the stack's clock (a fake one in unit tests). Main loop
 * only. */

typedef struct _SpInviteSession SpInviteSession;

/* What the session itself finds wrong with an exchange (the owner's own
 * errors, from its callbacks, pass through unchanged). */
#define SP_SESSION_ERROR (sp_session_error_quark ())
GQuark sp_session_error_quark (void);

typedef enum
{
  SP_SESSION_ERROR_NO_ANSWER,     /* our offer's 2xx carried no answer */
  SP_SESSION_ERROR_NO_ACK_ANSWER, /* the ACK carried no answer to our offer in the 2xx */
  SP_SESSION_ERROR_NO_OFFER,      /* our INVITE had no offer and the 2xx none either */
  SP_SESSION_ERROR_NO_DIALOG,     /* nothing to send the request in */
} SpSessionError;

typedef enum
{
  SP_INVITE_SESSION_IDLE,      /* nothing sent or received yet */
  SP_INVITE_SESSION_CALLING,   /* our INVITE is out, no final response */
  SP_INVITE_SESSION_INCOMING,  /* their INVITE is here, not answered */
  SP_INVITE_SESSION_ANSWERED,  /* our 2xx carried an offer: the ACK brings the answer */
  SP_INVITE_SESSION_CONFIRMED, /* established */
  SP_INVITE_SESSION_TERMINATED,
} SpInviteSessionState;

/* Where the offer/answer exchange stands (RFC 3264). */
typedef enum
{
  SP_SESSION_OFFER_NONE,   /* no offer outstanding */
  SP_SESSION_OFFER_LOCAL,  /* we offered; the answer is due */
  SP_SESSION_OFFER_REMOTE, /* they offered; our answer is due */
} SpSessionOfferState;

/* Which end refreshes the session (RFC 4028 "refresher"). */
typedef enum
{
  SP_SESSION_REFRESHER_NONE, /* no session timer */
  SP_SESSION_REFRESHER_LOCAL,
  SP_SESSION_REFRESHER_REMOTE,
} SpSessionRefresher;

/* What we ask for in the INVITE we send (uac/uas or leave it to the
 * answerer), and whom we pick when the caller leaves it to us. */
typedef enum
{
  SP_SESSION_TIMER_ROLE_ANY,
  SP_SESSION_TIMER_ROLE_UAC,
  SP_SESSION_TIMER_ROLE_UAS,
} SpSessionTimerRole;

typedef struct
{
  guint interval;               /* Session-Expires to ask for, s; 0 = no timer */
  guint min_se;                 /* the shortest we accept, s (RFC 4028: at least 90) */
  SpSessionTimerRole refresher; /* asked for in our INVITE */
} SpSessionTimerSettings;

/* RFC 4028 defaults: 1800 s, Min-SE 90, the answerer chooses. */
void sp_session_timer_settings_init (SpSessionTimerSettings *settings);

/* For an owner that sends a dialog's INVITE or 2xx itself and has a
 * session adopt it (a B2BUA): the timer headers of our INVITE
 * (Supported, Session-Expires, Min-SE; nothing when @settings has no
 * interval); whether their INVITE asks for an interval below our Min-SE
 * (the owner answers 422 and puts sp_session_timer_add_min_se () in it);
 * and the timer settled in our 2xx to their INVITE (Session-Expires with
 * the refresher, RFC 4028 9: the caller when it supports timers and
 * names no one, else us). */
void sp_session_timer_add_to_invite (const SpSessionTimerSettings *settings, SpSipMessage *invite);
gboolean sp_session_timer_too_short (const SpSessionTimerSettings *settings,
                                     const SpSipMessage *invite);
void sp_session_timer_add_min_se (const SpSessionTimerSettings *settings, SpSipMessage *response);
void sp_session_timer_answer_invite (const SpSessionTimerSettings *settings,
                                     const SpSipMessage *invite, SpSipMessage *ok);
/* A 422 to our INVITE @sent (RFC 4028 6): raises @settings' interval and
 * Min-SE to the 422's Min-SE and TRUE, the INVITE may go again with
 * them; FALSE when it may not (no timer asked for, no Min-SE above the
 * Session-Expires or Min-SE of @sent, or one above a day). The owner bounds the retries. */
gboolean sp_session_timer_raise_for_422 (SpSessionTimerSettings *settings, const SpSipMessage *sent,
                                         const SpSipMessage *response);

typedef enum
{
  SP_SESSION_END_REMOTE_BYE,  /* they hung up */
  SP_SESSION_END_CANCELLED,   /* incoming: the caller cancelled (487) */
  SP_SESSION_END_UNREACHABLE, /* incoming: our responses got no further (408) */
  SP_SESSION_END_NO_ACK,      /* no ACK for our 2xx; the stack sent BYE (408) */
  SP_SESSION_END_BAD_ANSWER,  /* the answer in a 2xx or ACK was unusable: BYE sent (488) */
  SP_SESSION_END_EXPIRED,     /* the session timer ran out (or a refresh failed): BYE sent */
  SP_SESSION_END_CANCEL_LATE, /* our CANCEL crossed the 2xx: BYE sent */
  SP_SESSION_END_FAILED,      /* our INVITE got a final failure (see response) */
} SpSessionEndKind;

typedef struct
{
  SpSessionEndKind kind;
  guint code;                 /* the SIP status that ended it, 0 when none */
  const GError *error;        /* BAD_ANSWER: why; FAILED: a credential refusal, or NULL */
  const char *error_text;     /* FAILED: the refusal in the user's language, or NULL */
  SpSipMessage *response;     /* FAILED: the final response */
  SpSipClientTransaction *ct; /* FAILED: its transaction (timeout, transport failure) */
  const char *cancel_reason;  /* CANCELLED: the CANCEL's Reason header (RFC 3326), or NULL */
} SpSessionEnd;

/* TRUE when @reason (a Reason header value, NULL allowed) says the call
 * was answered elsewhere: a "SIP" reason with cause=200 (RFC 3326; what
 * forking proxies and pickup put in their CANCEL). */
gboolean sp_session_reason_is_completed_elsewhere (const char *reason);

/* Set by answer_offer in *status: the answer comes later. */
#define SP_SESSION_ANSWER_LATER 1

typedef struct
{
  /* Our offer (a new SDP string), or NULL when none can be made. */
  char *(*create_offer) (SpInviteSession *session, gpointer user_data);
  /* Their offer: our answer, or NULL with @error (its message goes in a
   * Warning) and the status to refuse it with (@status starts at 488).
   * NULL with *@status = SP_SESSION_ANSWER_LATER (no error) leaves the
   * offer pending: the answer comes later through
   * sp_invite_session_answer () or sp_invite_session_reject_offer ()
   * (a B2BUA passes the offer to its other leg first). */
  char *(*answer_offer) (SpInviteSession *session, const char *sdp, gsize len, guint *status,
                         GError **error, gpointer user_data);
  /* The answer to our offer; FALSE with @error when it is unusable. */
  gboolean (*take_answer) (SpInviteSession *session, const char *sdp, gsize len, GError **error,
                           gpointer user_data);
  /* Our offer got no answer (refused, 491, timed out): what was agreed
   * before stays in force. */
  void (*offer_withdrawn) (SpInviteSession *session, gpointer user_data);
  /* A provisional response to our INVITE (an answer in it was taken). */
  void (*progress) (SpInviteSession *session, SpSipMessage *response, gpointer user_data);
  /* The INVITE's offer/answer is complete and the dialog stands. */
  void (*established) (SpInviteSession *session, gpointer user_data);
  /* An exchange after the INVITE's completed (re-INVITE, UPDATE, ACK). */
  void (*media_changed) (SpInviteSession *session, gpointer user_data);
  /* Our sp_invite_session_modify () is over: 2xx, or a failure (@status). */
  void (*modified) (SpInviteSession *session, guint status, gpointer user_data);
  /* The session ended by anything but our own sp_invite_session_end (). */
  void (*ended) (SpInviteSession *session, const SpSessionEnd *end, gpointer user_data);
  /* A request of theirs in the dialog (BYE, re-INVITE, UPDATE), before
   * the session acts on it: FALSE when the owner answered it itself (a
   * server's challenge, 401/403), and the session leaves it alone. NULL:
   * every request goes on. */
  gboolean (*check_request) (SpInviteSession *session, SpSipServerTransaction *st,
                             SpSipMessage *request, gpointer user_data);
  /* Our INVITE's offer was refused (488, 606): another offer to send in
   * a new INVITE of the same call (CSeq + 1), or NULL: the call fails.
   * NULL callback: it fails. */
  char *(*retry_offer) (SpInviteSession *session, SpSipMessage *response, gpointer user_data);
} SpInviteSessionCallbacks;

/* @credentials (may be NULL: no challenge is answered) answer 401/407
 * to every request the session sends. @label names the session in logs. */
SpInviteSession *sp_invite_session_new (SpSipStack *stack, SpCredentials *credentials,
                                        const char *label,
                                        const SpInviteSessionCallbacks *callbacks,
                                        gpointer user_data);
SpInviteSession *sp_invite_session_ref (SpInviteSession *self);
void sp_invite_session_unref (SpInviteSession *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpInviteSession, sp_invite_session_unref)
/* The owner goes: no callback runs any more; timers stop. Transactions
 * in flight (a challenged BYE) finish on their own. */
void sp_invite_session_detach (SpInviteSession *self);

void sp_invite_session_set_timer (SpInviteSession *self, const SpSessionTimerSettings *settings);
/* The user part of our Contact (NULL: none). */
void sp_invite_session_set_contact_user (SpInviteSession *self, const char *user);

/* UAC: sends @invite (built by the owner: Request-URI, From, To; an SDP
 * body is our offer, none asks for a late offer) to @dest (NULL: its
 * next hop). */
gboolean sp_invite_session_send_invite (SpInviteSession *self, SpSipMessage *invite,
                                        const SpSipPeer *dest, GError **error);
/* UAC before the final response: CANCEL now, or once a provisional came.
 * FALSE when there is nothing to cancel any more. */
gboolean sp_invite_session_cancel (SpInviteSession *self);
gboolean sp_invite_session_is_cancelling (SpInviteSession *self);

/* UAS: their INVITE. FALSE when the session refused it itself (422:
 * Session-Expires below our Min-SE); the session is then terminated. */
gboolean sp_invite_session_receive_invite (SpInviteSession *self, SpSipServerTransaction *st,
                                           SpSipMessage *invite);
/* UAS before the answer: a provisional or a failure (@warning: a
 * Warning text, may be NULL). A failure terminates the session. */
gboolean sp_invite_session_respond (SpInviteSession *self, guint status, const char *reason,
                                    const char *warning);
/* UAS: 200 with our answer (or our offer when the INVITE had none).
 * When answer_offer defers the answer (SP_SESSION_ANSWER_LATER), nothing
 * is sent yet and the session waits for sp_invite_session_answer (). */
gboolean sp_invite_session_accept (SpInviteSession *self, GError **error);
/* UAS: 200 with @sdp, the answer to the INVITE's offer, or our offer
 * when it had none (its answer then comes in the ACK), without asking
 * the callbacks: a B2BUA passes the other leg's SDP. */
gboolean sp_invite_session_accept_with (SpInviteSession *self, const char *sdp, GError **error);

/* The answer to an offer left pending by answer_offer: in their INVITE
 * (the 200 goes, as sp_invite_session_accept_with ()), in a re-INVITE
 * or UPDATE (its 200 goes; media_changed follows), or in the 2xx to our
 * INVITE without an offer (the ACK carries it; established follows).
 * FALSE with @error when no answer is pending. */
gboolean sp_invite_session_answer (SpInviteSession *self, const char *sdp, GError **error);
/* Refuses a pending offer: a re-INVITE or UPDATE gets @status (4xx-6xx,
 * @warning in a Warning, may be NULL) and what was agreed stays; their
 * INVITE gets @status and the session ends; an offer in the 2xx to our
 * INVITE cannot be refused: the ACK goes without an answer, then BYE.
 * Nothing is reported through "ended". FALSE when none is pending. */
gboolean sp_invite_session_reject_offer (SpInviteSession *self, guint status, const char *warning);
/* TRUE while an offer of theirs waits for sp_invite_session_answer (). */
gboolean sp_invite_session_is_answer_pending (SpInviteSession *self);

/* A dialog its owner set up itself (a B2BUA's forking INVITE, or its
 * own 2xx to their INVITE): the session takes it over as established,
 * for the requests in it (re-INVITE, UPDATE) and the ACKs answering its
 * offers. @uac: we sent its INVITE (we chose the Call-ID, for RFC 3261
 * 14.1's wait); @peer: the other end. No session timer runs.
 * @late_cseq (0: none): the INVITE with this CSeq had no offer and its
 * 2xx carried one, so an answer is still due in the ACK: from us (@uac:
 * pending, given with sp_invite_session_answer ()) or from them (the
 * session stays ANSWERED until their ACK brings it to take_answer). */
void sp_invite_session_adopt (SpInviteSession *self, SpSipDialog *dialog, gboolean uac,
                              const SpSipPeer *peer, guint32 late_cseq);
/* After sp_invite_session_adopt (): the INVITE and the 2xx that set the
 * dialog up (@uac: ours and theirs, else theirs and ours). The peer's
 * Allow says whether UPDATE may carry offers and refreshes; with
 * @timer (NULL: none) the session timer that @ok's Session-Expires
 * settled runs (RFC 4028), refreshed by the side it names. */
void sp_invite_session_adopt_exchange (SpInviteSession *self, const SpSipMessage *invite,
                                       const SpSipMessage *ok, const SpSessionTimerSettings *timer);

/* A new offer in a re-INVITE (hold, resume, a new codec). G_IO_ERROR_BUSY
 * while an exchange is in progress or a 491 retry waits. */
gboolean sp_invite_session_modify (SpInviteSession *self, GError **error);
/* The same in an UPDATE (RFC 3311), for a peer whose Allow lists it
 * (sp_invite_session_peer_allows_update ()). */
gboolean sp_invite_session_update (SpInviteSession *self, GError **error);
gboolean sp_invite_session_peer_allows_update (SpInviteSession *self);
/* In answer_offer: the method of their request that carried the offer
 * (INVITE or UPDATE). */
SpSipMethod sp_invite_session_get_offer_method (SpInviteSession *self);
/* Ends the session as this side: CANCEL before a final response (UAC),
 * BYE after; nothing is reported through "ended". */
void sp_invite_session_end (SpInviteSession *self);

/* A request in this session's dialog: BYE, re-INVITE, UPDATE (TRUE:
 * answered). Others (INFO, REFER...) are left to the owner (FALSE). */
gboolean sp_invite_session_handle_request (SpInviteSession *self, SpSipServerTransaction *st,
                                           SpSipMessage *request);
/* The ACK for a 2xx we sent (it may carry the answer to our offer). */
void sp_invite_session_handle_ack (SpInviteSession *self, SpSipMessage *ack);
/* No ACK came for our 2xx; the stack has sent BYE. */
void sp_invite_session_handle_ack_timeout (SpInviteSession *self);

SpInviteSessionState sp_invite_session_get_state (SpInviteSession *self);
SpSessionOfferState sp_invite_session_get_offer_state (SpInviteSession *self);
/* TRUE while our re-INVITE/UPDATE is out or waits to be retried. */
gboolean sp_invite_session_is_modifying (SpInviteSession *self);
SpSipDialog *sp_invite_session_get_dialog (SpInviteSession *self);
/* The session timer in force: interval in s (0: none) and who refreshes. */
guint sp_invite_session_get_interval (SpInviteSession *self);
SpSessionRefresher sp_invite_session_get_refresher (SpInviteSession *self);
/* Where the INVITE came from (UAS) or went (UAC); NULL before it is known. */
const SpSipPeer *sp_invite_session_get_peer (SpInviteSession *self);
/* A new request in the dialog (INFO, REFER) with our Contact. */
SpSipMessage *sp_invite_session_new_request (SpInviteSession *self, const char *method);
/* Sends a request made by sp_invite_session_new_request to the dialog's
 * next hop, from the local address the dialog's Contact names; answers are
 * not reported. */
gboolean sp_invite_session_send_request (SpInviteSession *self, SpSipMessage *request,
                                         GError **error);

const char *sp_invite_session_state_to_string (SpInviteSessionState state);

G_END_DECLS
