//! The worker-side transactions of RQ's job lifecycle, as pure pipeline builders
//! (rq-protocol.md §6.2–§6.9). Nothing here touches the network: the engine decides when to
//! send them. Each builder appends commands to a `redis::Pipeline`; all of them are marked
//! `.ignore()` except where a reply is documented.
//!
//! Where Python RQ sends two transactions back to back (job start, failure + counters), we send
//! one: the resulting state is identical and no reader can observe the half-way point.
//!
//! The builders live in four files, all re-exported here: the worker's own record (`worker.rs`:
//! birth, death, state, heartbeat), a job's execution (`execution.rs`: start, heartbeat), its
//! end (`end.rs`: [`JobEnd`] and the success, failure, retry and hand-back transactions) and the
//! ends maintenance writes for executions whose worker died (`abandoned.rs`).

mod abandoned;
mod end;
mod execution;
mod retry_returned;
mod worker;

pub use abandoned::*;
pub use end::*;
pub use execution::*;
pub use retry_returned::*;
pub use worker::*;

pub use crate::retry::{Repeat, RetryPlan};

/// Worker hash TTL while idle: `worker_ttl + 60` (§6, default worker_ttl 420).
pub const IDLE_WORKER_TTL: i64 = 480;
/// The worker hash lives this long after death (§6.9).
pub const DEAD_WORKER_TTL: i64 = 60;
/// Stream entries kept per job (`XADD … MAXLEN ~ 10`).
pub const RESULTS_MAXLEN: usize = 10;

/// Worker `state` values (`rq.worker.WorkerStatus`).
pub mod worker_state {
    /// Registered, not yet taking jobs.
    pub const STARTED: &str = "started";
    /// Waiting for a job.
    pub const IDLE: &str = "idle";
    /// Running a job (`current_job`).
    pub const BUSY: &str = "busy";
    /// Shown while `rq:suspended` is set, by every slot without a job (§6.3).
    pub const SUSPENDED: &str = "suspended";
}

/// Result entry types (`rq.results.Result.Type`).
pub mod result_type {
    /// The job returned (`return_value`).
    pub const SUCCESSFUL: i64 = 1;
    /// The job failed (`exc_string`).
    pub const FAILED: i64 = 2;
    /// The job returned a `Retry` and runs again (RQ ≥ 2.12; `return_value` is the `Retry`).
    pub const RETRIED: i64 = 4;
    /// The job returned a `Retry` once `Retry.max` was reached (RQ ≥ 2.12): failed.
    pub const MAX_RETRIES_EXCEEDED: i64 = 5;
}
