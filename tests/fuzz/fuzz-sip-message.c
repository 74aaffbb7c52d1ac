/* libFuzzer target for the SIP message parser: the input as one
 * datagram, then as a TCP stream through the framer. Whatever parses
 * must serialize to something that parses again to the same values,
 * and a response must be buildable from it. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sip/message.h"
#include "ua/siplog.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
require (gboolean ok, const char *what)
{
  if (!ok)
    {
      g_printerr ("invariant broken: %s\n", what);
      abort ();
    }
}

static void
exercise (SpSipMessage *msg)
{
  g_autoptr (GBytes) wire = sp_sip_message_serialize (msg);
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSipMessage) again = NULL;
  g_autoptr (SpSipMessage) copy = sp_sip_message_copy (msg);
  gsize wlen, blen, blen2;
  const guint8 *w = g_bytes_get_data (wire, &wlen);
  const guint8 *body, *body2;

  again = sp_sip_message_parse (w, wlen, SP_SIP_FRAMING_DATAGRAM, NULL, &error);
  if (!again)
    g_printerr ("re-parse failed: %s\n%.*s\n", error->message, (int) MIN (wlen, 2000),
                (const char *) w);
  require (again != NULL, "serialized message parses");
  require (sp_sip_message_is_request (again) == sp_sip_message_is_request (msg), "kind");
  require (sp_sip_message_get_status (again) == sp_sip_message_get_status (msg), "status");
  require (g_strcmp0 (sp_sip_message_get_method (again), sp_sip_message_get_method (msg)) == 0,
           "method");
  require (sp_sip_message_get_n_headers (again) == sp_sip_message_get_n_headers (msg),
           "header count");
  require (sp_sip_message_get_vias (again)->len == sp_sip_message_get_vias (msg)->len, "via count");
  require (sp_sip_message_get_contacts (again)->len == sp_sip_message_get_contacts (msg)->len,
           "contact count");
  require (g_strcmp0 (sp_sip_message_get_call_id (again), sp_sip_message_get_call_id (msg)) == 0,
           "call-id");
  require (sp_sip_message_get_cseq (again, NULL) == sp_sip_message_get_cseq (msg, NULL), "cseq");
  if (sp_sip_message_is_request (msg))
    require (sp_sip_uri_equal (sp_sip_message_get_request_uri (again),
                               sp_sip_message_get_request_uri (msg)),
             "request-uri");
  body = sp_sip_message_get_body (msg, &blen);
  body2 = sp_sip_message_get_body (again, &blen2);
  require (blen == blen2 && (blen == 0 || memcmp (body, body2, blen) == 0), "body");
  require (sp_sip_message_get_n_headers (copy) == sp_sip_message_get_n_headers (msg), "copy");
  if (sp_sip_message_is_request (msg))
    {
      g_autoptr (SpSipMessage) resp = sp_sip_message_new_response_to (msg, 400, NULL, "fz");
      g_autofree char *text = sp_sip_message_to_string (resp, NULL);

      require (g_str_has_prefix (text, "SIP/2.0 400 "), "response to a parsed request");
      (void) sp_sip_message_check_request (msg, NULL);
      sp_sip_message_remove_first_value (copy, "Via");
    }
}

static void
run_datagram (const uint8_t *data, size_t size)
{
  SpSipMessage *partial = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSipMessage) msg =
      sp_sip_message_parse (data, size, SP_SIP_FRAMING_DATAGRAM, &partial, &error);

  if (msg)
    exercise (msg);
  else
    require (error != NULL && error->domain == SP_SIP_ERROR, "failure sets an SP_SIP_ERROR");
  if (partial)
    {
      g_autoptr (SpSipMessage) resp = sp_sip_message_new_response_to (partial, 400, NULL, "x");
      g_autoptr (GBytes) wire = sp_sip_message_serialize (resp);

      require (g_bytes_get_size (wire) > 12, "response to a partial request");
      sp_sip_message_unref (partial);
    }
}

static void
run_stream (const uint8_t *data, size_t size)
{
  g_autoptr (SpSipFramer) framer = sp_sip_framer_new ();
  /* Two pushes split at a point the input picks, to reach partial states. */
  size_t cut = size > 0 ? data[0] % (size + 1) : 0;
  size_t off[2] = { 0, cut }, len[2] = { cut, size - cut };

  for (int k = 0; k < 2; k++)
    {
      if (!sp_sip_framer_push (framer, data + off[k], len[k], NULL))
        return;
      for (int i = 0; i < 64; i++)
        {
          g_autoptr (GError) error = NULL;
          g_autoptr (SpSipMessage) msg = sp_sip_framer_pop (framer, &error);

          if (msg)
            exercise (msg);
          else if (!error || sp_sip_framer_is_broken (framer))
            break;
        }
    }
}

/* What the SIP log keeps of anything that arrives: credentials masked
 * (ua/siplog.c), then the entry's own scans. */
static void
run_log (const uint8_t *data, size_t size)
{
  gsize len = 0;
  g_autofree char *masked = sp_sip_log_mask_credentials ((const char *) data, size, &len);
  g_autoptr (SpSipLogEntry) entry = NULL;

  require (masked[len] == '\0', "masked text is NUL-terminated");
  /* "x" becomes "***" at most once per "response=" or "sip:u:" and so on. */
  require (len <= 2 * (gsize) size + 8, "masking grows the text boundedly");
  entry = sp_sip_log_entry_new (0, SP_SIP_LOG_DIRECTION_RECEIVED, "a", "b", masked, len);
  require (sp_sip_log_entry_get_summary (entry) != NULL, "a log entry has a summary");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  run_datagram (data, size);
  run_stream (data, size);
  run_log (data, size);
  return 0;
}
