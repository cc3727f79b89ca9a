-- Library, no KEYS or ARGV of its own, after lib/rate_limit.lua: releasing a parent's dependents
-- with RQ's rules (`Job.dependencies_are_met`, `Queue.enqueue_dependents`; see dependents.rs).
-- enqueue_dependent(p, dep, origin, ttl, front, now, now_unix): moves a deferred job whose
--   dependencies are met onto its queue (or through the limiter): out of `rq:deferred:<q>`,
--   its own `ttl` applied again, `queued` with a fresh `enqueued_at`.
-- release_dependent(p, dep, parent, parent_status, now, now_unix): true when it enqueued dep.
-- release_dependents(p, parent, parent_status, deps, now, now_unix): does it for each id of
--   deps (the parent's dependents set, read by the caller); returns the ids enqueued.
local function enqueue_dependent(p, dep, origin, ttl, front, now, ts)
  local job = p .. ':job:' .. dep
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
end
local function release_dependent(p, dep, parent, pst, now, ts)
  local job = p .. ':job:' .. dep
  local parent_dependents = p .. ':job:' .. parent .. ':dependents'
  local h = redis.call('HMGET', job, 'status', 'allow_dependency_failures', 'origin', 'ttl', 'enqueue_at_front')
  local st, allow, origin, ttl, front = h[1], h[2] == '1', h[3], h[4], h[5] == '1'
  if not st or st ~= 'deferred' or not origin then
    redis.call('SREM', parent_dependents, dep)
    return false
  end
  if pst == 'canceled' or pst == 'stopped' then return false end
  if pst == 'failed' and not allow then return false end
  local deps = redis.call('SMEMBERS', p .. ':job::' .. dep .. ':dependencies')
  for _, d in ipairs(deps) do
    if d ~= parent then
      local s = redis.call('HGET', p .. ':job:' .. d, 'status')
      if s and not (s == 'finished' or (allow and s == 'failed')) then return false end
    end
  end
  enqueue_dependent(p, dep, origin, ttl, front, now, ts)
  redis.call('SREM', parent_dependents, dep)
  return true
end
local function release_dependents(p, parent, pst, deps, now, ts)
  local out = {}
  for _, dep in ipairs(deps) do
    if release_dependent(p, dep, parent, pst, now, ts) then out[#out + 1] = dep end
  end
  return out
end
