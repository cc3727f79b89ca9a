"""Job control interop (issue: job control): timeouts, retries, dependencies, scheduling,
pub/sub commands, suspension, maintenance, canceled jobs. Runs against RQ 2.0.0, 2.12.0 and 3.0.0."""
import math
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
import rq
from rq import Queue, Retry, Worker
from rq.command import send_kill_horse_command, send_shutdown_command, send_stop_job_command
from rq.job import Dependency, Job, JobStatus
from rq.registry import DeferredJobRegistry, FailedJobRegistry
from rq.results import Result

from harness import wait_until

RQ3 = rq.__version__.startswith("3.")


def last_line(job):
    return job.latest_result().exc_string.rstrip("\n").splitlines()[-1]


def test_timeout_fails_job_and_frees_slot(r, run_burst):
    q = Queue("ctl", connection=r)
    slow = q.enqueue("sleep", 30, job_timeout=1)
    after = q.enqueue("echo", "next")
    run_burst("-q", "ctl", "-c", "1")
    slow.refresh()
    assert slow.get_status() == JobStatus.FAILED
    assert last_line(slow) == "rq.timeouts.JobTimeoutException: Task exceeded maximum timeout value (1 seconds)"
    assert after.get_status(refresh=True) == JobStatus.FINISHED


def test_retry_with_intervals_through_scheduler(r, start_worker):
    q = Queue("ctl", connection=r)
    worker = start_worker("-q", "ctl", "-n", "RETRY", "--with-scheduler")
    job = q.enqueue("fail", "again", retry=Retry(max=2, interval=[0, 1]))
    def exhausted():
        job.refresh()
        return job.get_status() == JobStatus.FAILED and job.retries_left == 0
    wait_until(exhausted, timeout=20, what="retries exhausted")
    job.refresh()
    assert job.retries_left == 0
    results = job.results()
    assert len(results) == 1 and results[0].type == Result.Type.FAILED  # no result for retried attempts
    assert r.hget("rq:worker:RETRY", "failed_job_count") == b"3"
    assert job.id in FailedJobRegistry(queue=q).get_job_ids()
    worker.signal(signal.SIGTERM)
    assert worker.wait() == 0


def test_retry_interval_zero_requeues_at_once(r, run_burst):
    q = Queue("ctl", connection=r)
    job = q.enqueue("fail", "x", retry=Retry(max=1))
    run_burst("-q", "ctl")
    job.refresh()
    assert job.get_status() == JobStatus.FAILED and job.retries_left == 0


def test_dependencies(r, run_burst):
    q = Queue("ctl", connection=r)
    other = Queue("ctl_other", connection=r)
    a = q.enqueue("echo", 1)
    b = other.enqueue("echo", 2, depends_on=a)
    bad = q.enqueue("fail", "parent fails")
    allowed = q.enqueue("echo", 3, depends_on=Dependency(jobs=[bad], allow_failure=True))
    blocked = q.enqueue("echo", 4, depends_on=bad)
    assert b.get_status() == JobStatus.DEFERRED
    run_burst("-q", "ctl,ctl_other")
    assert b.get_status(refresh=True) == JobStatus.FINISHED and b.return_value() == 2
    assert b.id not in DeferredJobRegistry(queue=other).get_job_ids()
    assert not r.exists(f"rq:job:{a.id}:dependents")
    assert allowed.get_status(refresh=True) == JobStatus.FINISHED
    assert blocked.get_status(refresh=True) == JobStatus.DEFERRED


def test_dependent_waits_for_all_parents(r, run_burst):
    q = Queue("ctl", connection=r)
    p1 = q.enqueue("echo", 1)
    p2 = Queue("ctl_later", connection=r).enqueue("echo", 2)
    child = q.enqueue("echo", 3, depends_on=[p1, p2])
    run_burst("-q", "ctl")  # p2's queue is not served yet
    assert child.get_status(refresh=True) == JobStatus.DEFERRED
    run_burst("-q", "ctl_later,ctl")
    assert child.get_status(refresh=True) == JobStatus.FINISHED


def test_canceled_parent_and_canceled_job(r, run_burst):
    q = Queue("ctl", connection=r)
    parent = q.enqueue("echo", 1)
    child = q.enqueue("echo", 2, depends_on=parent)
    lone = q.enqueue("echo", 3)
    parent.cancel()
    lone.cancel()
    run_burst("-q", "ctl")
    assert lone.get_status(refresh=True) == JobStatus.CANCELED and lone.latest_result() is None
    assert child.get_status(refresh=True) == JobStatus.DEFERRED


