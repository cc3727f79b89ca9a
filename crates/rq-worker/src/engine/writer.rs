//! Writes job starts and ends to Redis, batched: one call of `rq::start`'s script per batch of
//! starts, one call of `rq::end_guard`'s script for the ends that are ready together (atomic
//! like `MULTI … EXEC`; each job gets exactly what its own transaction would write, dependents
//! released included). A failed write is retried until Redis takes it: a job's end is never
//! dropped, and its slot stays busy (and heartbeating) until then. Retrying is safe: both
//! scripts skip a job whose write is already applied (the start is guarded by the id still
//! being in its intermediate list, the end by the execution still being in `rq:wip`).
//!
//! **Deferred starts** (`Config::defer_start`). A start is written when its batch's
//! delay has passed, not when the job is taken. A job that ends before that (a short job) is
//! written once, as start and end together (`GuardedEnds::push_run`): what the start would
//! create and the end delete (the execution hash and index, the `rq:wip` entry, the worker's
//! `busy` state) is never written, which is most of a short job's Redis work. Redis ends in the
//! same state as after a written start and end; Python readers only never see such a job as
//! `started`. Its id stays in the intermediate list meanwhile, so a crash loses nothing (RQ
//! and our maintenance treat an id there without an execution as stuck only after 60 s). With
//! a delay of 0 every start is written before its job runs, as RQ's own worker does.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::connection::RedisConnection;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tracing::{debug, error, info, warn};

