#define G_LOG_DOMAIN "softphone-app"

#include "config.h"

#include "preferences-window.h"

#include <glib/gi18n.h>

#include "a11y.h"
#include "audio/alsa.h"
#include "audio/mic-test.h"
#include "device-list.h"
#include "ua/ringer.h"

/* A device row: ALSA's devices that can do @capture (or playback), with
 * the saved name kept even when that device is not plugged in now, so
 * opening the preferences never changes a setting by itself. The list is
 * read when the window opens and again whenever /dev/snd changes while it
 * is open (a USB headset plugged in or out: ALSA has no hotplug signal of
 * its own, and udev is not among our dependencies). */
typedef struct
{
  GSettings *settings; /* owned */
  char *key;
  gboolean capture;
  GPtrArray *names;   /* char *, parallel to the row's model */
  gboolean refilling; /* the model is being replaced: not a choice */
} DeviceRow;

static void
device_row_free (gpointer data)
{
  DeviceRow *d = data;

  g_object_unref (d->settings);
  g_free (d->key);
  g_ptr_array_unref (d->names);
  g_free (d);
}

static void
on_device_selected (AdwComboRow *row, GParamSpec *pspec, DeviceRow *d)
{
  guint selected = adw_combo_row_get_selected (row);

  if (!d->refilling && selected < d->names->len)
    g_settings_set_string (d->settings, d->key, g_ptr_array_index (d->names, selected));
}

/* (Re)fills @row from @devices, the saved device selected. */
static void
device_row_fill (AdwComboRow *row, DeviceRow *d, GPtrArray *devices)
{
  GtkStringList *labels = gtk_string_list_new (NULL);
  g_autofree char *current = g_settings_get_string (d->settings, d->key);
  guint selected = GTK_INVALID_LIST_POSITION;

  g_ptr_array_set_size (d->names, 0);
  for (guint i = 0; devices != NULL && i < devices->len; i++)
    {
      const SpAudioAlsaDeviceInfo *info = g_ptr_array_index (devices, i);
      if (d->capture ? !info->can_capture : !info->can_playback)
        continue;
      if (g_strcmp0 (info->name, current) == 0)
        selected = d->names->len;
      g_ptr_array_add (d->names, g_strdup (info->name));
      gtk_string_list_append (labels, info->description != NULL && info->description[0] != '\0'
                                          ? info->description
                                          : info->name);
    }
  if (selected == GTK_INVALID_LIST_POSITION)
    {
      selected = d->names->len;
      g_ptr_array_add (d->names, g_strdup (current));
      gtk_string_list_append (labels, current);
    }
  d->refilling = TRUE;
  adw_combo_row_set_model (row, G_LIST_MODEL (labels));
  adw_combo_row_set_selected (row, selected);
  d->refilling = FALSE;
  g_object_unref (labels);
}

static GtkWidget *
device_row_new (GSettings *settings, const char *key, const char *title, GPtrArray *devices,
                gboolean capture)
{
  GtkWidget *row = adw_combo_row_new ();
  DeviceRow *d = g_new0 (DeviceRow, 1);

  d->settings = g_object_ref (settings);
  d->key = g_strdup (key);
  d->capture = capture;
  d->names = g_ptr_array_new_with_free_func (g_free);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_preferences_row_set_use_underline (ADW_PREFERENCES_ROW (row), TRUE);
  device_row_fill (ADW_COMBO_ROW (row), d, devices);
  g_object_set_data (G_OBJECT (row), "sp-device-row", d);
  g_signal_connect_data (row, "notify::selected", G_CALLBACK (on_device_selected), d,
                         (GClosureNotify) (void (*) (void)) device_row_free, 0);
  return row;
}

/* Walks @widget's tree (a preferences group nests its rows in a list box)
 * and refills every device row in it. */
