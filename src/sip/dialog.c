#include "sip/dialog.h"

#include <string.h>

#include "sip/sip-private.h"

struct _SpSipDialog
{
  gint ref_count;
  SpSipDialogState state;
  gboolean uac;
  char *call_id;
  char *local_tag;
  char *remote_tag;
  char *local_party;
  char *remote_party;
  guint32 local_seq;
  guint32 remote_seq;
  SpSipUri *remote_target;
  GPtrArray *route_set; /* char *, name-addr */
  char *local_contact;
  gboolean has_flow;
  SpSipPeer flow;
};

static const char *
tag_of (const SpSipNameAddr *addr)
{
  return addr ? sp_sip_name_addr_get_tag (addr) : NULL;
}

static gboolean
is_target_refresh (SpSipMethod method)
{
  return method == SP_SIP_METHOD_INVITE || method == SP_SIP_METHOD_UPDATE ||
         method == SP_SIP_METHOD_SUBSCRIBE || method == SP_SIP_METHOD_NOTIFY ||
         method == SP_SIP_METHOD_REFER;
}

static GPtrArray *
route_set_from (const SpSipMessage *msg, gboolean reverse)
{
  const GPtrArray *rr = sp_sip_message_get_record_routes (msg);
  GPtrArray *set = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; rr && i < rr->len; i++)
    {
      guint idx = reverse ? rr->len - 1 - i : i;
      g_ptr_array_add (set, sp_sip_name_addr_to_string (g_ptr_array_index (rr, idx)));
    }
  return set;
}

static gboolean
take_contact (SpSipDialog *dialog, const SpSipMessage *msg)
{
  const GPtrArray *contacts = sp_sip_message_get_contacts (msg);
  const SpSipNameAddr *contact;

  if (contacts == NULL || contacts->len == 0)
    return FALSE;
  contact = g_ptr_array_index (contacts, 0);
  if (contact->uri == NULL)
    return FALSE;
  if (dialog->remote_target)
    sp_sip_uri_free (dialog->remote_target);
  dialog->remote_target = sp_sip_uri_copy (contact->uri);
  return TRUE;
}

static SpSipDialog *
dialog_alloc (void)
{
  SpSipDialog *dialog = g_new0 (SpSipDialog, 1);
  dialog->ref_count = 1;
  return dialog;
}

SpSipDialog *
sp_sip_dialog_new_uac (const SpSipMessage *request, const SpSipMessage *response, GError **error)
{
  g_autoptr (SpSipDialog) dialog = NULL;
  const SpSipNameAddr *from = sp_sip_message_get_from (response);
  const SpSipNameAddr *to = sp_sip_message_get_to (response);
  guint status = sp_sip_message_get_status (response);

  if (status < 101 || status >= 300 || tag_of (to) == NULL || tag_of (from) == NULL ||
      sp_sip_message_get_call_id (response) == NULL)
    {
      g_set_error_literal (error, SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST,
                           "response does not create a dialog");
      return NULL;
    }
  dialog = dialog_alloc ();
  dialog->uac = TRUE;
  dialog->state = status < 200 ? SP_SIP_DIALOG_EARLY : SP_SIP_DIALOG_CONFIRMED;
  dialog->call_id = g_strdup (sp_sip_message_get_call_id (response));
  dialog->local_tag = g_strdup (tag_of (from));
  dialog->remote_tag = g_strdup (tag_of (to));
  dialog->local_party = g_strdup (sp_sip_message_get_header (request ? request : response, "From"));
  dialog->remote_party = g_strdup (sp_sip_message_get_header (response, "To"));
  dialog->local_seq = sp_sip_message_get_cseq (request ? request : response, NULL);
  dialog->route_set = route_set_from (response, TRUE);
  if (!take_contact (dialog, response))
    {
      /* 12.1.2: no Contact, no target; fall back to the Request-URI. */
      if (request == NULL || status >= 200)
        {
          g_set_error_literal (error, SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST,
                               "dialog-creating response without Contact");
          return NULL;
        }
      dialog->remote_target = sp_sip_uri_copy (sp_sip_message_get_request_uri (request));
    }
  return g_steal_pointer (&dialog);
}

