#!/usr/bin/python3
"""Call pickup through the mini-server (issue 17): three and four of our headless
phones on the seed's LAN (server 127.0.0.50, u1 127.0.0.183, u2 127.0.0.101, u3
127.0.0.102, u4 127.0.0.103). u1 calls 2 (u2 rings), u3 dials **2 (the headless
`pickup 2` command): u1 and u3 talk with tones checked both ways through the relay,
u2 stops ringing and ends its call as "Answered elsewhere" (no missed call in its
history). Nothing ringing: the picker gets 480 "Nothing Ringing". Two pickers at
once: one wins, the other gets 480 "Already Picked Up".

Usage: server-pickup.py SOFTPHONE [TEST...]   (prints TAP)
Every wait is bounded; only the processes started here are stopped, by PID.
"""
import glob
import json
import os
import queue
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import headless  # noqa: E402
from headless import make_tone  # noqa: E402
from server import (SERVER, TONE_A, TONE_B, U1, U2, U3, ROUTES, Server, check_tones,  # noqa: E402
                    cleanup, phone)

U4 = "127.0.0.103"
USERS = ("[general]\nauth=100\n[u1]\npassword=p1\n[u2]\npassword=p2\n[u3]\npassword=p3\n"
         "[u4]\npassword=p4\n")


def history(inst):
    """The records of @inst's call history file (JSON lines)."""
    records = []
    for path in glob.glob(os.path.join(inst.dir, "**", "calls.jsonl"), recursive=True):
        with open(path) as f:
            records += [json.loads(line) for line in f if line.strip()]
    return records


def first_of(inst, names, timeout=headless.WAIT):
    """The first event of @inst among @names (taken), whichever comes first."""
    for ev in inst.seen:
        if not ev.get("_taken") and ev.get("event") in names:
            ev["_taken"] = True
            return ev
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            ev = inst.events.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            continue
        inst.seen.append(ev)
        if ev.get("event") in names:
            ev["_taken"] = True
            return ev
        if ev.get("event") == "_eof":
            break
    raise AssertionError("%s: none of %s (seen: %s)" % (inst.name, names, inst.seen[-8:]))


def ring_u2(srv, u1, u2):
    """u1 calls 2; returns once u2 rings and u1 hears it ringing."""
    u1.send("call 2")
    u2.wait("incoming")
    u1.wait("ringing")
    srv.wait("server_call", caller="u1", callee="u2")


def test_pickup_talk():
    """u1 calls 2, u3 picks up with `pickup 2`: u1 and u3 established, tones both
    ways through the relay, u2 ends as "Answered elsewhere" (code 200) and its
    history keeps no missed call; u3 hangs up and u1's call ends too."""
    srv = u1 = u2 = u3 = None
    tmp = tempfile.mkdtemp(prefix="sp-pickup-tones-")
    try:
        c_in, p_in = os.path.join(tmp, "c.wav"), os.path.join(tmp, "p.wav")
        c_out, p_out = os.path.join(tmp, "c-out.wav"), os.path.join(tmp, "p-out.wav")
        make_tone(c_in, TONE_A)
        make_tone(p_in, TONE_B)
        srv = Server("srv", users=USERS, routes=ROUTES)
        u2 = phone("u2", U2, "u2", "p2")
        u2.wait("registered")
        u1 = phone("u1", U1, "u1", "p1", ["--audio-in", c_in, "--audio-out", c_out])
        u1.wait("registered")
        u3 = phone("u3", U3, "u3", "p3", ["--audio-in", p_in, "--audio-out", p_out])
        u3.wait("registered")
        ring_u2(srv, u1, u2)
        u3.send("pickup 2")
        dialing = u3.wait("dialing")
        assert "**2" in dialing["to"], dialing
        u3.wait("established")
        u1.wait("established")
        ended = u2.wait("ended")
        assert (ended["reason"], ended["code"]) == ("Answered elsewhere", 200), ended
        time.sleep(3)
        u3.send("hangup")
        u3.wait("ended")
        c_end = u1.wait("ended")
        assert c_end["reason"] == "Remote hangup", c_end
        srv.wait("server_call_ended", status=200)
        for p in (u1, u2, u3):
            p.quit()
        outcomes = [r.get("outcome") for r in history(u2)]
        print("# u2's history: %s" % outcomes, flush=True)
        assert outcomes == ["answered-elsewhere"], outcomes
        check_tones(c_out, p_out, "pickup")
        srv.quit()
    finally:
        cleanup(u1, u2, u3, srv)
        shutil.rmtree(tmp, ignore_errors=True)


