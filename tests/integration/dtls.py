#!/usr/bin/python3
"""DTLS-SRTP between two of our phones (issue 16): on by default with no
setting, direct and through our server (B2BUA + relay), where the server
passes DTLS and SRTP untouched and so never holds the media keys.

- through-server: u1 (127.0.67.2) calls u2 (127.0.67.3) through the headless
  server on 127.0.67.1: tones cross both ways, both phones show the same four
  words (the "sas" event), "sas-match" marks the call verified, and tshark's
  capture of the media between the phones and the server holds DTLS and SRTP
  only: not one RTP packet's payload, decoded as G.711 mu-law, carries the
  440 Hz tone that u2's recording does carry.
- mitm: the same call through a small SIP man in the middle (a UDP proxy in
  this script) that replaces each a=fingerprint with one of its own
  certificate's: what really happens is asserted (the handshake fails the
  fingerprint check on both phones, the call ends naming it; no audio).
- mitm-terminates: the real attack, a man in the middle that terminates
  DTLS with its own certificate on both legs and re-encrypts
  (tests/tools/dtls-mitm.c, driven by the same proxy): the call works and
  has audio both ways, the MITM's decrypted capture holds u1's 440 Hz, and
  only the words show it: they differ between the two phones.
- direct: u1 calls u2 by IP address, no server: DTLS-SRTP, equal words.
- rekey: u2's hold and resume keep the DTLS association (u1 answers its
  actpass offers in the role it has); then u1's hold re-INVITE reaches u2 with a=setup:active (a
  SIP proxy on u1's path rewrites it): the roles change, which is a new
  DTLS association (RFC 5763 5, RFC 8842 5.5); both phones drop the old
  keys, run a new handshake, show the words again in a new "sas" event
  with "verified" cleared, and the tones go on after the resume (which,
  with the same fingerprints and roles, keeps the new association).

Usage: dtls.py SOFTPHONE [--mitm DTLS-MITM] [TEST...]   (prints TAP)
Every wait is bounded; only the processes started here are killed, by PID.
"""
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import capture  # noqa: E402  (tshark on lo)
import headless  # noqa: E402
from headless import Instance, Skip, make_tone, goertzel  # noqa: E402
from server import TONE_A, TONE_B, Server, check_tones, cleanup  # noqa: E402

SRV = "127.0.67.1"
U1 = "127.0.67.2"
U2 = "127.0.67.3"
MITM = "127.0.67.9"
WAIT = 10.0
WORDS = re.compile(r"^[A-Za-z]+ [A-Za-z]+ [A-Za-z]+ [A-Za-z]+$")


def phone(name, addr, server, user, password, extra=()):
    p = Instance(name, ["--bind", addr + ":5060", "--account",
                        "sip:%s:%s@%s" % (user, password, server)] + list(extra))
    p.wait("ready")
    return p


class Capture(capture.Capture):
    """tshark on lo: the UDP between the phones and the server, SIP left out."""

    def __init__(self):
        super().__init__("udp and not port 5060 and net 127.0.67.0/24", prefix="sp-dtls-pcap-")

    def payloads(self):
        return super().payloads("udp")


# A block carries the tone when TONE_A stands out of the spectrum around it
# (10x each of these), as a pure tone does and noise does not: decoding
# ciphertext gives noise, often loud at low frequencies.
OTHERS = (250, 330, 550, 660, 880, 1000, 1500, 2500)


def is_tone(samples, freq, rate):
    if max(abs(x) for x in samples) < 500:
        return False
    p = goertzel(samples, freq, rate)
    return all(p > 10 * goertzel(samples, f, rate) for f in OTHERS + (440,) if f != freq)


def ulaw_to_linear(b):
    """G.711 mu-law byte to a 16-bit sample (ITU-T G.711)."""
    b = ~b & 0xff
    t = (((b & 0x0f) << 3) + 0x84) << ((b & 0x70) >> 4)
    return (0x84 - t) if (b & 0x80) else (t - 0x84)


