#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* Preferences: audio devices (from ALSA's list), a microphone test, ring tone, do not
 * disturb, auto-answer and the SIP address. Every row is bound to
 * GSettings, so changes apply at once, as GNOME's preferences do. */
GtkWindow *sp_preferences_window_new (GtkWindow *parent, GSettings *settings);

G_END_DECLS
