//! Idempotent job ends (issue 9). The end of a job is written by the lifecycle builders
//! (`succeed`, `fail`, `retry`); sent as a plain `MULTI … EXEC`, a retry after a lost reply
//! (Redis restarted after EXEC, or a response timeout while Redis was stalled and the
//! connection was replaced) would apply the end twice: a second result in the stream, counters
//! incremented twice, a retried job pushed twice onto its queue.
//!
//! So the writer sends every batch of job ends through one Lua script (atomic like MULTI) that
//! applies a job's commands only while its execution is still in `rq:wip:<q>` (RQ's
//! StartedJobRegistry). Every end removes that member in the same step (`release_execution`),
//! so a repeated end finds it gone and is skipped; an end of a job that a peer's maintenance
//! already failed or retried as abandoned is skipped too, and cannot undo that. Commands run with
//! `redis.pcall`, like MULTI (one failing command does not stop the others); errors are counted.

use redis::{Arg, Pipeline, Script, ScriptInvocation};

use super::keys::Keys;
use super::lifecycle::Execution;

/// ARGV, per job: `[wip_key, member, job_key, dependents_key, n_cmds, (n_args, args…) × n_cmds]`.
/// Returns per job `[applied ('1' | '0'), n_errors, dependents…]`. The dependents are read
/// before the job's commands run (those only delete or expire the set afterwards). For a skipped
/// job they are returned only if the job is terminal (our earlier attempt applied, its reply
/// was lost), so that dependents are still released (the release script is idempotent).
pub const END_SCRIPT: &str = r#"
local out = {}
local i, n = 1, #ARGV
while i <= n do
  local wip, member, job, deps_key = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local ncmds = tonumber(ARGV[i + 4])
  i = i + 5
  local live = redis.call('ZSCORE', wip, member)
  local deps = redis.call('SMEMBERS', deps_key)
  if not live then
    local st = redis.call('HGET', job, 'status')
    if not (st == 'finished' or st == 'failed' or st == 'stopped') then deps = {} end
  end
  local errors = 0
  for _ = 1, ncmds do
    local nargs = tonumber(ARGV[i])
    if live then
      local r = redis.pcall(unpack(ARGV, i + 1, i + nargs))
      if type(r) == 'table' and r.err then errors = errors + 1 end
    end
    i = i + 1 + nargs
  end
  local reply = {live and '1' or '0', tostring(errors)}
  for _, d in ipairs(deps) do reply[#reply + 1] = d end
  out[#out + 1] = reply
end
return out
"#;

/// The arguments of one [`END_SCRIPT`] call, job by job.
#[derive(Default)]
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
    pub dependents: Vec<String>,
}

impl GuardedEnds {
    /// Adds one job's end: `cmds` holds exactly the commands a lifecycle builder appended.
    /// Their `SMEMBERS` of the dependents is left out: the script reads that set itself, in
    /// the same atomic step (one command per job less, issue 8).
    pub fn push(&mut self, keys: &Keys, exec: &Execution, cmds: &Pipeline) {
        let commands: Vec<Vec<&[u8]>> = cmds
            .cmd_iter()
            .map(|c| {
                c.args_iter()
                    .filter_map(|a| match a {
                        Arg::Simple(b) => Some(b),
                        _ => None,
                    })
                    .collect::<Vec<&[u8]>>()
            })
            .filter(|c| {
                c.first()
                    .is_none_or(|name| !name.eq_ignore_ascii_case(b"SMEMBERS"))
            })
            .collect();
        for a in [
            keys.wip(&exec.queue),
            exec.composite(),
            keys.job(&exec.job_id),
            keys.dependents(&exec.job_id),
        ] {
            self.args.push(a.into_bytes());
        }
        self.args.push(commands.len().to_string().into_bytes());
        for c in commands {
            self.args.push(c.len().to_string().into_bytes());
            self.args.extend(c.into_iter().map(<[u8]>::to_vec));
        }
        self.jobs += 1;
    }

    pub fn len(&self) -> usize {
        self.jobs
    }

    pub fn is_empty(&self) -> bool {
        self.jobs == 0
    }

    /// The script call for every job pushed so far.
    pub fn invocation<'a>(&self, script: &'a Script) -> ScriptInvocation<'a> {
        let mut inv = script.prepare_invoke();
        for a in &self.args {
            inv.arg(a.as_slice());
        }
        inv
    }
}

/// Parses the script's reply; a malformed entry counts as applied with no dependents.
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
                dependents: it.collect(),
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
        p.cmd("SMEMBERS").arg("rq:job:j:dependents");
        let mut g = GuardedEnds::default();
        g.push(&keys, &exec, &p);
        let args: Vec<String> = g
            .args
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        assert_eq!(
            args,
            [
                "rq:wip:q",
                "j:e",
                "rq:job:j",
                "rq:job:j:dependents",
                "1",
                "4",
                "HSET",
                "rq:job:j",
                "status",
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
                    dependents: vec!["d1".into()]
                },
                EndApplied {
                    applied: false,
                    errors: 2,
                    dependents: vec![]
                },
            ]
        );
    }
}
