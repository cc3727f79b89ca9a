//! How a job ends ([`JobEnd`]) and the transactions that write each end: success, failure,
//! retry, hand-back at shutdown, and the failure of an id that cannot be run at all
//! (rq-protocol.md §6.6–§6.8). The helpers shared with
//! `abandoned.rs` are here too.

use redis::Pipeline;

use super::{result_type, worker_state, Execution, Repeat, RetryPlan};
use super::{IDLE_WORKER_TTL, RESULTS_MAXLEN};
use crate::keys::Keys;
use crate::time::{format_datetime, py_float_repr, unix_float, unix_seconds, Timestamp};

/// How a job ended: the one model of a job's end. The executor decides it, the writer batches
/// it, and [`JobEnd::write`] turns it into RQ's transaction.
#[derive(Debug, Clone)]
pub enum JobEnd {
    /// The job returned.
    Success {
        /// Seconds the result and the job are kept (0: nothing, -1: forever).
        result_ttl: i64,
        /// The `return_value` field (base64), `None` for a Python `None`.
        return_value: Option<String>,
        /// Set when the job repeats (§7.6).
        repeat: Option<Repeat>,
        /// The job was enqueued with dependencies (`dependency_ids`), so `job.cleanup` has a
        /// dependencies set to expire; without, that `EXPIRE` would be a no-op and is not sent
        /// in the compact end (`rq::end_guard`).
        has_dependencies: bool,
    },
    /// The job raised (or was stopped) and will not be retried.
    Failure {
        /// `failed`, or `stopped` for stop-job.
        status: &'static str,
        /// The job's `failure_ttl` as its hash gives it (`None`: unset, one year).
        failure_ttl: Option<i64>,
        /// The exception text (a traceback), encoded as RQ does when written.
        exc_string: String,
    },
    /// The job raised and has retries left.
    Retry {
        /// `retries_left` once this retry is used.
        retries_left_after: i64,
        /// Back onto the queue now, or scheduled for later.
        plan: RetryPlan,
        /// The failure that caused the retry (not written to Redis: RQ writes no result).
        exc_string: String,
    },
    /// The job returned a `Retry` (RQ ≥ 2.12, `handle_job_retry`): see
    /// [`super::RetryReturned`].
    RetryReturned(Box<super::RetryReturned>),
    /// Unfinished at shutdown: handed back at the front of its queue (`--requeue-on-shutdown`).
    Requeue {
        /// Why (not written to Redis; for logs and observers).
        reason: String,
    },
}

impl JobEnd {
    /// The job's status once this end is written.
    pub fn status_after(&self) -> &'static str {
        match self {
            JobEnd::Success { repeat: None, .. } => crate::job::status::FINISHED,
            JobEnd::Success {
                repeat: Some(r), ..
            } => r.plan.status_after(),
            JobEnd::Failure { status, .. } => status,
            JobEnd::Retry { plan, .. } => plan.status_after(),
            JobEnd::RetryReturned(r) => r.status_after(),
            JobEnd::Requeue { .. } => crate::job::status::QUEUED,
        }
    }

    /// The parent status the job's dependents are released with (§7.3), `None` when they are
    /// not released. Quirks kept from earlier releases: a repeating success releases them as
    /// `finished` (the job did finish once), and a stopped job releases them as `failed`
    /// (dependents that allow failures run).
    pub fn releases_dependents(&self) -> Option<&'static str> {
        match self {
            JobEnd::Success { .. } => Some(crate::job::status::FINISHED),
            JobEnd::Failure { .. } => Some(crate::job::status::FAILED),
            // Out of retries: failed, and its dependents are enqueued as RQ's worker does.
            JobEnd::RetryReturned(r) if r.next.is_none() => Some(crate::job::status::FAILED),
            JobEnd::Retry { .. } | JobEnd::RetryReturned(_) | JobEnd::Requeue { .. } => None,
        }
    }

    /// Appends the end's transaction for execution `e`, ended at `ended_at` (no replies).
    pub fn write(&self, p: &mut Pipeline, keys: &Keys, e: &Execution, ended_at: Timestamp) {
        match self {
            JobEnd::Success {
                result_ttl,
                return_value,
                repeat,
                ..
            } => succeed(
                p,
                keys,
                e,
                *result_ttl,
                return_value.as_deref(),
                repeat.as_ref(),
                ended_at,
            ),
            JobEnd::Failure {
                status,
                failure_ttl,
                exc_string,
            } => fail(p, keys, e, status, *failure_ttl, exc_string, ended_at),
            JobEnd::Retry {
                retries_left_after,
                plan,
                ..
            } => retry(p, keys, e, *retries_left_after, plan, ended_at),
            JobEnd::RetryReturned(r) => r.write(p, keys, e, ended_at),
            JobEnd::Requeue { .. } => requeue_unfinished(p, keys, e, ended_at),
        }
    }
}

