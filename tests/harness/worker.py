"""A task-worker process under test."""
from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from pathlib import Path

from harness import WORKER


class Worker:
    """`task-worker --redis-url URL ARGS` (or another binary built on rq-worker), its output in
    a temp file (output()); stop() ends it with SIGTERM, then SIGKILL after 30 s."""

    def __init__(self, url, *args, env=None, binary=None):
        self.log = tempfile.NamedTemporaryFile(prefix="tw-worker-", suffix=".log", delete=False)
        full_env = dict(os.environ, RUST_LOG=os.environ.get("RUST_LOG", "info"), **(env or {}))
        self.proc = subprocess.Popen([str(binary or WORKER), "--redis-url", url, *args],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=full_env)

    def signal(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)

    def wait(self, timeout=30):
        return self.proc.wait(timeout)

    def output(self):
        return Path(self.log.name).read_text(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
