#!/usr/bin/python3
"""The installed softphone-server.service, run the way systemd runs it:
its Environment= lines, then an environment file, ${VAR} and $VAR in
ExecStart expanded as systemd expands them, as an unprivileged user (as
DynamicUser= gives it) with STATE_DIRECTORY a fresh 0700 directory of
that user's, standard input /dev/null.

Checks, in a network namespace of its own (run under `unshare --net`):
- it says ready on 0.0.0.0:5060 and serves the console on 127.0.0.1:8080;
- a user added through the console (POST /api/users) registers from
  another softphone, and the registration shows in /api/registrations;
- SIGTERM stops it with status 0 in time; users.conf is 0600 in the state
  directory, and after a restart the user is still there;
- the console on an address other than loopback: refused without an admin
  password, and with SOFTPHONE_ADMIN_PASSWORD in the environment file it
  asks for it (401, then 200 with Basic credentials checked against its hash), the password nowhere
  on the command line.

usage: service-run.py UNIT_FILE"""

import base64
import json
import os
import pwd
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

UNIT = sys.argv[1]
SOFTPHONE = "/usr/bin/softphone"
LAN_ADDR = "192.0.2.10"  # TEST-NET-1, on this namespace's loopback device
WAIT = 15
failures = []
procs = []


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def parse_unit(path):
    """[Service] settings: a list of (key, value), in order."""
    section, out = None, []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line
            elif section == "[Service]" and "=" in line:
                key, value = line.split("=", 1)
                out.append((key.strip(), value.strip()))
    return out


def parse_env_assignments(text):
    """Environment=A=1 B=2 (shell-like quoting, as systemd takes it)."""
    env = {}
    for word in shlex.split(text):
        key, _, value = word.partition("=")
        env[key] = value
    return env


def parse_env_file(path):
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and line[0] not in "#;" and "=" in line:
                key, value = line.split("=", 1)
                env[key.strip()] = " ".join(shlex.split(value)) if value.strip() else ""
    return env


def expand(exec_start, env):
    """systemd's rules: ${VAR} inside a word is replaced in place; a word
    that is just $VAR becomes the variable's words (none when empty)."""
    argv = []
    for word in shlex.split(exec_start):
        m = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", word)
        if m:
            argv.extend(env.get(m.group(1), "").split())
            continue
        argv.append(re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}",
                           lambda v: env.get(v.group(1), ""), word))
    return argv


