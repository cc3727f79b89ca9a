//! The worker-side transactions of RQ's job lifecycle, as pure pipeline builders
//! (rq-protocol.md §6.2–§6.9). Nothing here touches the network: the engine decides when to
//! send them. Each builder appends commands to a `redis::Pipeline`; all of them are marked
//! `.ignore()` except where a reply is documented.
//!
//! Where Python RQ sends two transactions back to back (job start, failure + counters), we send
//! one: the resulting state is identical and no reader can observe the half-way point.

use redis::Pipeline;

use super::keys::Keys;
pub use super::retry::{Repeat, RetryPlan};
use super::time::{format_datetime, py_float_repr, unix_float, unix_seconds, Timestamp};

/// Worker hash TTL while idle: `worker_ttl + 60` (§6, default worker_ttl 420).
pub const IDLE_WORKER_TTL: i64 = 480;
/// The worker hash lives this long after death (§6.9).
pub const DEAD_WORKER_TTL: i64 = 60;
/// Stream entries kept per job (`XADD … MAXLEN ~ 10`).
pub const RESULTS_MAXLEN: usize = 10;

/// Worker `state` values (`rq.worker.WorkerStatus`).
pub mod worker_state {
    pub const STARTED: &str = "started";
    pub const IDLE: &str = "idle";
    pub const BUSY: &str = "busy";
    /// Shown while `rq:suspended` is set, by every slot without a job (§6.3).
    pub const SUSPENDED: &str = "suspended";
}

/// Result entry types (`rq.results.Result.Type`).
pub mod result_type {
    pub const SUCCESSFUL: i64 = 1;
    pub const FAILED: i64 = 2;
}

/// How a job ended: the one model of a job's end. The executor decides it, the writer batches
/// it, and [`JobEnd::write`] turns it into RQ's transaction.
#[derive(Debug, Clone)]
pub enum JobEnd {
    Success {
        result_ttl: i64,
        return_value: Option<String>,
        /// Set when the job repeats (§7.6).
        repeat: Option<Repeat>,
        /// The job was enqueued with dependencies (`dependency_ids`), so `job.cleanup` has a
        /// dependencies set to expire; without, that `EXPIRE` would be a no-op and is not sent
        /// in the compact end (`rq::end_guard`).
        has_dependencies: bool,
    },
    Failure {
        /// `failed`, or `stopped` for stop-job.
        status: &'static str,
        failure_ttl: Option<i64>,
        exc_string: String,
    },
    Retry {
        retries_left_after: i64,
        plan: RetryPlan,
        /// The failure that caused the retry (not written to Redis: RQ writes no result).
        exc_string: String,
    },
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
            JobEnd::Success { repeat: None, .. } => super::job::status::FINISHED,
            JobEnd::Success {
                repeat: Some(r), ..
            } => r.plan.status_after(),
            JobEnd::Failure { status, .. } => status,
            JobEnd::Retry { plan, .. } => plan.status_after(),
            JobEnd::Requeue { .. } => super::job::status::QUEUED,
        }
    }

    /// The parent status the job's dependents are released with (§7.3), `None` when they are
    /// not released. Quirks kept from earlier releases: a repeating success releases them as
    /// `finished` (the job did finish once), and a stopped job releases them as `failed`
    /// (dependents that allow failures run).
    pub fn releases_dependents(&self) -> Option<&'static str> {
        match self {
            JobEnd::Success { .. } => Some(super::job::status::FINISHED),
            JobEnd::Failure { .. } => Some(super::job::status::FAILED),
            JobEnd::Retry { .. } | JobEnd::Requeue { .. } => None,
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
            JobEnd::Requeue { .. } => requeue_unfinished(p, keys, e, ended_at),
        }
    }
}

/// What RQ's `Worker.serialize()` writes at birth (§6.1).
#[derive(Debug, Clone)]
pub struct WorkerRecord {
    pub name: String,
    pub queues: Vec<String>,
    pub hostname: String,
    pub pid: u32,
    pub ip_address: String,
    pub version: String,
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
    /// Per busy slot, in order: (its hash had expired, its job hash had been deleted).
    pub busy: Vec<(bool, bool)>,
}

