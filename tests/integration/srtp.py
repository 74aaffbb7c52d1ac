#!/usr/bin/python3
"""SRTP with SDES keys (issue 16) between our phone and real peers, over
TLS, both directions, audio checked by tone: baresip 1.0 (its srtp module,
mediaenc=srtp: best effort RTP/AVP with a=crypto) and linphonec 5.1
(media_encryption srtp). The RTP on the wire is captured with tshark and
decoded as PCMU: the tones the recordings hold must not be in it. Plus our
policy against plain peers (required / off).

What the peers do (seen here): baresip offers RTP/AVP with one a=crypto
(AES_CM_128_HMAC_SHA1_80) and takes ours on RTP/AVP; linphonec offers
RTP/SAVP (four AES_CM suites, 128 and 256) even when SRTP is not mandatory,
answers an RTP/AVP offer in the clear whatever a=crypto it carries, and
cannot be called over TLS at all (belle-sip 5.1: "New connection arriving
on TLS, not handled !"), so only it calls us with SDES. (Through our
server no SDES key passes: tls-clients.py sdes-not-through-server.)

Our phone is on 127.0.88.1 (TLS on 5061); baresip on 127.0.0.1 (its RTP
leaves from there, see headless.py); linphonec on 127.0.88.3; our server
on 127.0.88.10.

Usage: srtp.py SOFTPHONE [TEST...]   (prints TAP)
Every wait is bounded; only the processes started here are killed, by PID.
"""
import array
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import capture  # noqa: E402  (tshark on lo)
import headless  # noqa: E402
from headless import (BARESIP_ADDR, TONE_B, Baresip, Skip, dominant_blocks,  # noqa: E402
                      goertzel, make_tone, running)

US = "127.0.88.1"
LIN = "127.0.88.3"
WAIT = 10.0
# Our phone's tone: far from the 425 Hz ringback it plays before the answer
# (a 20 ms Goertzel block cannot tell 425 from 440). The peer sends TONE_B.
TONE_A = 1400


def make_tones(tmp):
    """(a_in, b_in, a_out, b_out) in @tmp; 20 s tones, longer than any call."""
    a_in, b_in, a_out, b_out = (os.path.join(tmp, n)
                                for n in ("a-in.wav", "b-in.wav", "a-out.wav", "b-out.wav"))
    make_tone(a_in, TONE_A)
    make_tone(b_in, TONE_B)
    return a_in, b_in, a_out, b_out


def check_tones(a_out, b_out, label, *context):
    """Each side hears the other's tone in >= 100 blocks, its own in none."""
    a_own, a_heard, a_total = dominant_blocks(a_out, TONE_A, TONE_B)
    b_heard, b_own, b_total = dominant_blocks(b_out, TONE_A, TONE_B)
    print("# %s: A heard %d/%d blocks of %d Hz (%d of its own), B %d/%d of %d Hz (%d of its own)"
          % (label, a_heard, a_total, TONE_B, a_own, b_heard, b_total, TONE_A, b_own), flush=True)
    assert a_heard >= 100 and a_own == 0, (a_own, a_heard, a_total) + context
    assert b_heard >= 100 and b_own == 0, (b_heard, b_own, b_total) + context
LINPHONEC = shutil.which("linphonec")


# ---- the wire --------------------------------------------------------------

class RtpCapture(capture.Capture):
    """tshark on lo: UDP that is neither SIP nor DNS, i.e. the media."""

    def __init__(self):
        super().__init__("udp and not port 5060 and not port 5061 and not port 53",
                         prefix="sp-srtp-pcap-")

    def datagrams(self):
        """(src, dst, payload bytes) of every UDP datagram captured."""
        rows = self.fields("udp", ["ip.src", "udp.srcport", "ip.dst", "udp.dstport",
                                   "udp.payload"])
        return [("%s:%s" % (f[0], f[1]), "%s:%s" % (f[2], f[3]),
                 bytes.fromhex(f[4].replace(":", "")))
                for f in rows if len(f) == 5 and f[4].strip()]


def ulaw_to_linear(b):
    b = ~b & 0xFF
    t = ((b & 0x0F) << 3) + 0x84
    t <<= (b & 0x70) >> 4
    return (0x84 - t) if (b & 0x80) else (t - 0x84)


ULAW = [ulaw_to_linear(i) for i in range(256)]


