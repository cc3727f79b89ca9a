"""RQ 3.0 concurrency limits (issue 18, point 1): `rate_limit=RateLimit(key, concurrency)` as RQ
3.0's `rq/rate_limit.py` and its worker use them. The enqueuer admits at most `concurrency`
jobs of a key into `rq:rl:<key>:allowed` (queued or running); the worker releases a job's slot
once its outcome is committed (not for an immediate retry, yes for a delayed one) and RQ's
script promotes the next waiter; maintenance frees leaked slots. A fleet mixing Python 3.0
workers and task-workers never runs more jobs of one key at once than the limit."""
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import rq
from rq import Queue, Retry
from rq.job import JobStatus

from harness import WORKER, wait_until

pytestmark = pytest.mark.skipif(not rq.__version__.startswith("3."), reason="concurrency limits are new in RQ 3.0")

WRAPPER = "ctutor_backend.tasks.executor.TaskExecutor._execute_task_wrapper"


class Sampler(threading.Thread):
    """Samples `rq:rl:<key>:allowed` and the running jobs of the key while they run."""

    def __init__(self, r, key, jobs):
        super().__init__(daemon=True)
        self.r, self.key, self.jobs = r, key, jobs
        self.max_allowed = self.max_running = self.samples = 0
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            p = self.r.pipeline(transaction=True)
            p.zcard(f"rq:rl:{self.key}:allowed")
            for j in self.jobs:
                p.hget(j.key, "status")
            allowed, *statuses = p.execute()
            running = sum(1 for s in statuses if s == b"started")
            self.max_allowed = max(self.max_allowed, allowed)
            self.max_running = max(self.max_running, running)
            self.samples += 1
            time.sleep(0.005)


def run_limited(r, jobs, key, timeout):
    sampler = Sampler(r, key, jobs)
    sampler.start()
    try:
        wait_until(lambda: all(j.get_status(refresh=True) == JobStatus.FINISHED for j in jobs),
                   timeout=timeout, interval=0.1, what="every limited job finished")
    finally:
        sampler.done.set()
        sampler.join()
    return sampler


def test_limit_2_over_20_jobs(r, start_worker):
    from rq.rate_limit import RateLimit
    q = Queue("rl", connection=r)
    start_worker("-q", "rl", "-c", "8", "-n", "RLW")
    jobs = [q.enqueue("sleep", 0.3, rate_limit=RateLimit("k2", concurrency=2)) for _ in range(20)]
    assert sum(1 for j in jobs if j.get_status(refresh=True) == JobStatus.RATE_LIMITED) >= 16
    plain = q.enqueue("echo", "not limited")
    s = run_limited(r, jobs, "k2", timeout=30)
    print(f"\nRATELIMIT limit 2, 20 jobs, -c 8: max allowed {s.max_allowed}, max running "
          f"{s.max_running} over {s.samples} samples")
    assert s.max_allowed <= 2 and s.max_running <= 2
    assert s.max_running == 2, "the limit was never used fully"
    assert plain.get_status(refresh=True) == JobStatus.FINISHED
    assert r.zcard("rq:rl:k2:allowed") == 0 and r.zcard("rq:rl:k2:rate_limited") == 0
    for j in jobs:
        assert len(j.results()) == 1


@pytest.fixture
def backend_module(tmp_path):
    """A stand-in for the backend's wrapper, so a Python worker runs the same jobs: it sleeps
    `parameters['duration']` seconds, like task-worker's example_long_running."""
    pkg = tmp_path / "ctutor_backend" / "tasks"
    pkg.mkdir(parents=True)
    (tmp_path / "ctutor_backend" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "executor.py").write_text(textwrap.dedent("""
        import time

        class TaskExecutor:
            @staticmethod
            def _execute_task_wrapper(task_name, parameters, **kwargs):
                time.sleep(parameters["duration"])
                return {"status": "completed"}
    """))
    return tmp_path


