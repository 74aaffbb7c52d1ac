#pragma once

#include "sip/message.h"

G_BEGIN_DECLS

/* Answering a 401/407 (RFC 3261 22.2, 22.3): picks the best challenge
 * of @response (SHA-256 over MD5, as RFC 8760 asks), computes the
 * credentials for @request and adds them as Authorization or
 * Proxy-Authorization, replacing earlier ones for the same header.
 * @nc counts uses of a nonce (qop=auth); @stale (may be NULL) says the
 * server only found our nonce too old. Never logs the password. */
gboolean sp_ua_add_credentials (SpSipMessage *request, const SpSipMessage *response,
                                const char *username, const char *password, guint32 *nc,
                                gboolean *stale, GError **error);

/* A new CSeq for a re-sent request: same Call-ID and From tag, number
 * bumped, top Via removed so the transaction layer adds a fresh one. */
void sp_ua_prepare_resend (SpSipMessage *request, guint32 cseq);

G_END_DECLS
