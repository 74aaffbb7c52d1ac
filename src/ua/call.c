#include "ua/call-private.h"

#include <gio/gio.h>
#include <string.h>

#include "audio/alsa.h"
#include "i18n.h"

#include "media/error.h"
#include "media/offer-answer.h"
#include "media/sas.h"
#include "media/srtp.h"
#include "media/tones.h"
#include "sip/error.h"
#include "session/invite-session.h"
#include "ua/account-credentials.h"
#include "ua/phone-private.h"
#include "ua/resolve.h"

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
  SpCallProtection protection;
  /* What the media's input and output are (by SpAudioDirection), as
   * sp_audio_device_new_for_name () reads names: for the fallback. */
  char *device_names[2];
  gboolean was_established;
  gint64 start_time;       /* wall clock, s: when the call began */
  gint64 established_time; /* monotonic, us; 0 = never */
  guint final_duration;
  char *end_reason;
  char *end_reason_text; /* translated, for the window */
  guint end_code;

  /* SIP and media. The phone, until the call ends or the phone goes
   * (sp_call_detach_phone): a call may outlive it. */
  SpPhone *phone;
  SpSipStack *stack;
  SpCredentials *credentials; /* the account's, for 401/407; NULL: none */
  /* The SIP side: INVITE, dialog, offer/answer state, re-INVITE, glare,
   * session timer and challenges (session/invite-session.h). */
  SpInviteSession *session;
  SpSipMessage *invite; /* our INVITE (outgoing), until the session sends it */
  SpSipPeer dest;       /* where our INVITE goes, or where theirs came from */
  gboolean has_dest;
  char *next_hop_host; /* the name our INVITE's next hop was looked up by */
  guint16 next_hop_port;
  GCancellable *resolving; /* the next hop's name being looked up */
  char *contact_user;
  char *local_host;
  SpMediaSession *media;
  SpOfferAnswer *oa;
  SpMediaParams params; /* in force; remote_address points into oa */
  gboolean hold_wanted; /* what our offers say: on hold or not */
  guint ring_timer;     /* incoming: unanswered this long, 480 */
  guint64 last_packets;
  guint media_silent_s;
  guint media_timer;
  gboolean early_media; /* an answer came in a 18x: its media plays */
  gint tail_tone;       /* SpToneKind to play after a failure, or -1 */
  SpMediaStats stats;   /* the latest; frozen once ended */
  gboolean have_stats;
  SpDtls *dtls;         /* DTLS-SRTP keying the media, once negotiated */
  GQueue dtls_early;    /* GBytes: the peer's DTLS before our SpDtls exists */
  char *dtls_peer_hash; /* what @dtls was made for: the peer's a=fingerprint */
  char *dtls_peer_fingerprint;
  char *dtls_peer_tls_id;  /* its a=tls-id (RFC 8842), NULL if none came */
  SpDtlsRole dtls_role;    /* and our role in it */
  char *sas;               /* its four words, once established */
  GString *dtmf_pending;   /* digits typed before the DTLS keys: sent with them */
  gboolean sdes_installed; /* an SDES-keyed SpSrtp was given to the media */
};

G_DEFINE_TYPE (SpCall, sp_call, G_TYPE_OBJECT)

static void dtls_early_clear (SpCall *self);

/* How long the busy or error tone plays after a call attempt fails. */
#define TAIL_TONE_MS 3000

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
  PROP_PROTECTION,
  PROP_SAS,
  N_PROPS
};

enum
{
  SIGNAL_DTMF_RECEIVED,
  SIGNAL_ENDED,
  SIGNAL_STATS_CHANGED,
  SIGNAL_AUDIO_DEVICE_FAILED,
  N_SIGNALS
};

static GParamSpec *props[N_PROPS];
static guint signals[N_SIGNALS];

const char *
sp_call_state_to_string (SpCallState state)
{
  /* Referenced once and kept: a static enum's class lives as long as
   * the process. */
  static GEnumClass *klass = NULL;
  GEnumValue *value;

  if (g_once_init_enter (&klass))
    g_once_init_leave (&klass, g_type_class_ref (SP_TYPE_CALL_STATE));
  value = g_enum_get_value (klass, state);

  if (value != NULL)
    return value->value_nick;
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
  g_free (self->device_names[SP_AUDIO_SOURCE]);
  g_free (self->device_names[SP_AUDIO_SINK]);
  g_free (self->end_reason);
  g_free (self->end_reason_text);
  g_clear_handle_id (&self->media_timer, g_source_remove);
  g_clear_handle_id (&self->ring_timer, g_source_remove);
  g_clear_pointer (&self->dtls, sp_dtls_free);
  dtls_early_clear (self);
  g_clear_pointer (&self->dtls_peer_hash, g_free);
  g_clear_pointer (&self->dtls_peer_fingerprint, g_free);
  g_clear_pointer (&self->dtls_peer_tls_id, g_free);
  if (self->dtmf_pending != NULL)
    g_string_free (self->dtmf_pending, TRUE);
  g_free (self->sas);
  g_clear_pointer (&self->media, sp_media_session_free);
  g_clear_pointer (&self->oa, sp_offer_answer_free);
  g_clear_object (&self->resolving);
  g_free (self->contact_user);
  g_clear_object (&self->stack);
  g_clear_pointer (&self->credentials, sp_credentials_unref);
  g_free (self->next_hop_host);
  g_clear_pointer (&self->invite, sp_sip_message_unref);
  if (self->session != NULL)
    sp_invite_session_detach (self->session);
  g_clear_pointer (&self->session, sp_invite_session_unref);
  g_free (self->local_host);
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
      case PROP_PROTECTION:
        g_value_set_flags (value, self->protection);
        break;
      case PROP_SAS:
        g_value_set_string (value, self->sas);
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
  props[PROP_PROTECTION] = g_param_spec_flags ("protection", NULL, NULL, SP_TYPE_CALL_PROTECTION,
                                               SP_CALL_PROTECTION_NONE, ro);
  props[PROP_SAS] = g_param_spec_string ("sas", NULL, NULL, NULL, ro);
  g_object_class_install_properties (object_class, N_PROPS, props);

  signals[SIGNAL_DTMF_RECEIVED] =
      g_signal_new ("dtmf-received", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 2, G_TYPE_CHAR, G_TYPE_STRING);
  signals[SIGNAL_ENDED] = g_signal_new ("ended", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                        NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_STATS_CHANGED] =
      g_signal_new ("stats-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_AUDIO_DEVICE_FAILED] = g_signal_new (
      "audio-device-failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 4, G_TYPE_UINT, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);
}

static void
sp_call_init (SpCall *self)
{
  self->start_time = g_get_real_time () / G_USEC_PER_SEC;
  self->stats.rtt_ms = -1;
  self->tail_tone = -1;
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
  return (guint) ((g_get_monotonic_time () - self->established_time + G_USEC_PER_SEC / 2) /
                  G_USEC_PER_SEC);
}

const char *
sp_call_get_end_reason (SpCall *self)
{
  g_return_val_if_fail (SP_IS_CALL (self), NULL);
  return self->end_reason;
}

const char *
sp_call_get_end_reason_text (SpCall *self)
{
  g_return_val_if_fail (SP_IS_CALL (self), NULL);
  return self->end_reason_text;
}

guint
sp_call_get_end_code (SpCall *self)
{
  g_return_val_if_fail (SP_IS_CALL (self), 0);
  return self->end_code;
}

const SpSipPeer *
sp_call_get_source (SpCall *self)
{
  return self->direction == SP_CALL_DIRECTION_INCOMING && self->has_dest ? &self->dest : NULL;
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

SpCallProtection
sp_call_get_protection (SpCall *self)
{
  g_return_val_if_fail (SP_IS_CALL (self), SP_CALL_PROTECTION_NONE);
  return self->protection;
}

void
sp_call_update_protection (SpCall *self, SpCallProtection set, SpCallProtection clear)
{
  SpCallProtection now = (self->protection & ~clear) | set;

  if (now == self->protection)
    return;
  self->protection = now;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_PROTECTION]);
}

