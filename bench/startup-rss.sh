#!/bin/sh
# Where the window's memory goes: the app (opening on Calls) and the bare
# AdwApplicationWindow side by side in one Xvfb, 15 s after each showed,
# their /proc/PID/smaps compared mapping by mapping and grouped (heap,
# anonymous mappings, libraries both map, libraries only the app maps,
# fonts, our binary), then the largest differences and both thread lists.
# bench-startup.sh says how much; this says where (bench/README.md).
#
# usage: bench/startup-rss.sh SOFTPHONE BARE_WINDOW
# Runs in a network namespace of its own, like bench-startup.sh.
set -eu
SOFTPHONE=$(readlink -f "$1") BARE=$(readlink -f "$2")

if [ -z "${SP_BENCH_INNER:-}" ]; then
  for tool in xvfb-run dbus-run-session xwininfo unshare python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "startup-rss: $tool is missing" >&2; exit 2; }
  done
  export SP_BENCH_INNER=1
  exec unshare --net -- sh -c 'ip link set lo up && exec xvfb-run -a -s "-screen 0 1280x800x24 -noreset" dbus-run-session --config-file="$(dirname "$0")/../tests/gui/session-bus.conf" -- "$0" "$@"' "$0" "$@"
fi

TMP=$(mktemp -d /tmp/softphone-rss.XXXXXX)
PIDS=
cleanup() {
  for p in $PIDS; do kill "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
mkdir -p "$TMP/config/glib-2.0/settings"
printf "[net/example/softphone]\nsip-bind='127.0.0.1:5060'\nwelcome-done=true\n" \
  >"$TMP/config/glib-2.0/settings/keyfile"

# Waits (bounded, 30 s) until a window titled $1 is viewable.
wait_window() {
  i=0
  while ! xwininfo -name "$1" 2>/dev/null | grep -q IsViewable; do
    i=$((i + 1))
    [ $i -le 3000 ] || { echo "startup-rss: no window \"$1\"" >&2; exit 1; }
    sleep 0.01
  done
}

"$BARE" >/dev/null 2>&1 &
BARE_PID=$!
PIDS="$PIDS $BARE_PID"
wait_window "Bare Window"
XDG_CONFIG_HOME="$TMP/config" XDG_STATE_HOME="$TMP/state" XDG_DATA_HOME="$TMP/data" \
  GSETTINGS_BACKEND=keyfile "$SOFTPHONE" >"$TMP/app.log" 2>&1 &
APP_PID=$!
PIDS="$PIDS $APP_PID"
wait_window "Softphone"
sleep 15
for who in BARE APP; do
  eval pid=\$${who}_PID
  cat "/proc/$pid/smaps" >"$TMP/$who.smaps"
  for t in /proc/$pid/task/*; do cat "$t/comm" 2>/dev/null || true; done | tr '\n' ' ' >"$TMP/$who.threads"
done

python3 - "$TMP" "$SOFTPHONE" <<'EOF'
import collections, sys
tmp, app = sys.argv[1], sys.argv[2]

def parse(path):
    maps = collections.defaultdict(collections.Counter)
    name = None
    for line in open(path):
        f = line.split()
        if len(f) >= 5 and '-' in f[0] and ':' not in f[0]:
            name = f[5] if len(f) > 5 else '[anon]'
        elif f and f[0].endswith(':') and len(f) >= 2 and f[1].isdigit():
            maps[name][f[0][:-1]] += int(f[1])
    return maps

a, b = parse(tmp + '/APP.smaps'), parse(tmp + '/BARE.smaps')
in_bare = set(b)
groups = collections.Counter()
rows = []
for k in set(a) | in_bare:
    d = a[k]['Rss'] - b[k]['Rss']
    rows.append((d, k))
    if k == '[heap]': g = 'heap (main arena)'
    elif k == '[anon]': g = 'anonymous (thread arenas, stacks, large mallocs, GL buffers)'
    elif k.startswith('[stack'): g = 'main stack'
    elif k.startswith('/usr/share/fonts'): g = 'fonts'
    elif k == app: g = 'our binary'
    elif k.startswith(('/usr/lib', '/lib')) and k not in in_bare: g = 'libraries only the app maps'
    elif k.startswith(('/usr/lib', '/lib')): g = 'libraries both map (more pages touched)'
    else: g = 'other files'
    groups[g] += d
rss = lambda m: sum(v['Rss'] for v in m.values()) / 1024
print(f"bare_rss_mb={rss(b):.1f} app_rss_mb={rss(a):.1f} difference_mb={rss(a) - rss(b):.1f}")
for g, d in sorted(groups.items(), key=lambda x: -x[1]):
    print(f"  {d / 1024:6.1f} MB  {g}")
print("largest differences by mapping (kB):")
for d, k in sorted(rows, reverse=True)[:15]:
    print(f"  {d:7d}  {k}")
for who in ('BARE', 'APP'):
    print(f"{who.lower()}_threads: {open(tmp + '/' + who + '.threads').read().strip()}")
EOF
