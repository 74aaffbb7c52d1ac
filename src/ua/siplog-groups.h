#pragma once

#include "ua/siplog.h"

G_BEGIN_DECLS

/* The dialogs of a SpSipLog, for the Log page's "Show" filter: a call per
 * Call-ID, a registration per REGISTER Call-ID, and one group per method
 * for everything outside calls and registrations (OPTIONS keep-alives,
 * MESSAGE...), whatever Call-ID each of those uses. Without that every
 * keep-alive would be a "dialog" of its own and the list would grow
 * without bound.
 *
 * The list stays bounded: a group leaves it when the log has dropped its
 * last message, and past max_groups the group idle longest leaves to make
 * room. Item 0 is always the "all messages" group, so a drop-down can use
 * the model as is. UI-free: the window draws the labels. */

typedef enum
{
  SP_SIP_LOG_GROUP_ALL,
  SP_SIP_LOG_GROUP_CALL,         /* INVITE and the requests of its dialog */
  SP_SIP_LOG_GROUP_REGISTRATION, /* REGISTER and its refreshes */
  SP_SIP_LOG_GROUP_OTHER,        /* one per method: OPTIONS, MESSAGE... */
} SpSipLogGroupKind;

#define SP_TYPE_SIP_LOG_GROUP (sp_sip_log_group_get_type ())
G_DECLARE_FINAL_TYPE (SpSipLogGroup, sp_sip_log_group, SP, SIP_LOG_GROUP, GObject)

SpSipLogGroupKind sp_sip_log_group_get_kind (SpSipLogGroup *self);
/* The CSeq method of the group's first message ("INVITE", "OPTIONS"); NULL
 * for the "all" group. */
const char *sp_sip_log_group_get_method (SpSipLogGroup *self);
/* The other end of the first message ("127.0.0.101:5060"); NULL for the
 * "all" and OTHER groups, which span many peers. */
const char *sp_sip_log_group_get_peer (SpSipLogGroup *self);
/* The Call-ID of a call or registration; NULL otherwise. */
const char *sp_sip_log_group_get_call_id (SpSipLogGroup *self);
/* Messages of the group still in the log (all of them for "all"). */
guint sp_sip_log_group_get_n_messages (SpSipLogGroup *self);
/* FALSE once the group has left the list (its messages dropped, or made
 * room for newer groups); "all" is always listed. */
gboolean sp_sip_log_group_is_listed (SpSipLogGroup *self);

#define SP_TYPE_SIP_LOG_GROUPS (sp_sip_log_groups_get_type ())
G_DECLARE_FINAL_TYPE (SpSipLogGroups, sp_sip_log_groups, SP, SIP_LOG_GROUPS, GObject)

/* A GListModel of SpSipLogGroup over log, kept up to date as the log
 * changes; max_groups (> 0) bounds the groups besides "all". */
SpSipLogGroups *sp_sip_log_groups_new (SpSipLog *log, guint max_groups);
/* The listed group entry belongs to; the "all" group for a message that
 * belongs to none (no Call-ID or CSeq) or whose group left the list. */
SpSipLogGroup *sp_sip_log_groups_lookup (SpSipLogGroups *self, SpSipLogEntry *entry);
/* Whether entry shows when group is chosen. */
gboolean sp_sip_log_groups_match (SpSipLogGroups *self, SpSipLogGroup *group, SpSipLogEntry *entry);

G_END_DECLS