def rtp_streams(datagrams):
    """RTP (version 2, not RTCP) payloads by (src, dst, ssrc), in order."""
    streams = {}
    for src, dst, data in datagrams:
        if len(data) < 12 or data[0] >> 6 != 2 or 192 <= data[1] <= 223:
            continue
        cc = data[0] & 0x0F
        start = 12 + 4 * cc
        if data[0] & 0x10 and len(data) >= start + 4:  # header extension
            start += 4 + 4 * int.from_bytes(data[start + 2:start + 4], "big")
        ssrc = data[8:12].hex()
        streams.setdefault((src, dst, ssrc), []).append(data[start:])
    return streams


def tone_share(payloads, freq):
    """Fraction of 20 ms blocks (160 bytes taken as PCMU) where @freq stands
    10 dB above both neighbours an octave away: what a listener would hear."""
    samples = array.array("h")
    for p in payloads:
        samples.extend(ULAW[b] for b in p)
    blocks = hits = 0
    for i in range(0, len(samples) - 160, 160):
        block = samples[i:i + 160]
        power = goertzel(block, freq, 8000)
        other = max(goertzel(block, freq / 2, 8000), goertzel(block, freq * 1.5, 8000), 1.0)
        blocks += 1
        if power > 10 * other and power > 1e5:
            hits += 1
    return hits / blocks if blocks else 0.0


def check_wire_encrypted(cap, label, expect_streams=2):
    """Each RTP stream of the call carried >= 100 packets, none of which
    decodes to either tone; a control proves the detector finds a tone in
    real PCMU."""
    streams = rtp_streams(cap.datagrams())
    big = {k: v for k, v in streams.items() if len(v) >= 100}
    print("# %s: %d RTP streams on the wire, %s packets" %
          (label, len(big), [len(v) for v in big.values()]), flush=True)
    assert len(big) >= expect_streams, "RTP streams captured: %s" % {
        k: len(v) for k, v in streams.items()}
    for key, payloads in big.items():
        for freq in (TONE_A, TONE_B):
            share = tone_share(payloads, freq)
            assert share < 0.05, "%s: %s carries %d Hz in %.0f%% of blocks: not encrypted" % (
                label, key, freq, share * 100)
    # The detector itself: PCMU of a clear tone is found.
    clear = bytes(linear_to_ulaw(int(8000 * math.sin(2 * math.pi * TONE_A * n / 8000)))
                  for n in range(8000))
    assert tone_share([clear], TONE_A) > 0.9


def linear_to_ulaw(sample):
    sign = 0x80 if sample < 0 else 0
    if sample < 0:
        sample = -sample
    sample = min(sample + 0x84, 32635)
    exponent = 7
    mask = 0x4000
    while exponent > 0 and not sample & mask:
        exponent -= 1
        mask >>= 1
    mantissa = (sample >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def print_offer(inst, who):
    """The peer's offer as our --log-sip shows it: profile and suites."""
    offers = [b for b in re.split(r"^----- SIP ", inst.full_log(), flags=re.M)
              if b.startswith("received") and "\nINVITE " in b]
    for offer in offers[:1]:
        print("# %s's offer: %s" % (who, [l for l in offer.splitlines()
                                           if l.startswith(("m=audio", "a=crypto"))]),
              flush=True)


def no_keys_in_log(inst):
    """--log-sip shows a=crypto lines, their keys masked."""
    log = inst.full_log()
    lines = [l for l in log.splitlines() if "a=crypto:" in l]
    assert lines, "no a=crypto in our SIP log"
    for line in lines:
        assert re.search(r"inline:(?!\*\*\*)", line) is None, "an SRTP key in the log: " + line


# ---- baresip with TLS and SRTP -------------------------------------------

def make_certificate(directory):
    """A self-signed certificate + key in one PEM, as baresip's
    sip_certificate wants it."""
    cert = os.path.join(directory, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj",
                    "/CN=" + BARESIP_ADDR, "-keyout", cert + ".key", "-out", cert + ".crt"],
                   check=True, capture_output=True, timeout=30)
    with open(cert, "w") as out:
        for part in (".crt", ".key"):
            with open(cert + part) as f:
                out.write(f.read())
    return cert


