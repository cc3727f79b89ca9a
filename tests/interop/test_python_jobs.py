"""Python jobs (issue 28, `--python`, docs/python-jobs.md): jobs whose function is not a built-in
task run in Python processes of the application's environment (here: the venv running the
tests, i.e. RQ 2.0, 2.12 or 3.0), loaded and performed by RQ itself. The jobs are in
pyjobs/jobs.py. Where RQ's own worker can run the same job in this process (everything but
timeouts, dying processes and control commands), the test compares what task-worker writes with
what `rq.SimpleWorker(...).work(burst=True)` writes for the same job."""
import operator
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import rq
from rq import Queue, Retry, SimpleWorker
from rq.command import send_kill_horse_command, send_stop_job_command
from rq.job import Callback, Job, JobStatus
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

from harness import WORKER, wait_until
from pyjobs import jobs

HERE = Path(__file__).resolve().parent
RQ3 = rq.__version__.startswith("3.")
# RQ >= 2.12 runs a job that returns a Retry again; RQ 2.0 stores the Retry as its value.
RETRY_RETURNED = hasattr(Job, "_handle_retry_result")
MODES = ["reuse", "fork"]


@pytest.fixture(params=MODES)
def mode(request):
    """Every test runs in both `--python-mode`s."""
    return request.param


@pytest.fixture
def python_args(mode):
    def args(*extra):
        return ["--python", sys.executable, "--python-path", str(HERE), "--python-mode", mode, *extra]
    return args


def descendants(pid):
    """The pids of the living descendants of `pid` (from /proc)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            if fields[0] != "Z":
                children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid):
    """Whether `pid` runs (a zombie does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2:].split()[0] != "Z"


def started_with_pid(job):
    """Waits until the job (`jobs.sleep_with_pid`) runs and has written its pid; returns it."""
    def pid():
        job.refresh()
        return job.get_status() == JobStatus.STARTED and job.meta.get("pid")
    return wait_until(pid, timeout=60, what="the Python job to start")


def last_line(job):
    text = job.latest_result().exc_string
    return text.rstrip("\n").splitlines()[-1]


def without_workers_frame(text):
    """RQ's text without the frames of RQ's worker (`perform_job`, and RQ 3.0's
    `_finalize_success` / `_finalize_failure` around a callback), which task-worker has not."""
    return re.sub(r'  File "[^"]*", line \d+, in (perform_job|_finalize_success|_finalize_failure)\n(    .*\n)*',
                  "", text)


def reference_worker(queue):
    """RQ's own SimpleWorker, without its command channel (no command is sent to it): its
    pub/sub thread can make the burst's teardown wait up to a minute (redis-py's `join`)."""
    worker = SimpleWorker([queue], connection=queue.connection)
    worker.subscribe = lambda: None
    return worker


def result_field(r, job):
    return r.xrevrange(f"rq:results:{job.id}", count=1)[0][1].get(b"return_value")


def status(job):
    return job.get_status(refresh=True)


# (function, args, kwargs): run by task-worker and by RQ's SimpleWorker, compared.
CASES = {
    "int": (jobs.add, (1, 2), {}),
    "float": (jobs.returns, ("float",), {}),
    "str": (jobs.returns, ("str",), {}),
    "bytes": (jobs.returns, ("bytes",), {}),
    "none": (jobs.returns, ("none",), {}),
    "dict": (jobs.returns, ("dict",), {}),
    "list": (jobs.returns, ("list",), {}),
    "custom_class_result": (jobs.returns, ("point",), {}),
    "custom_class_argument": (jobs.echo, (jobs.Point(3, 4),), {}),
    "kwargs": (jobs.kwargs, (1,), {"c": 30}),
    "by_name": ("pyjobs.jobs.add", (2, 3), {}),
    "instance_method": (jobs.Point(3, 4).norm2, (), {}),
    "instance_method_args": (jobs.Point(1, 1).moved, (2,), {"dy": 5}),
    "class_method": (jobs.Point.origin, (), {}),
    "static_method": (jobs.Point.double, (21,), {}),
    "builtin": (len, ([1, 2, 3],), {}),
    "operator": (operator.add, (40, 2), {}),
    "exception": (jobs.fail, ("boom",), {}),
    "chained_exception": (jobs.nested_fail, (), {}),
    "unknown_function": ("pyjobs.jobs.no_such_function", (), {}),
    "unknown_module": ("pyjobs.no_such_module.f", (), {}),
    "unpicklable_result": (jobs.unpicklable, (), {}),
}


