#!/usr/bin/python3
"""`softphone --headless --audio-in default --audio-out default`: a headless
phone on real ALSA devices named on the command line, run under
tests/tools/pulse-env.sh (a private PulseAudio server: what is played into
the "mic" sink is what ALSA `default` captures; what the phone plays on
`default` is recorded from spk.monitor).

A (on ALSA) calls B (on WAV files): B hears the 700 Hz tone played into
A's microphone, and A's speaker plays B's 1000 Hz tone. Also: an unknown
ALSA name given to a call fails that device and the call goes on.

Addresses 127.0.55.81-.82. Usage: headless-alsa.py SOFTPHONE (prints TAP).
Every wait is bounded; only the processes started here are killed, by PID.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import headless as h  # noqa: E402

A_ADDR = "127.0.55.81"
B_ADDR = "127.0.55.82"
MIC_TONE = 700
B_TONE = 1000
RATE = 16000


def tone_blocks(samples, rate, freq, others, block_ms=20):
    """How many blocks of @samples hold @freq, dominant over @others."""
    block = rate * block_ms // 1000
    n = 0
    for start in range(0, len(samples) - block + 1, block):
        chunk = samples[start:start + block]
        if max(abs(x) for x in chunk) < 300:
            continue
        p = h.goertzel(chunk, freq, rate)
        if all(p > 5 * h.goertzel(chunk, f, rate) for f in others):
            n += 1
    return n


def read_wav(path):
    import wave
    with wave.open(path) as w:
        rate = w.getframerate()
        data = w.readframes(w.getnframes())
    return [int.from_bytes(data[2 * i:2 * i + 2], "little", signed=True)
            for i in range(len(data) // 2)], rate


def stop(proc):
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_alsa_default():
    tmp = tempfile.mkdtemp(prefix="sp-headless-alsa-")
    a = b = player = recorder = None
    try:
        mic_wav = os.path.join(tmp, "mic.wav")
        b_in, b_out = os.path.join(tmp, "b-in.wav"), os.path.join(tmp, "b-out.wav")
        spk_raw = os.path.join(tmp, "spk.raw")
        h.make_tone(mic_wav, MIC_TONE, seconds=30)
        h.make_tone(b_in, B_TONE)
        b = h.Instance("b", ["--bind", B_ADDR + ":0", "--audio-in", b_in, "--audio-out", b_out])
        b_sip = b.wait("ready")["sip"]
        a = h.Instance("a", ["--bind", A_ADDR + ":0", "--audio-in", "default",
                             "--audio-out", "default"])
        a.wait("ready")
        player = subprocess.Popen(["paplay", "--device=mic", mic_wav])
        with open(spk_raw, "wb") as out:
            recorder = subprocess.Popen(["parec", "--device=spk.monitor", "--rate=%d" % RATE,
                                         "--channels=1", "--format=s16le"], stdout=out)
        time.sleep(0.5)
        a.send("call " + b_sip)
        b.wait("incoming")
        b.send("answer")
        a.wait("established")
        b.wait("established")
        time.sleep(3)
        a.send("hangup")
        a.wait("ended")
        b.wait("ended")
        for inst in (a, b):
            inst.send("quit")
            assert inst.exit_code() == 0, inst.log()
        stop(recorder)
        stop(player)
        log = a.log()
        assert "failed" not in log, log
        heard, rate = read_wav(b_out)
        b_blocks = tone_blocks(heard, rate, MIC_TONE, [B_TONE])
        with open(spk_raw, "rb") as f:
            data = f.read()
        spk = [int.from_bytes(data[2 * i:2 * i + 2], "little", signed=True)
               for i in range(len(data) // 2)]
        a_blocks = tone_blocks(spk, RATE, B_TONE, [MIC_TONE])
        print("# B heard A's microphone (%d Hz) in %d blocks of 20 ms; A's speaker played "
              "B's %d Hz in %d" % (MIC_TONE, b_blocks, B_TONE, a_blocks), flush=True)
        # 3 s of call: at least 2 s of each.
        assert b_blocks >= 100, b_blocks
        assert a_blocks >= 100, a_blocks
    except BaseException:
        for inst in (a, b):
            if inst is not None:
                sys.stderr.write("---- %s ----\n%s\n" % (inst.name, inst.log()))
        raise
    finally:
        stop(recorder)
        stop(player)
        for inst in (a, b):
            if inst is not None:
                inst.close()
        shutil.rmtree(tmp, ignore_errors=True)


def test_unknown_device():
    """--audio-in with an ALSA name nobody knows: the phone starts, the call
    is established on B's side with A silent, and A says which device
    failed."""
    tmp = tempfile.mkdtemp(prefix="sp-headless-alsa-")
    a = b = None
    try:
        b = h.Instance("b", ["--bind", B_ADDR + ":0"])
        b_sip = b.wait("ready")["sip"]
        a = h.Instance("a", ["--bind", A_ADDR + ":0", "--audio-in", "no_such_pcm",
                             "--audio-out", "null"])
        a.wait("ready")
        a.send("call " + b_sip)
        b.wait("incoming")
        b.send("answer")
        a.wait("established")
        b.wait("established")
        time.sleep(1)
        a.send("hangup")
        a.wait("ended")
        for inst in (a, b):
            inst.send("quit")
            assert inst.exit_code() == 0, inst.log()
        assert "no_such_pcm" in a.log(), a.log()
    finally:
        for inst in (a, b):
            if inst is not None:
                inst.close()
        shutil.rmtree(tmp, ignore_errors=True)


TESTS = {
    "alsa-default": test_alsa_default,
    "unknown-device": test_unknown_device,
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
        except Exception:
            failed += 1
            print("not ok %d %s" % (i, name), flush=True)
            for line in traceback.format_exc().splitlines():
                print("# " + line, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
