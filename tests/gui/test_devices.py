#!/usr/bin/python3
"""The Preferences' device lists follow devices that come and go while the
window is open: a new ALSA device (a pcm with a hint added to the
configuration, as a USB headset adds a card) shows in the Microphone list
once the sound device directory changes ($SP_SND_DIR stands in for
/dev/snd), and leaves it when it goes. The microphone test records the
rig's microphone and plays it back on its speaker (440 Hz checked). Then a
call's speaker goes away mid-call: the call goes on and a toast says so.

usage: test_devices.py OUTDIR CONFIG_HOME SOFTPHONE"""

import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import wave

import pyatspi

import guitest
from guitest import app_node, check, click, find, on_screen, screenshot, wait_for, walk
from headless import Headless

OUTDIR = sys.argv[1]
guitest.OUTDIR = OUTDIR
APP_ID = "net.example.softphone"
SND_DIR = os.environ["SP_SND_DIR"]
HEADSET = "Test USB Headset"


def microphone(prefs):
    """The Microphone row's accessible name: its title and the label of
    the chosen device (its description when ALSA lists it, else its name)."""
    combo = find(prefs, "combo box", prefix="Microphone")
    if combo is None:
        return ""
    return " ".join([combo.name] + [n.name for n in walk(combo)
                                    if n.getRoleName() == "label" and n.name])


