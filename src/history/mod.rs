//! Durable task history: every execution task-worker runs becomes a row of `task_executions`
//! in PostgreSQL (schema: `migrations/`, guide: docs/history.md), so "what ran, when, with what
//! outcome" can be answered long after Redis expired the job.
//!
//! [`History`] is an engine observer. The job path only pushes rows into a bounded in-memory
//! [`buffer::Buffer`] (never waits on PostgreSQL); a background [`writer::Writer`] writes them
//! in batches, one upsert statement per batch, and waits out outages. When the buffer is full
//! the worker stops taking new jobs until it drains, rather than drop a row. On shutdown
//! [`History::flush`] writes what is left, bounded by a deadline, and logs what could not be.
//!
//! * `buffer`: the bounded, merging buffer;
//! * `row`: one row, built from the engine's events; JSON mapping, redaction;
//! * `db`: connection, migrations, the upsert and attempt numbering;
//! * `writer`: the batching task; `retention`: deletion of old rows;
//! * `query`: the `task-worker history` command.

pub mod buffer;
pub mod db;
pub mod query;
pub mod retention;
pub mod row;
pub mod writer;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{error, info, warn};

use crate::config::RunConfig;
use buffer::Buffer;
use row::Row;
use rq_worker::events::{JobEnded, JobStarted, Observer};
use rq_worker::redact::redact_url;

/// The history sink; cheap to share (`Arc`).
pub struct History {
    buffer: Arc<Buffer>,
    writer: JoinHandle<()>,
    closing: watch::Sender<bool>,
    /// Whether the last `accepting` answer was "full" (to log the change once).
    paused: AtomicBool,
}

impl History {
    /// Starts the history sink when a database is configured; logs once when it is off.
    /// Does not wait for PostgreSQL: the writer connects (and applies the schema) in the
    /// background, retrying while it is down.
    pub fn from_config(cfg: &RunConfig) -> anyhow::Result<Option<Arc<History>>> {
        let Some(url) = &cfg.database_url else {
            info!("task history: off (no database configured)");
            return Ok(None);
        };
        let history = History::start(url, cfg.history_buffer, cfg.history_retention_days)?;
        info!(
            database = %redact_url(url),
            buffer = cfg.history_buffer,
            retention_days = cfg.history_retention_days.unwrap_or(0),
            "task history: on"
        );
        Ok(Some(Arc::new(history)))
    }

    pub fn start(url: &str, capacity: usize, retention_days: Option<u32>) -> anyhow::Result<Self> {
        let opts = db::connect_options(url)?;
        let buffer = Arc::new(Buffer::new(capacity));
        let (closing, closing_rx) = watch::channel(false);
        let writer = writer::Writer {
            pool: db::lazy_pool(opts.clone()),
            opts,
            buffer: buffer.clone(),
            retention_days,
            closing: closing_rx,
        };
        Ok(History {
            buffer,
            writer: tokio::spawn(writer.run()),
            closing,
            paused: AtomicBool::new(false),
        })
    }

    /// Rows not yet written.
    pub fn pending(&self) -> usize {
        self.buffer.pending()
    }

    /// Writes what is buffered, waiting at most until `deadline`; then stops the writer and
    /// logs how many rows could not be written. Returns that count.
    pub async fn flush(&self, deadline: tokio::time::Instant) -> usize {
        self.closing.send_replace(true);
        self.buffer.pushed.notify_one();
        loop {
            if self.buffer.pending() == 0 {
                break;
            }
            let written = self.buffer.written.notified();
            tokio::select! {
                _ = written => {}
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                _ = tokio::time::sleep_until(deadline) => break,
            }
        }
        self.writer.abort();
        let left = self.buffer.pending();
        if left > 0 {
            error!(
                rows = left,
                "task history: {left} rows could not be written to PostgreSQL before shutdown; they are lost"
            );
        } else {
            info!("task history: all rows written");
        }
        left
    }
}

impl Drop for History {
    fn drop(&mut self) {
        self.writer.abort();
    }
}

impl Observer for History {
    fn stop(&self, deadline: tokio::time::Instant) -> rq_worker::events::StopFuture<'_> {
        Box::pin(async move {
            self.flush(deadline).await;
        })
    }

    fn job_started(&self, ev: &JobStarted<'_>) {
        self.buffer.push(Row::started(ev));
    }

    fn job_ended(&self, ev: &JobEnded<'_>) {
        self.buffer.push(Row::ended(ev));
    }

    fn accepting(&self) -> bool {
        let room = self.buffer.has_room();
        let was_paused = self.paused.swap(!room, Ordering::Relaxed);
        if !room && !was_paused {
            warn!(
                capacity = self.buffer.capacity(),
                "task history: buffer full; not taking new jobs until PostgreSQL catches up"
            );
        } else if room && was_paused {
            info!("task history: buffer has room again; taking jobs");
        }
        room
    }
}
