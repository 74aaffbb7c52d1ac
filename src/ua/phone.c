#include "ua/phone.h"

#include <gio/gio.h>
#include <string.h>

#include "i18n.h"

#include "sip/stack.h"
#include "ua/call-private.h"
#include "ua/contacts.h"
#include "ua/presence-publisher.h"
#include "ua/phone-private.h"
#include "media/srtp.h"
#include "ua/phone-tls.h"
#include "ua/account-credentials.h"
#include "ua/registration.h"
#include "ua/hostport.h"
#include "ua/resolve.h"
#include "ua/settings.h"
#include "ua/target.h"

/* How long shutdown waits for BYEs and un-REGISTERs to be answered. */
#define SHUTDOWN_TIMEOUT_MS 4000
/* Messages kept for the call-flow ladder (the oldest go first). */
#define SIP_LOG_MAX_ENTRIES 2000
/* How long the network must stay quiet before we register again. */
#define NETWORK_SETTLE_MS 1500

struct _SpPhone
{
  GObject parent_instance;

  char *config_dir;
  char *state_dir;
  SpSipStack *stack;
  SpMediaEngine *media_engine;
  GPtrArray *tone_tails; /* ToneTail: busy/error tones of ended calls */
  GTask *shutdown_task;
  guint shutdown_timer;
  char *local_host;
  guint16 local_port;

  GListStore *accounts;
  GHashTable *registrations; /* SpAccount -> SpRegistration */
  GHashTable *credentials;   /* SpAccount -> SpCredentials, one store each */
  GListStore *calls;
  guint next_call_id;
  SpHistory *history;

  gboolean dnd;
  char *display_name;
  char *user;
  guint media_timeout;
  gboolean detect_inband_dtmf;
  gboolean echo_cancellation;
  char *audio_in;
  char *audio_out;
  gboolean log_sip;
  gboolean log_sip_raw; /* credentials left in the SIP log and --log-sip */
  gboolean record_sip;  /* append the wire to sip_log */
  gulong wire_handler;  /* the transport's "message", while someone wants it */
  SpSipLog *sip_log;
  guint sip_t1;                  /* ms */
  guint keepalive_interval;      /* s */
  guint pong_timeout;            /* ms a CRLF ping waits for its pong */
  guint ring_timeout;            /* s an incoming call rings before 480 */
  guint ptime;                   /* ms, direct calls' packet time; 0 = automatic */
  guint max_incoming;            /* incoming calls at once, in all */
  guint max_incoming_per_source; /* ... and from one address */
  /* Direct calls' SRTP policy. */
  SpMediaEncryption media_encryption;
  gboolean refuse_strangers;
  guint64 refused_incoming; /* INVITEs turned away by the limits above */
  GNetworkMonitor *network_monitor;
  guint network_timer;
  /* The mini-server sharing our stack sees requests first. */
  SpPhoneRequestFilter filter;
  gpointer filter_data;
  SpContactList *contacts;         /* made on first use, once the stack is up */
  SpAccount *contacts_account;     /* whose directory it watches, or NULL */
  GHashTable *publishers;          /* SpAccount -> SpPresencePublisher (do not disturb) */
  SpPhoneTls *tls;                 /* certificate, TLS listener, pins (ua/phone-tls.h) */
  SpSipTlsIdentity *dtls_identity; /* DTLS-SRTP's, made on first use */
  int tls_port;                    /* asked for: -1 the SIP port + 1, 0 no TLS listener */
};

G_DEFINE_TYPE (SpPhone, sp_phone, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_DO_NOT_DISTURB,
  PROP_DISPLAY_NAME,
  PROP_USER,
  PROP_MEDIA_TIMEOUT,
  PROP_DETECT_INBAND_DTMF,
  PROP_AUDIO_IN,
  PROP_AUDIO_OUT,
  PROP_LOG_SIP,
  PROP_LOG_SIP_RAW,
  PROP_RECORD_SIP,
  PROP_SIP_T1,
  PROP_KEEPALIVE_INTERVAL,
  PROP_KEEPALIVE_PONG_TIMEOUT,
  PROP_RING_TIMEOUT,
  PROP_PTIME,
  PROP_MEDIA_ENCRYPTION,
  PROP_MAX_INCOMING_CALLS,
  PROP_MAX_INCOMING_CALLS_PER_SOURCE,
  PROP_REFUSE_STRANGERS,
  PROP_ECHO_CANCELLATION,
  N_PROPS
};

enum
{
  SIGNAL_INCOMING_CALL,
  SIGNAL_CALL_ADDED,
  SIGNAL_CALL_ENDED,
  SIGNAL_REGISTRATION_CHANGED,
  N_SIGNALS
};

static GParamSpec *props[N_PROPS];
static guint signals[N_SIGNALS];

static void update_wire_hook (SpPhone *self);

static void
sp_phone_dispose (GObject *object)
{
  SpPhone *self = SP_PHONE (object);

  if (self->calls != NULL)
    {
      /* Whoever still holds a call must not reach into us (or our media
       * engine) through it later. */
      for (guint i = g_list_model_get_n_items (G_LIST_MODEL (self->calls)); i > 0; i--)
        {
          g_autoptr (SpCall) call = g_list_model_get_item (G_LIST_MODEL (self->calls), i - 1);
          sp_call_detach_phone (call);
        }
      g_list_store_remove_all (self->calls);
    }
  g_clear_handle_id (&self->shutdown_timer, g_source_remove);
  g_clear_handle_id (&self->network_timer, g_source_remove);
  if (self->network_monitor != NULL)
    g_signal_handlers_disconnect_by_data (self->network_monitor, self);
  g_clear_object (&self->network_monitor);
  g_clear_pointer (&self->registrations, g_hash_table_unref);
  g_clear_pointer (&self->credentials, g_hash_table_unref);
  if (self->stack != NULL)
    {
      g_signal_handlers_disconnect_by_data (sp_sip_stack_get_transport (self->stack), self);
      /* The stack may outlive us (the server holds it); its verify
       * function must not reach our freed pins. */
      sp_sip_transport_set_tls_verify (sp_sip_stack_get_transport (self->stack), NULL, NULL);
    }
  self->wire_handler = 0;
  if (self->contacts != NULL)
    sp_contact_list_stop (self->contacts);
  g_clear_object (&self->contacts);
  g_clear_pointer (&self->publishers, g_hash_table_unref);
  g_clear_object (&self->contacts_account);
  g_clear_object (&self->stack);
  g_clear_pointer (&self->tone_tails, g_ptr_array_unref);
  /* After the calls: every media session must be gone first. */
  g_clear_pointer (&self->media_engine, sp_media_engine_free);
  G_OBJECT_CLASS (sp_phone_parent_class)->dispose (object);
}

static void
sp_phone_finalize (GObject *object)
{
  SpPhone *self = SP_PHONE (object);

  g_free (self->config_dir);
  g_free (self->state_dir);
  g_free (self->local_host);
  g_clear_pointer (&self->tls, sp_phone_tls_free);
  g_clear_pointer (&self->dtls_identity, sp_sip_tls_identity_unref);
  g_clear_object (&self->accounts);
  g_clear_object (&self->calls);
  g_clear_pointer (&self->history, sp_history_free);
  g_clear_object (&self->sip_log);
  g_free (self->display_name);
  g_free (self->user);
  g_free (self->audio_in);
  g_free (self->audio_out);
  G_OBJECT_CLASS (sp_phone_parent_class)->finalize (object);
}

