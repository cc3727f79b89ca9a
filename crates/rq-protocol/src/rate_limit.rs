//! RQ 3.0's concurrency limits (`rq/rate_limit.py`, documented as "Concurrency Rate Limits").
//!
//! A job enqueued with `rate_limit=RateLimit(key, concurrency)` carries `rate_limit_key` and
//! `rate_limit_concurrency` in its hash. The enqueuer registers the key in `rq:rl-keys`, writes
//! `concurrency` to `rq:rl:<key>`, saves the job `rate_limited`, adds it to
//! `rq:rl:<key>:rate_limited` and runs the acquire script: while `rq:rl:<key>:allowed` holds
//! fewer ids than the limit, the oldest waiter moves there and onto its queue (`queued`). So
//! `allowed` counts the jobs of the key that are queued or running, and never exceeds the limit.
//!
//! The worker's part, as RQ 3.0's worker does it:
//! * after a job's outcome is committed its slot is released (`release_slot`: unless its status
//!   is now `queued` or `started`, i.e. not for an immediate retry, a repeat or a hand-back, but
//!   for a delayed retry or repeat, which goes through the limiter again when it is due) and the
//!   next waiters are promoted, all in RQ's release script;
//! * a due scheduled job, or a dependent whose dependencies are met, is enqueued through the
//!   limiter (`Queue._enqueue_rate_limited_job`, `rl_enqueue` of `scripts/lib/rate_limit.lua`);
//! * maintenance frees slots whose job is no longer queued or started (RQ's release-stale
//!   script), fills free slots and drops a key whose sets are empty (`RateLimitRegistry.cleanup`).
//!
//! The scripts are RQ 3.0's own code (verbatim below the comment at the top of each `.lua` file),
//! so a fleet of Python 3.0 workers and task-workers shares one limit.

use redis::{Script, ScriptInvocation};

use super::keys::Keys;

/// `ACQUIRE_AND_ENQUEUE_SCRIPT` of `rq/rate_limit.py` (3.0.0), verbatim after its header comment.
/// KEYS: `[allowed, rate_limited]`; ARGV: `[concurrency, timestamp, enqueued_at,
/// queue_key_prefix, job_key_prefix]`. Returns the promoted ids.
pub const ACQUIRE_AND_ENQUEUE: &str = include_str!("scripts/rl_acquire_and_enqueue.lua");

/// `RELEASE_AND_ENQUEUE_SCRIPT`: remove the completed job (`ARGV[6]`) from `allowed`, then acquire.
pub const RELEASE_AND_ENQUEUE: &str = concat!(
    include_str!("scripts/rl_release.lua"),
    include_str!("scripts/rl_acquire_and_enqueue.lua"),
);

/// `RELEASE_STALE_AND_ENQUEUE_SCRIPT`: for callers that do not own the job's outcome
/// (maintenance): keep the slot of a job that is queued or started or has a live execution.
/// KEYS: `[allowed, rate_limited, job_key, executions_key]`; ARGV as [`RELEASE_AND_ENQUEUE`].
pub const RELEASE_STALE_AND_ENQUEUE: &str = concat!(
    include_str!("scripts/rl_release_stale.lua"),
    include_str!("scripts/rl_acquire_and_enqueue.lua"),
);

/// `CLEANUP_REGISTRY_SCRIPT`: drop a key whose sets are both empty.
/// KEYS: `[allowed, rate_limited, config, rl_keys]`; ARGV: `[key]`.
pub const CLEANUP_REGISTRY: &str = include_str!("scripts/rl_cleanup_registry.lua");

/// A job's limit, from its hash (`Job.has_rate_limit`: a key and a concurrency ≥ 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    /// The limit key (`rate_limit_key`) that jobs sharing a limit have in common.
    pub key: String,
    /// How many jobs of the key may be queued or running at once.
    pub concurrency: i64,
}

/// `release_slot(job)`: true when a job whose outcome is now `status` gives its slot back.
pub fn releases_slot(status: &str) -> bool {
    !matches!(status, "queued" | "started")
}

fn common_args<'a>(
    inv: &mut ScriptInvocation<'a>,
    keys: &Keys,
    concurrency: i64,
    timestamp: i64,
    enqueued_at: &str,
) {
    inv.arg(concurrency)
        .arg(timestamp)
        .arg(enqueued_at)
        .arg(keys.queue_key_prefix())
        .arg(keys.job(""));
}

