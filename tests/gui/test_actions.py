#!/usr/bin/python3
"""Every user command is an action, and the actions are the door a script
takes too: this test drives the window only through org.gtk.Actions on
the session bus (the window's actions at /net/example/softphone/window/1,
the application's at /net/example/softphone) and checks over AT-SPI and
on disk that each did what its button does.

usage: test_actions.py OUTDIR CONFIG_HOME SOFTPHONE"""

import math
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import wave

from gi.repository import Gio, GLib

import guitest
from guitest import app_node, check, find, frame, on_screen, screenshot, wait_for, walk
from headless import Headless

OUTDIR, CONFIG_HOME, SOFTPHONE = sys.argv[1], sys.argv[2], sys.argv[3]
guitest.OUTDIR = OUTDIR
APP_PATH = "/net/example/softphone"
WIN_PATH = APP_PATH + "/window/1"
ROUTES_CONF = os.path.join(CONFIG_HOME, "softphone", "routes.conf")

bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)


def actions(path):
    reply = bus.call_sync("net.example.softphone", path, "org.gtk.Actions", "List", None,
                          GLib.VariantType("(as)"), Gio.DBusCallFlags.NONE, 10000, None)
    return set(reply.unpack()[0])


def activate(path, name, parameter=None):
    params = [parameter] if parameter is not None else []
    bus.call_sync("net.example.softphone", path, "org.gtk.Actions", "Activate",
                  GLib.Variant("(sava{sv})", (name, params, {})), None,
                  Gio.DBusCallFlags.NONE, 10000, None)


def win(name, parameter=None):
    activate(WIN_PATH, name, parameter)


def route_rows():
    return [n.name for n in walk(app) if n.getRoleName() == "push button"
            and n.name.startswith("Remove route ") and on_screen(n)]


def shown(role, name):
    node = find(app, role, name=name)
    return node is not None and on_screen(node)


app = wait_for(app_node, "the softphone application on the accessibility bus", 30)
if app is None:
    sys.exit(1)
wait_for(lambda: frame(app, "Softphone"), "the main window")

names = wait_for(lambda: actions(WIN_PATH), "the window's actions on the bus")
check(names is not None and {"call", "dial", "show-page", "new-account", "edit-account",
                             "delete-account", "enable-account", "clear-log", "server-add-user",
                             "server-remove-user", "server-import", "route-add", "route-remove",
                             "route-move"} <= names,
      "the window's commands are actions on the bus (%s)" % sorted(names or []))
check({"hangup", "answer", "answer-call", "decline-call", "dial"} <= actions(APP_PATH),
      "the application's commands are actions on the bus")
check({"call-answer", "call-hangup", "call-hold", "call-mute", "call-dtmf", "call-transfer"}
      <= (names or set()), "each call's commands are actions of the window, named by call id")


# A call driven by its actions alone: win.call-hold/-mute/-dtmf/-hangup
# with the call's id, against a headless instance of our binary that logs
# the SIP it receives and records what it hears.
PEER = "127.0.77.7"


def call_row(state):
    return next((n for n in walk(app) if n.getRoleName() == "panel" and n.name
                 and n.name.endswith(", " + state)), None)


def toggle(name):
    """Hold or Mute of the call row (GTK 4.8 shows a toggle button to
    AT-SPI as a push button with a "pressed" state)."""
    return next((n for n in walk(app) if n.getRoleName() in ("push button", "toggle button")
                 and n.name == name and on_screen(n)), None)


def pressed(node):
    """A toggle button shown on."""
    if node is None:
        return False
    states = node.getState()
    return states.contains(guitest.pyatspi.STATE_PRESSED) or \
        states.contains(guitest.pyatspi.STATE_CHECKED)


def received_invites(peer):
    """The INVITEs (initial and re-INVITEs) the peer received, in order."""
    out, seen = [], set()
    for block in peer.log_text().split("----- SIP ")[1:]:
        if block.startswith("received ") and "\nINVITE sip:" in block.split("-----", 1)[1][:20]:
            cseq = re.search(r"\nCSeq: *(\d+)", block)
            key = cseq.group(1) if cseq else block
            if key not in seen:  # a retransmission is the same request
                seen.add(key)
                out.append(block)
    return out


def invite_directions(peer):
    return [next(iter(re.findall(r"a=(sendrecv|sendonly|recvonly|inactive)", b)), "sendrecv")
            for b in received_invites(peer)]


