#pragma once

#include "session/credentials.h"
#include "sip/stack.h"

G_BEGIN_DECLS

/* The subscriber side of RFC 6665: one subscription we hold on someone
 * else's resource (a colleague's presence, the office directory).
 *
 * sp_subscriber_start sends SUBSCRIBE; 401/407 are answered through the
 * account's credentials (session/credentials.h), 423 once with the
 * server's Min-Expires. The 2xx or a NOTIFY before it (4.1.2.4) makes the
 * dialog. Each NOTIFY is answered 200 and handed to the owner; the
 * subscription is refreshed in the dialog before it runs out (at 2/3 of
 * the granted time, at most 32 s before the end), and started again with
 * a new SUBSCRIBE when it breaks: a refresh answered 481/408/failure (the
 * notifier restarted and lost it), or "terminated" with a reason that
 * invites it (deactivated, timeout, probation, none), after a backoff.
 * "rejected" and "noresource" end it for good ("ended").
 *
 * The owner routes the stack's requests: sp_subscriber_handle_request
 * takes a NOTIFY that belongs to this subscription. */

typedef struct _SpSubscriber SpSubscriber;

typedef enum
{
  SP_SUBSCRIBER_PENDING,    /* SUBSCRIBE out, nothing known yet */
  SP_SUBSCRIBER_ACTIVE,     /* a NOTIFY said active (or pending) */
  SP_SUBSCRIBER_RETRYING,   /* broken; a new SUBSCRIBE is due */
  SP_SUBSCRIBER_TERMINATED, /* ended for good (or stopped) */
} SpSubscriberState;

typedef struct
{
  /* A NOTIFY with a body (@body NUL-terminated, @content_type lower case). */
  void (*notify) (SpSubscriber *sub, const char *content_type, const char *body, gsize len,
                  gpointer user_data);
  /* The state changed; @status the SIP status that caused it (0 none),
   * @reason the notifier's reason or the failure. */
  void (*state_changed) (SpSubscriber *sub, SpSubscriberState state, guint status,
                         const char *reason, gpointer user_data);
} SpSubscriberFuncs;

/* @target: the resource's URI; @from: our AOR (name-addr); @event: the
 * package; @accept: Accept header value (NULL: none); @credentials: the
 * account's store (NULL: none); @dest: the next hop (NULL: from
 * @target). Everything copied. */
SpSubscriber *sp_subscriber_new (SpSipStack *stack, SpCredentials *credentials,
                                 const SpSipPeer *dest, const char *target, const char *from,
                                 const char *event, const char *accept, guint expires,
                                 const SpSubscriberFuncs *funcs, gpointer user_data);
/* Frees without a word to the notifier (the dialog is forgotten). */
void sp_subscriber_free (SpSubscriber *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpSubscriber, sp_subscriber_free)

void sp_subscriber_start (SpSubscriber *self);
/* Unsubscribes (SUBSCRIBE Expires: 0) if active; no more callbacks. */
void sp_subscriber_stop (SpSubscriber *self);
/* Starts over at once with a new SUBSCRIBE (the registration came back). */
void sp_subscriber_restart (SpSubscriber *self);

/* Refreshes now when active (a notifier that restarted answers 481 and
 * we subscribe again), starts over when broken. */
void sp_subscriber_refresh (SpSubscriber *self);

SpSubscriberState sp_subscriber_get_state (SpSubscriber *self);
const char *sp_subscriber_get_target (SpSubscriber *self);
/* Extra headers for the SUBSCRIBE ("Supported: eventlist"). */
void sp_subscriber_add_header (SpSubscriber *self, const char *name, const char *value);

/* TRUE when @request (from the stack's "request" signal) was a NOTIFY of
 * this subscription, and it was answered. */
gboolean sp_subscriber_handle_request (SpSubscriber *self, SpSipServerTransaction *st,
                                       SpSipMessage *request, SpSipDialog *dialog);
/* For the stack's "dialog-missing": a NOTIFY for our SUBSCRIBE before its
 * 2xx; makes and adds the dialog, TRUE when it was ours. */
gboolean sp_subscriber_take_early_notify (SpSubscriber *self, SpSipMessage *request);

/* Refresh delay for a granted @expires, in seconds. */
guint sp_subscriber_refresh_delay (guint expires);

G_END_DECLS
