#include "session/notifier.h"

#include "sip/random.h"

#include <string.h>

#define RETRY_AFTER_S "10"

typedef struct
{
  char *event;
  char *content_type;
  SpNotifierBodyFunc func;
  gpointer user_data;
} Package;

typedef struct _Watcher Watcher;
typedef struct _Sub Sub;

struct _Watcher
{
  char *name;
  guint n_subs;
  guint in_flight;
  GQueue waiting; /* Sub *, dirty and held back by the in-flight cap */
};

struct _Sub
{
  SpNotifier *notifier;
  char *id; /* the dialog id */
  SpSipDialog *dialog;
  Package *package;
  char *event_id; /* the Event header's id parameter, or NULL */
  char *resource;
  Watcher *watcher;
  gint64 expires_at; /* clock ms */
  guint expiry_timer;
  guint interval_timer;
  gint64 last_sent; /* clock ms, -1 never */
  guint version;
  gboolean in_flight;
  gboolean dirty;
  gboolean waiting; /* in watcher->waiting */
};

struct _SpNotifier
{
  gint ref_count; /* the owner's and each NOTIFY in flight */
  gboolean closed;
  SpSipStack *stack;
  SpSipClock *clock;
  SpNotifierLimits limits;
  GPtrArray *packages;
  char *allow_events;
  GHashTable *subs;      /* dialog id -> Sub */
  GHashTable *resources; /* resource -> GPtrArray of Sub (borrowed) */
  GHashTable *watchers;  /* name -> Watcher */
  guint64 notifies_sent;
};

typedef struct
{
  SpNotifier *notifier;
  char *id;
  gboolean final; /* the terminating NOTIFY: nothing to do after */
} NotifyCtx;

static void send_notify (Sub *sub, const char *terminated_reason);

void
sp_notifier_limits_init (SpNotifierLimits *limits)
{
  limits->max_total = 50000;
  limits->max_per_watcher = 500;
  limits->min_expires = 60;
  limits->max_expires = 3600;
  limits->default_expires = 600;
  limits->min_interval_ms = 200;
  limits->max_in_flight_per_watcher = 16;
}

static void
package_free (gpointer data)
{
  Package *p = data;

  g_free (p->event);
  g_free (p->content_type);
  g_free (p);
}

static void
watcher_free (gpointer data)
{
  Watcher *w = data;

  g_queue_clear (&w->waiting);
  g_free (w->name);
  g_free (w);
}

static void
notifier_unref (SpNotifier *self)
{
  if (--self->ref_count > 0)
    return;
  g_hash_table_unref (self->subs);
  g_hash_table_unref (self->resources);
  g_hash_table_unref (self->watchers);
  g_ptr_array_unref (self->packages);
  g_free (self->allow_events);
  g_object_unref (self->stack);
  g_free (self);
}

/* Forgets @sub: timers, tables, its dialog in the stack. */
static void
sub_remove (Sub *sub)
{
  SpNotifier *self = sub->notifier;
  GPtrArray *list = g_hash_table_lookup (self->resources, sub->resource);
  Watcher *w = sub->watcher;

  sp_sip_clock_cancel (self->clock, sub->expiry_timer);
  sp_sip_clock_cancel (self->clock, sub->interval_timer);
  if (sub->waiting)
    g_queue_remove (&w->waiting, sub);
  if (sub->in_flight && w->in_flight > 0)
    w->in_flight--; /* its answer finds no subscription */
  if (list != NULL)
    {
      g_ptr_array_remove_fast (list, sub);
      if (list->len == 0)
        g_hash_table_remove (self->resources, sub->resource);
    }
  if (--w->n_subs == 0)
    g_hash_table_remove (self->watchers, w->name);
  if (sp_sip_dialog_get_state (sub->dialog) != SP_SIP_DIALOG_TERMINATED)
    sp_sip_stack_remove_dialog (self->stack, sub->dialog);
  g_hash_table_remove (self->subs, sub->id); /* frees it */
}

static void
sub_free (gpointer data)
{
  Sub *sub = data;

  sp_sip_dialog_unref (sub->dialog);
  g_free (sub->id);
  g_free (sub->event_id);
  g_free (sub->resource);
  g_free (sub);
}

SpNotifier *
sp_notifier_new (SpSipStack *stack, const SpNotifierLimits *limits)
{
  SpNotifier *self = g_new0 (SpNotifier, 1);

  self->ref_count = 1;
  self->stack = g_object_ref (stack);
  self->clock = sp_sip_transaction_layer_get_clock (sp_sip_stack_get_transactions (stack));
  if (limits != NULL)
    self->limits = *limits;
  else
    sp_notifier_limits_init (&self->limits);
  self->packages = g_ptr_array_new_with_free_func (package_free);
  self->allow_events = g_strdup ("");
  self->subs = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, sub_free);
  self->resources =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  self->watchers = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, watcher_free);
  return self;
}

