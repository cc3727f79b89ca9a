//! RQ 3.0's concurrency limits (`rq/rate_limit.py`, documented as "Concurrency Rate Limits").
//!
//! A job enqueued with `rate_limit=RateLimit(key, concurrency)` carries `rate_limit_key` and
//! `rate_limit_concurrency` in its hash. The enqueuer registers the key in `rq:rl-keys`, writes
//! `concurrency` to `rq:rl:<key>`, saves the job `rate_limited`, adds it to
//! `rq:rl:<key>:rate_limited` and runs the acquire script: while `rq:rl:<key>:allowed` holds
//! fewer ids than the limit, the oldest waiter moves there and onto its queue (`queued`). So
//! `allowed` counts the jobs of the key that are queued or running, and never exceeds the limit.
//!
//! The worker's part, as RQ 3.0's worker does it:
//! * after a job's outcome is committed its slot is released (`release_slot`: unless its status
//!   is now `queued` or `started`, i.e. not for an immediate retry, a repeat or a hand-back, but
//!   for a delayed retry or repeat, which goes through the limiter again when it is due) and the
//!   next waiters are promoted, all in RQ's release script;
//! * a due scheduled job, or a dependent whose dependencies are met, is enqueued through the
//!   limiter (`Queue._enqueue_rate_limited_job`, [`RL_LUA`]);
//! * maintenance frees slots whose job is no longer queued or started (RQ's release-stale
//!   script), fills free slots and drops a key whose sets are empty (`RateLimitRegistry.cleanup`).
//!
//! The scripts are RQ 3.0's own text, so a fleet of Python 3.0 workers and task-workers shares
//! one limit.

use redis::{Script, ScriptInvocation};

use super::keys::Keys;

/// `ACQUIRE_AND_ENQUEUE_SCRIPT` of `rq/rate_limit.py` (3.0.0), verbatim.
/// KEYS: `[allowed, rate_limited]`; ARGV: `[concurrency, timestamp, enqueued_at,
/// queue_key_prefix, job_key_prefix]`. Returns the promoted ids.
macro_rules! acquire_and_enqueue {
    () => {
        r#"
local concurrency = tonumber(ARGV[1])
local timestamp = tonumber(ARGV[2])
local enqueued_at = ARGV[3]
local queue_key_prefix = ARGV[4]
local job_key_prefix = ARGV[5]
local promoted = {}

while redis.call('ZCARD', KEYS[1]) < concurrency do
    local result = redis.call('ZPOPMIN', KEYS[2])
    if #result == 0 then
        break
    end
    local job_id = result[1]
    local job_key = job_key_prefix .. job_id
    local fields = redis.call('HMGET', job_key, 'origin', 'status', 'enqueue_at_front')
    local origin, status, enqueue_at_front = fields[1], fields[2], fields[3]
    -- Drop stale entries (missing hash, no origin or not rate_limited); ZPOPMIN removed them.
    if origin and status == 'rate_limited' then
        redis.call('ZADD', KEYS[1], timestamp, job_id)
        if enqueue_at_front == '1' then
            redis.call('LPUSH', queue_key_prefix .. origin, job_id)
        else
            redis.call('RPUSH', queue_key_prefix .. origin, job_id)
        end
        redis.call('HSET', job_key, 'status', 'queued', 'enqueued_at', enqueued_at)
        table.insert(promoted, job_id)
    end
end
return promoted
"#
    };
}

pub const ACQUIRE_AND_ENQUEUE: &str = acquire_and_enqueue!();

/// `RELEASE_AND_ENQUEUE_SCRIPT`: remove the completed job (ARGV[6]) from `allowed`, then acquire.
pub const RELEASE_AND_ENQUEUE: &str = concat!(
    "redis.call('ZREM', KEYS[1], ARGV[6])\n",
    acquire_and_enqueue!()
);

/// `RELEASE_STALE_AND_ENQUEUE_SCRIPT`: for callers that do not own the job's outcome
/// (maintenance): keep the slot of a job that is queued or started or has a live execution.
/// KEYS: `[allowed, rate_limited, job_key, executions_key]`; ARGV as [`RELEASE_AND_ENQUEUE`].
pub const RELEASE_STALE_AND_ENQUEUE: &str = concat!(
    r#"
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
"#,
    acquire_and_enqueue!()
);

/// `CLEANUP_REGISTRY_SCRIPT`: drop a key whose sets are both empty.
/// KEYS: `[allowed, rate_limited, config, rl_keys]`; ARGV: `[key]`.
pub const CLEANUP_REGISTRY: &str = r#"
if redis.call('ZCARD', KEYS[1]) == 0 and redis.call('ZCARD', KEYS[2]) == 0 then
    redis.call('SREM', KEYS[4], ARGV[1])
    redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
    return 1
end
return 0
"#;

/// Lua functions for scripts that enqueue jobs themselves (dependents, the scheduler):
/// `rl_enqueue(prefix, id, key, concurrency, at_front, timestamp, enqueued_at)` is
/// `Queue._enqueue_rate_limited_job`: register the key and its concurrency, mark the job
/// `rate_limited` (and `enqueue_at_front`), add it to the waiters, then acquire as
/// [`ACQUIRE_AND_ENQUEUE`] does. `rl_of(job_key)` returns the job's key and concurrency when it
/// has a limit (`Job.has_rate_limit`), else nil.
macro_rules! rl_lua {
    () => {
        r#"
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
"#
    };
}
pub(crate) use rl_lua;

