"""Differential test of Python jobs (issue 28 item 6; docs/python-jobs.md §4-§5).

The same enqueue script (same job ids, same arguments) fills two fresh private Redis servers;
RQ's own worker runs the jobs on one, task-worker (`--python`) on the other, both in burst mode:

    rq.Worker        (a fork per job)  against  task-worker --python-mode fork
    rq.SimpleWorker  (jobs in-process) against  task-worker --python-mode reuse

Then *every key* of both servers (found by SCAN, not only the keys we expect) is compared:
its type, whether it expires and roughly when, and its whole value, field by field: the job
hashes, the result streams (`rq:results:<id>`), every registry (started, finished, failed,
deferred, scheduled, canceled), the queues, the worker's own hash, the executions of the RQ
version, and what the jobs wrote themselves. Only what must differ between two runs is
normalised (`normalise_*` below, each with its reason), and where task-worker differs from RQ
by design (docs/python-jobs.md §5) the difference is encoded in `expected_*` as an explicit
expectation, never dropped silently.

A pickle run (queue `diff`) and a JSON-serializer run (queue `diffjson`, a subset of the jobs)
go through each pair. The test runs with every venv's RQ (2.0, 2.12, 3.0; scripts/test).
"""
from __future__ import annotations

import base64
import math
import pickle
import re
import subprocess
import sys
import time
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import rq
from rq import Queue, Retry
from rq.serializers import DefaultSerializer, JSONSerializer

from harness import WORKER, wait_until
from harness.servers import RedisServer
from pyjobs import diffjobs as dj

HERE = Path(__file__).resolve().parent
RQ_VERSION = tuple(int(p) for p in rq.__version__.split(".")[:2])
# The same names on both sides: the worker's name is in the job hashes, the results and its
# own keys, and being the same it needs no normalising.
NAMES = {"pickle": "diff-pickle", "json": "diff-json"}
QUEUES = {"pickle": "diff", "json": "diffjson"}
PAIRS = {"fork": "Worker", "reuse": "SimpleWorker"}


# --- the jobs ---------------------------------------------------------------------------------

