//! The dispatcher: takes job ids for free slots in the configured queue order (strict priority
//! by default, or RQ's round-robin and random strategies: [`QueueOrder`]), hands their starts to
//! the writer and each job to an executor task. It stops taking jobs after
//! `Config::max_jobs` and when idle for `Config::max_idle_time`, as RQ's `work()` loop does.
//!
//! Taking is the atomic take script (see `rq::dequeue`): ids move into the intermediate lists,
//! never only into our memory. While every queue is empty the dispatcher sleeps on *watchers*:
//! one connection per queue blocked in `BLMOVE q q LEFT LEFT`, which returns as soon as the
//! queue has an item and leaves the list as it was (pop and push back to the same end). A
//! wake-up then runs the take script again, so a job is picked up within a round trip of its
//! enqueue.

use std::future::Future;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::{watch, Notify};
use tracing::{debug, error, info, warn};

use super::executor::{self, StartedJob};
use super::shutdown::{Phase, Shutdown};
use super::state::Engine;
use super::writer::Start;
use crate::backoff::Backoff;
use crate::rq::dequeue::{
    drop_taken, join_hashes, last_queue_index, parse_taken, peek_blocking, return_taken,
    DequeueStrategy, ScanOrder, Take, TakeReply, Taken, TakenJob,
};
use crate::rq::job::{heartbeat_ttl, JobHash, DEFAULT_JOB_TIMEOUT};
use crate::rq::lifecycle::{self, worker_state, Execution};
use crate::rq::time::now;

/// How long one watcher `BLMOVE` blocks before looking again.
const WATCH_BLOCK_SECS: f64 = 2.0;

