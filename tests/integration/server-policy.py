#!/usr/bin/python3
"""Who may use the mini-server (SpAccessPolicy), attacked with real packets:
raw SIP over UDP from 127.0.0.6x-9x against `softphone --headless --server` on
127.0.0.50, as a stranger on the LAN would. Each test is an attack that worked
before the policy existed (or a legitimate use it must keep working).

Usage: server-policy.py SOFTPHONE [TEST...]   (prints TAP)
Every wait is bounded; only the processes started here are killed, by PID.
"""
import hashlib
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import headless  # noqa: E402
from headless import Instance, Skip, make_tone  # noqa: E402
from server import Server, cleanup  # noqa: E402

SERVER = "127.0.0.50"
SERVER2 = "127.0.0.51"
WAIT = 5.0
USERS = "[u1]\npassword=p1\n[u2]\npassword=p2\n[u3]\npassword=p3\n"
# The server's default: no rules at all (what the window starts with).
DEFAULT_ROUTES = None
FORWARD_ROUTES = "[default]\n^0\\(.*\\)$=sip/sip:\\1@%s:5060\n" % SERVER2


def h(algo, *parts):
    return hashlib.new(algo, ":".join(parts).encode()).hexdigest()


class Peer:
    """A UDP SIP peer on one address; requests written by hand."""

    def __init__(self, addr, server=SERVER, port=0):
        self.addr = addr
        self.server = server
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_DGRAM)
        self.sock.bind((addr, port))
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(WAIT)

    def close(self):
        self.sock.close()

    def host(self, a):
        return "[%s]" % a if ":" in a else a

    def send(self, text, dest=None):
        self.sock.sendto(text.replace("\n", "\r\n").encode(), dest or (self.server, 5060))

    def request(self, method, ruri, from_user, to_user, call_id, cseq, extra="", body="",
                display=None, tag=None):
        branch = "z9hG4bK%016x" % random.getrandbits(64)
        name = '"%s" ' % display if display else ""
        ctype = "Content-Type: application/sdp\n" if body else ""
        me, srv = self.host(self.addr), self.host(self.server)
        msg = ("%s %s SIP/2.0\nVia: SIP/2.0/UDP %s:%d;branch=%s;rport\n"
               "From: %s<sip:%s@%s>;tag=%s\nTo: <sip:%s@%s>\nCall-ID: %s\nCSeq: %d %s\n"
               "Contact: <sip:%s@%s:%d>\nMax-Forwards: 70\nUser-Agent: raw-attacker\n%s%s"
               "Content-Length: %d\n\n%s"
               % (method, ruri, me, self.port, branch, name, from_user, srv,
                  tag or "t%x" % random.getrandbits(32), to_user, srv, call_id, cseq, method,
                  from_user, me, self.port, extra, ctype, len(body.replace("\n", "\r\n")), body))
        self.send(msg)
        return branch

    def recv(self, timeout=WAIT, skip=(100, 180, 183)):
        """The next message as (first line, status or None, headers, text); None on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data, src = self.sock.recvfrom(65535)
            except socket.timeout:
                return None
            text = data.decode(errors="replace")
            first = text.split("\r\n", 1)[0]
            status = int(first.split()[1]) if first.startswith("SIP/2.0") else None
            if status in skip:
                continue
            headers = []
            for line in text.split("\r\n\r\n", 1)[0].split("\r\n")[1:]:
                n, _, v = line.partition(":")
                headers.append((n.strip().lower(), v.strip()))
            return first, status, headers, text

    def response(self, timeout=WAIT):
        got = self.recv(timeout)
        assert got is not None, "no response from the server"
        return got[1], got[2]


def header(headers, name):
    return [v for n, v in headers if n == name]


def challenge(headers, algorithm="MD5"):
    for v in header(headers, "www-authenticate"):
        params = dict(re.findall(r'(\w+)="?([^",]*)"?', v))
        if params.get("algorithm", "MD5").upper() == algorithm:
            return params
    raise AssertionError("no %s challenge in %r" % (algorithm, headers))


def authorization(ch, user, password, method, uri, nc=1, qop=True, digest_uri=None):
    algo = "md5" if ch.get("algorithm", "MD5").upper() == "MD5" else "sha256"
    digest_uri = digest_uri or uri
    ha1 = h(algo, user, ch["realm"], password)
    ha2 = h(algo, method, digest_uri)
    if qop:
        cnonce = "c%08x" % random.getrandbits(32)
        resp = h(algo, ha1, ch["nonce"], "%08x" % nc, cnonce, "auth", ha2)
        tail = ', qop=auth, nc=%08x, cnonce="%s"' % (nc, cnonce)
    else:
        resp = h(algo, ha1, ch["nonce"], ha2)
        tail = ""
    return ('Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", '
            'response="%s", algorithm=%s%s\n'
            % (user, ch["realm"], ch["nonce"], digest_uri, resp, ch.get("algorithm", "MD5"), tail))


def get_challenge(peer, method="REGISTER", user="u1", ruri=None):
    ruri = ruri or "sip:%s" % peer.host(peer.server)
    call_id = "ch-%x" % random.getrandbits(40)
    peer.request(method, ruri, user, user, call_id, 1, "Expires: 600\n" if method == "REGISTER"
                 else "")
    status, headers = peer.response()
    assert status == 401, status
    return challenge(headers), call_id


def register(peer, user, password, ch=None, **kw):
    """REGISTER with credentials (on @ch, else a fresh challenge): the final status."""
    ruri = "sip:%s" % peer.host(peer.server)
    call_id = "reg-%x" % random.getrandbits(40)
    if ch is None:
        ch, call_id = get_challenge(peer, user=user)
    peer.request("REGISTER", ruri, user, user, call_id, random.randint(2, 1000),
                 "Expires: 600\n" + authorization(ch, user, password, "REGISTER", ruri, **kw))
    return peer.response()[0]


def sdp(addr, port=40000):
    return ("v=0\no=- 1 1 IN IP4 %s\ns=-\nc=IN IP4 %s\nt=0 0\nm=audio %d RTP/AVP 0\n"
            "a=rtpmap:0 PCMU/8000\n" % (addr, addr, port))


def invite(peer, called, from_user, password=None, display=None, user=None):
    """INVITE sip:CALLED@server from @from_user (answering a 401 with @user's
    @password when given). Returns (status, headers) of the final answer."""
    ruri = "sip:%s@%s" % (called, SERVER)
    call_id = "inv-%x" % random.getrandbits(40)
    peer.request("INVITE", ruri, from_user, called, call_id, 1, body=sdp(peer.addr),
                 display=display)
    status, headers = peer.response()
    if status == 401 and password is not None:
        ch = challenge(headers)
        peer.request("INVITE", ruri, from_user, called, call_id, 2, body=sdp(peer.addr),
                     display=display,
                     extra=authorization(ch, user or from_user, password, "INVITE", ruri))
        status, headers = peer.response()
    return status, headers


class Callee:
    """A raw phone registered as @user on @addr:5060 that answers every INVITE
    486 Busy from a thread and keeps its headers: what rang it, and as whom."""

    def __init__(self, addr, user, password, register_it=True):
        self.peer = Peer(addr, port=5060)
        if register_it:
            assert register(self.peer, user, password) == 200
        self.invites = []
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            try:
                got = self.peer.recv(0.2)
            except OSError:
                return
            if got is None:
                continue
            first, status, headers, text = got
            if not first.startswith("INVITE "):
                continue
            with self.lock:
                self.invites.append(headers)
            via = "\n".join("Via: %s" % v for v in header(headers, "via"))
            self.peer.send("SIP/2.0 486 Busy Here\n%s\nFrom: %s\nTo: %s;tag=busy\nCall-ID: %s\n"
                           "CSeq: %s\nContent-Length: 0\n\n"
                           % (via, header(headers, "from")[0], header(headers, "to")[0],
                              header(headers, "call-id")[0], header(headers, "cseq")[0]))

    def rang(self, timeout=1.5):
        """The first INVITE that reached us within @timeout (taken), else None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.invites:
                    return self.invites.pop(0)
            time.sleep(0.05)
        return None

    def close(self):
        self.running = False
        self.thread.join(timeout=2)
        self.peer.close()


