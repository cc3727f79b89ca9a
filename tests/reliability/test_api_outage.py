"""Backend API outage at start-up (issue 9): with EXECUTION_BACKEND_API_URL set, the worker waits
for `GET /info` (docs/course-tasks.md §4); an API that is down is waited out, not a reason to exit.
(Outages during a job are retried per request by the API client: unit tests in src/api.rs.)
"""
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from rq import Queue

from harness import free_port, wait_until
from rel_helpers import report


class InfoHandler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        code = 200 if self.path == "/info" else 404
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def test_api_down_at_start_is_waited_out(redis_server, start_worker):
    r = redis_server.client()
    port = free_port()
    worker = start_worker("-q", "default", "--api-url", f"http://127.0.0.1:{port}")
    # At least two failed attempts (they are 5 s apart), and the worker is still waiting.
    wait_until(lambda: worker.output().count("backend API not reachable") >= 2, timeout=30,
               interval=0.2, what="two failed API attempts")
    assert worker.proc.poll() is None, worker.output()[-3000:]
    assert r.scard("rq:workers") == 0  # not registered before the API answered
    server = ThreadingHTTPServer(("127.0.0.1", port), InfoHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        wait_until(lambda: "backend API is up" in worker.output(), timeout=30, interval=0.2,
                   what="the worker to see the API")
        job = Queue("default", connection=r).enqueue("echo", "after the outage")
        wait_until(lambda: job.get_status(refresh=True) == "finished", timeout=30,
                   what="a job after the API came up")
        assert job.latest_result().return_value == "after the outage"
        assert worker.proc.poll() is None
        report("api_outage_at_start", failed_attempts=worker.output().count(
            "backend API not reachable"), worker_exited=0, job_after_outage="finished")
    finally:
        server.shutdown()
        server.server_close()
