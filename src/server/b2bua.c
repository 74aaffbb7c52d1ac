#include "server/b2bua.h"

#include "server/calllimits.h"
#include "session/credentials.h"
#include "session/invite-session.h"
#include "sip/sdp.h"

#include <string.h>

typedef struct _Call Call;

/* One side of an answered call: its dialog run by the session layer
 * (re-INVITEs both ways, their 491s and the ACKs answering them). */
typedef struct
{
  Call *call;
  SpRelaySide side;
  SpInviteSession *session; /* NULL until the call is answered */
} Leg;

/* One contact to try: its URI, and where to send when that is not its
 * own host and port. */
typedef struct
{
  SpSipUri *uri;
  gboolean has_dest;
  SpSipPeer dest;
  gint64 registered; /* when its binding was made, 0 for a forward */
} Target;

/* One INVITE of the callee leg (one per contact when forking). It lives
 * until its final response, even when its call ended before (a late 2xx
 * then gets a BYE). The b2bua's own_branches table owns it. */
typedef struct
{
  SpB2bua *b2bua;
  Call *call;                 /* NULL once detached from its call */
  SpSipClientTransaction *ct; /* a reference */
  char *via_branch;
  guint final_status;
  char *reason;
  char *offer; /* the SDP sent on this branch (its address is per branch) */
  /* The session timer its INVITE asks for: the server's, raised by the
   * callee's 422s (at most MAX_422_RETRIES of them). */
  SpSessionTimerSettings timer;
  guint retries_422;
} Branch;

/* RFC 4028 6: as many 422s as an SpInviteSession follows for its own
 * INVITE; a callee that wants more gets no call. */
#define MAX_422_RETRIES 2

struct _Call
{
  SpB2bua *b2bua;
  char *id;
  SpSipServerTransaction *st; /* the caller's INVITE */
  SpSipMessage *invite;
  char *a_dialog_id;
  SpSipDialog *a_dialog;
  SpSipDialog *b_dialog;
  char *b_dialog_id;
  GPtrArray *branches; /* Branch *, not owned */
  SpRelayCall *relay;
  char *a_sdp; /* what we last sent each side, to answer re-INVITEs */
  char *b_sdp;
  char *b_host;      /* where the answering callee leg's INVITE went */
  char *caller_user; /* authenticated user, or NULL (a trusted peer's call) */
  /* Who the callee is told is calling: the authenticated user, or a
   * trusted peer's own From (name-addr without its tag). */
  SpSipNameAddr *caller_identity;
  SpServerCall info;
  gboolean answered;
  gboolean final_sent;
  guint best_status; /* of the failed branches so far */
  char *best_reason;
  /* Each side's session once answered; a re-INVITE's offer passed from
   * one to the other (the asking leg's answer waits in its session). */
  Leg legs[2];         /* indexed by SpRelaySide */
  Leg *asking;         /* the leg whose offer went across, or NULL */
  char *passed_offer;  /* for the other leg's create_offer */
  char *passed_answer; /* the other leg's answer, for the asking one */
  /* Counted in the b2bua's limits under these keys until freed. */
  gboolean counted;
  char *limit_source;
  char *limit_user;
  guint timer_c; /* RFC 3261 16.6 #11 while the callee leg rings */
  /* Call pickup: the user whose ringing was taken (the picker is then
   * info.callee and the B side of the call), NULL for other calls. */
  char *picked_from;
  /* The picker's call counts in the limits too (its source and user), as
   * if it had placed one: pickup is no way round the caps. */
  gboolean picker_counted;
  char *picker_limit_source;
  char *picker_limit_user;
};

struct _SpB2bua
{
  SpSipStack *stack;
  SpAuthenticator *auth;
  SpAccessPolicy *policy;
  SpUserDb *users;
  SpRouter *router;
  SpLocationStore *locations;
  SpServerCallList *calls_model;
  SpRelay *relay;
  gboolean challenge_bye;
  SpB2buaEvents events;
  gpointer events_data;
  GHashTable *calls;        /* id -> Call (owned through call_free) */
  GHashTable *dialogs;      /* dialog id -> Call */
  GHashTable *own_branches; /* Via branch of our INVITEs -> Branch (owned) */
  SpSipClock *clock;        /* the stack's, for Timer C */
  SpCallLimits *limits;
  guint timer_c_ms;
  SpSessionTimerSettings session_timer; /* interval 0: none */
};

static void call_end (Call *call, gboolean bye_a, gboolean bye_b, guint status);
static void stop_timer_c (Call *call);
static void start_leg_sessions (Call *call, Branch *branch, const SpSipMessage *b_ok,
                                const SpSipMessage *a_ok, guint32 b_late_cseq);
static gboolean leg_check_request (SpInviteSession *session, SpSipServerTransaction *st,
                                   SpSipMessage *request, gpointer user_data);
static void pickup_call (SpB2bua *self, SpSipServerTransaction *st, SpSipMessage *request,
                         const SpAccess *access, const char *number);

static void
branch_free (gpointer data)
{
  Branch *branch = data;

  /* No more responses to a branch that is gone. */
  sp_sip_client_transaction_detach (branch->ct);
  sp_sip_client_transaction_unref (branch->ct);
  g_free (branch->via_branch);
  g_free (branch->reason);
  g_free (branch->offer);
  g_free (branch);
}

/* The branch got its final response: forget it. */
static void
branch_finish (Branch *branch)
{
  if (branch->call != NULL)
    g_ptr_array_remove (branch->call->branches, branch);
  g_hash_table_remove (branch->b2bua->own_branches, branch->via_branch);
}

SpB2bua *
sp_b2bua_new (SpSipStack *stack, SpAuthenticator *auth, SpUserDb *users, SpRouter *router,
              SpLocationStore *locations, SpServerCallList *calls)
{
  SpB2bua *self = g_new0 (SpB2bua, 1);

  self->stack = stack;
  self->auth = auth;
  self->users = users;
  self->router = router;
  self->locations = locations;
  self->calls_model = calls;
  self->challenge_bye = TRUE;
  self->calls = g_hash_table_new (g_str_hash, g_str_equal);
  self->dialogs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->own_branches = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, branch_free);
  self->clock = sp_sip_transaction_layer_get_clock (sp_sip_stack_get_transactions (stack));
  self->limits = sp_call_limits_new (NULL);
  self->timer_c_ms = SP_B2BUA_DEFAULT_TIMER_C_S * 1000;
  sp_session_timer_settings_init (&self->session_timer);
  return self;
}

void
sp_b2bua_end_all (SpB2bua *self)
{
  GList *calls = g_hash_table_get_values (self->calls);

  for (GList *l = calls; l != NULL; l = l->next)
    call_end (l->data, TRUE, TRUE, 503);
  g_list_free (calls);
}

void
sp_b2bua_free (SpB2bua *self)
{
  if (self == NULL)
    return;
  sp_b2bua_end_all (self);
  /* Branches still waiting for a final response are detached and freed. */
  g_hash_table_unref (self->calls);
  g_hash_table_unref (self->dialogs);
  g_hash_table_unref (self->own_branches);
  sp_call_limits_free (self->limits);
  g_free (self);
}

void
sp_b2bua_set_events (SpB2bua *self, const SpB2buaEvents *events, gpointer user_data)
{
  self->events = *events;
  self->events_data = user_data;
}

void
sp_b2bua_set_policy (SpB2bua *self, SpAccessPolicy *policy)
{
  self->policy = policy;
}

void
sp_b2bua_set_relay (SpB2bua *self, SpRelay *relay)
{
  self->relay = relay;
}

void
sp_b2bua_set_challenge_bye (SpB2bua *self, gboolean challenge)
{
  self->challenge_bye = challenge;
}

void
sp_b2bua_set_limits (SpB2bua *self, const SpCallLimitsSettings *limits)
{
  sp_call_limits_set (self->limits, limits);
}

void
sp_b2bua_set_timer_c (SpB2bua *self, guint ms)
{
  self->timer_c_ms = MAX (ms, 1);
}

void
sp_b2bua_set_session_timer (SpB2bua *self, const SpSessionTimerSettings *settings)
{
  if (settings == NULL)
    {
      sp_session_timer_settings_init (&self->session_timer);
      self->session_timer.interval = 0;
      return;
    }
  self->session_timer = *settings;
  /* RFC 4028 4: no Min-SE below 90 s; no interval below the Min-SE. */
  self->session_timer.min_se = MAX (settings->min_se, 90);
  if (self->session_timer.interval != 0)
    self->session_timer.interval = MAX (settings->interval, self->session_timer.min_se);
}

guint64
sp_b2bua_get_n_refused (SpB2bua *self)
{
  return sp_call_limits_get_n_refused (self->limits);
}

guint
sp_b2bua_get_n_calls (SpB2bua *self)
{
  return g_hash_table_size (self->calls);
}

/* ---- SDP ---------------------------------------------------------------- */

/* @body with the audio stream moved to @host:@port; @remote gets where
 * the phone said it receives and its payload types (@remote->host is
 * owned by the caller). NULL when the body is no usable SDP. */
/* SDES keys (RFC 4568 a=crypto) never pass through the server: they
 * are the media keys in the clear of the SDP, so a server that passed
 * them on would hold the keys of the calls it relays, which is what
 * issue 16 says it must not. A phone that offers SDES through us gets a
 * plain answer (or, with RTP/SAVP alone, the callee's 488); DTLS-SRTP's
 * a=fingerprint and a=setup, and the profile, pass untouched: they carry
 * no key, and the fingerprints end to end are what the phones' short
 * authentication string checks. TRUE if anything was removed. */
static gboolean
strip_sdes_keys (SpSdpSession *sdp)
{
  gboolean removed = sp_sdp_session_has_attribute (sdp, "crypto");

  sp_sdp_session_remove_attribute (sdp, "crypto");
  for (guint i = 0; i < sp_sdp_session_get_n_media (sdp); i++)
    {
      SpSdpMedia *m = sp_sdp_session_get_media (sdp, i);
      removed |= sp_sdp_media_has_attribute (m, "crypto");
      sp_sdp_media_remove_attribute (m, "crypto");
    }
  return removed;
}

