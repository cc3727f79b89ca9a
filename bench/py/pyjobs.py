"""The Python jobs of the benchmark's Python-job scenarios (issue 28): one module, run unchanged
by every contender. task-worker (`--python`, both modes) and Python RQ's workers get RQ jobs for
`pyjobs.noop` / `pyjobs.small` (bench/run puts bench/py on their path); Dramatiq and Celery wrap
the same two functions as their actor / task (bench/others/dq_tasks.py, cel_tasks.py).
"""


def noop():
    return None


def small(a, b, c, label="sum"):
    """A small job: adds a few numbers and returns a small dict (stored as the job's result by
    the RQ-compatible workers)."""
    return {"label": label, "sum": a + b + c, "terms": [a, b, c]}


# What each scenario enqueues: (function, args, kwargs).
JOBS = {
    "pynoop": ("noop", (), {}),
    "pysmall": ("small", (1, 2, 3.5), {"label": "total"}),
}