def enqueue_all(conn, mode):
    """The enqueue script, run on both servers of a pair. Returns nothing: the job ids are
    fixed, and everything is read back from Redis."""
    q = Queue(QUEUES["pickle"], connection=conn)
    enq = q.enqueue
    for kind in dj.VALUES:
        enq(dj.returns, kind, job_id=f"ret-{kind}")
    enq(dj.record, "a", job_id="order-a")
    enq(dj.echo, dj.Point(3, 4), job_id="arg-point")
    enq(dj.kwargs, 1, c=30, job_id="kwargs")
    enq(dj.Point(3, 4).norm2, job_id="method-instance")
    enq(dj.Point(1, 1).moved, 2, dy=5, job_id="method-instance-args")
    enq(dj.Point.origin, job_id="method-class")
    enq(dj.Point.double, 21, job_id="method-static")
    enq(len, [1, 2, 3], job_id="builtin-len")
    enq("pyjobs.diffjobs.kwargs", 7, job_id="by-name")
    enq(dj.fail_builtin, "boom", job_id="fail-builtin")
    enq(dj.fail_custom, job_id="fail-custom")
    enq(dj.fail_chained, job_id="fail-chained")
    enq("pyjobs.diffjobs.no_such_function", job_id="fail-unknown-function")
    enq(dj.use_meta, meta={"given": 21}, job_id="meta")
    enq(dj.own_view, meta={"m": 1}, job_id="own-view")
    # Runs while the test reads both servers mid-run (started registry, executions, the
    # worker's current job).
    enq(dj.block, job_id="blocker")
    enq(dj.socket_timeout, job_id="socket-timeout")
    enq(dj.returns, "int", result_ttl=0, job_id="ttl-result-0")
    enq(dj.returns, "int", result_ttl=-1, job_id="ttl-result-forever")
    enq(dj.returns, "int", result_ttl=1000, job_id="ttl-result-1000")
    enq(dj.returns, "dict", ttl=5000, job_id="ttl-job-5000")
    enq(dj.fail_builtin, "ttl", failure_ttl=300, job_id="ttl-failure-300")
    enq(dj.returns, "str", description="a custom description", job_id="description")
    parent_ok = enq(dj.returns, "int", job_id="parent-ok")
    enq(dj.returns, "str", depends_on=parent_ok, job_id="child-of-ok")
    parent_fail = enq(dj.fail_builtin, "parent", job_id="parent-fail")
    enq(dj.returns, "str", depends_on=parent_fail, job_id="child-of-failed")
    enq(dj.fail_counting, retry=Retry(max=2), job_id="retry-2")
    enq(dj.sleep, 30, job_timeout=1, job_id="timeout")
    if mode == "fork":
        # RQ's SimpleWorker runs the job in its own process: the job would end the reference
        # worker itself. Only the fork pair runs it.
        enq(dj.die, 3, job_id="exits-process")
    enq(dj.record, "b", job_id="order-b")
    enq(dj.record, "front", at_front=True, job_id="order-front")
    q.enqueue_in(timedelta(hours=1), dj.returns, "int", job_id="scheduled")
    enq(dj.returns, "int", job_id="canceled").cancel()

    j = Queue(QUEUES["json"], connection=conn, serializer=JSONSerializer)
    for kind in ["int", "float", "str", "none", "dict", "list", "bool"]:
        j.enqueue(dj.returns, kind, job_id=f"json-ret-{kind}")
    # A value JSON cannot hold: RQ stores its `Unserializable return value` text.
    j.enqueue(dj.returns, "datetime", job_id="json-unserializable")
    j.enqueue(dj.kwargs, 1, c=30, job_id="json-kwargs")
    j.enqueue(len, [1, 2, 3], job_id="json-builtin-len")
    j.enqueue(dj.fail_builtin, "boom", job_id="json-fail")
    j.enqueue(dj.use_meta, meta={"given": 4}, job_id="json-meta")
    parent = j.enqueue(dj.returns, "int", job_id="json-parent")
    j.enqueue(dj.returns, "str", depends_on=parent, job_id="json-child")


def start_rq(server, cls, serializer):
    """RQ's own worker, burst mode, in a process of its own (diffrun.py)."""
    return subprocess.Popen(
        [sys.executable, str(HERE / "diffrun.py"), server.url, cls, QUEUES[serializer],
         NAMES[serializer], serializer],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=HERE)


