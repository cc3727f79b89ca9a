"""Memory under pressure (issue 9): a million queued jobs do not grow the worker's memory (it
takes ids a few at a time, never the whole queue), and 100,000 jobs in a row leave RSS flat.
RSS is read from /proc/<pid>/status (VmRSS). These are memory bounds, not time bounds.
"""
import os
import subprocess
from pathlib import Path

from rq import Queue

from harness import RELEASE_BIN, WORKER, wait_until
from rel_helpers import report, rss_kb

QUEUED = 1_000_000
RUN = 100_000
# Generous bound on RSS growth between the 10,000th and the 100,000th job.
GROWTH_LIMIT_KB = 10 * 1024

# Copies a template job hash under ids `<prefix><n>` and pushes the ids, server-side, so that
# a million jobs take seconds to create. KEYS: [queue]; ARGV: [prefix, first, count, f1, v1, …].
FILL = """
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
local first, count = tonumber(ARGV[2]), tonumber(ARGV[3])
for n = first, first + count - 1 do
  local id = ARGV[1] .. n
  redis.call('HSET', 'rq:job:' .. id, unpack(fields))
  redis.call('RPUSH', KEYS[1], id)
end
return count
"""


def worker_binary():
    """$TASK_WORKER_RELEASE_BIN when set (a release build runs the 100,000 jobs much faster),
    else the binary under test."""
    return Path(RELEASE_BIN) if RELEASE_BIN else WORKER


def test_million_queued_and_100k_in_a_row(redis_server):
    r = redis_server.client()
    q = Queue("default", connection=r)
    # Template: a real RQ-made job hash for noop (result_ttl 0: nothing is kept per job).
    template = q.enqueue("noop", result_ttl=0)
    fields = r.hgetall(f"rq:job:{template.id}")
    r.delete(f"rq:job:{template.id}", "rq:queue:default")
    flat = [x for kv in fields.items() for x in kv]
    fill = r.register_script(FILL)
    step = 50_000
    for first in range(0, QUEUED, step):
        fill(keys=["rq:queue:default"], args=["mem-", first, step, *flat])
    assert r.llen("rq:queue:default") == QUEUED

    binary = worker_binary()
    proc_env = dict(os.environ, RUST_LOG="warn")
    log = open(os.devnull, "w")
    proc = subprocess.Popen([str(binary), "--redis-url", redis_server.url, "-q", "default",
                             "-c", "8"], stdout=log, stderr=subprocess.STDOUT, env=proc_env)
    try:
        def done():
            return QUEUED - r.llen("rq:queue:default") - r.llen("rq:queue:default:intermediate")

        wait_until(lambda: done() >= 1_000, timeout=120, interval=0.05, what="1,000 jobs")
        rss_1k = rss_kb(proc.pid)
        wait_until(lambda: done() >= 10_000, timeout=300, interval=0.05, what="10,000 jobs")
        rss_10k = rss_kb(proc.pid)
        wait_until(lambda: done() >= RUN, timeout=900, interval=0.2, what="100,000 jobs")
        rss_100k = rss_kb(proc.pid)
        remaining = r.llen("rq:queue:default")
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(60)
        log.close()
    report("memory", queued=QUEUED, jobs_run=RUN, binary=binary,
           rss_kb_at_1k=rss_1k, rss_kb_at_10k=rss_10k, rss_kb_at_100k=rss_100k,
           growth_kb_10k_to_100k=rss_100k - rss_10k, still_queued=remaining)
    assert rss_100k - rss_10k < GROWTH_LIMIT_KB
    # The worker never read the whole queue: a million ids alone would be tens of MB.
    assert rss_100k < 64 * 1024
    assert remaining >= QUEUED - RUN - 20_000
