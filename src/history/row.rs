//! One `task_executions` row as the worker knows it: built from a start or end event, merged
//! when both are known before the row is written, and cleaned of what PostgreSQL refuses or
//! must not store (NUL characters, secrets).

use serde_json::Value as Json;

use crate::tasks::backend_wrapper::requested_task;
use rq_protocol::time::{parse_datetime, Timestamp};
use rq_protocol::value::Value;
use rq_worker::events::{EndKind, JobEnded, JobStarted};

/// What replaces the value of a secret-looking dict key in args/kwargs.
pub const REDACTED: &str = "[redacted]";
/// Largest JSON text (bytes) kept for one args/kwargs/result value; bigger values are replaced
/// by a `{"$truncated": true, "bytes": n}` marker so one huge payload cannot fill the buffer.
pub const MAX_JSON_BYTES: usize = 1 << 20;

/// The `status` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Started,
    Finished,
    Failed,
    Stopped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Started => "started",
            Status::Finished => "finished",
            Status::Failed => "failed",
            Status::Stopped => "stopped",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "started" => Some(Status::Started),
            "finished" => Some(Status::Finished),
            "failed" => Some(Status::Failed),
            "stopped" => Some(Status::Stopped),
            _ => None,
        }
    }

    pub fn is_terminal(self) -> bool {
        self != Status::Started
    }
}

/// The identity of a row (the table's primary key).
pub type Key = (String, String);

/// A row to upsert. `None` fields leave what the table has (see `writer::UPSERT`).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub job_id: String,
    pub execution_id: String,
    pub queue: Option<String>,
    pub func_name: Option<String>,
    pub task_name: Option<String>,
    pub args: Option<Json>,
    pub kwargs: Option<Json>,
    pub status: Status,
    /// Failed, and another attempt was scheduled (the engine's `EndKind::Retried`).
    pub retried: bool,
    pub result: Option<Json>,
    pub error: Option<String>,
    pub worker_name: Option<String>,
    pub enqueued_at: Option<Timestamp>,
    pub started_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
}

#[cfg(test)]
impl Row {
    /// A row with only its identity and status set (tests).
    pub(crate) fn bare(job_id: &str, status: Status) -> Row {
        Row {
            job_id: job_id.into(),
            execution_id: "e".into(),
            queue: None,
            func_name: None,
            task_name: None,
            args: None,
            kwargs: None,
            status,
            retried: false,
            result: None,
            error: None,
            worker_name: None,
            enqueued_at: None,
            started_at: None,
            ended_at: None,
        }
    }
}

impl Row {
    pub fn key(&self) -> Key {
        (self.job_id.clone(), self.execution_id.clone())
    }

    /// The row written when a job starts.
    pub fn started(ev: &JobStarted<'_>) -> Row {
        let args = Json::Array(ev.args.iter().map(Value::to_json).collect());
        let kwargs = Json::Object(
            ev.kwargs
                .iter()
                .map(|(k, v)| (k.clone(), v.to_json()))
                .collect(),
        );
        Row {
            job_id: clean_text(&ev.exec.job_id),
            execution_id: clean_text(&ev.exec.execution_id),
            queue: Some(clean_text(&ev.exec.queue)),
            func_name: ev.func_name.map(clean_text),
            task_name: task_name(ev.task, ev.func_name, ev.args).map(|t| clean_text(&t)),
            args: Some(prepare_json(args, true)),
            kwargs: Some(prepare_json(kwargs, true)),
            status: Status::Started,
            retried: false,
            result: None,
            error: None,
            worker_name: Some(clean_text(&ev.exec.worker)),
            enqueued_at: ev.hash.enqueued_at().as_deref().and_then(parse_datetime),
            started_at: Some(ev.exec.started_at),
            ended_at: None,
        }
    }

    /// The update written when a job ends. A retried attempt is stored as `failed`, with
    /// `retried` set; the next attempt is a new execution and so a new row.
    pub fn ended(ev: &JobEnded<'_>) -> Row {
        let (status, retried) = match ev.kind {
            EndKind::Finished => (Status::Finished, false),
            EndKind::Failed => (Status::Failed, false),
            EndKind::Stopped => (Status::Stopped, false),
            EndKind::Retried => (Status::Failed, true),
        };
        // `None` returns are stored as SQL NULL, as RQ leaves `return_value` out for them.
        let result = ev
            .return_value
            .filter(|v| **v != Value::None)
            .map(|v| prepare_json(v.to_json(), false));
        Row {
            job_id: clean_text(&ev.exec.job_id),
            execution_id: clean_text(&ev.exec.execution_id),
            queue: Some(clean_text(&ev.exec.queue)),
            func_name: ev.func_name.map(clean_text),
            task_name: ev.task.map(clean_text),
            args: None,
            kwargs: None,
            status,
            retried,
            result,
            error: ev.error.map(clean_text),
            worker_name: Some(clean_text(&ev.exec.worker)),
            enqueued_at: None,
            started_at: Some(ev.exec.started_at),
            ended_at: Some(ev.ended_at),
        }
    }

