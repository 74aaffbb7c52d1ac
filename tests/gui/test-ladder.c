/* The call-flow ladder over the seed's direct call (Yate, 2016): columns
 * in order of first appearance, selection shows the raw message, and a
 * picture of it saved as an artefact (ladder.png in the build dir). */
#include "config.h"

#include <adwaita.h>
#include <string.h>

#include "ladder-view.h"
#include "ua/siplog.h"

#define CALLER "127.0.0.101:5060"
#define CALLEE "127.0.0.183:5060"

static const struct
{
  double time;
  const char *src, *dst;
  const char *first_line;
  gboolean sdp;
} seed_flow[] = {
  { 3.985, CALLER, CALLEE, "INVITE sip:0@127.0.0.183 SIP/2.0", TRUE },
  { 4.004, CALLEE, CALLER, "SIP/2.0 100 Trying", FALSE },
  { 4.035, CALLEE, CALLER, "SIP/2.0 180 Ringing", FALSE },
  { 11.818, CALLEE, CALLER, "SIP/2.0 200 OK", TRUE },
  { 11.826, CALLER, CALLEE, "ACK sip:0@127.0.0.183 SIP/2.0", FALSE },
  { 17.495, CALLEE, CALLER, "BYE sip:anonymous@127.0.0.101 SIP/2.0", FALSE },
  { 17.514, CALLER, CALLEE, "SIP/2.0 100 Trying", FALSE },
  { 17.526, CALLER, CALLEE, "SIP/2.0 200 OK", FALSE },
};

static SpSipLog *
make_seed_log (void)
{
  SpSipLog *log = sp_sip_log_new (100);

  for (gsize i = 0; i < G_N_ELEMENTS (seed_flow); i++)
    {
      g_autofree char *raw = g_strdup_printf (
          "%s\r\nCall-ID: 1726c94e@127.0.0.101\r\nCSeq: 1 INVITE\r\n%s\r\n%s",
          seed_flow[i].first_line, seed_flow[i].sdp ? "Content-Type: application/sdp\r\n" : "",
          seed_flow[i].sdp ? "v=0\r\n" : "");
      g_autoptr (SpSipLogEntry) entry = sp_sip_log_entry_new (
          (gint64) (seed_flow[i].time * G_USEC_PER_SEC), SP_SIP_LOG_DIRECTION_RECEIVED,
          seed_flow[i].src, seed_flow[i].dst, raw, strlen (raw));
      sp_sip_log_append (log, entry);
    }
  return log;
}

static void
iterate (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
}

static void
save_picture (GtkWidget *window, const char *path)
{
  GdkPaintable *paintable = gtk_widget_paintable_new (window);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  GskRenderer *renderer = gtk_native_get_renderer (GTK_NATIVE (window));
  int w = gtk_widget_get_width (window), h = gtk_widget_get_height (window);
  g_autoptr (GskRenderNode) node = NULL;
  g_autoptr (GdkTexture) texture = NULL;

  gdk_paintable_snapshot (paintable, snapshot, w, h);
  node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, w, h));
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_object_unref (paintable);
}

static void
test_seed_flow (void)
{
  g_autoptr (SpSipLog) log = make_seed_log ();
  GtkWidget *window = gtk_window_new ();
  GtkWidget *view = sp_ladder_view_new ();
  SpLadderView *ladder = SP_LADDER_VIEW (view);
  const char *dir = g_getenv ("G_TEST_BUILDDIR");
  g_autofree char *png = g_build_filename (dir != NULL ? dir : ".", "ladder.png", NULL);

  gtk_window_set_default_size (GTK_WINDOW (window), 760, 560);
  gtk_window_set_child (GTK_WINDOW (window), view);
  sp_ladder_view_set_model (ladder, G_LIST_MODEL (log));
  gtk_window_present (GTK_WINDOW (window));
  iterate (800);

  g_assert_cmpuint (sp_ladder_view_get_n_hosts (ladder), ==, 2);
  g_assert_cmpstr (sp_ladder_view_get_host (ladder, 0), ==, CALLER);
  g_assert_cmpstr (sp_ladder_view_get_host (ladder, 1), ==, CALLEE);
  g_assert_null (sp_ladder_view_get_host (ladder, 2));
  g_assert_null (sp_ladder_view_get_selected_raw (ladder));

  sp_ladder_view_select (ladder, 3);
  g_assert_true (g_str_has_prefix (sp_ladder_view_get_selected_raw (ladder), "SIP/2.0 200 OK\r\n"));
  iterate (300);
  save_picture (window, png);
  g_test_message ("ladder picture: %s", png);

  /* A third host appears as a new column at the right. */
  g_autoptr (SpSipLogEntry) extra =
      sp_sip_log_entry_new (18 * G_USEC_PER_SEC, SP_SIP_LOG_DIRECTION_SENT, CALLEE,
                            "127.0.0.50:5060", "REGISTER sip:127.0.0.50 SIP/2.0\r\n\r\n", 34);
  sp_sip_log_append (log, extra);
  g_assert_cmpuint (sp_ladder_view_get_n_hosts (ladder), ==, 3);
  g_assert_cmpstr (sp_ladder_view_get_host (ladder, 2), ==, "127.0.0.50:5060");

  /* Clearing the log empties the view and the raw text. */
  sp_sip_log_clear (log);
  g_assert_cmpuint (sp_ladder_view_get_n_hosts (ladder), ==, 0);
  g_assert_null (sp_ladder_view_get_selected_raw (ladder));
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_test_add_func ("/ladder/seed-flow", test_seed_flow);
  return g_test_run ();
}
