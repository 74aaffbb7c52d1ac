#pragma once

#include <glib.h>

#include "sip/clock.h"
#include "sip/message.h"
#include "sip/transport.h"

G_BEGIN_DECLS

/* SIP transactions (RFC 3261 section 17 with the RFC 6026 Accepted
 * states): the four state machines, their timers on an SpSipClock, and
 * the table that matches messages to them (17.1.3, 17.2.3 with the RFC
 * 2543 fallback). CANCEL (section 9), merged requests (8.2.2.2) and
 * looped requests are handled here too. Not thread-safe: main loop only. */

typedef struct
{
  guint t1;      /* RTT estimate, ms (default 500) */
  guint t2;      /* max retransmit interval for non-INVITE / responses (4000) */
  guint t4;      /* max time a message stays in the network (5000) */
  guint timer_d; /* INVITE client wait for response retransmits, unreliable (32000) */
} SpSipTimerSettings;

/* RFC 3261 defaults. */
void sp_sip_timer_settings_init (SpSipTimerSettings *settings);

typedef enum
{
  SP_SIP_TRANSACTION_CALLING,
  SP_SIP_TRANSACTION_TRYING,
  SP_SIP_TRANSACTION_PROCEEDING,
  SP_SIP_TRANSACTION_COMPLETED,
  SP_SIP_TRANSACTION_CONFIRMED,
  SP_SIP_TRANSACTION_ACCEPTED,
  SP_SIP_TRANSACTION_TERMINATED,
} SpSipTransactionState;

const char *sp_sip_transaction_state_to_string (SpSipTransactionState state);

typedef struct _SpSipTransactionLayer SpSipTransactionLayer;
typedef struct _SpSipClientTransaction SpSipClientTransaction;
typedef struct _SpSipServerTransaction SpSipServerTransaction;

/* How the layer hands a message to the transport: a request goes to
 * @dest; a response goes where its Via says, with @dest the source of
 * the request as a hint (TCP connection, local binding). @used gets the
 * transport really used (a large UDP request may go over TCP). */
typedef gboolean (*SpSipSendFunc) (SpSipMessage *msg, const SpSipPeer *dest,
                                   SpSipTransportKind *used, gpointer user_data, GError **error);

/* A new request that matched no transaction. @st is the server
 * transaction created for it (the TU answers through it), NULL for an
 * ACK (ACK to a 2xx belongs to the dialog layer). */
typedef void (*SpSipRequestFunc) (SpSipTransactionLayer *layer, SpSipServerTransaction *st,
                                  SpSipMessage *request, const SpSipPeer *source,
                                  gpointer user_data);
/* A response that matched no client transaction: in practice a 2xx to
 * INVITE retransmitted after the transaction ended, which the UAC core
 * must ACK again (13.2.2.4). */
typedef void (*SpSipStrayResponseFunc) (SpSipTransactionLayer *layer, SpSipMessage *response,
                                        const SpSipPeer *source, gpointer user_data);

typedef struct
{
  SpSipSendFunc send;
  SpSipRequestFunc request;
  SpSipStrayResponseFunc stray_response;
} SpSipTransactionFuncs;

typedef struct
{
  guint64 client_created;
  guint64 server_created;
  guint64 retransmissions_sent;
  guint64 retransmissions_absorbed;
  guint64 timeouts;
  guint64 transport_errors;
  guint64 merged_482;
  guint64 loops_482;
  guint64 cancel_481;
  guint64 stray_responses;
  guint64 overload_503; /* new requests refused by a cap below */
} SpSipTransactionStats;

SpSipTransactionLayer *sp_sip_transaction_layer_new (SpSipClock *clock,
                                                     const SpSipTimerSettings *timers,
                                                     const SpSipTransactionFuncs *funcs,
                                                     gpointer user_data);
void sp_sip_transaction_layer_free (SpSipTransactionLayer *layer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpSipTransactionLayer, sp_sip_transaction_layer_free)

/* Caps on live server transactions, in total and per source address
 * (0: none). A new request past one is answered 503 with Retry-After,
 * statelessly, and never reaches the TU. Defaults fit a small office;
 * a load test raises them. */
