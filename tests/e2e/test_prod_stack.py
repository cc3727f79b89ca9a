"""docker-compose-prod.yaml for real, with TASK_WORKER_DEFAULT_REPLICAS=4: health and replicas,
queues, rq info, `docker kill` of a replica mid-job, scaling 4 -> 1 under load, and
`docker compose stop` during long jobs (handed back at the front of their queues)."""
import time

import pytest
from rq import Queue, Retry
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry, StartedJobRegistry

from stacks import (
    START_PERIOD_S, WORKER_SERVICES, check_image, check_jobs_run_by_the_right_services,
    check_logs_plain, check_rq_info_lists_every_replica, hostname, inspect, report, run,
    service_of_hostnames, wait_healthy, wait_until, worker_hosts,
)

# Shared between the kill test and the recovery check that runs after the scale-in test.
STATE = {}


@pytest.fixture(scope="module")
def prod(make_stack):
    stack = make_stack("prod", TASK_WORKER_DEFAULT_REPLICAS=4)
    t0 = time.monotonic()
    stack.up()
    report(f"prod: compose up returned after {time.monotonic() - t0:.1f} s")
    return stack


def finished(jobs):
    return all(j.get_status(refresh=True) == JobStatus.FINISHED for j in jobs)


def test_replicas_turn_healthy_within_start_period(prod):
    assert len(prod.containers("task-worker-default")) == 4
    assert len(prod.containers("task-worker-high")) == 1
    took = wait_healthy(prod)
    for name, secs in sorted(took.items()):
        report(f"prod: {name} healthy {secs:.1f} s after start (start period {START_PERIOD_S:.0f} s)")
        assert secs <= START_PERIOD_S, name
    report("prod: TASK_WORKER_DEFAULT_REPLICAS=4 gave 4 task-worker-default containers (+1 task-worker-high)")


def test_image_user_and_stripped_binary(prod):
    check_image(prod)


def test_jobs_run_by_the_right_services(prod):
    check_jobs_run_by_the_right_services(prod, per_queue=12)
    check_logs_plain(prod)


def test_rq_info_lists_every_replica(prod):
    assert check_rq_info_lists_every_replica(prod) == 5


def test_sandbox_has_per_job_namespaces_in_the_stack(prod):
    """(Before the tests that stop workers.) The compose file's seccomp profile
    (docker/seccomp/task-worker.json) lets the sandbox give each job its own namespaces: sandbox-check in a running worker says every layer is
    active, and the worker said so at start-up (no SANDBOX DEGRADED warning)."""
    cid = prod.containers("task-worker-high")[0]
    out = run(["docker", "exec", cid, "task-worker", "sandbox-check"], check=False)
    text = out.stdout + out.stderr
    assert out.returncode == 0, text
    assert "active   per-job namespaces" in text, text
    started = run(["docker", "logs", cid], check=False)
    logs = started.stdout + started.stderr
    assert "SANDBOX DEGRADED" not in logs
    assert "gets its own user, mount, PID and IPC namespaces" in logs
    report("prod: sandbox-check inside the worker: per-job namespaces active")


def test_kill_replica_mid_job(prod):
    conn = prod.redis()
    q = Queue("default", connection=conn)
    jobs = [q.enqueue("sleep", 6, retry=Retry(max=1), job_timeout=600) for _ in range(4)]
    wait_until(lambda: all(j.get_status(refresh=True) == JobStatus.STARTED for j in jobs), 60,
               "one long job per replica")
    victim_job = Job.fetch(jobs[0].id, connection=conn)
    hosts = worker_hosts(conn)
    victim_host = hosts[victim_job.worker_name]
    victim = next(c for c in prod.containers("task-worker-default") if hostname(c) == victim_host)
    run(["docker", "kill", victim])
    STATE.update(jobs=jobs, victim_job=victim_job.id, victim_worker=victim_job.worker_name,
                 killed_at=time.monotonic())
    report(f"prod: docker kill {victim[:12]} while it ran job {victim_job.id[:8]}")


