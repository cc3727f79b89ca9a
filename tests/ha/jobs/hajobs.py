"""The job RQ's own worker runs in tests/ha (the comparison with task-worker's `sleep`): it
sleeps, then appends its id to this container's ledger file on the shared volume, outside every
Redis of the cluster, so executions are counted exactly (a duplicate shows as two lines, a job
that never ran as none). One short line per `write` with O_APPEND: lines do not interleave.
"""
import os
import socket
import time

from rq import get_current_job

LEDGER_DIR = os.environ.get("HA_LEDGER", "/ledger")


def work(seconds=0.05):
    time.sleep(seconds)
    job = get_current_job()
    line = f"{job.id} {time.time():.6f}\n".encode()
    fd = os.open(os.path.join(LEDGER_DIR, f"exec-{socket.gethostname()}.log"),
                 os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)
    return None