def srtp_baresip(tone_path, commands=(), mediaenc="srtp", module="srtp.so"):
    """Baresip's config and account, rewritten before it starts (@module:
    the media encryption module, dtls_srtp.so for DTLS-SRTP)."""
    orig_popen = subprocess.Popen

    def popen(args, *a, **kw):
        if args and args[0] == headless.BARESIP:
            directory = args[args.index("-f") + 1]
            cert = make_certificate(directory)
            with open(os.path.join(directory, "config"), "a") as f:
                f.write("module %s\nsip_certificate %s\n" % (module, cert))
            with open(os.path.join(directory, "accounts")) as f:
                account = f.read().strip()
            with open(os.path.join(directory, "accounts"), "w") as f:
                f.write(account + ";mediaenc=%s\n" % mediaenc)
        return orig_popen(args, *a, **kw)

    subprocess.Popen = popen
    try:
        return Baresip(tone_path, commands, codecs="PCMU")
    finally:
        subprocess.Popen = orig_popen


def test_baresip_calls_us_srtp():
    """baresip (mediaenc=srtp) dials sips: us; we answer with SDES: the
    call is protected (tls, srtp-sdes), the tones cross, the wire has
    none, our log no key."""
    with tempfile.TemporaryDirectory(prefix="sp-srtp-bs1-") as tmp:
        a_in, b_in, a_out, _ = make_tones(tmp)
        cap = RtpCapture()
        try:
            with running("a", ["--bind", US + ":5060", "--auto-answer", "--audio-in", a_in,
                               "--audio-out", a_out, "--log-sip"]) as a:
                a.wait("ready")
                with srtp_baresip(b_in, ["/dial sip:softphone@%s:5061;transport=tls" % US]) as bs:
                    est = a.wait("established", timeout=20)
                    assert est["codec"] == "PCMU/8000", est
                    assert est["protection"] == ["tls", "srtp-sdes"], est
                    bs.wait_log("SRTP is Enabled")
                    time.sleep(4)
                    bs.command("hangup")
                    end = a.wait("ended")
                    assert end["reason"] == "Remote hangup", end
                    assert end["stats"]["packets_received"] >= 150, end
                    a.quit()
                    bs.wait_log("terminated")
                    bs.stop()
                    no_keys_in_log(a)
                    print_offer(a, "baresip")
                    check_tones(a_out, bs.recording(), "baresip calls us, SRTP")
                    check_wire_encrypted(cap, "baresip calls us")
        finally:
            cap.close()


def test_we_call_baresip_srtp(required=False):
    """We dial baresip over TLS (sip:...;transport=tls): best effort SRTP
    offered, baresip answers one a=crypto; tones both ways, none on the
    wire. @required: media-encryption=required, whose first offer
    (UDP/TLS/RTP/SAVP) baresip's srtp module refuses; the retry is RTP/SAVP
    with the keys, never plain."""
    policy = ["--media-encryption", "required"] if required else []
    with tempfile.TemporaryDirectory(prefix="sp-srtp-bs2-") as tmp:
        a_in, b_in, a_out, _ = make_tones(tmp)
        cap = RtpCapture()
        try:
            with srtp_baresip(b_in) as bs, \
                    running("a", ["--bind", US + ":5060", "--audio-in", a_in,
                                  "--audio-out", a_out, "--log-sip"] + policy) as a:
                a.wait("ready")
                a.send("call sip:bare@%s:%d;transport=tls" % (BARESIP_ADDR, bs.sip_port + 1))
                est = a.wait("established", timeout=20)
                assert est["codec"] == "PCMU/8000", est
                assert est["protection"] == ["tls", "srtp-sdes"], est
                bs.wait_log("SRTP is Enabled")
                time.sleep(4)
                a.send("hangup")
                a.wait("ended")
                bs.wait_log("terminated")
                a.quit()
                bs.stop()
                no_keys_in_log(a)
                if required:
                    offers = [re.search(r"^m=audio .*$", b, re.M).group(0)
                              for b in re.split(r"^----- SIP ", a.full_log(), flags=re.M)
                              if b.startswith("sent") and b.find("\nINVITE ") >= 0
                              and "m=audio" in b]
                    print("# our offers: %s" % offers, flush=True)
                    assert len(offers) == 2, offers
                    assert " UDP/TLS/RTP/SAVP " in offers[0], offers
                    assert " RTP/SAVP " in offers[1], offers
                check_tones(a_out, bs.recording(), "we call baresip, SRTP")
                check_wire_encrypted(cap, "we call baresip")
        finally:
            cap.close()


