#!/usr/bin/env bash
# The mini-server against Kamailio, same SIPp scenarios, same run
# (../shared/bench/kamailio/run.sh): REGISTER with digest (users u1..u1000,
# password pw<N>) and calls u1 -> server -> u2. Prints the sustained rates and
# our/Kamailio ratios (tools/best.py). Shortened sweeps: about 8 minutes.
#
#   bench/bench-server.sh [SOFTPHONE]      (default: build-release/app/softphone)
#
# Our server runs as `softphone --headless --server` on udp:127.0.0.1:5080
# with media direct (Kamailio relays no media either) and BYE not challenged
# (the scenario's BYE expects 200), and no caps on calls or transactions (SIPp
# runs every call from one address, which the default caps would refuse with
# 503). Loopback only; every process started here
# is stopped by its PID.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ANCHOR=${ANCHOR:-$HERE/../../shared/bench/kamailio}
[ -x "$ANCHOR/run.sh" ] || ANCHOR=/work/shared/bench/kamailio
SOFTPHONE=${1:-$HERE/../build-release/app/softphone}
WORK=$(mktemp -d /tmp/bench-server.XXXXXX)
export TMPDIR=$WORK
export REG_RATES=${REG_RATES:-"2000 4000 8000 12000 16000 20000"}
export REG_SECS=${REG_SECS:-4} REG_MIN_CALLS=${REG_MIN_CALLS:-4000}
export CALL_RATES=${CALL_RATES:-"250 500 1000 1500 2000 2500 3000 4000"}
export CALL_SECS=${CALL_SECS:-4} CALL_MIN_CALLS=${CALL_MIN_CALLS:-1000}
export REPEATS=${REPEATS:-1} REFINE=${REFINE:-0} SETTLE_S=${SETTLE_S:-2} FAIL_SETTLE_S=${FAIL_SETTLE_S:-8}
export INSTALL=0

{ for i in $(seq 1 1000); do printf '[u%d]\npassword=pw%d\n' "$i" "$i"; done; } > "$WORK/users.conf"
printf '[default]\n^2$=return;called=u2\n' > "$WORK/routes.conf"

"$SOFTPHONE" --headless --config-dir "$WORK/sp" --bind 127.0.0.1:5080 --server \
  --users "$WORK/users.conf" --routes "$WORK/routes.conf" \
  --server-option relay=off --server-option challenge-bye=off \
  --server-option max-calls=0 --server-option max-calls-per-source=0 \
  --server-option max-calls-per-user=0 --server-option max-transactions=0 \
  --server-option max-transactions-per-source=0 \
  > "$WORK/softphone.events" 2> "$WORK/softphone.log" < /dev/null &
SP=$!
trap 'kill $SP 2>/dev/null; wait $SP 2>/dev/null' EXIT
for _ in $(seq 1 50); do ss -lun | grep -q " 127.0.0.1:5080 " && break; sleep 0.2; done

# SIPp computes a digest's uri as sip:REMOTE_IP:PORT, not the Request-URI;
# our server refuses credentials whose uri is not the Request-URI
# (docs/SECURITY.md: they could have been computed for another request).
# The anchor's call scenario always calls u2, so our run's SIPp names it
# with -auth_uri (Kamailio's run is left as it is: it does not check).
mkdir -p "$WORK/bin"
cat > "$WORK/bin/sipp" <<'SHIM'
#!/bin/sh
case " $* " in
  *uac_call.xml*) exec /usr/bin/sipp "$@" -auth_uri "u2@127.0.0.1:5080" ;;
esac
exec /usr/bin/sipp "$@"
SHIM
chmod +x "$WORK/bin/sipp"
PATH="$WORK/bin:$PATH" TARGET=127.0.0.1:5080 KAMAILIO=0 SERVER_PIDS=$SP LABEL=softphone \
  "$ANCHOR/run.sh" | tail -n 3
kill $SP; wait $SP 2>/dev/null; trap - EXIT
"$ANCHOR/run.sh" | tail -n 3

K=$(ls -d "$WORK"/sipbench-results/*-kamailio | head -1)
S=$(ls -d "$WORK"/sipbench-results/*-softphone | head -1)
/usr/bin/python3 "$ANCHOR/tools/best.py" "$K" "$S"
echo "results: $WORK/sipbench-results"
