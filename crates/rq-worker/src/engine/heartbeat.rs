//! Heartbeats (rq-protocol.md §6.3, §6.5, §12.1): every `Config::heartbeat_interval`, one
//! transaction refreshes every slot. Idle slots: `last_heartbeat` + worker TTL (`worker_ttl` + 60,
//! 480 s by default). Busy slots:
//! the worker, the execution, the `rq:wip` score (now + T'), the executions zset and the job's
//! `last_heartbeat`, so no `rq info` or Python maintenance ever sees a running job as abandoned.

use std::sync::Arc;
use std::time::Duration;

use tracing::{debug, info, warn};

use super::state::Engine;
use crate::backoff::Backoff;
use crate::rq::job::heartbeat_ttl;
use crate::rq::lifecycle::{self, worker_state};
use crate::rq::time::now;

pub async fn run(engine: Arc<Engine>) {
    let mut tick = tokio::time::interval(engine.cfg.heartbeat_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await; // the first tick is immediate; births were just written
    loop {
        tick.tick().await;
        beat_until_fresh(&engine).await;
    }
}

/// A beat that took longer than this was held up by Redis (a stall): its timestamps are old.
const SLOW_BEAT: Duration = Duration::from_secs(2);

/// One heartbeat; after a failure (Redis down or restarted) or a beat held up by a stalled
/// Redis, beats again within seconds rather than a whole interval later, so that running jobs'
/// `rq:wip` scores and `last_heartbeat`s are fresh as soon as Redis is back (issue 9): a peer's
/// maintenance must never see them as abandoned because of the outage.
async fn beat_until_fresh(engine: &Engine) {
    let mut retry = Backoff::new(Duration::from_secs(1), engine.cfg.heartbeat_interval);
    loop {
        let began = tokio::time::Instant::now();
        match beat(engine).await {
            Ok(()) if began.elapsed() < SLOW_BEAT => return,
            Ok(()) => info!(
                took_ms = began.elapsed().as_millis() as u64,
                "heartbeat was held up by Redis; beating again with fresh timestamps"
            ),
            Err(e) => {
                warn!("heartbeat failed, retrying in {:?}: {e}", retry.peek());
                engine.redis_error("heartbeat");
            }
        }
        if engine.shutdown.wait_timeout(retry.next_delay()).await {
            return;
        }
    }
}

async fn beat(engine: &Engine) -> redis::RedisResult<()> {
    let at = now();
    let keys = &engine.keys;
    // A job whose start is not yet written (deferred, see `engine::writer`) has no execution
    // to refresh: writing one here would leave it behind when the job ends as start and end.
    // Its slot is idle as far as Redis knows, and beats as idle: its worker hash keeps its
    // TTL that way (a job ended with its start does not refresh it, issue 17).
    let (idle, busy) = engine.slots.heartbeat_view();
    let mut p = redis::pipe();
    p.atomic();
    for name in &idle {
        lifecycle::worker_heartbeat(&mut p, keys, name, engine.idle_worker_ttl(), at);
    }
    for b in &busy {
        let ttl = heartbeat_ttl(b.timeout, b.elapsed, engine.monitoring_interval());
        lifecycle::execution_heartbeat(&mut p, keys, &b.exec, ttl, b.elapsed, at);
    }
    let mut con = engine.con.clone();
    let replies: Vec<i64> = p.query_async(&mut con).await?;
    let repairs = lifecycle::heartbeat_replies(&replies, idle.len());
    let mut fix = redis::pipe();
    for (name, expired) in idle.iter().zip(repairs.idle_expired) {
        if expired {
            info!(worker = %name, "worker hash had expired; registering again");
            lifecycle::birth(&mut fix, keys, &engine.record(name), at);
            fix.cmd("EXPIRE")
                .arg(keys.worker(name))
                .arg(engine.idle_worker_ttl())
                .ignore();
            lifecycle::set_state(&mut fix, keys, name, worker_state::IDLE);
        }
    }
    for (b, (expired, ended, job_gone)) in busy.iter().zip(repairs.busy) {
        if ended {
            // The job ended after the view of the slots was taken: its end is written, this
            // beat was late. Nothing to re-register; drop what the beat re-created.
            debug!(job = %b.exec.job_id, "heartbeat after the job's end; dropping its stub");
            lifecycle::drop_execution_stub(&mut fix, keys, &b.exec);
        } else if expired {
            info!(worker = %b.exec.worker, "worker hash had expired; registering again");
            lifecycle::reregister_busy(&mut fix, keys, &engine.record(&b.exec.worker), &b.exec, at);
        }
        if job_gone {
            lifecycle::drop_job_stub(&mut fix, keys, &b.exec.job_id);
        }
    }
    if fix.cmd_iter().next().is_some() {
        fix.query_async::<()>(&mut con).await?;
    }
    debug!(idle = idle.len(), busy = busy.len(), "heartbeat");
    Ok(())
}
