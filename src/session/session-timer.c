#include "session/session-timer.h"

#include <string.h>

void
sp_session_timer_settings_init (SpSessionTimerSettings *settings)
{
  settings->interval = 1800;
  settings->min_se = MIN_MIN_SE;
  settings->refresher = SP_SESSION_TIMER_ROLE_ANY;
}

/* ---- session timer (RFC 4028) --------------------------------------------- */

/* Session-Expires of @msg: its delta-seconds, and its refresher param
 * ("uac"/"uas", else NULL). FALSE when absent or unreadable. */
gboolean
sp_session_timer_parse_expires (const SpSipMessage *msg, guint *delta, const char **refresher)
{
  const char *value = sp_sip_message_get_header (msg, "Session-Expires");
  guint64 n = 0;
  char *end = NULL;

  *refresher = NULL;
  if (value == NULL)
    return FALSE;
  while (*value == ' ' || *value == '\t')
    value++;
  if (!g_ascii_isdigit (*value))
    return FALSE;
  n = g_ascii_strtoull (value, &end, 10);
  if (n == 0 || n > G_MAXUINT)
    return FALSE;
  *delta = (guint) n;
  if (strstr (end, "refresher=uac") != NULL)
    *refresher = "uac";
  else if (strstr (end, "refresher=uas") != NULL)
    *refresher = "uas";
  return TRUE;
}

guint
sp_session_timer_parse_min_se (const SpSipMessage *msg)
{
  const char *value = sp_sip_message_get_header (msg, "Min-SE");
  guint64 n;

  if (value == NULL)
    return 0;
  while (*value == ' ' || *value == '\t')
    value++;
  n = g_ascii_strtoull (value, NULL, 10);
  return n > MAX_INTERVAL ? MAX_INTERVAL + 1 : (guint) n;
}

/* The timer headers of a request we send: our offer for the INVITE, the
 * interval in force (with ourselves as refresher when we refresh) later. */
void
sp_session_timer_add_request_headers (SpInviteSession *self, SpSipMessage *request,
                                      gboolean refresh)
{
  g_autofree char *se = NULL;
  g_autofree char *min_se = NULL;
  guint interval = self->interval > 0 ? self->interval : self->timer.interval;
  const char *role = NULL;

  if (self->timer.interval == 0)
    return;
  sp_session_add_supported (request, "timer");
  if (sp_sip_message_get_method_id (request) == SP_SIP_METHOD_INVITE && self->interval == 0 &&
      self->state != SP_INVITE_SESSION_CONFIRMED)
    role = self->timer.refresher == SP_SESSION_TIMER_ROLE_UAC   ? "uac"
           : self->timer.refresher == SP_SESSION_TIMER_ROLE_UAS ? "uas"
                                                                : NULL;
  else if (self->interval > 0)
    /* In a request of ours, "uac" is us (RFC 4028 7.4). */
    role = self->refresher == SP_SESSION_REFRESHER_LOCAL || refresh ? "uac" : "uas";
  se =
      role ? g_strdup_printf ("%u;refresher=%s", interval, role) : g_strdup_printf ("%u", interval);
  min_se = g_strdup_printf ("%u", self->timer.min_se);
  sp_sip_message_set_header (request, "Session-Expires", se, NULL);
  sp_sip_message_set_header (request, "Min-SE", min_se, NULL);
}

/* The 2xx to a request of ours: the timer it settles. */
void
sp_session_timer_from_response (SpInviteSession *self, const SpSipMessage *response)
{
  const char *role;
  guint delta;

  if (self->timer.interval == 0 || !sp_session_timer_parse_expires (response, &delta, &role))
    {
      /* No Session-Expires in the 2xx: no session expiration (7.2). */
      self->interval = 0;
      sp_session_timer_stop (self);
      return;
    }
  self->interval = CLAMP (delta, MIN_MIN_SE, MAX_INTERVAL);
  /* "uac" is us, the sender of the request; a UAS that names no one
   * left it to us. */
  self->refresher =
      g_strcmp0 (role, "uas") == 0 ? SP_SESSION_REFRESHER_REMOTE : SP_SESSION_REFRESHER_LOCAL;
  sp_session_timer_start (self);
}

/* A request from the peer that may refresh the session (INVITE,
 * re-INVITE, UPDATE): 0 when it may go on, else 422 with our Min-SE. */
guint
sp_session_timer_check_request (SpInviteSession *self, const SpSipMessage *request)
{
  const char *role;
  guint delta;

  if (self->timer.interval == 0 || !sp_session_timer_parse_expires (request, &delta, &role))
    return 0;
  return delta < self->timer.min_se ? 422 : 0;
}

