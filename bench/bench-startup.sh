#!/bin/sh
# Startup and idle cost of the Softphone window against a bare
# AdwApplicationWindow, in the same run, under Xvfb with GTK's default
# renderer:
#   time_to_window_s  from exec to the window being viewable (xwininfo)
#   rss_mb            resident memory 15 s after the window showed
#   idle_cpu_s_30s    user+system CPU over the next 30 s of doing nothing
#                     (/proc/PID/stat utime+stime)
# The app is measured first run (the welcome), later runs (the Calls
# page), with another program on
# its SIP port (the phone moved to the next one), and with an address it
# cannot bind (the phone down): none may tick while nothing changes.
#
# usage: bench/bench-startup.sh SOFTPHONE BARE_WINDOW [STARTS]
#   e.g. bench/bench-startup.sh build-rel/app/softphone build-rel/bench/bench-bare-window
# STARTS (default 5) timed starts of each for time to window; the idle
# figures are one 30 s sample per state. Runs in a network namespace of
# its own (root, or unshare's user namespaces): the app's SIP port is on
# 127.0.0.1 there, and no other test sees it.
set -eu
SOFTPHONE=$(readlink -f "$1") BARE=$(readlink -f "$2") STARTS=${3:-5}
IDLE=${SP_BENCH_IDLE_SECONDS:-30}

if [ -z "${SP_BENCH_INNER:-}" ]; then
  for tool in xvfb-run dbus-run-session xwininfo unshare; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench-startup: $tool is missing" >&2; exit 2; }
  done
  export SP_BENCH_INNER=1
  exec unshare --net -- sh -c 'ip link set lo up && exec xvfb-run -a -s "-screen 0 1280x800x24 -noreset" dbus-run-session --config-file="$(dirname "$0")/../tests/gui/session-bus.conf" -- "$0" "$@"' "$0" "$@"
fi

TMP=$(mktemp -d /tmp/softphone-bench.XXXXXX)
PIDS=
cleanup() {
  for p in $PIDS; do kill "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
CLK_TCK=$(getconf CLK_TCK)

# Fresh, hermetic settings for each start of the app; $2, when given, is
# one more key=value line (welcome-done=true: the window opens on Calls).
fresh_config() {
  rm -rf "$TMP/config" "$TMP/state" "$TMP/data"
  mkdir -p "$TMP/config/glib-2.0/settings"
  printf "[net/example/softphone]\nsip-bind='%s'\n%s\n" "$1" "${2:-}" \
    >"$TMP/config/glib-2.0/settings/keyfile"
}

now() { date +%s.%N; }

# Starts $@, waits (bounded, 30 s) until a window titled $TITLE is
# viewable; sets PID and T (seconds from exec to window).
start_and_wait() {
  title=$1; shift
  t0=$(now)
  XDG_CONFIG_HOME="$TMP/config" XDG_STATE_HOME="$TMP/state" XDG_DATA_HOME="$TMP/data" \
    GSETTINGS_BACKEND=keyfile "$@" >>"$TMP/app.log" 2>&1 &
  PID=$!
  PIDS="$PIDS $PID"
  i=0
  while ! xwininfo -name "$title" 2>/dev/null | grep -q IsViewable; do
    i=$((i + 1))
    if [ $i -gt 3000 ] || ! kill -0 "$PID" 2>/dev/null; then
      echo "bench-startup: no window \"$title\" from $*" >&2; cat "$TMP/app.log" >&2; exit 1
    fi
    sleep 0.01
  done
  T=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')
}

stop() {
  kill "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

# Median of the numbers on stdin.
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# Time to window, STARTS times each, alternating so load drifts hit both.
: >"$TMP/bare.t"; : >"$TMP/app.t"
n=0
while [ $n -lt "$STARTS" ]; do
  start_and_wait "Bare Window" "$BARE"; stop; echo "$T" >>"$TMP/bare.t"
  fresh_config "127.0.0.1:5060"
  start_and_wait "Softphone" "$SOFTPHONE"; stop; echo "$T" >>"$TMP/app.t"
  n=$((n + 1))
done
bare_t=$(median <"$TMP/bare.t") app_t=$(median <"$TMP/app.t")
echo "bare_time_to_window_s=$bare_t"
echo "app_time_to_window_s=$app_t"
echo "time_to_window_ratio=$(awk -v a="$app_t" -v b="$bare_t" 'BEGIN { printf "%.2f", a / b }')"

# RSS and idle CPU: settle 15 s (a toast from the start, 8 s, and the text
# cursor, which blinks 10 s after the last key, are done), then
# IDLE seconds of nothing.
idle() {
  name=$1; shift
  start_and_wait "$@"
  sleep 15
  rss=$(rss_kb "$PID")
  c0=$(cpu_ticks "$PID")
  sleep "$IDLE"
  c1=$(cpu_ticks "$PID")
  stop
  awk -v n="$name" -v r="$rss" -v c="$((c1 - c0))" -v hz="$CLK_TCK" -v s="$IDLE" \
    'BEGIN { printf "%s_rss_mb=%.1f\n%s_idle_cpu_s_%ss=%.2f\n", n, r / 1024, n, s, c / hz }'
}
idle bare "Bare Window" "$BARE"
fresh_config "127.0.0.1:5060"
idle app "Softphone" "$SOFTPHONE"
# Not the first run: the window opens on the Calls page.
fresh_config "127.0.0.1:5060" "welcome-done=true"
idle app_calls "Softphone" "$SOFTPHONE"
# Another program on the SIP port: the phone moves to the next one.
# The holder retries its binds (bounded, 10 s): on a loaded machine the
# port was seen busy for a moment after the previous app had exited, and
# without the holder this state would silently measure a phone on 5060.
python3 -c '
import socket, sys, time
for attempt in range(100):
    try:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 5060))
        t = socket.socket(); t.bind(("127.0.0.1", 5060)); t.listen(1)
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("bench-startup: 127.0.0.1:5060 stays busy")
open(sys.argv[1], "w").close()
time.sleep(3600)' "$TMP/holding" &
HOLDER=$!
PIDS="$PIDS $HOLDER"
i=0
while [ ! -e "$TMP/holding" ]; do
  i=$((i + 1))
  if [ $i -gt 1100 ] || ! kill -0 "$HOLDER" 2>/dev/null; then
    echo "bench-startup: nothing holds 127.0.0.1:5060" >&2; exit 1
  fi
  sleep 0.01
done
fresh_config "127.0.0.1:5060"
idle app_port_taken "Softphone" "$SOFTPHONE"
kill "$HOLDER"
# An address this computer does not have (TEST-NET-1): the phone is down.
fresh_config "192.0.2.1:5060"
idle app_bind_failed "Softphone" "$SOFTPHONE"
