"""Interop harness: a private redis-server per test module, the task-worker binary, and helpers.

Run under a venv that has the RQ version under test (scripts/setup-python makes .venv-rq20, .venv-rq2
and .venv-rq3).
Every server listens on a free port on 127.0.0.1 and lives in a temp dir; nothing touches a
shared Redis.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import redis

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(os.environ.get("TASK_WORKER_BIN", ROOT / "target" / "debug" / "task-worker"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, timeout=15.0, interval=0.02, what="condition"):
    """Polls pred() until it returns a truthy value; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


class RedisServer:
    def __init__(self, *extra):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="tw-redis-")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir, *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"redis://127.0.0.1:{self.port}"
        wait_until(self._ping, what="redis-server")

    def _ping(self):
        """Up once it answers at all: a NOAUTH reply (--requirepass servers) counts as up."""
        try:
            return redis.Redis(port=self.port).ping()
        except (redis.exceptions.AuthenticationError, redis.exceptions.ResponseError):
            return True
        except redis.exceptions.ConnectionError:
            return False

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def redis_server():
    assert WORKER.exists(), f"build the worker first (cargo build): {WORKER}"
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture
def r(redis_server):
    """A bytes connection (as RQ needs) to a freshly emptied private Redis."""
    conn = redis.Redis(port=redis_server.port)
    conn.flushall()
    return conn


class Worker:
    """A task-worker process under test."""

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


@pytest.fixture
def start_worker(redis_server):
    """start_worker('-q', 'default', ...) -> Worker; stopped at the end of the test."""
    started = []

    def start(*args, env=None, binary=None):
        w = Worker(redis_server.url, *args, env=env, binary=binary)
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()


@pytest.fixture
def run_burst(redis_server):
    """Runs `task-worker --burst ARGS` to completion; returns the CompletedProcess."""

    def run(*args, timeout=60, env=None):
        full_env = dict(os.environ, **(env or {}))
        proc = subprocess.run([str(WORKER), "--redis-url", redis_server.url, "--burst", *args],
                              capture_output=True, text=True, timeout=timeout, env=full_env)
        assert proc.returncode == 0, proc.stderr[-4000:]
        return proc

    return run
