//! RQ's webhooks (RQ 2.12+, `rq.webhook.Webhook`, rq-protocol.md §3.3): HTTP requests sent when
//! a job reaches a terminal state, `finished` or `failed`.
//!
//! `Queue.enqueue(f, webhooks=[Webhook(url, 'finished', method='POST', headers={...},
//! timeout=10)])` stores them in the job hash field `webhooks` as `json.dumps` of a list of
//! `{"url", "job_status", "method", "headers", "timeout"}` objects. A worker sends each webhook
//! whose `job_status` is the status the job ended with:
//! * `GET`: no body;
//! * `POST`: the payload ([`payload`]) as JSON, with `Content-Type: application/json` (a header
//!   of the webhook's own may replace it).
//!
//! This module is the model only: parsing the field ([`parse`], as tolerant as RQ: a field RQ
//! cannot read means no webhook, with a warning by the caller), the payload bytes
//! ([`payload`], byte for byte `json.dumps` of RQ's `Webhook.get_payload`) and the requests
//! of one job end ([`requests`]). Sending is the worker's.

use crate::json;
use crate::time::Timestamp;
use crate::value::{Limits, Value};

/// The job status a webhook is sent for (`Webhook.job_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// `finished`: after the job's success is written.
    Finished,
    /// `failed`: after its failure for good is written (not for a retry, not for a stop).
    Failed,
}

impl Status {
    /// `finished` or `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Finished => "finished",
            Status::Failed => "failed",
        }
    }
}

/// The HTTP method of a webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET` (RQ's default), without a body.
    Get,
    /// `POST` with the JSON payload.
    Post,
}

impl Method {
    /// `GET` or `POST`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// `Webhook.timeout` when the stored object has none (seconds).
pub const DEFAULT_TIMEOUT: u64 = 10;

/// One webhook as the job hash stores it (`Webhook.to_dict()`), validated as
/// `Webhook.__init__` validates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// An `http://` or `https://` URL with a host.
    pub url: String,
    /// When it is sent.
    pub job_status: Status,
    /// How.
    pub method: Method,
    /// Its own headers, in their order (`None` in RQ is an empty list here).
    pub headers: Vec<(String, String)>,
    /// Seconds the request may take (a positive integer).
    pub timeout: u64,
}

/// Why the `webhooks` field cannot be read; RQ then logs "failed to deserialize webhooks" and
/// the job has none.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// Not JSON `json.loads` reads.
    #[error("the webhooks field is not valid JSON: {0}")]
    Json(String),
    /// JSON, but not a list of webhook objects.
    #[error("the webhooks field is not a JSON list of webhook objects")]
    NotAList,
    /// Webhook number `index` (from 0) is invalid: `why` is what `Webhook(...)` would raise.
    #[error("webhook {index} is invalid: {why}")]
    Invalid {
        /// Its place in the list.
        index: usize,
        /// The reason, in the words of RQ's `ValueError`/`TypeError`/`KeyError`.
        why: String,
    },
}

/// The webhooks of a job from its `webhooks` field (`Job.restore`: `[Webhook.from_dict(d) for
/// d in json.loads(field)]`). An empty field means none. As in RQ, one invalid entry makes the
/// whole field unreadable.
pub fn parse(raw: &[u8]) -> Result<Vec<Webhook>, WebhookError> {
    if raw.is_empty() {
        return Ok(Vec::new());
    }
    let limits = Limits {
        max_bytes: 1024 * 1024,
        ..Limits::default()
    };
    let value = json::decode(raw, &limits).map_err(|e| WebhookError::Json(e.to_string()))?;
    let items = match value {
        Value::List(items) => items,
        // Python iterates whatever `json.loads` returned: an empty dict or string is an empty
        // list of webhooks; anything else fails in `from_dict`.
        other if !other.is_truthy() && matches!(other, Value::Dict(_) | Value::Str(_)) => {
            return Ok(Vec::new())
        }
        _ => return Err(WebhookError::NotAList),
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| from_dict(item).map_err(|why| WebhookError::Invalid { index, why }))
        .collect()
}

