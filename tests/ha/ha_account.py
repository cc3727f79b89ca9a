"""Accounting of a tests/ha scenario: every job the enqueuer was told was queued, looked up on
the master the cluster ends with and in the execution ledgers; the figures printed (lines
starting with `HA `) and appended to $HA_FIGURES (JSON lines) for scripts/ha-docker's table.
Nothing here is timed against a bound: the times are figures only.
"""
from __future__ import annotations

import json
import os
import time

import redis

from ha_cluster import QUEUE, Cluster, wait_until

FIGURES = os.environ.get("HA_FIGURES", "/tmp/twha-figures.jsonl")
# Statuses a job may end the scenario in: done, or given up as abandoned.
ENDED = {"finished", "failed"}


def report(scenario: str, kind: str, fig: dict) -> None:
    fig = {"scenario": scenario, "worker": kind, **fig}
    print("HA " + json.dumps(fig, sort_keys=True), flush=True)
    with open(FIGURES, "a") as f:
        f.write(json.dumps(fig, sort_keys=True) + "\n")


def job_states(c: Cluster, master: str, ids: list[str]) -> dict[str, tuple[str | None, int]]:
    """id -> (status on the master or None when its hash is gone, entries in its results stream)"""
    return {i: (st, n) for i, (st, n, _, _) in job_records(c, master, ids).items()}


def job_records(c: Cluster, master: str, ids: list[str]):
    """id -> (status or None, results, started_at, ended_at) on `master` (times as Unix time)"""
    r = c.client(master)
    p = r.pipeline(transaction=False)
    for i in ids:
        p.hmget(f"rq:job:{i}", "status", "started_at", "ended_at")
        p.xlen(f"rq:results:{i}")
    vals = p.execute()
    out = {}
    for n, i in enumerate(ids):
        st, started, ended = (v.decode() if v else None for v in vals[2 * n])
        out[i] = (st, int(vals[2 * n + 1]), _unix(started), _unix(ended))
    return out


def _unix(text: str | None) -> float | None:
    if not text:
        return None
    from datetime import datetime, timezone
    try:
        return datetime.fromisoformat(text.replace("Z", "")).replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return None


def settled(c: Cluster, master: str) -> bool:
    """The enqueuer is done and no acknowledged job is waiting or running any more."""
    acked, _, done = c.enqueued()
    if not done:
        return False
    try:
        states = job_states(c, master, [a[0] for a in acked])
        r = c.client(master)
        busy = r.llen(f"rq:queue:{QUEUE}") + r.zcard(f"rq:wip:{QUEUE}")
    except redis.RedisError:
        return False
    return busy == 0 and all(s is None or s in ENDED for s, _ in states.values())


def wait_settled(c: Cluster, master: str, timeout: float, must: bool) -> bool:
    """Waits until `settled`; when `must` is false (RQ's worker, for comparison) a job still
    waiting at the deadline is counted as stuck instead of failing the test."""
    try:
        wait_until(lambda: settled(c, master), timeout, "every acknowledged job to end", interval=0.5)
        return True
    except AssertionError:
        if must:
            raise
        return False


