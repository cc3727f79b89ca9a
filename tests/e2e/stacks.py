"""The container e2e suite's helpers (issue 14): real Docker Engine, the repository's compose
files, the images of scripts/docker-images, real Python RQ 3.0 enqueuing from the host. The
pytest hooks and fixtures are in conftest.py; ports and waiting are the shared harness's.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import subprocess
import tempfile
from pathlib import Path

import redis

import harness
from harness import free_port

REPO = harness.ROOT
COMPOSE = shlex.split(os.environ.get("COMPOSE_BIN", "docker compose"))
IMAGES = {
    "TASK_WORKER_IMAGE": os.environ.get("TASK_WORKER_IMAGE", "task-worker:e2e"),
    "REDIS_IMAGE": os.environ.get("REDIS_IMAGE", "tw-redis:bookworm"),
    "POSTGRES_IMAGE": os.environ.get("POSTGRES_IMAGE", "tw-postgres:bookworm"),
}


def report(line: str) -> None:
    """A figure of the run (grep E2E in the output)."""
    print(f"E2E {line}", flush=True)


def wait_until(pred, timeout: float, what: str, interval: float = 0.5):
    """The harness's wait_until, polling every half second: the predicates here run the docker
    CLI."""
    return harness.wait_until(pred, timeout, what, interval)


def run(argv, timeout=120, check=True, env=None) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return proc


def write_test_env(path: Path, overrides: dict[str, str]) -> None:
    """.env from .env.example: every `change-me` becomes a random secret, plus `overrides`."""
    lines = []
    seen = set()
    for line in (REPO / ".env.example").read_text().splitlines():
        m = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line)
        if m:
            name, value = m.groups()
            if value == "change-me":
                value = secrets.token_hex(16)
            if name in overrides:
                value = overrides[name]
            seen.add(name)
            line = f"{name}={value}"
        lines.append(line)
    for name, value in overrides.items():
        if name not in seen:
            lines.append(f"{name}={value}")
    path.write_text("\n".join(lines) + "\n")


def read_env(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


class Stack:
    """One compose project of one of the repository's compose files."""

    def __init__(self, which: str, overrides: dict[str, str]):
        self.which = which
        # scripts/e2e-docker sets E2E_RUN_ID and removes these projects itself should pytest
        # be killed before its teardown ran.
        self.project = f"twe2e-{os.environ.get('E2E_RUN_ID', os.getpid())}-{which}"
        self.dir = Path(tempfile.mkdtemp(prefix=f"tw-e2e-{which}-"))
        self.redis_port = free_port()
        self.env_file = self.dir / ".env"
        base = {
            **IMAGES,
            "REDIS_HOST_PORT": str(self.redis_port),
            "POSTGRES_HOST_PORT": str(free_port()),
            "API_HOST_PORT": str(free_port()),
            # Recovery of a killed replica's jobs within the test's patience.
            "MAINTENANCE_INTERVAL": "5",
        }
        write_test_env(self.env_file, {**base, **overrides})
        self.files = [REPO / f"docker-compose-{which}.yaml"]
        if which == "prod":
            # prod publishes no datastore port; the test reaches Redis on loopback only.
            override = self.dir / "publish-redis.yaml"
            override.write_text(
                "services:\n  redis:\n    ports:\n"
                f"      - \"127.0.0.1:{self.redis_port}:6379\"\n")
            self.files.append(override)
        self.env = read_env(self.env_file)
        self.password = self.env["REDIS_PASSWORD"]

    def compose(self, *args, timeout=180, check=True, extra_env=None) -> subprocess.CompletedProcess:
        argv = [*COMPOSE, "-p", self.project, "--project-directory", str(REPO),
                "--env-file", str(self.env_file)]
        for f in self.files:
            argv += ["-f", str(f)]
        env = dict(os.environ)
        # The test .env is the only source of these (the e2e script exports the image names).
        for k in list(env):
            if k in self.env or k.startswith("TASK_WORKER_"):
                env.pop(k)
        env.update(extra_env or {})
        return run(argv + list(args), timeout=timeout, check=check, env=env)

    def up(self, *args, extra_env=None, timeout=240):
        return self.compose("up", "-d", "--no-build", "--pull", "never", *args, extra_env=extra_env,
                            timeout=timeout)

    def down(self):
        self.compose("down", "-v", "--remove-orphans", "--timeout", "45", timeout=300, check=False)
        # Networks compose could not remove (a container still attached, e.g. after a failed
        # disconnect test) go here.
        nets = run(["docker", "network", "ls", "-q", "--filter", f"label=com.docker.compose.project={self.project}"],
                   check=False).stdout.split()
        if nets:
            run(["docker", "network", "rm", *nets], check=False)

    def containers(self, service: str, all_states=False) -> list[str]:
        args = ["ps", "-q"] + (["-a"] if all_states else []) + [service]
        return self.compose(*args).stdout.split()

    def network(self) -> str:
        return f"{self.project}_default"

    def redis(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.redis_port, password=self.password,
                           socket_timeout=10, socket_connect_timeout=5)

    def redis_url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.redis_port}/0"

    def logs(self, *services) -> str:
        return self.compose("logs", "--no-color", "--tail", "200", *services, check=False).stdout


def inspect(cid: str) -> dict:
    return json.loads(run(["docker", "inspect", cid]).stdout)[0]


def health(cid: str) -> str:
    state = inspect(cid)["State"]
    return (state.get("Health") or {}).get("Status", "none")


def hostname(cid: str) -> str:
    return inspect(cid)["Config"]["Hostname"]


# --------------------------------------------------------------------------
# checks shared by the dev and prod modules
# --------------------------------------------------------------------------

