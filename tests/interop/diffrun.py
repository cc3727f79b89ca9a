"""Runs RQ's own worker in burst mode, in a process of its own (test_python_differential.py):

    python diffrun.py URL Worker|SimpleWorker QUEUE NAME pickle|json

A process of its own because a job of the differential test exits its process (`os._exit`),
and RQ's SimpleWorker runs jobs in its own process."""
import sys

from redis import Redis
from rq import SimpleWorker, Worker
from rq.serializers import JSONSerializer


def main():
    url, cls, queue, name, serializer = sys.argv[1:]
    worker_class = {"Worker": Worker, "SimpleWorker": SimpleWorker}[cls]
    worker = worker_class([queue], connection=Redis.from_url(url), name=name,
                          serializer=JSONSerializer if serializer == "json" else None)
    # No pub/sub command channel: no command is sent in the test, a channel leaves nothing in
    # Redis, and its thread can make the burst's teardown wait up to a minute (redis-py's
    # `run_in_thread(sleep_time=60)` joined at the end).
    worker.subscribe = lambda: None
    worker.work(burst=True, logging_level="WARNING")


if __name__ == "__main__":
    main()
