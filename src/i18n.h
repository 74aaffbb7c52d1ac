#pragma once

/* gettext for the core: user-visible messages (GError texts shown in the
 * window) use _() in the app's domain; protocol text and logs never do.
 * config.h must come first: gi18n-lib.h needs GETTEXT_PACKAGE. */
#include "config.h"

#include <glib/gi18n-lib.h>
