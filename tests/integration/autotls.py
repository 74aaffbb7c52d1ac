#!/usr/bin/python3
"""TLS signalling with no setting between Softphones (issue 16), on the LAN of
network namespaces that discovery-lan.py builds (its Lan and Scene helpers):
the server at 198.18.0.10, phones at .11 (pca) and .12 (pcb), mDNS over a real
bridge. tshark listens on pca's end of the LAN (its veth in this test's own
namespace), so it sees every packet pca sends or receives.

nearby-tls: two phones advertise themselves (TXT tls= and fp=, their TLS port
  and certificate) and call each other by name, A then B (the callee hangs
  up the first: its BYE opens TLS to the caller's listener): SIP goes over
  TLS to the advertised ports (ClientHellos to 5061 both ways, no SIP text
  in any packet, nothing at all on port 5060), every call row says TLS,
  tones both ways in the first call.
wrong-fingerprint: a stranger's raw mDNS announcement names pcb's phone
  ("Mallory" at .12, tls=5061) with a certificate fingerprint that is not
  the one pcb's phone presents: the call ends with a sentence saying the
  peer is not the phone it announced, naming both fingerprints; pcb's phone
  sees no call, and no SIP crosses the LAN in plaintext (the TLS handshake
  is the only thing sent). A record with TLS but no valid fingerprint is
  refused at once. An announcement never overrides a pin: with another
  certificate pinned for the address, a phone presenting the announced one
  is refused too. A phone that advertises no TLS is still called over UDP.
  (Before this change the forged phone's call went over UDP and was
  answered.)
use-server-tls: `use-server` with a found server that advertises TLS
  registers over TLS to its TLS port with the advertised certificate
  pinned: the server's registration event names a transport=tls contact,
  the capture shows the handshake to 5061 and no REGISTER text.

Usage: autotls.py SOFTPHONE [TEST...]   (prints TAP)
"""
import importlib
import os
import shutil
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import headless  # noqa: E402
from capture import Capture  # noqa: E402
from headless import make_tones, wait_recording_closed  # noqa: E402

lan = importlib.import_module("discovery-lan")
Scene, wait_named, check_tones = lan.Scene, lan.wait_named, lan.check_tones
dns_name, rr, stranger_says = lan.dns_name, lan.rr, lan.stranger_says

PCA_LINK = "vd1"  # pca's veth end on the bridge (Lan names them vd<index>)
WRONG_FP = ":".join(["5A"] * 32)


def phone_announcement(instance, port, txt, address="198.18.0.12", host=b"mallory"):
    """An unsolicited mDNS response announcing @instance (bytes) as a
    _softphone._udp service (PTR, SRV, TXT, A)."""
    inst = dns_name(instance, "_softphone", "_udp", "local")
    target = dns_name(host, "local")
    records = [
        rr(dns_name("_softphone", "_udp", "local"), 12, inst, flush=False),
        rr(inst, 33, struct.pack("!HHH", 0, 0, port) + target),
        rr(inst, 16, b"".join(bytes([len(t)]) + t for t in txt) or b"\0"),
        rr(target, 1, bytes(int(x) for x in address.split("."))),
    ]
    return struct.pack("!HHHHHH", 0, 0x8400, 0, len(records), 0, 0) + b"".join(records)


def capture_pca():
    # Everything but mDNS: SIP on any port, TLS, RTP.
    return Capture("not port 5353", prefix="sp-autotls-", interface=PCA_LINK)


def sip_text(cap):
    """Captured TCP and UDP payloads that hold SIP in plaintext."""
    found = []
    for proto in ("udp", "tcp"):
        for p in cap.payloads(proto):
            if b"SIP/2.0" in p or b"sip:" in p:
                found.append(p[:80])
    return found


def client_hellos(cap, port):
    return cap.fields("tls.handshake.type == 1 && tcp.dstport == %d" % port,
                      ["ip.src", "ip.dst"])


