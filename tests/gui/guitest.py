"""Helpers for driving the Softphone window over AT-SPI (pyatspi), as a
person would: find widgets by role and accessible name, click, type, and
take screenshots. Scripts set OUTDIR first."""

import os
import re
import subprocess
import time

import gi

gi.require_version("Atspi", "2.0")
from gi.repository import Atspi, GLib  # noqa: E402
import pyatspi  # noqa: E402

# libatspi gives the app 0.8 s to answer each call (15 s while starting):
# under ASan with two GUI tests on two cores the app's main loop can be
# busy longer (a burst of SIP messages, a page being built), a call then
# fails as if the app had stopped answering, and a check outside wait_for
# fails with it. A stalled app still fails, after 10 s.
Atspi.set_timeout(10000, 30000)

OUTDIR = "."
failures = []


def check(condition, what):
    print(("ok    " if condition else "FAIL  ") + what, flush=True)
    if not condition:
        failures.append(what)
    return condition


def wait_for(fn, what, timeout=15.0):
    """Polls fn until it returns something true; bounded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = fn()
        except Exception:  # the tree changes under us while GTK rebuilds it
            result = None
        if result:
            return result
        time.sleep(0.2)
    check(False, "timed out waiting for " + what)
    return None


def app_node():
    for a in pyatspi.Registry.getDesktop(0):
        if a is not None and a.name == "softphone":
            return a
    return None


def walk(node, depth=0):
    if node is None or depth > 60:
        return
    yield node
    try:
        children = list(node)
    except Exception:  # removed while we walked (a call row gone): AT-SPI
        return         # says "the application no longer exists" for it
    for child in children:
        yield from walk(child, depth + 1)


def size(node):
    try:
        e = node.queryComponent().getExtents(pyatspi.WINDOW_COORDS)
        return e.width, e.height
    except Exception:
        return 0, 0


def on_screen(node):
    """GTK 4.8 says every widget is showing; one on a hidden page has no size."""
    w, h = size(node)
    return w > 0 and h > 0


def find(root, role, name=None, contains=None, visible=True, prefix=None):
    """GTK 4.8 names a widget by its accessible label followed by the text
    of what labels it, so "New account New": match a prefix when needed."""
    for n in walk(root):
        try:
            n_role, n_name = n.getRoleName(), n.name
        except Exception:  # removed while we walked
            continue
        if n_role != role:
            continue
        if name is not None and n_name != name:
            continue
        if prefix is not None and not n_name.startswith(prefix):
            continue
        if contains is not None and contains not in n_name:
            continue
        if visible and not on_screen(n):
            continue
        return n
    return None


def click(node):
    node.queryAction().doAction(0)


def text_of(node):
    t = node.queryText()
    return t.getText(0, t.characterCount)  # (0, -1) gives "" in at-spi2 2.46


def set_text(node, text):
    node.queryEditableText().setTextContents(text)


def field_in(dialog, label):
    for role in ("text", "password text", "combo box"):
        node = find(dialog, role, prefix=label)
        if node is not None:
            return node
    return None


def screenshot(name):
    path = os.path.join(OUTDIR, "gui-%s.png" % name)
    subprocess.run(["import", "-window", "root", path], check=False, timeout=20)
    check(os.path.exists(path) and os.path.getsize(path) > 1000, "screenshot " + path)


def frame(app, title):
    return find(app, "frame", name=title, visible=False)


def show_page(app, title):
    tab = wait_for(lambda: find(app, "page tab", name=title), "page tab " + title)
    if tab is not None:
        click(tab)
        time.sleep(0.8)  # the frame clock under Xvfb and ASan is slow
    return tab




CONTROL_ROLES = ("push button", "toggle button", "check box", "text", "password text",
                 "combo box", "spin button", "page tab", "menu item", "radio button", "slider",
                 "toggle switch", "switch")


def create_account(app, name, user, password, server, label):
    """The Yate way: Accounts, New, fill in, OK; then Registered."""
    show_page(app, "Accounts")
    new = wait_for(lambda: find(app, "push button", prefix="New account"), label + ": New account")
    if new is None:
        return False
    click(new)
    dialog = wait_for(lambda: frame(app, "New Account"), label + ": the New Account dialog")
    if dialog is None:
        return False
    set_text(field_in(dialog, "Account"), name)
    set_text(field_in(dialog, "Username"), user)
    set_text(field_in(dialog, "Password"), password)
    set_text(field_in(dialog, "Server"), server)
    click(find(dialog, "push button", contains="OK"))
    check(wait_for(lambda: frame(app, "New Account") is None, label + ": dialog closed") is True,
          label + ": OK closes the account dialog")
    return check(wait_for(lambda: find(app, "label", name="Registered"), label + ": Registered", 30)
                 is not None, label + ": the account shows Registered")


def check_named(root, where):
    """Every control a person can reach has an accessible name."""
    unnamed = [n.getRoleName() for n in walk(root)
               if n.getRoleName() in CONTROL_ROLES and on_screen(n) and not n.name.strip()]
    check(not unnamed, "every control on %s has an accessible name%s"
          % (where, (" (unnamed: %s)" % ", ".join(unnamed)) if unnamed else ""))


# What a screen reader says for a control must be a name a person would
# say: not empty, not a widget class, no mnemonic underscore, and not the
# label twice (GTK 4.8 joins an accessible label and the text of what
# labels the widget: "New account New").
NAMED_ROLES = ("push button", "toggle button", "check box", "text", "password text", "combo box",
               "spin button", "menu item", "check menu item", "radio menu item", "radio button",
               "toggle switch", "switch", "slider", "page tab", "link")


def _words(text):
    return [w.replace("_", "").casefold() for w in text.split()]


def repeats_itself(name):
    """Whether the name ends with words that it already said before them."""
    words = _words(name)
    for k in range(1, len(words) // 2 + 1):
        tail = words[-k:]
        head = words[:-k]
        if any(head[i:i + k] == tail for i in range(len(head) - k + 1)):
            return True
    return False


def name_problem(node):
    """Why node's accessible name is bad, or None."""
    name = node.name or ""
    if not name.strip():
        return "empty"
    if name.startswith("Gtk") or name.startswith("Adw"):
        return "a widget class"
    if re.search(r"_\w", name):  # "_Call", "I_mport…" (the test's own data has no "_")
        return "a mnemonic underscore"
    if repeats_itself(name):
        return "says its label twice"
    return None


def is_actionable_item(node):
    try:
        return node.queryAction().nActions > 0
    except NotImplementedError:
        return False


def bad_names(root, visible=True):
    """(role, name, problem) for each control under root whose name is bad."""
    found = []
    for n in walk(root):
        role = n.getRoleName()
        if role not in NAMED_ROLES and not (role == "list item" and is_actionable_item(n)):
            continue
        if visible and not on_screen(n):
            continue
        problem = name_problem(n)
        if problem is not None:
            found.append((role, n.name, problem))
    return found


def check_clean_names(root, where, visible=True):
    try:
        bad = bad_names(root, visible)
    except GLib.GError as e:
        # A row went away while the tree was walked (a call ending, a list
        # refreshing): walk the settled tree once more.
        print("# the tree changed while walked (%s): again" % e.message, flush=True)
        time.sleep(1)
        bad = bad_names(root, visible)
    check(not bad, "every control on %s has a clean accessible name%s" % (
        where, "".join("\n        %s %r: %s" % b for b in bad)))
    return bad