char **
sp_call_protection_to_strv (SpCallProtection protection)
{
  /* Referenced once and kept, as the state's enum class. */
  static GFlagsClass *klass = NULL;
  GPtrArray *nicks = g_ptr_array_new ();

  if (g_once_init_enter (&klass))
    g_once_init_leave (&klass, g_type_class_ref (SP_TYPE_CALL_PROTECTION));
  for (guint i = 0; i < klass->n_values; i++)
    if (klass->values[i].value != 0 &&
        (protection & klass->values[i].value) == klass->values[i].value)
      g_ptr_array_add (nicks, g_strdup (klass->values[i].value_nick));
  g_ptr_array_add (nicks, NULL);
  return (char **) g_ptr_array_free (nicks, FALSE);
}

/* @reason stays English: headless "ended" events and the history file
 * carry it and scripts compare it. The fixed reasons are marked N_() so
 * the app translates them where it shows them. @text is the reason in the
 * user's language when it is built from parts (a codec list); NULL
 * translates @reason as a whole. */
static void
end_call (SpCall *self, const char *reason, const char *text, guint code)
{
  if (self->state == SP_CALL_STATE_ENDED)
    return;
  self->final_duration = sp_call_get_duration (self);
  g_free (self->end_reason);
  self->end_reason = g_strdup (reason);
  g_free (self->end_reason_text);
  if (text == NULL && reason != NULL && reason[0] != '\0')
    text = _ (reason);
  self->end_reason_text = g_strdup (text != NULL ? text : reason);
  self->end_code = code;
  self->state = SP_CALL_STATE_ENDED;
  g_clear_handle_id (&self->media_timer, g_source_remove);
  g_clear_handle_id (&self->ring_timer, g_source_remove);
  g_cancellable_cancel (self->resolving);
  if (self->media != NULL && self->tail_tone >= 0 && self->phone != NULL)
    {
      /* Busy or error tone for a few seconds on the caller's own output,
       * where the ringback was: the phone keeps the session that long. */
      sp_media_session_play_tone (self->media, self->tail_tone);
      sp_phone_keep_tone (self->phone, g_steal_pointer (&self->media), TAIL_TONE_MS);
    }
  if (self->media != NULL)
    {
      /* Stopping publishes the last figures (and sends the RTCP BYE):
       * keep them for the "ended" report. */
      sp_media_session_stop (self->media);
      if (self->have_stats)
        sp_media_session_get_stats (self->media, &self->stats);
    }
  g_clear_pointer (&self->dtls, sp_dtls_free);
  dtls_early_clear (self);
  g_clear_pointer (&self->dtls_peer_hash, g_free);
  g_clear_pointer (&self->dtls_peer_fingerprint, g_free);
  g_clear_pointer (&self->dtls_peer_tls_id, g_free);
  g_clear_pointer (&self->media, sp_media_session_free);
  /* No callback from the session any more; a dialog it still had (the
   * phone closing) is forgotten without a BYE. */
  if (self->session != NULL)
    sp_invite_session_detach (self->session);
  g_object_ref (self);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_END_REASON]);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_STATE]);
  g_signal_emit (self, signals[SIGNAL_ENDED], 0);
  if (self->phone != NULL)
    sp_phone_call_ended (self->phone, self);
  /* An ended call needs the phone no more; it may outlive it. */
  self->phone = NULL;
  g_object_unref (self);
}

void
sp_call_end (SpCall *self, const char *reason, guint code)
{
  g_return_if_fail (SP_IS_CALL (self));
  end_call (self, reason, NULL, code);
}

void
sp_call_detach_phone (SpCall *self)
{
  g_return_if_fail (SP_IS_CALL (self));
  /* Forgotten first: no history, no tail tone, no "call-ended" from a
   * phone half disposed. */
  self->phone = NULL;
  end_call (self, N_ ("Phone closed"), NULL, 0);
  /* Ended calls hold none; the engine goes right after this. */
  g_clear_pointer (&self->media, sp_media_session_free);
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
  else if (self->direction == SP_CALL_DIRECTION_INCOMING && self->end_code == 200)
    r->outcome = SP_CALL_OUTCOME_ANSWERED_ELSEWHERE;
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
  if (self->media != NULL)
    sp_media_session_set_muted (self->media, muted);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MUTED]);
}

double
sp_call_get_input_level (SpCall *self)
{
  g_return_val_if_fail (SP_IS_CALL (self), -96.0);
  return self->media != NULL ? sp_media_session_get_input_level (self->media) : -96.0;
}

gboolean
sp_call_get_stats (SpCall *self, SpMediaStats *stats)
{
  g_return_val_if_fail (SP_IS_CALL (self), FALSE);
  *stats = self->stats;
  return self->have_stats;
}

static void
remember_device (SpCall *self, SpAudioDevice *device)
{
  SpAudioDirection direction = sp_audio_device_get_direction (device);

  g_free (self->device_names[direction]);
  self->device_names[direction] = g_strdup (sp_audio_device_get_name (device));
}

void
sp_call_set_audio_device (SpCall *self, SpAudioDevice *device)
{
  g_return_if_fail (SP_IS_CALL (self));
  g_return_if_fail (device != NULL);
  if (self->media == NULL)
    {
      sp_audio_device_free (device);
      return;
    }
  remember_device (self, device);
  sp_media_session_replace_device (self->media, device);
}

/* ---- media -------------------------------------------------------------- */

static void
on_media_stats (SpMediaSession *session, const SpMediaStats *stats, gpointer user_data)
{
  SpCall *self = user_data;

  self->stats = *stats;
  self->have_stats = TRUE;
  g_signal_emit (self, signals[SIGNAL_STATS_CHANGED], 0);
}

static void
on_media_dtmf (SpMediaSession *session, char digit, SpDtmfOrigin origin, gpointer user_data)
{
  SpCall *self = user_data;
  const char *method = origin == SP_DTMF_FROM_AUDIO ? "inband" : "rfc4733";

  g_signal_emit (self, signals[SIGNAL_DTMF_RECEIVED], 0, digit, method);
}

/* Where a call goes when its device fails and the preferred device
 * cannot take it: an ALSA device other than `default` (a USB headset
 * unplugged) falls back to `default`; anything else (default itself, a
 * WAV file) to the null device the media already put in its place. */
static const char *
fallback_device (const char *failed)
{
  if (failed == NULL || strcmp (failed, "null") == 0 || sp_audio_name_is_file (failed) ||
      strcmp (failed, SP_AUDIO_ALSA_DEFAULT_DEVICE) == 0)
    return "null";
  return SP_AUDIO_ALSA_DEFAULT_DEVICE;
}

/* Whether the device the user prefers (Preferences, --audio-in/--audio-out)
 * is worth trying after @failed went away: an ALSA device other than the
 * one that failed. `default` itself is the fallback anyway. */
static gboolean
preferred_is_candidate (const char *preferred, const char *failed)
{
  return preferred != NULL && strcmp (preferred, "null") != 0 &&
         !sp_audio_name_is_file (preferred) &&
         strcmp (preferred, SP_AUDIO_ALSA_DEFAULT_DEVICE) != 0 &&
         g_strcmp0 (preferred, failed) != 0;
}

typedef struct
{
  SpAudioDirection direction;
  char *failed;
  char *preferred;
  char *message;
} DeviceFallback;

static void
device_fallback_free (gpointer data)
{
  DeviceFallback *f = data;

  g_free (f->failed);
  g_free (f->preferred);
  g_free (f->message);
  g_free (f);
}

/* In a worker thread: whether the preferred device is there (it opens).
 * Opening a sound server's device can take a while; neither the main loop
 * nor the media thread waits for it. */
static void
probe_preferred_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancel)
{
  DeviceFallback *f = task_data;
  SpAudioDevice *probe = sp_audio_device_new_for_name (f->preferred, f->direction);
  g_autoptr (GError) error = NULL;
  gboolean present = sp_audio_device_open (probe, 16000, &error);

  if (present)
    sp_audio_device_close (probe);
  else
    g_debug ("Preferred audio device %s is not there: %s", f->preferred, error->message);
  sp_audio_device_free (probe);
  g_task_return_boolean (task, present);
}

/* Switches the call to @now_using (unless it is "null", already in place)
 * and says so. */
static void
finish_fallback (SpCall *self, const DeviceFallback *f, const char *now_using)
{
  g_message ("Call %s audio %s %s: %s; going on with %s", self->id,
             f->direction == SP_AUDIO_SOURCE ? "input" : "output", f->failed ? f->failed : "?",
             f->message, now_using);
  if (strcmp (now_using, "null") != 0 && self->media != NULL)
    sp_call_set_audio_device (self, sp_audio_device_new_for_name (now_using, f->direction));
  g_signal_emit (self, signals[SIGNAL_AUDIO_DEVICE_FAILED], 0, (guint) f->direction, f->failed,
                 now_using, f->message);
}

