//! The exception texts a job's failure carries (rq-protocol.md §9.2): the exception types and
//! messages RQ's own worker writes, and the Python-looking traceback around them. Users and
//! dashboards grep these texts, so they are exact; nothing else in the worker spells them.

use super::time::Timestamp;

/// `rq.timeouts.JobTimeoutException`: the job (or a callback) ran past its timeout.
pub const JOB_TIMEOUT: &str = "rq.timeouts.JobTimeoutException";
/// `rq.exceptions.DeserializationError`: the job's `data` cannot be read.
pub const DESERIALIZATION: &str = "rq.exceptions.DeserializationError";
/// `rq.exceptions.ShutDownImminentException`: the worker stopped before the job ended.
pub const SHUTDOWN_IMMINENT: &str = "rq.exceptions.ShutDownImminentException";
/// `rq.exceptions.AbandonedJobError`: the job's worker stopped heartbeating.
pub const ABANDONED: &str = "rq.exceptions.AbandonedJobError";

/// RQ's timeout message: `Task exceeded maximum timeout value (N seconds)`.
pub fn timeout_message(secs: i64) -> String {
    format!("Task exceeded maximum timeout value ({secs} seconds)")
}

/// What RQ's worker writes for a job ended by `stop-job` (the whole `exc_string`, no traceback).
pub const STOPPED_TEXT: &str = "Job stopped by user, work-horse terminated.";
/// What RQ's worker writes when the work horse is killed (`kill-horse`); RQ's text ends with a
/// space after the semicolon (its `waitpid` detail is empty), kept as it is.
pub const KILLED_TEXT: &str = "Work-horse terminated unexpectedly; waitpid returned 9 (signal 9); ";
/// The message of a job handed back at shutdown (`--requeue-on-shutdown`); not RQ's (RQ has no
/// hand-back), but under RQ's exception type.
pub const SHUTDOWN_REQUEUED_MESSAGE: &str =
    "task-worker was shut down before the job finished; the job was put back at the front of its queue";
/// The message of a job failed at shutdown, after the shutdown timeout.
pub const SHUTDOWN_MESSAGE: &str = "task-worker was shut down before the job finished";

/// A Python-looking traceback whose last line is `last_line` (`<Type>: <message>`, §9.2);
/// `location` stands where Python names the function.
pub fn exc_string(location: &str, last_line: &str) -> String {
    format!(
        "Traceback (most recent call last):\n  File \"task-worker\", in {location}\n{last_line}\n"
    )
}

/// The text RQ 2.2+ stores for an abandoned job (§9.2): `str(datetime)` of now, with `+00:00`.
pub fn abandoned_text(now: Timestamp) -> String {
    // Python's str(datetime) drops the fraction when it is zero.
    let fmt = if now.timestamp_subsec_micros() == 0 {
        "%Y-%m-%d %H:%M:%S+00:00"
    } else {
        "%Y-%m-%d %H:%M:%S%.6f+00:00"
    };
    format!(
        "Moved to FailedJobRegistry, due to AbandonedJobError, at {}",
        now.format(fmt)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abandoned_text_like_python_str_datetime() {
        use chrono::TimeZone;
        let t = chrono::Utc
            .with_ymd_and_hms(2026, 11, 29, 5, 47, 27)
            .unwrap()
            + chrono::Duration::microseconds(405_267);
        assert_eq!(
            abandoned_text(t),
            "Moved to FailedJobRegistry, due to AbandonedJobError, at 2026-11-29 05:47:27.405267+00:00"
        );
    }

    #[test]
    fn traceback_ends_with_the_exception_line() {
        assert_eq!(
            exc_string("noop", &format!("{JOB_TIMEOUT}: {}", timeout_message(3))),
            "Traceback (most recent call last):\n  File \"task-worker\", in noop\nrq.timeouts.JobTimeoutException: Task exceeded maximum timeout value (3 seconds)\n"
        );
    }
}
