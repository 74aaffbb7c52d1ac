#define G_LOG_DOMAIN "softphone-app"

#include "config.h"

#include "call-row.h"

#include "a11y.h"

#include <adwaita.h>
#include <glib/gi18n.h>

struct _SpCallRow
{
  GtkWidget parent_instance;

  SpCall *call; /* owned */
  gulong notify_id;
  guint tick_id;     /* refreshes the duration once a second */
  guint meter_id;    /* reads the microphone's level, only while in a shown call */
  gboolean updating; /* the toggles follow the call: not a click */

  GtkWidget *box;
  AdwAvatar *avatar;
  GtkLabel *peer;
  char *peer_text;
  GtkLabel *state;
  GtkLabel *duration;
  GtkLabel *protection; /* "TLS · SRTP" */
  GtkLevelBar *meter;
  GtkWidget *answer;
  GtkWidget *hold;
  GtkWidget *mute;
  GtkWidget *dtmf;
  GtkWidget *dtmf_keys[12];
  GtkWidget *transfer;
  GtkEntry *transfer_entry;
  GtkWidget *hangup;
  /* DTLS-SRTP (issue 16): "End to end · quiver antenna beeswax
   * repellent" and the button that says the words matched. */
  GtkLabel *sas;
  GtkWidget *sas_match;
};

G_DEFINE_FINAL_TYPE (SpCallRow, sp_call_row, GTK_TYPE_WIDGET)

static char *
format_duration (guint seconds)
{
  if (seconds >= 3600)
    return g_strdup_printf ("%u:%02u:%02u", seconds / 3600, seconds / 60 % 60, seconds % 60);
  return g_strdup_printf ("%u:%02u", seconds / 60, seconds % 60);
}

const char *
sp_call_row_describe_state (SpCallState state)
{
  switch (state)
    {
      case SP_CALL_STATE_DIALING:
        return _ ("Calling…");
      case SP_CALL_STATE_RINGING:
        return _ ("Ringing");
      case SP_CALL_STATE_INCOMING:
        return _ ("Incoming call");
      case SP_CALL_STATE_ESTABLISHED:
        return _ ("In call");
      case SP_CALL_STATE_HELD:
        return _ ("On hold");
      case SP_CALL_STATE_ENDED:
      default:
        return _ ("Call ended");
    }
}

static void
update_duration (SpCallRow *self)
{
  SpCallState state = sp_call_get_state (self->call);
  g_autofree char *text = format_duration (sp_call_get_duration (self->call));

  gtk_widget_set_visible (GTK_WIDGET (self->duration), state == SP_CALL_STATE_ESTABLISHED ||
                                                           state == SP_CALL_STATE_HELD ||
                                                           (state == SP_CALL_STATE_ENDED &&
                                                            sp_call_get_duration (self->call) > 0));
  gtk_label_set_label (self->duration, text);
}

static gboolean
on_tick (gpointer user_data)
{
  SpCallRow *self = user_data;

  if (self->call != NULL)
    update_duration (self);
  return G_SOURCE_CONTINUE;
}

/* The microphone level meter: a peak meter over the 60 dB a voice uses,
 * read as often as the media session publishes it (15 times a second),
 * rising at once and falling 1.5 dB a frame (22 dB/s) like a PPM. */
#define METER_INTERVAL_MS (1000 / 15)
#define METER_FLOOR_DB    -60.0
#define METER_FALL_DB     1.5

static gboolean
on_meter_tick (gpointer user_data)
{
  SpCallRow *self = user_data;
  double db = sp_call_get_input_level (self->call);
  double shown = METER_FLOOR_DB * (1.0 - gtk_level_bar_get_value (self->meter));

  db = MAX (db, shown - METER_FALL_DB);
  gtk_level_bar_set_value (self->meter, CLAMP (1.0 - db / METER_FLOOR_DB, 0.0, 1.0));
  return G_SOURCE_CONTINUE;
}

/* The meter is polled only while it can be seen: an established call in
 * a row on screen. Nothing runs for a ringing, held or ended call. */