static void
refill_device_rows (GtkWidget *widget, GPtrArray *devices)
{
  DeviceRow *d = g_object_get_data (G_OBJECT (widget), "sp-device-row");

  if (d != NULL)
    {
      device_row_fill (ADW_COMBO_ROW (widget), d, devices);
      return;
    }
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    refill_device_rows (child, devices);
}

static void
cancel_and_unref (gpointer cancellable)
{
  g_cancellable_cancel (cancellable);
  g_object_unref (cancellable);
}

/* The list, from the worker thread: every device row is filled again
 * (each keeps its saved device); a failure is said in the group. */
static void
on_devices_listed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GtkWidget *audio_group = user_data; /* a reference */
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) devices = sp_device_list_finish (result, &error);

  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (audio_group),
                                             devices == NULL ? error->message : NULL);
      if (devices != NULL)
        refill_device_rows (audio_group, devices);
    }
  g_object_unref (audio_group);
}

/* Reads ALSA's list on a worker thread (device-list.c): the window opens
 * at once with the saved devices, and the lists fill in when read. A
 * newer listing replaces one still running; closing the window cancels
 * it. */
static void
list_sound_devices (GtkWidget *window, GtkWidget *audio_group)
{
  GCancellable *cancellable = g_cancellable_new ();

  g_object_set_data_full (G_OBJECT (window), "sp-device-listing", g_object_ref (cancellable),
                          cancel_and_unref);
  sp_device_list_async (NULL, cancellable, on_devices_listed, g_object_ref (audio_group));
  g_object_unref (cancellable);
}

/* Sound devices came or went: the lists are read again. */
static void
on_sound_devices_changed (GFileMonitor *monitor, GFile *file, GFile *other, GFileMonitorEvent event,
                          GtkWidget *audio_group)
{
  GtkRoot *window = gtk_widget_get_root (audio_group);

  if (event != G_FILE_MONITOR_EVENT_CREATED && event != G_FILE_MONITOR_EVENT_DELETED)
    return;
  if (window != NULL)
    list_sound_devices (GTK_WIDGET (window), audio_group);
}

static GtkWidget *
switch_row_new (GSettings *settings, const char *key, const char *title, const char *subtitle)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *sw = gtk_switch_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_preferences_row_set_use_underline (ADW_PREFERENCES_ROW (row), TRUE);
  if (subtitle != NULL)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_widget_set_valign (sw, GTK_ALIGN_CENTER);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (sw), GTK_ACCESSIBLE_RELATION_LABELLED_BY, row,
                                  NULL, -1);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), sw);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), sw);
  g_settings_bind (settings, key, sw, "active", G_SETTINGS_BIND_DEFAULT);
  return row;
}

static GtkWidget *
entry_row_new (GSettings *settings, const char *key, const char *title)
{
  GtkWidget *row = adw_entry_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  sp_a11y_set_name (row, title);
  g_settings_bind (settings, key, row, "text", G_SETTINGS_BIND_DEFAULT);
  return row;
}

/* The "media-encryption" setting's values, in the combo row's order. */
static const char *const encryption_values[] = { "preferred", "required", "off" };

static gboolean
encryption_get_mapping (GValue *value, GVariant *variant, gpointer data)
{
  const char *text = g_variant_get_string (variant, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (encryption_values); i++)
    if (g_strcmp0 (text, encryption_values[i]) == 0)
      {
        g_value_set_uint (value, i);
        return TRUE;
      }
  return FALSE;
}

static GVariant *
encryption_set_mapping (const GValue *value, const GVariantType *type, gpointer data)
{
  guint i = g_value_get_uint (value);

  return i < G_N_ELEMENTS (encryption_values) ? g_variant_new_string (encryption_values[i]) : NULL;
}

