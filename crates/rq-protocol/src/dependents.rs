//! Releasing dependents after a parent job ends (rq-protocol.md §7.3).
//!
//! RQ does this under `WATCH`; a multiplexed connection cannot hold a `WATCH`, so the dependents
//! are checked and enqueued by Lua (`scripts/lib/dependents.lua`), atomic by itself: inside the
//! job-end script for a job the worker ran (`rq::end_guard`), by [`RELEASE_SCRIPT`] for one
//! failed as abandoned. The rules are RQ's `Job.dependencies_are_met` and
//! `Queue.enqueue_dependents`:
//! * a canceled or stopped parent never releases; a failed one only with `allow_dependency_failures`;
//! * every other dependency must be `finished` (or `failed` when failures are allowed); a
//!   dependency whose hash is gone counts as met, as in RQ;
//! * a canceled dependent is never enqueued.
//!
//! Unlike RQ, a dependent that is no longer `deferred` (already enqueued by someone else) is not
//! pushed a second time.

/// Releases every dependent of a parent that ended outside the job-end script (a job failed as
/// abandoned by maintenance).
///
/// ARGV: `[prefix, parent_id, parent_status, now, now_unix]`. Returns the ids enqueued.
pub const RELEASE_SCRIPT: &str = concat!(
    include_str!("scripts/lib/rate_limit.lua"),
    include_str!("scripts/lib/dependents.lua"),
    include_str!("scripts/release_dependents.lua"),
);

/// The call of [`RELEASE_SCRIPT`] for one parent that ended with `parent_status`.
pub fn release_invocation<'a>(
    script: &'a redis::Script,
    keys: &super::Keys,
    parent: &str,
    parent_status: &str,
    now: super::time::Timestamp,
) -> redis::ScriptInvocation<'a> {
    let mut inv = script.prepare_invoke();
    inv.arg(keys.prefix())
        .arg(parent)
        .arg(parent_status)
        .arg(super::time::format_datetime(now))
        .arg(super::time::unix_seconds(now));
    inv
}

/// Dependents left `deferred` although every dependency is met: the dependency race of RQ < 3.0
/// enqueuers. RQ 2.x's `Queue.setup_dependencies` defers a job unless every dependency is
/// `finished`, even when it allows failures and the dependency has `failed` already; it then adds
/// itself to the parent's dependents set *after* the parent's end read that set, and nobody
/// enqueues it. A retry after a `WATCH` abort (the parent's end touched the watched hash) lands
/// there too. RQ 3.0 checks `failed` for allow-failure jobs at enqueue time.
///
/// This script finds such jobs and enqueues them, each at most once: the check and the enqueue
/// are one atomic step keyed on the status (`deferred`), so a second call (ours, a peer's, or a
/// Python worker's `enqueue_dependents`) finds it `queued` and leaves it. The dependents sets of
/// its dependencies lose the id in the same step (which also aborts a Python worker's `WATCH` on
/// them). The rules are `Job.dependencies_are_met` without a parent: every dependency must be
/// `finished`, or `failed` when the job allows failures; a dependency whose hash is gone counts
/// as met; a canceled or stopped dependency never releases; a job without a recorded dependency
/// is left alone (nothing says it may run).
///
/// ARGV: `[prefix, now, now_unix, mode, ids…]`; `mode` is `jobs` (the ids are deferred jobs, e.g. the
/// members of `rq:deferred:<q>`) or `parents` (the ids are jobs that ended; their dependents sets
/// are swept). Returns the ids enqueued.
pub const RESCUE_SCRIPT: &str = concat!(
    include_str!("scripts/lib/rate_limit.lua"),
    include_str!("scripts/lib/dependents.lua"),
    include_str!("scripts/rescue_dependents.lua"),
);

/// What [`RESCUE_SCRIPT`] is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RescueMode {
    /// The ids are deferred jobs (the members of `rq:deferred:<q>`).
    Jobs,
    /// The ids are jobs that ended; their dependents sets are swept.
    Parents,
}

/// Most ids handed to one [`RESCUE_SCRIPT`] call (each call blocks Redis while it runs).
pub const RESCUE_CHUNK: usize = 200;

/// How long after a job's failure its dependents set is swept again, for dependents that an RQ
/// 2.x enqueuer registered after the end read the set (the enqueuer's retry after a `WATCH`
/// abort takes milliseconds; a slow or distant enqueuer longer). Maintenance covers the rest.
pub const RESCUE_AFTER_END: [std::time::Duration; 3] = [
    std::time::Duration::from_secs(1),
    std::time::Duration::from_secs(5),
    std::time::Duration::from_secs(30),
];

/// The call of [`RESCUE_SCRIPT`] for one chunk of ids.
pub fn rescue_invocation<'a>(
    script: &'a redis::Script,
    keys: &super::Keys,
    now: &str,
    now_unix: i64,
    mode: RescueMode,
    ids: &[String],
) -> redis::ScriptInvocation<'a> {
    let mut inv = script.prepare_invoke();
    inv.arg(keys.prefix())
        .arg(now)
        .arg(now_unix)
        .arg(match mode {
            RescueMode::Jobs => "jobs",
            RescueMode::Parents => "parents",
        });
    for id in ids {
        inv.arg(id);
    }
    inv
}

/// `ZRANGE rq:deferred:<q> 0 -1`: the ids of every deferred job of a queue.
pub fn deferred_ids(keys: &super::Keys, queue: &str) -> redis::Cmd {
    let mut c = redis::cmd("ZRANGE");
    c.arg(keys.deferred(queue)).arg(0).arg(-1);
    c
}