/* Their request's Session-Expires (present) settled in our 2xx @ok:
 * the interval and who refreshes. */
static SpSessionRefresher
timer_settle (const SpSessionTimerSettings *timer, const SpSipMessage *request, guint delta,
              const char *role, SpSipMessage *ok, guint *interval)
{
  g_autofree char *se = NULL;
  gboolean supported = sp_session_has_token (request, "Supported", "timer");
  SpSessionRefresher refresher;

  *interval = CLAMP (delta, MIN_MIN_SE, MAX_INTERVAL);
  if (role != NULL)
    refresher =
        strcmp (role, "uac") == 0 ? SP_SESSION_REFRESHER_REMOTE : SP_SESSION_REFRESHER_LOCAL;
  else if (supported && timer->refresher != SP_SESSION_TIMER_ROLE_UAS)
    refresher = SP_SESSION_REFRESHER_REMOTE;
  else
    refresher = SP_SESSION_REFRESHER_LOCAL; /* they cannot: we do */
  se = g_strdup_printf ("%u;refresher=%s", *interval,
                        refresher == SP_SESSION_REFRESHER_REMOTE ? "uac" : "uas");
  sp_sip_message_set_header (ok, "Session-Expires", se, NULL);
  sp_session_add_supported (ok, "timer");
  if (refresher == SP_SESSION_REFRESHER_REMOTE)
    sp_sip_message_set_header (ok, "Require", "timer", NULL);
  return refresher;
}

/* Settles the timer from the peer's request and puts it in our 2xx. */
void
sp_session_timer_answer_request (SpInviteSession *self, const SpSipMessage *request,
                                 SpSipMessage *ok)
{
  g_autofree char *se = NULL;
  const char *role;
  guint delta;

  if (self->timer.interval == 0)
    return;
  if (!sp_session_timer_parse_expires (request, &delta, &role))
    {
      /* They asked for none: a refresh without Session-Expires keeps the
       * interval in force; an INVITE without it gets none (we do not
       * impose a timer on a caller that did not ask). */
      if (self->interval > 0 && self->state == SP_INVITE_SESSION_CONFIRMED)
        {
          se = g_strdup_printf ("%u;refresher=%s", self->interval,
                                self->refresher == SP_SESSION_REFRESHER_LOCAL ? "uas" : "uac");
          sp_sip_message_set_header (ok, "Session-Expires", se, NULL);
          sp_session_timer_start (self);
        }
      return;
    }
  self->refresher = timer_settle (&self->timer, request, delta, role, ok, &self->interval);
}

void
sp_session_timer_add_to_invite (const SpSessionTimerSettings *settings, SpSipMessage *invite)
{
  g_autofree char *se = NULL;
  g_autofree char *min_se = NULL;
  const char *role = settings->refresher == SP_SESSION_TIMER_ROLE_UAC   ? ";refresher=uac"
                     : settings->refresher == SP_SESSION_TIMER_ROLE_UAS ? ";refresher=uas"
                                                                        : "";

  if (settings->interval == 0)
    return;
  sp_session_add_supported (invite, "timer");
  se = g_strdup_printf ("%u%s", settings->interval, role);
  min_se = g_strdup_printf ("%u", settings->min_se);
  sp_sip_message_set_header (invite, "Session-Expires", se, NULL);
  sp_sip_message_set_header (invite, "Min-SE", min_se, NULL);
}

gboolean
sp_session_timer_too_short (const SpSessionTimerSettings *settings, const SpSipMessage *invite)
{
  const char *role;
  guint delta;

  return settings->interval != 0 && sp_session_timer_parse_expires (invite, &delta, &role) &&
         delta < settings->min_se;
}

gboolean
sp_session_timer_raise_for_422 (SpSessionTimerSettings *settings, const SpSipMessage *sent,
                                const SpSipMessage *response)
{
  guint min_se = sp_session_timer_parse_min_se (response);
  guint asked = 0;
  const char *role;

  /* A 422 whose Min-SE is no more than what we sent would change
   * nothing: the INVITE would only be refused again. */
  if (settings->interval == 0 || !sp_session_timer_parse_expires (sent, &asked, &role) ||
      (min_se <= asked && min_se <= sp_session_timer_parse_min_se (sent)) || min_se > MAX_INTERVAL)
    return FALSE;
  settings->min_se = MAX (settings->min_se, min_se);
  settings->interval = MAX (settings->interval, min_se);
  return TRUE;
}

void
sp_session_timer_add_min_se (const SpSessionTimerSettings *settings, SpSipMessage *response)
{
  g_autofree char *min_se = g_strdup_printf ("%u", settings->min_se);

  sp_sip_message_set_header (response, "Min-SE", min_se, NULL);
}

