//! OpenTelemetry traces: one CONSUMER span per job execution, continuing the enqueuer's trace.
//!
//! Python enqueuers that trace their requests leave the trace context in `job.meta`
//! ([`carrier`]); a Python RQ worker without instrumentation drops it, and RQ itself has no
//! tracing. task-worker reads it back and exports one span per execution by OTLP (HTTP,
//! protobuf), following OpenTelemetry's messaging conventions:
//! `process <queue>`, kind CONSUMER, `messaging.system`, `messaging.operation.name`/`.type`,
//! `messaging.destination.name`, `messaging.message.id`, `messaging.consumer.group.name`, and
//! `error.type` with an error status when the job fails.
//!
//! **Retries** link back to the first attempt. The first attempt's span id is derived from the
//! job id and its `created_at` (both fixed for the job's life), so a later attempt, in any
//! worker process, can name it without storing anything in Redis.
//!
//! **Off and free by default**: only `OTEL_EXPORTER_OTLP_ENDPOINT` or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` turns it on (and `OTEL_SDK_DISABLED=true` or
//! `OTEL_TRACES_EXPORTER=none` keep it off); the standard `OTEL_*` variables (headers, timeout,
//! compression, sampler, service name, resource attributes) are read by the OpenTelemetry SDK.
//! The span is built when the job ends (with the start time it had), so nothing is held open.

pub mod carrier;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::SystemTime;

