-- `FailedJobRegistry.requeue` (rq 2.12) as one atomic step: the job is requeued only when its
-- ZREM from the failed registry removes it. Needs lib/rate_limit.lua before it.
-- KEYS: failed registry, job hash. ARGV: job_id, prefix, now, zlib(''), default timeout,
-- now_unix. Returns 1 requeued, 0 not in that registry, -1 hash gone, -2 hash without origin.
if redis.call('EXISTS', KEYS[2]) == 0 then return -1 end
local origin = redis.call('HGET', KEYS[2], 'origin')
if not origin or origin == '' then return -2 end
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], 'status', 'queued', 'started_at', '', 'ended_at', '',
  'exc_info', ARGV[4], 'enqueued_at', ARGV[3])
if redis.call('HEXISTS', KEYS[2], 'timeout') == 0 then
  redis.call('HSET', KEYS[2], 'timeout', ARGV[5])
end
local ttl = tonumber(redis.call('HGET', KEYS[2], 'ttl') or '')
if ttl and ttl > 0 then
  redis.call('EXPIRE', KEYS[2], ttl)
  redis.call('EXPIRE', ARGV[2] .. ':job:' .. ARGV[1] .. ':dependents', ttl)
  redis.call('EXPIRE', ARGV[2] .. ':job::' .. ARGV[1] .. ':dependencies', ttl)
end
local rl_key, rl_conc = rl_of(KEYS[2])
if rl_key then
  redis.call('HSET', KEYS[2], 'enqueue_at_front', '0')
  rl_enqueue(ARGV[2], ARGV[1], rl_key, rl_conc, false, tonumber(ARGV[6]), ARGV[3])
  return 1
end
redis.call('RPUSH', ARGV[2] .. ':queue:' .. origin, ARGV[1])
return 1
