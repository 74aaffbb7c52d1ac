#include "ua/auth.h"

#include <gio/gio.h>
#include <string.h>

#include "sip/digest.h"

static int
algorithm_rank (SpDigestAlgorithm algorithm)
{
  switch (algorithm)
    {
      case SP_DIGEST_ALGORITHM_SHA256:
        return 4;
      case SP_DIGEST_ALGORITHM_SHA256_SESS:
        return 3;
      case SP_DIGEST_ALGORITHM_MD5:
        return 2;
      case SP_DIGEST_ALGORITHM_MD5_SESS:
        return 1;
      case SP_DIGEST_ALGORITHM_UNKNOWN:
      default:
        return 0;
    }
}

gboolean
sp_ua_add_credentials (SpSipMessage *request, const SpSipMessage *response, const char *username,
                       const char *password, guint32 *nc, gboolean *stale, GError **error)
{
  gboolean proxy = sp_sip_message_get_status (response) == 407;
  const char *challenge_header = proxy ? "Proxy-Authenticate" : "WWW-Authenticate";
  const char *credentials_header = proxy ? "Proxy-Authorization" : "Authorization";
  g_autoptr (SpDigestChallenge) best = NULL;
  g_autoptr (SpDigestCredentials) creds = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *value = NULL;
  g_autofree char *cnonce = NULL;
  const guint8 *body;
  gsize body_len = 0;
  guint n = sp_sip_message_get_n_headers (response);

  for (guint i = 0; i < n; i++)
    {
      const char *name, *text;
      g_autoptr (SpDigestChallenge) c = NULL;

      sp_sip_message_get_nth_header (response, i, &name, &text);
      if (g_ascii_strcasecmp (name, challenge_header) != 0)
        continue;
      c = sp_digest_challenge_parse (text, -1, NULL);
      if (c == NULL || algorithm_rank (c->algorithm) == 0)
        continue;
      if (best == NULL || algorithm_rank (c->algorithm) > algorithm_rank (best->algorithm))
        {
          g_clear_pointer (&best, sp_digest_challenge_free);
          best = g_steal_pointer (&c);
        }
    }
  if (best == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "%u %s without a Digest challenge we can answer",
                   sp_sip_message_get_status (response), sp_sip_message_get_reason (response));
      return FALSE;
    }
  if (stale != NULL)
    *stale = best->stale;

  uri = sp_sip_uri_to_string (sp_sip_message_get_request_uri (request));
  body = sp_sip_message_get_body (request, &body_len);
  cnonce = g_strdup_printf ("%08x%08x", g_random_int (), g_random_int ());
  *nc = *nc + 1;
  creds = sp_digest_credentials_new_for_challenge (best, username, password ? password : "", NULL,
                                                   sp_sip_message_get_method (request), uri, body,
                                                   body_len, *nc, cnonce, error);
  if (creds == NULL)
    return FALSE;
  value = sp_digest_credentials_to_string (creds);
  return sp_sip_message_set_header (request, credentials_header, value, error);
}

void
sp_ua_prepare_resend (SpSipMessage *request, guint32 cseq)
{
  g_autofree char *value = g_strdup_printf ("%u %s", cseq, sp_sip_message_get_method (request));

  sp_sip_message_set_header (request, "CSeq", value, NULL);
  sp_sip_message_remove_first_value (request, "Via");
}
