#!/usr/bin/python3
"""LAN discovery with DNS-SD (issue 17) on a real LAN of network namespaces.

Three "PCs" (network namespaces) on a bridge in this test's own namespace
(tools/own-netns.sh), addresses 198.18.0.10 (the server), .11 and .12 (two
phones), each also with an IPv6 address (2001:db8::10 to ::13). Each PC
has its own system D-Bus (a private dbus-daemon, found
through DBUS_SYSTEM_BUS_ADDRESS) and its own avahi-daemon in a private mount
namespace (a private /run); mDNS crosses the bridge as real multicast.
Every instance runs at its default bind, 0.0.0.0:5060.

server-found-register: a phone finds the server (name, address, port, realm,
  TLS fingerprint as the server reports it) and registers with what it found.
server-not-advertised: with --no-server-advertise the phone finds nothing
  (the case that shows the first one can fail).
nearby-call: two phones find each other by name (not themselves) and call
  with no address typed; tones both ways.
server-scenario: the seed's scenario at the default bind: both phones
  register with the found server, u1 dials 2, tones both ways through the relay.
name-collision: a third phone advertising a name already taken is renamed
  ("Bob #2") and both are found; its avahi-daemon stops (said once, no busy
  loop, the phone goes on) and starts again (published again by itself).
strangers: raw mDNS packets announce 152 servers, one named with terminal
  escapes, one with an oversized TXT value: at most 64 listed, the bad name
  and value dropped.
late-records: a server's PTR record comes alone (its SRV, TXT and address
  later): the resolve fails, and the phone lists the server once they come.
presence-lan (a fourth PC, 198.18.0.13): phone A subscribes and sees B go
  ringing, in a call, available (each within a second) and offline.
pickup-lan (four PCs): C calls B, A picks up with `pickup 2`: C and A talk
  (tones both ways), B's ringing ends as "Answered elsewhere".

Usage: discovery-lan.py SOFTPHONE [TEST...]   (prints TAP)
Every namespace, link and process made here is removed again, processes by PID.
"""
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import headless  # noqa: E402
from headless import TONE_A, TONE_B, Instance, Skip, check_tones, make_tones  # noqa: E402

SERVER_IP = "198.18.0.10"
USERS = ("[general]\nauth=100\n[u1]\npassword=p1\n[u2]\npassword=p2\n"
         "[u3]\npassword=p3\n")
ROUTES = "[default]\n${username}^$=-;error=noauth\n^1$=return;called=u1\n^2$=return;called=u2\n"
PCS = [("srv", SERVER_IP), ("pca", "198.18.0.11"), ("pcb", "198.18.0.12")]
PCC = ("pcc", "198.18.0.13")  # a third phone, for the presence and pickup tests
DISCOVERY_WAIT = 30.0  # s: mDNS announcements and Avahi's start-up on a loaded machine (15 s missed once in CI)

BUS_CONF = """<busconfig><type>system</type><listen>unix:path=%s</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow own="*"/><allow send_type="method_call"/>
<allow send_destination="*"/><allow receive_sender="*"/></policy>
<includedir>/usr/share/dbus-1/system.d</includedir></busconfig>
"""
AVAHI_CONF = """[server]
host-name=%s
use-ipv6=no
allow-interfaces=e0
[publish]
publish-hinfo=no
publish-workstation=no
"""


def ip(*args, check=True):
    return subprocess.run(["ip"] + list(args), capture_output=True, text=True, timeout=10,
                          check=check)


def own_netns_or_skip():
    needed = ("ip", "avahi-daemon", "dbus-daemon", "unshare", "sox")
    if os.getuid() != 0 or any(shutil.which(p) is None for p in needed):
        raise Skip("needs root, iproute2, dbus, avahi-daemon and sox")
    links = ip("-o", "link", "show").stdout.splitlines()
    if [line.split(":")[1].strip() for line in links] != ["lo"]:
        raise Skip("not in a network namespace of its own (tests/tools/own-netns.sh)")


