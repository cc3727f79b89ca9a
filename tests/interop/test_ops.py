"""The operator commands seen from Python RQ: `status` lists a real Python `rq worker`,
`submit` writes jobs Python reads like the backend's, `suspend`/`resume`/`requeue` have the
effects of `rq suspend`/`resume`/`requeue`, and `/metrics` parses with prometheus_client.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_prometheus
from rq import Queue
from rq.command import send_stop_job_command
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry
from rq.serializers import JSONSerializer
from rq.suspension import is_suspended

from harness import WORKER, free_port, wait_until

WRAPPER = "ctutor_backend.tasks.executor.TaskExecutor._execute_task_wrapper"
RQ_CLI = Path(sys.executable).parent / "rq"


def tw(redis_server, *args, timeout=60, check=True):
    """Runs `task-worker SUBCOMMAND --redis-url … ARGS`."""
    sub, rest = args[0], args[1:]
    env = {k: v for k, v in os.environ.items()
           if k not in ("REDIS_URL", "REDIS_PASSWORD", "RQ_KEY_PREFIX", "RQ_SERIALIZER")}
    proc = subprocess.run([str(WORKER), sub, "--redis-url", redis_server.url, *rest],
                          capture_output=True, text=True, timeout=timeout, env=env)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


class PythonWorker:
    """A real `rq worker` from the venv under test, in a process group of its own."""

    def __init__(self, url, name, *queues):
        self.log = tempfile.NamedTemporaryFile(prefix=f"tw-pyworker-{name}-", suffix=".log")
        self.proc = subprocess.Popen([str(RQ_CLI), "worker", "--url", url, "-n", name, *queues],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def stop(self):
        """Kills the worker (SIGKILL to its group): its shutdown is not under test, and a warm
        one sometimes hung for 30 s after the job in RQ 3.0 (the pub/sub thread's join). Redis
        is flushed before the next test."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)
        self.log.close()


@pytest.fixture
def python_worker(redis_server):
    started = []

    def start(name, *queues):
        w = PythonWorker(redis_server.url, name, *queues)
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()


def status_json(redis_server):
    return json.loads(tw(redis_server, "status", "--json").stdout)


def test_status_lists_python_and_rust_workers(redis_server, r, start_worker, python_worker):
    start_worker("-n", "rustw", "-q", "default")
    py = python_worker("pyworker", "pyq")
    wait_until(lambda: {b"rq:worker:rustw", b"rq:worker:pyworker"} <= r.smembers("rq:workers"),
               what="both workers registered")
    # The Python worker runs a job importable anywhere; status names it as its current job.
    # It runs until stopped at the end: every read below sees it running, however slow.
    job = Queue("pyq", connection=r).enqueue("time.sleep", 3600, job_timeout=7200)

    def busy_status():
        doc = status_json(redis_server)
        py_seen = [w for w in doc["workers"] if w["name"] == "pyworker"]
        started = [q["started"] for q in doc["queues"] if q["name"] == "pyq"]
        busy = py_seen and py_seen[0]["current_job"] == job.id and py_seen[0]["state"] == "busy"
        return doc if busy and started == [1] else None

    # Python sets `state` and the current job in separate steps (RQ 2.x), and status reads the
    # queue counts before the workers, so one snapshot can fall between them: wait for all three.
    doc = wait_until(busy_status, what="the python worker's current job in status")
    workers = {w["name"]: w for w in doc["workers"]}
    assert set(workers) == {"rustw", "pyworker"}
    pw = workers["pyworker"]
    assert pw["hostname"] == socket.gethostname()
    assert pw["pid"] == py.proc.pid
    assert pw["state"] == "busy"
    assert pw["queues"] == ["pyq"]
    assert pw["current_job"] == job.id
    assert pw["last_heartbeat_age"] < 60
    rw = workers["rustw"]
    assert rw["state"] in ("started", "idle") and rw["queues"] == ["default"]
    queues = {q["name"]: q for q in doc["queues"]}
    assert [q["name"] for q in doc["queues"]][:3] == ["high_priority", "default", "low_priority"]
    assert queues["pyq"]["started"] == 1

    table = tw(redis_server, "status").stdout
    assert table.startswith("Redis connection: OK")
    assert "pyworker" in table and "rustw" in table and job.id in table

    # Both workers count as this host's for the health probe.
    assert tw(redis_server, "health").stdout.startswith("healthy:")
    # The job's work horse (a session of its own) is gone before the worker is killed.
    send_stop_job_command(r, job.id)
    wait_until(lambda: job.get_status(refresh=True) == JobStatus.STOPPED, what="the python job stopped")


def test_submit_is_read_by_python_rq(redis_server, r, start_worker):
    job_id = tw(redis_server, "submit", "example_long_running", "duration=1",
                "message=hi").stdout.strip()
    job = Job.fetch(job_id, connection=r)
    assert job.func_name == WRAPPER
    assert tuple(job.args) == ("example_long_running", {"duration": 1, "message": "hi"})
    assert job.kwargs == {"retry_limit": 3, "delay": None}
    assert job.description == job.get_call_string()
    assert job.description == (WRAPPER + "('example_long_running', {'duration': 1, "
                               "'message': 'hi'}, delay=None, retry_limit=3)")
    assert job.timeout == 300
    assert job.origin == "default"
    assert job.get_status() == JobStatus.QUEUED
    assert job.enqueued_at is not None and job.created_at is not None
    assert Queue("default", connection=r).job_ids == [job_id]

    high = tw(redis_server, "submit", "noop", "--priority", "7").stdout.strip()
    assert Job.fetch(high, connection=r).origin == "high_priority"
    low = tw(redis_server, "submit", "noop", "--priority", "-1").stdout.strip()
    assert Job.fetch(low, connection=r).origin == "low_priority"
    as_json = tw(redis_server, "submit", "-S", "json", "echo", "--queue", "jsonq",
                 "--params", '{"value": [1, "a"]}').stdout.strip()
    jj = Job.fetch(as_json, connection=r, serializer=JSONSerializer)
    assert jj.args == ["echo", {"value": [1, "a"]}]
    assert jj.origin == "jsonq"

    # Unknown tasks never reach Redis.
    before = r.dbsize()
    refused = tw(redis_server, "submit", "nope", check=False)
    assert refused.returncode == 2 and "nope" in refused.stderr
    assert r.dbsize() == before

    # Run by task-worker; --wait prints what Python reads back.
    start_worker("-q", "default")
    done = tw(redis_server, "submit", "echo", 'value={"a": [1, 2.5]}', "--wait")
    waited_id, result = done.stdout.splitlines()
    assert json.loads(result) == {"a": [1, 2.5]}
    waited = Job.fetch(waited_id, connection=r)
    assert waited.get_status() == JobStatus.FINISHED
    assert waited.return_value() == {"a": [1, 2.5]}
    assert job.latest_result(timeout=30).return_value["status"] == "completed"

    failed = tw(redis_server, "submit", "fail", "message=kaput", "--wait", check=False)
    assert failed.returncode == 1
    failed_id = failed.stdout.strip()
    assert "Exception: kaput" in failed.stderr
    assert Job.fetch(failed_id, connection=r).latest_result().exc_string in failed.stderr


def test_suspend_and_resume_are_rqs(redis_server, r):
    tw(redis_server, "suspend")
    assert is_suspended(r)
    assert r.ttl("rq:suspended") == -1
    tw(redis_server, "resume")
    assert not is_suspended(r)
    tw(redis_server, "suspend", "--duration", "30")
    assert 0 < r.ttl("rq:suspended") <= 30
    # And the other way round: `rq resume` / `rq suspend` show in our status.
    subprocess.run([str(RQ_CLI), "resume", "--url", redis_server.url], check=True,
                   capture_output=True)
    assert status_json(redis_server)["suspended"] is False
    subprocess.run([str(RQ_CLI), "suspend", "--url", redis_server.url], check=True,
                   capture_output=True)
    assert status_json(redis_server)["suspended"] is True


def test_requeue_matches_python_registry_requeue(redis_server, r, run_burst):
    q = Queue("default", connection=r)
    ours, theirs = q.enqueue("fail", "boom"), q.enqueue("fail", "boom")
    run_burst("-q", "default")
    registry = FailedJobRegistry(queue=q)
    assert set(registry.get_job_ids()) == {ours.id, theirs.id}

    registry.requeue(theirs.id)
    tw(redis_server, "requeue", ours.id)

    assert registry.get_job_ids() == []
    assert q.job_ids == [theirs.id, ours.id]
    py_hash, our_hash = r.hgetall(theirs.key), r.hgetall(ours.key)
    assert set(py_hash) == set(our_hash)
    for field in (b"status", b"started_at", b"ended_at", b"exc_info", b"origin", b"timeout"):
        assert our_hash[field] == py_hash[field], field
    for j in (ours, theirs):
        j.refresh()
        assert j.get_status() == JobStatus.QUEUED
        assert j.started_at is None and j.ended_at is None

    # They run again; --all puts both back again.
    run_burst("-q", "default")
    assert set(registry.get_job_ids()) == {ours.id, theirs.id}
    out = tw(redis_server, "requeue", "--all", "--queue", "default").stdout
    assert "Requeued 2" in out
    assert sorted(q.job_ids) == sorted([ours.id, theirs.id])


def fetch(url, accept=None):
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status, resp.headers.get("Content-Type"), resp.read().decode()


def test_metrics_parse_with_prometheus_client(redis_server, r, start_worker):
    port = free_port()
    start_worker("-q", "default", "--metrics-addr", f"127.0.0.1:{port}")
    base = f"http://127.0.0.1:{port}"

    def up():
        try:
            return fetch(base + "/healthz")[0] == 200
        except (urllib.error.URLError, ConnectionError):
            return False

    wait_until(up, what="metrics endpoint")
    q = Queue("default", connection=r)
    jobs = [q.enqueue("echo", i) for i in range(3)] + [q.enqueue("fail", "x")]
    wait_until(lambda: all(j.get_status(refresh=True) in ("finished", "failed") for j in jobs),
               what="jobs done")
    # Observers hear of a job's end after it is written to Redis: wait until all four are counted.
    ended = ('task_worker_jobs_finished_total{queue="default",task="echo"} 3',
             'task_worker_jobs_failed_total{queue="default",task="fail"} 1')
    wait_until(lambda: all(line in fetch(base + "/metrics")[2] for line in ended),
               what="the four jobs counted")

    status, ctype, text = fetch(base + "/metrics")
    assert status == 200 and ctype.startswith("text/plain; version=0.0.4")
    samples = {}
    for fam in parse_prometheus(text):
        for s in fam.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    echo = (("queue", "default"), ("task", "echo"))
    fail = (("queue", "default"), ("task", "fail"))
    assert samples[("task_worker_jobs_started_total", echo)] == 3
    assert samples[("task_worker_jobs_finished_total", echo)] == 3
    assert samples[("task_worker_jobs_failed_total", fail)] == 1
    assert samples[("task_worker_job_duration_seconds_count", echo)] == 3
    assert samples[("task_worker_job_wait_seconds_count", (("queue", "default"),))] == 4
    assert samples[("task_worker_jobs_in_flight", (("queue", "default"),))] == 0
    assert ("task_worker_queue_depth", (("queue", "default"),)) in samples
    assert samples[("task_worker_redis_errors_total", (("op", "dequeue"),))] == 0

    status, ctype, om = fetch(base + "/metrics", "application/openmetrics-text; version=1.0.0")
    assert ctype.startswith("application/openmetrics-text")
    families = {f.name: f for f in parse_openmetrics(om)}  # strict: raises on any format error
    assert families["task_worker_jobs_started"].type == "counter"
    assert families["task_worker_job_duration_seconds"].type == "histogram"
    assert families["task_worker_queue_depth"].type == "gauge"

    with pytest.raises(urllib.error.HTTPError) as err:
        fetch(base + "/other")
    assert err.value.code == 404