pub async fn run(engine: Arc<Engine>) -> anyhow::Result<()> {
    let take = Take::new(&engine.keys, &engine.cfg.queues);
    let watchers = (!engine.cfg.burst).then(|| Watchers::spawn(&engine));
    let shutdown = engine.shutdown.clone();
    let mut con = engine.con.clone();
    let mut suspended = false;
    // Slots whose hash says `suspended` while the queues are suspended.
    let mut shown_suspended: std::collections::HashSet<String> = Default::default();
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(10));
    let mut order = QueueOrder::new(engine.cfg.dequeue_strategy, engine.cfg.queues.len());
    // Jobs started so far (for `max_jobs`), and since when nothing has run (`max_idle_time`).
    let mut taken_total: u64 = 0;
    let mut idle_since: Option<tokio::time::Instant> = None;
    // Python writes `started` at birth and `idle` once it waits for jobs (§6.2, §6.3).
    set_idle_state(&engine, worker_state::IDLE).await;
    info!(queues = %engine.cfg.queues.join(","), "listening");
    loop {
        if shutdown.requested() {
            break;
        }
        if engine.cfg.max_jobs.is_some_and(|max| taken_total >= max) {
            info!(
                jobs = taken_total,
                "max jobs reached: taking no more, exiting once the running jobs end"
            );
            break;
        }
        let free = engine.slots.free_count();
        if !engine.accepting() {
            // A sink (e.g. the history buffer) is full: take nothing until it drains.
            shutdown.wait_timeout(Duration::from_millis(200)).await;
            continue;
        }
        if free == 0 {
            tokio::select! {
                _ = engine.slots.freed() => {}
                _ = shutdown.reached(Phase::Warm) => {}
            }
            // Slots are freed one by one as a batch of ends is answered: let the others go
            // first, so that one take fills them all (issue 17).
            tokio::task::yield_now().await;
            continue;
        }
        let want = match engine.cfg.max_jobs {
            Some(max) => free.min(usize::try_from(max - taken_total).unwrap_or(usize::MAX)),
            None => free,
        };
        let scan = order.scan(want);
        let inv = take.invocation_in(want, &scan);
        let reply = match inv.invoke_async::<redis::Value>(&mut con).await {
            Ok(reply) => {
                backoff.reset();
                take.after_script(reply)
            }
            Err(e) => {
                warn!("dequeue failed, retrying in {:?}: {e}", backoff.peek());
                engine.redis_error("dequeue");
                shutdown.wait_timeout(backoff.next_delay()).await;
                continue;
            }
        };
        let reply = match reply {
            TakeReply::Complete(reply) => reply,
            TakeReply::NeedHashes { ids, reads } => {
                // The ids are in their intermediate lists: read until it works (or, at a cold
                // shutdown, leave them there for maintenance, like a failed start).
                let hashes = persist("reading taken jobs", &engine, || {
                    let mut con = engine.con.clone();
                    let reads = reads.clone();
                    async move { reads.query_async::<Vec<redis::Value>>(&mut con).await }
                })
                .await?;
                join_hashes(ids, hashes)
            }
        };
        order.taken_last(last_queue_index(&reply));
        match parse_taken(reply, engine.cfg.queues.len()) {
            Taken::Suspended => {
                // RQ's idle clock starts when it next dequeues, after the suspension.
                idle_since = None;
                if engine.cfg.burst {
                    info!("queues are suspended (rq:suspended); burst mode exits");
                    break;
                }
                if !suspended {
                    info!("suspended: not taking jobs until `rq resume`");
                    shown_suspended.clear();
                    suspended = true;
                }
                // Like RQ's `check_for_suspension`, which a Python worker reaches once its
                // current job is done: every slot without a job shows `suspended`, including
                // one whose job ended meanwhile (its end wrote `idle`).
                let newly: Vec<String> = engine
                    .slots
                    .idle_names()
                    .into_iter()
                    .filter(|n| !shown_suspended.contains(n))
                    .collect();
                if !newly.is_empty() {
                    set_state_of(&engine, &newly, worker_state::SUSPENDED).await;
                    shown_suspended.extend(newly);
                }
                tokio::select! {
                    _ = engine.slots.freed() => {}
                    _ = shutdown.wait_timeout(Duration::from_secs(1)) => {}
                }
            }
            Taken::Jobs(jobs, unreadable) => {
                if suspended {
                    info!("resumed");
                    set_idle_state(&engine, worker_state::IDLE).await;
                    suspended = false;
                }
                let took_any = !jobs.is_empty() || !unreadable.is_empty();
                for bad in unreadable {
                    let key = engine.keys.raw_key("job", &bad.id);
                    let why = bad.why.message(&String::from_utf8_lossy(&key));
                    reject(&engine, bad.queue, &bad.id, &why).await;
                }
                if took_any || engine.slots.active_count() > 0 {
                    idle_since = None;
                }
                if !jobs.is_empty() {
                    taken_total += start_batch(&engine, jobs).await? as u64;
                } else if took_any {
                    continue;
                } else if let Some(w) = &watchers {
                    let mut wait = Duration::from_secs(1);
                    if let (Some(max), 0) = (engine.cfg.max_idle_time, engine.slots.active_count())
                    {
                        let since = *idle_since.get_or_insert_with(tokio::time::Instant::now);
                        let left = max.saturating_sub(since.elapsed());
                        if left.is_zero() {
                            info!(
                                idle_s = max.as_secs_f64(),
                                "idle for the max idle time: exiting"
                            );
                            break;
                        }
                        wait = wait.min(left);
                    }
                    // At most 1 s, so an idle worker shows `rq suspend` within a second (§6.3).
                    w.wait(wait, &shutdown).await;
                } else if engine.slots.active_count() == 0 {
                    info!("burst mode: all queues are empty; exiting");
                    break;
                } else {
                    // A running job may still enqueue dependents or retries.
                    tokio::select! {
                        _ = engine.slots.freed() => {}
                        _ = shutdown.reached(Phase::Warm) => {}
                    }
                }
            }
        }
    }
    Ok(())
}

/// The scan order of the next take, as RQ's worker reorders its queues after each job it takes
/// (`Worker.reorder_queues`): never for `default`; the queue a job came from moves to the end
/// for `round_robin`; a fresh shuffle for `random`.
struct QueueOrder {
    strategy: DequeueStrategy,
    queues: usize,
    /// Round robin: where the next scan begins.
    start: usize,
    /// Random: the order the next take scans first (RQ's `_ordered_queues`, initially as given).
    current: Vec<usize>,
}