def test_scale_in_to_one_under_load_loses_nothing(prod):
    conn = prod.redis()
    jobs = [Queue(q, connection=conn).enqueue("sleep", 0.3) for q in ("default", "low_priority") for _ in range(30)]
    wait_until(lambda: sum(j.get_status(refresh=True) == JobStatus.FINISHED for j in jobs) >= 5, 60, "load running")
    t0 = time.monotonic()
    prod.up("task-worker-default", extra_env={"TASK_WORKER_DEFAULT_REPLICAS": "1"}, timeout=300)
    report(f"prod: scaled task-worker-default 4 -> 1 under load in {time.monotonic() - t0:.1f} s")
    assert len(prod.containers("task-worker-default")) == 1
    wait_until(lambda: finished(jobs), 180, "every load job finished")
    failed = FailedJobRegistry(queue=Queue("default", connection=conn)).get_job_ids() + \
        FailedJobRegistry(queue=Queue("low_priority", connection=conn)).get_job_ids()
    assert failed == []
    assert all(conn.xlen(f"rq:results:{j.id}") == 1 for j in jobs)
    report(f"prod: scale-in: {len(jobs)}/{len(jobs)} load jobs finished once, 0 failed, 0 lost")


def test_killed_replicas_job_recovered(prod):
    conn = prod.redis()
    assert STATE, "test_kill_replica_mid_job did not run"
    jobs = [Job.fetch(j.id, connection=conn) for j in STATE["jobs"]]
    wait_until(lambda: finished(jobs), 240, "the killed replica's job recovered and finished", interval=1)
    report(f"prod: killed replica's job finished {time.monotonic() - STATE['killed_at']:.0f} s after the kill "
           "(heartbeat score 60-90 s, then maintenance)")
    victim = Job.fetch(STATE["victim_job"], connection=conn)
    assert victim.worker_name != STATE["victim_worker"], "recovered by another worker"
    assert victim.retries_left == 0, "recovered through its Retry"
    assert FailedJobRegistry(queue=Queue("default", connection=conn)).get_job_ids() == []
    assert all(conn.xlen(f"rq:results:{j.id}") == 1 for j in jobs)
    report(f"prod: kill: {len(jobs)}/{len(jobs)} long jobs finished (1 retried after the kill), 0 lost")


def test_compose_stop_hands_back_running_jobs(prod):
    conn = prod.redis()
    default, high = Queue("default", connection=conn), Queue("high_priority", connection=conn)
    long_jobs = [default.enqueue("sleep", 300, job_timeout=900), high.enqueue("sleep", 300, job_timeout=900)]
    wait_until(lambda: all(j.get_status(refresh=True) == JobStatus.STARTED for j in long_jobs), 60,
               "long jobs running")
    behind = [default.enqueue("echo", i) for i in range(3)]
    cids = [c for s in WORKER_SERVICES for c in prod.containers(s)]
    t0 = time.monotonic()
    prod.compose("stop", *WORKER_SERVICES, timeout=180)
    took = time.monotonic() - t0
    grace = 40
    for c in cids:
        state = inspect(c)["State"]
        # 0 = it exited on its own after handing back; 137 would be Docker's SIGKILL at the grace end.
        assert (state["Status"], state["ExitCode"], state["OOMKilled"]) == ("exited", 0, False), state
    report(f"prod: docker compose stop of {len(cids)} workers took {took:.1f} s "
           f"(SHUTDOWN_TIMEOUT 25 s, stop_grace_period {grace} s); every exit code 0")
    for q, j in ((default, long_jobs[0]), (high, long_jobs[1])):
        job = Job.fetch(j.id, connection=conn)
        assert job.get_status() == JobStatus.QUEUED, job.get_status()
        assert q.job_ids[0] == j.id, "handed back at the FRONT of its queue"
        assert StartedJobRegistry(queue=q).get_job_ids() == []
        assert FailedJobRegistry(queue=q).get_job_ids() == []
        assert conn.zcard(f"rq:wip:{q.name}") == 0
    assert default.job_ids == [long_jobs[0].id] + [j.id for j in behind]
    report("prod: stop: 2 running long jobs handed back at the front of default/high_priority, "
           "3 queued jobs behind them untouched, 0 failed, 0 abandoned")
    # Started again, a worker takes the handed-back job first.
    prod.compose("start", "task-worker-default", timeout=120)
    wait_until(lambda: Job.fetch(long_jobs[0].id, connection=conn).get_status() == JobStatus.STARTED, 90,
               "handed-back job taken again")
    services = service_of_hostnames(prod)
    again = Job.fetch(long_jobs[0].id, connection=conn)
    assert services[worker_hosts(conn)[again.worker_name]] == "task-worker-default"
    report("prod: after start: the handed-back job is the first one a worker takes")

