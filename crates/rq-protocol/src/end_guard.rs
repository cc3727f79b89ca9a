//! Idempotent job ends (issue 9). The end of a job is a [`JobEnd`], written by the lifecycle
//! builders (`succeed`, `fail`, `retry`); sent as a plain `MULTI … EXEC`, a retry after a lost
//! reply (Redis restarted after EXEC, or a response timeout while Redis was stalled and the
//! connection was replaced) would apply the end twice: a second result in the stream, counters
//! incremented twice, a retried job pushed twice onto its queue.
//!
//! So the writer sends every batch of job ends through one Lua script (atomic like MULTI) that
//! applies a job's commands only while its execution is still in `rq:wip:<q>` (RQ's
//! StartedJobRegistry). Every end removes that member in the same step (`release_execution`),
//! so a repeated end finds it gone and is skipped; an end of a job that a peer's maintenance
//! already failed or retried as abandoned is skipped too, and cannot undo that. Commands run with
//! `redis.pcall`, like MULTI (one failing command does not stop the others); errors are counted.
//!
//! The same script releases the job's dependents (§7.3, `rq::dependents`), as RQ's worker does
//! in the job's end transaction: no reply carries the dependents back and no call per dependent
//! follows (issue 15).

use redis::{Arg, Pipeline, Script, ScriptInvocation};

use super::incrbyfloat::incr_by_float;
use super::keys::Keys;
use super::lifecycle::{Execution, JobEnd};
use super::lifecycle::{IDLE_WORKER_TTL, RESULTS_MAXLEN};
use super::time::{format_datetime, py_float_repr, unix_float, unix_seconds, Timestamp};

/// ARGV: `[prefix, now, now_unix, results_maxlen, idle_worker_ttl]`, then per job one of:
/// * `['R', wip_key, member, job_id, release, n_cmds, worker, (n_args, args…) × n_cmds]`: any
///   end, as the commands its lifecycle builder wrote ([`GuardedEnds::push`]); `release` is the
///   parent status its dependents are released with (`finished`, `failed`) or empty for none;
/// * `['S', wip_key, member, job_id, fields…]`: the common success (result kept, no repeat) of
///   a started job, in 14 fields that the script's `success` turns into the same writes
///   ([`GuardedEnds::push_end`]);
/// * `['U', intermediate_list, job_id, fields…]`: the common success of a job whose start was
///   never written, start and end in one ([`GuardedEnds::push_run`]).
///
/// Returns `[applied, counts, totals, errors, (job_index, dependent)…]`: `applied` one
/// character per job (`1` applied, `0` skipped); `counts` and `totals` per job,
/// comma-separated, the worker's `successful_job_count` and `total_working_time` after a
/// compact success was applied, else empty; `errors` per job,
/// comma-separated, the commands Redis refused; then each dependent enqueued, after the
/// 1-based index of the job that released it. One flat reply: a table per job cost Redis more
/// to convert than the rest of a no-op job's end (issue 17).
///
/// The dependents set is read before the job's commands run (those may delete it: `result_ttl`
/// 0) and released after them. For a skipped job it is released only if the job is terminal
/// (our earlier attempt applied, its reply was lost); the release is idempotent (a dependent
/// is enqueued only while it is `deferred`). An `EXPIRE` of the dependents set is skipped when
/// the set was empty (the key does not exist: the command would do nothing; one command per job
/// less, issue 17). When none of the batch's jobs has a dependents set (one `EXISTS` for all,
/// before any job's commands: no end creates such a set), no job reads its own.
///
/// What Redis spends on a script beyond its commands is mostly turning values into Lua ones
/// and back (issue 17, callgrind of redis-server): so every number the script passes to a
/// command arrives as a string (Redis formats a Lua number with `snprintf` for each call), the
/// arguments carry finished keys and scores ready-made, and `ARGV` and `redis.pcall` are read
/// into locals once.
pub const END_SCRIPT: &str = concat!(
    include_str!("scripts/lib/rate_limit.lua"),
    include_str!("scripts/lib/dependents.lua"),
    include_str!("scripts/end.lua"),
);

/// The arguments of one [`END_SCRIPT`] call, job by job.
pub struct GuardedEnds {
    args: Vec<Vec<u8>>,
    jobs: usize,
    idle_worker_ttl: i64,
}

/// What the script did with one job's end.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EndApplied {
    /// False when the execution was no longer in `rq:wip` (already ended, or abandoned).
    pub applied: bool,
    /// Commands that Redis refused (e.g. WRONGTYPE on a key a user overwrote).
    pub errors: usize,
    /// Dependents the end enqueued (their dependencies all met).
    pub released: Vec<String>,
    /// The worker's `successful_job_count` after a compact success was applied.
    pub successes: Option<u64>,
    /// The worker's `total_working_time` (Redis' text) after a compact success was applied.
    pub total: Option<String>,
}

