#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Raises the soft limit on open descriptors (RLIMIT_NOFILE) to the hard
 * limit, as servers do at start: a desktop session's soft limit is
 * usually 1024, and every call holds several sockets (SIP over TCP,
 * RTP/RTCP, the relay's four). GLib polls with poll(), never select(),
 * so descriptors above 1023 are fine. Logged at debug level. Returns
 * the soft limit now in force (0 when it cannot be read). */
guint64 sp_fd_limit_raise (void);

G_END_DECLS