/* Call encryption (SRTP) of direct calls; accounts have their own. */
static GtkWidget *
encryption_row_new (GSettings *settings)
{
  const char *items[] = { _ ("Preferred"), _ ("Required"), _ ("Off"), NULL };
  AdwComboRow *row = ADW_COMBO_ROW (adw_combo_row_new ());
  g_autoptr (GtkStringList) model = gtk_string_list_new (items);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _ ("Direct Call Encryption"));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row),
                               _ ("SRTP for calls to addresses; its keys travel only over TLS "
                                  "(sips:). Accounts have their own setting"));
  adw_combo_row_set_model (row, G_LIST_MODEL (model));
  sp_a11y_set_name (GTK_WIDGET (row), _ ("Direct call encryption"));
  g_settings_bind_with_mapping (settings, "media-encryption", row, "selected",
                                G_SETTINGS_BIND_DEFAULT, encryption_get_mapping,
                                encryption_set_mapping, NULL, NULL);
  return GTK_WIDGET (row);
}

static GtkWidget *
delay_row_new (GSettings *settings)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *spin = gtk_spin_button_new_with_range (0, 60, 1);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _ ("Seconds Before Answering"));
  gtk_widget_set_valign (spin, GTK_ALIGN_CENTER);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), spin);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), spin);
  sp_a11y_set_name (spin, _ ("Seconds to ring before answering automatically"));
  g_settings_bind (settings, "auto-answer-delay", spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "auto-answer", row, "sensitive", G_SETTINGS_BIND_GET);
  return row;
}

/* "Test Sound": the ring tone (the chosen file, else the built-in one) on
 * the speaker for two seconds. */
#define TEST_SOUND_SECONDS 2

static gboolean
stop_test_sound (gpointer window)
{
  g_object_set_data (G_OBJECT (window), "test-sound", NULL);
  return G_SOURCE_REMOVE;
}

static void
on_test_sound_failed (SpRingerFailure what, const GError *error, gpointer window)
{
  const char *device = g_object_get_data (G_OBJECT (window), "test-sound-device");
  g_autofree char *message = NULL;

  if (what == SP_RINGER_FAILED_TONE)
    /* As a real call would: the built-in tone, and why. */
    message = g_strdup_printf (
        _ ("The ring tone cannot be played (%s); ringing with the built-in one."), error->message);
  else if (what == SP_RINGER_TONE_SLOW)
    message = g_strdup_printf (_ ("The ring tone is slow to load; ringing with the built-in "
                                  "one until it is ready (%s)."),
                               error->message);
  else
    /* Translators: %s is a sound device ("default"), then the reason. */
    message = g_strdup_printf (_ ("No sound from “%s”: %s"), device, error->message);
  adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (window), adw_toast_new (message));
}

static void
on_test_sound (GtkButton *button, GSettings *settings)
{
  GtkWidget *window = GTK_WIDGET (gtk_widget_get_root (GTK_WIDGET (button)));
  g_autofree char *device = g_settings_get_string (settings, "audio-output");
  g_autofree char *tone = g_settings_get_string (settings, "ring-tone");
  SpRinger *ringer;

  if (g_object_get_data (G_OBJECT (window), "test-sound") != NULL)
    return;
  /* The file is read on the ringer's thread (src/ua/ringer.c). */
  ringer = sp_ringer_new (sp_audio_alsa_new (device, SP_AUDIO_SINK), tone);
  /* The window owns the sound: closing it stops the sound, and silences
   * a failure not yet reported. */
  g_object_set_data_full (G_OBJECT (window), "test-sound-device", g_strdup (device), g_free);
  sp_ringer_start (ringer, on_test_sound_failed, window);
  g_object_set_data_full (G_OBJECT (window), "test-sound", ringer, (GDestroyNotify) sp_ringer_free);
  g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, TEST_SOUND_SECONDS, stop_test_sound,
                              g_object_ref (window), g_object_unref);
}

static GtkWidget *
test_sound_row_new (GSettings *settings)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *button = gtk_button_new_with_mnemonic (_ ("_Play"));

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _ ("Test Sound"));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), _ ("Rings on the speaker for two seconds"));
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  g_signal_connect_object (button, "clicked", G_CALLBACK (on_test_sound), settings, 0);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), button);
  sp_a11y_set_name (button, _ ("Play a test sound"));
  return row;
}