use crate::backoff::Backoff;
use crate::events::Observer;
use crate::rq::end_guard::{parse_reply, Counters, EndApplied, GuardedEnds, END_SCRIPT};
use crate::rq::incrbyfloat;
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
    /// `idle_worker_ttl`: the TTL an end gives the worker's key (RQ's `worker_ttl + 60`).
    pub fn spawn(
        con: RedisConnection,
        keys: Keys,
        observers: Vec<Arc<dyn Observer>>,
        defer: Duration,
        idle_worker_ttl: i64,
    ) -> Writer {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(con, keys, observers, rx, idle_worker_ttl));
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
    mut con: RedisConnection,
    keys: Keys,
    observers: Vec<Arc<dyn Observer>>,
    mut rx: mpsc::UnboundedReceiver<Request>,
    idle_worker_ttl: i64,
) {
    let start_script = redis::Script::new(START_SCRIPT);
    let end_script = redis::Script::new(END_SCRIPT);
    let mut counters = WorkerCounters::new(probe_incrbyfloat(&mut con, &keys).await);
    let mut pending = PendingStarts::default();
    let mut ends: Vec<End> = Vec::new();
    loop {
        let wake = match pending.next_due() {
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
        let mut batch = GuardedEnds::new(&keys).with_idle_worker_ttl(idle_worker_ttl);
        for e in &ends {
            let known = counters.get(&e.exec.worker);
            let ran = pending
                .held(&e.exec.execution_id)
                .is_some_and(|popped_from| {
                    batch.push_run(&keys, &e.exec, &e.end, e.ended_at, known, popped_from)
                });
            if ran {
                pending.take(&e.exec.execution_id);
            } else {
                pending.hurry(&e.exec.execution_id);
                batch.push_end(&keys, &e.exec, &e.end, e.ended_at, known);
            }
        }
        // Starts first: an end in this round may need its start in Redis.
        for b in pending.due(Instant::now(), closed) {
            write_starts(&mut con, &keys, &observers, &start_script, b).await;
        }
        if !ends.is_empty() {
            let replies = write_ends(&mut con, &observers, &end_script, batch, ends.len()).await;
            answer(ends.drain(..), replies, &mut counters);
        }
        if closed {
            return;
        }
    }
}

/// Starts not yet written, in batches by due time (one delay for all: in order of arrival),
/// with the batch of each held execution.
#[derive(Default)]
struct PendingStarts {
    batches: BTreeMap<u64, StartBatch>,
    next: u64,
    /// Execution id → the batch holding its start.
    held: HashMap<String, u64>,
}

impl PendingStarts {
    fn push(&mut self, b: StartBatch) {
        let seq = self.next;
        self.next += 1;
        for s in &b.jobs {
            self.held.insert(s.exec.execution_id.clone(), seq);
        }
        self.batches.insert(seq, b);
    }

    fn next_due(&self) -> Option<Instant> {
        self.batches.values().next().map(|b| b.due)
    }

    fn start(&self, execution_id: &str) -> Option<(u64, usize)> {
        let seq = *self.held.get(execution_id)?;
        let b = self.batches.get(&seq)?;
        let i = b
            .jobs
            .iter()
            .position(|s| s.exec.execution_id == execution_id)?;
        Some((seq, i))
    }

    /// The queue the held start of `execution_id` was taken from, if it is still held.
    fn held(&self, execution_id: &str) -> Option<&str> {
        let (seq, i) = self.start(execution_id)?;
        Some(&self.batches.get(&seq)?.jobs[i].popped_from)
    }

    /// Drops a held start: its end writes it.
    fn take(&mut self, execution_id: &str) {
        if let Some((seq, i)) = self.start(execution_id) {
            self.held.remove(execution_id);
            if let Some(b) = self.batches.get_mut(&seq) {
                b.jobs.swap_remove(i);
            }
        }
    }

    /// Makes the batch holding `execution_id`'s start due now (its end needs it written).
    fn hurry(&mut self, execution_id: &str) {
        if let Some(seq) = self.held.get(execution_id) {
            if let Some(b) = self.batches.get_mut(seq) {
                b.due = Instant::now();
            }
        }
    }

    /// Removes and returns the batches due at `now` (all of them when `all`), and the emptied.
    fn due(&mut self, now: Instant, all: bool) -> Vec<StartBatch> {
        let seqs: Vec<u64> = self
            .batches
            .iter()
            .filter(|(_, b)| all || b.due <= now || b.jobs.is_empty())
            .map(|(seq, _)| *seq)
            .collect();
        let mut out = Vec::with_capacity(seqs.len());
        for seq in seqs {
            if let Some(b) = self.batches.remove(&seq) {
                for s in &b.jobs {
                    self.held.remove(&s.exec.execution_id);
                }
                out.push(b);
            }
        }
        out
    }
}

/// Whether this Redis adds as `rq::incrbyfloat` computes: the probe's `HINCRBYFLOAT`s on a
/// scratch key (deleted in the same transaction) must reply what the module computes. Only
/// then do slots set their `total_working_time` instead of incrementing it. (Redis run under
/// valgrind fails it: valgrind does x87 arithmetic in double precision.)
async fn probe_incrbyfloat(con: &mut RedisConnection, keys: &Keys) -> bool {
    let mut p = redis::pipe();
    let tag = uuid::Uuid::new_v4().simple().to_string();
    incrbyfloat::probe(&mut p, &keys.incrbyfloat_probe(&tag));
    match p.query_async::<Vec<String>>(con).await {
        Ok(replies) if incrbyfloat::probe_matches(&replies) => true,
        Ok(replies) => {
            info!(
                ?replies,
                "this Redis rounds HINCRBYFLOAT differently; working times are incremented"
            );
            false
        }
        Err(e) => {
            info!("could not probe HINCRBYFLOAT ({e}); working times are incremented");
            false
        }
    }
}

/// Each slot's worker-hash counters as Redis holds them, where the writer knows them: a compact
/// success then sets the next values instead of incrementing (`rq::end_guard`, two Redis calls
/// per job less, issue 17). A slot's worker hash is written by that slot alone, so the values
/// are known from the reply of a compact success (which sets or increments them), and kept
/// while every end of the slot is applied; an end that was not (an earlier attempt may have
/// applied it, its reply lost) makes them unknown again, and the next success increments and
/// reads them. `total_working_time` is known only where `rq::incrbyfloat` computes this
/// server's sums (`emulate`).
struct WorkerCounters {
    emulate: bool,
    known: HashMap<String, Known>,
}

#[derive(Default)]
struct Known {
    successes: Option<u64>,
    total: Option<String>,
}

impl WorkerCounters {
    fn new(emulate: bool) -> Self {
        WorkerCounters {
            emulate,
            known: HashMap::new(),
        }
    }

    fn get(&self, worker: &str) -> Counters<'_> {
        match self.known.get(worker) {
            Some(k) => Counters {
                successes: k.successes,
                total: k.total.as_deref(),
            },
            None => Counters::default(),
        }
    }

    fn update(&mut self, worker: &str, end: &JobEnd, a: &EndApplied) {
        if a.successes.is_some() || a.total.is_some() {
            let k = self.known.entry(worker.to_string()).or_default();
            k.successes = a.successes;
            k.total = a.total.clone().filter(|_| self.emulate);
        } else if !a.applied {
            self.known.remove(worker);
        } else if let Some(k) = self.known.get_mut(worker) {
            // An end sent as commands: a success increments the count; every end adds its
            // working time (`HINCRBYFLOAT`, not followed here).
            if matches!(end, JobEnd::Success { .. }) {
                k.successes = k.successes.map(|n| n + 1);
            }
            k.total = None;
        }
    }
}

