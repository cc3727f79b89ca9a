//! `Config::with_scheduler` (RQ's `--with-scheduler`): moves due jobs from `rq:scheduled:<q>`
//! to their queues every second, for the queues whose scheduler lock this process holds
//! (rq-protocol.md §7.5). Locks not held are tried again every minute; a lock lost to another
//! scheduler is dropped. In burst mode the scheduler runs once at start, as RQ's does.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::{debug, info, warn};

use super::state::Engine;
use crate::rq::scheduler::{
    self as rq_scheduler, SchedulerRecord, ACQUIRE_OR_REFRESH_LOCK, MOVE_DUE_JOBS, RELEASE_LOCK,
};
use crate::rq::time::now;

const RETRY_UNOWNED: Duration = Duration::from_secs(60);
const MOVE_LIMIT: usize = 1000;

pub struct Scheduler {
    engine: Arc<Engine>,
    name: String,
    owned: BTreeSet<String>,
    last_acquire: Option<Instant>,
    lock: redis::Script,
    release: redis::Script,
    mover: redis::Script,
}

impl Scheduler {
    pub fn new(engine: Arc<Engine>) -> Self {
        Scheduler {
            engine,
            name: uuid::Uuid::new_v4().simple().to_string(),
            owned: BTreeSet::new(),
            last_acquire: None,
            lock: redis::Script::new(ACQUIRE_OR_REFRESH_LOCK),
            release: redis::Script::new(RELEASE_LOCK),
            mover: redis::Script::new(MOVE_DUE_JOBS),
        }
    }

    /// Runs until shutdown, then releases the locks and deletes the scheduler hash.
    pub async fn run(mut self) {
        info!(scheduler = %self.name, "scheduler started");
        loop {
            if let Err(e) = self.tick().await {
                warn!("scheduler: {e}");
            }
            if self
                .engine
                .shutdown
                .wait_timeout(Duration::from_secs(1))
                .await
            {
                break;
            }
        }
        self.stop().await;
    }

    /// Burst mode: acquire, enqueue once, release.
    pub async fn run_once(mut self) {
        if let Err(e) = self.tick().await {
            warn!("scheduler: {e}");
        }
        self.stop().await;
    }

    async fn tick(&mut self) -> redis::RedisResult<()> {
        let mut con = self.engine.con.clone();
        let keys = &self.engine.keys;
        let all: BTreeSet<String> = self.engine.cfg.queues.iter().cloned().collect();
        let retry_unowned = self.owned != all
            && self
                .last_acquire
                .is_none_or(|t| t.elapsed() >= RETRY_UNOWNED);
        let candidates: Vec<String> = if retry_unowned {
            self.last_acquire = Some(Instant::now());
            all.iter().cloned().collect()
        } else {
            self.owned.iter().cloned().collect()
        };
        // Heartbeat: the scheduler hash (2.10+) and every lock we hold or want.
        let at = now();
        let record = SchedulerRecord {
            name: &self.name,
            hostname: &self.engine.hostname,
            pid: std::process::id(),
            queues: &self.engine.cfg.queues,
        };
        let mut p = redis::pipe();
        rq_scheduler::heartbeat(&mut p, keys, &record, at);
        p.query_async::<()>(&mut con).await?;
        for q in candidates {
            let outcome: i64 = rq_scheduler::lock_invocation(&self.lock, keys, &q, &self.name)
                .invoke_async(&mut con)
                .await?;
            match outcome {
                1 | 2 => {
                    if self.owned.insert(q.clone()) {
                        info!(queue = %q, "scheduler lock acquired");
                    }
                }
                _ => {
                    if self.owned.remove(&q) {
                        warn!(queue = %q, "scheduler lock taken over by another scheduler");
                    }
                }
            }
        }
        for q in &self.owned {
            let moved: i64 = rq_scheduler::move_invocation(&self.mover, keys, q, at, MOVE_LIMIT)
                .invoke_async(&mut con)
                .await?;
            if moved > 0 {
                info!(queue = %q, jobs = moved, "scheduled jobs enqueued");
            }
        }
        debug!(owned = self.owned.len(), "scheduler tick");
        Ok(())
    }

    async fn stop(&mut self) {
        let mut con = self.engine.con.clone();
        for q in std::mem::take(&mut self.owned) {
            let r: redis::RedisResult<i64> =
                rq_scheduler::release_invocation(&self.release, &self.engine.keys, &q, &self.name)
                    .invoke_async(&mut con)
                    .await;
            if let Err(e) = r {
                warn!(queue = %q, "could not release the scheduler lock: {e}");
            }
        }
        let r: redis::RedisResult<()> = rq_scheduler::remove(&self.engine.keys, &self.name)
            .query_async(&mut con)
            .await;
        if let Err(e) = r {
            warn!("could not delete the scheduler hash: {e}");
        }
        info!("scheduler stopped");
    }
}