def test_nearby_tls():
    with Scene() as s:
        a_in, b_in, a_out, b_out = make_tones(s.tmp)
        a = s.start("alice", "pca", ["--discover", "--advertise=Alice",
                                     "--audio-in", a_in, "--audio-out", a_out])
        b = s.start("bob", "pcb", ["--discover", "--advertise=Bob", "--auto-answer",
                                   "--audio-in", b_in, "--audio-out", b_out])
        a_fp = a.wait("tls")["fingerprint"]
        b_fp = b.wait("tls")["fingerprint"]
        a.wait("ready")
        b.wait("ready")
        found_b = wait_named(a, "nearby_phone", "Bob")
        found_a = wait_named(b, "nearby_phone", "Alice")
        cap = capture_pca()
        try:
            since = time.monotonic()
            a.send("call-nearby Bob")
            dialing = a.wait("dialing")
            est_a = a.wait("established")
            print("# call-nearby to established over TLS: %.2f s (auto-answer, ASan build)"
                  % (time.monotonic() - since), flush=True)
            inc_b = b.wait("incoming")
            est_b = b.wait("established")
            print("# protection: alice %s, bob %s" % (est_a["protection"], est_b["protection"]),
                  flush=True)
            time.sleep(3)
            # The callee hangs up: its BYE goes to the caller's Contact, a
            # TLS connection of its own to the caller's listener.
            b.send("hangup")
            b.wait("ended")
            a.wait("ended")
            for path in (a_out, b_out):
                wait_recording_closed(path)
                shutil.copy(path, path + ".first")
            # And back: Bob calls Alice by name, Alice answers and hangs up.
            b.send("call-nearby Alice")
            back = b.wait("dialing")
            inc_a = a.wait("incoming")
            a.send("answer")
            back_est = [a.wait("established"), b.wait("established")]
            time.sleep(1)
            a.send("hangup")
            a.wait("ended")
            b.wait("ended")
            hellos = client_hellos(cap, 5061)
            plain = sip_text(cap)
            on_5060 = cap.fields("udp.port == 5060 || tcp.port == 5060", ["ip.src", "ip.dst"])
        finally:
            cap.close()
        print("# %d TLS ClientHello(s) to 5061: %s; SIP text: %d; packets on 5060: %d"
              % (len(hellos), hellos, len(plain), len(on_5060)), flush=True)
        # What the wire shows first: it is what a listener on the LAN would get.
        assert not plain, plain
        assert not on_5060, on_5060
        assert ["198.18.0.11", "198.18.0.12"] in hellos, hellos
        assert ["198.18.0.12", "198.18.0.11"] in hellos, hellos
        assert "198.18.0.12:5061" in dialing["to"] and "transport=tls" in dialing["to"], dialing
        assert "198.18.0.11:5061" in back["to"] and "transport=tls" in back["to"], back
        # Also as the call comes in (the ringing row says it already).
        for est in [est_a, est_b, inc_a, inc_b] + back_est:
            assert "tls" in est["protection"], est
        assert found_b.get("tls_port") == 5061 and found_b.get("fingerprint") == b_fp, found_b
        assert found_a.get("tls_port") == 5061 and found_a.get("fingerprint") == a_fp, found_a
        a.quit()
        b.quit()
        check_tones(a_out + ".first", b_out + ".first", "nearby call over TLS")


