#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What a packet's source counts as wherever a stranger's requests are
 * counted (transactions, calls, failed logins): its IPv4 address, an
 * IPv4-mapped IPv6 address as the IPv4 one, and for IPv6 its /64
 * ("2001:db8:1:2::/64"), since one host or site is handed a whole /64
 * and can send from any address in it. A @host that is no IP address
 * counts as itself ("" for NULL). Never NULL; free with g_free. */
char *sp_sip_source_key (const char *host);

G_END_DECLS
