"""A test double of the backend API's result endpoints (docs/course-tasks.md §6.1).

Standard library only: a threaded http.server on 127.0.0.1 (free port) with an in-memory
store of result rows, fault knobs and a request log. Tests run it in their own process and
steer it through the Python object:

    api = ApiDouble(user="admin", password="s3cret")
    api.add_row()                       # the §6 seed row r-1 (test_system_id "job-1")
    api.fail_next(2, status=503)        # the next 2 /results requests get 503
    api.set_delay(0.5)                  # every /results answer waits 0.5 s first
    api.insert_row_after(0.3, row)      # a row appears later, as when the API is slow
    api.requests()                      # the /results requests seen so far
    api.close()

Fault knobs and the log cover /results only; GET /info always answers (the worker waits for
it at start-up).
"""
from __future__ import annotations

import base64
import copy
import json
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

SEED_ROW = {
    "id": "r-1",
    "submit": False,
    "course_member_id": "cm-1",
    "course_content_id": "cc-1",
    "course_content_type_id": "ct-1",
    "course_submission_group_id": "sg-1",
    "execution_backend_id": "eb-1",
    "test_system_id": "job-1",
    "result": 0.0,
    "version_identifier": "0" * 40,
    "status": 3,
    "result_json": None,
    "properties": None,
}

LIST_FIELDS = [
    "id", "submit", "course_member_id", "course_content_id", "course_content_type_id",
    "course_submission_group_id", "execution_backend_id", "test_system_id", "result",
    "version_identifier", "status",
]
FILTERS = ["course_member_id", "course_content_id", "execution_backend_id", "test_system_id"]


def _now():
    return datetime.now(timezone.utc).replace(tzinfo=None).isoformat()


class ApiDouble:
    def __init__(self, user="admin", password="s3cret"):
        self.user, self.password = user, password
        self.rows: dict[str, dict] = {}
        self.log: list[dict] = []
        self._lock = threading.Lock()
        self._fail_next = 0
        self._fail_status = 503
        self._delay = 0.0
        self._timers: list[threading.Timer] = []
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_GET(self):
                double._handle(self, "GET")

            def do_PATCH(self):
                double._handle(self, "PATCH")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    # ---- control -------------------------------------------------------------------------

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def add_row(self, **overrides):
        row = dict(SEED_ROW, **overrides)
        row.setdefault("created_at", _now())
        row.setdefault("updated_at", None)
        row.setdefault("created_by", None)
        row.setdefault("updated_by", None)
        with self._lock:
            self.rows[row["id"]] = row
        return row

    def insert_row_after(self, seconds, **overrides):
        t = threading.Timer(seconds, lambda: self.add_row(**overrides))
        t.daemon = True
        self._timers.append(t)
        t.start()

    def fail_next(self, k, status=503):
        with self._lock:
            self._fail_next, self._fail_status = k, status

    def set_delay(self, seconds):
        with self._lock:
            self._delay = seconds

    def row(self, row_id):
        with self._lock:
            return copy.deepcopy(self.rows.get(row_id))

    def requests(self, method=None):
        """The /results requests so far: dicts with method, path, query, body, status."""
        with self._lock:
            return [copy.deepcopy(e) for e in self.log if method in (None, e["method"])]

    def close(self):
        for t in self._timers:
            t.cancel()
        self.server.shutdown()
        self.server.server_close()

    # ---- serving -------------------------------------------------------------------------

    def _authorized(self, h):
        expected = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return h.headers.get("Authorization", "") == f"Basic {expected}"

    def _send(self, h, status, body, headers=None):
        data = json.dumps(body).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    def _handle(self, h, method):
        parts = urlsplit(h.path)
        path = parts.path
        if method == "GET" and path == "/info":
            return self._send(h, 200, {"extensions": []})
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        entry = {
            "method": method,
            "path": path,
            "query": {k: v[0] for k, v in parse_qs(parts.query).items()},
            "raw_body": raw.decode(errors="replace"),
            "body": None,
            "content_type": h.headers.get("Content-Type"),
            "accept": h.headers.get("Accept"),
            "status": None,
        }
        try:
            entry["body"] = json.loads(raw) if raw else None
        except ValueError:
            pass
        status, body, headers = self._answer(h, method, path, entry)
        entry["status"] = status
        if path.startswith("/results"):
            with self._lock:
                self.log.append(entry)
        self._send(h, status, body, headers)

    def _answer(self, h, method, path, entry):
        if not path.startswith("/results"):
            return 404, {"detail": "Not Found"}, None
        with self._lock:
            delay = self._delay
            fail = self._fail_next > 0
            if fail:
                self._fail_next -= 1
        if delay:
            time.sleep(delay)
        if fail:
            return self._fail_status, {"detail": "Service Unavailable"}, None
        if not self._authorized(h):
            return 401, {"detail": "Unauthorized"}, {"WWW-Authenticate": "Basic"}
        with self._lock:
            if method == "GET" and path == "/results":
                q = entry["query"]
                rows = [
                    {k: r[k] for k in LIST_FIELDS}
                    for r in self.rows.values()
                    if all(r.get(f) == q[f] for f in FILTERS if f in q)
                ]
                return 200, rows, {"X-Total-Count": str(len(rows))}
            if path.startswith("/results/"):
                row_id = unquote(path[len("/results/"):])
                row = self.rows.get(row_id)
                if row is None:
                    return 404, {"detail": "Not found"}, None
                if method == "PATCH":
                    if not isinstance(entry["body"], dict):
                        return 422, {"detail": "body must be an object"}, None
                    row.update(entry["body"])
                    row["updated_at"] = _now()
                return 200, copy.deepcopy(row), None
        return 405, {"detail": "Method Not Allowed"}, None