# ---- tests -------------------------------------------------------------------------------------

def test_unauthenticated_invite():
    """With the default (empty) routes, INVITEs without credentials from an
    unknown From, a case-changed user name (U1), a number and a real user are
    all challenged, and u2 never rings."""
    srv = u2 = atk = None
    try:
        srv = Server("srv", routes=DEFAULT_ROUTES, users=USERS)
        u2 = Callee("127.0.0.101", "u2", "p2")
        atk = Peer("127.0.0.66")
        for from_user in ("stranger", "U1", "1", "u1"):
            status, headers = invite(atk, "u2", from_user)
            got = u2.rang(0.5)
            assert got is None, "u2 rang for an unauthenticated %s: From %s" % (
                from_user, header(got, "from"))
            assert status == 401, (from_user, status)
    finally:
        cleanup(atk, u2, srv)


def shape(status, headers):
    """What a response tells apart: its status and header names, and its
    challenge without the nonce."""
    names = sorted(n for n, _ in headers if n not in ("via", "from", "to", "call-id", "cseq",
                                                      "content-length"))
    chs = [re.sub(r'nonce="[^"]*"', 'nonce=N', v) for v in header(headers, "www-authenticate")]
    return status, names, chs


def test_no_enumeration():
    """An unauthenticated caller gets the same answer for a registered user, a
    known user who is offline and a name nobody has; a wrong password for a
    known user looks like any password for an unknown one."""
    srv = u1 = atk = None
    try:
        srv = Server("srv", routes=DEFAULT_ROUTES, users=USERS)
        u1 = Callee("127.0.0.183", "u1", "p1")
        atk = Peer("127.0.0.67")
        seen = {}
        for called in ("u1", "u2", "nobody", "55"):
            seen[called] = shape(*invite(atk, called, "stranger"))
        assert len(set(repr(v) for v in seen.values())) == 1, seen
        assert seen["u2"][0] == 401, seen
        # credentials: a known user with a wrong password vs an unknown user
        a = register(atk, "u3", "wrong")
        b = register(atk, "ghost", "whatever")
        assert a == b == 403, (a, b)
        # the INVITE challenge does not depend on the From user either
        s1 = shape(*invite(atk, "u2", "u3"))
        s2 = shape(*invite(atk, "u2", "ghost"))
        assert s1 == s2, (s1, s2)
    finally:
        cleanup(atk, u1, srv)