def goertzel_power(samples, rate, freq):
    """Mean-square power of the freq component (a sine of amplitude A: A*A/2)."""
    n = len(samples)
    if n == 0:
        return 0.0
    k = 2.0 * math.cos(2.0 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + k * s1 - s2, s1
    return 2.0 * (s1 * s1 + s2 * s2 - k * s1 * s2) / (n * n)


def mic_test(prefs):
    """Microphone Test, driven like a person: Test; while it records, a
    440 Hz voice goes into the rig's microphone; then what the speaker plays
    back is that voice (by frequency: 440 Hz, not 1000 Hz), and the row says
    so at each step."""
    button = find(prefs, "push button", prefix="Test the microphone")
    if not check(button is not None, "the Microphone Test button"):
        return
    tmp = tempfile.mkdtemp(prefix="sp-gui-mictest.")
    voice = os.path.join(tmp, "voice.wav")
    with wave.open(voice, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"".join(struct.pack("<h", int(12000 * math.sin(2 * math.pi * 440 * i / 16000)))
                               for i in range(16000 * 5)))
    player = subprocess.Popen(["paplay", "--device=mic", voice])
    try:
        click(button)
        check(wait_for(lambda: find(prefs, "label", contains="Recording"), "recording") is not None,
              "the row says it records")
        check(wait_for(lambda: find(prefs, "push button", prefix="Stop the microphone test"),
                       "the Stop button") is not None, "Test turns into Stop while it runs")
        check(wait_for(lambda: find(prefs, "label", contains="Playing back"), "playing back", 10)
              is not None, "after the recording, the row says it plays back")
        player.terminate()
        player.wait(timeout=10)
        raw = os.path.join(tmp, "spk.raw")
        with open(raw, "wb") as out:
            rec = subprocess.Popen(["parec", "-d", "spk.monitor", "--raw", "--rate=8000",
                                    "--channels=1", "--format=s16le"], stdout=out)
            time.sleep(2)
            rec.terminate()
            rec.wait(timeout=10)
        data = open(raw, "rb").read()
        heard = struct.unpack("<%dh" % (len(data) // 2), data[:len(data) // 2 * 2])
        p440, p1000 = goertzel_power(heard, 8000, 440), goertzel_power(heard, 8000, 1000)
        check(p440 > 1e5 and p440 > 10 * p1000,
              "the speaker plays back the recorded 440 Hz voice (%.3g vs 1 kHz %.3g)"
              % (p440, p1000))
        check(wait_for(lambda: find(prefs, "label", contains="Done"), "done", 10) is not None,
              "the row says it is done")
        check(find(prefs, "push button", prefix="Test the microphone") is not None,
              "Stop turns back into Test")
        screenshot("devices-mic-test")
    finally:
        if player.poll() is None:
            player.terminate()
            player.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


def prefs_window(app):
    for t in app:
        if t is not None and t.name.startswith("Preferences") and on_screen(t):
            return t
    return None


os.makedirs(SND_DIR, exist_ok=True)
conf_path = os.environ.get("ALSA_CONFIG_PATH", "").split(":")[-1]
if not conf_path or not os.path.exists(conf_path):
    print("SKIP  no private ALSA configuration (needs the PulseAudio rig)", flush=True)
    sys.exit(0)
with open(conf_path) as f:
    original = f.read()

app = wait_for(app_node, "the softphone application on the accessibility bus", 30)
if app is None:
    sys.exit(1)
wait_for(lambda: guitest.frame(app, "Softphone"), "the main window")
subprocess.run(["gdbus", "call", "--session", "--dest", APP_ID, "--object-path",
                "/" + APP_ID.replace(".", "/"), "--method",
                "org.freedesktop.Application.ActivateAction", "preferences", "[]", "{}"],
               check=False, timeout=10)
prefs = wait_for(lambda: prefs_window(app), "the Preferences window")
if not check(prefs is not None, "Preferences opens"):
    sys.exit(1)
time.sleep(0.5)
check(HEADSET not in microphone(prefs), "no headset at first (%s)" % microphone(prefs))
# The headset is the chosen microphone (the app's keyfile backend sees the
# change within a moment; the row reads it when it refills).
subprocess.run(["gsettings", "set", APP_ID, "audio-input", "test_headset"], check=True,
               timeout=10)
time.sleep(1)

# Plugged in: ALSA learns the device, the device directory gains a node;
# the row now knows it by its description.
with open(conf_path, "a") as f:
    f.write('pcm.test_headset {\n  type pulse\n  hint {\n    show on\n'
            '    description "%s"\n  }\n}\n' % HEADSET)
with open(os.path.join(SND_DIR, "pcmC9D0c"), "w"):
    pass
check(wait_for(lambda: HEADSET in microphone(prefs) or None, "the headset's description", 10),
      "the plugged-in headset is listed in the open Preferences (%s)" % microphone(prefs))
screenshot("devices-plugged")

# Pulled out.
with open(conf_path, "w") as f:
    f.write(original)
os.unlink(os.path.join(SND_DIR, "pcmC9D0c"))
check(wait_for(lambda: HEADSET not in microphone(prefs) or None, "the headset to leave", 10),
      "the unplugged headset is no longer listed (%s)" % microphone(prefs))
# The choice is kept, shown by its name, for when it comes back.
check("test_headset" in microphone(prefs), "the chosen device stays chosen, by name")
subprocess.run(["gsettings", "reset", APP_ID, "audio-input"], check=False, timeout=10)
time.sleep(1)
mic_test(prefs)
pyatspi.Registry.generateKeyboardEvent(0xff1b, None, pyatspi.KEY_SYM)  # Escape: close it
wait_for(lambda: prefs_window(app) is None or None, "Preferences to close")

# A call on a speaker that goes away: the call goes on with the default
# speaker and a toast says so. The speaker is ALSA `headset`, behind a
# second PulseAudio server of the test's own, killed (by its PID) mid-call.
tmp = tempfile.mkdtemp(prefix="sp-gui-headset.")
socket_path = os.path.join(tmp, "native")
for sub in ("run", "home"):
    os.makedirs(os.path.join(tmp, sub), mode=0o700)
server_env = dict(os.environ, HOME=os.path.join(tmp, "home"),
                  XDG_RUNTIME_DIR=os.path.join(tmp, "run"), XDG_CONFIG_HOME=os.path.join(tmp, "home"))
server_env.pop("PULSE_SERVER", None)
server = subprocess.Popen(
    ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=false",
     "--load=module-native-protocol-unix socket=" + socket_path,
     "--load=module-null-sink sink_name=hs sink_properties=device.description=hs"],
    env=server_env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL)
peer = None
try:
    check(wait_for(lambda: subprocess.run(["pactl", "--server", "unix:" + socket_path, "info"],
                                          capture_output=True, timeout=10).returncode == 0
                   or None, "the headset's server"), "the headset's server runs")
    with open(conf_path, "a") as f:
        f.write('pcm.headset {\n  type pulse\n  server "unix:%s"\n  device "hs"\n}\n'
                % socket_path)
    subprocess.run(["gsettings", "set", APP_ID, "audio-output", "headset"], check=True,
                   timeout=10)
    time.sleep(1)
    peer = Headless(sys.argv[3], "127.0.77.3")
    if check(peer.wait("ready") is not None, "the peer is ready"):
        peer.command("call 127.0.77.1:5060")
        answer = wait_for(lambda: find(app, "push button", name="Take the call"), "the call")
        if check(answer is not None, "a call rings in the window"):
            click(answer)
            check(peer.wait("established") is not None, "answered, the call is up")
            time.sleep(1)
            server.terminate()
            server.wait(timeout=10)
            toast = wait_for(lambda: find(app, "label", contains="is gone", visible=False),
                             "the toast", 10)
            check(toast is not None and "headset" in toast.name
                  and "default" in toast.name, "a toast says the speaker is gone (%s)"
                  % (toast.name if toast else None))
            screenshot("devices-gone")
            time.sleep(1)
            check(not any(e.get("event") == "ended" for e in peer.events),
                  "the call goes on")
            peer.command("hangup")
            peer.wait("ended")
finally:
    if peer is not None:
        peer.stop()
    if server.poll() is None:
        server.terminate()
        server.wait(timeout=10)
    with open(conf_path, "w") as f:
        f.write(original)
    shutil.rmtree(tmp, ignore_errors=True)
print("%d failure(s)" % len(guitest.failures), flush=True)
sys.exit(1 if guitest.failures else 0)
