#pragma once

#include "server/server.h"
#include "tablemodel.h"

G_BEGIN_DECLS

/* The server's tables as GListModels of SpTableItem, for front ends
 * that show them (the window's Server page). Each is made on first use
 * and lives as long as the server; the headless runner never pays for
 * them. Main loop only. */

/* Values: SpUser, sorted by name. */
GListModel *sp_server_get_users_model (SpServer *server);
/* Values: the routing rules as text ("^2$=return;called=u2"), in order. */
GListModel *sp_server_get_routes_model (SpServer *server);
/* Values: SpBinding, the phones registered now, by user then contact. */
GListModel *sp_server_get_registrations_model (SpServer *server);
/* Values: SpServerCall, the calls the server carries now, oldest first. */
GListModel *sp_server_get_calls_model (SpServer *server);

G_END_DECLS