def tone_in_ulaw(payloads, freq):
    """How many RTP payloads, decoded as mu-law at 8 kHz, have @freq
    dominating (as the recordings are judged: 10x the power of 1000 Hz and
    loud enough)."""
    hits = 0
    for p in payloads:
        if len(p) < 12 + 80:
            continue
        header = 12 + 4 * (p[0] & 0x0f)
        samples = [ulaw_to_linear(x) for x in p[header:header + 160]]
        if is_tone(samples, freq, 8000):
            hits += 1
    return hits


def tone_in_opus(payloads, freq):
    """The same for the payloads decoded as Opus (what two of our phones
    negotiate) with libopus, at 8 kHz: packets that do not decode count as
    no tone."""
    import ctypes
    import ctypes.util
    name = ctypes.util.find_library("opus") or "libopus.so.0"
    lib = ctypes.CDLL(name)
    lib.opus_decoder_create.restype = ctypes.c_void_p
    lib.opus_decoder_create.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
    lib.opus_decode.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                                ctypes.POINTER(ctypes.c_int16), ctypes.c_int, ctypes.c_int]
    lib.opus_decoder_destroy.argtypes = [ctypes.c_void_p]
    err = ctypes.c_int(0)
    decoders = {}
    pcm = (ctypes.c_int16 * 960)()
    hits = 0
    try:
        for p in payloads:
            header = 12 + 4 * (p[0] & 0x0f)
            if len(p) <= header or (p[1] & 0x7f) < 96:
                continue
            ssrc = p[8:12]
            if ssrc not in decoders:
                decoders[ssrc] = lib.opus_decoder_create(8000, 1, ctypes.byref(err))
            data = p[header:]
            n = lib.opus_decode(decoders[ssrc], data, len(data), pcm, 960, 0)
            if n < 80:
                continue
            if is_tone(list(pcm[:n]), freq, 8000):
                hits += 1
    finally:
        for d in decoders.values():
            lib.opus_decoder_destroy(d)
    return hits


def tone_in_recording(path, freq, last_seconds=None):
    import wave
    with wave.open(path) as w:
        rate = w.getframerate()
        if last_seconds is not None:
            w.setpos(max(0, w.getnframes() - last_seconds * rate))
        data = w.readframes(w.getnframes())
    samples = [int.from_bytes(data[i:i + 2], "little", signed=True)
               for i in range(0, len(data) - 1, 2)]
    block = rate // 50
    hits = 0
    for start in range(0, len(samples) - block + 1, block):
        if is_tone(samples[start:start + block], freq, rate):
            hits += 1
    return hits


def sas_of(p):
    ev = p.wait("sas")
    assert WORDS.match(ev["sas"]), ev
    assert "dtls-srtp" in ev["protection"] and "end-to-end" in ev["protection"], ev
    return ev["sas"]


