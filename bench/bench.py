#!/usr/bin/env python3
"""Benchmark driver for bench/run: task-worker against Python RQ on one private Redis.

For each scenario and each contender it flushes the private Redis, enqueues the same jobs with
real Python RQ, snapshots Redis' counters, lets the contender drain the queue, and measures:
wall time, peak memory, CPU seconds (the process and its reaped children, via wait4), Redis
commands per job (INFO commandstats, enqueue excluded) and Redis' own CPU. It prints one
Markdown table on stdout; progress goes to stderr.

Run through bench/run (which builds the release binary and the venvs first). Needs the
.venv-rq3 interpreter (real RQ 3.0.0).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
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
QUEUE = "bench"
WRAPPER = "ctutor_backend.tasks.executor.TaskExecutor._execute_task_wrapper"


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
    """Samples the summed PSS of a process tree every 100 ms, keeping the peak."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self.stop_flag = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.stop_flag.wait(0.1):
            self.peak_kb = max(self.peak_kb, sum(pss_kb(p) for p in descendants(self.pid)))


@dataclass
class ProcStats:
    wall: float
    cpu: float
    peak_mb: float
    status: int


TIME = Path("/usr/bin/time")


def spawn(cmd: list[str], env: dict, logfile: Path, cwd: Path) -> tuple[subprocess.Popen, TreeMemory, float]:
    """Starts a contender under GNU time when it is there: a process forked by our (big) Python
    driver inherits the driver's RSS high-water mark in its rusage, one forked by `time` does not."""
    if TIME.exists():
        cmd = [str(TIME), "-f", "%M %U %S", "-o", str(logfile) + ".time", *cmd]
    with open(logfile, "ab") as lf:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=lf, stderr=subprocess.STDOUT, cwd=cwd)
    proc.logfile = logfile  # type: ignore[attr-defined]
    mem = TreeMemory(proc.pid)
    mem.start()
    return proc, mem, t0


def worker_pid(proc: subprocess.Popen) -> int:
    """The contender's own pid (the child of `time`, when it runs under it)."""
    if not TIME.exists():
        return proc.pid
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        kids = descendants(proc.pid)
        if len(kids) > 1:
            return kids[1] if kids[0] == proc.pid else kids[0]
        time.sleep(0.01)
    return proc.pid


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
    args = job_args(kind, sleep_s)
    done = 0
    while done < n:
        k = min(1000, n - done)
        with r.pipeline() as pipe:
            q.enqueue_many([Queue.prepare_data(WRAPPER, args=args) for _ in range(k)], pipeline=pipe)
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


# --------------------------------------------------------------------------- contenders


@dataclass
class Contender:
    key: str
    label: str
    python: bool
    concurrency: int = 1
    rq_args: list[str] = field(default_factory=list)


CONTENDERS = [
    Contender("tw1", "task-worker -c 1", False, 1),
    Contender("tw64", "task-worker -c 64", False, 64),
    Contender("rqw", "RQ Worker (forking)", True, rq_args=["worker", "-w", "rq.Worker"]),
    Contender("rqs", "RQ SimpleWorker", True, rq_args=["worker", "-w", "rq.SimpleWorker"]),
    Contender("rqp", "rq worker-pool -n 2", True, rq_args=["worker-pool", "-n", "2"]),
]


@dataclass
class Scenario:
    key: str
    title: str
    kind: str  # noop | sleep | latency
    counts: dict  # contender key -> jobs (or, for latency, seconds of load)
    history: bool = False


def scenarios(quick: bool) -> list[Scenario]:
    if quick:
        return [
            Scenario("a", "(a) no-op", "noop",
                     {"tw1": 2000, "tw64": 5000, "rqw": 300, "rqs": 1000, "rqp": 500}),
            Scenario("b", "(b) sleep(0.1)", "sleep",
                     {"tw1": 20, "tw64": 500, "rqw": 20, "rqs": 20, "rqp": 40}),
            Scenario("c", "(c) 1,000 jobs/s open loop", "latency",
                     {"tw1": 3, "tw64": 3, "rqw": 1, "rqs": 1, "rqp": 1}),
            Scenario("d", "(d) no-op, history on", "noop", {"tw1": 2000, "tw64": 5000}, True),
        ]
    return [
        Scenario("a", "(a) no-op", "noop",
                 {"tw1": 20000, "tw64": 20000, "rqw": 2000, "rqs": 8000, "rqp": 3000}),
        Scenario("b", "(b) sleep(0.1)", "sleep",
                 {"tw1": 300, "tw64": 2000, "rqw": 300, "rqs": 300, "rqp": 400}),
        Scenario("c", "(c) 1,000 jobs/s open loop", "latency",
                 {"tw1": 20, "tw64": 20, "rqw": 2, "rqs": 2, "rqp": 2}),
        Scenario("d", "(d) no-op, history on", "noop", {"tw1": 20000, "tw64": 20000}, True),
    ]


