"""Python jobs for tests/interop/test_python_jobs.py: run by task-worker's Python runner
(`--python`) and, for comparison, by RQ's own SimpleWorker in the test process."""
import operator
import os
import threading
import time

from rq import get_current_job


def add(a, b):
    return a + b


def echo(value):
    return value


def kwargs(a, b=2, *, c=3):
    return {"a": a, "b": b, "c": c}


def returns(kind):
    return {
        "int": 42,
        "float": 1.5,
        "str": "héllo",
        "bytes": b"\x00\xff",
        "none": None,
        "dict": {"a": [1, 2], "b": {"c": None}},
        "list": [1, "two", 3.0, None],
        "point": Point(1, 2),
    }[kind]


def fail(message):
    raise ValueError(message)


def nested_fail():
    try:
        {}["missing"]
    except KeyError as e:
        raise RuntimeError("wrapped") from e


def unpicklable():
    return threading.Lock()


def use_meta():
    job = get_current_job()
    job.meta["seen_by"] = job.id
    job.meta["double"] = job.meta.get("given", 0) * 2
    job.save_meta()
    return job.meta["double"]


def sleep(seconds):
    time.sleep(seconds)
    return "slept"


def die(code):
    os._exit(code)


def pid():
    return os.getpid()


def count_then_fail(key):
    get_current_job().connection.incr(key)
    raise ValueError("fails every time")


class Point:
    """A custom class: as an argument, a return value and the instance of a method job."""

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __eq__(self, other):
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)

    def __repr__(self):
        return f"Point({self.x}, {self.y})"

    def norm2(self):
        return self.x * self.x + self.y * self.y

    def moved(self, dx, dy=0):
        return Point(self.x + dx, self.y + dy)

    @classmethod
    def origin(cls):
        return cls(0, 0)

    @staticmethod
    def double(v):
        return 2 * v


plus = operator.add


def sleep_with_pid(seconds):
    """Writes the pid of the process that runs it into its meta, then sleeps."""
    job = get_current_job()
    job.meta["pid"] = os.getpid()
    job.save_meta()
    time.sleep(seconds)
    return "slept"


# Callbacks (on_success / on_failure / on_stopped): each appends what it got to the Redis list
# `callbacks:<job id>`, so that task-worker's run and RQ's own can be compared.
def _record(job, connection, text):
    connection.rpush(f"callbacks:{job.id}", text)


def record_success(job, connection, result):
    _record(job, connection, f"success:{result!r}:{job.get_status(refresh=False)}")


def record_failure(job, connection, exc_type, exc_value, traceback):
    _record(job, connection, f"failure:{exc_type.__name__}:{exc_value}")


def record_stopped(job, connection):
    _record(job, connection, "stopped")


def success_callback_fails(job, connection, result):
    raise RuntimeError(f"success callback failed for {result!r}")


def failure_callback_fails(job, connection, exc_type, exc_value, traceback):
    raise KeyError("failure callback failed")


def slow_callback(job, connection, *args):
    time.sleep(3600)


def retry_until(key, times, interval=0):
    """Returns Retry(max=5) until it has run `times` times, then the count (RQ >= 2.12 runs it
    again; RQ 2.0 stores the Retry as its value)."""
    from rq import Retry

    count = get_current_job().connection.incr(key)
    if count < times:
        return Retry(max=5, interval=interval)
    return count


def always_retry(key):
    from rq import Retry

    get_current_job().connection.incr(key)
    return Retry(max=1)


def huge(megabytes):
    return b"x" * (megabytes << 20)


def size(blob):
    """The length of its argument (a large one: the job's data is large)."""
    return len(blob)
