#!/usr/bin/env python3
"""Benchmark driver for bench/run: task-worker against Python RQ, Dramatiq and Celery on one
private Redis.

For each scenario and each contender it flushes the private Redis, enqueues the jobs (real Python
RQ for the RQ-compatible contenders, the library's own send call for Dramatiq and Celery),
snapshots Redis' counters, lets the contender drain the queue, and measures: wall time, peak
memory, worker CPU (the processes and their reaped children, via wait4), Redis commands per job
(INFO commandstats, enqueue excluded) and Redis' own CPU (INFO cpu). It also runs the "floor"
(a minimal Lua driver doing only the writes RQ's readers need), a fleet of task-worker processes,
the previous release of task-worker (when bench/run built it) and a callgrind count of
task-worker's instructions per job. Scenarios p and q (issue 28) run one Python function
(bench/py/pyjobs.py) through task-worker --python (fork and reuse modes), RQ's three workers,
Dramatiq and Celery, and count the CPU of each contender's whole process tree (bench/subreaper.py).
It prints Markdown on stdout; progress goes to stderr.

Run through bench/run (which builds the release binaries and the venvs first). Needs the
.venv-rq3 interpreter (real RQ 3.0.0); Dramatiq and Celery run from .venv-bench.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from redis import Redis
from rq import Queue

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PYPATH = HERE / "py"
OTHERS = HERE / "others"  # Dramatiq and Celery task modules
DONE_KEY = "bench:done"  # run counter of the Dramatiq and Celery no-op tasks
QUEUE = "bench"
WRAPPER = "ctutor_backend.tasks.executor.TaskExecutor._execute_task_wrapper"
PY_KINDS = ("pynoop", "pysmall")  # the Python-job scenarios (p, q): bench/py/pyjobs.py

sys.path.insert(0, str(PYPATH))
import pyjobs  # noqa: E402


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{what} did not start on port {port}")


# --------------------------------------------------------------------------- servers


class RedisServer:
    def __init__(self, workdir: Path):
        self.port = free_port()
        self.dir = workdir / "redis"
        self.dir.mkdir()
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_port(self.port, "redis-server")
        self.url = f"redis://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def pg_bin() -> Path:
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    for v in ("17", "16", "15", "14", "13"):
        p = Path(f"/usr/lib/postgresql/{v}/bin")
        if (p / "initdb").exists():
            return p
    return Path("/usr/bin")


class PostgresServer:
    """A throw-away cluster (initdb + pg_ctl), run as `postgres` when we are root."""

    def __init__(self, workdir: Path):
        self.bin = pg_bin()
        self.port = free_port()
        self.dir = workdir / "pg"
        self.dir.mkdir()
        self.data = self.dir / "data"
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"), "-w", "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off",
                  "start")
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str, capture: bool = False) -> str:
        cmd = [str(self.bin / tool), *args]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        out = subprocess.run(cmd, stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        if out.returncode != 0:
            raise SystemExit(f"{tool} failed: {out.stderr}")
        return out.stdout if capture else ""

    def count_rows(self) -> int | None:
        try:
            out = self._run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                            "-Atc", "SELECT count(*) FROM task_executions", capture=True)
            return int(out.strip())
        except (SystemExit, ValueError):
            return None

    def cpu(self) -> float:
        """CPU seconds of the whole cluster so far: the postmaster, its reaped children (the
        backends of closed connections) and its live children."""
        try:
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return float("nan")
        total = 0
        for i, p in enumerate(descendants(pid)):
            try:
                with open(f"/proc/{p}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            # utime stime cutime cstime are fields 14-17 (1-based); the list starts at field 3.
            ut, st, cut, cst = (int(x) for x in fields[11:15])
            total += ut + st + ((cut + cst) if i == 0 else 0)
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        except SystemExit:
            pass


# --------------------------------------------------------------------------- measuring


def descendants(pid: int) -> list[int]:
    """pid and every process below it (via /proc/<pid>/task/*/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


def pss_kb(pid: int) -> int:
    """Proportional set size: shared copy-on-write pages of forked children count once."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeMemory(threading.Thread):
    """Samples the summed PSS of a process tree every 100 ms, keeping the peak (without the
    root's when `skip_root`: the subreaper is not the contender's)."""

    def __init__(self, pid: int, skip_root: bool = False):
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self.stop_flag = pid, 0, threading.Event()
        self.skip = 1 if skip_root else 0

    def run(self) -> None:
        while not self.stop_flag.wait(0.1):
            tree = descendants(self.pid)[self.skip:]
            self.peak_kb = max(self.peak_kb, sum(pss_kb(p) for p in tree))


@dataclass
class ProcStats:
    wall: float
    cpu: float
    peak_mb: float
    status: int


TIME = Path("/usr/bin/time")


def spawn(cmd: list[str], env: dict, logfile: Path, cwd: Path,
          reaper: bool = False) -> tuple[subprocess.Popen, TreeMemory, float]:
    """Starts a contender under GNU time when it is there: a process forked by our (big) Python
    driver inherits the driver's RSS high-water mark in its rusage, one forked by `time` does not.
    With `reaper`, under bench/subreaper.py instead: the CPU of every process of the tree, also
    of those that outlive their parent (the Python-job scenarios), in the same file format."""
    if reaper:
        cmd = [sys.executable, "-S", str(HERE / "subreaper.py"), str(logfile) + ".time", *cmd]
    elif TIME.exists():
        cmd = [str(TIME), "-f", "%M %U %S", "-o", str(logfile) + ".time", *cmd]
    with open(logfile, "ab") as lf:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=lf, stderr=subprocess.STDOUT, cwd=cwd)
    proc.logfile = logfile  # type: ignore[attr-defined]
    proc.reaper = reaper  # type: ignore[attr-defined]
    mem = TreeMemory(proc.pid, skip_root=reaper)
    mem.start()
    return proc, mem, t0


def worker_pid(proc: subprocess.Popen) -> int:
    """The contender's own pid (the child of `time`, when it runs under it)."""
    if not TIME.exists() and not getattr(proc, "reaper", False):
        return proc.pid
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        kids = descendants(proc.pid)
        if len(kids) > 1:
            return kids[1] if kids[0] == proc.pid else kids[0]
        time.sleep(0.01)
    return proc.pid


def stop(proc: subprocess.Popen) -> None:
    """Asks a non-burst worker to stop (SIGTERM: warm shutdown). Python RQ's idle worker does not
    always act on it at once (the signal can land inside redis-py's blocking read and wait for
    its timeout), so after 5 s a second SIGTERM asks for its cold shutdown; reap() kills what is
    still there after that."""
    pid = worker_pid(proc)
    for _ in range(2):
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            return
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            # Gone from /proc once its parent (GNU time, or us) has reaped it; a zombie is done too.
            try:
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                        return
            except OSError:
                return
            time.sleep(0.02)
        log(f"pid {pid} still running 5 s after SIGTERM; sending another")


def reap(proc: subprocess.Popen, mem: TreeMemory, t0: float, timeout: float) -> ProcStats:
    """Waits for the process (killing it after `timeout`) and reads its resource usage.

    CPU seconds include every child it reaped (forked work horses, pool workers); max RSS is the
    high-water mark of the largest single process among them (GNU time's %M, i.e. wait4's
    ru_maxrss); for process trees the summed PSS sampled every 100 ms is used when larger.
    """
    deadline = time.monotonic() + timeout
    while True:
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            log(f"pid {proc.pid} over its time limit; killing it")
            for p in reversed(descendants(proc.pid)):
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
            pid, status, ru = os.wait4(proc.pid, 0)
            break
        time.sleep(0.005)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    mem.stop_flag.set()
    mem.join()
    cpu, maxrss_kb = ru.ru_utime + ru.ru_stime, ru.ru_maxrss
    tfile = Path(str(proc.logfile) + ".time")  # type: ignore[attr-defined]
    if tfile.exists():
        try:
            last = tfile.read_text().strip().splitlines()[-1].split()
            maxrss_kb, cpu = int(last[0]), float(last[1]) + float(last[2])
        except (IndexError, ValueError):
            log(f"cannot parse {tfile}: {tfile.read_text()!r}")
    peak_kb = max(maxrss_kb, mem.peak_kb)
    return ProcStats(wall, cpu, peak_kb / 1024, proc.returncode)


def command_calls(r: Redis) -> int:
    stats = r.info("commandstats")
    total = 0
    for name, v in stats.items():
        # Our own bookkeeping calls are not the contender's.
        if name in ("cmdstat_info", "cmdstat_config|resetstat", "cmdstat_config"):
            continue
        total += int(v["calls"])
    return total


def redis_cpu(r: Redis) -> float:
    c = r.info("cpu")
    return float(c["used_cpu_user"]) + float(c["used_cpu_sys"])


# --------------------------------------------------------------------------- jobs


def job_args(kind: str, sleep_s: float) -> tuple:
    if kind == "noop":
        return ("noop", {})
    return ("sleep", {"seconds": sleep_s})


def enqueue_batch(r: Redis, n: int, kind: str, sleep_s: float) -> None:
    q = Queue(QUEUE, connection=r)
    if kind in PY_KINDS:
        # The Python-job scenarios: bench/py/pyjobs.py's function, run by every contender.
        func, args, kwargs = pyjobs.JOBS[kind]
        func = "pyjobs." + func
    else:
        func, args, kwargs = WRAPPER, job_args(kind, sleep_s), {}
    done = 0
    while done < n:
        k = min(1000, n - done)
        with r.pipeline() as pipe:
            q.enqueue_many([Queue.prepare_data(func, args=args, kwargs=kwargs) for _ in range(k)],
                           pipeline=pipe)
            pipe.execute()
        done += k


def enqueue_cost(r: Redis) -> float:
    """Redis commands one `Queue.enqueue` issues (the latency scenario subtracts them)."""
    r.flushall()
    q = Queue(QUEUE, connection=r)
    r.config_resetstat()
    n = 200
    for _ in range(n):
        q.enqueue(WRAPPER, "noop", {})
    calls = command_calls(r)
    r.flushall()
    return calls / n


def open_loop(url: str, rate: float, seconds: float) -> None:
    """The separate enqueuer of the latency scenario: one `enqueue` every 1/rate s, on schedule
    (open loop: it never waits for the worker; a late enqueue is sent at once)."""
    r = Redis.from_url(url)
    q = Queue(QUEUE, connection=r)
    n = int(rate * seconds)
    t0 = time.perf_counter()
    max_lag = 0.0
    for i in range(n):
        due = t0 + i / rate
        d = due - time.perf_counter()
        if d > 0:
            time.sleep(d)
        else:
            max_lag = max(max_lag, -d)
        q.enqueue(WRAPPER, "noop", {})
    took = time.perf_counter() - t0
    print(f"{n} {took:.3f} {max_lag * 1e3:.1f}", flush=True)


def parse_rq_ts(s: bytes | None) -> float | None:
    if not s:
        return None
    t = dt.datetime.strptime(s.decode(), "%Y-%m-%dT%H:%M:%S.%fZ")
    return t.replace(tzinfo=dt.timezone.utc).timestamp()


def start_latencies(r: Redis) -> list[float]:
    """enqueued_at → started_at of every finished job, in ms (both written in RQ's format)."""
    ids = r.zrange(f"rq:finished:{QUEUE}", 0, -1)
    out = []
    for i in range(0, len(ids), 1000):
        pipe = r.pipeline(transaction=False)
        for jid in ids[i:i + 1000]:
            pipe.hmget(b"rq:job:" + jid, "enqueued_at", "started_at")
        for enq, start in pipe.execute():
            a, b = parse_rq_ts(enq), parse_rq_ts(start)
            if a is not None and b is not None:
                out.append((b - a) * 1e3)
    return sorted(out)


def pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    k = min(len(xs) - 1, max(0, int(round(p / 100 * len(xs) + 0.5)) - 1))
    return xs[k]


# --------------------------------------------------------------------------- the RQ data-model floor

# What Python RQ's readers (Job.fetch/get_status, the registries, Job.latest_result) need for a
# job to go queued -> started -> finished, and nothing else: no execution hash, worker hash,
# counters, intermediate list or heartbeats. A batch of up to ARGV[4] jobs per call.
FLOOR_START = """
local q = ARGV[1]
local ids = redis.call('LPOP', 'rq:queue:' .. q, tonumber(ARGV[4]))
if not ids then return {} end
for _, id in ipairs(ids) do
  redis.call('HSET', 'rq:job:' .. id, 'status', 'started', 'started_at', ARGV[3],
             'last_heartbeat', ARGV[3], 'worker_name', ARGV[2])
  redis.call('ZADD', 'rq:wip:' .. q, ARGV[5], id .. ':' .. ARGV[6])
end
return ids
"""

# ARGV: queue, worker, ended_at, finished-registry score, ttl, execution id, started_at (epoch),
# ended_at (epoch), then the job ids.
FLOOR_FINISH = """
local q = ARGV[1]
for i = 9, #ARGV do
  local id = ARGV[i]
  local job = 'rq:job:' .. id
  redis.call('HSET', job, 'status', 'finished', 'ended_at', ARGV[3])
  local res = 'rq:results:' .. id
  redis.call('XADD', res, 'MAXLEN', '10', '*', 'type', '1', 'worker_name', ARGV[2],
             'execution_id', ARGV[6], 'execution_started_at', ARGV[7],
             'execution_ended_at', ARGV[8])
  redis.call('EXPIRE', res, ARGV[5])
  redis.call('ZREM', 'rq:wip:' .. q, id .. ':' .. ARGV[6])
  redis.call('ZADD', 'rq:finished:' .. q, ARGV[4], id)
  redis.call('EXPIRE', job, ARGV[5])
end
return #ARGV - 8
"""


def rq_now() -> tuple[str, float]:
    t = time.time()
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), t


def floor_driver(url: str, batch: int) -> None:
    """The floor contender: takes batches of queued jobs and marks them started, then finished
    (one EVALSHA each), until the queue is empty, like a burst worker doing no work."""
    r = Redis.from_url(url)
    start, finish = r.register_script(FLOOR_START), r.register_script(FLOOR_FINISH)
    worker, ttl = "floor." + os.urandom(4).hex(), 500
    while True:
        stamp, t0 = rq_now()
        exec_id = os.urandom(8).hex()
        ids = start(args=[QUEUE, worker, stamp, batch, t0 + 1800, exec_id])
        if not ids:
            return
        stamp, t1 = rq_now()
        finish(args=[QUEUE, worker, stamp, t1 + ttl, ttl, exec_id, t0, t1, *ids])


class ExitStallGuard(threading.Thread):
    """Bounds a stall at the exit of Python RQ's workers (RQ 3.0.0 with redis-py 8.2): a worker
    that has finished its jobs and logged "unsubscribing" sometimes sits for 60 s (its pub/sub
    thread's wait) before the process ends; on this machine about half the runs did. Once every
    job is finished, a process still there `grace` s later has nothing left to do, so the leaves
    of the contender's process tree are killed (never the parents, which then reap them, so that
    their CPU still counts in the rusage). Its own Redis commands are counted and left out."""

    def __init__(self, url: str, n: int, root: int, grace: float = 3.0):
        super().__init__(daemon=True)
        self.r, self.n, self.root, self.grace = Redis.from_url(url), n, root, grace
        self.calls, self.killed, self.stop_flag = 0, 0, threading.Event()

    def run(self) -> None:
        done_at = None
        while not self.stop_flag.wait(0.1):
            if done_at is None:
                self.calls += 2
                if self.r.zcard(f"rq:finished:{QUEUE}") + self.r.zcard(f"rq:failed:{QUEUE}") >= self.n:
                    done_at = time.monotonic()
                continue
            if time.monotonic() - done_at < self.grace:
                continue
            tree = descendants(self.root)[1:]  # below GNU time (or our own child)
            parents = set()
            for pid in tree:
                try:
                    with open(f"/proc/{pid}/stat") as f:
                        parents.add(int(f.read().rsplit(")", 1)[1].split()[1]))
                except OSError:
                    pass
            for pid in tree:
                if pid not in parents:
                    try:
                        os.kill(pid, signal.SIGKILL)
                        self.killed += 1
                    except OSError:
                        pass
            done_at = time.monotonic()  # the parents get another grace period


def last_ended_at(r: Redis) -> float | None:
    """Epoch time of the latest `ended_at` among the finished jobs (written by the worker)."""
    ids = r.zrange(f"rq:finished:{QUEUE}", 0, -1)
    last = None
    for i in range(0, len(ids), 2000):
        pipe = r.pipeline(transaction=False)
        for jid in ids[i:i + 2000]:
            pipe.hget(b"rq:job:" + jid, "ended_at")
        for v in pipe.execute():
            t = parse_rq_ts(v)
            if t is not None and (last is None or t > last):
                last = t
    return last


# --------------------------------------------------------------------------- contenders


@dataclass
class Contender:
    key: str
    label: str
    kind: str  # tw (task-worker) | rq (Python RQ) | dramatiq | celery | floor
    concurrency: int = 1
    args: list[str] = field(default_factory=list)  # rq / dramatiq / celery command-line
    procs: int = 1  # task-worker processes started together (the fleet)
    base: bool = False  # task-worker's previous release (--base-bin)
    python: str = ""  # task-worker: --python-mode (fork | reuse) for the Python-job scenarios


CONTENDERS = [
    Contender("tw1", "task-worker -c 1", "tw", 1),
    Contender("tw64", "task-worker -c 64", "tw", 64),
    Contender("tw64-base", "task-worker -c 64, previous release", "tw", 64, base=True),
    Contender("tw1-base", "task-worker -c 1, previous release", "tw", 1, base=True),
    Contender("fleet", "4 × task-worker -c 16", "tw", 16, procs=4),
    Contender("rqw", "RQ Worker (forking)", "rq", args=["worker", "-w", "rq.Worker"]),
    Contender("rqs", "RQ SimpleWorker", "rq", args=["worker", "-w", "rq.SimpleWorker"]),
    Contender("rqp", "rq worker-pool -n 2", "rq", args=["worker-pool", "-n", "2"]),
    Contender("dramatiq", "Dramatiq 2.2.1 (2 processes × 8 threads)", "dramatiq",
              args=["--processes", "2", "--threads", "8"]),
    Contender("celery", "Celery 5.7.0 (prefork -c 2)", "celery", args=["-P", "prefork", "-c", "2"]),
    Contender("celery-solo", "Celery 5.7.0 (solo)", "celery", args=["-P", "solo"]),
    Contender("celery-threads", "Celery 5.7.0 (threads -c 8)", "celery",
              args=["-P", "threads", "-c", "8"]),
    Contender("floor", "RQ data-model floor (Lua, batches of 64)", "floor", 64),
    # The Python-job scenarios (p, q): task-worker --python .venv-rq3/bin/python, both modes.
    *(Contender(f"tw{m[0]}{c}", f"task-worker --python-mode {m} -c {c}", "tw", c, python=m)
      for m, c in (("fork", 1), ("fork", 2), ("reuse", 1), ("reuse", 2), ("reuse", 4))),
    # ... with the job's module imported once by each warm parent (what RQ's workers cannot do).
    Contender("twf2p", "task-worker --python-mode fork -c 2 --python-preload pyjobs", "tw", 2,
              args=["--python-preload", "pyjobs"], python="fork"),
]


@dataclass
class Scenario:
    key: str
    title: str
    kind: str  # noop | sleep | latency
    counts: dict  # contender key -> jobs (or, for latency, seconds of load)
    history: bool = False


def scenarios(quick: bool) -> list[Scenario]:
    py = [("p", "(p) Python no-op", "pynoop"), ("q", "(q) Python small job", "pysmall")]
    if quick:
        py_counts = {"twf2": 100, "twr2": 1000, "rqw": 100, "rqs": 300}
        py_scen = [Scenario(k, t, kind, py_counts) for k, t, kind in py[:1]]
    else:
        # Each contender drains its queue for about 3-10 s on the 2-core development machine
        # (fork per job: 60-130 jobs/s for RQ's, about 300 for task-worker's), so that its
        # start-up (importing RQ, the runners) weighs little and about the same for each.
        py_counts = {"twf1": 1500, "twf2": 2000, "twf2p": 2000, "twr1": 12000, "twr2": 15000,
                     "twr4": 15000, "rqw": 500, "rqs": 2000, "rqp": 500, "dramatiq": 12000,
                     "celery": 6000, "celery-solo": 6000}
        py_scen = [Scenario(k, t, kind, py_counts) for k, t, kind in py]
    return base_scenarios(quick) + py_scen


def base_scenarios(quick: bool) -> list[Scenario]:
    if quick:
        return [
            Scenario("a", "(a) no-op", "noop",
                     {"tw1": 2000, "tw64": 5000, "tw64-base": 5000, "rqw": 300, "rqs": 1000,
                      "rqp": 500, "dramatiq": 1000, "celery": 1000, "floor": 5000}),
            Scenario("b", "(b) sleep(0.1)", "sleep",
                     {"tw1": 20, "tw64": 500, "rqw": 20, "rqs": 20, "rqp": 40}),
            Scenario("c", "(c) 1,000 jobs/s open loop", "latency",
                     {"tw1": 3, "tw64": 3, "rqw": 1, "rqs": 1, "rqp": 1}),
            Scenario("d", "(d) no-op, history on", "noop", {"tw1": 2000, "tw64": 5000}, True),
            Scenario("e", "(e) no-op, fleet", "noop", {"fleet": 5000}),
        ]
    return [
        Scenario("a", "(a) no-op", "noop",
                 {"tw1": 20000, "tw64": 20000, "tw64-base": 20000, "tw1-base": 20000,
                  "rqw": 2000, "rqs": 8000,
                  "rqp": 3000, "dramatiq": 10000, "celery": 8000, "celery-solo": 8000, "celery-threads": 8000,
                  "floor": 20000}),
        Scenario("b", "(b) sleep(0.1)", "sleep",
                 {"tw1": 300, "tw64": 2000, "rqw": 300, "rqs": 300, "rqp": 400}),
        Scenario("c", "(c) 1,000 jobs/s open loop", "latency",
                 {"tw1": 20, "tw64": 20, "rqw": 2, "rqs": 2, "rqp": 2}),
        Scenario("d", "(d) no-op, history on", "noop", {"tw1": 20000, "tw64": 20000}, True),
        Scenario("e", "(e) no-op, fleet", "noop", {"fleet": 40000}),
    ]


@dataclass
class Row:
    scenario: Scenario
    contender: Contender
    jobs: int
    stats: ProcStats
    calls_per_job: float
    redis_cpu: float  # seconds during the run
    ok: str
    p50: float | None = None
    p99: float | None = None
    note: str = ""

    @property
    def rate(self) -> float:
        return self.jobs / self.stats.wall

    @property
    def redis_us(self) -> float:
        return self.redis_cpu / self.jobs * 1e6

    @property
    def worker_us(self) -> float:
        return self.stats.cpu / self.jobs * 1e6


class Bench:
    def __init__(self, args, workdir: Path):
        self.args = args
        self.workdir = workdir
        self.redis = RedisServer(workdir)
        self.r = Redis.from_url(self.redis.url)
        self.pg: PostgresServer | None = None
        self.rq_bin = str(Path(sys.executable).parent / "rq")
        self.sleep_s = 0.1
        self.enqueue_calls: float | None = None
        self.skipped: list[str] = []

    def close(self) -> None:
        self.redis.stop()
        if self.pg:
            self.pg.stop()

    def available(self, c: Contender) -> str | None:
        """Why a contender cannot run here (None when it can)."""
        if c.base and not self.args.base_bin:
            return "no previous release built (bench/run --baseline REV builds one)"
        if c.kind in ("dramatiq", "celery") and not self.args.others_python:
            return "no .venv-bench (bench/run makes it; --no-others skips it)"
        return None

    def command(self, c: Contender, burst: bool, history: bool) -> tuple[list[str], dict]:
        env = dict(os.environ)
        if c.kind == "rq":
            env["PYTHONPATH"] = str(PYPATH)
            cmd = [self.rq_bin, *c.args, "--url", self.redis.url]
            if burst:
                cmd.append("--burst")
            cmd.append(QUEUE)
            return cmd, env
        if c.kind == "floor":
            return [sys.executable, __file__, "floor", "--url", self.redis.url,
                    "--batch", str(c.concurrency)], env
        if c.kind in ("dramatiq", "celery"):
            env["PYTHONPATH"] = f"{OTHERS}:{PYPATH}"
            env["BENCH_REDIS_URL"] = self.redis.url
            py = self.args.others_python
            if c.kind == "dramatiq":
                return [py, "-m", "dramatiq", "dq_tasks", *c.args, "--queues", QUEUE], env
            return [py, "-m", "celery", "-A", "cel_tasks", "worker", *c.args, "-Q", QUEUE,
                    "--without-gossip", "--without-mingle", "--without-heartbeat",
                    "-l", "WARNING"], env
        env.pop("PYTHONPATH", None)
        env.setdefault("RUST_LOG", "info")
        wrap = self.args.wrap.split() if self.args.wrap else []
        binary = self.args.base_bin if c.base else self.args.bin
        cmd = [*wrap, binary, "run", "-q", QUEUE, "--redis-url", self.redis.url,
               "-c", str(c.concurrency)]
        if burst:
            cmd.append("--burst")
        if c.python:
            # The interpreter of the RQ contenders (.venv-rq3: this driver's own).
            cmd += ["--python", sys.executable, "--python-mode", c.python, "-P", str(PYPATH),
                    *c.args]
        if history:
            assert self.pg is not None
            cmd += ["--database-url", self.pg.url]
        return cmd, env

    def check(self, n: int) -> str:
        finished = self.r.zcard(f"rq:finished:{QUEUE}")
        failed = self.r.zcard(f"rq:failed:{QUEUE}")
        left = self.r.llen(f"rq:queue:{QUEUE}")
        if finished == n and not failed and not left:
            return "ok"
        return f"finished {finished}/{n}, failed {failed}, left {left}"

    def log_cmdstats(self, n: int) -> None:
        """Calls and Redis' own time (`usec`) per job, by command. Commands run inside a script
        count in both their own line and the script's (`evalsha`); the script's time minus its
        commands' is the Lua bridge and interpreter."""
        if self.args.cmdstats:
            stats = {k[8:]: v for k, v in self.r.info("commandstats").items()
                     if k not in ("cmdstat_info", "cmdstat_config|resetstat")}
            rows = sorted(stats.items(), key=lambda kv: -int(kv[1]["calls"]))
            log("  per job, command calls (µs): " + ", ".join(
                f"{k} {int(v['calls']) / n:.2f} ({int(v['usec']) / n:.1f})" for k, v in rows))
            inner = sum(int(v["usec"]) for k, v in stats.items()
                        if k not in ("evalsha", "eval", "exec", "multi"))
            scripts = sum(int(v["usec"]) for k, v in stats.items() if k in ("evalsha", "eval"))
            log(f"  per job: scripts {scripts / n:.1f} µs, commands {inner / n:.1f} µs "
                f"(inside scripts or not)")

    def run_drain(self, s: Scenario, c: Contender, n: int) -> Row:
        """RQ-compatible contenders in burst mode (and the floor driver): spawn, wait for exit."""
        self.r.flushall()
        log(f"{s.title} / {c.label}: enqueueing {n} jobs")
        enqueue_batch(self.r, n, s.kind, self.sleep_s)
        rows_before = self.pg.count_rows() if (s.history and self.pg) else None
        pg_cpu0 = self.pg.cpu() if (s.history and self.pg) else 0.0
        cmd, env = self.command(c, burst=True, history=s.history)
        self.r.config_resetstat()
        cpu0 = redis_cpu(self.r)
        t_first = time.perf_counter()
        procs = [spawn(cmd, env, self.workdir / f"{s.key}-{c.key}-{i}.log", self.workdir,
                       reaper=s.kind in PY_KINDS)
                 for i in range(c.procs)]
        # The fleet is timed from its first spawn; its CPU and peak
        # memory are the sums over its processes.
        t_epoch = time.time()
        guard = ExitStallGuard(self.redis.url, n, procs[0][0].pid) if c.kind == "rq" else None
        if guard:
            guard.start()
        all_stats = [reap(proc, mem, t_first, timeout=600) for proc, mem, _ in procs]
        if guard:
            guard.stop_flag.set()
            guard.join()
        stats = ProcStats(max(x.wall for x in all_stats), sum(x.cpu for x in all_stats),
                          sum(x.peak_mb for x in all_stats),
                          next((x.status for x in all_stats if x.status), 0))
        calls = command_calls(self.r) - (guard.calls if guard else 0)
        rcpu = redis_cpu(self.r) - cpu0
        self.log_cmdstats(n)
        note = ""
        if guard and guard.killed:
            # Killed by the guard after finishing everything: not a failure of the run.
            note = f"stalled at exit, killed {guard.grace:.0f} s after its last job"
            stats.status = 0
        ok = self.check(n) if stats.status == 0 else f"exit {stats.status} (see {procs[0][0].logfile})"
        # jobs/s counts from the spawn to the last job's end (the workers' own `ended_at`), so
        # that shutdown (and an RQ exit stall) is left out; CPU includes both.
        last = last_ended_at(self.r) if ok == "ok" else None
        if last is not None and 0 < last - t_epoch < stats.wall:
            stats.wall = last - t_epoch
        if s.history and self.pg:
            after = self.pg.count_rows()
            # No table before the first history run: the worker creates it.
            rows = None if after is None else after - (rows_before or 0)
            note = f"{rows} history rows, PostgreSQL CPU {self.pg.cpu() - pg_cpu0:.2f} s"
            if rows != n:
                ok = f"{ok}; history rows {rows}/{n}"
        log(f"  {n / stats.wall:,.0f} jobs/s, {stats.wall:.2f} s, worker CPU "
            f"{stats.cpu / n * 1e6:,.0f} µs/job, Redis CPU {rcpu / n * 1e6:,.0f} µs/job, {ok}")
        return Row(s, c, n, stats, calls / n, rcpu, ok, note=note)

    def run_other(self, s: Scenario, c: Contender, n: int) -> Row:
        """Dramatiq and Celery: no burst mode. The no-op task counts its runs in DONE_KEY; we
        poll it, stop the worker (SIGTERM, warm shutdown) once it reaches n, and take the wall
        time at that moment. CPU includes start-up and shutdown."""
        self.r.flushall()
        log(f"{s.title} / {c.label}: enqueueing {n} jobs")
        cmd, env = self.command(c, burst=False, history=False)
        kind = [s.kind] if s.kind in PY_KINDS else []
        subprocess.run([self.args.others_python, str(OTHERS / "enqueue.py"), c.kind, str(n),
                        *kind], env=env, check=True)
        logfile = self.workdir / f"{s.key}-{c.key}.log"
        self.r.config_resetstat()
        cpu0 = redis_cpu(self.r)
        proc, mem, t0 = spawn(cmd, env, logfile, self.workdir, reaper=s.kind in PY_KINDS)
        polls, done = 0, 0
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and proc.poll() is None:
            polls += 1
            done = int(self.r.get(DONE_KEY) or 0)
            if done >= n:
                break
            time.sleep(0.01)
        drained = time.perf_counter() - t0
        # Calls of the measurement itself: our polls (GET) and the tasks' INCR.
        calls = command_calls(self.r) - polls - done
        rcpu = redis_cpu(self.r) - cpu0
        self.log_cmdstats(n)
        if proc.poll() is None:
            stop(proc)
        stats = reap(proc, mem, t0, timeout=60)
        stats.wall = drained
        ok = "ok" if done == n else f"ran {done}/{n} (see {logfile})"
        log(f"  {n / drained:,.0f} jobs/s, {drained:.2f} s, worker CPU "
            f"{stats.cpu / n * 1e6:,.0f} µs/job, Redis CPU {rcpu / n * 1e6:,.0f} µs/job, {ok}")
        note = ("incl. one INCR per job (the counter), after the function"
                if s.kind in PY_KINDS else "incl. the task's INCR")
        return Row(s, c, n, stats, calls / n, rcpu, ok, note=note)

    def run_latency(self, s: Scenario, c: Contender, seconds: float) -> Row:
        if self.enqueue_calls is None:
            self.enqueue_calls = enqueue_cost(self.r)
            log(f"one Queue.enqueue = {self.enqueue_calls:.1f} Redis commands")
        self.r.flushall()
        rate = self.args.rate
        n = int(rate * seconds)
        log(f"{s.title} / {c.label}: {rate:.0f} jobs/s for {seconds:.0f} s")
        cmd, env = self.command(c, burst=False, history=False)
        logfile = self.workdir / f"{s.key}-{c.key}.log"
        proc, mem, t0 = spawn(cmd, env, logfile, self.workdir)
        want = 2 if c.key == "rqp" else c.concurrency
        deadline = time.monotonic() + 60
        while self.r.scard("rq:workers") < want and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # let it settle into its idle wait
        self.r.config_resetstat()
        cpu0 = redis_cpu(self.r)
        t_load = time.perf_counter()
        enq = subprocess.run(
            [sys.executable, __file__, "open-loop", "--url", self.redis.url,
             "--rate", str(rate), "--seconds", str(seconds)],
            stdout=subprocess.PIPE, text=True, check=True,
        )
        polls = 0
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            polls += 1
            if self.r.zcard(f"rq:finished:{QUEUE}") + self.r.zcard(f"rq:failed:{QUEUE}") >= n:
                break
            time.sleep(0.02)
        drained = time.perf_counter() - t_load
        calls = command_calls(self.r) - 2 * polls - self.enqueue_calls * n
        rcpu = redis_cpu(self.r) - cpu0
        stop(proc)
        stats = reap(proc, mem, t0, timeout=60)
        lat = start_latencies(self.r)
        ok = self.check(n)
        sent, took, lag = enq.stdout.split()
        note = f"enqueuer: {sent} jobs in {float(took):.1f} s, max lag {lag} ms"
        log(f"  p50 {pct(lat, 50):.2f} ms, p90 {pct(lat, 90):.2f}, p99 {pct(lat, 99):.2f}, "
            f"p99.9 {pct(lat, 99.9):.2f}, max {lat[-1] if lat else 0:.2f} ms, {ok}; {note}")
        stats.wall = drained
        return Row(s, c, n, stats, calls / n, rcpu, ok, pct(lat, 50), pct(lat, 99), note)

    def callgrind_run(self, n: int, tag: str, base: bool) -> tuple[int | None, str]:
        """Total instructions (Ir) of one burst run of task-worker -c 64 under callgrind."""
        self.r.flushall()
        if n:
            enqueue_batch(self.r, n, "noop", 0)
        out = self.workdir / f"callgrind-{tag}"
        out.mkdir()
        cmd, env = self.command(Contender("cg", "", "tw", 64, base=base), burst=True, history=False)
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/cg.%p", *cmd]
        env["RUST_LOG"] = "info"
        with open(self.workdir / f"callgrind-{tag}.log", "wb") as lf:
            rc = subprocess.run(cmd, env=env, stdout=lf, stderr=subprocess.STDOUT,
                                timeout=900).returncode
        total = 0
        for f in out.iterdir():
            for line in f.read_text(errors="replace").splitlines():
                # `summary:` in the header (older valgrind) or `totals:` at the end.
                if line.startswith(("summary:", "totals:")):
                    total += int(line.split()[1])
                    break
        ok = self.check(n) if rc == 0 else f"exit {rc}"
        return (total or None), ok

    def callgrind(self) -> list[dict]:
        """Instructions per job of task-worker (and of the previous release, when built)."""
        if not shutil.which("valgrind"):
            self.skipped.append("callgrind: valgrind is not installed")
            return []
        n = self.args.callgrind_jobs
        out = []
        for base in ([False, True] if self.args.base_bin else [False]):
            label = (f"previous release ({self.args.base_rev or '?'})" if base else "this build")
            log(f"callgrind, {label}: task-worker -c 64, start-up only, then {n:,} no-op jobs")
            tag = "base" if base else "new"
            ir0, ok0 = self.callgrind_run(0, f"{tag}-0", base)
            irn, okn = self.callgrind_run(n, f"{tag}-{n}", base)
            ok = okn if ok0 == "ok" else f"start-up run: {ok0}"
            per = (irn - ir0) / n if (ir0 and irn) else None
            log(f"  start-up {fmt(ir0, 0)} Ir, with jobs {fmt(irn, 0)} Ir: {fmt(per, 0)} Ir per job, {ok}")
            out.append({"label": label, "jobs": n, "startup": ir0, "total": irn, "per_job": per,
                        "ok": ok})
        # Redis' side, counted the same way: what one job costs the single Redis thread, whatever
        # else the machine runs (Redis CPU µs per job moves by 2x between machines and runs).
        sides = [("this build", Contender("cg", "", "tw", 64))]
        if self.args.base_bin:
            sides.append((f"previous release ({self.args.base_rev or '?'})",
                          Contender("cg", "", "tw", 64, base=True)))
        sides.append(("RQ data-model floor", Contender("floor", "", "floor", 64)))
        for label, c in sides:
            log(f"callgrind of redis-server, {label}: {n:,} no-op jobs")
            per, ok = self.redis_callgrind(c, n, label)
            log(f"  {fmt(per, 0)} Redis Ir per job, {ok}")
            out.append({"label": label, "jobs": n, "redis_per_job": per, "ok": ok})
        return out

    def redis_callgrind(self, c: "Contender", n: int, label: str) -> tuple[float | None, str]:
        """Instructions redis-server runs per job: a private Redis under callgrind, its counters
        zeroed once the jobs are enqueued and dumped once the contender (not under valgrind) has
        drained them."""
        tag = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
        out = self.workdir / f"redis-callgrind-{tag}"
        out.mkdir()
        port = free_port()
        proc = subprocess.Popen(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/cg.out",
             "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(out)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_port(port, "redis-server under valgrind", timeout=120)
            url = f"redis://127.0.0.1:{port}"
            r = Redis.from_url(url)
            enqueue_batch(r, n, "noop", self.sleep_s)
            subprocess.run(["callgrind_control", "-z", str(proc.pid)], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            saved, self.redis.url = self.redis.url, url
            try:
                cmd, env = self.command(c, burst=True, history=False)
            finally:
                self.redis.url = saved
            with open(out / "worker.log", "wb") as lf:
                rc = subprocess.run(cmd, env=env, stdout=lf, stderr=subprocess.STDOUT,
                                    timeout=900).returncode
            finished = r.zcard(f"rq:finished:{QUEUE}")
            subprocess.run(["callgrind_control", "-d", str(proc.pid)], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        finally:
            proc.terminate()
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
        total = 0
        for f in out.glob("cg.out.*"):  # the dump taken after the run (`cg.out.1`)
            for line in f.read_text(errors="replace").splitlines():
                if line.startswith(("summary:", "totals:")):
                    total += int(line.split()[1])
                    break
        ok = "ok" if rc == 0 and finished == n else f"exit {rc}, finished {finished}/{n}"
        return (total / n if total else None), ok


    def run(self) -> list[Row]:
        rows = []
        for s in scenarios(self.args.quick):
            if self.args.only and s.key not in self.args.only:
                continue
            for c in CONTENDERS:
                if c.key not in s.counts:
                    continue
                if self.args.contenders and c.key not in self.args.contenders:
                    continue
                why = self.available(c)
                if why:
                    self.skipped.append(f"{c.label}: {why}")
                    continue
                if s.history and self.pg is None:
                    log("starting PostgreSQL for the history scenario")
                    self.pg = PostgresServer(self.workdir)
                n = s.counts[c.key]
                if s.kind == "latency":
                    rows.append(self.run_latency(s, c, n))
                elif c.kind in ("dramatiq", "celery"):
                    rows.append(self.run_other(s, c, self.args.jobs or n))
                else:
                    rows.append(self.run_drain(s, c, self.args.jobs or n))
        return rows


# --------------------------------------------------------------------------- output


def fmt(x: float | None, nd: int = 1) -> str:
    if x is None or x != x:
        return "–"
    return f"{x:,.{nd}f}"


def table(rows: list[Row]) -> str:
    base: dict[str, float] = {}
    rows = [r for r in rows if r.scenario.kind not in PY_KINDS]
    if not rows:
        return ""
    for r in rows:
        if r.contender.key == "rqs":
            base[r.scenario.key] = r.rate
    if "a" in base:
        base.setdefault("d", base["a"])
        base.setdefault("e", base["a"])
    out = [
        "| scenario | worker | jobs | jobs/s | × SimpleWorker | worker CPU µs/job "
        "| Redis CPU µs/job | Redis cmds/job | peak RSS MB | start p50 ms | start p99 ms | check |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for r in rows:
        ratio = "–"
        # (The floor is not a worker: no ratio for it.)
        if r.scenario.kind != "latency" and r.scenario.key in base and r.contender.kind != "floor":
            ratio = f"{r.rate / base[r.scenario.key]:,.1f}×"
        # The previous release's note is the revision it was built from.
        label = f"{r.contender.label} ({r.note})" if r.contender.base else r.contender.label
        note = "" if r.contender.base else r.note
        out.append(
            f"| {r.scenario.title} | {label} | {r.jobs:,} | {r.rate:,.0f} | {ratio} "
            f"| {r.worker_us:,.0f} | {r.redis_us:,.1f} | {r.calls_per_job:.1f} "
            f"| {r.stats.peak_mb:.1f} | {fmt(r.p50, 2)} | {fmt(r.p99, 2)} "
            f"| {r.ok}{'; ' + note if note else ''} |"
        )
    return "\n".join(out)


def py_table(rows: list[Row]) -> str:
    """The Python-job scenarios (issue 28): the same function through every contender."""
    rows = [r for r in rows if r.scenario.kind in PY_KINDS]
    if not rows:
        return ""
    rate = {(r.scenario.key, r.contender.key): r.rate for r in rows}
    out = [
        "",
        "| scenario | worker | jobs | jobs/s | × rq worker | × SimpleWorker "
        "| CPU µs/job (all processes) | Redis CPU µs/job | Redis cmds/job | peak MB | check |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for r in rows:
        ratios = []
        for key in ("rqw", "rqs"):
            b = rate.get((r.scenario.key, key))
            ratios.append(f"{r.rate / b:,.1f}×" if b else "–")
        out.append(
            f"| {r.scenario.title} | {r.contender.label} | {r.jobs:,} | {r.rate:,.0f} "
            f"| {ratios[0]} | {ratios[1]} | {r.worker_us:,.0f} | {r.redis_us:,.1f} "
            f"| {r.calls_per_job:.1f} | {r.stats.peak_mb:.1f} "
            f"| {r.ok}{'; ' + r.note if r.note else ''} |")
    out.append("")
    for sc in dict.fromkeys(r.scenario.key for r in rows):
        for mode, key, label, target in (("fork", "rqw", "rq worker", 10),
                                         ("reuse", "rqs", "SimpleWorker", 10)):
            base = rate.get((sc, key))
            best = max((r for r in rows if r.scenario.key == sc and r.contender.python == mode),
                       key=lambda r: r.rate, default=None)
            if base and best:
                x = best.rate / base
                title = best.scenario.title
                out.append(f"* {title}: `{mode}` at its best ({best.contender.label}) "
                           f"**{x:.1f}×** {label} (target {target}×: "
                           f"{'met' if x >= target else 'missed'}).")
    return "\n".join(out)


def summary(rows: list[Row], cg: list[dict], skipped: list[str], redis_version: str) -> str:
    """The derived figures of issue 17: floor ratio, fleet vs Redis' ceiling, previous release."""
    by = {(r.scenario.key, r.contender.key): r for r in rows}
    out = [""]
    floor = by.get(("a", "floor"))
    if floor:
        out.append(f"* **RQ data-model floor**: {floor.redis_us:.1f} µs of Redis CPU per job "
                   f"({floor.calls_per_job:.1f} commands per job, Lua batches of 64).")
        for key in ("tw64", "tw1", "tw64-base"):
            r = by.get(("a", key))
            if r:
                out.append(f"  * {r.contender.label}: {r.redis_us:.1f} µs = "
                           f"**{r.redis_us / floor.redis_us:.1f}×** the floor")
        fl = by.get(("e", "fleet"))
        if fl:
            out.append(f"  * {fl.contender.label}: {fl.redis_us:.1f} µs = "
                       f"**{fl.redis_us / floor.redis_us:.1f}×** the floor")
    fl = by.get(("e", "fleet"))
    if fl:
        ceiling = 1e6 / fl.redis_us
        out.append(f"* **Fleet** ({fl.contender.label}): {fl.rate:,.0f} jobs/s; Redis CPU "
                   f"{fl.redis_us:.1f} µs per job gives a Redis CPU ceiling of {ceiling:,.0f} "
                   f"jobs/s (1e6 / µs per job); the fleet ran at **{fl.rate / ceiling * 100:.0f} %** "
                   f"of it (workers' CPU {fl.worker_us:.0f} µs per job, summed).")
    for c in (64, 1):
        new, old = by.get(("a", f"tw{c}")), by.get(("a", f"tw{c}-base"))
        if new and old:
            out.append(f"* **Against the previous release** ({old.note}), `-c {c}` no-op: jobs/s "
                       f"**{new.rate / old.rate:.2f}×**, Redis CPU per job {new.redis_us:.1f} vs "
                       f"{old.redis_us:.1f} µs, worker CPU per job {new.worker_us:.0f} vs "
                       f"{old.worker_us:.0f} µs.")
    for k in ("tw1", "tw64"):
        a, d = by.get(("a", k)), by.get(("d", k))
        if a and d:
            out.append(f"* History on costs {(1 - d.rate / a.rate) * 100:.0f} % of throughput at "
                       f"`-c {a.contender.concurrency}`.")
    if cg:
        out += [
            "",
            "| callgrind (task-worker -c 64, burst) | start-up instructions | jobs "
            "| instructions | per job | check |",
            "|---|--:|--:|--:|--:|---|",
        ]
        worker = [g for g in cg if "per_job" in g]
        for g in worker:
            out.append(f"| {g['label']} | {fmt(g['startup'], 0)} | {g['jobs']:,} "
                       f"| {fmt(g['total'], 0)} | **{fmt(g['per_job'], 0)}** | {g['ok']} |")
        if len(worker) == 2 and worker[0]["per_job"] and worker[1]["per_job"]:
            out += ["", f"Instructions per job, this build / previous release: "
                        f"**{worker[0]['per_job'] / worker[1]['per_job']:.3f}**."]
        server = [g for g in cg if "redis_per_job" in g]
        if server:
            out += ["", "| callgrind of redis-server (no-op jobs, -c 64 / batches of 64) | jobs "
                        "| Redis instructions per job | check |", "|---|--:|--:|---|"]
            for g in server:
                out.append(f"| {g['label']} | {g['jobs']:,} | **{fmt(g['redis_per_job'], 0)}** "
                           f"| {g['ok']} |")
            ours = server[0]["redis_per_job"]
            for g in server[1:]:
                if ours and g["redis_per_job"]:
                    out += ["", f"Redis instructions per job, this build / {g['label']}: "
                                f"**{ours / g['redis_per_job']:.3f}**."]
    for s in skipped:
        out.append(f"* skipped: {s}")
    out.append("")
    out.append(
        f"Machine: {os.cpu_count()} cores ({platform.machine()}, {platform.release()}), Redis "
        f"{redis_version}, run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load "
        f"average at the end {os.getloadavg()[0]:.1f} (1 min), {os.getloadavg()[2]:.1f} (15 min)."
    )
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    sub = ap.add_subparsers(dest="cmd")
    ol = sub.add_parser("open-loop")
    ol.add_argument("--url", required=True)
    ol.add_argument("--rate", type=float, required=True)
    ol.add_argument("--seconds", type=float, required=True)
    fd = sub.add_parser("floor")
    fd.add_argument("--url", required=True)
    fd.add_argument("--batch", type=int, default=64)
    ap.add_argument("--bin", default=str(REPO / "target" / "release" / "task-worker"))
    ap.add_argument("--base-bin", help="task-worker binary of the previous release (tw64-base)")
    ap.add_argument("--base-rev", default="", help="what --base-bin was built from (for the table)")
    ap.add_argument("--others-python", help="interpreter of .venv-bench (Dramatiq, Celery)")
    ap.add_argument("--quick", action="store_true", help="small counts, for CI smoke runs")
    ap.add_argument("--only", nargs="*", help="scenario keys to run (a b c d e; callgrind)")
    ap.add_argument("--contenders", nargs="*", help="contender keys (" + " ".join(
        c.key for c in CONTENDERS) + "; callgrind)")
    ap.add_argument("--rate", type=float, default=1000.0, help="latency scenario load (jobs/s)")
    ap.add_argument("--wrap", help="prefix for task-worker commands, e.g. a profiler: "
                    "'valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.%%p'")
    ap.add_argument("--callgrind-jobs", type=int, default=None,
                    help="jobs of the callgrind run (default 2,000; 300 with --quick); 0 skips it")
    ap.add_argument("--cmdstats", action="store_true",
                    help="log each contender's Redis commands per job, by command")
    ap.add_argument("--jobs", type=int, help="override the job count of every run")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (worker logs)")
    args = ap.parse_args()
    if args.cmd == "open-loop":
        open_loop(args.url, args.rate, args.seconds)
        return 0
    if args.cmd == "floor":
        floor_driver(args.url, args.batch)
        return 0
    if args.callgrind_jobs is None:
        args.callgrind_jobs = 300 if args.quick else 2000
    if not TIME.exists():
        log("GNU time (/usr/bin/time) not found: peak RSS falls back to wait4, which counts the "
            "driver's own high-water mark (apt-get install time)")
    workdir = Path(tempfile.mkdtemp(prefix="tw-bench-"))
    os.chmod(workdir, 0o755)
    bench = Bench(args, workdir)
    cg: list[dict] = []
    try:
        version = bench.r.info("server")["redis_version"]
        rows = bench.run()
        for r in rows:
            if r.contender.base:
                r.note = args.base_rev or "previous release"
        # The callgrind count runs in every full or quick run; with --only/--contenders, only
        # when "callgrind" is named in them.
        named = (args.only or []) + (args.contenders or [])
        if args.callgrind_jobs and not args.wrap and (
                not (args.only or args.contenders) or "callgrind" in named):
            cg = bench.callgrind()
    finally:
        bench.close()
        if args.keep:
            log(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(table(rows))
    print(py_table(rows))
    print(summary(rows, cg, bench.skipped, version))
    # A run whose jobs did not all finish is a failed run (what makes `--quick` a smoke test).
    bad = [f"{r.scenario.title} / {r.contender.label}: {r.ok}" for r in rows if r.ok != "ok"]
    bad += [f"callgrind, {g['label']}: {g['ok']}" for g in cg if g["ok"] != "ok"]
    for b in bad:
        log(f"CHECK FAILED: {b}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