def test_through_server():
    """Tones both ways through the server's relay, equal words, verified,
    and no tone on the wire."""
    cap = srv = u1 = u2 = None
    no_capture = None
    tmp = tempfile.mkdtemp(prefix="sp-dtls-tones-")
    try:
        try:
            cap = Capture()
        except Skip as e:
            no_capture = str(e)
        a_in, b_in = os.path.join(tmp, "a.wav"), os.path.join(tmp, "b.wav")
        a_out, b_out = os.path.join(tmp, "a-out.wav"), os.path.join(tmp, "b-out.wav")
        make_tone(a_in, TONE_A)
        make_tone(b_in, TONE_B)
        srv = Server("srv", addr=SRV)
        u2 = phone("u2", U2, SRV, "u2", "p2", ["--auto-answer", "--audio-in", b_in,
                                               "--audio-out", b_out])
        u2.wait("registered")
        u1 = phone("u1", U1, SRV, "u1", "p1", ["--audio-in", a_in, "--audio-out", a_out])
        u1.wait("registered")
        u1.send("call 2")
        u1.wait("established")
        u2.wait("established")
        w1, w2 = sas_of(u1), sas_of(u2)
        print("# words: u1 %r, u2 %r" % (w1, w2), flush=True)
        assert w1 == w2, (w1, w2)
        for name in ("dtls-certificate.pem", "dtls-key.pem"):
            assert os.stat(os.path.join(u1.dir, name)).st_mode & 0o777 == 0o600, name
        u1.send("sas-match")
        ev = u1.wait("protection")
        while "verified" not in ev["protection"]:
            ev = u1.wait("protection")  # the one DTLS-SRTP set came first
        time.sleep(3)
        u1.send("hangup")
        u1.wait("ended")
        u2.wait("ended")
        srv.wait("server_call_ended", status=200)
        u1.quit()
        u2.quit()
        srv.quit()
        check_tones(a_out, b_out, "dtls")
        heard = tone_in_recording(b_out, TONE_A)
        assert heard >= 50, "u2's recording lacks u1's %d Hz: %d blocks" % (TONE_A, heard)
        if cap is not None:
            payloads = cap.payloads()
            rtp = [p for p in payloads if len(p) >= 12 and 128 <= p[0] <= 191
                   and not 192 <= p[1] <= 223]
            dtls = [p for p in payloads if p and 20 <= p[0] <= 63]
            hits = tone_in_ulaw(rtp, TONE_A)
            opus_hits = tone_in_opus(rtp, TONE_A)
            print("# wire: %d UDP payloads, %d RTP-like, %d DTLS; %d decode to %d Hz as "
                  "mu-law, %d as Opus (u2's recording: %d blocks)"
                  % (len(payloads), len(rtp), len(dtls), hits, TONE_A, opus_hits, heard),
                  flush=True)
            assert len(rtp) > 200 and len(dtls) >= 4, (len(rtp), len(dtls))
            assert hits == 0, "%d packets on the wire carry the %d Hz tone" % (hits, TONE_A)
            # Ciphertext decoded as Opus is noise that, once in a few hundred
            # packets, happens to peak at 440 Hz (2 of 1200 seen); in the
            # clear the same call gives about two packets per block of u2's
            # recording (295 for 145 with DTLS-SRTP off).
            assert opus_hits * 20 < heard, "%d Opus packets on the wire carry %d Hz" % (
                opus_hits, TONE_A)
        else:
            print("# wire not checked: %s" % no_capture, flush=True)
    finally:
        cleanup(cap, u1, u2, srv)
        shutil.rmtree(tmp, ignore_errors=True)


def test_direct():
    """By IP address, no server: DTLS-SRTP on by default, equal words, tones."""
    u1 = u2 = None
    tmp = tempfile.mkdtemp(prefix="sp-dtls-direct-")
    try:
        a_in, b_in = os.path.join(tmp, "a.wav"), os.path.join(tmp, "b.wav")
        a_out, b_out = os.path.join(tmp, "a-out.wav"), os.path.join(tmp, "b-out.wav")
        make_tone(a_in, TONE_A)
        make_tone(b_in, TONE_B)
        u2 = Instance("u2", ["--bind", U2 + ":5060", "--auto-answer", "--audio-in", b_in,
                             "--audio-out", b_out])
        u2.wait("ready")
        u1 = Instance("u1", ["--bind", U1 + ":5060", "--audio-in", a_in, "--audio-out", a_out])
        u1.wait("ready")
        u1.send("call " + U2)
        u1.wait("established")
        w1, w2 = sas_of(u1), sas_of(u2)
        assert w1 == w2, (w1, w2)
        time.sleep(3)
        u1.send("hangup")
        u1.wait("ended")
        u2.wait("ended")
        u1.quit()
        u2.quit()
        check_tones(a_out, b_out, "dtls-direct")
    finally:
        cleanup(u1, u2)
        shutil.rmtree(tmp, ignore_errors=True)


