-- Library, no KEYS or ARGV of its own: put before the scripts that enqueue jobs themselves
-- (dependents, due scheduled jobs, requeued failed jobs), which RQ 3.0 sends through the limiter.
-- rl_of(job_key): the job's limit key and concurrency when it has one (`Job.has_rate_limit`),
--   else nil.
-- rl_enqueue(prefix, id, key, concurrency, at_front, timestamp, enqueued_at): RQ 3.0's
--   `Queue._enqueue_rate_limited_job`: register the key and its concurrency, mark the job
--   `rate_limited` (and `enqueue_at_front`), add it to the waiters, then promote waiters while
--   slots are free, as rl_acquire_and_enqueue.lua does.
local function rl_of(job_key)
  local h = redis.call('HMGET', job_key, 'rate_limit_key', 'rate_limit_concurrency')
  local c = tonumber(h[2])
  if h[1] and h[1] ~= '' and c and c > 0 then return h[1], c end
  return nil
end
local function rl_enqueue(p, id, key, concurrency, at_front, timestamp, enqueued_at)
  local base = p .. ':rl:' .. key
  redis.call('SADD', p .. ':rl-keys', key)
  redis.call('HSET', base, 'concurrency', concurrency)
  local job_key = p .. ':job:' .. id
  redis.call('HSET', job_key, 'status', 'rate_limited')
  if at_front then redis.call('HSET', job_key, 'enqueue_at_front', '1') end
  redis.call('ZADD', base .. ':rate_limited', timestamp, id)
  local allowed, waiting = base .. ':allowed', base .. ':rate_limited'
  while redis.call('ZCARD', allowed) < concurrency do
    local result = redis.call('ZPOPMIN', waiting)
    if #result == 0 then break end
    local job_id = result[1]
    local jk = p .. ':job:' .. job_id
    local fields = redis.call('HMGET', jk, 'origin', 'status', 'enqueue_at_front')
    if fields[1] and fields[2] == 'rate_limited' then
      redis.call('ZADD', allowed, timestamp, job_id)
      if fields[3] == '1' then
        redis.call('LPUSH', p .. ':queue:' .. fields[1], job_id)
      else
        redis.call('RPUSH', p .. ':queue:' .. fields[1], job_id)
      end
      redis.call('HSET', jk, 'status', 'queued', 'enqueued_at', enqueued_at)
    end
  end
end
