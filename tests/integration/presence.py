#!/usr/bin/python3
"""Directory and presence through the mini-server (issue 17): SUBSCRIBE/NOTIFY
(RFC 6665) with the presence (RFC 3856) and dialog (RFC 4235) packages and the
directory as a resource list (RFC 4662).

The server on 127.0.0.50 with users u1, u2, u3; phone A (u1, ours, headless) on
127.0.0.183 subscribes; B (u2) on 127.0.0.101 and C (u3) on 127.0.0.102; raw UDP
peers on 127.0.0.60-69; SIPp on 127.0.0.70; baresip on 127.0.0.80.

Usage: presence.py SOFTPHONE [TEST...]   (prints TAP)
Every wait is bounded; only the processes started here are killed, by PID.
"""
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import headless  # noqa: E402
import server  # noqa: E402
from headless import Instance, Skip  # noqa: E402
from server import (SERVER, U1, U2, U3, RawSip, Server, authorization, cleanup,  # noqa: E402
                    md5_challenge, phone, raw_register)

SIPP_ADDR = "127.0.0.70"
BARESIP_ADDR = "127.0.0.80"
FAST = 1.0  # seconds: a state change reaches the watcher within this


def contact_state(a, number, state, timeout=headless.WAIT):
    return a.wait("contact", timeout=timeout, number=number, state=state)


def timed_state(a, number, state, since):
    """The contact event, and that it came within FAST of @since (the change,
    as the test saw it; an event already queued counts as at once)."""
    contact_state(a, number, state)
    took = time.monotonic() - since
    assert took < FAST, "%s went %s after %.2f s" % (number, state, took)
    return took


def watcher(extra=()):
    a = phone("a", U1, "u1", "p1", extra)
    a.wait("registered")
    a.send("subscribe")
    return a


def test_directory_and_states():
    """A sees the directory, then B available, ringing, in a call, available
    again (each within a second of the change), and offline after B
    unregisters."""
    srv = a = b = c = None
    try:
        srv = Server("srv")
        b = phone("b", U2, "u2", "p2")
        b.wait("registered")
        c = phone("c", U3, "u3", "p3")
        c.wait("registered")
        a = watcher()
        d = a.wait("directory")
        numbers = sorted(x["number"] for x in d["contacts"])
        assert numbers == ["u2", "u3"], d
        contact_state(a, "u2", "available")
        contact_state(a, "u3", "available")
        c.send("call 2")
        try:
            b.wait("incoming")
        except AssertionError:
            print("# c: %s\n# srv: %s" % (c.seen[-6:], srv.full_log()[:6000]))
            raise
        timed_state(a, "u2", "ringing", time.monotonic())
        # The caller is on the phone while it rings elsewhere.
        contact_state(a, "u3", "in-call")
        b.send("answer")
        b.wait("established")
        timed_state(a, "u2", "in-call", time.monotonic())
        c.send("hangup")
        b.wait("ended")
        timed_state(a, "u2", "available", time.monotonic())
        contact_state(a, "u3", "available")
        b.send("unregister")
        srv.wait("server_unregistered", user="u2")
        timed_state(a, "u2", "offline", time.monotonic())
        a.quit()
    finally:
        cleanup(a, b, c, srv)


def test_do_not_disturb():
    """B's do-not-disturb reaches the server by PUBLISH (RFC 3903): A sees
    B "dnd", then "available" again when B turns it off; B registering
    again with it on publishes it again."""
    srv = a = b = None
    try:
        srv = Server("srv")
        b = phone("b", U2, "u2", "p2")
        b.wait("registered")
        a = watcher()
        contact_state(a, "u2", "available")
        b.send("dnd on")
        timed_state(a, "u2", "dnd", time.monotonic())
        b.send("dnd off")
        timed_state(a, "u2", "available", time.monotonic())
        b.send("dnd on")
        contact_state(a, "u2", "dnd")
        b.send("unregister")
        contact_state(a, "u2", "offline")
        b.send("register")
        b.wait("registered")
        contact_state(a, "u2", "dnd")
        a.quit()
    finally:
        cleanup(a, b, srv)


def test_expiry_goes_offline():
    """A registration that runs out (no unregister) shows offline."""
    srv = a = raw = None
    try:
        srv = Server("srv", extra=["--server-option", "min-expires=2"])
        raw = RawSip("127.0.0.60")
        status, _ = raw_register(raw, "u2", "p2", expires=3)
        assert status == 200, status
        a = watcher()
        contact_state(a, "u2", "available")
        # Expiry plus the registrar's purge interval (5 s).
        contact_state(a, "u2", "offline", timeout=12)
        a.quit()
    finally:
        cleanup(a, raw, srv)


