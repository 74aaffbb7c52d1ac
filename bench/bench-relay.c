/* The server's RTP relay under load: N calls on an SpRelay, driven by an
 * external generator (../shared/bench/rtpload). Writes rtpload's --pairs
 * file, then keeps the relay running for the given seconds and prints the
 * relay's own counters (received, relayed, dropped) as JSON.
 *
 *   bench-relay N PAIRS_FILE SECONDS [LOCAL_PORT_BASE]
 *
 * Each call: rtpload's A socket on 127.0.0.1:BASE+4i talks to the relay's
 * side A, its B socket on BASE+4i+2 to side B. Loopback only. */
#include "server/relay.h"

#include <stdio.h>
#include <stdlib.h>

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpRelay) relay = NULL;
  g_autoptr (GPtrArray) calls = NULL;
  g_autoptr (GString) pairs = g_string_new (NULL);
  guint n, seconds, base;
  SpRelayStats total = { 0 };

  if (argc < 4)
    {
      fprintf (stderr, "usage: %s N PAIRS_FILE SECONDS [LOCAL_PORT_BASE]\n", argv[0]);
      return 2;
    }
  n = (guint) atoi (argv[1]);
  seconds = (guint) atoi (argv[3]);
  base = argc > 4 ? (guint) atoi (argv[4]) : 10000;
  if (n == 0 || n > 5000 || base < 1024 || base + 4 * n > 65000)
    {
      fprintf (stderr, "bad arguments\n");
      return 2;
    }
  relay = sp_relay_new ("127.0.0.1", 40000, 60000, &error);
  if (relay == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  calls = g_ptr_array_new ();
  for (guint i = 0; i < n; i++)
    {
      SpRelayCall *call = sp_relay_call_new (relay, &error);
      SpRelayRemote remote = { .host = "127.0.0.1", .signalling_host = "127.0.0.1" };
      guint a_local = base + 4 * i, b_local = base + 4 * i + 2;

      if (call == NULL)
        {
          fprintf (stderr, "%s\n", error->message);
          return 1;
        }
      /* rtpload sends PCMU (PT 0) from the SDP addresses: latched at once. */
      remote.payload_types[0] = 1;
      remote.rtp_port = (guint16) a_local;
      sp_relay_call_set_remote (call, SP_RELAY_SIDE_A, &remote);
      remote.rtp_port = (guint16) b_local;
      sp_relay_call_set_remote (call, SP_RELAY_SIDE_B, &remote);
      g_string_append_printf (pairs, "%u 127.0.0.1:%u %u 127.0.0.1:%u\n", a_local,
                              sp_relay_call_get_port (call, SP_RELAY_SIDE_A), b_local,
                              sp_relay_call_get_port (call, SP_RELAY_SIDE_B));
      g_ptr_array_add (calls, call);
    }
  if (!g_file_set_contents (argv[2], pairs->str, (gssize) pairs->len, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  fprintf (stderr, "%u calls ready, pairs in %s\n", n, argv[2]);
  g_usleep ((gulong) seconds * G_USEC_PER_SEC);
  for (guint i = 0; i < calls->len; i++)
    for (int side = 0; side < 2; side++)
      {
        SpRelayStats s;
        sp_relay_call_get_stats (g_ptr_array_index (calls, i), side, &s);
        total.received += s.received;
        total.relayed += s.relayed;
        total.dropped += s.dropped;
        total.rejected += s.rejected;
      }
  printf ("{\"calls\": %u, \"received\": %" G_GUINT64_FORMAT ", \"relayed\": %" G_GUINT64_FORMAT
          ", \"dropped\": %" G_GUINT64_FORMAT ", \"rejected\": %" G_GUINT64_FORMAT "}\n",
          n, total.received, total.relayed, total.dropped, total.rejected);
  for (guint i = 0; i < calls->len; i++)
    sp_relay_call_free (g_ptr_array_index (calls, i));
  return 0;
}
