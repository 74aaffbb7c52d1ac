#!/usr/bin/python3
"""The Log page under load: more SIP datagrams than the phone's bounded log
holds arrive while the ladder is shown, arrows are selected and the
per-dialog filter changes. Evictions then remove rows at the front of the
list while one is selected and drawn; the app must stay up and keep
showing the selected message.

usage: test_log.py OUTDIR CONFIG_HOME SOFTPHONE"""

import socket
import sys
import time

import pyatspi

import guitest
from guitest import app_node, check, click, find, screenshot, show_page, text_of, wait_for, walk

OUTDIR = sys.argv[1]
guitest.OUTDIR = OUTDIR
GUI = ("127.0.77.1", 5060)
# More than the phone's log keeps (SIP_LOG_MAX_ENTRIES, 2000), replies
# included, so the oldest entries are evicted many times over.
DATAGRAMS = 2400
BATCH = 150
DIALOGS = 3


def options(i):
    call_id = "stress-%d@127.0.77.9" % (i % DIALOGS)
    return ("OPTIONS sip:127.0.77.1 SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.77.9:5070;branch=z9hG4bK-stress-%d\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:stress@127.0.77.9>;tag=s%d\r\n"
            "To: <sip:127.0.77.1>\r\n"
            "Call-ID: %s\r\n"
            "CSeq: %d OPTIONS\r\n"
            "Content-Length: 0\r\n\r\n" % (i, i % DIALOGS, call_id, i + 1)).encode()


def alive(app):
    try:
        return app.name == "softphone"
    except Exception:
        return False


def select_arrow(flow, which):
    """Selects a bound row of the ladder (first, last or middle); returns
    whether AT-SPI took it."""
    try:
        n = flow.childCount
        if n == 0:
            return False
        index = {"first": 0, "last": n - 1, "middle": n // 2}[which]
        return flow.querySelection().selectChild(index)
    except Exception:  # rows are recycled under us
        return False


def open_drop_down(combo):
    """GTK 4.8 puts the drop-down's action on its inner button."""
    for node in walk(combo):
        if "Action" in pyatspi.listInterfaces(node) and node.queryAction().nActions > 0:
            click(node)
            time.sleep(0.3)
            return True
    return False


def next_filter():
    """Opens the Show drop-down and moves one choice down, by keyboard."""
    combo = find(app, "combo box", prefix="Messages to show")
    if combo is None:
        return False
    before = combo.name
    if not open_drop_down(combo):
        return False
    pyatspi.Registry.generateKeyboardEvent(0xff54, None, pyatspi.KEY_SYM)  # Down
    pyatspi.Registry.generateKeyboardEvent(0xff0d, None, pyatspi.KEY_SYM)  # Return
    print("note  filter %r -> %r" % (before, combo.name), flush=True)
    return True


app = wait_for(app_node, "the softphone application on the accessibility bus", 30)
if app is None:
    sys.exit(1)
show_page(app, "Log")
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.77.9", 5070))
sock.setblocking(False)

flow = None
selected = 0
filters = 0
for start in range(0, DATAGRAMS, BATCH):
    for i in range(start, min(start + BATCH, DATAGRAMS)):
        sock.sendto(options(i), GUI)
        try:
            while True:
                sock.recv(65536)  # the replies, so the socket never fills
        except BlockingIOError:
            pass
        if i % 25 == 0:
            time.sleep(0.01)  # a burst, not a flood the kernel drops
    if flow is None:
        flow = wait_for(lambda: find(app, "list", name="Call flow"), "the ladder")
    if flow is not None:
        which = ("first", "last", "middle")[(start // BATCH) % 3]
        selected += select_arrow(flow, which)
    if (start // BATCH) % 4 == 3:
        filters += next_filter()
    if not check(alive(app), "the app is up after %d datagrams" % (start + BATCH)):
        break
sock.close()

check(selected >= DATAGRAMS // BATCH // 2,
      "arrows were selected while messages arrived (%d)" % selected)
check(filters > 0, "the per-dialog filter was switched (%d)" % filters)
# Back to all messages; the newest arrives last and can be selected.
combo = find(app, "combo box", prefix="Messages to show")
if combo is not None and open_drop_down(combo):
    pyatspi.Registry.generateKeyboardEvent(0xff50, None, pyatspi.KEY_SYM)  # Home
    pyatspi.Registry.generateKeyboardEvent(0xff0d, None, pyatspi.KEY_SYM)  # Return
raw = find(app, "text", prefix="Selected SIP message")
flow = wait_for(lambda: find(app, "list", name="Call flow"), "the ladder")
check(flow is not None and wait_for(lambda: select_arrow(flow, "middle"), "a selection") is True,
      "an arrow is selectable after the flood")
check(raw is not None and wait_for(lambda: text_of(raw).startswith(("OPTIONS sip:", "SIP/2.0 ")),
                                   "the raw message") is True,
      "the selected arrow's raw message shows")
screenshot("log-flood")
check(alive(app), "the app survived the flood")
print("%d failure(s)" % len(guitest.failures), flush=True)
sys.exit(1 if guitest.failures else 0)
