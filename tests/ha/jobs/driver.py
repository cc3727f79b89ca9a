"""The enqueuer of tests/ha, run in a container of the cluster's network with real RQ 3.0:
finds the master through the sentinels (redis-py's Sentinel, as RQ's CLI does) and enqueues
COUNT jobs, about RATE a second, retrying through failovers. Each acknowledged job is one line
`ID TIME REPLICAS` in the ledger (REPLICAS: what WAIT answered, -1 without --wait); a failed
attempt is one line `ERR TIME text` (its job, if Redis stored it after all, is not counted as
acknowledged). Ends with a line `DONE TIME`.

    python3 driver.py enqueue --count 300 --rate 30 --func sleep --seconds 0.05 --out /ledger/enqueued.log
"""
import argparse
import os
import sys
import time

from redis.sentinel import Sentinel
from rq import Queue

SENTINELS = [("ha-s1", 26379), ("ha-s2", 26379), ("ha-s3", 26379)]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cmd", choices=["enqueue"])
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--rate", type=float, default=0.0, help="jobs a second; 0: as fast as possible")
    p.add_argument("--func", required=True)
    p.add_argument("--seconds", type=float, default=0.05)
    p.add_argument("--queue", default="ha")
    p.add_argument("--wait", type=int, default=0, help="WAIT for this many replicas after each enqueue")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    sentinel = Sentinel(SENTINELS, socket_timeout=2, sentinel_kwargs={"socket_timeout": 2})
    conn = sentinel.master_for("mymaster", socket_timeout=2, socket_connect_timeout=2)
    q = Queue(a.queue, connection=conn)
    fd = os.open(a.out, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    start = time.time()
    done = 0
    while done < a.count:
        if a.rate > 0:
            due = start + done / a.rate
            if due > time.time():
                time.sleep(due - time.time())
        try:
            job = q.enqueue(a.func, seconds=a.seconds, job_timeout=60, result_ttl=-1,
                            failure_ttl=-1)
            replicas = conn.wait(a.wait, 1000) if a.wait else -1
        except Exception as e:  # noqa: BLE001 - every failure is recorded and retried
            text = " ".join(f"{type(e).__name__}: {e}".split())[:200]
            os.write(fd, f"ERR {time.time():.6f} {text}\n".encode())
            time.sleep(0.1)
            continue
        os.write(fd, f"{job.id} {time.time():.6f} {replicas}\n".encode())
        done += 1
    os.write(fd, f"DONE {time.time():.6f}\n".encode())
    os.close(fd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
