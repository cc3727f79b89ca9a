-- RQ 3.0's CLEANUP_REGISTRY_SCRIPT: drops a limit key whose sets are both empty.
-- KEYS: allowed, rate_limited, config, rl_keys. ARGV: key. Returns 1 when dropped, else 0.
if redis.call('ZCARD', KEYS[1]) == 0 and redis.call('ZCARD', KEYS[2]) == 0 then
    redis.call('SREM', KEYS[4], ARGV[1])
    redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
    return 1
end
return 0
