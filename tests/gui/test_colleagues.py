#!/usr/bin/python3
"""The Calls page's Colleagues list (issue 17, presence): the window's phone
(127.0.77.1:5070, account u1) registers with a headless server on 0.0.0.0:5060;
the colleagues u2 and u3 are headless phones (127.0.77.3 and .4) registered
there too. The window lists them with their state ("Available"); the row's
Call button calls u2 (its phone sees the call coming in); when u3 calls u2,
u2's row says "Ringing" and shows "Pick up", which takes the call over: u3 is
then connected to the window and u2's ringing ends as "Answered elsewhere".
Every control of the list has a clean accessible name.

usage: test_colleagues.py OUTDIR CONFIG_HOME SOFTPHONE"""

import os
import shutil
import sys
import tempfile

import guitest
from guitest import (app_node, check, check_clean_names, click, create_account, find, frame,
                     screenshot, show_page, wait_for, walk)
from headless import Headless

OUTDIR, CONFIG_HOME, SOFTPHONE = sys.argv[1], sys.argv[2], sys.argv[3]
guitest.OUTDIR = OUTDIR
SERVER = "127.0.0.1"  # the server's address on the route to it (it binds 0.0.0.0)
USERS = "[u1]\npassword=pw1\n[u2]\npassword=pw2\n[u3]\npassword=pw3\n"
ROUTES = "[default]\n^1$=return;called=u1\n^2$=return;called=u2\n^3$=return;called=u3\n"


def colleague_row(app, number, state):
    """The Colleagues row of @number showing @state, or None."""
    for n in walk(app):
        try:
            if n.getRoleName() == "list item" and n.name and n.name.startswith(number) \
                    and find(n, "label", name=state) is not None:
                return n
        except Exception:  # the tree changes under us
            continue
    return None


def button_in(row, prefix):
    return find(row, "push button", prefix=prefix) if row is not None else None


inputs = tempfile.mkdtemp(prefix="softphone-colleagues.")
for name, text in (("users.conf", USERS), ("routes.conf", ROUTES)):
    with open(os.path.join(inputs, name), "w") as f:
        f.write(text)
server = Headless(SOFTPHONE, "0.0.0.0", "--server", "--users",
                  os.path.join(inputs, "users.conf"), "--routes",
                  os.path.join(inputs, "routes.conf"), log=True)
check(server.wait("ready", timeout=20.0) is not None, "the headless server is ready")
u2 = Headless(SOFTPHONE, "127.0.77.3", "--account", "sip:u2:pw2@%s" % SERVER)
u3 = Headless(SOFTPHONE, "127.0.77.4", "--account", "sip:u3:pw3@%s" % SERVER)
check(u2.wait("registered", timeout=20.0) is not None
      and u3.wait("registered", timeout=20.0) is not None, "u2 and u3 registered")

app = wait_for(app_node, "the softphone application on the accessibility bus", 30)
if app is None:
    sys.exit(1)
wait_for(lambda: frame(app, "Softphone"), "the main window")
if not create_account(app, "Office", "u1", "pw1", SERVER, "the window"):
    sys.exit(1)
show_page(app, "Calls")
group = wait_for(lambda: find(app, "label", name="Colleagues"), "the Colleagues list", 20)
check(group is not None, "the Calls page shows Colleagues")
row = wait_for(lambda: colleague_row(app, "u2", "Available"), "u2 Available", 20)
check(row is not None, "u2 is listed as Available (%s)" % (row.name if row else None))
check(colleague_row(app, "u3", "Available") is not None, "u3 is listed as Available")
check(colleague_row(app, "u1", "Available") is None, "the window's own user is not listed")
screenshot("colleagues")
check_clean_names(app, "the Calls page with colleagues")

# The row's Call button dials u2.
call = button_in(row, "Call ")
if check(call is not None, "u2's row has a Call button (%s)" % (call.name if call else None)):
    click(call)
    check(u2.wait("incoming", timeout=20.0) is not None, "u2's phone sees the window's call")
    wait_for(lambda: colleague_row(app, "u2", "Ringing"), "u2 Ringing in the list", 10)
    u2.command("hangup")
    u2.wait("ended")
    check(wait_for(lambda: colleague_row(app, "u2", "Available"), "u2 Available again", 20)
          is not None, "u2 is Available again after the call")

# u3 calls u2: u2's row rings and has Pick up, which takes the call over.
u2.events.clear()
u3.command("call 2")
check(u2.wait("incoming", timeout=20.0) is not None, "u3's call rings at u2")
ringing = wait_for(lambda: colleague_row(app, "u2", "Ringing"), "u2 Ringing", 10)
pickup = button_in(ringing, "Pick up")
if check(pickup is not None, "u2's ringing row has Pick up (%s)" % (pickup.name if pickup
                                                                    else None)):
    check_clean_names(ringing, "the ringing colleague's row")
    screenshot("colleagues-ringing")
    click(pickup)
    check(u3.wait("established", timeout=20.0) is not None, "u3 is connected to the window")
    ended = u2.wait("ended", timeout=20.0)
    check(ended is not None and ended.get("reason") == "Answered elsewhere",
          "u2 stops ringing: %s" % ended)
    u3.command("hangup")
    u3.wait("ended")

for p in (u3, u2, server):
    p.stop()
shutil.rmtree(inputs, ignore_errors=True)
print("%d failure(s)" % len(guitest.failures))
sys.exit(1 if guitest.failures else 0)
