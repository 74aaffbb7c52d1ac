#!/usr/bin/python3
"""Integration tests of `softphone --headless` where the phone meets the media
engine: call progress tones in the caller's own recording, media statistics
in the events, switching the audio input during a call.

Addresses 127.0.55.71-.79 (headless.py keeps the rest of 127.0.55.0/24).
Helpers (Instance, tones, Goertzel) come from headless.py.

Usage: headless-media.py SOFTPHONE [TEST...]   (prints TAP)
Every wait is bounded; only the processes started here are killed, by PID.
"""
import os
import shutil
import sys
import tempfile
import time
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import headless as h  # noqa: E402

A_ADDR = "127.0.55.71"
B_ADDR = "127.0.55.72"
TONE_A = 700  # far from the 425 Hz progress tones
TONE_B = 1000
TONE_WIDE = 5000  # only a wideband codec carries it


class Pair:
    """A (caller) and B (callee), each with its own tone and recording."""

    def __init__(self, a_args=(), b_args=()):
        self.tmp = tempfile.mkdtemp(prefix="sp-headless-media-")
        self.a_in = self.path("a-in.wav")
        self.b_in = self.path("b-in.wav")
        self.a_out = self.path("a-out.wav")
        self.b_out = self.path("b-out.wav")
        h.make_tone(self.a_in, TONE_A)
        h.make_tone(self.b_in, TONE_B)
        self.a = self.b = None
        self.b = h.Instance("b", ["--bind", B_ADDR + ":0", "--audio-in", self.b_in,
                                  "--audio-out", self.b_out] + list(b_args))
        self.b_sip = self.b.wait("ready")["sip"]
        self.a = h.Instance("a", ["--bind", A_ADDR + ":0", "--audio-in", self.a_in,
                                  "--audio-out", self.a_out] + list(a_args))
        self.a_sip = self.a.wait("ready")["sip"]

    def path(self, name):
        return os.path.join(self.tmp, name)

    def quit(self):
        for inst in (self.a, self.b):
            if inst.proc.poll() is None:
                inst.send("quit")
        for inst in (self.a, self.b):
            code = inst.exit_code()
            assert code == 0, "%s exited with %d:\n%s" % (inst.name, code, inst.log())

    def close(self):
        for inst in (self.a, self.b):
            if inst is not None:
                inst.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def dump(self):
        for inst in (self.a, self.b):
            if inst is not None:
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


def block_tones(path, freqs, block_ms=20, floor=300):
    """Per block of the recording: the frequency of @freqs that dominates
    (its Goertzel power over 5x every other's), None for a block whose peak
    is under @floor (silence) or a mix."""
    with wave.open(path) as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2, path
        rate = w.getframerate()
        data = w.readframes(w.getnframes())
    n = len(data) // 2
    samples = [int.from_bytes(data[2 * i:2 * i + 2], "little", signed=True) for i in range(n)]
    block = rate * block_ms // 1000
    out = []
    for start in range(0, n - block + 1, block):
        chunk = samples[start:start + block]
        if max(abs(x) for x in chunk) < floor:
            out.append(None)
            continue
        powers = [h.goertzel(chunk, f, rate) for f in freqs]
        best = max(range(len(freqs)), key=lambda i: powers[i])
        rest = max([p for i, p in enumerate(powers) if i != best] or [0.0])
        out.append(freqs[best] if powers[best] > 5 * rest else None)
    return out, rate


def check_stats(st, label):
    for key in ("packets_sent", "packets_received", "lost", "jitter_ms", "rtt_ms",
                "remote_jitter_ms", "remote_loss_percent"):
        assert key in st, "%s: no %s in %s" % (label, key, st)
    assert st["packets_sent"] > 100 and st["packets_received"] > 100, (label, st)
    assert st["lost"] == 0, (label, st)
    assert 0 <= st["jitter_ms"] < 40, (label, st)


