#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The server's RTP relay: for each call two port pairs (RTP and RTCP) on
 * the server's address, one facing the caller (side A) and one facing
 * the callee (side B). What arrives on one side goes out of the other
 * side's socket. Each side latches: it sends to the address its first
 * packet came from (a phone behind NAT announces an address it cannot be
 * reached at), and until then to the address the SDP named.
 *
 * Packets are moved by one thread of the relay's own with epoll; the main
 * thread only queues commands to it, so nothing on the packet path
 * allocates or waits for a lock. */

typedef struct _SpRelay SpRelay;
typedef struct _SpRelayCall SpRelayCall;

typedef enum
{
  SP_RELAY_SIDE_A,
  SP_RELAY_SIDE_B,
} SpRelaySide;

typedef struct
{
  guint64 received; /* packets that arrived on this side (RTP and RTCP) */
  guint64 relayed;  /* of those, sent out of the other side */
  guint64 dropped;  /* from a stranger once latched, or no destination yet */
} SpRelayStats;

/* Ports are taken from [@port_min, @port_max] (even RTP, odd RTCP) on
 * @host (a numeric address). Starts the relay thread. */
SpRelay *sp_relay_new (const char *host, guint16 port_min, guint16 port_max, GError **error);
void sp_relay_free (SpRelay *relay);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpRelay, sp_relay_free)

const char *sp_relay_get_host (SpRelay *relay);
guint sp_relay_get_n_calls (SpRelay *relay);

/* Binds two RTP/RTCP port pairs. NULL with @error when the range is
 * exhausted. */
SpRelayCall *sp_relay_call_new (SpRelay *relay, GError **error);
/* The RTP port of @side (RTCP is one above). */
guint16 sp_relay_call_get_port (SpRelayCall *call, SpRelaySide side);
/* Where @side's phone said it receives RTP (from its SDP); RTCP goes to
 * @rtp_port + 1. A new address also forgets what was latched. */
void sp_relay_call_set_remote (SpRelayCall *call, SpRelaySide side, const char *host,
                               guint16 rtp_port);
/* Counters, read without waiting for the relay thread. */
void sp_relay_call_get_stats (SpRelayCall *call, SpRelaySide side, SpRelayStats *stats);
/* Closes the call's sockets (on the relay thread) and frees it: its
 * ports are free again once the relay thread has run. */
void sp_relay_call_free (SpRelayCall *call);

G_END_DECLS