def test_identity_not_spoofed():
    """u1 authenticates but writes From: "The Boss" <sip:ceo@...>: the callee
    sees u1, asserted by the server, never the made-up name."""
    srv = u2 = p = None
    try:
        srv = Server("srv", routes=DEFAULT_ROUTES, users=USERS)
        u2 = Callee("127.0.0.101", "u2", "p2")
        p = Peer("127.0.0.68")
        p.request("INVITE", "sip:u2@%s" % SERVER, "ceo", "u2", "spoof-1", 1, body=sdp(p.addr),
                  display="The Boss")
        status, headers = p.response()
        got = u2.rang(0.5)
        assert got is None, "the made-up caller reached u2 without credentials, as %s" % (
            header(got, "from"))
        assert status == 401, status
        ch = challenge(headers)
        ruri = "sip:u2@%s" % SERVER
        p.request("INVITE", ruri, "ceo", "u2", "spoof-1", 2, body=sdp(p.addr), display="The Boss",
                  extra=authorization(ch, "u1", "p1", "INVITE", ruri))
        got = u2.rang(WAIT)
        assert got is not None, "the authenticated call did not reach u2"
        frm = header(got, "from")[0]
        pai = header(got, "p-asserted-identity")
        print("# callee leg From: %s; P-Asserted-Identity: %s" % (frm, pai), flush=True)
        assert "sip:u1@" in frm and "ceo" not in frm and "Boss" not in frm, frm
        assert pai and "sip:u1@" in pai[0], pai
    finally:
        cleanup(p, u2, srv)


