#pragma once

#include <glib.h>
#include <sys/socket.h>

G_BEGIN_DECLS

/* A thread that writes datagrams for the main loop. On loopback and LAN
 * the kernel delivers a datagram inside sendto(), waking the receiver,
 * which made sending a quarter of a busy server's main-loop time; with
 * the writes here the SIP work and the kernel work run on two cores.
 * Datagrams leave in the order they were pushed. */

typedef struct _SpSipSender SpSipSender;

SpSipSender *sp_sip_sender_new (void);
/* Writes every datagram still queued, then stops the thread. */
void sp_sip_sender_free (SpSipSender *sender);

/* Queues @bytes for @fd to @to. FALSE (nothing queued) when the queue is
 * full: the caller sends it itself. @fd must stay open until
 * sp_sip_sender_free () returns. With @wake FALSE a sleeping writer is
 * left asleep until sp_sip_sender_kick (): waking a thread per datagram
 * costs about as much as the write, so a caller answering a batch of
 * received datagrams wakes it once. */
gboolean sp_sip_sender_push (SpSipSender *sender, int fd, const struct sockaddr *to,
                             socklen_t to_len, GBytes *bytes, gboolean wake);
/* The same, leaving from the local address that @control (a packet-info
 * control message, sip/sockaddr.h, @control_len bytes, at most
 * SP_SIP_PKTINFO_SPACE; 0: none) names. A datagram the kernel refuses
 * with it (the address went away) is sent once more without. */
gboolean sp_sip_sender_push_from (SpSipSender *sender, int fd, const struct sockaddr *to,
                                  socklen_t to_len, const void *control, gsize control_len,
                                  GBytes *bytes, gboolean wake);
void sp_sip_sender_kick (SpSipSender *sender);

/* Datagrams the kernel refused (no route, buffer full...), counted from
 * the thread: UDP has no delivery report either way. */
guint64 sp_sip_sender_get_failures (SpSipSender *sender);
guint64 sp_sip_sender_get_sent (SpSipSender *sender);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpSipSender, sp_sip_sender_free)

G_END_DECLS