/// What the writer knows of a worker hash's counters before a call's ends (a slot's hash is
/// written by that slot alone): the compact success sets what it knows instead of
/// incrementing it (issue 17), and increments the rest.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counters<'a> {
    /// `successful_job_count`.
    pub successes: Option<u64>,
    /// `total_working_time`, as Redis' text; only when [`crate::incrbyfloat`] computes
    /// this server's sums.
    pub total: Option<&'a str>,
}

impl GuardedEnds {
    /// An empty call for the keys of `keys`.
    pub fn new(keys: &Keys) -> Self {
        GuardedEnds {
            args: vec![keys.prefix().as_bytes().to_vec()],
            jobs: 0,
            idle_worker_ttl: IDLE_WORKER_TTL,
        }
    }

    /// The TTL (seconds) an end gives the worker's key, idle again: RQ's `worker_ttl + 60`
    /// (default [`IDLE_WORKER_TTL`]).
    pub fn with_idle_worker_ttl(mut self, ttl: i64) -> Self {
        self.idle_worker_ttl = ttl;
        self
    }

    /// Adds one job's end. The common one (success, result kept, no repeat) goes in compact
    /// form, written by the script's `success` exactly as [`JobEnd::write`] would write it
    /// (tests/end_guard.rs compares the two); every other end goes as its commands.
    /// `counters`: what Redis holds in `exec.worker`'s hash before this call's ends.
    pub fn push_end(
        &mut self,
        keys: &Keys,
        exec: &Execution,
        end: &JobEnd,
        ended_at: Timestamp,
        counters: Counters<'_>,
    ) {
        if self.push_compact(keys, exec, end, ended_at, counters, None) {
            return;
        }
        let mut p = redis::pipe();
        end.write(&mut p, keys, exec, ended_at);
        if self.idle_worker_ttl != IDLE_WORKER_TTL {
            // After `release_execution`'s EXPIRE with the default.
            p.cmd("EXPIRE")
                .arg(keys.worker(&exec.worker))
                .arg(self.idle_worker_ttl)
                .ignore();
        }
        self.push(keys, exec, end.releases_dependents(), &p);
    }

    /// Adds the end of a job whose start was never written (taken from `popped_from`'s
    /// intermediate list, ended before its start was sent), as start and end in one: only the
    /// common success has this form. Returns false, adding nothing, for any other end: the
    /// caller then writes the start first and the end as usual. `counters` as for
    /// [`GuardedEnds::push_end`].
    pub fn push_run(
        &mut self,
        keys: &Keys,
        exec: &Execution,
        end: &JobEnd,
        ended_at: Timestamp,
        counters: Counters<'_>,
        popped_from: &str,
    ) -> bool {
        self.push_compact(keys, exec, end, ended_at, counters, Some(popped_from))
    }

    /// The compact success (`popped_from`: unstarted, see [`GuardedEnds::push_run`]); false
    /// when `end` is not one. (An empty return value, which a pickle never is, would read as
    /// none in the compact form: sent as commands.)
    fn push_compact(
        &mut self,
        keys: &Keys,
        exec: &Execution,
        end: &JobEnd,
        ended_at: Timestamp,
        counters: Counters<'_>,
        popped_from: Option<&str>,
    ) -> bool {
        let JobEnd::Success {
            result_ttl,
            return_value,
            repeat: None,
            has_dependencies,
        } = end
        else {
            return false;
        };
        if *result_ttl <= 0 || return_value.as_deref() == Some("") {
            return false;
        }
        match popped_from {
            None => self.push_strings([
                "S".to_string(),
                keys.wip(&exec.queue),
                exec.composite(),
                exec.job_id.clone(),
            ]),
            Some(q) => {
                self.push_strings(["U".to_string(), keys.intermediate(q), exec.job_id.clone()])
            }
        }
        let working = (ended_at - exec.started_at).num_microseconds().unwrap_or(0) as f64 / 1e6;
        let ended = format_datetime(ended_at);
        let working = py_float_repr(working);
        let total = counters
            .total
            .and_then(|t| incr_by_float(t, &working))
            .unwrap_or_default();
        self.push_strings([
            keys.finished(&exec.queue),
            exec.execution_id.clone(),
            exec.worker.clone(),
            result_ttl.to_string(),
            return_value.clone().unwrap_or_default(),
            format_datetime(exec.started_at),
            py_float_repr(unix_float(exec.started_at)),
            ended,
            py_float_repr(unix_float(ended_at)),
            // The finished registry's score: `FinishedJobRegistry.add(job, result_ttl)`.
            (unix_seconds(ended_at) + result_ttl).to_string(),
            working,
            if *has_dependencies { "1" } else { "0" }.to_string(),
            // The counters after this success, as the script sets them.
            counters
                .successes
                .map(|n| (n + 1).to_string())
                .unwrap_or_default(),
            total,
        ]);
        self.jobs += 1;
        true
    }

