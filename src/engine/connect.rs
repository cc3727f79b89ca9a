//! Connections to Redis and the backend API at start-up: wait with backoff, log each attempt.

use std::time::Duration;

use anyhow::{bail, Context};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tracing::{info, warn};

use super::shutdown::Shutdown;
use crate::backoff::Backoff;
use crate::redact::redact_url;

/// Response timeout of ordinary commands; blocking commands use their own connections.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(15);

/// A self-reconnecting multiplexed connection.
pub async fn manager(
    client: &redis::Client,
    response_timeout: Option<Duration>,
) -> redis::RedisResult<ConnectionManager> {
    let cfg = ConnectionManagerConfig::new()
        .set_response_timeout(response_timeout)
        .set_connection_timeout(Some(Duration::from_secs(5)))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_secs(2));
    ConnectionManager::new_with_config(client.clone(), cfg).await
}

/// Waits for Redis to answer PING, with exponential backoff (0.5 s … 10 s). Returns `None` when
/// shutdown was requested while waiting.
pub async fn wait_for_redis(
    client: &redis::Client,
    url: &str,
    shutdown: &Shutdown,
) -> Option<ConnectionManager> {
    let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(10));
    loop {
        let attempt = backoff.attempts() + 1;
        let result = async {
            let mut con = manager(client, Some(COMMAND_TIMEOUT)).await?;
            redis::cmd("PING").query_async::<String>(&mut con).await?;
            Ok::<_, redis::RedisError>(con)
        }
        .await;
        match result {
            Ok(con) => {
                info!(redis = %redact_url(url), attempt, "connected to Redis");
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
pub async fn check_server_version(con: &mut ConnectionManager) -> anyhow::Result<String> {
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
        bail!("Redis {version} is too old: task-worker needs Redis 6.2 or newer (LMOVE/BLMOVE)");
    }
    Ok(version)
}

/// Waits until `GET <api>/info` answers 200 (no auth, 5 s timeout, every 5 s). A 404 is accepted
/// with a warning: the API answers it when its optional VSC_* settings are missing
/// (ctutor-tasks.md §4). Returns false when shutdown was requested while waiting.
pub async fn wait_for_api(api_url: &str, shutdown: &Shutdown) -> bool {
    let http = match reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            warn!("cannot build HTTP client for the API wait ({e}); skipping it");
            return true;
        }
    };
    let url = format!("{api_url}/info");
    // The README's promise: retried every 5 s until it answers.
    let mut backoff = Backoff::constant(Duration::from_secs(5));
    loop {
        let attempt = backoff.attempts() + 1;
        match http.get(&url).send().await {
            Ok(r) if r.status().is_success() => {
                info!(api = %api_url, attempt, "backend API is up");
                return true;
            }
            Ok(r) if r.status() == reqwest::StatusCode::NOT_FOUND => {
                warn!(api = %api_url, "GET /info answered 404; treating the API as up");
                return true;
            }
            Ok(r) => {
                warn!(api = %api_url, attempt, status = r.status().as_u16(), "backend API not ready")
            }
            Err(e) => {
                warn!(api = %api_url, attempt, "backend API not reachable: {}", e.without_url())
            }
        }
        if shutdown.wait_timeout(backoff.next_delay()).await {
            return false;
        }
    }
}

/// Our connection's `addr` as Redis sees it (RQ's `ip_address`), or `unknown`.
pub async fn own_address(con: &mut ConnectionManager) -> String {
    let info: redis::RedisResult<String> = redis::cmd("CLIENT").arg("INFO").query_async(con).await;
    info.ok()
        .and_then(|s| {
            s.split_whitespace()
                .find_map(|kv| kv.strip_prefix("addr=").map(str::to_string))
        })
        .unwrap_or_else(|| "unknown".to_string())
}
