-- RQ 3.0's RELEASE_AND_ENQUEUE_SCRIPT: frees the slot of the job whose outcome was committed,
-- then acquires (rl_acquire_and_enqueue.lua follows this line).
-- KEYS: allowed, rate_limited. ARGV: as rl_acquire_and_enqueue.lua, then job_id.
redis.call('ZREM', KEYS[1], ARGV[6])
