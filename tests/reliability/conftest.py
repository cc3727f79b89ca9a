"""Reliability suite harness (issue 9): faults injected into real redis-server and task-worker
processes. Reuses the interop helpers (free_port, wait_until, Worker) and adds a Redis server
that can be restarted with persistence on the same port and dir, or stalled with SIGSTOP.

Run once in CI with one RQ version (scripts/test uses .venv-rq3), with `-s` so that the counts
each test prints end up in the log; they are also appended to $RELIABILITY_SUMMARY if set.
"""
import pytest

from rel_helpers import WORKER, PersistentRedis, interop


@pytest.fixture
def redis_server():
    assert WORKER.exists(), f"build the worker first (cargo build): {WORKER}"
    server = PersistentRedis()
    yield server
    server.stop()


@pytest.fixture
def start_worker(redis_server):
    """start_worker('-q', 'default', ...) -> interop Worker; stopped (or killed) after the test."""
    started = []

    def start(*args, env=None):
        w = interop.Worker(redis_server.url, *args, env=env)
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()
