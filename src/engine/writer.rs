//! Writes the end of jobs to Redis. Concurrent jobs that end together share one call of
//! `rq::end_guard`'s script, atomic like `MULTI … EXEC` (one round trip for many jobs; the state
//! each job gets is exactly what its own transaction would write). A failed write is retried until Redis takes it: a job's end is never dropped,
//! and its slot stays busy (and heartbeating) until then. Retrying is safe: the batch goes
//! through `rq::end_guard`'s script, which skips a job whose end is already written.

use std::time::Duration;

use redis::aio::ConnectionManager;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

use crate::backoff::Backoff;
use crate::rq::end_guard::{parse_reply, EndApplied, GuardedEnds, END_SCRIPT};
use crate::rq::keys::Keys;
use crate::rq::lifecycle::{self, Execution, RetryPlan};
use crate::rq::time::Timestamp;

/// Most job ends sent in one transaction.
const MAX_BATCH: usize = 512;

/// How a job ended, ready to be written.
#[derive(Debug, Clone)]
pub enum Ending {
    Success {
        result_ttl: i64,
        return_value: Option<String>,
        /// Set when the job repeats (§7.6).
        repeat: Option<lifecycle::Repeat>,
    },
    Failure {
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

impl Ending {
    /// The job's status once this ending is written.
    pub fn status_after(&self) -> &'static str {
        let planned = |plan: &RetryPlan| match plan {
            RetryPlan::Requeue { .. } => "queued",
            RetryPlan::Schedule { .. } => "scheduled",
        };
        match self {
            Ending::Success { repeat: None, .. } => "finished",
            Ending::Success {
                repeat: Some(r), ..
            } => planned(&r.plan),
            Ending::Failure { status, .. } => status,
            Ending::Retry { plan, .. } => planned(plan),
            Ending::Requeue { .. } => "queued",
        }
    }
}

struct Request {
    exec: Execution,
    ending: Ending,
    ended_at: Timestamp,
    /// Receives whether the end was applied and the job's dependents as read atomically with
    /// its terminal state.
    done: oneshot::Sender<EndApplied>,
}

/// Sends job ends to the writer task.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::UnboundedSender<Request>,
}

impl Writer {
    pub fn spawn(con: ConnectionManager, keys: Keys) -> Writer {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(con, keys, rx));
        Writer { tx }
    }

    /// Writes a job's end; once Redis has taken it, returns whether this call applied it (not
    /// when it was written already, or the job was taken over as abandoned) and its dependents.
    pub async fn finish(&self, exec: Execution, ending: Ending, ended_at: Timestamp) -> EndApplied {
        let (done, rx) = oneshot::channel();
        let req = Request {
            exec,
            ending,
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

fn append(p: &mut redis::Pipeline, keys: &Keys, r: &Request) {
    match &r.ending {
        Ending::Success {
            result_ttl,
            return_value,
            repeat,
        } => lifecycle::succeed(
            p,
            keys,
            &r.exec,
            *result_ttl,
            return_value.as_deref(),
            repeat.as_ref(),
            r.ended_at,
        ),
        Ending::Failure {
            status,
            failure_ttl,
            exc_string,
        } => lifecycle::fail(
            p,
            keys,
            &r.exec,
            status,
            *failure_ttl,
            exc_string,
            r.ended_at,
        ),
        Ending::Retry {
            retries_left_after,
            plan,
            ..
        } => lifecycle::retry(p, keys, &r.exec, *retries_left_after, plan, r.ended_at),
        Ending::Requeue { .. } => lifecycle::requeue_unfinished(p, keys, &r.exec, r.ended_at),
    }
}

async fn run(mut con: ConnectionManager, keys: Keys, mut rx: mpsc::UnboundedReceiver<Request>) {
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
        let mut ends = GuardedEnds::default();
        for r in &batch {
            let mut p = redis::pipe();
            append(&mut p, &keys, r);
            ends.push(&keys, &r.exec, &p);
        }
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
        let reply: Vec<Vec<String>> = loop {
            match ends.invocation(&script).invoke_async(&mut con).await {
                Ok(d) => break d,
                Err(e) => {
                    warn!(
                        jobs = batch.len(),
                        "writing job ends failed, retrying in {:?}: {e}",
                        backoff.peek()
                    );
                    crate::metrics::redis_error("end");
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
            if a.errors > 0 {
                warn!(job_id = %r.exec.job_id, errors = a.errors, "Redis refused some commands of the job's end");
            }
            let _ = r.done.send(a);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_after_each_ending() {
        let fail = |status| Ending::Failure {
            status,
            failure_ttl: None,
            exc_string: String::new(),
        };
        let retry = |plan| Ending::Retry {
            retries_left_after: 0,
            plan,
            exc_string: String::new(),
        };
        let success = |repeat| Ending::Success {
            result_ttl: 500,
            return_value: None,
            repeat,
        };
        assert_eq!(success(None).status_after(), "finished");
        let again = |plan| lifecycle::Repeat {
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
        assert_eq!(
            retry(RetryPlan::Requeue { at_front: true }).status_after(),
            "queued"
        );
        assert_eq!(
            retry(RetryPlan::Schedule { interval: 2 }).status_after(),
            "scheduled"
        );
        let requeue = Ending::Requeue {
            reason: String::new(),
        };
        assert_eq!(requeue.status_after(), "queued");
    }
}
