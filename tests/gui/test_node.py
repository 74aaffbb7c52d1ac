#!/usr/bin/python3
"""Two windows side by side on one computer (issue 12), each started with
--bind and --config-dir, against a headless server at the default bind
(0.0.0.0:5060) with its relay on: the seed's flow in the windows (the account
dialog, Registered, Call, Take the call, In call, Hangup), the media through
the relay, and each window's files in its own directory.

run-gui-test.sh starts the first window with SP_GUI_APP_ARGS (--bind
127.0.77.1:5070 --config-dir, a directory from SP_GUI_CONFIG_DIR); this script
starts the second one (127.0.77.2:5070) and the server.

usage: test_node.py OUTDIR CONFIG_HOME SOFTPHONE"""

import atexit
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import guitest
from headless import Headless
from guitest import check, click, field_in, find, frame, screenshot, set_text, show_page, wait_for, walk

import pyatspi

OUTDIR, CONFIG_HOME, SOFTPHONE = sys.argv[1], sys.argv[2], sys.argv[3]
guitest.OUTDIR = OUTDIR
# The server listens on 0.0.0.0; the windows use the address its route to
# them leaves from, as phones on a LAN use the server's one LAN address (its
# Contact names that address, and a window answers the challenge to its BYE
# only from its own server).
SERVER = "127.0.0.1"
FIRST, SECOND = "127.0.77.1", "127.0.77.2"
FIRST_DIR = os.environ["SP_GUI_CONFIG_DIR"]
USERS = "[u1]\npassword=pw1\n[u2]\npassword=pw2\n"
ROUTES = "[default]\n^1$=return;called=u1\n^2$=return;called=u2\n"


class Server(Headless):
    """The headless server on 0.0.0.0:5060, logging the SIP it sends."""

    def __init__(self):
        self.inputs = tempfile.mkdtemp(prefix="softphone-node-server.")
        for name, text in (("users.conf", USERS), ("routes.conf", ROUTES)):
            with open(os.path.join(self.inputs, name), "w") as f:
                f.write(text)
        super().__init__(SOFTPHONE, "0.0.0.0", "--server", "--log-sip",
                         "--users", os.path.join(self.inputs, "users.conf"),
                         "--routes", os.path.join(self.inputs, "routes.conf"), log=True)
        check(self.wait("ready", timeout=20.0) is not None,
              "the headless server on 0.0.0.0:5060 is ready")

    def wait(self, event, timeout=20.0, **match):
        return super().wait(event, timeout, **match)

    def sent_sdp_addresses(self):
        """The c= addresses of the SDP the server sent, per destination host."""
        out = {}
        for block in self.log_text().split("----- SIP sent ")[1:]:
            head = block.split("\n", 1)[0]  # "UDP 0.0.0.0:5060 -> 127.0.77.1:5070 -----"
            m = re.search(r"-> ([0-9.]+):", head)
            if m is None:
                continue
            for addr in re.findall(r"c=IN IP4 ([0-9.]+)", block.split("----- SIP")[0]):
                out.setdefault(m.group(1), set()).add(addr)
        return out

    def stop(self):
        super().stop()
        shutil.rmtree(self.inputs, ignore_errors=True)


