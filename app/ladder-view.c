#define G_LOG_DOMAIN "softphone-app"

#include "config.h"

#include "ladder-view.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <math.h>

#include "ua/siplog.h"

/* Geometry shared by the header and every arrow so the columns line up. */
#define TIME_WIDTH    80
#define MIN_COL_WIDTH 170
#define ROW_HEIGHT    46
#define HEADER_HEIGHT 40
#define ARROW_Y       32
#define ARROW_HEAD    7

struct _SpLadderView
{
  GtkWidget parent_instance;

  GListModel *model; /* owned */
  GtkSingleSelection *selection;
  GPtrArray *hosts;  /* char *, column order */
  gint64 start_time; /* of the first message: times are relative to it */
  guint evicted;     /* messages dropped from the front since the last reset */

  GtkWidget *stack;
  GtkWidget *header;
  GtkListView *list;
  GtkTextBuffer *raw_buffer;
};

G_DEFINE_FINAL_TYPE (SpLadderView, sp_ladder_view, GTK_TYPE_WIDGET)

static double
column_x (SpLadderView *view, int width, guint column)
{
  guint n = MAX (view->hosts->len, 2);
  double col_width = (double) (width - TIME_WIDTH) / n;

  return TIME_WIDTH + (column + 0.5) * col_width;
}

static int
host_column (SpLadderView *view, const char *host)
{
  for (guint i = 0; i < view->hosts->len; i++)
    if (g_strcmp0 (g_ptr_array_index (view->hosts, i), host) == 0)
      return (int) i;
  return -1;
}

static void
set_source_rgba (cairo_t *cr, const GdkRGBA *color, double alpha)
{
  cairo_set_source_rgba (cr, color->red, color->green, color->blue, color->alpha * alpha);
}

static void
get_fg_color (GtkWidget *widget, GdkRGBA *color)
{
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), color);
}

static void
draw_lifelines (SpLadderView *view, GtkWidget *widget, cairo_t *cr, int width, int height)
{
  GdkRGBA fg;

  get_fg_color (widget, &fg);
  set_source_rgba (cr, &fg, 0.25);
  cairo_set_line_width (cr, 1);
  for (guint i = 0; i < view->hosts->len; i++)
    {
      double x = floor (column_x (view, width, i)) + 0.5;
      cairo_move_to (cr, x, 0);
      cairo_line_to (cr, x, height);
    }
  cairo_stroke (cr);
}

/* The header: a column title per host. */

#define SP_TYPE_LADDER_HEADER (sp_ladder_header_get_type ())
G_DECLARE_FINAL_TYPE (SpLadderHeader, sp_ladder_header, SP, LADDER_HEADER, GtkWidget)

struct _SpLadderHeader
{
  GtkWidget parent_instance;
  SpLadderView *view; /* unowned: the view owns the header */
};

G_DEFINE_FINAL_TYPE (SpLadderHeader, sp_ladder_header, GTK_TYPE_WIDGET)

static void
draw_centered_text (GtkWidget *widget, GtkSnapshot *snapshot, const char *text, double x, double y,
                    int max_width, gboolean bold)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (widget, text);
  GdkRGBA fg;
  int w, h;

  if (bold)
    {
      PangoAttrList *attrs = pango_attr_list_new ();
      pango_attr_list_insert (attrs, pango_attr_weight_new (PANGO_WEIGHT_BOLD));
      pango_layout_set_attributes (layout, attrs);
      pango_attr_list_unref (attrs);
    }
  pango_layout_set_width (layout, max_width * PANGO_SCALE);
  pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_MIDDLE);
  pango_layout_get_pixel_size (layout, &w, &h);
  get_fg_color (widget, &fg);
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT ((float) (x - w / 2.0), (float) y));
  gtk_snapshot_append_layout (snapshot, layout, &fg);
  gtk_snapshot_restore (snapshot);
  g_object_unref (layout);
}

