//! Jobs that no registered task claims, run by the application as they are stored
//! ([`Fallback`]): e.g. Python functions run by Python processes.
//!
//! Without a fallback such a job fails with `LookupError`. With one, the engine hands it the
//! job's raw `data` field, never decoding the arguments itself: a job goes to the fallback when
//! its function name is neither a registered task nor a resolver's function, or when the
//! worker's allowlist decoder refuses its payload (objects of the application's classes as
//! arguments, a method's `job.instance`) and the name it can still read is not a registered
//! task, or when a resolver declines the call ([`TaskError::unclaimed`](super::TaskError::unclaimed):
//! a dispatch function naming a task that is not registered). The fallback answers with the value already serialized by the job's serializer, or
//! with the exception text RQ records; the engine writes either exactly as RQ's worker does.
//! Timeouts, stop and kill commands and shutdown drop the fallback's future, as they drop a
//! handler's: whatever runs the job must stop when its future is dropped.
//!
//! Callbacks (`on_success`, `on_failure`, `on_stopped`) that are registered tasks are run by
//! the engine, for a fallback's job as for a handler's. A callback that is not a registered task
//! is the fallback's when the job is: [`RawJob::callbacks`] lists them, and the fallback runs
//! them with the job as RQ's worker does (success callback after the function returned and
//! before the job ends, an exception in it failing the job; failure callback after an
//! exception), telling the engine through [`RawJob::phase`] when a callback starts, so that the
//! callback's own timeout applies from then on. A failure or stopped callback that must run
//! after the engine ended the run itself (the job's timeout, a stop command, a failure decided
//! by a Rust callback) is run with [`Fallback::run_callback`]. A job of a registered task whose
//! callback is not one is refused before it runs, with a text that says so.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::watch;

use super::TaskContext;
use crate::rq::codec::Serializer;
pub use crate::rq::job::CallbackKind;

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
    /// The `data` field as stored (`zlib(serializer.dumps((func, instance, args, kwargs)))`);
    /// shared, as [`RawJob::hash`]: a job is cloned for its callbacks, and data may be large.
    pub data: Arc<[u8]>,
    /// The job hash as RQ's worker holds it while its horse runs the job
    /// ([`JobHash::as_started`](crate::rq::job::JobHash::as_started)): a fallback may restore
    /// the job from it rather than read the hash again. Empty when the engine has none.
    pub hash: Arc<[(String, Vec<u8>)]>,
    /// The serializer the worker is configured with (the enqueuers').
    pub serializer: Serializer,
    /// The limit the job runs under, in seconds (`None`: none). The engine enforces it by
    /// dropping the future; it is given for information.
    pub timeout: Option<i64>,
    /// The job's callbacks that are not registered tasks, for the fallback to run (see the
    /// [module](self) documentation); the engine runs the others.
    pub callbacks: Vec<RawCallback>,
    /// Tells the engine that the function has ended and one of [`RawJob::callbacks`] starts.
    pub phase: PhaseSignal,
}

impl RawJob {
    /// The callback of `kind` the fallback runs, if the job has one.
    pub fn callback(&self, kind: CallbackKind) -> Option<&RawCallback> {
        self.callbacks.iter().find(|c| c.kind == kind)
    }
}

/// A callback a [`Fallback`] runs, as the job hash names it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RawCallback {
    /// Which of the three it is.
    pub kind: CallbackKind,
    /// The function's dotted name (`Callback.name`).
    pub name: String,
    /// Seconds it may run (`<kind>_callback_timeout`, else 60); enforced by the engine from
    /// the moment [`PhaseSignal::callback_started`] is called, by dropping the future.
    pub timeout: i64,
}

impl RawCallback {
    /// A callback of `kind` named `name`, allowed `timeout` seconds.
    pub fn new(kind: CallbackKind, name: impl Into<String>, timeout: i64) -> RawCallback {
        RawCallback {
            kind,
            name: name.into(),
            timeout,
        }
    }
}

/// The fallback's side of a run's phase: the engine applies the job's timeout until
/// [`PhaseSignal::callback_started`] is called, then the callback's own timeout (as RQ runs
/// each callback under its `*_callback_timeout`, outside the job's).
#[derive(Debug, Clone)]
pub struct PhaseSignal(Arc<watch::Sender<Option<CallbackKind>>>);

impl PhaseSignal {
    /// A signal and the engine's receiver of it.
    pub(crate) fn channel() -> (PhaseSignal, watch::Receiver<Option<CallbackKind>>) {
        let (tx, rx) = watch::channel(None);
        (PhaseSignal(Arc::new(tx)), rx)
    }

    /// A signal nobody listens to (a [`RawJob`] built outside the engine, e.g. in tests).
    pub fn detached() -> PhaseSignal {
        PhaseSignal::channel().0
    }

    /// The job's function has ended and its callback of `kind` starts now.
    pub fn callback_started(&self, kind: CallbackKind) {
        self.0.send_replace(Some(kind));
    }
}

/// A retry the job asked for by returning it (RQ ≥ 2.12: a job that returns `Retry(max,
/// interval)` is run again, up to `max` times counted in the job's `number_of_retries`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RawRetry {
    /// `Retry.max`.
    pub max: i64,
    /// `Retry.intervals` (seconds; empty: none).
    pub intervals: Vec<i64>,
    /// `serializer.dumps(retry)`: the result's `return_value` RQ records for the attempt.
    pub value: Vec<u8>,
}

impl RawRetry {
    /// A retry of at most `max` attempts with these intervals, serialized as `value`.
    pub fn new(max: i64, intervals: Vec<i64>, value: Vec<u8>) -> RawRetry {
        RawRetry {
            max,
            intervals,
            value,
        }
    }
}

/// A failure or stopped callback run on its own by [`Fallback::run_callback`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RawCallbackCall {
    /// The callback (its kind says which arguments it gets).
    pub callback: RawCallback,
    /// For a failure callback: the exception text the job failed with (a traceback whose last
    /// line is `<exception type>: <message>`, e.g. RQ's timeout text); `None` otherwise.
    pub exception: Option<String>,
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
    /// The function returned a retry request ([`RawRetry`]); its success callback did not run,
    /// as in RQ. The engine runs the job again or fails it as RQ's worker does.
    Retry(RawRetry),
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
    /// Runs `job` to its end, with the callbacks in [`RawJob::callbacks`] that apply.
    fn run(&self, job: RawJob, ctx: TaskContext) -> RawFuture;

    /// Runs one of the job's callbacks on its own, after the engine ended the run (the job's
    /// timeout, a stop command, a failure decided outside the fallback): `job` is the job as
    /// [`Fallback::run`] got it, `call` says which callback and why. [`RawOutcome::Raised`]
    /// means the callback raised (a failure callback's exception then replaces the job's, as
    /// in RQ). The engine enforces the callback's timeout by dropping the future. The default
    /// answers that the fallback cannot run callbacks on their own.
    fn run_callback(&self, job: RawJob, call: RawCallbackCall, ctx: TaskContext) -> RawFuture {
        let _ = (job, ctx);
        let text = format!(
            "Traceback (most recent call last):\nRuntimeError: this worker cannot run the {} callback {:?} on its own\n",
            call.callback.kind.argument(),
            call.callback.name
        );
        Box::pin(async move { RawOutcome::Raised(text) })
    }
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
