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

/// ARGV: `[prefix, dependent_id, parent_id, parent_status, now]`. Returns 1 when enqueued.
pub const RELEASE_SCRIPT: &str = r#"
local p, dep, parent, pst, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
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
redis.call('HSET', job, 'status', 'queued', 'enqueued_at', now)
local t = tonumber(ttl)
if t and t > 0 then redis.call('EXPIRE', job, t) end
redis.call('SADD', p .. ':queues', p .. ':queue:' .. origin)
if front then
  redis.call('LPUSH', p .. ':queue:' .. origin, dep)
else
  redis.call('RPUSH', p .. ':queue:' .. origin, dep)
end
redis.call('SREM', parent_dependents, dep)
return 1
"#;