/* Without the relay the SDP goes on byte for byte, a=crypto left out. */
static char *
pass_sdp (const guint8 *body, gsize len)
{
  g_autoptr (SpSdpSession) sdp = NULL;

  if (g_strstr_len ((const char *) body, (gssize) len, "a=crypto") == NULL)
    return g_strndup ((const char *) body, len);
  sdp = sp_sdp_session_parse ((const char *) body, len, NULL);
  if (sdp == NULL)
    return NULL;
  strip_sdes_keys (sdp);
  return sp_sdp_session_to_string (sdp);
}

static char *
rewrite_sdp (const guint8 *body, gsize len, const char *host, guint16 port, SpRelayRemote *remote)
{
  g_autoptr (SpSdpSession) sdp = NULL;
  SpSdpMedia *media;
  const SpSdpConnection *c;
  SpSdpAddrType type = strchr (host, ':') ? SP_SDP_ADDR_IP6 : SP_SDP_ADDR_IP4;

  if (body == NULL || len == 0)
    return NULL;
  sdp = sp_sdp_session_parse ((const char *) body, len, NULL);
  if (sdp == NULL)
    return NULL;
  media = sp_sdp_session_find_media (sdp, "audio");
  c = media ? sp_sdp_media_get_effective_connection (media) : NULL;
  if (media == NULL || c == NULL)
    return NULL;
  remote->host = g_strdup (c->address);
  remote->rtp_port = (guint16) sp_sdp_media_get_port (media);
  for (guint i = 0; i < sp_sdp_media_get_n_formats (media); i++)
    if (sp_sdp_media_get_payload_type (media, i) >= 0)
      sp_relay_remote_add_payload_type (remote, (guint) sp_sdp_media_get_payload_type (media, i));
  sp_sdp_session_set_origin_address (sdp, type, host);
  sp_sdp_session_set_connection (sdp, type, host);
  if (sp_sdp_media_get_connection (media) != NULL)
    sp_sdp_media_set_connection (media, type, host);
  sp_sdp_media_set_port (media, port);
  sp_sdp_media_remove_attribute (media, "rtcp");
  strip_sdes_keys (sdp);
  return sp_sdp_session_to_string (sdp);
}

/* The IP @side's SIP comes from, for the relay's latching: the caller's
 * INVITE source; for the callee, where the INVITE branch that @msg (a
 * response) answers was sent. NULL: the relay keeps what it knows. */
static const char *
leg_signalling_host (Call *call, SpRelaySide side, const SpSipMessage *msg)
{
  const SpSipVia *via;
  Branch *branch;

  if (side == SP_RELAY_SIDE_A)
    return sp_sip_server_transaction_get_source (call->st)->host;
  if (msg == NULL || sp_sip_message_is_request (msg) ||
      (via = sp_sip_message_get_via (msg)) == NULL || via->branch == NULL)
    return NULL;
  branch = g_hash_table_lookup (call->b2bua->own_branches, via->branch);
  return branch != NULL ? sp_sip_client_transaction_get_dest (branch->ct)->host : NULL;
}

/* The address the relay is reached on from @peer (a numeric host, or
 * NULL when not known yet): the relay's own, or on 0.0.0.0 / :: the one
 * the route to @peer leaves from (the stack's media-address policy).
 * With no peer known, the route to the caller stands in. */
static char *
relay_host_towards (Call *call, const char *peer)
{
  SpB2bua *self = call->b2bua;

  if (peer == NULL)
    peer = sp_sip_server_transaction_get_source (call->st)->host;
  return sp_sip_route_cache_local_host_towards (sp_sip_stack_get_route_cache (self->stack),
                                                sp_relay_get_host (self->relay), peer);
}

/* The host @side's SIP talks with: the caller's INVITE source, or where
 * the answering callee leg went; NULL before the callee answered. */
static const char *
leg_peer (Call *call, SpRelaySide side)
{
  if (side == SP_RELAY_SIDE_A)
    return sp_sip_server_transaction_get_source (call->st)->host;
  return call->b_host;
}

/* @sdp with its addresses (origin and connections) set to @host. */
static char *
readdress_sdp (const char *sdp, const char *host)
{
  g_autoptr (SpSdpSession) session = sp_sdp_session_parse (sdp, strlen (sdp), NULL);
  SpSdpAddrType type = strchr (host, ':') ? SP_SDP_ADDR_IP6 : SP_SDP_ADDR_IP4;
  SpSdpMedia *media;

  if (session == NULL)
    return g_strdup (sdp);
  media = sp_sdp_session_find_media (session, "audio");
  sp_sdp_session_set_origin_address (session, type, host);
  sp_sdp_session_set_connection (session, type, host);
  if (media != NULL && sp_sdp_media_get_connection (media) != NULL)
    sp_sdp_media_set_connection (media, type, host);
  return sp_sdp_session_to_string (session);
}

/* The body to send to @side for a body received from the other side,
 * with the relay learning where that other side receives. */
static char *
media_body_for_side (Call *call, SpRelaySide to_side, const guint8 *body, gsize len,
                     const SpSipMessage *from_msg)
{
  SpRelaySide from_side = to_side == SP_RELAY_SIDE_A ? SP_RELAY_SIDE_B : SP_RELAY_SIDE_A;
  SpRelayRemote remote = { 0 };
  g_autofree char *remote_host = NULL;
  g_autofree char *local_host = NULL;
  char *out;

  if (body == NULL || len == 0)
    return NULL;
  if (call->relay == NULL)
    return pass_sdp (body, len);
  local_host = relay_host_towards (call, leg_peer (call, to_side));
  out = rewrite_sdp (body, len, local_host, sp_relay_call_get_port (call->relay, to_side), &remote);
  remote_host = (char *) remote.host;
  remote.signalling_host = leg_signalling_host (call, from_side, from_msg);
  if (out != NULL && !sp_sip_host_is_wildcard (remote_host))
    sp_relay_call_set_remote (call->relay, from_side, &remote);
  return out;
}

static char *
media_for_side (Call *call, SpRelaySide to_side, const SpSipMessage *from_msg)
{
  gsize len = 0;
  const guint8 *body = sp_sip_message_get_body (from_msg, &len);

  return media_body_for_side (call, to_side, body, len, from_msg);
}

static void
set_sdp_body (SpSipMessage *msg, const char *sdp)
{
  if (sdp != NULL)
    sp_sip_message_set_body (msg, "application/sdp", (const guint8 *) sdp, strlen (sdp));
}

/* ---- calls -------------------------------------------------------------- */

static void
update_state (Call *call, const char *state, gint64 answered)
{
  g_free (call->info.state);
  call->info.state = g_strdup (state);
  if (answered)
    call->info.answered = answered;
  sp_server_call_list_set_state (call->b2bua->calls_model, call->id, state, answered);
}

static void
call_free (Call *call)
{
  if (call->timer_c != 0)
    sp_sip_clock_cancel (call->b2bua->clock, call->timer_c);
  if (call->counted)
    sp_call_limits_release (call->b2bua->limits, call->limit_source, call->limit_user);
  g_free (call->limit_source);
  g_free (call->limit_user);
  if (call->picker_counted)
    sp_call_limits_release (call->b2bua->limits, call->picker_limit_source,
                            call->picker_limit_user);
  g_free (call->picker_limit_source);
  g_free (call->picker_limit_user);
  for (guint i = 0; i < G_N_ELEMENTS (call->legs); i++)
    if (call->legs[i].session != NULL)
      {
        sp_invite_session_detach (call->legs[i].session);
        g_clear_pointer (&call->legs[i].session, sp_invite_session_unref);
      }
  g_free (call->passed_offer);
  g_free (call->passed_answer);
  g_clear_pointer (&call->st, sp_sip_server_transaction_unref);
  g_clear_pointer (&call->invite, sp_sip_message_unref);
  g_clear_pointer (&call->a_dialog, sp_sip_dialog_unref);
  g_clear_pointer (&call->b_dialog, sp_sip_dialog_unref);
  g_free (call->a_dialog_id);
  g_free (call->b_dialog_id);
  g_ptr_array_unref (call->branches);
  g_free (call->a_sdp);
  g_free (call->b_sdp);
  g_free (call->b_host);
  g_free (call->caller_user);
  g_free (call->picked_from);
  g_clear_pointer (&call->caller_identity, sp_sip_name_addr_free);
  g_free (call->best_reason);
  g_free (call->id);
  g_free (call->info.id);
  g_free (call->info.caller);
  g_free (call->info.called);
  g_free (call->info.callee);
  g_free (call->info.state);
  g_free (call);
}

static void
on_bye_response (SpSipStack *stack, SpSipClientTransaction *ct, SpSipMessage *response,
                 SpSipDialog *dialog, gpointer user_data)
{
  if (sp_sip_message_get_status (response) >= 300)
    g_debug ("BYE answered %u", sp_sip_message_get_status (response));
}

static void
send_bye (SpB2bua *self, SpSipDialog *dialog)
{
  g_autoptr (GError) error = NULL;

  if (sp_sip_dialog_get_state (dialog) == SP_SIP_DIALOG_TERMINATED)
    return;
  if (!sp_sip_stack_send_in_dialog (self->stack, dialog, "BYE", on_bye_response, NULL, &error))
    g_debug ("BYE not sent: %s", error->message);
  sp_sip_stack_remove_dialog (self->stack, dialog);
}

static void
cancel_branches (Call *call, Branch *except)
{
  for (guint i = 0; i < call->branches->len; i++)
    {
      Branch *b = g_ptr_array_index (call->branches, i);
      if (b != except && b->final_status == 0 && b->ct != NULL)
        sp_sip_client_transaction_cancel (b->ct, NULL, NULL);
    }
}

/* Tears the call down: BYE to the legs that are still up (@bye_a /
 * @bye_b say which ones still need it), CANCEL to branches still
 * ringing, relay ports freed, the call forgotten. */
