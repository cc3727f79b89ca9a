"""Scale-in without loss (issue 14 point 4): `--requeue-on-shutdown` hands unfinished jobs back
at the FRONT of their queue when the shutdown timeout runs out, as real Python RQ reads them; and
the autoscaling gauges on /metrics.

Runs against RQ 2.0.0, 2.12.0 and 3.0.0 (scripts/test runs this directory in each venv).
"""
import signal
import urllib.request

import rq
from rq import Queue, Retry
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry, StartedJobRegistry

from harness import free_port, wait_until


def started(job):
    return job.get_status(refresh=True) == JobStatus.STARTED


def test_requeue_on_shutdown_puts_the_job_back_at_the_front(r, start_worker):
    q = Queue("interop", connection=r)
    first = start_worker("-q", "interop", "-n", "SCALEIN", "--shutdown-timeout", "1",
                         "--requeue-on-shutdown")
    long_job = q.enqueue("sleep", 4, retry=Retry(max=2))
    wait_until(lambda: started(long_job), what="long job start")
    # Queued behind it while it runs: must stay behind the handed-back job.
    waiting = [q.enqueue("echo", i) for i in range(3)]
    first.signal(signal.SIGTERM)
    assert first.wait() == 0
    out = first.output()
    assert "put back at the front" in out, out[-3000:]
    assert "\x1b[" not in out, "no ANSI colour when the log is not a terminal"

    # What Python RQ sees: a normal queued job, first in line, nothing started or failed.
    job = Job.fetch(long_job.id, connection=r)
    assert job.get_status() == JobStatus.QUEUED
    assert q.job_ids == [long_job.id] + [j.id for j in waiting]
    assert q.count == 4
    assert job.retries_left == 2, "a hand-back is not a failed attempt"
    assert job.latest_result() is None, "no result for an attempt that never ended"
    assert StartedJobRegistry(queue=q).get_job_ids() == []
    assert FailedJobRegistry(queue=q).get_job_ids() == []
    assert r.zcard("rq:wip:interop") == 0
    assert r.hget("rq:worker:SCALEIN", "current_job") is None
    if rq.__version__.startswith("3"):
        assert r.zcard(f"rq:executions:{long_job.id}") == 0
        assert not r.keys("rq:execution:*")
    print(f"\nREQUEUE handed back {long_job.id} at position 0 of {q.count} (rq {rq.__version__})")

    # A second worker runs it, once, before the jobs queued behind it.
    start_worker("-q", "interop", "-n", "SECOND")
    wait_until(lambda: all(j.get_status(refresh=True) == JobStatus.FINISHED for j in [long_job] + waiting),
               timeout=30, what="all jobs finished")
    job = Job.fetch(long_job.id, connection=r)
    assert job.worker_name == "SECOND"
    assert r.xlen(f"rq:results:{long_job.id}") == 1, "exactly one result: it ran to the end once"
    assert all(Job.fetch(j.id, connection=r).started_at >= job.ended_at for j in waiting)
    assert FailedJobRegistry(queue=q).get_job_ids() == []


def test_env_var_enables_requeue(r, start_worker):
    q = Queue("interop", connection=r)
    w = start_worker("-q", "interop", "-n", "ENVREQ", "--shutdown-timeout", "1",
                     env={"TASK_REQUEUE_ON_SHUTDOWN": "true"})
    job = q.enqueue("sleep", 60)
    wait_until(lambda: started(job), what="job start")
    w.signal(signal.SIGTERM)
    assert w.wait() == 0
    assert job.get_status(refresh=True) == JobStatus.QUEUED
    assert q.job_ids == [job.id]


def test_autoscaling_gauges(r, start_worker):
    q = Queue("default", connection=r)
    low = Queue("low_priority", connection=r)
    port = free_port()
    w = start_worker("-q", "default,low_priority", "-n", "GAUGES", "-c", "2",
                     "--metrics-addr", f"127.0.0.1:{port}")
    running = q.enqueue("sleep", 30)
    wait_until(lambda: started(running), what="job start")
    for i in range(3):
        low.enqueue("echo", i, at_front=False)
    # The second slot takes low_priority jobs; keep some waiting with a long one first.
    wanted = {
        ('task_worker_queue_running_jobs{queue="default"}', 1.0),
        ('task_worker_queue_waiting_jobs{queue="default"}', 0.0),
        ('task_worker_queue_waiting_jobs{queue="low_priority"}', 0.0),
        ("task_worker_free_slots", 1.0),
    }

    def scrape():
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
            text = resp.read().decode()
        got = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                got[name] = float(value)
        return got

    got = wait_until(lambda: (lambda g: g if all(g.get(k) == v for k, v in wanted) else None)(scrape()),
                     timeout=20, interval=0.5, what="gauges")
    for name, _ in sorted(wanted):
        print(f"METRIC {name} = {got[name]}")
    # Waiting jobs are counted: a job queued behind a long one with the slots busy.
    q.enqueue("sleep", 30)
    q.enqueue("echo", "waits")
    wait_until(lambda: scrape().get('task_worker_queue_waiting_jobs{queue="default"}') == 1.0,
               timeout=20, interval=0.5, what="waiting gauge")
    assert scrape().get("task_worker_free_slots") == 0.0
    w.signal(signal.SIGINT)
    w.signal(signal.SIGINT)
    w.wait()
