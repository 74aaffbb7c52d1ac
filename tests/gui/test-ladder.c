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

/* The window's Log page: the phone's bounded log behind a per-dialog
 * filter. Evictions remove rows at the front while an arrow is selected
 * and drawn, new messages arrive while the selection moves, the filter
 * switches and the log is cleared; the view must follow every step. */
static const char *churn_filter; /* Call-ID shown, or NULL for all */

static gboolean
filter_churn (gpointer item, gpointer user_data)
{
  return churn_filter == NULL || g_strcmp0 (churn_filter, sp_sip_log_entry_get_call_id (item)) == 0;
}

static void
append_churn (SpSipLog *log, guint i)
{
  /* Five dialogs and hosts that come and go, so evictions change the
   * columns too. */
  g_autofree char *call_id = g_strdup_printf ("call-%u@127.0.0.1", i % 5);
  g_autofree char *src = g_strdup_printf ("127.0.0.%u:5060", 1 + i % 3);
  g_autofree char *dst = g_strdup_printf ("127.0.0.%u:5060", 10 + (i / 7) % 4);
  g_autofree char *raw = g_strdup_printf (
      "%s\r\nCall-ID: %s\r\nCSeq: %u INVITE\r\n\r\n",
      i % 2 == 0 ? "INVITE sip:2@127.0.0.10 SIP/2.0" : "SIP/2.0 180 Ringing", call_id, i);
  g_autoptr (SpSipLogEntry) entry = sp_sip_log_entry_new (
      (gint64) i * 1000, SP_SIP_LOG_DIRECTION_SENT, src, dst, raw, strlen (raw));

  sp_sip_log_append (log, entry);
}

/* The columns are the hosts of what the model holds now, in order. */
static void
assert_hosts_match (SpLadderView *ladder, GListModel *model)
{
  g_autoptr (GPtrArray) hosts = g_ptr_array_new ();
  guint n = g_list_model_get_n_items (model);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (SpSipLogEntry) entry = g_list_model_get_item (model, i);
      const char *ends[] = { sp_sip_log_entry_get_src (entry), sp_sip_log_entry_get_dst (entry) };
      for (guint e = 0; e < 2; e++)
        if (!g_ptr_array_find_with_equal_func (hosts, ends[e], g_str_equal, NULL))
          g_ptr_array_add (hosts, (gpointer) ends[e]);
    }
  g_assert_cmpuint (sp_ladder_view_get_n_hosts (ladder), ==, hosts->len);
  for (guint i = 0; i < hosts->len; i++)
    g_assert_cmpstr (sp_ladder_view_get_host (ladder, i), ==, g_ptr_array_index (hosts, i));
}

static void
test_bounded_churn (void)
{
  const guint max = 30;
  g_autoptr (SpSipLog) log = sp_sip_log_new (max);
  GtkCustomFilter *filter = gtk_custom_filter_new (filter_churn, NULL, NULL);
  GtkFilterListModel *filtered =
      gtk_filter_list_model_new (g_object_ref (G_LIST_MODEL (log)), GTK_FILTER (filter));
  GtkWidget *window = gtk_window_new ();
  GtkWidget *view = sp_ladder_view_new ();
  SpLadderView *ladder = SP_LADDER_VIEW (view);
  const char *filters[] = { NULL, "call-1@127.0.0.1", "call-3@127.0.0.1", "call-9@none" };
  guint checked_selections = 0;

  gtk_window_set_default_size (GTK_WINDOW (window), 760, 420);
  gtk_window_set_child (GTK_WINDOW (window), view);
  sp_ladder_view_set_model (ladder, G_LIST_MODEL (filtered));
  gtk_window_present (GTK_WINDOW (window));
  iterate (300);

  for (guint i = 0; i < 400; i++)
    {
      GListModel *model = G_LIST_MODEL (filtered);
      guint n;

      append_churn (log, i);
      n = g_list_model_get_n_items (model);
      if (i % 3 == 0 && n > 0)
        {
          /* The oldest (next to go), the newest or one between. */
          guint pos = (i / 3) % 3 == 0 ? 0 : (i / 3) % 3 == 1 ? n - 1 : n / 2;
          g_autoptr (SpSipLogEntry) entry = g_list_model_get_item (model, pos);

          sp_ladder_view_select (ladder, pos);
          g_assert_cmpstr (sp_ladder_view_get_selected_raw (ladder), ==,
                           sp_sip_log_entry_get_raw (entry));
          checked_selections++;
        }
      if (i % 40 == 39)
        {
          churn_filter = filters[(i / 40) % G_N_ELEMENTS (filters)];
          gtk_filter_changed (GTK_FILTER (filter), GTK_FILTER_CHANGE_DIFFERENT);
        }
      if (i == 250)
        sp_sip_log_clear (log);
      assert_hosts_match (ladder, model);
      /* Let the list bind, lay out and draw the rows in between. */
      for (guint k = 0; k < 4 && g_main_context_pending (NULL); k++)
        g_main_context_iteration (NULL, FALSE);
      if (i % 25 == 0)
        iterate (20);
    }
  iterate (200);

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (log)), ==, max);
  g_assert_cmpuint (checked_selections, >, 100);
  /* The selected entry was evicted or is still in the model at its place. */
  churn_filter = NULL;
  gtk_filter_changed (GTK_FILTER (filter), GTK_FILTER_CHANGE_LESS_STRICT);
  sp_ladder_view_select (ladder, max - 1);
  iterate (100);
  g_assert_true (g_str_has_prefix (sp_ladder_view_get_selected_raw (ladder), "SIP/2.0 180"));
  /* Evicting the selected entry clears the selection and the raw text. */
  sp_ladder_view_select (ladder, 0);
  append_churn (log, 400);
  g_assert_null (sp_ladder_view_get_selected_raw (ladder));
  assert_hosts_match (ladder, G_LIST_MODEL (filtered));
  iterate (100);

  gtk_window_destroy (GTK_WINDOW (window));
  g_object_unref (filtered);
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_test_add_func ("/ladder/seed-flow", test_seed_flow);
  g_test_add_func ("/ladder/bounded-churn", test_bounded_churn);
  return g_test_run ();
}