def test_wrong_fingerprint():
    with Scene() as s:
        a = s.start("alice", "pca", ["--discover"])
        # pcb's phone is real and answers, but is not advertised: the
        # stranger on pcb speaks mDNS for it, with a wrong certificate.
        b = s.start("bob", "pcb", ["--auto-answer"])
        b_fp = b.wait("tls")["fingerprint"]
        assert b_fp != WRONG_FP
        a.wait("ready")
        b.wait("ready")
        s.lan.stop_avahi("pcb")
        packets = [phone_announcement(b"Mallory", 5060, [b"txtvers=1", b"tls=5061",
                                                        b"fp=" + WRONG_FP.encode()]),
                   phone_announcement(b"Broken", 5060, [b"txtvers=1", b"tls=5061",
                                                       b"fp=not-a-fingerprint"],
                                      host=b"broken"),
                   phone_announcement(b"Helpdesk", 5060, [b"txtvers=1", b"tls=5061",
                                                         b"fp=" + b_fp.encode()],
                                      host=b"helpdesk"),
                   phone_announcement(b"Plain", 5060, [b"txtvers=1"], host=b"plain")]
        for _ in range(2):  # mDNS is UDP: say it twice
            stranger_says(s, packets)
            time.sleep(1)
        found = wait_named(a, "nearby_phone", "Mallory")
        wait_named(a, "nearby_phone", "Broken")
        wait_named(a, "nearby_phone", "Helpdesk")
        cap = capture_pca()
        try:
            a.send("call-nearby Mallory")
            # (Before issue 16's change this call went over UDP to .12:5060
            # and was answered: no "ended" came.)
            ended = a.wait("ended", timeout=20)
            print("# the call ended: %s" % ended["reason"], flush=True)
            a.send("call-nearby Broken")
            err = a.wait("error")
            print("# Broken: %s" % err["message"], flush=True)
            # An announcement never overrides a pin: with another
            # certificate pinned for .12:5061 (as for an account's server),
            # even a phone presenting what it announced is refused.
            a.send("accept-certificate 198.18.0.12:5061 " + WRONG_FP)
            a.wait("certificate_accepted")
            a.send("call-nearby Helpdesk")
            pinned_end = a.wait("ended", timeout=20)
            print("# Helpdesk: %s" % pinned_end["reason"], flush=True)
            time.sleep(1)
            hellos = client_hellos(cap, 5061)
            plain = sip_text(cap)
            on_5060 = cap.fields("udp.port == 5060 || tcp.port == 5060", ["ip.src", "ip.dst"])
        finally:
            cap.close()
        reason = ended["reason"]
        assert "“Mallory” at 198.18.0.12:5061 is not the phone it announced" in reason, reason
        assert b_fp in reason and WRONG_FP in reason, reason
        assert "advertised TLS without a valid certificate fingerprint" in err["message"], err
        assert "is pinned for that address" in pinned_end["reason"], pinned_end
        assert WRONG_FP in pinned_end["reason"] and b_fp in pinned_end["reason"], pinned_end
        assert "“Broken”" in err["message"], err
        assert ["198.18.0.11", "198.18.0.12"] in hellos, hellos
        assert not plain, plain
        assert not on_5060, on_5060
        assert not [e for e in b.seen if e.get("event") == "incoming"], b.seen
        b.send("status")
        calls = b.wait("status")["calls"]
        assert calls == [], calls
        assert found.get("tls_port") == 5061 and found.get("fingerprint") == WRONG_FP, found
        # A phone that advertises no TLS is called over UDP, as before.
        wait_named(a, "nearby_phone", "Plain")
        a.send("call-nearby Plain")
        a.wait("dialing", to="sip:198.18.0.12:5060")
        est = b.wait("established")
        assert "tls" not in est["protection"], est
        a.send("hangup")
        a.wait("ended")
        b.wait("ended")
        a.quit()
        b.quit()


def test_use_server_tls():
    with Scene() as s:
        srv = s.server()
        a = s.start("u1", "pca", ["--discover"])
        a.wait("ready")
        found = wait_named(a, "server_found", "Office server")
        assert found["tls_port"] == 5061 and found["fingerprint"] == srv.fingerprint, found
        cap = capture_pca()
        try:
            a.send("use-server Office server u1:p1")
            reg = a.wait("registered", timeout=20)
            assert reg["code"] == 200, reg
            sreg = srv.wait("server_registered", user="u1")
            time.sleep(0.5)
            hellos = client_hellos(cap, 5061)
            plain = sip_text(cap)
        finally:
            cap.close()
        print("# registered: %s; server saw contact %s; %d ClientHello(s)"
              % (reg, sreg["contact"], len(hellos)), flush=True)
        assert "198.18.0.11" in sreg["contact"] and "transport=tls" in sreg["contact"].lower(), \
            sreg
        assert ["198.18.0.11", "198.18.0.10"] in hellos, hellos
        assert not plain, plain
        with open(os.path.join(a.dir, "tls-pins")) as f:
            pins = f.read()
        assert "198.18.0.10:5061 %s" % srv.fingerprint in pins, pins
        a.quit()
        srv.quit()


TESTS = {
    "nearby-tls": test_nearby_tls,
    "wrong-fingerprint": test_wrong_fingerprint,
    "use-server-tls": test_use_server_tls,
}


def main():
    headless.SOFTPHONE = sys.argv[1]
    lan.headless.SOFTPHONE = sys.argv[1]
    return headless.run_tap(TESTS, sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
