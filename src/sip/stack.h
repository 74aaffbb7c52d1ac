#pragma once

#include <glib-object.h>

#include "sip/clock.h"
#include "sip/dialog.h"
#include "sip/message.h"
#include "sip/routecache.h"
#include "sip/transaction.h"
#include "sip/transport.h"

G_BEGIN_DECLS

/* The SIP engine as the phone and the server see it: transports, the
 * transaction table and the dialogs tied together.
 *
 * Incoming requests reach the TU through the "request" signal:
 *   gboolean handler (SpSipStack *stack, SpSipServerTransaction *st,
 *                     SpSipMessage *request, SpSipDialog *dialog, gpointer)
 * @dialog is NULL outside a dialog. A handler returns TRUE when it answers
 * (now or later) through sp_sip_stack_respond(). Unhandled requests get a
 * default answer: OPTIONS 200 with Allow/Accept/Supported, BYE in a
 * dialog 200, everything else 405/501. Requests for unknown dialogs are
 * answered 481 before any signal.
 *
 * "ack" (SpSipMessage *ack, SpSipDialog *dialog): the ACK for a 2xx we
 * sent. "ack-timeout" (SpSipDialog *dialog): a 2xx was retransmitted for
 * 64*T1 without ACK; the stack has sent BYE (13.3.1.4).
 * "dialog-terminated" (SpSipDialog *dialog): a BYE ended a dialog.
 * "dialog-missing" (SpSipMessage *request) -> gboolean: a request with a
 * To tag for no dialog we know; a handler that makes the dialog (a
 * NOTIFY before the 2xx of our SUBSCRIBE, RFC 6665 4.1.2.4) adds it with
 * sp_sip_stack_add_dialog and returns TRUE; else the stack answers 481.
 * A 2xx to a SUBSCRIBE outside a dialog creates the notifier's dialog. */

#define SP_TYPE_SIP_STACK (sp_sip_stack_get_type ())
G_DECLARE_FINAL_TYPE (SpSipStack, sp_sip_stack, SP, SIP_STACK, GObject)

typedef struct
{
  guint64 requests_received;
  guint64 responses_received;
  guint64 unknown_dialog_481;
  guint64 acks_for_2xx_sent;
  guint64 responses_2xx_retransmitted;
  guint64 forked_2xx_byes;
  guint64 ack_timeouts;
  guint64 dns_lookups;
  guint64 dns_failures;
} SpSipStackStats;

/* @clock NULL = GLib timeouts on the thread-default context; @timers NULL
 * = RFC 3261 defaults. */
SpSipStack *sp_sip_stack_new (SpSipClock *clock, const SpSipTimerSettings *timers);

gboolean sp_sip_stack_listen (SpSipStack *stack, SpSipTransportKind kind, const char *host,
                              guint16 port, SpSipPeer *bound, GError **error);
SpSipTransport *sp_sip_stack_get_transport (SpSipStack *stack);
SpSipTransactionLayer *sp_sip_stack_get_transactions (SpSipStack *stack);
const SpSipStackStats *sp_sip_stack_get_stats (SpSipStack *stack);
void sp_sip_stack_set_user_agent (SpSipStack *stack, const char *user_agent);
/* Methods we answer, for Allow: "INVITE, ACK, CANCEL, BYE, OPTIONS, ..." */
const char *sp_sip_stack_get_allow (SpSipStack *stack);
/* Contact URI ("<sip:user@host:port;transport=tcp>") on the binding that
 * would talk to @towards (NULL = the first binding). On a wildcard
 * binding (0.0.0.0 / ::) the host is the address @towards reached us on
 * (towards->local: a request's source), else the address the route to
 * @towards (an IP literal) leaves from; the wildcard stays only when
 * both are unknown (@towards NULL or a name). */
char *sp_sip_stack_dup_contact (SpSipStack *stack, const char *user, const SpSipPeer *towards);

/* The stack's route-source cache (sip/routecache.h): the media-address
 * policy of the phone and the server on a wildcard binding. */
SpSipRouteCache *sp_sip_stack_get_route_cache (SpSipStack *stack);
/* TRUE for 0.0.0.0 and ::. */
gboolean sp_sip_host_is_wildcard (const char *host);

/* An out-of-dialog request: From with a fresh tag, To, a fresh Call-ID,
 * CSeq @cseq, Max-Forwards 70 (sp_sip_stack_send_request adds Contact
 * to INVITE / SUBSCRIBE / REFER when missing). */
SpSipMessage *sp_sip_stack_new_request (SpSipStack *stack, const char *method,
                                        const SpSipUri *request_uri, const char *from,
                                        const char *to, guint32 cseq);

