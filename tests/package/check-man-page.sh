#!/bin/sh
# The man page documents every option: each long option the binary prints
# in --help-all, and each entry of the option tables in app/*.c (hidden
# ones included), appears in data/softphone.1 as \-\-NAME. Its version is
# the project's, and groff reads it without a warning.
# usage: check-man-page.sh SOFTPHONE MAN_PAGE SOURCE_ROOT VERSION
set -eu
SOFTPHONE=$1 MAN=$2 SRC=$3 VERSION=$4
TMP=$(mktemp -d /tmp/softphone-man.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
status=0

# What the program says it takes...
LC_ALL=C LANGUAGE=C "$SOFTPHONE" --help-all >"$TMP/help" 2>&1 || { cat "$TMP/help"; exit 1; }
grep -oE '(^|[ ,])--[a-z][a-z0-9-]*' "$TMP/help" | sed 's/^[ ,]*--//' >"$TMP/options"
# ...and what the code declares, hidden options too ({ "name", 'c', flags, ...).
sed -n 's/^ *{ "\([a-z][a-z0-9-]*\)", .*G_OPTION_\(FLAG\|ARG\).*/\1/p' "$SRC"/app/*.c >>"$TMP/options"
n=$(sort -u "$TMP/options" | wc -l)
if [ "$n" -lt 20 ]; then
  echo "FAIL  only $n options found: the extraction from --help-all and app/*.c is broken"
  cat "$TMP/help"
  exit 1
fi
for opt in $(sort -u "$TMP/options"); do
  # troff writes a hyphen as \- : the page has --auto-answer as \-\-auto\-answer.
  needle=$(printf '%s' "--$opt" | sed 's/-/\\-/g')
  if ! grep -qF -- "$needle" "$MAN"; then
    echo "FAIL  --$opt is not in the man page ($MAN)"
    status=1
  fi
done
[ $status = 0 ] && echo "ok    $n options, each in the man page"

if ! grep -q "^\.TH SOFTPHONE 1 .*\"softphone $VERSION\"" "$MAN"; then
  echo "FAIL  the man page's .TH line does not name version $VERSION"
  status=1
fi
if command -v groff >/dev/null 2>&1; then
  if ! LC_ALL=C.UTF-8 groff -man -ww -z -Tutf8 "$MAN" 2>"$TMP/groff" || [ -s "$TMP/groff" ]; then
    cat "$TMP/groff"
    echo "FAIL  groff warns about the man page"
    status=1
  else
    echo "ok    groff reads it without a warning"
  fi
fi
exit $status
