#!/usr/bin/python3
"""`softphone --headless --audio-in default --audio-out default`: a headless
phone on real ALSA devices named on the command line, run under
tests/tools/pulse-env.sh (a private PulseAudio server: what is played into
the "mic" sink is what ALSA `default` captures; what the phone plays on
`default` is recorded from spk.monitor).

A (on ALSA) calls B (on WAV files): B hears the 700 Hz tone played into
A's microphone, and A's speaker plays B's 1000 Hz tone. Also: an unknown
ALSA name given to a call fails that device and the call goes on; a device
that goes away mid-call is replaced by the preferred device (--audio-out)
when that is another device and there, else by ALSA `default`, and an
event says so;
an ALSA input switched mid-call.

Addresses 127.0.55.81-.82. Usage: headless-alsa.py SOFTPHONE (prints TAP).
Every wait is bounded; only the processes started here are killed, by PID.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

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
        # On real devices the echo canceller's noise suppressor would take
        # the test's steady tone for noise and fade it; this test is about
        # devices (echo-alsa tests the canceller with bursts, as voice is).
        a = h.Instance("a", ["--bind", A_ADDR + ":0", "--audio-in", "default",
                             "--audio-out", "default", "--no-echo-cancellation"])
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


class HeadsetServer:
    """A second private PulseAudio server, reached through the ALSA device
    `headset` only (a config of its own added to ALSA_CONFIG_PATH): killing
    it (by its PID) takes that device away from under the phone, as a USB
    headset pulled out does, while ALSA `default` (the rig's server) stays."""

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "headset")
        os.makedirs(os.path.join(self.dir, "run"), mode=0o700)
        os.makedirs(os.path.join(self.dir, "home"), mode=0o700)
        self.socket = os.path.join(self.dir, "native")
        env = dict(os.environ, HOME=os.path.join(self.dir, "home"),
                   XDG_RUNTIME_DIR=os.path.join(self.dir, "run"),
                   XDG_CONFIG_HOME=os.path.join(self.dir, "home"))
        env.pop("PULSE_SERVER", None)
        self.proc = subprocess.Popen(
            ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=false",
             "--load=module-native-protocol-unix socket=" + self.socket,
             "--load=module-null-sink sink_name=hs sink_properties=device.description=hs"],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        for _ in range(100):
            if subprocess.run(["pactl", "--server", "unix:" + self.socket, "info"],
                              capture_output=True, timeout=10).returncode == 0:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the headset's PulseAudio server did not start")
        conf = os.path.join(self.dir, "asound.conf")
        with open(conf, "w") as f:
            f.write('pcm.headset {\n  type pulse\n  server "unix:%s"\n  device "hs"\n}\n'
                    % self.socket)
        self.alsa_config = os.environ["ALSA_CONFIG_PATH"] + ":" + conf

    def unplug(self):
        stop(self.proc)


