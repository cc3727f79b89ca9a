//! Jobs that no registered task claims, run by the application as they are stored
//! ([`Fallback`]): e.g. Python functions run by Python processes.
//!
//! Without a fallback such a job fails with `LookupError`. With one, the engine hands it the
//! job's raw `data` field, never decoding the arguments itself: a job goes to the fallback when
//! its function name is neither a registered task nor a resolver's function, or when the
//! worker's allowlist decoder refuses its payload (objects of the application's classes as
//! arguments, a method's `job.instance`) and the name it can still read is not a registered
//! task. The fallback answers with the value already serialized by the job's serializer, or
//! with the exception text RQ records; the engine writes either exactly as RQ's worker does.
//! Timeouts, stop and kill commands and shutdown drop the fallback's future, as they drop a
//! handler's: whatever runs the job must stop when its future is dropped.

use std::future::Future;
use std::pin::Pin;

use super::TaskContext;
use crate::rq::codec::Serializer;

/// A job for a [`Fallback`], with its data as stored in Redis.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RawJob {
    /// The job's id (`rq:job:<id>`).
    pub job_id: String,
    /// The queue it was taken from.
    pub queue: String,
    /// The worker (slot) name that runs it, as in the job's `worker_name`.
    pub worker: String,
    /// The execution id (RQ ≥ 2's `Execution`).
    pub execution_id: String,
    /// The function name when the worker could read it (`None`: unreadable data).
    pub func_name: Option<String>,
    /// The `data` field as stored (`zlib(serializer.dumps((func, instance, args, kwargs)))`).
    pub data: Vec<u8>,
    /// The serializer the worker is configured with (the enqueuers').
    pub serializer: Serializer,
    /// The limit the job runs under, in seconds (`None`: none). The engine enforces it by
    /// dropping the future; it is given for information.
    pub timeout: Option<i64>,
}

/// How a job run by a [`Fallback`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RawOutcome {
    /// The function returned: `serializer.dumps(value)` (RQ's text "Unserializable return
    /// value" serialized when the value could not be), or `None` when it returned `None`
    /// (RQ leaves the result's `return_value` out).
    Returned(Option<Vec<u8>>),
    /// The function raised: the full text RQ records, a traceback whose last line is
    /// `<exception type>: <message>`.
    Raised(String),
}

/// The future of one fallback run.
pub type RawFuture = Pin<Box<dyn Future<Output = RawOutcome> + Send>>;

/// Runs the jobs no registered task claims (see the [module](self) documentation); set with
/// [`WorkerBuilder::fallback`](crate::WorkerBuilder::fallback).
///
/// The future may be dropped at any point (timeout, stop-job, kill-horse, shutdown): it must
/// then stop the work it started (e.g. kill the process with `kill_on_drop`). The
/// [`TaskContext`] carries the job's identity and its [`Cancellation`](super::Cancellation).
pub trait Fallback: Send + Sync + 'static {
    /// Runs `job` to its end.
    fn run(&self, job: RawJob, ctx: TaskContext) -> RawFuture;
}

/// The exception type and message of an exception text: its last non-empty line split at the
/// first `": "` (a line without one is all type). For a failure callback's arguments.
pub(crate) fn last_line_parts(text: &str) -> (String, String) {
    let last = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("Exception");
    match last.split_once(": ") {
        Some((t, m)) => (t.to_string(), m.to_string()),
        None => (last.trim_end_matches(':').to_string(), String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::last_line_parts;

    #[test]
    fn last_line_is_type_and_message() {
        let text = "Traceback (most recent call last):\n  File \"x.py\", line 1, in f\nValueError: bad: worse\n";
        assert_eq!(
            last_line_parts(text),
            ("ValueError".to_string(), "bad: worse".to_string())
        );
        assert_eq!(
            last_line_parts("KeyboardInterrupt\n"),
            ("KeyboardInterrupt".to_string(), String::new())
        );
    }
}
