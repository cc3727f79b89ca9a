# task-worker's Python runner (docs/python-jobs.md), embedded in the binary and run as
# `python -c`. One long-lived process ("reuse" mode, as RQ's SimpleWorker) runs one job at a
# time for the worker, which talks to it over its stdin/stdout with length-prefixed frames:
#
#   frame    = 4-byte big-endian length, then that many bytes
#   worker -> runner: first a JSON config {"redis_url", "serializer", "path", "preload"},
#                     then one JSON request {"id"} per job
#   runner -> worker: b"+" + JSON {"rq", "python", "pid"} once ready, or b"!" + traceback;
#                     per job b"R" + serializer.dumps(value), b"N" (None) or b"E" + traceback
#
# The job is loaded and run by RQ itself (Job.fetch, job.perform), so the function is resolved,
# the arguments decoded and get_current_job()/job.meta/save_meta() behave as under RQ's worker
# of the installed version. Timeouts, stop and kill are the worker's: it kills this process.
# The job's own prints go to stderr: stdout is the protocol's.
import json
import os
import signal
import struct
import sys
import traceback


def _read_exact(f, n):
    buf = b""
    while len(buf) < n:
        chunk = f.read(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def _read_frame(f):
    head = _read_exact(f, 4)
    if head is None:
        return None
    (n,) = struct.unpack(">I", head)
    return _read_exact(f, n)


def _write_frame(f, tag, body=b""):
    f.write(struct.pack(">I", len(body) + 1) + tag + body)
    f.flush()


def _format(exc_info, skip_own_frame=True):
    """RQ's text (`''.join(traceback.format_exception(*exc_info))`), without this file's frame."""
    etype, value, tb = exc_info
    if skip_own_frame and tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return "".join(traceback.format_exception(etype, value, tb))


def main():
    # Ctrl+C in a terminal reaches the whole foreground group: the worker decides, as RQ's
    # work horse ignores SIGINT.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    proto_in = os.fdopen(os.dup(0), "rb", buffering=0)
    proto_out = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    frame = _read_frame(proto_in)
    if frame is None:
        return 0
    cfg = json.loads(frame)
    for p in reversed(cfg.get("path") or []):
        sys.path.insert(0, p)
    try:
        import importlib

        import redis
        import rq
        from rq.defaults import UNSERIALIZABLE_RETURN_VALUE_PAYLOAD
        from rq.job import Job
        from rq.serializers import resolve_serializer

        connection = redis.Redis.from_url(cfg["redis_url"])
        serializer = resolve_serializer(cfg.get("serializer") or None)
        for module in cfg.get("preload") or []:
            importlib.import_module(module)
    except BaseException:
        _write_frame(proto_out, b"!", _format(sys.exc_info(), False).encode("utf-8", "replace"))
        return 1
    ready = {"rq": rq.__version__, "python": sys.version.split()[0], "pid": os.getpid()}
    _write_frame(proto_out, b"+", json.dumps(ready).encode())
    while True:
        frame = _read_frame(proto_in)
        if frame is None:
            return 0
        request = json.loads(frame)
        try:
            job = Job.fetch(request["id"], connection=connection, serializer=serializer)
            value = job.perform()
        except BaseException:  # noqa: as RQ's perform_job (`except:`)
            text = _format(sys.exc_info())
            _flush()
            _write_frame(proto_out, b"E", text.encode("utf-8", "replace"))
            continue
        _flush()
        if value is None:
            _write_frame(proto_out, b"N")
            continue
        # As rq.results.Result.serialize: what cannot be serialized is stored as a text.
        try:
            data = serializer.dumps(value)
        except BaseException:  # noqa: as RQ (`except:`)
            data = serializer.dumps(UNSERIALIZABLE_RETURN_VALUE_PAYLOAD)
        _write_frame(proto_out, b"R", data)


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


sys.exit(main())
