"""Private servers for the tests: each on a free port on 127.0.0.1, in a temp dir of its own;
nothing touches a shared server or a default port."""
from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from harness import free_port, wait_until

# The server binary every suite starts: Debian's redis-server, or another that speaks the same
# protocol and takes the same options (scripts/test runs the interop core with Valkey's
# `valkey-server` this way). With SERVER_KIND set, a server that reports another kind fails.
SERVER_BIN = os.environ.get("TASK_WORKER_REDIS_SERVER", "redis-server")
SERVER_KIND = os.environ.get("TASK_WORKER_REDIS_SERVER_KIND", "")


class RedisServer:
    """A private redis-server. `persistent=True` turns AOF on (fsync always), so that
    restart() brings the data back on the same port and dir; stall() freezes it with SIGSTOP.
    Extra arguments go to redis-server (e.g. "--requirepass", pw)."""

    def __init__(self, *extra, persistent=False):
        self.dir = tempfile.mkdtemp(prefix="tw-redis-")
        self.extra = list(extra)
        self.password = None
        if "--requirepass" in self.extra:
            self.password = self.extra[self.extra.index("--requirepass") + 1]
        if persistent:
            self.extra = ["--appendonly", "yes", "--appendfsync", "always", *self.extra]
        else:
            self.extra = ["--appendonly", "no", *self.extra]
        self.proc = None
        # A free port can be taken by another process (a suite running alongside, an outgoing
        # connection) before redis-server binds it: then it exits, and another port is tried.
        for attempt in range(5):
            self.port = free_port()
            self.url = f"redis://127.0.0.1:{self.port}"
            if self.start(must=attempt == 4):
                break

    def start(self, must=True):
        """Starts redis-server on self.port; True once it answers as this process. A server
        that exits first (its port was taken) fails the test when `must`, else gives False."""
        self.proc = subprocess.Popen(
            [SERVER_BIN, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--dir", self.dir, *self.extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: self.proc.poll() is not None or self._ours(), timeout=30,
                   what="redis-server")
        if self.proc.poll() is None:
            return True
        assert not must, f"redis-server on port {self.port} exited with {self.proc.returncode}"
        return False

    def _ours(self):
        """Up, and this process: the server on the port reports our pid (one still loading its
        AOF answers LOADING, not yet up)."""
        try:
            info = redis.Redis(port=self.port, password=self.password,
                               socket_timeout=5).info("server")
        except (redis.exceptions.ConnectionError, redis.exceptions.BusyLoadingError,
                redis.exceptions.TimeoutError):
            return False
        if info.get("process_id") != self.proc.pid:
            return False
        # Valkey answers INFO with its own `valkey_version` beside the `redis_version` it is
        # compatible with.
        if SERVER_KIND == "valkey":
            assert "valkey_version" in info, f"{SERVER_BIN} is not Valkey: {info.get('redis_version')}"
        return True

    def client(self):
        """A bytes connection (as RQ needs)."""
        return redis.Redis(port=self.port)

    def restart(self, down_for=2.0):
        """Graceful stop (SIGTERM: the AOF is complete), `down_for` seconds down, start again."""
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


def postgres_bin() -> Path | None:
    """The newest PostgreSQL's bin directory (Debian's layout), or None when none is installed."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: [
        int(x) if x.isdigit() else x for x in Path(p).parent.name.split(".")])
    return Path(bins[-1]) if bins else None


class Postgres:
    """A private PostgreSQL cluster with password auth (user `tw`, database `postgres`). With a
    uid/gid it runs as that user (initdb refuses root; tests/sandbox runs it as the worker's
    uid)."""

    def __init__(self, password, uid=None, gid=None):
        self.bin = postgres_bin()
        assert self.bin, "PostgreSQL is not installed (scripts/install-deps installs it)"
        self.uid, self.gid = uid, gid
        self.dir = Path(tempfile.mkdtemp(prefix="tw-pg-"))
        self.dir.chmod(0o755)
        (self.dir / "pw").write_text(password)
        if uid is not None:
            os.chown(self.dir, uid, gid)
            os.chown(self.dir / "pw", uid, gid)
        self.port = free_port()
        self.url = f"postgres://tw:{password}@127.0.0.1:{self.port}/postgres"
        self._run("initdb", "-D", str(self.dir / "data"), "-U", "tw", "--pwfile",
                  str(self.dir / "pw"), "-A", "scram-sha-256")
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-w", "-l", str(self.dir / "log"),
                  "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", "start")

    def _run(self, prog, *args):
        kw = {"user": self.uid, "group": self.gid, "extra_groups": []} if self.uid is not None else {}
        subprocess.run([str(self.bin / prog), *args], check=True, capture_output=True,
                       cwd=self.dir, timeout=120, **kw)

    def stop(self):
        try:
            self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
