"""A headless instance of the same binary as the other end of a GUI
test's calls: its JSON events read, its commands written; stopped (by
PID) when the test ends, even when a check raises."""

import atexit
import json
import os
import subprocess
import tempfile
import threading

from guitest import wait_for


class Peer:
    def __init__(self, softphone, address):
        self.dir = tempfile.mkdtemp(prefix="softphone-peer.")
        env = dict(os.environ)
        env.pop("DISPLAY", None)
        self.events = []
        self.proc = subprocess.Popen(
            [softphone, "--headless", "--bind", address + ":5060", "--config-dir", self.dir],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env=env)
        threading.Thread(target=self._read, daemon=True).start()
        atexit.register(self.stop)

    def _read(self):
        for line in self.proc.stdout:
            try:
                self.events.append(json.loads(line))
            except ValueError:
                pass

    def wait(self, event, timeout=15.0):
        return wait_for(lambda: next((e for e in self.events if e.get("event") == event), None),
                        "peer event " + event, timeout)

    def command(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
