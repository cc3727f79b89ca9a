//! `testSummary.json` (docs/course-tasks.md §3.7) and the grade computed from it (§3.8).
//!
//! Nothing a job hands back can hurt the worker: the report is opened beneath `output/`, its
//! size is checked on the open descriptor and at most `limit + 1` bytes are read, parsed as a
//! stream within a budget of values ([`crate::tasks::bounded_json`]), and only the report's
//! documented keys (§3.7) are kept, with their types checked, strings cleaned of control and
//! bidi characters and cut ([`crate::tasks::untrusted`]). Keys the worker itself writes
//! (`task_exception`, ...) are not documented keys, so a report cannot pass them through.
//! The counts must be sane: non-negative integers with `passed + failed + skipped <= total`.

use std::fs::File;
use std::io::{BufReader, Read};
use std::os::fd::AsRawFd;
use std::path::Path;

use serde_json::{Map, Value as Json};

use crate::sandbox::beneath::{open_beneath, open_dir, Links};
use crate::tasks::bounded_json::{self, Budget, Refused};

/// The summary's name in the output directory.
pub const SUMMARY_FILE: &str = "testSummary.json";

/// Default of `--test-report-max-mb`.
pub const DEFAULT_MAX_REPORT_MB: u64 = 4;

/// Values one report may hold (a report of a few hundred tests holds a few thousand).
const MAX_VALUES: usize = 20_000;
/// Nesting of the report (tests inside tests, objects in `properties`).
const MAX_DEPTH: usize = 32;
/// Characters kept of any string of the report, and of a key of its free-form objects.
const MAX_STRING_CHARS: usize = 16 * 1024;
/// Characters kept of all strings of the report together (what reaches the API stays small;
/// a report of a hundred tests with a traceback each needs a fraction of it).
const MAX_TOTAL_CHARS: usize = 256 * 1024;
const MAX_KEY_CHARS: usize = 256;

/// Why a report was not accepted. [`Invalid::public`] is safe to show the student (it names
/// a limit or a rule, never the report's content); [`Invalid::log`] is for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// Missing, not a regular file, a link out of `output/`, unreadable.
    Unreadable(String),
    /// Larger than the limit (bytes).
    TooLarge(u64),
    /// Over the value or depth budget.
    OverBudget(String),
    /// Not JSON (or NaN/Infinity, §3.7, ours), or not a JSON object.
    NotJson(String),
    /// A documented key of the wrong type, or not an object.
    Shape(String),
    /// Counts that are not a grade (negative, not integers, more than the total).
    Counts(String),
}

impl Invalid {
    /// The text for `result_json.message` after "Reading report file testSummary.json
    /// failed", or `None` for the plain R5 message.
    pub fn public(&self) -> Option<String> {
        match self {
            Invalid::Unreadable(_) | Invalid::NotJson(_) => None,
            Invalid::TooLarge(limit) => Some(format!(
                "the report is larger than the {} limit",
                human_bytes(*limit)
            )),
            Invalid::OverBudget(why) => Some(format!("the report has {why}")),
            Invalid::Shape(why) | Invalid::Counts(why) => Some(why.clone()),
        }
    }

    /// The reason for the log.
    pub fn log(&self) -> String {
        match self {
            Invalid::Unreadable(e) => format!("cannot read: {e}"),
            Invalid::NotJson(e) => format!("not valid JSON: {e}"),
            other => other.public().unwrap_or_default(),
        }
    }
}

fn human_bytes(n: u64) -> String {
    if n >= 1024 * 1024 && n % (1024 * 1024) == 0 {
        format!("{} MiB", n / (1024 * 1024))
    } else {
        format!("{n} bytes")
    }
}

/// A checked report: the documented keys only, and the counts of its top-level `summary`.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub json: Map<String, Json>,
    pub counts: Counts,
}

/// `summary` of the report; a missing count is 0 (a missing `total` grades 0.0, §3.8).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub total: u64,
    pub passed: u64,
    pub failed: u64,
    pub skipped: u64,
}

/// What the report says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Grade {
    /// `passed / total` (0.0 when the total is 0).
    Score(f64),
    /// Tests were found but none of them ran (every one skipped): the testing environment
    /// failed, this is no grade.
    AllSkipped,
}

impl Counts {
    pub fn grade(&self) -> Grade {
        if self.total == 0 {
            return Grade::Score(0.0);
        }
        if self.skipped == self.total || self.passed + self.failed == 0 {
            return Grade::AllSkipped;
        }
        Grade::Score(self.passed as f64 / self.total as f64)
    }
}