def test_pickup_nothing_ringing():
    """`pickup 2` with nothing ringing at u2: 480 "Nothing Ringing"; `pickup 99`
    (no such user): 404; no call is left on the server."""
    srv = u2 = u3 = None
    try:
        srv = Server("srv", users=USERS, routes=ROUTES)
        u2 = phone("u2", U2, "u2", "p2")
        u2.wait("registered")
        u3 = phone("u3", U3, "u3", "p3")
        u3.wait("registered")
        u3.send("pickup 2")
        ended = u3.wait("ended")
        assert (ended["code"], ended["reason"]) == (480, "Nothing Ringing"), ended
        u3.send("pickup 99")
        ended = u3.wait("ended")
        assert ended["code"] == 404, ended
        u3.send("pickup bad@address")
        u3.wait("error")
        assert not [e for e in u2.seen if e.get("event") == "incoming"], u2.seen
        u3.send("status")
        calls = u3.wait("status")["calls"]
        assert all(c["state"] == "ended" for c in calls), calls
    finally:
        cleanup(u2, u3, srv)


def test_pickup_race():
    """u3 and u4 both `pickup 2` at once while u2 rings: exactly one is connected
    with u1, the other's call ends 480 "Already Picked Up"."""
    srv = u1 = u2 = u3 = u4 = None
    try:
        srv = Server("srv", users=USERS, routes=ROUTES)
        u2 = phone("u2", U2, "u2", "p2")
        u2.wait("registered")
        u1 = phone("u1", U1, "u1", "p1")
        u1.wait("registered")
        u3 = phone("u3", U3, "u3", "p3")
        u3.wait("registered")
        u4 = phone("u4", U4, "u4", "p4")
        u4.wait("registered")
        ring_u2(srv, u1, u2)
        u3.send("pickup 2")
        u4.send("pickup 2")
        u1.wait("established")
        assert u2.wait("ended")["reason"] == "Answered elsewhere"
        results = {p.name: first_of(p, ("established", "ended")) for p in (u3, u4)}
        kinds = sorted(e["event"] for e in results.values())
        print("# pickers: %s" % {k: (v["event"], v.get("reason")) for k, v in results.items()},
              flush=True)
        assert kinds == ["ended", "established"], results
        loser = [e for e in results.values() if e["event"] == "ended"][0]
        assert (loser["code"], loser["reason"]) == (480, "Already Picked Up"), loser
        u1.send("hangup")
        u1.wait("ended")
        srv.wait("server_call_ended", status=200)
    finally:
        cleanup(u1, u2, u3, u4, srv)


def test_pickup_caps():
    """Pickup is no way round the call caps: with max-calls-per-user=1, u3 (already
    in a call it placed, ringing at u4) dials **2 while u2 rings and gets 503 "Too
    Many Calls"; u2 keeps ringing and u1's call is not taken. Once u3's own call is
    gone, the same pickup connects u3 with u1."""
    srv = u1 = u2 = u3 = u4 = None
    try:
        srv = Server("srv", users=USERS, routes=ROUTES,
                     extra=["--server-option", "max-calls-per-user=1"])
        u2 = phone("u2", U2, "u2", "p2")
        u2.wait("registered")
        u4 = phone("u4", U4, "u4", "p4")
        u4.wait("registered")
        u1 = phone("u1", U1, "u1", "p1")
        u1.wait("registered")
        u3 = phone("u3", U3, "u3", "p3")
        u3.wait("registered")
        u3.send("call 74")
        u4.wait("incoming")
        srv.wait("server_call", caller="u3", callee="u4")
        ring_u2(srv, u1, u2)
        u3.send("pickup 2")
        ended = first_of(u3, ("established", "ended"))
        assert (ended["event"], ended.get("code"), ended.get("reason")) == \
            ("ended", 503, "Too Many Calls"), ended
        time.sleep(0.5)
        assert not [e for e in u2.seen if e.get("event") == "ended"], u2.seen
        assert not [e for e in u1.seen if e.get("event") == "established"], u1.seen
        # u3's own call ends: the pickup is within the cap now.
        u4.send("hangup")
        u4.wait("ended")
        first_of(u3, ("ended",))
        u3.send("pickup 2")
        u1.wait("established")
        assert first_of(u3, ("established", "ended"))["event"] == "established"
        assert u2.wait("ended")["reason"] == "Answered elsewhere"
        u1.send("hangup")
        u1.wait("ended")
        srv.wait("server_call_ended", status=200)
    finally:
        cleanup(u1, u2, u3, u4, srv)


TESTS = {
    "pickup-talk": test_pickup_talk,
    "pickup-nothing-ringing": test_pickup_nothing_ringing,
    "pickup-race": test_pickup_race,
    "pickup-caps": test_pickup_caps,
}


def main():
    headless.SOFTPHONE = sys.argv[1]
    return headless.run_tap(TESTS, sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
