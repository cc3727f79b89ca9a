"""A stand-in for the course backend's package, for tests/interop/test_python_backend_tasks.py:
only its task dispatch (`ctutor_backend.tasks.executor.TaskExecutor._execute_task_wrapper`)."""
