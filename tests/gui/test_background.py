#!/usr/bin/python3
"""Run in the background and start at login.

PART "switch": Preferences' switch writes the XDG autostart file (with
--background); closing the window keeps the phone running (a call from a
headless peer still reaches it); clicking the call's notification (its
default action, app.show-call, as the notification server would send it)
opens the window with the call; starting Softphone again presents the
window; switching off removes the file.

PART "login": the app was started as the autostart file starts it
(SP_GUI_APP_ARGS=--background): no window, the phone answers; starting
Softphone again shows the window.

usage: test_background.py OUTDIR CONFIG_HOME SOFTPHONE PART"""

import os
import subprocess
import sys
import time

import pyatspi

import guitest
from guitest import app_node, check, click, find, frame, on_screen, screenshot, wait_for, walk
from headless import Headless

OUTDIR, CONFIG_HOME, SOFTPHONE, PART = sys.argv[1:5]
guitest.OUTDIR = OUTDIR
AUTOSTART = os.path.join(CONFIG_HOME, "autostart", "net.example.softphone.desktop")
APP_ID = "net.example.softphone"


def bus_has_app():
    out = subprocess.run(["gdbus", "call", "--session", "--dest", "org.freedesktop.DBus",
                          "--object-path", "/org/freedesktop/DBus", "--method",
                          "org.freedesktop.DBus.NameHasOwner", APP_ID],
                         capture_output=True, text=True, timeout=10).stdout
    return "true" in out


def activate_action(name, target):
    """What a notification server does when its notification is clicked."""
    subprocess.run(["gdbus", "call", "--session", "--dest", APP_ID, "--object-path",
                    "/" + APP_ID.replace(".", "/"), "--method",
                    "org.freedesktop.Application.ActivateAction", name,
                    "[<'%s'>]" % target, "{}"], check=False, timeout=10)


def start_again():
    """A second `softphone`: hands over to the running one and exits."""
    proc = subprocess.run([SOFTPHONE], capture_output=True, text=True, timeout=30)
    check(proc.returncode == 0, "a second start exits at once (%d)" % proc.returncode)


def keys(*codes):
    """Presses X keycodes together (Xvfb's default map: 37 Control_L, 25 w,
    9 Escape), then releases them: a window closed by clicking its Close
    button over AT-SPI can crash GTK 4.8's accessibility code."""
    for c in codes:
        pyatspi.Registry.generateKeyboardEvent(c, None, pyatspi.KEY_PRESS)
    for c in reversed(codes):
        pyatspi.Registry.generateKeyboardEvent(c, None, pyatspi.KEY_RELEASE)


ESCAPE, CONTROL, W = 9, 37, 25


def main_window():
    w = frame(app, "Softphone")
    return w if w is not None and on_screen(w) else None


if PART == "login":
    check(wait_for(bus_has_app, "the app on the session bus", 30) is True,
          "started with --background, the app runs")
    time.sleep(2)
    app = app_node()
    check(app is None or main_window() is None, "and shows no window")
else:
    app = wait_for(app_node, "the softphone application on the accessibility bus", 30)
    if app is None:
        sys.exit(1)
    wait_for(main_window, "the main window")
    # Preferences: the switch.
    menu = next((n for n in walk(app) if n.name == "Main Menu"
                 and guitest.is_actionable_item(n)), None)
    click(menu)
    click(wait_for(lambda: find(app, "menu item", contains="Preferences"), "Preferences item"))
    prefs = wait_for(lambda: next((t for t in app if t.name == "Preferences" and on_screen(t)),
                                  None), "Preferences")
    switch = wait_for(lambda: find(prefs, "check box", prefix="Run in the Background"),
                      "the background switch")
    if check(switch is not None, "Preferences has “Run in the Background and Start at Login”"):
        click(switch)
        check(wait_for(lambda: os.path.exists(AUTOSTART), "the autostart file") is True,
              "switching it on writes " + AUTOSTART)
        if os.path.exists(AUTOSTART):
            text = open(AUTOSTART).read()
            check("[Desktop Entry]" in text and "Type=Application" in text
                  and "--background" in text and os.path.realpath(SOFTPHONE) in text,
                  "the autostart file starts this binary with --background")
            check(subprocess.run(["desktop-file-validate", AUTOSTART], capture_output=True)
                  .returncode == 0 if os.path.exists("/usr/bin/desktop-file-validate") else True,
                  "the autostart file is a valid desktop file")
        screenshot("background-preferences")
    keys(ESCAPE)
    wait_for(lambda: next((t for t in app if t.name == "Preferences" and on_screen(t)), None)
             is None, "Preferences to close")
    # Close the window: the app runs on.
    keys(CONTROL, W)
    check(wait_for(lambda: main_window() is None, "the window to close") is True,
          "the window closes")
    time.sleep(1)
    check(bus_has_app(), "the app still runs without its window")

# A call reaches the phone with no window; its notification's click opens it.
peer = Headless(SOFTPHONE, "127.0.77.5")
if check(peer.wait("ready") is not None, "the peer is ready"):
    peer.command("call 127.0.77.1")
    check(peer.wait("ringing") is not None, "with no window the phone still rings")
    activate_action("show-call", "1")
    app = wait_for(app_node, "the app on the accessibility bus", 20)
    win = wait_for(lambda: app is not None and main_window(), "the window for the call")
    check(win is not None, "the call's notification opens the window")
    check(wait_for(lambda: find(app, "push button", name="Take the call"), "the call")
          is not None, "with the call on it")
    screenshot("background-call-" + PART)
    peer.command("hangup")
    peer.wait("ended")
peer.stop()

if app is not None and main_window() is not None:
    keys(CONTROL, W)
    wait_for(lambda: main_window() is None, "the window to close again")
start_again()
app = wait_for(app_node, "the app on the accessibility bus", 20)
check(wait_for(lambda: app is not None and main_window(), "the window again") is not None,
      "starting Softphone again shows the window")

if PART == "switch" and app is not None:
    menu = next((n for n in walk(app) if n.name == "Main Menu"
                 and guitest.is_actionable_item(n)), None)
    click(menu)
    click(wait_for(lambda: find(app, "menu item", contains="Preferences"), "Preferences item"))
    prefs = wait_for(lambda: next((t for t in app if t.name == "Preferences" and on_screen(t)),
                                  None), "Preferences again")
    switch = prefs and find(prefs, "check box", prefix="Run in the Background")
    if check(switch is not None and switch.getState().contains(pyatspi.STATE_CHECKED),
             "the switch is still on"):
        click(switch)
        check(wait_for(lambda: not os.path.exists(AUTOSTART), "the file to go") is True,
              "switching it off removes the autostart file")
print("%d failure(s)" % len(guitest.failures))
sys.exit(1 if guitest.failures else 0)