/* "Microphone Test": a few seconds recorded from the chosen microphone,
 * then played back on the chosen speaker, with the level shown as it
 * goes. SpMicTest runs on its own thread; the row owns it, so closing
 * Preferences stops it, and the level bar only moves while it runs. */
#define MIC_TEST_MS 3000

typedef struct
{
  GtkWidget *row;
  GtkWidget *button;
  GtkLevelBar *meter;
  GSettings *settings;
  SpMicTest *test; /* while running */
} MicTestRow;

static void
mic_test_row_free (gpointer data)
{
  MicTestRow *m = data;

  sp_mic_test_free (m->test);
  g_free (m);
}

static void
mic_test_row_idle (MicTestRow *m, const char *subtitle)
{
  g_clear_pointer (&m->test, sp_mic_test_free);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (m->row), subtitle);
  gtk_button_set_label (GTK_BUTTON (m->button), _ ("_Test"));
  sp_a11y_set_name (m->button, _ ("Test the microphone"));
  gtk_level_bar_set_value (m->meter, 0.0);
  gtk_widget_set_visible (GTK_WIDGET (m->meter), FALSE);
}

/* The level over the 60 dB a voice uses, as the call row's meter shows it. */
static void
on_mic_test_progress (SpMicTest *test, SpMicTestPhase phase, double level_db, const GError *error,
                      gpointer user_data)
{
  MicTestRow *m = user_data;

  switch (phase)
    {
      case SP_MIC_TEST_RECORDING:
        adw_action_row_set_subtitle (ADW_ACTION_ROW (m->row), _ ("Recording… say something"));
        break;
      case SP_MIC_TEST_PLAYING:
        adw_action_row_set_subtitle (ADW_ACTION_ROW (m->row), _ ("Playing back what was heard"));
        break;
      case SP_MIC_TEST_DONE:
        mic_test_row_idle (m, _ ("Done: records three seconds, then plays them back"));
        return;
      case SP_MIC_TEST_FAILED:
        {
          /* Translators: the microphone test failed; %s is why. */
          g_autofree char *text =
              g_strdup_printf (_ ("The test failed: %s"), error != NULL ? error->message : "");
          mic_test_row_idle (m, text);
          return;
        }
    }
  gtk_level_bar_set_value (m->meter, CLAMP (1.0 + level_db / 60.0, 0.0, 1.0));
}

static void
on_mic_test (GtkButton *button, MicTestRow *m)
{
  g_autofree char *input = NULL;
  g_autofree char *output = NULL;

  if (m->test != NULL)
    {
      mic_test_row_idle (m, _ ("Stopped"));
      return;
    }
  input = g_settings_get_string (m->settings, "audio-input");
  output = g_settings_get_string (m->settings, "audio-output");
  m->test = sp_mic_test_new (sp_audio_alsa_new (input, SP_AUDIO_SOURCE),
                             sp_audio_alsa_new (output, SP_AUDIO_SINK), MIC_TEST_MS);
  gtk_button_set_label (GTK_BUTTON (m->button), _ ("St_op"));
  sp_a11y_set_name (m->button, _ ("Stop the microphone test"));
  gtk_widget_set_visible (GTK_WIDGET (m->meter), TRUE);
  sp_mic_test_start (m->test, on_mic_test_progress, m);
}

