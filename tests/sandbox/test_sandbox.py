"""The student-test sandbox, attacked (docs/security.md).

Each test is a hostile submission: its `solution.py` is what the course's grader runs (the
runner here does `cd $CTUTOR_STUDENT_DIR && python3 solution.py`, as a grader importing the
student's module would). The attack records what it managed in the `testSummary.json` it
writes (the result the API gets, so that is also the exfiltration channel), and the test
asserts that every attempt failed, that no secret reached the API, the result or the log,
and that an honest job run by the same worker right after it still gets the right grade.

The worker runs as an unprivileged uid (nobody, when the suite runs as root), with real
secrets in its environment, its HOME and a secret file, against a real redis-server, the
API double and git over HTTP (dumb protocol, Basic auth checked) or file:// URLs.

With TW_SANDBOX_LAUNCH=docker the worker runs inside the container image named by
TW_SANDBOX_IMAGE instead, under `--cap-drop ALL`, `no-new-privileges`, as the image's own user
(scripts/e2e-docker does that), with the seccomp profile docker/seccomp/task-worker.json where
the repository has it (else Docker's default, which refuses the per-job namespaces).

`NAMESPACES` says whether the worker gets its per-job namespaces here (`task-worker
sandbox-check`, run once): with them each job has its own /tmp, /var/tmp, /dev/shm and /proc,
and process limits of its own; without them (Docker's default seccomp profile) those paths are
hidden instead. Tests state what holds in each case.
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import textwrap
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from rq import Queue
from rq.job import Job

import redis as redis_py

from harness import ROOT, WORKER, free_port
from harness.api_double import ApiDouble
from harness.servers import Postgres, RedisServer, postgres_bin

WRAPPER = "ctutor_backend.tasks.executor.TaskExecutor._execute_task_wrapper"
PYTHON = "/usr/bin/python3"
LAUNCH = os.environ.get("TW_SANDBOX_LAUNCH", "native")
IMAGE = os.environ.get("TW_SANDBOX_IMAGE", "task-worker:sandbox-test")
SECCOMP_PROFILE = ROOT / "docker" / "seccomp" / "task-worker.json"
# How the in-image suite runs the worker: what the compose files give it.
DOCKER_OPTS = ["--cap-drop", "ALL", "--security-opt", "no-new-privileges"] + (
    ["--security-opt", f"seccomp={SECCOMP_PROFILE}"] if SECCOMP_PROFILE.exists() else [])

# Secrets the worker holds; none may ever be seen by the attacker.
SECRETS = {
    "REDIS_PASSWORD": "redis-pw-Z8q1",
    "EXECUTION_BACKEND_API_PASSWORD": "api-pw-K3v9",
    "POSTGRES_PASSWORD": "pg-pw-T6m2",
    "TOKEN_SECRET": "token-secret-W4x7",
}
GIT_TOKEN = "glpat-git-token-Q5r8"
CREDENTIALS_SECRET = "cred-in-home-N2b6"
FILE_SECRET = "secret-file-H7c3"
ALL_SECRETS = [*SECRETS.values(), GIT_TOKEN, CREDENTIALS_SECRET, FILE_SECRET,
               base64.b64encode(f"x-token-auth:{GIT_TOKEN}".encode()).decode()]

pytestmark = pytest.mark.skipif(not Path(PYTHON).exists(), reason=f"needs {PYTHON}")


def run_as():
    """(uid, gid) to run the worker as: nobody when we are root, else ourselves."""
    if os.geteuid() == 0:
        return 65534, 65534
    return None, None


def _sandbox_check() -> str:
    """`task-worker sandbox-check`'s report, where the jobs run (natively as the worker's uid,
    or in the image)."""
    if LAUNCH == "docker":
        proc = subprocess.run(["docker", "run", "--rm", *DOCKER_OPTS, IMAGE, "sandbox-check"],
                              capture_output=True, text=True, timeout=120)
        return proc.stdout
    if not WORKER.exists():
        return ""
    d = Path(tempfile.mkdtemp(prefix="tw-sandbox-check-"))
    try:
        d.chmod(0o755)
        shutil.copy2(WORKER, d / "task-worker")
        (d / "task-worker").chmod(0o755)
        uid, gid = run_as()
        kw = {"user": uid, "group": gid, "extra_groups": []} if uid is not None else {}
        return subprocess.run([str(d / "task-worker"), "sandbox-check"], capture_output=True,
                              text=True, timeout=60, cwd="/", **kw).stdout
    finally:
        shutil.rmtree(d, ignore_errors=True)


SANDBOX_CHECK = _sandbox_check()
# Per-job user, mount, PID and IPC namespaces: refused under Docker's default seccomp profile.
NAMESPACES = any(l.startswith("active") and "namespaces" in l for l in SANDBOX_CHECK.splitlines())


def sh(*args, cwd=None):
    subprocess.run(args, cwd=cwd, check=True, capture_output=True)


def commit(repo: Path, msg="c"):
    sh("git", "-C", str(repo), "add", "-A")
    sh("git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", msg)


# ---- the hostile code's helpers ----------------------------------------------------------

ATTACK_HEADER = '''
import ctypes, errno, json, os, signal, socket, subprocess, sys, time
LOOT = {}
def attempt(name, fn):
    try:
        LOOT[name] = {"ok": True, "value": repr(fn())[:4000]}
    except BaseException as e:
        LOOT[name] = {"ok": False, "error": (type(e).__name__ + ": " + str(e))[:300]}
def done(passed=0, total=1):
    with open(os.environ["CTUTOR_OUTPUT_DIR"] + "/testSummary.json", "w") as f:
        # What the attack found goes under `properties`, the report's free-form object (other
        # keys are dropped); `failed` keeps the summary a grade (all skipped is none).
        json.dump({"summary": {"total": total, "passed": passed, "failed": total - passed},
                   "properties": {"loot": LOOT}}, f)
def worker_pids():
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit() and int(d) != os.getpid():
            try:
                cmd = open("/proc/%s/cmdline" % d, "rb").read()
            except OSError:
                continue
            if b"task-worker" in cmd:
                out.append(int(d))
    return out
def read(path, n=1 << 20):
    with open(path, "rb") as f:
        return f.read(n)
def write(path, data=b"x"):
    with open(path, "wb") as f:
        f.write(data)
    return path
libc = ctypes.CDLL(None, use_errno=True)
def checked(r):
    if r == -1:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r
'''

HONEST = '''
import json, os
answer = int(open(os.environ["CTUTOR_TEST_DIR"] + "/data/input.txt").read())
home = sorted(os.listdir(os.environ["HOME"]))
def listing(d):
    try:
        return sorted(os.listdir(d))
    except OSError as e:
        return type(e).__name__
with open(os.environ["CTUTOR_OUTPUT_DIR"] + "/testSummary.json", "w") as f:
    json.dump({"summary": {"total": 2, "passed": 2 if answer == 42 else 0,
                           "failed": 0 if answer == 42 else 2},
               "properties": {"home": home, "pwned": os.environ.get("PWNED"),
                              "gitconfig": os.path.exists(os.path.expanduser("~/.gitconfig")),
                              "shared": {d: listing(d) for d in ("/tmp", "/var/tmp", "/dev/shm")}}},
              f)
'''


class GitHttp:
    """Bare repositories over git's dumb HTTP protocol, each needing Basic credentials."""

    def __init__(self, root: Path, delay=0.0):
        self.root, self.delay, self.log = root, delay, []
        self.expected = "Basic " + base64.b64encode(f"x-token-auth:{GIT_TOKEN}".encode()).decode()
        srv = self

        class Handler(SimpleHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                auth = self.headers.get("Authorization")
                srv.log.append((self.path, auth))
                if auth != srv.expected:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="git"')
                    self.end_headers()
                    return
                time.sleep(srv.delay)
                super().do_GET()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, name):
        return f"http://127.0.0.1:{self.port}/{name}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class World:
    """Fixture repositories, the runner, the worker's HOME and secrets, in one dir that the
    worker's uid owns."""

    def __init__(self, base: Path, uid, gid):
        self.T, self.uid, self.gid = base, uid, gid
        self.bin, self.work, self.home = base / "bin", base / "work", base / "home"
        self.repos = base / "repos"
        for d in (self.bin, self.work, self.home, self.repos):
            d.mkdir()
        (self.bin / "runner.sh").write_text(
            f'cd "$CTUTOR_STUDENT_DIR" && exec {PYTHON} solution.py\n')
        # The worker's own credentials, where git and other tools look for them.
        (self.home / ".git-credentials").write_text(
            f"http://x-token-auth:{CREDENTIALS_SECRET}@127.0.0.1\n")
        (self.home / ".gitconfig").write_text("[credential]\n\thelper = store\n")
        self.secret_file = base / "secret.txt"
        self.secret_file.write_text(FILE_SECRET)
        self.reference = self.make_repo("reference", {
            "a1/meta.yaml": "properties:\n  testFiles: [data/input.txt]\n",
            "a1/test.yaml": "type: python\n",
            "a1/data/input.txt": "42\n",
            "a1/solution.py": "# the reference solution\nANSWER = 42\n",
        })
        self.honest = self.make_repo("honest", {"a1/solution.py": HONEST})
        self.http = None
        # Read-only paths of the host the worker needs in the image too (the grader's venv).
        self.mounts: list[Path] = []

    def make_repo(self, name, files: dict, links: dict | None = None) -> Path:
        """A bare repository `repos/<name>.git` with these files and symbolic links."""
        src = self.T / "src" / name
        sh("git", "init", "-q", "-b", "main", str(src))
        for rel, text in files.items():
            p = src / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(text) if isinstance(text, bytes) else p.write_text(text)
        for rel, target in (links or {}).items():
            p = src / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(target, p)
        commit(src)
        bare = self.repos / f"{name}.git"
        sh("git", "clone", "-q", "--bare", str(src), str(bare))
        sh("git", "-C", str(bare), "update-server-info")
        self.own(self.T)
        return bare

    def attack(self, name, body: str, links: dict | None = None, files: dict | None = None):
        """A hostile submission: the header's helpers, then `body`."""
        source = ATTACK_HEADER + textwrap.dedent(body)
        return self.make_repo(name, {"a1/solution.py": source, **(files or {})}, links)

    def own(self, path: Path):
        if self.uid is not None:
            for p in [path, *path.rglob("*")]:
                if p.is_symlink():
                    os.lchown(p, self.uid, self.gid)
                else:
                    os.chown(p, self.uid, self.gid)
        if path == self.T:
            self.secret_file.chmod(0o600)

    def serve_http(self, delay=0.0):
        self.http = GitHttp(self.repos, delay)
        return self.http

    def repo(self, bare: Path, path="a1", token=""):
        if self.http is not None:
            url, token = self.http.url(bare.name), GIT_TOKEN
        else:
            url = f"file://{bare}"
        return {"url": url, "user": "", "token": token, "branch": "main", "path": path,
                "commit": ""}

    def test_job(self, student: Path, path="a1", reference=None, ref_path="a1"):
        return {"user_id": "u", "course_member_id": "cm-1", "course_content_id": "cc-1",
                "execution_backend_id": "eb-1", "module": self.repo(student, path),
                "reference": self.repo(reference or self.reference, ref_path),
                "test_number": -1, "submission_number": -1}


