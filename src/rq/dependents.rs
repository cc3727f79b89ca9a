//! Releasing dependents after a parent job ends (rq-protocol.md §7.3).
//!
//! RQ does this under `WATCH`; a multiplexed connection cannot hold a `WATCH`, so each dependent
//! is checked and enqueued by one Lua script, which is atomic by itself. The rules are RQ's
//! `Job.dependencies_are_met` and `Queue.enqueue_dependents`:
//! * a canceled or stopped parent never releases; a failed one only with `allow_dependency_failures`;
//! * every other dependency must be `finished` (or `failed` when failures are allowed); a
//!   dependency whose hash is gone counts as met, as in RQ;
//! * a canceled dependent is never enqueued.
//!
//! Unlike RQ, a dependent that is no longer `deferred` (already enqueued by someone else) is not
//! pushed a second time.

use super::rate_limit::rl_lua;

/// A dependent with an RQ 3.0 concurrency limit goes through the limiter instead of straight
/// onto its queue (`Queue._enqueue_rate_limited_job`, see `rq::rate_limit`).
///
/// ARGV: `[prefix, dependent_id, parent_id, parent_status, now, now_unix]`. Returns 1 when
/// enqueued.
pub const RELEASE_SCRIPT: &str = concat!(
    rl_lua!(),
    r#"
local p, dep, parent, pst, now, ts = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local job = p .. ':job:' .. dep
local parent_dependents = p .. ':job:' .. parent .. ':dependents'
local h = redis.call('HMGET', job, 'status', 'allow_dependency_failures', 'origin', 'ttl', 'enqueue_at_front')
local st, allow, origin, ttl, front = h[1], h[2] == '1', h[3], h[4], h[5] == '1'
if not st or st ~= 'deferred' or not origin then
  redis.call('SREM', parent_dependents, dep)
  return 0
end
if pst == 'canceled' or pst == 'stopped' then return 0 end
if pst == 'failed' and not allow then return 0 end
local deps = redis.call('SMEMBERS', p .. ':job::' .. dep .. ':dependencies')
for _, d in ipairs(deps) do
  if d ~= parent then
    local s = redis.call('HGET', p .. ':job:' .. d, 'status')
    if s and not (s == 'finished' or (allow and s == 'failed')) then return 0 end
  end
end
redis.call('ZREM', p .. ':deferred:' .. origin, dep)
local t = tonumber(ttl)
local rl_key, rl_conc = rl_of(job)
if rl_key then
  if t and t > 0 then redis.call('EXPIRE', job, t) end
  redis.call('SADD', p .. ':queues', p .. ':queue:' .. origin)
  rl_enqueue(p, dep, rl_key, rl_conc, false, ts, now)
  redis.call('SREM', parent_dependents, dep)
  return 1
end
redis.call('HSET', job, 'status', 'queued', 'enqueued_at', now)
if t and t > 0 then redis.call('EXPIRE', job, t) end
redis.call('SADD', p .. ':queues', p .. ':queue:' .. origin)
if front then
  redis.call('LPUSH', p .. ':queue:' .. origin, dep)
else
  redis.call('RPUSH', p .. ':queue:' .. origin, dep)
end
redis.call('SREM', parent_dependents, dep)
return 1
"#
);