/// `Webhook.from_dict(data)` with `Webhook.__init__`'s checks.
fn from_dict(data: &Value) -> Result<Webhook, String> {
    if !matches!(data, Value::Dict(_)) {
        return Err(format!("expected an object, got {}", data.py_type_name()));
    }
    let url = match data.get("url") {
        None => return Err("KeyError: 'url'".into()),
        Some(Value::Str(url)) if url_ok(url) => url.clone(),
        Some(other) => {
            return Err(format!(
                "url must be an http:// or https:// URL, got {}",
                other.py_repr()
            ))
        }
    };
    let job_status = match data.get("job_status").map(|v| (v, v.as_str())) {
        None => return Err("KeyError: 'job_status'".into()),
        Some((_, Some("finished"))) => Status::Finished,
        Some((_, Some("failed"))) => Status::Failed,
        Some((v, _)) => {
            return Err(format!(
                "job_status must be 'finished' or 'failed', got {}",
                v.py_repr()
            ))
        }
    };
    let method = match data.get("method").map(|v| (v, v.as_str())) {
        None | Some((_, Some("GET"))) => Method::Get,
        Some((_, Some("POST"))) => Method::Post,
        Some((v, _)) => {
            return Err(format!(
                "method must be 'GET' or 'POST', got {}",
                v.py_repr()
            ))
        }
    };
    let headers = match data.get("headers") {
        Some(Value::Dict(pairs)) => pairs
            .iter()
            .map(|(k, v)| match (k, header_value(v)) {
                (Value::Str(k), Some(v)) => Ok((k.clone(), v)),
                _ => Err(format!(
                    "header {} has a value that is not a string: {}",
                    k.py_repr(),
                    v.py_repr()
                )),
            })
            .collect::<Result<Vec<_>, _>>()?,
        // `if headers and not isinstance(headers, dict)`: a false value is no headers.
        None => Vec::new(),
        Some(v) if !v.is_truthy() => Vec::new(),
        Some(v) => {
            return Err(format!(
                "headers must be a dict or None, got {}",
                v.py_type_name()
            ))
        }
    };
    let timeout = match data.get("timeout") {
        None => DEFAULT_TIMEOUT,
        // `isinstance(True, int)`: Python's bool is an int.
        Some(Value::Bool(true)) => 1,
        Some(Value::Int(t)) if *t > 0 => *t as u64,
        Some(Value::BigInt(n)) if n.sign() == num_bigint::Sign::Plus => u64::MAX,
        Some(v) => {
            return Err(format!(
                "timeout must be a positive integer, got {}",
                v.py_repr()
            ))
        }
    };
    Ok(Webhook {
        url,
        job_status,
        method,
        headers,
        timeout,
    })
}