@pytest.fixture
def world():
    uid, gid = run_as()
    base = Path(tempfile.mkdtemp(prefix="tw-sandbox-"))
    base.chmod(0o755)
    w = World(base, uid, gid)
    yield w
    if w.http:
        w.http.close()
    subprocess.run(["chmod", "-R", "u+rwx", str(base)], capture_output=True)
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def worker_bin(tmp_path_factory):
    """The worker binary where the unprivileged uid can run it. With TW_SANDBOX_LAUNCH=docker
    the worker is the image's, and no binary of the host is needed: the path is then only a
    directory of this run's own (a mark of its processes, see _of_this_test)."""
    d = Path(tempfile.mkdtemp(prefix="tw-sandbox-bin-"))
    d.chmod(0o755)
    dst = d / "task-worker"
    if LAUNCH != "docker":
        assert WORKER.exists(), f"build the worker first (cargo build, or scripts/test sandbox): {WORKER}"
        shutil.copy2(WORKER, dst)
        dst.chmod(0o755)
    yield dst
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def redis_server():
    """A Redis that needs the password the worker holds: the attacker has neither."""
    server = RedisServer("--requirepass", SECRETS["REDIS_PASSWORD"])
    yield server
    server.stop()


@pytest.fixture
def postgres():
    # Per test, not per module: it runs as the worker's uid, and other tests check that no
    # process of that uid is left.
    if postgres_bin() is None:
        pytest.skip("PostgreSQL is not installed (scripts/install-deps installs it)")
    uid, gid = run_as()
    pg = Postgres(SECRETS["POSTGRES_PASSWORD"], uid, gid)
    yield pg
    pg.stop()


