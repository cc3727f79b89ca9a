//! The end of a job that returned a `Retry` (RQ ≥ 2.12, `Worker.handle_job_retry` and
//! `Job._handle_retry_result`): the job runs again, counted in its `number_of_retries`, until
//! `Retry.max` is reached; then it fails. Either way the attempt's result records the `Retry`
//! as its `return_value` (type 4 `RETRIED`, or 5 `MAX_RETRIES_EXCEEDED`), kept as long as a
//! failure (`failure_ttl`), and the attempt counts as a failed job in the worker's counters.

use redis::Pipeline;

use super::end::{
    add_result, add_to_failed_registry, counters, release_execution, run_again, terminal_job_fields,
};
use super::{result_type, Execution, RetryPlan};
use crate::keys::Keys;
use crate::time::Timestamp;

/// A job's end after it returned a `Retry` ([`super::JobEnd::RetryReturned`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RetryReturned {
    /// The result's `return_value` field: base64 of `serializer.dumps(retry)`.
    pub return_value: Option<String>,
    /// The job's `failure_ttl` as its hash gives it (`None`: unset).
    pub failure_ttl: Option<i64>,
    /// `number_of_retries` after this attempt and where the job goes next; `None` when
    /// `Retry.max` was reached: the job fails.
    pub next: Option<(i64, RetryPlan)>,
}

impl RetryReturned {
    /// RQ's decision: with `number_of_retries` (the job's field, `None` when unset) already at
    /// `max` or above (and not 0), the job fails; otherwise it runs again after
    /// `Retry.get_interval(number_of_retries, intervals)` seconds (`intervals[min(len − 1,
    /// count)]`, 0 without intervals): at once at the end of its queue, or scheduled.
    pub fn decide(
        number_of_retries: Option<i64>,
        max: i64,
        intervals: &[i64],
        return_value: Option<String>,
        failure_ttl: Option<i64>,
    ) -> RetryReturned {
        let count = number_of_retries.unwrap_or(0);
        let next = if count != 0 && count >= max {
            None
        } else {
            let interval = retry_returned_interval(count, intervals);
            let plan = if interval > 0 {
                RetryPlan::Schedule { interval }
            } else {
                RetryPlan::Requeue { at_front: false }
            };
            Some((count + 1, plan))
        };
        RetryReturned {
            return_value,
            failure_ttl,
            next,
        }
    }

    /// The job's status once this end is written.
    pub fn status_after(&self) -> &'static str {
        match &self.next {
            Some((_, plan)) => plan.status_after(),
            None => crate::job::status::FAILED,
        }
    }

    /// Appends the end's transaction for execution `e`, ended at `ended_at` (no replies).
    pub fn write(&self, p: &mut Pipeline, keys: &Keys, e: &Execution, ended_at: Timestamp) {
        let working = (ended_at - e.started_at).num_microseconds().unwrap_or(0) as f64 / 1e6;
        let kind = match &self.next {
            Some(_) => result_type::RETRIED,
            None => result_type::MAX_RETRIES_EXCEEDED,
        };
        match &self.next {
            Some((count, plan)) => {
                run_again(p, keys, e, ("number_of_retries", *count), plan, ended_at);
            }
            None => {
                // `set_status(FAILED)` and `FailedJobRegistry.add(job, ttl=failure_ttl)`.
                terminal_job_fields(p, keys, e, crate::job::status::FAILED, ended_at);
                add_to_failed_registry(p, keys, e, self.failure_ttl, ended_at);
            }
        }
        add_result(
            p,
            keys,
            e,
            kind,
            ("return_value", self.return_value.as_deref()),
            ended_at,
        );
        // `Result.save(ttl=failure_ttl)`: kept forever for -1, expired otherwise when set.
        match self.failure_ttl {
            Some(-1) => {
                p.cmd("PERSIST").arg(keys.results(&e.job_id)).ignore();
            }
            Some(t) => {
                p.cmd("EXPIRE").arg(keys.results(&e.job_id)).arg(t).ignore();
            }
            None => {}
        }
        counters(p, keys, e, "failed_job_count", working);
        release_execution(p, keys, e, ended_at);
    }
}

/// RQ ≥ 2.12's `Retry.get_interval(count, intervals)`: `intervals[min(len − 1, count)]`, 0
/// without intervals.
pub fn retry_returned_interval(count: i64, intervals: &[i64]) -> i64 {
    if intervals.is_empty() {
        return 0;
    }
    let idx = (count.max(0) as usize).min(intervals.len() - 1);
    intervals.get(idx).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decides_as_rq() {
        // Retry(max=2, interval=[5, 7]): first return → retry 1 in 5 s; second → retry 2 in 7 s;
        // third → failed.
        let d = |n| RetryReturned::decide(n, 2, &[5, 7], None, None).next;
        assert_eq!(d(None), Some((1, RetryPlan::Schedule { interval: 5 })));
        assert_eq!(d(Some(1)), Some((2, RetryPlan::Schedule { interval: 7 })));
        assert_eq!(d(Some(2)), None);
        // No interval: straight back at the end of the queue; max 0 still retries once.
        let once = RetryReturned::decide(None, 0, &[], None, None);
        assert_eq!(once.next, Some((1, RetryPlan::Requeue { at_front: false })));
        assert_eq!(retry_returned_interval(9, &[1, 2, 3]), 3);
    }
}