static void
on_preferred_probed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  SpCall *self = SP_CALL (source);
  DeviceFallback *f = g_task_get_task_data (G_TASK (result));
  gboolean present = g_task_propagate_boolean (G_TASK (result), NULL);

  /* Ended meanwhile, or switched to another device by the user: nothing
   * to fall back from any more. */
  if (self->media == NULL || g_strcmp0 (self->device_names[f->direction], "null") != 0)
    return;
  finish_fallback (self, f, present ? f->preferred : fallback_device (f->failed));
}

/* The call's device went away: it goes on with the device the user
 * prefers if that one is there (a headset chosen in Preferences while the
 * call was moved to the laptop's speakers), else with `default`, else
 * silent. */
static void
on_media_device_error (SpMediaSession *session, SpAudioDirection direction, const GError *error,
                       gpointer user_data)
{
  SpCall *self = user_data;
  DeviceFallback *f = g_new0 (DeviceFallback, 1);
  g_autoptr (GTask) task = NULL;

  f->direction = direction;
  f->failed = g_strdup (self->device_names[direction]);
  f->message = g_strdup (error->message);
  if (self->phone != NULL)
    f->preferred = g_strdup (sp_phone_get_audio_device_name (self->phone, direction));
  g_free (self->device_names[direction]);
  self->device_names[direction] = g_strdup ("null");
  if (!preferred_is_candidate (f->preferred, f->failed))
    {
      finish_fallback (self, f, fallback_device (f->failed));
      device_fallback_free (f);
      return;
    }
  task = g_task_new (self, NULL, on_preferred_probed, NULL);
  g_task_set_source_tag (task, on_media_device_error);
  g_task_set_task_data (task, f, device_fallback_free);
  g_task_run_in_thread (task, probe_preferred_thread);
}

static guint16
media_port (SpCall *self)
{
  /* Port 9 (discard) when we have no socket: the peer sends nowhere real. */
  return self->media ? sp_media_session_get_rtp_port (self->media) : 9;
}

/* The packet time the user fixed for this call (its account's, else the
 * phone's), or 0: automatic. */
static guint
fixed_ptime (SpCall *self)
{
  guint ms = self->account != NULL ? sp_account_get_ptime (self->account) : 0;

  if (ms == 0 && self->phone != NULL)
    ms = sp_phone_get_ptime (self->phone);
  return ms;
}

/* ---- DTLS-SRTP (issue 16): keys agreed with the far phone itself ------
 *
 * Offer/answer settles the roles and the peer's fingerprint; once the
 * media starts, an SpDtls runs the handshake over the media session's RTP
 * port (RFC 7983), and its keys become the session's SRTP. The session
 * sends nothing until then (params.srtp). Through our server the DTLS and
 * SRTP pass the relay untouched, so the keys are the two phones' alone;
 * the four words (media/sas.h) over both certificates let the users check
 * that nobody replaced the fingerprints on the way. */

static void end_session (SpCall *self);

static const char *
dtls_fingerprint (SpCall *self)
{
  SpSipTlsIdentity *id = self->phone ? sp_phone_get_dtls_identity (self->phone) : NULL;

  return id != NULL ? sp_sip_tls_identity_get_fingerprint (id) : NULL;
}

static void
on_dtls_send (SpDtls *dtls, const guint8 *data, gsize len, gpointer user_data)
{
  SpCall *self = user_data;

  g_debug ("Call %s: DTLS sends %zu bytes", self->id, len);
  if (self->media != NULL)
    sp_media_session_send_dtls (self->media, data, len);
}

/* At most this many of the peer's DTLS datagrams wait for our answer's
 * processing: its ClientHello often comes (through the relay) before the
 * 200 that says we are the DTLS server; without them it would be
 * retransmitted a second later. */
#define DTLS_EARLY_MAX 8

static void
on_media_dtls (SpMediaSession *media, const guint8 *data, gsize len, gpointer user_data)
{
  SpCall *self = user_data;

  g_debug ("Call %s: DTLS datagram of %zu bytes (%s)", self->id, len,
           self->dtls != NULL ? "to the handshake" : "kept for it");
  if (self->dtls != NULL)
    sp_dtls_receive (self->dtls, data, len);
  else if (g_queue_get_length (&self->dtls_early) < DTLS_EARLY_MAX)
    g_queue_push_tail (&self->dtls_early, g_bytes_new (data, len));
}

static void
dtls_early_clear (SpCall *self)
{
  g_queue_clear_full (&self->dtls_early, (GDestroyNotify) g_bytes_unref);
}

static SpSrtpSuite
suite_for_profile (SpDtlsSrtpProfile profile)
{
  switch (profile)
    {
      case SP_DTLS_SRTP_AES128_CM_HMAC_SHA1_32:
        return SP_SRTP_AES_CM_128_HMAC_SHA1_32;
      case SP_DTLS_SRTP_AEAD_AES_128_GCM:
        return SP_SRTP_AEAD_AES_128_GCM;
      default:
        return SP_SRTP_AES_CM_128_HMAC_SHA1_80;
    }
}

static void
on_dtls_established (SpDtls *dtls, gpointer user_data)
{
  SpCall *self = user_data;
  SpDtlsSrtpKeys keys;
  g_autoptr (GError) error = NULL;
  SpSrtp *srtp;
  const char *profile;

  if (!sp_dtls_get_srtp_keys (dtls, &keys))
    return;
  profile = sp_dtls_srtp_profile_name (keys.profile);
  srtp = sp_srtp_new (suite_for_profile (keys.profile), keys.local, keys.local_len, keys.remote,
                      keys.remote_len, &error);
  memset (&keys, 0, sizeof keys);
  if (srtp == NULL)
    {
      g_warning ("Call %s: SRTP: %s", self->id, error->message);
      end_session (self);
      sp_call_end (self, N_ ("the media could not be encrypted"), 0);
      return;
    }
  if (self->media != NULL)
    sp_media_session_set_srtp (self->media, srtp);
  else
    sp_srtp_free (srtp);
  if (self->dtmf_pending != NULL && self->media != NULL && self->dtmf_pending->len > 0)
    sp_media_session_send_dtmf (self->media, self->dtmf_pending->str);
  if (self->dtmf_pending != NULL)
    g_string_truncate (self->dtmf_pending, 0);
  g_free (self->sas);
  self->sas =
      sp_sas_compute (sp_dtls_get_local_fingerprint (dtls), sp_dtls_get_peer_fingerprint (dtls));
  g_debug ("Call %s: DTLS-SRTP established (%s), SAS \"%s\"", self->id, profile,
           self->sas ? self->sas : "");
  sp_call_update_protection (self, SP_CALL_PROTECTION_DTLS_SRTP | SP_CALL_PROTECTION_END_TO_END, 0);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SAS]);
}

/* The peer agreed to DTLS-SRTP and the handshake failed: the media would
 * stay silent (nothing goes out without keys), so the call ends and
 * says why (a wrong fingerprint names both). */
static void
on_dtls_failed (SpDtls *dtls, const GError *error, gpointer user_data)
{
  SpCall *self = user_data;
  g_autofree char *reason = g_strdup_printf ("DTLS-SRTP: %s", error->message);

  g_message ("Call %s: %s", self->id, reason);
  end_session (self);
  sp_call_end (self, reason, 0);
}

/* TRUE when @settled still describes the association @self->dtls runs:
 * the same peer fingerprint (hex case aside) and the same role. */
static gboolean
dtls_same_association (SpCall *self, const SpOfferAnswerDtls *settled, SpDtlsRole role)
{
  return self->dtls_peer_hash != NULL && self->dtls_peer_fingerprint != NULL &&
         settled->remote_hash != NULL && settled->remote_fingerprint != NULL &&
         g_ascii_strcasecmp (self->dtls_peer_hash, settled->remote_hash) == 0 &&
         g_ascii_strcasecmp (self->dtls_peer_fingerprint, settled->remote_fingerprint) == 0 &&
         !sp_offer_answer_tls_id_changed (self->dtls_peer_tls_id, settled->remote_tls_id) &&
         self->dtls_role == role;
}

