//! Putting jobs back on their queue: failed jobs (`rq requeue`, `task-worker requeue`) and ids
//! left in an intermediate list by a worker that died between taking and starting them.

/// `FailedJobRegistry.requeue` (rq 2.12 `registry.py`, `queue._enqueue_job`) as one atomic
/// script: Python's `ZREM` decides whether the job is requeued at all, which a plain `MULTI`
/// cannot express. The fields Python's `job.save()` changes are `status=queued`,
/// `started_at=''`, `ended_at=''`, `exc_info=zlib('')`, `enqueued_at=now`, and `timeout` when the
/// hash has none (`_prepare_for_queue` applies the queue default); the key's `ttl` is applied
/// again like `job.cleanup(ttl)`; the id goes to the tail of `rq:queue:<origin>`.
///
/// A job with an RQ 3.0 concurrency limit reacquires a slot through the limiter instead
/// (`_enqueue_rate_limited_job`, see `rq::rate_limit`), as RQ 3.0's requeue does.
///
/// KEYS: `[failed registry, job hash]`; ARGV: `[job id, prefix, now, zlib(''), default timeout,
/// now_unix]`.
/// Returns 1 when requeued, 0 when the job is not in that registry, -1 when its hash is gone
/// and -2 when the hash has no origin; in those cases nothing changes (Python's `Job.fetch`
/// fails before its `ZREM` too).
pub const REQUEUE_FAILED_SCRIPT: &str = concat!(
    include_str!("scripts/lib/rate_limit.lua"),
    include_str!("scripts/requeue_failed.lua"),
);

/// KEYS `[intermediate, queue, first_seen]`, ARGV `[id]`: move the id back to the queue front
/// only if it is still in the intermediate list.
pub const REQUEUE_STUCK_SCRIPT: &str = include_str!("scripts/requeue_stuck.lua");

/// The call of [`REQUEUE_STUCK_SCRIPT`] for one id of `queue`'s intermediate list; reply 1 when
/// it was moved.
pub fn stuck_invocation<'a>(
    script: &'a redis::Script,
    keys: &super::Keys,
    queue: &str,
    id: &str,
) -> redis::ScriptInvocation<'a> {
    let mut inv = script.prepare_invoke();
    inv.key(keys.intermediate(queue))
        .key(keys.queue(queue))
        .key(keys.intermediate_first_seen(queue, id))
        .arg(id);
    inv
}
