#include "ua/call-private.h"

#include <gio/gio.h>
#include <string.h>

struct _SpCall
{
  GObject parent_instance;

  char *id;
  char *sip_call_id;
  SpCallDirection direction;
  SpCallState state;
  char *peer;
  char *peer_display_name;
  SpAccount *account;
  char *codec;
  gboolean muted;
  gboolean was_established;
  gint64 start_time;       /* wall clock, s: when the call began */
  gint64 established_time; /* monotonic, us; 0 = never */
  guint final_duration;
  char *end_reason;
  guint end_code;
};

G_DEFINE_TYPE (SpCall, sp_call, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_ID,
  PROP_STATE,
  PROP_PEER,
  PROP_PEER_DISPLAY_NAME,
  PROP_CODEC,
  PROP_MUTED,
  PROP_END_REASON,
  N_PROPS
};

enum
{
  SIGNAL_DTMF_RECEIVED,
  SIGNAL_ENDED,
  N_SIGNALS
};

static GParamSpec *props[N_PROPS];
static guint signals[N_SIGNALS];

static const GEnumValue state_values[] = {
  { SP_CALL_STATE_DIALING, "SP_CALL_STATE_DIALING", "dialing" },
  { SP_CALL_STATE_RINGING, "SP_CALL_STATE_RINGING", "ringing" },
  { SP_CALL_STATE_INCOMING, "SP_CALL_STATE_INCOMING", "incoming" },
  { SP_CALL_STATE_ESTABLISHED, "SP_CALL_STATE_ESTABLISHED", "established" },
  { SP_CALL_STATE_HELD, "SP_CALL_STATE_HELD", "held" },
  { SP_CALL_STATE_ENDED, "SP_CALL_STATE_ENDED", "ended" },
  { 0, NULL, NULL },
};

GType
sp_call_state_get_type (void)
{
  static gsize type = 0;

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("SpCallState", state_values));
  return type;
}

const char *
sp_call_state_to_string (SpCallState state)
{
  if ((guint) state < G_N_ELEMENTS (state_values) - 1)
    return state_values[state].value_nick;
  return "unknown";
}

static void
sp_call_finalize (GObject *object)
{
  SpCall *self = SP_CALL (object);

  g_free (self->id);
  g_free (self->sip_call_id);
  g_free (self->peer);
  g_free (self->peer_display_name);
  g_clear_object (&self->account);
  g_free (self->codec);
  g_free (self->end_reason);
  G_OBJECT_CLASS (sp_call_parent_class)->finalize (object);
}