class FingerprintSwapper:
    """A SIP man in the middle on TCP: u1's account names it as its server;
    it carries each TCP connection to the real server and back, message by
    message, replacing every a=fingerprint with @fake (what a server that
    wanted to decrypt would do: its own certificate's). u1's INVITE and the
    answer to it both cross it, so both phones see a replaced fingerprint."""

    def __init__(self, fake):
        self.fake = fake.encode()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((MITM, 5060))
        self.listener.listen(4)
        self.listener.settimeout(0.2)
        self.socks = []
        self.replaced = 0
        self.stop = False
        self.thread = threading.Thread(target=self.accept, daemon=True)
        self.thread.start()

    def rewrite_body(self, body, request):
        """@body with each fingerprint replaced; @request: the message is a
        request (an offer from u1), not a response (the answer to it)."""
        body, n = re.subn(rb"a=fingerprint:sha-256 [0-9A-F:]+",
                          b"a=fingerprint:sha-256 " + self.fake, body)
        self.replaced += n
        return body

    def rewrite(self, msg):
        head, _, body = msg.partition(b"\r\n\r\n")
        new = self.rewrite_body(body, not head.startswith(b"SIP/2.0")) if body else body
        if new == body:
            return msg
        body = new
        head = re.sub(rb"(?im)^(Content-Length|l):[ \t]*\d+", b"Content-Length: %d" % len(body),
                      head)
        return head + b"\r\n\r\n" + body

    def pipe(self, src, dst):
        buf = b""
        try:
            while not self.stop:
                try:
                    data = src.recv(65536)
                except socket.timeout:
                    continue
                if not data:
                    break
                buf += data
                while True:
                    buf = buf.lstrip(b"\r\n")
                    end = buf.find(b"\r\n\r\n")
                    if end < 0:
                        break
                    m = re.search(rb"(?im)^(?:Content-Length|l):[ \t]*(\d+)", buf[:end])
                    total = end + 4 + (int(m.group(1)) if m else 0)
                    if len(buf) < total:
                        break
                    dst.sendall(self.rewrite(buf[:total]))
                    buf = buf[total:]
        except OSError:
            pass

    def accept(self):
        while not self.stop:
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            # From the phone's own host, as a MITM on its path would appear:
            # the relay sends to an SDP address only on the SIP's host
            # before a side latched (docs/SECURITY.md), and the phone that
            # is the DTLS server sends nothing before the ClientHello.
            up = socket.create_connection((SRV, 5060), timeout=5, source_address=(U1, 0))
            for s in (conn, up):
                s.settimeout(0.2)
                self.socks.append(s)
            for a, b in ((conn, up), (up, conn)):
                threading.Thread(target=self.pipe, args=(a, b), daemon=True).start()

    def close(self):
        self.stop = True
        self.thread.join(timeout=5)
        for s in self.socks:
            s.close()
        self.listener.close()


def test_mitm():
    """A man in the middle of u1's signalling replaces both fingerprints
    with its own: the phones' DTLS handshake (through the relay, with each
    other) meets certificates that do not match, and the call ends with a
    reason that says so; no words are shown."""
    mitm = srv = u1 = u2 = None
    tmp = tempfile.mkdtemp(prefix="sp-dtls-mitm-")
    try:
        a_in, b_in = os.path.join(tmp, "a.wav"), os.path.join(tmp, "b.wav")
        make_tone(a_in, TONE_A)
        make_tone(b_in, TONE_B)
        fake = ":".join(["AB"] * 32)
        mitm = FingerprintSwapper(fake)
        srv = Server("srv", addr=SRV)
        u2 = phone("u2", U2, SRV, "u2", "p2", ["--auto-answer", "--audio-in", b_in,
                                               "--audio-out", "null"])
        u2.wait("registered")
        u1 = phone("u1", U1, MITM, "u1", "p1", ["--audio-in", a_in, "--audio-out", "null",
                                                "--account-option", "transport=tcp"])
        u1.wait("registered")
        u1.send("call 2")
        e1 = u1.wait("ended", timeout=40)
        e2 = u2.wait("ended", timeout=40)
        print("# u1: %s / u2: %s (%d fingerprints replaced)" % (e1.get("reason"),
                                                              e2.get("reason"), mitm.replaced),
              flush=True)
        assert mitm.replaced >= 2, mitm.replaced
        assert "does not match the fingerprint" in e1.get("reason", "") + e2.get("reason", ""), \
            (e1, e2)
        assert not any(e.get("event") == "sas" for e in u1.seen + u2.seen)
        u1.quit()
        u2.quit()
        srv.quit()
    finally:
        if u1 is not None and os.environ.get("SP_DTLS_DEBUG"):
            with open(u1.stderr_path) as f:
                print("".join("# " + line for line in f.read().splitlines(True)[-80:]))
        cleanup(u1, u2, srv)
        if mitm is not None:
            mitm.close()
        shutil.rmtree(tmp, ignore_errors=True)


