"""Callbacks (issue 18, point 2): `on_success=`, `on_failure=` and `on_stopped=` run as RQ's
worker runs them when their function is a registered task, with the job, the connection and
the result or exception; any other callback ends the job `failed` with a message naming it,
before the job's function runs. Never dropped silently. Runs against RQ 2.0.0, 2.12.0, 3.0.0."""
import signal

import pytest

from rq import Callback, Queue, Retry
from rq.command import send_stop_job_command
from rq.job import JobStatus
from rq.registry import FailedJobRegistry
from rq.results import Result

from harness import wait_until

# The string and function forms are deprecated in RQ 3.0 but still what many callers pass.
pytestmark = pytest.mark.filterwarnings("ignore:Passing a string or function:DeprecationWarning")


def last_line(job):
    return job.latest_result().exc_string.rstrip("\n").splitlines()[-1]


def test_registered_success_callback_runs_after_the_job(r, run_burst):
    q = Queue("cb", connection=r)
    job = q.enqueue("echo", 41, on_success=Callback("noop", timeout=7))
    proc = run_burst("-q", "cb")
    assert job.get_status(refresh=True) == JobStatus.FINISHED and job.return_value() == 41
    assert "running on_success callback" in proc.stderr and "callback=noop" in proc.stderr
    assert "timeout_s=7" in proc.stderr


def test_failing_success_callback_fails_the_job_as_rq_does(r, run_burst):
    q = Queue("cb", connection=r)
    # `fail(message)` called as a callback, `fail(job, connection, result)`, raises TypeError in
    # Python; so it does here, the job fails with it, and the failure callback runs next.
    job = q.enqueue("echo", 1, on_success="fail", on_failure="noop")
    proc = run_burst("-q", "cb")
    job.refresh()
    assert job.get_status() == JobStatus.FAILED
    assert job.latest_result().type == Result.Type.FAILED
    assert last_line(job).startswith("TypeError: ") and "positional arguments" in last_line(job)
    assert job.id in FailedJobRegistry(queue=q).get_job_ids()
    assert proc.stderr.index("running on_success callback") < proc.stderr.index("running on_failure callback")


def test_failing_success_callback_uses_the_jobs_retries(r, run_burst):
    q = Queue("cb", connection=r)
    job = q.enqueue("echo", 1, on_success="fail", retry=Retry(max=1))
    run_burst("-q", "cb")
    job.refresh()
    assert job.get_status() == JobStatus.FAILED and job.retries_left == 0


def test_registered_failure_callback(r, run_burst):
    q = Queue("cb", connection=r)
    kept = q.enqueue("fail", "original", on_failure="noop")
    replaced = q.enqueue("fail", "original", on_failure=Callback("fail"))
    timed_out = q.enqueue("sleep", 5, job_timeout=1, on_failure="noop")
    proc = run_burst("-q", "cb")
    assert last_line(kept) == "Exception: original"
    # An exception in the failure callback replaces the job's in the recorded failure (RQ).
    assert last_line(replaced).startswith("TypeError: "), last_line(replaced)
    assert "positional arguments but 6 were given" in last_line(replaced)  # job, connection, 3 of exc_info
    assert last_line(timed_out).startswith("rq.timeouts.JobTimeoutException")
    assert proc.stderr.count("running on_failure callback") == 3
    for j in (kept, replaced, timed_out):
        assert j.get_status(refresh=True) == JobStatus.FAILED


def test_registered_stopped_callback(r, start_worker):
    q = Queue("cb", connection=r)
    worker = start_worker("-q", "cb", "-n", "CBSTOP")
    ok = q.enqueue("sleep", 30, on_stopped="noop")
    raising = q.enqueue("sleep", 30, on_stopped="fail")
    for job in (ok, raising):
        wait_until(lambda: job.get_status(refresh=True) == JobStatus.STARTED, what="job start")
        send_stop_job_command(r, job.id)
        wait_until(lambda: job.get_status(refresh=True) == JobStatus.STOPPED, what="stopped")
        assert job.latest_result().exc_string == "Job stopped by user, work-horse terminated."
    out = worker.output()
    assert out.count("running on_stopped callback") == 2
    assert "on_stopped callback raised (ignored, as RQ does)" in out
    worker.signal(signal.SIGTERM)
    assert worker.wait() == 0


def test_unknown_callbacks_fail_the_job_before_it_runs(r, run_burst):
    q = Queue("cb", connection=r)
    jobs = {
        "on_success": q.enqueue("sleep", 3600, job_timeout=7200,
                                on_success=Callback("app.hooks.notify_success")),
        "on_failure": q.enqueue("sleep", 3600, job_timeout=7200,
                                on_failure="app.hooks.notify_failure", retry=Retry(max=2)),
        "on_stopped": q.enqueue("sleep", 3600, job_timeout=7200,
                                on_stopped=Callback(print, timeout=5)),
    }
    names = {"on_success": "app.hooks.notify_success", "on_failure": "app.hooks.notify_failure",
             "on_stopped": "builtins.print"}
    # A job whose function ran would keep the burst busy for an hour: the burst's timeout
    # (120 s) would fail the test. Nothing here is measured against the clock.
    run_burst("-q", "cb", timeout=120)
    for arg, job in jobs.items():
        job.refresh()
        assert job.get_status() == JobStatus.FAILED, arg
        line = last_line(job)
        assert line.startswith("LookupError: the job's"), line
        assert f"{arg} callback '{names[arg]}'" in line, line
        assert "was not run" in line
        assert len(job.results()) == 1
    # Not retried: another attempt could not run it either.
    assert jobs["on_failure"].retries_left == 2


def test_failure_callback_of_an_abandoned_job_runs_in_maintenance(r, start_worker, run_burst):
    q = Queue("cb", connection=r)
    victim = start_worker("-q", "cb", "-n", "CBVICTIM", "-c", "2")
    ok = q.enqueue("sleep", 60, on_failure="noop")
    raising = q.enqueue("sleep", 60, on_failure="fail")
    for j in (ok, raising):
        wait_until(lambda: j.get_status(refresh=True) == JobStatus.STARTED, what="job start")
    victim.signal(signal.SIGKILL)
    victim.wait()
    for member in r.zrange("rq:wip:cb", 0, -1):
        r.zadd("rq:wip:cb", {member: 1000}, xx=True)
    proc = run_burst("-q", "cb")  # maintenance at start
    assert proc.stderr.count("running on_failure callback of an abandoned job") == 2
    assert "on_failure callback of an abandoned job raised" in proc.stderr
    for j in (ok, raising):
        assert j.get_status(refresh=True) == JobStatus.FAILED
        assert "AbandonedJobError" in j.latest_result().exc_string
