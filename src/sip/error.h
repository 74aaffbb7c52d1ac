#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Errors of the SIP syntax layer. A code is the status a server answers
 * the faulty request with, so a parse failure turns into a response with
 * no table in between; the GError message is the reason phrase naming
 * the fault ("Bad CSeq", "Content-Length larger than body", ...). */
#define SP_SIP_ERROR (sp_sip_error_quark ())

typedef enum
{
  /* Stream framing only: not enough bytes yet; not a protocol error. */
  SP_SIP_ERROR_INCOMPLETE = 1,
  SP_SIP_ERROR_BAD_REQUEST = 400,
  SP_SIP_ERROR_TOO_LARGE = 413,
  SP_SIP_ERROR_URI_TOO_LONG = 414,
  SP_SIP_ERROR_UNSUPPORTED_MEDIA = 415,
  SP_SIP_ERROR_UNSUPPORTED_SCHEME = 416,
  SP_SIP_ERROR_BAD_EXTENSION = 420,
  SP_SIP_ERROR_NOT_IMPLEMENTED = 501,
  SP_SIP_ERROR_VERSION_NOT_SUPPORTED = 505,
} SpSipErrorCode;

GQuark sp_sip_error_quark (void);

/* The SIP status to answer @error with: its code when it is in the
 * SP_SIP_ERROR domain and a real status (400..699), else 400. */
guint sp_sip_error_to_status (const GError *error);

/* The standard reason phrase of a status code ("Bad Request"), or
 * "Unknown" for codes RFC 3261 and its extensions do not name. */
const char *sp_sip_status_phrase (guint status);

G_END_DECLS
