"""Core interop: Python RQ enqueues, task-worker runs, Python RQ reads back (issue: core).

Each test runs against RQ 2.0.0, 2.12.0 and 3.0.0 (scripts/test runs this file in each venv).
"""
import math
import signal
import subprocess
import sys
import time

import pytest
import rq
from rq import Queue, Worker
from rq.command import send_stop_job_command
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry, FinishedJobRegistry, StartedJobRegistry
from rq.results import Result
from rq.serializers import JSONSerializer

from harness import wait_until

RQ20 = rq.__version__ == "2.0.0"
WRAPPER = "ctutor_backend.tasks.executor.TaskExecutor._execute_task_wrapper"


def raw_status_and_error(r, job_id):
    """Status and last exc_string read straight from Redis (for hashes Python itself cannot load)."""
    import base64
    import zlib
    entries = r.xrevrange(f"rq:results:{job_id}", count=1)
    exc = entries[0][1].get(b"exc_string") if entries else None
    text = zlib.decompress(base64.b64decode(exc)).decode() if exc else None
    return r.hget(f"rq:job:{job_id}", "status").decode(), text


def same_typed(a, b):
    """Equal, with the same Python types all the way down (1 != 1.0 != True here)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same_typed(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a.keys()) == list(b.keys()) and all(same_typed(a[k], b[k]) for k in a)
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


VALUES = [
    0, -1, 255, 2**31, -2**31 - 1, 2**63 - 1, -2**63, 2**64, 2**100, -2**100,
    0.5, -0.0, 1e300, float("inf"), 3.0,
    "", "plain", "ünïcödé ✓ 😀", "x" * 70000,
    b"", b"\x00\xffbytes", b"y" * 300,
    True, False, None,
    [], [1, "a", None], (), (1,), (1, 2, 3, 4, 5),
    {}, {"k": 1, "nested": {"l": [1, (2, 3)]}}, {1: "int key", None: "none key", (1, 2): "tuple key"},
    {"deep": [[[[[[[[[[["bottom"]]]]]]]]]]]},
]


def test_value_round_trips(r, run_burst):
    q = Queue("interop", connection=r)
    jobs = [q.enqueue("echo", v) for v in VALUES]
    run_burst("-q", "interop")
    for job, value in zip(jobs, VALUES):
        job.refresh()
        assert job.get_status() == JobStatus.FINISHED, job.id
        got = job.return_value()
        assert same_typed(got, value), (value, got)


def test_success_records_like_rq(r, run_burst):
    q = Queue("interop", connection=r)
    job = q.enqueue("echo", 5)
    before = time.time()
    run_burst("-q", "interop", "-n", "W1")
    job.refresh()
    res = job.latest_result()
    assert res.type == Result.Type.SUCCESSFUL and job.return_value() == 5
    if not RQ20:  # Result.worker_name is read by RQ 2.1+ (the stream entry has it either way)
        assert res.worker_name == "W1"
    assert r.xrange(f"rq:results:{job.id}")[0][1][b"worker_name"] == b"W1"
    assert job.get_status() == JobStatus.FINISHED
    assert job.worker_name == "W1" and job.started_at and job.ended_at and job.ended_at >= job.started_at
    assert job.id in FinishedJobRegistry(queue=q).get_job_ids()
    assert 0 < r.ttl(job.key) <= 500 and 0 < r.ttl(f"rq:results:{job.id}") <= 500
    score = r.zscore("rq:finished:interop", job.id)
    # Scored at the job's end plus result_ttl: after the burst started, before now (whole
    # seconds), however long the burst took.
    assert int(before) + 500 - 1 <= score <= time.time() + 500 + 1
    # Nothing left behind: executions, started registry, intermediate list.
    assert r.zcard("rq:wip:interop") == 0
    assert r.llen("rq:queue:interop:intermediate") == 0
    assert not r.keys("rq:execution:*")
    assert [e for e in r.xrange(f"rq:results:{job.id}")][0][1][b"execution_id"]
    # Worker record after burst exit: dead, removed from the registries.
    assert Worker.all(connection=r) == []
    assert r.hget("rq:worker:W1", "death")
    assert r.hget("rq:worker:W1", "successful_job_count") == b"1"
    assert r.hget("rq:worker:W1", "current_job") is None


def test_failure_records_like_rq(r, run_burst):
    q = Queue("interop", connection=r)
    job = q.enqueue("fail", "boom 7")
    run_burst("-q", "interop", "-n", "W2")
    job.refresh()
    assert job.get_status() == JobStatus.FAILED
    res = job.latest_result()
    assert res.type == Result.Type.FAILED
    assert res.exc_string.rstrip("\n").splitlines()[-1] == "Exception: boom 7"
    assert job.return_value() is None
    assert job.id in FailedJobRegistry(queue=q).get_job_ids()
    # failure_ttl unset: job key lives a year, the results stream gets no TTL (RQ's behaviour).
    assert 31536000 - 10 < r.ttl(job.key) <= 31536000
    assert r.ttl(f"rq:results:{job.id}") == -1
    assert r.hget("rq:worker:W2", "failed_job_count") == b"1"


def test_failure_ttl_applies_to_stream(r, run_burst):
    q = Queue("interop", connection=r)
    job = q.enqueue("fail", "x", failure_ttl=100)
    run_burst("-q", "interop")
    assert 0 < r.ttl(f"rq:results:{job.id}") <= 100
    assert 0 < r.ttl(job.key) <= 100


def test_result_ttl_zero_and_forever(r, run_burst):
    q = Queue("interop", connection=r)
    gone = q.enqueue("echo", 1, result_ttl=0)
    kept = q.enqueue("echo", 2, result_ttl=-1)
    run_burst("-q", "interop")
    assert not r.exists(gone.key) and not r.exists(f"rq:results:{gone.id}")
    assert r.ttl(kept.key) == -1 and r.ttl(f"rq:results:{kept.id}") == -1
    assert r.zscore("rq:finished:interop", kept.id) == float("inf")
    kept.refresh()
    assert kept.return_value() == 2


def test_job_ttl_is_persisted_at_start(r, run_burst):
    q = Queue("interop", connection=r)
    job = q.enqueue("echo", 1, ttl=1000, result_ttl=-1)
    assert r.ttl(job.key) > 0
    run_burst("-q", "interop")
    assert r.ttl(job.key) == -1


def test_meta_is_never_overwritten(r, run_burst):
    q = Queue("interop", connection=r)
    job = q.enqueue("echo", 1, meta={"owner": "teacher", "n": 3})
    run_burst("-q", "interop")
    job.refresh()
    assert job.get_meta() == {"owner": "teacher", "n": 3}


def test_priority_order(r, run_burst):
    low, default, high = (Queue(n, connection=r) for n in ("low_priority", "default", "high_priority"))
    jobs = [low.enqueue("noop"), default.enqueue("noop"), high.enqueue("noop"),
            low.enqueue("noop"), high.enqueue("noop"), default.enqueue("noop")]
    run_burst("-c", "1")  # default queues: high_priority,default,low_priority
    order = sorted(jobs, key=lambda j: (j.refresh() or j.started_at))
    assert [j.origin for j in order] == ["high_priority"] * 2 + ["default"] * 2 + ["low_priority"] * 2


def test_bad_jobs_fail_and_worker_goes_on(r, run_burst):
    q = Queue("interop", connection=r)
    unknown = q.enqueue("no.such.function", 1)
    r.rpush("rq:queue:interop", "ghost-job-id")  # id without a hash: skipped
    method = q.enqueue(WRAPPER, "no_such_task", {})
    garbage = q.enqueue("echo", 1)
    r.hset(garbage.key, "data", b"\x78\x9c not zlib at all")
    bad_timeout = q.enqueue("echo", 1)
    r.hset(bad_timeout.key, "timeout", "abc")
    good = q.enqueue("echo", "still alive")
    run_burst("-q", "interop")
    for job, text in [(unknown, "no.such.function"), (method, "is not registered"),
                      (garbage, "DeserializationError"), (bad_timeout, "'timeout'")]:
        status, exc = raw_status_and_error(r, job.id)
        assert status == "failed", job.id
        assert text in exc, exc
    good.refresh()
    assert good.return_value() == "still alive"
    assert r.llen("rq:queue:interop:intermediate") == 0


def test_backend_wrapper_and_example_tasks(r, run_burst):
    q = Queue("default", connection=r)
    long = q.enqueue(WRAPPER, "example_long_running", {"duration": 1, "message": "hi"},
                     job_timeout=300, retry_limit=3, delay=None)
    failing = q.enqueue(WRAPPER, "example_failing", {"error_message": "nope"}, retry_limit=2, delay=None)
    bad = q.enqueue(WRAPPER, "example_data_processing", {"data_source": "x", "processing_type": "odd"},
                    retry_limit=3, delay=None)
    missing = q.enqueue(WRAPPER, "example_data_processing", {}, retry_limit=3, delay=None)
    run_burst("-q", "default", "-c", "4")
    long.refresh()
    value = long.return_value()
    assert value["message"] == "hi" and value["duration_requested"] == 1 and value["status"] == "completed"
    assert isinstance(value["duration_actual"], float) and "Z" not in value["completed_at"]
    assert long.get_meta()["progress"] == {"completed": 1, "total": 1}
    for job, last in [(failing, "Exception: nope"),
                      (bad, "ValueError: Unknown processing type: odd"),
                      (missing, "TypeError: ExampleDataProcessingTask.execute() missing 1 required "
                                "positional argument: 'data_source'")]:
        job.refresh()
        assert job.get_status() == JobStatus.FAILED
        assert job.latest_result().exc_string.rstrip("\n").splitlines()[-1] == last


def test_json_serializer(r, run_burst):
    q = Queue("interop", connection=r, serializer=JSONSerializer)
    job = q.enqueue("echo", {"a": [1, 2.5, None, "x"], "big": 2**70})
    run_burst("-q", "interop", "-S", "json")
    job = Job.fetch(job.id, connection=r, serializer=JSONSerializer)
    assert job.get_status() == JobStatus.FINISHED
    assert job.return_value() == {"a": [1, 2.5, None, "x"], "big": 2**70}


def test_busy_worker_is_visible_and_rq_info_does_not_fail_it(r, redis_server, start_worker):
    q = Queue("interop", connection=r)
    worker = start_worker("-q", "interop", "-n", "BUSY")
    # Longer than any test run: the job is still running after the slow `rq info` below, on
    # any machine, and is then stopped (no assumption about how long anything takes).
    job = q.enqueue("sleep", 3600, job_timeout=7200)
    wait_until(lambda: job.get_status(refresh=True) == JobStatus.STARTED, what="job start")
    w = Worker.find_by_key("rq:worker:BUSY", connection=r)
    assert w.get_state() == "busy"
    assert w.get_current_job().id == job.id
    # RQ 2.0's get_job_ids() returns the raw `<job>:<execution>` members (later ones the job ids).
    assert job.id in [m.split(":")[0] for m in StartedJobRegistry(queue=q).get_job_ids()]
    assert [e.job_id for e in job.get_executions()] == [job.id]
    assert "interop" in w.queue_names() and w.pid and w.birth_date and w.hostname
    assert r.ttl("rq:worker:BUSY") > 0
    info = subprocess.run([sys.executable, "-m", "rq.cli", "info", "-u", redis_server.url],
                          capture_output=True, text=True, timeout=30)
    assert info.returncode == 0, info.stderr
    assert "BUSY" in info.stdout
    assert job.get_status(refresh=True) == JobStatus.STARTED
    send_stop_job_command(r, job.id)
    wait_until(lambda: job.get_status(refresh=True) == JobStatus.STOPPED, what="job stopped")
    wait_until(lambda: Worker.find_by_key("rq:worker:BUSY", connection=r).get_state() == "idle", what="idle")
    assert Worker.find_by_key("rq:worker:BUSY", connection=r).get_current_job() is None
    worker.signal(signal.SIGTERM)
    assert worker.wait() == 0


@pytest.mark.parametrize("defer_ms,threads,deferred", [("2000", "1", True), ("0", "1", False),
                                                      ("2000", "2", False)])
def test_short_jobs_read_the_same_whether_their_start_is_deferred_or_not(r, run_burst, defer_ms,
                                                                      threads, deferred):
    """With a start delay (`--defer-start-ms`) on one runtime thread, jobs that end within it are
    written once, start and end together: the start script never runs (its `LPOS` guard is the
    only LPOS the worker sends). With 0, or several runtime threads, every start is written
    before its job runs. Python reads the same either way."""
    q = Queue("interop", connection=r)
    jobs = [q.enqueue("echo", i) for i in range(20)]
    r.config_resetstat()
    run_burst("-q", "interop", "-c", "4", "--defer-start-ms", defer_ms,
              "--runtime-threads", threads)
    lpos = r.info("commandstats").get("cmdstat_lpos", {}).get("calls", 0)
    assert lpos == (0 if deferred else len(jobs)), lpos
    workers = set()
    for i, job in enumerate(jobs):
        job = Job.fetch(job.id, connection=r)
        assert job.get_status() == JobStatus.FINISHED
        assert job.return_value() == i
        assert job.started_at and job.ended_at and job.started_at <= job.ended_at
        assert job.worker_name
        workers.add(job.worker_name)
        result = job.latest_result()
        assert result.type == Result.Type.SUCCESSFUL
        assert r.ttl(f"rq:job:{job.id}") > 0
        assert not r.exists(f"rq:executions:{job.id}")
    assert sorted(FinishedJobRegistry(queue=q).get_job_ids()) == sorted(j.id for j in jobs)
    assert StartedJobRegistry(queue=q).get_job_ids() == []
    assert r.keys("rq:execution:*") == [] and r.llen("rq:queue:interop:intermediate") == 0
    # Each slot's count is its own jobs' number: a slot's first success increments it, the
    # later ones set the value the worker knows.
    ran = {}
    for job in jobs:
        name = Job.fetch(job.id, connection=r).worker_name
        ran[name] = ran.get(name, 0) + 1
    counts = {w: int(r.hget(f"rq:worker:{w}", "successful_job_count") or 0) for w in workers}
    assert counts == ran
    for w in workers:
        assert r.hget(f"rq:worker:{w}", "current_job") is None
        assert float(r.hget(f"rq:worker:{w}", "total_working_time")) >= 0


def test_a_slot_whose_job_start_is_not_written_yet_keeps_its_worker_alive(r, start_worker):
    """A job running with its start still deferred leaves its slot idle as far as Redis knows;
    the heartbeat refreshes that slot's worker hash like an idle one's (its job's end will not:
    a job ended with its start leaves the worker hash's TTL alone)."""
    q = Queue("interop", connection=r)
    # Shorter than the 10 s start delay (so its start is never written), long enough that the
    # status below is read while it runs on any machine (two Redis reads after the take).
    job = q.enqueue("sleep", 8)
    worker = start_worker("-q", "interop", "-n", "HB", "--defer-start-ms", "10000",
                          "--heartbeat-interval", "1")
    wait_until(lambda: r.llen("rq:queue:interop:intermediate") == 1, what="the job taken")
    assert job.get_status(refresh=True) == JobStatus.QUEUED  # start not written yet
    r.expire("rq:worker:HB", 5)
    wait_until(lambda: r.ttl("rq:worker:HB") > 400, what="the worker hash refreshed")
    assert r.hget("rq:worker:HB", "state") == b"idle"
    wait_until(lambda: job.get_status(refresh=True) == JobStatus.FINISHED, timeout=20,
               what="the job finished")
    assert int(r.hget("rq:worker:HB", "successful_job_count")) == 1
    worker.signal(signal.SIGTERM)
    assert worker.wait() == 0


def test_worker_registration(r, start_worker):
    q = Queue("interop", connection=r)
    worker = start_worker("-q", "interop,other", "-n", "REG")
    wait_until(lambda: "REG" in [w.name for w in Worker.all(connection=r)], what="registration")
    w = Worker.find_by_key("rq:worker:REG", connection=r)
    assert w.queue_names() == ["interop", "other"]
    assert w.get_state() in ("idle", "started")
    assert "REG" in [x.name for x in Worker.all(queue=q)]
    assert 0 < r.ttl("rq:worker:REG") <= 480
    worker.signal(signal.SIGTERM)
    assert worker.wait() == 0
    assert Worker.all(connection=r) == []
    assert r.hget("rq:worker:REG", "death") and 0 < r.ttl("rq:worker:REG") <= 60


def test_concurrency_runs_jobs_at_once(r, run_burst):
    q = Queue("interop", connection=r)
    # Each lasts long enough for all four to be taken at once, even on a loaded machine.
    jobs = [q.enqueue("sleep", 4) for _ in range(4)]
    run_burst("-q", "interop", "-c", "4", "-n", "CC")
    for j in jobs:
        j.refresh()
    assert all(j.get_status() == JobStatus.FINISHED for j in jobs)
    # Every pair overlapped in time, and each ran under its own worker identity.
    for a in jobs:
        for b in jobs:
            assert a.started_at < b.ended_at
    assert sorted(j.worker_name for j in jobs) == ["CC-1", "CC-2", "CC-3", "CC-4"]


def test_concurrent_busy_slots_each_report_their_job(r, start_worker):
    q = Queue("interop", connection=r)
    worker = start_worker("-q", "interop", "-c", "3", "-n", "MULTI")
    # They run until stopped below: all three are seen running however slow the machine.
    jobs = [q.enqueue("sleep", 3600, job_timeout=7200) for _ in range(3)]
    wait_until(lambda: all(j.get_status(refresh=True) == JobStatus.STARTED for j in jobs), what="3 started")
    for j in jobs:
        j.refresh()
    current = {Worker.find_by_key(f"rq:worker:{j.worker_name}", connection=r).get_current_job().id
               for j in jobs}
    assert current == {j.id for j in jobs}
    for j in jobs:
        send_stop_job_command(r, j.id)
    wait_until(lambda: all(j.get_status(refresh=True) == JobStatus.STOPPED for j in jobs), what="3 stopped")
    worker.signal(signal.SIGTERM)
    assert worker.wait() == 0


def test_burst_exits_when_empty(r, run_burst):
    proc = run_burst("-q", "interop")
    assert "all queues are empty" in proc.stderr


def test_sigterm_lets_running_job_finish(r, start_worker):
    q = Queue("interop", connection=r)
    worker = start_worker("-q", "interop", "-n", "WARM")
    # Long enough to be seen running (and signalled) on a loaded machine, well within the
    # 25 s grace period.
    job = q.enqueue("sleep", 6)
    wait_until(lambda: job.get_status(refresh=True) == JobStatus.STARTED, what="job start")
    worker.signal(signal.SIGTERM)
    assert worker.wait() == 0
    assert job.get_status(refresh=True) == JobStatus.FINISHED
    assert r.hget("rq:worker:WARM", "shutdown_requested_date")
    assert r.hget("rq:worker:WARM", "death")


def test_shutdown_timeout_fails_running_job(r, start_worker):
    q = Queue("interop", connection=r)
    worker = start_worker("-q", "interop", "-n", "COLD", "--shutdown-timeout", "1")
    job = q.enqueue("sleep", 60)
    wait_until(lambda: job.get_status(refresh=True) == JobStatus.STARTED, what="job start")
    worker.signal(signal.SIGTERM)
    assert worker.wait() == 0
    assert job.get_status(refresh=True) == JobStatus.FAILED
    assert "shut down" in job.latest_result().exc_string
    assert r.zcard("rq:wip:interop") == 0
    assert job.id in FailedJobRegistry(queue=q).get_job_ids()


def test_second_signal_cancels_at_once(r, start_worker):
    q = Queue("interop", connection=r)
    worker = start_worker("-q", "interop", "-n", "TWICE")
    job = q.enqueue("sleep", 60)
    wait_until(lambda: job.get_status(refresh=True) == JobStatus.STARTED, what="job start")
    worker.signal(signal.SIGTERM)
    wait_until(lambda: "warm shutdown" in worker.output(), what="the first signal seen")
    worker.signal(signal.SIGINT)
    assert worker.wait(timeout=20) == 0
    assert job.get_status(refresh=True) == JobStatus.FAILED
    assert r.zcard("rq:wip:interop") == 0


def test_mixed_batch_done_when(r, run_burst):
    """The issue's 'done when': a mixed batch of built-in tasks, as a Python worker would leave it."""
    default = Queue("default", connection=r)
    high = Queue("high_priority", connection=r)
    batch = {
        "echo": high.enqueue("echo", {"x": (1, b"2")}),
        "noop": default.enqueue("noop"),
        "sleep": default.enqueue("sleep", 0.1),
        "fail": default.enqueue("fail", "bad"),
        "long": default.enqueue(WRAPPER, "example_long_running", {"duration": 0}, retry_limit=3, delay=None),
        "proc": default.enqueue(WRAPPER, "example_data_processing", {"data_source": None, "processing_type": 1},
                                retry_limit=3, delay=None),
    }
    run_burst("-c", "2", "-n", "MIX")
    expect = {"echo": "finished", "noop": "finished", "sleep": "finished", "fail": "failed",
              "long": "finished", "proc": "failed"}
    for name, job in batch.items():
        job.refresh()
        assert job.get_status().value == expect[name], name
        res = job.latest_result()
        assert res.type == (Result.Type.SUCCESSFUL if expect[name] == "finished" else Result.Type.FAILED)
        registry = FinishedJobRegistry if expect[name] == "finished" else FailedJobRegistry
        assert job.id in registry(job.origin, connection=r).get_job_ids()
        assert job.worker_name in ("MIX-1", "MIX-2")
    assert batch["echo"].return_value() == {"x": (1, b"2")}
    counts = [(int(r.hget(f"rq:worker:MIX-{i}", "successful_job_count") or 0),
               int(r.hget(f"rq:worker:MIX-{i}", "failed_job_count") or 0)) for i in (1, 2)]
    assert sum(c[0] for c in counts) == 4 and sum(c[1] for c in counts) == 2
