"""Pytest fixtures of the harness. A suite's conftest imports those it uses:

    from harness.fixtures import redis_server, r, start_worker, run_burst  # noqa: F401

and may define its own `redis_server` instead (start_worker and run_burst use whichever the
test sees)."""
from __future__ import annotations

import os
import subprocess

import pytest
import redis

from harness import WORKER
from harness.servers import RedisServer
from harness.worker import Worker


@pytest.fixture(scope="module")
def redis_server():
    """A private redis-server per test module."""
    assert WORKER.exists(), f"build the worker first (cargo build, or scripts/test <suite>): {WORKER}"
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture
def r(redis_server):
    """A bytes connection (as RQ needs) to a freshly emptied private Redis."""
    conn = redis.Redis(port=redis_server.port)
    conn.flushall()
    return conn


@pytest.fixture
def start_worker(redis_server):
    """start_worker('-q', 'default', ..., env=None, binary=None) -> Worker; stopped at the end
    of the test."""
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