static GtkWidget *
mic_test_row_new (GSettings *settings)
{
  MicTestRow *m = g_new0 (MicTestRow, 1);

  m->row = adw_action_row_new ();
  m->settings = settings;
  m->button = gtk_button_new_with_mnemonic (_ ("_Test"));
  m->meter = GTK_LEVEL_BAR (gtk_level_bar_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (m->row), _ ("Microphone Test"));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (m->row),
                               _ ("Records three seconds, then plays them back"));
  /* One colour, as in the call row: a quiet voice is no warning. */
  gtk_level_bar_remove_offset_value (m->meter, GTK_LEVEL_BAR_OFFSET_LOW);
  gtk_level_bar_remove_offset_value (m->meter, GTK_LEVEL_BAR_OFFSET_HIGH);
  gtk_level_bar_remove_offset_value (m->meter, GTK_LEVEL_BAR_OFFSET_FULL);
  gtk_widget_set_size_request (GTK_WIDGET (m->meter), 96, -1);
  gtk_widget_set_valign (GTK_WIDGET (m->meter), GTK_ALIGN_CENTER);
  gtk_widget_set_visible (GTK_WIDGET (m->meter), FALSE);
  sp_a11y_set_name (GTK_WIDGET (m->meter), _ ("Microphone test level"));
  gtk_widget_set_valign (m->button, GTK_ALIGN_CENTER);
  sp_a11y_set_name (m->button, _ ("Test the microphone"));
  g_signal_connect (m->button, "clicked", G_CALLBACK (on_mic_test), m);
  adw_action_row_add_suffix (ADW_ACTION_ROW (m->row), GTK_WIDGET (m->meter));
  adw_action_row_add_suffix (ADW_ACTION_ROW (m->row), m->button);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (m->row), m->button);
  /* The row owns the test: no progress reaches it once it is gone. */
  g_object_set_data_full (G_OBJECT (m->row), "sp-mic-test", m, mic_test_row_free);
  return m->row;
}

/* The ring tone: a WAV file chosen in a file chooser, or the built-in
 * tone (the empty setting), which "Default" brings back. */

static void
update_ring_tone_row (GSettings *settings, const char *key, AdwActionRow *row)
{
  g_autofree char *path = g_settings_get_string (settings, "ring-tone");
  g_autofree char *name = path[0] != '\0' ? g_path_get_basename (path) : NULL;
  GtkWidget *reset = g_object_get_data (G_OBJECT (row), "reset");

  adw_action_row_set_subtitle (row, name != NULL ? name : _ ("Built-in tone"));
  gtk_widget_set_tooltip_text (GTK_WIDGET (row), path[0] != '\0' ? path : NULL);
  gtk_widget_set_sensitive (reset, path[0] != '\0');
}

static void
on_ring_tone_chosen (GtkNativeDialog *chooser, int response, GSettings *settings)
{
  g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;

  if (response == GTK_RESPONSE_ACCEPT && path != NULL)
    g_settings_set_string (settings, "ring-tone", path);
  g_object_unref (chooser);
}

static void
on_choose_ring_tone (GtkButton *button, GSettings *settings)
{
  GtkWindow *window = GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (button)));
  g_autofree char *path = g_settings_get_string (settings, "ring-tone");
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new (
      _ ("Choose a Ring Tone"), window, GTK_FILE_CHOOSER_ACTION_OPEN, _ ("_Choose"), _ ("_Cancel"));
  g_autoptr (GtkFileFilter) wav = gtk_file_filter_new ();
  g_autoptr (GtkFileFilter) all = gtk_file_filter_new ();

  gtk_file_filter_set_name (wav, _ ("WAV Sound Files"));
  gtk_file_filter_add_mime_type (wav, "audio/x-wav");
  gtk_file_filter_add_mime_type (wav, "audio/wav");
  gtk_file_filter_add_suffix (wav, "wav");
  gtk_file_filter_set_name (all, _ ("All Files"));
  gtk_file_filter_add_pattern (all, "*");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), wav);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), all);
  gtk_file_chooser_set_filter (GTK_FILE_CHOOSER (chooser), wav);
  if (path[0] != '\0')
    {
      g_autoptr (GFile) current = g_file_new_for_path (path);
      gtk_file_chooser_set_file (GTK_FILE_CHOOSER (chooser), current, NULL);
    }
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect_object (chooser, "response", G_CALLBACK (on_ring_tone_chosen), settings, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
on_reset_ring_tone (GtkButton *button, GSettings *settings)
{
  g_settings_reset (settings, "ring-tone");
}

static GtkWidget *
ring_tone_row_new (GSettings *settings)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *choose = gtk_button_new_with_mnemonic (_ ("C_hoose…"));
  GtkWidget *reset = gtk_button_new_with_mnemonic (_ ("D_efault"));

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _ ("Ring Tone"));
  gtk_widget_set_valign (choose, GTK_ALIGN_CENTER);
  gtk_widget_set_valign (reset, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (reset, "flat");
  g_signal_connect_object (choose, "clicked", G_CALLBACK (on_choose_ring_tone), settings, 0);
  g_signal_connect_object (reset, "clicked", G_CALLBACK (on_reset_ring_tone), settings, 0);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), reset);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), choose);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), choose);
  sp_a11y_set_name (choose, _ ("Choose a ring tone file"));
  sp_a11y_set_name (reset, _ ("Use the built-in ring tone"));
  g_object_set_data (G_OBJECT (row), "reset", reset);
  g_signal_connect_object (settings, "changed::ring-tone", G_CALLBACK (update_ring_tone_row), row,
                           0);
  update_ring_tone_row (settings, "ring-tone", ADW_ACTION_ROW (row));
  return row;
}