/// A header value as `http.client` sends it: a string, or an integer as its digits (anything
/// else makes RQ's send fail; refused here).
fn header_value(v: &Value) -> Option<String> {
    match v {
        Value::Str(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::BigInt(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `urlparse(url)`: the scheme is `http` or `https` (any case) and the netloc is not empty.
fn url_ok(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https");
    let netloc = rest
        .strip_prefix("//")
        .map(|r| r.split(['/', '?', '#']).next().unwrap_or(""))
        .unwrap_or("");
    scheme_ok && !netloc.is_empty()
}

/// Python's `datetime.isoformat()` of an aware UTC datetime, as RQ's `Webhook.get_payload`
/// writes `enqueued_at` and `ended_at`: `2026-12-07T19:27:45.123456+00:00`, without the
/// fraction when its microseconds are 0.
pub fn isoformat(t: Timestamp) -> String {
    let micros = t.timestamp_subsec_micros() % 1_000_000;
    let base = t.format("%Y-%m-%dT%H:%M:%S");
    if micros == 0 {
        format!("{base}+00:00")
    } else {
        format!("{base}.{micros:06}+00:00")
    }
}

/// What the payload says about the job (`Webhook.get_payload(job, exc_string=...)`).
#[derive(Debug, Clone, Copy)]
pub struct JobFacts<'a> {
    /// `job.id`.
    pub job_id: &'a str,
    /// `job.func_name`; `None` (JSON `null`) when the job's data could not be read.
    pub func_name: Option<&'a str>,
    /// `job.enqueued_at`.
    pub enqueued_at: Option<Timestamp>,
    /// `job.ended_at`.
    pub ended_at: Option<Timestamp>,
    /// The failure text (`exc_string`), sent as `exc_info` in `failed` payloads.
    pub exc_string: Option<&'a str>,
}

/// The POST body: `json.dumps(webhook.get_payload(job, exc_string=...))`, byte for byte —
/// keys `job_id`, `func_name`, `status`, `enqueued_at`, `ended_at` and, for `failed`,
/// `exc_info`, with `json.dumps`'s separators and `ensure_ascii`.
pub fn payload(status: Status, job: &JobFacts<'_>) -> Vec<u8> {
    let s = |v: &str| Value::Str(v.to_string());
    let opt = |v: Option<String>| v.map(Value::Str).unwrap_or(Value::None);
    let mut pairs = vec![
        (s("job_id"), s(job.job_id)),
        (s("func_name"), opt(job.func_name.map(str::to_string))),
        (s("status"), s(status.as_str())),
        (s("enqueued_at"), opt(job.enqueued_at.map(isoformat))),
        (s("ended_at"), opt(job.ended_at.map(isoformat))),
    ];
    if status == Status::Failed {
        pairs.push((s("exc_info"), opt(job.exc_string.map(str::to_string))));
    }
    // Only strings and None: json.dumps cannot fail on them.
    json::encode(&Value::Dict(pairs)).unwrap_or_default()
}

/// One HTTP request to send (`Webhook.send`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Request {
    /// The job it is about.
    pub job_id: String,
    /// The status it reports.
    pub status: Status,
    /// Where.
    pub url: String,
    /// How.
    pub method: Method,
    /// The headers, each name once (compared without case, the last value wins, in the place
    /// of the first, as `urllib.request.Request` keeps them): for `POST`,
    /// `Content-Type: application/json` first, then the webhook's own.
    pub headers: Vec<(String, String)>,
    /// Seconds the request may take.
    pub timeout: u64,
    /// The JSON payload for `POST`; `None` for `GET`.
    pub body: Option<Vec<u8>>,
}

/// The requests of a job that ended with `status`: one per webhook of that status, in their
/// order (`Job.send_webhooks`).
pub fn requests(webhooks: &[Webhook], status: Status, job: &JobFacts<'_>) -> Vec<Request> {
    let mut json_body = None;
    webhooks
        .iter()
        .filter(|w| w.job_status == status)
        .map(|w| {
            let (headers, body) = match w.method {
                Method::Get => (merge_headers(&[], &w.headers), None),
                Method::Post => {
                    let json = json_body
                        .get_or_insert_with(|| payload(status, job))
                        .clone();
                    let content_type = [("Content-Type".to_string(), "application/json".into())];
                    (merge_headers(&content_type, &w.headers), Some(json))
                }
            };
            Request {
                job_id: job.job_id.to_string(),
                status,
                url: w.url.clone(),
                method: w.method,
                headers,
                timeout: w.timeout,
                body,
            }
        })
        .collect()
}

/// `{**first, **then}` as urllib applies it (`Request.add_header` capitalizes the name, so
/// names differing in case are one header).
fn merge_headers(first: &[(String, String)], then: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in first.iter().chain(then) {
        match out.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(k)) {
            Some(existing) => existing.1 = v.clone(),
            None => out.push((k.clone(), v.clone())),
        }
    }
    out
}

#[cfg(test)]
mod tests;