def test_mixed_fleet_with_python_workers_never_exceeds_the_limit(r, redis_server, start_worker,
                                                                  backend_module):
    from rq.rate_limit import RateLimit
    q = Queue("rlmix", connection=r)
    rq_cli = Path(sys.executable).parent / "rq"
    env = dict(os.environ, PYTHONPATH=str(backend_module))
    pys = [subprocess.Popen([str(rq_cli), "worker", "--url", redis_server.url, "-n", f"PY{i}", "rlmix"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
           for i in range(2)]
    try:
        start_worker("-q", "rlmix", "-c", "4", "-n", "TWMIX")
        wait_until(lambda: len(r.smembers("rq:workers:rlmix")) == 6, timeout=20, what="6 workers")
        jobs = [q.enqueue(WRAPPER, "example_long_running", {"duration": 1},
                          rate_limit=RateLimit("mix", concurrency=2)) for _ in range(20)]
        s = run_limited(r, jobs, "mix", timeout=60)
        ran_by = {j.refresh() or j.worker_name for j in jobs}
        print(f"\nRATELIMIT mixed fleet (2 Python 3.0 workers + task-worker -c 4): max allowed "
              f"{s.max_allowed}, max running {s.max_running}, run by {sorted(ran_by)}")
        assert s.max_allowed <= 2 and s.max_running <= 2
        assert any(n.startswith("PY") for n in ran_by) and any(n.startswith("TWMIX") for n in ran_by)
        assert r.zcard("rq:rl:mix:allowed") == 0
    finally:
        for p in pys:
            p.send_signal(signal.SIGTERM)
        for p in pys:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def test_immediate_retry_keeps_the_slot_delayed_retry_gives_it_back(r, start_worker):
    from rq.rate_limit import RateLimit
    q = Queue("rl", connection=r)
    start_worker("-q", "rl", "-c", "4", "--with-scheduler")
    lim = RateLimit("k1", concurrency=1)
    # Immediate retry: requeued holding its slot, so the waiter only runs after both attempts.
    now_retry = q.enqueue("fail", "again", retry=Retry(max=1), rate_limit=lim)
    waiter = q.enqueue("sleep", 0.1, rate_limit=lim)
    wait_until(lambda: waiter.get_status(refresh=True) == JobStatus.FINISHED, what="waiter")
    now_retry.refresh()
    waiter.refresh()
    assert now_retry.get_status() == JobStatus.FAILED and now_retry.retries_left == 0
    assert waiter.started_at >= now_retry.ended_at
    # Delayed retry: the slot goes to the next waiter meanwhile; the retry waits its turn again.
    later = q.enqueue("fail", "later", retry=Retry(max=1, interval=2), rate_limit=lim)
    wait_until(lambda: later.get_status(refresh=True) == JobStatus.SCHEDULED, what="retry scheduled")
    nxt = q.enqueue("sleep", 0.1, rate_limit=lim)
    wait_until(lambda: later.get_status(refresh=True) == JobStatus.FAILED, timeout=30, what="retry ran")
    wait_until(lambda: nxt.get_status(refresh=True) == JobStatus.FINISHED, what="next job")
    later.refresh()
    nxt.refresh()
    assert later.retries_left == 0
    # The next job ran while the retry waited: it ended before the retry's attempt started (had
    # the retry kept the slot, the next job would have started only after the retry ended).
    assert nxt.ended_at <= later.started_at, (nxt.ended_at, later.started_at)
    assert r.zcard("rq:rl:k1:allowed") == 0


def test_maintenance_frees_a_leaked_slot(r, run_burst):
    from rq.rate_limit import RateLimit
    q = Queue("rl", connection=r)
    lim = RateLimit("leak", concurrency=1)
    holder = q.enqueue("echo", 1, rate_limit=lim)
    waiter = q.enqueue("echo", 2, rate_limit=lim)
    assert waiter.get_status(refresh=True) == JobStatus.RATE_LIMITED
    # The holder's worker died after its outcome and before the release: finished, slot held.
    r.lrem("rq:queue:rl", 1, holder.id)
    r.hset(holder.key, "status", "finished")
    run_burst("-q", "rl")  # maintenance at start frees the slot and promotes the waiter
    assert waiter.get_status(refresh=True) == JobStatus.FINISHED
    run_burst("-q", "rl")
    assert not r.sismember("rq:rl-keys", "leak") and not r.exists("rq:rl:leak")


def test_dependents_and_scheduled_jobs_go_through_the_limiter(r, start_worker):
    from datetime import timedelta
    from rq.rate_limit import RateLimit
    q = Queue("rl", connection=r)
    lim = RateLimit("dep", concurrency=1)
    parent = q.enqueue("sleep", 0.5)
    children = [q.enqueue("sleep", 0.2, depends_on=parent, rate_limit=lim) for _ in range(3)]
    timed = [q.enqueue_in(timedelta(seconds=1), "sleep", 0.2, rate_limit=lim) for _ in range(3)]
    jobs = children + timed
    start_worker("-q", "rl", "-c", "8", "--with-scheduler")
    s = run_limited(r, jobs, "dep", timeout=30)
    assert s.max_running <= 1 and s.max_allowed <= 1


def test_requeue_reacquires_a_slot_like_pythons(r, redis_server, run_burst):
    from rq.registry import FailedJobRegistry
    q = Queue("rl", connection=r)
    from rq.rate_limit import RateLimit
    lim = RateLimit("rq-requeue", concurrency=1)
    ours, theirs = q.enqueue("fail", "x", rate_limit=lim), q.enqueue("fail", "y", rate_limit=lim)
    run_burst("-q", "rl")
    assert r.zcard("rq:rl:rq-requeue:allowed") == 0
    holder = q.enqueue("echo", 0, rate_limit=lim)  # takes the only slot
    FailedJobRegistry(queue=q).requeue(theirs.id)
    subprocess.run([str(WORKER), "requeue", "--redis-url", redis_server.url, ours.id], check=True,
                   capture_output=True)
    # Both wait for the slot behind the holder. RQ scores the waiters in whole seconds
    # (`current_timestamp()`), so two requeued within one second are ordered by id, as in RQ.
    waiting = r.zrange("rq:rl:rq-requeue:rate_limited", 0, -1, withscores=True)
    assert sorted(m for m, _ in waiting) == sorted([theirs.id.encode(), ours.id.encode()])
    assert all(score == int(score) for _, score in waiting), "whole seconds, as RQ writes them"
    for j in (ours, theirs):
        assert j.get_status(refresh=True) == JobStatus.RATE_LIMITED
        assert r.hget(j.key, "enqueue_at_front") == b"0"
    run_burst("-q", "rl")
    for j in (holder, ours, theirs):
        assert j.get_status(refresh=True) in (JobStatus.FINISHED, JobStatus.FAILED)
    assert len(ours.results()) == 2 and len(theirs.results()) == 2
