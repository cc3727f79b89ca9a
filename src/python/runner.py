# task-worker's Python runner (docs/python-jobs.md), embedded in the binary and run as
# `python -c`. One long-lived process ("reuse" mode, as RQ's SimpleWorker) runs one job at a
# time for the worker, which talks to it over its stdin/stdout with length-prefixed frames:
#
#   frame    = 4-byte big-endian length, then that many bytes
#   worker -> runner: first a JSON config {"redis_url", "key_prefix", "tls", "sentinel",
#                     "socket_timeout", "serializer", "path", "preload", "mode"} (see
#                     _connector), then one request per job: JSON {"id", "callbacks":
#                     {kind: name}} (the callbacks this runner runs with the job), then b"\n"
#                     and the job hash as the worker holds it (each name and value a 4-byte
#                     big-endian length and the bytes); or JSON {"id", "callback": kind,
#                     "exception": text} (a failure or stopped callback run on its own)
#   runner -> worker: b"+" + JSON {"rq", "python", "pid"} once ready, or b"!" + traceback;
#                     per job b"R" + serializer.dumps(value), b"N" (None) or b"E" + traceback,
#                     b"Y" + JSON {"max", "intervals"} + b"\n" + serializer.dumps(retry) for a
#                     returned Retry (RQ >= 2.12), each after b"C" + kind when a callback
#                     starts (the worker applies its timeout from then on);
#                     fork mode: first b"P" + the child's pid, and b"D" + its raw wait status
#                     when it died without an answer
#
# The job is loaded and run by RQ itself (Job.restore of the hash the worker sends, as RQ's
# work horse runs the worker's in-memory job; Job.fetch when none is sent; job.perform), so the
# function is resolved, the arguments decoded and get_current_job()/job.meta/save_meta() behave
# as under RQ's worker of the installed version. Timeouts, stop and kill are the worker's: it
# kills this process.
# The job's own prints go to stderr: stdout is the protocol's.
import functools
import gc
import json
import os
import signal
import struct
import sys
import traceback


def _read_exact(f, n):
    """n bytes (a bytearray), read into one buffer: a pipe gives at most 64 KiB per read, and
    a frame may hold a job's data of hundreds of MB."""
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = f.readinto(view[got:])
        if not k:
            return None
        got += k
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


