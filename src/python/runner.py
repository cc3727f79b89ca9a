# task-worker's Python runner (docs/python-jobs.md), embedded in the binary and run as
# `python -c`. One long-lived process ("reuse" mode, as RQ's SimpleWorker) runs one job at a
# time for the worker, which talks to it over its stdin/stdout with length-prefixed frames:
#
#   frame    = 4-byte big-endian length, then that many bytes
#   worker -> runner: first a JSON config {"redis_url", "key_prefix", "tls", "sentinel",
#                     "serializer", "path", "preload", "mode"} (see _connector), then one
#                     JSON request {"id"} per job
#   runner -> worker: b"+" + JSON {"rq", "python", "pid"} once ready, or b"!" + traceback;
#                     per job b"R" + serializer.dumps(value), b"N" (None) or b"E" + traceback;
#                     fork mode: first b"P" + the child's pid, and b"D" + its raw wait status
#                     when it died without an answer
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
    ready = {"rq": rq.__version__, "python": sys.version.split()[0], "pid": os.getpid()}
    _write_frame(proto_out, b"+", json.dumps(ready).encode())
    fork = cfg.get("mode") == "fork"
    while True:
        frame = _read_frame(proto_in)
        if frame is None:
            return 0
        request = json.loads(frame)
        if not fork:
            tag, body = _perform(request, _current(connection), serializer, Job, UNSERIALIZABLE_RETURN_VALUE_PAYLOAD)
            _write_frame(proto_out, tag, body)
            continue
        # fork (RQ's Worker): a child per job, in its own process group; it sends its outcome over a private pipe and exits. What it sent is passed on
        # only if it exited with 0; otherwise the worker gets its raw wait status.
        _flush()
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.setpgid(0, 0)
                os.close(r)
                _die_with_parent()
                proto_in.close()
                os.close(0)
                out = os.fdopen(w, "wb")
                child_connection = connect()
                tag, body = _perform(request, child_connection, serializer, Job,
                                     UNSERIALIZABLE_RETURN_VALUE_PAYLOAD)
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
        with os.fdopen(r, "rb") as pipe:
            data = pipe.read()
        _, wait_status = os.waitpid(pid, 0)
        if wait_status == 0 and len(data) >= 5 and struct.unpack(">I", data[:4])[0] == len(data) - 4:
            proto_out.write(data)
            proto_out.flush()
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


def _perform(request, connection, serializer, Job, unserializable):
    """Runs one job as RQ's work horse does; returns the frame's (tag, body)."""
    try:
        job = Job.fetch(request["id"], connection=connection, serializer=serializer)
        value = job.perform()
    except BaseException:  # noqa: as RQ's perform_job (`except:`)
        text = _format(sys.exc_info(), skip_frames=1)
        _flush()
        return b"E", text.encode("utf-8", "replace")
    _flush()
    if value is None:
        return b"N", b""
    # As rq.results.Result.serialize: what cannot be serialized is stored as a text.
    try:
        data = serializer.dumps(value)
    except BaseException:  # noqa: as RQ (`except:`)
        data = serializer.dumps(unserializable)
    return b"R", data


def _die_with_parent():
    """PR_SET_PDEATHSIG(SIGKILL): a job's child dies with its parent (killed with the worker)."""
    parent = os.getppid()
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass
    if os.getppid() != parent:
        os._exit(1)


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


sys.exit(main())