static void
update_meter (SpCallRow *self)
{
  gboolean want;

  if (self->box == NULL)
    return; /* disposed */
  want = self->call != NULL && sp_call_get_state (self->call) == SP_CALL_STATE_ESTABLISHED &&
         gtk_widget_get_mapped (GTK_WIDGET (self));

  gtk_widget_set_visible (GTK_WIDGET (self->meter),
                          self->call != NULL &&
                              sp_call_get_state (self->call) == SP_CALL_STATE_ESTABLISHED);
  if (want && self->meter_id == 0)
    self->meter_id = g_timeout_add (METER_INTERVAL_MS, on_meter_tick, self);
  else if (!want)
    {
      g_clear_handle_id (&self->meter_id, g_source_remove);
      gtk_level_bar_set_value (self->meter, 0.0);
    }
}

/* What people call the other end: the display name, else the address
 * without its "sip:" (the number for sip:2@pbx, the IP for a direct call). */
static char *
display_peer (const char *name, const char *peer)
{
  if (name != NULL && name[0] != '\0')
    return g_strdup (name);
  if (peer == NULL)
    return g_strdup (_ ("Unknown caller"));
  if (g_str_has_prefix (peer, "sip:"))
    return g_strdup (peer + 4);
  if (g_str_has_prefix (peer, "sips:"))
    return g_strdup (peer + 5);
  return g_strdup (peer);
}

static void update_protection (SpCallRow *self, SpCall *call, gboolean live);

/* The words of a DTLS-SRTP call, for the two people to read aloud: the
 * same words on both phones mean nobody in between holds the keys. */
static void
update_sas (SpCallRow *self, gboolean live)
{
  const char *words = sp_call_get_sas (self->call);
  SpCallProtection protection = sp_call_get_protection (self->call);
  gboolean verified = (protection & SP_CALL_PROTECTION_VERIFIED) != 0;
  g_autofree char *text = NULL;

  gtk_widget_set_visible (GTK_WIDGET (self->sas), live && words != NULL);
  gtk_widget_set_visible (self->sas_match, live && words != NULL && !verified);
  if (words == NULL)
    return;
  /* Translators: "End to end, verified: quiver antenna beeswax repellent"
   * (DTLS-SRTP's short authentication string, read aloud by both people). */
  text = g_strdup_printf (verified ? _ ("End to end, verified: %s") : _ ("End to end: %s"), words);
  gtk_label_set_label (self->sas, text);
  gtk_widget_set_tooltip_text (
      GTK_WIDGET (self->sas),
      _ ("Encrypted with DTLS-SRTP. Read these words to the other person: if they see the same "
         "words, nobody in between can listen."));
}

static void
update (SpCallRow *self)
{
  SpCall *call = self->call;
  SpCallState state;
  const char *peer, *name, *end_reason;
  g_autofree char *a11y = NULL;
  g_autofree char *state_text = NULL;
  gboolean incoming, live;

  if (call == NULL)
    return;
  state = sp_call_get_state (call);
  peer = sp_call_get_peer (call);
  name = sp_call_get_peer_display_name (call);
  end_reason = sp_call_get_end_reason_text (call);
  incoming = state == SP_CALL_STATE_INCOMING;
  live = state == SP_CALL_STATE_ESTABLISHED || state == SP_CALL_STATE_HELD;

  g_clear_pointer (&self->peer_text, g_free);
  self->peer_text = display_peer (name, peer);
  gtk_label_set_label (self->peer, self->peer_text);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->peer), peer);
  /* Initials only for a name; a number or address gets the person icon. */
  adw_avatar_set_show_initials (self->avatar, name != NULL && name[0] != '\0');
  adw_avatar_set_text (self->avatar, self->peer_text);
  if (state == SP_CALL_STATE_ENDED && end_reason != NULL && end_reason[0] != '\0')
    /* Translators: "Call ended: Busy Here". The reason comes translated
     * from the core (sp_call_get_end_reason_text). */
    state_text = g_strdup_printf (_ ("Call ended: %s"), end_reason);
  else
    state_text = g_strdup (sp_call_row_describe_state (state));
  gtk_label_set_label (self->state, state_text);
  update_duration (self);
  update_meter (self);
  update_protection (self, call, live);

  gtk_widget_set_visible (self->answer, incoming);
  gtk_widget_set_visible (self->hold, live);
  gtk_widget_set_visible (self->mute, live);
  gtk_widget_set_visible (self->dtmf, live);
  gtk_widget_set_visible (self->transfer, live);
  gtk_widget_set_sensitive (self->hangup, state != SP_CALL_STATE_ENDED);
  /* The toggles show the call (a click asks through the action). */
  self->updating = TRUE;
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->hold), state == SP_CALL_STATE_HELD);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->mute), sp_call_get_muted (call));
  self->updating = FALSE;
  update_sas (self, live);
  gtk_button_set_label (GTK_BUTTON (self->hangup), incoming ? _ ("Decline") : _ ("Hangup"));
  if (incoming)
    gtk_widget_add_css_class (GTK_WIDGET (self), "ringing");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "ringing");

  /* Translators: a call in the list, for screen readers: "sip:2@pbx, In call". */
  a11y = g_strdup_printf (_ ("%s, %s"), gtk_label_get_label (self->peer), state_text);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, a11y, -1);
}

