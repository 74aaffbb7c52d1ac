#!/bin/sh
# Every C file the project tracks follows .clang-format. Lists the ones that
# do not (fix with: clang-format -i FILE). One clang-format process for all
# files: one per file took minutes on a loaded machine.
cd "$1" || exit 2
command -v clang-format >/dev/null || { echo "clang-format not installed"; exit 77; }
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find src app tests bench -name '*.[ch]')
[ -n "$files" ] || { echo "no C files found"; exit 2; }
out=$(echo "$files" | xargs clang-format --dry-run --Werror 2>&1)
status=$?
if [ $status -ne 0 ]; then
  bad=$(echo "$out" | sed -n 's/^\([^:]*\.[ch]\):[0-9]*:[0-9]*: error:.*/\1/p' | sort -u)
  if [ -z "$bad" ]; then
    echo "clang-format failed: $out" | head -20
  else
    for f in $bad; do echo "not formatted: $f"; done
  fi
  exit 1
fi
exit 0
