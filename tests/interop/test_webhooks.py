"""Webhooks (RQ 2.12+, `enqueue(webhooks=[Webhook(url, 'finished'|'failed', ...)])`, issue 28
item 5): task-worker sends them when a job reaches a terminal state, as RQ's worker does, for
Python jobs (`--python`) and Rust tasks alike. A real HTTP server in this process records every
request; the same jobs run through RQ's own SimpleWorker and through task-worker, and the
requests are compared: method, path, headers, and the JSON body field by field (each field
checked against the job's own hash, key order and bytes as `json.dumps` writes them).
RQ 2.0 has no webhooks: skipped there."""
import json
import re
import signal
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import rq
from rq import Queue, Retry, SimpleWorker
from rq.job import JobStatus
from rq.registry import StartedJobRegistry

from harness import free_port, wait_until
from pyjobs import jobs

Webhook = getattr(rq, "Webhook", None)
pytestmark = pytest.mark.skipif(Webhook is None, reason="RQ 2.0 has no webhooks")

HERE = Path(__file__).resolve().parent
RQ3 = rq.__version__.startswith("3.")
# Headers each client adds on its own (urllib: Host, User-Agent, Accept-Encoding, Connection,
# Content-Length; reqwest: host, user-agent, accept, content-length).
OWN_HEADERS = {"host", "user-agent", "accept-encoding", "connection", "content-length", "accept"}


class Hooks:
    """An HTTP server on 127.0.0.1 recording each request: method, path, headers, body.
    Paths starting with /slow are answered only when the test ends; /hold/<n> waits (up to 30 s)
    for the condition `held[n]` and records whether it held, then is answered at the end."""

    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.held = {}
        self.seen = {}
        hooks = self

        class Handler(BaseHTTPRequestHandler):
            def handle_one(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with hooks.lock:
                    hooks.requests.append({"method": self.command, "path": self.path,
                                           "headers": list(self.headers.items()), "body": body})
                if self.path.startswith("/hold/"):
                    name = self.path.split("/")[2]
                    hooks.seen[name] = wait_for(hooks.held[name], 30)
                    hooks.release.wait(60)
                elif self.path.startswith("/slow"):
                    hooks.release.wait(60)
                code = 500 if self.path.endswith("/error") else 200
                try:
                    self.send_response(code)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the client gave up (its timeout): nothing to answer

            do_GET = do_POST = handle_one

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path):
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def at(self, path):
        with self.lock:
            return [r for r in self.requests if r["path"] == path]

    def one(self, path):
        """The single request made to `path` (waited for: task-worker's worker exits only once
        its requests are answered, so this returns at once; the wait is patience)."""
        found = wait_until(lambda: self.at(path), what=f"a request to {path}")
        assert len(found) == 1, (path, found)
        return found[0]

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def wait_for(pred, timeout):
    """pred() polled until true or `timeout` s: whether it came true (a server-side wait: a
    result to assert on, not a failure of the handler)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def hooks():
    h = Hooks()
    yield h
    h.close()


def python_args():
    return ["--python", sys.executable, "--python-path", str(HERE), "--python-mode", "reuse"]


def reference_worker(queue):
    """RQ's own SimpleWorker, without its command channel (as in test_python_jobs.py)."""
    worker = SimpleWorker([queue], connection=queue.connection)
    worker.subscribe = lambda: None
    return worker


def headers(request):
    return {k.lower(): v for k, v in request["headers"] if k.lower() not in OWN_HEADERS}


def check_body(request, job, status):
    """The POST body is `json.dumps(Webhook.get_payload(job))`: keys in RQ's order, each value
    what the job's hash says, the bytes exactly those json.dumps writes."""
    job.refresh()
    pairs = json.loads(request["body"], object_pairs_hook=list)
    keys = ["job_id", "func_name", "status", "enqueued_at", "ended_at"]
    if status == "failed":
        keys.append("exc_info")
    assert [k for k, _ in pairs] == keys, pairs
    body = dict(pairs)
    assert request["body"] == json.dumps(body).encode()
    assert body["job_id"] == job.id
    assert body["func_name"] == job.func_name
    assert body["status"] == status
    assert body["enqueued_at"] == job.enqueued_at.isoformat()
    assert body["ended_at"] == job.ended_at.isoformat()
    assert body["ended_at"].endswith("+00:00")
    if status == "failed":
        assert body["exc_info"] == job.latest_result().exc_string
    return body


