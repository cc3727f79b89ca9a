//! Where an enqueuer left its trace context in `job.meta`, and how to read it back.
//!
//! RQ has no tracing of its own; the Python tracers each store their propagation headers in the
//! job's `meta` dict (which RQ saves with the job and task-worker can decode):
//! * opentelemetry-instrumentation-rq: W3C `traceparent` / `tracestate` as top-level keys;
//! * Sentry's RQ integration: `_sentry_trace_headers = {"sentry-trace": ..., "baggage": ...}`;
//! * ddtrace: `x-datadog-trace-id` / `x-datadog-parent-id` (decimal, lower 64 bits), the upper
//!   64 bits of a 128-bit trace id as `_dd.p.tid=<hex>` in `x-datadog-tags`, and, with its
//!   default propagation styles, W3C `traceparent` too.
//!
//! The first form found wins, in that order. Nothing here trusts the input: a malformed header
//! is ignored (the job then starts a new trace), never an error.

use rq_protocol::value::Value;

/// The remote parent a job's span continues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parent {
    pub trace_id: u128,
    pub span_id: u64,
    pub sampled: bool,
    /// W3C `tracestate`, passed on unchanged (empty when none).
    pub trace_state: String,
    /// Which convention it came from: `w3c`, `sentry` or `datadog`.
    pub source: &'static str,
}

/// Reads the parent from a decoded `job.meta` (a dict; anything else has none).
pub fn parent_from_meta(meta: &Value) -> Option<Parent> {
    let Value::Dict(items) = meta else {
        return None;
    };
    let get = |key: &str| -> Option<&Value> {
        items
            .iter()
            .find(|(k, _)| matches!(k, Value::Str(s) if s == key))
            .map(|(_, v)| v)
    };
    let text = |key: &str| -> Option<&str> {
        match get(key) {
            Some(Value::Str(s)) => Some(s.as_str()),
            _ => None,
        }
    };
    if let Some(mut p) = text("traceparent").and_then(parse_traceparent) {
        p.trace_state = text("tracestate").unwrap_or_default().to_string();
        return Some(p);
    }
    if let Some(Value::Dict(headers)) = get("_sentry_trace_headers") {
        let sentry = headers.iter().find_map(|(k, v)| match (k, v) {
            (Value::Str(k), Value::Str(v)) if k == "sentry-trace" => Some(v.as_str()),
            _ => None,
        });
        if let Some(p) = sentry.and_then(parse_sentry_trace) {
            return Some(p);
        }
    }
    parse_datadog(
        text("x-datadog-trace-id")?,
        text("x-datadog-parent-id")?,
        text("x-datadog-sampling-priority"),
        text("x-datadog-tags"),
    )
}

fn hex_u128(s: &str) -> Option<u128> {
    (s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| u128::from_str_radix(s, 16).ok())
        .flatten()
        .filter(|v| *v != 0)
}

fn hex_u64(s: &str) -> Option<u64> {
    (s.len() == 16 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| u64::from_str_radix(s, 16).ok())
        .flatten()
        .filter(|v| *v != 0)
}

/// `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>` (W3C Trace Context, version 00; a
/// higher version is read by the same first four fields, as the spec asks).
pub fn parse_traceparent(s: &str) -> Option<Parent> {
    let mut parts = s.trim().split('-');
    let version = parts.next()?;
    let (trace, span, flags) = (parts.next()?, parts.next()?, parts.next()?);
    if version.len() != 2 || version.eq_ignore_ascii_case("ff") || flags.len() != 2 {
        return None;
    }
    if version == "00" && parts.next().is_some() {
        return None;
    }
    let flags = u8::from_str_radix(flags, 16).ok()?;
    Some(Parent {
        trace_id: hex_u128(trace)?,
        span_id: hex_u64(span)?,
        sampled: flags & 1 == 1,
        trace_state: String::new(),
        source: "w3c",
    })
}

/// Sentry's `sentry-trace`: `<32 hex trace id>-<16 hex span id>[-<0|1>]`; no decision = sampled.
pub fn parse_sentry_trace(s: &str) -> Option<Parent> {
    let mut parts = s.trim().split('-');
    let (trace, span) = (parts.next()?, parts.next()?);
    let sampled = match parts.next() {
        None => true,
        Some("1") => true,
        Some("0") => false,
        Some(_) => return None,
    };
    Some(Parent {
        trace_id: hex_u128(trace)?,
        span_id: hex_u64(span)?,
        sampled,
        trace_state: String::new(),
        source: "sentry",
    })
}

