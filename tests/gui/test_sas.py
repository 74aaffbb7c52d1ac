#!/usr/bin/python3
"""The four words of a DTLS-SRTP call in the window's call row (issue 16).

Between two Softphones a call is DTLS-SRTP with no setting. The window's
phone (127.0.77.1) calls a headless instance of our binary (127.0.77.3),
and is called by another (127.0.77.5): each time the call row shows
"End to end: W1 W2 W3 W4" with exactly the words the headless peer reports
in its `sas` event, the protection line says DTLS-SRTP and end to end, and
a "Words Match" button (a clean accessible name) marks the call verified:
the row then reads "End to end, verified: ..." and the button is gone.
A peer started with `--media-encryption off` (called, and calling) gets a
plain call: no words, no button, and the row says the audio is not
encrypted. So does the window's own policy: Preferences, Direct call
encryption, Off (chosen with the pointer), then a default peer (127.0.77.6)
called and calling.

usage: test_sas.py OUTDIR CONFIG_HOME SOFTPHONE"""

import os
import sys
import time

import guitest
from guitest import (app_node, check, check_clean_names, click, find, frame, screenshot,
                     set_text, show_page, wait_for, walk)
from headless import Headless
import pyatspi  # noqa: E402 (after guitest, which sets its timeouts)

OUTDIR, CONFIG_HOME, SOFTPHONE = sys.argv[1], sys.argv[2], sys.argv[3]
guitest.OUTDIR = OUTDIR
GUI_ADDRESS = "127.0.77.1"
WORDS_MATCH = "Words Match"


def labels(row):
    """The texts of the row's labels that are on screen."""
    return [n.name for n in walk(row) if n.getRoleName() == "label" and guitest.on_screen(n)]


def label_with(row, prefix):
    return next((t for t in labels(row) if t.startswith(prefix)), None)


def words_match_button(row):
    """The row's Words Match button while it is shown, or None."""
    return find(row, "push button", prefix="Words Match")


def in_call_row(name):
    return wait_for(lambda: find(app, "panel", name=name + ", In call"),
                    "the row of %s in call" % name, 30)


def hang_up(row, peer, what):
    hangup = find(row, "push button", prefix="Hangup") if row is not None else None
    if hangup is not None:
        click(hangup)
    else:
        peer.command("hangup")
    check(peer.wait("ended", 20) is not None, what + ": the call ends at the far end")
    wait_for(lambda: find(app, "label", name="No Calls"), "the call gone from the window", 30)


def label_node(row, prefix):
    return next((n for n in walk(row) if n.getRoleName() == "label" and guitest.on_screen(n)
                 and n.name.startswith(prefix)), None)


def check_words_readable(row, what):
    """The words are read aloud: they must stand on one or two lines, not
    one word per line squeezed beside the button. The protection line is
    the same caption font on one line."""
    words = label_node(row, "End to end: ")
    line = label_node(row, "DTLS-SRTP") or label_node(row, "TLS · DTLS")
    if not check(words is not None and line is not None, what + ": the words and protection"):
        return
    (_, words_h), (_, line_h) = guitest.size(words), guitest.size(line)
    check(0 < words_h <= 2 * line_h + 2,
          what + ": the words take at most two lines (%d px, a line %d px)" % (words_h, line_h))


