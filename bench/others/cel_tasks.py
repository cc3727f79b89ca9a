"""Celery side of the benchmark: one no-op task on the Redis broker, results ignored.

Like the Dramatiq actor, the task counts its runs in `bench:done` so that bench.py can tell when
the (never-ending) worker has drained the queue.
"""

import os

import pyjobs  # bench/py: the Python-job scenarios' functions, the same for every contender
import redis
from celery import Celery
from celery.signals import task_postrun

URL = os.environ["BENCH_REDIS_URL"]
app = Celery("cel_tasks", broker=URL)
app.conf.update(
    task_default_queue="bench",
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)
_counter = redis.Redis.from_url(URL)


@app.task
def noop():
    _counter.incr("bench:done")


# The Python-job scenarios: the functions of bench/py/pyjobs.py as they are, counted after they
# ran (task_postrun, in the process that ran the task) so that the function itself is the one
# every other contender runs.
py_noop = app.task(name="py_noop")(pyjobs.noop)
py_small = app.task(name="py_small")(pyjobs.small)


@task_postrun.connect
def _count(sender=None, **_kwargs):
    if sender is not None and sender.name.startswith("py_"):
        _counter.incr("bench:done")
