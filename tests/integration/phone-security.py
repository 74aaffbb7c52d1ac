#!/usr/bin/python3
"""The phone against attacks, with the real binary (`softphone --headless`)
and raw UDP from here, on 127.0.57.x (no other test uses it):

- digest-leak: an account registered at a registrar here; the user calls a
  host that is not that registrar, which answers 401 realm="evil", MD5
  without qop. No Authorization header may ever reach it, and the call
  ends saying who asked.
- flood: 700 INVITEs, never cancelled, from one address at the phone (its
  descriptor limit 1024, as a desktop's). Its open descriptors
  (/proc/PID/fd) stay bounded, and a real call from another instance of
  our binary meanwhile is established with audio both ways (tones
  checked by Goertzel on the recordings).
- refuse-strangers: with the setting a direct call is refused (403) and
  never rings; the same call without it rings (the seed's direct calls).

Usage: phone-security.py SOFTPHONE [TEST...]   (prints TAP)
Every wait and loop is bounded; only the processes started here are
stopped, by PID.
"""
import contextlib
import os
import resource
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import headless  # noqa: E402  (Instance, tones, Goertzel)

PHONE = "127.0.57.2"      # the phone under attack
CALLER = "127.0.57.1"     # a legitimate caller (another instance)
REGISTRAR = "127.0.57.5"  # the account's registrar (a raw peer here)
EVIL = "127.0.57.9"       # the foreign host / the flooder
FLOOD = 700
WAIT = headless.WAIT


def headers(text, name):
    return headless.RawPeer.headers(text, name)


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def test_digest_leak():
    with contextlib.closing(headless.RawPeer(REGISTRAR)) as registrar, \
            contextlib.closing(headless.RawPeer(EVIL)) as evil, \
            headless.running("phone", ["--bind", PHONE + ":0", "--account",
                                       "sip:alice:s3cret@" + registrar.addr]) as phone:
        phone.wait("ready")
        reg, src = registrar.recv_request("REGISTER")
        registrar.reply(reg, src, 200, "OK", ["Expires: 3600"])
        phone.wait("registered")

        target = "sip:x@" + evil.addr
        phone.send("call " + target)
        invite, src = evil.recv_request("INVITE")
        assert not headers(invite, "Authorization"), invite
        evil.reply(invite, src, 401, "Unauthorized",
                   ['WWW-Authenticate: Digest realm="evil", nonce="abc123", algorithm=MD5'],
                   tag="evil")
        # Whatever comes to the evil host for 3 s (the ACK, any re-sent
        # INVITE): never credentials.
        evil.sock.settimeout(0.2)
        deadline = time.monotonic() + 3
        seen = []
        while time.monotonic() < deadline:
            try:
                data, _ = evil.sock.recvfrom(65536)
            except socket.timeout:
                continue
            text = data.decode(errors="replace")
            seen.append(text.split("\r\n", 1)[0])
            assert not headers(text, "Authorization"), "digest leaked:\n" + text
            assert not headers(text, "Proxy-Authorization"), "digest leaked:\n" + text
        print("# the evil host got after its 401: %s" % seen, flush=True)
        ended = phone.wait("ended")
        print("# ended: %s" % ended, flush=True)
        assert ended["code"] == 401, ended
        assert 'asked for your password for realm "evil"' in ended["reason"], ended
        assert "it was not sent" in ended["reason"], ended
        assert target in ended["reason"], ended
        phone.send("quit")
        unreg, src = registrar.recv_request("REGISTER")
        registrar.reply(unreg, src, 200, "OK", ["Expires: 0"])
        assert phone.exit_code() == 0


def flood_invite(sock, phone_addr, i):
    local = "%s:%d" % sock.getsockname()
    body = ("v=0\r\no=f %d 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
            % (i, EVIL, EVIL, 20000 + 2 * (i % 1000)))
    lines = ["INVITE sip:u@%s:%d SIP/2.0" % phone_addr,
             "Via: SIP/2.0/UDP %s;branch=z9hG4bKflood%d;rport" % (local, i),
             "From: <sip:flood%d@%s>;tag=f%d" % (i, EVIL, i),
             "To: <sip:u@%s>" % phone_addr[0],
             "Call-ID: flood-%d-%d@%s" % (os.getpid(), i, EVIL),
             "CSeq: 1 INVITE", "Max-Forwards: 70",
             "Contact: <sip:flood%d@%s>" % (i, local),
             "Content-Type: application/sdp",
             "Content-Length: %d" % len(body)]
    sock.sendto(("\r\n".join(lines) + "\r\n\r\n" + body).encode(), phone_addr)


def drain(sock, counts):
    """Reads what the phone answered the flood (status -> count)."""
    while True:
        try:
            data = sock.recv(65536)
        except (BlockingIOError, socket.timeout):
            return
        first = data.split(b"\r\n", 1)[0].decode(errors="replace")
        if first.startswith("SIP/2.0 "):
            code = first.split()[1]
            counts[code] = counts.get(code, 0) + 1


