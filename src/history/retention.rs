//! `--history-retention-days`: deletes old rows in small batches, in its own task, so it never
//! holds long locks or delays the writer. Runs once the schema is ready, then hourly. With many
//! replicas each one runs it; deleting is idempotent, so they only share the work.

use std::time::Duration;

use sqlx::PgPool;
use tracing::{info, warn};

use super::db;

const DELETE_BATCH: i64 = 1000;
const PAUSE_BETWEEN_BATCHES: Duration = Duration::from_millis(100);
const EVERY: Duration = Duration::from_secs(3600);
const RETRY_AFTER_ERROR: Duration = Duration::from_secs(60);

pub async fn run(pool: PgPool, days: u32) {
    info!(
        days,
        "task history: rows older than {days} days are deleted hourly"
    );
    loop {
        let mut total = 0u64;
        let wait = loop {
            match db::delete_older_than(&pool, days, DELETE_BATCH).await {
                Ok(n) => {
                    total += n;
                    if n < DELETE_BATCH as u64 {
                        break EVERY;
                    }
                    tokio::time::sleep(PAUSE_BETWEEN_BATCHES).await;
                }
                Err(e) => {
                    crate::metrics::postgres_error();
                    warn!("task history: retention delete failed (retrying later): {e}");
                    break RETRY_AFTER_ERROR;
                }
            }
        };
        if total > 0 {
            info!(deleted = total, days, "task history: deleted old rows");
        }
        tokio::time::sleep(wait).await;
    }
}
