#!/usr/bin/python3
"""Integration tests of `softphone --headless`: two instances on distinct
loopback addresses, driven through stdin, checked through their JSON events.
Every address is in 127.0.55.0/24, which no other test uses (sip-engine.py
has 127.0.33.x, the media loopback 127.0.0.21/22, the server tests
127.0.0.50/.183/.101), so the suites can run side by side.

Usage: headless.py SOFTPHONE [TEST...]   (prints TAP)
Every wait is bounded; only the processes started here are killed, by PID.
"""
import contextlib
import ctypes
import json
import math
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import wave

SOFTPHONE = None
WAIT = 10.0  # seconds, the bound on any single event wait


class Instance:
    """One headless softphone, its events in a queue."""

    def __init__(self, name, args, env=None, prefix=()):
        """@prefix: run through it (e.g. ip netns exec NS); it must exec the binary."""
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="sp-headless-%s-" % name)
        cmd = list(prefix) + [SOFTPHONE, "--headless", "--config-dir", self.dir] + args
        self.events = queue.Queue()
        self.seen = []
        self.sip = None  # our SIP address, from the ready event
        self.stderr_path = os.path.join(self.dir, "stderr.log")
        self.stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr, env=env, text=True, bufsize=1)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            line = line.strip()
            if not line:
                continue
            try:
                ev = json.loads(line)
                if ev.get("event") == "ready":
                    self.sip = ev.get("sip")
                self.events.put(ev)
            except ValueError:
                self.events.put({"event": "_not_json", "line": line})
        self.events.put({"event": "_eof"})

    def send(self, command):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def wait(self, name, timeout=WAIT, **match):
        """The next event called @name (and matching @match); others are kept in seen.
        An event already seen but not yet taken counts too."""
        for ev in self.seen:
            if (not ev.get("_taken") and ev.get("event") == name
                    and all(ev.get(k) == v for k, v in match.items())):
                ev["_taken"] = True
                return ev
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("%s: no %s event within %.0f s (seen: %s)"
                                     % (self.name, name, timeout, self.seen[-8:]))
            try:
                ev = self.events.get(timeout=left)
            except queue.Empty:
                continue
            self.seen.append(ev)
            if ev.get("event") == "_not_json":
                raise AssertionError("%s: stdout line is not JSON: %r" % (self.name, ev["line"]))
            if ev.get("event") == name and all(ev.get(k) == v for k, v in match.items()):
                ev["_taken"] = True
                return ev
            if ev.get("event") == "_eof":
                raise AssertionError("%s: exited while waiting for %s (seen: %s)"
                                     % (self.name, name, self.seen[-8:]))

    def exit_code(self, timeout=WAIT):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("%s: still running after %.0f s" % (self.name, timeout))

    def quit(self):
        """Sends quit (unless it already ended); it must exit with status 0."""
        if self.proc.poll() is None:
            self.send("quit")
        code = self.exit_code()
        assert code == 0, "%s exited with %d" % (self.name, code)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def full_log(self):
        self.stderr.flush()
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def log(self):
        try:
            with open(self.stderr_path) as f:
                return f.read()[-3000:]
        except OSError:
            return ""


@contextlib.contextmanager
def running(name, args, env=None):
    """An Instance for a with block: its log goes to stderr if the block
    fails, and it is killed (if still running) and cleaned up after."""
    inst = Instance(name, args, env)
    try:
        yield inst
    except Skip:
        raise
    except BaseException:
        sys.stderr.write("---- %s stderr ----\n%s\n" % (name, inst.log()))
        raise
    finally:
        inst.close()


def run_bad(args, expect_in_message):
    proc = subprocess.run([SOFTPHONE, "--headless"] + args, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=WAIT)
    assert proc.returncode != 0, "%s: exit status 0" % args
    assert proc.stdout == "", "%s: printed on stdout: %r" % (args, proc.stdout)
    assert expect_in_message in proc.stderr, "%s: stderr %r lacks %r" % (
        args, proc.stderr, expect_in_message)


def test_bad_options():
    run_bad(["--bind", "127.0.0.1:99999"], "Bad port")
    run_bad(["--bind", "not-an-address"], "numeric IP address")
    run_bad(["--hangup-after", "soon"], "not a number of seconds")
    run_bad(["--auto-answer=-1"], "not a number of seconds")
    run_bad(["--account", "bob"], "--account")
    run_bad(["--account", "sip:@127.0.0.1"], "--account")
    run_bad(["--audio-in", "/nonexistent/file.wav"], "no such file")
    run_bad(["--no-such-option"], "no-such-option")
    run_bad(["--sip-t1", "5"], "milliseconds")
    run_bad(["extra-argument"], "unexpected argument")
    # The window (no --headless) takes --bind and --config-dir too: a bad
    # address, or an option only the headless runner takes, is said before
    # any window opens (no display here: a window would fail otherwise).
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    for args, expect in ((["--bind", "pbx.example:5060"], "numeric IP address"),
                         (["--config-dir", "/tmp", "--account", "sip:u@127.0.0.1"],
                          "--account needs --headless"),
                         (["--server"], "--server needs --headless")):
        proc = subprocess.run([SOFTPHONE] + args, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=WAIT, env=dict(env, LANGUAGE="C"))
        assert proc.returncode == 2, (args, proc.returncode, proc.stderr)
        assert expect in proc.stderr, (args, proc.stderr)


def test_status_quit():
    with running("a", ["--bind", "127.0.55.31:0"]) as a:
        ready = a.wait("ready")
        host, port = ready["sip"].rsplit(":", 1)
        assert host == "127.0.55.31" and int(port) > 0, ready
        a.send("status")
        st = a.wait("status")
        assert st["sip"] == ready["sip"] and st["accounts"] == [] and st["calls"] == [], st
        a.send("frobnicate")
        err = a.wait("error")
        assert "Unknown command" in err["message"], err
        a.send("call 42")  # a number with no account: a clear error, no crash
        err = a.wait("error")
        assert "needs an account" in err["message"], err
        a.send("hangup")
        err = a.wait("error")
        assert "No call" in err["message"], err
        a.quit()


def test_sigterm():
    with running("a", ["--bind", "127.0.55.32:0"]) as a:
        a.wait("ready")
        a.proc.send_signal(signal.SIGTERM)
        assert a.exit_code() == 0


def hold_port(host, port):
    """Another SIP program on host:port: a UDP and a TCP socket holding it."""
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((host, port))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind((host, port))
    tcp.listen(1)
    return udp, tcp


