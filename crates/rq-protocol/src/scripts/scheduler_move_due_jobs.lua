-- Moves the due jobs of one queue from its scheduled registry onto the queue (or through the
-- limiter), atomically. Needs lib/rate_limit.lua before it.
-- KEYS: scheduled, queue, queues. ARGV: now_unix, now_datetime, job_key_prefix, queue_key,
-- limit, prefix. Returns the number of jobs enqueued.
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], 0, ARGV[1], 'LIMIT', 0, tonumber(ARGV[5]))
local moved = 0
for _, id in ipairs(ids) do
  local job = ARGV[3] .. id
  local h = redis.call('HMGET', job, 'status', 'ttl', 'enqueue_at_front', 'enqueue_at_front_on_retry', 'ended_at')
  if h[1] then
    local t = tonumber(h[2])
    if t and t > 0 then redis.call('EXPIRE', job, t) end
    local front = h[3] == '1' or (h[4] == '1' and h[5] and h[5] ~= '')
    local rl_key, rl_conc = rl_of(job)
    if rl_key then
      rl_enqueue(ARGV[6], id, rl_key, rl_conc, front, tonumber(ARGV[1]), ARGV[2])
    else
      redis.call('HSET', job, 'status', 'queued', 'enqueued_at', ARGV[2])
      if front then redis.call('LPUSH', KEYS[2], id) else redis.call('RPUSH', KEYS[2], id) end
    end
    moved = moved + 1
  end
  redis.call('ZREM', KEYS[1], id)
end
if moved > 0 then redis.call('SADD', KEYS[3], ARGV[4]) end
return moved