@dataclass
class Row:
    scenario: Scenario
    contender: Contender
    jobs: int
    stats: ProcStats
    calls_per_job: float
    redis_cpu: float
    ok: str
    p50: float | None = None
    p99: float | None = None
    note: str = ""


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

    def close(self) -> None:
        self.redis.stop()
        if self.pg:
            self.pg.stop()

    def command(self, c: Contender, burst: bool, history: bool) -> tuple[list[str], dict]:
        env = dict(os.environ)
        if c.python:
            env["PYTHONPATH"] = str(PYPATH)
            cmd = [self.rq_bin, *c.rq_args, "--url", self.redis.url]
            if burst:
                cmd.append("--burst")
            cmd.append(QUEUE)
            return cmd, env
        env.pop("PYTHONPATH", None)
        env.setdefault("RUST_LOG", "info")
        wrap = self.args.wrap.split() if self.args.wrap else []
        cmd = [*wrap, self.args.bin, "run", "-q", QUEUE, "--redis-url", self.redis.url,
               "-c", str(c.concurrency)]
        if burst:
            cmd.append("--burst")
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

    def run_drain(self, s: Scenario, c: Contender, n: int) -> Row:
        self.r.flushall()
        log(f"{s.title} / {c.label}: enqueueing {n} jobs")
        enqueue_batch(self.r, n, s.kind, self.sleep_s)
        rows_before = self.pg.count_rows() if (s.history and self.pg) else None
        pg_cpu0 = self.pg.cpu() if (s.history and self.pg) else 0.0
        cmd, env = self.command(c, burst=True, history=s.history)
        logfile = self.workdir / f"{s.key}-{c.key}.log"
        self.r.config_resetstat()
        cpu0 = redis_cpu(self.r)
        proc, mem, t0 = spawn(cmd, env, logfile, self.workdir)
        stats = reap(proc, mem, t0, timeout=600)
        calls = command_calls(self.r)
        rcpu = redis_cpu(self.r) - cpu0
        if self.args.cmdstats:
            per = {k[8:]: int(v["calls"]) / n for k, v in self.r.info("commandstats").items()
                   if k not in ("cmdstat_info", "cmdstat_config|resetstat")}
            log("  commands per job: " + ", ".join(
                f"{k} {v:.2f}" for k, v in sorted(per.items(), key=lambda kv: -kv[1])))
        ok = self.check(n) if stats.status == 0 else f"exit {stats.status} (see {logfile})"
        note = ""
        if s.history and self.pg:
            after = self.pg.count_rows()
            # No table before the first history run: the worker creates it.
            rows = None if after is None else after - (rows_before or 0)
            note = f"{rows} history rows, PostgreSQL CPU {self.pg.cpu() - pg_cpu0:.2f} s"
            if rows != n:
                ok = f"{ok}; history rows {rows}/{n}"
        log(f"  {n / stats.wall:,.0f} jobs/s, {stats.wall:.2f} s, {ok}")
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
        os.kill(worker_pid(proc), signal.SIGTERM)
        stats = reap(proc, mem, t0, timeout=60)
        lat = start_latencies(self.r)
        ok = self.check(n)
        sent, took, lag = enq.stdout.split()
        note = f"enqueuer: {sent} jobs in {float(took):.1f} s, max lag {lag} ms"
        log(f"  p50 {pct(lat, 50):.2f} ms, p90 {pct(lat, 90):.2f}, p99 {pct(lat, 99):.2f}, "
            f"p99.9 {pct(lat, 99.9):.2f}, max {lat[-1] if lat else 0:.2f} ms, {ok}; {note}")
        stats.wall = drained
        return Row(s, c, n, stats, calls / n, rcpu, ok, pct(lat, 50), pct(lat, 99), note)

    def run(self) -> list[Row]:
        rows = []
        for s in scenarios(self.args.quick):
            if self.args.only and s.key not in self.args.only:
                continue
            if s.history and self.pg is None:
                log("starting PostgreSQL for the history scenario")
                self.pg = PostgresServer(self.workdir)
            for c in CONTENDERS:
                if c.key not in s.counts:
                    continue
                if self.args.contenders and c.key not in self.args.contenders:
                    continue
                if s.kind == "latency":
                    rows.append(self.run_latency(s, c, s.counts[c.key]))
                else:
                    rows.append(self.run_drain(s, c, self.args.jobs or s.counts[c.key]))
        return rows