static GtkWidget *
group_new (const char *title, const char *description)
{
  GtkWidget *group = adw_preferences_group_new ();

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), title);
  if (description != NULL)
    adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group), description);
  return group;
}

/* /dev/snd gains and loses nodes as cards come and go; $SP_SND_DIR
 * stands in for it in tests. The monitor lives as long as @window. */
static void
watch_sound_devices (GtkWidget *window, GtkWidget *audio_group)
{
  const char *dir = g_getenv ("SP_SND_DIR");
  g_autoptr (GFile) file = g_file_new_for_path (dir != NULL && *dir != '\0' ? dir : "/dev/snd");
  g_autoptr (GError) error = NULL;
  GFileMonitor *monitor = g_file_monitor_directory (file, G_FILE_MONITOR_NONE, NULL, &error);

  if (monitor == NULL)
    {
      g_debug ("Sound devices are listed when Preferences opens only: %s", error->message);
      return;
    }
  g_signal_connect_object (monitor, "changed", G_CALLBACK (on_sound_devices_changed), audio_group,
                           0);
  g_object_set_data_full (G_OBJECT (window), "sp-sound-monitor", monitor, g_object_unref);
}

/* "lan-visible" is auto, on or off; the switch shows what it means now
 * (auto: on while this installation's server is off) and sets on or off. */
static gboolean
lan_visible_get (GValue *value, GVariant *variant, gpointer settings)
{
  const char *mode = g_variant_get_string (variant, NULL);

  g_value_set_boolean (value, g_strcmp0 (mode, "auto") == 0
                                  ? !g_settings_get_boolean (settings, "server-enabled")
                                  : g_strcmp0 (mode, "on") == 0);
  return TRUE;
}

static GVariant *
lan_visible_set (const GValue *value, const GVariantType *type, gpointer settings)
{
  return g_variant_new_string (g_value_get_boolean (value) ? "on" : "off");
}

static GtkWidget *
lan_visible_row_new (GSettings *settings)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *sw = gtk_switch_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                 _ ("_Let Computers on This Network Find This Phone"));
  adw_preferences_row_set_use_underline (ADW_PREFERENCES_ROW (row), TRUE);
  adw_action_row_set_subtitle (
      ADW_ACTION_ROW (row),
      _ ("Colleagues see your name under Nearby and call you with one click"));
  gtk_widget_set_valign (sw, GTK_ALIGN_CENTER);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (sw), GTK_ACCESSIBLE_RELATION_LABELLED_BY, row,
                                  NULL, -1);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), sw);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), sw);
  g_settings_bind_with_mapping (settings, "lan-visible", sw, "active", G_SETTINGS_BIND_DEFAULT,
                                lan_visible_get, lan_visible_set, g_object_ref (settings),
                                g_object_unref);
  return row;
}

