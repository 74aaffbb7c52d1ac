#!/usr/bin/python3
"""Presence load on our server (bench/bench-presence.sh): W watchers, each
subscribed (Event: presence, digest) to C contacts; every NOTIFY answered 200.

Phases, each bounded:
  setup   : REGISTER users u1..uN (so they are online), then the W x C
            SUBSCRIBEs (401, then with credentials), at most WINDOW in flight
  settle  : SETTLE_S seconds (35): the setup's transactions end
  steady  : STEADY_S seconds: nothing changes; NOTIFYs answered
  churn   : CHURN_S seconds: CHURN_RATE users a second go offline and back
            (REGISTER Expires: 0, then again): each change is one NOTIFY to
            every watcher of that user
Prints one line per phase start as "PHASE name t=..." (the shell script samples
the server's CPU between them) and counts at the end.

Why not SIPp: SIPp 3.6 computes the digest uri from -auth_uri (one for the
whole run) or the remote address, and our server accepts only credentials for
the request's own Request-URI; each contact is another Request-URI.
"""
import hashlib
import random
import re
import select
import socket
import sys
import time

SERVER = (sys.argv[1], int(sys.argv[2]))
USERS = int(sys.argv[3])
WATCHERS = int(sys.argv[4])
CONTACTS = int(sys.argv[5])
STEADY_S = float(sys.argv[6])
CHURN_S = float(sys.argv[7])
CHURN_RATE = float(sys.argv[8])
LOCAL = sys.argv[9] if len(sys.argv) > 9 else "127.0.0.60"
SETTLE_S = float(sys.argv[10]) if len(sys.argv) > 10 else 35
WINDOW = 200
DEADLINE = time.monotonic() + 600  # the whole run, whatever happens

socks = []
for w in range(WATCHERS):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((LOCAL, 0))
    s.setblocking(False)
    socks.append(s)
by_fd = {s.fileno(): i for i, s in enumerate(socks)}
poll = select.poll()
for s in socks:
    poll.register(s, select.POLLIN)

pending = {}  # call-id -> (watcher, target, method, cseq, extra)
stats = {"sub_ok": 0, "sub_fail": 0, "notify": 0, "reg_ok": 0, "other": 0}


def md5(*parts):
    return hashlib.md5(":".join(parts).encode()).hexdigest()


def send_request(w, method, target, call_id, cseq, extra="", ruri=None, user=None):
    s = socks[w]
    port = s.getsockname()[1]
    user = user or "u%d" % (w + 1)
    ruri = ruri or "sip:%s@%s:%d" % (target, SERVER[0], SERVER[1])
    msg = ("%s %s SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bK%x;rport\r\n"
           "From: <sip:%s@%s>;tag=w%d\r\nTo: <sip:%s@%s>\r\nCall-ID: %s\r\n"
           "CSeq: %d %s\r\nContact: <sip:%s@%s:%d>\r\nMax-Forwards: 70\r\n%s"
           "Content-Length: 0\r\n\r\n"
           % (method, ruri, LOCAL, port, random.getrandbits(48), user, SERVER[0], w, target,
              SERVER[0], call_id, cseq, method, user, LOCAL, port, extra))
    s.sendto(msg.encode(), SERVER)


def auth_header(headers, user, password, method, uri):
    for v in re.findall(r"^WWW-Authenticate: (.*)$", headers, re.M | re.I):
        if "MD5" in v:
            ch = dict(re.findall(r'(\w+)="?([^",]*)"?', v))
            cnonce = "%08x" % random.getrandbits(32)
            resp = md5(md5(user, ch["realm"], password), ch["nonce"], "00000001", cnonce, "auth",
                       md5(method, uri))
            return ('Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", '
                    'response="%s", algorithm=MD5, qop=auth, nc=00000001, cnonce="%s"\r\n'
                    % (user, ch["realm"], ch["nonce"], uri, resp, cnonce))
    return None


def answer(w, text):
    head = text.split("\r\n\r\n", 1)[0]
    lines = head.split("\r\n")
    keep = [l for l in lines[1:] if re.match(r"(?i)(via|from|to|call-id|cseq):", l)]
    socks[w].sendto(("SIP/2.0 200 OK\r\n" + "\r\n".join(keep) + "\r\nContent-Length: 0\r\n\r\n")
                    .encode(), SERVER)


