//! The job hash `rq:job:<id>` as the worker reads it (rq-protocol.md §3).
//!
//! Parsing is strict where RQ's own reader is strict (integer fields, datetimes) so that a hash
//! Python would choke on is failed with a clear message instead of being run with guesses.
//! Only the fields the worker needs are modelled; the raw `data` and `meta` bytes are kept
//! as they are and never re-encoded (§12.6).

use std::collections::HashMap;

/// Default `timeout` of `Queue.DEFAULT_TIMEOUT` when the hash has none (§6.4).
pub const DEFAULT_JOB_TIMEOUT: i64 = 180;
/// Default `failure_ttl` (`rq.defaults.DEFAULT_FAILURE_TTL`, one year).
pub const DEFAULT_FAILURE_TTL: i64 = 31_536_000;

/// Job status values (§9.1), including RQ 3.0's additions.
pub mod status {
    /// Saved but not enqueued (RQ 3.0).
    pub const CREATED: &str = "created";
    /// On its queue, waiting for a worker.
    pub const QUEUED: &str = "queued";
    /// Running on a worker.
    pub const STARTED: &str = "started";
    /// Waiting for its dependencies (`rq:deferred:<q>`).
    pub const DEFERRED: &str = "deferred";
    /// Waiting for its time (`rq:scheduled:<q>`).
    pub const SCHEDULED: &str = "scheduled";
    /// Ended with a result.
    pub const FINISHED: &str = "finished";
    /// Ended with an exception, retries used up.
    pub const FAILED: &str = "failed";
    /// Stopped by a stop-job command.
    pub const STOPPED: &str = "stopped";
    /// Canceled (`job.cancel()`); never runs, never releases its dependents.
    pub const CANCELED: &str = "canceled";
}

/// `HGETALL rq:job:<id>`; its reply is what [`JobHash::new`] takes.
pub fn load(keys: &super::Keys, id: &str) -> redis::Cmd {
    let mut c = redis::cmd("HGETALL");
    c.arg(keys.job(id));
    c
}

/// `job.save_meta()` on `job_key` (`Keys::job`): `HSET meta <serializer.dumps(meta)>` (not
/// compressed).
pub fn save_meta(job_key: &str, meta: Vec<u8>) -> redis::Cmd {
    let mut c = redis::cmd("HSET");
    c.arg(job_key).arg("meta").arg(meta);
    c
}

/// A job hash read with `HGETALL`.
#[derive(Debug, Clone, Default)]
pub struct JobHash {
    /// The job id (the `<id>` of `rq:job:<id>`).
    pub id: String,
    fields: HashMap<String, Vec<u8>>,
}

/// A field that is present but not what RQ writes there.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("job hash field '{field}' has an invalid value {value:?}: {why}")]
pub struct FieldError {
    /// The field name.
    pub field: &'static str,
    /// Its value, as text.
    pub value: String,
    /// What RQ writes there instead.
    pub why: &'static str,
}

impl JobHash {
    /// The hash of job `id` from its `HGETALL` fields.
    pub fn new(id: &str, fields: HashMap<String, Vec<u8>>) -> Self {
        JobHash {
            id: id.to_string(),
            fields,
        }
    }