/// `RateLimitRegistry.release_and_enqueue(job_id)`; `concurrency` is the registry's
/// (`HGET rq:rl:<key> concurrency`, 0 when unset, which promotes nothing).
pub fn release_invocation<'a>(
    script: &'a Script,
    keys: &Keys,
    key: &str,
    concurrency: i64,
    job_id: &str,
    timestamp: i64,
    enqueued_at: &str,
) -> ScriptInvocation<'a> {
    let mut inv = script.prepare_invoke();
    inv.key(keys.rl_allowed(key)).key(keys.rl_rate_limited(key));
    common_args(&mut inv, keys, concurrency, timestamp, enqueued_at);
    inv.arg(job_id);
    inv
}

/// `RateLimitRegistry.release_stale_and_enqueue(job_id)`.
pub fn release_stale_invocation<'a>(
    script: &'a Script,
    keys: &Keys,
    key: &str,
    concurrency: i64,
    job_id: &str,
    timestamp: i64,
    enqueued_at: &str,
) -> ScriptInvocation<'a> {
    let mut inv = script.prepare_invoke();
    inv.key(keys.rl_allowed(key))
        .key(keys.rl_rate_limited(key))
        .key(keys.job(job_id))
        .key(keys.executions(job_id));
    common_args(&mut inv, keys, concurrency, timestamp, enqueued_at);
    inv.arg(job_id);
    inv
}

/// `RateLimitRegistry.acquire_and_enqueue(concurrency)`.
pub fn acquire_invocation<'a>(
    script: &'a Script,
    keys: &Keys,
    key: &str,
    concurrency: i64,
    timestamp: i64,
    enqueued_at: &str,
) -> ScriptInvocation<'a> {
    let mut inv = script.prepare_invoke();
    inv.key(keys.rl_allowed(key)).key(keys.rl_rate_limited(key));
    common_args(&mut inv, keys, concurrency, timestamp, enqueued_at);
    inv
}

/// The registry cleanup's last step.
pub fn cleanup_invocation<'a>(script: &'a Script, keys: &Keys, key: &str) -> ScriptInvocation<'a> {
    let mut inv = script.prepare_invoke();
    inv.key(keys.rl_allowed(key))
        .key(keys.rl_rate_limited(key))
        .key(keys.rl_config(key))
        .key(keys.rl_keys())
        .arg(key);
    inv
}

/// `HGET rq:rl:<key> concurrency`; its reply goes to [`parse_concurrency`].
pub fn concurrency_cmd(keys: &Keys, key: &str) -> redis::Cmd {
    let mut c = redis::cmd("HGET");
    c.arg(keys.rl_config(key)).arg("concurrency");
    c
}

/// `RateLimitRegistry.concurrency`: the key's configured limit, 0 when unset or unreadable.
pub fn parse_concurrency(reply: Option<String>) -> i64 {
    reply.and_then(|v| v.trim().parse().ok()).unwrap_or(0)
}

/// `SMEMBERS rq:rl-keys`: every limit key in use.
pub fn keys_cmd(keys: &Keys) -> redis::Cmd {
    let mut c = redis::cmd("SMEMBERS");
    c.arg(keys.rl_keys());
    c
}

/// `ZRANGE rq:rl:<key>:allowed 0 -1`: the jobs holding a slot.
pub fn allowed_cmd(keys: &Keys, key: &str) -> redis::Cmd {
    let mut c = redis::cmd("ZRANGE");
    c.arg(keys.rl_allowed(key)).arg(0).arg(-1);
    c
}

/// `HGET rq:job:<id> status` for each id (one reply each, nil for a gone hash).
pub fn statuses(keys: &Keys, ids: &[String]) -> redis::Pipeline {
    let mut p = redis::pipe();
    for id in ids {
        p.hget(keys.job(id), "status");
    }
    p
}

/// `_release_stale_allowed_jobs`: a slot whose job is no longer queued or started leaked
/// (a gone hash too). The status may be stale; the release-stale script checks it again.
pub fn slot_leaked(status: Option<&str>) -> bool {
    status.is_none_or(releases_slot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_are_rqs() {
        // RQ's text, after the comment lines at the top of each file.
        let code = |s: &'static str| s.lines().find(|l| !l.starts_with("--"));
        assert_eq!(
            code(RELEASE_AND_ENQUEUE),
            Some("redis.call('ZREM', KEYS[1], ARGV[6])")
        );
        assert!(RELEASE_AND_ENQUEUE.ends_with(ACQUIRE_AND_ENQUEUE));
        assert!(RELEASE_STALE_AND_ENQUEUE.ends_with(ACQUIRE_AND_ENQUEUE));
        assert!(ACQUIRE_AND_ENQUEUE.contains("redis.call('ZPOPMIN', KEYS[2])"));
    }

    #[test]
    fn slot_release_rule_is_release_slots() {
        for s in ["finished", "failed", "stopped", "scheduled", "canceled"] {
            assert!(releases_slot(s), "{s}");
        }
        assert!(!releases_slot("queued"));
        assert!(!releases_slot("started"));
    }
}
