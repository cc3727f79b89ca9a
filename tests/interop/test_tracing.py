"""Traces continued from Python: the enqueuer traces with the real OpenTelemetry SDK and the real
opentelemetry-instrumentation-rq package (which puts W3C `traceparent` into `job.meta`),
task-worker runs the job with OTEL_EXPORTER_OTLP_ENDPOINT set, and a real OTLP/HTTP receiver in
the test (decoding with the opentelemetry-proto package) must get one CONSUMER span per
execution in the enqueuer's trace, child of the enqueuer's publish span, with the messaging
attributes. Also: a retry links back to the first attempt; Sentry's and Datadog's headers in
`meta` are continued; without an endpoint nothing is exported; Python jobs (`--python`) are
traced as tasks are."""
import gzip
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest, ExportTraceServiceResponse)
from opentelemetry.proto.trace.v1.trace_pb2 import Span as PbSpan
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from rq import Queue, Retry

from harness import wait_until

MEMORY = InMemorySpanExporter()


PROVIDER = TracerProvider()
PROVIDER.add_span_processor(SimpleSpanProcessor(MEMORY))
# The package's wrapper takes its tracer from the global provider.
trace.set_tracer_provider(PROVIDER)
TRACER = PROVIDER.get_tracer("enqueuer")


@pytest.fixture(scope="module", autouse=True)
def instrumented():
    """The package's own instrumentor, for this module only (other modules' jobs keep their
    meta as it was). RQ 3.0 removed the Job callback methods its consumer-side hooks wrap, so
    there the producer hook (the part an enqueuer uses) is applied as the package's
    _instrument applies it, with the package's own wrapper class."""
    from opentelemetry_instrumentation_rq import RQInstrumentor, utils
    from rq.job import Job
    from rq.queue import Queue as RQQueue
    if hasattr(Job, "execute_success_callback"):
        inst = RQInstrumentor()
        inst.instrument(tracer_provider=PROVIDER)
        yield
        inst.uninstrument()
        return
    from opentelemetry.semconv._incubating.attributes.messaging_attributes import (
        MessagingOperationTypeValues)
    from opentelemetry_instrumentation_rq.instrumentor import TraceInstrumentWrapper
    from wrapt import wrap_function_wrapper
    original = RQQueue.__dict__["_enqueue_job"]
    wrapper = TraceInstrumentWrapper(
        span_kind=trace.SpanKind.PRODUCER,
        operation_type=MessagingOperationTypeValues.SEND.value,
        operation_name="publish",
        should_propagate=True,
        should_flush=False,
        instance_info=utils.get_instance_info(utils.RQElementName.QUEUE),
        argument_info_list=[utils.get_argument_info(utils.RQElementName.JOB, 0)],
    )
    wrapper.tracer = TRACER
    wrap_function_wrapper("rq.queue", "Queue._enqueue_job", wrapper)
    yield
    RQQueue._enqueue_job = original


class Receiver:
    """An OTLP/HTTP trace receiver: POST /v1/traces, protobuf bodies (gzip or not)."""

    def __init__(self):
        self.spans = []
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                req = ExportTraceServiceRequest()
                req.ParseFromString(body)
                for rs in req.resource_spans:
                    res = {kv.key: kv.value.string_value for kv in rs.resource.attributes}
                    for ss in rs.scope_spans:
                        for s in ss.spans:
                            outer.spans.append((res, s))
                outer.requests += 1
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def for_job(self, job_id):
        return [(res, s) for res, s in self.spans if attrs(s).get("messaging.message.id") == job_id]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def attrs(span):
    return {kv.key: kv.value.string_value for kv in span.attributes}


@pytest.fixture
def receiver():
    rec = Receiver()
    yield rec
    rec.close()


def otel_env(receiver):
    return {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "OTEL_BSP_SCHEDULE_DELAY": "100",
            "OTEL_SERVICE_NAME": "grading-workers"}


def test_consumer_span_continues_the_enqueuers_trace(r, receiver, run_burst):
    MEMORY.clear()
    with TRACER.start_as_current_span("POST /submissions"):
        job = Queue("default", connection=r).enqueue("echo", 42)
    assert "traceparent" in job.meta, "the instrumentation put the context into job.meta"
    publish = [s for s in MEMORY.get_finished_spans() if s.kind == trace.SpanKind.PRODUCER]
    assert len(publish) == 1
    producer = publish[0].get_span_context()

    run_burst("-q", "default", env=otel_env(receiver))
    # Burst exit flushes the exporter; the receiver has the span by the time the worker is gone.
    got = wait_until(lambda: receiver.for_job(job.id), 10, what="the job's span at the receiver")
    assert len(got) == 1
    res, span = got[0]
    assert span.trace_id == producer.trace_id.to_bytes(16, "big")
    assert span.parent_span_id == producer.span_id.to_bytes(8, "big")
    assert span.kind == PbSpan.SPAN_KIND_CONSUMER
    assert span.name == "process default"
    a = attrs(span)
    assert a["messaging.system"] == "rq"
    assert a["messaging.operation.name"] == "process"
    assert a["messaging.operation.type"] == "process"
    assert a["messaging.destination.name"] == "default"
    assert a["messaging.message.id"] == job.id
    assert a["rq.job.function"] == "echo"
    assert "error.type" not in a
    assert span.status.code == span.status.STATUS_CODE_OK
    assert span.end_time_unix_nano > span.start_time_unix_nano > 0
    assert res["service.name"] == "grading-workers"
    assert job.latest_result().return_value == 42


