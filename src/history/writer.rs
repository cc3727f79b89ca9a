//! The background task that moves rows from the buffer to PostgreSQL in batches.
//!
//! It applies the schema first (retrying until PostgreSQL answers), then loops: wait for rows,
//! linger briefly so a burst becomes one batch, take up to [`BATCH_ROWS`], write them in one
//! transaction, acknowledge. A failed write is retried with backoff, the same batch again and
//! again (writes are idempotent, and keeping the batch keeps per-execution order), while the
//! job path keeps buffering. An outage is logged once when it starts and once when it ends.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool};
use tokio::sync::watch;
use tracing::{debug, error, info, warn};

use rq_worker::backoff::Backoff;

use super::buffer::Buffer;
use super::db;
use super::row::Row;

/// Rows per batch (one upsert statement with 15 array parameters, whatever the count).
pub const BATCH_ROWS: usize = 1000;
/// How long the writer waits for more rows before writing a partial batch.
const LINGER: Duration = Duration::from_millis(200);
/// How long a start row waits for its job's end before it is written alone (see
/// `Buffer::take`). A running job's row appears in the table at most this late.
const HOLD_START: Duration = Duration::from_secs(1);
/// Upper bound on one batch write; beyond it the write counts as failed and is retried.
const WRITE_TIMEOUT: Duration = Duration::from_secs(40);
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

pub struct Writer {
    pub opts: PgConnectOptions,
    pub pool: PgPool,
    pub buffer: Arc<Buffer>,
    pub retention_days: Option<u32>,
    /// Turns `true` on shutdown: write without lingering.
    pub closing: watch::Receiver<bool>,
}

/// Logs an outage once when it starts and once when it ends.
#[derive(Default)]
struct Health {
    down: bool,
}

impl Health {
    fn failed(&mut self, what: &str, e: &dyn std::fmt::Display, buffered: usize) {
        crate::metrics::postgres_error();
        if self.down {
            debug!(buffered, "task history: {what} failed again: {e}");
        } else {
            warn!(
                buffered,
                "task history: PostgreSQL unavailable ({what}: {e}); jobs keep running, rows are buffered and written when it is back"
            );
            self.down = true;
        }
    }

    fn ok(&mut self, buffered: usize) {
        if self.down {
            info!(
                buffered,
                "task history: PostgreSQL available again; writing buffered rows"
            );
            self.down = false;
        }
    }
}

impl Writer {
    pub async fn run(mut self) {
        let mut health = Health::default();
        let mut backoff = Backoff::new(FIRST_BACKOFF, MAX_BACKOFF);
        loop {
            match db::migrate(&self.opts).await {
                Ok(()) => {
                    health.ok(self.buffer.pending());
                    info!("task history: schema ready (table task_executions)");
                    break;
                }
                Err(e) => {
                    health.failed(
                        "applying the schema",
                        &rq_worker::error_text(&e),
                        self.buffer.pending(),
                    );
                    backoff.wait().await;
                }
            }
        }
        // Aborted with the writer (the guard is dropped when this future is).
        let _retention = self
            .retention_days
            .map(|days| AbortOnDrop(tokio::spawn(super::retention::run(self.pool.clone(), days))));
        let mut closing_open = true;
        loop {
            if self.buffer.waiting() == 0 {
                tokio::select! {
                    _ = self.buffer.pushed.notified() => {}
                    r = self.closing.changed(), if closing_open => closing_open = r.is_ok(),
                }
            }
            // Linger before every partial batch, not only after an idle spell: each batch has a
            // fixed cost (transaction, lock, renumber), so fewer, fuller batches are cheaper.
            // It ends early once a full batch is waiting, so the writer keeps up with any rate.
            let deadline = tokio::time::Instant::now() + LINGER;
            while self.buffer.waiting() < BATCH_ROWS && !*self.closing.borrow() {
                tokio::select! {
                    _ = tokio::time::sleep_until(deadline) => break,
                    _ = self.buffer.pushed.notified() => {}
                    r = self.closing.changed(), if closing_open => closing_open = r.is_ok(),
                }
            }
            let hold = if *self.closing.borrow() {
                Duration::ZERO
            } else {
                HOLD_START
            };
            let batch = self.buffer.take(BATCH_ROWS, hold);
            if batch.is_empty() {
                // Only young start rows are waiting: wait for more rows or for them to age.
                tokio::select! {
                    _ = self.buffer.pushed.notified() => {}
                    _ = tokio::time::sleep(HOLD_START / 4) => {}
                    r = self.closing.changed(), if closing_open => closing_open = r.is_ok(),
                }
                continue;
            }
            let mut backoff = Backoff::new(FIRST_BACKOFF, MAX_BACKOFF);
            loop {
                match tokio::time::timeout(WRITE_TIMEOUT, write_isolating(&self.pool, &batch)).await
                {
                    Ok(Ok(())) => {
                        health.ok(self.buffer.pending());
                        break;
                    }
                    Ok(Err(e)) => health.failed("writing rows", &e, self.buffer.pending()),
                    Err(_) => health.failed(
                        "writing rows",
                        &format!("no answer within {WRITE_TIMEOUT:?}"),
                        self.buffer.pending(),
                    ),
                }
                backoff.wait().await;
            }
            self.buffer.done(batch.len());
        }
    }
}

/// Writes `rows`; a batch PostgreSQL refuses for its data is split until the refused rows are
/// found, which are logged and dropped so that they cannot block every later row. Returns the
/// first transient error (the caller retries the whole batch; rewriting is harmless).
async fn write_isolating(pool: &PgPool, rows: &[Row]) -> Result<(), sqlx::Error> {
    let mut stack: Vec<&[Row]> = vec![rows];
    while let Some(part) = stack.pop() {
        match db::write_batch(pool, part).await {
            Ok(()) => {}
            Err(e) if db::is_transient(&e) => return Err(e),
            Err(e) if part.len() == 1 => {
                error!(
                    job_id = %part[0].job_id,
                    execution_id = %part[0].execution_id,
                    "task history: PostgreSQL refused the row; it is not recorded: {e}"
                );
            }
            Err(_) => {
                let (a, b) = part.split_at(part.len() / 2);
                stack.push(b);
                stack.push(a);
            }
        }
    }
    Ok(())
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