class Lan:
    """PCs on one bridge, each with its own system bus and avahi-daemon."""

    def __init__(self, pcs):
        own_netns_or_skip()
        self.dir = tempfile.mkdtemp(prefix="sp-discovery-lan-")
        self.tag = "%d" % os.getpid()
        self.netns = {}
        self.bus = {}
        self.procs = []  # (name, Popen): every daemon started here
        self.links = []
        self.made = []
        try:
            ip("link", "add", "spbr0", "type", "bridge")
            self.links.append("spbr0")
            ip("link", "set", "spbr0", "up")
            for i, (pc, addr) in enumerate(pcs):
                self._pc(pc, addr, i)
            # Both daemons up (a bus and Avahi's name on it) before anything uses them.
            for pc, _ in pcs:
                self._wait_avahi(pc)
        except Exception:
            self.close()
            raise

    def _pc(self, pc, addr, i):
        ns = "spdisc-%s-%s" % (self.tag, pc)
        ip("netns", "add", ns)
        self.made.append(ns)
        self.netns[pc] = ns
        veth = "vd%d" % i
        ip("link", "add", veth, "type", "veth", "peer", "name", "e0", "netns", ns)
        self.links.append(veth)
        ip("link", "set", veth, "master", "spbr0", "up")
        ip("-n", ns, "addr", "add", addr + "/24", "dev", "e0")
        # A routable IPv6 address too, as on an office LAN with IPv6:
        # Avahi announces its AAAA record over IPv4 mDNS as well, and a
        # phone that binds 0.0.0.0 must be found at its IPv4 address.
        ip("-n", ns, "addr", "add", "2001:db8::%d/64" % (10 + i), "dev", "e0", "nodad")
        ip("-n", ns, "link", "set", "e0", "up")
        ip("-n", ns, "link", "set", "lo", "up")
        d = os.path.join(self.dir, pc)
        os.makedirs(d)
        sock = os.path.join(d, "system_bus_socket")
        with open(os.path.join(d, "bus.conf"), "w") as f:
            f.write(BUS_CONF % sock)
        with open(os.path.join(d, "avahi.conf"), "w") as f:
            f.write(AVAHI_CONF % pc)
        self.bus[pc] = "unix:path=" + sock
        log = open(os.path.join(d, "daemons.log"), "w")
        self.procs.append(("dbus-" + pc, subprocess.Popen(
            ["dbus-daemon", "--config-file=" + os.path.join(d, "bus.conf"), "--nofork"],
            stdout=log, stderr=log)))
        deadline = time.monotonic() + 10
        while not os.path.exists(sock):
            assert time.monotonic() < deadline, "%s: no system bus" % pc
            time.sleep(0.05)
        self.start_avahi(pc)

    def start_avahi(self, pc):
        d = os.path.join(self.dir, pc)
        log = open(os.path.join(d, "daemons.log"), "a")
        # ip netns exec, unshare and sh all exec: the PID is avahi-daemon's.
        # A private /run (tmpfs) holds its PID file and socket.
        script = ('mount -t tmpfs -o mode=755 sp-run /run && mkdir /run/avahi-daemon && '
                  'exec "$@"')
        self.procs.append(("avahi-" + pc, subprocess.Popen(
            ["ip", "netns", "exec", self.netns[pc], "unshare", "-m", "--propagation", "private",
             "sh", "-c", script, "sh", "avahi-daemon", "--no-drop-root", "--no-chroot",
             "--no-rlimits", "-f", os.path.join(d, "avahi.conf")],
            stdout=log, stderr=log, env=self.env(pc))))

    def _wait_avahi(self, pc):
        deadline = time.monotonic() + 15
        while True:
            r = subprocess.run(["dbus-send", "--system", "--print-reply",
                                "--dest=org.freedesktop.Avahi", "/",
                                "org.freedesktop.Avahi.Server.GetState"],
                               capture_output=True, text=True, timeout=10, env=self.env(pc))
            # AVAHI_SERVER_RUNNING is 2: its host name is registered.
            if r.returncode == 0 and "int32 2" in r.stdout:
                return
            assert time.monotonic() < deadline, "%s: avahi-daemon not running: %s %s" % (
                pc, r.stderr, self.daemon_log(pc))
            time.sleep(0.2)

    def daemon_log(self, pc):
        try:
            with open(os.path.join(self.dir, pc, "daemons.log")) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def browse(self, pc):
        try:
            r = subprocess.run(self.prefix(pc) + ["avahi-browse", "-a", "-r", "-p", "-t"],
                               capture_output=True, text=True, timeout=15, env=self.env(pc))
            return r.stdout + r.stderr
        except subprocess.TimeoutExpired:
            return "avahi-browse: timed out"

    def env(self, pc):
        return dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus[pc])

    def prefix(self, pc):
        return ["ip", "netns", "exec", self.netns[pc]]

    def stop_avahi(self, pc):
        for name, p in self.procs:
            if name == "avahi-" + pc and p.poll() is None:
                p.terminate()
                p.wait(timeout=10)

    def close(self):
        for _, p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=5)
        for ns in self.made:
            ip("netns", "del", ns, check=False)
        for link in self.links:
            ip("link", "del", link, check=False)
        shutil.rmtree(self.dir, ignore_errors=True)