def test_python_jobs_match_rqs_own_worker(r, run_burst, python_args):
    ours, theirs = Queue("py", connection=r), Queue("ref", connection=r)
    pairs = {}
    for name, (func, args, kwargs) in CASES.items():
        pairs[name] = (ours.enqueue(func, *args, **kwargs), theirs.enqueue(func, *args, **kwargs))
    run_burst("-q", "py", *python_args())
    reference_worker(theirs).work(burst=True)
    for name, (job, ref) in pairs.items():
        assert status(job) == status(ref), (name, status(job), status(ref))
        if status(ref) == JobStatus.FINISHED:
            assert job.return_value() == ref.return_value(), name
            # Stored byte for byte as RQ stores it (`Unserializable return value` included).
            assert result_field(r, job) == result_field(r, ref), name
            assert job.latest_result().type == ref.latest_result().type, name
        else:
            assert last_line(job) == last_line(ref), (name, job.latest_result().exc_string)
            # The whole traceback is RQ's, but for the frame of RQ's own worker.
            assert job.latest_result().exc_string == without_workers_frame(ref.latest_result().exc_string), name
            assert job.latest_result().exc_string.startswith("Traceback (most recent call last):\n")
    assert pairs["int"][0].return_value() == 3
    assert pairs["custom_class_result"][0].return_value() == jobs.Point(1, 2)
    assert pairs["custom_class_argument"][0].return_value() == jobs.Point(3, 4)
    assert pairs["instance_method_args"][0].return_value() == jobs.Point(3, 6)
    assert pairs["static_method"][0].return_value() == 42
    assert pairs["none"][0].return_value() is None
    assert last_line(pairs["exception"][0]) == "ValueError: boom"
    # The traceback goes down to the job's own frame, as RQ's does.
    assert 'in fail\n    raise ValueError(message)' in pairs["exception"][0].latest_result().exc_string
    assert "KeyError: 'missing'" in pairs["chained_exception"][0].latest_result().exc_string


def test_meta_and_get_current_job(r, run_burst, python_args):
    q = Queue("py", connection=r)
    job = q.enqueue(jobs.use_meta, meta={"given": 21})
    run_burst("-q", "py", *python_args())
    assert status(job) == JobStatus.FINISHED
    assert job.return_value() == 42
    job.refresh()
    assert job.meta == {"given": 21, "seen_by": job.id, "double": 42}


def test_timeout_kills_the_job_and_the_worker_goes_on(r, run_burst, python_args):
    q = Queue("py", connection=r)
    slow = q.enqueue(jobs.sleep, 60, job_timeout=1)
    after = q.enqueue(jobs.add, 2, 2)
    run_burst("-q", "py", *python_args())
    assert status(slow) == JobStatus.FAILED
    assert last_line(slow) == "rq.timeouts.JobTimeoutException: Task exceeded maximum timeout value (1 seconds)"
    assert status(after) == JobStatus.FINISHED and after.return_value() == 4


def test_a_process_that_dies_fails_only_its_job(r, run_burst, python_args):
    q = Queue("py", connection=r)
    before = q.enqueue(jobs.pid)
    dies = q.enqueue(jobs.die, 3)
    after = q.enqueue(jobs.pid)
    run_burst("-q", "py", *python_args())
    assert status(before) == JobStatus.FINISHED
    assert status(dies) == JobStatus.FAILED
    # RQ's text: the raw waitpid status of exit code 3.
    assert dies.latest_result().exc_string == "Work-horse terminated unexpectedly; waitpid returned 768; "
    assert status(after) == JobStatus.FINISHED
    assert after.return_value() != before.return_value()  # a new process