static void
sp_ladder_header_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  SpLadderHeader *self = SP_LADDER_HEADER (widget);
  SpLadderView *view = self->view;
  int width = gtk_widget_get_width (widget);
  int col_width = (width - TIME_WIDTH) / (int) MAX (view->hosts->len, 2);

  draw_centered_text (widget, snapshot, _ ("Time"), TIME_WIDTH / 2.0, 12, TIME_WIDTH, TRUE);
  for (guint i = 0; i < view->hosts->len; i++)
    draw_centered_text (widget, snapshot, g_ptr_array_index (view->hosts, i),
                        column_x (view, width, i), 12, col_width - 8, TRUE);
}

static void
sp_ladder_header_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                          int *natural, int *minimum_baseline, int *natural_baseline)
{
  SpLadderHeader *self = SP_LADDER_HEADER (widget);

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    *minimum = *natural = TIME_WIDTH + MIN_COL_WIDTH * (int) MAX (self->view->hosts->len, 2);
  else
    *minimum = *natural = HEADER_HEIGHT;
}

static void
sp_ladder_header_class_init (SpLadderHeaderClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  widget_class->snapshot = sp_ladder_header_snapshot;
  widget_class->measure = sp_ladder_header_measure;
  gtk_widget_class_set_css_name (widget_class, "ladderheader");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_PRESENTATION);
}

static void
sp_ladder_header_init (SpLadderHeader *self)
{
}

/* One arrow: a row of the list. */

#define SP_TYPE_LADDER_ARROW (sp_ladder_arrow_get_type ())
G_DECLARE_FINAL_TYPE (SpLadderArrow, sp_ladder_arrow, SP, LADDER_ARROW, GtkWidget)

struct _SpLadderArrow
{
  GtkWidget parent_instance;
  SpLadderView *view;   /* unowned */
  SpSipLogEntry *entry; /* owned */
  char *description;    /* owned: what the tooltip and screen readers say */
};

G_DEFINE_FINAL_TYPE (SpLadderArrow, sp_ladder_arrow, GTK_TYPE_WIDGET)

/* Requests blue, provisional grey, success green, failure red: the
 * colours Wireshark's users read at a glance. */
static void
arrow_color (SpSipLogEntry *entry, GdkRGBA *color)
{
  guint code = sp_sip_log_entry_get_status_code (entry);
  const char *spec = "#3584e4";

  if (code >= 100 && code < 200)
    spec = "#77767b";
  else if (code >= 200 && code < 300)
    spec = "#26a269";
  else if (code >= 300)
    spec = "#e01b24";
  gdk_rgba_parse (color, spec);
}

static char *
format_time (SpLadderView *view, SpSipLogEntry *entry)
{
  double seconds = (sp_sip_log_entry_get_time (entry) - view->start_time) / (double) G_USEC_PER_SEC;

  return g_strdup_printf ("%.3f", seconds);
}

static void
draw_arrow (SpLadderArrow *self, cairo_t *cr, int width)
{
  SpLadderView *view = self->view;
  int src = host_column (view, sp_sip_log_entry_get_src (self->entry));
  int dst = host_column (view, sp_sip_log_entry_get_dst (self->entry));
  double x1, x2, dir;
  GdkRGBA color;

  if (src < 0 || dst < 0)
    return;
  arrow_color (self->entry, &color);
  cairo_set_source_rgba (cr, color.red, color.green, color.blue, 1);
  cairo_set_line_width (cr, 2);
  x1 = column_x (view, width, (guint) src);
  x2 = column_x (view, width, (guint) dst);
  if (src == dst)
    {
      /* To itself: a small loop to the right. */
      cairo_move_to (cr, x1, ARROW_Y - 8);
      cairo_line_to (cr, x1 + 24, ARROW_Y - 8);
      cairo_line_to (cr, x1 + 24, ARROW_Y);
      cairo_line_to (cr, x1 + ARROW_HEAD, ARROW_Y);
      cairo_stroke (cr);
      x2 = x1;
      dir = -1;
    }
  else
    {
      dir = x2 > x1 ? 1 : -1;
      cairo_move_to (cr, x1, ARROW_Y);
      cairo_line_to (cr, x2 - dir * ARROW_HEAD, ARROW_Y);
      cairo_stroke (cr);
    }
  cairo_move_to (cr, x2, ARROW_Y);
  cairo_line_to (cr, x2 - dir * ARROW_HEAD * 1.6, ARROW_Y - ARROW_HEAD * 0.8);
  cairo_line_to (cr, x2 - dir * ARROW_HEAD * 1.6, ARROW_Y + ARROW_HEAD * 0.8);
  cairo_close_path (cr);
  cairo_fill (cr);
}