static void
sp_phone_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  SpPhone *self = SP_PHONE (object);

  switch (prop_id)
    {
      case PROP_DO_NOT_DISTURB:
        g_value_set_boolean (value, self->dnd);
        break;
      case PROP_DISPLAY_NAME:
        g_value_set_string (value, self->display_name);
        break;
      case PROP_USER:
        g_value_set_string (value, self->user);
        break;
      case PROP_MEDIA_TIMEOUT:
        g_value_set_uint (value, self->media_timeout);
        break;
      case PROP_DETECT_INBAND_DTMF:
        g_value_set_boolean (value, self->detect_inband_dtmf);
        break;
      case PROP_AUDIO_IN:
        g_value_set_string (value, self->audio_in);
        break;
      case PROP_AUDIO_OUT:
        g_value_set_string (value, self->audio_out);
        break;
      case PROP_LOG_SIP:
        g_value_set_boolean (value, self->log_sip);
        break;
      case PROP_LOG_SIP_RAW:
        g_value_set_boolean (value, self->log_sip_raw);
        break;
      case PROP_RECORD_SIP:
        g_value_set_boolean (value, self->record_sip);
        break;
      case PROP_SIP_T1:
        g_value_set_uint (value, self->sip_t1);
        break;
      case PROP_KEEPALIVE_INTERVAL:
        g_value_set_uint (value, self->keepalive_interval);
        break;
      case PROP_KEEPALIVE_PONG_TIMEOUT:
        g_value_set_uint (value, self->pong_timeout);
        break;
      case PROP_RING_TIMEOUT:
        g_value_set_uint (value, self->ring_timeout);
        break;
      case PROP_PTIME:
        g_value_set_uint (value, self->ptime);
        break;
      case PROP_MEDIA_ENCRYPTION:
        g_value_set_string (value, sp_media_encryption_to_string (self->media_encryption));
        break;
      case PROP_MAX_INCOMING_CALLS:
        g_value_set_uint (value, self->max_incoming);
        break;
      case PROP_MAX_INCOMING_CALLS_PER_SOURCE:
        g_value_set_uint (value, self->max_incoming_per_source);
        break;
      case PROP_ECHO_CANCELLATION:
        g_value_set_boolean (value, self->echo_cancellation);
        break;
      case PROP_REFUSE_STRANGERS:
        g_value_set_boolean (value, self->refuse_strangers);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

/* The setters below store @value in @field and notify when it changed;
 * TRUE when it did. */

static gboolean
set_string_prop (SpPhone *self, char **field, const GValue *value, GParamSpec *pspec)
{
  const char *s = g_value_get_string (value);

  if (g_strcmp0 (*field, s) == 0)
    return FALSE;
  g_free (*field);
  *field = g_strdup (s);
  g_object_notify_by_pspec (G_OBJECT (self), pspec);
  return TRUE;
}

static gboolean
set_boolean_prop (SpPhone *self, gboolean *field, const GValue *value, GParamSpec *pspec)
{
  gboolean b = g_value_get_boolean (value);

  if (*field == b)
    return FALSE;
  *field = b;
  g_object_notify_by_pspec (G_OBJECT (self), pspec);
  return TRUE;
}

static gboolean
set_uint_prop (SpPhone *self, guint *field, const GValue *value, GParamSpec *pspec)
{
  guint u = g_value_get_uint (value);

  if (*field == u)
    return FALSE;
  *field = u;
  g_object_notify_by_pspec (G_OBJECT (self), pspec);
  return TRUE;
}

/* Do not disturb, told to each account's server (PUBLISH): its watchers
 * see it. */
static void
publish_dnd (SpPhone *self)
{
  GHashTableIter iter;
  gpointer value;

  if (self->publishers == NULL)
    return;
  g_hash_table_iter_init (&iter, self->publishers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    sp_presence_publisher_set_dnd (value, self->dnd, FALSE);
}

/* A registration succeeded: the server may be new or restarted, so an
 * active do-not-disturb is published again. */
static void
account_registered (SpPhone *self, SpAccount *account)
{
  SpPresencePublisher *pub;

  if (self->publishers == NULL)
    self->publishers = g_hash_table_new_full (NULL, NULL, g_object_unref,
                                              (GDestroyNotify) sp_presence_publisher_free);
  pub = g_hash_table_lookup (self->publishers, account);
  if (pub == NULL)
    {
      g_autofree char *host = NULL;
      g_autofree char *user = NULL;
      g_autofree char *hostport = NULL;
      g_autofree char *h = NULL;
      g_autofree char *target = NULL;
      g_autofree char *from = NULL;
      guint16 port = 0;

      if (!sp_account_get_server_host_port (account, &host, &port))
        return;
      user = g_uri_escape_string (sp_account_get_username (account), "!*'()&=+$,;?/", FALSE);
      hostport = sp_sip_host_port_to_string (host, port);
      h = sp_sip_host_port_to_string (host, 0);
      target =
          g_strdup_printf ("sip:%s@%s%s", user, hostport,
                           sp_account_transport_uri_param (sp_account_get_transport (account)));
      from = g_strdup_printf ("<sip:%s@%s>", user, h);
      pub = sp_presence_publisher_new (self->stack, sp_phone_get_credentials (self, account),
                                       target, from);
      g_hash_table_insert (self->publishers, g_object_ref (account), pub);
    }
  if (self->dnd)
    sp_presence_publisher_set_dnd (pub, TRUE, TRUE);
}

static void
sp_phone_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  SpPhone *self = SP_PHONE (object);

  switch (prop_id)
    {
      case PROP_DO_NOT_DISTURB:
        set_boolean_prop (self, &self->dnd, value, pspec);
        publish_dnd (self);
        break;
      case PROP_DISPLAY_NAME:
        set_string_prop (self, &self->display_name, value, pspec);
        break;
      case PROP_USER:
        set_string_prop (self, &self->user, value, pspec);
        break;
      case PROP_MEDIA_TIMEOUT:
        set_uint_prop (self, &self->media_timeout, value, pspec);
        break;
      case PROP_DETECT_INBAND_DTMF:
        set_boolean_prop (self, &self->detect_inband_dtmf, value, pspec);
        break;
      case PROP_AUDIO_IN:
        set_string_prop (self, &self->audio_in, value, pspec);
        break;
      case PROP_AUDIO_OUT:
        set_string_prop (self, &self->audio_out, value, pspec);
        break;
      /* Notifications wait until set_property returns (GObject holds them
       * back), so the hook is in place before anyone hears of it. */
      case PROP_LOG_SIP:
        if (set_boolean_prop (self, &self->log_sip, value, pspec))
          update_wire_hook (self);
        break;
      case PROP_LOG_SIP_RAW:
        set_boolean_prop (self, &self->log_sip_raw, value, pspec);
        break;
      case PROP_RECORD_SIP:
        if (set_boolean_prop (self, &self->record_sip, value, pspec))
          update_wire_hook (self);
        break;
      case PROP_SIP_T1:
        set_uint_prop (self, &self->sip_t1, value, pspec);
        break;
      case PROP_KEEPALIVE_INTERVAL:
        set_uint_prop (self, &self->keepalive_interval, value, pspec);
        break;
      case PROP_KEEPALIVE_PONG_TIMEOUT:
        set_uint_prop (self, &self->pong_timeout, value, pspec);
        break;
      case PROP_RING_TIMEOUT:
        set_uint_prop (self, &self->ring_timeout, value, pspec);
        break;
      case PROP_PTIME:
        if (sp_account_ptime_is_valid (g_value_get_uint (value)))
          set_uint_prop (self, &self->ptime, value, pspec);
        else
          g_warning ("ptime %u: not 0, 10, 20, 30 or 40", g_value_get_uint (value));
        break;
      case PROP_MEDIA_ENCRYPTION:
        {
          SpMediaEncryption e;
          if (!sp_media_encryption_from_string (g_value_get_string (value), &e))
            g_warning ("media-encryption %s: not required, preferred or off",
                       g_value_get_string (value) ? g_value_get_string (value) : "(null)");
          else if (e != self->media_encryption)
            {
              self->media_encryption = e;
              g_object_notify_by_pspec (object, pspec);
            }
        }
        break;
      case PROP_MAX_INCOMING_CALLS:
        set_uint_prop (self, &self->max_incoming, value, pspec);
        break;
      case PROP_MAX_INCOMING_CALLS_PER_SOURCE:
        set_uint_prop (self, &self->max_incoming_per_source, value, pspec);
        break;
      case PROP_ECHO_CANCELLATION:
        set_boolean_prop (self, &self->echo_cancellation, value, pspec);
        break;
      case PROP_REFUSE_STRANGERS:
        set_boolean_prop (self, &self->refuse_strangers, value, pspec);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sp_phone_class_init (SpPhoneClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = sp_phone_dispose;
  object_class->finalize = sp_phone_finalize;
  object_class->get_property = sp_phone_get_property;
  object_class->set_property = sp_phone_set_property;

  props[PROP_DO_NOT_DISTURB] = g_param_spec_boolean ("do-not-disturb", NULL, NULL, FALSE, rw);
  props[PROP_DISPLAY_NAME] = g_param_spec_string ("display-name", NULL, NULL, NULL, rw);
  props[PROP_USER] = g_param_spec_string ("user", NULL, NULL, NULL, rw);
  props[PROP_MEDIA_TIMEOUT] = g_param_spec_uint ("media-timeout", NULL, NULL, 0, 86400, 30, rw);
  /* Peers that send keys as tones in the audio (no RFC 4733) are heard
   * too; a key that comes both ways is reported once. Takes effect for
   * calls whose media starts or changes after it is set. */
  props[PROP_DETECT_INBAND_DTMF] =
      g_param_spec_boolean ("detect-inband-dtmf", NULL, NULL, TRUE, rw);
  /* Echo cancellation, noise suppression and automatic gain on the
   * microphone (SpMediaParams.echo_cancellation), for calls whose media
   * starts or changes after it is set. */
  props[PROP_ECHO_CANCELLATION] = g_param_spec_boolean ("echo-cancellation", NULL, NULL, TRUE, rw);
  props[PROP_AUDIO_IN] = g_param_spec_string ("audio-in", NULL, NULL, NULL, rw);
  props[PROP_AUDIO_OUT] = g_param_spec_string ("audio-out", NULL, NULL, NULL, rw);
  props[PROP_LOG_SIP] = g_param_spec_boolean ("log-sip", NULL, NULL, FALSE, rw);
  /* Off: digest responses and other credentials are masked in what the
   * SIP log records and --log-sip prints (sp_sip_log_mask_credentials). */
  props[PROP_LOG_SIP_RAW] = g_param_spec_boolean ("log-sip-raw", NULL, NULL, FALSE, rw);
  /* Off when nothing shows the SIP log (headless): the transport then
   * builds nothing per message for it. */
  props[PROP_RECORD_SIP] = g_param_spec_boolean ("record-sip", NULL, NULL, TRUE, rw);
  props[PROP_SIP_T1] = g_param_spec_uint ("sip-t1", NULL, NULL, 10, 10000, 500, rw);
  props[PROP_KEEPALIVE_INTERVAL] =
      g_param_spec_uint ("keepalive-interval", NULL, NULL, 0, 3600, 30, rw);
  props[PROP_KEEPALIVE_PONG_TIMEOUT] =
      g_param_spec_uint ("keepalive-pong-timeout", NULL, NULL, 0, 60000, 10000, rw);
  props[PROP_PTIME] = g_param_spec_uint ("ptime", NULL, NULL, 0, 40, 0, rw);
  props[PROP_MEDIA_ENCRYPTION] =
      g_param_spec_string ("media-encryption", NULL, NULL, "preferred", rw);
  props[PROP_RING_TIMEOUT] =
      g_param_spec_uint ("ring-timeout", NULL, NULL, 0, 3600, SP_PHONE_DEFAULT_RING_TIMEOUT, rw);
  props[PROP_MAX_INCOMING_CALLS] = g_param_spec_uint ("max-incoming-calls", NULL, NULL, 1, 1000,
                                                      SP_PHONE_DEFAULT_MAX_INCOMING, rw);
  props[PROP_MAX_INCOMING_CALLS_PER_SOURCE] =
      g_param_spec_uint ("max-incoming-calls-per-source", NULL, NULL, 1, 1000,
                         SP_PHONE_DEFAULT_MAX_INCOMING_PER_SOURCE, rw);
  props[PROP_REFUSE_STRANGERS] = g_param_spec_boolean ("refuse-strangers", NULL, NULL, FALSE, rw);
  g_object_class_install_properties (object_class, N_PROPS, props);

  signals[SIGNAL_INCOMING_CALL] =
      g_signal_new ("incoming-call", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, SP_TYPE_CALL);
  signals[SIGNAL_CALL_ADDED] =
      g_signal_new ("call-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 1, SP_TYPE_CALL);
  signals[SIGNAL_CALL_ENDED] =
      g_signal_new ("call-ended", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 1, SP_TYPE_CALL);
  signals[SIGNAL_REGISTRATION_CHANGED] =
      g_signal_new ("registration-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                    NULL, NULL, G_TYPE_NONE, 2, SP_TYPE_ACCOUNT, G_TYPE_UINT);
}

static void
sp_phone_init (SpPhone *self)
{
  self->accounts = g_list_store_new (SP_TYPE_ACCOUNT);
  self->calls = g_list_store_new (SP_TYPE_CALL);
  self->registrations =
      g_hash_table_new_full (NULL, NULL, g_object_unref, (GDestroyNotify) sp_registration_free);
  self->credentials =
      g_hash_table_new_full (NULL, NULL, g_object_unref, (GDestroyNotify) sp_credentials_unref);
  self->media_timeout = 30;
  self->detect_inband_dtmf = TRUE;
  self->echo_cancellation = TRUE;
  self->sip_t1 = 500;
  self->keepalive_interval = 30;
  self->pong_timeout = 10000;
  self->ring_timeout = SP_PHONE_DEFAULT_RING_TIMEOUT;
  self->max_incoming = SP_PHONE_DEFAULT_MAX_INCOMING;
  self->max_incoming_per_source = SP_PHONE_DEFAULT_MAX_INCOMING_PER_SOURCE;
  self->sip_log = sp_sip_log_new (SIP_LOG_MAX_ENTRIES);
  self->record_sip = TRUE;
  self->next_call_id = 1;
}

SpPhone *
sp_phone_new (const char *config_dir, const char *state_dir)
{
  SpPhone *self = g_object_new (SP_TYPE_PHONE, NULL);

  self->config_dir = g_strdup (config_dir);
  self->state_dir = g_strdup (state_dir);
  self->history = sp_history_new (state_dir, SP_HISTORY_MAX_DEFAULT);
  self->tls_port = -1;
  self->tls = sp_phone_tls_new (config_dir);
  return self;
}

/* ---- SIP ---------------------------------------------------------------- */

/* Every message on the wire, from the transport itself: automatic ACKs,
 * 100 Trying, retransmissions and unparsable datagrams included. */
static void
on_transport_message (SpSipTransport *transport, const SpSipTransportEvent *event,
                      gpointer user_data)
{
  SpPhone *self = user_data;
  gboolean sent = event->direction == SP_SIP_DIRECTION_SENT;
  g_autofree char *local = sp_sip_host_port_to_string (event->local.host, event->local.port);
  g_autofree char *remote = sp_sip_host_port_to_string (event->remote.host, event->remote.port);
  g_autoptr (SpSipLogEntry) entry = NULL;
  g_autofree char *masked = NULL;
  const char *data = (const char *) event->data;
  gsize len = event->len;

  /* Logs end up in bug reports: a digest response lets anyone who reads
   * one guess the password offline, so it is masked unless asked for. */
  if (!self->log_sip_raw)
    {
      masked = sp_sip_log_mask_credentials (data, len, &len);
      data = masked;
    }
  if (self->record_sip)
    {
      entry = sp_sip_log_entry_new (
          g_get_real_time (), sent ? SP_SIP_LOG_DIRECTION_SENT : SP_SIP_LOG_DIRECTION_RECEIVED,
          sent ? local : remote, sent ? remote : local, data, len);
      sp_sip_log_append (self->sip_log, entry);
    }
  if (self->log_sip)
    {
      /* stderr is for logs; SIP traces go there whole, as sngrep would
       * show them, with credentials masked (above). */
      g_autofree char *text = g_utf8_make_valid (data, (gssize) len);
      g_printerr ("----- SIP %s %s %s -> %s%s -----\n%s%s", sent ? "sent" : "received",
                  sp_sip_transport_kind_to_string (event->remote.kind), sent ? local : remote,
                  sent ? remote : local, event->msg == NULL ? " (unparsable)" : "", text,
                  g_str_has_suffix (text, "\n") ? "" : "\n");
    }
}

/* The transport formats nothing for its "message" signal while no
 * handler is connected, so connect only while the log or --log-sip
 * wants the wire: a busy server then pays nothing for it. */
static void
update_wire_hook (SpPhone *self)
{
  gboolean wanted = self->record_sip || self->log_sip;
  SpSipTransport *transport;

  if (self->stack == NULL)
    return;
  transport = sp_sip_stack_get_transport (self->stack);
  if (wanted && self->wire_handler == 0)
    self->wire_handler =
        g_signal_connect (transport, "message", G_CALLBACK (on_transport_message), self);
  else if (!wanted && self->wire_handler != 0)
    g_clear_signal_handler (&self->wire_handler, transport);
}

static SpCall *
find_call_by_call_id (SpPhone *self, const char *call_id)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->calls));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (SpCall) call = g_list_model_get_item (G_LIST_MODEL (self->calls), i);
      if (sp_call_get_state (call) != SP_CALL_STATE_ENDED &&
          g_strcmp0 (sp_call_get_sip_call_id (call), call_id) == 0)
        return call;
    }
  return NULL;
}

static SpCall *
add_call (SpPhone *self, SpCallDirection direction, const char *peer, const char *display,
          SpAccount *account, const char *call_id)
{
  g_autofree char *id = g_strdup_printf ("%u", self->next_call_id++);
  g_autoptr (SpCall) call = sp_call_new (id, direction, peer, display, account, call_id);

  /* The store takes its own reference; ours goes (every call leaked). */
  g_list_store_append (self->calls, call);
  if (direction == SP_CALL_DIRECTION_INCOMING)
    g_signal_emit (self, signals[SIGNAL_CALL_ADDED], 0, call);
  return call; /* the store holds the reference */
}

/* Seconds a caller turned away by a limit is asked to wait. */
#define REFUSED_RETRY_AFTER "30"

static gboolean
same_host (const char *a, const char *b)
{
  g_autoptr (GInetAddress) x = g_inet_address_new_from_string (a);
  g_autoptr (GInetAddress) y = g_inet_address_new_from_string (b);

  return x != NULL && y != NULL && g_inet_address_equal (x, y);
}

/* The account whose registrar or proxy is at @source's address (any
 * port: a server may send from another one, or over TCP), or NULL. */
static SpCredentials *
credentials_for_source (SpPhone *self, const SpSipPeer *source)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->accounts));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (SpAccount) a = g_list_model_get_item (G_LIST_MODEL (self->accounts), i);
      SpCredentials *c;

      if (!sp_account_get_enabled (a))
        continue;
      c = sp_phone_get_credentials (self, a);
      if (sp_credentials_is_own_server_host (c, source->host))
        return c;
    }
  return NULL;
}

