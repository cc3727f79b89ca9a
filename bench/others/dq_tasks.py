"""Dramatiq side of the benchmark: one no-op actor on the Redis broker.

Dramatiq has no burst mode, so the actor counts its runs in `bench:done` (one INCR per job);
bench.py polls that counter and stops the worker once every job has run.
"""

import os

import dramatiq
import pyjobs  # bench/py: the Python-job scenarios' functions, the same for every contender
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import Middleware

URL = os.environ["BENCH_REDIS_URL"]
broker = RedisBroker(url=URL)
dramatiq.set_broker(broker)
_counter = redis.Redis.from_url(URL)


@dramatiq.actor(queue_name="bench", max_retries=0)
def noop():
    _counter.incr("bench:done")


# The Python-job scenarios: the functions of bench/py/pyjobs.py as they are, counted after they
# ran (as the no-op's INCR above: bench.py polls the counter) by a middleware, so that the
# function itself is the one every other contender runs.
class CountPyJobs(Middleware):
    def after_process_message(self, broker, message, *, result=None, exception=None):
        if message.actor_name.startswith("py_"):
            _counter.incr("bench:done")


broker.add_middleware(CountPyJobs())
py_noop = dramatiq.actor(pyjobs.noop, actor_name="py_noop", queue_name="bench", max_retries=0)
py_small = dramatiq.actor(pyjobs.small, actor_name="py_small", queue_name="bench", max_retries=0)
