#include "fdlimit.h"

#include <errno.h>
#include <sys/resource.h>

guint64
sp_fd_limit_raise (void)
{
  struct rlimit limit;
  rlim_t before;

  if (getrlimit (RLIMIT_NOFILE, &limit) != 0)
    {
      g_debug ("descriptor limit not readable: %s", g_strerror (errno));
      return 0;
    }
  before = limit.rlim_cur;
  if (limit.rlim_cur != limit.rlim_max)
    {
      limit.rlim_cur = limit.rlim_max;
      if (setrlimit (RLIMIT_NOFILE, &limit) != 0)
        {
          g_debug ("descriptor limit stays %llu: %s", (unsigned long long) before,
                   g_strerror (errno));
          return before;
        }
    }
  g_debug ("descriptor limit %llu (was %llu)", (unsigned long long) limit.rlim_cur,
           (unsigned long long) before);
  return limit.rlim_cur;
}