@pytest.fixture
def r(redis_server):
    conn = redis_py.Redis(port=redis_server.port, password=SECRETS["REDIS_PASSWORD"])
    conn.flushall()
    return conn


@pytest.fixture
def api():
    double = ApiDouble(user="admin", password=SECRETS["EXECUTION_BACKEND_API_PASSWORD"])
    yield double
    double.close()


class Ran:
    def __init__(self, r, job_ids, output, returncode):
        self.output, self.returncode = output, returncode
        self.jobs = {j: Job.fetch(j, connection=r) for j in job_ids}

    def result(self, job_id):
        job = self.jobs[job_id]
        assert job.get_status() == "finished", self.output[-4000:]
        return job.return_value()["execution_result"]


def worker_env(world, api, extra=None):
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(world.home),
        "RUST_LOG": "info",
        "EXECUTION_BACKEND_API_URL": api.url,
        "EXECUTION_BACKEND_API_USER": "admin",
        "ALLOW_FILE_GIT_URLS": "false" if world.http else "true",
        "TEST_RUNNER_COMMAND": f"sh {world.bin}/runner.sh",
        "TEST_RUNNER_TIMEOUT": "30",
        "COMMIT_BACKOFF_MS": "20",
        "WORK_DIR": str(world.work),
        "TEST_SANDBOX_READ": str(world.bin),
        "TEST_SANDBOX_MAX_PROCESSES": "64",
        "TEST_SANDBOX_MEMORY_MB": "512",
        "TEST_SANDBOX_DISK_MB": "64",
        "SECRET_FILE": str(world.secret_file),
        **SECRETS,
    }
    env.update(extra or {})
    return env


def launch(world, worker_bin, redis_url, env, args):
    if LAUNCH == "docker":
        cmd = ["docker", "run", "--rm", "--network", "host", *DOCKER_OPTS,
               "-v", f"{world.T}:{world.T}"]
        for path in world.mounts:
            cmd += ["-v", f"{path}:{path}:ro"]
        if world.uid is not None:
            cmd += ["--user", f"{world.uid}:{world.gid}"]
        for k, v in env.items():
            cmd += ["-e", f"{k}={v}"]
        return subprocess.run([*cmd, IMAGE, "--redis-url", redis_url, *args],
                              capture_output=True, text=True, timeout=150)
    kw = {}
    if world.uid is not None:
        kw = {"user": world.uid, "group": world.gid, "extra_groups": []}
    return subprocess.run([str(worker_bin), "--redis-url", redis_url, *args], env=env,
                          capture_output=True, text=True, timeout=150, cwd="/", **kw)


def run_jobs(r, redis_server, world, api, worker_bin, jobs, env=None, concurrency=1):
    """Enqueues (job_id, test_job) pairs like the backend and runs one burst worker."""
    q = Queue("high_priority", connection=r)
    for job_id, test_job in jobs:
        api.add_row(id=f"row-{job_id}", test_system_id=job_id)
        q.enqueue(WRAPPER, "student_test_execution", {"test_job_data": test_job},
                  job_timeout=300, job_id=job_id, retry_limit=0, delay=None)
    r.set("sentinel", "still-here")
    proc = launch(world, worker_bin, redis_server.url, worker_env(world, api, env),
                  ["--burst", "-q", "high_priority", "-c", str(concurrency)])
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    ran = Ran(r, [j for j, _ in jobs], output, proc.returncode)
    # Nothing reached anyone: the API, the results, the log.
    seen = json.dumps(api.requests()) + output + json.dumps(
        [ran.jobs[j].return_value() for j in ran.jobs])
    for secret in ALL_SECRETS:
        assert secret not in seen, f"secret {secret!r} leaked"
    # Redis is intact: the attacker could not flush it or push forged ids.
    assert r.get("sentinel") == b"still-here"
    assert r.llen("rq:queue:high_priority") == 0
    # Every job root is gone, whatever the job did to its permissions.
    assert list(world.work.iterdir()) == [], list(world.work.iterdir())
    return ran


def loot(execution_result):
    return execution_result["result_json"]["properties"]["loot"]


def assert_blocked(found: dict, *names):
    for name in names:
        assert name in found, (name, found)
        assert found[name]["ok"] is False, (name, found[name])


# What attacks leave in /tmp, /var/tmp and /dev/shm.
PLANTED = {"tw-evil", "tw-4g", "tw-persist", "tw-hook-ran"}


def assert_honest(ran, job_id="honest", sandbox=True):
    er = ran.result(job_id)
    assert er["status"] == 0 and er["result"] == 1.0, er
    props = er["result_json"]["properties"]
    assert props["pwned"] is None
    assert props["gitconfig"] is False
    # Nothing an earlier job left in /tmp, /var/tmp or /dev/shm: with namespaces they are the
    # job's own, empty at its start (anything there is the runner's); without, unreadable.
    for d, names in props["shared"].items() if sandbox else ():
        if NAMESPACES:
            assert isinstance(names, list) and not PLANTED & set(names), (d, names)
        else:
            assert names == "PermissionError", (d, names)
    return er