def _format(exc_info, skip_frames=0):
    """RQ's text (`''.join(traceback.format_exception(*exc_info))`), without this file's frames."""
    etype, value, tb = exc_info
    for _ in range(skip_frames):
        if tb is not None and tb.tb_next is not None:
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

        # RQ 3.0 reads its key prefix from the environment when it is imported.
        prefix = cfg.get("key_prefix") or "rq"
        os.environ["RQ_KEY_PREFIX"] = prefix
        import redis
        import rq
        from rq.defaults import UNSERIALIZABLE_RETURN_VALUE_PAYLOAD
        from rq.job import Job
        from rq.serializers import resolve_serializer

        if Job.redis_job_namespace_prefix != prefix + ":job:":
            raise _SettingsError(
                f"--key-prefix {prefix}: RQ {rq.__version__} in this Python environment does not "
                "use a key prefix other than 'rq' (RQ 3.0's RQ_KEY_PREFIX); use RQ 3.0 or the prefix 'rq'")
        connect = _with_socket_timeout(_connector(cfg, redis), cfg.get("socket_timeout"))
        connection = connect()
        serializer = resolve_serializer(cfg.get("serializer") or None)
        for module in cfg.get("preload") or []:
            importlib.import_module(module)
    except _SettingsError as e:
        _write_frame(proto_out, b"!", str(e).encode("utf-8", "replace"))
        return 1
    except BaseException:
        _write_frame(proto_out, b"!", _format(sys.exc_info()).encode("utf-8", "replace"))
        return 1
    fork = cfg.get("mode") == "fork"
    _rq_callbacks()
    _retry_class(Job)
    if fork:
        die_with_parent = _warm_parent()
    ready = {"rq": rq.__version__, "python": sys.version.split()[0], "pid": os.getpid()}
    _write_frame(proto_out, b"+", json.dumps(ready).encode())
    while True:
        frame = _read_frame(proto_in)
        if frame is None:
            return 0
        request = _request(frame)
        if not fork:
            tag, body = _perform(request, _current(connection), serializer, Job, UNSERIALIZABLE_RETURN_VALUE_PAYLOAD,
                                 lambda t, b: _write_frame(proto_out, t, b))
            _write_frame(proto_out, tag, body)
            continue
        # fork (RQ's Worker): a child per job, in its own process group; it sends its outcome
        # over a private pipe and exits. What it sent is passed on only if it exited with 0;
        # otherwise the worker gets its raw wait status.
        _flush()
        # Every object so far goes to the collector's permanent generation: a collection in
        # the child does not write to (and so copy) the pages of the parent's objects.
        gc.freeze()
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.setpgid(0, 0)
                os.close(r)
                die_with_parent()
                proto_in.close()
                os.close(0)
                out = os.fdopen(w, "wb")
                # The parent's client: it has never connected (redis-py connects on the first
                # command and its pool starts afresh in a forked process), so a job that does
                # not use Redis costs no connection.
                tag, body = _perform(request, connection, serializer, Job,
                                     UNSERIALIZABLE_RETURN_VALUE_PAYLOAD, lambda t, b: _write_frame(out, t, b))
                _write_frame(out, tag, body)
                out.close()
            except BaseException:
                os._exit(1)
            os._exit(0)
        os.close(w)
        try:
            os.setpgid(pid, pid)  # its own group (also set by the child: whichever runs first)
        except OSError:
            pass
        # The worker kills the child's group on timeout, stop, kill-horse and shutdown; this
        # parent stays warm and reports the child's wait status.
        _write_frame(proto_out, b"P", str(pid).encode())
        # Callback starts (b"C") are passed on at once; the outcome once the child exited 0.
        last = None
        with os.fdopen(r, "rb") as pipe:
            while True:
                frame = _read_frame(pipe)
                if frame is None:
                    break
                if frame[:1] == b"C":
                    _write_frame(proto_out, b"C", frame[1:])
                else:
                    last = frame
        _, wait_status = os.waitpid(pid, 0)
        if wait_status == 0 and last:
            _write_frame(proto_out, last[:1], last[1:])
        else:
            _write_frame(proto_out, b"D", str(wait_status).encode())


class _SettingsError(Exception):
    """Settings this environment cannot use: reported as one line, without a traceback."""


def _connector(cfg, redis):
    """A function that makes a client connected as the worker is (src/python/connection.rs):
    the URL's credentials, database and TLS; the --redis-tls-* files for rediss://; with
    Sentinel, redis-py's Sentinel(...).master_for(NAME), which asks the sentinels for the
    current master before each new connection and drops its connections when the master is
    demoted (READONLY), so a runner follows a failover as RQ's worker does."""
    tls = cfg.get("tls") or {}
    ssl = {}
    if tls.get("ca"):
        ssl["ssl_ca_certs"] = tls["ca"]
    if tls.get("cert"):
        ssl["ssl_certfile"] = tls["cert"]
        ssl["ssl_keyfile"] = tls.get("key")
    url = cfg["redis_url"]
    master_tls = url.startswith("rediss://")
    sentinel = cfg.get("sentinel")
    if not sentinel:
        kwargs = ssl if master_tls else {}
        return lambda: redis.Redis.from_url(url, **kwargs)
    from redis.connection import parse_url
    from redis.sentinel import Sentinel

    parsed = parse_url(url)
    master = {k: parsed[k] for k in ("username", "password", "db") if parsed.get(k) is not None}
    if master_tls:
        master.update(ssl=True, **ssl)
    own = {"socket_timeout": 5, "socket_connect_timeout": 5}
    if sentinel.get("username"):
        own["username"] = sentinel["username"]
    if sentinel.get("password"):
        own["password"] = sentinel["password"]
    if sentinel.get("tls"):
        own.update(ssl=True, **ssl)
    addresses = [(host, int(port)) for host, port in sentinel["sentinels"]]
    name = sentinel["master"]

    def connect():
        return Sentinel(addresses, sentinel_kwargs=own).master_for(name, **master)

    return connect