def cpu_ticks(pid):
    """User and system CPU time of @pid, in clock ticks."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def wait_named(inst, event, name, timeout=DISCOVERY_WAIT):
    """The next @event about the service called @name (Instance.wait's
    own first parameter is called name)."""
    deadline = time.monotonic() + timeout
    while True:
        ev = inst.wait(event, timeout=max(0.1, deadline - time.monotonic()))
        if ev.get("name") == name:
            return ev


class Scene:
    """A LAN with a server PC and two phone PCs, the instances started on it,
    all stopped and removed at the end (also on failure)."""

    def __init__(self, pcs=PCS):
        self.lan = None
        self.pcs = pcs
        self.instances = []
        self.tmp = tempfile.mkdtemp(prefix="sp-discovery-")

    def __enter__(self):
        self.lan = Lan(self.pcs)
        return self

    def start(self, name, pc, args, debug=False):
        env = self.lan.env(pc)
        if debug:
            env["G_MESSAGES_DEBUG"] = "all"
        inst = Instance(name, args, env=env, prefix=self.lan.prefix(pc))
        self.instances.append(inst)
        return inst

    def server(self, extra=()):
        for n, text in (("users.conf", USERS), ("routes.conf", ROUTES)):
            with open(os.path.join(self.tmp, n), "w") as f:
                f.write(text)
        srv = self.start("srv", "srv", ["--server", "--server-name", "Office server",
                                        "--users", os.path.join(self.tmp, "users.conf"),
                                        "--routes", os.path.join(self.tmp, "routes.conf")]
                         + list(extra))
        srv.fingerprint = srv.wait("tls")["fingerprint"]
        assert srv.wait("ready")["sip"] == "0.0.0.0:5060"
        return srv

    def phone(self, user, pc, extra=()):
        """Our phone in @pc registered as @user with the server by its
        address (its default bind, 0.0.0.0:5060)."""
        p = self.start(user, pc, ["--account", "sip:%s:p%s@%s" % (user, user[1:], SERVER_IP)]
                       + list(extra))
        assert p.wait("ready")["sip"] == "0.0.0.0:5060"
        assert p.wait("registered")["code"] == 200
        return p

    def __exit__(self, kind, value, tb):
        if kind is not None and kind is not Skip:
            for p in self.instances:
                print("# ---- %s stderr (end) ----" % p.name, flush=True)
                for line in p.log().splitlines()[-30:]:
                    print("# " + line, flush=True)
            if self.lan is not None:
                for pc in self.lan.netns:
                    print("# ---- %s daemons ----" % pc, flush=True)
                    for line in self.lan.daemon_log(pc).splitlines()[-10:]:
                        print("# " + line, flush=True)
                    # What this PC's Avahi knows now: its own and others' services.
                    print("# ---- %s: avahi-browse -a -r -p -t ----" % pc, flush=True)
                    for line in self.lan.browse(pc).splitlines()[-20:]:
                        print("# " + line, flush=True)
        for p in self.instances:
            p.close()
        if self.lan is not None:
            self.lan.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return False


def test_server_found_register():
    with Scene() as s:
        srv = s.server()
        a = s.start("u1", "pca", ["--discover"])
        assert a.wait("ready")["sip"] == "0.0.0.0:5060"
        found = wait_named(a, "server_found", "Office server")
        print("# u1 found %s" % found, flush=True)
        assert found["address"] == SERVER_IP and found["port"] == 5060, found
        assert found["realm"] == "softphone" and found["display_name"] == "Office server", found
        assert found["tls_port"] == 5061 and found["fingerprint"] == srv.fingerprint, found
        a.send("use-server Office server u1:p1")
        reg = a.wait("registered")
        assert reg["code"] == 200, reg
        reg = srv.wait("server_registered", user="u1")
        assert "198.18.0.11" in reg["contact"], reg
        # The fingerprint it advertised is pinned for its TLS address, so a
        # TLS account with it checks that very certificate.
        with open(os.path.join(a.dir, "tls-pins")) as f:
            pins = f.read()
        assert "%s:5061 %s" % (SERVER_IP, srv.fingerprint) in pins, pins
        # A name nobody advertises: a clear error naming what was found.
        a.send("use-server Nobody u1:p1")
        err = a.wait("error")
        assert "no server called “Nobody”" in err["message"], err
        assert "“Office server”" in err["message"], err
        a.quit()
        srv.quit()


def test_server_not_advertised():
    with Scene() as s:
        s.server(["--no-server-advertise"])
        a = s.start("u1", "pca", ["--discover", "--advertise=Alice"])
        a.wait("ready")
        b = s.start("u2", "pcb", ["--discover"])
        # The phone that does advertise is found in the same time: the LAN
        # carries mDNS, the server just is not on it.
        wait_named(b, "nearby_phone", "Alice")
        time.sleep(3)
        b.send("use-server Office server u2:p2")
        err = b.wait("error")
        assert "no server called" in err["message"], err
        assert not [e for e in b.seen if e.get("event") == "server_found"], b.seen
        a.quit()
        b.quit()


def test_nearby_call():
    with Scene() as s:
        a_in, b_in, a_out, b_out = make_tones(s.tmp)
        a = s.start("alice", "pca", ["--discover", "--advertise=Alice Liddell",
                                     "--audio-in", a_in, "--audio-out", a_out])
        b = s.start("bob", "pcb", ["--discover", "--advertise=Bob", "--auto-answer",
                                   "--audio-in", b_in, "--audio-out", b_out])
        a.wait("ready")
        b.wait("ready")
        found = wait_named(a, "nearby_phone", "Bob")
        assert found["address"] == "198.18.0.12" and found["port"] == 5060, found
        wait_named(b, "nearby_phone", "Alice Liddell")
        a.send("call-nearby bob")  # names match case-insensitively
        a.wait("established")
        inc = b.wait("incoming")
        print("# Bob's incoming call: %s" % inc, flush=True)
        b.wait("established")
        time.sleep(3)
        a.send("hangup")
        a.wait("ended")
        b.wait("ended")
        # Neither phone listed itself.
        for p, me in ((a, "Alice Liddell"), (b, "Bob")):
            assert not [e for e in p.seen if e.get("event") == "nearby_phone"
                        and e.get("name") == me], p.name
        a.send("call-nearby Carol")
        err = a.wait("error")
        assert "no phone called “Carol”" in err["message"] and "“Bob”" in err["message"], err
        a.quit()
        b.quit()
        check_tones(a_out, b_out, "call by name")


def test_server_scenario():
    with Scene() as s:
        a_in, b_in, a_out, b_out = make_tones(s.tmp)
        srv = s.server()
        u2 = s.start("u2", "pcb", ["--discover", "--auto-answer", "--audio-in", b_in,
                                   "--audio-out", b_out])
        u1 = s.start("u1", "pca", ["--discover", "--audio-in", a_in, "--audio-out", a_out])
        for p, cred in ((u2, "u2:p2"), (u1, "u1:p1")):
            assert p.wait("ready")["sip"] == "0.0.0.0:5060"
            wait_named(p, "server_found", "Office server")
            p.send("use-server Office server " + cred)
            assert p.wait("registered")["code"] == 200
        srv.wait("server_registered", user="u2")
        srv.wait("server_registered", user="u1")
        u1.send("call 2")
        u1.wait("established")
        u2.wait("established")
        srv.wait("server_call")
        time.sleep(3)
        u1.send("hangup")
        u1.wait("ended")
        u2.wait("ended")
        srv.wait("server_call_ended", status=200)
        for p in (u1, u2, srv):
            p.quit()
        check_tones(a_out, b_out, "server scenario at 0.0.0.0")


def test_name_collision():
    with Scene() as s:
        a = s.start("bob1", "pca", ["--advertise=Bob"])
        a.wait("ready")
        b = s.start("watcher", "srv", ["--discover"])
        wait_named(b, "nearby_phone", "Bob")
        c = s.start("bob2", "pcb", ["--advertise=Bob"])
        c.wait("ready")
        second = wait_named(b, "nearby_phone", "Bob #2")
        assert second["address"] == "198.18.0.12", second
        assert "the name \"Bob\" is taken on this network; now \"Bob #2\"" in c.full_log()
        # Its Avahi goes away: the phone says why once, keeps working and
        # does not spin while it waits (CPU time over 3 s of outage).
        s.lan.stop_avahi("pcb")
        ev = c.wait("discovery_unavailable", timeout=DISCOVERY_WAIT)
        assert "Avahi" in ev["reason"], ev
        wait_named(b, "nearby_phone_lost", "Bob #2")
        before = cpu_ticks(c.proc.pid)
        time.sleep(3)
        spent = cpu_ticks(c.proc.pid) - before
        print("# bob2 used %d CPU ticks in 3 s without Avahi" % spent, flush=True)
        assert spent < 30, spent
        c.send("status")
        c.wait("status")
        assert c.full_log().count("is off: ") == 1, c.full_log()
        # Avahi is back: the phone is published again, by itself.
        s.lan.start_avahi("pcb")
        c.wait("discovery_available", timeout=DISCOVERY_WAIT)
        again = wait_named(b, "nearby_phone", "Bob #2")
        assert again["address"] == "198.18.0.12", again
        for p in (a, b, c):
            p.quit()


FAST = 1.0  # s: a presence change reaches the watcher within this


def timed_state(watcher, number, state):
    """The watcher's contact event for @number in @state, within FAST of
    now (the change as the test saw it; an event already queued counts as
    at once)."""
    since = time.monotonic()
    watcher.wait("contact", number=number, state=state)
    took = time.monotonic() - since
    print("# %s went %s: seen after %.2f s" % (number, state, took), flush=True)
    assert took < FAST, "%s went %s after %.2f s" % (number, state, took)


def test_presence_lan():
    """Presence across the LAN: A (u1, pca) subscribes and sees B (u2, pcb)
    available, ringing, in a call and available again, each within a
    second of the change, when C (u3, pcc) calls it; offline once B
    unregisters."""
    with Scene(PCS + [PCC]) as s:
        srv = s.server()
        b = s.phone("u2", "pcb")
        c = s.phone("u3", "pcc")
        a = s.phone("u1", "pca")
        for user in ("u2", "u3", "u1"):
            srv.wait("server_registered", user=user)
        a.send("subscribe")
        d = a.wait("directory")
        numbers = sorted(x["number"] for x in d["contacts"])
        assert numbers == ["u2", "u3"], d
        a.wait("contact", number="u2", state="available")
        c.send("call 2")
        b.wait("incoming")
        timed_state(a, "u2", "ringing")
        b.send("answer")
        b.wait("established")
        timed_state(a, "u2", "in-call")
        c.send("hangup")
        b.wait("ended")
        timed_state(a, "u2", "available")
        b.send("unregister")
        srv.wait("server_unregistered", user="u2")
        timed_state(a, "u2", "offline")
        for p in (a, b, c, srv):
            p.quit()


def test_pickup_lan():
    """Pickup across the LAN: C (u3, pcc) calls 2, B (u2, pcb) rings, A (u1,
    pca) sends `pickup 2`: C and A talk (tones both ways through the relay),
    B stops ringing, its call ending as "Answered elsewhere"."""
    with Scene(PCS + [PCC]) as s:
        c_in, a_in, c_out, a_out = make_tones(s.tmp)
        srv = s.server()
        b = s.phone("u2", "pcb")
        c = s.phone("u3", "pcc", ["--audio-in", c_in, "--audio-out", c_out])
        a = s.phone("u1", "pca", ["--audio-in", a_in, "--audio-out", a_out])
        for user in ("u2", "u3", "u1"):
            srv.wait("server_registered", user=user)
        c.send("call 2")
        b.wait("incoming")
        c.wait("ringing")
        srv.wait("server_call", caller="u3", callee="u2")
        a.send("pickup 2")
        assert "**2" in a.wait("dialing")["to"]
        a.wait("established")
        c.wait("established")
        ended = b.wait("ended")
        assert (ended["reason"], ended["code"]) == ("Answered elsewhere", 200), ended
        time.sleep(3)
        a.send("hangup")
        a.wait("ended")
        assert c.wait("ended")["reason"] == "Remote hangup"
        srv.wait("server_call_ended", status=200)
        b.send("status")
        calls = b.wait("status")["calls"]
        assert all(x["state"] == "ended" for x in calls), calls
        for p in (a, b, c, srv):
            p.quit()
        check_tones(c_out, a_out, "pickup across the LAN")


def dns_name(*labels):
    out = b""
    for label in labels:
        raw = label if isinstance(label, bytes) else label.encode()
        out += bytes([len(raw)]) + raw
    return out + b"\0"


def rr(name, rtype, rdata, flush=True, ttl=120):
    return name + struct.pack("!HHIH", rtype, (0x8001 if flush else 1), ttl, len(rdata)) + rdata


def announcement(instance, port, txt, host=b"evil", address="198.18.0.12", ptr_only=False):
    """An unsolicited mDNS response announcing @instance (bytes) as a
    _sip._udp service: PTR, SRV, TXT (a list of bytes) and the host's A
    (only the PTR with @ptr_only)."""
    inst = dns_name(instance, "_sip", "_udp", "local")
    target = dns_name(host, "local")
    records = [
        rr(dns_name("_sip", "_udp", "local"), 12, inst, flush=False),
        rr(inst, 33, struct.pack("!HHH", 0, 0, port) + target),
        rr(inst, 16, b"".join(bytes([len(t)]) + t for t in txt) or b"\0"),
        rr(target, 1, socket.inet_aton(address)),
    ]
    if ptr_only:
        records = records[:1]
    return struct.pack("!HHHHHH", 0, 0x8400, 0, len(records), 0, 0) + b"".join(records)


STRANGER = r"""
import socket, sys
packets = [bytes.fromhex(line) for line in sys.stdin.read().split()]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.18.0.12", 5353))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
for p in packets:
    s.sendto(p, ("224.0.0.251", 5353))
