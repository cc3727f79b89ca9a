//! Maintenance, at start and every `Config::maintenance_interval` (rq-protocol.md §7.1, §7.2),
//! per queue under RQ's `rq:clean_registries:<q>` lock so that one process (ours or Python's)
//! does it:
//! * expired entries leave the finished and failed registries;
//! * abandoned jobs (an `rq:wip` score in the past: the worker died) are retried if they have
//!   retries left, else failed with RQ's AbandonedJobError text; like RQ 3.0, only jobs whose
//!   status is still `started` are touched;
//! * dead workers leave `rq:workers` and `rq:workers:<q>`;
//! * jobs left `deferred` although every dependency is met (the dependency race of RQ < 3.0
//!   enqueuers) are enqueued, once (`rq::dependents::RESCUE_SCRIPT`; outside the lock);
//! * RQ 3.0 concurrency limits: slots whose job is no longer queued or started are freed and
//!   waiting jobs promoted (`RateLimitRegistry.cleanup`, see `rq::rate_limit`);
//! * ids stuck in the intermediate list for over 60 s without an execution are put back at the
//!   front of their queue. RQ fails them ("Job was stuck in intermediate queue."); they never
//!   started, so running them is the safe choice and loses nothing.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tracing::{info, warn};

use super::state::Engine;
use crate::rq::dequeue::drop_taken;
use crate::rq::job::{self, status, JobHash};
use crate::rq::keys::Keys;
use crate::rq::requeue::{stuck_invocation, REQUEUE_STUCK_SCRIPT};
use crate::rq::time::{now, unix_seconds};
use crate::rq::{lifecycle, maintenance, retry};

/// One pass over every queue (run at start, before the first dequeue).
pub async fn run_once(engine: &Engine) {
    for q in &engine.cfg.queues {
        if let Err(e) = clean_queue(engine, q).await {
            warn!(queue = %q, "maintenance failed: {e}");
        }
        // Outside the lock: the script is atomic and enqueues a job only while it is
        // `deferred`, and a Python worker holding the lock does not do this.
        match engine.rescue.sweep_deferred(engine, q).await {
            Ok(0) => {}
            Ok(n) => {
                info!(queue = %q, enqueued = n, "deferred jobs whose dependencies were met (RQ < 3.0 enqueuer race) enqueued")
            }
            Err(e) => warn!(queue = %q, "sweeping deferred jobs failed: {e}"),
        }
    }
    // RQ runs `RateLimitRegistry.cleanup()` for every key in each queue's cleanup; once per
    // pass does the same (its scripts are atomic and check again what they change).
    if let Err(e) = engine.rate_limits.cleanup_all(engine).await {
        warn!("rate limit cleanup failed: {e}");
    }
}

/// Every `Config::maintenance_interval` until shutdown.
pub async fn run(engine: Arc<Engine>) {
    while !engine
        .shutdown
        .wait_timeout(engine.cfg.maintenance_interval)
        .await
    {
        run_once(&engine).await;
    }
}

/// Cleans one queue if no one else holds its maintenance lock. Returns whether it ran.
pub async fn clean_queue(engine: &Engine, q: &str) -> redis::RedisResult<bool> {
    let keys = &engine.keys;
    let mut con = engine.con.clone();
    let got: Option<String> = maintenance::lock(keys, q).query_async(&mut con).await?;
    if got.is_none() {
        return Ok(false);
    }
    let result = clean_locked(engine, q).await;
    let _: redis::RedisResult<()> = maintenance::unlock(keys, q).query_async(&mut con).await;
    result.map(|()| true)
}

async fn clean_locked(engine: &Engine, q: &str) -> redis::RedisResult<()> {
    let keys = &engine.keys;
    let mut con = engine.con.clone();
    let at = now();
    let ts = unix_seconds(at);
    let (stale, workers): (Vec<String>, Vec<String>) =
        maintenance::scan(keys, q, ts).query_async(&mut con).await?;
    for member in stale {
        abandon(engine, q, &member).await?;
    }
    // Dead workers: their hash expired.
    if !workers.is_empty() {
        let alive: Vec<bool> = maintenance::workers_alive(&workers)
            .query_async(&mut con)
            .await?;
        let dead: Vec<&String> = workers
            .iter()
            .zip(alive)
            .filter(|(_, a)| !a)
            .map(|(w, _)| w)
            .collect();
        if !dead.is_empty() {
            maintenance::drop_dead_workers(keys, q, &dead)
                .query_async::<()>(&mut con)
                .await?;
        }
    }
    recover_intermediate(engine, q).await
}

