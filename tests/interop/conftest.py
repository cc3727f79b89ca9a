"""Interop suite: task-worker against real Python RQ. Run under a venv with the RQ version under
test (scripts/setup-python makes .venv-rq20, .venv-rq2 and .venv-rq3; `scripts/test interop`
runs the suite with each). The fixtures are the shared harness's (tests/harness): a private
redis-server per test module, the worker process, a burst run.

A module marked `rq_version_independent` (the worker's own features through RQ's ordinary
enqueue and read-back: the student test task and what it hands back, TLS and credentials) reads
the same with every RQ version: it runs once, with RQ 3.0, and is deselected under RQ 2.x.
"""
import pytest
import rq

from harness.fixtures import r, redis_server, run_burst, start_worker  # noqa: F401

RQ3 = rq.__version__.startswith("3.")


def pytest_collection_modifyitems(config, items):
    if RQ3:
        return
    once = [i for i in items if i.get_closest_marker("rq_version_independent")]
    if once:
        config.hook.pytest_deselected(items=once)
        items[:] = [i for i in items if i not in once]
