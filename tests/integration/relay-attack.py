#!/usr/bin/python3
"""Attacks on the mini-server's media relay, with the real binary on the seed's
LAN (server 127.0.0.50, u1 127.0.0.183, u2 127.0.0.101) and raw UDP from
attackers on 127.0.0.66 and 127.0.0.67:

- rtp-bleed: while u1's call to u2 rings and then talks, an attacker sprays
  RTP (one steady SSRC, in sequence, PCMU) at every even port of the relay
  range and RTCP at every odd one. It must receive nothing, and the tones
  must still cross both ways.
- sdp-third-host: a caller's SDP names a third host (a listener on
  127.0.0.67): the relay must send nothing there, though the media flows to
  the caller once it sends from its own host.

Usage: relay-attack.py SOFTPHONE [TEST...]   (prints TAP)
Every wait and every send loop is bounded; only processes started here are
killed, by PID.
"""
import os
import random
import shutil
import socket
import struct
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import headless  # noqa: E402
from headless import Skip, dominant_blocks, make_tone  # noqa: E402
from server import (SERVER, U1, U2, WAIT, RawSip, Server, authorization, cleanup,  # noqa: E402
                    header, md5_challenge, phone)

ATTACKER = "127.0.0.66"
THIRD = "127.0.0.67"
RELAY_MIN, RELAY_MAX = 31000, 31199
# u1's tone and u2's: away from the 425 Hz ringback u1 records while it rings.
TONE_A, TONE_B = 700, 1000


def rtp(seq, ts, ssrc, payload=b"\xff" * 160, pt=0):
    return struct.pack("!BBHII", 0x80, pt, seq & 0xffff, ts & 0xffffffff, ssrc) + payload


def rtcp_rr(ssrc):
    # An empty receiver report: V=2, RC=0, PT=201, length 1 (8 bytes).
    return struct.pack("!BBHI", 0x80, 201, 1, ssrc)


class Sprayer(threading.Thread):
    """Every 20 ms, one RTP packet to each even relay port and one RTCP
    packet to each odd one, in sequence with one SSRC as a real phone's
    stream; counts what comes back from the server."""

    def __init__(self, addr, seconds):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((addr, 0))
        self.sock.setblocking(False)
        self.deadline = time.monotonic() + seconds
        self.stop = threading.Event()
        self.sent = 0
        self.received = 0

    def run(self):
        ssrc = random.getrandbits(32)
        seq, ts = random.getrandbits(16), random.getrandbits(32)
        while not self.stop.is_set() and time.monotonic() < self.deadline:
            start = time.monotonic()
            for port in range(RELAY_MIN, RELAY_MAX + 1, 2):
                for dest, packet in (((SERVER, port), rtp(seq, ts, ssrc)),
                                     ((SERVER, port + 1), rtcp_rr(ssrc))):
                    try:
                        self.sock.sendto(packet, dest)
                        self.sent += 1
                    except OSError:
                        pass  # ICMP from a closed port, reported on a later send
            seq, ts = seq + 1, ts + 160
            self.drain()
            time.sleep(max(0.0, 0.02 - (time.monotonic() - start)))
        self.drain()

    def drain(self):
        while True:
            try:
                _, src = self.sock.recvfrom(4096)
            except (BlockingIOError, ConnectionRefusedError):
                return
            except OSError:
                return
            if src[0] == SERVER:
                self.received += 1

    def finish(self):
        self.stop.set()
        self.join(timeout=WAIT)
        self.sock.close()


def server():
    return Server("srv", extra=["--server-option",
                                "relay-ports=%d-%d" % (RELAY_MIN, RELAY_MAX)])


