#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The release version of the core library, e.g. "0.1.0". */
const char *sp_version (void);

G_END_DECLS