def test_plain_udp_no_crypto():
    """Over plain UDP no key is offered (SDES needs TLS): baresip with
    mediaenc=srtp answers plain, the call is unprotected, and the wire does
    carry the tone (the capture check can fail)."""
    with tempfile.TemporaryDirectory(prefix="sp-srtp-bs3-") as tmp:
        a_in, b_in, a_out, _ = make_tones(tmp)
        cap = RtpCapture()
        try:
            with srtp_baresip(b_in) as bs, \
                    running("a", ["--bind", US + ":5060", "--audio-in", a_in,
                                  "--audio-out", a_out, "--log-sip"]) as a:
                a.wait("ready")
                a.send("call " + bs.uri)
                est = a.wait("established", timeout=20)
                assert est["protection"] == [], est
                time.sleep(3)
                a.send("hangup")
                a.wait("ended")
                a.quit()
                sent = [b for b in re.split(r"^----- SIP ", a.full_log(), flags=re.M)
                        if b.startswith("sent") and "INVITE sip:" in b]
                assert sent and "a=crypto" not in sent[0], sent[:1]
                try:
                    check_wire_encrypted(cap, "plain UDP")
                except AssertionError as e:
                    print("# as expected, the clear call is audible on the wire: %s" % e,
                          flush=True)
                else:
                    raise AssertionError("a plain call's tone was not found on the wire")
        finally:
            cap.close()


def test_required_refuses_plain():
    """media-encryption=required: a plain offer gets 488 with the reason;
    calling without TLS is refused before any INVITE; our required offer
    to a phone with encryption off is refused by it (488), over TLS after
    its SDES retry too, and our call says why."""
    with tempfile.TemporaryDirectory(prefix="sp-srtp-req-") as tmp:
        a_in, b_in, a_out, b_out = make_tones(tmp)
        with running("a", ["--bind", US + ":5060", "--auto-answer", "--audio-in", a_in,
                           "--audio-out", a_out, "--media-encryption", "required"]) as a, \
                running("b", ["--bind", "127.0.88.2:5060", "--audio-in", b_in,
                              "--audio-out", b_out, "--media-encryption", "off"]) as b:
            a.wait("ready")
            b.wait("ready")
            # b calls a over UDP: a refuses the plain offer.
            b.send("call sip:a@%s:5060" % US)
            end = b.wait("ended", timeout=20)
            a.wait("ended")  # the incoming call it refused
            assert end["code"] == 488, end
            assert "does not encrypt calls" in end["reason"], end
            # a calls b over UDP: DTLS-SRTP needs no TLS, so a offers
            # UDP/TLS/RTP/SAVP; b (off) refuses it.
            a.send("call sip:b@127.0.88.2:5060")
            dialing = a.wait("dialing")
            end = a.wait("ended", timeout=20, call=dialing["call"])
            assert end["code"] == 488, end
            assert "encryption is off" in end["reason"], end
            # a calls b over TLS: UDP/TLS/RTP/SAVP, refused; then the one
            # retry "required" has, RTP/SAVP with SDES keys, refused too.
            a.send("call sips:b@127.0.88.2:5061")
            dialing = a.wait("dialing")
            assert dialing["protection"] == ["tls"], dialing
            end = a.wait("ended", timeout=20, call=dialing["call"])
            assert end["code"] == 488, end
            assert "encryption is off" in end["reason"], end
            assert "the peer refused UDP/TLS/RTP/SAVP (488), offering RTP/SAVP" in a.full_log()
            a.quit()
            b.quit()


def test_our_phones_tls():
    """Two of our phones, direct over TLS at the defaults: DTLS-SRTP
    protects the call (no SDES key is offered), tones cross."""
    with tempfile.TemporaryDirectory(prefix="sp-srtp-ours-") as tmp:
        a_in, b_in, a_out, b_out = make_tones(tmp)
        with running("a", ["--bind", US + ":5060", "--audio-in", a_in, "--audio-out", a_out,
                           "--log-sip"]) as a, \
                running("b", ["--bind", "127.0.88.2:5060", "--audio-in", b_in,
                              "--audio-out", b_out]) as b:
            a.wait("ready")
            b.wait("ready")
            a.send("call sips:b@127.0.88.2:5061")
            b.wait("incoming", timeout=20)
            b.send("answer")
            a.wait("established", timeout=20)
            b.wait("established")
            # Offered both, two of our phones take DTLS-SRTP (keys no SIP
            # hop sees; issue 16's default between our phones).
            sas_a, sas_b = a.wait("sas"), b.wait("sas")
            assert sas_a["protection"] == ["tls", "dtls-srtp", "end-to-end"], sas_a
            assert sas_b["protection"] == ["tls", "dtls-srtp", "end-to-end"], sas_b
            assert sas_a["sas"] == sas_b["sas"], (sas_a, sas_b)
            time.sleep(3)
            a.send("hangup")
            end = a.wait("ended")
            b.wait("ended")
            a.quit()
            b.quit()
            # The first offer names UDP/TLS/RTP/SAVP, without a=crypto:
            # no SDES key crosses SIP between two of our phones at all.
            assert "a=crypto:" not in a.full_log(), "an SDES key was offered"
            assert re.search(r"^m=audio \d+ UDP/TLS/RTP/SAVP ", a.full_log(), re.M)
            check_tones(a_out, b_out, "our phones, SRTP", end)


