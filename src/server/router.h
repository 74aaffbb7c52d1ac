#pragma once

#include "server/userdb.h"

#include <glib-object.h>

G_BEGIN_DECLS

/* Call routing by rules in Yate's regexroute.conf syntax (the [default]
 * context), evaluated top to bottom:
 *
 *   ^2$=return;called=u2            set "called", stop: route to that user
 *   ^0\(.*\)$=sip/sip:\1@pbx:5070  forward to another SIP server
 *   ${username}^$=-;error=noauth    unauthenticated callers: challenge
 *   ^9.*$=-;error=busy              reject (also "error=busy" alone)
 *   ${caller}^$^=;callername=x      set parameters, keep going
 *
 * A rule is "[${param}]REGEX[^]=TARGET[;name=value...]". REGEX matches the
 * "called" parameter unless ${param} names another (username, caller,
 * address, ...); a final '^' inverts the match. REGEX is a POSIX basic
 * regular expression like Yate's default ("\(...\)" captures, "\|", "\+"),
 * or extended with "extended=yes" in [priorities]; "insensitive=yes"
 * there ignores case. \0..\9 and ${param} are replaced in TARGET and in
 * parameter values; what they bring is data: it never adds a parameter
 * (the rule is split on its own ';' first) and is %-escaped for a URI
 * user part in a sip/ target. Parameters are set before TARGET acts; an empty TARGET
 * or "noop" goes on to the next rule. "return" (or running out of rules)
 * routes to the user whose name or number is "called" then, else 404.
 * Yate's error names map to SIP: busy 486, noroute 404, forbidden 403,
 * offline 480, noanswer 480, incomplete 484, looping 483, timeout 408,
 * noconn/congestion 503, rejected 603, failure 500, noauth 401 challenge. */

#define SP_ROUTER_ERROR (sp_router_error_quark ())

typedef enum
{
  SP_ROUTER_ERROR_PARSE = 1,
  SP_ROUTER_ERROR_REGEX,
  SP_ROUTER_ERROR_UNSUPPORTED,
  SP_ROUTER_ERROR_INDEX,
  SP_ROUTER_ERROR_TOO_MANY,
} SpRouterError;

GQuark sp_router_error_quark (void);

#define SP_ROUTER_MAX_RULES 10000

typedef enum
{
  /* Route to the local user named in target. */
  SP_ROUTE_LOCAL,
  /* Forward to the SIP URI in target. */
  SP_ROUTE_FORWARD,
  /* Refuse with status (error names the Yate reason). */
  SP_ROUTE_REJECT,
  /* Refuse with a digest challenge (status 401): error=noauth. */
  SP_ROUTE_CHALLENGE,
  /* Nobody by that name or number, or an unusable target: 404. */
  SP_ROUTE_NO_ROUTE,
} SpRouteKind;

typedef struct
{
  SpRouteKind kind;
  char *target; /* LOCAL: user name; FORWARD: "sip:..." URI; else NULL */
  guint status; /* SIP status for REJECT, CHALLENGE, NO_ROUTE; else 0 */
  char *error;  /* the Yate error name, or NULL */
  char *reason; /* a reason phrase for the refusal, or NULL for the usual */
  int rule;     /* index of the rule that decided, -1 for none */
  /* The message parameters after the rules ran (called, caller, username,
   * address and whatever rules set), e.g. a rewritten "caller". */
  GHashTable *params;
} SpRoute;

void sp_route_free (SpRoute *route);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpRoute, sp_route_free)

/* The SIP status for a Yate error name (500 for unknown ones). */
guint sp_router_error_to_status (const char *error_name);

/* Translates a POSIX basic regular expression (with the GNU "\+", "\?",
 * "\|" extensions Yate relies on) to GRegex syntax; NULL with an error
 * for an unterminated bracket or a trailing backslash. */
char *sp_router_translate_basic_regex (const char *bre, GError **error);

#define SP_TYPE_ROUTER (sp_router_get_type ())
G_DECLARE_FINAL_TYPE (SpRouter, sp_router, SP, ROUTER, GObject)

/* @users (optional, referenced) resolves names and numbers; without it
 * every "return" and every unmatched call is 404. Emits "changed" after
 * every change of the rules. */
SpRouter *sp_router_new (SpUserDb *users);

guint sp_router_get_n_rules (SpRouter *router);
/* Rule @index as a "key=value" line. */
char *sp_router_dup_rule (SpRouter *router, guint index);
/* The line of the imported file a rule came from, 0 for added ones. */
guint sp_router_get_rule_lineno (SpRouter *router, guint index);
/* Inserts the rule written as @line ("REGEX=TARGET") before @position
 * (-1 or past the end: append). */
gboolean sp_router_insert_rule (SpRouter *router, int position, const char *line, GError **error);
gboolean sp_router_remove_rule (SpRouter *router, guint index, GError **error);
/* Moves rule @from so that it ends up at index @to. */
gboolean sp_router_move_rule (SpRouter *router, guint from, guint to, GError **error);
void sp_router_clear (SpRouter *router);
gboolean sp_router_get_extended (SpRouter *router);
gboolean sp_router_get_insensitive (SpRouter *router);

/* Replaces all rules with those of a regexroute.conf text, all or
 * nothing: any rule that is not understood (bad regex, a Yate feature
 * this router does not have such as include/goto/blocks) fails the
 * import with an error naming its line, and the rules stay as they were,
 * because silently dropping a rule could let calls through that it was
 * meant to refuse. Sections other than [default] and [priorities], and
 * targets for other Yate modules (tone/, wave/, ...; those calls get 404)
 * are warnings ("line N: ...") in @warnings. */
gboolean sp_router_import (SpRouter *router, const char *text, gssize len, GPtrArray **warnings,
                           GError **error);
gboolean sp_router_import_path (SpRouter *router, const char *path, GPtrArray **warnings,
                                GError **error);
/* @config_dir/routes.conf, in regexroute.conf syntax, atomically. */
gboolean sp_router_save (SpRouter *router, const char *config_dir, GError **error);
/* A missing file means no rules. */
gboolean sp_router_load (SpRouter *router, const char *config_dir, GError **error);

/* TRUE when a dialled number or user name holds only characters that
 * are data everywhere a route may put them: letters, digits, non-ASCII
 * and "-_.!~*'()+#&=$/". Separators (';', '?', '@', ':', '<', '>', ',',
 * '%', '"', '\\', spaces and controls) are refused: the call gets 404
 * "Invalid character in number" before any rule runs. */
gboolean sp_router_number_is_valid (const char *number);

/* Routes a call described by @params (name -> value; "called" is the
 * dialled user part, "username" the authenticated caller or empty). */
SpRoute *sp_router_route (SpRouter *router, GHashTable *params);
/* The same with the usual parameters; NULL ones are empty. */
SpRoute *sp_router_route_call (SpRouter *router, const char *called, const char *caller,
                               const char *username, const char *address);

G_END_DECLS