def speech_wav(path, seconds):
    """Speech-like bursts (300 ms on, 200 ms off, 440/660 Hz) that noise
    suppression leaves alone, unlike a steady tone."""
    rate = 16000
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = []
        for i in range(rate * seconds):
            t = i % (rate // 2)
            freq = 440 if (i // (rate // 2)) % 2 == 0 else 660
            on = t < rate * 3 // 10
            frames.append(struct.pack("<h", int(9000 * math.sin(2 * math.pi * freq * i / rate))
                                      if on else 0))
        w.writeframes(b"".join(frames))


def heard_rms(peer, seconds=1.0, skip=0.3):
    """RMS of what the peer recorded over `seconds` before the last `skip`
    (what stdio has not written yet); None before there is that much."""
    data = open(peer.out_wav, "rb").read()
    if len(data) < 44:
        return None
    rate = struct.unpack("<I", data[24:28])[0]
    samples = data[44:]
    n, s = int(rate * seconds), int(rate * skip)
    if len(samples) // 2 < n + s:
        return None
    chunk = samples[len(samples) - 2 * (n + s):len(samples) - 2 * s]
    values = struct.unpack("<%dh" % n, chunk)
    return math.sqrt(sum(v * v for v in values) / n)


peer = Headless(SOFTPHONE, PEER, "--log-sip", audio=True, log=True, ready=True)
win("dial", GLib.Variant("s", PEER))
if check(peer.wait("incoming") is not None, "win.dial reaches the peer"):
    peer.command("answer")
    check(peer.wait("established") is not None, "the peer took the call")
    check(wait_for(lambda: call_row("In call"), "the window In call", 20) is not None,
          "the window's call row says In call")
    CALL = "1"  # the phone numbers its calls from 1; this is the window's first

    # Hold and resume: re-INVITEs with sendonly, then sendrecv, on the wire.
    win("call-hold", GLib.Variant("(sb)", (CALL, True)))
    check(wait_for(lambda: invite_directions(peer)[1:] == ["sendonly"], "a sendonly re-INVITE")
          is True, "win.call-hold(('1', true)) sends a re-INVITE with a=sendonly (%s)"
          % invite_directions(peer))
    check(wait_for(lambda: call_row("On hold"), "the window On hold") is not None,
          "the call row says On hold")
    hold = toggle("Hold")
    check(hold is not None and pressed(hold), "the Hold button shows the call held")
    win("call-hold", GLib.Variant("(sb)", (CALL, True)))  # already held: nothing sent
    win("call-hold", GLib.Variant("(sb)", (CALL, False)))
    check(wait_for(lambda: invite_directions(peer)[1:] == ["sendonly", "sendrecv"],
                   "a sendrecv re-INVITE") is True,
          "win.call-hold(('1', false)) resumes with a=sendrecv, and holding twice sent one "
          "re-INVITE (%s)" % invite_directions(peer))
    check(wait_for(lambda: call_row("In call"), "the window In call again") is not None,
          "the call row says In call again")

    # DTMF: the digits arrive at the peer as events, in order.
    for digit in "5#":
        win("call-dtmf", GLib.Variant("(ss)", (CALL, digit)))
        time.sleep(0.4)
    win("call-dtmf", GLib.Variant("(ss)", (CALL, "19")))
    got = wait_for(lambda: "".join(e["digit"] for e in peer.events if e.get("event") == "dtmf")
                   if peer.count("dtmf") >= 4 else None, "four DTMF events at the peer")
    check(got == "5#19", "win.call-dtmf sends the digits to the peer (%s)" % got)

    # Mute: the peer hears the window's microphone, then silence, then it
    # again (the private PulseAudio's "mic"; without one, only the state).
    player = None
    tmp = tempfile.mkdtemp(prefix="sp-gui-actions.")
    if os.environ.get("PULSE_SERVER") and shutil.which("paplay"):
        voice = os.path.join(tmp, "voice.wav")
        speech_wav(voice, 150)
        player = subprocess.Popen(["paplay", "--device=mic", voice])
    try:
        loud = None
        if player is not None:
            time.sleep(2.5)
            loud = heard_rms(peer)
            check(loud is not None and loud > 300,
                  "before mute the peer hears the microphone (RMS %s)" % loud)
        win("call-mute", GLib.Variant("(sb)", (CALL, True)))
        mute = wait_for(lambda: next((b for b in [toggle("Mute")]
                                      if b is not None and pressed(b)), None),
                        "the Mute button pressed")
        check(mute is not None, "win.call-mute(('1', true)) shows the call muted")
        if player is not None:
            time.sleep(2.5)
            quiet = heard_rms(peer)
            check(quiet is not None and loud is not None and quiet * 10 < loud,
                  "muted, the peer hears silence (RMS %s, was %s)" % (quiet, loud))
        win("call-mute", GLib.Variant("(sb)", (CALL, False)))
        check(wait_for(lambda: not pressed(toggle("Mute")),
                       "the Mute button released") is True,
              "win.call-mute(('1', false)) shows the call unmuted")
        if player is not None:
            time.sleep(2.5)
            again = heard_rms(peer)
            check(again is not None and again > 300,
                  "unmuted, the peer hears the microphone again (RMS %s)" % again)
        screenshot("actions-call")
    finally:
        if player is not None:
            player.terminate()
            player.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)

    # A call that is not there: nothing happens, nothing breaks.
    win("call-hold", GLib.Variant("(sb)", ("99", True)))
    win("call-hangup", GLib.Variant("s", CALL))
    check(peer.wait("ended") is not None, "win.call-hangup('1') ends the call at the peer")
    check(wait_for(lambda: call_row("In call") is None, "the row to leave In call") is True,
          "the window's call ended")
peer.stop()

# Pages: the Server page, made when first shown.
win("show-page", GLib.Variant("s", "server"))
check(wait_for(lambda: shown("text", "Server address and port"), "the Server page") is True,
      "win.show-page('server') shows the Server page")

# Routes: added, refused, moved and removed by action; the list and
# routes.conf follow.
win("route-add", GLib.Variant("s", "^5$=return;called=u5"))
win("route-add", GLib.Variant("s", "^6$=return;called=u6"))
check(wait_for(lambda: route_rows() == ["Remove route ^5$=return;called=u5",
                                        "Remove route ^6$=return;called=u6"], "two routes")
      is True, "win.route-add lists both rules in order (%s)" % route_rows())
up = find(app, "push button", name="Move up route ^5$=return;called=u5")
check(up is not None and not up.getState().contains(guitest.pyatspi.STATE_SENSITIVE),
      "the first rule cannot move up")
win("route-add", GLib.Variant("s", "^7$"))
check(wait_for(lambda: find(app, "label", prefix="This rule was not added"), "the inline error")
      is not None, "a bad rule is refused under the entry")
check(len(route_rows()) == 2, "the bad rule is not listed")
win("route-move", GLib.Variant("(si)", ("^6$=return;called=u6", -1)))
check(wait_for(lambda: route_rows()[:1] == ["Remove route ^6$=return;called=u6"], "moved up")
      is True, "win.route-move(('^6$…', -1)) puts the second rule first")
up = find(app, "push button", name="Move up route ^5$=return;called=u5")
check(up is not None and up.getState().contains(guitest.pyatspi.STATE_SENSITIVE),
      "the rule that is no longer first can move up")
saved = open(ROUTES_CONF).read() if os.path.exists(ROUTES_CONF) else ""
check(saved.find("^6$") >= 0 and saved.find("^6$") < saved.find("^5$"),
      "routes.conf holds the new order")
screenshot("actions-routes")
win("route-remove", GLib.Variant("s", "^6$=return;called=u6"))
win("route-remove", GLib.Variant("s", "^5$=return;called=u5"))
check(wait_for(lambda: not route_rows(), "routes removed") is True, "win.route-remove empties the list")
check("^5$" not in open(ROUTES_CONF).read(), "routes.conf without the removed rules")

# Users: the dialog opens from the action and adds u9; the user removed
# by action leaves the list and the users file.
def toplevel(prefix):
    for t in app:
        if t is not None and t.name.startswith(prefix) and on_screen(t):
            return t
    return None


USERS_CONF = os.path.join(CONFIG_HOME, "softphone", "users.conf")
win("server-add-user")
dialog = wait_for(lambda: toplevel("Add User"), "the Add User dialog")
if check(dialog is not None, "win.server-add-user opens the Add User dialog"):
    guitest.set_text(find(dialog, "text", name="User name"), "u9")
    guitest.set_text(find(dialog, "text", name="Number"), "9")
    guitest.set_text(find(dialog, "password text", name="Password"), "pw9")
    guitest.click(find(dialog, "push button", prefix="Add"))
    check(wait_for(lambda: find(app, "push button", name="Remove user u9"), "u9 listed")
          is not None, "the user added in the dialog is listed")
    check(wait_for(lambda: os.path.exists(USERS_CONF) and "u9" in open(USERS_CONF).read(),
                   "users.conf") is True, "users.conf holds u9")
    win("server-remove-user", GLib.Variant("s", "u9"))
    check(wait_for(lambda: find(app, "push button", name="Remove user u9") is None, "u9 gone")
          is True, "win.server-remove-user('u9') takes the row away")
    check("u9" not in open(USERS_CONF).read(), "users.conf without u9")

# A call by action: win.dial to an address where nothing listens; the
# call ends and the History page lists it with its Call back button.
win("dial", GLib.Variant("s", "127.0.77.250"))
win("show-page", GLib.Variant("s", "history"))
check(wait_for(lambda: find(app, "push button", prefix="Call back 127.0.77.250"), "the history row",
               40) is not None, "the ended call is in the History page's list")
screenshot("actions-history")

sys.exit(1 if guitest.failures else 0)