    /// The hash as RQ's worker holds it in memory while its work horse runs the job: the
    /// fields read when the job was taken, with those `Job.prepare_for_execution` sets
    /// (`status`, `worker_name`, `started_at` and `last_heartbeat`, both `at`). RQ's horse runs
    /// that in-memory job and never reads the hash again; a process that runs the job
    /// elsewhere restores it from these fields (`Job.restore`) instead of fetching it.
    pub fn as_started(&self, worker: &str, at: crate::time::Timestamp) -> Vec<(String, Vec<u8>)> {
        const SET: [&str; 4] = ["status", "worker_name", "started_at", "last_heartbeat"];
        let ts = crate::time::format_datetime(at).into_bytes();
        let mut out: Vec<(String, Vec<u8>)> = self
            .fields
            .iter()
            .filter(|(k, _)| !SET.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        out.push(("status".into(), status::STARTED.as_bytes().to_vec()));
        out.push(("worker_name".into(), worker.as_bytes().to_vec()));
        out.push(("started_at".into(), ts.clone()));
        out.push(("last_heartbeat".into(), ts));
        out
    }

    /// An empty `HGETALL` reply means the hash is gone.
    pub fn exists(&self) -> bool {
        !self.fields.is_empty()
    }

    /// A field's bytes as Redis holds them.
    pub fn raw(&self, field: &str) -> Option<&[u8]> {
        self.fields.get(field).map(|v| v.as_slice())
    }

    /// A text field; invalid UTF-8 is replaced rather than trusted.
    pub fn text(&self, field: &str) -> Option<String> {
        self.raw(field)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }

    fn nonempty_text(&self, field: &str) -> Option<String> {
        self.text(field).filter(|s| !s.is_empty())
    }

    /// The `data` field: the compressed, serialized call (see [`crate::codec`]).
    pub fn data(&self) -> Option<&[u8]> {
        self.raw("data")
    }

    /// The `meta` field (serialized, not compressed); `None` when absent or empty.
    pub fn meta(&self) -> Option<&[u8]> {
        self.raw("meta").filter(|m| !m.is_empty())
    }

    /// Queue the job came from; the worker falls back to the queue it popped it from.
    pub fn origin(&self) -> Option<String> {
        self.nonempty_text("origin")
    }

    /// The `status` field (see [`status`]).
    pub fn status(&self) -> Option<String> {
        self.nonempty_text("status")
    }

    /// The `description` field (the call string).
    pub fn description(&self) -> Option<String> {
        self.text("description")
    }

    /// The `enqueued_at` field, RQ datetime text.
    pub fn enqueued_at(&self) -> Option<String> {
        self.nonempty_text("enqueued_at")
    }

    /// The `created_at` field, RQ datetime text.
    pub fn created_at(&self) -> Option<String> {
        self.nonempty_text("created_at")
    }

    /// `timeout` in seconds: `None` when absent, `-1` for no limit. RQ stores integers; like
    /// `rq.utils.parse_timeout` we also take `<int><d|h|m|s>`.
    pub fn timeout(&self) -> Result<Option<i64>, FieldError> {
        let Some(raw) = self.nonempty_text("timeout") else {
            return Ok(None);
        };
        parse_timeout(&raw).map(Some).ok_or(FieldError {
            field: "timeout",
            value: raw,
            why: "expected integer seconds",
        })
    }

    fn int_field(&self, field: &'static str) -> Result<Option<i64>, FieldError> {
        match self.nonempty_text(field) {
            None => Ok(None),
            Some(raw) => raw.trim().parse::<i64>().map(Some).map_err(|_| FieldError {
                field,
                value: raw,
                why: "expected an integer",
            }),
        }
    }

    /// Seconds a success keeps its result and the job (0: nothing, -1: forever).
    pub fn result_ttl(&self) -> Result<Option<i64>, FieldError> {
        self.int_field("result_ttl")
    }

    /// Seconds a failure keeps the job and its result (`None`: one year).
    pub fn failure_ttl(&self) -> Result<Option<i64>, FieldError> {
        self.int_field("failure_ttl")
    }

    /// The job's own `ttl`: seconds its key lives while it waits to run (applied again
    /// when it is enqueued).
    pub fn ttl(&self) -> Result<Option<i64>, FieldError> {
        self.int_field("ttl")
    }

    /// Retries left (`Retry(max=…)`), `None` when the job does not retry.
    pub fn retries_left(&self) -> Result<Option<i64>, FieldError> {
        self.int_field("retries_left")
    }

    /// Times the job returned a `Retry` and ran again (RQ ≥ 2.12), `None` when unset.
    pub fn number_of_retries(&self) -> Result<Option<i64>, FieldError> {
        self.int_field("number_of_retries")
    }

    /// Repeats left (`Repeat(times=…)`), `None` when the job does not repeat.
    pub fn repeats_left(&self) -> Result<Option<i64>, FieldError> {
        self.int_field("repeats_left")
    }

    fn int_list(&self, field: &'static str) -> Result<Option<Vec<i64>>, FieldError> {
        match self.nonempty_text(field) {
            None => Ok(None),
            Some(raw) => serde_json::from_str::<Vec<i64>>(&raw)
                .map(Some)
                .map_err(|_| FieldError {
                    field,
                    value: raw,
                    why: "expected a JSON list of integers",
                }),
        }
    }

    /// Seconds to wait before each retry (`Retry(interval=…)`).
    pub fn retry_intervals(&self) -> Result<Option<Vec<i64>>, FieldError> {
        self.int_list("retry_intervals")
    }

    /// Seconds to wait before each repeat (`Repeat(interval=…)`).
    pub fn repeat_intervals(&self) -> Result<Option<Vec<i64>>, FieldError> {
        self.int_list("repeat_intervals")
    }

    /// The ids of the jobs this one depends on: `dependency_ids` (a JSON list), or the single
    /// `dependency_id` older RQ versions write.
    pub fn dependency_ids(&self) -> Result<Vec<String>, FieldError> {
        match self.nonempty_text("dependency_ids") {
            None => Ok(self.nonempty_text("dependency_id").into_iter().collect()),
            Some(raw) => serde_json::from_str::<Vec<String>>(&raw).map_err(|_| FieldError {
                field: "dependency_ids",
                value: raw,
                why: "expected a JSON list of job ids",
            }),
        }
    }

    fn flag(&self, field: &str) -> bool {
        matches!(
            self.text(field).as_deref().map(str::trim),
            Some("1") | Some("True") | Some("true")
        )
    }

    /// A retried job goes to the front of its queue.
    pub fn enqueue_at_front_on_retry(&self) -> bool {
        self.flag("enqueue_at_front_on_retry")
    }

    /// The job was enqueued at the front of its queue (and goes there again).
    pub fn enqueue_at_front(&self) -> bool {
        self.flag("enqueue_at_front")
    }

    /// The job runs even when a dependency failed.
    pub fn allow_dependency_failures(&self) -> bool {
        self.flag("allow_dependency_failures")
    }

    /// RQ 3.0 rate limiting (§11).
    pub fn rate_limit_key(&self) -> Option<String> {
        self.nonempty_text("rate_limit_key")
    }

    /// RQ 3.0's concurrency limit of the job (`Job.has_rate_limit`: a key and a non-zero
    /// `rate_limit_concurrency`), see `rq::rate_limit`.
    pub fn rate_limit(&self) -> Option<super::rate_limit::Limit> {
        let key = self.rate_limit_key()?;
        let concurrency = self
            .nonempty_text("rate_limit_concurrency")?
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|c| *c != 0)?;
        Some(super::rate_limit::Limit { key, concurrency })
    }

