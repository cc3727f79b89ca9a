//! Writes the end of jobs ([`JobEnd`]) to Redis. Concurrent jobs that end together share one
//! call of `rq::end_guard`'s script, atomic like `MULTI … EXEC` (one round trip for many jobs;
//! the state each job gets is exactly what its own transaction would write, dependents released
//! included). A failed write is retried until Redis takes it: a job's end is never dropped,
//! and its slot stays busy (and heartbeating) until then. Retrying is safe: the batch goes
//! through `rq::end_guard`'s script, which skips a job whose end is already written.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionManager;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

use crate::backoff::Backoff;
use crate::events::Observer;
use crate::rq::end_guard::{parse_reply, EndApplied, GuardedEnds, END_SCRIPT};
use crate::rq::keys::Keys;
use crate::rq::lifecycle::{Execution, JobEnd};
use crate::rq::time::{now, Timestamp};

/// Most job ends sent in one transaction.
const MAX_BATCH: usize = 512;

struct Request {
    exec: Execution,
    end: JobEnd,
    ended_at: Timestamp,
    /// Receives whether the end was applied and the dependents it enqueued.
    done: oneshot::Sender<EndApplied>,
}

/// Sends job ends to the writer task.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::UnboundedSender<Request>,
}

impl Writer {
    /// `observers` hear of every failed write (it is retried).
    pub fn spawn(con: ConnectionManager, keys: Keys, observers: Vec<Arc<dyn Observer>>) -> Writer {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(con, keys, observers, rx));
        Writer { tx }
    }

    /// Writes a job's end; once Redis has taken it, returns whether this call applied it (not
    /// when it was written already, or the job was taken over as abandoned) and the dependents
    /// it enqueued.
    pub async fn finish(&self, exec: Execution, end: JobEnd, ended_at: Timestamp) -> EndApplied {
        let (done, rx) = oneshot::channel();
        let req = Request {
            exec,
            end,
            ended_at,
            done,
        };
        if self.tx.send(req).is_err() {
            warn!("job-end writer is gone; the job's end was not written");
            return EndApplied::default();
        }
        rx.await.unwrap_or_default()
    }
}

async fn run(
    mut con: ConnectionManager,
    keys: Keys,
    observers: Vec<Arc<dyn Observer>>,
    mut rx: mpsc::UnboundedReceiver<Request>,
) {
    let script = redis::Script::new(END_SCRIPT);
    let mut batch: Vec<Request> = Vec::new();
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        // One script call for the batch, atomic like MULTI, applying each end at most once.
        let mut ends = GuardedEnds::new(&keys);
        for r in &batch {
            ends.push_end(&keys, &r.exec, &r.end, r.ended_at);
        }
        let at = now();
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
        let reply: Vec<Vec<String>> = loop {
            match ends.invocation(&script, at).invoke_async(&mut con).await {
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
        for r in batch.drain(..) {
            let a = applied.next().unwrap_or_default();
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
}
