/* libFuzzer target for SpDtls (media/dtls.c), what the media port hands
 * over when a datagram's first byte is 20..63 (RFC 7983): the input is a
 * sequence of datagrams, each a 2-byte big-endian length and its bytes,
 * given to a DTLS server waiting for a ClientHello and to a client that
 * has sent its own. Nothing may crash, leak or read out of bounds;
 * keys never come out of a handshake with a peer that has no key. */

#include <stdio.h>
#include <stdlib.h>

#include "media/dtls.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static void
on_send (SpDtls *dtls, const guint8 *bytes, gsize len, gpointer user_data)
{
  (void) dtls, (void) bytes, (void) user_data;
  if (len > SP_DTLS_MTU)
    {
      fprintf (stderr, "fuzz-dtls: a datagram of %zu bytes\n", len);
      abort ();
    }
}

static void
on_established (SpDtls *dtls, gpointer user_data)
{
  (void) dtls, (void) user_data;
  fprintf (stderr, "fuzz-dtls: established with random bytes\n");
  abort ();
}

static void
on_failed (SpDtls *dtls, const GError *error, gpointer user_data)
{
  (void) dtls, (void) error, (void) user_data;
}

static const SpDtlsCallbacks callbacks = { on_send, on_established, on_failed };

/* One certificate for the whole run: making one per input would measure
 * key generation. */
static SpSipTlsIdentity *
identity (void)
{
  static SpSipTlsIdentity *id;
  const char *names[] = { "fuzz", NULL };

  if (id == NULL)
    id = sp_sip_tls_identity_new_ephemeral (names, NULL);
  return id;
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  SpDtls *ends[2];

  ends[0] = sp_dtls_new (identity (), SP_DTLS_ROLE_SERVER, &callbacks, NULL, NULL);
  ends[1] = sp_dtls_new (identity (), SP_DTLS_ROLE_CLIENT, &callbacks, NULL, NULL);
  sp_dtls_set_remote_fingerprint (ends[1], "sha-256",
                                  sp_sip_tls_identity_get_fingerprint (identity ()), NULL);
  sp_dtls_start (ends[0]);
  sp_dtls_start (ends[1]);
  while (size >= 2)
    {
      size_t len = MIN ((size_t) (data[0] << 8 | data[1]), size - 2);
      for (guint i = 0; i < 2; i++)
        sp_dtls_receive (ends[i], data + 2, len);
      data += 2 + len;
      size -= 2 + len;
    }
  sp_dtls_free (ends[0]);
  sp_dtls_free (ends[1]);
  return 0;
}
