"""What an operator can set against Redis' asynchronous replication, and what it costs
(issue 29, docs/ha.md): `min-replicas-to-write` / `min-replicas-max-lag` on the master, and
`WAIT` after each enqueue. Asserted: what each setting does (the master refuses writes without a
replica; task-worker waits and resumes when the replica is back, losing no job; WAIT answers
with the replica count). The throughputs are figures (HA lines), never asserted.
"""
from __future__ import annotations

import time

import redis

from ha_account import follows, job_states, report
from ha_cluster import Cluster, wait_until

JOBS = 1000


def rate(c: Cluster, ids: list[str]) -> float:
    """Jobs a second the worker ran `ids` at: from its first to its last execution."""
    ex = c.executions()
    times = sorted(t for i in ids for t, _ in ex.get(i, []))
    return round((len(times) - 1) / (times[-1] - times[0]), 1) if len(times) > 1 else 0.0


def test_settings_and_their_cost():
    c = Cluster("task-worker")
    try:
        c.start_redis()
        m = c.client("ha-m")
        fig = {}

        # Enqueue throughput from a container (RQ 3.0 through the sentinels), no worker yet:
        # plain, then WAIT 1 after each enqueue.
        for label, wait in [("enqueue_per_s", 0), ("enqueue_wait1_per_s", 1)]:
            out = f"{label}.log"
            c.start_enqueuer(JOBS, 0, 0, wait_replicas=wait, out=out)
            wait_until(lambda: c.enqueued(out)[2], 300, f"{JOBS} enqueues ({label})", interval=0.2)
            acked, errors, _ = c.enqueued(out)
            # From the first to the last acknowledgement (the container's start-up left out).
            fig[label] = round((len(acked) - 1) / (acked[-1][1] - acked[0][1]), 1)
            if wait:
                # WAIT answered with the one replica every time.
                assert all(n == 1 for _, _, n in acked), [a for a in acked if a[2] != 1][:5]
            assert not errors, errors[:3]
        assert m.llen("rq:queue:ha") == 2 * JOBS

        # Processing throughput of one worker (-c 4) on those 2,000 jobs: plain, then with
        # min-replicas-to-write 1 (a replica must have acknowledged within 10 s).
        c.start_worker("w-a", concurrency=4)
        wait_until(lambda: m.llen("rq:queue:ha") == 0 and m.zcard("rq:wip:ha") == 0, 300,
                   "the worker to run every job", interval=0.1)
        fig["worker_per_s"] = rate(c, [a[0] for a in c.enqueued("enqueue_per_s.log")[0]])
        m.config_set("min-replicas-to-write", 1)
        m.config_set("min-replicas-max-lag", 10)
        # The worker suspended (RQ's `rq:suspended`) while they are enqueued, as in the first
        # run, where it started after the enqueues.
        m.set("rq:suspended", 1)
        c.start_enqueuer(JOBS, 0, 0, out="minrep.log")
        wait_until(lambda: c.enqueued("minrep.log")[2], 300, "enqueues with min-replicas-to-write 1")
        m.delete("rq:suspended")
        wait_until(lambda: m.llen("rq:queue:ha") == 0 and m.zcard("rq:wip:ha") == 0, 300,
                   "the worker to run every job", interval=0.1)
        fig["worker_minreplicas_per_s"] = rate(c, [a[0] for a in c.enqueued("minrep.log")[0]])

        # The cost in availability: the replica cut off, the master refuses writes once the
        # replica's last acknowledgement is older than min-replicas-max-lag (set to 1 s here).
        m.config_set("min-replicas-max-lag", 1)
        c.disconnect("ha-r")
        t_cut = time.time()

        def refused():
            try:
                m.set("probe", "x")
                return False
            except redis.ResponseError as e:
                return "NOREPLICAS" in str(e)

        wait_until(refused, 60, "the master to refuse writes (NOREPLICAS)")
        fig["refusing_after_s"] = round(time.time() - t_cut, 2)
        # Jobs enqueued now are refused; the worker keeps retrying its writes and waits.
        c.start_enqueuer(50, 0, 0, out="cut.log")
        wait_until(lambda: len(c.enqueued("cut.log")[1]) >= 3, 60, "enqueues refused")
        assert c.enqueued("cut.log")[0] == []
        c.reconnect("ha-r")
        t_back = time.time()
        wait_until(lambda: c.enqueued("cut.log")[2], 120, "the enqueuer to get through")
        fig["writable_after_reconnect_s"] = round(
            c.enqueued("cut.log")[0][0][1] - t_back, 2)
        # The master stayed master (a replica's loss is no failover).
        assert c.master_role() == "ha-m"
        ids = [a[0] for out in ["enqueue_per_s.log", "enqueue_wait1_per_s.log", "minrep.log", "cut.log"]
               for a in c.enqueued(out)[0]]

        def all_finished():
            return all(st == "finished" for st, _ in job_states(c, "ha-m", ids).values())

        wait_until(all_finished, 120, "every job to finish", interval=0.5)
        follows(c, "ha-m", 60)
        # Every job of every phase finished once, with one result (the same master throughout).
        ex = c.executions()
        assert len(ids) == 3 * JOBS + 50
        assert all(len(ex.get(i, [])) == 1 for i in ids)
        assert all(n == 1 for _, n in job_states(c, "ha-m", ids).values())
        fig.update({"jobs": len(ids), "finished_once": len(ids)})
        report("replication settings", "task-worker", fig)
    finally:
        c.close()