SpSipDialog *
sp_sip_dialog_new_uas (const SpSipMessage *request, const SpSipMessage *response, GError **error)
{
  g_autoptr (SpSipDialog) dialog = NULL;
  const SpSipNameAddr *from = sp_sip_message_get_from (request);
  const SpSipNameAddr *to = sp_sip_message_get_to (response);
  guint status = sp_sip_message_get_status (response);

  if (status < 101 || status >= 300 || tag_of (to) == NULL ||
      sp_sip_message_get_call_id (request) == NULL)
    {
      g_set_error_literal (error, SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST,
                           "response does not create a dialog");
      return NULL;
    }
  dialog = dialog_alloc ();
  dialog->state = status < 200 ? SP_SIP_DIALOG_EARLY : SP_SIP_DIALOG_CONFIRMED;
  dialog->call_id = g_strdup (sp_sip_message_get_call_id (request));
  dialog->local_tag = g_strdup (tag_of (to));
  /* An RFC 2543 peer may send no From tag: the empty tag stands in. */
  dialog->remote_tag = g_strdup (tag_of (from) ? tag_of (from) : "");
  dialog->local_party = g_strdup (sp_sip_message_get_header (response, "To"));
  dialog->remote_party = g_strdup (sp_sip_message_get_header (request, "From"));
  dialog->remote_seq = sp_sip_message_get_cseq (request, NULL);
  dialog->route_set = route_set_from (request, FALSE);
  if (!take_contact (dialog, request))
    {
      g_set_error_literal (error, SP_SIP_ERROR, SP_SIP_ERROR_BAD_REQUEST,
                           "dialog-creating request without Contact");
      return NULL;
    }
  return g_steal_pointer (&dialog);
}

SpSipDialog *
sp_sip_dialog_ref (SpSipDialog *dialog)
{
  dialog->ref_count++;
  return dialog;
}

void
sp_sip_dialog_unref (SpSipDialog *dialog)
{
  if (dialog == NULL || --dialog->ref_count > 0)
    return;
  g_free (dialog->call_id);
  g_free (dialog->local_tag);
  g_free (dialog->remote_tag);
  g_free (dialog->local_party);
  g_free (dialog->remote_party);
  if (dialog->remote_target)
    sp_sip_uri_free (dialog->remote_target);
  if (dialog->route_set)
    g_ptr_array_unref (dialog->route_set);
  g_free (dialog->local_contact);
  g_free (dialog);
}

SpSipDialogState
sp_sip_dialog_get_state (const SpSipDialog *dialog)
{
  return dialog->state;
}

void
sp_sip_dialog_set_state (SpSipDialog *dialog, SpSipDialogState state)
{
  dialog->state = state;
}

gboolean
sp_sip_dialog_is_uac (const SpSipDialog *dialog)
{
  return dialog->uac;
}

const char *
sp_sip_dialog_get_call_id (const SpSipDialog *dialog)
{
  return dialog->call_id;
}

const char *
sp_sip_dialog_get_local_tag (const SpSipDialog *dialog)
{
  return dialog->local_tag;
}

const char *
sp_sip_dialog_get_remote_tag (const SpSipDialog *dialog)
{
  return dialog->remote_tag;
}

const char *
sp_sip_dialog_get_local_party (const SpSipDialog *dialog)
{
  return dialog->local_party;
}

const char *
sp_sip_dialog_get_remote_party (const SpSipDialog *dialog)
{
  return dialog->remote_party;
}

guint32
sp_sip_dialog_get_local_seq (const SpSipDialog *dialog)
{
  return dialog->local_seq;
}

guint32
sp_sip_dialog_get_remote_seq (const SpSipDialog *dialog)
{
  return dialog->remote_seq;
}

const SpSipUri *
sp_sip_dialog_get_remote_target (const SpSipDialog *dialog)
{
  return dialog->remote_target;
}

const GPtrArray *
sp_sip_dialog_get_route_set (const SpSipDialog *dialog)
{
  return dialog->route_set;
}

void
sp_sip_dialog_set_local_contact (SpSipDialog *dialog, const char *contact)
{
  g_free (dialog->local_contact);
  dialog->local_contact = g_strdup (contact);
}

const char *
sp_sip_dialog_get_local_contact (const SpSipDialog *dialog)
{
  return dialog->local_contact;
}

void
sp_sip_dialog_set_flow (SpSipDialog *dialog, const SpSipPeer *flow)
{
  dialog->has_flow = flow != NULL && sp_sip_transport_kind_is_stream (flow->kind);
  if (dialog->has_flow)
    dialog->flow = *flow;
}