def test_nonce_bound_to_source():
    """A nonce issued to one address, answered with the right password from
    another: refused (a fresh challenge), never accepted."""
    srv = a = b = None
    try:
        srv = Server("srv", routes=DEFAULT_ROUTES, users=USERS)
        a = Peer("127.0.0.69")
        b = Peer("127.0.0.70")
        ch, _ = get_challenge(a)
        status = register(b, "u1", "p1", ch=ch)
        assert status == 401, status
        # the owner of the nonce can use it
        assert register(a, "u1", "p1", ch=ch) == 200
    finally:
        cleanup(a, b, srv)


def test_digest_uri_must_match():
    """Credentials computed for another Request-URI (uri="sip:elsewhere") are
    refused even with the right password."""
    srv = p = None
    try:
        srv = Server("srv", routes=DEFAULT_ROUTES, users=USERS)
        p = Peer("127.0.0.71")
        status = register(p, "u1", "p1", digest_uri="sip:elsewhere.example")
        assert status == 403, status
        assert register(p, "u1", "p1") == 200
    finally:
        cleanup(p, srv)


def test_qopless_replay():
    """Credentials without qop (RFC 2069 form) work once; the same request
    replayed is refused."""
    srv = p = None
    try:
        srv = Server("srv", routes=DEFAULT_ROUTES, users=USERS)
        p = Peer("127.0.0.72")
        ch, call_id = get_challenge(p)
        ruri = "sip:%s" % SERVER
        auth = authorization(ch, "u1", "p1", "REGISTER", ruri, qop=False)
        p.request("REGISTER", ruri, "u1", "u1", call_id, 2, "Expires: 600\n" + auth)
        assert p.response()[0] == 200
        p.request("REGISTER", ruri, "u1", "u1", call_id, 3, "Expires: 600\n" + auth)
        status, headers = p.response()
        assert status in (401, 403), status
    finally:
        cleanup(p, srv)


def test_lockout_per_user():
    """Ten wrong passwords for u1, each from another address: u1 is locked out,
    even with the right password, from yet another address."""
    srv = peers = None
    try:
        srv = Server("srv", routes=DEFAULT_ROUTES, users=USERS)
        peers = [Peer("127.0.0.%d" % (73 + i)) for i in range(10)]
        for p in peers:
            assert register(p, "u1", "guess") == 403
        fresh = Peer("127.0.0.88")
        peers.append(fresh)
        assert register(fresh, "u1", "p1") == 403
        assert register(fresh, "u2", "p2") == 200  # only u1 is locked
    finally:
        cleanup(*(peers or []), srv)


def test_lockout_per_source_trusted_never():
    """Ten failures from one address (for ten names) lock that address out: no
    answer at all, even to the right password. A trusted address fails as often
    and is still served."""
    srv = atk = trusted = None
    try:
        srv = Server("srv", routes=DEFAULT_ROUTES, users=USERS,
                     extra=["--server-option", "trusted-peers=127.0.0.90/32"])
        atk = Peer("127.0.0.89")
        trusted = Peer("127.0.0.90")
        for i in range(10):
            assert register(atk, "name%d" % i, "guess") == 403
            assert register(trusted, "u1", "guess") == 403
        atk.request("REGISTER", "sip:%s" % SERVER, "u1", "u1", "after", 1, "Expires: 600\n")
        assert atk.recv(1.5) is None, "a locked-out source was answered"
        # neither the trusted address nor the user it failed for is locked out
        assert register(trusted, "u1", "p1") == 200
    finally:
        cleanup(atk, trusted, srv)