def test_device_gone():
    """Needs SP_PULSE_FAR_END=1 (ALSA device far_mic of its own). A plays
    on `headset` (a second server); that server is killed during the call
    (a USB headset unplugged). A says so in an
    audio_device_failed event, goes on with ALSA `default` (B's tone is
    heard on spk.monitor after), and the call stays up. Then A switches its
    input from `default` to far_mic during the call: B hears the tone played
    into mic, then the one played into mic2, and the call stays up."""
    if os.environ.get("SP_PULSE_FAR_END") != "1":
        print("# skipped: needs SP_PULSE_FAR_END=1", flush=True)
        return
    tmp = tempfile.mkdtemp(prefix="sp-headless-alsa-")
    a = b = recorder = headset = None
    players = []
    try:
        mic_wav, mic2_wav = os.path.join(tmp, "mic.wav"), os.path.join(tmp, "mic2.wav")
        b_in, b_out = os.path.join(tmp, "b-in.wav"), os.path.join(tmp, "b-out.wav")
        spk_raw = os.path.join(tmp, "spk.raw")
        h.make_tone(mic_wav, MIC_TONE, seconds=30)
        h.make_tone(mic2_wav, 1500, seconds=30)
        h.make_tone(b_in, B_TONE)
        b = h.Instance("b", ["--bind", B_ADDR + ":0", "--audio-in", b_in, "--audio-out", b_out])
        b_sip = b.wait("ready")["sip"]
        headset = HeadsetServer(tmp)
        a = h.Instance("a", ["--bind", A_ADDR + ":0", "--audio-in", "default",
                             "--audio-out", "headset", "--no-echo-cancellation"],
                       env=dict(os.environ, ALSA_CONFIG_PATH=headset.alsa_config))
        a.wait("ready")
        players.append(subprocess.Popen(["paplay", "--device=mic", mic_wav]))
        players.append(subprocess.Popen(["paplay", "--device=mic2", mic2_wav]))
        with open(spk_raw, "wb") as out:
            recorder = subprocess.Popen(["parec", "--device=spk.monitor", "--rate=%d" % RATE,
                                         "--channels=1", "--format=s16le"], stdout=out)
        time.sleep(0.5)
        a.send("call " + b_sip)
        b.wait("incoming")
        b.send("answer")
        a.wait("established")
        b.wait("established")
        time.sleep(1)
        headset.unplug()
        ev = a.wait("audio_device_failed", timeout=5)
        print("# %s" % ev, flush=True)
        assert ev["direction"] == "out" and ev["device"] == "headset", ev
        assert ev["now"] == "default", ev
        time.sleep(2)
        a.send("audio-in far_mic")
        time.sleep(2)
        a.send("status")
        st = a.wait("status")
        assert st["calls"] and st["calls"][0]["state"] == "established", st
        a.send("hangup")
        end = a.wait("ended")
        b.wait("ended")
        assert end["duration"] >= 4, end
        for inst in (a, b):
            inst.send("quit")
            assert inst.exit_code() == 0, inst.log()
        stop(recorder)
        with open(spk_raw, "rb") as f:
            data = f.read()
        spk = [int.from_bytes(data[2 * i:2 * i + 2], "little", signed=True)
               for i in range(len(data) // 2)]
        a_blocks = tone_blocks(spk, RATE, B_TONE, [MIC_TONE, 1500])
        heard, rate = read_wav(b_out)
        half = len(heard) // 2
        first = tone_blocks(heard[:half], rate, MIC_TONE, [1500, B_TONE])
        second = tone_blocks(heard[half:], rate, 1500, [MIC_TONE, B_TONE])
        print("# after the fallback the default speaker played B's tone in %d blocks; B heard "
              "mic's %d Hz in %d blocks of the first half, mic2's 1500 Hz in %d of the second"
              % (a_blocks, MIC_TONE, first, second), flush=True)
        assert a_blocks >= 100, a_blocks
        assert first >= 75 and second >= 50, (first, second)
    except BaseException:
        for inst in (a, b):
            if inst is not None:
                sys.stderr.write("---- %s ----\n%s\n" % (inst.name, inst.log()))
        raise
    finally:
        stop(recorder)
        for pl in players:
            stop(pl)
        if headset is not None:
            headset.unplug()
        for inst in (a, b):
            if inst is not None:
                inst.close()
        shutil.rmtree(tmp, ignore_errors=True)


def test_device_gone_preferred():
    """Needs SP_PULSE_FAR_END=1. A prefers far_spk (--audio-out, as a
    speaker chosen in Preferences) but moves its call alone to `headset`
    (call-audio-out); when `headset` goes away the call goes on with the
    preferred far_spk, not ALSA `default`, and the event says so: B's tone
    is heard on spk2.monitor after the fallback, none of it on spk (the
    default)."""
    if os.environ.get("SP_PULSE_FAR_END") != "1":
        print("# skipped: needs SP_PULSE_FAR_END=1", flush=True)
        return
    tmp = tempfile.mkdtemp(prefix="sp-headless-alsa-")
    a = b = headset = None
    recorders = []
    try:
        b_in, b_out = os.path.join(tmp, "b-in.wav"), os.path.join(tmp, "b-out.wav")
        spk2_raw, spk_raw = os.path.join(tmp, "spk2.raw"), os.path.join(tmp, "spk.raw")
        h.make_tone(b_in, B_TONE)
        b = h.Instance("b", ["--bind", B_ADDR + ":0", "--audio-in", b_in, "--audio-out", b_out])
        b_sip = b.wait("ready")["sip"]
        headset = HeadsetServer(tmp)
        a = h.Instance("a", ["--bind", A_ADDR + ":0", "--audio-in", "null",
                             "--audio-out", "far_spk", "--no-echo-cancellation"],
                       env=dict(os.environ, ALSA_CONFIG_PATH=headset.alsa_config))
        a.wait("ready")
        a.send("call " + b_sip)
        b.wait("incoming")
        b.send("answer")
        a.wait("established")
        b.wait("established")
        a.send("call-audio-out headset")
        time.sleep(1.5)
        headset.unplug()
        ev = a.wait("audio_device_failed", timeout=5)
        print("# %s" % ev, flush=True)
        assert ev["direction"] == "out" and ev["device"] == "headset", ev
        assert ev["now"] == "far_spk", ev
        for sink, path in (("spk2", spk2_raw), ("spk", spk_raw)):
            with open(path, "wb") as out:
                recorders.append(subprocess.Popen(
                    ["parec", "--device=%s.monitor" % sink, "--rate=%d" % RATE, "--channels=1",
                     "--format=s16le"], stdout=out))
        time.sleep(2.5)
        a.send("status")
        st = a.wait("status")
        assert st["calls"] and st["calls"][0]["state"] == "established", st
        a.send("hangup")
        a.wait("ended")
        b.wait("ended")
        for inst in (a, b):
            inst.send("quit")
            assert inst.exit_code() == 0, inst.log()
        for rec in recorders:
            stop(rec)
        blocks = {}
        for sink, path in (("spk2", spk2_raw), ("spk", spk_raw)):
            with open(path, "rb") as f:
                data = f.read()
            pcm = [int.from_bytes(data[2 * i:2 * i + 2], "little", signed=True)
                   for i in range(len(data) // 2)]
            blocks[sink] = tone_blocks(pcm, RATE, B_TONE, [MIC_TONE, 1500])
        print("# after the fallback B's %d Hz played on the preferred far_spk in %d blocks of "
              "20 ms, on default in %d" % (B_TONE, blocks["spk2"], blocks["spk"]), flush=True)
        assert blocks["spk2"] >= 75, blocks
        assert blocks["spk"] == 0, blocks
    except BaseException:
        for inst in (a, b):
            if inst is not None:
                sys.stderr.write("---- %s ----\n%s\n" % (inst.name, inst.log()))
        raise
    finally:
        for rec in recorders:
            stop(rec)
        if headset is not None:
            headset.unplug()
        for inst in (a, b):
            if inst is not None:
                inst.close()
        shutil.rmtree(tmp, ignore_errors=True)


TESTS = {
    "alsa-default": test_alsa_default,
    "unknown-device": test_unknown_device,
    "device-gone": test_device_gone,
    "device-gone-preferred": test_device_gone_preferred,
}


def main():
    h.SOFTPHONE = sys.argv[1]
    return h.run_tap(TESTS, sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
