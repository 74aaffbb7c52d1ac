#!/usr/bin/env bash
# REGISTER over TLS: our mini-server against Kamailio with TLS (Debian's
# kamailio-tls-modules), same client, same run (issue 16's figure). Persistent
# TLS connections as phones keep them: CONNS connections, one user each
# (u1..u<CONNS>, password pw<N>), each looping REGISTER -> 401 -> REGISTER with
# digest -> 200 for SECONDS. Debian 12's SIPp is built without TLS (`sipp -v`
# says "v3.6.1-SCTP-PCAP-RTPSTREAM", and it has no `-t l1`/`-t ln`), so the
# client is bench/tls-register-load.c (GnuTLS, one thread per connection),
# compiled here.
#
#   bench/bench-tls-register.sh [SOFTPHONE]   (default: build-release/app/softphone)
#   CONNS=50 RUN_S=10 ROUNDS=3 bench/bench-tls-register.sh
#
# Prints per server and round: registrations per second, server CPU seconds
# per 1000 REGISTERs (utime+stime of every process of the server, from /proc,
# over the client's run; Kamailio's workers included), and the ratios
# ours/Kamailio. The client shares the machine's cores with the server, so
# the rate is a closed-loop figure of this machine; CPU per 1000 is the
# comparable one. Our server: `softphone --headless --server` on
# 127.0.0.1:5080 (TLS 5081, its own certificate), no caps on TCP
# connections; Kamailio: ../shared/bench/kamailio/kamailio.cfg (the UDP
# bench's registrar, realm "lan", u1..u1000/pw<N>) with TLS on
# 127.0.0.1:5071 and a certificate made here, NCHILDREN TLS workers.
# Loopback only; every process started here is stopped by its PID (Kamailio
# by its own process group).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ANCHOR=${ANCHOR:-$HERE/../../shared/bench/kamailio}
[ -f "$ANCHOR/kamailio.cfg" ] || ANCHOR=/work/shared/bench/kamailio
SOFTPHONE=${1:-$HERE/../build-release/app/softphone}
CONNS=${CONNS:-50}
SECONDS_RUN=${RUN_S:-10}
ROUNDS=${ROUNDS:-3}
MAX=${MAX:-2000000}
NCHILDREN=${NCHILDREN:-4}
WORK=$(mktemp -d /tmp/bench-tls-register.XXXXXX)
SP=""
KAM=""

cleanup () {
  [ -n "$SP" ] && kill "$SP" 2>/dev/null && wait "$SP" 2>/dev/null
  [ -n "$KAM" ] && kill -TERM -- "-$KAM" 2>/dev/null && wait "$KAM" 2>/dev/null
  SP=""
  KAM=""
}
trap cleanup EXIT

cc -O2 -Wall -o "$WORK/tls-register-load" "$HERE/tls-register-load.c" \
  $(pkg-config --cflags --libs gnutls) -lpthread || exit 1

# CPU seconds (utime + stime) of every process in process group $1, or of
# process $1 alone with $2 = "pid".
cpu_of () {
  local tick
  tick=$(getconf CLK_TCK)
  if [ "${2:-}" = pid ]; then
    awk -v t="$tick" '{ sub(/^.*\) /, ""); print ($12 + $13) / t }' "/proc/$1/stat"
  else
    cat /proc/[0-9]*/stat 2>/dev/null | awk -v g="$1" -v t="$tick" '
      { line = $0; sub(/^.*\) /, "", line); split(line, f, " ");
        if (f[3] == g) s += f[12] + f[13] } END { printf "%.2f\n", s / t }'
  fi
}

# One round against $1 (host) $2 (port), CPU of $3 ($4: "pid" or "group"):
# prints "rate cpu_per_1000 ok failed".
round () {
  local before after out ok failed secs
  before=$(cpu_of "$3" "$4")
  out=$("$WORK/tls-register-load" "$1" "$2" "$CONNS" "$SECONDS_RUN" "$MAX")
  after=$(cpu_of "$3" "$4")
  ok=$(echo "$out" | awk '{ print $2 }')
  failed=$(echo "$out" | awk '{ print $4 }')
  secs=$(echo "$out" | awk '{ print $6 }')
  awk -v ok="$ok" -v f="$failed" -v s="$secs" -v b="$before" -v a="$after" \
    'BEGIN { printf "%.0f %.3f %d %d\n", ok / s, ok ? (a - b) * 1000 / ok : 0, ok, f }'
}

