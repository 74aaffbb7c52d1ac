#!/usr/bin/python3
"""SIP over TLS between our own binaries (issue 16, first slice): a headless
server on 127.0.66.1 (TLS on 5061), phones u1 on 127.0.66.2 and u2 on
127.0.66.3 registered with sips: accounts; the wire on port 5061 is captured
with tshark; raw TCP peers for what a phone would never send.

Usage: tls.py SOFTPHONE [TEST...]   (prints TAP)
Every wait is bounded; only the processes started here are killed, by PID.
"""
import json
import os
import re
import shutil
import socket
import stat
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import headless  # noqa: E402
from headless import Instance, Skip, make_tone  # noqa: E402
from capture import Capture  # noqa: E402
from server import (TONE_A, TONE_B, Server, check_tones, cleanup, console_token,  # noqa: E402
                    free_tcp_port, http_request)

SRV = "127.0.66.1"
U1 = "127.0.66.2"
U2 = "127.0.66.3"
WAIT = 10.0
FP = re.compile(r"^([0-9A-F]{2}:){31}[0-9A-F]{2}$")


def phone(name, addr, user, password, extra=()):
    p = Instance(name, ["--bind", addr + ":5060", "--account",
                        "sips:%s:%s@%s" % (user, password, SRV)] + list(extra))
    p.wait("ready")
    return p


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_tls_call():
    """u1 calls u2 through the server, both registered over TLS: the
    registrations and the call's signalling go on port 5061, the tones cross
    both ways, and the capture of port 5061 holds TLS records and no SIP
    text."""
    cap = srv = u1 = u2 = None
    no_capture = None
    tmp = tempfile.mkdtemp(prefix="sp-tls-tones-")
    try:
        try:
            cap = Capture("tcp port 5061", prefix="sp-tls-pcap-")
        except Skip as e:
            no_capture = str(e)
        a_in, b_in = os.path.join(tmp, "a.wav"), os.path.join(tmp, "b.wav")
        a_out, b_out = os.path.join(tmp, "a-out.wav"), os.path.join(tmp, "b-out.wav")
        make_tone(a_in, TONE_A)
        make_tone(b_in, TONE_B)
        http = free_tcp_port()
        srv = Server("srv", addr=SRV, extra=["--http", "127.0.0.1:%d" % http])
        tls = next(e for e in srv.seen if e.get("event") == "tls")
        assert tls["port"] == 5061 and FP.match(tls["fingerprint"]), tls
        # The web console shows the same fingerprint, for users to compare.
        code, body = http_request(http, "GET", "/api/status", token=console_token(srv))
        assert code == 200 and json.loads(body)["tls"] == {"port": 5061,
                                                           "fingerprint": tls["fingerprint"]}, body
        for name in ("tls-certificate.pem", "tls-key.pem"):
            assert mode(os.path.join(srv.dir, name)) == 0o600, name
        u2 = phone("u2", U2, "u2", "p2", ["--auto-answer", "--audio-in", b_in,
                                          "--audio-out", b_out])
        u2.wait("registered")
        reg = srv.wait("server_registered", user="u2")
        assert reg["contact"].endswith(";transport=tls"), reg
        u1 = phone("u1", U1, "u1", "p1", ["--audio-in", a_in, "--audio-out", a_out])
        u1.wait("registered")
        srv.wait("server_registered", user="u1")
        # The phone pinned the server's certificate on first use.
        with open(os.path.join(u1.dir, "tls-pins")) as f:
            assert "%s:5061 %s" % (SRV, tls["fingerprint"]) in f.read()
        assert mode(os.path.join(u1.dir, "tls-pins")) == 0o600
        u1.send("call 2")
        u1.wait("established")
        u2.wait("incoming")
        u2.wait("established")
        time.sleep(3)
        u1.send("hangup")
        u1.wait("ended")
        u2.wait("ended")
        srv.wait("server_call_ended", status=200)
        u1.quit()
        u2.quit()
        if cap is not None:
            payloads = cap.payloads()
            total = sum(len(p) for p in payloads)
            print("# %d TCP payloads, %d bytes on port 5061" % (len(payloads), total), flush=True)
            assert total > 2000, "too little captured on 5061: %d bytes" % total
            assert all(p[0] in (0x14, 0x15, 0x16, 0x17) for p in payloads), \
                "a payload on 5061 is not a TLS record"
            assert not any(b"SIP/2.0" in p for p in payloads), "SIP text on port 5061"
        check_tones(a_out, b_out, "tls")
        srv.quit()
        if no_capture:
            print("# wire not checked: %s" % no_capture, flush=True)
    finally:
        cleanup(cap, u1, u2, srv)
        shutil.rmtree(tmp, ignore_errors=True)


