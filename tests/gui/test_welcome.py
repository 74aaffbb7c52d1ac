#!/usr/bin/python3
"""First run (no account, server off, never closed): the window opens on
a welcome offering the three things the Yate article teaches, each one
step away. Run three times by meson (PART):

  account  "Add Account…" opens the account dialog; Cancel comes back to
           the welcome; OK with an account leaves it for good.
  server   "Start the Server" turns the server on and shows the Server page.
  direct   this computer's address is shown; typing the other computer's
           address and Call rings it (a headless peer); then the welcome
           is gone, also after the app restarts (welcome-done is saved).
  close    the welcome closes, and does not come back (the setting).

usage: test_welcome.py OUTDIR CONFIG_HOME SOFTPHONE PART"""

import os
import sys

import guitest
from guitest import (app_node, check, check_clean_names, click, field_in, find, frame,
                     screenshot, set_text, wait_for, walk)
from headless import Headless

OUTDIR, CONFIG_HOME, SOFTPHONE, PART = sys.argv[1:5]
guitest.OUTDIR = OUTDIR
KEYFILE = os.path.join(CONFIG_HOME, "glib-2.0", "settings", "keyfile")


def setting(line):
    return wait_for(lambda: os.path.exists(KEYFILE) and line in open(KEYFILE).read(), line)


def welcome_shown():
    return find(app, "label", name="Welcome to Softphone") is not None


app = wait_for(app_node, "the softphone application on the accessibility bus", 30)
if app is None:
    sys.exit(1)
main = wait_for(lambda: frame(app, "Softphone"), "the main window")
check(wait_for(welcome_shown, "the welcome") is True, "the first window is the welcome")
for offer in ("Register with the Office Server", "Run the Office Server on This Computer",
              "Call Another Computer Directly"):
    check(find(app, "label", name=offer) is not None, "the welcome offers: " + offer)
check(find(app, "label", name="127.0.77.1") is not None,
      "the welcome shows this computer's address to give out")
check_clean_names(main, "the welcome")
screenshot("welcome-" + PART)

if PART == "account":
    click(find(app, "push button", name="Add Account…"))
    dialog = wait_for(lambda: frame(app, "New Account"), "the New Account dialog")
    if check(dialog is not None, "Add Account opens the account dialog"):
        click(find(dialog, "push button", name="Cancel"))
        wait_for(lambda: frame(app, "New Account") is None, "the dialog to close")
        check(welcome_shown(), "Cancel comes back to the welcome")
    click(find(app, "push button", name="Add Account…"))
    dialog = wait_for(lambda: frame(app, "New Account"), "the New Account dialog again")
    if dialog is not None:
        set_text(field_in(dialog, "Account"), "Office")
        set_text(field_in(dialog, "Username"), "u1")
        set_text(field_in(dialog, "Password"), "pw1")
        set_text(field_in(dialog, "Server"), "127.0.77.60")
        click(find(dialog, "push button", name="OK"))
        wait_for(lambda: frame(app, "New Account") is None, "the dialog to close")
    check(wait_for(lambda: not welcome_shown(), "the welcome to go") is True,
          "with an account the welcome is gone")
    check(setting("welcome-done=true") is True, "and it is not shown again")
elif PART == "server":
    click(find(app, "push button", name="Start the Server"))
    check(setting("server-enabled=true") is True, "Start the Server turns the server on")
    switch = wait_for(lambda: find(app, "check box", name="Run the SIP server"), "the Server page")
    check(switch is not None and switch.getState().contains(guitest.pyatspi.STATE_CHECKED),
          "the Server page shows, its switch on")
    check(not welcome_shown(), "the welcome is gone")
    screenshot("welcome-server-page")
elif PART == "direct":
    peer = Headless(SOFTPHONE, "127.0.77.4")
    if check(peer.wait("ready") is not None, "the peer is ready"):
        click(find(app, "push button", name="Call"))
        check(wait_for(lambda: any("Type the other computer" in (n.description or "")
                                   for n in walk(app) if n.name == "The Other Computer’s Address"),
                       "the empty address refused") is True,
              "Call with no address says on the field what to type, and stays")
        check(welcome_shown(), "the welcome stays")
        set_text(find(app, "text", name="The Other Computer’s Address"), "127.0.77.4")
        click(find(app, "push button", name="Call"))
        check(peer.wait("incoming") is not None, "Call rings the other computer")
        check(wait_for(lambda: not welcome_shown(), "the welcome to go") is True,
              "the Calls page shows the call")
        screenshot("welcome-direct-call")
        peer.command("hangup")
        peer.wait("ended")
    peer.stop()
    check(setting("welcome-done=true") is True, "the welcome is done")
elif PART == "close":
    click(find(app, "push button", name="Close the Welcome"))
    check(wait_for(lambda: not welcome_shown(), "the welcome to close") is True,
          "Close the Welcome shows the pages")
    check(find(app, "page tab", name="Calls") is not None, "the page tabs are there")
    check(setting("welcome-done=true") is True, "closing is remembered")

print("%d failure(s)" % len(guitest.failures))
sys.exit(1 if guitest.failures else 0)