def test_stats():
    """A 5 s call: a "stats" event during it, stats in "status" and "ended";
    RTCP (first report at 2.5 s) has measured a round trip by then."""
    def body(p):
        p.a.send("call " + p.b_sip)
        p.b.wait("incoming")
        p.b.send("answer")
        p.a.wait("established")
        p.b.wait("established")
        time.sleep(1.5)
        p.a.send("status")
        status = p.a.wait("status")
        assert status["calls"][0]["stats"]["packets_sent"] > 0, status
        p.a.send("stats")
        ev = p.a.wait("stats")
        assert ev["call"] == status["calls"][0]["call"] and ev["packets_received"] > 0, ev
        # The periodic one, 5 s after the first media report.
        periodic = p.b.wait("stats", timeout=8)
        check_stats(periodic, "b periodic")
        p.a.send("hangup")
        end_a = p.a.wait("ended")
        end_b = p.b.wait("ended")
        check_stats(end_a["stats"], "a ended")
        check_stats(end_b["stats"], "b ended")
        rtts = [e["stats"]["rtt_ms"] for e in (end_a, end_b) if e["stats"]["rtt_ms"] is not None]
        print("# ended stats: a %s b %s" % (end_a["stats"], end_b["stats"]), flush=True)
        assert rtts and all(0 <= r < 100 for r in rtts), (end_a, end_b)
        p.quit()
    with_pair(body)


def test_switch_audio_in():
    """B switches its input from one WAV file (1000 Hz) to another (1500 Hz)
    during the call: A hears the first, then the second."""
    def body(p):
        c_in = p.path("c-in.wav")
        h.make_tone(c_in, 1500)
        p.a.send("call " + p.b_sip)
        p.b.wait("incoming")
        p.b.send("answer")
        p.a.wait("established")
        p.b.wait("established")
        time.sleep(1.5)
        p.b.send("audio-in /nonexistent/x.wav")
        assert "no such file" in p.b.wait("error")["message"]
        p.b.send("audio-in " + c_in)
        time.sleep(1.5)
        p.a.send("hangup")
        p.a.wait("ended")
        p.b.wait("ended")
        p.quit()
        # PROGRESS too: A's ringback (425 Hz) lasts a few blocks under load,
        # and among 700/1000/1500 alone a 20 ms block of it measures as 700
        # Hz, A's own tone. Only blocks at the tones' level (about 16000)
        # count: when B's media thread stalls on the new file under load,
        # A's decoder conceals the gap for a few blocks, fading from what
        # it last heard (some 1000 Hz memory) into noise, which the order
        # check would otherwise read as 1000 Hz after 1500 Hz.
        tones, _ = block_tones(p.a_out, [PROGRESS, TONE_A, TONE_B, 1500], floor=8000)
        heard = [t for t in tones if t is not None]
        print("# A heard %d blocks: %d of 1000 Hz, then %d of 1500 Hz (last 1000 Hz at %d, "
              "first 1500 at %d)" % (len(tones), heard.count(TONE_B), heard.count(1500),
                                    max(i for i, t in enumerate(tones) if t == TONE_B),
                                    tones.index(1500) if 1500 in tones else -1), flush=True)
        assert heard.count(TONE_B) >= 50 and heard.count(1500) >= 50, heard
        assert heard.count(TONE_A) <= 2, "A heard its own tone"
        # In order: every 1000 Hz block comes before every 1500 Hz one.
        assert max(i for i, t in enumerate(tones) if t == TONE_B) < tones.index(1500), tones
    with_pair(body)


def make_tone_16k(path, freq, seconds=20):
    """A 16 kHz WAV tone: @freq may be above the 4 kHz a narrowband call carries."""
    h.subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", path, "synth",
                      str(seconds), "sine", str(freq), "vol", "0.5"], check=True, timeout=h.WAIT)


