"""Runs a command as a child subreaper and reports the CPU of its whole process tree.

usage: subreaper.py OUT CMD...   (run with `python -S`: it needs nothing beyond the stdlib)

A contender whose processes outlive their parent (task-worker's Python runners, killed by their
parent-death signal when the worker exits, but not waited for by it; pool processes) would
leave their CPU out of the parent's rusage. As a subreaper (PR_SET_CHILD_SUBREAPER) this process
inherits every orphan of the tree and reaps it, so `getrusage(RUSAGE_CHILDREN)` at the end is the
user + system CPU of every process of the tree (reaped children's included), and its max RSS
that of the largest one. Written to OUT as GNU time's "%M %U %S" (KiB, seconds) for bench.py.
Its own CPU is not in the figure. Once the command has exited, what is left of the tree gets
10 s and is then killed. Exits with the command's exit status.
"""

import ctypes
import os
import resource
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def main() -> int:
    out, cmd = sys.argv[1], sys.argv[2:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise SystemExit(f"subreaper.py: prctl: errno {ctypes.get_errno()}")
    # SIGTERM/SIGINT to this process go on to the command (bench.py signals the command itself).
    main_pid = subprocess.Popen(cmd).pid

    def forward(sig, _frame):
        try:
            os.kill(main_pid, sig)
        except OSError:
            pass

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, forward)
    status, deadline = 0, None
    while True:
        try:
            if deadline is None:
                pid, st = os.waitpid(-1, 0)
            else:
                pid, st = os.waitpid(-1, os.WNOHANG)
                if pid == 0:
                    if time.monotonic() > deadline:
                        for p in orphans():
                            os.kill(p, signal.SIGKILL)
                        deadline = float("inf")
                    time.sleep(0.01)
                    continue
        except ChildProcessError:
            break
        if pid == main_pid:
            status = os.waitstatus_to_exitcode(st)
            deadline = time.monotonic() + 10
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out, "w") as f:
        f.write(f"{ru.ru_maxrss} {ru.ru_utime:.3f} {ru.ru_stime:.3f}\n")
    return status if status >= 0 else 128 - status


def orphans() -> list[int]:
    me = os.getpid()
    try:
        with open(f"/proc/{me}/task/{me}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


if __name__ == "__main__":
    sys.exit(main())