/// Reads and checks the report in `output_dir`, reading at most `max_bytes + 1` bytes.
pub fn read(output_dir: &Path, max_bytes: u64) -> Result<Report, Invalid> {
    let file = open(output_dir).map_err(|e| Invalid::Unreadable(e.to_string()))?;
    let meta = file
        .metadata()
        .map_err(|e| Invalid::Unreadable(e.to_string()))?;
    if !meta.is_file() {
        return Err(Invalid::Unreadable("not a regular file".into()));
    }
    if meta.len() > max_bytes {
        return Err(Invalid::TooLarge(max_bytes));
    }
    let mut reader = Counted {
        inner: BufReader::new(file.take(max_bytes.saturating_add(1))),
        read: 0,
    };
    let budget = Budget {
        max_values: MAX_VALUES,
        max_depth: MAX_DEPTH,
        max_string_chars: MAX_STRING_CHARS,
        max_total_chars: MAX_TOTAL_CHARS,
        max_key_chars: MAX_KEY_CHARS,
    };
    let parsed = bounded_json::parse(&mut reader, budget);
    // The file may have grown since it was measured.
    if reader.read > max_bytes {
        return Err(Invalid::TooLarge(max_bytes));
    }
    let json = match parsed {
        Ok(j) => j,
        Err(Refused::OverBudget(why)) => return Err(Invalid::OverBudget(why)),
        Err(Refused::Syntax(e)) => return Err(Invalid::NotJson(e)),
    };
    let Json::Object(map) = json else {
        return Err(Invalid::NotJson(format!(
            "the report is {}, not a JSON object",
            json_kind(&json)
        )));
    };
    let json = entry(map, "the report")?;
    let counts = counts(json.get("summary"))?;
    Ok(Report { json, counts })
}

/// `testSummary.json` beneath `output_dir`, links inside it followed, without blocking on a
/// FIFO.
fn open(output_dir: &Path) -> std::io::Result<File> {
    let top = open_dir(output_dir)?;
    let fd = open_beneath(
        top.as_raw_fd(),
        Path::new(SUMMARY_FILE),
        libc::O_RDONLY | libc::O_NONBLOCK,
        Links::Inside,
    )?;
    Ok(File::from(fd))
}

/// Counts the bytes read through it.
struct Counted<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

/// Keys of type string (§3.7); `status` and `result` are kept as strings whatever their value.
const STRING_KEYS: &[&str] = &[
    "timestamp",
    "type",
    "version",
    "name",
    "description",
    "status",
    "result",
    "statusMessage",
    "resultMessage",
    "details",
    "setup",
    "teardown",
];
const NUMBER_KEYS: &[&str] = &["duration", "executionDuration"];
const OBJECT_KEYS: &[&str] = &["environment", "properties", "debug"];
const COUNT_KEYS: &[&str] = &["total", "passed", "failed", "skipped"];

/// One level of the report (the report itself or an entry of `tests`): the documented keys,
/// each of its documented type; `null` counts as absent, other keys are dropped.
fn entry(map: Map<String, Json>, at: &str) -> Result<Map<String, Json>, Invalid> {
    let mut out = Map::new();
    for (key, value) in map {
        if value.is_null() {
            continue;
        }
        let k = key.as_str();
        let ok = if STRING_KEYS.contains(&k) {
            value.is_string()
        } else if NUMBER_KEYS.contains(&k) {
            value.is_number()
        } else if OBJECT_KEYS.contains(&k) || k == "summary" {
            value.is_object()
        } else if k == "tests" {
            let Json::Array(items) = value else {
                return Err(wrong_type(at, k, "a list"));
            };
            let mut tests = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                let here = format!("{at}: tests[{i}]");
                let Json::Object(m) = item else {
                    return Err(wrong_type(at, &format!("tests[{i}]"), "an object"));
                };
                tests.push(Json::Object(entry(m, &here)?));
            }
            out.insert(key, Json::Array(tests));
            continue;
        } else {
            // Not a documented key: `task_exception` and the like never pass.
            continue;
        };
        if !ok {
            let kind = if STRING_KEYS.contains(&k) {
                "a string"
            } else if NUMBER_KEYS.contains(&k) {
                "a number"
            } else {
                "an object"
            };
            return Err(wrong_type(at, k, kind));
        }
        if k == "summary" {
            counts(Some(&value))?;
            let Json::Object(m) = value else { continue };
            let kept: Map<String, Json> = m
                .into_iter()
                .filter(|(k, v)| COUNT_KEYS.contains(&k.as_str()) && !v.is_null())
                .collect();
            out.insert(key, Json::Object(kept));
            continue;
        }
        out.insert(key, value);
    }
    Ok(out)
}