static void
refuse_incoming (SpPhone *self, SpSipServerTransaction *st, guint status, const char *reason,
                 const char *why)
{
  g_autoptr (SpSipMessage) response = sp_sip_server_transaction_new_response (st, status, reason);
  const SpSipPeer *source = sp_sip_server_transaction_get_source (st);

  if (status != 403)
    sp_sip_message_set_header (response, "Retry-After", REFUSED_RETRY_AFTER, NULL);
  sp_sip_stack_respond (self->stack, st, response, NULL);
  /* Sent once and forgotten (RFC 3261 26.3.2.4): a flood gets one answer
   * per INVITE it sent, not a train of retransmissions, and leaves no
   * transaction behind; a retransmitted INVITE is simply answered again. */
  sp_sip_server_transaction_drop (st);
  /* One line per power of two: a flood must not flood the log too. */
  self->refused_incoming++;
  if ((self->refused_incoming & (self->refused_incoming - 1)) == 0)
    g_message ("Incoming call from %s refused (%u): %s (%" G_GUINT64_FORMAT " so far)",
               source->host, status, why, self->refused_incoming);
}

/* Caps on calls coming in at once, in all and from one address, so
 * that INVITEs that are never cancelled cannot pile up (each one rings
 * until the ring timeout); and, if the user asked, calls from anyone but
 * the accounts' own servers. TRUE when the call may ring. */