def test_port_in_use():
    """Another program holds the SIP port. A second instance on the same
    address takes the next free port, says which, registers from it and
    is called at it directly and through the server, with sound both ways; a server keeps its
    well-known port and says why it cannot start."""
    with running("a", ["--bind", "127.0.55.33:0"]) as a:
        ready = a.wait("ready")
        proc = subprocess.run([SOFTPHONE, "--headless", "--server", "--bind", ready["sip"],
                               "--config-dir", a.dir], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=WAIT)
        assert proc.returncode != 0 and "server cannot start: another program uses port %s" \
            % ready["sip"].rsplit(":", 1)[1] in proc.stderr, proc
        a.quit()

    held = hold_port("127.0.55.36", 5060)
    tmp = tempfile.mkdtemp(prefix="sp-headless-port-")
    a_in, b_in, a_out, b_out = make_tones(tmp)
    regfile = os.path.join(tmp, "regfile.conf")
    with open(regfile, "w") as f:
        f.write("[u1]\npassword=p1\n[u2]\npassword=p2\n")
    try:
        run_bad(["--bind", "127.0.55.36:5060", "--server"],
                "server cannot start: another program uses port 5060 on 127.0.55.36")
        with running("srv", ["--bind", "127.0.55.37:5060", "--server", "--users", regfile]) as srv, \
                running("a", ["--bind", "127.0.55.36:5060", "--account", "sip:u1:p1@127.0.55.37",
                              "--audio-in", a_in, "--audio-out", a_out]) as a:
            moved = a.wait("port_moved")
            assert moved["wanted"] == 5060 and moved["sip"] == "127.0.55.36:5061", moved
            assert a.wait("ready")["sip"] == "127.0.55.36:5061"
            assert "SIP port 5060 is taken by another program; using 5061" in a.full_log()
            assert a.wait("registered")["code"] == 200
            reg = srv.wait("server_registered")
            assert reg["user"] == "u1" and "127.0.55.36:5061" in reg["contact"], reg
            with running("b", ["--bind", "127.0.55.38:0", "--account", "sip:u2:p2@127.0.55.37",
                               "--audio-in", b_in, "--audio-out", b_out]) as b:
                assert b.wait("registered")["code"] == 200
                # A direct call names the port: it rings there.
                b.send("call 127.0.55.36:5061")
                assert a.wait("incoming")["from"].startswith("sip:anonymous@127.0.55.38")
                b.send("hangup")
                a.wait("ended")
                b.wait("ended")
                # Through the server, by name: the server reaches u1 where it
                # registered from; both hear each other.
                b.send("call u1")
                a.wait("incoming")
                a.send("answer")
                a.wait("established")
                b.wait("established")
                time.sleep(3)
                b.send("hangup")
                a.wait("ended")
                b.wait("ended")
                b.quit()
                assert b.exit_code() == 0
            a.quit()
            assert a.exit_code() == 0
        check_tones(a_out, b_out, "call through the server to the moved port")
    finally:
        for sock in held:
            sock.close()
        shutil.rmtree(tmp, ignore_errors=True)


# ---- calls between two instances ---------------------------------------

TONE_A = 440   # what A sends
TONE_B = 1000  # what B sends


def make_tone(path, freq, seconds=20, rate=8000):
    subprocess.run(["sox", "-n", "-r", str(rate), "-c", "1", "-b", "16", path, "synth",
                    str(seconds), "sine", str(freq), "vol", "0.5"], check=True, timeout=WAIT)


def make_tones(tmp):
    """A's tone and B's in @tmp (20 s: longer than any call, or baresip hangs
    up), and where each records: (a_in, b_in, a_out, b_out)."""
    a_in, b_in, a_out, b_out = (os.path.join(tmp, n)
                                for n in ("a-in.wav", "b-in.wav", "a-out.wav", "b-out.wav"))
    make_tone(a_in, TONE_A)
    make_tone(b_in, TONE_B)
    return a_in, b_in, a_out, b_out


def goertzel(samples, freq, rate):
    k = 2.0 * math.cos(2.0 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in samples:
        s0 = x + k * s1 - s2
        s2, s1 = s1, s0
    return s1 * s1 + s2 * s2 - k * s1 * s2


def wait_recording_closed(path, timeout=10.0):
    """Waits until the WAV recording at @path is closed: its header, written
    with no samples when it opens and with all of them when it closes,
    counts every byte of the file. A call's "ended" event can come before
    the media thread has closed its recording (the main loop never waits for
    it), so a test that reads one mid-run waits for this first."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(path, "rb") as f:
                data = f.read()
            if len(data) > 44 and int.from_bytes(data[40:44], "little") == len(data) - 44:
                return
        except OSError:
            pass
        assert time.monotonic() < deadline, "%s was not closed within %.0f s" % (path, timeout)
        time.sleep(0.05)


def block_labels(path, f1, f2):
    """Per 20 ms block of @path: f1 or f2 where that one dominates (ten times
    the other's power), None for silence or neither."""
    with wave.open(path) as w:
        channels = w.getnchannels()
        assert channels in (1, 2) and w.getsampwidth() == 2, path
        rate = w.getframerate()
        data = w.readframes(w.getnframes())
    # baresip records Opus as decoded, in stereo: the left channel.
    n = len(data) // (2 * channels)
    step = 2 * channels
    samples = [int.from_bytes(data[step * i:step * i + 2], "little", signed=True)
               for i in range(n)]
    block = rate // 50
    labels = []
    for start in range(0, n - block + 1, block):
        chunk = samples[start:start + block]
        label = None
        if max(abs(x) for x in chunk) >= 500:  # else silence
            p1, p2 = goertzel(chunk, f1, rate), goertzel(chunk, f2, rate)
            label = f1 if p1 > 10 * p2 else f2 if p2 > 10 * p1 else None
        labels.append(label)
    return labels


def dominant_blocks(path, f1, f2):
    """(blocks where f1 dominates, blocks where f2 dominates, total) over 20 ms blocks."""
    labels = block_labels(path, f1, f2)
    return labels.count(f1), labels.count(f2), len(labels)


def own_tone_after_answer(path, own, other):
    """Blocks of @path where @own dominates once @other was first heard. The
    caller's recording starts with its ringback (425 Hz, within a 20 ms
    block's resolution of 440 Hz) for as long as the callee takes to answer,
    longer under load: its own tone coming back is told from it by time."""
    labels = block_labels(path, own, other)
    first = labels.index(other) if other in labels else len(labels)
    return labels[first:].count(own)


def check_tones(a_out, b_out, label, *context):
    """@a_out: what A recorded, @b_out: what B did (or baresip decoded). Each
    hears the other's tone and not its own; @context goes in the failure."""
    a440, a1000, a_total = dominant_blocks(a_out, TONE_A, TONE_B)
    a440_after = own_tone_after_answer(a_out, TONE_A, TONE_B)
    b440, b1000, b_total = dominant_blocks(b_out, TONE_A, TONE_B)
    print("# %s: A heard %d/%d blocks of %d Hz (%d of %d Hz, %d of them once %d Hz came), "
          "B %d/%d of %d Hz (%d of %d Hz)"
          % (label, a1000, a_total, TONE_B, a440, TONE_A, a440_after, TONE_B, b440, b_total,
             TONE_A, b1000, TONE_B), flush=True)
    assert a1000 >= 100 and a440_after == 0, (a440, a440_after, a1000, a_total) + context
    assert b440 >= 100 and b1000 == 0, (b440, b1000, b_total) + context


class Pair:
    """A on 127.0.55.1, B on 127.0.55.2, each sending its own tone."""

    def __init__(self, a_args=(), b_args=()):
        self.tmp = tempfile.mkdtemp(prefix="sp-headless-pair-")
        self.a_in, self.b_in, self.a_out, self.b_out = make_tones(self.tmp)
        self.b = Instance("b", ["--bind", "127.0.55.2:0", "--audio-in", self.b_in,
                                "--audio-out", self.b_out] + list(b_args))
        self.b_sip = self.b.wait("ready")["sip"]
        self.a = Instance("a", ["--bind", "127.0.55.1:0", "--audio-in", self.a_in,
                                "--audio-out", self.a_out] + list(a_args))
        self.a_sip = self.a.wait("ready")["sip"]

    def dial(self):
        """A calls B: B's incoming event, once A hears it ringing."""
        self.a.send("call " + self.b_sip)
        incoming = self.b.wait("incoming")
        self.a.wait("ringing")
        return incoming

    def call(self):
        """A calls B and B answers: their established events (A's, B's)."""
        self.dial()
        self.b.send("answer")
        return self.a.wait("established"), self.b.wait("established")

    def hang_up(self, by):
        """@by (self.a or self.b) hangs up: both ended events (A's, B's)."""
        by.send("hangup")
        return self.a.wait("ended"), self.b.wait("ended")

    def quit(self):
        for inst in (self.a, self.b):
            if inst.proc.poll() is None:
                inst.send("quit")
        for inst in (self.a, self.b):
            code = inst.exit_code()
            assert code == 0, "%s exited with %d:\n%s" % (inst.name, code, inst.log())

    def close(self):
        self.a.close()
        self.b.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def dump(self):
        for inst in (self.a, self.b):
            sys.stderr.write("---- %s stderr ----\n%s\n" % (inst.name, inst.log()))


def with_pair(body, a_args=(), b_args=()):
    p = Pair(a_args, b_args)
    try:
        body(p)
    except BaseException:
        p.dump()
        raise
    finally:
        p.close()


def test_direct_call_tones():
    def body(p):
        inc = p.dial()
        p.a.wait("dialing")
        assert inc["from"].startswith("sip:anonymous@127.0.55.1"), inc
        p.b.send("answer")
        est_b = p.b.wait("established")
        est_a = p.a.wait("established")
        # Two of our phones: Opus (wideband), with no setting.
        assert est_a["codec"] == est_b["codec"] == "opus/48000", (est_a, est_b)
        assert est_a["call_id"] == est_b["call_id"], (est_a, est_b)
        time.sleep(3)
        end_a, end_b = p.hang_up(p.a)
        assert end_a["reason"] == "User hangup" and end_b["reason"] == "Remote hangup", (end_a,
                                                                                        end_b)
        assert 2 <= end_a["duration"] <= 5, end_a
        p.quit()
        check_tones(p.a_out, p.b_out, "direct call")
    with_pair(body)


def test_callee_hangs_up():
    def body(p):
        p.call()
        end_a, end_b = p.hang_up(p.b)
        assert end_b["reason"] == "User hangup" and end_a["reason"] == "Remote hangup", (end_a,
                                                                                        end_b)
        p.quit()
    with_pair(body)


def test_cancel_before_answer():
    def body(p):
        p.dial()
        end_a, end_b = p.hang_up(p.a)
        assert end_a["code"] == 487 and end_a["reason"] == "User hangup", end_a
        assert end_b["code"] == 487 and "Cancelled" in end_b["reason"], end_b
        assert end_a["duration"] == 0, end_a
        p.quit()
    with_pair(body)


def test_busy_dnd():
    def body(p):
        p.b.send("dnd on")
        p.a.send("call " + p.b_sip)
        end_a = p.a.wait("ended")
        assert end_a["code"] == 486 and end_a["reason"] == "Busy Here", end_a
        assert not any(e.get("event") == "incoming" for e in p.b.seen), p.b.seen
        p.quit()
    with_pair(body)


def test_hold_resume_dtmf():
    def body(p):
        p.call()
        p.a.send("hold")
        p.a.wait("held")
        p.a.send("resume")
        p.a.wait("resumed")
        p.a.send("dtmf 1#9")
        digits = "".join(p.b.wait("dtmf")["digit"] for _ in range(3))
        assert digits == "1#9", digits
        p.b.send("dtmf *0")
        digits = "".join(p.a.wait("dtmf")["digit"] for _ in range(2))
        assert digits == "*0", digits
        p.hang_up(p.a)
        p.quit()
    with_pair(body)


def make_dtmf_5(path):
    """Key 5 (770 + 1336 Hz) for 120 ms every 500 ms, as a phone without
    RFC 4733 sends it: tones in the audio only."""
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", path, "synth", "0.12",
                    "sine", "770", "synth", "0.12", "sine", "mix", "1336", "vol", "0.4",
                    "pad", "0", "0.38", "repeat", "39"], check=True, timeout=WAIT)


