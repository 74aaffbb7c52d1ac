#pragma once

#include <gio/gio.h>

#include "sip/transport.h"

G_BEGIN_DECLS

/* Where a SIP request goes, when the user gave a host name: looked up
 * with GResolver's asynchronous API so the main loop (SIP timers, the
 * window, media events) never waits on DNS. An IP literal needs no
 * lookup and completes on the next main loop iteration all the same.
 *
 * @family: the address family our SIP binding can reach
 * (G_SOCKET_FAMILY_INVALID = any, IPv4 preferred); the first address of
 * that family wins. @port 0 = 5060. */
void sp_ua_resolve_peer_async (const char *host, guint16 port, SpSipTransportKind kind,
                               GSocketFamily family, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data);
gboolean sp_ua_resolve_peer_finish (GAsyncResult *result, SpSipPeer *peer, GError **error);

/* The family of a host in SpSipPeer form ("::1" is IPv6). */
GSocketFamily sp_ua_host_family (const char *host);

G_END_DECLS
