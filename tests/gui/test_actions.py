#!/usr/bin/python3
"""Every user command is an action, and the actions are the door a script
takes too: this test drives the window only through org.gtk.Actions on
the session bus (the window's actions at /net/example/softphone/window/1,
the application's at /net/example/softphone) and checks over AT-SPI and
on disk that each did what its button does.

usage: test_actions.py OUTDIR CONFIG_HOME SOFTPHONE"""

import os
import sys

from gi.repository import Gio, GLib

import guitest
from guitest import app_node, check, find, frame, on_screen, screenshot, wait_for, walk

OUTDIR, CONFIG_HOME, SOFTPHONE = sys.argv[1], sys.argv[2], sys.argv[3]
guitest.OUTDIR = OUTDIR
APP_PATH = "/net/example/softphone"
WIN_PATH = APP_PATH + "/window/1"
ROUTES_CONF = os.path.join(CONFIG_HOME, "softphone", "routes.conf")

bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)


def actions(path):
    reply = bus.call_sync("net.example.softphone", path, "org.gtk.Actions", "List", None,
                          GLib.VariantType("(as)"), Gio.DBusCallFlags.NONE, 10000, None)
    return set(reply.unpack()[0])


def activate(path, name, parameter=None):
    params = [parameter] if parameter is not None else []
    bus.call_sync("net.example.softphone", path, "org.gtk.Actions", "Activate",
                  GLib.Variant("(sava{sv})", (name, params, {})), None,
                  Gio.DBusCallFlags.NONE, 10000, None)


def win(name, parameter=None):
    activate(WIN_PATH, name, parameter)


def route_rows():
    return [n.name for n in walk(app) if n.getRoleName() == "push button"
            and n.name.startswith("Remove route ") and on_screen(n)]


def shown(role, name):
    node = find(app, role, name=name)
    return node is not None and on_screen(node)


app = wait_for(app_node, "the softphone application on the accessibility bus", 30)
if app is None:
    sys.exit(1)
wait_for(lambda: frame(app, "Softphone"), "the main window")

names = wait_for(lambda: actions(WIN_PATH), "the window's actions on the bus")
check(names is not None and {"call", "dial", "show-page", "new-account", "edit-account",
                             "delete-account", "enable-account", "clear-log", "server-add-user",
                             "server-remove-user", "server-import", "route-add", "route-remove",
                             "route-move"} <= names,
      "the window's commands are actions on the bus (%s)" % sorted(names or []))
check({"hangup", "answer", "answer-call", "decline-call", "dial"} <= actions(APP_PATH),
      "the application's commands are actions on the bus")

# Pages: the Server page, made when first shown.
win("show-page", GLib.Variant("s", "server"))
check(wait_for(lambda: shown("text", "Server address and port"), "the Server page") is True,
      "win.show-page('server') shows the Server page")

# Routes: added, refused, moved and removed by action; the list and
# routes.conf follow.
win("route-add", GLib.Variant("s", "^5$=return;called=u5"))
win("route-add", GLib.Variant("s", "^6$=return;called=u6"))
check(wait_for(lambda: route_rows() == ["Remove route ^5$=return;called=u5",
                                        "Remove route ^6$=return;called=u6"], "two routes")
      is True, "win.route-add lists both rules in order (%s)" % route_rows())
up = find(app, "push button", name="Move up route ^5$=return;called=u5")
check(up is not None and not up.getState().contains(guitest.pyatspi.STATE_SENSITIVE),
      "the first rule cannot move up")
win("route-add", GLib.Variant("s", "^7$"))
check(wait_for(lambda: find(app, "label", prefix="This rule was not added"), "the inline error")
      is not None, "a bad rule is refused under the entry")
check(len(route_rows()) == 2, "the bad rule is not listed")
win("route-move", GLib.Variant("(si)", ("^6$=return;called=u6", -1)))
check(wait_for(lambda: route_rows()[:1] == ["Remove route ^6$=return;called=u6"], "moved up")
      is True, "win.route-move(('^6$…', -1)) puts the second rule first")
up = find(app, "push button", name="Move up route ^5$=return;called=u5")
check(up is not None and up.getState().contains(guitest.pyatspi.STATE_SENSITIVE),
      "the rule that is no longer first can move up")
saved = open(ROUTES_CONF).read() if os.path.exists(ROUTES_CONF) else ""
check(saved.find("^6$") >= 0 and saved.find("^6$") < saved.find("^5$"),
      "routes.conf holds the new order")
screenshot("actions-routes")
win("route-remove", GLib.Variant("s", "^6$=return;called=u6"))
win("route-remove", GLib.Variant("s", "^5$=return;called=u5"))
check(wait_for(lambda: not route_rows(), "routes removed") is True, "win.route-remove empties the list")
check("^5$" not in open(ROUTES_CONF).read(), "routes.conf without the removed rules")

# Users: the dialog opens from the action and adds u9; the user removed
# by action leaves the list and the users file.
def toplevel(prefix):
    for t in app:
        if t is not None and t.name.startswith(prefix) and on_screen(t):
            return t
    return None


USERS_CONF = os.path.join(CONFIG_HOME, "softphone", "users.conf")
win("server-add-user")
dialog = wait_for(lambda: toplevel("Add User"), "the Add User dialog")
if check(dialog is not None, "win.server-add-user opens the Add User dialog"):
    guitest.set_text(find(dialog, "text", name="User name"), "u9")
    guitest.set_text(find(dialog, "text", name="Number"), "9")
    guitest.set_text(find(dialog, "password text", name="Password"), "pw9")
    guitest.click(find(dialog, "push button", prefix="Add"))
    check(wait_for(lambda: find(app, "push button", name="Remove user u9"), "u9 listed")
          is not None, "the user added in the dialog is listed")
    check(wait_for(lambda: os.path.exists(USERS_CONF) and "u9" in open(USERS_CONF).read(),
                   "users.conf") is True, "users.conf holds u9")
    win("server-remove-user", GLib.Variant("s", "u9"))
    check(wait_for(lambda: find(app, "push button", name="Remove user u9") is None, "u9 gone")
          is True, "win.server-remove-user('u9') takes the row away")
    check("u9" not in open(USERS_CONF).read(), "users.conf without u9")

# A call by action: win.dial to an address where nothing listens; the
# call ends and the History page lists it with its Call back button.
win("dial", GLib.Variant("s", "127.0.77.250"))
win("show-page", GLib.Variant("s", "history"))
check(wait_for(lambda: find(app, "push button", prefix="Call back 127.0.77.250"), "the history row",
               40) is not None, "the ended call is in the History page's list")
screenshot("actions-history")

sys.exit(1 if guitest.failures else 0)