static void
call_end (Call *call, gboolean bye_a, gboolean bye_b, guint status)
{
  SpB2bua *self = call->b2bua;

  stop_timer_c (call);
  cancel_branches (call, NULL);
  for (guint i = 0; i < call->branches->len; i++)
    ((Branch *) g_ptr_array_index (call->branches, i))->call = NULL;
  g_ptr_array_set_size (call->branches, 0);
  if (!call->final_sent)
    {
      call->final_sent = TRUE;
      sp_sip_stack_reply (self->stack, call->st, status >= 300 ? status : 500, NULL);
    }
  /* An answer still due: a re-INVITE gets 487, a 2xx its ACK (then BYE). */
  for (guint i = 0; i < G_N_ELEMENTS (call->legs); i++)
    if (call->legs[i].session != NULL &&
        sp_invite_session_is_answer_pending (call->legs[i].session))
      sp_invite_session_reject_offer (call->legs[i].session, 487, NULL);
  /* An answered leg hangs up through its session; a dialog not
   * answered on both sides yet (the caller's early one) directly. */
  for (guint i = 0; i < G_N_ELEMENTS (call->legs); i++)
    {
      gboolean bye = i == SP_RELAY_SIDE_A ? bye_a : bye_b;
      SpSipDialog *dialog = i == SP_RELAY_SIDE_A ? call->a_dialog : call->b_dialog;

      if (!bye)
        continue;
      if (call->legs[i].session != NULL)
        sp_invite_session_end (call->legs[i].session);
      else if (dialog != NULL)
        send_bye (self, dialog);
    }
  for (guint i = 0; i < G_N_ELEMENTS (call->legs); i++)
    if (call->legs[i].session != NULL)
      sp_invite_session_detach (call->legs[i].session);
  if (call->a_dialog_id)
    g_hash_table_remove (self->dialogs, call->a_dialog_id);
  if (call->b_dialog_id)
    g_hash_table_remove (self->dialogs, call->b_dialog_id);
  sp_sip_server_transaction_set_event_func (call->st, NULL, NULL);
  g_clear_pointer (&call->relay, sp_relay_call_free);
  sp_server_call_list_remove (self->calls_model, call->id);
  g_hash_table_remove (self->calls, call->id);
  g_info ("call %s ended (%u)", call->id, call->answered ? 200 : status);
  if (self->events.call_ended)
    self->events.call_ended (&call->info, call->answered ? 200 : status, self->events_data);
  call_free (call);
}

static void
stop_timer_c (Call *call)
{
  if (call->timer_c != 0)
    sp_sip_clock_cancel (call->b2bua->clock, call->timer_c);
  call->timer_c = 0;
}

/* Timer C fired: the callee leg rang (or said nothing) for too long.
 * Its branches get CANCEL, the caller 408 (RFC 3261 16.6 #11, 16.8). */
static void
on_timer_c (gpointer data)
{
  Call *call = data;

  call->timer_c = 0;
  g_info ("call %s: no answer within Timer C (%u s), cancelled", call->id,
          call->b2bua->timer_c_ms / 1000);
  call_end (call, FALSE, FALSE, 408);
}

/* (Re)starts Timer C: at the first INVITE and at each provisional above
 * 100, so a callee that keeps saying it is ringing keeps the call. */
static void
start_timer_c (Call *call)
{
  stop_timer_c (call);
  call->timer_c =
      sp_sip_clock_add_timeout (call->b2bua->clock, call->b2bua->timer_c_ms, on_timer_c, call);
}

/* Our To tag's dialog with the caller, once a 1xx/2xx created it. */
static void
track_a_dialog (Call *call)
{
  SpB2bua *self = call->b2bua;
  g_autofree char *id = NULL;
  SpSipDialog *dialog;

  if (call->a_dialog != NULL)
    return;
  id = sp_sip_dialog_id_for_uas (call->invite, sp_sip_server_transaction_get_to_tag (call->st));
  dialog = sp_sip_stack_lookup_dialog (self->stack, id);
  if (dialog == NULL)
    return;
  call->a_dialog = sp_sip_dialog_ref (dialog);
  call->a_dialog_id = g_strdup (id);
  g_hash_table_insert (self->dialogs, g_steal_pointer (&id), call);
}

static guint
map_failure (guint status)
{
  /* The callee wanted credentials we do not have: not the caller's
   * business. */
  if (status == 401 || status == 407)
    return 480;
  /* 422 still, after our retries with the callee's Min-SE (or one we
   * could not follow): not the caller's timer, its Session-Expires would
   * not change what we ask for. */
  if (status == 422)
    return 480;
  if (status == 0)
    return 480;
  return status;
}

static void
branch_failed (Call *call, Branch *branch, SpSipMessage *response)
{
  guint status = sp_sip_message_get_status (response);
  guint best;

  branch->final_status = status;
  /* A 6xx ends the search; among the rest, a busy callee tells more
   * than the lowest number. */
  if (call->best_status == 0 || status >= 600 || (call->best_status < 600 && status == 486))
    {
      call->best_status = status;
      g_free (call->best_reason);
      call->best_reason = g_strdup (sp_sip_message_get_reason (response));
    }
  if (status >= 600)
    cancel_branches (call, branch);
  for (guint i = 0; i < call->branches->len; i++)
    if (((Branch *) g_ptr_array_index (call->branches, i))->final_status == 0)
      return; /* others still trying */
  if (call->b_dialog != NULL)
    return;
  best = map_failure (call->best_status);
  if (!call->final_sent)
    {
      call->final_sent = TRUE;
      sp_sip_stack_reply (call->b2bua->stack, call->st, best,
                          best == call->best_status ? call->best_reason : NULL);
    }
  call_end (call, FALSE, FALSE, best);
}

static void
branch_provisional (Call *call, SpSipMessage *response)
{
  SpB2bua *self = call->b2bua;
  guint status = sp_sip_message_get_status (response);
  g_autoptr (SpSipMessage) out = NULL;
  g_autofree char *sdp = NULL;

  if (status == 100 || call->answered || call->final_sent)
    return;
  start_timer_c (call);
  out = sp_sip_server_transaction_new_response (call->st, status,
                                                sp_sip_message_get_reason (response));
  sdp = media_for_side (call, SP_RELAY_SIDE_A, response);
  set_sdp_body (out, sdp);
  if (sdp != NULL)
    {
      g_free (call->a_sdp);
      call->a_sdp = g_steal_pointer (&sdp);
    }
  sp_sip_stack_respond (self->stack, call->st, out, NULL);
  track_a_dialog (call);
  update_state (call, "ringing", 0);
}

static void
branch_answered (Call *call, Branch *branch, SpSipMessage *response, SpSipDialog *dialog)
{
  SpB2bua *self = call->b2bua;
  g_autoptr (SpSipMessage) out = NULL;
  g_autofree char *sdp = NULL;
  guint32 b_late_cseq = 0;

  branch->final_status = sp_sip_message_get_status (response);
  if (call->b_dialog != NULL)
    {
      /* A 2xx retransmission of the winner, or a second answer. */
      if (call->b_dialog != dialog && dialog != NULL)
        send_bye (self, dialog);
      return;
    }
  if (dialog == NULL)
    {
      call_end (call, FALSE, FALSE, 500);
      return;
    }
  call->answered = TRUE;
  stop_timer_c (call);
  call->b_host = g_strdup (sp_sip_client_transaction_get_dest (branch->ct)->host);
  if (call->b_sdp != NULL && branch->offer != NULL)
    {
      g_free (call->b_sdp);
      call->b_sdp = g_strdup (branch->offer);
    }
  call->b_dialog = sp_sip_dialog_ref (dialog);
  call->b_dialog_id = sp_sip_dialog_dup_id (dialog);
  g_hash_table_insert (self->dialogs, g_strdup (call->b_dialog_id), call);
  cancel_branches (call, branch);

  out = sp_sip_server_transaction_new_response (call->st, sp_sip_message_get_status (response),
                                                sp_sip_message_get_reason (response));
  sdp = media_for_side (call, SP_RELAY_SIDE_A, response);
  /* A late offer: B's offer goes to A in the 200, A's answer comes in
   * its ACK and goes on in B's ACK (the legs' sessions carry it). */
  if (sdp != NULL && call->b_sdp == NULL)
    b_late_cseq = sp_sip_message_get_cseq (response, NULL);
  if (sdp == NULL && call->a_sdp != NULL)
    sdp = g_strdup (call->a_sdp);
  set_sdp_body (out, sdp);
  sp_session_timer_answer_invite (&self->session_timer, call->invite, out);
  g_free (call->a_sdp);
  call->a_sdp = g_steal_pointer (&sdp);
  call->final_sent = TRUE;
  sp_sip_stack_respond (self->stack, call->st, out, NULL);
  track_a_dialog (call);
  start_leg_sessions (call, branch, response, out, b_late_cseq);
  update_state (call, "answered", g_get_real_time () / G_USEC_PER_SEC);
}

static void on_branch_response (SpSipStack *stack, SpSipClientTransaction *ct,
                                SpSipMessage *response, SpSipDialog *dialog, gpointer user_data);

/* A callee's 422 (RFC 4028 6): the INVITE goes again to the same place,
 * a new transaction with the next CSeq, asking for the 422's Min-SE.
 * TRUE when it went; the branch then lives on under its new Via branch. */