    /// The callback of one kind (`on_success`, `on_failure`, `on_stopped`): RQ stores its
    /// function name in `<kind>_callback_name` and its timeout in `<kind>_callback_timeout`
    /// (`rq.defaults.CALLBACK_TIMEOUT`, 60 s, when absent).
    pub fn callback(&self, kind: CallbackKind) -> Result<Option<CallbackSpec>, FieldError> {
        let (name_field, timeout_field) = kind.fields();
        let Some(name) = self.nonempty_text(name_field) else {
            return Ok(None);
        };
        let timeout = self.int_field(timeout_field)?.unwrap_or(CALLBACK_TIMEOUT);
        Ok(Some(CallbackSpec {
            kind,
            name,
            timeout,
        }))
    }

    /// The validated settings the executor needs, or the first invalid field.
    pub fn settings(&self) -> Result<JobSettings, FieldError> {
        Ok(JobSettings {
            timeout: self.timeout()?,
            result_ttl: self.result_ttl()?,
            failure_ttl: self.failure_ttl()?,
            ttl: self.ttl()?,
            retries_left: self.retries_left()?,
            retry_intervals: self.retry_intervals()?,
        })
    }
}

/// `rq.defaults.CALLBACK_TIMEOUT`: the limit of a callback whose job does not set one.
pub const CALLBACK_TIMEOUT: i64 = 60;