/// Writes one batch of starts (retried until Redis takes it).
async fn write_starts(
    con: &mut RedisConnection,
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
        let inv = starts.invocation(script);
        let reply: Vec<String> =
            invoke_until_taken(con, observers, "start", b.jobs.len(), &inv).await;
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

/// Writes one batch of `jobs` ends (retried until Redis takes it): what the script did with
/// each, in order.
async fn write_ends(
    con: &mut RedisConnection,
    observers: &[Arc<dyn Observer>],
    script: &redis::Script,
    ends: GuardedEnds,
    jobs: usize,
) -> Vec<EndApplied> {
    let inv = ends.invocation(script, now());
    let reply: Vec<String> = invoke_until_taken(con, observers, "end", jobs, &inv).await;
    parse_reply(reply)
}

/// Calls a script until Redis takes the call (a write is never dropped; both scripts skip
/// what an earlier attempt applied), telling observers of each failure.
async fn invoke_until_taken<T: redis::FromRedisValue>(
    con: &mut RedisConnection,
    observers: &[Arc<dyn Observer>],
    what: &'static str,
    jobs: usize,
    inv: &redis::ScriptInvocation<'_>,
) -> T {
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
    loop {
        match inv.invoke_async(con).await {
            Ok(r) => {
                debug!(jobs, "wrote job {what}s");
                return r;
            }
            Err(e) => {
                warn!(
                    jobs,
                    "writing job {what}s failed, retrying in {:?}: {e}",
                    backoff.peek()
                );
                observers.iter().for_each(|o| o.redis_error(what));
                backoff.wait().await;
            }
        }
    }
}

/// Answers each end's executor with what the script did, and follows the slots' counters.
fn answer(
    ends: impl Iterator<Item = End>,
    replies: Vec<EndApplied>,
    counters: &mut WorkerCounters,
) {
    let mut replies = replies.into_iter();
    for r in ends {
        let a = replies.next().unwrap_or_default();
        counters.update(&r.exec.worker, &r.end, &a);
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

    fn applied(applied: bool, successes: Option<u64>, total: Option<&str>) -> EndApplied {
        EndApplied {
            applied,
            successes,
            total: total.map(str::to_string),
            ..EndApplied::default()
        }
    }

    fn known(c: &WorkerCounters, w: &str) -> (Option<u64>, Option<String>) {
        let k = c.get(w);
        (k.successes, k.total.map(str::to_string))
    }

    #[test]
    fn worker_counters_follow_what_redis_holds() {
        let failure = JobEnd::Failure {
            status: "failed",
            failure_ttl: None,
            exc_string: "x".into(),
        };
        let mut c = WorkerCounters::new(true);
        assert_eq!(
            known(&c, "w"),
            (None, None),
            "unknown until a reply tells it"
        );
        // A success sent as commands while unknown: still unknown.
        c.update("w", &success(), &applied(true, None, None));
        assert_eq!(known(&c, "w"), (None, None));
        // The compact success's reply tells the counters.
        c.update("w", &success(), &applied(true, Some(3), Some("0.5")));
        assert_eq!(known(&c, "w"), (Some(3), Some("0.5".into())));
        // A success sent as commands increments the count; every end sent as commands adds
        // its working time, which is not followed.
        c.update("w", &success(), &applied(true, None, None));
        assert_eq!(known(&c, "w"), (Some(4), None));
        c.update("w", &failure, &applied(true, None, None));
        assert_eq!(known(&c, "w"), (Some(4), None));
        assert_eq!(known(&c, "other"), (None, None));
        // An end not applied (an earlier attempt may have been): unknown again.
        c.update("w", &success(), &applied(false, None, None));
        assert_eq!(known(&c, "w"), (None, None));
        // Where Redis sums differently, the total is never taken as known.
        let mut c = WorkerCounters::new(false);
        c.update("w", &success(), &applied(true, Some(1), Some("0.5")));
        assert_eq!(known(&c, "w"), (Some(1), None));
    }
}
