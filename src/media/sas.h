#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The short authentication string of a DTLS-SRTP call: four words that
 * both ends of a call compute from the two certificates the DTLS
 * handshake used, and that two people read to each other. Equal words
 * mean each end talks to the certificate the other end holds, so nobody
 * in the middle (a server that replaced the a=fingerprint lines) holds
 * the media keys.
 *
 * Order-independent: SHA-256 over a label and the two SHA-256
 * fingerprints sorted as bytes, so both ends get the same words whoever
 * is "local". The first four bytes of that hash give the words of the
 * PGP word list (Juola and Zimmermann, 1995; the list ZRTP's B256 SAS
 * reads): even positions from its two-syllable list, odd ones from its
 * three-syllable list, which tells a swapped pair of words apart. 32 bits:
 * a man in the middle who tries to match the words has one chance in
 * about four billion per call. */

/* @fingerprint_a, @fingerprint_b: SHA-256 fingerprints as hex pairs,
 * colons optional, any case ("AB:CD:..."). Returns the four words joined
 * by single spaces, or NULL when either is not a SHA-256 fingerprint. */
char *sp_sas_compute (const char *fingerprint_a, const char *fingerprint_b);

/* The PGP word of @byte at @position of a sequence (even: two syllables,
 * odd: three). */
const char *sp_sas_word (guint8 byte, guint position);

G_END_DECLS
