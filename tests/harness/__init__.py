"""The test harness every Python suite shares (tests/interop, tests/repository, tests/sandbox,
tests/reliability, tests/deploy, tests/e2e).

`pytest.ini` at the repository's root puts `tests/` on `sys.path`, so a suite imports it as
`from harness import ...`; nothing is loaded from another suite's directory.

    harness               paths of the binaries, free_port, wait_until (standard library only:
                          tests/deploy's venv has no Redis client)
    harness.servers       RedisServer (a private redis-server on a free port; restartable with
                          persistence, stallable with SIGSTOP), Postgres (a private cluster)
    harness.sentinel      test certificates (openssl) and SentinelCluster: a master, a replica
                          and three sentinels with passwords, TLS on every link if asked
    harness.worker        Worker: a task-worker process under test, its log in a temp file
    harness.fixtures      pytest fixtures redis_server, r, start_worker, run_burst (a suite's
                          conftest imports the ones it wants, and may override redis_server)
    harness.api_double    ApiDouble: a test double of the backend API's result endpoints
"""
from __future__ import annotations

import os
import socket
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The binary under test: the debug build unless TASK_WORKER_BIN names another.
WORKER = Path(os.environ.get("TASK_WORKER_BIN", ROOT / "target" / "debug" / "task-worker"))
# The example of the rq-worker crate (crates/rq-worker/examples/custom_tasks.rs), built by
# `cargo build --workspace --examples` next to the debug binary.
EXAMPLE = Path(os.environ.get("TASK_WORKER_EXAMPLE",
                              ROOT / "target" / "debug" / "examples" / "custom_tasks"))
# A release build, where a test accepts one to go faster (tests/reliability/test_memory.py).
RELEASE_BIN = os.environ.get("TASK_WORKER_RELEASE_BIN") or None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, timeout: float = 15.0, what: str = "condition", interval: float = 0.02):
    """Polls pred() until it returns a truthy value, which is returned; fails the test after
    `timeout` seconds, naming `what` and the last value seen. A timeout is patience, not a
    bound under test: the wait ends as soon as the condition holds."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = pred()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what} (last: {last!r})")
        time.sleep(interval)
