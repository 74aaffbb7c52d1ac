#!/bin/sh
# Runs a test in a network namespace of its own, with only loopback up.
# Integration tests bind fixed 127.0.0.x:5060 "PCs" (the seed's LAN), and
# meson runs two tests at once: in one namespace each, two tests that use
# the same addresses cannot take each other's ports or packets. Where a
# namespace cannot be made (not root, or no unshare), the test runs as it
# is, as before.
# usage: own-netns.sh PROGRAM ARGS...
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v ip >/dev/null &&
  unshare --net true 2>/dev/null; then
  exec unshare --net -- sh -c 'ip link set lo up && exec "$@"' own-netns "$@"
fi
exec "$@"
