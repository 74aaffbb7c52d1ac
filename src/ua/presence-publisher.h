#pragma once

#include "session/credentials.h"
#include "sip/stack.h"

G_BEGIN_DECLS

/* The user's own do-not-disturb, told to their server by PUBLISH (RFC
 * 3903, Event: presence): on, a PIDF with basic open and the RPID busy
 * activity, refreshed (SIP-If-Match, no body) before it expires; off, the
 * publication removed (Expires: 0). Challenges through the account's
 * credentials. The server shows it to watchers (server/presence.h). A
 * server that does not know PUBLISH (405/501) is left alone. */

typedef struct _SpPresencePublisher SpPresencePublisher;

/* @target: the user's AOR URI ("sip:alice@host:port"), also the
 * Request-URI; @from: name-addr. Copied. */
SpPresencePublisher *sp_presence_publisher_new (SpSipStack *stack, SpCredentials *credentials,
                                                const char *target, const char *from);
void sp_presence_publisher_free (SpPresencePublisher *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpPresencePublisher, sp_presence_publisher_free)

/* Publishes @dnd (nothing when it is what was published already, unless
 * @again: after a new registration, the server may have restarted). */
void sp_presence_publisher_set_dnd (SpPresencePublisher *self, gboolean dnd, gboolean again);

/* The PIDF we publish for @dnd (for tests). */
char *sp_presence_publisher_pidf (const char *entity, gboolean dnd);

G_END_DECLS
