#pragma once

#include "sip/digest.h"
#include "sip/message.h"
#include "sip/stack.h"
#include "sip/transport.h"

G_BEGIN_DECLS

/* A scripted SIP peer for tests: a plain UDP socket on loopback that
 * sends hand-written text and reads what the code under test sends, so
 * a test sees the bytes on the wire without a second SIP stack. Every
 * failure is a test assertion. */

/* How long raw_sip_expect() waits for each message. */
#define RAW_SIP_WAIT_MS 3000

typedef struct
{
  GSocket *socket; /* non-blocking */
  SpSipPeer peer;  /* where it is bound: UDP, its address, its port */
} RawSip;

/* The stack under test: listening on UDP 127.0.0.1 at a port of the
 * system's choice (in @bound), timer T1 @t1 ms, other timers by default. */
SpSipStack *raw_sip_stack_new (guint t1, SpSipPeer *bound);

/* A peer on @host (a 127.x address) with a port of the system's choice. */
RawSip *raw_sip_new (const char *host);
void raw_sip_free (RawSip *raw);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RawSip, raw_sip_free)

void raw_sip_send_text (RawSip *raw, const SpSipPeer *to, const char *text);
void raw_sip_send (RawSip *raw, const SpSipPeer *to, SpSipMessage *msg);

/* The next message for @raw, running the default main context while it
 * waits, or NULL after @ms. A datagram that does not parse fails the
 * test. */
SpSipMessage *raw_sip_recv (RawSip *raw, guint ms);
/* The same, but provisional responses are skipped: the next request or
 * final response within @ms in all. */
SpSipMessage *raw_sip_recv_final (RawSip *raw, guint ms);
/* Reads until a request with @method (or, with @method NULL, a response
 * with @status) arrives, skipping others (100 Trying, retransmissions);
 * fails the test when a wait runs out or too many are skipped. */
SpSipMessage *raw_sip_expect (RawSip *raw, const char *method, guint status);

/* @raw's response to @request with To tag @to_tag and a Contact
 * "<sip:@user@host:port>" naming @raw. */
SpSipMessage *raw_sip_response (RawSip *raw, SpSipMessage *request, guint status,
                                const char *to_tag, const char *user);

/* "WWW-Authenticate" of @response parsed; fails the test without one. */
SpDigestChallenge *raw_sip_challenge (SpSipMessage *response);
/* A whole "Authorization: ...\r\n" line answering @challenge for
 * @method @uri with nonce count @nc. */
char *raw_sip_authorization (const SpDigestChallenge *challenge, const char *user,
                             const char *password, const char *method, const char *uri, guint32 nc);

G_END_DECLS
