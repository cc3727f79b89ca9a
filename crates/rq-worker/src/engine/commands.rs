//! Pub/sub commands on `rq:pubsub:<worker name>` (rq-protocol.md §6.9, §11), one channel per slot:
//! `shutdown` (warm, the whole process), `kill-horse`, `stop-job` and RQ 3.0's `stop-execution`,
//! as `rq::commands` parses them.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::PubSub;
use tracing::{info, warn};

use super::shutdown::Phase;
use super::slots::Cancel;
use super::state::Engine;
use crate::rq::commands::{self, Command};

/// The slots' command channels.
fn channels(engine: &Engine) -> Vec<String> {
    engine
        .slots
        .names()
        .iter()
        .map(|n| engine.keys.pubsub(n))
        .collect()
}

/// A pub/sub connection subscribed to every slot's channel. The worker takes it before it
/// registers: a command sent to a worker that is already listed in `rq:workers` then always
/// arrives. (RQ subscribes after `register_birth`, and a `shutdown` sent in between is lost.)
pub async fn subscribe(engine: &Engine) -> redis::RedisResult<PubSub> {
    let mut ps = engine.redis.pubsub().await?;
    for ch in channels(engine) {
        ps.subscribe(&ch).await?;
    }
    Ok(ps)
}

/// Handles commands until a cold shutdown, on `ready` first (from [`subscribe`]) and then on
/// a new subscription whenever the connection is lost.
pub async fn listen(engine: Arc<Engine>, mut ready: Option<PubSub>) {
    let channels = channels(&engine);
    let mut changes = engine.redis.changes();
    let mut moved = false;
    loop {
        let subscribed = match ready.take() {
            Some(ps) => Ok(ps),
            None => subscribe(&engine).await,
        };
        match subscribed {
            Ok(mut ps) => {
                let mut stream = ps.on_message();
                loop {
                    tokio::select! {
                        msg = stream.next() => {
                            let Some(msg) = msg else {
                                warn!("pub/sub connection lost; resubscribing");
                                break;
                            };
                            let channel = msg.get_channel_name().to_string();
                            let payload: Vec<u8> = msg.get_payload_bytes().to_vec();
                            if let Some(slot) = channels.iter().position(|c| *c == channel) {
                                handle(&engine, slot, &payload);
                            }
                        }
                        () = changes.next() => {
                            info!("the Redis master changed; subscribing on the new master");
                            moved = true;
                            break;
                        }
                    }
                }
                if moved {
                    // The new master is known: subscribe there at once.
                    moved = false;
                    continue;
                }
            }
            Err(e) => warn!("cannot subscribe to the workers' command channels: {e}"),
        }
        if engine.shutdown.phase() == Phase::Cold {
            return;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn handle(engine: &Engine, slot: usize, payload: &[u8]) {
    let worker = engine.slots.name(slot);
    let cmd = match commands::parse(payload) {
        Ok(c) => c,
        Err(e) => {
            warn!(worker, "ignoring malformed pub/sub command: {e}");
            return;
        }
    };
    match cmd {
        Command::Shutdown => {
            info!(worker, "shutdown command received");
            engine.shutdown.escalate(Phase::Warm);
        }
        Command::KillHorse => {
            if let Some(job_id) = engine.slots.cancel_slot(slot, Cancel::Kill) {
                info!(worker, job_id, "kill-horse: killing the running job");
            }
        }
        Command::Stop {
            job_id,
            execution_id,
        } => {
            let job_id = job_id.as_str();
            if engine
                .slots
                .cancel_job(slot, job_id, execution_id.as_deref(), Cancel::Stop)
            {
                info!(worker, job_id, "stopping job on request");
            } else {
                info!(
                    worker,
                    job_id, "stop request for a job this worker is not running; ignored"
                );
            }
        }
        Command::Unknown(other) => {
            warn!(worker, command = %other, "unknown pub/sub command ignored")
        }
    }
}
