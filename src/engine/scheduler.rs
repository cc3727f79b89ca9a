//! `--with-scheduler`: moves due jobs from `rq:scheduled:<q>` to their queues every second, for
//! the queues whose scheduler lock this process holds (rq-protocol.md §7.5). Locks not held are
//! tried again every minute; a lock lost to another scheduler is dropped. In burst mode the
//! scheduler runs once at start, as RQ's does.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::{debug, info, warn};

use super::Engine;
use crate::rq::scheduler::{ACQUIRE_OR_REFRESH_LOCK, LOCK_TTL, MOVE_DUE_JOBS, RELEASE_LOCK};
use crate::rq::time::{format_datetime, now, unix_seconds};

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
        let hash = keys.scheduler(&self.name);
        let mut p = redis::pipe();
        p.cmd("HSET")
            .arg(&hash)
            .arg("name")
            .arg(&self.name)
            .arg("hostname")
            .arg(&self.engine.hostname)
            .arg("pid")
            .arg(std::process::id())
            .arg("queues")
            .arg(self.engine.cfg.queues.join(","))
            .arg("last_heartbeat")
            .arg(format_datetime(at))
            .ignore();
        p.cmd("HSETNX")
            .arg(&hash)
            .arg("created_at")
            .arg(format_datetime(at))
            .ignore();
        p.cmd("EXPIRE").arg(&hash).arg(LOCK_TTL).ignore();
        p.query_async::<()>(&mut con).await?;
        for q in candidates {
            let outcome: i64 = self
                .lock
                .key(keys.scheduler_lock(&q))
                .arg(&self.name)
                .arg(LOCK_TTL)
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
            let moved: i64 = self
                .mover
                .key(keys.scheduled(q))
                .key(keys.queue(q))
                .key(keys.queues())
                .arg(unix_seconds(at))
                .arg(format_datetime(at))
                .arg(keys.job(""))
                .arg(keys.queue(q))
                .arg(MOVE_LIMIT)
                .arg(keys.prefix())
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
            let r: redis::RedisResult<i64> = self
                .release
                .key(self.engine.keys.scheduler_lock(&q))
                .arg(&self.name)
                .invoke_async(&mut con)
                .await;
            if let Err(e) = r {
                warn!(queue = %q, "could not release the scheduler lock: {e}");
            }
        }
        let r: redis::RedisResult<()> = redis::cmd("DEL")
            .arg(self.engine.keys.scheduler(&self.name))
            .query_async(&mut con)
            .await;
        if let Err(e) = r {
            warn!("could not delete the scheduler hash: {e}");
        }
        info!("scheduler stopped");
    }
}
