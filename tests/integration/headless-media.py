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
import traceback
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import headless as h  # noqa: E402

A_ADDR = "127.0.55.71"
B_ADDR = "127.0.55.72"
TONE_A = 440
TONE_B = 1000


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


TESTS = {
    "stats": test_stats,
}


def main():
    h.SOFTPHONE = sys.argv[1]
    names = sys.argv[2:] or list(TESTS)
    print("1..%d" % len(names), flush=True)
    failed = 0
    for i, name in enumerate(names, 1):
        try:
            TESTS[name]()
            print("ok %d %s" % (i, name), flush=True)
        except Exception:  # report and go on with the next test
            failed += 1
            print("not ok %d %s" % (i, name), flush=True)
            for line in traceback.format_exc().splitlines():
                print("# " + line, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
