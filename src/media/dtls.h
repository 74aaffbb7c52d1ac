#pragma once

#include <gio/gio.h>

#include "sip/tls.h"

G_BEGIN_DECLS

/* One DTLS-SRTP endpoint (RFC 5763, RFC 5764) on GnuTLS: a DTLS 1.2
 * handshake over datagrams that the owner carries (no socket of its own:
 * the media session demultiplexes DTLS from RTP on the RTP port, RFC
 * 7983, and hands the datagrams in; what GnuTLS sends goes out through
 * the send callback). Everything runs on the GMainContext that was the
 * thread default when it was made: the retransmission timers
 * (gnutls_dtls_get_timeout) and the callbacks.
 *
 * The handshake negotiates one SRTP protection profile (the use_srtp
 * extension: AES128_CM_HMAC_SHA1_80 or _32; Debian 12's GnuTLS 3.7.9 has
 * no AEAD_AES_128_GCM for use_srtp) and exports
 * the keying material as the key and salt for each direction. The peer
 * must present a certificate whose fingerprint is the one its SDP gave
 * (a=fingerprint, RFC 8122); anything else fails the handshake, and no
 * key is given out before that check passed. Certificates are
 * self-signed: who holds them is established by the fingerprint the
 * signalling carried, and between people by the short authentication
 * string (media/sas.h) over both fingerprints. */

typedef struct _SpDtls SpDtls;

typedef enum
{
  SP_DTLS_ROLE_CLIENT, /* a=setup:active: sends the ClientHello */
  SP_DTLS_ROLE_SERVER, /* a=setup:passive */
} SpDtlsRole;

/* a=setup (RFC 4145, RFC 5763 5). */
typedef enum
{
  SP_DTLS_SETUP_NONE, /* absent or not understood */
  SP_DTLS_SETUP_ACTPASS,
  SP_DTLS_SETUP_ACTIVE,
  SP_DTLS_SETUP_PASSIVE,
  SP_DTLS_SETUP_HOLDCONN,
} SpDtlsSetup;

SpDtlsSetup sp_dtls_setup_from_string (const char *text);
const char *sp_dtls_setup_to_string (SpDtlsSetup setup);
/* What an answer says to an offer's @offered setup: active to actpass
 * (RFC 5763 5: the answerer is the DTLS client), and to passive; passive
 * to active; NONE to holdconn or NONE. */
SpDtlsSetup sp_dtls_setup_answer (SpDtlsSetup offered);
/* Our role once both setups are known; FALSE when they do not make one
 * client and one server (both active, both passive, holdconn). An absent
 * setup in an answer to our actpass means active (RFC 4145 4: the
 * default), so we are the server. */
gboolean sp_dtls_role_for (SpDtlsSetup local, SpDtlsSetup remote, SpDtlsRole *role);

/* SRTP protection profiles of use_srtp (RFC 5764 4.1.2, RFC 7714 14.2). */
typedef enum
{
  SP_DTLS_SRTP_NONE,
  SP_DTLS_SRTP_AES128_CM_HMAC_SHA1_80,
  SP_DTLS_SRTP_AES128_CM_HMAC_SHA1_32,
  SP_DTLS_SRTP_AEAD_AES_128_GCM,
} SpDtlsSrtpProfile;

#define SP_DTLS_MAX_KEY_SALT 46 /* 32-byte key + 14-byte salt; ours use 30 or 28 */

/* Each direction's SRTP master key followed by its master salt, as
 * libsrtp takes them: 16 + 14 bytes for the AES-CM profiles, 16 + 12
 * for AEAD_AES_128_GCM. */
typedef struct
{
  SpDtlsSrtpProfile profile;
  guint8 local[SP_DTLS_MAX_KEY_SALT]; /* protects what we send */
  gsize local_len;
  guint8 remote[SP_DTLS_MAX_KEY_SALT]; /* unprotects what we receive */
  gsize remote_len;
} SpDtlsSrtpKeys;

const char *sp_dtls_srtp_profile_name (SpDtlsSrtpProfile profile);

/* Whole handshake, from start (client) or the first datagram (server) to
 * the end: then it fails with a reason. */
#define SP_DTLS_HANDSHAKE_TIMEOUT_MS 20000
/* The largest datagram we send (a certificate flight is fragmented to
 * fit), below any path's MTU with IP, UDP and a TURN header. */
#define SP_DTLS_MTU 1200
/* Datagrams waiting for GnuTLS, and the largest one taken. */
#define SP_DTLS_MAX_QUEUED   32
#define SP_DTLS_MAX_DATAGRAM 16384

typedef struct
{
  /* A datagram to send to the peer (one DTLS datagram per call). */
  void (*send) (SpDtls *dtls, const guint8 *data, gsize len, gpointer user_data);
  /* The handshake is complete and the peer's certificate matched its
   * fingerprint: sp_dtls_get_srtp_keys () now gives the keys. */
  void (*established) (SpDtls *dtls, gpointer user_data);
  /* The handshake failed (a wrong fingerprint, no SRTP profile in common,
   * the peer's alert, no answer in time): @error says why in a sentence
   * for the user. Called at most once, and never after established. */
  void (*failed) (SpDtls *dtls, const GError *error, gpointer user_data);
} SpDtlsCallbacks;

/* @identity: our certificate (the one our SDP's a=fingerprint names).
 * The callbacks run from sp_dtls_start (), sp_dtls_receive (),
 * sp_dtls_set_remote_fingerprint () or a timer; established and failed
 * come last, so the owner may free the SpDtls in them. */
SpDtls *sp_dtls_new (SpSipTlsIdentity *identity, SpDtlsRole role, const SpDtlsCallbacks *callbacks,
                     gpointer user_data, GError **error);
/* Sends a close_notify if the handshake was done, stops the timers,
 * forgets the keys. NULL-safe. No callback runs after it. */
void sp_dtls_free (SpDtls *dtls);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpDtls, sp_dtls_free)

SpDtlsRole sp_dtls_get_role (SpDtls *dtls);

/* What the peer's SDP said: a=fingerprint:@hash @value (sha-1, sha-224,
 * sha-256, sha-384 or sha-512; hex pairs and colons). May come before the
 * handshake or after it (the answer's SDP can come after the peer's
 * first DTLS datagram): keys are given out only once it is known and
 * matched. FALSE with @error for a fingerprint that does not parse. */
gboolean sp_dtls_set_remote_fingerprint (SpDtls *dtls, const char *hash, const char *value,
                                         GError **error);

/* The client sends its ClientHello; a server waits for it. Starts the
 * handshake's deadline. */
void sp_dtls_start (SpDtls *dtls);

/* A datagram from the peer (first byte 20..63, RFC 7983). Anything that
 * is not DTLS, or is too large, is dropped without harm. */
void sp_dtls_receive (SpDtls *dtls, const guint8 *data, gsize len);

/* TRUE once established: fills @keys (zero them when done). */
gboolean sp_dtls_get_srtp_keys (SpDtls *dtls, SpDtlsSrtpKeys *keys);
gboolean sp_dtls_is_established (SpDtls *dtls);
/* SHA-256 fingerprints ("AB:CD:...") of our certificate and of the one
 * the peer presented (NULL before it did): what the SAS is made of. */
const char *sp_dtls_get_local_fingerprint (SpDtls *dtls);
const char *sp_dtls_get_peer_fingerprint (SpDtls *dtls);

G_END_DECLS
