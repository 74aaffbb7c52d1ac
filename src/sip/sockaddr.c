/* Socket addresses at the transport boundary: see sockaddr.h. */
#define _GNU_SOURCE /* struct in6_pktinfo */

#include "sip/sockaddr.h"

#include <arpa/inet.h>
#include <string.h>

G_STATIC_ASSERT (SP_SIP_PKTINFO_SPACE >= CMSG_SPACE (sizeof (struct in6_pktinfo)));
G_STATIC_ASSERT (SP_SIP_PKTINFO_SPACE >= CMSG_SPACE (sizeof (struct in_pktinfo)));

gboolean
sp_sip_sockaddr_to_host (const struct sockaddr_storage *sa, char host[SP_SIP_HOST_BUF],
                         guint16 *port)
{
  if (sa->ss_family == AF_INET)
    {
      const struct sockaddr_in *in = (const struct sockaddr_in *) sa;
      if (inet_ntop (AF_INET, &in->sin_addr, host, SP_SIP_HOST_BUF) == NULL)
        return FALSE;
      *port = g_ntohs (in->sin_port);
      return TRUE;
    }
  if (sa->ss_family == AF_INET6)
    {
      const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;
      /* An IPv4 peer of a dual-stack socket. */
      if (IN6_IS_ADDR_V4MAPPED (&in6->sin6_addr))
        {
          if (inet_ntop (AF_INET, &in6->sin6_addr.s6_addr[12], host, SP_SIP_HOST_BUF) == NULL)
            return FALSE;
        }
      else if (inet_ntop (AF_INET6, &in6->sin6_addr, host, SP_SIP_HOST_BUF) == NULL)
        return FALSE;
      *port = g_ntohs (in6->sin6_port);
      return TRUE;
    }
  return FALSE;
}

gboolean
sp_sip_sockaddr_from_host (const char *host, guint16 port, int socket_family,
                           struct sockaddr_storage *sa, socklen_t *len)
{
  struct in_addr v4;

  memset (sa, 0, sizeof *sa);
  if (strchr (host, ':') == NULL)
    {
      if (inet_pton (AF_INET, host, &v4) != 1)
        return FALSE;
      if (socket_family == AF_INET6)
        {
          struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) sa;
          in6->sin6_family = AF_INET6;
          in6->sin6_port = g_htons (port);
          in6->sin6_addr.s6_addr[10] = 0xff;
          in6->sin6_addr.s6_addr[11] = 0xff;
          memcpy (&in6->sin6_addr.s6_addr[12], &v4, 4);
          *len = sizeof *in6;
        }
      else
        {
          struct sockaddr_in *in = (struct sockaddr_in *) sa;
          in->sin_family = AF_INET;
          in->sin_port = g_htons (port);
          in->sin_addr = v4;
          *len = sizeof *in;
        }
      return TRUE;
    }
  if (socket_family != AF_INET6)
    return FALSE;
  {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) sa;
    if (inet_pton (AF_INET6, host, &in6->sin6_addr) != 1)
      return FALSE;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = g_htons (port);
    *len = sizeof *in6;
  }
  return TRUE;
}

void
sp_sip_host_unmap (char *host)
{
  struct in6_addr a;

  if (host == NULL || strchr (host, ':') == NULL || inet_pton (AF_INET6, host, &a) != 1 ||
      !IN6_IS_ADDR_V4MAPPED (&a))
    return;
  inet_ntop (AF_INET, &a.s6_addr[12], host, INET_ADDRSTRLEN);
}

void
sp_sip_pktinfo_enable (int fd, int socket_family)
{
  int on = 1;

  /* On an IPv6 socket IPV6_PKTINFO covers the IPv4 datagrams too (as
   * ::ffff:a.b.c.d); IP_PKTINFO is asked as well, for kernels that
   * report those only with it. Failures leave the kernel's route choice. */
  (void) setsockopt (fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
  if (socket_family == AF_INET6)
    (void) setsockopt (fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on);
}

gboolean
sp_sip_pktinfo_parse (const struct msghdr *msg, char host[SP_SIP_HOST_BUF])
{
  for (struct cmsghdr *c = CMSG_FIRSTHDR ((struct msghdr *) msg); c != NULL;
       c = CMSG_NXTHDR ((struct msghdr *) msg, c))
    {
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
          c->cmsg_len >= CMSG_LEN (sizeof (struct in_pktinfo)))
        {
          struct in_pktinfo info;
          memcpy (&info, CMSG_DATA (c), sizeof info);
          /* ipi_spec_dst: the local address to answer from (the
           * interface's own for a broadcast). */
          return inet_ntop (AF_INET, &info.ipi_spec_dst, host, SP_SIP_HOST_BUF) != NULL;
        }
      if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
          c->cmsg_len >= CMSG_LEN (sizeof (struct in6_pktinfo)))
        {
          struct in6_pktinfo info;
          memcpy (&info, CMSG_DATA (c), sizeof info);
          if (IN6_IS_ADDR_V4MAPPED (&info.ipi6_addr))
            return inet_ntop (AF_INET, &info.ipi6_addr.s6_addr[12], host, SP_SIP_HOST_BUF) != NULL;
          return inet_ntop (AF_INET6, &info.ipi6_addr, host, SP_SIP_HOST_BUF) != NULL;
        }
    }
  return FALSE;
}

gsize
sp_sip_pktinfo_build (const char *local, void *buf)
{
  struct msghdr msg = { 0 };
  struct cmsghdr *c;

  msg.msg_control = buf;
  msg.msg_controllen = SP_SIP_PKTINFO_SPACE;
  memset (buf, 0, SP_SIP_PKTINFO_SPACE);
  c = CMSG_FIRSTHDR (&msg);
  if (local == NULL || *local == '\0')
    return 0;
  if (strchr (local, ':') == NULL)
    {
      /* IP_PKTINFO also serves an IPv4 peer of a dual-stack IPv6 socket. */
      struct in_pktinfo info = { 0 };
      if (inet_pton (AF_INET, local, &info.ipi_spec_dst) != 1)
        return 0;
      c->cmsg_level = IPPROTO_IP;
      c->cmsg_type = IP_PKTINFO;
      c->cmsg_len = CMSG_LEN (sizeof info);
      memcpy (CMSG_DATA (c), &info, sizeof info);
      return CMSG_SPACE (sizeof info);
    }
  {
    struct in6_pktinfo info = { 0 };
    if (inet_pton (AF_INET6, local, &info.ipi6_addr) != 1)
      return 0;
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN (sizeof info);
    memcpy (CMSG_DATA (c), &info, sizeof info);
    return CMSG_SPACE (sizeof info);
  }
}
