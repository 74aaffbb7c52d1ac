#!/usr/bin/python3
"""Every control of every page and dialog has a clean accessible name: not
empty, not a widget class ("GtkImage"), no mnemonic underscore ("_Call"),
not its label twice ("New account New"). Walks the window over AT-SPI as
a screen reader would: each page, the main menu, the account dialog, the
Add User dialog, the delete question, Preferences, Keyboard Shortcuts,
About, and the Calls page with an outgoing and an incoming call on it
(a headless instance of the same binary on 127.0.77.2 is the other end).

usage: test_a11y.py OUTDIR CONFIG_HOME SOFTPHONE"""

import sys
import time

import pyatspi

import guitest
from headless import Headless
from guitest import (app_node, check, check_clean_names, click, field_in, find, frame, on_screen,
                     screenshot, set_text, show_page, wait_for, walk)

OUTDIR, CONFIG_HOME, SOFTPHONE = sys.argv[1], sys.argv[2], sys.argv[3]
guitest.OUTDIR = OUTDIR
PEER = "127.0.77.2"


def toplevel(prefix):
    """A window of the app whose name starts with prefix, shown now."""
    for t in app:
        if t is not None and t.name.startswith(prefix) and on_screen(t):
            return t
    return None


def press(keysym):
    pyatspi.Registry.generateKeyboardEvent(keysym, None, pyatspi.KEY_SYM)


ESCAPE = 0xff1b


def close(window, title):
    """Closes a window with its own Close button, else Escape."""
    button = find(window, "push button", name="Close")
    if button is not None:
        click(button)
    else:
        press(ESCAPE)
    wait_for(lambda: toplevel(title) is None, title + " to close")


def open_main_menu():
    """The menu button's inner toggle is the one that acts."""
    button = next((n for n in walk(main) if n.getRoleName() in ("push button", "toggle button")
                   and n.name == "Main Menu" and guitest.is_actionable_item(n)), None)
    if check(button is not None, "the Main Menu button"):
        click(button)


def menu_item(label):
    open_main_menu()
    return wait_for(lambda: find(app, "menu item", contains=label), "menu item " + label)


app = wait_for(app_node, "the softphone application on the accessibility bus", 30)
if app is None:
    sys.exit(1)
main = wait_for(lambda: frame(app, "Softphone"), "the main window")
time.sleep(1)

# The pages, the dial pad open on the Calls page.
for title in ("Calls", "Accounts", "Server", "Log", "History"):
    show_page(app, title)
    if title == "Calls":
        click(find(app, "toggle button", prefix="Show dial pad")
              or find(app, "push button", prefix="Show dial pad"))
        wait_for(lambda: find(app, "push button", name="Dial 5"), "the dial pad")
    check_clean_names(main, "the %s page" % title)

# The main menu.
open_main_menu()
wait_for(lambda: find(app, "menu item", contains="Preferences"), "the main menu")
items = [n for n in walk(app) if n.getRoleName() == "menu item" and on_screen(n)]
check(len(items) >= 4, "the main menu's items are there (%d)" % len(items))
bad = [(n.name, guitest.name_problem(n)) for n in items if guitest.name_problem(n)]
check(not bad, "every item of the main menu has a clean accessible name %s" % bad)
press(ESCAPE)
time.sleep(0.5)

# Preferences, every group of it.
item = menu_item("Preferences")
click(item)
prefs = wait_for(lambda: toplevel("Preferences"), "the Preferences window")
if check(prefs is not None, "Preferences opens"):
    time.sleep(0.5)
    screenshot("a11y-preferences")
    check_clean_names(prefs, "Preferences")
    close(prefs, "Preferences")

# Keyboard shortcuts and About.
for label, title in (("Keyboard Shortcuts", "Keyboard Shortcuts"), ("About", "About")):
    item = menu_item(label)
    click(item)
    window = wait_for(lambda: toplevel(title), "the %s window" % title)
    if check(window is not None, label + " opens"):
        time.sleep(0.5)
        check_clean_names(window, "the %s window" % title)
        close(window, title)

# The account dialog, its Advanced part unfolded.
show_page(app, "Accounts")
click(find(app, "push button", prefix="New account"))
dialog = wait_for(lambda: frame(app, "New Account"), "the New Account dialog")
if check(dialog is not None, "New account opens the dialog"):
    advanced = next((n for n in walk(dialog) if "Advanced" in n.name
                     and guitest.is_actionable_item(n)), None)
    if advanced is not None:
        click(advanced)
        time.sleep(0.5)
    check_clean_names(dialog, "the account dialog")
    set_text(field_in(dialog, "Account"), "Office")
    set_text(field_in(dialog, "Username"), "u1")
    set_text(field_in(dialog, "Password"), "pw1")
    set_text(field_in(dialog, "Server"), "127.0.77.60")
    click(find(dialog, "push button", prefix="OK"))
    wait_for(lambda: frame(app, "New Account") is None, "the dialog to close")
wait_for(lambda: find(app, "push button", prefix="Edit account Office"), "the account row")
check_clean_names(main, "the Accounts page with an account")

# The delete question.
click(find(app, "push button", prefix="Delete account Office"))
question = wait_for(lambda: toplevel("Delete"), "the delete question")
if check(question is not None, "Delete asks first"):
    check_clean_names(question, "the delete question")
    click(find(question, "push button", prefix="Cancel"))
    wait_for(lambda: toplevel("Delete") is None, "the question to close")

# Add User on the Server page.
show_page(app, "Server")
click(find(app, "push button", prefix="Add user"))
adduser = wait_for(lambda: toplevel("Add User"), "the Add User dialog")
if check(adduser is not None, "Add user opens its dialog"):
    check_clean_names(adduser, "the Add User dialog")
    click(find(adduser, "push button", prefix="Cancel"))
    wait_for(lambda: toplevel("Add User") is None, "the Add User dialog to close")

# Calls: one we make (answered), one we get (ringing).
peer = Headless(SOFTPHONE, PEER)
if check(peer.wait("ready") is not None, "the peer is ready"):
    show_page(app, "Calls")
    set_text(find(app, "text", prefix="Number or address to call"), PEER)
    click(find(app, "push button", name="Call"))
    if peer.wait("incoming"):
        peer.command("answer")
        peer.wait("established")
    time.sleep(1)
    check_clean_names(main, "the Calls page in a call")
    peer.command("hangup")
    peer.wait("ended")
    peer.events.clear()
    peer.command("call 127.0.77.1")
    wait_for(lambda: find(app, "push button", prefix="Take the call"), "the incoming call")
    screenshot("a11y-incoming")
    check_clean_names(main, "the Calls page with a call coming in")
    peer.command("hangup")
    peer.wait("ended")
peer.stop()

print("%d failure(s)" % len(guitest.failures))
sys.exit(1 if guitest.failures else 0)
