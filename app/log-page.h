#pragma once

#include <adwaita.h>

#include "application.h"

G_BEGIN_DECLS

/* The Log page: the SIP message log as a ladder, filtered by the Show
 * drop-down (all messages, one call, one registration, one kind of
 * message outside them); Clear is win.clear-log. */

#define SP_TYPE_LOG_PAGE (sp_log_page_get_type ())
G_DECLARE_FINAL_TYPE (SpLogPage, sp_log_page, SP, LOG_PAGE, AdwBin)

SpLogPage *sp_log_page_new (SpApplication *app);

G_END_DECLS
