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

G_END_DECLS