fn wrong_type(at: &str, key: &str, kind: &str) -> Invalid {
    Invalid::Shape(format!("{at}: `{key}` is not {kind}"))
}

/// The counts of a `summary` object: non-negative integers, `passed + failed + skipped` at
/// most `total`.
fn counts(summary: Option<&Json>) -> Result<Counts, Invalid> {
    let Some(Json::Object(m)) = summary else {
        return Ok(Counts::default());
    };
    let count = |k: &str| -> Result<u64, Invalid> {
        match m.get(k) {
            None | Some(Json::Null) => Ok(0),
            Some(v) => v.as_u64().ok_or_else(|| {
                Invalid::Counts(format!("summary.{k} is not a non-negative integer"))
            }),
        }
    };
    let c = Counts {
        total: count("total")?,
        passed: count("passed")?,
        failed: count("failed")?,
        skipped: count("skipped")?,
    };
    let sum = c
        .passed
        .checked_add(c.failed)
        .and_then(|s| s.checked_add(c.skipped));
    if sum.is_none_or(|s| s > c.total) {
        return Err(Invalid::Counts(
            "summary: passed + failed + skipped is more than total".into(),
        ));
    }
    Ok(c)
}

fn json_kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const MB: u64 = 1024 * 1024;

    struct Dir(std::path::PathBuf);
    impl Dir {
        fn new() -> Dir {
            let d = std::env::temp_dir().join(format!("tw-sum-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir(&d).unwrap();
            Dir(d)
        }
        fn write(&self, text: impl AsRef<[u8]>) -> Result<Report, Invalid> {
            std::fs::write(self.0.join(SUMMARY_FILE), text).unwrap();
            read(&self.0, 4 * MB)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn grade(v: Json) -> Result<Grade, Invalid> {
        Dir::new().write(v.to_string()).map(|r| r.counts.grade())
    }

    #[test]
    fn grades() {
        let g = |v| grade(v).unwrap();
        assert_eq!(
            g(json!({"summary": {"total": 4, "passed": 3}})),
            Grade::Score(0.75)
        );
        assert_eq!(
            g(json!({"summary": {"total": 4, "passed": 4, "failed": 0, "skipped": 0}})),
            Grade::Score(1.0)
        );
        assert_eq!(
            g(json!({"summary": {"total": 0, "passed": 0}})),
            Grade::Score(0.0)
        );
        assert_eq!(g(json!({"tests": []})), Grade::Score(0.0));
        assert_eq!(
            g(json!({"summary": {"total": 4, "failed": 4}})),
            Grade::Score(0.0)
        );
        // Every test skipped is no grade.
        assert_eq!(
            g(json!({"summary": {"total": 7, "passed": 0, "failed": 0, "skipped": 7}})),
            Grade::AllSkipped
        );
        assert_eq!(g(json!({"summary": {"total": 7}})), Grade::AllSkipped);
    }

    #[test]
    fn insane_counts_are_refused() {
        for (summary, why) in [
            (json!({"total": 1, "passed": 1000}), "more than total"),
            (json!({"total": 2, "passed": 5}), "more than total"),
            (json!({"total": 4, "passed": -7}), "summary.passed is not"),
            (
                json!({"total": 1e300, "passed": 1e300}),
                "summary.total is not",
            ),
            (json!({"total": 4, "passed": 2.5}), "summary.passed is not"),
            (json!({"total": 4, "passed": "3"}), "summary.passed is not"),
            (json!({"total": 4, "passed": true}), "summary.passed is not"),
            (
                json!({"total": 4, "passed": 2, "failed": 2, "skipped": 1}),
                "more than total",
            ),
            (
                json!({"total": 4, "passed": u64::MAX, "failed": 2}),
                "more than total",
            ),
        ] {
            let e = grade(json!({ "summary": summary })).unwrap_err();
            assert!(e.public().unwrap().contains(why), "{summary}: {e:?}");
        }
        // Nested summaries are checked too.
        let e = grade(json!({"tests": [{"summary": {"total": 1, "passed": 2}}]})).unwrap_err();
        assert!(matches!(e, Invalid::Counts(_)));
    }

    #[test]
    fn only_documented_keys_pass_and_strings_are_clean() {
        let r = Dir::new()
            .write(
                json!({
                    "task_exception": "forged", "message": "forged", "exception_type": "x",
                    "summary": {"total": 1, "passed": 1, "extra": 9},
                    "name": "a\u{1b}[2Jb\u{202e}c\r\nd\te",
                    "duration": 1.5, "status": null,
                    "properties": {"k\u{7}": ["v\u{0}"]},
                    "tests": [{"name": "t", "result": "PASSED", "task_exception": "x", "junk": 1}],
                })
                .to_string(),
            )
            .unwrap();
        assert_eq!(
            Json::Object(r.json),
            json!({
                "summary": {"total": 1, "passed": 1},
                "name": "a[2Jbc\nd\te",
                "duration": 1.5,
                "properties": {"k": ["v"]},
                "tests": [{"name": "t", "result": "PASSED"}],
            })
        );
        let long = "x".repeat(MAX_STRING_CHARS + 10);
        let r = Dir::new()
            .write(json!({ "details": long }).to_string())
            .unwrap();
        assert_eq!(
            r.json["details"].as_str().unwrap().chars().count(),
            MAX_STRING_CHARS + 1
        );
    }

    #[test]
    fn wrong_shapes_are_refused() {
        for (v, why) in [
            (json!({"name": 3}), "`name` is not a string"),
            (json!({"duration": "1s"}), "`duration` is not a number"),
            (json!({"tests": {}}), "`tests` is not a list"),
            (json!({"tests": [1]}), "`tests[0]` is not an object"),
            (json!({"properties": []}), "`properties` is not an object"),
            (json!({"summary": 3}), "`summary` is not an object"),
        ] {
            let e = Dir::new().write(v.to_string()).unwrap_err();
            assert!(e.public().unwrap().contains(why), "{v}: {e:?}");
        }
        for bad in ["{", "{\"x\": NaN}", "{\"x\": Infinity}", "\u{ff}", "[1]"] {
            let e = Dir::new().write(bad).unwrap_err();
            assert!(matches!(e, Invalid::NotJson(_)), "{bad}: {e:?}");
            assert_eq!(e.public(), None);
        }
    }

    #[test]
    fn size_and_value_limits() {
        let d = Dir::new();
        // Over the size limit: refused from the descriptor's size, nothing parsed.
        let zeros = format!("[{}0]", "0,".repeat(16_000_000));
        let e = d.write(&zeros).unwrap_err();
        assert_eq!(e, Invalid::TooLarge(4 * MB));
        assert_eq!(
            e.public().unwrap(),
            "the report is larger than the 4 MiB limit"
        );
        // Within the size limit but too many values.
        let e = d
            .write(format!("[{}0]", "0,".repeat(1_000_000)))
            .unwrap_err();
        assert_eq!(
            e.public().unwrap(),
            "the report has more than 20000 JSON values"
        );
        let e = d
            .write(format!("{{\"tests\":[{}{{}}]}}", "{},".repeat(1_000_000)))
            .unwrap_err();
        assert!(matches!(e, Invalid::OverBudget(_)));
        let e = d
            .write(format!("{}1{}", "[".repeat(100), "]".repeat(100)))
            .unwrap_err();
        assert!(matches!(e, Invalid::OverBudget(_)), "{e:?}");
        // A smaller limit from the setting.
        std::fs::write(d.0.join(SUMMARY_FILE), "{\"name\": \"0123456789\"}").unwrap();
        assert_eq!(read(&d.0, 10).unwrap_err(), Invalid::TooLarge(10));
    }

    #[test]
    fn links_out_and_fifos_are_refused() {
        let d = Dir::new();
        assert!(matches!(read(&d.0, MB), Err(Invalid::Unreadable(_))));
        let secret = d.0.with_extension("secret.json");
        std::fs::write(&secret, r#"{"name":"s3cret"}"#).unwrap();
        let p = d.0.join(SUMMARY_FILE);
        std::os::unix::fs::symlink(&secret, &p).unwrap();
        assert!(matches!(read(&d.0, MB), Err(Invalid::Unreadable(_))));
        std::fs::remove_file(&p).unwrap();
        std::fs::remove_file(&secret).unwrap();
        let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert_eq!(
            read(&d.0, MB).unwrap_err(),
            Invalid::Unreadable("not a regular file".into())
        );
        // Key order and int/float kept.
        std::fs::remove_file(&p).unwrap();
        let r = d.write(r#"{"name":"z","duration":2.0,"summary":{"total":1,"passed":1}}"#);
        assert_eq!(
            serde_json::to_string(&r.unwrap().json).unwrap(),
            r#"{"name":"z","duration":2.0,"summary":{"total":1,"passed":1}}"#
        );
    }
}
