/* libFuzzer target for the SDP parser: parse, serialize, parse again and
 * require the same text; read every typed view and copy on the way. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/offer-answer.h"
#include "sip/sdp.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static void
touch_media (const SpSdpMedia *m)
{
  SpSdpRtpmap map;
  const SpSdpConnection *c;
  const char *name, *value;

  for (guint i = 0; i < sp_sdp_media_get_n_formats (m); i++)
    {
      gint pt = sp_sdp_media_get_payload_type (m, i);
      if (pt >= 0 && sp_sdp_media_get_rtpmap (m, (guint) pt, &map) && map.encoding == NULL)
        abort ();
      (void) sp_sdp_media_get_format (m, i);
    }
  (void) sp_sdp_media_get_ptime (m);
  (void) sp_sdp_media_get_maxptime (m);
  (void) sp_sdp_media_get_rtcp_port (m);
  (void) sp_sdp_media_get_rtcp_address (m);
  (void) sp_sdp_media_get_rtcp_mux (m);
  (void) sp_sdp_media_get_direction (m);
  (void) sp_sdp_media_get_bandwidth (m, "AS");
  c = sp_sdp_media_get_effective_connection (m);
  if (c != NULL && (c->address == NULL || c->n_addresses == 0))
    abort ();
  for (guint i = 0; i < sp_sdp_media_get_n_attributes (m); i++)
    {
      sp_sdp_media_get_nth_attribute (m, i, &name, &value);
      if (name == NULL)
        abort ();
    }
}

/* The input as a peer's offer to our phone, then as the answer to our
 * offer: codec choice and fmtp parsing (Opus) see it all. */
static void
answer_as_phone (const guint8 *data, size_t size)
{
  SpOfferAnswerConfig config = { 0 };
  g_autoptr (SpOfferAnswer) oa = NULL;
  g_autofree char *answer = NULL;
  g_autofree char *offer = NULL;
  SpMediaParams params;

  config.local_address = "127.0.0.1";
  config.rtp_port = 40000;
  oa = sp_offer_answer_new (&config);
  answer = sp_offer_answer_process_offer (oa, (const char *) data, size, &params, NULL);
  if (answer != NULL && params.codec == SP_CODEC_OPUS && params.payload_type > 127)
    abort ();
  offer = sp_offer_answer_create_offer (oa);
  (void) sp_offer_answer_process_answer (oa, (const char *) data, size, &params, NULL);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr (SpSdpSession) s = sp_sdp_session_parse ((const char *) data, size, NULL);
  g_autoptr (SpSdpSession) again = NULL;
  g_autoptr (SpSdpSession) copy = NULL;
  g_autofree char *text = NULL;
  g_autofree char *text2 = NULL;
  g_autoptr (GError) error = NULL;

  if (s == NULL)
    return 0;
  for (guint i = 0; i < sp_sdp_session_get_n_media (s); i++)
    touch_media (sp_sdp_session_get_media (s, i));
  (void) sp_sdp_session_get_direction (s);
  (void) sp_sdp_session_get_start_time (s);

  /* What we write must parse back to the same description. */
  text = sp_sdp_session_to_string (s);
  again = sp_sdp_session_parse (text, strlen (text), &error);
  if (again == NULL)
    {
      fprintf (stderr, "re-parse failed: %s\n%s", error->message, text);
      abort ();
    }
  text2 = sp_sdp_session_to_string (again);
  if (strcmp (text, text2) != 0)
    {
      fprintf (stderr, "round trip differs:\n%s---\n%s", text, text2);
      abort ();
    }

  /* Edits through the builder keep it parseable. */
  copy = sp_sdp_session_copy (s);
  if (!sp_sdp_session_equal (copy, s))
    abort ();
  sp_sdp_session_set_session_version (copy, sp_sdp_session_get_session_version (copy) + 1);
  /* Setters handed our own strings back must not use them after free. */
  sp_sdp_session_set_name (copy, sp_sdp_session_get_name (copy));
  sp_sdp_session_set_origin_address (copy, sp_sdp_session_get_origin_addr_type (copy),
                                     sp_sdp_session_get_origin_address (copy));
  if (sp_sdp_session_get_n_attributes (copy) > 0)
    {
      const char *name;
      sp_sdp_session_get_nth_attribute (copy, 0, &name, NULL);
      sp_sdp_session_remove_attribute (copy, name);
    }
  for (guint i = 0; i < sp_sdp_session_get_n_media (copy); i++)
    {
      SpSdpMedia *m = sp_sdp_session_get_media (copy, i);
      sp_sdp_media_set_direction (m, sp_sdp_direction_reverse (sp_sdp_media_get_direction (m)));
      sp_sdp_media_set_ptime (m, 20);
      const SpSdpConnection *c = sp_sdp_media_get_connection (m);
      gint pt = sp_sdp_media_get_n_formats (m) > 0 ? sp_sdp_media_get_payload_type (m, 0) : -1;
      if (c != NULL)
        sp_sdp_media_set_connection (m, c->addr_type, c->address);
      if (pt >= 0 && sp_sdp_media_get_fmtp (m, (guint) pt) != NULL)
        sp_sdp_media_set_fmtp (m, (guint) pt, sp_sdp_media_get_fmtp (m, (guint) pt));
      if (sp_sdp_media_get_n_attributes (m) > 0)
        {
          const char *name;
          sp_sdp_media_get_nth_attribute (m, 0, &name, NULL);
          sp_sdp_media_remove_attribute (m, name);
        }
      if (sp_sdp_media_get_n_formats (m) > 0)
        sp_sdp_media_remove_format (m, sp_sdp_media_get_format (m, 0));
    }
  g_free (text);
  text = sp_sdp_session_to_string (copy);
  g_clear_pointer (&again, sp_sdp_session_free);
  again = sp_sdp_session_parse (text, strlen (text), &error);
  if (again == NULL)
    {
      fprintf (stderr, "edited re-parse failed: %s\n%s", error->message, text);
      abort ();
    }
  answer_as_phone (data, size);
  return 0;
}