# ---- linphonec 5.1 with media_encryption=srtp --------------------------------

class Linphonec:
    """linphonec on a private HOME and linphonerc (TLS on 5061, SRTP,
    PCMU only), driven on stdin; audio from and to WAV files."""

    def __init__(self, tmp, mandatory=False, register=None, encryption="srtp"):
        """@register: (user, password, server address) to register over TLS;
        @encryption: linphonerc's media_encryption ("srtp" SDES, "dtls")."""
        if LINPHONEC is None:
            raise Skip("linphonec is not installed (package linphone-cli)")
        home = os.path.join(tmp, "home")
        os.makedirs(os.path.join(home, ".local", "share", "linphone"), exist_ok=True)
        rc = os.path.join(tmp, "linphonerc")
        with open(rc, "w") as f:
            f.write("[sip]\nsip_port=5060\nsip_tcp_port=-1\nsip_tls_port=5061\n"
                    "bind_address=%s\nmedia_encryption=%s\nmedia_encryption_mandatory=%d\n"
                    "verify_server_certs=0\nverify_server_cn=0\n"
                    "[rtp]\naudio_rtp_port=41000\n"
                    "[sound]\nplayback_dev_id=\ncapture_dev_id=\n" % (LIN, encryption, int(mandatory)))
            if register is not None:
                user, password, server = register
                f.write("[auth_info_0]\nusername=%s\npasswd=%s\nrealm=softphone\n"
                        "[proxy_0]\nreg_proxy=<sip:%s:5061;transport=tls>\n"
                        "reg_identity=sip:%s@%s\nreg_expires=600\nreg_sendregister=1\n"
                        % (user, password, server, user, server))
        self.log_path = os.path.join(tmp, "linphonec.log")
        self.proc = subprocess.Popen([LINPHONEC, "-c", rc], stdin=subprocess.PIPE,
                                     stdout=open(self.log_path, "w"), stderr=subprocess.STDOUT,
                                     env=dict(os.environ, HOME=home), text=True)
        time.sleep(1.5)
        self.send("soundcard use files")
        # `codec list` in 5.1: 3 is PCMU; the others off, so that the wire
        # check can decode what it captures.
        for i in range(19):
            if i != 3:
                self.send("codec disable %d" % i, pause=0.05)

    def send(self, line, pause=0.5):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        time.sleep(pause)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.send("quit")
            except (BrokenPipeError, ValueError):
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def linphonec_call(we_call):
    tmp = tempfile.mkdtemp(prefix="sp-srtp-lin-")
    ours = lin = cap = None
    try:
        a_in, b_in, a_out, b_out = make_tones(tmp)
        cap = RtpCapture()
        ours = headless.Instance("ours", ["--bind", US + ":5060", "--audio-in", a_in,
                                          "--audio-out", a_out, "--log-sip"] +
                                 ([] if we_call else ["--auto-answer"]))
        ours.wait("ready")
        lin = Linphonec(tmp)
        lin.send("play " + b_in)
        lin.send("record " + b_out)
        if we_call:
            lin.send("autoanswer enable")
            ours.send("call sip:lin@%s:5061;transport=tls" % LIN)
        else:
            lin.send("call sip:ours@%s:5061;transport=tls" % US)
        est = ours.wait("established", timeout=20)
        print("# linphonec, %s: %s" % ("we call" if we_call else "it calls", est), flush=True)
        assert est["codec"] == "PCMU/8000", est
        assert est["protection"] == ["tls", "srtp-sdes"], est
        time.sleep(4)
        ours.send("hangup")
        end = ours.wait("ended", timeout=10)
        assert end["stats"]["packets_received"] >= 150, end
        time.sleep(1)
        lin.stop()
        no_keys_in_log(ours)
        print_offer(ours, "linphonec")
        ours.send("quit")
        assert ours.exit_code() == 0, ours.log()
        check_tones(a_out, b_out, "linphonec, SRTP")
        check_wire_encrypted(cap, "linphonec")
    except BaseException:
        if ours is not None:
            sys.stderr.write("---- ours ----\n%s\n" % ours.log())
        if lin is not None:
            sys.stderr.write("---- linphonec ----\n%s\n" % lin.log()[-4000:])
        raise
    finally:
        if lin is not None:
            lin.stop()
        if ours is not None:
            ours.close()
        if cap is not None:
            cap.close()
        shutil.rmtree(tmp, ignore_errors=True)


