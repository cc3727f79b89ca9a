//! Writes job starts and ends to Redis, batched: one call of `rq::start`'s script per batch of
//! starts, one call of `rq::end_guard`'s script for the ends that are ready together (atomic
//! like `MULTI … EXEC`; each job gets exactly what its own transaction would write, dependents
//! released included). A failed write is retried until Redis takes it: a job's end is never
//! dropped, and its slot stays busy (and heartbeating) until then. Retrying is safe: both
//! scripts skip a job whose write is already applied (the start is guarded by the id still
//! being in its intermediate list, the end by the execution still being in `rq:wip`).
//!
//! **Deferred starts** (`--defer-start-ms`, issue 17). A start is written when its batch's
//! delay has passed, not when the job is taken. A job that ends before that (a short job) is
//! written once, as start and end together (`GuardedEnds::push_run`): what the start would
//! create and the end delete (the execution hash and index, the `rq:wip` entry, the worker's
//! `busy` state) is never written, which is most of a short job's Redis work. Redis ends in the
//! same state as after a written start and end; Python readers only never see such a job as
//! `started`. Its id stays in the intermediate list meanwhile, so a crash loses nothing (RQ
//! and our maintenance treat an id there without an execution as stuck only after 60 s). With
//! a delay of 0 every start is written before its job runs, as RQ's own worker does.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionManager;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tracing::{debug, error, info, warn};

use crate::backoff::Backoff;
use crate::events::Observer;
use crate::rq::end_guard::{parse_reply, EndApplied, GuardedEnds, END_SCRIPT};
use crate::rq::keys::Keys;
use crate::rq::lifecycle::{Execution, JobEnd};
use crate::rq::start::{parse_failed, Starts, START_SCRIPT};
use crate::rq::time::{now, Timestamp};

/// Most requests (ends, batches of starts) written in one round. A script call blocks Redis for
/// its whole length: in calls of 16 ends the next take and its hash reads run between them, so
/// the worker has jobs to run while Redis writes ends. At `-c 64` that gave about 15 % more
/// jobs/s than calls of up to 512 for the same CPU per job (8 cost more CPU; issue 17).
const MAX_BATCH: usize = 16;

/// One job's start, as the dispatcher hands it over.
pub struct Start {
    pub exec: Execution,
    /// The job's heartbeat TTL (seconds).
    pub ttl: i64,
    /// The queue whose intermediate list the take moved the id into.
    pub popped_from: String,
    /// Set once the start is in Redis (heartbeats refresh only such jobs).
    pub announced: Arc<AtomicBool>,
}

/// Starts taken together: they share one instant (`started_at`).
struct StartBatch {
    at: Timestamp,
    jobs: Vec<Start>,
    due: Instant,
    /// Receives the `(job_id, error)` of starts that failed, once the batch is written.
    ack: Option<oneshot::Sender<Vec<(String, String)>>>,
}

struct End {
    exec: Execution,
    end: JobEnd,
    ended_at: Timestamp,
    /// Receives whether the end was applied and the dependents it enqueued.
    done: oneshot::Sender<EndApplied>,
}

enum Request {
    Starts(StartBatch),
    End(End),
}

/// Sends job starts and ends to the writer task.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::UnboundedSender<Request>,
    defer: Duration,
}

impl Writer {
    /// `defer`: how long a start may wait to be written with its job's end. `observers` hear
    /// of every failed write (it is retried).
    pub fn spawn(
        con: ConnectionManager,
        keys: Keys,
        observers: Vec<Arc<dyn Observer>>,
        defer: Duration,
    ) -> Writer {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(con, keys, observers, rx));
        Writer { tx, defer }
    }

    /// True when starts are written before their jobs run ([`Writer::start`] returns once
    /// Redis has them).
    pub fn writes_starts_first(&self) -> bool {
        self.defer.is_zero()
    }

    /// Hands over the starts of jobs taken at `at`. With no deferral, returns once they are
    /// written, with the `(job_id, error)` of those that failed (those jobs must not run);
    /// otherwise returns at once (empty) and the starts are written within the delay, or with
    /// their jobs' ends.
    pub async fn start(&self, at: Timestamp, jobs: Vec<Start>) -> Vec<(String, String)> {
        let (ack, rx) = if self.defer.is_zero() {
            let (tx, rx) = oneshot::channel();
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        let batch = StartBatch {
            at,
            jobs,
            due: Instant::now() + self.defer,
            ack,
        };
        if self.tx.send(Request::Starts(batch)).is_err() {
            warn!("job writer is gone; job starts were not written");
        }
        match rx {
            Some(rx) => rx.await.unwrap_or_default(),
            None => Vec::new(),
        }
    }

    /// Writes a job's end; once Redis has taken it, returns whether this call applied it (not
    /// when it was written already, or the job was taken over as abandoned) and the dependents
    /// it enqueued.
    pub async fn finish(&self, exec: Execution, end: JobEnd, ended_at: Timestamp) -> EndApplied {
        let (done, rx) = oneshot::channel();
        let req = End {
            exec,
            end,
            ended_at,
            done,
        };
        if self.tx.send(Request::End(req)).is_err() {
            warn!("job writer is gone; the job's end was not written");
            return EndApplied::default();
        }
        rx.await.unwrap_or_default()
    }
}