def test_inband_dtmf():
    """B's audio carries key 5 as tones: A reports it (the default), and
    with --no-inband-dtmf it does not."""
    tmp = tempfile.mkdtemp(prefix="sp-headless-dtmf-")
    keys = os.path.join(tmp, "key5.wav")
    make_dtmf_5(keys)
    try:
        for a_args, heard in (((), True), (("--no-inband-dtmf",), False)):
            def body(p):
                p.call()
                if heard:
                    ev = p.a.wait("dtmf")
                    assert ev["digit"] == "5" and ev["method"] == "inband", ev
                else:
                    time.sleep(2.5)
                    assert not any(e.get("event") == "dtmf" for e in p.a.seen), p.a.seen
                p.hang_up(p.a)
                p.quit()
            with_pair(body, a_args=a_args, b_args=("--audio-in", keys))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_auto_answer_exit_when_idle():
    """--call/--auto-answer/--hangup-after/--exit-when-idle: no stdin needed."""
    def body(p):
        p.a.send("quit")
        assert p.a.exit_code() == 0
        with running("a2", ["--bind", "127.0.55.1:0", "--call", p.b_sip, "--hangup-after", "1",
                            "--exit-when-idle"]) as a:
            a.wait("established")
            a.wait("ended")
            assert a.exit_code() == 0
        p.b.wait("ended")
        p.b.quit()
    with_pair(body, b_args=["--auto-answer=1"])


# ---- a raw SIP peer over UDP (for what two instances never send) --------

import socket  # noqa: E402


class RawUac:
    """Just enough of a UAC to send one INVITE, ACK, INFO and BYE by hand."""

    def __init__(self, local, remote):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((local, 0))
        self.sock.settimeout(WAIT)
        self.local = "%s:%d" % self.sock.getsockname()
        self.remote = remote
        host, port = remote.rsplit(":", 1)
        self.addr = (host, int(port))
        self.call_id = "raw-%d@test" % os.getpid()
        self.cseq = 0
        self.to_tag = None

    def request(self, method, body="", ctype=None, cseq=None):
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        to = "<sip:%s>" % self.remote + (";tag=%s" % self.to_tag if self.to_tag else "")
        lines = ["%s sip:%s SIP/2.0" % (method, self.remote),
                 "Via: SIP/2.0/UDP %s;branch=z9hG4bK%s%d;rport" % (self.local, method.lower(),
                                                                     cseq),
                 "From: <sip:raw@%s>;tag=rawtag" % self.local, "To: " + to,
                 "Call-ID: " + self.call_id, "CSeq: %d %s" % (cseq, method),
                 "Max-Forwards: 70", "Contact: <sip:raw@%s>" % self.local]
        if ctype:
            lines.append("Content-Type: " + ctype)
        lines.append("Content-Length: %d" % len(body.encode()))
        self.sock.sendto(("\r\n".join(lines) + "\r\n\r\n" + body).encode(), self.addr)

    def response(self, final_only=True, method=None):
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            data, _ = self.sock.recvfrom(65536)
            text = data.decode(errors="replace")
            if not text.startswith("SIP/2.0 "):
                continue  # a request from the far end (BYE): not what we wait for
            code = int(text.split()[1])
            if method and ("CSeq:" not in text or method not in text.split("CSeq:")[1]
                           .split("\r\n")[0]):
                continue
            if code >= 200 or not final_only:
                for line in text.split("\r\n"):
                    if line.lower().startswith("to:") and ";tag=" in line:
                        self.to_tag = line.split(";tag=")[1].split(";")[0].strip()
                return code, text
        raise AssertionError("no response within %.0f s" % WAIT)

    def close(self):
        self.sock.close()


