"""Python jobs (`--python`) are seen by the worker's observers as its tasks are (issue 28, item 5):
Prometheus metrics label them by their function name (a bounded set of names; for the course
backend's wrapper, the task it asks for), and the PostgreSQL history has a row per execution
with the function, status, result or error."""
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families as parse_prometheus
from rq import Queue

from harness import WORKER, free_port, wait_until
from harness.servers import Postgres

pytestmark = pytest.mark.rq_version_independent

HERE = Path(__file__).resolve().parent
WRAPPER = "ctutor_backend.tasks.executor.TaskExecutor._execute_task_wrapper"


def scrape(base):
    with urllib.request.urlopen(base + "/metrics", timeout=10) as resp:
        text = resp.read().decode()
    samples = {}
    for fam in parse_prometheus(text):
        for s in fam.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def test_python_jobs_reach_metrics_and_history(redis_server, r, start_worker):
    # initdb refuses root: the cluster runs as nobody then.
    pg = Postgres("observers-pw", *((65534, 65534) if os.geteuid() == 0 else (None, None)))
    try:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        start_worker("-q", "default", "--metrics-addr", f"127.0.0.1:{port}",
                     "--python", sys.executable, "--python-path", str(HERE),
                     "--python-path", str(HERE / "pybackend"),
                     env={"POSTGRES_URL": pg.url})

        def up():
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=10) as resp:
                    return resp.status == 200
            except (urllib.error.URLError, ConnectionError):
                return False

        wait_until(up, what="metrics endpoint")
        q = Queue("default", connection=r)
        added = [q.enqueue("pyjobs.jobs.add", i, 1) for i in range(3)]
        failed = q.enqueue("pyjobs.jobs.fail", "boom")
        echoed = q.enqueue("echo", "a task")  # a built-in task beside them
        # The backend's own Python task, through its wrapper (test_python_backend_tasks.py).
        greeted = q.enqueue(WRAPPER, "python_greeting", {"name": "x"}, retry_limit=3, delay=None)
        jobs = added + [failed, echoed, greeted]
        wait_until(lambda: all(j.get_status(refresh=True) in ("finished", "failed") for j in jobs),
                   what="jobs done")
        assert [j.return_value() for j in added] == [1, 2, 3]

        add = (("queue", "default"), ("task", "pyjobs.jobs.add"))
        fail = (("queue", "default"), ("task", "pyjobs.jobs.fail"))
        echo = (("queue", "default"), ("task", "echo"))
        greet = (("queue", "default"), ("task", "python_greeting"))
        want = {
            ("task_worker_jobs_started_total", greet): 1,
            ("task_worker_jobs_finished_total", greet): 1,
            ("task_worker_jobs_started_total", add): 3,
            ("task_worker_jobs_finished_total", add): 3,
            ("task_worker_job_duration_seconds_count", add): 3,
            ("task_worker_jobs_failed_total", fail): 1,
            ("task_worker_jobs_finished_total", echo): 1,
        }

        # Observers hear of a job's end after it is written to Redis: wait for the counts.
        def counted():
            samples = scrape(base)
            return samples if all(samples.get(k) == v for k, v in want.items()) else None

        samples = wait_until(counted, what=f"the metrics {want}")
        assert {k: samples[k] for k in want} == want
        assert ("task_worker_jobs_started_total", (("queue", "default"), ("task", "unknown"))) \
            not in samples

        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        env["POSTGRES_URL"] = pg.url

        def rows():
            proc = subprocess.run([str(WORKER), "history", "--json", "--limit", "100"],
                                  capture_output=True, text=True, timeout=60, env=env)
            assert proc.returncode == 0, proc.stderr
            done = [row for row in json.loads(proc.stdout)
                    if row.get("status") in ("finished", "failed")]
            return done if len(done) == len(jobs) else None

        history = {row["job_id"]: row for row in wait_until(rows, what="history rows")}
        for j in added:
            assert history[j.id]["func_name"] == "pyjobs.jobs.add"
            assert history[j.id]["status"] == "finished"
        assert history[failed.id]["func_name"] == "pyjobs.jobs.fail"
        assert history[failed.id]["status"] == "failed"
        assert "boom" in json.dumps(history[failed.id])
        assert history[echoed.id]["status"] == "finished"
        assert history[greeted.id]["func_name"] == WRAPPER
        assert history[greeted.id]["task_name"] == "python_greeting"
        assert history[greeted.id]["status"] == "finished"
    finally:
        pg.stop()