def enqueue_cases(q, hooks, side):
    """The same jobs for each side (`ours`, `ref`), each webhook on its own path."""
    u = lambda case: hooks.url(f"/{side}/{case}")  # noqa: E731
    token = {"X-Token": "secret-1", "X-Trace": "abc"}
    return {
        "finished": q.enqueue(jobs.add, 1, 2, webhooks=[
            Webhook(u("finished-post"), "finished", method="POST", headers=token),
            Webhook(u("finished-get"), "finished", headers={"X-Token": "g"}),
            Webhook(u("never-failed"), "failed", method="POST"),
        ]),
        "failed": q.enqueue(jobs.fail, "boom", webhooks=[
            Webhook(u("failed-post"), "failed", method="POST", headers={"content-type": "application/x-ours"}),
            Webhook(u("failed-get"), "failed", method="GET"),
            Webhook(u("never-finished"), "finished", method="POST"),
        ]),
        "retried": q.enqueue(jobs.fail, "again", retry=Retry(max=1), webhooks=[
            Webhook(u("retried-post"), "failed", method="POST"),
        ]),
        "unreachable": q.enqueue(jobs.add, 2, 2, webhooks=[
            Webhook(f"http://127.0.0.1:{free_port()}/{side}/nobody", "finished", method="POST"),
            Webhook(u("after-unreachable"), "finished", method="POST"),
        ]),
        "error": q.enqueue(jobs.add, 3, 3, webhooks=[Webhook(u("error"), "finished", method="POST")]),
        "slow": q.enqueue(jobs.add, 4, 4, webhooks=[
            Webhook(hooks.url(f"/slow/{side}"), "finished", method="POST", timeout=1),
        ]),
    }


def test_webhooks_match_rqs_own_worker(r, run_burst, hooks):
    ours, theirs = Queue("py", connection=r), Queue("ref", connection=r)
    mine, ref = enqueue_cases(ours, hooks, "ours"), enqueue_cases(theirs, hooks, "ref")
    proc = run_burst("-q", "py", *python_args())
    reference_worker(theirs).work(burst=True)

    for side, js in (("ours", mine), ("ref", ref)):
        # A webhook never changes how its job ends.
        for case, job in js.items():
            expected = JobStatus.FAILED if case in ("failed", "retried") else JobStatus.FINISHED
            assert job.get_status(refresh=True) == expected, (side, case)
        js["retried"].refresh()
        assert js["retried"].retries_left == 0, side
        # Only the webhooks of the status reached; the retried job's only at its last failure.
        for path in ("never-failed", "never-finished"):
            assert hooks.at(f"/{side}/{path}") == [], (side, path)
        hooks.one(f"/{side}/retried-post")
        # An unreachable endpoint, an error answer and one slower than its timeout: the
        # job's other webhooks go out all the same.
        for path in (f"/{side}/after-unreachable", f"/{side}/error", f"/slow/{side}"):
            hooks.one(path)

    for path, case, status in [("finished-post", "finished", "finished"),
                               ("failed-post", "failed", "failed"),
                               ("retried-post", "retried", "failed"),
                               ("after-unreachable", "unreachable", "finished")]:
        a, b = hooks.one(f"/ours/{path}"), hooks.one(f"/ref/{path}")
        assert a["method"] == b["method"] == "POST"
        assert headers(a) == headers(b), path
        body_a, body_b = check_body(a, mine[case], status), check_body(b, ref[case], status)
        assert body_a["func_name"] == body_b["func_name"]
        if status == "failed":
            assert body_a["exc_info"].splitlines()[-1] == body_b["exc_info"].splitlines()[-1]
    assert headers(hooks.one("/ours/finished-post")) == {
        "content-type": "application/json", "x-token": "secret-1", "x-trace": "abc"}
    # The webhook's own Content-Type replaces RQ's.
    assert headers(hooks.one("/ours/failed-post"))["content-type"] == "application/x-ours"
    for path in ("finished-get", "failed-get"):
        a, b = hooks.one(f"/ours/{path}"), hooks.one(f"/ref/{path}")
        assert a["method"] == b["method"] == "GET"
        assert a["body"] == b["body"] == b""
        assert headers(a) == headers(b), path
    # Each failure is logged and never raised.
    assert "failed to send webhook to http://127.0.0.1:" in proc.stderr
    assert "connection failed" in proc.stderr and "HTTP 500" in proc.stderr
    assert "timed out after 1 s" in proc.stderr


def webhook_counts(port):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    return {m.group(1): float(m.group(2))
            for m in re.finditer(r'^task_worker_webhooks_total\{outcome="(\w+)"\} (\S+)$', text, re.M)}


