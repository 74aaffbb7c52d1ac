/* libFuzzer target for the digest challenge and credential parsers: the
 * input is tried as both; what parses is serialized, parsed again and
 * compared, and answered/verified when the algorithm is known. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip/digest.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static void
check_challenge (const SpDigestChallenge *ch)
{
  g_autofree char *text = sp_digest_challenge_to_string (ch);
  g_autoptr (GError) error = NULL;
  g_autoptr (SpDigestChallenge) again = sp_digest_challenge_parse (text, -1, &error);
  g_autoptr (SpDigestCredentials) cr = NULL;
  g_autoptr (SpDigestCredentials) rx = NULL;
  g_autofree char *auth = NULL;
  g_autofree char *ha1 = NULL;

  if (again == NULL)
    {
      fprintf (stderr, "challenge re-parse failed: %s\n%s\n", error->message, text);
      abort ();
    }
  if (strcmp (again->realm, ch->realm) != 0 || strcmp (again->nonce, ch->nonce) != 0 ||
      g_strcmp0 (again->opaque, ch->opaque) != 0 || again->qop != ch->qop ||
      again->stale != ch->stale || again->params->len != ch->params->len)
    {
      fprintf (stderr, "challenge round trip differs:\n%s\n", text);
      abort ();
    }
  if (ch->algorithm == SP_DIGEST_ALGORITHM_UNKNOWN)
    return;
  /* Answer it and check the answer as a server would. */
  cr = sp_digest_credentials_new_for_challenge (ch, "user", "pass", NULL, "INVITE",
                                                "sip:a@127.0.0.1", (const guint8 *) "b", 1, 1, NULL,
                                                &error);
  if (cr == NULL)
    abort ();
  auth = sp_digest_credentials_to_string (cr);
  rx = sp_digest_credentials_parse (auth, -1, &error);
  if (rx == NULL)
    {
      fprintf (stderr, "credentials re-parse failed: %s\n%s\n", error->message, auth);
      abort ();
    }
  ha1 = sp_digest_compute_ha1 (ch->algorithm, "user", ch->realm, "pass");
  if (!sp_digest_credentials_verify (rx, ha1, "INVITE", (const guint8 *) "b", 1))
    {
      fprintf (stderr, "own credentials do not verify:\n%s\n", auth);
      abort ();
    }
}

static void
check_credentials (const SpDigestCredentials *cr)
{
  g_autofree char *text = sp_digest_credentials_to_string (cr);
  g_autoptr (GError) error = NULL;
  g_autoptr (SpDigestCredentials) again = sp_digest_credentials_parse (text, -1, &error);

  if (again == NULL)
    {
      fprintf (stderr, "credentials re-parse failed: %s\n%s\n", error->message, text);
      abort ();
    }
  if (strcmp (again->username, cr->username) != 0 || strcmp (again->uri, cr->uri) != 0 ||
      strcmp (again->response, cr->response) != 0 || again->qop != cr->qop ||
      again->nc_value != cr->nc_value || again->params->len != cr->params->len)
    {
      fprintf (stderr, "credentials round trip differs:\n%s\n", text);
      abort ();
    }
  (void) sp_digest_credentials_verify (cr, "0123456789abcdef0123456789abcdef", "REGISTER", NULL, 0);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  static const guint8 secret[] = "fuzz secret";
  g_autoptr (SpDigestChallenge) ch = NULL;
  g_autoptr (SpDigestCredentials) cr = NULL;
  g_autofree char *text = NULL;

  if (size > G_MAXSSIZE)
    return 0;
  ch = sp_digest_challenge_parse ((const char *) data, (gssize) size, NULL);
  if (ch != NULL)
    check_challenge (ch);
  cr = sp_digest_credentials_parse ((const char *) data, (gssize) size, NULL);
  if (cr != NULL)
    check_credentials (cr);
  text = g_strndup ((const char *) data, size);
  (void) sp_digest_nonce_check (secret, sizeof secret, text, "realm", 1000, 300);
  return 0;
}
