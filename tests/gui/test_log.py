#!/usr/bin/python3
"""The Log page under load: more SIP datagrams than the phone's bounded log
holds arrive while the ladder is shown, arrows are selected and the
per-dialog filter changes. Evictions then remove rows at the front of the
list while one is selected and drawn; the app must stay up and keep
showing the selected message.

The datagrams are keep-alive OPTIONS, each with a Call-ID of its own as
peers send them, and a call comes and goes late in the flood: the Show
list must stay short (one entry for all the OPTIONS) and list the call.

usage: test_log.py OUTDIR CONFIG_HOME SOFTPHONE"""

import re
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
# The call comes this far into the flood: late enough that the log still
# holds it at the end (2 messages a datagram, 2000 kept).
CALL_AT = DATAGRAMS - 600
# "All messages", "OPTIONS outside calls", the call; one spare.
MAX_CHOICES = 4


def options(i):
    call_id = "keepalive-%d@127.0.77.9" % i
    return ("OPTIONS sip:127.0.77.1 SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.77.9:5070;branch=z9hG4bK-stress-%d\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:stress@127.0.77.9>;tag=s%d\r\n"
            "To: <sip:127.0.77.1>\r\n"
            "Call-ID: %s\r\n"
            "CSeq: 1 OPTIONS\r\n"
            "Content-Length: 0\r\n\r\n" % (i, i, call_id)).encode()


SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.77.9\r\ns=-\r\nc=IN IP4 127.0.77.9\r\n"
       "t=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")


def call_request(method, cseq_method=None, to_tag=""):
    """The late call: INVITE, then CANCEL, then the ACK of the 487."""
    body = SDP if method == "INVITE" else ""
    return ("%s sip:gui@127.0.77.1 SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.77.9:5070;branch=z9hG4bK-late-call\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:caller@127.0.77.9>;tag=late\r\n"
            "To: <sip:gui@127.0.77.1>%s\r\n"
            "Call-ID: late-call@127.0.77.9\r\n"
            "CSeq: 1 %s\r\n"
            "Contact: <sip:caller@127.0.77.9:5070>\r\n"
            "%s"
            "Content-Length: %d\r\n\r\n%s"
            % (method, to_tag, cseq_method or method,
               "Content-Type: application/sdp\r\n" if body else "", len(body), body)).encode()


def drain(sock, replies):
    try:
        while True:
            replies.append(sock.recv(65536).decode(errors="replace"))
    except BlockingIOError:
        pass


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


def choices(combo):
    """The Show list's choices, read from its open popover; closes it."""
    if not open_drop_down(combo):
        return None
    names = None
    for node in walk(combo):
        if node.getRoleName() in ("list", "list box", "table", "tree table") and node.childCount:
            names = [n.name for row in node for n in walk(row)
                     if n.getRoleName() == "label" and n.name]
            break
    pyatspi.Registry.generateKeyboardEvent(0xff1b, None, pyatspi.KEY_SYM)  # Escape
    time.sleep(0.3)
    if names is None:
        print("note  no list under the drop-down: %s"
              % [(n.getRoleName(), n.name) for n in walk(combo)], flush=True)
    return names


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
replies = []
for start in range(0, DATAGRAMS, BATCH):
    for i in range(start, min(start + BATCH, DATAGRAMS)):
        sock.sendto(options(i), GUI)
        drain(sock, replies)  # the replies, so the socket never fills
        if i == CALL_AT:
            sock.sendto(call_request("INVITE"), GUI)
            time.sleep(0.5)
            sock.sendto(call_request("CANCEL"), GUI)
            final = None
            for _ in range(50):  # up to 5 s for the 487
                time.sleep(0.1)
                drain(sock, replies)
                final = next((r for r in replies if "CSeq: 1 INVITE" in r
                              and re.match(r"SIP/2.0 [3-6]", r)), None)
                if final is not None:
                    break
            tag = re.search(r"^To:.*(;tag=[^;\r\n]+)", final or "", re.M)
            check(final is not None, "the late call was answered with a final response (%s)"
                  % (final or "none").split("\r\n")[0])
            sock.sendto(call_request("ACK", "ACK", tag.group(1) if tag else ""), GUI)
            replies.clear()
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
# An incoming call may have brought the Calls page forward.
show_page(app, "Log")
combo = find(app, "combo box", prefix="Messages to show")
names = choices(combo) if combo is not None else None
print("note  Show offers %s" % names, flush=True)
check(names is not None and len(names) <= MAX_CHOICES,
      "the Show list stays short after %d keep-alives (%s)"
      % (DATAGRAMS, len(names) if names is not None else "unreadable"))
check(names is not None and "OPTIONS outside calls" in names,
      "all keep-alives are one choice, OPTIONS outside calls")
check(names is not None and "Call with 127.0.77.9:5070" in names,
      "the call is still a choice of its own")
# The call's choice (the newest, last) shows its messages and no keep-alive.
if combo is not None and open_drop_down(combo):
    pyatspi.Registry.generateKeyboardEvent(0xff57, None, pyatspi.KEY_SYM)  # End
    pyatspi.Registry.generateKeyboardEvent(0xff0d, None, pyatspi.KEY_SYM)  # Return


def arrows():
    flow = find(app, "list", name="Call flow")
    return sorted({n.name for n in walk(flow) if n.getRoleName() == "image"}) if flow else []


shown = wait_for(lambda: (lambda a: a if a and "OPTIONS" not in a else None)(arrows()),
                 "the call's arrows alone")
print("note  the call shows %s" % shown, flush=True)
check(shown is not None and "INVITE SDP" in shown and "CANCEL" in shown,
      "choosing the call shows its INVITE and CANCEL and no OPTIONS")
# Back to all messages; the newest arrives last and can be selected.
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
