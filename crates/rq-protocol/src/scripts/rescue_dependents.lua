-- Enqueues dependents left `deferred` although every dependency is met (the dependency race of
-- RQ < 3.0 enqueuers, see dependents.rs), each at most once. Needs lib/rate_limit.lua and
-- lib/dependents.lua before it.
-- No KEYS. ARGV: prefix, now, now_unix, mode, ids...; mode 'jobs': the ids are deferred jobs,
-- 'parents': the ids are jobs that ended, whose dependents sets are swept.
-- Returns the ids enqueued.
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
  enqueue_dependent(p, dep, origin, ttl, front, now, ts)
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
