"""Enqueues N no-op messages for Dramatiq or Celery (run with the .venv-bench interpreter).

usage: enqueue.py dramatiq|celery N [KIND]   (Redis URL in BENCH_REDIS_URL)

KIND is `noop` (the default: the no-op task of scenario a) or a key of bench/py/pyjobs.py's
JOBS (`pynoop`, `pysmall`: the same function every contender of the Python-job scenarios runs,
with the same arguments).

Neither library offers a pipelined bulk enqueue on its Redis broker, so this is a loop of the
ordinary send call (Celery reuses one producer). The enqueue is not part of what is measured.
"""

import sys


def main() -> None:
    which, n = sys.argv[1], int(sys.argv[2])
    kind = sys.argv[3] if len(sys.argv) > 3 else "noop"
    args, kwargs = (), {}
    if kind != "noop":
        import pyjobs

        func, args, kwargs = pyjobs.JOBS[kind]
        kind = "py_" + func
    if which == "dramatiq":
        import dq_tasks

        actor = getattr(dq_tasks, kind)
        for _ in range(n):
            actor.send(*args, **kwargs)
    elif which == "celery":
        import cel_tasks

        task = getattr(cel_tasks, kind)
        with cel_tasks.app.producer_or_acquire() as producer:
            for _ in range(n):
                task.apply_async(args, kwargs, producer=producer)
    else:
        raise SystemExit(f"unknown library {which}")


if __name__ == "__main__":
    main()