char *
sp_call_row_describe_protection (SpCallProtection protection, gboolean live)
{
  GPtrArray *parts = g_ptr_array_new ();
  char *text;

  if (protection & SP_CALL_PROTECTION_TLS)
    g_ptr_array_add (parts, (gpointer) "TLS");
  if (protection & SP_CALL_PROTECTION_DTLS_SRTP)
    g_ptr_array_add (parts, (gpointer) "DTLS-SRTP");
  else if (protection & SP_CALL_PROTECTION_SRTP_SDES)
    g_ptr_array_add (parts, (gpointer) "SRTP");
  else if (live)
    /* Translators: in a call row, after "TLS ·" when only the signalling is. */
    g_ptr_array_add (parts, (gpointer) _ ("Audio not encrypted"));
  if (protection & SP_CALL_PROTECTION_END_TO_END)
    g_ptr_array_add (parts, (gpointer) _ ("End to end"));
  if (protection & SP_CALL_PROTECTION_VERIFIED)
    g_ptr_array_add (parts, (gpointer) _ ("Verified"));
  g_ptr_array_add (parts, NULL);
  text = parts->len > 1 ? g_strjoinv (" · ", (char **) parts->pdata) : NULL;
  g_ptr_array_free (parts, TRUE);
  return text;
}

static void
update_protection (SpCallRow *self, SpCall *call, gboolean live)
{
  g_autofree char *text = sp_call_row_describe_protection (sp_call_get_protection (call), live);

  gtk_label_set_label (self->protection, text != NULL ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->protection), text != NULL);
}

/* The buttons are the window's actions (app/call-actions.h) with the
 * call's id: the same door as shortcuts and scripts. Named only with
 * their targets, so an unbound row has no half-made action. */