/// One abandoned `rq:wip` member (§7.1).
async fn abandon(engine: &Engine, q: &str, member: &str) -> redis::RedisResult<()> {
    let keys = &engine.keys;
    let mut con = engine.con.clone();
    let (job_id, _) = Keys::parse_composite(member);
    let fields: HashMap<String, Vec<u8>> = job::load(keys, job_id).query_async(&mut con).await?;
    let hash = JobHash::new(job_id, fields);
    let mut p = redis::pipe();
    p.atomic();
    if !maintenance::is_abandoned(&hash) {
        maintenance::drop_wip(&mut p, keys, q, member);
        p.query_async::<()>(&mut con).await?;
        return Ok(());
    }
    // RQ runs the failure callback before it retries or fails the job.
    super::executor::abandoned_failure_callback(engine, &hash, q).await;
    let settings = hash.settings().unwrap_or_default();
    let abandoned = lifecycle::Abandoned {
        queue: q,
        member,
        job_id,
    };
    let at = now();
    if let Some((retries_left_after, plan)) = retry::after_failure(&settings, &hash) {
        lifecycle::retry_abandoned(&mut p, keys, &abandoned, retries_left_after, &plan, at);
        p.query_async::<()>(&mut con).await?;
        engine.observers.iter().for_each(|o| o.job_abandoned(q));
        if let Some(limit) = hash.rate_limit() {
            engine
                .rate_limits
                .job_ended(engine, job_id, &limit, plan.status_after())
                .await;
        }
        info!(
            job_id,
            queue = q,
            retries_left = retries_left_after,
            "abandoned job retried"
        );
        return Ok(());
    }
    lifecycle::fail_abandoned(&mut p, keys, &abandoned, settings.failure_ttl, at);
    p.query_async::<()>(&mut con).await?;
    super::webhooks::abandoned(engine, &hash, at);
    engine.observers.iter().for_each(|o| o.job_abandoned(q));
    warn!(
        job_id,
        queue = q,
        "abandoned job failed (its worker stopped heartbeating)"
    );
    engine.release_dependents(job_id, status::FAILED).await;
    engine.rescue.failed(job_id);
    if let Some(limit) = hash.rate_limit() {
        engine
            .rate_limits
            .job_ended(engine, job_id, &limit, status::FAILED)
            .await;
    }
    Ok(())
}

/// Ids left in the intermediate list by a worker that died between take and start.
async fn recover_intermediate(engine: &Engine, q: &str) -> redis::RedisResult<()> {
    let keys = &engine.keys;
    let mut con = engine.con.clone();
    let (ids, members): (Vec<String>, Vec<String>) = maintenance::intermediate_scan(keys, q)
        .query_async(&mut con)
        .await?;
    if ids.is_empty() {
        return Ok(());
    }
    let running: HashSet<&str> = members.iter().map(|m| Keys::parse_composite(m).0).collect();
    let now_f = crate::rq::time::unix_float(now());
    for id in ids.iter().filter(|id| !running.contains(id.as_str())) {
        let (exists, first): (bool, Option<f64>) = maintenance::first_seen(keys, q, id, now_f)
            .query_async(&mut con)
            .await?;
        if !exists {
            let mut p = redis::pipe();
            drop_taken(&mut p, keys, q, id);
            p.query_async::<()>(&mut con).await?;
            continue;
        }
        if maintenance::stuck(first, now_f) {
            // Only if the id is still there: a worker that started it meanwhile removed it.
            let script = redis::Script::new(REQUEUE_STUCK_SCRIPT);
            let moved: i64 = stuck_invocation(&script, keys, q, id)
                .invoke_async(&mut con)
                .await?;
            if moved == 1 {
                warn!(job_id = %id, queue = q, "job was stuck in the intermediate list; put back on its queue");
            }
        }
    }
    Ok(())
}