/// A job's limit, from its hash (`Job.has_rate_limit`: a key and a concurrency ≥ 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    pub key: String,
    pub concurrency: i64,
}

/// `release_slot(job)`: true when a job whose outcome is now `status` gives its slot back.
pub fn releases_slot(status: &str) -> bool {
    !matches!(status, "queued" | "started")
}

fn common_args<'a>(
    inv: &mut ScriptInvocation<'a>,
    keys: &Keys,
    concurrency: i64,
    timestamp: i64,
    enqueued_at: &str,
) {
    inv.arg(concurrency)
        .arg(timestamp)
        .arg(enqueued_at)
        .arg(keys.queue_key_prefix())
        .arg(keys.job(""));
}

/// `RateLimitRegistry.release_and_enqueue(job_id)`; `concurrency` is the registry's
/// (`HGET rq:rl:<key> concurrency`, 0 when unset, which promotes nothing).
pub fn release_invocation<'a>(
    script: &'a Script,
    keys: &Keys,
    key: &str,
    concurrency: i64,
    job_id: &str,
    timestamp: i64,
    enqueued_at: &str,
) -> ScriptInvocation<'a> {
    let mut inv = script.prepare_invoke();
    inv.key(keys.rl_allowed(key)).key(keys.rl_rate_limited(key));
    common_args(&mut inv, keys, concurrency, timestamp, enqueued_at);
    inv.arg(job_id);
    inv
}

/// `RateLimitRegistry.release_stale_and_enqueue(job_id)`.
pub fn release_stale_invocation<'a>(
    script: &'a Script,
    keys: &Keys,
    key: &str,
    concurrency: i64,
    job_id: &str,
    timestamp: i64,
    enqueued_at: &str,
) -> ScriptInvocation<'a> {
    let mut inv = script.prepare_invoke();
    inv.key(keys.rl_allowed(key))
        .key(keys.rl_rate_limited(key))
        .key(keys.job(job_id))
        .key(keys.executions(job_id));
    common_args(&mut inv, keys, concurrency, timestamp, enqueued_at);
    inv.arg(job_id);
    inv
}

/// `RateLimitRegistry.acquire_and_enqueue(concurrency)`.
pub fn acquire_invocation<'a>(
    script: &'a Script,
    keys: &Keys,
    key: &str,
    concurrency: i64,
    timestamp: i64,
    enqueued_at: &str,
) -> ScriptInvocation<'a> {
    let mut inv = script.prepare_invoke();
    inv.key(keys.rl_allowed(key)).key(keys.rl_rate_limited(key));
    common_args(&mut inv, keys, concurrency, timestamp, enqueued_at);
    inv
}

/// The registry cleanup's last step.
pub fn cleanup_invocation<'a>(script: &'a Script, keys: &Keys, key: &str) -> ScriptInvocation<'a> {
    let mut inv = script.prepare_invoke();
    inv.key(keys.rl_allowed(key))
        .key(keys.rl_rate_limited(key))
        .key(keys.rl_config(key))
        .key(keys.rl_keys())
        .arg(key);
    inv
}

/// `HGET rq:rl:<key> concurrency`; its reply goes to [`parse_concurrency`].
pub fn concurrency_cmd(keys: &Keys, key: &str) -> redis::Cmd {
    let mut c = redis::cmd("HGET");
    c.arg(keys.rl_config(key)).arg("concurrency");
    c
}

/// `RateLimitRegistry.concurrency`: the key's configured limit, 0 when unset or unreadable.
pub fn parse_concurrency(reply: Option<String>) -> i64 {
    reply.and_then(|v| v.trim().parse().ok()).unwrap_or(0)
}

/// `SMEMBERS rq:rl-keys`: every limit key in use.
pub fn keys_cmd(keys: &Keys) -> redis::Cmd {
    let mut c = redis::cmd("SMEMBERS");
    c.arg(keys.rl_keys());
    c
}

/// `ZRANGE rq:rl:<key>:allowed 0 -1`: the jobs holding a slot.
pub fn allowed_cmd(keys: &Keys, key: &str) -> redis::Cmd {
    let mut c = redis::cmd("ZRANGE");
    c.arg(keys.rl_allowed(key)).arg(0).arg(-1);
    c
}

/// `HGET rq:job:<id> status` for each id (one reply each, nil for a gone hash).
pub fn statuses(keys: &Keys, ids: &[String]) -> redis::Pipeline {
    let mut p = redis::pipe();
    for id in ids {
        p.hget(keys.job(id), "status");
    }
    p
}

/// `_release_stale_allowed_jobs`: a slot whose job is no longer queued or started leaked
/// (a gone hash too). The status may be stale; the release-stale script checks it again.
pub fn slot_leaked(status: Option<&str>) -> bool {
    status.is_none_or(releases_slot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_are_rqs() {
        assert!(RELEASE_AND_ENQUEUE.starts_with("redis.call('ZREM', KEYS[1], ARGV[6])\n"));
        assert!(RELEASE_AND_ENQUEUE.ends_with(ACQUIRE_AND_ENQUEUE));
        assert!(RELEASE_STALE_AND_ENQUEUE.ends_with(ACQUIRE_AND_ENQUEUE));
        assert!(ACQUIRE_AND_ENQUEUE.contains("redis.call('ZPOPMIN', KEYS[2])"));
    }

    #[test]
    fn slot_release_rule_is_release_slots() {
        for s in ["finished", "failed", "stopped", "scheduled", "canceled"] {
            assert!(releases_slot(s), "{s}");
        }
        assert!(!releases_slot("queued"));
        assert!(!releases_slot("started"));
    }
}
