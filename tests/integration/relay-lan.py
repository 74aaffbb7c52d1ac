#!/usr/bin/python3
"""The server's media relay on a wildcard bind (0.0.0.0 and ::), on real LANs
made of network namespaces (issue 12: "with any bind the relay works").

The server runs in this test's own network namespace (tools/own-netns.sh) with
two bridges: LAN A 198.18.0.0/25 (the server is 198.18.0.1 there) and LAN B
198.18.0.128/25 (198.18.0.129). Phone u1 is 198.18.0.2 in a namespace on LAN A,
u2 198.18.0.130 on LAN B; neither has a route to the other (the server does not
forward), so every tone heard crossed the relay. Each phone must be told the
relay's address on its own LAN: the one the route to it leaves from. The same
again over IPv6 (2001:2:0:a::/64 and 2001:2:0:b::/64) with the server on ::,
and with the server on :: between an IPv4 LAN A and an IPv6 LAN B (a dual-stack
bind: the IPv4 phone registers and calls through it, named as IPv4 everywhere).

wildcard-dialled-address: on loopback alone, a server on 0.0.0.0 that each phone
reaches by another address of the machine (127.0.0.2, 127.0.0.3; the route back
leaves from 127.0.0.1) names the dialled address in its Contact, and the caller's
challenged BYE, sent there, is answered.

Usage: relay-lan.py SOFTPHONE [TEST...]   (prints TAP)
Every namespace, link and process made here is removed again, processes by PID.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import headless  # noqa: E402
from headless import TONE_A, TONE_B, Instance, Skip, check_tones, make_tones  # noqa: E402

# (server on LAN A, server on LAN B, u1, u2, prefix length) per family; IPv6
# from the benchmarking range 2001:2::/48 (RFC 5180).
PLAN = {
    4: ("198.18.0.1", "198.18.0.129", "198.18.0.2", "198.18.0.130", 25),
    6: ("2001:2:0:a::1", "2001:2:0:b::1", "2001:2:0:a::2", "2001:2:0:b::2", 64),
}
USERS = "[general]\nauth=100\n[u1]\npassword=p1\n[u2]\npassword=p2\n"
ROUTES = "[default]\n${username}^$=-;error=noauth\n^1$=return;called=u1\n^2$=return;called=u2\n"


def ip(*args, check=True):
    return subprocess.run(["ip"] + list(args), capture_output=True, text=True, timeout=10,
                          check=check)


def own_netns_or_skip():
    if os.getuid() != 0 or shutil.which("ip") is None:
        raise Skip("needs root and iproute2 for network namespaces")
    # Bridges and addresses go only into a namespace of this test's own
    # (own-netns.sh makes one with loopback alone), never the machine's.
    links = ip("-o", "link", "show").stdout.splitlines()
    if [line.split(":")[1].strip() for line in links] != ["lo"]:
        raise Skip("not in a network namespace of its own (tests/tools/own-netns.sh)")


class Lan:
    """Two bridges in this namespace, one phone namespace on each; LAN A of
    family @family, LAN B of @family_b (default the same)."""

    def __init__(self, family, family_b=None):
        own_netns_or_skip()
        tag = "%d" % os.getpid()
        self.netns = {"a": "spnode-%s-a" % tag, "b": "spnode-%s-b" % tag}
        self.links = []
        self.made = []
        server_a, _, u1, _, plen_a = PLAN[family]
        _, server_b, _, u2, plen_b = PLAN[family_b or family]
        try:
            self._side("a", "spbrA", server_a, u1, plen_a)
            self._side("b", "spbrB", server_b, u2, plen_b)
        except Exception:
            self.close()
            raise

    def _side(self, side, bridge, server_ip, phone_ip, plen):
        ns = self.netns[side]
        ip("link", "add", bridge, "type", "bridge")
        self.links.append(bridge)
        # nodad: the address is usable at once, not after duplicate detection.
        ip("addr", "add", "%s/%d" % (server_ip, plen), "dev", bridge, *self.nodad(server_ip))
        ip("link", "set", bridge, "up")
        ip("netns", "add", ns)
        self.made.append(ns)
        veth = "v" + bridge
        ip("link", "add", veth, "type", "veth", "peer", "name", "e0", "netns", ns)
        self.links.append(veth)
        ip("link", "set", veth, "master", bridge, "up")
        ip("-n", ns, "addr", "add", "%s/%d" % (phone_ip, plen), "dev", "e0",
           *self.nodad(phone_ip))
        ip("-n", ns, "link", "set", "e0", "up")
        ip("-n", ns, "link", "set", "lo", "up")

    @staticmethod
    def nodad(addr):
        return ["nodad"] if ":" in addr else []

    def prefix(self, side):
        return ["ip", "netns", "exec", self.netns[side]]

    def close(self):
        for ns in self.made:
            ip("netns", "del", ns, check=False)
        for link in self.links:
            ip("link", "del", link, check=False)


def sdp_addresses(log):
    """Every address an SDP in @log (a --log-sip stderr) names in c= lines."""
    return set(re.findall(r"c=IN IP[46] ([0-9a-fA-F.:]+)", log))



def bracket(host):
    return "[%s]" % host if ":" in host else host


def relayed_call(bind, family, family_b=None):
    """u1 calls u2 through a server bound to @bind, u1 and LAN A of @family
    (4 or 6), u2 and LAN B of @family_b (default the same); tones both ways."""
    family_b = family_b or family
    server_a, _, U1, _, _ = PLAN[family]
    _, server_b, _, U2, _ = PLAN[family_b]
    lan = srv = u1 = u2 = None
    tmp = tempfile.mkdtemp(prefix="sp-relay-lan-")
    try:
        lan = Lan(family, family_b)
        # The phones cannot reach each other: no route, not even a wrong one.
        probe = subprocess.run(lan.prefix("a") + ["ping", "-%d" % family_b, "-c", "1", "-W", "1",
                                                  U2], capture_output=True, timeout=10)
        assert probe.returncode != 0, "u1 reaches u2 without the server"
        a_in, b_in, a_out, b_out = make_tones(tmp)
        for name, text in (("users.conf", USERS), ("routes.conf", ROUTES)):
            with open(os.path.join(tmp, name), "w") as f:
                f.write(text)
        srv = Instance("srv", ["--bind", bind, "--server", "--log-sip",
                               "--users", os.path.join(tmp, "users.conf"),
                               "--routes", os.path.join(tmp, "routes.conf")])
        srv.wait("ready")
        u2 = Instance("u2", ["--bind", bracket(U2) + ":5060", "--log-sip", "--account",
                             "sip:u2:p2@%s" % bracket(server_b), "--auto-answer",
                             "--audio-in", b_in, "--audio-out", b_out], prefix=lan.prefix("b"))
        u2.wait("ready")
        u2.wait("registered")
        srv.wait("server_registered", user="u2")
        u1 = Instance("u1", ["--bind", bracket(U1) + ":5060", "--log-sip", "--account",
                             "sip:u1:p1@%s" % bracket(server_a), "--audio-in", a_in, "--audio-out", a_out],
                      prefix=lan.prefix("a"))
        u1.wait("ready")
        u1.wait("registered")
        u1.send("call 2")
        u1.wait("established")
        u2.wait("established")
        srv.wait("server_call")
        time.sleep(3)
        u1.send("hangup")
        u1.wait("ended")
        u2.wait("ended")
        srv.wait("server_call_ended", status=200)
        for p in (u1, u2):
            p.send("quit")
            assert p.exit_code() == 0, p.name
        # Each leg named the relay by the address on that phone's own LAN.
        seen_a, seen_b = sdp_addresses(u1.full_log()), sdp_addresses(u2.full_log())
        print("# %s: u1's SDP addresses %s, u2's %s" % (bind, sorted(seen_a), sorted(seen_b)),
              flush=True)
        assert seen_a == {U1, server_a}, seen_a
        assert seen_b == {U2, server_b}, seen_b
        # No IPv4-mapped address reached a phone (Via received, Contact, SDP).
        for p in (u1, u2):
            assert "::ffff:" not in p.full_log().lower(), p.name
        if family == 4 and family_b == 6:
            # The IPv4 phone registered and was counted as itself, not as
            # a ::ffff:0:0/64.
            assert "::ffff:" not in srv.full_log().lower()
        check_tones(a_out, b_out, "relay on " + bind)
        srv.send("quit")
        assert srv.exit_code() == 0
    except AssertionError:
        for p in (srv, u1, u2):
            if p is not None:
                print("# ---- %s stderr (end) ----" % p.name, flush=True)
                for line in p.log().splitlines()[-40:]:
                    print("# " + line, flush=True)
        raise
    finally:
        for p in (u1, u2, srv):
            if p is not None:
                p.close()
        if lan is not None:
            lan.close()
        shutil.rmtree(tmp, ignore_errors=True)


def test_relay_any_ipv4():
    relayed_call("0.0.0.0:5060", 4)


def test_relay_any_ipv6():
    relayed_call("[::]:5060", 6)


def test_relay_any_dual_stack():
    relayed_call("[::]:5060", 4, 6)


def sip_messages(log):
    """The SIP messages in a --log-sip stderr: (direction, from, to, text)."""
    return re.findall(r"----- SIP (sent|received) \w+ (\S+) -> (\S+)[^\n]*-----\n(.*?)(?=----- SIP |\Z)",
                      log, re.S)


def header(msg, name):
    m = re.search(r"^%s: *(.*)$" % name, msg, re.M | re.I)
    return m.group(1).strip() if m else None


def test_wildcard_dialled_address():
    """u1 dials the server as 127.0.0.2, u2 registers with it as 127.0.0.3; the
    server is on 0.0.0.0 and its route back to either leaves from 127.0.0.1.
    Its Contact to u1 must be 127.0.0.2 (what u1 dialled) and u1's BYE, sent
    there and challenged, answered: our phone answers challenges only from the
    server it was configured with. The server's own BYE to u1 (u2 hangs up a
    second call) leaves from 127.0.0.2 as well."""
    own_netns_or_skip()
    srv = u1 = u2 = None
    tmp = tempfile.mkdtemp(prefix="sp-relay-lan-")
    try:
        a_in, b_in, a_out, b_out = make_tones(tmp)
        for name, text in (("users.conf", USERS), ("routes.conf", ROUTES)):
            with open(os.path.join(tmp, name), "w") as f:
                f.write(text)
        srv = Instance("srv", ["--bind", "0.0.0.0:5060", "--server", "--log-sip",
                               "--users", os.path.join(tmp, "users.conf"),
                               "--routes", os.path.join(tmp, "routes.conf")])
        srv.wait("ready")
        u2 = Instance("u2", ["--bind", "127.0.0.6:5060", "--log-sip", "--account",
                             "sip:u2:p2@127.0.0.3", "--auto-answer",
                             "--audio-in", b_in, "--audio-out", b_out])
        u2.wait("registered")
        srv.wait("server_registered", user="u2")
        u1 = Instance("u1", ["--bind", "127.0.0.5:5060", "--log-sip", "--account",
                             "sip:u1:p1@127.0.0.2", "--audio-in", a_in, "--audio-out", a_out])
        u1.wait("registered")
        u1.send("call 2")
        u1.wait("established")
        u2.wait("established")
        srv.wait("server_call")
        time.sleep(3)
        u1.send("hangup")
        u1.wait("ended")
        # u1's BYE reached u2 only once its challenge was answered.
        u2.wait("ended")
        srv.wait("server_call_ended", status=200)
        # Again, u2 hangs up: the server's BYE to u1 comes from 127.0.0.2 too.
        u1.send("call 2")
        u1.wait("established")
        u2.wait("established")
        time.sleep(3)
        u2.send("hangup")
        u2.wait("ended")
        u1.wait("ended")
        srv.wait("server_call_ended", status=200)
        for p in (u1, u2):
            p.send("quit")
            assert p.exit_code() == 0, p.name
        msgs = sip_messages(u1.full_log())
        received = [m for d, _, _, m in msgs if d == "received"]
        ok_invite = [m for m in received if m.startswith("SIP/2.0 200")
                     and re.search(r"^CSeq: *\d+ INVITE", m, re.M | re.I)]
        assert ok_invite, "no 200 to the INVITE in u1's log"
        contact = header(ok_invite[0], "Contact")
        print("# the server's Contact to u1: %s" % contact, flush=True)
        assert contact and re.match(r"<sip:([^@>]+@)?127\.0\.0\.2:5060[;>]", contact), contact
        byes = [(to, m) for d, _, to, m in msgs if d == "sent" and m.startswith("BYE ")]
        print("# u1 sent %d BYE(s): %s" % (len(byes), [(to, m.split("\n")[0]) for to, m in byes]),
              flush=True)
        assert len(byes) == 2, byes  # the challenged one and the answer
        assert all(m.startswith("BYE sip:127.0.0.2:5060") and to.startswith("127.0.0.2:")
                   for to, m in byes), byes
        assert header(byes[1][1], "Authorization") or header(byes[1][1], "Proxy-Authorization")
        bye_ok = [m for m in received if m.startswith("SIP/2.0 200")
                  and re.search(r"^CSeq: *\d+ BYE", m, re.M | re.I)]
        assert bye_ok, "the BYE got no 200"
        server_bye = [(frm, header(m, "Via")) for d, frm, _, m in msgs
                      if d == "received" and m.startswith("BYE ")]
        print("# the server's BYE to u1 came from %s" % server_bye, flush=True)
        assert len(server_bye) == 1, server_bye
        assert server_bye[0][0].startswith("127.0.0.2:"), server_bye
        assert " 127.0.0.2:5060" in server_bye[0][1], server_bye
        check_tones(a_out, b_out, "dialled 127.0.0.2 of 0.0.0.0")
        srv.send("quit")
        assert srv.exit_code() == 0
    except AssertionError:
        for p in (srv, u1, u2):
            if p is not None:
                print("# ---- %s stderr (end) ----" % p.name, flush=True)
                for line in p.log().splitlines()[-40:]:
                    print("# " + line, flush=True)
        raise
    finally:
        for p in (u1, u2, srv):
            if p is not None:
                p.close()
        shutil.rmtree(tmp, ignore_errors=True)


TESTS = {
    "relay-any-ipv4": test_relay_any_ipv4,
    "relay-any-ipv6": test_relay_any_ipv6,
    "relay-any-dual-stack": test_relay_any_dual_stack,
    "wildcard-dialled-address": test_wildcard_dialled_address,
}


def main():
    headless.SOFTPHONE = sys.argv[1]
    return headless.run_tap(TESTS, sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