    fn push_strings<const N: usize>(&mut self, args: [String; N]) {
        self.args.extend(args.into_iter().map(String::into_bytes));
    }

    /// Adds one job's end: `cmds` holds the commands a lifecycle builder appended; `release` is
    /// the parent status the job's dependents are released with (`None`: not released).
    pub fn push(&mut self, keys: &Keys, exec: &Execution, release: Option<&str>, cmds: &Pipeline) {
        self.push_strings([
            "R".to_string(),
            keys.wip(&exec.queue),
            exec.composite(),
            exec.job_id.clone(),
            release.unwrap_or_default().to_string(),
            cmds.cmd_iter().count().to_string(),
            exec.worker.clone(),
        ]);
        for c in cmds.cmd_iter() {
            let args: Vec<&[u8]> = c
                .args_iter()
                .filter_map(|a| match a {
                    Arg::Simple(b) => Some(b),
                    _ => None,
                })
                .collect();
            self.args.push(args.len().to_string().into_bytes());
            self.args.extend(args.into_iter().map(<[u8]>::to_vec));
        }
        self.jobs += 1;
    }

    /// The number of jobs pushed.
    pub fn len(&self) -> usize {
        self.jobs
    }

    /// No job pushed yet.
    pub fn is_empty(&self) -> bool {
        self.jobs == 0
    }

    /// The script call for every job pushed so far; `now` stamps the dependents it enqueues.
    pub fn invocation<'a>(&self, script: &'a Script, now: Timestamp) -> ScriptInvocation<'a> {
        let mut inv = script.prepare_invoke();
        let mut args = self.args.iter();
        if let Some(prefix) = args.next() {
            inv.arg(prefix.as_slice());
        }
        inv.arg(format_datetime(now))
            .arg(unix_seconds(now))
            .arg(RESULTS_MAXLEN)
            .arg(self.idle_worker_ttl);
        for a in args {
            inv.arg(a.as_slice());
        }
        inv
    }
}

/// Parses the script's reply (see [`END_SCRIPT`]) into one entry per job; a missing field reads
/// as applied, with no error, count or dependent.
pub fn parse_reply(reply: Vec<String>) -> Vec<EndApplied> {
    let mut it = reply.into_iter();
    let applied = it.next().unwrap_or_default();
    let counts = it.next().unwrap_or_default();
    let totals = it.next().unwrap_or_default();
    let errors = it.next().unwrap_or_default();
    let mut counts = counts.split(',');
    let mut totals = totals.split(',');
    let mut errors = errors.split(',');
    let mut out: Vec<EndApplied> = applied
        .chars()
        .map(|a| EndApplied {
            applied: a != '0',
            errors: errors.next().and_then(|e| e.parse().ok()).unwrap_or(0),
            released: Vec::new(),
            successes: counts.next().and_then(|c| c.parse().ok()),
            total: totals.next().filter(|t| !t.is_empty()).map(str::to_string),
        })
        .collect();
    while let (Some(at), Some(dep)) = (it.next(), it.next()) {
        let slot = at
            .parse::<usize>()
            .ok()
            .and_then(|i| out.get_mut(i.checked_sub(1)?));
        if let Some(e) = slot {
            e.released.push(dep);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_commands_with_their_lengths() {
        let keys = Keys::new("rq");
        let exec = Execution {
            worker: "w".into(),
            job_id: "j".into(),
            execution_id: "e".into(),
            queue: "q".into(),
            started_at: crate::time::now(),
        };
        let mut p = redis::pipe();
        p.cmd("HSET").arg("rq:job:j").arg("status").arg("finished");
        let mut g = GuardedEnds::new(&keys);
        g.push(&keys, &exec, Some("finished"), &p);
        let args: Vec<String> = g
            .args
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        assert_eq!(
            args,
            [
                "rq", "R", "rq:wip:q", "j:e", "j", "finished", "1", "w", "4", "HSET", "rq:job:j",
                "status", "finished",
            ]
        );
        assert_eq!(g.len(), 1);
    }

    #[test]
    fn parses_replies() {
        let r = parse_reply(
            [
                "101", ",,7", ",,0.5", "0,2,0", "1", "d1", "3", "d2", "1", "d3",
            ]
            .map(String::from)
            .to_vec(),
        );
        let entry =
            |applied, errors, released: &[&str], successes, total: Option<&str>| EndApplied {
                applied,
                errors,
                released: released.iter().map(|s| s.to_string()).collect(),
                successes,
                total: total.map(str::to_string),
            };
        assert_eq!(
            r,
            vec![
                entry(true, 0, &["d1", "d3"], None, None),
                entry(false, 2, &[], None, None),
                entry(true, 0, &["d2"], Some(7), Some("0.5")),
            ]
        );
        assert!(parse_reply(Vec::new()).is_empty());
    }
}