def raw_sdp(local_ip, port, formats, rtpmaps=""):
    return ("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP %s\r\n%s" % (local_ip, local_ip, port, formats, rtpmaps))


def test_no_common_codec():
    with running("b", ["--bind", "127.0.55.2:0"]) as b, \
            contextlib.closing(RawUac("127.0.55.3", b.wait("ready")["sip"])) as uac:
        uac.request("INVITE", raw_sdp("127.0.55.3", 7000, "3 18", "a=rtpmap:18 G729/8000\r\n"),
                    "application/sdp")
        code, text = uac.response(method="INVITE")
        assert code == 488, text
        assert "GSM G729" in text and "PCMU" in text, text  # the Warning names both lists
        uac.request("ACK", cseq=uac.cseq)
        end = b.wait("ended")
        assert end["code"] == 488 and "No common codec" in end["reason"], end
        assert "GSM G729" in end["reason"] and "opus G722 PCMA PCMU" in end["reason"], end
        b.quit()


class RawPeer:
    """A UDP socket that takes SIP requests one by one and answers them by
    hand: enough of a registrar and UAS for what our phone must cope with."""

    def __init__(self, local):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((local, 0))
        self.sock.settimeout(WAIT)
        self.addr = "%s:%d" % self.sock.getsockname()

    def recv_request(self, method):
        """The next request @method (other requests and responses are skipped)."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            data, src = self.sock.recvfrom(65536)
            text = data.decode(errors="replace")
            if text.startswith(method + " "):
                return text, src
        raise AssertionError("no %s within %.0f s" % (method, WAIT))

    @staticmethod
    def headers(text, name):
        head = text.split("\r\n\r\n", 1)[0]
        return [line.split(":", 1)[1].strip() for line in head.split("\r\n")[1:]
                if line.split(":", 1)[0].strip().lower() == name.lower()]

    @staticmethod
    def body(text):
        return text.split("\r\n\r\n", 1)[1] if "\r\n\r\n" in text else ""

    def reply(self, request, src, code, reason, extra=(), body="", tag="uastag"):
        to = self.headers(request, "To")[0]
        if ";tag=" not in to:
            to += ";tag=" + tag
        lines = ["SIP/2.0 %d %s" % (code, reason)]
        lines += ["Via: " + v for v in self.headers(request, "Via")]
        lines += ["From: " + self.headers(request, "From")[0], "To: " + to,
                  "Call-ID: " + self.headers(request, "Call-ID")[0],
                  "CSeq: " + self.headers(request, "CSeq")[0],
                  "Contact: <sip:uas@%s>" % self.addr] + list(extra)
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append("Content-Length: %d" % len(body.encode()))
        self.sock.sendto(("\r\n".join(lines) + "\r\n\r\n" + body).encode(), src)

    def close(self):
        self.sock.close()


def sdp_port(text):
    for line in text.split("\r\n"):
        if line.startswith("m=audio "):
            return int(line.split()[1])
    raise AssertionError("no m=audio in %r" % text)


def test_late_offer():
    """An INVITE without SDP: our offer goes in the 200, the answer comes in the ACK,
    and RTP then goes where the ACK's SDP said. An ACK without an answer ends the call."""
    with running("b", ["--bind", "127.0.55.2:0", "--auto-answer"]) as b, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rtp:
        sip = b.wait("ready")["sip"]
        rtp.bind(("127.0.55.3", 0))
        rtp.settimeout(WAIT)
        rtp_port = rtp.getsockname()[1]
        with contextlib.closing(RawUac("127.0.55.3", sip)) as uac:
            uac.request("INVITE")
            code, text = uac.response(method="INVITE")
            assert code == 200, text
            offer = RawPeer.body(text)
            assert "a=rtpmap:0 PCMU/8000" in offer and "a=rtpmap:8 PCMA/8000" in offer, offer
            assert "telephone-event/8000" in offer, offer
            their_port = sdp_port(offer)
            assert not any(e.get("event") == "established" for e in b.seen), b.seen
            uac.request("ACK", raw_sdp("127.0.55.3", rtp_port, "8 101",
                                       "a=rtpmap:101 telephone-event/8000\r\n"),
                        "application/sdp", cseq=uac.cseq)
            est = b.wait("established")
            assert est["codec"] == "PCMA/8000", est  # what the answer chose, not our first
            data, src = rtp.recvfrom(2048)
            assert src == ("127.0.55.2", their_port), (src, their_port)
            assert len(data) >= 12 and data[0] >> 6 == 2 and data[1] & 0x7f == 8, data[:12]
            uac.request("BYE")
            code, _ = uac.response(method="BYE")
            assert code == 200
            assert b.wait("ended")["reason"] == "Remote hangup"

        # The same without an answer in the ACK: the call cannot go on.
        with contextlib.closing(RawUac("127.0.55.3", sip)) as uac:
            uac.call_id += "-2"
            uac.request("INVITE")
            code, text = uac.response(method="INVITE")
            assert code == 200, text
            uac.request("ACK", cseq=uac.cseq)
            end = b.wait("ended")
            assert end["code"] == 488 and "No SDP answer" in end["reason"], end
            for _ in range(5):  # a 200 retransmitted before our ACK may come first
                bye = uac.sock.recvfrom(65536)[0].decode(errors="replace")
                if not bye.startswith("SIP/2.0"):
                    break
            assert bye.startswith("BYE "), bye
            b.quit()


def digest_md5(*parts):
    import hashlib
    return hashlib.md5(":".join(parts).encode()).hexdigest()


def test_reinvite_challenged():
    """A 401 to our hold re-INVITE: sent again in the dialog with credentials."""
    with contextlib.closing(RawPeer("127.0.55.6")) as peer, \
            running("a", ["--bind", "127.0.55.1:0", "--account", "sip:u1:pw1@" + peer.addr,
                          "--account-option", "allow-md5-without-qop=on", "--log-sip"]) as a:
        a.wait("ready")
        reg, src = peer.recv_request("REGISTER")
        peer.reply(reg, src, 200, "OK", ["Expires: 3600"])
        a.wait("registered")
        a.send("call 2")
        inv, src = peer.recv_request("INVITE")
        answer = raw_sdp("127.0.55.6", 7100, "0 101", "a=rtpmap:101 telephone-event/8000\r\n")
        peer.reply(inv, src, 200, "OK", body=answer)
        peer.recv_request("ACK")
        a.wait("established")

        a.send("hold")
        reinv, src = peer.recv_request("INVITE")
        assert ";tag=uastag" in peer.headers(reinv, "To")[0], reinv
        assert "a=sendonly" in RawPeer.body(reinv), reinv
        nonce = "n0nce%d" % os.getpid()
        peer.reply(reinv, src, 401, "Unauthorized",
                   ['WWW-Authenticate: Digest realm="test", nonce="%s", algorithm=MD5' % nonce])
        again, src = peer.recv_request("INVITE")
        cseq1 = int(peer.headers(reinv, "CSeq")[0].split()[0])
        cseq2 = int(peer.headers(again, "CSeq")[0].split()[0])
        assert cseq2 > cseq1, (cseq1, cseq2)
        assert peer.headers(again, "Call-ID") == peer.headers(reinv, "Call-ID")
        assert RawPeer.body(again) == RawPeer.body(reinv), "the same offer again"
        auth = peer.headers(again, "Authorization")
        assert auth, again
        fields = dict(kv.strip().split("=", 1) for kv in auth[0][len("Digest "):].split(","))
        fields = {k: v.strip('"') for k, v in fields.items()}
        uri = again.split(" ")[1]
        want = digest_md5(digest_md5("u1", "test", "pw1"), nonce, digest_md5("INVITE", uri))
        assert fields["username"] == "u1" and fields["nonce"] == nonce, fields
        assert fields["uri"] == uri and fields["response"] == want, (fields, want)
        peer.reply(again, src, 200, "OK",
                   body=answer.replace("telephone-event/8000\r\n",
                                       "telephone-event/8000\r\na=recvonly\r\n"))
        held = a.wait("held")
        assert held["call"] == "1", held

        a.send("hangup")
        bye, src = peer.recv_request("BYE")
        peer.reply(bye, src, 200, "OK")
        a.wait("ended")
        a.send("quit")
        unreg, src = peer.recv_request("REGISTER")
        assert "Expires: 0" in unreg or "expires=0" in unreg, unreg
        peer.reply(unreg, src, 200, "OK", ["Expires: 0"])
        assert a.exit_code() == 0
        # --log-sip: both directions with addresses, the transaction layer's own
        # ACK for the 401, and never the password.
        log = a.full_log()
        sent = "----- SIP sent UDP %s -> %s -----\n" % (a.sip, peer.addr)
        received = "----- SIP received UDP %s -> %s -----\n" % (peer.addr, a.sip)
        assert sent + "REGISTER sip:" in log, log[-3000:]
        assert received + "SIP/2.0 401 Unauthorized" in log, log[-3000:]
        assert log.count(sent + "ACK sip:") == 3, log[-3000:]  # 200, 401, 200
        assert log.count(sent + "INVITE sip:") == 3, log[-3000:]
        # As a word: random tags, branches and nonces ([A-Za-z0-9]) contain
        # "pw1" now and then, the password never stands alone.
        assert re.search(r"(?<![A-Za-z0-9])pw1(?![A-Za-z0-9])", log) is None, log[-3000:]


