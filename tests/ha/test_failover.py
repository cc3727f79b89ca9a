"""Sentinel failovers across hosts (issue 29): a master, a replica and three sentinels in
containers on a private Docker network, workers on it, jobs enqueued throughout by real RQ 3.0
through the sentinels. Each scenario runs with task-worker and with RQ's own worker (`rq worker`
with RQ's SENTINEL settings), the same jobs, the same failure.

Asserted (task-worker; RQ's worker is measured only): every acknowledged job ends finished,
failed as abandoned, or lost with the old master's data (counted and reported), none stays
queued or started; no job has two results; every worker heartbeats on the new master and none
keeps a connection to a replica; without a failover (a sentinel restarted) every job ran exactly
once. Times and counts are figures (HA lines, $HA_FIGURES), never asserted.
"""
from __future__ import annotations

import pytest

from ha_account import (account, follows, registered, no_worker_on_replicas, now, readonly_refusals,
                        replica_clients, report, settled, wait_settled)
from ha_cluster import Cluster, wait_until

KINDS = ["task-worker", "rq"]
COUNT = 240  # jobs per scenario
RATE = 40  # a second
SECONDS = 0.1  # each job sleeps


@pytest.fixture
def cluster_factory(request):
    made = []

    def make(kind, **kw):
        c = Cluster(kind, **kw)
        made.append(c)
        c.start_redis()
        return c

    yield make
    for c in made:
        # Every container's log is kept ($HA_LOGS, default /tmp/twha-logs/<test>/).
        c.close(keep_logs=request.node.name.replace("/", "_"))


def start(c: Cluster, island_worker: bool = False):
    c.start_worker("w-a", island=island_worker)
    c.start_worker("w-b")
    registered(c, "ha-m", 60)
    c.start_enqueuer(COUNT, RATE, SECONDS)
    wait_until(lambda: len(c.enqueued()[0]) >= COUNT // 3, 60, "a third of the jobs enqueued")


def check(c: Cluster, kind: str, master: str, replicas: list[str], t_fail: float | None,
          scenario: str, extra: dict | None = None) -> dict:
    must = kind == "task-worker"
    ok = wait_settled(c, master, 240 if must else 120, must)
    fig = account(c, master, t_fail)
    fig["settled"] = ok
    fig["readonly_refusals"] = sum(readonly_refusals(c, r) for r in replicas)
    fig.update(extra or {})
    if must:
        follows(c, master, 60)
        no_worker_on_replicas(c, replicas, 60)
    else:
        fig["worker_conns_on_replicas"] = sum(replica_clients(c, replicas).values())
    report(scenario, kind, fig)
    assert fig["stuck"] == 0 or not must, fig
    if must:
        assert fig["multi_results"] == 0, fig
        assert fig["never_ran_finished"] == 0, fig
        assert fig["finished_once"] + fig["finished_dup"] + fig["failed"] + fig["lost"] == fig["acked"], fig
    return fig


@pytest.mark.parametrize("kind", KINDS)
def test_kill_master(cluster_factory, kind):
    """`docker kill` of the master's container while jobs are enqueued and running."""
    c = cluster_factory(kind)
    start(c)
    c.kill("ha-m")
    t_fail = now()  # when `docker kill` has returned: the master is gone
    wait_until(lambda: c.master_role() == "ha-r", 60, "the sentinels to promote ha-r")
    t_promoted = now()
    wait_until(lambda: c.enqueued()[2], 180, "the enqueuer to finish")
    check(c, kind, "ha-r", [], t_fail, "kill master",
          {"promoted_after_s": round(t_promoted - t_fail, 2)})


@pytest.mark.parametrize("min_replicas", [False, True], ids=["async", "min-replicas-1"])
@pytest.mark.parametrize("kind", KINDS)
def test_partition_master(cluster_factory, kind, min_replicas):
    """The master and worker w-a cut off from the rest (`docker network disconnect`; they still
    reach each other on the island), the replica promoted, then the old master reconnected:
    the sentinels make it a replica of the new master and what it took during the partition
    is dropped. With `min-replicas-to-write 1` / `min-replicas-max-lag 2` the old master
    refuses writes about 2 s after losing its replica; that needs a second replica (ha-r2), or
    the promoted replica, left without one, would refuse every write as well."""
    args = ["--min-replicas-to-write", "1", "--min-replicas-max-lag", "2"] if min_replicas else []
    c = cluster_factory(kind, island=True, redis_args=args, replicas=2 if min_replicas else 1)
    start(c, island_worker=True)
    c.disconnect("ha-m")
    t_fail = now()  # the master is cut off from here on
    c.disconnect("w-a")
    wait_until(lambda: c.master_role() == "ha-r", 60, "the sentinels to promote ha-r")
    t_promoted = now()
    # The partition lasts until the enqueuer has put 60 more jobs on the new master (about
    # 1.5 s), while w-a goes on with the old master on the island.
    n = len(c.enqueued()[0])
    wait_until(lambda: len(c.enqueued()[0]) >= min(n + 60, COUNT), 120, "jobs enqueued on the new master")
    c.reconnect("ha-m")
    c.reconnect("w-a")
    t_healed = now()

    def demoted():
        try:
            return c.client("ha-m").execute_command("ROLE")[0] == b"slave"
        except Exception:  # noqa: BLE001 - not answering yet
            return False

    wait_until(demoted, 90, "the old master to become a replica of the new one")
    wait_until(lambda: c.enqueued()[2], 180, "the enqueuer to finish")
    check(c, kind, "ha-r", ["ha-m"] + c.replicas[1:], t_fail,
          "partition master" + (" (min-replicas-to-write 1)" if min_replicas else ""),
          {"promoted_after_s": round(t_promoted - t_fail, 2),
           "partition_s": round(t_healed - t_fail, 2)})


@pytest.mark.parametrize("kind", KINDS)
def test_restart_sentinel(cluster_factory, kind):
    """`docker restart` of the first sentinel (the one a worker asks first and listens to): no
    failover, so every job runs exactly once."""
    c = cluster_factory(kind)
    start(c)
    t_fail = now()
    c.restart("ha-s1")
    wait_until(lambda: c.master_role() == "ha-m", 60, "the sentinels to name ha-m again")
    wait_until(lambda: c.enqueued()[2], 180, "the enqueuer to finish")
    fig = check(c, kind, "ha-m", ["ha-r"], t_fail, "restart a sentinel")
    if kind == "task-worker":
        assert fig["finished_once"] == fig["acked"], fig
        assert fig["duplicated"] == 0 and fig["lost"] == 0, fig
    assert settled(c, "ha-m") or kind != "task-worker"
