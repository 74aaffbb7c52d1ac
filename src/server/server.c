#include "server/server.h"

#include "server/accesspolicy.h"
#include "server/apitoken.h"
#include "server/authenticator.h"
#include "server/b2bua.h"
#include "server/presence.h"
#include "server/registrar.h"
#include "server/relay.h"
#include "sip/tls.h"

#include <string.h>

#define PURGE_INTERVAL_S  5
#define AUTOSAVE_DELAY_MS 1000

struct _SpServer
{
  GObject parent_instance;

  char *config_dir;
  char *state_dir;
  SpUserDb *users;
  SpRouter *router;
  SpLocationStore *locations;
  SpServerCallList *calls;
  SpWebConsole *console;

  /* settings */
  gboolean media_relay;
  guint16 relay_min;
  guint16 relay_max;
  gboolean challenge_bye;
  guint session_expires; /* RFC 4028 on the legs we originate; 0: none */
  guint min_se;
  guint guard_failures;
  guint guard_window;
  guint guard_block;
  guint nonce_lifetime;
  SpDigestAlgorithm algorithms[2];
  guint n_algorithms;
  SpServerLimits limits;
  char *trusted_peers;
  gboolean trusted_forward;
  char *md5_agents;
  char *sha256_agents;

  /* while serving (or draining calls after stop) */
  SpSipStack *stack;
  gboolean running;
  gulong request_handler;
  gulong ack_timeout_handler;
  gulong ack_handler;
  SpAuthenticator *auth;
  SpAccessPolicy *policy;
  SpRegistrar *registrar;
  SpRelay *relay;
  SpB2bua *b2bua;
  SpPresenceAgent *presence; /* while running */
  guint purge_source;
  guint64 requests;
  guint64 calls_started;
};

G_DEFINE_FINAL_TYPE (SpServer, sp_server, G_TYPE_OBJECT)