const SpSipPeer *
sp_sip_dialog_get_flow (const SpSipDialog *dialog)
{
  return dialog->has_flow ? &dialog->flow : NULL;
}

char *
sp_sip_dialog_format_id (const char *call_id, const char *local_tag, const char *remote_tag)
{
  return g_strconcat (sp_sip_or_empty (call_id), "|", sp_sip_or_empty (local_tag), "|",
                      sp_sip_or_empty (remote_tag), NULL);
}

char *
sp_sip_dialog_dup_id (const SpSipDialog *dialog)
{
  return sp_sip_dialog_format_id (dialog->call_id, dialog->local_tag, dialog->remote_tag);
}

char *
sp_sip_dialog_id_for_uas (const SpSipMessage *request, const char *to_tag)
{
  return sp_sip_dialog_format_id (sp_sip_message_get_call_id (request), to_tag,
                                  tag_of (sp_sip_message_get_from (request)));
}

char *
sp_sip_dialog_id_for_message (const SpSipMessage *msg)
{
  const char *from = tag_of (sp_sip_message_get_from (msg));
  const char *to = tag_of (sp_sip_message_get_to (msg));
  const char *call_id = sp_sip_message_get_call_id (msg);

  if (call_id == NULL || to == NULL)
    return NULL;
  if (sp_sip_message_is_request (msg))
    return sp_sip_dialog_format_id (call_id, to, from);
  if (from == NULL)
    return NULL;
  return sp_sip_dialog_format_id (call_id, from, to);
}

void
sp_sip_dialog_update_from_response (SpSipDialog *dialog, const SpSipMessage *response)
{
  guint status = sp_sip_message_get_status (response);
  SpSipMethod method = sp_sip_message_get_method_id (response);

  if (status >= 200 && status < 300 && dialog->state == SP_SIP_DIALOG_EARLY)
    {
      dialog->state = SP_SIP_DIALOG_CONFIRMED;
      if (dialog->uac)
        {
          g_ptr_array_unref (dialog->route_set);
          dialog->route_set = route_set_from (response, TRUE);
        }
      g_free (dialog->remote_party);
      dialog->remote_party = g_strdup (sp_sip_message_get_header (response, "To"));
    }
  if (status > 100 && status < 300 && is_target_refresh (method))
    take_contact (dialog, response);
}

guint
sp_sip_dialog_receive_request (SpSipDialog *dialog, const SpSipMessage *request)
{
  SpSipMethod method = sp_sip_message_get_method_id (request);
  guint32 cseq = sp_sip_message_get_cseq (request, NULL);

  if (method != SP_SIP_METHOD_ACK && method != SP_SIP_METHOD_CANCEL)
    {
      if (dialog->remote_seq != 0 && cseq < dialog->remote_seq)
        return 500;
      dialog->remote_seq = cseq;
    }
  if (is_target_refresh (method))
    take_contact (dialog, request);
  return 0;
}

static gboolean
route_is_loose (const char *route)
{
  g_autoptr (SpSipNameAddr) addr = sp_sip_name_addr_parse (route, -1, NULL);
  return addr && addr->uri && sp_sip_uri_has_param (addr->uri, "lr");
}

/* 12.2.1.1: Request-URI and Route header fields. */
static SpSipMessage *
new_routed_request (SpSipDialog *dialog, const char *method)
{
  g_autoptr (SpSipMessage) msg = NULL;
  guint first = 0;

  if (dialog->route_set->len > 0 && !route_is_loose (g_ptr_array_index (dialog->route_set, 0)))
    {
      /* Strict routing: the first route becomes the Request-URI and the
       * remote target goes last in Route. */
      g_autoptr (SpSipNameAddr) addr =
          sp_sip_name_addr_parse (g_ptr_array_index (dialog->route_set, 0), -1, NULL);
      g_autofree char *target = NULL;
      g_autofree char *target_route = NULL;

      if (addr == NULL || addr->uri == NULL)
        return NULL;
      msg = sp_sip_message_new_request (method, addr->uri);
      first = 1;
      for (guint i = first; i < dialog->route_set->len; i++)
        sp_sip_message_add_header (msg, "Route", g_ptr_array_index (dialog->route_set, i), NULL);
      target = sp_sip_uri_to_string (dialog->remote_target);
      target_route = g_strdup_printf ("<%s>", target);
      sp_sip_message_add_header (msg, "Route", target_route, NULL);
      return g_steal_pointer (&msg);
    }
  msg = sp_sip_message_new_request (method, dialog->remote_target);
  for (guint i = 0; i < dialog->route_set->len; i++)
    sp_sip_message_add_header (msg, "Route", g_ptr_array_index (dialog->route_set, i), NULL);
  return g_steal_pointer (&msg);
}

