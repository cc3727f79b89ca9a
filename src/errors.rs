//! Error chains printed once.
//!
//! `{:#}` prints every cause of an `anyhow` chain after the message, but some errors already
//! include their source in their own text (a Redis I/O error prints the `io::Error` it wraps,
//! and then offers the same `io::Error` as its source), which gave
//! `Connection refused (os error 111): Connection refused (os error 111)`.

/// `message: cause: cause…`, leaving out each cause whose text the line already holds.
pub fn error_text(e: &anyhow::Error) -> String {
    chain_text(e.chain().map(|c| c.to_string()))
}

fn chain_text(parts: impl Iterator<Item = String>) -> String {
    let mut line = String::new();
    for part in parts {
        let part = part.trim();
        if part.is_empty() || line.contains(part) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(part);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_already_in_the_text_is_printed_once() {
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let redis = redis::RedisError::from(io);
        let e = anyhow::Error::from(redis).context("cannot connect to Redis at redis://h:1/");
        let text = error_text(&e);
        let cause = std::io::Error::from(std::io::ErrorKind::ConnectionRefused).to_string();
        assert_eq!(text.matches(&cause).count(), 1, "{text}");
        assert!(
            text.starts_with("cannot connect to Redis at redis://h:1/: "),
            "{text}"
        );
    }

    #[test]
    fn distinct_causes_are_all_kept() {
        let parts = ["reading x", "parsing y", "bad digit"].map(String::from);
        assert_eq!(
            chain_text(parts.into_iter()),
            "reading x: parsing y: bad digit"
        );
    }
}