def test_enqueue_in_runs_on_time(r, start_worker):
    q = Queue("ctl", connection=r)
    worker = start_worker("-q", "ctl", "--with-scheduler")
    before = time.time()
    job = q.enqueue_in(timedelta(seconds=2), "echo", "later")
    assert job.get_status() == JobStatus.SCHEDULED
    wait_until(lambda: job.get_status(refresh=True) == JobStatus.FINISHED, timeout=15, what="scheduled job")
    job.refresh()
    # Not before its time. RQ scores the scheduled registry in whole seconds (`to_unix` drops the
    # fraction) and its own scheduler enqueues a job once that score has passed, as we do: the
    # earliest allowed start is the scheduled second, up to a second before the exact instant.
    assert job.started_at.timestamp() >= math.floor(before + 2)
    assert job.return_value() == "later"
    assert r.get("rq:scheduler-lock:ctl") is not None
    worker.signal(signal.SIGTERM)
    assert worker.wait() == 0
    assert r.get("rq:scheduler-lock:ctl") is None  # released on stop


def test_scheduler_coexists_with_python_scheduler(r, redis_server, start_worker):
    q = Queue("sched", connection=r)
    code = ("import time, redis; from rq.scheduler import RQScheduler; "
            f"s = RQScheduler(['sched'], connection=redis.Redis(port={redis_server.port})); s.work()")
    py = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        worker = start_worker("-q", "sched", "--with-scheduler", "-c", "4")
        jobs = [q.enqueue_in(timedelta(seconds=1 + i % 3), "echo", i) for i in range(30)]
        wait_until(lambda: all(j.get_status(refresh=True) == JobStatus.FINISHED for j in jobs),
                   timeout=30, what="all scheduled jobs")
        for j in jobs:
            assert len(j.results()) == 1, "a job was moved (and run) twice"
        worker.signal(signal.SIGTERM)
        assert worker.wait() == 0
    finally:
        py.terminate()
        py.wait(10)


@pytest.mark.skipif(rq.__version__ == "2.0.0", reason="Repeat is not in RQ 2.0 (added in a later 2.x)")
def test_repeat(r, run_burst):
    from rq import Repeat
    q = Queue("ctl", connection=r)
    job = q.enqueue("echo", "again", repeat=Repeat(times=2))
    for _ in range(3):
        run_burst("-q", "ctl")
    assert len(job.results()) == 3
    job.refresh()
    assert job.repeats_left == 0 and job.get_status() == JobStatus.FINISHED


def test_stop_job_command(r, start_worker):
    q = Queue("ctl", connection=r)
    worker = start_worker("-q", "ctl", "-n", "STOPPER")
    job = q.enqueue("sleep", 30, retry=Retry(max=3))
    wait_until(lambda: job.get_status(refresh=True) == JobStatus.STARTED, what="job start")
    job.refresh()
    send_stop_job_command(r, job.id)
    wait_until(lambda: job.get_status(refresh=True) == JobStatus.STOPPED, what="stopped")
    res = job.latest_result()
    assert res.type == Result.Type.FAILED
    assert res.exc_string == "Job stopped by user, work-horse terminated."
    assert job.id in FailedJobRegistry(queue=q).get_job_ids()
    worker.signal(signal.SIGTERM)
    assert worker.wait() == 0


@pytest.mark.skipif(not RQ3, reason="stop-execution is new in RQ 3.0")
def test_stop_execution_command(r, start_worker):
    from rq.command import send_stop_execution_command
    q = Queue("ctl", connection=r)
    start_worker("-q", "ctl")
    job = q.enqueue("sleep", 30)
    wait_until(lambda: job.get_status(refresh=True) == JobStatus.STARTED, what="job start")
    execution = job.get_executions()[0]
    send_stop_execution_command(r, job.id, execution.id)
    wait_until(lambda: job.get_status(refresh=True) == JobStatus.STOPPED, what="stopped")


def test_kill_horse_command(r, start_worker):
    q = Queue("ctl", connection=r)
    start_worker("-q", "ctl", "-n", "KILLER")
    job = q.enqueue("sleep", 30)
    wait_until(lambda: job.get_status(refresh=True) == JobStatus.STARTED, what="job start")
    send_kill_horse_command(r, "KILLER")
    wait_until(lambda: job.get_status(refresh=True) == JobStatus.FAILED, what="killed")
    assert "Work-horse terminated unexpectedly" in job.latest_result().exc_string