static gboolean
admit_incoming (SpPhone *self, SpSipServerTransaction *st, SpCredentials *from_server)
{
  const SpSipPeer *source = sp_sip_server_transaction_get_source (st);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->calls));
  guint total = 0, same_source = 0;

  if (self->refuse_strangers && from_server == NULL)
    {
      refuse_incoming (self, st, 403, "Calls from strangers are refused",
                       "not one of our accounts' servers");
      return FALSE;
    }
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (SpCall) call = g_list_model_get_item (G_LIST_MODEL (self->calls), i);
      const SpSipPeer *from = sp_call_get_source (call);

      if (from == NULL || sp_call_get_state (call) == SP_CALL_STATE_ENDED)
        continue;
      total++;
      if (same_host (from->host, source->host))
        same_source++;
    }
  if (same_source >= self->max_incoming_per_source)
    {
      refuse_incoming (self, st, 486, NULL, "too many calls from that address");
      return FALSE;
    }
  if (total >= self->max_incoming)
    {
      refuse_incoming (self, st, 503, NULL, "too many incoming calls");
      return FALSE;
    }
  return TRUE;
}

static void
incoming_invite (SpPhone *self, SpSipServerTransaction *st, SpSipMessage *request)
{
  const SpSipNameAddr *from = sp_sip_message_get_from (request);
  SpCredentials *from_server =
      credentials_for_source (self, sp_sip_server_transaction_get_source (st));
  g_autofree char *peer = NULL;
  SpCall *call;

  if (!admit_incoming (self, st, from_server))
    return;
  peer = sp_sip_uri_to_string (from->uri);
  call = add_call (self, SP_CALL_DIRECTION_INCOMING, peer, from->display_name, NULL,
                   sp_sip_message_get_call_id (request));
  g_object_ref (call);
  /* Known before anyone hears of the call: the incoming event, the
   * window's row and the ring all say what protects it. */
  if (sp_sip_server_transaction_get_source (st)->kind == SP_SIP_TRANSPORT_TLS)
    sp_call_update_protection (call, SP_CALL_PROTECTION_TLS, 0);
  if (!self->dnd)
    g_signal_emit (self, signals[SIGNAL_INCOMING_CALL], 0, call);
  sp_call_start_incoming (call, self, st, request, self->dnd, from_server);
  g_object_unref (call);
}

