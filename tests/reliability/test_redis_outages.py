"""Redis outages mid-run (issue 9): a restart with persistence on, and a 10 s SIGSTOP stall.
The worker waits them out: every job ends finished exactly once, none fails as abandoned,
work resumes afterwards, and the worker process never exits.
"""
import random
import time
from datetime import datetime, timezone

import pytest
from rq import Queue
from rq.command import send_shutdown_command
from rq.job import Job
from rq.results import Result

from harness import wait_until
from rel_helpers import report, statuses

FLAGS = ["-q", "default", "--maintenance-interval", "1"]


def enqueue_sleeps(q, n, rng, low=0.02, high=0.1):
    return [q.enqueue("sleep", round(rng.uniform(low, high), 3), job_timeout=60).id
            for _ in range(n)]


def check_all_finished_once(r, ids):
    """Every job finished, with exactly one successful result and no failure."""
    counts = {"finished": 0, "failed": 0, "abandoned": 0, "double": 0}
    for job in Job.fetch_many(ids, connection=r):
        assert job is not None
        results = job.results()
        status = job.get_status()
        key = status if status in ("finished", "failed") else "other"
        counts[key] = counts.get(key, 0) + 1
        if any("AbandonedJobError" in (x.exc_string or "") for x in results):
            counts["abandoned"] += 1
        if sum(x.type == Result.Type.SUCCESSFUL for x in results) != 1:
            counts["double"] += 1
    return counts


def wait_terminal(server, ids, timeout):
    def done():
        try:
            return all(s in ("finished", "failed") for s in statuses(server.client(), ids))
        except Exception:  # noqa: BLE001 - Redis may still be loading its AOF
            return False

    wait_until(done, timeout=timeout, interval=0.5, what="every job terminal")


def test_redis_restart_mid_run(redis_server, start_worker):
    rng = random.Random(1)
    r = redis_server.client()
    q = Queue("default", connection=r)
    worker = start_worker(*FLAGS, "-c", "4", "-n", "restart-w")
    # A few long jobs are running across the restart; the short ones keep the queue busy.
    ids = [q.enqueue("sleep", 4, job_timeout=60).id for _ in range(2)]
    ids += enqueue_sleeps(q, 400, rng)
    time.sleep(2)
    before = sum(s == "finished" for s in statuses(r, ids))
    redis_server.restart(down_for=3)
    r = redis_server.client()
    q = Queue("default", connection=r)
    # Work resumes: jobs enqueued after the restart run too.
    ids += enqueue_sleeps(q, 100, rng)
    wait_terminal(redis_server, ids, timeout=120)
    assert worker.proc.poll() is None, worker.output()[-3000:]
    counts = check_all_finished_once(r, ids)
    log = worker.output()
    report("redis_restart", jobs=len(ids), restarts=1, down_s=3, finished_before_restart=before,
           finished=counts["finished"], failed=counts["failed"],
           failed_abandoned=counts["abandoned"], not_exactly_one_result=counts["double"],
           worker_exited=0, warnings_logged=log.count("WARN"),
           lost=len(ids) - counts["finished"] - counts["failed"])
    assert counts["finished"] == len(ids), counts
    assert counts["abandoned"] == 0 and counts["double"] == 0, counts
    for key in ("rq:queue:default", "rq:queue:default:intermediate"):
        assert r.llen(key) == 0
    assert r.zcard("rq:wip:default") == 0
    # The pub/sub command channel came back too: `rq shutdown`-style command, clean exit.
    send_shutdown_command(r, "restart-w-1")
    assert worker.wait(30) == 0


def parse_ts(raw):
    return datetime.strptime(raw.decode(), "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=timezone.utc).timestamp()


# 10 s is the stall; 20 s outlasts the 15 s response timeout, so commands time out, the
# connections are replaced and the job ends written during the stall are sent again while the
# first copies still sit in the stalled server's socket buffers: each must apply once.
@pytest.mark.parametrize("stall_s", [10, 20])
def test_redis_sigstop_stall(redis_server, start_worker, stall_s):
    rng = random.Random(2)
    r = redis_server.client()
    q = Queue("default", connection=r)
    # Two processes: the peer's maintenance (every second) would fail any job whose heartbeat
    # the stall made look stale.
    worker = start_worker(*FLAGS, "-c", "4")
    peer = start_worker(*FLAGS, "-c", "1")
    long_ids = [q.enqueue("sleep", 25, job_timeout=60).id for _ in range(2)]
    ids = long_ids + enqueue_sleeps(q, 300, rng)
    wait_until(lambda: all(s == "started" for s in statuses(r, long_ids)),
               what="the long jobs to start")
    time.sleep(1)
    redis_server.stall(stall_s)
    resumed = time.time()
    # Heartbeats are honest again soon after the stall: each long job's heartbeat is newer
    # than the moment Redis came back, well within one heartbeat interval (10 s).
    wait_until(lambda: all(parse_ts(r.hget(f"rq:job:{j}", "last_heartbeat")) > resumed
                           for j in long_ids),
               timeout=15, interval=0.2, what="heartbeats after the stall")
    ids += enqueue_sleeps(q, 100, rng)
    wait_terminal(redis_server, ids, timeout=120)
    assert worker.proc.poll() is None, worker.output()[-3000:]
    assert peer.proc.poll() is None, peer.output()[-3000:]
    counts = check_all_finished_once(r, ids)
    report(f"redis_sigstop_{stall_s}s", jobs=len(ids), stalls=1, stall_s=stall_s, finished=counts["finished"],
           failed=counts["failed"], failed_abandoned=counts["abandoned"],
           not_exactly_one_result=counts["double"], workers_exited=0,
           lost=len(ids) - counts["finished"] - counts["failed"])
    assert counts["finished"] == len(ids), counts
    assert counts["abandoned"] == 0 and counts["double"] == 0, counts