def test_shutdown_command(r, start_worker):
    worker = start_worker("-q", "ctl", "-n", "BYE")
    wait_until(lambda: r.exists("rq:worker:BYE"), what="registration")
    send_shutdown_command(r, "BYE")
    assert worker.wait(timeout=15) == 0
    assert r.hget("rq:worker:BYE", "death")
    assert b"rq:worker:BYE" not in r.smembers("rq:workers")


def test_a_shutdown_sent_as_soon_as_the_worker_is_listed_is_obeyed(r, start_worker):
    """The worker subscribes to its command channel before it registers, so a command sent the
    moment its hash appears arrives (RQ subscribes after registering; this once lost a
    `shutdown` here). The poll has no sleep, to send inside that window if there is one."""
    for n in range(3):
        name = f"EAGER{n}"
        worker = start_worker("-q", "ctl", "-n", name)
        deadline = time.monotonic() + 30
        while not r.exists(f"rq:worker:{name}"):
            assert time.monotonic() < deadline, "the worker never registered"
        assert send_shutdown_command(r, name) is None
        assert worker.wait(timeout=15) == 0, worker.output()[-2000:]
        assert r.hget(f"rq:worker:{name}", "death")


def test_suspend_and_resume(r, redis_server, start_worker):
    q = Queue("ctl", connection=r)
    rqcli = [sys.executable, "-m", "rq.cli"]
    start_worker("-q", "ctl", "-n", "SUSP")
    wait_until(lambda: r.exists("rq:worker:SUSP"), what="registration")
    subprocess.run(rqcli + ["suspend", "-u", redis_server.url], check=True, capture_output=True)
    wait_until(lambda: r.hget("rq:worker:SUSP", "state") == b"suspended", what="suspended state")
    job = q.enqueue("echo", 1)
    time.sleep(1.5)
    assert job.get_status(refresh=True) == JobStatus.QUEUED
    subprocess.run(rqcli + ["resume", "-u", redis_server.url], check=True, capture_output=True)
    wait_until(lambda: job.get_status(refresh=True) == JobStatus.FINISHED, what="run after resume")


def test_suspension_states_read_by_worker_all(r, redis_server, start_worker):
    """Every slot shows `suspended` once it has no job, as a Python worker does after its current
    job; `rq resume` makes them `idle` again. Read the way rq-dashboard and `rq info` read them."""
    q = Queue("ctl", connection=r)
    rqcli = [sys.executable, "-m", "rq.cli"]
    start_worker("-q", "ctl", "-n", "SUSPC", "-c", "3")
    names = {"SUSPC-1", "SUSPC-2", "SUSPC-3"}

    def states():
        return {w.name: w.get_state() for w in Worker.all(connection=r) if w.name in names}

    wait_until(lambda: set(states().values()) == {"idle"} and len(states()) == 3, what="idle slots")
    # Long enough for the suspension to be seen while they run, however slow `rq suspend` starts
    # on a loaded machine; they end by themselves afterwards.
    busy = [q.enqueue("sleep", 6) for _ in range(2)]
    wait_until(lambda: all(j.get_status(refresh=True) == JobStatus.STARTED for j in busy), what="jobs start")
    subprocess.run(rqcli + ["suspend", "-u", redis_server.url], check=True, capture_output=True)
    # The free slot at once, the busy ones go on with their jobs.
    wait_until(lambda: sorted(states().values()) == ["busy", "busy", "suspended"],
               what="free slot suspended, busy slots busy")
    waiting = q.enqueue("echo", 1)
    # Once their jobs end, every slot shows suspended and stays so; nothing new is taken.
    wait_until(lambda: set(states().values()) == {"suspended"}, timeout=30, what="all suspended")
    assert all(j.get_status(refresh=True) == JobStatus.FINISHED for j in busy)
    time.sleep(1.5)
    assert set(states().values()) == {"suspended"}
    assert waiting.get_status(refresh=True) == JobStatus.QUEUED
    subprocess.run(rqcli + ["resume", "-u", redis_server.url], check=True, capture_output=True)
    wait_until(lambda: waiting.get_status(refresh=True) == JobStatus.FINISHED, what="run after resume")
    wait_until(lambda: set(states().values()) == {"idle"}, what="idle after resume")


