#pragma once

#include "server/server.h"
#include "sip/clock.h"
#include "sip/stack.h"

#include "raw-sip.h"

G_BEGIN_DECLS

/* The mini-server's B2BUA between two scripted raw UDP peers, for the
 * b2bua tests: SpServer on its own stack (T1 50 ms) on 127.0.0.1, the
 * user bob (number 2, password "pw"), relay ports 31000-31999, A (the
 * caller) a trusted peer unless a test says otherwise, B bob's phone. */
typedef struct
{
  SpSipClock *clock; /* the stack's timers: a fake clock, or NULL for real time */
  SpSipStack *stack;
  SpSipPeer bound; /* where the server listens */
  SpServer *server;
  RawSip *a;
  RawSip *b;
} B2buaFixture;

/* The server made and configured, not started: a test adds its own
 * settings, then calls b2bua_fixture_start (). @fake_clock: the stack
 * runs on a fake clock (f->clock) that the test advances. */
void b2bua_fixture_init (B2buaFixture *f, gboolean fake_clock);
/* The server listening, the raw peers A and B bound. */
void b2bua_fixture_start (B2buaFixture *f);
void b2bua_fixture_teardown (B2buaFixture *f);

/* A REGISTER's outcome without the message: @aor bound to @contact for
 * 600 s, as if it came from @source ("host:port") over UDP. */
void b2bua_fixture_register (SpServer *server, const char *aor, const char *contact,
                             const char *source);
/* bob's binding: Contact names @host:5060 (NULL: B's own address and
 * port); the REGISTER came from B's socket. */
void b2bua_fixture_bind_bob (B2buaFixture *f, const char *host);

G_END_DECLS
