"""Jobs cannot affect each other, and what escaped the limits is counted (issue 25).

Each attack is a `solution.py` run by the plain runner of tests/sandbox/test_sandbox.py; each
worker run ends with an honest job that must get its right grade. Limits are small so that
the tests are fast; no test waits on time: an attack that must be seen holding something
holds it until it is killed (a limit, or else the runner's timeout, which the old code hit).
"""
from __future__ import annotations

import os
import textwrap

import pytest

from test_sandbox import (  # noqa: F401  (fixtures)
    NAMESPACES, PYTHON, api, assert_honest, loot, r, redis_server, run_jobs, world, worker_bin,
)
from test_grader import assert_grade, grader_env, reference, student

R7 = "Testing environment limit exceeded"


def r7(limit):
    return {"task_exception": R7, "message": f"Test execution exceeded its {limit} limit."}


HOLD = '''
done(1, 1)
while True:
    signal.pause()
'''


def test_memory_in_memfd_files_counts(r, redis_server, world, api, worker_bin):
    hog = world.attack("memfd", textwrap.dedent('''
        fd = os.memfd_create("hoard")
        chunk = b"m" * (1 << 20)
        for _ in range(200):  # 200 MiB under a 128 MiB cap, mapped by nobody
            os.write(fd, chunk)
    ''') + HOLD)
    ran = run_jobs(r, redis_server, world, api, worker_bin,
                   [("memfd", world.test_job(hog)), ("honest", world.test_job(world.honest))],
                   env={"TEST_SANDBOX_MEMORY_MB": "128", "TEST_RUNNER_TIMEOUT": "20"})
    assert ran.result("memfd")["result_json"] == r7("memory")
    assert_honest(ran)


def test_disk_in_unlinked_open_files_counts(r, redis_server, world, api, worker_bin):
    hog = world.attack("unlinked", textwrap.dedent('''
        f = open("hidden", "wb")
        os.unlink("hidden")
        chunk = b"d" * (1 << 20)
        for _ in range(48):  # 48 MiB under a 32 MiB cap, in no directory
            f.write(chunk)
            f.flush()
    ''') + HOLD)
    ran = run_jobs(r, redis_server, world, api, worker_bin,
                   [("unlinked", world.test_job(hog)), ("honest", world.test_job(world.honest))],
                   env={"TEST_SANDBOX_DISK_MB": "32", "TEST_RUNNER_TIMEOUT": "20"})
    assert ran.result("unlinked")["result_json"] == r7("disk")
    assert_honest(ran)


def test_directories_nested_past_path_max_end_r7_and_are_removed(
        r, redis_server, world, api, worker_bin):
    deep = world.attack("deep", '''
        name = "d" * 200
        for _ in range(260):  # 52 000 characters of path, past PATH_MAX (4096)
            os.mkdir(name)
            os.chdir(name)
        with open("payload", "wb") as f:
            f.write(b"p" * (1 << 20))
        os.chmod(".", 0o500)
        done(1, 1)
    ''')
    ran = run_jobs(r, redis_server, world, api, worker_bin,
                   [("deep", world.test_job(deep)), ("honest", world.test_job(world.honest))])
    assert ran.result("deep")["result_json"] == r7("disk")
    # run_jobs checked that every job root is gone.
    assert_honest(ran)


def test_fallocate_is_refused(r, redis_server, world, api, worker_bin):
    # Under the file size limit, far over the disk limit, reserved in an instant.
    grab = world.attack("fallocate", '''
        # The system call itself (glibc's posix_fallocate falls back to writing zeros, which
        # the disk limit meters as any write).
        libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
        def grab():
            fd = os.open("reserved", os.O_WRONLY | os.O_CREAT, 0o600)
            checked(libc.fallocate(fd, 0, 0, 200 << 20))
            return os.fstat(fd).st_blocks * 512
        attempt("fallocate", grab)
        done(1, 1)
    ''')
    ran = run_jobs(r, redis_server, world, api, worker_bin,
                   [("grab", world.test_job(grab)), ("honest", world.test_job(world.honest))],
                   env={"TEST_SANDBOX_DISK_MB": "32"})
    er = ran.result("grab")
    assert "loot" in er["result_json"].get("properties", {}), er
    found = loot(er)
    assert found["fallocate"]["ok"] is False, found
    assert "Operation not supported" in found["fallocate"]["error"], found
    assert_honest(ran)