#define SP_SIP_DEFAULT_MAX_SERVER_TRANSACTIONS            2000
#define SP_SIP_DEFAULT_MAX_SERVER_TRANSACTIONS_PER_SOURCE 200
#define SP_SIP_OVERLOAD_RETRY_AFTER_S                     30
void sp_sip_transaction_layer_set_limits (SpSipTransactionLayer *layer, guint max_server,
                                          guint max_server_per_source);
const SpSipTimerSettings *sp_sip_transaction_layer_get_timers (SpSipTransactionLayer *layer);
SpSipClock *sp_sip_transaction_layer_get_clock (SpSipTransactionLayer *layer);
const SpSipTransactionStats *sp_sip_transaction_layer_get_stats (SpSipTransactionLayer *layer);
guint sp_sip_transaction_layer_get_n_client (SpSipTransactionLayer *layer);
guint sp_sip_transaction_layer_get_n_server (SpSipTransactionLayer *layer);

/* Every message the transport receives goes in here. */
void sp_sip_transaction_layer_receive (SpSipTransactionLayer *layer, SpSipMessage *msg,
                                       const SpSipPeer *source);
/* A message the transport accepted but could not deliver: the owning
 * transaction fails as if it got a 503. */
void sp_sip_transaction_layer_transport_error (SpSipTransactionLayer *layer, SpSipMessage *msg,
                                               const GError *error);
/* Sends outside any transaction (ACK to 2xx, 2xx retransmissions by the
 * UAS core). A request without a Via gets one with a fresh branch. */
gboolean sp_sip_transaction_layer_send_stateless (SpSipTransactionLayer *layer, SpSipMessage *msg,
                                                  const SpSipPeer *dest, GError **error);

/* "z9hG4bK" followed by random characters. */
char *sp_sip_transaction_new_branch (void);
/* Random token for tags and Call-IDs. */
char *sp_sip_random_token (guint n_chars);

/* ---- client transactions ---- */

/* Every response the TU must see: provisionals, the final one, 2xx
 * retransmissions in the Accepted state. On timeout the TU gets a
 * locally made 408, on transport failure a local 503
 * (sp_sip_client_transaction_get_failure tells them apart). */
typedef void (*SpSipResponseFunc) (SpSipClientTransaction *ct, SpSipMessage *response,
                                   gpointer user_data);

typedef enum
{
  SP_SIP_FAILURE_NONE,
  SP_SIP_FAILURE_TIMEOUT,
  SP_SIP_FAILURE_TRANSPORT,
} SpSipFailure;

/* Starts a client transaction for @request (INVITE or non-INVITE; never
 * ACK). A new top Via with a fresh branch is prepended (the transport
 * fills in sent-by). The layer keeps the transaction alive until it
 * terminates; the returned pointer is borrowed (take a ref to keep it).
 * Send failures are reported through @func from the main loop, never
 * from inside this call. */
SpSipClientTransaction *sp_sip_client_transaction_new (SpSipTransactionLayer *layer,
                                                       SpSipMessage *request, const SpSipPeer *dest,
                                                       SpSipResponseFunc func, gpointer user_data);
/* A client transaction whose destination is not known yet (a host name
 * being looked up): it exists, matches and can be cancelled (ending it
 * with a local 487), but sends nothing until start(). Timer B / F runs
 * from creation, so a lookup that never ends still ends the transaction. */
SpSipClientTransaction *sp_sip_client_transaction_new_deferred (SpSipTransactionLayer *layer,
                                                                SpSipMessage *request,
                                                                SpSipTransportKind kind,
                                                                SpSipResponseFunc func,
                                                                gpointer user_data);
/* Sends a deferred transaction's request to @dest; no-op otherwise. */
void sp_sip_client_transaction_start (SpSipClientTransaction *ct, const SpSipPeer *dest);
/* Ends a transaction with a local 503 (e.g. the name did not resolve). */
void sp_sip_client_transaction_fail (SpSipClientTransaction *ct, const char *detail);
gboolean sp_sip_client_transaction_is_deferred (SpSipClientTransaction *ct);
SpSipClientTransaction *sp_sip_client_transaction_ref (SpSipClientTransaction *ct);
void sp_sip_client_transaction_unref (SpSipClientTransaction *ct);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpSipClientTransaction, sp_sip_client_transaction_unref)