/* A dialog of the server sharing our stack has the Call-ID of one of our
 * calls when that call goes through it: its ACKs are not ours. */
static gboolean
phone_filter_owns_dialog (SpPhone *self, SpSipDialog *dialog)
{
  return self->filter.owns_dialog != NULL && self->filter.owns_dialog (dialog, self->filter_data);
}

static gboolean
on_stack_request (SpSipStack *stack, SpSipServerTransaction *st, SpSipMessage *request,
                  SpSipDialog *dialog, gpointer user_data)
{
  SpPhone *self = user_data;
  SpCall *call;

  if (self->filter.request != NULL && self->filter.request (st, request, dialog, self->filter_data))
    return TRUE;
  if (self->shutdown_task != NULL)
    return FALSE;
  if (self->contacts != NULL &&
      sp_contact_list_handle_request (self->contacts, st, request, dialog))
    return TRUE;
  if (dialog != NULL)
    {
      call = find_call_by_call_id (self, sp_sip_dialog_get_call_id (dialog));
      return call != NULL && sp_call_handle_request (call, st, request);
    }
  if (sp_sip_message_get_method_id (request) == SP_SIP_METHOD_INVITE)
    {
      incoming_invite (self, st, request);
      return TRUE;
    }
  /* Otherwise the stack's default answers apply (OPTIONS 200, 405/501). */
  return FALSE;
}

static void
on_stack_ack (SpSipStack *stack, SpSipMessage *ack, SpSipDialog *dialog, gpointer user_data)
{
  SpPhone *self = user_data;
  SpCall *call;

  if (phone_filter_owns_dialog (self, dialog))
    return;
  call = find_call_by_call_id (self, sp_sip_dialog_get_call_id (dialog));

  if (call != NULL)
    sp_call_handle_ack (call, ack);
}

static void
on_stack_ack_timeout (SpSipStack *stack, SpSipDialog *dialog, gpointer user_data)
{
  SpPhone *self = user_data;
  SpCall *call;

  if (phone_filter_owns_dialog (self, dialog))
    return;
  call = find_call_by_call_id (self, sp_sip_dialog_get_call_id (dialog));

  if (call != NULL)
    sp_call_handle_ack_timeout (call);
}

static void
on_connection_closed (SpSipTransport *transport, const SpSipPeer *remote, gpointer user_data)
{
  SpPhone *self = user_data;
  GHashTableIter iter;
  gpointer reg;

  g_hash_table_iter_init (&iter, self->registrations);
  while (g_hash_table_iter_next (&iter, NULL, &reg))
    sp_registration_connection_closed (reg, remote);
}

/* A pong to one of our CRLF pings: that flow is alive. */
static void
on_keepalive (SpSipTransport *transport, const SpSipPeer *remote, gboolean ping, gpointer user_data)
{
  SpPhone *self = user_data;
  GHashTableIter iter;
  gpointer reg;

  g_hash_table_iter_init (&iter, self->registrations);
  while (g_hash_table_iter_next (&iter, NULL, &reg))
    sp_registration_keepalive_received (reg, remote, ping);
}

static gboolean
network_settled (gpointer data)
{
  SpPhone *self = data;
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->accounts));

  self->network_timer = 0;
  /* Registered and failed accounts alike: our address or route may have
   * changed under the binding, or the server may be reachable now. */
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (SpAccount) a = g_list_model_get_item (G_LIST_MODEL (self->accounts), i);
      SpAccountStatus status = sp_account_get_status (a);

      if (status == SP_ACCOUNT_STATUS_REGISTERED || status == SP_ACCOUNT_STATUS_FAILED)
        {
          g_message ("Network changed: registering %s again", sp_account_get_username (a));
          sp_phone_register (self, a);
        }
    }
  return G_SOURCE_REMOVE;
}

static void
on_network_changed (GNetworkMonitor *monitor, gboolean available, gpointer user_data)
{
  SpPhone *self = user_data;

  /* A change comes as a burst of signals (routes, addresses): act once
   * it settles, and only with a network to register over. */
  g_clear_handle_id (&self->network_timer, g_source_remove);
  if (available)
    self->network_timer = g_timeout_add (NETWORK_SETTLE_MS, network_settled, self);
}

/* TLS beside UDP and TCP, on the SIP port + 1 unless told otherwise. A
 * TLS listener that cannot start leaves the phone working without it
 * (and TLS to servers still works): said in the log, and the TLS port
 * reads 0. */
static void
start_tls (SpPhone *self, const char *host, guint16 sip_port)
{
  g_autoptr (GError) error = NULL;
  guint port = self->tls_port < 0 ? sip_port + 1u : (guint) self->tls_port;

  if (self->tls_port < 0 && port > G_MAXUINT16)
    port = 0;
  if (!sp_phone_tls_start (self->tls, self->stack, host, (guint16) port, &error))
    g_warning ("No TLS listener on port %u: %s", port, error->message);
}

void
sp_phone_set_tls_port (SpPhone *self, int port)
{
  g_return_if_fail (SP_IS_PHONE (self));
  self->tls_port = CLAMP (port, -1, G_MAXUINT16);
}

guint16
sp_phone_get_tls_port (SpPhone *self)
{
  g_return_val_if_fail (SP_IS_PHONE (self), 0);
  return sp_phone_tls_get_port (self->tls);
}

const char *
sp_phone_get_tls_fingerprint (SpPhone *self)
{
  g_return_val_if_fail (SP_IS_PHONE (self), NULL);
  return sp_phone_tls_get_fingerprint (self->tls);
}

/* Kept, not made per call: the fingerprint (and so the four words two
 * phones read) stays the same from call to call, so a changed word is
 * noticed even by people who stopped reading all four; the media keys
 * are fresh each call all the same (ECDHE), so keeping the certificate
 * costs no forward secrecy. A key file that leaks lets its thief pose
 * as this phone until it is deleted (a new one is made then). */
SpSipTlsIdentity *
sp_phone_get_dtls_identity (SpPhone *self)
{
  const char *names[] = { "softphone", NULL };
  g_autoptr (GError) error = NULL;

  g_return_val_if_fail (SP_IS_PHONE (self), NULL);
  if (self->dtls_identity != NULL)
    return self->dtls_identity;
  if (self->config_dir != NULL)
    {
      gboolean created = FALSE;
      self->dtls_identity = sp_sip_tls_identity_load_or_create_named (self->config_dir, "dtls",
                                                                      names, &created, &error);
      if (self->dtls_identity != NULL && created)
        g_message ("DTLS-SRTP: made this phone's certificate, SHA-256 %s",
                   sp_sip_tls_identity_get_fingerprint (self->dtls_identity));
      if (self->dtls_identity == NULL)
        g_warning ("DTLS-SRTP: %s; using a certificate for this run only", error->message);
    }
  if (self->dtls_identity == NULL)
    self->dtls_identity = sp_sip_tls_identity_new_ephemeral (names, NULL);
  return self->dtls_identity;
}

gboolean
sp_phone_accept_certificate (SpPhone *self, const char *hostport, const char *fingerprint,
                             GError **error)
{
  g_return_val_if_fail (SP_IS_PHONE (self), FALSE);
  if (!sp_pin_store_accept (sp_phone_tls_get_pins (self->tls), hostport, fingerprint, error))
    return FALSE;
  g_message ("TLS: accepted the certificate of %s (SHA-256 %s)", hostport,
             sp_pin_store_lookup (sp_phone_tls_get_pins (self->tls), hostport));
  return TRUE;
}

void
sp_phone_expect_certificate (SpPhone *self, const char *hostport, const char *fingerprint,
                             const char *who)
{
  g_return_if_fail (SP_IS_PHONE (self));
  sp_phone_tls_expect (self->tls, hostport, fingerprint, who);
}

