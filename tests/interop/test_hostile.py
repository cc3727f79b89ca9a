"""Hostile and broken input (issue 9, item 3): every job ends `failed` with a clear message, nothing
is executed that should not be, memory stays bounded and the worker carries on.

Every payload here is made by Python itself (pickle, zlib, redis-py), as an attacker with write
access to Redis, or a buggy enqueuer, would make it. After each batch one good job must still run,
and the worker's peak RSS must stay far below what the payloads claim (gigabyte length fields,
zip bombs, memo bombs).
"""
import os
import pickle
import struct
import tempfile
import zlib
from pathlib import Path

import pytest
from rq import Queue
from rq.serializers import JSONSerializer

from harness import wait_until
from test_core import raw_status_and_error

QUEUE = "hostile"


class Evil:
    """Unpickling this in Python runs `touch <marker>`: the classic pickle RCE."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class EvalEvil:
    def __reduce__(self):
        return (eval, ("__import__('os').getpid()",))


def job_data(*call, protocol=pickle.HIGHEST_PROTOCOL):
    """What RQ stores in `data`: zlib(pickle((func_name, instance, args, kwargs)))."""
    return zlib.compress(pickle.dumps(call, protocol=protocol))


def nested_lists_pickle(depth):
    """A pickle of [[[...]]] `depth` deep, built with EMPTY_LIST/APPEND so it is tiny."""
    return b"\x80\x05" + b"]" * depth + b"a" * (depth - 1) + b"."


def memo_bomb():
    """Billion laughs: 10**30 list occurrences from a few hundred pickle bytes (Python memoizes)."""
    a = []
    for _ in range(30):
        a = [a] * 10
    return pickle.dumps(("echo", None, (a,), {}))


def wrap_args(arg_pickle):
    """A valid RQ call tuple `("echo", None, (<arg>,), {})` around a hand-made pickle of one
    value (its protocol header and STOP are dropped)."""
    assert arg_pickle.endswith(b".")
    body = arg_pickle[2:-1] if arg_pickle.startswith(b"\x80") else arg_pickle[:-1]
    return b"\x80\x05(\x8c\x04echoN" + body + b"\x85}t."


# (name, how the hash is broken, text expected in the failure). `data` bytes replace the job's
# `data` field; a dict sets other fields; None deletes `data`.
def payloads(marker):
    huge = [
        # BINUNICODE8 / BINBYTES8 / BYTEARRAY8 claiming 2**62 bytes.
        ("unicode8-exabytes", b"\x80\x05\x8d" + struct.pack("<Q", 2**62) + b"x", "byte"),
        ("bytes8-exabytes", b"\x80\x05\x8e" + struct.pack("<Q", 2**62) + b"x", "byte"),
        ("bytearray8-exabytes", b"\x80\x05\x96" + struct.pack("<Q", 2**62) + b"x", "byte"),
        # BINUNICODE / BINBYTES claiming 4 GiB, LONG4 claiming 2 GiB of digits.
        ("unicode-4gib", b"\x80\x04X\xff\xff\xff\xffabc", "byte"),
        ("bytes-4gib", b"\x80\x04B\xff\xff\xff\xffabc", "byte"),
        ("long4-2gib", b"\x80\x04\x8b\xff\xff\xff\x7f\x01", "byte"),
        # FRAME claiming an exabyte.
        ("frame-exabytes", b"\x80\x04\x95" + struct.pack("<Q", 2**62) + b"N.", "byte"),
    ]
    cases = [
        ("not-zlib", b"\x78\x9c not zlib at all", "DeserializationError"),
        ("empty-data", b"", "DeserializationError"),
        ("zlib-truncated", job_data("echo", None, (1,), {})[:-6], "DeserializationError"),
        ("zlib-of-garbage", zlib.compress(b"\x00\x01\x02 garbage \xff"), "DeserializationError"),
        ("pickle-truncated", zlib.compress(pickle.dumps(("echo", None, (1, 2, 3), {}))[:-3]),
         "DeserializationError"),
        ("pickle-not-a-tuple", zlib.compress(pickle.dumps({"func": "echo"})), "DeserializationError"),
        ("pickle-tuple-of-two", zlib.compress(pickle.dumps(("echo", None))), "DeserializationError"),
        ("func-name-not-str", zlib.compress(pickle.dumps((42, None, (), {}))), "DeserializationError"),
        ("json-in-pickle-queue", zlib.compress(b'["echo", null, [1], {}]'), "DeserializationError"),
        ("deeply-nested-list", zlib.compress(wrap_args(nested_lists_pickle(100_000))), "depth"),
        ("deeply-nested-mark", zlib.compress(b"\x80\x02" + b"(" * 100_000 + b"."), "DeserializationError"),
        ("memo-bomb", zlib.compress(memo_bomb()), "DeserializationError"),
        ("zip-bomb-256mib", zlib.compress(b"\x80\x05" + b"\x00" * (256 << 20), 9), "limit"),
        # Code execution on load, in every form pickle has: GLOBAL+REDUCE (protocol 2),
        # STACK_GLOBAL+REDUCE (protocol 5), INST and OBJ (protocol 0/1), builtins.eval, getattr.
        ("global-reduce-os-system", job_data("echo", None, (Evil(marker),), {}, protocol=2),
         "refused"),
        ("stack-global-reduce-os-system", job_data("echo", None, (Evil(marker),), {}, protocol=5),
         "refused"),
        ("global-eval", job_data("echo", None, (EvalEvil(),), {}, protocol=2), "refused"),
        ("inst-os-system",
         zlib.compress(wrap_args(b"(S'touch " + marker.encode() + b"'\nios\nsystem\n.")), "refused"),
        ("obj-os-system",
         zlib.compress(wrap_args(b"(cos\nsystem\nS'touch " + marker.encode() + b"'\no.")), "refused"),
        ("builtins-getattr",
         zlib.compress(wrap_args(b"\x80\x04\x8c\x08builtins\x8c\x07getattr\x93N\x8c\x01x\x86R.")),
         "refused"),
        ("class-instance", job_data("echo", None, (Path("/etc/passwd"),), {}), "refused"),
    ]
    # These fail at the length field itself, so they need no surrounding call tuple.
    cases += [(name, zlib.compress(p), why) for name, p, why in huge]
    fields = [
        ("missing-data", None, "data"),
        ("timeout-abc", {"timeout": "abc"}, "'timeout'"),
        ("result-ttl-invalid-utf8", {"result_ttl": b"\xff\xfe"}, "'result_ttl'"),
        ("failure-ttl-float", {"failure_ttl": "1.5e3x"}, "'failure_ttl'"),
        ("retries-left-text", {"retries_left": "many"}, "'retries_left'"),
        ("retry-intervals-not-json", {"retries_left": "2", "retry_intervals": "[1, oops"},
         "'retry_intervals'"),
        ("created-at-garbage", {"created_at": b"\x00\xffnot a date"}, None),
        ("description-invalid-utf8", {"description": b"\xc3\x28\xa0\xa1"}, None),
        ("meta-not-pickle", {"meta": b"\x80\x05garbage"}, None),
        ("status-garbage", {"status": b"\xff\xff"}, None),
    ]
    return cases, fields


def peak_rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.fixture
def marker():
    d = tempfile.mkdtemp(prefix="tw-hostile-")
    path = os.path.join(d, "pwned")
    yield path
    assert not os.path.exists(path), "a pickle ran code inside the worker"


def test_hostile_payloads_fail_clearly(r, start_worker, marker):
    q = Queue(QUEUE, connection=r)
    cases, fields = payloads(marker)
    jobs = []
    for name, data, want in cases:
        job = q.enqueue("echo", "placeholder", description=name)
        r.hset(job.key, "data", data)
        jobs.append((name, job, want, "failed"))
    for name, change, want in fields:
        job = q.enqueue("echo", name, description=name)
        if change is None:
            r.hdel(job.key, "data")
        else:
            r.hset(job.key, mapping=change)
        # A field RQ reads leniently (or not at all) must not fail the job; Python RQ
        # itself runs those (meta falls back to {'unserialized': ...}, §3).
        jobs.append((name, job, want, "failed" if want else "finished"))
    good = q.enqueue("echo", "still alive")

    worker = start_worker("-q", QUEUE, "-c", "4")
    wait_until(lambda: good.get_status(refresh=True) == "finished", timeout=60, what="good job")
    for name, job, want, status in jobs:
        wait_until(lambda: r.hget(job.key, "status") in (b"finished", b"failed"),
                   timeout=30, what=name)
        got, exc = raw_status_and_error(r, job.id)
        assert got == status, f"{name}: {got} ({exc})"
        if status == "failed":
            assert exc and want.lower() in exc.lower(), f"{name}: {exc!r} lacks {want!r}"
            # One readable line leads the message, not a panic or a Rust debug dump.
            assert "panicked" not in exc and "RUST_BACKTRACE" not in exc, f"{name}: {exc}"
    # Nothing decoded what the length fields claimed: the worker stayed small.
    assert peak_rss_kib(worker.proc.pid) < 128 * 1024, "peak RSS over 128 MiB"
    assert worker.proc.poll() is None, "worker exited"
    assert r.llen(f"rq:queue:{QUEUE}") == 0
    assert r.llen(f"rq:queue:{QUEUE}:intermediate") == 0


def test_hostile_json_payloads(r, start_worker):
    q = Queue("hostile-json", connection=r, serializer=JSONSerializer)
    cases = [
        ("json-deep", zlib.compress(b'["echo", null, [' + b"[" * 100_000 + b"]" * 100_000 + b'], {}]'),
         "depth"),
        ("json-truncated", zlib.compress(b'["echo", null, [1, 2'), "DeserializationError"),
        ("json-not-utf8", zlib.compress(b'["echo", null, ["\xff\xfe"], {}]'), "DeserializationError"),
        ("json-pickle-bytes", job_data("echo", None, (1,), {}), "DeserializationError"),
        ("json-huge-int", zlib.compress(b'["echo", null, [' + b"9" * 100_000 + b'], {}]'),
         "DeserializationError"),
    ]
    jobs = []
    for name, data, want in cases:
        job = q.enqueue("echo", 1, description=name)
        r.hset(job.key, "data", data)
        jobs.append((name, job, want))
    good = q.enqueue("echo", "json alive")
    start_worker("-q", "hostile-json", "--serializer", "json")
    wait_until(lambda: good.get_status(refresh=True) == "finished", timeout=60, what="good job")
    for name, job, want in jobs:
        got, exc = raw_status_and_error(r, job.id)
        assert got == "failed", f"{name}: {got}"
        assert want.lower() in exc.lower(), f"{name}: {exc!r}"


def test_broken_keys_do_not_stop_the_worker(r, start_worker):
    """Ids whose key is not a hash, ids that are not UTF-8, and ids with no hash at all."""
    q = Queue("broken-keys", connection=r)
    r.set("rq:job:string-typed", "I am not a hash")
    r.rpush("rq:queue:broken-keys", "string-typed")
    r.rpush("rq:queue:broken-keys", "no-hash-at-all")
    bad_id = b"\xff\xfe-not-utf8"
    r.hset(b"rq:job:" + bad_id, mapping={"data": job_data("echo", None, (1,), {}),
                                         "status": "queued", "origin": "broken-keys",
                                         "created_at": "2026-01-01T00:00:00.000000Z"})
    r.rpush("rq:queue:broken-keys", bad_id)
    good = q.enqueue("echo", "after broken keys")
    worker = start_worker("-q", "broken-keys")
    wait_until(lambda: good.get_status(refresh=True) == "finished", timeout=30, what="good job")
    assert good.return_value() == "after broken keys"
    # The string key is left as it was (it is not ours to delete); the id is parked in the failed
    # registry so an operator sees it, and nothing stays in the intermediate list.
    assert r.get("rq:job:string-typed") == b"I am not a hash"
    wait_until(lambda: r.llen("rq:queue:broken-keys:intermediate") == 0, what="intermediate empty")
    assert r.llen("rq:queue:broken-keys") == 0
    # Each unreadable id ends with a failed result saying why (rq:results:<id>, read raw).
    exc = latest_exc(r, b"string-typed")
    assert "InvalidJobHash" in exc and "WRONGTYPE" in exc, exc
    assert r.hget(b"rq:job:" + bad_id, "status") == b"failed"
    assert "not valid UTF-8" in latest_exc(r, bad_id)
    # Python RQ's own readers are not broken by them (they are kept out of the registries).
    assert q.failed_job_registry.get_job_ids() == []
    assert q.finished_job_registry.get_job_ids() == [good.id]
    assert worker.proc.poll() is None


def latest_exc(r, raw_id):
    import base64
    entries = r.xrevrange(b"rq:results:" + raw_id, count=1)
    assert entries, raw_id
    return zlib.decompress(base64.b64decode(entries[0][1][b"exc_string"])).decode()