void
sp_notifier_free (SpNotifier *self)
{
  GHashTableIter iter;
  gpointer value;

  if (self == NULL)
    return;
  self->closed = TRUE;
  g_hash_table_iter_init (&iter, self->subs);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Sub *sub = value;
      sp_sip_clock_cancel (self->clock, sub->expiry_timer);
      sp_sip_clock_cancel (self->clock, sub->interval_timer);
      if (sp_sip_dialog_get_state (sub->dialog) != SP_SIP_DIALOG_TERMINATED)
        sp_sip_stack_remove_dialog (self->stack, sub->dialog);
    }
  g_hash_table_remove_all (self->resources);
  g_hash_table_remove_all (self->subs);
  notifier_unref (self);
}

void
sp_notifier_set_limits (SpNotifier *self, const SpNotifierLimits *limits)
{
  self->limits = *limits;
}

void
sp_notifier_add_package (SpNotifier *self, const char *event, const char *content_type,
                         SpNotifierBodyFunc func, gpointer user_data)
{
  Package *p = g_new0 (Package, 1);
  char *allow;

  p->event = g_strdup (event);
  p->content_type = g_strdup (content_type);
  p->func = func;
  p->user_data = user_data;
  g_ptr_array_add (self->packages, p);
  allow = *self->allow_events ? g_strdup_printf ("%s, %s", self->allow_events, event)
                              : g_strdup (event);
  g_free (self->allow_events);
  self->allow_events = allow;
}

const char *
sp_notifier_get_allow_events (SpNotifier *self)
{
  return self->allow_events;
}

gboolean
sp_notifier_owns_dialog (SpNotifier *self, SpSipDialog *dialog)
{
  g_autofree char *id = NULL;

  if (dialog == NULL || g_hash_table_size (self->subs) == 0)
    return FALSE;
  id = sp_sip_dialog_dup_id (dialog);
  return g_hash_table_contains (self->subs, id);
}

guint
sp_notifier_get_n_subscriptions (SpNotifier *self)
{
  return g_hash_table_size (self->subs);
}

guint64
sp_notifier_get_n_notifies_sent (SpNotifier *self)
{
  return self->notifies_sent;
}

/* ---- Event header (RFC 6665 8.2.1): "token *(;param)", id= kept ---- */

static gboolean
parse_event (const char *value, char **package, char **id)
{
  g_auto (GStrv) parts = NULL;

  *package = NULL;
  *id = NULL;
  if (value == NULL || strlen (value) > 256)
    return FALSE;
  parts = g_strsplit (value, ";", 16);
  *package = g_strstrip (g_strdup (parts[0]));
  for (guint i = 1; parts[i] != NULL; i++)
    {
      char *param = g_strstrip (parts[i]);
      if (g_ascii_strncasecmp (param, "id=", 3) == 0 && *id == NULL)
        *id = g_strdup (param + 3);
    }
  return **package != '\0';
}

static Package *
find_package (SpNotifier *self, const char *event)
{
  for (guint i = 0; i < self->packages->len; i++)
    {
      Package *p = g_ptr_array_index (self->packages, i);
      if (g_ascii_strcasecmp (p->event, event) == 0)
        return p;
    }
  return NULL;
}

/* Accept absent, or listing our type (or a wildcard). */
static gboolean
accepts (const SpSipMessage *request, const char *content_type)
{
  guint n = sp_sip_message_get_n_headers (request);
  gboolean any = FALSE;

  for (guint i = 0; i < n; i++)
    {
      const char *name, *value;
      g_auto (GStrv) types = NULL;

      sp_sip_message_get_nth_header (request, i, &name, &value);
      if (g_ascii_strcasecmp (name, "Accept") != 0)
        continue;
      any = TRUE;
      types = g_strsplit (value, ",", 64);
      for (guint t = 0; types[t] != NULL; t++)
        {
          char *type = g_strstrip (types[t]);
          char *semi = strchr (type, ';');
          if (semi)
            *semi = '\0';
          g_strstrip (type);
          if (g_ascii_strcasecmp (type, content_type) == 0 || strcmp (type, "*/*") == 0 ||
              g_ascii_strcasecmp (type, "application/*") == 0)
            return TRUE;
        }
    }
  return !any;
}

