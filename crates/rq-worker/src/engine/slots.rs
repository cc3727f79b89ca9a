//! Worker slots: with `--concurrency N` the process runs N jobs at once, and each slot is its own
//! RQ worker identity (its own `rq:worker:<name>` hash, `current_job` and pub/sub channel), so
//! every running job is some worker's current job for RQ 2.x readers (one `current_job` field)
//! and 3.0 readers (the worker's execution set) alike.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::{watch, Notify};

use crate::rq::lifecycle::Execution;

/// Why a running job is being cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancel {
    /// `stop-job` / `stop-execution`: status `stopped`, never retried.
    Stop,
    /// `kill-horse`: fails like a killed work horse; retried if it has retries left.
    Kill,
    /// Cold shutdown of this worker: fails; retried if it has retries left.
    Shutdown,
    /// Cold shutdown with `Config::requeue_on_shutdown`: back at the front of its queue, `queued`.
    Requeue,
}

/// A job running in a slot.
#[derive(Debug)]
pub struct Running {
    pub exec: Execution,
    /// Effective timeout in seconds; `None` = no limit.
    pub timeout: Option<i64>,
    pub since: Instant,
    /// Set by the writer once the job's start is in Redis (starts may be deferred).
    announced: Arc<AtomicBool>,
    cancel: watch::Sender<Option<Cancel>>,
}

#[derive(Debug)]
enum State {
    Idle,
    /// Claimed by the dispatcher, start transaction not yet sent.
    Reserved,
    Busy(Running),
}

pub struct Slots {
    names: Vec<String>,
    states: Mutex<Vec<State>>,
    freed: Notify,
}

/// A snapshot of one busy slot, for heartbeats.
#[derive(Debug, Clone)]
pub struct BusySlot {
    pub exec: Execution,
    pub timeout: Option<i64>,
    pub elapsed: f64,
}

impl Running {
    fn snapshot(&self) -> BusySlot {
        BusySlot {
            exec: self.exec.clone(),
            timeout: self.timeout,
            elapsed: self.since.elapsed().as_secs_f64(),
        }
    }
}

impl Slots {
    /// Slot names: `base` alone for one slot, else `base-1` … `base-N`.
    pub fn new(base: &str, n: usize) -> Self {
        let names = if n == 1 {
            vec![base.to_string()]
        } else {
            (1..=n).map(|i| format!("{base}-{i}")).collect()
        };
        Slots {
            states: Mutex::new(names.iter().map(|_| State::Idle).collect()),
            names,
            freed: Notify::new(),
        }
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn name(&self, i: usize) -> &str {
        &self.names[i]
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<State>> {
        // A poisoned lock only means a panic elsewhere; the state itself stays consistent.
        self.states.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Claims up to `n` idle slots.
    pub fn claim(&self, n: usize) -> Vec<usize> {
        let mut states = self.lock();
        let mut out = Vec::new();
        for (i, s) in states.iter_mut().enumerate() {
            if out.len() == n {
                break;
            }
            if matches!(s, State::Idle) {
                *s = State::Reserved;
                out.push(i);
            }
        }
        out
    }

    pub fn free_count(&self) -> usize {
        self.lock()
            .iter()
            .filter(|s| matches!(s, State::Idle))
            .count()
    }

    /// Slots that are reserved or busy.
    pub fn active_count(&self) -> usize {
        self.lock()
            .iter()
            .filter(|s| !matches!(s, State::Idle))
            .count()
    }

    /// Marks a reserved slot busy; returns the receiver the executor watches for cancellation.
    pub fn start(
        &self,
        i: usize,
        exec: Execution,
        timeout: Option<i64>,
        announced: Arc<AtomicBool>,
    ) -> watch::Receiver<Option<Cancel>> {
        let (tx, rx) = watch::channel(None);
        self.lock()[i] = State::Busy(Running {
            exec,
            timeout,
            since: Instant::now(),
            announced,
            cancel: tx,
        });
        rx
    }

    /// Frees a slot and wakes the dispatcher.
    pub fn release(&self, i: usize) {
        self.lock()[i] = State::Idle;
        self.freed.notify_one();
    }

    /// Resolves when a slot was released since the last call (a stored permit counts).
    pub async fn freed(&self) {
        self.freed.notified().await;
    }

    pub fn busy(&self) -> Vec<BusySlot> {
        self.lock()
            .iter()
            .filter_map(|s| match s {
                State::Busy(r) => Some(r.snapshot()),
                _ => None,
            })
            .collect()
    }

    /// For a heartbeat, in one snapshot: the names of the slots that are idle as Redis knows
    /// them (not running a job, or running one whose start is not written yet: deferred, see
    /// `engine::writer`), and the busy slots whose start is written.
    pub fn heartbeat_view(&self) -> (Vec<String>, Vec<BusySlot>) {
        let states = self.lock();
        let mut idle = Vec::new();
        let mut busy = Vec::new();
        for (s, name) in states.iter().zip(&self.names) {
            match s {
                State::Busy(r) if r.announced.load(Ordering::Acquire) => busy.push(r.snapshot()),
                _ => idle.push(name.clone()),
            }
        }
        (idle, busy)
    }

    /// Names of slots not running a job.
    pub fn idle_names(&self) -> Vec<String> {
        self.lock()
            .iter()
            .zip(&self.names)
            .filter(|(s, _)| !matches!(s, State::Busy(_)))
            .map(|(_, n)| n.clone())
            .collect()
    }

    /// Cancels the job of slot `i`, if it runs one; returns its id.
    pub fn cancel_slot(&self, i: usize, why: Cancel) -> Option<String> {
        match self.lock().get(i) {
            Some(State::Busy(r)) => {
                r.cancel.send_replace(Some(why));
                Some(r.exec.job_id.clone())
            }
            _ => None,
        }
    }

    /// Cancels the job of slot `i` only if it runs `job_id` (and `execution_id`, when given).
    pub fn cancel_job(
        &self,
        i: usize,
        job_id: &str,
        execution_id: Option<&str>,
        why: Cancel,
    ) -> bool {
        match self.lock().get(i) {
            Some(State::Busy(r))
                if r.exec.job_id == job_id
                    && execution_id.is_none_or(|e| e == r.exec.execution_id) =>
            {
                r.cancel.send_replace(Some(why));
                true
            }
            _ => false,
        }
    }

    pub fn cancel_all(&self, why: Cancel) {
        for s in self.lock().iter() {
            if let State::Busy(r) = s {
                r.cancel.send_replace(Some(why));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_claims() {
        assert_eq!(Slots::new("w", 1).names(), ["w"]);
        let s = Slots::new("w", 3);
        assert_eq!(s.names(), ["w-1", "w-2", "w-3"]);
        assert_eq!(s.claim(2), vec![0, 1]);
        assert_eq!(s.free_count(), 1);
        assert_eq!(s.active_count(), 2);
        s.release(0);
        assert_eq!(s.claim(5), vec![0, 2]);
        assert_eq!(s.free_count(), 0);
    }
}
