#!/bin/sh
# Runs a command with a LAN of its own for DNS-SD: in the test's own network
# namespace (tests/tools/own-netns.sh) a veth pair, 198.18.1.1/24 on vsp0, a
# private system bus (DBUS_SYSTEM_BUS_ADDRESS) and an avahi-daemon on vsp0
# with a private /run (mount namespace). Everything it starts is stopped by
# PID when the command ends. Needs root and an empty namespace; else skips (77).
# usage: with-avahi.sh COMMAND ARGS...
set -u
for tool in ip dbus-daemon avahi-daemon unshare; do
  command -v "$tool" >/dev/null 2>&1 || { echo "skipping: $tool is missing"; exit 77; }
done
if [ "$(id -u)" != 0 ] || [ "$(ip -o link show | wc -l)" != 1 ]; then
  echo "skipping: needs root in a network namespace of its own (tests/tools/own-netns.sh)"
  exit 77
fi
W=$(mktemp -d /tmp/softphone-avahi.XXXXXX)
DBUS=
AVAHI=
cleanup() {
  [ -n "$AVAHI" ] && kill "$AVAHI" 2>/dev/null && wait "$AVAHI" 2>/dev/null
  [ -n "$DBUS" ] && kill "$DBUS" 2>/dev/null && wait "$DBUS" 2>/dev/null
  ip link del vsp0 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT
ip link add vsp0 type veth peer name vsp1 &&
  ip addr add 198.18.1.1/24 dev vsp0 &&
  ip link set vsp0 up && ip link set vsp1 up || exit 1
cat >"$W/bus.conf" <<CONF
<busconfig><type>system</type><listen>unix:path=$W/system_bus_socket</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow own="*"/><allow send_type="method_call"/>
<allow send_destination="*"/><allow receive_sender="*"/></policy>
<includedir>/usr/share/dbus-1/system.d</includedir></busconfig>
CONF
printf '[server]\nhost-name=guipc\nuse-ipv6=no\nallow-interfaces=vsp0\n[publish]\npublish-hinfo=no\npublish-workstation=no\n' >"$W/avahi.conf"
dbus-daemon --config-file="$W/bus.conf" --nofork >"$W/dbus.log" 2>&1 &
DBUS=$!
for _ in $(seq 50); do [ -S "$W/system_bus_socket" ] && break; sleep 0.1; done
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$W/system_bus_socket"
# unshare and sh exec: the PID is avahi-daemon's.
unshare -m --propagation private sh -c 'mount -t tmpfs -o mode=755 sp-run /run &&
  mkdir /run/avahi-daemon && exec avahi-daemon --no-drop-root --no-chroot --no-rlimits -f "$1"' \
  sh "$W/avahi.conf" >"$W/avahi.log" 2>&1 &
AVAHI=$!
for _ in $(seq 100); do
  grep -q "Server startup complete" "$W/avahi.log" && break
  sleep 0.1
done
grep -q "Server startup complete" "$W/avahi.log" || { echo "avahi-daemon did not start:"; cat "$W/avahi.log"; exit 1; }
"$@"
status=$?
exit $status