/// `cleanup_execution`: the worker is no longer busy with this execution. Always in the same
/// transaction as the terminal state (§12.2, §12.8).
pub(super) fn release_execution(p: &mut Pipeline, keys: &Keys, e: &Execution, now: Timestamp) {
    let worker_key = keys.worker(&e.worker);
    p.cmd("HDEL").arg(&worker_key).arg("current_job").ignore();
    p.cmd("DEL")
        .arg(keys.execution(&e.job_id, &e.execution_id))
        .ignore();
    p.cmd("ZREM")
        .arg(keys.wip(&e.queue))
        .arg(e.composite())
        .ignore();
    p.cmd("ZREM")
        .arg(keys.executions(&e.job_id))
        .arg(&e.execution_id)
        .ignore();
    p.cmd("SREM")
        .arg(keys.worker_executions(&e.worker))
        .arg(e.composite())
        .ignore();
    // What Python sends right after the transaction, folded in: the slot is idle again.
    p.cmd("HSET")
        .arg(&worker_key)
        .arg("current_job_working_time")
        .arg("0")
        .arg("state")
        .arg(worker_state::IDLE)
        .arg("last_heartbeat")
        .arg(format_datetime(now))
        .ignore();
    p.cmd("EXPIRE")
        .arg(&worker_key)
        .arg(IDLE_WORKER_TTL)
        .ignore();
}

pub(super) fn counters(
    p: &mut Pipeline,
    keys: &Keys,
    e: &Execution,
    field: &str,
    working_secs: f64,
) {
    let worker_key = keys.worker(&e.worker);
    p.cmd("HINCRBY").arg(&worker_key).arg(field).arg(1).ignore();
    p.cmd("HINCRBYFLOAT")
        .arg(&worker_key)
        .arg("total_working_time")
        .arg(py_float_repr(working_secs))
        .ignore();
}

/// `job.cleanup(ttl)`: expire (>0), keep (<0) or delete (0) the job's keys.
pub(super) fn cleanup_job_keys(p: &mut Pipeline, keys: &Keys, job_id: &str, ttl: i64) {
    let job_keys = [
        keys.job(job_id),
        keys.dependents(job_id),
        keys.dependencies(job_id),
    ];
    if ttl > 0 {
        for k in &job_keys {
            p.cmd("EXPIRE").arg(k).arg(ttl).ignore();
        }
    } else if ttl == 0 {
        p.cmd("DEL").arg(keys.executions(job_id)).ignore();
        p.cmd("DEL").arg(&job_keys[..]).ignore();
    }
}

pub(super) fn terminal_job_fields(
    p: &mut Pipeline,
    keys: &Keys,
    e: &Execution,
    status: &str,
    ended_at: Timestamp,
) {
    attempt_fields(p, keys, e, ("status", status), ended_at);
}

