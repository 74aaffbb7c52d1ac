#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* TLS for the SIP transport (RFC 3261 section 26, RFC 5630) on GnuTLS,
 * driven without blocking from the GLib main loop: the transport owns
 * the socket and its watch, this module owns the GnuTLS session on the
 * socket's descriptor. GnuTLS directly rather than GIO's GTlsConnection:
 * glib-networking runs handshakes in worker threads and buffers behind
 * pollable streams, while the transport is one non-blocking socket per
 * connection on the main loop; and the certificate making needs GnuTLS
 * anyway.
 *
 * Fingerprints are SHA-256 of the certificate's DER, as upper-case hex
 * pairs joined by colons ("AB:CD:..."), the form of RFC 8122. */

/* A certificate and its private key: what a listener presents. */
typedef struct _SpSipTlsIdentity SpSipTlsIdentity;

/* Loads @dir/tls-certificate.pem and @dir/tls-key.pem, or, when neither
 * exists, makes a self-signed ECDSA P-256 certificate valid for ten years
 * for @names (host names and numeric addresses; the first is the CN) and
 * stores both files with mode 0600. @created (may be NULL) tells which. */
SpSipTlsIdentity *sp_sip_tls_identity_load_or_create (const char *dir, const char *const *names,
                                                      gboolean *created, GError **error);
/* The same with the files @dir/@prefix-certificate.pem and
 * @dir/@prefix-key.pem ("tls" gives the two above). */
SpSipTlsIdentity *sp_sip_tls_identity_load_or_create_named (const char *dir, const char *prefix,
                                                            const char *const *names,
                                                            gboolean *created, GError **error);
/* A new self-signed ECDSA P-256 certificate kept in memory only. */
SpSipTlsIdentity *sp_sip_tls_identity_new_ephemeral (const char *const *names, GError **error);
/* Its gnutls_certificate_credentials_t (borrowed), for other GnuTLS
 * sessions that present it (DTLS-SRTP, media/dtls.c). */
gpointer sp_sip_tls_identity_get_credentials (SpSipTlsIdentity *identity);
SpSipTlsIdentity *sp_sip_tls_identity_ref (SpSipTlsIdentity *identity);
void sp_sip_tls_identity_unref (SpSipTlsIdentity *identity);
const char *sp_sip_tls_identity_get_fingerprint (SpSipTlsIdentity *identity);
const char *sp_sip_tls_identity_get_certificate_path (SpSipTlsIdentity *identity);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpSipTlsIdentity, sp_sip_tls_identity_unref)

/* One TLS session on a connected, non-blocking stream socket. */
typedef struct _SpSipTlsSession SpSipTlsSession;

typedef enum
{
  SP_SIP_TLS_DONE,
  SP_SIP_TLS_AGAIN, /* wait until the socket is ready (see wants_write) */
  SP_SIP_TLS_FAILED,
} SpSipTlsStatus;

/* @identity: the certificate a server presents (required when @server).
 * A client checks nothing here: after the handshake the transport asks
 * its verify function (transport.h). @server_name (client, may be NULL)
 * is sent as SNI when it is a host name. */
SpSipTlsSession *sp_sip_tls_session_new (int fd, gboolean server, SpSipTlsIdentity *identity,
                                         const char *server_name, GError **error);
void sp_sip_tls_session_free (SpSipTlsSession *session);
SpSipTlsStatus sp_sip_tls_session_handshake (SpSipTlsSession *session, GError **error);
/* After AGAIN: TRUE when GnuTLS waits to write, FALSE to read. */
gboolean sp_sip_tls_session_wants_write (SpSipTlsSession *session);
/* As g_socket_receive / g_socket_send: -1 with G_IO_ERROR_WOULD_BLOCK
 * when the socket is not ready, 0 at the end of the stream. A send that
 * would block must be repeated with the same bytes (the transport keeps
 * them at the head of its buffer). */
gssize sp_sip_tls_session_recv (SpSipTlsSession *session, guint8 *buffer, gsize size,
                                GError **error);
gssize sp_sip_tls_session_send (SpSipTlsSession *session, const guint8 *data, gsize size,
                                GError **error);
/* Decrypted bytes GnuTLS holds that the socket's readiness will not show. */
gsize sp_sip_tls_session_pending (SpSipTlsSession *session);
/* The peer's certificate (after the handshake), NULL if it sent none. */
char *sp_sip_tls_session_dup_peer_fingerprint (SpSipTlsSession *session);
/* TRUE when the peer's chain validates against the system's CAs and its
 * certificate names @host (a DNS name or a numeric address). */
gboolean sp_sip_tls_session_peer_is_trusted (SpSipTlsSession *session, const char *host);

G_END_DECLS
