#!/bin/sh
# Runs a GUI test: Xvfb, a private D-Bus session, the accessibility bus,
# the real app with hermetic settings, then the pyatspi script.
# usage: run-gui-test.sh SOFTPHONE SCRIPT OUTDIR SCHEMA_DIR [LANGUAGE [SCRIPT ARGS...]]
set -eu
SOFTPHONE=$1 SCRIPT=$2 OUTDIR=$3 SCHEMA_DIR=$4 UI_LANGUAGE=${5:-C}

for tool in xvfb-run dbus-run-session import /usr/libexec/at-spi-bus-launcher; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "skipping: $tool is missing (tools/setup --test installs it)"
    exit 77
  fi
done
if ! /usr/bin/python3 -c 'import pyatspi' 2>/dev/null; then
  echo "skipping: python3-pyatspi is missing"
  exit 77
fi

if [ -z "${SP_GUI_INNER:-}" ]; then
  export SP_GUI_INNER=1
  # A private, clocked PulseAudio behind ALSA's default device when there
  # is one, so the test can hear the ring tone; without it the app runs
  # with no sound card and says so.
  PULSE_ENV=$(dirname "$0")/../tools/pulse-env.sh
  # No service of the machine's can start on the test's bus (no portal:
  # file choosers stay in the app, where AT-SPI reaches them).
  BUS_CONF=$(cd "$(dirname "$0")" && pwd)/session-bus.conf
  # -noreset: at-spi-bus-launcher connects to the display and leaves at
  # once; an X server that resets when its last client leaves refuses a
  # client that connects during the reset, and the app then fails with
  # "cannot open display" (seen about one suite run in three; reproduced
  # with xdpyinfo racing a reset, never with -noreset).
  if command -v pulseaudio >/dev/null 2>&1 && [ -x "$PULSE_ENV" ]; then
    exec "$PULSE_ENV" xvfb-run -a -s "-screen 0 1280x800x24 -noreset" dbus-run-session --config-file="$BUS_CONF" -- "$0" "$@"
  fi
  exec xvfb-run -a -s "-screen 0 1280x800x24 -noreset" dbus-run-session --config-file="$BUS_CONF" -- "$0" "$@"
fi

shift 4
if [ $# -gt 0 ]; then shift; fi
SCRIPT_ARGS="$*"

TMP=$(mktemp -d /tmp/softphone-gui.XXXXXX)
mkdir -p "$TMP/config/glib-2.0/settings" "$TMP/state" "$OUTDIR"
# Settings from a key file in the temporary config dir: hermetic like the
# memory backend, but lets the test put the phone on a loopback address.
cat > "$TMP/config/glib-2.0/settings/keyfile" <<KEYS
[net/example/softphone]
sip-bind='127.0.77.1:5060'
web-console-address='127.0.77.1:0'
KEYS
# The first-run welcome only for the tests of it (SP_GUI_WELCOME=1).
if [ -z "${SP_GUI_WELCOME:-}" ]; then
  echo "welcome-done=true" >>"$TMP/config/glib-2.0/settings/keyfile"
fi
export XDG_CONFIG_HOME="$TMP/config" XDG_STATE_HOME="$TMP/state" XDG_DATA_HOME="$TMP/data"
export GSETTINGS_BACKEND=keyfile GSETTINGS_SCHEMA_DIR="$SCHEMA_DIR"
export GTK_A11Y=atspi LANGUAGE="$UI_LANGUAGE" LC_ALL=C.UTF-8
# GTK and fontconfig keep caches for the process lifetime; leak reports
# from them would drown real ones, and the app is not what leaks here.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"

/usr/libexec/at-spi-bus-launcher --launch-immediately &
BUS=$!
sleep 1
LOG="$OUTDIR/gui-app-$(basename "$SCRIPT" .py)-${SCRIPT_ARGS:-$UI_LANGUAGE}.log"
# SP_GUI_HOLD_PORT=ADDR:PORT: another SIP program holds that port (UDP
# and TCP) before the app starts, until the test ends.
HOLDER=
if [ -n "${SP_GUI_HOLD_PORT:-}" ]; then
  /usr/bin/python3 -c '
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((host, int(port)))
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM); t.bind((host, int(port))); t.listen(1)
print("held", flush=True)
time.sleep(600)
' "$SP_GUI_HOLD_PORT" >"$OUTDIR/holder.log" 2>&1 &
  HOLDER=$!
  for _ in 1 2 3 4 5 6 7 8 9 10; do grep -q held "$OUTDIR/holder.log" && break; sleep 0.2; done
fi
# SP_GUI_OWN_CONFIG_DIR=1: the app gets --config-dir of its own (no
# welcome), named to the script in SP_GUI_CONFIG_DIR.
if [ -n "${SP_GUI_OWN_CONFIG_DIR:-}" ]; then
  export SP_GUI_CONFIG_DIR="$TMP/own-config"
  mkdir -p "$SP_GUI_CONFIG_DIR"
  printf '[net/example/softphone]\nwelcome-done=true\n' >"$SP_GUI_CONFIG_DIR/settings.ini"
  SP_GUI_APP_ARGS="${SP_GUI_APP_ARGS:-} --config-dir $SP_GUI_CONFIG_DIR"
fi
# shellcheck disable=SC2086 # SP_GUI_APP_ARGS: the app's options, split on purpose
"$SOFTPHONE" ${SP_GUI_APP_ARGS:-} >"$LOG" 2>&1 &
APP=$!
status=0
# shellcheck disable=SC2086 # the script's own arguments, split on purpose
/usr/bin/python3 "$SCRIPT" "$OUTDIR" "$XDG_CONFIG_HOME" "$SOFTPHONE" $SCRIPT_ARGS || status=$?
if ! kill -0 "$APP" 2>/dev/null; then
  echo "FAIL  the app exited during the test; its log:"; cat "$LOG"
  status=1
fi
kill "$APP" 2>/dev/null || true
# It hangs up and unregisters first (bounded by the phone); then make sure.
for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$APP" 2>/dev/null || break; sleep 0.5; done
kill -9 "$APP" 2>/dev/null || true
wait "$APP" 2>/dev/null || true
kill "$BUS" 2>/dev/null || true
if [ -n "$HOLDER" ]; then kill "$HOLDER" 2>/dev/null || true; wait "$HOLDER" 2>/dev/null || true; fi
if grep -E "CRITICAL|ERROR: AddressSanitizer|runtime error" "$LOG"; then
  echo "FAIL  the app logged criticals or sanitizer errors (above)"
  status=1
fi
# The app's stderr (and any sanitizer report) stays in OUTDIR as an
# artefact; on a failure its end is shown here too, so a crash seen once
# in CI can be read without a rerun.
if [ "$status" -ne 0 ]; then
  echo "----- the app's log ($LOG), last 200 lines -----"
  tail -n 200 "$LOG"
fi
rm -rf "$TMP"
exit $status