def test_rust_tasks_send_webhooks_too_and_are_counted(r, start_worker, hooks):
    q = Queue("rs", connection=r)
    port = free_port()
    start_worker("-q", "rs", "--metrics-addr", f"127.0.0.1:{port}")
    ok = q.enqueue("echo", "x", webhooks=[Webhook(hooks.url("/rs/ok"), "finished", method="POST")])
    bad = q.enqueue("fail", "no", webhooks=[
        Webhook(hooks.url("/rs/bad"), "failed", method="POST"),
        Webhook(hooks.url("/rs/error"), "failed"),
    ])
    check_body(hooks.one("/rs/ok"), ok, "finished")
    body = check_body(hooks.one("/rs/bad"), bad, "failed")
    assert body["func_name"] == "fail" and body["exc_info"].endswith("Exception: no\n")
    wait_until(lambda: webhook_counts(port) == {"sent": 2.0, "failed": 1.0, "dropped": 0.0},
               what="the webhook counters")


def test_a_job_field_rq_cannot_read_sends_nothing(r, run_burst, hooks):
    q = Queue("rs", connection=r)
    job = q.enqueue("echo", 1)
    r.hset(job.key, "webhooks", json.dumps([{"url": hooks.url("/rs/x"), "job_status": "done"}]))
    proc = run_burst("-q", "rs")
    assert job.get_status(refresh=True) == JobStatus.FINISHED
    assert "failed to deserialize webhooks" in proc.stderr and "'done'" in proc.stderr
    assert hooks.requests == []


def test_sending_never_holds_up_the_next_job_and_shutdown_is_bounded(r, run_burst, hooks):
    """Job A's webhook is answered only after job B finished (and then not before the test
    ends): B runs anyway on the worker's single slot, and the burst ends after the short
    grace, saying what it left unanswered."""
    q = Queue("rs", connection=r)
    a = q.enqueue("echo", "a", webhooks=[Webhook(hooks.url("/hold/b"), "finished", method="POST", timeout=60)])
    b = q.enqueue("echo", "b")
    hooks.held["b"] = lambda: b.get_status(refresh=True) == JobStatus.FINISHED
    proc = run_burst("-q", "rs", "-c", "1")
    wait_until(lambda: "b" in hooks.seen, what="the held request's check")
    assert hooks.seen == {"b": True}
    assert a.get_status(refresh=True) == JobStatus.FINISHED
    assert "stopping with 1 webhook(s) unsent or unanswered" in proc.stderr


def test_abandoned_job_sends_its_failed_webhook(r, start_worker, run_burst, hooks):
    """A job of a dead worker failed by maintenance: RQ 3.0's StartedJobRegistry.cleanup sends
    its `failed` webhooks (RQ 2.12's does not); task-worker's maintenance does as RQ 3.0."""
    mine, theirs = Queue("ab1", connection=r), Queue("ab2", connection=r)
    victim = start_worker("-q", "ab1,ab2", "-c", "2", "-n", "HOOKVICTIM")
    ja = mine.enqueue("sleep", 60, webhooks=[Webhook(hooks.url("/ours/abandoned"), "failed", method="POST")])
    jb = theirs.enqueue("sleep", 60, webhooks=[Webhook(hooks.url("/ref/abandoned"), "failed", method="POST")])
    for j in (ja, jb):
        wait_until(lambda: j.get_status(refresh=True) == JobStatus.STARTED, what="job start")
    victim.signal(signal.SIGKILL)
    victim.wait()
    for q in ("ab1", "ab2"):
        for member in r.zrange(f"rq:wip:{q}", 0, -1):
            r.zadd(f"rq:wip:{q}", {member: 1000}, xx=True)
    StartedJobRegistry(queue=theirs).cleanup()
    run_burst("-q", "ab1")  # maintenance at start
    assert ja.get_status(refresh=True) == jb.get_status(refresh=True) == JobStatus.FAILED
    a = hooks.one("/ours/abandoned")
    body = check_body(a, ja, "failed")
    assert "due to AbandonedJobError" in body["exc_info"]
    ref = hooks.at("/ref/abandoned")
    if RQ3:
        b = hooks.one("/ref/abandoned")
        pairs = json.loads(b["body"], object_pairs_hook=list)
        assert [k for k, _ in pairs] == [k for k, _ in json.loads(a["body"], object_pairs_hook=list)]
        assert headers(a) == headers(b)
        # RQ keeps no `ended_at` for an abandoned job (null); task-worker's hash has one.
        assert dict(pairs)["ended_at"] is None
    else:
        assert ref == []