def test_opus_call():
    """Two of our phones talk Opus with no setting: 16 kHz audio both ways
    (B's 5 kHz tone, which G.711 cannot carry, reaches A; A's 700 Hz
    reaches B), and both send 10 ms packets (about 100 a second): from the
    start (a loopback peer is taken for a LAN), and still once RTCP has
    measured the round trip."""
    def body(p):
        wide = p.path("b-wide.wav")
        make_tone_16k(wide, TONE_WIDE)
        p.b.send("audio-in " + wide)
        p.a.send("call " + p.b_sip)
        p.b.wait("incoming")
        p.b.send("answer")
        est_a = p.a.wait("established")
        est_b = p.b.wait("established")
        assert est_a["codec"] == est_b["codec"] == "opus/48000", (est_a, est_b)
        def stats(inst):
            inst.send("status")
            return inst.wait("status")["calls"][0]["stats"]
        # The first snapshot (1 s in) comes before the first RTCP report
        # (1.25 s at the earliest): no round trip is known yet.
        first = {}
        deadline = time.monotonic() + 5
        while len(first) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
            for inst in (p.a, p.b):
                st = stats(inst)
                if inst.name not in first and st["packets_sent"] > 0:
                    first[inst.name] = st
        assert all(st["rtt_ms"] is None and st["ptime_ms"] == 10 for st in first.values()) \
            and len(first) == 2, first
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = {inst.name: stats(inst) for inst in (p.a, p.b)}
            if all(st["rtt_ms"] is not None for st in now.values()):
                break
        assert all(st["rtt_ms"] is not None for st in now.values()), now
        ptimes = {name: st["ptime_ms"] for name, st in now.items()}
        assert ptimes == {"a": 10, "b": 10}, now
        p.a.send("status")
        before = p.a.wait("status")["calls"][0]["stats"]["packets_received"]
        t0 = time.monotonic()
        time.sleep(2)
        p.a.send("status")
        after = p.a.wait("status")["calls"][0]["stats"]["packets_received"]
        rate = (after - before) / (time.monotonic() - t0)
        print("# ptime %s, A receives %.0f packets/s" % (ptimes, rate), flush=True)
        assert 80 <= rate <= 120, rate
        p.a.send("hangup")
        end_a = p.a.wait("ended")
        end_b = p.b.wait("ended")
        for label, end in (("a", end_a), ("b", end_b)):
            assert end["stats"]["lost"] == 0, (label, end)
        p.quit()
        a_tones, a_rate = block_tones(p.a_out, [PROGRESS, TONE_A, TONE_WIDE])
        b_tones, b_rate = block_tones(p.b_out, [PROGRESS, TONE_A, TONE_WIDE])
        print("# A recorded %d blocks at %d Hz: %d of %d Hz; B %d at %d Hz: %d of %d Hz" % (
            len(a_tones), a_rate, a_tones.count(TONE_WIDE), TONE_WIDE, len(b_tones), b_rate,
            b_tones.count(TONE_A), TONE_A), flush=True)
        assert a_rate == b_rate == 16000, (a_rate, b_rate)
        assert a_tones.count(TONE_WIDE) >= 200 and TONE_A not in a_tones, a_tones
        assert b_tones.count(TONE_A) >= 200 and TONE_WIDE not in b_tones, b_tones
    with_pair(body)


def test_fixed_ptime():
    """--ptime on the caller fixes the packet time of both directions
    (a=ptime and a=maxptime in its offer; the callee, automatic, follows
    since the offer's maxptime equals its ptime): Opus at 20 ms (which a
    LAN would otherwise make 10 ms), 40 ms and 10 ms. Packets per second
    are counted on the receiving side of each direction over 2 s."""
    for ptime, per_s in (("20", 50), ("40", 25), ("10", 100)):
        def body(p):
            p.a.send("call " + p.b_sip)
            p.b.wait("incoming")
            p.b.send("answer")
            est_a = p.a.wait("established")
            p.b.wait("established")
            assert est_a["codec"] == "opus/48000", est_a
            time.sleep(1.5)

            def stats(inst):
                inst.send("status")
                return inst.wait("status")["calls"][0]["stats"]
            before = {inst.name: stats(inst) for inst in (p.a, p.b)}
            t0 = time.monotonic()
            time.sleep(2)
            after = {inst.name: stats(inst) for inst in (p.a, p.b)}
            dt = time.monotonic() - t0
            rates = {name: (after[name]["packets_received"] - before[name]["packets_received"])
                     / dt for name in after}
            ptimes = {name: st["ptime_ms"] for name, st in after.items()}
            print("# --ptime %s: ptime sent %s, packets/s received %s" % (
                ptime, ptimes, {k: round(v) for k, v in rates.items()}), flush=True)
            assert ptimes == {"a": int(ptime), "b": int(ptime)}, ptimes
            for name, rate in rates.items():
                assert 0.8 * per_s <= rate <= 1.2 * per_s, (name, rate, per_s)
            p.a.send("hangup")
            p.a.wait("ended")
            p.b.wait("ended")
            p.quit()
        with_pair(body, a_args=["--ptime", ptime])


PROGRESS = 425  # ETSI ringback/busy/congestion (media/tones.h)


def runs(tones, freq):
    """Lengths (blocks) of the runs of @freq, in order."""
    out, n = [], 0
    for t in tones + [None]:
        if t == freq:
            n += 1
        elif n:
            out.append(n)
            n = 0
    return out


