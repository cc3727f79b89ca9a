//! Job events for the sinks that watch the engine (Postgres history, metrics). An observer sees
//! every job start and end; it must not block (queue the work and return). `accepting` lets a
//! sink pause dequeuing, e.g. while its bounded buffer is full.

use std::sync::Arc;

use crate::rq::job::JobHash;
use crate::rq::keys::Keys;
use crate::rq::lifecycle::Execution;
use crate::rq::time::Timestamp;
use crate::value::Value;

/// A job that has been started (its start transaction is written).
pub struct JobStarted<'a> {
    pub exec: &'a Execution,
    pub hash: &'a JobHash,
    /// `func_name` from the job data, or `None` when the data could not be decoded.
    pub func_name: Option<&'a str>,
    /// The registered task that runs it (for the backend's wrapper: its first argument).
    pub task: Option<&'a str>,
    pub args: &'a [Value],
    pub kwargs: &'a [(String, Value)],
}

/// How a job ended, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndKind {
    Finished,
    Failed,
    Stopped,
    /// Failed, and re-enqueued or scheduled for another attempt.
    Retried,
}

impl EndKind {
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
    pub exec: &'a Execution,
    pub func_name: Option<&'a str>,
    pub task: Option<&'a str>,
    pub kind: EndKind,
    /// The handler's return value (success only).
    pub return_value: Option<&'a Value>,
    /// The failure text (`exc_string`) for failures, stops and retries.
    pub error: Option<&'a str>,
    pub ended_at: Timestamp,
    /// Seconds the handler ran.
    pub duration: f64,
    /// Put back at the front of its queue at shutdown (`--requeue-on-shutdown`; kind `Retried`).
    pub handed_back: bool,
}

/// A sink the worker tells about every job (registered with
/// [`crate::worker::WorkerBuilder::observer`]).
pub trait Observer: Send + Sync {
    fn job_started(&self, _ev: &JobStarted<'_>) {}
    fn job_ended(&self, _ev: &JobEnded<'_>) {}
    /// `false` pauses dequeuing until it turns `true` again.
    fn accepting(&self) -> bool {
        true
    }
    /// Called once the worker is registered and about to take jobs; a sink that reads the
    /// worker's state periodically (the metrics sampler) starts here.
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
    /// The worker's Redis connection (multiplexed; cheap to clone).
    pub con: redis::aio::ConnectionManager,
    pub keys: Keys,
    pub queues: Vec<String>,
    /// This process's free slots now (0 once a shutdown is requested).
    pub free_slots: Arc<dyn Fn() -> i64 + Send + Sync>,
}

/// What [`Observer::stop`] returns.
pub type StopFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>>;