class SetupFlipper(FingerprintSwapper):
    """The same TCP proxy on u1's path, passing everything as it is until
    armed; then it rewrites the a=setup:actpass of u1's next hold offer
    (a=sendonly) to a=setup:active, once: u2 answers passive and becomes
    the DTLS server, u1 the client, the reverse of the call's first roles.
    With @tls_id it leaves a=setup alone and gives u1's a=tls-id another
    value from that offer on (in every later message too, as a phone
    that restarted its DTLS would): a new association by RFC 8842 alone,
    same fingerprints, same roles."""

    def __init__(self, tls_id=False):
        super().__init__("")
        self.armed = False
        self.tls_id = tls_id
        self.renamed = None  # (u1's tls-id, the one put in its place)

    def rewrite(self, msg):
        # The server's Contact names the proxy, so that u1's re-INVITEs
        # (sent to the dialog's remote target) cross it too.
        head, sep, body = msg.partition(b"\r\n\r\n")
        head = re.sub(rb"(?im)^((?:Contact|m):[^\r\n]*)" + re.escape(SRV.encode()) + rb":5060",
                      lambda m: m.group(1) + MITM.encode() + b":5060", head)
        return super().rewrite(head + sep + body)

    def rewrite_body(self, body, request):
        if self.tls_id:
            return self.rename_tls_id(body, request)
        if not (self.armed and request and b"a=sendonly" in body):
            return body
        body, n = re.subn(rb"a=setup:actpass", b"a=setup:active", body)
        if n:
            self.armed = False
            self.replaced += n
        return body


    def rename_tls_id(self, body, request):
        found = re.search(rb"a=tls-id:([^\r\n]+)", body)
        if self.renamed is None and self.armed and request and b"a=sendonly" in body and found:
            self.renamed = (found.group(1), b"f00d" * 8)
            self.armed = False
        if self.renamed is None or not request:
            return body
        body, n = re.subn(rb"a=tls-id:" + re.escape(self.renamed[0]),
                          b"a=tls-id:" + self.renamed[1], body)
        self.replaced += n
        return body


def call_via_proxy(a_in, a_out, b_in, b_out):
    """The server; u2 registered with it directly, u1 through the proxy on
    MITM (TCP), whichever proxy the test started; u1 calls u2 and both say
    established. Returns (srv, u1, u2); what it started is stopped here if
    it fails on the way."""
    srv = u1 = u2 = None
    try:
        srv = Server("srv", addr=SRV)
        u2 = phone("u2", U2, SRV, "u2", "p2", ["--auto-answer", "--audio-in", b_in,
                                               "--audio-out", b_out])
        u2.wait("registered")
        u1 = phone("u1", U1, MITM, "u1", "p1", ["--audio-in", a_in, "--audio-out", a_out,
                                                "--account-option", "transport=tcp"])
        u1.wait("registered")
        u1.send("call 2")
        u1.wait("established")
        u2.wait("established")
        return srv, u1, u2
    except BaseException:
        cleanup(u1, u2, srv)
        raise