static void
bind_actions (SpCallRow *self, SpCall *call)
{
  const char *id = call != NULL ? sp_call_get_id (call) : NULL;
  struct
  {
    GtkWidget *button;
    const char *action;
    GVariant *target;
  } bound[G_N_ELEMENTS (self->dtmf_keys) + 3] = {
    { self->answer, "win.call-answer", id ? g_variant_new_string (id) : NULL },
    { self->hangup, "win.call-hangup", id ? g_variant_new_string (id) : NULL },
    { self->sas_match, "win.call-sas-match", id ? g_variant_new_string (id) : NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (self->dtmf_keys); i++)
    {
      const char *key = gtk_button_get_label (GTK_BUTTON (self->dtmf_keys[i]));

      bound[3 + i].button = self->dtmf_keys[i];
      bound[3 + i].action = "win.call-dtmf";
      bound[3 + i].target = id ? g_variant_new ("(ss)", id, key) : NULL;
    }
  for (guint i = 0; i < G_N_ELEMENTS (bound); i++)
    {
      GtkActionable *button = GTK_ACTIONABLE (bound[i].button);

      if (bound[i].target == NULL)
        {
          gtk_actionable_set_action_name (button, NULL);
          continue;
        }
      gtk_actionable_set_action_target_value (button, bound[i].target);
      gtk_actionable_set_action_name (button, bound[i].action);
    }
}

void
sp_call_row_set_call (SpCallRow *self, SpCall *call)
{
  g_return_if_fail (SP_IS_CALL_ROW (self));

  if (self->call != NULL)
    g_clear_signal_handler (&self->notify_id, self->call);
  g_clear_handle_id (&self->tick_id, g_source_remove);
  g_set_object (&self->call, call);
  if (self->box != NULL)
    bind_actions (self, call);
  if (call != NULL)
    {
      self->notify_id = g_signal_connect_swapped (call, "notify", G_CALLBACK (update), self);
      self->tick_id = g_timeout_add_seconds (1, on_tick, self);
      update (self);
    }
  else
    update_meter (self);
}

SpCall *
sp_call_row_get_call (SpCallRow *self)
{
  g_return_val_if_fail (SP_IS_CALL_ROW (self), NULL);
  return self->call;
}

static void
on_transfer (SpCallRow *self)
{
  const char *target = gtk_editable_get_text (GTK_EDITABLE (self->transfer_entry));

  if (self->call == NULL || target[0] == '\0')
    return;
  gtk_menu_button_popdown (GTK_MENU_BUTTON (self->transfer));
  gtk_widget_activate_action (GTK_WIDGET (self), "win.call-transfer", "(ss)",
                              sp_call_get_id (self->call), target);
}

/* Hold and Mute are toggles that show the call's state ("pressed" for a
 * screen reader). Bound to an action without state, GTK's action helper
 * would take the toggling over and show nothing, so a click asks for the
 * other state through the action instead. Mute is at once, so
 * the button shows the call again now; hold waits for the peer's answer,
 * and the call's "notify" sets the button then (a refusal is a toast). */
static void
on_toggled (GtkToggleButton *button, SpCallRow *self)
{
  const char *action = GTK_WIDGET (button) == self->hold ? "win.call-hold" : "win.call-mute";

  if (self->call == NULL || self->updating)
    return;
  gtk_widget_activate_action (GTK_WIDGET (self), action, "(sb)", sp_call_get_id (self->call),
                              gtk_toggle_button_get_active (button));
  if (GTK_WIDGET (button) == self->mute)
    update (self);
}

static GtkWidget *
make_button (const char *icon, const char *label, const char *tooltip, gboolean toggle)
{
  GtkWidget *button = toggle ? gtk_toggle_button_new () : gtk_button_new ();

  if (label != NULL)
    {
      GtkWidget *content = adw_button_content_new ();
      adw_button_content_set_icon_name (ADW_BUTTON_CONTENT (content), icon);
      adw_button_content_set_label (ADW_BUTTON_CONTENT (content), label);
      adw_button_content_set_use_underline (ADW_BUTTON_CONTENT (content), TRUE);
      gtk_button_set_child (GTK_BUTTON (button), content);
    }
  else
    gtk_button_set_icon_name (GTK_BUTTON (button), icon);
  sp_a11y_set_name (button, tooltip);
  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  return button;
}

static GtkWidget *
make_dtmf_popover (SpCallRow *self)
{
  static const char *const keys[G_N_ELEMENTS (self->dtmf_keys)] = { "1", "2", "3", "4", "5", "6",
                                                                    "7", "8", "9", "*", "0", "#" };
  GtkWidget *grid = gtk_grid_new ();
  GtkWidget *popover = gtk_popover_new ();

  gtk_grid_set_row_spacing (GTK_GRID (grid), 6);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 6);
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      GtkWidget *key = gtk_button_new_with_label (keys[i]);
      g_autofree char *a11y = g_strdup_printf (_ ("Send tone %s"), keys[i]);

      gtk_widget_set_size_request (key, 48, 40);
      sp_a11y_set_name (key, a11y);
      self->dtmf_keys[i] = key;
      gtk_grid_attach (GTK_GRID (grid), key, (int) (i % 3), (int) (i / 3), 1, 1);
    }
  gtk_popover_set_child (GTK_POPOVER (popover), grid);
  return popover;
}

