#!/usr/bin/python3
"""Our phone over SIP over TLS with Kamailio (issue 16): Kamailio (Debian's
kamailio-tls-modules) on 127.0.55.50 with TLS on 5061 and a certificate this test
makes; phones u1 (127.0.55.1) and u2 (127.0.55.2) register with sips: accounts,
pin Kamailio's certificate on first use (docs/headless.md "SIP over TLS": the
test checks the pin is that certificate's SHA-256) and u1 calls u2 through
Kamailio: tones both ways, and the capture of TCP port 5061 (tshark on lo) holds
TLS records only, no SIP text. A phone that pinned another certificate for that
server refuses Kamailio's, then registers after `accept-certificate`.

Usage: kamailio-tls.py SOFTPHONE [TEST...]   (prints TAP)
Every wait is bounded; only the processes started here are stopped, by PID
(Kamailio by its own process group).
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import headless  # noqa: E402
from headless import KAM_ADDR, KAMAILIO, Instance, Skip, make_tone  # noqa: E402
from server import TONE_A, TONE_B, check_tones, cleanup  # noqa: E402
from capture import Capture  # noqa: E402  (tshark on lo)

TLS_ADDR = "%s:5061" % KAM_ADDR
U1 = "127.0.55.1"
U2 = "127.0.55.2"
TLS_CFG = """[server:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
private_key = {key}
certificate = {cert}

[client:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
"""


def make_certificate(directory, host):
    """A self-signed ECDSA P-256 certificate for @host (its IP in subjectAltName)
    in @directory; returns (tls.cfg path, SHA-256 fingerprint "AB:CD:...")."""
    key, cert = os.path.join(directory, "key.pem"), os.path.join(directory, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=" + host,
                    "-addext", "subjectAltName=IP:" + host, "-keyout", key, "-out", cert],
                   check=True, capture_output=True, timeout=30)
    out = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-fingerprint", "-sha256"],
                         check=True, capture_output=True, text=True, timeout=30).stdout
    fingerprint = out.strip().split("=", 1)[1].upper()
    cfg = os.path.join(directory, "tls.cfg")
    with open(cfg, "w") as f:
        f.write(TLS_CFG.format(key=key, cert=cert))
    return cfg, fingerprint


class KamailioTls(headless.Kamailio):
    """The headless tests' Kamailio (kamailio-headless.cfg) with its WITH_TLS
    part on: TLS on TLS_ADDR with @tls_cfg's certificate."""

    def __init__(self, tls_cfg):
        self.tls_cfg = tls_cfg
        self.plain = None
        super().__init__()

    def _start(self):
        if self.plain is None:
            self.plain = self.template
        self.template = (self.plain.replace("#!KAMAILIO\n", "#!KAMAILIO\n#!define WITH_TLS\n", 1)
                         .replace("@TLSADDR@", TLS_ADDR).replace("@TLSCFG@", self.tls_cfg))
        return super()._start()


def tls_phone(name, addr, user, password, extra=()):
    args = ["--bind", addr + ":5060", "--account",
            "sips:%s:%s@%s" % (user, password, TLS_ADDR)] + list(extra)
    p = Instance(name, args)
    p.wait("ready")
    return p


def pins(inst):
    with open(os.path.join(inst.dir, "tls-pins")) as f:
        return f.read()


def with_kamailio_tls(body):
    if not os.access(KAMAILIO, os.X_OK):
        raise Skip("kamailio is not installed")
    if not os.path.exists("/usr/lib/x86_64-linux-gnu/kamailio/modules/tls.so"):
        raise Skip("kamailio-tls-modules is not installed (tools/setup --test)")
    certs = tempfile.mkdtemp(prefix="sp-kamtls-cert-")
    kam = None
    try:
        cfg, fingerprint = make_certificate(certs, KAM_ADDR)
        kam = KamailioTls(cfg)
        body(kam, fingerprint)
    except BaseException:
        if kam is not None:
            sys.stderr.write(kam.log_text()[-3000:])
        raise
    finally:
        cleanup(kam)
        shutil.rmtree(certs, ignore_errors=True)


def test_kamailio_tls_call():
    """u1 and u2 register to Kamailio over TLS (pinning its certificate) and u1
    calls u2 through it: tones both ways, TLS records only on port 5061."""
    def body(kam, fingerprint):
        cap = u1 = u2 = None
        no_capture = None
        tmp = tempfile.mkdtemp(prefix="sp-kamtls-tones-")
        try:
            try:
                cap = Capture("tcp port 5061", prefix="sp-kamtls-pcap-")
            except Skip as e:
                no_capture = str(e)
            a_in, b_in = os.path.join(tmp, "a.wav"), os.path.join(tmp, "b.wav")
            a_out, b_out = os.path.join(tmp, "a-out.wav"), os.path.join(tmp, "b-out.wav")
            make_tone(a_in, TONE_A)
            make_tone(b_in, TONE_B)
            u2 = tls_phone("u2", U2, "u2", "pw2", ["--auto-answer", "--audio-in", b_in,
                                                   "--audio-out", b_out])
            reg = u2.wait("registered")
            assert reg["code"] == 200, reg
            # Pinned on first use: exactly the certificate this test made.
            assert "%s %s" % (TLS_ADDR, fingerprint) in pins(u2), pins(u2)
            u1 = tls_phone("u1", U1, "u1", "pw1", ["--audio-in", a_in, "--audio-out", a_out])
            u1.wait("registered")
            u1.send("call u2")
            est = u1.wait("established")
            inc = u2.wait("incoming")
            assert inc["from"] == "sip:u1@" + KAM_ADDR or inc["from"].startswith("sips:u1@"), inc
            u2.wait("established")
            time.sleep(3)
            u1.send("hangup")
            end_a = u1.wait("ended")
            end_b = u2.wait("ended")
            assert end_b["reason"] == "Remote hangup", (end_a, end_b)
            u1.quit()
            u2.quit()
            if cap is not None:
                payloads = cap.payloads()
                total = sum(len(p) for p in payloads)
                print("# %d TCP payloads, %d bytes on port 5061" % (len(payloads), total),
                      flush=True)
                assert total > 2000, "too little captured on 5061: %d bytes" % total
                assert all(p[0] in (0x14, 0x15, 0x16, 0x17) for p in payloads), \
                    "a payload on 5061 is not a TLS record"
                assert not any(b"SIP/2.0" in p or b"REGISTER " in p or b"INVITE " in p
                               for p in payloads), "SIP text on port 5061"
            check_tones(a_out, b_out, "kamailio-tls")
            print("# codec %s" % est.get("codec"), flush=True)
            if no_capture:
                print("# wire not checked: %s" % no_capture, flush=True)
        finally:
            cleanup(cap, u1, u2)
            shutil.rmtree(tmp, ignore_errors=True)
    with_kamailio_tls(body)


def test_kamailio_tls_pin_mismatch():
    """A phone whose tls-pins names another certificate for Kamailio's TLS
    address refuses Kamailio's (registration_failed, both fingerprints in the
    reason, nothing sent in clear) and registers once `accept-certificate
    HOST:PORT FINGERPRINT` pinned the right one."""
    def body(kam, fingerprint):
        u1 = None
        other = ":".join(["AB"] * 32)
        conf = tempfile.mkdtemp(prefix="sp-kamtls-pins-")
        try:
            path = os.path.join(conf, "tls-pins")
            with open(path, "w") as f:
                f.write("%s %s\n" % (TLS_ADDR, other))
            os.chmod(path, 0o600)
            # --config-dir after the Instance's own: this one, with the pin.
            u1 = tls_phone("u1", U1, "u1", "pw1", ["--config-dir", conf])
            failed = u1.wait("registration_failed", timeout=20)
            reason = failed["reason"]
            print("# reason: %s" % reason, flush=True)
            assert other in reason and fingerprint in reason, reason
            assert "accept-certificate %s" % TLS_ADDR in reason, reason
            u1.send("accept-certificate %s %s" % (TLS_ADDR, fingerprint))
            u1.wait("certificate_accepted", server=TLS_ADDR)
            u1.send("register")
            u1.wait("registered", timeout=20)
            with open(path) as f:
                text = f.read()
            assert "%s %s" % (TLS_ADDR, fingerprint) in text and other not in text, text
            u1.quit()
        finally:
            cleanup(u1)
            shutil.rmtree(conf, ignore_errors=True)
    with_kamailio_tls(body)


TESTS = {
    "kamailio-tls-call": test_kamailio_tls_call,
    "kamailio-tls-pin-mismatch": test_kamailio_tls_pin_mismatch,
}


def main():
    headless.SOFTPHONE = sys.argv[1]
    return headless.run_tap(TESTS, sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