static void
sp_ladder_arrow_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  SpLadderArrow *self = SP_LADDER_ARROW (widget);
  SpLadderView *view = self->view;
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  g_autofree char *time = NULL;
  cairo_t *cr;
  int src, dst;
  double label_x;

  if (self->entry == NULL)
    return;
  cr = gtk_snapshot_append_cairo (snapshot,
                                  &GRAPHENE_RECT_INIT (0, 0, (float) width, (float) height));
  draw_lifelines (view, widget, cr, width, height);
  draw_arrow (self, cr, width);
  cairo_destroy (cr);

  time = format_time (view, self->entry);
  draw_centered_text (widget, snapshot, time, TIME_WIDTH / 2.0, ARROW_Y - 9, TIME_WIDTH, FALSE);
  src = host_column (view, sp_sip_log_entry_get_src (self->entry));
  dst = host_column (view, sp_sip_log_entry_get_dst (self->entry));
  if (src < 0 || dst < 0)
    return;
  label_x = (column_x (view, width, (guint) src) + column_x (view, width, (guint) dst)) / 2;
  if (src == dst)
    label_x += 60;
  draw_centered_text (
      widget, snapshot, sp_sip_log_entry_get_summary (self->entry), label_x, 4,
      (int) MAX (fabs (column_x (view, width, (guint) dst) - column_x (view, width, (guint) src)) -
                     8,
                 120),
      sp_sip_log_entry_is_request (self->entry));
}

static void
sp_ladder_arrow_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                         int *natural, int *minimum_baseline, int *natural_baseline)
{
  SpLadderArrow *self = SP_LADDER_ARROW (widget);

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    *minimum = *natural = TIME_WIDTH + MIN_COL_WIDTH * (int) MAX (self->view->hosts->len, 2);
  else
    *minimum = *natural = ROW_HEIGHT;
}

static void
sp_ladder_arrow_dispose (GObject *object)
{
  g_clear_object (&SP_LADDER_ARROW (object)->entry);
  g_clear_pointer (&SP_LADDER_ARROW (object)->description, g_free);
  G_OBJECT_CLASS (sp_ladder_arrow_parent_class)->dispose (object);
}

