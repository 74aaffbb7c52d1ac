#pragma once

#include <glib.h>
#include <netinet/in.h>
#include <sys/socket.h>

G_BEGIN_DECLS

/* Socket addresses at the transport boundary (internal to src/sip/):
 * numeric text to and from struct sockaddr without GObjects (every
 * datagram passes here), IPv4 peers of a dual-stack "::" socket named as
 * IPv4, and the local address a datagram arrived on or leaves from
 * (IP_PKTINFO, IPV6_PKTINFO). */

/* Room for a numeric host: INET6_ADDRSTRLEN. */
#define SP_SIP_HOST_BUF 46

/* @sa as numeric text and port; "::ffff:a.b.c.d" comes out as
 * "a.b.c.d", so everything above the transport (Via received, source
 * keys, caps, logs, SDP) sees an IPv4 peer as IPv4. FALSE for a family
 * that is not IP. */
gboolean sp_sip_sockaddr_to_host (const struct sockaddr_storage *sa, char host[SP_SIP_HOST_BUF],
                                  guint16 *port);
/* A numeric @host as an address for a socket of @socket_family (AF_INET
 * or AF_INET6): an IPv4 host on an IPv6 socket becomes ::ffff:a.b.c.d.
 * FALSE when @host is not numeric (a scoped IPv6 address, say) or an
 * IPv6 host meets an IPv4 socket. */
gboolean sp_sip_sockaddr_from_host (const char *host, guint16 port, int socket_family,
                                    struct sockaddr_storage *sa, socklen_t *len);
/* "::ffff:a.b.c.d" -> "a.b.c.d" in place; anything else is left alone. */
void sp_sip_host_unmap (char *host);

/* Control-message room for one packet-info message, either family:
 * struct in6_pktinfo (20 bytes, the larger; its definition needs
 * _GNU_SOURCE, which sockaddr.c checks the size under). */
#define SP_SIP_PKTINFO_SPACE CMSG_SPACE (20)

/* Asks the kernel to report the local address each datagram arrives on
 * (a wildcard socket; an IPv6 one reports its IPv4 datagrams too). */
void sp_sip_pktinfo_enable (int fd, int socket_family);
/* The local address a received datagram arrived on, from @msg's control
 * messages, unmapped; FALSE when there is none. */
gboolean sp_sip_pktinfo_parse (const struct msghdr *msg, char host[SP_SIP_HOST_BUF]);
/* Writes into @buf (SP_SIP_PKTINFO_SPACE bytes, aligned for cmsghdr)
 * the control message that makes a datagram leave from @local; returns
 * its length, 0 when @local is no numeric address. */
gsize sp_sip_pktinfo_build (const char *local, void *buf);

G_END_DECLS