/* RFC 5763 5 / RFC 8842 5.5: a re-INVITE settled another fingerprint or
 * role (the peer restarted its media, a transfer put another phone
 * behind the dialog): the old keys are another association's. They go,
 * with the words and the users' check of them; the media sends nothing
 * until the new handshake keys it (params.srtp). */
static void
dtls_drop (SpCall *self)
{
  g_message ("Call %s: the peer's DTLS fingerprint, role or tls-id changed: new DTLS-SRTP "
             "handshake",
             self->id);
  g_clear_pointer (&self->dtls, sp_dtls_free);
  g_clear_pointer (&self->dtls_peer_hash, g_free);
  g_clear_pointer (&self->dtls_peer_fingerprint, g_free);
  g_clear_pointer (&self->dtls_peer_tls_id, g_free);
  sp_media_session_set_srtp (self->media, NULL);
  if (self->sas != NULL)
    {
      g_clear_pointer (&self->sas, g_free);
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SAS]);
    }
  sp_call_update_protection (self, 0,
                             SP_CALL_PROTECTION_DTLS_SRTP | SP_CALL_PROTECTION_END_TO_END |
                                 SP_CALL_PROTECTION_VERIFIED);
}

/* After each media start or update: begins the handshake once
 * offer/answer settled DTLS-SRTP. A re-INVITE with the same fingerprint
 * and role keeps the association (hold, resume); another one starts a
 * new handshake (dtls_drop). */
static void
dtls_update (SpCall *self)
{
  static const SpDtlsCallbacks callbacks = { on_dtls_send, on_dtls_established, on_dtls_failed };
  SpOfferAnswerDtls settled;
  SpSipTlsIdentity *id;
  SpDtlsRole role;
  g_autoptr (GError) error = NULL;

  if (self->media == NULL || self->oa == NULL)
    return;
  sp_offer_answer_get_dtls (self->oa, &settled);
  if (!settled.active)
    return;
  id = sp_phone_get_dtls_identity (self->phone);
  if (id == NULL || !sp_dtls_role_for (settled.local_setup, settled.remote_setup, &role))
    return;
  if (self->dtls != NULL)
    {
      if (dtls_same_association (self, &settled, role))
        {
          /* A peer that names its tls-id only now. */
          if (self->dtls_peer_tls_id == NULL && settled.remote_tls_id != NULL)
            self->dtls_peer_tls_id = g_strdup (settled.remote_tls_id);
          return;
        }
      dtls_drop (self);
    }
  self->dtls = sp_dtls_new (id, role, &callbacks, self, &error);
  if (self->dtls != NULL)
    {
      self->dtls_peer_hash = g_strdup (settled.remote_hash);
      self->dtls_peer_fingerprint = g_strdup (settled.remote_fingerprint);
      self->dtls_peer_tls_id = g_strdup (settled.remote_tls_id);
      self->dtls_role = role;
    }
  if (self->dtls == NULL || !sp_dtls_set_remote_fingerprint (self->dtls, settled.remote_hash,
                                                             settled.remote_fingerprint, &error))
    {
      g_autofree char *reason = g_strdup_printf ("DTLS-SRTP: %s", error->message);
      end_session (self);
      sp_call_end (self, reason, 0);
      return;
    }
  while (!g_queue_is_empty (&self->dtls_early))
    {
      g_autoptr (GBytes) early = g_queue_pop_head (&self->dtls_early);
      gsize len;
      const guint8 *data = g_bytes_get_data (early, &len);
      sp_dtls_receive (self->dtls, data, len);
    }
  sp_dtls_start (self->dtls);
}

const char *
sp_call_get_sas (SpCall *self)
{
  g_return_val_if_fail (SP_IS_CALL (self), NULL);
  return self->sas;
}

gboolean
sp_call_confirm_sas (SpCall *self)
{
  g_return_val_if_fail (SP_IS_CALL (self), FALSE);
  if (self->sas == NULL)
    return FALSE;
  sp_call_update_protection (self, SP_CALL_PROTECTION_VERIFIED, 0);
  return TRUE;
}

/* The media encryption policy of this call: its account's, else the
 * phone's (direct calls). */
static SpMediaEncryption
media_encryption (SpCall *self)
{
  if (self->account != NULL)
    return sp_account_get_media_encryption (self->account);
  return self->phone != NULL ? sp_phone_get_media_encryption (self->phone)
                             : SP_MEDIA_ENCRYPTION_PREFERRED;
}

/* What every offer/answer of this call shares: the policy, and whether
 * SDES keys may travel (only over a TLS hop). */
static void
oa_config_init (SpCall *self, SpOfferAnswerConfig *config)
{
  memset (config, 0, sizeof *config);
  config->local_address = self->local_host;
  config->encryption = media_encryption (self);
  config->sdes = (self->protection & SP_CALL_PROTECTION_TLS) != 0;
  config->dtls_fingerprint = dtls_fingerprint (self);
}

/* Opens our RTP socket and the offer/answer state before any SDP is
 * written, so the SDP can name the port. */
static void
media_prepare (SpCall *self)
{
  static const SpMediaCallbacks callbacks = {
    .stats = on_media_stats,
    .dtmf = on_media_dtmf,
    .device_error = on_media_device_error,
  };
  SpMediaEngine *engine = sp_phone_get_media_engine (self->phone);
  g_autoptr (GError) error = NULL;
  SpOfferAnswerConfig config;
  SpAudioDevice *source = NULL;
  SpAudioDevice *sink = NULL;

  if (self->oa != NULL)
    return;
  if (engine != NULL)
    self->media = sp_media_session_new (engine, self->local_host, 0, &callbacks, self, &error);
  if (self->media != NULL)
    {
      sp_phone_open_devices (self->phone, &source, &sink);
      remember_device (self, source);
      remember_device (self, sink);
      sp_media_session_set_devices (self->media, source, sink);
      sp_media_session_set_muted (self->media, self->muted);
      /* DTLS may come before we know our role (see DTLS_EARLY_MAX). */
      sp_media_session_set_dtls_sink (self->media, on_media_dtls, self, NULL);
    }
  else if (error != NULL)
    g_message ("Call %s without audio: %s", self->id, error->message);
  oa_config_init (self, &config);
  config.rtp_port = media_port (self);
  config.ptime_ms = fixed_ptime (self);
  config.fixed_ptime = config.ptime_ms != 0;
  self->oa = sp_offer_answer_new (&config);
}

/* "PCMU/8000", as the events and the GUI show it. */
static char *
codec_name (SpCodecId codec)
{
  const SpCodecInfo *info = sp_codec_info_for_id (codec);

  return info ? g_strdup_printf ("%s/%u", info->encoding, info->clock_rate) : g_strdup ("unknown");
}

/* An offer/answer error as an end reason: "No common codec: we offer
 * PCMU PCMA G722, they offer GSM G729". */
static char *
media_error_reason (const GError *error)
{
  char *text = g_strdup (error->message);

  text[0] = g_ascii_toupper (text[0]);
  return text;
}

/* The same in the user's language. The offer/answer keeps the
 * translation of its own errors (@from_oa); the call's own are whole
 * N_() messages, and SDP syntax errors stay English. */
static char *
media_error_text (SpCall *self, const GError *error, gboolean from_oa)
{
  const char *text = from_oa && self->oa != NULL ? sp_offer_answer_get_error_text (self->oa) : NULL;
  char *copy = g_strdup (text != NULL ? text : _ (error->message));

  copy[0] = g_ascii_toupper (copy[0]);
  return copy;
}

/* ---- the session (session/invite-session.h) ------------------------------ */

/* Ends the SIP side as this side: BYE once established, CANCEL before. */
static void
end_session (SpCall *self)
{
  if (self->session != NULL)
    sp_invite_session_end (self->session);
}

static gboolean
media_watch (gpointer data)
{
  SpCall *self = data;
  SpMediaStats stats;
  guint timeout = sp_phone_get_media_timeout (self->phone);

  if (self->media == NULL || timeout == 0)
    return G_SOURCE_CONTINUE;
  sp_media_session_get_stats (self->media, &stats);
  /* Silence is expected while we hold or the peer sends nothing by SDP. */
  if (stats.packets_received != self->last_packets || self->state == SP_CALL_STATE_HELD ||
      !self->params.receive)
    {
      self->last_packets = stats.packets_received;
      self->media_silent_s = 0;
      return G_SOURCE_CONTINUE;
    }
  if (++self->media_silent_s < timeout)
    return G_SOURCE_CONTINUE;
  self->media_timer = 0;
  g_message ("Call %s: no media for %u s, hanging up", self->id, timeout);
  end_session (self);
  sp_call_end (self, N_ ("media timeout"), 0);
  return G_SOURCE_REMOVE;
}