def test_processes_are_reused_and_recycled(r, run_burst, python_args, mode):
    q = Queue("py", connection=r)
    first = [q.enqueue(jobs.pid) for _ in range(3)]
    run_burst("-q", "py", *python_args())
    # reuse: one process runs them all; fork: a fresh child per job.
    assert len({j.return_value() for j in first}) == (1 if mode == "reuse" else 3)
    second = [q.enqueue(jobs.pid) for _ in range(3)]
    run_burst("-q", "py", *python_args("--python-max-jobs", "1"))
    assert len({j.return_value() for j in second}) == 3


def test_retry_and_dependency(r, run_burst, python_args):
    q = Queue("py", connection=r)
    flaky = q.enqueue(jobs.count_then_fail, "runs", retry=Retry(max=1))
    parent = q.enqueue(jobs.add, 1, 2)
    child = q.enqueue(jobs.add, 3, 4, depends_on=parent)
    run_burst("-q", "py", *python_args())
    assert status(flaky) == JobStatus.FAILED
    assert int(r.get("runs")) == 2
    assert last_line(flaky) == "ValueError: fails every time"
    assert status(parent) == JobStatus.FINISHED
    assert status(child) == JobStatus.FINISHED and child.return_value() == 7


def test_stop_job_kills_the_python_process(r, start_worker, python_args):
    q = Queue("py", connection=r)
    w = start_worker("-q", "py", *python_args())
    slow = q.enqueue(jobs.sleep, 60)
    wait_until(lambda: status(slow) == JobStatus.STARTED, what="job started")
    send_stop_job_command(r, slow.id)
    wait_until(lambda: status(slow) == JobStatus.STOPPED, what="job stopped")
    after = q.enqueue(jobs.add, 5, 5)
    wait_until(lambda: status(after) == JobStatus.FINISHED, what="next job finished")
    assert after.return_value() == 10
    w.stop()


def test_without_python_unknown_functions_still_fail_with_lookup_error(r, run_burst):
    q = Queue("py", connection=r)
    job = q.enqueue(jobs.add, 1, 2)
    run_burst("-q", "py")
    assert status(job) == JobStatus.FAILED
    assert last_line(job).startswith("LookupError: task-worker has no task named \"pyjobs.jobs.add\"")


def test_a_bad_interpreter_is_a_start_up_error(redis_server, tmp_path):
    for python in ["/nonexistent/python", str(tmp_path)]:
        proc = subprocess.run([str(WORKER), "--redis-url", redis_server.url, "--burst", "-q", "py",
                               "--python", python], capture_output=True, text=True, timeout=60)
        assert proc.returncode != 0
        assert "cannot start a Python runner" in proc.stderr, proc.stderr[-2000:]


def test_kill_horse_kills_the_python_process(r, start_worker, python_args, mode):
    q = Queue("py", connection=r)
    w = start_worker("-q", "py", "-n", "PYKILL", *python_args())
    slow = q.enqueue(jobs.sleep_with_pid, 60)
    pid = started_with_pid(slow)
    python = descendants(w.proc.pid)
    assert pid in python
    parents = python - {pid} - descendants(pid)
    send_kill_horse_command(r, "PYKILL")
    wait_until(lambda: status(slow) == JobStatus.FAILED, what="job killed")
    # RQ's text for a killed work horse.
    assert slow.latest_result().exc_string == "Work-horse terminated unexpectedly; waitpid returned 9 (signal 9); "
    wait_until(lambda: not alive(pid), what="the job's process to be gone")
    after = q.enqueue(jobs.add, 5, 5)
    wait_until(lambda: status(after) == JobStatus.FINISHED, timeout=60, what="next job finished")
    if mode == "fork":
        # Only the job's child was killed: the warm parent lives on and ran the next job.
        assert parents and all(alive(p) for p in parents)
        assert parents <= descendants(w.proc.pid)