static SpSipMessage *
build_request (SpSipDialog *dialog, const char *method, guint32 cseq)
{
  g_autoptr (SpSipMessage) msg = new_routed_request (dialog, method);
  g_autofree char *cseq_value = g_strdup_printf ("%u %s", cseq, method);
  SpSipMethod id = sp_sip_method_from_string (method);

  if (msg == NULL)
    return NULL;
  if (!sp_sip_message_add_header (msg, "Max-Forwards", "70", NULL) ||
      !sp_sip_message_add_header (msg, "From", dialog->local_party, NULL) ||
      !sp_sip_message_add_header (msg, "To", dialog->remote_party, NULL) ||
      !sp_sip_message_add_header (msg, "Call-ID", dialog->call_id, NULL) ||
      !sp_sip_message_add_header (msg, "CSeq", cseq_value, NULL))
    return NULL;
  if (dialog->local_contact && is_target_refresh (id))
    sp_sip_message_add_header (msg, "Contact", dialog->local_contact, NULL);
  return g_steal_pointer (&msg);
}

SpSipMessage *
sp_sip_dialog_new_request (SpSipDialog *dialog, const char *method)
{
  /* An empty local sequence starts anywhere below 2^31; 1 is fine. */
  dialog->local_seq = dialog->local_seq == 0 ? 1 : dialog->local_seq + 1;
  return build_request (dialog, method, dialog->local_seq);
}

SpSipMessage *
sp_sip_dialog_new_ack (SpSipDialog *dialog, guint32 invite_cseq)
{
  return build_request (dialog, "ACK", invite_cseq);
}

/* The next hop's URI parts: host (maddr first), port, transport. */
static const char *
next_hop_uri (const SpSipMessage *request, SpSipTransportKind *kind, guint16 *port)
{
  const GPtrArray *routes = sp_sip_message_get_routes (request);
  const SpSipUri *uri = sp_sip_message_get_request_uri (request);
  const char *transport;
  const char *host;

  if (routes->len > 0)
    {
      const SpSipNameAddr *route = g_ptr_array_index (routes, 0);
      if (route->uri)
        uri = route->uri;
    }
  if (uri == NULL)
    return NULL;
  host = sp_sip_uri_get_param (uri, "maddr");
  if (host == NULL)
    host = sp_sip_uri_get_host (uri);
  transport = sp_sip_uri_get_param (uri, "transport");
  /* sips: and ;transport=tls go over TLS (RFC 3261 26.2.2). */
  if (sp_sip_uri_get_scheme (uri) == SP_URI_SCHEME_SIPS ||
      (transport != NULL && g_ascii_strcasecmp (transport, "tls") == 0))
    *kind = SP_SIP_TRANSPORT_TLS;
  else
    *kind = transport && g_ascii_strcasecmp (transport, "tcp") == 0 ? SP_SIP_TRANSPORT_TCP
                                                                    : SP_SIP_TRANSPORT_UDP;
  *port = sp_sip_uri_get_port (uri);
  if (*port == 0)
    *port = sp_sip_transport_kind_default_port (*kind);
  return host;
}

gboolean
sp_sip_request_next_hop (const SpSipMessage *request, SpSipPeer *peer)
{
  SpSipTransportKind kind;
  guint16 port;
  const char *host = next_hop_uri (request, &kind, &port);

  if (host == NULL || !g_hostname_is_ip_address (host))
    return FALSE;
  sp_sip_peer_init (peer, kind, host, port);
  return TRUE;
}

char *
sp_sip_request_next_hop_name (const SpSipMessage *request, SpSipPeer *peer)
{
  SpSipTransportKind kind;
  guint16 port;
  const char *host = next_hop_uri (request, &kind, &port);

  if (host == NULL || *host == '\0' || g_hostname_is_ip_address (host))
    return NULL;
  sp_sip_peer_init (peer, kind, "", port);
  return g_strdup (host);
}