/// The three callbacks of a job (`Queue.enqueue(on_success=…, on_failure=…, on_stopped=…)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackKind {
    /// `on_success`.
    Success,
    /// `on_failure`.
    Failure,
    /// `on_stopped`.
    Stopped,
}

impl CallbackKind {
    /// The three kinds.
    pub const ALL: [CallbackKind; 3] = [
        CallbackKind::Success,
        CallbackKind::Failure,
        CallbackKind::Stopped,
    ];

    /// The hash fields of its name and timeout.
    fn fields(self) -> (&'static str, &'static str) {
        match self {
            CallbackKind::Success => ("success_callback_name", "success_callback_timeout"),
            CallbackKind::Failure => ("failure_callback_name", "failure_callback_timeout"),
            CallbackKind::Stopped => ("stopped_callback_name", "stopped_callback_timeout"),
        }
    }

    /// The `Queue.enqueue` argument that sets it.
    pub fn argument(self) -> &'static str {
        match self {
            CallbackKind::Success => "on_success",
            CallbackKind::Failure => "on_failure",
            CallbackKind::Stopped => "on_stopped",
        }
    }
}

/// One callback as the job hash names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackSpec {
    /// Which of the three it is.
    pub kind: CallbackKind,
    /// The function's dotted name (`Callback.name`), e.g. `app.hooks.notify` or `noop`.
    pub name: String,
    /// Seconds (`<kind>_callback_timeout`, else 60).
    pub timeout: i64,
}

/// Per-job settings after validation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobSettings {
    /// Seconds; `-1` no limit, `None` the default (see [`JobSettings::effective_timeout`]).
    pub timeout: Option<i64>,
    /// See [`JobHash::result_ttl`].
    pub result_ttl: Option<i64>,
    /// See [`JobHash::failure_ttl`].
    pub failure_ttl: Option<i64>,
    /// See [`JobHash::ttl`].
    pub ttl: Option<i64>,
    /// See [`JobHash::retries_left`].
    pub retries_left: Option<i64>,
    /// See [`JobHash::retry_intervals`].
    pub retry_intervals: Option<Vec<i64>>,
}

impl JobSettings {
    /// The limit the job runs under: `timeout or 180`; `None` means no limit (`-1`).
    pub fn effective_timeout(&self) -> Option<i64> {
        match self.timeout {
            Some(t) if t < 0 => None,
            Some(0) | None => Some(DEFAULT_JOB_TIMEOUT),
            Some(t) => Some(t),
        }
    }

    /// `job.get_result_ttl(default)`.
    pub fn result_ttl_or(&self, default: i64) -> i64 {
        self.result_ttl.unwrap_or(default)
    }

    /// TTL applied to the job keys and the failed-registry score on failure.
    pub fn failure_ttl_or_default(&self) -> i64 {
        self.failure_ttl.unwrap_or(DEFAULT_FAILURE_TTL)
    }
}