# ---- 1. secrets -------------------------------------------------------------------------


def test_no_secret_of_the_worker_can_be_read(r, redis_server, world, api, worker_bin):
    world.serve_http()
    attacker = world.attack("thief", f'''
        pids = worker_pids()
        LOOT["pids"] = {{"ok": bool(pids), "value": pids}}
        procs = {{}}
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    procs[d] = open(f"/proc/{{d}}/cmdline", "rb").read().decode(errors="replace")
                except OSError as e:
                    procs[d] = type(e).__name__
        LOOT["procs"] = {{"ok": True, "value": procs}}
        # Whether /proc is the job's own (its PID namespace's) or an outer one (a container
        # that refuses to mount a new /proc).
        LOOT["own-proc"] = {{"ok": True, "value": int(os.readlink("/proc/self")) == os.getpid()}}
        def uid(p):
            for line in open(f"/proc/{{p}}/status"):
                if line.startswith("Uid:"):
                    return int(line.split()[1])
        LOOT["uids"] = {{"ok": True, "value": [uid(p) for p in pids]}}
        for p in pids:
            attempt(f"environ-{{p}}", lambda: read(f"/proc/{{p}}/environ"))
            attempt(f"mem-{{p}}", lambda: read(f"/proc/{{p}}/mem", 16))
            attempt(f"maps-{{p}}", lambda: read(f"/proc/{{p}}/maps"))
            attempt(f"fds-{{p}}", lambda: os.listdir(f"/proc/{{p}}/fd"))
            attempt(f"ptrace-{{p}}", lambda: checked(libc.ptrace(16, p, 0, 0)))
            attempt(f"kill-{{p}}", lambda: os.kill(p, signal.SIGKILL))
        attempt("home-credentials", lambda: read("{world.home}/.git-credentials"))
        attempt("home-listing", lambda: os.listdir("{world.home}"))
        attempt("secret-file", lambda: read("{world.secret_file}"))
        attempt("other-job-roots", lambda: os.listdir("{world.work}"))
        LOOT["own-root"] = {{"ok": True, "value": os.path.basename(os.environ["CTUTOR_ROOT"])}}
        attempt("proc-1-environ", lambda: read("/proc/1/environ"))
        attempt("shm", lambda: write("/dev/shm/tw-persist"))
        attempt("sysv-shm", lambda: checked(libc.shmget(0x7777, 4096, 0o1666)))
        # What it may read, and must find no secret in: its environment and its clones.
        LOOT["own-env"] = {{"ok": True, "value": dict(os.environ)}}
        LOOT["student-git-config"] = {{"ok": True, "value": read("../.git/config").decode()}}
        LOOT["reference-git-config"] = {{"ok": True,
            "value": read(os.environ["CTUTOR_REFERENCE_DIR"] + "/../.git/config").decode()}}
        done()
    ''')
    ran = run_jobs(r, redis_server, world, api, worker_bin,
                   [("attack", world.test_job(attacker)), ("honest", world.test_job(world.honest))])
    found = loot(ran.result("attack"))
    pids = found["pids"]["value"]
    procs = found["procs"]["value"]
    own_proc = found["own-proc"]["value"]
    if NAMESPACES and LAUNCH == "native":
        assert own_proc, "natively a job with namespaces gets a /proc of its own"
    if NAMESPACES and own_proc:
        # Its own PID namespace and /proc: neither the worker nor its supervisor (both of the
        # attacker's own uid) is visible at all; the one process named task-worker is the
        # job's own init (PID 1), which is attacked below all the same.
        assert not [c for c in procs.values() if "--redis-url" in c], procs
        assert pids == [1], procs
        assert procs["1"].startswith("task-worker-sandbox"), procs
    else:
        # The worker's processes are visible (no namespaces, or the container's /proc): every
        # attempt on them below must fail.
        assert found["pids"]["ok"], "the attack found no worker process to attack"
        # Among them the worker and its supervisor, which run as the attacker's own uid.
        own_uid = world.uid if world.uid is not None else os.getuid()
        assert found["uids"]["value"].count(own_uid) >= 2, found["uids"]
    assert_blocked(found, *[f"{k}-{p}" for p in pids for k in
                            ("environ", "mem", "maps", "fds", "ptrace", "kill")])
    assert_blocked(found, "home-credentials", "home-listing", "secret-file",
                   "proc-1-environ", "sysv-shm")
    # WORK_DIR is below /tmp here: with namespaces the job's own root is bound again at its
    # path inside the job's private /tmp, so WORK_DIR there holds that root alone.
    if NAMESPACES and found["other-job-roots"]["ok"]:
        assert found["other-job-roots"]["value"] == repr([found["own-root"]["value"]]), found
    else:
        assert_blocked(found, "other-job-roots")
    # /dev/shm is the job's own with namespaces (the honest job after it sees none of it),
    # hidden without.
    assert found["shm"]["ok"] is NAMESPACES, found["shm"]
    assert not Path("/dev/shm/tw-persist").exists()
    env = found["own-env"]["value"]
    for name in SECRETS:
        assert name not in env
    assert "SECRET_FILE" not in env and "EXECUTION_BACKEND_API_URL" not in env
    # The clones were made with the token (the server saw it) but keep none of it.
    assert "127.0.0.1" in found["student-git-config"]["value"]
    assert all(auth == world.http.expected for path, auth in world.http.log if "info/refs" in path)
    assert_honest(ran)