SpSipTransactionState sp_sip_client_transaction_get_state (SpSipClientTransaction *ct);
SpSipMessage *sp_sip_client_transaction_get_request (SpSipClientTransaction *ct);
const char *sp_sip_client_transaction_get_branch (SpSipClientTransaction *ct);
const SpSipPeer *sp_sip_client_transaction_get_dest (SpSipClientTransaction *ct);
SpSipFailure sp_sip_client_transaction_get_failure (SpSipClientTransaction *ct);
/* @destroy is called on @user_data when the transaction is freed. */
void sp_sip_client_transaction_set_destroy_notify (SpSipClientTransaction *ct,
                                                   GDestroyNotify destroy);
/* Stops calling the response function (the TU is going away). */
void sp_sip_client_transaction_detach (SpSipClientTransaction *ct);
/* Cancels an INVITE (section 9.1): the CANCEL goes out once a
 * provisional response has arrived, at once if one has. Does nothing
 * after a final response. Responses to the CANCEL go to @func (may be
 * NULL). Returns FALSE when there is nothing to cancel. */
gboolean sp_sip_client_transaction_cancel (SpSipClientTransaction *ct, SpSipResponseFunc func,
                                           gpointer user_data);
/* The Reason header (RFC 3326) the CANCEL will carry, e.g.
 * SP_SIP_REASON_COMPLETED_ELSEWHERE; set it before cancelling. */
void sp_sip_client_transaction_set_cancel_reason (SpSipClientTransaction *ct, const char *reason);
#define SP_SIP_REASON_COMPLETED_ELSEWHERE "SIP;cause=200;text=\"Call completed elsewhere\""

/* ---- server transactions ---- */

typedef enum
{
  /* A CANCEL matched: the layer already answered the INVITE with 487. */
  SP_SIP_SERVER_EVENT_CANCELLED,
  /* INVITE final non-2xx response never ACKed (Timer H). */
  SP_SIP_SERVER_EVENT_TIMEOUT,
  /* A response could not be delivered. */
  SP_SIP_SERVER_EVENT_TRANSPORT_ERROR,
} SpSipServerEvent;

typedef void (*SpSipServerEventFunc) (SpSipServerTransaction *st, SpSipServerEvent event,
                                      gpointer user_data);

SpSipServerTransaction *sp_sip_server_transaction_ref (SpSipServerTransaction *st);
void sp_sip_server_transaction_unref (SpSipServerTransaction *st);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpSipServerTransaction, sp_sip_server_transaction_unref)

void sp_sip_server_transaction_set_event_func (SpSipServerTransaction *st,
                                               SpSipServerEventFunc func, gpointer user_data);
SpSipTransactionState sp_sip_server_transaction_get_state (SpSipServerTransaction *st);
SpSipMessage *sp_sip_server_transaction_get_request (SpSipServerTransaction *st);
const SpSipPeer *sp_sip_server_transaction_get_source (SpSipServerTransaction *st);
/* The Reason header of the CANCEL that cancelled this INVITE (at most
 * SP_SIP_MAX_CANCEL_REASON bytes, else ignored), or NULL. */
#define SP_SIP_MAX_CANCEL_REASON 256
const char *sp_sip_server_transaction_get_cancel_reason (SpSipServerTransaction *st);
/* The To tag this transaction puts on its responses. */
const char *sp_sip_server_transaction_get_to_tag (SpSipServerTransaction *st);
void sp_sip_server_transaction_set_to_tag (SpSipServerTransaction *st, const char *tag);
/* A response to the request with this transaction's To tag (none on 100). */
SpSipMessage *sp_sip_server_transaction_new_response (SpSipServerTransaction *st, guint status,
                                                      const char *reason);
/* Sends @response through the state machine. FALSE once a final
 * response went out (except further 2xx to INVITE, RFC 6026) or when the
 * transport refuses it. */
gboolean sp_sip_server_transaction_respond (SpSipServerTransaction *st, SpSipMessage *response,
                                            GError **error);
/* Shortcut: new_response + respond. */
gboolean sp_sip_server_transaction_reply (SpSipServerTransaction *st, guint status,
                                          const char *reason);
/* Ends @st without answering (a request the TU ignores on purpose, e.g.
 * from a blocked address): no 100 Trying goes out and the layer forgets
 * it at once, so a flood leaves nothing behind; a retransmission comes
 * to the TU again as a new transaction. */
void sp_sip_server_transaction_drop (SpSipServerTransaction *st);

G_END_DECLS
