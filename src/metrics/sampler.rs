//! Samples queue depths for the gauges: one pipelined round (`LLEN` queue, `ZCARD` started and
//! failed registries per queue) every interval, whatever the scrape rate, so scrapes never cause
//! Redis traffic. The same round sets the autoscaling gauges (`queue_waiting_jobs`,
//! `queue_running_jobs`, `free_slots`). A failed round marks `/healthz` unhealthy until the next good one.

use std::sync::Arc;
use std::time::Duration;

use rq_worker::RedisConnection;
use tokio::task::JoinHandle;
use tracing::{debug, warn};

use super::{redis_error, Metrics, QueueLabels};
use rq_protocol::keys::Keys;
use rq_protocol::stats;

/// Default sampling interval.
pub const INTERVAL: Duration = Duration::from_secs(5);

/// Reads this process's free slots at each sampling round.
pub type FreeSlots = Arc<dyn Fn() -> i64 + Send + Sync>;

pub fn spawn(
    metrics: Arc<Metrics>,
    con: RedisConnection,
    keys: Keys,
    queues: Vec<String>,
    free_slots: FreeSlots,
    every: Duration,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut con = con;
        let mut failing = false;
        loop {
            tick.tick().await;
            metrics.free_slots.set(free_slots());
            match sample(&metrics, &mut con, &keys, &queues).await {
                Ok(()) => {
                    if failing {
                        debug!("queue sampling works again");
                    }
                    failing = false;
                    metrics.set_problem(None);
                }
                Err(e) => {
                    redis_error("sample");
                    if !failing {
                        warn!("sampling queue depths failed: {e}");
                    }
                    failing = true;
                    metrics.set_problem(Some(format!("Redis: {e}")));
                }
            }
        }
    })
}

async fn sample(
    metrics: &Metrics,
    con: &mut RedisConnection,
    keys: &Keys,
    queues: &[String],
) -> redis::RedisResult<()> {
    let replies: Vec<i64> = stats::counts(keys, queues).query_async(con).await?;
    for (q, c) in queues
        .iter()
        .zip(stats::parse_counts(&replies, queues.len()))
    {
        let label = QueueLabels { queue: q.clone() };
        metrics.queue_depth.get_or_create(&label).set(c.queued);
        metrics
            .started_registry
            .get_or_create(&label)
            .set(c.started);
        metrics.failed_registry.get_or_create(&label).set(c.failed);
        metrics.waiting.get_or_create(&label).set(c.queued);
        metrics.running.get_or_create(&label).set(c.started);
        super::touch_abandoned(&label);
    }
    metrics.samples.inc();
    Ok(())
}