def test_rekey(tls_id=False):
    """A changed DTLS role in a re-INVITE makes a new handshake: new
    "sas" events on both phones, "verified" cleared, tones after it.
    @tls_id: the change is u1's a=tls-id alone (RFC 8842)."""
    proxy = srv = u1 = u2 = None
    tmp = tempfile.mkdtemp(prefix="sp-dtls-rekey-")
    try:
        a_in, b_in = os.path.join(tmp, "a.wav"), os.path.join(tmp, "b.wav")
        a_out, b_out = os.path.join(tmp, "a-out.wav"), os.path.join(tmp, "b-out.wav")
        make_tone(a_in, TONE_A)
        make_tone(b_in, TONE_B)
        proxy = SetupFlipper(tls_id)
        srv, u1, u2 = call_via_proxy(a_in, a_out, b_in, b_out)
        w1, w2 = sas_of(u1), sas_of(u2)
        assert w1 == w2, (w1, w2)
        u1.send("sas-match")
        ev = u1.wait("protection")
        while "verified" not in ev["protection"]:
            ev = u1.wait("protection")
        # u2 (the DTLS client) holds and resumes with actpass offers: u1,
        # the server, answers passive (RFC 8842 5.5), so the association,
        # its words and "verified" stay.
        u2.send("hold")
        u2.wait("held")
        u2.send("resume")
        u2.wait("resumed")
        time.sleep(1)
        assert sum(1 for e in u1.seen + u2.seen if e.get("event") == "sas") == 2
        for e in u1.seen:
            e["_taken"] = True  # the next stats event is a fresh one
        assert "verified" in u1.wait("stats")["protection"]
        proxy.armed = True
        u1.send("hold")
        u1.wait("held")
        assert proxy.replaced == 1, proxy.replaced
        if tls_id:
            # u2 saw a new association: its answer has a new tls-id and
            # keeps the roles (u1 server, u2 client).
            assert "tls-id changed: new DTLS-SRTP handshake" in u2.full_log()
        # The new association's words: the same certificates, so the same
        # words, but a new event after the handshake, and no longer verified.
        e1, e2 = u1.wait("sas", timeout=20), u2.wait("sas", timeout=20)
        n1, n2 = e1["sas"], e2["sas"]
        print("# words after the new handshake: u1 %r, u2 %r" % (n1, n2), flush=True)
        assert n1 == n2 == w1, (n1, n2, w1)
        assert "dtls-srtp" in e1["protection"] and "verified" not in e1["protection"], e1
        time.sleep(1)
        u1.send("resume")
        resumed = u1.wait("resumed")["protection"]
        assert "dtls-srtp" in resumed and "verified" not in resumed, resumed
        time.sleep(3)
        u1.send("hangup")
        u1.wait("ended")
        u2.wait("ended")
        # The resume kept the new association: no third handshake.
        for p in (u1, u2):
            n = sum(1 for e in p.seen if e.get("event") == "sas")
            assert n == 2, (p.name, n)
        u1.quit()
        u2.quit()
        srv.quit()
        heard_b = tone_in_recording(b_out, TONE_A, last_seconds=2)
        heard_a = tone_in_recording(a_out, TONE_B, last_seconds=2)
        print("# last 2 s: u2 heard %d blocks of %d Hz, u1 %d of %d Hz"
              % (heard_b, TONE_A, heard_a, TONE_B), flush=True)
        assert heard_b >= 50 and heard_a >= 50, (heard_b, heard_a)
    finally:
        cleanup(u1, u2, srv)
        if proxy is not None:
            proxy.close()
        shutil.rmtree(tmp, ignore_errors=True)


MITM_TOOL = None  # tests/tools/dtls-mitm, from --mitm PATH


