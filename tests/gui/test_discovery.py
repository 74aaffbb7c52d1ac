#!/usr/bin/python3
"""LAN discovery in the window (issue 17), on the small LAN of with-avahi.sh
(its own system bus and avahi-daemon, 198.18.1.1): a headless server
advertises itself as "Office server" and a headless phone as "Bob".

- Calls page: Nearby lists Bob (not this window's own phone) and "Call Bob"
  calls him with no address typed.
- Account dialog: Servers on This Network lists "Office server at 198.18.1.1";
  Use fills the server (and the account name); with a user and password, OK,
  and the account registers with the server found, over TLS (it advertises
  TLS). Call Bob is over TLS too (Bob advertises his TLS port).

usage: test_discovery.py OUTDIR CONFIG_HOME SOFTPHONE"""

import os
import sys
import tempfile

import guitest
from headless import Headless
from guitest import app_node, check, click, field_in, find, frame, screenshot, set_text, \
    show_page, text_of, wait_for, walk

OUTDIR, CONFIG_HOME, SOFTPHONE = sys.argv[1], sys.argv[2], sys.argv[3]
guitest.OUTDIR = OUTDIR
LAN = "198.18.1.1"

app = wait_for(app_node, "the application on the accessibility bus", 30)
if app is None:
    sys.exit(1)
check(wait_for(lambda: frame(app, "Softphone"), "main window") is not None, "main window")

users = os.path.join(tempfile.mkdtemp(prefix="softphone-discovery."), "users.conf")
with open(users, "w") as f:
    f.write("[u1]\npassword=pw1\n")
server = Headless(SOFTPHONE, LAN, "--server", "--server-name", "Office server", "--users", users,
                  ready=True)
bob = Headless(SOFTPHONE, LAN, "--advertise=Bob", "--auto-answer", port=5070, ready=True)

# Nearby: Bob, and only Bob (this window's phone advertises itself too, as
# a phone alone: it must not offer to call itself).
show_page(app, "Calls")
call_bob = wait_for(lambda: find(app, "push button", name="Call Bob"), "Nearby: Call Bob", 30)
if check(call_bob is not None, "Nearby lists Bob with a Call button"):
    screenshot("discovery-nearby")
    others = [n.name for n in walk(app) if n.getRoleName() == "push button"
              and n.name.startswith("Call ") and n.name != "Call Bob"]
    check(others == [], "Nearby lists no one else, not this phone itself (%s)" % others)
    click(call_bob)
    check(bob.wait("incoming") is not None, "Call Bob rings Bob, no address typed")
    established = bob.wait("established")
    check(established is not None, "Bob answers: the call is established")
    # Bob advertises his TLS port and certificate: the call is over TLS
    # with no setting (issue 16).
    check(established is not None and "tls" in established.get("protection", []),
          "Call Bob is SIP over TLS (%s)" % (established or {}).get("protection"))
    bob.command("hangup")
    bob.wait("ended")
    wait_for(lambda: find(app, "label", name="No Calls"), "the call gone from the window", 30)

# The account dialog: the server found, one click fills it in.
show_page(app, "Accounts")
new = wait_for(lambda: find(app, "push button", prefix="New account"), "New account")
if new is not None:
    click(new)
    dialog = wait_for(lambda: frame(app, "New Account"), "the New Account dialog", 30)
    if dialog is None:
        screenshot("discovery-no-dialog")
    use = wait_for(lambda: find(dialog, "push button", name="Use Office server at " + LAN),
                   "Servers on This Network: Office server", 30) if dialog else None
    if check(use is not None, "the dialog lists “Office server at %s”" % LAN):
        screenshot("discovery-account-dialog")
        click(use)
        check(wait_for(lambda: text_of(field_in(dialog, "Server")) == LAN, "the server filled in")
              is True, "Use fills the server field with the found address")
        check(text_of(field_in(dialog, "Account")) == "Office server",
              "Use names the account after the server")
        set_text(field_in(dialog, "Username"), "u1")
        set_text(field_in(dialog, "Password"), "pw1")
        click(find(dialog, "push button", contains="OK"))
        check(wait_for(lambda: frame(app, "New Account") is None, "dialog closed") is True,
              "OK closes the account dialog")
        check(wait_for(lambda: find(app, "label", name="Registered"), "Registered", 30)
              is not None, "the account registers with the server it found")
        reg = server.wait("server_registered", user="u1")
        check(reg is not None, "the server has u1 registered")
        # The server advertises TLS: the account uses it, with no setting.
        check(reg is not None and "transport=tls" in reg.get("contact", ""),
              "the account registers over TLS (%s)" % (reg or {}).get("contact"))

bob.stop()
server.stop()
print("%d failure(s)" % len(guitest.failures))
sys.exit(1 if guitest.failures else 0)
