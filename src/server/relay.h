#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The server's RTP relay: for each call two port pairs (RTP and RTCP) on
 * the server's address, one facing the caller (side A) and one facing
 * the callee (side B). What arrives on one side goes out of the other
 * side's socket.
 *
 * Each side latches strictly (as Asterisk's strictrtp after
 * AST-2017-005), so a stranger who guesses a port neither hears the call
 * nor aims the relay elsewhere:
 *  - a source is learnt only from valid RTP (version 2, a payload type
 *    named in the call's SDP) or, on the RTCP port, valid RTCP;
 *  - the address the side's SDP named is latched on its first valid
 *    packet;
 *  - another port on the host the SDP or the side's SIP named (a phone
 *    behind NAT, or one whose NAT rebinds) is learnt after
 *    SP_RELAY_LEARN_PACKETS consecutive in-sequence packets with one
 *    SSRC; replacing a live latch also needs SP_RELAY_REBIND_MS without a
 *    packet from it;
 *  - another host (a phone that sends from another of its addresses) is
 *    learnt the same way over SP_RELAY_STRANGER_MS, only while the named
 *    hosts have sent nothing and once the other side's media flows (not
 *    while ringing);
 *  - RTCP is learnt from the SDP's RTCP address or the RTP source's host;
 *  - a new SDP with the same address (a re-INVITE) keeps the latch, a new
 *    address starts learning again;
 *  - until a side latched, its media goes to the SDP address only when
 *    that is the host the side's SIP came from: an SDP cannot aim the
 *    relay at a third host.
 * Packets from sources not latched are dropped and counted.
 *
 * Ports are picked at random in the range (getrandom), so they cannot
 * be guessed from the previous call's.
 *
 * Packets are moved by one thread of the relay's own with epoll; the main
 * thread only queues commands to it, so nothing on the packet path
 * allocates or waits for a lock. */

/* In-sequence packets from one SSRC before a new source is learnt. */
#define SP_RELAY_LEARN_PACKETS 5
/* How long a new port of the phone's host streams before it replaces a
 * latched source (which sent nothing meanwhile). */
#define SP_RELAY_REBIND_MS 200
/* How long a host neither SDP nor SIP named streams before it is learnt. */
#define SP_RELAY_STRANGER_MS 500

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
  guint64 dropped;  /* not sent: rejected, or no destination yet */
  guint64 rejected; /* of those, from a source not latched (strangers,
                     * non-RTP, a source still being learnt) */
} SpRelayStats;

/* What one side's SDP said, and where that side's SIP came from. */
typedef struct
{
  const char *host;            /* the c= address (numeric) */
  guint16 rtp_port;            /* the m= port; RTCP is one above */
  const char *signalling_host; /* the IP the side's SIP came from; NULL:
                                * keep the one given before */
  guint64 payload_types[2];    /* bit (n % 64) of [n / 64]: PT n on m= */
} SpRelayRemote;

static inline void
sp_relay_remote_add_payload_type (SpRelayRemote *remote, guint pt)
{
  if (pt < 128)
    remote->payload_types[pt / 64] |= G_GUINT64_CONSTANT (1) << (pt % 64);
}

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
/* What @side's phone said in its SDP (RTP at @remote->host and
 * rtp_port, RTCP one above) and where its SIP came from. Packets are
 * accepted with the payload types of both sides' SDP (each sends with
 * the other's numbers). A new address forgets what was latched; the same
 * one keeps it. */
void sp_relay_call_set_remote (SpRelayCall *call, SpRelaySide side, const SpRelayRemote *remote);
/* Counters, read without waiting for the relay thread. */
void sp_relay_call_get_stats (SpRelayCall *call, SpRelaySide side, SpRelayStats *stats);
/* Closes the call's sockets (on the relay thread) and frees it: its
 * ports are free again once the relay thread has run. */
void sp_relay_call_free (SpRelayCall *call);

G_END_DECLS
