"""A Redis Sentinel cluster of containers on a private Docker network, for tests/ha (issue 29):
a master (`ha-m`), a replica (`ha-r`), three sentinels (`ha-s1..3`), workers (task-worker or
RQ's own `rq worker`), an enqueuer with real RQ 3.0, all on the network `main`; for a
partition, also a network `island` holding the master and the workers of its side.

Names: the sentinels announce host names (`sentinel announce-hostnames yes`), and every
container resolves them from /etc/hosts (`--add-host`) to fixed addresses (`--ip`: the networks
have a subnet of their own), so a worker on the island resolves `ha-m` to the master's address
on the island and keeps talking to it when both are cut off from `main`, while the others
reach it on `main`. Not Docker's DNS: a sentinel resolves names on its only thread, and a
lookup of a killed or disconnected container's name there stalls it for seconds at a time
(the failover then took 30 s instead of 2). Reconnected containers keep their address.

The test process (the host) reaches every container on its address on `main` and reads the
job ledgers: task-worker's JSON log lines `job finished` (with the job's id) from `docker logs`,
RQ's job's ledger files (jobs/hajobs.py) and the enqueuer's (jobs/driver.py) on a host
directory mounted at /ledger.
"""
from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

import harness

HERE = Path(__file__).resolve().parent
JOBS = HERE / "jobs"
WORKER_IMAGE = os.environ.get("TASK_WORKER_IMAGE", "task-worker:e2e")
REDIS_IMAGE = os.environ.get("REDIS_IMAGE", "tw-redis:bookworm")
# The worker image plus Debian's python3 (docker/sandbox-test, built by scripts/ha-docker as
# scripts/e2e-docker builds it); RQ 3.0 and redis-py come from .venv-rq3 (pure Python),
# mounted read-only.
PY_IMAGE = os.environ.get("HA_PY_IMAGE", "task-worker:sandbox-test")
RQ_SITE = Path(os.environ.get("HA_RQ_SITE", harness.ROOT / ".venv-ha/lib/python3.11/site-packages")).resolve()
MASTER_NAME = "mymaster"
QUEUE = "ha"
SENTINELS = ["ha-s1", "ha-s2", "ha-s3"]
# The fixed last octet of each server's address (on main; the master's also on the island).
FIXED = {"ha-m": 10, "ha-r": 11, "ha-r2": 12, "ha-s1": 21, "ha-s2": 22, "ha-s3": 23}
DOWN_AFTER_MS = 1000


def sh(argv, timeout=120, check=True) -> subprocess.CompletedProcess:
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited {p.returncode}: {p.stderr.strip()[-2000:]}")
    return p


def wait_until(pred, timeout, what, interval=0.2):
    return harness.wait_until(pred, timeout, what, interval)


