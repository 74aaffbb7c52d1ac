#!/usr/bin/python3
"""Interop with Debian 12's linphonec 5.1 (liblinphone, mediastreamer2 with
libopus and spandsp's G.722): a headless phone on WAV files and linphonec on
files (`soundcard use files`, `play`, `record`) call each other in both
directions, once with Opus (linphonec's first codec, and ours) and once
with G.722 only (linphonec's G722 enabled, Opus and PCMU disabled). Each
side's recording must carry the other's tone: ours 1000 Hz, linphonec's
700 Hz.

Addresses 127.0.56.31 (ours) and 127.0.56.32 (linphonec), in a network
namespace of the test's own (linphonec waits for a default route: one is
added on lo). Usage: headless-linphonec.py SOFTPHONE [TEST...] (prints TAP).
Every wait is bounded; only the processes started here are stopped, by PID.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import headless as h  # noqa: E402

OURS = "127.0.56.31"
LIN = "127.0.56.32"
OUR_TONE = 1000
LIN_TONE = 700
LINPHONEC = shutil.which("linphonec")


class Linphonec:
    """linphonec on a private HOME and linphonerc, driven on stdin."""

    def __init__(self, tmp, codec):
        home = os.path.join(tmp, "home")
        os.makedirs(os.path.join(home, ".local", "share", "linphone"), exist_ok=True)
        rc = os.path.join(tmp, "linphonerc")
        with open(rc, "w") as f:
            f.write("[sip]\nsip_port=5060\nbind_address=%s\n[rtp]\naudio_rtp_port=41000\n"
                    "[sound]\nplayback_dev_id=\ncapture_dev_id=\n" % LIN)
        self.log_path = os.path.join(tmp, "linphonec.log")
        self.proc = subprocess.Popen([LINPHONEC, "-c", rc], stdin=subprocess.PIPE,
                                     stdout=open(self.log_path, "w"), stderr=subprocess.STDOUT,
                                     env=dict(os.environ, HOME=home), text=True)
        time.sleep(1.5)
        self.send("soundcard use files")
        # `codec list` in 5.1: 0 opus, 1-2 speex, 3 PCMU, 4 PCMA, 6 G722 (off
        # by default), 7 G729, ... 18; for G.722 every other one goes off
        # (its offer would list speex and PCMA before G722).
        if codec == "G722":
            self.send("codec enable 6", pause=0.1)
            for i in range(19):
                if i != 6:
                    self.send("codec disable %d" % i, pause=0.1)
        self.send("codec list")

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


def tone_blocks(path, freq, other):
    """Blocks of 20 ms of @path (any rate, first channel) where @freq
    dominates @other."""
    with wave.open(path) as w:
        rate, ch = w.getframerate(), w.getnchannels()
        data = w.readframes(w.getnframes())
    s = [int.from_bytes(data[2 * i:2 * i + 2], "little", signed=True)
         for i in range(0, len(data) // 2, ch)]
    block, n = rate // 50, 0
    for i in range(0, len(s) - block + 1, block):
        chunk = s[i:i + block]
        if max(abs(x) for x in chunk) < 300:
            continue
        if h.goertzel(chunk, freq, rate) > 5 * h.goertzel(chunk, other, rate):
            n += 1
    return n


def one_call(codec, we_call):
    if LINPHONEC is None:
        print("# skipped: linphonec is not installed (package linphone-cli)", flush=True)
        return
    tmp = tempfile.mkdtemp(prefix="sp-linphonec-")
    ours = lin = None
    try:
        our_in, our_out = os.path.join(tmp, "ours-in.wav"), os.path.join(tmp, "ours-out.wav")
        lin_in, lin_out = os.path.join(tmp, "lin-in.wav"), os.path.join(tmp, "lin-out.wav")
        h.make_tone(our_in, OUR_TONE, rate=16000)
        h.make_tone(lin_in, LIN_TONE, rate=16000)
        args = ["--bind", OURS + ":5060", "--audio-in", our_in, "--audio-out", our_out]
        ours = h.Instance("ours", args + ([] if we_call else ["--auto-answer"]))
        ours.wait("ready")
        lin = Linphonec(tmp, codec)
        lin.send("play " + lin_in)
        lin.send("record " + lin_out)
        if we_call:
            lin.send("autoanswer enable")
            ours.send("call sip:lin@%s:5060" % LIN)
        else:
            lin.send("call sip:ours@%s:5060" % OURS)
        est = ours.wait("established", timeout=15)
        print("# %s, %s: established %s" % (codec, "we call" if we_call else "linphonec calls",
                                                   est), flush=True)
        want = "opus/48000" if codec == "opus" else "G722/8000"
        assert est["codec"] == want, est
        time.sleep(4)
        ours.send("hangup")
        ours.wait("ended", timeout=10)
        time.sleep(1)
        lin.stop()
        ours.send("quit")
        assert ours.exit_code() == 0, ours.log()
        heard_ours = tone_blocks(our_out, LIN_TONE, OUR_TONE)
        heard_lin = tone_blocks(lin_out, OUR_TONE, LIN_TONE)
        print("# we heard linphonec's %d Hz in %d blocks of 20 ms, linphonec heard our %d Hz "
              "in %d" % (LIN_TONE, heard_ours, OUR_TONE, heard_lin), flush=True)
        # 4 s of call: at least 3 s each way.
        assert heard_ours >= 150 and heard_lin >= 150, (heard_ours, heard_lin)
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
        shutil.rmtree(tmp, ignore_errors=True)


TESTS = {
    "opus-we-call": lambda: one_call("opus", True),
    "opus-linphonec-calls": lambda: one_call("opus", False),
    "g722-we-call": lambda: one_call("G722", True),
    "g722-linphonec-calls": lambda: one_call("G722", False),
}


def main():
    h.SOFTPHONE = sys.argv[1]
    # linphonec waits for a default route before it uses the network.
    subprocess.run(["ip", "route", "add", "default", "dev", "lo"], capture_output=True)
    return h.run_tap(TESTS, sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
