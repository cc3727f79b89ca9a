"""Enqueues N no-op messages for Dramatiq or Celery (run with the .venv-bench interpreter).

usage: enqueue.py dramatiq|celery N   (Redis URL in BENCH_REDIS_URL)

Neither library offers a pipelined bulk enqueue on its Redis broker, so this is a loop of the
ordinary send call (Celery reuses one producer). The enqueue is not part of what is measured.
"""

import sys


def main() -> None:
    which, n = sys.argv[1], int(sys.argv[2])
    if which == "dramatiq":
        from dq_tasks import noop

        for _ in range(n):
            noop.send()
    elif which == "celery":
        from cel_tasks import app, noop

        with app.producer_or_acquire() as producer:
            for _ in range(n):
                noop.apply_async(producer=producer)
    else:
        raise SystemExit(f"unknown library {which}")


if __name__ == "__main__":
    main()