def test_linphonec_calls_us_srtp():
    """linphonec calls us over TLS with its SRTP offer; we answer SDES."""
    linphonec_call(False)


def tail_blocks(path, heard, own, seconds):
    """(blocks of @heard, blocks of @own) in the last @seconds of @path."""
    with wave.open(path) as w:
        rate = w.getframerate()
        w.setpos(max(0, w.getnframes() - seconds * rate))
        data = w.readframes(seconds * rate)
    tmp = path + ".tail.wav"
    with wave.open(tmp, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(data)
    try:
        h, o, _ = dominant_blocks(tmp, heard, own)
    finally:
        os.unlink(tmp)
    return h, o


def test_our_phones_hold_resume():
    """SRTP across re-INVITEs: two of our phones settle on DTLS-SRTP; hold and
    resume offer the same fingerprints again, so the keys and the streams go
    on (their rollover counters and replay windows kept): after the resume
    both sides hear each other for the last 2 s."""
    with tempfile.TemporaryDirectory(prefix="sp-srtp-hold-") as tmp:
        a_in, b_in, a_out, b_out = make_tones(tmp)
        with running("a", ["--bind", US + ":5060", "--audio-in", a_in, "--audio-out", a_out]) \
                as a, running("b", ["--bind", "127.0.88.2:5060", "--audio-in", b_in,
                                    "--audio-out", b_out]) as b:
            a.wait("ready")
            b.wait("ready")
            a.send("call sips:b@127.0.88.2:5061")
            b.wait("incoming", timeout=20)
            b.send("answer")
            a.wait("established", timeout=20)
            time.sleep(2)
            a.send("hold")
            held = a.wait("held")["protection"]
            assert held == ["tls", "dtls-srtp", "end-to-end"], held
            time.sleep(1)
            a.send("resume")
            resumed = a.wait("resumed")["protection"]
            assert resumed == ["tls", "dtls-srtp", "end-to-end"], resumed
            time.sleep(3)
            a.send("hangup")
            end = a.wait("ended")
            b.wait("ended")
            a.quit()
            b.quit()
            a_heard, a_own = tail_blocks(a_out, TONE_B, TONE_A, 2)
            b_heard, b_own = tail_blocks(b_out, TONE_A, TONE_B, 2)
            print("# after the resume: A heard %d blocks of %d Hz, B %d of %d Hz" %
                  (a_heard, TONE_B, b_heard, TONE_A), flush=True)
            assert a_heard >= 80 and a_own == 0, (a_heard, a_own, end)
            assert b_heard >= 80 and b_own == 0, (b_heard, b_own, end)


TESTS = {
    "our-phones-tls": test_our_phones_tls,
    "our-phones-hold-resume": test_our_phones_hold_resume,
    "required-refuses-plain": test_required_refuses_plain,
    "baresip-calls-us-srtp": test_baresip_calls_us_srtp,
    "we-call-baresip-srtp": test_we_call_baresip_srtp,
    "required-we-call-baresip-srtp": lambda: test_we_call_baresip_srtp(required=True),
    "plain-udp-no-crypto": test_plain_udp_no_crypto,
    "linphonec-calls-us-srtp": test_linphonec_calls_us_srtp,
}

if __name__ == "__main__":
    headless.SOFTPHONE = sys.argv[1]
    # linphonec waits for a default route before it uses the network.
    subprocess.run(["ip", "route", "add", "default", "dev", "lo"], capture_output=True)
    sys.exit(headless.run_tap(TESTS, sys.argv[2:]))
