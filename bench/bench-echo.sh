#!/bin/sh
# Echo return loss enhancement (ERLE) with double talk, over a real echo
# path: tests/integration/test-echo-alsa in its --bench mode, against the
# private PulseAudio server of tests/tools/pulse-env.sh. Each run is a
# pair of G.722 calls, cancellation off then on: the far end plays
# 1000 Hz, module-loopback feeds the near side's speaker (spk.monitor)
# back into its microphone (mic) 60 ms later at -18 dB, and the near end
# speaks 440 Hz in 300 ms bursts. After 2 s from the first captured audio,
# 4 s are measured in 100 ms blocks: ERLE is the median 1000 Hz power at
# the far end off over on; the near voice is its power in the loudest
# half of the blocks, on against off.
#
# usage: [SP_ECHO_BENCH_CODEC=pcmu] bench/bench-echo.sh BUILD_DIR [RUNS]
#   e.g. bench/bench-echo.sh build-test 5
# Runs in a network namespace of its own (root, or unshare's user
# namespaces), so its RTP ports on 127.0.0.1 meet no other test's.
set -eu
BUILD=$(readlink -f "$1") RUNS=${2:-3}
HERE=$(dirname "$(readlink -f "$0")")
export SP_ECHO_BENCH_RUNS="$RUNS"
exec unshare --net -- sh -c 'ip link set lo up &&
  exec "$0" "$1" --bench' "$HERE/../tests/tools/pulse-env.sh" "$BUILD/tests/integration/test-echo-alsa"
