#pragma once

#include <adwaita.h>

#include "application.h"

G_BEGIN_DECLS

/* The History page: the phone's call history (its model, newest first),
 * each row with Call Back (win.dial('PEER')). */

#define SP_TYPE_HISTORY_PAGE (sp_history_page_get_type ())
G_DECLARE_FINAL_TYPE (SpHistoryPage, sp_history_page, SP, HISTORY_PAGE, AdwBin)

SpHistoryPage *sp_history_page_new (SpApplication *app);

G_END_DECLS
