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

use super::dependents::release_lua;
use super::keys::Keys;
use super::lifecycle::{Execution, JobEnd};
use super::lifecycle::{IDLE_WORKER_TTL, RESULTS_MAXLEN};
use super::rate_limit::rl_lua;
use super::time::{format_datetime, py_float_repr, unix_float, unix_seconds, Timestamp};

/// ARGV: `[prefix, now, now_unix, results_maxlen, idle_worker_ttl]`, then per job: `[wip_key,
/// member, job_id, release, n_cmds, (n_args, args…) × n_cmds]`, or for the common success
/// `n_cmds` = -1 and 13 fields (see `success` in the script and [`GuardedEnds::push_end`]), or
/// for the common success of a job whose start was never written `n_cmds` = -2, the
/// intermediate list and the job id in place of `wip_key` and `member`, and the same 13 fields
/// ([`GuardedEnds::push_run`]);
/// `release` is the parent status the job's dependents are released with (`finished`,
/// `failed`) or empty for none. Returns per job `[applied ('1' | '0'),
/// n_errors, dependents enqueued…]`.
///
/// The dependents set is read before the job's commands run (those may delete it: `result_ttl`
/// 0) and released after them. For a skipped job it is released only if the job is terminal
/// (our earlier attempt applied, its reply was lost); the release is idempotent (a dependent
/// is enqueued only while it is `deferred`). An `EXPIRE` of the dependents set is skipped when
/// the set was empty (the key does not exist: the command would do nothing; one command per job
/// less, issue 17).
pub const END_SCRIPT: &str = concat!(
    rl_lua!(),
    release_lua!(),
    r#"
local p, now, ts = ARGV[1], ARGV[2], tonumber(ARGV[3])
local maxlen, idle_ttl = ARGV[4], ARGV[5]
local errors = 0
-- A command as MULTI runs it: an error is counted, the others still run.
local function c(...)
  local r = redis.pcall(...)
  if type(r) == 'table' and r.err then errors = errors + 1 end
end
-- `lifecycle::succeed` for a result kept `rttl` > 0 seconds and no repeat, from 13 arguments
-- (the common end, issue 17): the same commands in the same order. `unstarted`: the job's
-- start was never written (it ended before the writer sent it), so what the start would have
-- created and this end would delete (execution hash and index, `rq:wip` and worker-execution
-- members, `current_job`) is not written at all, the fields both write get the end's values,
-- and the job hash gets the start's fields in the start's order: Redis ends as start + end
-- leave it (tests/end_guard.rs compares the two).
local function success(a, wip, member, id, deps_key, no_deps, unstarted)
  local q, eid, w, rttl = ARGV[a], ARGV[a + 1], ARGV[a + 2], tonumber(ARGV[a + 3])
  local has_rv, rv = ARGV[a + 4], ARGV[a + 5]
  local st, sf, et, ef = ARGV[a + 6], ARGV[a + 7], ARGV[a + 8], ARGV[a + 9]
  local es, working, has_deps = tonumber(ARGV[a + 10]), ARGV[a + 11], ARGV[a + 12]
  local job, wk, res = p .. ':job:' .. id, p .. ':worker:' .. w, p .. ':results:' .. id
  c('HINCRBY', wk, 'successful_job_count', 1)
  c('HINCRBYFLOAT', wk, 'total_working_time', working)
  if unstarted then
    c('HSET', job, 'last_heartbeat', et, 'status', 'finished', 'started_at', st, 'worker_name', w,
      'ended_at', et)
  else
    c('HSET', job, 'status', 'finished', 'started_at', st, 'ended_at', et, 'last_heartbeat', et,
      'worker_name', w)
  end
  if has_rv == '1' then
    c('XADD', res, 'MAXLEN', '~', maxlen, '*', 'type', '1', 'worker_name', w, 'return_value', rv,
      'execution_id', eid, 'execution_started_at', sf, 'execution_ended_at', ef)
  else
    c('XADD', res, 'MAXLEN', '~', maxlen, '*', 'type', '1', 'worker_name', w,
      'execution_id', eid, 'execution_started_at', sf, 'execution_ended_at', ef)
  end
  c('EXPIRE', res, rttl)
  c('ZADD', p .. ':finished:' .. q, es + rttl, id)
  c('EXPIRE', job, rttl)
  if not no_deps then c('EXPIRE', deps_key, rttl) end
  -- Only a job enqueued with dependencies has that set (otherwise a no-op, not sent).
  if has_deps == '1' then c('EXPIRE', p .. ':job::' .. id .. ':dependencies', rttl) end
  if not unstarted then
    c('HDEL', wk, 'current_job')
    c('DEL', p .. ':execution:' .. id .. ':' .. eid)
    c('ZREM', wip, member)
    c('ZREM', p .. ':executions:' .. id, eid)
    c('SREM', wk .. ':executions', member)
  end
  c('HSET', wk, 'current_job_working_time', '0', 'state', 'idle', 'last_heartbeat', et)
  c('EXPIRE', wk, idle_ttl)
end
local out = {}
local i, n = 6, #ARGV
while i <= n do
  local wip, member, id, release = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local ncmds = tonumber(ARGV[i + 4])
  i = i + 5
  local live
  if ncmds == -2 then
    -- Taken, never started: the id still in the intermediate list is the guard (removed here,
    -- so a repeated end finds it gone).
    live = redis.call('LREM', wip, 1, member) > 0
  else
    live = redis.call('ZSCORE', wip, member)
  end
  local deps_key = p .. ':job:' .. id .. ':dependents'
  local deps = nil
  if release ~= '' then
    local read = live
    if not live then
      local st = redis.call('HGET', p .. ':job:' .. id, 'status')
      read = st == 'finished' or st == 'failed' or st == 'stopped'
    end
    if read then deps = redis.call('SMEMBERS', deps_key) end
  end
  -- job.cleanup's EXPIRE of a dependents set that does not exist is a no-op: not sent.
  local no_deps = deps ~= nil and #deps == 0
  errors = 0
  if ncmds < 0 then
    if live then success(i, wip, member, id, deps_key, no_deps, ncmds == -2) end
    i = i + 13
  end
  for _ = 1, ncmds do
    local nargs = tonumber(ARGV[i])
    if live and not (no_deps and ARGV[i + 2] == deps_key and ARGV[i + 1] == 'EXPIRE') then
      local r = redis.pcall(unpack(ARGV, i + 1, i + nargs))
      if type(r) == 'table' and r.err then errors = errors + 1 end
    end
    i = i + 1 + nargs
  end
  local reply = {live and '1' or '0', tostring(errors)}
  if deps and #deps > 0 then
    for _, d in ipairs(release_dependents(p, id, release, deps, now, ts)) do
      reply[#reply + 1] = d
    end
  end
  out[#out + 1] = reply
end
return out
"#
);

/// The arguments of one [`END_SCRIPT`] call, job by job.
pub struct GuardedEnds {
    args: Vec<Vec<u8>>,
    jobs: usize,
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
}

impl GuardedEnds {
    pub fn new(keys: &Keys) -> Self {
        GuardedEnds {
            args: vec![keys.prefix().as_bytes().to_vec()],
            jobs: 0,
        }
    }

    /// Adds one job's end. The common one (success, result kept, no repeat) goes in compact
    /// form, written by the script's `success` exactly as [`JobEnd::write`] would write it
    /// (tests/end_guard.rs compares the two); every other end goes as its commands.
    pub fn push_end(&mut self, keys: &Keys, exec: &Execution, end: &JobEnd, ended_at: Timestamp) {
        if self.push_compact(keys, exec, end, ended_at, None) {
            return;
        }
        let mut p = redis::pipe();
        end.write(&mut p, keys, exec, ended_at);
        self.push(keys, exec, end.releases_dependents(), &p);
    }

    /// Adds the end of a job whose start was never written (taken from `popped_from`'s
    /// intermediate list, ended before its start was sent), as start and end in one: only the
    /// common success has this form. Returns false, adding nothing, for any other end: the
    /// caller then writes the start first and the end as usual.
    pub fn push_run(
        &mut self,
        keys: &Keys,
        exec: &Execution,
        end: &JobEnd,
        ended_at: Timestamp,
        popped_from: &str,
    ) -> bool {
        self.push_compact(keys, exec, end, ended_at, Some(popped_from))
    }

    /// The compact success (`popped_from`: unstarted, see [`GuardedEnds::push_run`]); false
    /// when `end` is not one.
    fn push_compact(
        &mut self,
        keys: &Keys,
        exec: &Execution,
        end: &JobEnd,
        ended_at: Timestamp,
        popped_from: Option<&str>,
    ) -> bool {
        if let JobEnd::Success {
            result_ttl,
            return_value,
            repeat: None,
            has_dependencies,
        } = end
        {
            if *result_ttl > 0 {
                let release = end.releases_dependents();
                match popped_from {
                    None => self.push_header(keys, exec, release, -1),
                    Some(q) => {
                        let guard = [
                            keys.intermediate(q),
                            exec.job_id.clone(),
                            exec.job_id.clone(),
                        ];
                        self.push_fields(guard, release, -2)
                    }
                }
                let working =
                    (ended_at - exec.started_at).num_microseconds().unwrap_or(0) as f64 / 1e6;
                let ended = format_datetime(ended_at);
                for a in [
                    exec.queue.clone(),
                    exec.execution_id.clone(),
                    exec.worker.clone(),
                    result_ttl.to_string(),
                    if return_value.is_some() { "1" } else { "0" }.to_string(),
                    return_value.clone().unwrap_or_default(),
                    format_datetime(exec.started_at),
                    py_float_repr(unix_float(exec.started_at)),
                    ended.clone(),
                    py_float_repr(unix_float(ended_at)),
                    unix_seconds(ended_at).to_string(),
                    py_float_repr(working),
                    if *has_dependencies { "1" } else { "0" }.to_string(),
                ] {
                    self.args.push(a.into_bytes());
                }
                self.jobs += 1;
                return true;
            }
        }
        false
    }

    fn push_header(&mut self, keys: &Keys, exec: &Execution, release: Option<&str>, n: i64) {
        let guard = [keys.wip(&exec.queue), exec.composite(), exec.job_id.clone()];
        self.push_fields(guard, release, n)
    }

    /// `[guard key, guard member, job id]`, then the release status and `n_cmds`.
    fn push_fields(&mut self, guard: [String; 3], release: Option<&str>, n: i64) {
        for a in guard
            .into_iter()
            .chain([release.unwrap_or_default().to_string(), n.to_string()])
        {
            self.args.push(a.into_bytes());
        }
    }

    /// Adds one job's end: `cmds` holds the commands a lifecycle builder appended; `release` is
    /// the parent status the job's dependents are released with (`None`: not released).
    pub fn push(&mut self, keys: &Keys, exec: &Execution, release: Option<&str>, cmds: &Pipeline) {
        self.push_header(keys, exec, release, cmds.cmd_iter().count() as i64);
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

    pub fn len(&self) -> usize {
        self.jobs
    }

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
            .arg(IDLE_WORKER_TTL);
        for a in args {
            inv.arg(a.as_slice());
        }
        inv
    }
}

/// Parses the script's reply; a malformed entry counts as applied with nothing released.
pub fn parse_reply(reply: Vec<Vec<String>>) -> Vec<EndApplied> {
    reply
        .into_iter()
        .map(|entry| {
            let mut it = entry.into_iter();
            let applied = it.next().map(|s| s != "0").unwrap_or(true);
            let errors = it.next().and_then(|s| s.parse().ok()).unwrap_or(0);
            EndApplied {
                applied,
                errors,
                released: it.collect(),
            }
        })
        .collect()
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
            started_at: crate::rq::time::now(),
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
                "rq", "rq:wip:q", "j:e", "j", "finished", "1", "4", "HSET", "rq:job:j", "status",
                "finished",
            ]
        );
        assert_eq!(g.len(), 1);
    }

    #[test]
    fn parses_replies() {
        let r = parse_reply(vec![
            vec!["1".into(), "0".into(), "d1".into()],
            vec!["0".into(), "2".into()],
        ]);
        assert_eq!(
            r,
            vec![
                EndApplied {
                    applied: true,
                    errors: 0,
                    released: vec!["d1".into()]
                },
                EndApplied {
                    applied: false,
                    errors: 2,
                    released: vec![]
                },
            ]
        );
    }
}
