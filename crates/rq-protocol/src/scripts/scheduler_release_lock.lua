-- RQ's RELEASE_LOCK_SCRIPT (rq/scripts.py), verbatim below this comment: deletes the lock only
-- while it is still ours. KEYS: scheduler lock of a queue. ARGV: scheduler name.
-- Returns 1 when deleted, else 0.
    if redis.call('GET', KEYS[1]) == ARGV[1] then
        return redis.call('DEL', KEYS[1])
    end
    return 0
