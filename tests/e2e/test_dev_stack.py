"""docker-compose-dev.yaml for real: health, queues, rq info, a worker cut off from the Redis
network for 20 s, a Redis restart, and a worker whose Redis is gone turning unhealthy."""
import time

import pytest
from rq import Queue
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry

from stacks import (
    START_PERIOD_S, WORKER_SERVICES, check_image, check_jobs_run_by_the_right_services,
    check_logs_plain, check_rq_info_lists_every_replica, health, hostname, inspect, report, run,
    wait_healthy, wait_until, worker_hosts,
)


@pytest.fixture(scope="module")
def dev(make_stack):
    stack = make_stack("dev")
    t0 = time.monotonic()
    stack.up()
    report(f"dev: compose up returned after {time.monotonic() - t0:.1f} s")
    return stack


def test_workers_turn_healthy_within_start_period(dev):
    took = wait_healthy(dev)
    for name, secs in sorted(took.items()):
        report(f"dev: {name} healthy {secs:.1f} s after start (start period {START_PERIOD_S:.0f} s)")
        assert secs <= START_PERIOD_S, name


def test_image_user_and_stripped_binary(dev):
    check_image(dev)


def test_jobs_run_by_the_right_services(dev):
    check_jobs_run_by_the_right_services(dev)
    check_logs_plain(dev)


def test_rq_info_lists_every_replica(dev):
    check_rq_info_lists_every_replica(dev)


def test_worker_cut_off_from_redis_for_20s_carries_on(dev):
    conn = dev.redis()
    q = Queue("default", connection=conn)
    cid = dev.containers("task-worker-default")[0]
    host = hostname(cid)
    # Ends while the worker is cut off: its end is written once it is back.
    job = q.enqueue("sleep", 8, job_timeout=600)
    wait_until(lambda: job.get_status(refresh=True) == JobStatus.STARTED, 60, "long job start")
    worker = Job.fetch(job.id, connection=conn).worker_name
    assert worker_hosts(conn)[worker] == host
    net = dev.network()
    run(["docker", "network", "disconnect", net, cid])
    cut_at = time.monotonic()
    try:
        # Enqueued while it is away: must wait for it, not be lost.
        during = [q.enqueue("echo", i) for i in range(3)]
        time.sleep(20)
    finally:
        run(["docker", "network", "connect", net, cid])
    back_at = time.monotonic()
    report(f"dev: {host} disconnected from {net} for {back_at - cut_at:.1f} s")
    wait_until(lambda: job.get_status(refresh=True) == JobStatus.FINISHED, 90, "long job end after reconnect")
    report(f"dev: long job's end written {time.monotonic() - back_at:.1f} s after the reconnect")
    wait_until(lambda: all(j.get_status(refresh=True) == JobStatus.FINISHED for j in during), 60,
               "jobs enqueued while it was away")
    job = Job.fetch(job.id, connection=conn)
    assert job.worker_name == worker
    assert conn.xlen(f"rq:results:{job.id}") == 1, "the job ran once and has one result"
    assert FailedJobRegistry(queue=q).get_job_ids() == [], "nothing failed (e.g. as abandoned)"
    assert all(Job.fetch(j.id, connection=conn).worker_name == worker for j in during)
    # The worker is still registered and heartbeating.
    assert worker in worker_hosts(conn)
    assert inspect(cid)["RestartCount"] == 0
    wait_until(lambda: health(cid) == "healthy", 60, "healthy after the reconnect", interval=1)
    report("dev: after the reconnect: 1 result for the long job, 3 queued jobs run by the same worker, 0 failed")


def test_redis_restart_fleet_carries_on(dev):
    conn = dev.redis()
    jobs = [Queue(q, connection=conn).enqueue("sleep", 0.5) for q in ("high_priority", "default") for _ in range(15)]
    wait_until(lambda: sum(j.get_status(refresh=True) == JobStatus.FINISHED for j in jobs) >= 4, 60, "a few jobs done")
    rcid = dev.containers("redis")[0]
    workers_before = {c: inspect(c)["State"]["StartedAt"] for s in WORKER_SERVICES for c in dev.containers(s)}
    run(["docker", "restart", "-t", "10", rcid], timeout=60)
    report("dev: redis container restarted mid-run")
    conn = dev.redis()
    wait_until(lambda: _ping(conn), 60, "redis back")
    jobs = [Job.fetch(j.id, connection=conn) for j in jobs]
    wait_until(lambda: all(j.get_status(refresh=True) == JobStatus.FINISHED for j in jobs), 120,
               "all jobs finished after the restart")
    assert all(conn.xlen(f"rq:results:{j.id}") == 1 for j in jobs)
    # The workers were not restarted: they waited Redis out.
    assert {c: inspect(c)["State"]["StartedAt"] for c in workers_before} == workers_before
    report(f"dev: {len(jobs)} jobs across a Redis restart: all finished once, workers not restarted")


def test_worker_whose_redis_is_gone_turns_unhealthy(dev):
    rcid = dev.containers("redis")[0]
    cids = [c for s in WORKER_SERVICES for c in dev.containers(s)]
    run(["docker", "stop", "-t", "10", rcid], timeout=60)
    gone = time.monotonic()
    try:
        wait_until(lambda: all(health(c) == "unhealthy" for c in cids), 150, "unhealthy workers", interval=1)
        report(f"dev: workers unhealthy {time.monotonic() - gone:.0f} s after Redis stopped "
               f"(3 failed probes, interval 10 s)")
    finally:
        run(["docker", "start", rcid], timeout=60)
    back = time.monotonic()
    wait_until(lambda: all(health(c) == "healthy" for c in cids), 150, "healthy again", interval=1)
    report(f"dev: workers healthy again {time.monotonic() - back:.0f} s after Redis came back")
    conn = dev.redis()
    job = Queue("default", connection=conn).enqueue("echo", "after")
    wait_until(lambda: job.get_status(refresh=True) == JobStatus.FINISHED, 60, "job after Redis came back")


def _ping(conn):
    try:
        return conn.ping()
    except Exception:  # noqa: BLE001 - any connection error means "not yet"
        return False
