//! What [`Observer`]s are told: every job's start and end as the engine writes them, and the
//! worker's own life (started, Redis errors, recovered jobs, stop). Sinks such as a history
//! database, metrics or traces are observers; the engine knows nothing of them.
//!
//! An observer is called on the worker's own tasks and must not block (queue the work and
//! return); [`Observer::accepting`] lets it pause dequeuing, e.g. while its bounded buffer is
//! full.

use std::sync::Arc;

use crate::rq::job::JobHash;
use crate::rq::keys::Keys;
use crate::rq::lifecycle::Execution;
use crate::rq::time::Timestamp;
use crate::value::Value;

/// A job that has been started (its start transaction is written).
pub struct JobStarted<'a> {
    /// Which execution of which job, by which worker, from which queue.
    pub exec: &'a Execution,
    /// The job's hash as it was read before the start.
    pub hash: &'a JobHash,
    /// `func_name` from the job data, or `None` when the data could not be decoded.
    pub func_name: Option<&'a str>,
    /// The registered task that runs it: `func_name` itself, or for a function bound by a
    /// [`Resolver`](crate::Resolver), the task it resolved to; `None` when none was found.
    pub task: Option<&'a str>,
    /// The call's positional arguments (empty when the data could not be decoded).
    pub args: &'a [Value],
    /// The call's keyword arguments.
    pub kwargs: &'a [(String, Value)],
}

/// How a job ended, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndKind {
    /// Succeeded: `finished`, with a result.
    Finished,
    /// Failed for good: in the failed registry.
    Failed,
    /// Stopped by a stop command (RQ's `send_stop_job_command`): `stopped`.
    Stopped,
    /// Failed, and re-enqueued or scheduled for another attempt.
    Retried,
}

impl EndKind {
    /// `finished`, `failed`, `stopped` or `retried`.
    pub fn as_str(self) -> &'static str {
        match self {
            EndKind::Finished => "finished",
            EndKind::Failed => "failed",
            EndKind::Stopped => "stopped",
            EndKind::Retried => "retried",
        }
    }
}

/// A job whose end has been written to Redis.
pub struct JobEnded<'a> {
    /// Which execution of which job, by which worker, from which queue.
    pub exec: &'a Execution,
    /// As in [`JobStarted::func_name`].
    pub func_name: Option<&'a str>,
    /// As in [`JobStarted::task`].
    pub task: Option<&'a str>,
    /// As in [`JobStarted::args`] (empty when the data could not be decoded).
    pub args: &'a [Value],
    /// How it ended.
    pub kind: EndKind,
    /// The handler's return value (success only).
    pub return_value: Option<&'a Value>,
    /// The failure text (`exc_string`) for failures, stops and retries.
    pub error: Option<&'a str>,
    /// When the end was recorded.
    pub ended_at: Timestamp,
    /// Seconds the handler ran.
    pub duration: f64,
    /// Put back at the front of its queue by a cold shutdown
    /// ([`Config::requeue_on_shutdown`](crate::Config::requeue_on_shutdown); kind `Retried`).
    pub handed_back: bool,
}

/// A sink the worker tells about every job (registered with
/// [`WorkerBuilder::observer`](crate::WorkerBuilder::observer)). Every method has a default
/// that does nothing.
///
/// An observer that counts failures and pauses dequeuing while its buffer is full; the events
/// are built by hand here, as a test would:
///
/// ```
/// use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
///
/// use rq_worker::rq::{job::JobHash, lifecycle::Execution, time};
/// use rq_worker::{EndKind, JobEnded, JobStarted, Observer};
///
/// #[derive(Default)]
/// struct Failures {
///     started: AtomicU64,
///     failed: AtomicU64,
///     buffer_full: AtomicBool,
/// }
///
/// impl Observer for Failures {
///     fn job_started(&self, _ev: &JobStarted<'_>) {
///         self.started.fetch_add(1, Ordering::Relaxed);
///     }
///     fn job_ended(&self, ev: &JobEnded<'_>) {
///         if ev.kind == EndKind::Failed {
///             self.failed.fetch_add(1, Ordering::Relaxed);
///         }
///     }
///     fn accepting(&self) -> bool {
///         !self.buffer_full.load(Ordering::Relaxed)
///     }
/// }
///
/// let exec = Execution {
///     worker: "w1".into(),
///     job_id: "job-1".into(),
///     execution_id: "e1".into(),
///     queue: "default".into(),
///     started_at: time::now(),
/// };
/// let sink = Failures::default();
/// sink.job_started(&JobStarted {
///     exec: &exec,
///     hash: &JobHash::default(),
///     func_name: Some("myapp.tasks.add"),
///     task: Some("myapp.tasks.add"),
///     args: &[],
///     kwargs: &[],
/// });
/// sink.job_ended(&JobEnded {
///     exec: &exec,
///     func_name: Some("myapp.tasks.add"),
///     task: Some("myapp.tasks.add"),
///     args: &[],
///     kind: EndKind::Failed,
///     return_value: None,
///     error: Some("Traceback (most recent call last):\nValueError: no"),
///     ended_at: time::now(),
///     duration: 0.01,
///     handed_back: false,
/// });
/// assert_eq!(sink.started.load(Ordering::Relaxed), 1);
/// assert_eq!(sink.failed.load(Ordering::Relaxed), 1);
/// assert!(sink.accepting());
/// sink.buffer_full.store(true, Ordering::Relaxed);
/// assert!(!sink.accepting(), "the worker takes no job until this turns true again");
/// ```
pub trait Observer: Send + Sync {
    /// A job has been started (its start is written; its handler is about to run).
    fn job_started(&self, _ev: &JobStarted<'_>) {}
    /// A job's end has been written.
    fn job_ended(&self, _ev: &JobEnded<'_>) {}
    /// `false` pauses dequeuing until it turns `true` again.
    fn accepting(&self) -> bool {
        true
    }
    /// Called once the worker is registered and about to take jobs; a sink that reads the
    /// worker's state periodically (e.g. a metrics sampler) starts here.
    fn worker_started(self: Arc<Self>, _worker: &WorkerInfo) {}
    /// A Redis operation of the worker failed and will be retried; `op` names it (`dequeue`,
    /// `start`, `heartbeat`, `end`).
    fn redis_error(&self, _op: &'static str) {}
    /// Maintenance recovered a job of a dead worker on `queue` (retried or failed it as
    /// abandoned).
    fn job_abandoned(&self, _queue: &str) {}
    /// Called once when the worker stops, after the last job ended: write out what is
    /// buffered, giving up at `deadline`.
    fn stop(&self, _deadline: tokio::time::Instant) -> StopFuture<'_> {
        Box::pin(std::future::ready(()))
    }
}

/// What a sink may read of a running worker.
#[derive(Clone)]
pub struct WorkerInfo {
    /// The worker's Redis connection (multiplexed; cheap to clone; follows the master with
    /// Sentinel).
    pub con: crate::RedisConnection,
    /// The worker's RQ keys (with its key prefix).
    pub keys: Keys,
    /// The queues it listens on, in priority order.
    pub queues: Vec<String>,
    /// This process's free slots now (0 once a shutdown is requested).
    pub free_slots: Arc<dyn Fn() -> i64 + Send + Sync>,
}

/// What [`Observer::stop`] returns.
pub type StopFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>>;
