#include "server/registrar.h"

struct _SpRegistrar
{
  SpSipStack *stack;
  SpLocationStore *locations;
  SpRegistrarStats stats;
};

static void hold_flow (SpRegistrar *registrar, const SpSipPeer *source, const char *src,
                       const char *aor, const GPtrArray *bindings, gint64 now);

/* A binding gone by any road (Expires 0, expiry, its user deleted from
 * the window or the web console): the connection it came on is held only
 * for what is left of that AOR there, so a deleted user's flow is not
 * kept open until the expiry it had. */
static void
on_binding_removed (SpLocationStore *store, SpBinding *binding, gboolean expired,
                    SpRegistrar *registrar)
{
  g_autoptr (GPtrArray) left = NULL;
  const char *colon;
  g_autofree char *host = NULL;
  SpSipPeer peer;
  guint64 port;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if (binding->source == NULL || binding->transport == NULL ||
      (strcmp (binding->transport, "tcp") != 0 && strcmp (binding->transport, "tls") != 0) ||
      (colon = strrchr (binding->source, ':')) == NULL ||
      !g_ascii_string_to_unsigned (colon + 1, 10, 1, G_MAXUINT16, &port, NULL))
    return;
  host = g_strndup (binding->source, (gsize) (colon - binding->source));
  sp_sip_peer_init (
      &peer, strcmp (binding->transport, "tls") == 0 ? SP_SIP_TRANSPORT_TLS : SP_SIP_TRANSPORT_TCP,
      host, (guint16) port);
  left = sp_location_store_lookup (store, binding->aor, now);
  hold_flow (registrar, &peer, binding->source, binding->aor, left, now);
}

SpRegistrar *
sp_registrar_new (SpSipStack *stack, SpLocationStore *locations)
{
  SpRegistrar *registrar = g_new0 (SpRegistrar, 1);

  registrar->stack = stack;
  registrar->locations = locations;
  g_signal_connect (locations, "binding-removed", G_CALLBACK (on_binding_removed), registrar);
  return registrar;
}

void
sp_registrar_free (SpRegistrar *registrar)
{
  if (registrar == NULL)
    return;
  g_signal_handlers_disconnect_by_data (registrar->locations, registrar);
  g_free (registrar);
}

const SpRegistrarStats *
sp_registrar_get_stats (SpRegistrar *registrar)
{
  return &registrar->stats;
}

static void
reply_bindings (SpRegistrar *registrar, SpSipServerTransaction *st, const GPtrArray *bindings,
                gint64 now)
{
  g_autoptr (SpSipMessage) response = sp_sip_server_transaction_new_response (st, 200, NULL);

  for (guint i = 0; bindings != NULL && i < bindings->len; i++)
    {
      const SpBinding *b = g_ptr_array_index (bindings, i);
      g_autofree char *value =
          g_strdup_printf ("<%s>;expires=%" G_GINT64_FORMAT, b->contact, MAX (b->expires - now, 0));
      sp_sip_message_add_header (response, "Contact", value, NULL);
    }
  registrar->stats.accepted++;
  sp_sip_stack_respond (registrar->stack, st, response, NULL);
}

/* A phone registered over TCP or TLS is reached on the connection its
 * REGISTER came on (RFC 5626 flow reuse), so that connection must outlive
 * the transport's idle timeout while the registration lives, even when
 * the phone sends no keep-alives: hold it until the latest expiry of the
 * AOR's bindings that came from there, release it when none is left
 * (Expires 0, "*"). Only an authenticated REGISTER gets here, and the
 * transport caps holders per connection. */
static void
hold_flow (SpRegistrar *registrar, const SpSipPeer *source, const char *src, const char *aor,
           const GPtrArray *bindings, gint64 now)
{
  SpSipTransport *transport = sp_sip_stack_get_transport (registrar->stack);
  const char *kind = source->kind == SP_SIP_TRANSPORT_TLS ? "tls" : "tcp";
  gint64 latest = now;

  if (!sp_sip_transport_kind_is_stream (source->kind) || transport == NULL)
    return;
  for (guint i = 0; bindings != NULL && i < bindings->len; i++)
    {
      const SpBinding *b = g_ptr_array_index (bindings, i);
      if (g_strcmp0 (b->source, src) == 0 && g_strcmp0 (b->transport, kind) == 0)
        latest = MAX (latest, b->expires);
    }
  sp_sip_transport_hold_connection (transport, source, aor, (guint) MIN (latest - now, G_MAXUINT));
}

