#pragma once

#include <glib.h>

#include "sip/message.h"
#include "sip/uri.h"
#include "ua/account.h"

G_BEGIN_DECLS

/* What the user typed in the "call" box, turned into a request target:
 *   "2", "+1 (555) 010-2000", "alice"  through @account: sip:2@server[:port]
 *   "sip:bob@pbx", "sips:..", "tel:+1555"  as given (tel: needs an account)
 *   "192.168.1.183", "[::1]:5062", "pc2.lan:5070", "bob@10.0.0.2"
 *                                         direct, no account needed
 * Without an account, a bare word that is not a number is a host name
 * ("localhost"), and a number is an error (there is nobody to route it). */

typedef enum
{
  SP_TARGET_VIA_ACCOUNT, /* a number or name routed by the account's server */
  SP_TARGET_URI,         /* a URI the user typed */
  SP_TARGET_DIRECT,      /* an address typed as such: direct call */
} SpTargetKind;

typedef struct
{
  SpTargetKind kind;
  SpSipUri *request_uri;
  /* Where the first request goes (RFC 3263 without DNS SRV): the
   * account's outbound proxy or server, or the URI's host. Port 0 means
   * the default for the transport (5060, 5061 for sips). */
  char *next_hop_host;
  guint16 next_hop_port;
  SpAccountTransport transport;
  /* The account the call goes through, or NULL (direct call). Owned. */
  SpAccount *account;
} SpTarget;

/* Parses @text (leading/trailing spaces ignored). @account may be NULL.
 * Errors are G_IO_ERROR_INVALID_ARGUMENT with a message for the user. */
SpTarget *sp_target_parse (const char *text, SpAccount *account, GError **error);
void sp_target_free (SpTarget *target);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpTarget, sp_target_free)

/* The From of an outgoing request. Through an account:
 * "Display" <sip:user@server>. Direct (no account, or an account with no
 * username): sip:anonymous@LOCAL_HOST[:LOCAL_PORT] unless @user is set,
 * as Yate does; @display_name is used when set. */
SpSipNameAddr *sp_target_make_from (SpAccount *account, const char *display_name, const char *user,
                                    const char *local_host, guint16 local_port);

/* TRUE when @text is a dialable number: digits, '*', '#', a leading '+',
 * and visual separators (space, '-', '(', ')') that are dropped. @digits
 * (optional) gets the number without separators. */
gboolean sp_target_is_number (const char *text, char **digits);

G_END_DECLS