/// `rq.utils.parse_timeout`: an integer, or digits followed by `d`, `h`, `m` or `s`.
pub fn parse_timeout(raw: &str) -> Option<i64> {
    let s = raw.trim();
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    let (digits, unit) = s.split_at(s.len().checked_sub(1)?);
    let n: i64 = digits.parse().ok()?;
    let mult = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "s" => 1,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// Heartbeat TTL (§6): `int(min(timeout − elapsed, 30)) + 60`, or 90 without a timeout.
pub fn heartbeat_ttl(timeout: Option<i64>, elapsed_secs: f64, monitoring_interval: i64) -> i64 {
    match timeout {
        Some(t) if t > 0 => {
            let remaining = t as f64 - elapsed_secs;
            // int() truncates toward zero; a job past its limit still gets a positive TTL.
            (remaining.min(monitoring_interval as f64) as i64).max(1) + 60
        }
        _ => monitoring_interval + 60,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(pairs: &[(&str, &str)]) -> JobHash {
        JobHash::new(
            "j",
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
                .collect(),
        )
    }

    #[test]
    fn as_started_sets_what_prepare_for_execution_sets() {
        let h = hash(&[
            ("status", "queued"),
            ("data", "x"),
            ("worker_name", ""),
            ("origin", "default"),
        ]);
        let at = crate::time::parse_datetime("2026-12-07T10:00:00.000001Z").unwrap();
        let mut fields = h.as_started("w1", at);
        fields.sort();
        let text: Vec<(&str, String)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), String::from_utf8_lossy(v).into_owned()))
            .collect();
        let ts = "2026-12-07T10:00:00.000001Z".to_string();
        assert_eq!(
            text,
            vec![
                ("data", "x".to_string()),
                ("last_heartbeat", ts.clone()),
                ("origin", "default".to_string()),
                ("started_at", ts),
                ("status", "started".to_string()),
                ("worker_name", "w1".to_string()),
            ]
        );
    }

    #[test]
    fn settings_parse_and_default() {
        let h = hash(&[
            ("timeout", "180"),
            ("result_ttl", "-1"),
            ("retry_intervals", "[0, 10]"),
        ]);
        let s = h.settings().unwrap();
        assert_eq!(s.timeout, Some(180));
        assert_eq!(s.result_ttl_or(500), -1);
        assert_eq!(s.retry_intervals, Some(vec![0, 10]));
        assert_eq!(s.failure_ttl_or_default(), DEFAULT_FAILURE_TTL);
        assert_eq!(
            hash(&[("timeout", "-1")])
                .settings()
                .unwrap()
                .effective_timeout(),
            None
        );
        assert_eq!(hash(&[]).settings().unwrap().effective_timeout(), Some(180));
        assert_eq!(hash(&[("timeout", "2m")]).timeout().unwrap(), Some(120));
    }

    #[test]
    fn bad_fields_are_errors() {
        let e = hash(&[("timeout", "abc")]).settings().unwrap_err();
        assert_eq!(e.field, "timeout");
        assert!(hash(&[("timeout", "180.0")]).timeout().is_err());
        assert!(hash(&[("retries_left", "x")]).settings().is_err());
        assert!(hash(&[("retry_intervals", "{")]).settings().is_err());
    }

    #[test]
    fn heartbeat_ttl_like_rq() {
        assert_eq!(heartbeat_ttl(Some(180), 0.0, 30), 90);
        assert_eq!(heartbeat_ttl(Some(10), 0.0, 30), 70);
        assert_eq!(heartbeat_ttl(None, 0.0, 30), 90);
        assert_eq!(heartbeat_ttl(Some(10), 9.5, 30), 61);
    }

    #[test]
    fn callbacks_as_rq_stores_them() {
        let h = hash(&[
            ("success_callback_name", "noop"),
            ("success_callback_timeout", "7"),
            ("failure_callback_name", "app.hooks.on_fail"),
            ("stopped_callback_timeout", "3"),
        ]);
        assert_eq!(
            h.callback(CallbackKind::Success).unwrap(),
            Some(CallbackSpec {
                kind: CallbackKind::Success,
                name: "noop".into(),
                timeout: 7
            })
        );
        let f = h.callback(CallbackKind::Failure).unwrap().unwrap();
        assert_eq!(
            (f.name.as_str(), f.timeout),
            ("app.hooks.on_fail", CALLBACK_TIMEOUT)
        );
        // A timeout without a name is no callback.
        assert_eq!(h.callback(CallbackKind::Stopped).unwrap(), None);
        let bad = hash(&[
            ("success_callback_name", "noop"),
            ("success_callback_timeout", "soon"),
        ]);
        assert!(bad.callback(CallbackKind::Success).is_err());
    }
}