/// What woke the writer.
enum Wake {
    Request(Request),
    Due,
    Closed,
}

async fn run(
    mut con: ConnectionManager,
    keys: Keys,
    observers: Vec<Arc<dyn Observer>>,
    mut rx: mpsc::UnboundedReceiver<Request>,
) {
    let start_script = redis::Script::new(START_SCRIPT);
    let end_script = redis::Script::new(END_SCRIPT);
    // Starts not yet written, oldest first (one delay for all: due times are in order).
    let mut pending: Vec<StartBatch> = Vec::new();
    let mut ends: Vec<End> = Vec::new();
    let mut counts = SuccessCounts::default();
    loop {
        let wake = match pending.first().map(|b| b.due) {
            Some(due) => tokio::select! {
                r = rx.recv() => r.map_or(Wake::Closed, Wake::Request),
                _ = tokio::time::sleep_until(due) => Wake::Due,
            },
            None => rx.recv().await.map_or(Wake::Closed, Wake::Request),
        };
        if matches!(wake, Wake::Request(_)) {
            // The executor that woke us runs on this thread with the others of its batch; let
            // those that are ready finish first, so that their ends share this call (without
            // it, tokio runs the woken writer at once and a batch's first end went alone: a
            // third of all end calls carried one job, issue 17).
            tokio::task::yield_now().await;
        }
        let closed = matches!(wake, Wake::Closed);
        let mut next = match wake {
            Wake::Request(r) => Some(r),
            _ => None,
        };
        let mut taken = 0;
        while let Some(r) = next.take() {
            match r {
                Request::Starts(b) => pending.push(b),
                Request::End(e) => ends.push(e),
            }
            taken += 1;
            if taken < MAX_BATCH {
                next = rx.try_recv().ok();
            }
        }
        // Ends of jobs whose start is still pending: a common success becomes start and end in
        // one; any other end needs its start written first (its whole batch goes now).
        let mut batch = GuardedEnds::new(&keys);
        let mut in_batch: Vec<End> = Vec::with_capacity(ends.len());
        for e in ends.drain(..) {
            let held = pending.iter_mut().enumerate().find_map(|(bi, b)| {
                let ji = b
                    .jobs
                    .iter()
                    .position(|s| s.exec.execution_id == e.exec.execution_id)?;
                Some((bi, ji))
            });
            match held {
                Some((bi, ji)) => {
                    let s = &pending[bi].jobs[ji];
                    let n = counts.get(&e.exec.worker);
                    if batch.push_run(&keys, &e.exec, &e.end, e.ended_at, n, &s.popped_from) {
                        pending[bi].jobs.swap_remove(ji);
                    } else {
                        pending[bi].due = Instant::now();
                        batch.push_end(&keys, &e.exec, &e.end, e.ended_at, n);
                    }
                }
                None => {
                    let n = counts.get(&e.exec.worker);
                    batch.push_end(&keys, &e.exec, &e.end, e.ended_at, n)
                }
            }
            in_batch.push(e);
        }
        // Starts first: an end in this round may need its start in Redis.
        let now_i = Instant::now();
        let mut i = 0;
        while i < pending.len() {
            if closed || pending[i].due <= now_i || pending[i].jobs.is_empty() {
                let b = pending.remove(i);
                write_starts(&mut con, &keys, &observers, &start_script, b).await;
            } else {
                i += 1;
            }
        }
        if !in_batch.is_empty() {
            write_ends(
                &mut con,
                &observers,
                &end_script,
                batch,
                in_batch,
                &mut counts,
            )
            .await;
        }
        if closed {
            return;
        }
    }
}