static void
reply_with (SpNotifier *self, SpSipServerTransaction *st, guint status, const char *name,
            const char *value)
{
  g_autoptr (SpSipMessage) response = sp_sip_server_transaction_new_response (st, status, NULL);

  if (response == NULL)
    return;
  if (name != NULL)
    sp_sip_message_add_header (response, name, value, NULL);
  sp_sip_stack_respond (self->stack, st, response, NULL);
}

/* ---- sending NOTIFYs ---- */

static void
notify_ctx_free (gpointer data)
{
  NotifyCtx *ctx = data;

  notifier_unref (ctx->notifier);
  g_free (ctx->id);
  g_free (ctx);
}

static void watcher_drain (SpNotifier *self, Watcher *w);

static void
on_notify_response (SpSipStack *stack, SpSipClientTransaction *ct, SpSipMessage *response,
                    SpSipDialog *dialog, gpointer user_data)
{
  NotifyCtx *ctx = user_data;
  SpNotifier *self = ctx->notifier;
  guint status = sp_sip_message_get_status (response);
  Sub *sub;
  Watcher *w;

  if (status < 200 || self->closed || ctx->final)
    return;
  sub = g_hash_table_lookup (self->subs, ctx->id);
  if (sub == NULL)
    return;
  w = sub->watcher;
  sub->in_flight = FALSE;
  if (w->in_flight > 0)
    w->in_flight--;
  if (status >= 300)
    {
      /* 4.2.2: 481, 408, no answer or any other failure: the
       * subscription is gone at the subscriber. */
      g_autofree char *name = g_strdup (w->name);

      g_debug ("NOTIFY to %s: %u, subscription removed", name, status);
      sub_remove (sub);
      w = g_hash_table_lookup (self->watchers, name);
      if (w != NULL)
        watcher_drain (self, w);
      return;
    }
  if (sub->dirty)
    send_notify (sub, NULL);
  watcher_drain (self, w);
}

static guint
remaining_s (Sub *sub)
{
  gint64 left = sub->expires_at - sp_sip_clock_now (sub->notifier->clock);

  return left <= 0 ? 0 : (guint) ((left + 999) / 1000);
}

/* Builds and sends one NOTIFY of @sub now. @terminated_reason non-NULL:
 * the last one ("terminated;reason=..."), after which @sub is removed by
 * the caller. */
static void
send_notify (Sub *sub, const char *terminated_reason)
{
  SpNotifier *self = sub->notifier;
  g_autoptr (SpSipMessage) request = sp_sip_dialog_new_request (sub->dialog, "NOTIFY");
  g_autofree char *state = NULL;
  g_autofree char *event = NULL;
  g_autofree char *body = NULL;
  const char *content_type = NULL;
  const char *contact = sp_sip_dialog_get_local_contact (sub->dialog);
  g_autoptr (GError) error = NULL;
  NotifyCtx *ctx;

  if (request == NULL)
    return;
  event = sub->event_id ? g_strdup_printf ("%s;id=%s", sub->package->event, sub->event_id)
                        : g_strdup (sub->package->event);
  state = terminated_reason ? g_strdup_printf ("terminated;reason=%s", terminated_reason)
                            : g_strdup_printf ("active;expires=%u", remaining_s (sub));
  sp_sip_message_add_header (request, "Event", event, NULL);
  sp_sip_message_add_header (request, "Subscription-State", state, NULL);
  if (contact != NULL)
    sp_sip_message_set_header (request, "Contact", contact, NULL);
  body = sub->package->func (sub->package->event, sub->resource, sub->watcher->name, sub->version,
                             &content_type, sub->package->user_data);
  if (body != NULL && content_type != NULL)
    sp_sip_message_set_body (request, content_type, (const guint8 *) body, strlen (body));
  sub->version++;
  sub->dirty = FALSE;
  sub->last_sent = sp_sip_clock_now (self->clock);

  ctx = g_new0 (NotifyCtx, 1);
  ctx->notifier = self;
  self->ref_count++;
  ctx->id = g_strdup (sub->id);
  ctx->final = terminated_reason != NULL;
  if (!ctx->final)
    {
      sub->in_flight = TRUE;
      sub->watcher->in_flight++;
    }
  self->notifies_sent++;
  if (sp_sip_stack_send_dialog_request (self->stack, sub->dialog, request, on_notify_response, ctx,
                                        notify_ctx_free, &error) == NULL)
    {
      g_debug ("NOTIFY not sent: %s", error->message);
      if (!terminated_reason)
        {
          sub->in_flight = FALSE;
          sub->watcher->in_flight--;
        }
    }
}