class Service:
    """The unit's ExecStart with the unit's environment plus @env_file."""

    def __init__(self, settings, env_file, state_dir, user):
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
               "STATE_DIRECTORY": state_dir, "HOME": state_dir}
        for key, value in settings:
            if key == "Environment":
                env.update(parse_env_assignments(value))
            elif key == "EnvironmentFile" and env_file is not None:
                env.update(parse_env_file(env_file))
        exec_start = [v for k, v in settings if k == "ExecStart"][0]
        self.argv = expand(exec_start, env)
        self.log = tempfile.NamedTemporaryFile("w+", prefix="softphone-service.", suffix=".log")
        self.proc = subprocess.Popen(
            ["setpriv", "--reuid=%d" % user.pw_uid, "--regid=%d" % user.pw_gid,
             "--clear-groups", "--no-new-privs"] + self.argv,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.log,
            env=env, text=True, start_new_session=True)
        procs.append(self.proc)
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.buf = ""
        self.events = []

    def poll_events(self):
        try:
            chunk = self.proc.stdout.read()
        except (BlockingIOError, TypeError):
            chunk = None
        if chunk:
            self.buf += chunk
            while "\n" in self.buf:
                line, self.buf = self.buf.split("\n", 1)
                try:
                    self.events.append(json.loads(line))
                except ValueError:
                    self.events.append({"event": "unparsable", "line": line})

    def wait_event(self, name, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.poll_events()
            for e in self.events:
                if e.get("event") == name:
                    return e
            if self.proc.poll() is not None:
                self.poll_events()
                break
            time.sleep(0.05)
        return None

    def stderr(self):
        self.log.seek(0)
        return self.log.read()

    def stop(self, timeout=15):
        """SIGTERM, as systemctl stop sends; the exit status, or None when
        it had to be killed after @timeout (TimeoutStopSec)."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            return None


def http(method, url, body=None, auth=None, token=None):
    """(status, parsed JSON or text). @auth: (user, password), sent as HTTP
    Basic (the console checks it against a yescrypt hash); @token: the API
    token, sent as a Bearer credential (changes need one or the other)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if auth is not None:
        pair = base64.b64encode(("%s:%s" % auth).encode()).decode()
        req.add_header("Authorization", "Basic " + pair)
    elif token is not None:
        req.add_header("Authorization", "Bearer " + token)
    opener = urllib.request.build_opener()
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with opener.open(req, timeout=10) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode(errors="replace")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def phone_registers(user, password, server):
    """Another softphone registers as @user; its registered event or None."""
    cfg = tempfile.mkdtemp(prefix="softphone-phone.")
    proc = subprocess.Popen([SOFTPHONE, "--headless", "--bind", "127.0.0.2:0", "--config-dir", cfg,
                             "--account", "sip:%s@%s" % (user, server)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True,
                            env=dict(os.environ, SOFTPHONE_PASSWORD=password))
    procs.append(proc)
    result = None
    try:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            e = json.loads(line)
            if e.get("event") in ("registered", "registration_failed"):
                result = e
                break
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(cfg, ignore_errors=True)
    return result


def main():
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "addr", "add", LAN_ADDR + "/32", "dev", "lo"], check=True)
    settings = parse_unit(UNIT)
    user = pwd.getpwnam("nobody")
    top = tempfile.mkdtemp(prefix="softphone-service.")
    os.chmod(top, 0o711)  # as /var/lib is: the service's user reaches its own directory
    state = os.path.join(top, "softphone")
    os.mkdir(state, 0o700)
    os.chown(state, user.pw_uid, user.pw_gid)
    env_file = os.path.join(top, "softphone-server")
    open(env_file, "w").close()
    try:
        # The defaults: SIP on every address, the console on loopback.
        svc = Service(settings, env_file, state, user)
        ready = svc.wait_event("ready")
        if not check(ready is not None and ready.get("sip", "").endswith(":5060"),
                     "the service is ready on port 5060 (%s)" % ready):
            print(svc.stderr())
            return
        console = svc.wait_event("server_http")
        check(console is not None and "127.0.0.1:8080" in console.get("url", ""),
              "its console is on 127.0.0.1:8080 (%s)" % console)
        status, _ = http("POST", "http://127.0.0.1:8080/api/users",
                         {"name": "mallory", "number": "666", "password": "m-pw-1"})
        check(status == 401, "POST /api/users without a credential is refused (%s)" % status)
        token_file = (console or {}).get("token_file", "")
        token = open(token_file).read().strip() if os.path.exists(token_file) else None
        check(token is not None and os.path.dirname(token_file) == state and
              os.stat(token_file).st_mode & 0o777 == 0o600,
              "the API token is in STATE_DIRECTORY, mode 0600 (%s)" % token_file)
        status, body = http("POST", "http://127.0.0.1:8080/api/users",
                            {"name": "alice", "number": "201", "password": "alice-pw-1"},
                            token=token)
        check(status == 201, "POST /api/users with the token adds alice (%s %s)" % (status, body))
        reg = phone_registers("alice", "alice-pw-1", "127.0.0.1:5060")
        check(reg is not None and reg.get("event") == "registered" and reg.get("code") == 200,
              "a softphone registers as alice with the service (%s)" % reg)
        check(svc.wait_event("server_registered") is not None,
              "the service reports the registration on its standard output (the journal)")
        bad = phone_registers("alice", "wrong-password", "127.0.0.1:5060")
        check(bad is not None and bad.get("event") == "registration_failed",
              "a wrong password is refused (%s)" % bad)
        code = svc.stop()
        check(code == 0, "SIGTERM stops it with status 0 within TimeoutStopSec (%s)" % code)
        if "WARNING" in svc.stderr() or "CRITICAL" in svc.stderr():
            check(False, "the service logged no warning:\n" + svc.stderr())
        users = os.path.join(state, "users.conf")
        st = os.stat(users) if os.path.exists(users) else None
        check(st is not None and st.st_mode & 0o777 == 0o600 and st.st_uid == user.pw_uid,
              "users.conf is in STATE_DIRECTORY, the service user's, mode 0600")
        check(st is not None and "alice-pw-1" not in open(users).read(),
              "users.conf holds no clear-text password")

        svc = Service(settings, env_file, state, user)
        svc.wait_event("server_http")
        status, body = http("GET", "http://127.0.0.1:8080/api/users")
        names = [u.get("name") for u in body] if isinstance(body, list) else body
        check(status == 200 and "alice" in str(names),
              "after a restart alice is still a user (%s)" % names)
        svc.stop()

        # The console on a LAN address: an admin password is required...
        with open(env_file, "w") as f:
            f.write("SOFTPHONE_HTTP=%s:8080\n" % LAN_ADDR)
        svc = Service(settings, env_file, state, user)
        code = svc.proc.wait(timeout=WAIT)
        check(code == 1 and "admin password" in svc.stderr(),
              "on %s without an admin password it refuses to start (status %s)" % (LAN_ADDR, code))
        # ...and taken from the environment file, never from the command line.
        with open(env_file, "w") as f:
            f.write("SOFTPHONE_HTTP=%s:8080\nSOFTPHONE_ADMIN_PASSWORD=console-admin-pw\n"
                    % LAN_ADDR)
        svc = Service(settings, env_file, state, user)
        ready = svc.wait_event("server_http")
        check(ready is not None, "with SOFTPHONE_ADMIN_PASSWORD it serves on %s" % LAN_ADDR)
        url = "http://%s:8080/api/users" % LAN_ADDR
        status, _ = http("GET", url)
        check(status == 401, "the console asks for the admin password (%s)" % status)
        status, _ = http("GET", url, auth=("admin", "console-admin-pw"))
        check(status == 200, "and answers with it (%s)" % status)
        with open("/proc/%d/cmdline" % svc.proc.pid, "rb") as f:
            cmdline = f.read()
        check(b"console-admin-pw" not in cmdline, "the password is not on the command line")
        check(svc.stop() == 0, "it stops cleanly")
    finally:
        for p in procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    p.kill()
                p.wait()
        shutil.rmtree(top, ignore_errors=True)


main()
print("%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