/* Response callback for requests sent through the stack. @dialog is the
 * dialog the response created or belongs to (INVITE 1xx with tag and
 * 2xx), else NULL. ACKs for 2xx are sent by the stack (except after a
 * late offer, see sp_sip_stack_send_ack); a second 2xx with another To
 * tag (forking) is ACKed and then ended with BYE, and not reported. */
typedef void (*SpSipStackResponseFunc) (SpSipStack *stack, SpSipClientTransaction *ct,
                                        SpSipMessage *response, SpSipDialog *dialog,
                                        gpointer user_data);

/* The ACK for the 2xx to the INVITE with CSeq @invite_cseq in @dialog,
 * with @body (NULL: none), for the one case the stack does not ACK by
 * itself: an INVITE without a body whose 2xx carries one (a late offer,
 * RFC 3261 13.2.2.4), whose ACK must carry the answer. The stack resends
 * this ACK for each retransmission of that 2xx. */
gboolean sp_sip_stack_send_ack (SpSipStack *stack, SpSipDialog *dialog, guint32 invite_cseq,
                                const char *content_type, const char *body, GError **error);

/* Sends @request in a new client transaction to @dest (NULL = the next
 * hop from Route / Request-URI). Returns the transaction (borrowed) or
 * NULL with @error when there is no next hop at all.
 * A next hop given as a host name is looked up without blocking (A and
 * AAAA through GResolver; no NAPTR/SRV): the transaction exists at once
 * (it can be cancelled) and sends when the address is known; a name
 * that does not resolve ends it with a local 503 whose reason names
 * the lookup error. An address of a family we have a binding for is
 * chosen. Only requests take this path: ACKs for 2xx and responses
 * need numeric addresses (Contact / Via). */
SpSipClientTransaction *sp_sip_stack_send_request (SpSipStack *stack, SpSipMessage *request,
                                                   const SpSipPeer *dest,
                                                   SpSipStackResponseFunc func, gpointer user_data,
                                                   GError **error);
/* The same, owning @user_data: @user_data_free runs when the transaction
 * is gone (after its last response, or when the stack goes), or at once
 * when NULL is returned. For data a response callback must not outlive. */
SpSipClientTransaction *
sp_sip_stack_send_request_full (SpSipStack *stack, SpSipMessage *request, const SpSipPeer *dest,
                                SpSipStackResponseFunc func, gpointer user_data,
                                GDestroyNotify user_data_free, GError **error);
/* A request in @dialog (built with sp_sip_dialog_new_request) */
SpSipClientTransaction *sp_sip_stack_send_in_dialog (SpSipStack *stack, SpSipDialog *dialog,
                                                     const char *method,
                                                     SpSipStackResponseFunc func,
                                                     gpointer user_data, GError **error);
SpSipClientTransaction *
sp_sip_stack_send_in_dialog_full (SpSipStack *stack, SpSipDialog *dialog, const char *method,
                                  SpSipStackResponseFunc func, gpointer user_data,
                                  GDestroyNotify user_data_free, GError **error);
/* Sends @request, already built from @dialog and completed by the caller
 * (Contact, body), to the dialog's next hop; on a wildcard binding it
 * leaves from the address the dialog's local Contact names. */
SpSipClientTransaction *
sp_sip_stack_send_dialog_request (SpSipStack *stack, SpSipDialog *dialog, SpSipMessage *request,
                                  SpSipStackResponseFunc func, gpointer user_data,
                                  GDestroyNotify user_data_free, GError **error);

/* Answers a request. For INVITE: a 1xx with a tag or a 2xx creates the
 * UAS dialog (a Contact is added when missing); a 2xx is retransmitted
 * until its ACK arrives (13.3.1.4). */
gboolean sp_sip_stack_respond (SpSipStack *stack, SpSipServerTransaction *st,
                               SpSipMessage *response, GError **error);
/* Shortcut: a response with the transaction's tag and sp_sip_stack_respond. */
gboolean sp_sip_stack_reply (SpSipStack *stack, SpSipServerTransaction *st, guint status,
                             const char *reason);

/* The resolver for host names (NULL = g_resolver_get_default ()). */
void sp_sip_stack_set_resolver (SpSipStack *stack, GResolver *resolver);

SpSipDialog *sp_sip_stack_lookup_dialog (SpSipStack *stack, const char *id);
guint sp_sip_stack_get_n_dialogs (SpSipStack *stack);
/* Adds a dialog the TU made (a subscription's, sp_sip_dialog_new_uac on
 * the 2xx to its SUBSCRIBE or on a NOTIFY); the table takes a ref. */
void sp_sip_stack_add_dialog (SpSipStack *stack, SpSipDialog *dialog);
/* Forgets a dialog (after BYE or a failed INVITE). */
void sp_sip_stack_remove_dialog (SpSipStack *stack, SpSipDialog *dialog);

G_END_DECLS
