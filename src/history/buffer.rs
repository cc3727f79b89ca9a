//! The bounded in-memory buffer between the job path and the PostgreSQL writer.
//!
//! Rows are kept in arrival order, one entry per execution: a start and its end that are both
//! still waiting merge into one row (so a batch never holds a key twice, which an
//! `INSERT … ON CONFLICT DO UPDATE` would refuse). Pushing never blocks and never drops a row;
//! the bound is enforced by [`Buffer::has_room`], which the engine uses to stop taking new jobs
//! (`Observer::accepting`). Jobs already running still add their end rows, so the buffer can
//! exceed its capacity by at most two rows per concurrently running job.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::row::{Key, Row};

pub struct Buffer {
    capacity: usize,
    inner: Mutex<Inner>,
    /// Wakes the writer when rows arrive.
    pub pushed: Notify,
    /// Wakes flushers when a batch was written.
    pub written: Notify,
}

#[derive(Default)]
struct Inner {
    rows: HashMap<Key, Row>,
    /// Keys in arrival order, with the arrival time of their first row.
    order: VecDeque<(Key, Instant)>,
    /// Rows taken by the writer and not yet acknowledged.
    in_flight: usize,
}

impl Buffer {
    pub fn new(capacity: usize) -> Self {
        Buffer {
            capacity: capacity.max(1),
            inner: Mutex::new(Inner::default()),
            pushed: Notify::new(),
            written: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent data (no partial updates).
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Adds a row, merging it into a waiting row of the same execution.
    pub fn push(&self, row: Row) {
        {
            let mut inner = self.lock();
            let key = row.key();
            match inner.rows.get_mut(&key) {
                Some(existing) => existing.merge(row),
                None => {
                    inner.order.push_back((key.clone(), Instant::now()));
                    inner.rows.insert(key, row);
                }
            }
            crate::metrics::set_history_buffer((inner.rows.len() + inner.in_flight) as i64);
        }
        self.pushed.notify_one();
    }

    /// Takes up to `max` of the oldest rows for writing; acknowledge them with [`Buffer::done`].
    ///
    /// A start row younger than `hold` stays behind: most jobs end within it, and their end then
    /// merges into the same row, so PostgreSQL writes each short job once instead of inserting
    /// it and updating it (issue 8: the update path cost more than the insert). Rows behind it
    /// are still taken; order within one execution is kept because it is one row.
    pub fn take(&self, max: usize, hold: Duration) -> Vec<Row> {
        let now = Instant::now();
        let mut inner = self.lock();
        let mut batch = Vec::with_capacity(max.min(inner.order.len()));
        let mut kept = Vec::new();
        while batch.len() < max {
            let Some((key, at)) = inner.order.pop_front() else {
                break;
            };
            let young_start = now.duration_since(at) < hold
                && inner
                    .rows
                    .get(&key)
                    .is_some_and(|r| !r.status.is_terminal());
            if young_start {
                kept.push((key, at));
                continue;
            }
            if let Some(row) = inner.rows.remove(&key) {
                batch.push(row);
            }
        }
        for entry in kept.into_iter().rev() {
            inner.order.push_front(entry);
        }
        inner.in_flight += batch.len();
        batch
    }

    /// Acknowledges `n` taken rows (written, or given up on).
    pub fn done(&self, n: usize) {
        {
            let mut inner = self.lock();
            inner.in_flight = inner.in_flight.saturating_sub(n);
            crate::metrics::set_history_buffer((inner.rows.len() + inner.in_flight) as i64);
        }
        self.written.notify_waiters();
    }

    /// Rows not yet written: waiting plus in flight.
    pub fn pending(&self) -> usize {
        let inner = self.lock();
        inner.rows.len() + inner.in_flight
    }

    /// Rows waiting to be taken.
    pub fn waiting(&self) -> usize {
        self.lock().rows.len()
    }

    pub fn has_room(&self) -> bool {
        self.pending() < self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::super::row::Status;
    use super::*;

    fn row(job: &str, status: Status) -> Row {
        Row::bare(job, status)
    }

    #[test]
    fn start_and_end_merge_and_order_is_kept() {
        let b = Buffer::new(3);
        b.push(row("a", Status::Started));
        b.push(row("b", Status::Started));
        b.push(row("a", Status::Finished));
        assert_eq!(b.pending(), 2);
        let batch = b.take(10, Duration::ZERO);
        assert_eq!(batch.len(), 2);
        assert_eq!(batch[0].job_id, "a");
        assert_eq!(batch[0].status, Status::Finished);
        assert_eq!(batch[1].job_id, "b");
        // In flight still counts until acknowledged.
        assert_eq!(b.pending(), 2);
        assert_eq!(b.waiting(), 0);
        b.done(2);
        assert_eq!(b.pending(), 0);
    }

    #[test]
    fn young_starts_wait_for_their_end() {
        let b = Buffer::new(10);
        b.push(row("a", Status::Started));
        b.push(row("b", Status::Finished));
        b.push(row("c", Status::Started));
        let hold = Duration::from_secs(60);
        let batch = b.take(10, hold);
        assert_eq!(batch.len(), 1);
        assert_eq!(batch[0].job_id, "b");
        b.done(1);
        // The end of `a` merges into its waiting start: one row, terminal.
        b.push(row("a", Status::Finished));
        let batch = b.take(10, hold);
        assert_eq!(batch.len(), 1);
        assert_eq!(
            (batch[0].job_id.as_str(), batch[0].status),
            ("a", Status::Finished)
        );
        b.done(1);
        // Without a hold (shutdown, or old enough) the start is written as it is.
        let batch = b.take(10, Duration::ZERO);
        assert_eq!(batch.len(), 1);
        assert_eq!(batch[0].job_id, "c");
    }

    #[test]
    fn full_buffer_refuses_room_but_keeps_rows() {
        let b = Buffer::new(2);
        b.push(row("a", Status::Started));
        assert!(b.has_room());
        b.push(row("b", Status::Started));
        assert!(!b.has_room());
        // Ends of running jobs are still accepted, never dropped.
        b.push(row("c", Status::Failed));
        assert_eq!(b.pending(), 3);
        let first = b.take(2, Duration::ZERO);
        assert_eq!(first.len(), 2);
        assert!(!b.has_room());
        b.done(2);
        assert!(b.has_room());
        assert_eq!(b.take(5, Duration::ZERO).len(), 1);
    }
}