static gboolean
branch_retry_422 (Call *call, Branch *branch, SpSipMessage *response)
{
  SpB2bua *self = call->b2bua;
  SpSipMessage *sent = sp_sip_client_transaction_get_request (branch->ct);
  g_autoptr (SpSipMessage) retry = NULL;
  g_autoptr (GError) error = NULL;
  SpSipPeer dest = *sp_sip_client_transaction_get_dest (branch->ct);
  SpSipClientTransaction *ct;

  if (call->answered || call->final_sent || branch->retries_422 >= MAX_422_RETRIES ||
      !sp_session_timer_raise_for_422 (&branch->timer, sent, response))
    return FALSE;
  branch->retries_422++;
  retry = sp_sip_message_copy (sent);
  sp_session_timer_add_to_invite (&branch->timer, retry);
  sp_credentials_prepare_resend (retry, sp_sip_message_get_cseq (sent, NULL) + 1);
  ct = sp_sip_stack_send_request (self->stack, retry, &dest, on_branch_response, branch, &error);
  if (ct == NULL)
    {
      g_message ("call %s: callee leg not sent again after 422: %s", call->id, error->message);
      return FALSE;
    }
  g_info ("call %s: callee wants Min-SE %u, INVITE sent again", call->id, branch->timer.min_se);
  /* The old transaction is over; the table keys the branch by its new
   * Via branch from now on. */
  g_hash_table_steal (self->own_branches, branch->via_branch);
  sp_sip_client_transaction_detach (branch->ct);
  sp_sip_client_transaction_unref (branch->ct);
  g_free (branch->via_branch);
  branch->ct = sp_sip_client_transaction_ref (ct);
  branch->via_branch = g_strdup (sp_sip_client_transaction_get_branch (ct));
  g_hash_table_insert (self->own_branches, branch->via_branch, branch);
  return TRUE;
}

static void
on_branch_response (SpSipStack *stack, SpSipClientTransaction *ct, SpSipMessage *response,
                    SpSipDialog *dialog, gpointer user_data)
{
  Branch *branch = user_data;
  Call *call = branch->call;
  guint status = sp_sip_message_get_status (response);

  if (call == NULL)
    {
      /* The call is over: an answer that arrives now is hung up. */
      if (status >= 200 && status < 300 && dialog != NULL)
        send_bye (branch->b2bua, dialog);
    }
  else if (status < 200)
    branch_provisional (call, response);
  else if (status < 300)
    branch_answered (call, branch, response, dialog);
  else if (status == 422 && branch_retry_422 (call, branch, response))
    return;
  else
    branch_failed (call, branch, response);
  if (status >= 200)
    branch_finish (branch);
}

/* The numeric host @target's INVITE goes to, NULL when a name (it is
 * resolved when sent). */
static const char *
target_host (const Target *target)
{
  const char *host;

  if (target->has_dest)
    return target->dest.host;
  host = sp_sip_uri_get_host (target->uri);
  return host != NULL && g_hostname_is_ip_address (host) ? host : NULL;
}

static gboolean
start_branch (Call *call, const Target *target, const char *to, int max_forwards, const char *offer)
{
  SpB2bua *self = call->b2bua;
  g_autofree char *from_value = sp_sip_name_addr_to_string (call->caller_identity);
  g_autoptr (SpSipMessage) request = NULL;
  g_autofree char *mf = g_strdup_printf ("%d", max_forwards);
  g_autoptr (GError) error = NULL;
  SpSipClientTransaction *ct;
  Branch *branch;

  request = sp_sip_stack_new_request (self->stack, "INVITE", target->uri, from_value, to, 1);
  if (request == NULL)
    return FALSE;
  /* The server vouches for its own users (RFC 3325, for the callee's
   * display); a trusted peer's From is its own word and is not asserted. */
  if (call->caller_user != NULL)
    sp_sip_message_set_header (request, "P-Asserted-Identity", from_value, NULL);
  sp_sip_message_set_header (request, "Max-Forwards", mf, NULL);
  branch = g_new0 (Branch, 1);
  branch->timer = self->session_timer;
  sp_session_timer_add_to_invite (&branch->timer, request);
  /* Each branch names the relay by the address its callee reaches. */
  if (offer != NULL && call->relay != NULL && target_host (target) != NULL &&
      sp_sip_host_is_wildcard (sp_relay_get_host (self->relay)))
    {
      g_autofree char *host = relay_host_towards (call, target_host (target));
      branch->offer = readdress_sdp (offer, host);
    }
  else
    branch->offer = g_strdup (offer);
  set_sdp_body (request, branch->offer);

  branch->b2bua = self;
  branch->call = call;
  ct = sp_sip_stack_send_request (self->stack, request, target->has_dest ? &target->dest : NULL,
                                  on_branch_response, branch, &error);
  if (ct == NULL)
    {
      g_message ("callee leg not sent: %s", error->message);
      g_free (branch->offer);
      g_free (branch);
      return FALSE;
    }
  branch->ct = sp_sip_client_transaction_ref (ct);
  branch->via_branch = g_strdup (sp_sip_client_transaction_get_branch (ct));
  g_hash_table_insert (self->own_branches, branch->via_branch, branch);
  g_ptr_array_add (call->branches, branch);
  return TRUE;
}

static void
on_caller_event (SpSipServerTransaction *st, SpSipServerEvent event, gpointer user_data)
{
  Call *call = user_data;

  if (event == SP_SIP_SERVER_EVENT_CANCELLED)
    {
      /* The layer already answered 487. */
      call->final_sent = TRUE;
      call_end (call, FALSE, FALSE, 487);
    }
}

gboolean
sp_b2bua_is_own_request (SpB2bua *self, const SpSipMessage *request)
{
  const SpSipVia *via = sp_sip_message_get_via (request);

  return via != NULL && via->branch != NULL &&
         g_hash_table_contains (self->own_branches, via->branch);
}

gboolean
sp_b2bua_owns_dialog (SpB2bua *self, SpSipDialog *dialog)
{
  g_autofree char *id = NULL;

  if (dialog == NULL || g_hash_table_size (self->dialogs) == 0)
    return FALSE;
  id = sp_sip_dialog_dup_id (dialog);
  return g_hash_table_contains (self->dialogs, id);
}

/* ---- the caller's INVITE ---------------------------------------------- */

/* A final answer that keeps no state (RFC 3261 26.3.2.4 and issue 13's
 * reflection rule): sent once to where the request came from, never
 * retransmitted, so a spoofed or flooding sender gets one packet per
 * packet it sent. A retransmitted INVITE simply gets it again. */
static void
reply_once (SpB2bua *self, SpSipServerTransaction *st, guint status, const char *reason,
            guint retry_after)
{
  g_autoptr (SpSipMessage) response = sp_sip_server_transaction_new_response (st, status, reason);

  if (response != NULL)
    {
      if (retry_after > 0)
        {
          char value[16];

          g_snprintf (value, sizeof value, "%u", retry_after);
          sp_sip_message_set_header (response, "Retry-After", value, NULL);
        }
      sp_sip_stack_respond (self->stack, st, response, NULL);
    }
  sp_sip_server_transaction_drop (st);
}

static Call *
call_new (SpB2bua *self, SpSipServerTransaction *st, SpSipMessage *request, const char *caller,
          const char *called, const char *callee)
{
  Call *call = g_new0 (Call, 1);

  call->b2bua = self;
  call->st = sp_sip_server_transaction_ref (st);
  call->invite = sp_sip_message_ref (request);
  call->branches = g_ptr_array_new ();
  call->id = g_strdup (sp_sip_message_get_call_id (request));
  call->info.id = g_strdup (call->id);
  call->info.caller = g_strdup (caller);
  call->info.called = g_strdup (called);
  call->info.callee = g_strdup (callee);
  call->info.state = g_strdup ("routing");
  call->info.started = g_get_real_time () / G_USEC_PER_SEC;
  if (sp_sip_server_transaction_get_to_tag (st) == NULL)
    {
      g_autofree char *tag = sp_sip_random_token (10);
      sp_sip_server_transaction_set_to_tag (st, tag);
    }
  return call;
}

static void
target_free (gpointer data)
{
  Target *t = data;

  sp_sip_uri_free (t->uri);
  g_free (t);
}

/* Where to reach a phone that registered @binding from @binding->source
 * ("ip:port").
 * Over TCP and TLS: on the connection its REGISTER came on, while that
 * is open (RFC 5626 flows, RFC 3261 18.1.1 connection reuse, as
 * Kamailio does). The phone may not listen where its Contact says
 * (linphonec names its own client port, a firewall lets nothing in),
 * and behind NAT only that connection leads back to it. Once it is
 * gone, at the Contact: a new connection (for TLS, to the phone's own
 * listener); the connection's source port was the phone's client port,
 * nobody listens there.
 * Over UDP: a phone behind NAT names in Contact an address of its own
 * LAN that we cannot reach, and only the address its REGISTER came from
 * leads back to it (as received/rport do for responses): any other
 * source host or port than the contact's means NAT.
 * @transport (may be NULL: no connection is open) says which
 * connections are open. */
gboolean
sp_b2bua_binding_next_hop (const SpBinding *binding, const SpSipUri *contact,
                           SpSipTransport *transport, SpSipPeer *dest)
{
  const char *colon = binding->source ? strrchr (binding->source, ':') : NULL;
  g_autofree char *host = NULL;
  guint64 port = 0;
  gboolean tls = g_strcmp0 (binding->transport, "tls") == 0;
  gboolean tcp = tls || g_strcmp0 (binding->transport, "tcp") == 0;
  guint contact_port = sp_sip_uri_get_port (contact);
  const char *contact_host = sp_sip_uri_get_host (contact);
  SpSipPeer source;

  if (colon == NULL || colon == binding->source ||
      !g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &port, NULL))
    return FALSE;
  host = g_strndup (binding->source, colon - binding->source);
  if (host[0] == '[' && host[strlen (host) - 1] == ']')
    {
      char *inner = g_strndup (host + 1, strlen (host) - 2);
      g_free (host);
      host = inner;
    }
  if (!g_hostname_is_ip_address (host))
    return FALSE;
  sp_sip_peer_init (&source,
                    tls   ? SP_SIP_TRANSPORT_TLS
                    : tcp ? SP_SIP_TRANSPORT_TCP
                          : SP_SIP_TRANSPORT_UDP,
                    host, (guint16) port);
  if (tcp)
    {
      if (transport == NULL || !sp_sip_transport_has_connection (transport, &source))
        return FALSE; /* the flow is gone: the Contact */
      *dest = source;
      return TRUE;
    }
  if (contact_host != NULL && g_ascii_strcasecmp (contact_host, host) == 0 &&
      (contact_port != 0 ? contact_port : 5060) == port)
    return FALSE; /* reachable where it says */
  *dest = source;
  return TRUE;
}

