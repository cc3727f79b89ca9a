//! Time formats RQ writes and reads (rq-protocol.md §1).
//!
//! * hash datetimes: UTC `%Y-%m-%dT%H:%M:%S.%fZ`, always 6 fractional digits; `rq.utils.utcparse`
//!   rejects offsets and more than 6 digits, which would crash `Job.fetch` and `Worker.all()`;
//! * registry scores: integer Unix seconds (`calendar.timegm`, fraction dropped);
//! * execution and result timestamps: float Unix seconds as Python `repr(float)` writes them.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

/// An instant in UTC, as RQ records it.
pub type Timestamp = DateTime<Utc>;

/// The current instant.
pub fn now() -> Timestamp {
    Utc::now()
}

/// `2026-11-29T05:46:39.030059Z`
pub fn format_datetime(t: Timestamp) -> String {
    use chrono::{Datelike, Timelike};
    use std::fmt::Write;
    // Written out by hand: chrono's `format` parses the pattern on every call, and this runs
    // several times per job.
    let mut s = String::with_capacity(27);
    let _ = write!(
        s,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        // Leap-second nanoseconds run past 1e9: keep it to six digits.
        t.timestamp_subsec_micros() % 1_000_000
    );
    s
}

/// Parses what `rq.utils.utcparse` accepts: `…%S.%fZ` (1-6 digits) or `…%SZ`.
pub fn parse_datetime(s: &str) -> Option<Timestamp> {
    let body = s.strip_suffix('Z')?;
    let parsed = NaiveDateTime::parse_from_str(body, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(body, "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    Some(Utc.from_utc_datetime(&parsed))
}

/// Registry score: whole Unix seconds, fraction dropped (`rq.utils.current_timestamp`).
pub fn unix_seconds(t: Timestamp) -> i64 {
    t.timestamp()
}

/// Float Unix seconds, for execution hashes and result stream fields.
pub fn unix_float(t: Timestamp) -> f64 {
    t.timestamp() as f64 + f64::from(t.timestamp_subsec_micros()) / 1e6
}

/// Python `repr(float)` (shortest round trip, `.0` when integral, Python's exponent form).
pub fn py_float_repr(x: f64) -> String {
    crate::value::float_repr(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_round_trip_has_six_digits_and_z() {
        let t = Utc.with_ymd_and_hms(2026, 11, 29, 5, 46, 39).unwrap()
            + chrono::Duration::microseconds(30_059);
        let s = format_datetime(t);
        assert_eq!(s, "2026-11-29T05:46:39.030059Z");
        assert_eq!(parse_datetime(&s), Some(t));
        let whole = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(format_datetime(whole), "2026-01-02T03:04:05.000000Z");
        assert_eq!(parse_datetime("2026-01-02T03:04:05Z"), Some(whole));
        assert_eq!(parse_datetime("2026-01-02T03:04:05+00:00"), None);
    }

    #[test]
    fn float_repr_like_python() {
        assert_eq!(py_float_repr(1795931210.0), "1795931210.0");
        assert_eq!(py_float_repr(1795931203.606629), "1795931203.606629");
        assert_eq!(py_float_repr(0.5), "0.5");
    }
}
