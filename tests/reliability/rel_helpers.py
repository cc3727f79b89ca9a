"""The reliability suite's own helpers; what the suites share is in tests/harness."""
import os
from pathlib import Path


def report(test, **counts):
    """Prints one summary line (pytest -s) and appends it to $RELIABILITY_SUMMARY."""
    line = f"RELIABILITY {test}: " + " ".join(f"{k}={v}" for k, v in counts.items())
    print("\n" + line, flush=True)
    path = os.environ.get("RELIABILITY_SUMMARY")
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")


def rss_kb(pid):
    """VmRSS of a process, in kB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


def statuses(r, ids, chunk=5000):
    """The `status` field of each job hash (None when the hash is gone)."""
    out = []
    for i in range(0, len(ids), chunk):
        p = r.pipeline(transaction=False)
        for jid in ids[i:i + chunk]:
            p.hget(f"rq:job:{jid}", "status")
        out.extend(s.decode() if s else None for s in p.execute())
    return out