def account(c: Cluster, master: str, t_fail: float | None) -> dict:
    """The scenario's figures (see docs/ha.md for each)."""
    acked, errors, _ = c.enqueued()
    ids = [a[0] for a in acked]
    records = job_records(c, master, ids)
    states = {i: (st, n) for i, (st, n, _, _) in records.items()}
    ex = c.executions()
    fig = {
        "acked": len(ids),
        "enqueue_errors": len(errors),
        "finished_once": 0,  # finished on the final master, ran exactly once
        "finished_dup": 0,  # finished, but ran more than once (an execution lost its record)
        "failed": 0,  # failed as abandoned (status failed)
        "lost": 0,  # acknowledged, but the final master has no such job
        "lost_ran": 0,  # of those, how many had run (their records went with the old master)
        "stuck": 0,  # still queued or started at the end
        "never_ran_finished": 0,  # finished without a recorded execution (must be 0)
        "multi_results": 0,  # more than one result in a job's results stream (must be 0)
        "executions": sum(len(v) for v in ex.values()),
        "duplicated": sum(1 for i in ids if len(ex.get(i, [])) > 1),
        "worker_restarts": c.restarts(),
    }
    for i in ids:
        st, nres = states[i]
        runs = len(ex.get(i, []))
        if nres > 1:
            fig["multi_results"] += 1
        if st is None:
            fig["lost"] += 1
            if runs:
                fig["lost_ran"] += 1
        elif st == "finished":
            if runs == 0:
                fig["never_ran_finished"] += 1
            elif runs == 1:
                fig["finished_once"] += 1
            else:
                fig["finished_dup"] += 1
        elif st == "failed":
            fig["failed"] += 1
        else:
            fig["stuck"] += 1
    if t_fail is not None:
        # Time until jobs run again: from the failure to the first end, on the master the
        # cluster ends with, of a job started after the failure (RQ's job hash times).
        after = [e for st, _, s, e in records.values() if st == "finished" and s and e and s > t_fail]
        fig["recovery_s"] = round(min(after) - t_fail, 2) if after else None
    return fig


def worker_names(c: Cluster, master: str) -> dict[str, bytes]:
    """worker name -> last_heartbeat on `master`, for the workers of this cluster."""
    r = c.client(master)
    out = {}
    for key in r.smembers("rq:workers"):
        name = key.decode().split("rq:worker:", 1)[-1]
        hb = r.hget(key, "last_heartbeat")
        if hb:
            out[name] = hb
    return out


def _role_of(c: Cluster, name: str) -> str | None:
    return next((w for w in c.workers if name == w or name.startswith(w + "-")), None)


def registered(c: Cluster, master: str, timeout: float) -> None:
    """Every worker container has registered on `master` (RQ's idle worker heartbeats only
    every few minutes: registration is what says it is up)."""
    def all_there():
        try:
            return set(c.workers) <= {_role_of(c, n) for n in worker_names(c, master)}
        except redis.RedisError:
            return False

    wait_until(all_there, timeout, f"every worker to register on {master}", interval=0.5)


def follows(c: Cluster, master: str, timeout: float) -> None:
    """Every worker container heartbeats on `master` (its heartbeat changes while we watch)."""
    role_of = lambda n: _role_of(c, n)  # noqa: E731
    first = {}

    def advanced():
        try:
            now = worker_names(c, master)
        except redis.RedisError:
            return False
        for n, hb in now.items():
            first.setdefault(n, hb)
        seen = {role_of(n) for n, hb in now.items() if hb != first[n]}
        return set(c.workers) <= seen

    wait_until(advanced, timeout, f"every worker to heartbeat on the new master {master}", interval=0.5)


def replica_clients(c: Cluster, replicas: list[str]) -> dict[str, int]:
    """replica -> connections to it from the workers' addresses (main and island)."""
    worker_ips = {c.ips[w] for w in c.workers} | {c.island_ips[w] for w in c.workers if w in c.island_ips}
    out = {}
    for rep in replicas:
        try:
            clients = c.client(rep).client_list()
        except redis.RedisError:
            continue
        out[rep] = sum(1 for cl in clients if cl["addr"].rsplit(":", 1)[0] in worker_ips)
    return out


def no_worker_on_replicas(c: Cluster, replicas: list[str], timeout: float) -> None:
    """No worker keeps a connection to a replica (a demoted master included)."""
    wait_until(lambda: not any(replica_clients(c, replicas).values()), timeout,
               f"no worker connection left on the replicas {replicas}", interval=0.5)


def readonly_refusals(c: Cluster, role: str) -> int:
    """Writes the server refused as a replica (INFO errorstats' READONLY count)."""
    try:
        stats = c.client(role).info("errorstats")
    except redis.RedisError:
        return -1
    return int(stats.get("errorstat_READONLY", {}).get("count", 0))


def now() -> float:
    return time.time()