class SecondWindow:
    """Another window of the same binary, a phone of its own."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="softphone-node-window.")
        # Its preferences live in DIR/settings.ini: no welcome, as the first's.
        with open(os.path.join(self.dir, "settings.ini"), "w") as f:
            f.write("[net/example/softphone]\nwelcome-done=true\n")
        self.log = open(os.path.join(OUTDIR, "gui-app-test_node-second.log"), "w")
        self.proc = subprocess.Popen([SOFTPHONE, "--bind", SECOND + ":5070", "--config-dir",
                                      self.dir], stdout=self.log, stderr=subprocess.STDOUT)
        atexit.register(self.stop)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        text = open(self.log.name, errors="replace").read()
        check(not re.search(r"CRITICAL|ERROR: AddressSanitizer|runtime error", text),
              "the second window logged no criticals or sanitizer errors")


def apps():
    """The softphone applications on the accessibility bus, by process id."""
    out = {}
    for a in pyatspi.Registry.getDesktop(0):
        try:
            if a is not None and a.name == "softphone":
                out[a.get_process_id()] = a
        except Exception:  # one going away
            continue
    return out


def create_account(app, name, user, password, label):
    return guitest.create_account(app, name, user, password, SERVER, label)


def in_call(app):
    return next((n for n in walk(app) if n.getRoleName() == "panel" and n.name
                 and n.name.endswith(", In call")), None)


server = Server()
first = wait_for(lambda: next(iter(apps().values()), None), "the first window's application", 30)
second = SecondWindow()
found = wait_for(lambda: len(apps()) == 2, "two softphone applications side by side", 60)
if not check(bool(found) and first is not None, "two windows run side by side"):
    sys.exit(1)
by_pid = apps()
second_app = by_pid.get(second.proc.pid)
first_app = next(a for pid, a in by_pid.items() if pid != second.proc.pid)
check(second_app is not None, "the second window is the process started with --bind "
      + SECOND + ":5070")
for app, label in ((first_app, "first"), (second_app, "second")):
    check(wait_for(lambda: frame(app, "Softphone"), label + " main window") is not None,
          "the %s window is open" % label)

ok1 = create_account(first_app, "Office", "u1", "pw1", "first window")
ok2 = create_account(second_app, "Office", "u2", "pw2", "second window")
check(server.wait("server_registered", user="u1") is not None
      and server.wait("server_registered", user="u2") is not None,
      "both windows registered with the server, each from its own address")
screenshot("node-registered")

# Each window's files in its own --config-dir.
for d, user, label in ((FIRST_DIR, "u1", "first"), (second.dir, "u2", "second")):
    path = os.path.join(d, "accounts.ini")
    text = open(path, encoding="utf-8").read() if os.path.exists(path) else ""
    check("username=%s" % user in text or user in text,
          "the %s window saved its account in its --config-dir (%s)" % (label, path))
check(not os.path.exists(os.path.join(CONFIG_HOME, "softphone", "accounts.ini")),
      "nothing went to the XDG config directory")

if ok1 and ok2:
    show_page(first_app, "Calls")
    show_page(second_app, "Calls")
    entry = wait_for(lambda: find(first_app, "text", name="Number or address to call"), "entry")
    set_text(entry, "2")
    click(find(first_app, "push button", name="Call"))
    take = wait_for(lambda: find(second_app, "push button", prefix="Take the call"),
                    "Take the call in the second window", 30)
    if check(take is not None, "the second window rings: Take the call"):
        click(take)
        check(wait_for(lambda: in_call(first_app), "the first window In call", 30) is not None,
              "the caller's window says In call")
        check(wait_for(lambda: in_call(second_app), "the second window In call", 30) is not None,
              "the callee's window says In call")
        check(server.wait("server_call") is not None, "the call went through the server")
        screenshot("node-in-call")
        # The relay is on at 0.0.0.0: each window was told the server's
        # address on its route (loopback), never the wildcard or a window's.
        sdp = server.sent_sdp_addresses()
        print("note  SDP addresses the server sent: %s" % sdp, flush=True)
        check(sdp.get(FIRST) == {"127.0.0.1"} and sdp.get(SECOND) == {"127.0.0.1"},
              "both windows were told the relay's routed address (%s)" % sdp)
        time.sleep(2)
        row = in_call(first_app)
        hangup = find(row, "push button", prefix="Hangup") if row is not None else None
        if check(hangup is not None, "the caller's Hangup button"):
            click(hangup)
            check(wait_for(lambda: in_call(second_app) is None, "the callee's call to end", 20)
                  is True, "Hangup in one window ends the call in the other")
            check(server.wait("server_call_ended") is not None, "the server saw the call end")

second.stop()
server.stop()
sys.exit(1 if guitest.failures else 0)
