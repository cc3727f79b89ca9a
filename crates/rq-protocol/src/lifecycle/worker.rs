//! The worker's own record: `register_birth` and `register_death`, its `state`, the name check
//! at start-up and the idle heartbeat with the reading of its replies (rq-protocol.md §6.1,
//! §6.2, §6.5, §6.9).

use redis::Pipeline;

use super::{worker_state, Execution, DEAD_WORKER_TTL, IDLE_WORKER_TTL};
use crate::keys::Keys;
use crate::time::{format_datetime, Timestamp};

/// What RQ's `Worker.serialize()` writes at birth (§6.1).
#[derive(Debug, Clone)]
pub struct WorkerRecord {
    /// The worker (slot) name, unique among live workers.
    pub name: String,
    /// The queues it listens on, highest priority first.
    pub queues: Vec<String>,
    /// The host it runs on.
    pub hostname: String,
    /// Its process id.
    pub pid: u32,
    /// Its address as Redis sees its connection.
    pub ip_address: String,
    /// The RQ version it is compatible with (see [`crate::RQ_COMPAT_VERSION`]).
    pub version: String,
    /// What RQ shows as its Python version (`sys.version` for a Python worker).
    pub python_version: String,
}

/// `register_birth` (§6.2): replace any dead record, register in the worker sets.
pub fn birth(p: &mut Pipeline, keys: &Keys, w: &WorkerRecord, now: Timestamp) {
    let key = keys.worker(&w.name);
    let ts = format_datetime(now);
    p.cmd("DEL").arg(&key).ignore();
    p.cmd("HSET")
        .arg(&key)
        .arg("birth")
        .arg(&ts)
        .arg("last_heartbeat")
        .arg(&ts)
        .arg("queues")
        .arg(w.queues.join(","))
        .arg("pid")
        .arg(w.pid)
        .arg("hostname")
        .arg(&w.hostname)
        .arg("ip_address")
        .arg(&w.ip_address)
        .arg("version")
        .arg(&w.version)
        .arg("python_version")
        .arg(&w.python_version)
        .arg("state")
        .arg(worker_state::STARTED)
        .ignore();
    p.cmd("SADD").arg(keys.workers()).arg(&key).ignore();
    for q in &w.queues {
        p.cmd("SADD").arg(keys.workers_of(q)).arg(&key).ignore();
    }
    p.cmd("EXPIRE").arg(&key).arg(IDLE_WORKER_TTL).ignore();
}

/// `register_death` (§6.9).
pub fn death(p: &mut Pipeline, keys: &Keys, name: &str, queues: &[String], now: Timestamp) {
    let key = keys.worker(name);
    p.cmd("SREM").arg(keys.workers()).arg(&key).ignore();
    for q in queues {
        p.cmd("SREM").arg(keys.workers_of(q)).arg(&key).ignore();
    }
    p.cmd("HSET")
        .arg(&key)
        .arg("death")
        .arg(format_datetime(now))
        .ignore();
    p.cmd("EXPIRE").arg(&key).arg(DEAD_WORKER_TTL).ignore();
    p.cmd("DEL").arg(keys.worker_executions(name)).ignore();
}

/// Whether a worker of this name is alive (RQ's `register_birth` refuses such a name): appends
/// `EXISTS` and `HEXISTS death`, two replies, read with [`name_taken`].
pub fn check_name(p: &mut Pipeline, keys: &Keys, name: &str) {
    let key = keys.worker(name);
    p.exists(&key).hexists(&key, "death");
}

/// The replies of [`check_name`]: the name is taken when the hash exists without a `death`.
pub fn name_taken((exists, dead): (bool, bool)) -> bool {
    exists && !dead
}

/// `HSET shutdown_requested_date`: a warm shutdown waits for the worker's job (§6.9).
pub fn shutdown_requested(p: &mut Pipeline, keys: &Keys, name: &str, now: Timestamp) {
    p.cmd("HSET")
        .arg(keys.worker(name))
        .arg("shutdown_requested_date")
        .arg(format_datetime(now))
        .ignore();
}

/// `HSET state <s>`.
pub fn set_state(p: &mut Pipeline, keys: &Keys, name: &str, state: &str) {
    p.cmd("HSET")
        .arg(keys.worker(name))
        .arg("state")
        .arg(state)
        .ignore();
}

/// Idle worker heartbeat: `HSET last_heartbeat`, `EXPIRE`. The reply of the HSET is kept (not
/// ignored): `1` means the hash had expired and the birth mapping must be written again (§6.5).
pub fn worker_heartbeat(p: &mut Pipeline, keys: &Keys, name: &str, ttl: i64, now: Timestamp) {
    let key = keys.worker(name);
    p.cmd("HSET")
        .arg(&key)
        .arg("last_heartbeat")
        .arg(format_datetime(now));
    p.cmd("EXPIRE").arg(&key).arg(ttl).ignore();
    p.cmd("EXPIRE")
        .arg(keys.worker_executions(name))
        .arg(ttl)
        .ignore();
}

/// What a heartbeat transaction's replies say needs repair (§6.5): the worker hashes that had
/// expired (their `HSET last_heartbeat` created a new hash) and the jobs deleted while running.
#[derive(Debug, Default, PartialEq)]
pub struct HeartbeatReplies {
    /// Per idle slot, in order: its hash had expired.
    pub idle_expired: Vec<bool>,
    /// Per busy slot, in order: (its hash had expired, its execution had ended, its job hash
    /// had been deleted).
    pub busy: Vec<(bool, bool, bool)>,
}

/// Reads the replies of `idle` [`worker_heartbeat`]s followed by
/// [`execution_heartbeat`](super::execution_heartbeat)s.
pub fn heartbeat_replies(replies: &[i64], idle: usize) -> HeartbeatReplies {
    let (idle_replies, busy_replies) = replies.split_at(idle.min(replies.len()));
    HeartbeatReplies {
        idle_expired: idle_replies.iter().map(|r| *r == 1).collect(),
        busy: busy_replies
            .chunks(3)
            .map(|r| {
                (
                    r.first() == Some(&1),
                    r.get(1) == Some(&1),
                    r.get(2) == Some(&1),
                )
            })
            .collect(),
    }
}

/// Registers a busy slot whose worker hash had expired again: birth, then `busy` with its
/// current job and execution.
pub fn reregister_busy(
    p: &mut Pipeline,
    keys: &Keys,
    w: &WorkerRecord,
    e: &Execution,
    now: Timestamp,
) {
    birth(p, keys, w, now);
    p.cmd("HSET")
        .arg(keys.worker(&e.worker))
        .arg("state")
        .arg(worker_state::BUSY)
        .arg("current_job")
        .arg(&e.job_id)
        .ignore();
    p.cmd("SADD")
        .arg(keys.worker_executions(&e.worker))
        .arg(e.composite())
        .ignore();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeat_replies_in_order() {
        // Two idle slots (the second had expired), then two busy ones (worker, execution, job).
        let r = heartbeat_replies(&[0, 1, 1, 0, 0, 0, 1, 1], 2);
        assert_eq!(r.idle_expired, vec![false, true]);
        assert_eq!(r.busy, vec![(true, false, false), (false, true, true)]);
        assert_eq!(heartbeat_replies(&[], 2), HeartbeatReplies::default());
    }
}