enum
{
  SIGNAL_REGISTERED,
  SIGNAL_UNREGISTERED,
  SIGNAL_CALL_STARTED,
  SIGNAL_CALL_ENDED,
  SIGNAL_USERS_SAVE_FAILED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static gint64
wall_now (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

static void
on_binding_added (SpLocationStore *store, SpBinding *binding, SpServer *self)
{
  g_signal_emit (self, signals[SIGNAL_REGISTERED], 0, binding->aor, binding->contact);
}

static void
on_binding_removed (SpLocationStore *store, SpBinding *binding, gboolean expired, SpServer *self)
{
  g_signal_emit (self, signals[SIGNAL_UNREGISTERED], 0, binding->aor, binding->contact, expired);
}

/* A deleted user (from the window, the web console or an import that
 * leaves it out) is no longer reachable: its bindings go, and with them
 * the hold on the connections they came on (registrar.c). Only users
 * register here (REGISTER is always authenticated), so an AOR without a
 * user is one that was deleted. */
static void
drop_deleted_users_bindings (SpServer *self, SpUserDb *users)
{
  g_autoptr (GPtrArray) bindings = sp_location_store_list (self->locations, wall_now ());
  g_autoptr (GPtrArray) gone = g_ptr_array_new ();

  for (guint i = 0; i < bindings->len; i++)
    {
      const SpBinding *b = g_ptr_array_index (bindings, i);
      const char *last = gone->len ? g_ptr_array_index (gone, gone->len - 1) : NULL;

      /* The list is sorted by AOR: each one checked once. */
      if (g_strcmp0 (last, b->aor) != 0 && sp_user_db_lookup (users, b->aor) == NULL)
        g_ptr_array_add (gone, b->aor);
    }
  for (guint i = 0; i < gone->len; i++)
    {
      g_message ("user %s deleted: its registrations are removed",
                 (const char *) g_ptr_array_index (gone, i));
      sp_location_store_remove_aor (self->locations, g_ptr_array_index (gone, i));
    }
}

static void
on_users_changed (SpUserDb *users, SpServer *self)
{
  g_autoptr (GError) error = NULL;

  drop_deleted_users_bindings (self, users);

  /* The one place users are saved, whoever changed them (the window,
   * the web console, an import). */
  if (self->config_dir != NULL && !sp_user_db_save (users, self->config_dir, &error))
    {
      g_warning ("users not saved: %s", error->message);
      g_signal_emit (self, signals[SIGNAL_USERS_SAVE_FAILED], 0, error->message);
    }
}

static void
sp_server_dispose (GObject *object)
{
  SpServer *self = SP_SERVER (object);

  sp_server_stop (self);
  /* Calls still draining end now. */
  g_clear_pointer (&self->presence, sp_presence_agent_free);
  if (self->b2bua != NULL)
    sp_b2bua_end_all (self->b2bua);
  g_clear_pointer (&self->b2bua, sp_b2bua_free);
  g_clear_pointer (&self->relay, sp_relay_free);
  g_clear_pointer (&self->registrar, sp_registrar_free);
  g_clear_pointer (&self->policy, sp_access_policy_free);
  g_clear_pointer (&self->auth, sp_authenticator_free);
  if (self->stack != NULL)
    {
      g_clear_signal_handler (&self->request_handler, self->stack);
      g_clear_signal_handler (&self->ack_timeout_handler, self->stack);
      g_clear_signal_handler (&self->ack_handler, self->stack);
    }
  g_clear_object (&self->stack);
  if (self->console != NULL)
    sp_web_console_stop (self->console);
  g_clear_object (&self->console);
  if (self->users != NULL)
    g_signal_handlers_disconnect_by_data (self->users, self);
  if (self->locations != NULL)
    g_signal_handlers_disconnect_by_data (self->locations, self);
  g_clear_object (&self->router);
  g_clear_object (&self->locations);
  g_clear_object (&self->calls);
  g_clear_object (&self->users);
  G_OBJECT_CLASS (sp_server_parent_class)->dispose (object);
}

static void
sp_server_finalize (GObject *object)
{
  SpServer *self = SP_SERVER (object);

  g_free (self->config_dir);
  g_free (self->state_dir);
  g_free (self->trusted_peers);
  g_free (self->md5_agents);
  g_free (self->sha256_agents);
  G_OBJECT_CLASS (sp_server_parent_class)->finalize (object);
}

static void
sp_server_class_init (SpServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sp_server_dispose;
  object_class->finalize = sp_server_finalize;
  signals[SIGNAL_REGISTERED] =
      g_signal_new ("registered", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  signals[SIGNAL_UNREGISTERED] =
      g_signal_new ("unregistered", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_BOOLEAN);
  signals[SIGNAL_CALL_STARTED] =
      g_signal_new ("call-started", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, SP_TYPE_SERVER_CALL | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[SIGNAL_CALL_ENDED] =
      g_signal_new ("call-ended", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 2, SP_TYPE_SERVER_CALL | G_SIGNAL_TYPE_STATIC_SCOPE, G_TYPE_UINT);
  signals[SIGNAL_USERS_SAVE_FAILED] =
      g_signal_new ("users-save-failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                    NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
sp_server_init (SpServer *self)
{
  sp_server_limits_init (&self->limits);
  self->media_relay = TRUE;
  self->relay_min = 20000;
  self->relay_max = 29999;
  self->challenge_bye = TRUE;
  self->session_expires = SP_SERVER_DEFAULT_SESSION_EXPIRES;
  self->min_se = SP_SERVER_DEFAULT_MIN_SE;
  self->guard_failures = 10;
  self->guard_window = 60;
  self->guard_block = 300;
  self->nonce_lifetime = SP_AUTHENTICATOR_NONCE_LIFETIME;
  self->trusted_peers = g_strdup ("");
  self->md5_agents = g_strdup (SP_ACCESS_POLICY_MD5_AGENTS);
  self->sha256_agents = g_strdup (SP_ACCESS_POLICY_SHA256_AGENTS);
}

SpServer *
sp_server_new (const char *config_dir, const char *state_dir, const char *realm)
{
  SpServer *self = g_object_new (SP_TYPE_SERVER, NULL);
  g_autoptr (GError) error = NULL;

  self->config_dir = g_strdup (config_dir);
  self->state_dir = g_strdup (state_dir);
  self->users = sp_user_db_new (realm ? realm : "softphone");
  self->router = sp_router_new (self->users);
  self->locations = sp_location_store_new ();
  self->calls = sp_server_call_list_new ();
  if (config_dir != NULL && !sp_user_db_load (self->users, config_dir, &error))
    {
      g_warning ("users not loaded: %s", error->message);
      g_clear_error (&error);
    }
  if (config_dir != NULL && !sp_router_load (self->router, config_dir, &error))
    g_warning ("routes not loaded: %s", error->message);
  g_signal_connect (self->users, "changed", G_CALLBACK (on_users_changed), self);
  g_signal_connect (self->locations, "binding-added", G_CALLBACK (on_binding_added), self);
  g_signal_connect (self->locations, "binding-removed", G_CALLBACK (on_binding_removed), self);
  return self;
}

SpUserDb *
sp_server_get_users (SpServer *self)
{
  return self->users;
}

SpRouter *
sp_server_get_router (SpServer *self)
{
  return self->router;
}

SpLocationStore *
sp_server_get_locations (SpServer *self)
{
  return self->locations;
}

SpServerCallList *
sp_server_get_calls (SpServer *self)
{
  return self->calls;
}

void
sp_server_set_media_relay (SpServer *self, gboolean relay)
{
  self->media_relay = relay;
}

void
sp_server_set_relay_ports (SpServer *self, guint16 port_min, guint16 port_max)
{
  self->relay_min = port_min;
  self->relay_max = port_max;
}

gboolean
sp_server_check_session_timer (guint session_expires, guint min_se, GError **error)
{
  /* RFC 4028 4: no Min-SE below 90 s; a day is far beyond any PBX's
   * interval (and the session layer's cap). */
  if (min_se < SP_SERVER_DEFAULT_MIN_SE || min_se > 86400)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "min-se: %u is out of range (90 to 86400 seconds; RFC 4028 allows no less "
                   "than 90)",
                   min_se);
      return FALSE;
    }
  if (session_expires != 0 && (session_expires < min_se || session_expires > 86400))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "session-expires: %u is out of range (0 for no session timer, else min-se "
                   "(%u) to 86400 seconds)",
                   session_expires, min_se);
      return FALSE;
    }
  return TRUE;
}

static void
apply_session_timer (SpServer *self)
{
  SpSessionTimerSettings timer;

  if (self->b2bua == NULL)
    return;
  sp_session_timer_settings_init (&timer);
  timer.interval = self->session_expires;
  timer.min_se = self->min_se;
  sp_b2bua_set_session_timer (self->b2bua, self->session_expires != 0 ? &timer : NULL);
}

gboolean
sp_server_set_session_timer (SpServer *self, guint session_expires, guint min_se, GError **error)
{
  g_return_val_if_fail (SP_IS_SERVER (self), FALSE);
  if (!sp_server_check_session_timer (session_expires, min_se, error))
    return FALSE;
  self->session_expires = session_expires;
  self->min_se = min_se;
  apply_session_timer (self);
  return TRUE;
}

void
sp_server_get_session_timer (SpServer *self, guint *session_expires, guint *min_se)
{
  g_return_if_fail (SP_IS_SERVER (self));
  *session_expires = self->session_expires;
  *min_se = self->min_se;
}

void
sp_server_set_challenge_bye (SpServer *self, gboolean challenge)
{
  self->challenge_bye = challenge;
  if (self->b2bua != NULL)
    sp_b2bua_set_challenge_bye (self->b2bua, challenge);
}

void
sp_server_set_auth_guard (SpServer *self, guint max_failures, guint window_s, guint block_s)
{
  self->guard_failures = max_failures;
  self->guard_window = window_s;
  self->guard_block = block_s;
  if (self->policy != NULL)
    sp_access_policy_set_lockout (self->policy, max_failures, window_s, block_s);
}

gboolean
sp_server_set_trusted_peers (SpServer *self, const char *list, GError **error)
{
  /* Checked now, so a bad list is refused where it is given even while
   * the server is off. */
  g_autoptr (SpAccessPolicy) check = sp_access_policy_new (NULL, self->users, NULL);

  if (!sp_access_policy_set_trusted_peers (check, list, error))
    return FALSE;
  g_free (self->trusted_peers);
  self->trusted_peers = sp_access_policy_dup_trusted_peers (check);
  if (self->policy != NULL)
    sp_access_policy_set_trusted_peers (self->policy, list, NULL);
  return TRUE;
}

const char *
sp_server_get_trusted_peers (SpServer *self)
{
  return self->trusted_peers;
}

void
sp_server_set_trusted_forward (SpServer *self, gboolean allow)
{
  self->trusted_forward = allow;
  if (self->policy != NULL)
    sp_access_policy_set_trusted_forward (self->policy, allow);
}

void
sp_server_set_md5_user_agents (SpServer *self, const char *list)
{
  g_free (self->md5_agents);
  self->md5_agents = g_strdup (list != NULL ? list : "");
  if (self->policy != NULL)
    sp_access_policy_set_md5_agents (self->policy, self->md5_agents);
}

void
sp_server_set_sha256_user_agents (SpServer *self, const char *list)
{
  g_free (self->sha256_agents);
  self->sha256_agents = g_strdup (list != NULL ? list : "");
  if (self->policy != NULL)
    sp_access_policy_set_sha256_agents (self->policy, self->sha256_agents);
}

void
sp_server_set_nonce_lifetime (SpServer *self, guint seconds)
{
  self->nonce_lifetime = seconds;
  if (self->auth != NULL)
    sp_authenticator_set_nonce_lifetime (self->auth, seconds);
}

gboolean
sp_server_set_digest_algorithms (SpServer *self, const char *list, GError **error)
{
  g_auto (GStrv) names = g_strsplit (list, ",", -1);
  guint n = g_strv_length (names);

  if (n == 0 || n > G_N_ELEMENTS (self->algorithms))
    goto bad;
  for (guint i = 0; i < n; i++)
    {
      SpDigestAlgorithm a = sp_digest_algorithm_from_string (g_strstrip (names[i]));
      if (a != SP_DIGEST_ALGORITHM_MD5 && a != SP_DIGEST_ALGORITHM_SHA256)
        goto bad;
      self->algorithms[i] = a;
    }
  self->n_algorithms = n;
  if (self->auth != NULL)
    sp_authenticator_set_algorithms (self->auth, self->algorithms, self->n_algorithms);
  return TRUE;
bad:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               "digest algorithms: MD5 and/or SHA-256, not '%s'", list);
  return FALSE;
}

void
sp_server_limits_init (SpServerLimits *limits)
{
  limits->max_calls = SP_CALL_LIMITS_DEFAULT_TOTAL;
  limits->max_calls_per_source = SP_CALL_LIMITS_DEFAULT_PER_SOURCE;
  limits->max_calls_per_user = SP_CALL_LIMITS_DEFAULT_PER_USER;
  limits->max_transactions = SP_SIP_DEFAULT_MAX_SERVER_TRANSACTIONS;
  limits->max_transactions_per_source = SP_SIP_DEFAULT_MAX_SERVER_TRANSACTIONS_PER_SOURCE;
  limits->max_tcp = SP_SIP_DEFAULT_MAX_TCP_CONNECTIONS;
  limits->max_tcp_per_address = SP_SIP_DEFAULT_MAX_TCP_PER_ADDRESS;
  limits->timer_c_ms = SP_B2BUA_DEFAULT_TIMER_C_S * 1000;
  limits->tcp_idle_ms = SP_SIP_TRANSPORT_DEFAULT_IDLE_MS;
}

/* The caps go where they are enforced: calls in the B2BUA, the rest on
 * the stack (shared with the phone: its tables are the same ones). */
static void
apply_limits (SpServer *self)
{
  SpCallLimitsSettings calls = { self->limits.max_calls, self->limits.max_calls_per_source,
                                 self->limits.max_calls_per_user };

  if (self->b2bua != NULL)
    {
      sp_b2bua_set_limits (self->b2bua, &calls);
      sp_b2bua_set_timer_c (self->b2bua, self->limits.timer_c_ms);
    }
  if (self->stack != NULL && self->running)
    {
      sp_sip_transaction_layer_set_limits (sp_sip_stack_get_transactions (self->stack),
                                           self->limits.max_transactions,
                                           self->limits.max_transactions_per_source);
      sp_sip_transport_set_tcp_limits (sp_sip_stack_get_transport (self->stack),
                                       self->limits.max_tcp, self->limits.max_tcp_per_address);
      sp_sip_transport_set_idle_timeout (sp_sip_stack_get_transport (self->stack),
                                         self->limits.tcp_idle_ms);
    }
}

void
sp_server_set_limits (SpServer *self, const SpServerLimits *limits)
{
  g_return_if_fail (SP_IS_SERVER (self));
  self->limits = *limits;
  apply_limits (self);
}

const SpServerLimits *
sp_server_get_limits (SpServer *self)
{
  return &self->limits;
}

static gboolean
on_purge (gpointer data)
{
  SpServer *self = data;
  guint n = sp_location_store_purge (self->locations, wall_now ());

  if (n > 0)
    g_debug ("%u expired bindings purged", n);
  return G_SOURCE_CONTINUE;
}

static void
on_call_started (const SpServerCall *call, gpointer user_data)
{
  SpServer *self = user_data;

  self->calls_started++;
  g_signal_emit (self, signals[SIGNAL_CALL_STARTED], 0, call);
}

static void
on_call_ended (const SpServerCall *call, guint status, gpointer user_data)
{
  SpServer *self = user_data;

  g_signal_emit (self, signals[SIGNAL_CALL_ENDED], 0, call, status);
}

static gboolean
on_stack_request (SpSipStack *stack, SpSipServerTransaction *st, SpSipMessage *request,
                  SpSipDialog *dialog, gpointer user_data)
{
  return sp_server_filter_request (user_data, st, request, dialog);
}

static void
on_stack_ack_timeout (SpSipStack *stack, SpSipDialog *dialog, gpointer user_data)
{
  SpServer *self = user_data;

  if (self->b2bua != NULL)
    sp_b2bua_handle_ack_timeout (self->b2bua, dialog);
}

static void
on_stack_ack (SpSipStack *stack, SpSipMessage *ack, SpSipDialog *dialog, gpointer user_data)
{
  SpServer *self = user_data;

  if (self->b2bua != NULL && sp_b2bua_owns_dialog (self->b2bua, dialog))
    sp_b2bua_handle_ack (self->b2bua, ack, dialog);
}

/* The parts that live as long as the server serves a stack. */
static gboolean
build_engine (SpServer *self, const char *media_host, GError **error)
{
  if (self->auth == NULL)
    self->auth = sp_authenticator_new (self->users, NULL);
  if (self->policy == NULL)
    {
      self->policy = sp_access_policy_new (self->stack, self->users, self->auth);
      sp_access_policy_set_lockout (self->policy, self->guard_failures, self->guard_window,
                                    self->guard_block);
    }
  /* Checked by sp_server_set_trusted_peers already. */
  sp_access_policy_set_trusted_peers (self->policy, self->trusted_peers, NULL);
  sp_access_policy_set_trusted_forward (self->policy, self->trusted_forward);
  sp_access_policy_set_md5_agents (self->policy, self->md5_agents);
  sp_access_policy_set_sha256_agents (self->policy, self->sha256_agents);
  sp_authenticator_set_nonce_lifetime (self->auth, self->nonce_lifetime);
  if (self->n_algorithms > 0)
    sp_authenticator_set_algorithms (self->auth, self->algorithms, self->n_algorithms);
  if (self->registrar == NULL)
    self->registrar = sp_registrar_new (self->stack, self->locations);
  if (self->b2bua == NULL)
    {
      SpB2buaEvents events = { on_call_started, on_call_ended };

      self->b2bua = sp_b2bua_new (self->stack, self->auth, self->users, self->router,
                                  self->locations, self->calls);
      sp_b2bua_set_events (self->b2bua, &events, self);
      sp_b2bua_set_policy (self->b2bua, self->policy);
    }
  sp_b2bua_set_challenge_bye (self->b2bua, self->challenge_bye);
  apply_session_timer (self);
  if (self->media_relay && self->relay == NULL)
    {
      self->relay = sp_relay_new (media_host, self->relay_min, self->relay_max, error);
      if (self->relay == NULL)
        return FALSE;
    }
  if (self->presence == NULL)
    self->presence = sp_presence_agent_new (self->stack, self->policy, self->users, self->locations,
                                            self->calls);
  /* Calls still on the old relay keep their ports until they end. */
  sp_b2bua_set_relay (self->b2bua, self->media_relay ? self->relay : NULL);
  return TRUE;
}

gboolean
sp_server_start (SpServer *self, SpSipStack *stack, const char *media_host,
                 gboolean connect_requests, GError **error)
{
  g_autoptr (GError) local = NULL;

  g_return_val_if_fail (SP_IS_SERVER (self), FALSE);
  g_return_val_if_fail (self->stack == NULL || self->stack == stack, FALSE);

  if (self->running)
    return TRUE;
  if (self->stack == NULL)
    {
      self->stack = g_object_ref (stack);
      self->ack_timeout_handler =
          g_signal_connect (stack, "ack-timeout", G_CALLBACK (on_stack_ack_timeout), self);
      self->ack_handler = g_signal_connect (stack, "ack", G_CALLBACK (on_stack_ack), self);
      if (connect_requests)
        self->request_handler =
            g_signal_connect (stack, "request", G_CALLBACK (on_stack_request), self);
    }
  if (!build_engine (self, media_host, error))
    return FALSE;
  if (self->state_dir != NULL)
    {
      if (!sp_location_store_load (self->locations, self->state_dir, wall_now (), &local))
        g_warning ("registrations not loaded: %s", local->message);
      sp_location_store_set_autosave (self->locations, self->state_dir, AUTOSAVE_DELAY_MS);
    }
  self->purge_source = g_timeout_add_seconds (PURGE_INTERVAL_S, on_purge, self);
  /* A server's main loop is busy with SIP: datagrams go out from a
   * second core (sip/sender.h). */
  sp_sip_transport_set_send_thread (sp_sip_stack_get_transport (self->stack), TRUE);
  self->running = TRUE;
  apply_limits (self);
  g_message ("server on: realm \"%s\", %u users, %u routes, %u bindings, media %s",
             sp_user_db_get_realm (self->users), sp_user_db_get_n_users (self->users),
             sp_router_get_n_rules (self->router),
             sp_location_store_get_n_bindings (self->locations),
             self->media_relay ? "relayed" : "direct");
  return TRUE;
}

void
sp_server_stop (SpServer *self)
{
  g_return_if_fail (SP_IS_SERVER (self));

  if (!self->running)
    return;
  self->running = FALSE;
  g_clear_handle_id (&self->purge_source, g_source_remove);
  /* Watchers are told (deactivated) and come back when it runs again. */
  g_clear_pointer (&self->presence, sp_presence_agent_free);
  sp_sip_transport_set_send_thread (sp_sip_stack_get_transport (self->stack), FALSE);
  if (self->state_dir != NULL)
    {
      g_autoptr (GError) error = NULL;
      if (sp_location_store_is_dirty (self->locations) &&
          !sp_location_store_save (self->locations, self->state_dir, &error))
        g_warning ("registrations not saved: %s", error->message);
    }
  sp_location_store_set_autosave (self->locations, NULL, 0);
  g_message ("server off (%u calls finish on their own)",
             self->b2bua ? sp_b2bua_get_n_calls (self->b2bua) : 0);
}

gboolean
sp_server_is_running (SpServer *self)
{
  return self->running;
}

const char *
sp_server_get_relay_host (SpServer *self)
{
  g_return_val_if_fail (SP_IS_SERVER (self), NULL);
  if (!self->running || !self->media_relay || self->relay == NULL)
    return NULL;
  return sp_relay_get_host (self->relay);
}

gboolean
sp_server_owns_dialog (SpServer *self, SpSipDialog *dialog)
{
  return (self->b2bua != NULL && sp_b2bua_owns_dialog (self->b2bua, dialog)) ||
         (self->presence != NULL && sp_presence_agent_owns_dialog (self->presence, dialog));
}

gboolean
sp_server_filter_request (SpServer *self, SpSipServerTransaction *st, SpSipMessage *request,
                          SpSipDialog *dialog)
{
  SpSipMethod method = sp_sip_message_get_method_id (request);
  g_auto (SpAccess) access = { 0 };
  gint64 now = wall_now ();

  if (self->b2bua == NULL)
    return FALSE;
  /* Calls keep working after stop, until they end. */
  if (dialog != NULL)
    {
      if (self->presence != NULL &&
          sp_presence_agent_handle_in_dialog (self->presence, st, request, dialog))
        return TRUE;
      if (!sp_b2bua_owns_dialog (self->b2bua, dialog))
        return FALSE;
      self->requests++;
      return sp_b2bua_handle_in_dialog (self->b2bua, st, request, dialog, now);
    }
  if (!self->running)
    return FALSE;
  if (self->presence != NULL && sp_presence_agent_handle_request (self->presence, st, request, now))
    {
      self->requests++;
      return TRUE;
    }
  if (method != SP_SIP_METHOD_REGISTER && method != SP_SIP_METHOD_INVITE)
    return FALSE;
  /* Our own callee leg to the phone in this process. */
  if (method == SP_SIP_METHOD_INVITE && sp_b2bua_is_own_request (self->b2bua, request))
    return FALSE;
  self->requests++;
  /* Who may: the policy answers what it does not admit (or ignores it,
   * from a locked-out source); the registrar and the B2BUA go on with its
   * decision. */
  switch (sp_access_policy_admit (self->policy, st, request, now, &access))
    {
      case SP_ACCESS_DENIED:
        return TRUE;
      case SP_ACCESS_USER:
      case SP_ACCESS_TRUSTED:
      default:
        break;
    }
  if (method == SP_SIP_METHOD_REGISTER)
    sp_registrar_handle (self->registrar, st, request, &access, now);
  else
    sp_b2bua_handle_invite (self->b2bua, st, request, &access, now);
  return TRUE;
}

/* The TLS binding and the identity it presents, FALSE without either. */
static gboolean
find_tls_binding (SpServer *self, SpSipPeer *bound, const char **fingerprint)
{
  SpSipTransport *transport;
  SpSipTlsIdentity *identity;

  if (self->stack == NULL)
    return FALSE;
  transport = sp_sip_stack_get_transport (self->stack);
  identity = sp_sip_transport_get_tls_identity (transport);
  for (guint i = 0; identity != NULL && sp_sip_transport_get_binding (transport, i, bound); i++)
    if (bound->kind == SP_SIP_TRANSPORT_TLS)
      {
        *fingerprint = sp_sip_tls_identity_get_fingerprint (identity);
        return *fingerprint != NULL;
      }
  return FALSE;
}

/* The certificate phones pin: its fingerprint on the console, for users
 * to compare with what their phone shows. */
static void
set_console_tls (SpServer *self)
{
  SpSipPeer bound;
  const char *fingerprint = NULL;

  if (find_tls_binding (self, &bound, &fingerprint))
    sp_web_console_set_tls (self->console, bound.port, fingerprint);
}

char *
sp_server_dup_tls_address (SpServer *self, const char **fingerprint)
{
  SpSipPeer bound;
  const char *found = NULL;
  const char *host;

  g_return_val_if_fail (SP_IS_SERVER (self), NULL);
  if (!self->running || !find_tls_binding (self, &bound, &found))
    return NULL;
  /* A wildcard is no address to dial: phones on the LAN know the
   * computer by its name. */
  host = bound.host;
  if (g_str_equal (host, "0.0.0.0") || g_str_equal (host, "::"))
    host = g_get_host_name ();
  if (fingerprint != NULL)
    *fingerprint = found;
  return sp_sip_host_port_to_string (host, bound.port);
}

gboolean
sp_server_start_http (SpServer *self, const char *listen, const char *admin_password_hash,
                      GError **error)
{
  g_autofree char *address = NULL;
  g_autofree char *token = NULL;
  guint16 port = 0;

  if (!sp_web_console_parse_listen (listen, &address, &port, error))
    return FALSE;
  if (self->console == NULL)
    self->console = sp_web_console_new (self->users, self->locations, self->calls);
  if (self->config_dir != NULL)
    {
      g_autoptr (GError) local = NULL;

      /* Without its token the console still serves, and the admin
       * password still allows changes: say why scripts are refused. */
      token = sp_api_token_load_or_create (self->config_dir, &local);
      if (token == NULL)
        g_warning ("Web console without an API token: %s", local->message);
    }
  sp_web_console_set_token (self->console, token);
  if (token != NULL)
    memset (token, 0, strlen (token));
  set_console_tls (self);
  return sp_web_console_start (self->console, address, port, admin_password_hash, error);
}

SpWebConsole *
sp_server_get_web_console (SpServer *self)
{
  return self->console;
}

guint
sp_server_get_n_calls (SpServer *self)
{
  return self->b2bua ? sp_b2bua_get_n_calls (self->b2bua) : 0;
}

void
sp_server_get_stats (SpServer *self, SpServerStats *stats)
{
  memset (stats, 0, sizeof *stats);
  stats->requests = self->requests;
  if (self->policy != NULL)
    {
      SpAccessStats a;
      sp_access_policy_get_stats (self->policy, &a);
      stats->ignored = a.ignored;
    }
  stats->calls = self->calls_started;
  if (self->b2bua != NULL)
    stats->refused = sp_b2bua_get_n_refused (self->b2bua);
  if (self->stack != NULL)
    stats->refused +=
        sp_sip_transaction_layer_get_stats (sp_sip_stack_get_transactions (self->stack))
            ->overload_503;
  if (self->auth != NULL)
    stats->auth_failed = sp_authenticator_get_n_failures (self->auth);
  if (self->registrar != NULL)
    stats->registers = sp_registrar_get_stats (self->registrar)->registers;
  if (self->stack != NULL)
    {
      const SpSipTransportStats *t =
          sp_sip_transport_get_stats (sp_sip_stack_get_transport (self->stack));
      stats->malformed = t->parse_failures + t->dropped;
    }
}