void
sp_session_timer_answer_invite (const SpSessionTimerSettings *settings, const SpSipMessage *invite,
                                SpSipMessage *ok)
{
  const char *role;
  guint delta;
  guint interval;

  if (settings->interval == 0 || !sp_session_timer_parse_expires (invite, &delta, &role))
    return;
  timer_settle (settings, invite, delta, role, ok, &interval);
}

void
sp_session_timer_stop (SpInviteSession *self)
{
  sp_sip_clock_cancel (self->clock, self->refresh_timer);
  sp_sip_clock_cancel (self->clock, self->expiry_timer);
  self->refresh_timer = 0;
  self->expiry_timer = 0;
}

static void
refresh_cb (gpointer data)
{
  SpInviteSession *self = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *sdp = NULL;
  RequestKind kind = REQUEST_UPDATE;

  self->refresh_timer = 0;
  if (!sp_invite_session_is_alive (self) || self->state != SP_INVITE_SESSION_CONFIRMED)
    return;
  /* An exchange in progress refreshes the session when it completes. */
  if (self->modify != MODIFY_NONE || self->offer != SP_SESSION_OFFER_NONE)
    {
      self->refresh_timer = sp_sip_clock_add_timeout (self->clock, 1000, refresh_cb, self);
      return;
    }
  /* UPDATE without a body when the peer takes it (RFC 4028 recommends
   * it: no offer/answer), else a re-INVITE with the session as it is. */
  if (!self->peer_allows_update)
    {
      kind = REQUEST_REINVITE;
      sdp = self->cb->create_offer ? self->cb->create_offer (self, self->user_data) : NULL;
      if (sdp != NULL)
        self->offer = SP_SESSION_OFFER_LOCAL;
    }
  g_debug ("%s: refreshing the session (%s)", self->label,
           kind == REQUEST_UPDATE ? "UPDATE" : "re-INVITE");
  self->modify = MODIFY_SENT;
  self->modify_refresh = TRUE;
  self->retries_422 = 0;
  self->modify_method = kind == REQUEST_UPDATE ? SP_SIP_METHOD_UPDATE : SP_SIP_METHOD_INVITE;
  if (!sp_invite_session_send_in_dialog (self, kind, sdp, TRUE, NULL, &error))
    {
      g_message ("%s: session refresh not sent: %s", self->label, error->message);
      self->modify = MODIFY_NONE;
      self->modify_refresh = FALSE;
      if (sdp != NULL)
        {
          self->offer = SP_SESSION_OFFER_NONE;
          if (self->cb->offer_withdrawn)
            self->cb->offer_withdrawn (self, self->user_data);
        }
    }
}

static void
expiry_cb (gpointer data)
{
  SpInviteSession *self = data;

  self->expiry_timer = 0;
  if (!sp_invite_session_is_alive (self))
    return;
  g_message ("%s: no session refresh within %u s: BYE", self->label, self->interval);
  sp_invite_session_send_bye (self);
  sp_invite_session_end_kind (self, SP_SESSION_END_EXPIRED, 408, NULL);
}

/* (Re)starts the timers for the interval in force: the refresher
 * refreshes at half of it (RFC 4028 10); either side sends BYE when
 * nothing refreshed it by interval - min(32, interval / 3). */
void
sp_session_timer_start (SpInviteSession *self)
{
  guint interval = self->interval;

  sp_session_timer_stop (self);
  if (interval == 0 || self->state != SP_INVITE_SESSION_CONFIRMED)
    return;
  if (self->refresher == SP_SESSION_REFRESHER_LOCAL)
    self->refresh_timer =
        sp_sip_clock_add_timeout (self->clock, interval * 1000 / 2, refresh_cb, self);
  self->expiry_timer = sp_sip_clock_add_timeout (
      self->clock, (interval - MIN (32, interval / 3)) * 1000, expiry_cb, self);
}

/* A 422 (RFC 4028 6): the same request again with the peer's Min-SE. */
gboolean
sp_session_timer_retry_with_min_se (SpInviteSession *self, SpSipMessage *response,
                                    guint *sent_interval)
{
  guint min_se = sp_session_timer_parse_min_se (response);

  if (self->timer.interval == 0 || min_se <= *sent_interval || min_se > MAX_INTERVAL ||
      self->retries_422 >= MAX_422_RETRIES)
    return FALSE;
  self->retries_422++;
  self->timer.min_se = MAX (self->timer.min_se, min_se);
  self->timer.interval = MAX (self->timer.interval, min_se);
  if (self->interval > 0)
    self->interval = MAX (self->interval, min_se);
  *sent_interval = min_se;
  return TRUE;
}
