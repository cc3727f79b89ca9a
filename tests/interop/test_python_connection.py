"""Python jobs (`--python`, docs/python-jobs.md §5) connect as the worker does: through Redis
Sentinel (following a failover between jobs), over mutual TLS, and with RQ 3.0's key prefix.
The runner is told how to connect in its first frame (never in argv or its environment)."""
import shutil
import sys
import subprocess
from pathlib import Path

import pytest
import redis
import rq
from rq import Queue
from rq.job import Job, JobStatus

from harness import WORKER, wait_until
from harness.sentinel import SentinelCluster, Server, make_certs, tls_kwargs, worker_tls_args
from harness.worker import Worker

HERE = Path(__file__).resolve().parent
RQ3 = rq.__version__.startswith("3.")


def python_args(mode):
    return ["--python", sys.executable, "--python-path", str(HERE), "--python-mode", mode]


def finished(job):
    """Waits until `job` finished; returns its return value."""
    def done():
        job.refresh()
        status = job.get_status()
        assert status != JobStatus.FAILED, job.latest_result().exc_string
        return status == JobStatus.FINISHED
    wait_until(done, timeout=60, what=f"job {job.id} to finish")
    return job.return_value()


@pytest.fixture(scope="module")
def certs():
    d = make_certs()
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.rq_version_independent
def test_python_jobs_through_sentinel_over_tls_follow_a_failover(certs):
    """Sentinels and master with passwords, TLS everywhere (client certificates): a
    long-lived runner (`reuse`) and a forking one each run a job that writes its meta before
    and after a forced failover; the reuse runner is the same process on both sides."""
    cluster = SentinelCluster(certs)
    workers = []
    try:
        for mode in ("reuse", "fork"):
            workers.append(Worker(cluster.worker_url(), "-q", f"ha-{mode}", "-n", f"ha-{mode}",
                                  *cluster.worker_args(), *python_args(mode),
                                  env=cluster.worker_env()))

        def run(master, mode, given):
            q = Queue(f"ha-{mode}", connection=master.client())
            pid = q.enqueue("pyjobs.jobs.pid")
            meta = q.enqueue("pyjobs.jobs.use_meta", meta={"given": given})
            runner = finished(pid)
            assert finished(meta) == given * 2
            meta.refresh()
            assert meta.meta["seen_by"] == meta.id  # save_meta() reached this master
            return runner

        before = {mode: run(cluster.master, mode, 1) for mode in ("reuse", "fork")}
        new = cluster.failover()
        after = {mode: run(new, mode, 2) for mode in ("reuse", "fork")}
        assert after["reuse"] == before["reuse"], "the reuse runner was replaced"
        assert after["fork"] != before["fork"]  # a child per job
        for w in workers:
            out = w.output()
            assert "Redis master changed" in out, out
            assert "master-Pw" not in out and "sentinel-Pw" not in out
    finally:
        for w in workers:
            w.stop()
        cluster.stop()


@pytest.mark.rq_version_independent
@pytest.mark.parametrize("mode", ["reuse", "fork"])
def test_python_job_over_mutual_tls(certs, mode):
    """A TLS-only Redis that wants client certificates: the runner uses --redis-tls-*."""
    srv = Server("requirepass tls-Pw-81\n", "tls-Pw-81", certs)
    w = None
    try:
        w = Worker(f"rediss://127.0.0.1:{srv.port}/0", "-q", "tls", *worker_tls_args(certs),
                   *python_args(mode), env={"REDIS_PASSWORD": "tls-Pw-81"})
        q = Queue("tls", connection=srv.client())
        job = q.enqueue("pyjobs.jobs.use_meta", meta={"given": 21})
        assert finished(job) == 42
        assert Job.fetch(job.id, connection=srv.client()).meta["seen_by"] == job.id
        assert "tls-Pw-81" not in w.output()
    finally:
        if w:
            w.stop()
        srv.stop()


def test_python_job_with_a_key_prefix(redis_server):
    """RQ 3.0 (RQ_KEY_PREFIX): the runner loads the job under the worker's --key-prefix. RQ 2.x
    has no prefix: the worker refuses to start, in one line."""
    args = ["--redis-url", redis_server.url, "-q", "pfx", "--key-prefix", "app", "--burst",
            *python_args("reuse")]
    r = redis.Redis(port=redis_server.port)
    if not RQ3:
        proc = subprocess.run([str(WORKER), *args], capture_output=True, text=True, timeout=120)
        assert proc.returncode != 0
        lines = [l for l in proc.stderr.splitlines() if "--key-prefix app" in l]
        assert lines and "RQ 3.0" in lines[0], proc.stderr
        return
    # RQ 3.0 reads the prefix when it is imported: enqueue from a process that has it set.
    enqueue = ("import redis, sys; from rq import Queue; "
               f"q = Queue('pfx', connection=redis.Redis(port={redis_server.port})); "
               "print(q.enqueue('pyjobs.jobs.add', 2, 3).id)")
    env = {"RQ_KEY_PREFIX": "app", "PYTHONPATH": str(HERE)}
    job_id = subprocess.run([sys.executable, "-c", enqueue], capture_output=True, text=True,
                            check=True, env=env).stdout.strip()
    assert r.exists(f"app:job:{job_id}") and not r.exists(f"rq:job:{job_id}")
    proc = subprocess.run([str(WORKER), *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert r.hget(f"app:job:{job_id}", "status") == b"finished"
    assert r.xlen(f"app:results:{job_id}") == 1
