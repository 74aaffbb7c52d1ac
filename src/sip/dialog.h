#pragma once

#include <glib.h>

#include "sip/message.h"
#include "sip/transport.h"

G_BEGIN_DECLS

/* SIP dialogs (RFC 3261 section 12): identity, route set, remote target,
 * CSeq spaces, and the requests sent inside a dialog. A plain reference
 * counted value; the stack keeps the table of live dialogs. */

typedef enum
{
  SP_SIP_DIALOG_EARLY,
  SP_SIP_DIALOG_CONFIRMED,
  SP_SIP_DIALOG_TERMINATED,
} SpSipDialogState;

typedef struct _SpSipDialog SpSipDialog;

/* UAC side (12.1.2), from a 1xx with a To tag or a 2xx. @request (may be
 * NULL when only the response is at hand, e.g. a late forked 2xx) is the
 * request that created it. NULL with @error when the response cannot
 * create a dialog (no To tag, no Contact in a 2xx...). */
SpSipDialog *sp_sip_dialog_new_uac (const SpSipMessage *request, const SpSipMessage *response,
                                    GError **error);
/* UAS side (12.1.1), from the request and the response with our To tag. */
SpSipDialog *sp_sip_dialog_new_uas (const SpSipMessage *request, const SpSipMessage *response,
                                    GError **error);

SpSipDialog *sp_sip_dialog_ref (SpSipDialog *dialog);
void sp_sip_dialog_unref (SpSipDialog *dialog);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpSipDialog, sp_sip_dialog_unref)

SpSipDialogState sp_sip_dialog_get_state (const SpSipDialog *dialog);
void sp_sip_dialog_set_state (SpSipDialog *dialog, SpSipDialogState state);
gboolean sp_sip_dialog_is_uac (const SpSipDialog *dialog);
const char *sp_sip_dialog_get_call_id (const SpSipDialog *dialog);
const char *sp_sip_dialog_get_local_tag (const SpSipDialog *dialog);
const char *sp_sip_dialog_get_remote_tag (const SpSipDialog *dialog);
/* The From/To values (with tags) this side puts in its requests. */
const char *sp_sip_dialog_get_local_party (const SpSipDialog *dialog);
const char *sp_sip_dialog_get_remote_party (const SpSipDialog *dialog);
guint32 sp_sip_dialog_get_local_seq (const SpSipDialog *dialog);
/* 0 while empty. */
guint32 sp_sip_dialog_get_remote_seq (const SpSipDialog *dialog);
const SpSipUri *sp_sip_dialog_get_remote_target (const SpSipDialog *dialog);
/* Route set, name-addr strings in the order requests carry them. */
const GPtrArray *sp_sip_dialog_get_route_set (const SpSipDialog *dialog);
/* Contact value put on target refresh requests (INVITE, UPDATE,
 * SUBSCRIBE, NOTIFY, REFER) sent in the dialog. */
void sp_sip_dialog_set_local_contact (SpSipDialog *dialog, const char *contact);
/* That Contact value, NULL when none was set. */
const char *sp_sip_dialog_get_local_contact (const SpSipDialog *dialog);

/* The TCP or TLS connection the dialog was set up on (the peer our
 * INVITE went to, or the one theirs came from); NULL (and UDP) forget
 * it. The stack sends the dialog's requests and ACKs on it while it is
 * open and the remote target names the same host and transport (RFC
 * 5626 flows, RFC 3261 18.1.1 reuse): a phone's Contact may name a
 * listener it does not have or that a firewall closes. */
void sp_sip_dialog_set_flow (SpSipDialog *dialog, const SpSipPeer *flow);
const SpSipPeer *sp_sip_dialog_get_flow (const SpSipDialog *dialog);

/* The one place a dialog id is spelt: "call-id|local-tag|remote-tag"
 * (NULL parts as empty). Every table of dialogs (the stack's, the
 * B2BUA's) is keyed by it. */
char *sp_sip_dialog_format_id (const char *call_id, const char *local_tag, const char *remote_tag);
/* The id of @dialog (sp_sip_dialog_format_id). */
char *sp_sip_dialog_dup_id (const SpSipDialog *dialog);
/* The id of the dialog that a response with our To tag @to_tag to the
 * incoming @request creates or belongs to (the UAS side). */
char *sp_sip_dialog_id_for_uas (const SpSipMessage *request, const char *to_tag);
/* The id of the dialog @msg belongs to, seen from this side: @incoming
 * requests have our tag in To, responses to our requests in From. NULL
 * when a tag is missing. */
char *sp_sip_dialog_id_for_message (const SpSipMessage *msg);

/* A response received in the dialog (UAC): early -> confirmed on 2xx (the
 * route set is recomputed then, 13.2.2.4), remote target refreshed from
 * Contact for INVITE / UPDATE responses. */
void sp_sip_dialog_update_from_response (SpSipDialog *dialog, const SpSipMessage *response);
/* A request received in the dialog (12.2.2). Returns 0 when it may be
 * processed, or the status to reject it with (500 for a CSeq lower than
 * the remote one). Refreshes the remote target on target refresh requests. */
guint sp_sip_dialog_receive_request (SpSipDialog *dialog, const SpSipMessage *request);

/* A request in the dialog (12.2.1.1): Request-URI and Route by loose or
 * strict routing, To/From/Call-ID, CSeq = local + 1, Max-Forwards. */
SpSipMessage *sp_sip_dialog_new_request (SpSipDialog *dialog, const char *method);
/* ACK for a 2xx to the INVITE with CSeq @invite_cseq (13.2.2.4). */
SpSipMessage *sp_sip_dialog_new_ack (SpSipDialog *dialog, guint32 invite_cseq);

/* Where a request goes first (8.1.2): its top Route when there is one
 * (loose routing), else its Request-URI; port 5060 unless given, TCP for
 * ";transport=tcp". FALSE when the host is not a numeric address. */
gboolean sp_sip_request_next_hop (const SpSipMessage *request, SpSipPeer *peer);
/* When the next hop is a host name: the name to look up (free it), with
 * @peer's kind and port filled in and its host empty. NULL otherwise. */
char *sp_sip_request_next_hop_name (const SpSipMessage *request, SpSipPeer *peer);

G_END_DECLS