def test_cpu_of_children_the_kernel_reaps_counts(r, redis_server, world, api, worker_bin):
    # The parent ignores SIGCHLD: its children are reaped by the kernel, and their CPU time
    # is added to no one's. Each child stays under the per-process CPU limit.
    burner = world.attack("reaped", '''
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
        done(1, 1)
        while True:
            r, w = os.pipe()
            if os.fork() == 0:
                os.close(r)
                end = time.process_time() + 0.4
                while time.process_time() < end:
                    pass
                os._exit(0)
            os.close(w)
            os.read(r, 1)  # EOF when the child is gone; the parent spends no CPU
            os.close(r)
    ''')
    ran = run_jobs(r, redis_server, world, api, worker_bin,
                   [("reaped", world.test_job(burner)), ("honest", world.test_job(world.honest))],
                   env={"TEST_SANDBOX_CPU_SECONDS": "3", "TEST_RUNNER_TIMEOUT": "25"})
    assert ran.result("reaped")["result_json"] == r7("cpu")
    assert_honest(ran)


def test_confined_processes_have_oom_score_adj_1000(r, redis_server, world, api, worker_bin):
    probe = world.attack("oom", '''
        LOOT["self"] = {"ok": True, "value": read("/proc/self/oom_score_adj").decode().strip()}
        child = subprocess.run(["cat", "/proc/self/oom_score_adj"], capture_output=True)
        LOOT["child"] = {"ok": True, "value": child.stdout.decode().strip()}
        attempt("lower", lambda: write("/proc/self/oom_score_adj", b"0"))
        done()
    ''')
    ran = run_jobs(r, redis_server, world, api, worker_bin,
                   [("oom", world.test_job(probe)), ("honest", world.test_job(world.honest))])
    found = loot(ran.result("oom"))
    assert found["self"]["value"] == "1000" and found["child"]["value"] == "1000", found
    assert found["lower"]["ok"] is False, found
    assert_honest(ran)


@pytest.mark.parametrize("limit", ["disk", "file size"])
def test_a_clone_over_the_limits_ends_r7(r, redis_server, world, api, worker_bin, limit):
    """Was R2 ("git clone failed") where git itself hit the limit."""
    big = world.make_repo("big", {"a1/solution.py": "x = 1\n",
                                  "a1/blob.bin": os.urandom(24 << 20)})
    env = {"TEST_SANDBOX_DISK_MB": "16"} if limit == "disk" else \
        {"TEST_SANDBOX_FILE_SIZE_MB": "8"}
    ran = run_jobs(r, redis_server, world, api, worker_bin,
                   [("big", world.test_job(big)), ("honest", world.test_job(world.honest))],
                   env=env)
    er = ran.result("big")
    assert er["status"] == 1 and er["result"] is None, er
    assert er["result_json"]["task_exception"] == R7, er
    assert_honest(ran)


def test_a_fork_flood_in_one_job_does_not_starve_another(r, redis_server, world, api, worker_bin):
    """-c 2: job A holds all but a few of its processes until it is killed, while job B, an
    honest correct solution under the grader (threads, a pool of processes), is graded.
    The process limit was the uid's: B's grader could not start threads or processes."""
    flood = world.attack("flood", '''
        kids = 0
        while True:
            try:
                if os.fork() == 0:
                    while True:
                        signal.pause()
                kids += 1
            except OSError:
                break
        while True:
            signal.pause()
    ''')
    ref = reference(world, "ref-pool", REFERENCE_POOL)
    honest = student(world, "honest-pool", REFERENCE_POOL.replace("# the reference", "# mine"))
    env = grader_env(world)
    # The flood runs under the plain runner's command: one runner command per worker, so A
    # runs under the grader too, which runs its solution.py as student code.
    ran = run_jobs(r, redis_server, world, api, worker_bin,
                   [("flood", world.test_job(flood, reference=ref)),
                    ("honest", world.test_job(honest, reference=ref))],
                   env={**env, "TEST_SANDBOX_MAX_PROCESSES": "40", "TEST_RUNNER_TIMEOUT": "40"},
                   concurrency=2)
    assert ran.result("flood")["result_json"]["task_exception"] in (
        R7, "Testing environment timed out")
    assert_grade(ran, "honest", 1.0, 2)


# A reference (and a correct solution) that needs threads and processes: a thread pool and
# a process pool without semaphores in /dev/shm (concurrent.futures over fork).
REFERENCE_POOL = '''\
# the reference solution
import math, os, threading
from concurrent.futures import ThreadPoolExecutor
with ThreadPoolExecutor(4) as ex:
    FACTORIALS = list(ex.map(math.factorial, range(6)))
kids = []
for i in range(4):
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    kids.append(pid)
for pid in kids:
    os.waitpid(pid, 0)
ANSWER = 42
'''
