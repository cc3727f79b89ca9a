"""The public builder API (issue 15): `crates/rq-worker/examples/custom_tasks.rs` registers its own tasks on the
`rq-worker` library alone, and real Python RQ enqueues them and reads them back.
Its test-only tasks (EXAMPLE_TEST_TASKS=1) show that a panicking handler fails only its job and
that a handler blocking its thread cannot keep the worker from exiting. Runs against RQ 2.0.0,
2.12.0 and 3.0.0."""
import signal
import subprocess
import time

import pytest

from rq import Queue, Retry
from rq.job import JobStatus
from rq.registry import StartedJobRegistry

from harness import EXAMPLE, wait_until

TEST_TASKS = {"EXAMPLE_TEST_TASKS": "1"}


@pytest.fixture(autouse=True)
def example_built():
    assert EXAMPLE.exists(), f"build the examples first (cargo build --workspace --examples): {EXAMPLE}"


def burst(redis_server, *args, env=None):
    proc = subprocess.run([str(EXAMPLE), "--redis-url", redis_server.url, "--burst", *args],
                          capture_output=True, text=True, timeout=60,
                          env=dict(__import__("os").environ, **(env or {})))
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return proc


def last_line(job):
    return job.latest_result().exc_string.rstrip("\n").splitlines()[-1]


def test_typed_tasks_round_trip_through_python_rq(r, redis_server):
    q = Queue("custom", connection=r)
    add = q.enqueue("myapp.tasks.add", 1, b=2)
    add_default = q.enqueue("myapp.tasks.add", 40)
    greet1 = q.enqueue("myapp.tasks.greet", "Ada")
    greet2 = q.enqueue("myapp.tasks.greet", name="Grace")
    counted = q.enqueue("myapp.tasks.count")
    proc = burst(redis_server, "-q", "custom")
    # The registered task types are logged (the example logs with tracing-subscriber's fmt, to
    # stdout; the worker binary logs to stderr).
    assert "myapp.tasks.add" in proc.stdout + proc.stderr
    assert add.get_status(refresh=True) == JobStatus.FINISHED and add.return_value() == 3
    assert add_default.return_value() == 40
    # Shared state from `.data(..)`: one Greeter for every job.
    assert greet1.return_value() == {"greeting": "Hello, Ada!", "count": 1}
    assert greet2.return_value() == {"greeting": "Hello, Grace!", "count": 2}
    assert counted.return_value() == 1


def test_bad_arguments_fail_with_pythons_type_errors(r, redis_server):
    q = Queue("custom", connection=r)
    missing = q.enqueue("myapp.tasks.add", b=2)
    unexpected = q.enqueue("myapp.tasks.add", 1, c=3)
    wrong_type = q.enqueue("myapp.tasks.add", "one")
    raised = q.enqueue("myapp.tasks.greet", "")
    unknown = q.enqueue("myapp.tasks.nope")
    burst(redis_server, "-q", "custom")
    for job in (missing, unexpected, wrong_type, raised, unknown):
        assert job.get_status(refresh=True) == JobStatus.FAILED, job.id
    assert last_line(missing) == "TypeError: myapp.tasks.add() missing 1 required positional argument: 'a'"
    assert last_line(unexpected) == "TypeError: myapp.tasks.add() got an unexpected keyword argument 'c'"
    assert last_line(wrong_type).startswith("TypeError: myapp.tasks.add() got a wrong argument: invalid type: string")
    assert last_line(raised) == "ValueError: name must not be empty"
    assert last_line(unknown).startswith('LookupError: task-worker has no task named "myapp.tasks.nope"')


def test_a_panicking_task_fails_its_job_and_the_worker_goes_on(r, redis_server, start_worker):
    q = Queue("custom", connection=r)
    w = start_worker("-q", "custom", "--shutdown-timeout", "3", env=TEST_TASKS, binary=EXAMPLE)
    boom = q.enqueue("myapp.tasks.explode", "boom", retry=Retry(max=1))
    wait_until(lambda: boom.get_status(refresh=True) == JobStatus.FAILED, timeout=30,
               what="the panicking job to fail after its retry")
    assert last_line(boom) == "RuntimeError: task panicked: exploded on boom"
    boom.refresh()
    assert boom.retries_left == 0  # the panic is an ordinary failure: the retry was used
    after = q.enqueue("myapp.tasks.explode", "fine")
    wait_until(lambda: after.get_status(refresh=True) == JobStatus.FINISHED, timeout=30,
               what="the next job")
    assert after.return_value() == "fine"
    assert StartedJobRegistry("custom", connection=r).get_job_ids() == []
    w.signal(signal.SIGTERM)
    # Nothing is running: the worker exits at once, well within its shutdown timeout.
    assert w.wait(timeout=30) == 0
    assert "task panicked" in w.output()


def test_a_handler_blocking_its_thread_cannot_keep_the_worker_alive(r, redis_server, start_worker):
    q = Queue("custom", connection=r)
    w = start_worker("-q", "custom", "--shutdown-timeout", "1", env=TEST_TASKS, binary=EXAMPLE)
    job = q.enqueue("myapp.tasks.block", 300, job_timeout=600)
    wait_until(lambda: job.get_status(refresh=True) == JobStatus.STARTED, timeout=30,
               what="the blocking job to start")
    time.sleep(0.5)
    w.signal(signal.SIGTERM)
    # Shutdown timeout (1 s), then the cancelled job's grace (5 s), then the job is ended from
    # the shutdown and the runtime is left; a generous bound far below the job's 300 s.
    assert w.wait(timeout=60) == 0, w.output()[-3000:]
    assert job.get_status(refresh=True) == JobStatus.FAILED
    assert "ShutDownImminentException" in last_line(job)
    assert StartedJobRegistry("custom", connection=r).get_job_ids() == []
    assert "ending them from the shutdown" in w.output()