def test_plain_sip_on_tls_port():
    """Plain SIP sent to 5061 gets no SIP answer (the TLS handshake fails and
    the connection closes), and a connection that never starts its handshake
    is closed by the server within its 10 s handshake timeout."""
    srv = None
    try:
        srv = Server("srv", addr=SRV)
        silent = socket.create_connection((SRV, 5061), timeout=WAIT)
        opened = time.monotonic()
        s = socket.create_connection((SRV, 5061), timeout=WAIT)
        s.sendall(("OPTIONS sip:%s:5061 SIP/2.0\r\nVia: SIP/2.0/TCP %s:5999;branch=z9hG4bKtls1\r\n"
                   "From: <sip:x@%s>;tag=1\r\nTo: <sip:%s>\r\nCall-ID: tls-plain-1\r\n"
                   "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
                   % (SRV, U1, U1, SRV)).encode())
        got = b""
        s.settimeout(3)
        try:
            while len(got) < 65536:
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
        except (socket.timeout, ConnectionResetError):
            pass
        s.close()
        print("# plain SIP on 5061: %d bytes back" % len(got), flush=True)
        assert b"SIP/2.0" not in got, got[:200]
        # The silent connection: closed by the server, not left open.
        # (A TLS alert may come before the end of the stream.)
        closed = False
        silent.settimeout(1)
        while not closed and time.monotonic() - opened < 14:
            try:
                closed = silent.recv(4096) == b""
            except socket.timeout:
                pass
            except ConnectionResetError:
                closed = True
        waited = time.monotonic() - opened
        silent.close()
        print("# silent connection closed after %.1f s" % waited, flush=True)
        assert closed and waited < 14, "a connection without a handshake stayed open"
        srv.quit()
    finally:
        cleanup(srv)


def test_changed_certificate_refused():
    """A phone pins the server's certificate; the server's certificate files
    are deleted and it restarts with a new one: the phone refuses it (the
    reason names both fingerprints and how to accept), then accepts it with
    accept-certificate and registers again."""
    srv = u1 = None
    conf = tempfile.mkdtemp(prefix="sp-tls-srvconf-")
    try:
        srv = Server("srv", addr=SRV, extra=["--config-dir", conf])
        old = next(e for e in srv.seen if e.get("event") == "tls")["fingerprint"]
        u1 = phone("u1", U1, "u1", "p1")
        u1.wait("registered")
        srv.quit()
        srv.close()
        for name in ("tls-certificate.pem", "tls-key.pem"):
            os.unlink(os.path.join(conf, name))
        srv = Server("srv2", addr=SRV, extra=["--config-dir", conf])
        new = next(e for e in srv.seen if e.get("event") == "tls")["fingerprint"]
        assert new != old
        # The flow broke: the phone registers again, on a new connection,
        # and refuses the new certificate. Under load its first attempt
        # may come before the new server listens (connection refused):
        # then one "register" more, now that it does.
        failed = u1.wait("registration_failed", timeout=20)
        reason = failed["reason"]
        if old not in reason:
            print("# first attempt: %s" % reason, flush=True)
            u1.send("register")
            reason = u1.wait("registration_failed", timeout=20)["reason"]
        print("# reason: %s" % reason, flush=True)
        assert old in reason and new in reason and "accept-certificate %s:5061" % SRV in reason, \
            reason
        u1.send("accept-certificate %s:5061" % SRV)
        u1.wait("certificate_accepted", server="%s:5061" % SRV)
        u1.send("register")
        u1.wait("registered", timeout=20)
        with open(os.path.join(u1.dir, "tls-pins")) as f:
            assert new in f.read()
        u1.quit()
        srv.quit()
    finally:
        cleanup(u1, srv)
        shutil.rmtree(conf, ignore_errors=True)


TESTS = {
    "tls-call": test_tls_call,
    "plain-sip-on-tls-port": test_plain_sip_on_tls_port,
    "changed-certificate-refused": test_changed_certificate_refused,
}


def main():
    headless.SOFTPHONE = sys.argv[1]
    return headless.run_tap(TESTS, sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
