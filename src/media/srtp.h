#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* SRTP and SRTCP (RFC 3711) for one call's media, on libsrtp2.
 *
 * An SpSrtp is made from two master keys (each a key and a salt, as SDES
 * a=crypto carries them and DTLS-SRTP exports them): the local one
 * protects what we send, the remote one authenticates and decrypts what
 * the peer sends. The same suite applies both ways.
 *
 * Threads: what we send and what we receive use two separate libsrtp
 * sessions, so one thread may protect while another unprotects at the
 * same time; each direction is for one thread at a time. Nothing here
 * allocates on the packet path.
 *
 * Replay protection is libsrtp's (a window of 128 packets for RTP and
 * SRTCP): a packet seen before is refused as SP_SRTP_REPLAYED. A stream
 * (SSRC) is admitted only once a packet of it has authenticated, so a
 * stranger without the key cannot make the receiving side keep state. */

typedef enum
{
  SP_SRTP_AES_CM_128_HMAC_SHA1_80, /* RFC 4568 6.2.1 */
  SP_SRTP_AES_CM_128_HMAC_SHA1_32, /* RFC 4568 6.2.2; SRTCP keeps its 80-bit tag */
  SP_SRTP_AEAD_AES_128_GCM,        /* RFC 7714 */
} SpSrtpSuite;

#define SP_SRTP_N_SUITES 3

/* The most that protecting adds to a packet (the SRTCP index and the
 * longest tag, with room to spare for libsrtp's own bound): a buffer
 * given to a protect function holds the packet plus this. */
#define SP_SRTP_MAX_OVERHEAD 148

/* The longest master key + salt of any suite (30 bytes). */
#define SP_SRTP_MAX_KEY_LEN 30

typedef enum
{
  SP_SRTP_OK,
  SP_SRTP_AUTH_FAILED, /* wrong key, tampered, or not SRTP at all */
  SP_SRTP_REPLAYED,    /* seen before, or too old for the replay window */
  SP_SRTP_BAD_PACKET,  /* too short, not version 2, or no room to protect */
} SpSrtpResult;

typedef struct _SpSrtp SpSrtp;

/* Master key + salt length of @suite: 30 (16 + 14) for AES_CM, 28
 * (16 + 12) for AEAD_AES_128_GCM. */
gsize sp_srtp_suite_key_length (SpSrtpSuite suite);
/* The suite's name as RFC 4568 / RFC 7714 spell it in a=crypto
 * ("AES_CM_128_HMAC_SHA1_80"); NULL for an unknown value. */
const char *sp_srtp_suite_to_string (SpSrtpSuite suite);
/* The suite named @name (exact, case-sensitive as the RFCs register
 * them); FALSE if unknown. */
gboolean sp_srtp_suite_from_string (const char *name, SpSrtpSuite *suite);

/* A context for @suite: @tx (local master key + salt) protects what we
 * send, @rx (the peer's) what we receive. Each must be exactly
 * sp_srtp_suite_key_length () bytes; they are copied and wiped from our
 * copies once libsrtp holds them. NULL with @error (G_IO_ERROR_INVALID_
 * ARGUMENT, or G_IO_ERROR_FAILED if libsrtp refuses). */
SpSrtp *sp_srtp_new (SpSrtpSuite suite, const guint8 *tx, gsize tx_len, const guint8 *rx,
                     gsize rx_len, GError **error);
void sp_srtp_free (SpSrtp *srtp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpSrtp, sp_srtp_free)

SpSrtpSuite sp_srtp_get_suite (SpSrtp *srtp);

/* @srtp replaces @previous (a re-INVITE's offer/answer): each direction
 * whose suite and key did not change takes over @previous's libsrtp state
 * (rollover counter, replay window), so a key offered again is not
 * restarted at index 0: restarting would reuse key stream on our side
 * after a rollover and lose the peer's rollover count on theirs. Only
 * the thread(s) that own both may call it; @previous is freed after. */
void sp_srtp_inherit (SpSrtp *srtp, SpSrtp *previous);

/* Protects the RTP or RTCP packet in @buf (*@len bytes; @capacity is the
 * size of @buf, at least *@len + SP_SRTP_MAX_OVERHEAD for certain
 * success) in place; *@len becomes the protected length. */
SpSrtpResult sp_srtp_protect_rtp (SpSrtp *srtp, guint8 *buf, gsize *len, gsize capacity);
SpSrtpResult sp_srtp_protect_rtcp (SpSrtp *srtp, guint8 *buf, gsize *len, gsize capacity);
/* Authenticates and decrypts the SRTP or SRTCP packet in @buf in place;
 * on SP_SRTP_OK *@len is the plain packet's length. On failure @buf may
 * have been changed: drop it. */
SpSrtpResult sp_srtp_unprotect_rtp (SpSrtp *srtp, guint8 *buf, gsize *len);
SpSrtpResult sp_srtp_unprotect_rtcp (SpSrtp *srtp, guint8 *buf, gsize *len);

/* "auth failed", "replayed", ... for logs and tests. */
const char *sp_srtp_result_to_string (SpSrtpResult result);

G_END_DECLS
