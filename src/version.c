#include "config.h"

#include "version.h"

const char *
sp_version (void)
{
  return PACKAGE_VERSION;
}