impl QueueOrder {
    fn new(strategy: DequeueStrategy, queues: usize) -> Self {
        QueueOrder {
            strategy,
            queues,
            start: 0,
            current: (0..queues).collect(),
        }
    }

    /// The scan order of a take of up to `n` ids.
    fn scan(&self, n: usize) -> ScanOrder {
        match self.strategy {
            DequeueStrategy::Default => ScanOrder::Priority,
            DequeueStrategy::RoundRobin => ScanOrder::RoundRobin { start: self.start },
            DequeueStrategy::Random => ScanOrder::Lists(
                std::iter::once(self.current.clone())
                    .chain((1..n).map(|_| shuffled(self.queues)))
                    .collect(),
            ),
        }
    }

    /// After a take: `last` is the queue of the last id taken (`None`: nothing was taken).
    fn taken_last(&mut self, last: Option<usize>) {
        let Some(last) = last else { return };
        match self.strategy {
            DequeueStrategy::Default => {}
            DequeueStrategy::RoundRobin => self.start = (last + 1) % self.queues.max(1),
            DequeueStrategy::Random => self.current = shuffled(self.queues),
        }
    }
}

/// `0..n` in a random order (Fisher-Yates on the random bits of uuid4s).
fn shuffled(n: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let r = uuid::Uuid::new_v4().as_u128();
        let j = (r % (i as u128 + 1)) as usize;
        v.swap(i, j);
    }
    v
}

/// Sets `state` on every slot that is not running a job.
async fn set_idle_state(engine: &Engine, state: &str) {
    set_state_of(engine, &engine.slots.idle_names(), state).await;
}

/// Sets `state` on the named slots.
async fn set_state_of(engine: &Engine, names: &[String], state: &str) {
    if names.is_empty() {
        return;
    }
    let mut p = redis::pipe();
    for name in names {
        lifecycle::set_state(&mut p, &engine.keys, name, state);
    }
    let mut con = engine.con.clone();
    if let Err(e) = p.query_async::<()>(&mut con).await {
        warn!("could not set worker state {state}: {e}");
    }
}

/// Retries a Redis operation with backoff; gives up only on a cold shutdown.
async fn persist<T, F, Fut>(what: &str, engine: &Engine, mut op: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = redis::RedisResult<T>>,
{
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
    loop {
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) if engine.shutdown.phase() == Phase::Cold => {
                return Err(e).with_context(|| format!("{what} (gave up on shutdown)"))
            }
            Err(e) => {
                warn!("{what} failed, retrying in {:?}: {e}", backoff.peek());
                engine.redis_error("start");
                backoff.wait().await;
            }
        }
    }
}

/// Fails a taken id that cannot be run as a job (see `lifecycle::reject_unreadable`). Logged
/// loudly; a Redis error here leaves the id in the intermediate list for maintenance.
async fn reject(engine: &Engine, qidx: usize, raw_id: &[u8], why: &str) {
    let queue = &engine.cfg.queues[qidx];
    let shown = String::from_utf8_lossy(raw_id);
    error!(job_id = %shown, queue = %queue, "cannot run job: {why}");
    let mut p = redis::pipe();
    p.ignore_errors();
    let worker = engine.slots.name(0).to_string();
    lifecycle::reject_unreadable(&mut p, &engine.keys, queue, raw_id, &worker, why, now());
    let mut con = engine.con.clone();
    match p
        .query_async::<Vec<redis::RedisResult<redis::Value>>>(&mut con)
        .await
    {
        Ok(replies) => {
            for e in replies.into_iter().filter_map(Result::err) {
                warn!(job_id = %shown, "recording the failure of an unreadable job: {e}");
            }
        }
        Err(e) => warn!(job_id = %shown, "could not record an unreadable job: {e}"),
    }
}

