#!/usr/bin/env python3
"""What the student-test sandbox costs: the same grading jobs run with `--sandbox on` and
`--sandbox off`, CPU time per job of the worker and everything it started (git, the
supervisor, the grader, student code), and wall time. Prints a Markdown table.

    bench/sandbox.py --grader-command CMD --reference DIR --solution DIR --path NAME
                     [--jobs N] [--rounds R] [--python PY] [--read PATHS]

The reference directory (test.yaml, meta.yaml, the reference solution) and the solution's
files go into two git repositories under `NAME/`, served as file:// URLs; the worker runs
`--burst` against a private redis-server and the API double of the tests. The modes
alternate per round (off, on, off, on, ...) so that a slow moment of the machine falls on
both. Figures are printed, never asserted (a benchmark, not a test).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from harness.api_double import ApiDouble  # noqa: E402

WRAPPER = "ctutor_backend.tasks.executor.TaskExecutor._execute_task_wrapper"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def git(*args, cwd=None):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def repo(base: Path, name: str, src: Path, path: str) -> Path:
    work = base / "src" / name
    shutil.copytree(src, work / path, symlinks=True)
    git("init", "-q", "-b", "main", str(work))
    git("-C", str(work), "add", "-A")
    git("-C", str(work), "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "c")
    bare = base / f"{name}.git"
    git("clone", "-q", "--bare", str(work), str(bare))
    return bare


def job_data(student: Path, reference: Path, path: str) -> dict:
    r = lambda bare: {"url": f"file://{bare}", "user": "", "token": "", "branch": "main",  # noqa: E731
                      "path": path, "commit": ""}
    return {"user_id": "u", "course_member_id": "cm-1", "course_content_id": "cc-1",
            "execution_backend_id": "eb-1", "module": r(student), "reference": r(reference),
            "test_number": -1, "submission_number": -1}


def run_round(args, base: Path, sandbox: str, redis_port: int, api: ApiDouble, jobs: list):
    from redis import Redis
    from rq import Queue

    r = Redis(port=redis_port)
    q = Queue("bench", connection=r)
    for job_id, data in jobs:
        api.add_row(id=f"row-{job_id}-{sandbox}", test_system_id=f"{job_id}-{sandbox}")
        q.enqueue(WRAPPER, "student_test_execution", {"test_job_data": data}, job_timeout=900,
                  job_id=f"{job_id}-{sandbox}", retry_limit=0, delay=None)
    work = base / f"work-{sandbox}"
    work.mkdir(exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(base),
        "RUST_LOG": "warn",
        "EXECUTION_BACKEND_API_URL": api.url,
        "EXECUTION_BACKEND_API_USER": "admin",
        "EXECUTION_BACKEND_API_PASSWORD": "pw",
        "ALLOW_FILE_GIT_URLS": "true",
        "TEST_RUNNER_COMMAND": args.grader_command,
        "TEST_RUNNER_TIMEOUT": "900",
        "WORK_DIR": str(work),
        "TEST_SANDBOX": sandbox,
        "TEST_SANDBOX_READ": args.read or "",
    }
    started = time.monotonic()
    proc = subprocess.Popen([args.worker, "--redis-url", f"redis://127.0.0.1:{redis_port}",
                             "--burst", "-q", "bench"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    if status != 0:
        sys.exit(f"worker failed ({status}):\n{out.decode(errors='replace')[-3000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    grades = []
    for job_id, _ in jobs:
        row = api.rows.get(f"row-{job_id}-{sandbox}") or {}
        grades.append(row.get("result"))
    return wall, cpu, grades


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grader-command", required=True)
    ap.add_argument("--reference", required=True, type=Path)
    ap.add_argument("--solution", required=True, type=Path)
    ap.add_argument("--path", required=True)
    ap.add_argument("--jobs", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--read", default="", help="TEST_SANDBOX_READ for the grader's files")
    ap.add_argument("--worker", default=str(ROOT / "target" / "release" / "task-worker"))
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="tw-bench-sandbox-"))
    base.chmod(0o755)
    redis_port = free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(redis_port), "--save", "",
                              "--appendonly", "no", "--dir", str(base)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    api = ApiDouble(user="admin", password="pw")
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", redis_port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        reference = repo(base, "reference", args.reference, args.path)
        student = repo(base, "student", args.solution, args.path)
        totals = {"off": [0.0, 0.0, 0], "on": [0.0, 0.0, 0]}
        grades = {"off": set(), "on": set()}
        for rnd in range(args.rounds):
            for mode in ("off", "on"):
                jobs = [(f"r{rnd}-j{i}", job_data(student, reference, args.path))
                        for i in range(args.jobs)]
                wall, cpu, g = run_round(args, base, mode, redis_port, api, jobs)
                totals[mode][0] += wall
                totals[mode][1] += cpu
                totals[mode][2] += len(jobs)
                grades[mode].update(g)
                print(f"round {rnd} {mode}: {len(jobs)} jobs, {wall:.1f} s wall, {cpu:.2f} s CPU, grades {sorted(map(str, set(g)))}",
                      file=sys.stderr)
        print("| sandbox | jobs | wall s per job | CPU s per job | grades |")
        print("|---|---|---|---|---|")
        per = {}
        for mode in ("off", "on"):
            wall, cpu, n = totals[mode]
            per[mode] = cpu / n
            print(f"| {mode} | {n} | {wall / n:.2f} | {cpu / n:.3f} | {', '.join(sorted(map(str, grades[mode])))} |")
        print()
        print(f"CPU per job with the sandbox on: {100 * (per['on'] / per['off'] - 1):+.1f} % against off "
              f"({per['on'] - per['off']:+.3f} s)")
    finally:
        api.close()
        redis.terminate()
        redis.wait()
        subprocess.run(["chmod", "-R", "u+rwx", str(base)], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
