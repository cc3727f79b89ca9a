//! Job starts as one compact script call per batch (issue 17).
//!
//! The start of a job is Python's two start transactions folded into one (§6.4): the execution
//! hash, the job's execution index, `rq:wip:<q>` (StartedJobRegistry), the worker's execution
//! set, the worker hash (`busy`, `current_job`), the job hash (`started`), the id out of the
//! intermediate list and `PERSIST` of the job hash. [`super::lifecycle::start`] writes exactly
//! that as a `MULTI … EXEC`; this script writes the same keys with the same values from six
//! arguments per job, so that Redis parses a few short strings instead of thirteen commands per
//! job and the worker parses one short reply instead of thirteen. `tests/end_guard.rs` checks
//! that both leave Redis in the same state.
//!
//! Every job runs under one `pcall` (like `MULTI`, an error in one job's writes, a key a user
//! overwrote with another type, does not stop the other jobs); the reply lists the ids whose
//! start raised, with the error.
//!
//! A start applies only while the id is still in the intermediate list the take moved it into
//! (`LPOS` first), and it removes it from there (`LREM` last, §6.4). So a start sent again after
//! a lost reply, or after its job's end was already written (the writer defers starts, see
//! `engine::writer`), changes nothing, and a job that a peer's maintenance requeued as stuck is
//! not started twice: taken, started and ended are three disjoint states (in the intermediate
//! list, in `rq:wip`, in neither).

use super::keys::Keys;
use super::lifecycle::Execution;
use super::time::{format_datetime, py_float_repr, unix_float, unix_seconds};

/// ARGV: `[prefix, now (RQ datetime text), now (unix float, Python's repr), now (unix
/// seconds)]`, then per job `[job_id, execution_id, worker, queue, popped_from, ttl]`.
/// Returns `[job_id, error, …]` for the jobs whose start raised (empty when all went in).
pub const START_SCRIPT: &str = include_str!("scripts/start.lua");

/// The error [`START_SCRIPT`] reports for a job whose id was no longer in its intermediate list.
pub const NOT_TAKEN: &str = "not in the intermediate list (already ended, or requeued as stuck)";

/// The arguments of one [`START_SCRIPT`] call. All jobs of a batch start at the same instant.
pub struct Starts {
    args: Vec<String>,
    jobs: usize,
}

impl Starts {
    /// An empty batch of starts at instant `at`.
    pub fn new(keys: &Keys, at: super::time::Timestamp) -> Self {
        Starts {
            args: vec![
                keys.prefix().to_string(),
                format_datetime(at),
                py_float_repr(unix_float(at)),
                unix_seconds(at).to_string(),
            ],
            jobs: 0,
        }
    }

    /// Adds a job; `ttl` is its heartbeat TTL and `popped_from` the queue whose intermediate
    /// list the take moved its id into. `e.started_at` must be the batch's instant given to
    /// [`Starts::new`].
    pub fn push(&mut self, e: &Execution, ttl: i64, popped_from: &str) {
        self.args.extend([
            e.job_id.clone(),
            e.execution_id.clone(),
            e.worker.clone(),
            e.queue.clone(),
            popped_from.to_string(),
            ttl.to_string(),
        ]);
        self.jobs += 1;
    }

    /// No job added yet.
    pub fn is_empty(&self) -> bool {
        self.jobs == 0
    }

    /// The call; its reply goes to [`parse_failed`].
    pub fn invocation<'a>(&'a self, script: &'a redis::Script) -> redis::ScriptInvocation<'a> {
        let mut inv = script.prepare_invoke();
        for a in &self.args {
            inv.arg(a);
        }
        inv
    }
}

/// `(job_id, error)` of every job whose start raised.
pub fn parse_failed(reply: Vec<String>) -> Vec<(String, String)> {
    let mut it = reply.into_iter();
    let mut out = Vec::new();
    while let (Some(id), Some(err)) = (it.next(), it.next()) {
        out.push((id, err));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_reports_not_taken_with_the_same_text() {
        assert!(START_SCRIPT.contains(&format!("\nlocal NOT_TAKEN = '{NOT_TAKEN}'\n")));
    }
}