def check_encrypted_row(row, peer, what):
    """The row of an established DTLS-SRTP call with @peer: its words, the
    protection line, Words Match, and after it the verified words."""
    sas = peer.wait("sas", 30)
    if not check(sas is not None and sas.get("sas"), what + ": the headless peer reports words "
                 "(%s)" % sas):
        return
    words = sas["sas"]
    check(len(words.split()) == 4, what + ": four words at the peer (%r)" % words)
    check("end-to-end" in sas.get("protection", []) and "dtls-srtp" in sas.get("protection", []),
          what + ": the peer's call is DTLS-SRTP end to end (%s)" % sas.get("protection"))
    shown = wait_for(lambda: label_with(row, "End to end: "), what + ": the words in the row", 20)
    check(shown == "End to end: " + words,
          what + ": the row shows the peer's words (%r, peer %r)" % (shown, words))
    protection = wait_for(lambda: label_with(row, "DTLS-SRTP") or label_with(row, "TLS · DTLS"),
                          what + ": the protection line", 10)
    check(protection is not None and "DTLS-SRTP" in protection and "End to end" in protection
          and "Verified" not in protection and "not encrypted" not in protection,
          what + ": the protection line says DTLS-SRTP, end to end (%r)" % protection)
    check_words_readable(row, what)
    button = wait_for(lambda: words_match_button(row), what + ": the Words Match button", 10)
    if not check(button is not None, what + ": a Words Match button is shown"):
        return
    check(button.name == WORDS_MATCH,
          what + ": its accessible name is %r (%r)" % (WORDS_MATCH, button.name))
    check_clean_names(row, what + ": the call row with words")
    screenshot("sas-" + what.replace(" ", "-"))

    click(button)
    verified = wait_for(lambda: label_with(row, "End to end, verified: "),
                        what + ": the verified words", 10)
    check(verified == "End to end, verified: " + words,
          what + ": Words Match marks the words verified (%r)" % verified)
    check(label_with(row, "End to end: ") is None, what + ": the unverified words are gone")
    check(wait_for(lambda: words_match_button(row) is None, what + ": the button to go", 10)
          is True, what + ": the Words Match button is hidden once pressed")
    protection = wait_for(lambda: next((t for t in labels(row) if "Verified" in t), None),
                          what + ": Verified in the protection line", 10)
    check(protection is not None and "DTLS-SRTP" in protection and "End to end" in protection,
          what + ": the protection line adds Verified (%r)" % protection)
    screenshot("sas-" + what.replace(" ", "-") + "-verified")


def check_plain_row(row, peer, what):
    """The row of an established call in the clear: no words, no button."""
    check(peer.wait("established", 20) is not None, what + ": the peer is in the call")
    protection = wait_for(lambda: label_with(row, "Audio not encrypted")
                          or label_with(row, "TLS · Audio not encrypted"),
                          what + ": the protection line", 20)
    check(protection is not None, what + ": the row says the audio is not encrypted (%r)"
          % labels(row))
    # Give a handshake that should not happen the time one takes.
    time.sleep(2)
    check(not any(t.startswith("End to end") for t in labels(row)),
          what + ": no words in the row (%r)" % labels(row))
    check(not any("DTLS" in t or "SRTP" in t for t in labels(row)),
          what + ": no SRTP claimed (%r)" % labels(row))
    check(words_match_button(row) is None, what + ": no Words Match button")
    check(peer.find("sas") is None, what + ": the peer has no words either")
    screenshot("sas-" + what.replace(" ", "-"))


app = wait_for(app_node, "the softphone application on the accessibility bus", 30)
if app is None:
    sys.exit(1)
check(wait_for(lambda: frame(app, "Softphone"), "the main window") is not None, "main window")
show_page(app, "Calls")
entry = wait_for(lambda: find(app, "text", name="Number or address to call"), "the call entry")


def call_from_window(address):
    set_text(entry, address)
    click(find(app, "push button", name="Call"))


# 1. The window calls a headless phone: DTLS-SRTP by default.
callee = Headless(SOFTPHONE, "127.0.77.3", "--auto-answer=0", ready=True)
try:
    call_from_window("127.0.77.3")
    row = in_call_row("127.0.77.3")
    if check(row is not None, "outgoing: the call is established"):
        check_encrypted_row(row, callee, "outgoing")
        hang_up(row, callee, "outgoing")
finally:
    callee.stop()

# 2. A headless phone calls the window, taken with Take the call.
caller = Headless(SOFTPHONE, "127.0.77.5", ready=True)
try:
    caller.command("call " + GUI_ADDRESS)
    take = wait_for(lambda: find(app, "push button", prefix="Take the call"), "Take the call", 20)
    if check(take is not None, "incoming: Take the call appears"):
        check(words_match_button(app) is None, "incoming: no Words Match before the call is taken")
        click(take)
        row = in_call_row("anonymous@127.0.77.5")
        if check(row is not None, "incoming: the call is established"):
            check_encrypted_row(row, caller, "incoming")
            hang_up(row, caller, "incoming")
finally:
    caller.stop()

# 3. The negative: a peer that never encrypts, called and calling.
plain = Headless(SOFTPHONE, "127.0.77.4", "--auto-answer=0", "--media-encryption", "off",
                 ready=True)