def ipv6_inner():
    """(Run inside a private user and network namespace.) Failures from ten
    addresses of one /64 lock the whole /64 out; another /64 is served."""
    for a in ["2001:db8:5::100", "2001:db8:6::1"] + ["2001:db8:5::%x" % (16 + i)
                                                      for i in range(11)]:
        subprocess.run(["ip", "-6", "addr", "add", a + "/64", "dev", "lo", "nodad"], check=True)
    srv = None
    peers = []
    try:
        srv = Server("srv6", addr="[2001:db8:5::100]", routes=DEFAULT_ROUTES, users=USERS)
        for i in range(10):
            p = Peer("2001:db8:5::%x" % (16 + i), server="2001:db8:5::100")
            peers.append(p)
            assert register(p, "name%d" % i, "guess") == 403
        same64 = Peer("2001:db8:5::%x" % 26, server="2001:db8:5::100")
        peers.append(same64)
        same64.request("REGISTER", "sip:[2001:db8:5::100]", "u1", "u1", "v6", 1, "Expires: 60\n")
        assert same64.recv(1.5) is None, "another address of the locked /64 was answered"
        other = Peer("2001:db8:6::1", server="2001:db8:5::100")
        peers.append(other)
        assert register(other, "u1", "p1") == 200
    finally:
        cleanup(*peers, srv)


def in_namespace(inner):
    """Runs INNERS[@inner] in a private user and network namespace of its own
    (loopback up, a default route over it, so clients that wait for a network
    start), and fails when it fails."""
    if shutil.which("unshare") is None:
        raise Skip("unshare is missing")
    probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True)
    if probe.returncode != 0:
        raise Skip("no user namespaces here: %s" % probe.stderr.decode().strip())
    r = subprocess.run(["unshare", "-rn", sys.executable, os.path.abspath(__file__),
                        headless.SOFTPHONE, "--inner", inner], capture_output=True, text=True,
                       timeout=240)
    for line in (r.stdout + r.stderr).splitlines()[-40:]:
        print("# " + line, flush=True)
    if r.returncode == 77:
        raise Skip(r.stdout.strip().splitlines()[-1])
    assert r.returncode == 0, "the run in its own namespace failed"


def test_lockout_ipv6_64():
    """IPv6 sources are counted by /64 (in a namespace of our own)."""
    in_namespace("ipv6")


def test_refusals_to_source():
    """Refusals of strangers go once, to the packet's source: an INVITE whose
    Via names another host (sent-by, no rport) and maddr gets its 401 back at
    the sender, nothing at the hosts the Via names, and no retransmission;
    the same for the 403 of bad credentials."""
    srv = atk = third = fourth = None
    try:
        srv = Server("srv", routes=DEFAULT_ROUTES, users=USERS)
        atk = Peer("127.0.0.95")
        third = Peer("127.0.0.96", port=5060)
        fourth = Peer("127.0.0.97", port=5060)
        ruri = "sip:u2@%s" % SERVER

        def spoofed(cseq, extra=""):
            atk.send("INVITE %s SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.96:5060;branch=z9hG4bKrefl%d;"
                     "maddr=127.0.0.97\nFrom: <sip:x@%s>;tag=r\nTo: <%s>\nCall-ID: refl-%d\n"
                     "CSeq: %d INVITE\nMax-Forwards: 70\n%sContent-Length: 0\n\n"
                     % (ruri, cseq, SERVER, ruri, cseq, cseq, extra))

        spoofed(1)
        got = atk.recv(2.0)
        if got is None:
            elsewhere = [p.addr for p in (third, fourth) if p.recv(0.5, skip=()) is not None]
            raise AssertionError("no answer at the source; answers went to %s" % elsewhere)
        status, headers = got[1], got[2]
        assert status == 401, status
        assert atk.recv(1.0, skip=()) is None, "the 401 was sent more than once"
        for p in (third, fourth):
            assert p.recv(0.2, skip=()) is None, "a 401 went to %s" % p.addr
        ch = challenge(headers)
        spoofed(2, authorization(ch, "u1", "wrong", "INVITE", ruri))
        assert atk.response()[0] == 403
        assert atk.recv(1.0, skip=()) is None, "the 403 was sent more than once"
        for p in (third, fourth):
            assert p.recv(0.2, skip=()) is None, "a 403 went to %s" % p.addr
    finally:
        cleanup(atk, third, fourth, srv)