def test_failure_has_error_type_and_a_retry_links_to_the_first_attempt(r, receiver, run_burst):
    with TRACER.start_as_current_span("POST /submissions"):
        job = Queue("default", connection=r).enqueue("fail", "boom", retry=Retry(max=1))
    run_burst("-q", "default", env=otel_env(receiver))
    got = wait_until(lambda: len(receiver.for_job(job.id)) == 2 and receiver.for_job(job.id), 10,
                     what="two attempts' spans")
    first, second = sorted((s for _, s in got), key=lambda s: s.start_time_unix_nano)
    for s in (first, second):
        assert attrs(s)["error.type"] == "Exception"
        assert s.status.code == s.status.STATUS_CODE_ERROR
        assert "boom" in s.status.message
        assert s.trace_id == first.trace_id
    assert attrs(first)["rq.job.outcome"] == "retried"
    assert attrs(second)["rq.job.outcome"] == "failed"
    assert len(first.links) == 0
    assert [(l.trace_id, l.span_id) for l in second.links] == [(first.trace_id, first.span_id)]
    assert second.span_id != first.span_id


@pytest.mark.parametrize("mode", ["reuse", "fork"])
def test_python_jobs_are_traced_as_tasks_are(r, receiver, run_burst, mode):
    MEMORY.clear()
    q = Queue("default", connection=r)
    with TRACER.start_as_current_span("POST /submissions"):
        added = q.enqueue("pyjobs.jobs.add", 1, 2)
        failed = q.enqueue("pyjobs.jobs.fail", "boom")
    run_burst("-q", "default", "--python", sys.executable, "--python-mode", mode,
              "--python-path", str(Path(__file__).resolve().parent), env=otel_env(receiver))
    for job, function in [(added, "pyjobs.jobs.add"), (failed, "pyjobs.jobs.fail")]:
        got = wait_until(lambda: receiver.for_job(job.id), 10, what=f"the span of {function}")
        assert len(got) == 1
        _, span = got[0]
        # The enqueuer's publish span, as the instrumentation put it into the job's meta.
        _, trace_id, parent_id, _ = job.meta["traceparent"].split("-")
        assert (span.trace_id.hex(), span.parent_span_id.hex()) == (trace_id, parent_id)
        assert span.kind == PbSpan.SPAN_KIND_CONSUMER
        assert attrs(span)["rq.job.function"] == function
    _, ok = receiver.for_job(added.id)[0]
    assert ok.status.code == ok.status.STATUS_CODE_OK and "error.type" not in attrs(ok)
    _, bad = receiver.for_job(failed.id)[0]
    assert attrs(bad)["error.type"] == "ValueError"
    assert bad.status.code == bad.status.STATUS_CODE_ERROR and "boom" in bad.status.message
    assert added.latest_result().return_value == 3


def test_sentry_and_datadog_headers_are_continued(r, receiver, run_burst):
    q = Queue("default", connection=r)
    sentry = q.enqueue("noop", meta={"_sentry_trace_headers": {
        "sentry-trace": "771a43a4192642f0b136d5159a501700-b7ad6b7169203331-1",
        "baggage": "sentry-trace_id=771a43a4192642f0b136d5159a501700"}})
    datadog = q.enqueue("noop", meta={
        "x-datadog-trace-id": "5208512171318403364", "x-datadog-parent-id": "1234",
        "x-datadog-sampling-priority": "1", "x-datadog-tags": "_dd.p.tid=640cfd8d00000000"})
    plain = q.enqueue("noop")
    # The W3C context the instrumentation adds would win (it is read first): keep only the
    # other conventions' headers in these jobs' meta.
    for j in (sentry, datadog, plain):
        j.meta.pop("traceparent", None)
        j.meta.pop("tracestate", None)
        j.save_meta()
    run_burst("-q", "default", env=otel_env(receiver))
    wait_until(lambda: all(receiver.for_job(j.id) for j in (sentry, datadog, plain)), 10,
               what="three spans")
    s = receiver.for_job(sentry.id)[0][1]
    assert s.trace_id.hex() == "771a43a4192642f0b136d5159a501700"
    assert s.parent_span_id.hex() == "b7ad6b7169203331"
    d = receiver.for_job(datadog.id)[0][1]
    assert int.from_bytes(d.trace_id, "big") == (0x640cfd8d00000000 << 64) | 5208512171318403364
    assert int.from_bytes(d.parent_span_id, "big") == 1234
    p = receiver.for_job(plain.id)[0][1]
    assert p.parent_span_id == b"", "no context in meta: a new trace"
    assert p.trace_id not in (s.trace_id, d.trace_id)


def test_nothing_is_exported_without_an_endpoint(r, receiver, run_burst):
    job = Queue("default", connection=r).enqueue("noop")
    # The receiver's address is known to the environment only through a variable the worker
    # does not read: with no OTEL_EXPORTER_OTLP_ENDPOINT, tracing is off.
    run_burst("-q", "default", env={"OTEL_EXPORTER_OTLP_ENDPOINT": "", "UNUSED_OTLP": receiver.url})
    assert job.get_status(refresh=True) == "finished"
    assert receiver.requests == 0


def test_unsupported_protocol_is_refused_clearly(redis_server, receiver):
    import subprocess
    from harness import WORKER
    proc = subprocess.run([str(WORKER), "--redis-url", redis_server.url, "--burst"],
                          capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
                               "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})
    assert proc.returncode != 0
    assert "OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported" in proc.stdout + proc.stderr