def test_burst_exits_when_suspended(r, run_burst):
    q = Queue("ctl", connection=r)
    job = q.enqueue("echo", 1)
    r.set("rq:suspended", 1)
    proc = run_burst("-q", "ctl")
    assert "suspended" in proc.stderr
    assert job.get_status(refresh=True) == JobStatus.QUEUED


def test_killed_worker_job_is_failed_as_abandoned(r, redis_server, start_worker, run_burst):
    q = Queue("ctl", connection=r)
    victim = start_worker("-q", "ctl", "-n", "VICTIM")
    job = q.enqueue("sleep", 60)
    wait_until(lambda: job.get_status(refresh=True) == JobStatus.STARTED, what="job start")
    victim.signal(signal.SIGKILL)
    victim.wait()
    # Its heartbeat would lapse within 90 s; make that happen now, as rq-protocol.md §13 suggests.
    member = r.zrange("rq:wip:ctl", 0, -1)[0]
    r.zadd("rq:wip:ctl", {member: 1000}, xx=True)
    run_burst("-q", "ctl", "-n", "RESCUER")  # maintenance runs at start
    job.refresh()
    assert job.get_status() == JobStatus.FAILED
    assert "AbandonedJobError" in job.latest_result().exc_string
    assert r.zcard("rq:wip:ctl") == 0


def test_abandoned_job_with_retries_is_retried(r, start_worker, run_burst):
    q = Queue("ctl", connection=r)
    victim = start_worker("-q", "ctl", "-n", "VICTIM2")
    job = q.enqueue("sleep", 1, retry=Retry(max=1))
    wait_until(lambda: job.get_status(refresh=True) == JobStatus.STARTED, what="job start")
    victim.signal(signal.SIGKILL)
    victim.wait()
    member = r.zrange("rq:wip:ctl", 0, -1)[0]
    r.zadd("rq:wip:ctl", {member: 1000}, xx=True)
    run_burst("-q", "ctl")
    job.refresh()
    assert job.get_status() == JobStatus.FINISHED and job.retries_left == 0


def test_rq_info_fails_abandoned_job_of_killed_worker(r, redis_server, start_worker):
    q = Queue("ctl", connection=r)
    victim = start_worker("-q", "ctl", "-n", "VICTIM3")
    job = q.enqueue("sleep", 60)
    wait_until(lambda: job.get_status(refresh=True) == JobStatus.STARTED, what="job start")
    victim.signal(signal.SIGKILL)
    victim.wait()
    member = r.zrange("rq:wip:ctl", 0, -1)[0]
    r.zadd("rq:wip:ctl", {member: 1000}, xx=True)
    subprocess.run([sys.executable, "-m", "rq.cli", "info", "-u", redis_server.url], check=True,
                   capture_output=True)
    assert job.get_status(refresh=True) == JobStatus.FAILED


def test_stuck_intermediate_id_is_recovered(r, run_burst):
    q = Queue("ctl", connection=r)
    job = q.enqueue("echo", "recovered")
    # A worker died right after moving the id: it sits in the intermediate list only.
    r.lmove("rq:queue:ctl", "rq:queue:ctl:intermediate", "LEFT", "RIGHT")
    r.set(f"rq:queue:ctl:intermediate:first_seen:{job.id}", time.time() - 120)
    run_burst("-q", "ctl")
    assert job.get_status(refresh=True) == JobStatus.FINISHED
    assert r.llen("rq:queue:ctl:intermediate") == 0


def test_dead_workers_are_removed_from_the_registries(r, run_burst):
    # A worker that died without registering its death: its hash expired, the set entries stay.
    r.sadd("rq:workers", "rq:worker:ghost")
    r.sadd("rq:workers:ctl", "rq:worker:ghost")
    r.zadd("rq:finished:ctl", {"old-finished": 1})
    r.zadd("rq:failed:ctl", {"old-failed": 1, "kept-forever": -1})
    run_burst("-q", "ctl")
    assert not r.sismember("rq:workers", "rq:worker:ghost")
    assert not r.sismember("rq:workers:ctl", "rq:worker:ghost")
    assert r.zscore("rq:finished:ctl", "old-finished") is None
    assert r.zscore("rq:failed:ctl", "old-failed") is None
    assert r.zscore("rq:failed:ctl", "kept-forever") == -1
