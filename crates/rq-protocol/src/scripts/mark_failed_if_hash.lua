-- Marks the hash of an id that cannot be run as a job `failed` (lifecycle's reject_unreadable):
-- only when the key exists and is a hash, never creating or retyping someone else's key.
-- KEYS: the job key. ARGV: ended_at, worker_name. Returns 0.
if redis.call('TYPE', KEYS[1]).ok == 'hash' then
  redis.call('HSET', KEYS[1], 'status', 'failed', 'ended_at', ARGV[1], 'worker_name', ARGV[2])
end
return 0