"""


def stranger_says(scene, packets):
    """pcb (its Avahi stopped) multicasts @packets as mDNS responses."""
    subprocess.run(scene.lan.prefix("pcb") + [sys.executable, "-c", STRANGER],
                   input="\n".join(p.hex() for p in packets), text=True, check=True,
                   timeout=30)


def test_late_records():
    """A server whose PTR record arrives without its SRV, TXT and address
    (they were lost, or its host was too busy to answer in time): the
    phone's resolve fails. Avahi reports a PTR once while it lives, so
    when the records do come the phone must try again by itself and list
    the server."""
    with Scene() as s:
        a = s.start("u1", "pca", ["--discover"], debug=True)
        a.wait("ready")
        s.lan.stop_avahi("pcb")  # nobody answers pca's queries for the SRV
        stranger_says(s, [announcement(b"Late server", 5070, [b"realm=late"], ptr_only=True)])
        deadline = time.monotonic() + 30
        while 'could not resolve "Late server"' not in a.full_log():
            assert time.monotonic() < deadline, "the resolve never failed"
            time.sleep(0.2)
        assert not [e for e in a.seen if e.get("event") == "server_found"], a.seen
        for _ in range(2):  # mDNS is UDP: say it twice
            stranger_says(s, [announcement(b"Late server", 5070, [b"realm=late"])])
            time.sleep(1)
        found = wait_named(a, "server_found", "Late server")
        print("# listed after a failed resolve: %s" % found, flush=True)
        assert found["address"] == "198.18.0.12" and found["port"] == 5070, found
        assert found["realm"] == "late", found
        a.quit()


def test_strangers():
    """A stranger on the LAN announces 150 SIP servers with raw mDNS
    packets, one named with terminal escapes, one with an oversized TXT
    value: the phone lists at most 64, drops the bad name and the
    oversized value, and says once that there are more."""
    with Scene() as s:
        a = s.start("u1", "pca", ["--discover"])
        a.wait("ready")
        s.lan.stop_avahi("pcb")  # the stranger speaks mDNS itself, on its port
        packets = [announcement(b"\x1b[31mEvil\x07", 5060, [b"realm=x"]),
                   announcement(b"Long TXT", 5060, [b"realm=" + b"x" * 210, b"name=ok"]
                                + [b"k%d=v" % i for i in range(40)])]
        packets += [announcement(b"Evil %d" % i, 5060 + i, [b"realm=evil"]) for i in range(150)]
        for _ in range(2):  # mDNS is UDP: say it twice
            stranger_says(s, packets)
            time.sleep(1)
        time.sleep(4)
        a.send("status")
        a.wait("status")
        found = [e for e in a.seen if e.get("event") == "server_found"]
        names = {e["name"] for e in found}
        print("# the phone listed %d of 152 announced servers" % len(names), flush=True)
        assert 0 < len(names) <= 64, len(names)
        assert not [n for n in names if any(ord(c) < 0x20 or ord(c) == 0x7f for c in n)], names
        long_txt = [e for e in found if e["name"] == "Long TXT"]
        if long_txt:  # it may have come after the cap
            assert "realm" not in long_txt[0] and long_txt[0]["display_name"] == "ok", long_txt
        assert a.full_log().count("services on the network; the rest are not listed") == 1
        a.quit()


TESTS = {
    "server-found-register": test_server_found_register,
    "server-not-advertised": test_server_not_advertised,
    "nearby-call": test_nearby_call,
    "server-scenario": test_server_scenario,
    "name-collision": test_name_collision,
    "strangers": test_strangers,
    "late-records": test_late_records,
    "presence-lan": test_presence_lan,
    "pickup-lan": test_pickup_lan,
}


def main():
    headless.SOFTPHONE = sys.argv[1]
    return headless.run_tap(TESTS, sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