def test_ringback_then_answer():
    """B rings for 2 s, then answers: A's own recording has the ringback
    (425 Hz, 1 s on) while it rings, then B's tone, in that order."""
    def body(p):
        p.a.send("call " + p.b_sip)
        p.a.wait("ringing")
        p.a.wait("established", timeout=6)
        time.sleep(1.5)
        p.a.send("hangup")
        p.a.wait("ended")
        p.quit()
        tones, rate = block_tones(p.a_out, [PROGRESS, TONE_A, TONE_B])
        ring = runs(tones, PROGRESS)
        print("# A recorded %d blocks at %d Hz: ringback runs %s, %d of %d Hz, first at %d" % (
            len(tones), rate, ring, tones.count(TONE_B), TONE_B,
            tones.index(TONE_B) if TONE_B in tones else -1), flush=True)
        # 1 s on (50 blocks of 20 ms), give or take the edges.
        assert ring and 40 <= ring[0] <= 52, ring
        assert tones.count(TONE_B) >= 50 and TONE_A not in tones, tones
        last_ring = max(i for i, t in enumerate(tones) if t == PROGRESS)
        assert last_ring < tones.index(TONE_B), "ringback after the answer"
    with_pair(body, b_args=["--auto-answer=2"])


def test_busy_tone():
    """B is on do-not-disturb (486): A's recording has the busy tone,
    425 Hz 0.5 s on / 0.5 s off, for a few seconds."""
    def body(p):
        p.b.send("dnd on")
        p.a.send("call " + p.b_sip)
        end = p.a.wait("ended")
        assert end["code"] == 486, end
        time.sleep(3.5)
        p.quit()
        tones, _ = block_tones(p.a_out, [PROGRESS, TONE_A, TONE_B])
        busy = runs(tones, PROGRESS)
        print("# A recorded %d blocks: busy runs %s" % (len(tones), busy), flush=True)
        assert len(busy) >= 2 and all(20 <= n <= 26 for n in busy[:2]), busy
        assert TONE_A not in tones and TONE_B not in tones, tones
    with_pair(body)


def test_switch_while_ringing():
    """Both ends switch their input and output while the call still rings
    (A hears its ringback on the old output); then B answers. The call is
    established on both sides and each new recording holds the other's new
    tone: no assertion on a device the ringback was writing to."""
    def body(p):
        a_in2, a_out2 = p.path("a-in2.wav"), p.path("a-out2.wav")
        b_in2, b_out2 = p.path("b-in2.wav"), p.path("b-out2.wav")
        h.make_tone(a_in2, 1500)
        h.make_tone(b_in2, 1200)
        p.a.send("call " + p.b_sip)
        p.b.wait("incoming")
        p.a.wait("ringing")
        time.sleep(0.5)  # the ringback is playing on A's output
        for inst, new_in, new_out in ((p.a, a_in2, a_out2), (p.b, b_in2, b_out2)):
            inst.send("audio-out " + new_out)
            inst.send("audio-in " + new_in)
        time.sleep(0.5)
        p.b.send("answer")
        p.a.wait("established", timeout=5)
        p.b.wait("established", timeout=5)
        time.sleep(2)
        p.a.send("hangup")
        p.a.wait("ended")
        p.b.wait("ended")
        p.quit()
        for inst in (p.a, p.b):
            assert "CRITICAL" not in inst.log() and "assertion" not in inst.log(), inst.log()
        a_tones, _ = block_tones(a_out2, [TONE_A, TONE_B, 1500, 1200, PROGRESS])
        b_tones, _ = block_tones(b_out2, [TONE_A, TONE_B, 1500, 1200, PROGRESS])
        print("# A's new recording: %d blocks of 1200 Hz; B's: %d blocks of 1500 Hz" % (
            a_tones.count(1200), b_tones.count(1500)), flush=True)
        assert a_tones.count(1200) >= 50 and TONE_B not in a_tones, a_tones
        assert b_tones.count(1500) >= 50 and TONE_A not in b_tones, b_tones
    with_pair(body)


TESTS = {
    "ringback-then-answer": test_ringback_then_answer,
    "busy-tone": test_busy_tone,
    "switch-while-ringing": test_switch_while_ringing,
    "switch-audio-in": test_switch_audio_in,
    "stats": test_stats,
    "opus-call": test_opus_call,
    "fixed-ptime": test_fixed_ptime,
}


def main():
    h.SOFTPHONE = sys.argv[1]
    return h.run_tap(TESTS, sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
