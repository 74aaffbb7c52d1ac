#pragma once

#include "server/accesspolicy.h"
#include "server/location.h"
#include "sip/stack.h"

#include <glib.h>

G_BEGIN_DECLS

/* REGISTER handling (RFC 3261 10.3), after SpAccessPolicy authenticated
 * the request: the To user must be the authenticated one, then the contacts go to the location
 * store; the 200 lists every binding of the user with its remaining
 * expiry, 423 carries Min-Expires. */

typedef struct _SpRegistrar SpRegistrar;

typedef struct
{
  guint64 registers; /* REGISTER requests handled */
  guint64 refused;   /* 403: not one's own AOR */
  guint64 accepted;  /* 200 */
} SpRegistrarStats;

/* Everything borrowed; it must outlive the registrar. */
SpRegistrar *sp_registrar_new (SpSipStack *stack, SpLocationStore *locations);
void sp_registrar_free (SpRegistrar *registrar);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpRegistrar, sp_registrar_free)

/* Answers @request (a REGISTER that the policy admitted as @access, a
 * user) through @st. @now is wall clock seconds. */
void sp_registrar_handle (SpRegistrar *registrar, SpSipServerTransaction *st, SpSipMessage *request,
                          const SpAccess *access, gint64 now);
const SpRegistrarStats *sp_registrar_get_stats (SpRegistrar *registrar);

G_END_DECLS