wait_tcp () {
  for _ in $(seq 1 50); do ss -ltn | grep -q " $1 " && return 0; sleep 0.2; done
  echo "nothing listens on $1" >&2
  return 1
}

# ---- our server ----
{ for i in $(seq 1 1000); do printf '[u%d]\npassword=pw%d\n' "$i" "$i"; done; } > "$WORK/users.conf"
"$SOFTPHONE" --headless --config-dir "$WORK/sp" --bind 127.0.0.1:5080 --tls-port 5081 --server \
  --users "$WORK/users.conf" --server-option max-tcp=0 --server-option max-tcp-per-address=0 \
  > "$WORK/softphone.events" 2> "$WORK/softphone.log" < /dev/null &
SP=$!
wait_tcp 127.0.0.1:5081 || exit 1

# ---- Kamailio with TLS ----
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
  -keyout "$WORK/kam-key.pem" -out "$WORK/kam-cert.pem" 2> /dev/null || exit 1
cat > "$WORK/tls.cfg" <<EOF
[server:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
private_key = $WORK/kam-key.pem
certificate = $WORK/kam-cert.pem
EOF
# The UDP bench's configuration, with TLS workers and a TLS listener.
sed -e "s|^disable_tcp=yes|enable_tls=yes\ntcp_children=NCHILDREN\nlisten=tls:127.0.0.1:5071|" \
    -e "s|^loadmodule \"auth.so\"|&\nloadmodule \"tls.so\"\nmodparam(\"tls\", \"config\", \"$WORK/tls.cfg\")|" \
    "$ANCHOR/kamailio.cfg" > "$WORK/kamailio.cfg"
mkdir -p "$WORK/run"
setsid kamailio -f "$WORK/kamailio.cfg" -P "$WORK/run/kamailio.pid" -Y "$WORK/run" -DD -E \
  -A "NCHILDREN=$NCHILDREN" > "$WORK/kamailio.log" 2>&1 < /dev/null &
KAM=$!
wait_tcp 127.0.0.1:5071 || { tail -20 "$WORK/kamailio.log"; exit 1; }
sleep 1

echo "REGISTER over TLS, $CONNS persistent connections, ${SECONDS_RUN} s a round, $ROUNDS rounds"
echo "softphone $("$SOFTPHONE" --version 2>/dev/null | head -1), $(kamailio -v | head -1) ($NCHILDREN TLS workers)"
printf '%-10s %5s %8s %14s %9s %7s\n' server round "reg/s" "cpu_s/1000" ok failed
for r in $(seq 1 "$ROUNDS"); do
  read -r rate cpu ok failed < <(round 127.0.0.1 5081 "$SP" pid)
  printf '%-10s %5d %8s %14s %9s %7s\n' softphone "$r" "$rate" "$cpu" "$ok" "$failed"
  echo "softphone $rate $cpu" >> "$WORK/results"
  read -r rate cpu ok failed < <(round 127.0.0.1 5071 "$KAM" group)
  printf '%-10s %5d %8s %14s %9s %7s\n' kamailio "$r" "$rate" "$cpu" "$ok" "$failed"
  echo "kamailio $rate $cpu" >> "$WORK/results"
done
awk '{ n[$1]++; rate[$1] += $2; cpu[$1] += $3 }
  END { rs = rate["softphone"] / n["softphone"]; rk = rate["kamailio"] / n["kamailio"];
        cs = cpu["softphone"] / n["softphone"]; ck = cpu["kamailio"] / n["kamailio"];
        printf "mean: softphone %.0f reg/s %.3f cpu_s/1000, kamailio %.0f reg/s %.3f cpu_s/1000\n", rs, cs, rk, ck;
        printf "ratio ours/Kamailio: rate %.2f, CPU per 1000 REGISTERs %.2f\n", rs / rk, cs / ck }' \
  "$WORK/results"
cleanup
echo "logs: $WORK"