    /// Folds a newer row for the same key into this one, with the rules of the SQL upsert:
    /// known fields win over unknown ones, and `started` never replaces a terminal status.
    pub fn merge(&mut self, newer: Row) {
        fn take<T>(old: &mut Option<T>, new: Option<T>) {
            if new.is_some() {
                *old = new;
            }
        }
        take(&mut self.queue, newer.queue);
        take(&mut self.func_name, newer.func_name);
        take(&mut self.task_name, newer.task_name);
        take(&mut self.args, newer.args);
        take(&mut self.kwargs, newer.kwargs);
        if newer.status.is_terminal() {
            self.status = newer.status;
            self.retried = newer.retried;
        }
        take(&mut self.result, newer.result);
        take(&mut self.error, newer.error);
        take(&mut self.worker_name, newer.worker_name);
        take(&mut self.enqueued_at, newer.enqueued_at);
        take(&mut self.started_at, newer.started_at);
        take(&mut self.ended_at, newer.ended_at);
    }
}

/// The `task_name` column: the handler that ran; for the backend's wrapper whose task did not
/// resolve, its first argument (the requested task name); otherwise unknown.
fn task_name(resolved: Option<&str>, func: Option<&str>, args: &[Value]) -> Option<String> {
    if let Some(t) = resolved {
        return Some(t.to_string());
    }
    requested_task(func, args).map(str::to_string)
}

/// PostgreSQL `text` cannot hold NUL; job ids and errors come from outside.
pub fn clean_text(s: &str) -> String {
    s.replace('\0', "\u{FFFD}")
}

/// Redacts secrets (when asked), removes NULs (`jsonb` refuses `\u0000`) and caps the size.
pub fn prepare_json(mut v: Json, redact: bool) -> Json {
    scrub(&mut v, redact);
    let size = serde_json::to_vec(&v).map(|b| b.len()).unwrap_or(0);
    if size > MAX_JSON_BYTES {
        return serde_json::json!({"$truncated": true, "bytes": size});
    }
    v
}

/// True for dict keys whose values are secrets: the backend's student-test jobs carry git
/// tokens in `test_job_data.module.token` and `.reference.token` (docs/course-tasks.md §0).
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["token", "password", "secret"]
        .iter()
        .any(|w| k.contains(w))
}

fn scrub(v: &mut Json, redact: bool) {
    match v {
        Json::String(s) if s.contains('\0') => *s = clean_text(s),
        Json::Array(items) => items.iter_mut().for_each(|i| scrub(i, redact)),
        Json::Object(map) => {
            if map.keys().any(|k| k.contains('\0')) {
                let old = std::mem::take(map);
                *map = old.into_iter().map(|(k, v)| (clean_text(&k), v)).collect();
            }
            for (k, val) in map.iter_mut() {
                if redact && is_secret_key(k) {
                    *val = Json::String(REDACTED.into());
                } else {
                    scrub(val, redact);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::BACKEND_WRAPPER;
    use serde_json::json;

    fn row(status: Status) -> Row {
        Row::bare("j", status)
    }

    #[test]
    fn secrets_are_redacted_at_any_depth() {
        let v = json!([{"test_job_data": {
            "module": {"url": "https://git", "token": "glpat-1", "Access_Token": "x"},
            "reference": {"token": "glpat-2"},
            "list": [{"DB_PASSWORD": "pw", "client_secret": {"a": 1}, "keep": "yes"}]
        }}]);
        let out = prepare_json(v, true);
        let text = out.to_string();
        for secret in ["glpat-1", "glpat-2", "\"pw\"", "\"x\"", "{\"a\":1}"] {
            assert!(!text.contains(secret), "{secret} leaked in {text}");
        }
        assert_eq!(out[0]["test_job_data"]["module"]["token"], json!(REDACTED));
        assert_eq!(
            out[0]["test_job_data"]["module"]["url"],
            json!("https://git")
        );
        assert_eq!(out[0]["test_job_data"]["list"][0]["keep"], json!("yes"));
        // Results are not redacted.
        assert_eq!(
            prepare_json(json!({"token": 1}), false),
            json!({"token": 1})
        );
    }

    #[test]
    fn nul_characters_are_replaced() {
        let out = prepare_json(json!({"a\u{0}b": ["x\u{0}"]}), true);
        assert_eq!(out, json!({"a\u{FFFD}b": ["x\u{FFFD}"]}));
        assert_eq!(clean_text("id\0"), "id\u{FFFD}");
    }

    #[test]
    fn huge_values_are_truncated() {
        let big = "x".repeat(MAX_JSON_BYTES + 1);
        let out = prepare_json(json!([big]), true);
        assert_eq!(out["$truncated"], json!(true));
    }

    #[test]
    fn merge_keeps_terminal_status_and_known_fields() {
        let mut start = row(Status::Started);
        start.args = Some(json!([1]));
        let mut end = row(Status::Failed);
        end.retried = true;
        end.error = Some("boom".into());
        let mut a = start.clone();
        a.merge(end.clone());
        assert_eq!(a.status, Status::Failed);
        assert!(a.retried);
        assert_eq!(a.args, Some(json!([1])));
        assert_eq!(a.error.as_deref(), Some("boom"));
        // The end first, then a late start: same result.
        let mut b = end.clone();
        b.merge(start);
        assert_eq!(b, a);
        // Idempotent.
        let mut c = a.clone();
        c.merge(end);
        assert_eq!(c, a);
    }

    #[test]
    fn task_name_for_the_wrapper_is_its_first_argument() {
        let args = [Value::Str("nope".into()), Value::Dict(vec![])];
        assert_eq!(
            task_name(None, Some(BACKEND_WRAPPER), &args).as_deref(),
            Some("nope")
        );
        assert_eq!(
            task_name(Some("echo"), Some("echo"), &[]).as_deref(),
            Some("echo")
        );
        assert_eq!(task_name(None, Some("x.y"), &args), None);
    }
}