/* Adds @t (taken) to @targets, once per flow: a phone that registered
 * a second contact on the same connection (linphonec names its client
 * port once it learns it) is one phone, called once, at the newer. */
static void
add_target (GPtrArray *targets, Target *t)
{
  for (guint i = 0;
       t->has_dest && sp_sip_transport_kind_is_stream (t->dest.kind) && i < targets->len; i++)
    {
      Target *other = g_ptr_array_index (targets, i);
      if (other->has_dest && sp_sip_peer_equal (&other->dest, &t->dest))
        {
          if (t->registered >= other->registered)
            {
              target_free (other);
              targets->pdata[i] = t;
            }
          else
            target_free (t);
          return;
        }
    }
  g_ptr_array_add (targets, t);
}

/* The contacts to try: a user's bindings, or the forward URI. */
static GPtrArray *
route_targets (SpB2bua *self, const SpRoute *route, gint64 now, guint *status)
{
  GPtrArray *targets = g_ptr_array_new_with_free_func (target_free);

  if (route->kind == SP_ROUTE_FORWARD)
    {
      SpSipUri *uri = sp_sip_uri_parse (route->target, -1, NULL);
      if (uri != NULL)
        {
          Target *t = g_new0 (Target, 1);
          t->uri = uri;
          g_ptr_array_add (targets, t);
        }
      *status = 404;
      return targets;
    }
  {
    g_autoptr (GPtrArray) bindings = sp_location_store_lookup (self->locations, route->target, now);
    for (guint i = 0; i < bindings->len; i++)
      {
        const SpBinding *b = g_ptr_array_index (bindings, i);
        SpSipUri *uri = sp_sip_uri_parse (b->contact, -1, NULL);
        Target *t;

        if (uri == NULL)
          continue;
        t = g_new0 (Target, 1);
        t->uri = uri;
        t->registered = b->registered;
        t->has_dest =
            sp_b2bua_binding_next_hop (b, uri, sp_sip_stack_get_transport (self->stack), &t->dest);
        add_target (targets, t);
      }
  }
  *status = 480; /* known but not registered */
  return targets;
}

static char *
dup_uri_user (const SpSipUri *uri)
{
  if (uri == NULL || sp_sip_uri_get_user (uri) == NULL)
    return NULL;
  return sp_sip_uri_dup_user_unescaped (uri, NULL);
}

/* Who the callee is told is calling. An authenticated user is named by
 * the server: "name" <sip:name@server> (with their number as display
 * name when they have one), whatever From the caller wrote. A trusted
 * peer's call keeps its From (a trunk passes on the outside caller). */
static SpSipNameAddr *
caller_identity (const SpAccess *access, const SpSipMessage *request)
{
  const SpSipNameAddr *from = sp_sip_message_get_from (request);
  const SpSipUri *ruri = sp_sip_message_get_request_uri (request);
  g_autoptr (SpSipUri) uri = NULL;

  if (access->kind != SP_ACCESS_USER)
    return sp_sip_name_addr_new (from != NULL ? from->display_name : NULL,
                                 from != NULL ? from->uri : ruri);
  uri = sp_sip_uri_new (SP_URI_SCHEME_SIP, access->user, sp_sip_uri_get_host (ruri),
                        sp_sip_uri_get_port (ruri));
  return sp_sip_name_addr_new (access->number != NULL ? access->number : access->user, uri);
}

static void
start_call (SpB2bua *self, SpSipServerTransaction *st, SpSipMessage *request, const SpRoute *route,
            const SpAccess *access, const char *caller, const char *called, gint64 now)
{
  const SpSipPeer *source = sp_sip_server_transaction_get_source (st);
  const char *caller_user;
  SpCallLimit limit;
  g_autoptr (GPtrArray) targets = NULL;
  guint fail_status = 404;
  int mf = sp_sip_message_get_max_forwards (request);
  g_autofree char *to = NULL;
  g_autofree char *offer = NULL;
  const SpSipUri *ruri = sp_sip_message_get_request_uri (request);
  Call *call;
  guint started = 0;

  targets = route_targets (self, route, now, &fail_status);
  if (targets->len == 0)
    {
      reply_once (self, st, fail_status, NULL, 0);
      return;
    }
  caller_user = access->kind == SP_ACCESS_USER ? access->user : NULL;
  limit = sp_call_limits_admit (self->limits, source->host, caller_user);
  if (limit != SP_CALL_LIMIT_NONE)
    {
      g_info ("call from %s refused: too many %s", source->host, sp_call_limit_to_string (limit));
      reply_once (self, st, 503, "Too Many Calls", SP_B2BUA_RETRY_AFTER_S);
      return;
    }
  call = call_new (self, st, request, caller, called, route->target);
  call->counted = TRUE;
  call->limit_source = g_strdup (source->host);
  call->limit_user = g_strdup (caller_user);
  call->caller_identity = caller_identity (access, request);
  if (access->kind == SP_ACCESS_USER)
    call->caller_user = g_strdup (access->user);
  if (!sp_server_call_list_add (self->calls_model, &call->info) ||
      g_hash_table_contains (self->calls, call->id))
    {
      reply_once (self, st, 482, "Call-ID in use", 0);
      call_free (call);
      return;
    }
  g_hash_table_insert (self->calls, call->id, call);
  sp_sip_server_transaction_set_event_func (st, on_caller_event, call);
  if (self->relay != NULL)
    {
      g_autoptr (GError) error = NULL;
      call->relay = sp_relay_call_new (self->relay, &error);
      if (call->relay == NULL)
        {
          g_warning ("relay: %s", error->message);
          call_end (call, FALSE, FALSE, 503);
          return;
        }
    }
  offer = media_for_side (call, SP_RELAY_SIDE_B, request);
  if (route->kind == SP_ROUTE_FORWARD)
    to = g_strdup_printf ("<%s>", route->target);
  else
    {
      g_autoptr (SpSipUri) to_uri = sp_sip_uri_new (
          SP_URI_SCHEME_SIP, route->target, sp_sip_uri_get_host (ruri), sp_sip_uri_get_port (ruri));
      g_autofree char *text = sp_sip_uri_to_string (to_uri);
      to = g_strdup_printf ("<%s>", text);
    }
  for (guint i = 0; i < targets->len; i++)
    started +=
        start_branch (call, g_ptr_array_index (targets, i), to, (mf < 0 ? 70 : mf) - 1, offer);
  if (started == 0)
    {
      call_end (call, FALSE, FALSE, 480);
      return;
    }
  call->b_sdp = g_steal_pointer (&offer);
  start_timer_c (call);
  g_info ("call %s: %s -> %s (%s, %u branches)", call->id, caller, called, route->target, started);
  if (self->events.call_started)
    self->events.call_started (&call->info, self->events_data);
}

/* The router's view of the caller: ${username} is the authenticated
 * user; for a trusted peer it is the peer's From user (the peer vouches
 * for it, and the seed's "${username}^$=-;error=noauth" rule then lets
 * its calls through) and ${trusted} is "yes". */
static SpRoute *
route_call (SpB2bua *self, const SpAccess *access, const char *called, const char *from_user,
            const char *address)
{
  g_autoptr (GHashTable) params = g_hash_table_new (g_str_hash, g_str_equal);
  const char *username = access->kind == SP_ACCESS_USER ? access->user : from_user;

  g_hash_table_insert (params, "called", (char *) called);
  g_hash_table_insert (params, "caller", (char *) (from_user != NULL ? from_user : ""));
  g_hash_table_insert (params, "username", (char *) (username != NULL ? username : ""));
  g_hash_table_insert (params, "address", (char *) (address != NULL ? address : ""));
  g_hash_table_insert (params, "trusted", access->kind == SP_ACCESS_TRUSTED ? "yes" : "");
  return sp_router_route (self->router, params);
}

/* RFC 4028 6: a Session-Expires below our Min-SE gets 422 (TRUE), and
 * the caller asks again. */
static gboolean
reply_timer_too_short (SpB2bua *self, SpSipServerTransaction *st, SpSipMessage *request)
{
  g_autoptr (SpSipMessage) response = NULL;

  if (!sp_session_timer_too_short (&self->session_timer, request))
    return FALSE;
  response = sp_sip_server_transaction_new_response (st, 422, NULL);
  if (response != NULL)
    {
      sp_session_timer_add_min_se (&self->session_timer, response);
      sp_sip_stack_respond (self->stack, st, response, NULL);
    }
  sp_sip_server_transaction_drop (st);
  return TRUE;
}

void
sp_b2bua_handle_invite (SpB2bua *self, SpSipServerTransaction *st, SpSipMessage *request,
                        const SpAccess *access, gint64 now)
{
  const SpSipPeer *source = sp_sip_server_transaction_get_source (st);
  const SpSipNameAddr *from = sp_sip_message_get_from (request);
  g_autofree char *from_user = dup_uri_user (from ? from->uri : NULL);
  g_autofree char *called = dup_uri_user (sp_sip_message_get_request_uri (request));
  g_autoptr (SpRoute) route = NULL;
  const char *caller;

  /* Only the policy admits callers (sp_access_policy_admit). */
  g_return_if_fail (access->kind == SP_ACCESS_USER || access->kind == SP_ACCESS_TRUSTED);
  if (sp_sip_message_get_max_forwards (request) == 0)
    {
      reply_once (self, st, 483, NULL, 0);
      return;
    }
  if (called == NULL)
    {
      reply_once (self, st, 404, NULL, 0);
      return;
    }
  if (g_str_has_prefix (called, SP_B2BUA_PICKUP_PREFIX))
    {
      pickup_call (self, st, request, access, called + strlen (SP_B2BUA_PICKUP_PREFIX));
      return;
    }
  route = route_call (self, access, called, from_user, source->host);
  switch (route->kind)
    {
      case SP_ROUTE_CHALLENGE:
        /* A rule wants (other) credentials: error=noauth. */
        sp_access_policy_challenge (self->policy, st, FALSE, now);
        return;
      case SP_ROUTE_REJECT:
      case SP_ROUTE_NO_ROUTE:
        reply_once (self, st, route->status ? route->status : 404, route->reason, 0);
        return;
      case SP_ROUTE_LOCAL:
      case SP_ROUTE_FORWARD:
      default:
        break;
    }
  if (route->target == NULL)
    {
      reply_once (self, st, 404, NULL, 0);
      return;
    }
  if (!sp_access_policy_allows_route (self->policy, access, route->kind))
    {
      g_info ("call from %s to %s refused: forward routes are not open to trusted peers",
              source->host, called);
      sp_access_policy_refuse (self->policy, st, 403, NULL);
      return;
    }
  if (reply_timer_too_short (self, st, request))
    return;
  caller = access->kind == SP_ACCESS_USER ? access->user : (from_user ? from_user : "");
  start_call (self, st, request, route, access, caller, called, now);
}