/// Starts the freshly taken jobs whose hashes exist and spawns their executors. Their starts go
/// to the writer, which writes them before the jobs run (`Config::defer_start` zero) or
/// defers them (see `engine::writer`). Returns how many jobs it started.
async fn start_batch(engine: &Arc<Engine>, jobs: Vec<TakenJob>) -> anyhow::Result<usize> {
    let keys = &engine.keys;
    let at = now();
    let mut gone = redis::pipe();
    let mut started = Vec::new();
    let mut starts = Vec::new();
    let slots = engine.slots.claim(jobs.len());
    let mut slot_iter = slots.into_iter();
    for (qidx, id, fields) in jobs {
        let popped_from = &engine.cfg.queues[qidx];
        let hash = JobHash::new(&id, fields);
        if !hash.exists() {
            // RQ skips an id whose hash is gone; we also drop it from the intermediate list now.
            warn!(job_id = %id, queue = %popped_from, "skipping job id whose hash is gone");
            drop_taken(&mut gone, keys, popped_from, &id);
            continue;
        }
        if hash.status().as_deref() == Some(crate::rq::job::status::CANCELED) {
            // `job.cancel()` removes the id from the queue; one that slipped through never runs.
            info!(job_id = %id, "skipping canceled job");
            drop_taken(&mut gone, keys, popped_from, &id);
            continue;
        }
        let Some(slot) = slot_iter.next() else {
            // Cannot happen (we took at most as many ids as free slots); put it back in front.
            warn!(job_id = %id, "no free slot for a taken job; returning it to its queue");
            drop_taken(&mut gone, keys, popped_from, &id);
            return_taken(&mut gone, keys, popped_from, &id);
            continue;
        };
        let settings = hash.settings().map_err(|e| e.to_string());
        let timeout = match &settings {
            Ok(s) => s.effective_timeout(),
            Err(_) => Some(DEFAULT_JOB_TIMEOUT),
        };
        let exec = Execution {
            worker: engine.slots.name(slot).to_string(),
            job_id: id.clone(),
            execution_id: uuid::Uuid::new_v4().simple().to_string(),
            queue: hash.origin().unwrap_or_else(|| popped_from.clone()),
            started_at: at,
        };
        let announced = Arc::new(AtomicBool::new(false));
        starts.push(Start {
            exec: exec.clone(),
            ttl: heartbeat_ttl(timeout, 0.0, engine.monitoring_interval()),
            popped_from: popped_from.clone(),
            announced: announced.clone(),
        });
        started.push((slot, exec, hash, settings, timeout, announced));
    }
    for slot in slot_iter {
        engine.slots.release(slot);
    }
    if gone.cmd_iter().next().is_some() {
        let mut con = engine.con.clone();
        if let Err(e) = gone.query_async::<()>(&mut con).await {
            warn!("could not clean up skipped ids: {e}");
        }
    }
    if started.is_empty() {
        return Ok(0);
    }
    let count = started.len();
    let failed = if engine.writer.writes_starts_first() {
        // The writer retries until Redis takes the starts; a cold shutdown stops waiting (the
        // ids stay in their intermediate lists, for maintenance).
        tokio::select! {
            failed = engine.writer.start(at, starts) => failed,
            _ = engine.shutdown.reached(Phase::Cold) => {
                anyhow::bail!("writing job starts (gave up on shutdown)")
            }
        }
    } else {
        engine.writer.start(at, starts).await
    };
    debug!(jobs = started.len(), "started jobs");
    for (slot, exec, hash, settings, timeout, announced) in started {
        if let Some((_, err)) = failed.iter().find(|(id, _)| *id == exec.job_id) {
            // Like a failed command in Python's start transaction: the job does not run; its id
            // stays in the intermediate list, where maintenance recovers it.
            error!(job_id = %exec.job_id, "could not write the job's start, not running it: {err}");
            engine.slots.release(slot);
            continue;
        }
        let cancel = engine.slots.start(slot, exec.clone(), timeout, announced);
        let job = StartedJob {
            slot,
            exec,
            hash,
            settings,
            timeout,
        };
        tokio::spawn(executor::run(engine.clone(), job, cancel));
    }
    Ok(count)
}

/// The dispatcher's wait state, as the watchers see it.
#[derive(Debug, Default, Clone, Copy)]
struct Hunger {
    /// Counts the dispatcher's waits.
    round: u64,
    /// True while the dispatcher waits for work.
    waiting: bool,
}