static void
sp_call_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  SpCall *self = SP_CALL (object);

  switch (prop_id)
    {
      case PROP_ID:
        g_value_set_string (value, self->id);
        break;
      case PROP_STATE:
        g_value_set_enum (value, self->state);
        break;
      case PROP_PEER:
        g_value_set_string (value, self->peer);
        break;
      case PROP_PEER_DISPLAY_NAME:
        g_value_set_string (value, self->peer_display_name);
        break;
      case PROP_CODEC:
        g_value_set_string (value, self->codec);
        break;
      case PROP_MUTED:
        g_value_set_boolean (value, self->muted);
        break;
      case PROP_END_REASON:
        g_value_set_string (value, self->end_reason);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sp_call_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  SpCall *self = SP_CALL (object);

  switch (prop_id)
    {
      case PROP_MUTED:
        sp_call_set_muted (self, g_value_get_boolean (value));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sp_call_class_init (SpCallClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = sp_call_finalize;
  object_class->get_property = sp_call_get_property;
  object_class->set_property = sp_call_set_property;

  props[PROP_ID] = g_param_spec_string ("id", NULL, NULL, NULL, ro);
  props[PROP_STATE] =
      g_param_spec_enum ("state", NULL, NULL, SP_TYPE_CALL_STATE, SP_CALL_STATE_DIALING, ro);
  props[PROP_PEER] = g_param_spec_string ("peer", NULL, NULL, NULL, ro);
  props[PROP_PEER_DISPLAY_NAME] = g_param_spec_string ("peer-display-name", NULL, NULL, NULL, ro);
  props[PROP_CODEC] = g_param_spec_string ("codec", NULL, NULL, NULL, ro);
  props[PROP_MUTED] =
      g_param_spec_boolean ("muted", NULL, NULL, FALSE,
                            G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  props[PROP_END_REASON] = g_param_spec_string ("end-reason", NULL, NULL, NULL, ro);
  g_object_class_install_properties (object_class, N_PROPS, props);

  signals[SIGNAL_DTMF_RECEIVED] =
      g_signal_new ("dtmf-received", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 2, G_TYPE_CHAR, G_TYPE_STRING);
  signals[SIGNAL_ENDED] = g_signal_new ("ended", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                        NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
sp_call_init (SpCall *self)
{
  self->start_time = g_get_real_time () / G_USEC_PER_SEC;
}

SpCall *
sp_call_new (const char *id, SpCallDirection direction, const char *peer,
             const char *peer_display_name, SpAccount *account, const char *sip_call_id)
{
  SpCall *self = g_object_new (SP_TYPE_CALL, NULL);

  self->id = g_strdup (id);
  self->direction = direction;
  self->state =
      direction == SP_CALL_DIRECTION_INCOMING ? SP_CALL_STATE_INCOMING : SP_CALL_STATE_DIALING;
  self->peer = g_strdup (peer);
  self->peer_display_name = g_strdup (peer_display_name);
  self->account = account ? g_object_ref (account) : NULL;
  self->sip_call_id = g_strdup (sip_call_id);
  return self;
}

const char *
sp_call_get_id (SpCall *self)
{
  g_return_val_if_fail (SP_IS_CALL (self), NULL);
  return self->id;
}

const char *
sp_call_get_sip_call_id (SpCall *self)
{
  g_return_val_if_fail (SP_IS_CALL (self), NULL);
  return self->sip_call_id;
}

SpCallState
sp_call_get_state (SpCall *self)
{
  g_return_val_if_fail (SP_IS_CALL (self), SP_CALL_STATE_ENDED);
  return self->state;
}

SpCallDirection
sp_call_get_direction (SpCall *self)
{
  g_return_val_if_fail (SP_IS_CALL (self), SP_CALL_DIRECTION_OUTGOING);
  return self->direction;
}

const char *
sp_call_get_peer (SpCall *self)
{
  g_return_val_if_fail (SP_IS_CALL (self), NULL);
  return self->peer;
}

const char *
sp_call_get_peer_display_name (SpCall *self)
{
  g_return_val_if_fail (SP_IS_CALL (self), NULL);
  return self->peer_display_name;
}

SpAccount *
sp_call_get_account (SpCall *self)
{
  g_return_val_if_fail (SP_IS_CALL (self), NULL);
  return self->account;
}

const char *
sp_call_get_codec (SpCall *self)
{
  g_return_val_if_fail (SP_IS_CALL (self), NULL);
  return self->codec;
}

gboolean
sp_call_get_muted (SpCall *self)
{
  g_return_val_if_fail (SP_IS_CALL (self), FALSE);
  return self->muted;
}

guint
sp_call_get_duration (SpCall *self)
{
  g_return_val_if_fail (SP_IS_CALL (self), 0);
  if (self->state == SP_CALL_STATE_ENDED || self->established_time == 0)
    return self->final_duration;
  return (guint) ((g_get_monotonic_time () - self->established_time) / G_USEC_PER_SEC);
}

const char *
sp_call_get_end_reason (SpCall *self)
{
  g_return_val_if_fail (SP_IS_CALL (self), NULL);
  return self->end_reason;
}

guint
sp_call_get_end_code (SpCall *self)
{
  g_return_val_if_fail (SP_IS_CALL (self), 0);
  return self->end_code;
}

gint64
sp_call_get_start_time (SpCall *self)
{
  return self->start_time;
}

void
sp_call_set_state (SpCall *self, SpCallState state)
{
  g_return_if_fail (SP_IS_CALL (self));
  if (self->state == state || self->state == SP_CALL_STATE_ENDED)
    return;
  if (state == SP_CALL_STATE_ESTABLISHED && self->established_time == 0)
    {
      self->established_time = g_get_monotonic_time ();
      self->was_established = TRUE;
    }
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_STATE]);
}

void
sp_call_set_codec (SpCall *self, const char *codec)
{
  if (g_strcmp0 (self->codec, codec) == 0)
    return;
  g_free (self->codec);
  self->codec = g_strdup (codec);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_CODEC]);
}

void
sp_call_end (SpCall *self, const char *reason, guint code)
{
  g_return_if_fail (SP_IS_CALL (self));
  if (self->state == SP_CALL_STATE_ENDED)
    return;
  self->final_duration = sp_call_get_duration (self);
  g_free (self->end_reason);
  self->end_reason = g_strdup (reason);
  self->end_code = code;
  self->state = SP_CALL_STATE_ENDED;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_END_REASON]);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_STATE]);
  g_signal_emit (self, signals[SIGNAL_ENDED], 0);
}