def test_stop_job_ends_the_python_process(r, start_worker, python_args):
    q = Queue("py", connection=r)
    start_worker("-q", "py", *python_args())
    slow = q.enqueue(jobs.sleep_with_pid, 60)
    pid = started_with_pid(slow)
    send_stop_job_command(r, slow.id)
    wait_until(lambda: status(slow) == JobStatus.STOPPED, what="job stopped")
    assert slow.latest_result().exc_string == "Job stopped by user, work-horse terminated."
    wait_until(lambda: not alive(pid), what="the job's process to be gone")


@pytest.mark.skipif(not RQ3, reason="stop-execution is new in RQ 3.0")
def test_stop_execution_ends_the_python_process(r, start_worker, python_args):
    from rq.command import send_stop_execution_command
    q = Queue("py", connection=r)
    start_worker("-q", "py", *python_args())
    slow = q.enqueue(jobs.sleep_with_pid, 60)
    pid = started_with_pid(slow)
    send_stop_execution_command(r, slow.id, slow.get_executions()[0].id)
    wait_until(lambda: status(slow) == JobStatus.STOPPED, what="job stopped")
    wait_until(lambda: not alive(pid), what="the job's process to be gone")


def test_warm_shutdown_past_the_timeout_ends_the_python_job(r, start_worker, python_args):
    q = Queue("py", connection=r)
    w = start_worker("-q", "py", "-n", "PYWARM", "--shutdown-timeout", "1", *python_args())
    slow = q.enqueue(jobs.sleep_with_pid, 300, job_timeout=600, on_failure=Callback(jobs.record_failure))
    pid = started_with_pid(slow)
    python = descendants(w.proc.pid)
    assert pid in python
    w.signal(signal.SIGTERM)
    assert w.wait(timeout=60) == 0, w.output()[-3000:]
    # Ended as the worker ends any job at shutdown, with RQ's exception type.
    assert status(slow) == JobStatus.FAILED
    assert last_line(slow) == ("rq.exceptions.ShutDownImminentException: "
                               "task-worker was shut down before the job finished")
    assert slow.id in FailedJobRegistry(queue=q).get_job_ids()
    assert StartedJobRegistry(queue=q).get_job_ids() == []
    # No Python process is left behind.
    wait_until(lambda: not any(alive(p) for p in python), what="the Python processes to be gone")


def test_sigkill_of_the_worker_kills_the_python_processes(r, start_worker, run_burst, python_args):
    q = Queue("py", connection=r)
    w = start_worker("-q", "py", "-n", "PYVICTIM", *python_args())
    slow = q.enqueue(jobs.sleep_with_pid, 300, job_timeout=600, on_failure=Callback(jobs.record_failure))
    pid = started_with_pid(slow)
    python = descendants(w.proc.pid)
    assert pid in python
    w.signal(signal.SIGKILL)
    w.wait()
    # The parent-death signal: nothing of the worker's survives it.
    wait_until(lambda: not any(alive(p) for p in python), what="the Python processes to die")
    # The job is recovered as any abandoned job: its heartbeat lapses (made to happen now).
    member = r.zrange("rq:wip:py", 0, -1)[0]
    r.zadd("rq:wip:py", {member: 1000}, xx=True)
    run_burst("-q", "py", "-n", "PYRESCUER", *python_args())
    assert status(slow) == JobStatus.FAILED
    assert "AbandonedJobError" in slow.latest_result().exc_string
    assert r.zcard("rq:wip:py") == 0
    # Its Python failure callback ran, as RQ's registry cleanup runs it.
    assert recorded(r, slow) == ["failure:AbandonedJobError:"]


