"""Student code under a grader that behaves like the platform's (issue 25).

The runner here is `tests/sandbox/grader/grade.py`, a small grader written for these tests
that does what computor-test does as far as the sandbox can tell: it writes a wrapper and a
result file per run with `tempfile.mkstemp` in its own TMPDIR, starts
`[PYTHON_TEST_EXECUTABLE or sys.executable, wrapper]` with an environment it builds itself
(`HOME=/tmp`, no TMPDIR), first in the student's directory, then with the reference directory
as working directory, compares the variables, marks a test skipped when the reference run
failed, and writes `testSummary.json` (a failed test shows the student's value: the channel
through which a submission's loot would reach the API).

Each attack is a `solution.py` the grader runs as student code; each is followed, in the same
worker run, by an honest job that must still get its right grade.
"""
from __future__ import annotations

import json
import os
import shutil
import textwrap
from pathlib import Path

import pytest

from test_sandbox import (  # noqa: F401  (fixtures)
    LAUNCH, NAMESPACES, PYTHON, ROOT, api, r, redis_server, run_jobs, world, worker_bin,
)

GRADER = Path(__file__).resolve().parent / "grader" / "grade.py"
# The grader's interpreter for the reference that imports matplotlib: the test venv of the
# system Python (scripts/setup-python), also mounted into the image (same Debian Python).
GRADER_VENV = Path(os.environ.get("TW_GRADER_VENV", ROOT / ".venv-grader"))
VENV_PYTHON = GRADER_VENV / "bin" / "python"

SPEC = {"entry": "solution.py", "tests": [
    {"name": "answer", "variables": ["ANSWER"]},
    {"name": "factorials", "variables": ["FACTORIALS"]},
]}
REFERENCE = '''\
# the reference solution
import math
ANSWER = 42
FACTORIALS = [math.factorial(i) for i in range(6)]
'''
# What the platform's Python references do: matplotlib (Agg), tempfile, a process pool, and
# a file written into their working directory (the reference clone).
REFERENCE_MPL = '''\
# the reference solution
import math, multiprocessing, os, tempfile
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
with multiprocessing.Pool(2) as pool:
    FACTORIALS = pool.map(math.factorial, range(6))
fig, ax = plt.subplots()
ax.plot(FACTORIALS)
with tempfile.NamedTemporaryFile(suffix=".png") as f:
    fig.savefig(f.name)
    assert os.path.getsize(f.name) > 0
with open("reference-output.txt", "w") as f:
    f.write(repr(FACTORIALS))
ANSWER = 42
'''
HONEST = "ANSWER = 42\nFACTORIALS = [1, 1, 2, 6, 24, 120]\n"
# Right on one test of two: the honest grade of every forging attack is 0.5.
HALF = "ANSWER = 42\nFACTORIALS = [0]\n"

STUDENT_HEADER = '''
import ctypes, json, os, signal, subprocess, sys, time
LOOT = {}
def attempt(name, fn):
    try:
        LOOT[name] = {"ok": True, "value": repr(fn())[:2000]}
    except BaseException as e:
        LOOT[name] = {"ok": False, "error": (type(e).__name__ + ": " + str(e))[:300]}
# The job root, found from the working directory (<root>/student/a1): student code gets no
# CTUTOR_* variable from the grader.
JOB = os.path.dirname(os.path.dirname(os.getcwd()))
FORGED = json.dumps({"summary": {"total": 2, "passed": 2, "failed": 0, "skipped": 0}})
def read(path, n=1 << 16):
    with open(path, "rb") as f:
        return f.read(n)
def write(path, data):
    with open(path, "w") as f:
        f.write(data)
    return path
'''


def grader_env(world, python=PYTHON):
    """The runner is the test grader, started by `python`."""
    shutil.copy(GRADER, world.bin / "grade.py")
    world.own(world.bin)
    read = [str(world.bin)]
    if Path(python).is_relative_to(GRADER_VENV):
        read.append(str(GRADER_VENV))
        world.mounts.append(GRADER_VENV)
    return {"TEST_RUNNER_COMMAND": f"{python} {world.bin}/grade.py",
            "TEST_SANDBOX_READ": ":".join(read)}


def reference(world, name="ref-grader", solution=REFERENCE):
    return world.make_repo(name, {
        "a1/meta.yaml": "properties:\n  testFiles: [data/input.txt]\n",
        "a1/test.yaml": json.dumps(SPEC),
        "a1/data/input.txt": "the hidden test data\n",
        "a1/solution.py": solution,
    })


def student(world, name, source):
    return world.make_repo(name, {"a1/solution.py": textwrap.dedent(source)})


def assert_grade(ran, job_id, score, passed):
    er = ran.result(job_id)
    assert er["status"] == 0 and er["result"] == score, (job_id, json.dumps(er)[:3000])
    summary = er["result_json"]["summary"]
    assert summary == {"total": 2, "passed": passed, "failed": 2 - passed, "skipped": 0}, \
        (job_id, er)
    return er