def test_rtp_bleed():
    srv = u1 = u2 = spray = None
    tmp = tempfile.mkdtemp(prefix="sp-relay-attack-")
    try:
        a_in, b_in = os.path.join(tmp, "a.wav"), os.path.join(tmp, "b.wav")
        a_out, b_out = os.path.join(tmp, "a-out.wav"), os.path.join(tmp, "b-out.wav")
        make_tone(a_in, TONE_A)
        make_tone(b_in, TONE_B)
        srv = server()
        u2 = phone("u2", U2, "u2", "p2",
                   ["--auto-answer=3", "--audio-in", b_in, "--audio-out", b_out])
        u2.wait("registered")
        u1 = phone("u1", U1, "u1", "p1", ["--audio-in", a_in, "--audio-out", a_out])
        u1.wait("registered")
        spray = Sprayer(ATTACKER, 20)
        spray.start()
        u1.send("call 2")
        u2.wait("incoming")
        u1.wait("ringing")
        # Rings 3 s under the spray, then talks 4 s under it.
        u1.wait("established")
        u2.wait("established")
        time.sleep(4)
        spray.finish()
        print("# attacker sent %d packets, received %d" % (spray.sent, spray.received),
              flush=True)
        u1.send("hangup")
        u1.wait("ended")
        u2.wait("ended")
        srv.wait("server_call_ended", status=200)
        u1.quit()
        u2.quit()
        assert spray.sent > 10000, spray.sent
        assert spray.received == 0, "the attacker received %d packets" % spray.received
        a_a, a_b, a_total = dominant_blocks(a_out, TONE_A, TONE_B)
        b_a, b_b, b_total = dominant_blocks(b_out, TONE_A, TONE_B)
        print("# u1 heard %d/%d blocks of %d Hz (%d of its own), u2 %d/%d of %d Hz (%d of its own)"
              % (a_b, a_total, TONE_B, a_a, b_a, b_total, TONE_A, b_b), flush=True)
        assert a_b >= 50 and a_a <= 3, (a_a, a_b, a_total)
        assert b_a >= 50 and b_b == 0, (b_a, b_b, b_total)
    finally:
        if spray is not None and spray.is_alive():
            spray.finish()
        cleanup(u1, u2, srv)
        shutil.rmtree(tmp, ignore_errors=True)


def sdp(addr, port):
    return ("v=0\no=- 1 1 IN IP4 %s\ns=-\nc=IN IP4 %s\nt=0 0\nm=audio %d RTP/AVP 0\n"
            "a=rtpmap:0 PCMU/8000\na=sendrecv\n" % (addr, addr, port))


def count_from(sock, host, seconds):
    n = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            _, src = sock.recvfrom(4096)
        except socket.timeout:
            break
        if src[0] == host:
            n += 1
    return n


def test_sdp_third_host():
    srv = u2 = raw = None
    socks = []
    tmp = tempfile.mkdtemp(prefix="sp-relay-third-")
    try:
        b_in = os.path.join(tmp, "b.wav")
        make_tone(b_in, TONE_B)
        srv = server()
        u2 = phone("u2", U2, "u2", "p2", ["--auto-answer", "--audio-in", b_in])
        u2.wait("registered")
        third = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        third.bind((THIRD, 0))
        third_port = third.getsockname()[1]
        third_rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            third_rtcp.bind((THIRD, third_port + 1))
        except OSError:
            pass  # RTCP there is not checked then; RTP is
        own = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        own.bind(("127.0.0.61", 0))
        socks = [third, third_rtcp, own]

        # u1 (authenticated) calls 2 with an SDP naming the third host.
        raw = RawSip("127.0.0.61")
        call_id = "third-%d@127.0.0.61" % random.getrandbits(30)
        ruri = "sip:2@%s" % SERVER
        body = sdp(THIRD, third_port)
        raw.request("INVITE", ruri, "u1", "2", call_id, 1, body=body)
        status, headers, _ = raw.response(skip=(100, 180, 183))
        assert status == 401, status
        raw.ack(ruri, "u1", "2", call_id, 1, header(headers, "to")[0])
        ch = md5_challenge(headers)
        raw.request("INVITE", ruri, "u1", "2", call_id, 2,
                    authorization(ch, "u1", "p1", "INVITE", ruri), body=body)
        status, headers, text = raw.response(skip=(100, 180, 183))
        assert status == 200, status
        raw.ack(ruri, "u1", "2", call_id, 2, header(headers, "to")[0])
        relay_port = int(text.split("m=audio ", 1)[1].split()[0])
        u2.wait("established")

        # u2 talks for 3 s: nothing of it reaches the third host.
        got = count_from(third, SERVER, 3.0)
        third_rtcp.settimeout(0.05)
        got += count_from(third_rtcp, SERVER, 0.1)
        print("# the third host got %d packets" % got, flush=True)
        assert got == 0, "the relay sent %d packets to a host only the SDP named" % got

        # The caller sends from its own host (a NAT'd phone): once learnt, the
        # media comes to it, and still not to the third host.
        ssrc, seq = random.getrandbits(32), random.getrandbits(16)
        for i in range(10):
            own.sendto(rtp(seq + i, 160 * i, ssrc), (SERVER, relay_port))
            time.sleep(0.02)
        mine = count_from(own, SERVER, 1.0)
        print("# the caller's own socket got %d packets" % mine, flush=True)
        assert mine > 10, mine
        assert count_from(third, SERVER, 0.5) == 0
        srv.send("quit")
        srv.exit_code()
    finally:
        for s in socks:
            s.close()
        cleanup(raw, u2, srv)
        shutil.rmtree(tmp, ignore_errors=True)


TESTS = {
    "rtp-bleed": test_rtp_bleed,
    "sdp-third-host": test_sdp_third_host,
}


def main():
    headless.SOFTPHONE = sys.argv[1]
    return headless.run_tap(TESTS, sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