static void
sp_ladder_arrow_class_init (SpLadderArrowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = sp_ladder_arrow_dispose;
  widget_class->snapshot = sp_ladder_arrow_snapshot;
  widget_class->measure = sp_ladder_arrow_measure;
  gtk_widget_class_set_css_name (widget_class, "ladderarrow");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
sp_ladder_arrow_init (SpLadderArrow *self)
{
}

/* GTK 4.8's signal factory unbinds and binds every row whose position
 * moves, so once the log is full each new message rebinds every bound
 * row. Numbers and times stay put across evictions, so a rebind mostly
 * finds nothing changed and costs nothing: no tooltip rebuilt, no
 * accessibility events sent. */
static void
sp_ladder_arrow_set_entry (SpLadderArrow *self, SpSipLogEntry *entry, guint position)
{
  g_autofree char *time = NULL;
  g_autofree char *description = NULL;

  if (entry == NULL)
    return;
  time = format_time (self->view, entry);
  /* Translators: an arrow of the call flow for screen readers:
   * message number, time in seconds, sender, receiver. */
  description =
      g_strdup_printf (_ ("Message %u at %s s, from %s to %s"), self->view->evicted + position + 1,
                       time, sp_sip_log_entry_get_src (entry), sp_sip_log_entry_get_dst (entry));
  if (entry == self->entry && g_strcmp0 (description, self->description) == 0)
    return;
  g_set_object (&self->entry, entry);
  g_free (self->description);
  self->description = g_steal_pointer (&description);
  /* GTK 4.8 reads the tooltip out as the description: keep them one. */
  gtk_widget_set_tooltip_text (GTK_WIDGET (self), self->description);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  sp_sip_log_entry_get_summary (entry),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, self->description, -1);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* The view. */

/* Adds the hosts of items from..n-1 not yet in a column. */
static void
add_hosts (SpLadderView *self, guint from, guint n)
{
  for (guint i = from; i < n; i++)
    {
      g_autoptr (SpSipLogEntry) entry = g_list_model_get_item (self->model, i);
      const char *ends[] = { sp_sip_log_entry_get_src (entry), sp_sip_log_entry_get_dst (entry) };

      if (i == 0)
        self->start_time = sp_sip_log_entry_get_time (entry);
      for (guint e = 0; e < G_N_ELEMENTS (ends); e++)
        if (host_column (self, ends[e]) < 0)
          g_ptr_array_add (self->hosts, g_strdup (ends[e]));
    }
}

/* keep_numbering: messages only left at the front, so times and numbers
 * keep counting from the first message shown. */
static void
recompute_hosts (SpLadderView *self, gboolean keep_numbering)
{
  guint n = self->model != NULL ? g_list_model_get_n_items (self->model) : 0;
  gint64 start_time = self->start_time;

  g_ptr_array_set_size (self->hosts, 0);
  add_hosts (self, 0, n);
  if (keep_numbering)
    self->start_time = start_time;
  else
    self->evicted = 0;
}

static void
update_raw (SpLadderView *self)
{
  const char *raw = sp_ladder_view_get_selected_raw (self);
  guint selected = gtk_single_selection_get_selected (self->selection);

  gtk_text_buffer_set_text (self->raw_buffer, raw != NULL ? raw : "", -1);
  /* A selection made from elsewhere (a screen reader, a test) comes into view. */
  if (selected != GTK_INVALID_LIST_POSITION && self->list != NULL)
    gtk_widget_activate_action (GTK_WIDGET (self->list), "list.scroll-to-item", "u", selected);
}

static void
on_items_changed (GListModel *model, guint position, guint removed, guint added, SpLadderView *self)
{
  guint n = g_list_model_get_n_items (model);

  /* A new message at the end, the common case, only adds columns; the
   * rest (evictions at the front, a new filter) may drop or reorder them. */
  if (removed == 0 && position + added == n && position > 0)
    add_hosts (self, position, n);
  else if (position == 0 && added == 0 && n > 0)
    {
      self->evicted += removed;
      recompute_hosts (self, TRUE);
    }
  else
    recompute_hosts (self, FALSE);
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), n > 0 ? "ladder" : "empty");
  /* Columns may have moved: every visible arrow redraws. */
  gtk_widget_queue_resize (self->header);
  gtk_widget_queue_resize (GTK_WIDGET (self->list));
  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->list)); row != NULL;
       row = gtk_widget_get_next_sibling (row))
    {
      GtkWidget *arrow = gtk_widget_get_first_child (row);
      if (arrow != NULL)
        gtk_widget_queue_resize (arrow);
    }
}

static void
setup_arrow (GtkSignalListItemFactory *factory, GtkListItem *item, SpLadderView *self)
{
  SpLadderArrow *arrow = g_object_new (SP_TYPE_LADDER_ARROW, NULL);

  arrow->view = self;
  gtk_list_item_set_child (item, GTK_WIDGET (arrow));
}

static void
bind_arrow (GtkSignalListItemFactory *factory, GtkListItem *item, SpLadderView *self)
{
  sp_ladder_arrow_set_entry (SP_LADDER_ARROW (gtk_list_item_get_child (item)),
                             gtk_list_item_get_item (item), gtk_list_item_get_position (item));
}