def test_timeout_408():
    """Nobody answers the INVITE: with T1 scaled to 50 ms, Timer B (64*T1 = 3.2 s)
    ends the call with 408 after the INVITE was retransmitted (A doubling)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent, \
            running("a", ["--bind", "127.0.55.1:0", "--sip-t1", "50", "--log-sip"]) as a:
        silent.bind(("127.0.55.7", 0))
        silent.settimeout(0.2)
        a.wait("ready")
        t0 = time.monotonic()
        a.send("call %s:%d" % silent.getsockname())
        end = a.wait("ended", timeout=8)
        elapsed = time.monotonic() - t0
        assert end["code"] == 408 and end["reason"] == "No answer (timeout)", end
        assert 2.8 <= elapsed <= 5.0, "Timer B after %.1f s, want 3.2 s" % elapsed
        invites = 0
        while True:
            try:
                if silent.recvfrom(65536)[0].startswith(b"INVITE "):
                    invites += 1
            except socket.timeout:
                break
        # 0, 50, 150, 350, 750, 1550, 3150 ms: 7 sends before 3.2 s.
        print("# Timer B after %.2f s, %d INVITEs sent" % (elapsed, invites), flush=True)
        assert 6 <= invites <= 8, invites
        a.send("quit")
        assert a.exit_code() == 0
        # --log-sip shows what the transaction layer retransmitted, too.
        dest = "%s:%d" % silent.getsockname()
        logged = a.full_log().count("----- SIP sent UDP %s -> %s -----\nINVITE "
                                    % (a.sip, dest))
        assert logged == invites, (logged, invites)


def test_unavailable_480():
    with contextlib.closing(RawPeer("127.0.55.6")) as peer, \
            running("a", ["--bind", "127.0.55.1:0"]) as a:
        a.wait("ready")
        a.send("call sip:nobody@" + peer.addr)
        inv, src = peer.recv_request("INVITE")
        peer.reply(inv, src, 100, "Trying")
        peer.reply(inv, src, 480, "Temporarily Unavailable")
        end = a.wait("ended")
        assert end["code"] == 480 and end["reason"] == "Temporarily Unavailable", end
        ack, _ = peer.recv_request("ACK")  # the transaction ACKs the failure
        assert peer.headers(ack, "CSeq")[0].endswith("ACK"), ack
        a.quit()


class TcpRegistrar:
    """One TCP connection at a time, REGISTERs answered 200 by hand."""

    def __init__(self, local):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((local, 0))
        self.listener.listen(4)
        self.listener.settimeout(WAIT)
        self.addr = "%s:%d" % self.listener.getsockname()
        self.conn = None
        self.buf = b""

    def accept(self):
        self.conn, _ = self.listener.accept()
        self.conn.settimeout(WAIT)
        self.buf = b""

    def read(self, want):
        """Bytes until @want (included) is at the front of what came."""
        deadline = time.monotonic() + WAIT
        while want not in self.buf:
            if time.monotonic() > deadline:
                raise AssertionError("no %r from the phone (got %r)" % (want, self.buf[-200:]))
            data = self.conn.recv(65536)
            if not data:
                raise AssertionError("the phone closed the connection")
            self.buf += data
        head, self.buf = self.buf.split(want, 1)
        return head + want

    def register(self):
        """Reads one REGISTER (no body) and answers 200; returns its text."""
        text = self.read(b"\r\n\r\n").decode(errors="replace").lstrip("\r\n")
        assert text.startswith("REGISTER "), text
        to = RawPeer.headers(text, "To")[0] + ";tag=regtag"
        lines = ["SIP/2.0 200 OK"] + ["Via: " + v for v in RawPeer.headers(text, "Via")]
        lines += ["From: " + RawPeer.headers(text, "From")[0], "To: " + to,
                  "Call-ID: " + RawPeer.headers(text, "Call-ID")[0],
                  "CSeq: " + RawPeer.headers(text, "CSeq")[0],
                  "Expires: " + RawPeer.headers(text, "Expires")[0], "Content-Length: 0"]
        self.conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return text

    def close(self):
        if self.conn:
            self.conn.close()
        self.listener.close()


def test_tcp_keepalive_and_flow_failure():
    """A TCP account: CRLF pings while registered (RFC 5626 4.4.1), and when
    the registrar's connection drops, a new REGISTER on a new connection."""
    with contextlib.closing(TcpRegistrar("127.0.55.8")) as reg, \
            running("a", ["--bind", "127.0.55.1:0", "--keepalive-interval", "1", "--account",
                          "sip:u1:pw1@%s;transport=tcp" % reg.addr]) as a:
        a.wait("ready")
        reg.accept()
        first = reg.register()
        assert "Via: SIP/2.0/TCP" in first, first
        a.wait("registered")
        t0 = time.monotonic()
        reg.read(b"\r\n\r\n")  # a ping, nothing before it
        assert reg.buf == b"", reg.buf
        elapsed = time.monotonic() - t0
        assert elapsed < 2.5, "first ping after %.1f s" % elapsed
        reg.conn.sendall(b"\r\n")  # pong
        reg.read(b"\r\n\r\n")  # and the next one
        reg.conn.close()
        reg.accept()
        again = reg.register()
        assert RawPeer.headers(again, "Call-ID") == RawPeer.headers(first, "Call-ID"), again
        assert a.wait("registered")["code"] == 200
        a.send("quit")
        unreg = reg.register()
        assert RawPeer.headers(unreg, "Expires") == ["0"], unreg
        assert a.exit_code() == 0


