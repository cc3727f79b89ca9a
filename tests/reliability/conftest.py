"""Reliability suite (issue 9): faults injected into real redis-server and task-worker
processes. The shared harness (tests/harness) gives the worker process, wait_until and a Redis
server that can be restarted with persistence on the same port and dir, or stalled with SIGSTOP;
rel_helpers.py holds the suite's own helpers (report, statuses, rss_kb).

Run once, with one RQ version (`scripts/test reliability` uses .venv-rq3), with `-s` so that the
counts each test prints end up in the log; they are also appended to $RELIABILITY_SUMMARY if set.
"""
import pytest

from harness import WORKER
from harness.fixtures import start_worker  # noqa: F401
from harness.servers import RedisServer


@pytest.fixture
def redis_server():
    """A private redis-server with AOF on (restart() keeps its data), one per test."""
    assert WORKER.exists(), f"build the worker first (cargo build, or scripts/test reliability): {WORKER}"
    server = RedisServer(persistent=True)
    yield server
    server.stop()