/* libsrtp sets itself up (and self-tests its ciphers) on first use; done
 * on the first call's keys, that cost a second of silence under the
 * sanitizers. A thread of its own does it at start: the main loop never
 * waits for it, and the thread ends at once. */
static gpointer
warm_media_crypto (gpointer data)
{
  guint8 key[SP_SRTP_MAX_KEY_LEN] = { 0 };

  sp_srtp_free (sp_srtp_new (SP_SRTP_AES_CM_128_HMAC_SHA1_80, key,
                             sp_srtp_suite_key_length (SP_SRTP_AES_CM_128_HMAC_SHA1_80), key,
                             sp_srtp_suite_key_length (SP_SRTP_AES_CM_128_HMAC_SHA1_80), NULL));
  return NULL;
}

gboolean
sp_phone_start (SpPhone *self, const char *host, guint16 port, GError **error)
{
  SpSipPeer bound;

  g_return_val_if_fail (SP_IS_PHONE (self), FALSE);
  g_return_val_if_fail (self->stack == NULL, FALSE);

  if (!sp_history_load (self->history, NULL))
    g_message ("Call history not loaded");
  g_thread_unref (g_thread_new ("srtp-init", warm_media_crypto, NULL));

  {
    SpSipTimerSettings timers;

    /* T2, T4 and Timer D keep their RFC values; T1 scales A, B, E, F, H,
     * J (a slow link wants more, tests want less). */
    sp_sip_timer_settings_init (&timers);
    timers.t1 = self->sip_t1;
    self->stack = sp_sip_stack_new (NULL, &timers);
  }
  sp_sip_stack_set_user_agent (self->stack, "Softphone");
  g_signal_connect (self->stack, "request", G_CALLBACK (on_stack_request), self);
  update_wire_hook (self);
  g_signal_connect (sp_sip_stack_get_transport (self->stack), "connection-closed",
                    G_CALLBACK (on_connection_closed), self);
  g_signal_connect (sp_sip_stack_get_transport (self->stack), "keepalive",
                    G_CALLBACK (on_keepalive), self);
  g_signal_connect (self->stack, "ack", G_CALLBACK (on_stack_ack), self);
  g_signal_connect (self->stack, "ack-timeout", G_CALLBACK (on_stack_ack_timeout), self);
  if (!sp_sip_stack_listen (self->stack, SP_SIP_TRANSPORT_UDP, host, port, &bound, error))
    {
      self->wire_handler = 0;
      g_clear_object (&self->stack);
      return FALSE;
    }
  /* TCP on the same port as UDP, as RFC 3261 expects of one SIP address. */
  if (!sp_sip_stack_listen (self->stack, SP_SIP_TRANSPORT_TCP, host, bound.port, NULL, error))
    {
      self->wire_handler = 0;
      g_clear_object (&self->stack);
      return FALSE;
    }
  self->local_host = g_strdup (bound.host);
  self->local_port = bound.port;
  start_tls (self, host, bound.port);
  self->network_monitor = g_object_ref (g_network_monitor_get_default ());
  g_signal_connect (self->network_monitor, "network-changed", G_CALLBACK (on_network_changed),
                    self);
  if (sp_phone_tls_get_port (self->tls) != 0)
    g_message ("SIP on %s:%u (UDP and TCP), TLS on %u", self->local_host, self->local_port,
               sp_phone_tls_get_port (self->tls));
  else
    g_message ("SIP on %s:%u (UDP and TCP)", self->local_host, self->local_port);
  return TRUE;
}

char *
sp_phone_dup_sip_address (SpPhone *self)
{
  g_return_val_if_fail (SP_IS_PHONE (self), NULL);
  if (self->local_host == NULL)
    return NULL;
  return sp_sip_host_port_to_string (self->local_host, self->local_port);
}

gboolean
sp_phone_get_local_address (SpPhone *self, const char **host, guint16 *port)
{
  g_return_val_if_fail (SP_IS_PHONE (self), FALSE);
  if (self->local_host == NULL)
    return FALSE;
  if (host != NULL)
    *host = self->local_host;
  if (port != NULL)
    *port = self->local_port;
  return TRUE;
}

/* ---- accounts ----------------------------------------------------------- */

GListModel *
sp_phone_get_accounts (SpPhone *self)
{
  g_return_val_if_fail (SP_IS_PHONE (self), NULL);
  return G_LIST_MODEL (self->accounts);
}

gboolean
sp_phone_load_accounts (SpPhone *self, GError **error)
{
  g_autoptr (GPtrArray) accounts = NULL;

  g_return_val_if_fail (SP_IS_PHONE (self), FALSE);
  accounts = sp_settings_load_accounts (self->config_dir, error);
  if (accounts == NULL)
    return FALSE;
  g_list_store_splice (self->accounts, 0, g_list_model_get_n_items (G_LIST_MODEL (self->accounts)),
                       accounts->pdata, accounts->len);
  return TRUE;
}

gboolean
sp_phone_save_accounts (SpPhone *self, GError **error)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->accounts));
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func (g_object_unref);

  g_return_val_if_fail (SP_IS_PHONE (self), FALSE);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (list, g_list_model_get_item (G_LIST_MODEL (self->accounts), i));
  return sp_settings_save_accounts (self->config_dir, (SpAccount *const *) list->pdata, list->len,
                                    error);
}

void
sp_phone_add_account (SpPhone *self, SpAccount *account)
{
  g_return_if_fail (SP_IS_PHONE (self));
  g_return_if_fail (SP_IS_ACCOUNT (account));
  g_list_store_append (self->accounts, account);
}

void
sp_phone_remove_account (SpPhone *self, SpAccount *account)
{
  guint pos;

  g_return_if_fail (SP_IS_PHONE (self));
  if (g_list_store_find (self->accounts, account, &pos))
    {
      sp_phone_unregister (self, account);
      /* Calls and BYEs still out keep their own reference. */
      g_hash_table_remove (self->credentials, account);
      g_list_store_remove (self->accounts, pos);
    }
}

static gboolean
account_should_register (SpAccount *account)
{
  return sp_account_get_enabled (account) && sp_account_has_credentials (account) &&
         sp_account_validate (account, NULL);
}

static void
on_registration (SpRegistration *reg, SpAccount *account, guint code, gpointer user_data)
{
  SpPhone *self = user_data;

  if (sp_account_get_status (account) != SP_ACCOUNT_STATUS_REGISTERING)
    g_signal_emit (self, signals[SIGNAL_REGISTRATION_CHANGED], 0, account, code);
  if (self->contacts != NULL && account == self->contacts_account &&
      sp_account_get_status (account) == SP_ACCOUNT_STATUS_REGISTERED)
    sp_contact_list_registered (self->contacts);
  if (sp_account_get_status (account) == SP_ACCOUNT_STATUS_REGISTERED && self->stack != NULL)
    account_registered (self, account);
}

void
sp_phone_register (SpPhone *self, SpAccount *account)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->accounts));

  g_return_if_fail (SP_IS_PHONE (self));
  if (self->stack == NULL || self->shutdown_task != NULL)
    return;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (SpAccount) a = g_list_model_get_item (G_LIST_MODEL (self->accounts), i);
      SpRegistration *reg;

      if ((account != NULL && a != account) || !account_should_register (a))
        continue;
      reg = g_hash_table_lookup (self->registrations, a);
      if (reg == NULL)
        {
          reg = sp_registration_new (self->stack, sp_phone_get_credentials (self, a),
                                     on_registration, self);
          sp_registration_set_keepalive_interval (reg, self->keepalive_interval);
          sp_registration_set_pong_timeout (reg, self->pong_timeout);
          g_hash_table_insert (self->registrations, g_object_ref (a), reg);
        }
      sp_registration_start (reg);
    }
}