/* SDES keys (RFC 4568) from the last offer/answer into the media, before
 * it starts or changes: the session protects from its first packet. The
 * same keys again (a re-INVITE) keep their streams' state (SpSrtp
 * inherits it); a context keyed otherwise (DTLS-SRTP) is left alone. */
static void
install_sdes (SpCall *self)
{
  guint8 tx[SP_SRTP_MAX_KEY_LEN], rx[SP_SRTP_MAX_KEY_LEN];
  g_autoptr (GError) error = NULL;
  SpSrtpSuite suite;
  gsize len = 0;
  SpSrtp *srtp;

  if (!sp_offer_answer_get_sdes_keys (self->oa, &suite, tx, rx, &len))
    {
      if (self->sdes_installed)
        sp_media_session_set_srtp (self->media, NULL);
      self->sdes_installed = FALSE;
      sp_call_update_protection (self, 0, SP_CALL_PROTECTION_SRTP_SDES);
      return;
    }
  srtp = sp_srtp_new (suite, tx, len, rx, len, &error);
  explicit_bzero (tx, sizeof tx);
  explicit_bzero (rx, sizeof rx);
  if (srtp == NULL)
    {
      /* The params say SRTP: the media sends nothing rather than clear. */
      g_warning ("Call %s: SRTP not set up: %s", self->id, error->message);
      return;
    }
  g_message ("Call %s: SRTP %s (SDES)", self->id, sp_srtp_suite_to_string (suite));
  sp_media_session_set_srtp (self->media, srtp);
  self->sdes_installed = TRUE;
  sp_call_update_protection (self, SP_CALL_PROTECTION_SRTP_SDES, 0);
}

/* Starts or updates the media with what offer/answer settled. */
static void
media_apply (SpCall *self)
{
  SpMediaParams p = self->params;

  if (self->media == NULL)
    return;
  install_sdes (self);
  /* On hold we offer sendonly (RFC 3264 8.4), but the microphone must
   * not reach someone we put on hold: send nothing. */
  if (self->oa != NULL && sp_offer_answer_get_hold (self->oa))
    p.send = FALSE;
  p.detect_inband_dtmf = sp_phone_get_detect_inband_dtmf (self->phone);
  p.echo_cancellation = sp_phone_get_echo_cancellation (self->phone);
  sp_media_session_start (self->media, &p);
  dtls_update (self);
  self->have_stats = TRUE; /* the session publishes from now on */
  if (self->media_timer == 0)
    self->media_timer = g_timeout_add_seconds (1, media_watch, self);
}

static void
set_body_sdp (SpSipMessage *msg, const char *sdp)
{
  sp_sip_message_set_body (msg, "application/sdp", (const guint8 *) sdp, strlen (sdp));
}

static void
establish (SpCall *self)
{
  g_autofree char *name = codec_name (self->params.codec);

  sp_call_set_codec (self, name);
  media_apply (self);
  sp_call_set_state (self, SP_CALL_STATE_ESTABLISHED);
}

static char *
on_create_offer (SpInviteSession *session, gpointer user_data)
{
  SpCall *self = user_data;

  if (self->oa == NULL)
    return NULL;
  sp_offer_answer_set_hold (self->oa, self->hold_wanted);
  return sp_offer_answer_create_offer (self->oa);
}

static char *
on_answer_offer (SpInviteSession *session, const char *sdp, gsize len, guint *status,
                 GError **error, gpointer user_data)
{
  SpCall *self = user_data;
  char *answer;

  if (self->oa == NULL)
    {
      g_set_error_literal (error, SP_MEDIA_ERROR, SP_MEDIA_ERROR_FAILED, "no media");
      *status = 500;
      return NULL;
    }
  answer = sp_offer_answer_process_offer (self->oa, sdp, len, &self->params, error);
  if (answer == NULL)
    *status = sp_offer_answer_error_status (*error);
  return answer;
}

static gboolean
on_take_answer (SpInviteSession *session, const char *sdp, gsize len, GError **error,
                gpointer user_data)
{
  SpCall *self = user_data;

  if (self->oa == NULL || !sp_offer_answer_has_pending_offer (self->oa))
    {
      g_set_error_literal (error, SP_MEDIA_ERROR, SP_MEDIA_ERROR_FAILED, "no offer pending");
      return FALSE;
    }
  return sp_offer_answer_process_answer (self->oa, sdp, len, &self->params, error);
}

static void
on_offer_withdrawn (SpInviteSession *session, gpointer user_data)
{
  SpCall *self = user_data;

  /* What was negotiated before stays in force. */
  if (self->oa == NULL)
    return;
  sp_offer_answer_rollback (self->oa);
  sp_offer_answer_set_hold (self->oa, self->state == SP_CALL_STATE_HELD);
}

/* Our first offer (UDP/TLS/RTP/SAVP) refused: "preferred" offers
 * DTLS-SRTP again on RTP/AVP, which a plain phone answers without it;
 * "required" offers SDES on RTP/SAVP when the hop is TLS. */
static char *
on_retry_offer (SpInviteSession *session, SpSipMessage *response, gpointer user_data)
{
  SpCall *self = user_data;

  if (self->oa == NULL || self->state == SP_CALL_STATE_ENDED ||
      !sp_offer_answer_fall_back (self->oa))
    return NULL;
  g_message ("Call %s: the peer refused UDP/TLS/RTP/SAVP (%u), offering %s", self->id,
             sp_sip_message_get_status (response),
             media_encryption (self) == SP_MEDIA_ENCRYPTION_REQUIRED ? "RTP/SAVP" : "RTP/AVP");
  return sp_offer_answer_create_offer (self->oa);
}

/* A 180/183: an answer in it (the session took it) starts the far end's
 * media (announcements, the network's own ringback); without SDP we play
 * the ringback tone ourselves. */
static void
on_progress (SpInviteSession *session, SpSipMessage *response, gpointer user_data)
{
  SpCall *self = user_data;
  guint status = sp_sip_message_get_status (response);
  gsize len = 0;

  if (status != 180 && status != 183)
    return;
  sp_sip_message_get_body (response, &len);
  if (self->media != NULL && !self->early_media)
    {
      if (len > 0 && sp_invite_session_get_offer_state (session) == SP_SESSION_OFFER_NONE)
        {
          self->early_media = TRUE;
          media_apply (self);
        }
      else if (len == 0 && self->state != SP_CALL_STATE_RINGING)
        sp_media_session_play_tone (self->media, SP_TONE_RINGBACK);
    }
  sp_call_set_state (self, SP_CALL_STATE_RINGING);
}

static void
on_established (SpInviteSession *session, gpointer user_data)
{
  establish (user_data);
}

static void
on_media_changed (SpInviteSession *session, gpointer user_data)
{
  SpCall *self = user_data;

  if (self->state == SP_CALL_STATE_ESTABLISHED || self->state == SP_CALL_STATE_HELD)
    media_apply (self);
}

/* Our hold or resume is over. */
static void
on_modified (SpInviteSession *session, guint status, gpointer user_data)
{
  SpCall *self = user_data;

  if (status >= 200 && status < 300)
    {
      sp_call_set_state (self, self->hold_wanted ? SP_CALL_STATE_HELD : SP_CALL_STATE_ESTABLISHED);
      return;
    }
  /* Refused: what was negotiated before stays in force. */
  g_message ("Call %s: %s refused: %u", self->id, self->hold_wanted ? "hold" : "resume", status);
  self->hold_wanted = self->state == SP_CALL_STATE_HELD;
}

static char *
status_reason (SpSipMessage *response)
{
  return g_strdup (sp_sip_message_get_reason (response) && *sp_sip_message_get_reason (response)
                       ? sp_sip_message_get_reason (response)
                       : sp_sip_status_phrase (sp_sip_message_get_status (response)));
}

/* A challenge the policy would not answer ends the call with its reason
 * (foreign host or realm, weak digest, no account); one the server
 * refused ends it with the server's status, as any failure. */
static gboolean
is_policy_refusal (const GError *error)
{
  return error != NULL && error->domain == SP_CREDENTIALS_ERROR &&
         error->code != SP_CREDENTIALS_ERROR_REFUSED &&
         error->code != SP_CREDENTIALS_ERROR_UNSUPPORTED;
}

