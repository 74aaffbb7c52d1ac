#pragma once

/* SpInviteSession's insides, shared by invite-session.c and
 * session-timer.c only. */

#include "session/invite-session.h"

G_BEGIN_DECLS

/* The longest session interval we take from a peer (or a 422), s: a
 * day, so a hostile Min-SE cannot switch our expiry off. */
#define MAX_INTERVAL 86400
/* RFC 4028 4: no Min-SE below 90 s. */
#define MIN_MIN_SE 90
/* 422s followed per exchange: a peer raising its Min-SE by one second at
 * a time must not keep us sending. */
#define MAX_422_RETRIES 2

typedef enum
{
  REQUEST_INVITE,
  REQUEST_REINVITE,
  REQUEST_UPDATE,
  REQUEST_BYE,
} RequestKind;

/* Our re-INVITE or UPDATE (an offer, or a bare refresh). */
typedef enum
{
  MODIFY_NONE,
  MODIFY_SENT,    /* out, no final response yet */
  MODIFY_WAITING, /* a 491 came: the retry timer runs (RFC 3261 14.1) */
} ModifyState;

/* An offer of theirs whose answer the owner gives later
 * (SP_SESSION_ANSWER_LATER): where the answer goes. */
typedef enum
{
  PENDING_NONE,
  PENDING_ACCEPT,  /* their INVITE: the 200 */
  PENDING_REQUEST, /* their re-INVITE / UPDATE: its 200 */
  PENDING_ACK,     /* the 2xx to our INVITE without an offer: the ACK */
} PendingAnswer;

struct _SpInviteSession
{
  guint ref;
  SpSipStack *stack;
  SpSipClock *clock;
  SpCredentials *credentials; /* NULL: no challenge is answered */
  char *label;
  const SpInviteSessionCallbacks *cb; /* NULL once detached */
  gpointer user_data;

  SpInviteSessionState state;
  SpSessionOfferState offer;
  gboolean is_uac; /* we sent the INVITE, so we chose the Call-ID */
  char *contact_user;
  SpSipPeer peer;
  gboolean has_peer;
  SpSipDialog *dialog;
  gboolean peer_allows_update;

  /* UAC: the INVITE as last sent, and its transaction. */
  SpSipMessage *invite;
  SpSipClientTransaction *invite_ct;
  gboolean cancel_pending;
  gboolean early_answer; /* the answer came in a 1xx */

  /* UAS: their INVITE until answered. */
  SpSipServerTransaction *invite_st;
  SpSipMessage *remote_invite;

  /* The ACK (of the INVITE with this CSeq) that brings the answer to an
   * offer we put in a 2xx; 0 when none is due. */
  guint32 answer_ack_cseq;

  /* Their offer waiting for sp_invite_session_answer (). */
  PendingAnswer pending;
  SpSipServerTransaction *pending_st; /* PENDING_REQUEST: their re-INVITE/UPDATE */
  SpSipMessage *pending_request;
  guint32 pending_ack_cseq; /* PENDING_ACK: the CSeq of our INVITE */

  /* Our re-INVITE / UPDATE. */
  ModifyState modify;
  gboolean modify_refresh; /* a session refresh, not the owner's */
  gboolean modify_retried; /* a 491 was retried already */
  SpSipMethod modify_method;
  guint glare_timer;
  SpSipMethod offer_method; /* of their request being answered */

  /* Session timer (RFC 4028). */
  SpSessionTimerSettings timer;
  guint interval; /* in force, s; 0 = none */
  SpSessionRefresher refresher;
  guint refresh_timer;
  guint expiry_timer;
  guint retries_422; /* in the exchange in progress */

  GPtrArray *requests; /* Request, in flight: told when we go */
};

/* One request we sent and its re-sends, owned by its transaction: the
 * guard of its challenges, and what a re-send must carry again. It
 * holds the credentials, not the session: a BYE finishes after the
 * session (and the call) went, and an INVITE transaction outlives its
 * 2xx by 64*T1. */
typedef struct
{
  SpInviteSession *session;   /* NULL once the session is gone */
  SpCredentials *credentials; /* a BYE's own (it may outlive the session) */
  RequestKind kind;
  SpAuthRetry auth;
  char *sdp;        /* the offer it carried, or NULL */
  gboolean refresh; /* a session refresh */
} Request;

gboolean sp_invite_session_is_alive (SpInviteSession *self);
/* @token in @msg's comma-separated header @name (Supported, Allow...). */
gboolean sp_session_has_token (const SpSipMessage *msg, const char *name, const char *token);
void sp_session_add_supported (SpSipMessage *msg, const char *token);
/* Our re-INVITE / UPDATE (@kind) with @sdp (NULL: none) in the dialog;
 * @refresh: a session refresh. */
gboolean sp_invite_session_send_in_dialog (SpInviteSession *self, RequestKind kind, const char *sdp,
                                           gboolean refresh, SpAuthRetry *auth, GError **error);
void sp_invite_session_send_bye (SpInviteSession *self);
/* The session is over (@kind, @code, @error): "ended" is reported. */
void sp_invite_session_end_kind (SpInviteSession *self, SpSessionEndKind kind, guint code,
                                 const GError *error);

G_END_DECLS