def test_forward_closed_to_strangers():
    """With a forward rule and no noauth rule, a stranger's call to 0123 is
    challenged and never reaches the upstream server."""
    srv = up = atk = None
    try:
        srv = Server("srv", routes=FORWARD_ROUTES, users=USERS)
        up = Callee(SERVER2, "-", "-", register_it=False)
        atk = Peer("127.0.0.91")
        status, _ = invite(atk, "0123", "stranger")
        assert up.rang(0.5) is None, "the stranger's call went out to the upstream server"
        assert status == 401, status
    finally:
        cleanup(atk, up, srv)


def test_trusted_peer():
    """A trusted trunk calls u2 without credentials (its From is kept), with
    the seed's noauth rule in place; its calls do not take forward routes
    unless trusted-forward=on."""
    srv = u2 = trunk = up = None
    routes = "[default]\n${username}^$=-;error=noauth\n" + FORWARD_ROUTES.split("\n", 1)[1]
    try:
        srv = Server("srv", routes=routes, users=USERS,
                     extra=["--server-option", "trusted-peers=127.0.0.92/31"])
        u2 = Callee("127.0.0.101", "u2", "p2")
        trunk = Peer("127.0.0.93")
        trunk.request("INVITE", "sip:u2@%s" % SERVER, "+4930123456", "u2", "trunk-1", 1,
                      body=sdp(trunk.addr), display="Outside Caller")
        got = u2.rang(WAIT)
        assert got is not None, "the trusted peer's call did not ring u2"
        frm = header(got, "from")[0]
        assert "+4930123456" in frm and "Outside Caller" in frm, frm
        assert trunk.response()[0] == 486
        up = Callee(SERVER2, "-", "-", register_it=False)
        status, _ = invite(trunk, "0123", "+4930123456")
        assert up.rang(0.5) is None, "a trusted peer's call took a forward route"
        assert status == 403, status
        srv.close()
        srv = Server("srv", routes=routes, users=USERS,
                     extra=["--server-option", "trusted-peers=127.0.0.93",
                            "--server-option", "trusted-forward=on"])
        trunk.request("INVITE", "sip:0123@%s" % SERVER, "+4930123456", "0123", "trunk-2", 1,
                      body=sdp(trunk.addr))
        got = up.rang(WAIT)
        assert got is not None, "trusted-forward=on: the call did not go upstream"
    finally:
        cleanup(trunk, up, u2, srv)