/* What the transport said in a locally made 503 ("Service Unavailable
 * (DETAIL)"), NULL when it said nothing more than that it failed. */
static char *
transport_detail (SpSipMessage *response)
{
  const char *phrase = response ? sp_sip_message_get_reason (response) : NULL;
  const char *open = phrase ? strchr (phrase, '(') : NULL;

  if (open == NULL || !g_str_has_suffix (open, ")") || strcmp (open, "(transport error)") == 0)
    return NULL;
  return g_strndup (open + 1, strlen (open) - 2);
}

/* Our INVITE failed: the end reason the user reads, and the tone. */
static void
invite_failed (SpCall *self, const SpSessionEnd *end)
{
  guint status = end->code;
  SpSipClientTransaction *ct = end->ct;
  g_autofree char *reason = status_reason (end->response);
  const char *warning = sp_sip_message_get_header (end->response, "Warning");
  g_autofree char *full = NULL;
  gboolean cancelled = sp_invite_session_is_cancelling (self->session);

  if (is_policy_refusal (end->error))
    {
      self->tail_tone = SP_TONE_CONGESTION;
      end_call (self, end->error->message, end->error_text, status);
      return;
    }
  if (status == 487 && cancelled)
    full = g_strdup (N_ ("User hangup"));
  else if (sp_sip_client_transaction_get_failure (ct) == SP_SIP_FAILURE_TIMEOUT)
    full = g_strdup (N_ ("No answer (timeout)")); /* Timer B: nothing came back */
  else if (sp_sip_client_transaction_get_failure (ct) == SP_SIP_FAILURE_TRANSPORT)
    {
      /* The transport's words (a refused TLS certificate says whose it
       * was and why) ride in the local 503's phrase. */
      g_autofree char *detail = transport_detail (end->response);

      if (detail != NULL)
        {
          g_autofree char *reason_full =
              g_strdup_printf ("%s: %s", N_ ("Cannot reach the peer"), detail);
          g_autofree char *text = g_strdup_printf ("%s: %s", _ ("Cannot reach the peer"), detail);

          self->tail_tone = SP_TONE_CONGESTION;
          end_call (self, reason_full, text, status);
          return;
        }
      full = g_strdup (N_ ("Cannot reach the peer"));
    }
  else if (status == 488 && warning != NULL)
    full = g_strdup_printf ("%s: %s", reason, warning);
  else
    full = g_strdup (reason);
  /* The network's early media, if any, said why already; after our own
   * CANCEL nothing is played. */
  if (!self->early_media && !(status == 487 && cancelled))
    self->tail_tone = status == 486 || status == 600 ? SP_TONE_BUSY : SP_TONE_CONGESTION;
  sp_call_end (self, full, status);
}

/* The session's own findings as the media errors the call reports
 * (end reason and its translation, as for the offer/answer's). */
static GError *
session_error_as_media (const GError *error)
{
  if (error->domain == SP_SESSION_ERROR && error->code == SP_SESSION_ERROR_NO_ANSWER)
    return g_error_new_literal (SP_MEDIA_ERROR, SP_MEDIA_ERROR_NOT_ACCEPTABLE,
                                N_ ("no SDP answer in the 200 OK"));
  if (error->domain == SP_SESSION_ERROR && error->code == SP_SESSION_ERROR_NO_ACK_ANSWER)
    return g_error_new_literal (SP_MEDIA_ERROR, SP_MEDIA_ERROR_NOT_ACCEPTABLE,
                                N_ ("no SDP answer in the ACK"));
  return NULL;
}

static void
on_session_ended (SpInviteSession *session, const SpSessionEnd *end, gpointer user_data)
{
  SpCall *self = user_data;

  switch (end->kind)
    {
      case SP_SESSION_END_REMOTE_BYE:
        sp_call_end (self, N_ ("Remote hangup"), 0);
        break;
      case SP_SESSION_END_CANCELLED:
        /* RFC 3326: a colleague picked it up, or another of our phones
         * answered: no missed call (code 200, see sp_call_to_record). */
        if (sp_session_reason_is_completed_elsewhere (end->cancel_reason))
          sp_call_end (self, N_ ("Answered elsewhere"), 200);
        else
          sp_call_end (self, N_ ("Cancelled by caller"), 487);
        break;
      case SP_SESSION_END_UNREACHABLE:
        sp_call_end (self, N_ ("Caller unreachable"), 408);
        break;
      case SP_SESSION_END_NO_ACK:
        sp_call_end (self, N_ ("No ACK from the peer"), 408);
        break;
      case SP_SESSION_END_EXPIRED:
        sp_call_end (self, N_ ("Session expired"), end->code);
        break;
      case SP_SESSION_END_CANCEL_LATE:
        sp_call_end (self, N_ ("User hangup"), 0);
        break;
      case SP_SESSION_END_BAD_ANSWER:
        {
          g_autoptr (GError) own = session_error_as_media (end->error);
          const GError *error = own ? own : end->error;
          g_autofree char *reason = media_error_reason (error);
          g_autofree char *text = media_error_text (self, error, own == NULL);

          end_call (self, reason, text, 488);
          break;
        }
      case SP_SESSION_END_FAILED:
      default:
        invite_failed (self, end);
        break;
    }
}

static const SpInviteSessionCallbacks session_callbacks = {
  .create_offer = on_create_offer,
  .answer_offer = on_answer_offer,
  .take_answer = on_take_answer,
  .offer_withdrawn = on_offer_withdrawn,
  .progress = on_progress,
  .established = on_established,
  .media_changed = on_media_changed,
  .modified = on_modified,
  .ended = on_session_ended,
  .retry_offer = on_retry_offer,
};

static void
session_new (SpCall *self, SpCredentials *credentials)
{
  g_autofree char *label = g_strdup_printf ("Call %s", self->id);

  self->session = sp_invite_session_new (self->stack, credentials, label, &session_callbacks, self);
  sp_invite_session_set_contact_user (self->session, self->contact_user);
}

/* ---- outgoing ----------------------------------------------------------- */

static gboolean
send_invite (SpCall *self, GError **error)
{
  return sp_invite_session_send_invite (self->session, self->invite,
                                        self->has_dest ? &self->dest : NULL, error);
}

