#!/bin/sh
# Every C file the project tracks follows .clang-format. Lists the ones that
# do not (fix with: clang-format -i FILE).
cd "$1" || exit 2
command -v clang-format >/dev/null || { echo "clang-format not installed"; exit 77; }
bad=0
for f in $(git ls-files '*.c' '*.h' 2>/dev/null || find src app tests bench -name '*.[ch]'); do
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "not formatted: $f"
    bad=1
  fi
done
exit $bad
