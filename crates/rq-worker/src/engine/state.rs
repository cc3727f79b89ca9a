//! The shared state of a running worker: its configuration, connections, slots, writer,
//! tasks and observers, and the records it writes about itself.

use std::sync::Arc;

use tracing::{info, warn};

use super::shutdown::Shutdown;
use super::slots::Slots;
use super::writer::Writer;
use super::{rate_limits, rescue};
use crate::config::Config;
use crate::connection::{Redis, RedisConnection};
use crate::rq::codec::Limits;
use crate::rq::keys::Keys;
use crate::rq::lifecycle::WorkerRecord;
use crate::rq::time::now;
use crate::rq::RQ_COMPAT_VERSION;
use crate::tasks::{DataMap, Registry};

/// Everything the engine's tasks share.
pub struct Engine {
    pub cfg: Config,
    pub keys: Keys,
    /// Where connections go (one address, or the master Sentinel names).
    pub redis: Redis,
    pub con: RedisConnection,
    pub slots: Slots,
    pub writer: Writer,
    pub shutdown: Shutdown,
    pub limits: Limits,
    /// Birth fields common to every slot (name and queues aside).
    pub hostname: String,
    pub ip_address: String,
    /// Sinks that see every job start and end (history, metrics).
    pub observers: Vec<Arc<dyn crate::events::Observer>>,
    /// The tasks, each handler already in its layers.
    pub tasks: Registry,
    /// Runs the jobs no registered task claims; `None`: they fail with `LookupError`.
    pub fallback: Option<Arc<dyn crate::tasks::Fallback>>,
    /// Shared values handlers find with `ctx.data::<T>()`.
    pub data: DataMap,
    pub(super) release_script: redis::Script,
    /// Dependents left `deferred` by RQ < 3.0 enqueuers (see [`rescue`]).
    pub rescue: rescue::Rescue,
    /// RQ 3.0's concurrency limits (see [`rate_limits`]).
    pub rate_limits: rate_limits::RateLimits,
    /// Sends the jobs' webhooks (see [`super::webhooks`]); `None`: they are not sent.
    pub webhooks: Option<Arc<dyn crate::webhooks::WebhookSender>>,
}

impl Engine {
    /// True when every observer accepts new jobs (see [`crate::events::Observer::accepting`]).
    pub fn accepting(&self) -> bool {
        self.observers.iter().all(|o| o.accepting())
    }

    /// RQ's job monitoring interval in seconds: a running job's registry entries live this
    /// long plus 60 s between heartbeats (`heartbeat_ttl`). RQ's 30 s, or the heartbeat interval
    /// when that is longer.
    pub fn monitoring_interval(&self) -> i64 {
        i64::try_from(self.cfg.heartbeat_interval.as_secs())
            .unwrap_or(i64::MAX / 2)
            .max(30)
    }

    /// RQ's `worker_ttl + 60` (480 s by default): the TTL of an idle worker's key.
    pub fn idle_worker_ttl(&self) -> i64 {
        super::run::idle_worker_ttl(&self.cfg)
    }

    /// Tells the observers that a Redis operation failed (it is retried).
    pub fn redis_error(&self, op: &'static str) {
        self.observers.iter().for_each(|o| o.redis_error(op));
    }

    pub fn record(&self, name: &str) -> WorkerRecord {
        WorkerRecord {
            name: name.to_string(),
            queues: self.cfg.queues.clone(),
            hostname: self.hostname.clone(),
            pid: std::process::id(),
            ip_address: self.ip_address.clone(),
            version: RQ_COMPAT_VERSION.to_string(),
            python_version: format!("task-worker {} (Rust)", env!("CARGO_PKG_VERSION")),
        }
    }

    /// Enqueues the dependents of a job that ended outside the job-end script (failed as
    /// abandoned), in one atomic script call (`rq::dependents::RELEASE_SCRIPT`, §7.3).
    pub async fn release_dependents(&self, parent: &str, parent_status: &str) {
        let mut con = self.con.clone();
        let r: redis::RedisResult<Vec<String>> = crate::rq::dependents::release_invocation(
            &self.release_script,
            &self.keys,
            parent,
            parent_status,
            now(),
        )
        .invoke_async(&mut con)
        .await;
        match r {
            Ok(done) => {
                for dep in done {
                    info!(dependent = %dep, parent, "dependent enqueued");
                }
            }
            Err(e) => warn!(parent, "could not release dependents: {e}"),
        }
    }
}