use anyhow::{bail, Context as _};
use opentelemetry::trace::{
    Link, SpanContext, SpanId, SpanKind, Status, TraceContextExt, TraceFlags, TraceId, TraceState,
    Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use opentelemetry_sdk::Resource;

use carrier::Parent;
use rq_protocol::codec::{self, Serializer};
use rq_protocol::value::Limits;
use rq_worker::events::{EndKind, JobEnded, JobStarted, Observer};

/// `messaging.system` of every span.
pub const MESSAGING_SYSTEM: &str = "rq";

/// Whether the environment asks for traces (see the module docs).
pub fn enabled_by_env(env: impl Fn(&str) -> Option<String>) -> bool {
    let set = |k: &str| env(k).is_some_and(|v| !v.trim().is_empty());
    let is = |k: &str, v: &str| env(k).is_some_and(|x| x.trim().eq_ignore_ascii_case(v));
    (set("OTEL_EXPORTER_OTLP_ENDPOINT") || set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
        && !is("OTEL_SDK_DISABLED", "true")
        && !is("OTEL_TRACES_EXPORTER", "none")
}

/// What is kept between a job's start and its end.
struct Open {
    parent: Option<Parent>,
    start: SystemTime,
    /// Earlier attempts ran (the hash had `started_at` when taken): link to the first one.
    retry: bool,
    /// `created_at` of the job (the first attempt's span id derives from it).
    created_at: String,
    func_name: Option<String>,
}

/// The trace sink: an engine observer.
pub struct Traces {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
    serializer: Serializer,
    limits: Limits,
    open: Mutex<HashMap<String, Open>>,
}

impl Traces {
    /// The sink when the environment turns traces on, else `None`.
    pub fn from_env(serializer: Serializer) -> anyhow::Result<Option<Traces>> {
        let env = |k: &str| std::env::var(k).ok();
        if !enabled_by_env(env) {
            return Ok(None);
        }
        for var in [
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ] {
            if let Some(p) = env(var).filter(|p| !p.trim().is_empty()) {
                if p.trim() != "http/protobuf" {
                    bail!("{var}={p} is not supported: task-worker exports OTLP as http/protobuf");
                }
                break;
            }
        }
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()
            .context("setting up the OTLP trace exporter")?;
        let mut resource = Resource::builder();
        let named = env("OTEL_SERVICE_NAME").is_some_and(|v| !v.trim().is_empty())
            || env("OTEL_RESOURCE_ATTRIBUTES").is_some_and(|v| v.contains("service.name="));
        if !named {
            resource = resource.with_service_name("task-worker");
        }
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource.build())
            .build();
        let tracer = provider.tracer("task-worker");
        Ok(Some(Traces {
            provider,
            tracer,
            serializer,
            limits: Limits::default(),
            open: Mutex::new(HashMap::new()),
        }))
    }

    /// Exports what is buffered and stops the exporter (blocking: call off the async threads).
    pub fn shutdown(&self) {
        if let Err(e) = self.provider.shutdown() {
            tracing::warn!("could not flush the last trace spans: {e}");
        }
    }

    fn parent(&self, ev: &JobStarted<'_>) -> Option<Parent> {
        let raw = ev.hash.meta()?;
        let meta = codec::decode_meta(raw, self.serializer, &self.limits).ok()?;
        carrier::parent_from_meta(&meta)
    }
}

/// The first attempt's span id: FNV-1a of the job id and its `created_at`, never zero.
pub fn first_attempt_span_id(job_id: &str, created_at: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in job_id
        .bytes()
        .chain(std::iter::once(0))
        .chain(created_at.bytes())
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h.max(1)
}

/// `error.type`: the exception class of the failure's last line (`module.Class: message`).
pub fn error_type(exc_string: &str) -> String {
    let last = exc_string.trim_end().lines().last().unwrap_or_default();
    let class = last.split(':').next().unwrap_or_default().trim();
    if class.is_empty() || class.contains(' ') {
        "_OTHER".to_string()
    } else {
        class.to_string()
    }
}

impl Observer for Traces {
    /// Exports the last spans; the SDK bounds it by its export timeout.
    fn stop(&self, _deadline: tokio::time::Instant) -> rq_worker::events::StopFuture<'_> {
        let provider = self.provider.clone();
        Box::pin(async move {
            let _ = tokio::task::spawn_blocking(move || {
                if let Err(e) = provider.shutdown() {
                    tracing::warn!("could not flush the last trace spans: {e}");
                }
            })
            .await;
        })
    }

    fn job_started(&self, ev: &JobStarted<'_>) {
        let open = Open {
            parent: self.parent(ev),
            start: ev.exec.started_at.into(),
            retry: ev.hash.raw("started_at").is_some_and(|v| !v.is_empty()),
            created_at: ev.hash.created_at().unwrap_or_default(),
            func_name: ev.func_name.map(str::to_string),
        };
        if let Ok(mut map) = self.open.lock() {
            map.insert(ev.exec.composite(), open);
        }
    }

    fn job_ended(&self, ev: &JobEnded<'_>) {
        let Some(open) = self
            .open
            .lock()
            .ok()
            .and_then(|mut m| m.remove(&ev.exec.composite()))
        else {
            return;
        };
        let exec = ev.exec;
        let mut attrs = vec![
            KeyValue::new("messaging.system", MESSAGING_SYSTEM),
            KeyValue::new("messaging.operation.name", "process"),
            KeyValue::new("messaging.operation.type", "process"),
            KeyValue::new("messaging.destination.name", exec.queue.clone()),
            KeyValue::new("messaging.message.id", exec.job_id.clone()),
            KeyValue::new("messaging.consumer.group.name", exec.worker.clone()),
            KeyValue::new("rq.job.execution_id", exec.execution_id.clone()),
            KeyValue::new("rq.job.outcome", ev.kind.as_str()),
        ];
        if let Some(f) = ev.func_name.map(str::to_string).or(open.func_name) {
            attrs.push(KeyValue::new("rq.job.function", f));
        }
        if let Some(t) = ev.task {
            attrs.push(KeyValue::new("rq.job.task", t.to_string()));
        }
        if let Some(p) = &open.parent {
            attrs.push(KeyValue::new("rq.trace.parent_source", p.source));
        }
        let status = match (ev.kind, ev.error) {
            (EndKind::Finished, _) => Status::Ok,
            (_, Some(err)) => {
                attrs.push(KeyValue::new("error.type", error_type(err)));
                let last = err.trim_end().lines().last().unwrap_or_default();
                Status::error(last.to_string())
            }
            (_, None) => {
                attrs.push(KeyValue::new("error.type", "_OTHER"));
                Status::error(ev.kind.as_str())
            }
        };
        let parent_cx = match &open.parent {
            Some(p) => {
                let state = p.trace_state.parse::<TraceState>().unwrap_or_default();
                let flags = if p.sampled {
                    TraceFlags::SAMPLED
                } else {
                    TraceFlags::default()
                };
                let sc = SpanContext::new(
                    TraceId::from(p.trace_id),
                    SpanId::from(p.span_id),
                    flags,
                    true,
                    state,
                );
                Context::new().with_remote_span_context(sc)
            }
            None => Context::new(),
        };
        let first_id = SpanId::from(first_attempt_span_id(&exec.job_id, &open.created_at));
        // A hand-back at shutdown clears `started_at`, so the attempt after it counts as the
        // first again: the handed-back attempt keeps a random id to leave that id free.
        let handed_back = ev.handed_back;
        let mut builder = self
            .tracer
            .span_builder(format!("process {}", exec.queue))
            .with_kind(SpanKind::Consumer)
            .with_start_time(open.start)
            .with_attributes(attrs);
        if open.retry || handed_back {
            if let Some(p) = &open.parent {
                let first = SpanContext::new(
                    TraceId::from(p.trace_id),
                    first_id,
                    TraceFlags::SAMPLED,
                    true,
                    TraceState::default(),
                );
                builder = builder.with_links(vec![Link::with_context(first)]);
            }
        } else {
            builder = builder.with_span_id(first_id);
        }
        let mut span = builder.start_with_context(&self.tracer, &parent_cx);
        use opentelemetry::trace::Span as _;
        span.set_status(status);
        span.end_with_timestamp(ev.ended_at.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enabled_only_by_an_endpoint() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert!(!enabled_by_env(env(&[])));
        assert!(!enabled_by_env(env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "")])));
        assert!(enabled_by_env(env(&[(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "http://127.0.0.1:4318"
        )])));
        assert!(enabled_by_env(env(&[(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://127.0.0.1:4318/v1/traces"
        )])));
        assert!(!enabled_by_env(env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://x"),
            ("OTEL_SDK_DISABLED", "true")
        ])));
        assert!(!enabled_by_env(env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://x"),
            ("OTEL_TRACES_EXPORTER", "none")
        ])));
    }

    #[test]
    fn error_type_is_the_exception_class() {
        assert_eq!(
            error_type("Traceback (most recent call last):\n  File \"x\"\nrq.timeouts.JobTimeoutException: Task exceeded maximum timeout value (1 seconds)\n"),
            "rq.timeouts.JobTimeoutException"
        );
        assert_eq!(error_type("ValueError: boom"), "ValueError");
        assert_eq!(error_type("task-worker was shut down"), "_OTHER");
        assert_eq!(error_type(""), "_OTHER");
    }

    #[test]
    fn first_attempt_span_id_is_stable_and_distinct() {
        let a = first_attempt_span_id("job-1", "2026-12-04T20:00:00.000000Z");
        assert_eq!(
            a,
            first_attempt_span_id("job-1", "2026-12-04T20:00:00.000000Z")
        );
        assert_ne!(
            a,
            first_attempt_span_id("job-2", "2026-12-04T20:00:00.000000Z")
        );
        assert_ne!(
            a,
            first_attempt_span_id("job-1", "2026-12-04T20:00:00.000001Z")
        );
        assert_ne!(a, 0);
    }
}