def handle(w, data):
    text = data.decode(errors="replace")
    first = text.split("\r\n", 1)[0]
    if not first.startswith("SIP/2.0"):
        if first.startswith("NOTIFY"):
            stats["notify"] += 1
            answer(w, text)
        return
    status = int(first.split()[1])
    m = re.search(r"^Call-ID: (.*)$", text, re.M | re.I)
    call_id = m.group(1).strip() if m else ""
    p = pending.get(call_id)
    if p is None or status < 200:
        return
    pw, target, method, cseq, extra, ruri, user = p
    if status == 401:
        password = "pw%s" % user[1:]
        uri = ruri or "sip:%s@%s:%d" % (target, SERVER[0], SERVER[1])
        a = auth_header(text, user, password, method, uri)
        if a and cseq == 1:
            pending[call_id] = (pw, target, method, 2, extra, ruri, user)
            send_request(pw, method, target, call_id, 2, extra + a, ruri, user)
            return
    del pending[call_id]
    if method == "SUBSCRIBE":
        stats["sub_ok" if status == 200 else "sub_fail"] += 1
    elif method == "REGISTER" and status == 200:
        stats["reg_ok"] += 1
    else:
        stats["other"] += 1


def pump(timeout_ms):
    for fd, _ in poll.poll(timeout_ms):
        w = by_fd[fd]
        while True:
            try:
                data = socks[w].recv(65535)
            except BlockingIOError:
                break
            handle(w, data)


def start(w, method, target, extra="", ruri=None, user=None):
    call_id = "%s-%d-%s-%x" % (method[0], w, target, random.getrandbits(32))
    pending[call_id] = (w, target, method, 1, extra, ruri, user or "u%d" % (w + 1))
    send_request(w, method, target, call_id, 1, extra, ruri, user)


def register(u, expires):
    w = (u - 1) % WATCHERS
    start(w, "REGISTER", "u%d" % u, "Expires: %d\r\n" % expires,
          "sip:%s:%d" % SERVER, "u%d" % u)


def drain(limit_s):
    end = time.monotonic() + limit_s
    while pending and time.monotonic() < min(end, DEADLINE):
        pump(50)


def phase(name):
    print("PHASE %s t=%.3f" % (name, time.monotonic()), flush=True)


phase("setup")
for u in range(1, USERS + 1):
    register(u, 3600)
    if len(pending) >= WINDOW:
        drain(5)
drain(10)
jobs = [(w, "u%d" % (c + 1)) for c in range(CONTACTS) for w in range(WATCHERS)
        if c != w or CONTACTS < 2]
t0 = time.monotonic()
for w, target in jobs:
    while len(pending) >= WINDOW and time.monotonic() < DEADLINE:
        pump(20)
    start(w, "SUBSCRIBE", target, "Event: presence\r\nExpires: 3600\r\n"
          "Accept: application/pidf+xml\r\n")
    pump(0)
drain(20)
print("subscribed %d of %d in %.1f s (failed %d), %d NOTIFYs so far"
      % (stats["sub_ok"], len(jobs), time.monotonic() - t0, stats["sub_fail"], stats["notify"]),
      flush=True)
# Let the initial NOTIFYs finish and the setup's transactions end (the
# server keeps each non-INVITE server transaction 64*T1 = 32 s).
phase("settle")
end = time.monotonic() + SETTLE_S
while time.monotonic() < end:
    pump(50)

phase("steady")
n0 = stats["notify"]
end = time.monotonic() + STEADY_S
while time.monotonic() < end:
    pump(50)
print("steady: %d NOTIFYs in %.0f s" % (stats["notify"] - n0, STEADY_S), flush=True)

phase("churn")
n0 = stats["notify"]
end = time.monotonic() + CHURN_S
nxt = time.monotonic()
u = 0
while time.monotonic() < end:
    if time.monotonic() >= nxt:
        u = u % USERS + 1
        register(u, 0)
        register(u, 3600)
        nxt += 1.0 / CHURN_RATE
    pump(10)
print("churn: %d NOTIFYs in %.0f s (%.0f state changes)" % (stats["notify"] - n0, CHURN_S,
                                                            CHURN_S * CHURN_RATE * 2), flush=True)
phase("end")
print("stats %s" % stats, flush=True)