class TerminatingMitm(FingerprintSwapper):
    """The real attack: a server that decrypts. dtls-mitm (tests/tools/
    dtls-mitm.c) terminates DTLS with its own certificate on two sockets,
    leg a facing the server's relay (on u1's host, as the relay expects of
    u1's side before it latched) and leg b facing u1; this signalling half
    puts leg a's address and the tool's real fingerprint into u1's offer,
    and leg b's address and the same fingerprint into the answer, then
    tells the tool where each phone is and which fingerprint its SDP gave
    (so the tool, like any DTLS peer of ours, checks what it is shown).
    Roles are the tool's defaults: u2 answers actpass with active, so leg a
    is the DTLS server and leg b the client (u1 becomes passive)."""

    def __init__(self, tool, capture_path, seconds=60):
        self.proc = subprocess.Popen(
            [tool, "--leg-a", U1, "--leg-b", MITM, "--capture", capture_path,
             "--capture-leg", "b", "--seconds", str(seconds)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.lines = queue.Queue()
        self.output = []
        threading.Thread(target=self._read, daemon=True).start()
        self.offer = self.answer = None  # (host, port, fingerprint) as the phones' SDPs said
        try:
            self.fingerprint = self.wait("fingerprint").split()[2]
            self.port_a, self.port_b = (int(x) for x in self.wait("ports").split()[1:3])
            super().__init__(self.fingerprint)
        except BaseException:
            self.proc.kill()
            self.proc.wait(timeout=5)
            raise

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.strip())
        self.lines.put(None)

    def wait(self, prefix, timeout=WAIT):
        """The next output line that starts with @prefix (earlier ones are
        kept in output)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError("dtls-mitm: no %r within %.0f s (%s)"
                                     % (prefix, timeout, self.output[-6:]))
            if line is None:
                raise AssertionError("dtls-mitm exited (%s)" % self.output[-6:])
            self.output.append(line)
            if line.startswith(prefix):
                return line

    @staticmethod
    def media_of(body):
        host = re.search(rb"(?m)^c=IN IP4 ([0-9.]+)", body)
        port = re.search(rb"(?m)^m=audio (\d+) ", body)
        fp = re.search(rb"(?m)^a=fingerprint:sha-256 ([0-9A-Fa-f:]+)", body)
        if not (host and port and fp):
            return None
        return host.group(1).decode(), int(port.group(1)), fp.group(1).decode()

    def rewrite_body(self, body, request):
        media = self.media_of(body)
        if media is None:
            return body
        host, port = (U1, self.port_a) if request else (MITM, self.port_b)
        old_port = media[1]
        body = re.sub(rb"(?m)^c=IN IP4 [0-9.]+", b"c=IN IP4 " + host.encode(), body)
        body = re.sub(rb"(?m)^m=audio \d+ ", b"m=audio %d " % port, body)
        body = re.sub(rb"(?m)^a=rtcp:%d\b" % old_port, b"a=rtcp:%d" % port, body)
        body = super().rewrite_body(body, request)
        if request and self.offer is None:
            self.offer = media
        elif not request and self.answer is None and self.offer is not None:
            self.answer = media
            self.proc.stdin.write("peer a %s %d %s\n" % self.answer)
            self.proc.stdin.write("peer b %s %d %s\n" % self.offer)
            self.proc.stdin.flush()
        return body

    def finish(self):
        """SIGTERM; its exit status must be 0. Returns its stats lines."""
        self.proc.terminate()
        code = self.proc.wait(timeout=WAIT)
        assert code == 0, "dtls-mitm exited with %d" % code
        while True:
            try:
                self.wait("stats", timeout=2)
            except AssertionError:
                break
        return [x for x in self.output if x.startswith("stats")]

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        super().close()


def read_capture(path):
    """The plain RTP packets dtls-mitm wrote (2-byte length, packet)."""
    with open(path, "rb") as f:
        data = f.read()
    packets, i = [], 0
    while i + 2 <= len(data):
        n = int.from_bytes(data[i:i + 2], "big")
        packets.append(data[i + 2:i + 2 + n])
        i += 2 + n
    return packets


def test_mitm_terminates():
    """A man in the middle that terminates DTLS on both legs with its own
    certificate (dtls-mitm) and re-encrypts: both handshakes succeed and
    the tones cross both ways, but the words differ, and the MITM really
    heard u1's 440 Hz in the clear.

    Why this catches a wrong SAS: each phone must derive its words from
    BOTH fingerprints, its own and the one its peer presented in the
    handshake. Here u1 has (F1, Fm) and u2 (F2, Fm). A SAS over the peer's
    fingerprint only gives both f(Fm): equal, so `w1 != w2` below fails
    (checked: sas.c hashing only its second argument, the peer's, failed
    here with the same four words on both phones). A SAS over the local
    fingerprint only gives f(F1) and f(F2), which differ here, but also
    differ without a MITM: through-server's `w1 == w2` fails (checked:
    sas.c hashing only its first argument passed here and failed
    through-server). A constant SAS is equal here and fails below. So the
    pair of tests passes only with words over both fingerprints; how they
    are combined (order-independent, every byte counts) is the unit test's
    part (test-media-sas: order-independent, changes)."""
    if MITM_TOOL is None:
        raise Skip("no --mitm PATH to dtls-mitm")
    mitm = srv = u1 = u2 = None
    tmp = tempfile.mkdtemp(prefix="sp-dtls-mitm2-")
    try:
        a_in, b_in = os.path.join(tmp, "a.wav"), os.path.join(tmp, "b.wav")
        a_out, b_out = os.path.join(tmp, "a-out.wav"), os.path.join(tmp, "b-out.wav")
        plain = os.path.join(tmp, "decrypted.rtp")
        make_tone(a_in, TONE_A)
        make_tone(b_in, TONE_B)
        mitm = TerminatingMitm(MITM_TOOL, plain)
        srv, u1, u2 = call_via_proxy(a_in, a_out, b_in, b_out)
        w1, w2 = sas_of(u1), sas_of(u2)
        est = [mitm.wait("established"), mitm.wait("established")]
        print("# words: u1 %r, u2 %r; dtls-mitm: %s" % (w1, w2, est), flush=True)
        # Each leg's handshake was with the phone whose SDP the proxy read.
        peers = {line.split()[1]: line.split()[3] for line in est}
        assert peers == {"a": mitm.answer[2], "b": mitm.offer[2]}, (peers, mitm.offer,
                                                                    mitm.answer)
        assert mitm.offer[2] != mitm.answer[2] != mitm.fingerprint
        assert w1 != w2, "the same words at both ends through a decrypting MITM: %r" % w1
        time.sleep(3)
        # u2 hangs up: u1's in-dialog BYE would go to the server directly
        # (its Record-Route), which challenges it, and u1 rightly keeps its
        # password from a host that is not its account's server (the MITM).
        u2.send("hangup")
        u2.wait("ended")
        u1.wait("ended")
        u1.quit()
        u2.quit()
        srv.quit()
        stats = mitm.finish()
        print("# dtls-mitm: %s" % stats, flush=True)
        # Every packet each phone heard went through the MITM's SRTP: it
        # decrypted and re-encrypted both directions.
        for line in stats:
            forwarded = int(re.search(r"forwarded=(\d+)", line).group(1))
            assert forwarded > 200, stats
        check_tones(a_out, b_out, "dtls-mitm")
        heard = tone_in_recording(b_out, TONE_A)
        packets = read_capture(plain)
        decrypted = tone_in_opus(packets, TONE_A)
        print("# u2 heard %d Hz in %d blocks; the MITM decrypted %d packets, %d carry it"
              % (TONE_A, heard, len(packets), decrypted), flush=True)
        assert heard >= 50, "u2's recording lacks u1's %d Hz: %d blocks" % (TONE_A, heard)
        # In the clear about two Opus packets per block of the recording
        # carry the tone (through-server's note); ciphertext gives ~0.
        assert len(packets) > 200 and decrypted * 4 > heard, (len(packets), decrypted, heard)
    finally:
        if mitm is not None and os.environ.get("SP_DTLS_DEBUG"):
            print("".join("# mitm: %s\n" % x for x in mitm.output[-20:]), flush=True)
            for p in (u1, u2):
                if p is not None:
                    print("".join("# %s: %s" % (p.name, x)
                                  for x in p.full_log().splitlines(True)[-60:]), flush=True)
        cleanup(u1, u2, srv, mitm)
        shutil.rmtree(tmp, ignore_errors=True)


TESTS = {
    "through-server": test_through_server,
    "direct": test_direct,
    "mitm": test_mitm,
    "mitm-terminates": test_mitm_terminates,
    "rekey": test_rekey,
    "rekey-tls-id": lambda: test_rekey(tls_id=True),
}


def main():
    global MITM_TOOL
    headless.SOFTPHONE = sys.argv[1]
    names = sys.argv[2:]
    if names[:1] == ["--mitm"]:
        MITM_TOOL, names = names[1], names[2:]
    return headless.run_tap(TESTS, names)


if __name__ == "__main__":
    sys.exit(main())
