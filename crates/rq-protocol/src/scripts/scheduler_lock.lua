-- RQ's ACQUIRE_OR_REFRESH_LOCK_SCRIPT (rq/scripts.py, 2.12), verbatim below this comment.
-- KEYS: scheduler lock of a queue. ARGV: scheduler name, ttl.
-- Returns 1 acquired, 2 refreshed, 0 taken by another scheduler.
    local value = redis.call('GET', KEYS[1])
    if not value then
        redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
        return 1
    elseif value == ARGV[1] then
        redis.call('EXPIRE', KEYS[1], ARGV[2])
        return 2
    end
    return 0