def test_concurrent_jobs_cannot_see_each_others_token(r, redis_server, world, api, worker_bin):
    # The honest job's clones are slowed down so that its git runs while the attacker scans
    # every process' command line and environment for the token.
    world.serve_http(delay=0.3)
    attacker = world.attack("scanner", '''
        hits, seen = [], 0
        end = time.time() + 12
        while time.time() < end:
            for d in os.listdir("/proc"):
                if not d.isdigit():
                    continue
                for f in ("cmdline", "environ"):
                    try:
                        data = read(f"/proc/{d}/{f}")
                    except OSError:
                        continue
                    seen += 1
                    if b"glpat" in data or b"Authorization" in data or b"x-token-auth" in data:
                        hits.append((d, f, data[:200].decode(errors="replace")))
            time.sleep(0.05)
        LOOT["scan"] = {"ok": bool(hits), "value": hits[:5], "reads": seen}
        done()
    ''')
    ran = run_jobs(r, redis_server, world, api, worker_bin,
                   [("attack", world.test_job(attacker)), ("honest", world.test_job(world.honest))],
                   concurrency=2, env={"TEST_RUNNER_TIMEOUT": "40"})
    found = loot(ran.result("attack"))
    assert found["scan"]["ok"] is False, found["scan"]
    assert found["scan"]["reads"] > 100
    assert_honest(ran)


# ---- 2. network --------------------------------------------------------------------------


def test_no_tcp_or_udp_reaches_any_server(r, redis_server, world, api, worker_bin, postgres):
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(8)
    tcp.settimeout(0.2)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(0.2)
    api_port = int(api.url.rsplit(":", 1)[1].split("/")[0])
    attacker = world.attack("netcat", f'''
        def tcp(port, payload=b"FLUSHALL\\r\\n"):
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
            s.sendall(payload)
            return s.recv(100)
        attempt("redis", lambda: tcp({redis_server.port},
                b"LPUSH rq:queue:high_priority forged\\r\\nFLUSHALL\\r\\n"))
        attempt("api", lambda: tcp({api_port}, b"PATCH /results/row-honest HTTP/1.0\\r\\n\\r\\n"))
        attempt("postgres", lambda: tcp({postgres.port}, b"\\x00\\x00\\x00\\x08\\x04\\xd2\\x16\\x2f"))
        attempt("other-server", lambda: tcp({tcp.getsockname()[1]}))
        attempt("ipv6", lambda: socket.socket(socket.AF_INET6, socket.SOCK_STREAM))
        attempt("udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(
            b"x", ("127.0.0.1", {udp.getsockname()[1]})))
        attempt("raw", lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))
        attempt("packet", lambda: socket.socket(17, socket.SOCK_RAW, 0))
        attempt("netlink", lambda: socket.socket(16, socket.SOCK_RAW, 0))
        attempt("unix", lambda: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
        attempt("child-process", lambda: subprocess.run(
            [sys.executable, "-c", "import socket; socket.create_connection(('127.0.0.1', {redis_server.port}))"],
            check=True, capture_output=True))
        attempt("io_uring", lambda: checked(libc.syscall(425, 8, ctypes.create_string_buffer(120))))
        LOOT["socketpair"] = {{"ok": True, "value": len(socket.socketpair())}}
        done()
    ''')
    # The worker itself uses that PostgreSQL (its task history), with the password it holds.
    ran = run_jobs(r, redis_server, world, api, worker_bin,
                   [("attack", world.test_job(attacker)), ("honest", world.test_job(world.honest))],
                   env={"POSTGRES_URL": postgres.url})
    found = loot(ran.result("attack"))
    rows = subprocess.run([str(postgres.bin / "psql"), postgres.url, "-Atc",
                           "select count(*) from task_executions"],
                          capture_output=True, text=True, timeout=30)
    assert rows.returncode == 0 and int(rows.stdout) >= 2, rows.stdout + rows.stderr
    assert_blocked(found, "redis", "api", "postgres", "other-server", "ipv6", "udp", "raw", "packet",
                   "netlink", "unix", "child-process", "io_uring")
    assert "PermissionError" in found["redis"]["error"]
    assert found["socketpair"]["ok"]  # local IPC still works
    with pytest.raises(socket.timeout):
        tcp.accept()
    with pytest.raises(socket.timeout):
        udp.recvfrom(10)
    tcp.close()
    udp.close()
    # The PATCH the attacker tried never arrived.
    assert [e["path"] for e in api.requests("PATCH")] == ["/results/row-attack",
                                                          "/results/row-honest"]
    assert_honest(ran)


# ---- 3. filesystem -----------------------------------------------------------------------