def test_bad_trusted_peers():
    """A bad list is refused at start with a message naming the entry."""
    r = subprocess.run([headless.SOFTPHONE, "--headless", "--server", "--bind",
                        "127.0.0.94:5060", "--server-option", "trusted-peers=10.0.0.0/8,pbx.lan"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0, r
    assert "pbx.lan" in r.stderr, r.stderr


# ---- real clients at default settings -----------------------------------------------------

BARESIP = shutil.which("baresip")
LINPHONEC = shutil.which("linphonec")
TONE_A, TONE_B = 440, 1000


def baresip_start(tmp, addr, user, password, wav_in):
    config = ["poll_method epoll", "sip_listen %s:5060" % addr, "sip_trans_def udp",
              "audio_source aufile,%s" % wav_in, "audio_player aubridge,nowhere",
              "ausrc_srate 8000", "auplay_srate 8000", "ausrc_channels 1", "auplay_channels 1",
              "rtp_ports 30000-39998", "module_path /usr/lib/baresip/modules", "module g711.so",
              "module aufile.so", "module aubridge.so", "module sndfile.so", "module stdio.so",
              "snd_path " + tmp,
              "module_app account.so", "module_app menu.so"]
    with open(os.path.join(tmp, "config"), "w") as f:
        f.write("\n".join(config) + "\n")
    with open(os.path.join(tmp, "accounts"), "w") as f:
        f.write("<sip:%s@%s>;auth_pass=%s;regint=600;answermode=auto;audio_codecs=PCMU\n"
                % (user, SERVER, password))
    open(os.path.join(tmp, "contacts"), "w").close()
    log = open(os.path.join(tmp, "baresip.log"), "w")
    return subprocess.Popen([BARESIP, "-f", tmp], stdin=subprocess.PIPE, stdout=log,
                            stderr=subprocess.STDOUT)


def linphonec_start(tmp, addr, user, password):
    home = os.path.join(tmp, "home")
    os.makedirs(os.path.join(home, ".local", "share", "linphone"), exist_ok=True)
    rc = os.path.join(tmp, "linphonerc")
    with open(rc, "w") as f:
        f.write("[sip]\nsip_port=5060\nbind_address=%s\ndefault_proxy=0\n"
                "[rtp]\naudio_rtp_port=41000\n"
                "[sound]\nplayback_dev_id=\ncapture_dev_id=\n"
                "[auth_info_0]\nusername=%s\npasswd=%s\nrealm=softphone\n"
                "[proxy_0]\nreg_proxy=<sip:%s;transport=udp>\nreg_identity=sip:%s@%s\n"
                "reg_expires=600\nreg_sendregister=1\n"
                % (addr, user, password, SERVER, user, SERVER))
    env = dict(os.environ, HOME=home)
    log = open(os.path.join(tmp, "linphonec.log"), "w")
    return subprocess.Popen([LINPHONEC, "-c", rc], stdin=subprocess.PIPE, stdout=log,
                            stderr=subprocess.STDOUT, env=env, text=True)


def stop(proc):
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=WAIT)


def test_real_clients_default_digest():
    """At the default digest settings, Debian 12's baresip 1.0 (u1) and
    linphonec 5.1 (u2) register and call each other through the server;
    linphonec logs in with SHA-256, baresip with MD5 (in a namespace of our
    own: linphonec waits for a default route)."""
    in_namespace("clients")


def real_clients_inner():
    if BARESIP is None:
        raise Skip("baresip is not installed")
    if LINPHONEC is None:
        raise Skip("linphonec is not installed (package linphone-cli)")
    srv = bare = lin = None
    tmp = tempfile.mkdtemp(prefix="sp-policy-clients-")
    try:
        wav = os.path.join(tmp, "a.wav")
        make_tone(wav, TONE_A)
        srv = Server("srv", routes=DEFAULT_ROUTES, users=USERS, extra=["--log-sip"])
        lin = linphonec_start(tmp, "127.0.0.101", "u2", "p2")
        srv.wait("server_registered", user="u2", timeout=20)
        bare = baresip_start(tmp, "127.0.0.183", "u1", "p1", wav)
        srv.wait("server_registered", user="u1", timeout=20)
        lin.stdin.write("autoanswer enable\n")
        lin.stdin.flush()
        time.sleep(0.5)
        bare.stdin.write(b"d u2\n")
        bare.stdin.flush()
        call = srv.wait("server_call", timeout=20)
        assert call["caller"] == "u1" and call["callee"] == "u2", call
        # answered: the call is up for a while, then baresip hangs up
        time.sleep(3)
        bare.stdin.write(b"b\n")
        bare.stdin.flush()
        ended = srv.wait("server_call_ended", timeout=20)
        assert ended["status"] == 200, ended
        # and the other way: linphonec calls u1, baresip answers by itself
        # (once linphonec has taken the BYE: it refuses a second call before)
        time.sleep(2)
        lin.stdin.write("call sip:u1@%s\n" % SERVER)
        lin.stdin.flush()
        call = srv.wait("server_call", timeout=20)
        assert call["caller"] == "u2" and call["callee"] == "u1", call
        time.sleep(3)
        lin.stdin.write("terminate\n")
        lin.stdin.flush()
        ended = srv.wait("server_call_ended", timeout=20)
        assert ended["status"] == 200, ended
        # Which algorithm each one logged in with, from the server's wire log.
        algos = {}
        for block in re.split(r"^----- SIP ", srv.full_log(), flags=re.M):
            if not block.startswith("received") or not re.search(r"\n(REGISTER|INVITE) ", block):
                continue
            agent = re.search(r"^User-Agent: *(\S+)", block, re.M)
            auth = re.search(r"^Authorization:(.*)$", block, re.M | re.I)
            if agent and auth:
                algo = re.search(r"algorithm=\"?([\w-]+)", auth.group(1), re.I)
                # RFC 2617: no algorithm parameter means MD5
                method = re.search(r"\n(REGISTER|INVITE) ", block).group(1)
                algos[(agent.group(1).split("/")[0], method)] = (algo.group(1).upper() if algo
                                                                 else "MD5")
        print("# digest algorithms used: %s" % algos, flush=True)
        if os.environ.get("SP_POLICY_DUMP"):
            with open(os.environ["SP_POLICY_DUMP"], "w") as f:
                f.write(srv.full_log())
        for method in ("REGISTER", "INVITE"):
            assert algos.get(("Linphonec", method)) == "SHA-256", algos
            assert algos.get(("baresip", method)) == "MD5", algos
    finally:
        stop(bare)
        if lin is not None and lin.poll() is None:
            try:
                lin.stdin.write("quit\n")
                lin.stdin.flush()
            except (BrokenPipeError, ValueError):
                pass
        stop(lin)
        cleanup(srv)
        for name in ("baresip.log", "linphonec.log"):
            path = os.path.join(tmp, name)
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    tail = f.read().splitlines()[-8:]
                for line in tail:
                    print("# %s: %s" % (name, line), flush=True)
        shutil.rmtree(tmp, ignore_errors=True)


INNERS = {"ipv6": ipv6_inner, "clients": real_clients_inner}

TESTS = {
    "unauthenticated-invite": test_unauthenticated_invite,
    "no-enumeration": test_no_enumeration,
    "identity-not-spoofed": test_identity_not_spoofed,
    "nonce-bound-to-source": test_nonce_bound_to_source,
    "digest-uri-must-match": test_digest_uri_must_match,
    "qopless-replay": test_qopless_replay,
    "lockout-per-user": test_lockout_per_user,
    "lockout-per-source-trusted-never": test_lockout_per_source_trusted_never,
    "lockout-ipv6-64": test_lockout_ipv6_64,
    "refusals-to-source": test_refusals_to_source,
    "forward-closed-to-strangers": test_forward_closed_to_strangers,
    "trusted-peer": test_trusted_peer,
    "bad-trusted-peers": test_bad_trusted_peers,
    "real-clients-default-digest": test_real_clients_default_digest,
}


def main():
    headless.SOFTPHONE = sys.argv[1]
    if sys.argv[2:3] == ["--inner"]:
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        subprocess.run(["ip", "route", "add", "default", "dev", "lo"], check=True)
        try:
            INNERS[sys.argv[3]]()
        except Skip as e:
            print(e, flush=True)
            return 77
        except Exception:
            traceback.print_exc(file=sys.stdout)
            return 1
        return 0
    return headless.run_tap(TESTS, sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
