"""Jobs of the differential test (tests/interop/test_python_differential.py): each is run by
RQ's own workers (`Worker`, `SimpleWorker`) and by task-worker (`--python`, `fork` and `reuse`),
each on a private Redis, and everything they leave in Redis is compared field by field. The jobs
leave their traces in Redis only (keys `diff:*`), so that the comparison sees them."""
import datetime
import os
import time

from rq import get_current_job

# As in the Python-job tests: a custom class (an argument, a return value and the instance of a
# method job), and an exception raised while handling another (a chained traceback).
from pyjobs.jobs import Point  # noqa: F401
from pyjobs.jobs import nested_fail as fail_chained  # noqa: F401


class DiffError(Exception):
    """A custom exception with several arguments."""


VALUES = {
    "int": 42,
    "negative": -7,
    "float": 1.5,
    "str": "héllo wörld",
    "empty_str": "",
    "bytes": b"\x00\xff\x80",
    "none": None,
    "bool": True,
    "dict": {"a": [1, 2], "b": {"c": None}},
    "list": [1, "two", 3.0, None],
    "tuple": (1, 2),
    "nested": {"l": [{"t": (1, [2, {"x": b"y"}])}], "s": {3}, "f": frozenset({4})},
    "large_int": 2 ** 100 + 1,
    "datetime": datetime.datetime(2024, 5, 6, 7, 8, 9, 123456),
    "point": Point(1, 2),
}


def returns(kind):
    return VALUES[kind]


def echo(value):
    return value


def kwargs(a, b=2, *, c=3):
    return {"a": a, "b": b, "c": c}


def fail_builtin(message):
    raise ValueError(message)


def fail_custom():
    raise DiffError("custom", 42)


def use_meta():
    """Reads the meta it was enqueued with and saves more."""
    job = get_current_job()
    job.meta["seen_by"] = job.id
    job.meta["double"] = job.meta.get("given", 0) * 2
    job.save_meta()
    return job.meta["double"]


def own_view():
    """What the job sees of itself while it runs: RQ's work horse runs the worker's in-memory
    job, on which `prepare_for_execution` set the status, the worker's name and the start."""
    job = get_current_job()
    status = job.get_status(refresh=False)
    return {
        "status": getattr(status, "value", status),
        "worker_name": job.worker_name,
        "origin": job.origin,
        "description": job.description,
        "started_at": job.started_at is not None,
        "last_heartbeat": job.last_heartbeat is not None,
        "enqueued_at": job.enqueued_at is not None,
        "meta": job.meta,
    }


def record(tag):
    """Appends its tag to the list `diff:order`: the order the jobs ran in."""
    get_current_job().connection.rpush("diff:order", tag)
    return tag


def fail_counting():
    """Counts its runs in `diff:runs:<job id>`, then fails (for `Retry`)."""
    job = get_current_job()
    job.connection.incr(f"diff:runs:{job.id}")
    raise ValueError("fails every time")


def sleep(seconds):
    time.sleep(seconds)
    return "slept"


def die(code):
    os._exit(code)


def block():
    """Says it runs (`diff:inside`), then waits until the test lets it go (`diff:release`): the
    test reads both servers while it runs."""
    job = get_current_job()
    job.connection.rpush("diff:inside", job.id)
    for _ in range(600):
        if job.connection.blpop("diff:release", timeout=1):
            return "released"
    return "never released"


def socket_timeout():
    """The socket timeout of the job's Redis connection, as the job sees it (RQ's worker gives
    its connection `dequeue_timeout + 10` seconds, so that a job may block on Redis)."""
    kwargs = get_current_job().connection.connection_pool.connection_kwargs
    return repr(kwargs.get("socket_timeout"))
