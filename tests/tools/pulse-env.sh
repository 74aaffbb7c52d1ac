#!/usr/bin/env bash
# Runs a command against a private, clocked PulseAudio server, so the real
# alsa-lib path can be tested with no sound card (see TESTING.md, "Audio
# without a sound card"):
#
#   tests/tools/pulse-env.sh COMMAND [ARGS...]
#
# The server has two null sinks: "spk" (the default sink: what the command
# plays can be recorded from spk.monitor) and "mic" (its monitor is the
# default source: what is played with `paplay --device=mic` is what the
# command captures). ALSA's `default` and `pulse` devices go through the
# pulse plugin to this server.
#
# With SP_PULSE_FAR_END=1 the server also has a second "PC": null sinks
# "spk2" and "mic2", reached through the ALSA devices `far_spk` (plays into
# spk2) and `far_mic` (captures mic2.monitor), so two phones in one process
# each have a speaker and a microphone of their own. The command sees:
#   PULSE_SERVER, XDG_RUNTIME_DIR   the private server
#   ALSA_CONFIG_PATH                system config plus `default` -> pulse
#   SP_PULSE_DIR                    a scratch directory, removed afterwards
#   SP_PULSE_PID                    the server's PID (a test may kill it to
#                                   check what happens when audio goes away)
# Only that server is stopped, by its PID; the exit status is the command's.
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 COMMAND [ARGS...]" >&2
  exit 2
fi
for tool in pulseaudio pactl; do
  if ! command -v "$tool" >/dev/null; then
    echo "pulse-env: $tool is missing (apt-get install pulseaudio pulseaudio-utils)" >&2
    exit 77 # "skipped" for meson and automake
  fi
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/sp-pulse.XXXXXX")
server_pid=""
keepalive_pids=()

# Running and not yet a zombie (a test may have killed the server).
server_alive() {
  local state
  # The state letter follows the parenthesised command name; /proc rather
  # than ps, which a minimal system may not have.
  state=$(sed -n 's/^.*) \(.\).*$/\1/p' "/proc/$server_pid/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

cleanup() {
  for pid in "${keepalive_pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ -n "$server_pid" ] && server_alive; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do
      server_alive || break
      sleep 0.1
    done
    if server_alive; then
      kill -KILL "$server_pid" 2>/dev/null || true
    fi
  fi
  if [ -n "$server_pid" ]; then
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

sinks=(spk mic)
far_end_modules=()
if [ "${SP_PULSE_FAR_END:-0}" = 1 ]; then
  sinks+=(spk2 mic2)
  far_end_modules=(
    --load="module-null-sink sink_name=spk2 sink_properties=device.description=spk2"
    --load="module-null-sink sink_name=mic2 sink_properties=device.description=mic2"
  )
fi

mkdir -m 700 "$dir/run" "$dir/home"
# The server gets its own HOME too, so it never reads or writes the user's
# PulseAudio cookie and config.
HOME="$dir/home" XDG_RUNTIME_DIR="$dir/run" XDG_CONFIG_HOME="$dir/home/.config" \
  pulseaudio -n --daemonize=no --exit-idle-time=-1 --use-pid-file=false \
  --disallow-module-loading=false --log-target=file:"$dir/pulseaudio.log" \
  --load=module-native-protocol-unix \
  --load="module-null-sink sink_name=spk sink_properties=device.description=spk" \
  --load="module-null-sink sink_name=mic sink_properties=device.description=mic" \
  "${far_end_modules[@]}" \
  </dev/null >/dev/null 2>&1 &
server_pid=$!

export XDG_RUNTIME_DIR="$dir/run"
export PULSE_SERVER="unix:$dir/run/pulse/native"
export SP_PULSE_DIR="$dir"
export SP_PULSE_PID="$server_pid"

ready=no
for _ in $(seq 100); do
  if ! server_alive; then
    break
  fi
  if pactl info >/dev/null 2>&1; then
    ready=yes
    break
  fi
  sleep 0.1
done
if [ "$ready" != yes ]; then
  echo "pulse-env: the private PulseAudio server did not start; its log:" >&2
  cat "$dir/pulseaudio.log" >&2 || true
  exit 1
fi
pactl set-default-sink spk
pactl set-default-source mic.monitor
# An idle null sink sleeps in 2-second blocks, so a new stream would wait
# up to 2 s for its first period. A desktop's sinks run at the latency
# their clients ask for; a 10 ms stream of silence on each sink makes these
# do the same (silence adds nothing to what is mixed there).
for sink in "${sinks[@]}"; do
  pacat --playback --device="$sink" --latency-msec=40 --rate=8000 --channels=1 \
    --format=s16le --client-name="pulse-env keep-alive $sink" </dev/zero >/dev/null 2>&1 &
  keepalive_pids+=($!)
done
# Until the 2-second block the sinks were in has played out.
for _ in $(seq 40); do
  if pactl list sinks | awk -v want="${#sinks[@]}" '/^\s*Latency:/ { n++; if ($2 < 100000) ok++ }
                             END { exit !(n == want && ok == want) }'; then
    break
  fi
  sleep 0.1
done

# The system config first (it defines pcm.pulse), then ours, which makes
# `default` the pulse plugin whether or not the system's hook noticed a
# running server.
cat >"$dir/asound.conf" <<'CONF'
pcm.!default {
  type pulse
  hint {
    show on
    description "Default ALSA device (private PulseAudio test server)"
  }
}
ctl.!default {
  type pulse
}
CONF
if [ "${SP_PULSE_FAR_END:-0}" = 1 ]; then
  cat >>"$dir/asound.conf" <<'CONF'
pcm.far_spk {
  type pulse
  device "spk2"
}
pcm.far_mic {
  type pulse
  device "mic2.monitor"
}
CONF
fi
export ALSA_CONFIG_PATH="/usr/share/alsa/alsa.conf:$dir/asound.conf"

status=0
"$@" || status=$?
exit "$status"
