"""Dramatiq side of the benchmark: one no-op actor on the Redis broker.

Dramatiq has no burst mode, so the actor counts its runs in `bench:done` (one INCR per job);
bench.py polls that counter and stops the worker once every job has run.
"""

import os

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

URL = os.environ["BENCH_REDIS_URL"]
broker = RedisBroker(url=URL)
dramatiq.set_broker(broker)
_counter = redis.Redis.from_url(URL)


@dramatiq.actor(queue_name="bench", max_retries=0)
def noop():
    _counter.incr("bench:done")