SpCallRecord *
sp_call_to_record (SpCall *self)
{
  SpCallRecord *r = sp_call_record_new ();

  r->peer = g_strdup (self->peer);
  r->display_name = g_strdup (self->peer_display_name);
  r->account_id = self->account ? g_strdup (sp_account_get_id (self->account)) : NULL;
  r->direction = self->direction;
  r->start_time = self->start_time;
  r->duration = self->final_duration;
  r->sip_code = self->end_code;
  r->reason = g_strdup (self->end_reason);
  if (self->was_established)
    r->outcome = SP_CALL_OUTCOME_ANSWERED;
  else if (self->direction == SP_CALL_DIRECTION_INCOMING)
    r->outcome = self->end_code == 486 || self->end_code == 603 ? SP_CALL_OUTCOME_REJECTED
                                                                : SP_CALL_OUTCOME_MISSED;
  else
    r->outcome = self->end_code == 487 || self->end_code == 0 ? SP_CALL_OUTCOME_CANCELLED
                                                              : SP_CALL_OUTCOME_FAILED;
  return r;
}

void
sp_call_set_muted (SpCall *self, gboolean muted)
{
  g_return_if_fail (SP_IS_CALL (self));
  muted = !!muted;
  if (self->muted == muted)
    return;
  self->muted = muted;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MUTED]);
}

/* The SIP and media side of these lands with the dialog layer (src/sip/
 * dialog.h) and media sessions (src/media/session.h). Until then they say
 * so instead of pretending. */
static gboolean
not_yet (SpCall *self, const char *what, GError **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
               "%s call %s: not available yet (the SIP dialog layer is not in this build)", what,
               self->id);
  return FALSE;
}

static gboolean
check_state (SpCall *self, gboolean ok, const char *what, GError **error)
{
  if (!ok)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot %s call %s: it is %s", what,
                 self->id, sp_call_state_to_string (self->state));
  return ok;
}

gboolean
sp_call_answer (SpCall *self, GError **error)
{
  g_return_val_if_fail (SP_IS_CALL (self), FALSE);
  if (!check_state (self, self->state == SP_CALL_STATE_INCOMING, "answer", error))
    return FALSE;
  return not_yet (self, "Answer", error);
}

gboolean
sp_call_hangup (SpCall *self, GError **error)
{
  g_return_val_if_fail (SP_IS_CALL (self), FALSE);
  if (!check_state (self, self->state != SP_CALL_STATE_ENDED, "hang up", error))
    return FALSE;
  sp_call_end (self, "User hangup", 0);
  return TRUE;
}

gboolean
sp_call_hold (SpCall *self, GError **error)
{
  g_return_val_if_fail (SP_IS_CALL (self), FALSE);
  if (!check_state (self, self->state == SP_CALL_STATE_ESTABLISHED, "hold", error))
    return FALSE;
  return not_yet (self, "Hold", error);
}

gboolean
sp_call_resume (SpCall *self, GError **error)
{
  g_return_val_if_fail (SP_IS_CALL (self), FALSE);
  if (!check_state (self, self->state == SP_CALL_STATE_HELD, "resume", error))
    return FALSE;
  return not_yet (self, "Resume", error);
}

gboolean
sp_call_send_dtmf (SpCall *self, const char *digits, GError **error)
{
  g_return_val_if_fail (SP_IS_CALL (self), FALSE);
  for (const char *p = digits; *p != '\0'; p++)
    if (strchr ("0123456789*#ABCDabcd", *p) == NULL)
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                     "dtmf: '%c' is not a DTMF digit (0-9 * # A-D)", *p);
        return FALSE;
      }
  if (!check_state (self, self->state == SP_CALL_STATE_ESTABLISHED, "send DTMF on", error))
    return FALSE;
  return not_yet (self, "DTMF on", error);
}

gboolean
sp_call_transfer (SpCall *self, const char *target, GError **error)
{
  g_return_val_if_fail (SP_IS_CALL (self), FALSE);
  if (!check_state (self,
                    self->state == SP_CALL_STATE_ESTABLISHED || self->state == SP_CALL_STATE_HELD,
                    "transfer", error))
    return FALSE;
  return not_yet (self, "Transfer", error);
}
