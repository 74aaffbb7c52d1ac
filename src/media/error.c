#include "media/error.h"

G_DEFINE_QUARK (sp - media - error - quark, sp_media_error)
