#pragma once

#include "sip/stack.h"

G_BEGIN_DECLS

/* The notifier side of SIP-specific event notification (RFC 6665): the
 * subscriptions others hold on our resources, one dialog each.
 *
 * The owner (the server) decides who may subscribe to what (it has
 * authenticated the watcher), then hands each SUBSCRIBE here with the
 * watcher's and the resource's names. The notifier checks the package
 * (489 + Allow-Events for one it does not serve), Expires (423 +
 * Min-Expires below the minimum, longer ones cut to the maximum), Accept
 * (406) and its caps (503 + Retry-After), answers 200 and sends the
 * NOTIFY with the current state at once (also for Expires: 0, a fetch,
 * whose NOTIFY says terminated). A refresh in the dialog gets a new
 * expiry and a full NOTIFY; an expiry or Expires: 0 ends the
 * subscription with "terminated;reason=timeout".
 *
 * State changes (sp_notifier_resource_changed) are coalesced: per
 * subscription one NOTIFY in flight and at most one every
 * min_interval_ms; per watcher at most max_in_flight_per_watcher NOTIFYs
 * in flight, the others wait. The body is made when the NOTIFY leaves,
 * so the latest state always arrives and the ones in between are
 * skipped. A NOTIFY answered with an error or not at all (481, 408,
 * transport failure) ends the subscription (RFC 6665 4.2.2).
 *
 * All on the main loop; timers on the stack's clock. */

typedef struct _SpNotifier SpNotifier;

typedef struct
{
  guint max_total;                 /* subscriptions, all watchers */
  guint max_per_watcher;           /* subscriptions of one watcher */
  guint min_expires;               /* s, 423 below it */
  guint max_expires;               /* s, longer requests are cut */
  guint default_expires;           /* s, SUBSCRIBE without Expires */
  guint min_interval_ms;           /* between NOTIFYs of one subscription */
  guint max_in_flight_per_watcher; /* NOTIFYs waiting for their answer */
} SpNotifierLimits;

void sp_notifier_limits_init (SpNotifierLimits *limits);

/* The body of a NOTIFY for @resource in package @event, made when the
 * NOTIFY leaves; @version counts this subscription's NOTIFYs from 0 (the
 * dialog package's version attribute). Returns the body (NULL: none) and
 * its Content-Type in @content_type (static). */
typedef char *(*SpNotifierBodyFunc) (const char *event, const char *resource, const char *watcher,
                                     guint version, const char **content_type, gpointer user_data);

SpNotifier *sp_notifier_new (SpSipStack *stack, const SpNotifierLimits *limits);
/* Sends nothing; subscriptions are forgotten (their dialogs removed). Use
 * sp_notifier_terminate_all first to tell the watchers. */
void sp_notifier_free (SpNotifier *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpNotifier, sp_notifier_free)

void sp_notifier_set_limits (SpNotifier *self, const SpNotifierLimits *limits);
/* A package we serve: @event ("presence", "dialog"), the media type it
 * sends (checked against Accept). */
void sp_notifier_add_package (SpNotifier *self, const char *event, const char *content_type,
                              SpNotifierBodyFunc func, gpointer user_data);
/* "presence, dialog": what Allow-Events lists. */
const char *sp_notifier_get_allow_events (SpNotifier *self);

/* TRUE for the dialog of one of our subscriptions. */
gboolean sp_notifier_owns_dialog (SpNotifier *self, SpSipDialog *dialog);
/* Answers a SUBSCRIBE: outside a dialog (@dialog NULL) a new subscription
 * of @watcher to @resource; in one of ours a refresh or an unsubscribe
 * (@watcher and @resource are then taken from the subscription). */
void sp_notifier_handle_subscribe (SpNotifier *self, SpSipServerTransaction *st,
                                   SpSipMessage *request, SpSipDialog *dialog, const char *watcher,
                                   const char *resource);
/* The state of @resource changed: its watchers get a NOTIFY (coalesced). */
void sp_notifier_resource_changed (SpNotifier *self, const char *resource);
/* Every subscription's watcher will get a NOTIFY. */
void sp_notifier_all_changed (SpNotifier *self);
/* Ends the subscriptions to @resource (NULL: all) with a NOTIFY
 * "terminated;reason=@reason" ("noresource", "deactivated"...). */
void sp_notifier_terminate (SpNotifier *self, const char *resource, const char *reason);

guint sp_notifier_get_n_subscriptions (SpNotifier *self);
guint64 sp_notifier_get_n_notifies_sent (SpNotifier *self);

G_END_DECLS
