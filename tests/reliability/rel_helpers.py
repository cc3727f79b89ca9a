"""Helpers shared by the reliability tests (imported by conftest.py and the tests)."""
import importlib.util
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import redis

_spec = importlib.util.spec_from_file_location(
    "interop_helpers", Path(__file__).resolve().parents[1] / "interop" / "conftest.py")
interop = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(interop)

free_port = interop.free_port
wait_until = interop.wait_until
WORKER = interop.WORKER


def report(test, **counts):
    """Prints one summary line (pytest -s) and appends it to $RELIABILITY_SUMMARY."""
    line = f"RELIABILITY {test}: " + " ".join(f"{k}={v}" for k, v in counts.items())
    print("\n" + line, flush=True)
    path = os.environ.get("RELIABILITY_SUMMARY")
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")


class PersistentRedis:
    """A private redis-server with AOF on; restart() keeps its port and data dir."""

    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="tw-rel-redis-")
        self.url = f"redis://127.0.0.1:{self.port}"
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--dir", self.dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self._ping, timeout=30, what="redis-server")

    def _ping(self):
        try:
            return redis.Redis(port=self.port).ping()
        except redis.exceptions.ConnectionError:
            return False
        except redis.exceptions.BusyLoadingError:
            return False

    def client(self):
        return redis.Redis(port=self.port)

    def restart(self, down_for=2.0):
        """Graceful stop (SIGTERM: the AOF is complete), some time down, start again."""
        self.proc.terminate()
        self.proc.wait(30)
        time.sleep(down_for)
        self.start()

    def stall(self, seconds):
        """SIGSTOP for `seconds`, then SIGCONT: the server keeps its sockets but answers nothing."""
        self.proc.send_signal(signal.SIGSTOP)
        try:
            time.sleep(seconds)
        finally:
            self.proc.send_signal(signal.SIGCONT)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            self.proc.wait(30)
        shutil.rmtree(self.dir, ignore_errors=True)


def rss_kb(pid):
    """VmRSS of a process, in kB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


def statuses(r, ids, chunk=5000):
    """The `status` field of each job hash (None when the hash is gone)."""
    out = []
    for i in range(0, len(ids), chunk):
        p = r.pipeline(transaction=False)
        for jid in ids[i:i + chunk]:
            p.hget(f"rq:job:{jid}", "status")
        out.extend(s.decode() if s else None for s in p.execute())
    return out