/// The job's fields at the end of an attempt: `field` (its status, or its retry count when
/// it runs again), the attempt's start and end (`last_heartbeat` = the end) and worker.
fn attempt_fields<V: redis::ToRedisArgs>(
    p: &mut Pipeline,
    keys: &Keys,
    e: &Execution,
    field: (&str, V),
    ended_at: Timestamp,
) {
    let ended = format_datetime(ended_at);
    p.cmd("HSET")
        .arg(keys.job(&e.job_id))
        .arg(field.0)
        .arg(field.1)
        .arg("started_at")
        .arg(format_datetime(e.started_at))
        .arg("ended_at")
        .arg(&ended)
        .arg("last_heartbeat")
        .arg(&ended)
        .arg("worker_name")
        .arg(&e.worker)
        .ignore();
}

/// The start of every results-stream entry RQ writes (§6.7): `XADD <key> MAXLEN ~ 10 * type
/// <kind> worker_name <worker>`; callers append the entry's other fields.
pub(super) fn results_xadd(key: impl redis::ToRedisArgs, kind: i64, worker: &str) -> redis::Cmd {
    let mut xadd = redis::cmd("XADD");
    xadd.arg(key)
        .arg("MAXLEN")
        .arg("~")
        .arg(RESULTS_MAXLEN)
        .arg("*")
        .arg("type")
        .arg(kind)
        .arg("worker_name")
        .arg(worker);
    xadd
}

/// RQ's `FailedJobRegistry.add(job, ttl=failure_ttl)`: `job.cleanup(failure_ttl)` (expire,
/// keep for -1, delete for 0) and the registry entry scored by its expiry (-1: never).
pub(super) fn add_to_failed_registry(
    p: &mut Pipeline,
    keys: &Keys,
    e: &Execution,
    failure_ttl: Option<i64>,
    ended_at: Timestamp,
) {
    let ttl = failure_ttl.unwrap_or(crate::job::DEFAULT_FAILURE_TTL);
    cleanup_job_keys(p, keys, &e.job_id, ttl);
    let score = if ttl < 0 {
        ttl
    } else {
        unix_seconds(ended_at) + ttl
    };
    p.cmd("ZADD")
        .arg(keys.failed(&e.queue))
        .arg(score)
        .arg(&e.job_id)
        .ignore();
}

pub(super) fn add_result(
    p: &mut Pipeline,
    keys: &Keys,
    e: &Execution,
    kind: i64,
    field: (&str, Option<&str>),
    ended_at: Timestamp,
) {
    let mut xadd = results_xadd(keys.results(&e.job_id), kind, &e.worker);
    if let (name, Some(value)) = field {
        xadd.arg(name).arg(value);
    }
    xadd.arg("execution_id")
        .arg(&e.execution_id)
        .arg("execution_started_at")
        .arg(py_float_repr(unix_float(e.started_at)))
        .arg("execution_ended_at")
        .arg(py_float_repr(unix_float(ended_at)));
    p.add_command(xadd).ignore();
}

/// Success (§6.7). `result_ttl` 0 keeps nothing, -1 keeps forever. `return_value` is the
/// base64 field or `None` for a Python `None`.
///
/// No reply: the dependents are released by the end script (`rq::end_guard`), atomically
/// with the status change, so dependents registered before it are released there and any
/// registered after it see `finished` on their own (§7.3).
pub fn succeed(
    p: &mut Pipeline,
    keys: &Keys,
    e: &Execution,
    result_ttl: i64,
    return_value: Option<&str>,
    repeat: Option<&Repeat>,
    ended_at: Timestamp,
) {
    let working = (ended_at - e.started_at).num_microseconds().unwrap_or(0) as f64 / 1e6;
    counters(p, keys, e, "successful_job_count", working);
    if result_ttl != 0 {
        terminal_job_fields(p, keys, e, "finished", ended_at);
        add_result(
            p,
            keys,
            e,
            result_type::SUCCESSFUL,
            ("return_value", return_value),
            ended_at,
        );
        let results = keys.results(&e.job_id);
        if result_ttl > 0 {
            p.cmd("EXPIRE").arg(&results).arg(result_ttl).ignore();
            p.cmd("ZADD")
                .arg(keys.finished(&e.queue))
                .arg(unix_seconds(ended_at) + result_ttl)
                .arg(&e.job_id)
                .ignore();
        } else {
            p.cmd("PERSIST").arg(&results).ignore();
            p.cmd("ZADD")
                .arg(keys.finished(&e.queue))
                .arg("+inf")
                .arg(&e.job_id)
                .ignore();
        }
    }
    match repeat {
        // §7.6: the result is written, `job.cleanup` is skipped, the job goes round again.
        Some(r) => {
            p.cmd("HSET")
                .arg(keys.job(&e.job_id))
                .arg("repeats_left")
                .arg(r.repeats_left_after)
                .ignore();
            requeue_or_schedule(p, keys, &e.queue, &e.job_id, &r.plan, ended_at);
        }
        None => cleanup_job_keys(p, keys, &e.job_id, result_ttl),
    }
    release_execution(p, keys, e, ended_at);
}

