#pragma once

#include "sip/stack.h"
#include "ua/account.h"
#include "ua/account-credentials.h"

G_BEGIN_DECLS

/* REGISTER for one account (RFC 3261 section 10.2): digest on 401/407
 * through the account's credential store (session/credentials.h),
 * refresh before expiry, 423 Min-Expires, retry with backoff after a
 * failure, Expires: 0 on stop, an OPTIONS ping over UDP between refreshes
 * so a NAT or a server's idea of us stays fresh. Status goes to the
 * account's status/status-reason; @func hears every outcome. */

typedef struct _SpRegistration SpRegistration;

typedef void (*SpRegistrationFunc) (SpRegistration *reg, SpAccount *account, guint code,
                                    gpointer user_data);

/* Registers the account of @credentials, whose policy answers the
 * registrar's challenges (a new nonce with stale=true once more). */
SpRegistration *sp_registration_new (SpSipStack *stack, SpCredentials *credentials,
                                     SpRegistrationFunc func, gpointer user_data);
void sp_registration_free (SpRegistration *reg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpRegistration, sp_registration_free)

void sp_registration_start (SpRegistration *reg);
/* Seconds between keep-alives while registered (default 30; 0 = none). */
void sp_registration_set_keepalive_interval (SpRegistration *reg, guint seconds);
/* How long a CRLF ping over TCP may wait for its pong before the flow
 * counts as failed (RFC 5626 4.4.1: 10 s, the default): the connection is
 * closed and the account registers again on a new one. */
void sp_registration_set_pong_timeout (SpRegistration *reg, guint ms);
/* The transport received a CRLF keep-alive from @remote (@ping FALSE: a
 * pong to ours). */
void sp_registration_keepalive_received (SpRegistration *reg, const SpSipPeer *remote,
                                         gboolean ping);
/* The transport lost a TCP connection to @remote: if it was our flow to
 * the registrar, register again (on a new connection) a second later. */
void sp_registration_connection_closed (SpRegistration *reg, const SpSipPeer *remote);
/* Sends Expires: 0 when registered (or registering); the account goes to
 * UNREGISTERED when the server answers or gives up. */
void sp_registration_stop (SpRegistration *reg);
/* Seconds granted by the server at the last 2xx (0 = none). */
guint sp_registration_get_expires (SpRegistration *reg);

/* When to refresh a binding granted for @expires seconds. */
guint sp_registration_refresh_delay (guint expires);
/* The wait before retry number @attempt (1, 2, ...) after a failure. */
guint sp_registration_backoff (guint attempt);

G_END_DECLS
