#!/usr/bin/env bash
# Presence on the mini-server (issue 17, "Limits"): 200 users, 200 watchers
# each subscribed to 200 colleagues' presence (40 000 subscriptions, digest on
# every SUBSCRIBE), then the server's CPU as % of one core:
#   steady : nothing changes for STEADY_S seconds (the goal: under 5 %)
#   churn  : CHURN_RATE users a second go offline and come back (each change
#            is a NOTIFY to its 200 watchers)
# The subscribers are bench/presence-load.py (raw UDP; see there why not SIPp).
#
#   bench/bench-presence.sh [SOFTPHONE]   (default: build-release/app/softphone)
#
# Runs in a private network namespace when it can (unshare), on 127.0.0.50
# (server) and 127.0.0.60 (watchers); transaction caps are off (all watchers
# come from one address). Bounded: the load script stops by itself (at most
# 10 minutes); the server is stopped by its PID.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SOFTPHONE=$(realpath "${1:-$HERE/../build-release/app/softphone}")
USERS=${USERS:-200} WATCHERS=${WATCHERS:-200} CONTACTS=${CONTACTS:-200}
STEADY_S=${STEADY_S:-20} CHURN_S=${CHURN_S:-10} CHURN_RATE=${CHURN_RATE:-2}
SETTLE_S=${SETTLE_S:-35}

if [ -z "${BENCH_PRESENCE_NETNS:-}" ] && unshare --net true 2>/dev/null; then
  exec env BENCH_PRESENCE_NETNS=1 unshare --net -- sh -c \
    'ip link set lo up && exec "$0" "$@"' "$0" "$SOFTPHONE"
fi

WORK=$(mktemp -d /tmp/bench-presence.XXXXXX)
{ for i in $(seq 1 "$USERS"); do printf '[u%d]\npassword=pw%d\n' "$i" "$i"; done; } > "$WORK/users.conf"
"$SOFTPHONE" --headless --config-dir "$WORK/sp" --bind 127.0.0.50:5060 --server \
  --users "$WORK/users.conf" --server-option max-transactions=0 \
  --server-option max-transactions-per-source=0 \
  > "$WORK/softphone.events" 2> "$WORK/softphone.log" < /dev/null &
SP=$!
trap 'kill $SP 2>/dev/null; wait $SP 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 50); do grep -q '"ready"' "$WORK/softphone.events" && break; sleep 0.2; done

HZ=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SP/stat"; }
declare -A T C
while read -r line; do
  echo "$line"
  case "$line" in
    "PHASE steady"*) RSS_STEADY=$(awk '/VmRSS/ {print $2, $3}' "/proc/$SP/status") ;;&
    PHASE*)
      name=${line#PHASE }; name=${name%% *}
      T[$name]=$(date +%s.%N); C[$name]=$(cpu_ticks) ;;
  esac
done < <(timeout 600 python3 "$HERE/presence-load.py" 127.0.0.50 5060 "$USERS" "$WATCHERS" \
           "$CONTACTS" "$STEADY_S" "$CHURN_S" "$CHURN_RATE" 127.0.0.60 "$SETTLE_S")

pct() { # from-phase to-phase
  echo "${C[$2]} ${C[$1]} ${T[$2]} ${T[$1]} $HZ" |
    awk '{ printf "%.2f", 100 * ($1 - $2) / $5 / ($3 - $4) }'
}
echo "server CPU, % of one core: setup $(pct setup settle), settle $(pct settle steady)," \
     "steady $(pct steady churn)" \
     "(goal < 5), churn $(pct churn end) ($CHURN_RATE users/s offline and back," \
     "$WATCHERS watchers each)"
echo "server RSS: ${RSS_STEADY:-?} at steady state, $(awk '/VmRSS/ {print $2, $3}' /proc/$SP/status) at the end"
