//! RQ 3.0's concurrency limits on the worker's side (see `rq::rate_limit`): the slot of a job
//! is released once its outcome is committed, and maintenance cleans every limit key as
//! `RateLimitRegistry.cleanup` does.

use tracing::{info, warn};

use super::state::Engine;
use crate::rq::rate_limit::{
    acquire_invocation, allowed_cmd, cleanup_invocation, concurrency_cmd, keys_cmd,
    parse_concurrency, release_invocation, release_stale_invocation, releases_slot, slot_leaked,
    statuses, Limit, ACQUIRE_AND_ENQUEUE, CLEANUP_REGISTRY, RELEASE_AND_ENQUEUE,
    RELEASE_STALE_AND_ENQUEUE,
};
use crate::rq::time::{format_datetime, now, unix_seconds};

pub struct RateLimits {
    release: redis::Script,
    release_stale: redis::Script,
    acquire: redis::Script,
    cleanup: redis::Script,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            release: redis::Script::new(RELEASE_AND_ENQUEUE),
            release_stale: redis::Script::new(RELEASE_STALE_AND_ENQUEUE),
            acquire: redis::Script::new(ACQUIRE_AND_ENQUEUE),
            cleanup: redis::Script::new(CLEANUP_REGISTRY),
        }
    }
}

impl RateLimits {
    /// `RateLimitRegistry.concurrency`: the key's configured limit, 0 when unset.
    async fn concurrency(&self, engine: &Engine, key: &str) -> redis::RedisResult<i64> {
        let mut con = engine.con.clone();
        let v: Option<String> = concurrency_cmd(&engine.keys, key)
            .query_async(&mut con)
            .await?;
        Ok(parse_concurrency(v))
    }

    /// `release_slot(job)`, called after the job's outcome is committed, with the status that
    /// outcome left. A failure is logged; maintenance frees a leaked slot.
    pub async fn job_ended(&self, engine: &Engine, job_id: &str, limit: &Limit, status: &str) {
        if !releases_slot(status) {
            return;
        }
        if let Err(e) = self.release(engine, job_id, &limit.key).await {
            warn!(job_id, key = %limit.key, "could not release the job's rate limit slot (maintenance will): {e}");
        }
    }

    async fn release(&self, engine: &Engine, job_id: &str, key: &str) -> redis::RedisResult<()> {
        let concurrency = self.concurrency(engine, key).await?;
        let at = now();
        let mut con = engine.con.clone();
        let promoted: Vec<String> = release_invocation(
            &self.release,
            &engine.keys,
            key,
            concurrency,
            job_id,
            unix_seconds(at),
            &format_datetime(at),
        )
        .invoke_async(&mut con)
        .await?;
        if !promoted.is_empty() {
            info!(key, promoted = ?promoted, "rate limit slot released; waiting jobs enqueued");
        }
        Ok(())
    }

    /// `RateLimitRegistry.cleanup()` for every key in `rq:rl-keys`.
    pub async fn cleanup_all(&self, engine: &Engine) -> redis::RedisResult<()> {
        let mut con = engine.con.clone();
        let keys: Vec<String> = keys_cmd(&engine.keys).query_async(&mut con).await?;
        for key in keys {
            self.cleanup_key(engine, &key).await?;
        }
        Ok(())
    }

    async fn cleanup_key(&self, engine: &Engine, key: &str) -> redis::RedisResult<()> {
        let keys = &engine.keys;
        let mut con = engine.con.clone();
        let concurrency = self.concurrency(engine, key).await?;
        // _release_stale_allowed_jobs: a slot whose job is not queued or started leaked.
        let allowed: Vec<String> = allowed_cmd(keys, key).query_async(&mut con).await?;
        if !allowed.is_empty() {
            let statuses: Vec<Option<String>> =
                statuses(keys, &allowed).query_async(&mut con).await?;
            for (id, st) in allowed.iter().zip(statuses) {
                if !slot_leaked(st.as_deref()) {
                    continue;
                }
                // The status may be stale by now; the script checks it again.
                let at = now();
                let promoted: Vec<String> = release_stale_invocation(
                    &self.release_stale,
                    keys,
                    key,
                    concurrency,
                    id,
                    unix_seconds(at),
                    &format_datetime(at),
                )
                .invoke_async(&mut con)
                .await?;
                info!(key, job_id = %id, promoted = ?promoted, "stale rate limit slot released");
            }
        }
        if concurrency > 0 {
            let at = now();
            let promoted: Vec<String> = acquire_invocation(
                &self.acquire,
                keys,
                key,
                concurrency,
                unix_seconds(at),
                &format_datetime(at),
            )
            .invoke_async(&mut con)
            .await?;
            if !promoted.is_empty() {
                info!(key, promoted = ?promoted, "free rate limit slots filled");
                return Ok(());
            }
        }
        let _: i64 = cleanup_invocation(&self.cleanup, keys, key)
            .invoke_async(&mut con)
            .await?;
        Ok(())
    }
}
