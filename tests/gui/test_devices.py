#!/usr/bin/python3
"""The Preferences' device lists follow devices that come and go while the
window is open: a new ALSA device (a pcm with a hint added to the
configuration, as a USB headset adds a card) shows in the Microphone list
once the sound device directory changes ($SP_SND_DIR stands in for
/dev/snd), and leaves it when it goes.

usage: test_devices.py OUTDIR CONFIG_HOME SOFTPHONE"""

import os
import subprocess
import sys
import time

import guitest
from guitest import app_node, check, find, on_screen, screenshot, wait_for, walk

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
print("%d failure(s)" % len(guitest.failures), flush=True)
sys.exit(1 if guitest.failures else 0)
