//! RQ's rules for running a job again (rq-protocol.md §6.8, §7.6): `Retry(max, interval)` after
//! a failure and `Repeat(times, interval)` after a success. Interval 0 puts the job straight
//! back on its queue; a positive interval schedules it in `rq:scheduled:<q>`.

use super::job::{JobHash, JobSettings};

/// Where a job that runs again goes next (§6.8 "With retry", §7.6).
#[derive(Debug, Clone, PartialEq)]
pub enum RetryPlan {
    /// Interval 0: back onto its queue at once (front when `enqueue_at_front_on_retry`).
    Requeue {
        /// To the front of the queue (`enqueue_at_front_on_retry`), else to its end.
        at_front: bool,
    },
    /// Interval > 0: into `rq:scheduled:<q>` at now + interval.
    Schedule {
        /// Seconds from now.
        interval: i64,
    },
}

impl RetryPlan {
    /// The job's status once the plan is written.
    pub fn status_after(&self) -> &'static str {
        match self {
            RetryPlan::Requeue { .. } => super::job::status::QUEUED,
            RetryPlan::Schedule { .. } => super::job::status::SCHEDULED,
        }
    }
}

/// A successful job with `repeats_left > 0` (§7.6).
#[derive(Debug, Clone, PartialEq)]
pub struct Repeat {
    /// `repeats_left` once this repeat is used.
    pub repeats_left_after: i64,
    /// When the job runs again.
    pub plan: RetryPlan,
}

/// RQ's `Job.get_retry_interval`: `intervals[max(len − retries_left, 0)]`, read before the
/// decrement; no intervals means 0.
pub fn retry_interval(intervals: &[i64], retries_left: i64) -> i64 {
    if intervals.is_empty() {
        return 0;
    }
    let idx = (intervals.len() as i64 - retries_left).max(0) as usize;
    intervals
        .get(idx)
        .or(intervals.last())
        .copied()
        .unwrap_or(0)
}

/// `Repeat.get_interval`: `intervals[repeats_left − 1]`, or the last one; none means 0.
pub fn repeat_interval(intervals: &[i64], repeats_left: i64) -> i64 {
    let idx = (repeats_left - 1).max(0) as usize;
    intervals
        .get(idx)
        .or(intervals.last())
        .copied()
        .unwrap_or(0)
}

/// A failed job with retries left runs again (`job.retry()`): returns `retries_left` after the
/// decrement and where it goes, or `None` when no retry is left. The caller decides whether the
/// failure may be retried at all (RQ never retries a stopped job).
pub fn after_failure(settings: &JobSettings, hash: &JobHash) -> Option<(i64, RetryPlan)> {
    let retries_left = settings.retries_left.unwrap_or(0);
    if retries_left <= 0 {
        return None;
    }
    let intervals = settings.retry_intervals.as_deref().unwrap_or_default();
    let interval = retry_interval(intervals, retries_left);
    let plan = if interval > 0 {
        RetryPlan::Schedule { interval }
    } else {
        RetryPlan::Requeue {
            at_front: hash.enqueue_at_front_on_retry(),
        }
    };
    Some((retries_left - 1, plan))
}

/// §7.6: a successful job with `repeats_left > 0` is enqueued (at the back) or scheduled again.
pub fn after_success(hash: &JobHash) -> Option<Repeat> {
    let left = hash.repeats_left().ok().flatten().filter(|n| *n > 0)?;
    let intervals = hash.repeat_intervals().ok().flatten().unwrap_or_default();
    let interval = repeat_interval(&intervals, left);
    Some(Repeat {
        repeats_left_after: left - 1,
        plan: if interval > 0 {
            RetryPlan::Schedule { interval }
        } else {
            RetryPlan::Requeue { at_front: false }
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeat_interval_like_rq() {
        // Repeat(times=3, interval=[1, 2]): repeats_left 3 → index 2 → last (2); 1 → index 0 → 1.
        assert_eq!(repeat_interval(&[1, 2], 3), 2);
        assert_eq!(repeat_interval(&[1, 2], 1), 1);
        assert_eq!(repeat_interval(&[], 2), 0);
    }

    #[test]
    fn retry_interval_like_rq() {
        // Retry(max=2, interval=[0, 1]): first retry (retries_left 2) → 0, second → 1.
        assert_eq!(retry_interval(&[0, 1], 2), 0);
        assert_eq!(retry_interval(&[0, 1], 1), 1);
        assert_eq!(retry_interval(&[10], 3), 10);
        assert_eq!(retry_interval(&[], 1), 0);
    }
}