/// Datadog's headers: decimal 64-bit ids, the trace id's upper half in `_dd.p.tid`; a
/// sampling priority <= 0 means "drop".
pub fn parse_datadog(
    trace_id: &str,
    parent_id: &str,
    priority: Option<&str>,
    tags: Option<&str>,
) -> Option<Parent> {
    let low: u64 = trace_id.trim().parse().ok().filter(|v| *v != 0)?;
    let span: u64 = parent_id.trim().parse().ok().filter(|v| *v != 0)?;
    let high = tags
        .into_iter()
        .flat_map(|t| t.split(','))
        .find_map(|kv| kv.trim().strip_prefix("_dd.p.tid="))
        .and_then(|h| u64::from_str_radix(h, 16).ok())
        .unwrap_or(0);
    let sampled = priority
        .and_then(|p| p.trim().parse::<i64>().ok())
        .is_none_or(|p| p > 0);
    Some(Parent {
        trace_id: (u128::from(high) << 64) | u128::from(low),
        span_id: span,
        sampled,
        trace_state: String::new(),
        source: "datadog",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dict(items: &[(&str, Value)]) -> Value {
        Value::Dict(
            items
                .iter()
                .map(|(k, v)| (Value::Str((*k).into()), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn w3c_from_the_otel_instrumentation() {
        let meta = dict(&[
            (
                "traceparent",
                Value::Str("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into()),
            ),
            ("tracestate", Value::Str("rojo=00f067aa0ba902b7".into())),
        ]);
        let p = parent_from_meta(&meta).unwrap();
        assert_eq!(p.trace_id, 0x0af7651916cd43dd8448eb211c80319c);
        assert_eq!(p.span_id, 0xb7ad6b7169203331);
        assert!(p.sampled);
        assert_eq!(p.trace_state, "rojo=00f067aa0ba902b7");
        assert_eq!(p.source, "w3c");
    }

    #[test]
    fn sentry_headers_dict() {
        let headers = dict(&[
            (
                "sentry-trace",
                Value::Str("771a43a4192642f0b136d5159a501700-b7ad6b7169203331-0".into()),
            ),
            ("baggage", Value::Str("sentry-trace_id=771a".into())),
        ]);
        let p = parent_from_meta(&dict(&[("_sentry_trace_headers", headers)])).unwrap();
        assert_eq!(p.trace_id, 0x771a43a4192642f0b136d5159a501700);
        assert!(!p.sampled);
        assert_eq!(p.source, "sentry");
    }

    #[test]
    fn datadog_with_128_bit_trace_id() {
        let meta = dict(&[
            (
                "x-datadog-trace-id",
                Value::Str("5208512171318403364".into()),
            ),
            ("x-datadog-parent-id", Value::Str("1234".into())),
            ("x-datadog-sampling-priority", Value::Str("1".into())),
            (
                "x-datadog-tags",
                Value::Str("_dd.p.dm=-0,_dd.p.tid=640cfd8d00000000".into()),
            ),
        ]);
        let p = parent_from_meta(&meta).unwrap();
        assert_eq!(
            p.trace_id,
            (0x640cfd8d00000000u128 << 64) | 5208512171318403364
        );
        assert_eq!(p.span_id, 1234);
        assert!(p.sampled);
        assert_eq!(p.source, "datadog");
    }

    #[test]
    fn w3c_wins_and_bad_headers_are_ignored() {
        for bad in [
            "00-00000000000000000000000000000000-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
            "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",
            "00-xyz-b7ad6b7169203331-01",
            "",
        ] {
            assert_eq!(parse_traceparent(bad), None, "{bad}");
        }
        assert!(
            parse_traceparent("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-x")
                .is_some()
        );
        let meta = dict(&[
            ("traceparent", Value::Str("garbage".into())),
            ("x-datadog-trace-id", Value::Str("7".into())),
            ("x-datadog-parent-id", Value::Str("8".into())),
        ]);
        assert_eq!(parent_from_meta(&meta).unwrap().source, "datadog");
        assert_eq!(parent_from_meta(&Value::List(vec![])), None);
        assert_eq!(
            parent_from_meta(&dict(&[("traceparent", Value::Int(1))])),
            None
        );
    }
}