static void
on_next_hop_resolved (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (SpCall) self = data;
  g_autoptr (GError) error = NULL;

  if (!sp_ua_resolve_peer_finish (result, &self->dest, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (self->state == SP_CALL_STATE_ENDED)
    return;
  if (error == NULL)
    {
      g_autofree char *local = sp_phone_dup_local_host_towards (self->phone, self->dest.host);

      self->has_dest = TRUE;
      /* When the name is the account's server or proxy, that is where
       * its challenges may come from. */
      if (self->credentials != NULL)
        sp_credentials_note_resolved (self->credentials, self->next_hop_host, self->next_hop_port,
                                      &self->dest);
      if (g_strcmp0 (local, self->local_host) != 0 && self->oa != NULL)
        {
          /* Bound to a wildcard: only now do we know our address. */
          g_autofree char *offer = NULL;

          g_free (self->local_host);
          self->local_host = g_steal_pointer (&local);
          sp_offer_answer_rollback (self->oa);
          sp_offer_answer_set_local (self->oa, self->local_host, media_port (self), 0);
          offer = sp_offer_answer_create_offer (self->oa);
          set_body_sdp (self->invite, offer);
        }
      send_invite (self, &error);
    }
  if (error != NULL)
    {
      g_message ("Call %s: %s", self->id, error->message);
      sp_call_end (self, error->message, 0);
    }
}

gboolean
sp_call_start_outgoing (SpCall *self, SpPhone *phone, SpTarget *target, SpSipNameAddr *from,
                        GError **error)
{
  g_autofree char *from_text = sp_sip_name_addr_to_string (from);
  g_autofree char *to_text = NULL;
  const char *host = NULL;
  guint16 port = 0;
  SpSipTransportKind kind = sp_account_transport_to_kind (target->transport);

  self->phone = phone;
  self->stack = g_object_ref (sp_phone_get_stack (phone));
  sp_phone_get_local_address (phone, &host, &port);
  self->local_host = sp_phone_dup_local_host_towards (phone, target->next_hop_host);
  self->contact_user =
      g_strdup (target->account ? sp_account_get_username (target->account) : NULL);
  if (target->account != NULL && sp_account_has_credentials (target->account))
    self->credentials = sp_credentials_ref (sp_phone_get_credentials (phone, target->account));
  self->next_hop_host = g_strdup (target->next_hop_host);
  self->next_hop_port = target->next_hop_port;
  {
    g_autofree char *uri = sp_sip_uri_to_string (target->request_uri);
    to_text = g_strdup_printf ("<%s>", uri);
  }
  session_new (self, self->credentials);
  if (kind == SP_SIP_TRANSPORT_TLS)
    sp_call_update_protection (self, SP_CALL_PROTECTION_TLS, 0);

  /* Numeric next hops go straight there; names are looked up first. */
  if (target->next_hop_host != NULL && g_hostname_is_ip_address (target->next_hop_host))
    {
      sp_sip_peer_init (&self->dest, kind, target->next_hop_host,
                        target->next_hop_port ? target->next_hop_port
                                              : sp_sip_transport_kind_default_port (kind));
      self->has_dest = TRUE;
    }

  media_prepare (self);
  if (media_encryption (self) == SP_MEDIA_ENCRYPTION_REQUIRED &&
      !sp_offer_answer_can_encrypt (self->oa))
    {
      g_set_error_literal (
          error, SP_MEDIA_ERROR, SP_MEDIA_ERROR_NOT_ACCEPTABLE,
          N_ ("Encrypted calls are required, and their keys need SIP over TLS (a sips: address "
              "or transport=tls)"));
      return FALSE;
    }
  self->invite =
      sp_sip_stack_new_request (self->stack, "INVITE", target->request_uri, from_text, to_text, 1);
  {
    g_autofree char *offer = sp_offer_answer_create_offer (self->oa);
    set_body_sdp (self->invite, offer);
  }
  g_free (self->sip_call_id);
  self->sip_call_id = g_strdup (sp_sip_message_get_call_id (self->invite));
  if (target->next_hop_host != NULL && !self->has_dest)
    {
      self->resolving = g_cancellable_new ();
      sp_ua_resolve_peer_async (target->next_hop_host, target->next_hop_port, kind,
                                sp_ua_host_family (self->local_host), self->resolving,
                                on_next_hop_resolved, g_object_ref (self));
      return TRUE;
    }
  return send_invite (self, error);
}

/* ---- incoming ----------------------------------------------------------- */

/* Answers the INVITE before the answer (180, or a refusal). */
static void
respond (SpCall *self, guint status, const char *reason, const char *warning)
{
  sp_invite_session_respond (self->session, status, reason, warning);
}

/* Nobody answered in time (the phone's "ring-timeout"): 480, as a
 * phone that rang out does, and the call ends as missed. */
static gboolean
ring_timeout_cb (gpointer data)
{
  SpCall *self = data;

  self->ring_timer = 0;
  if (self->state != SP_CALL_STATE_INCOMING ||
      sp_invite_session_get_state (self->session) != SP_INVITE_SESSION_INCOMING)
    return G_SOURCE_REMOVE;
  g_message ("Incoming call %s not answered in time", self->id);
  respond (self, 480, NULL, NULL);
  sp_call_end (self, N_ ("Not answered"), 480);
  return G_SOURCE_REMOVE;
}

/* The offer of an incoming INVITE checked against what we can do,
 * without opening anything: a ringing call holds no socket and no
 * device (a flood of INVITEs that are never cancelled must not use up
 * descriptors). The media and the answer are made on answer. */
static gboolean
check_offer (SpCall *self, const guint8 *body, gsize len, GError **error)
{
  SpOfferAnswerConfig config;
  g_autoptr (SpOfferAnswer) oa = NULL;
  g_autofree char *answer = NULL;
  SpMediaParams params;

  oa_config_init (self, &config);
  config.rtp_port = 9;
  oa = sp_offer_answer_new (&config);
  answer = sp_offer_answer_process_offer (oa, (const char *) body, len, &params, error);
  /* It holds a key (SDES), thrown away with this answer. */
  if (answer != NULL)
    explicit_bzero (answer, strlen (answer));
  if (answer == NULL)
    {
      /* Keep its translated reason for the window. */
      self->oa = g_steal_pointer (&oa);
      return FALSE;
    }
  return TRUE;
}

void
sp_call_start_incoming (SpCall *self, SpPhone *phone, SpSipServerTransaction *st,
                        SpSipMessage *invite, gboolean busy, SpCredentials *credentials)
{
  g_autoptr (GError) error = NULL;
  const guint8 *body;
  gsize len = 0;
  guint ring_timeout = sp_phone_get_ring_timeout (phone);

  self->phone = phone;
  self->dest = *sp_sip_server_transaction_get_source (st);
  self->has_dest = TRUE;
  self->stack = g_object_ref (sp_phone_get_stack (phone));
  self->local_host =
      sp_phone_dup_local_host_towards (phone, sp_sip_server_transaction_get_source (st)->host);
  if (self->dest.kind == SP_SIP_TRANSPORT_TLS)
    sp_call_update_protection (self, SP_CALL_PROTECTION_TLS, 0);
  /* From our own server: its challenges to our BYE or re-INVITE are
   * answered with that account's credentials. */
  if (credentials != NULL)
    self->credentials = sp_credentials_ref (credentials);
  session_new (self, self->credentials);
  if (!sp_invite_session_receive_invite (self->session, st, invite))
    {
      /* 422: their session interval is below our minimum (RFC 4028). */
      sp_call_end (self, N_ ("Session interval too small"), 422);
      return;
    }

  if (busy)
    {
      respond (self, 486, NULL, NULL);
      sp_call_end (self, N_ ("Busy Here"), 486);
      return;
    }
  body = sp_sip_message_get_body (invite, &len);
  /* No offer (RFC 3261 13.2.1): the session offers in the 200, the
   * answer comes in the ACK. */
  if (len > 0 && !check_offer (self, body, len, &error))
    {
      g_autofree char *reason = media_error_reason (error);
      g_autofree char *text = media_error_text (self, error, TRUE);
      guint status = sp_offer_answer_error_status (error);

      /* The Warning to the caller stays English; the window gets @text. */
      g_message ("Incoming call %s refused: %s", self->id, error->message);
      g_clear_pointer (&self->oa, sp_offer_answer_free);
      respond (self, status, NULL, reason);
      end_call (self, reason, text, status);
      return;
    }
  respond (self, 180, NULL, NULL);
  if (ring_timeout > 0 && self->state == SP_CALL_STATE_INCOMING)
    /* Not g_timeout_add_seconds: it rounds to the second and may ring
     * out almost a second early. */
    self->ring_timer = g_timeout_add (ring_timeout * 1000, ring_timeout_cb, self);
}

/* The ACK for a 200 we sent. After a late offer (ours in the 200) it
 * carries the answer; the session knows which ACK that is. */
void
sp_call_handle_ack (SpCall *self, SpSipMessage *ack)
{
  if (self->session != NULL && self->state != SP_CALL_STATE_ENDED)
    sp_invite_session_handle_ack (self->session, ack);
}

void
sp_call_handle_ack_timeout (SpCall *self)
{
  if (self->session != NULL)
    sp_invite_session_handle_ack_timeout (self->session);
}

/* ---- in-dialog requests -------------------------------------------------- */

static char
parse_dtmf_relay (const guint8 *body, gsize len)
{
  g_autofree char *text = g_strndup ((const char *) body, MIN (len, 1024));
  g_auto (GStrv) lines = g_strsplit_set (text, "\r\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strstrip (lines[i]);
      if (g_ascii_strncasecmp (line, "Signal", 6) == 0)
        {
          char *eq = strchr (line, '=');
          if (eq == NULL)
            return 0;
          eq = g_strstrip (eq + 1);
          if (eq[0] != '\0' && eq[1] == '\0' && strchr ("0123456789*#ABCDabcd", eq[0]))
            return g_ascii_toupper (eq[0]);
          if (g_strcmp0 (eq, "10") == 0)
            return '*';
          if (g_strcmp0 (eq, "11") == 0)
            return '#';
          return 0;
        }
    }
  return 0;
}

gboolean
sp_call_handle_request (SpCall *self, SpSipServerTransaction *st, SpSipMessage *request)
{
  if (self->session != NULL && self->state != SP_CALL_STATE_ENDED &&
      sp_invite_session_handle_request (self->session, st, request))
    return TRUE;
  if (sp_sip_message_get_method_id (request) == SP_SIP_METHOD_INFO)
    {
      const char *type = sp_sip_message_get_content_type (request);
      const guint8 *body;
      gsize len = 0;
      char digit;

      body = sp_sip_message_get_body (request, &len);
      if (g_strcmp0 (type, "application/dtmf-relay") == 0 &&
          (digit = parse_dtmf_relay (body, len)) != 0)
        {
          sp_sip_stack_reply (self->stack, st, 200, NULL);
          g_signal_emit (self, signals[SIGNAL_DTMF_RECEIVED], 0, digit, "info");
        }
      else
        sp_sip_stack_reply (self->stack, st, 415, NULL);
      return TRUE;
    }
  return FALSE;
}

/* ---- actions ------------------------------------------------------------ */

typedef enum
{
  ACTION_ANSWER,
  ACTION_HANG_UP,
  ACTION_HOLD,
  ACTION_RESUME,
  ACTION_SEND_DTMF,
  ACTION_TRANSFER,
} CallAction;

/* One whole sentence per action and state, for the translators: a
 * translated verb glued into an English frame reads wrong in Chinese. */
static gboolean
check_state (SpCall *self, gboolean ok, CallAction action, GError **error)
{
  const char *id = self->id;
  gboolean held = self->state == SP_CALL_STATE_HELD;

  if (ok)
    return TRUE;
  switch (action)
    {
      case ACTION_ANSWER:
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                     _ ("Cannot answer call %s: it is not ringing"), id);
        break;
      case ACTION_HANG_UP:
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                     _ ("Cannot hang up call %s: it has already ended"), id);
        break;
      case ACTION_HOLD:
        if (held)
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _ ("Call %s is already on hold"), id);
        else
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       _ ("Cannot put call %s on hold: it is not connected"), id);
        break;
      case ACTION_RESUME:
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                     _ ("Cannot resume call %s: it is not on hold"), id);
        break;
      case ACTION_SEND_DTMF:
        if (held)
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       _ ("Cannot send DTMF on call %s: it is on hold"), id);
        else
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       _ ("Cannot send DTMF on call %s: it is not connected"), id);
        break;
      case ACTION_TRANSFER:
      default:
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                     _ ("Cannot transfer call %s: it is not connected"), id);
        break;
    }
  return FALSE;
}