def test_server_restart_resubscribes():
    """The server stops (watchers told "deactivated") and starts again: A
    subscribes again by itself and sees B's state."""
    srv = a = b = None
    tmp = tempfile.mkdtemp(prefix="sp-presence-")
    try:
        srv = Server("srv")
        b = phone("b", U2, "u2", "p2")
        b.wait("registered")
        a = watcher()
        contact_state(a, "u2", "available")
        srv.close()
        srv = Server("srv2")
        # A new server (a new state directory): B is not registered there.
        # A's next registration finds its subscriptions gone and makes them
        # again, and learns that.
        a.send("register")
        a.wait("registered")
        contact_state(a, "u2", "offline", timeout=15)
        b.send("register")
        b.wait("registered")
        timed_state(a, "u2", "available", time.monotonic())
        a.quit()
    finally:
        cleanup(a, b, srv)
        shutil.rmtree(tmp, ignore_errors=True)


class RawWatcher(RawSip):
    """SUBSCRIBE by hand: what our phone would never send."""

    def subscribe(self, user, target, event, extra="", call_id=None, password=None,
                  expires=600):
        call_id = call_id or "sub-%d@%s" % (random.getrandbits(30), self.addr)
        uri = "sip:%s@%s" % (target, SERVER)
        hdr = "Event: %s\n%s%s" % (event, "Expires: %d\n" % expires if expires else "", extra)
        self.request("SUBSCRIBE", uri, user, target, call_id, 1, hdr)
        status, headers, text = self.response()
        if status != 401 or password is None:
            return status, headers, text
        auth = authorization(md5_challenge(headers), user, password, "SUBSCRIBE", uri)
        self.request("SUBSCRIBE", uri, user, target, call_id, 2, hdr + auth)
        return self.response()


def test_subscribe_needs_credentials():
    """A stranger's SUBSCRIBE is challenged (401) and a wrong password refused;
    unknown packages get 489, a too short Expires 423 with Min-Expires."""
    srv = raw = None
    try:
        srv = Server("srv")
        raw = RawWatcher("127.0.0.61")
        status, headers, _ = raw.subscribe("u1", "u2", "presence")
        assert status == 401, status
        status, _, _ = raw.subscribe("u1", "u2", "presence", password="wrong")
        assert status == 403, status
        status, headers, _ = raw.subscribe("u1", "u2", "message-summary", password="p1")
        assert status == 489, status
        assert any(n == "allow-events" and "presence" in v for n, v in headers), headers
        status, headers, _ = raw.subscribe("u1", "u2", "presence", password="p1",
                                           extra="Expires: 5\n", expires=None)
        assert status == 423, status
        assert ("min-expires", "60") in headers, headers
    finally:
        cleanup(raw, srv)


def sipp_binary():
    path = shutil.which("sipp")
    if path is None:
        raise Skip("sipp not installed")
    return path


