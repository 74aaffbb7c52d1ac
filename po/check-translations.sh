#!/bin/sh
# Every translation compiles, is complete (no untranslated or fuzzy
# messages) and has every msgid the sources have now.
# usage: check-translations.sh PO_DIR SOURCE_ROOT
set -eu
PO_DIR=$1 SRC=$2
TMP=$(mktemp -d /tmp/softphone-po.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# The same extraction as meson's "glib" gettext preset.
(cd "$SRC" && xgettext --from-code=UTF-8 --add-comments --files-from="$PO_DIR/POTFILES.in" \
  --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 --keyword=g_dcgettext:2 \
  --keyword=g_dngettext:2,3 --keyword=g_dpgettext2:2c,3 \
  --flag=N_:1:pass-c-format --flag=C_:2:pass-c-format --flag=NC_:2:pass-c-format \
  --flag=g_dngettext:2:pass-c-format --flag=g_strdup_printf:1:c-format \
  --flag=g_string_printf:2:c-format --flag=g_string_append_printf:2:c-format \
  --flag=g_error_new:3:c-format --flag=g_set_error:4:c-format \
  --output="$TMP/softphone.pot")

status=0
for lang in $(grep -v '^#' "$PO_DIR/LINGUAS"); do
  po="$PO_DIR/$lang.po"
  stats=$(msgfmt --check --statistics -o "$TMP/$lang.mo" "$po" 2>&1) || { echo "$stats"; status=1; continue; }
  echo "$lang: $stats"
  case "$stats" in
    *untranslated*|*fuzzy*) echo "FAIL $lang has untranslated or fuzzy messages"; status=1 ;;
  esac
  if ! msgcmp "$po" "$TMP/softphone.pot" 2>"$TMP/cmp.txt"; then
    cat "$TMP/cmp.txt"
    echo "FAIL $lang lacks messages the sources have: update it from the .pot"
    status=1
  fi
done
exit $status
