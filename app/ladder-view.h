#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* A SIP call flow drawn as a ladder, like Wireshark's VoIP flow graph:
 * one column per host (address:port, in order of first appearance), one
 * arrow per message with its method or status above it and the time
 * since the first message on the left. Selecting an arrow (click, or the
 * arrow keys) shows the raw message below.
 *
 * Each arrow is a row of a GtkListView, so keyboard navigation, selection
 * and screen readers work as in any list; every arrow carries an
 * accessible name ("INVITE SDP") and description (from, to, time). */

#define SP_TYPE_LADDER_VIEW (sp_ladder_view_get_type ())
G_DECLARE_FINAL_TYPE (SpLadderView, sp_ladder_view, SP, LADDER_VIEW, GtkWidget)

GtkWidget *sp_ladder_view_new (void);

/* A model of SpSipLogEntry (src/ua/siplog.h); NULL to show nothing. */
void sp_ladder_view_set_model (SpLadderView *self, GListModel *model);

/* The hosts, one per column, in column order (for tests). */
guint sp_ladder_view_get_n_hosts (SpLadderView *self);
const char *sp_ladder_view_get_host (SpLadderView *self, guint column);
/* The selected message's raw text, or NULL. */
const char *sp_ladder_view_get_selected_raw (SpLadderView *self);
void sp_ladder_view_select (SpLadderView *self, guint position);

G_END_DECLS