gboolean
sp_call_answer (SpCall *self, GError **error)
{
  g_return_val_if_fail (SP_IS_CALL (self), FALSE);
  if (!check_state (self,
                    self->state == SP_CALL_STATE_INCOMING && self->session != NULL &&
                        sp_invite_session_get_state (self->session) == SP_INVITE_SESSION_INCOMING,
                    ACTION_ANSWER, error))
    return FALSE;
  g_clear_handle_id (&self->ring_timer, g_source_remove);
  /* Only now the RTP socket and the devices: see check_offer. */
  media_prepare (self);
  return sp_invite_session_accept (self->session, error);
}

gboolean
sp_call_hangup (SpCall *self, GError **error)
{
  g_return_val_if_fail (SP_IS_CALL (self), FALSE);
  if (!check_state (self, self->state != SP_CALL_STATE_ENDED, ACTION_HANG_UP, error))
    return FALSE;

  switch (self->state)
    {
      case SP_CALL_STATE_DIALING:
      case SP_CALL_STATE_RINGING:
        /* CANCEL; the call ends when the 487 arrives (or at once if there
         * is nothing to cancel). */
        if (self->session != NULL && sp_invite_session_cancel (self->session))
          return TRUE;
        sp_call_end (self, N_ ("User hangup"), 0);
        return TRUE;
      case SP_CALL_STATE_INCOMING:
        if (sp_invite_session_get_state (self->session) == SP_INVITE_SESSION_ANSWERED)
          {
            /* Answered already (a late offer waiting for its ACK). */
            end_session (self);
            sp_call_end (self, N_ ("User hangup"), 0);
            return TRUE;
          }
        respond (self, 603, "Decline", NULL);
        sp_call_end (self, N_ ("Declined"), 603);
        return TRUE;
      case SP_CALL_STATE_ESTABLISHED:
      case SP_CALL_STATE_HELD:
      case SP_CALL_STATE_ENDED:
      default:
        end_session (self);
        sp_call_end (self, N_ ("User hangup"), 0);
        return TRUE;
    }
}

/* Hold or resume: a re-INVITE with the new offer (the session retries
 * it once after a 491 and answers challenges). */
static gboolean
send_reinvite (SpCall *self, gboolean hold, GError **error)
{
  if (self->session == NULL || self->oa == NULL ||
      sp_invite_session_get_dialog (self->session) == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _ ("Call %s has no dialog"), self->id);
      return FALSE;
    }
  if (sp_invite_session_is_modifying (self->session) ||
      sp_invite_session_get_offer_state (self->session) != SP_SESSION_OFFER_NONE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                   _ ("Call %s: a hold or resume is in progress"), self->id);
      return FALSE;
    }
  self->hold_wanted = hold;
  if (!sp_invite_session_modify (self->session, error))
    {
      self->hold_wanted = self->state == SP_CALL_STATE_HELD;
      return FALSE;
    }
  return TRUE;
}

gboolean
sp_call_hold (SpCall *self, GError **error)
{
  g_return_val_if_fail (SP_IS_CALL (self), FALSE);
  if (!check_state (self, self->state == SP_CALL_STATE_ESTABLISHED, ACTION_HOLD, error))
    return FALSE;
  return send_reinvite (self, TRUE, error);
}

gboolean
sp_call_resume (SpCall *self, GError **error)
{
  g_return_val_if_fail (SP_IS_CALL (self), FALSE);
  if (!check_state (self, self->state == SP_CALL_STATE_HELD, ACTION_RESUME, error))
    return FALSE;
  if (self->phone != NULL)
    sp_phone_hold_others (self->phone, self);
  return send_reinvite (self, FALSE, error);
}

gboolean
sp_call_send_dtmf (SpCall *self, const char *digits, GError **error)
{
  g_return_val_if_fail (SP_IS_CALL (self), FALSE);
  for (const char *p = digits; *p != '\0'; p++)
    if (strchr ("0123456789*#ABCDabcd", *p) == NULL)
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                     _ ("dtmf: '%c' is not a DTMF digit (0-9 * # A-D)"), *p);
        return FALSE;
      }
  if (!check_state (self, self->state == SP_CALL_STATE_ESTABLISHED, ACTION_SEND_DTMF, error))
    return FALSE;
  /* DTLS-SRTP not keyed yet: nothing goes out before the keys, so the
   * digits wait for them (a key pressed right after the answer). */
  if (self->media != NULL && self->params.dtmf_payload_type >= 0 && self->dtls != NULL &&
      !sp_dtls_is_established (self->dtls))
    {
      if (self->dtmf_pending == NULL)
        self->dtmf_pending = g_string_new (NULL);
      if (self->dtmf_pending->len + strlen (digits) <= 32)
        {
          g_string_append (self->dtmf_pending, digits);
          return TRUE;
        }
    }
  if (self->media == NULL || self->params.dtmf_payload_type < 0 ||
      !sp_media_session_send_dtmf (self->media, digits))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _ ("Call %s: the peer takes no RFC 4733 telephone events"), self->id);
      return FALSE;
    }
  return TRUE;
}

gboolean
sp_call_transfer (SpCall *self, const char *target, GError **error)
{
  g_autoptr (SpSipMessage) refer = NULL;
  g_autoptr (SpTarget) t = NULL;
  g_autofree char *uri = NULL;

  g_return_val_if_fail (SP_IS_CALL (self), FALSE);
  if (!check_state (self,
                    self->state == SP_CALL_STATE_ESTABLISHED || self->state == SP_CALL_STATE_HELD,
                    ACTION_TRANSFER, error))
    return FALSE;
  t = sp_target_parse (target, self->account, error);
  if (t == NULL)
    return FALSE;
  refer = self->session ? sp_invite_session_new_request (self->session, "REFER") : NULL;
  if (refer == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _ ("Call %s has no dialog"), self->id);
      return FALSE;
    }
  uri = sp_sip_uri_to_string (t->request_uri);
  {
    g_autofree char *value = g_strdup_printf ("<%s>", uri);
    sp_sip_message_set_header (refer, "Refer-To", value, NULL);
  }
  return sp_invite_session_send_request (self->session, refer, error);
}