/// Puts a job back on its queue now, or into `rq:scheduled:<q>` for later (retries, repeats).
pub(super) fn requeue_or_schedule(
    p: &mut Pipeline,
    keys: &Keys,
    queue: &str,
    job_id: &str,
    plan: &RetryPlan,
    now: Timestamp,
) {
    let job_key = keys.job(job_id);
    match plan {
        RetryPlan::Requeue { at_front } => {
            p.cmd("HSET")
                .arg(&job_key)
                .arg("status")
                .arg("queued")
                .arg("enqueued_at")
                .arg(format_datetime(now))
                .ignore();
            p.cmd(if *at_front { "LPUSH" } else { "RPUSH" })
                .arg(keys.queue(queue))
                .arg(job_id)
                .ignore();
        }
        RetryPlan::Schedule { interval } => {
            p.cmd("HSET")
                .arg(&job_key)
                .arg("status")
                .arg("scheduled")
                .ignore();
            p.cmd("SADD")
                .arg(keys.queues())
                .arg(keys.queue(queue))
                .ignore();
            p.cmd("ZADD")
                .arg(keys.scheduled(queue))
                .arg(unix_seconds(now) + interval)
                .arg(job_id)
                .ignore();
        }
    }
}

/// Terminal failure (§6.8), Python's two transactions as one. `status` is `failed`, or `stopped`
/// for stop-job. `failure_ttl` is the hash field as given (`None` = unset): the stream gets a TTL
/// only when it is set, exactly as RQ does. No reply (see [`succeed`]).
pub fn fail(
    p: &mut Pipeline,
    keys: &Keys,
    e: &Execution,
    status: &str,
    failure_ttl: Option<i64>,
    exc_string: &str,
    ended_at: Timestamp,
) {
    let working = (ended_at - e.started_at).num_microseconds().unwrap_or(0) as f64 / 1e6;
    terminal_job_fields(p, keys, e, status, ended_at);
    add_to_failed_registry(p, keys, e, failure_ttl, ended_at);
    let encoded = crate::codec::encode_exc_string(exc_string);
    add_result(
        p,
        keys,
        e,
        result_type::FAILED,
        ("exc_string", Some(&encoded)),
        ended_at,
    );
    match failure_ttl {
        Some(t) if t > 0 => {
            p.cmd("EXPIRE").arg(keys.results(&e.job_id)).arg(t).ignore();
        }
        Some(-1) => {
            p.cmd("PERSIST").arg(keys.results(&e.job_id)).ignore();
        }
        _ => {}
    }
    counters(p, keys, e, "failed_job_count", working);
    release_execution(p, keys, e, ended_at);
}

/// KEYS `[job key]`, ARGV `[ended_at, worker_name]`: marks the hash `failed` only when the key
/// exists and is a hash.
const MARK_FAILED_IF_HASH: &str = include_str!("../scripts/mark_failed_if_hash.lua");