try:
    call_from_window("127.0.77.4")
    row = in_call_row("127.0.77.4")
    if check(row is not None, "plain outgoing: the call is established"):
        check_plain_row(row, plain, "plain outgoing")
        hang_up(row, plain, "plain outgoing")
    plain.events.clear()
    plain.command("call " + GUI_ADDRESS)
    take = wait_for(lambda: find(app, "push button", prefix="Take the call"), "Take the call", 20)
    if check(take is not None, "plain incoming: Take the call appears"):
        click(take)
        row = in_call_row("anonymous@127.0.77.4")
        if check(row is not None, "plain incoming: the call is established"):
            check_plain_row(row, plain, "plain incoming")
            hang_up(row, plain, "plain incoming")
finally:
    plain.stop()


def press(node):
    """A left click at the middle of node, on the screen."""
    e = node.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)
    pyatspi.Registry.generateMouseEvent(e.x + e.width // 2, e.y + e.height // 2, "b1c")
    time.sleep(0.5)


def scroll_into_view(window, node):
    w = window.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)
    for _ in range(40):  # bounded: the page is a few screens at most
        e = node.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)
        if e.y > w.y + 60 and e.y + e.height < w.y + w.height - 10:
            return True
        pyatspi.Registry.generateMouseEvent(w.x + w.width // 2, w.y + w.height // 2, "b5c")
        time.sleep(0.2)
    return False


def set_direct_encryption_off():
    """Preferences, Direct Call Encryption: Off, as a person chooses it."""
    menu = next((n for n in walk(app) if n.getRoleName() == "push button"
                 and n.name == "Main Menu" and n.queryAction().nActions > 0), None)
    if not check(menu is not None, "main menu button"):
        return False
    click(menu)
    item = wait_for(lambda: find(app, "menu item", name="Preferences"), "Preferences menu item")
    if item is None:
        return False
    click(item)
    prefs = wait_for(lambda: frame(app, "Preferences"), "the Preferences window")
    if not check(prefs is not None, "Preferences opens"):
        return False
    row = wait_for(lambda: find(prefs, "combo box", prefix="Direct call encryption"),
                   "the Direct call encryption row")
    keyfile = os.path.join(CONFIG_HOME, "glib-2.0", "settings", "keyfile")
    if check(row is not None, "Preferences has Direct call encryption"):
        # GTK 4.8's combo row has no AT-SPI action: the pointer, as a person,
        # the page scrolled with the wheel until the row is in the window.
        scroll_into_view(prefs, row)
        press(row)
        off = wait_for(lambda: next((n for n in walk(app) if n.getRoleName() == "label"
                                     and n.name == "Off" and guitest.on_screen(n)), None),
                       "Off in the open drop-down")
        if off is not None:
            press(off)
        check(wait_for(lambda: "media-encryption='off'" in open(keyfile).read(),
                       "media-encryption off in the settings") is True,
              "Direct call encryption: Off is saved")
        screenshot("sas-preferences-off")
    pyatspi.Registry.generateKeyboardEvent(0xff1b, None, pyatspi.KEY_SYM)  # Escape
    wait_for(lambda: frame(app, "Preferences") is None, "Preferences closed")
    return "media-encryption='off'" in open(keyfile).read()


# 4. The window's own policy off (Preferences): a default peer, called and
# calling, gets a plain call too.
if set_direct_encryption_off():
    peer = Headless(SOFTPHONE, "127.0.77.6", "--auto-answer=0", ready=True)
    try:
        call_from_window("127.0.77.6")
        row = in_call_row("127.0.77.6")
        if check(row is not None, "policy off outgoing: the call is established"):
            check_plain_row(row, peer, "policy off outgoing")
            hang_up(row, peer, "policy off outgoing")
        peer.events.clear()
        peer.command("call " + GUI_ADDRESS)
        take = wait_for(lambda: find(app, "push button", prefix="Take the call"), "Take the call",
                        20)
        if check(take is not None, "policy off incoming: Take the call appears"):
            click(take)
            row = in_call_row("anonymous@127.0.77.6")
            if check(row is not None, "policy off incoming: the call is established"):
                check_plain_row(row, peer, "policy off incoming")
                hang_up(row, peer, "policy off incoming")
    finally:
        peer.stop()

print("%d failure(s)" % len(guitest.failures))
sys.exit(1 if guitest.failures else 0)