void
sp_phone_unregister (SpPhone *self, SpAccount *account)
{
  GHashTableIter iter;
  gpointer key, value;

  g_return_if_fail (SP_IS_PHONE (self));
  g_hash_table_iter_init (&iter, self->registrations);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (account == NULL || key == account)
      sp_registration_stop (value);
}

/* ---- calls -------------------------------------------------------------- */

GListModel *
sp_phone_get_calls (SpPhone *self)
{
  g_return_val_if_fail (SP_IS_PHONE (self), NULL);
  return G_LIST_MODEL (self->calls);
}

SpCall *
sp_phone_find_call (SpPhone *self, const char *id)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->calls));

  g_return_val_if_fail (SP_IS_PHONE (self), NULL);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (SpCall) call = g_list_model_get_item (G_LIST_MODEL (self->calls), i);
      if (g_strcmp0 (sp_call_get_id (call), id) == 0)
        return call; /* the store keeps it alive */
    }
  return NULL;
}

/* The first account that can route a number: registered first, else any
 * enabled one with a server. */
static SpAccount *
default_account (SpPhone *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->accounts));
  SpAccount *fallback = NULL;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (SpAccount) a = g_list_model_get_item (G_LIST_MODEL (self->accounts), i);
      if (sp_account_get_status (a) == SP_ACCOUNT_STATUS_REGISTERED)
        return a;
      if (fallback == NULL && sp_account_get_enabled (a) && sp_account_get_server (a) != NULL)
        fallback = a;
    }
  return fallback;
}

SpCall *
sp_phone_call (SpPhone *self, const char *target_text, SpAccount *account, GError **error)
{
  g_autoptr (SpTarget) target = NULL;
  g_autoptr (SpSipNameAddr) from = NULL;
  g_autofree char *peer = NULL;
  g_autofree char *local = NULL;
  SpCall *call;

  g_return_val_if_fail (SP_IS_PHONE (self), NULL);
  if (self->stack == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                           _ ("The phone is not started"));
      return NULL;
    }
  if (account == NULL)
    account = default_account (self);
  target = sp_target_parse (target_text, account, error);
  if (target == NULL)
    return NULL;
  local = sp_phone_dup_local_host_towards (self, target->next_hop_host);
  from = sp_target_make_from (target->account, self->display_name, self->user, local,
                              self->local_port);
  if (from == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                           _ ("Cannot build our From address"));
      return NULL;
    }
  sp_phone_hold_others (self, NULL);
  peer = sp_sip_uri_to_string (target->request_uri);
  call = add_call (self, SP_CALL_DIRECTION_OUTGOING, peer, NULL, target->account, NULL);
  if (!sp_call_start_outgoing (call, self, target, from, error))
    {
      sp_call_end (call, error && *error ? (*error)->message : N_ ("Cannot send INVITE"), 0);
      return NULL;
    }
  /* Outgoing calls are announced once their INVITE (and Call-ID) exist. */
  g_signal_emit (self, signals[SIGNAL_CALL_ADDED], 0, call);
  return call;
}

void
sp_phone_hold_others (SpPhone *self, SpCall *except)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->calls));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (SpCall) call = g_list_model_get_item (G_LIST_MODEL (self->calls), i);
      if (call != except && sp_call_get_state (call) == SP_CALL_STATE_ESTABLISHED)
        sp_call_hold (call, NULL);
    }
}

gboolean
sp_phone_answer (SpPhone *self, SpCall *call, GError **error)
{
  g_return_val_if_fail (SP_IS_PHONE (self), FALSE);
  if (sp_call_get_state (call) == SP_CALL_STATE_INCOMING)
    sp_phone_hold_others (self, call);
  return sp_call_answer (call, error);
}

SpSipLog *
sp_phone_get_sip_log (SpPhone *self)
{
  g_return_val_if_fail (SP_IS_PHONE (self), NULL);
  return self->sip_log;
}

SpHistory *
sp_phone_get_history (SpPhone *self)
{
  g_return_val_if_fail (SP_IS_PHONE (self), NULL);
  return self->history;
}

/* ---- shutdown ----------------------------------------------------------- */

static void
finish_shutdown (SpPhone *self)
{
  g_autoptr (GTask) task = g_steal_pointer (&self->shutdown_task);

  g_clear_handle_id (&self->shutdown_timer, g_source_remove);
  if (task != NULL)
    g_task_return_boolean (task, TRUE);
}

/* Un-REGISTERs still waiting for their answer. */
static gboolean
has_pending_work (SpPhone *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->accounts));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (SpAccount) a = g_list_model_get_item (G_LIST_MODEL (self->accounts), i);
      if (sp_account_get_status (a) == SP_ACCOUNT_STATUS_REGISTERED ||
          sp_account_get_status (a) == SP_ACCOUNT_STATUS_REGISTERING)
        return TRUE;
    }
  return FALSE;
}

static gboolean
shutdown_poll (gpointer data)
{
  SpPhone *self = data;
  gint64 started = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (self), "sp-shutdown-start"));
  gint64 elapsed = g_get_monotonic_time () / 1000 - started;

  /* A short grace lets BYEs and CANCELs leave and, on a LAN, be answered;
   * un-REGISTERs are waited for, within a bound. */
  if ((elapsed >= 200 && !has_pending_work (self)) || elapsed > SHUTDOWN_TIMEOUT_MS)
    {
      self->shutdown_timer = 0;
      finish_shutdown (self);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

void
sp_phone_shutdown_async (SpPhone *self, GCancellable *cancellable, GAsyncReadyCallback callback,
                         gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->calls));

  g_task_set_source_tag (task, sp_phone_shutdown_async);
  if (self->shutdown_task != NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING, _ ("Already shutting down"));
      return;
    }
  self->shutdown_task = g_steal_pointer (&task);
  for (guint i = n; i > 0; i--)
    {
      g_autoptr (SpCall) call = g_list_model_get_item (G_LIST_MODEL (self->calls), i - 1);
      if (sp_call_get_state (call) != SP_CALL_STATE_ENDED)
        sp_call_hangup (call, NULL);
    }
  sp_phone_unregister (self, NULL);
  if (self->stack == NULL)
    {
      finish_shutdown (self);
      return;
    }
  g_object_set_data (G_OBJECT (self), "sp-shutdown-start",
                     GSIZE_TO_POINTER ((gsize) (g_get_monotonic_time () / 1000)));
  self->shutdown_timer = g_timeout_add (50, shutdown_poll, self);
}