static GtkWidget *
make_transfer_popover (SpCallRow *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *button = gtk_button_new_with_mnemonic (_ ("_Transfer"));
  GtkWidget *popover = gtk_popover_new ();

  self->transfer_entry = GTK_ENTRY (gtk_entry_new ());
  gtk_entry_set_placeholder_text (self->transfer_entry, _ ("Number or address"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->transfer_entry),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Transfer the call to"), -1);
  gtk_widget_add_css_class (button, "suggested-action");
  sp_a11y_set_name (button, _ ("Transfer"));
  g_signal_connect_swapped (self->transfer_entry, "activate", G_CALLBACK (on_transfer), self);
  g_signal_connect_swapped (button, "clicked", G_CALLBACK (on_transfer), self);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->transfer_entry));
  gtk_box_append (GTK_BOX (box), button);
  gtk_popover_set_child (GTK_POPOVER (popover), box);
  gtk_popover_set_default_widget (GTK_POPOVER (popover), button);
  return popover;
}

static GtkWidget *
make_menu_button (const char *icon, const char *tooltip, GtkWidget *popover)
{
  GtkWidget *button = gtk_menu_button_new ();

  gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (button), icon);
  gtk_menu_button_set_popover (GTK_MENU_BUTTON (button), popover);
  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "circular");
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, tooltip,
                                  -1);
  return button;
}