def recorded(r, job):
    """What the job's callbacks (pyjobs.jobs.record_*) recorded, in order."""
    return [v.decode() for v in r.lrange(f"callbacks:{job.id}", 0, -1)]


# (function, args, callbacks): Python callbacks, run by task-worker and by RQ's SimpleWorker.
CALLBACK_CASES = {
    "success": (jobs.add, (1, 2), {"on_success": Callback(jobs.record_success),
                                   "on_failure": Callback(jobs.record_failure)}),
    "failure": (jobs.fail, ("boom",), {"on_success": Callback(jobs.record_success),
                                       "on_failure": Callback(jobs.record_failure)}),
    "success_callback_fails": (jobs.add, (1, 2), {"on_success": Callback(jobs.success_callback_fails),
                                                  "on_failure": Callback(jobs.record_failure)}),
    "failure_callback_fails": (jobs.fail, ("boom",), {"on_failure": Callback(jobs.failure_callback_fails)}),
    "by_name": (jobs.add, (2, 2), {"on_success": Callback("pyjobs.jobs.record_success")}),
}


def test_python_callbacks_match_rqs_own_worker(r, run_burst, python_args):
    ours, theirs = Queue("py", connection=r), Queue("ref", connection=r)
    pairs = {name: (ours.enqueue(f, *args, **cbs), theirs.enqueue(f, *args, **cbs))
             for name, (f, args, cbs) in CALLBACK_CASES.items()}
    # Starts written before the jobs run, as RQ does: RQ 2.0's success callback sees the status
    # in Redis (`started`), which a deferred start (`--defer-start-ms`) has not written yet.
    run_burst("-q", "py", "--defer-start-ms", "0", *python_args())
    reference_worker(theirs).work(burst=True)
    for name, (job, ref) in pairs.items():
        assert recorded(r, job) == recorded(r, ref), name
        assert status(job) == status(ref), (name, status(job), status(ref))
        if status(ref) == JobStatus.FINISHED:
            assert job.return_value() == ref.return_value(), name
        else:
            # The callback's exception is the job's, with RQ's whole traceback (chained to the
            # job's own for a failure callback).
            assert job.latest_result().exc_string == without_workers_frame(ref.latest_result().exc_string), name
    assert recorded(r, pairs["success"][0]) and recorded(r, pairs["failure"][0])
    assert last_line(pairs["failure_callback_fails"][0]) == "KeyError: 'failure callback failed'"


def test_python_callback_timeouts(r, run_burst, python_args):
    q = Queue("py", connection=r)
    slow_success = q.enqueue(jobs.add, 1, 2, on_success=Callback(jobs.slow_callback, timeout=1),
                             on_failure=Callback(jobs.record_failure))
    slow_failure = q.enqueue(jobs.fail, "boom", on_failure=Callback(jobs.slow_callback, timeout=1))
    slow_job = q.enqueue(jobs.sleep, 3600, job_timeout=1, on_failure=Callback(jobs.record_failure))
    after = q.enqueue(jobs.add, 2, 3)
    run_burst("-q", "py", *python_args())
    timeout = "Task exceeded maximum timeout value (1 seconds)"
    for job in (slow_success, slow_failure, slow_job):
        assert status(job) == JobStatus.FAILED
        assert last_line(job) == f"rq.timeouts.JobTimeoutException: {timeout}"
    # The failure callback still runs after a timeout (on its own, in a new process), with RQ's
    # exception type and message.
    assert recorded(r, slow_success) == [f"failure:JobTimeoutException:{timeout}"]
    assert recorded(r, slow_job) == [f"failure:JobTimeoutException:{timeout}"]
    assert after.return_value() == 5


def test_python_stopped_callback(r, start_worker, python_args):
    q = Queue("py", connection=r)
    start_worker("-q", "py", *python_args())
    job = q.enqueue(jobs.sleep_with_pid, 3600, on_stopped=Callback(jobs.record_stopped))
    started_with_pid(job)
    send_stop_job_command(r, job.id)
    wait_until(lambda: status(job) == JobStatus.STOPPED, timeout=60, what="the job to stop")
    wait_until(lambda: recorded(r, job) == ["stopped"], timeout=60, what="the stopped callback")


