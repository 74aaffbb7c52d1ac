#!/usr/bin/python3
"""Lists the processes a test run left behind, and ends them.

tools/test puts SP_TEST_RUN=<unique mark> into its environment before it
starts anything; every process the run starts inherits it, including
daemons that detach into a session of their own and orphans that init
adopted, which a parent/child walk would miss. Once the tests are done,
any process whose environment still holds the mark is a leftover: this
waits a few seconds for stragglers that are on their way out, then prints
each one left (PID, parent, command line), ends them (SIGTERM, then
SIGKILL) so the machine stays clean, and writes one result line in the
format of meson's testlog.json for the closing summary.

usage: leftover-processes.py MARK RESULT_FILE"""

import json
import os
import signal
import sys
import time

MARK = sys.argv[1]
RESULT = sys.argv[2]
GRACE_S = 5


def ancestors():
    """This process and its parents: they carry the mark and are not leftovers."""
    pids, pid = set(), os.getpid()
    while pid > 1 and pid not in pids:
        pids.add(pid)
        try:
            with open("/proc/%d/stat" % pid) as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return pids


def marked():
    """{pid: (ppid, command line)} of the live processes with the mark."""
    needle = ("SP_TEST_RUN=%s" % MARK).encode()
    skip = ancestors()
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in skip:
            continue
        pid = int(name)
        try:
            with open("/proc/%d/environ" % pid, "rb") as f:
                if needle not in f.read().split(b"\0"):
                    continue
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if fields[0] == "Z":  # already dead, only waiting for its parent
                continue
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except (OSError, IndexError):
            continue  # gone meanwhile, or not ours to read
        found[pid] = (int(fields[1]), cmd or "?")
    return found


def end(pids):
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and any(p in marked() for p in pids):
            time.sleep(0.1)


def main():
    deadline = time.monotonic() + GRACE_S
    left = marked()
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = marked()
    if left:
        print("FAIL  %d process(es) the tests started are still running:" % len(left))
        for pid, (ppid, cmd) in sorted(left.items()):
            print("      pid %d (parent %d): %s" % (pid, ppid, cmd[:300]))
        end(list(left))
    result = {"name": "no-leftover-processes", "result": "FAIL" if left else "OK",
              "stdout": "\n".join("%d %s" % (p, c) for p, (_, c) in sorted(left.items()))}
    with open(RESULT, "w") as f:
        f.write(json.dumps(result) + "\n")
    return 1 if left else 0


sys.exit(main())