def test_writes_only_inside_the_job_and_nothing_persists(r, redis_server, world, api, worker_bin):
    world.serve_http()
    attacker = world.attack("squatter", f'''
        import site
        attempt("tmp", lambda: write("/tmp/tw-evil"))
        attempt("work-dir", lambda: write("{world.work}/evil"))
        attempt("worker-home-gitconfig", lambda: write("{world.home}/.gitconfig",
            b"[core]\\n\\thooksPath = /tmp\\n"))
        attempt("fixture-dir", lambda: write("{world.T}/evil"))
        attempt("runner-script", lambda: write("{world.bin}/runner.sh", b"exit 0"))
        attempt("etc", lambda: write("/etc/tw-evil"))
        attempt("system-site", lambda: write(site.getsitepackages()[0] + "/evil.pth",
            b"import os; os.environ['PWNED'] = '1'\\n"))
        attempt("reference", lambda: write(os.environ["CTUTOR_REFERENCE_DIR"] + "/solution.py",
            b"ANSWER = 0"))
        attempt("test-files", lambda: write(os.environ["CTUTOR_TEST_DIR"] + "/data/input.txt",
            b"0"))
        attempt("big-outside", lambda: write("/var/tmp/tw-4g", b"x" * (1 << 20)))
        # Inside the job: allowed, and all of it must be gone for the next job.
        home = os.environ["HOME"]
        os.makedirs(home + "/hooks", exist_ok=True)
        write(home + "/hooks/post-checkout", b"#!/bin/sh\\ntouch /tmp/tw-hook-ran\\n")
        os.chmod(home + "/hooks/post-checkout", 0o755)
        write(home + "/.gitconfig", b"[core]\\n\\thooksPath = " + home.encode() +
              b"/hooks\\n[url \\"file:///tmp/\\"]\\n\\tinsteadOf = http://\\n")
        user_site = site.getusersitepackages()
        os.makedirs(user_site, exist_ok=True)
        write(user_site + "/persist.pth", b"import os; os.environ['PWNED'] = '1'\\n")
        # A directory the cleanup cannot enter.
        os.makedirs("locked/deeper", exist_ok=True)
        write("locked/deeper/file")
        os.chmod("locked/deeper", 0)
        os.chmod("locked", 0)
        done()
    ''')
    ran = run_jobs(r, redis_server, world, api, worker_bin,
                   [("attack", world.test_job(attacker)), ("honest", world.test_job(world.honest))])
    found = loot(ran.result("attack"))
    # Every write out of the job's writable paths failed (all named at once when not).
    written = [n for n in ("worker-home-gitconfig", "runner-script", "etc", "system-site",
                           "test-files") if found[n]["ok"] is not False]
    assert written == [], {n: found[n] for n in written}
    # The runner script (a TEST_SANDBOX_READ path, shared by every job) is unchanged.
    assert (world.bin / "runner.sh").read_text().endswith("solution.py\n"), \
        (world.bin / "runner.sh").read_text()
    # The fixture (WORK_DIR included) lives below /tmp here. With namespaces the job sees its
    # own /tmp, where the paths it needs are bound again (their parents made for that are the
    # job's own): a write there may succeed but lands in the job's private /tmp, never in the
    # host's directories.
    for name, host in (("work-dir", world.work / "evil"), ("fixture-dir", world.T / "evil")):
        if NAMESPACES and str(host).startswith("/tmp/"):
            assert not host.exists(), (name, found[name])
        else:
            assert_blocked(found, name)
    # With namespaces /tmp and /var/tmp are the job's own (nothing reaches the host's, and
    # the honest job after it sees none of it: assert_honest); without, out of reach.
    for name in ("tmp", "big-outside"):
        assert found[name]["ok"] is NAMESPACES, (name, found[name])
    # The reference clone is the job's own and writable for the grader's own reference run
    # (student code started through confine-student cannot reach it: tests/sandbox/test_grader.py).
    assert found["reference"]["ok"] is True, found["reference"]
    assert not Path("/var/tmp/tw-4g").exists()
    assert not Path("/tmp/tw-evil").exists() and not Path("/tmp/tw-hook-ran").exists()
    assert (world.home / ".gitconfig").read_text() == "[credential]\n\thelper = store\n"
    er = assert_honest(ran)
    assert er["result_json"]["properties"]["home"] == []  # a fresh, empty HOME


def test_disk_fill_inside_the_job_ends_it_r7(r, redis_server, world, api, worker_bin):
    attacker = world.attack("filler", '''
        chunk = b"x" * (1 << 20)
        with open("fill", "wb") as f:
            for _ in range(4096):  # 4 GiB, were it allowed
                f.write(chunk)
                f.flush()
        done(1, 1)
    ''')
    # A submission whose clone alone is larger than the cap (incompressible data).
    big = world.make_repo("big", {"a1/solution.py": HONEST, "a1/blob.bin": os.urandom(80 << 20)})
    ran = run_jobs(r, redis_server, world, api, worker_bin,
                   [("attack", world.test_job(attacker)), ("big", world.test_job(big)),
                    ("honest", world.test_job(world.honest))])
    for job in ("attack", "big"):
        er = ran.result(job)
        assert er["status"] == 1 and er["result"] is None
        assert er["result_json"] == {"task_exception": "Testing environment limit exceeded",
                                     "message": "Test execution exceeded its disk limit."}, job
    assert_honest(ran)


# ---- 4. processes and resources ----------------------------------------------------------


@pytest.mark.parametrize("how", ["exits", "times-out"])
def test_no_process_outlives_its_job(r, redis_server, world, api, worker_bin, how):
    attacker = world.attack("survivor", f'''
        pids = []
        p = subprocess.Popen(["setsid", "sleep", "300"])
        pids.append(p.pid)
        r, w = os.pipe()
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                os.write(w, str(os.getpid()).encode())
                while True:
                    time.sleep(1)
            os._exit(0)
        pids.append(int(os.read(r, 20)))
        LOOT["pids"] = {{"ok": True, "value": pids}}
        done()
        if {how == "times-out"!r}:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            time.sleep(300)
    ''')
    ran = run_jobs(r, redis_server, world, api, worker_bin,
                   [("attack", world.test_job(attacker)), ("honest", world.test_job(world.honest))],
                   env={"TEST_RUNNER_TIMEOUT": "6"})
    er = ran.result("attack")
    if how == "times-out":
        assert er["result_json"]["task_exception"] == "Testing environment timed out"
    else:
        pids = loot(er)["pids"]["value"]
        assert len(pids) == 2
        # In a container the pids are the container's own; the uid scan below covers it.
        # So are they with a PID namespace of the job's own.
        for pid in pids if LAUNCH == "native" and not NAMESPACES else []:
            assert not Path(f"/proc/{pid}").exists() or \
                Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z", pid
    # No process of the worker's uid is left but none at all (the worker has exited).
    if world.uid is not None:
        left = [d for d in os.listdir("/proc") if d.isdigit() and
                _uid_of(d) == world.uid and _of_this_test(d, world, worker_bin)]
        assert left == [], [Path(f"/proc/{d}/cmdline").read_bytes() for d in left]
    assert_honest(ran)


def _of_this_test(pid, world, worker_bin):
    """Whether a process belongs to this test (its worker or a job of it) and not to another
    suite run by the same uid on this machine: its command line, working directory or
    environment names this test's directories."""
    marks = (str(world.T).encode(), str(worker_bin.parent).encode())
    for what in ("cmdline", "environ"):
        try:
            data = Path(f"/proc/{pid}/{what}").read_bytes()
        except OSError:
            continue
        if any(m in data for m in marks):
            return True
    try:
        return any(os.readlink(f"/proc/{pid}/cwd").encode().startswith(m) for m in marks)
    except OSError:
        return False