static void
interval_elapsed (gpointer data)
{
  Sub *sub = data;

  sub->interval_timer = 0;
  if (sub->dirty && !sub->in_flight)
    {
      if (sub->watcher->in_flight >= sub->notifier->limits.max_in_flight_per_watcher)
        {
          if (!sub->waiting)
            {
              g_queue_push_tail (&sub->watcher->waiting, sub);
              sub->waiting = TRUE;
            }
          return;
        }
      send_notify (sub, NULL);
    }
}

/* The state changed: send now, or once the interval, the NOTIFY in
 * flight or the watcher's cap allows (the body is made then). */
static void
sub_schedule (Sub *sub)
{
  SpNotifier *self = sub->notifier;
  gint64 now = sp_sip_clock_now (self->clock);
  gint64 wait;

  sub->dirty = TRUE;
  if (sub->in_flight || sub->interval_timer != 0 || sub->waiting)
    return;
  wait = sub->last_sent < 0 ? 0 : sub->last_sent + self->limits.min_interval_ms - now;
  if (wait > 0)
    {
      sub->interval_timer =
          sp_sip_clock_add_timeout (self->clock, (guint) wait, interval_elapsed, sub);
      return;
    }
  interval_elapsed (sub);
}

static void
watcher_drain (SpNotifier *self, Watcher *w)
{
  while (w->in_flight < self->limits.max_in_flight_per_watcher && !g_queue_is_empty (&w->waiting))
    {
      Sub *sub = g_queue_pop_head (&w->waiting);

      sub->waiting = FALSE;
      if (sub->dirty && !sub->in_flight)
        sub_schedule (sub);
    }
}

static void
terminate_sub (Sub *sub, const char *reason)
{
  send_notify (sub, reason);
  sub_remove (sub);
}

static void
expired (gpointer data)
{
  Sub *sub = data;

  sub->expiry_timer = 0;
  terminate_sub (sub, "timeout");
}

static void
set_expiry (Sub *sub, guint seconds)
{
  SpNotifier *self = sub->notifier;

  sp_sip_clock_cancel (self->clock, sub->expiry_timer);
  sub->expires_at = sp_sip_clock_now (self->clock) + (gint64) seconds * 1000;
  sub->expiry_timer = sp_sip_clock_add_timeout (self->clock, seconds * 1000, expired, sub);
}

/* ---- SUBSCRIBE ---- */

/* The Expires to grant, or FALSE after answering 423. */
static gboolean
granted_expires (SpNotifier *self, SpSipServerTransaction *st, SpSipMessage *request,
                 guint *expires)
{
  gint64 asked = sp_sip_message_get_expires (request);

  if (asked < 0)
    asked = self->limits.default_expires;
  if (asked > 0 && asked < self->limits.min_expires)
    {
      g_autofree char *min = g_strdup_printf ("%u", self->limits.min_expires);
      reply_with (self, st, 423, "Min-Expires", min);
      return FALSE;
    }
  if (asked > self->limits.max_expires)
    asked = self->limits.max_expires;
  *expires = (guint) asked;
  return TRUE;
}

static void
reply_ok (SpNotifier *self, SpSipServerTransaction *st, guint expires)
{
  g_autoptr (SpSipMessage) response = sp_sip_server_transaction_new_response (st, 200, NULL);
  g_autofree char *text = g_strdup_printf ("%u", expires);

  if (response == NULL)
    return;
  sp_sip_message_set_header (response, "Expires", text, NULL);
  sp_sip_stack_respond (self->stack, st, response, NULL);
}

static void
handle_refresh (SpNotifier *self, SpSipServerTransaction *st, SpSipMessage *request,
                SpSipDialog *dialog, Package *package)
{
  g_autofree char *id = sp_sip_dialog_dup_id (dialog);
  Sub *sub = g_hash_table_lookup (self->subs, id);
  guint expires;

  if (sub == NULL)
    {
      sp_sip_stack_reply (self->stack, st, 481, NULL);
      return;
    }
  if (sub->package != package)
    {
      reply_with (self, st, 489, "Allow-Events", self->allow_events);
      return;
    }
  if (!granted_expires (self, st, request, &expires))
    return;
  reply_ok (self, st, expires);
  if (expires == 0)
    {
      terminate_sub (sub, "timeout");
      return;
    }
  set_expiry (sub, expires);
  /* 4.2.1.2: a refresh gets the full state; it goes at once. */
  sp_sip_clock_cancel (self->clock, sub->interval_timer);
  sub->interval_timer = 0;
  sub->last_sent = -1;
  sub_schedule (sub);
}