/* ---- in-dialog requests ----------------------------------------------- */

/* Each leg's session asks its owner for SDP only; the B2BUA passes an
 * offer from one leg to the other (rewritten for the relay) and answers
 * it when the other leg answers (SP_SESSION_ANSWER_LATER). */

static Leg *
other_leg (Leg *leg)
{
  return &leg->call->legs[leg->side == SP_RELAY_SIDE_A ? SP_RELAY_SIDE_B : SP_RELAY_SIDE_A];
}

/* What we last sent @side's phone. */
static char **
last_sdp (Call *call, SpRelaySide side)
{
  return side == SP_RELAY_SIDE_A ? &call->a_sdp : &call->b_sdp;
}

static char *
leg_create_offer (SpInviteSession *session, gpointer user_data)
{
  Leg *leg = user_data;
  Call *call = leg->call;

  /* The asking side's offer; else (a re-INVITE without an offer) the
   * session as it is. */
  if (call->asking != NULL && call->asking != leg && call->passed_offer != NULL)
    return g_strdup (call->passed_offer);
  return g_strdup (*last_sdp (call, leg->side));
}

static char *
leg_answer_offer (SpInviteSession *session, const char *sdp, gsize len, guint *status,
                  GError **error, gpointer user_data)
{
  Leg *leg = user_data;
  Call *call = leg->call;
  Leg *other = other_leg (leg);
  g_autoptr (GError) local = NULL;

  if (other->session == NULL || call->asking != NULL)
    {
      /* One offer at a time (RFC 3261 14.2). */
      *status = 491;
      return NULL;
    }
  g_free (call->passed_offer);
  call->passed_offer = media_body_for_side (call, other->side, (const guint8 *) sdp, len, NULL);
  if (call->passed_offer == NULL)
    {
      *status = 488;
      return NULL;
    }
  g_clear_pointer (&call->passed_answer, g_free);
  call->asking = leg;
  /* An UPDATE goes on as an UPDATE where the other side takes one, else
   * as a re-INVITE: the same offer either way. */
  if (sp_invite_session_get_offer_method (session) == SP_SIP_METHOD_UPDATE &&
              sp_invite_session_peer_allows_update (other->session)
          ? !sp_invite_session_update (other->session, &local)
          : !sp_invite_session_modify (other->session, &local))
    {
      g_debug ("offer not passed on: %s", local->message);
      call->asking = NULL;
      g_clear_pointer (&call->passed_offer, g_free);
      *status = g_error_matches (local, G_IO_ERROR, G_IO_ERROR_BUSY) ? 491 : 500;
      return NULL;
    }
  if (call->passed_offer != NULL)
    {
      g_free (*last_sdp (call, other->side));
      *last_sdp (call, other->side) = g_strdup (call->passed_offer);
    }
  *status = SP_SESSION_ANSWER_LATER;
  return NULL;
}

static gboolean
leg_take_answer (SpInviteSession *session, const char *sdp, gsize len, GError **error,
                 gpointer user_data)
{
  Leg *leg = user_data;
  Call *call = leg->call;
  Leg *to = other_leg (leg);
  g_autofree char *out = NULL;

  if (call->asking == NULL && sp_invite_session_is_answer_pending (to->session))
    {
      /* The caller's answer (in its ACK) to the callee's late offer:
       * it goes on in the callee's ACK. */
      g_autoptr (GError) local = NULL;

      out = media_body_for_side (call, to->side, (const guint8 *) sdp, len, NULL);
      if (out != NULL)
        {
          g_free (*last_sdp (call, to->side));
          *last_sdp (call, to->side) = g_strdup (out);
        }
      if (!sp_invite_session_answer (to->session, out, &local))
        g_debug ("ACK not passed on: %s", local->message);
      return TRUE;
    }
  if (call->asking == NULL || call->asking == leg)
    {
      /* Their answer to the session as it is (a re-INVITE without an
       * offer): the relay learns where they receive now. */
      g_free (media_body_for_side (call, to->side, (const guint8 *) sdp, len, NULL));
      return TRUE;
    }
  out = media_body_for_side (call, call->asking->side, (const guint8 *) sdp, len, NULL);
  g_free (call->passed_answer);
  call->passed_answer = g_steal_pointer (&out);
  return TRUE;
}

/* The re-INVITE passed to this leg is over: its answer (or failure)
 * goes back to the asking leg. */
static void
leg_modified (SpInviteSession *session, guint status, gpointer user_data)
{
  Leg *leg = user_data;
  Call *call = leg->call;
  Leg *asking = call->asking;
  g_autofree char *answer = g_steal_pointer (&call->passed_answer);

  if (asking == NULL || asking == leg)
    return;
  call->asking = NULL;
  g_clear_pointer (&call->passed_offer, g_free);
  if (status >= 200 && status < 300 && answer != NULL)
    {
      g_autoptr (GError) error = NULL;

      g_free (*last_sdp (call, asking->side));
      *last_sdp (call, asking->side) = g_strdup (answer);
      if (!sp_invite_session_answer (asking->session, answer, &error))
        g_debug ("re-INVITE answer not passed back: %s", error->message);
      return;
    }
  /* 491 (glare, after the session's own retry) and 488 mean the same to
   * the asking side; the other side's credentials are not its business. */
  sp_invite_session_reject_offer (asking->session,
                                  status < 300 || map_failure (status) == 480 ? 500 : status, NULL);
}

static void
leg_ended (SpInviteSession *session, const SpSessionEnd *end, gpointer user_data)
{
  Leg *leg = user_data;
  Call *call = leg->call;

  /* This leg is over: its peer's BYE (answered 200 by the session), an
   * unusable answer in an ACK or an expired session timer (the session
   * sent BYE), no ACK (the stack sent it). The other leg gets BYE
   * through its own session. */
  if (leg->side == SP_RELAY_SIDE_A)
    g_clear_pointer (&call->a_dialog, sp_sip_dialog_unref);
  else
    g_clear_pointer (&call->b_dialog, sp_sip_dialog_unref);
  call_end (call, TRUE, TRUE, end->code ? end->code : 500);
}

static const SpInviteSessionCallbacks leg_callbacks = {
  .create_offer = leg_create_offer,
  .answer_offer = leg_answer_offer,
  .take_answer = leg_take_answer,
  .modified = leg_modified,
  .ended = leg_ended,
  .check_request = leg_check_request,
};

/* The call is answered: each side's dialog goes to its own session,
 * with the INVITE and 2xx that set it up (the peer's Allow, the session
 * timer settled with that peer). */
static void
start_leg_sessions (Call *call, Branch *branch, const SpSipMessage *b_ok, const SpSipMessage *a_ok,
                    guint32 b_late_cseq)
{
  SpB2bua *self = call->b2bua;
  const SpSessionTimerSettings *timer = branch->timer.interval != 0 ? &branch->timer : NULL;

  if (call->a_dialog == NULL || call->b_dialog == NULL)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (call->legs); i++)
    {
      Leg *leg = &call->legs[i];
      gboolean a = i == SP_RELAY_SIDE_A;
      g_autofree char *label = g_strdup_printf ("call %s %s", call->id, a ? "caller" : "callee");

      leg->call = call;
      leg->side = i;
      leg->session = sp_invite_session_new (self->stack, NULL, label, &leg_callbacks, leg);
      sp_invite_session_adopt (leg->session, a ? call->a_dialog : call->b_dialog, !a,
                               a ? sp_sip_server_transaction_get_source (call->st)
                                 : sp_sip_client_transaction_get_dest (branch->ct),
                               b_late_cseq == 0 ? 0
                               : a              ? sp_sip_message_get_cseq (call->invite, NULL)
                                                : b_late_cseq);
      if (a)
        sp_invite_session_adopt_exchange (leg->session, call->invite, a_ok, timer);
      else
        sp_invite_session_adopt_exchange (
            leg->session, sp_sip_client_transaction_get_request (branch->ct), b_ok, timer);
    }
}

static Leg *
leg_for (Call *call, gboolean from_a)
{
  Leg *leg = &call->legs[from_a ? SP_RELAY_SIDE_A : SP_RELAY_SIDE_B];

  return leg->session != NULL ? leg : NULL;
}

/* The server's word on a BYE from the caller's side: an authenticated
 * caller's BYE must carry that user's credentials (none: 401, another
 * user's: 403, the call goes on). FALSE when it was answered here. */
static gboolean
admit_bye (Call *call, SpSipServerTransaction *st, SpSipMessage *request, gboolean from_a,
           gint64 now)
{
  SpB2bua *self = call->b2bua;

  if (!from_a || !self->challenge_bye || call->caller_user == NULL)
    return TRUE;
  return sp_access_policy_admit_bye (self->policy, st, request, call->caller_user, now);
}