def test_sipp_dialog_package():
    """SIPp subscribes to u2's dialog package (digest), gets the NOTIFYs with
    dialog-info+xml: none while idle, early/recipient while C rings B,
    confirmed when B answers, none again after the hang-up."""
    sipp = sipp_binary()
    srv = b = c = None
    scen = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sipp",
                        "subscribe-dialog.xml")
    tmp = tempfile.mkdtemp(prefix="sp-sipp-presence-")
    proc = None
    try:
        srv = Server("srv")
        b = phone("b", U2, "u2", "p2")
        b.wait("registered")
        c = phone("c", U3, "u3", "p3")
        c.wait("registered")
        auth = os.path.join(tmp, "users.csv")
        with open(auth, "w") as f:
            f.write("SEQUENTIAL\nu1;[authentication username=u1 password=p1];u2;\n")
        proc = subprocess.Popen(
            [sipp, SERVER + ":5060", "-sf", scen, "-inf", auth, "-i", SIPP_ADDR, "-p", "5070",
             "-auth_uri", "u2@%s:5060" % SERVER, "-m", "1", "-timeout", "30", "-timeout_error", "-trace_msg", "-trace_err",
             "-nostdin"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp)
        time.sleep(1.5)  # subscribed and the idle NOTIFY taken
        c.send("call 2")
        b.wait("incoming")
        time.sleep(0.5)
        b.send("answer")
        b.wait("established")
        time.sleep(0.5)
        c.send("hangup")
        b.wait("ended")
        try:
            _, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError("sipp did not finish")
        messages = ""
        for name in os.listdir(tmp):
            if name.endswith("messages.log") or name.endswith("_messages.log"):
                with open(os.path.join(tmp, name), errors="replace") as f:
                    messages += f.read()
        assert proc.returncode == 0, "sipp failed (%d): %s\n%s" % (
            proc.returncode, err.decode(errors="replace")[-2000:],
            messages[-4000:] + "".join(open(os.path.join(tmp, n), errors="replace").read()
                                       for n in os.listdir(tmp) if n.endswith("errors.log")))
        bodies = re.findall(r"<dialog-info.*?</dialog-info>", messages, re.S)
        states = [re.findall(r"<state>(\w+)</state>", x) for x in bodies]
        assert any(s == ["early"] for s in states), states
        assert any(s == ["confirmed"] for s in states), states
        assert 'direction="recipient"' in messages
        assert states[-1] == [], states
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        cleanup(b, c, srv)
        shutil.rmtree(tmp, ignore_errors=True)


BARESIP = shutil.which("baresip") or "/usr/bin/baresip"


class Baresip:
    """baresip 1.0 as u1 with its presence module watching u2 (contact with
    presence=p2p, subscribed through u1's server); "/contacts" on its stdin
    prints each contact's status."""

    def __init__(self, tmp):
        if not os.access(BARESIP, os.X_OK):
            raise Skip("baresip is not installed")
        if not os.path.exists("/usr/lib/baresip/modules/presence.so"):
            raise Skip("baresip has no presence module")
        config = ["poll_method epoll", "sip_listen %s:5060" % BARESIP_ADDR, "sip_trans_def udp",
                  "module_path /usr/lib/baresip/modules", "module g711.so", "module stdio.so",
                  "module_app account.so", "module_app contact.so", "module_app presence.so",
                  "module_app menu.so"]
        with open(os.path.join(tmp, "config"), "w") as f:
            f.write("\n".join(config) + "\n")
        with open(os.path.join(tmp, "accounts"), "w") as f:
            f.write("<sip:u1@%s>;auth_pass=p1;regint=600\n" % SERVER)
        with open(os.path.join(tmp, "contacts"), "w") as f:
            f.write('"Bob" <sip:u2@%s>;presence=p2p\n' % SERVER)
        self.log_path = os.path.join(tmp, "baresip.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([BARESIP, "-f", tmp, "-n", BARESIP_ADDR],
                                     stdin=subprocess.PIPE, stdout=self.log,
                                     stderr=subprocess.STDOUT)

    def status_of_bob(self, want, timeout=10):
        """Asks "/contacts" until Bob's status is @want."""
        deadline = time.monotonic() + timeout
        seen = None
        while time.monotonic() < deadline:
            self.proc.stdin.write(b"/contacts\n")
            self.proc.stdin.flush()
            time.sleep(0.5)
            with open(self.log_path, errors="replace") as f:
                text = re.sub(r"\x1b\[[0-9;]*m", "", f.read())
            found = re.findall(r"(\w+) Bob <sip:u2@", text)
            seen = found[-1] if found else None
            if seen == want:
                return
        raise AssertionError("baresip shows Bob %r, not %r" % (seen, want))

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.log.close()


def test_baresip_presence():
    """baresip's presence module (Debian's baresip 1.0) subscribes to u2
    through our server: Online while u2 is registered, Busy while u2 is in a
    call, Offline after u2 unregisters."""
    srv = b = c = bs = None
    tmp = tempfile.mkdtemp(prefix="sp-presence-baresip-")
    try:
        srv = Server("srv")
        b = phone("b", U2, "u2", "p2")
        b.wait("registered")
        c = phone("c", U3, "u3", "p3")
        c.wait("registered")
        bs = Baresip(tmp)
        bs.status_of_bob("Online")
        c.send("call 2")
        b.wait("incoming")
        b.send("answer")
        b.wait("established")
        bs.status_of_bob("Busy")
        c.send("hangup")
        b.wait("ended")
        bs.status_of_bob("Online")
        b.send("unregister")
        srv.wait("server_unregistered", user="u2")
        bs.status_of_bob("Offline")
    finally:
        cleanup(bs, b, c, srv)
        shutil.rmtree(tmp, ignore_errors=True)


TESTS = {
    "directory-and-states": test_directory_and_states,
    "do-not-disturb": test_do_not_disturb,
    "expiry-goes-offline": test_expiry_goes_offline,
    "subscribe-needs-credentials": test_subscribe_needs_credentials,
    "server-restart-resubscribes": test_server_restart_resubscribes,
    "sipp-dialog-package": test_sipp_dialog_package,
    "baresip-presence": test_baresip_presence,
}


def main():
    headless.SOFTPHONE = sys.argv[1]
    return headless.run_tap(TESTS, sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