static Watcher *
watcher_for (SpNotifier *self, const char *name)
{
  Watcher *w = g_hash_table_lookup (self->watchers, name);

  if (w == NULL)
    {
      w = g_new0 (Watcher, 1);
      w->name = g_strdup (name);
      g_queue_init (&w->waiting);
      g_hash_table_insert (self->watchers, w->name, w);
    }
  return w;
}

static void
handle_new (SpNotifier *self, SpSipServerTransaction *st, SpSipMessage *request, Package *package,
            const char *event_id, const char *watcher, const char *resource)
{
  Watcher *w = g_hash_table_lookup (self->watchers, watcher);
  g_autoptr (SpSipMessage) response = NULL;
  g_autofree char *to_tag = NULL;
  g_autofree char *id = NULL;
  g_autofree char *text = NULL;
  SpSipDialog *dialog;
  GPtrArray *list;
  guint expires;
  Sub *sub;

  if ((self->limits.max_total > 0 && g_hash_table_size (self->subs) >= self->limits.max_total) ||
      (w != NULL && self->limits.max_per_watcher > 0 && w->n_subs >= self->limits.max_per_watcher))
    {
      reply_with (self, st, 503, "Retry-After", RETRY_AFTER_S);
      return;
    }
  if (!granted_expires (self, st, request, &expires))
    return;
  if (sp_sip_server_transaction_get_to_tag (st) == NULL)
    {
      to_tag = sp_random_token (10);
      sp_sip_server_transaction_set_to_tag (st, to_tag);
    }
  else
    to_tag = g_strdup (sp_sip_server_transaction_get_to_tag (st));
  response = sp_sip_server_transaction_new_response (st, 200, NULL);
  if (response == NULL)
    return;
  text = g_strdup_printf ("%u", expires);
  sp_sip_message_set_header (response, "Expires", text, NULL);
  if (!sp_sip_stack_respond (self->stack, st, response, NULL))
    return;
  id = sp_sip_dialog_id_for_uas (request, to_tag);
  dialog = sp_sip_stack_lookup_dialog (self->stack, id);
  if (dialog == NULL)
    return; /* no Contact to reach the watcher at */

  sub = g_new0 (Sub, 1);
  sub->notifier = self;
  sub->id = g_steal_pointer (&id);
  sub->dialog = sp_sip_dialog_ref (dialog);
  sub->package = package;
  sub->event_id = g_strdup (event_id);
  sub->resource = g_strdup (resource);
  sub->watcher = watcher_for (self, watcher);
  sub->watcher->n_subs++;
  sub->last_sent = -1;
  g_hash_table_insert (self->subs, sub->id, sub);
  list = g_hash_table_lookup (self->resources, resource);
  if (list == NULL)
    {
      list = g_ptr_array_new ();
      g_hash_table_insert (self->resources, g_strdup (resource), list);
    }
  g_ptr_array_add (list, sub);
  if (expires == 0)
    {
      /* A fetch: the state once, then terminated (4.4.3). */
      terminate_sub (sub, "timeout");
      return;
    }
  set_expiry (sub, expires);
  sub_schedule (sub);
}

void
sp_notifier_handle_subscribe (SpNotifier *self, SpSipServerTransaction *st, SpSipMessage *request,
                              SpSipDialog *dialog, const char *watcher, const char *resource)
{
  g_autofree char *event = NULL;
  g_autofree char *event_id = NULL;
  Package *package;

  if (!parse_event (sp_sip_message_get_header (request, "Event"), &event, &event_id) ||
      (package = find_package (self, event)) == NULL)
    {
      reply_with (self, st, 489, "Allow-Events", self->allow_events);
      return;
    }
  if (!accepts (request, package->content_type))
    {
      reply_with (self, st, 406, "Accept", package->content_type);
      return;
    }
  if (dialog != NULL)
    handle_refresh (self, st, request, dialog, package);
  else
    handle_new (self, st, request, package, event_id, watcher, resource);
}

void
sp_notifier_resource_changed (SpNotifier *self, const char *resource)
{
  GPtrArray *list = g_hash_table_lookup (self->resources, resource);

  if (list == NULL)
    return;
  for (guint i = 0; i < list->len; i++)
    sub_schedule (g_ptr_array_index (list, i));
}

void
sp_notifier_all_changed (SpNotifier *self)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->subs);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    sub_schedule (value);
}

void
sp_notifier_terminate (SpNotifier *self, const char *resource, const char *reason)
{
  g_autoptr (GPtrArray) doomed = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->subs);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Sub *sub = value;
      if (resource == NULL || strcmp (sub->resource, resource) == 0)
        g_ptr_array_add (doomed, sub);
    }
  for (guint i = 0; i < doomed->len; i++)
    terminate_sub (g_ptr_array_index (doomed, i), reason);
}
