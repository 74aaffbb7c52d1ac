#pragma once

#include <adwaita.h>

#include "application.h"

G_BEGIN_DECLS

/* The office directory on the Calls page: each colleague with their live
 * state (ua/contacts.h), a Call button, and on a ringing colleague a
 * "Pick up" button that dials ** + their number (call pickup in the
 * server). Watches the first account that registers; hidden while there
 * is no directory. */
#define SP_TYPE_CONTACTS_LIST (sp_contacts_list_get_type ())
G_DECLARE_FINAL_TYPE (SpContactsList, sp_contacts_list, SP, CONTACTS_LIST, AdwBin)

void sp_contacts_list_set_application (SpContactsList *self, SpApplication *app);

G_END_DECLS
