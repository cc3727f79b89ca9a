//! `testSummary.json` (ctutor-tasks.md §3.7) and the result value computed from it (§3.8).

use std::path::Path;

use serde_json::{Map, Value as Json};

/// The summary's name in the output directory.
pub const SUMMARY_FILE: &str = "testSummary.json";

/// A summary larger than this is refused (R5) rather than loaded.
const MAX_SUMMARY_BYTES: u64 = 32 * 1024 * 1024;

/// Reads the summary from `output_dir`: it must be a regular file there (a symbolic link out
/// of the directory, to a secret say, is refused, and a FIFO cannot block the worker) holding
/// a JSON object. The reason is for the log only.
pub fn read(output_dir: &Path) -> Result<Map<String, Json>, String> {
    let bytes = crate::sandbox::beneath::read_file_beneath(
        output_dir,
        Path::new(SUMMARY_FILE),
        MAX_SUMMARY_BYTES,
    )
    .map_err(|e| format!("cannot read: {e}"))?;
    let text = String::from_utf8(bytes).map_err(|_| "not UTF-8".to_string())?;
    // serde_json refuses NaN and Infinity, as §3.7 [ours] requires.
    match serde_json::from_str::<Json>(&text) {
        Ok(Json::Object(map)) => Ok(map),
        Ok(other) => Err(format!("not a JSON object but {}", json_kind(&other))),
        Err(e) => Err(format!("not valid JSON: {e}")),
    }
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

/// `summary.passed / summary.total` as a float; `0.0` when a key is missing, a value is not a
/// number (booleans are not), or the total is 0. No clamping (§3.8).
pub fn score(summary: &Map<String, Json>) -> f64 {
    let counts = summary.get("summary").and_then(Json::as_object);
    let number = |k: &str| counts.and_then(|c| c.get(k)).and_then(Json::as_f64);
    match (number("passed"), number("total")) {
        (Some(p), Some(t)) if t != 0.0 => {
            let r = p / t;
            if r.is_finite() {
                r
            } else {
                0.0
            }
        }
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Json) -> Map<String, Json> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn scores() {
        let s = |v| score(&obj(v));
        assert_eq!(s(json!({"summary": {"total": 4, "passed": 3}})), 0.75);
        assert_eq!(s(json!({"summary": {"total": 4, "passed": 4}})), 1.0);
        assert_eq!(s(json!({"summary": {"total": 0, "passed": 0}})), 0.0);
        assert_eq!(s(json!({"summary": {"total": 4}})), 0.0);
        assert_eq!(s(json!({"summary": {"total": 4, "passed": "3"}})), 0.0);
        assert_eq!(s(json!({"summary": {"total": 4, "passed": true}})), 0.0);
        assert_eq!(s(json!({"summary": {"total": 2, "passed": 5}})), 2.5);
        assert_eq!(s(json!({"tests": []})), 0.0);
    }

    #[test]
    fn reading() {
        let dir = std::env::temp_dir().join(format!("tw-sum-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("testSummary.json");
        assert!(read(&dir).unwrap_err().starts_with("cannot read"));
        for (text, ok) in [
            (r#"{"summary":{"total":1,"passed":1},"b":1.0,"a":[]}"#, true),
            ("[1]", false),
            ("{\"x\": NaN}", false),
            ("{\"x\": Infinity}", false),
            ("{", false),
        ] {
            std::fs::write(&p, text).unwrap();
            assert_eq!(read(&dir).is_ok(), ok, "{text}");
        }
        std::fs::write(&p, r#"{"z":1,"a":2.0}"#).unwrap();
        let m = read(&dir).unwrap();
        // Key order and int/float kept.
        assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"z":1,"a":2.0}"#);
        // A link out of the directory (to a secret, say) and a FIFO are refused.
        let secret = dir.with_extension("secret.json");
        std::fs::write(&secret, r#"{"token":"s3cret"}"#).unwrap();
        std::fs::remove_file(&p).unwrap();
        std::os::unix::fs::symlink(&secret, &p).unwrap();
        assert!(read(&dir).is_err());
        std::fs::remove_file(&p).unwrap();
        let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(read(&dir).unwrap_err().contains("not a regular file"));
        std::fs::remove_file(&secret).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
