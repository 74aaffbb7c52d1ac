"""tshark on the loopback interface (or another one), shared by the integration tests.

A capture starts listening before the constructor returns (tshark says "Capturing on ..."), and
raises headless.Skip where tshark cannot run or cannot capture on lo. Read it once with one of the
readers below; each stops tshark first. close() always removes the file.
"""

import os
import shutil
import subprocess
import tempfile
import time

from headless import Skip

WAIT = 10


class Capture:
    def __init__(self, capture_filter, prefix="sp-pcap-", interface="lo"):
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.path = os.path.join(self.dir, "capture.pcap")
        try:
            self.proc = subprocess.Popen(["tshark", "-q", "-i", interface, "-f", capture_filter,
                                          "-w", self.path], stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE, text=True)
        except OSError as e:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise Skip("tshark cannot run: %s" % e)
        deadline = time.monotonic() + WAIT
        line = ""
        while time.monotonic() < deadline and "Capturing" not in line:
            line = self.proc.stderr.readline()
            if not line and self.proc.poll() is not None:
                self.close()
                raise Skip("tshark cannot capture on %s" % interface)
        time.sleep(0.3)

    def stop(self):
        """Let the last packets land, then stop tshark (once)."""
        if self.proc.poll() is None:
            time.sleep(0.5)
            self.proc.terminate()
            self.proc.wait(timeout=WAIT)

    def fields(self, display_filter, names):
        """One list of strings per packet that matches @display_filter: the fields @names."""
        self.stop()
        args = ["tshark", "-r", self.path, "-Y", display_filter, "-T", "fields",
                "-E", "separator=|"]
        for name in names:
            args += ["-e", name]
        out = subprocess.run(args, capture_output=True, text=True, timeout=30).stdout
        return [line.split("|") for line in out.splitlines()]

    def payloads(self, proto="tcp"):
        """The @proto ("tcp" or "udp") payloads captured, as bytes, in order."""
        key = "tcp.payload" if proto == "tcp" else "udp.payload"
        rows = self.fields("%s.len > 0" % proto if proto == "tcp" else "udp", [key])
        return [bytes.fromhex(r[0].replace(":", "").strip()) for r in rows if r[0].strip()]

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        shutil.rmtree(self.dir, ignore_errors=True)
