#!/bin/sh
# run-fuzzer.sh FUZZER CORPUS_DIR [libFuzzer args and seed dirs...]
# Creates the writable corpus dir (libFuzzer adds new inputs to the first
# directory only, so the read-only seed dirs in the source tree come after it).
set -e
fuzzer=$1
corpus=$2
shift 2
mkdir -p "$corpus"
exec "$fuzzer" "$corpus" "$@"
