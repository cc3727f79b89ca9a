"""The backend's task entry point, reduced to the two tasks the benchmark runs.

Python RQ workers import `ctutor_backend.tasks.executor.TaskExecutor._execute_task_wrapper`
from here (bench/run puts bench/py on their PYTHONPATH only); task-worker resolves the same
function name to its built-in `noop` and `sleep` handlers. So both sides run the same jobs.
"""

import time


def noop(**_kwargs):
    return None


def sleep(seconds=0.0, **_kwargs):
    time.sleep(float(seconds))
    return None


TASKS = {"noop": noop, "sleep": sleep}


class TaskExecutor:
    @staticmethod
    def _execute_task_wrapper(task_name, parameters, retry_limit=None, delay=None):
        try:
            task = TASKS[task_name]
        except KeyError:
            raise KeyError(f"Task '{task_name}' is not registered") from None
        return task(**(parameters or {}))
