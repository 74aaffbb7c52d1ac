#!/usr/bin/env bash
# Instructions per call through the mini-server, counted by callgrind: a
# figure that does not move with machine load, for comparing changes to
# the call path. Runs the shared SIPp call scenario
# (../shared/bench/kamailio/run.sh, call phase only) at a low rate
# against `softphone --headless --server` under valgrind, counting only
# the main loop's work on datagrams and timers (not start-up).
#
#   bench/profile-server.sh [SOFTPHONE]    (default: build-release/app/softphone)
#   CALLS=500 RATE=25 ...                  (about 30 s)
#
# Prints instructions per call; callgrind_annotate on the printed file
# shows where they go. Loopback only; the server is stopped by its PID.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ANCHOR=${ANCHOR:-$HERE/../../shared/bench/kamailio}
[ -x "$ANCHOR/run.sh" ] || ANCHOR=/work/shared/bench/kamailio
SOFTPHONE=${1:-$HERE/../build-release/app/softphone}
CALLS=${CALLS:-500} RATE=${RATE:-25}
command -v valgrind > /dev/null || { echo "valgrind is not installed" >&2; exit 1; }
WORK=$(mktemp -d /tmp/profile-server.XXXXXX)
export TMPDIR=$WORK INSTALL=0

{ for i in $(seq 1 1000); do printf '[u%d]\npassword=pw%d\n' "$i" "$i"; done; } > "$WORK/users.conf"
printf '[default]\n^2$=return;called=u2\n' > "$WORK/routes.conf"

valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out" --collect-atstart=no \
  --toggle-collect=udp_readable --toggle-collect=fire_due \
  "$SOFTPHONE" --headless --config-dir "$WORK/sp" --bind 127.0.0.1:5080 --server \
  --users "$WORK/users.conf" --routes "$WORK/routes.conf" \
  --server-option relay=off --server-option challenge-bye=off \
  --server-option max-calls=0 --server-option max-calls-per-source=0 \
  --server-option max-calls-per-user=0 --server-option max-transactions=0 \
  --server-option max-transactions-per-source=0 \
  > "$WORK/softphone.events" 2> "$WORK/softphone.log" < /dev/null &
SP=$!
trap 'kill $SP 2>/dev/null; wait $SP 2>/dev/null' EXIT
for _ in $(seq 1 100); do ss -lun | grep -q " 127.0.0.1:5080 " && break; sleep 0.2; done

TARGET=127.0.0.1:5080 KAMAILIO=0 SERVER_PIDS=$SP LABEL=softphone PHASES=call \
  CALL_RATES="$RATE" CALL_SECS=$(( (CALLS + RATE - 1) / RATE )) CALL_MIN_CALLS=$CALLS \
  REPEATS=0 REFINE=0 IDLE_S=0 SETTLE_S=0 FAIL_SETTLE_S=0 "$ANCHOR/run.sh" | grep -E 'ok='
sleep 1
kill $SP; wait $SP 2>/dev/null; trap - EXIT
ENDED=$(grep -c '"server_call_ended"' "$WORK/softphone.events")
TOTAL=$(callgrind_annotate "$WORK/callgrind.out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
echo "calls ended: $ENDED"
echo "instructions: $TOTAL"
[ "$ENDED" -gt 0 ] && echo "instructions_per_call=$((TOTAL / ENDED))"
echo "profile: $WORK/callgrind.out"