/// Ends an id that cannot be run as a job at all: its id is not UTF-8, or its `rq:job:` key is
/// not a hash (WRONGTYPE). There is no job hash to carry the usual failure, so this drops the id
/// from the intermediate list, marks the hash `failed` where it is one, and records the reason as
/// a failed result in `rq:results:<id>` (where Python's `job.latest_result()` reads it).
///
/// The id is deliberately *not* added to `FailedJobRegistry`: Python RQ decodes every registry
/// member as text and fetches its hash, so a non-UTF-8 or non-hash member would make `rq info`,
/// registry cleanup and rq-dashboard raise. Commands here may fail one by one (WRONGTYPE): run the
/// pipeline with `ignore_errors`.
pub fn reject_unreadable(
    p: &mut Pipeline,
    keys: &Keys,
    queue: &str,
    raw_id: &[u8],
    worker: &str,
    exc_string: &str,
    at: Timestamp,
) {
    p.cmd("LREM")
        .arg(keys.intermediate(queue))
        .arg(1)
        .arg(raw_id);
    let ended = format_datetime(at);
    let job_key = keys.raw_key("job", raw_id);
    // Only touch a key that exists and is a hash; never create or retype someone else's key.
    p.cmd("EVAL")
        .arg(MARK_FAILED_IF_HASH)
        .arg(1)
        .arg(&job_key)
        .arg(&ended)
        .arg(worker);
    let stamp = py_float_repr(unix_float(at));
    let mut xadd = results_xadd(keys.raw_key("results", raw_id), result_type::FAILED, worker);
    xadd.arg("exc_string")
        .arg(crate::codec::encode_exc_string(exc_string))
        .arg("execution_id")
        .arg("")
        .arg("execution_started_at")
        .arg(&stamp)
        .arg("execution_ended_at")
        .arg(&stamp);
    p.add_command(xadd);
    p.cmd("EXPIRE")
        .arg(keys.raw_key("results", raw_id))
        .arg(crate::job::DEFAULT_FAILURE_TTL);
}

/// A failed attempt that will be retried: no failed-registry entry and no result (§6.8).
/// No reply, like [`succeed`] and [`fail`].
pub fn retry(
    p: &mut Pipeline,
    keys: &Keys,
    e: &Execution,
    retries_left_after: i64,
    plan: &RetryPlan,
    ended_at: Timestamp,
) {
    let working = (ended_at - e.started_at).num_microseconds().unwrap_or(0) as f64 / 1e6;
    counters(p, keys, e, "failed_job_count", working);
    run_again(
        p,
        keys,
        e,
        ("retries_left", retries_left_after),
        plan,
        ended_at,
    );
    release_execution(p, keys, e, ended_at);
}

/// An attempt that runs again (a retry, or a returned `Retry`): the job's retry count
/// (`count`: `retries_left` or RQ ≥ 2.12's `number_of_retries`) and the attempt's times and
/// worker, then back to its queue or scheduled (`plan`).
pub(super) fn run_again(
    p: &mut Pipeline,
    keys: &Keys,
    e: &Execution,
    count: (&str, i64),
    plan: &RetryPlan,
    ended_at: Timestamp,
) {
    attempt_fields(p, keys, e, count, ended_at);
    requeue_or_schedule(p, keys, &e.queue, &e.job_id, plan, ended_at);
}

