//! RQ's scheduler protocol (rq-protocol.md §7.5): per-queue locks taken with RQ 2.10+'s Lua
//! scripts (value = scheduler name, `EX 61`), the `rq:scheduler:<name>` hash, and the move of due
//! jobs from `rq:scheduled:<q>` to the queue. The lock scripts are RQ's own text, so a
//! task-worker scheduler and a Python one never both own a queue.

use super::rate_limit::rl_lua;

/// `ACQUIRE_OR_REFRESH_LOCK_SCRIPT` from `rq/scripts.py` (2.12): 1 acquired, 2 refreshed, 0 taken.
pub const ACQUIRE_OR_REFRESH_LOCK: &str = r#"
    local value = redis.call('GET', KEYS[1])
    if not value then
        redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
        return 1
    elseif value == ARGV[1] then
        redis.call('EXPIRE', KEYS[1], ARGV[2])
        return 2
    end
    return 0
"#;

/// `RELEASE_LOCK_SCRIPT` from `rq/scripts.py`: delete only if still ours.
pub const RELEASE_LOCK: &str = r#"
    if redis.call('GET', KEYS[1]) == ARGV[1] then
        return redis.call('DEL', KEYS[1])
    end
    return 0
"#;

/// Scheduler lock and hash TTL: `interval + 60` with RQ's interval of 1 s.
pub const LOCK_TTL: i64 = 61;

/// Moves due jobs of one queue, atomically (RQ does the same steps in a pipeline, §7.5 step 2):
/// status `queued`, `enqueued_at` now, the job's own `ttl` re-applied, pushed to the front when
/// `enqueue_at_front` (or `enqueue_at_front_on_retry` after a first run), removed from the
/// scheduled registry; ids whose hash is gone are just removed.
///
/// A job with an RQ 3.0 concurrency limit goes through the limiter (`_enqueue_rate_limited_job`
/// with `at_front=job.should_enqueue_at_front()`, see `rq::rate_limit`): it waits for a slot
/// unless one is free.
///
/// KEYS: `[scheduled, queue, queues]`; ARGV: `[now_unix, now_datetime, job_key_prefix, queue_key,
/// limit, prefix]`. Returns the number of jobs enqueued.
pub const MOVE_DUE_JOBS: &str = concat!(
    rl_lua!(),
    r#"
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
"#
);