/// Blocking peeks on every queue, active only while the dispatcher waits for work.
struct Watchers {
    hungry: watch::Sender<Hunger>,
    arrived: Arc<Notify>,
}

impl Watchers {
    fn spawn(engine: &Arc<Engine>) -> Watchers {
        let (hungry, _) = watch::channel(Hunger::default());
        let arrived = Arc::new(Notify::new());
        for q in &engine.cfg.queues {
            let peek = peek_blocking(&engine.keys, q, WATCH_BLOCK_SECS);
            let key = engine.keys.queue(q);
            let redis = engine.redis.clone();
            let rx = hungry.subscribe();
            let arrived = arrived.clone();
            tokio::spawn(watch_queue(redis, key, peek, rx, arrived));
        }
        Watchers { hungry, arrived }
    }

    /// Waits until some queue may have work, at most `max`.
    async fn wait(&self, max: Duration, shutdown: &Shutdown) {
        self.hungry.send_modify(|h| {
            h.round += 1;
            h.waiting = true;
        });
        tokio::select! {
            _ = self.arrived.notified() => {}
            _ = tokio::time::sleep(max) => {}
            _ = shutdown.reached(Phase::Warm) => {}
        }
        self.hungry.send_modify(|h| h.waiting = false);
    }
}

async fn watch_queue(
    redis: crate::connection::Redis,
    key: String,
    peek: redis::Cmd,
    mut hungry: watch::Receiver<Hunger>,
    arrived: Arc<Notify>,
) {
    let mut con = None;
    loop {
        let round = match hungry.wait_for(|h| h.waiting).await {
            Ok(h) => h.round,
            Err(_) => return,
        };
        if con.is_none() {
            // Blocking commands get their own connection and a response timeout above the block.
            match super::connect::manager(
                &redis,
                Some(Duration::from_secs_f64(WATCH_BLOCK_SECS + 10.0)),
            )
            .await
            {
                Ok(c) => con = Some(c),
                Err(e) => {
                    warn!(queue = %key, "watcher cannot connect: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            }
        }
        let Some(c) = con.as_mut() else { continue };
        let r: redis::RedisResult<Option<String>> = peek.query_async(c).await;
        match r {
            Ok(Some(_)) => {
                arrived.notify_one();
                // The item stays queued until the dispatcher takes it: peeking again within
                // the same wait would return at once, over and over. A later wait may have
                // begun already (the flag alone would hide that and lose the wake-up).
                if hungry
                    .wait_for(|h| !h.waiting || h.round != round)
                    .await
                    .is_err()
                {
                    return;
                }
            }
            Ok(None) => {}
            Err(e) => {
                warn!(queue = %key, "watcher: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_robin_moves_the_taken_queue_last() {
        let mut o = QueueOrder::new(DequeueStrategy::RoundRobin, 3);
        assert_eq!(o.scan(1), ScanOrder::RoundRobin { start: 0 });
        o.taken_last(Some(0));
        assert_eq!(o.scan(1), ScanOrder::RoundRobin { start: 1 });
        o.taken_last(None);
        assert_eq!(o.scan(1), ScanOrder::RoundRobin { start: 1 });
        o.taken_last(Some(2));
        assert_eq!(o.scan(1), ScanOrder::RoundRobin { start: 0 });
    }

    #[test]
    fn random_scans_the_current_order_first_then_shuffles() {
        let mut o = QueueOrder::new(DequeueStrategy::Random, 4);
        let ScanOrder::Lists(lists) = o.scan(3) else {
            panic!("not lists")
        };
        assert_eq!(lists.len(), 3);
        assert_eq!(lists[0], vec![0, 1, 2, 3]);
        for l in &lists {
            let mut sorted = l.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, vec![0, 1, 2, 3]);
        }
        o.taken_last(Some(1));
        let ScanOrder::Lists(lists) = o.scan(1) else {
            panic!("not lists")
        };
        assert_eq!(lists.len(), 1);
        assert_eq!(
            QueueOrder::new(DequeueStrategy::Default, 2).scan(5),
            ScanOrder::Priority
        );
    }
}
