#!/bin/sh
# The longest main-loop stall while calls start, hold, resume and end
# (bench-mainloop-stall), for this build and, with --before, for a build
# of an older tree, in the same session: the runs alternate (after,
# before, after, ...) so both meet the same load on a shared machine.
#
# usage: bench/bench-mainloop-stall.sh BUILD_DIR [--before BASE_BUILD_DIR]
#                                      [--alsa] [CALLS] [ROUNDS]
#   CALLS per run (default 10), ROUNDS runs of each build (default 3).
#   --alsa: both phones on real ALSA devices behind the private
#   PulseAudio of tests/tools/pulse-env.sh (SP_PULSE_FAR_END=1: A on
#   `default`, B on `far_mic`/`far_spk`), where opening a device takes
#   the sound server's time; else the null device.
# Each run prints its figures prefixed with `after_` or `before_` and the
# round; then the worst of each build over the rounds.
# Runs in a network namespace of its own (the phones bind 127.0.71.1/.2).
set -eu
HERE=$(dirname "$(readlink -f "$0")")
BUILD=$(readlink -f "$1")
shift
BEFORE="" ALSA=""
while [ $# -gt 0 ]; do
  case "$1" in
  --before) BEFORE=$(readlink -f "$2"); shift 2 ;;
  --alsa) ALSA=--alsa; shift ;;
  *) break ;;
  esac
done
CALLS=${1:-10} ROUNDS=${2:-3}
case "$CALLS$ROUNDS" in *[!0-9]*) echo "CALLS and ROUNDS are numbers" >&2; exit 2 ;; esac
[ "$ROUNDS" -ge 1 ] && [ "$ROUNDS" -le 20 ] || { echo "ROUNDS: 1 to 20" >&2; exit 2; }

run_one() { # LABEL BUILD ROUND
  if [ -n "$ALSA" ]; then
    SP_PULSE_FAR_END=1 "$HERE/../tests/tools/pulse-env.sh" \
      "$2/bench/bench-mainloop-stall" --alsa "$CALLS"
  else
    "$2/bench/bench-mainloop-stall" "$CALLS"
  fi | sed "s/^/$1_r$3_/"
}

if [ -z "${SP_STALL_IN_NETNS:-}" ]; then
  export SP_STALL_IN_NETNS=1
  set -- "$BUILD"
  [ -n "$BEFORE" ] && set -- "$@" --before "$BEFORE"
  [ -n "$ALSA" ] && set -- "$@" --alsa
  exec unshare --net -- sh -c 'ip link set lo up && exec "$@"' sh "$0" "$@" "$CALLS" "$ROUNDS"
fi

out=$(mktemp "${TMPDIR:-/tmp}/sp-stall.XXXXXX")
trap 'rm -f "$out"' EXIT
r=1
while [ "$r" -le "$ROUNDS" ]; do
  run_one after "$BUILD" "$r" | tee -a "$out"
  [ -n "$BEFORE" ] && run_one before "$BEFORE" "$r" | tee -a "$out"
  r=$((r + 1))
done
for label in after before; do
  grep -q "^${label}_" "$out" || continue
  for key in max_stall_ms start_max_stall_ms hold_max_stall_ms resume_max_stall_ms \
    end_max_stall_ms steps_p99_ms steps_p999_ms stalls_over_2ms; do
    awk -F= -v k="$key" -v l="$label" '
      $1 ~ "^" l "_r[0-9]+_" k "$" { if ($2 + 0 > m) m = $2 + 0; seen = 1 }
      END { if (seen) printf "%s_worst_%s=%s\n", l, k, m + 0 }' "$out"
  done
done
