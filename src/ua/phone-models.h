#pragma once

#include "tablemodel.h"
#include "ua/phone.h"

G_BEGIN_DECLS

/* The phone's call history as a GListModel of SpTableItem (values:
 * SpCallRecord), newest first, at most @SP_PHONE_HISTORY_MODEL_MAX;
 * follows each call's end. Made on first use, lives as long as the
 * phone. Main loop only. */
#define SP_PHONE_HISTORY_MODEL_MAX 200

GListModel *sp_phone_get_history_model (SpPhone *phone);

G_END_DECLS
