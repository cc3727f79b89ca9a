//! RQ's scheduler protocol (rq-protocol.md §7.5): per-queue locks taken with RQ 2.10+'s Lua
//! scripts (value = scheduler name, `EX 61`), the `rq:scheduler:<name>` hash, and the move of due
//! jobs from `rq:scheduled:<q>` to the queue. The lock scripts are RQ's own code (verbatim below
//! the comment at the top of their `.lua` files), so a task-worker scheduler and a Python one
//! never both own a queue.

use redis::{Pipeline, Script, ScriptInvocation};

use super::keys::Keys;
use super::time::{format_datetime, unix_seconds, Timestamp};

/// `ACQUIRE_OR_REFRESH_LOCK_SCRIPT` from `rq/scripts.py` (2.12): 1 acquired, 2 refreshed, 0 taken.
pub const ACQUIRE_OR_REFRESH_LOCK: &str = include_str!("scripts/scheduler_lock.lua");

/// `RELEASE_LOCK_SCRIPT` from `rq/scripts.py`: delete only if still ours.
pub const RELEASE_LOCK: &str = include_str!("scripts/scheduler_release_lock.lua");

/// Scheduler lock and hash TTL: `interval + 60` with RQ's interval of 1 s.
pub const LOCK_TTL: i64 = 61;

/// Moves due jobs of one queue, atomically (RQ does the same steps in a pipeline, §7.5 step 2):
/// status `queued`, `enqueued_at` now, the job's own `ttl` re-applied, pushed to the front when
/// `enqueue_at_front` (or `enqueue_at_front_on_retry` after a first run), removed from the
/// scheduled registry; ids whose hash is gone are just removed.
///
/// A job with an RQ 3.0 concurrency limit goes through the limiter (`_enqueue_rate_limited_job`
/// with `at_front=job.should_enqueue_at_front()`, see `rq::rate_limit`): it waits for a slot
/// unless one is free.
///
/// KEYS: `[scheduled, queue, queues]`; ARGV: `[now_unix, now_datetime, job_key_prefix, queue_key,
/// limit, prefix]`. Returns the number of jobs enqueued.
pub const MOVE_DUE_JOBS: &str = concat!(
    include_str!("scripts/lib/rate_limit.lua"),
    include_str!("scripts/scheduler_move_due_jobs.lua"),
);

/// What a scheduler writes of itself (RQ 2.10+'s `rq:scheduler:<name>` hash, refreshed every
/// tick with the locks' TTL).
pub struct SchedulerRecord<'a> {
    /// The scheduler's name (the value of the locks it holds).
    pub name: &'a str,
    /// The host it runs on.
    pub hostname: &'a str,
    /// Its process id.
    pub pid: u32,
    /// The queues it schedules for.
    pub queues: &'a [String],
}

/// The scheduler's heartbeat: its hash (`created_at` only once) and TTL.
pub fn heartbeat(p: &mut Pipeline, keys: &Keys, s: &SchedulerRecord<'_>, now: Timestamp) {
    let hash = keys.scheduler(s.name);
    p.cmd("HSET")
        .arg(&hash)
        .arg("name")
        .arg(s.name)
        .arg("hostname")
        .arg(s.hostname)
        .arg("pid")
        .arg(s.pid)
        .arg("queues")
        .arg(s.queues.join(","))
        .arg("last_heartbeat")
        .arg(format_datetime(now))
        .ignore();
    p.cmd("HSETNX")
        .arg(&hash)
        .arg("created_at")
        .arg(format_datetime(now))
        .ignore();
    p.cmd("EXPIRE").arg(&hash).arg(LOCK_TTL).ignore();
}

/// `DEL rq:scheduler:<name>`, when the scheduler stops.
pub fn remove(keys: &Keys, name: &str) -> redis::Cmd {
    let mut c = redis::cmd("DEL");
    c.arg(keys.scheduler(name));
    c
}

/// A lock script's call for one queue: KEYS `[rq:scheduler-lock:<q>]`, ARGV `[name]`.
fn lock_script<'a>(
    script: &'a Script,
    keys: &Keys,
    queue: &str,
    name: &str,
) -> ScriptInvocation<'a> {
    let mut inv = script.prepare_invoke();
    inv.key(keys.scheduler_lock(queue)).arg(name);
    inv
}

/// [`ACQUIRE_OR_REFRESH_LOCK`] for one queue (reply: 1 acquired, 2 refreshed, 0 taken).
pub fn lock_invocation<'a>(
    script: &'a Script,
    keys: &Keys,
    queue: &str,
    name: &str,
) -> ScriptInvocation<'a> {
    let mut inv = lock_script(script, keys, queue, name);
    inv.arg(LOCK_TTL);
    inv
}

/// [`RELEASE_LOCK`] for one queue.
pub fn release_invocation<'a>(
    script: &'a Script,
    keys: &Keys,
    queue: &str,
    name: &str,
) -> ScriptInvocation<'a> {
    lock_script(script, keys, queue, name)
}

/// [`MOVE_DUE_JOBS`] for one queue, at most `limit` jobs due by `now`.
pub fn move_invocation<'a>(
    script: &'a Script,
    keys: &Keys,
    queue: &str,
    now: Timestamp,
    limit: usize,
) -> ScriptInvocation<'a> {
    let mut inv = script.prepare_invoke();
    inv.key(keys.scheduled(queue))
        .key(keys.queue(queue))
        .key(keys.queues())
        .arg(unix_seconds(now))
        .arg(format_datetime(now))
        .arg(keys.job(""))
        .arg(keys.queue(queue))
        .arg(limit)
        .arg(keys.prefix());
    inv
}