static void
sp_call_row_init (SpCallRow *self)
{
  GtkWidget *text = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);

  self->box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));
  gtk_widget_add_css_class (GTK_WIDGET (self), "card");
  gtk_widget_add_css_class (GTK_WIDGET (self), "call-row");

  self->avatar = ADW_AVATAR (adw_avatar_new (40, NULL, TRUE));
  self->peer = GTK_LABEL (gtk_label_new (NULL));
  self->state = GTK_LABEL (gtk_label_new (NULL));
  self->duration = GTK_LABEL (gtk_label_new (NULL));
  self->protection = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (self->protection, 0);
  gtk_widget_add_css_class (GTK_WIDGET (self->protection), "caption");
  gtk_widget_add_css_class (GTK_WIDGET (self->protection), "dim-label");
  gtk_widget_set_visible (GTK_WIDGET (self->protection), FALSE);
  gtk_label_set_xalign (self->peer, 0);
  gtk_label_set_xalign (self->state, 0);
  gtk_label_set_ellipsize (self->peer, PANGO_ELLIPSIZE_MIDDLE);
  gtk_label_set_selectable (self->peer, FALSE);
  gtk_widget_add_css_class (GTK_WIDGET (self->peer), "heading");
  gtk_widget_add_css_class (GTK_WIDGET (self->state), "dim-label");
  gtk_widget_add_css_class (GTK_WIDGET (self->duration), "numeric");
  self->meter = GTK_LEVEL_BAR (gtk_level_bar_new ());
  /* One colour: the default offsets would paint a quiet voice as a
   * warning. */
  gtk_level_bar_remove_offset_value (self->meter, GTK_LEVEL_BAR_OFFSET_LOW);
  gtk_level_bar_remove_offset_value (self->meter, GTK_LEVEL_BAR_OFFSET_HIGH);
  gtk_level_bar_remove_offset_value (self->meter, GTK_LEVEL_BAR_OFFSET_FULL);
  gtk_widget_set_size_request (GTK_WIDGET (self->meter), 96, -1);
  gtk_widget_set_halign (GTK_WIDGET (self->meter), GTK_ALIGN_START);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->meter), _ ("Microphone level"));
  sp_a11y_set_name (GTK_WIDGET (self->meter), _ ("Microphone level"));
  gtk_widget_set_visible (GTK_WIDGET (self->meter), FALSE);
  gtk_box_append (GTK_BOX (text), GTK_WIDGET (self->peer));
  gtk_box_append (GTK_BOX (text), GTK_WIDGET (self->state));
  gtk_box_append (GTK_BOX (text), GTK_WIDGET (self->protection));
  gtk_box_append (GTK_BOX (text), GTK_WIDGET (self->meter));
  {
    /* The words on a line of their own, the width of the column, with the
     * button under them: beside the button the wrapping label got its
     * minimum width and showed one word per line, hard to read aloud. */
    GtkWidget *sas_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
    self->sas = GTK_LABEL (gtk_label_new (NULL));
    gtk_label_set_xalign (self->sas, 0);
    gtk_label_set_wrap (self->sas, TRUE);
    gtk_widget_add_css_class (GTK_WIDGET (self->sas), "caption");
    gtk_widget_set_visible (GTK_WIDGET (self->sas), FALSE);
    self->sas_match = gtk_button_new_with_mnemonic (_ ("_Words Match"));
    gtk_widget_add_css_class (self->sas_match, "flat");
    gtk_widget_set_halign (self->sas_match, GTK_ALIGN_START);
    gtk_widget_set_tooltip_text (
        self->sas_match, _ ("The other person sees the same words: mark the call verified"));
    gtk_widget_set_visible (self->sas_match, FALSE);
    /* GTK 4.8 would announce "_Words Match Words Match" (a11y.h). */
    sp_a11y_set_name (self->sas_match, _ ("Words Match"));
    gtk_box_append (GTK_BOX (sas_box), GTK_WIDGET (self->sas));
    gtk_box_append (GTK_BOX (sas_box), self->sas_match);
    gtk_box_append (GTK_BOX (text), sas_box);
  }
  gtk_widget_set_hexpand (text, TRUE);
  gtk_widget_set_valign (text, GTK_ALIGN_CENTER);

  self->answer =
      make_button ("call-start-symbolic", _ ("_Take the call"), _ ("Take the call"), FALSE);
  gtk_widget_add_css_class (self->answer, "suggested-action");
  self->hold = make_button ("media-playback-pause-symbolic", NULL, _ ("Hold"), TRUE);
  self->mute = make_button ("microphone-disabled-symbolic", NULL, _ ("Mute"), TRUE);
  gtk_widget_add_css_class (self->hold, "circular");
  gtk_widget_add_css_class (self->mute, "circular");
  self->dtmf =
      make_menu_button ("input-dialpad-symbolic", _ ("Send tones"), make_dtmf_popover (self));
  self->transfer =
      make_menu_button ("call-outgoing-symbolic", _ ("Transfer"), make_transfer_popover (self));
  self->hangup = gtk_button_new_with_label (_ ("Hangup"));
  gtk_widget_set_valign (self->hangup, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (self->hangup, "destructive-action");

  g_signal_connect (self->hold, "toggled", G_CALLBACK (on_toggled), self);
  g_signal_connect (self->mute, "toggled", G_CALLBACK (on_toggled), self);

  gtk_box_append (GTK_BOX (buttons), self->hold);
  gtk_box_append (GTK_BOX (buttons), self->mute);
  gtk_box_append (GTK_BOX (buttons), self->dtmf);
  gtk_box_append (GTK_BOX (buttons), self->transfer);
  gtk_box_append (GTK_BOX (buttons), self->answer);
  gtk_box_append (GTK_BOX (buttons), self->hangup);

  gtk_box_append (GTK_BOX (self->box), GTK_WIDGET (self->avatar));
  gtk_box_append (GTK_BOX (self->box), text);
  gtk_box_append (GTK_BOX (self->box), GTK_WIDGET (self->duration));
  gtk_box_append (GTK_BOX (self->box), buttons);
}

static void
sp_call_row_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (sp_call_row_parent_class)->map (widget);
  update_meter (SP_CALL_ROW (widget));
}

static void
sp_call_row_unmap (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (sp_call_row_parent_class)->unmap (widget);
  update_meter (SP_CALL_ROW (widget));
}

static void
sp_call_row_dispose (GObject *object)
{
  SpCallRow *self = SP_CALL_ROW (object);

  sp_call_row_set_call (self, NULL);
  g_clear_pointer (&self->box, gtk_widget_unparent);
  g_clear_pointer (&self->peer_text, g_free);
  G_OBJECT_CLASS (sp_call_row_parent_class)->dispose (object);
}

static void
sp_call_row_class_init (SpCallRowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = sp_call_row_dispose;
  widget_class->map = sp_call_row_map;
  widget_class->unmap = sp_call_row_unmap;
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "callrow");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

SpCallRow *
sp_call_row_new (void)
{
  return g_object_new (SP_TYPE_CALL_ROW, NULL);
}
