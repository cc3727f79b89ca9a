//! Dependents left `deferred` by the dependency race of RQ < 3.0 enqueuers (see
//! `rq::dependents::RESCUE_SCRIPT`): the dependents set of each job that failed is swept again a
//! few times after its end, and maintenance sweeps every `rq:deferred:<q>` registry. Both go
//! through the same atomic script, which enqueues a job only while it is still `deferred`: never
//! twice.
//!
//! Only a failure leaves such a job behind: RQ 2.x's `setup_dependencies` reads the parent's
//! status under `WATCH` and defers unless it is `finished`, so a parent that finishes meanwhile
//! aborts the transaction and the retry enqueues the job; one that failed makes the retry defer
//! it (also with `allow_failure=True`) after the parent's end has read its dependents.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;
use tracing::{info, warn};

use super::state::Engine;
use crate::rq::dependents::{
    deferred_ids, rescue_invocation, RescueMode, RESCUE_AFTER_END, RESCUE_CHUNK, RESCUE_SCRIPT,
};
use crate::rq::time::{format_datetime, now, unix_seconds};

/// Ends remembered per sweep stage (the ids are shared between stages); beyond that the oldest
/// are left to maintenance. Bounds the memory at high throughput to well under 2 MB.
const MAX_PENDING: usize = 20_000;
/// How often due sweeps are sent.
const TICK: Duration = Duration::from_millis(500);

/// Failed jobs of one sweep stage, in order of their end.
type Pending = VecDeque<(Instant, Arc<str>)>;

pub struct Rescue {
    script: redis::Script,
    /// One queue per delay of `RESCUE_AFTER_END`, each in order of end time.
    pending: Vec<Mutex<Pending>>,
}

impl Default for Rescue {
    fn default() -> Self {
        Rescue {
            script: redis::Script::new(RESCUE_SCRIPT),
            pending: RESCUE_AFTER_END
                .iter()
                .map(|_| Mutex::new(VecDeque::new()))
                .collect(),
        }
    }
}

impl Rescue {
    /// A job ended `failed` for good: sweep its dependents set later.
    pub fn failed(&self, job_id: &str) {
        let at = Instant::now();
        let id: Arc<str> = Arc::from(job_id);
        for q in &self.pending {
            let mut q = q.lock().unwrap_or_else(|p| p.into_inner());
            if q.len() >= MAX_PENDING {
                q.pop_front();
            }
            q.push_back((at, id.clone()));
        }
    }

    /// Takes the ends whose sweep is due (all of them with `all`).
    fn due(&self, all: bool) -> Vec<String> {
        let now = Instant::now();
        let mut out = Vec::new();
        for (q, delay) in self.pending.iter().zip(RESCUE_AFTER_END) {
            let mut q = q.lock().unwrap_or_else(|p| p.into_inner());
            while let Some((at, _)) = q.front() {
                if !all && *at + delay > now {
                    break;
                }
                if let Some((_, id)) = q.pop_front() {
                    out.push(id.to_string());
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Runs the script over `ids` in chunks; returns how many jobs it enqueued.
    pub async fn sweep(&self, engine: &Engine, mode: RescueMode, ids: &[String]) -> usize {
        let mut con = engine.con.clone();
        let mut enqueued = 0;
        for chunk in ids.chunks(RESCUE_CHUNK) {
            let at = now();
            let ts = format_datetime(at);
            let r: redis::RedisResult<Vec<String>> = rescue_invocation(
                &self.script,
                &engine.keys,
                &ts,
                unix_seconds(at),
                mode,
                chunk,
            )
            .invoke_async(&mut con)
            .await;
            match r {
                Ok(done) => {
                    for id in &done {
                        info!(job_id = %id, "deferred job whose dependencies are met was enqueued");
                    }
                    enqueued += done.len();
                }
                Err(e) => warn!("could not sweep deferred dependents: {e}"),
            }
        }
        enqueued
    }

    /// Maintenance: every job in `rq:deferred:<q>`.
    pub async fn sweep_deferred(&self, engine: &Engine, q: &str) -> redis::RedisResult<usize> {
        let mut con = engine.con.clone();
        let ids: Vec<String> = deferred_ids(&engine.keys, q).query_async(&mut con).await?;
        Ok(self.sweep(engine, RescueMode::Jobs, &ids).await)
    }
}

/// Sends the due sweeps, every `TICK`, until aborted (after the drain, see [`flush`]).
pub async fn run(engine: std::sync::Arc<Engine>) {
    loop {
        tokio::time::sleep(TICK).await;
        let ids = engine.rescue.due(false);
        if !ids.is_empty() {
            engine
                .rescue
                .sweep(&engine, RescueMode::Parents, &ids)
                .await;
        }
    }
}

/// At exit: sweeps every remembered end at once (what is registered later is maintenance's).
pub async fn flush(engine: &Engine) {
    let ids = engine.rescue.due(true);
    if !ids.is_empty() {
        engine.rescue.sweep(engine, RescueMode::Parents, &ids).await;
    }
}