/// Reads the replies of `idle` [`worker_heartbeat`]s followed by [`execution_heartbeat`]s.
pub fn heartbeat_replies(replies: &[i64], idle: usize) -> HeartbeatReplies {
    let (idle_replies, busy_replies) = replies.split_at(idle.min(replies.len()));
    HeartbeatReplies {
        idle_expired: idle_replies.iter().map(|r| *r == 1).collect(),
        busy: busy_replies
            .chunks(2)
            .map(|pair| (pair.first() == Some(&1), pair.get(1) == Some(&1)))
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

/// The job was deleted while running (e.g. `job.delete()`): the heartbeat's `HSET` created a
/// stub without `data`; delete it, as RQ does (§6.5, rq/rq#1450).
pub fn drop_job_stub(p: &mut Pipeline, keys: &Keys, job_id: &str) {
    p.cmd("DEL").arg(keys.job(job_id)).ignore();
}

/// One execution of one job by one worker slot.
#[derive(Debug, Clone)]
pub struct Execution {
    pub worker: String,
    pub job_id: String,
    pub execution_id: String,
    pub queue: String,
    /// When the execution was created (job start).
    pub started_at: Timestamp,
}

impl Execution {
    pub fn composite(&self) -> String {
        format!("{}:{}", self.job_id, self.execution_id)
    }
}

/// Job start (§6.4), Python's two transactions as one, plus 3.0's worker execution index (§11).
/// `ttl` is the heartbeat TTL; `from_intermediate` names the queue whose intermediate list the
/// dequeue moved the id into, to remove it there in the same transaction (§6.3, §7.2).
pub fn start(
    p: &mut Pipeline,
    keys: &Keys,
    e: &Execution,
    ttl: i64,
    from_intermediate: Option<&str>,
) {
    let now = e.started_at;
    let ts = format_datetime(now);
    let f = py_float_repr(unix_float(now));
    let score = unix_seconds(now) + ttl;
    let exec_key = keys.execution(&e.job_id, &e.execution_id);
    let worker_key = keys.worker(&e.worker);
    let job_key = keys.job(&e.job_id);
    p.cmd("HSET")
        .arg(&exec_key)
        .arg("id")
        .arg(&e.execution_id)
        .arg("created_at")
        .arg(&f)
        .arg("last_heartbeat")
        .arg(&f)
        .arg("worker_name")
        .arg(&e.worker)
        .arg("job_id")
        .arg(&e.job_id)
        .ignore();
    p.cmd("EXPIRE").arg(&exec_key).arg(ttl).ignore();
    p.cmd("ZADD")
        .arg(keys.executions(&e.job_id))
        .arg(score + 60)
        .arg(&e.execution_id)
        .ignore();
    p.cmd("EXPIRE")
        .arg(keys.executions(&e.job_id))
        .arg(ttl + 60)
        .ignore();
    p.cmd("ZADD")
        .arg(keys.wip(&e.queue))
        .arg(score)
        .arg(e.composite())
        .ignore();
    p.cmd("SADD")
        .arg(keys.worker_executions(&e.worker))
        .arg(e.composite())
        .ignore();
    p.cmd("EXPIRE")
        .arg(keys.worker_executions(&e.worker))
        .arg(ttl + 60)
        .ignore();
    p.cmd("HSET")
        .arg(&worker_key)
        .arg("state")
        .arg(worker_state::BUSY)
        .arg("current_job")
        .arg(&e.job_id)
        .arg("current_job_working_time")
        .arg("0")
        .arg("last_heartbeat")
        .arg(&ts)
        .ignore();
    p.cmd("EXPIRE").arg(&worker_key).arg(ttl).ignore();
    p.cmd("HSET")
        .arg(&job_key)
        .arg("last_heartbeat")
        .arg(&ts)
        .arg("status")
        .arg("started")
        .arg("started_at")
        .arg(&ts)
        .arg("worker_name")
        .arg(&e.worker)
        .ignore();
    if let Some(q) = from_intermediate {
        p.cmd("LREM")
            .arg(keys.intermediate(q))
            .arg(1)
            .arg(&e.job_id)
            .ignore();
    }
    // The enqueue-time `ttl` no longer applies once the job runs (§7.4).
    p.cmd("PERSIST").arg(&job_key).ignore();
}

/// Heartbeat of a running job (§6.5). `elapsed` is the job's working time so far.
/// Two replies are kept, in order: the worker `HSET last_heartbeat` and the job `HSET`.
pub fn execution_heartbeat(
    p: &mut Pipeline,
    keys: &Keys,
    e: &Execution,
    ttl: i64,
    elapsed: f64,
    now: Timestamp,
) {
    let worker_key = keys.worker(&e.worker);
    let exec_key = keys.execution(&e.job_id, &e.execution_id);
    let score = unix_seconds(now) + ttl;
    // Reply 1 (kept): the worker hash had expired; the caller writes the birth mapping again.
    p.cmd("HSET")
        .arg(&worker_key)
        .arg("last_heartbeat")
        .arg(format_datetime(now));
    p.cmd("HSET")
        .arg(&worker_key)
        .arg("current_job_working_time")
        .arg(py_float_repr(elapsed))
        .ignore();
    p.cmd("EXPIRE").arg(&worker_key).arg(ttl).ignore();
    p.cmd("EXPIRE")
        .arg(keys.worker_executions(&e.worker))
        .arg(ttl + 60)
        .ignore();
    p.cmd("HSET")
        .arg(&exec_key)
        .arg("last_heartbeat")
        .arg(py_float_repr(unix_float(now)))
        .ignore();
    p.cmd("EXPIRE").arg(&exec_key).arg(ttl).ignore();
    p.cmd("ZADD")
        .arg(keys.wip(&e.queue))
        .arg("XX")
        .arg(score)
        .arg(e.composite())
        .ignore();
    p.cmd("ZADD")
        .arg(keys.executions(&e.job_id))
        .arg(score + 60)
        .arg(&e.execution_id)
        .ignore();
    p.cmd("EXPIRE")
        .arg(keys.executions(&e.job_id))
        .arg(ttl + 60)
        .ignore();
    // Reply 1 (kept): the job hash was deleted meanwhile and this HSET created a stub without
    // `data`; the caller deletes it, as RQ does (§6.5, rq/rq#1450).
    p.cmd("HSET")
        .arg(keys.job(&e.job_id))
        .arg("last_heartbeat")
        .arg(format_datetime(now));
}

/// `cleanup_execution`: the worker is no longer busy with this execution. Always in the same
/// transaction as the terminal state (§12.2, §12.8).
fn release_execution(p: &mut Pipeline, keys: &Keys, e: &Execution, now: Timestamp) {
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

fn counters(p: &mut Pipeline, keys: &Keys, e: &Execution, field: &str, working_secs: f64) {
    let worker_key = keys.worker(&e.worker);
    p.cmd("HINCRBY").arg(&worker_key).arg(field).arg(1).ignore();
    p.cmd("HINCRBYFLOAT")
        .arg(&worker_key)
        .arg("total_working_time")
        .arg(py_float_repr(working_secs))
        .ignore();
}

/// `job.cleanup(ttl)`: expire (>0), keep (<0) or delete (0) the job's keys.
fn cleanup_job_keys(p: &mut Pipeline, keys: &Keys, job_id: &str, ttl: i64) {
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

fn terminal_job_fields(
    p: &mut Pipeline,
    keys: &Keys,
    e: &Execution,
    status: &str,
    ended_at: Timestamp,
) {
    let ended = format_datetime(ended_at);
    p.cmd("HSET")
        .arg(keys.job(&e.job_id))
        .arg("status")
        .arg(status)
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
fn results_xadd(key: impl redis::ToRedisArgs, kind: i64, worker: &str) -> redis::Cmd {
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

fn add_result(
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
fn requeue_or_schedule(
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
    let ttl = failure_ttl.unwrap_or(super::job::DEFAULT_FAILURE_TTL);
    terminal_job_fields(p, keys, e, status, ended_at);
    // FailedJobRegistry.add → job.cleanup(failure_ttl): expire, keep (-1) or delete (0).
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
    let encoded = super::codec::encode_exc_string(exc_string);
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
        .arg(
            "if redis.call('TYPE', KEYS[1]).ok == 'hash' then \
             redis.call('HSET', KEYS[1], 'status', 'failed', 'ended_at', ARGV[1], \
             'worker_name', ARGV[2]) end return 0",
        )
        .arg(1)
        .arg(&job_key)
        .arg(&ended)
        .arg(worker);
    let stamp = py_float_repr(unix_float(at));
    let mut xadd = results_xadd(keys.raw_key("results", raw_id), result_type::FAILED, worker);
    xadd.arg("exc_string")
        .arg(super::codec::encode_exc_string(exc_string))
        .arg("execution_id")
        .arg("")
        .arg("execution_started_at")
        .arg(&stamp)
        .arg("execution_ended_at")
        .arg(&stamp);
    p.add_command(xadd);
    p.cmd("EXPIRE")
        .arg(keys.raw_key("results", raw_id))
        .arg(super::job::DEFAULT_FAILURE_TTL);
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
    let ended = format_datetime(ended_at);
    p.cmd("HSET")
        .arg(keys.job(&e.job_id))
        .arg("retries_left")
        .arg(retries_left_after)
        .arg("started_at")
        .arg(format_datetime(e.started_at))
        .arg("ended_at")
        .arg(&ended)
        .arg("last_heartbeat")
        .arg(&ended)
        .arg("worker_name")
        .arg(&e.worker)
        .ignore();
    requeue_or_schedule(p, keys, &e.queue, &e.job_id, plan, ended_at);
    release_execution(p, keys, e, ended_at);
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

/// An `rq:wip` member whose score has passed: its worker stopped heartbeating.
pub struct Abandoned<'a> {
    pub queue: &'a str,
    /// `<job_id>:<execution_id>`
    pub member: &'a str,
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
    let ttl = failure_ttl.unwrap_or(super::job::DEFAULT_FAILURE_TTL);
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
    xadd.arg("exc_string").arg(super::codec::encode_exc_string(
        &super::failure::abandoned_text(now),
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

    #[test]
    fn heartbeat_replies_in_order() {
        // Two idle slots (the second had expired), then two busy ones (worker, job) pairs.
        let r = heartbeat_replies(&[0, 1, 1, 0, 0, 1], 2);
        assert_eq!(r.idle_expired, vec![false, true]);
        assert_eq!(r.busy, vec![(true, false), (false, true)]);
        assert_eq!(heartbeat_replies(&[], 2), HeartbeatReplies::default());
    }
}
