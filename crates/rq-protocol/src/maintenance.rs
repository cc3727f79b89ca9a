//! RQ's registry maintenance (rq-protocol.md §7.1, §7.2), as builders: the per-queue lock
//! `rq:clean_registries:<q>`, expired registry entries, dead workers, and ids stuck in the
//! intermediate list. Abandoned jobs are failed or retried by `rq::lifecycle`
//! (`fail_abandoned`, `retry_abandoned`).

use redis::{Cmd, Pipeline};

use super::job::{status, JobHash};
use super::keys::Keys;

/// RQ's lock key, `SET rq:clean_registries:<q> 1 NX EX <ttl>`. RQ uses 899 s; we delete the
/// lock after a pass (which takes well under a second), so the TTL only matters when the holder
/// is killed mid-pass: with 899 s that would stop every worker's recovery of abandoned jobs for
/// 15 minutes (issue 9: workers get SIGKILLed). 60 s bounds that.
pub const LOCK_TTL: i64 = 60;
/// How long an id may sit in the intermediate list without an execution (RQ: 60 s).
pub const STUCK_AFTER_SECS: f64 = 60.0;
/// How long the first-seen mark of an intermediate id lives (RQ: one day).
const FIRST_SEEN_TTL: i64 = 86_400;

/// Takes the queue's maintenance lock; reply `OK` or nil (someone else holds it).
pub fn lock(keys: &Keys, queue: &str) -> Cmd {
    let mut c = redis::cmd("SET");
    c.arg(keys.clean_registries_lock(queue))
        .arg(1)
        .arg("NX")
        .arg("EX")
        .arg(LOCK_TTL);
    c
}

/// Releases the lock after a pass.
pub fn unlock(keys: &Keys, queue: &str) -> Cmd {
    let mut c = redis::cmd("DEL");
    c.arg(keys.clean_registries_lock(queue));
    c
}

/// Drops expired finished and failed entries; replies: the abandoned `rq:wip` members (score
/// in the past) and the queue's registered workers.
pub fn scan(keys: &Keys, queue: &str, now_unix: i64) -> Pipeline {
    let mut p = redis::pipe();
    p.cmd("ZREMRANGEBYSCORE")
        .arg(keys.finished(queue))
        .arg(0)
        .arg(now_unix)
        .ignore()
        .cmd("ZREMRANGEBYSCORE")
        .arg(keys.failed(queue))
        .arg(0)
        .arg(now_unix)
        .ignore()
        .cmd("ZRANGEBYSCORE")
        .arg(keys.wip(queue))
        .arg(0)
        .arg(now_unix)
        .cmd("SMEMBERS")
        .arg(keys.workers_of(queue));
    p
}

/// `EXISTS` of each worker key (a dead worker's hash expired); one reply each.
pub fn workers_alive(workers: &[String]) -> Pipeline {
    let mut p = redis::pipe();
    for w in workers {
        p.exists(w);
    }
    p
}

/// Removes dead workers from `rq:workers` and `rq:workers:<q>`.
pub fn drop_dead_workers(keys: &Keys, queue: &str, dead: &[&String]) -> Pipeline {
    let mut p = redis::pipe();
    for w in dead {
        p.srem(keys.workers_of(queue), *w).ignore();
        p.srem(keys.workers(), *w).ignore();
    }
    p
}

/// Whether an expired `rq:wip` member's job is abandoned, to be retried or failed (§7.1): only
/// while it is still `started`. RQ 3.0's cleanup leaves a job in any other status alone (it
/// ended, or was requeued, and its entry is a leftover): [`drop_wip`] removes the entry only.
pub fn is_abandoned(hash: &JobHash) -> bool {
    hash.status().as_deref() == Some(status::STARTED)
}

/// Drops an `rq:wip` member whose job is no longer `started` (RQ 3.0 leaves such jobs alone).
pub fn drop_wip(p: &mut Pipeline, keys: &Keys, queue: &str, member: &str) {
    p.zrem(keys.wip(queue), member).ignore();
}

/// Replies: the intermediate list and every `rq:wip` member of the queue.
pub fn intermediate_scan(keys: &Keys, queue: &str) -> Pipeline {
    let mut p = redis::pipe();
    p.lrange(keys.intermediate(queue), 0, -1)
        .zrange(keys.wip(queue), 0, -1);
    p
}

/// For an id in the intermediate list without an execution: replies whether its job exists
/// and when it was first seen there (marked now if not yet).
pub fn first_seen(keys: &Keys, queue: &str, id: &str, now_unix: f64) -> Pipeline {
    let seen_key = keys.intermediate_first_seen(queue, id);
    let mut p = redis::pipe();
    p.exists(keys.job(id))
        .cmd("SET")
        .arg(&seen_key)
        .arg(now_unix)
        .arg("NX")
        .arg("EX")
        .arg(FIRST_SEEN_TTL)
        .ignore()
        .get(&seen_key);
    p
}

/// Stuck for longer than [`STUCK_AFTER_SECS`]?
pub fn stuck(first_seen: Option<f64>, now_unix: f64) -> bool {
    first_seen.is_some_and(|f| now_unix - f > STUCK_AFTER_SECS)
}
