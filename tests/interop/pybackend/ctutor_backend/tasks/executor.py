"""The backend's task dispatch, as the course backend enqueues every task
(`_execute_task_wrapper(task_name, parameters, retry_limit=…, delay=…)`, docs/course-tasks.md
§1): it looks the task up in its own registry and calls it with the parameters. Its tasks here
record that they ran in Python (`backend:ran`), so a test sees which side ran a job."""
from rq import get_current_job

_TASKS = {}


def task(name):
    def register(f):
        _TASKS[name] = f
        return f
    return register


def _ran_here():
    job = get_current_job()
    job.connection.rpush("backend:ran", job.id)
    return job


@task("python_greeting")
def greeting(name, punctuation="!"):
    """A task the backend writes in Python: task-worker has no task of that name."""
    job = _ran_here()
    return {"greeting": f"hello {name}{punctuation}", "worker": job.worker_name}


@task("example_failing")
def example_failing(error_message="failed"):
    """Also a built-in task of task-worker: the built-in must run, not this one."""
    _ran_here()
    return "the backend's Python example_failing ran"


class TaskExecutor:
    @staticmethod
    def _execute_task_wrapper(task_name, parameters, retry_limit=None, delay=None):
        if task_name not in _TASKS:
            raise KeyError(f"Task '{task_name}' is not registered")
        return _TASKS[task_name](**parameters)