def _uid_of(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Uid:"):
                return int(line.split()[1])
    except OSError:
        return None


def test_fork_bomb_ends_r7_and_the_next_job_still_forks(r, redis_server, world, api, worker_bin):
    attacker = world.attack("bomb", '''
        done()
        while True:
            try:
                os.fork()
            except OSError:
                time.sleep(0.01)
    ''')
    ran = run_jobs(r, redis_server, world, api, worker_bin,
                   [("attack", world.test_job(attacker)), ("honest", world.test_job(world.honest))])
    er = ran.result("attack")
    assert er["result_json"] == {"task_exception": "Testing environment limit exceeded",
                                 "message": "Test execution exceeded its processes limit."}
    assert_honest(ran)


def test_memory_is_capped_per_process_and_per_job(r, redis_server, world, api, worker_bin):
    one = world.attack("hog", '''
        attempt("3GiB", lambda: len(bytearray(3 << 30)))
        done()
    ''')
    many = world.attack("herd", '''
        for _ in range(4):
            if os.fork() == 0:
                block = bytearray(200 << 20)
                for i in range(0, len(block), 4096):
                    block[i] = 1
                time.sleep(60)
                os._exit(0)
        time.sleep(60)
        done(1, 1)
    ''')
    ran = run_jobs(r, redis_server, world, api, worker_bin,
                   [("one", world.test_job(one)), ("many", world.test_job(many)),
                    ("honest", world.test_job(world.honest))])
    found = loot(ran.result("one"))
    assert_blocked(found, "3GiB")
    assert "MemoryError" in found["3GiB"]["error"]
    assert ran.result("many")["result_json"]["message"] == \
        "Test execution exceeded its memory limit."
    assert_honest(ran)


def test_memory_shared_after_fork_counts_once(r, redis_server, world, api, worker_bin):
    """A test run that forks from a big parent (multiprocessing, say) holds that memory once.
    The five processes' RSS adds up to 1 GiB, twice the 512 MiB limit; what they hold is
    about 200 MiB, so the run is graded, not ended for memory."""
    forks = world.attack("forks", '''
        block = bytearray(200 << 20)
        for i in range(0, len(block), 4096):
            block[i] = 1
        kids = []
        for _ in range(4):
            pid = os.fork()
            if pid == 0:
                time.sleep(1.5)
                os._exit(0)
            kids.append(pid)
        for pid in kids:
            os.waitpid(pid, 0)
        done(1, 1)
    ''')
    ran = run_jobs(r, redis_server, world, api, worker_bin,
                   [("forks", world.test_job(forks)), ("honest", world.test_job(world.honest))])
    er = ran.result("forks")
    assert er["status"] == 0 and er["result"] == 1.0, er
    assert_honest(ran)


def test_file_size_and_open_files_limits_end_the_job_r7(r, redis_server, world, api, worker_bin):
    big_file = world.attack("bigfile", """
        attempt("write", lambda: write("big", b"x" * (32 << 20)))
        done(1, 1)
    """)
    many_files = world.attack("fds", """
        files = []
        def open_all():
            while True:
                files.append(open("/dev/null"))
        attempt("open", open_all)
        time.sleep(5)
        done(1, 1)
    """)
    ran = run_jobs(r, redis_server, world, api, worker_bin,
                   [("size", world.test_job(big_file)), ("fds", world.test_job(many_files)),
                    ("honest", world.test_job(world.honest))],
                   env={"TEST_SANDBOX_FILE_SIZE_MB": "8", "TEST_SANDBOX_OPEN_FILES": "64"})
    for job, limit in (("size", "file size"), ("fds", "open files")):
        assert ran.result(job)["result_json"] == {
            "task_exception": "Testing environment limit exceeded",
            "message": f"Test execution exceeded its {limit} limit."}, job
    assert_honest(ran)


# ---- 5. paths ----------------------------------------------------------------------------


def test_symlinked_submission_is_refused(r, redis_server, world, api, worker_bin):
    # The submission directory is a link into the reference clone: its solution.
    as_dir = world.make_repo("link-dir", {"README": "x"}, {"a1": "../source/a1"})
    # The solution file is a link into the reference clone.
    as_file = world.make_repo("link-file", {"a1/README": "x"},
                              {"a1/solution.py": "../../source/a1/solution.py"})
    ran = run_jobs(r, redis_server, world, api, worker_bin,
                   [("dir", world.test_job(as_dir)), ("file", world.test_job(as_file)),
                    ("honest", world.test_job(world.honest))])
    assert ran.result("dir")["result_json"] == {
        "task_exception": "Submission refused",
        "message": "Submission refused: the submission directory is a symbolic link."}
    assert ran.result("file")["result_json"] == {
        "task_exception": "Submission refused",
        "message": "Submission refused: the submission contains a symbolic link out of it."}
    assert_honest(ran)


def test_reference_links_are_never_followed_out_of_its_tree(r, redis_server, world, api, worker_bin):
    # testFiles entries that are links out of the reference, or pass through one.
    reference = world.make_repo("ref-links", {
        "a1/meta.yaml": "properties:\n  testFiles: [data/input.txt, secret, viahop/secret.txt, etc]\n",
        "a1/data/input.txt": "42\n",
    }, {"a1/secret": str(world.secret_file), "a1/viahop": str(world.T), "a1/etc": "/etc"})
    reporter = world.attack("reporter", '''
        LOOT["test-files"] = {"ok": True, "value": sorted(os.listdir(os.environ["CTUTOR_TEST_DIR"]))}
        done()
    ''')
    # The summary is a link to a secret file the worker can read.
    summary_link = world.attack("summary-link", f'''
        os.symlink("{world.secret_file}", os.environ["CTUTOR_OUTPUT_DIR"] + "/testSummary.json")
    ''')
    linked_ref_dir = world.make_repo("ref-dir-link", {"real/meta.yaml": "x: 1\n"},
                                     {"a1": "/etc"})
    ran = run_jobs(r, redis_server, world, api, worker_bin, [
        ("copy", world.test_job(reporter, reference=reference)),
        ("summary", world.test_job(summary_link)),
        ("refdir", world.test_job(world.honest, reference=linked_ref_dir)),
        ("honest", world.test_job(world.honest)),
    ])
    assert loot(ran.result("copy"))["test-files"]["value"] == ["data"]
    assert ran.result("summary")["result_json"]["task_exception"] == \
        "Reading report file testSummary.json failed"
    assert ran.result("refdir")["result_json"]["message"] == \
        "Submission refused: the reference directory is a symbolic link."
    assert_honest(ran)


# ---- the operator's switch ---------------------------------------------------------------


def test_sandbox_off_is_explicit_and_logged(r, redis_server, world, api, worker_bin):
    ran = run_jobs(r, redis_server, world, api, worker_bin,
                   [("honest", world.test_job(world.honest))], env={"TEST_SANDBOX": "off"})
    assert "sandbox is OFF" in ran.output
    assert_honest(ran, sandbox=False)


def test_sandbox_check_reports_every_layer(world, worker_bin):
    uid, gid = run_as()
    if LAUNCH == "docker":
        proc = subprocess.run(["docker", "run", "--rm", *DOCKER_OPTS, IMAGE, "sandbox-check"],
                              capture_output=True, text=True, timeout=120)
    else:
        kw = {"user": uid, "group": gid, "extra_groups": []} if uid is not None else {}
        proc = subprocess.run([str(worker_bin), "sandbox-check"], capture_output=True,
                              text=True, timeout=60, cwd="/", **kw)
    lines = proc.stdout.splitlines()
    assert any("landlock filesystem" in l for l in lines), proc.stdout
    assert any("confined run" in l for l in lines), proc.stdout
    missing = [l for l in lines if l.startswith("MISSING")]
    assert proc.returncode == (1 if missing else 0), proc.stdout + proc.stderr
    # This suite's other tests need every layer; a host without them fails them loudly. The
    # one exception: the per-job namespaces under Docker's default seccomp profile (the image
    # suite without docker/seccomp/task-worker.json), where the check says what breaks.
    if LAUNCH == "docker" and not SECCOMP_PROFILE.exists():
        missing = [l for l in missing if "namespaces" not in l]
    assert not missing, proc.stdout
    assert NAMESPACES == ("namespaces" in proc.stdout and not any(
        "namespaces" in l for l in lines if l.startswith("MISSING"))), proc.stdout


def test_sandbox_check_runs_in_a_fresh_private_directory(world, worker_bin):
    """issue 26: `sandbox-check` once used `$TMPDIR` itself as the confined run's root, so any
    256 MiB file there (even sparse) made it report a missing layer. It now makes a fresh
    directory with a random name and removes it."""
    if LAUNCH == "docker":
        pytest.skip("native only: TMPDIR of the host")
    uid, gid = run_as()
    tmp = Path(tempfile.mkdtemp(prefix="tw-check-"))  # reachable by the worker's uid
    try:
        os.chmod(tmp, 0o1777)
        with open(tmp / "big.sparse", "wb") as f:
            f.truncate(300 * 1024 * 1024)
        before = sorted(os.listdir(tmp))
        kw = {"user": uid, "group": gid, "extra_groups": []} if uid is not None else {}
        proc = subprocess.run([str(worker_bin), "sandbox-check"], capture_output=True,
                              text=True, timeout=60, cwd="/",
                              env=dict(os.environ, TMPDIR=str(tmp)), **kw)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "active   confined run" in proc.stdout, proc.stdout
        assert sorted(os.listdir(tmp)) == before  # its own directory is gone
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _deny_landlock():
    """preexec_fn: a seccomp filter that answers Landlock's system calls with ENOSYS, as an
    older kernel (or an old container runtime's profile) does."""
    import ctypes

    class SockFilter(ctypes.Structure):
        _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                    ("k", ctypes.c_uint)]

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]

    allow, enosys = 0x7FFF0000, 0x00050000 | 38
    prog = [
        (0x20, 0, 0, 4), (0x15, 1, 0, 0xC000003E), (0x06, 0, 0, allow),  # x86-64 only
        (0x20, 0, 0, 0),
        (0x35, 0, 3, 444), (0x35, 2, 0, 447),  # 444 <= nr < 447: the three landlock calls
        (0x06, 0, 0, enosys), (0x06, 0, 0, allow), (0x06, 0, 0, allow),
    ]
    arr = (SockFilter * len(prog))(*[SockFilter(*i) for i in prog])
    fprog = SockFprog(len(prog), arr)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(38, 1, 0, 0, 0) != 0 or libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "seccomp")