gboolean
sp_phone_shutdown_finish (SpPhone *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- for calls ---------------------------------------------------------- */

char *
sp_phone_dup_local_host_towards (SpPhone *self, const char *remote_host)
{
  /* The media-address policy, shared with the server (routecache.h). */
  if (self->stack == NULL)
    return g_strdup (self->local_host);
  return sp_sip_route_cache_local_host_towards (sp_sip_stack_get_route_cache (self->stack),
                                                self->local_host, remote_host);
}

SpCredentials *
sp_phone_get_credentials (SpPhone *self, SpAccount *account)
{
  SpCredentials *credentials = g_hash_table_lookup (self->credentials, account);

  if (credentials == NULL)
    {
      credentials = sp_account_credentials_new (account);
      g_hash_table_insert (self->credentials, g_object_ref (account), credentials);
    }
  return credentials;
}

SpSipStack *
sp_phone_get_stack (SpPhone *self)
{
  return self->stack;
}

/* The media thread starts with the first call that needs it, not with
 * the phone: an idle phone holds no thread (and no malloc arena of it).
 * NULL while the phone is not listening, as before. */
SpMediaEngine *
sp_phone_get_media_engine (SpPhone *self)
{
  if (self->media_engine == NULL && self->stack != NULL)
    self->media_engine = sp_media_engine_new ();
  return self->media_engine;
}

guint
sp_phone_get_ring_timeout (SpPhone *self)
{
  return self->ring_timeout;
}

guint
sp_phone_get_media_timeout (SpPhone *self)
{
  return self->media_timeout;
}

gboolean
sp_phone_get_detect_inband_dtmf (SpPhone *self)
{
  return self->detect_inband_dtmf;
}

gboolean
sp_phone_get_echo_cancellation (SpPhone *self)
{
  return self->echo_cancellation;
}

void
sp_phone_open_devices (SpPhone *self, SpAudioDevice **source, SpAudioDevice **sink)
{
  *source = sp_audio_device_new_for_name (self->audio_in, SP_AUDIO_SOURCE);
  *sink = sp_audio_device_new_for_name (self->audio_out, SP_AUDIO_SINK);
}

guint
sp_phone_get_ptime (SpPhone *self)
{
  return self->ptime;
}

SpMediaEncryption
sp_phone_get_media_encryption (SpPhone *self)
{
  return self->media_encryption;
}

const char *
sp_phone_get_audio_device_name (SpPhone *self, SpAudioDirection direction)
{
  return direction == SP_AUDIO_SOURCE ? self->audio_in : self->audio_out;
}

typedef struct
{
  SpPhone *phone; /* owns this */
  SpMediaSession *session;
  guint timer;
} ToneTail;

static void
tone_tail_free (gpointer data)
{
  ToneTail *t = data;

  g_clear_handle_id (&t->timer, g_source_remove);
  sp_media_session_stop (t->session); /* completes a WAV recording */
  sp_media_session_free (t->session);
  g_free (t);
}

static gboolean
tone_tail_done (gpointer data)
{
  ToneTail *t = data;

  t->timer = 0;
  g_ptr_array_remove_fast (t->phone->tone_tails, t);
  return G_SOURCE_REMOVE;
}

void
sp_phone_keep_tone (SpPhone *self, SpMediaSession *session, guint ms)
{
  ToneTail *t = g_new0 (ToneTail, 1);

  if (self->tone_tails == NULL)
    self->tone_tails = g_ptr_array_new_with_free_func (tone_tail_free);
  t->phone = self;
  t->session = session;
  t->timer = g_timeout_add (ms, tone_tail_done, t);
  g_ptr_array_add (self->tone_tails, t);
}

typedef struct
{
  GWeakRef phone; /* the phone may be gone before the timeout */
  SpCall *call;
} EndedCall;

static void
ended_call_free (gpointer data)
{
  EndedCall *e = data;

  g_weak_ref_clear (&e->phone);
  g_object_unref (e->call);
  g_free (e);
}

static gboolean
remove_ended_call (gpointer data)
{
  EndedCall *e = data;
  g_autoptr (SpPhone) self = g_weak_ref_get (&e->phone);
  guint pos;

  if (self != NULL && g_list_store_find (self->calls, e->call, &pos))
    g_list_store_remove (self->calls, pos);
  return G_SOURCE_REMOVE;
}

void
sp_phone_call_ended (SpPhone *self, SpCall *call)
{
  g_autoptr (SpCallRecord) record = sp_call_to_record (call);
  g_autoptr (GError) error = NULL;

  if (!sp_history_append (self->history, record, &error))
    g_message ("Call history not saved: %s", error->message);
  g_signal_emit (self, signals[SIGNAL_CALL_ENDED], 0, call);
  /* Leave it in the list a moment so a UI can show how it ended. */
  {
    EndedCall *e = g_new0 (EndedCall, 1);

    g_weak_ref_init (&e->phone, self);
    e->call = g_object_ref (call);
    g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, 2, remove_ended_call, e, ended_call_free);
  }
}

void
sp_phone_set_request_filter (SpPhone *self, const SpPhoneRequestFilter *filter, gpointer user_data)
{
  g_return_if_fail (SP_IS_PHONE (self));

  if (filter != NULL)
    self->filter = *filter;
  else
    memset (&self->filter, 0, sizeof self->filter);
  self->filter_data = filter != NULL ? user_data : NULL;
}

SpSipStack *
sp_phone_get_sip_stack (SpPhone *self)
{
  g_return_val_if_fail (SP_IS_PHONE (self), NULL);

  return self->stack;
}

/* Ports after the wanted one that sp_phone_start_any_port tries before
 * asking the system for any free one. */
#define SP_PHONE_NEXT_PORTS 10
/* An ephemeral UDP port may be taken for TCP: a few draws. */
#define SP_PHONE_EPHEMERAL_TRIES 5

gboolean
sp_phone_start_any_port (SpPhone *self, const char *host, guint16 port, GError **error)
{
  g_autoptr (GError) first = NULL;

  g_return_val_if_fail (SP_IS_PHONE (self), FALSE);

  if (sp_phone_start (self, host, port, &first))
    return TRUE;
  if (port == 0 || !g_error_matches (first, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
    {
      g_propagate_error (error, g_steal_pointer (&first));
      return FALSE;
    }
  for (guint i = 1; i <= SP_PHONE_NEXT_PORTS + SP_PHONE_EPHEMERAL_TRIES; i++)
    {
      guint next = i <= SP_PHONE_NEXT_PORTS ? port + i : 0;
      g_autoptr (GError) local = NULL;

      if (next > G_MAXUINT16)
        continue;
      if (sp_phone_start (self, host, (guint16) next, &local))
        {
          g_message ("SIP port %u is taken by another program; using %u instead", port,
                     self->local_port);
          return TRUE;
        }
      if (!g_error_matches (local, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
    }
  g_propagate_error (error, g_steal_pointer (&first));
  return FALSE;
}

GListModel *
sp_phone_get_contacts (SpPhone *self)
{
  g_return_val_if_fail (SP_IS_PHONE (self), NULL);

  if (self->contacts == NULL && self->stack != NULL)
    self->contacts = sp_contact_list_new (self->stack);
  return G_LIST_MODEL (self->contacts);
}

gboolean
sp_phone_watch_contacts (SpPhone *self, SpAccount *account, GError **error)
{
  g_autofree char *host = NULL;
  g_autofree char *user = NULL;
  g_autofree char *from = NULL;
  g_autofree char *h = NULL;
  guint16 port = 0;

  g_return_val_if_fail (SP_IS_PHONE (self), FALSE);
  if (account == NULL && g_list_model_get_n_items (G_LIST_MODEL (self->accounts)) > 0)
    {
      g_autoptr (SpAccount) first = g_list_model_get_item (G_LIST_MODEL (self->accounts), 0);
      account = first; /* the list keeps its reference */
    }
  if (account == NULL || self->stack == NULL ||
      !sp_account_get_server_host_port (account, &host, &port))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           _ ("The directory needs an account with a server"));
      return FALSE;
    }
  sp_phone_get_contacts (self);
  user = g_uri_escape_string (sp_account_get_username (account), "!*'()&=+$,;?/", FALSE);
  h = sp_sip_host_port_to_string (host, 0);
  from = g_strdup_printf ("<sip:%s@%s>", user, h);
  g_set_object (&self->contacts_account, account);
  sp_contact_list_watch (self->contacts, sp_phone_get_credentials (self, account), host, port,
                         sp_account_transport_uri_param (sp_account_get_transport (account)), from,
                         sp_account_get_username (account));
  return TRUE;
}

void
sp_phone_unwatch_contacts (SpPhone *self)
{
  g_return_if_fail (SP_IS_PHONE (self));
  if (self->contacts != NULL)
    sp_contact_list_stop (self->contacts);
  g_clear_object (&self->contacts_account);
}
