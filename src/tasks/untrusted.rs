//! Text that came from a job (a report, a runner's output), made harmless before it goes
//! anywhere else: [`for_storage`] for what reaches the API, Redis and the history, [`for_log`]
//! for one field of a log line.
//!
//! Bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069) reorder what a reader
//! sees, so they are treated like control characters.

/// True for the characters that reorder text on screen (bidi embeddings, overrides, isolates).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `s` without control characters (C0, DEL, C1) other than newline and tab, without bidi
/// controls, and cut to at most `max_chars` characters (an ellipsis marks a cut).
pub fn for_storage(s: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max_chars.saturating_mul(4)));
    let mut kept = 0;
    for c in s.chars() {
        if (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c) {
            continue;
        }
        if kept == max_chars {
            out.push('…');
            break;
        }
        out.push(c);
        kept += 1;
    }
    out
}

/// `s` as one field of one log line: no newline, no terminal escape, no colour code, no bidi
/// control. Backslashes and those characters are written as escapes (`\\`, `\n`, `\t`, `\r`,
/// `\u{1b}`), so nothing a job prints can end the line or pose as another one. At most
/// `max_bytes` bytes of `s` are shown (cut on a character boundary, marked `…`).
pub fn for_log(s: &str, max_bytes: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max_bytes) + 8);
    for (i, c) in s.char_indices() {
        if i + c.len_utf8() > max_bytes {
            out.push('…');
            break;
        }
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || is_bidi_control(c) => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_keeps_newlines_and_tabs_only() {
        assert_eq!(for_storage("a\nb\tc", 100), "a\nb\tc");
        assert_eq!(
            for_storage("x\u{1b}[31mred\u{7}\r\u{0}\u{85}\u{9b}y", 100),
            "x[31mredy"
        );
        assert_eq!(
            for_storage("evil\u{202E}txt.exe\u{2066}", 100),
            "eviltxt.exe"
        );
        assert_eq!(for_storage("ééé", 2), "éé…");
        assert_eq!(for_storage("abc", 3), "abc");
    }

    #[test]
    fn log_fields_are_one_escaped_line() {
        let forged =
            "ok\n2026-01-01T00:00:00Z  INFO job{job_id=job-VICTIM}: submission graded result=1.0";
        let f = for_log(forged, 1000);
        assert!(!f.contains('\n'));
        assert!(f.starts_with("ok\\n2026"));
        assert_eq!(
            for_log("\u{1b}[32mgreen\u{1b}[0m\r\t\\", 100),
            "\\u{1b}[32mgreen\\u{1b}[0m\\r\\t\\\\"
        );
        assert_eq!(for_log("a\u{202E}b", 100), "a\\u{202e}b");
        assert_eq!(for_log("aé", 2), "a…");
    }
}