@pytest.mark.skipif(os.uname().machine != "x86_64" or LAUNCH != "native",
                    reason="the Landlock-denying filter is written for x86-64, native launch")
def test_without_landlock_the_job_fails_closed_r3(r, redis_server, world, api, worker_bin):
    q = Queue("high_priority", connection=r)
    api.add_row(id="row-honest", test_system_id="honest")
    q.enqueue(WRAPPER, "student_test_execution", {"test_job_data": world.test_job(world.honest)},
              job_timeout=300, job_id="honest", retry_limit=0, delay=None)
    uid, gid = run_as()
    kw = {"user": uid, "group": gid, "extra_groups": []} if uid is not None else {}
    proc = subprocess.run([str(worker_bin), "--redis-url", redis_server.url, "--burst", "-q",
                           "high_priority"], env=worker_env(world, api), capture_output=True,
                          text=True, timeout=150, cwd="/", preexec_fn=_deny_landlock, **kw)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    er = Job.fetch("honest", connection=r).return_value()["execution_result"]
    assert er["result_json"] == {"task_exception": "Testing environment failed",
                                 "message": "Testing environment failed"}
    # The log says why; nothing ran unconfined (the clone itself was refused).
    assert "Landlock is not available" in output, output[-3000:]
    check = subprocess.run([str(worker_bin), "sandbox-check"], capture_output=True, text=True,
                           timeout=60, preexec_fn=_deny_landlock, **kw)
    assert check.returncode == 1 and "MISSING  landlock filesystem" in check.stdout, check.stdout
