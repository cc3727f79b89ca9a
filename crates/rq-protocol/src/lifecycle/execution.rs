//! One execution of a job by a worker slot: its start and its heartbeat while it runs
//! (rq-protocol.md §6.4, §6.5).

use redis::Pipeline;

use super::worker_state;
use crate::keys::Keys;
use crate::time::{format_datetime, py_float_repr, unix_float, unix_seconds, Timestamp};

/// The job was deleted while running (e.g. `job.delete()`): the heartbeat's `HSET` created a
/// stub without `data`; delete it, as RQ does (§6.5, rq/rq#1450).
pub fn drop_job_stub(p: &mut Pipeline, keys: &Keys, job_id: &str) {
    p.cmd("DEL").arg(keys.job(job_id)).ignore();
}

/// One execution of one job by one worker slot.
#[derive(Debug, Clone)]
pub struct Execution {
    /// The worker slot's name.
    pub worker: String,
    /// The job.
    pub job_id: String,
    /// A fresh id per run of the job (RQ 2.x+ executions).
    pub execution_id: String,
    /// The queue whose `rq:wip` registry holds the execution.
    pub queue: String,
    /// When the execution was created (job start).
    pub started_at: Timestamp,
}

impl Execution {
    /// `<job_id>:<execution_id>`: the execution's member in `rq:wip` and in the worker's
    /// execution set.
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
    // The worker's execution set expires with the worker hash: RQ 3.0's worker heartbeat
    // (`Worker.heartbeat`, at the start and while the job runs) sets both.
    p.cmd("EXPIRE")
        .arg(keys.worker_executions(&e.worker))
        .arg(ttl)
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

/// The execution ended between the heartbeat's view of the slots and its transaction: the
/// heartbeat's `HSET` created a stub execution hash (only `last_heartbeat`); delete it.
pub fn drop_execution_stub(p: &mut Pipeline, keys: &Keys, e: &Execution) {
    p.cmd("DEL")
        .arg(keys.execution(&e.job_id, &e.execution_id))
        .ignore();
}

/// Heartbeat of a running job (§6.5). `elapsed` is the job's working time so far.
/// Three replies are kept, in order: the worker `HSET last_heartbeat`, the execution's `HSET`
/// and the job's `HSET`.
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
    // The worker's execution set expires with the worker hash: RQ 3.0's worker heartbeat
    // (`Worker.heartbeat`, at the start and while the job runs) sets both.
    p.cmd("EXPIRE")
        .arg(keys.worker_executions(&e.worker))
        .arg(ttl)
        .ignore();
    // Reply 1 (kept): the execution had ended (its hash deleted by the job's end, written after
    // the heartbeat looked at the slots) and this HSET created a stub; the caller deletes it
    // ([`drop_execution_stub`]). The index below is only updated (`XX`), never re-created.
    p.cmd("HSET")
        .arg(&exec_key)
        .arg("last_heartbeat")
        .arg(py_float_repr(unix_float(now)));
    p.cmd("EXPIRE").arg(&exec_key).arg(ttl).ignore();
    p.cmd("ZADD")
        .arg(keys.wip(&e.queue))
        .arg("XX")
        .arg(score)
        .arg(e.composite())
        .ignore();
    p.cmd("ZADD")
        .arg(keys.executions(&e.job_id))
        .arg("XX")
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
