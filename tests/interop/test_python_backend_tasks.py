"""The course backend's own Python tasks (issue 28 item 1, docs/python-jobs.md §1): with
`--python`, a job of the backend's dispatch function (`_execute_task_wrapper(task_name,
parameters)`) whose task is not a built-in runs the backend's own wrapper in Python; a built-in
task's job still runs the built-in. Without `--python` nothing changes. The backend here is a
stand-in package (pybackend/ctutor_backend) with the same dispatch."""
import sys
from pathlib import Path

import pytest
from rq import Queue
from rq.job import JobStatus

HERE = Path(__file__).resolve().parent
BACKEND = HERE / "pybackend"
WRAPPER = "ctutor_backend.tasks.executor.TaskExecutor._execute_task_wrapper"


def enqueue(q, task_name, parameters):
    """As the backend's `POST /tasks/submit` enqueues (docs/course-tasks.md §1.1)."""
    return q.enqueue(WRAPPER, task_name, parameters, retry_limit=3, delay=None)


def last_line(job):
    return job.latest_result().exc_string.rstrip("\n").splitlines()[-1]


@pytest.mark.parametrize("mode", ["reuse", "fork"])
def test_a_task_that_is_not_built_in_runs_the_backends_wrapper(r, run_burst, mode):
    q = Queue("default", connection=r)
    python_task = enqueue(q, "python_greeting", {"name": "ada"})
    built_in = enqueue(q, "example_failing", {"error_message": "nope"})
    unknown = enqueue(q, "no_such_task", {})
    run_burst("-q", "default", "-n", "tw-backend", "--python", sys.executable,
              "--python-path", str(BACKEND), "--python-mode", mode)
    python_task.refresh()
    assert python_task.get_status() == JobStatus.FINISHED
    assert python_task.return_value() == {"greeting": "hello ada!", "worker": "tw-backend"}
    # The built-in ran (its own failure text), not the backend's Python task of that name.
    built_in.refresh()
    assert built_in.get_status() == JobStatus.FAILED
    assert last_line(built_in) == "Exception: nope"
    # Neither side has the task: the backend's wrapper raised it, in Python.
    unknown.refresh()
    assert unknown.get_status() == JobStatus.FAILED
    assert last_line(unknown) == "KeyError: \"Task 'no_such_task' is not registered\""
    assert "ctutor_backend/tasks/executor.py" in unknown.latest_result().exc_string
    assert r.lrange("backend:ran", 0, -1) == [python_task.id.encode()]


def test_without_python_a_task_that_is_not_built_in_fails_as_before(r, run_burst):
    q = Queue("default", connection=r)
    job = enqueue(q, "python_greeting", {"name": "ada"})
    run_burst("-q", "default")
    job.refresh()
    assert job.get_status() == JobStatus.FAILED
    assert last_line(job) == "KeyError: \"Task 'python_greeting' is not registered\""
    assert r.lrange("backend:ran", 0, -1) == []
