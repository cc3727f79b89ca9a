//! The ends maintenance writes for an execution whose worker stopped heartbeating (its `rq:wip`
//! score expired): failed as `StartedJobRegistry.cleanup` does, or retried (rq-protocol.md §7.1).

use redis::Pipeline;

use super::end::{cleanup_job_keys, requeue_or_schedule, results_xadd};
use super::{result_type, RetryPlan};
use crate::keys::Keys;
use crate::time::{format_datetime, unix_seconds, Timestamp};

/// An `rq:wip` member whose score has passed: its worker stopped heartbeating.
pub struct Abandoned<'a> {
    /// The queue whose `rq:wip` holds it.
    pub queue: &'a str,
    /// `<job_id>:<execution_id>`
    pub member: &'a str,
    /// The job of the execution.
    pub job_id: &'a str,
}

/// Fails a job whose execution was abandoned (its `rq:wip` score expired: the worker died),
/// as `StartedJobRegistry.cleanup` does (§7.1): a type 2 result with `worker_name ''`.
/// No reply: the caller releases the job's dependents afterwards (`rq::dependents`).
pub fn fail_abandoned(
    p: &mut Pipeline,
    keys: &Keys,
    a: &Abandoned<'_>,
    failure_ttl: Option<i64>,
    now: Timestamp,
) {
    let (queue, member, job_id) = (a.queue, a.member, a.job_id);
    let ttl = failure_ttl.unwrap_or(crate::job::DEFAULT_FAILURE_TTL);
    let ts = format_datetime(now);
    p.cmd("HSET")
        .arg(keys.job(job_id))
        .arg("status")
        .arg("failed")
        .arg("ended_at")
        .arg(&ts)
        .ignore();
    cleanup_job_keys(p, keys, job_id, ttl);
    let score = if ttl < 0 {
        ttl
    } else {
        unix_seconds(now) + ttl
    };
    p.cmd("ZADD")
        .arg(keys.failed(queue))
        .arg(score)
        .arg(job_id)
        .ignore();
    let (_, execution_id) = Keys::parse_composite(member);
    let mut xadd = results_xadd(keys.results(job_id), result_type::FAILED, "");
    xadd.arg("exc_string").arg(crate::codec::encode_exc_string(
        &crate::failure::abandoned_text(now),
    ));
    if !execution_id.is_empty() {
        xadd.arg("execution_id").arg(execution_id);
    }
    p.add_command(xadd).ignore();
    match failure_ttl {
        Some(t) if t > 0 => {
            p.cmd("EXPIRE").arg(keys.results(job_id)).arg(t).ignore();
        }
        Some(-1) => {
            p.cmd("PERSIST").arg(keys.results(job_id)).ignore();
        }
        _ => {}
    }
    p.cmd("ZREM").arg(keys.wip(queue)).arg(member).ignore();
}

/// Retries an abandoned job that has retries left (`job.retry()`, §7.1 step 3).
pub fn retry_abandoned(
    p: &mut Pipeline,
    keys: &Keys,
    a: &Abandoned<'_>,
    retries_left_after: i64,
    plan: &RetryPlan,
    now: Timestamp,
) {
    let (queue, member, job_id) = (a.queue, a.member, a.job_id);
    p.cmd("HSET")
        .arg(keys.job(job_id))
        .arg("retries_left")
        .arg(retries_left_after)
        .ignore();
    requeue_or_schedule(p, keys, queue, job_id, plan, now);
    p.cmd("ZREM").arg(keys.wip(queue)).arg(member).ignore();
}
