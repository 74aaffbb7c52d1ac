#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* "host", "host:port", "1.2.3.4:5060", "[::1]:5060" or a bare "::1":
 * the forms a user types for a server, a proxy or a direct call.
 * Shared by account validation and call targets. */

/* Splits @text into a host (IPv6 without brackets, lower case) and a port
 * (0 when none is given). Refuses an empty host, a port that is not a
 * number in 1..65535, spaces, and characters no host name may hold,
 * with a GError (G_IO_ERROR_INVALID_ARGUMENT) that says which. */
gboolean sp_host_port_parse (const char *text, char **host, guint16 *port, GError **error);

typedef enum
{
  SP_HOST_PORT_DEFAULT = 0,
  /* ":0" is a port (a bind address: any free port), told apart from no
   * port by @port_given. */
  SP_HOST_PORT_ALLOW_PORT_0 = 1 << 0,
} SpHostPortFlags;

/* sp_host_port_parse with @flags; @port_given (may be NULL) is TRUE when
 * @text names a port. */
gboolean sp_host_port_parse_full (const char *text, SpHostPortFlags flags, char **host,
                                  guint16 *port, gboolean *port_given, GError **error);

/* TRUE when @text is a literal IPv4 or IPv6 address (no brackets). */
gboolean sp_host_is_ip_literal (const char *text);

/* Formatting is sp_sip_host_port_to_string (sip/transport.h). */

G_END_DECLS
