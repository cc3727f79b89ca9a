//! The runner's output in the worker's log. It is the student's text, so it never goes into
//! a log line as it is: each of its lines is one DEBUG event (`runner output`, with `stream`
//! and the line as one escaped field, [`crate::tasks::untrusted::for_log`]), inside the job's
//! span, so it carries the job id and cannot end the line, pose as a line of the worker, or
//! colour the terminal. Warnings that need the runner's error output get a short escaped tail.

use tracing::debug;

/// Bytes of one output line shown in the log.
const LINE_BYTES: usize = 2048;
/// Bytes of the stderr tail shown in a warning.
pub const TAIL_BYTES: usize = 2048;

/// Logs every line of `text` (one stream of the runner) at DEBUG.
pub fn lines(stream: &'static str, text: &str) {
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return;
    }
    for line in text.lines() {
        debug!(
            stream,
            line = %crate::tasks::untrusted::for_log(line, LINE_BYTES),
            "runner output"
        );
    }
}

/// The last `TAIL_BYTES` of `text` (cut on a character boundary), escaped as one log field.
pub fn tail(text: &str) -> String {
    let mut start = text.len().saturating_sub(TAIL_BYTES);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    crate::tasks::untrusted::for_log(&text[start..], TAIL_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn output_lines_are_escaped_debug_lines_of_the_job() {
        let buf = Buf::default();
        let w = buf.clone();
        let sub = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || w.clone())
            .finish();
        tracing::subscriber::with_default(sub, || {
            let span = tracing::info_span!("job", job_id = "job-1");
            let _g = span.enter();
            lines(
                "stdout",
                "ok\n2026-01-01T00:00:00Z  INFO job{job_id=job-VICTIM}: submission graded result=1.0\x1b[2J\r\n\x1b[31mred",
            );
        });
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let out: Vec<&str> = text.lines().collect();
        assert_eq!(out.len(), 3, "{text}");
        for l in &out {
            assert!(l.contains("DEBUG job{job_id=\"job-1\"}: "), "{l}");
            assert!(l.contains("runner output stream=\"stdout\" line="), "{l}");
            assert!(!l.contains('\x1b') && !l.contains('\r'), "{l}");
        }
        assert!(out[1].contains("line=2026-01-01T00:00:00Z  INFO job{job_id=job-VICTIM}"));
        assert!(out[1].ends_with("\\u{1b}[2J"), "{}", out[1]);
        assert!(out[2].ends_with("line=\\u{1b}[31mred"));
    }

    #[test]
    fn tails_are_short_and_escaped() {
        let t = tail(&format!("{}é\nlast\x1b", "x".repeat(5000)));
        assert!(t.len() <= TAIL_BYTES + 16);
        assert!(t.ends_with("é\\nlast\\u{1b}"));
    }
}
