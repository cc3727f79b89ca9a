-- RQ 3.0's RELEASE_STALE_AND_ENQUEUE_SCRIPT, for callers that do not own the job's outcome
-- (maintenance): keeps the slot of a job that is queued or started or has a live execution,
-- else frees it and acquires (rl_acquire_and_enqueue.lua follows).
-- KEYS: allowed, rate_limited, job_key, executions_key. ARGV: as rl_release.lua.
local status = redis.call('HGET', KEYS[3], 'status')
if status == 'queued' or status == 'started' then
    return {}
end
if redis.call('ZCOUNT', KEYS[4], '(' .. ARGV[2], '+inf') > 0 then
    return {}
end
if redis.call('ZREM', KEYS[1], ARGV[6]) == 0 then
    return {}
end
