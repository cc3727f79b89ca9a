//! The backend's rule for repository URLs in a job's payload (checked before anything runs).

/// The backend's URL rule, Python `re.match` of
/// `(?:git|ssh|https?|git@[-\w.]+):(//)?(.*?)(\.git)(/?|#[-\d\w._]+?)$`: a known scheme (or
/// `git@host:`), then anything ending in `.git`, `.git/` or `.git#<ref>`. `file://` URLs pass
/// only when `allow_file` is set (docs/course-tasks.md §3.2, ours). Control characters are
/// refused outright (Python's `$` would let one trailing newline through; git could not use
/// it).
pub fn url_is_valid(url: &str, allow_file: bool) -> bool {
    if url.chars().any(char::is_control) {
        return false;
    }
    let rest = if allow_file && url.starts_with("file://") {
        &url["file:".len()..]
    } else {
        match scheme_len(url) {
            Some(n) => &url[n..],
            None => return false,
        }
    };
    if rest.ends_with(".git") || rest.ends_with(".git/") {
        return true;
    }
    match rest.rfind('#') {
        Some(i) => {
            let frag = &rest[i + 1..];
            rest[..i].ends_with(".git")
                && !frag.is_empty()
                && frag.chars().all(|c| is_word(c) || c == '-' || c == '.')
        }
        None => false,
    }
}

/// Python's `\w` for str patterns.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Length of the `scheme:` (or `git@host:`) prefix the pattern accepts.
fn scheme_len(url: &str) -> Option<usize> {
    for p in ["git:", "ssh:", "http:", "https:"] {
        if url.starts_with(p) {
            return Some(p.len());
        }
    }
    let host_and_rest = url.strip_prefix("git@")?;
    let host_len: usize = host_and_rest
        .chars()
        .take_while(|c| is_word(*c) || *c == '-' || *c == '.')
        .map(char::len_utf8)
        .sum();
    (host_len > 0 && host_and_rest[host_len..].starts_with(':')).then_some(4 + host_len + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_rule_matches_the_backend_pattern() {
        for ok in [
            "https://gitlab.com/g/p.git",
            "http://h:8080/g/p.git/",
            "git@gitlab.com:g/p.git",
            "ssh://git@h/p.git",
            "git://h/p.git#v1.0_rc-2",
            "https:p.git",
        ] {
            assert!(url_is_valid(ok, false), "{ok}");
        }
        for bad in [
            "https://gitlab.com/g/p",
            "ftp://h/p.git",
            "file:///tmp/p.git",
            "git@:p.git",
            "https://h/p.git#",
            "https://h/p.git#a b",
            "https://h/p.git\n",
            "ext::sh -c touch% /tmp/pwned.git",
            "-uhttps://h/p.git",
        ] {
            assert!(!url_is_valid(bad, false), "{bad}");
        }
        assert!(url_is_valid("file:///tmp/p.git", true));
        assert!(!url_is_valid("file:///tmp/p", true));
    }
}