/* The sessions' hook before they act on a request of the legs' peers. */
static gboolean
leg_check_request (SpInviteSession *session, SpSipServerTransaction *st, SpSipMessage *request,
                   gpointer user_data)
{
  Leg *leg = user_data;

  if (sp_sip_message_get_method_id (request) != SP_SIP_METHOD_BYE)
    return TRUE;
  return admit_bye (leg->call, st, request, leg->side == SP_RELAY_SIDE_A,
                    g_get_real_time () / G_USEC_PER_SEC);
}

/* A BYE in the caller's early dialog (RFC 3261 15: the caller may end
 * it so): no session runs it yet. */
static gboolean
handle_early_bye (Call *call, SpSipServerTransaction *st, SpSipMessage *request, gboolean from_a,
                  gint64 now)
{
  if (!admit_bye (call, st, request, from_a, now))
    return TRUE;
  /* 2xx to BYE: the stack forgets that dialog. */
  sp_sip_stack_reply (call->b2bua->stack, st, 200, NULL);
  if (from_a)
    g_clear_pointer (&call->a_dialog, sp_sip_dialog_unref);
  else
    g_clear_pointer (&call->b_dialog, sp_sip_dialog_unref);
  call_end (call, TRUE, TRUE, 200);
  return TRUE;
}

gboolean
sp_b2bua_handle_in_dialog (SpB2bua *self, SpSipServerTransaction *st, SpSipMessage *request,
                           SpSipDialog *dialog, gint64 now)
{
  g_autofree char *id = sp_sip_dialog_dup_id (dialog);
  Call *call = g_hash_table_lookup (self->dialogs, id);
  g_autoptr (SpInviteSession) session = NULL;
  SpSipMethod method;
  gboolean from_a;
  Leg *leg;

  if (call == NULL)
    return FALSE;
  from_a = g_strcmp0 (id, call->a_dialog_id) == 0;
  method = sp_sip_message_get_method_id (request);
  if (method != SP_SIP_METHOD_BYE && method != SP_SIP_METHOD_INVITE &&
      method != SP_SIP_METHOD_UPDATE)
    return FALSE;
  leg = leg_for (call, from_a);
  if (leg == NULL)
    {
      if (method == SP_SIP_METHOD_BYE)
        return handle_early_bye (call, st, request, from_a, now);
      /* Not answered yet on both sides (RFC 3261 14.2, RFC 3311 5.2). */
      sp_sip_stack_reply (self->stack, st, 491, NULL);
      return TRUE;
    }
  /* BYE, re-INVITE and UPDATE: the leg's session (BYE through the
   * check_request hook first). */
  session = sp_invite_session_ref (leg->session);
  return sp_invite_session_handle_request (session, st, request);
}

void
sp_b2bua_handle_ack (SpB2bua *self, SpSipMessage *ack, SpSipDialog *dialog)
{
  g_autofree char *id = sp_sip_dialog_dup_id (dialog);
  Call *call = g_hash_table_lookup (self->dialogs, id);
  g_autoptr (SpInviteSession) session = NULL;
  Leg *leg;

  if (call == NULL || (leg = leg_for (call, g_strcmp0 (id, call->a_dialog_id) == 0)) == NULL)
    return;
  /* An ACK answering an offer a leg made in a 200 (the callee's late
   * offer passed to the caller, or ours to a re-INVITE without one). */
  session = sp_invite_session_ref (leg->session);
  sp_invite_session_handle_ack (session, ack);
}

void
sp_b2bua_handle_ack_timeout (SpB2bua *self, SpSipDialog *dialog)
{
  g_autofree char *id = sp_sip_dialog_dup_id (dialog);
  Call *call = g_hash_table_lookup (self->dialogs, id);

  if (call == NULL)
    return;
  if (leg_for (call, g_strcmp0 (id, call->a_dialog_id) == 0) != NULL)
    {
      /* The stack sent BYE to the caller already: its session ends
       * (leg_ended), and the callee's through its own. */
      /* The caller's leg, or a picker's (call pickup: a UAS leg too). */
      gboolean from_a = g_strcmp0 (id, call->a_dialog_id) == 0;
      g_autoptr (SpInviteSession) session =
          sp_invite_session_ref (call->legs[from_a ? SP_RELAY_SIDE_A : SP_RELAY_SIDE_B].session);

      sp_invite_session_handle_ack_timeout (session);
      return;
    }
  call_end (call, FALSE, TRUE, 408);
}

/* ---- call pickup ------------------------------------------------------- */

/* A user of this server dials SP_B2BUA_PICKUP_PREFIX + a colleague's
 * number: the oldest call ringing there is answered by the picker
 * instead. The caller gets a 200 with the picker's SDP and the picker a
 * 200 with the caller's (both through the relay, each an answer: the
 * codecs both offered), the colleague's branches get CANCEL with "Call
 * completed elsewhere" (RFC 3326), and from then on the picker is the
 * call's B side, a leg like any other. */

/* The same codec on both sides: payload type number, name, rate and
 * channels (the relay passes RTP as it is, so numbers must agree). */
static gboolean
pickup_same_codec (const SpSdpMedia *a, const SpSdpMedia *b, guint pt)
{
  SpSdpRtpmap ma, mb;
  char format[8];

  g_snprintf (format, sizeof format, "%u", pt);
  if (!sp_sdp_media_has_format (b, format))
    return FALSE;
  if (!sp_sdp_media_get_rtpmap (a, pt, &ma) || !sp_sdp_media_get_rtpmap (b, pt, &mb))
    return FALSE;
  return g_ascii_strcasecmp (ma.encoding, mb.encoding) == 0 && ma.clock_rate == mb.clock_rate &&
         ma.channels == mb.channels;
}

/* @offer (one side's offer) turned into the answer to @other's offer: its
 * audio formats cut to those @other offered too. NULL when no voice
 * codec is left (telephone-event alone carries no call) or either is
 * no SDP with audio. */
static char *
pickup_answer_sdp (const guint8 *offer, gsize len, const guint8 *other, gsize other_len,
                   const char *dtls_role)
{
  g_autoptr (SpSdpSession) sdp = NULL;
  g_autoptr (SpSdpSession) theirs = NULL;
  g_autoptr (GPtrArray) drop = g_ptr_array_new_with_free_func (g_free);
  SpSdpMedia *media, *their_media;
  guint voice = 0;

  if (offer == NULL || len == 0 || other == NULL || other_len == 0)
    return NULL;
  sdp = sp_sdp_session_parse ((const char *) offer, len, NULL);
  theirs = sp_sdp_session_parse ((const char *) other, other_len, NULL);
  media = sdp ? sp_sdp_session_find_media (sdp, "audio") : NULL;
  their_media = theirs ? sp_sdp_session_find_media (theirs, "audio") : NULL;
  if (media == NULL || their_media == NULL || sp_sdp_media_get_port (media) == 0)
    return NULL;
  for (guint i = 0; i < sp_sdp_media_get_n_formats (media); i++)
    {
      gint pt = sp_sdp_media_get_payload_type (media, i);
      SpSdpRtpmap map;

      if (pt >= 0 && pickup_same_codec (media, their_media, (guint) pt))
        {
          if (sp_sdp_media_get_rtpmap (media, (guint) pt, &map) &&
              g_ascii_strcasecmp (map.encoding, "telephone-event") != 0)
            voice++;
          continue;
        }
      g_ptr_array_add (drop, g_strdup (sp_sdp_media_get_format (media, i)));
    }
  if (voice == 0)
    return NULL;
  for (guint i = 0; i < drop->len; i++)
    sp_sdp_media_remove_format (media, g_ptr_array_index (drop, i));
  /* Both offers say a=setup:actpass, which no answer may (RFC 5763): the
   * B2BUA gives the two phones opposite DTLS roles. Only the role changes;
   * the fingerprints pass untouched, so the keys stay theirs. */
  if (sp_sdp_media_has_attribute (media, "setup"))
    {
      sp_sdp_media_remove_attribute (media, "setup");
      sp_sdp_media_add_attribute (media, "setup", dtls_role);
    }
  return sp_sdp_session_to_string (sdp);
}

/* @sdp (from the other side) for @to_side's phone, the relay told where
 * the sending side receives and where its SIP comes from: like
 * media_body_for_side, with the picker's address known from its INVITE. */
static char *
pickup_relay_sdp (Call *call, SpRelaySide to_side, const char *sdp, const char *from_sip_host)
{
  SpRelaySide from_side = to_side == SP_RELAY_SIDE_A ? SP_RELAY_SIDE_B : SP_RELAY_SIDE_A;
  SpRelayRemote remote = { 0 };
  g_autofree char *remote_host = NULL;
  g_autofree char *local_host = NULL;
  char *out;

  if (call->relay == NULL)
    return g_strdup (sdp);
  local_host = relay_host_towards (call, leg_peer (call, to_side));
  out = rewrite_sdp ((const guint8 *) sdp, strlen (sdp), local_host,
                     sp_relay_call_get_port (call->relay, to_side), &remote);
  remote_host = (char *) remote.host;
  remote.signalling_host = from_sip_host;
  if (out != NULL && !sp_sip_host_is_wildcard (remote_host))
    sp_relay_call_set_remote (call->relay, from_side, &remote);
  return out;
}

/* The oldest call ringing at @user (not answered, no final response,
 * branches still out); @picked set when none rings but one of @user's
 * was picked up and goes on. */
static Call *
pickup_find_ringing (SpB2bua *self, const char *user, gboolean *picked)
{
  GHashTableIter iter;
  gpointer value;
  Call *best = NULL;

  *picked = FALSE;
  g_hash_table_iter_init (&iter, self->calls);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Call *call = value;

      if (g_strcmp0 (call->picked_from, user) == 0)
        *picked = TRUE;
      if (call->answered || call->final_sent || call->branches->len == 0 ||
          g_strcmp0 (call->info.callee, user) != 0)
        continue;
      if (best == NULL || call->info.started < best->info.started)
        best = call;
    }
  return best;
}

/* The colleague stops ringing: CANCEL with RFC 3326's "completed
 * elsewhere" (no missed call on their phone); a 2xx that crosses it is
 * hung up (on_branch_response, the branches detached). */