/// Dependents left `deferred` although every dependency is met: the dependency race of RQ < 3.0
/// enqueuers. RQ 2.x's `Queue.setup_dependencies` defers a job unless every dependency is
/// `finished`, even when it allows failures and the dependency has `failed` already; it then adds
/// itself to the parent's dependents set *after* the parent's end read that set, and nobody
/// enqueues it. A retry after a `WATCH` abort (the parent's end touched the watched hash) lands
/// there too. RQ 3.0 checks `failed` for allow-failure jobs at enqueue time.
///
/// This script finds such jobs and enqueues them, each at most once: the check and the enqueue
/// are one atomic step keyed on the status (`deferred`), so a second call (ours, a peer's, or a
/// Python worker's `enqueue_dependents`) finds it `queued` and leaves it. The dependents sets of
/// its dependencies lose the id in the same step (which also aborts a Python worker's `WATCH` on
/// them). The rules are `Job.dependencies_are_met` without a parent: every dependency must be
/// `finished`, or `failed` when the job allows failures; a dependency whose hash is gone counts
/// as met; a canceled or stopped dependency never releases; a job without a recorded dependency
/// is left alone (nothing says it may run).
///
/// ARGV: `[prefix, now, now_unix, mode, ids…]`; `mode` is `jobs` (the ids are deferred jobs, e.g. the
/// members of `rq:deferred:<q>`) or `parents` (the ids are jobs that ended; their dependents sets
/// are swept). Returns the ids enqueued.
pub const RESCUE_SCRIPT: &str = concat!(
    rl_lua!(),
    r#"
local p, now, ts, mode = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local out = {}
local function rescue(dep)
  local job = p .. ':job:' .. dep
  local h = redis.call('HMGET', job, 'status', 'allow_dependency_failures', 'origin', 'ttl', 'enqueue_at_front')
  local st, allow, origin, ttl, front = h[1], h[2] == '1', h[3], h[4], h[5] == '1'
  if st ~= 'deferred' or not origin then return end
  local deps = redis.call('SMEMBERS', p .. ':job::' .. dep .. ':dependencies')
  if #deps == 0 then return end
  for _, d in ipairs(deps) do
    local s = redis.call('HGET', p .. ':job:' .. d, 'status')
    if s and not (s == 'finished' or (allow and s == 'failed')) then return end
  end
  redis.call('ZREM', p .. ':deferred:' .. origin, dep)
  local t = tonumber(ttl)
  if t and t > 0 then redis.call('EXPIRE', job, t) end
  redis.call('SADD', p .. ':queues', p .. ':queue:' .. origin)
  local rl_key, rl_conc = rl_of(job)
  if rl_key then
    rl_enqueue(p, dep, rl_key, rl_conc, false, ts, now)
  else
    redis.call('HSET', job, 'status', 'queued', 'enqueued_at', now)
    if front then
      redis.call('LPUSH', p .. ':queue:' .. origin, dep)
    else
      redis.call('RPUSH', p .. ':queue:' .. origin, dep)
    end
  end
  for _, d in ipairs(deps) do
    redis.call('SREM', p .. ':job:' .. d .. ':dependents', dep)
  end
  out[#out + 1] = dep
end
for i = 5, #ARGV do
  if mode == 'parents' then
    for _, dep in ipairs(redis.call('SMEMBERS', p .. ':job:' .. ARGV[i] .. ':dependents')) do
      rescue(dep)
    end
  else
    rescue(ARGV[i])
  end
end
return out
"#
);

/// What [`RESCUE_SCRIPT`] is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RescueMode {
    /// The ids are deferred jobs (the members of `rq:deferred:<q>`).
    Jobs,
    /// The ids are jobs that ended; their dependents sets are swept.
    Parents,
}

/// Most ids handed to one [`RESCUE_SCRIPT`] call (each call blocks Redis while it runs).
pub const RESCUE_CHUNK: usize = 200;

/// How long after a job's failure its dependents set is swept again, for dependents that an RQ
/// 2.x enqueuer registered after the end read the set (the enqueuer's retry after a `WATCH`
/// abort takes milliseconds; a slow or distant enqueuer longer). Maintenance covers the rest.
pub const RESCUE_AFTER_END: [std::time::Duration; 3] = [
    std::time::Duration::from_secs(1),
    std::time::Duration::from_secs(5),
    std::time::Duration::from_secs(30),
];

/// The call of [`RESCUE_SCRIPT`] for one chunk of ids.
pub fn rescue_invocation<'a>(
    script: &'a redis::Script,
    keys: &super::Keys,
    now: &str,
    now_unix: i64,
    mode: RescueMode,
    ids: &[String],
) -> redis::ScriptInvocation<'a> {
    let mut inv = script.prepare_invoke();
    inv.arg(keys.prefix())
        .arg(now)
        .arg(now_unix)
        .arg(match mode {
            RescueMode::Jobs => "jobs",
            RescueMode::Parents => "parents",
        });
    for id in ids {
        inv.arg(id);
    }
    inv
}