/// Writes one batch of starts (retried until Redis takes it).
async fn write_starts(
    con: &mut ConnectionManager,
    keys: &Keys,
    observers: &[Arc<dyn Observer>],
    script: &redis::Script,
    b: StartBatch,
) {
    let failed = if b.jobs.is_empty() {
        Vec::new()
    } else {
        let mut starts = Starts::new(keys, b.at);
        for s in &b.jobs {
            starts.push(&s.exec, s.ttl, &s.popped_from);
        }
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
        let reply: Vec<String> = loop {
            match starts.invocation(script).invoke_async(con).await {
                Ok(r) => break r,
                Err(e) => {
                    warn!(
                        jobs = b.jobs.len(),
                        "writing job starts failed, retrying in {:?}: {e}",
                        backoff.peek()
                    );
                    observers.iter().for_each(|o| o.redis_error("start"));
                    backoff.wait().await;
                }
            }
        };
        debug!(jobs = b.jobs.len(), "wrote job starts");
        parse_failed(reply)
    };
    for s in &b.jobs {
        match failed.iter().find(|(id, _)| *id == s.exec.job_id) {
            Some((_, err)) if b.ack.is_none() => {
                // The job is running already: its end is written if the start got as far as
                // `rq:wip`; otherwise its id stays in the intermediate list for maintenance.
                error!(job_id = %s.exec.job_id, "could not write the start of a running job: {err}");
            }
            Some(_) => {}
            None => s.announced.store(true, Ordering::Release),
        }
    }
    if let Some(ack) = b.ack {
        let _ = ack.send(failed);
    }
}

/// Each slot's `successful_job_count` as Redis holds it, where the writer knows it: a compact
/// success then sets the next value instead of incrementing (`rq::end_guard`, one Redis call
/// per job less). A slot's worker hash is written by that slot alone, so the count is known
/// from the reply of a success that set or incremented it, and kept while every end of the
/// slot is applied; an end that was not (an earlier attempt may have applied it, its reply
/// lost) makes it unknown again, and the next success increments and reads it.
#[derive(Default)]
struct SuccessCounts(HashMap<String, u64>);

impl SuccessCounts {
    fn get(&self, worker: &str) -> Option<u64> {
        self.0.get(worker).copied()
    }

    fn update(&mut self, worker: &str, end: &JobEnd, a: &EndApplied) {
        match a.successes {
            Some(n) => {
                self.0.insert(worker.to_string(), n);
            }
            None if !a.applied => {
                self.0.remove(worker);
            }
            // A success sent as commands increments the count (`HINCRBY`).
            None if matches!(end, JobEnd::Success { .. }) => {
                if let Some(n) = self.0.get_mut(worker) {
                    *n += 1;
                }
            }
            None => {}
        }
    }
}

/// Writes one batch of ends (retried until Redis takes it) and answers each job's executor.
async fn write_ends(
    con: &mut ConnectionManager,
    observers: &[Arc<dyn Observer>],
    script: &redis::Script,
    ends: GuardedEnds,
    batch: Vec<End>,
    counts: &mut SuccessCounts,
) {
    let at = now();
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
    let reply: Vec<String> = loop {
        match ends.invocation(script, at).invoke_async(con).await {
            Ok(d) => break d,
            Err(e) => {
                warn!(
                    jobs = batch.len(),
                    "writing job ends failed, retrying in {:?}: {e}",
                    backoff.peek()
                );
                observers.iter().for_each(|o| o.redis_error("end"));
                backoff.wait().await;
            }
        }
    };
    debug!(jobs = batch.len(), "wrote job ends");
    let mut applied = parse_reply(reply).into_iter();
    for r in batch {
        let a = applied.next().unwrap_or_default();
        counts.update(&r.exec.worker, &r.end, &a);
        if !a.applied {
            info!(
                job_id = %r.exec.job_id,
                "job end not written again: already written (reply lost) or the job was taken over as abandoned"
            );
        }
        for dep in &a.released {
            info!(dependent = %dep, parent = %r.exec.job_id, "dependent enqueued");
        }
        if a.errors > 0 {
            warn!(job_id = %r.exec.job_id, errors = a.errors, "Redis refused some commands of the job's end");
        }
        let _ = r.done.send(a);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn success() -> JobEnd {
        JobEnd::Success {
            result_ttl: 500,
            return_value: None,
            repeat: None,
            has_dependencies: false,
        }
    }

    fn applied(applied: bool, successes: Option<u64>) -> EndApplied {
        EndApplied {
            applied,
            successes,
            ..EndApplied::default()
        }
    }

    #[test]
    fn success_counts_follow_what_redis_holds() {
        let failure = JobEnd::Failure {
            status: "failed",
            failure_ttl: None,
            exc_string: "x".into(),
        };
        let mut c = SuccessCounts::default();
        assert_eq!(c.get("w"), None, "unknown until a reply tells it");
        // A success sent as commands while unknown: still unknown.
        c.update("w", &success(), &applied(true, None));
        assert_eq!(c.get("w"), None);
        // The compact success's reply tells the count.
        c.update("w", &success(), &applied(true, Some(3)));
        assert_eq!(c.get("w"), Some(3));
        // A success sent as commands increments it; a failure leaves it.
        c.update("w", &success(), &applied(true, None));
        c.update("w", &failure, &applied(true, None));
        assert_eq!(c.get("w"), Some(4));
        assert_eq!(c.get("other"), None);
        // An end not applied (an earlier attempt may have been): unknown again.
        c.update("w", &success(), &applied(false, None));
        assert_eq!(c.get("w"), None);
    }
}