def start_task_worker(server, mode, serializer):
    return subprocess.Popen(
        [str(WORKER), "--redis-url", server.url, "--burst", "-q", QUEUES[serializer],
         "-n", NAMES[serializer], "-S", serializer, "--python", sys.executable,
         "--python-path", str(HERE), "--python-mode", mode],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_all(procs):
    for who, proc in procs:
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"{who} exited {proc.returncode}:\n{out[-4000:]}"


def blocker_runs(conn):
    """The job `blocker` runs and its start is written (task-worker writes a start up to
    --defer-start-ms after the job began)."""
    return conn.lrange("diff:inside", 0, -1) == [b"blocker"] and \
        conn.hget("rq:job:blocker", "status") == b"started"
# --- reading a server -------------------------------------------------------------------------
#
# A server is read into a flat dict {(key, part...): value}: every key's type and TTL class, and
# its value split into fields. Then RQ's side goes through `expected_of_task_worker` (the
# documented differences) and the two dicts must be equal.

ISO_TIME = re.compile(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")
EPOCH = re.compile(rb"^\d{10}(\.\d{1,6})?$")
HEX32 = re.compile(rb"^[0-9a-f]{32}$")
# An execution id (uuid4().hex, a new one in every run) inside a key or a registry member
# (`rq:execution:<job>:<id>`, `<job>:<id>` in `rq:wip:<q>`).
EXECUTION_ID = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")
# The job hash fields that hold a wall-clock time.
JOB_TIMES = ("created_at", "enqueued_at", "started_at", "ended_at", "last_heartbeat")
WORKER_TIMES = ("birth", "death", "last_heartbeat")


class Rough:
    """A time to live as it was set: a key's TTL, or a registry score (a timestamp: when the
    member expires), counted from the event that set it (the end of the job the key belongs
    to, the worker's death or last heartbeat, else the moment the server was read: see
    `anchor`). Two runs set them at other moments, and a TTL counts in whole seconds: equal
    within 10 s and 2 %. That tells apart the classes RQ uses (60 s for a dead worker, 90 s of
    a job's heartbeat, 150 s of its execution index, 500 s for results, a year for failures,
    the `result_ttl`, `failure_ttl` and `ttl` given to the jobs here); it is a class, not a
    duration under test, and being counted from each side's own events it does not depend on
    how fast either side runs."""

    def __init__(self, seconds):
        self.seconds = seconds

    def __eq__(self, other):
        return isinstance(other, Rough) and \
            abs(self.seconds - other.seconds) <= 10 + 0.02 * max(abs(self.seconds), abs(other.seconds))

    def __repr__(self):
        return f"~{self.seconds:.0f}s"


# The job a key belongs to: `rq:job:<id>`, `rq:job:<id>:dependents`, `rq:job::<id>:dependencies`,
# `rq:results:<id>`, `rq:executions:<id>`, `rq:execution:<id>:<execution>`; and a registry
# member `<id>` or `<id>:<execution>`.
JOB_KEY = re.compile(r"^rq:(?:job::?|results:|executions?:)([^:]+)")


def anchor(events, key, member=None):
    """When the TTL (or score) of `key` (of `member`, in a registry) was set, as a unix time:
    the end of its job (or the job's last heartbeat while it runs), the death (or last
    heartbeat) of its worker; None when no event says (those TTLs are set at enqueue time,
    moments apart on the two servers)."""
    job = None
    if member is not None and key.startswith(("rq:finished:", "rq:failed:", "rq:wip:", "rq:executions:")):
        job = member.split(":")[0] if not key.startswith("rq:executions:") else key.split(":")[2]
    elif member is None:
        m = JOB_KEY.match(key)
        job = m.group(1) if m else None
        if key.startswith("rq:worker:"):
            worker = events["workers"].get(key.split(":")[2], {})
            return worker.get("death") or worker.get("last_heartbeat")
    if job is None:
        return None
    t = events["jobs"].get(job, {})
    return t.get("ended_at") or t.get("last_heartbeat")


def ttl_class(ttl, now, at):
    # -1: no expiry (kept exactly); a positive TTL: as it was set, roughly.
    return ttl if ttl < 0 else Rough(ttl + now - (at or now))


def score_class(score, now, at):
    # Registry scores are timestamps (when a member expires from the registry: the time it was
    # set + a TTL, `inf` for never) or small numbers; a timestamp is kept as that TTL, roughly.
    if math.isinf(score) or abs(score) < 1e9:
        return score
    return Rough(score - (at or now))


def time_value(raw):
    """A wall-clock value: only its format can be compared (`<iso>` with the number of digits
    of its fraction: RQ writes microseconds, `utcformat`)."""
    m = ISO_TIME.match(raw)
    return f"<iso{len(m.group(1) or b'') - 1 if m.group(1) else 0}>" if m else raw


def exc_text(raw):
    """A result's `exc_string` is base64(zlib(text)) (`Result.serialize`, every version): the
    text is what RQ reads back (`Result.restore`); the compressed bytes depend on the zlib
    implementation, not on RQ's semantics."""
    try:
        return zlib.decompress(base64.b64decode(raw)).decode()
    except (ValueError, zlib.error):
        return ("<not base64(zlib)>", raw)


def normalise_job(fields):
    out = {}
    for name, raw in fields.items():
        name = name.decode()
        if name in JOB_TIMES:
            # Wall-clock times of the run: present or empty and their format here; their order
            # is compared in `job_time_relations`.
            out[name] = time_value(raw)
        elif name == "exc_info" and raw:
            # RQ's zlib of the text (older versions' hash field), read as text.
            out[name] = zlib.decompress(raw).decode()
        else:
            out[name] = raw
    return out


def normalise_result(fields):
    out = {}
    for name, raw in fields.items():
        name = name.decode()
        if name in ("execution_started_at", "execution_ended_at"):
            # Wall-clock times (seconds since the epoch): their format only.
            out[name] = "<epoch>" if EPOCH.match(raw) else raw
        elif name == "created_at":
            out[name] = time_value(raw)
        elif name == "execution_id":
            # A random id per execution (uuid4().hex), different in every run.
            out[name] = "<hex32>" if HEX32.match(raw) else raw
        elif name == "exc_string":
            out[name] = exc_text(raw)
        else:
            out[name] = raw
    return out


def normalise_worker(fields):
    out = {}
    for name, raw in fields.items():
        name = name.decode()
        if name in WORKER_TIMES:
            out[name] = time_value(raw)
        elif name == "pid":
            # Another process in every run.
            out[name] = "<pid>" if raw.isdigit() else raw
        elif name == "ip_address":
            # The worker's connection as Redis sees it (CLIENT LIST): the local port differs.
            out[name] = re.sub(rb":\d+$", b":<port>", raw)
        elif name in ("total_working_time", "current_job_working_time"):
            # Sums of measured durations.
            try:
                out[name] = "<seconds>" if float(raw) >= 0 else raw
            except ValueError:
                out[name] = raw
        else:
            out[name] = raw
    return out


def normalise_execution(fields):
    out = {}
    for name, raw in fields.items():
        name = name.decode()
        if name in ("created_at", "last_heartbeat"):
            # Wall-clock times (seconds since the epoch): their format only.
            out[name] = "<epoch>" if EPOCH.match(raw) else raw
        elif name == "id":
            out[name] = "<hex32>" if HEX32.match(raw) else raw
        else:
            out[name] = raw
    return out


def read_server(conn):
    """Every key of the server (SCAN), flattened and normalised; and the raw job times."""
    keys = sorted(k.decode() for k in conn.scan_iter(count=1000))
    flat, times, events = {}, {}, {"jobs": {}, "workers": {}}
    # First the events the TTLs count from (see `anchor`).
    for key in keys:
        if key.startswith(("rq:job:", "rq:worker:")) and key.count(":") == 2 \
                and conn.type(key) == b"hash":
            raw = conn.hgetall(key)
            parsed = {f.decode(): parse_time(v) for f, v in raw.items()}
            unix = {f: t.replace(tzinfo=timezone.utc).timestamp() for f, t in parsed.items() if t}
            if key.startswith("rq:job:"):
                events["jobs"][key[len("rq:job:"):]] = unix
                times[key[len("rq:job:"):]] = {
                    **{f: t for f, t in parsed.items() if f in JOB_TIMES}, "origin": raw.get(b"origin")}
            else:
                events["workers"][key[len("rq:worker:"):]] = unix
    for real_key in keys:
        key = EXECUTION_ID.sub("<eid>", real_key)
        kind = conn.type(real_key).decode()
        flat[(key, "<type>")] = kind
        ttl = conn.ttl(real_key)
        flat[(key, "<ttl>")] = ttl_class(ttl, time.time(), anchor(events, real_key))
        if kind == "string":
            flat[(key,)] = conn.get(real_key)
        elif kind == "list":
            flat[(key,)] = conn.lrange(real_key, 0, -1)
        elif kind == "set":
            flat[(key,)] = sorted(EXECUTION_ID.sub("<eid>", m.decode()) for m in conn.smembers(real_key))
        elif kind == "zset":
            # By member: equal scores (whole seconds) order their members by name, which two
            # runs need not share.
            for member, score in conn.zrange(real_key, 0, -1, withscores=True):
                member = member.decode()
                flat[(key, EXECUTION_ID.sub("<eid>", member))] = score_class(
                    score, time.time(), anchor(events, real_key, member))
        elif kind == "hash":
            fields = conn.hgetall(real_key)
            if key.startswith("rq:job:"):
                fields = normalise_job(fields)
            elif key.startswith("rq:worker:"):
                fields = normalise_worker(fields)
            elif key.startswith("rq:execution:"):
                fields = normalise_execution(fields)
            else:
                fields = {f.decode(): v for f, v in fields.items()}
            for name, value in fields.items():
                flat[(key, name)] = value
        elif kind == "stream":
            entries = conn.xrange(real_key)
            # Entry ids are millisecond timestamps: only how many entries.
            flat[(key, "<entries>")] = len(entries)
            for i, (_, fields) in enumerate(entries):
                for name, value in normalise_result(fields).items():
                    flat[(key, i, name)] = value
        else:
            flat[(key,)] = f"<{kind}>"
    return flat, times


def parse_time(raw):
    if not ISO_TIME.match(raw):
        return None
    text = raw.decode().rstrip("Z")
    return datetime.fromisoformat(text if "." in text else text + ".0")


# Relations between the times of a job that hold in every run of the same jobs.
RELATIONS = [("created_at", "enqueued_at"), ("enqueued_at", "started_at"),
             ("started_at", "ended_at"), ("started_at", "last_heartbeat")]


def time_relations(times):
    """For each job, whether each relation holds (where both times are there); and per queue,
    the order in which its jobs started (one job at a time on both sides: dequeue order,
    `at_front`, dependents enqueued after their parent, retries put back)."""
    relations, started = {}, {}
    for job, t in times.items():
        for a, b in RELATIONS:
            if t.get(a) and t.get(b):
                relations[(job, f"{a} <= {b}")] = t[a] <= t[b]
        if t.get("started_at"):
            started.setdefault(t["origin"], []).append((t["started_at"], job))
    return relations, {q: [job for _, job in sorted(jobs)] for q, jobs in started.items()}


# --- what differs by design (docs/python-jobs.md §5) --------------------------------------------

WORKER_FRAME = re.compile(r'  File "[^"]*", line \d+, in perform_job\n(    .*\n)*')


class Matches:
    """An expected value that task-worker writes in its own form: equal to bytes matching."""

    def __init__(self, pattern):
        self.pattern = re.compile(pattern)

    def __eq__(self, other):
        return isinstance(other, bytes) and bool(self.pattern.fullmatch(other))

    def __repr__(self):
        return f"<matching {self.pattern.pattern!r}>"


def expected_of_task_worker(flat, mode):
    """RQ's side as task-worker must write it: RQ's, changed only where task-worker differs by
    design (docs/python-jobs.md §5, which points to the worker-wide differences in
    docs/rq-protocol.md and the README)."""
    out = dict(flat)
    for path, value in flat.items():
        key, field = path[0], path[-1]
        if path[-1] in ("exc_string", "exc_info") and isinstance(value, str):
            # §5: the traceback has no frame of RQ's worker (`perform_job`); it starts at
            # `job.perform`, the rest byte for byte RQ's.
            out[path] = WORKER_FRAME.sub("", value)
        elif key.startswith("rq:worker:") and field == "version":
            # README "What differs", rq-protocol.md §6.1: the worker hash's `version` is the RQ
            # layout task-worker writes (2.12.0) whatever the readers' version.
            out[path] = b"2.12.0"
        elif key.startswith("rq:worker:") and field == "python_version":
            # Same place: `python_version` names task-worker, not a Python.
            out[path] = Matches(rb"task-worker \S+ \(Rust\)")
        elif key.startswith("rq:results:") and field == "type":
            # rq-protocol.md §0 and §10: task-worker writes RQ 2.12's layout, whose result
            # entries also say which worker (RQ 2.5) and which execution (RQ 2.8) it was; older
            # readers ignore the fields.
            entry = path[:2]
            serializer = "json" if key.startswith("rq:results:json-") else "pickle"
            if RQ_VERSION < (2, 5):
                out[(*entry, "worker_name")] = NAMES[serializer].encode()
            if RQ_VERSION < (2, 8):
                out[(*entry, "execution_id")] = "<hex32>"
                out[(*entry, "execution_started_at")] = "<epoch>"
                out[(*entry, "execution_ended_at")] = "<epoch>"
        elif key.startswith("rq:execution:") and field == "<type>":
            # rq-protocol.md §0, §6.4: an execution hash has RQ 2.12's `worker_name` (RQ 2.0's
            # has not) and RQ 3.0's `job_id`, whatever the readers' version.
            job = key.split(":")[2]
            if RQ_VERSION < (2, 12):
                out[(key, "worker_name")] = flat[(f"rq:job:{job}", "worker_name")]
            if RQ_VERSION < (3, 0):
                out[(key, "job_id")] = job.encode()
        elif key == "rq:clean_groups":
            # rq-protocol.md §0: RQ 3.0's group maintenance (this is its lock) is out of scope.
            del out[path]
        elif key == "rq:job:exits-process" and field in ("worker_name", "last_heartbeat") \
                and flat[(key, "status")] == b"failed":
            # §5: when the job's process dies, RQ's forking Worker writes the job from the
            # parent's copy, which never saw the start made in the work horse: `worker_name`
            # and `last_heartbeat` end up empty. task-worker keeps the worker's name and the
            # last heartbeat it wrote.
            out[path] = NAMES["pickle"].encode() if field == "worker_name" else "<iso6>"
    running = [p[0][len("rq:job:"):] for p, v in flat.items()
               if p[0].startswith("rq:job:") and p[1:] == ("status",) and v == b"started"]
    if mode == "reuse":
        for job in running:
            # §5: RQ's SimpleWorker cannot heartbeat while its job runs, so it gives the
            # running job's keys the whole timeout (`timeout + 60` instead of the forking
            # Worker's `min(timeout, 30) + 60`); task-worker's engine heartbeats every job in
            # both modes, so its keys have the forking Worker's TTLs.
            timeout = int(flat[(f"rq:job:{job}", "timeout")])
            shift = (timeout + 60) - (min(timeout, 30) + 60)
            for path, value in flat.items():
                if isinstance(value, Rough) and (
                        path[0].startswith((f"rq:execution:{job}:", f"rq:executions:{job}"))
                        or path[0].startswith("rq:wip:") and path[1].startswith(f"{job}:")
                        or path[0].startswith("rq:worker:") and path[1] == "<ttl>"):
                    out[path] = Rough(value.seconds - shift)
    if RQ_VERSION < (3, 0):
        for name in NAMES.values():
            job = flat.get((f"rq:worker:{name}", "current_job"))
            if job:
                # rq-protocol.md §0, §11: task-worker also writes RQ 3.0's set of the worker's
                # executions (`<job>:<execution>`), expiring with the worker hash.
                executions = f"rq:worker:{name}:executions"
                out[(executions, "<type>")] = "set"
                out[(executions, "<ttl>")] = out[(f"rq:worker:{name}", "<ttl>")]
                out[(executions,)] = [f"{job.decode()}:<eid>"]
    if RQ_VERSION >= (3, 0):
        for name in NAMES.values():
            if (f"rq:worker:{name}", "<type>") in flat:
                # rq-protocol.md §6.1 (RQ 2.12's layout): RQ 3.0 dropped the worker hash's
                # `current_job_working_time`; task-worker still writes it (2.x readers use it).
                out[(f"rq:worker:{name}", "current_job_working_time")] = "<seconds>"
                # Same: RQ 3.0 dropped the worker hash's `current_job` (it has the worker's
                # executions set instead, which task-worker writes too); task-worker still
                # names the running job there.
                executions = f"rq:worker:{name}:executions"
                if flat.get((executions, "<type>")) == "set":
                    for member in flat[(executions,)]:
                        out[(f"rq:worker:{name}", "current_job")] = member.split(":")[0].encode()
    return out


def documented(flat):
    """Applied to both sides: the parts §5 says are not RQ's."""
    out = dict(flat)
    for path, value in flat.items():
        if path[0].endswith(":timeout") and path[-1] in ("exc_string", "exc_info") \
                and isinstance(value, str):
            # §5: a timeout kills the process; the text is the worker's JobTimeoutException
            # with a short traceback, not one through the job's frames: the last line is RQ's.
            out[path] = ("<last line>", value.rstrip("\n").splitlines()[-1])
    return out


def differences(theirs, ours):
    lines = []
    for path in sorted(set(theirs) | set(ours), key=repr):
        a, b = theirs.get(path, "<absent>"), ours.get(path, "<absent>")
        if a != b:
            lines.append(f"{path!r}:\n    RQ:          {a!r}\n    task-worker: {b!r}")
    return lines


@pytest.fixture(scope="module")
def servers():
    pair = RedisServer(), RedisServer()
    yield pair
    for s in pair:
        s.stop()


@pytest.mark.parametrize("mode", list(PAIRS))
def test_task_worker_writes_what_rqs_worker_writes(servers, mode):
    theirs, ours = servers
    for server in servers:
        server.client().flushall()
        enqueue_all(server.client(), mode)
    procs = [("RQ (pickle)", start_rq(theirs, PAIRS[mode], "pickle")),
             ("task-worker (pickle)", start_task_worker(ours, mode, "pickle"))]
    try:
        # Mid-run: both workers are in the job `blocker`, the jobs before it are done, those
        # after it wait in the queue.
        for server in servers:
            wait_until(lambda: blocker_runs(server.client()), timeout=120, what="the job `blocker`")
        (rq_mid, _), (tw_mid, _) = read_server(theirs.client()), read_server(ours.client())
        for server in servers:
            server.client().rpush("diff:release", 1)
        # The JSON serializer's jobs: a worker with `-S json` / `serializer=JSONSerializer` on
        # each server, alongside the pickle queue's (the queues share no job).
        procs += [("RQ (json)", start_rq(theirs, PAIRS[mode], "json")),
                  ("task-worker (json)", start_task_worker(ours, mode, "json"))]
        wait_all(procs)
    finally:
        for _, proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    (rq_flat, rq_times), (tw_flat, tw_times) = read_server(theirs.client()), read_server(ours.client())
    diff = [f"while the job `blocker` runs: {d}" for d in differences(
        documented(expected_of_task_worker(rq_mid, mode)), documented(tw_mid))]
    diff += [f"at the end: {d}" for d in differences(
        documented(expected_of_task_worker(rq_flat, mode)), documented(tw_flat))]
    assert not diff, f"{len(diff)} differences:\n" + "\n".join(diff)
    rq_relations, rq_order = time_relations(rq_times)
    tw_relations, tw_order = time_relations(tw_times)
    if mode == "fork":
        # RQ leaves `last_heartbeat` empty where the job's process died (see
        # expected_of_task_worker); task-worker's heartbeat follows the start.
        assert ("exits-process", "started_at <= last_heartbeat") not in rq_relations
        rq_relations[("exits-process", "started_at <= last_heartbeat")] = True
    assert differences(rq_relations, tw_relations) == []
    assert tw_order == rq_order
    # What the comparison stands on: the jobs ran, on both sides, as the script meant.
    assert rq_order[b"diff"][0] == "order-front"
    assert rq_mid[("rq:job:blocker", "status")] == b"started"
    assert rq_mid[("rq:job:timeout", "status")] == b"queued"
    assert rq_flat[("diff:order",)] == [b"front", b"a", b"b"]
    assert rq_flat[("diff:runs:retry-2",)] == b"3"
    assert rq_flat[("rq:job:child-of-failed", "status")] == b"deferred"
    assert rq_flat[("rq:job:child-of-ok", "status")] == b"finished"
    assert ("rq:job:ttl-result-0", "<type>") not in rq_flat
    assert rq_flat[("rq:results:timeout", 0, "exc_string")].endswith(
        "JobTimeoutException: Task exceeded maximum timeout value (1 seconds)\n")
    # The job's own view of itself is RQ's in-memory job, as `prepare_for_execution` left it,
    # on both sides (task-worker's start may not be in Redis yet when the job runs).
    own_view = pickle.loads(base64.b64decode(rq_flat[("rq:results:own-view", 0, "return_value")]))
    assert own_view == {
        "status": "started", "worker_name": NAMES["pickle"], "origin": "diff",
        "description": "pyjobs.diffjobs.own_view()", "started_at": True, "last_heartbeat": True,
        "enqueued_at": True, "meta": {"m": 1}}