void
sp_ladder_view_set_model (SpLadderView *self, GListModel *model)
{
  g_return_if_fail (SP_IS_LADDER_VIEW (self));

  if (self->model != NULL)
    g_signal_handlers_disconnect_by_func (self->model, on_items_changed, self);
  g_set_object (&self->model, model);
  if (model != NULL)
    {
      /* Before the selection's handler: the rows the list rebinds then
       * see this change's numbering. */
      g_signal_connect (model, "items-changed", G_CALLBACK (on_items_changed), self);
      on_items_changed (model, 0, 0, g_list_model_get_n_items (model), self);
    }
  else
    {
      g_ptr_array_set_size (self->hosts, 0);
      gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "empty");
    }
  gtk_single_selection_set_model (self->selection, model);
  update_raw (self);
}

guint
sp_ladder_view_get_n_hosts (SpLadderView *self)
{
  g_return_val_if_fail (SP_IS_LADDER_VIEW (self), 0);
  return self->hosts->len;
}

const char *
sp_ladder_view_get_host (SpLadderView *self, guint column)
{
  g_return_val_if_fail (SP_IS_LADDER_VIEW (self), NULL);
  return column < self->hosts->len ? g_ptr_array_index (self->hosts, column) : NULL;
}

const char *
sp_ladder_view_get_selected_raw (SpLadderView *self)
{
  gpointer item;

  g_return_val_if_fail (SP_IS_LADDER_VIEW (self), NULL);
  item = gtk_single_selection_get_selected_item (self->selection);
  return item != NULL ? sp_sip_log_entry_get_raw (item) : NULL;
}

void
sp_ladder_view_select (SpLadderView *self, guint position)
{
  g_return_if_fail (SP_IS_LADDER_VIEW (self));
  gtk_single_selection_set_selected (self->selection, position);
}

static GtkWidget *
build_ladder (SpLadderView *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *scroller = gtk_scrolled_window_new ();
  GtkWidget *header_scroller = gtk_scrolled_window_new ();
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  SpLadderHeader *header = g_object_new (SP_TYPE_LADDER_HEADER, NULL);

  header->view = self;
  self->header = GTK_WIDGET (header);
  g_signal_connect (factory, "setup", G_CALLBACK (setup_arrow), self);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_arrow), self);
  self->list = GTK_LIST_VIEW (
      gtk_list_view_new (GTK_SELECTION_MODEL (g_object_ref (self->selection)), factory));
  gtk_widget_add_css_class (GTK_WIDGET (self->list), "ladder");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->list), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Call flow"), -1);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), GTK_WIDGET (self->list));
  gtk_widget_set_vexpand (scroller, TRUE);

  /* The header stays on top and scrolls sideways with the arrows. */
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (header_scroller), GTK_POLICY_EXTERNAL,
                                  GTK_POLICY_NEVER);
  gtk_scrolled_window_set_hadjustment (
      GTK_SCROLLED_WINDOW (header_scroller),
      gtk_scrolled_window_get_hadjustment (GTK_SCROLLED_WINDOW (scroller)));
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (header_scroller), self->header);

  gtk_box_append (GTK_BOX (box), header_scroller);
  gtk_box_append (GTK_BOX (box), gtk_separator_new (GTK_ORIENTATION_HORIZONTAL));
  gtk_box_append (GTK_BOX (box), scroller);
  return box;
}

static GtkWidget *
build_raw_view (SpLadderView *self)
{
  GtkWidget *scroller = gtk_scrolled_window_new ();
  GtkWidget *text = gtk_text_view_new ();

  gtk_text_view_set_editable (GTK_TEXT_VIEW (text), FALSE);
  gtk_text_view_set_monospace (GTK_TEXT_VIEW (text), TRUE);
  gtk_text_view_set_wrap_mode (GTK_TEXT_VIEW (text), GTK_WRAP_WORD_CHAR);
  gtk_text_view_set_left_margin (GTK_TEXT_VIEW (text), 12);
  gtk_text_view_set_right_margin (GTK_TEXT_VIEW (text), 12);
  gtk_text_view_set_top_margin (GTK_TEXT_VIEW (text), 8);
  gtk_text_view_set_bottom_margin (GTK_TEXT_VIEW (text), 8);
  gtk_accessible_update_property (GTK_ACCESSIBLE (text), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Selected SIP message"), -1);
  self->raw_buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (text));
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), text);
  gtk_widget_set_size_request (scroller, -1, 120);
  return scroller;
}

