/* The Server page's registrations list under REGISTERs: 500 AORs listed,
 * then 2000 REGISTER-driven changes (refreshes, second contacts,
 * unregistrations, new AORs), the main loop run after each as a server
 * does between datagrams. Prints the time for the changes:
 *   none      no model (the REGISTERs alone)
 *   snapshot  a full snapshot and diff per change (SpTableModel before
 *             coalescing: sp_table_model_refresh on every signal)
 *   coalesced the model as it is (updates coalesced, keyed by AOR)
 * usage: bench-tablemodel [ROWS [CHANGES]] */

#include "config.h"

#include <stdlib.h>

#include "server/location.h"
#include "server/server-models.h"
#include "server/server.h"
#include "tablemodel.h"

static guint serial;

static void
register_contact (SpLocationStore *store, const char *aor, const char *contact)
{
  g_autofree char *call_id = g_strdup_printf ("bench-%u", ++serial);
  SpContactUpdate update = { contact, 3600, -1 };
  SpRegisterRequest request = {
    .aor = aor,
    .call_id = call_id,
    .cseq = 1,
    .expires_header = -1,
    .source = "127.0.0.1:5060",
    .transport = "udp",
    .user_agent = "bench",
    .contacts = &update,
    .n_contacts = 1,
  };
  SpRegisterResult *result =
      sp_location_store_register (store, &request, g_get_real_time () / G_USEC_PER_SEC);

  if (result->status != 200)
    g_error ("REGISTER of %s refused: %u", aor, result->status);
  sp_register_result_free (result);
}

static void
change (SpLocationStore *store, guint i, guint rows)
{
  g_autofree char *aor = g_strdup_printf ("u%05u", (i * 7) % rows);
  g_autofree char *contact = NULL;

  switch (i % 4)
    {
      case 0:
      case 1: /* most REGISTERs are refreshes */
        contact = g_strdup_printf ("sip:%s@127.0.0.2:5060", aor);
        register_contact (store, aor, contact);
        break;
      case 2:
        contact = g_strdup_printf ("sip:%s@127.0.0.3:%u", aor, 5000 + i % 1000);
        register_contact (store, aor, contact);
        break;
      default:
        sp_location_store_remove_aor (store, aor);
        break;
    }
}

static void
count (GListModel *model, guint position, guint removed, guint added, guint *n)
{
  (*n)++;
}

typedef enum
{
  MODE_NONE,
  MODE_SNAPSHOT,
  MODE_COALESCED,
} Mode;

static double
run (Mode mode, guint rows, guint changes, guint *emitted)
{
  g_autoptr (SpServer) server = sp_server_new (NULL, NULL, NULL);
  SpLocationStore *store = sp_server_get_locations (server);
  GListModel *model = NULL;
  gint64 start;

  for (guint i = 0; i < rows; i++)
    {
      g_autofree char *aor = g_strdup_printf ("u%05u", i);
      g_autofree char *contact = g_strdup_printf ("sip:%s@127.0.0.2:5060", aor);

      register_contact (store, aor, contact);
    }
  *emitted = 0;
  if (mode != MODE_NONE)
    {
      model = sp_server_get_registrations_model (server);
      g_signal_connect (model, "items-changed", G_CALLBACK (count), emitted);
    }
  start = g_get_monotonic_time ();
  for (guint i = 0; i < changes; i++)
    {
      change (store, i, rows);
      if (mode == MODE_SNAPSHOT)
        sp_table_model_refresh (SP_TABLE_MODEL (model));
      while (g_main_context_iteration (NULL, FALSE))
        ;
    }
  if (model != NULL)
    sp_table_model_flush (SP_TABLE_MODEL (model));
  return (double) (g_get_monotonic_time () - start) / 1000.0;
}

int
main (int argc, char **argv)
{
  guint rows = argc > 1 ? (guint) atoi (argv[1]) : 500;
  guint changes = argc > 2 ? (guint) atoi (argv[2]) : 2000;
  static const char *const names[] = { "none", "snapshot", "coalesced" };

  g_print ("%u registrations listed, %u REGISTER-driven changes\n", rows, changes);
  for (Mode mode = MODE_NONE; mode <= MODE_COALESCED; mode++)
    {
      guint emitted = 0;
      double ms = run (mode, rows, changes, &emitted);

      g_print ("%-10s %8.1f ms  %6.1f us/change  items-changed %u\n", names[mode], ms,
               ms * 1000.0 / changes, emitted);
    }
  return 0;
}