def test_names_resolved():
    """A server and a call target given by name (localhost, from /etc/hosts) are
    looked up without blocking and reached at their address."""
    with contextlib.closing(RawPeer("127.0.0.1")) as peer:  # where localhost goes
        port = peer.addr.rsplit(":", 1)[1]  # ours alone
        with running("a", ["--bind", "127.0.55.1:0", "--account",
                           "sip:u1:pw1@localhost:" + port]) as a:
            a.wait("ready")
            reg, src = peer.recv_request("REGISTER")
            assert reg.startswith("REGISTER sip:localhost:%s SIP/2.0" % port), reg
            peer.reply(reg, src, 200, "OK", ["Expires: 3600"])
            a.wait("registered")
            a.send("call sip:someone@localhost:" + port)
            inv, src = peer.recv_request("INVITE")
            assert inv.startswith("INVITE sip:someone@localhost:%s SIP/2.0" % port), inv
            peer.reply(inv, src, 486, "Busy Here")
            end = a.wait("ended")
            assert end["code"] == 486, end
            a.send("quit")
            unreg, src = peer.recv_request("REGISTER")
            peer.reply(unreg, src, 200, "OK", ["Expires: 0"])
            assert a.exit_code() == 0


def test_info_dtmf_and_media_timeout():
    with running("b", ["--bind", "127.0.55.2:0", "--auto-answer", "--media-timeout", "2"]) as b, \
            contextlib.closing(RawUac("127.0.55.3", b.wait("ready")["sip"])) as uac:
        uac.request("INVITE", raw_sdp("127.0.55.3", 7000, "0 101",
                                      "a=rtpmap:101 telephone-event/8000\r\n"),
                    "application/sdp")
        code, text = uac.response(method="INVITE")
        assert code == 200 and "m=audio" in text, text
        uac.request("ACK", cseq=uac.cseq)
        b.wait("established")
        uac.request("INFO", "Signal=5\r\nDuration=160\r\n", "application/dtmf-relay")
        code, text = uac.response(method="INFO")
        assert code == 200, text
        ev = b.wait("dtmf")
        assert ev["digit"] == "5" and ev["method"] == "info", ev
        # We never send RTP: the call ends by media timeout, with a BYE.
        t0 = time.monotonic()
        end = b.wait("ended", timeout=10)
        assert end["reason"] == "media timeout", end
        assert time.monotonic() - t0 < 6, "media timeout took too long"
        b.quit()


def test_second_call_holds_first():
    def body(p):
        with running("c", ["--bind", "127.0.55.3:0"]) as c:
            c.wait("ready")
            _, first = p.call()
            c.send("call " + p.b_sip)
            second = p.b.wait("incoming")
            assert second["call"] != first["call"], (first, second)
            p.b.send("answer " + second["call"])
            # The answer (200) goes out at once; the hold waits for its re-INVITE.
            p.b.wait("established", call=second["call"])
            held = p.b.wait("held")
            assert held["call"] == first["call"], held
            c.wait("established")
            p.b.send("status")
            st = p.b.wait("status")
            states = {x["call"]: x["state"] for x in st["calls"]}
            assert states == {first["call"]: "held", second["call"]: "established"}, st
            p.b.send("hangup " + second["call"])
            c.wait("ended")
            p.b.send("resume " + first["call"])
            res = p.b.wait("resumed")
            assert res["call"] == first["call"], res
            p.b.send("hangup")
            p.a.wait("ended")
            c.quit()
            p.quit()
    with_pair(body)


# ---- baresip -----------------------------------------------------------

BARESIP = shutil.which("baresip") or "/usr/bin/baresip"
# baresip binds its RTP sockets to the wildcard address, so on loopback its
# packets leave from 127.0.0.1 whatever its SIP address: it runs on
# 127.0.0.1 (free ports picked by the kernel) so that the SDP it sends
# matches where its RTP comes from, as on a real LAN.
BARESIP_ADDR = "127.0.0.1"