# --------------------------------------------------------------------------- output


def fmt(x: float | None, nd: int = 1) -> str:
    if x is None or x != x:
        return "–"
    return f"{x:,.{nd}f}"


def table(rows: list[Row], redis_version: str) -> str:
    base: dict[str, float] = {}
    for r in rows:
        if r.contender.key == "rqs":
            base[r.scenario.key] = r.jobs / r.stats.wall
    if "a" in base:
        base.setdefault("d", base["a"])
    out = [
        "| scenario | worker | jobs | jobs/s | × SimpleWorker | peak RSS MB | CPU s | CPU µs/job "
        "| Redis cmds/job | Redis CPU s | start p50 ms | start p99 ms | check |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for r in rows:
        rate = r.jobs / r.stats.wall
        ratio = "–"
        if r.scenario.kind != "latency" and r.scenario.key in base:
            ratio = f"{rate / base[r.scenario.key]:,.1f}×"
        out.append(
            f"| {r.scenario.title} | {r.contender.label} | {r.jobs:,} | {rate:,.0f} | {ratio} "
            f"| {r.stats.peak_mb:.1f} | {r.stats.cpu:.2f} | {r.stats.cpu / r.jobs * 1e6:,.0f} "
            f"| {r.calls_per_job:.1f} | {r.redis_cpu:.2f} | {fmt(r.p50, 2)} | {fmt(r.p99, 2)} "
            f"| {r.ok}{'; ' + r.note if r.note else ''} |"
        )
    by = {(r.scenario.key, r.contender.key): r for r in rows}
    notes = []
    for k in ("tw1", "tw64"):
        a, d = by.get(("a", k)), by.get(("d", k))
        if a and d:
            cost = 1 - (d.jobs / d.stats.wall) / (a.jobs / a.stats.wall)
            notes.append(f"history on costs {cost * 100:.0f}% of throughput at -c {a.contender.concurrency}")
    out.append("")
    out.append(
        f"Machine: {os.cpu_count()} cores ({platform.machine()}, {platform.release()}), Redis "
        f"{redis_version}, run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}."
        + (" " + "; ".join(notes) + "." if notes else "")
    )
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    sub = ap.add_subparsers(dest="cmd")
    ol = sub.add_parser("open-loop")
    ol.add_argument("--url", required=True)
    ol.add_argument("--rate", type=float, required=True)
    ol.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--bin", default=str(REPO / "target" / "release" / "task-worker"))
    ap.add_argument("--quick", action="store_true", help="small counts, for CI smoke runs")
    ap.add_argument("--only", nargs="*", help="scenario keys to run (a b c d)")
    ap.add_argument("--contenders", nargs="*", help="contender keys (tw1 tw64 rqw rqs rqp)")
    ap.add_argument("--rate", type=float, default=1000.0, help="latency scenario load (jobs/s)")
    ap.add_argument("--wrap", help="prefix for task-worker commands, e.g. a profiler: "
                    "'valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.%%p'")
    ap.add_argument("--cmdstats", action="store_true",
                    help="log each contender's Redis commands per job, by command")
    ap.add_argument("--jobs", type=int, help="override the job count of every run")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (worker logs)")
    args = ap.parse_args()
    if args.cmd == "open-loop":
        open_loop(args.url, args.rate, args.seconds)
        return 0
    if not TIME.exists():
        log("GNU time (/usr/bin/time) not found: peak RSS falls back to wait4, which counts the "
            "driver's own high-water mark (apt-get install time)")
    workdir = Path(tempfile.mkdtemp(prefix="tw-bench-"))
    os.chmod(workdir, 0o755)
    bench = Bench(args, workdir)
    try:
        version = bench.r.info("server")["redis_version"]
        rows = bench.run()
    finally:
        bench.close()
        if args.keep:
            log(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(table(rows, version))
    # A run whose jobs did not all finish is a failed run (what makes `--quick` a smoke test).
    bad = [f"{r.scenario.title} / {r.contender.label}: {r.ok}" for r in rows if r.ok != "ok"]
    for b in bad:
        log(f"CHECK FAILED: {b}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