/* The AOR a REGISTER is about: the user part of To. */
static char *
dup_aor (const SpSipMessage *request)
{
  const SpSipNameAddr *to = sp_sip_message_get_to (request);

  if (to == NULL || sp_sip_uri_get_user (to->uri) == NULL)
    return NULL;
  return sp_sip_uri_dup_user_unescaped (to->uri, NULL);
}

static void
apply (SpRegistrar *registrar, SpSipServerTransaction *st, const SpSipMessage *request,
       const char *aor, gint64 now)
{
  const GPtrArray *contacts = sp_sip_message_get_contacts (request);
  gboolean star = sp_sip_message_contact_is_star (request);
  const SpSipPeer *source = sp_sip_server_transaction_get_source (st);
  g_autoptr (GArray) updates = g_array_new (FALSE, TRUE, sizeof (SpContactUpdate));
  g_autoptr (GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *src = g_strdup_printf ("%s:%u", source->host, source->port);
  g_autoptr (SpRegisterResult) result = NULL;
  SpRegisterRequest req = { 0 };
  const char *q_text;

  if (star)
    {
      SpContactUpdate u = { .contact = "*", .expires = -1, .q = -1 };
      g_array_append_val (updates, u);
    }
  for (guint i = 0; !star && i < contacts->len; i++)
    {
      const SpSipNameAddr *c = g_ptr_array_index (contacts, i);
      SpContactUpdate u = { .expires = sp_sip_name_addr_get_expires (c), .q = -1 };
      char *text = sp_sip_uri_to_string (c->uri);

      g_ptr_array_add (texts, text);
      u.contact = text;
      q_text = sp_sip_name_addr_get_param (c, "q");
      if (q_text != NULL)
        u.q = (int) CLAMP (g_ascii_strtod (q_text, NULL) * 1000.0, 0, 1000);
      g_array_append_val (updates, u);
    }
  req.aor = aor;
  req.call_id = sp_sip_message_get_call_id (request);
  req.cseq = sp_sip_message_get_cseq (request, NULL);
  req.expires_header = sp_sip_message_get_expires (request);
  req.source = src;
  req.transport = source->kind == SP_SIP_TRANSPORT_TLS   ? "tls"
                  : source->kind == SP_SIP_TRANSPORT_TCP ? "tcp"
                                                         : "udp";
  req.user_agent = sp_sip_message_get_header (request, "User-Agent");
  req.contacts = (const SpContactUpdate *) updates->data;
  req.n_contacts = updates->len;
  if (req.n_contacts == 0)
    {
      g_autoptr (GPtrArray) bindings = sp_location_store_lookup (registrar->locations, aor, now);
      reply_bindings (registrar, st, bindings, now);
      return;
    }
  result = sp_location_store_register (registrar->locations, &req, now);
  if (result->status == 200)
    {
      hold_flow (registrar, source, src, aor, result->bindings, now);
      reply_bindings (registrar, st, result->bindings, now);
    }
  else
    {
      g_autoptr (SpSipMessage) response =
          sp_sip_server_transaction_new_response (st, result->status, result->reason);
      if (result->status == 423)
        {
          g_autofree char *min = g_strdup_printf ("%u", result->min_expires);
          sp_sip_message_add_header (response, "Min-Expires", min, NULL);
        }
      sp_sip_stack_respond (registrar->stack, st, response, NULL);
    }
}

void
sp_registrar_handle (SpRegistrar *registrar, SpSipServerTransaction *st, SpSipMessage *request,
                     const SpAccess *access, gint64 now)
{
  g_autofree char *aor = dup_aor (request);

  g_return_if_fail (access->kind == SP_ACCESS_USER);
  registrar->stats.registers++;
  if (aor == NULL)
    {
      sp_sip_stack_reply (registrar->stack, st, 404, "No user in To");
      return;
    }
  /* One may only register oneself (RFC 3261 10.3 step 6). */
  if (g_strcmp0 (access->user, aor) != 0)
    {
      registrar->stats.refused++;
      sp_sip_stack_reply (registrar->stack, st, 403, "Not your address of record");
      return;
    }
  apply (registrar, st, request, aor, now);
}
