//! Connections to Redis at start-up: wait with backoff, log each attempt.

use std::time::Duration;

use anyhow::{bail, Context};
use tracing::{info, warn};

use super::shutdown::Shutdown;
use crate::backoff::Backoff;
use crate::connection::{Redis, RedisConnection};
use crate::redact::redact_url;

/// Response timeout of ordinary commands; blocking commands use their own connections.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(15);

/// A self-reconnecting multiplexed connection (following the master with Sentinel).
pub async fn manager(
    redis: &Redis,
    response_timeout: Option<Duration>,
) -> redis::RedisResult<RedisConnection> {
    redis.manager(response_timeout).await
}

/// Waits for Redis to answer PING, with exponential backoff (0.5 s … 10 s). Returns `None` when
/// shutdown was requested while waiting.
pub async fn wait_for_redis(
    redis: &Redis,
    url: &str,
    shutdown: &Shutdown,
) -> Option<RedisConnection> {
    let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(10));
    loop {
        let attempt = backoff.attempts() + 1;
        let result = async {
            let mut con = manager(redis, Some(COMMAND_TIMEOUT)).await?;
            redis::cmd("PING").query_async::<String>(&mut con).await?;
            Ok::<_, redis::RedisError>(con)
        }
        .await;
        match result {
            Ok(con) => {
                match redis.master_addr() {
                    Some(master) => {
                        info!(master = %master, attempt, "connected to the Redis master")
                    }
                    None => info!(redis = %redact_url(url), attempt, "connected to Redis"),
                }
                return Some(con);
            }
            Err(e) => warn!(
                redis = %redact_url(url),
                attempt,
                retry_in_ms = backoff.peek().as_millis() as u64,
                "Redis is not reachable yet: {e}"
            ),
        }
        if shutdown.wait_timeout(backoff.next_delay()).await {
            return None;
        }
    }
}

/// Redis ≥ 6.2 is needed for `LMOVE`/`BLMOVE` (rq-protocol.md §10).
pub async fn check_server_version(con: &mut RedisConnection) -> anyhow::Result<String> {
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query_async(con)
        .await
        .context("INFO server failed")?;
    let version = info
        .lines()
        .find_map(|l| l.strip_prefix("redis_version:"))
        .unwrap_or("0")
        .trim()
        .to_string();
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if (major, minor) < (6, 2) {
        bail!("Redis {version} is too old: the worker needs Redis 6.2 or newer (LMOVE/BLMOVE)");
    }
    Ok(version)
}

/// Our connection's `addr` as Redis sees it (RQ's `ip_address`), or `unknown`.
pub async fn own_address(con: &mut RedisConnection) -> String {
    let info: redis::RedisResult<String> = redis::cmd("CLIENT").arg("INFO").query_async(con).await;
    info.ok()
        .and_then(|s| {
            s.split_whitespace()
                .find_map(|kv| kv.strip_prefix("addr=").map(str::to_string))
        })
        .unwrap_or_else(|| "unknown".to_string())
}