/// Hands an unfinished job back at shutdown (`--requeue-on-shutdown`): the job goes to the
/// FRONT of its queue with status `queued`, exactly as `Queue.enqueue_at_front` leaves it, and
/// its execution, `rq:wip` entry and the worker's `current_job` are removed in the same
/// transaction. No result, no failed-registry entry, no retry is used up: the attempt never
/// ended. No reply, like [`succeed`] and [`fail`].
pub fn requeue_unfinished(p: &mut Pipeline, keys: &Keys, e: &Execution, now: Timestamp) {
    let job_key = keys.job(&e.job_id);
    p.cmd("HDEL")
        .arg(&job_key)
        .arg("started_at")
        .arg("ended_at")
        .arg("worker_name")
        .ignore();
    p.cmd("SADD")
        .arg(keys.queues())
        .arg(keys.queue(&e.queue))
        .ignore();
    requeue_or_schedule(
        p,
        keys,
        &e.queue,
        &e.job_id,
        &RetryPlan::Requeue { at_front: true },
        now,
    );
    release_execution(p, keys, e, now);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commands(p: &Pipeline) -> Vec<Vec<String>> {
        p.cmd_iter()
            .map(|c| {
                c.args_iter()
                    .filter_map(|a| match a {
                        redis::Arg::Simple(b) => Some(String::from_utf8_lossy(b).into_owned()),
                        _ => None,
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn requeue_unfinished_hands_back_at_the_front_in_one_transaction() {
        let keys = Keys::new("rq");
        let e = Execution {
            worker: "w1".into(),
            job_id: "j1".into(),
            execution_id: "x1".into(),
            queue: "default".into(),
            started_at: crate::time::now(),
        };
        let mut p = redis::pipe();
        requeue_unfinished(&mut p, &keys, &e, crate::time::now());
        let cmds = commands(&p);
        let has = |want: &[&str]| {
            cmds.iter()
                .any(|c| c.len() >= want.len() && c.iter().zip(want).all(|(a, b)| a == b))
        };
        assert!(has(&["HSET", "rq:job:j1", "status", "queued"]), "{cmds:?}");
        assert!(has(&["LPUSH", "rq:queue:default", "j1"]), "{cmds:?}");
        assert!(has(&["ZREM", "rq:wip:default", "j1:x1"]), "{cmds:?}");
        assert!(has(&["DEL", "rq:execution:j1:x1"]), "{cmds:?}");
        assert!(has(&["HDEL", "rq:worker:w1", "current_job"]), "{cmds:?}");
        // Nothing that a failure or a success would write.
        for c in &cmds {
            let name = c[0].as_str();
            assert!(
                !["XADD", "ZADD", "RPUSH", "HINCRBY"].contains(&name),
                "{c:?}"
            );
        }
        // No reply: the end script reads the dependents itself (and releases none here).
        assert!(!cmds.iter().any(|c| c[0] == "SMEMBERS"), "{cmds:?}");
    }

    #[test]
    fn status_after_each_end() {
        let fail = |status| JobEnd::Failure {
            status,
            failure_ttl: None,
            exc_string: String::new(),
        };
        let retry = |plan| JobEnd::Retry {
            retries_left_after: 0,
            plan,
            exc_string: String::new(),
        };
        let success = |repeat| JobEnd::Success {
            result_ttl: 500,
            return_value: None,
            repeat,
            has_dependencies: false,
        };
        assert_eq!(success(None).status_after(), "finished");
        let again = |plan| Repeat {
            repeats_left_after: 1,
            plan,
        };
        assert_eq!(
            success(Some(again(RetryPlan::Requeue { at_front: false }))).status_after(),
            "queued"
        );
        assert_eq!(
            success(Some(again(RetryPlan::Schedule { interval: 5 }))).status_after(),
            "scheduled"
        );
        assert_eq!(fail("failed").status_after(), "failed");
        assert_eq!(fail("stopped").status_after(), "stopped");
        assert_eq!(fail("stopped").releases_dependents(), Some("failed"));
        assert_eq!(
            retry(RetryPlan::Requeue { at_front: true }).status_after(),
            "queued"
        );
        assert_eq!(
            retry(RetryPlan::Schedule { interval: 2 }).status_after(),
            "scheduled"
        );
        assert_eq!(
            retry(RetryPlan::Schedule { interval: 2 }).releases_dependents(),
            None
        );
        let requeue = JobEnd::Requeue {
            reason: String::new(),
        };
        assert_eq!(requeue.status_after(), "queued");
        assert_eq!(requeue.releases_dependents(), None);
    }
}