def test_flood():
    tmp = headless.tempfile.mkdtemp(prefix="sp-phone-flood-")
    a_in, b_in, a_out, b_out = headless.make_tones(tmp)
    b = headless.Instance("b", ["--bind", PHONE + ":0", "--audio-in", b_in,
                                "--audio-out", b_out])
    try:
        with contextlib.closing(b), \
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as flood:
            # The rlimit is set on the running process (prlimit), as a
            # desktop session's 1024 would be.
            resource.prlimit(b.proc.pid, resource.RLIMIT_NOFILE,
                             (1024, resource.prlimit(b.proc.pid,
                                                     resource.RLIMIT_NOFILE)[1]))
            sip = b.wait("ready")["sip"]
            host, port = sip.rsplit(":", 1)
            phone_addr = (host, int(port))
            before = fd_count(b.proc.pid)
            flood.bind((EVIL, 0))
            flood.setblocking(False)
            counts = {}
            peak = before
            for i in range(FLOOD):  # bounded: 700 INVITEs, a few ms apart
                flood_invite(flood, phone_addr, i)
                if i % 20 == 0:
                    time.sleep(0.02)
                    drain(flood, counts)
                    peak = max(peak, fd_count(b.proc.pid))
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                time.sleep(0.1)
                drain(flood, counts)
                peak = max(peak, fd_count(b.proc.pid))
            during = fd_count(b.proc.pid)
            print("# descriptors before %d, peak %d, after the flood %d; answers %s"
                  % (before, peak, during, counts), flush=True)
            assert b.proc.poll() is None, "the phone died under the flood:\n" + b.log()
            assert peak <= before + 40, (before, peak)
            # Refusals go out once (no retransmission train): at most one
            # final answer per INVITE sent, and the 180s of the few admitted.
            finals = sum(n for code, n in counts.items() if int(code) >= 200)
            assert finals <= FLOOD, ("refusals were retransmitted", counts)

            # A real call from another instance while the flood still rings.
            with headless.running("a", ["--bind", CALLER + ":0", "--audio-in", a_in,
                                        "--audio-out", a_out]) as a:
                a.wait("ready")
                a.send("call " + sip)
                deadline = time.monotonic() + WAIT
                inc = None
                while inc is None:
                    ev = b.wait("incoming", timeout=max(0.1, deadline - time.monotonic()))
                    if CALLER in ev.get("from", ""):
                        inc = ev
                b.send("answer " + inc["call"])
                a.wait("established")
                b.wait("established", call=inc["call"])
                time.sleep(3)
                drain(flood, counts)
                with_call = fd_count(b.proc.pid)
                print("# descriptors with the real call up: %d" % with_call, flush=True)
                assert with_call <= before + 40, (before, with_call)
                a.send("hangup")
                a.wait("ended")
                b.wait("ended", call=inc["call"])
                a.quit()
            headless.check_tones(a_out, b_out, "call during a %d-INVITE flood" % FLOOD)
            b.send("quit")
            assert b.exit_code() == 0
    except BaseException:
        sys.stderr.write("---- b stderr ----\n%s\n" % b.log())
        raise
    finally:
        headless.shutil.rmtree(tmp, ignore_errors=True)


def test_refuse_strangers():
    # Without the setting a direct call rings (the seed's second scenario).
    with headless.running("b", ["--bind", PHONE + ":0"]) as b:
        sip = b.wait("ready")["sip"]
        with contextlib.closing(headless.RawUac(CALLER, sip)) as uac:
            uac.request("INVITE", headless.raw_sdp(CALLER, 7000, "0"), "application/sdp")
            code, text = uac.response(final_only=False, method="INVITE")
            while code < 180:
                code, text = uac.response(final_only=False, method="INVITE")
            assert code == 180, text
            b.wait("incoming")
            uac.request("CANCEL", cseq=uac.cseq)
        b.quit()
    with headless.running("b", ["--bind", PHONE + ":0", "--refuse-strangers"]) as b:
        sip = b.wait("ready")["sip"]
        with contextlib.closing(headless.RawUac(CALLER, sip)) as uac:
            uac.request("INVITE", headless.raw_sdp(CALLER, 7000, "0"), "application/sdp")
            code, text = uac.response(method="INVITE")
            assert code == 403, text
        time.sleep(0.5)
        assert not any(e.get("event") == "incoming" for e in b.seen), b.seen
        # The instance-to-instance case: the caller sees why.
        with headless.running("a", ["--bind", CALLER + ":0"]) as a:
            a.wait("ready")
            a.send("call " + sip)
            ended = a.wait("ended")
            assert ended["code"] == 403, ended
            a.quit()
        b.quit()


TESTS = {
    "digest-leak": test_digest_leak,
    "flood": test_flood,
    "refuse-strangers": test_refuse_strangers,
}


def main():
    headless.SOFTPHONE = sys.argv[1]
    return headless.run_tap(TESTS, sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