WORKER_SERVICES = {"task-worker-high": ("high_priority",), "task-worker-default": ("default", "low_priority")}
START_PERIOD_S = 30.0  # healthcheck.start_period of the worker services (both compose files)


def parse_ts(text: str) -> float:
    """Docker's RFC 3339 timestamps (nanoseconds) -> epoch seconds."""
    from datetime import datetime
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", text)
    assert m, text
    base = datetime.fromisoformat(m.group(1) + ("+00:00" if m.group(3) == "Z" else m.group(3)))
    return base.timestamp() + float("0." + (m.group(2) or "0"))


def wait_healthy(stack: Stack, services=WORKER_SERVICES, timeout=120.0) -> dict[str, float]:
    """Waits until every container of `services` is healthy; returns container -> seconds from
    its start to its first passing probe (Docker's own timestamps)."""
    cids = {cid: svc for svc in services for cid in stack.containers(svc)}
    assert cids, f"no containers for {services}"
    wait_until(lambda: all(health(c) == "healthy" for c in cids), timeout, "healthy workers", interval=1)
    out = {}
    for cid, svc in cids.items():
        info = inspect(cid)
        started = parse_ts(info["State"]["StartedAt"])
        probes = info["State"]["Health"]["Log"]
        first_ok = next(p for p in probes if p["ExitCode"] == 0)
        out[f"{svc}/{cid[:12]}"] = parse_ts(first_ok["End"]) - started
    return out


def service_of_hostnames(stack: Stack) -> dict[str, str]:
    return {hostname(cid): svc for svc in WORKER_SERVICES for cid in stack.containers(svc)}


def worker_hosts(conn) -> dict[str, str]:
    """Live RQ worker name -> hostname, as Python RQ sees them."""
    from rq import Worker
    return {w.name: w.hostname for w in Worker.all(connection=conn)}


def check_jobs_run_by_the_right_services(stack: Stack, per_queue=6) -> None:
    from rq import Queue
    from rq.job import JobStatus
    conn = stack.redis()
    jobs = {q: [Queue(q, connection=conn).enqueue("echo", {"n": i, "q": q}) for i in range(per_queue)]
            for q in ("high_priority", "default", "low_priority")}
    every = [j for js in jobs.values() for j in js]
    wait_until(lambda: all(j.get_status(refresh=True) == JobStatus.FINISHED for j in every), 90, "echo jobs")
    hosts = worker_hosts(conn)
    services = service_of_hostnames(stack)
    counts: dict[tuple[str, str], int] = {}
    from rq.job import Job
    for q, js in jobs.items():
        for i, j in enumerate(js):
            j = Job.fetch(j.id, connection=conn)
            assert j.return_value() == {"n": i, "q": q}
            svc = services[hosts[j.worker_name]]
            assert q in WORKER_SERVICES[svc], f"{q} job {j.id} run by {svc}"
            counts[(q, svc)] = counts.get((q, svc), 0) + 1
    for (q, svc), n in sorted(counts.items()):
        report(f"{stack.which}: {n} echo jobs on {q} run by {svc}")


def check_rq_info_lists_every_replica(stack: Stack, concurrency=1) -> int:
    venv_rq = Path(os.environ.get("RQ_CLI", REPO / ".venv-rq3" / "bin" / "rq"))
    conn = stack.redis()
    out = run([str(venv_rq), "info", "--url", stack.redis_url(), "--only-workers"], timeout=60).stdout
    hosts = worker_hosts(conn)
    services = service_of_hostnames(stack)
    expected = len(services) * concurrency
    names = [n for n, h in hosts.items() if h in services]
    assert len(names) == expected, f"{len(names)} workers registered from {len(services)} containers"
    for name in names:
        assert name in out, f"rq info does not list {name}:\n{out}"
    assert re.search(rf"\b{expected} workers?\b", out), out
    for h, svc in sorted(services.items(), key=lambda x: x[1]):
        assert h in hosts.values(), f"container {h} ({svc}) has no RQ worker"
    report(f"{stack.which}: rq info lists {expected} workers for {len(services)} containers")
    return expected


def check_logs_plain(stack: Stack) -> None:
    text = stack.logs(*WORKER_SERVICES)
    assert "task-worker" in text and "starting" in text, text[-2000:]
    assert "\x1b[" not in text, "ANSI escape codes in the worker logs (stdout is not a terminal)"


def elf_sections(data: bytes) -> list[str]:
    import struct
    assert data[:4] == b"\x7fELF" and data[4] == 2, "64-bit ELF expected"
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    def header(i):
        return struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)
    _, _, _, _, str_off, str_size = header(shstrndx)
    strtab = data[str_off:str_off + str_size]
    names = []
    for i in range(shnum):
        name_off = header(i)[0]
        names.append(strtab[name_off:strtab.index(b"\0", name_off)].decode())
    return names


def check_image(stack: Stack) -> None:
    cid = stack.containers("task-worker-default")[0]
    uid = run(["docker", "exec", cid, "id", "-u"]).stdout.strip()
    user = run(["docker", "exec", cid, "id", "-un"]).stdout.strip()
    assert (uid, user) == ("10001", "taskworker"), (uid, user)
    with tempfile.TemporaryDirectory() as d:
        run(["docker", "cp", f"{cid}:/usr/local/bin/task-worker", f"{d}/tw"])
        data = Path(d, "tw").read_bytes()
    sections = elf_sections(data)
    assert ".symtab" not in sections and not any(s.startswith(".debug") for s in sections), sections
    report(f"{stack.which}: image {IMAGES['TASK_WORKER_IMAGE']} runs as {user} (uid {uid}); "
           f"binary stripped, {len(data) / 1e6:.1f} MB")