GtkWindow *
sp_preferences_window_new (GtkWindow *parent, GSettings *settings)
{
  GtkWidget *window = adw_preferences_window_new ();
  GtkWidget *page = adw_preferences_page_new ();
  GtkWidget *audio = group_new (_ ("Audio"), NULL);
  GtkWidget *calls = group_new (_ ("Incoming Calls"), NULL);
  GtkWidget *network = group_new (_ ("Network"), NULL);
  GtkWidget *log = group_new (_ ("SIP Log"), NULL);
  GtkWidget *startup = group_new (_ ("Startup"), NULL);
  GPtrArray *devices = NULL; /* listed on a thread: filled in below */

  gtk_window_set_transient_for (GTK_WINDOW (window), parent);
  gtk_window_set_modal (GTK_WINDOW (window), TRUE);
  /* One page of a dozen rows: nothing to search, and no unnamed button. */
  adw_preferences_window_set_search_enabled (ADW_PREFERENCES_WINDOW (window), FALSE);
  adw_preferences_page_set_title (ADW_PREFERENCES_PAGE (page), _ ("General"));
  adw_preferences_page_set_icon_name (ADW_PREFERENCES_PAGE (page), "preferences-system-symbolic");

  adw_preferences_group_add (
      ADW_PREFERENCES_GROUP (audio),
      device_row_new (settings, "audio-input", _ ("_Microphone"), devices, TRUE));
  adw_preferences_group_add (
      ADW_PREFERENCES_GROUP (audio),
      device_row_new (settings, "audio-output", _ ("_Speaker"), devices, FALSE));
  adw_preferences_group_add (
      ADW_PREFERENCES_GROUP (audio),
      device_row_new (settings, "ring-device", _ ("_Ring On"), devices, FALSE));
  adw_preferences_group_add (
      ADW_PREFERENCES_GROUP (audio),
      switch_row_new (settings, "echo-cancellation", _ ("Echo Ca_ncellation"),
                      _ ("Removes the speaker's sound from the microphone, with noise "
                         "suppression and automatic gain")));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (audio), test_sound_row_new (settings));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (audio), mic_test_row_new (settings));
  watch_sound_devices (window, audio);
  list_sound_devices (window, audio);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (audio), ring_tone_row_new (settings));

  adw_preferences_group_add (ADW_PREFERENCES_GROUP (calls),
                             switch_row_new (settings, "do-not-disturb", _ ("_Do Not Disturb"),
                                             _ ("Callers hear that you are busy")));
  adw_preferences_group_add (
      ADW_PREFERENCES_GROUP (calls),
      switch_row_new (settings, "auto-answer", _ ("_Answer Automatically"), NULL));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (calls), delay_row_new (settings));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (calls),
                             switch_row_new (settings, "refuse-strangers",
                                             _ ("_Refuse Calls From Strangers"),
                                             _ ("Only calls through your accounts' servers ring")));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (calls), encryption_row_new (settings));

  adw_preferences_group_add (ADW_PREFERENCES_GROUP (network),
                             entry_row_new (settings, "sip-bind", _ ("SIP Address and Port")));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (network), lan_visible_row_new (settings));

  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (audio));
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (calls));
  adw_preferences_group_add (
      ADW_PREFERENCES_GROUP (log),
      switch_row_new (settings, "sip-log-raw", _ ("Show _Credentials"),
                      _ ("Messages recorded from now on keep digest responses unmasked; anyone "
                         "who reads them can guess the passwords")));
  adw_preferences_group_add (
      ADW_PREFERENCES_GROUP (startup),
      switch_row_new (settings, "run-in-background",
                      _ ("Run in the _Background and Start at Login"),
                      _ ("Closing the window keeps the phone and the server running; calls still "
                         "ring. Starting Softphone again shows the window.")));

  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (network));
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (log));
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (startup));
  adw_preferences_window_add (ADW_PREFERENCES_WINDOW (window), ADW_PREFERENCES_PAGE (page));
  return GTK_WINDOW (window);
}
