"""Celery side of the benchmark: one no-op task on the Redis broker, results ignored.

Like the Dramatiq actor, the task counts its runs in `bench:done` so that bench.py can tell when
the (never-ending) worker has drained the queue.
"""

import os

import redis
from celery import Celery

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