static void
pickup_cancel_branches (Call *call)
{
  for (guint i = 0; i < call->branches->len; i++)
    {
      Branch *b = g_ptr_array_index (call->branches, i);

      if (b->final_status == 0 && b->ct != NULL)
        {
          sp_sip_client_transaction_set_cancel_reason (b->ct, SP_SIP_REASON_COMPLETED_ELSEWHERE);
          sp_sip_client_transaction_cancel (b->ct, NULL, NULL);
        }
      b->call = NULL;
    }
  g_ptr_array_set_size (call->branches, 0);
}

/* Each side's dialog to its own session, both as UAS: the caller's and
 * the picker's INVITE with the 2xx we sent each. */
static void
pickup_start_sessions (Call *call, SpSipServerTransaction *picker_st, SpSipMessage *picker_invite,
                       const SpSipMessage *a_ok, const SpSipMessage *p_ok)
{
  SpB2bua *self = call->b2bua;
  const SpSessionTimerSettings *timer =
      self->session_timer.interval != 0 ? &self->session_timer : NULL;

  for (guint i = 0; i < G_N_ELEMENTS (call->legs); i++)
    {
      Leg *leg = &call->legs[i];
      gboolean a = i == SP_RELAY_SIDE_A;
      g_autofree char *label = g_strdup_printf ("call %s %s", call->id, a ? "caller" : "picker");

      leg->call = call;
      leg->side = i;
      leg->session = sp_invite_session_new (self->stack, NULL, label, &leg_callbacks, leg);
      sp_invite_session_adopt (leg->session, a ? call->a_dialog : call->b_dialog, FALSE,
                               sp_sip_server_transaction_get_source (a ? call->st : picker_st), 0);
      sp_invite_session_adopt_exchange (leg->session, a ? call->invite : picker_invite,
                                        a ? a_ok : p_ok, timer);
    }
}

/* The 2xx to @st's INVITE with @sdp and the session timer settled;
 * NULL when it could not be made. */
static SpSipMessage *
pickup_ok (SpB2bua *self, SpSipServerTransaction *st, SpSipMessage *invite, const char *sdp)
{
  SpSipMessage *ok = sp_sip_server_transaction_new_response (st, 200, NULL);

  if (ok == NULL)
    return NULL;
  set_sdp_body (ok, sdp);
  sp_session_timer_answer_invite (&self->session_timer, invite, ok);
  return ok;
}

/* The model's entry now names the picker as the callee. */
static void
pickup_update_model (Call *call, const char *picker)
{
  SpB2bua *self = call->b2bua;

  g_free (call->info.callee);
  call->info.callee = g_strdup (picker);
  g_free (call->info.state);
  call->info.state = g_strdup ("answered");
  call->info.answered = g_get_real_time () / G_USEC_PER_SEC;
  sp_server_call_list_remove (self->calls_model, call->id);
  sp_server_call_list_add (self->calls_model, &call->info);
}

/* @call, ringing, answered by the picker's INVITE @st. FALSE (nothing
 * changed, the picker answered 488) when their codecs do not meet. */
static gboolean
pickup_take (Call *call, SpSipServerTransaction *st, SpSipMessage *request, const char *picker)
{
  SpB2bua *self = call->b2bua;
  const char *picker_host = sp_sip_server_transaction_get_source (st)->host;
  gsize p_len = 0, a_len = 0;
  const guint8 *p_body = sp_sip_message_get_body (request, &p_len);
  const guint8 *a_body = sp_sip_message_get_body (call->invite, &a_len);
  /* The caller hears "active" (the picker opens the DTLS handshake), the
   * picker "passive" (the caller waits for it). */
  g_autofree char *to_caller = pickup_answer_sdp (p_body, p_len, a_body, a_len, "active");
  g_autofree char *to_picker = pickup_answer_sdp (a_body, a_len, p_body, p_len, "passive");
  g_autofree char *a_sdp = NULL;
  g_autofree char *p_sdp = NULL;
  g_autoptr (SpSipMessage) a_ok = NULL;
  g_autoptr (SpSipMessage) p_ok = NULL;
  g_autofree char *p_dialog_id = NULL;
  SpSipDialog *p_dialog;

  if (a_len == 0)
    {
      /* The caller's offer comes in its ACK only after a 2xx with ours:
       * there is no answer to give it at once. */
      reply_once (self, st, 488, "Caller Made No SDP Offer", 0);
      return FALSE;
    }
  if (to_caller == NULL || to_picker == NULL)
    {
      g_info ("call %s: pickup by %s refused, no codec in common", call->id, picker);
      reply_once (self, st, 488, "No Common Codec With The Caller", 0);
      return FALSE;
    }
  if (sp_sip_server_transaction_get_to_tag (st) == NULL)
    {
      g_autofree char *tag = sp_sip_random_token (10);
      sp_sip_server_transaction_set_to_tag (st, tag);
    }
  g_free (call->b_host);
  call->b_host = g_strdup (picker_host);
  a_sdp = pickup_relay_sdp (call, SP_RELAY_SIDE_A, to_caller, picker_host);
  p_sdp = pickup_relay_sdp (call, SP_RELAY_SIDE_B, to_picker,
                            sp_sip_server_transaction_get_source (call->st)->host);
  a_ok = pickup_ok (self, call->st, call->invite, a_sdp);
  p_ok = pickup_ok (self, st, request, p_sdp);
  if (a_sdp == NULL || p_sdp == NULL || a_ok == NULL || p_ok == NULL)
    {
      reply_once (self, st, 500, NULL, 0);
      return FALSE;
    }
  /* The call is the picker's from here on: no more ringing, no Timer C.
   * The picker's place in the limits (taken by pickup_call) goes with it. */
  call->answered = TRUE;
  call->picked_from = g_strdup (call->info.callee);
  call->picker_counted = TRUE;
  call->picker_limit_source = g_strdup (picker_host);
  call->picker_limit_user = g_strdup (picker);
  stop_timer_c (call);
  pickup_cancel_branches (call);
  call->final_sent = TRUE;
  sp_sip_stack_respond (self->stack, call->st, a_ok, NULL);
  track_a_dialog (call);
  sp_sip_stack_respond (self->stack, st, p_ok, NULL);
  p_dialog_id = sp_sip_dialog_id_for_uas (request, sp_sip_server_transaction_get_to_tag (st));
  p_dialog = sp_sip_stack_lookup_dialog (self->stack, p_dialog_id);
  g_free (call->a_sdp);
  call->a_sdp = g_steal_pointer (&a_sdp);
  g_free (call->b_sdp);
  call->b_sdp = g_steal_pointer (&p_sdp);
  if (p_dialog == NULL || call->a_dialog == NULL)
    {
      /* Not expected (the stack makes a dialog of every 2xx): end it
       * cleanly rather than leave a half call. */
      if (p_dialog != NULL)
        send_bye (self, p_dialog);
      call_end (call, TRUE, FALSE, 500);
      return TRUE;
    }
  call->b_dialog = sp_sip_dialog_ref (p_dialog);
  call->b_dialog_id = g_steal_pointer (&p_dialog_id);
  g_hash_table_insert (self->dialogs, g_strdup (call->b_dialog_id), call);
  pickup_start_sessions (call, st, request, a_ok, p_ok);
  pickup_update_model (call, picker);
  g_info ("call %s: picked up by %s from %s", call->id, picker, call->picked_from);
  return TRUE;
}

/* The picker's INVITE to SP_B2BUA_PICKUP_PREFIX @number. Refusals (see
 * b2bua.h) are final and stateless. */
static void
pickup_call (SpB2bua *self, SpSipServerTransaction *st, SpSipMessage *request,
             const SpAccess *access, const char *number)
{
  const char *source = sp_sip_server_transaction_get_source (st)->host;
  g_autoptr (SpRoute) route = NULL;
  gboolean picked = FALSE;
  gsize len = 0;
  SpCallLimit limit;
  Call *call;

  /* Only the server's own users: a trusted peer (a trunk) cannot take
   * the office's calls. */
  if (access->kind != SP_ACCESS_USER)
    {
      g_info ("pickup from %s refused: not an authenticated user", source);
      sp_access_policy_refuse (self->policy, st, 403, "Pickup Is For Local Users");
      return;
    }
  /* The number means whom a call to it would reach (the router's rules),
   * and only a user here rings. */
  route = *number != '\0' ? route_call (self, access, number, access->user, source) : NULL;
  if (route == NULL || route->kind != SP_ROUTE_LOCAL || route->target == NULL)
    {
      reply_once (self, st, 404, "No Such User To Pick Up", 0);
      return;
    }
  call = pickup_find_ringing (self, route->target, &picked);
  if (call == NULL)
    {
      g_info ("pickup of %s by %s: %s", route->target, access->user,
              picked ? "already picked up" : "nothing ringing");
      reply_once (self, st, 480, picked ? "Already Picked Up" : "Nothing Ringing", 0);
      return;
    }
  if (g_strcmp0 (call->caller_user, access->user) == 0)
    {
      reply_once (self, st, 403, "Cannot Pick Up Own Call", 0);
      return;
    }
  if (sp_sip_message_get_body (request, &len) == NULL || len == 0)
    {
      /* Both INVITEs would carry offers to answer at once: a picker
       * without one has nothing to answer the caller with. */
      reply_once (self, st, 488, "Pickup Needs An SDP Offer", 0);
      return;
    }
  if (reply_timer_too_short (self, st, request))
    return;
  /* The picker is in one more call: the caps on calls per source and per
   * user hold for it as for a call it places. */
  limit = sp_call_limits_admit (self->limits, source, access->user);
  if (limit != SP_CALL_LIMIT_NONE)
    {
      g_info ("pickup by %s from %s refused: too many %s", access->user, source,
              sp_call_limit_to_string (limit));
      reply_once (self, st, 503, "Too Many Calls", SP_B2BUA_RETRY_AFTER_S);
      return;
    }
  if (!pickup_take (call, st, request, access->user))
    sp_call_limits_release (self->limits, source, access->user);
}