def test_mixed_rust_and_python_callbacks(r, run_burst, python_args):
    q = Queue("py", connection=r)
    # A task's job with a Python callback: refused before it runs, with a clear text.
    task_job = q.enqueue("echo", 1, on_success=Callback(jobs.record_success))
    # A Python job with a task's callback: the task runs it.
    rust_cb = q.enqueue(jobs.add, 1, 2, on_success=Callback("noop"))
    # A task's success callback fails: the Python failure callback still runs.
    both = q.enqueue(jobs.add, 1, 2, on_success=Callback("fail"), on_failure=Callback(jobs.record_failure))
    run_burst("-q", "py", *python_args())
    assert status(task_job) == JobStatus.FAILED and recorded(r, task_job) == []
    assert "callbacks that are not tasks (Python callbacks with --python) run only for jobs" in last_line(task_job)
    assert status(rust_cb) == JobStatus.FINISHED and rust_cb.return_value() == 3
    assert status(both) == JobStatus.FAILED
    [record] = recorded(r, both)
    assert record.startswith("failure:"), record


def retry_summary(r, job):
    results = job.results()
    latest = results[0].return_value if results else None
    return (status(job), r.hget(job.key, "number_of_retries"), [res.type for res in results],
            type(latest).__name__, getattr(latest, "max", latest))


def test_a_returned_retry(r, run_burst, python_args):
    ours, theirs = Queue("py", connection=r), Queue("ref", connection=r)
    pairs = {}
    for name, f, args in (("until", jobs.retry_until, (3,)), ("always", jobs.always_retry, ()),
                          ("later", jobs.retry_until, (2, 3600))):
        pairs[name] = tuple(q.enqueue(f, f"{q.name}:{name}", *args) for q in (ours, theirs))
    run_burst("-q", "py", *python_args())
    reference_worker(theirs).work(burst=True)
    for name, (job, ref) in pairs.items():
        assert retry_summary(r, job) == retry_summary(r, ref), name
    until, always, later = (pairs[n][0] for n in ("until", "always", "later"))
    if RETRY_RETURNED:
        assert status(until) == JobStatus.FINISHED and until.return_value() == 3
        assert int(r.get("py:until")) == 3
        assert status(always) == JobStatus.FAILED and always.id in FailedJobRegistry("py", connection=r)
        assert status(later) == JobStatus.SCHEDULED and later.id in ScheduledJobRegistry("py", connection=r)
    else:
        # RQ 2.0: the Retry is the job's value.
        for job in (until, always, later):
            assert status(job) == JobStatus.FINISHED and type(job.return_value()).__name__ == "Retry"


def test_a_huge_return_value(r, run_burst, python_args):
    """20 MB: above the worker's decoder limit (16 MiB), which only observers and task
    callbacks use; the value is stored whole, as RQ stores it, and the next job runs."""
    q = Queue("py", connection=r)
    big = q.enqueue(jobs.huge, 20)
    after = q.enqueue(jobs.add, 1, 2)
    run_burst("-q", "py", *python_args())
    assert status(big) == JobStatus.FINISHED and big.return_value() == b"x" * (20 << 20)
    assert after.return_value() == 3


def test_a_huge_argument(r, run_burst, python_args):
    """40 MB of arguments: the job's data reaches the runner whole (in the job hash the worker
    sends), and the next job runs."""
    q = Queue("py", connection=r)
    big = q.enqueue(jobs.size, os.urandom(40 << 20))
    after = q.enqueue(jobs.add, 1, 2)
    run_burst("-q", "py", *python_args())
    assert status(big) == JobStatus.FINISHED and big.return_value() == 40 << 20
    assert after.return_value() == 3
