#!/usr/bin/python3
"""RFC 4028 session timers on a real peer through the mini-server: SIPp as
the callee (u2, on 127.0.0.68:5060) answers the server's INVITE with
Session-Expires: 90;refresher=uac, and our headless phone (u1) calls it
through `softphone --headless --server --server-option session-expires=90`.
The server must refresh the callee's leg (UPDATE at about 45 s and 90 s,
sipp/uas-session-timer.xml) so the call outlives its 90 s interval; the
caller then hangs up and SIPp gets the BYE. About 100 s.

Usage: server-session-timer.py SOFTPHONE   (prints TAP)
Only the processes started here are stopped, by PID.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import headless  # noqa: E402
import server  # noqa: E402
from server import U1, Server, RawSip, cleanup, phone, raw_register  # noqa: E402

SIPP_ADDR = "127.0.0.68"
SCENARIO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sipp",
                        "uas-session-timer.xml")


def register_at(addr, port, user, password):
    """u2's binding names SIPp's address: the REGISTER goes from that very
    address and port (then the socket is closed for SIPp to take it)."""
    raw = RawSip(addr)
    raw.sock.close()
    raw.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    raw.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    raw.sock.bind((addr, port))
    raw.sock.settimeout(server.WAIT)
    raw.port = port
    try:
        return raw_register(raw, user, password)[0]
    finally:
        raw.close()


def test_sipp_callee_refreshed():
    if not shutil.which("sipp"):
        raise headless.Skip("sipp not installed")
    srv = u1 = sipp = None
    log = tempfile.mkdtemp(prefix="sp-sipp-st-")
    try:
        srv = Server("srv", extra=["--server-option", "session-expires=90"])
        assert register_at(SIPP_ADDR, 5060, "u2", "p2") == 200
        srv.wait("server_registered", user="u2")
        sipp = subprocess.Popen(
            # -rtp_echo: the caller hears its own RTP back (else its media
            # timeout ends the call at 30 s).
            ["sipp", "-sf", SCENARIO, "-i", SIPP_ADDR, "-p", "5060", "-m", "1", "-nostdin",
             "-nd", "-rtp_echo", "-mp", "6000", "-trace_err", "-error_file",
             os.path.join(log, "err"), "-trace_msg", "-message_file", os.path.join(log, "msg"),
             "-timeout", "150", "-timeout_error"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(0.5)
        assert sipp.poll() is None, sipp.stderr.read()
        u1 = phone("u1", U1, "u1", "p1")
        u1.wait("registered")
        u1.send("call 2")
        u1.wait("established")
        t0 = time.monotonic()
        # Past the interval (90 s) and the second refresh; an expired leg
        # would have ended the call at 60 s.
        ended = None
        try:
            ended = u1.wait("ended", timeout=96)
        except AssertionError as e:
            if "no ended event" not in str(e):
                raise
        assert ended is None, "the call ended after %.0f s: %r" % (time.monotonic() - t0, ended)
        u1.send("hangup")
        u1.wait("ended")
        try:
            _, err = sipp.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            sipp.kill()
            _, err = sipp.communicate()
        detail = err.decode(errors="replace")
        for name in ("err",):
            path = os.path.join(log, name)
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    detail += f.read()
        assert sipp.returncode == 0, "sipp rc=%s\n%s" % (sipp.returncode, detail)
        srv.wait("server_call_ended")
    except Exception:
        if srv is not None:
            sys.stdout.write("".join("# " + ln + "\n" for ln in srv.log().splitlines()[-40:]))
        if sipp is not None and sipp.poll() is not None and not sipp.stderr.closed:
            sys.stdout.write("# sipp rc=%s %s\n" % (sipp.returncode, sipp.stderr.read()[-2000:]))
        if srv is not None:
            sys.stdout.write("# server events: %r\n" % srv.seen[-10:])
        path = os.path.join(log, "msg")
        if os.path.exists(path):
            with open(path, errors="replace") as f:
                sys.stdout.write("".join("# " + ln + "\n" for ln in f.read().splitlines()[-60:]))
        raise
    finally:
        if sipp is not None and sipp.poll() is None:
            sipp.kill()
            sipp.wait()
        cleanup(u1, srv)
        shutil.rmtree(log, ignore_errors=True)


TESTS = {
    "sipp-callee-refreshed": test_sipp_callee_refreshed,
}


def main():
    headless.SOFTPHONE = sys.argv[1]
    return headless.run_tap(TESTS, sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