def free_port(addr, kind=socket.SOCK_DGRAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind((addr, 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Baresip:
    """Debian's baresip 1.0 in a private config dir: aufile plays a tone as its
    microphone, sndfile records what it decodes, ctrl_tcp takes commands."""

    def __init__(self, tone_path, commands=(), codecs="PCMU,PCMA", srate=8000):
        if not os.access(BARESIP, os.X_OK):
            raise Skip("baresip is not installed")
        self.dir = tempfile.mkdtemp(prefix="sp-headless-baresip-")
        self.sip_port = free_port(BARESIP_ADDR)
        self.ctrl_port = free_port(BARESIP_ADDR, socket.SOCK_STREAM)
        self.uri = "sip:bare@%s:%d" % (BARESIP_ADDR, self.sip_port)
        config = [
            "poll_method epoll",
            "sip_listen %s:%d" % (BARESIP_ADDR, self.sip_port),
            "sip_trans_def udp",
            "audio_source aufile,%s" % tone_path,
            "audio_player aubridge,nowhere",  # a clocked player that plays nothing
            # baresip 1.0 does not resample: its devices run at the codec's
            # rate (@tone_path must be at @srate), and Opus is sent mono.
            "ausrc_srate %d" % srate, "auplay_srate %d" % srate, "ausrc_channels 1",
            "auplay_channels 1", "opus_stereo no", "opus_sprop_stereo no",
            "rtp_ports 30000-39998",
            "module_path /usr/lib/baresip/modules",
            "module g711.so", "module opus.so", "module aufile.so", "module aubridge.so",
            "module sndfile.so",
            "snd_path " + self.dir,
            "module_app account.so", "module_app menu.so", "module_app ctrl_tcp.so",
            "ctrl_tcp_listen %s:%d" % (BARESIP_ADDR, self.ctrl_port),
        ]
        with open(os.path.join(self.dir, "config"), "w") as f:
            f.write("\n".join(config) + "\n")
        with open(os.path.join(self.dir, "accounts"), "w") as f:
            f.write("<sip:bare@%s>;regint=0;answermode=auto;audio_codecs=%s\n"
                    % (BARESIP_ADDR, codecs))
        open(os.path.join(self.dir, "contacts"), "w").close()
        self.log_path = os.path.join(self.dir, "baresip.log")
        self.log = open(self.log_path, "w")
        args = [BARESIP, "-f", self.dir, "-n", BARESIP_ADDR]
        for c in commands:
            args += ["-e", c]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        try:
            self.wait_log("baresip is ready")
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        """Its log goes to stderr when the block failed; stopped and cleaned up."""
        if kind is not None and not issubclass(kind, Skip):
            self.dump()
        self.close()

    def wait_log(self, text, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while True:
            with open(self.log_path, errors="replace") as f:
                if text in f.read():
                    return
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError("baresip: no %r in its log" % text)
            time.sleep(0.05)

    def command(self, name, params=""):
        """One ctrl_tcp command, as a netstring of JSON."""
        body = json.dumps({"command": name, "params": params, "token": "t"}).encode()
        with socket.create_connection((BARESIP_ADDR, self.ctrl_port), timeout=WAIT) as c:
            c.sendall(b"%d:%s," % (len(body), body))

    def recording(self):
        """What baresip decoded from us: sndfile's dump-*-dec.wav."""
        names = [n for n in os.listdir(self.dir) if n.endswith("-dec.wav")]
        assert len(names) == 1, os.listdir(self.dir)
        return os.path.join(self.dir, names[0])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def close(self):
        self.stop()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def dump(self):
        with open(self.log_path, errors="replace") as f:
            sys.stderr.write("---- baresip ----\n" + f.read()[-3000:])


def test_baresip_we_call():
    """We call baresip (it answers on its own), talk 3 s, hang up."""
    with tempfile.TemporaryDirectory(prefix="sp-headless-bs1-") as tmp:
        a_in, b_in, a_out, _ = make_tones(tmp)
        with Baresip(b_in) as bs, running("a", ["--bind", "127.0.55.1:0", "--audio-in", a_in,
                                                "--audio-out", a_out]) as a:
            a.wait("ready")
            a.send("call " + bs.uri)
            est = a.wait("established")
            # Our offer: opus G722 PCMA PCMU; this baresip takes the G.711s.
            assert est["codec"] == "PCMA/8000", est
            time.sleep(3)
            a.send("hangup")
            end = a.wait("ended")
            assert end["reason"] == "User hangup" and 2 <= end["duration"] <= 5, end
            bs.wait_log("terminated")
            a.quit()
            bs.stop()
            check_tones(a_out, bs.recording(), "we call baresip")


def test_baresip_calls_us():
    """baresip dials us, we answer on our own, baresip hangs up after 3 s."""
    with tempfile.TemporaryDirectory(prefix="sp-headless-bs2-") as tmp:
        a_in, b_in, a_out, _ = make_tones(tmp)
        with running("a", ["--bind", "127.0.55.1:0", "--auto-answer", "--audio-in", a_in,
                           "--audio-out", a_out]) as a, \
                Baresip(b_in, ["/dial sip:softphone@" + a.wait("ready")["sip"]]) as bs:
            inc = a.wait("incoming")
            assert inc["from"] == "sip:bare@" + BARESIP_ADDR, inc
            est = a.wait("established")
            assert est["codec"] == "PCMU/8000", est
            time.sleep(3)
            bs.command("hangup")
            end = a.wait("ended")
            assert end["reason"] == "Remote hangup" and 2 <= end["duration"] <= 5, end
            a.quit()
            bs.wait_log("terminated")
            bs.stop()
            check_tones(a_out, bs.recording(), "baresip calls us")


def test_baresip_opus_we_call():
    """We call baresip with only its opus module allowed: Opus, tones both ways."""
    with tempfile.TemporaryDirectory(prefix="sp-headless-bs3-") as tmp:
        a_in, b_in, a_out, _ = make_tones(tmp)
        make_tone(b_in, TONE_B, rate=48000)
        with Baresip(b_in, codecs="opus/48000/1", srate=48000) as bs, \
                running("a", ["--bind", "127.0.55.1:0", "--audio-in", a_in,
                              "--audio-out", a_out]) as a:
            a.wait("ready")
            a.send("call " + bs.uri)
            est = a.wait("established")
            assert est["codec"] == "opus/48000", est
            time.sleep(3)
            a.send("hangup")
            end = a.wait("ended")
            assert end["reason"] == "User hangup", end
            assert end["stats"]["lost"] == 0, end
            bs.wait_log("terminated")
            a.quit()
            bs.stop()
            check_tones(a_out, bs.recording(), "we call baresip, opus", end)


def test_baresip_opus_calls_us():
    """baresip (opus only) dials us; we answer Opus on its payload type."""
    with tempfile.TemporaryDirectory(prefix="sp-headless-bs4-") as tmp:
        a_in, b_in, a_out, _ = make_tones(tmp)
        make_tone(b_in, TONE_B, rate=48000)
        with running("a", ["--bind", "127.0.55.1:0", "--auto-answer", "--audio-in", a_in,
                           "--audio-out", a_out]) as a, \
                Baresip(b_in, ["/dial sip:softphone@" + a.wait("ready")["sip"]],
                        codecs="opus/48000/1", srate=48000) as bs:
            est = a.wait("established")
            assert est["codec"] == "opus/48000", est
            time.sleep(3)
            bs.command("hangup")
            end = a.wait("ended")
            assert end["reason"] == "Remote hangup", end
            assert end["stats"]["lost"] == 0, end
            a.quit()
            bs.wait_log("terminated")
            bs.stop()
            check_tones(a_out, bs.recording(), "baresip calls us, opus", end)


# ---- SIPp --------------------------------------------------------------

SIPP = shutil.which("sipp") or "/usr/bin/sipp"


def run_sipp(args, timeout=15):
    if not os.access(SIPP, os.X_OK):
        raise Skip("sipp is not installed")
    return subprocess.Popen([SIPP] + args + ["-m", "1", "-nostdin", "-timeout", "10",
                                             "-timeout_error"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def finish_sipp(proc):
    try:
        out, _ = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate(timeout=5)
    return proc.returncode, out


def test_sipp_uac():
    """SIPp's built-in UAC calls us (INVITE/ACK/BYE); we answer on our own."""
    with running("b", ["--bind", "127.0.55.2:0", "--auto-answer"]) as b:
        sip = b.wait("ready")["sip"]
        proc = run_sipp(["-sn", "uac", sip, "-i", "127.0.55.4", "-p", "0", "-d", "1000"])
        inc = b.wait("incoming")
        assert inc["from"].startswith("sip:sipp@127.0.55.4"), inc
        b.wait("established")
        end = b.wait("ended")
        assert end["reason"] == "Remote hangup", end
        code, out = finish_sipp(proc)
        assert code == 0, out[-2000:]
        b.quit()


def test_sipp_uas():
    """We call SIPp's built-in UAS and hang up; it must see the whole dialog."""
    with running("a", ["--bind", "127.0.55.1:0"]) as a:
        a.wait("ready")
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.55.4", 0))
        port = sock.getsockname()[1]
        sock.close()
        proc = run_sipp(["-sn", "uas", "-i", "127.0.55.4", "-p", str(port)])
        time.sleep(0.5)
        a.send("call sip:service@127.0.55.4:%d" % port)
        est = a.wait("established")
        assert est["codec"] == "PCMU/8000", est
        a.send("hangup")
        end = a.wait("ended")
        assert end["reason"] == "User hangup", end
        code, out = finish_sipp(proc)
        assert code == 0, out[-2000:]
        a.quit()


# ---- through Kamailio ---------------------------------------------------

KAMAILIO = "/usr/sbin/kamailio"
KAM_ADDR = "127.0.55.50"


def free_udp_tcp_port(addr):
    """A port that is free on @addr for both UDP and TCP, as Kamailio listens on both."""
    for _ in range(20):
        port = free_port(addr)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            try:
                tcp.bind((addr, port))
            except OSError:
                continue
        return port
    raise AssertionError("no port free for UDP and TCP on %s" % addr)


# Loaded before any fork: the child only calls into it (little may run
# between fork and exec in a process with threads).
LIBC = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1  # <sys/prctl.h>


def term_when_parent_dies():
    """In a child before exec: SIGTERM to it when this script ends, even
    killed (a meson timeout kills the test's process group, which a
    process in a session of its own is not in)."""
    LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Kamailio:
    """Kamailio on KAM_ADDR at a port of its own (self.addr): a fixed 5060
    clashed with a Kamailio of another run of these tests, and as Kamailio
    binds UDP with SO_REUSEADDR, the second one got the first one's
    requests until it gave up on the TCP port (after logging that it
    started)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sp-headless-kam-")
        src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kamailio-headless.cfg")
        with open(src) as f:
            self.template = f.read()
        os.mkdir(os.path.join(self.dir, "run"))
        self.log_path = os.path.join(self.dir, "kamailio.log")
        self.log = None
        self.proc = None
        try:
            for _ in range(3):  # the port may be taken between our probe and its bind
                self.addr = "%s:%d" % (KAM_ADDR, free_udp_tcp_port(KAM_ADDR))
                if self._start():
                    return
            raise AssertionError("kamailio found no free port:\n" + self.log_text())
        except BaseException:
            self.close()
            raise

    def log_text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def _start(self):
        """Starts Kamailio at self.addr; True once it answers an OPTIONS and
        still runs, False when it ended because its port was taken."""
        cfg = os.path.join(self.dir, "kamailio.cfg")
        with open(cfg, "w") as f:
            f.write(self.template.replace("@ADDR@", self.addr))
        if self.log:
            self.log.close()
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([KAMAILIO, "-DD", "-E", "-f", cfg, "-P",
                                      os.path.join(self.dir, "kam.pid"), "-Y",
                                      os.path.join(self.dir, "run")],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True, preexec_fn=term_when_parent_dies)
        answered = self._options_answered()
        if self.proc.poll() is None and answered:
            return True
        self._stop()
        if "Address already in use" in self.log_text():
            return False
        raise AssertionError("kamailio did not start:\n" + self.log_text())

    def _options_answered(self):
        """Whether an OPTIONS to self.addr is answered 200 within WAIT."""
        host, port = self.addr.rsplit(":", 1)
        deadline = time.monotonic() + WAIT
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((KAM_ADDR, 0))
            probe.settimeout(0.2)
            local = "%s:%d" % probe.getsockname()
            n = 0
            while time.monotonic() < deadline and self.proc.poll() is None:
                n += 1
                probe.sendto(("OPTIONS sip:%s SIP/2.0\r\n"
                              "Via: SIP/2.0/UDP %s;branch=z9hG4bKprobe%d\r\n"
                              "Max-Forwards: 70\r\nFrom: <sip:probe@%s>;tag=probe\r\n"
                              "To: <sip:%s>\r\nCall-ID: probe-%d-%d@test\r\n"
                              "CSeq: %d OPTIONS\r\nContent-Length: 0\r\n\r\n"
                              % (self.addr, local, n, local, self.addr, os.getpid(), n, n))
                             .encode(), (host, int(port)))
                try:
                    if probe.recvfrom(65536)[0].startswith(b"SIP/2.0 200 "):
                        return True
                except socket.timeout:
                    continue
        return False

    def _stop(self):
        if self.proc is None:
            return
        # Kamailio forks workers that outlive a main process stuck in its
        # shutdown (seen here: SIGTERM left them holding the port). They are
        # all in the session we started, so end that whole group.
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                self.proc.poll()
                try:
                    os.killpg(self.proc.pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
            else:
                continue
            break
        self.proc.wait(timeout=5)

    def close(self):
        self._stop()
        if self.log:
            self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def with_kamailio(body):
    if not os.access(KAMAILIO, os.X_OK):
        raise Skip("kamailio is not installed")
    kam = Kamailio()
    try:
        body(kam)
    except BaseException:
        sys.stderr.write(kam.log_text()[-3000:])
        raise
    finally:
        kam.close()


class Skip(Exception):
    pass


def test_kamailio_register():
    def body(kam):
        with running("a", ["--bind", "127.0.55.1:0", "--account",
                           "sip:u1:pw1@%s" % kam.addr]) as a:
            a.wait("ready")
            reg = a.wait("registered")
            assert reg["account"] == "u1@" + KAM_ADDR and reg["code"] == 200, reg
            # The registrar grants 6 s: a refresh must follow within that.
            a.wait("registered", timeout=8)
            a.send("unregister")
            unreg = a.wait("unregistered")
            assert unreg["code"] == 200, unreg
            a.send("register")
            a.wait("registered")
            a.quit()

        env = dict(os.environ, SOFTPHONE_PASSWORD="wrong")
        with running("b", ["--bind", "127.0.55.2:0", "--account", "sip:u2@%s" % kam.addr],
                     env=env) as b:
            fail = b.wait("registration_failed")
            assert fail["code"] in (401, 403) and str(fail["code"]) in fail["reason"], fail
            b.quit()
    with_kamailio(body)


def test_kamailio_call():
    def body(kam):
        with tempfile.TemporaryDirectory(prefix="sp-headless-kamcall-") as tmp:
            a_in, b_in, a_out, b_out = make_tones(tmp)
            with running("b", ["--bind", "127.0.55.2:0", "--account",
                               "sip:u2:pw2@%s" % kam.addr, "--auto-answer", "--audio-in", b_in,
                               "--audio-out", b_out]) as b:
                b.wait("registered")
                with running("a", ["--bind", "127.0.55.1:0", "--account",
                                   "sip:u1:pw1@%s" % kam.addr, "--call", "u2", "--hangup-after",
                                   "3", "--exit-when-idle", "--audio-in", a_in, "--audio-out",
                                   a_out]) as a:
                    a.wait("registered")
                    est = a.wait("established")
                    assert est["codec"] == "opus/48000", est
                    inc = b.wait("incoming")
                    assert inc["from"] == "sip:u1@" + KAM_ADDR, inc
                    end_a = a.wait("ended")
                    end_b = b.wait("ended")
                    assert end_a["reason"] == "User hangup", (end_a, end_b)
                    assert end_b["reason"] == "Remote hangup", (end_a, end_b)
                    assert a.exit_code() == 0
                    b.quit()
                    check_tones(a_out, b_out, "via Kamailio", est, end_a, end_b)
    with_kamailio(body)


TESTS = {
    "bad-options": test_bad_options,
    "status-quit": test_status_quit,
    "sigterm": test_sigterm,
    "port-in-use": test_port_in_use,
    "direct-call-tones": test_direct_call_tones,
    "callee-hangs-up": test_callee_hangs_up,
    "cancel-before-answer": test_cancel_before_answer,
    "busy-dnd": test_busy_dnd,
    "hold-resume-dtmf": test_hold_resume_dtmf,
    "inband-dtmf": test_inband_dtmf,
    "auto-answer-exit-when-idle": test_auto_answer_exit_when_idle,
    "no-common-codec": test_no_common_codec,
    "info-dtmf-media-timeout": test_info_dtmf_and_media_timeout,
    "late-offer": test_late_offer,
    "timeout-408": test_timeout_408,
    "unavailable-480": test_unavailable_480,
    "tcp-keepalive": test_tcp_keepalive_and_flow_failure,
    "names-resolved": test_names_resolved,
    "reinvite-challenged": test_reinvite_challenged,
    "second-call-holds-first": test_second_call_holds_first,
    "baresip-we-call": test_baresip_we_call,
    "baresip-calls-us": test_baresip_calls_us,
    "baresip-opus-we-call": test_baresip_opus_we_call,
    "baresip-opus-calls-us": test_baresip_opus_calls_us,
    "sipp-uac": test_sipp_uac,
    "sipp-uas": test_sipp_uas,
    "kamailio-register": test_kamailio_register,
    "kamailio-call": test_kamailio_call,
}



def run_tap(tests, names):
    """Runs @names (all of @tests when empty) in order, as TAP on standard
    output; a test that raises is reported with its traceback and the next
    one runs. The exit status: 1 when any failed."""
    names = names or list(tests)
    print("1..%d" % len(names), flush=True)
    failed = 0
    for i, name in enumerate(names, 1):
        try:
            tests[name]()
            print("ok %d %s" % (i, name), flush=True)
        except Skip as e:
            print("ok %d %s # SKIP %s" % (i, name, e), flush=True)
        except Exception:  # report and go on with the next test
            failed += 1
            print("not ok %d %s" % (i, name), flush=True)
            for line in traceback.format_exc().splitlines():
                print("# " + line, flush=True)
    return 1 if failed else 0

def main():
    global SOFTPHONE
    SOFTPHONE = sys.argv[1]
    return run_tap(TESTS, sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