/* Rows touch so the lifelines run unbroken from top to bottom; the
 * widget carries this itself so it looks right in any window. */
static void
ensure_css (GtkWidget *widget)
{
  GdkDisplay *display = gtk_widget_get_display (widget);
  g_autoptr (GtkCssProvider) provider = NULL;

  if (display == NULL || g_object_get_data (G_OBJECT (display), "sp-ladder-css") != NULL)
    return;
  provider = gtk_css_provider_new ();
  gtk_css_provider_load_from_data (provider,
                                   "listview.ladder > row { padding: 0; margin: 0; "
                                   "min-height: 0; border-radius: 0; }",
                                   -1);
  gtk_style_context_add_provider_for_display (display, GTK_STYLE_PROVIDER (provider),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  g_object_set_data_full (G_OBJECT (display), "sp-ladder-css", g_steal_pointer (&provider),
                          g_object_unref);
}

static void
sp_ladder_view_init (SpLadderView *self)
{
  GtkWidget *paned = gtk_paned_new (GTK_ORIENTATION_VERTICAL);
  GtkWidget *empty = adw_status_page_new ();

  self->hosts = g_ptr_array_new_with_free_func (g_free);
  self->selection = gtk_single_selection_new (NULL);
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  g_signal_connect_swapped (self->selection, "notify::selected-item", G_CALLBACK (update_raw),
                            self);

  adw_status_page_set_icon_name (ADW_STATUS_PAGE (empty), "utilities-terminal-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (empty), _ ("No SIP Messages"));
  adw_status_page_set_description (ADW_STATUS_PAGE (empty),
                                   _ ("Messages the phone and the server send and receive are "
                                      "drawn here as a call flow"));

  self->stack = gtk_stack_new ();
  gtk_stack_add_named (GTK_STACK (self->stack), empty, "empty");
  gtk_paned_set_start_child (GTK_PANED (paned), build_ladder (self));
  gtk_paned_set_end_child (GTK_PANED (paned), build_raw_view (self));
  gtk_paned_set_resize_end_child (GTK_PANED (paned), FALSE);
  gtk_paned_set_shrink_end_child (GTK_PANED (paned), FALSE);
  gtk_paned_set_position (GTK_PANED (paned), 340);
  gtk_stack_add_named (GTK_STACK (self->stack), paned, "ladder");
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "empty");
  gtk_widget_set_parent (self->stack, GTK_WIDGET (self));
  ensure_css (GTK_WIDGET (self));
}

static void
sp_ladder_view_dispose (GObject *object)
{
  SpLadderView *self = SP_LADDER_VIEW (object);

  if (self->model != NULL)
    g_signal_handlers_disconnect_by_func (self->model, on_items_changed, self);
  g_clear_pointer (&self->stack, gtk_widget_unparent);
  g_clear_object (&self->selection);
  g_clear_object (&self->model);
  G_OBJECT_CLASS (sp_ladder_view_parent_class)->dispose (object);
}

static void
sp_ladder_view_finalize (GObject *object)
{
  g_ptr_array_unref (SP_LADDER_VIEW (object)->hosts);
  G_OBJECT_CLASS (sp_ladder_view_parent_class)->finalize (object);
}

static void
sp_ladder_view_class_init (SpLadderViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sp_ladder_view_dispose;
  object_class->finalize = sp_ladder_view_finalize;
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "ladderview");
}

GtkWidget *
sp_ladder_view_new (void)
{
  return g_object_new (SP_TYPE_LADDER_VIEW, NULL);
}
