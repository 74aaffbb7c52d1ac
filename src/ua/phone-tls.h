#pragma once

#include "sip/stack.h"
#include "ua/pinning.h"

G_BEGIN_DECLS

/* The phone's side of SIP over TLS (src/ua/ only): its certificate (made
 * on first start in the config directory, shared with the mini-server of
 * the same node), its TLS listener, and how it decides to trust a server
 * (system CAs, else the pin store, ua/pinning.h). */
typedef struct _SpPhoneTls SpPhoneTls;

/* @config_dir NULL: nothing stored (no certificate, pins in memory). */
SpPhoneTls *sp_phone_tls_new (const char *config_dir);
void sp_phone_tls_free (SpPhoneTls *tls);

/* Installs the verify function on @stack's transport, then (when @port
 * is not 0) loads or makes the certificate and listens for TLS on
 * @host:@port. FALSE with @error when the listener could not start; the
 * verify function stays, so TLS to servers works all the same. */
gboolean sp_phone_tls_start (SpPhoneTls *tls, SpSipStack *stack, const char *host, guint16 port,
                             GError **error);
guint16 sp_phone_tls_get_port (SpPhoneTls *tls);
const char *sp_phone_tls_get_fingerprint (SpPhoneTls *tls);
SpPinStore *sp_phone_tls_get_pins (SpPhoneTls *tls);

/* The certificate a peer announced for itself on the LAN (a nearby
 * phone's DNS-SD TXT fp=): TLS to @hostport must present exactly
 * @fingerprint, whatever the pin store or the system CAs say, or the
 * connection is refused and says so (naming @who). Kept in memory only,
 * for this run: an announcement is a stranger's word and must not
 * overwrite what the user pinned; where the pin store holds another
 * certificate for @hostport, TLS there is refused instead (an
 * announcement never weakens a pin). Connections addressed by a host
 * name (an account's named server) ignore announcements. At most SP_PHONE_TLS_MAX_EXPECTED
 * addresses; the oldest is forgotten. */
#define SP_PHONE_TLS_MAX_EXPECTED 64
void sp_phone_tls_expect (SpPhoneTls *tls, const char *hostport, const char *fingerprint,
                          const char *who);

G_END_DECLS
