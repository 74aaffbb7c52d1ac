#!/usr/bin/env bash
# The Debian package, end to end, as a Debian user meets it:
#   1. dpkg-buildpackage -us -uc -b on a copy of the tree (it writes to the
#      parent directory, so the checkout stays clean), release flags;
#   2. lintian: no errors (the tags it prints are shown);
#   3. apt-get install ./softphone_*.deb into this machine, then every file
#      where Debian puts it: the binary (--version), desktop file, metainfo,
#      icons, GSettings schema (compiled by the trigger), translations, man
#      page, and the systemd unit (systemd-analyze verify, not enabled);
#   4. the unit's ExecStart run as systemd would run it (service-run.py);
#   5. purge, and the machine is as it was (same packages, no files left).
# Needs root (it installs a package); skipped otherwise.
# usage: check-package.sh SOURCE_ROOT
set -uo pipefail
SRC=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)

skip () { echo "skipping: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "installing a package needs root (CI runs as root)"
for tool in dpkg-buildpackage dh lintian fakeroot apt-get; do
  command -v "$tool" >/dev/null 2>&1 || skip "$tool is missing (tools/setup --test installs it)"
done
if dpkg-query -W -f='${Status}' softphone 2>/dev/null | grep -q 'install ok installed'; then
  skip "a softphone package is installed already; this test installs and purges its own"
fi

TMP=$(mktemp -d /tmp/softphone-package.XXXXXX)
status=0
installed=0
fail () { echo "FAIL  $*"; status=1; }
ok () { echo "ok    $*"; }
apt_get () { DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=300 "$@"; }

cleanup () {
  if [ "$installed" = 1 ]; then
    apt_get purge softphone >"$TMP/purge.log" 2>&1 || { cat "$TMP/purge.log"; status=1; }
    installed=0
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---- 1. build from a copy ---------------------------------------------------
version=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version)
meson_version=$(sed -n "s/^ *version: '\([^']*\)'.*/\1/p" "$SRC/meson.build" | head -n 1)
[ "$version" = "$meson_version" ] || fail "debian/changelog says $version, meson.build says $meson_version"

copy="$TMP/softphone-$version"
mkdir -p "$copy"
if git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
  # What git would commit: tracked and new files, never build directories.
  (cd "$SRC" && git ls-files -z --cached --others --exclude-standard |
     while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
     tar --null -T - -cf -) | tar -xf - -C "$copy"
else
  (cd "$SRC" && tar --exclude='./build*' --exclude='./_build' -cf - .) | tar -xf - -C "$copy"
fi

start=$(date +%s)
if (cd "$copy" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
      dpkg-buildpackage -us -uc -b) >"$TMP/build.log" 2>&1; then
  ok "dpkg-buildpackage -us -uc -b built $(cd "$TMP" && ls softphone_*.deb) in $(( $(date +%s) - start )) s"
else
  tail -n 80 "$TMP/build.log"
  fail "dpkg-buildpackage failed (log above)"
  exit 1
fi
deb=$(ls "$TMP"/softphone_"$version"_*.deb)
changes=$(ls "$TMP"/softphone_"$version"_*.changes)

# ---- 2. lintian ---------------------------------------------------------------
start=$(date +%s)
lintian --fail-on error --display-info "$changes" >"$TMP/lintian.log" 2>"$TMP/lintian.err"
lintian_status=$?
# As root it says that running as root is not recommended: that is all.
grep -v "running with root privileges" "$TMP/lintian.err" | sed "s/^/      lintian (stderr): /"
sed "s/^/      lintian: /" "$TMP/lintian.log"
summary=$(awk '{print $1}' "$TMP/lintian.log" | sort | uniq -c | tr -s ' ' | tr '\n' ',')
if [ $lintian_status -ne 0 ] || grep -q '^E: ' "$TMP/lintian.log"; then
  fail "lintian reports errors (above)"
else
  ok "lintian: no errors (tag counts by level: ${summary:-none}) in $(( $(date +%s) - start )) s"
fi

# ---- 3. install and look where Debian puts things ----------------------------
# A file of the package is on disk, or in the .deb where this machine's dpkg
# is told not to unpack its path (slim images drop man pages, docs and
# translations with path-exclude in /etc/dpkg/dpkg.cfg.d/).
excluded () {
  local rule pattern
  while IFS= read -r rule; do
    pattern=${rule#path-exclude=}; pattern=${pattern#path-exclude }
    # shellcheck disable=SC2053 # a glob on purpose
    [[ $1 == $pattern ]] && return 0
  done < <(cat /etc/dpkg/dpkg.cfg /etc/dpkg/dpkg.cfg.d/* 2>/dev/null | grep -E '^path-exclude[= ]')
  return 1
}
present () {
  [ -s "$1" ] && return 0
  if excluded "$1" && dpkg-deb -c "$deb" | grep -q " \.$1\$"; then
    echo "note  $1 is in the package; this machine's dpkg does not unpack it (path-exclude)"
    return 0
  fi
  return 1
}
dpkg-query -W -f='${Package} ${Status}\n' | grep ' installed$' | sort >"$TMP/before.txt"
if apt_get install --no-install-recommends "$deb" >"$TMP/install.log" 2>&1; then
  installed=1
  ok "apt-get install ./$(basename "$deb")"
else
  cat "$TMP/install.log"
  fail "apt-get install failed"
  exit 1
fi

got=$(softphone --version 2>&1)
[ "$got" = "softphone $version" ] && ok "softphone --version: $got" ||
  fail "softphone --version said '$got', not 'softphone $version'"
[ "$(command -v softphone)" = /usr/bin/softphone ] || fail "softphone is not /usr/bin/softphone"

desktop=/usr/share/applications/net.example.softphone.desktop
if [ -f "$desktop" ] && desktop-file-validate "$desktop" && grep -q '^Name\[zh_CN\]=' "$desktop" &&
   grep -q '^Exec=softphone ' "$desktop"; then
  ok "$desktop: valid, translations merged, Exec=softphone"
else
  fail "$desktop is missing, invalid or without translations"
fi
metainfo=/usr/share/metainfo/net.example.softphone.metainfo.xml
if [ -f "$metainfo" ] && appstreamcli validate --no-net --pedantic "$metainfo" >"$TMP/as.log" 2>&1; then
  ok "$metainfo: valid"
else
  cat "$TMP/as.log" 2>/dev/null
  fail "$metainfo is missing or invalid"
fi
for icon in /usr/share/icons/hicolor/scalable/apps/net.example.softphone.svg \
            /usr/share/icons/hicolor/symbolic/apps/net.example.softphone-symbolic.svg; do
  [ -s "$icon" ] && ok "$icon" || fail "$icon is missing"
done
schema=/usr/share/glib-2.0/schemas/net.example.softphone.gschema.xml
# The trigger of libglib2.0-0 compiled it into the system's schema cache.
if [ -f "$schema" ] && GSETTINGS_BACKEND=memory gsettings get net.example.softphone sip-bind \
     >"$TMP/gs.txt" 2>&1; then
  ok "$schema, compiled: sip-bind is $(cat "$TMP/gs.txt")"
else
  cat "$TMP/gs.txt"
  fail "the schema is not installed or not compiled"
fi
mo=/usr/share/locale/zh_CN/LC_MESSAGES/softphone.mo
present "$mo" && ok "$mo" || fail "$mo is missing"
man=/usr/share/man/man1/softphone.1.gz
if present "$man"; then
  if [ ! -e "$man" ] || ! command -v man >/dev/null 2>&1; then
    ok "$man"
  elif [ "$(man -w softphone 2>/dev/null)" = "$man" ] && zcat "$man" | grep -q 'softphone\\-server'; then
    ok "$man (man -w finds it)"
  else
    fail "man -w softphone does not find $man"
  fi
else
  fail "the man page is not at $man"
fi
for doc in /usr/share/doc/softphone/headless.md.gz /usr/share/doc/softphone/copyright; do
  present "$doc" || fail "$doc is missing"
done
default=/etc/default/softphone-server
if [ -f "$default" ] && [ "$(stat -c %a "$default")" = 600 ] &&
   dpkg-query --showformat='${Conffiles}\n' --show softphone | grep -q " $default "; then
  ok "$default: a conffile, mode 0600 (it may hold the console's admin password)"
else
  fail "$default is missing, not a conffile, or readable by others"
fi

unit=$(dpkg -L softphone | grep '/systemd/system/softphone-server\.service$')
if [ "$unit" = /lib/systemd/system/softphone-server.service ]; then
  ok "unit at $unit"
else
  fail "the unit is at '$unit', not /lib/systemd/system/softphone-server.service"
fi
if command -v systemd-analyze >/dev/null 2>&1 && [ -n "$unit" ]; then
  if SYSTEMD_LOG_LEVEL=notice systemd-analyze verify "$unit" >"$TMP/verify.log" 2>&1 &&
     ! grep -v 'Failed to .*dbus\|bus' "$TMP/verify.log" | grep -q .; then
    ok "systemd-analyze verify: clean"
  else
    cat "$TMP/verify.log"
    fail "systemd-analyze verify complains about the unit"
  fi
  if systemd-analyze security --offline=true "$unit" >"$TMP/security.log" 2>&1; then
    ok "systemd-analyze security: $(grep -o 'Overall exposure level.*' "$TMP/security.log")"
  fi
fi
if ls /etc/systemd/system/*.wants/softphone-server.service >/dev/null 2>&1; then
  fail "installing the package enabled softphone-server; it must stay disabled"
else
  ok "softphone-server is installed disabled"
fi

# ---- 4. the service's command, as systemd runs it --------------------------
# In a network namespace of its own: it binds 5060 and 8080 on every address.
if [ -n "$unit" ] && unshare --net -- true 2>/dev/null && command -v setpriv >/dev/null 2>&1; then
  if unshare --net -- /usr/bin/python3 "$HERE/service-run.py" "$unit" "$default"; then
    ok "the unit's ExecStart serves registrations, users and the console"
  else
    fail "the unit's ExecStart does not work (above)"
  fi
else
  echo "note  no network namespace (unshare --net) or no setpriv here: the service's command is not run"
fi

# ---- 5. purge: the machine as it was ---------------------------------------
if apt_get purge softphone >"$TMP/purge.log" 2>&1; then
  installed=0
  ok "apt-get purge softphone"
else
  cat "$TMP/purge.log"
  fail "apt-get purge failed"
fi
dpkg-query -W -f='${Package} ${Status}\n' | grep ' installed$' | sort >"$TMP/after.txt"
if ! diff -u "$TMP/before.txt" "$TMP/after.txt"; then
  fail "the installed packages differ from before the test (above)"
fi
for f in /usr/bin/softphone "$desktop" "$unit" "$default"; do
  [ -e "$f" ] && fail "$f is still there after the purge"
done

echo "$( [ $status = 0 ] && echo PASS || echo FAIL ): the Debian package"
exit $status