def _with_socket_timeout(connect, timeout):
    """RQ's `Worker._set_connection`: a client whose socket timeout is unset or shorter than
    the worker's connection timeout gets that timeout, so a job may block on Redis."""
    def connect_with_timeout():
        client = connect()
        kwargs = client.connection_pool.connection_kwargs
        current = kwargs.get("socket_timeout")
        if timeout and (current is None or current < timeout):
            kwargs["socket_timeout"] = timeout
        return client

    return connect_with_timeout


def _current(connection):
    """With Sentinel, asks the sentinels for the master before a job of a long-lived runner:
    a connection kept from an earlier job may still point at a demoted master, which answers
    reads (a replica's possibly older data) until a write meets READONLY. redis-py drops its
    idle connections when the master's address changed. Without Sentinel: nothing."""
    find = getattr(connection.connection_pool, "get_master_address", None)
    if find is not None:
        try:
            find()
        except Exception:
            pass  # no sentinel answers now: the connection's own retries look again
    return connection


class _NoDeathPenalty:
    """RQ's death penalty interface doing nothing: the worker enforces the callbacks' timeouts
    by killing the process."""

    def __init__(self, *args, **kwargs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@functools.cache
def _rq_callbacks():
    """RQ 3.0's `rq.callbacks` module (its callbacks are module functions), None for 2.x (they
    are `Job` methods). Called directly at each call site: no frame of this file between RQ's
    frames in a traceback but `_perform`'s, which is cut."""
    try:
        from rq import callbacks

        return callbacks
    except ImportError:
        return None


@functools.cache
def _retry_class(Job):
    """`rq.job.Retry` when the installed RQ retries a job that returns one (RQ >= 2.12:
    `Job._handle_retry_result`); None for RQ 2.0, which stores it as the return value."""
    if not hasattr(Job, "_handle_retry_result"):
        return None
    from rq.job import Retry

    return Retry


def _dumps(serializer, value, unserializable):
    # As rq.results.Result.serialize: what cannot be serialized is stored as a text.
    try:
        return serializer.dumps(value)
    except BaseException:  # noqa: as RQ (`except:`)
        return serializer.dumps(unserializable)


def _without_first_frame(exc_info):
    """The exception with this file's frame removed from its own traceback, so that a later
    exception chained to it ("During handling ...") prints RQ's frames only."""
    etype, value, tb = exc_info
    if tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
        if value is not None:
            value.__traceback__ = tb
    return etype, value, tb


def _request(frame):
    """A request frame: its JSON, and under "hash" the job hash's fields that follow it, as
    `HGETALL` gives them to `Job.refresh` (bytes names and values)."""
    split = frame.find(b"\n")
    request = json.loads(frame if split < 0 else frame[:split])
    if split >= 0:
        fields = {}
        unpack = struct.unpack_from
        rest = memoryview(frame)
        at, end = split + 1, len(frame)
        while at < end:
            (n,) = unpack(">I", rest, at)
            name = bytes(rest[at + 4:at + 4 + n])
            at += 4 + n
            (n,) = unpack(">I", rest, at)
            fields[name] = bytes(rest[at + 4:at + 4 + n])
            at += 4 + n
        request["hash"] = fields
    return request


def _load(request, connection, serializer, Job):
    """The job: restored from the hash the worker sent (what RQ's horse runs: the worker's job,
    read when it was taken, with the start's fields), else read from Redis."""
    fields = request.get("hash")
    if not fields:
        return Job.fetch(request["id"], connection=connection, serializer=serializer)
    job = Job(request["id"], connection=connection, serializer=serializer)
    job.restore(fields)
    return job


def _perform(request, connection, serializer, Job, unserializable, emit):
    """Runs one job as RQ's work horse does (`perform_job`: the function, then its success or
    failure callback when the request names it); returns the outcome frame's (tag, body).
    `emit(tag, body)` sends a frame at once (a callback's start)."""
    try:
        job = _load(request, connection, serializer, Job)
    except BaseException:  # noqa: as RQ's perform_job (`except:`)
        text = _format(sys.exc_info(), skip_frames=2)
        _flush()
        return b"E", text.encode("utf-8", "replace")
    if request.get("callback"):
        return _callback_alone(job, request, emit)
    callbacks = request.get("callbacks") or {}
    cb = _rq_callbacks()
    retry_class = _retry_class(Job)
    try:
        value = job.perform()
        if retry_class is not None and isinstance(value, retry_class):
            _flush()
            intervals = value.intervals
            if isinstance(intervals, int):
                intervals = [intervals]
            head = json.dumps({"max": value.max, "intervals": list(intervals or [])}).encode()
            return b"Y", head + b"\n" + _dumps(serializer, value, unserializable)
        if "success" in callbacks:
            _flush()
            emit(b"C", b"success")
            if retry_class is not None:
                from rq.job import JobStatus

                job._status = JobStatus.FINISHED  # as RQ >= 2.12's worker, before the callback
            if cb is not None:
                cb.execute_success_callback(job, _NoDeathPenalty, value)
            else:
                job.execute_success_callback(_NoDeathPenalty, value)
    except BaseException:  # noqa: as RQ's perform_job (`except:`)
        exc_info = _without_first_frame(sys.exc_info())
        text = _format(exc_info)
        if "failure" in callbacks:
            from rq.job import JobStatus

            job._status = JobStatus.FAILED
            _flush()
            emit(b"C", b"failure")
            try:
                if cb is not None:
                    cb.execute_failure_callback(job, _NoDeathPenalty, *exc_info)
                else:
                    job.execute_failure_callback(_NoDeathPenalty, *exc_info)
            except BaseException:  # noqa: as RQ, the callback's exception replaces the job's
                text = _format(sys.exc_info(), skip_frames=1)
        _flush()
        return b"E", text.encode("utf-8", "replace")
    _flush()
    if value is None:
        return b"N", b""
    return b"R", _dumps(serializer, value, unserializable)


def _exception_from_text(text):
    """The exception a failure callback run on its own gets: the type named on the text's last
    line (`module.Type: message`) with its message, or RuntimeError(text)."""
    last = (text or "").rstrip("\n").splitlines()[-1:] or ["RuntimeError"]
    name, _, message = last[0].partition(": ")
    try:
        if "." in name:
            from rq.utils import import_attribute

            etype = import_attribute(name)
        else:
            import builtins

            etype = getattr(builtins, name)
        if isinstance(etype, type) and issubclass(etype, BaseException):
            return etype, etype(message)
    except Exception:
        pass
    return RuntimeError, RuntimeError(last[0])


def _callback_alone(job, request, emit):
    """A failure or stopped callback run on its own, after the worker ended the job's run (its
    timeout, a stop): `f(job, connection, type, value, None)` or `f(job, connection)`."""
    cb = _rq_callbacks()
    kind = request["callback"]
    try:
        emit(b"C", kind.encode())
        if kind == "failure":
            etype, value = _exception_from_text(request.get("exception"))
            if cb is not None:
                cb.execute_failure_callback(job, _NoDeathPenalty, etype, value, None)
            else:
                job.execute_failure_callback(_NoDeathPenalty, etype, value, None)
        elif kind == "stopped":
            if cb is not None:
                cb.execute_stopped_callback(job, _NoDeathPenalty)
            else:
                job.execute_stopped_callback(_NoDeathPenalty)
        else:
            raise ValueError(f"task-worker's runner cannot run a {kind} callback on its own")
    except BaseException:  # noqa: reported to the worker
        text = _format(sys.exc_info(), skip_frames=1)
        _flush()
        return b"E", text.encode("utf-8", "replace")
    _flush()
    return b"N", b""


def _warm_parent():
    """Fork mode: what every child would otherwise do for itself, done once in the parent
    (each page a child writes is copied, and an import writes many): the modules RQ and the
    parent-death signal import on first use. Returns the child's parent-death set-up."""
    import datetime

    datetime.datetime.strptime("2026-01-01T00:00:00.000001Z", "%Y-%m-%dT%H:%M:%S.%fZ")
    prctl = None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except Exception:
        pass

    def die_with_parent():
        """PR_SET_PDEATHSIG(SIGKILL): a job's child dies with its parent (killed with the
        worker)."""
        parent = os.getppid()
        if prctl is not None:
            try:
                prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
            except Exception:
                pass
        if os.getppid() != parent:
            os._exit(1)

    gc.collect()
    return die_with_parent


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


sys.exit(main())