class Cluster:
    """One cluster; `close()` removes every container, network and the ledger directory."""

    def __init__(self, kind: str, redis_args: list[str] | None = None, island: bool = False,
                 replicas: int = 1):
        self.kind = kind  # "task-worker" or "rq"
        self.id = f"{os.getpid()}-{random.randrange(16**6):06x}"
        self.prefix = f"twha-{self.id}"
        self.redis_args = redis_args or []
        self.replicas = ["ha-r", "ha-r2"][:replicas]
        # What scripts/ha-docker removes if a test could not: twha.owner is its process id.
        self.labels = ["--label", f"twha.run={self.id}", "--label", f"twha.owner={os.environ.get('HA_OWNER', '')}"]
        self.containers: dict[str, str] = {}  # role -> container name
        self.ips: dict[str, str] = {}  # role -> address on main
        self.island_ips: dict[str, str] = {}
        self.workers: list[str] = []  # worker roles
        self.ledger = Path(tempfile.mkdtemp(prefix=f"{self.prefix}-ledger-"))
        os.chmod(self.ledger, 0o777)
        self.net = f"{self.prefix}-main"
        self.island = f"{self.prefix}-island" if island else None
        self.prefix_main = self._make_network(self.net)
        self.island_prefix = self._make_network(self.island) if self.island else None
        self._next_host = 31

    # --- networks and containers -------------------------------------------------------------
    def _make_network(self, name) -> str:
        """A bridge network with a /24 of its own; returns its first three octets."""
        last = ""
        for _ in range(20):
            prefix = f"10.{random.randrange(64, 250)}.{random.randrange(0, 255)}"
            p = sh(["docker", "network", "create", "--driver", "bridge", "--subnet", f"{prefix}.0/24",
                    *self.labels, name], check=False)
            if p.returncode == 0:
                return prefix
            last = p.stderr
        raise AssertionError(f"cannot create network {name}: {last}")

    def _hosts(self, island=False) -> list[str]:
        """/etc/hosts entries for the cluster's names: its fixed addresses on main (the master's
        on the island for a container of the island)."""
        out = []
        for role, n in FIXED.items():
            ip = f"{self.island_prefix}.{n}" if island and role == "ha-m" else f"{self.prefix_main}.{n}"
            out += ["--add-host", f"{role}:{ip}"]
        return out

    def _run(self, role, image, argv, alias=None, env=None, extra=None, user=None, island=False):
        name = f"{self.prefix}-{role}"
        if role in FIXED:
            ip = f"{self.prefix_main}.{FIXED[role]}"
        else:
            ip = f"{self.prefix_main}.{self._next_host}"
            self._next_host += 1
        cmd = ["docker", "create", "--name", name, "--hostname", role, *self.labels,
               "--network", self.net, "--ip", ip, *self._hosts(island)]
        if alias:
            cmd += ["--network-alias", alias]
        if user:
            cmd += ["--user", user]
        for k, v in (env or {}).items():
            cmd += ["-e", f"{k}={v}"]
        cmd += extra or []
        # The worker image's HEALTHCHECK (`task-worker health`) is not what is under test.
        cmd += ["--no-healthcheck", image] + argv
        sh(cmd)
        if island:
            ip = [] if role not in FIXED else ["--ip", f"{self.island_prefix}.{FIXED[role]}"]
            sh(["docker", "network", "connect", *ip, self.island, name])
        sh(["docker", "start", name])
        self.containers[role] = name
        self.ips[role] = self._ip(name, self.net)
        if island:
            self.island_ips[role] = self._ip(name, self.island)
        return name

    def _ip(self, name, net):
        fmt = "{{(index .NetworkSettings.Networks \"%s\").IPAddress}}" % net
        return sh(["docker", "inspect", "-f", fmt, name]).stdout.strip()

    def start_redis(self):
        common = ["redis-server", "--protected-mode", "no", "--save", "", "--appendonly", "no",
                  "--port", "6379"] + self.redis_args
        self._run("ha-m", REDIS_IMAGE, common + ["--replica-announce-ip", "ha-m"], alias="ha-m",
                  island=bool(self.island))
        for n, r in enumerate(self.replicas):
            # ha-r is the one the sentinels promote (the lowest priority wins).
            self._run(r, REDIS_IMAGE, common + ["--replica-announce-ip", r, "--replicaof", "ha-m", "6379",
                                                "--replica-priority", str(10 + 90 * n)], alias=r)
        for s in SENTINELS:
            conf = "\n".join([
                "port 26379",
                "sentinel resolve-hostnames yes",
                "sentinel announce-hostnames yes",
                f"sentinel announce-ip {s}",
                f"sentinel monitor {MASTER_NAME} ha-m 6379 2",
                f"sentinel down-after-milliseconds {MASTER_NAME} {DOWN_AFTER_MS}",
                f"sentinel failover-timeout {MASTER_NAME} 10000",
                f"sentinel parallel-syncs {MASTER_NAME} 1",
            ])
            self._run(s, REDIS_IMAGE, ["sh", "-c", f"printf '%s\\n' '{conf}' >/data/sentinel.conf && "
                                                   "exec redis-server /data/sentinel.conf --sentinel"], alias=s)
        wait_until(self._sentinels_agree, 60, "the three sentinels to know the master, the replica and each other")

    def _sentinels_agree(self):
        try:
            for s in SENTINELS:
                c = self.client(s, 26379)
                m = c.sentinel_master(MASTER_NAME)
                if m.get("num-other-sentinels") != 2 or m.get("num-slaves") != len(self.replicas):
                    return False
                if c.execute_command("SENTINEL", "get-master-addr-by-name", MASTER_NAME)[0] != b"ha-m":
                    return False
            return all(self.client(r).info("replication").get("master_link_status") == "up"
                       for r in self.replicas)
        except redis.RedisError:
            return False

    def client(self, role, port=6379) -> redis.Redis:
        # No retries: a dead server is an answer here (redis-py would retry 3 times otherwise).
        return redis.Redis(host=self.ips[role], port=port, socket_timeout=3, socket_connect_timeout=3,
                           retry=Retry(NoBackoff(), 0))

    def start_enqueuer(self, count, rate, seconds=0.05, wait_replicas=0, out="enqueued.log"):
        func = "sleep" if self.kind == "task-worker" else "hajobs.work"
        argv = ["python3", "/ha/driver.py", "enqueue", "--count", str(count), "--rate", str(rate),
                "--func", func, "--seconds", str(seconds), "--out", f"/ledger/{out}"]
        if wait_replicas:
            argv += ["--wait", str(wait_replicas)]
        role = f"enq-{len([r for r in self.containers if r.startswith('enq')]) + 1}"
        self._run(role, PY_IMAGE, argv, extra=self._py_mounts(), user="10001")
        return role

    def _py_mounts(self):
        return ["-v", f"{RQ_SITE}:/opt/rq-site:ro", "-v", f"{JOBS}:/ha:ro", "-v", f"{self.ledger}:/ledger",
                "-e", "PYTHONPATH=/opt/rq-site:/ha", "--entrypoint", ""]

    def start_worker(self, role, island=False, concurrency=4):
        # As the compose files run workers: restarted when they exit (RQ's worker quits on
        # some Redis errors; `restarts` counts it).
        extra = ["--restart", "unless-stopped"]
        if self.kind == "task-worker":
            env = {"REDIS_SENTINELS": ",".join(f"{s}:26379" for s in SENTINELS),
                   "REDIS_SENTINEL_MASTER": MASTER_NAME, "REDIS_URL": f"redis://{MASTER_NAME}/0",
                   "LOG_FORMAT": "json", "RUST_LOG": "info"}
            argv = ["task-worker", "run", "-q", QUEUE, "-c", str(concurrency), "-n", role,
                    "--maintenance-interval", "5"]
            self._run(role, WORKER_IMAGE, argv, env=env, extra=["--entrypoint", ""] + extra, island=island)
        else:
            argv = ["python3", "-m", "rq.cli", "worker", "-c", "haconfig", "-n", role,
                    "--maintenance-interval", "5", QUEUE]
            self._run(role, PY_IMAGE, argv, extra=self._py_mounts() + extra, user="10001", island=island)
        self.workers.append(role)

    def close(self, keep_logs: str | None = None):
        """Removes everything; with `keep_logs`, first saves every container's log in
        $HA_LOGS/<keep_logs>/<role>.log (default /tmp/twha-logs)."""
        if keep_logs:
            d = Path(os.environ.get("HA_LOGS", "/tmp/twha-logs")) / keep_logs
            d.mkdir(parents=True, exist_ok=True)
            for role, name in self.containers.items():
                p = sh(["docker", "logs", "-t", name], check=False)
                (d / f"{role}.log").write_text(p.stdout + p.stderr)
        ids = sh(["docker", "ps", "-aq", "--filter", f"label=twha.run={self.id}"], check=False).stdout.split()
        if ids:
            sh(["docker", "rm", "-f"] + ids, check=False)
        for net in [self.net, self.island]:
            if net:
                sh(["docker", "network", "rm", net], check=False)
        shutil.rmtree(self.ledger, ignore_errors=True)

    # --- failures ------------------------------------------------------------------------------
    def kill(self, role):
        sh(["docker", "kill", self.containers[role]])

    def restart(self, role):
        sh(["docker", "restart", "-t", "2", self.containers[role]])

    def disconnect(self, role):
        sh(["docker", "network", "disconnect", self.net, self.containers[role]])

    def reconnect(self, role):
        alias = ["--alias", role] if role.startswith("ha-") else []
        sh(["docker", "network", "connect", "--ip", self.ips[role]] + alias + [self.net, self.containers[role]])

    # --- state -----------------------------------------------------------------------------------
    def master_role(self) -> str | None:
        """The master's role as a majority of the sentinels name it, if ROLE confirms it."""
        names = []
        for s in SENTINELS:
            try:
                names.append(self.client(s, 26379).execute_command(
                    "SENTINEL", "get-master-addr-by-name", MASTER_NAME)[0].decode())
            except (redis.RedisError, TypeError):
                pass
        for n in set(names):
            if names.count(n) >= 2:
                try:
                    if self.client(n).execute_command("ROLE")[0] == b"master":
                        return n
                except redis.RedisError:
                    return None
        return None

    def enqueued(self, out="enqueued.log"):
        """(acknowledged [(id, time, replicas)], error lines, done)"""
        acked, errors, done = [], [], False
        path = self.ledger / out
        if not path.exists():
            return acked, errors, done
        for line in path.read_text().splitlines():
            parts = line.split(" ", 2)
            if parts[0] == "ERR":
                errors.append(line)
            elif parts[0] == "DONE":
                done = True
            elif len(parts) == 3:
                acked.append((parts[0], float(parts[1]), int(parts[2])))
        return acked, errors, done

    def executions(self) -> dict[str, list[tuple[float, str]]]:
        """job id -> [(time, worker)] of every execution the ledgers hold."""
        out: dict[str, list[tuple[float, str]]] = {}
        if self.kind == "task-worker":
            for role in self.workers:
                logs = sh(["docker", "logs", self.containers[role]], check=False)
                for line in (logs.stdout + logs.stderr).splitlines():
                    if '"job finished"' not in line:
                        continue
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        continue
                    jid = (rec.get("span") or {}).get("job_id")
                    if jid:
                        out.setdefault(jid, []).append((_ts(rec.get("timestamp", "")), role))
        else:
            for f in self.ledger.glob("exec-*.log"):
                role = f.name[len("exec-"):-len(".log")]
                for line in f.read_text().splitlines():
                    jid, t = line.split()
                    out.setdefault(jid, []).append((float(t), role))
        return out

    def restarts(self) -> int:
        """How many times the worker containers were restarted after exiting."""
        n = 0
        for role in self.workers:
            p = sh(["docker", "inspect", "-f", "{{.RestartCount}}", self.containers[role]], check=False)
            n += int(p.stdout.strip() or 0)
        return n

    def logs(self, role, tail=60):
        p = sh(["docker", "logs", "--tail", str(tail), self.containers[role]], check=False)
        return p.stdout + p.stderr


def _ts(text: str) -> float:
    """RFC 3339 (task-worker's JSON logs) -> Unix time."""
    from datetime import datetime
    # Python 3.11 reads at most six digits of a second's fraction.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00"))
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return 0.0