def honest_job(world, ref):
    return ("honest", world.test_job(student(world, "honest-student", HONEST), reference=ref))


# ---- right grades -------------------------------------------------------------------------


@pytest.mark.skipif(not VENV_PYTHON.exists(),
                    reason=f"needs the grader venv {GRADER_VENV} (scripts/setup-python)")
def test_a_correct_solution_is_graded_1_with_matplotlib_tempfile_and_a_pool(
        r, redis_server, world, api, worker_bin):
    """Was 0.0: the reference run could not import matplotlib (no writable temporary
    directory), start a pool (/dev/shm hidden) or write into its clone; every test skipped."""
    ref = reference(world, "ref-mpl", REFERENCE_MPL)
    # The student's correct solution does what the reference does, and so is confined.
    same = student(world, "same-as-reference", REFERENCE_MPL.replace("# the reference", "# my"))
    # The same without the pool: matplotlib and tempfile in student code.
    no_pool = student(world, "no-pool", REFERENCE_MPL.replace(
        "with multiprocessing.Pool(2) as pool:\n    FACTORIALS = pool.map(",
        "if True:\n    FACTORIALS = list(map("
    ).replace("range(6))", "range(6)))"))
    ran = run_jobs(r, redis_server, world, api, worker_bin,
                   [("same", world.test_job(same, reference=ref)),
                    ("no-pool", world.test_job(no_pool, reference=ref)), honest_job(world, ref)],
                   env=grader_env(world, VENV_PYTHON))
    if not NAMESPACES:
        # Without per-job namespaces /tmp and /dev/shm stay hidden (sandbox-check says so):
        # the reference run fails and every test is skipped.
        pytest.xfail("no per-job namespaces here: the reference run has no /tmp or /dev/shm")
    assert_grade(ran, "honest", 1.0, 2)
    assert_grade(ran, "no-pool", 1.0, 2)
    # A process pool in student code needs /dev/shm (its semaphores).
    assert_grade(ran, "same", 1.0, 2)


# ---- student code cannot touch the grader ---------------------------------------------------


def test_student_code_cannot_read_the_reference_the_test_files_or_the_grader(
        r, redis_server, world, api, worker_bin):
    ref = reference(world)
    thief = student(world, "thief", STUDENT_HEADER + '''
attempt("reference", lambda: read(JOB + "/source/a1/solution.py"))
attempt("reference-listing", lambda: os.listdir(JOB + "/source/a1"))
attempt("test-files", lambda: read(JOB + "/test_files/data/input.txt"))
attempt("output", lambda: write(JOB + "/output/evil.json", "{}"))
attempt("artifacts", lambda: write(JOB + "/artifacts/evil.txt", "x"))
attempt("tmp", lambda: write("/tmp/tw-evil", "x"))
# The grader: the first ancestor that runs grade.py.
def runs_grader(pid):
    argv = read(f"/proc/{pid}/cmdline").split(b"\\0")
    return len(argv) > 1 and argv[1].endswith(b"/grade.py")
def grader():
    pid = os.getppid()
    while pid > 1:
        try:
            if runs_grader(pid):
                return pid
            pid = int(read(f"/proc/{pid}/stat").rsplit(b")", 1)[1].split()[1])
        except OSError:
            break
    # Where the job sees an outer /proc (a container that refuses a new one), its pids are
    # not the ones getppid() gives: look the grader up by its command line.
    for d in os.listdir("/proc"):
        if d.isdigit() and int(d) != os.getpid():
            try:
                if runs_grader(d):
                    return int(d)
            except OSError:
                pass
    raise LookupError("no grader found")
attempt("grader", grader)
g = grader() if LOOT["grader"]["ok"] else None
if g:
    def memory():
        for line in read(f"/proc/{g}/maps", 1 << 20).decode().splitlines():
            if "[heap]" in line:
                start = int(line.split("-")[0], 16)
                with open(f"/proc/{g}/mem", "rb") as f:
                    f.seek(start)
                    return f.read(4096)
        raise LookupError("no heap")
    attempt("grader-mem", memory)
    attempt("grader-environ", lambda: read(f"/proc/{g}/environ"))
    # The numbers in /proc/<pid>/fd can be listed by the same uid (the kernel checks no
    # ptrace right for the listing); where they lead cannot be read.
    attempt("grader-fds", lambda: [os.readlink(f"/proc/{g}/fd/{n}")
                                   for n in os.listdir(f"/proc/{g}/fd")])
    libc = ctypes.CDLL(None, use_errno=True)
    def ptrace():
        if libc.ptrace(16, g, 0, 0) == -1:
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
        return "attached"
    attempt("grader-ptrace", ptrace)
    attempt("grader-signal", lambda: os.kill(g, 0))
    # The grader's own script (a TEST_SANDBOX_READ path, shared by every job).
    script = read(f"/proc/{g}/cmdline").split(b"\\0")[1].decode()
    attempt("grader-script", lambda: write(script, "print('pwned')"))
attempt("test-files-write", lambda: write(JOB + "/test_files/data/input.txt", "0"))
attempt("run-config", lambda: write(JOB + "/student-run/config.json", "{}"))
ANSWER = LOOT
FACTORIALS = [1, 1, 2, 6, 24, 120]
''')
    ran = run_jobs(r, redis_server, world, api, worker_bin,
                   [("thief", world.test_job(thief, reference=ref)), honest_job(world, ref)],
                   env=grader_env(world))
    er = assert_grade(ran, "thief", 0.5, 1)
    found = er["result_json"]["tests"][0]["properties"]["student"]["ANSWER"]
    for name in ("reference", "reference-listing", "test-files", "output", "artifacts", "tmp"):
        assert found[name]["ok"] is False, (name, found)
    assert found["grader"]["ok"], found
    for name in ("grader-mem", "grader-environ", "grader-fds", "grader-ptrace", "grader-signal",
                 "grader-script", "test-files-write", "run-config"):
        assert found[name]["ok"] is False, (name, found)
    assert (world.bin / "grade.py").read_text() == GRADER.read_text()
    seen = json.dumps(ran.jobs["thief"].return_value()) + json.dumps(api.requests())
    assert "the reference solution" not in seen and "the hidden test data" not in seen
    assert_grade(ran, "honest", 1.0, 2)


