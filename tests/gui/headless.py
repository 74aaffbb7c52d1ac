"""A headless instance of our own binary for the GUI tests: the other
end of a call, or a server. Its JSON events are read from its standard
output, its commands written to its standard input; it is stopped (by
PID, and waited for) when the test ends, even when a check raises.

    peer = Headless(SOFTPHONE, "127.0.77.3")              # phone on :5060
    peer = Headless(SOFTPHONE, "127.0.77.3", "--auto-answer=0", audio=True)
    server = Headless(SOFTPHONE, "0.0.0.0", "--server", "--log-sip", log=True)
"""

import atexit
import json
import os
import shutil
import struct
import subprocess
import tempfile
import threading
import wave

from guitest import check, wait_for


class Headless:
    """`softphone --headless --bind ADDRESS:PORT --config-dir DIR OPTIONS`.

    audio: sends a file of silence (a minute, looped) and records what it
    hears to `out_wav`, instead of the null device.
    log: its standard error (with `--log-sip`, the SIP it sends and
    receives) goes to the file `log`; else nowhere.
    ready: waits for its `ready` event (a check)."""

    def __init__(self, softphone, address, *options, port=5060, audio=False, log=False,
                 ready=False):
        self.address = address
        self.dir = tempfile.mkdtemp(prefix="softphone-headless.")
        self.events = []
        self.log = os.path.join(self.dir, "stderr.log") if log else None
        self.out_wav = None
        args = [softphone, "--headless", "--bind", "%s:%d" % (address, port),
                "--config-dir", self.dir]
        if audio:
            tone = os.path.join(self.dir, "in.wav")
            with wave.open(tone, "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(8000)
                w.writeframes(struct.pack("<h", 0) * 8000 * 60)
            self.out_wav = os.path.join(self.dir, "out.wav")
            args += ["--audio-in", tone, "--audio-out", self.out_wav]
        env = dict(os.environ)
        env.pop("DISPLAY", None)  # a headless phone needs no display
        err = open(self.log, "w") if log else subprocess.DEVNULL
        try:
            self.proc = subprocess.Popen(args + list(options), stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=err, text=True, env=env)
        finally:
            if log:
                err.close()
        threading.Thread(target=self._read, daemon=True).start()
        atexit.register(self.stop)  # even when a check raises
        if ready:
            check(self.wait("ready") is not None, "the headless instance on %s:%d is ready"
                  % (address, port))

    def _read(self):
        for line in self.proc.stdout:
            try:
                self.events.append(json.loads(line))
            except ValueError:
                pass

    def find(self, event, **match):
        """The first event of that name whose members match, or None."""
        return next((e for e in list(self.events) if e.get("event") == event
                     and all(e.get(k) == v for k, v in match.items())), None)

    def wait(self, event, timeout=15.0, **match):
        return wait_for(lambda: self.find(event, **match), "%s event %s" % (self.address, event),
                        timeout)

    def count(self, event):
        return sum(1 for e in list(self.events) if e.get("event") == event)

    def command(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def log_text(self):
        return open(self.log, errors="replace").read() if self.log else ""

    def stop(self):
        """SIGTERM (it hangs up and unregisters first), SIGKILL after 10 s;
        returns once it is gone. Its directory goes with it."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
