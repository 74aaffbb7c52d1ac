#!/usr/bin/python3
"""Another SIP program holds the window's port (127.0.77.1:5060, held by
run-gui-test.sh through SP_GUI_HOLD_PORT). The phone takes the next port
and works: the Calls page says in one sentence what that means and which
address to give out, a direct call to that address rings in the window
and is answered, a call from the window goes out; the server, switched
on, does not move off its port and says why it cannot start.

usage: test_port.py OUTDIR CONFIG_HOME SOFTPHONE"""

import sys
import time

import guitest
from guitest import app_node, check, click, find, frame, screenshot, set_text, show_page, wait_for
from headless import Headless

OUTDIR, CONFIG_HOME, SOFTPHONE = sys.argv[1], sys.argv[2], sys.argv[3]
guitest.OUTDIR = OUTDIR
SENTENCE = ("Another program uses port 5060, so this computer takes calls on port 5061: "
            "people who call it directly must dial 127.0.77.1:5061.")

app = wait_for(app_node, "the softphone application on the accessibility bus", 30)
if app is None:
    sys.exit(1)
main = wait_for(lambda: frame(app, "Softphone"), "the main window")
show_page(app, "Calls")
notice = wait_for(lambda: find(app, "label", name=SENTENCE), "the port sentence")
check(notice is not None, "the Calls page says: " + SENTENCE)
screenshot("port-moved")

peer = Headless(SOFTPHONE, "127.0.77.3")
if check(peer.wait("ready") is not None, "the peer is ready"):
    # Direct to the address the window gives out.
    peer.command("call 127.0.77.1:5061")
    answer = wait_for(lambda: find(app, "push button", name="Take the call"), "the incoming call")
    if check(answer is not None, "a call to 127.0.77.1:5061 rings in the window"):
        click(answer)
        check(peer.wait("established") is not None, "answered in the window, the call is up")
        peer.command("hangup")
        peer.wait("ended")
    # From the window: nothing says the phone is not started.
    peer.events.clear()
    set_text(find(app, "text", name="Number or address to call"), "127.0.77.3")
    click(find(app, "push button", name="Call"))
    check(peer.wait("incoming") is not None, "a call from the window reaches the peer")
    check(find(app, "label", contains="not started") is None, "no “not started” message")
    peer.command("hangup")
    peer.wait("ended")
peer.stop()

# The server needs its well-known port: it says so and stays off.
show_page(app, "Server")
switch = find(app, "check box", name="Run the SIP server")
if check(switch is not None, "the server switch"):
    click(switch)
    said = wait_for(lambda: find(app, "label", contains="another program uses port 5060"),
                    "why the server cannot start")
    check(said is not None and "could not start" in said.name,
          "the server says it could not start and why (%s)" % (said.name if said else None))
    screenshot("port-server-refused")
    time.sleep(1)
    check(not switch.getState().contains(guitest.pyatspi.STATE_CHECKED),
          "the server switch went back off")

print("%d failure(s)" % len(guitest.failures))
sys.exit(1 if guitest.failures else 0)