FORGERIES = {
    # The summary written by student code, made read-only so that the grader cannot
    # replace it (its write fails, it crashes, the forged file stays).
    "summary-at-exit": '''
import atexit
def forge():
    write(JOB + "/output/testSummary.json", FORGED)
    os.chmod(JOB + "/output/testSummary.json", 0o444)
atexit.register(forge)
attempt("forge-now", forge)
''',
    # A daemon left behind that rewrites the summary whenever it is not the forged one,
    # until it is killed: the grader writes its own after the student's run.
    "daemon": '''
r, w = os.pipe()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.write(w, b"up")
        while True:
            try:
                if read(JOB + "/output/testSummary.json").decode() != FORGED:
                    write(JOB + "/output/testSummary.json", FORGED)
            except OSError:
                pass
            time.sleep(0.002)
    os._exit(0)
os.read(r, 2)
''',
    # A module planted next to the grader's next wrapper (sys.path[0] of the reference
    # run): it makes the reference compute the student's wrong value.
    "planted-module": '''
planted = os.path.dirname(os.path.abspath(sys.argv[0])) + "/traceback.py"
attempt("plant", lambda: write(planted, "import builtins\\n"
    "_exec = builtins.exec\\n"
    "def exec(code, ns=None, *a):\\n"
    "    _exec(code, ns, *a)\\n"
    "    if ns is not None and 'FACTORIALS' in ns: ns['FACTORIALS'] = [0]\\n"
    "builtins.exec = exec\\n"
    "def format_exc(*a, **k): return ''\\n"))
''',
    # The reference run's HOME is /tmp: a user site-packages with usercustomize there, and a
    # matplotlibrc; with per-job namespaces /tmp is writable for the grader, never for
    # student code.
    "tmp-hijack": '''
site_dir = "/tmp/.local/lib/python%d.%d/site-packages" % sys.version_info[:2]
def hijack():
    os.makedirs(site_dir, exist_ok=True)
    write(site_dir + "/usercustomize.py", "import builtins\\n")
    return site_dir
attempt("usercustomize", hijack)
attempt("tmp", lambda: write("/tmp/tw-evil", "x"))
''',
    # Monkeypatching what the grader reads results with: the grader is another process.
    "monkeypatch": '''
import json as _json
_json.load = lambda f, *a, **k: {"status": "COMPLETED", "variables": {"ANSWER": 42,
    "FACTORIALS": [1, 1, 2, 6, 24, 120]}}
_json.loads = lambda s, *a, **k: _json.load(None)
''',
}


@pytest.mark.parametrize("how", sorted(FORGERIES))
def test_student_code_cannot_forge_its_score(r, redis_server, world, api, worker_bin, how):
    ref = reference(world)
    forger = student(world, "forger", STUDENT_HEADER + FORGERIES[how] + HALF)
    ran = run_jobs(r, redis_server, world, api, worker_bin,
                   [("forger", world.test_job(forger, reference=ref)), honest_job(world, ref)],
                   env=grader_env(world))
    er = assert_grade(ran, "forger", 0.5, 1)
    assert er["result_json"]["tests"][1]["properties"]["student"] == {"FACTORIALS": [0]}, er
    assert not Path("/tmp/tw-evil").exists()
    assert_grade(ran, "honest", 1.0, 2)
