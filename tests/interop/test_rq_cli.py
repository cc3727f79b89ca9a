"""`task-worker worker` takes `rq worker`'s command line (issue 28 item 8, README "Replacing
`rq worker`"): the same arguments run the application's Python jobs, with RQ's dequeue
strategies, `--max-jobs` and `--max-idle-time`. Where RQ's own worker can run the same command
line (`rq worker ... --burst`), the test runs it too and compares the order the jobs ran in.

The Python interpreter is not given: `worker` finds the `python3` on PATH that imports rq (here
the venv's, put first on PATH)."""
import os
import subprocess
import sys
from pathlib import Path

from rq import Queue

from harness import WORKER, wait_until

HERE = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
ENV = dict(os.environ, PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}", RUST_LOG="info")


def enqueue(r, url, plan):
    """plan: [(queue, name), ...] in enqueue order."""
    for queue, name in plan:
        Queue(queue, connection=r).enqueue("pyjobs.order.record", url, name)


def ran(r):
    return [n.decode() for n in r.lrange("test:order", 0, -1)]


def run(argv, env=None, timeout=120):
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env or ENV,
                          cwd=HERE)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc


def rq_worker(*args):
    return run([str(VENV_BIN / "rq"), "worker", *args])


def task_worker(*args):
    return run([str(WORKER), "worker", *args])


PLAN = [("q1", "a1"), ("q1", "a2"), ("q1", "a3"), ("q2", "b1"), ("q2", "b2"), ("q3", "c1")]


def test_round_robin_order_is_rqs(r, redis_server):
    """One job at a time from q1 q2 q3 with --dequeue-strategy round_robin: task-worker runs
    them in the order `rq worker` with the same arguments does (strict priority, the default,
    is test_core's)."""
    url = redis_server.url
    args = ["-u", url, "-P", str(HERE), "q1", "q2", "q3", "--burst", "--dequeue-strategy",
            "round_robin", "-w", "rq.worker.SimpleWorker"]
    enqueue(r, url, PLAN)
    rq_worker(*args)
    rq_order = ran(r)
    r.flushall()
    enqueue(r, url, PLAN)
    proc = task_worker(*args)
    assert ran(r) == rq_order, proc.stderr[-4000:]
    assert rq_order == ["a1", "b1", "c1", "a2", "b2", "a3"]


def test_random_strategy_runs_every_job(r, redis_server):
    url = redis_server.url
    enqueue(r, url, PLAN)
    task_worker("-u", url, "-P", str(HERE), "q1", "q2", "q3", "-b", "-ds", "random")
    assert sorted(ran(r)) == sorted(n for _, n in PLAN)
    for q in ("q1", "q2", "q3"):
        assert Queue(q, connection=r).count == 0


def test_max_jobs_exits_after_that_many(r, redis_server):
    """Without --burst: the worker exits by itself after --max-jobs jobs (fork mode, the default
    worker class); the rest stay queued."""
    url = redis_server.url
    enqueue(r, url, [("q1", f"j{i}") for i in range(5)])
    proc = task_worker("-u", url, "-P", str(HERE), "q1", "--max-jobs", "2", "--name", "maxjobs")
    assert ran(r) == ["j0", "j1"], proc.stderr[-4000:]
    assert Queue("q1", connection=r).count == 3
    assert "max jobs reached" in proc.stderr


def test_max_idle_time_exits(r, redis_server):
    """Without --burst and without jobs: the worker exits by itself (run() waits for it)."""
    proc = task_worker("-u", redis_server.url, "q1", "--max-idle-time", "1")
    assert "idle for the max idle time" in proc.stderr, proc.stderr[-4000:]


def test_rq_url_variable_and_notes(r, redis_server):
    """RQ_REDIS_URL as rq reads it; options that do not apply are noted, one line each."""
    url = redis_server.url
    enqueue(r, url, [("default", "d1")])
    proc = run([str(WORKER), "worker", "-b", "-P", str(HERE), "-w", "app.CustomWorker", "-j", "app.Job",
                "--logging_level", "WARNING"],
               env=dict(ENV, RQ_REDIS_URL=url))
    assert ran(r) == ["d1"]
    notes = [line for line in proc.stderr.splitlines() if "app.CustomWorker" in line or "app.Job" in line]
    assert len(notes) == 2, proc.stderr
    # WARNING: the info lines are gone.
    assert "listening" not in proc.stderr


def test_worker_ttl(r, redis_server, start_worker):
    """--worker-ttl N: the worker's key lives N + 60 s between heartbeats (480 s by default),
    after its birth and after a job's end."""
    url = redis_server.url
    w = start_worker("worker", "-P", str(HERE), "--worker-ttl", "30", "--name", "ttlw", "q1",
                     env={"PATH": ENV["PATH"]})
    key = "rq:worker:ttlw"
    wait_until(lambda: r.exists(key), timeout=60, what="the worker to register")
    assert 0 < r.ttl(key) <= 90, w.output()
    enqueue(r, url, [("q1", "t1")])
    wait_until(lambda: ran(r) == ["t1"] and r.hget(key, "state") == b"idle", timeout=60,
               what="the job to end")
    assert 0 < r.ttl(key) <= 90, w.output()
